"""Met files as real sources deliver them (met audit, session 40): winds on heights above sea level, GFS's
geometric vertical velocity under cfgrib's name, a rerun after a refused run, regular Gaussian latitudes, a
regional grid ending at 180 E, orography without a time, surface fields in another grid convention, city
releases outside the winds, and a climate model's calendar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError, ScenarioError
from plumecast.met import open_met_3d, open_wind, wind_grid_3d
from plumecast.met.levels import G0, standard_atmosphere_height_m
from tests.met.style_files import atmosphere, write_era5

TIMES = np.array(["2026-03-01T00", "2026-03-01T01"], dtype="datetime64[ns]")


def _east_north(g, k: int, iz: int, lat: float, lon: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The east and north wind of WindGrid ``g`` at record ``k``, height ``iz``, at the node (lat, lon)."""
    lons = g.lon0 + g.dlon * np.arange(g.nlon)
    lats = g.lat0 + g.dlat * np.arange(g.nlat)
    i = int(np.argmin(np.abs(((lons - lon + 180.0) % 360.0) - 180.0)))
    j = int(np.argmin(np.abs(lats - lat)))
    lam, phi = np.radians(lons[i]), np.radians(lats[j])
    vec = g.vec[k, iz, :, j, i].astype(float)
    east = np.array([-np.sin(lam), np.cos(lam), 0.0])
    north = np.array([-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)])
    return float(vec[:3] @ east), float(vec[:3] @ north)


def _pressure_file(path: Path, lat: np.ndarray, lon: np.ndarray, **extra: xr.DataArray) -> Path:
    """ERA5-style winds on 1000..500 hPa: u = 5 + 0.1 lat + 0.01 (1000 - p) [m s-1], v = 1, z standard."""
    lev = np.array([1000.0, 850.0, 700.0, 500.0])
    shape = (TIMES.size, lev.size, lat.size, lon.size)
    u = 5.0 + 0.1 * lat[None, None, :, None] + 0.01 * (1000.0 - lev)[None, :, None, None] + np.zeros(shape)
    z = np.broadcast_to(standard_atmosphere_height_m(lev)[None, :, None, None] * G0, shape)
    dims = ("valid_time", "pressure_level", "latitude", "longitude")
    ds = xr.Dataset({"u": (dims, u.astype(np.float32), {"units": "m s**-1"}),
                     "v": (dims, np.ones(shape, np.float32), {"units": "m s**-1"}),
                     "z": (dims, z.astype(np.float32), {"units": "m**2 s**-2", "standard_name": "geopotential"})},
                    coords={"valid_time": TIMES, "pressure_level": ("pressure_level", lev, {"units": "hPa"}),
                            "latitude": lat, "longitude": lon})
    ds.assign(extra).to_netcdf(path)
    return path


def test_winds_on_heights_above_sea_level_are_taken_above_the_ground(tmp_path: Path) -> None:
    # u = altitude / 100 on CF 'altitude' levels, a 1200-m plateau in the orography: 500 m above the plateau is
    # 1700 m above sea level (it had read the wind of 500 m above sea level there)
    lat, lon = np.arange(30.0, 50.1, 1.0), np.arange(0.0, 20.1, 1.0)
    alt = np.array([500.0, 1000.0, 1500.0, 2000.0, 3000.0, 4000.0])
    plateau = ((np.abs(lat[:, None] - 40.0) <= 3) & (np.abs(lon[None, :] - 10.0) <= 3)) * 1200.0
    u = np.broadcast_to((alt / 100.0)[None, :, None, None], (2, alt.size, lat.size, lon.size)).astype(np.float32)
    dims = ("time", "altitude", "lat", "lon")
    ds = xr.Dataset({"u": (dims, u, {"units": "m s-1", "standard_name": "eastward_wind"}),
                     "v": (dims, 0 * u, {"units": "m s-1", "standard_name": "northward_wind"}),
                     "orog": (("lat", "lon"), plateau.astype(np.float32),
                              {"units": "m", "standard_name": "surface_altitude"})},
                    coords={"time": TIMES, "altitude": ("altitude", alt, {"units": "m", "standard_name": "altitude",
                                                                         "positive": "up"}),
                            "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})})
    ds.to_netcdf(tmp_path / "alt.nc")
    met = open_met_3d(tmp_path / "alt.nc")
    assert met.attrs["level_type"] == "altitude"
    g = wind_grid_3d(met, records=(0, 1), z_levels_m=[500.0, 1000.0, 2000.0])
    assert any("heights above sea level less the ground 'orog'" in line for line in g.provenance)
    for iz, above in enumerate((500.0, 1000.0, 2000.0)):
        assert _east_north(g, 0, iz, 40.0, 10.0)[0] == pytest.approx((above + 1200.0) / 100.0, abs=1e-4)
        assert _east_north(g, 0, iz, 33.0, 17.0)[0] == pytest.approx(above / 100.0, abs=1e-4)
    # a coordinate named altitude whose standard name says height is above the ground, as CF says
    named = ds.assign_coords(altitude=("altitude", alt, {"units": "m", "standard_name": "height"}))
    named.to_netcdf(tmp_path / "alt_height.nc")
    assert open_met_3d(tmp_path / "alt_height.nc").attrs["level_type"] == "height"
    # without the orography the heights above ground cannot be had: refused, not read as above ground
    ds.drop_vars("orog").to_netcdf(tmp_path / "alt_bare.nc")
    with pytest.raises(MetDataError, match=r"alt_bare\.nc: winds on heights above sea level \(altitude\) and no "
                                           r"ground height in the files; expected the orography"):
        wind_grid_3d(open_met_3d(tmp_path / "alt_bare.nc"), records=(0, 1))


def test_gfs_geometric_vertical_velocity_under_cfgrib_name_wz_is_read(tmp_path: Path) -> None:
    lat, lon = np.arange(40.0, 50.1, 1.0), np.arange(0.0, 10.1, 1.0)
    dims = ("valid_time", "pressure_level", "latitude", "longitude")
    wz = xr.DataArray(np.full((2, 4, lat.size, lon.size), 0.05, np.float32), dims=dims,
                      attrs={"units": "m s**-1", "long_name": "Geometric vertical velocity", "standard_name": "unknown"})
    g = wind_grid_3d(open_met_3d(_pressure_file(tmp_path / "gfs.nc", lat, lon, wz=wz)), records=(0, 1))
    assert g.w is not None, g.provenance  # it had read "w: none in the files"
    assert any("'wz' [m s**-1]" in line for line in g.provenance)
    assert float(np.nanmax(np.abs(g.w[0, -1] - 0.05))) < 1e-6


def test_a_refused_run_leaves_its_files_readable(tmp_path: Path) -> None:
    # a run refused for a met that ends too soon, then corrected in the same process: the files had been
    # reported as "cannot be read (RuntimeError: NetCDF: HDF error)" while the refused read's handles lived on
    from plumecast.runner import run
    from plumecast.scenario import scenario_from_dict

    write_era5(atmosphere(3), tmp_path / "pl.nc", tmp_path / "sl.nc")

    def scenario(hours: float):  # type: ignore[no-untyped-def]
        return scenario_from_dict({
            "name": "rerun", "start": "2026-03-01T00:00:00Z", "duration_h": hours, "time_step_s": 600,
            "particles": 50, "agent": "chlorine", "met": {"source": "file", "path": [str(tmp_path / "pl.nc"),
                                                                                       str(tmp_path / "sl.nc")]},
            "releases": [{"type": "point", "lat": 45, "lon": 0, "rate_kg_s": 1, "stop_h": 0.5}],
            "output": {"grid": {"lon_min": -5, "lon_max": 5, "lat_min": 41, "lat_max": 49, "resolution_deg": 1}}})

    def open_handles() -> list[str]:
        fds = Path("/proc/self/fd")
        links = [str(f.readlink()) for f in fds.iterdir() if f.is_symlink()] if fds.is_dir() else []
        return [name for name in links if name.endswith(("pl.nc", "sl.nc")) and str(tmp_path) in name]

    with pytest.raises(MetDataError, match="do not cover the requested window"):
        run(scenario(5))
    if Path("/proc/self/fd").is_dir():  # closed by the refusal itself, not left to the garbage collector
        assert open_handles() == []
    assert run(scenario(1)).budget.released > 0


def test_a_regular_gaussian_grid_is_read_on_evenly_spaced_rows(tmp_path: Path) -> None:
    # F24 latitudes (steps differing by up to 0.8 %) had been refused as "not regularly spaced"; u is linear in
    # latitude, so its rows interpolated linearly onto the evenly spaced latitudes are exact
    x, _ = np.polynomial.legendre.leggauss(48)
    lat = np.degrees(np.arcsin(x))[::-1]
    lon = np.arange(0.0, 360.0, 7.5)
    path = _pressure_file(tmp_path / "gg.nc", lat, lon)
    met = open_met_3d(path)
    even = np.linspace(lat[-1], lat[0], lat.size)
    np.testing.assert_allclose(met["lat"].values, even, atol=1e-9)
    assert "regular Gaussian latitudes" in met.attrs["history"]
    np.testing.assert_allclose(met["u"].isel(time=0, level=0).values[:, 0], 5.0 + 0.1 * even, rtol=1e-5)
    wind_grid_3d(met, records=(0, 1))  # no longer refused
    one = open_wind(path, level_hpa=1000)
    np.testing.assert_allclose(one["u"].isel(time=0).values[:, 0], 5.0 + 0.1 * even, rtol=1e-5)


def test_a_regional_grid_ending_at_180_east_is_read_in_one_piece(tmp_path: Path) -> None:
    from plumecast.met.reader import inside_wind_domain, wind_file_domain

    path = _pressure_file(tmp_path / "east.nc", np.arange(0.0, 20.1, 1.0), np.arange(100.0, 180.1, 1.0))
    met = open_met_3d(path)
    assert float(met["lon"].min()) == 100.0 and float(met["lon"].max()) == 180.0
    wind_grid_3d(met, records=(0, 1))  # had been refused as crossing the 180th meridian
    lat, lon = wind_file_domain(path)
    assert inside_wind_domain(lat, lon, 10.0, 150.0) and inside_wind_domain(lat, lon, 10.0, 179.9)
    assert not inside_wind_domain(lat, lon, 10.0, -170.0)
    # a release on the 180th meridian is at -180 for the transport, off this grid: refused with the way out
    # (it had been let in and every kilogram had "exited" at once; review of session 40)
    assert not inside_wind_domain(lat, lon, 10.0, 180.0)
    from plumecast.met.reader import check_wind_dataset
    from plumecast.scenario import scenario_from_dict

    check_wind_dataset(open_wind(path, level_hpa=850), "east.nc")  # its own output passes its own check
    with pytest.raises(ScenarioError, match=r"lon 180 is outside the winds .*give lon 179\.99"):
        scenario_from_dict({
            "name": "edge", "start": "2026-03-01T00:00:00Z", "duration_h": 1, "time_step_s": 600, "particles": 50,
            "agent": "chlorine", "met": {"source": "file", "path": str(path)},
            "releases": [{"type": "point", "lat": 10, "lon": 180, "rate_kg_s": 1, "stop_h": 0.5}]})


@pytest.mark.parametrize("merged", [False, True], ids=["own file", "in the level file"])
def test_an_orography_without_time_holds_for_every_time(tmp_path: Path, merged: bool) -> None:
    # a CMIP-style orog file, or an invariant field merged into the levels (cdo merge), without a time
    lat, lon = np.arange(40.0, 50.1, 1.0), np.arange(0.0, 10.1, 1.0)
    orog = xr.DataArray(np.full((lat.size, lon.size), 400.0, np.float32), dims=("latitude", "longitude"),
                        attrs={"units": "m", "standard_name": "surface_altitude"})
    if merged:
        paths = [_pressure_file(tmp_path / "pl.nc", lat, lon, orog=orog)]
    else:
        paths = [_pressure_file(tmp_path / "pl.nc", lat, lon)]
        xr.Dataset({"orog": orog}, coords={"latitude": lat, "longitude": lon}).to_netcdf(tmp_path / "orog.nc")
        paths.append(tmp_path / "orog.nc")
    g = wind_grid_3d(open_met_3d(paths), records=(0, 2))
    assert any(line.startswith("ground: 'orog' [m]") for line in g.provenance), g.provenance


@pytest.mark.parametrize("convention", ["lon -180..180", "lat south to north"])
def test_surface_fields_of_the_same_grid_in_another_convention_are_read(tmp_path: Path, convention: str) -> None:
    a = atmosphere(2)
    pl, sl = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")  # lon 0..360, lat north to south
    with xr.open_dataset(sl) as s:
        s = s.load()
    if convention.startswith("lon"):
        s = s.assign_coords(longitude=(s.longitude + 180.0) % 360.0 - 180.0).sortby("longitude")
    else:
        s = s.sortby("latitude")
    s.to_netcdf(tmp_path / "sl2.nc")
    met = open_met_3d([pl, tmp_path / "sl2.nc"])  # had been refused: "another lon grid (21 values) than ... (21)"
    from tests.met.style_files import LAT, LON

    j, i = int(np.argmin(np.abs(LAT - 45.0))), int(np.argmin(np.abs(LON - 3.0)))
    got = float(met["u10"].isel(time=1).sel(lat=45.0, lon=3.0))
    assert got == pytest.approx(float(a.u10[1, j, i]), abs=1e-5)


def test_city_releases_outside_the_winds_are_refused(tmp_path: Path) -> None:
    from plumecast.scenario import scenario_from_dict

    write_era5(atmosphere(3), tmp_path / "pl.nc", tmp_path / "sl.nc")  # lat 40..50, lon -10..10
    with pytest.raises(ScenarioError, match=r"releases\.0: 3 of its 3 cities lie outside the winds of met\.path .*"
                                            r"Tokyo \(lat 35\.6"):
        scenario_from_dict({
            "name": "far", "start": "2026-03-01T00:00:00Z", "duration_h": 1, "time_step_s": 600, "particles": 50,
            "agent": "chlorine", "met": {"source": "file", "path": str(tmp_path)},
            "releases": [{"type": "cities", "rate_kg_s_per_capita": 1e-6, "countries": ["JP"], "names": [
                "Tokyo", "Osaka", "Nagoya"]}]})


def test_a_climate_model_calendar_is_named_as_the_reason(tmp_path: Path) -> None:
    lat, lon = np.arange(40.0, 50.1, 1.0), np.arange(0.0, 10.1, 1.0)
    path = _pressure_file(tmp_path / "pl.nc", lat, lon)
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    ds = ds.assign_coords(valid_time=("valid_time", [0.0, 1.0 / 24.0], {"units": "days since 2026-03-01",
                                                                        "calendar": "noleap"}))
    ds.to_netcdf(tmp_path / "noleap.nc")
    with pytest.raises(MetDataError, match=r"noleap\.nc: .*its calendar is 'noleap', a climate model's"):
        open_met_3d(tmp_path / "noleap.nc")
