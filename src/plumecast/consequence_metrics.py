"""Per-receptor exposure figures of :func:`plumecast.consequence.assess`, on bare arrays.

The kernel knows no labels: it takes a ``(time, receptor)`` block of interval-mean
concentrations [kg m-3] and returns, per receptor, the peak, the time exposed,
the first interval at or above each AEGL (read for the exposure duration elapsed
since the onset, :func:`plumecast.toxicology.aegl_loglog_interpolate`), the peak %
of AEGL-3, the toxic load ``sum C^n dt`` and the lethal fraction under each of the
agent's published probit sets (CPR 18E 1999, sec. 5.2.1). :func:`block_metrics`
runs it outdoors and for people sheltering indoors (:mod:`plumecast.shelter`),
block by block so that memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.agents import Agent, ProbitSet
from plumecast.consequence_inputs import TimeAxis
from plumecast.shelter import indoor_concentration
from plumecast.toxicology import (
    AEGL_DURATIONS_S,
    AEGL_LEVELS,
    aegl_loglog_interpolate,
    lethal_fraction_from_probit,
    power_exponent,
    probit_from_load,
)
from plumecast.units import P_STANDARD_PA, SECONDS_PER_HOUR, T_STANDARD_K, ppm_to_kg_m3

_CHUNK_ELEMENTS = 1 << 20  # time x receptor values per block (~8 MB float64 arrays)
#: The onset floor as a fraction of the agent's lowest 8-h AEGL.
ONSET_FLOOR_FRACTION = 0.01


def onset_floor(agent: Agent, temperature_k: float = T_STANDARD_K, pressure_pa: float = P_STANDARD_PA) -> float:
    """Concentration below which exposure has not begun: 1 % of the agent's
    lowest available 8-h AEGL (AEGL-1, else 2, else 3); 0 without AEGLs. [kg m-3]

    A trace far ahead of the cloud (numerical or real) then cannot start the AEGL
    clock, which would shorten the duration the AEGL is read at for the cloud itself.
    """
    for level in AEGL_LEVELS:
        tab = agent.aegl_table_ppm(level)
        finite = tab[np.isfinite(tab)]
        if finite.size:
            low = float(finite.min())
            return ONSET_FLOOR_FRACTION * float(ppm_to_kg_m3(low, agent.molecular_weight_g_mol, temperature_k,
                                                             pressure_pa))
    return 0.0


@dataclass(frozen=True)
class ArrivalFloor:
    """The earliest a level can be reached at each column of a ``(time, column)`` series, where the physics
    knows it: the point releases' near-field air carries a front (the release's start plus the travel time of
    its front, ``(x - sqrt 2 sigma_x) / u``; :meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`'s
    ``front``, zones' :func:`~plumecast.nearfield.zones.windowed.front_time_s`), and none of its air is at a
    place before it. A level that only that air lifts the place to (the other air, the particles' and the
    area plumes', stays below it) is therefore not reached before the front, whatever the steps' means say:
    with 600-s steps the step's mean had dated 3 t of chlorine at 1 km, class F, to "now", 9 min before the
    front (audit 42d, D4). Where the other air alone reaches the level the particles carry no such front,
    and there is no floor.

    ``front_s`` (time, column): the earliest time [s after the release start] the near-field air can have
    been at the column by each step, over the steps so far (inf: none yet; -inf: not known); ``other``
    (time, column): the most of the other air at the column over the steps so far [kg m-3]. The indoor air of
    people sheltering, an evacuee's and a cut release's are that air's or less, and lag it: the floor holds
    for them too."""

    front_s: NDArray[np.float64]
    other: NDArray[np.float64]

    @classmethod
    def of_steps(cls, front_s: NDArray[np.float64], other: NDArray[np.float64]) -> ArrivalFloor:
        """From each step's own earliest near-field arrival [s] and other air [kg m-3], (time, column)."""
        front = np.asarray(front_s, dtype=float)
        air = np.asarray(other, dtype=float)
        if front.shape != air.shape:
            raise ValueError(f"front_s has shape {front.shape}, other {air.shape}; expected the same (time, column)")
        if front.shape[0] == 0:
            return cls(front, air)
        return cls(np.minimum.accumulate(front, axis=0), np.fmax.accumulate(air, axis=0))

    def columns(self, cols: Any) -> ArrivalFloor:
        """The floor of the columns ``cols`` (an index or a slice)."""
        return ArrivalFloor(self.front_s[:, cols], self.other[:, cols])

    def at(self, first: NDArray[np.intp], level: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per column, the earliest time [s] a level of ``level`` [kg m-3] first reached in step ``first``
        (negative: not reached) can be reached: the near-field air's front where the other air up to that
        step stays below the level; NaN where there is no floor (not reached, the other air reaches the
        level, no near-field air, or not known). A step past the series (a plan's clean tail) takes its last."""
        first = np.asarray(first)
        out = np.full(first.shape, np.nan)
        n = self.front_s.shape[0]
        if n == 0:
            return out
        cols = np.arange(first.size)
        k = np.clip(first, 0, n - 1)
        front, other = self.front_s[k, cols], self.other[k, cols]
        with np.errstate(invalid="ignore"):
            use = (first >= 0) & np.isfinite(front) & (other < np.asarray(level, dtype=float))
        out[use] = front[use]
        return out


@dataclass(frozen=True)
class ExposureContext:
    """Everything the per-block kernel needs, precomputed once (SI inside)."""

    end_s: NDArray[np.float64]
    begin_s: NDArray[np.float64]
    lag_tables: dict[int, NDArray[np.float64] | None]  # AEGL [kg m-3] by lag (uniform steps)
    aegl_tables: dict[int, NDArray[np.float64] | None]  # the 5 tabulated AEGLs [kg m-3]
    uniform: bool
    probit: ProbitSet | None
    conc_factor: float  # kg m-3 -> probit concentration unit
    dt_probit: NDArray[np.float64]  # interval lengths in the probit time unit
    floor: float  # onset floor [kg m-3]
    extra_probits: tuple[ProbitSet, ...] = ()  # every published set, for the range
    extra_factors: tuple[float, ...] = ()  # kg m-3 -> each set's concentration unit
    levels: tuple[int, ...] = AEGL_LEVELS  # the AEGL levels whose figures are computed
    lean: bool = False  # a plan's figures only: no peak, time exposed or peak % of AEGL-3


def aegl_threshold(
    ctx: ExposureContext, level: int, lag: NDArray[np.intp] | None, onset: NDArray[np.intp]
) -> NDArray[np.float64] | None:
    """AEGL [kg m-3] for the exposure duration elapsed at each (time, receptor)."""
    if ctx.uniform:
        table = ctx.lag_tables[level]
        return None if table is None or lag is None else table[lag]
    tab = ctx.aegl_tables[level]
    if tab is None:
        return None
    elapsed = ctx.end_s[:, None] - ctx.begin_s[onset][None, :]
    return aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed)


def peak_first_steps(mean: NDArray[np.float64], peak: NDArray[np.float64], ctx: ExposureContext,
                     level: int) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The first step in which the air's peak within the step, ``peak`` (time, column) [kg m-3], reaches
    AEGL-``level``, per column (-1: none, or the AEGL unread), for the countdowns of a cloud that passes
    within a step or two (``city_parts._arrivals_of_peaks``, ``plans.evaluate._peak_arrivals``).

    The AEGL is read for the duration elapsed at the step's *end* since the onset, the start of the first step
    whose ``peak`` (or ``mean``) reaches the onset floor: the peak may come anywhere in the step, and AEGLs fall
    with the duration, so the end's is the lowest level the air can meet within the step, the only reading of a
    bound on the step's air that is never late. The onset is the peak's for the same reason: the air can reach
    the floor anywhere in the first step whose peak does, at the earliest at its start, and a later onset reads
    a shorter duration and a higher level. The means' onset had come a step late where a cloud's front reached
    the floor near a step's end (up to 170 s after the 10-s steps' onset at 900-s steps), and a cloud whose
    peak passed a level where no step's mean reached the floor read "never" (session 49). The level read at
    the step's start, not its end, had read AEGL-2 "never" 23 km from 140 t of chlorine released at once at
    600-s steps, 36 min at 10-s steps, where the onset came 20 min before the peak (session 46). The price is an early arrival where the peak is near the level: a 10-min ammonia
    cloud at 81 % of its 10-min AEGL-3 reads "AEGL-3 in 15 min" at 900-s steps, a level the same run at 10-s
    steps never reaches (review, session 39): early, not late. Second: the AEGL [kg m-3] read in that step
    (NaN where none)."""
    tab = ctx.aegl_tables[level]
    n_time, n_col = mean.shape
    if tab is None or n_time == 0:
        return np.full(n_col, -1, dtype=np.intp), np.full(n_col, np.nan)
    with np.errstate(invalid="ignore"):
        pos = np.asarray((peak >= ctx.floor) | (mean >= ctx.floor) if ctx.floor > 0 else (peak > 0) | (mean > 0),
                         dtype=bool)
    onset = np.argmax(pos, axis=0)
    elapsed = np.maximum(ctx.end_s[:, None] - ctx.begin_s[onset][None, :], 0.0)
    thr = aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed)
    with np.errstate(invalid="ignore"):
        exceed = np.any(pos, axis=0)[None, :] & (peak >= thr)  # NaN AEGL (a gap in the table): not seen
    k = np.where(exceed.any(axis=0), np.argmax(exceed, axis=0), -1).astype(np.intp)
    return k, np.where(k >= 0, thr[np.maximum(k, 0), np.arange(n_col)], np.nan)


def peak_arrivals_s(mean: NDArray[np.float64], peak: NDArray[np.float64], axis: TimeAxis, agent: Agent,
                    levels: tuple[int, ...], floor: ArrivalFloor | None = None) -> dict[int, NDArray[np.float64]]:
    """Per AEGL level in ``levels``, the start [s after the release start] of the first step in which
    ``peak`` reaches it (:func:`peak_first_steps`, with the agent's default context), or ``floor``'s time
    where later (:meth:`ArrivalFloor.at`: the near-field air's front), NaN where none."""
    ctx = exposure_context(agent, axis, agent.probit_set("auto"), onset_floor(agent), T_STANDARD_K, P_STANDARD_PA)
    out = {}
    for level in levels:
        k, thr = peak_first_steps(mean, peak, ctx, level)
        at = axis.begin_s[np.maximum(k, 0)]
        if floor is not None:
            at = np.fmax(at, floor.at(k, thr))
        out[level] = np.where(k >= 0, at, np.nan)
    return out


def time_sum(dt: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_t dt[t] values[t, r]`` for each receptor, in a fixed order per receptor."""
    # column-major: each receptor's column is contiguous and summed on its own (the same
    # pairwise summation whatever the number of columns)
    return np.asarray(np.asfortranarray(dt[:, None] * values).sum(axis=0), dtype=np.float64)


def tail_load(c_end: NDArray[np.float64], rate_per_s: Any, factor: float, ps: ProbitSet) -> NDArray[np.float64]:
    """Toxic load breathed indoors after the end of the series, in ``ps``'s units.

    With clean outdoor air after the series the single-zone indoor level decays as
    ``C(t) = C_end exp(-lambda t)`` (:mod:`plumecast.shelter`), so
    ``int_0^inf C^n dt = C_end^n / (n lambda)`` exactly.

    Parameters
    ----------
    c_end : (receptor,) indoor concentration at the end of the series. [kg m-3]
    rate_per_s : air-exchange rate in effect at the end, scalar or (receptor,). [s-1]
    factor : kg m-3 -> the set's concentration unit.
    ps : the probit set (its ``n`` and time unit).
    """
    lam = np.asarray(rate_per_s, dtype=float) * ps.seconds_per_time_unit  # per probit time unit
    return np.asarray(power_exponent(c_end * factor, ps.n) / (ps.n * lam), dtype=float)


def _lead_s(e: NDArray[np.float64], thr: NDArray[np.float64], first: NDArray[np.intp],
            ctx: ExposureContext) -> NDArray[np.float64]:
    """How long before the start of step ``first`` the air itself can reach the level. [s]

    A step's mean reaches the level ``L`` after the air does: air rising through ``L``
    at ``t*`` inside the step before (``k - 1``) and staying above it adds at least
    ``(end[k-1] - t*) L`` to that step's integral, so ``t* >= end[k-1] - dt[k-1] m[k-1] / L``
    with ``m[k-1]`` the step's mean. The countdown is that bound, never later than the air
    (DESIGN.md, "Honest numbers"): the start of step ``k`` when the step before held no gas,
    up to a whole step earlier when its mean was near the level. ``L`` is the level at the
    end of step ``k - 1`` (an AEGL read for the duration elapsed then, no higher than at any
    earlier moment of the step; step ``k``'s where it cannot be read), so the bound holds for
    a level that falls with the duration too; an unknown mean before (NaN) takes the whole
    step.
    """
    lead = np.zeros(first.shape, dtype=np.float64)
    late = first >= 1
    if not late.any():
        return lead
    cols = np.nonzero(late)[0]
    k = first[cols]
    level = thr[k - 1, cols]
    level = np.where(np.isfinite(level) & (level > 0), level, thr[k, cols])
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = e[k - 1, cols] / level
    frac = np.where(np.isfinite(frac), np.clip(frac, 0.0, 1.0), 1.0)
    span = ctx.end_s[k - 1] - ctx.begin_s[k - 1]
    lead[cols] = np.maximum(ctx.begin_s[k] - (ctx.end_s[k - 1] - span * frac), 0.0)
    return lead


def _first_index(exceed: NDArray[np.bool_], pos: NDArray[np.bool_], thr: NDArray[np.float64],
                 gaps: NDArray[np.float64] | None) -> NDArray[np.intp]:
    """The first step of each column in ``exceed`` (-1: none; -2: n/a). Where the AEGL cannot be read
    for the duration elapsed (a gap in the agent's table, ``gaps``) while the gas is there (``pos``), it
    may be exceeded unseen: a first exceedance after such a step (or none) is n/a (-2), never "never"
    (-1) nor a time that may be late (the peak % of AEGL-3 is then unknown too, :func:`series_metrics`)."""
    hit = exceed.any(axis=0)
    first = np.where(hit, np.argmax(exceed, axis=0), -1)
    blind = pos & np.isnan(thr) if gaps is not None and np.isnan(gaps).any() else None
    if blind is not None and blind.any():
        seen = blind.any(axis=0)
        unread = seen & (~hit | (np.argmax(blind, axis=0) < first))
        first = np.where(unread, -2, first)
    return np.asarray(first, dtype=np.intp)


def series_metrics(
    e: NDArray[np.float64], ctx: ExposureContext, tail: tuple[NDArray[np.float64], Any] | None = None,
    floor: ArrivalFloor | None = None, arrival: NDArray[np.float64] | None = None,
    crossing: Callable[[NDArray[np.intp], NDArray[np.float64]], NDArray[np.float64]] | None = None,
    arrival_onset: NDArray[np.float64] | None = None,
) -> dict[str, NDArray[Any]]:
    """Per-receptor figures for one exposure series ``e`` (time, receptor) [kg m-3].

    ``floor``: the earliest each level can be reached (:class:`ArrivalFloor`); ``floor{level}`` then holds
    it where known (NaN elsewhere), for :func:`plumecast.consequence_result.first_reached_s`.

    ``arrival``: a series (time, receptor) at least ``e`` everywhere whose values bound each interval's
    true mean from above where ``e``'s are approximate (zones: :mod:`plumecast.nearfield.zones.arrival`);
    the first exceedances and their leads (``first{level}``, ``lead{level}``, ``floor{level}``) are then
    read from it, with its own onset, and every other figure from ``e``. None: all from ``e``.

    ``crossing``: with ``arrival`` the most of the air within each step (not its mean), when the air
    reaches the level in step ``first`` given that level (``thr``, (time, receptor)), each as seconds
    after the step's start (0: its start); the countdown is then that moment, not the means' bound
    (:func:`_lead_s`). For the sheltered countdowns of :func:`block_metrics` (:func:`sheltered_bound`).

    ``arrival_onset``: with ``arrival`` the most of the air within each step (time, receptor), at least
    ``arrival``: the countdowns' onset is then the first step whose most reaches the onset floor, the first in
    which the air itself can (as :func:`peak_first_steps`), not the first whose mean does, which can come a step
    late and read a shorter exposure, a higher level (zones' receptors, session 50). The other figures keep
    ``e``'s onset.

    ``tail``: ``(C_end [kg m-3], lambda [s-1])`` of people who stay indoors after the
    series ends; their toxic load then includes :func:`tail_load` (the gas still in
    the building, breathed while it airs out; outdoor air taken as clean after the
    series, so a lower bound of what is breathed afterwards).
    """
    ntime, nrec = e.shape
    pos = e >= ctx.floor if ctx.floor > 0 else e > 0
    onset = np.argmax(pos, axis=0)
    out: dict[str, NDArray[Any]] = {}
    if not ctx.lean:
        out["peak"] = e.max(axis=0) if ntime else np.zeros(nrec)
        # sums over time are taken column by column (never a BLAS product, whose blocking
        # depends on how many receptors are in the batch): a receptor's figures are then
        # bit-identical whatever other receptors are assessed with it
        out["exposed_s"] = time_sum(ctx.end_s - ctx.begin_s, pos.astype(float))
    lag = None
    if ctx.uniform:
        lag = np.arange(ntime, dtype=np.intp)[:, None] - onset[None, :]
        np.maximum(lag, 0, out=lag)  # before onset e == 0, so any positive AEGL is fine
    onset_a, pos_a, lag_a = onset, pos, lag
    if arrival is not None:
        pos_a = arrival >= ctx.floor if ctx.floor > 0 else arrival > 0
        onset_a = np.argmax(pos_a, axis=0)
        if arrival_onset is not None:  # the step in which the air itself can reach the floor
            with np.errstate(invalid="ignore"):
                pos_o = pos_a | (arrival_onset >= ctx.floor if ctx.floor > 0 else arrival_onset > 0)
            onset_a = np.where(pos_o.any(axis=0), np.argmax(pos_o, axis=0), onset_a)
        if ctx.uniform:
            lag_a = np.maximum(np.arange(ntime, dtype=np.intp)[:, None] - onset_a[None, :], 0)
    for level in ctx.levels:
        thr = aegl_threshold(ctx, level, lag, onset)
        if thr is None:
            out[f"first{level}"] = np.full(nrec, -2, dtype=np.intp)
            out[f"lead{level}"] = np.zeros(nrec)
            if level == 3:
                out["pct3"] = np.full(nrec, np.nan)
            continue
        if level == 3:
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = e / thr
            exceed = ratio >= 1.0
            if not ctx.lean:
                out["pct3"] = 100.0 * np.fmax.reduce(ratio, axis=0)
        else:
            exceed = e >= thr
        gaps = ctx.aegl_tables[level]
        if level == 3 and not ctx.lean and gaps is not None and np.isnan(gaps).any():
            # the peak % of AEGL-3 is n/a wherever some step with gas (at or above the onset
            # floor or not: a trace below it too) has an AEGL-3 the table cannot give for the
            # duration reached there: that step's % is unknown and may be the peak. (Taking the
            # peak over the readable steps only reported 4.9e-48 % for a trace whose one
            # readable step, at exactly the table's 60 min, came after the cloud had passed,
            # where the trace's own peak was about 0.03 % of the 60-min AEGL-3.)
            with np.errstate(invalid="ignore"):
                gas = e > 0
            out["pct3"] = np.where((gas & np.isnan(thr)).any(axis=0), np.nan, out["pct3"])
        e_at, pos_at = e, pos
        if arrival is not None:  # the countdowns from the bound of each interval's mean, with its own onset
            e_at, pos_at = arrival, pos_a
            thr_a = aegl_threshold(ctx, level, lag_a, onset_a)
            assert thr_a is not None  # the same table as thr's
            thr = thr_a
            with np.errstate(invalid="ignore", divide="ignore"):
                exceed = arrival / thr >= 1.0 if level == 3 else arrival >= thr
        first = _first_index(exceed, pos_at, thr, gaps)
        out[f"first{level}"] = first
        out[f"lead{level}"] = -crossing(first, thr) if crossing is not None else _lead_s(e_at, thr, first, ctx)
        if floor is not None:
            out[f"floor{level}"] = floor.at(first, thr[np.maximum(first, 0), np.arange(nrec)] if ntime else
                                            np.full(nrec, np.nan))
    if ctx.probit is not None:
        scaled = e * ctx.conc_factor
        out["load"] = time_sum(ctx.dt_probit, power_exponent(scaled, ctx.probit.n))
        if tail is not None:
            out["load"] = out["load"] + tail_load(tail[0], tail[1], ctx.conc_factor, ctx.probit)
    else:
        out["load"] = np.full(nrec, np.nan)
    fracs = []
    for ps, factor in zip(ctx.extra_probits, ctx.extra_factors, strict=True):
        dtp = (ctx.end_s - ctx.begin_s) / ps.seconds_per_time_unit
        load = time_sum(dtp, power_exponent(e * factor, ps.n))
        if tail is not None:
            load = load + tail_load(tail[0], tail[1], factor, ps)
        fracs.append(lethal_fraction_from_probit(probit_from_load(load, ps.a, ps.b)))
    out["frac_sets"] = np.array(fracs) if fracs else np.zeros((0, nrec))
    return out



def exposure_context(
    agent: Agent,
    axis: TimeAxis,
    ps: ProbitSet | None,
    floor: float,
    temperature_k: float,
    pressure_pa: float,
) -> ExposureContext:
    """Everything :func:`series_metrics` needs for ``agent`` on ``axis``: the AEGL
    tables in kg m-3 (and, for uniform steps, read at each lag once), the probit set
    ``ps`` and every published set for the range, and the onset ``floor``. [kg m-3]"""
    mw = agent.molecular_weight_g_mol
    ntime = axis.end_s.size
    dt = axis.dt_s
    uniform = bool(np.allclose(dt, dt[0], rtol=1e-9, atol=0.0))
    durations = list(AEGL_DURATIONS_S.values())
    aegl_tables: dict[int, NDArray[np.float64] | None] = {}
    lag_tables: dict[int, NDArray[np.float64] | None] = {}
    for level in AEGL_LEVELS:
        tab_ppm = agent.aegl_table_ppm(level)
        if np.all(np.isnan(tab_ppm)):
            aegl_tables[level] = lag_tables[level] = None
            continue
        tab = ppm_to_kg_m3(tab_ppm, mw, temperature_k, pressure_pa)
        aegl_tables[level] = tab
        lag_tables[level] = aegl_loglog_interpolate(durations, tab, dt[0] * np.arange(1, ntime + 1))
    all_sets = tuple(agent.probits.values()) if ps is not None and len(agent.probits) > 1 else ()
    return ExposureContext(
        end_s=axis.end_s,
        begin_s=axis.begin_s,
        lag_tables=lag_tables,
        aegl_tables=aegl_tables,
        uniform=uniform,
        probit=ps,
        conc_factor=ps.concentration_factor(mw, temperature_k, pressure_pa) if ps else 1.0,
        dt_probit=dt / ps.seconds_per_time_unit if ps else dt,
        floor=floor,
        extra_probits=all_sets,
        extra_factors=tuple(q.concentration_factor(mw, temperature_k, pressure_pa) for q in all_sets),
    )


def _join(key: str, parts: list[NDArray[Any]]) -> NDArray[Any]:
    """The receptor blocks of one figure put back together along the receptor axis
    (the last axis: ``frac_sets`` is (probit set, receptor))."""
    if not parts:
        return np.zeros(0)
    return np.concatenate(parts, axis=-1)


def sheltered_bound(
    peak: NDArray[np.float64], ctx: ExposureContext, weights: NDArray[np.float64], ach: Any,
) -> tuple[NDArray[np.float64], Callable[[NDArray[np.intp], NDArray[np.float64]], NDArray[np.float64]]]:
    """The most of the air people sheltering breathe within each step, from the most of the outdoor air
    within it (``peak``, (time, receptor) [kg m-3]), and when that bound reaches a level (for
    :func:`series_metrics`'s ``crossing``).

    The building (:mod:`plumecast.shelter`) is linear, ``dC_in/dt = λ (C_out − C_in)`` from clean air,
    so an outdoor air that is nowhere lower gives an indoor air that is nowhere lower at every moment
    (the difference ``D`` obeys ``dD/dt = λ (ΔC_out) − λ D >= −λ D`` from ``D = 0``). Fed with each
    step's most of the outdoor air, held over the step (exact per step, at the step's rates ``ach``),
    the indoor air ``B`` bounds the building's air under the true outdoor air from above at every
    moment; within a step it relaxes monotonically towards the step's value, so its most there is at
    the step's start or end. People inside for the whole step (``weights`` 1) breathe at most that;
    outdoors part of it, at most the larger of it and the outdoor air's most. The level a step is
    compared with is the AEGL read at the step's end (the longest duration, the lowest level), so no
    moment of a step whose bound stays below it can reach it.

    The crossing: where people are inside for the whole step and ``B`` rises through the level ``L``
    within it, at ``τ = ln((P − B0)/(P − L))/λ`` after its start (``P`` the step's outdoor most, ``B0``
    the indoor air at its start: the exact moment ``B`` reaches ``L``, no later than the building's
    true air does); otherwise the step's start."""
    dt = ctx.end_s - ctx.begin_s
    _, b_end = indoor_concentration(peak, dt, ach)
    b_start = np.concatenate([np.zeros((1,) + peak.shape[1:]), b_end[:-1]], axis=0)
    b_max = np.maximum(b_start, b_end)
    w = weights[:, None]
    most = np.where(w >= 1.0, b_max, np.where(w <= 0.0, peak, np.maximum(peak, b_max)))
    rate = np.broadcast_to(np.asarray(ach, dtype=float) / SECONDS_PER_HOUR, peak.shape)

    def crossing(first: NDArray[np.intp], thr: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros(first.shape, dtype=np.float64)
        cols = np.nonzero(first >= 0)[0]
        if cols.size == 0:
            return out
        k = first[cols]
        level, b0, b1, p = thr[k, cols], b_start[k, cols], b_end[k, cols], peak[k, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            rises = (weights[k] >= 1.0) & (b0 < level) & (level <= b1) & (p > level)
            tau = np.log1p((level - b0) / (p - level)) / rate[k, cols]
        out[cols] = np.where(rises, np.clip(tau, 0.0, dt[k]), 0.0)
        return out

    return np.asarray(most, dtype=float), crossing


def outdoors_first(outdoor: dict[str, NDArray[Any]], inside: dict[str, NDArray[Any]], ctx: ExposureContext,
                   start_s: float) -> None:
    """Give the sheltered figures ``inside`` (:func:`series_metrics` of what people who go inside at ``start_s``
    [s after the release start] breathe) the outdoor arrival of ``outdoor`` wherever it comes before
    ``start_s`` and theirs is later or never, in place.

    Until they go in, they breathe the outdoor air itself, so where it reaches a level before then, so does
    theirs; and the outdoor countdown is never later than the outdoor air. Their own series cannot show it
    where they go in within a step: that step's value mixes the step's outdoor and indoor means, weighted by
    the time spent in each, and may stay below a level the outdoor air reached before they went in (12 t of
    chlorine over 20 min, class D, 3 m/s, 2 km out, inside at 24 min, 300- and 600-s steps: AEGL-3 sheltered
    "never", the outdoor air's 23.7 min at 10-s steps). Where theirs is n/a (an AEGL unread) it stays so."""
    if ctx.begin_s.size == 0:
        return
    for level in ctx.levels:
        key = f"first{level}"
        if key not in outdoor or key not in inside:
            continue
        f_out, f_in = outdoor[key], inside[key]
        t_out = ctx.begin_s[np.maximum(f_out, 0)] - outdoor[f"lead{level}"]
        t_in = ctx.begin_s[np.maximum(f_in, 0)] - inside[f"lead{level}"]
        if f"floor{level}" in outdoor:
            t_out = np.fmax(t_out, outdoor[f"floor{level}"])
            t_in = np.fmax(t_in, inside[f"floor{level}"])
        take = (f_out >= 0) & (t_out < start_s) & ((f_in == -1) | ((f_in >= 0) & (t_in > t_out)))
        if not take.any():
            continue
        for name in (key, f"lead{level}", f"floor{level}"):
            if name in outdoor and name in inside:
                inside[name] = np.where(take, outdoor[name], inside[name])


def block_metrics(
    values: NDArray[np.float64],
    ctx: ExposureContext,
    weights: NDArray[np.float64],
    ach: Any,
    keep_indoor: bool,
    sheltered: bool = True,
    floor: ArrivalFloor | None = None,
    arrival: NDArray[np.float64] | None = None,
    arrival_peak: NDArray[np.float64] | None = None,
) -> tuple[dict[str, NDArray[Any]], dict[str, NDArray[Any]], NDArray[np.float64] | None]:
    """:func:`series_metrics` outdoors and for people sheltering, receptor block by block.

    Parameters
    ----------
    values : (time, receptor) outdoor interval-mean concentration. [kg m-3]
    ctx : from :func:`exposure_context`.
    weights : (time,) fraction of each interval spent indoors. [-]
    ach : air changes per hour, a scalar or (time, receptor). [h-1]
    keep_indoor : also return the (time, receptor) indoor concentration. [kg m-3]
    sheltered : False: the outdoor figures only (the sheltered ones empty, no indoor series).
    floor : the earliest each receptor can reach a level (:class:`ArrivalFloor`), outdoors and sheltered.
    arrival : (time, receptor) what the first exceedances are read from outdoors, and through the same
        building indoors (:func:`series_metrics`'s ``arrival``); None: ``values``. [kg m-3]
    arrival_peak : (time, receptor) the most of the outdoor air within each step (at least ``values`` and
        ``arrival``): the sheltered countdowns are then read from the building fed with it, a bound of the
        indoor air at every moment, and dated at the moment that bound reaches the level
        (:func:`sheltered_bound`); None: from ``arrival`` (or ``values``) through the building, interval
        means. [kg m-3]

    Returns
    -------
    The outdoor figures, the sheltered figures and the indoor series (or None).
    """
    ntime, nrec = values.shape
    dt = ctx.end_s - ctx.begin_s
    all_inside = bool(np.all(weights == 1.0))
    indoor = np.empty_like(values) if keep_indoor and sheltered else None
    block = max(1, _CHUNK_ELEMENTS // max(ntime, 1))
    res_out: dict[str, list[NDArray[Any]]] = {}
    res_in: dict[str, list[NDArray[Any]]] = {}
    inside_at = np.flatnonzero(weights > 0.0)  # when people go inside: within the first step with some indoors
    start_s = float(ctx.end_s[inside_at[0]] - weights[inside_at[0]] * dt[inside_at[0]]) if inside_at.size else np.inf
    for lo in range(0, nrec, block):
        c_out = np.ascontiguousarray(values[:, lo : lo + block])
        fl = None if floor is None else floor.columns(slice(lo, lo + block))
        a_out = None if arrival is None else np.ascontiguousarray(arrival[:, lo : lo + block])
        if not sheltered:
            for key, arr in series_metrics(c_out, ctx, None, fl, a_out).items():
                res_out.setdefault(key, []).append(arr)
            continue
        ach_b = ach if np.ndim(ach) == 0 else ach[:, lo : lo + block]
        c_in, c_in_end = indoor_concentration(c_out, dt, ach_b)
        if indoor is not None:
            indoor[:, lo : lo + block] = c_in
        exposure_in = (
            c_in if all_inside else (1.0 - weights)[:, None] * c_out + weights[:, None] * c_in
        )
        # people inside at the end of the series keep breathing the building's air
        # while it airs out (at the rate in effect at the end): the load of that tail
        tail = None
        if ntime and weights[-1] > 0:
            rate_end = (ach_b if np.ndim(ach_b) == 0 else ach_b[-1]) / SECONDS_PER_HOUR
            tail = (c_in_end[-1], rate_end)
        a_in, cross = None, None
        if arrival_peak is not None:  # the most of the indoor air of a building fed the outdoor air's most
            a_in, cross = sheltered_bound(np.ascontiguousarray(arrival_peak[:, lo : lo + block]), ctx, weights,
                                          ach_b)
            a_in = np.fmax(a_in, exposure_in)
        elif a_out is not None:  # the indoor air of the bound, as the building takes the outdoor air
            a_c_in, _ = indoor_concentration(a_out, dt, ach_b)
            a_in = np.fmax(a_c_in if all_inside else (1.0 - weights)[:, None] * a_out + weights[:, None] * a_c_in,
                           exposure_in)
        # outdoors the countdowns' onset from the air's most within each step where it is given (zones); indoors
        # a_in is already the most of the building's air
        p_out = None if arrival_peak is None or a_out is None else arrival_peak[:, lo : lo + block]
        got = [series_metrics(series, ctx, tl, fl, arr_s, cr, on) for series, tl, arr_s, cr, on in (
            (c_out, None, a_out, None, p_out), (exposure_in, tail, a_in, cross, None))]
        if arrival_peak is None:  # (the building fed the outdoor air's most holds it already)
            outdoors_first(got[0], got[1], ctx, start_s)
        for store, figures in zip((res_out, res_in), got, strict=True):
            for key, arr in figures.items():
                store.setdefault(key, []).append(arr)
    outdoor = {k: _join(k, v) for k, v in res_out.items()}
    inside = {k: _join(k, v) for k, v in res_in.items()}
    return outdoor, inside, indoor
