"""The time within the onset interval at which the zones' air first reaches the onset floor (session 52).

The zones read each AEGL for the exposure elapsed since the onset (:class:`~plumecast.nearfield.zones.windowed.
LevelRatio`). Taken at the *start* of the first interval in which the air reaches the floor
(:mod:`plumecast.nearfield.zones.window_peaks`), that onset is up to one interval, some 0.9 % of the time since
the release on the geometric 1,200-interval axis, before the air's own, and the exposure read that much longer:
far from the source (Graniteville, class F, the dense cloud's AEGL-3 tip: 7 min at 70 km against 41 min of
exposure) the zone came out 17 % longer than on a 16 times finer axis (docs/local_scale.md). Each profile of the
zones is zero before its advective front and then rises to one peak (a puff's at ``x/u``, Palazzi's at
``max(T, x/u + T/2)``), so within the onset interval the first time ``t`` at which ``f × C(t)`` reaches the floor
lies between the interval's start (or the front, if later) and its end (or the peak, if sooner), and is found by
bisection on the model's own air (the expression the series are sampled from; a closed form would need the
inverse of Palazzi's difference of two erfs). The bisection keeps the time the air is known to be below the floor:
never after the air's onset, so the level is never read for a shorter exposure than the air's, and, being the air's
onset on every axis, the same (to the bracket of :data:`REL_TOL`) on a finer axis, whose zones are then never
longer than these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.zones.window_peaks import _air

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: The bisection's last bracket, relative to the time since the release start (1e-9: 0.1 ms at a day).
REL_TOL = 1e-9


@dataclass(frozen=True)
class PlaceAir:
    """The air the zones' series of some places are sampled from: ``amplitude × g(x, t)`` as
    :func:`~plumecast.nearfield.zones.windowed.windowed_interval_means` takes it (``kind``, ``factors``, ``cap``,
    ``duration_s``, per-place ``x``, ``sx``), zero before each place's advective ``front`` [s]."""

    kind: str
    amplitude: FloatArray
    x: FloatArray
    sx: FloatArray
    u: float
    duration_s: float
    front: FloatArray
    factors: tuple[FloatArray, FloatArray] | None = None
    cap: float = math.inf

    def t_peak(self, place: IntArray) -> FloatArray:
        """When the air at ``place`` peaks (it rises to there from the front and then falls). [s]"""
        x = self.x[place]
        if self.kind == "palazzi":
            return np.asarray(np.maximum(self.duration_s, x / self.u + 0.5 * self.duration_s), dtype=float)
        return np.asarray(x / self.u, dtype=float)

    def at(self, place: IntArray, t: FloatArray) -> FloatArray:
        """The air at ``place`` at time ``t`` (one per pair; 0 before the front), as the series sample it. [kg m-3]"""
        c = _air(self.kind, self.amplitude, self.x, self.sx, self.u, self.duration_s, place, t, self.factors,
                 self.cap)
        return np.asarray(np.where(t >= self.front[place], c, 0.0), dtype=float)

    def at_each(self, t: FloatArray) -> FloatArray:
        """:meth:`at` at every place in order, one time each (the same values, without taking the places)."""
        c = _air(self.kind, self.amplitude, self.x, self.sx, self.u, self.duration_s, slice(None), t, self.factors,
                 self.cap)
        return np.asarray(np.where(t >= self.front, c, 0.0), dtype=float)

    def take(self, idx: IntArray) -> PlaceAir:
        """The places ``idx`` (in that order, repeats allowed)."""
        factors = None if self.factors is None else (self.factors[0][idx], self.factors[1][idx])
        return PlaceAir(self.kind, self.amplitude[idx], self.x[idx], self.sx[idx], self.u, self.duration_s,
                        self.front[idx], factors, self.cap)

    @classmethod
    def concat(cls, parts: list[PlaceAir | None]) -> PlaceAir | None:
        """The places of ``parts`` one after the other; None unless all are the same air (kind, wind, duration,
        cap) at different places."""
        if not parts or any(p is None for p in parts):
            return None
        ps = [p for p in parts if p is not None]
        a = ps[0]
        if any((p.kind, p.u, p.duration_s, p.cap, p.factors is None) != (a.kind, a.u, a.duration_s, a.cap,
                                                                           a.factors is None) for p in ps):
            return None
        factors = None
        if a.factors is not None:
            factors = (np.concatenate([p.factors[0] for p in ps if p.factors is not None]),
                       np.concatenate([p.factors[1] for p in ps if p.factors is not None]))
        return replace(a, amplitude=np.concatenate([p.amplitude for p in ps]), x=np.concatenate([p.x for p in ps]),
                       sx=np.concatenate([p.sx for p in ps]), front=np.concatenate([p.front for p in ps]),
                       factors=factors)


def onset_times(air: PlaceAir, place: IntArray, interval: IntArray, target: FloatArray, begins: FloatArray,
                ends: FloatArray) -> FloatArray:
    """Per pair, a time within interval ``interval`` no later than the first at which the air at ``place`` reaches
    ``target``, by no more than :data:`REL_TOL` of the time since the release start: the front (or the interval's
    start) where the air is at ``target`` there already, else the lower end of the bisection's last bracket. Where
    the air does not reach ``target`` in the interval's part from the front to the peak (only the rounding of the
    interval means can put the onset there: the air is then within rounding of it at that part's end), that end;
    the interval's start where there is no such part. [s]"""
    place = np.asarray(place, dtype=np.intp)
    b0 = begins[interval]
    lo = np.maximum(b0, air.front[place])
    hi = np.minimum(ends[interval], air.t_peak(place))
    ok = hi > lo
    out = np.where(ok, hi, b0)
    ok[ok] = air.at(place[ok], hi[ok]) >= target[ok]
    if not ok.any():
        return np.asarray(out, dtype=float)
    k = np.nonzero(ok)[0]
    lo_k, hi_k, pl, tg = lo[k], hi[k], place[k], target[k]
    at_lo = air.at(pl, lo_k) >= tg  # at the front (or the interval's start) already
    out[k[at_lo]] = lo_k[at_lo]
    act = np.nonzero(~at_lo)[0]
    lo_a, hi_a, pl, tg = lo_k[act], hi_k[act], pl[act], tg[act]
    while lo_a.size:  # C(lo) < target <= C(hi)
        mid = 0.5 * (lo_a + hi_a)
        stuck = (mid <= lo_a) | (mid >= hi_a)  # adjacent doubles
        up = air.at(pl, mid) >= tg
        hi_a = np.where(up, mid, hi_a)
        lo_a = np.where(up, lo_a, mid)
        done = (hi_a - lo_a <= REL_TOL * hi_a) | stuck
        if done.any():
            out[k[act[done]]] = lo_a[done]
            keep = ~done
            act, lo_a, hi_a, pl, tg = act[keep], lo_a[keep], hi_a[keep], pl[keep], tg[keep]
    return np.asarray(out, dtype=float)
