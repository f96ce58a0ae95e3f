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
    turned = run(sc, wind=member_wind(sc, MemberSpec(0, sc.seed, wind_rotation_deg=90.0)))
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
