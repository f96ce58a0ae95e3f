"""Plausibility checks of the normalised 3-D met (:mod:`plumecast.met.levels_read`),
made on each record as it is read (:func:`plumecast.met.levels.wind_grid_3d`): NaN
inside the domain, and values outside generous physical ranges (undeclared fill
values, wrong units), each refused in one message naming the file, the file's
variable, the time, the point and the value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.met.reader import MAX_WIND_M_S
from plumecast.met.variables import _err, nonfinite_count

__all__ = ["PLAUSIBLE_RANGES", "check_field", "check_winds", "ground_check", "nan_check"]


#: Plausible ranges of the fields of the normalised 3-D dataset, in its units (lower,
#: upper, what): a value outside is an undeclared fill value (1e20, 9.999e20, -9999,
#: -32767 ...) or wrong units, and the record is refused when it is read
#: (:func:`plumecast.met.levels.wind_grid_3d`: every record a run reads, and every
#: record in ``plumecast met check`` up to :data:`plumecast.met.check.CHECK_BYTES`).
#: Each is a generous physical bound, far beyond what the atmosphere does, so that no
#: real ERA5, GFS or WRF field comes near it; values under the ground (extrapolated by
#: ERA5 and GFS, anything in other products) are never used and not checked, as NaN
#: there is not. Winds: :data:`MAX_WIND_M_S` on the speed.
PLAUSIBLE_RANGES: dict[str, tuple[float, float, str]] = {
    # geopotential height above sea level [m]: the 1000 hPa level lies at most about 1,100 m
    # below sea level (870 hPa at sea level, Typhoon Tip 1979, the lowest observed); GFS's
    # highest pressure level (0.01 hPa) is near 80 km
    "gh": (-5_000.0, 100_000.0, "geopotential height"),
    # ground height [m]: the Dead Sea shore, 430 m below sea level, to Everest, 8,849 m
    "zs": (-1_000.0, 9_000.0, "ground height"),
    # vertical velocity [m s-1]: the strongest thunderstorm updraughts are some tens of m s-1
    "w": (-100.0, 100.0, "vertical velocity"),
    # omega [Pa s-1]: 100 m s-1 in air of 1.5 kg m-3 (omega = -rho g w)
    "omega": (-1_500.0, 1_500.0, "vertical velocity (omega)"),
    # air temperature [K]: the coldest air, the summer polar mesopause (near 90 km), is
    # above 100 K; the hottest at the ground 330 K (56.7 degC, Death Valley 1913, WMO)
    "t": (50.0, 400.0, "air temperature"),
    "t2m": (50.0, 400.0, "2 m temperature"),
    # potential temperature [K]: about 5,500 K at 0.01 hPa (GFS's top level)
    "theta": (50.0, 10_000.0, "potential temperature"),
    # mixing height [m]: the boundary layer lies in the troposphere, whose top is at most
    # about 18 km (tropics); deep convective boundary layers reach some 5 km
    "blh": (0.0, 20_000.0, "mixing height"),
    # friction velocity [m s-1]: kappa U / ln(z / z0), a fraction of the wind: half of
    # MAX_WIND_M_S; tiny negatives of packing or regridding noise pass
    "ustar": (-0.01, 100.0, "friction velocity"),
    # sensible heat flux [W m-2]: the sun gives at most 1,361 W m-2 (the total solar
    # irradiance, Kopp & Lean 2011, Geophys. Res. Lett. 38, L01706); fluxes observed and
    # modelled stay within about +-1,000 W m-2
    "shf": (-5_000.0, 5_000.0, "sensible heat flux"),
    # solar radiation at the ground [W m-2]: at most the total solar irradiance (above);
    # ERA5's hourly accumulations may hold tiny negatives (read as 0)
    "solar": (-10.0, 2_000.0, "solar radiation at the ground"),
    # surface pressure [Pa]: sea-level extremes 870 hPa (Typhoon Tip, 1979) and 1,084 hPa
    # (Agata, Siberia, 1968; WMO Archive of Weather and Climate Extremes); some 330 hPa
    # on the summit of Everest
    "sp": (25_000.0, 110_000.0, "surface pressure"),
    # precipitation [mm h-1]: the world record, 305 mm in 42 min (Holt, Missouri, 1947;
    # WMO Archive of Weather and Climate Extremes); tiny negatives (read as 0) pass
    "precip": (-1.0, 1_000.0, "precipitation"),
}

_FILL_HINT = ("an undeclared fill value (declare it with _FillValue or missing_value on the variable) or wrong "
              "units")


def _file_var(da: xr.DataArray | None, name: str) -> tuple[str, str]:
    """The file variable a normalised field came from and its conversion ('' if none)."""
    if da is None:
        return name, ""
    return str(da.attrs.get("plumecast_var", name)), str(da.attrs.get("plumecast_conversion", ""))


def _at(idx: NDArray[Any], lat: NDArray[Any], lon: NDArray[Any], levels: NDArray[Any] | None,
        level_unit: str) -> str:
    """The point of index ``idx`` ((level,) lat, lon) for a message: ``lat=45, lon=-7, 850 hPa``."""
    j, i = int(idx[-2]), int(idx[-1])
    text = f"lat={lat[j]:g}, lon={lon[i]:g}"
    if idx.size == 3:
        k = int(idx[0])
        text += f", {levels[k]:g} {level_unit}" if levels is not None else f", level index {k}"
    return text


def range_check(arr: NDArray[Any], name: str, da: xr.DataArray | None, where: str, time: Any,
                 lat: NDArray[Any], lon: NDArray[Any], allowed: NDArray[np.bool_] | None = None,
                 levels: NDArray[Any] | None = None, level_unit: str = "hPa") -> None:
    """Refuse a value of the normalised field ``name`` outside :data:`PLAUSIBLE_RANGES`,
    naming the file (``where``), the file's variable, the time, the point and the value.
    ``allowed``: points not checked (under the ground)."""
    lo, hi, what = PLAUSIBLE_RANGES[name]
    bad = (arr < lo) | (arr > hi)
    if allowed is not None:
        bad &= ~allowed
    if not bad.any():
        return
    idx = np.argwhere(bad)[0]
    value = float(arr[tuple(idx)])
    unit = str(da.attrs.get("units", "")) if da is not None else ""
    var, conv = _file_var(da, name)
    raise _err(where, f"{var!r} ({what}) is {value:.3g} {unit}{f' ({conv})' if conv else ''} at {time}, "
                      f"{_at(idx, lat, lon, levels, level_unit)}; expected {lo:,g} to {hi:,g} {unit}, a generous "
                      f"physical range: a value outside is {_FILL_HINT}")


def wind_check(u: NDArray[Any], v: NDArray[Any], names: tuple[str, str], das: tuple[xr.DataArray | None, ...],
                wheres: tuple[str, str], time: Any, lat: NDArray[Any], lon: NDArray[Any],
                allowed: NDArray[np.bool_] | None = None, levels: NDArray[Any] | None = None,
                level_unit: str = "hPa") -> None:
    """Refuse a wind speed above :data:`MAX_WIND_M_S`, as the single-level reader does,
    naming the file of the component that is out of bounds."""
    speed = np.hypot(u, v)
    bad = speed > MAX_WIND_M_S
    if allowed is not None:
        bad &= ~allowed
    if not bad.any():
        return
    idx = np.argwhere(bad)[0]
    at = tuple(idx)
    uv = (float(u[at]), float(v[at]))
    worst = 0 if abs(uv[0]) >= abs(uv[1]) else 1
    var = [_file_var(d, n)[0] for d, n in zip(das, names, strict=True)]
    raise _err(wheres[worst], f"wind speed from {var[0]!r}/{var[1]!r} is {float(speed[at]):.3g} m s-1 at {time}, "
                              f"{_at(idx, lat, lon, levels, level_unit)} ({var[0]} = {uv[0]:.3g}, {var[1]} = "
                              f"{uv[1]:.3g} m s-1); expected winds below {MAX_WIND_M_S:g} m s-1 (above any observed "
                              f"on Earth): a faster one is {_FILL_HINT}")


def check_field(arr: NDArray[Any], name: str, da: xr.DataArray | None, where: str, time: Any,
                 lat: NDArray[Any], lon: NDArray[Any], allowed: NDArray[np.bool_] | None = None,
                 levels: NDArray[Any] | None = None, level_unit: str = "hPa", nan_name: str | None = None) -> None:
    """:func:`nan_check` then :func:`range_check` of the normalised field ``name``;
    the usual case (no NaN, every value in range) costs two reductions."""
    lo, hi, _what = PLAUSIBLE_RANGES[name]
    if name == "blh" and da is not None and da.attrs.get("plumecast_units") == "no units":
        _km_without_units(arr, da, where, time)
    if arr.size == 0 or (arr.min() >= lo and arr.max() <= hi):  # False with a NaN
        return
    nan_check(arr, nan_name or name, where, time, lat, lon, allowed, levels, level_unit)
    range_check(arr, name, da, where, time, lat, lon, allowed, levels, level_unit)


#: Below this everywhere, a mixing height without units is taken for km: ERA5's ``blh`` has a floor
#: of about 10 m in the stablest nights, and a field of a whole domain never stays under it.
_BLH_KM_BELOW_M = 20.0


def _km_without_units(arr: NDArray[Any], da: xr.DataArray, where: str, time: Any) -> None:
    """Refuse a mixing height without a units attribute whose every value is under
    :data:`_BLH_KM_BELOW_M`: it holds km (0.8), read as m it would keep a run's gas in a
    layer of a metre (met audit, session 42, D7)."""
    top = float(np.nanmax(arr)) if arr.size else math.nan
    if 0.0 < top < _BLH_KM_BELOW_M:
        var, _ = _file_var(da, "blh")
        raise _err(where, f"{var!r} (mixing height) has no units and is at most {top:.3g} everywhere at {time}: "
                          f"as m that is under {_BLH_KM_BELOW_M:g} m over the whole domain, so it is likely km; "
                          "expected a units attribute (m or km) on the variable")


#: Median gap [m] between the ground of the orography and the ground the surface pressure puts on the levels'
#: geopotential beyond which the two are refused as disagreeing: they agree to some tens of metres in ERA5 and
#: GFS (the hypsometric reading's error); a surface geopotential labelled m is 9.8 times too high.
GROUND_GAP_M = 300.0


def ground_check(zs: NDArray[Any], z_sp: NDArray[Any], da: xr.DataArray | None, where: str, time: Any,
                 lat: NDArray[Any], lon: NDArray[Any]) -> None:
    """Refuse an orography ``zs`` [m] whose median gap from ``z_sp``, the ground the surface pressure gives on
    the levels' geopotential (:func:`plumecast.met.levels.ground_from_surface_pressure`), exceeds
    :data:`GROUND_GAP_M`: a surface geopotential labelled m had been read as a ground 9.8 times too high
    (met audit, session 42, D7), which the plausible range of heights cannot catch below about 900 m.
    :func:`plumecast.met.levels.wind_grid_3d` makes it on the first record it reads of each file (a units label
    is a file's), not on every record (:mod:`plumecast.met.ground_once`)."""
    gap = zs - z_sp
    ok = np.isfinite(gap)
    if not ok.any() or abs(float(np.median(gap[ok]))) <= GROUND_GAP_M:
        return
    var, conv = _file_var(da, "zs")
    units = str(da.attrs.get("plumecast_units", da.attrs.get("units", ""))) if da is not None else ""
    j, i = np.unravel_index(int(np.argmax(np.where(ok, np.abs(gap), -1.0))), gap.shape)
    raise _err(where, f"{var!r} (surface height, units {units or 'none'}{f', {conv}' if conv else ''}) puts the "
                      f"ground at {float(np.median(zs[ok])):,.0f} m (median) at {time}, where the surface pressure on "
                      f"the levels' geopotential puts it at {float(np.median(z_sp[ok])):,.0f} m; e.g. lat="
                      f"{lat[j]:g}, lon={lon[i]:g}: {float(zs[j, i]):,.0f} against {float(z_sp[j, i]):,.0f} m; "
                      f"expected the two within {GROUND_GAP_M:g} m: check the variable's units (m2 s-2 for surface "
                      "geopotential, m for orography)")


def check_winds(u: NDArray[Any], v: NDArray[Any], names: tuple[str, str], das: tuple[xr.DataArray | None, ...],
                 wheres: tuple[str, str], time: Any, lat: NDArray[Any], lon: NDArray[Any],
                 allowed: NDArray[np.bool_] | None = None, levels: NDArray[Any] | None = None,
                 level_unit: str = "hPa") -> None:
    """:func:`nan_check` of each component, then :func:`wind_check`; the usual case
    (no NaN, no speed near the bound) costs four reductions."""
    if u.size == 0 or math.hypot(max(u.max(), -u.min()), max(v.max(), -v.min())) <= MAX_WIND_M_S:
        return  # (NaN compares False)
    for a, n, w in zip((u, v), names, wheres, strict=True):
        nan_check(a, n, w, time, lat, lon, allowed, levels, level_unit)
    wind_check(u, v, names, das, wheres, time, lat, lon, allowed, levels, level_unit)


def nan_check(arr: NDArray[Any], name: str, where: str, time: Any, lat: NDArray[Any], lon: NDArray[Any],
               allowed: NDArray[np.bool_] | None = None, levels: NDArray[Any] | None = None,
               level_unit: str = "hPa") -> None:
    """Refuse NaN in ``arr`` (but at ``allowed`` points), naming the file ``where``, the
    time, the first point and, on levels, its level (``levels``, in ``level_unit``)."""
    bad = ~np.isfinite(arr)
    if allowed is not None:
        bad &= ~allowed
    if bad.any():
        idx = np.argwhere(bad)[0]
        raise _err(where, f"{nonfinite_count(arr, bad)} of {name!r} inside the domain at {time}; first at "
                          f"{_at(idx, lat, lon, levels, level_unit)}; expected complete fields (fill or crop the gaps)")
