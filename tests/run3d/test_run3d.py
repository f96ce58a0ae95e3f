"""Runs on 3-D met: levels, a boundary layer from the met, deposition, file sets.

The met files are the synthetic atmosphere of ``tests/met/style_files.py`` (six
pressure levels over hills, hourly records, boundary-layer fields and rain), written
the way ERA5 and GFS hold it.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError, ScenarioError
from plumecast.met.levels import open_met_3d, wind_grid_3d
from plumecast.runner import run, write_outputs
from plumecast.scenario import scenario_from_dict
from plumecast.transport.kernels_numpy import StepPhysics
from plumecast.transport.lagrangian import get_kernel
from tests.met.style_files import atmosphere, write_era5, write_gfs

N_TIMES = 4  # hourly records 00..03 UTC


@pytest.fixture(scope="module")
def met_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("met3d")
    a = atmosphere(n_times=N_TIMES)
    era5 = write_era5(a, d / "era5_pl.nc", d / "era5_sl.nc")
    gfs = write_gfs(a, d / "gfs.nc")
    hourly = []
    for k in range(N_TIMES):
        hourly += write_era5(a, d / f"pl_{k:02d}.nc", d / f"sl_{k:02d}.nc", sl=slice(k, k + 1))
    return {"era5": era5, "gfs": [gfs], "hourly": hourly, "dir": d}


def scenario(paths, **over):
    data = {
        "name": "run3d",
        "start": "2026-03-01T00:00:00Z",
        "duration_h": 3,
        "time_step_s": 600,
        "particles": 4000,
        "seed": 11,
        "backend": "numpy",
        "agent": {"name": "ammonia"},
        "deposition": {"dry_velocity_m_s": 0.01, "scavenging_a_s": 1.0e-4, "scavenging_b": 0.62},
        "met": {"source": "file", "path": [str(p) for p in paths]},
        "releases": [
            {"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 20, "rate_kg_s": 2.0, "stop_h": 2},
            {"type": "point", "lat": 44.0, "lon": -3.0, "height_m": 800, "rate_kg_s": 1.0},
        ],
        "output": {"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 50, "resolution_deg": 0.5},
                   "interval_min": 60},
    }
    data.update(over)
    return scenario_from_dict(data)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_budget_closes_with_deposition_and_a_boundary_layer_from_the_met(met_files, backend):
    r = run(scenario(met_files["era5"], backend=backend))
    b = r.budget
    assert r.stats["wind_level"] == "levels"
    prov = " | ".join(r.stats["met_provenance"])
    assert "mixing height: 'blh'" in prov and "on the file's levels" in prov
    assert b.released > 0
    assert b.deposited_dry > 1e-3 * b.released  # a ground release in a 600-1000 m layer, 3 h at 1 cm/s
    assert b.deposited_wet > 1e-3 * b.released  # rain of up to 2 mm/h
    assert abs(b.residual) <= 1e-9 * b.released
    # the deposited field holds the same mass as the budget (every deposit is inside the output grid)
    assert r.deposited is not None and r.deposited.attrs["units"] == "kg m-2"
    from plumecast.concentration import OutputGrid

    area = OutputGrid.from_config(r.scenario.output.grid).cell_area_m2()
    on_grid = float((r.deposited.values.astype(np.float64) * area).sum())
    assert on_grid == pytest.approx(b.deposited, rel=1e-5)


def test_deposition_outside_the_output_grid_is_said_and_counted(met_files, tmp_path):
    """A grid smaller than the deposit: the field maps what fell on it, its attribute and a
    provenance line give the rest, and dashboard.json's budget adds up (outputs audit,
    session 30: the cells held about half the budget's deposit without a word, and the
    dashboard's budget left the deposited terms out)."""
    import json

    from plumecast.concentration import OutputGrid
    from plumecast.web.export import write_dashboard_files

    r = run(scenario(met_files["era5"], particles=1500,
                     output={"grid": {"lon_min": -1, "lon_max": 1, "lat_min": 44.5, "lat_max": 45.5,
                                      "resolution_deg": 0.25}, "interval_min": 60}))
    b = r.budget
    assert r.deposited is not None
    area = OutputGrid.from_config(r.scenario.output.grid).cell_area_m2()
    on_grid = float((r.deposited.values.astype(np.float64) * area).sum())
    off = r.deposited.attrs["deposited_outside_grid_kg"]
    assert off > 0.1 * b.deposited and on_grid + off == pytest.approx(b.deposited, rel=1e-5)
    assert any(line.startswith("deposition outside the output grid:") for line in r.stats["met_provenance"])
    write_dashboard_files(r, tmp_path)
    kg = json.loads((tmp_path / "dashboard.json").read_text())["budget_kg"]
    assert kg["released"] == pytest.approx(sum(v for k, v in kg.items() if k != "released"), rel=1e-9)


def _without_intervals(paths, folder):
    """The ERA5-style pair without its quantities over intervals (tp, sshf): a window
    then shares its first record with the last one unchanged."""
    folder.mkdir()
    sl = xr.load_dataset(paths[1]).drop_vars(["tp", "sshf"])
    sl.to_netcdf(folder / "era5_sl.nc")
    return [paths[0], folder / "era5_sl.nc"]


def test_numpy_and_numba_agree_on_a_3d_run(met_files, monkeypatch, tmp_path):
    """Also along the streamed windows, where the numba kernel packs only each window's
    new record and reads its two records either way round (``kernels_numba_3d._packed``).
    With rain and heat flux (held over each interval: the first record of a window
    holds the interval after it, audit 25) the window is packed afresh each time."""
    from plumecast.transport import kernels_numba_3d

    swaps = []
    packed = kernels_numba_3d._packed

    def watched(wind):  # type: ignore[no-untyped-def]
        out = packed(wind)
        swaps.append(out[2])
        return out

    monkeypatch.setattr(kernels_numba_3d, "_packed", watched)
    for paths in (met_files["era5"], _without_intervals(met_files["era5"], tmp_path / "no_intervals")):
        swaps.clear()
        sc = scenario(paths)
        a = run(sc)
        b = run(sc.replace(backend="numba"))
        if paths is not met_files["era5"]:
            assert False in swaps and True in swaps  # the windows were packed both ways round
        np.testing.assert_allclose(b.particles.lon, a.particles.lon, atol=1e-6)
        np.testing.assert_allclose(b.particles.lat, a.particles.lat, atol=1e-6)
        np.testing.assert_allclose(b.particles.z, a.particles.z, atol=1e-2)
        assert b.budget.deposited_wet == pytest.approx(a.budget.deposited_wet, rel=1e-4)
    for name in ("airborne", "deposited_dry", "deposited_wet", "exited"):
        assert getattr(b.budget, name) == pytest.approx(getattr(a.budget, name), rel=1e-6, abs=1e-9 * a.budget.released)
    peak = float(a.concentration.max())
    assert peak > 0
    np.testing.assert_allclose(b.concentration.values, a.concentration.values, atol=1e-6 * peak)


def test_hourly_files_give_the_forecast_of_one_file(met_files):
    one = run(scenario(met_files["era5"]))
    many = run(scenario(met_files["hourly"]))
    np.testing.assert_array_equal(many.concentration.values, one.concentration.values)
    np.testing.assert_array_equal(many.deposited.values, one.deposited.values)
    np.testing.assert_array_equal(many.particles.lon, one.particles.lon)
    assert many.budget == one.budget


def test_era5_and_gfs_files_of_the_same_weather_give_the_same_forecast(met_files, tmp_path):
    """ERA5's tp and sshf are the hour before each record (held over that hour by the
    run, audit 25); wgrib2's netCDF of GFS keeps no averaging window, so its PRATE and
    SHTFL read as instantaneous: here they say, as ``met fetch``'s file does, that they
    are the mean over the interval from the previous record, the same weather."""
    gfs_path = tmp_path / "gfs_means.nc"
    ds = xr.load_dataset(met_files["gfs"][0])
    for name in ("PRATE_surface", "SHTFL_surface"):
        ds[name].attrs["comment"] = "mean over the interval from the previous lead time to this one"
    ds.to_netcdf(gfs_path)
    era5 = run(scenario(met_files["era5"]))
    gfs = run(scenario([gfs_path]))
    # the same numbers in other units (geopotential vs gpm, J m-2 accumulated vs W m-2,
    # m vs kg m-2 s-1): float32 rounding apart, the particles go the same way
    np.testing.assert_allclose(gfs.particles.lon, era5.particles.lon, atol=1e-4)
    np.testing.assert_allclose(gfs.particles.lat, era5.particles.lat, atol=1e-4)
    np.testing.assert_allclose(gfs.particles.z, era5.particles.z, atol=1.0)
    for name in ("airborne", "deposited_dry", "deposited_wet"):
        assert getattr(gfs.budget, name) == pytest.approx(getattr(era5.budget, name), rel=1e-4)


def test_the_run_holds_two_records_at_a_time_and_matches_the_whole_grid(met_files, tmp_path):
    """The rolling window reads each record once (record 0 reused) and gives the
    particles the winds of the whole set: the same run done in one kernel call on
    all records agrees to the rounding of the lookups at the call boundaries. (Without
    tp and sshf: quantities over intervals are held over each interval by the windows,
    which one call on all records cannot do; audit 25.)"""
    paths = _without_intervals(met_files["era5"], tmp_path / "no_intervals")
    sc = scenario(paths, deposition="off", particles=500,
                  releases=[{"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 300, "rate_kg_s": 1.0,
                             "stop_h": 0.1666666}])
    r = run(sc)
    assert r.stats["met_window_records"] == 2
    assert r.stats["met_records_read"] == N_TIMES
    ds = open_met_3d([str(p) for p in paths])
    whole = wind_grid_3d(ds, start=sc.start64)
    assert whole.times_s.size == N_TIMES
    from plumecast.release import births_and_groups, schedule

    p, _ = births_and_groups(schedule(sc), sc.particles, sc.seed, None)
    t = sc.turbulence
    physics = StepPhysics(dt_s=sc.time_step_s, kh_m2_s=t.kh_m2_s, kz_m2_s=t.kz_m2_s, mixing_height_m=t.mixing_height_m,
                          seed=sc.seed, kz_free_m2_s=t.kz_free_m2_s, kh_time_scale_s=t.kh_time_scale_s)
    get_kernel("numpy")(p, whole, physics, 0, sc.n_steps)
    np.testing.assert_allclose(r.particles.lon, p.lon, atol=1e-5)
    np.testing.assert_allclose(r.particles.lat, p.lat, atol=1e-5)
    np.testing.assert_allclose(r.particles.z, p.z, atol=0.5)


def test_deposition_off_and_constant_boundary_layer(met_files):
    r = run(scenario(met_files["era5"], deposition="off", met={"source": "file", "path": [
        str(p) for p in met_files["era5"]], "boundary_layer": "constant"}))
    assert r.budget.deposited == 0.0 and r.deposited is None
    assert abs(r.budget.residual) <= 1e-9 * r.budget.released
    assert any("met.boundary_layer: constant" in line for line in r.stats["met_provenance"])


def test_boundary_layer_from_the_met_needs_one(tmp_path, met_files):
    """A file with winds and geopotential on levels but neither a mixing height nor
    temperature cannot give a boundary layer: asked for one, the run says which file."""
    ds = xr.open_dataset(met_files["era5"][0]).drop_vars(["t"])
    path = tmp_path / "no_bl.nc"
    ds.to_netcdf(path)
    sc = scenario([path], met={"source": "file", "path": str(path), "boundary_layer": "met"}, deposition="off")
    with pytest.raises(MetDataError, match="no_bl.nc.*boundary_layer"):
        run(sc)
    # left to choose, the run uses the scenario's constants and says so
    r = run(scenario([path], deposition="off"))
    assert any("constant K_z" in line for line in r.stats["met_provenance"])


def test_levels_asked_of_a_single_level_file(tmp_path):
    from plumecast.met import build_wind_dataset, write_era5_style

    lat = np.arange(40.0, 50.01, 1.0)
    lon = np.arange(-10.0, 10.01, 1.0)
    u = np.full((2, lat.size, lon.size), 5.0, np.float32)
    times = np.array(["2026-03-01T00", "2026-03-01T06"], dtype="datetime64[ns]")
    path = write_era5_style(build_wind_dataset(u, u * 0, times, lat, lon, source="one level", level="850 hPa",
                                                steady=False),
                            tmp_path / "one_level.nc")
    sc = scenario([path], met={"source": "file", "path": str(path), "vertical": "levels"}, deposition="off")
    with pytest.raises((MetDataError, ScenarioError), match="one_level.nc"):
        run(sc)
    r = run(scenario([path], deposition="off"))  # default: one level, and the run says why
    assert r.stats["wind_level"] != "levels"
    assert any("not read on levels" in line for line in r.stats["met_provenance"])


def test_outputs_carry_the_deposited_mass_and_the_met_provenance(met_files, tmp_path):
    r = run(scenario(met_files["era5"]))
    written = write_outputs(r, tmp_path)
    with xr.open_dataset(written[0]) as ds:
        dep = ds["deposited_mass"]
        assert dep.attrs["units"] == "kg m-2" and dep.dims == ("time", "lat", "lon")
        assert dep.attrs["cell_methods"] == "time: sum"
        assert float(dep.sum()) > 0
        assert "blh" in ds.attrs["met_provenance"]
        assert "deposition: dry velocity 0.01 m s-1" in ds.attrs["met_provenance"]
        assert float(ds.attrs["mass_deposited_dry_kg"]) == pytest.approx(r.budget.deposited_dry)


def test_step_physics_of_the_run_is_the_scenarios():
    """deposition keys override the agent's; off turns both removals off."""
    base = {"start": "2026-03-01", "duration_h": 1, "agent": "ammonia",
            "releases": [{"type": "point", "lat": 45, "lon": 0, "rate_kg_s": 1}]}
    sc = scenario_from_dict(base)
    vd, a, b, notes = sc.deposition_values()
    assert (vd, a, b) == (0.0, 9.9e-5, 0.62) and "dry deposition is off" in notes[0]
    vd, a, b, notes = scenario_from_dict({**base, "deposition": {"dry_velocity_m_s": 0.005}}).deposition_values()
    assert (vd, a, b, notes) == (0.005, 9.9e-5, 0.62, [])
    assert scenario_from_dict({**base, "deposition": False}).deposition_values() == (0.0, 0.0, 0.0, [])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_resistance_model_of_dry_deposition_on_the_met(met_files, backend):
    """deposition.land_use: v_d from the met's u* and 1/L and Wesely's r_c for ammonia;
    the run deposits, says which land use, season and r_c it used, and the mass budget
    closes. Water (ammonia is very soluble) takes up more than a town's pavements."""
    from plumecast.transport import drydep

    deposited = {}
    for land in ("urban", "water"):
        sc = scenario(met_files["era5"], backend=backend,
                      deposition={"land_use": land, "scavenging_a_s": 1.0e-4})
        r = run(sc)
        rc = drydep.surface_resistance(drydep.gas_constants("ammonia"), land, "spring")
        line = next(x for x in r.stats["met_provenance"] if "Wesely (1989) resistance model" in x)
        assert f"land use {land}, season spring (from the start month 3 at latitude 45.0, the first point release)" in line
        assert f"surface resistance {rc:.3g} s m-1" in line
        assert r.budget.deposited_dry > 0.0
        assert abs(r.budget.residual) < 1e-9 * r.budget.released
        deposited[land] = r.budget.deposited_dry
    assert deposited["water"] > 1.2 * deposited["urban"]


def test_resistance_model_needs_the_met_boundary_layer_and_the_gas_constants():
    """Without u* and 1/L (the climatological mean winds) the run stops in one line;
    an agent without Henry's law constant keeps dry deposition off and says why; a bad
    land use names the choices."""
    base = {"start": "2026-07-01T00:00:00Z", "duration_h": 1, "backend": "numpy", "particles": 200,
            "agent": "ammonia", "deposition": {"land_use": "range"},
            "releases": [{"type": "point", "lat": 45, "lon": 5, "rate_kg_s": 1}],
            "output": {"grid": {"resolution_deg": 2.0}}}
    with pytest.raises(ScenarioError, match="friction velocity and the Obukhov length"):
        run(scenario_from_dict(base))
    phosgene = scenario_from_dict({**base, "agent": "phosgene"})
    model, notes, rc, _ = phosgene.dry_deposition_resistance()
    assert model is None and rc == 0.0 and "phosgene: no effective Henry's law constant" in notes[0] and "cannot be used" in notes[0]
    assert phosgene.deposition_values()[0] == 0.0
    with pytest.raises(ScenarioError, match="'golf_course' is not a Wesely .*expected one of urban, agricultural"):
        scenario_from_dict({**base, "deposition": {"land_use": "golf_course"}})
    model, notes, rc, _ = scenario_from_dict({**base, "deposition": {"land_use": "range", "season": "Winter snow"}}
                                          ).dry_deposition_resistance()
    assert model is not None and rc > 0.0 and model.laminar_factor > 0.0 and np.all(model.array()[:, 0] == rc)
    assert "season winter_snow (as given)" in notes[0]
    explicit = scenario_from_dict({**base, "deposition": {"land_use": "range", "dry_velocity_m_s": 0.004}})
    assert explicit.dry_deposition_resistance() == (None, [], 0.0, None)
    # an inline agent may carry the three constants, all or none
    mine = {"name": "my gas", "molecular_weight_g_mol": 50.0, "aegl_ppm": {3: {"60min": 10.0}},
            "henry_m_atm": 1.0e3, "reactivity_f0": 0.0, "diffusivity_ratio": 1.6}
    model, notes, rc, _ = scenario_from_dict({**base, "agent": mine}).dry_deposition_resistance()
    assert model is not None and rc > 0.0 and "dry deposition of my gas" in notes[0]
    with pytest.raises(ScenarioError, match="agent: henry_m_atm, diffusivity_ratio given without the rest"):
        scenario_from_dict({**base, "agent": {k: v for k, v in mine.items() if k != "reactivity_f0"}})


def test_solar_radiation_is_read_from_era5_and_gfs_files(tmp_path):
    """ERA5's hourly accumulated ssrd [J m-2] and GFS's DSWRF [W m-2] of the same
    weather give the same irradiance, beside the 2-m temperature in degC
    (WindGrid.stomata); files without them give none."""
    a = atmosphere(n_times=2)
    era5 = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc", with_solar=True)
    gfs = write_gfs(a, tmp_path / "gfs.nc", with_solar=True)
    grids = [wind_grid_3d(open_met_3d([str(p) for p in paths])) for paths in (era5, [gfs])]
    for g in grids:
        assert g.stomata is not None and g.stomata.shape == (2, 2, g.nlat, g.nlon)
        assert any("solar radiation at the ground" in line for line in g.provenance)
    np.testing.assert_allclose(grids[0].stomata, grids[1].stomata, rtol=1e-5, atol=1e-3)
    assert grids[0].stomata[:, 0].max() == pytest.approx(float(a.solar.max()), rel=1e-5)
    assert grids[0].stomata[:, 1].max() == pytest.approx(float(a.t2m.max()) - 273.15, rel=1e-5)
    plain = wind_grid_3d(open_met_3d([str(p) for p in write_era5(a, tmp_path / "p2.nc", tmp_path / "s2.nc")]))
    assert plain.stomata is None and plain.surface is not None


def test_resistance_model_takes_the_stomata_from_the_met(tmp_path):
    """With the met's radiation the run says so and deposits more SO2 than the same
    run with the declared night (closed stomata) on files without it."""
    a = atmosphere(n_times=N_TIMES)
    sunny = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc", with_solar=True)
    plain = write_era5(a, tmp_path / "pl2.nc", tmp_path / "sl2.nc")
    dep = {"land_use": "agricultural", "season": "midsummer"}
    runs = [run(scenario(paths, agent="sulfur dioxide", deposition=dep)) for paths in (sunny, plain)]
    lines = [x for x in runs[0].stats["met_provenance"] if "stomatal resistance from the met" in x]
    assert len(lines) == 1
    assert not any("stomatal resistance from the met" in x for x in runs[1].stats["met_provenance"])
    assert runs[0].budget.deposited_dry > 1.1 * runs[1].budget.deposited_dry > 0.0


def test_plumecast_run_prints_the_met_provenance_and_the_deposition(met_files, tmp_path):
    """The command's summary says where the met came from and how much was deposited."""
    import yaml
    from typer.testing import CliRunner

    from plumecast.cli import app

    sc = scenario(met_files["era5"], particles=1000)
    data = sc.model_dump(mode="json", exclude_defaults=True)
    data["agent"] = "ammonia"
    data["met"] = {"source": "file", "path": [str(p) for p in met_files["era5"]]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    r = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "out"), "--no-map", "-q"],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "deposited (dry / wet)" in r.output
    assert "mixing height: 'blh'" in r.output and "on the file's levels" in r.output
    with xr.open_dataset(tmp_path / "out" / "concentration.nc") as ds:
        assert "deposited_mass" in ds


def test_the_default_winds_are_called_climatological_mean_winds():
    """The shipped default is the climatology: read at 850 hPa for releases inside the
    mixed layer, on its three levels for a release that starts above it (releases
    aloft use winds aloft), or as `met.vertical` / `level_hpa` say. Every run on it
    says it ran on climatological mean winds, not a forecast."""
    base = {"start": "2026-07-01T00:00:00Z", "duration_h": 1, "backend": "numpy", "particles": 200,
            "releases": [{"type": "point", "lat": 45, "lon": 5, "rate_kg_s": 1, "height_m": 300}],
            "output": {"grid": {"resolution_deg": 2.0}}}
    ground = run(scenario_from_dict(base))
    assert ground.stats["wind_level"] == "850 hPa"
    assert ground.stats["met_provenance"][0].startswith("winds: climatological mean winds, one level (850 hPa)")
    assert "inside the mixed layer" in ground.stats["met_provenance"][0]
    aloft = {**base, "releases": [{**base["releases"][0], "height_m": 3000}]}
    default = run(scenario_from_dict(aloft))
    assert default.stats["wind_level"] == "levels"
    assert default.stats["met_provenance"][0].startswith("winds: climatological mean winds on 850/500/200 hPa")
    assert "releases.0 at 3000 m, above the 1000 m mixing height" in default.stats["met_provenance"][0]
    r = run(scenario_from_dict({**base, "met": {"source": "climatology", "vertical": "levels"}}))
    assert r.stats["wind_level"] == "levels"
    assert r.stats["met_provenance"][0].startswith("winds: climatological mean winds on 850/500/200 hPa")
    assert "not a forecast" in r.stats["met_provenance"][0]
    single = run(scenario_from_dict({**aloft, "met": {"source": "climatology", "vertical": "single"}}))
    assert single.stats["wind_level"] == "850 hPa"
    one = run(scenario_from_dict({**aloft, "met": {"source": "climatology", "level_hpa": 500}}))
    assert one.stats["wind_level"] == "500 hPa"
    assert "climatological mean winds" in one.stats["met_provenance"][0]
    # aloft, the release moves with the winds aloft: the runs differ
    assert not np.allclose(default.particles.lon, one.particles.lon)
    assert not np.allclose(default.particles.lon, single.particles.lon)


def test_gpu_runs_read_the_levels_as_the_cpu_backends_do(met_files):
    """The CUDA kernels have the 3-D physics: a cuda run reads the levels of a file
    that has them, as numpy and numba do (no GPU needed to check the choice)."""
    from plumecast.run_winds import scenario_winds

    levels_file = met_files["era5"][:1]  # u, v, z and t on six pressure levels
    _, levels, note = scenario_winds(scenario(levels_file, deposition="off"))
    assert levels
    _, levels_gpu, note_gpu = scenario_winds(scenario(levels_file, deposition="off", backend="cuda"))
    assert levels_gpu and note_gpu == note


def test_a_release_above_the_met_is_said_and_so_are_particles_ending_there():
    """Above the met's highest height the kernels hold the top level's winds and w:
    a run says so for a release that starts there and for particles that end there;
    a run inside the met says nothing."""
    def scenario(height_m: float) -> dict:
        return {"name": "aloft", "start": "2026-01-15T00:00:00Z", "duration_h": 1, "time_step_s": 600,
                "particles": 500, "backend": "numpy", "agent": "chlorine",
                "met": {"source": "climatology", "vertical": "levels"},
                "releases": [{"type": "point", "lat": 50, "lon": 8, "height_m": height_m, "rate_kg_s": 1,
                              "stop_h": 0.5}],
                "output": {"grid": {"lon_min": 0, "lon_max": 30, "lat_min": 40, "lat_max": 60,
                                    "resolution_deg": 1}}}

    high = [line for line in run(scenario_from_dict(scenario(15000))).stats["met_provenance"]
            if line.startswith("above the met:")]
    assert len(high) == 2
    assert "releases.0 starts at 15,000 m, above the met's highest height (10,000 m above ground)" in high[0]
    assert "500 of 500 airborne particles (100 %) end above" in high[1]
    low = run(scenario_from_dict(scenario(3000))).stats["met_provenance"]
    assert not [line for line in low if line.startswith("above the met:")]


def test_the_provenance_names_the_records_the_run_read(met_files):
    """The met line of the provenance gives the records the run read, not the
    first record's own range."""
    sc = scenario(met_files["era5"], duration_h=2)
    line = next(x for x in run(sc).stats["met_provenance"] if x.startswith("met: "))
    assert line.endswith(", 3 record(s) read, 2026-03-01T00:00:00 UTC to 2026-03-01T02:00:00 UTC, at most 2 held "
                         "at a time"), line


def test_a_run_on_one_record_of_another_date_says_so(tmp_path):
    """One record valid 2026-03-01T00 drives a run four days later, on levels and on one
    level: the run goes on (steady winds) and its provenance names the record's valid
    time and warns that these are winds of another date."""
    a = atmosphere(n_times=1)
    paths = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    with xr.open_dataset(paths[0]) as ds:
        ds.sel(pressure_level=850.0).load().to_netcdf(tmp_path / "pl850.nc")
    for met in ({"source": "file", "path": [str(p) for p in paths]},
                {"source": "file", "path": str(tmp_path / "pl850.nc")}):
        prov = run(scenario(paths, start="2026-03-05T00:00:00Z", duration_h=1, particles=500, deposition="off",
                            met=met)).stats["met_provenance"]
        assert any("one record, valid 2026-03-01T00:00:00 UTC, held for the whole run (steady)" in p for p in prov), prov
        warn = [p for p in prov if p.startswith("WARNING: ")]
        assert len(warn) == 1 and "4 days before the run starts" in warn[0] and "another date" in warn[0], prov
    # the same record for a run of its day: named, no warning
    prov = run(scenario(paths, duration_h=1, particles=500, deposition="off")).stats["met_provenance"]
    assert any("valid 2026-03-01T00:00:00 UTC" in p for p in prov) and not any(p.startswith("WARNING") for p in prov)


def test_constant_boundary_layer_says_that_rain_is_not_used(met_files):
    """With met.boundary_layer: constant the met's rain is not read: no wet deposition,
    and the provenance says so rather than naming 'tp'."""
    r = run(scenario(met_files["era5"], met={"source": "file", "path": [str(p) for p in met_files["era5"]],
                                             "boundary_layer": "constant"}))
    prov = r.stats["met_provenance"]
    assert r.budget.deposited_wet == 0.0
    assert not any(p.startswith(("precipitation: 'tp'", "mixing height: 'blh'", "u*:")) for p in prov), prov
    assert any(p.startswith("precipitation: not used with met.boundary_layer: constant") and "no wet scavenging" in p
               for p in prov), prov
    # and the deposition line names no scavenging coefficient the run cannot apply
    dep = [p for p in prov if p.startswith("deposition:")]
    assert dep and "Lambda" not in dep[0] and "no wet scavenging" in dep[0], dep
