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
(:meth:`~plumecast.exposure_area.AreaNearField.peak_step`); what it adds above the step's
air is kept beside the exposure (:attr:`plumecast.exposure.ReceptorExposure.peak_extra` for
the receptors, ``area_spot_peak`` for the discs' most exposed points, ``area_part_peak`` for
their parts) and read by the countdowns alone: the doses, loads and peaks stay the steps'.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: The length of the parts of a step the area plumes' peaks are read on (:func:`area_peaks`): a step of ``dt`` is
#: cut into ``round(dt / PART_S)`` parts (at least one). The bound lets a release of duration ``D`` pass as one of
#: ``D + 2 PART_S`` at its largest rate at most. [s]
PART_S = 30.0
#: :func:`area_peaks` reads the air at each part's end where the bound over the whole step exceeds the step's air
#: by more than this share at some receptor, spot or part
LOOSE = 0.05


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
    ``peak_cum``, ``peak_bins``, ``peak_differs``) from the run's groups and ``factor`` (group, step), each
    step's mean rate over the group's base rate (the particles'); none where no rate changes within a step."""
    from plumecast.nearfield.area_source import emission_integral

    dt, n_steps = area.dt_s, factor.shape[1]
    n = max(1, int(round(dt / PART_S)))
    wide = peak_factor(groups, dt / n, n_steps * n, n)
    mean = np.repeat(factor, n, axis=1)
    # the area groups' alone (the others have no area plume; their rates are never read here)
    off = (np.abs(wide - mean) > 1e-9 * np.maximum(mean, 1e-300)) & np.array([bool(g.area) for g in groups])[:, None]
    differs = off.reshape(len(groups), n_steps, n).any(axis=(0, 2))
    if not differs.any():
        return
    narrow = wide if n == 1 else peak_factor(groups, dt / n, n_steps * n, 1)
    area.peak_parts = n
    area.peak_cum = (emission_integral(wide, dt / n), emission_integral(narrow, dt / n))
    area.peak_bins = np.ascontiguousarray(np.repeat(area.bin_of_step, n), np.int64)
    area.peak_differs = differs


def area_peaks(area: Any, step: int, n_tags: int, wind_at: Any, burn_s: Any, air: NDArray[np.float64],
               spot_air: NDArray[np.float64], parts_air: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The most the area plumes' air can be within step ``step`` ``[t0, t1]`` at each receptor (its mean over
    its disc's sample points), each disc's most exposed point and each part of a disc [kg m-3], given their
    air of the step (``air``, ``spot_air``, ``parts_air``, summed over the tags).

    A place's air at ``t`` is ``∫ f(t - s) dμ(s)`` over the travel times ``s`` of the plume's air (its
    front's, :func:`plumecast.nearfield.area_source.front_distance`; ``μ >= 0``), ``f`` the emission rate.
    For ``t = t1 - θ``, ``0 <= θ <= Δ = t1 - t0``, ``f(t - s) <= h(t1 - s)`` with ``h(e)`` the largest rate
    over ``[e - Δ, e]``: the plume at ``t1`` of ``h`` bounds the air at every moment of the step. It is
    read on parts of the step (:data:`PART_S`), each holding the largest rate over the step before it
    (:func:`peak_factor`). Where that bound exceeds the step's air by more than :data:`LOOSE` (a release
    shorter than a step passes: ``h`` holds it a whole step longer), the same bound is read at the end of
    each part of the step with the rates of the part before (``Δ`` a part): the least of the two bounds
    holds. A steady rate gives the step's own air (to the parts' resolution)."""
    n = area.peak_parts
    end = (step + 1) * n
    top_spot, top_parts = np.zeros(spot_air.size), np.zeros(parts_air.size)
    top = area.peak_at(end, True, n_tags, wind_at, burn_s, top_spot, top_parts)
    loose = any(bool((b > (1.0 + LOOSE) * a + 1e-30).any()) for b, a in
                ((top, air), (top_spot, spot_air), (top_parts, parts_air)))
    if n > 1 and loose:
        fine, fine_spot, fine_parts = np.zeros(top.size), np.zeros(spot_air.size), np.zeros(parts_air.size)
        one_spot, one_parts = np.zeros(spot_air.size), np.zeros(parts_air.size)
        for part in range(end - n + 1, end + 1):
            np.maximum(fine, area.peak_at(part, False, n_tags, wind_at, burn_s, one_spot, one_parts), out=fine)
            np.maximum(fine_spot, one_spot, out=fine_spot)
            np.maximum(fine_parts, one_parts, out=fine_parts)
        top, top_spot, top_parts = np.minimum(top, fine), np.minimum(top_spot, fine_spot), np.minimum(top_parts, fine_parts)
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
        peaks = area.peak_needed(s, wind_at)
        total = conc.sum(axis=0) if peaks else None
        area.add_step(s, conc, sampler.near_hit, wind_at, sampler.burn_s, spot, parts)
        sampler.area_part_c[:, s, :] = parts
        # the spot's air beyond the plumes' mean over the disc
        sampler.spot_extra[:, s, :] = spot - (conc[:, cols] - before)
        if total is None:
            continue
        air, spot_air, parts_air = conc.sum(axis=0) - total, spot.sum(axis=0), parts.sum(axis=0)
        top, top_spot, top_parts = area_peaks(area, s, sampler.n_tags, wind_at, sampler.burn_s, air, spot_air,
                                              parts_air)
        extra = np.maximum(top - air, 0.0)  # above the plumes' air of the step
        sampler.peak_extra[s] += extra
        sampler.area_peak[s] = extra
        sampler.area_spot_peak[s] = np.maximum(top_spot - spot_air, 0.0)
        sampler.area_part_peak[s] = np.maximum(top_parts - parts_air, 0.0)

def other_air(sampler: Any) -> NDArray[np.float64]:
    """:attr:`plumecast.exposure.ReceptorExposure.other_air` of ``sampler``: the air but the point releases'
    near field, with the area plumes' peaks within the steps (``area_peak``): a level they reach is not held
    back to a near-field front (:class:`plumecast.consequence_metrics.ArrivalFloor`)."""
    other = np.maximum(sampler.conc.sum(axis=0) - sampler.nf_air, 0.0)
    return np.asarray(other + sampler.area_peak if sampler.area_peak.shape == other.shape else other, dtype=float)
