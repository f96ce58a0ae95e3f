"""Met sets with a file per variable (CDS requests of ``u10`` and ``v10``, the NOMADS
filter, ECMWF open data or MARS GRIB per parameter): files that hold different
variables for the same times are merged before the winds are looked for, on the
one-level path and on levels, for GRIB and netCDF, given as a list, a glob or a
folder; split by variable and by time they are merged per time, then joined in
time. The same variable twice, grids that differ, or a wind component in no file
is refused in one line naming the files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, open_wind, wind_grid_3d
from plumecast.met.reader import met_members, open_met_dataset, wind_file_domain
from plumecast.transport.windgrid import wind_grid
from tests.met.style_files import atmosphere, write_era5

DATA = Path(__file__).parents[1] / "data"
WIND_GRIB = DATA / "wind_20x20.grib"  # ECMWF 10u, 10v, 2024-05-14 12 UTC, 20 deg global
ECMWF_GRIB2 = DATA / "fetch" / "ecmwf" / "20240101000000-oper-fc.grib2"  # u v w gh t on 3 levels, steps 0, 3 h
needs_cfgrib = pytest.mark.skipif(importlib.util.find_spec("cfgrib") is None, reason="cfgrib not installed")


def _split_grib(src: Path, folder: Path, type_of_level: str | None = None, by_step: bool = False,
                names: tuple[str, ...] = ()) -> list[Path]:
    """The messages of ``src`` (of ``type_of_level``, with the shortNames ``names``)
    written to a file per shortName (and per step), with ecCodes."""
    import eccodes

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with open(src, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            try:
                if type_of_level is not None and eccodes.codes_get(h, "typeOfLevel") != type_of_level:
                    continue
                name = str(eccodes.codes_get(h, "shortName"))
                if names and name not in names:
                    continue
                if by_step:
                    name += f"_step{eccodes.codes_get(h, 'step')}"
                path = out.setdefault(name, folder / f"{name}{src.suffix}")
                with open(path, "ab") as fo:
                    eccodes.codes_write(h, fo)
            finally:
                eccodes.codes_release(h)
    return sorted(out.values())


def _as_netcdf(grib_files: list[Path], folder: Path) -> list[Path]:
    """Each GRIB file written as netCDF by xarray from cfgrib (as users convert them)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for g in grib_files:
        with xr.open_dataset(g, engine="cfgrib", backend_kwargs={"indexpath": ""}) as ds:
            path = folder / f"{g.stem}.nc"
            ds.load().to_netcdf(path)
        out.append(path)
    return out


def _same_winds(a: xr.Dataset, b: xr.Dataset) -> None:
    np.testing.assert_array_equal(a["time"].values, b["time"].values)
    for name in ("u", "v"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    ga, gb = wind_grid(a), wind_grid(b)
    np.testing.assert_array_equal(ga.vec, gb.vec)
    assert (ga.lon0, ga.dlon, ga.nlon, ga.lat0, ga.dlat, ga.nlat) == (gb.lon0, gb.dlon, gb.nlon, gb.lat0, gb.dlat,
                                                                      gb.nlat)


def _era5_single(tmp_path: Path, n: int = 4) -> xr.Dataset:
    a = atmosphere(n)
    _, sl = write_era5(a, tmp_path / "src_pl.nc", tmp_path / "src_sl.nc")
    with xr.open_dataset(sl) as ds:
        return ds.load()


def _era5_levels(tmp_path: Path, n: int = 2) -> xr.Dataset:
    pl = write_era5(atmosphere(n), tmp_path / "src_pl.nc")[0]
    with xr.open_dataset(pl) as ds:
        return ds.load()


# --------------------------------------------------------------------------- one level


@needs_cfgrib
def test_split_grib_and_netcdf_10m_winds_read_as_the_unsplit_file(tmp_path: Path) -> None:
    grib = _split_grib(WIND_GRIB, tmp_path / "grib")
    assert [p.name for p in grib] == ["10u.grib", "10v.grib"]
    nc = _as_netcdf(grib, tmp_path / "nc")
    ref = open_wind(WIND_GRIB)
    for files in (grib, nc):
        for path in (files, files[::-1], str(files[0].parent / "10*"), files[0].parent):
            ds = open_wind(path)  # type: ignore[arg-type]
            _same_winds(ds, ref)
            assert ds.attrs["level"] == "10 m" and ds.attrs["steady"] == 1
            assert "2 met files" in ds.attrs["source"]
        lat, lon = wind_file_domain(files)
        ref_lat, ref_lon = wind_file_domain(WIND_GRIB)
        np.testing.assert_array_equal(lat, ref_lat)
        np.testing.assert_array_equal(lon, ref_lon)
    # GRIB and netCDF of the same variable together
    _same_winds(open_wind([grib[0], nc[1]]), ref)


@needs_cfgrib
def test_a_scenario_on_split_files_gets_the_winds_of_the_unsplit_file(tmp_path: Path) -> None:
    """The run's path: the read on levels finds none, the one-level reader merges
    the files; the release is checked against the merged files' domain."""
    from plumecast.run_winds import run_winds
    from plumecast.scenario import scenario_from_dict

    grib = _split_grib(WIND_GRIB, tmp_path / "grib")

    def winds(path: object):  # type: ignore[no-untyped-def]
        sc = scenario_from_dict({
            "name": "split", "start": "2024-05-14T00:00:00Z", "duration_h": 1, "time_step_s": 600,
            "particles": 10, "backend": "numpy", "agent": "chlorine", "met": {"source": "file", "path": path},
            "releases": [{"type": "point", "lat": 0.0, "lon": 0.0, "rate_kg_s": 1.0}]})
        return run_winds(sc).first_grid()

    a, b = winds(str(WIND_GRIB)), winds([str(p) for p in grib])
    np.testing.assert_array_equal(a.vec, b.vec)


def test_split_by_variable_and_by_time_is_merged_then_joined(tmp_path: Path) -> None:
    sl = _era5_single(tmp_path, 4)
    folder = tmp_path / "d"
    folder.mkdir()
    for day, sel in ((1, slice(0, 2)), (2, slice(2, 4))):
        sl[["u10"]].isel(valid_time=sel).to_netcdf(folder / f"u_day{day}.nc")
        sl[["v10"]].isel(valid_time=sel).to_netcdf(folder / f"v_day{day}.nc")
    ref = open_wind(tmp_path / "src_sl.nc")
    assert ref.sizes["time"] == 4
    ds = open_wind(folder)
    _same_winds(ds, ref)
    assert ds.attrs["steady"] == 0
    assert list(open_met_dataset(folder)["met_file"].values) == ["u_day1.nc + v_day1.nc"] * 2 + ["u_day2.nc + v_day2.nc"] * 2
    # lazy until read; the run's window reads the records it needs
    assert open_wind(sorted(folder.iterdir()), time_window=(ref["time"].values[1], ref["time"].values[2])
                     ).sizes["time"] == 2
    # files in another order in each day (v sorts first on day 2): merged all the same
    (folder / "u_day2.nc").rename(folder / "z_u_day2.nc")
    _same_winds(open_wind(folder), ref)
    assert met_members(folder) is None


def test_a_surface_file_beside_the_wind_files_of_the_same_times_is_merged(tmp_path: Path) -> None:
    sl = _era5_single(tmp_path, 2)
    sl[["u10"]].to_netcdf(tmp_path / "u10.nc")
    sl[["v10"]].to_netcdf(tmp_path / "v10.nc")
    sl[["blh", "t2m"]].to_netcdf(tmp_path / "blh.nc")
    _same_winds(open_wind([tmp_path / "u10.nc", tmp_path / "v10.nc", tmp_path / "blh.nc"]),
                open_wind(tmp_path / "src_sl.nc"))


# --------------------------------------------------------------------------- on levels


def test_split_pressure_level_netcdf_reads_as_one_file(tmp_path: Path) -> None:
    pl = _era5_levels(tmp_path, 2)
    one = tmp_path / "one.nc"
    pl[["u", "v", "z"]].to_netcdf(one)
    folder = tmp_path / "split"
    folder.mkdir()
    for name in ("u", "v", "z"):
        pl[[name]].to_netcdf(folder / f"{name}.nc")
    ref = wind_grid_3d(open_met_3d(one))
    grid = wind_grid_3d(open_met_3d(folder))
    np.testing.assert_array_equal(grid.vec, ref.vec)
    np.testing.assert_array_equal(grid.z_m, ref.z_m)
    # one level of them on the one-level path (met.vertical: single)
    _same_winds(open_wind(folder, level_hpa=850.0), open_wind(one, level_hpa=850.0))
    # split by time too
    by_time = tmp_path / "by_time"
    by_time.mkdir()
    for name in ("u", "v", "z"):
        for k in range(2):
            pl[[name]].isel(valid_time=[k]).to_netcdf(by_time / f"{name}_{k}.nc")
    np.testing.assert_array_equal(wind_grid_3d(open_met_3d(by_time)).vec, ref.vec)


@needs_cfgrib
def test_split_pressure_level_grib_reads_as_one_file(tmp_path: Path) -> None:
    """ECMWF open-data-like GRIB2, a file per parameter (and per step) on pressure levels."""
    whole = open_met_3d(ECMWF_GRIB2)
    names = ("u", "v", "gh", "w")
    split = open_met_3d(_split_grib(ECMWF_GRIB2, tmp_path / "p", "isobaricInhPa", names=names))
    by_step = open_met_3d(_split_grib(ECMWF_GRIB2, tmp_path / "s", "isobaricInhPa", by_step=True, names=names))
    assert set(map(str, split.data_vars)) == {"u", "v", "gh", "omega"}
    ref = wind_grid_3d(whole[list(split.data_vars)])
    for ds in (split, by_step):
        assert ds.sizes["time"] == 2
        grid = wind_grid_3d(ds)
        np.testing.assert_array_equal(grid.vec, ref.vec)
        assert grid.w is not None and ref.w is not None
        np.testing.assert_array_equal(grid.w, ref.w)


# --------------------------------------------------------------------------- refusals


def test_the_same_variable_in_two_files_of_the_same_times_names_both(tmp_path: Path) -> None:
    sl = _era5_single(tmp_path, 2)
    sl[["u10"]].to_netcdf(tmp_path / "a_u.nc")
    sl[["u10", "v10"]].to_netcdf(tmp_path / "b_uv.nc")
    with pytest.raises(MetDataError, match=r"b_uv\.nc: 'u10' at the same times as in a_u\.nc; expected each "
                                           r"quantity in one file"):
        open_wind([tmp_path / "a_u.nc", tmp_path / "b_uv.nc"])
    pl = _era5_levels(tmp_path, 2)
    pl[["u", "z"]].to_netcdf(tmp_path / "pl_a.nc")
    pl[["v", "z"]].to_netcdf(tmp_path / "pl_b.nc")
    with pytest.raises(MetDataError, match=r"pl_b\.nc: 'gh' at the same times as in pl_a\.nc"):
        open_met_3d([tmp_path / "pl_a.nc", tmp_path / "pl_b.nc"])


def test_grids_that_differ_between_files_of_the_same_times_are_named(tmp_path: Path) -> None:
    sl = _era5_single(tmp_path, 2)
    sl[["u10"]].to_netcdf(tmp_path / "u.nc")
    sl[["v10"]].isel(latitude=slice(1, None)).to_netcdf(tmp_path / "v.nc")
    with pytest.raises(MetDataError, match=r"v\.nc: holds the same times as u\.nc but on another latitude axis "
                                           r"\(10 values 49\.\.40 step -1 against 11 values 50\.\.40 step -1\); "
                                           r"expected the files of one time on one grid"):
        open_wind([tmp_path / "u.nc", tmp_path / "v.nc"])
    pl = _era5_levels(tmp_path, 2)
    pl[["u", "z"]].to_netcdf(tmp_path / "pl_u.nc")
    pl[["v"]].isel(longitude=slice(0, -1)).to_netcdf(tmp_path / "pl_v.nc")
    with pytest.raises(MetDataError, match=r"pl_v\.nc: holds the same times as pl_u\.nc but on another lon axis "
                                           r"\(20 values .* against 21 values"):
        open_met_3d([tmp_path / "pl_u.nc", tmp_path / "pl_v.nc"])


def test_u_without_v_in_any_file_names_the_files_and_what_they_hold(tmp_path: Path) -> None:
    sl = _era5_single(tmp_path, 4)
    sl[["u10"]].to_netcdf(tmp_path / "u.nc")
    sl[["t2m", "blh"]].to_netcdf(tmp_path / "t.nc")
    with pytest.raises(MetDataError, match=r"/t\.nc and u\.nc: no recognisable wind components; the eastward wind "
                                           r"'u10' \(in u\.nc\) but no northward wind in these files or in any "
                                           r"other file of the same times .*; found "
                                           r"t\.nc: \['t2m', 'blh'\]; u\.nc: \['u10'\]"):
        open_wind(str(tmp_path / "[tu].nc"))
    # split by time, one day's v missing: that day's file is named
    folder = tmp_path / "d"
    folder.mkdir()
    sl[["u10"]].isel(valid_time=slice(0, 2)).to_netcdf(folder / "u_day1.nc")
    sl[["v10"]].isel(valid_time=slice(0, 2)).to_netcdf(folder / "v_day1.nc")
    sl[["u10"]].isel(valid_time=slice(2, 4)).to_netcdf(folder / "u_day2.nc")
    with pytest.raises(MetDataError, match=r"u_day2\.nc: no recognisable wind components; the eastward wind "
                                           r"'u10' \(in u_day2\.nc\) but no northward wind in the file or in "
                                           r"any other file of the same times"):
        open_wind(folder)
    # on levels: the files merged and what each holds
    pl = _era5_levels(tmp_path, 2)
    pl[["u"]].to_netcdf(tmp_path / "pl_u.nc")
    pl[["z"]].to_netcdf(tmp_path / "pl_z.nc")
    with pytest.raises(MetDataError, match=r"pl_u\.nc and pl_z\.nc: no northward wind on levels; .*found "
                                           r"pl_u\.nc: \['u'\]; pl_z\.nc: \['gh'\]"):
        open_met_3d([tmp_path / "pl_u.nc", tmp_path / "pl_z.nc"])


def test_a_single_file_without_winds_keeps_its_message(tmp_path: Path) -> None:
    sl = _era5_single(tmp_path, 2)
    sl[["u10"]].to_netcdf(tmp_path / "u.nc")
    with pytest.raises(MetDataError, match=r"u\.nc: no recognisable wind components; .*found variables \['u10'\]"):
        open_wind(tmp_path / "u.nc")
