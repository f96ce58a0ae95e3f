"""Ensembles: member seeds, perturbations that move the plume, identical results on
1 and 2 Dask workers and serially."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.ensemble.compare import make_setup, member_task, run_members
from plumecast.ensemble.config import EnsembleConfig
from plumecast.ensemble.members import MemberSpec, member_specs, member_wind, offset_grid
from plumecast.ensemble.summary import quantiles, summarise
from plumecast.met import uniform_wind
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict


def _scenario(**extra):
    d = dict(name="t", start="2026-01-01T00:00:00", duration_h=4, time_step_s=1200, particles=800, seed=3,
             agent="chlorine", met={"source": "uniform", "u_m_s": 10.0},
             turbulence={"kh_m2_s": 100.0},
             releases=[{"type": "point", "lat": 0.0, "lon": 0.0, "rate_kg_s": 50000.0, "height_m": 10}],
             output={"grid": {"lon_min": -3, "lon_max": 3, "lat_min": -3, "lat_max": 3, "resolution_deg": 0.25}},
             receptors={"points": [{"name": "A", "lat": 0.0, "lon": 0.4, "population": 1e5},
                                   {"name": "B", "lat": 0.0, "lon": 1.0, "population": 2e5}]},
             plans=[{"name": "stop at 1 h", "measures": [{"type": "termination", "at_h": 1.0}]},
                    {"name": "shelter", "measures": [{"type": "shelter", "start_h": 0.5, "compliance": 0.8}]}])
    d.update(extra)
    return scenario_from_dict(d)


def test_member_seeds_depend_on_seed_and_index_only() -> None:
    sc = _scenario(ensemble={"members": 10, "wind_speed_factor": {"dist": "lognormal", "median": 1, "sigma": 0.2}})
    ten = member_specs(sc, sc.ensemble)
    three = member_specs(sc, sc.ensemble, members=3)
    assert ten[:3] == three
    assert len({m.seed for m in ten}) == 10
    assert ten[0].wind_speed_factor == 1.0  # the control
    other = member_specs(sc.replace(seed=4), sc.ensemble, members=3)
    assert other[1].seed != three[1].seed


def _centroid(conc) -> tuple[float, float]:
    c = conc.sum("time")
    w = float(c.sum())
    return float((c * c["lat"]).sum()) / w, float((c * c["lon"]).sum()) / w


def test_direction_rotation_and_speed_factor_move_the_plume_by_the_expected_distance() -> None:
    sc = _scenario(ensemble={"members": 2})
    base = run(sc, wind=member_wind(sc, MemberSpec(0, sc.seed)))
    lat0, lon0 = _centroid(base.concentration)
    assert abs(lat0) < 0.02 and lon0 > 0.3
    turned = run(sc, wind=member_wind(sc, MemberSpec(0, sc.seed, wind_direction_deg=90.0)))
    lat1, lon1 = _centroid(turned.concentration)  # a westerly veered by 90 deg blows to the south
    assert lat1 == pytest.approx(-lon0, abs=0.02) and abs(lon1) < 0.02
    faster = run(sc, wind=member_wind(sc, MemberSpec(0, sc.seed, wind_speed_factor=1.5)))
    _, lon2 = _centroid(faster.concentration)
    assert lon2 == pytest.approx(1.5 * lon0, rel=0.05)


def test_grid_offset_shifts_a_sheared_wind_field() -> None:
    ds = uniform_wind(0.0, 0.0)
    lat = ds["lat"].values
    u = np.broadcast_to((lat * 1.0)[None, :, None], ds["u"].shape).astype(np.float32)  # u = 1 m/s per deg of lat
    ds = ds.assign(u=(ds["u"].dims, u, ds["u"].attrs))
    moved = offset_grid(ds, 0.0, 0.5)  # half a 1-deg cell north: the wind at lat is the old wind at lat - 0.5
    i = int(np.flatnonzero(lat == 10.0)[0])
    assert float(moved["u"].values[0, i, 0]) == pytest.approx(9.5)
    east = offset_grid(ds, 0.5, 0.0)
    assert float(east["lon"].values[0]) == pytest.approx(-179.5)
    np.testing.assert_array_equal(east["u"].values, ds["u"].values)  # a zonally uniform field is unchanged


def test_grid_offset_and_rotation_move_every_level_of_a_3d_met_dataset() -> None:
    """Met on levels (time, level, lat, lon) plus 10-m winds and a scalar field: each
    level moves as a single-level field would, and both wind pairs are turned."""
    import xarray as xr

    from plumecast.ensemble.members import turn_winds

    base = uniform_wind(0.0, 0.0)
    lat, lon = base["lat"].values, base["lon"].values
    nt, nz = 1, 3
    u3 = (lat[None, None, :, None] * (1.0 + np.arange(nz))[None, :, None, None]
          + 0.0 * lon[None, None, None, :]).astype(np.float32)
    u3 = np.broadcast_to(u3, (nt, nz, lat.size, lon.size)).copy()
    gh = np.broadcast_to(np.arange(nz, dtype=np.float32)[None, :, None, None] * 1000.0 + u3, u3.shape).copy()
    ds = xr.Dataset({"u": (("time", "level", "lat", "lon"), u3), "v": (("time", "level", "lat", "lon"), 0 * u3),
                     "gh": (("time", "level", "lat", "lon"), gh),
                     "u10": (("time", "lat", "lon"), u3[:, 0]), "v10": (("time", "lat", "lon"), 0 * u3[:, 0])},
                    coords={"time": base["time"].values, "level": [850.0, 700.0, 500.0], "lat": lat, "lon": lon},
                    attrs=dict(base.attrs))
    moved = offset_grid(ds, 0.0, 0.5)
    i = int(np.flatnonzero(lat == 10.0)[0])
    for k in range(nz):  # each level: the wind at lat is the old wind at lat - 0.5
        assert float(moved["u"].values[0, k, i, 0]) == pytest.approx(9.5 * (1 + k))
        assert float(moved["gh"].values[0, k, i, 0]) == pytest.approx(1000.0 * k + 9.5 * (1 + k))
    assert float(moved["u10"].values[0, i, 0]) == pytest.approx(9.5)
    assert moved["u"].dims == ds["u"].dims and moved["u"].dtype == np.float32
    east = offset_grid(ds, 0.5, 0.0)
    assert float(east["lon"].values[0]) == pytest.approx(-179.5)
    np.testing.assert_array_equal(east["gh"].values, ds["gh"].values)  # zonally uniform: unchanged
    turned = turn_winds(ds, 90.0, 2.0)
    # a westerly veered by 90 deg blows to the south, on every level and at 10 m
    np.testing.assert_allclose(turned["v"].values, -2.0 * ds["u"].values, atol=1e-5)
    np.testing.assert_allclose(turned["v10"].values, -2.0 * ds["u10"].values, atol=1e-5)
    np.testing.assert_array_equal(turned["gh"].values, ds["gh"].values)


def test_identical_members_have_zero_spread() -> None:
    sc = _scenario()
    setup = make_setup(sc, maps=False)
    specs = [MemberSpec(i, sc.seed) for i in range(3)]  # same seed, no perturbation
    raw = run_members(setup, specs, serial=True)
    s = summarise(raw, ["A", "B"])
    for p in s.plans:
        lo, _, hi = quantiles(s.totals[p])
        assert lo == hi
    assert s.totals[s.plans[0]][0] > 0


def test_comparison_identical_serial_and_on_one_and_two_dask_workers() -> None:
    sc = _scenario(ensemble={"members": 2, "wind_direction_deg": {"dist": "normal", "mean": 0, "sd": 10}})
    setup = make_setup(sc)
    specs = member_specs(setup.scenario, sc.ensemble)
    serial = run_members(setup, specs, serial=True)
    for workers in (1, 2):
        seen: list[int] = []
        par = run_members(setup, specs, workers=workers, progress=lambda k, n, seen=seen: seen.append(k))
        assert seen[-1] == len(specs)
        for a, b in zip(serial.members, par.members, strict=True):
            assert a.index == b.index
            for name, oa in a.outcomes.items():
                ob = b.outcomes[name]
                for field in ("fatalities", "exceed2", "exceed3", "arrival2_s", "arrival3_s"):
                    np.testing.assert_array_equal(getattr(oa, field), getattr(ob, field))
            for name in a.delay_termination:
                np.testing.assert_array_equal(a.delay_termination[name], b.delay_termination[name])
        assert serial.counts is not None and par.counts is not None
        for name in serial.counts:
            np.testing.assert_array_equal(serial.counts[name], par.counts[name])
    assert serial.members[0].outcomes["stop at 1 h"].total_fatalities < serial.members[0].outcomes["do nothing"].total_fatalities


def _worker_settings() -> tuple[str | None, int]:
    import os

    import numba

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), numba.get_num_threads()


def test_local_workers_keep_glibc_malloc_dynamic_and_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask's default MALLOC_TRIM_THRESHOLD_ (64 KiB) turns off glibc's dynamic mmap
    threshold and made a member 2.3x slower in a worker: it must not reach the workers.
    Numba gets cores // workers threads, and the parent's environment is left as it was."""
    import os

    from distributed import Client

    from plumecast.ensemble.dask_run import _restore_environ, local_cluster, worker_environ

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    before = dict(os.environ)
    cluster = local_cluster(2)
    try:
        with Client(cluster) as client:
            settings = list(client.run(_worker_settings).values())
    finally:
        cluster.close()
        _restore_environ(before)
    assert settings == [(None, max(1, (os.cpu_count() or 1) // 2))] * 2
    keys = [*worker_environ(2), "PYTHONHASHSEED"]  # what the nannies write into the parent before spawning
    assert {k: os.environ.get(k) for k in keys} == {k: before.get(k) for k in keys}


def test_member_task_reports_cost_of_delay_on_tag_edges() -> None:
    sc = _scenario()
    setup = make_setup(sc, maps=False, tag_step_h=1.0)
    r = member_task(setup, MemberSpec(0, sc.seed))
    curve = r.delay_termination["stop at 1 h"]
    assert setup.delay_h == (0.0, 1.0, 2.0, 3.0)
    assert curve[0] == 0.0 or curve[0] < curve[-1]
    assert np.all(np.diff(curve) >= -1e-9 * max(curve.max(), 1.0))  # stopping later never saves more
    assert curve[1] == pytest.approx(r.outcomes["stop at 1 h"].total_fatalities)


def test_bad_ensemble_keys_fail_with_the_key() -> None:
    from plumecast.errors import ScenarioError

    with pytest.raises(ScenarioError, match="ensemble.wind_speed_factor"):
        _scenario(ensemble={"wind_speed_factor": {"dist": "normal", "mean": 1}})
    with pytest.raises(ScenarioError, match="met.source: file"):
        sc = _scenario(ensemble={"met_members": "file"})
        member_specs(sc, sc.ensemble)
    assert EnsembleConfig().members == 10


# --------------------------------------------------------------------------- met-file members


def _ensemble_met_file(path, winds) -> None:
    """A tiny global ensemble met file: member k has the uniform wind ``winds[k]`` (u, v)."""
    import xarray as xr

    lat = np.arange(-90.0, 90.1, 2.0)
    lon = np.arange(-180.0, 180.0, 2.0)
    t = np.array(["2026-01-01T00:00", "2026-01-01T12:00"], dtype="datetime64[ns]")
    shape = (t.size, lat.size, lon.size)
    u = np.stack([np.full(shape, a, np.float32) for a, _ in winds])
    v = np.stack([np.full(shape, b, np.float32) for _, b in winds])
    xr.Dataset({"u": (("number", "time", "lat", "lon"), u, {"units": "m s-1"}),
                "v": (("number", "time", "lat", "lon"), v, {"units": "m s-1"})},
               coords={"number": np.arange(len(winds)), "time": t, "lat": lat, "lon": lon}).to_netcdf(path)


def test_members_from_a_met_file_number_dimension_each_use_their_own_winds(tmp_path) -> None:
    from plumecast.errors import MetDataError

    winds = [(10.0, 0.0), (0.0, 10.0), (-10.0, 0.0)]  # east, north, west
    path = tmp_path / "ens.nc"
    _ensemble_met_file(path, winds)
    sc = _scenario(duration_h=3, time_step_s=600, met={"source": "file", "path": str(path)},
                   receptors={"points": [{"name": "E", "lat": 0.0, "lon": 0.4, "population": 1e5},
                                         {"name": "N", "lat": 0.4, "lon": 0.0, "population": 1e5},
                                         {"name": "W", "lat": 0.0, "lon": -0.4, "population": 1e5}]},
                   plans=[], ensemble={"members": 3, "met_members": "file"})
    setup = make_setup(sc, maps=False)
    specs = member_specs(setup.scenario, sc.ensemble)
    assert [s.met_number for s in specs] == [0, 1, 2]
    for spec, (u, v) in zip(specs, winds, strict=True):
        w = member_wind(setup.scenario, spec)
        np.testing.assert_array_equal(w["u"].values, u)
        np.testing.assert_array_equal(w["v"].values, v)
    raw = run_members(setup, specs, serial=True)
    fat = np.stack([m.outcomes["do nothing"].fatalities for m in raw.members])  # (member, receptor E/N/W)
    # member k's plume goes where its own wind blows: its downwind receptor (k) takes nearly all the deaths
    assert np.argmax(fat, axis=1).tolist() == [0, 1, 2]
    for k in range(3):
        others = np.delete(fat[k], k)
        assert fat[k, k] > 1000.0 and np.all(others < 1e-3 * fat[k, k])
    with pytest.raises(MetDataError, match="3 members"):
        member_wind(setup.scenario, MemberSpec(3, 1, met_number=3))


# --------------------------------------------------------------------------- a plan with a front


def test_front_plan_end_to_end_on_a_uniform_wind() -> None:
    """Gas leaves a point source at u = 10 m/s eastward from t = 0; the front is lit at the
    source at T = 1 h and spreads at v = 20 m/s. It reaches a receptor at d = 0.4 deg
    (44.5 km, inside the gas) at T + d/v, and catches the gas's leading edge at 2 h,
    72 km out (10 t = 20 (t - T)), so it never reaches the receptor at 0.8 deg (89 km)."""
    import math

    from plumecast.concentration import OutputGrid
    from plumecast.countermeasures.config import build_measure
    from plumecast.units import EARTH_RADIUS_M

    front = {"type": "front", "ignition_h": 1.0, "points": [[0.0, 0.0]], "speed_m_s": 20.0,
             "threshold_kg_m3": 1e-9}
    sc = _scenario(duration_h=3, time_step_s=300, particles=2000, seed=5,
                   output={"grid": {"lon_min": -1.05, "lon_max": 2.05, "lat_min": -1.05, "lat_max": 1.05,
                                    "resolution_deg": 0.1}, "interval_min": 10},
                   receptors={"points": [{"name": "A", "lat": 0.0, "lon": 0.4, "population": 1e5},
                                         {"name": "B", "lat": 0.0, "lon": 0.8, "population": 2e5}]},
                   plans=[{"name": "burn", "measures": [front]}])
    setup = make_setup(sc, maps=False)
    r = member_task(setup, MemberSpec(0, sc.seed))
    base, burn = r.outcomes["do nothing"], r.outcomes["burn"]
    expected = 3600.0 + math.radians(0.4) * EARTH_RADIUS_M / 20.0
    assert burn.front_arrival_s[0] == pytest.approx(expected, abs=60.0)
    assert np.isnan(burn.front_arrival_s[1])  # beyond the gas the front has burnt out
    assert np.all(np.isnan(base.front_arrival_s))
    assert burn.total_fatalities <= base.total_fatalities
    assert burn.fatalities[1] < 1e-3 * base.fatalities[1]  # the gas bound for B was burnt on the way
    # the same front in a direct run: the mass budget gains a neutralised term and still closes
    agent = sc.resolved_agent()
    spec = build_measure(sc.plans[0].measures[0], agent)
    res = run(sc, wind=member_wind(sc, MemberSpec(0, sc.seed)),
              front=spec.on_output_grid(OutputGrid.from_config(sc.output.grid)))
    b = res.budget
    assert b.neutralised > 0.1 * b.released
    assert abs(b.residual) <= 1e-6 * b.released


@pytest.mark.parametrize("agent", ["chlorine", "ammonia"])  # a dense near field (the cut rerun, held), a passive one
def test_a_front_that_burns_nothing_leaves_its_plan_the_other_measures_figures(agent: str) -> None:
    """A front lit upwind in clean air never burns: the plan is its termination alone, to the last digit
    (its own transport of the cut release, other particles and discs, had moved the termination's figures
    by 13 (7-160) deaths; planner audit, session 39). A front that burns still gets its own transport."""
    stop = {"type": "termination", "at_h": 1.0}
    dud = {"type": "front", "ignition_h": 1.0, "points": [[0.0, -2.5]], "speed_m_s": 20.0, "threshold_kg_m3": 1e-9}
    lit = {**dud, "points": [[0.0, 0.0]]}
    sc = _scenario(duration_h=3, time_step_s=600, particles=2000, seed=5, agent=agent,
                   plans=[{"name": "stop", "measures": [stop]},
                          {"name": "stop + dud", "measures": [stop, dud], "ignition_delays_h": [1.5]},
                          {"name": "stop + burn", "measures": [stop, lit]}])
    r = member_task(make_setup(sc, maps=True), MemberSpec(0, sc.seed))
    only, dudded, burnt = r.outcomes["stop"], r.outcomes["stop + dud"], r.outcomes["stop + burn"]
    if agent == "ammonia":  # its map too (a dense cut is its own rerun, front or not)
        assert r.grids is not None
        np.testing.assert_array_equal(r.grids["stop + dud"], r.grids["stop"])
    assert np.all(np.isnan(dudded.front_arrival_s))
    np.testing.assert_array_equal(dudded.fatalities, only.fatalities)
    np.testing.assert_array_equal(dudded.arrival2_s, only.arrival2_s)
    assert r.delay_ignition["stop + dud"] == {1.0: only.total_fatalities, 1.5: only.total_fatalities}
    assert np.isfinite(burnt.front_arrival_s[0]) and burnt.total_fatalities < only.total_fatalities


# --------------------------------------------------------------------------- non-finite values


_DISTS = {"normal": {"mean": 0.0, "sd": 10.0}, "lognormal": {"median": 1.0, "sigma": 0.2},
          "uniform": {"low": 1.0, "high": 2.0}, "fixed": {"value": 1.0}}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("dist, param", [(d, p) for d, ps in _DISTS.items() for p in ps])
def test_nan_or_inf_in_a_distribution_is_refused_with_the_key(dist: str, param: str, bad: float) -> None:
    """A NaN rotation ran a member on NaN winds to 0 fatalities in every plan; an infinite sd
    ended in 'math domain error'. Each bad value is now one message naming its key."""
    from plumecast.errors import ScenarioError

    key = f"ensemble.wind_direction_deg.{param}"
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")) as info:
        _scenario(ensemble={"members": 2, "wind_direction_deg": {"dist": dist, **_DISTS[dist], param: bad}})
    assert str(info.value).count("finite number") == 1


@pytest.mark.parametrize("key, bad", [("grid_offset_fraction", float("nan")), ("members", float("inf")),
                                      ("particles", float("nan"))])
def test_nan_or_inf_in_the_other_ensemble_keys_is_refused(key: str, bad: float) -> None:
    from plumecast.errors import ScenarioError

    with pytest.raises(ScenarioError, match=f"ensemble\\.{key}: \\.(nan|inf) is not a finite number; expected "
                                            "an ordinary number"):
        _scenario(ensemble={"members": 2, key: bad})


def test_nan_in_an_ensemble_file_names_the_file_line_and_key(tmp_path) -> None:
    from plumecast.errors import ScenarioError
    from plumecast.scenario import load_scenario

    f = tmp_path / "nan.yaml"
    f.write_text("start: 2026-01-10T00:00:00Z\nduration_h: 2\n"
                 "releases:\n  - {type: point, lat: 50, lon: 8, rate_kg_s: 50}\n"
                 "ensemble:\n  members: 2\n  wind_direction_deg: {dist: normal, mean: .nan, sd: 10.0}\n",
                 encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    msg = str(info.value)
    assert str(f) in msg and "line 7" in msg and "ensemble.wind_direction_deg.mean" in msg
    assert msg.count("finite number") == 1


def test_a_draw_that_overflows_is_refused_not_run() -> None:
    from plumecast.errors import ScenarioError

    # (a wind_speed_factor median of 1e300 is now refused when the scenario is read: its
    # allowed range is 0 to 10; kh_m2_s has no upper bound, so its draw can still overflow)
    sc = _scenario(ensemble={"members": 3, "kh_m2_s": {"dist": "lognormal", "median": 1e300, "sigma": 50.0}})
    with pytest.raises(ScenarioError, match=r"ensemble\.kh_m2_s: member \d drew inf"):
        member_specs(sc, sc.ensemble)


def test_a_non_finite_member_never_becomes_a_silent_zero() -> None:
    from plumecast.ensemble.members import member_scenario, rotate_and_scale, turn_winds
    from plumecast.errors import ScenarioError

    for field in ("wind_direction_deg", "wind_speed_factor", "kh_m2_s", "source_rate_factor"):
        with pytest.raises(ScenarioError, match=f"member 1: {field} is nan; expected a finite number"):
            MemberSpec(1, 5, **{field: float("nan")})
    with pytest.raises(ScenarioError, match="grid_offset_cells"):
        MemberSpec(1, 5, grid_offset_cells=(float("inf"), 0.0))
    with pytest.raises(ScenarioError, match="expected finite numbers"):
        rotate_and_scale(np.ones(2), np.ones(2), float("nan"), 1.0)
    sc = _scenario()
    with pytest.raises(ScenarioError, match="makes the winds"):
        turn_winds(uniform_wind(10.0, 0.0), 0.0, 1e308)
    with pytest.raises(ScenarioError, match=r"releases\.0\.rate_kg_s"):
        member_scenario(sc, MemberSpec(1, 5, source_rate_factor=1e305))


def test_a_comparison_without_plans_or_ensemble_is_refused_with_what_to_add() -> None:
    from plumecast.ensemble.compare import check_comparison
    from plumecast.errors import ScenarioError

    for plans in ([], [{"name": "nothing", "measures": []}]):
        sc = _scenario(plans=plans)
        setup = make_setup(sc, maps=False)
        with pytest.raises(ScenarioError, match="nothing to compare") as info:
            check_comparison(setup, len(member_specs(setup.scenario, sc.ensemble)), "s.yaml")
        msg = str(info.value)
        assert msg.startswith("s.yaml: plans:") and "measures:" in msg and "ensemble:" in msg
        assert "docs/plans.md" in msg
    # an ensemble without plans: the baseline's spread is still worth having, and said so
    sc = _scenario(plans=[], ensemble={"members": 3})
    setup = make_setup(sc, maps=False)
    notice = check_comparison(setup, 3)
    assert notice is not None and "only the do-nothing baseline over 3 members" in notice and "plans:" in notice
    with pytest.raises(ScenarioError, match="nothing to compare"):
        check_comparison(setup, 1)  # --members 1
    assert check_comparison(make_setup(_scenario(), maps=False), 1) is None  # plans, one member: allowed


def test_compare_command_refuses_no_plans_without_a_traceback_or_output(tmp_path) -> None:
    import os
    import subprocess
    import sys

    f = tmp_path / "base.yaml"
    f.write_text("start: 2026-01-10T00:00:00Z\nduration_h: 2\n"
                 "releases:\n  - {type: point, lat: 50, lon: 8, rate_kg_s: 50}\n"
                 "receptors:\n  points:\n    - {name: Near, lat: 50.0, lon: 8.1, population: 100}\n",
                 encoding="utf-8")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "plumecast", "compare", str(f), "-o", str(out), "--workers", "0",
                        "--no-maps", "-q"], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "COLUMNS": "300"})
    text = r.stdout + r.stderr
    assert r.returncode == 2, text
    assert "nothing to compare" in text and f.name in text and "Traceback" not in text
    assert not out.exists()


def test_timing_shifts_before_the_start_are_said() -> None:
    """A negative source_timing_shift_h cuts the part of a release moved before the run's
    start (docs/plans.md); the comparison ran without saying so (session 23's note)."""
    from plumecast.ensemble.members import timing_shift_note

    def note(start_h: float, shifts: list[float]) -> str | None:
        sc = scenario_from_dict(dict(
            name="shift", start="2026-07-01T00:00:00", duration_h=6, particles=100,
            releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1, "start_h": start_h},
                      {"type": "point", "lat": 0, "lon": 1, "rate_kg_s": 1, "start_h": 3.0}]))
        return timing_shift_note(sc, [MemberSpec(i, i, source_timing_shift_h=s) for i, s in enumerate(shifts)])

    said = note(0.5, [0.0, -0.2, -1.3, -0.7, 2.0])
    assert said is not None
    assert "in 2 of 5 members (by up to 0.8 h)" in said and "at least 1 h earlier" in said
    assert note(2.0, [0.0, -1.9, 1.0]) is None  # moved earlier, still after the start
    assert note(0.0, [0.0, 0.5]) is None


def test_the_demo_comparison_keeps_its_members_whole_emission() -> None:
    """The shipped poison-sky plans draw shifts of sd 1 h; their releases had started with the run, so the demo
    warned that 9 of its 20 members lost emission, and told the user to do what it had not (first-hour audit,
    session 40, item B4). The run now starts 3 h before the emitters switch on; the same draws on a release
    at the run's start still lose emission, as the note says."""
    from plumecast.ensemble.members import timing_shift_note
    from plumecast.scenario import demo_plans_scenario_path, load_scenario

    sc = load_scenario(demo_plans_scenario_path())
    specs = member_specs(sc, sc.ensemble)
    assert min(s.source_timing_shift_h for s in specs) < -2.0  # the draws do reach back
    assert timing_shift_note(sc, specs) is None
    assert sc.issued64 == sc.start64 + np.timedelta64(3, "h") == np.datetime64("2026-07-01T00:00")
    at_start = sc.replace(releases=[r.model_copy(update={"start_h": 0.0}) for r in sc.releases])
    said = timing_shift_note(at_start, specs)
    assert said is not None and "members lose that emission (their figures are lower" in said


def test_the_cost_of_delay_chart_reads_in_people_and_marks_the_plan_and_the_issue(tmp_path) -> None:
    """The chart's linear axis with a '1e8' offset drew 680,000 deaths on its zero line and
    hours 0-10 as free; nothing marked the plan's own time or the issue time, and the tables
    never explained the chart (decision audit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plumecast.ensemble.summary import _notes
    from plumecast.ensemble.summary_views import plot_delay

    sc = _scenario().replace(issued_at="2026-07-01T01:00:00")
    setup = make_setup(sc, maps=False, tag_step_h=1.0)
    raw = run_members(setup, member_specs(sc, sc.ensemble, 2), workers=0, serial=True)
    s = summarise(raw, ["A", "B"])
    assert s.delay_rows
    seen = {}
    real_savefig = plt.Figure.savefig

    def spy(fig, *a, **k):  # type: ignore[no-untyped-def]
        ax = fig.axes[0]
        seen["yscale"] = ax.get_yscale()
        seen["labels"] = [t.get_text() for t in ax.get_legend().get_texts()]
        return real_savefig(fig, *a, **k)

    plt.Figure.savefig = spy  # type: ignore[method-assign]
    try:
        plot_delay(s, tmp_path / "cost_of_delay.png")
    finally:
        plt.Figure.savefig = real_savefig  # type: ignore[method-assign]
    assert seen["yscale"] == "log"
    assert any("its own termination time (1 h)" in t for t in seen["labels"])
    assert any(t.startswith("forecast issued (1 Jul 01:00") for t in seen["labels"])
    assert any("already past" in t for t in seen["labels"])
    assert any(n.startswith("Cost of delay (cost_of_delay.csv and .png, for 'stop at 1 h')") for n in _notes(s))


def test_members_csv_names_the_wind_direction_by_the_scenarios_key(tmp_path) -> None:
    """members.csv wrote wind_rotation_deg= while the scenario's key is ensemble.wind_direction_deg (cell
    audit): a member's perturbation is named by the key that drew it."""
    import csv

    from plumecast.ensemble.compare import CompareSetup, MemberResult, RawComparison
    from plumecast.ensemble.summary import summarise
    from plumecast.ensemble.summary_files import write_outputs
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import PlanOutcome

    sc = _scenario(ensemble={"members": 3, "control": True,
                             "wind_direction_deg": {"dist": "normal", "mean": 0, "sd": 10}})
    specs = member_specs(sc, sc.ensemble)
    assert [s.wind_direction_deg != 0.0 for s in specs] == [False, True, True]
    assert "wind_direction_deg=" in specs[1].describe() and "rotation" not in specs[1].describe()
    one = np.ones(2)
    members = [MemberResult(k, {"do nothing": PlanOutcome("do nothing", one, one, one, one, one, np.full(2, np.nan))},
                            {}, {}, None, 0.1, 1) for k in range(3)]
    setup = CompareSetup(scenario=sc, plans=(PlanConfig(name="do nothing"),), tags_h=(), delay_h=(), maps=False)
    write_outputs(summarise(RawComparison(setup, specs, members, None, None, None, 0.3, 0), ["A", "B"]), tmp_path,
                  pngs=False)
    rows = list(csv.DictReader((tmp_path / "members.csv").open(encoding="utf-8")))
    assert "wind_direction_deg=" in rows[1]["spec"] and "wind_rotation" not in (tmp_path / "members.csv").read_text()

