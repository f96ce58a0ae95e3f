"""Three-dimensional met: winds on levels, vertical motion and the boundary layer.

:func:`open_met_3d` reads pressure-level (or height-level) met files, lazily, into
one normalised 3-D dataset; :func:`wind_grid_3d` turns chosen records of it into a
:class:`~plumecast.transport.windgrid.WindGrid` on fixed heights above ground, with
vertical velocity and the boundary-layer fields of
:data:`~plumecast.transport.windgrid.SURFACE_FIELDS`.

The normalised 3-D dataset
--------------------------
* dims ``time`` (valid times, ascending), ``number`` (members; only when the files
  hold several and none was chosen), ``level``, ``lat`` (ascending), ``lon``
  (ascending in [-180, 180));
* on ``(time, level, lat, lon)``: ``u``, ``v`` [m s-1]; ``gh`` geopotential height
  above mean sea level [m] (geopotential / g0); ``w`` [m s-1] or ``omega`` [Pa s-1];
  ``t`` air temperature [K] or ``theta`` potential temperature [K] — each when the
  files have it;
* on ``(time, lat, lon)``, when present: ``u10``, ``v10`` [m s-1]; ``t2m`` [K];
  ``blh`` mixing height [m]; ``ustar`` friction velocity [m s-1]; ``shf`` surface
  sensible heat flux, upward positive [W m-2]; ``precip`` [mm h-1]; ``zs`` surface
  height (surface geopotential / g0, or orography) [m];
* ``level`` is pressure [hPa] (ground first: descending) when ``attrs["level_type"]
  == "pressure"``, or height above ground [m] (ascending) when ``"height"``;
* attrs ``source``, ``first_file``, ``level_type``, ``global_lon``, ``steady``,
  ``history``; each variable's attr ``plumecast_from`` says which file variable
  it came from and how it was converted.

Variables are found by CF ``standard_name`` first, then by the names the producers
use: ERA5 (``u v w z t``, ``u10 v10 t2m blh zust sshf tp``, surface ``z``), GFS
(``UGRD VGRD VVEL HGT TMP``, the wgrib2 per-level form ``UGRD_850mb``, ``HPBL FRICV
SHTFL PRATE``, surface ``HGT``) and WRF post-processed onto pressure levels
(``U V W GHT TT``, ``U10 V10 T2 PBLH UST HFX RAINNC HGT``). GRIB files come
through cfgrib: each file's hypercubes (pressure levels, surface, 10 m) are read
separately and merged. Files of a set are joined along time as for the
single-level reader (:func:`plumecast.met.reader.join_on_time`): pressure-level
files and single-level files (ERA5's two CDS data sets) may be given together and
are joined separately, then matched record by record.

Conversions, said in ``plumecast_from``: geopotential [m2 s-2] / g0; ERA5 ``sshf``
is accumulated [J m-2] over the hour before the valid time and positive downward
(ECMWF convention), so ``shf = -sshf / 3600 s``; ERA5 ``tp`` is accumulated [m]
over the same hour, so ``precip = 1000 tp`` [mm h-1]; GFS ``PRATE`` [kg m-2 s-1]
times 3600; WRF ``RAINNC`` (+ ``RAINC``) accumulated [mm] since the model start is
differenced between records. (ERA5 hourly accumulations: Hersbach et al. 2020,
Q. J. R. Meteorol. Soc. 146, 1999, doi:10.1002/qj.3803, and the ERA5 data
documentation.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.errors import MetDataError
from plumecast.met.reader import (
    MEMBER_DIMS,
    MetPath,
    _destagger,
    _find_coord,
    _global_lon,
    _horizontal_axes,
    _on_time,
    _open_lazy,
    _read_error,
    _wind_units_factor,
    is_grib,
    join_on_time,
    met_paths,
)
from plumecast.transport.windgrid import SURFACE_FIELDS, WindGrid, grid_geometry

__all__ = [
    "DEFAULT_HEIGHTS_M",
    "G0",
    "normalise_met_3d",
    "open_met_3d",
    "standard_atmosphere_height_m",
    "wind_grid_3d",
]

log = logging.getLogger(__name__)

#: Standard gravity [m s-2] (CGPM 1901; WMO's g0 for geopotential height).
G0 = 9.80665
#: Gas constant of dry air [J kg-1 K-1] (ICAO Doc 7488, 1993).
R_D = 287.05287
#: Specific heat of dry air at constant pressure [J kg-1 K-1].
CP = 1004.7
#: Poisson constant R_d / c_p of dry air.
KAPPA_AIR = R_D / CP
#: von Kármán constant.
VON_KARMAN = 0.4
#: Critical bulk Richardson number of the mixing-height diagnosis (Vogelezang &
#: Holtslag 1996, Boundary-Layer Meteorol. 81, 245, doi:10.1007/BF02430331; FLEXPART).
RI_CRITICAL = 0.25
#: Weight b of the u*^2 term of the bulk Richardson number (Vogelezang & Holtslag 1996).
RI_USTAR_WEIGHT = 100.0
#: Bounds of a diagnosed mixing height [m] (FLEXPART's hmixmin, hmixmax; Stohl et
#: al. 2005, Atmos. Chem. Phys. 5, 2461, doi:10.5194/acp-5-2461-2005).
MIXING_HEIGHT_BOUNDS_M = (100.0, 4500.0)
#: Smallest u* [m s-1] used when forming 1/L (keeps 1/L finite in calm air).
USTAR_FLOOR_M_S = 0.01

#: Values per 3-D field handled at once by :func:`wind_grid_3d` (rows of the grid
#: are processed in blocks so that float64 temporaries stay small on global grids).
BLOCK_VALUES = 250_000

#: Default heights above ground of the WindGrid levels [m]: dense in the boundary
#: layer, coarser aloft, like FLEXPART's output/terrain-following levels. 10 m is
#: used only when the files have 10 m winds; heights above the files' top level are
#: cut (see :func:`wind_grid_3d`).
DEFAULT_HEIGHTS_M = (10.0, 50.0, 100.0, 200.0, 350.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0,
                     3000.0, 4000.0, 5000.0, 6500.0, 8000.0, 10000.0, 12000.0)

_PA_S = {"pa s-1", "pa/s", "pa s**-1", "pa s^-1", "pascal/s", "pa.s-1"}
_HPA_S = {"hpa s-1", "hpa/s", "mb/s", "hpa s**-1"}
_GEOPOT_UNITS = {"m2 s-2", "m**2 s**-2", "m^2 s^-2", "m2/s2", "m^2/s^2", "m2 s**-2"}
_METRE_UNITS = {"m", "gpm", "meter", "metre", "meters", "metres", "m above sea level", "gp m"}
_KM_UNITS = {"km"}
_KELVIN = {"k", "kelvin", "degk", "deg k"}
_CELSIUS = {"degc", "c", "celsius", "deg c", "degrees_celsius", "degree_celsius"}
_FLUX_W = {"w m-2", "w m**-2", "w/m2", "w/m^2", "w m^-2"}
_FLUX_J = {"j m-2", "j m**-2", "j/m2", "j m^-2"}
_RATE_S = {"kg/m^2/s", "kg m-2 s-1", "kg m**-2 s**-1", "kg/m2/s", "kg m^-2 s^-1", "mm s-1", "mm/s", "kg/(m2 s)"}
_RATE_H = {"mm h-1", "mm/h", "mm hr-1", "mm/hr", "mm h**-1"}
_ACC_MM = {"mm", "kg m-2", "kg m**-2", "kg/m2"}


@dataclass(frozen=True)
class _Spec:
    standard_names: tuple[str, ...]
    names: tuple[str, ...]
    pattern: str = ""


_LEVEL_SPECS: dict[str, _Spec] = {
    "u": _Spec(("eastward_wind",), ("u", "ugrd", "ua", "uwnd", "u_component_of_wind", "uu"), r"^ugrd"),
    "v": _Spec(("northward_wind",), ("v", "vgrd", "va", "vwnd", "v_component_of_wind", "vv"), r"^vgrd"),
    "geo": _Spec(("geopotential", "geopotential_height"),
                 ("z", "gh", "hgt", "ght", "zg", "geopotential", "geopotential_height", "phi", "hgtprs"), r"^hgt"),
    "vert": _Spec(("upward_air_velocity", "lagrangian_tendency_of_air_pressure"),
                  ("w", "wa", "dzdt", "omega", "vvel", "wap", "vertical_velocity"), r"^(vvel|dzdt)"),
    "t": _Spec(("air_temperature",), ("t", "tmp", "ta", "tt", "tk", "temp", "temperature", "air_temperature"),
               r"^tmp"),
    "theta": _Spec(("air_potential_temperature",), ("theta", "pt", "th"), ""),
}
_SURFACE_SPECS: dict[str, _Spec] = {
    "u10": _Spec((), ("u10", "10u", "ugrd10m", "u10m", "uas"), r"^ugrd.*10m"),
    "v10": _Spec((), ("v10", "10v", "vgrd10m", "v10m", "vas"), r"^vgrd.*10m"),
    "t2m": _Spec((), ("t2m", "2t", "tmp2m", "t2", "tas"), r"^tmp.*2m"),
    "blh": _Spec(("atmosphere_boundary_layer_thickness",), ("blh", "hpbl", "pblh", "zmla", "mixing_height"),
                 r"^hpbl"),
    "ustar": _Spec((), ("zust", "fricv", "ust", "ustar", "friction_velocity"), r"^fricv"),
    "shf": _Spec(("surface_upward_sensible_heat_flux", "surface_downward_sensible_heat_flux"),
                 ("sshf", "ishf", "shtfl", "hfx", "hfss", "shf"), r"^shtfl"),
    "precip": _Spec(("precipitation_flux", "lwe_precipitation_rate", "precipitation_amount",
                     "lwe_thickness_of_precipitation_amount"),
                    ("tp", "prate", "pr", "precip", "rainnc", "precipitation"), r"^prate"),
    "zs": _Spec(("surface_geopotential", "surface_altitude"),
                ("z", "zs", "orog", "hgt", "hgtsfc", "geopotential_at_surface", "fis", "phis",
                 "surface_geopotential", "orography"), r"^hgt_?(sfc|surface)"),
}
#: GRIB 2 (discipline, category, number) of fields that ecCodes may decode as
#: "unknown" (NCEP local tables), with their units: HPBL is NCEP-local 0/3/196.
_GRIB2_CODES: dict[tuple[int, int, int], tuple[str, str]] = {
    (0, 3, 196): ("hpbl", "m"),
    (0, 2, 30): ("fricv", "m s-1"),
    (0, 0, 11): ("shtfl", "W m-2"),
    (0, 1, 7): ("prate", "kg m-2 s-1"),
}
#: ECMWF fluxes are positive downward.
_DOWNWARD_FLUX_NAMES = ("sshf", "ishf")
_MB_SUFFIX = re.compile(r"^(.+?)_(\d+(?:\.\d+)?)mb$", re.IGNORECASE)
_PRESSURE_NAMES = ("level", "pressure_level", "isobaricinhpa", "isobaricinpa", "plev", "lev", "pressure",
                   "lv_isbl0", "pres", "interp_level", "num_press_levels")
_HEIGHT_NAMES = ("height", "heightaboveground", "height_above_ground", "altitude")
_TIME_LIKE = ("time", "valid_time", "times", "xtime", "t", "step")


def _err(path: str, message: str) -> MetDataError:
    return MetDataError(f"{path}: {message}")


def _units(da: xr.DataArray) -> str:
    return str(da.attrs.get("units", "")).strip().lower()


# ---------------------------------------------------------------------------
# one file (or GRIB hypercube) -> canonical level / surface datasets
# ---------------------------------------------------------------------------


def _stack_mb_variables(ds: xr.Dataset) -> xr.Dataset:
    """wgrib2 netCDF: ``UGRD_850mb``, ``UGRD_500mb`` ... -> ``UGRD`` on a ``level`` dim [hPa]."""
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


@dataclass
class _Vertical:
    kind: str  # "pressure" | "height" | "surface"
    dim: str | None  # the variable's vertical dim (None: scalar or none)
    values: NDArray[np.float64] | None  # hPa or m
    coord: str | None


def _vertical_of(ds: xr.Dataset, da: xr.DataArray, hdims: set[str], path: str) -> _Vertical:
    """Which vertical coordinate ``da`` is on (pressure, height levels, or none)."""
    extra = [str(d) for d in da.dims if str(d) not in hdims and str(d).lower() not in MEMBER_DIMS
             and str(d).lower() not in _TIME_LIKE]
    candidates = [str(c) for c in da.coords if str(c) not in hdims] + [
        str(n) for n in ds.variables if ds[n].ndim == 1 and str(ds[n].dims[0]) in extra and str(n) not in da.coords
    ]
    for c in candidates:
        var = ds[c] if c in ds.variables else da[c]
        low, units, std = c.lower(), _units(var), var.attrs.get("standard_name", "")
        if var.ndim > 1 or low in _TIME_LIKE:
            continue
        is_p = std == "air_pressure" or low in _PRESSURE_NAMES or units in ("hpa", "pa", "mb", "mbar", "millibar")
        is_h = std in ("height", "altitude") or low in _HEIGHT_NAMES
        if not (is_p or is_h):
            continue
        values = np.atleast_1d(np.asarray(var.values, dtype=np.float64))
        dim = str(var.dims[0]) if var.ndim == 1 and str(var.dims[0]) in da.dims else None
        if is_p:
            if units == "pa" or low == "isobaricinpa":
                values = values / 100.0
            return _Vertical("pressure", dim, values, c)
        if units == "km":
            values = values * 1000.0
        if dim is not None and values.size > 1:
            return _Vertical("height", dim, values, c)
        return _Vertical("surface", dim, values, c)
    big = [d for d in extra if da.sizes[d] > 1]
    if big:  # soil layers, model levels without a coordinate ...: not read
        return _Vertical("other", big[0], None, None)
    return _Vertical("surface", None, None, None)


def _match(names: dict[str, xr.DataArray], specs: dict[str, _Spec]) -> dict[str, str]:
    """Canonical name -> file variable, by standard_name, then name, then pattern."""
    out: dict[str, str] = {}
    # WRF's 'T' is the perturbation potential temperature, not the temperature
    used: set[str] = {n for n, da in names.items()
                      if "perturbation" in str(da.attrs.get("description", da.attrs.get("long_name", ""))).lower()}
    for key, spec in specs.items():
        found = next((n for n, da in names.items() if n not in used
                      and da.attrs.get("standard_name") in spec.standard_names), None)
        if found is None:
            found = next((n for k in spec.names for n in names if n not in used and n.lower() == k), None)
        if found is None and spec.pattern:
            found = next((n for n in names if n not in used and re.match(spec.pattern, n, re.IGNORECASE)), None)
        if found is not None:
            out[key] = found
            used.add(found)
    return out


def _factor(kind: str, da: xr.DataArray, name: str, path: str) -> tuple[float, float, str]:
    """(scale, offset, note) converting the file variable to the canonical unit."""
    units = _units(da)
    low = name.lower()
    std = str(da.attrs.get("standard_name", ""))
    if kind in ("u", "v", "u10", "v10", "ustar"):
        f = _wind_units_factor(da, path)
        return f, 0.0, "" if f == 1.0 else "knots to m s-1"
    if kind in ("geo", "zs"):
        if units in _GEOPOT_UNITS or std in ("geopotential", "surface_geopotential"):
            return 1.0 / G0, 0.0, "geopotential / g0"
        if units in _METRE_UNITS or units == "" and std in ("geopotential_height", "surface_altitude"):
            return 1.0, 0.0, ""
        if units in _KM_UNITS:
            return 1000.0, 0.0, "km to m"
        raise _err(path, f"{name!r} (geopotential or height) has units {da.attrs.get('units')!r}; "
                         "expected m2 s-2 (geopotential) or m (geopotential height, orography)")
    if kind == "vert":
        if units in _PA_S or std == "lagrangian_tendency_of_air_pressure":
            return 1.0, 0.0, "omega"
        if units in _HPA_S:
            return 100.0, 0.0, "omega, hPa s-1 to Pa s-1"
        if units in ("m s-1", "m/s", "m s**-1") or std == "upward_air_velocity":
            return 1.0, 0.0, ""
        raise _err(path, f"{name!r} (vertical motion) has units {da.attrs.get('units')!r}; expected Pa s-1 "
                         "(omega) or m s-1 (w)")
    if kind in ("t", "theta", "t2m"):
        if units in _KELVIN or units == "":
            return 1.0, 0.0, ""
        if units in _CELSIUS:
            return 1.0, 273.15, "degC to K"
        raise _err(path, f"{name!r} (temperature) has units {da.attrs.get('units')!r}; expected K")
    if kind == "blh":
        if units in _METRE_UNITS or units == "":
            return 1.0, 0.0, ""
        if units in _KM_UNITS:
            return 1000.0, 0.0, "km to m"
        raise _err(path, f"{name!r} (mixing height) has units {da.attrs.get('units')!r}; expected m")
    if kind == "shf":
        down = low in _DOWNWARD_FLUX_NAMES or std == "surface_downward_sensible_heat_flux"
        sign = -1.0 if down else 1.0
        if units in _FLUX_W:
            return sign, 0.0, "sign flipped (downward positive in the file)" if down else ""
        if units in _FLUX_J:
            return sign / 3600.0, 0.0, ("accumulated J m-2 over the hour before the valid time / 3600 s"
                                        + (", sign flipped (downward positive)" if down else ""))
        raise _err(path, f"{name!r} (sensible heat flux) has units {da.attrs.get('units')!r}; expected W m-2 "
                         "(or ERA5's hourly accumulated J m-2)")
    if kind == "precip":
        if units in _RATE_S:
            return 3600.0, 0.0, "kg m-2 s-1 to mm h-1"
        if units in _RATE_H:
            return 1.0, 0.0, ""
        if units == "m":
            return 1000.0, 0.0, "accumulated m over the hour before the valid time to mm h-1"
        if units in _ACC_MM:
            return 1.0, 0.0, "accumulated"
        raise _err(path, f"{name!r} (precipitation) has units {da.attrs.get('units')!r}; expected kg m-2 s-1, "
                         "mm h-1, m per hour (ERA5 tp) or mm accumulated since the start (WRF RAINNC)")
    raise AssertionError(kind)


def _canonical(ds: xr.Dataset, path: Path) -> tuple[xr.Dataset | None, xr.Dataset | None, str]:
    """One opened file or GRIB hypercube -> (level dataset, surface dataset, level type)."""
    where = str(path)
    ds = _stack_mb_variables(ds)
    lat_name = _find_coord(ds, ("lat", "latitude", "xlat", "xlat_m", "nav_lat"), "latitude", ())
    lon_name = _find_coord(ds, ("lon", "longitude", "xlong", "xlong_m", "nav_lon"), "longitude", ())
    time_name = _find_coord(ds, ("time", "valid_time", "times", "xtime"), "time", ())
    skip = {n for n in (lat_name, lon_name, time_name) if n is not None}
    data = {str(n): _destagger(ds[n]) for n in ds.data_vars if str(n) not in skip and ds[n].ndim >= 2}
    for n in [n for n in data if n.lower() == "unknown"]:  # a GRIB field without a name in ecCodes' tables
        a = data[n].attrs
        code = (a.get("GRIB_discipline"), a.get("GRIB_parameterCategory"), a.get("GRIB_parameterNumber"))
        known = _GRIB2_CODES.get(code)  # type: ignore[arg-type]
        del data[n]
        if known is not None:
            data[known[0]] = data.get(known[0], ds[n].assign_attrs(units=known[1]).rename(known[0]))
    if not data:
        raise _err(where, f"no gridded variables; found {[str(n) for n in ds.variables]}")
    ref = next(iter(data.values()))
    lat_dim, lat, lon_dim, lon = _horizontal_axes(ds, ref, where)
    hdims = {lat_dim, lon_dim}
    level_vars: dict[str, tuple[xr.DataArray, _Vertical]] = {}
    surf_vars: dict[str, xr.DataArray] = {}
    others: dict[str, str] = {}
    for name, da in data.items():
        if lat_dim not in da.dims or lon_dim not in da.dims:
            continue
        vert = _vertical_of(ds, da, hdims, where)
        if vert.kind == "other":
            others[name] = vert.dim or ""
        elif vert.kind == "surface":
            surf_vars[name] = da
        else:
            level_vars[name] = (da, vert)
    kinds = {v.kind for _, v in level_vars.values()}
    if len(kinds) > 1:
        raise _err(where, "variables on both pressure and height levels; expected one kind of level per file")
    level_type = kinds.pop() if kinds else ""
    lev_match = _match({n: da for n, (da, _) in level_vars.items()}, _LEVEL_SPECS)
    if "u" not in lev_match:
        winds = _match({n: data[n] for n in others}, {"u": _LEVEL_SPECS["u"]})
        if winds:
            n = winds["u"]
            raise _err(where, f"{n!r} has the dimension {others[n]!r} without a pressure or height coordinate; "
                              "expected levels with a 1-D coordinate in hPa/Pa (standard_name air_pressure) or m "
                              "(standard_name height)")
    surf_match = _match(surf_vars, _SURFACE_SPECS)

    def prepare(da: xr.DataArray, key: str, fname: str, vert: _Vertical | None) -> xr.DataArray:
        scale, offset, note = _factor(key, da, fname, where)
        out = da
        if vert is not None:
            if vert.dim is None:
                assert vert.coord is not None and vert.values is not None
                out = out.drop_vars(vert.coord, errors="ignore").expand_dims(level=vert.values.size)
                vdim = "level"
            else:
                vdim = vert.dim
                out = out.drop_vars([c for c in out.coords if str(c) == vdim or
                                     (out[c].ndim == 1 and out[c].dims[0] == vdim)], errors="ignore")
                out = out.rename({vdim: "level"}) if vdim != "level" else out
            assert vert.values is not None
            out = out.assign_coords(level=("level", vert.values))
        else:
            for d in [str(d) for d in out.dims if str(d) not in hdims and str(d).lower() not in MEMBER_DIMS
                      and str(d).lower() not in _TIME_LIKE]:
                out = out.isel({d: 0}, drop=True)
        drop = [c for c in out.coords if str(c) not in out.dims and str(c).lower() not in _TIME_LIKE]
        out = out.drop_vars(drop + [c for c in (lat_dim, lon_dim) if c in out.coords])
        out = out.rename({d: n for d, n in ((lat_dim, "lat"), (lon_dim, "lon")) if d != n})
        mdim = next((str(d) for d in out.dims if str(d).lower() in MEMBER_DIMS), None)
        if mdim is not None and mdim != "number":
            out = out.rename({mdim: "number"})
        if scale != 1.0 or offset != 0.0:
            out = out * scale + offset
        units = {"u": "m s-1", "v": "m s-1", "geo": "m", "vert": "Pa s-1" if note.startswith("omega") else "m s-1",
                 "t": "K", "theta": "K", "u10": "m s-1", "v10": "m s-1", "t2m": "K", "blh": "m",
                 "ustar": "m s-1", "shf": "W m-2", "precip": "mm" if note == "accumulated" else "mm h-1",
                 "zs": "m"}[key]
        what = f"{fname!r} [{da.attrs.get('units', 'no units')}] of {path.name}" + (f" ({note})" if note else "")
        out.attrs = {"units": units, "plumecast_from": what}
        return out.astype(np.float32) if out.dtype != np.float32 else out

    levels: dict[str, xr.DataArray] = {}
    for key, fname in lev_match.items():
        da, vert = level_vars[fname]
        name = {"geo": "gh", "vert": "vert"}.get(key, key)
        levels[name] = prepare(da, key, fname, vert)
    if "vert" in levels:
        vert_da = levels.pop("vert")
        levels["omega" if vert_da.attrs["units"] == "Pa s-1" else "w"] = vert_da
    surface: dict[str, xr.DataArray] = {}
    for key, fname in surf_match.items():
        surface[key] = prepare(surf_vars[fname], key, fname, None)
    if "precip" in surface and surface["precip"].attrs["units"] == "mm" and "rainc" in {n.lower() for n in surf_vars}:
        rainc = next(n for n in surf_vars if n.lower() == "rainc")
        extra = prepare(surf_vars[rainc], "precip", rainc, None)
        surface["precip"] = (surface["precip"] + extra).assign_attrs(
            units="mm", plumecast_from=surface["precip"].attrs["plumecast_from"] + f" + {rainc!r}")
    coords = {"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})}
    lev_ds = None
    if levels:
        lev_ds = xr.merge([d.rename(n) for n, d in levels.items()], join="inner", compat="override",
                          combine_attrs="drop_conflicts").assign_coords(coords)
        for n, d in levels.items():
            lev_ds[n].attrs = d.attrs
        if lev_ds.sizes["level"] == 0:
            raise _err(where, "the variables on levels share no level; expected u, v and geopotential on the "
                              "same levels")
    surf_ds = None
    if surface:
        surf_ds = xr.merge([d.rename(n) for n, d in surface.items()], compat="override",
                           combine_attrs="drop_conflicts").assign_coords(coords)
        for n, d in surface.items():
            surf_ds[n].attrs = d.attrs
    for part in (lev_ds, surf_ds):
        if part is not None and time_name is not None and time_name not in part.variables and time_name in ds:
            part.coords[time_name] = ds[time_name]
    return lev_ds, surf_ds, level_type


def _open_parts(path: Path) -> list[xr.Dataset]:
    """One file as datasets: a netCDF file whole; a GRIB file as cfgrib's hypercubes."""
    if not is_grib(path):
        return [_open_lazy(path, winds=False)]
    try:
        import cfgrib
    except ImportError as exc:
        raise _err(str(path), 'GRIB files need the optional cfgrib reader: pip install "plumecast[grib]" '
                              "(or convert the file to netCDF)") from exc
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            # read_keys: the GRIB 2 codes of fields that ecCodes cannot name (see _GRIB2_CODES)
            keys = ["discipline", "parameterCategory", "parameterNumber"]
            # time_dims valid_time: ERA5 accumulations (base 06/18 UTC + steps 1..12 h) and
            # forecast steps come on one time axis of valid times
            kwargs = {"indexpath": "", "read_keys": keys, "time_dims": ["valid_time"]}
            parts = cfgrib.open_datasets(str(path), backend_kwargs=kwargs, chunks={})
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise _read_error(path, exc) from exc
    if not parts:
        raise _err(str(path), "no GRIB message could be read; expected pressure-level GRIB messages")
    return list(parts)


def _merge_kind(pieces: list[xr.Dataset], where: str) -> xr.Dataset:
    """Merge the canonical datasets of one file's GRIB hypercubes. A quantity on two
    sets of levels (GFS: ``isobaricInhPa`` and, above 1 hPa, ``isobaricInPa``) is
    joined along ``level``; the quantities are then aligned on their common levels."""
    if len(pieces) == 1:
        return pieces[0]
    by_var: dict[str, list[xr.DataArray]] = {}
    for p in pieces:
        for n in p.data_vars:
            by_var.setdefault(str(n), []).append(p[n])
    merged: list[xr.DataArray] = []
    for n, das in by_var.items():
        if len(das) > 1:
            sets = [set(np.asarray(d["level"].values).tolist()) if "level" in d.dims else set() for d in das]
            if any(not s for s in sets) or any(sets[i] & sets[j] for i in range(len(sets))
                                                for j in range(i + 1, len(sets))):
                raise _err(where, f"variable {n!r} found twice (in two GRIB hypercubes) on the same levels; "
                                  "expected each quantity once")
            attrs = das[0].attrs
            merged.append(xr.concat(das, dim="level", coords="minimal", compat="override").assign_attrs(attrs)
                          .rename(n))
        else:
            merged.append(das[0].rename(n))
    out = xr.merge(merged, join="inner", compat="override", combine_attrs="drop_conflicts")
    for da in merged:
        out[str(da.name)].attrs = da.attrs
    return out


# ---------------------------------------------------------------------------
# the joined, normalised dataset
# ---------------------------------------------------------------------------


def _with_time(ds: xr.Dataset, path: Path) -> tuple[xr.Dataset, NDArray[Any]]:
    sub, times = _on_time(ds, path, winds=False)
    sub = sub.drop_vars([c for c in sub.coords if str(c) not in sub.dims and str(c) != "met_file"])
    return sub, times


def _check_steps(ds: xr.Dataset, where: str) -> None:
    """A gap inside the records: a step more than 1.5 times the steps on either side
    (as between files, :func:`plumecast.met.reader.join_on_time`; a forecast going
    from hourly to 3-hourly steps is not a gap)."""
    t = np.asarray(ds["time"].values)
    if t.size < 3:
        return
    steps = np.diff(t).astype("timedelta64[s]").astype(np.float64)
    for i in range(steps.size):
        around = [steps[j] for j in (i - 1, i + 1) if 0 <= j < steps.size]
        if steps[i] > 1.5 * max(around):
            name = str(ds["met_file"].values[i + 1]) if "met_file" in ds.coords else where
            raise _err(name, f"records {t[i]} and {t[i + 1]} are {steps[i] / 3600:g} h apart while the records "
                             f"around are {max(around) / 3600:g} h apart: a gap in the met; expected consecutive "
                             "records without gaps")


#: Fields a forecast's first step lacks (rates and fluxes over the step before).
_INTERVAL_FIELDS = ("precip", "shf")


def _fill_step_zero(
    surfs: list[tuple[Path, xr.Dataset, NDArray[Any]]], history: list[str]
) -> list[tuple[Path, xr.Dataset, NDArray[Any]]]:
    """A forecast's step 0 (GFS ``f000``) has no precipitation rate or flux (they
    are means over the step before): the earliest file may lack them; its records
    take the next file's first values (said in ``plumecast_from``)."""
    if len(surfs) < 2:
        return surfs
    order = sorted(range(len(surfs)), key=lambda i: np.min(surfs[i][2]))
    first, second = surfs[order[0]], surfs[order[1]]
    missing = [n for n in _INTERVAL_FIELDS if n not in first[1] and n in second[1]
               and all(n in surfs[i][1] for i in order[1:])]
    if not missing:
        return surfs
    ds = first[1].copy()
    n_t = ds.sizes["time"]
    for n in missing:
        nxt = second[1][n].isel(time=[0] * n_t).drop_vars("met_file", errors="ignore")
        ds[n] = nxt.assign_coords(time=ds["time"]).assign_attrs(
            plumecast_from=str(second[1][n].attrs.get("plumecast_from", n))
            + f"; {first[0].name} has none (forecast step 0): its records take the next record's value")
        history.append(f"{n} of {first[0].name} from {second[0].name} (forecast step 0 has none)")
    ds = ds[[v for v in second[1].data_vars]]
    out = list(surfs)
    out[order[0]] = (first[0], ds, first[2])
    return out


def normalise_met_3d(
    files: Sequence[tuple[Path, xr.Dataset | list[xr.Dataset]]],
    *,
    source: str,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
    member: int | None = None,
) -> xr.Dataset:
    """Normalise opened met datasets (one per file) into the 3-D dataset.

    Parameters
    ----------
    files : (path, dataset) per file, as xarray opened them; a GRIB file as the
        list of its cfgrib hypercubes. The path names the file in messages.
    source : description for the ``source`` attribute.
    time_window, member : as for :func:`open_met_3d`.

    Returns
    -------
    xarray.Dataset
        The normalised 3-D dataset (see the module docstring), lazy where the
        inputs are.
    """
    levs: list[tuple[Path, xr.Dataset, NDArray[Any]]] = []
    surfs: list[tuple[Path, xr.Dataset, NDArray[Any]]] = []
    level_types: dict[str, Path] = {}
    for path, opened in files:
        if isinstance(opened, list):
            pieces = [_canonical(p, path) for p in opened]
            lev = _merge_kind([p[0] for p in pieces if p[0] is not None], str(path)) if any(
                p[0] is not None for p in pieces) else None
            surf = _merge_kind([p[1] for p in pieces if p[1] is not None], str(path)) if any(
                p[1] is not None for p in pieces) else None
            lt = next((p[2] for p in pieces if p[2]), "")
        else:
            lev, surf, lt = _canonical(opened, path)
        if lev is not None:
            level_types.setdefault(lt, path)
            levs.append((path, *_with_time(lev, path)))
        if surf is not None:
            surfs.append((path, *_with_time(surf, path)))
    first = files[0][0]
    if not levs:
        raise _err(str(first), "no winds on pressure or height levels; expected u, v on levels (a single-level "
                               "file is read with plumecast.met.open_wind)")
    if len(level_types) > 1:
        a, b = list(level_types.items())[:2]
        raise _err(str(b[1]), f"on {b[0]} levels while {a[1].name} is on {a[0]} levels; expected one kind")
    level_type = next(iter(level_types))
    lev_ds = join_on_time(levs) if len(levs) > 1 else levs[0][1]
    lev_path = levs[0][0]
    for need in ("u", "v"):
        if need not in lev_ds:
            raise _err(str(lev_path), f"no {'eastward' if need == 'u' else 'northward'} wind on levels; expected "
                                      f"a variable with standard_name {'eastward_wind' if need == 'u' else 'northward_wind'}"
                                      f" or named {need}, {need.upper()}GRD, {need.upper()}; found "
                                      f"{sorted(str(n) for n in lev_ds.data_vars)}")
    if lev_ds["u"].dims != lev_ds["v"].dims:
        raise _err(str(lev_path), f"u has dims {lev_ds['u'].dims} but v has {lev_ds['v'].dims}; expected the same")
    _check_steps(lev_ds, str(lev_path))
    history: list[str] = []
    if surfs:
        surfs = _fill_step_zero(surfs, history)
        surf_ds = join_on_time(surfs) if len(surfs) > 1 else surfs[0][1]
        surf_path = surfs[0][0]
        for ax in ("lat", "lon"):
            if not np.allclose(surf_ds[ax].values, lev_ds[ax].values, atol=1e-4) or surf_ds.sizes[ax] != lev_ds.sizes[ax]:
                raise _err(str(surf_path), f"surface fields on another {ax} grid ({surf_ds.sizes[ax]} values) than the "
                                           f"level fields of {lev_path.name} ({lev_ds.sizes[ax]}); expected one grid")
        l_t, s_t = np.asarray(lev_ds["time"].values), np.asarray(surf_ds["time"].values)
        static = s_t.size == 1 and l_t.size > 1 and "zs" in surf_ds and len(surf_ds.data_vars) == 1
        if static:  # an orography file: one record for all times
            surf_ds = surf_ds.isel(time=0, drop=True).drop_vars("met_file", errors="ignore")
        else:
            missing = np.setdiff1d(l_t, s_t)
            if missing.size:
                raise _err(str(surf_path), f"the surface fields have no record at {missing[0]} ({missing.size} of "
                                           f"{l_t.size} level times missing); expected the same times as the level "
                                           f"files ({lev_path.name} ..)")
            surf_ds = surf_ds.sel(time=l_t).drop_vars("met_file", errors="ignore")
        surf_ds = surf_ds.assign_coords(lat=lev_ds["lat"], lon=lev_ds["lon"])
        lev_ds = xr.merge([lev_ds, surf_ds], join="left", compat="override", combine_attrs="override")
    ds = lev_ds
    ds = ds.drop_vars([c for c in ds.coords if str(c) not in ("time", "level", "lat", "lon", "number", "met_file")])

    # accumulated precipitation (WRF RAINNC): difference between records
    if "precip" in ds and ds["precip"].attrs.get("units") == "mm":
        frm = ds["precip"].attrs["plumecast_from"]
        acc = ds["precip"]
        if ds.sizes["time"] < 2:
            raise _err(str(lev_path), "precipitation accumulated since the model start needs at least 2 records "
                                      "to form a rate")
        dt_h = (ds["time"].diff("time") / np.timedelta64(1, "h")).astype(np.float32)
        rate = (acc.diff("time", label="upper") / dt_h).clip(min=0.0)
        rate = xr.concat([rate.isel(time=[0]).assign_coords(time=ds["time"][:1]), rate], dim="time")
        ds["precip"] = rate.astype(np.float32).assign_attrs(
            units="mm h-1", plumecast_from=frm + ", differenced between records (the first record takes the "
                                                "first interval's rate)")

    # members
    if "number" in ds.dims and ds.sizes["number"] == 1 and member in (None, 0):
        ds = ds.isel(number=0, drop=True)
    elif "number" in ds.dims:
        n = int(ds.sizes["number"])
        if member is not None:
            if not 0 <= member < n:
                raise _err(str(lev_path), f"member {member} asked for but the files have {n} members (0..{n - 1})")
            ds = ds.isel(number=member, drop=True)
            history.append(f"member {member} of {n}")
    elif member is not None and member != 0:
        raise _err(str(lev_path), f"member {member} asked for but the files have no member dimension")

    # time window: select before reading
    times = np.asarray(ds["time"].values).astype("datetime64[ns]")
    steady = times.size == 1
    if time_window is not None and not steady:
        start = np.asarray(time_window[0]).astype("datetime64[ns]")
        end = np.asarray(time_window[1]).astype("datetime64[ns]")
        if end < start:
            raise _err(str(lev_path), f"time window ends ({end}) before it starts ({start})")
        if start < times[0] or end > times[-1]:
            raise _err(str(lev_path), f"times {times[0]} .. {times[-1]} do not cover the requested window "
                                      f"{start} .. {end}; expected met data that span the whole run")
        i0 = int(np.searchsorted(times, start, side="right")) - 1
        i1 = int(np.searchsorted(times, end, side="left"))
        if i1 - i0 + 1 < times.size:
            ds = ds.isel(time=slice(i0, i1 + 1))
            history.append(f"kept {i1 - i0 + 1} of {times.size} records (the run's window)")

    # horizontal order: lat ascending, lon wrapped to [-180, 180) and sorted (lazy)
    lat = np.asarray(ds["lat"].values, dtype=np.float64)
    lon = np.asarray(ds["lon"].values, dtype=np.float64)
    lon_w = (lon + 180.0) % 360.0 - 180.0
    lon_order = np.argsort(lon_w, kind="stable")
    keep = np.concatenate([[True], np.diff(lon_w[lon_order]) > 1e-9])
    lon_order = lon_order[keep]
    lat_order = np.argsort(lat, kind="stable")
    if not np.array_equal(lat_order, np.arange(lat.size)):
        ds = ds.isel(lat=lat_order)
        history.append("flipped latitude to ascending")
    if not np.array_equal(lon_order, np.arange(lon.size)) or np.any(lon_w != lon):
        ds = ds.isel(lon=lon_order).assign_coords(lon=("lon", lon_w[lon_order]))
        history.append(f"wrapped longitudes {lon.min():g}..{lon.max():g} to [-180, 180)")
    # levels: ground first
    lv = np.asarray(ds["level"].values, dtype=np.float64)
    order = np.argsort(-lv if level_type == "pressure" else lv, kind="stable")
    if not np.array_equal(order, np.arange(lv.size)):
        ds = ds.isel(level=order)
    ds["level"].attrs = {"units": "hPa" if level_type == "pressure" else "m",
                         "long_name": "pressure level" if level_type == "pressure" else "height above ground"}
    ds.attrs = {
        "source": source,
        "first_file": str(lev_path),
        "level_type": level_type,
        "global_lon": int(_global_lon(np.asarray(ds["lon"].values))),
        "steady": int(steady),
        "history": "; ".join(history),
    }
    return ds


def open_met_3d(
    path: MetPath,
    *,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
    member: int | None = None,
) -> xr.Dataset:
    """Open 3-D met file(s) lazily as the normalised 3-D dataset.

    Parameters
    ----------
    path : a file, folder, glob pattern or list (:func:`plumecast.met.reader.met_paths`):
        netCDF (ERA5, GFS, WRF-post naming) or GRIB (cfgrib).
    time_window : (datetime64, datetime64), optional
        Period the run needs; the records must cover it; only the records that
        bracket it are kept.
    member : int, optional
        Index along the member dimension (``number``) to keep; without it, all
        members are kept on the ``number`` dim.

    Returns
    -------
    xarray.Dataset
        The normalised 3-D dataset (module docstring), dask-backed: nothing but
        metadata has been read. :func:`wind_grid_3d` reads the records it is asked for.

    Raises
    ------
    MetDataError
        Naming the file: unreadable; no u or v on levels; another grid, other
        levels or other variables than the first file of its kind; a gap or an
        overlap in time; surface fields missing at a level time; window not
        covered; member missing.
    """
    paths = met_paths(path)
    files: list[tuple[Path, xr.Dataset | list[xr.Dataset]]] = []
    for p in paths:
        parts = _open_parts(p)
        files.append((p, parts if len(parts) > 1 else parts[0]))
    source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} met files {paths[0]} .. {paths[-1].name}"
    return normalise_met_3d(files, source=source, time_window=time_window, member=member)


# ---------------------------------------------------------------------------
# standard atmosphere
# ---------------------------------------------------------------------------

_ISA_T0, _ISA_P0, _ISA_LAPSE = 288.15, 1013.25, 0.0065
_ISA_T11, _ISA_P11, _ISA_P20 = 216.65, 226.3206, 54.74889


def standard_atmosphere_height_m(p_hpa: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Geopotential height [m] of pressure ``p_hpa`` [hPa] in the ICAO standard
    atmosphere (ICAO 1993, Doc 7488/3): 6.5 K/km lapse to 11 km, isothermal to
    20 km, +1 K/km above."""
    p = np.asarray(p_hpa, dtype=np.float64)
    g_rl = G0 / (R_D * _ISA_LAPSE)
    h_trop = _ISA_T0 / _ISA_LAPSE * (1.0 - (p / _ISA_P0) ** (1.0 / g_rl))
    h_iso = 11000.0 + R_D * _ISA_T11 / G0 * np.log(_ISA_P11 / np.maximum(p, 1e-9))
    g_r1 = G0 / (R_D * 0.001)
    h_up = 20000.0 + _ISA_T11 / 0.001 * ((np.maximum(p, 1e-9) / _ISA_P20) ** (-1.0 / g_r1) - 1.0)
    return np.asarray(np.where(p >= _ISA_P11, h_trop, np.where(p >= _ISA_P20, h_iso, h_up)))


def standard_atmosphere_temperature_k(p_hpa: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Temperature [K] at pressure ``p_hpa`` [hPa] in the ICAO standard atmosphere."""
    h = standard_atmosphere_height_m(p_hpa)
    return np.asarray(np.where(h <= 11000.0, _ISA_T0 - _ISA_LAPSE * h,
                               np.where(h <= 20000.0, _ISA_T11, _ISA_T11 + 0.001 * (h - 20000.0))))


# ---------------------------------------------------------------------------
# the WindGrid builder
# ---------------------------------------------------------------------------


def _records(n: int, records: slice | tuple[int, int] | None, where: str) -> tuple[int, int]:
    if records is None:
        return 0, n
    if isinstance(records, slice):
        if records.step not in (None, 1):
            raise _err(where, f"records={records}; expected a contiguous range (step 1)")
        i0, i1, _ = records.indices(n)
    else:
        i0, i1 = int(records[0]), int(records[1])
    if not 0 <= i0 < i1 <= n:
        raise _err(where, f"records {i0}..{i1} (end excluded) outside the {n} record(s) of the met; "
                          f"expected 0 <= start < end <= {n}")
    return i0, i1


def _regular(values: NDArray[np.float64], name: str, where: str) -> float:
    if values.size < 2:
        raise _err(where, f"coordinate {name!r} has {values.size} value(s); need at least 2")
    steps = np.diff(values)
    step = float(np.median(steps))
    if step <= 0 or np.max(np.abs(steps - step)) > 1e-3 * abs(step):
        raise _err(where, f"coordinate {name!r} is not regularly spaced (steps {steps.min():g}..{steps.max():g} "
                          "deg); plumecast needs a regular lon/lat grid")
    return step


def _record_file(ds: xr.Dataset, k: int) -> str:
    if "met_file" in ds.coords and ds["met_file"].ndim == 1:
        return f"{ds['met_file'].values[k]} (of {ds.attrs.get('source', '')})"
    return str(ds.attrs.get("first_file", ds.attrs.get("source", "met dataset")))


def _nan_check(arr: NDArray[Any], name: str, where: str, time: Any, lat: NDArray[Any], lon: NDArray[Any],
               allowed: NDArray[np.bool_] | None = None) -> None:
    bad = ~np.isfinite(arr)
    if allowed is not None:
        bad &= ~allowed
    if bad.any():
        idx = np.argwhere(bad)[0]
        j, i = int(idx[-2]), int(idx[-1])
        lvl = f", level index {int(idx[0])}" if arr.ndim == 3 else ""
        raise _err(where, f"{int(bad.sum())} NaN value(s) of {name!r} inside the domain at {time}; first at "
                          f"lat={lat[j]:g}, lon={lon[i]:g}{lvl}; expected complete fields (fill or crop the gaps)")


def _interp_columns(h: NDArray[np.float64], val: NDArray[np.float64], z: float, kb: NDArray[np.int64],
                    near: NDArray[np.float64]) -> NDArray[np.float64]:
    """Linear interpolation in height of ``val`` (nlev, ny, nx) at height ``z``;
    ``near`` is used below the lowest level above ground (index ``kb``), the top
    level's value above the top."""
    nlev = h.shape[0]
    count = np.sum(h <= z, axis=0)
    k = np.clip(count - 1, 0, nlev - 2) if nlev > 1 else np.zeros_like(count)
    if nlev == 1:
        return np.where(count <= kb, near, val[0])
    h0 = np.take_along_axis(h, k[None], 0)[0]
    h1 = np.take_along_axis(h, (k + 1)[None], 0)[0]
    v0 = np.take_along_axis(val, k[None], 0)[0]
    v1 = np.take_along_axis(val, (k + 1)[None], 0)[0]
    f = np.clip((z - h0) / np.where(h1 > h0, h1 - h0, 1.0), 0.0, 1.0)
    out = v0 + f * (v1 - v0)
    out = np.where(count >= nlev, val[-1], out)
    return np.where(count <= kb, near, out)


def _columns_to_heights_numpy(
    h: NDArray[np.float64], vals: NDArray[np.float64], z_t: NDArray[np.float64], modes: NDArray[np.int64],
    z0: float, ref10: NDArray[np.float64] | None = None,
) -> NDArray[np.float32]:
    """NumPy reference of :func:`plumecast.met.columns.columns_to_heights` (same
    arguments and rules; one full-array search per height)."""
    nlev = h.shape[0]
    kb = np.minimum(np.sum(h <= 0.0, axis=0), nlev - 1)
    hb = np.take_along_axis(h, kb[None], 0)[0]
    out = np.empty((vals.shape[0], z_t.size) + h.shape[1:], dtype=np.float32)
    for m in range(vals.shape[0]):
        vb = np.take_along_axis(vals[m], kb[None], 0)[0]
        for iz, z in enumerate(z_t):
            if modes[m] == 1:
                near = vb * np.clip(z / hb, 0.0, 1.0)
            elif ref10 is not None:
                v10 = ref10[m]
                fz = np.log(max(z, z0) / 10.0) / np.log(np.maximum(hb, 10.0 + 1e-3) / 10.0)
                near = v10 + fz * (vb - v10) if z >= 10.0 else v10 * np.log(max(z, z0) / z0) / np.log(10.0 / z0)
            else:
                near = vb * np.log(max(z, z0) / z0) / np.log(np.maximum(hb, 1.001 * z0) / z0)
            out[m, iz] = _interp_columns(h, vals[m], z, kb, near)
    return out


def wind_grid_3d(
    ds: xr.Dataset,
    start: np.datetime64 | None = None,
    records: slice | tuple[int, int] | None = None,
    z_levels_m: Sequence[float] | None = None,
    roughness_length_m: float = 0.1,
    *,
    mixing_height_m: float | None = None,
    standard_atmosphere: bool = False,
) -> WindGrid:
    """Interpolate records of a normalised 3-D dataset onto fixed heights above ground.

    Parameters
    ----------
    ds : the normalised 3-D dataset (:func:`open_met_3d`, :func:`normalise_met_3d`,
        :func:`plumecast.met.climatology.climatology_3d`), one member.
    start : the run's start; record times are measured from it (default: the
        first record read).
    records : time indices ``(i0, i1)`` (end excluded) or a slice; only these
        records are read from disk. Default: all.
    z_levels_m : heights above ground of the WindGrid levels [m], ascending.
        Default :data:`DEFAULT_HEIGHTS_M` without 10 m when the files have no 10 m
        wind, cut above the files' top level: above the ICAO standard-atmosphere
        height of the top pressure level less the highest ground (the same for
        every record range, so rolling windows share their levels).
    roughness_length_m : z0 for the log law below the lowest level and for u*
        when the files have no friction velocity. [m]
    mixing_height_m : constant mixing height [m] used where the files have neither
        a mixing height nor temperature to diagnose one; without it such files
        give ``surface=None`` (the run's constant K_z and mixing height apply).
    standard_atmosphere : for pressure levels without geopotential, take the
        heights of the ICAO standard atmosphere instead of raising an error.

    Returns
    -------
    WindGrid
        ``vec`` (time, nz, 3, lat, lon), ``w`` (or None), ``surface`` (or None),
        ``provenance`` saying where each field came from.

    Notes
    -----
    Height of a pressure level above ground: ``(Φ - Φ_s) / g0`` (geopotential
    heights ``gh - zs``); without surface geopotential the height above sea level
    (said in the provenance). Levels below ground are skipped. Between the ground
    and the lowest level above ground: linear in ln z from the 10 m wind when the
    files have it, else the neutral log law ``u(z) = u_1 ln(z/z0) / ln(z_1/z0)``;
    ``w`` goes linearly to 0 at the ground. Above a column's top level the top
    level's values hold.

    Vertical velocity from omega, hydrostatic: ``w = -ω R_d T / (p g0)`` (Holton &
    Hakim 2013, An Introduction to Dynamic Meteorology, 5th ed., eq. 3.44 with
    ρ = p / (R_d T)); T from the files, else the ICAO standard atmosphere; the
    virtual-temperature correction (< 1 %) is neglected.

    Boundary layer (:data:`~plumecast.transport.windgrid.SURFACE_FIELDS`):

    * mixing height: ``blh``/``hpbl``/``PBLH`` as read; else the bulk Richardson
      number ``Ri_b(z) = g (θ(z) − θ_s)(z − z_s) / (θ_s (u² + v² + b u*²))``,
      ``b = 100``, first reaching 0.25 (Vogelezang & Holtslag 1996, Boundary-Layer
      Meteorol. 81, 245, doi:10.1007/BF02430331, as in FLEXPART), with θ_s from the
      2 m temperature (or the lowest level), bounded to 100..4500 m (FLEXPART);
    * u*: from the files; else the neutral log law ``κ U(z_1) / ln(z_1/z0)`` from
      the 10 m (or lowest) wind;
    * 1/L: ``-κ g H / (u*³ θ ρ c_p)`` from the heat flux H (Obukhov 1946); without
      H, from the bulk Richardson number of the lowest layer through the
      Businger–Dyer relations ``ζ = Ri`` (unstable), ``ζ = Ri / (1 − 5 Ri)``
      (stable; Businger et al. 1971, J. Atmos. Sci. 28, 181; Dyer 1974,
      Boundary-Layer Meteorol. 7, 363), and H back from L; without temperature, 0;
    * w* = ``(g H h / (ρ c_p θ))^(1/3)`` for H > 0, else 0 (Deardorff 1970,
      J. Atmos. Sci. 27, 1211);
    * precipitation [mm h-1] as normalised (0 when the files have none).

    Raises
    ------
    MetDataError
        Naming the file: no geopotential (unless ``standard_atmosphere``), NaN
        inside the domain (below-ground levels excepted), levels not ascending in
        height, records out of range.
    """
    from plumecast.met.columns import (  # numba: when first needed
        columns_to_heights,
        east_north_to_vectors,
    )

    where = str(ds.attrs.get("first_file", ds.attrs.get("source", "met dataset")))
    if "number" in ds.dims and ds.sizes["number"] > 1:
        raise _err(where, f"{ds.sizes['number']} members on 'number'; choose one (open_met_3d(member=k))")
    level_type = str(ds.attrs.get("level_type", "pressure"))
    n_all = int(ds.sizes["time"])
    steady = bool(ds.attrs.get("steady", 0))
    i0, i1 = _records(n_all, records, where)
    lat = np.asarray(ds["lat"].values, dtype=np.float64)
    lon = np.asarray(ds["lon"].values, dtype=np.float64)
    dlat = _regular(lat, "lat", where)
    dlon = _regular(lon, "lon", where)
    levels = np.asarray(ds["level"].values, dtype=np.float64)
    nlev = levels.size
    has = set(map(str, ds.data_vars))
    prov: list[str] = []

    def frm(name: str) -> str:
        return str(ds[name].attrs.get("plumecast_from", name))

    # --- heights of the levels -------------------------------------------------------
    has_zs = "zs" in has
    if level_type == "pressure" and "gh" not in has:
        if not standard_atmosphere:
            raise _err(where, "no geopotential (or geopotential height) on the pressure levels; expected z, gh, "
                              "HGT or GHT (or ask for the ICAO standard atmosphere: standard_atmosphere=True / "
                              "met.standard_atmosphere: true)")
        prov.append("level heights: ICAO standard atmosphere (no geopotential in the files)")
    elif level_type == "pressure":
        prov.append(f"level heights: geopotential height from {frm('gh')}")
    else:
        prov.append("level heights: the files' heights above ground")
    zs_static: NDArray[np.float64] | None = None
    if level_type == "pressure":
        if has_zs:
            prov.append(f"ground: {frm('zs')}; heights above ground = (Φ − Φ_s) / g0")
            if "time" not in ds["zs"].dims:
                zs_static = np.asarray(ds["zs"].values, dtype=np.float64)
        else:
            prov.append("ground: no surface geopotential or orography in the files; heights above sea level are "
                        "used as heights above ground")

    # --- target heights (fixed for the dataset) ------------------------------------------
    has_10m = "u10" in has and "v10" in has
    if level_type == "pressure":
        top = float(standard_atmosphere_height_m(levels[-1]))
        if has_zs:
            zmax = zs_static if zs_static is not None else np.asarray(ds["zs"].isel(time=0).values, np.float64)
            top -= max(float(np.nanmax(zmax)), 0.0)
    else:
        top = float(levels[-1])
    if z_levels_m is None:
        z_t = np.array([z for z in DEFAULT_HEIGHTS_M if (z != 10.0 or has_10m) and z <= top], dtype=np.float64)
        if z_t.size == 0:
            z_t = np.array([max(top, 10.0)])
    else:
        z_t = np.asarray(z_levels_m, dtype=np.float64).ravel()
        if z_t.size == 0 or np.any(z_t <= 0) or np.any(np.diff(z_t) <= 0):
            raise _err(where, f"z_levels_m={z_t.tolist()}; expected heights above ground > 0 m, ascending")
    nz = z_t.size
    prov.append(f"winds: {frm('u')} / {frm('v')} on {nlev} {level_type} level(s), interpolated linearly in height "
                f"onto {nz} heights {z_t[0]:g}..{z_t[-1]:g} m above ground"
                + (f"; 10 m wind {frm('u10')} / {frm('v10')}, ln z between it and the lowest level" if has_10m
                   else f"; below the lowest level the neutral log law with z0 = {roughness_length_m:g} m"))
    z0 = float(roughness_length_m)
    if not z0 > 0:
        raise _err(where, f"roughness_length_m={roughness_length_m!r}; expected > 0 m")

    vert = "w" if "w" in has else "omega" if "omega" in has else None
    temp = "t" if "t" in has else "theta" if "theta" in has else None
    if vert == "omega":
        prov.append(f"w: from omega {frm('omega')}, w = −ω R_d T / (p g0) (hydrostatic), T from "
                    + (frm("t") if temp == "t" else "the ICAO standard atmosphere"))
    elif vert == "w":
        prov.append(f"w: {frm('w')}")
    else:
        prov.append("w: none in the files (no vertical advection by the mean wind)")

    have_blh = "blh" in has
    diag_blh = not have_blh and temp is not None
    with_surface = have_blh or diag_blh or mixing_height_m is not None
    if have_blh:
        prov.append(f"mixing height: {frm('blh')}")
    elif diag_blh:
        prov.append(f"mixing height: diagnosed, bulk Richardson number {RI_CRITICAL:g} (Vogelezang & Holtslag "
                    f"1996) from {frm(str(temp))}, bounded to {MIXING_HEIGHT_BOUNDS_M[0]:g}.."
                    f"{MIXING_HEIGHT_BOUNDS_M[1]:g} m")
    elif mixing_height_m is not None:
        prov.append(f"mixing height: the scenario's constant {mixing_height_m:g} m (no mixing height and no "
                    "temperature in the files)")
    else:
        prov.append("boundary layer: none in the files (no mixing height, no temperature): surface fields absent, "
                    "the run's constant K_z and mixing height apply")
    if with_surface:
        prov.append("u*: " + (frm("ustar") if "ustar" in has else
                              f"neutral log law from the {'10 m' if has_10m else 'lowest level'} wind, "
                              f"z0 = {z0:g} m"))
        if "shf" in has:
            prov.append(f"1/L, w*: from the sensible heat flux {frm('shf')}")
        elif temp is not None:
            prov.append("1/L, w*: from the bulk Richardson number of the lowest layer (Businger–Dyer); "
                        "no heat flux in the files")
        else:
            prov.append("1/L, w*: 0 (neutral; no heat flux and no temperature in the files)")
        prov.append("precipitation: " + (frm("precip") if "precip" in has else "none in the files: 0"))

    n_rec = i1 - i0
    vec = np.empty((n_rec, nz, 3, lat.size, lon.size), dtype=np.float32)
    w_out = np.empty((n_rec, nz, lat.size, lon.size), dtype=np.float32) if vert else None
    surf = np.empty((n_rec, len(SURFACE_FIELDS), lat.size, lon.size), dtype=np.float32) if with_surface else None
    times = np.asarray(ds["time"].values).astype("datetime64[ns]")
    p_pa = levels[:, None, None] * 100.0 if level_type == "pressure" else None

    def _block(rec: xr.Dataset, js: slice, r: int, file_k: str, tk: str) -> None:
        """Rows ``js`` of record ``r``: heights, interpolation, boundary layer."""
        latb = lat[js]
        nyb = latb.size

        def get(name: str, rec: xr.Dataset = rec) -> NDArray[np.float64]:
            return np.asarray(rec[name].values, dtype=np.float64)

        # heights above ground (nlev, ny, nx)
        if level_type == "pressure":
            gh = get("gh") if "gh" in has else np.broadcast_to(
                standard_atmosphere_height_m(levels)[:, None, None], (nlev, nyb, lon.size)).copy()
            if "gh" in has:
                _nan_check(gh, "geopotential", file_k, tk, latb, lon)
            zs = (zs_static[js] if zs_static is not None else get("zs")) if has_zs else np.zeros((nyb, lon.size))
            if has_zs:
                _nan_check(zs, "surface height", file_k, tk, latb, lon)
            h = gh - zs[None]
        else:
            h = np.broadcast_to(levels[:, None, None], (nlev, nyb, lon.size)).copy()
        if nlev > 1 and np.any(np.diff(h, axis=0) <= 0):
            raise _err(file_k, f"level heights do not increase upward at {tk}; expected geopotential rising "
                               "with decreasing pressure")
        below = h <= 0.0
        kb = np.sum(below, axis=0)
        if np.any(kb >= nlev):
            raise _err(file_k, f"every level is below ground somewhere at {tk}; expected levels above the ground")
        hb = np.take_along_axis(h, kb[None], 0)[0]  # lowest level above ground

        u = get("u")
        v = get("v")
        _nan_check(u, "u", file_k, tk, latb, lon, below)
        _nan_check(v, "v", file_k, tk, latb, lon, below)
        ub = np.take_along_axis(u, kb[None], 0)[0]
        vb = np.take_along_axis(v, kb[None], 0)[0]
        if has_10m:
            u10, v10 = get("u10"), get("v10")
            _nan_check(u10, "u10", file_k, tk, latb, lon)
            _nan_check(v10, "v10", file_k, tk, latb, lon)
        T: NDArray[np.float64] | None = None
        if temp is not None:
            T = get(temp)
            _nan_check(T, temp, file_k, tk, latb, lon, below)
            if temp == "theta":  # theta -> T where pressure known
                if p_pa is not None:
                    T = T * (p_pa / 1e5) ** KAPPA_AIR
                else:
                    T = T - G0 / CP * h
        fields, modes, ref10 = [u, v], [0, 0], [u10, v10] if has_10m else None
        if vert is not None and w_out is not None:
            wv = get(vert)
            _nan_check(wv, vert, file_k, tk, latb, lon, below)
            if vert == "omega":
                if p_pa is None:
                    raise _err(file_k, "omega [Pa s-1] on height levels; expected w [m s-1]")
                t_use = T if T is not None else standard_atmosphere_temperature_k(levels)[:, None, None]
                wv = -wv * R_D * t_use / (p_pa * G0)
            fields.append(wv)
            modes.append(1)
            if ref10 is not None:
                ref10.append(np.zeros_like(u10))
        stacked = np.stack([np.where(below, 0.0, f) for f in fields])  # below-ground values are never used
        on_z = columns_to_heights(h, stacked, z_t, np.array(modes), z0, None if ref10 is None else np.stack(ref10))
        east_north_to_vectors(on_z, lon, latb, vec[r, :, :, js])
        if w_out is not None:
            w_out[r, :, js] = on_z[2]
        if surf is not None:
            surf[r, :, js] = _surface_fields(rec, has, h, kb, hb, ub, vb, T, p_pa, levels, z0, mixing_height_m,
                                      u10 if has_10m else None, v10 if has_10m else None, file_k, tk, latb, lon)

    # rows per block: float64 temporaries stay near BLOCK_VALUES values per 3-D field
    rows = max(1, min(lat.size, BLOCK_VALUES // max(1, nlev * lon.size)))
    for r, k in enumerate(range(i0, i1)):
        rec_all = ds.isel(time=k).load()  # the only read from disk: one record, as stored (float32)
        file_k = _record_file(ds, k)
        tk = np.datetime_as_string(times[k], unit="s")
        for j0 in range(0, lat.size, rows):
            js = slice(j0, min(j0 + rows, lat.size))
            _block(rec_all.isel(lat=js), js, r, file_k, tk)

    if steady or n_all == 1:
        times_s = np.zeros(n_rec)
    else:
        ref = times[i0] if start is None else np.asarray(start).astype("datetime64[ns]")
        times_s = np.asarray((times[i0:i1] - ref) / np.timedelta64(1, "s"), dtype=np.float64)
    prov.insert(0, f"met: {ds.attrs.get('source', where)}, records {i0}..{i1 - 1} of {n_all}")
    return WindGrid(
        vec=np.ascontiguousarray(vec),
        times_s=times_s,
        **grid_geometry(ds, lon, lat, dlon, dlat),
        z_m=z_t,
        w=None if w_out is None else np.ascontiguousarray(w_out),
        surface=None if surf is None else np.ascontiguousarray(surf),
        roughness_length_m=z0,
        provenance=tuple(prov),
    )


def _surface_fields(
    rec: xr.Dataset, has: set[str], h: NDArray[np.float64], kb: NDArray[np.int64], hb: NDArray[np.float64],
    ub: NDArray[np.float64], vb: NDArray[np.float64], T: NDArray[np.float64] | None,
    p_pa: NDArray[np.float64] | None, levels: NDArray[np.float64], z0: float, mixing_height_m: float | None,
    u10: NDArray[np.float64] | None, v10: NDArray[np.float64] | None, where: str, tk: str,
    lat: NDArray[np.float64], lon: NDArray[np.float64],
) -> NDArray[np.float32]:
    """The SURFACE_FIELDS of one record (see :func:`wind_grid_3d`)."""
    ny, nx = hb.shape

    def get(name: str) -> NDArray[np.float64]:
        a = np.asarray(rec[name].values, dtype=np.float64)
        _nan_check(a, name, where, tk, lat, lon)
        return a

    def at_kb(a: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.take_along_axis(a, kb[None], 0)[0]

    # reference (surface-layer) temperature, pressure, density
    if T is not None:
        t_b = at_kb(T)
        p_b = at_kb(np.broadcast_to(p_pa, h.shape)) if p_pa is not None else 1e5 * np.exp(-G0 * hb / (R_D * t_b))
        p_s = p_b * np.exp(G0 * hb / (R_D * t_b))  # hypsometric, from the lowest level to the ground
        if "t2m" in has:
            t_s = get("t2m")
            theta_s = t_s * (1e5 / p_s) ** KAPPA_AIR
            z_ref = np.full((ny, nx), 2.0)
        else:
            t_s = t_b
            theta_s = t_b * (1e5 / p_b) ** KAPPA_AIR
            z_ref = hb
        rho = p_s / (R_D * t_s)
        theta = T * (1e5 / np.broadcast_to(p_pa, h.shape)) ** KAPPA_AIR if p_pa is not None else T + G0 / CP * h
    else:
        t_s = np.full((ny, nx), _ISA_T0)
        theta_s, rho, theta, z_ref = t_s, np.full((ny, nx), 1.225), None, hb

    # u*
    if "ustar" in has:
        ustar = get("ustar")
    elif u10 is not None and v10 is not None:
        ustar = VON_KARMAN * np.hypot(u10, v10) / np.log(10.0 / z0)
    else:
        ustar = VON_KARMAN * np.hypot(ub, vb) / np.log(np.maximum(hb, 1.001 * z0) / z0)
    us = np.maximum(ustar, USTAR_FLOOR_M_S)

    # heat flux and 1/L
    if "shf" in has:
        H = get("shf")
        inv_l = -VON_KARMAN * G0 * H / (us**3 * theta_s * rho * CP)
    elif theta is not None:
        # bulk Ri of the lowest layer: reference (2 m or lowest level) to the next level up
        k2 = np.minimum(kb + (0 if "t2m" in has else 1), h.shape[0] - 1)
        z2 = np.take_along_axis(h, k2[None], 0)[0]
        th2 = np.take_along_axis(theta, k2[None], 0)[0]
        u2 = np.take_along_axis(np.asarray(rec["u"].values, np.float64), k2[None], 0)[0]
        v2 = np.take_along_axis(np.asarray(rec["v"].values, np.float64), k2[None], 0)[0]
        if "t2m" in has:  # from the ground (no wind) to the lowest level
            du2 = u2**2 + v2**2
        else:  # between the two lowest levels above ground
            du2 = (u2 - ub) ** 2 + (v2 - vb) ** 2
        dz = np.maximum(z2 - z_ref, 1.0)
        ri = G0 / theta_s * (th2 - theta_s) * dz / np.maximum(du2, 0.01)
        ri = np.clip(ri, -10.0, 0.19)
        zeta = np.where(ri < 0.0, ri, ri / (1.0 - 5.0 * ri))
        inv_l = zeta / (0.5 * (z2 + z_ref))
        H = -inv_l * us**3 * theta_s * rho * CP / (VON_KARMAN * G0)
    else:
        H = np.zeros((ny, nx))
        inv_l = np.zeros((ny, nx))

    # mixing height
    if "blh" in has:
        hmix = get("blh")
    elif theta is not None:
        u_all = np.asarray(rec["u"].values, np.float64)
        v_all = np.asarray(rec["v"].values, np.float64)
        hmix = np.full((ny, nx), np.nan)
        ri_prev = np.zeros((ny, nx))
        z_prev = z_ref.copy()
        for lv in range(h.shape[0]):
            above = (h[lv] > z_ref) & (lv >= kb)
            ri = G0 / theta_s * (theta[lv] - theta_s) * (h[lv] - z_ref) / (
                u_all[lv] ** 2 + v_all[lv] ** 2 + RI_USTAR_WEIGHT * us**2)
            hit = above & np.isnan(hmix) & (ri >= RI_CRITICAL)
            f = np.clip((RI_CRITICAL - ri_prev) / np.where(ri > ri_prev, ri - ri_prev, 1.0), 0.0, 1.0)
            hmix = np.where(hit, z_prev + f * (h[lv] - z_prev), hmix)
            ri_prev = np.where(above, ri, ri_prev)
            z_prev = np.where(above, h[lv], z_prev)
        hmix = np.where(np.isnan(hmix), h[-1], hmix)
        hmix = np.clip(hmix, *MIXING_HEIGHT_BOUNDS_M)
    else:
        assert mixing_height_m is not None
        hmix = np.full((ny, nx), float(mixing_height_m))

    wstar = np.where(H > 0.0, np.cbrt(np.maximum(G0 * H * hmix / (rho * CP * theta_s), 0.0)), 0.0)
    precip = get("precip") if "precip" in has else np.zeros((ny, nx))
    out = np.stack([hmix, ustar, inv_l, wstar, np.maximum(precip, 0.0)]).astype(np.float32)
    return out
