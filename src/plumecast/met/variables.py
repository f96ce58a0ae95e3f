"""Finding the winds and the coordinates in a met dataset, whoever wrote it.

Variables are found by their CF ``standard_name`` first, then by the names the
producers use (ERA5, GFS via wgrib2/NCL, WRF post-processed), then by their units;
WRF staggered winds are averaged onto the mass points and wind units converted to
m s-1. Used by the single-level reader (:mod:`plumecast.met.reader`), the met file
sets (:mod:`plumecast.met.files`) and the 3-D reader
(:mod:`plumecast.met.levels_read`).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from plumecast.errors import MetDataError

#: Names of an ensemble-member dimension (ERA5/ENS/GEFS via cfgrib: ``number``).
MEMBER_DIMS = ("number", "member", "realization", "ensemble", "ens")

_U_NAMES = ("u", "ugrd", "ua", "uwnd", "u_component_of_wind", "u10", "u10m", "ugrd10m", "10u")
_V_NAMES = ("v", "vgrd", "va", "vwnd", "v_component_of_wind", "v10", "v10m", "vgrd10m", "10v")
# GFS via wgrib2 / NCL: UGRD_850mb, UGRD_P0_L100_GLL0, UGRD_10maboveground, ugrdprs ...
_U_PATTERN = re.compile(r"^ugrd", re.IGNORECASE)
_V_PATTERN = re.compile(r"^vgrd", re.IGNORECASE)
_MB_IN_NAME = re.compile(r"_(\d+(?:\.\d+)?)mb$", re.IGNORECASE)
_MB_SUFFIX = re.compile(r"^(.+?)_(\d+(?:\.\d+)?)mb$", re.IGNORECASE)
_TEN_METRE = re.compile(r"(^u10|^v10|10m|^10[uv]$|10maboveground)", re.IGNORECASE)

_LAT_NAMES = ("lat", "latitude", "xlat", "xlat_m", "nav_lat", "y")
_LON_NAMES = ("lon", "longitude", "xlong", "xlong_m", "nav_lon", "x")
# valid_time before time: in cfgrib's GRIB (and GFS files written from it) 'time' is
# the forecast's reference time and 'valid_time' = time + step the time of the record
_TIME_NAMES = ("valid_time", "time", "times", "xtime", "t")
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
_KPA_UNITS = {"kpa", "kilopascal", "kilopascals"}
#: level units that say nothing of the values' scale: read by their size (hPa up to MAX_LEVEL_HPA, else Pa)
_NO_UNITS = {"", "1", "level", "levels", "none", "unknown", "isobaric", "isobaric level", "pressure level"}


def _err(path: str, message: str) -> MetDataError:
    return MetDataError(f"{path}: {message}")


def nonfinite_count(arr: Any, bad: Any) -> str:
    """How many of ``arr``'s values at ``bad`` are NaN and how many infinite, for the refusals of
    incomplete fields: ``"3 NaN value(s)"``, ``"25 infinite value(s)"`` (a value beyond float32's
    range, 3.4e38, is read as infinite: a wrong ``scale_factor``, say), or both."""
    values = np.asarray(arr)[np.asarray(bad, dtype=bool)]
    n_inf = int(np.isinf(values).sum())
    n_nan = int(values.size) - n_inf
    if n_inf == 0:
        return f"{n_nan} NaN value(s)"
    inf = f"{n_inf} infinite value(s) (beyond float32's 3.4e38: a wrong scale_factor or units?)"
    return inf if n_nan == 0 else f"{n_nan} NaN and {inf}"


class NoWindsError(MetDataError):
    """A met file without wind components (a surface-only file of a set, say)."""


class NoLevelsError(MetDataError):
    """Met files without winds on levels: they are for the one-level reader. ``unused``:
    the boundary-layer fields and precipitation the files hold (``'blh' of sl.nc``),
    which a read at one level does not use (the run says so)."""

    def __init__(self, message: str, unused: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.unused = unused


# ---------------------------------------------------------------------------
# finding variables and coordinates
# ---------------------------------------------------------------------------


def _stack_mb_variables(ds: xr.Dataset) -> xr.Dataset:
    """wgrib2 netCDF: ``UGRD_850mb``, ``UGRD_500mb`` ... -> ``UGRD`` on a ``level`` dim [hPa]
    (lazily), for both readers: the 3-D one reads the levels, the single-level one
    picks one of them (``level_hpa``, else the highest pressure)."""
    groups: dict[str, list[tuple[float, str]]] = {}
    for name in ds.data_vars:
        m = _MB_SUFFIX.match(str(name))
        if m:
            groups.setdefault(m.group(1), []).append((float(m.group(2)), str(name)))
    if not groups:
        return ds
    out = ds.drop_vars([n for g in groups.values() for _, n in g])
    for prefix, members in groups.items():
        members.sort(reverse=True)
        stacked = xr.concat([ds[n] for _, n in members], dim="level", coords="minimal", compat="override")
        stacked = stacked.assign_coords(level=("level", [p for p, _ in members], {"units": "hPa"}))
        stacked.attrs = dict(ds[members[0][1]].attrs)
        out[prefix] = stacked
    return out


def _lower(name: Hashable) -> str:
    return str(name).lower()


def _find_wind_vars(ds: xr.Dataset, path: str) -> tuple[str, str]:
    data_vars = [str(n) for n in ds.data_vars]
    u_std, v_std = _by_standard_name(ds, "eastward_wind"), _by_standard_name(ds, "northward_wind")
    if u_std and v_std:
        return _prefer(u_std, _U_NAMES), _prefer(v_std, _V_NAMES)
    u_names, v_names = _by_name(ds, _U_NAMES, _U_PATTERN), _by_name(ds, _V_NAMES, _V_PATTERN)
    if u_names and v_names:
        return u_names[0], v_names[0]
    u_any, v_any = u_std or u_names, v_std or v_names
    if bool(u_any) != bool(v_any):  # one component: the other is named (u10 without v10 had been told only
        # "no recognisable wind components"; badinput audit, session 43)
        has = u_any[0] if u_any else v_any[0]
        lacks = "northward" if u_any else "eastward"
        raise NoWindsError(
            f"{path}: no recognisable wind components; {_partner(ds, has)} is missing (the file has the "
            f"{'eastward' if u_any else 'northward'} wind {has!r}); expected it beside {has!r}, or a variable with "
            f"standard_name '{lacks}_wind'; found variables {data_vars}")
    raise NoWindsError(
        f"{path}: "
        "no recognisable wind components; expected variables with standard_name "
        "'eastward_wind'/'northward_wind' or named u/v, u10/v10, UGRD/VGRD, ugrd10m/vgrd10m, "
        f"U/V, U10/V10; found variables {data_vars}",
    )


def _partner(ds: xr.Dataset, name: str) -> str:
    """The other wind component of ``name`` as a person would look for it: ``'v10', the northward 10 m
    wind,`` for ``u10``, ``'VGRD', ...`` for ``UGRD``; by standard name for one found by its standard name."""
    std = ds[name].attrs.get("standard_name")
    if std in ("eastward_wind", "northward_wind"):
        other = "northward" if std == "eastward_wind" else "eastward"
        return f"the {other} wind (standard_name '{other}_wind')"
    low = name.lower()
    pairs = dict(zip(_U_NAMES, _V_NAMES, strict=True)) | dict(zip(_V_NAMES, _U_NAMES, strict=True))
    other = pairs.get(low) or (("v" if low[0] == "u" else "u") + low[1:])
    if name.isupper():
        other = other.upper()
    direction = "northward" if low in _U_NAMES or _U_PATTERN.match(low) else "eastward"
    level = " 10 m" if "10" in low else ""
    return f"{other!r}, the {direction}{level} wind,"


def _by_standard_name(ds: xr.Dataset, std: str) -> list[str]:
    return [str(n) for n in ds.data_vars if ds[n].attrs.get("standard_name") == std]


def _by_name(ds: xr.Dataset, names: Sequence[str], pattern: re.Pattern[str]) -> list[str]:
    data_vars = [str(n) for n in ds.data_vars]
    exact = [n for key in names for n in data_vars if n.lower() == key]
    return exact or [n for n in data_vars if pattern.match(n)]


def _wind_components(ds: xr.Dataset) -> tuple[str | None, str | None]:
    """The eastward and northward wind variables of ``ds`` each on its own (None for
    one that is absent), found as :func:`_find_wind_vars` finds the pair: to say
    which of the two a file (or a set of files of the same times) lacks."""
    u = _by_standard_name(ds, "eastward_wind") or _by_name(ds, _U_NAMES, _U_PATTERN)
    v = _by_standard_name(ds, "northward_wind") or _by_name(ds, _V_NAMES, _V_PATTERN)
    return (_prefer(u, _U_NAMES) if u else None), (_prefer(v, _V_NAMES) if v else None)


def _wind_variables(ds: xr.Dataset) -> list[str]:
    """Every variable of ``ds`` that :func:`_find_wind_vars` could take for a wind
    component (by ``standard_name``, by name or by the GFS pattern), on levels or at
    10 m: what the single-level reader needs of a file."""
    names = set(_by_standard_name(ds, "eastward_wind") + _by_standard_name(ds, "northward_wind"))
    for n in map(str, ds.data_vars):
        if n.lower() in _U_NAMES or n.lower() in _V_NAMES or _U_PATTERN.match(n) or _V_PATTERN.match(n):
            names.add(n)
    return [str(n) for n in ds.data_vars if str(n) in names]


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


def find_time_coord(ds: xr.Dataset, names: Sequence[str] = _TIME_NAMES) -> str | None:
    """The time coordinate of ``ds`` (by standard_name ``time``, then by name): among
    variables of at most one dimension, or a character array (WRF's ``Times``), so
    that a field named like a time (``t``, the temperature of many files) is never
    taken for one."""
    ok = [n for n in ds.variables if ds[n].ndim <= 1 or (ds[n].ndim == 2 and ds[n].dtype.kind == "S")]
    return _find_coord(ds[ok] if len(ok) < len(ds.variables) else ds, names, "time", ())


#: What a WRF file on its own projection (Lambert conformal, polar stereographic, Mercator)
#: needs besides regridding: its winds are along the grid's axes; COSALPHA and SINALPHA
#: (wrfout variables) are the cosine and sine of the local rotation of the grid from
#: east-north, turned back as wrf-python's ``uvmet`` turns them.
WRF_GRID_RELATIVE = (
    "; WRF's U and V (also after p_interp) are grid-relative, along the grid's x and y: rotate them to east and "
    "north with COSALPHA and SINALPHA when regridding (u_east = U COSALPHA - V SINALPHA, v_north = V COSALPHA + "
    "U SINALPHA, as wrf-python's uvmet does)")


#: standard_names of horizontal coordinates that are not longitude and latitude: a projection's
#: x and y, a rotated pole's grid longitude and latitude.
_PROJECTED_NAMES = ("projection_x_coordinate", "projection_y_coordinate", "grid_longitude", "grid_latitude")
_LENGTH_UNITS = ("m", "km", "meter", "meters", "metre", "metres", "kilometer", "kilometers", "kilometre",
                 "kilometres", "100 km", "1000 m")


def _not_projected(name: str, c: xr.DataArray, path: str) -> None:
    """Refuse a horizontal coordinate ``name`` that is a projection's x or y (by its
    standard_name or its units of length) or a rotated pole's: taken for degrees, a 20 km
    domain on x = 0..20 km had been read as 20 degrees of longitude."""
    std = str(c.attrs.get("standard_name", "")).strip().lower()
    units = str(c.attrs.get("units", "")).strip().lower()
    if std not in _PROJECTED_NAMES and units not in _LENGTH_UNITS:
        return
    said = ", ".join(x for x in (f"standard_name {std}" if std else "", f"units {units!r}" if units else "") if x)
    kind = "rotated-pole" if std.startswith("grid_") else "projected"
    raise _err(path, f"the coordinate {name!r} ({said}) is a {kind} grid's, not longitude or latitude in degrees; "
                     "expected a grid on longitude/latitude (degrees_east, degrees_north): regrid the file to "
                     "lon/lat first (cdo remapbil, xESMF), turning grid-relative winds to east and north")


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
    for name, c in ((lon_name, lon_da), (lat_name, lat_da)):
        _not_projected(name, c, path)
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
            wrf = lat_name.lower().startswith("xlat") or "COSALPHA" in ds.variables or "MAP_PROJ" in ds.attrs
            raise _err(
                path,
                f"{lat_name}/{lon_name} are 2-D and not a regular lon/lat grid (a projected "
                "WRF grid?); expected latitude constant along each row and longitude constant "
                "along each column — regrid to lon/lat first"
                + (WRF_GRID_RELATIVE if wrf else ""),
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


#: Highest pressure a pressure level can have [hPa]: above the highest surface
#: pressure observed (1084 hPa, Agata, 1968); a level beyond it is in Pa.
MAX_LEVEL_HPA = 1100.0


def pressure_levels_hpa(values: np.ndarray, units: str, name: str, path: str) -> np.ndarray:
    """Pressure levels [hPa] from a level coordinate's ``values`` and ``units``.

    Pa (``Pa``, ``pascal``) are divided by 100 and kPa multiplied by 10; hPa,
    mb and millibar are kept. Without units (or with units that say nothing of
    pressure), levels above :data:`MAX_LEVEL_HPA` can only be Pa. Levels in hPa above it are refused: the
    units say hPa but the values are Pa.
    """
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    key = units.strip().lower()
    top = float(np.nanmax(values)) if values.size else 0.0
    if key in _PA_UNITS:
        return values / 100.0
    if key in _KPA_UNITS:
        return values * 10.0
    if key not in _HPA_UNITS:
        if key in _NO_UNITS:  # none, or none that says (a level number, '1')
            return values / 100.0 if top > MAX_LEVEL_HPA else values
        # units of something else ('K', 'furlongs') had been read as hPa without a word (badinput audit)
        raise _err(path, f"pressure levels {name!r} have the units {units!r}, not a pressure; expected hPa "
                         "(mb, millibar), Pa or kPa")
    if top > MAX_LEVEL_HPA:
        raise _err(path, f"pressure levels {name!r} go up to {top:g} {units}, beyond any surface pressure "
                         f"({MAX_LEVEL_HPA:g} hPa); expected hPa (or the units 'Pa' if the values are in Pa)")
    return values


def _level_hpa_values(coord: xr.DataArray, path: str = "") -> np.ndarray:
    return pressure_levels_hpa(np.asarray(coord.values), str(coord.attrs.get("units", "")), str(coord.name), path)


def axis_text(values: Any, count: bool = True) -> str:
    """A grid axis in words for messages: its range, step and (``count``) size (``40..60
    step 0.5, 41 values``), so that two grids of the same size but shifted are told apart."""
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    size = f", {a.size} value{'s' if a.size != 1 else ''}" if count else ""
    if a.size < 2:
        return (f"{a[0]:g}" if a.size else "no values") + size
    d = np.diff(a)
    step = f" step {d[0]:g}" if np.allclose(d, d[0], rtol=1e-3, atol=1e-9) else " in uneven steps"
    return f"{a[0]:g}..{a[-1]:g}{step}{size}"


def _when(t: Any) -> str:
    """A time for a message: ISO 8601 to the second, UTC (numpy prints datetime64[ns]
    to the nanosecond)."""
    return f"{np.datetime_as_string(np.datetime64(t, 's'))} UTC"


def decoded_times(values: np.ndarray) -> np.ndarray | None:
    """Times as datetime64[ns]: CF-decoded ones as they are, and WRF's ``Times``
    strings (``2026-01-15_06:00:00``, a char array that xarray leaves undecoded:
    the last dimension is the string's); None if they are neither."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[ns]")
    if values.dtype.kind not in "SUO":
        return None
    if values.dtype.kind == "S" and values.dtype.itemsize == 1 and values.ndim >= 2:  # a char array
        rows = values.reshape(-1, values.shape[-1])
        values = np.array([b"".join(r) for r in rows]).reshape(values.shape[:-1])
    out = []
    for v in values.reshape(-1):
        text = v.decode("ascii", "replace") if isinstance(v, bytes) else str(v)
        text = text.strip().strip("\x00").replace("_", "T")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d*)?)?)?)?Z?", text):
            return None
        out.append(np.datetime64(text.rstrip("Z"), "ns"))
    return np.array(out, dtype="datetime64[ns]").reshape(values.shape)


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
