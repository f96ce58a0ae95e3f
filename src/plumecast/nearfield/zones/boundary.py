"""Zone edges: the tips where a level's axis ratio crosses 1, bracketed to 0.01 %, and
the crosswind boundary factor of each polygon (bisection on the lateral factor)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.zones.plume import exposure_windows
from plumecast.nearfield.zones.setup import PlumeSetup
from plumecast.nearfield.zones.windowed import (
    LevelRatio,
    WindowSeries,
    as_windows,
)

#: Zone tips are bracketed to this ratio of the outer to the inner distance (0.01 %).
TIP_BRACKET = 1.0001
#: Equally spaced distances evaluated per crossing and round of the tip refinement.
_TIP_POINTS = 8


def _refine_crossings(
    setup: PlumeSetup,
    x_in: NDArray[np.float64],
    x_out: NDArray[np.float64],
    g_in: NDArray[np.float64],
    g_out: NDArray[np.float64],
    level: NDArray[np.intp],
    ends: NDArray[np.float64],
    tables: NDArray[np.float64],
    floor: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], WindowSeries]:
    """Bracket each place where the axis ratio to level ``level[k]`` crosses 1 to :data:`TIP_BRACKET`.

    ``x_in[k] < x_out[k]`` are neighbouring grid distances on either side of the
    crossing and ``g_in``/``g_out`` the log of the ratio there (``g >= 0``: the
    level is reached). Each round evaluates, for every unfinished crossing at once
    (one series evaluation per round), a pair of distances :data:`TIP_BRACKET`
    apart about the secant (regula falsi) estimate in ``ln x``, which ends the
    search when ``ln ratio`` is close to linear, and :data:`_TIP_POINTS` distances
    equally spaced in ``ln x``, which shrink the bracket at least nine-fold when
    it is not (the ratio is jagged at the percent level where the onset moves
    from one interval of the time axis to the next). When the bracket holds
    several sign changes, the one that makes the zone larger is kept (the farthest
    for an outer edge, the nearest for an inner one: safe side); the last distance
    inside and the first outside come back, 0.01 % apart.

    Returns
    -------
    lo, hi : numpy.ndarray
        Per crossing, the smaller and the larger distance of the final bracket. [m]
    x_eval : numpy.ndarray
        Every distance evaluated here, and ``w_eval`` their series (to be reused).
    """
    lo, hi = np.asarray(x_in, dtype=float).copy(), np.asarray(x_out, dtype=float).copy()
    glo, ghi = np.asarray(g_in, dtype=float).copy(), np.asarray(g_out, dtype=float).copy()
    xs_done: list[NDArray[np.float64]] = []
    ws_done: list[WindowSeries] = []
    half = 0.4 * math.log(TIP_BRACKET)
    frac = np.arange(1, _TIP_POINTS + 1) / (_TIP_POINTS + 1.0)
    for _ in range(100):
        act = np.nonzero(hi / lo > TIP_BRACKET)[0]
        if act.size == 0:
            break
        llo, lhi = np.log(lo[act]), np.log(hi[act])
        fl, fh = glo[act], ghi[act]
        with np.errstate(invalid="ignore", divide="ignore"):
            est = llo + (lhi - llo) * fl / (fl - fh)
        est = np.where(np.isfinite(est), est, 0.5 * (llo + lhi))
        pts = np.concatenate(
            [np.clip(est - half, llo, lhi)[:, None], np.clip(est + half, llo, lhi)[:, None],
             llo[:, None] + (lhi - llo)[:, None] * frac[None, :]], axis=1)
        pts.sort(axis=1)
        xp = np.exp(pts)
        n_p = pts.shape[1]
        cols = np.repeat(act, n_p)
        # columns grouped by level, as LevelRatio wants
        o = np.argsort(level[cols], kind="stable")
        flat = xp.reshape(-1)[o]
        w = exposure_windows(setup, flat, np.zeros(o.size), ends)
        r, _ = LevelRatio(w, ends, tables, floor, np.arange(o.size), level[cols][o], ratio_only=True)(np.ones(o.size))
        xs_done.append(flat)
        ws_done.append(w)
        g = np.empty(o.size)
        g[o] = np.log(np.maximum(r, 1e-300))
        seq_x = np.concatenate([lo[act, None], xp, hi[act, None]], axis=1)
        seq_g = np.concatenate([glo[act, None], g.reshape(act.size, n_p), ghi[act, None]], axis=1)
        inside = seq_g >= 0
        change = inside[:, :-1] != inside[:, 1:]  # the ends differ, so every row has one
        # a zone's outer edge (inside at the smaller distance): the farthest change; its inner
        # edge (outside at the smaller distance): the nearest; both make the zone larger
        outer = inside[:, 0]
        last = np.where(outer, change.shape[1] - 1 - np.argmax(change[:, ::-1], axis=1), np.argmax(change, axis=1))
        rows = np.arange(act.size)
        lo[act], glo[act] = seq_x[rows, last], seq_g[rows, last]
        hi[act], ghi[act] = seq_x[rows, last + 1], seq_g[rows, last + 1]
    if not ws_done:
        return lo, hi, np.zeros(0), exposure_windows(setup, np.zeros(0), np.zeros(0), ends)
    return lo, hi, np.concatenate(xs_done), WindowSeries.concat(ws_done)



def boundary_factor(
    centreline: NDArray[np.float64],
    ends_s: NDArray[np.float64],
    table_kg_m3: NDArray[np.float64],
    floor_kg_m3: float,
    iterations: int = 12,
) -> NDArray[np.float64]:
    """Smallest lateral factor ``f = exp(-y²/2σ_y²)`` at which a level is still reached.

    At each downwind distance the series off the axis is ``f`` times the
    centreline series (Gaussian crosswind profile), and :func:`level_ratio`
    grows with ``f``. Returns ``f*`` with ``ratio(f*) <= 1 <= ratio(f*+)``
    (the boundary errs outward, the safe side); NaN where even the axis does
    not reach the level. Bracketed from ``1/ratio(1)`` (the ratio at most
    scales with ``f``), then a secant-like step and bisection in ``ln f``.
    """
    w = as_windows(centreline)
    tab = np.asarray(table_kg_m3, dtype=float)[None, :]
    r1, _ = LevelRatio(w, ends_s, tab, floor_kg_m3)(np.ones(w.n))
    out = np.full(w.n, np.nan)
    inside = np.nonzero(r1 >= 1.0)[0]
    if inside.size == 0:
        return out
    zeros = np.zeros(inside.size, dtype=np.intp)
    out[inside] = _bisect_boundary(LevelRatio(w, ends_s, tab, floor_kg_m3, inside, zeros), r1[inside], iterations)
    return out


def _bisect_boundary(ratio: LevelRatio, r1: NDArray[np.float64], iterations: int = 12) -> NDArray[np.float64]:
    """The bisection of :func:`boundary_factor` on the columns of ``ratio`` (axis ratios ``r1 >= 1``)."""
    lo = 1.0 / r1  # ratio(lo) <= 1
    hi = np.ones_like(lo)  # ratio(hi) >= 1
    ratio = ratio.restricted(lo, hi)  # every trial lies in [lo, hi]
    r_lo, _ = ratio(lo)
    lo_below = r_lo < 1.0  # ratio(lo) < 1 read (at lo as it is now), and ratio(hi) >= 1 read
    hi_above = np.zeros(lo.size, dtype=bool)
    for k in range(iterations):
        if k < 3:
            trial = np.minimum(np.where(r_lo > 0, lo / np.maximum(r_lo, 1e-300), hi), hi)
            trial = np.where((trial > lo) & (trial < hi), trial, np.sqrt(lo * hi))
        else:
            trial = np.sqrt(lo * hi)
        if k < 2:  # r_lo, the secant steps' value, read from the ratio's value
            rt, _ = ratio(trial)
            up = rt >= 1.0
        else:
            # only whether the ratio reaches 1 (the ratio's search stops once that is known), and not again at an
            # end of the bracket (lo, hi adjacent doubles: the trial is one of them) already read
            settled = ((trial == lo) & lo_below) | ((trial == hi) & hi_above)
            rt, _ = ratio(trial, np.where(settled, np.inf, 1.0))
            up = np.where(settled, trial == hi, rt >= 1.0)
        hi = np.where(up, trial, hi)
        lo = np.where(up, lo, trial)
        r_lo = np.where(up, r_lo, rt)
        hi_above |= up
        lo_below |= ~up
    return lo
