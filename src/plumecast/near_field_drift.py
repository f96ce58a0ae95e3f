"""The streak line within a step: the old leg's air carried sideways after a turn.

The near field's plume along the streak line (:mod:`plumecast.near_field_track`) reads the line at each step's
end. After a turn the old leg's air is carried sideways by the new wind, and a 600-s step at 3 m/s moves the line
1.8 km: a place the line passes within the step, between where it was at the step's start and where it is at the
step's end, read nothing of it. A 90-degree turn between two met records 100 s apart (14.4 t of chlorine over 2 h,
class D, 3 m/s) read AEGL-1 10 km out 15-45 degrees off the old leg "never" with 600- and 300-s steps, where 10-s
Gaussian puffs in the same wind reach them at 66-101 min, and the 1-km dose 15-75 degrees off the old leg was
0.26-0.36 of the puffs' (session 51 audit, docs/exposure.md "A turn within a step").

Here a step whose line is not straight (:attr:`plumecast.near_field_track.Track.straight`: the wind has turned
since the line's oldest air left) reads the line at ``m`` knots within the step (:func:`sub_lines`): at the end of
each of ``m`` equal sub-steps, each moving every stretch of the old line across itself (:func:`stretch_drift`) by
at most :data:`DRIFT_SIGMAS` of its plume's sigma_y (:func:`knots_in_step`, at most :data:`MAX_DRIFT`). The line at
a time within the step is the line at its start moved by the wind's run since (each step's stretch is the run of
its wind, in the middle's direction, :func:`plumecast.near_field_track.track_at`), with the air emitted since along
that run: the same knots as the step's end line, the old ones moved back by the part of the step's run still to
come, the step's own stretch cut at the sub-steps. The step's plume along the line is then

- its **mean** (the dose): the time average of the sub-steps' plumes, each along its own end's line with its own
  emission window (the air that passed a place within it);
- its **peak** and **front** (the countdowns): the largest and earliest over the sub-steps, each also with every
  place pulled toward its nearest point of the line by half its stretch's drift across itself in a sub-step
  (:func:`_pulled`): between two knots the stretch is a knot's moved across itself by at most that much, so a
  place is no farther from it than its distance to the knot's line less that (the plume falls off with the
  distance across it): above the air between the knots, its front no later than theirs; and the step's whole air
  at its end line (the read before, which puts all the step's air where the line ends).

A straight line (a steady wind, or one that changes in speed only) reads the step's end line alone, as before, to
the bit; one whose stretches the step moves across themselves by less than that (a slow veer) keeps the end line's
mean (one knot) and adds the pulled peak and front.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.near_field_plume import COVER_SIGMAS, NearFieldSource, local_latlon, local_xy
from plumecast.near_field_track import Track
from plumecast.near_field_turn import mean_of_parts
from plumecast.nearfield.gaussian import briggs_sigma_y

#: How far a stretch of the line moves across itself at most between two of a step's knots [its plume's sigma_y]:
#: the sub-steps' means then sample a Gaussian crossing finely enough for its dose (their average is within 2 %
#: of its integral)
DRIFT_SIGMAS = 2.0
#: At most this many knots within a step (beyond, each sub-step's drift is longer; the peak's pull follows it)
MAX_DRIFT = 24

Out = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
            NDArray[np.float64]]


def stretch_drift(track: Track) -> NDArray[np.float64]:
    """Per stretch of ``track`` (``j`` to ``j + 1``), how far the step's run moves it across itself [m]: 0 for the
    step's own air (it is laid along the run); an old stretch's run across it, or the whole run where the wind
    blows against the stretch (as after a reversal, where the line folds)."""
    out = np.zeros(max(track.path.size - 1, 0))
    if track.straight or track.path.size < 3:
        return out
    run = np.array([track.east[1], track.north[1]])
    seg = np.stack((np.diff(track.east[1:]), np.diff(track.north[1:])), axis=1)  # the old stretches
    length = np.hypot(seg[:, 0], seg[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        across = np.where(length > 0.0, np.abs(seg[:, 0] * run[1] - seg[:, 1] * run[0]) / length, 0.0)
    out[1:] = np.where(seg @ run < 0.0, float(np.hypot(*run)), across)
    return out


def knots_in_step(track: Track, pg_class: str, terrain: str) -> int:
    """How many knots the step's line is read at for its mean: enough that between two of them no stretch moves
    across itself (:func:`stretch_drift`) by more than :data:`DRIFT_SIGMAS` of its plume's sigma_y, at most
    :data:`MAX_DRIFT`; 1 for a straight line (a steady wind, or one that changes in speed only), and for one
    that bends slowly (a wind veering 20 degrees an hour at 3 m/s moves its line 0.03-0.3 sigma_y a 300-s step)."""
    drift = stretch_drift(track)
    if not (drift > 0.0).any():
        return 1
    mid = 0.5 * (track.path[:-1] + track.path[1:])
    sy: NDArray[np.float64] = np.asarray(briggs_sigma_y(np.maximum(mid, 1.0), pg_class, terrain),  # type: ignore[arg-type]
                                         dtype=np.float64)
    need = drift / (sy * DRIFT_SIGMAS)
    return int(min(max(math.ceil(float(np.max(need))), 1), MAX_DRIFT))


def sub_lines(track: Track, dt_s: float, m: int) -> list[Track]:
    """The line at the ends of ``m`` equal sub-steps of the step (the last: ``track`` itself, its first stretch
    cut), or ``[track]`` for ``m`` 1 (module docstring)."""
    if m <= 1:
        return [track]
    h = dt_s / m
    out = []
    for i in range(1, m + 1):
        back = 1.0 - i / m  # the share of the step's run still to come
        f = np.arange(i + 1) / m  # the knots of the air emitted since the step's start
        thinned = None if track.thinned is None else np.concatenate((np.full(i, track.thinned[0]),
                                                                     track.thinned[1:]))
        out.append(dataclasses.replace(
            track, ago=np.concatenate((h * np.arange(i + 1), track.ago[2:] - back * dt_s)),
            east=np.concatenate((f * track.east[1], track.east[2:] - back * track.east[1])),
            north=np.concatenate((f * track.north[1], track.north[2:] - back * track.north[1])),
            path=np.concatenate((f * track.path[1], track.path[2:] - back * track.path[1])),
            thinned=thinned))
    return out


def _located(src: NearFieldSource, line: Track, lat: NDArray[np.float64], lon: NDArray[np.float64], pg_class: str,
             branch: int) -> tuple[NDArray[np.float64], ...]:
    """The points' east and north [m from the source] and :meth:`Track.locate`'s ``x``, ``y`` on ``line`` (its
    ``branch``, with the cover of the class ``pg_class`` as :meth:`NearFieldSource.step_mean_at` takes it)."""
    east, north = local_xy(lat, lon, src.lat, src.lon, 1.0, 0.0)
    cover = COVER_SIGMAS * briggs_sigma_y(np.maximum(line.path, 1.0), pg_class, src.terrain)  # type: ignore[arg-type]
    x, y = line.locate(east, north, np.asarray(cover, dtype=np.float64), branch)
    return east, north, x, y


def _pulled(src: NearFieldSource, line: Track, lat: NDArray[np.float64], lon: NDArray[np.float64], t_s: float,
            by_m: NDArray[np.float64], branch: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The points (``lat``, ``lon`` [deg]) moved ``by_m`` (per point) toward their point on ``line``
    (:func:`_located`), onto it where nearer; where the branch has none, not moved. [deg]"""
    east, north, x, y = _located(src, line, lat, lon, src.class_and_lid(t_s)[0], branch)
    known = np.isfinite(x) & np.isfinite(y)
    x = np.where(known, x, 0.0)
    fx = np.interp(x, line.path, line.east)
    fy = np.interp(x, line.path, line.north)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(known & (y > 0.0), np.minimum(by_m / y, 1.0), 0.0)
    return local_latlon(east + share * (fx - east), north + share * (fy - north), src.lat, src.lon)


def drifted(plume_of: Any, src: NearFieldSource, lat: NDArray[np.float64], lon: NDArray[np.float64], t0_s: float,
            t1_s: float, track: Track, branch: int, m: int, pg_class: str, clouds: Any = None) -> Out:
    """The step's plume along the streak line ``track`` (at the step's end; six as
    :meth:`plumecast.exposure.ExposureSampler._plume_step`'s: mean, bins, early share, peak, front, edge), read at
    ``m`` knots within the step (:func:`knots_in_step`; 1: its end alone; module docstring); ``pg_class``: the class
    at the step's middle. ``plume_of(lat, lon, t0, t1, line)``: the plume along ``line`` over ``[t0, t1]`` (its
    ``branch``: :meth:`Track.locate`). ``clouds(bound)``: for a release that can be dense, the step's knots' clouds
    shared by the sub-steps (:func:`plumecast.near_field_turn.knot_clouds`; ``bound`` for the pulled peaks: the
    larger of the two around a speed), not one set up and read in full at each sub-step's speed."""
    drift = stretch_drift(track)
    if not (drift > 0.0).any():  # straight: the step's end line, as before
        return plume_of(lat, lon, t0_s, t1_s, track)  # type: ignore[no-any-return]
    lines = sub_lines(track, t1_s - t0_s, m)
    m, n = len(lines), lat.size
    h = (t1_s - t0_s) / m
    # per point: half its stretch's drift across itself between two knots, the most a place is nearer the line
    # between them than at the nearest knot
    x = _located(src, track, lat, lon, pg_class, branch)[2]
    j = np.clip(np.searchsorted(track.path, np.nan_to_num(x), side="right") - 1, 0, drift.size - 1)
    half = np.where(np.isfinite(x), 0.5 * drift[j] / m, 0.0)
    whole = plume_of(lat, lon, t0_s, t1_s, track)  # the step's air at its end line, as before: no countdown later
    peak, front, edge = whole[3], whole[4], whole[5]
    parts = []
    shared = clouds if clouds is not None else (lambda bound: contextlib.nullcontext())
    for i, line in enumerate(lines):
        a, b = t0_s + i * h, (t0_s + (i + 1) * h if i + 1 < m else t1_s)
        with shared(False):
            got = whole if m == 1 else plume_of(lat, lon, a, b, line)
        parts.append((got[0] / m, got[1], got[2]))
        lat2, lon2 = _pulled(src, line, lat, lon, 0.5 * (a + b), half, branch)
        with shared(True):
            near = plume_of(lat2, lon2, a, b, line)
        peak = np.maximum(peak, np.maximum(got[3], near[3]))
        front = np.minimum(front, np.minimum(got[4], near[4]))
        edge = np.maximum(edge, np.maximum(got[5], near[5]))
    mean, bins, early = mean_of_parts(parts, n)
    return mean, bins, early, np.maximum(peak, mean), front, edge
