"""The most of ``f C(t) / level(t − onset)`` within each interval: the zones' level ratio (session 52, second part).

The zones (:class:`~plumecast.nearfield.zones.windowed.LevelRatio`) read, per interval, the air's most within it
(:mod:`~plumecast.nearfield.zones.window_peaks`) over the level at the interval's *end*. The air's most and the
level's least need not come together: far from the source, where an interval is a sizeable part of the exposure
(Graniteville, class F, the dense cloud's AEGL-3 tip: 10-min intervals against 40 min of exposure), the ratio so
read is above the air's own ``max_t C(t)/level(t − onset)`` and the zone came out long (the 100-km search limit
against 84.5 km on a 64 times finer axis, docs/local_scale.md). This module reads that most itself.

Both factors are log-concave on each piece between the level's tabulated durations: each profile of the zones (a
puff's Gaussian, Palazzi's factor, the convolution of a Gaussian with a box; held below the pure vapour, a
minimum with a constant) is, and the level is log-log linear in the elapsed duration there (``−log level`` a
non-negative multiple of ``log(t − onset)``, concave in ``t``; constant below 10 min and beyond 8 h). So
``g(t) = log C(t) − log level(t − onset)`` is concave on each piece, and its maximum lies no earlier than the air's
most on the piece (before it the air rises and the level does not). A search by comparisons (:func:`_search`:
an end test, then 16 equally spaced reads a step; session 52's golden section, session 53 this) keeps a bracket that
holds it (ties to the earlier side, where a concave function's maximum lies; the air is zero only past its support,
after the peak); the value returned is an **upper** bound, the air's most over the bracket over the level at the
bracket's end (the level does not rise with duration): never below the air's own ratio, to the bracket
(:data:`REL_WIDTH` of the exposure) above it. A finer axis reads the same (the onset is the air's own too,
:mod:`~plumecast.nearfield.zones.onset_time`), so the zones no longer depend on the axis but for the brackets.

The boundary's bisection asks, after its secant steps, only whether a ratio reaches 1 (``against``): the search then
skips what cannot decide it and stops once it is known (session 53).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover
    from plumecast.nearfield.zones.windowed import LevelRatio

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: The search's last bracket, relative to the exposure at its end (1e-10: 0.4 µs at an hour).
REL_WIDTH = 1e-10
#: Relative margin for the rounding of a ratio (as :mod:`~plumecast.nearfield.zones.windowed`'s).
_ROUNDING = 1e-12
#: Margin (in log) by which a search's bounds must clear a column's floor or ``against`` to end it early.
_MARGIN = 1e-12
#: Points read per bracket and step of the search, equally spaced (each step narrows a bracket 8.5-fold).
_POINTS = 16
#: Steps between two checks of the brackets' bounds against their columns' floors.
_CHECK_EVERY = 2


def _log_level(lr: LevelRatio, lv: IntArray, elapsed: FloatArray) -> FloatArray:
    """``log level(elapsed)`` per pair (the log-log interpolation of :meth:`LevelRatio._threshold_one`)."""
    out = np.empty(elapsed.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        le = np.log(elapsed)
    if lv.size < 2 or bool((lv[1:] >= lv[:-1]).all()):  # grouped by level (as most_ratios' are)
        if lv.size and lv[0] == lv[-1]:  # one level (the usual case)
            return np.asarray(np.interp(le, lr._xp, lr._fp[lv[0]]), dtype=float)
        bounds = np.searchsorted(lv, np.arange(lr._fp.shape[0] + 1)).tolist()
        for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            if b > a:
                out[a:b] = np.interp(le[a:b], lr._xp, lr._fp[k])
        return out
    for k in np.unique(lv):
        sel = lv == k
        out[sel] = np.interp(le[sel], lr._xp, lr._fp[k])
    return out


def most_ratios(lr: LevelRatio, f: FloatArray, t_on: FloatArray, cc: IntArray, cv: FloatArray, cti: IntArray,
                starts: IntArray, ratio: FloatArray, elapsed: FloatArray,
                against: float | FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
    """Per candidate (column ``cc``, interval ``cti``, air's most ``cv``; columns' first candidates at ``starts``),
    the most of ``f C(t)/level(t − t_on)`` over the interval's part from the onset on, where the series knows its air
    and the level is an AEGL-like table (finite, not rising with duration), with the elapsed duration at the
    bracket's end; elsewhere ``ratio`` and ``elapsed`` (the air's most over the level at the interval's end: an
    upper bound of the same), as are candidates whose upper bound is below the column's best lower bound (they
    cannot hold its maximum). Never above ``ratio``.

    With ``against``, only whether each column's most reaches ``against`` is read (the boundary's bisection): the
    value per candidate is then an upper bound of the same on the same side of ``against`` as the value without
    it. Candidates whose bound is below ``against`` are not searched, nor the columns where some candidate's lower
    bound reaches it, and a search ends once its bracket's bound is below ``against`` or a point of it reaches it
    (:func:`_search`)."""
    air = lr.series.air
    if air is None or cc.size == 0:
        return ratio, elapsed
    ratio = ratio.copy()
    elapsed = elapsed.copy()
    lv, pl, on, a, b, tc, table_ok = _parts(lr, t_on, cc, cti)
    use = table_ok & (b > a) & np.isfinite(ratio) & (cv > 0)
    if not use.any():
        return ratio, elapsed
    fc = np.asarray(f, dtype=float)[cc]
    # a lower bound per candidate: the air's most within the part, over the level there
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = np.where(use, fc * air.at(pl, tc) * np.exp(-_log_level(lr, lv, tc - on)), -np.inf)
    low = np.where(np.isnan(low), -np.inf, low)
    counts = np.diff(np.append(starts, cc.size))
    lmax = np.repeat(np.maximum.reduceat(low, starts), counts)
    refine = np.nonzero(use & (ratio >= lmax * (1.0 - _ROUNDING)))[0]
    if against is not None:  # decided already: below ``against`` (an upper bound), or the column reaches it
        against = np.broadcast_to(np.asarray(against, dtype=float), (lr.m,))
        ag = against[cc[refine]]
        refine = refine[(ratio[refine] >= ag) & (lmax[refine] < ag * (1.0 + _MARGIN))]
    if refine.size == 0:
        return ratio, elapsed
    # pieces between the level's tabulated durations
    cut = [a[refine]]
    for d in lr.durations:
        t = on[refine] + d
        cut.append(np.where((t > a[refine]) & (t < b[refine]), t, a[refine]))
    cut.append(b[refine])
    edges = np.sort(np.stack(cut, axis=1), axis=1)
    p, q = edges[:, :-1].ravel(), edges[:, 1:].ravel()
    owner = np.repeat(refine, edges.shape[1] - 1)
    keep = q > p
    p, q, owner = p[keep], q[keep], owner[keep]
    low_col = np.full(lr.m, -np.inf)
    low_col[cc] = lmax
    up, e_up = _search(air, pl[owner], lv[owner], on[owner], fc[owner], p, q, lr, cc[owner], low_col, against)
    # the largest bound of each candidate's pieces (pieces are grouped by candidate, in order)
    grp = np.concatenate(([0], np.nonzero(np.diff(owner))[0] + 1))
    best = np.maximum.reduceat(up, grp)
    at = up == np.repeat(best, np.diff(np.append(grp, up.size)))
    first = np.minimum.reduceat(np.where(at, np.arange(up.size), up.size), grp)
    who = owner[grp]
    better = best < ratio[who]
    ratio[who[better]] = best[better]
    elapsed[who[better]] = e_up[first[better]]
    return ratio, elapsed


def _search(air: object, place: IntArray, lv: IntArray, on: FloatArray, fc: FloatArray, p: FloatArray,
            q: FloatArray, lr: LevelRatio, col: IntArray, low: FloatArray,
            against: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
    """Per piece ``[p, q]`` (of column ``col``, grouped by level), an upper bound of the most of
    ``fc C(t)/level(t − on)`` and the elapsed duration at the end of the bracket it is read on.

    ``g(t) = log fc C(t) − log level(t − on)`` is concave on the piece, its maximum no earlier than the air's most
    there. A maximum at either end, the usual case, is found in four reads (:func:`_narrow`); the other brackets
    are read at :data:`_POINTS` equally spaced points a step, and narrowed to the two spaces about the highest
    (concave: the maximum lies there; the first of equal ones, the earlier side, where it lies), until
    :data:`REL_WIDTH` of the exposure. (Session 52's golden section took some 47 reads a piece, one at a time;
    the steps' count, not the reads', is what costs, each a round of numpy calls on small arrays.)

    ``low`` is, per column, a lower bound of its most (raised as the search finds points). A piece whose bracket's
    bound falls below it stops: it cannot hold the column's most, and its bound, returned, stays below it; the
    pieces that can run to :data:`REL_WIDTH`, so the column's most and its first maximum come out as from a search
    of every piece. With ``against`` (per column, :func:`most_ratios`), a piece whose bound falls below ``against``
    stops too, and every piece of a column stops once a point of one reaches ``against``. The pieces still searched
    are held in arrays of their own (taken again as pieces end), so each step reads no more than they need."""
    from plumecast.nearfield.zones.onset_time import PlaceAir

    assert isinstance(air, PlaceAir)
    # the maximum is no earlier than the air's most on the piece (before it the air rises, the level falls)
    t_peak = air.t_peak(place)
    lo = np.clip(t_peak, p, q)
    hi = q.copy()
    k = np.nonzero(hi - lo > REL_WIDTH * np.maximum(hi - on, 1.0))[0]
    with np.errstate(divide="ignore"):
        floor = np.log(low)  # per column, in log
        if against is not None:
            floor = np.maximum(floor, np.log(against))
    reached = None if against is None else np.zeros(floor.size, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = _Pieces(air.take(place[k]), lv[k], on[k], fc[k], col[k], t_peak[k], lr)
        # the brackets' bounds and _narrow's four reads in one round (session 53, `zonespeed2`)
        n, lo_k, hi_k = k.size, lo[k], hi[k]
        t5 = np.concatenate([np.clip(s.t_peak, lo_k, hi_k), _narrow_points(s, lo_k, hi_k)])
        g5 = s.take(np.tile(np.arange(n), 5)).h(t5, np.concatenate([hi_k, t5[n:]])).reshape(5, n)
        keep = _still_open(s.col, g5[0], None, floor, reached)
        k, s, g5 = k[keep], s.keep(keep), g5[1:, keep]
        a_lo, a_hi, done = _narrow(s, lo[k], hi[k], floor, reached, g5)
        lo[k], hi[k] = a_lo, a_hi
        k, s, a_lo, a_hi = k[~done], s.keep(~done), a_lo[~done], a_hi[~done]
        # the rest: reads at _POINTS points equally spaced within each bracket, the bracket then the two spaces
        # about the highest (the first of equal ones, the earlier side where a concave function's maximum lies)
        frac = np.arange(1, _POINTS + 1) / (_POINTS + 1.0)
        top = None
        step = 0
        # each piece _POINTS + 1 times: the points, then the bracket's bound (read in the same round, session 53's
        # `zonespeed2`; used at the checks, and the pieces that end there drop their points' reads)
        s_k = s.take(np.repeat(np.arange(k.size), _POINTS + 1))
        while k.size:
            n = k.size
            x = np.empty((n, _POINTS + 1))
            x[:, :_POINTS] = a_lo[:, None] + (a_hi - a_lo)[:, None] * frac
            x[:, _POINTS] = np.clip(s.t_peak, a_lo, a_hi)
            t_level = x.copy()
            t_level[:, _POINTS] = a_hi
            g = s_k.h(x.ravel(), t_level.ravel()).reshape(n, _POINTS + 1)
            keep = a_hi - a_lo > REL_WIDTH * np.maximum(a_hi - s.on, 1.0)
            if step % _CHECK_EVERY == 0:
                keep &= _still_open(s.col, g[:, _POINTS], top, floor, reached)
            if not keep.all():
                lo[k], hi[k] = a_lo, a_hi
                k, s, a_lo, a_hi, x, g = k[keep], s.keep(keep), a_lo[keep], a_hi[keep], x[keep], g[keep]
                if k.size == 0:
                    break
                s_k = s.take(np.repeat(np.arange(k.size), _POINTS + 1))
            step += 1
            n = k.size
            g = g[:, :_POINTS]
            g = np.where(np.isnan(g), -np.inf, g)
            j = np.argmax(g, axis=1)
            rows = np.arange(n)
            top = g[rows, j]
            a_lo, a_hi = (np.where(j > 0, x[rows, np.maximum(j - 1, 0)], a_lo),
                          np.where(j < _POINTS - 1, x[rows, np.minimum(j + 1, _POINTS - 1)], a_hi))
        # the air's most over the bracket (it rises to its peak and falls) over the level at the bracket's end
        t_most = np.clip(t_peak, lo, hi)
        bound = fc * air.at(place, t_most) * np.exp(-_log_level(lr, lv, hi - on))
    return np.asarray(bound, dtype=float), np.asarray(hi - on, dtype=float)


def _still_open(c: IntArray, bound: FloatArray, top: FloatArray | None, floor: FloatArray,
                reached: NDArray[np.bool_] | None) -> NDArray[np.bool_]:
    """Which pieces (of columns ``c``, brackets' bounds ``bound``: the air's most over the bracket over the level at
    its end, in log) are still to search (:func:`_search`): each column's ``floor`` (log) first raised to ``top``,
    ``g`` at points of the pieces (without ``against``; with it, ``reached`` marks the columns where such a point
    reaches ``floor``); then the pieces whose bound is below their column's floor, or whose column is reached, are
    not."""
    if top is not None:
        if reached is None:
            np.maximum.at(floor, c, top)
        else:
            reached[c[top >= floor[c] + _MARGIN]] = True
    keep = bound >= floor[c] - _MARGIN
    if reached is not None:
        keep &= ~reached[c]
    return np.asarray(keep, dtype=bool)


def _narrow_points(s: _Pieces, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """The times :func:`_narrow` reads, per piece of ``s``: ``lo``, ``lo + d``, ``hi − d``, ``hi`` one after the
    other (each block all pieces)."""
    d = REL_WIDTH * np.maximum(lo - s.on, 1.0)  # at most the last width at the bracket's end
    return np.concatenate([lo, lo + d, hi - d, hi])


def _narrow(s: _Pieces, lo: FloatArray, hi: FloatArray, floor: FloatArray, reached: NDArray[np.bool_] | None,
            g4: FloatArray | None = None) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """The brackets ``[lo, hi]`` of the pieces ``s`` where ``g`` (:func:`_search`'s, concave) is highest at an end,
    narrowed to the last width ``d`` there, and whether each is so: ``g`` finite at that end, no lower than at the
    other, and no higher ``d`` inside, so (concave) nowhere further. Most pieces are so: the air's most where the
    level is constant, the piece's end where the level falls faster than the air. (The end no lower than the
    other: where the air falls to the rounding of Palazzi's difference of two erfs, far below its most, ``g`` is
    noisy at the scale ``d``; read there, as where the air is zero at an end (``g`` = −inf at both reads), an end
    test puts the maximum at that end: the 360 t CO zones came out 0.4 % (AEGL-2) and 2 % (AEGL-3) small, as with
    session 52's Newton prototype.) The reads are points of the pieces: they raise the columns' floors (where some
    piece's maximum lies inside), and the other pieces that cannot hold (or decide) their column's most end at the
    search's first check, in its first round (:func:`_search`; session 53's `zonespeed2`: before, here, in a round
    of their own). ``g4``: ``g`` at :func:`_narrow_points`' times, read already (4 x pieces)."""
    n = lo.size
    d = REL_WIDTH * np.maximum(lo - s.on, 1.0)  # at most the last width at the bracket's end
    wide = hi - lo > 2.0 * d
    if g4 is None:
        t4 = _narrow_points(s, lo, hi)
        g4 = s.take(np.tile(np.arange(n), 4)).h(t4, t4).reshape(4, n)
    g_lo, g_lo2, g_hi2, g_hi = g4
    at_lo = wide & (g_lo2 <= g_lo) & (g_lo >= g_hi) & np.isfinite(g_lo)
    at_hi = wide & ~at_lo & (g_hi2 <= g_hi) & (g_hi >= g_lo) & np.isfinite(g_hi)
    hi = np.where(at_lo, lo + d, hi)
    lo = np.where(at_hi, hi - d, lo)
    done = at_lo | at_hi
    if (wide & ~done & (g_lo2 > g_lo)).any():
        top = np.fmax(np.fmax(g_lo, g_lo2), np.fmax(g_hi2, g_hi))
        if reached is None:
            np.maximum.at(floor, s.col, top)
        else:
            reached[s.col[top >= floor[s.col] + _MARGIN]] = True
    return lo, hi, done


class _Pieces:
    """The pieces a search still holds (:func:`_search`): their air, level, onset, factor, column and air's peak."""

    def __init__(self, air: Any, lv: IntArray, on: FloatArray, fc: FloatArray, col: IntArray, t_peak: FloatArray,
                 lr: LevelRatio) -> None:
        self.air, self.lv, self.on, self.fc, self.col, self.t_peak, self.lr = air, lv, on, fc, col, t_peak, lr
        # each level's pieces (a run of them where the pieces are grouped by level, as most_ratios' are)
        self.runs: list[tuple[Any, FloatArray]] = []
        grouped = lv.size < 2 or bool((lv[1:] >= lv[:-1]).all())
        if grouped and lv.size and lv[0] == lv[-1]:  # one level (the usual case)
            self.runs.append((slice(None), lr._fp[lv[0]]))
        elif grouped:  # each level's run, its bounds found at once (session 53, `zonespeed2`)
            bounds = np.searchsorted(lv, np.arange(lr._fp.shape[0] + 1)).tolist()
            self.runs.extend((slice(a, b), lr._fp[j])
                             for j, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)) if b > a)
        else:
            for j in range(lr._fp.shape[0]):
                sel = np.nonzero(lv == j)[0]
                if sel.size:
                    self.runs.append((sel, lr._fp[j]))

    def keep(self, sel: NDArray[np.bool_]) -> _Pieces:
        """The pieces ``sel``."""
        return self.take(np.nonzero(sel)[0])

    def take(self, idx: IntArray) -> _Pieces:
        """The pieces ``idx`` (in that order, repeats allowed)."""
        return _Pieces(self.air.take(idx), self.lv[idx], self.on[idx], self.fc[idx], self.col[idx],
                       self.t_peak[idx], self.lr)

    def h(self, t: FloatArray, t_level: FloatArray) -> FloatArray:
        """``log fc C(t) − log level(t_level − on)`` per piece (as :func:`_log_level` and ``PlaceAir.at`` read)."""
        le = np.log(t_level - self.on)
        if len(self.runs) == 1:
            ll = np.interp(le, self.lr._xp, self.runs[0][1])
        else:
            ll = np.empty(le.size)
            for sel, fp in self.runs:
                ll[sel] = np.interp(le[sel], self.lr._xp, fp)
        return np.asarray(np.log(self.fc * self.air.at_each(t)) - ll, dtype=float)


def most_lower(lr: LevelRatio, t_on: FloatArray, cc: IntArray, cv: FloatArray, cti: IntArray,
               ratio: FloatArray) -> FloatArray:
    """A lower bound of :func:`most_ratios`' value at ``f = 1`` per candidate: the air's most within the interval's
    part from the onset on over the level when it comes; ``ratio`` (the air's most over the level at the interval's
    end, the value itself) where the series does not know its air or the table is not AEGL-like, and -inf where
    the part is empty."""
    air = lr.series.air
    if air is None or cc.size == 0:
        return ratio
    lv, pl, on, a, b, tc, table_ok = _parts(lr, t_on, cc, cti)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = air.at(pl, tc) * np.exp(-_log_level(lr, lv, tc - on))
    low = np.where((b > a) & ~np.isnan(low), low, -np.inf)
    return np.asarray(np.where(table_ok, low, ratio), dtype=float)


def _parts(lr: LevelRatio, t_on: FloatArray, cc: IntArray, cti: IntArray) -> tuple[Any, ...]:
    """Per candidate (column ``cc``, interval ``cti``): its level, place, onset time, the interval's part from the
    onset (and the front) on ``[a, b]``, the time of the air's most within it, and whether its level's table is
    AEGL-like (finite, not rising with duration) — what :func:`most_ratios` and :func:`most_lower` read."""
    air = lr.series.air
    assert air is not None
    lv = lr.level[cc]
    pl = lr.place[cc]
    on = t_on[cc]
    a = np.maximum(np.maximum(lr.begins[cti], air.front[pl]), on)
    b = lr.ends[cti].copy()
    tc = np.clip(air.t_peak(pl), a, b)
    return lv, pl, on, a, b, tc, aegl_like(lr)[lv]


def aegl_like(lr: LevelRatio) -> NDArray[np.bool_]:
    """Per level of ``lr``, whether its table is AEGL-like: finite (its logs too) and not rising with duration,
    where the air's most within an interval may be read with the level when it comes (:func:`_parts`,
    :meth:`~plumecast.nearfield.zones.windowed.LevelRatio.restricted`)."""
    return np.asarray(lr.monotone & np.all(np.isfinite(lr._fp), axis=1), dtype=bool)
