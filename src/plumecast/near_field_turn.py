"""A wind that turns within a transport step: the directions the near-field plume passed through.

The near field reads each step's steady plume with the source's wind at the step's middle
(:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`), and its streak line at the step's end
(:mod:`plumecast.near_field_track`). Where the wind turns within a step, the plume sweeps places side-on that
neither the middle's direction nor the line at the step's end reaches: a 90-degree turn between two met
records 100 s apart (14.4 t of chlorine over 2 h, class D, 3 m/s) read AEGL-1/2/3 1-2 km out at 15-75 degrees off
the old leg "never" with 600-s steps, where 10-s Gaussian puffs in the same wind reach them at 59-66 min (session
51 audit, docs/exposure.md).

Here a step whose carrying direction (:meth:`NearFieldSource.source_wind` at the step's ends, middle, the met's
records within it and the bottoms of the speed's dips, :meth:`NearFieldSource.speed_knots`; the wind's vector is
linear between them, so its direction turns monotonically from one to the next) turns by more than
:data:`TURN_DEG` also reads the steady plumes of the winds within it:

- its **mean** (the dose) as the time average of the steady plumes of sub-steps that each turn by at most
  :data:`SUB_DEG`, each with its own emission window (the window of its own middle's wind over the sub-step),
  in place of the plume of the middle's wind (the streak line's plume is then compared with it as in any other
  step: the larger of the two); each sub-step's window is one sub-step of emission, so the air a place breathes
  in the step is the emission of the sub-steps whose plume covers it, once each;
- its **peak** and **front** (the countdowns) as a bound over all the directions the wind passed through: over a
  stretch of the step between two knots, a place whose bearing lies between the stretch's
  directions is taken on the axis of the stretch's plume (at its distance from the source), one off them at its
  angle from the nearest (:func:`_swept_points`). The steady plume falls off with the angle from its axis, so
  this is above every direction's within the stretch, and its front is no later than any of theirs: the
  countdowns err early, never late.

A steady wind, and one that changes in speed only, read no more plumes: their steps are as before, to the bit.
A release that can be dense reads its sub-steps' means with the dense clouds of the step's knots, shared
(:meth:`plumecast.near_field_dense.DenseCloud.shared`), not one cloud set up at each sub-step's speed, and its
stretches' peaks and fronts with a bound of those (``bound``: the larger of the two clouds around a speed).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.near_field_fold import within_step_since
from plumecast.near_field_plume import NearFieldSource, local_latlon, local_xy

#: How far [deg] the source's wind must turn within a step for its plume to read the directions within it
TURN_DEG = 5.0
#: How far [deg] each sub-step of the step's mean turns at most
SUB_DEG = 2.0
#: At most this many sub-steps of a step's mean (a reversal through a calm needs two)
MAX_SUB = 120

Out = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
            NDArray[np.float64]]


def turn_knots(src: NearFieldSource, wind_at: Any, t0_s: float, t1_s: float, times: list[float] | None = None,
               vec: list[tuple[float, float]] | None = None,
               ) -> tuple[list[float], list[tuple[float, float]], list[float]] | None:
    """The step's knots of the carrying wind (:meth:`NearFieldSource.knot_winds`), the wind's vector there and its
    direction [rad, unwrapped along the knots: each piece between two knots turns the short way, a calm taking
    its neighbour's direction], or None where the direction turns by no more than :data:`TURN_DEG` over the step
    (or no wind is known). ``times`` and ``vec``: the step's knots and the wind's vectors there (east, north
    [m s-1]) where the caller has them, read once a step (None: read here)."""
    if wind_at is None:
        return None
    if times is None:
        times, winds = src.knot_winds(wind_at, t0_s, t1_s)
        vec = [w[:2] for w in winds]
    elif vec is None:
        vec = [src.source_wind(wind_at, t)[:2] for t in times]
    raw = [math.atan2(v, u) if (u != 0.0 or v != 0.0) else math.nan for u, v in vec]
    if all(math.isnan(a) for a in raw):
        return None
    # a calm knot: the direction of the piece on its other side (the vector is linear, its direction constant there)
    filled = list(raw)
    for i, a in enumerate(raw):
        if math.isnan(a):
            before = next((raw[j] for j in range(i - 1, -1, -1) if not math.isnan(raw[j])), None)
            after = next((raw[j] for j in range(i + 1, len(raw)) if not math.isnan(raw[j])), None)
            filled[i] = before if before is not None else after  # type: ignore[assignment]
    ang = [filled[0]]
    for a in filled[1:]:
        d = (a - ang[-1] + math.pi) % (2.0 * math.pi) - math.pi
        ang.append(ang[-1] + d)
    turned = sum(abs(b - a) for a, b in zip(ang[:-1], ang[1:], strict=True))
    if math.degrees(turned) <= TURN_DEG:
        return None
    return times, vec, ang


def _direction_at(times: list[float], vec: list[tuple[float, float]], ang: list[float], t: float) -> float:
    """The wind's direction [rad, on ``ang``'s unwrapping] at ``t`` within the knots (its vector linear between)."""
    i = min(max(int(np.searchsorted(times, t, side="right")) - 1, 0), len(times) - 2)
    f = (t - times[i]) / (times[i + 1] - times[i]) if times[i + 1] > times[i] else 0.0
    u = vec[i][0] + f * (vec[i + 1][0] - vec[i][0])
    v = vec[i][1] + f * (vec[i + 1][1] - vec[i][1])
    if u == 0.0 and v == 0.0:
        return ang[i] if f < 0.5 else ang[i + 1]
    a = math.atan2(v, u)
    ref = ang[i] + f * (ang[i + 1] - ang[i])
    return ref + (a - ref + math.pi) % (2.0 * math.pi) - math.pi


def piece_ends(ang: list[float], calm: list[bool], i: int) -> tuple[float, float]:
    """The directions [rad] at the two ends of the piece from knot ``i - 1`` to knot ``i``: a calm end takes the
    other's (the vector is linear, so its direction is constant along a piece from or to a calm)."""
    a0, a1 = ang[i - 1], ang[i]
    if calm[i - 1]:
        a0 = a1
    if calm[i]:
        a1 = a0
    return a0, a1


def sub_steps(times: list[float], ang: list[float], calm: list[bool]) -> list[tuple[float, float]]:
    """The step's sub-steps for its mean: each piece between knots cut into equal times so that each turns by at
    most :data:`SUB_DEG` (:data:`MAX_SUB` in all at most)."""
    turns = [abs(b - a) for a, b in (piece_ends(ang, calm, i) for i in range(1, len(times)))]
    counts = [max(1, math.ceil(math.degrees(d) / SUB_DEG)) for d in turns]
    scale = min(1.0, MAX_SUB / max(sum(counts), 1))
    out = []
    for (ta, tb), n in zip(zip(times[:-1], times[1:], strict=True), counts, strict=True):
        n = max(1, int(n * scale))
        edges = np.linspace(ta, tb, n + 1)
        out += [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return out


def groups(times: list[float], ang: list[float], calm: list[bool]) -> list[tuple[float, float, float, float]]:
    """The stretches of the step whose peak is bound in one plume: each piece between two knots along which the
    wind turns, and each run of pieces along which it does not; per stretch its times and the lowest and highest
    direction [rad] it passes through (the direction is monotonic between knots). A stretch's plume reads the
    speeds at its ends and the met's records within it (:meth:`NearFieldSource._step_weathers`), so the bottom of
    a turn's dip, a knot, is one of them. A piece from or to a calm (``calm``: per knot) keeps its other end's
    direction: the wind's vector is linear, its direction constant along it (a reversal does not sweep a side)."""
    out: list[tuple[float, float, float, float]] = []
    for i in range(1, len(times)):
        a0, a1 = piece_ends(ang, calm, i)
        lo, hi = min(a0, a1), max(a0, a1)
        if out and lo == hi and out[-1][2] == out[-1][3] == lo:  # a run of pieces that do not turn
            out[-1] = (out[-1][0], times[i], lo, hi)
        else:
            out.append((times[i - 1], times[i], lo, hi))
    return [g for g in out if g[1] > g[0]]


def mean_of_parts(parts: list[tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]],
                  n: int) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """A step's mean, emission bin and early share from its sub-steps' ``parts`` (each: its air weighted by its
    share of the step, its bin, its early share; ``n`` points): the sum of their air, the bin of the part with the
    most air (the first of equals), and the share of the air from before that bin (the chosen bin's own early
    share, all of an earlier bin's). Used by :func:`swept` and :func:`plumecast.near_field_drift.drifted`."""
    mean, best = np.zeros(n), np.zeros(n)
    bins = np.zeros(n, np.int64)
    for air, k, _ in parts:
        mean += air
        more = air > best
        best, bins = np.where(more, air, best), np.where(more, k, bins)
    before = np.zeros(n)
    for air, k, e in parts:
        before += np.where(k == bins, air * e, np.where(k < bins, air, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        early = np.where(mean > 0.0, np.clip(before / mean, 0.0, 1.0), 0.0)
    return mean, bins, early


def knot_clouds(src: NearFieldSource, wind_at: Any, times: list[float] | None) -> Any:
    """``clouds(bound=False)``: for a release that can be dense (``src.dense``), the context
    :meth:`plumecast.near_field_dense.DenseCloud.shared` of the weathers at the step's knots ``times`` (the speed is
    monotonic between two: a sub-step's lies between its piece's ends'; ``bound``: the larger of the two clouds
    around a speed, for a peak and a front), those weathers read once, at its first call, for all the step's
    sub-steps; a context that does nothing for another release (or where no wind or knots are known)."""
    if src.dense is None or wind_at is None or times is None:
        return lambda bound=False: contextlib.nullcontext()
    dense = src.dense
    weathers: list[tuple[float, str, float]] = []

    def clouds(bound: bool = False) -> Any:
        if not weathers:
            weathers.extend((src.source_wind(wind_at, t)[2], *src.class_and_lid(t)) for t in times)
        return dense.shared(weathers, bound)

    return clouds


def _swept_points(src: NearFieldSource, lat: NDArray[np.float64], lon: NDArray[np.float64], mid: float, lo: float,
                  hi: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The points (``lat``, ``lon`` [deg]) turned about the source so that their angle from the plume's axis
    ``mid`` [rad] is their angle from the nearest direction in ``[lo, hi]`` (0 for those between them), at their
    own distance from it. [deg]"""
    east, north = local_xy(lat, lon, src.lat, src.lon, 1.0, 0.0)
    r = np.hypot(east, north)
    bearing = np.arctan2(north, east)
    off = (bearing - mid + math.pi) % (2.0 * math.pi) - math.pi  # the point's angle from the axis
    lo_off, hi_off = min(lo - mid, 0.0), max(hi - mid, 0.0)
    rest = off - np.clip(off, lo_off, hi_off)  # the angle from the nearest direction the stretch passed through
    return local_latlon(r * np.cos(mid + rest), r * np.sin(mid + rest), src.lat, src.lon)


def swept(plume_of: Any, src: NearFieldSource, lat: NDArray[np.float64], lon: NDArray[np.float64], t0_s: float,
          t1_s: float, wind_at: Any, out: Out, times: list[float] | None = None,
          vec: list[tuple[float, float]] | None = None, clouds: Any = None) -> Out:
    """The step's plume ``out`` (:meth:`plumecast.exposure.ExposureSampler._plume_step`'s six: mean, bins, early
    share, peak, front, edge) with the directions the source's wind passed through within the step (module
    docstring); ``out`` itself where it turns by no more than :data:`TURN_DEG`. ``plume_of(lat, lon, t0, t1,
    heading, top=True)``: the steady plume of the wind at the middle of ``[t0, t1]`` over it, with its own emission
    window (``heading``: its way where that wind is an exact calm; ``top`` False: its mean, bins and early share
    alone, the peak, front and edge not read). ``times`` and ``vec``: the step's knots of the carrying wind and its
    vectors there (:meth:`NearFieldSource.knot_winds`) where the caller has them; ``clouds``: the step's
    :func:`knot_clouds` where the caller has them (its knots' weathers read once a step, shared with the drifting
    line's sub-steps, :func:`plumecast.near_field_drift.drifted`)."""
    knots = turn_knots(src, wind_at, t0_s, t1_s, times, vec)
    if knots is None:
        return out
    times, vec, ang = knots
    peak, front, edge = (np.array(part, copy=True) for part in out[3:])
    n = peak.size
    dt = t1_s - t0_s
    # the mean: the time average of the sub-steps' steady plumes, each its own window
    parts = []
    calm = [u == 0.0 and v == 0.0 for u, v in vec]
    if clouds is None:
        clouds = knot_clouds(src, wind_at, times)
    with clouds():  # a dense-capable release: the knots' clouds, shared by the sub-steps
        for a, b in sub_steps(times, ang, calm):
            d = _direction_at(times, vec, ang, 0.5 * (a + b))
            way = (math.cos(d), math.sin(d))  # its mean alone (its peak not read), of the air that went its way
            cut = within_step_since(times, vec, a, b, way, src.class_and_lid(0.5 * (a + b))[0], src.terrain)
            got = plume_of(lat, lon, a, b, way, False, cut)
            parts.append(((b - a) / dt * got[0], got[1], got[2]))
    c, bins, early = mean_of_parts(parts, n)
    # the peak, front and edge: over each stretch, every direction it passed through
    with clouds(bound=True):  # a dense-capable release: the larger of two shared clouds
        for a, b, lo, hi in groups(times, ang, calm):
            mid_t = 0.5 * (a + b)
            u_e, v_n, _ = src.source_wind(wind_at, mid_t)
            d = math.atan2(v_n, u_e) if (u_e != 0.0 or v_n != 0.0) else _direction_at(times, vec, ang, mid_t)
            d = lo + (d - lo + math.pi) % (2.0 * math.pi) - math.pi if not lo <= d <= hi else d
            lat2, lon2 = _swept_points(src, lat, lon, d, min(lo, d), max(hi, d))
            got = plume_of(lat2, lon2, a, b, (math.cos(d), math.sin(d)))
            peak, front, edge = np.maximum(peak, got[3]), np.minimum(front, got[4]), np.maximum(edge, got[5])
    return c, bins, early, np.maximum(peak, c), front, edge
