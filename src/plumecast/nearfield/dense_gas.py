"""Dense-gas dispersion near the source: the Britter & McQuaid (1988) workbook.

Whether a release is dense is decided by the workbook's Richardson-number-type
criteria (not by molecular weight alone); a dense release follows the
workbook's correlations of the maximum ground concentration ``C_m/C_0`` with
distance (its nomograms, as digitised piecewise-linear in ``log10`` in CCPS
1999, sec. 2.3.2, and TSCREEN, as reproduced in GasDispersion.jl), with the
workbook's near-field correlation before the first published curve (the
extension GasDispersion.jl uses). Beyond the last curve the zones model
(:mod:`plumecast.nearfield.zones.setup`) goes over to the passive Gaussian plume
(or puff) of the release from virtual sources matched to the cloud where the
curves end, and to the passive plume of the source wherever that is the higher.
:func:`bm_scaled_concentration` keeps GasDispersion.jl's far-field decay
``C ∝ x⁻²`` beyond the last curve (to reproduce its values); the zones no longer use it.

Choices, and why
----------------
* **Criterion** (workbook; CCPS 1999 sec. 2.3.2): continuous
  ``(g0' q0/(u³ D))^(1/3) >= 0.15`` with ``D = sqrt(q0/u)``; instantaneous
  ``sqrt(g0' V0^(1/3))/u >= 0.20``; ``u`` the 10-m wind, ``g0'`` of the released
  vapour. The references apply it to the source only. plumecast adds one guard,
  its own (not in the references): a cloud whose own Richardson number, with its
  real width (:func:`passive_transition_width_m`), falls below the same threshold
  before the first published curve (C_m/C_0 = 0.1) is treated as passive from the
  source (this keeps Project Prairie Grass's 5–10 cm SO2 sources passive; the
  x/D-scaled curves over-predicted them up to 27x). It does **not** truncate the
  curves of a release that stays dense into them: the curves were fitted to whole
  field trials and carry the cloud's transition to passive behaviour themselves
  (an earlier version handed over where that Richardson number fell below 0.15,
  which put the passive plume's σ_z virtual source metres upwind of the hand-over
  and made the concentration fall 4–7x within tens of metres: a cliff).
* **Near field** (before the first published curve): ``C_m/C_0 = 306 x'^-2/(1 + 306 x'^-2)``
  for ``x' = x/D <= 30`` (puff: ``3.24 x'^-2/(1 + 3.24 x'^-2)``, ``x' = x/V0^(1/3)``),
  independent of α; from x/D = 30 to the first curve a straight line in log-log
  (GasDispersion.jl joins the two linearly in C against log x); where the first
  curve comes sooner (plume α > 0.6) the lower of the near-field correlation and the
  first segment continued. The plume's join is never above that continued segment
  either (so the curve is continuous in α: the straight line alone fell 2.5x within
  1 % of the distance as the first curve neared x/D = 30, and C at 15-30 D dropped
  by up to 2.5x as α, so the release, grew through 0.6); this lowers C between about
  15 D and the first curve for α of 0.2-0.6 (to 0.5x at α = 0.5, 0.4x at 0.6) and for α
  near -0.4 (up to 5 %). Where the near field drops below 0.1 before the
  first curve (puff) it is held at 0.1, as GasDispersion.jl's puff does: continuous
  everywhere (GasDispersion.jl's plume leaves a jump in that case).
* **Far field** (beyond the last published curve, C_m/C_0 = 0.002 plume, 0.001
  puff, at ``x_c``): the passive Gaussian plume (puff) of the release's own rate
  (mass) from virtual sources (:func:`plumecast.nearfield.zones.setup.far_field_match`):
  ``σ_y(x) = σ_y,B(x + x_vy)`` with ``x_vy`` such that it equals the cloud's
  Gaussian-equivalent width at ``x_c``, ``σ_z(x) = σ_z,B(x + x_vz)`` with ``x_vz``
  such that the ground value equals the workbook's there (σ_z is then the cloud's
  mass-consistent depth, Farrell 2023), the Briggs σ's of the scenario's class and
  terrain. The curves end where the workbook's cloud has become passive (its
  field trials: beyond them no dense-gas effect was measured), and past them the
  references go over to the ambient Gaussian (the virtual source method, CCPS
  process-safety glossary; DEGADIS, ALOHA's heavy gas model and HEGADAS do so once
  the cloud is passive, from memory: their manuals were not found in the stored
  sources), so the cloud dilutes at the ambient, stability-dependent rate: in
  unstable air the workbook's cloud at ``x_c`` is 0.1-0.2 m deep where an ambient
  plume is 10-15 m deep, and it is mixed up within tens of metres (class A,
  100 kg of chlorine over 600 s: 2.3x lower one metre past ``x_c``, 11x at 10 m),
  after which it is within 2x of the passive plume of the source. Until this
  change the decay ``C ∝ x⁻²`` of GasDispersion.jl (``xff``, ``A = C_last xff²``)
  was continued from ``x_c``, which stays above the Gaussian plume in unstable and
  neutral air and put class A zones 24x beyond the passive model's.
  **Stratification** (session 39): a cloud still dense at ``x_c`` deepens more slowly
  than an ambient plume, ``dσ_z/dx = σ_z,B'/φ̂`` with ``φ̂ = φ(Ri*)/φ(0)``, DEGADIS
  2.1's entrainment law (:func:`degadis_phi`, :func:`richardson_star`), so
  ``σ_z(x) = σ_z,B(x + x_vz - lag(x))``; ``φ̂ = 1`` (a passive cloud) is the form
  above. Jack Rabbit II trial 7 (9.1 t of chlorine; docs/validation.md) had fallen
  6.5x from 1 to 2 km against 1.85x measured in class D, 2.8x in F; now 5.3x and 1.7x.
* **Hand-over to passive**: the zones take the value above until, beyond the first
  published curve, the passive Gaussian plume (puff) of a ground-level source
  reaches it, and the larger of the two after that; that passive plume's σ_y is
  the cloud's (the larger of its gravity spreading, ``L_H``, and the ambient σ_y
  within the curves; beyond them the far field's), its σ_z the ambient one of a
  ground-level source. The concentration is continuous in value at every distance
  and never rises beyond the near field; at the hand-over its decay becomes slower,
  never steeper. Beyond ``x_c`` the far field is always the higher of the two (it
  has the same width and a shallower cloud, ``x_vz < 0``), so the hand-over, where
  there is one, lies within the curves.
* **Non-isothermal correction** (workbook sec. 5.5): ``C' = C/(C + (1 - C) T0/Ta)``,
  applied to every value read from the curves and extensions. It is the mole
  fraction of an adiabatic, ideal-gas mixture of one volume of source gas at T0
  and ``(1 - C)/C`` volumes of air at Ta; the same form (``T' = Tr/Ta``) as
  GasDispersion.jl's plume and puff, which reproduce CCPS's Burro example
  (about 5 % at 367 m, CCPS 1999 p. 122) with it, and plumecast reproduces
  GasDispersion.jl's printed Burro values at 45.2 m and 1200 m to 1e-12 and 1e-9
  (tests/nearfield/test_dense_gas.py). It ignores heat from the ground or water
  (which would warm an LNG cloud towards isothermal); whether to drop it was
  not decided on the LNG field data (that would be fitting to them).
* **Stable air**: the ambient σ's grow more slowly than ``x`` in classes E and F
  (Briggs σ_z levels off at 100 m and 53 m), so the far field decays more slowly
  than ``x⁻²`` there. That is kept (the ambient rate is the references' far field;
  ``x⁻²`` has no stability dependence and would be the less cautious in stable
  air): the zones of the cases tested are no longer than before (class F, 100 kg
  of chlorine over 600 s: AEGL-1 10.3 km, was 10.7 km) because the cloud's width
  at ``x_c`` keeps the far field below the old extension; Graniteville (F, a finite
  release) reads up to 16 % higher at 3-4 km (the old model had handed over to the
  source's passive plume at 5 km; the far field's cloud is shallower) 9 % lower at 1-2 km and
  1-11 % lower from 6 to 100 km.

References
----------
* Britter, R.E. & McQuaid, J. (1988) *Workbook on the Dispersion of Dense Gases*,
  HSE Contract Research Report 17/1988: criteria, correlation parameters
  ``α = 0.2 log10(g0'² q0 / u⁵)`` (plume) and ``α = 0.5 log10(g0' V0^(1/3)/u²)``
  (puff), plume geometry ``L_H = D + 8 l_b + 2.5 l_b^(1/3) x^(2/3)``,
  ``l_b = g0' q0/u³``, puff radius ``R² = R0² + 1.2 sqrt(g0' V0) t``, the
  non-isothermal correction (sec. 5.5). Not opened here: read through the
  transcriptions below.
* CCPS (1999) *Guidelines for Consequence Analysis of Chemical Releases*,
  AIChE, sec. 2.3.2 (the piecewise forms of the nomograms, p. 118, and the Burro
  example, p. 122).
* A.E. Farrell, GasDispersion.jl (github.com/aefarrell/GasDispersion.jl @ 27ac300):
  ``src/models/britter_mcquaid_plume.jl`` and ``britter_mcquaid_puff.jl`` (near field
  ``xnf``, far field ``xff`` and ``A``, ``T' = Tr/Ta``; the TSCREEN digitisation,
  commit a641d71), ``test/models/britter_mcquaid_plume_tests.jl`` (the Burro values).
* A.E. Farrell (2023) "Taking a second look at the Britter-McQuaid model",
  aefarrell.github.io (notebook ``posts/Britter-McQuaid/index.ipynb`` @ 0e1ba7c):
  the near- and far-field extensions, and the mass-consistent cloud depth.
* CCPS process-safety glossary, "Virtual source method"
  (aiche.org/ccps/glossary/process-safety-glossary/virtual-source-method): a virtual
  distance upwind so that the dispersion coefficient is continuous where the
  dispersion conditions change.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numba
import numpy as np
from numpy.typing import NDArray

G = 9.80665
R_GAS = 8.314462618
P_ATM_PA = 101_325.0
M_AIR_KG_MOL = 0.028964
#: Workbook criteria: dense when the parameter reaches these values.
CRITERION_CONTINUOUS = 0.15
CRITERION_INSTANTANEOUS = 0.20
#: Near-field correlations ``k/(k + x'²)`` of the plume and the puff, and where the plume's ends (x/D).
NEAR_FIELD_PLUME = 306.0
NEAR_FIELD_PUFF = 3.24
NEAR_FIELD_LIMIT_PLUME = 30.0

# (C_m/C_0, [(alpha upper bound, slope, intercept), ...]) : beta = slope * alpha + intercept on
# alpha <= bound (first matching); the last piece continues to alpha = 1 (CCPS 1999 sec. 2.3.2).
_PLUME: tuple[tuple[float, tuple[tuple[float, float, float], ...]], ...] = (
    (0.10, ((-0.55, 0.0, 1.75), (-0.14, 0.24, 1.88), (1.0, -0.50, 1.78))),
    (0.05, ((-0.68, 0.0, 1.92), (-0.29, 0.36, 2.16), (-0.18, 0.0, 2.06), (1.0, -0.56, 1.96))),
    (0.02, ((-0.69, 0.0, 2.08), (-0.31, 0.45, 2.39), (-0.16, 0.0, 2.25), (1.0, -0.54, 2.16))),
    (0.01, ((-0.70, 0.0, 2.25), (-0.29, 0.49, 2.59), (-0.20, 0.0, 2.45), (1.0, -0.52, 2.35))),
    (0.005, ((-0.67, 0.0, 2.40), (-0.28, 0.59, 2.80), (-0.15, 0.0, 2.63), (1.0, -0.48, 2.56))),
    (0.002, ((-0.69, 0.0, 2.60), (-0.25, 0.39, 2.87), (-0.13, 0.0, 2.77), (1.0, -0.50, 2.71))),
)
_PUFF: tuple[tuple[float, tuple[tuple[float, float, float], ...]], ...] = (
    (0.10, ((-0.44, 0.0, 0.70), (0.43, 0.26, 0.81), (1.0, 0.0, 0.93))),
    (0.05, ((-0.56, 0.0, 0.85), (0.31, 0.26, 1.00), (1.0, -0.12, 1.12))),
    (0.02, ((-0.66, 0.0, 0.95), (0.32, 0.36, 1.19), (1.0, -0.26, 1.38))),
    (0.01, ((-0.71, 0.0, 1.15), (0.37, 0.34, 1.39), (1.0, -0.38, 1.66))),
    (0.005, ((-0.52, 0.0, 1.48), (0.24, 0.26, 1.62), (1.0, -0.30, 1.75))),
    (0.002, ((0.27, 0.0, 1.83), (1.0, -0.32, 1.92))),
    (0.001, ((-0.10, 0.0, 2.075), (1.0, -0.27, 2.05))),
)


def _beta(pieces: tuple[tuple[float, float, float], ...], alpha: float) -> float:
    for bound, slope, intercept in pieces:
        if alpha <= bound:
            return slope * alpha + intercept
    _, slope, intercept = pieces[-1]
    return slope * alpha + intercept


def bm_curve(alpha: float, kind: Literal["continuous", "instantaneous"]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The workbook's curve at ``alpha``: (C_m/C_0 levels, log10 of the scaled distance). [-]

    Scaled distance ``x/D`` (continuous, ``D = sqrt(q0/u)``) or ``x/V0^(1/3)``
    (instantaneous). ``alpha`` above 1 is outside the published range and is
    clipped to 1 by the caller (:func:`plumecast.nearfield.zones.setup.dense_setup`
    notes it).
    """
    table = _PLUME if kind == "continuous" else _PUFF
    conc = np.array([c for c, _ in table])
    beta = np.array([_beta(p, alpha) for _, p in table])
    return conc, beta


def bm_scaled_concentration(
    x_scaled: NDArray[np.float64] | float, alpha: float, kind: Literal["continuous", "instantaneous"]
) -> NDArray[np.float64]:
    """``C_m/C_0`` at scaled distance(s) from the workbook curve (isothermal). [-]

    Between published levels: linear in ``log10 C`` against ``log10 x`` (the
    nomograms are log-log plots). Closer than the first level (0.1): the
    workbook's near-field correlation (:func:`near_field`), joined to the first
    level as in GasDispersion.jl (see the module docstring). Beyond the last
    level: the far-field extension ``C ∝ x^-2`` from the last level (the zones
    model hands over to the passive plume there at the latest, so this is used
    only for plots and tests). Each value is computed on its own with scalar
    ``math`` (rounding independent of the batch).
    """
    if np.ndim(x_scaled) == 0:
        return np.asarray(_scaled_scalar(float(x_scaled), alpha, kind))
    x = np.asarray(x_scaled, dtype=float)
    return _scaled_many(x, 1.0, -math.inf, float(alpha), kind)


def near_field(x_scaled: float, kind: Literal["continuous", "instantaneous"]) -> float:
    """The workbook's near-field correlation, independent of α. [-]

    Plume ``306 x'^-2/(1 + 306 x'^-2)`` (``x' = x/D``), puff ``3.24 x'^-2/(1 + 3.24 x'^-2)``
    (``x' = x/V0^(1/3)``), as transcribed in GasDispersion.jl (A.E. Farrell,
    ``src/models/britter_mcquaid_plume.jl`` and ``britter_mcquaid_puff.jl``) and in
    Farrell (2023), "Taking a second look at the Britter-McQuaid model".
    """
    k = NEAR_FIELD_PLUME if kind == "continuous" else NEAR_FIELD_PUFF
    return k / (k + x_scaled * x_scaled) if x_scaled > 0 else 1.0


def near_field_extent(alpha: float, kind: Literal["continuous", "instantaneous"]) -> float:
    """Scaled distance to which the curve is the α-independent near-field correlation. [-]

    Plume: ``x/D = 30`` (GasDispersion.jl's ``xnf``), or the first published level
    when that comes sooner (α > 0.6). Puff: where :func:`near_field` falls to the
    first level (0.1), or the first level when that comes sooner.
    """
    b_list, _ = _curve_nodes(float(alpha), kind)
    first = 10.0 ** b_list[0]
    if kind == "continuous":
        return min(NEAR_FIELD_LIMIT_PLUME, first)
    return min(math.sqrt(NEAR_FIELD_PUFF * (1.0 / 0.1 - 1.0)), first)


@functools.lru_cache(maxsize=64)
def _curve_nodes(alpha: float, kind: Literal["continuous", "instantaneous"]) -> tuple[list[float], list[float]]:
    """The curve's nodes (log10 scaled distance, log10 C_m/C_0), sorted, repeated distances dropped."""
    conc, beta = bm_curve(alpha, kind)
    pts = sorted(zip(beta.tolist(), [math.log10(c) for c in conc.tolist()], strict=True))
    b_list = [pts[0][0]]
    c_list = [pts[0][1]]
    for b, c in pts[1:]:
        if b - b_list[-1] > 1e-9:
            b_list.append(b)
            c_list.append(c)
    return b_list, c_list


@functools.lru_cache(maxsize=64)
def _curve_arrays(alpha: float, kind: Literal["continuous", "instantaneous"]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`_curve_nodes` as arrays, for :func:`_scaled_one`."""
    b_list, c_list = _curve_nodes(alpha, kind)
    return np.asarray(b_list, dtype=float), np.asarray(c_list, dtype=float)


@numba.njit(cache=True, error_model="numpy")
def _near_field_k(x_scaled: float, k: float) -> float:
    """:func:`near_field` with its constant ``k`` given."""
    return k / (k + x_scaled * x_scaled) if x_scaled > 0 else 1.0


@numba.njit(cache=True, error_model="numpy")
def _scaled_one(x_scaled: float, b_nodes: NDArray[np.float64], c_nodes: NDArray[np.float64], continuous: bool,
                k: float) -> float:  # pragma: no cover - compiled
    """:func:`bm_scaled_concentration` for one distance, with scalar ``math`` (its rounding independent
    of the batch: the loop of :func:`_scaled_many` holds a search, so LLVM never vectorises these calls)."""
    xs = max(x_scaled, 1e-12)
    b = math.log10(xs)
    if b <= b_nodes[0]:
        first = 10.0 ** c_nodes[0]
        # the first published segment continued back towards the source (log-log)
        s0 = (c_nodes[1] - c_nodes[0]) / (b_nodes[1] - b_nodes[0])
        back = first * 10.0 ** (s0 * (b - b_nodes[0]))
        if continuous and 10.0 ** b_nodes[0] > NEAR_FIELD_LIMIT_PLUME:
            if xs <= NEAR_FIELD_LIMIT_PLUME:
                near = _near_field_k(xs, k)
            else:
                # between x/D = 30 and the first level: log-log straight line (GasDispersion.jl joins them too)
                b_nf = math.log10(NEAR_FIELD_LIMIT_PLUME)
                lc_nf = math.log10(_near_field_k(NEAR_FIELD_LIMIT_PLUME, k))
                f = (b - b_nf) / (b_nodes[0] - b_nf)
                near = 10.0 ** (lc_nf + f * (c_nodes[0] - lc_nf))
            # no higher than the first segment continued, as where the first level comes before x/D = 30 (below):
            # the curve is then continuous in alpha (the join to x/D = 30 alone fell by up to 2.5x within
            # 1 % of the distance as the first level neared x/D = 30, and the value at 15-30 D dropped as
            # alpha, so the amount, grew through 0.6)
            return min(near, back, 1.0)
        if _near_field_k(10.0 ** b_nodes[0], k) < first:
            # the near field falls below the first level before it: held at that level (GasDispersion.jl's puff)
            return min(max(_near_field_k(xs, k), first), 1.0)
        # the first level comes before the near field ends: the lower of the near-field correlation and the first
        # segment continued (GasDispersion.jl jumps from one to the other there; this join is continuous)
        return min(_near_field_k(xs, k), back, 1.0)
    n = b_nodes.size
    if b >= b_nodes[n - 1]:
        return min(10.0 ** c_nodes[n - 1] * 10.0 ** (2.0 * (b_nodes[n - 1] - b)), 1.0)
    # the first segment with b_nodes[i] <= b <= b_nodes[i + 1] (bisect_left - 1)
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if b_nodes[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    i = lo - 1
    f = (b - b_nodes[i]) / (b_nodes[i + 1] - b_nodes[i])
    lc = c_nodes[i] + f * (c_nodes[i + 1] - c_nodes[i])
    return min(10.0**lc, 1.0)


@numba.njit(cache=True, error_model="numpy")
def _scaled_loop(x: NDArray[np.float64], scale: float, floor: float, b_nodes: NDArray[np.float64],
                 c_nodes: NDArray[np.float64], continuous: bool, k: float) -> NDArray[np.float64]:  # pragma: no cover
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = _scaled_one(max(x[i], floor) / scale, b_nodes, c_nodes, continuous, k)
    return out


def _scaled_many(x: NDArray[np.float64], scale: float, floor: float, alpha: float,
                 kind: Literal["continuous", "instantaneous"]) -> NDArray[np.float64]:
    """``bm_scaled_concentration(max(x, floor) / scale)`` place by place (:func:`_scaled_one`). [-]"""
    b_nodes, c_nodes = _curve_arrays(alpha, kind)
    k = NEAR_FIELD_PLUME if kind == "continuous" else NEAR_FIELD_PUFF
    flat = np.ascontiguousarray(x, dtype=float).reshape(-1)
    return _scaled_loop(flat, float(scale), float(floor), b_nodes, c_nodes, kind == "continuous", k).reshape(x.shape)


def _scaled_scalar(x_scaled: float, alpha: float, kind: Literal["continuous", "instantaneous"]) -> float:
    """:func:`bm_scaled_concentration` for one distance (:func:`_scaled_one`)."""
    b_nodes, c_nodes = _curve_arrays(float(alpha), kind)
    k = NEAR_FIELD_PLUME if kind == "continuous" else NEAR_FIELD_PUFF
    return float(_scaled_one(float(x_scaled), b_nodes, c_nodes, kind == "continuous", k))


def non_isothermal(c_isothermal: NDArray[np.float64], release_temperature_k: float, air_temperature_k: float) -> NDArray[np.float64]:
    """Workbook sec. 5.5 correction of a mole fraction for a cold (or warm) release. [-]

    ``C' = C / (C + (1 - C) T0/Ta)``.
    """
    c = np.asarray(c_isothermal, dtype=float)
    return c / (c + (1.0 - c) * release_temperature_k / air_temperature_k)


def reduced_gravity(molecular_weight_kg_mol: float, release_temperature_k: float, air_temperature_k: float) -> float:
    """``g0' = g (ρ0 - ρa)/ρa`` of the released vapour (ideal gases, same pressure). [m s-2]"""
    rho0 = molecular_weight_kg_mol / release_temperature_k
    rhoa = M_AIR_KG_MOL / air_temperature_k
    return G * (rho0 - rhoa) / rhoa


# --------------------------------------------------------------------------- far field: stratification
# DEGADIS 2.1 (Spicer & Havens 1989, User's Guide EPA-450/4-89-019, Chapter V; the downwind phases PSS and
# SSG): the vertical entrainment of the cloud is the neutral one divided by phi(Ri*),
#   d/dx [rho_lay u_eff H_eff B_eff] = rho_a kappa u* (1 + alpha) B_eff / phi(Ri*),
#   phi(Ri*) = 0.88 + 0.099 Ri*^1.04 + 1.4e-25 Ri*^5.7   (Ri* > 0; 0.88 at Ri* = 0),
#   Ri* = g (rho - rho_a)/rho_a H_eff / u*^2,
# rho the cloud's density at the ground (centreline), H_eff its mass-consistent depth, u* the ambient friction
# velocity of the 10-m wind (kappa = 0.35, Businger psi, Obukhov length per class). The constants as ported
# from DEGADIS 2.1's Fortran (RIPHIF.FOR PHIF with IPHIFL = 2, or 3 without ground heating; RIF; ALPH; PSIF;
# ATMDEF.FOR) by github.com/lyullee/degali @ ce93e375 (src/degali/core/entrainment.py, atmosphere.py): a
# secondary transcription, the User's Guide itself was not opened here.

#: DEGADIS's neutral value of phi, phi(0) (its 1/phi multiplies kappa u*: 0.35/0.88 = 0.40). [-]
DEGADIS_PHI_NEUTRAL = 0.88
#: DEGADIS's von Karman constant (its u* and entrainment). [-]
DEGADIS_KAPPA = 0.35
#: DEGADIS's reference height of the wind (z0 in its notation; 10 m here, the zones wind's). [m]
DEGADIS_WIND_HEIGHT_M = 10.0
#: DEGADIS's Obukhov length per class, ``L = a z_R^b`` (ATMDEF.FOR; None: neutral, infinite). [m]
DEGADIS_OBUKHOV_AB: dict[str, tuple[float, float] | None] = {
    "A": (-11.43, 0.103), "B": (-25.98, 0.171), "C": (-123.4, 0.304),
    "D": None, "E": (123.4, 0.304), "F": (25.98, 0.171),
}


def degadis_phi(ri_star: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """DEGADIS 2.1's ``phi(Ri*) = 0.88 + 0.099 Ri*^1.04 + 1.4e-25 Ri*^5.7`` for ``Ri* > 0`` (0.88 at and
    below 0; DEGADIS's ``Ri* < 0`` branch, a cloud lighter than air, does not arise in a dense far field). [-]"""
    ri = np.maximum(np.asarray(ri_star, dtype=float), 0.0)
    return np.asarray(DEGADIS_PHI_NEUTRAL + 0.099 * ri**1.04 + 1.4e-25 * ri**5.7, dtype=float)


def stratification_factor(ri_star: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """``phi(Ri*)/phi(0)``: how many times more slowly a cloud of bulk Richardson number ``Ri*`` deepens than a
    passive one (DEGADIS 2.1, :func:`degadis_phi`, relative to its own neutral value, so that the passive far
    field keeps the ambient (Briggs) rate). [-]"""
    return degadis_phi(ri_star) / DEGADIS_PHI_NEUTRAL


def degadis_obukhov_length(pg_class: str, roughness_length_m: float) -> float:
    """DEGADIS's Obukhov length of a PG class (ATMDEF.FOR, ``L = a z_R^b``; inf in class D). [m]"""
    ab = DEGADIS_OBUKHOV_AB[pg_class]
    return math.inf if ab is None else ab[0] * roughness_length_m ** ab[1]


def degadis_psi(z_m: float, obukhov_length_m: float) -> float:
    """DEGADIS's stability correction of the log wind profile (PSIF.FOR): ``-4.7 z/L`` stable, the
    Businger-Paulson form with ``(1 - 15 z/L)^(1/4)`` unstable, 0 neutral. [-]"""
    if not math.isfinite(obukhov_length_m):
        return 0.0
    if obukhov_length_m > 0.0:
        return -4.7 * z_m / obukhov_length_m
    a = (1.0 - 15.0 * z_m / obukhov_length_m) ** 0.25
    return (2.0 * math.log((1.0 + a) / 2.0) + math.log((1.0 + a * a) / 2.0) - 2.0 * math.atan(a)
            + math.pi / 2.0)


def degadis_friction_velocity(wind_speed_m_s: float, roughness_length_m: float, obukhov_length_m: float) -> float:
    """DEGADIS's ambient friction velocity (ALPH.FOR): ``u* = kappa u(z0) / (ln((z0 + z_R)/z_R) - psi(z0/L))``,
    kappa = 0.35, z0 the wind's height (10 m), z_R the roughness length. [m s-1]"""
    z = DEGADIS_WIND_HEIGHT_M
    den = math.log((z + roughness_length_m) / roughness_length_m) - degadis_psi(z, obukhov_length_m)
    return DEGADIS_KAPPA * wind_speed_m_s / den


def far_field_friction_velocity(pg_class: str, wind_speed_m_s: float, roughness_length_m: float,
                                obukhov_length_m: float | None) -> float:
    """The ambient friction velocity of the stratified far field's ``Ri*``, as DEGADIS 2.1 takes it
    (:func:`degadis_friction_velocity`: kappa 0.35, the 10-m wind, the roughness length, the scenario's Obukhov
    length where the class comes from it, else DEGADIS's per class). [m s-1]"""
    obukhov = degadis_obukhov_length(pg_class, roughness_length_m) if obukhov_length_m is None else obukhov_length_m
    return degadis_friction_velocity(wind_speed_m_s, roughness_length_m, obukhov)


def stratified_far_field_text(dense: DenseSetup) -> str:
    """The zones' words on the far field's stratification (``zones.setup.far_field_match``); "" where none."""
    ri = dense.far_richardson_c
    if not math.isfinite(ri) or ri <= 0.0:  # no stratification left there (a cold light gas warmed): nothing damped
        return ""
    return (f", deepening {float(stratification_factor(ri)):.2g}x more slowly than an ambient plume there, as its "
            f"stratification damps mixing (Ri* {ri:.2g}, DEGADIS 2.1), and at the ambient rate once Ri* falls")


def richardson_star(column_kg_m2: NDArray[np.float64], molecular_weight_kg_mol: float, air_temperature_k: float,
                    friction_velocity_m_s: float) -> NDArray[np.float64]:
    """DEGADIS's bulk Richardson number ``Ri* = g (rho - rho_a)/rho_a H_eff / u*^2`` of a cloud at ambient
    temperature whose agent column (mass per unit ground area) at the centre is ``column_kg_m2``. [-]

    At the air's temperature and pressure ``(rho - rho_a)/rho_a = y (M/M_air - 1)``, ``y`` the mole fraction
    at the ground, and ``H_eff = column / c_ground`` (the mass-consistent depth, ``sqrt(pi/2) sigma_z`` for a
    Gaussian on the ground without a lid), so ``y H_eff = column R T_a / (P M)``: the ground value and depth
    enter only through their product, the column.
    """
    col = np.asarray(column_kg_m2, dtype=float)
    y_h = col * R_GAS * air_temperature_k / (P_ATM_PA * molecular_weight_kg_mol)
    return np.asarray(G * (molecular_weight_kg_mol / M_AIR_KG_MOL - 1.0) * y_h / friction_velocity_m_s**2,
                      dtype=float)


def continuous_criterion(g0p: float, q0_m3_s: float, u_m_s: float) -> float:
    """``(g0' q0 / (u³ D))^(1/3)``, ``D = sqrt(q0/u)``; dense when >= 0.15 (BM 1988). [-]"""
    d = math.sqrt(q0_m3_s / u_m_s)
    return float(np.cbrt(g0p * q0_m3_s / (u_m_s**3 * d)))


def instantaneous_criterion(g0p: float, v0_m3: float, u_m_s: float) -> float:
    """``sqrt(g0' V0^(1/3))/u``; dense when >= 0.20 (BM 1988). [-]"""
    return math.sqrt(max(g0p, 0.0) * v0_m3 ** (1.0 / 3.0)) / u_m_s


def passive_transition_width_m(g0p: float, q0_m3_s: float, u_m_s: float) -> float:
    """Crosswind width at which a continuous dense plume stops being dense. [m]

    The workbook's criterion is a Richardson number of the source: with
    ``q0 = u D²`` it is ``(g0' D/u²)^(1/3)``. Downwind the plume of volume flux
    ``q``, width ``W`` and depth ``h = q/(u W)`` has ``g' = g0' q0/q`` (the
    buoyancy flux ``g' q`` is conserved when air is entrained isothermally), so
    its Richardson number is ``g' h/u² = g0' q0/(u³ W) = l_b/W``. The same
    criterion (>= 0.15) therefore holds until ``W = l_b/0.15³ ≈ 296 l_b``,
    ``l_b = g0' q0/u³`` (Britter & McQuaid 1988, criterion and buoyancy length
    scale; Britter 1989, Annu. Rev. Fluid Mech. 21, 317–344, for the local
    Richardson number). Beyond it the plume disperses passively.
    """
    return g0p * q0_m3_s / u_m_s**3 / CRITERION_CONTINUOUS**3


def passive_transition_area_m2(g0p: float, v0_m3: float, u_m_s: float) -> float:
    """Plan area at which an instantaneous dense cloud stops being dense. [m2]

    The workbook's criterion ``sqrt(g0' V0^(1/3))/u = sqrt(g0' V0/(A0 u²))`` with
    the source's plan area ``A0 = V0^(2/3)``; ``g' V = g0' V0`` is conserved, so a
    cloud of plan area ``A`` has the same parameter ``sqrt(g0' V0/(A u²))``, which
    falls below 0.20 once ``A > g0' V0/(0.20² u²)`` (as
    :func:`passive_transition_width_m` for a plume).
    """
    return g0p * v0_m3 / (u_m_s**2 * CRITERION_INSTANTANEOUS**2)


@dataclass(frozen=True)
class DenseSetup:
    """A dense release resolved for the zones model (SI)."""

    kind: Literal["continuous", "instantaneous"]
    criterion: float  # the workbook parameter (>= 0.15 / 0.20: dense)
    alpha: float  # correlation parameter, clipped to <= 1
    length_scale_m: float  # D = sqrt(q0/u) or V0^(1/3)
    source_volume: float  # q0 [m3 s-1] or V0 [m3] of released vapour at release temperature
    g0p: float  # reduced gravity [m s-2]
    release_temperature_k: float
    air_temperature_k: float
    molecular_weight_kg_mol: float
    curves_end_m: float  # end of the last published curve: the passive far field beyond (zones.setup)
    handover_m: float = math.inf  # where the passive plume takes over (inf: never within the search) [m]
    c_handover_kg_m3: float = math.nan  # the concentration there [kg m-3]
    notes: tuple[str, ...] = ()
    # beyond the curves, the passive far field from virtual sources (zones.setup.far_field_match):
    # σ_y(x) = σ_y,B(x + far_shift_y_m), σ_z(x) = σ_z,B(x + far_shift_z_m) (inf: held at far_sigma_z_m) [m]
    far_shift_y_m: float = 0.0
    far_shift_z_m: float = 0.0
    far_sigma_z_m: float = math.nan  # σ_z at the curves' end: the cloud's mass-consistent depth [m]
    # the stratified far field's lag (zones.setup.far_field_match): σ_z(x) = σ_z,B(x + far_shift_z_m - lag(x)),
    # lag(x) = ∫_{x_c}^{x} (1 - φ(0)/φ(Ri*)) dx' tabulated at far_lag_x_m (None: no lag, the ambient rate) [m]
    far_lag_x_m: Any = field(default=None, compare=False, repr=False)
    far_lag_m: Any = field(default=None, compare=False, repr=False)
    far_friction_velocity_m_s: float = math.nan  # u* of Ri* (nan: no stratification damping) [m s-1]
    far_richardson_c: float = math.nan  # the cloud's Ri* where the curves end (nan: not damped) [-]

    def mole_fraction(self, x_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Maximum ground mole fraction at ``x_m`` from the workbook curve (non-isothermal corrected). [-]

        Evaluated place by place with scalar ``math`` functions, so that a place's
        value never depends on which other places are evaluated with it
        (vectorised transcendental functions may round differently by array length).
        """
        x = np.asarray(x_m, dtype=float)
        c = _scaled_many(x, self.length_scale_m, 1e-3, float(self.alpha), self.kind)
        return non_isothermal(c, self.release_temperature_k, self.air_temperature_k)

    def concentration_kg_m3(self, x_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Maximum ground concentration in the dense regime, at ambient temperature and 1 atm. [kg m-3]"""
        return self.mole_fraction(x_m) * P_ATM_PA * self.molecular_weight_kg_mol / (R_GAS * self.air_temperature_k)

    def upwind_extent_m(self, wind_speed_m_s: float) -> float:
        """How far the cloud's gravity spread reaches upwind of the source. [m]

        A continuous plume: ``L_U = D/2 + 2 l_b``, ``l_b = g0' q0/u³`` (Britter & McQuaid 1988; CCPS 1999 sec.
        2.3.2, beside its ``L_H0 = D + 8 l_b``). The zones had started at the source: a 55-t chlorine railcar's
        AEGL-3 zone was 1.3 km to each side there and 0 m upwind (zones audit, session 40).

        A puff: the farthest its edge gets against the wind under the slumping this model gives it
        (:meth:`sigma_y_equivalent`: ``R² = R0² + c t``, ``c = 1.2 sqrt(g0' V0)``, its centre carried at ``u``,
        ``t = x/u``): ``max_t R(t) − u t``, which is ``R0`` where the cloud never outruns the wind
        (``R0 >= c/(2u)``), else ``c/(4u) + u R0²/c``, reached at ``R = c/(2u)``. It had not been drawn (left
        item of session 40): 55 t of chlorine at once in 1.5 m/s spreads about 100 m upwind."""
        u = max(float(wind_speed_m_s), 1e-6)
        if self.kind == "continuous":
            lb = self.g0p * self.source_volume / u**3
            return 0.5 * self.length_scale_m + 2.0 * lb
        r0, c = self.puff_slumping()
        return r0 if r0 >= c / (2.0 * u) else c / (4.0 * u) + u * r0**2 / c

    def puff_slumping(self) -> tuple[float, float]:
        """A puff's initial radius ``R0`` [m] and slumping rate ``c`` [m² s-1] (``R² = R0² + c t``)."""
        r0 = (3.0 * self.source_volume / (4.0 * math.pi)) ** (1.0 / 3.0)
        return r0, 1.2 * math.sqrt(self.g0p * self.source_volume)

    def sigma_y_equivalent(self, x_m: NDArray[np.float64], wind_speed_m_s: float) -> NDArray[np.float64]:
        """Gaussian σ_y with the dense cloud's crosswind integral (top-hat of half-width L_H or radius R). [m]

        Plume: ``σ = 2 L_H/√(2π)``, ``L_H = D + 8 l_b + 2.5 l_b^(1/3) x^(2/3)``.
        Puff: equal area ``π R² = 2π σ²``, ``R² = R0² + 1.2 sqrt(g0' V0) x/u`` (:func:`puff_sigma_y_equivalent`).
        """
        if self.kind == "continuous":
            x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
            lb = self.g0p * self.source_volume / wind_speed_m_s**3
            lh = _half_widths(np.ascontiguousarray(x).reshape(-1), self.length_scale_m, lb)
            return lh.reshape(x.shape) * (2.0 / math.sqrt(2.0 * math.pi))
        r0, c = self.puff_slumping()
        return puff_sigma_y_equivalent(x_m, r0**2, c, wind_speed_m_s)


def puff_sigma_y_equivalent(x_m: Any, r0_sq_m2: float | NDArray[np.float64], c_m2_s: float | NDArray[np.float64],
                            wind_speed_m_s: float) -> NDArray[np.float64]:
    """A slumping puff's Gaussian σ_y of equal area at ``x_m`` (:meth:`DenseSetup.sigma_y_equivalent`):
    ``π R² = 2π σ²``, ``R² = R0² + c x/u``, with ``R0²`` and ``c`` of :meth:`DenseSetup.puff_slumping`, scalars or
    one per puff broadcast against ``x_m`` (a release's twins, one row each:
    :class:`~plumecast.nearfield.zones.dense_twins.TwinStack`). [m]"""
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    r2 = r0_sq_m2 + c_m2_s * x / wind_speed_m_s
    return np.asarray(np.sqrt(r2 / 2.0), dtype=float)


@numba.njit(cache=True, error_model="numpy")
def _half_widths(x: NDArray[np.float64], d_m: float, lb: float) -> NDArray[np.float64]:  # pragma: no cover - compiled
    """The plume's half-width ``L_H = D + 8 l_b + 2.5 l_b^(1/3) x^(2/3)`` place by place (scalar ``pow``:
    its rounding independent of the batch). [m]"""
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = d_m + 8.0 * lb + 2.5 * lb ** (1.0 / 3.0) * x[i] ** (2.0 / 3.0)
    return out


def release_volume(mass_or_rate: float, molecular_weight_kg_mol: float, release_temperature_k: float) -> float:
    """Vapour volume (or volume rate) of a mass (rate) at the release temperature, 1 atm. [m3] or [m3 s-1]"""
    return mass_or_rate * R_GAS * release_temperature_k / (P_ATM_PA * molecular_weight_kg_mol)
