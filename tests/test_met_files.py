"""Met from many files (lists, globs, folders), GRIB through cfgrib, ensemble members.

The GRIB files in ``tests/data`` are real ECMWF samples shipped with cfgrib (see
``tests/data/README.md``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError, ScenarioError
from plumecast.met import open_wind
from plumecast.met.reader import met_members, met_paths, open_met_dataset
from plumecast.scenario import scenario_from_dict

DATA = Path(__file__).parent / "data"
UV_GRIB = DATA / "uv_on_different_levels.grib"  # ECMWF fc 2017-10-18 12 UTC, steps 6 h and 12 h, 5 deg
MEMBERS_GRIB = DATA / "era5-levels-members-850hPa.grib"  # ERA5 EDA t 850 hPa, 10 members, 2 times
needs_cfgrib = pytest.mark.skipif(importlib.util.find_spec("cfgrib") is None, reason="cfgrib not installed")

LAT = np.arange(30.0, 60.01, 1.0)
LON = np.arange(-20.0, 30.01, 1.0)
T0 = np.datetime64("2026-03-01T00:00", "ns")


def _winds(n_times: int, n_members: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smooth winds that change every hour (and per member), shape ([member,] time, lat, lon)."""
    t = np.arange(n_times, dtype=float)[:, None, None]
    la = np.deg2rad(LAT)[None, :, None]
    lo = np.deg2rad(LON)[None, None, :]
    u = 8.0 + 4.0 * np.sin(2 * lo + 0.3 * t) * np.cos(la)
    v = 3.0 * np.cos(3 * la - 0.2 * t) + np.sin(lo)
    times = T0 + np.arange(n_times) * np.timedelta64(1, "h")
    if n_members:
        k = np.arange(n_members, dtype=float)[:, None, None, None]
        u, v = u[None] + k, v[None] - 0.5 * k
    return u.astype(np.float32), v.astype(np.float32), times


def _era5_file(path: Path, u: np.ndarray, v: np.ndarray, times: np.ndarray, members: bool = False) -> Path:
    """ERA5-like netCDF: u/v on (valid_time, latitude 60..30, longitude) [m s-1]."""
    dims = ("valid_time", "latitude", "longitude")
    coords: dict[str, object] = {"valid_time": times, "latitude": LAT[::-1], "longitude": LON}
    if members:
        dims = ("number",) + dims
        coords["number"] = np.arange(u.shape[0])
    attrs = {"units": "m s**-1"}
    xr.Dataset({"u": (dims, u[..., ::-1, :], attrs), "v": (dims, v[..., ::-1, :], attrs)},
               coords=coords).to_netcdf(path)
    return path


def _hourly_files(folder: Path, n_times: int = 7, members: int = 0) -> tuple[Path, list[Path]]:
    """The same winds as one file and as one file per hour in ``folder``."""
    u, v, times = _winds(n_times, members)
    folder.mkdir(parents=True, exist_ok=True)
    one = _era5_file(folder.parent / f"{folder.name}_all.nc", u, v, times, members=bool(members))
    files = []
    for i in range(n_times):
        name = f"era5_{np.datetime_as_string(times[i], unit='h').replace(':', '')}.nc"
        files.append(_era5_file(folder / name, u[..., i : i + 1, :, :], v[..., i : i + 1, :, :], times[i : i + 1],
                                members=bool(members)))
    return one, files


def _scenario(met_path: object, start: str = "2026-03-01T00:00:00Z", hours: float = 6, base_dir: Path | None = None,
              **over: object):
    data = {
        "name": "met files",
        "start": start,
        "duration_h": hours,
        "time_step_s": 600,
        "particles": 3000,
        "seed": 3,
        "backend": "numpy",
        "agent": {"name": "chlorine"},
        "met": {"source": "file", "path": met_path},
        "releases": [{"type": "point", "lat": 45.0, "lon": 5.0, "height_m": 10, "rate_kg_s": 5.0}],
        "output": {"grid": {"lon_min": -20, "lon_max": 30, "lat_min": 30, "lat_max": 60, "resolution_deg": 0.5}},
    }
    data.update(over)
    return scenario_from_dict(data, base_dir=base_dir)


# --------------------------------------------------------------------------- many files


def test_list_glob_and_folder_read_the_same_winds_as_one_file(tmp_path: Path) -> None:
    one, files = _hourly_files(tmp_path / "hourly")
    ref = open_wind(one)
    assert ref.sizes["time"] == 7
    for path in (files, files[::-1], str(tmp_path / "hourly" / "era5_*.nc"), tmp_path / "hourly"):
        ds = open_wind(path)  # type: ignore[arg-type]
        np.testing.assert_array_equal(ds["time"].values, ref["time"].values)
        np.testing.assert_array_equal(ds["u"].values, ref["u"].values)
        np.testing.assert_array_equal(ds["v"].values, ref["v"].values)
        assert ds.attrs["steady"] == 0 and "7 met files" in ds.attrs["source"]
    # the joined dataset is lazy: nothing read but the metadata
    lazy = open_met_dataset(files)
    assert lazy["u"].chunks is not None
    assert list(lazy["met_file"].values) == [f.name for f in files]


def test_hourly_files_give_the_same_forecast_as_one_file(tmp_path: Path) -> None:
    from plumecast.runner import run

    one, _ = _hourly_files(tmp_path / "hourly")
    a = run(_scenario(str(one)))
    b = run(_scenario(str(tmp_path / "hourly")))
    assert a.budget.released > 0
    assert float(a.concentration.max()) > 0
    np.testing.assert_array_equal(a.concentration.values, b.concentration.values)
    np.testing.assert_array_equal(a.particles.lon, b.particles.lon)


def test_only_the_records_of_the_run_window_are_read(tmp_path: Path) -> None:
    """Records outside the window hold NaN: reading them would fail the NaN check."""
    u, v, times = _winds(48)
    u[:10] = np.nan
    u[14:] = np.nan
    folder = tmp_path / "h"
    folder.mkdir()
    for i in range(48):
        _era5_file(folder / f"f{i:02d}.nc", u[i : i + 1], v[i : i + 1], times[i : i + 1])
    ds = open_wind(folder, time_window=(times[10] + np.timedelta64(30, "m"), times[13]))
    np.testing.assert_array_equal(ds["time"].values, times[10:14])
    assert "read 4 of 48 time records" in ds.attrs["history"]
    with pytest.raises(MetDataError, match=r"f09\.nc .*NaN value\(s\) of 'u'"):
        open_wind(folder, time_window=(times[9], times[12]))


def test_gap_between_files_names_the_file(tmp_path: Path) -> None:
    _, files = _hourly_files(tmp_path / "hourly")
    files[3].unlink()
    with pytest.raises(MetDataError, match=rf"{files[4].name}: starts at .*2 h after {files[2].name} ends.*gap"):
        open_wind(tmp_path / "hourly")


def test_overlap_between_files_names_both(tmp_path: Path) -> None:
    one, files = _hourly_files(tmp_path / "hourly")
    with pytest.raises(MetDataError, match=rf"(?=.*{files[0].name})(?=.*{one.name}).*: times .* overlap those of "):
        open_wind([one, files[0]])
    with pytest.raises(MetDataError, match=rf"{files[5].name}: times .*T05.* overlap those of .*{one.name}"):
        open_wind([one] + files[5:])


def test_file_without_winds_or_on_another_grid_is_named(tmp_path: Path) -> None:
    _, files = _hourly_files(tmp_path / "hourly")
    with xr.open_dataset(files[2]) as ds:
        bad = ds.load()
    files[2].unlink()
    bad.rename({"u": "t"}).to_netcdf(files[2])
    with pytest.raises(MetDataError, match=rf"{files[2].name}: no recognisable wind components"):
        open_wind(files)
    files[2].unlink()
    bad.isel(latitude=slice(1, None)).to_netcdf(files[2])
    with pytest.raises(MetDataError, match=rf"{files[2].name}: dimension 'latitude' differs"):
        open_wind(files)


def test_paths_that_name_no_file(tmp_path: Path) -> None:
    with pytest.raises(MetDataError, match=r"nothing_\*\.nc: the pattern matches no file"):
        met_paths(str(tmp_path / "nothing_*.nc"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no met here")
    with pytest.raises(MetDataError, match=r"empty: folder holds no met file"):
        met_paths(tmp_path / "empty")
    with pytest.raises(MetDataError, match=r"absent\.nc: file not found"):
        met_paths([tmp_path / "absent.nc"])


def test_scenario_accepts_list_glob_and_folder_and_checks_the_domain(tmp_path: Path) -> None:
    _, files = _hourly_files(tmp_path / "hourly")
    for path in ([str(f) for f in files], str(tmp_path / "hourly" / "*.nc"), str(tmp_path / "hourly")):
        sc = _scenario(path)
        assert len(met_paths(sc.met.path)) == 7  # type: ignore[arg-type]
    # relative to the scenario file's folder
    sc = _scenario("hourly/*.nc", base_dir=tmp_path)
    assert len(met_paths(sc.met.path)) == 7  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match=r"releases\.0 at lat 10, lon 5 is outside the winds of met\.path"):
        _scenario(str(tmp_path / "hourly"), releases=[{"type": "point", "lat": 10.0, "lon": 5.0, "rate_kg_s": 1.0}])
    with pytest.raises(ScenarioError, match=r"met\.path: .*nothing\*\.nc: the pattern matches no file"):
        _scenario(str(tmp_path / "nothing*.nc"))


# --------------------------------------------------------------------------- members


def test_member_dimension_is_kept_across_files_and_selected(tmp_path: Path) -> None:
    _, files = _hourly_files(tmp_path / "ens", n_times=4, members=3)
    u, v, _ = _winds(4, 3)
    np.testing.assert_array_equal(met_members(files), [0, 1, 2])
    assert open_met_dataset(files).sizes["number"] == 3
    for k in range(3):
        ds = open_wind(files, member=k)
        np.testing.assert_allclose(ds["u"].values, u[k], rtol=0, atol=0)
        np.testing.assert_allclose(ds["v"].values, v[k], rtol=0, atol=0)
    with pytest.raises(MetDataError, match=r"3 ensemble members along 'number'; choose one"):
        open_wind(files)
    with pytest.raises(MetDataError, match=r"member 3 asked for but the 'number' dimension has 3 members"):
        open_wind(files, member=3)


@needs_cfgrib
def test_real_era5_grib_members_are_read() -> None:
    import eccodes

    assert met_members(MEMBERS_GRIB).tolist() == list(range(10))
    ds = open_met_dataset(MEMBERS_GRIB, winds=False)
    assert ds["t"].dims[:2] == ("number", "time")
    # each member's field as ecCodes decodes it, message by message
    seen = 0
    with open(MEMBERS_GRIB, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            k, hhmm = eccodes.codes_get(h, "number"), eccodes.codes_get(h, "dataTime")
            ni, nj = eccodes.codes_get(h, "Ni"), eccodes.codes_get(h, "Nj")
            raw = eccodes.codes_get_values(h).reshape(nj, ni)
            eccodes.codes_release(h)
            got = ds["t"].isel(number=k, time=int(hhmm) // 1200).values
            np.testing.assert_allclose(got, raw, rtol=1e-6)
            seen += 1
    assert seen == 20
    # ten members with different temperatures (an ensemble, not copies)
    assert np.unique(ds["t"].isel(time=0, latitude=30, longitude=0).values).size == 10


# --------------------------------------------------------------------------- GRIB vs netCDF


def _grib_to_netcdf_with_eccodes(grib: Path, out: Path) -> Path:
    """An ERA5-style netCDF copy of the u/v messages, decoded by ecCodes alone (not cfgrib)."""
    import eccodes

    fields: dict[tuple[str, int, int], np.ndarray] = {}
    with open(grib, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            key = (eccodes.codes_get(h, "shortName"), eccodes.codes_get(h, "level"), eccodes.codes_get(h, "step"))
            ni, nj = eccodes.codes_get(h, "Ni"), eccodes.codes_get(h, "Nj")
            lat1 = eccodes.codes_get(h, "latitudeOfFirstGridPointInDegrees")
            lat2 = eccodes.codes_get(h, "latitudeOfLastGridPointInDegrees")
            dlon = eccodes.codes_get(h, "iDirectionIncrementInDegrees")
            fields[key] = eccodes.codes_get_values(h).reshape(nj, ni).astype(np.float32)
            eccodes.codes_release(h)
    levels = sorted({lev for (n, lev, _) in fields if n == "u"} & {lev for (n, lev, _) in fields if n == "v"})[::-1]
    steps = sorted({s for (_, _, s) in fields})
    times = np.datetime64("2017-10-18T12:00", "ns") + np.array(steps) * np.timedelta64(1, "h")
    u = np.stack([np.stack([fields[("u", lev, s)] for lev in levels]) for s in steps])
    v = np.stack([np.stack([fields[("v", lev, s)] for lev in levels]) for s in steps])
    dims = ("valid_time", "pressure_level", "latitude", "longitude")
    xr.Dataset(
        {"u": (dims, u, {"units": "m s**-1", "standard_name": "eastward_wind"}),
         "v": (dims, v, {"units": "m s**-1", "standard_name": "northward_wind"})},
        coords={"valid_time": times, "pressure_level": ("pressure_level", np.array(levels, float), {"units": "hPa"}),
                "latitude": np.linspace(lat1, lat2, nj), "longitude": np.arange(ni) * dlon},
    ).to_netcdf(out)
    return out


def _split_grib_by_step(grib: Path, folder: Path) -> list[Path]:
    import eccodes

    folder.mkdir()
    out: dict[int, bytes] = {}
    with open(grib, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            step = eccodes.codes_get(h, "step")
            out[step] = out.get(step, b"") + eccodes.codes_get_message(h)
            eccodes.codes_release(h)
    paths = []
    for step, data in out.items():
        p = folder / f"fc_2017101812_{step:03d}.grib"
        p.write_bytes(data)
        paths.append(p)
    return paths


@needs_cfgrib
@pytest.mark.parametrize("level", [1000.0, 700.0])
def test_grib_and_netcdf_copy_give_the_same_winds(tmp_path: Path, level: float) -> None:
    nc = _grib_to_netcdf_with_eccodes(UV_GRIB, tmp_path / "uv.nc")
    g = open_wind(UV_GRIB, level_hpa=level)
    n = open_wind(nc, level_hpa=level)
    assert g.sizes == n.sizes == {"time": 2, "lat": 37, "lon": 72}
    np.testing.assert_array_equal(g["time"].values, n["time"].values)
    np.testing.assert_array_equal(g["u"].values, n["u"].values)
    np.testing.assert_array_equal(g["v"].values, n["v"].values)
    assert g.attrs["level"] == f"{level:g} hPa" and g.attrs["global_lon"] == 1
    assert 5.0 < float(np.hypot(g["u"], g["v"]).max()) < 80.0  # real winds, not fill values
    # v exists on 1000/700/500 hPa only: 850 is not a level of both components
    with pytest.raises(MetDataError, match=r"pressure level 850 hPa not in the file; available levels"):
        open_wind(UV_GRIB, level_hpa=850.0)


@needs_cfgrib
def test_grib_netcdf_and_split_grib_give_the_same_forecast(tmp_path: Path) -> None:
    from plumecast.runner import run

    nc = _grib_to_netcdf_with_eccodes(UV_GRIB, tmp_path / "uv.nc")
    split = _split_grib_by_step(UV_GRIB, tmp_path / "steps")
    assert len(split) == 2
    kw = {"start": "2017-10-18T18:00:00Z", "hours": 6, "level_hpa": None}
    out = {"grid": {"lon_min": -30, "lon_max": 40, "lat_min": 20, "lat_max": 70, "resolution_deg": 1.0}}
    results = []
    for path in (str(UV_GRIB), str(nc), str(tmp_path / "steps")):
        sc = _scenario(path, start=kw["start"], hours=kw["hours"], output=out)  # type: ignore[arg-type]
        results.append(run(sc.replace(met=sc.met.model_copy(update={"level_hpa": 700.0}))))
    a = results[0]
    assert a.budget.released > 0 and float(a.concentration.max()) > 0
    for b in results[1:]:
        np.testing.assert_array_equal(a.concentration.values, b.concentration.values)
        np.testing.assert_array_equal(a.particles.lat, b.particles.lat)
