"""Shelter-in-place: single-zone indoor concentration.

The building is one well-mixed zone exchanging air with the outside at ``lambda``
air changes per hour (ACH), with no indoor source or sink:

    dC_in/dt = lambda (C_out - C_in)

(the standard single-zone mass balance, e.g. Chan, W.R., Nazaroff, W.W., Price,
P.N. & Gadgil, A.J. (2007), "Effectiveness of urban shelter-in-place - I: Idealized
conditions", *Atmospheric Environment* 41, 4962-4976,
doi:10.1016/j.atmosenv.2007.03.037, eq. 1). With ``C_out`` constant over an
interval of length ``dt`` the equation is integrated exactly:

    C_in(t + dt) = C_out + (C_in(t) - C_out) exp(-lambda dt)
    mean over the interval = C_out + (C_in(t) - C_out) (1 - exp(-lambda dt)) / (lambda dt)

Indoor air is clean at the start of the series. Typical ``lambda``: 0.2-2 h-1
(tight to leaky homes; Chan et al. 2007 Table 1).
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator

from plumecast.units import SECONDS_PER_HOUR

__all__ = ["Shelter", "indoor_concentration"]


class Shelter(BaseModel):
    """Shelter-in-place assumptions.

    Parameters
    ----------
    air_changes_per_hour : float
        Air-exchange rate of the buildings (> 0). [h-1]
    compliance_fraction : float
        Fraction of the population that shelters (0..1). [-]
    start : datetime, float or None
        When people go inside: a datetime (compared with a datetime time axis) or
        seconds after the release start. ``None``: from the release start. Before
        it, everyone breathes outdoor air.
    end : datetime, float, list of float (one per receptor) or None
        When people are told to ventilate (open windows) or leave: from then on
        the indoor air relaxes to the outdoor air at
        ``ventilation_air_changes_per_hour``. ``None``: never. A per-receptor list
        lets each place end its shelter when its own cloud has passed, so that
        results at one receptor never depend on the others.
    ventilation_air_changes_per_hour : float
        Air-exchange rate once people ventilate (open windows: 2-10 h-1). [h-1]
    receptor_air_changes_per_hour : list of float or None
        One per receptor: the air-exchange rate of the buildings there while people
        shelter (a scenario's ``receptors.points[].air_changes_per_hour``), NaN where
        the place has none of its own and takes ``air_changes_per_hour``. ``None``:
        every place takes ``air_changes_per_hour``. [h-1]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    air_changes_per_hour: float = Field(default=0.5, gt=0)
    compliance_fraction: float = Field(default=1.0, ge=0, le=1)
    start: _dt.datetime | float | None = None
    end: _dt.datetime | float | list[float] | None = None
    ventilation_air_changes_per_hour: float = Field(default=4.0, gt=0)
    receptor_air_changes_per_hour: list[float] | None = None

    @field_validator("receptor_air_changes_per_hour")
    @classmethod
    def _own_rates(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and any(not (math.isnan(x) or (math.isfinite(x) and x > 0)) for x in v):
            raise ValueError(f"receptor_air_changes_per_hour {v!r}: expected values > 0 (NaN: the shelter's)")
        return v

    def own_rates(self, nrec: int) -> NDArray[np.float64] | None:
        """Each receptor's air-exchange rate while sheltering (its own, else ``air_changes_per_hour``), or None
        when no receptor has its own. [h-1]"""
        own = self.receptor_air_changes_per_hour
        if own is None or not any(math.isfinite(x) for x in own):
            return None
        if len(own) != nrec:
            raise ValueError(f"receptor_air_changes_per_hour: {len(own)} values for {nrec} receptors")
        arr = np.asarray(own, dtype=float)
        return np.where(np.isfinite(arr), arr, self.air_changes_per_hour)

    @property
    def rate_per_s(self) -> float:
        """Air-exchange rate ``lambda``. [s-1]"""
        return self.air_changes_per_hour / SECONDS_PER_HOUR


def indoor_concentration(
    outdoor: ArrayLike, dt_s: ArrayLike, air_changes_per_hour: float | ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Indoor concentration of a single-zone building (exact per interval).

    Parameters
    ----------
    outdoor : array_like, shape (time, ...)
        Outdoor concentration, constant over each interval (interval means). [any]
    dt_s : array_like, shape (time,)
        Interval lengths. [s]
    air_changes_per_hour : float or array_like broadcastable to ``outdoor``
        Air-exchange rate ``lambda`` (> 0), constant or per interval (and place). [h-1]

    Returns
    -------
    mean : numpy.ndarray, shape like ``outdoor``
        Indoor concentration averaged over each interval. [same unit as outdoor]
    end : numpy.ndarray, shape like ``outdoor``
        Indoor concentration at the end of each interval. [same unit as outdoor]

    Notes
    -----
    Exact solution of ``dC_in/dt = lambda (C_out - C_in)`` for piecewise-constant
    ``C_out`` with ``C_in = 0`` at the start (Chan et al. 2007, eq. 1). For a
    step ``C_out = C0`` from ``t = 0``: ``C_in(t) = C0 (1 - exp(-lambda t))``.

    Examples
    --------
    >>> import numpy as np
    >>> from plumecast.shelter import indoor_concentration
    >>> mean, end = indoor_concentration(np.ones(2), [3600.0, 3600.0], 1.0)
    >>> np.round(end, 4).tolist()
    [0.6321, 0.8647]
    """
    c_out = np.asarray(outdoor, dtype=float)
    dt = np.asarray(dt_s, dtype=float)
    ach = np.asarray(air_changes_per_hour, dtype=float)
    if np.any(ach <= 0):
        raise ValueError(f"air_changes_per_hour = {air_changes_per_hour!r}: must be > 0")
    if dt.shape != c_out.shape[:1]:
        raise ValueError(f"dt_s has shape {dt.shape}; expected ({c_out.shape[0]},)")
    dt_b = dt.reshape(dt.shape + (1,) * (c_out.ndim - 1))
    x = np.broadcast_to(dt_b * (ach / SECONDS_PER_HOUR), c_out.shape) if ach.ndim else dt * (float(ach) / SECONDS_PER_HOUR)
    decay = np.exp(-x)
    # (1 - e^-x)/x, with its limit 1 at x -> 0
    mean_factor = np.where(x > 1e-12, -np.expm1(-x) / np.where(x > 1e-12, x, 1.0), 1.0)
    mean = np.empty_like(c_out)
    end = np.empty_like(c_out)
    c_in = np.zeros(c_out.shape[1:], dtype=float)
    for k in range(c_out.shape[0]):
        diff = c_in - c_out[k]
        mean[k] = c_out[k] + diff * mean_factor[k]
        c_in = c_out[k] + diff * decay[k]
        end[k] = c_in
    return mean, end


def indoor_peak_bound(mean: ArrayLike, peak: ArrayLike, dt_s: ArrayLike,
                      air_changes_per_hour: float | ArrayLike) -> NDArray[np.float64]:
    """The most the indoor air of :func:`indoor_concentration`'s building can reach within each interval,
    given each interval's mean outdoor air ``mean`` and the most the outdoor air reaches within it, ``peak``
    (time, ...) [same unit]; for the countdowns of people sheltering only.

    :func:`indoor_concentration` takes the outdoor air as constant over each interval: a cloud that passes
    within one enters the building at once (``lambda`` times its dose, ``dC_in/dt = lambda (C_out - C_in)``)
    while the model lets it in over the whole interval, and the building's air is read low and late (a 300-kg
    puff of chlorine 1 km away, class D, 600-s steps: 0.26 and 0.49 ppm in the first two intervals' means
    against 0.52 ppm within the first at 10-s steps: AEGL-1 "never" indoors against 9 min). Here, where an
    interval's peak is above its mean, its dose ``mean dt`` comes in as late and as fast as the peak allows,
    which adds the most to the indoor air: ``peak (1 - exp(-lambda dt mean / peak))`` (the constant air's
    ``mean (1 - exp(-lambda dt))`` where the peak is the mean), on top of the most the indoor air held at the
    interval's start, undecayed; the indoor air at its end is bounded alike, so the bound carries over to the
    following intervals. Where the peak is the mean (no passing cloud known) the outdoor air is taken as
    constant, as :func:`indoor_concentration` takes it, and the most is the larger of the interval's two ends.
    """
    c_out = np.asarray(mean, dtype=float)
    top = np.maximum(np.asarray(peak, dtype=float), c_out)
    dt = np.asarray(dt_s, dtype=float)
    ach = np.asarray(air_changes_per_hour, dtype=float)
    if np.any(ach <= 0):
        raise ValueError(f"air_changes_per_hour = {air_changes_per_hour!r}: must be > 0")
    if dt.shape != c_out.shape[:1] or top.shape != c_out.shape:
        raise ValueError(f"mean {c_out.shape}, peak {top.shape}, dt_s {dt.shape}; expected (time, ...) alike")
    dt_b = dt.reshape(dt.shape + (1,) * (c_out.ndim - 1))
    x = np.broadcast_to(dt_b * (ach / SECONDS_PER_HOUR), c_out.shape)
    out = np.empty_like(c_out)
    held = np.zeros(c_out.shape[1:], dtype=float)  # the most the indoor air can be at the interval's start
    for k in range(c_out.shape[0]):
        m, p, xk = c_out[k], top[k], x[k]
        constant = m + (held - m) * np.exp(-xk)
        with np.errstate(invalid="ignore", divide="ignore"):
            added = np.where(p > m, -p * np.expm1(-xk * m / np.where(p > 0, p, 1.0)), 0.0)
        spike = p > m
        out[k] = np.where(spike, held + added, np.maximum(held, constant))
        held = np.where(spike, held * np.exp(-xk) + added, constant)
    return out
