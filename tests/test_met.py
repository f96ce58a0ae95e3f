"""Tests of the met readers, the shipped climatology and the analytic winds."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import (
    STEADY_TIME,
    benchmark_wind,
    check_wind_dataset,
    climatology,
    open_wind,
    solid_body_rotation,
    uniform_wind,
    write_era5_style,
    write_gfs_style,
    zonal_jet,
)
from plumecast.met.climatology import climatology_month
from plumecast.units import EARTH_RADIUS_M

LAT = np.array([-60.0, -30.0, 0.0, 30.0, 60.0])
LON180 = np.arange(-180.0, 180.0, 30.0)  # 12 columns
TIMES = np.array(["2024-03-01T00", "2024-03-01T06", "2024-03-01T12"], dtype="datetime64[ns]")


def _u(t: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A field with distinct values everywhere: u = lon/10 + lat/100 + t_index."""
    return lon[None, None, :] / 10.0 + lat[None, :, None] / 100.0 + np.arange(t.size)[:, None, None]


def _v(t: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return (
        np.sin(np.deg2rad(lon))[None, None, :] * 5.0
        + lat[None, :, None] / 30.0
        - np.arange(t.size)[:, None, None]
    )


def _expect(ds: xr.Dataset, times: np.ndarray = TIMES, atol: float = 1e-5) -> None:
    """Check ``ds`` is normalised and holds _u/_v on LAT x LON180."""
    check_wind_dataset(ds)
    np.testing.assert_array_equal(ds["lat"].values, LAT)
    np.testing.assert_array_equal(ds["lon"].values, LON180)
    np.testing.assert_array_equal(ds["time"].values, times)
    assert ds["u"].attrs["standard_name"] == "eastward_wind"
    assert ds["v"].attrs["standard_name"] == "northward_wind"
    np.testing.assert_allclose(ds["u"].values, _u(times, LAT, LON180), atol=atol)
    np.testing.assert_allclose(ds["v"].values, _v(times, LAT, LON180), atol=atol)


def _to360(lon: np.ndarray) -> np.ndarray:
    return np.mod(lon, 360.0)


# --------------------------------------------------------------------------- layouts


def test_era5_layout_levels_descending_lat_0_360(tmp_path: Path) -> None:
    lon360 = np.sort(_to360(LON180))
    lat_desc = LAT[::-1]
    levels = np.array([500.0, 850.0, 1000.0])
    base_u = _u(TIMES, lat_desc, np.where(lon360 >= 180, lon360 - 360, lon360))
    base_v = _v(TIMES, lat_desc, np.where(lon360 >= 180, lon360 - 360, lon360))
    # level k holds the field + 50*k (below the 200 m s-1 limit): the picked level shows in the values
    u = np.stack([base_u + 50 * k for k in range(3)], axis=1)
    v = np.stack([base_v + 50 * k for k in range(3)], axis=1)
    dims = ("valid_time", "pressure_level", "latitude", "longitude")
    ds = xr.Dataset(
        {
            "u": (dims, u, {"units": "m s**-1", "standard_name": "eastward_wind"}),
            "v": (dims, v, {"units": "m s**-1", "standard_name": "northward_wind"}),
        },
        coords={
            "valid_time": TIMES,
            "pressure_level": ("pressure_level", levels, {"units": "hPa"}),
            "latitude": lat_desc,
            "longitude": lon360,
        },
    )
    path = tmp_path / "era5.nc"
    ds.to_netcdf(path)

    near_ground = open_wind(path)  # default: highest pressure = 1000 hPa = index 2
    assert near_ground.attrs["level"] == "1000 hPa"
    assert near_ground.attrs["global_lon"] == 1
    assert near_ground.attrs["steady"] == 0
    np.testing.assert_allclose(near_ground["u"].values - 100, _u(TIMES, LAT, LON180), atol=1e-4)

    at500 = open_wind(path, level_hpa=500)
    _expect(at500)
    assert at500.attrs["level"] == "500 hPa"

    with pytest.raises(
        MetDataError, match=r"700 hPa not in the file; available levels \[500.0, 850.0, 1000.0\]"
    ):
        open_wind(path, level_hpa=700)


def test_gfs_10m_names_lat_lon_0_360(tmp_path: Path) -> None:
    lon360 = np.sort(_to360(LON180))
    lon_signed = np.where(lon360 >= 180, lon360 - 360, lon360)
    ds = xr.Dataset(
        {
            "ugrd10m": (
                ("time", "lat", "lon"),
                _u(TIMES, LAT, lon_signed).astype(np.float32),
                {"units": "m/s"},
            ),
            "vgrd10m": (
                ("time", "lat", "lon"),
                _v(TIMES, LAT, lon_signed).astype(np.float32),
                {"units": "m/s"},
            ),
        },
        coords={"time": TIMES, "lat": LAT, "lon": lon360},
    )
    path = tmp_path / "gfs.nc"
    ds.to_netcdf(path)
    out = open_wind(path)
    _expect(out)
    assert out.attrs["level"] == "10 m"
    assert "wrapped longitudes" in out.attrs["history"]


def test_wrf_post_2d_xlat_xlong(tmp_path: Path) -> None:
    lat2, lon2 = np.meshgrid(LAT, LON180, indexing="ij")
    times = TIMES[:1]
    ds = xr.Dataset(
        {
            "U10": (
                ("Time", "south_north", "west_east"),
                _u(times, LAT, LON180),
                {"units": "m s-1"},
            ),
            "V10": (
                ("Time", "south_north", "west_east"),
                _v(times, LAT, LON180),
                {"units": "m s-1"},
            ),
            "XLAT": (("Time", "south_north", "west_east"), lat2[None]),
            "XLONG": (("Time", "south_north", "west_east"), lon2[None]),
            "XTIME": (("Time",), times),
        }
    )
    path = tmp_path / "wrfpost.nc"
    ds.to_netcdf(path)
    out = open_wind(path)
    _expect(out, times=times)
    assert out.attrs["level"] == "10 m"
    assert out.attrs["steady"] == 1


def test_packed_int16_is_decoded(tmp_path: Path) -> None:
    u = _u(TIMES, LAT, LON180)
    v = _v(TIMES, LAT, LON180)
    ds = xr.Dataset(
        {"u": (("time", "latitude", "longitude"), u), "v": (("time", "latitude", "longitude"), v)},
        coords={"time": TIMES, "latitude": LAT, "longitude": LON180},
    )
    enc = {
        n: {"dtype": "int16", "scale_factor": 0.001, "add_offset": 0.0, "_FillValue": -32767}
        for n in ("u", "v")
    }
    path = tmp_path / "packed.nc"
    ds.to_netcdf(path, encoding=enc)
    with xr.open_dataset(path, mask_and_scale=False) as raw:
        assert raw["u"].dtype == np.int16
    _expect(open_wind(path), atol=0.0006)


def test_era5_and_gfs_writers_give_the_same_winds(tmp_path: Path) -> None:
    wind = benchmark_wind(resolution_deg=3.0)
    a = open_wind(write_era5_style(wind, tmp_path / "a.nc"))
    b = open_wind(write_gfs_style(wind, tmp_path / "b.nc"))
    with xr.open_dataset(tmp_path / "a.nc") as raw_a:
        assert raw_a["latitude"].values[0] == 90.0 and raw_a["longitude"].values.min() == 0.0
        assert "pressure_level" in raw_a["u"].dims
    with xr.open_dataset(tmp_path / "b.nc") as raw_b:
        assert "UGRD" in raw_b and raw_b["lon"].values.max() > 180.0
    for ds in (a, b):
        np.testing.assert_array_equal(ds["lat"].values, wind["lat"].values)
        np.testing.assert_array_equal(ds["lon"].values, wind["lon"].values)
        np.testing.assert_allclose(ds["u"].values, wind["u"].values, atol=1e-3)
        np.testing.assert_allclose(ds["v"].values, wind["v"].values, atol=1e-3)
    assert a.attrs["level"] == "850 hPa"
    assert wind["u"].values.flags.writeable  # the writers did not touch the input


def test_steady_file_without_time(tmp_path: Path) -> None:
    ds = xr.Dataset(
        {
            "u": (("lat", "lon"), _u(TIMES[:1], LAT, LON180)[0], {"units": "m s-1"}),
            "v": (("lat", "lon"), _v(TIMES[:1], LAT, LON180)[0], {"units": "m s-1"}),
        },
        coords={"lat": LAT, "lon": LON180},
    )
    path = tmp_path / "steady.nc"
    ds.to_netcdf(path)
    out = open_wind(path, time_window=(np.datetime64("2030-01-01"), np.datetime64("2030-01-02")))
    assert out.attrs["steady"] == 1
    _expect(out, times=np.array([STEADY_TIME]))


# --------------------------------------------------------------------------- errors


def _write_simple(
    path: Path, u: np.ndarray | None = None, names: tuple[str, str] = ("u", "v")
) -> Path:
    uu = _u(TIMES, LAT, LON180) if u is None else u
    ds = xr.Dataset(
        {
            names[0]: (("time", "lat", "lon"), uu, {"units": "m s-1"}),
            names[1]: (("time", "lat", "lon"), _v(TIMES, LAT, LON180), {"units": "m s-1"}),
        },
        coords={"time": TIMES, "lat": LAT, "lon": LON180},
    )
    ds.to_netcdf(path)
    return path


def test_time_window_inside_keeps_bracketing_records(tmp_path: Path) -> None:
    path = _write_simple(tmp_path / "t.nc")
    out = open_wind(
        path, time_window=(np.datetime64("2024-03-01T07"), np.datetime64("2024-03-01T08"))
    )
    np.testing.assert_array_equal(out["time"].values, TIMES[1:3])
    np.testing.assert_allclose(out["u"].values, _u(TIMES, LAT, LON180)[1:3], atol=1e-5)


def test_time_window_not_covered(tmp_path: Path) -> None:
    path = _write_simple(tmp_path / "t.nc")
    with pytest.raises(
        MetDataError,
        match=r"t\.nc: times 2024-03-01T00:00.*2024-03-01T12:00.*do not cover.*2024-03-02T00:00",
    ):
        open_wind(
            path, time_window=(np.datetime64("2024-03-01T06"), np.datetime64("2024-03-02T00"))
        )


def test_nan_inside_domain(tmp_path: Path) -> None:
    u = _u(TIMES, LAT, LON180)
    u[1, 2, 3] = np.nan
    u[2, 2, 4] = np.nan
    path = _write_simple(tmp_path / "nan.nc", u=u)
    with pytest.raises(
        MetDataError, match=r"nan\.nc: 2 NaN value\(s\) of 'u'.*lat 0\.\.0, lon -90\.\.-60"
    ):
        open_wind(path)


def test_no_winds_lists_variables(tmp_path: Path) -> None:
    path = _write_simple(tmp_path / "tq.nc", names=("t", "q"))
    with pytest.raises(
        MetDataError, match=r"tq\.nc: no recognisable wind.*found variables \['t', 'q'\]"
    ):
        open_wind(path)


def test_missing_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(MetDataError, match=r"nope\.nc: file not found"):
        open_wind(tmp_path / "nope.nc")
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"this is not netCDF")
    with pytest.raises(MetDataError, match=r"junk\.nc: is not a netCDF or GRIB file"):
        open_wind(junk)


def test_level_on_surface_file_is_refused(tmp_path: Path) -> None:
    path = _write_simple(tmp_path / "sfc.nc", names=("u10", "v10"))
    with pytest.raises(
        MetDataError, match=r"level_hpa=850 asked for but the winds 'u10' are at one level \(10 m\), not on pressure "
                            r"levels; expected winds on pressure levels"
    ):
        open_wind(path, level_hpa=850)


def test_grib_without_cfgrib_gives_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cfgrib", None)  # as if the [grib] extra were not installed
    path = tmp_path / "gfs.grib2"
    path.write_bytes(b"GRIB")
    with pytest.raises(MetDataError, match=r'gfs\.grib2: .*pip install "plumecast\[grib\]"'):
        open_wind(path)


# --------------------------------------------------------------------------- climatology


def test_climatology_ships_inside_the_package() -> None:
    import plumecast

    shipped = Path(plumecast.__file__).parent / "data" / "met" / "eraint_uv_climatology.nc"
    # u, v and geopotential at three levels for two months, int16 + zlib: about 1.5 MB
    assert shipped.is_file() and shipped.stat().st_size < 1_700_000
    ds = climatology(1, 850.0)
    check_wind_dataset(ds)
    assert ds.sizes == {"time": 1, "lat": 241, "lon": 480}
    assert ds.attrs["steady"] == 1 and ds.attrs["global_lon"] == 1
    assert ds.attrs["level"] == "850 hPa" and ds.attrs["month"] == 1
    assert "ERA-Interim" in ds.attrs["attribution"] and "CC BY 4.0" in ds.attrs["attribution"]


def test_climatology_values_are_realistic() -> None:
    jan = climatology(1, 850.0)
    zonal = jan["u"].isel(time=0).mean("lon")
    # mid-latitude westerlies at 850 hPa in both hemispheres, easterly trades in the tropics
    assert float(zonal.sel(lat=slice(35, 60)).mean()) > 3.0
    assert float(zonal.sel(lat=slice(-60, -35)).mean()) > 3.0
    assert float(zonal.sel(lat=slice(-15, 15)).mean()) < 0.0
    jet = climatology(1, 200.0)["u"].isel(time=0)
    assert 50.0 < float(jet.max()) < 90.0  # the winter subtropical jet over Japan
    peak = jet.where(jet == jet.max(), drop=True)
    assert 25.0 < float(peak["lat"][0]) < 45.0 and 120.0 < float(peak["lon"][0]) < 170.0
    july = climatology(7, 200.0)["u"].isel(time=0)
    assert float(july.sel(lat=slice(-40, -20)).mean("lon").max()) > 25.0  # southern winter jet


def test_climatology_month_mapping_and_errors() -> None:
    assert [climatology_month(m) for m in range(1, 13)] == [1, 1, 1, 7, 7, 7, 7, 7, 7, 1, 1, 1]
    assert climatology(11).attrs["month"] == 1
    assert climatology(5).attrs["month"] == 7
    with pytest.raises(MetDataError, match="month=13"):
        climatology(13)
    with pytest.raises(MetDataError, match=r"level_hpa=700.*\[200.0, 500.0, 850.0\]"):
        climatology(1, 700.0)


# --------------------------------------------------------------------------- analytic


def test_uniform_wind() -> None:
    ds = uniform_wind(3.0, -2.0, resolution_deg=2.0)
    check_wind_dataset(ds)
    assert ds.sizes == {"time": 1, "lat": 91, "lon": 180}
    assert ds["lat"].values[0] == -90.0 and ds["lat"].values[-1] == 90.0
    assert ds["lon"].values[0] == -180.0 and ds["lon"].values[-1] == 178.0
    assert np.all(ds["u"].values == 3.0) and np.all(ds["v"].values == -2.0)
    assert ds.attrs["steady"] == 1 and ds.attrs["global_lon"] == 1
    with pytest.raises(MetDataError, match="resolution_deg=0.7"):
        uniform_wind(1.0, 0.0, resolution_deg=0.7)


def test_solid_body_rotation_about_polar_axis_is_zonal() -> None:
    period = 12 * 86400.0
    ds = solid_body_rotation(90.0, 0.0, period, resolution_deg=5.0)
    lat = ds["lat"].values
    speed = 2 * np.pi * EARTH_RADIUS_M / period
    expect = speed * np.cos(np.deg2rad(lat))[:, None] * np.ones(ds.sizes["lon"])
    np.testing.assert_allclose(ds["u"].values[0], expect, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(ds["v"].values[0], 0.0, atol=1e-3)


def test_solid_body_rotation_equatorial_axis_crosses_poles() -> None:
    period = 12 * 86400.0
    speed = 2 * np.pi * EARTH_RADIUS_M / period
    ds = solid_body_rotation(0.0, 0.0, period, resolution_deg=5.0)  # axis through (0N, 0E)
    at = ds.isel(time=0)
    # on the meridian 90E the flow is purely meridional (northward), at full speed on the equator
    np.testing.assert_allclose(float(at["v"].sel(lat=0, lon=90)), speed, rtol=1e-5)
    np.testing.assert_allclose(float(at["u"].sel(lat=0, lon=90)), 0.0, atol=1e-3)
    np.testing.assert_allclose(at["u"].sel(lon=90).values, 0.0, atol=1e-3)
    # |V| = speed * distance from the axis everywhere: sqrt(1 - (cos lat cos lon)^2)
    lat = np.deg2rad(at["lat"].values)[:, None]
    lon = np.deg2rad(at["lon"].values)[None, :]
    dist = np.sqrt(1 - (np.cos(lat) * np.cos(lon)) ** 2)
    np.testing.assert_allclose(
        np.hypot(at["u"].values, at["v"].values), speed * dist, rtol=1e-4, atol=1e-3
    )
    # the speed at the poles is the full speed: particles pass over them
    np.testing.assert_allclose(np.hypot(at["u"].values[-1], at["v"].values[-1]), speed, rtol=1e-5)


def test_zonal_jet_and_benchmark() -> None:
    jet = zonal_jet(40.0, lat_centre_deg=30.0, width_deg=10.0, resolution_deg=1.0).isel(time=0)
    assert float(jet["u"].sel(lat=30, lon=0)) == pytest.approx(40.0)
    assert float(jet["u"].sel(lat=40, lon=123)) == pytest.approx(40.0 * np.exp(-0.5), rel=1e-6)
    assert np.all(jet["v"].values == 0.0)
    bench = benchmark_wind().isel(time=0)
    assert bench.sizes == {"lat": 181, "lon": 360}
    assert float(bench["u"].sel(lat=60, lon=10)) == pytest.approx(10.0, rel=1e-6)
    assert float(bench["v"].sel(lat=0, lon=45)) == pytest.approx(5.0, rel=1e-6)
    assert float(bench["v"].sel(lat=60, lon=-45)) == pytest.approx(-2.5, rel=1e-6)
