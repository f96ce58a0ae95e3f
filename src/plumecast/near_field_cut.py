"""Which air the steady plume of a near-field source may carry after its wind has turned.

The steady Gaussian plume of a step's source wind (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`,
``track`` None) lays all the air emitted within its travel-time windows along the step's direction. After a
reversal or a large turn most of that air went the old way: it is where the streak line
(:mod:`plumecast.near_field_track`) has carried it, not on the new axis. Counted on the axis, the steady plume
swung the whole held-back emission upwind at once, and coming out of the calm of a reversal (its travel time
``d/u`` falling faster than time runs) delivered it in a few steps: 14.4 t of chlorine over 2 h, class D, 3 m/s
reversing at 1 h, 9,000 mg/m3 1 km west at 10-s steps where 10-s Gaussian puffs (the air) gave a few hundred
(docs/exposure.md, "The steady plume carries only the air that went its way").

:func:`steady_since` gives the steady plume the air emitted since the youngest air that is off its axis: walking
the streak line back from the source, the first point (emission time) that lies more than
:data:`~plumecast.near_field_plume.COVER_SIGMAS` plume widths ``sigma_y`` (of its distance from the source) to
the side of the step's direction, or as far behind the source, or (since session 52, :mod:`plumecast.near_field_fold`)
on the axis but more than that short of its run (the air went away and came back: the steady plume lays it at its
run, 5 km west 20 min before the air). The older air stays with the plumes along the streak line. A steady wind, a wind changing in speed only and a veer slow enough that the line stays within the
plume's width give no cut (``-inf``): the steady plume reads as before, to the bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.near_field_plume import COVER_SIGMAS
from plumecast.nearfield.gaussian import briggs_sigma_y

#: Bisection steps locating the cut within a stretch of the streak line (a stretch is one step of emission).
_BISECT = 24


def _off(e: NDArray[np.float64], n: NDArray[np.float64], hx: float, hy: float, cls: str, terrain: str,
         path: NDArray[np.float64] | None = None, side: bool = True) -> NDArray[np.bool_]:
    """Whether the streak line's points ``(e, n)`` [m from the source] lie off the steady plume along ``(hx, hy)``:
    to its side, behind the source, or (``path``: how far the air has run along the line) short of where the
    steady plume puts the air that ran that far (the line folded back: the air went away and came back); ``side``
    False: air to its side is not off it (only air behind the source, or on the axis short of its run)."""
    along = e * hx + n * hy
    reach = COVER_SIGMAS * np.asarray(briggs_sigma_y(np.maximum(np.hypot(e, n), 1.0), cls, terrain),  # type: ignore[arg-type]
                                      dtype=np.float64)
    aside = np.abs(e * hy - n * hx) > reach
    off = (aside if side else False) | (along < -reach)
    if path is not None:
        off |= (path - along > reach) & (True if side else ~aside)
    return np.asarray(off)


def steady_since(track: Any, heading: Any, t_end_s: float, cls: str, terrain: str, side: bool = True) -> float:
    """The earliest emission time [s] whose air the steady plume along ``heading`` (the step's carrying wind,
    east and north) may carry at the step's end ``t_end_s``: that of the youngest point of the streak line
    ``track`` (:class:`plumecast.near_field_track.Track` at the step's end) off the plume (module docstring);
    ``-inf`` where none is (or no line: the wind has been the same, or ``track`` straight); ``side`` False: air to
    the plume's side is not off it (``_off``)."""
    if track is None or heading is None or getattr(track, "straight", False):
        return -math.inf
    hx, hy = float(heading[0]), float(heading[1])
    norm = math.hypot(hx, hy)
    if not norm > 0.0:
        return -math.inf
    hx, hy = hx / norm, hy / norm
    east, north, ago, path = (np.asarray(a, dtype=np.float64) for a in (track.east, track.north, track.ago, track.path))
    off = np.flatnonzero(_off(east, north, hx, hy, cls, terrain, path, side))
    if off.size == 0:
        return -math.inf
    j = int(off[0])
    if j == 0:  # (the source itself: not off)
        return -math.inf
    # within the stretch from knot j - 1 (on the plume) to knot j (off): the youngest air off it, the line
    # straight between its knots (a step's wind)
    lo, hi = 0.0, 1.0
    for _ in range(_BISECT):
        mid = 0.5 * (lo + hi)
        e = np.array([east[j - 1] + mid * (east[j] - east[j - 1])])
        n = np.array([north[j - 1] + mid * (north[j] - north[j - 1])])
        p = np.array([path[j - 1] + mid * (path[j] - path[j - 1])])
        if _off(e, n, hx, hy, cls, terrain, p, side)[0]:
            hi = mid
        else:
            lo = mid
    return float(t_end_s - (ago[j - 1] + hi * (ago[j] - ago[j - 1])))


def steady_air(since: NDArray[np.float64], track: Any, heading: Any, src: Any, t0_s: float, t_end_s: float,
               cls: str | None = None) -> NDArray[np.float64]:
    """``since`` (per point, the earliest emission that counts) raised to :func:`steady_since` for the steady
    plume of source ``src`` in the step ``t0_s`` to ``t_end_s`` (its class at the step's middle: ``cls`` where the
    caller has it); ``since`` itself (the same array) where there is no cut."""
    if track is None or heading is None:
        return since
    if cls is None:
        cls = src.class_and_lid(0.5 * (t0_s + t_end_s))[0]
    cut = steady_since(track, heading, t_end_s, cls, src.terrain)
    if not math.isfinite(cut):
        return since
    return np.maximum(since, cut)
