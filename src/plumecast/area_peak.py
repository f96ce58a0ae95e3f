"""The area plumes' air within a step, for the countdowns: its largest value, not the step's snapshot.

:meth:`plumecast.exposure_area.AreaNearField.add_step` gives the receptors near a city disc
the disc's plume at each step's end, from each step's mean emission rate. A release that
starts, stops or changes within a step is spread over it, and its air passes a place within
the step at a level no step's value reads: 5 min of Utrecht's emission (600-s steps) read
AEGL-2 "never" 6.5 km downwind of its centre, where 10-s steps reach it at 5.7 min (session 46),
as the point releases' passing cloud had before session 39
(:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`'s ``peak``). Here each step
also gets the plume of each emission step's largest rate over it and the step before
(:func:`peak_factor`), which bounds the air at every moment of the step
(:meth:`~plumecast.exposure_area.AreaNearField.add_step` with the peaks' rates); what it adds above the step's
air is kept beside the exposure (:attr:`plumecast.exposure.ReceptorExposure.peak_extra` for
the receptors, ``area_spot_peak`` for the discs' most exposed points, ``area_part_peak`` for
their parts) and read by the countdowns alone: the doses, loads and peaks stay the steps'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: The length of the parts of a step the area plumes' peaks are read on (:func:`area_peaks`): a step of ``dt`` is
#: cut into ``round(dt / PART_S)`` parts (at least one). The bound lets a release of duration ``D`` pass as one of
#: ``D + 2 PART_S`` at its largest rate at most (60 s: 10 kernels a 600-s step where it is read; 30 s cost 4 times
#: as much in the demo's compare). [s]
PART_S = 60.0
#: :func:`area_peaks` reads the air at each part's end where the coarse bound exceeds the step's air by more than
#: this share at a place where a level is at stake (:func:`at_stake`); a bound within it is kept (a rate that changes
#: slowly, as the demo's emitters' ramp, keeps its coarse bound within a few per cent of the air and needs no kernel)
LOOSE = 0.25


def peak_factor(groups: list[Any], dt_s: float, n_steps: int, back: int) -> NDArray[np.float64]:
    """``(group, step)``: each area group's largest emission rate over ``[(k - back) dt, (k + 1) dt)``,
    over its base rate, for each step ``k`` of ``dt_s`` (0 for the other groups). The rate is linear
    between the group's knots (rate-table edges, profile hours, start, stop:
    :attr:`plumecast.release.SourceGroup._emitted_knots`), so its largest value over a window is at the
    window's ends or at a knot inside it, each side of the knot."""
    out = np.zeros((len(groups), n_steps))
    if n_steps == 0:
        return out
    edges = np.arange(n_steps + 1, dtype=float) * dt_s
    eps = 1e-6 * dt_s
    for g, grp in enumerate(groups):
        base = float(np.sum(grp.rate_kg_s))
        if not grp.area or base <= 0.0:
            continue
        knots = np.asarray(grp._emitted_knots[0], dtype=float)
        t = np.unique(np.concatenate([edges, edges - eps, knots, knots - eps]))
        t = t[(t >= 0.0) & (t < edges[-1])]
        rate = np.asarray(grp.group_rate(t), dtype=float) / base
        lo = np.searchsorted(t, np.maximum(edges[:-1] - back * dt_s, 0.0), side="left")
        hi = np.searchsorted(t, edges[1:], side="left")
        top = np.zeros(n_steps)
        some = hi > lo
        if some.any():
            idx = np.empty(2 * int(some.sum()), np.int64)
            idx[0::2], idx[1::2] = lo[some], hi[some]
            top[some] = np.maximum.reduceat(np.append(rate, 0.0), idx)[0::2]
        out[g] = top
    return out


def peak_rates(area: Any, groups: list[Any], factor: NDArray[np.float64]) -> None:
    """Set :class:`plumecast.exposure_area.AreaNearField` ``area``'s rates for its peaks (its ``peak_parts``,
    ``peak_coarse``, ``peak_cum``, ``peak_bins``, ``peak_differs``) from the run's groups and ``factor`` (group, step), each
    step's mean rate over the group's base rate (the particles'); none where no rate changes within a step."""
    from plumecast.nearfield.area_source import emission_integral

    dt, n_steps = area.dt_s, factor.shape[1]
    if np.unique(area.bin_of_step[:n_steps]).size > 1:  # emission tags: a plan's cut can make its own cloud
        area.edge_rates = np.ascontiguousarray(peak_factor(groups, dt, n_steps, 1))
    n = max(1, int(round(dt / PART_S)))
    wide = peak_factor(groups, dt / n, n_steps * n, n)
    mean = np.repeat(factor, n, axis=1)
    # the area groups' alone (the others have no area plume; their rates are never read here)
    off = (np.abs(wide - mean) > 1e-9 * np.maximum(mean, 1e-300)) & np.array([bool(g.area) for g in groups])[:, None]
    differs = off.reshape(len(groups), n_steps, n).any(axis=(0, 2))
    if not differs.any():
        return
    narrow = wide if n == 1 else peak_factor(groups, dt / n, n_steps * n, 1)
    coarse = peak_factor(groups, dt, n_steps, 1)
    area.peak_parts = n
    area.peak_coarse = (np.ascontiguousarray(coarse), emission_integral(coarse, dt))
    area.peak_cum = emission_integral(narrow, dt / n)
    area.peak_bins = np.ascontiguousarray(np.repeat(area.bin_of_step, n), np.int64)
    area.peak_differs = differs


@dataclass(frozen=True)
class Stakes:
    """The levels the countdowns read, for where the area plumes' finer peaks are worth reading
    (:func:`area_peaks`): each AEGL level's table at 25 °C, (level, duration) [kg m-3], and the onset floor
    (:func:`plumecast.consequence_metrics.onset_floor`) [kg m-3]."""

    tables: NDArray[np.float64]
    floor: float

    def at(self, elapsed_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each level's value read for the durations ``elapsed_s`` (per place), (level, place) [kg m-3] (NaN:
        none): as :func:`plumecast.consequence_metrics.peak_first_steps` reads it."""
        from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

        return np.array([aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed_s)
                         for tab in self.tables]).reshape(len(self.tables), -1)


def stake_levels(agent: Any) -> Stakes | None:
    """:class:`Stakes` of ``agent``; None without AEGL tables (every place is then at stake)."""
    from plumecast.consequence_metrics import onset_floor
    from plumecast.toxicology import AEGL_LEVELS
    from plumecast.units import ppm_to_kg_m3

    table = getattr(agent, "aegl_table_ppm", None)
    if table is None:
        return None
    mw = float(agent.molecular_weight_g_mol)
    return Stakes(np.array([ppm_to_kg_m3(np.asarray(table(level), dtype=float), mw) for level in AEGL_LEVELS]),
                  float(onset_floor(agent)))


#: a place is refined where its coarse bound comes within this share of a level it has not reached; a level is
#: reached at a place where its air with its peak within a step came to it (at the duration elapsed since the
#: air's onset there by the step's end, as the countdowns read it). The choice never makes a countdown late (a
#: place not refined keeps the coarse bound, higher), only maybe earlier than the finer bound would (where it errs)
STAKE_MARGIN = 0.9


@dataclass
class Seen:
    """What :func:`reached` has read of the air at each place (receptors, spots, parts): up to which step, each
    place's onset step (the first whose air with its peak within the step reaches the onset floor, as
    :func:`plumecast.consequence_metrics.peak_first_steps` reads it, session 49; -1: not yet) and which levels it
    has reached, (level, place)."""

    upto: int
    onset: list[NDArray[np.int64]]
    done: list[NDArray[np.bool_]]


def _places(sampler: Any, k: int) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """The air of step ``k`` at the receptors, spots and parts (summed over the tags), and with its peak within
    the step: at a receptor its total (``peak_extra``), at a spot its receptor's with the spot's extra and peak,
    at a part the area plumes' there with its peak."""
    area = sampler.area
    total = sampler.conc[:, k, :].sum(axis=0)
    mean = [total, total[area.spot_receptors] + sampler.spot_extra[:, k, :].sum(axis=0),
            sampler.area_part_c[:, k, :].sum(axis=0)]
    return mean, [mean[0] + sampler.peak_extra[k], mean[1] + sampler.area_spot_peak[k],
                  mean[2] + sampler.area_part_peak[k]]


def reached(sampler: Any, stakes: Stakes, step: int) -> Seen:
    """:class:`Seen` of the steps before ``step``, from the exposure written so far: read on from where the last
    call stopped, again from the start after a resume (the same either way)."""
    area = sampler.area
    seen = area.peak_seen
    if seen is None or seen.upto > step:
        sizes = (sampler.conc.shape[2], area.spot_receptors.size, sampler.area_part_c.shape[2])
        seen = Seen(0, [np.full(n, -1, np.int64) for n in sizes],
                    [np.zeros((len(stakes.tables), n), np.bool_) for n in sizes])
    for k in range(seen.upto, step):
        mean, peaked = _places(sampler, k)
        for i in range(3):
            onset = seen.onset[i]
            onset[(onset < 0) & ((peaked[i] >= stakes.floor) | (mean[i] >= stakes.floor))] = k
            with np.errstate(invalid="ignore"):
                seen.done[i] |= peaked[i][None, :] >= stakes.at(np.where(onset >= 0, k - onset + 1, 0) * sampler.dt_s)
    seen.upto = step
    area.peak_seen = seen
    return seen


def at_stake(stakes: Stakes | None, seen: Seen | None, i: int, step: int, dt_s: float, mean: NDArray[np.float64],
             bound: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Where the bound ``bound`` on the air of step ``step`` at places ``i`` (0 receptors, 1 spots, 2 parts)
    can make a countdown sooner: it comes within :data:`STAKE_MARGIN` of a level the place has not reached
    before (``seen``), read for the duration elapsed since its onset (this step where ``bound`` or ``mean``, the
    step's air, reaches the onset floor first) by the step's end.
    Everywhere where ``stakes`` is None."""
    if stakes is None or seen is None:
        return np.ones(bound.shape, np.bool_)
    onset = np.where((seen.onset[i] < 0) & ((bound >= stakes.floor) | (mean >= stakes.floor)), step, seen.onset[i])
    level = stakes.at(np.where(onset >= 0, step - onset + 1, 0) * dt_s)
    with np.errstate(invalid="ignore"):
        return np.asarray((~seen.done[i] & (bound[None, :] >= STAKE_MARGIN * level)).any(axis=0))


def coarse_peaks(area: Any, step: int, n_tags: int, wind_at: Any, burn_s: Any, n_spot: int,
                 n_parts: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The plumes at the end of step ``step`` of each emission step's largest rate over it and the step
    before (``peak_coarse``, :func:`peak_rates`), summed over the tags, at the receptors, spots and parts
    [kg m-3]: made as the step's own air is (:meth:`plumecast.exposure_area.AreaNearField.add_step`: under
    steady winds a sum over the bins kept for them, one more kernel at most otherwise)."""
    conc = np.zeros((n_tags, area.rec_ptr.size - 1))
    spot, parts = np.zeros((n_tags, n_spot)), np.zeros((n_tags, n_parts))
    area.add_step(step, conc, np.zeros(conc.shape[1], np.bool_), wind_at, burn_s, spot, parts, peak=True)
    return conc.sum(axis=0), spot.sum(axis=0), parts.sum(axis=0)


def ratio_peaks(area: Any, first: int, step: int, n_groups: int, air: NDArray[np.float64], spot: NDArray[np.float64],
                parts: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...] | None:
    """A bound on the coarse peaks (:func:`coarse_peaks`) from the step's own air by tag ``(tag, place)`` at the
    receptors, spots and parts, with no kernel: a place's air of a group is ``Σ w_b m_b`` over the emission
    steps ``b`` its plumes hold (``w_b >= 0``, ``m_b`` the step's mean rate) and the coarse peak ``Σ w_b g_b``
    (``g_b`` the largest rate over ``b`` and the step before), so the coarse peak is at most the air times the
    largest ``g_b / m_b`` over the steps held, ``first .. step`` (:meth:`plumecast.exposure_area.AreaNearField.peak_first`).
    Under a rising or slowly changing rate (the demo's emitters) that ratio is near 1; None where some step held
    has a rate after a step of none (a release's stop: the coarse peaks are made then)."""
    assert area.peak_coarse is not None
    g = area.peak_coarse[0][:, first:step + 1]
    m = area._rates[:, first:step + 1]
    if ((g > 0.0) & (m <= 0.0)).any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(g > 0.0, g / m, 1.0).max(axis=1, initial=1.0)  # per group
    by_tag = ratio[np.arange(air.shape[0]) % n_groups]
    return tuple(np.asarray(by_tag @ a, dtype=float) for a in (air, spot, parts))


def area_peaks(area: Any, step: int, n_tags: int, wind_at: Any, burn_s: Any, air: NDArray[np.float64],
               spot_air: NDArray[np.float64], parts_air: NDArray[np.float64],
               stake: Any = None, cheap: Any = None
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The most the area plumes' air can be within step ``step`` ``[t0, t1]`` at each receptor (its mean over
    its disc's sample points), each disc's most exposed point and each part of a disc [kg m-3], given their
    air of the step (``air``, ``spot_air``, ``parts_air``, summed over the tags).

    A place's air at ``t`` is ``∫ f(t - s) dμ(s)`` over the travel times ``s`` of the plume's air (its
    front's, :func:`plumecast.nearfield.area_source.front_distance`; ``μ >= 0``), ``f`` the emission rate.
    For ``t = t1 - θ``, ``0 <= θ <= Δ = t1 - t0``, ``f(t - s) <= h(t1 - s)`` with ``h(e)`` the largest rate
    over ``[e - Δ, e]``: the plume at ``t1`` of ``h`` bounds the air at every moment of the step, and so does
    that of any rate above ``h``: the coarse bound reads, for each emission step, the largest rate over it and
    the step before (:func:`peak_factor`), on the step's own bins. Where that bound exceeds the step's air by
    more than :data:`LOOSE` (a release shorter than a step passes: the bound holds it up to two steps longer),
    the same bound is read at the end of each part of the step (:data:`PART_S`) with the largest rates over
    each part before (``Δ`` a part): the least of the two bounds holds. A steady rate gives the step's own air.

    ``stake(i, bound)``: where the places ``i`` (0 receptors, 1 spots, 2 parts) with this coarse bound can
    have a countdown made sooner by it (:func:`at_stake`). The finer bound is read only where the coarse one is
    loose and at stake, at their receptors alone (the pairs of the others are left out of the kernels), and
    not at all where there are none: a place whose bound stays below every level it has not reached keeps
    the coarse bound (higher: a countdown no later). None: wherever the coarse bound is loose.

    The coarse bound (:func:`coarse_peaks`) takes the largest rate over each emission step and the one before,
    so it costs what the step's own air does (under steady winds a sum over the bins kept for them); the finer
    one (:meth:`plumecast.exposure_area.AreaNearField.peak_at`) is a kernel on bins of a part per part.
    """
    n = area.peak_parts
    end = (step + 1) * n

    def needs(bounds: Any) -> list[NDArray[np.bool_]]:
        loose = [b > (1.0 + LOOSE) * a + 1e-30 for b, a in zip(bounds, (air, spot_air, parts_air), strict=True)]
        if stake is None or not any(bool(m.any()) for m in loose):
            return loose
        return [m & stake(i, b) if m.any() else m for i, (m, b) in enumerate(zip(loose, bounds, strict=True))]

    if cheap is not None and not any(bool(m.any()) for m in needs(cheap)):
        return cheap
    top, top_spot, top_parts = coarse_peaks(area, step, n_tags, wind_at, burn_s, spot_air.size, parts_air.size)
    if cheap is not None:
        top, top_spot, top_parts = (np.minimum(a, b) for a, b in zip((top, top_spot, top_parts), cheap, strict=True))
    loose = needs((top, top_spot, top_parts))
    if n == 1 or not any(bool(m.any()) for m in loose):
        return top, top_spot, top_parts
    only = loose[0].copy()  # the receptors whose place (itself, its spot, a part) needs the finer bound
    only[area.spot_receptors[loose[1]]] = True
    if loose[2].any():
        only[area.part_receptors[np.searchsorted(area.part_ptr, np.flatnonzero(loose[2]), side="right") - 1]] = True
    fine, fine_spot, fine_parts = np.zeros(top.size), np.zeros(spot_air.size), np.zeros(parts_air.size)
    one_spot, one_parts = np.zeros(spot_air.size), np.zeros(parts_air.size)
    for part in range(end - n + 1, end + 1):
        np.maximum(fine, area.peak_at(part, n_tags, wind_at, burn_s, one_spot, one_parts, only), out=fine)
        np.maximum(fine_spot, one_spot, out=fine_spot)
        np.maximum(fine_parts, one_parts, out=fine_parts)
    # the least of the two where the finer one was read (0 elsewhere: not read)
    spots = only[area.spot_receptors]
    parts = np.repeat(only[area.part_receptors], np.diff(area.part_ptr)) if top_parts.size else np.zeros(0, bool)
    top = np.where(only, np.minimum(top, fine), top)
    top_spot = np.where(spots, np.minimum(top_spot, fine_spot), top_spot)
    top_parts = np.where(parts, np.minimum(top_parts, fine_parts), top_parts)
    area.peak_refined += int(only.sum())
    return top, top_spot, top_parts


def area_steps(sampler: Any, step0: int, nsteps: int, wind_at: Any) -> None:
    """Add the area plumes of steps ``step0 ..`` to :class:`plumecast.exposure.ExposureSampler`
    ``sampler``'s receptors, their discs' most exposed points and parts, and keep what their peaks
    within each step (:func:`area_peaks`) add above those steps' air: to ``peak_extra`` and ``area_peak``
    (receptors), ``area_spot_peak`` and ``area_part_peak``."""
    area = sampler.area
    cols = area.spot_receptors
    for k in range(nsteps):
        s = step0 + k
        conc = sampler.conc[:, s, :]
        before = conc[:, cols]  # a copy (fancy index)
        spot = np.zeros((sampler.n_tags, cols.size))
        parts = np.zeros((sampler.n_tags, sampler.area_part_c.shape[2]))
        first = area.peak_first(s, wind_at)
        edges = area.edges_held(s, wind_at)  # a plan's cut can make its own passing cloud
        held = conc.copy() if first is not None or edges else None
        area.add_step(s, conc, sampler.near_hit, wind_at, sampler.burn_s, spot, parts)
        sampler.area_part_c[:, s, :] = parts
        # the spot's air beyond the plumes' mean over the disc
        sampler.spot_extra[:, s, :] = spot - (conc[:, cols] - before)
        if held is None:
            continue
        if first is None:  # no rate changes within the steps held: the step's air is its peak
            edge_peaks(sampler, s, edges, conc - held, spot, parts, (0.0, 0.0, 0.0), wind_at)
            continue
        total, now = held.sum(axis=0), conc.sum(axis=0)
        air, spot_air, parts_air = now - total, spot.sum(axis=0), parts.sum(axis=0)
        cheap = ratio_peaks(area, first, s, sampler.n_groups, conc - held, spot, parts)
        # the rest of the air at each receptor (the point releases' peaks in) and at its spot; a part's is its own
        rest = total + sampler.peak_extra[s]
        others = (rest, rest[cols], np.zeros(parts_air.size))
        means = (now, now[cols] + sampler.spot_extra[:, s, :].sum(axis=0), parts_air)
        top, top_spot, top_parts = area_peaks(
            area, s, sampler.n_tags, wind_at, sampler.burn_s, air, spot_air, parts_air,
            lambda i, b, s=s, others=others, means=means:
            at_stake(area.peak_levels, None if area.peak_levels is None else reached(sampler, area.peak_levels, s),
                     i, s, sampler.dt_s, means[i], others[i] + b), cheap)
        extra = np.maximum(top - air, 0.0)  # above the plumes' air of the step
        sampler.peak_extra[s] += extra
        sampler.area_peak[s] = extra
        sampler.area_spot_peak[s] = np.maximum(top_spot - spot_air, 0.0)
        sampler.area_part_peak[s] = np.maximum(top_parts - parts_air, 0.0)
        if edges:
            edge_peaks(sampler, s, edges, conc - held, spot, parts,
                       (extra, sampler.area_spot_peak[s], sampler.area_part_peak[s]), wind_at)


def edge_peaks(sampler: Any, step: int, edges: list[tuple[int, int]], air: NDArray[np.float64],
               spot: NDArray[np.float64], parts: NDArray[np.float64], above: tuple[Any, Any, Any],
               wind_at: Any) -> None:
    """For ``compare``'s plans: how much more than the area plumes' peak above their air of step ``step`` (``above``:
    what :func:`area_peaks` added at the receptors, spots and parts; 0 where none) their air emitted before each
    emission-tag bin edge the plumes hold (``edges``, :meth:`plumecast.exposure_area.AreaNearField.edges_held`)
    reaches above its own share of the step's air (``air``, ``spot``, ``parts``: the plumes' air by tag), added to
    :attr:`plumecast.exposure.ReceptorExposure.edge_extra` and kept as ``area_edge``, ``area_spot_edge`` and
    ``area_part_edge`` (:func:`plumecast.plans.evaluate._plan_extra` reads them as the point releases').

    The air emitted before an edge at the first step after it, ``e``, is bounded as :func:`area_peaks`' coarse bound
    is, by the plume at the step's end of each emission step's largest rate over it and the step before
    (:attr:`~plumecast.exposure_area.AreaNearField.edge_rates`), with the emission after the edge left out: step
    ``e`` at the largest rate of the step before it (and the one before that, a bound), the steps after it none.
    A bound of that air is at most the whole air's (the step's air with its peak): what it adds is at most the
    share emitted after the edge. One more kernel (a sum over bins under steady winds) a step where edges are held
    and a level can be at stake (:func:`_edge_at_stake`)."""
    area = sampler.area
    assert area.edge_rates is not None
    mine = (air, spot, parts)
    bins = np.arange(air.shape[0]) // sampler.n_groups
    totals = [a.sum(axis=0) for a in mine]
    befores = [[a[bins <= kb].sum(axis=0) for a in mine] for kb, _ in edges]
    # at most the share emitted after the edge (the whole air's bound is its air with its peak above it) ...
    out = [np.max([totals[i] - b[i] for b in befores], axis=0) if edges else np.zeros(totals[i].size)
           for i in range(3)]
    if not _edge_at_stake(sampler, step, [t + np.asarray(a) for t, a in zip(totals, above, strict=True)], out):
        _keep_edges(sampler, step, out)
        return
    # ... and where a plan's level can be at stake, the air emitted before each edge bounded on its own: the coarse
    # bound's plumes by emission bin, each edge's first step apart (its largest rate over it and the step before is
    # at least the largest over the step before: one kernel whatever the number of edges)
    firsts = np.array([e for _, e in edges], np.int64)
    split = 2 * area.bin_of_step
    split[firsts] += 1
    by_bin = _coarse_by_tag(area, sampler, step, split, wind_at, spot.shape[1], parts.shape[1])
    bins2 = np.arange(2 * sampler.n_tags) // sampler.n_groups
    tight = [np.zeros(t.size) for t in totals]
    for e, before_k in zip(firsts, befores, strict=True):
        upto = split[e]  # the steps before the edge, and its first step alone
        for i in range(3):
            top = by_bin[i][bins2 <= upto].sum(axis=0)
            np.maximum(tight[i], top - before_k[i] - above[i], out=tight[i])
    _keep_edges(sampler, step, [np.maximum(np.minimum(o, t), 0.0) for o, t in zip(out, tight, strict=True)])


def _coarse_by_tag(area: Any, sampler: Any, step: int, bins: NDArray[np.int64], wind_at: Any, n_spot: int,
                   n_parts: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The coarse bound's plumes (:func:`coarse_peaks`, from :attr:`~plumecast.exposure_area.AreaNearField.edge_rates`)
    at the end of step ``step`` by the emission bins ``bins`` of the steps (each below twice the run's bins), at the
    receptors, spots and parts, ``(bin * n_groups + group, place)``. [kg m-3]"""
    from plumecast.nearfield.area_source import emission_integral

    n = 2 * sampler.n_tags
    conc = np.zeros((n, area.rec_ptr.size - 1))
    spot, parts = np.zeros((n, n_spot)), np.zeros((n, n_parts))
    held, held_bins = area.peak_coarse, area.bin_of_step
    try:
        area.peak_coarse = (area.edge_rates, emission_integral(area.edge_rates, area.dt_s))
        area.bin_of_step = np.ascontiguousarray(bins, np.int64)
        area.add_step(step, conc, np.zeros(conc.shape[1], np.bool_), wind_at, sampler.burn_s, spot, parts, peak=True)
    finally:
        area.peak_coarse, area.bin_of_step = held, held_bins
    return conc, spot, parts


def _edge_at_stake(sampler: Any, step: int, bounds: list[NDArray[np.float64]],
                   loose: list[NDArray[np.float64]]) -> bool:
    """Whether :func:`edge_peaks`' bound on the share emitted after the edge (``loose``, at the receptors, spots and
    parts) is worth the tighter one: somewhere it is above 0 and the air there with its peak within step ``step``
    (the area plumes' ``bounds``, with the rest of the receptors' air) comes within :data:`STAKE_MARGIN` of a level
    the baseline has not reached there (:func:`at_stake`): a plan's air is the baseline's or less, and where the
    baseline has reached the level the plan's countdown reads at most the baseline's bound, which stands beside its
    own. Either bound errs early, never late: the choice is of how early."""
    area = sampler.area
    stakes = area.peak_levels
    if stakes is None:
        return True
    if not any(bool((b > 0.0).any()) for b in loose):
        return False
    seen = reached(sampler, stakes, step)
    total = sampler.conc[:, step, :].sum(axis=0)
    rest = total + sampler.peak_extra[step]  # the area plumes' with their peak in
    on = np.repeat(area.part_receptors, np.diff(area.part_ptr)) if bounds[2].size else np.zeros(0, np.int64)
    cols = area.spot_receptors
    means = (total, total[cols] + sampler.spot_extra[:, step, :].sum(axis=0), total[on])
    tops = (rest, rest[cols] + bounds[1], rest[on] + bounds[2])
    return any(bool((at_stake(stakes, seen, i, step, sampler.dt_s, means[i], tops[i]) & (loose[i] > 0.0)).any())
               for i in range(3))


def _keep_edges(sampler: Any, step: int, out: list[NDArray[np.float64]]) -> None:
    """Keep :func:`edge_peaks`' bounds at the receptors, spots and parts of step ``step``."""
    sampler.edge_extra[step] += out[0]
    sampler.area_edge[step] = out[0]
    sampler.area_spot_edge[step] = out[1]
    sampler.area_part_edge[step] = out[2]


def other_air(sampler: Any) -> NDArray[np.float64]:
    """:attr:`plumecast.exposure.ReceptorExposure.other_air` of ``sampler``: the air but the point releases'
    near field, with the area plumes' peaks within the steps (``area_peak``): a level they reach is not held
    back to a near-field front (:class:`plumecast.consequence_metrics.ArrivalFloor`)."""
    other = np.maximum(sampler.conc.sum(axis=0) - sampler.nf_air, 0.0)
    other = other + getattr(sampler, "particle_peak", 0.0)  # and the particles' within the steps (module exposure_rings)
    return np.asarray(other + sampler.area_peak if sampler.area_peak.shape == other.shape else other, dtype=float)
