"""Read meteorological files into plumecast's normalised wind dataset.

Every met source in plumecast produces one :class:`xarray.Dataset` of the same
shape (see ``docs/architecture.md``):

* dims ``(time, lat, lon)``; ``lat`` ascending; ``lon`` ascending in [-180, 180);
  ``time`` datetime64[ns];
* ``u``, ``v`` float32 eastward / northward wind [m s-1] with CF attributes;
* attrs ``source`` (file or description), ``level`` (text such as ``"850 hPa"`` or
  ``"10 m"``), ``global_lon`` (1 if the longitudes cover the whole circle, else 0),
  ``steady`` (1 if the field has one time record that applies to all times) and
  ``history`` (what the reader changed to get there).

:func:`open_wind` reads CF-convention netCDF written by the usual producers:

* ERA5 / ERA-Interim: ``u``/``v`` (or ``u10``/``v10``) on ``latitude``/``longitude``,
  ``time`` or ``valid_time``, optional ``level``/``pressure_level`` [hPa];
* GFS (NOMADS, wgrib2 netCDF): ``UGRD``/``VGRD``, ``ugrd10m``/``vgrd10m``,
  ``UGRD_850mb`` ... on ``lat``/``lon`` with lon 0..360;
* WRF post-processed onto a regular grid: ``U``/``V`` or ``U10``/``V10`` with
  ``XLAT``/``XLONG`` given 1-D or as regular 2-D arrays.

The wind variables are found by their CF ``standard_name`` first
(``eastward_wind``/``northward_wind``), then by the known names above (the same
order of preference as OpenDrift's CF-keyed environment variables).

GRIB files (``.grib``, ``.grib2``, ``.grb``, ``.grb2``) are read through ``cfgrib``
when it is installed (``pip install "plumecast[grib]"``); without it a
:class:`~plumecast.errors.MetDataError` says so. There is no silent fallback.

Many files: the path may be one file, a list of files, a glob pattern
(``era5/*.nc``) or a folder (every netCDF/GRIB file in it). The files are opened
lazily (xarray + dask) and joined along time (:func:`open_met_dataset`); a gap,
an overlap, a file on another grid or a file without winds is an error naming the
file. Only the records of the run's time window (and the two that bracket it) are
read from disk. A member dimension (``number`` in ERA5/ENS/GEFS files) is kept
in the joined dataset; :func:`open_wind` takes one member with ``member=``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from plumecast.errors import MetDataError

__all__ = [
    "GRIB_SUFFIXES",
    "MEMBER_DIMS",
    "MET_SUFFIXES",
    "met_members",
    "met_paths",
    "open_met_dataset",
    "STEADY_TIME",
    "build_wind_dataset",
    "inside_wind_domain",
    "check_wind_dataset",
    "normalise_wind",
    "open_wind",
    "wind_file_domain",
]

log = logging.getLogger(__name__)

#: Largest wind speed accepted in a met file [m s-1]: above any observed on Earth
#: (113 m s-1 surface gust, Barrow Island 1996; jet cores about 110 m s-1; WMO
#: Archive of Weather and Climate Extremes). Larger values are fill values or errors.
MAX_WIND_M_S = 200.0

#: Time stamp given to a steady field that comes without one (the time of a
#: ``steady=1`` dataset has no meaning: the single record applies to all times).
STEADY_TIME = np.datetime64("1970-01-01T00:00:00", "ns")

#: File name endings read with the cfgrib engine.
GRIB_SUFFIXES = (".grib", ".grib2", ".grb", ".grb2")

#: File name endings taken from a met folder (netCDF and GRIB).
MET_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf") + GRIB_SUFFIXES

#: Names of an ensemble-member dimension (ERA5/ENS/GEFS via cfgrib: ``number``).
MEMBER_DIMS = ("number", "member", "realization", "ensemble", "ens")

_U_NAMES = ("u", "ugrd", "ua", "uwnd", "u_component_of_wind", "u10", "u10m", "ugrd10m", "10u")
_V_NAMES = ("v", "vgrd", "va", "vwnd", "v_component_of_wind", "v10", "v10m", "vgrd10m", "10v")
# GFS via wgrib2 / NCL: UGRD_850mb, UGRD_P0_L100_GLL0, UGRD_10maboveground, ugrdprs ...
_U_PATTERN = re.compile(r"^ugrd", re.IGNORECASE)
_V_PATTERN = re.compile(r"^vgrd", re.IGNORECASE)
_MB_IN_NAME = re.compile(r"_(\d+(?:\.\d+)?)mb$", re.IGNORECASE)
_TEN_METRE = re.compile(r"(^u10|^v10|10m|^10[uv]$|10maboveground)", re.IGNORECASE)

_LAT_NAMES = ("lat", "latitude", "xlat", "xlat_m", "nav_lat", "y")
_LON_NAMES = ("lon", "longitude", "xlong", "xlong_m", "nav_lon", "x")
_TIME_NAMES = ("time", "valid_time", "times", "xtime", "t")
_LEVEL_NAMES = ("level", "pressure_level", "isobaricinhpa", "plev", "lev", "pressure", "lv_isbl0")
_HEIGHT_NAMES = ("height", "heightaboveground", "height_above_ground")

_MS_UNITS = {
    "m s-1",
    "m/s",
    "m s**-1",
    "m s^-1",
    "ms-1",
    "m.s-1",
    "m s-1.",
    "meters/second",
    "metres/second",
    "meter/second",
    "metre/second",
    "meters per second",
    "m sec-1",
}
_KNOT_UNITS = {"knots", "knot", "kt", "kts"}
_KNOT_M_S = 0.514444  # 1 international knot [m s-1] (1852 m / 3600 s)

_PA_UNITS = {"pa", "pascal", "pascals"}
_HPA_UNITS = {"hpa", "mb", "mbar", "millibar", "millibars", "hectopascal", "hectopascals"}


def _err(path: str, message: str) -> MetDataError:
    return MetDataError(f"{path}: {message}")


# ---------------------------------------------------------------------------
# building and checking the normalised form
# ---------------------------------------------------------------------------


def _global_lon(lon: np.ndarray) -> bool:
    """True if ascending longitudes [deg] cover the whole circle.

    The wrap-around gap (from the last longitude back to the first plus 360) must
    be no larger than 1.5 times the median spacing.
    """
    if lon.size < 3:
        return False
    gaps = np.diff(lon)
    wrap = lon[0] + 360.0 - lon[-1]
    return bool(wrap <= 1.5 * float(np.median(gaps)) + 1e-9)


def build_wind_dataset(
    u: ArrayLike,
    v: ArrayLike,
    time: ArrayLike,
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    source: str,
    level: str,
    steady: bool,
    history: str = "",
) -> xr.Dataset:
    """Assemble the normalised wind dataset from plain arrays.

    Parameters
    ----------
    u, v : array_like, shape (time, lat, lon)
        Eastward and northward wind. [m s-1]
    time : array_like of datetime64
        Time of each record.
    lat : array_like
        Latitudes, ascending. [deg N]
    lon : array_like
        Longitudes, ascending in [-180, 180). [deg E]
    source : str
        File name or description of where the winds came from.
    level : str
        Vertical level as text, e.g. ``"850 hPa"`` or ``"10 m"``.
    steady : bool
        True if the single record applies to all times.
    history : str, optional
        What was changed to reach the normalised form.

    Returns
    -------
    xarray.Dataset
        The normalised wind dataset (see the module docstring).
    """
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    time_a = np.asarray(time).astype("datetime64[ns]")
    u_a = np.asarray(u, dtype=np.float32)
    v_a = np.asarray(v, dtype=np.float32)
    ds = xr.Dataset(
        {
            "u": (("time", "lat", "lon"), u_a),
            "v": (("time", "lat", "lon"), v_a),
        },
        coords={"time": time_a, "lat": lat_a, "lon": lon_a},
    )
    ds["u"].attrs = {
        "standard_name": "eastward_wind",
        "long_name": "eastward wind",
        "units": "m s-1",
    }
    ds["v"].attrs = {
        "standard_name": "northward_wind",
        "long_name": "northward wind",
        "units": "m s-1",
    }
    ds["lat"].attrs = {
        "standard_name": "latitude",
        "long_name": "latitude",
        "units": "degrees_north",
    }
    ds["lon"].attrs = {
        "standard_name": "longitude",
        "long_name": "longitude",
        "units": "degrees_east",
    }
    ds["time"].attrs = {"standard_name": "time", "long_name": "time"}
    ds.attrs = {
        "source": str(source),
        "level": str(level),
        "global_lon": int(_global_lon(lon_a)),
        "steady": int(bool(steady)),
        "history": history,
    }
    return ds


def check_wind_dataset(ds: xr.Dataset, name: str = "wind dataset") -> None:
    """Raise :class:`MetDataError` unless ``ds`` has the normalised wind form.

    Parameters
    ----------
    ds : xarray.Dataset
        Dataset to check.
    name : str, optional
        How to call the dataset in the error message.
    """
    for var in ("u", "v"):
        if var not in ds:
            raise _err(name, f"no variable {var!r}; expected 'u' and 'v' [m s-1]")
        if ds[var].dims != ("time", "lat", "lon"):
            raise _err(name, f"{var!r} has dims {ds[var].dims}; expected ('time', 'lat', 'lon')")
        if ds[var].dtype != np.float32:
            raise _err(name, f"{var!r} has dtype {ds[var].dtype}; expected float32")
        if ds[var].attrs.get("units") != "m s-1":
            raise _err(name, f"{var!r} units {ds[var].attrs.get('units')!r}; expected 'm s-1'")
    lat = ds["lat"].values
    lon = ds["lon"].values
    if lat.size > 1 and not np.all(np.diff(lat) > 0):
        raise _err(name, "lat is not strictly ascending")
    if lon.size > 1 and not np.all(np.diff(lon) > 0):
        raise _err(name, "lon is not strictly ascending")
    if lon.size and (lon.min() < -180.0 or lon.max() >= 180.0):
        raise _err(name, f"lon spans {lon.min()}..{lon.max()}; expected [-180, 180)")
    if not np.issubdtype(ds["time"].dtype, np.datetime64):
        raise _err(name, f"time has dtype {ds['time'].dtype}; expected datetime64[ns]")
    for key in ("source", "level", "global_lon", "steady"):
        if key not in ds.attrs:
            raise _err(name, f"missing attribute {key!r}")


# ---------------------------------------------------------------------------
# finding variables and coordinates
# ---------------------------------------------------------------------------


def _lower(name: Hashable) -> str:
    return str(name).lower()


def _find_wind_vars(ds: xr.Dataset, path: str) -> tuple[str, str]:
    data_vars = [str(n) for n in ds.data_vars]

    def by_standard_name(std: str) -> list[str]:
        return [n for n in data_vars if ds[n].attrs.get("standard_name") == std]

    u_std, v_std = by_standard_name("eastward_wind"), by_standard_name("northward_wind")
    if u_std and v_std:
        return _prefer(u_std, _U_NAMES), _prefer(v_std, _V_NAMES)

    def by_name(names: Sequence[str], pattern: re.Pattern[str]) -> list[str]:
        exact = [n for key in names for n in data_vars if n.lower() == key]
        return exact or [n for n in data_vars if pattern.match(n)]

    u_names, v_names = by_name(_U_NAMES, _U_PATTERN), by_name(_V_NAMES, _V_PATTERN)
    if u_names and v_names:
        return u_names[0], v_names[0]
    raise _err(
        path,
        "no recognisable wind components; expected variables with standard_name "
        "'eastward_wind'/'northward_wind' or named u/v, u10/v10, UGRD/VGRD, ugrd10m/vgrd10m, "
        f"U/V, U10/V10; found variables {data_vars}",
    )


def _prefer(candidates: list[str], order: Sequence[str]) -> str:
    for key in order:
        for c in candidates:
            if c.lower() == key:
                return c
    return candidates[0]


def _find_coord(
    ds: xr.Dataset, names: Sequence[str], standard_name: str, units: Sequence[str]
) -> str | None:
    variables = [str(n) for n in ds.variables]
    for n in variables:
        if ds[n].attrs.get("standard_name") == standard_name:
            return n
    for key in names:
        for n in variables:
            if n.lower() == key:
                return n
    for n in variables:
        if str(ds[n].attrs.get("units", "")).lower() in units:
            return n
    return None


def _horizontal_axes(
    ds: xr.Dataset, da: xr.DataArray, path: str
) -> tuple[str, np.ndarray, str, np.ndarray]:
    """Return (lat_dim, lat_values, lon_dim, lon_values) for ``da``."""
    lat_name = _find_coord(
        ds, _LAT_NAMES, "latitude", ("degrees_north", "degree_north", "degrees_n")
    )
    lon_name = _find_coord(
        ds, _LON_NAMES, "longitude", ("degrees_east", "degree_east", "degrees_e")
    )
    if lat_name is None or lon_name is None:
        raise _err(
            path,
            "cannot find latitude/longitude; expected coordinates named lat/latitude/XLAT and "
            f"lon/longitude/XLONG; found {[str(n) for n in ds.variables]}",
        )
    lat_da, lon_da = ds[lat_name], ds[lon_name]
    # WRF: XLAT(Time, south_north, west_east) -> the first time's grid
    while lat_da.ndim > 2:
        lat_da = lat_da.isel({lat_da.dims[0]: 0})
    while lon_da.ndim > 2:
        lon_da = lon_da.isel({lon_da.dims[0]: 0})
    if lat_da.ndim == 1 and lon_da.ndim == 1:
        return (
            str(lat_da.dims[0]),
            lat_da.values.astype(float),
            str(lon_da.dims[0]),
            lon_da.values.astype(float),
        )
    if lat_da.ndim == 2 and lon_da.ndim == 2 and lat_da.dims == lon_da.dims:
        ydim, xdim = (str(d) for d in lat_da.dims)
        lat2 = lat_da.values.astype(float)
        lon2 = lon_da.values.astype(float)
        lat1, lon1 = lat2[:, 0], lon2[0, :]
        if not (
            np.allclose(lat2, lat1[:, None], atol=1e-4)
            and np.allclose(lon2, lon1[None, :], atol=1e-4)
        ):
            raise _err(
                path,
                f"{lat_name}/{lon_name} are 2-D and not a regular lon/lat grid (a projected "
                "WRF grid?); expected latitude constant along each row and longitude constant "
                "along each column — regrid to lon/lat first",
            )
        return ydim, lat1, xdim, lon1
    raise _err(
        path,
        f"latitude {lat_name!r} has dims {lat_da.dims} and longitude {lon_name!r} has dims "
        f"{lon_da.dims}; expected 1-D coordinates or 2-D arrays on the same dims",
    )


def _destagger(da: xr.DataArray) -> xr.DataArray:
    """Average WRF staggered dims (``*_stag``) onto the mass points."""
    for d in list(da.dims):
        if str(d).endswith("_stag"):
            n = da.sizes[d]
            a = da.isel({d: slice(0, n - 1)})
            b = da.isel({d: slice(1, n)})
            b = b.assign_coords({d: a[d]}) if d in a.coords else b
            da = (0.5 * (a + b)).rename({d: str(d)[: -len("_stag")]})
    return da


def _level_hpa_values(coord: xr.DataArray) -> np.ndarray:
    units = str(coord.attrs.get("units", "hPa")).strip().lower()
    values = np.asarray(coord.values, dtype=float)
    if units in _PA_UNITS:
        return values / 100.0
    return values


def _wind_units_factor(da: xr.DataArray, path: str) -> float:
    units = da.attrs.get("units")
    if units is None:
        return 1.0  # CF files from the producers above always carry units; assume SI
    key = str(units).strip().lower()
    if key in _MS_UNITS:
        return 1.0
    if key in _KNOT_UNITS:
        return _KNOT_M_S
    raise _err(path, f"variable {da.name!r} has units {units!r}; expected 'm s-1' (or knots)")


def _describe_nans(
    mask: np.ndarray, time: np.ndarray, lat: np.ndarray, lon: np.ndarray, var: str
) -> str:
    idx = np.argwhere(mask)
    n = len(idx)
    shown = ", ".join(
        f"(time={np.datetime_as_string(time[i], unit='s')}, lat={lat[j]:g}, lon={lon[k]:g})"
        for i, j, k in idx[:3]
    )
    lat_hit, lon_hit = lat[idx[:, 1]], lon[idx[:, 2]]
    return (
        f"{n} NaN value(s) of {var!r} inside the domain (of {mask.size}), in lat "
        f"{lat_hit.min():g}..{lat_hit.max():g}, lon {lon_hit.min():g}..{lon_hit.max():g}; "
        f"first at {shown}; expected complete winds (fill or crop the gaps)"
    )


# ---------------------------------------------------------------------------
# the normaliser
# ---------------------------------------------------------------------------


def normalise_wind(
    ds: xr.Dataset,
    *,
    source: str,
    level_hpa: float | None = None,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
) -> xr.Dataset:
    """Turn an in-memory CF dataset of winds into the normalised wind dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Decoded dataset as opened by xarray (not modified).
    source : str
        Name of the file or description, used in messages and the ``source`` attr.
    level_hpa : float, optional
        Pressure level to take. [hPa] If not given and the winds are on several
        pressure levels, the level with the highest pressure (the one closest to the
        ground) is taken. An error lists the available levels if ``level_hpa`` is
        not among them.
    time_window : (datetime64, datetime64), optional
        Period the winds must cover. For a file with several time records, an error
        is raised if its times do not cover the window, and only the records that
        bracket the window are kept. A steady field (one record) applies to all
        times and is not checked.

    Returns
    -------
    xarray.Dataset
        Normalised wind dataset (see the module docstring).

    Raises
    ------
    MetDataError
        No recognisable winds, level not present, NaNs, time window not covered.
    """
    path = source
    history: list[str] = []
    u_name, v_name = _find_wind_vars(ds, path)
    u = _destagger(ds[u_name])
    v = _destagger(ds[v_name])
    if u.dims != v.dims:
        raise _err(
            path,
            f"{u_name!r} has dims {u.dims} but {v_name!r} has dims {v.dims}; expected the same grid",
        )
    history.append(f"winds from {u_name!r}/{v_name!r}")

    lat_dim, lat, lon_dim, lon = _horizontal_axes(ds, u, path)
    if lat_dim not in u.dims or lon_dim not in u.dims:
        raise _err(
            path,
            f"{u_name!r} has dims {u.dims}; expected it on the latitude/longitude dims ({lat_dim}, {lon_dim})",
        )

    # --- vertical level -----------------------------------------------------
    level_text = "10 m" if _TEN_METRE.search(u_name) else "unspecified"
    mb = _MB_IN_NAME.search(u_name)
    if mb:
        level_text = f"{float(mb.group(1)):g} hPa"
    level_name = _find_coord(ds, _LEVEL_NAMES, "air_pressure", ())
    if level_name is not None and (level_name in u.dims or level_name in u.coords):
        levels = np.atleast_1d(_level_hpa_values(ds[level_name]))
        if level_hpa is None:
            pick = int(np.argmax(levels))
        else:
            matches = np.flatnonzero(np.isclose(levels, level_hpa, atol=1e-3))
            if matches.size == 0:
                raise _err(
                    path,
                    f"pressure level {level_hpa:g} hPa not in the file; available levels "
                    f"{sorted(levels.tolist())} hPa",
                )
            pick = int(matches[0])
        if level_name in u.dims:
            u = u.isel({level_name: pick})
            v = v.isel({level_name: pick})
        level_text = f"{levels[pick]:g} hPa"
        if levels.size > 1:
            history.append(f"took level {level_text} of {sorted(levels.tolist())} hPa")
    elif level_hpa is not None:
        raise _err(
            path,
            f"level_hpa={level_hpa:g} asked for but the winds {u_name!r} are not on pressure "
            f"levels (level {level_text}); leave level_hpa unset for this file",
        )
    else:
        h_name = _find_coord(ds, _HEIGHT_NAMES, "height", ())
        if h_name is not None and ds[h_name].size == 1 and level_text == "unspecified":
            level_text = f"{float(ds[h_name].values.ravel()[0]):g} m"

    # --- time ---------------------------------------------------------------
    time_name = _find_coord(ds, _TIME_NAMES, "time", ())
    time_dim: str | None = None
    if time_name is not None and ds[time_name].ndim == 1 and ds[time_name].dims[0] in u.dims:
        time_dim = str(ds[time_name].dims[0])
    else:
        # a WRF-style "Time" dim without a usable coordinate
        for d in u.dims:
            if _lower(d) in _TIME_NAMES:
                time_dim = str(d)
    if time_dim is not None:
        if time_name is not None and ds[time_name].dims == (time_dim,):
            times = np.asarray(ds[time_name].values)
        elif time_dim in ds.coords:
            times = np.asarray(ds[time_dim].values)
        else:
            times = np.full(u.sizes[time_dim], STEADY_TIME)
        if not np.issubdtype(times.dtype, np.datetime64):
            raise _err(
                path,
                f"time {time_name!r} could not be decoded to dates (units missing?); expected CF time units such as 'hours since 1970-01-01'",
            )
        times = times.astype("datetime64[ns]")
    elif (
        time_name is not None
        and ds[time_name].size == 1
        and np.issubdtype(ds[time_name].dtype, np.datetime64)
    ):
        times = np.asarray(ds[time_name].values).reshape(1).astype("datetime64[ns]")
    else:
        times = np.array([STEADY_TIME])

    # --- remaining dims: squeeze size-1, refuse others ----------------------
    keep = {lat_dim, lon_dim} | ({time_dim} if time_dim else set())
    for d in list(u.dims):
        if d in keep:
            continue
        if u.sizes[d] == 1:
            u = u.isel({d: 0})
            v = v.isel({d: 0})
        else:
            raise _err(
                path,
                f"{u_name!r} has an extra dimension {d!r} of size {u.sizes[d]}; expected only time, level, lat, lon",
            )
    order = ([time_dim] if time_dim else []) + [lat_dim, lon_dim]
    factor_u = _wind_units_factor(ds[u_name], path)
    factor_v = _wind_units_factor(ds[v_name], path)
    u_arr = np.asarray(u.transpose(*order).values, dtype=np.float64) * factor_u
    v_arr = np.asarray(v.transpose(*order).values, dtype=np.float64) * factor_v
    if factor_u != 1.0:
        history.append("converted knots to m s-1")
    if time_dim is None:
        u_arr, v_arr = u_arr[None], v_arr[None]

    # --- time order, window -------------------------------------------------
    if times.size > 1:
        if np.unique(times).size != times.size:
            raise _err(path, "repeated time stamps; expected each time once")
        t_order = np.argsort(times)
        times, u_arr, v_arr = times[t_order], u_arr[t_order], v_arr[t_order]
    steady = times.size == 1
    if time_window is not None and not steady:
        start = np.asarray(time_window[0]).astype("datetime64[ns]")
        end = np.asarray(time_window[1]).astype("datetime64[ns]")
        if end < start:
            raise _err(path, f"time window ends ({end}) before it starts ({start})")
        if start < times[0] or end > times[-1]:
            raise _err(
                path,
                f"times {times[0]} .. {times[-1]} do not cover the requested window "
                f"{start} .. {end}; expected a file that spans the whole run",
            )
        i0 = int(np.searchsorted(times, start, side="right")) - 1
        i1 = int(np.searchsorted(times, end, side="left"))
        times, u_arr, v_arr = times[i0 : i1 + 1], u_arr[i0 : i1 + 1], v_arr[i0 : i1 + 1]

    # --- horizontal order ---------------------------------------------------
    if np.any(np.abs(lat) > 90.0 + 1e-6):
        raise _err(path, f"latitudes {lat.min():g}..{lat.max():g} outside -90..90 deg")
    if lat.size > 1 and lat[0] > lat[-1]:
        history.append("flipped latitude to ascending")
    lat_order = np.argsort(lat, kind="stable")
    lat = lat[lat_order]
    if lon.size and (lon.max() >= 180.0 or lon.min() < -180.0):
        history.append(f"wrapped longitudes {lon.min():g}..{lon.max():g} to [-180, 180)")
    lon_wrapped = (lon + 180.0) % 360.0 - 180.0
    lon_order = np.argsort(lon_wrapped, kind="stable")
    lon_sorted = lon_wrapped[lon_order]
    unique = (
        np.concatenate([[True], np.diff(lon_sorted) > 1e-9])
        if lon_sorted.size
        else np.array([], bool)
    )
    if not unique.all():
        history.append("dropped repeated longitude column(s)")
    lon_order, lon_sorted = lon_order[unique], lon_sorted[unique]
    if np.unique(lat).size != lat.size:
        raise _err(path, "repeated latitudes; expected each latitude once")
    u_arr = u_arr[:, lat_order][:, :, lon_order]
    v_arr = v_arr[:, lat_order][:, :, lon_order]

    # --- completeness and plausibility --------------------------------------
    for name, arr in ((u_name, u_arr), (v_name, v_arr)):
        mask = ~np.isfinite(arr)
        if mask.any():
            raise _err(path, _describe_nans(mask, times, lat, lon_sorted, name))
    speed = np.hypot(u_arr, v_arr)
    if speed.size and float(speed.max()) > MAX_WIND_M_S:
        i, j, k = np.unravel_index(int(np.argmax(speed)), speed.shape)
        n_bad = int(np.count_nonzero(speed > MAX_WIND_M_S))
        raise _err(
            path,
            f"wind speed from {u_name!r}/{v_name!r} reaches {float(speed[i, j, k]):.3g} m s-1 at "
            f"(time={np.datetime_as_string(times[i], unit='s')}, lat={lat[j]:g}, lon={lon_sorted[k]:g}) and exceeds "
            f"{MAX_WIND_M_S:g} m s-1 at {n_bad:,} point(s); expected winds below {MAX_WIND_M_S:g} m s-1 "
            "(an undeclared fill value such as 1e30? set _FillValue or missing_value on the variable)",
        )

    out = build_wind_dataset(
        u_arr,
        v_arr,
        times,
        lat,
        lon_sorted,
        source=source,
        level=level_text,
        steady=steady,
        history="; ".join(history),
    )
    log.info("%s: normalised winds (%s)", source, out.attrs["history"])
    return out


def _open_dataset(path: Path) -> xr.Dataset:
    kwargs: dict[str, Any] = {}
    if path.suffix.lower() in GRIB_SUFFIXES:
        try:
            import cfgrib  # noqa: F401
        except ImportError as exc:
            raise _err(
                str(path),
                'GRIB files need the optional cfgrib reader: pip install "plumecast[grib]" '
                "(or convert the file to netCDF)",
            ) from exc
        kwargs["engine"] = "cfgrib"
    try:
        with xr.open_dataset(path, **kwargs) as ds:
            return ds.load()
    except MetDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise _err(
            str(path),
            f"cannot read as netCDF/GRIB ({type(exc).__name__}: {exc}); expected a CF netCDF file",
        ) from exc


def wind_file_domain(path: str | Path, *, level_hpa: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The grid of a wind file, read without loading the winds.

    Parameters
    ----------
    path : str or Path
        netCDF (or GRIB with cfgrib) wind file, as for :func:`open_wind`.
    level_hpa : float, optional
        Unused for the grid; accepted for symmetry with :func:`open_wind`.

    Returns
    -------
    lat, lon : numpy.ndarray
        Latitudes ascending [deg N]; longitudes wrapped to [-180, 180), sorted and
        without repeats [deg E] (as in the normalised dataset).

    Raises
    ------
    MetDataError
        File missing or unreadable, no recognisable winds or coordinates.
    """
    del level_hpa
    p = Path(path)
    if not p.is_file():
        raise _err(str(p), "file not found; expected a netCDF or GRIB wind file")
    if p.suffix.lower() in GRIB_SUFFIXES:
        return _grid_of(_open_dataset(p), str(p))
    try:
        ds = xr.open_dataset(p)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise _err(
            str(p), f"cannot read as netCDF/GRIB ({type(exc).__name__}: {exc}); expected a CF netCDF file"
        ) from exc
    with ds:
        return _grid_of(ds, str(p))


def _grid_of(ds: xr.Dataset, path: str) -> tuple[np.ndarray, np.ndarray]:
    u_name, _ = _find_wind_vars(ds, path)
    _, lat, _, lon = _horizontal_axes(ds, _destagger(ds[u_name]), path)
    lon_w = np.unique((np.asarray(lon, float) + 180.0) % 360.0 - 180.0)
    return np.sort(np.asarray(lat, float)), lon_w


def inside_wind_domain(lat: np.ndarray, lon: np.ndarray, at_lat: float, at_lon: float) -> bool:
    """True if (``at_lat``, ``at_lon``) [deg] lies within a wind grid.

    ``lat`` ascending, ``lon`` sorted in [-180, 180) (see :func:`wind_file_domain`).
    A point is inside if it is within the latitude range and between two longitude
    nodes no further apart than 1.5 times the median spacing (so the gap of a
    regional grid, including the wrap-around of a non-global one, is outside).
    """
    if lat.size == 0 or lon.size == 0 or not (lat[0] - 1e-9 <= at_lat <= lat[-1] + 1e-9):
        return False
    x = (float(at_lon) + 180.0) % 360.0 - 180.0
    if lon.size == 1:
        return bool(abs(x - lon[0]) < 1e-9)
    gaps = np.diff(lon)
    limit = 1.5 * float(np.median(gaps)) + 1e-9
    i = int(np.searchsorted(lon, x))
    if i < lon.size and abs(lon[i] - x) < 1e-9:
        return True
    if 0 < i < lon.size:
        return bool(lon[i] - lon[i - 1] <= limit)
    return bool(lon[0] + 360.0 - lon[-1] <= limit)  # across the wrap: only a global grid


def open_wind(
    path: str | Path,
    *,
    level_hpa: float | None = None,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
) -> xr.Dataset:
    """Read a CF netCDF (or GRIB) wind file into the normalised wind dataset.

    Parameters
    ----------
    path : str or Path
        netCDF file (ERA5, GFS, WRF-post naming), or GRIB with cfgrib installed.
    level_hpa : float, optional
        Pressure level to read. [hPa] Default: the level with the highest pressure,
        i.e. the one closest to the ground. 10 m winds are used as they are.
    time_window : (datetime64, datetime64), optional
        Period the run needs; the file's times must cover it.

    Returns
    -------
    xarray.Dataset
        Normalised wind dataset: ``u``, ``v`` float32 [m s-1] on
        ``(time, lat, lon)``, lat ascending, lon in [-180, 180); several time records
        are kept (the transport interpolates linearly in time); a single record
        gives ``steady=1``.

    Notes
    -----
    A regional grid that crosses the antimeridian in 0..360 longitudes (say
    170..190 E) comes out sorted in [-180, 180), i.e. split into two blocks with a
    gap in the middle of the array; ``global_lon`` is 0 for it. A file whose
    winds have any other dimension of size > 1 (ensemble member, climatological
    month) is refused: select one first (see :func:`normalise_wind`).

    Raises
    ------
    MetDataError
        File missing or unreadable, GRIB without cfgrib, no recognisable winds,
        level not present, NaNs inside the domain, time window not covered.
    """
    p = Path(path)
    if not p.is_file():
        raise _err(str(p), "file not found; expected a netCDF or GRIB wind file")
    ds = _open_dataset(p)
    return normalise_wind(ds, source=str(p), level_hpa=level_hpa, time_window=time_window)
