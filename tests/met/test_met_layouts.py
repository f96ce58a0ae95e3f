"""The met audit of the layouts users download (metaudit, D1-D7): netCDF copies of
forecast GRIB files made with cfgrib (``xr.open_dataset(engine="cfgrib").to_netcdf()``)
read as the GRIB files are, a whole GFS file read on its pressure levels, and the
one-line refusals of a CDS zip, WRF output and folders.

The GRIB files are made here, offline, from the recorded fixtures of
``tests/data/fetch`` (ECMWF open data, GFS f003: 5 degree global) with ecCodes, as
``test_audit25_met.py`` makes them; their netCDF copies with cfgrib as users make them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import normalise_met_3d, open_met_3d, wind_grid_3d
from plumecast.met.check import check_met
from tests.met.style_files import LAT, LON, atmosphere, write_era5, write_wrf
from tests.met.test_audit25_met import (
    ECMWF,
    GFS3,
    _bucket,
    _get,
    _gfs_set,
    _messages,
    _write,
    needs_grib,
)

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # cfgrib's own xr.merge

# --------------------------------------------------------------------------- makers


def _precip(ds: xr.Dataset, name: str = "precip") -> np.ndarray:
    return np.asarray(ds[name].values, np.float64).reshape(ds.sizes["time"], -1).mean(axis=1)


def _ecmwf(path: Path, steps: tuple[int, ...], tp_m: Callable[[int], float], hour: int = 0) -> Path:
    """ECMWF open-data style GRIB of the forecast from ``hour`` UTC: the fixture's step-3
    instantaneous fields at each step and ``tp`` [m] accumulated since the start."""
    import eccodes

    msgs = _messages(ECMWF)
    instant = [h for h in msgs if _get(h, "stepRange") == "3" and _get(h, "stepType") == "instant"]
    tp = next(h for h in msgs if _get(h, "shortName") == "tp")
    with open(path, "wb") as out:
        for s in steps:
            for h in instant:
                c = eccodes.codes_clone(h)
                eccodes.codes_set(c, "dataTime", hour * 100)
                eccodes.codes_set(c, "step", s)
                eccodes.codes_write(c, out)
                eccodes.codes_release(c)
            _write(out, tp, tp_m(s), dataTime=hour * 100, startStep=0, endStep=s)
    return path


def _copy(grib: Path, folder: Path, merged: bool = True, levels_first: bool = True, **backend: Any) -> Path:
    """cfgrib's hypercubes of ``grib`` saved as netCDF into ``folder``: merged into one
    file (per lead time, as users save open data or GFS files; the pressure levels'
    first, as ``filter_by_keys`` per level type gives them, or in cfgrib's order), or
    one file each (a file of all steps, whose averages lack step 0)."""
    import cfgrib

    folder.mkdir(exist_ok=True)
    parts = cfgrib.open_datasets(str(grib), backend_kwargs={"indexpath": "", **backend})
    if levels_first:
        parts.sort(key=lambda p: "isobaricInhPa" not in p.dims)
    if merged:
        xr.merge(parts, compat="override", join="outer").to_netcdf(folder / f"{grib.name}.nc")
    else:
        for i, p in enumerate(parts):
            p.to_netcdf(folder / f"{grib.name}_{i}.nc")
    return folder


#: ECMWF tp since the start of 1, 2, 3 mm/h over 0-3, 3-6, 6-9 h (m): the interval means
#: are 1 (step 0: the first interval's), 1, 2, 3 mm/h.
_EC_TP = {0: 0.0, 3: 0.003, 6: 0.009, 9: 0.018}
#: GFS of 1, 2, 3, 4 mm/h over 0-3, 3-6, 6-9, 9-12 h, windows restarting every 6 h.
_RATES = {3: 1.0, 6: 2.0, 9: 3.0, 12: 4.0}
_TRUTH = [1.0, 1.0, 2.0, 3.0, 4.0]


def _mean(a: int, b: int) -> float:
    """The mean rate [mm/h] over (a, b] h of :data:`_RATES`."""
    return sum(_RATES[3 * ((t // 3) + 1)] for t in range(a, b)) / (b - a)


def _gfs_windows(out: Any, s: int, tpl: dict[str, Any]) -> None:
    """GFS PRATE [kg m-2 s-1] and SHTFL [W m-2, 50 x the rate] averaged over windows
    restarting every 6 h, and APCP [kg m-2] in 6-h buckets."""
    if s:
        a = _bucket(s)
        _write(out, tpl["prate"], _mean(a, s) / 3600.0, startStep=a, endStep=s)
        _write(out, tpl["prate"], 50.0 * _mean(a, s), parameterCategory=0, parameterNumber=11, startStep=a,
               endStep=s)
        _write(out, tpl["prate"], _mean(a, s) * (s - a), parameterNumber=8, typeOfStatisticalProcessing=1,
               startStep=a, endStep=s)


# --------------------------------------------------------------------------- D1: ECMWF tp in netCDF copies


@needs_grib
def test_ecmwf_tp_copied_per_step_reads_as_the_grib_files(tmp_path):
    """D1: open data one file per step, each saved as netCDF. Before: 0, 3, 9, 18 mm/h
    (read as ERA5's hourly amounts), truth 1, 1, 2, 3."""
    grib = tmp_path / "grib"
    grib.mkdir()
    for s in _EC_TP:
        _ecmwf(grib / f"20240101000000-{s}h-oper-fc.grib2", (s,), _EC_TP.__getitem__)
    copies = tmp_path / "nc"
    for g in sorted(grib.iterdir()):
        _copy(g, copies)
    ref, ds = open_met_3d(grib), open_met_3d(copies)
    np.testing.assert_allclose(_precip(ref), [1.0, 1.0, 2.0, 3.0], rtol=1e-3)
    np.testing.assert_allclose(_precip(ds), _precip(ref), rtol=1e-5)
    assert "since the forecast start" in ds["precip"].attrs["plumecast_from"], ds["precip"].attrs["plumecast_from"]


@needs_grib
def test_ecmwf_tp_copied_with_a_step_dimension_reads_as_the_grib_file(tmp_path):
    """D1 (a): all steps in one GRIB, saved as netCDF per hypercube (a ``step``
    dimension). Before: 0, 3, 9, 18 mm/h, though docs/met.md said it was refused."""
    grib = _ecmwf(tmp_path / "ifs.grib2", tuple(_EC_TP), _EC_TP.__getitem__)
    ds = open_met_3d(_copy(grib, tmp_path / "nc", merged=False))
    np.testing.assert_allclose(_precip(ds), _precip(open_met_3d(grib)), rtol=1e-5)
    np.testing.assert_allclose(_precip(ds), [1.0, 1.0, 2.0, 3.0], rtol=1e-3)


@needs_grib
def test_ecmwf_forecasts_by_steps_copied_read_per_forecast(tmp_path):
    """Two forecasts (00 and 12 UTC, steps 3..12 h) in one GRIB: cfgrib's reference time
    x step, saved as netCDF. The second forecast's steps are since its own start (12 UTC),
    a record of the first. Before: refused (accumulated fields of such a copy)."""
    tp = {3: 0.003, 6: 0.009, 9: 0.018, 12: 0.030}  # 1, 2, 3, 4 mm/h
    a = _ecmwf(tmp_path / "a.grib2", tuple(tp), tp.__getitem__, 0)
    b = _ecmwf(tmp_path / "b.grib2", tuple(tp), tp.__getitem__, 12)
    both = tmp_path / "both.grib2"
    both.write_bytes(a.read_bytes() + b.read_bytes())
    ref = open_met_3d(both)
    ds = open_met_3d(_copy(both, tmp_path / "nc", merged=False))
    np.testing.assert_allclose(_precip(ds), _precip(ref), rtol=1e-5)
    np.testing.assert_allclose(_precip(ds), [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0], rtol=1e-3)


@needs_grib
def test_a_copy_whose_windows_cannot_be_told_is_refused_in_one_line(tmp_path):
    """An ECMWF tp of steps 1..6 h of a 06 UTC forecast without step 0: ERA5 from the CDS
    (hourly windows) or an ECMWF forecast (since the start)? Refused, naming the file and
    the variable. So is an accumulation of a centre whose convention plumecast does not
    know. Before: read as ERA5's hourly amounts."""
    grib = _ecmwf(tmp_path / "era5_like.grib2", (1, 2, 3), lambda s: 0.001 * s, hour=6)
    copies = _copy(grib, tmp_path / "nc", merged=False)
    with pytest.raises(MetDataError, match=r"era5_like\.grib2_\d\.nc: 'tp' \(accumulated.*centre ecmf\) on forecast "
                                           r"steps 1, 2, 3 h.*ERA5.*expected the GRIB file") as err:
        open_met_3d(copies)
    assert "\n" not in str(err.value)
    ok = _ecmwf(tmp_path / "od.grib2", (0, 1, 2, 3), lambda s: 0.001 * s, hour=6)  # with step 0: a forecast's
    np.testing.assert_allclose(_precip(open_met_3d(_copy(ok, tmp_path / "nc0", merged=False))), 1.0, rtol=1e-3)
    for s in (0, 1, 2, 3):  # a file per step, step 0 in a file of its own
        _copy(_ecmwf(tmp_path / f"od_{s}h.grib2", (s,), lambda s: 0.001 * s, hour=6), tmp_path / "per_step")
    np.testing.assert_allclose(_precip(open_met_3d(tmp_path / "per_step")), 1.0, rtol=1e-3)
    dwd, snow = tmp_path / "dwd", tmp_path / "snow"
    dwd.mkdir()
    snow.mkdir()
    for f in sorted(copies.iterdir()):
        with xr.open_dataset(f) as d:
            d.load().assign_attrs(GRIB_centre="edzw").to_netcdf(dwd / f.name)
            d.load().rename({n: "sf" for n in d.data_vars if n == "tp"}).to_netcdf(snow / f.name)
    with pytest.raises(MetDataError, match=r"'tp'.*centre edzw.*cannot be told"):
        open_met_3d(dwd)
    assert "precip" not in open_met_3d(snow)  # an accumulation plumecast does not read is not refused


# --------------------------------------------------------------------------- D1/D2: GFS APCP, PRATE, SHTFL


@needs_grib
def test_gfs_buckets_and_averages_copied_per_lead_time_read_as_the_grib_files(tmp_path):
    """D1/D2: GFS APCP (6-h buckets), PRATE and SHTFL (averaged over windows restarting
    every 6 h) saved as netCDF per lead time. Before: APCP 1, 1, 3, 3, 5 (each bucket
    as an hour's amount) and PRATE 1, 1, 1.5, 3, 3.5 (each window's mean as the last
    interval's), truth 1, 1, 2, 3, 4."""
    grib = _gfs_set(tmp_path / "gfs", (0, 3, 6, 9, 12), _gfs_windows)
    copies = tmp_path / "nc"
    for g in sorted(grib.iterdir()):
        _copy(g, copies)
    ref, ds = open_met_3d(grib), open_met_3d(copies)
    np.testing.assert_allclose(_precip(ref), _TRUTH, rtol=1e-3)
    np.testing.assert_allclose(_precip(ds), _precip(ref), rtol=1e-5)
    np.testing.assert_allclose(_precip(ds, "shf"), 50.0 * np.array(_TRUTH), rtol=1e-3)
    assert "GFS's convention" in ds["precip"].attrs["plumecast_from"]
    prate = tmp_path / "prate"  # PRATE alone (without APCP, which the reader takes first)
    prate.mkdir()
    for f in sorted(copies.iterdir()):
        with xr.open_dataset(f) as d:
            d.load().drop_vars([n for n in ("tp",) if n in d]).to_netcdf(prate / f.name)
    np.testing.assert_allclose(_precip(open_met_3d(prate)), _TRUTH, rtol=1e-3)


@needs_grib
def test_gfs_averages_copied_with_a_step_dimension_read_as_the_grib_files(tmp_path):
    """All lead times in one GRIB, saved as netCDF per hypercube: the averages' file has
    steps 3..12 h beside the others' 0..12 h. Before: refused as overlapping times."""
    grib = _gfs_set(tmp_path / "gfs", (0, 3, 6, 9, 12), _gfs_windows)
    one = tmp_path / "all.grib2"
    one.write_bytes(b"".join(p.read_bytes() for p in sorted(grib.iterdir())))
    ds = open_met_3d(_copy(one, tmp_path / "nc", merged=False))
    np.testing.assert_allclose(_precip(ds), _TRUTH, rtol=1e-3)
    np.testing.assert_allclose(_precip(ds, "shf"), 50.0 * np.array(_TRUTH), rtol=1e-3)


# --------------------------------------------------------------------------- D3: HPBL in copies


@needs_grib
def test_a_field_without_a_name_is_said_and_read_by_its_codes_where_kept(tmp_path):
    """D3: GFS HPBL (NCEP local 0/3/196) comes out of cfgrib as 'unknown'; a netCDF copy
    keeps no GRIB codes. Before: dropped silently (the mixing height diagnosed instead);
    now named in the provenance and in ``met check``; a copy made with cfgrib's
    read_keys keeps the codes and reads it as the GRIB file does."""
    grib = _gfs_set(tmp_path / "gfs", (0, 3), lambda out, s, tpl: None)
    copies = tmp_path / "nc"
    for g in sorted(grib.iterdir()):
        _copy(g, copies)
    ds = open_met_3d(copies)
    assert "blh" not in ds
    assert "'unknown' on surface" in ds.attrs["unread"] and "HPBL" in ds.attrs["unread"], ds.attrs.get("unread")
    line = next(p for p in wind_grid_3d(ds, records=(0, 1)).provenance if p.startswith("not read from the files"))
    assert "gfs.t00z.pgrb2.0p25.f000.nc, gfs.t00z.pgrb2.0p25.f003.nc" in line, line
    assert any("'unknown'" in x for x in check_met(copies)), check_met(copies)
    keys = tmp_path / "keys"
    for g in sorted(grib.iterdir()):
        _copy(g, keys, read_keys=["discipline", "parameterCategory", "parameterNumber"])
    kept, ref = open_met_3d(keys), open_met_3d(grib)
    np.testing.assert_array_equal(kept["blh"].values, ref["blh"].values)
    assert "unread" not in kept.attrs and "unread" not in ref.attrs


@needs_grib
def test_a_merged_copy_takes_the_levels_of_each_variable(tmp_path):
    """cfgrib's hypercubes merged in its own order (the 10 m wind's first) give every
    variable the scalar heightAboveGround = 10 of the 10 m wind. Before: u on
    isobaricInhPa was taken for a field at 10 m ('no winds on pressure or height
    levels')."""
    grib = _ecmwf(tmp_path / "od.grib2", (3,), _EC_TP.__getitem__)
    ds = open_met_3d(_copy(grib, tmp_path / "nc", levels_first=False))
    np.testing.assert_array_equal(ds["u"].values, open_met_3d(grib)["u"].values)


# --------------------------------------------------------------------------- D4: a whole GFS file


def _whole_gfs(path: Path, level_types: tuple[int, ...] = (102, 103, 7)) -> Path:
    """The fixture's f003 with the winds on the other GRIB level types of a whole GFS file
    (heightAboveSea 1829/2743 m, heightAboveGround 20..100 m, tropopause), set to values
    no pressure level has (-60, 40 m/s)."""
    import eccodes

    msgs = _messages(GFS3)
    winds = [h for h in msgs if _get(h, "shortName") in ("u", "v") and _get(h, "level") == 850]
    levels = {102: (1829, 2743), 103: (20, 50, 80, 100), 7: (None,)}
    with open(path, "wb") as out:
        for h in msgs:
            if 102 in level_types and len(level_types) == 1 and _get(h, "typeOfLevel") == "isobaricInhPa":
                continue  # winds on heightAboveSea alone
            eccodes.codes_write(h, out)
        for kind in level_types:
            for lev in levels[kind]:
                for h in winds:
                    keys: dict[str, Any] = {"typeOfFirstFixedSurface": kind}
                    if lev is not None:
                        keys.update(scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=lev)
                    _write(out, h, -60.0 if _get(h, "shortName") == "u" else 40.0, **keys)
    return path


@needs_grib
def test_a_whole_gfs_file_is_read_on_its_pressure_levels_and_says_what_it_left(tmp_path):
    """D4: before, refused ('u' has the dimension 'heightAboveSea' without a pressure or
    height coordinate / found twice on the same levels)."""
    whole = open_met_3d(_whole_gfs(tmp_path / "gfs.t00z.pgrb2.0p25.f003"))
    plain = open_met_3d(GFS3)
    for name in ("u", "v", "u10", "v10", "gh"):
        np.testing.assert_array_equal(whole[name].values, plain[name].values)
    note = whole.attrs["unread"]
    assert "heightAboveSea 1829, 2743 m above sea level (u, v)" in note and "heightAboveGround 20..100 m" in note
    assert "tropopause (u, v)" in note, note
    grid = wind_grid_3d(whole, records=(0, 1))
    assert any(p.startswith("not read from the files: GRIB level types left out") for p in grid.provenance)


@needs_grib
def test_winds_on_a_level_type_not_read_are_refused_truly(tmp_path):
    """Winds on heightAboveSea only: the message says what the level type is and what to
    extract, no longer that the dimension lacks a coordinate."""
    with pytest.raises(MetDataError, match=r"'u' is on 'heightAboveSea' \(1829, 2743\), GRIB level type "
                                           r"heightAboveSea.*wgrib2.*isobaricInhPa") as err:
        open_met_3d(_whole_gfs(tmp_path / "hs.grib2", (102,)))
    assert "without a pressure or height coordinate" not in str(err.value)


def test_pressure_levels_are_read_beside_heights_above_ground_in_one_grib_file(tmp_path):
    """D4: the hypercube of u, v on heights above ground (300, 500, 700 m) beside the
    pressure levels (.. 700, 500, 300 hPa). Before: 'variable 'u' found twice (in two GRIB
    hypercubes) on the same levels', which they were not."""
    pl = write_era5(atmosphere(2), tmp_path / "pl.nc")[0]
    full = xr.load_dataset(pl)
    hgt = full[["u", "v"]].isel(pressure_level=[3, 4, 5]).rename(pressure_level="heightAboveGround")
    hgt = hgt.assign_coords(heightAboveGround=("heightAboveGround", [300.0, 500.0, 700.0],
                                               {"units": "m", "standard_name": "height"}))
    ds = normalise_met_3d([(tmp_path / "gfs.grib2", [full, hgt])], source="gfs")
    np.testing.assert_array_equal(ds["u"].values, open_met_3d(pl)["u"].values)
    assert ds.attrs["unread"] == ("heights above ground left out, the winds being read on pressure levels: u, v on "
                                  "300..700 m in gfs.grib2"), ds.attrs["unread"]


# --------------------------------------------------------------------------- D5-D7, folders, ecCodes' stderr


def test_a_cds_zip_is_named_with_what_it_holds(tmp_path):
    """D5: before, 'is not a netCDF or GRIB file (it begins with 'PK...': a web page or a
    text file?)'."""
    a = atmosphere(2)
    pl, sl = write_era5(a, tmp_path / "pl.nc", tmp_path / "data_stream-oper_stepType-instant.nc")
    for name in ("data.zip", "era5_sl.nc"):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.write(sl, sl.name)
        with pytest.raises(MetDataError, match=rf"{name}: is a ZIP archive.*it holds "
                                               r"data_stream-oper_stepType-instant\.nc.*unzip it") as err:
            open_met_3d([pl, tmp_path / name])
        assert "\n" not in str(err.value)


def test_a_folder_of_wrf_files_without_an_ending_is_read(tmp_path):
    """D6: WRF names its files wrfout_d01_2026-03-01_00:00:00 (no ending). Before: the
    folder 'holds no met file', while a glob of the same files was read."""
    folder = tmp_path / "wrf"
    folder.mkdir()
    path = write_wrf(atmosphere(3), folder / "wrfout_d01_2026-03-01_00:00:00")
    (folder / "namelist.input").write_text("&time_control\n/\n")
    ds, one = open_met_3d(folder), open_met_3d(path)
    np.testing.assert_array_equal(ds["u"].values, one["u"].values)


def test_wrf_refusals_say_how_to_make_the_winds_readable(tmp_path):
    """D7: a Lambert wrfout (or p_interp output) is refused with the rotation of its
    grid-relative winds; a raw wrfout on a regular grid with the way to pressure levels."""
    a = atmosphere(2)
    path = write_wrf(a, tmp_path / "wrfout_d01_2026-03-01_00:00:00")
    with xr.open_dataset(path) as d:
        ds = d.load()
    lat2, lon2 = np.meshgrid(LAT, LON, indexing="ij")
    lam = ds.assign(XLAT=(("south_north", "west_east"), lat2 + 0.01 * lon2),
                    COSALPHA=(("south_north", "west_east"), np.ones_like(lat2)),
                    SINALPHA=(("south_north", "west_east"), np.zeros_like(lat2)))
    lam.to_netcdf(tmp_path / "lambert")
    with pytest.raises(MetDataError, match=r"not a regular lon/lat grid.*grid-relative.*COSALPHA and SINALPHA"):
        open_met_3d(tmp_path / "lambert")
    raw = ds.drop_vars("PRES").rename(num_press_levels="bottom_top")
    raw.to_netcdf(tmp_path / "raw")
    with pytest.raises(MetDataError, match=r"'U' is on WRF's model levels 'bottom_top'.*p_interp.*vinterp"):
        open_met_3d(tmp_path / "raw")


def test_a_folder_says_its_subfolders_are_not_searched(tmp_path):
    """Minor: the files of subfolders (ERA5's sl/ beside pl.nc) are named, not searched."""
    a = atmosphere(2)
    (tmp_path / "era5" / "sl").mkdir(parents=True)
    write_era5(a, tmp_path / "era5" / "sl" / "pl.nc")
    with pytest.raises(MetDataError, match=r"era5: folder holds no met file.*subfolder\(s\) sl/ .*not searched "
                                           r"recursively"):
        open_met_3d(tmp_path / "era5")
    write_era5(a, tmp_path / "era5" / "pl.nc")
    assert "subfolder(s) sl/" in open_met_3d(tmp_path / "era5").attrs["unread"]


@needs_grib
def test_eccodes_errors_on_stderr_are_kept_off_before_the_one_line_refusal(tmp_path, capfd):
    """Minor: a message whose grid description contradicts its values (Ni cut from 72 to
    70) made ecCodes print 'ECCODES ERROR' lines before plumecast's own refusal."""
    import struct

    import eccodes

    data = bytearray(eccodes.codes_get_message(_messages(ECMWF)[0]))  # a GRIB 2 message, grid template 3.0
    sec1 = struct.unpack(">I", data[16:20])[0]
    ni = 16 + sec1 + 30  # section 3, template 3.0: Ni at octets 31-34
    assert struct.unpack(">I", data[ni:ni + 4])[0] == 72
    data[ni:ni + 4] = struct.pack(">I", 70)
    (tmp_path / "bad.grib2").write_bytes(bytes(data))
    capfd.readouterr()
    with pytest.raises(MetDataError, match=r"bad\.grib2: begins as a netCDF or GRIB file but cannot be read"):
        open_met_3d(tmp_path / "bad.grib2")
    assert "ECCODES ERROR" not in capfd.readouterr().err
