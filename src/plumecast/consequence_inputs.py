"""What :func:`plumecast.consequence.assess` is given, checked and put in SI.

The concentration series (units to kg m-3, NaN kept as "unknown", negatives
clipped), its time axis (interval starts and ends in seconds since the release
start), the population and receptor coordinates, and the shelter timing
(fraction of each interval spent indoors, air changes per interval). Every
refusal is one :class:`plumecast.errors.DataFileError` that names the argument
and what was expected.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.errors import DataFileError
from plumecast.shelter import Shelter
from plumecast.units import ppm_to_kg_m3

#: Concentration ``units`` attributes understood, folded to lower case with single spaces.
UNITS = {
    "kg m-3": "kg/m3",
    "kg/m3": "kg/m3",
    "kg m^-3": "kg/m3",
    "kg m**-3": "kg/m3",
    "kg/m^3": "kg/m3",
    "mg m-3": "mg/m3",
    "mg/m3": "mg/m3",
    "mg m^-3": "mg/m3",
    "mg m**-3": "mg/m3",
    "mg/m^3": "mg/m3",
    "ppm": "ppm",
    "ppmv": "ppm",
}


def concentration_kg_m3(
    concentration: xr.DataArray, mw: float, temperature_k: float, pressure_pa: float
) -> tuple[NDArray[np.float64], list[str]]:
    """The (time, receptor) values in kg m-3 and the notes for the result's warnings.

    NaN (an unknown receptor) is kept; infinities are refused; negative values are
    set to 0 with a note. ppm are converted at ``temperature_k`` [K] and
    ``pressure_pa`` [Pa] for the molecular weight ``mw``. [g mol-1]
    """
    if not isinstance(concentration, xr.DataArray):
        raise DataFileError(
            f"concentration: expected an xarray.DataArray with dims (time, receptor), got {type(concentration).__name__}"
        )
    if "time" not in concentration.dims:
        raise DataFileError(
            f"concentration: has dims {concentration.dims}; expected (time, receptor)"
        )
    da = concentration
    if da.ndim == 1:
        da = da.expand_dims("receptor", axis=1)
    if set(da.dims) != {"time", "receptor"}:
        raise DataFileError(
            f"concentration: has dims {concentration.dims}; expected (time, receptor) "
            "(use assess_grid for (time, lat, lon) fields)"
        )
    raw_units = da.attrs.get("units")
    if raw_units is None:
        raise DataFileError(
            "concentration: no 'units' attribute; set it to one of 'kg m-3', 'mg m-3' or 'ppm'"
        )
    unit = UNITS.get(" ".join(str(raw_units).strip().split()).lower())
    if unit is None:
        raise DataFileError(
            f"concentration: units {raw_units!r} not understood; expected one of {sorted(set(UNITS))}"
        )
    values = np.asarray(da.transpose("time", "receptor").values, dtype=float)
    notes: list[str] = []
    if unit == "mg/m3":
        values = values * 1e-6
    elif unit == "ppm":
        values = ppm_to_kg_m3(values, mw, temperature_k, pressure_pa)
    bad = ~np.isfinite(values)
    if bad.any():
        if np.isinf(values).any():
            cols = np.flatnonzero(np.isinf(values).any(axis=0))
            raise DataFileError(
                f"concentration: infinite values at {cols.size} receptor(s) (first receptor index "
                f"{int(cols[0])}); expected finite concentrations (NaN marks an unknown receptor)"
            )
        cols = np.flatnonzero(bad.any(axis=0))
        notes.append(
            f"concentration unknown (NaN: off the model domain or missing) at {cols.size} receptor(s): "
            "their figures are unknown (NaN), not zero, and are left out of the totals"
        )
    vmin = float(np.nanmin(values)) if values.size and np.isfinite(values).any() else 0.0
    if vmin < 0:
        notes.append(f"concentration had negative values (min {vmin:.3g} kg m-3); set to 0")
        values = np.maximum(values, 0.0)
    return values, notes


@dataclass(frozen=True)
class TimeAxis:
    """The intervals the values are means over, in seconds since the release start."""

    stamps: NDArray[Any]  # the time coordinate as given (datetime64[ns] or float s)
    is_datetime: bool
    release_start: Any  # numpy.datetime64 or float seconds
    begin_s: NDArray[np.float64]  # interval starts, seconds since release start
    end_s: NDArray[np.float64]  # interval ends (= timestamps), seconds since release start

    @property
    def dt_s(self) -> NDArray[np.float64]:
        return self.end_s - self.begin_s


def time_axis(time: xr.DataArray | NDArray[Any], start: Any) -> TimeAxis:
    """The interval axis of ``time`` (datetime64, timedelta64 or seconds); ``start``
    is the release start (default: one time step before the first stamp)."""
    t = np.asarray(time)
    if t.size == 0:
        raise DataFileError("concentration: empty time axis")
    is_dt = np.issubdtype(t.dtype, np.datetime64)
    if is_dt:
        t = t.astype("datetime64[ns]")
        if start is None:
            if t.size < 2:
                raise DataFileError(
                    "concentration: one time step only; pass start= (the release start)"
                )
            t0 = t[0] - (t[1] - t[0])
        else:
            t0 = as_datetime64(start)
        end_s = (t - t0) / np.timedelta64(1, "s")
    else:
        if np.issubdtype(t.dtype, np.timedelta64):
            t = t / np.timedelta64(1, "s")
        t = t.astype(float)
        if start is None:
            if t.size < 2:
                raise DataFileError(
                    "concentration: one time step only; pass start= (the release start)"
                )
            t0 = float(t[0] - (t[1] - t[0]))
        else:
            t0 = float(start)
        end_s = t - t0
    end_s = np.asarray(end_s, dtype=float)
    if end_s[0] <= 0 or np.any(np.diff(end_s) <= 0):
        raise DataFileError(
            "concentration: time must be strictly increasing and after start "
            f"(start={t0}, first stamp={t[0]})"
        )
    begin_s = np.concatenate([[0.0], end_s[:-1]])
    return TimeAxis(stamps=t, is_datetime=is_dt, release_start=t0, begin_s=begin_s, end_s=end_s)


def as_datetime64(value: Any) -> np.datetime64:
    """``value`` as datetime64[ns]; an aware datetime is taken to UTC first."""
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return np.datetime64(value, "ns")


def shelter_weights(axis: TimeAxis, shelter: Shelter) -> NDArray[np.float64]:
    """Fraction of each interval spent indoors (after ``shelter.start``). [-]"""
    if shelter.start is None:
        return np.ones_like(axis.end_s)
    if isinstance(shelter.start, _dt.datetime):
        if not axis.is_datetime:
            raise DataFileError(
                "shelter.start is a date-time but the concentration time axis is in seconds"
            )
        start_s = float(
            (as_datetime64(shelter.start) - axis.release_start) / np.timedelta64(1, "s")
        )
    else:
        start_s = float(shelter.start)
    return np.asarray(np.clip((axis.end_s - start_s) / axis.dt_s, 0.0, 1.0), dtype=float)



def issued_seconds(axis: TimeAxis, issued_at: Any) -> float:
    """When the forecast is issued, in seconds since the release start (0: at the start)."""
    if issued_at is None:
        return 0.0
    if isinstance(issued_at, int | float | np.floating | np.integer):
        return float(issued_at)
    if not axis.is_datetime:
        raise DataFileError("issued_at is a date-time but the concentration time axis is in seconds")
    return float((as_datetime64(issued_at) - axis.release_start) / np.timedelta64(1, "s"))


def shelter_rates(axis: TimeAxis, shelter: Shelter, nrec: int) -> Any:
    """Air changes per hour of the sheltering buildings per interval (and receptor):
    the tight-building rate until ``shelter.end`` (each receptor's own where it has one,
    :meth:`plumecast.shelter.Shelter.own_rates`), the ventilation rate after it."""
    own = shelter.own_rates(nrec)
    tight: Any = shelter.air_changes_per_hour if own is None else np.broadcast_to(own, (axis.end_s.size, nrec))
    if shelter.end is None:
        return tight
    if isinstance(shelter.end, _dt.datetime):
        if not axis.is_datetime:
            raise DataFileError("shelter.end is a date-time but the concentration time axis is in seconds")
        end = np.full(nrec, float((as_datetime64(shelter.end) - axis.release_start) / np.timedelta64(1, "s")))
    else:
        end = np.broadcast_to(np.asarray(shelter.end, dtype=float), (nrec,))
    mid = 0.5 * (axis.begin_s + axis.end_s)
    return np.where(mid[:, None] < end[None, :], tight, shelter.ventilation_air_changes_per_hour)



def receptor_population(
    concentration: xr.DataArray, population: Any, nrec: int
) -> tuple[NDArray[np.float64], dict[str, NDArray[Any]], list[str]]:
    """People at each receptor [persons] (NaN where unknown), the receptor coordinates
    (name, country, lat, lon) from ``concentration`` or a receptor table, and notes."""
    coords: dict[str, NDArray[Any]] = {}
    notes: list[str] = []
    for name in ("name", "country", "lat", "lon"):
        if name in concentration.coords and concentration[name].dims == ("receptor",):
            coords[name] = concentration[name].values
    pop: NDArray[np.float64] | None = None
    if population is not None and hasattr(population, "lat") and hasattr(population, "lon"):
        for name in ("name", "country", "lat", "lon"):
            if name not in coords and getattr(population, name, None) is not None:
                coords[name] = np.asarray(getattr(population, name))
        population = getattr(population, "population", None)
    if population is None and "population" in concentration.coords:
        population = concentration["population"].values
    if population is None:
        notes.append("no population given: fatalities not computed (NaN, not zero)")
        pop = np.full(nrec, np.nan)
    else:
        pop = np.asarray(population, dtype=float).reshape(-1)
        if pop.shape != (nrec,):
            raise DataFileError(f"population: {pop.size} values for {nrec} receptors")
        if np.any(pop < 0):
            raise DataFileError("population: negative values")
        if np.isnan(pop).any():
            notes.append(
                f"population unknown at {int(np.isnan(pop).sum())} receptor(s): their fatalities unknown, left "
                "out of the totals"
            )
    for name, arr in coords.items():
        if arr.shape != (nrec,):
            raise DataFileError(f"receptors: {name} has {arr.size} values for {nrec} receptors")
    return pop, coords, notes
