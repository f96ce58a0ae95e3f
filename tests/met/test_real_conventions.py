"""Conventions of real met files that a reader must get right (or refuse in one
message): pressure levels in Pa under other spellings, the new CDS's split ERA5
download, surface-only files in a set, WRF's character times, ERA5T's ``expver``,
levels masked under the ground, geopotential in the wrong units, a regional grid
across the 180th meridian and cfgrib's reference ``time`` beside ``valid_time``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, wind_grid_3d
from plumecast.met.check import check_met
from plumecast.met.reader import open_wind, wind_file_domain
from tests.met.style_files import LAT, LEVELS_HPA, LON, atmosphere, write_era5, write_gfs, write_wrf


def _era5(tmp_path: Path, n: int = 3) -> tuple[xr.Dataset, xr.Dataset]:
    a = atmosphere(n)
    pl, sl = write_era5(a, tmp_path / "src_pl.nc", tmp_path / "src_sl.nc")
    with xr.open_dataset(pl) as p, xr.open_dataset(sl) as s:
        return p.load(), s.load()


def _levels_as(ds: xr.Dataset, values: np.ndarray, attrs: dict[str, str]) -> xr.Dataset:
    out = ds.assign_coords(pressure_level=("pressure_level", values, attrs))
    return out


@pytest.mark.parametrize(("factor", "attrs"), [(100.0, {"units": "pascal"}), (100.0, {"units": "Pa"}),
                                               (100.0, {}), (0.1, {"units": "kPa"}), (1.0, {"units": "millibars"})])
def test_pressure_levels_in_any_unit_are_read_in_hpa(tmp_path: Path, factor: float, attrs: dict[str, str]) -> None:
    pl, _ = _era5(tmp_path)
    hpa = pl["pressure_level"].values
    _levels_as(pl, hpa * factor, attrs).to_netcdf(tmp_path / "pl.nc")
    ds = open_met_3d(tmp_path / "pl.nc")
    np.testing.assert_allclose(ds["level"].values, np.sort(hpa)[::-1])


def test_levels_in_pa_labelled_hpa_are_refused(tmp_path: Path) -> None:
    pl, _ = _era5(tmp_path)
    _levels_as(pl, pl["pressure_level"].values * 100.0, {"units": "hPa"}).to_netcdf(tmp_path / "pl.nc")
    with pytest.raises(MetDataError, match=r"pl\.nc: pressure levels 'pressure_level' go up to 100000 hPa.*"
                                           r"expected hPa \(or the units 'Pa'"):
        open_met_3d(tmp_path / "pl.nc")


def test_single_level_reader_takes_pascal_levels(tmp_path: Path) -> None:
    pl, _ = _era5(tmp_path)
    _levels_as(pl, pl["pressure_level"].values * 100.0, {"units": "pascal"}).to_netcdf(tmp_path / "pl.nc")
    ds = open_wind(tmp_path / "pl.nc", level_hpa=850.0)
    assert "850 hPa" in ds.attrs["level"]


def test_new_cds_era5_zip_contents_are_read_as_one_set(tmp_path: Path) -> None:
    """The new CDS delivers single levels as an 'instant' and an 'accum' file with
    the same times and different variables: they are merged, not joined in time."""
    pl, sl = _era5(tmp_path)
    folder = tmp_path / "download"
    folder.mkdir()
    pl.to_netcdf(folder / "pressure_levels.nc")
    sl[["u10", "v10", "t2m", "blh", "zust", "z"]].to_netcdf(folder / "data_stream-oper_stepType-instant.nc")
    sl[["sshf", "tp"]].to_netcdf(folder / "data_stream-oper_stepType-accum.nc")
    ds = open_met_3d(folder)
    for name in ("u10", "blh", "ustar", "shf", "precip"):
        assert name in ds, name
    assert ds.sizes["time"] == 3
    # the same numbers as the two single-level files joined by hand
    sl.to_netcdf(tmp_path / "one_sl.nc")
    ref = open_met_3d([tmp_path / "src_pl.nc", tmp_path / "one_sl.nc"])
    for name in ("blh", "shf", "precip", "u10"):
        np.testing.assert_array_equal(ds[name].values, ref[name].values)


def test_a_quantity_twice_at_the_same_times_is_refused(tmp_path: Path) -> None:
    pl, sl = _era5(tmp_path)
    folder = tmp_path / "d"
    folder.mkdir()
    pl.to_netcdf(folder / "pl.nc")
    sl[["u10", "v10", "blh"]].to_netcdf(folder / "a_instant.nc")
    sl[["blh", "tp"]].to_netcdf(folder / "b_accum.nc")
    with pytest.raises(MetDataError, match=r"b_accum\.nc: 'blh' at the same times as in a_instant\.nc"):
        open_met_3d(folder)


def test_domain_comes_from_the_first_file_with_winds(tmp_path: Path) -> None:
    pl, sl = _era5(tmp_path)
    folder = tmp_path / "d"
    folder.mkdir()
    sl[["blh"]].to_netcdf(folder / "a_surface.nc")  # sorts first, has no winds
    pl.to_netcdf(folder / "b_levels.nc")
    lat, lon = wind_file_domain(folder)
    np.testing.assert_allclose(lat, LAT)
    np.testing.assert_allclose(lon, LON)
    sl[["blh"]].to_netcdf(tmp_path / "only_surface.nc")
    with pytest.raises(MetDataError, match=r"only_surface\.nc: no recognisable wind components"):
        wind_file_domain(tmp_path / "only_surface.nc")


def test_wrf_character_times_are_decoded(tmp_path: Path) -> None:
    a = atmosphere(3)
    path = write_wrf(a, tmp_path / "wrf_src.nc")
    with xr.open_dataset(path) as ds:
        text = np.array([list(str(t)[:19].replace("T", "_")) for t in ds["XTIME"].values], dtype="S1")
        out = ds.drop_vars("XTIME").load()
    out["Times"] = (("Time", "DateStrLen"), text)
    out.to_netcdf(tmp_path / "wrf_times.nc")
    ds3 = open_met_3d(tmp_path / "wrf_times.nc")
    np.testing.assert_array_equal(ds3["time"].values, a.times)
    out[["U10", "V10", "XLAT", "XLONG", "Times"]].to_netcdf(tmp_path / "wrf_surface.nc")
    one = open_wind(tmp_path / "wrf_surface.nc")
    np.testing.assert_array_equal(one["time"].values, a.times)


def test_expver_dimension_is_refused_with_the_way_out(tmp_path: Path) -> None:
    pl, _ = _era5(tmp_path)
    two = xr.concat([pl, pl], dim=xr.DataArray(["0001", "0005"], dims="expver", name="expver"))
    two.transpose("valid_time", "expver", ...).to_netcdf(tmp_path / "era5t.nc")
    with pytest.raises(MetDataError, match=r"era5t\.nc: 'u' has the dimension 'expver' \(2 values\).*combine_first"):
        open_met_3d(tmp_path / "era5t.nc")
    # read as one level, it fails too: the reason on levels is the one given
    with pytest.raises(MetDataError, match=r"'u' has the dimension 'expver' \(2 values\).*combine_first.*\)$"):
        check_met(tmp_path / "era5t.nc")


def test_geopotential_masked_under_the_ground_is_below_ground(tmp_path: Path) -> None:
    """Levels under the ground left missing (wrf-python's vinterp without
    extrapolation) are read as below ground; a missing value above a present
    one is still an error."""
    a = atmosphere(2)
    path = write_gfs(a, tmp_path / "gfs.nc")
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    ref = wind_grid_3d(open_met_3d(path))
    hole = ds.copy(deep=True)
    for name in ("HGT_1000mb", "UGRD_1000mb", "VGRD_1000mb", "TMP_1000mb", "VVEL_1000mb"):
        hole[name][:, 3:5, 4:7] = np.nan
    hole["HGT_surface"][:, 3:5, 4:7] = 900.0  # a mountain above the 1000 hPa surface
    hole.to_netcdf(tmp_path / "masked.nc")
    grid = wind_grid_3d(open_met_3d(tmp_path / "masked.nc"))
    assert np.isfinite(grid.vec).all()
    assert np.array_equal(grid.vec[..., :3, :], ref.vec[..., :3, :])  # untouched rows
    mid = ds.copy(deep=True)
    mid["HGT_850mb"][:, 3, 4] = np.nan  # missing above a present level
    mid.to_netcdf(tmp_path / "hole_aloft.nc")
    with pytest.raises(MetDataError, match=r"hole_aloft\.nc \(of .*\): 1 NaN value\(s\) of 'geopotential'"):
        wind_grid_3d(open_met_3d(tmp_path / "hole_aloft.nc"))


def test_geopotential_in_the_wrong_units_is_refused_and_dam_converted(tmp_path: Path) -> None:
    a = atmosphere(2)
    path = write_gfs(a, tmp_path / "gfs.nc")
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    ref = wind_grid_3d(open_met_3d(path))
    wrong = ds.copy(deep=True)
    dam = ds.copy(deep=True)
    for p in LEVELS_HPA:
        name = f"HGT_{p:g}mb"
        wrong[name] = wrong[name] * np.float32(9.80665)  # geopotential labelled gpm
        dam[name] = (dam[name] / np.float32(10.0)).assign_attrs(units="dam")
    wrong.to_netcdf(tmp_path / "wrong.nc")
    dam.to_netcdf(tmp_path / "dam.nc")
    with pytest.raises(MetDataError, match=r"wrong\.nc \(of .*\): geopotential height at 300 hPa averages .* m "
                                           r".* standard atmosphere puts that level at 9,16\d m"):
        wind_grid_3d(open_met_3d(tmp_path / "wrong.nc"))
    got = wind_grid_3d(open_met_3d(tmp_path / "dam.nc"))
    np.testing.assert_allclose(got.vec, ref.vec, atol=2e-3)


def test_regional_grid_across_the_dateline_says_so(tmp_path: Path) -> None:
    pl, _ = _era5(tmp_path)
    moved = pl.assign_coords(longitude=pl["longitude"].values * 0 + np.arange(pl.sizes["longitude"]) + 170.0)
    moved.to_netcdf(tmp_path / "pacific.nc")
    with pytest.raises(MetDataError, match=r"pacific\.nc: .*crosses the 180th meridian \(170\.\.19\d deg east\)"):
        wind_grid_3d(open_met_3d(tmp_path / "pacific.nc"))


def test_valid_time_is_preferred_to_the_reference_time(tmp_path: Path) -> None:
    """cfgrib's forecast steps: 'time' is the run's reference time, 'valid_time' the
    record's time; without their standard names, valid_time still wins."""
    pl, _ = _era5(tmp_path, n=3)
    paths = []
    for k in range(3):
        step = pl.isel(valid_time=k).assign_coords(time=pl["valid_time"].values[0],
                                                   step=pl["valid_time"].values[k] - pl["valid_time"].values[0])
        for c in ("valid_time", "time", "step"):
            step[c].attrs = {}
        paths.append(tmp_path / f"f{k:03d}.nc")
        step.to_netcdf(paths[-1])
    ds = open_met_3d(paths)
    np.testing.assert_array_equal(ds["time"].values, pl["valid_time"].values)


def test_files_with_unusable_levels_are_refused_for_that_reason(tmp_path: Path) -> None:
    pl, _ = _era5(tmp_path)
    _levels_as(pl, pl["pressure_level"].values * 100.0, {"units": "hPa"}).to_netcdf(tmp_path / "pl.nc")
    with pytest.raises(MetDataError, match=r"pl\.nc: pressure levels 'pressure_level' go up to 100000 hPa, beyond "
                                           r"any surface pressure \(1100 hPa\); expected hPa \(or the units 'Pa' if the "
                                           r"values are in Pa\)$"):
        check_met(tmp_path / "pl.nc")


def test_a_window_past_the_files_is_refused_for_that_reason(tmp_path: Path) -> None:
    """ERA5 levels and single levels: a run past the last record is refused because
    of the window, not for what the one-level fallback then finds in the set."""
    from plumecast.run_winds import scenario_winds
    from plumecast.scenario import scenario_from_dict

    a = atmosphere(3)
    write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    sc = scenario_from_dict({
        "name": "past the end", "start": "2026-03-01T00:00:00Z", "duration_h": 3, "time_step_s": 600,
        "particles": 10, "agent": "chlorine", "met": {"source": "file", "path": str(tmp_path)},
        "releases": [{"type": "point", "lat": 45, "lon": 0, "rate_kg_s": 1, "stop_h": 1}],
        "output": {"grid": {"lon_min": -5, "lon_max": 5, "lat_min": 41, "lat_max": 49, "resolution_deg": 1}}})
    with pytest.raises(MetDataError, match=r"do not cover the requested window .*the whole run$"):
        scenario_winds(sc)


def test_ensemble_control_and_perturbed_hypercubes_join_as_members(tmp_path: Path) -> None:
    """An ECMWF ENS GRIB file comes out of cfgrib as two hypercubes: the perturbed
    members (a number dimension) and the control (a scalar number 0). They join as
    members 0..n, the control first; a deterministic file's scalar number 0 is a
    single member that the run drops."""
    from plumecast.met.levels_read import normalise_met_3d

    a = atmosphere(2)
    lev = LEVELS_HPA[::-1]

    def cube(members: list[int] | None) -> xr.Dataset:
        shape = (len(members),) if members is not None else ()
        dims = (("number",) if members is not None else ()) + ("isobaricInhPa", "latitude", "longitude")
        k = np.asarray(members) if members is not None else np.array(0)
        fields = {}
        for name, values, units in (("u", a.u, "m s**-1"), ("v", a.v, "m s**-1"), ("gh", a.gh, "gpm")):
            base = values[0][::-1, ::-1]  # levels ascending in pressure order of the file, latitude descending
            data = base[None] + np.reshape(k, shape + (1, 1, 1)) if members is not None else base
            fields[name] = (dims, data.astype(np.float32), {"units": units})
        coords = {"isobaricInhPa": ("isobaricInhPa", lev, {"units": "hPa"}), "latitude": LAT[::-1],
                  "longitude": LON, "time": a.times[0], "step": np.timedelta64(0, "ns"), "valid_time": a.times[0]}
        coords["number"] = ("number", members) if members is not None else 0
        return xr.Dataset(fields, coords=coords)

    ds = normalise_met_3d([(tmp_path / "ens.grib", [cube([1, 2]), cube(None)])], source="ens")
    assert list(ds["number"].values) == [0, 1, 2]
    np.testing.assert_allclose(ds["u"].isel(number=2).values - ds["u"].isel(number=0).values, 2.0, atol=1e-5)
    temp = cube(None)[["gh"]].rename(gh="t")
    temp["t"] = temp["t"] * 0 + np.float32(280.0)
    temp["t"].attrs = {"units": "K"}
    one = normalise_met_3d([(tmp_path / "hres.grib", [cube(None), temp])], source="hres")
    assert "number" not in one.dims


def test_a_file_that_is_not_netcdf_or_grib_says_what_it_begins_with(tmp_path: Path) -> None:
    (tmp_path / "era5.nc").write_text("<html><body>Service unavailable</body></html>")
    with pytest.raises(MetDataError, match=r"era5\.nc: is not a netCDF or GRIB file \(it begins with '<html><b'"):
        open_met_3d(tmp_path / "era5.nc")
    with pytest.raises(MetDataError, match=r"era5\.nc: is not a netCDF or GRIB file"):
        open_wind(tmp_path / "era5.nc")


def test_a_field_named_t_is_not_taken_for_the_time(tmp_path: Path) -> None:
    """'t' is a time name in some files and the temperature in many: a field of
    several dimensions named t is never read as the time."""
    pl, _ = _era5(tmp_path, n=1)
    one = pl.isel(valid_time=0, drop=True)  # no time coordinate at all, a 't' field on levels
    one.to_netcdf(tmp_path / "no_time.nc")
    with pytest.raises(MetDataError, match=r"no_time\.nc: no time coordinate; .*found \[.*'t'"):
        open_met_3d(tmp_path / "no_time.nc")  # not: time 't' could not be decoded
