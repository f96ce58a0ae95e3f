"""Units of the variables of 3-D met files, converted to the normalised 3-D dataset's.

:func:`_factor` gives the scale, offset and note that take one file variable to the
canonical unit of its field (:mod:`plumecast.met.levels_read`, whose docstring lists
the conversions): geopotential / g0, km or dam to m, degC to K, omega in hPa s-1,
the sign of a sensible heat flux positive downward (:func:`_flux_downward`: by the
GRIB centre, ECMWF's names or the standard_name), precipitation rates and amounts,
surface pressure in hPa, land-sea masks in % or WRF's XLAND. Amounts over intervals
stay amounts here (:mod:`plumecast.met.intervals` takes them to rates).
"""

from __future__ import annotations

import xarray as xr

from plumecast.met.atmosphere import G0
from plumecast.met.reader import _wind_units_factor
from plumecast.met.variables import _HPA_UNITS, _PA_UNITS, _err

_PA_S = {"pa s-1", "pa/s", "pa s**-1", "pa s^-1", "pascal/s", "pa.s-1"}
_HPA_S = {"hpa s-1", "hpa/s", "mb/s", "hpa s**-1"}
_GEOPOT_UNITS = {"m2 s-2", "m**2 s**-2", "m^2 s^-2", "m2/s2", "m^2/s^2", "m2 s**-2"}
_METRE_UNITS = {"m", "gpm", "meter", "metre", "meters", "metres", "m above sea level", "gp m"}
_KM_UNITS = {"km"}
_DAM_UNITS = {"dam", "gpdam", "decameter", "decametre", "decameters", "decametres"}
_KELVIN = {"k", "kelvin", "degk", "deg k"}
_CELSIUS = {"degc", "c", "celsius", "deg c", "degrees_celsius", "degree_celsius"}
_FLUX_W = {"w m-2", "w m**-2", "w/m2", "w/m^2", "w m^-2"}
_FLUX_J = {"j m-2", "j m**-2", "j/m2", "j m^-2"}
_RATE_S = {"kg/m^2/s", "kg m-2 s-1", "kg m**-2 s**-1", "kg/m2/s", "kg m^-2 s^-1", "mm s-1", "mm/s", "kg/(m2 s)"}
_RATE_H = {"mm h-1", "mm/h", "mm hr-1", "mm/hr", "mm h**-1"}
_ACC_MM = {"mm", "kg m-2", "kg m**-2", "kg/m2", "kg/m^2", "kg m^-2", "kg/m**2"}
_FRACTION_UNITS = {"", "1", "(0 - 1)", "0-1", "(0-1)", "fraction", "proportion", "dimensionless", "-", "~"}


#: ECMWF's names of its sensible heat flux, positive downward (ECMWF's convention for
#: every flux); NCEP's SHTFL, which ecCodes decodes under the same names (GRIB 2 0/0/11),
#: is positive upward: the GRIB centre decides (:func:`_flux_downward`).
_DOWNWARD_FLUX_NAMES = ("sshf", "ishf", "avg_ishf")
#: GRIB centres whose fluxes are positive upward (NCEP: GFS, GEFS, NAM, HRRR) and downward (ECMWF).
_UPWARD_CENTRES = ("kwbc",)
_DOWNWARD_CENTRES = ("ecmf",)


def _units(da: xr.DataArray) -> str:
    return str(da.attrs.get("units", "")).strip().lower()


def _flux_downward(low: str, std: str, centre: str) -> tuple[bool, str]:
    """Whether a sensible heat flux is positive downward, and why: by the GRIB centre
    where the file names one (NCEP ``kwbc``: upward, its SHTFL; ECMWF ``ecmf``:
    downward), else by ECMWF's names, else by the CF standard_name."""
    if centre in _UPWARD_CENTRES:
        return False, f"positive upward: NCEP, GRIB centre {centre}"
    if centre in _DOWNWARD_CENTRES:
        return True, f"downward positive in the file: ECMWF, GRIB centre {centre}"
    if low in _DOWNWARD_FLUX_NAMES:
        return True, "downward positive in the file: ECMWF's name"
    if std == "surface_downward_sensible_heat_flux":
        return True, "downward positive in the file: its standard_name"
    return False, ""


def _factor(kind: str, da: xr.DataArray, name: str, path: str, centre: str = "") -> tuple[float, float, str]:
    """(scale, offset, note) converting the file variable to the canonical unit; for
    the quantities over intervals an amount stays an amount (mm, J m-2), taken to a
    rate by :func:`plumecast.met.intervals.interval_means`."""
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
        if units in _DAM_UNITS:
            return 10.0, 0.0, "dam to m"
        raise _err(path, f"{name!r} (geopotential or height) has {_units_text(da)}; "
                         "expected m2 s-2 (geopotential), m or dam (geopotential height, orography)")
    if kind == "vert":
        is_w = units in ("m s-1", "m/s", "m s**-1")
        if (is_w and std == "lagrangian_tendency_of_air_pressure") or (
                (units in _PA_S or units in _HPA_S) and std == "upward_air_velocity"):
            raise _err(path, f"{name!r} (vertical motion) has standard_name {std!r} but units "
                             f"{da.attrs.get('units')!r}; expected units that agree with it (Pa s-1 for omega, "
                             "lagrangian_tendency_of_air_pressure; m s-1 for w, upward_air_velocity)")
        if units in _PA_S or (std == "lagrangian_tendency_of_air_pressure" and not is_w):
            return 1.0, 0.0, "omega"
        if units in _HPA_S:
            return 100.0, 0.0, "omega, hPa s-1 to Pa s-1"
        if is_w or std == "upward_air_velocity":
            return 1.0, 0.0, ""
        raise _err(path, f"{name!r} (vertical motion) has {_units_text(da)}; expected Pa s-1 "
                         "(omega) or m s-1 (w)")
    if kind in ("t", "theta", "t2m"):
        if units in _KELVIN or units == "":
            return 1.0, 0.0, ""
        if units in _CELSIUS:
            return 1.0, 273.15, "degC to K"
        raise _err(path, f"{name!r} (temperature) has {_units_text(da)}; expected K")
    if kind == "blh":
        if units in _METRE_UNITS or units == "":
            return 1.0, 0.0, ""
        if units in _KM_UNITS:
            return 1000.0, 0.0, "km to m"
        raise _err(path, f"{name!r} (mixing height) has {_units_text(da)}; expected m")
    if kind == "shf":
        down, why = _flux_downward(low, std, centre)
        sign = -1.0 if down else 1.0
        turned = f"sign flipped ({why})" if down else why
        if units in _FLUX_W or units in _FLUX_J:  # J m-2: an accumulation, made a rate by met/intervals.py
            return sign, 0.0, turned
        raise _err(path, f"{name!r} (sensible heat flux) has {_units_text(da)}; expected W m-2 "
                         "(or an accumulation in J m-2)")
    if kind == "solar":
        if units in _FLUX_W or units in _FLUX_J:
            return 1.0, 0.0, ""
        raise _err(path, f"{name!r} (solar radiation at the ground) has {_units_text(da)}; expected "
                         "W m-2 (or an accumulation in J m-2)")
    if kind == "precip":
        if units in _RATE_S:
            return 3600.0, 0.0, "kg m-2 s-1 to mm h-1"
        if units in _RATE_H:
            return 1.0, 0.0, ""
        if units == "m":
            return 1000.0, 0.0, "m to mm"
        if units in _ACC_MM:
            return 1.0, 0.0, ""
        raise _err(path, f"{name!r} (precipitation) has {_units_text(da)}; expected kg m-2 s-1, "
                         "mm h-1, or an accumulation in m (ECMWF tp), mm or kg m-2")
    if kind == "sp":
        if units in _PA_UNITS:
            return 1.0, 0.0, ""
        if units in _HPA_UNITS:
            return 100.0, 0.0, "hPa to Pa"
        raise _err(path, f"{name!r} (surface pressure) has {_units_text(da)}; expected Pa or hPa")
    if kind == "land":
        if low == "xland":  # WRF: 1 land, 2 water
            return -1.0, 2.0, "WRF XLAND (1 land, 2 water) to a land fraction"
        if units in ("%", "percent"):
            return 0.01, 0.0, "% to a fraction"
        if units in _FRACTION_UNITS:
            return 1.0, 0.0, ""
        raise _err(path, f"{name!r} (land-sea mask) has {_units_text(da)}; expected a fraction 0..1 "
                         "(units 1, (0 - 1) or none) or %")
    raise AssertionError(kind)


def _units_text(da: xr.DataArray) -> str:
    """``units 'km'``, or, without a units attribute, that it has none and what its long
    name says (NOMADS' OpenDAP files give the units only there: ``'** geopotential height
    [gpm]'``), for the messages of the unit checks."""
    units = da.attrs.get("units")
    if units is not None:
        return f"units {units!r}"
    long = da.attrs.get("long_name")
    return "no units attribute" + (f" (long_name {str(long).strip()!r}; give the units as a CF 'units' attribute)"
                                   if long else "")
