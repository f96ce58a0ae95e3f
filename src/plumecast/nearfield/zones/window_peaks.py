"""The most of the zones' air within and up to the end of each interval: the onset of exposure and the level ratio.

Exposure at a place begins with the first interval whose air reaches the onset floor
(:func:`plumecast.consequence.onset_floor`), and the AEGL is read for the duration elapsed since
that interval's start. Taken from the interval *means* (the 4-sample means of
:func:`~plumecast.nearfield.zones.windowed.windowed_interval_means`) the onset can come an interval
after the air reaches the floor, where the front reaches it near an interval's end (session 50), and
the means smooth a passing cloud's peak, so that the ratio read from them falls short of the air's
(session 51): 3 t of chlorine over 600 s, class F, 1.5 m/s drew AEGL-2 to 59.0 km against 60.4 km on a
16 times finer axis (docs/local_scale.md). The air's own most is known in closed form: each profile of
the zones (a puff's ``exp(−(x − u t)²/2σ²)``, Palazzi's factor of a finite release) is zero before the
advective front (:func:`~plumecast.nearfield.zones.windowed.front_time_s`), then rises to one peak and
falls (a puff's at ``x/u``, Palazzi's at ``max(T, x/u + T/2)``), so the most of the air up to time ``t``
is its value at ``min(t, t_peak)`` once ``t`` is past the front, and its most within an interval the
value at ``t_peak`` held within the interval's part after the front. The onset read from the first
(the first interval in which the air itself can reach the floor) is never later than the air's; the
ratio read from the second (over the level at the interval's end) is never below the air's own.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.gaussian import cap_at_pure_vapour, finite_duration_factor

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def air_most(
    kind: str,
    amplitude: FloatArray,
    x: FloatArray,
    sx: FloatArray,
    u: float,
    duration_s: float,
    ends_s: FloatArray,
    owner: IntArray,
    interval: IntArray,
    front: FloatArray,
    factors: tuple[FloatArray, FloatArray] | None = None,
    cap_kg_m3: float = math.inf,
    plateau: tuple[IntArray, IntArray] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The most of ``amplitude × g(x, t)`` (the kinds and factors of
    :func:`~plumecast.nearfield.zones.windowed.windowed_interval_means`) at place ``owner`` within interval
    ``interval`` (from the place's ``front`` on: the air at ``clip(t_peak, max(start, front), end)``) and from
    the release start to that interval's end (the air at ``min(end, t_peak)``), one value per pair each, zero
    where the end is not past the ``front``. ``sx`` as that function takes it (at least 1e-9). ``plateau`` (per
    place): the intervals ``[p0, p1)`` on which the air holds its peak (Palazzi's plateau of a long release,
    where the factor is exactly 1; none where ``p1 <= p0``). [kg m-3]"""
    if owner.size == 0:
        return np.zeros(0), np.zeros(0)
    if kind == "palazzi":
        t_peak = np.maximum(duration_s, x / u + 0.5 * duration_s)
    else:
        t_peak = x / u
    end = ends_s[interval]
    begin = np.where(interval > 0, ends_s[np.maximum(interval - 1, 0)], 0.0)
    tp = t_peak[owner]
    on_plateau = np.zeros(owner.size, dtype=bool)
    done = end >= tp
    if plateau is not None:
        on_plateau = (interval >= plateau[0][owner]) & (interval < plateau[1][owner])
        done |= interval >= np.where(plateau[1] > plateau[0], plateau[0], np.iinfo(np.intp).max)[owner]
    # the air at its peak, once per place that has it within or before an interval: the most up to the ends after
    places = np.unique(owner[done])
    at_peak = np.zeros(x.size)
    at_peak[places] = _air(kind, amplitude, x, sx, u, duration_s, places, t_peak[places], factors, cap_kg_m3)
    within = np.empty(owner.size)
    within[on_plateau] = at_peak[owner[on_plateau]]
    rest = ~on_plateau
    t = np.clip(tp[rest], np.maximum(begin[rest], front[owner[rest]]), end[rest])
    within[rest] = _air(kind, amplitude, x, sx, u, duration_s, owner[rest], t, factors, cap_kg_m3)
    upto = np.where(done, at_peak[owner], within)  # rising to the end: the air at the end, the interval's most
    past = end > front[owner]
    return (np.asarray(np.where(past, within, 0.0), dtype=float), np.asarray(np.where(past, upto, 0.0), dtype=float))


def _air(kind: str, amplitude: FloatArray, x: FloatArray, sx: FloatArray, u: float, duration_s: float,
         owner: IntArray | slice, t: FloatArray, factors: tuple[FloatArray, FloatArray] | None,
         cap_kg_m3: float) -> FloatArray:
    """The air at place ``owner`` at time ``t`` (one per pair), as the kinds' samples are taken. [kg m-3]"""
    xo, so = x[owner], sx[owner]
    if kind == "palazzi":
        return np.asarray(amplitude[owner] * finite_duration_factor(xo, t, u, duration_s, so), dtype=float)
    if kind == "gauss":
        return np.asarray(amplitude[owner] * np.exp(-((xo - u * t) ** 2) / (2 * so**2)), dtype=float)
    if kind == "puff":
        assert factors is not None
        along = np.exp(-((xo - u * t) ** 2) / (2 * so**2)) / (np.sqrt(2 * np.pi) * so)
        return np.asarray(cap_at_pure_vapour(amplitude[owner] * along * factors[0][owner] * factors[1][owner],
                                             cap_kg_m3), dtype=float)
    raise ValueError(kind)  # pragma: no cover
