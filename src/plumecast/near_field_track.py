"""Where a near-field source's air has gone when its wind changes: the plume's streak line.

The near-field plume (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`) is a
steady Gaussian plume of each step's wind at the source. In a steady wind that is the
air's true path; in a wind that changes, the air now ``x`` metres down the plume left the
source when the wind was another, and ``x / u`` of the step's wind ``u`` is neither its
travel time nor its place:

- a wind that slows from 3 to 1.5 m/s at 3 h had pushed the air's travel time to a
  receptor 20 km downwind from 1.9 to 3.7 h at once, and the receptor, in a steady stream
  of gas, read nothing for 1.5 h; 45-95 km downwind the plume came 2.4-2.7 h after the air
  did (10 kg/s of ammonia, class D; session 37);
- a wind that reverses at 6 h swung the whole plume upwind at once: the air emitted before
  the turn, 20-95 km east, read 1.3-6.3 h early at 20-95 km west, at 32 times the steady
  plume's peak at 20 km (its travel time fell from 20 km at the 1 m/s floor to 20 km at
  3 m/s within the hour of the turn, and hours of emission came in a few steps).

Here the plume follows its **streak line**, as a puff model that takes its wind at the
source (INPUFF, Petersen and Lavdas 1986; RIMPUFF with one mast) does: the air that left
the source at time ``t_e`` has moved, by the time ``t``, by the run of the source's
carrying wind over ``[t_e, t]`` (the wind of each step, :meth:`NearFieldSource.source_wind`:
its speed at least the 1 m/s floor), and its path is as long as the run's length. A
sample point takes the nearest point of that line: its distance along the line is the
plume's downwind distance ``x`` (its spreads those of the air's travel), its distance from
it the crosswind ``y``, and the air's travel time there is the time the wind took to run
``x``. The air's front (zones' lead of :math:`\\sqrt 2\\,\\sigma_x`) is the point of the line that
far short of ``x``. In a wind that changes speed only this is the air's exact travel, and
the step's mean of the emission window it brings is the exact concentration ``Q / u`` of
the wind the air left with; in a steady wind the line is straight and the plume is the
steady plume (:func:`track_at` gives None, and the plume is computed as before, to the
bit). Where the line folds back on itself (a wind that reverses) a point lies on two
stretches, the young air and the older air coming back: it takes each
(:meth:`Track.locate`, ``branch`` 0 and 1), and where the wind has changed a place breathes
the largest of these plumes and the steady plume of the step's wind
(:meth:`plumecast.exposure.ExposureSampler._plume_step`; the larger, not the sum; since session 52 the older
stretch's plume added, other air: :mod:`plumecast.near_field_fold`). Each step's emission window along
the line is its own: air that passes a place again (a reversal) or side-on (a turn) is counted when it passes (with
the windows the place had already breathed, as the steady plume keeps them, such air had read 0; session 38,
docs/exposure.md). It is the air that passed ``x`` within the step, ``[t0 - tau(t0), t1 - tau(t1)]``
(:meth:`Track.start_travel_s`), so its emission time runs at ``u(t)/u(t_e)`` and its air, over the moment's
``u(t)``, is the density ``Q/u(t_e)`` it left with: a wind the same everywhere carries its parcels on, a speed-up
does not compress them nor a slow-down thicken them (session 50; the window ``[t0 - tau, t1 - tau]``, one step of
emission long, had given ``Q/u(t)``: four times too thick in a 1 m/s lull for air that left at 4 m/s). The steady
plume of the step's wind takes its travel time off the line too where it is straight (``carried``), and each
step's stretch of the line is the run of its wind over the step (``runs``: the speed's integral, not the middle's
speed times the step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Track:
    """The streak line of a near-field source at the end of a step: knots ``j = 0 .. J`` of the
    air that left the source ``ago[j] = j dt`` seconds before, now at ``east[j]``, ``north[j]``
    metres from the source and ``path[j]`` metres along the line (both increasing with ``j``)."""

    ago: NDArray[np.float64]
    east: NDArray[np.float64]
    north: NDArray[np.float64]
    path: NDArray[np.float64]
    #: every stretch goes the same way (the wind has changed in speed only): the steady plume of the step's wind
    #: then lies along the line and takes its travel times off it (``step_mean_at``'s ``carried``)
    straight: bool = False
    #: per stretch (``j`` to ``j + 1``): its mean speed over the slowest within its step [>= 1; None: not known]
    thinned: NDArray[np.float64] | None = None

    def thickest(self, ago_lo: NDArray[np.float64], ago_hi: NDArray[np.float64], t_s: float = 0.0,
                 emitted_by: Any = None) -> NDArray[np.float64]:
        """Per point, the most the air that left ``ago_lo`` to ``ago_hi`` seconds before the line's time ``t_s`` can
        be thicker than the line takes it [>= 1]: the line runs each stretch at its step's mean speed, and a parcel
        that left when the wind was slowest within the step is that much denser (:attr:`thinned`; 1 where not
        known). ``emitted_by`` (the release's emitted mass by a time): a stretch none of whose air was emitted
        counts for nothing."""
        lo, hi = np.asarray(ago_lo, dtype=float), np.asarray(ago_hi, dtype=float)
        out = np.ones(lo.size)
        if self.thinned is None:
            return out
        thinned = self.thinned
        if emitted_by is not None:  # the mass each stretch's air left with, all the line's knots in one call
            e = np.asarray(emitted_by(t_s - self.ago), dtype=float)
            thinned = np.where(e[:-1] - e[1:] > 0.0, thinned, 1.0)
        for j in np.flatnonzero(thinned > 1.0):
            over = (hi >= self.ago[j]) & (lo <= self.ago[j + 1])
            out[over] = np.maximum(out[over], self.thinned[j])
        return out

    def locate(self, east_m: NDArray[np.float64], north_m: NDArray[np.float64], cover_m: NDArray[np.float64],
               branch: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Downwind ``x`` along the line and crosswind ``y`` (distance from it) of points at
        ``east_m``, ``north_m`` from the source [m], from the youngest stretch of the line (the
        least ``x``) that passes within ``cover_m`` (per knot: how far its plume reaches across,
        [m]) of the point, else from the line's nearest point. Where the line folds back (a wind
        that reverses) the youngest air that reaches a point is its plume, not whichever branch
        the rounding puts nearer (the older one's travel had held a point 20 km downwind at
        nothing). A point behind the source (before the first segment's start) gets its
        negative distance along that segment as ``x``, one past the line's far end ``x`` beyond
        its length. ``branch`` 1: the next older stretch that covers the point after the line has
        left it (older air coming back after a reversal, or a loop), NaN where there is none."""
        e = np.ascontiguousarray(east_m, dtype=np.float64)
        n = np.ascontiguousarray(north_m, dtype=np.float64)
        c = np.ascontiguousarray(cover_m, dtype=np.float64)
        if branch == 1:
            return _locate_older(e, n, self.east, self.north, self.path, c)
        return _locate(e, n, self.east, self.north, self.path, c)

    def travel_s(self, x_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """How long ago the air now ``x_m`` metres along the line left the source [s]."""
        return np.interp(x_m, self.path, self.ago)

    def start_travel_s(self, x_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """How long the air that was ``x_m`` metres along the line at the step's start (``ago[1]`` before the line's
        time) had been under way then [s]: that air has since run the last step's stretch, ``path[1]``, so it is
        now at ``x_m + path[1]``; beyond the line's far end at its last stretch's speed. The air between
        the two emission times, ``line time - travel_s(x)`` and ``step start - start_travel_s(x)``, is what passed
        ``x_m`` within the step (module docstring: its line density is that of the wind it left with)."""
        x = np.asarray(x_m, dtype=float) + self.path[1]
        ago = np.interp(x, self.path, self.ago)
        past = x > self.path[-1]
        if past.any():
            run = max(float(self.path[-1] - self.path[-2]), 1e-9)
            ago = np.where(past, self.ago[-1] + (x - self.path[-1]) * (self.ago[-1] - self.ago[-2]) / run, ago)
        return np.asarray(ago - self.ago[1], dtype=float)


def carrying_vector(u_e: float, v_n: float, speed: float, calm: Any = (1.0, 0.0)) -> tuple[float, float]:
    """The plume's carrying wind as a vector of its (floored) speed ``speed`` in the direction
    of ``(u_e, v_n)``; in a calm, in the direction of ``calm`` (the last step's; east where that
    is not known either, as :func:`plumecast.near_field_plume.local_xy`). [m s-1]"""
    norm = math.hypot(u_e, v_n)
    if norm == 0.0:
        cu, cv = float(calm[0]), float(calm[1])
        norm_c = math.hypot(cu, cv)
        if not norm_c > 0.0:  # NaN or zero: nothing known
            return speed, 0.0
        return cu * speed / norm_c, cv * speed / norm_c
    return u_e * speed / norm, v_n * speed / norm


def speed_span(winds: NDArray[np.float64], speeds: NDArray[np.float64]) -> tuple[float, float]:
    """The lowest and highest speed [m s-1] that has carried a plume over some steps: ``speeds`` (steps, 2),
    each step's lowest and highest at its start, middle and end (NaN: not sampled, as before a resume from a
    checkpoint written without them), and ``winds`` (steps, 2), each step's carrying wind at its middle
    (:func:`carrying_vector`), for the front of its air where the wind changes
    (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`'s ``speed_span``)."""
    mids = np.hypot(winds[:, 0], winds[:, 1])
    return float(np.nanmin(np.fmin(speeds[:, 0], mids))), float(np.nanmax(np.fmax(speeds[:, 1], mids)))


#: a change of the carrying weather smaller than this share of it is the met's rounding (:func:`changed_wind_steps`)
CHANGE_RTOL = 1e-6


def row_changes(rows: NDArray[np.float64], ref: NDArray[np.float64], span: bool) -> NDArray[np.bool_]:
    """Per row of ``rows`` (n, 2), known (finite) and other than ``ref`` (the first known row), or (``span``: a
    step's lowest and highest) with its two values apart, beyond :data:`CHANGE_RTOL` of the values: the met's
    rounding is no change (float32 fields interpolated in time: a steady wind's north component had read
    -1.1769785e-09 and -1.17697849e-09 m/s step to step, marking every step; session 49)."""
    tol = CHANGE_RTOL * np.maximum(np.abs(rows).max(axis=1), np.abs(ref).max())
    with np.errstate(invalid="ignore"):
        out = np.abs(rows - ref).max(axis=1) > tol
        if span:
            out |= np.abs(rows[:, 0] - rows[:, 1]) > tol
    return out & np.isfinite(rows).all(axis=1)


def changed_wind_steps(winds: NDArray[np.float64], speeds: NDArray[np.float64], starts_s: list[float],
                       dt_s: float, classes: NDArray[np.float64] | None = None,
                       class_spans: NDArray[np.float64] | None = None) -> NDArray[np.bool_]:
    """Per step (n_steps,): whether the weather carrying some near-field source's plume has changed (in speed,
    within a step or from step to step, or in direction) since its release began, from ``winds``
    (n_sources, n_steps, 2: each step's carrying wind at its middle, :func:`carrying_vector`), ``speeds``
    (n_sources, n_steps, 2: each step's lowest and highest carrying speed, at its start, middle, end and met
    records within it; NaN: not sampled) from the step each source's release begins in (``starts_s`` [s], of
    steps ``dt_s`` long; -inf: the first), and in class or lid at the steps' middles (``classes``, n_sources,
    n_steps, 2: the class's index and the lid [m]; None: not known) or within a step (``class_spans``, as
    ``speeds``, of the classes' indices). From such a step on, the steps' means,
    taken with each step's middle weather, can lag the air of finer steps (3 t of chlorine,
    the wind slowing from 4 to 1 m/s 15-20 min after the start: 0.78 of the 10-s steps' means 12 km out at
    125 min with 300-s steps), and the building's air indoors is bounded from the step's peak held over the
    step, not from its dose, where such a plume has air (:mod:`plumecast.shelter_lag`). In a steady wind: none;
    a change below :data:`CHANGE_RTOL` of the weather is none (:func:`row_changes`)."""
    w = np.asarray(winds, dtype=np.float64)
    s = np.asarray(speeds, dtype=np.float64)
    n = w.shape[1] if w.ndim == 3 else 0
    out = np.zeros(n, bool)
    for si, start_s in enumerate(starts_s):
        first = int(max(start_s // dt_s, 0)) if math.isfinite(start_s) else 0
        if first >= n:
            continue
        differ = np.zeros(n - first, bool)
        for rows, span in ((w, False), (s, True), (classes, False), (class_spans, True)):
            if rows is None:
                continue
            r = np.asarray(rows, dtype=np.float64)[si, first:]
            known = np.isfinite(r).all(axis=1)
            if known.any():  # from the first known row, and (a span) within a step
                differ |= row_changes(r, r[np.argmax(known)], span)
        out[first:] |= np.logical_or.accumulate(differ)
    return out


def track_at(winds: NDArray[np.float64], dt_s: float, reach_m: float,
             runs: NDArray[np.float64] | None = None, slowest: NDArray[np.float64] | None = None,
             shifts: NDArray[np.float64] | None = None) -> Track | None:
    """The streak line at the end of the last step of ``winds`` ((steps, 2): each step's carrying
    wind, east and north [m s-1], from the run's first step; :func:`carrying_vector`), out to
    ``reach_m`` along it, or None where the wind has been the same over all of it (the steady
    plume is then the air's path). Before the run's first step the wind is taken as that
    step's; a step not recorded (NaN: a run resumed from a checkpoint written before the winds
    were kept) as the next recorded one. ``runs`` (steps,): how far the wind ran over each step [m] (the
    speed's integral within it; NaN or None: the middle's speed times the step, as a run within
    :data:`CHANGE_RTOL` of it): the stretch each step adds to the line is that long, in the middle's
    direction, so the air's travel at the steps' ends is the wind's true run whatever the step (the middle's
    speed alone had put 1 m/s over a whole 300-s step around a 100-s lull, and the air 5 km out 75 s late)."""
    w = np.asarray(winds, dtype=np.float64)
    n = w.shape[0]
    known: NDArray[np.bool_] = np.asarray(np.isfinite(w).all(axis=1))
    if n == 0 or not known[-1]:
        return None
    if not known.all():  # back-fill from the next recorded step
        idx = np.where(known, np.arange(n), n)
        idx = np.minimum.accumulate(idx[::-1])[::-1]
        w = w[idx]
    speed = np.hypot(w[:, 0], w[:, 1])
    last = float(speed[-1])
    if not last > 0.0:
        return None
    own, w = speed * dt_s, w * dt_s  # each step's stretch: its run where known and apart from the middle's speed's
    r = np.full(n, np.nan) if runs is None or np.size(runs) != n else np.asarray(runs, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        apart = np.isfinite(r) & (np.abs(r - own) > CHANGE_RTOL * own) & (speed > 0.0)
        if apart.any():
            w[apart] *= (r[apart] / own[apart])[:, None]
            own = np.where(apart, r, own)
    # knots back from the step's end: j steps back the air left at t - j dt; the steps before the first
    # recorded one repeat its wind
    j_max = int(math.ceil(reach_m / max(float(own.min()), 1e-9))) + 1
    back = np.arange(j_max)
    k = np.maximum(n - 1 - back, 0)
    run = w[k]
    if shifts is not None and np.shape(shifts) == (n, 2):  # a step the wind turned within: where it moved its air
        run = _shifted(run, np.asarray(shifts, dtype=np.float64)[k])
    if (run[:, 0] == run[0, 0]).all() and (run[:, 1] == run[0, 1]).all():
        return None
    seg = own[k]
    path = np.concatenate(([0.0], np.cumsum(seg)))
    stop = int(np.searchsorted(path, reach_m, side="right"))  # the first knot past reach_m, included
    path = path[:stop + 1]
    east = np.concatenate(([0.0], np.cumsum(run[:, 0])))[:stop + 1]
    north = np.concatenate(([0.0], np.cumsum(run[:, 1])))[:stop + 1]
    first = run[0] / max(float(np.hypot(*run[0])), 1e-300)
    across = np.abs(run[:, 0] * first[1] - run[:, 1] * first[0])  # each stretch's run off the first's way
    straight = bool(((across <= CHANGE_RTOL * seg) & (run @ first > 0.0)).all())
    thinned = None
    if slowest is not None and np.size(slowest) == n:  # each step's slowest speed (``slowest``, NaN: not known)
        low = np.asarray(slowest, dtype=np.float64)[k][:path.size - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(np.isfinite(low) & (low > 0.0), seg[:path.size - 1] / (dt_s * low), 1.0)
        thinned = np.where(ratio > 1.0 + CHANGE_RTOL, ratio, 1.0)
    return Track(ago=dt_s * np.arange(path.size, dtype=np.float64), east=east, north=north, path=path,
                 straight=straight, thinned=thinned)


def _shifted(run: NDArray[np.float64], shift: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each step's stretch ``run`` (from the line's end back) but, for the steps before the last, where the wind
    turned within the step (``shift`` finite: :func:`plumecast.near_field_fold.step_shift`), the wind's own
    displacement of the air over the step: its vector's integral, not its run along the middle's direction (a
    reversal within a 600-s step had put the air that came back 150-225 m too far east; session 52)."""
    use: NDArray[np.bool_] = np.asarray(np.isfinite(shift).all(axis=1), dtype=bool)
    use[0] = False  # the last step's air is laid along its run from the source
    if not use.any():
        return run
    return np.where(use[:, None], shift, run)


@numba.njit(inline="always", error_model="numpy")
def _segment(x, y, east, north, j):  # type: ignore[no-untyped-def]
    """The point (x, y) from knot ``j``, the segment from ``j`` to ``j + 1`` and its squared length."""
    dx = east[j + 1] - east[j]
    dy = north[j + 1] - north[j]
    return x - east[j], y - north[j], dx, dy, dx * dx + dy * dy


@numba.njit(inline="always", error_model="numpy")
def _foot(ax, ay, dx, dy, ll):  # type: ignore[no-untyped-def]
    """Where the point (ax, ay) from a segment's start projects on it (``lam``: 0 at the start, 1 at
    the end), that clamped to the segment (``lc``), and the squared distance to the clamped foot."""
    lam = (ax * dx + ay * dy) / ll if ll > 0.0 else 0.0
    lc = min(max(lam, 0.0), 1.0)
    ex = ax - lc * dx
    ey = ay - lc * dy
    return lam, lc, ex * ex + ey * ey


@numba.njit(cache=True, error_model="numpy")
def _locate(px, py, east, north, path, cover):  # type: ignore[no-untyped-def]
    """:meth:`Track.locate`: each point against the segments of the line in order, the first
    it lies across (its foot on the segment) within the cover taken, else the nearest (the first of equals); while none covers, segments
    that cannot be nearer than the best so far are not projected on."""
    n = px.size
    m = east.size - 1
    xs = np.empty(n)
    ys = np.empty(n)
    for i in range(n):
        best = np.inf
        bx = 0.0
        for j in range(m):
            ax, ay, dx, dy, ll = _segment(px[i], py[i], east, north, j)
            reach = math.sqrt(best) + math.sqrt(ll)
            if ax * ax + ay * ay > max(reach, cover[j] + math.sqrt(ll)) ** 2:
                continue  # neither nearer than the best nor within the cover anywhere on the segment
            lam, lc, d = _foot(ax, ay, dx, dy, ll)
            if j == 0 and lam < 0.0:
                x = lam * math.sqrt(ll)  # behind the source: negative
            elif j == m - 1 and lam > 1.0:
                x = path[j] + lam * (path[j + 1] - path[j])
            else:
                x = path[j] + lc * (path[j + 1] - path[j])
            c = cover[j] + lc * (cover[j + 1] - cover[j])
            if d <= c * c and 0.0 <= lam <= 1.0:  # the point lies across this stretch, within its cover
                best = d
                bx = x
                break
            if d < best:
                best = d
                bx = x
        xs[i] = bx
        ys[i] = math.sqrt(best)
    return xs, ys


@numba.njit(cache=True, error_model="numpy")
def _locate_older(px, py, east, north, path, cover):  # type: ignore[no-untyped-def]
    """:meth:`Track.locate` with ``branch`` 1: each point against the segments in order, the first
    that covers it (its foot on the segment, within the cover), then the first after the line has
    been away from it (its foot off the stretches) for any length along the path, or the first that runs against
    the last covering stretch before it (the line folded back over the point without leaving it: the stretch of a
    600-s step of a reversal runs 1.5 km back from the tip, and 5 km west its older air, the front of the ammonia
    cloud coming back, was read by no branch; session 53); NaN where none. (Away for more
    than twice the cover, before session 52: the older air of a fold within three sigma_y of its tip, which passes
    the place, was read by no plume; the plumes are combined as the larger or, for this branch, added to the
    younger air's: near_field_fold.with_older)"""
    n = px.size
    m = east.size - 1
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    for i in range(n):
        found = False  # the first covering stretch met
        away = -1.0  # where the line last left the point (-1: still on the first stretch)
        lx = ly = 0.0  # the last covering stretch of the first's
        for j in range(m):
            ax, ay, dx, dy, ll = _segment(px[i], py[i], east, north, j)
            lam, lc, d = _foot(ax, ay, dx, dy, ll)
            c = cover[j] + lc * (cover[j + 1] - cover[j])
            x = path[j] + lc * (path[j + 1] - path[j])
            covered = d <= c * c and 0.0 <= lam <= 1.0
            if not found:
                if covered:
                    found = True
                    lx, ly = dx, dy
                continue
            if not covered:
                if away < 0.0:
                    away = x
                continue
            if (away >= 0.0 and x - away > 0.0) or dx * lx + dy * ly < 0.0:  # (or folded back over the point)
                xs[i] = x
                ys[i] = math.sqrt(d)
                break
            away = -1.0  # the first stretch again (a joint the foot missed)
            lx, ly = dx, dy
    return xs, ys
