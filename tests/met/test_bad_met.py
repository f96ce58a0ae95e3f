"""Each bad 3-D met input gets one message that names the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, wind_grid_3d
from tests.met.style_files import LEVELS_HPA, atmosphere, write_era5, write_gfs


def _hourly(folder: Path, n: int = 6, skip: int | None = None) -> list[Path]:
    a = atmosphere(n)
    folder.mkdir()
    out = []
    for i in range(n):
        if i != skip:
            out += write_era5(a, folder / f"pl_{i:02d}.nc", folder / f"sl_{i:02d}.nc", sl=slice(i, i + 1))
    return out


def test_gap_in_time_between_files_names_the_file(tmp_path: Path) -> None:
    _hourly(tmp_path / "h", skip=3)
    with pytest.raises(MetDataError, match=r"pl_04\.nc: starts at .* 2 h after pl_02\.nc ends .*gap"):
        open_met_3d(tmp_path / "h")


def test_gap_in_time_inside_one_file_names_the_file(tmp_path: Path) -> None:
    a = atmosphere(6)
    path = write_gfs(a, tmp_path / "gfs.nc")
    with xr.open_dataset(path) as ds:
        ds.isel(time=[0, 1, 2, 4, 5]).load().to_netcdf(tmp_path / "gfs_gap.nc")
    with pytest.raises(MetDataError, match=r"gfs_gap\.nc: records .* are 2 h apart while the records around are 1 h apart: a gap"):
        open_met_3d(tmp_path / "gfs_gap.nc")


def test_a_repeated_or_unsorted_time_is_named_not_called_a_gap(tmp_path: Path) -> None:
    path = write_gfs(atmosphere(4), tmp_path / "gfs.nc")
    with xr.open_dataset(path) as ds:
        ds.isel(time=[0, 1, 1, 2, 3]).load().to_netcdf(tmp_path / "twice.nc")
        ds.isel(time=[0, 2, 1, 3]).load().to_netcdf(tmp_path / "unsorted.nc")
    with pytest.raises(MetDataError, match=r"twice\.nc: record .* follows record .*: a time given twice"):
        open_met_3d(tmp_path / "twice.nc")
    with pytest.raises(MetDataError, match=r"unsorted\.nc: record .* follows record .*: times out of order"):
        open_met_3d(tmp_path / "unsorted.nc")


def test_overlapping_files_name_the_file(tmp_path: Path) -> None:
    a = atmosphere(4)
    write_gfs(a, tmp_path / "a.nc", sl=slice(0, 3))
    write_gfs(a, tmp_path / "b.nc", sl=slice(2, 4))
    with pytest.raises(MetDataError, match=r"b\.nc: times .* overlap those of .*a\.nc"):
        open_met_3d([tmp_path / "a.nc", tmp_path / "b.nc"])


def test_file_missing_a_level_is_named(tmp_path: Path) -> None:
    _hourly(tmp_path / "h")
    bad = tmp_path / "h" / "pl_02.nc"
    with xr.open_dataset(bad) as ds:
        short = ds.sel(pressure_level=[p for p in LEVELS_HPA if p != 700.0]).load()
    short.to_netcdf(bad)
    with pytest.raises(MetDataError, match=r"pl_02\.nc: dimension 'level' differs from pl_00\.nc's \(5 vs 6"):
        open_met_3d(tmp_path / "h")


def test_file_missing_a_variable_is_named(tmp_path: Path) -> None:
    _hourly(tmp_path / "h")
    bad = tmp_path / "h" / "pl_04.nc"
    with xr.open_dataset(bad) as ds:
        no_v = ds.drop_vars("v").load()
    no_v.to_netcdf(bad)
    with pytest.raises(MetDataError, match=r"pl_04\.nc: has variables .* but pl_00\.nc has"):
        open_met_3d(tmp_path / "h")
    # a single file without v
    with pytest.raises(MetDataError, match=r"pl_04\.nc: no northward wind on levels"):
        open_met_3d(bad)


def test_missing_geopotential_is_named(tmp_path: Path) -> None:
    pl, _ = write_era5(atmosphere(2), tmp_path / "pl.nc", tmp_path / "sl.nc")
    with xr.open_dataset(pl) as ds:
        ds.drop_vars("z").load().to_netcdf(tmp_path / "no_z.nc")
    ds = open_met_3d(tmp_path / "no_z.nc")
    with pytest.raises(MetDataError, match=r"no_z\.nc: no geopotential"):
        wind_grid_3d(ds)


def test_surface_file_missing_a_time_is_named(tmp_path: Path) -> None:
    a = atmosphere(4)
    write_era5(a, tmp_path / "pl.nc", tmp_path / "sl_full.nc")
    write_era5(a, tmp_path / "unused.nc", tmp_path / "sl.nc", sl=slice(0, 3))
    with pytest.raises(MetDataError, match=r"sl\.nc: the surface fields have no record at 2026-03-01T03"):
        open_met_3d([tmp_path / "pl.nc", tmp_path / "sl.nc"])


def test_nan_inside_the_domain_names_the_file(tmp_path: Path) -> None:
    a = atmosphere(4)
    a.v[2, 3, 5, 7] = np.nan  # record 2, 700 hPa: above the ground everywhere
    folder = tmp_path / "h"
    folder.mkdir()
    for i in range(4):
        write_era5(a, folder / f"pl_{i}.nc", folder / f"sl_{i}.nc", sl=slice(i, i + 1))
    ds = open_met_3d(folder)
    with pytest.raises(MetDataError, match=r"pl_2\.nc .*1 NaN value\(s\) of 'v' inside the domain .*lat=45, lon=-3"):
        wind_grid_3d(ds)
    # NaN in the surface fields too
    b = atmosphere(2)
    b.blh[1, 0, 0] = np.nan
    write_era5(b, tmp_path / "pl.nc", tmp_path / "sl.nc")
    with pytest.raises(MetDataError, match=r"NaN value\(s\) of 'blh'"):
        wind_grid_3d(open_met_3d([tmp_path / "pl.nc", tmp_path / "sl.nc"]))


def test_nan_below_the_ground_is_not_an_error(tmp_path: Path) -> None:
    """Some products leave levels under the ground empty; with the ground known,
    those values are never used."""
    a = atmosphere(2)
    a.zs[:] = 900.0  # every column: 1000 and 925 hPa lie below the ground
    a.u[:, :2] = np.nan
    a.v[:, :2] = np.nan
    write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    grid = wind_grid_3d(open_met_3d([tmp_path / "pl.nc", tmp_path / "sl.nc"]))
    assert np.isfinite(grid.vec).all()


def test_masked_levels_under_the_ground_pass_and_above_it_are_refused(tmp_path: Path) -> None:
    """Levels masked (u, v and geopotential NaN) from the bottom up are under the ground
    where the file's orography says so; the same masked level where the ground is at sea
    level is a gap in the file, named (met audit, session 30: it had been read as under
    the ground and its wind dropped)."""
    a = atmosphere(2)
    a.zs[:] = 900.0  # 1000 and 925 hPa under the ground
    for f in (a.u, a.v, a.gh):
        f[:, :2] = np.nan
    write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    grid = wind_grid_3d(open_met_3d([tmp_path / "pl.nc", tmp_path / "sl.nc"]))
    assert np.isfinite(grid.vec).all()
    a.zs[:] = 0.0
    a.zs[3, 4] = 900.0  # one column's ground is high: the others' 1000 hPa is above the ground
    write_era5(a, tmp_path / "pl2.nc", tmp_path / "sl2.nc")
    with pytest.raises(MetDataError, match=r"pl2\.nc .*geopotential missing \(NaN\) at (1000|925) hPa at .*where "
                                           r"the ground there is at 0 m and the level at least at \d+ m .*: that level "
                                           r"is above the ground"):
        wind_grid_3d(open_met_3d([tmp_path / "pl2.nc", tmp_path / "sl2.nc"]))
    # the ground from the surface pressure instead of the orography
    with xr.open_dataset(tmp_path / "sl2.nc") as ds:
        sl = ds.drop_vars("z").load()
    sl["sp"] = sl["t2m"] * 0 + 101300.0
    sl["sp"].attrs = {"units": "Pa", "standard_name": "surface_air_pressure"}
    sl.to_netcdf(tmp_path / "sl3.nc")
    with pytest.raises(MetDataError, match=r"geopotential missing \(NaN\) at 1000 hPa .*where the surface pressure "
                                           r"there is 1013 hPa"):
        wind_grid_3d(open_met_3d([tmp_path / "pl2.nc", tmp_path / "sl3.nc"]))


def test_bad_record_range_and_heights_are_refused(tmp_path: Path) -> None:
    ds = open_met_3d(write_gfs(atmosphere(3), tmp_path / "gfs.nc"))
    with pytest.raises(MetDataError, match=r"gfs\.nc: records 2\.\.5 .* outside the 3 record"):
        wind_grid_3d(ds, records=(2, 5))
    with pytest.raises(MetDataError, match=r"gfs\.nc: z_levels_m=\[100\.0, 50\.0\]; expected"):
        wind_grid_3d(ds, z_levels_m=[100.0, 50.0])


def test_levels_without_a_coordinate_are_refused_and_other_layers_ignored(tmp_path: Path) -> None:
    a = atmosphere(2)
    path = write_gfs(a, tmp_path / "gfs.nc")
    with xr.open_dataset(path) as ds:
        soil = ds.load().assign(TSOIL=(("time", "depth", "latitude", "longitude"),
                                       np.full((2, 4) + ds["UGRD_10maboveground"].shape[1:], 280.0, np.float32)))
    soil.to_netcdf(tmp_path / "soil.nc")
    assert "TSOIL" not in open_met_3d(tmp_path / "soil.nc")  # soil layers: not read, no error
    with xr.open_dataset(path) as ds:
        u = np.stack([ds[f"UGRD_{p:g}mb"].values for p in LEVELS_HPA], axis=1)
        v = np.stack([ds[f"VGRD_{p:g}mb"].values for p in LEVELS_HPA], axis=1)
        bare = xr.Dataset({"u": (("time", "lev_index", "latitude", "longitude"), u, {"units": "m s-1"}),
                           "v": (("time", "lev_index", "latitude", "longitude"), v, {"units": "m s-1"})},
                          coords={"time": ds["time"].values, "latitude": ds["latitude"].values,
                                  "longitude": ds["longitude"].values})
    bare.to_netcdf(tmp_path / "bare.nc")
    with pytest.raises(MetDataError, match=r"bare\.nc: 'u' has the dimension 'lev_index' without a pressure"):
        open_met_3d(tmp_path / "bare.nc")


def test_forecast_steps_that_grow_are_not_a_gap(tmp_path: Path) -> None:
    """GFS: hourly steps, then 3-hourly: a change of step, not a missing record."""
    a = atmosphere(10)
    path = write_gfs(a, tmp_path / "gfs.nc")
    with xr.open_dataset(path) as ds:
        ds.isel(time=[0, 1, 2, 3, 6, 9]).load().to_netcdf(tmp_path / "steps.nc")
    assert open_met_3d(tmp_path / "steps.nc").sizes["time"] == 6
