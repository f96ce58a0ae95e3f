"""The most of the zones' air up to the end of each interval, for the onset of exposure.

Exposure at a place begins with the first interval whose air reaches the onset floor
(:func:`plumecast.consequence.onset_floor`), and the AEGL is read for the duration elapsed since
that interval's start. Taken from the interval *means* (the 4-sample means of
:func:`~plumecast.nearfield.zones.windowed.windowed_interval_means`) the onset can come an interval
after the air reaches the floor, where the front reaches it near an interval's end: the exposure then
reads shorter, the AEGL higher, and a zone shorter than the same scenario on a finer axis (3 t of
chlorine over 600 s, class F, 1.5 m/s: AEGL-2 59.0 km against 60.4 km on a 16 times finer axis;
docs/local_scale.md). The air's own most is known in closed form: each profile of the zones (a
puff's ``exp(−(x − u t)²/2σ²)``, Palazzi's factor of a finite release) is zero before the advective
front (:func:`~plumecast.nearfield.zones.windowed.front_time_s`), then rises to one peak and falls
(:func:`plumecast.nearfield.zones.arrival.interval_peaks`: a puff's at ``x/u``, Palazzi's at
``max(T, x/u + T/2)``), so the most of the air up to time ``t`` is its value at ``min(t, t_peak)``
once ``t`` is past the front. The onset read from that (the first interval in which the air itself
can reach the floor) is never later than the air's.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def running_most(
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
    settled: IntArray | None = None,
) -> FloatArray:
    """The most of ``amplitude × g(x, t)`` (the kinds and factors of
    :func:`~plumecast.nearfield.zones.windowed.windowed_interval_means`) from the release start to the end of
    interval ``interval`` at place ``owner`` (one value per pair), zero where that end is not past the place's
    ``front``. ``sx`` as that function takes it (at least 1e-9). ``settled`` (per place): the first interval
    from which the air has held its peak (Palazzi's plateau, where the factor is exactly 1), if any. [kg m-3]"""
    if owner.size == 0:
        return np.zeros(0)
    if kind == "palazzi":
        t_peak = np.maximum(duration_s, x / u + 0.5 * duration_s)
    else:
        t_peak = x / u
    end = ends_s[interval]
    done = end >= t_peak[owner]
    if settled is not None:
        done |= interval >= settled[owner]
    c = np.empty(owner.size)
    # past the peak (or on the plateau) the most is the peak's: once per place
    places = np.unique(owner[done])
    at_peak = np.zeros(x.size)
    at_peak[places] = _air(kind, amplitude, x, sx, u, duration_s, places, t_peak[places], factors, cap_kg_m3)
    c[done] = at_peak[owner[done]]
    rising = ~done
    c[rising] = _air(kind, amplitude, x, sx, u, duration_s, owner[rising], end[rising], factors, cap_kg_m3)
    return np.asarray(np.where(end > front[owner], c, 0.0), dtype=float)


def _air(kind: str, amplitude: FloatArray, x: FloatArray, sx: FloatArray, u: float, duration_s: float,
         owner: IntArray, t: FloatArray, factors: tuple[FloatArray, FloatArray] | None,
         cap_kg_m3: float) -> FloatArray:
    """The air at place ``owner`` at time ``t`` (one per pair), as the kinds' samples are taken. [kg m-3]"""
    from plumecast.nearfield.gaussian import cap_at_pure_vapour, finite_duration_factor

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
