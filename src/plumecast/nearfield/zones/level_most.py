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
most on the piece (before it the air rises and the level does not). A golden-section search keeps a bracket that
holds it (ties to the earlier side, where a concave function's maximum lies; the air is zero only past its support,
after the peak); the value returned is an **upper** bound, the air's most over the bracket over the level at the
bracket's end (the level does not rise with duration): never below the air's own ratio, to the bracket
(:data:`REL_WIDTH` of the exposure) above it. A finer axis reads the same (the onset is the air's own too,
:mod:`~plumecast.nearfield.zones.onset_time`), so the zones no longer depend on the axis but for the brackets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover
    from plumecast.nearfield.zones.windowed import LevelRatio

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: The golden-section search's last bracket, relative to the exposure at its end (1e-10: 0.4 µs at an hour).
REL_WIDTH = 1e-10
#: Relative margin for the rounding of a ratio (as :mod:`~plumecast.nearfield.zones.windowed`'s).
_ROUNDING = 1e-12
_PHI = 0.5 * (np.sqrt(5.0) - 1.0)


def _log_level(lr: LevelRatio, lv: IntArray, elapsed: FloatArray) -> FloatArray:
    """``log level(elapsed)`` per pair (the log-log interpolation of :meth:`LevelRatio._threshold_one`)."""
    out = np.empty(elapsed.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        le = np.log(elapsed)
    if lv.size and lv[0] == lv[-1] and np.all(lv == lv[0]):  # one level (the usual case)
        return np.asarray(np.interp(le, lr._xp, lr._fp[lv[0]]), dtype=float)
    for k in np.unique(lv):
        sel = lv == k
        out[sel] = np.interp(le[sel], lr._xp, lr._fp[k])
    return out


def most_ratios(lr: LevelRatio, f: FloatArray, t_on: FloatArray, cc: IntArray, cv: FloatArray, cti: IntArray,
                starts: IntArray, ratio: FloatArray, elapsed: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per candidate (column ``cc``, interval ``cti``, air's most ``cv``; columns' first candidates at ``starts``),
    the most of ``f C(t)/level(t − t_on)`` over the interval's part from the onset on, where the series knows its air
    and the level is an AEGL-like table (finite, not rising with duration), with the elapsed duration at the
    bracket's end; elsewhere ``ratio`` and ``elapsed`` (the air's most over the level at the interval's end: an
    upper bound of the same), as are candidates whose upper bound is below the column's best lower bound (they
    cannot hold its maximum). Never above ``ratio``."""
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
    counts = np.diff(np.r_[starts, cc.size])
    lmax = np.repeat(np.maximum.reduceat(low, starts), counts)
    refine = np.nonzero(use & (ratio >= lmax * (1.0 - _ROUNDING)))[0]
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
    up, e_up = _golden(air, pl[owner], lv[owner], on[owner], fc[owner], p, q, lr)
    # the largest bound of each candidate's pieces (pieces are grouped by candidate, in order)
    grp = np.r_[0, np.nonzero(np.diff(owner))[0] + 1]
    best = np.maximum.reduceat(up, grp)
    at = up == np.repeat(best, np.diff(np.r_[grp, up.size]))
    first = np.minimum.reduceat(np.where(at, np.arange(up.size), up.size), grp)
    who = owner[grp]
    better = best < ratio[who]
    ratio[who[better]] = best[better]
    elapsed[who[better]] = e_up[first[better]]
    return ratio, elapsed


def _golden(air: object, place: IntArray, lv: IntArray, on: FloatArray, fc: FloatArray, p: FloatArray,
            q: FloatArray, lr: LevelRatio) -> tuple[FloatArray, FloatArray]:
    """Per piece ``[p, q]``, an upper bound of the most of ``fc C(t)/level(t − on)`` and the elapsed duration at the
    end of the bracket it is read on."""
    from plumecast.nearfield.zones.onset_time import PlaceAir

    assert isinstance(air, PlaceAir)

    def g(idx: IntArray, t: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(fc[idx] * air.at(place[idx], t)) - _log_level(lr, lv[idx], t - on[idx]),
                              dtype=float)

    # the maximum is no earlier than the air's most on the piece (before it the air rises, the level falls)
    lo = np.clip(air.t_peak(place), p, q)
    hi = q.copy()
    n = p.size
    m1 = hi - _PHI * (hi - lo)
    m2 = lo + _PHI * (hi - lo)
    all_idx = np.arange(n, dtype=np.intp)
    g1 = g(all_idx, m1)
    g2 = g(all_idx, m2)
    act = np.nonzero(hi - lo > REL_WIDTH * np.maximum(hi - on, 1.0))[0]
    while act.size:
        left = g1[act] >= g2[act]  # the maximum in [lo, m2] (ties: a concave function's lies between m1 and m2)
        o1, o2, h1, h2 = m1[act], m2[act], g1[act], g2[act]
        ha = np.where(left, o2, hi[act])
        la = np.where(left, lo[act], o1)
        n1 = np.where(left, ha - _PHI * (ha - la), o2)
        n2 = np.where(left, o1, la + _PHI * (ha - la))
        g_new = g(act, np.where(left, n1, n2))
        g1[act] = np.where(left, g_new, h2)
        g2[act] = np.where(left, h1, g_new)
        m1[act], m2[act] = n1, n2
        lo[act], hi[act] = la, ha
        stuck = (n1 <= la) | (n2 >= ha) | (n1 > n2)
        act = act[(ha - la > REL_WIDTH * np.maximum(ha - on[act], 1.0)) & ~stuck]
    # the air's most over the bracket (it rises to its peak and falls) over the level at the bracket's end
    t_most = np.clip(air.t_peak(place), lo, hi)
    with np.errstate(divide="ignore", over="ignore"):
        bound = fc * air.at(place, t_most) * np.exp(-_log_level(lr, lv, hi - on))
    return np.asarray(bound, dtype=float), np.asarray(hi - on, dtype=float)



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
