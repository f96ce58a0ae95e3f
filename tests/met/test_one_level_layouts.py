"""One level read from the layouts the 3-D reader reads (``met.level_hpa``,
``met.vertical: single``): GFS/wgrib2's variable per level (``UGRD_850mb``), WRF
post's ``PRES`` levels on ``num_press_levels``, and ERA5's pressure-level and
single-level files given together (old and new CDS), each giving the same winds as
the ERA5 pressure-level file alone; what cannot be read as a pressure level is
refused in one true line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_wind
from tests.met.style_files import LEVELS_HPA, atmosphere, write_era5, write_gfs, write_wrf

N = 3


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("one_level")
    a = atmosphere(n_times=N)
    pl, sl = write_era5(a, d / "pl.nc", d / "sl.nc")
    return {"pl": pl, "sl": sl, "gfs": write_gfs(a, d / "gfs.nc"), "wrf": write_wrf(a, d / "wrf.nc"), "dir": d}


def _same_winds(a: xr.Dataset, b: xr.Dataset) -> None:
    np.testing.assert_allclose(a["lat"].values, b["lat"].values)
    np.testing.assert_allclose(a["lon"].values, b["lon"].values)
    np.testing.assert_array_equal(a["time"].values, b["time"].values)
    np.testing.assert_allclose(a["u"].values, b["u"].values, atol=1e-5)
    np.testing.assert_allclose(a["v"].values, b["v"].values, atol=1e-5)


@pytest.mark.parametrize("layout", ["gfs", "wrf"])
def test_level_hpa_reads_gfs_and_wrf_pressure_levels(files: dict[str, Path], layout: str) -> None:
    """Was: 'the winds 'UGRD_1000mb' are not on pressure levels (level 1000 hPa)' and
    'winds 'U' are not on pressure levels (level unspecified)'."""
    for level in (850.0, 500.0):
        got = open_wind(files[layout], level_hpa=level)
        assert got.attrs["level"] == f"{level:g} hPa"
        _same_winds(got, open_wind(files["pl"], level_hpa=level))
    # default: the level nearest the ground, whatever the order of the file's variables
    got = open_wind(files[layout])
    assert got.attrs["level"] == "1000 hPa"
    _same_winds(got, open_wind(files["pl"]))
    if layout == "gfs":
        assert "winds from 'UGRD_1000mb'/'VGRD_1000mb'" in got.attrs["history"]
    levels = str(sorted(LEVELS_HPA.tolist()))
    with pytest.raises(MetDataError, match=rf"{layout}\.nc: pressure level 333 hPa not in the file; available "
                                           rf"levels {re.escape(levels)} hPa"):
        open_wind(files[layout], level_hpa=333)


def test_level_hpa_of_wgrib2_files_of_a_set(files: dict[str, Path], tmp_path: Path) -> None:
    """A set of GFS/wgrib2 files (one per record) is read at the level asked for."""
    a = atmosphere(n_times=N)
    paths = [write_gfs(a, tmp_path / f"gfs_f{k:03d}.nc", sl=slice(k, k + 1)) for k in range(N)]
    _same_winds(open_wind(paths, level_hpa=700), open_wind(files["pl"], level_hpa=700))


def test_era5_pressure_and_single_level_files_give_the_pressure_level(files: dict[str, Path], tmp_path: Path) -> None:
    """Was: 'sl.nc: has variables ['u10', 'v10'] but pl.nc has ['u', 'v']; expected the
    same variables in every file'. The pair reads as the pressure-level file alone:
    level_hpa, else the level nearest the ground (docs/scenario.md, met.level_hpa)."""
    pair = [files["pl"], files["sl"]]
    for level in (None, 850.0):
        got = open_wind(pair, level_hpa=level)
        _same_winds(got, open_wind(files["pl"], level_hpa=level))
        assert got.attrs["level"] == ("1000 hPa" if level is None else "850 hPa")
    # old CDS netCDF: the levels on 'level' (an axis the single-level file has not)
    with xr.open_dataset(files["pl"]) as ds:
        ds.rename({"pressure_level": "level"}).to_netcdf(tmp_path / "pl_old.nc")
    _same_winds(open_wind([tmp_path / "pl_old.nc", files["sl"]], level_hpa=700),
                open_wind(files["pl"], level_hpa=700))
    # split in time: each hour's pair merged, then joined
    a = atmosphere(n_times=N)
    folder = tmp_path / "hourly"
    folder.mkdir()
    for k in range(N):
        write_era5(a, folder / f"pl_{k}.nc", folder / f"sl_{k}.nc", sl=slice(k, k + 1))
    _same_winds(open_wind(folder, level_hpa=500), open_wind(files["pl"], level_hpa=500))
    # the new CDS: the single levels in an 'instant' and an 'accum' file (both hold no wind on levels)
    new = tmp_path / "newcds"
    new.mkdir()
    with xr.open_dataset(files["sl"]) as sl:
        sl[["u10", "v10", "blh", "z"]].to_netcdf(new / "data_stream-oper_stepType-instant.nc")
        sl[["tp", "sshf"]].to_netcdf(new / "data_stream-oper_stepType-accum.nc")
    with xr.open_dataset(files["pl"]) as pl:
        pl.to_netcdf(new / "pressure_levels.nc")
    _same_winds(open_wind(new, level_hpa=850), open_wind(files["pl"], level_hpa=850))


def test_a_nan_in_the_pair_names_the_pressure_level_file(files: dict[str, Path], tmp_path: Path) -> None:
    with xr.open_dataset(files["pl"]) as ds:
        ds = ds.load()
    u = ds["u"].values.copy()
    k = int(np.flatnonzero(ds["pressure_level"].values == 850)[0])
    u[2, k, 3, 4] = np.nan
    ds["u"] = (ds["u"].dims, u, ds["u"].attrs)
    ds.to_netcdf(tmp_path / "bad_pl.nc")
    with pytest.raises(MetDataError, match=r"bad_pl\.nc \(of 2 met files .*\): 1 NaN value\(s\) of 'u' inside the "
                                           r"domain .*time=2026-03-01T02:00:00"):
        open_wind([tmp_path / "bad_pl.nc", files["sl"]], level_hpa=850)
    open_wind([tmp_path / "bad_pl.nc", files["sl"]], level_hpa=700)  # another level is complete
    # the single-level file first in name order, and a record whose files are not a pair
    folder = tmp_path / "set"
    folder.mkdir()
    ds.isel(valid_time=[0, 1]).to_netcdf(folder / "b_pl_0.nc")
    ds.isel(valid_time=[2]).to_netcdf(folder / "b_pl_1.nc")
    with xr.open_dataset(files["sl"]) as sl:
        sl.isel(valid_time=[0, 1]).to_netcdf(folder / "a_sl_0.nc")
    with pytest.raises(MetDataError, match=r"^b_pl_1\.nc \(of 3 met files .*\): 1 NaN value\(s\) of 'u'"):
        open_wind(folder, level_hpa=850)
    u = ds["u"].values.copy()
    u[2, k, 3, 4] = 5.0
    u[1, k, 3, 4] = np.nan
    ds["u"] = (ds["u"].dims, u, ds["u"].attrs)
    ds.isel(valid_time=[0, 1]).to_netcdf(folder / "b_pl_0.nc")
    ds.isel(valid_time=[2]).to_netcdf(folder / "b_pl_1.nc")
    with pytest.raises(MetDataError, match=r"^b_pl_0\.nc \(of 3 met files .*\): 1 NaN value\(s\) of 'u'"):
        open_wind(folder, level_hpa=850)


def test_10m_winds_alone_with_level_hpa_are_refused_truly(files: dict[str, Path]) -> None:
    with pytest.raises(MetDataError, match=r"sl\.nc: level_hpa=850 asked for but the winds 'u10' are at one level "
                                           r"\(10 m\), not on pressure levels; expected winds on pressure levels"):
        open_wind(files["sl"], level_hpa=850)
    assert open_wind(files["sl"]).attrs["level"] == "10 m"


def test_height_levels_and_levels_without_a_coordinate(tmp_path: Path) -> None:
    """Winds on height levels: the lowest by default, level_hpa refused naming the
    heights; on a dimension without a vertical coordinate: refused naming it."""
    rng = np.random.default_rng(1)
    shape = (2, 3, 4, 5)
    base = {"u": (("time", "height", "lat", "lon"), rng.normal(size=shape).astype(np.float32), {"units": "m s-1"}),
            "v": (("time", "height", "lat", "lon"), rng.normal(size=shape).astype(np.float32), {"units": "m s-1"})}
    coords = {"time": np.array(["2026-03-01T00", "2026-03-01T01"], dtype="datetime64[ns]"),
              "lat": np.arange(4.0), "lon": np.arange(5.0)}
    ds = xr.Dataset(base, coords={**coords, "height": ("height", [100.0, 10.0, 500.0], {"units": "m"})})
    ds.to_netcdf(tmp_path / "heights.nc")
    got = open_wind(tmp_path / "heights.nc")
    assert got.attrs["level"] == "10 m"
    np.testing.assert_allclose(got["u"].values, ds["u"].values[:, 1], atol=1e-6)
    with pytest.raises(MetDataError, match=r"heights\.nc: level_hpa=850 asked for but the winds 'u' are on height "
                                           r"levels \(10, 100, 500 m\); expected winds on pressure levels"):
        open_wind(tmp_path / "heights.nc", level_hpa=850)
    xr.Dataset({k: (("time", "model_level", "lat", "lon"), val, at) for k, (_, val, at) in base.items()},
               coords=coords).to_netcdf(tmp_path / "model.nc")
    with pytest.raises(MetDataError, match=r"model\.nc: level_hpa=850 asked for but the winds 'u' are on the "
                                           r"dimension 'model_level', which has no pressure coordinate"):
        open_wind(tmp_path / "model.nc", level_hpa=850)
