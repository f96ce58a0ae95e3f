"""Audit 25 of the met input: quantities over intervals (precipitation, heat flux, solar
radiation) read through their GRIB step ranges and held over their interval by a run,
the NCEP heat-flux sign, the ground from the surface pressure, and the messages of the
one-level fallback and of mixed files.

The GRIB files are made here, offline, from the recorded fixtures of
``tests/data/fetch`` (ECMWF open data, GFS f000/f003: 5 degree global, see
``tests/data/README.md``) with ecCodes: their messages cloned with other steps, step
ranges and values, as the audit's ``gen.py`` scripts did (``/tmp/audit_met``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, wind_grid_3d
from plumecast.met.levels import G0, standard_atmosphere_height_m, standard_atmosphere_temperature_k
from plumecast.run_winds import RunWinds, run_winds
from plumecast.scenario import scenario_from_dict
from plumecast.transport.windgrid import SURFACE_FIELDS
from tests.met.style_files import LAT, LON, T0, atmosphere, write_era5

DATA = Path(__file__).parents[1] / "data" / "fetch"
ECMWF = DATA / "ecmwf" / "20240101000000-oper-fc.grib2"
GFS3 = DATA / "gfs" / "gfs.t00z.pgrb2.0p25.f003"
needs_grib = pytest.mark.skipif(importlib.util.find_spec("cfgrib") is None or not ECMWF.is_file(),
                                reason="cfgrib or the recorded GRIB fixtures absent")
HMIX, USTAR, INV_L, WSTAR, PRECIP = range(len(SURFACE_FIELDS))
REF = np.datetime64("2024-01-01T00:00", "ns")


# --------------------------------------------------------------------------- GRIB makers


def _messages(path: Path) -> list[Any]:
    import eccodes

    out = []
    with open(path, "rb") as fh:
        while True:
            h = eccodes.codes_grib_new_from_file(fh)
            if h is None:
                return out
            out.append(h)


def _get(h: Any, key: str) -> Any:
    import eccodes

    return eccodes.codes_get(h, key)


def _write(out: Any, template: Any, value: float, **keys: Any) -> None:
    """A clone of ``template`` with ``keys`` set (in order) and every value ``value``."""
    import eccodes

    c = eccodes.codes_clone(template)
    for k, v in keys.items():
        eccodes.codes_set(c, k, v)
    vals = eccodes.codes_get_values(c)
    eccodes.codes_set_values(c, np.full_like(vals, value))
    eccodes.codes_write(c, out)
    eccodes.codes_release(c)


def _ecmwf_open_data(path: Path, steps: tuple[int, ...], tp_mm_h: float, ssrd_w_m2: float) -> Path:
    """One ECMWF open-data style file, steps ``steps`` h: the fixture's step-3 fields at
    each step, and tp [m] and ssrd [J m-2] accumulated since the start at constant rates."""
    import eccodes

    msgs = _messages(ECMWF)
    instant = [h for h in msgs if _get(h, "stepRange") == "3" and _get(h, "stepType") == "instant"]
    tp = next(h for h in msgs if _get(h, "shortName") == "tp")
    ssrd = next(h for h in msgs if _get(h, "shortName") == "ssrd")
    with open(path, "wb") as out:
        for s in steps:
            for h in instant:
                c = eccodes.codes_clone(h)
                eccodes.codes_set(c, "step", s)
                eccodes.codes_write(c, out)
                eccodes.codes_release(c)
            _write(out, tp, tp_mm_h * 1e-3 * s, startStep=0, endStep=s)
            _write(out, ssrd, ssrd_w_m2 * 3600.0 * s, startStep=0, endStep=s)
    return path


def _gfs_set(folder: Path, steps: tuple[int, ...], extra: Callable[[Any, int, dict[str, Any]], None]) -> Path:
    """GFS files ``gfs.t00z.pgrb2.0p25.fNNN`` of the fixture's f003 instantaneous
    messages at each step, plus what ``extra(out, step, templates)`` writes."""
    import eccodes

    folder.mkdir()
    msgs = _messages(GFS3)
    instant = [h for h in msgs if _get(h, "stepType") == "instant"]
    templates = {"prate": next(h for h in msgs if _get(h, "shortName") == "prate")}
    for s in steps:
        with open(folder / f"gfs.t00z.pgrb2.0p25.f{s:03d}", "wb") as out:
            for h in instant:
                c = eccodes.codes_clone(h)
                eccodes.codes_set(c, "step", s)
                eccodes.codes_write(c, out)
                eccodes.codes_release(c)
            extra(out, s, templates)
    return folder


def _bucket(s: int) -> int:
    """Start of the GFS window (6-h buckets and averages) that ends at step ``s``."""
    return 6 * ((s - 1) // 6)


def _apcp(out: Any, s: int, tpl: dict[str, Any], amount: Callable[[int, int], float]) -> None:
    if s:
        _write(out, tpl["prate"], amount(_bucket(s), s), parameterNumber=8, typeOfStatisticalProcessing=1,
               startStep=_bucket(s), endStep=s)


def _prate(out: Any, s: int, tpl: dict[str, Any], mean_mm_h: Callable[[int, int], float]) -> None:
    if s:
        _write(out, tpl["prate"], mean_mm_h(_bucket(s), s) / 3600.0, startStep=_bucket(s), endStep=s)


def _precip(ds: xr.Dataset) -> np.ndarray:
    return np.asarray(ds["precip"].values, np.float64).reshape(ds.sizes["time"], -1).mean(axis=1)


# --------------------------------------------------------------------------- 1. ECMWF tp, ssrd since the start


@needs_grib
def test_ecmwf_accumulations_since_the_forecast_start_are_taken_back_to_each_interval(tmp_path):
    """Audit t9: 0.2 mm/h and 300 W m-2 throughout, accumulated since the start (open
    data, MARS forecasts). Before: read as accumulated over the hour before the valid
    time, 0, 3, 6, 9, 12 x 0.2 mm/h."""
    ds = open_met_3d(_ecmwf_open_data(tmp_path / "od.grib2", (0, 3, 6, 9, 12), 0.2, 300.0))
    np.testing.assert_allclose(_precip(ds), 0.2, rtol=1e-3)
    np.testing.assert_allclose(np.asarray(ds["solar"].values), 300.0, rtol=1e-3)
    assert "step range" in ds["precip"].attrs["plumecast_from"], ds["precip"].attrs["plumecast_from"]


@needs_grib
def test_ecmwf_files_one_per_step_are_taken_back_across_files(tmp_path):
    folder = tmp_path / "od"
    folder.mkdir()
    for s in (3, 6, 9):
        _ecmwf_open_data(folder / f"20240101000000-{s}h-oper-fc.grib2", (s,), 0.5, 100.0)
    ds = open_met_3d(folder)
    np.testing.assert_allclose(_precip(ds), 0.5, rtol=1e-3)


# --------------------------------------------------------------------------- 2. GFS heat flux and radiation


def _shtfl(kind: str, centre: str = "kwbc") -> Callable[[Any, int, dict[str, Any]], None]:
    def extra(out: Any, s: int, tpl: dict[str, Any]) -> None:
        keys: dict[str, Any] = {"centre": centre, "parameterCategory": 0, "parameterNumber": 11}
        if kind == "instant":
            keys.update(productDefinitionTemplateNumber=0, step=s)
        else:
            keys.update(startStep=_bucket(s) if s else 0, endStep=s)
        _write(out, tpl["prate"], 200.0, **keys)  # upward +200 W m-2 (NCEP): a convective afternoon
        if s:
            _write(out, tpl["prate"], 400.0, centre=centre, parameterCategory=4, parameterNumber=7,
                   startStep=_bucket(s), endStep=s)  # DSWRF, averaged
    return extra


@needs_grib
@pytest.mark.parametrize("kind", ["instant", "avg"])
def test_ncep_sensible_heat_flux_is_upward_positive_instant_or_averaged(tmp_path, kind):
    """Audit t20/t21: ecCodes names NCEP's SHTFL ``ishf`` (instantaneous) or ``avg_ishf``
    (averaged), and DSWRF ``avg_sdswrf``. SHTFL is positive upward at NCEP: +200 W m-2
    is a convective afternoon (1/L < 0). Before: the sign was flipped (instant), or
    neither field was found (averaged)."""
    ds = open_met_3d(_gfs_set(tmp_path / "gfs", (0, 3, 6), _shtfl(kind)))
    assert "shf" in ds and "solar" in ds
    np.testing.assert_allclose(np.asarray(ds["shf"].values), 200.0, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(ds["solar"].values), 400.0, rtol=1e-4)
    assert "upward" in ds["shf"].attrs["plumecast_from"]
    grid = wind_grid_3d(ds, records=(1, 2))
    assert grid.surface is not None and np.all(grid.surface[:, INV_L] < 0) and np.all(grid.surface[:, WSTAR] > 0)


@needs_grib
def test_ecmwf_instantaneous_heat_flux_keeps_its_downward_sign(tmp_path):
    """The same GRIB 2 parameter from ECMWF (centre ecmf) is positive downward."""
    ds = open_met_3d(_gfs_set(tmp_path / "ec", (0, 3), _shtfl("instant", centre="ecmf")))
    np.testing.assert_allclose(np.asarray(ds["shf"].values), -200.0, rtol=1e-4)
    assert "downward" in ds["shf"].attrs["plumecast_from"]


@needs_grib
def test_the_recorded_gfs_files_give_their_solar_radiation_from_step_zero_on():
    """Audit t21: the fixture's f003 DSWRF (a 0-3 h average, ecCodes ``avg_sdswrf``) was
    not recognised; f000 has none (and no PRATE): its record takes the first interval's
    mean, not a value of its own."""
    ds = open_met_3d(DATA / "gfs")
    for name in ("solar", "precip"):
        values = np.asarray(ds[name].values)
        np.testing.assert_array_equal(values[0], values[1])
        assert "forecast step 0" in ds[name].attrs["plumecast_from"], ds[name].attrs["plumecast_from"]
    assert float(np.asarray(ds["solar"].values).max()) > 0.0


# --------------------------------------------------------------------------- 3. GFS precipitation


def _bucketed_apcp(rate: float) -> Callable[[Any, int, dict[str, Any]], None]:
    return lambda out, s, tpl: _apcp(out, s, tpl, lambda a, b: rate * (b - a))


@needs_grib
def test_gfs_apcp_buckets_are_taken_back_to_each_interval(tmp_path):
    """Audit t10/apcp_only: APCP buckets 0-3, 0-6, 6-9, 6-12 h of 1 mm/h, f000 without
    any. Before: 0, 0, 1, 0, 1 mm/h (step 0 took f003's amount; the 6-9 h bucket gave a
    negative difference, clipped to 0)."""
    ds = open_met_3d(_gfs_set(tmp_path / "gfs", (0, 3, 6, 9, 12), _bucketed_apcp(1.0)))
    np.testing.assert_allclose(_precip(ds), 1.0, rtol=1e-3)


@needs_grib
def test_gfs_prate_averaged_over_windows_restarting_every_6_h(tmp_path):
    """Audit t10b: 2 mm/h during 03-06 UTC only; f006 holds the 0-6 h mean (1 mm/h).
    The interval 03-06 is (6 A(0-6) - 3 A(0-3)) / 3 = 2 mm/h, as ``met fetch`` takes it.
    With APCP beside PRATE the two agree."""

    def mean(a: int, b: int) -> float:
        return sum(2.0 if 3 <= t < 6 else 0.0 for t in range(a, b)) / (b - a)

    ds = open_met_3d(_gfs_set(tmp_path / "prate", (0, 3, 6, 9, 12), lambda out, s, tpl: _prate(out, s, tpl, mean)))
    np.testing.assert_allclose(_precip(ds)[1:], [0.0, 2.0, 0.0, 0.0], atol=1e-3)

    def both(out: Any, s: int, tpl: dict[str, Any]) -> None:
        _apcp(out, s, tpl, lambda a, b: mean(a, b) * (b - a))
        _prate(out, s, tpl, mean)

    ds2 = open_met_3d(_gfs_set(tmp_path / "both", (0, 3, 6, 9, 12), both))
    np.testing.assert_allclose(_precip(ds2)[1:], [0.0, 2.0, 0.0, 0.0], atol=1e-3)


@needs_grib
def test_a_decreasing_accumulation_that_is_no_bucket_reset_is_an_error(tmp_path):
    """0-3 h: 3 mm, 0-6 h: 2 mm: the accumulation shrinks inside one window. Before:
    clipped to 0 silently."""

    def extra(out: Any, s: int, tpl: dict[str, Any]) -> None:
        if s:
            _write(out, tpl["prate"], {3: 3.0, 6: 2.0}[s], parameterNumber=8, typeOfStatisticalProcessing=1,
                   startStep=0, endStep=s)

    ds = open_met_3d(_gfs_set(tmp_path / "gfs", (0, 3, 6), extra))
    wind_grid_3d(ds, records=(1, 2))
    with pytest.raises(MetDataError, match=r"f006.*'tp'.*decreas"):
        wind_grid_3d(ds, records=(2, 3))


def _era5_tp_mm(tmp_path: Path, n: int = 4) -> tuple[list[Path], Any]:
    a = atmosphere(n_times=n)
    paths = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    sl = xr.load_dataset(paths[1])
    sl["tp"] = sl["tp"] * 1000.0
    sl["tp"].attrs["units"] = "mm"
    sl.to_netcdf(tmp_path / "sl_mm.nc")
    paths[1].unlink()
    return [paths[0], tmp_path / "sl_mm.nc"], a


def test_era5_tp_in_mm_is_read_as_the_hours_amount(tmp_path):
    """Audit t33: ERA5 tp converted to mm is still the amount of the hour before the
    valid time. Before: the units made it 'accumulated since the start', differenced: 0."""
    paths, a = _era5_tp_mm(tmp_path)
    ds = open_met_3d(paths)
    np.testing.assert_allclose(np.asarray(ds["precip"].values), a.precip, rtol=1e-5, atol=1e-6)


def test_era5_mean_rates_are_the_hour_before_and_downward(tmp_path):
    """The new CDS's ERA5 mean rates (``avg_ishf`` downward positive, ``avg_tprate``,
    GRIB_stepType avg, centre ecmf): the mean over the hour before the valid time."""
    a = atmosphere(n_times=3)
    paths = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    sl = xr.load_dataset(paths[1])
    sl["avg_ishf"] = (sl["sshf"] / 3600.0).assign_attrs(units="W m**-2", GRIB_stepType="avg")
    sl["avg_tprate"] = (sl["tp"] / 3.6).assign_attrs(units="kg m**-2 s**-1", GRIB_stepType="avg")
    sl = sl.drop_vars(["sshf", "tp"]).assign_attrs(GRIB_centre="ecmf")
    paths[1].unlink()
    sl.to_netcdf(paths[1])
    ds = open_met_3d(paths)
    np.testing.assert_allclose(np.asarray(ds["shf"].values), a.shf, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.asarray(ds["precip"].values), a.precip, rtol=1e-4, atol=1e-5)
    assert ds["shf"].attrs.get("plumecast_interval") == "1" and ds["precip"].attrs.get("plumecast_interval") == "1"


# --------------------------------------------------------------------------- 4. held over the interval


def _era5_rain_hour(tmp_path: Path, n: int = 8, hour: int = 4) -> list[Path]:
    """Hourly ERA5-style files; rain 5 mm and an upward heat flux of 200 W m-2 only in
    the hour ending at record ``hour`` (03-04 UTC), solar radiation too."""
    a = atmosphere(n_times=n)
    a.precip[:] = 0.0
    a.precip[hour] = 5.0
    a.shf[:] = 0.0
    a.shf[hour] = 200.0
    a.solar[:] = 0.0
    a.solar[hour] = 500.0
    return write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc", with_solar=True)


def test_a_run_holds_interval_quantities_over_their_interval(tmp_path):
    """Audit t6: ERA5's tp, sshf, ssrd at 04 UTC are the hour 03-04. The window of a run
    over 03-04 holds them in both records; the window over 04-05 holds the next hour's
    (none). Before: interpolated between the records as instantaneous values, so the
    rain fell half in 03-04 and half in 04-05."""
    ds = open_met_3d(_era5_rain_hour(tmp_path))
    winds = RunWinds(ds, T0, levels=True)
    dt = 600.0
    g34 = winds.grid_for(18, 6, dt)  # 03:00-04:00: records 3 and 4
    assert g34.surface is not None and g34.stomata is not None
    np.testing.assert_allclose(g34.surface[:, PRECIP], 5.0, rtol=1e-6)
    np.testing.assert_allclose(g34.stomata[:, 0], 500.0, rtol=1e-5)
    assert np.all(g34.surface[:, INV_L] < 0) and np.all(g34.surface[:, WSTAR] > 0)
    g45 = winds.grid_for(24, 6, dt)  # 04:00-05:00: records 4 and 5
    np.testing.assert_array_equal(g45.surface[:, PRECIP], 0.0)
    np.testing.assert_array_equal(g45.stomata[:, 0], 0.0)
    np.testing.assert_array_equal(g45.surface[:, INV_L], 0.0)
    np.testing.assert_array_equal(g45.surface[:, WSTAR], 0.0)
    # each record alone is still the mean over the hour that ends at it
    assert float(wind_grid_3d(ds, records=(4, 5)).surface[0, PRECIP].min()) == pytest.approx(5.0)


def _scenario(paths: list[Path], **over: Any) -> Any:
    data: dict[str, Any] = {
        "name": "audit25", "start": "2026-03-01T00:00:00Z", "duration_h": 6, "time_step_s": 600,
        "particles": 600, "seed": 5, "backend": "numba", "agent": {"name": "ammonia"},
        "deposition": {"dry_velocity_m_s": 0.0},
        "met": {"source": "file", "path": [str(p) for p in paths]},
        "releases": [{"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 2.0, "amount_kg": 1000.0,
                      "duration_s": 0}],
        "output": {"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 50, "resolution_deg": 1.0},
                   "interval_min": 60},
    }
    data.update(over)
    return scenario_from_dict(data)


def test_wet_deposition_falls_in_the_hour_of_the_rain(tmp_path):
    """Audit t6 as a run: rain 03-04 UTC only. Before: 425 kg in 03-04 and 270 kg in
    04-05 after the rain had stopped (of 1000 kg); now everything in 03-04."""
    from plumecast.runner import run

    r = run(_scenario(_era5_rain_hour(tmp_path)))
    dep = r.deposited
    area = _cell_area(dep)
    per_hour = (np.asarray(dep.values, np.float64) * area).sum(axis=(1, 2))
    times = [str(t)[11:16] for t in dep["time"].values]
    got = dict(zip(times, per_hour, strict=True))
    assert got["04:00"] > 100.0, got  # the hour 03-04 (output labelled at its end)
    assert got["05:00"] == 0.0 and got["03:00"] == 0.0, got


def _cell_area(da: xr.DataArray) -> np.ndarray:
    r = 6_371_000.0
    lat = np.asarray(da["lat"].values, np.float64)
    d = np.deg2rad(float(np.diff(lat)[0]))
    band = r**2 * d * (np.sin(np.deg2rad(lat) + d / 2) - np.sin(np.deg2rad(lat) - d / 2))
    return np.broadcast_to(band[:, None], (lat.size, da.sizes["lon"]))


# --------------------------------------------------------------------------- 5. no silent fallback to one level


def _era5_without(tmp_path: Path, drop_levels: tuple[str, ...] = (), levels: bool = True) -> list[Path]:
    paths = write_era5(atmosphere(n_times=4), tmp_path / "pl.nc", tmp_path / "sl.nc")
    if drop_levels:
        pl = xr.load_dataset(paths[0]).drop_vars(list(drop_levels))
        pl.to_netcdf(tmp_path / "era5_pl.nc")
        paths[0].unlink()
        paths[0] = tmp_path / "era5_pl.nc"
    if not levels:
        paths[0].unlink()
        return paths[1:]
    return paths


def test_pressure_levels_without_geopotential_are_an_error_naming_the_file(tmp_path):
    """Audit t29: ERA5 pressure levels without z. Before: every particle moved with the
    1000 hPa wind, and the summary said the met gave no boundary layer (blh, zust, sshf,
    tp were there). docs/met.md: without geopotential the call is an error."""
    from plumecast.met.check import check_met

    paths = _era5_without(tmp_path, drop_levels=("z",))
    with pytest.raises(MetDataError, match=r"era5_pl\.nc.*geopotential.*z"):
        run_winds(_scenario(paths, duration_h=3))
    with pytest.raises(MetDataError, match=r"era5_pl\.nc.*geopotential"):
        check_met(paths)
    # asked for one level, it is read at one level, and the run says what it leaves unused
    winds = run_winds(_scenario(paths, duration_h=3,
                                met={"source": "file", "path": [str(p) for p in paths], "vertical": "single"}))
    prov = " | ".join(winds.provenance)
    assert "the met gives none" not in prov and "not read" in prov, prov


def test_single_level_files_say_their_boundary_layer_and_rain_are_not_used(tmp_path):
    """Audit t22: single-level files only (u10, blh, zust, sshf, tp): winds at one level,
    as documented; the check and the run say the boundary layer and the rain in the
    files are not used (before: 'not in the files: boundary layer', 'the met gives none')."""
    from plumecast.met.check import check_met

    paths = _era5_without(tmp_path, levels=False)
    out = "\n".join(check_met(paths))
    assert "not in the files: boundary layer" not in out, out
    assert "not used" in out and "'blh'" in out and "'tp'" in out, out
    prov = " | ".join(run_winds(_scenario(paths, duration_h=3)).provenance)
    assert "the met gives none" not in prov, prov
    assert "WARNING" in prov and "'blh'" in prov and "'tp'" in prov, prov


# --------------------------------------------------------------------------- 6. the ground from sp


def _mountain_files(tmp_path: Path, with_sp: bool = True) -> list[Path]:
    """ERA5-style files over flat ground at 2000 m (sp ~ 795 hPa), no orography: the
    wind grows 1 cm/s per metre above the ground; under the ground (extrapolated)
    40 m/s, garbage that must never be used."""
    levels = np.array([1000.0, 925.0, 850.0, 800.0, 775.0, 750.0, 700.0, 600.0, 500.0, 400.0, 300.0])
    times = T0 + np.arange(2) * np.timedelta64(3600, "s")
    z = standard_atmosphere_height_m(levels)
    hag = z - 2000.0
    u1 = np.where(hag > 0, 10.0 + 0.01 * hag, 40.0)
    shape = (times.size, levels.size, LAT.size, LON.size)

    def lev(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x[None, :, None, None], shape).astype(np.float32)

    coords = {"valid_time": times, "pressure_level": ("pressure_level", levels, {"units": "hPa"}),
              "latitude": LAT, "longitude": LON}
    dims = ("valid_time", "pressure_level", "latitude", "longitude")
    pl = xr.Dataset({"u": (dims, lev(u1), {"units": "m s**-1"}), "v": (dims, lev(0 * z), {"units": "m s**-1"}),
                     "z": (dims, lev(z * G0), {"units": "m**2 s**-2"}),
                     "t": (dims, lev(standard_atmosphere_temperature_k(levels)), {"units": "K"})}, coords=coords)
    pl.to_netcdf(tmp_path / "pl.nc")
    p_ground = 101325.0 * (1 - 2000.0 / 44330.8) ** (1 / 0.190263)
    sdims = ("valid_time", "latitude", "longitude")
    full = np.full((times.size, LAT.size, LON.size), 0.0, np.float32)
    sl = {"blh": (sdims, full + 800.0, {"units": "m"})}
    if with_sp:
        sl["sp"] = (sdims, full + np.float32(p_ground), {"units": "Pa", "standard_name": "surface_air_pressure"})
    xr.Dataset(sl, coords={k: coords[k] for k in ("valid_time", "latitude", "longitude")}).to_netcdf(tmp_path / "sl.nc")
    return [tmp_path / "pl.nc", tmp_path / "sl.nc"]


def test_the_ground_is_diagnosed_from_the_surface_pressure_without_orography(tmp_path):
    """Audit t27: ground at 2000 m, sp 795 hPa, no surface geopotential. Before: the
    levels' heights above sea level stood for heights above ground, and the levels
    under the ground (extrapolated) were used."""
    ds = open_met_3d(_mountain_files(tmp_path))
    grid = wind_grid_3d(ds, z_levels_m=[300.0, 1000.0])  # the lowest level above ground: 775 hPa, 214 m
    assert any(line.startswith("ground: diagnosed from the surface pressure 'sp'") for line in grid.provenance), \
        grid.provenance
    lam = np.deg2rad(grid.lon0 + grid.dlon * 5)
    vec = grid.vec[0, :, :, 5, 5].astype(np.float64)  # (height, xyz) at one point
    u = -vec[:, 0] * np.sin(lam) + vec[:, 1] * np.cos(lam)
    np.testing.assert_allclose(u, [13.0, 20.0], atol=0.1)


# --------------------------------------------------------------------------- 7. messages


def test_w_in_m_per_s_beside_omega_files_is_named_as_a_units_question(tmp_path):
    """Audit t8/w_units_ms: one file of a set with w in m s-1 (others Pa s-1). Before:
    'has variables [...'w'] but ... has [...'omega']'."""
    a = atmosphere(n_times=2)
    for k in range(2):
        write_era5(a, tmp_path / f"pl_{k}.nc", tmp_path / f"sl_{k}.nc", sl=slice(k, k + 1))
    pl = xr.load_dataset(tmp_path / "pl_1.nc")
    pl["w"].attrs = {"units": "m s-1", "standard_name": "lagrangian_tendency_of_air_pressure"}
    pl.to_netcdf(tmp_path / "pl_1.nc")
    # units that contradict the standard name: refused, not read as omega
    with pytest.raises(MetDataError, match=r"pl_1\.nc.*'w'.*standard_name.*units 'm s-1'"):
        open_met_3d(sorted(tmp_path.glob("*.nc")))
    pl["w"].attrs = {"units": "m s-1"}  # as in the audit's file
    pl.to_netcdf(tmp_path / "pl_1.nc")
    with pytest.raises(MetDataError, match=r"pl_1\.nc.*'w'.*m s-1.*pl_0\.nc.*Pa s-1.*units") as err:
        open_met_3d(sorted(tmp_path.glob("*.nc")))
    assert "omega" in str(err.value)


def test_one_file_with_tp_in_mm_among_files_in_m_is_converted_and_named(tmp_path):
    """Audit t8/tp_units_mm: each file's own units convert its values, and the
    provenance names the conversion of each."""
    a = atmosphere(n_times=4)
    for k in range(4):
        write_era5(a, tmp_path / f"pl_{k}.nc", tmp_path / f"sl_{k}.nc", sl=slice(k, k + 1))
    sl = xr.load_dataset(tmp_path / "sl_0.nc")
    sl["tp"] = sl["tp"] * 1000.0
    sl["tp"].attrs["units"] = "mm"
    sl.to_netcdf(tmp_path / "sl_0.nc")
    ds = open_met_3d(sorted(tmp_path.glob("*.nc")))
    np.testing.assert_allclose(np.asarray(ds["precip"].values), a.precip, rtol=1e-5, atol=1e-6)
    frm = ds["precip"].attrs["plumecast_from"]
    assert "'tp' [mm] of sl_0.nc" in frm and "'tp' [m] of sl_1.nc" in frm, frm


def test_a_netcdf_copy_of_a_forecast_on_time_and_step_is_read_at_its_valid_times(tmp_path):
    """Audit t31: cfgrib's forecast layout saved as netCDF (reference time x step,
    valid_time on both). Before: refused with 'time 'valid_time' has dims ('time',
    'step'), not a dimension of 'u''."""
    a = atmosphere(n_times=4)
    paths = write_era5(a, tmp_path / "pl.nc")
    pl = xr.load_dataset(paths[0])
    runs = pl.isel(valid_time=[0, 2]).rename(valid_time="time")
    two = xr.concat([runs, pl.isel(valid_time=[1, 3]).rename(valid_time="time").assign_coords(
        time=runs["time"])], dim=xr.DataArray(np.array([0, 3600], "timedelta64[s]").astype("timedelta64[ns]"),
                                             dims="step", name="step"))
    two = two.transpose("time", "step", ...)
    two = two.assign_coords(valid_time=two["time"] + two["step"])
    two.to_netcdf(tmp_path / "fc.nc")
    ds = open_met_3d(tmp_path / "fc.nc")
    np.testing.assert_array_equal(ds["time"].values, a.times)
    ref = open_met_3d(paths[0])
    np.testing.assert_allclose(ds["u"].values, ref["u"].values)
