"""A plan's termination of a release whose near field is zones' dense cloud: the cloud of a shorter
release is another cloud (not linear in the emissions), so compare reruns the plan's transport with the
release cut instead of dropping emission tags. Dropping them had kept the whole release's dose per
kilogram: 10 kg/s of chlorine over 2 h cut at 10 min gave 0.62-0.68 of the cut release's dose, 49 deaths
against 120 (dense-cloud audit)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.ensemble.compare import make_setup, member_task
from plumecast.ensemble.members import MemberSpec
from plumecast.plans.config import PlanConfig
from plumecast.plans.evaluate import evaluate_plans
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

LAT0, LON0 = 33.5648, -81.8076
M_PER_DEG_LON = 111_195.0 * np.cos(np.radians(LAT0))


def _scenario(stop_h=None, dense_gas="auto", plans=True):
    rel = {"type": "point", "name": "tank car", "lat": LAT0, "lon": LON0, "height_m": 1.0, "rate_kg_s": 10.0,
           "dense_gas": dense_gas}
    if stop_h is None:
        rel["duration_s"] = 7200.0
    else:
        rel["stop_h"] = stop_h
    d = {
        "name": "dense termination", "start": "2005-01-06T07:39:00Z", "duration_h": 3, "time_step_s": 300,
        "particles": 2000, "seed": 1, "backend": "numpy", "agent": "chlorine",
        "met": {"source": "uniform", "u_m_s": 1.5, "v_m_s": 0.0}, "turbulence": {"mixing_height_m": 200},
        "releases": [rel],
        "local_weather": {"wind_speed_m_s": 1.5, "wind_from_deg": 270, "stability": "F", "mixing_height_m": 200,
                          "terrain": "rural", "air_temperature_c": 2},
        "receptors": {"points": [{"name": f"{km:g} km", "lat": LAT0, "lon": LON0 + km * 1000.0 / M_PER_DEG_LON,
                                  "population": 5000} for km in (1.0, 3.0, 8.0)]},
    }
    if plans:
        d["plans"] = [{"name": "stop at 10 min", "measures": [{"type": "termination", "at_h": 1.0 / 6.0}]}]
    return scenario_from_dict(d)


def _do_nothing_deaths(sc):
    res = run(sc)
    names = [r.name for r in sc.releases]
    return evaluate_plans(res.exposure, sc.resolved_agent(), [(PlanConfig(name="do nothing"), None)], names)[0]


@pytest.mark.parametrize("dense_gas", ["auto", "off"])
def test_a_termination_of_a_dense_release_is_the_cut_release(dense_gas):
    sc = _scenario(dense_gas=dense_gas)
    setup = make_setup(sc, maps=False)
    r = member_task(setup, MemberSpec(0, sc.seed))
    plan = r.outcomes["stop at 10 min"]
    cut = _do_nothing_deaths(_scenario(stop_h=1.0 / 6.0, dense_gas=dense_gas, plans=False))
    if dense_gas == "auto":
        assert r.runs == 1 + 1 + len(setup.delay_h)  # the baseline, the plan, each delay of its termination
        np.testing.assert_allclose(plan.fatalities, cut.fatalities, rtol=1e-9)
        assert plan.total_fatalities > 10.0
    else:  # the Gaussian plume is linear in the emissions: the tags give the cut release (no rerun)
        assert r.runs == 1
        np.testing.assert_allclose(plan.fatalities, cut.fatalities, rtol=1e-6, atol=1e-9)


def test_the_dense_cloud_lasts_to_the_cut():
    """The cloud is set up for the release as emitted: to its stop_h, or the scenario's termination_h, where
    that comes before the end of its duration (an amount's share then)."""
    from plumecast.near_field_dense import local_scenario

    sc = _scenario(plans=False)
    rel = sc.releases[0]
    assert local_scenario(sc, rel, "rural", 200.0, 1.5, 270.0, "F").release.duration_s == pytest.approx(7200.0)
    cut = sc.replace(termination_h=0.5)
    assert local_scenario(cut, rel, "rural", 200.0, 1.5, 270.0, "F").release.duration_s == pytest.approx(1800.0)
    amount = rel.model_copy(update={"rate_kg_s": None, "amount_kg": 72000.0, "stop_h": 0.25})
    spec = local_scenario(sc, amount, "rural", 200.0, 1.5, 270.0, "F").release
    assert spec.duration_s == pytest.approx(900.0) and spec.amount_kg == pytest.approx(9000.0)
