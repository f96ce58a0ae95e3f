"""How fast a steady plume's emission window can grow within a step where the wind picks up (session 49).

The near field's steady plume (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at` without a streak
line) brings to a place ``d`` metres downwind, at time ``t``, the air that left the source by ``B(t) = t - d/u(t)``
(``u`` the carrying speed then), each step from where the last step's window ended. Where the wind picks up,
``B`` runs faster than time, ``B' = 1 + d u'/u^2``, and the steps deliver that much emission per second of time:
after a lull (1 m/s at one met record, 4 m/s at the next, 3 km out) up to ten times as fast once ``B`` passes
what the place had already breathed. A step's mean rate, ``(b - a)/dt``, spreads that over the step; the finer
steps' windows each take their own share of it, so the step's peak takes the largest ``B'`` within it.

The speed is linear in time between the knots given (the step's ends, middle and the met's records within it,
:meth:`~plumecast.near_field_plume.NearFieldSource.step_speeds`); on a piece where it rises (``u' = s > 0``)
``B`` is concave and rising, so ``B'`` is largest where the piece starts delivering: at its start, or where
``B`` first passes the most it has reached since the step began (before that the steps bring nothing new).

Since session 50 a run's steady plume takes its travel time off the streak line of the carried wind wherever the
wind has changed (:mod:`plumecast.near_field_track`; its window end then runs at ``u(t)/u(t_e)``, with no catch-up
spike), so this bound acts only for a steady plume given no line (``step_mean_at`` called alone, or a wind whose
every step's run is its middle's speed times the step while it rises within steps); in the session-49 lulls it no
longer widens any step's peak.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def rising(times_s: list[float], speeds: list[float]) -> bool:
    """Whether the speed rises between two consecutive knots (``times_s`` sorted)."""
    return any(u1 > u0 for u0, u1 in zip(speeds[:-1], speeds[1:], strict=True))


def window_squeeze(times_s: list[float], speeds: list[float], d_m: NDArray[np.float64],
                   delivered_s: NDArray[np.float64],
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per distance ``d_m`` [m]: the largest growth rate of the window's end ``B`` [s of emission per s] within the
    step where it delivers emission not delivered before (1 where it does not grow faster than time), from the
    carrying speeds ``speeds`` [m s-1] at ``times_s`` (sorted; the step's start first, its end last; linear
    between them) and ``delivered_s``, per distance, an emission time no later than any finer steps' windows had
    reached when the step began [s]; second and third the least and most of the emission times the windows of
    finer steps within the step can take (from that or ``B`` at the step's start, whichever is later, to a bound
    above of ``B`` from the fastest speed)."""
    d = np.asarray(d_m, dtype=float)
    t = np.asarray(times_s, dtype=float)
    u = np.asarray(speeds, dtype=float)
    most = np.ones(d.size)
    # the most B has reached (at the knots: no more than the true most), and what had been delivered before
    reached = np.maximum(t[0] - d / u[0], np.asarray(delivered_s, dtype=float))
    low = reached.copy()
    for i in range(t.size - 1):
        span = t[i + 1] - t[i]
        end = t[i + 1] - d / u[i + 1]
        if u[i + 1] > u[i] and span > 0.0:
            s = (u[i + 1] - u[i]) / span
            live = end > reached  # the piece brings new emission
            if live.any():
                # the first tau in [0, span] with B(t_i + tau) = reached: s tau^2 + (u_i - s c) tau - (c u_i + d) = 0
                c = np.maximum(reached[live] - t[i], -d[live] / u[i])  # B(t_i) = t_i - d/u_i: c >= -d/u_i
                p = u[i] - s * c
                q = c * u[i] + d[live]  # >= 0
                root = np.sqrt(p * p + 4.0 * s * q)
                with np.errstate(invalid="ignore", divide="ignore"):
                    tau = np.where(p > 0.0, 2.0 * q / (p + root), (root - p) / (2.0 * s))
                tau = np.clip(np.nan_to_num(tau, nan=0.0), 0.0, span)
                at = u[i] + s * tau
                most[live] = np.maximum(most[live], 1.0 + d[live] * s / (at * at))
        reached = np.maximum(reached, end)
    high = t[-1] - d / u.max()
    return most, low, high
