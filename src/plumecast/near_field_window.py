"""The near-field plume's emission windows (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`): a
step's knots of time, its window of emission time at each point, and how fast a step's peak takes that window to
grow (its mean over the step, faster within it where the wind picks up, thicker along a streak line where the air
left in a lull). Split out of :mod:`plumecast.near_field_plume` (session 50), whose methods call them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray


def step_times(wind_at: Any, t0_s: float, t1_s: float) -> list[float]:
    """A step's ends and the met's records within it (``wind_at.records_within``,
    :meth:`plumecast.stack_wind.SourceWind.records_within`, where it has one) [s], in order."""
    within = getattr(wind_at, "records_within", None)
    return [t0_s, *(() if within is None else within(t0_s, t1_s)), t1_s]


def grown(mean: NDArray[np.float64], fast: NDArray[np.float64] | None) -> NDArray[np.float64]:
    """The top hat's growth of its window over the step: its mean ``(b - a)/dt``, or where the window grows faster
    within the step (``fast`` > 1, :meth:`plumecast.near_field_plume.NearFieldSource._squeeze`) the larger of that and the mean."""
    if fast is None:
        return mean
    return np.where(fast > 1.0, np.maximum(mean, fast), mean)


def thicker(line: Any, a: NDArray[np.float64], b: NDArray[np.float64], t1_s: float, dt_s: float,
             travel: NDArray[np.float64], spread_s: NDArray[np.float64] | None,
             emitted_by: Any = None) -> NDArray[np.float64] | None:
    """The window's growth a step's peak takes along a streak line (``line``, the window ``[a, b]``): its mean,
    ``(b - a)/dt``, times how much thicker than the line takes it the air of those emissions (and those the
    spread's lead, ``min(sqrt 2 sigma_t, travel)``, brings ahead) can be, having left when the wind was slowest
    within its step (:meth:`plumecast.near_field_track.Track.thickest`, the stretches the release emitted in); None
    where no more than the mean. A
    release through a lull that falls between the steps' middles had read AEGL-2 5 km out never with 600- and
    300-s steps, 32.4 min with 10-s steps (the lull's air four times as thick; session 50)."""
    lead = 0.0 if spread_s is None else np.minimum(math.sqrt(2.0) * spread_s, travel)
    ratio = line.thickest(np.maximum(t1_s - b - lead, 0.0), t1_s - a, t1_s, emitted_by)  # where air left
    if not (ratio > 1.0).any():
        return None
    return np.asarray(np.where(ratio > 1.0, np.maximum((b - a) / dt_s, 1.0) * ratio, 1.0), dtype=float)


def emission_window(a: NDArray[np.float64], b: NDArray[np.float64], ok: NDArray[np.bool_],
            delivered: NDArray[np.float64] | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A step's emission window at the points ``ok`` reaches (``a``, ``b``: ``[t0 - tau, t1 -
    tau]``): from where the last step's ended (``delivered``, NaN: from ``a``) to ``b``, empty
    where ``b`` has not passed it; ``delivered`` is set to the new ends, NaN where ``ok`` is
    False (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`)."""
    if delivered is None:
        return a, b
    last = delivered[ok]
    a = np.where(np.isfinite(last), last, a)
    b = np.maximum(b, a)
    delivered[~ok] = np.nan
    delivered[ok] = b
    return a, b
