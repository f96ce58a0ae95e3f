"""A dense release of finite duration in the zones: Britter & McQuaid's (1988)
continuous/instantaneous rule on ``u T/x`` (:func:`dense_finite_parts`: the axis value,
σ_x and σ_y of its Palazzi plume, from the steady workbook plume to the whole mass
released at once) and the running-minimum envelope that keeps its peak from growing
downwind (:func:`_finite_peak_envelope`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.gaussian import (
    briggs_sigma_y,
    briggs_sigma_z,
    cap_at_pure_vapour,
    vertical_term,
)
from plumecast.nearfield.zones.setup import (
    MAX_DISTANCE_M,
    PlumeSetup,
    _sigma_y,
    _sigmas,
)

if TYPE_CHECKING:
    from plumecast.nearfield.zones.dense_twins import TwinStack

#: Britter & McQuaid (1988): a release of duration T is continuous at x where u T/x is at least this, ...
BM_CONTINUOUS_MIN = 2.5
#: ... instantaneous where u T/x is at most this; in between the lower of the two (plumecast: geometric in u T/x).
BM_INSTANTANEOUS_MAX = 0.6


def dense_finite_parts(
    setup: PlumeSetup, x_m: NDArray[np.float64], envelope: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A dense release of duration T at ``x_m``: axis value, σ_x and σ_y of its Palazzi plume. [kg m-3], [m], [m]

    The zones write every finite release as ``A(x) · g(x, t) · exp(-y²/2σ_y²)`` with
    Palazzi's time factor ``g`` (peak ``erf(u T/(2√2 σ_x))``; Palazzi et al. 1982).
    For a dense release the workbook's regimes decide how (Britter & McQuaid 1988;
    CCPS 1999 sec. 2.3.2): the release is *continuous* at x where ``u T/x >= 2.5`` and
    *instantaneous* where ``u T/x <= 0.6``. In between the workbook takes the lower of
    the two; plumecast goes from the one to the other geometrically in ``u T/x``
    (weight ``f = ln(r/0.6)/ln(2.5/0.6)`` on the continuous part), so the peak, σ_x and
    σ_y are continuous in x (the lower stepped up by 1.1-1.9x where the release turned
    instantaneous and the puff was the higher). The peak is never above the whole
    mass released at once (the puff's peak): a release over T is a sum of puffs of its
    parts (exact for a passive cloud); never above the same rate released over any longer
    time, the steady plume of the rate (the release lasting for ever) included (``setup.longer``,
    :func:`longer_durations`: the longer release contains it; audit D3), and so is its crosswind
    width (:func:`_width`; with both held the whole crosswind profile is: monotonicity audit); and it never grows
    downwind (``envelope``: held to its running minimum from the source out,
    :func:`_finite_peak_envelope`).

    * continuous: ``A`` the steady workbook plume
      (:func:`~plumecast.nearfield.zones.setup.dense_axis_parts`), σ_y its crosswind width
      (:func:`~plumecast.nearfield.zones.setup._sigmas`), σ_x the ambient (Briggs) σ_y: gravity widens a
      plume crosswind, and its steady value already carries that; its along-wind ends
      are smeared by the ambient turbulence (the plume's ``L_H``, which grows like the
      rate, made larger releases give lower peaks).
    * instantaneous: the whole mass (``setup.instantaneous``: the workbook puff of
      volume ``V0 = q0 T``, or the passive puff where that is not dense), released
      over T: its line density spread over the segment ``u T`` with the puff's
      Gaussian-equivalent radius as σ_x = σ_y (gravity slumping
      ``R² = R0² + 1.2 sqrt(g0' V0) t``, or the ambient σ_y). The peak is the puff's
      times ``erf(u T/(2√2 σ_x)) √(2π) σ_x/(u T)``: the puff's own while
      ``u T ≪ σ_x``, lower as the release lengthens, so a longer release of the same
      mass is never the higher.

    Where the release is not dense and continuous (``setup.instantaneous`` None) the
    continuous parts are returned. The weights depend on ``u T/x`` only, not on the
    amount, so the peak stays non-decreasing in the amount where each part is.
    """
    # the zones read the same setup at the same places more than once (a place's profile and its crosswind
    # shape, the pure-vapour check and its profile: four of a Graniteville call's nine reads): the last few
    # results are kept, by the setup's identity, the flag and the places' values, and handed out as copies
    x = np.asarray(x_m, dtype=float)
    key = (envelope, x.shape, x.tobytes())
    hit = next((e for e in _PARTS if e[0] is setup and e[1] == key), None)
    if hit is None:
        hit = (setup, key, _dense_finite_parts(setup, x, envelope))
        _PARTS.insert(0, hit)
        del _PARTS[8:]
    a, sx, sy = hit[2]
    return a.copy(), sx.copy(), sy.copy()


#: the last results of :func:`dense_finite_parts`: (setup, (envelope, shape, the places' bytes), its three arrays)
_PARTS: list[tuple[Any, tuple[bool, tuple[int, ...], bytes], tuple[NDArray[np.float64], ...]]] = []


def _dense_finite_parts(
    setup: PlumeSetup, x_m: NDArray[np.float64], envelope: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`dense_finite_parts` computed. [kg m-3], [m], [m]"""
    from plumecast.nearfield.gaussian import peak_finite_duration_factor
    from plumecast.nearfield.zones.plume import dense_axis_concentration

    xp = np.maximum(np.asarray(x_m, dtype=float), 1e-3)
    # the air's own spread at xp and the passive candidate's vertical term there are the same for the release and
    # each of its twins (the same class, terrain, averaging factor and lid): read once, handed to each
    ambient = (briggs_sigma_y(xp, setup.pg_class, setup.terrain) * setup.sigma_y_factor,
               briggs_sigma_z(xp, setup.pg_class, setup.terrain))
    sigmas = _sigmas(setup, xp, ambient)
    sy = sigmas[0]
    v_passive = vertical_term(0.0, 0.0, sigmas[1], setup.mixing_height_m)
    axis = dense_axis_concentration(setup, xp, sigmas, v_passive)
    amb = np.maximum(ambient[0], 1e-3)
    twin = setup.instantaneous
    if twin is None:
        return axis, np.asarray(amb, dtype=float), sy
    u, t_d = setup.wind_speed_m_s, setup.duration_s
    air = (ambient, v_passive)
    # the release's whole mass at once and its longer twins read together (dense_twins: the same values as
    # _peak_over and _width one by one)
    from plumecast.nearfield.zones.dense_twins import twin_reads

    reads = twin_reads(setup, [(t_d, twin), *setup.longer], xp, axis, amb, air, sy)
    peak, s_inst, f, width = reads[0]
    # the release at its rate over any longer time contains this one, so this one's peak is never above theirs
    # (Britter & McQuaid's puff of the whole mass, spread over u T, widens with the mass it is given: at one rate
    # a longer release had read up to 2.9x lower, chlorine 200 kg/s, class D, 1.5 m/s, 30 min against 1 h at
    # 2.4 km; audit D3): the lowest over the longer durations of the grid (longer_durations), each capped like
    # the release itself, the steady plume of the rate among the caps. This only ever lowers the blend: the
    # other way round, raising a longer release to the shorter ones', had taken Maplin Sands 27 at 58 m from
    # 29 to 39 % against 17 % measured (docs/dense_gas.md)
    for p_t, _, _, _ in reads[1:]:
        peak = np.minimum(peak, p_t)
    peak = cap_at_pure_vapour(peak, setup.pure_vapour_kg_m3)
    if envelope:
        # the peak of one cloud on flat ground in a steady wind does not grow downwind: where the blend
        # from plume to puff rose (the workbook's puff far above the plume in unstable air: up to 23 %, class A,
        # at u T/x = 0.6, an island in the zones; regression audit), the peak is held at its value nearer the
        # source (the running minimum from the source out, on a log grid)
        peak = peak * _finite_peak_envelope(setup, xp, peak)
    sigma_x = _between(f, amb, np.maximum(s_inst, 1e-3))
    amplitude = peak / np.maximum(peak_finite_duration_factor(u, t_d, sigma_x), 1e-300)
    # and never wider than the whole mass released at once when the last of the release passes x (u T + x of
    # travel): a source that gives its volume over T spreads crosswind no faster than that volume at once under
    # the model's own slumping (a constant-flux gravity current's radius at T is below the instant release's of
    # the same volume, 0.75 against 1.1 (g' V)^(1/4) T^(1/2)). The steady plume's source width D + 8 l_b, a
    # release lasting for ever, had drawn the AEGL-3 zone of 5 t of chlorine over 10 s in 1.5 m/s 12.6 km wide
    # within 6 m of the source, where the whole puff is 60 m across
    # and, as the peak, never wider than the same rate released for longer (it contains this release): with the
    # peak held to theirs, a wider profile had read up to 1.17x more to the side for the shorter release
    # (chlorine 1 kg/s, class D, 2 m/s, 300 m to the side at 1.3 km: 600 s against 1,800 s; monotonicity
    # audit, docs/dense_gas.md): where u T/x is between 0.6 and 2.5 the shorter release's width leans towards
    # its whole mass at once, slumping radially, while the longer one's is already the steady plume's
    for _, _, _, w in reads[1:]:
        width = np.minimum(width, w)
    return amplitude, sigma_x, width


def _width(sy: NDArray[np.float64], twin: PlumeSetup | TwinStack, t_d: float | NDArray[np.float64], xp: NDArray[np.float64],
           s_inst: NDArray[np.float64], f: NDArray[np.float64]) -> NDArray[np.float64]:
    """The crosswind σ of a release over ``t_d`` at ``xp`` (:func:`dense_finite_parts`): the steady plume's
    ``sy``, never above its whole mass at once (``twin``, radius ``s_inst`` at ``xp``) when its last gas passes,
    towards ``s_inst`` with the weight ``f`` of the continuous part; ``twin`` and ``t_d`` as in :func:`_peak_over`. [m]"""
    u = twin.wind_speed_m_s
    s_last = _sigma_y(twin, xp + u * t_d)
    return _between(f, np.minimum(sy, np.maximum(s_last, s_inst)), np.maximum(s_inst, 1e-3))


def _between(f: NDArray[np.float64], cont: NDArray[np.float64], inst: NDArray[np.float64]) -> NDArray[np.float64]:
    """Geometric in ``u T/x`` from the instantaneous value (``f = 0``) to the continuous one (``f = 1``)."""
    return np.asarray(np.exp(f * np.log(np.maximum(cont, 1e-300)) + (1.0 - f) * np.log(np.maximum(inst, 1e-300))),
                      dtype=float)


def _peak_over(setup: PlumeSetup, twin: PlumeSetup | TwinStack, t_d: float | NDArray[np.float64], xp: NDArray[np.float64],
               axis: NDArray[np.float64], amb: NDArray[np.float64], air: Any = None
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The axis peak at ``xp`` of ``setup``'s rate released over ``t_d`` (``twin``: its mass at once), the
    puff's σ (its radius) and the weight ``f`` of the continuous part (:func:`dense_finite_parts`); the steady
    plume ``axis`` of the rate and the ambient σ_y ``amb`` at ``xp`` given, and ``air``: ``setup``'s Briggs
    σ's at ``xp`` (:func:`_sigmas`' ``ambient``) and passive vertical term there, used where ``twin`` has the
    same class, terrain, averaging factor and lid. ``twin`` may be several dense puffs in ``setup``'s air, wind and
    cap stacked (:class:`~plumecast.nearfield.zones.dense_twins.TwinStack`) with their durations ``t_d`` a column:
    one row a twin, each that twin's values read alone (``xp`` and the arrays at it one-dimensional).
    [kg m-3], [m], [-]"""
    from plumecast.nearfield.gaussian import peak_finite_duration_factor
    from plumecast.nearfield.zones.plume import peak_concentration

    u = setup.wind_speed_m_s
    c_cont = axis * peak_finite_duration_factor(u, t_d, amb)
    same = air is not None and _same_air(setup, twin)
    twin_sigmas = _sigmas(twin, xp, air[0] if same else None)
    s_inst = twin_sigmas[0]
    f_inst = peak_finite_duration_factor(u, t_d, s_inst)
    # the whole mass, released over T: the puff's line density spread over the segment u T (Palazzi with the
    # puff's along-wind sigma), i.e. the steady plume of the rate with the puff's width and depth times the
    # time factor. Its peak is the puff's while u T << sigma_x and falls as the release lengthens, so a longer
    # release of the same mass is never the higher; the puff's own peak had been taken whatever T (a 600-s
    # release as high as the same mass at once at 10 km and beyond)
    c_puff = _axis_peak(twin, xp, twin_sigmas, peak_concentration, air[1] if same else None)
    c_inst = c_puff * np.sqrt(2.0 * np.pi) * s_inst / (u * t_d) * f_inst
    # the workbook's regimes: continuous where u T/x >= 2.5, instantaneous where <= 0.6 (Britter & McQuaid 1988).
    # Between them plumecast goes geometrically in u T/x from the one to the other (the workbook takes the lower
    # of the two there; that steps the peak up with distance where the release turns instantaneous and the puff
    # is the higher, 1.1-1.9x). The lower had been taken at every u T/x < 2.5: the steady plume of a short
    # release's high rate, widened by gravity as only a release lasting for ever could be, was then the lower
    # far downwind (55 t of chlorine over 30 s, class F: AEGL-3 to 7 km, against > 100 km at once and 62 km
    # over 600 s). Width and along-wind sigma go the same way: the steady plume's where the release is
    # continuous, the puff's where it is instantaneous, continuous in x in between (the puff's width wherever
    # its value was the lower had made a waist, Graniteville class F, zones audit)
    r = u * t_d / xp
    f = np.clip(np.log(np.maximum(r, 1e-300) / BM_INSTANTANEOUS_MAX) / math.log(BM_CONTINUOUS_MIN / BM_INSTANTANEOUS_MAX),
                0.0, 1.0)
    # never above the whole mass released at once: a release over T is a sum of puffs of its parts, none higher
    # than its share of that puff's peak (exact for a passive cloud; the workbook's steady plume of a short
    # release's rate can exceed its puff near the source: 55 t over 120 s, class F, 100 m: 5e5 against 2e5 ppm);
    # and never above the steady plume of its rate: the release is the first T of one lasting for ever, whose
    # concentration rises to that plume (the puff end of the blend had exceeded it: 5 kg/s of chlorine, class F,
    # 1.5 m/s, 1 km: 370 ppm over 300 s against 220 over 30 min and longer; audit D3)
    peak = np.minimum(np.minimum(_between(f, c_cont, c_inst), c_puff), axis)
    return np.asarray(peak, dtype=float), np.asarray(s_inst, dtype=float), np.asarray(f, dtype=float)


def _same_air(a: PlumeSetup, b: PlumeSetup | TwinStack) -> bool:
    """Whether two setups have the same Briggs σ's and passive vertical term at the same places."""
    return (a.pg_class, a.terrain, a.sigma_y_factor, a.mixing_height_m) == (
        b.pg_class, b.terrain, b.sigma_y_factor, b.mixing_height_m)


def _axis_peak(twin: PlumeSetup | TwinStack, xp: NDArray[np.float64], sigmas: tuple[NDArray[np.float64], NDArray[np.float64]],
               peak_concentration: Any, v_passive: Any = None) -> NDArray[np.float64]:
    """``peak_concentration(twin, xp, 0)`` (the puff's peak on the axis, ``xp`` >= 1 mm) with ``twin``'s
    :func:`_sigmas` at ``xp`` given: a dense puff's is its axis value (its crosswind profile is exactly 1 on
    the axis: ``exp(-0/2s²)`` with ``s`` >= 1 mm), so neither the profile nor the sigmas are computed again
    (the same values to the bit, once per longer duration of :func:`dense_finite_parts`); any other twin (a
    passive puff, a finite one) is read by ``peak_concentration`` itself. [kg m-3]"""
    from plumecast.nearfield.zones.plume import dense_axis_concentration

    if twin.dense is None or twin.duration_s > 0:
        return np.asarray(peak_concentration(twin, xp, np.zeros_like(xp)), dtype=float)
    c = dense_axis_concentration(twin, xp, sigmas, v_passive)
    return np.asarray(np.where(xp > 0, c, 0.0), dtype=float)


#: :func:`longer_durations`: this many durations a decade [-]
LONGER_PER_DECADE = 20


def longer_durations(duration_s: float, wind_speed_m_s: float, top_m: float = MAX_DISTANCE_M) -> list[float]:
    """The durations above ``duration_s`` whose release at the same rate bounds a finite dense
    release's peak from above (:func:`dense_finite_parts`): ``10^(k/20)`` s, one grid for every
    release (so a shorter release's durations include a longer one's), up to the first at or
    beyond ``2.5 top_m/u``, where the release is continuous (``u T/x >= 2.5``, Britter & McQuaid
    1988) out to ``top_m``, the farthest the zones reach. Beyond that the bound cannot fall: where
    a release is continuous its peak is the lowest of its steady plume times Palazzi's factor
    ``erf(u T/(2√2 σ_y))``, its whole mass at once and the steady plume, none of which falls as
    T grows. Empty for an endless release. [s]"""
    if not (math.isfinite(duration_s) and duration_s > 0.0):
        return []
    k0 = math.floor(LONGER_PER_DECADE * math.log10(duration_s) + 1e-9) + 1
    k1 = math.ceil(LONGER_PER_DECADE * math.log10(BM_CONTINUOUS_MIN * top_m / max(wind_speed_m_s, 1e-3)) - 1e-9)
    return [10.0 ** (k / LONGER_PER_DECADE) for k in range(k0, k1 + 1)]


#: the log grid of :func:`_finite_peak_envelope`: from 1 m, this many points per decade
_ENVELOPE_PER_DECADE = 200


def _finite_peak_envelope(setup: PlumeSetup, x_m: NDArray[np.float64],
                          peak: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """The factor (<= 1) that holds a finite dense release's axis peak (:func:`dense_finite_parts`
    without it; ``peak``, at ``x_m``, computed here when not given) to its running minimum from
    the source out: ``min(peak(x), R(x)) / peak(x)``, with ``R(x)`` the lowest peak at the points
    of a log grid from 1 m up to ``x`` (no interpolation between them: a knee of the value between
    two grid points, such as the steep fall past the workbook curves' end, had let the peak rise
    5 % within 22 m through a factor interpolated in ``ln x``; regression audit); exactly 1
    wherever the peak is not above any value nearer the source on the grid. [-]"""
    from plumecast.nearfield.gaussian import peak_finite_duration_factor

    x = np.asarray(x_m, dtype=float)
    if x.size == 0:
        return np.ones_like(x)
    if peak is None:
        a, sx, _ = dense_finite_parts(setup, x, envelope=False)
        peak = a * peak_finite_duration_factor(setup.wind_speed_m_s, setup.duration_s, sx)
    top = max(float(np.max(x)), MAX_DISTANCE_M)
    # once per setup (zones ask for its peak many times): the last few kept, by identity
    hit = next((e for e in _ENVELOPES if e[0] is setup and e[1] >= top), None)
    if hit is None:
        grid = np.geomspace(1.0, top, max(int(math.ceil(math.log10(top) * _ENVELOPE_PER_DECADE)), 2))
        a, sx, _ = dense_finite_parts(setup, grid, envelope=False)
        c = np.maximum(a * peak_finite_duration_factor(setup.wind_speed_m_s, setup.duration_s, sx), 1e-300)
        hit = (setup, top, grid, np.minimum.accumulate(c))
        _ENVELOPES.insert(0, hit)
        del _ENVELOPES[8:]
    k = np.searchsorted(hit[2], x, side="right") - 1
    lowest = np.where(k >= 0, hit[3][np.maximum(k, 0)], np.inf)
    c_x = np.maximum(np.asarray(peak, dtype=float), 1e-300)
    return np.asarray(np.where(c_x > lowest, lowest / c_x, 1.0), dtype=float)


#: the envelopes of the last setups asked for: (setup, grid top [m], grid [m], running minimum of the peak there)
_ENVELOPES: list[tuple[Any, float, NDArray[np.float64], NDArray[np.float64]]] = []
