"""The area plumes' steps under steady winds and tables (:mod:`plumecast.exposure_area`):
each (pair, bin) share of the travel integral made once (:func:`~plumecast.nearfield.area_source.area_plume_overlaps`
and, for a disc's parts, :func:`~plumecast.nearfield.area_source.source_full_bins`), a step
is a sum over bins weighted by the emission rate of each bin's step: the discs' mean air,
their most exposed point (spot) and the air at their parts' points.

A bin's emission step depends on its index alone (:func:`_bin_steps`), so each kernel finds
it once per call for the most bins it sums; it had been found with a division per (pair,
bin). The demo comparison's arguments recorded, one thread, 10 and 42 h into the run, ms a
step before and after: the mean 0.80-0.94 and 0.72-0.85, the spots 1.0 and 0.51-0.64, the
parts 3.2 and 1.4; the same sums bit for bit (session 34).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from plumecast.nearfield.area_source import _add, _burn_bins, _put, bin_time


@numba.njit(cache=True, error_model="numpy")
def _bin_steps(t_s, tau, dt_s, n_steps, n):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The emission step of each of the first ``n`` bins at ``t_s`` (bin ``k`` left its
    source ``(k + 0.5) tau`` ago; clipped to the run's ``n_steps``): a bin's index alone
    gives it, so the kernels that sum bins find it once per call, not per (pair, bin)."""
    out = np.empty(max(n, 0), np.int64)
    for k in range(n):
        out[k] = max(min(int(math.floor((t_s - (k + 0.5) * tau) / dt_s)), n_steps - 1), 0)
    return out


@numba.njit(cache=True, error_model="numpy", parallel=True)
def area_plume_apply(t_s, dt_s, rec_ptr, pair_src, overlap, pair_ptr, src_group, rate, bin_of_step, n_groups, decay_s,
                     rec_burn_s, conc, hit):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """:func:`area_plume_step` from the overlaps of :func:`area_plume_overlaps` (made for
    the same winds and tables): each pair's plume is the sum over its source's bins of
    the overlap times ``rate[g, j]``, the group's emission rate in bin ``k``'s step ``j``
    over its base rate, credited to that step's tag."""
    tau = bin_time(dt_s, decay_s)
    n_now = int(math.floor(t_s / tau + 1e-9))  # no further back than the start
    n_most = 0
    for p in range(pair_ptr.size - 1):
        n_most = max(n_most, min(pair_ptr[p + 1] - pair_ptr[p], n_now))
    step_of = _bin_steps(t_s, tau, dt_s, rate.shape[1], n_most)
    for r in numba.prange(rec_ptr.size - 1):
        for p in range(rec_ptr[r], rec_ptr[r + 1]):
            g = src_group[pair_src[p]]
            a = pair_ptr[p]
            nb = min(pair_ptr[p + 1] - a, n_now)
            for k in range(_burn_bins(t_s, tau, rec_burn_s[r], nb)):
                step = step_of[k]
                _add(conc, hit, r, bin_of_step[step] * n_groups + g, overlap[a + k] * rate[g, step])


@numba.njit(cache=True, error_model="numpy", parallel=True)
def area_spot_apply(t_s, dt_s, rec_ptr, cand_ptr, overlap, ov_ptr, lo, hi, pair_group, rec_burn_s, rate, bin_of_step,
                    n_groups, decay_s, spot, spot_col):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The ``spot`` of :func:`area_plume_step` from overlaps made for steady winds (the sums
    of :func:`area_plume_apply`, one thread per receptor): pair ``p``'s points are
    ``cand_ptr[p] .. cand_ptr[p + 1]``, each with its overlaps from ``ov_ptr[c]`` on and
    not 0 in bins ``lo[c] .. hi[c] - 1`` only (a point's span of travel distances crosses
    a few of its source's bins); the air of the point with the most is added, tag by tag,
    to ``spot[:, spot_col[r]]``."""
    tau = bin_time(dt_s, decay_s)
    n_now = int(math.floor(t_s / tau + 1e-9))  # no further back than the start
    n_most = 0
    for c in range(hi.size):
        n_most = max(n_most, min(hi[c], n_now))
    step_of = _bin_steps(t_s, tau, dt_s, rate.shape[1], n_most)
    for r in numba.prange(rec_ptr.size - 1):
        col = spot_col[r]
        if col < 0:
            continue
        for p in range(rec_ptr[r], rec_ptr[r + 1]):
            g = pair_group[p]
            best = 0.0
            best_c = -1
            for c in range(cand_ptr[p], cand_ptr[p + 1]):
                stop = min(hi[c], n_now, _burn_bins(t_s, tau, rec_burn_s[r], ov_ptr[c + 1] - ov_ptr[c]))
                air = 0.0
                for k in range(lo[c], stop):
                    air += overlap[ov_ptr[c] + k] * rate[g, step_of[k]]
                if air > best:
                    best, best_c = air, c
            if best_c < 0:
                continue
            stop = min(hi[best_c], n_now, _burn_bins(t_s, tau, rec_burn_s[r], ov_ptr[best_c + 1] - ov_ptr[best_c]))
            for k in range(lo[best_c], stop):
                step = step_of[k]
                spot[bin_of_step[step] * n_groups + g, col] += overlap[ov_ptr[best_c] + k] * rate[g, step]


@numba.njit(cache=True, error_model="numpy", parallel=True)
def area_parts_apply(t_s, dt_s, col_ptr, pt_src, pt_lo, pt_hi, pt_first, pt_last, full, n_bins, ptr, used_src,
                     src_group, col_burn_s, rate, bin_of_step, n_groups, decay_s,
                     parts):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The ``parts`` of :func:`area_plume_step` under steady winds and tables, from each
    point's bins made once (:func:`area_plume_overlaps` of the points as pairs of one
    point): part ``c``'s points are ``col_ptr[c] .. col_ptr[c + 1]``, point ``q`` of source
    ``pt_src[q]`` with its overlap not 0 in bins ``pt_lo[q] .. pt_hi[q] - 1``: ``pt_first[q]``
    in the first, ``pt_last[q]`` in the last, the whole bin's (``full``, of
    :func:`source_full_bins`) between. A step weighs each source's bins by the emission
    rate of their step (the sums of :func:`area_plume_apply`) and sums a point's whole bins
    from their running sum, tag by tag: a point costs its tags, not its bins."""
    tau = bin_time(dt_s, decay_s)
    n_steps = rate.shape[1]
    n_now = int(math.floor(t_s / tau + 1e-9))  # no further back than the start
    # a bin's step, and so its tag's step and where its run of one tag ends, depend on its
    # index alone (the group adds the same offset to all its tags): found once per call for
    # the most bins any source has (they had been found bin by bin of each source, with the
    # division of the step's formula, 1.9 of this kernel's 2.7 ms a step in the demo)
    n_most = 0
    for i in range(used_src.size):
        n_most = max(n_most, n_bins[used_src[i]])
    step_of = _bin_steps(t_s, tau, dt_s, n_steps, n_most)
    run_end = np.empty(n_most, np.int64)  # where bin k's run of one tag ends (its source's n_bins clips it)
    end = n_most
    for k in range(n_most - 1, -1, -1):
        if k < n_most - 1 and bin_of_step[step_of[k]] != bin_of_step[step_of[k + 1]]:
            end = k + 1
        run_end[k] = end
    run_sum = np.zeros(ptr[-1])  # the running sum of full x rate up to each bin
    for i in numba.prange(used_src.size):
        s = used_src[i]
        o = ptr[s]
        g = src_group[s]
        for k in range(n_bins[s]):
            run_sum[o + k + 1] = run_sum[o + k] + full[o + k] * rate[g, step_of[k]]
    for c in numba.prange(col_ptr.size - 1):
        for q in range(col_ptr[c], col_ptr[c + 1]):
            s = pt_src[q]
            o = ptr[s]
            g = src_group[s]
            lo, hi = pt_lo[q], pt_hi[q]
            stop = min(hi, n_now, _burn_bins(t_s, tau, col_burn_s[c], n_bins[s]))
            if stop <= lo:
                continue
            _put(parts, c, True, bin_of_step[step_of[lo]] * n_groups + g, pt_first[q] * rate[g, step_of[lo]])
            end = stop
            if stop == hi and hi - 1 > lo:
                _put(parts, c, True, bin_of_step[step_of[hi - 1]] * n_groups + g, pt_last[q] * rate[g, step_of[hi - 1]])
                end = hi - 1
            j = lo + 1
            while j < end:  # the whole bins between, tag by tag
                j_end = min(run_end[j], end)
                _put(parts, c, True, bin_of_step[step_of[j]] * n_groups + g, run_sum[o + j_end] - run_sum[o + j])
                j = j_end
