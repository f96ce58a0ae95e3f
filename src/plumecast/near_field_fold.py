"""The near field after the source's wind reverses: the streak line's fold and the turn within a step.

Audit (session 52; docs/exposure.md, "The fold of the streak line"): after a reversal (3 m/s east, then west,
class D) 2 t of ammonia over 10 min read 2.4/1.03/2.2 of the physical air's dose (10-s Gaussian puffs,
``tests/puff_reference.py``) 1/2/5 km west at 30-s steps, 3.3/1.06/2.2 at 300-s and 2.9/0.94/2.6 at 600-s steps;
14.4 t of chlorine over 2 h 3.6 times 20 km west at 600-s steps. Three causes, none a step length's:

- the turn's sub-steps (:func:`plumecast.near_field_turn.swept`) laid, for the step's mean, all the emission of
  each sub-step's travel-time window on that sub-step's axis, whichever way the air went: in the step of the
  reversal the sub-steps heading west at the 1 m/s floor carried the cloud that had gone east to 1 km west
  (120 of the 210 mg min/m3 1 km west at 30-s steps, 204 of 286 at 300-s steps). :func:`within_step_since` gives
  each sub-step's mean only the air that went its way within the step (the line at the step's end cuts the older);
- the steady plume's cut (:mod:`plumecast.near_field_cut`) kept air that lies on the new axis but not where the
  steady plume puts it: the air emitted before the reversal that went east and has come back west of the source
  has run further than it lies from the source. Laid at its run, it arrived 5 km west 20 min before the air did
  (53 of the 96 mg min/m3 at 30-s steps). A point of the line whose run exceeds its distance along the axis by
  more than the plume's reach is off it too (``near_field_cut._off``'s ``path``);
- along the fold of the line (a stretch running against the last step's run: the air on it moves toward the
  source's end of the line, the older air behind it) the window of the air that passed a place within the step
  was taken as on a stretch running away from the source: the air that would pass in the next step, and its front
  on the younger side. :func:`fold_window` takes the air that passed: from the air at the place (its front, on the
  older side) at the step's end back to the air there at its start, one step's run younger.

Session 53: the coarse steps still read the returning ammonia cloud 12-18 % low (600-s steps 0.87/0.88/0.82 of the
puffs' dose 1/2/5 km west), both steps of its passage alike. The air that passes a place on the fold within a step
ran different paths (the youngest passed at the step's start, ``2 run`` less than the oldest at its end), and the
step's mean was diluted at the oldest's path: :func:`fold_per_rate` dilutes each piece of the window at its own.
About the fold's tip (ahead of it, and just behind it where it has air) the air is read as puffs
(:mod:`plumecast.near_field_tip`, session 53: chlorine 20 km west had read 1.5-1.7 times the puffs' dose). On
the fold the air passes a place youngest first: each kilogram's smeared arrival is mirrored in emission time
(:func:`fold_mass`; session 53, foldspread: the ammonia cloud's front 20 km west had read 0.30 of the puffs' dose
in its 600 s against their 0.25, its tail 0.12 against 0.18).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.near_field_cut import _off


def folded(line: Any, x_m: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Per distance ``x_m`` along the streak line ``line`` (:class:`plumecast.near_field_track.Track`), whether
    its stretch there runs against the line's last step's run (the line folded back): the air on it moves toward
    the source's end of the line. None on a straight line."""
    x = np.asarray(x_m, dtype=np.float64)
    if getattr(line, "straight", False) or line.east.size < 3:
        return np.zeros(x.size, dtype=bool)
    against = np.diff(line.east) * line.east[1] + np.diff(line.north) * line.north[1] < 0.0
    j = np.clip(np.searchsorted(line.path, x, side="right") - 1, 0, against.size - 1)
    return np.asarray(against[j])


def fold_window(line: Any, xs: NDArray[np.float64], reach: NDArray[np.float64], arrive: NDArray[np.float64],
                arrive0: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The travel times at the step's end and start (``arrive``, ``arrive0``, of the front at ``reach`` of the air
    at ``xs`` along ``line``) that bound the window of the air that passed, where the line is folded
    (:func:`folded`; module docstring): those of the point ``x + (x - reach) - run`` (the front's lead on the older
    side, less the step's run); elsewhere as given."""
    back = folded(line, xs)
    if not back.any():
        return arrive, arrive0
    rf = np.maximum(2.0 * xs - reach - float(line.path[1]), 0.0)
    return np.where(back, line.travel_s(rf), arrive), np.where(back, line.start_travel_s(rf), arrive0)


def within_step_since(times: list[float], vec: list[tuple[float, float]], a_s: float, b_s: float,
                      heading: tuple[float, float], cls: str, terrain: str) -> float:
    """The earliest emission time [s] whose air the steady plume of a turning step's sub-step ``[a_s, b_s]``
    along ``heading`` may carry, by the wind within the step (``vec`` at ``times``, linear between): the youngest
    knot before ``b_s`` whose air lies off that plume at ``b_s`` (``near_field_cut._off``: behind the source or
    short of its run; air to its side is kept, the sub-steps' backstop for places a turn sweeps side-on, as
    before); ``-inf`` where none within the step is (the line at the step's end then decides)."""
    hx, hy = heading
    norm = math.hypot(hx, hy)
    if not norm > 0.0:
        return -math.inf
    hx, hy = hx / norm, hy / norm
    knots = sorted({t for t in times if t < b_s} | {a_s})
    e = n = p = 0.0
    t_hi = b_s
    u_hi = _vec_at(times, vec, b_s)
    for t in reversed(knots):  # the air emitted at t: its displacement and run by b_s
        u_lo = _vec_at(times, vec, t)
        dt = t_hi - t
        e += 0.5 * (u_lo[0] + u_hi[0]) * dt
        n += 0.5 * (u_lo[1] + u_hi[1]) * dt
        p += 0.5 * (math.hypot(*u_lo) + math.hypot(*u_hi)) * dt
        if _off(np.array([e]), np.array([n]), hx, hy, cls, terrain, np.array([p]), side=False)[0]:
            return t
        t_hi, u_hi = t, u_lo
    return -math.inf


def _vec_at(times: list[float], vec: list[tuple[float, float]], t: float) -> tuple[float, float]:
    return (float(np.interp(t, times, [v[0] for v in vec])), float(np.interp(t, times, [v[1] for v in vec])))


def sub_step_air(since: NDArray[np.float64], track: Any, heading: Any, t0_s: float, t_end_s: float, cls: str | None,
                 terrain: str, cut: float) -> NDArray[np.float64]:
    """``since`` raised, for a turning step's sub-step along ``heading``, to ``cut`` (:func:`within_step_since`)
    or, where the wind within the step cuts none, to the cut of the line at the step's end
    (:func:`plumecast.near_field_cut.steady_since`) where that falls before the step (within it, the line at the
    step's end has the step's middle wind, not the sub-step's)."""
    if not math.isfinite(cut) and track is not None and cls is not None:
        from plumecast.near_field_cut import steady_since

        line_cut = steady_since(track, heading, t_end_s, cls, terrain, side=False)
        cut = line_cut if line_cut < t0_s else -math.inf
    return np.maximum(since, cut) if math.isfinite(cut) else since


def with_older(out: tuple[NDArray[Any], ...], along: tuple[NDArray[Any], ...], branch: int,
               at: tuple[Any, ...] | None = None) -> tuple[NDArray[Any], ...]:
    """The step's plume ``out`` (six as :meth:`plumecast.exposure.ExposureSampler._plume_step`'s) with the plume
    ``along`` the streak line's ``branch``: the larger of the two (its six) for the youngest stretch (the same air
    as the steady plume's; the line's about its fold's tip, :func:`plumecast.near_field_tip.near_tip` of ``at``:
    source, line at the step's end, points' lat and lon, class, the step's end), and for the next older one (``branch`` 1: other
    air, come back after a reversal, that the steady plume no longer carries, ``near_field_cut``) the larger's with
    both means added."""
    more = along[0] > out[0]
    if at is not None and branch == 0:
        from plumecast.near_field_tip import near_tip

        tip = near_tip(*at)
        if tip is not None:
            more = more | tip
    chosen = tuple(np.where(more, b, a) for a, b in zip(out, along, strict=True))
    if branch == 0:
        return chosen
    return (out[0] + along[0], *chosen[1:])


def step_shift(times: list[float], vec: list[tuple[float, float]]) -> tuple[float, float]:
    """How far the wind at the source moved its air east and north over a step [m] where its direction changes
    within the step: the integral of its vector (``vec``: east, north [m s-1] at each of the step's knots ``times``,
    :meth:`plumecast.near_field_plume.NearFieldSource.knot_winds`, read once a step), linear between them; NaN where
    it keeps one direction (a steady wind, one changing its speed only: the line's stretch is the run along the
    step's middle wind, as before).
    The line laid a reversal's step along its middle's wind: 3 m/s east for 500 s of a 600-s step and then
    through the calm to west put the air 1,658 m east (the run) against its 1,500 m, and the returning cloud
    arrived a step late (:func:`plumecast.near_field_track.track_at`'s ``shifts``)."""
    if len(times) < 2:
        return math.nan, math.nan
    w = np.array(vec, dtype=np.float64)
    size = np.hypot(w[:, 0], w[:, 1])
    live = w[size > 0.0]
    if live.shape[0] < 2:
        return math.nan, math.nan
    if (live @ live.T >= 0.0).all():  # no knot's wind against another's: no reversal within the step
        return math.nan, math.nan
    t = np.asarray(times, dtype=np.float64)
    return float(np.trapezoid(w[:, 0], t)), float(np.trapezoid(w[:, 1], t))


#: The pieces a folded stretch's window is read in for the paths its air ran (:func:`fold_per_rate`). Not tuned: a
#: 300-s sub-step's window on the fold spans 1.8 km of path at 3 m/s; eight pieces of it 225 m each
FOLD_PIECES = 8
#: Where the step's air is smeared (:func:`fold_per_rate`'s ``spread``): the late side's span of the emissions
#: about the window [sigma_t] and the pieces over it. Not tuned: the truncated Gaussian's tail beyond 4 sigma is
#: 3e-5 of it; 48 pieces over a 600-s window and 4 + 1.4 sigma_t of 250 s are 40 s each
FOLD_SPAN, FOLD_SPAN_PIECES = 4.0, 48


def fold_per_rate(src: Any, line: Any, xs: NDArray[np.float64], ys: NDArray[np.float64], dist: NDArray[np.float64],
                  window: tuple[NDArray[np.float64], NDArray[np.float64]], per_dose: NDArray[np.float64],
                  per_rate: NDArray[np.float64], weather: tuple[float, str, float],
                  since: NDArray[np.float64] | None, spread: NDArray[np.float64] | None = None,
                  ) -> NDArray[np.float64]:
    """The step's air per unit rate ``per_dose`` (of the points ``xs`` along ``line``, ``ys`` across it, ``dist``
    from the source as the crow flies [m]) where the line is folded (:func:`folded`), for the paths its air ran:
    the window's (``a``, ``b``: :func:`fold_window`'s) oldest air passes the place at the step's end, ``xs`` along
    its path, and its youngest at the step's start, which has since run the step's run ``path[1]`` on along the
    fold and back toward the source's end as far: ``xs - 2 run`` along its path, not less than ``dist``. Each of
    :data:`FOLD_PIECES` pieces of the window is diluted at its own path (``src._per_rate`` at the step's middle
    ``weather``: speed, class, lid), the step's air the pieces' weighted by their emitted mass (``src.emitted_by``
    from ``since``; uniform without it); ``per_dose`` is scaled by that over ``per_rate`` (read at ``xs``, the
    oldest air's). On a stretch that runs away from the source every air that passes a place ran ``xs``; on the fold
    the younger ran less, and 600-s steps' means, read at its oldest, had put 5 km west 10 % below the ammonia
    cloud's dose (docs/exposure.md, session 53). Elsewhere ``per_dose`` as given.

    ``spread`` (each kilogram's arrival spread sigma_t [s], where the step's mass is smeared: :func:`fold_mass`):
    the air that arrives in the step is not the window's alone but, by the smear, also younger air (late, its path
    shorter) and a little older (early, within the front's ``sqrt 2 sigma_t``): the pieces span the emissions
    :data:`FOLD_SPAN` wide about the window, each weighted by its mass times its share that arrives in the step (the
    smear's truncated Gaussian, mirrored: :func:`fold_mass`), its path the window's extended linearly (``xs - 2 run
    (e - a) / (b - a)``). Read at the window's paths, the late air's dilution was its elders' (session 53,
    foldspread: 1 km west 0.97 of the puffs' dose at 600-s steps)."""
    back = folded(line, xs)
    a, b = window
    use = np.flatnonzero(back & (b > a) & (per_rate > 0.0))
    if use.size == 0:
        return per_dose
    au, bu = a[use], b[use]
    wide = spread is not None
    if wide:
        from plumecast.near_field_smear import FRONT_LEAD_SIGMAS, TOP_HAT_SIGMA

        sig = np.asarray(spread, dtype=float)[use]
        sig = np.where(sig > TOP_HAT_SIGMA * (bu - au), sig, 0.0)
        lo_f, hi_f = -FRONT_LEAD_SIGMAS * sig / (bu - au), 1.0 + FOLD_SPAN * sig / (bu - au)
        f = lo_f[None, :] + (hi_f - lo_f)[None, :] * np.linspace(0.0, 1.0, FOLD_SPAN_PIECES + 1)[:, None]
    else:
        f = np.repeat(np.linspace(0.0, 1.0, FOLD_PIECES + 1)[:, None], use.size, axis=1)
    e = au[None, :] + (bu - au)[None, :] * f  # the pieces' emission times, oldest first
    if since is not None:
        e = np.maximum(e, np.asarray(since, dtype=float)[use][None, :])
    emitted = getattr(src, "emitted_by", None)
    mass = np.diff(np.asarray(emitted(e), dtype=float), axis=0) if emitted is not None else np.diff(e, axis=0)
    mass = np.maximum(mass, 0.0)
    mid = 0.5 * (f[:-1] + f[1:])
    if wide:  # the share of each piece's air that arrives in the step: late by s in [d, d + (b - a)], d its lead
        from scipy.special import ndtr

        d = (mid - 1.0) * (bu - au)[None, :]
        w0 = ndtr(-FRONT_LEAD_SIGMAS)
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = [np.where(sig > 0.0, np.clip((ndtr(z / sig) - w0) / (1.0 - w0), 0.0, 1.0), (z >= 0.0) * 1.0)
                   for z in (d, d + (bu - au)[None, :])]
        mass = mass * (cdf[1] - cdf[0])
    # each piece's path: where it passes in the step, without the smear ``xs - 2 run mid`` (the oldest at the step's
    # end, the youngest at its start); the smear's air is there within the step, its path at the step's middle
    lag = mid + 0.5 if wide else 2.0 * mid
    paths = np.maximum(xs[use][None, :] - float(line.path[1]) * lag, dist[use][None, :])
    paths = np.maximum(paths, 1.0)
    per = np.asarray(src._per_rate(paths.ravel(), np.tile(ys[use], mid.shape[0]), *weather)[0],
                     dtype=float).reshape(paths.shape)
    total = mass.sum(axis=0)
    out = np.array(per_dose, dtype=float, copy=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > 0.0, (mass * per).sum(axis=0) / (total * per_rate[use]), 1.0)
    out[use] = per_dose[use] * scale
    return out



def fold_mass(line: Any, xs: NDArray[np.float64], knots: NDArray[np.float64], cum: NDArray[np.float64],
              a: NDArray[np.float64], b: NDArray[np.float64], sigma_t: NDArray[np.float64],
              since: NDArray[np.float64] | None, lead_s: NDArray[np.float64],
              edge: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """:func:`plumecast.near_field_smear.window_mass` (``edge`` None) or :func:`~plumecast.near_field_smear.also_before`
    of the points ``xs`` along ``line`` (None: a straight plume), where the line is folded (:func:`folded`) with
    the smear mirrored in emission time. On a stretch that runs away from the source an air that arrives ``s``
    later than the wind's was emitted ``s`` earlier; on the fold the air passes a place in the reverse order of its
    emission (the youngest first: it turned back nearer), and air ``s`` late was emitted ``s`` later. The smear's
    kilogram is a Gaussian truncated at its front (``sqrt 2 sigma_t`` ahead, the late tail whole), and applied
    unmirrored on the fold it put its late tail early: the ammonia cloud's mean arrival 5/10/20 km west 29/42/72 s
    before the puffs' and its spread 0.87 of theirs (docs/exposure.md, session 53, foldspread). The mass emitted in
    ``[lo, hi]`` that arrives in the window ``[a, b]`` is that of the mirrored release (``E'(t) = M - E(-t)``)
    emitted in ``[-hi, -lo]`` that arrives in ``[-b, -a]``; the top hat's is the same air either way."""
    from plumecast.near_field_smear import _checked, _per_point, _points, _window

    ap, bp, sig = _points(a, b, sigma_t)
    t, e = _checked(knots, cum)
    lo = _per_point(since, ap.size, -np.inf)
    hi = _per_point(edge, ap.size, np.inf)
    lead = _per_point(lead_s, ap.size, np.inf)
    back = folded(line, xs) if line is not None else np.zeros(ap.size, dtype=bool)
    out = np.zeros(ap.size)
    if (~back).any():
        f = ~back
        out[f] = _window(t, e, ap[f], bp[f], sig[f], lo[f], hi[f], lead[f])
    if back.any():
        tm, em = -t[::-1], float(e[-1]) - e[::-1]
        out[back] = _window(tm, em, -bp[back], -ap[back], sig[back], -np.maximum(hi[back], lo[back]), -lo[back],
                            lead[back])
    return out
