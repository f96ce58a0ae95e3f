"""Shelter-in-place orders: stay inside from a start time, ventilate at the end.

People covered by the order who comply are indoors from ``start_h`` (the time they
are inside: any warning and response delay is the caller's to add). The building
is one well-mixed zone exchanging air with the outside (Chan et al. 2007, eq. 1):

    dC_in/dt = lambda(t) (C_out - C_in)

with ``lambda`` = ``air_changes_per_hour`` while the order holds. When the order
ends (``end_h``) people open windows and doors: the indoor air relaxes to the
outdoor air at ``ventilation_air_changes_per_hour`` (default 4 h-1, an opened-up
house), so their exposure after the end follows the ventilation and tends to the
outdoor concentration. Before ``start_h`` they are outdoors and breathe outdoor
air; the buildings meanwhile take in outdoor air at ``pre_air_changes_per_hour``
(default: the shelter rate, the convention of :func:`plumecast.consequence.assess`),
starting clean at the release start. People who do not comply stay outdoors.

The outdoor concentration is constant over each transport step; each step is split
at ``start_h`` and ``end_h`` and the equation is integrated exactly on every piece
(as :func:`plumecast.shelter.indoor_concentration`):

    C_in(t + dt) = C_out + (C_in(t) - C_out) exp(-lambda dt)
    mean over dt  = C_out + (C_in(t) - C_out) (1 - exp(-lambda dt)) / (lambda dt)

Reference: Chan, W.R., Nazaroff, W.W., Price, P.N. & Gadgil, A.J. (2007)
"Effectiveness of urban shelter-in-place - I: Idealized conditions",
Atmospheric Environment 41, 4962-4976, doi:10.1016/j.atmosenv.2007.03.037.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.countermeasures.region import Region, check_region, region_label, region_mask
from plumecast.errors import ScenarioError
from plumecast.units import SECONDS_PER_HOUR

__all__ = ["DEFAULT_VENTILATION_ACH", "ShelterOrder", "sheltered_exposure", "sheltered_peak", "step_edges"]

#: Air changes per hour of a house with windows and doors opened after an order ends. [h-1]
#: Opened-window exchange rates of several h-1 are typical (Chan et al. 2007 discuss
#: ventilating after the plume has passed; 4 h-1 is the team-wide default).
DEFAULT_VENTILATION_ACH = 4.0


def step_edges(time_end_s: ArrayLike, dt_s: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Begin and end of each transport step, seconds after the release start.

    ``dt_s`` is one step length or one per step. [s]
    """
    end = np.asarray(time_end_s, dtype=float).reshape(-1)
    dt = np.broadcast_to(np.asarray(dt_s, dtype=float), end.shape).astype(float)
    if np.any(~np.isfinite(dt)) or np.any(dt <= 0):
        raise ValueError(f"dt_s must be > 0 (got {np.asarray(dt_s)!r})")
    begin = end - dt
    if end.size > 1 and np.any(begin[1:] < end[:-1] - 1e-6 * dt[1:]):
        raise ValueError("time_end_s - dt_s overlaps the previous step; expected consecutive steps")
    return begin, end


def _pieces(b: float, e: float, cuts: tuple[float, ...]) -> list[tuple[float, float]]:
    pts = [b] + sorted(c for c in cuts if b < c < e) + [e]
    return [(p0, p1) for p0, p1 in zip(pts[:-1], pts[1:], strict=True) if p1 > p0]


def sheltered_exposure(
    outdoor: ArrayLike,
    begin_s: ArrayLike,
    end_s: ArrayLike,
    start_s: float,
    stop_s: float,
    air_changes_per_hour: float,
    ventilation_air_changes_per_hour: float = DEFAULT_VENTILATION_ACH,
    pre_air_changes_per_hour: float | None = None,
) -> NDArray[np.float64]:
    """Concentration breathed by a person who follows a shelter order, per step. [like outdoor]

    Parameters
    ----------
    outdoor : (time, ...) outdoor concentration, constant over each step. [any unit]
    begin_s, end_s : (time,) step edges, seconds after the release start. [s]
    start_s : people go indoors. [s]
    stop_s : the order ends and people ventilate (``inf``: never). [s]
    air_changes_per_hour : building air exchange during the order. [h-1]
    ventilation_air_changes_per_hour : air exchange after the order ends. [h-1]
    pre_air_changes_per_hour : air exchange before the order (default: the
        shelter rate). [h-1]

    Returns
    -------
    (time, ...) time-mean over each step of what the person breathes: outdoor air
    before ``start_s``, indoor air after it. The building air starts clean at
    ``t = 0`` (outdoor air before the first step counts as clean). NaN outdoor
    values stay NaN (unknown).

    Examples
    --------
    Outdoor 1 from the start, sheltered throughout at 1 h-1: the indoor mean over
    the first hour is ``1 - (1 - e^-1)/1``:

    >>> float(sheltered_exposure([[1.0]], [0.0], [3600.0], 0.0, float("inf"), 1.0)[0, 0])
    0.36787944117144233
    """
    c_out = np.asarray(outdoor, dtype=float)
    begin = np.asarray(begin_s, dtype=float).reshape(-1)
    end = np.asarray(end_s, dtype=float).reshape(-1)
    if c_out.shape[:1] != begin.shape or begin.shape != end.shape:
        raise ValueError(f"outdoor has {c_out.shape[:1]} steps but the step edges {begin.shape}, {end.shape}")
    pre = air_changes_per_hour if pre_air_changes_per_hour is None else pre_air_changes_per_hour
    for name, v in (("air_changes_per_hour", air_changes_per_hour),
                    ("ventilation_air_changes_per_hour", ventilation_air_changes_per_hour),
                    ("pre_air_changes_per_hour", pre)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} = {v!r}; expected > 0 [h-1]")
    if stop_s < start_s:
        raise ValueError(f"the shelter order ends ({stop_s} s) before it starts ({start_s} s)")
    out = np.empty_like(c_out)
    c_in = np.zeros(c_out.shape[1:], dtype=float)
    for k in range(c_out.shape[0]):
        b, e = float(begin[k]), float(end[k])
        acc = np.zeros(c_out.shape[1:], dtype=float)
        pieces = _pieces(b, e, (start_s, stop_s))
        for p0, p1 in pieces:
            mid = 0.5 * (p0 + p1)
            ach = pre if mid < start_s else (air_changes_per_hour if mid < stop_s else ventilation_air_changes_per_hour)
            x = (p1 - p0) * ach / SECONDS_PER_HOUR
            mean_factor = -math.expm1(-x) / x if x > 1e-12 else 1.0
            diff = c_in - c_out[k]
            breath = c_out[k] if mid < start_s else c_out[k] + diff * mean_factor
            acc = breath if len(pieces) == 1 else acc + breath * (p1 - p0)
            c_in = c_out[k] + diff * math.exp(-x)
        out[k] = acc if len(pieces) == 1 else acc / (e - b)
    return out


def sheltered_peak(
    outdoor: ArrayLike,
    peak: ArrayLike,
    begin_s: ArrayLike,
    end_s: ArrayLike,
    start_s: float,
    stop_s: float,
    air_changes_per_hour: float,
    ventilation_air_changes_per_hour: float = DEFAULT_VENTILATION_ACH,
    pre_air_changes_per_hour: float | None = None,
) -> NDArray[np.float64]:
    """The most a person who follows a shelter order (:func:`sheltered_exposure`'s) can breathe within each
    step, given the outdoor air's mean ``outdoor`` and the most it reaches within the step, ``peak`` (time, ...);
    for the countdowns only (:func:`plumecast.plans.evaluate._peak_arrivals`). [like outdoor]

    Outdoors (a step that begins before ``start_s``) the peak itself. Indoors, where the step's peak is above
    its mean (a cloud that passes within it), the step's dose comes in as late and as fast as the peak allows,
    at the highest air-exchange rate of the step, on top of the most the building held at its start
    (:func:`plumecast.shelter.indoor_peak_bound`, which says why: a cloud that passes within a step enters the
    building at once, and the step's mean let it in over the whole step); where the peak is the mean the
    outdoor air is taken as constant over the step, as :func:`sheltered_exposure` takes it, and the most is the
    larger of the building's air at the step's two ends. The bound on the building's air carries over from
    step to step."""
    c_out = np.asarray(outdoor, dtype=float)
    top = np.maximum(np.asarray(peak, dtype=float), c_out)
    begin = np.asarray(begin_s, dtype=float).reshape(-1)
    end = np.asarray(end_s, dtype=float).reshape(-1)
    if c_out.shape[:1] != begin.shape or begin.shape != end.shape or top.shape != c_out.shape:
        raise ValueError(f"outdoor {c_out.shape}, peak {top.shape}, step edges {begin.shape}, {end.shape}; "
                         "expected (time, ...) alike")
    pre = air_changes_per_hour if pre_air_changes_per_hour is None else pre_air_changes_per_hour
    out = np.empty_like(c_out)
    held = np.zeros(c_out.shape[1:], dtype=float)  # the most the building's air can be at the step's start
    for k in range(c_out.shape[0]):
        b, e = float(begin[k]), float(end[k])
        m, p = c_out[k], top[k]
        pieces = _pieces(b, e, (start_s, stop_s))
        rates = [pre if 0.5 * (p0 + p1) < start_s else (air_changes_per_hour if 0.5 * (p0 + p1) < stop_s
                 else ventilation_air_changes_per_hour) for p0, p1 in pieces]
        constant = held.copy()  # the building's air with the outdoor air constant over the step, piece by piece
        for (p0, p1), ach in zip(pieces, rates, strict=True):
            constant = m + (constant - m) * math.exp(-(p1 - p0) * ach / SECONDS_PER_HOUR)
        x_hi = (e - b) * max(rates) / SECONDS_PER_HOUR
        x_lo = (e - b) * min(rates) / SECONDS_PER_HOUR
        with np.errstate(invalid="ignore", divide="ignore"):
            added = np.where(p > m, -p * np.expm1(-x_hi * m / np.where(p > 0, p, 1.0)), 0.0)
        spike = p > m
        inside = np.where(spike, held + added, np.maximum(held, constant))
        out[k] = np.maximum(inside, p) if b < start_s else inside
        held = np.where(spike, held * math.exp(-x_lo) + added, constant)
    return out


@dataclass(frozen=True)
class ShelterOrder:
    """Stay inside from ``start_h`` to ``end_h`` in a region.

    Parameters
    ----------
    region : ``"all"``, a list of receptor names or ``(lon_min, lat_min, lon_max, lat_max)``.
    start_h : the order is given, hours after the scenario start. [h]
    end_h : people are told to ventilate or leave (``None``: the order never ends). [h]
    compliance : fraction of the people in the region who shelter. [-]
    air_changes_per_hour : building air exchange while sheltering. [h-1]
    ventilation_air_changes_per_hour : air exchange after the end. [h-1]
    pre_air_changes_per_hour : building air exchange before the order (``None``:
        the shelter rate). [h-1]
    """

    region: Region = "all"
    start_h: float = 0.0
    end_h: float | None = None
    compliance: float = 1.0
    air_changes_per_hour: float = 0.5
    ventilation_air_changes_per_hour: float = DEFAULT_VENTILATION_ACH
    pre_air_changes_per_hour: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", check_region(self.region, "shelter.region"))
        if not (math.isfinite(self.start_h) and self.start_h >= 0):
            raise ScenarioError(f"shelter: start_h = {self.start_h!r}; expected hours after start, >= 0")
        if self.end_h is not None and not (math.isfinite(self.end_h) and self.end_h >= self.start_h):
            raise ScenarioError(
                f"shelter: end_h = {self.end_h!r}; expected hours after start, not before start_h ({self.start_h})"
            )
        if not (0.0 <= self.compliance <= 1.0):
            raise ScenarioError(f"shelter: compliance = {self.compliance!r}; expected a fraction in [0, 1]")
        for name in ("air_changes_per_hour", "ventilation_air_changes_per_hour", "pre_air_changes_per_hour"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and 0 < v <= 100):
                raise ScenarioError(f"shelter: {name} = {v!r}; expected air changes per hour in (0, 100]")

    @property
    def label(self) -> str:
        """``sheltered 6-18 h (Tokyo)``: for tables."""
        end = "" if self.end_h is None else f"-{self.end_h:g}"
        return f"sheltered {self.start_h:g}{end} h ({region_label(self.region)})"

    def mask(self, receptors: object, what: str = "shelter.region") -> NDArray[np.bool_]:
        """Receptors covered by the order (``what``: the region's key in error messages)."""
        return region_mask(self.region, receptors, what)

    def exposure(self, outdoor: ArrayLike, time_end_s: ArrayLike, dt_s: ArrayLike) -> NDArray[np.float64]:
        """What a complying person breathes at every receptor, ``(time, receptor)``
        (see :func:`sheltered_exposure`). [like outdoor]"""
        begin, end = step_edges(time_end_s, dt_s)
        stop = math.inf if self.end_h is None else self.end_h * SECONDS_PER_HOUR
        return sheltered_exposure(
            outdoor, begin, end, self.start_h * SECONDS_PER_HOUR, stop, self.air_changes_per_hour,
            self.ventilation_air_changes_per_hour, self.pre_air_changes_per_hour,
        )

    def peak(self, outdoor: ArrayLike, peak: ArrayLike, time_end_s: ArrayLike, dt_s: ArrayLike) -> NDArray[np.float64]:
        """The most a complying person can breathe within each step, ``(time, receptor)``, given the outdoor
        air's means and most within each step (see :func:`sheltered_peak`). [like outdoor]"""
        begin, end = step_edges(time_end_s, dt_s)
        stop = math.inf if self.end_h is None else self.end_h * SECONDS_PER_HOUR
        return sheltered_peak(
            outdoor, peak, begin, end, self.start_h * SECONDS_PER_HOUR, stop, self.air_changes_per_hour,
            self.ventilation_air_changes_per_hour, self.pre_air_changes_per_hour,
        )
