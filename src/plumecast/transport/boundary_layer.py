"""Boundary-layer turbulence and removal of one particle over one time step.

The functions here are the vertical physics that every transport backend shares:
the Numba kernels call the scalar ``@numba.njit`` functions for one particle, the
NumPy oracle calls the ``*_array`` twins, which do the same arithmetic in the same
order on arrays (the tests hold the two to 1e-12). The CUDA backend mirrors
:func:`vertical_step`, :func:`kz_profile`, :func:`kz_bounds` and
:func:`removal_factors` in C (:mod:`plumecast.transport.kernels_cuda_3d`): a change
to them must be made there too (``tests/transport/test_cuda_on_cpu.py`` checks).

Turbulence profiles (Hanna 1982)
    Inside the boundary layer (height ``z`` below the mixing height ``h``) the standard
    deviation of the vertical velocity ``sigma_w`` and its Lagrangian time scale
    ``T_Lw`` follow Hanna (1982), "Applications in air pollution modeling", in
    Nieuwstadt & van Dop (eds.), Atmospheric Turbulence and Air Pollution Modelling,
    Reidel, 275-310, doi:10.1007/978-94-010-9112-1_7, in the form FLEXPART uses them
    (Stohl et al. 2005, ACP 5, 2461, doi:10.5194/acp-5-2461-2005, sect. 5, routine
    ``hanna``): neutral for ``h / |L| < 1``, else unstable (``L < 0``) or stable, and
    ``T_Lw >= 30 s``. One change: in unstable conditions ``T_Lw`` is the smaller of
    Hanna's surface-layer and mixed-layer values, which equals his piecewise form
    where ``|L| < 0.1 h`` (to 4e-4 near ``z = 0.1 h``, where his two branches meet)
    and removes its jump at ``z = |L|`` otherwise. The eddy
    diffusivity is ``K_z = sigma_w^2 T_Lw`` (Taylor's diffusion limit). The public
    :func:`hanna_sigma_w`, :func:`hanna_tl_w` and :func:`hanna_kz` evaluate the
    formulas; the kernels read the three functions of ``z/h`` alone,
    ``(1 - 0.9 z/h) (z/h)^(2/3)``, ``1 - exp(-5 z/h)`` and ``(z/h)^0.8``, from a table
    of 1025 nodes (linear interpolation, ``pow`` cost 80 % of a step; the powers are
    computed in the lowest 4/1024 of the layer, where their slope is infinite), which
    changes ``K_z`` by less than 0.2 % (tested).

Vertical step
    ``K_z`` varies with height, and a random walk must then keep a well-mixed state
    well mixed (Thomson 1987, J. Fluid Mech. 180, 529, doi:10.1017/S0022112087001940).
    The random displacement model of Visser (1997, Mar. Ecol. Prog. Ser. 158, 275,
    doi:10.3354/meps158275) does so only in the limit of small sub-steps. Each
    sub-step here is a move of a reversible Markov chain instead (Hastings 1970,
    Biometrika 57, 97, doi:10.1093/biomet/57.1.97): a proposal uniform in
    ``[z - s, z + s]`` folded into ``[0, h]`` (reflection at the ground and at ``h``;
    symmetric in ``z`` and the proposed ``z'``), accepted with the probability
    ``min(1, 6 K_z((z + z')/2) dt_sub / s^2)``, symmetric too. The move probabilities
    are then symmetric, so the uniform distribution on ``[0, h]`` is exactly invariant
    whatever the sub-step, and for small ``s`` the chain converges to the diffusion
    ``dc/dt = d/dz (K_z dc/dz)`` (expand the symmetric acceptance about ``z``: the
    mean move is ``K_z' dt_sub``, the random displacement model's drift, and the
    variance ``2 K_z dt_sub``). ``s^2 = 6 K_max dt_sub`` (capped at ``h^2``) with
    ``K_max`` an upper bound of the profile, and ``n = ceil(K_max dt /
    (SUBSTEP_RATIO h^2))`` sub-steps, at most ``MAX_SUBSTEPS``. Where even the
    slowest mixing mode of the layer decays within one step, ``K_min dt / h^2 >= 1/2``
    (the first eigenvalue of the diffusion operator with reflecting walls is at least
    ``pi^2 K_min / h^2``, the decay rate of Carslaw & Jaeger's (1959, Conduction of Heat
    in Solids) first cosine mode for ``K = K_min``; the mode keeps less than
    ``exp(-pi^2 / 2)``, 0.7 %), the new height is drawn uniformly in ``[0, h]``: one
    step mixes the layer, as a HYSPLIT puff that has grown to the depth of the mixed
    layer is spread through it (Draxler & Hess 1998, Aust. Meteorol. Mag. 47, 295).

    Above ``h`` the particle takes a random walk with the free-troposphere diffusivity,
    reflected at the ground only; a growing boundary layer that reaches it mixes it in
    at the next step, a collapsing one leaves it aloft.

Removal
    Dry deposition removes mass from particles in a layer of depth ``z_d`` above the
    ground (FLEXPART: particles below ``2 h_ref`` with ``h_ref = 15 m``; Stohl et al.
    2005); the loss is scaled so that a well-mixed boundary layer of depth
    ``h`` loses ``1 - exp(-v_d dt / h)`` of its mass per step exactly. ``v_d`` is the
    scenario's, or that of Wesely's (1989) resistance model at the particle,
    ``1 / (r_a + r_b + r_c)`` (:func:`dry_velocity`; ``r_c`` and ``r_b`` of the agent from
    :mod:`plumecast.transport.drydep`). Wet scavenging
    below cloud, ``Lambda = A P^B`` (FLEXPART's gas scheme, Pisso et al. 2019, GMD 12,
    4955, doi:10.5194/gmd-12-4955-2019, with ``P`` in mm/h), acts on particles in the
    rain column, taken to reach from the ground to ``max(h, 3 km)``: HYSPLIT removes
    soluble gases from the ground to the cloud top (Draxler & Hess 1997, NOAA Tech.
    Memo. ERL ARL-224, sect. 5.3); without cloud fields, 3 km stands for the top of
    the precipitating cloud (an assumption, see docs/boundary_layer.md).

Random numbers: the step's counter ``base`` (:mod:`plumecast.transport.rng`); the
kernels use the uniform pairs ``j = 1, 2`` for their normal deviates (``rng.PAIR_H``,
``rng.PAIR_Z``; ``3`` and ``4`` unused, as reserve), this module uses
``j >= FIRST_UNIFORM`` (5): ``5 + 2k`` and ``6 + 2k`` for the proposal and the
acceptance test of sub-step ``k``, ``5`` for a uniform redraw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.transport import rng
from plumecast.transport.rng import uniform_scalar

# --- constants ---------------------------------------------------------------

#: Added to sigma_w in every regime (FLEXPART ``hanna``: keeps turbulence alive when
#: u* and w* vanish). [m s-1]
SIGMA_W_FLOOR = 0.01
#: Smallest Lagrangian time scale of the vertical velocity (FLEXPART). [s]
T_LW_MIN_S = 30.0
#: Smallest friction velocity used in the neutral profiles (FLEXPART). [m s-1]
USTAR_MIN = 1e-4
#: Regimes of :func:`stability_regime`.
NEUTRAL, UNSTABLE, STABLE = 0, 1, 2
#: One step mixes the layer completely when ``K_min dt / h^2`` reaches this. [-]
WELL_MIXED_RATIO = 0.5
#: Sub-steps: the smallest ``n`` with ``K_max dt <= n SUBSTEP_RATIO h^2``, at most
#: MAX_SUBSTEPS. [-]
SUBSTEP_RATIO = 0.1
MAX_SUBSTEPS = 4
#: First uniform of the step's counter used here (the kernels' normal deviates use the pairs 1 and 2).
FIRST_UNIFORM = 5
#: Depth of the dry-deposition layer (FLEXPART: 2 x 15 m; Stohl et al. 2005). [m]
DRY_DEPOSITION_LAYER_M = 30.0
#: Assumed top of the rain column when the met has no cloud fields. [m]
WET_COLUMN_TOP_M = 3000.0
#: Reference height of the aerodynamic resistance of dry deposition (FLEXPART's
#: ``h_ref``, half the deposition layer; Stohl et al. 2005). [m]
DRY_REFERENCE_HEIGHT_M = 15.0
#: von Karman constant of the aerodynamic and quasi-laminar resistances (FLEXPART par_mod.f90
#: ``karman``). [-]
VON_KARMAN = 0.4

#: Below-cloud scavenging of gases, ``Lambda = A P^B`` [s-1] with ``P`` in mm/h:
#: ``(A [s-1], B)`` from FLEXPART's species table (``options/SPECIES/SPECIES.overview``
#: of FLEXPART 10.4; Pisso et al. 2019, GMD 12, 4955, doi:10.5194/gmd-12-4955-2019).
#: Dry deposition velocities come from a resistance model (:func:`dry_velocity`,
#: :mod:`plumecast.transport.drydep`), as in FLEXPART, or from the scenario.
GAS_BELOW_CLOUD_SCAVENGING: Mapping[str, tuple[float, float]] = MappingProxyType({
    "HNO3": (5.0e-5, 0.62),
    "NH3": (9.9e-5, 0.62),
    "NO2": (1.0e-5, 0.62),
    "NO": (8.0e-6, 0.62),
    "H2O2": (1.0e-4, 0.62),
    "I2": (8.0e-5, 0.62),
})

_TWO_THIRDS = 2.0 / 3.0

#: Nodes of the profile table in z/h (TABLE_N intervals).
TABLE_N = 1024
_ZETA_NODES = np.linspace(0.0, 1.0, TABLE_N + 1)
#: columns: (1 - 0.9 zeta) zeta^(2/3) | 0.15 (1 - exp(-5 zeta)) | zeta^0.8 | 0
PROFILE_TABLE = np.zeros((TABLE_N + 1, 4))
PROFILE_TABLE[:, 0] = (1.0 - 0.9 * _ZETA_NODES) * _ZETA_NODES**_TWO_THIRDS
PROFILE_TABLE[:, 1] = 0.15 * (1.0 - np.exp(-5.0 * _ZETA_NODES))
PROFILE_TABLE[:, 2] = _ZETA_NODES**0.8
PROFILE_TABLE.setflags(write=False)
#: Below this z/h the powers are computed, not read (4 table intervals).
TABLE_EXACT_BELOW = 4.0 / TABLE_N


def _maximum(f, lo: float, hi: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(argmax, max) of a unimodal function on [lo, hi] (golden-section search)."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    for _ in range(200):
        c, d = b - g * (b - a), a + g * (b - a)
        if f(c) > f(d):
            b = d
        else:
            a = c
    x = 0.5 * (a + b)
    return x, f(x)


#: max of (1 - 0.9 zeta) zeta^(2/3) on [0, 1] (at zeta = 4/9), with a margin
F_UNSTABLE_MAX = _maximum(lambda x: (1.0 - 0.9 * x) * x**_TWO_THIRDS, 0.0, 1.0)[1] * (1.0 + 1e-9)
#: max of (1 - zeta) zeta^0.8 on [0, 1] (at zeta = 4/9), with a margin
G_STABLE_MAX = _maximum(lambda x: (1.0 - x) * x**0.8, 0.0, 1.0)[1] * (1.0 + 1e-9)
#: y = z / u* [s] where exp(-2e-4 y) y / (1 + 1.5e-3 y) (neutral sigma_w T_Lw / u*^2
#: without the floor) peaks, and that peak's exp factor
Y_NEUTRAL_PEAK = _maximum(lambda y: math.exp(-2e-4 * y) * y / (1.0 + 1.5e-3 * y), 1.0, 1e5)[0]
_E_NEUTRAL_PEAK = math.exp(-2e-4 * Y_NEUTRAL_PEAK)


# --- Hanna (1982) profiles: the formulas (NumPy, public) -----------------------


def _f64(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def _broadcast(*args: ArrayLike) -> list[NDArray[np.float64]]:
    return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*[_f64(a) for a in args])]


def stability_regime_array(h: ArrayLike, inv_l: ArrayLike) -> NDArray[np.int64]:
    """:func:`stability_regime` of arrays."""
    h = _f64(h)
    inv_l = _f64(inv_l)
    return np.where(h * np.abs(inv_l) < 1.0, NEUTRAL, np.where(inv_l < 0.0, UNSTABLE, STABLE)).astype(np.int64)


def hanna_sigma_w(z: ArrayLike, h: ArrayLike, ustar: ArrayLike, inv_l: ArrayLike, wstar: ArrayLike) -> NDArray[np.float64]:
    """Standard deviation of the vertical velocity in the boundary layer after Hanna
    (1982) as FLEXPART uses it (Stohl et al. 2005, sect. 5). [m s-1]

    Parameters
    ----------
    z : height above ground, 0 <= z <= h. [m]
    h : mixing height. [m]
    ustar : friction velocity. [m s-1]
    inv_l : 1 / Obukhov length (negative unstable). [m-1]
    wstar : convective velocity scale (unstable only). [m s-1]

    Neutral (``h |1/L| < 1``): ``1.3 u* exp(-2e-4 z / u*)``; unstable:
    ``sqrt(1.2 w*^2 (1 - 0.9 z/h) (z/h)^(2/3) + (1.8 - 1.4 z/h) u*^2)``; stable:
    ``1.3 u* (1 - z/h)``; each plus 0.01 m/s (u* at least 1e-4 m/s when neutral).

    >>> float(hanna_sigma_w(0.0, 1000.0, 0.4, 0.0, 0.0))
    0.53
    """
    z, h, ustar, inv_l, wstar = _broadcast(z, h, ustar, inv_l, wstar)
    regime = stability_regime_array(h, inv_l)
    zeta = np.clip(z / h, 0.0, 1.0)
    u = np.maximum(ustar, USTAR_MIN)
    neutral = 1.3 * u * np.exp(-2e-4 * z / u)
    var = 1.2 * wstar**2 * (1.0 - 0.9 * zeta) * zeta**_TWO_THIRDS + (1.8 - 1.4 * zeta) * ustar**2
    unstable = np.sqrt(np.maximum(var, 0.0))
    stable = 1.3 * ustar * (1.0 - zeta)
    return np.where(regime == NEUTRAL, neutral, np.where(regime == UNSTABLE, unstable, stable)) + SIGMA_W_FLOOR


def hanna_tl_w(z: ArrayLike, h: ArrayLike, ustar: ArrayLike, inv_l: ArrayLike, wstar: ArrayLike) -> NDArray[np.float64]:
    """Lagrangian time scale of the vertical velocity after Hanna (1982) as FLEXPART
    uses it, at least 30 s. [s] (Arguments as :func:`hanna_sigma_w`.)

    Neutral: ``0.5 z / (sigma_w (1 + 1.5e-3 z / u*))``; unstable: the smaller of
    Hanna's surface-layer value (``0.1 z / (sigma_w (0.55 - 0.38 z/|L|))`` below
    ``|L|``, ``0.59 z / sigma_w`` above) and his mixed-layer value
    ``0.15 h (1 - exp(-5 z/h)) / sigma_w``; stable: ``0.1 h (z/h)^0.8 / sigma_w``.

    >>> round(float(hanna_tl_w(500.0, 1000.0, 0.3, 1 / 50.0, 0.0)), 1)  # stable: 100 m 0.5^0.8 / 0.205 m/s
    280.2
    """
    z, h, ustar, inv_l, wstar = _broadcast(z, h, ustar, inv_l, wstar)
    regime = stability_regime_array(h, inv_l)
    sigw = hanna_sigma_w(z, h, ustar, inv_l, wstar)
    zeta = np.clip(z / h, 0.0, 1.0)
    u = np.maximum(ustar, USTAR_MIN)
    neutral = 0.5 * z / (1.0 + 1.5e-3 * z / u)
    x = z * np.abs(inv_l)
    surface = np.where(x < 1.0, 0.1 * z / (0.55 - 0.38 * np.minimum(x, 1.0)), 0.59 * z)
    unstable = np.minimum(surface, 0.15 * h * (1.0 - np.exp(-5.0 * zeta)))
    stable = 0.1 * h * zeta**0.8
    ell = np.where(regime == NEUTRAL, neutral, np.where(regime == UNSTABLE, unstable, stable))
    return np.maximum(ell / sigw, T_LW_MIN_S)


def hanna_kz(z: ArrayLike, h: ArrayLike, ustar: ArrayLike, inv_l: ArrayLike, wstar: ArrayLike) -> NDArray[np.float64]:
    """Vertical eddy diffusivity ``K_z = sigma_w^2 T_Lw`` in the boundary layer after
    Hanna (1982). [m2 s-1] (Arguments as :func:`hanna_sigma_w`.)

    >>> round(float(hanna_kz(0.0, 1000.0, 0.4, 0.0, 0.0)), 3)  # 30 s x 0.53^2
    8.427
    """
    s = hanna_sigma_w(z, h, ustar, inv_l, wstar)
    return s * s * hanna_tl_w(z, h, ustar, inv_l, wstar)


# --- the kernels' profile (numba, scalar) -----------------------------------


@numba.njit(inline="always")
def stability_regime(h: float, inv_l: float) -> int:
    """NEUTRAL where ``h / |L| < 1``, else UNSTABLE (``L < 0``) or STABLE (FLEXPART)."""
    if h * abs(inv_l) < 1.0:
        return NEUTRAL
    if inv_l < 0.0:
        return UNSTABLE
    return STABLE


@numba.njit(inline="always")
def _table(zeta: float, col: int) -> float:
    """Column ``col`` of PROFILE_TABLE at ``zeta`` (linear interpolation); the powers
    of zeta, whose slope is infinite at 0, exactly below TABLE_EXACT_BELOW."""
    if zeta < TABLE_EXACT_BELOW and col != 1:
        zc = max(zeta, 0.0)
        if col == 0:
            return (1.0 - 0.9 * zc) * zc**_TWO_THIRDS
        return zc**0.8
    f = min(zeta, 1.0) * TABLE_N
    i = min(int(f), TABLE_N - 1)
    a = PROFILE_TABLE[i, col]
    return a + (f - i) * (PROFILE_TABLE[i + 1, col] - a)


@numba.njit(inline="always")
def kz_profile(z: float, h: float, ustar: float, inv_l: float, wstar: float, regime: int) -> float:
    """The kernels' ``K_z`` at height ``z`` [m] (0 <= z <= h): :func:`hanna_kz` with the
    functions of z/h from ``PROFILE_TABLE``, as ``sigma_w max(sigma_w T_Lw, 30 s
    sigma_w)``. [m2 s-1]"""
    zeta = z / h
    if regime == NEUTRAL:
        u = max(ustar, USTAR_MIN)
        y = z / u
        sw = 1.3 * u * math.exp(-2e-4 * y) + SIGMA_W_FLOOR
        ell = 0.5 * z / (1.0 + 1.5e-3 * y)
    elif regime == UNSTABLE:
        var = 1.2 * wstar * wstar * _table(zeta, 0) + (1.8 - 1.4 * zeta) * ustar * ustar
        sw = math.sqrt(max(var, 0.0)) + SIGMA_W_FLOOR
        x = z * abs(inv_l)
        # both sides of |L| computed and one selected: a branch taken at random otherwise
        ell = 0.1 * z / (0.55 - 0.38 * min(x, 1.0))
        ell = min(ell if x < 1.0 else 0.59 * z, h * _table(zeta, 1))
    else:
        sw = SIGMA_W_FLOOR + 1.3 * ustar * max(1.0 - zeta, 0.0)
        ell = 0.1 * h * _table(zeta, 2)
    return sw * max(ell, T_LW_MIN_S * sw)


@numba.njit(inline="always")
def kz_bounds(h: float, ustar: float, inv_l: float, wstar: float, regime: int) -> tuple[float, float]:
    """Lower and upper bounds of :func:`kz_profile` over [0, h]. [m2 s-1]

    ``K_z = sigma_w max(ell, 30 s sigma_w)`` with ``ell = sigma_w T_Lw`` before the
    floor: the lower bound is ``30 s sigma_w,min^2``, the upper one the largest
    ``sigma_w ell`` (maxima of the functions of z/h found at import) or
    ``30 s sigma_w,max^2``."""
    if regime == NEUTRAL:
        u = max(ustar, USTAR_MIN)
        yh = h / u
        # 1 - a <= exp(-a) <= 1 / (1 + a): bounds without an exp
        s_min = 1.3 * u * max(1.0 - 2e-4 * yh, 0.0) + SIGMA_W_FLOOR
        s_max = 1.3 * u + SIGMA_W_FLOOR
        if yh > Y_NEUTRAL_PEAK:
            top = (1.3 * u * _E_NEUTRAL_PEAK * 0.5 * u * Y_NEUTRAL_PEAK / (1.0 + 1.5e-3 * Y_NEUTRAL_PEAK)
                   + SIGMA_W_FLOOR * 0.5 * h / (1.0 + 1.5e-3 * yh))
        else:
            # exp(-a) <= 1 / (1 + a); both terms peak at z = h
            top = (1.3 * u / (1.0 + 2e-4 * yh) + SIGMA_W_FLOOR) * 0.5 * h / (1.0 + 1.5e-3 * yh)
    elif regime == UNSTABLE:
        a = 1.2 * wstar * wstar
        b = ustar * ustar
        # the variance is concave in z/h: its minimum is at z = 0 or z = h
        s_max = math.sqrt(F_UNSTABLE_MAX * a + 1.8 * b) + SIGMA_W_FLOOR
        s_min = math.sqrt(min(1.8 * b, 0.1 * a + 0.4 * b)) + SIGMA_W_FLOOR
        top = s_max * h * PROFILE_TABLE[TABLE_N, 1]
    else:
        s_max = 1.3 * ustar + SIGMA_W_FLOOR
        s_min = SIGMA_W_FLOOR
        top = 0.1 * h * (SIGMA_W_FLOOR + 1.3 * ustar * G_STABLE_MAX)
    return T_LW_MIN_S * s_min * s_min, max(top, T_LW_MIN_S * s_max * s_max)


@numba.njit(inline="always")
def substeps(k_lo: float, k_hi: float, h: float, dt: float) -> int:
    """Number of sub-steps of a step; 0: the step mixes the layer (uniform redraw)."""
    hh = h * h
    if k_lo * dt >= WELL_MIXED_RATIO * hh:
        return 0
    # the smallest n with k_hi dt <= n SUBSTEP_RATIO h^2 (comparisons, no division)
    x = k_hi * dt
    step = SUBSTEP_RATIO * hh
    n = 1
    while n < MAX_SUBSTEPS and x > n * step:
        n += 1
    return n


@numba.njit(inline="always")
def _round_state(z: float) -> float:
    """The float32 the particle state holds, as a float."""
    return float(np.float32(z))


@numba.njit(inline="always")
def _round_below(z: float, h: float) -> float:
    """The float32 nearest ``z``, but not above ``h``."""
    zr = np.float32(z)
    if float(zr) > h:
        zr = np.nextafter(np.float32(h), np.float32(0.0))
        if float(zr) > h:
            zr = np.nextafter(zr, np.float32(0.0))
    return float(zr)


@numba.njit(inline="always")
def vertical_step(z, h, ustar, inv_l, wstar, kz_const, kz_free, dt, xi, base):  # type: ignore[no-untyped-def]
    """A particle's height after one step of vertical turbulence. [m]

    Parameters
    ----------
    z : height above ground at the start of the step. [m]
    h : mixing height. [m]
    ustar : friction velocity; negative: no boundary layer from the met, the constant
        ``kz_const`` in [0, h] as before (random walk folded into [0, h],
        :func:`plumecast.transport.kernels_numpy.fold_into_layer`; unchanged above h).
        [m s-1]
    inv_l : 1 / Obukhov length (negative unstable). [m-1]
    wstar : convective velocity scale. [m s-1]
    kz_const : constant K_z of the no-met case. [m2 s-1]
    kz_free : K_z above h (free troposphere). [m2 s-1]
    dt : time step. [s]
    xi : the step's standard normal deviate for the vertical (constant-K and
        free-troposphere random walks).
    base : the particle-step counter (np.uint64) for the boundary layer's uniforms.

    Returns the new height, rounded to float32 like the particle state (and not above
    ``h`` when inside the boundary layer).
    """
    if ustar < 0.0:
        if z <= h:
            two_h = 2.0 * h
            z = z + math.sqrt(2.0 * kz_const * dt) * xi
            z = z - two_h * math.floor(z / two_h)
            if z > h:
                z = two_h - z
            z = min(max(z, 0.0), h)
        return _round_state(z)
    if z > h or h <= 0.0:
        return _round_state(abs(z + math.sqrt(2.0 * kz_free * dt) * xi))
    regime = stability_regime(h, inv_l)
    k_lo, k_hi = kz_bounds(h, ustar, inv_l, wstar, regime)
    n = substeps(k_lo, k_hi, h, dt)
    if n == 0:
        return _round_below(h * uniform_scalar(base, FIRST_UNIFORM), h)
    # symmetric folded proposal of half-width s and symmetric acceptance
    # 6 K(midpoint) dt_sub / s^2: detailed balance for the uniform distribution
    c6 = 6.0 * dt if n == 1 else 6.0 * dt / n  # the same number; no division for n = 1
    s2 = min(c6 * k_hi, h * h)
    s = math.sqrt(s2)
    two_h = 2.0 * h
    for k in range(n):
        # folded at 0 and h without a branch: x is in [-h, 2h] (s <= h, 0 <= z <= h)
        x = abs(z + s * (2.0 * uniform_scalar(base, FIRST_UNIFORM + 2 * k) - 1.0))
        x = min(max(min(x, two_h - x), 0.0), h)
        # accept with probability min(1, 6 K dt_sub / s^2), as a select
        accept = uniform_scalar(base, FIRST_UNIFORM + 2 * k + 1) * s2 <= c6 * kz_profile(
            0.5 * (z + x), h, ustar, inv_l, wstar, regime
        )
        z = x if accept else z
    return _round_below(z, h)


@numba.njit(inline="always")
def _dry_layer(h: float, vd: float, dt: float) -> float:
    """Depth of the dry-deposition layer: 30 m, deeper where one step's ``v_d dt``
    would exceed half of it, never deeper than ``h`` (where h > 0). [m]"""
    zd = max(DRY_DEPOSITION_LAYER_M, 2.0 * vd * dt)
    if h > 0.0:
        zd = min(zd, h)
    return zd


@numba.njit(inline="always")
def _psi_h(zeta: float) -> float:
    """Integrated stability function of heat (Businger-Dyer: Dyer 1974, Boundary-Layer
    Meteorol. 7, 363, doi:10.1007/BF00240838): ``-5 zeta`` stable, ``2 ln((1 + sqrt(1 -
    16 zeta)) / 2)`` unstable."""
    if zeta >= 0.0:
        return -5.0 * zeta
    return 2.0 * math.log(0.5 * (1.0 + math.sqrt(1.0 - 16.0 * zeta)))


@numba.njit(inline="always")
def _ra_rb(ustar: float, inv_l: float, z0: float, rb_u: float) -> float:
    """``r_a + r_b`` of :func:`dry_velocity`. [s m-1]"""
    u = max(ustar, USTAR_MIN)
    zr = DRY_REFERENCE_HEIGHT_M
    z0c = min(z0, 0.5 * zr)
    ra = (math.log(zr / z0c) - _psi_h(zr * inv_l) + _psi_h(z0c * inv_l)) / (VON_KARMAN * u)
    return max(ra, 0.0) + rb_u / u


@numba.njit(inline="always")
def dry_velocity(ustar: float, inv_l: float, z0: float, rc: float, rb_u: float) -> float:
    """Dry deposition velocity of the resistance model, ``1 / (r_a + r_b + r_c)``. [m s-1]

    Parameters
    ----------
    ustar : friction velocity (at least USTAR_MIN). [m s-1]
    inv_l : 1 / Obukhov length. [m-1]
    z0 : roughness length (at most half the reference height). [m]
    rc : surface resistance (:func:`plumecast.transport.drydep.surface_resistance`). [s m-1]
    rb_u : ``u* r_b`` of the gas (:func:`plumecast.transport.drydep.laminar_factor`). [-]

    ``r_a = (ln(z_r / z0) - psi_h(z_r / L) + psi_h(z0 / L)) / (k u*)`` at the reference
    height ``z_r`` = DRY_REFERENCE_HEIGHT_M (Seinfeld & Pandis 2016, Atmospheric
    Chemistry and Physics, 3rd ed., eq. 19.13; FLEXPART's ``getra``), ``r_b = rb_u / u*``.
    """
    return 1.0 / (_ra_rb(ustar, inv_l, z0, rb_u) + rc)


@numba.njit(inline="always")
def dry_velocity_mosaic(ustar: float, inv_l: float, z0: float, rc: float, rc_water: float, land: float,
                        rb_u: float) -> float:
    """Dry deposition velocity over a cell that is partly land, partly water: the
    land fraction ``land`` (clipped to [0, 1]) at the land's surface resistance ``rc``,
    the rest at the water's ``rc_water``, both under the same ``r_a`` and ``r_b``
    (:func:`dry_velocity`), ``land / (r_a + r_b + r_c) + (1 - land) / (r_a + r_b +
    r_c,water)``: FLEXPART's sum of ``fraction / (r_a + r_b + r_c)`` over the land-use
    classes of a cell (``getvdep.f90``; Stohl et al. 2005, sect. 5), which takes each
    class's own roughness length for ``r_a``, where this takes the run's one. [m s-1]"""
    rab = _ra_rb(ustar, inv_l, z0, rb_u)
    f = min(max(land, 0.0), 1.0)
    return f / (rab + rc) + (1.0 - f) / (rab + rc_water)


#: Latitude bands of the resistance model's seasons (:func:`season_band`): north of the
#: tropics, the tropics, south of them; edge of the tropics (as
#: :data:`plumecast.transport.drydep.TROPICS_LATITUDE_DEG`). [deg]
SEASON_BANDS = 3
TROPICS_EDGE_DEG = 23.5
#: floats per band of the resistance table: r_c of the land, its six terms, r_c of water, its six terms
BAND_WIDTH = 14


@numba.njit(inline="always")
def season_band(lat: float) -> int:
    """The resistance model's latitude band of ``lat`` [deg]: 0 north of the tropics
    (``lat >= 23.5``), 1 the tropics, 2 south of them (``lat <= -23.5``), as the seasons
    of :func:`plumecast.transport.drydep.season_for` split the globe."""
    if lat >= TROPICS_EDGE_DEG:
        return 0
    if lat <= -TROPICS_EDGE_DEG:
        return 2
    return 1


def season_band_array(lat: ArrayLike) -> NDArray[np.int64]:
    """:func:`season_band` of an array."""
    lat = _f64(lat)
    return np.where(lat >= TROPICS_EDGE_DEG, 0, np.where(lat <= -TROPICS_EDGE_DEG, 2, 1)).astype(np.int64)


#: Smallest bulk surface resistance of the resistance model (FLEXPART getrc.f90). [s m-1]
MIN_SURFACE_RESISTANCE_S_M = 10.0


@numba.njit(inline="always")
def surface_resistance_met(g, t, ri_d, r_m, r_lu, r_clx, r_gsx, r_ac):  # type: ignore[no-untyped-def]
    """Wesely's (1989) bulk surface resistance ``r_c`` at the solar irradiance ``g``
    [W m-2] and surface temperature ``t`` [degC], from the parts that depend on neither
    (:func:`plumecast.transport.drydep.resistance_terms`, whose docstring gives the
    formulas and sources): stomata shut outside 0 < t < 40 degC, the cold-surface term
    ``1000 exp(-t - 4)`` on the non-stomatal paths, at least
    MIN_SURFACE_RESISTANCE_S_M. [s m-1]"""
    r_s = math.inf
    if 0.0 < t < 40.0:
        q = 200.0 / (g + 0.1)
        r_s = ri_d * (1.0 + q * q) * (400.0 / (t * (40.0 - t)))
    cold = 1000.0 * math.exp(-t - 4.0)
    r_dc = 100.0 * (1.0 + 1000.0 / (g + 10.0))
    cond = 1.0 / (r_s + r_m) + 1.0 / (r_lu + cold) + 1.0 / (r_dc + (r_clx + cold)) + 1.0 / (r_ac + (r_gsx + cold))
    if cond == 0.0:  # no pathway at all
        return math.inf
    return max(1.0 / cond, MIN_SURFACE_RESISTANCE_S_M)


@numba.njit(inline="always")
def removal_factors(z, h, vd, precip_mm_h, scav_a, scav_b, dt):  # type: ignore[no-untyped-def]
    """Mass multipliers ``(f_dry, f_wet)`` of a particle for one step.

    Parameters
    ----------
    z : height above ground after the step's vertical motion. [m]
    h : mixing height (<= 0: none). [m]
    vd : dry deposition velocity. [m s-1]
    precip_mm_h : precipitation rate at the surface. [mm h-1]
    scav_a, scav_b : below-cloud scavenging ``Lambda = scav_a P^scav_b``. [s-1], [-]
    dt : time step. [s]

    Dry: a particle below the deposition layer depth ``z_d`` (30 m; see
    :func:`_dry_layer`) keeps ``1 - (h / z_d) (1 - exp(-v_d dt / h))`` of its mass
    (``1 - v_d dt / z_d`` where h <= 0), so that a well-mixed layer of depth ``h``, of
    which the fraction ``z_d / h`` lies below ``z_d``, loses exactly
    ``1 - exp(-v_d dt / h)`` per step. Wet: a particle below
    ``max(h, WET_COLUMN_TOP_M)`` keeps ``exp(-Lambda dt)``.
    """
    f_dry = 1.0
    if vd > 0.0:
        zd = _dry_layer(h, vd, dt)
        if z <= zd:
            if h > 0.0:
                p = (h / zd) * (1.0 - math.exp(-vd * dt / h))
            else:
                p = vd * dt / zd
            f_dry = max(1.0 - p, 0.0)
    f_wet = 1.0
    if precip_mm_h > 0.0 and scav_a > 0.0 and z <= max(h, WET_COLUMN_TOP_M):
        f_wet = math.exp(-scav_a * precip_mm_h**scav_b * dt)
    return f_dry, f_wet


# --- NumPy twins (the same arithmetic, for the oracle) --------------------------


def _uniform_array(base: NDArray[np.uint64], j: int) -> NDArray[np.float64]:
    """:func:`plumecast.transport.rng.uniform_scalar` of each counter in ``base``."""
    with np.errstate(over="ignore"):
        r = rng.mix64(base + np.uint64(j) * rng.GOLDEN)
    return ((r >> np.uint64(11)).astype(np.int64).astype(np.float64) + 0.5) * rng.TWO_POW_M53


def _table_array(zeta: NDArray[np.float64], col: int) -> NDArray[np.float64]:
    f = np.minimum(np.maximum(zeta, 0.0), 1.0) * TABLE_N
    i = np.minimum(f.astype(np.int64), TABLE_N - 1)
    a = PROFILE_TABLE[i, col]
    out = a + (f - i) * (PROFILE_TABLE[i + 1, col] - a)
    if col == 1:
        return out
    low = zeta < TABLE_EXACT_BELOW
    zc = np.maximum(np.where(low, zeta, 0.0), 0.0)
    exact = (1.0 - 0.9 * zc) * zc**_TWO_THIRDS if col == 0 else zc**0.8
    return np.where(low, exact, out)


def kz_profile_array(z, h, ustar, inv_l, wstar, regime):  # type: ignore[no-untyped-def]
    """:func:`kz_profile` of arrays (``regime`` from :func:`stability_regime_array`)."""
    z, h, ustar, inv_l, wstar = _broadcast(z, h, ustar, inv_l, wstar)
    zeta = z / h
    u = np.maximum(ustar, USTAR_MIN)
    y = z / u
    sw_n = 1.3 * u * np.exp(-2e-4 * y) + SIGMA_W_FLOOR
    ell_n = 0.5 * z / (1.0 + 1.5e-3 * y)
    var = 1.2 * wstar * wstar * _table_array(zeta, 0) + (1.8 - 1.4 * zeta) * ustar * ustar
    sw_u = np.sqrt(np.maximum(var, 0.0)) + SIGMA_W_FLOOR
    x = z * np.abs(inv_l)
    ell_u = np.where(x < 1.0, 0.1 * z / (0.55 - 0.38 * np.where(x < 1.0, x, 0.0)), 0.59 * z)
    ell_u = np.minimum(ell_u, h * _table_array(zeta, 1))
    sw_s = SIGMA_W_FLOOR + 1.3 * ustar * np.maximum(1.0 - zeta, 0.0)
    ell_s = 0.1 * h * _table_array(zeta, 2)
    sw = np.where(regime == NEUTRAL, sw_n, np.where(regime == UNSTABLE, sw_u, sw_s))
    ell = np.where(regime == NEUTRAL, ell_n, np.where(regime == UNSTABLE, ell_u, ell_s))
    return sw * np.maximum(ell, T_LW_MIN_S * sw)


def kz_bounds_array(h, ustar, inv_l, wstar, regime):  # type: ignore[no-untyped-def]
    """:func:`kz_bounds` of arrays."""
    h, ustar, inv_l, wstar = _broadcast(h, ustar, inv_l, wstar)
    u = np.maximum(ustar, USTAR_MIN)
    yh = h / u
    top_n = np.where(
        yh > Y_NEUTRAL_PEAK,
        1.3 * u * _E_NEUTRAL_PEAK * 0.5 * u * Y_NEUTRAL_PEAK / (1.0 + 1.5e-3 * Y_NEUTRAL_PEAK)
        + SIGMA_W_FLOOR * 0.5 * h / (1.0 + 1.5e-3 * yh),
        (1.3 * u / (1.0 + 2e-4 * yh) + SIGMA_W_FLOOR) * 0.5 * h / (1.0 + 1.5e-3 * yh),
    )
    a = 1.2 * wstar * wstar
    b = ustar * ustar
    s_max_u = np.sqrt(F_UNSTABLE_MAX * a + 1.8 * b) + SIGMA_W_FLOOR
    neutral = regime == NEUTRAL
    unstable = regime == UNSTABLE
    s_min = np.where(
        neutral, 1.3 * u * np.maximum(1.0 - 2e-4 * yh, 0.0) + SIGMA_W_FLOOR,
        np.where(unstable, np.sqrt(np.minimum(1.8 * b, 0.1 * a + 0.4 * b)) + SIGMA_W_FLOOR, SIGMA_W_FLOOR),
    )
    s_max = np.where(neutral, 1.3 * u + SIGMA_W_FLOOR, np.where(unstable, s_max_u, 1.3 * ustar + SIGMA_W_FLOOR))
    top = np.where(
        neutral, top_n,
        np.where(unstable, s_max_u * h * PROFILE_TABLE[TABLE_N, 1], 0.1 * h * (SIGMA_W_FLOOR + 1.3 * ustar * G_STABLE_MAX)),
    )
    return T_LW_MIN_S * s_min * s_min, np.maximum(top, T_LW_MIN_S * s_max * s_max)


def substeps_array(k_lo, k_hi, h, dt):  # type: ignore[no-untyped-def]
    """:func:`substeps` of arrays."""
    hh = h * h
    x = k_hi * dt
    step = SUBSTEP_RATIO * hh
    n = np.ones(np.shape(x), np.int64)
    for j in range(1, MAX_SUBSTEPS):
        n += (x > j * step).astype(np.int64)
    return np.where(k_lo * dt >= WELL_MIXED_RATIO * hh, 0, n)


def _round_below_array(z: NDArray[np.float64], h: NDArray[np.float64]) -> NDArray[np.float64]:
    zr = z.astype(np.float32)
    over = zr.astype(np.float64) > h
    if np.any(over):
        hr = np.nextafter(h[over].astype(np.float32), np.float32(0.0))
        hr = np.where(hr.astype(np.float64) > h[over], np.nextafter(hr, np.float32(0.0)), hr)
        zr[over] = hr
    return zr.astype(np.float64)


def vertical_step_array(
    z: ArrayLike, h: ArrayLike, ustar: ArrayLike, inv_l: ArrayLike, wstar: ArrayLike,
    kz_const: float, kz_free: float, dt: float, xi: ArrayLike, base: ArrayLike,
) -> NDArray[np.float64]:
    """:func:`vertical_step` for arrays of particles (the NumPy oracle's twin: the same
    arithmetic in the same order). ``z, h, ustar, inv_l, wstar, xi`` broadcast
    together; ``base`` is a uint64 array of the same length. Returns float64 heights
    holding float32 values. [m]"""
    z, h, ustar, inv_l, wstar, xi = _broadcast(z, h, ustar, inv_l, wstar, xi)
    base = np.broadcast_to(np.asarray(base, dtype=np.uint64), z.shape)
    out = np.empty_like(z)
    legacy = ustar < 0.0
    if np.any(legacy):
        zl = z[legacy]
        hl = h[legacy]
        two_h = 2.0 * hl
        zn = zl + math.sqrt(2.0 * kz_const * dt) * xi[legacy]
        zn = zn - two_h * np.floor(zn / two_h)
        zn = np.where(zn > hl, two_h - zn, zn)
        zn = np.minimum(np.maximum(zn, 0.0), hl)
        out[legacy] = np.where(zl <= hl, zn, zl).astype(np.float32)
    free = ~legacy & ((z > h) | (h <= 0.0))
    if np.any(free):
        out[free] = np.abs(z[free] + math.sqrt(2.0 * kz_free * dt) * xi[free]).astype(np.float32)
    bl = ~legacy & ~free
    if np.any(bl):
        out[bl] = _boundary_layer_array(z[bl], h[bl], ustar[bl], inv_l[bl], wstar[bl], dt, base[bl])
    return out


def _boundary_layer_array(z, h, ustar, inv_l, wstar, dt, base):  # type: ignore[no-untyped-def]
    """The boundary-layer branch of :func:`vertical_step` (0 <= z <= h, h > 0)."""
    regime = stability_regime_array(h, inv_l)
    k_lo, k_hi = kz_bounds_array(h, ustar, inv_l, wstar, regime)
    n = substeps_array(k_lo, k_hi, h, dt)
    out = h * _uniform_array(base, FIRST_UNIFORM)
    walk = n > 0
    if np.any(walk):
        z, h_w, ustar, inv_l, wstar, base, regime, n, k_hi = (
            a[walk] for a in (z, h, ustar, inv_l, wstar, base, regime, n, k_hi)
        )
        c6 = 6.0 * dt / n
        s2 = np.minimum(c6 * k_hi, h_w * h_w)
        s = np.sqrt(s2)
        two_h = 2.0 * h_w
        for k in range(int(n.max())):
            x = z + s * (2.0 * _uniform_array(base, FIRST_UNIFORM + 2 * k) - 1.0)
            x = np.where(x < 0.0, -x, np.where(x > h_w, two_h - x, x))
            x = np.minimum(np.maximum(x, 0.0), h_w)
            kz = kz_profile_array(0.5 * (z + x), h_w, ustar, inv_l, wstar, regime)
            accept = (k < n) & (_uniform_array(base, FIRST_UNIFORM + 2 * k + 1) * s2 <= c6 * kz)
            z = np.where(accept, x, z)
        out[walk] = z
    return _round_below_array(out, h)


def surface_resistance_met_array(g: ArrayLike, t: ArrayLike, ri_d: float, r_m: float, r_lu: float, r_clx: float,
                                 r_gsx: float, r_ac: float) -> NDArray[np.float64]:
    """:func:`surface_resistance_met` of arrays (the same arithmetic). [s m-1]"""
    g, t = _broadcast(g, t)
    open_ = (t > 0.0) & (t < 40.0)
    q = 200.0 / (g + 0.1)
    ts = np.where(open_, t, 20.0)
    r_s = np.where(open_, ri_d * (1.0 + q * q) * (400.0 / (ts * (40.0 - ts))), np.inf)
    cold = 1000.0 * np.exp(-t - 4.0)
    r_dc = 100.0 * (1.0 + 1000.0 / (g + 10.0))
    with np.errstate(divide="ignore"):
        cond = 1.0 / (r_s + r_m) + 1.0 / (r_lu + cold) + 1.0 / (r_dc + (r_clx + cold)) + 1.0 / (r_ac + (r_gsx + cold))
        return np.where(cond == 0.0, np.inf, np.maximum(1.0 / cond, MIN_SURFACE_RESISTANCE_S_M))


def _ra_rb_array(ustar: NDArray[np.float64], inv_l: NDArray[np.float64], z0: float,
                 rb_u: float) -> NDArray[np.float64]:
    """:func:`_ra_rb` of arrays (the same arithmetic). [s m-1]"""
    u = np.maximum(ustar, USTAR_MIN)
    zr = DRY_REFERENCE_HEIGHT_M
    z0c = min(z0, 0.5 * zr)

    def psi(zeta: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(zeta >= 0.0, -5.0 * zeta,
                        2.0 * np.log(0.5 * (1.0 + np.sqrt(1.0 - 16.0 * np.minimum(zeta, 0.0)))))

    ra = (math.log(zr / z0c) - psi(zr * inv_l) + psi(z0c * inv_l)) / (VON_KARMAN * u)
    return np.maximum(ra, 0.0) + rb_u / u


def dry_velocity_array(ustar: ArrayLike, inv_l: ArrayLike, z0: float, rc: ArrayLike, rb_u: float) -> NDArray[np.float64]:
    """:func:`dry_velocity` of arrays (the same arithmetic; ``rc`` a number or an array). [m s-1]"""
    ustar, inv_l, rc = _broadcast(ustar, inv_l, rc)
    return 1.0 / (_ra_rb_array(ustar, inv_l, z0, rb_u) + rc)


def dry_velocity_mosaic_array(ustar: ArrayLike, inv_l: ArrayLike, z0: float, rc: ArrayLike, rc_water: ArrayLike,
                              land: ArrayLike, rb_u: float) -> NDArray[np.float64]:
    """:func:`dry_velocity_mosaic` of arrays (the same arithmetic). [m s-1]"""
    ustar, inv_l, rc, rc_water, land = _broadcast(ustar, inv_l, rc, rc_water, land)
    rab = _ra_rb_array(ustar, inv_l, z0, rb_u)
    f = np.minimum(np.maximum(land, 0.0), 1.0)
    return f / (rab + rc) + (1.0 - f) / (rab + rc_water)


def removal_factors_array(
    z: ArrayLike, h: ArrayLike, vd: ArrayLike, precip_mm_h: ArrayLike, scav_a: ArrayLike, scav_b: ArrayLike,
    dt: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`removal_factors` for arrays (broadcast together): ``(f_dry, f_wet)``."""
    z, h, vd, precip, a, b = _broadcast(z, h, vd, precip_mm_h, scav_a, scav_b)
    zd = np.maximum(DRY_DEPOSITION_LAYER_M, 2.0 * vd * dt)
    zd = np.where(h > 0.0, np.minimum(zd, h), zd)
    has_h = h > 0.0
    hs = np.where(has_h, h, 1.0)
    p = np.where(has_h, (h / zd) * (1.0 - np.exp(-vd * dt / hs)), vd * dt / zd)
    f_dry = np.where((vd > 0.0) & (z <= zd), np.maximum(1.0 - p, 0.0), 1.0)
    wet = (precip > 0.0) & (a > 0.0) & (z <= np.maximum(h, WET_COLUMN_TOP_M))
    lam = a * np.where(wet, precip, 1.0) ** b
    f_wet = np.where(wet, np.exp(-lam * dt), 1.0)
    return f_dry, f_wet
