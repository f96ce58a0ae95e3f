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
from plumecast.met.variables import _HPA_UNITS, _PA_UNITS, _err, pressure_levels_hpa


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
                  # wz: ecCodes' and cfgrib's name of GFS's geometric vertical velocity DZDT [m s-1]
                  ("w", "wa", "dzdt", "wz", "omega", "vvel", "wap", "vertical_velocity"), r"^(vvel|dzdt)"),
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
                    ("tp", "prate", "avg_prate", "tprate", "avg_tprate", "mtpr", "pr", "precip", "rainnc",
                     "precipitation", "apcp"), r"^(prate|apcp)"),
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
#: ecCodes' short names of those fields (a netCDF copy may keep the name without the codes).
_GRIB2_SHORT_NAMES = {v[0]: v for v in _GRIB2_CODES.values()}


def _unknown_grib_field(da: xr.DataArray, name: str) -> bool:
    """A field that ecCodes could not name (cfgrib calls it ``unknown``, with paramId 0):
    GFS's HPBL, other NCEP-local parameters."""
    a = da.attrs
    return (name.lower() == "unknown" or str(a.get("GRIB_shortName", "")).lower() == "unknown"
            or ("GRIB_paramId" in a and str(a["GRIB_paramId"]).strip() == "0"))


def identify_unknown(data: dict[str, xr.DataArray]) -> list[str]:
    """The fields of ``data`` (name -> variable, changed in place) that ecCodes could not
    name, taken by their GRIB 2 codes (``GRIB_discipline``, ``GRIB_parameterCategory``,
    ``GRIB_parameterNumber``: :data:`_GRIB2_CODES`) or their ``GRIB_shortName``
    (``hpbl``) under the name plumecast reads (``hpbl``), as the GRIB reader reads them
    (it asks cfgrib for the codes); the others are dropped and returned in words
    (``'unknown' (no GRIB codes kept)``), so that the provenance names what was not read
    (a netCDF copy made with cfgrib keeps no codes: GFS's HPBL is then a nameless field)."""
    unread = []
    for n in [n for n, da in data.items() if _unknown_grib_field(da, n)]:
        a = data[n].attrs
        code = tuple(a.get(k) for k in ("GRIB_discipline", "GRIB_parameterCategory", "GRIB_parameterNumber"))
        known = _GRIB2_CODES.get(code) if None not in code else None  # type: ignore[arg-type]
        known = known or _GRIB2_SHORT_NAMES.get(str(a.get("GRIB_shortName", "")).lower())
        da = data.pop(n)
        if known is not None:
            data.setdefault(known[0], da.assign_attrs(units=known[1]).rename(known[0]))
            continue
        level = str(a.get("GRIB_typeOfLevel", ""))
        why = (f"GRIB 2 code {'/'.join(str(c) for c in code)}, not a field plumecast reads" if None not in code
               else "ecCodes gave it no name and the file keeps no GRIB codes (GRIB_discipline, "
                    "GRIB_parameterCategory, GRIB_parameterNumber) to tell what it is: GFS's mixing height HPBL, "
                    "0/3/196, comes so in a cfgrib copy; give the GRIB file, or copy it with cfgrib's backend_kwargs "
                    "read_keys=['discipline', 'parameterCategory', 'parameterNumber']")
        unread.append(f"{n!r}{f' on {level}' if level else ''} ({why})")
    return unread


_PRESSURE_NAMES = ("level", "pressure_level", "isobaricinhpa", "isobaricinpa", "plev", "lev", "pressure",
                   "lv_isbl0", "pres", "interp_level", "num_press_levels")
_HEIGHT_NAMES = ("height", "heightaboveground", "height_above_ground")
#: names of level coordinates that are heights above sea level (CF ``altitude``). GRIB's ``heightAboveSea``
#: is not among them: GFS's few levels of it (1829, 2743 m ...) are refused with the way to its pressure levels
_SEA_LEVEL_NAMES = ("altitude", "height_above_sea_level", "height_above_msl")


def _above_sea_level(var: xr.DataArray, name: str) -> bool:
    """Whether the height levels ``var`` (named ``name``) are heights above sea level, not above the ground:
    CF's standard name ``altitude`` (above the geoid), a name of :data:`_SEA_LEVEL_NAMES`, or a long name
    that says so (wrf-python's interpolation to heights of ``z``, which is above sea level). Winds on such
    levels had been read as heights above ground: over a 1200-m plateau a particle took the wind 1200 m
    lower down (met audit, session 40)."""
    std = str(var.attrs.get("standard_name", "")).lower()
    if std == "height":  # CF: above the ground, whatever the coordinate's name
        return False
    if std == "altitude" or name.lower() in _SEA_LEVEL_NAMES:
        return True
    text = " ".join(str(var.attrs.get(k, "")) for k in ("long_name", "description")).lower()
    return any(w in text for w in ("sea level", "above msl", "above the geoid", " amsl", " asl"))


#: Units of height levels [m per unit]: m (also none, as WRF post writes them), km, international feet.
_HEIGHT_UNITS = {"": 1.0, "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "km": 1000.0,
                 "kilometer": 1000.0, "kilometers": 1000.0, "kilometre": 1000.0, "kilometres": 1000.0,
                 "ft": 0.3048, "feet": 0.3048, "foot": 0.3048}
_TIME_LIKE = ("time", "valid_time", "times", "xtime", "t", "step")


@dataclass
class _Vertical:
    kind: str  # "pressure" | "height" (above ground) | "altitude" (above sea level) | "surface" | "other"
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
    # a coordinate along one of the variable's dimensions before a scalar one: cfgrib's
    # hypercubes merged into one netCDF copy give every variable the others' scalar
    # levels (heightAboveGround = 10 of the 10 m wind beside u on isobaricInhPa)
    candidates.sort(key=lambda c: not (c in ds.variables and ds[c].ndim == 1 and ds[c].dims[0] in da.dims))
    for c in candidates:
        var = ds[c] if c in ds.variables else da[c]
        low, units, std = c.lower(), _units(var), var.attrs.get("standard_name", "")
        if var.ndim > 1 or low in _TIME_LIKE:
            continue
        # CF's standard_name decides before the name (a height coordinate named 'lev')
        is_h = std in ("height", "altitude") or (std != "air_pressure" and (low in _HEIGHT_NAMES
                                                                              or low in _SEA_LEVEL_NAMES))
        is_p = not is_h and (std == "air_pressure" or low in _PRESSURE_NAMES
                             or units in _PA_UNITS | _HPA_UNITS | {"kpa"})
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
        factor = _HEIGHT_UNITS.get(units)
        if factor is None and dim is not None and values.size > 1:
            raise _err(path, f"height levels {c!r} have the units {var.attrs.get('units')!r}; expected m (or no "
                             "units, read as m), km or ft")
        values = values * (factor or 1.0)
        if dim is not None and values.size > 1:
            return _Vertical("altitude" if _above_sea_level(var, c) else "height", dim, values, c)
        return _Vertical("surface", dim, values, c)
    big = [d for d in extra if da.sizes[d] > 1]
    if big:  # soil layers, model levels without a coordinate ...: not read
        return _Vertical("other", big[0], None, None)
    return _Vertical("surface", None, None, None)


#: How to get winds on pressure levels out of a whole GRIB file (GFS pgrb2 ...).
EXTRACT_PRESSURE_LEVELS = (
    "extract the pressure levels and the 10 m wind, e.g. wgrib2 FILE -match "
    "':(UGRD|VGRD|HGT|TMP|VVEL):([0-9.]+ mb|10 m above ground):' -grib out.grib2, or grib_copy -w "
    "typeOfLevel=isobaricInhPa FILE out.grib2, or the NOMADS filter (filter_gfs_0p25.pl) with the lev_..._mb "
    "levels and var_UGRD, var_VGRD, var_HGT")


def other_levels_text(ds: xr.Dataset, da: xr.DataArray, name: str, dim: str) -> str:
    """Why the winds ``name`` on dimension ``dim`` (not pressure levels, not heights
    above ground) are not read, and what to do, for a message: WRF's model levels, a
    GRIB level type such as ``heightAboveSea``, or a dimension without a coordinate."""
    if dim.lower().startswith("bottom_top"):
        return (f"{name!r} is on WRF's model levels {dim!r} (terrain-following eta levels, without a pressure or "
                "height coordinate); expected winds on pressure levels: interpolate the wrfout file to pressure "
                "levels first (p_interp, or wrf-python's vinterp or interplevel with the pressure P + PB and the "
                "geopotential PH + PHB)")
    kind = str(da.attrs.get("GRIB_typeOfLevel", ""))
    coord = ds[dim] if dim in ds.variables and ds[dim].ndim == 1 else None
    if coord is None and not kind:
        return (f"{name!r} has the dimension {dim!r} without a pressure or height coordinate; expected levels with a "
                "1-D coordinate in hPa/Pa (standard_name air_pressure) or m (standard_name height)")
    shown = ""
    if coord is not None and np.issubdtype(coord.dtype, np.number):
        x = np.asarray(coord.values, np.float64)
        shown = " (" + (", ".join(f"{v:g}" for v in x) if x.size <= 4 else f"{x.min():g}..{x.max():g}") + ")"
    level_type = f", GRIB level type {kind}" if kind else ""
    text = (f"{name!r} is on {dim!r}{shown}{level_type}, which is neither pressure (hPa/Pa, standard_name "
            "air_pressure) nor height above ground (m, standard_name height): plumecast does not read it as levels")
    return text + (f"; {EXTRACT_PRESSURE_LEVELS}" if kind else "; expected winds on pressure levels or heights above ground")


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
