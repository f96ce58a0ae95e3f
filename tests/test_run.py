"""End-to-end runs: mass balance, reproducibility, met formats, the demo."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import OutputPathError
from plumecast.met import build_wind_dataset, write_era5_style, write_gfs_style
from plumecast.runner import run, write_outputs
from plumecast.scenario import scenario_from_dict


def base(**over):
    data = {
        "name": "unit",
        "start": "2026-01-15T00:00:00Z",
        "duration_h": 12,
        "time_step_s": 600,
        "particles": 20000,
        "seed": 4,
        "agent": {"name": "chlorine", "decay_rate_s": 2.0e-5},
        "met": {"source": "uniform", "u_m_s": 8.0, "v_m_s": 3.0},
        "releases": [
            {"type": "point", "lat": 45.0, "lon": 5.0, "height_m": 10, "rate_kg_s": 5.0, "stop_h": 6,
             "profile": [[0, 0.2], [3, 1.0]]},
            {"type": "cities", "names": ["Lyon", "Milan"], "rate_kg_s_per_capita": 1e-6, "radius_km": 8},
        ],
        "output": {"grid": {"lon_min": -10, "lon_max": 30, "lat_min": 30, "lat_max": 60, "resolution_deg": 0.5}},
        "receptors": {"points": [{"name": "Geneva", "lat": 46.2, "lon": 6.15, "population": 200000}]},
    }
    data.update(over)
    return scenario_from_dict(data)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_mass_balance_closes(backend):
    sc = base(backend=backend)
    r = run(sc)
    b = r.budget
    assert b.released > 0 and b.decayed > 0
    assert abs(b.released - (b.airborne + b.decayed + b.exited)) <= 1e-9 * b.released
    # emitted mass: point 5 kg/s over 6 h with the ramp, plus the two cities over 12 h
    assert r.stats["emitted_kg"] == pytest.approx(b.released, rel=1e-9)


def test_regional_domain_exit_is_counted():
    lat = np.arange(40.0, 50.01, 0.5)
    lon = np.arange(0.0, 10.01, 0.5)
    u = np.full((1, lat.size, lon.size), 20.0, np.float32)
    wind = build_wind_dataset(u, np.zeros_like(u), np.array(["2026-01-15"], dtype="datetime64[ns]"), lat, lon,
                              source="regional test", level="10 m", steady=True)
    sc = base(releases=[{"type": "point", "lat": 45.0, "lon": 5.0, "rate_kg_s": 1.0}], receptors={})
    r = run(sc, wind=wind)
    b = r.budget
    assert b.exited > 0.3 * b.released
    assert abs(b.residual) <= 1e-9 * b.released
    assert np.all(r.particles.lon[r.particles.status == 2] <= 10.0)
    # the oracle makes the same exit decisions, particle by particle
    r_np = run(sc.replace(backend="numpy"), wind=wind)
    np.testing.assert_array_equal(r_np.particles.status, r.particles.status)
    assert abs(r_np.budget.exited - b.exited) <= 1e-9 * b.released


def test_same_seed_same_result_and_scenario_unchanged():
    sc = base()
    before = sc.model_dump()
    a = run(sc)
    b = run(sc)
    assert sc.model_dump() == before
    np.testing.assert_array_equal(a.concentration.values, b.concentration.values)
    np.testing.assert_array_equal(a.particles.lon, b.particles.lon)
    c = run(base(seed=5))
    assert not np.array_equal(a.concentration.values, c.concentration.values)


def test_backends_agree_on_a_forecast():
    a = run(base(backend="numpy"))
    b = run(base(backend="numba"))
    np.testing.assert_allclose(a.concentration.values, b.concentration.values, rtol=1e-5, atol=1e-12)
    # the particles themselves: same random streams, same staggered births, vertical
    # mixing and decay, so the states agree to rounding
    pa, pb = a.particles, b.particles
    np.testing.assert_array_equal(pa.status, pb.status)
    assert np.abs(((pa.lon - pb.lon + 180.0) % 360.0) - 180.0).max() < 1e-9
    assert np.abs(pa.lat - pb.lat).max() < 1e-9
    np.testing.assert_allclose(pa.z, pb.z, rtol=0, atol=1e-3)
    np.testing.assert_allclose(pa.mass, pb.mass, rtol=1e-12)


def test_concentration_units_and_mass_in_layer():
    sc = base(turbulence={"kh_m2_s": 1e3, "kz_m2_s": 0.0, "mixing_height_m": 1000.0},
              releases=[{"type": "point", "lat": 45.0, "lon": 5.0, "height_m": 10, "rate_kg_s": 1.0}],
              agent="chlorine", receptors={})
    r = run(sc)
    c = r.concentration
    assert c.attrs["units"] == "kg m-3"
    assert c.dims == ("time", "lat", "lon")
    # no vertical mixing and release at 10 m: every particle stays in the 100 m layer,
    # so the integral of C over the layer volume equals the mean airborne mass of the
    # last interval (released mass grows linearly: mean over the hour = value at mid-hour)
    from plumecast.concentration import OutputGrid

    grid = OutputGrid.from_config(sc.output.grid)
    mass_last = float((c.isel(time=-1).values * grid.cell_area_m2() * sc.output.layer_depth_m).sum())
    expected = 1.0 * (12 * 3600 - 1800)  # kg, sampled at step ends: mean of (k+1)*600 s over the last hour
    assert mass_last == pytest.approx(expected, rel=0.02)


def test_era5_and_gfs_files_of_the_same_winds_give_the_same_forecast(tmp_path):
    lat = np.arange(-90.0, 90.01, 1.0)
    lon = np.arange(-180.0, 180.0, 1.0)
    times = np.array(["2026-01-15T00", "2026-01-15T06", "2026-01-15T12", "2026-01-15T18"], dtype="datetime64[ns]")
    phi = np.deg2rad(lat)[None, :, None]
    lam = np.deg2rad(lon)[None, None, :]
    tt = np.arange(times.size)[:, None, None]
    u = (15 * np.cos(phi) + 2 * tt * np.cos(lam) * np.cos(phi)).astype(np.float32) * np.ones((1, 1, lon.size), np.float32)
    v = (4 * np.sin(2 * lam) * np.cos(phi) + 0 * tt).astype(np.float32)
    ds = build_wind_dataset(u, v, times, lat, lon, source="synthetic", level="850 hPa", steady=False)
    era = write_era5_style(ds, tmp_path / "era5.nc", level_hpa=850)
    gfs = write_gfs_style(ds, tmp_path / "gfs.nc")
    common = {"met": {"source": "file", "path": str(era)}, "duration_h": 12}
    a = run(base(**common))
    common["met"]["path"] = str(gfs)
    b = run(base(**common))
    # ERA5 files are int16-packed: the winds differ by the packing step, not more
    np.testing.assert_allclose(a.particles.lon, b.particles.lon, atol=2e-3)
    np.testing.assert_allclose(a.particles.lat, b.particles.lat, atol=2e-3)
    np.testing.assert_allclose(a.concentration.sum().item(), b.concentration.sum().item(), rtol=2e-3)


def test_outputs_are_cf_netcdf_and_csv(tmp_path):
    r = run(base())
    written = write_outputs(r, tmp_path)
    names = sorted(p.name for p in written)
    assert names == ["concentration.nc", "receptors.csv"]
    with xr.open_dataset(tmp_path / "concentration.nc") as ds:
        assert ds.attrs["Conventions"].startswith("CF-")
        assert ds["concentration"].attrs["units"] == "kg m-3"
        assert ds["lat"].attrs["standard_name"] == "latitude"
        assert ds["time"].attrs["bounds"] == "time_bnds"
        np.testing.assert_array_equal(ds["time_bnds"].values[:, 1], ds["time"].values)
        assert (ds["time_bnds"].values[:, 1] - ds["time_bnds"].values[:, 0] == np.timedelta64(3600, "s")).all()
        np.testing.assert_allclose(ds["lat_bnds"].values[:, 1] - ds["lat_bnds"].values[:, 0], 0.5)
        np.testing.assert_allclose(ds["concentration"].values, r.concentration.values, rtol=1e-6)
    text = (tmp_path / "receptors.csv").read_text().splitlines()
    assert text[0].startswith("# concentration [kg m-3]")  # the unit (the file had none; first-hour audit, session 40)
    assert text[1].startswith("time_utc,Geneva")
    assert len(text) == 2 + r.scenario.n_steps  # one row per transport step
    assert not list(tmp_path.glob("*.part"))


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    r = run(base())

    def boom(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(OutputPathError, match=r"concentration\.nc: could not be written \(disk full\)"):
        write_outputs(r, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_single_forecast_demo_runs_end_to_end(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "plumecast", "demo", "--single", "--particles", "50000", "-o", str(out),
                           "-q"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for name in ("concentration.nc", "receptors.csv", "concentration_map.png", "consequences.csv"):
        assert (out / name).stat().st_size > 0
    assert (out / "concentration_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (out / "receptors.csv").read_text().splitlines()[1].split(",")
    assert len(header) == 22 and "Shanghai" in header and "Tokyo" in header  # 20 largest cities and Tokyo
    assert "Total expected fatalities" in proc.stdout
    # the README's command can simply be run again: the demo replaces its own earlier results
    again = subprocess.run([sys.executable, "-m", "plumecast", "demo", "--single", "--particles", "2000", "-o",
                            str(out), "-q"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "replacing the earlier demo results" in again.stdout
    # but not the results of another command
    other = tmp_path / "other"
    write_outputs(run(base()), other)
    from plumecast.fileio import OutputSet

    with OutputSet(other, command="run", force=True) as o:
        (o.path / "x.txt").write_text("x")
    refused = subprocess.run([sys.executable, "-m", "plumecast", "demo", "--single", "--particles", "2000", "-o",
                              str(other), "-q"], capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and "already holds plumecast results" in refused.stderr


def test_numba_result_does_not_depend_on_the_thread_count():
    # particles are dealt to a fixed number of blocks in round-robin chunks; their random
    # streams and steps depend only on (seed, index, step): everything is bit-identical
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 numba threads")
    sc = base(backend="numba")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = run(sc)
        numba.set_num_threads(2)
        b = run(sc)
    finally:
        numba.set_num_threads(before)
    for name in ("lon", "lat", "z", "mass", "status"):
        np.testing.assert_array_equal(getattr(a.particles, name), getattr(b.particles, name))
    # a fixed number of accumulation blocks: every sum is taken in the same order
    np.testing.assert_array_equal(a.concentration.values, b.concentration.values)
    np.testing.assert_array_equal(a.receptor_series.values, b.receptor_series.values)
    assert a.budget.decayed == b.budget.decayed


def test_demo_compares_the_four_plans_of_the_story(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "plumecast", "demo", "--members", "2", "--workers", "0",
                           "--particles", "3000", "-o", str(out), "-q"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    table = (out / "decision_table.md").read_text()
    for plan in ("do nothing", "stay inside", "destroy the controller", "converter"):
        assert plan in table
    assert "Tokyo" in (out / "cities.csv").read_text()


def test_people_counted_line_describes_the_scenarios_own_receptors(tmp_path, capsys, monkeypatch):
    """Without a population raster the run says where people are counted: the scenario's
    receptors (the 20 largest cities, cities of >= 150,000 in a box, ...), never a fixed
    'cities of >= 15,000 inhabitants'."""
    from types import SimpleNamespace

    from plumecast.cli.common import console
    from plumecast.cli.global_run import _people_above_levels
    from plumecast.runner import select_receptors

    monkeypatch.setattr(console, "_width", 400)
    cases = [
        ({"cities": {"largest": 20}, "points": [{"name": "Tokyo", "lat": 35.69, "lon": 139.69}]},
         "the 21 receptors (the 20 largest cities and 1 point given (Tokyo))"),
        ({"cities": {"min_population": 150000, "bbox": [5, 50, 10, 53]},
          "points": [{"name": n, "lat": 51.5, "lon": 6.8} for n in ("NearKnown", "NearUnknown", "OffDomain", "Far")]},
         "receptors (cities of >= 150,000 inhabitants within 5°E–10°E, 50°N–53°N and 4 points given "
         "(NearKnown, NearUnknown, OffDomain and 1 more))"),
    ]
    for receptors, expected in cases:
        sc = base(receptors=receptors)
        rec = select_receptors(sc)
        assert _people_above_levels(SimpleNamespace(receptors=rec), sc, tmp_path, None) == []
        out = " ".join(capsys.readouterr().out.split())
        assert expected in out, out
        assert "15,000" not in out  # before: "(cities of >= 15,000 inhabitants and the points given)"
    from plumecast.cli.global_run import describe_receptors

    (tmp_path / "list.csv").write_text("name,lat,lon\nA,45,5\n")
    assert describe_receptors(base(receptors={"csv": str(tmp_path / "list.csv")}).receptors) == \
        "the places listed in list.csv"
    sc = base(receptors={})
    _people_above_levels(SimpleNamespace(receptors=None), sc, tmp_path, None)
    assert "No people are counted: the scenario has no receptors" in capsys.readouterr().out


def _decay_run(release: dict, k: float = 1e-4, dt: float = 300.0, backend: str = "numpy"):
    return run(scenario_from_dict({
        "name": "decay", "start": "2026-03-01T00:00:00Z", "duration_h": 6, "time_step_s": dt, "particles": 4000,
        "seed": 3, "backend": backend, "agent": {"name": "x", "molecular_weight_g_mol": 50.0, "decay_rate_s": k},
        "met": {"source": "uniform", "u_m_s": 5.0, "v_m_s": 0.0}, "deposition": "off",
        "releases": [{"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 1, **release}],
        "output": {"grid": {"lon_min": -2, "lon_max": 6, "lat_min": 43, "lat_max": 47, "resolution_deg": 0.5}},
    }))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_decay_of_a_continuous_release_is_that_of_its_emission_times(backend):
    """1 kg/s for 2 h, k = 1e-4 s-1: the airborne mass after 6 h is ∫ exp(-k (T - t)) dt over the
    emission. Particles born at the start of their step and decayed over all of it came out 1.5 %
    low (300-s steps; 26 % at k = 1e-3 and 600 s; output audit)."""
    k, t_end = 1e-4, 6 * 3600.0
    res = _decay_run({"rate_kg_s": 1.0, "stop_h": 2}, k, backend=backend)
    exact = (np.exp(-k * (t_end - 7200.0)) - np.exp(-k * t_end)) / k
    b = res.budget
    assert b.airborne == pytest.approx(exact, rel=2e-4)  # the sampling's one particle per step
    assert b.released == pytest.approx(7200.0, rel=1e-12)
    assert abs(b.residual) <= 1e-9 * b.released
    # a coarse step keeps it too: k dt = 0.36
    res = _decay_run({"rate_kg_s": 1.0, "stop_h": 2}, k, dt=3600.0, backend=backend)
    assert res.budget.airborne == pytest.approx(exact, rel=2e-4)


def test_an_instantaneous_release_inside_a_step_decays_from_its_moment():
    """amount_kg at once at 0.1 h (inside the first 600-s step): exp(-k (T - 0.1 h)), not from
    the step's start nor from its middle."""
    k, t_end = 1e-4, 6 * 3600.0
    res = _decay_run({"amount_kg": 100.0, "duration_s": 0, "start_h": 0.1}, k, dt=600.0)
    assert res.budget.airborne == pytest.approx(100.0 * np.exp(-k * (t_end - 360.0)), rel=1e-9)
    assert abs(res.budget.residual) <= 1e-9 * 100.0


def test_first_step_decay_factor_of_a_constant_rate():
    from plumecast.release import schedule
    from plumecast.scenario import scenario_from_dict as sfd

    sc = sfd({"name": "f", "start": "2026-03-01T00:00:00Z", "duration_h": 2, "time_step_s": 600, "particles": 10,
              "met": {"source": "uniform", "u_m_s": 5.0},
              "releases": [{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1.0, "start_h": 0.25,
                            "profile": [[0, 1.0], [2, 3.0]]}]})
    g = schedule(sc).groups[0]
    k, dt = 1e-3, 600.0
    f = g.first_step_decay(dt, sc.n_steps, k)
    assert f[0] == 1.0  # nothing emitted in the first step
    # the step holding the start (at 900 s, half of step 1): emission over [900, 1200) s, rising
    t = np.linspace(900.0, 1200.0, 200001)
    q = np.interp(t / 3600.0, [0, 2], [1.0, 3.0])
    assert f[1] == pytest.approx(np.trapezoid(q * np.exp(k * (t - 600.0)), t) / np.trapezoid(q, t), rel=1e-9)
    assert f[5] == pytest.approx(np.trapezoid(np.interp(np.linspace(3000, 3600, 200001) / 3600.0, [0, 2], [1, 3])
                                              * np.exp(k * (np.linspace(3000, 3600, 200001) - 3000.0)),
                                              np.linspace(3000, 3600, 200001))
                                 / np.trapezoid(np.interp(np.linspace(3000, 3600, 200001) / 3600.0, [0, 2], [1, 3]),
                                                np.linspace(3000, 3600, 200001)), rel=1e-9)
    assert np.all(g.first_step_decay(dt, sc.n_steps, 0.0) == 1.0)
