"""The single-level forms of a scenario's met (``met.level_hpa``, ``met.vertical:
single``) on the files the level path reads: GFS/wgrib2 (``UGRD_850mb``), WRF post
(``PRES`` levels) and ERA5's pressure-level and single-level pair. Each was refused
before (GFS and WRF: 'not on pressure levels'; the pair: 'expected the same variables
in every file')."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.met import open_wind
from plumecast.run_winds import scenario_winds
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.met.style_files import atmosphere, write_era5, write_gfs, write_wrf


@pytest.fixture(scope="module")
def met(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    d = tmp_path_factory.mktemp("one_level_forms")
    a = atmosphere(n_times=4)
    return {"pair": write_era5(a, d / "pl.nc", d / "sl.nc"), "gfs": [write_gfs(a, d / "gfs.nc")],
            "wrf": [write_wrf(a, d / "wrf.nc")]}


def _scenario(paths: list[Path], **met: object):
    return scenario_from_dict({
        "name": "one level", "start": "2026-03-01T00:00:00Z", "duration_h": 2, "time_step_s": 600,
        "particles": 500, "seed": 3, "backend": "numpy", "agent": {"name": "ammonia"},
        "met": {"source": "file", "path": [str(p) for p in paths], **met},
        "releases": [{"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 20, "rate_kg_s": 1.0}],
        "output": {"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 50, "resolution_deg": 0.5}},
    })


@pytest.mark.parametrize("layout", ["pair", "gfs", "wrf"])
def test_level_hpa_reads_the_level_of_each_layout(met: dict[str, list[Path]], layout: str) -> None:
    ds, levels, note = scenario_winds(_scenario(met[layout], level_hpa=850))
    assert not levels and ds.attrs["level"] == "850 hPa"
    assert note.startswith("winds: one level (850 hPa) at every height")
    ref = open_wind(met["pair"][0], level_hpa=850).isel(time=slice(0, 3))  # the run's 2 h
    np.testing.assert_allclose(ds["u"].values, ref["u"].values, atol=1e-5)
    np.testing.assert_allclose(ds["v"].values, ref["v"].values, atol=1e-5)


def test_vertical_single_on_the_era5_pair_reads_the_level_nearest_the_ground(met: dict[str, list[Path]]) -> None:
    """docs/scenario.md: level_hpa's default is the level nearest the ground (highest
    pressure); the pair reads as its pressure-level file."""
    ds, levels, note = scenario_winds(_scenario(met["pair"], vertical="single"))
    assert not levels and ds.attrs["level"] == "1000 hPa" and "one level (1000 hPa)" in note
    r = run(_scenario(met["pair"], vertical="single"))
    assert r.stats["wind_level"] == "1000 hPa"
    assert r.budget.released > 0 and abs(r.budget.residual) <= 1e-9 * r.budget.released


def test_levels_the_level_reader_refuses_are_not_read_at_one_level_instead(tmp_path: Path) -> None:
    """With met.vertical unset, files with winds on levels that the level reader refuses
    (here a gap inside the records) are refused for that reason, by the run and by
    plumecast met check. Was: a single file fell back to its 1000 hPa winds at every
    height ('not read on levels because ... a gap'), and the ERA5 pair would have once
    it could be read at one level."""
    from plumecast.errors import MetDataError
    from plumecast.met.check import check_met

    pl, sl = write_era5(atmosphere(n_times=6), tmp_path / "pl.nc", tmp_path / "sl.nc")
    keep = [0, 1, 2, 4, 5]
    for src, name in ((pl, "gap_pl.nc"), (sl, "gap_sl.nc")):
        with xr.open_dataset(src) as ds:
            ds.isel(valid_time=keep).to_netcdf(tmp_path / name)
    gap = r"gap_pl\.nc: records 2026-03-01T02:00:00 UTC and 2026-03-01T04:00:00 UTC are 2 h apart .*a gap in the met"
    for paths in ([tmp_path / "gap_pl.nc"], [tmp_path / "gap_pl.nc", tmp_path / "gap_sl.nc"]):
        with pytest.raises(MetDataError, match=gap):
            scenario_winds(_scenario(paths))
        with pytest.raises(MetDataError, match=gap):
            check_met(paths)
        # and on one level as asked: the one-level reader refuses a gap inside a file too
        with pytest.raises(MetDataError, match=gap):
            scenario_winds(_scenario(paths, level_hpa=850))
    # a single-level file whose other fields the level reader refuses is still read at its one level
    with xr.open_dataset(sl) as ds:
        ds = ds.load()
    del ds["sshf"].attrs["units"]
    ds.to_netcdf(tmp_path / "sl_only.nc")
    one, levels, note = scenario_winds(_scenario([tmp_path / "sl_only.nc"]))
    assert not levels and one.attrs["level"] == "10 m" and "not read on levels because" in note


def test_levels_without_units_are_refused_not_read_at_the_10_m_wind(tmp_path: Path) -> None:
    """A GFS file as NOMADS' OpenDAP (GrADS-DODS) gives it: the fields on levels
    (``ugrdprs`` ... on ``lev``) with their units only in their long names. The level
    reader refuses the geopotential without units; the run had then read the file's 10 m
    wind at every height, without its boundary layer (met audit, session 30). It is now
    refused, naming the field and its long name."""
    from plumecast.errors import MetDataError
    from tests.met.style_files import LAT, LEVELS_HPA, LON

    a = atmosphere(n_times=4)
    lon360 = LON % 360.0
    order = np.argsort(lon360)
    dims3, dims2 = ("time", "lev", "lat", "lon"), ("time", "lat", "lon")

    def f(x: np.ndarray) -> np.ndarray:
        return x[..., order]

    ds = xr.Dataset(
        {"ugrdprs": (dims3, f(a.u), {"long_name": "** (1000 850 ..) u-component of wind [m/s]"}),
         "vgrdprs": (dims3, f(a.v), {"long_name": "** (1000 850 ..) v-component of wind [m/s]"}),
         "hgtprs": (dims3, f(a.gh), {"long_name": "** (1000 850 ..) geopotential height [gpm]"}),
         "tmpprs": (dims3, f(a.t), {"long_name": "** (1000 850 ..) temperature [k]"}),
         "ugrd10m": (dims2, f(a.u10), {"long_name": "** 10 m above ground u-component of wind [m/s]"}),
         "vgrd10m": (dims2, f(a.v10), {"long_name": "** 10 m above ground v-component of wind [m/s]"}),
         "hpblsfc": (dims2, f(a.blh), {"long_name": "** surface planetary boundary layer height [m]"})},
        coords={"time": a.times, "lev": ("lev", LEVELS_HPA, {"units": "millibar"}), "lat": LAT,
                "lon": lon360[order]})
    ds.to_netcdf(tmp_path / "gfs_dods.nc")
    with pytest.raises(MetDataError, match=r"gfs_dods\.nc: 'hgtprs' \(geopotential or height\) has no units attribute "
                                           r"\(long_name '\*\* \(1000 850 \.\.\) geopotential height \[gpm\]'"):
        scenario_winds(_scenario([tmp_path / "gfs_dods.nc"]))
    # with the units given the same file is read on its levels
    for name, units in (("ugrdprs", "m/s"), ("vgrdprs", "m/s"), ("hgtprs", "gpm"), ("tmpprs", "K"),
                        ("ugrd10m", "m/s"), ("vgrd10m", "m/s"), ("hpblsfc", "m")):
        ds[name].attrs["units"] = units
    ds.to_netcdf(tmp_path / "gfs_dods_units.nc")
    _, levels, _ = scenario_winds(_scenario([tmp_path / "gfs_dods_units.nc"]))
    assert levels
