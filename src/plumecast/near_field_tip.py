"""The air about the fold's tip after the source's wind reverses: read as the puffs it is.

After a reversal the streak line (:mod:`plumecast.near_field_track`) runs from the source to its tip, the air of the
turn's calm, and folds back: the older air, that went the old wind's way and turned with it, comes back behind
the tip. The tip runs ahead with the new wind. The near field reads a place along a branch as a steady plume
whose air passes it (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`), and about the tip that is
not the air:

- *ahead of the tip* no air passes a place. The youngest branch's nearest point is the tip, and the place's
  distance beyond it, along the wind, was read as if it were across the plume, a step's window of the air about the
  tip at each step as the tip neared. A place breathes the along-wind spread of that air: sigma_x = sigma_y of its
  path, as the plume's front (:func:`plumecast.nearfield.zones.windowed.front_time_s`) takes it;
- *just behind the tip* both branches end there: each was read as a whole plume (the air on its axis), where the
  tip's air spreads ahead as much as behind.

14.4 t of chlorine over 2 h, 3 m/s east reversing to west at 1 h (class D; ``tests/puff_reference.py``'s 10-s
Gaussian puffs): 20 km west read 1.61/1.48/1.69 of the puffs' dose at 600/300/30-s steps (docs/exposure.md, session
53, revtip). Within :data:`NEAR_SIGMAS` of the tip's sigma_y (:func:`near_tip`) a place now reads the air about the
tip as puffs (:func:`tip_air`): both branches' air within :data:`TIP_SIGMAS` of its own sigma beyond the place's
foot, in :data:`TIP_PIECES` pieces, each carried over the step by the step's own run (the source's wind carries all
of its air), its along-wind Gaussian's mean over the step exact; the older branch reads nothing there
(:func:`plumecast.near_field_fold.with_older` takes the line's there, not the steady plume's, whose air since its
cut is laid as if it had come the new wind's way: ``near_field_cut``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from plumecast.nearfield.gaussian import briggs_sigma_y

#: How near the tip, along the line behind it, a place reads the air about the tip [the tip's sigma_y]: beyond,
#: its branches' ends take less than 0.14 % of a uniform line's air (the Gaussian's tail beyond 3 sigma)
NEAR_SIGMAS = 3.0
#: The pieces the air about the tip is read in, over the place's distance from the tip and :data:`TIP_SIGMAS` of
#: the tip's sigma_y more either side. Not tuned: a Gaussian's tail beyond 5 sigma is below 3e-7 of it; 64 pieces
#: over 16 sigma (a place 3 sigma behind) are 0.25 sigma each
TIP_PIECES, TIP_SIGMAS = 64, 5.0


def tip_of(line: Any) -> int:
    """The knot of the streak line ``line`` where it first folds back (the stretch before it and the one after run
    against each other: the air of a reversal's calm, the line's far point); 0 where it does not fold."""
    if getattr(line, "straight", False) or line.east.size < 3:
        return 0
    de, dn = np.diff(line.east), np.diff(line.north)
    against = np.flatnonzero(de[:-1] * de[1:] + dn[:-1] * dn[1:] < 0.0)
    return int(against[0]) + 1 if against.size else 0


def _near(src: Any, line: Any, k: int, xs: NDArray[np.float64], cls: str, t_s: float,
          ) -> tuple[NDArray[np.bool_], float]:
    """Per point (``xs`` along ``line``'s youngest branch, :meth:`plumecast.near_field_track.Track.locate`): at the
    fold's tip (knot ``k``; the point ahead of it or beside it, the tip its nearest), or, where the tip has air
    (some emitted within its sigma_y of it along the line, ``src.emitted_by``; the line's time ``t_s``), within
    :data:`NEAR_SIGMAS` of it behind; and the tip's sigma_y [m] (class ``cls``, ``src.terrain``). (Where the tip has
    no air, as a short release's before the calm, the branches' air ends elsewhere and is read along them.)"""
    tip = float(line.path[k])
    sig = float(np.asarray(briggs_sigma_y(np.array([max(tip, 1.0)]), cls, src.terrain))[0])  # type: ignore[arg-type]
    behind = tip - np.asarray(xs, dtype=float)
    at = behind >= -1e-6 * max(tip, 1.0)
    emitted = getattr(src, "emitted_by", None)
    if emitted is None or getattr(src, "dense", None) is not None:  # (a dense cloud's dose: zones' own, as before)
        return np.zeros(behind.size, dtype=bool), sig
    t = t_s - line.travel_s(np.array([tip + sig, tip - sig]))
    has_air = float(emitted(t[1:])[0] - emitted(t[:1])[0]) > 0.0
    reach = NEAR_SIGMAS * sig if has_air else 1e-6 * max(tip, 1.0)
    return np.asarray(at & (behind <= reach)), sig


def near_tip(src: Any, line: Any, lat: NDArray[np.float64], lon: NDArray[np.float64], cls: str, t_s: float) -> Any:
    """Which points (``lat``, ``lon`` [deg]) read the air about the fold's tip of the streak line ``line`` at
    ``t_s`` (:func:`_near`; class ``cls``, for the line's cover as the plume along it takes it, and the tip's
    sigma_y); None where the line does not fold."""
    k = tip_of(line)
    if k == 0:
        return None
    from plumecast.near_field_drift import _located

    x = _located(src, line, lat, lon, cls, 0)[2]
    return _near(src, line, k, x, cls, t_s)[0]


def tip_air(src: Any, line: Any, east: NDArray[np.float64], north: NDArray[np.float64], xs: NDArray[np.float64],
            t1_s: float, weather: tuple[float, str, float], since: NDArray[np.float64] | None,
            ) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """For the points (``east``, ``north`` of the source [m], ``xs`` along ``line``'s youngest branch) about the
    fold's tip (:func:`_near`): which they are, their mean over the step that ends at ``t1_s`` (the line's time)
    [kg m-3] and their air at its end [kg m-3] (module docstring): the air of ``line`` within the place's distance
    behind the tip and :data:`TIP_SIGMAS` of the tip's sigma_y more either side of it, as :data:`TIP_PIECES`
    puffs, each the mass emitted over its stretch (``src.emitted_by``, from ``since``) at its place, across the
    step's run diluted as ``src._per_rate`` at ``weather`` (speed, class, lid) at its path, along it sigma_x as its
    spread."""
    k = tip_of(line)
    n = xs.size
    emitted = getattr(src, "emitted_by", None)
    mask = np.zeros(n, dtype=bool)
    if k == 0 or emitted is None:
        return mask, np.zeros(n), np.zeros(n)
    speed, cls = weather[0], weather[1]
    near, sig = _near(src, line, k, xs, cls, t1_s)
    use = np.flatnonzero(near)
    if use.size == 0:
        return mask, np.zeros(n), np.zeros(n)
    tip = float(line.path[k])
    half = np.maximum(tip - xs[use], 0.0) + TIP_SIGMAS * sig  # per point: how far along the line either side
    p = tip + half[:, None] * np.linspace(-1.0, 1.0, TIP_PIECES + 1)[None, :]
    p = np.clip(p, 0.0, float(line.path[-1]))
    pm = 0.5 * (p[:, :-1] + p[:, 1:])
    lo, hi = t1_s - line.travel_s(p[:, 1:]), t1_s - line.travel_s(p[:, :-1])  # each piece's emission times
    s = np.full((use.size, 1), -np.inf) if since is None else np.asarray(since, dtype=float)[use][:, None]
    mass = np.maximum(np.asarray(emitted(np.maximum(hi, s)), dtype=float)
                      - np.asarray(emitted(np.maximum(lo, s)), dtype=float), 0.0)
    de, dn = float(line.east[1]), float(line.north[1])  # the step's run: every piece's move over the step
    run = math.hypot(de, dn)
    if not run > 0.0:
        return mask, np.zeros(n), np.zeros(n)
    ve, vn = de / run, dn / run
    ae = east[use][:, None] - np.interp(pm, line.path, line.east)
    an = north[use][:, None] - np.interp(pm, line.path, line.north)
    along = ae * ve + an * vn  # the place ahead of each piece, along the step's wind, at its end
    across = np.abs(ae * vn - an * ve)
    per, _, spread = src._per_rate(np.maximum(pm, 1.0).ravel(), across.ravel(), *weather)
    per = np.asarray(per, dtype=float).reshape(across.shape)
    sx = np.maximum(np.asarray(spread, dtype=float).reshape(across.shape) * speed, 1e-9)
    each = mass * per * speed * np.exp(-float(getattr(src, "decay_rate_s", 0.0)) * line.travel_s(pm))  # [kg m-2]
    mask[use] = True
    mean, end = np.zeros(n), np.zeros(n)
    mean[use] = (each * (ndtr((along + run) / sx) - ndtr(along / sx)) / run).sum(axis=1)
    end[use] = (each * np.exp(-0.5 * (along / sx) ** 2) / (math.sqrt(2.0 * math.pi) * sx)).sum(axis=1)
    return mask, mean, end
