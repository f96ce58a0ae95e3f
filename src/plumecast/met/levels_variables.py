"""The variables of 3-D met files: which file variable holds which field, and on
which vertical coordinate.

:func:`_match` finds each field of the normalised 3-D dataset
(:mod:`plumecast.met.levels_read`) among a file's variables by CF ``standard_name``,
then by the names ERA5, GFS and WRF post use (:data:`_LEVEL_SPECS`,
:data:`_SURFACE_SPECS`), then by a name pattern (wgrib2's ``UGRD_850mb``);
:data:`_GRIB2_CODES` names the GRIB fields ecCodes leaves "unknown".
:func:`_vertical_of` says whether a variable is on pressure levels, height levels or
none (a surface field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.met.levels_units import _units
from plumecast.met.reader import MEMBER_DIMS
from plumecast.met.variables import _HPA_UNITS, _PA_UNITS, pressure_levels_hpa


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
    # ecCodes names NCEP's SHTFL (GRIB 2 0/0/11) ishf when instantaneous, avg_ishf when averaged,
    # and DSWRF (0/4/7) averaged avg_sdswrf; ECMWF's time-mean rates are avg_<name> too
    "shf": _Spec(("surface_upward_sensible_heat_flux", "surface_downward_sensible_heat_flux"),
                 ("sshf", "ishf", "avg_ishf", "shtfl", "hfx", "hfss", "shf"), r"^shtfl"),
    "solar": _Spec(("surface_downwelling_shortwave_flux_in_air",),
                   ("ssrd", "dswrf", "sdswrf", "avg_sdswrf", "swdown", "rsds", "solar_radiation"), r"^dswrf"),
    "precip": _Spec(("precipitation_flux", "lwe_precipitation_rate", "precipitation_amount",
                     "lwe_thickness_of_precipitation_amount"),
                    ("tp", "prate", "avg_prate", "tprate", "avg_tprate", "pr", "precip", "rainnc", "precipitation"),
                    r"^prate"),
    "sp": _Spec(("surface_air_pressure",), ("sp", "ps", "psfc", "pres_sfc", "pressfc", "surface_pressure"),
                r"^pres_?(sfc|surface)"),
    "land": _Spec(("land_area_fraction", "land_binary_mask"),
                  ("lsm", "landsea", "land", "landmask", "xland", "lsmask", "sftlf", "land_sea_mask"), r"^land_?(sfc|surface)"),
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
    (0, 4, 7): ("dswrf", "W m-2"),
    (2, 0, 0): ("lsm", "(0 - 1)"),
}
_PRESSURE_NAMES = ("level", "pressure_level", "isobaricinhpa", "isobaricinpa", "plev", "lev", "pressure",
                   "lv_isbl0", "pres", "interp_level", "num_press_levels")
_HEIGHT_NAMES = ("height", "heightaboveground", "height_above_ground", "altitude")
_TIME_LIKE = ("time", "valid_time", "times", "xtime", "t", "step")


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
        is_p = std == "air_pressure" or low in _PRESSURE_NAMES or units in _PA_UNITS | _HPA_UNITS | {"kpa"}
        is_h = std in ("height", "altitude") or low in _HEIGHT_NAMES
        if not (is_p or is_h):
            continue
        values = np.atleast_1d(np.asarray(var.values, dtype=np.float64))
        dim = str(var.dims[0]) if var.ndim == 1 and str(var.dims[0]) in da.dims else None
        if is_p:
            if low == "isobaricinpa":
                values = values / 100.0
            else:
                values = pressure_levels_hpa(values, str(var.attrs.get("units", "")), c, path)
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
