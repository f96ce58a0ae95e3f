"""3-D met: reading pressure-level files of each producer and building the WindGrid."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import climatology, climatology_3d, open_met_3d, wind_grid_3d
from plumecast.met.levels import (
    CP,
    G0,
    R_D,
    VON_KARMAN,
    normalise_met_3d,
    standard_atmosphere_height_m,
)
from plumecast.transport.windgrid import SURFACE_FIELDS, WindGrid
from tests.met.style_files import (
    LAT,
    LEVELS_HPA,
    LON,
    T0,
    atmosphere,
    write_era5,
    write_gfs,
    write_wrf,
)

DATA = Path(__file__).parents[1] / "data"
ZT_GRIB = DATA / "era5-levels-z-t-member0.grib"  # real ERA5 EDA z, t on 850/500 hPa, member 0, 2 times
needs_cfgrib = pytest.mark.skipif(importlib.util.find_spec("cfgrib") is None, reason="cfgrib not installed")
HMIX, USTAR, INV_L, WSTAR, PRECIP = range(len(SURFACE_FIELDS))


def _same(a: WindGrid, b: WindGrid, records: slice = slice(None), rtol: float = 1e-5) -> None:
    np.testing.assert_array_equal(a.z_m, b.z_m)
    np.testing.assert_allclose(a.times_s[records], b.times_s[records])
    np.testing.assert_allclose(a.vec[records], b.vec[records], rtol=rtol, atol=1e-5)
    assert (a.w is None) == (b.w is None)
    if a.w is not None and b.w is not None:
        np.testing.assert_allclose(a.w[records], b.w[records], rtol=rtol, atol=1e-7)
    assert (a.surface is None) == (b.surface is None)
    if a.surface is not None and b.surface is not None:
        np.testing.assert_allclose(a.surface[records], b.surface[records], rtol=1e-4, atol=1e-6)
    assert (a.lon0, a.dlon, a.nlon, a.lat0, a.dlat, a.nlat) == (b.lon0, b.dlon, b.nlon, b.lat0, b.dlat, b.nlat)


def _east_north(grid: WindGrid, r: int, iz: int) -> tuple[np.ndarray, np.ndarray]:
    """Eastward and northward wind back from the Cartesian vectors."""
    lam = np.deg2rad(grid.lon0 + grid.dlon * np.arange(grid.nlon))[None, :]
    phi = np.deg2rad(grid.lat0 + grid.dlat * np.arange(grid.nlat))[:, None]
    x, y, z = grid.vec[r, iz].astype(np.float64)
    u = -x * np.sin(lam) + y * np.cos(lam)
    v = (-x * np.cos(lam) - y * np.sin(lam)) * np.sin(phi) + z * np.cos(phi)
    return u, v


# --------------------------------------------------------------------------- equivalence


def test_era5_gfs_and_wrf_files_of_the_same_atmosphere_give_the_same_windgrid(tmp_path: Path) -> None:
    """Same numbers under each producer's names, units, signs, lon convention, level
    and latitude order: ERA5 (two CDS files, z in m2 s-2, sshf accumulated and
    downward, tp in m), GFS (wgrib2 per-level variables, HGT in gpm, lon 0..360),
    WRF-post (2-D XLAT/XLONG, RAINNC accumulated since the start)."""
    a = atmosphere(4)
    era5 = wind_grid_3d(open_met_3d(write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")))
    gfs = wind_grid_3d(open_met_3d(write_gfs(a, tmp_path / "gfs.nc")))
    _same(era5, gfs)
    wrf_ds = open_met_3d(write_wrf(a, tmp_path / "wrf.nc"))
    assert "omega" not in wrf_ds and "w" not in wrf_ds
    wrf = wind_grid_3d(wrf_ds)
    era5_no_w = wind_grid_3d(open_met_3d(write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")).drop_vars("omega"))
    # RAINNC gives interval means: the first record takes the first interval's rate
    _same(era5_no_w, wrf, records=slice(1, None))
    # the fields are what was written
    assert era5.surface is not None
    np.testing.assert_allclose(era5.surface[:, HMIX], a.blh, rtol=1e-6)
    np.testing.assert_allclose(era5.surface[:, USTAR], a.ustar, rtol=1e-6)
    np.testing.assert_allclose(era5.surface[:, PRECIP], a.precip, rtol=1e-5, atol=1e-6)
    # ERA5 sshf (downward, J m-2 per hour) became an upward flux: unstable (1/L < 0, w* > 0) where shf > 0
    up = a.shf > 1.0
    assert np.all(era5.surface[:, INV_L][up] < 0) and np.all(era5.surface[:, INV_L][a.shf < -1.0] > 0)
    assert np.all(era5.surface[:, WSTAR][up] > 0) and np.all(era5.surface[:, WSTAR][~up] == 0)
    assert era5.z_m[0] == 10.0 and era5.z_m[-1] <= standard_atmosphere_height_m(300.0)
    assert any("sshf" in line and "sign flipped" in line for line in era5.provenance)


def test_hourly_files_give_the_same_windgrid_as_one_file_and_records_read_alone(tmp_path: Path) -> None:
    a = atmosphere(6)
    one = wind_grid_3d(open_met_3d(write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")))
    folder = tmp_path / "hourly"
    folder.mkdir()
    for i in range(6):
        write_era5(a, folder / f"pl_{i:02d}.nc", folder / f"sl_{i:02d}.nc", sl=slice(i, i + 1))
    ds = open_met_3d(folder)
    assert ds.sizes["time"] == 6
    hourly = wind_grid_3d(ds)
    _same(one, hourly)
    # a rolling window of two records, timed from the run start
    part = wind_grid_3d(ds, start=T0, records=(2, 4))
    assert part.vec.shape[0] == 2
    np.testing.assert_allclose(part.times_s, [7200.0, 10800.0])
    np.testing.assert_array_equal(part.vec, one.vec[2:4])
    assert part.surface is not None and one.surface is not None
    np.testing.assert_array_equal(part.surface, one.surface[2:4])
    # the window of the run
    win = open_met_3d(folder, time_window=(T0 + np.timedelta64(90, "m"), T0 + np.timedelta64(3, "h")))
    np.testing.assert_array_equal(win["time"].values, a.times[1:4])


def test_only_the_requested_records_are_read(tmp_path: Path) -> None:
    """Records outside the range hold NaN: reading them would fail the NaN check."""
    a = atmosphere(6)
    a.u[0] = np.nan
    a.u[5] = np.nan
    folder = tmp_path / "h"
    folder.mkdir()
    for i in range(6):
        write_era5(a, folder / f"pl_{i:02d}.nc", folder / f"sl_{i:02d}.nc", sl=slice(i, i + 1))
    ds = open_met_3d(folder)
    grid = wind_grid_3d(ds, records=slice(1, 5))
    assert np.isfinite(grid.vec).all()
    with pytest.raises(MetDataError, match=r"pl_05\.nc .*NaN value\(s\) of 'u'"):
        wind_grid_3d(ds, records=(4, 6))


@needs_cfgrib
def test_grib_and_its_netcdf_copy_give_the_same_windgrid(tmp_path: Path) -> None:
    """Real ERA5 GRIB (z, t on 850/500 hPa) with u, v and surface messages (surface
    geopotential, 10 m wind) added by ecCodes: pressure-level and surface messages
    are separate cfgrib hypercubes in one file. The netCDF copy is written by xarray
    from those hypercubes (two files, as from the CDS)."""
    import cfgrib

    grib = _era5_grib_with_winds(ZT_GRIB, tmp_path / "era5.grib")
    from_grib = open_met_3d(grib)
    assert {"u", "v", "gh", "t", "u10", "v10", "zs"} <= set(map(str, from_grib.data_vars))
    parts = cfgrib.open_datasets(str(grib), backend_kwargs={"indexpath": ""})
    paths = []
    for i, part in enumerate(parts):
        p = tmp_path / f"copy_{i}.nc"
        part.to_netcdf(p)
        paths.append(p)
    from_nc = open_met_3d(paths)
    g1, g2 = wind_grid_3d(from_grib), wind_grid_3d(from_nc)
    _same(g1, g2, rtol=0)
    # the GRIB geopotential is the real ERA5 field: 850 hPa some 1.2-1.6 km above sea level
    gh850 = from_grib["gh"].sel(level=850.0).values
    assert 900 < np.nanmin(gh850) and np.nanmax(gh850) < 1700
    assert g1.surface is not None  # temperature present: the mixing height is diagnosed
    assert any("diagnosed" in line for line in g1.provenance)


def _era5_grib_with_winds(src: Path, out: Path) -> Path:
    import eccodes

    msgs = []
    with open(src, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            msgs.append(h)
    try:
        with open(out, "wb") as fo:
            for h in msgs:
                fo.write(eccodes.codes_get_message(h))
                if eccodes.codes_get(h, "shortName") != "t":
                    continue
                la = np.deg2rad(eccodes.codes_get_array(h, "latitudes"))
                lo = np.deg2rad(eccodes.codes_get_array(h, "longitudes"))
                lev = eccodes.codes_get(h, "level")
                hr = eccodes.codes_get(h, "dataTime") // 100
                new = [("isobaricInhPa", lev, 131, 5 + 0.02 * lev * np.cos(la) + np.sin(2 * lo + 0.1 * hr)),
                       ("isobaricInhPa", lev, 132, 2 * np.sin(la) * np.cos(lo) - 0.1 * hr)]
                if lev == 850:
                    new += [("surface", 0, 129, G0 * np.maximum(0, 800 * np.sin(3 * la) * np.cos(2 * lo))),
                            ("surface", 0, 165, 3 + np.cos(lo)),
                            ("surface", 0, 166, -1 + np.sin(la + 0.1 * hr))]
                for type_of_level, level, param, values in new:
                    c = eccodes.codes_clone(h)
                    eccodes.codes_set(c, "typeOfLevel", type_of_level)
                    eccodes.codes_set(c, "level", level)
                    eccodes.codes_set(c, "paramId", param)
                    eccodes.codes_set_values(c, values)
                    fo.write(eccodes.codes_get_message(c))
                    eccodes.codes_release(c)
    finally:
        for h in msgs:
            eccodes.codes_release(h)
    return out


# --------------------------------------------------------------------------- interpolation and physics


def _column_dataset(u_of_h, levels_hpa=LEVELS_HPA, t=None, zs=0.0, omega=None, surface=None) -> xr.Dataset:
    """In-memory ERA5-style dataset on one record, geopotential from the ICAO atmosphere."""
    gh = standard_atmosphere_height_m(levels_hpa)[:, None, None] * np.ones((1, LAT.size, LON.size))
    dims = ("time", "level", "latitude", "longitude")
    data = {
        "u": (dims, u_of_h(gh - zs)[None], {"units": "m s-1"}),
        "v": (dims, np.zeros_like(gh)[None], {"units": "m s-1"}),
        "z": (dims, (gh * G0)[None], {"units": "m2 s-2", "standard_name": "geopotential"}),
    }
    if t is not None:
        data["t"] = (dims, (t * np.ones_like(gh))[None], {"units": "K"})
    if omega is not None:
        data["w"] = (dims, (omega * np.ones_like(gh))[None], {"units": "Pa s-1"})
    ds = xr.Dataset(data, coords={"time": [T0], "level": ("level", levels_hpa, {"units": "hPa"}),
                                  "latitude": LAT, "longitude": LON})
    sd = ("time", "latitude", "longitude")
    ds["zs"] = (sd, np.full((1, LAT.size, LON.size), zs * G0), {"units": "m2 s-2",
                                                              "standard_name": "surface_geopotential"})
    for name, (value, units) in (surface or {}).items():
        ds[name] = (sd, np.full((1, LAT.size, LON.size), value), {"units": units})
    return ds


def test_winds_are_linear_in_height_between_levels_and_log_law_below() -> None:
    zs = 250.0
    ds = normalise_met_3d([(Path("column.nc"), _column_dataset(lambda h: 3.0 + 0.004 * h, zs=zs))], source="col")
    heights = [30.0, 60.0, 400.0, 1200.0, 2500.0, 5000.0]
    grid = wind_grid_3d(ds, z_levels_m=heights, roughness_length_m=0.05)
    h_agl = standard_atmosphere_height_m(LEVELS_HPA) - zs
    lowest = h_agl[h_agl > 0][0]  # 1000 hPa (111 m) is below the 250 m ground
    for iz, z in enumerate(heights):
        u, v = _east_north(grid, 0, iz)
        if z >= lowest:
            expected = 3.0 + 0.004 * z
        else:
            expected = (3.0 + 0.004 * lowest) * np.log(z / 0.05) / np.log(lowest / 0.05)
        np.testing.assert_allclose(u, expected, rtol=1e-5)
        np.testing.assert_allclose(v, 0.0, atol=1e-5)
    assert any("(Φ − Φ_s) / g0" in line for line in grid.provenance)


def test_default_heights_follow_the_surface_layer_log_profile() -> None:
    """The kernels interpolate linearly in height between the grid's heights: with the default
    heights the wind between the 10 m wind (2 m/s) and the lowest level (10 m/s at 111 m) stays
    within 3 % of the ln z profile the met describes; with 10, 50 and 100 m alone a particle at
    19 m had moved 22 % slow (physics audit)."""
    ds = normalise_met_3d([(Path("c.nc"), _column_dataset(lambda h: 10.0 + 0 * h,
                                                          surface={"u10": (2.0, "m s-1"), "v10": (0.0, "m s-1")}))],
                          source="c")
    grid = wind_grid_3d(ds)
    z_m = np.asarray(grid.z_m, float)
    u_grid = np.array([_east_north(grid, 0, iz)[0][0, 0] for iz in range(z_m.size)])
    lowest = float(standard_atmosphere_height_m(LEVELS_HPA)[0])  # 1000 hPa, 111 m
    z = np.linspace(10.0, lowest, 400)
    profile = 2.0 + 8.0 * np.log(z / 10.0) / np.log(lowest / 10.0)
    felt = np.interp(z, z_m, u_grid)  # what the kernels' linear interpolation in height gives
    assert np.min(felt / profile) > 0.97 and np.max(felt / profile) < 1.0 + 1e-6
    assert z_m[0] == 10.0


def test_omega_becomes_w_by_the_hydrostatic_relation() -> None:
    t = 260.0
    ds = normalise_met_3d([(Path("c.nc"), _column_dataset(lambda h: 5.0 + 0 * h, t=t, omega=-0.5))], source="c")
    p = 700.0
    z = float(standard_atmosphere_height_m(p))
    grid = wind_grid_3d(ds, z_levels_m=[z])
    assert grid.w is not None
    np.testing.assert_allclose(grid.w[0, 0], 0.5 * R_D * t / (p * 100.0 * G0), rtol=1e-5)
    assert any("hydrostatic" in line for line in grid.provenance)


def test_mixing_height_diagnosed_from_the_bulk_richardson_number() -> None:
    """A well-mixed layer (constant θ) capped by a 5 K inversion: the diagnosed
    mixing height sits at the inversion, and moves with it."""
    z = np.arange(20.0, 3001.0, 20.0)
    for inversion in (600.0, 1400.0):
        theta = 290.0 + np.where(z > inversion, 5.0 + 0.004 * (z - inversion), 0.0)
        shape = (1, z.size, LAT.size, LON.size)
        ds = xr.Dataset(
            {"u": (("time", "height", "lat", "lon"), np.full(shape, 6.0), {"units": "m s-1"}),
             "v": (("time", "height", "lat", "lon"), np.zeros(shape), {"units": "m s-1"}),
             "theta": (("time", "height", "lat", "lon"), np.broadcast_to(theta[None, :, None, None], shape),
                       {"units": "K", "standard_name": "air_potential_temperature"})},
            coords={"time": [T0], "height": ("height", z, {"units": "m", "standard_name": "height"}),
                    "lat": LAT, "lon": LON})
        grid = wind_grid_3d(normalise_met_3d([(Path("les.nc"), ds)], source="les"))
        assert grid.surface is not None
        h = grid.surface[0, HMIX]
        assert np.all((h >= inversion) & (h <= inversion + 20.0)), (inversion, h.min(), h.max())
        assert any("bulk Richardson" in line for line in grid.provenance)


def test_obukhov_length_and_convective_velocity_from_the_heat_flux() -> None:
    H, ustar, blh, t2m = 200.0, 0.3, 1200.0, 295.0
    ds = _column_dataset(lambda h: 5.0 + 0 * h, t=288.0,
                         surface={"shtfl": (H, "W m-2"), "fricv": (ustar, "m s-1"), "hpbl": (blh, "m"),
                                  "t2m": (t2m, "K")})
    grid = wind_grid_3d(normalise_met_3d([(Path("gfs.nc"), ds)], source="gfs"))
    assert grid.surface is not None
    s = grid.surface[0]
    np.testing.assert_allclose(s[HMIX], blh)
    np.testing.assert_allclose(s[USTAR], ustar, rtol=1e-6)
    # θ_s and ρ from t2m and the surface pressure of the lowest level; check the ratio
    inv_l, wstar = s[INV_L].astype(float), s[WSTAR].astype(float)
    theta_rho = -VON_KARMAN * G0 * H / (inv_l * ustar**3 * CP)  # = θ ρ
    assert np.all((theta_rho > 295 * 1.1) & (theta_rho < 300 * 1.3))
    np.testing.assert_allclose(wstar, np.cbrt(G0 * H * blh / (theta_rho * CP)), rtol=1e-4)
    # a downward flux: stable, no convective velocity
    ds["shtfl"] = -ds["shtfl"]
    s = wind_grid_3d(normalise_met_3d([(Path("gfs.nc"), ds)], source="gfs")).surface
    assert s is not None and np.all(s[0, INV_L] > 0) and np.all(s[0, WSTAR] == 0)


def test_without_boundary_layer_fields_the_surface_is_absent_or_the_given_constant() -> None:
    ds = normalise_met_3d([(Path("c.nc"), _column_dataset(lambda h: 5.0 + 0 * h))], source="c")
    grid = wind_grid_3d(ds)
    assert grid.surface is None and grid.w is None
    assert any("constant K_z and mixing height apply" in line for line in grid.provenance)
    grid = wind_grid_3d(ds, mixing_height_m=800.0)
    assert grid.surface is not None
    np.testing.assert_allclose(grid.surface[0, HMIX], 800.0)
    np.testing.assert_allclose(grid.surface[0, INV_L], 0.0)
    assert any("constant 800 m" in line for line in grid.provenance)
    # u* from the neutral log law of the lowest level above ground (1000 hPa, 111 m)
    z1 = float(standard_atmosphere_height_m(1000.0))
    np.testing.assert_allclose(grid.surface[0, USTAR], VON_KARMAN * 5.0 / np.log(z1 / 0.1), rtol=1e-5)


def test_standard_atmosphere_only_when_asked() -> None:
    ds = normalise_met_3d([(Path("c.nc"), _column_dataset(lambda h: 5.0 + 0.001 * h))], source="c")
    ds = ds.drop_vars("gh")
    with pytest.raises(MetDataError, match=r"c\.nc: no geopotential .*standard_atmosphere"):
        wind_grid_3d(ds)
    grid = wind_grid_3d(ds, standard_atmosphere=True)
    assert any("ICAO standard atmosphere" in line for line in grid.provenance)


# --------------------------------------------------------------------------- the shipped default


def test_climatology_3d_gives_three_levels_of_climatological_mean_winds() -> None:
    ds = climatology_3d(1)
    assert ds["level"].values.tolist() == [850.0, 500.0, 200.0]
    assert "climatological mean winds" in ds.attrs["source"]
    grid = wind_grid_3d(ds)
    assert grid.vec.shape[:2] == (1, grid.z_m.size) and 10.0 not in grid.z_m
    assert grid.surface is None
    assert any("no surface geopotential or orography" in line for line in grid.provenance)
    # at the height of the 850 hPa surface of a column, the 850 hPa climatology
    one = climatology(1, 850.0)
    j, i = 150, 30  # 22.5 N, 157.5 W: over the ocean
    h850 = float(ds["gh"].isel(time=0, level=0, lat=j, lon=i))
    col = wind_grid_3d(ds, z_levels_m=[h850, h850 + 1.0])
    u, _ = _east_north(col, 0, 0)
    np.testing.assert_allclose(u[j, i], float(one["u"][0, j, i]), atol=1e-3)
    # 500 hPa winds aloft differ from 850 hPa ones
    h500 = float(ds["gh"].isel(time=0, level=1, lat=j, lon=i))
    u5, _ = _east_north(wind_grid_3d(ds, z_levels_m=[h500]), 0, 0)
    np.testing.assert_allclose(u5[j, i], float(climatology(1, 500.0)["u"][0, j, i]), atol=1e-3)


# --------------------------------------------------------------------------- forecast GRIB 2

FETCH = DATA / "fetch"


@needs_cfgrib
@pytest.mark.skipif(not (FETCH / "gfs").is_dir(), reason="recorded forecast files absent")
def test_gfs_and_ecmwf_open_data_grib2_files_are_read() -> None:
    """The recorded GFS files (NCEP names without a GRIB ending, one file per step,
    HPBL in NCEP's local table) and ECMWF open-data file (gh, omega)."""
    gfs = open_met_3d(FETCH / "gfs")
    assert gfs.sizes["time"] == 2 and list(gfs["level"].values) == [1000.0, 850.0, 500.0]
    assert {"blh", "zs", "omega", "t", "u10"} <= set(map(str, gfs.data_vars))
    grid = wind_grid_3d(gfs)
    assert grid.surface is not None and grid.w is not None and grid.z_m[0] == 10.0
    np.testing.assert_allclose(grid.surface[:, HMIX], gfs["blh"].values)
    assert any("'hpbl'" in line for line in grid.provenance)
    assert any("'orog'" in line for line in grid.provenance)
    # f000 has no precipitation rate (a mean over the step before): it takes f003's
    np.testing.assert_array_equal(grid.surface[0, PRECIP], grid.surface[1, PRECIP])
    assert any("forecast step 0" in line for line in grid.provenance)
    ecmwf = open_met_3d(sorted((FETCH / "ecmwf").glob("*.grib2")))
    g2 = wind_grid_3d(ecmwf)
    assert g2.w is not None and np.isfinite(g2.w).all() and np.abs(g2.w).max() < 5.0
    # the open data carry no orography: the ground comes from the surface pressure (audit 25)
    assert any(line.startswith("ground: diagnosed from the surface pressure 'sp'") for line in g2.provenance)


def test_numba_column_interpolation_matches_the_numpy_reference() -> None:
    from plumecast.met.columns import columns_to_heights
    from plumecast.met.levels import _columns_to_heights_numpy

    rng = np.random.default_rng(7)
    ny, nx, nlev = 9, 13, 8
    zs = rng.uniform(0.0, 1500.0, (ny, nx))
    h = np.cumsum(rng.uniform(80.0, 1500.0, (nlev, ny, nx)), axis=0) - zs  # some levels below ground
    vals = rng.normal(0.0, 5.0, (3, nlev, ny, nx))
    z = np.array([2.0, 10.0, 35.0, 100.0, 400.0, 1000.0, 3000.0, 8000.0, 15000.0])
    modes = np.array([0, 0, 1])
    for ref10 in (None, rng.normal(0.0, 3.0, (3, ny, nx))):
        fast = columns_to_heights(h, vals, z, modes, 0.05, ref10)
        slow = _columns_to_heights_numpy(h, vals, z, modes, 0.05, ref10)
        np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-6)


def test_take_level_is_take_along_axis() -> None:
    """``take_level`` (the compiled gather of the lowest level above ground and the like)
    gives np.take_along_axis's values, for float32 and broadcast input too, and refuses an
    index outside the levels or a mismatched shape."""
    from plumecast.met.columns import take_level

    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 7, 11))
    k = rng.integers(0, 5, size=(7, 11))
    want = np.take_along_axis(a, k[None], 0)[0]
    np.testing.assert_array_equal(take_level(a, k), want)
    np.testing.assert_array_equal(take_level(a.astype(np.float32), k), want.astype(np.float32).astype(np.float64))
    p = np.broadcast_to(np.arange(5.0)[:, None, None], a.shape)
    np.testing.assert_array_equal(take_level(p, k), k.astype(np.float64))
    with pytest.raises(IndexError, match="outside 0..4"):
        take_level(a, np.full((7, 11), 5))
    with pytest.raises(ValueError, match="shape"):
        take_level(a, k[:, :3])


def test_a_quantity_split_over_two_level_sets_is_joined(tmp_path: Path) -> None:
    """GRIB files put levels below and above 1 hPa in two hypercubes (isobaricInhPa,
    isobaricInPa); each hypercube's u, v, z ... are joined along the levels."""
    a = atmosphere(2)
    pl, sl = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    whole = wind_grid_3d(open_met_3d([pl, sl]))
    with xr.open_dataset(pl) as ds, xr.open_dataset(sl) as sds:
        full = ds.load()
        low = full.sel(pressure_level=[p for p in full["pressure_level"].values if p >= 700])
        high = full.sel(pressure_level=[p for p in full["pressure_level"].values if p < 700])
        split = normalise_met_3d([(pl, [low, high]), (sl, sds.load())], source="split")
    assert split.sizes["level"] == LEVELS_HPA.size
    _same(whole, wind_grid_3d(split), rtol=0)
    with pytest.raises(MetDataError, match=r"pl\.nc: variable 'u' found twice .* on the same levels"):
        normalise_met_3d([(pl, [full, low])], source="twice")


def test_rows_processed_in_blocks_give_the_same_windgrid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import plumecast.met.levels as levels

    a = atmosphere(2)
    ds = open_met_3d(write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc"))
    whole = wind_grid_3d(ds)
    monkeypatch.setattr(levels, "BLOCK_VALUES", 3 * LEVELS_HPA.size * LON.size)  # 3 rows per block
    _same(whole, wind_grid_3d(ds), rtol=0)


def test_members_are_kept_and_chosen(tmp_path: Path) -> None:
    a = atmosphere(2)
    pl, sl = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    with xr.open_dataset(pl) as ds:
        one = ds.load()
    ens = xr.concat([one, one.assign(u=one["u"] + 1.0)], dim="number").assign_coords(number=[0, 1])
    ens.to_netcdf(tmp_path / "ens.nc")
    both = open_met_3d([tmp_path / "ens.nc", sl])
    assert both.sizes["number"] == 2
    with pytest.raises(MetDataError, match=r"ens\.nc: 2 members on 'number'; choose one"):
        wind_grid_3d(both)
    m0 = open_met_3d([tmp_path / "ens.nc", sl], member=0)
    m1 = open_met_3d([tmp_path / "ens.nc", sl], member=1)
    np.testing.assert_allclose(m1["u"].values - m0["u"].values, 1.0, atol=1e-5)
    _same(wind_grid_3d(open_met_3d([pl, sl])), wind_grid_3d(m0), rtol=0)
    with pytest.raises(MetDataError, match=r"ens\.nc: member 2 asked for but the files have 2 members"):
        open_met_3d([tmp_path / "ens.nc", sl], member=2)
