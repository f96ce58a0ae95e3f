"""Evacuation orders: people leave the region and stop accumulating dose.

An order given at ``order_h`` clears the region in ``clearance_h`` hours: the
complying people leave at times spread uniformly over
``[order_h, order_h + clearance_h]`` (a constant departure rate; a clearance time
"or rate" in the scenario are the same thing, rate = 1 / clearance). The spread is
discretised into ``cohorts`` equal groups (default 8), group ``k`` leaving at the
middle of its slice, ``order_h + clearance_h (k + 1/2) / K``. The midpoint rule
keeps the mean departure time exact, and every group has left before the
clearance ends.

Until they leave, evacuees breathe what they would have breathed anyway (outdoor
air, or the shelter's indoor air where a shelter order applies and they follow it;
see :func:`plumecast.countermeasures.cohorts`); after leaving they breathe clean
air (they are out of the gas: this is the order's intent, and the model does not
follow them along the road; an evacuation through the cloud is therefore
optimistic). Within the step in which a group leaves, the step's
mean concentration is counted pro rata for the time before departure (exact for
outdoor air, which is constant over a transport step). People who do not comply
stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.countermeasures.region import Region, check_region, region_label, region_mask
from plumecast.countermeasures.shelter_order import step_edges
from plumecast.errors import ScenarioError
from plumecast.units import SECONDS_PER_HOUR

__all__ = ["DEFAULT_COHORTS", "Evacuation", "exposure_until"]

#: Number of departure groups an evacuation is split into.
DEFAULT_COHORTS = 8


def exposure_until(
    breathing: ArrayLike, begin_s: ArrayLike, end_s: ArrayLike, leave_s: float
) -> NDArray[np.float64]:
    """Per-step mean concentration of someone who leaves the gas at ``leave_s``. [like breathing]

    ``breathing`` (time, ...) is what they breathe while they stay; after
    ``leave_s`` they breathe clean air; the step holding ``leave_s`` is counted
    pro rata. NaN (unknown) stays NaN.

    >>> exposure_until([[2.0], [2.0], [2.0]], [0, 10, 20], [10, 20, 30], 15.0).ravel().tolist()
    [2.0, 1.0, 0.0]
    """
    c = np.asarray(breathing, dtype=float)
    begin = np.asarray(begin_s, dtype=float).reshape(-1)
    end = np.asarray(end_s, dtype=float).reshape(-1)
    if c.shape[:1] != begin.shape or begin.shape != end.shape:
        raise ValueError(f"breathing has {c.shape[:1]} steps but the step edges {begin.shape}, {end.shape}")
    stay = np.clip((leave_s - begin) / (end - begin), 0.0, 1.0)
    out = c * stay.reshape((-1,) + (1,) * (c.ndim - 1))
    return np.where(np.isnan(c), np.nan, out)


@dataclass(frozen=True)
class Evacuation:
    """Leave the region between ``order_h`` and ``order_h + clearance_h``.

    Parameters
    ----------
    region : ``"all"``, a list of receptor names or ``(lon_min, lat_min, lon_max, lat_max)``.
    order_h : the order is given, hours after the scenario start. [h]
    clearance_h : time to clear the region (> 0). [h]
    compliance : fraction of the people in the region who leave. [-]
    cohorts : number of equal departure groups (>= 1).
    """

    region: Region = "all"
    order_h: float = 0.0
    clearance_h: float = 1.0
    compliance: float = 1.0
    cohorts: int = DEFAULT_COHORTS

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", check_region(self.region, "evacuation.region"))
        if not (math.isfinite(self.order_h) and self.order_h >= 0):
            raise ScenarioError(f"evacuation: order_h = {self.order_h!r}; expected hours after start, >= 0")
        if not (math.isfinite(self.clearance_h) and self.clearance_h > 0):
            raise ScenarioError(f"evacuation: clearance_h = {self.clearance_h!r}; expected hours, > 0")
        if not (0.0 <= self.compliance <= 1.0):
            raise ScenarioError(f"evacuation: compliance = {self.compliance!r}; expected a fraction in [0, 1]")
        if isinstance(self.cohorts, bool) or not isinstance(self.cohorts, int) or not 1 <= self.cohorts <= 1000:
            raise ScenarioError(f"evacuation: cohorts = {self.cohorts!r}; expected an integer from 1 to 1000")

    @property
    def leave_h(self) -> NDArray[np.float64]:
        """Departure time of each group, hours after the scenario start. [h]"""
        k = np.arange(self.cohorts, dtype=float)
        return np.asarray(self.order_h + self.clearance_h * (k + 0.5) / self.cohorts, dtype=float)

    @property
    def clear_h(self) -> float:
        """Everyone who complies is gone by this time. [h]"""
        return float(self.order_h + self.clearance_h)

    @property
    def label(self) -> str:
        return f"evacuated from {self.order_h:g} h over {self.clearance_h:g} h ({region_label(self.region)})"

    def mask(self, receptors: object, what: str = "evacuation.region") -> NDArray[np.bool_]:
        """Receptors covered by the order (``what``: the region's key in error messages)."""
        return region_mask(self.region, receptors, what)

    def exposure(
        self, breathing: ArrayLike, time_end_s: ArrayLike, dt_s: ArrayLike, group: int
    ) -> NDArray[np.float64]:
        """What departure group ``group`` breathes, ``(time, receptor)``, given what
        they breathe while they stay (see :func:`exposure_until`). [like breathing]"""
        if not 0 <= group < self.cohorts:
            raise ValueError(f"group {group}: expected 0..{self.cohorts - 1}")
        begin, end = step_edges(time_end_s, dt_s)
        return exposure_until(breathing, begin, end, float(self.leave_h[group]) * SECONDS_PER_HOUR)
