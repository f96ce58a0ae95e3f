"""Met files that had been misread or refused unclearly (met audit 42b): a surface or orography file on
another grid, height levels in feet, projected x/y read as degrees, precipitation under names or
conventions plumecast had not recognised, and forecast accumulations taken for ERA5's hourly amounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, open_wind, wind_grid_3d
from plumecast.met.levels import G0, standard_atmosphere_height_m

LEV = np.array([1000.0, 925.0, 850.0, 700.0, 500.0])
LAT = np.arange(40.0, 60.1, 1.0)
LON = np.arange(0.0, 20.1, 1.0)


def _times(n: int, step_h: float = 1.0) -> np.ndarray:
    return (np.datetime64("2026-03-01T00", "ns") + (np.arange(n) * step_h * 3600).astype("timedelta64[s]")
            ).astype("datetime64[ns]")


def _levels(path: Path, n: int = 4, step_h: float = 1.0, lat: np.ndarray = LAT, lon: np.ndarray = LON) -> Path:
    """ERA5-style winds on LEV: u = 10, v = 5 m s-1, standard-atmosphere geopotential."""
    shape = (n, LEV.size, lat.size, lon.size)
    z = np.broadcast_to(standard_atmosphere_height_m(LEV)[None, :, None, None] * G0, shape)
    dims = ("valid_time", "pressure_level", "latitude", "longitude")
    xr.Dataset({"u": (dims, np.full(shape, 10.0, np.float32), {"units": "m s**-1"}),
                "v": (dims, np.full(shape, 5.0, np.float32), {"units": "m s**-1"}),
                "z": (dims, z.astype(np.float32), {"units": "m**2 s**-2", "standard_name": "geopotential"})},
               coords={"valid_time": _times(n, step_h), "pressure_level": ("pressure_level", LEV, {"units": "hPa"}),
                       "latitude": lat, "longitude": lon}).to_netcdf(path)
    return path


def _single(path: Path, fields: dict[str, tuple[Any, dict[str, str]]], n: int = 4, step_h: float = 1.0,
            lat: np.ndarray = LAT, lon: np.ndarray = LON, attrs: dict[str, str] | None = None) -> Path:
    """A single-level file of ``fields`` (name -> (values per record or a constant, attrs)), with 10 m winds."""
    dims = ("valid_time", "latitude", "longitude")
    shape = (n, lat.size, lon.size)

    def full(x: Any) -> np.ndarray:
        a = np.asarray(x, np.float32)
        return np.broadcast_to(a.reshape(a.shape + (1, 1)) if a.ndim == 1 else a, shape).astype(np.float32)

    data = {"u10": (dims, full(6.0), {"units": "m s**-1"}), "v10": (dims, full(3.0), {"units": "m s**-1"})}
    data.update({k: (dims, full(v), a) for k, (v, a) in fields.items()})
    xr.Dataset(data, coords={"valid_time": _times(n, step_h), "latitude": lat, "longitude": lon},
               attrs=attrs or {}).to_netcdf(path)
    return path


def _precip(tmp_path: Path, fields: dict[str, tuple[Any, dict[str, str]]], n: int = 4, step_h: float = 1.0,
            attrs: dict[str, str] | None = None) -> tuple[np.ndarray, str]:
    """The precipitation [mm h-1] read at each record (0, 0) and the provenance's precipitation line."""
    lev = _levels(tmp_path / "pl.nc", n, step_h)
    sl = _single(tmp_path / "sl.nc", {"blh": (800.0, {"units": "m"}), **fields}, n, step_h, attrs=attrs)
    ds = open_met_3d([lev, sl])
    g = wind_grid_3d(ds, records=(0, n))
    line = next(p for p in g.provenance if p.startswith("precipitation"))
    assert g.surface is not None
    return np.asarray(g.surface[:, 4, 0, 0], np.float64), line


# --------------------------------------------------------------------------- D4, D8a: grids


def test_a_surface_file_on_a_finer_grid_is_refused_naming_both_grids(tmp_path: Path) -> None:
    # the size comparison came after np.allclose, which raised a broadcast ValueError (a traceback)
    lev = _levels(tmp_path / "pl.nc")
    fine = np.arange(40.0, 60.01, 0.5)
    sl = _single(tmp_path / "sl.nc", {"blh": (800.0, {"units": "m"})}, lat=fine, lon=np.arange(0.0, 20.01, 0.5))
    with pytest.raises(MetDataError, match=r"sl\.nc: surface fields on another lat grid \(40\.\.60 step 0\.5, 41 "
                                           r"values\) than the level fields of pl\.nc \(40\.\.60 step 1, 21 values\)"):
        open_met_3d([lev, sl])


def test_an_orography_file_without_time_on_another_grid_is_refused_in_one_line(tmp_path: Path) -> None:
    lev = _levels(tmp_path / "pl.nc")
    orog = tmp_path / "orog.nc"
    xr.Dataset({"z": (("latitude", "longitude"), np.full((11, 21), 980.0, np.float32),
                      {"units": "m**2 s**-2", "standard_name": "surface_geopotential"})},
               coords={"latitude": np.arange(45.0, 55.1, 1.0), "longitude": LON}).to_netcdf(orog)
    with pytest.raises(MetDataError, match=r"orog\.nc: surface fields on another lat grid \(45\.\.55 step 1, 11 "
                                           r"values\) than the level fields of pl\.nc \(40\.\.60 step 1, 21"):
        open_met_3d([lev, orog])


def test_files_of_a_set_on_shifted_grids_of_one_size_are_told_apart_by_their_ranges(tmp_path: Path) -> None:
    # had said "dimension 'lat' differs from a.nc's (21 vs 21 values)"
    a = _levels(tmp_path / "a.nc", n=2)
    b = tmp_path / "b.nc"
    _levels(tmp_path / "tmp.nc", n=2, lat=LAT + 1.0)
    with xr.open_dataset(tmp_path / "tmp.nc") as ds:
        ds.assign_coords(valid_time=ds["valid_time"] + np.timedelta64(2, "h")).to_netcdf(b)
    for reader in (open_met_3d, open_wind):
        with pytest.raises(MetDataError, match=r"b\.nc: dimension '(lat|latitude)' differs from a\.nc's \(21 vs 21 "
                                               r"values: 41\.\.61 step 1 vs 40\.\.60 step 1\)"):
            reader([a, b])


# --------------------------------------------------------------------------- D5, D8c: height levels

HEIGHTS_M = np.array([10.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0])


def _height_file(path: Path, name: str, values: np.ndarray, attrs: dict[str, str]) -> Path:
    """u = 2 + 5 (true height / 1000 m) [m s-1] on height levels ``name`` written as ``values`` with ``attrs``."""
    shape = (2, HEIGHTS_M.size, LAT.size, LON.size)
    u = np.broadcast_to((2.0 + 5.0 * HEIGHTS_M / 1000.0)[None, :, None, None], shape).astype(np.float32)
    dims = ("time", name, "lat", "lon")
    xr.Dataset({"u": (dims, u, {"units": "m s-1"}), "v": (dims, 0 * u, {"units": "m s-1"})},
               coords={"time": _times(2), name: (name, values, attrs), "lat": LAT, "lon": LON}).to_netcdf(path)
    return path


def _speed_at(path: Path, z: float) -> float:
    g = wind_grid_3d(open_met_3d(path), records=(0, 1))
    iz = int(np.argmin(np.abs(g.z_m - z)))
    assert abs(g.z_m[iz] - z) < 1e-3
    return float(np.sqrt((g.vec[0, iz, :3].astype(float) ** 2).sum(axis=0)).mean())


@pytest.mark.parametrize(("units", "scale"), [("m", 1.0), ("km", 1e-3), ("ft", 1 / 0.3048), ("feet", 1 / 0.3048)])
def test_height_levels_are_read_in_their_units(tmp_path: Path, units: str, scale: float) -> None:
    # feet had been read as metres: the wind of 500 m was read at 152 m (2.76 instead of 4.5 m s-1)
    p = _height_file(tmp_path / "h.nc", "height", HEIGHTS_M * scale, {"units": units, "standard_name": "height"})
    assert _speed_at(p, 500.0) == pytest.approx(4.5, abs=1e-3)


@pytest.mark.parametrize("units", ["hm", "dam", "m s-1"])
def test_height_levels_in_other_units_are_refused_naming_the_coordinate(tmp_path: Path, units: str) -> None:
    p = _height_file(tmp_path / "h.nc", "height", HEIGHTS_M, {"units": units, "standard_name": "height"})
    with pytest.raises(MetDataError, match=rf"h\.nc: height levels 'height' have the units '{units}'; expected m "
                                           r"\(or no units, read as m\), km or ft"):
        open_met_3d(p)


def test_a_coordinate_named_lev_with_standard_name_height_is_read_as_heights(tmp_path: Path) -> None:
    # had been refused as "pressure levels 'lev' have the units 'm', not a pressure"
    p = _height_file(tmp_path / "h.nc", "lev", HEIGHTS_M, {"units": "m", "standard_name": "height"})
    assert open_met_3d(p).attrs["level_type"] == "height"
    assert _speed_at(p, 500.0) == pytest.approx(4.5, abs=1e-3)


# --------------------------------------------------------------------------- D6: projected x/y


@pytest.mark.parametrize(("std", "units", "kind"), [("projection_x_coordinate", "km", "projected"),
                                                    ("", "m", "projected"),
                                                    ("grid_longitude", "degrees", "rotated-pole")])
def test_projected_x_y_are_not_taken_for_degrees(tmp_path: Path, std: str, units: str, kind: str) -> None:
    # a 20 km domain on x = 0..20 km, y = 40..60 km had been read by open_wind as 20 x 20 degrees
    x, y = np.arange(0.0, 21.0), np.arange(40.0, 61.0)
    ya = {"units": units, **({"standard_name": std.replace("x_", "y_").replace("longitude", "latitude")} if std else {})}
    xa = {"units": units, **({"standard_name": std} if std else {})}
    data = np.full((2, y.size, x.size), 5.0, np.float32)
    p = tmp_path / "xy.nc"
    xr.Dataset({"u10": (("time", "y", "x"), data, {"units": "m s-1"}),
                "v10": (("time", "y", "x"), 0 * data, {"units": "m s-1"})},
               coords={"time": _times(2), "x": ("x", x, xa), "y": ("y", y, ya)}).to_netcdf(p)
    with pytest.raises(MetDataError, match=rf"xy\.nc: the coordinate 'x' \(.*units '{units}'\) is a {kind} grid's, "
                                           "not longitude or latitude in degrees; expected a grid on longitude/"
                                           "latitude .*regrid the file to lon/lat"):
        open_wind(p)


def test_x_y_in_degrees_are_still_read_as_longitude_and_latitude(tmp_path: Path) -> None:
    data = np.full((2, LAT.size, LON.size), 5.0, np.float32)
    p = tmp_path / "xy.nc"
    xr.Dataset({"u10": (("time", "y", "x"), data, {"units": "m s-1"}),
                "v10": (("time", "y", "x"), 0 * data, {"units": "m s-1"})},
               coords={"time": _times(2), "x": ("x", LON, {"units": "degrees_east"}),
                       "y": ("y", LAT, {"units": "degrees_north"})}).to_netcdf(p)
    w = open_wind(p)
    assert float(w.lat.values[-1]) == 60.0 and float(w.lon.values[-1]) == 20.0


# --------------------------------------------------------------------------- D3: precipitation not recognised

RATE = 1.0 / 3600.0  # 1 mm h-1 in kg m-2 s-1


def test_era5_mean_total_precipitation_rate_is_read(tmp_path: Path) -> None:
    rain, line = _precip(tmp_path, {"mtpr": (RATE, {"units": "kg m**-2 s**-1"})})
    np.testing.assert_allclose(rain, 1.0, rtol=1e-5)
    assert "'mtpr'" in line and "ERA5 mean rate" in line


def test_large_scale_and_convective_precipitation_are_summed_without_tp(tmp_path: Path) -> None:
    # ERA5 lsp + cp [m], 0.3 + 0.7 mm over each hour: had been "precipitation: none in the files: 0"
    rain, line = _precip(tmp_path, {"lsp": (0.0003, {"units": "m"}), "cp": (0.0007, {"units": "m"})})
    np.testing.assert_allclose(rain, 1.0, rtol=1e-4)
    assert "'lsp'" in line and "'cp'" in line


def test_a_part_of_the_precipitation_alone_is_named_not_taken_for_the_total(tmp_path: Path) -> None:
    # WRF's convective RAINC without its grid-scale RAINNC: not the total; the provenance must not say "none"
    rain, line = _precip(tmp_path, {"RAINC": (np.arange(4.0), {"units": "mm"})})
    np.testing.assert_array_equal(rain, 0.0)
    assert "none in the files" not in line
    assert "none read, 0: the files hold precipitation that is not read ('RAINC' in sl.nc" in line


def test_an_unknown_variable_that_looks_like_precipitation_is_named(tmp_path: Path) -> None:
    lev = _levels(tmp_path / "pl.nc")
    sl = _single(tmp_path / "sl.nc", {"blh": (800.0, {"units": "m"}), "RAIN_TOT": (1.0, {"units": "mm h-1", "long_name": "rain rate"}),
                                      "HGT_terrain": (100.0, {"units": "m", "long_name": "terrain height"})})
    g = wind_grid_3d(open_met_3d([lev, sl]), records=(0, 2))
    text = "\n".join(g.provenance)
    assert "'RAIN_TOT' [mm h-1] (rain rate): precipitation not read" in text
    assert "HGT_terrain" not in text  # "terrain" is not rain
    assert "none in the files: 0" not in text


def test_gfs_apcp_from_wgrib2_without_windows_is_refused_with_the_ways_to_read_it(tmp_path: Path) -> None:
    # APCP_surface had not been recognised (a dry run); its 6-h buckets cannot be told from a wgrib2 netCDF file
    with pytest.raises(MetDataError, match=r"sl\.nc: 'APCP_surface' \[kg/m\^2\] is GFS's accumulated precipitation "
                                           r"\(APCP\).*keeps no step ranges.*expected the GRIB file itself"):
        _precip(tmp_path, {"APCP_surface": ([0.0, 3.0, 6.0, 9.0], {"units": "kg/m^2"})}, step_h=3.0)


def test_gfs_apcp_with_its_window_stated_is_read(tmp_path: Path) -> None:
    rain, _ = _precip(tmp_path, {"APCP_surface": (3.0, {"units": "kg/m^2", "cell_methods": "time: sum (interval: 3 hours)"})},
                      step_h=3.0)
    np.testing.assert_allclose(rain, 1.0, rtol=1e-5)


# --------------------------------------------------------------------------- D2: amounts under generic names

HOURLY_MM = [0.5, 1.0, 2.0, 3.5]


@pytest.mark.parametrize("method", ["time: sum (interval: 1 hour)", "valid_time: sum (interval: 60 minutes)"])
def test_an_amount_with_cf_cell_methods_is_read_over_its_interval(tmp_path: Path, method: str) -> None:
    # had been read as accumulated since the model start: 0.5, 0.5, 1, 1.5 mm h-1
    rain, line = _precip(tmp_path, {"rain": (HOURLY_MM, {"units": "kg m-2", "standard_name": "precipitation_amount",
                                                         "cell_methods": method})})
    np.testing.assert_allclose(rain, HOURLY_MM, rtol=1e-5)
    assert "(its cell_methods)" in line


def test_an_amount_since_the_start_is_read_when_the_file_says_so(tmp_path: Path) -> None:
    rain, line = _precip(tmp_path, {"precip": (np.cumsum(HOURLY_MM), {"units": "mm", "plumecast_window": "since start"})})
    np.testing.assert_allclose(rain[1:], HOURLY_MM[1:], rtol=1e-5)
    assert "since the start (its plumecast_window)" in line


def test_an_amount_whose_window_nothing_states_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MetDataError, match=r"sl\.nc: 'precip' \[mm\] is a precipitation amount, but nothing in the "
                                           r"file says over which time.*expected the window stated on the variable: "
                                           r"the CF attribute cell_methods 'time: sum \(interval: 1 hour\)'"):
        _precip(tmp_path, {"precip": (HOURLY_MM, {"units": "mm"})})


# --------------------------------------------------------------------------- D1: forecast tp taken for ERA5's


def test_forecast_tp_since_the_start_on_3_hourly_records_is_refused(tmp_path: Path) -> None:
    # an ECMWF forecast through cdo: tp [m] since the start, 1 mm h-1: had been read as 0, 3, 6, 9, 12 mm h-1
    since_start = np.arange(5) * 3.0 / 1000.0
    with pytest.raises(MetDataError, match=r"sl\.nc: 'tp' is read by its name as ERA5's hourly amounts .* 3 h or "
                                           r"more apart\) it never decreases at any point and grows.*expected the "
                                           r"GRIB file itself .*plumecast_window 'since start'"):
        _precip(tmp_path, {"tp": (since_start, {"units": "m"})}, n=5, step_h=3.0)


def test_forecast_tp_with_its_convention_stated_is_read(tmp_path: Path) -> None:
    since_start = np.arange(5) * 3.0 / 1000.0
    rain, _ = _precip(tmp_path, {"tp": (since_start, {"units": "m", "plumecast_window": "since start"})},
                      n=5, step_h=3.0)
    np.testing.assert_allclose(rain, 1.0, rtol=1e-4)


def test_era5_hourly_amounts_on_3_hourly_records_are_still_read(tmp_path: Path) -> None:
    # ERA5's hour before each of 3-hourly records: rain that rises and falls at some point is ERA5's
    lat_wave = np.sin(np.radians(LAT) * 9.0)[None, :, None] * np.ones((1, 1, LON.size))
    tp = np.maximum(0.0, (np.array([0.2, 1.0, 0.4, 0.8, 0.1])[:, None, None] + lat_wave)) / 1000.0
    rain, line = _precip(tmp_path, {"tp": (tp, {"units": "m"})}, n=5, step_h=3.0)
    np.testing.assert_allclose(rain, tp[:, 0, 0] * 1000.0, rtol=1e-4)
    assert "over the hour before the valid time (ERA5)" in line
