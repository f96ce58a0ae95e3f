"""Concentrations of the zones' plume: peak and time series on and off the axis (Gaussian
plume or puff, finite-duration release after Palazzi et al. 1982, the dense cloud's
ground-level concentration), the exposure convention's interval means on the fixed time
axis and the level ratio on them, and the flammable mass (see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from plumecast.agents import Agent
from plumecast.nearfield.gaussian import (
    cap_at_pure_vapour,
    peak_finite_duration_factor,
    vertical_term,
)
from plumecast.nearfield.zones.dense_finite import (
    dense_finite_parts,
)
from plumecast.nearfield.zones.setup import (
    MAX_DISTANCE_M,
    Level,
    PlumeSetup,
    _sigmas,
    dense_axis_parts,
    lateral_factor,
    lateral_halfwidth,
    lateral_shape,
)
from plumecast.nearfield.zones.stack import (
    effective_height,
)
from plumecast.nearfield.zones.windowed import (
    LevelRatio,
    WindowSeries,
    as_windows,
    subsample_times,
    windowed_interval_means,
)
from plumecast.units import ppm_to_kg_m3

if TYPE_CHECKING:
    from plumecast.nearfield.zones.dense_twins import TwinStack


def flammable_mass_kg(setup: PlumeSetup, agent: Agent, n_x: int = 160, n_y: int = 48, n_z: int = 48) -> float:
    """Largest mass of agent between the LFL and the UFL in the cloud at one time. [kg] (NaN: no LFL, or a puff)

    Each cross-section of the peak (Palazzi) plume holds ``q/u erf(u T/(2√2 σ_x))`` kilograms
    per metre, spread as its profile: Gaussian in y and z (a stack's centre line rising with
    x); a dense cloud's flat-cored crosswind profile (:func:`lateral_shape`) on the ground,
    with a half-Gaussian depth that holds that mass at its ground-level concentration (the
    workbook gives no depth). The share of each section between ``LFL <= C <= UFL`` (UFL: the
    agent's, else no upper bound), on a grid in x (log), y and z (linear, to 5 widths), times
    its mass, is integrated along the wind over the stretch ``u T`` the release fills at once
    (the largest over the plume), and the sum kept below the mass released. ALOHA reports
    the same quantity for vapour cloud explosion screening.

    Before (zones audit), a dense cloud's section held its ground-level value over the
    ambient σ_z and its Gaussian-equivalent width (7-160 times the release rate for 5 kg/s of
    H2S), and the steady plume was integrated to the LFL distance whatever the duration: 100
    kg/s of ammonia for 60 s gave 9,100 kg, more than the 6,000 kg released.
    """
    lfl = getattr(agent, "lfl_vol_pct", None)
    if lfl is None or setup.duration_s <= 0:
        return math.nan
    from plumecast.countermeasures.front import lfl_kg_m3

    c_lfl = lfl_kg_m3(lfl, agent.molecular_weight_g_mol)
    ufl = getattr(agent, "ufl_vol_pct", None)
    c_ufl = lfl_kg_m3(ufl, agent.molecular_weight_g_mol) if ufl is not None else math.inf
    u = setup.wind_speed_m_s
    xs = np.geomspace(0.1, MAX_DISTANCE_M, 400)
    axis = peak_concentration(setup, xs, np.zeros_like(xs))
    if not np.any(axis >= c_lfl):
        return 0.0
    x_end = float(xs[np.nonzero(axis >= c_lfl)[0][-1]]) * 1.2
    x = np.geomspace(0.1, x_end, n_x)
    sy, sz = _sigmas(setup, x)
    dense = setup.dense is not None
    # the plume's centre line at each x (a stack's rises with x; 0 for the dense cloud on the ground)
    heights = np.zeros(n_x) if dense else np.broadcast_to(np.asarray(effective_height(setup, x), dtype=float), (n_x,))
    q = setup.mass_kg / setup.duration_s
    b, s = lateral_shape(setup, x)
    if dense:
        axis_d, sx, _ = dense_finite_parts(setup, x)
        ff = peak_finite_duration_factor(u, setup.duration_s, sx)
    else:
        ff = peak_finite_duration_factor(u, setup.duration_s, sy)
    section = q / u * ff  # mass per metre of each cross-section [kg m-1]
    per_m = np.zeros(n_x)  # flammable mass per metre of plume [kg m-1]
    for i in range(n_x):
        y = np.linspace(0.0, b[i] + 5.0 * s[i], n_y)
        across = np.exp(-(np.maximum(y - b[i], 0.0) ** 2) / (2 * s[i] ** 2))
        h = float(heights[i])
        if dense:
            # the depth at which the section's mass sits at the ground-level value: a half-Gaussian of σ_d
            lateral_integral = 2.0 * b[i] + math.sqrt(2 * math.pi) * s[i]
            peak = float(axis_d[i]) * ff[i]
            if peak <= 0.0:
                continue
            sd = section[i] / (peak * lateral_integral * math.sqrt(0.5 * math.pi))
            z = np.linspace(0.0, 5.0 * sd, n_z)
            c = peak * across[:, None] * np.exp(-(z[None, :] ** 2) / (2 * sd**2))
        else:
            z = np.linspace(0.0, h + 5.0 * sz[i], n_z)
            vz = vertical_term(z, h, sz[i], setup.mixing_height_m)
            c = (q / (u * math.sqrt(2 * math.pi) * sy[i]) * ff[i]) * across[:, None] * vz[None, :]
        total = 2.0 * np.trapezoid(np.trapezoid(c, z, axis=1), y)
        if total <= 0.0:
            continue
        held = 2.0 * np.trapezoid(np.trapezoid(np.where((c >= c_lfl) & (c <= c_ufl), c, 0.0), z, axis=1), y)
        per_m[i] = section[i] * held / total  # the share of the section's own mass, not the grid's sum
    # the largest mass over a stretch u T of the plume (a release of duration T fills no more at once)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (per_m[1:] + per_m[:-1]) * np.diff(x))])
    length = u * setup.duration_s
    starts = np.concatenate([[0.0], x])
    at_start = np.concatenate([[0.0], cum])
    at_end = np.interp(starts + length, x, cum, left=0.0, right=float(cum[-1]))
    return float(min(np.max(at_end - at_start), setup.mass_kg))



def dense_axis_concentration(setup: PlumeSetup | TwinStack, x_m: Any, sigmas: Any = None,
                             v_passive: Any = None) -> NDArray[np.float64]:
    """Steady plume (or puff-peak) concentration on the axis at the receptor height, dense release. [kg m-3]

    The Britter-McQuaid maximum ground concentration (the workbook curve and its near
    field; beyond the last published curve the passive Gaussian plume (puff) of the
    release from virtual sources matched there,
    :func:`~plumecast.nearfield.zones.setup.far_field_match`) up to the hand-over, the
    first distance beyond the first published curve where the passive Gaussian plume
    (puff) of a ground-level source, at ground level with the σ's of :func:`_sigmas`,
    reaches it; the larger of the two beyond
    (:func:`~plumecast.nearfield.zones.setup.dense_axis_parts`). Continuous at
    every distance and non-increasing beyond the near field; where the passive plume of
    the source takes over the decay becomes slower, never steeper.
    The ground-level value is kept at the receptor height: a mass-consistent
    top-hat depth (``L_V = q0 C0/(2 u L_H C)``) is a few decimetres for most
    releases and would put breathing height above the cloud, which the
    workbook does not support (it correlates ground-level maxima only).
    ``sigmas``: :func:`_sigmas` at ``max(x_m, 1e-3)`` where the caller has it (read once, not again);
    ``v_passive`` as in :func:`~plumecast.nearfield.zones.setup.dense_axis_parts`; a release's puffs stacked
    (:class:`~plumecast.nearfield.zones.dense_twins.TwinStack`) one row a puff.
    """
    dense, passive = dense_axis_parts(setup, x_m, sigmas, v_passive)
    x = np.asarray(x_m, dtype=float)
    return cap_at_pure_vapour(np.where(x < setup.dense.handover_m, dense, np.maximum(dense, passive)),
                              setup.pure_vapour_kg_m3)


def peak_concentration(setup: PlumeSetup, x_m: Any, y_m: Any) -> NDArray[np.float64]:
    """Peak concentration over time at (x, y) at the receptor height. [kg m-3]

    Continuous release of duration T: steady plume times Palazzi's peak factor
    ``erf(u T / (2√2 σ_x))`` with ``σ_x = σ_y``; a dense release of duration T follows
    the workbook's continuous/instantaneous rule
    (:func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts`); instantaneous
    release (T = 0): puff peak ``M V(z) / (2π σ_x σ_y)``. The steady plume (the puff's
    peak) is held at the pure vapour's density (``setup.pure_vapour_kg_m3``), as in the
    series (:func:`concentration_series`).
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    xp = np.maximum(x, 1e-3)
    u = setup.wind_speed_m_s
    if setup.dense is not None:  # (the passive plume's sigmas and vertical term are not read)
        if setup.duration_s > 0:
            axis, sx, _ = dense_finite_parts(setup, xp)
            c = axis * peak_finite_duration_factor(u, setup.duration_s, sx) * lateral_factor(setup, xp, y)
        else:
            c = dense_axis_concentration(setup, xp) * lateral_factor(setup, xp, y)
        return np.where(x > 0, c, 0.0)
    sy, sz = _sigmas(setup, xp)
    v = vertical_term(setup.receptor_height_m, effective_height(setup, xp), sz, setup.mixing_height_m)
    lateral = np.exp(-(y**2) / (2 * sy**2))
    cap = setup.pure_vapour_kg_m3
    if setup.duration_s > 0:
        q = setup.mass_kg / setup.duration_s
        steady = q / (u * np.sqrt(2 * np.pi) * sy) * v
        ff = peak_finite_duration_factor(u, setup.duration_s, sy)
        c = steady * ff * lateral
        # the steady plume held at the pure vapour, then the finite release's factor (as the series)
        c = np.where(steady * lateral > cap, cap * ff, c)
    else:
        c = cap_at_pure_vapour(setup.mass_kg * v / (2 * np.pi * sy * sy) * lateral, cap)
    return np.where(x > 0, c, 0.0)


#: the relative rounding :func:`axis_peak_below` allows a dense release's axis peak above its steady plume: a finite
#: release's peak is that plume's value or lower, then multiplied by the envelope's factor and divided and multiplied
#: again by Palazzi's factor (a few roundings of 1.1e-16 each) [-]
_PEAK_ROUNDING = 1e-9


def axis_peak_below(setup: PlumeSetup, x_m: Any, level: float) -> bool:
    """Whether :func:`peak_concentration` on the axis (y = 0) at ``x_m`` is below ``level`` at every place,
    proven from a dense release's steady plume of its rate alone (:func:`dense_axis_concentration`, one curve):
    a dense release at once reads that value, a finite one (:func:`dense_finite_parts`) never more (its peak is
    the lowest of that plume, its blend and its twins', held to the running minimum, to rounding), and the
    crosswind profile is 1 on the axis. False where this does not prove it (a passive setup, a plume within
    :data:`_PEAK_ROUNDING` of ``level``): the caller reads the peak itself (the ~50 twins of a finite release
    at every place: the pure-vapour note's 2,000 places had been a tenth of a Graniteville call)."""
    if setup.dense is None:
        return False
    xp = np.maximum(np.asarray(x_m, dtype=float), 1e-3)
    return bool(np.all(dense_axis_concentration(setup, xp) * (1.0 + _PEAK_ROUNDING) < level))


@dataclass(frozen=True)
class PlaceProfile:
    """The zones' concentration at some places as an amplitude times a time profile, as
    :func:`~plumecast.nearfield.zones.windowed.windowed_interval_means` takes it (``kind``: "palazzi", the
    finite release's factor, passive or the dense cloud's; "gauss", the dense puff's ``exp(−(x − u t)²/2σ_x²)``;
    "puff", the passive puff ``M × along × across × V`` with ``factors = (across, V)``, each value at most
    ``cap``). ``xp``: the distances, at least 1 mm; ``sx``: the along-wind spread each profile takes. [kg m-3, m]"""

    kind: str
    amplitude: NDArray[np.float64]
    xp: NDArray[np.float64]
    sx: NDArray[np.float64]
    factors: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    cap: float = math.inf


def place_profile(setup: PlumeSetup, x: NDArray[np.float64], y: NDArray[np.float64]) -> PlaceProfile:
    """The profile of :func:`concentration_series` at (x, y) (:class:`PlaceProfile`): the one place the zones'
    series (:func:`exposure_windows`), their analytic samples and the countdowns' closed forms
    (:mod:`plumecast.nearfield.zones.arrival`) take it from."""
    xp = np.maximum(x, 1e-3)
    sy, sz = _sigmas(setup, xp)
    u = setup.wind_speed_m_s
    if setup.dense is not None:
        if setup.duration_s > 0:
            a, sx, _ = dense_finite_parts(setup, xp)
            return PlaceProfile("palazzi", a * lateral_factor(setup, xp, y), xp, sx)
        return PlaceProfile("gauss", dense_axis_concentration(setup, xp) * lateral_factor(setup, xp, y), xp, sy)
    v = vertical_term(setup.receptor_height_m, effective_height(setup, xp), sz, setup.mixing_height_m)
    if setup.duration_s > 0:
        q = setup.mass_kg / setup.duration_s
        steady = q / (u * np.sqrt(2 * np.pi) * sy) * v * np.exp(-(y**2) / (2 * sy**2))
        return PlaceProfile("palazzi", cap_at_pure_vapour(steady, setup.pure_vapour_kg_m3), xp, sy)
    # puff: M along(x, t) across(y) V(z), as plumecast.nearfield.gaussian.puff_concentration
    s = np.maximum(sy, 1e-9)
    across = np.exp(-(y**2) / (2 * s**2)) / (np.sqrt(2 * np.pi) * s)
    return PlaceProfile("puff", np.full(x.size, setup.mass_kg), xp, sy, (across, v), setup.pure_vapour_kg_m3)


def concentration_series(
    setup: PlumeSetup, x_m: Any, y_m: Any, times_s: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Concentration at (x, y) over time, shape (time, receptor). [kg m-3]

    Palazzi et al. (1982) finite-duration plume (or a puff for T = 0), using the
    sigmas at the receptor's downwind distance; zero before the advective front
    (:func:`~plumecast.nearfield.zones.windowed.front_time_s`: the spread at the place
    held at every time put its Gaussian tail at 2 km 1 s after the release start);
    at most the pure vapour's density (``setup.pure_vapour_kg_m3``).
    """
    from plumecast.nearfield.gaussian import finite_duration_factor, puff_concentration
    from plumecast.nearfield.zones.windowed import front_time_s

    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    p = place_profile(setup, x, y)
    xp = p.xp
    t = times_s[:, None]
    u = setup.wind_speed_m_s
    if p.kind == "palazzi":
        c = p.amplitude[None, :] * finite_duration_factor(xp[None, :], t, u, setup.duration_s, p.sx[None, :])
    elif p.kind == "gauss":
        c = p.amplitude[None, :] * np.exp(-((xp[None, :] - u * t) ** 2) / (2 * p.sx[None, :] ** 2))
    else:
        sy, sz = _sigmas(setup, xp)
        c = puff_concentration(
            setup.mass_kg, u, xp[None, :], y[None, :], setup.receptor_height_m, t,
            effective_height(setup, xp), sy[None, :], sy[None, :], sz[None, :], setup.mixing_height_m,
            cap_kg_m3=setup.pure_vapour_kg_m3,
        )
    c = np.where(t >= front_time_s(xp, np.maximum(p.sx, 1e-9), u)[None, :], c, 0.0)
    return np.where(x[None, :] > 0, c, 0.0)


def footprint_halfwidth(
    setup: PlumeSetup, x_m: NDArray[np.float64], threshold_kg_m3: float | NDArray[np.float64]
) -> NDArray[np.float64]:
    """Crosswind half-width where the peak exceeds a threshold. [m] (0 where it does not)

    ``y = b + s sqrt(2 ln(C_cl / C_L))`` from the crosswind profile of
    :func:`~plumecast.nearfield.zones.setup.lateral_shape` (``b = 0``, ``s = σ_y``: a Gaussian);
    ``threshold_kg_m3`` is a scalar or one value per ``x_m``.
    """
    c_cl = peak_concentration(setup, x_m, np.zeros_like(x_m))
    b, s = lateral_shape(setup, np.maximum(x_m, 1e-3))
    with np.errstate(divide="ignore"):
        ratio = np.maximum(c_cl, 1e-300) / threshold_kg_m3
    return np.where(ratio > 1.0, lateral_halfwidth(b, s, 1.0 / np.maximum(ratio, 1.0)), 0.0)



# --------------------------------------------------------------------------- exposure convention

#: Intervals of the exposure time axis (geometric: each interval ~0.9 % longer than the last).
N_TIME_INTERVALS = 1200
#: End of the first interval of the exposure time axis. [s]
FIRST_INTERVAL_S = 1.0
#: Sub-samples averaged into each interval mean.
N_SUBSAMPLES = 4


def exposure_time_axis(setup: PlumeSetup) -> NDArray[np.float64]:
    """Interval ends of the exposure series, seconds after the release start. [s]

    Fixed by the scenario alone (never by which receptors are assessed), geometric
    from :data:`FIRST_INTERVAL_S` to the time the cloud has passed the
    :data:`MAX_DISTANCE_M` search limit, so that the relative resolution (about
    0.9 % of the time since release) suits a puff at 10 m and a plume at 50 km alike.
    """
    sy, _ = _sigmas(setup, np.array([MAX_DISTANCE_M]))
    if setup.instantaneous is not None:  # the puff of a dense release's instantaneous regime may be wider
        sy = np.maximum(sy, _sigmas(setup.instantaneous, np.array([MAX_DISTANCE_M]))[0])
    t_end = setup.duration_s + (MAX_DISTANCE_M + 5.0 * float(sy[0])) / setup.wind_speed_m_s
    return np.geomspace(FIRST_INTERVAL_S, t_end, N_TIME_INTERVALS)


def exposure_windows(setup: PlumeSetup, x_m: Any, y_m: Any, ends_s: NDArray[np.float64]) -> WindowSeries:
    """:func:`exposure_series` stored only over the intervals where it can be non-zero.

    Same values (same operations per value); the cloud passes a place within a short
    stretch of the geometric time axis and the series is exactly zero elsewhere
    (:mod:`plumecast.nearfield.zones.windowed`). ``ends_s`` must increase.
    """
    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    p = place_profile(setup, x, y)
    duration = setup.duration_s if p.kind == "palazzi" else 0.0
    return windowed_interval_means(p.kind, p.amplitude, p.xp, p.sx, setup.wind_speed_m_s, duration,
                                   np.asarray(ends_s, dtype=float), N_SUBSAMPLES, x > 0, p.factors, p.cap)


def exposure_series(setup: PlumeSetup, x_m: Any, y_m: Any, ends_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """Interval-mean concentration at (x, y), shape (time, place). [kg m-3]

    Mean of :data:`N_SUBSAMPLES` mid-point samples of :func:`concentration_series`
    per interval; the intervals run from the release start to each of ``ends_s``.
    Evaluated only where the cloud can be (:func:`exposure_windows`) when ``ends_s``
    increases, which the scenario's axis (:func:`exposure_time_axis`) does.
    """
    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    ends = np.asarray(ends_s, dtype=float)
    if ends.size and ends[0] > 0 and np.all(np.diff(ends) > 0):
        return exposure_windows(setup, x, y, ends).dense()
    sub = subsample_times(ends, N_SUBSAMPLES)
    c = concentration_series(setup, x, y, sub)
    return np.asarray(c.reshape(ends.size, N_SUBSAMPLES, x.size).mean(axis=1), dtype=float)


def level_table_kg_m3(level: Level, agent: Agent) -> NDArray[np.float64]:
    """A level's threshold at the five AEGL durations (constant for a fixed level). [kg m-3]"""
    from plumecast.toxicology import AEGL_DURATIONS_S
    from plumecast.units import P_STANDARD_PA, T_STANDARD_K

    if level.aegl is None:
        return np.full(len(AEGL_DURATIONS_S), level.threshold_kg_m3)
    tab = agent.aegl_table_ppm(level.aegl)
    return np.asarray(ppm_to_kg_m3(tab, agent.molecular_weight_g_mol, T_STANDARD_K, P_STANDARD_PA), dtype=float)


def level_ratio(
    series: NDArray[np.float64] | WindowSeries, ends_s: NDArray[np.float64], table_kg_m3: NDArray[np.float64],
    floor_kg_m3: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Peak ratio of the concentration to a level under the onset convention.

    The convention of :func:`plumecast.consequence.assess`: exposure begins with
    the first interval at or above ``floor_kg_m3`` (a trace below it cannot start
    the clock; for the windows of :func:`exposure_windows`, the first in which the air's
    most reaches it, :mod:`plumecast.nearfield.zones.window_peaks`, as the zones read it;
    for a plain array, the first whose mean does); each interval's air (for the windows of :func:`exposure_windows`
    its most within the interval, at least its mean, as the zones read it; for a plain array, its mean) is compared
    with the level for the exposure duration elapsed from that onset to the interval's end (log-log scaling
    between the tabulated AEGL durations, NRC 2001 sec. 2.7).

    Parameters
    ----------
    series : numpy.ndarray, shape (time, place), or WindowSeries
        Interval-mean concentration (:func:`exposure_windows`'s carry the air's most for the onset). [kg m-3]
    ends_s : numpy.ndarray, shape (time,)
        Interval ends after the release start (the first interval starts at 0). [s]
    table_kg_m3 : numpy.ndarray, shape (5,)
        The level at 10 min, 30 min, 1 h, 4 h, 8 h (:func:`level_table_kg_m3`). [kg m-3]
    floor_kg_m3 : float
        Onset floor (:func:`plumecast.consequence.onset_floor`). [kg m-3]

    Returns
    -------
    ratio : numpy.ndarray, shape (place,)
        ``max_t C / level(t - onset)`` (>= 1: the level is reached). [-]
    elapsed_s : numpy.ndarray, shape (place,)
        Exposure duration at that maximum (NaN: no exposure). [s]
    """
    w = as_windows(series)
    r, e = LevelRatio(w, ends_s, np.asarray(table_kg_m3, dtype=float)[None, :], floor_kg_m3)(np.ones(w.n))
    return r, e
