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
from numpy.typing import ArrayLike, NDArray

from plumecast.errors import MetDataError

__all__ = [
    "GRIB_SUFFIXES",
    "MEMBER_DIMS",
    "MET_SUFFIXES",
    "met_members",
    "met_paths",
    "join_on_time",
    "open_met_dataset",
    "STEADY_TIME",
    "build_wind_dataset",
    "inside_wind_domain",
    "is_grib",
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


def is_grib(path: Path) -> bool:
    """True for a GRIB file: a GRIB name ending, or a file that starts with the
    GRIB indicator section ``GRIB`` (NCEP names such as ``gfs.t00z.pgrb2.0p25.f003``
    have no ending; WMO Manual on Codes, FM 92 GRIB, section 0)."""
    if path.suffix.lower() in GRIB_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"GRIB"
    except OSError:
        return False

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
    member: int | None = None,
) -> xr.Dataset:
    """Turn a CF dataset of winds (in memory or lazy) into the normalised wind dataset.

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
        times and is not checked. Only the kept records are read from a lazy dataset.
    member : int, optional
        Index of the ensemble member to take along the member dimension (one of
        :data:`MEMBER_DIMS`, e.g. ``number``). Required when the winds have more
        than one member.

    Returns
    -------
    xarray.Dataset
        Normalised wind dataset (see the module docstring).

    Raises
    ------
    MetDataError
        No recognisable winds, level not present, NaNs, time window not covered,
        member missing or not chosen.
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

    # --- ensemble member -----------------------------------------------------
    member_dim = next((str(d) for d in u.dims if _lower(d) in MEMBER_DIMS), None)
    if member is not None:
        if member_dim is None:
            raise _err(
                path,
                f"member {member} asked for but the winds {u_name!r} have no member dimension "
                f"(expected one of {MEMBER_DIMS}); their dims are {dict(u.sizes)}",
            )
        n_members = int(u.sizes[member_dim])
        if not 0 <= member < n_members:
            raise _err(
                path,
                f"member {member} asked for but the {member_dim!r} dimension has {n_members} members; "
                f"ask for at most {n_members} members (0..{n_members - 1})",
            )
        u = u.isel({member_dim: member})
        v = v.isel({member_dim: member})
        history.append(f"member {member} of {n_members} ({member_dim!r})")
    elif member_dim is not None and u.sizes[member_dim] > 1:
        raise _err(
            path,
            f"the winds have {u.sizes[member_dim]} ensemble members along {member_dim!r}; choose one "
            "(member=k, or ensemble.met_members: file to run every member)",
        )

    # --- time window: select before reading ---------------------------------
    if times.size > 1 and np.unique(times).size != times.size:
        raise _err(path, "repeated time stamps; expected each time once")
    steady = times.size == 1
    if time_window is not None and not steady:
        start = np.asarray(time_window[0]).astype("datetime64[ns]")
        end = np.asarray(time_window[1]).astype("datetime64[ns]")
        if end < start:
            raise _err(path, f"time window ends ({end}) before it starts ({start})")
        t_sorted = np.sort(times)
        if start < t_sorted[0] or end > t_sorted[-1]:
            raise _err(
                path,
                f"times {t_sorted[0]} .. {t_sorted[-1]} do not cover the requested window "
                f"{start} .. {end}; expected met data that span the whole run",
            )
        i0 = int(np.searchsorted(t_sorted, start, side="right")) - 1
        i1 = int(np.searchsorted(t_sorted, end, side="left"))
        keep_t = np.flatnonzero((times >= t_sorted[i0]) & (times <= t_sorted[i1]))
        if keep_t.size < times.size:
            assert time_dim is not None
            u = u.isel({time_dim: keep_t})
            v = v.isel({time_dim: keep_t})
            history.append(f"read {keep_t.size} of {times.size} time records (the run's window)")
            times = times[keep_t]

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
    # the only read from disk: the kept records, as float32 (the normalised dtype)
    try:
        u_arr = _as_float32(u.transpose(*order).values, factor_u)
        v_arr = _as_float32(v.transpose(*order).values, factor_v)
    except (TypeError, ValueError) as exc:  # packing attributes that cannot be applied (e.g. a text scale_factor)
        packing = {k: ds[n].encoding.get(k, ds[n].attrs.get(k)) for n in (u_name, v_name)
                   for k in ("scale_factor", "add_offset", "_FillValue", "missing_value")
                   if k in ds[n].encoding or k in ds[n].attrs}
        raise _err(path, f"the winds {u_name!r}/{v_name!r} cannot be decoded ({type(exc).__name__}: {exc}); "
                         f"expected numeric packing attributes (scale_factor, add_offset, _FillValue), got {packing}"
                   ) from None
    if factor_u != 1.0:
        history.append("converted knots to m s-1")
    if time_dim is None:
        u_arr, v_arr = u_arr[None], v_arr[None]

    # --- time order ---------------------------------------------------------
    if times.size > 1 and np.any(np.diff(times) <= np.timedelta64(0, "ns")):
        t_order = np.argsort(times)
        times, u_arr, v_arr = times[t_order], u_arr[t_order], v_arr[t_order]

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
    if not (np.array_equal(lat_order, np.arange(lat.size)) and np.array_equal(lon_order, np.arange(lon.size))):
        u_arr = u_arr[:, lat_order[:, None], lon_order[None, :]]
        v_arr = v_arr[:, lat_order[:, None], lon_order[None, :]]

    # --- completeness and plausibility --------------------------------------
    for name, arr in ((u_name, u_arr), (v_name, v_arr)):
        mask = ~np.isfinite(arr)
        if mask.any():
            where = path
            if "met_file" in ds.coords and "time" in ds.coords:  # a set of files: name the one
                t_bad = times[int(np.argwhere(mask)[0][0])]
                hit = np.flatnonzero(np.asarray(ds["time"].values).astype("datetime64[ns]") == t_bad)
                if hit.size:
                    where = f"{ds['met_file'].values[hit[0]]} (of {path})"
            raise _err(where, _describe_nans(mask, times, lat, lon_sorted, name))
    too_fast = [t for t in range(u_arr.shape[0]) if float(np.hypot(u_arr[t], v_arr[t]).max(initial=0.0)) > MAX_WIND_M_S]
    if too_fast:
        i = too_fast[0]
        speed = np.hypot(u_arr[i], v_arr[i])
        j, k = np.unravel_index(int(np.argmax(speed)), speed.shape)
        n_bad = sum(int(np.count_nonzero(np.hypot(u_arr[t], v_arr[t]) > MAX_WIND_M_S)) for t in too_fast)
        raise _err(
            path,
            f"wind speed from {u_name!r}/{v_name!r} reaches {float(speed[j, k]):.3g} m s-1 at "
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


def _as_float32(values: Any, factor: float) -> np.ndarray:
    """``values * factor`` as float32 (the product in float64 when ``factor != 1``)."""
    if factor == 1.0:
        return np.asarray(values, dtype=np.float32)
    return (np.asarray(values, dtype=np.float64) * factor).astype(np.float32)


MetPath = str | Path | Sequence[str | Path]
"""What ``met.path`` may be: a file, a folder, a glob pattern, or a list of them."""

_GLOB_CHARS = re.compile(r"[*?\[]")


def _describe_paths(paths: Sequence[Path]) -> str:
    if len(paths) == 1:
        return str(paths[0])
    return f"{len(paths)} met files {paths[0]} .. {paths[-1].name}"


def met_paths(path: MetPath) -> list[Path]:
    """The met files a ``met.path`` names, in sorted order.

    Parameters
    ----------
    path : str, Path or list of them
        A file; a folder (its netCDF and GRIB files, :data:`MET_SUFFIXES`); a glob
        pattern such as ``era5/*.nc``; or a list of any of these.

    Raises
    ------
    MetDataError
        Naming the entry that matches no file.
    """
    items = [path] if isinstance(path, (str, Path)) else list(path)
    if not items:
        raise MetDataError("met.path: empty list; expected a file, a folder, a glob pattern or a list of files")
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and (f.suffix.lower() in MET_SUFFIXES or is_grib(f)))
            if not found:
                raise _err(str(p), f"folder holds no met file; expected files ending in {', '.join(MET_SUFFIXES)}")
            out.extend(found)
        elif _GLOB_CHARS.search(str(item)):
            anchor = Path(p.anchor) if p.is_absolute() else Path(".")
            pattern = str(p.relative_to(p.anchor)) if p.is_absolute() else str(p)
            found = sorted(f for f in anchor.glob(pattern) if f.is_file())
            if not found:
                raise _err(str(p), "the pattern matches no file; expected netCDF or GRIB met files")
            out.extend(found)
        else:
            raise _err(str(p), "file not found; expected a netCDF or GRIB wind file, a folder or a glob pattern")
    unique: dict[Path, None] = dict.fromkeys(q.resolve() for q in out)
    return sorted(unique)


def _read_error(path: Path, exc: Exception) -> MetDataError:
    return _err(
        str(path), f"cannot read as netCDF/GRIB ({type(exc).__name__}: {exc}); expected a CF netCDF file"
    )


def _open_grib(path: Path, winds: bool) -> xr.Dataset:
    """A GRIB file, lazily, through cfgrib; the hypercubes that hold the winds merged
    on their common coordinates (u and v are often on different level sets)."""
    try:
        import cfgrib
    except ImportError as exc:
        raise _err(
            str(path),
            'GRIB files need the optional cfgrib reader: pip install "plumecast[grib]" '
            "(or convert the file to netCDF)",
        ) from exc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        # indexpath "": no .idx file is written next to the data (folders may be read-only)
        parts = cfgrib.open_datasets(str(path), backend_kwargs={"indexpath": ""}, chunks={})
        if not parts:
            raise _err(str(path), "no GRIB message could be read; expected a GRIB file of winds")
        if len(parts) == 1:
            return parts[0]
        keep = parts
        if winds:
            names = set(_U_NAMES) | set(_V_NAMES)
            keep = [d for d in parts if any(str(n).lower() in names for n in d.data_vars)] or parts
        drop = [c for c in ("heightAboveGround", "surface", "meanSea") if len(keep) > 1]
        keep = [d.drop_vars([c for c in drop if c in d.coords and d[c].ndim == 0]) for d in keep]
        return xr.merge(keep, join="inner", compat="override", combine_attrs="drop_conflicts")


def _open_lazy(path: Path, winds: bool = True) -> xr.Dataset:
    """One met file, opened lazily (dask-backed; nothing read but the metadata)."""
    try:
        if is_grib(path):
            return _open_grib(path, winds)
        return xr.open_dataset(path, chunks={})
    except MetDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise _read_error(path, exc) from exc


def _open_dataset(path: Path) -> xr.Dataset:
    """One met file, read into memory (kept for callers that need it whole)."""
    return _open_lazy(path).load()


def _on_time(ds: xr.Dataset, path: Path, winds: bool) -> tuple[xr.Dataset, np.ndarray]:
    """One file of a set: its winds with the (valid) time as dimension ``time``."""
    where = str(path)
    if winds:
        u_name, v_name = _find_wind_vars(ds, where)
        keep = [u_name, v_name]
    else:
        keep = [str(n) for n in ds.data_vars]
    ref = ds[keep[0]]
    time_name = _find_coord(ds, _TIME_NAMES, "time", ())
    if time_name is None:
        raise _err(
            where,
            "no time coordinate; the files of a set are joined along time, so each needs one "
            f"(CF 'time' or 'valid_time'); found {[str(n) for n in ds.variables]}",
        )
    tc = ds[time_name]
    times = np.asarray(tc.values).reshape(-1)
    if not np.issubdtype(times.dtype, np.datetime64):
        raise _err(where, f"time {time_name!r} could not be decoded to dates; expected CF time units")
    times = times.astype("datetime64[ns]")
    if tc.ndim == 1 and tc.dims[0] in ref.dims:
        tdim: str | None = str(tc.dims[0])
    elif tc.size == 1:
        tdim = None
    else:
        raise _err(where, f"time {time_name!r} has dims {tc.dims}, not a dimension of {keep[0]!r} {ref.dims}")
    lat_lon = [n for n in (_find_coord(ds, _LAT_NAMES, "latitude", ()), _find_coord(ds, _LON_NAMES, "longitude", ()))
               if n is not None and n in ds.data_vars]
    sub = ds[keep + [n for n in lat_lon if n not in keep]]
    time_like = [str(c) for c in sub.coords if _lower(c) in _TIME_NAMES or _lower(c) == "step"]
    sub = sub.drop_vars(time_like)
    if tdim is None:
        sub = sub.expand_dims(time=times.size)
    elif tdim != "time":
        sub = sub.rename_dims({tdim: "time"})
    sub = sub.assign_coords(
        time=("time", times, {"standard_name": "time", "long_name": "valid time"}),
        met_file=("time", np.full(times.size, path.name)),
    )
    for n in keep:
        sub[n].attrs = ds[n].attrs
    return sub, times


def _check_same_grid(first: xr.Dataset, first_path: Path, other: xr.Dataset, path: Path) -> None:
    a_vars, b_vars = list(first.data_vars), list(other.data_vars)
    if a_vars != b_vars:
        raise _err(
            str(path),
            f"has variables {b_vars} but {first_path.name} has {a_vars}; expected the same variables in every file",
        )
    for d, n in first[a_vars[0]].sizes.items():
        if d == "time":
            continue
        m = other[a_vars[0]].sizes.get(d)
        same = m == n and (d not in first.coords or d not in other.coords
                           or np.array_equal(np.asarray(first[d].values), np.asarray(other[d].values)))
        if not same:
            raise _err(
                str(path),
                f"dimension {str(d)!r} differs from {first_path.name}'s ({m} vs {n} values); "
                "expected every file on the same grid, levels and members",
            )


def open_met_dataset(path: MetPath, *, winds: bool = True) -> xr.Dataset:
    """Open the met file(s) of ``path`` lazily and join them along time.

    Parameters
    ----------
    path : file, folder, glob pattern or list (see :func:`met_paths`).
    winds : require wind components in every file (``False``: any variables).

    Returns
    -------
    xarray.Dataset
        One file: the file as xarray decodes it (dask-backed). Several files: the
        wind variables with the valid time as dimension ``time`` (a coordinate
        ``met_file`` names each record's file), the member dimension kept. Nothing
        but metadata has been read.

    Raises
    ------
    MetDataError
        Naming the file: unreadable, no winds or no time, another grid, levels
        or members than the first file, a time overlap with another file, or a gap
        (a step between files more than 1.5 times the steps around it).
    """
    paths = met_paths(path)
    if len(paths) == 1:
        return _open_lazy(paths[0], winds)
    return join_on_time([(p, *_on_time(_open_lazy(p, winds), p, winds)) for p in paths])


def join_on_time(files: Sequence[tuple[Path, xr.Dataset, np.ndarray]]) -> xr.Dataset:
    """Join per-file datasets along ``time``, checking grids, overlaps and gaps.

    Parameters
    ----------
    files : (path, dataset, times) per file; each dataset has the dimension
        ``time`` (valid times ``times``) and the coordinate ``met_file``.

    Returns
    -------
    xarray.Dataset
        The datasets concatenated in time order (lazily), attr ``source`` naming
        the files.

    Raises
    ------
    MetDataError
        Naming the file: other variables, grid, levels or members than the first
        file, a time overlap with another file, or a gap (a step between files
        more than 1.5 times the steps around it).
    """
    parts = sorted(((np.min(t), p, sub, np.sort(t)) for p, sub, t in files), key=lambda x: x[0])
    first_path, first = parts[0][1], parts[0][2]
    for _, p, sub, _ in parts[1:]:
        _check_same_grid(first, first_path, sub, p)
    for (_, pa, _, ta), (_, pb, _, tb) in zip(parts, parts[1:], strict=False):
        if tb[0] <= ta[-1]:
            raise _err(
                str(pb),
                f"times {tb[0]} .. {tb[-1]} overlap those of {pa} ({ta[0]} .. {ta[-1]}); expected "
                "each time in one file only",
            )
    all_t = np.concatenate([x[3] for x in parts])
    steps = np.diff(all_t).astype("timedelta64[s]").astype(np.float64)
    edge = np.cumsum([x[3].size for x in parts])[:-1] - 1  # index in steps of each file-to-file step
    for k, i in enumerate(edge):
        around = [steps[j] for j in (i - 1, i + 1) if 0 <= j < steps.size]
        if around and steps[i] > 1.5 * max(around):
            pa, pb = parts[k][1], parts[k + 1][1]
            raise _err(
                str(pb),
                f"starts at {all_t[i + 1]}, {steps[i] / 3600:g} h after {pa.name} ends ({all_t[i]}), while the "
                f"records around are {max(around) / 3600:g} h apart: a gap in the met (a missing file?); "
                "expected consecutive records without gaps",
            )
    ds = xr.concat([x[2] for x in parts], dim="time", data_vars="minimal", coords="minimal",
                   compat="override", join="override", combine_attrs="override")
    ds.attrs["source"] = _describe_paths([x[1] for x in parts])
    return ds


def met_members(path: MetPath) -> NDArray[np.int64] | None:
    """Member numbers of the met file(s) (the ``number`` coordinate of ERA5/ENS/GEFS
    files, or 0..n-1), or None without a member dimension. Reads metadata only."""
    ds = open_met_dataset(path, winds=False)
    dim = next((str(d) for d in ds.dims if _lower(d) in MEMBER_DIMS), None)
    if dim is None:
        return None
    if dim in ds.coords:
        return np.asarray(ds[dim].values).astype(np.int64)
    return np.arange(ds.sizes[dim], dtype=np.int64)


def wind_file_domain(path: MetPath, *, level_hpa: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The grid of a wind file, read without loading the winds.

    Parameters
    ----------
    path : file, folder, glob pattern or list (see :func:`met_paths`); for several
        files, the first one's grid (every file's grid is checked when the winds
        are opened).
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
    p = met_paths(path)[0]
    ds = _open_lazy(p)
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
    path: MetPath,
    *,
    level_hpa: float | None = None,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
    member: int | None = None,
) -> xr.Dataset:
    """Read CF netCDF (or GRIB) wind file(s) into the normalised wind dataset.

    Parameters
    ----------
    path : str, Path or list
        A netCDF file (ERA5, GFS, WRF-post naming) or GRIB with cfgrib installed;
        or several (a list, a folder, a glob pattern: :func:`met_paths`), joined
        along time (:func:`open_met_dataset`).
    level_hpa : float, optional
        Pressure level to read. [hPa] Default: the level with the highest pressure,
        i.e. the one closest to the ground. 10 m winds are used as they are.
    time_window : (datetime64, datetime64), optional
        Period the run needs; the files' times must cover it, and only the records
        that bracket it are read from disk.
    member : int, optional
        Index along the member dimension (``number``) to read; needed when the
        files hold more than one member.

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
    winds have any other dimension of size > 1 (climatological month) is refused.

    Raises
    ------
    MetDataError
        File missing or unreadable, GRIB without cfgrib, no recognisable winds,
        level not present, NaNs inside the domain, time window not covered, a gap
        or an overlap between files, member missing or not chosen.
    """
    ds = open_met_dataset(path)
    source = str(ds.attrs.get("source", "")) if "met_file" in ds.coords else str(met_paths(path)[0])
    with ds:
        return normalise_wind(ds, source=source, level_hpa=level_hpa, time_window=time_window, member=member)
