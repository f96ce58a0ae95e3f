"""Sheltered countdowns where people go inside within a step, after the outdoor air has reached a level.

Until people go in they breathe the outdoor air itself. The step in which they go in mixes its outdoor and
indoor means, weighted by the time spent in each, and that mix can stay below a level the outdoor air reached
before they went in: 12 t of chlorine over 20 min (class D, 3 m/s), 2 km out, people inside at 24 min: the
outdoor air reaches AEGL-3 at 23.7 min (10-s steps; by the end of the 10-s step at the latest, before they go
in), and `run` and `compare`'s shelter plan had read AEGL-3 sheltered "never" at 300- and 600-s steps
(`consequence_metrics.outdoors_first`, `plans.evaluate._outdoors_first`).
"""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.plans.evaluate import evaluate_plans
from plumecast.runner import run
from plumecast.scenario import PlanConfig, scenario_from_dict
from tests.test_countdown_audit44 import _data

#: the outdoor air 2 km out reaches AEGL-3 at 1,420 s with 10-s steps (the level falls through the steady
#: plume as the exposure lengthens), within (1,420, 1,430] s at the latest; people go inside at 1,440 s
CASE = {"amount_kg": 12000.0, "duration_s": 1200.0, "speed": 3.0, "cls": "D", "km": (2.0,)}
INSIDE_S = 1440.0


def _scenario(step_s: float, shelter_s: float | None = INSIDE_S) -> dict:
    d = _data(step_s, **CASE)
    return d if shelter_s is None else {**d, "shelter": {"start_h": shelter_s / 3600.0}}


@pytest.fixture(scope="module")
def reference_s() -> float:
    """The outdoor air's AEGL-3 countdown at 10-s steps, the latest the air people breathe before going inside
    can reach it is one step later. [s]"""
    ds = run(scenario_from_dict(_scenario(10.0))).consequences()
    got = float(ds["hours_to_aegl3"].values[0]) * 3600.0
    assert 1400.0 < got < INSIDE_S - 10.0  # before they go in, by more than a 10-s step
    assert float(ds["hours_to_aegl3_sheltered"].values[0]) * 3600.0 == pytest.approx(got)
    return got


@pytest.mark.parametrize("step_s", [300.0, 600.0])
def test_run_sheltered_countdown_keeps_the_outdoor_air_breathed_before_going_inside(step_s, reference_s):
    ds = run(scenario_from_dict(_scenario(step_s))).consequences()
    inside = float(ds["hours_to_aegl3_sheltered"].values[0]) * 3600.0
    outside = float(ds["hours_to_aegl3"].values[0]) * 3600.0
    assert np.isfinite(inside)  # had read never
    assert inside <= reference_s + 1.0
    assert inside == pytest.approx(outside)
    # the doses and deaths are still the steps' means: the same as people who never go inside breathe
    # until then, and less after
    assert float(ds["fatalities_sheltered"].values[0]) <= float(ds["fatalities"].values[0])
    # inside from 10 min, before the outdoor air reaches AEGL-3 there: the building keeps it below, and no
    # outdoor arrival is given to them
    early = run(scenario_from_dict(_scenario(step_s, 600.0))).consequences()
    assert np.isfinite(float(early["hours_to_aegl3"].values[0]))
    assert not np.isfinite(float(early["hours_to_aegl3_sheltered"].values[0]))


@pytest.mark.parametrize("step_s", [300.0, 600.0])
def test_compare_shelter_plan_countdown_keeps_the_outdoor_air_breathed_before_going_inside(step_s, reference_s):
    sc = scenario_from_dict(_scenario(step_s, None))
    result = run(sc)
    order_h = INSIDE_S / 3600.0
    plans = [PlanConfig(name="nothing")] + [PlanConfig.model_validate(p) for p in (
        {"name": "in at 24 min", "measures": [{"type": "shelter", "start_h": order_h, "compliance": 1.0}]},
        # people who leave at 24 min breathe the outdoor air until then too (the same step's mix)
        {"name": "leave at 24 min", "measures": [{"type": "evacuation", "order_h": order_h, "clearance_h": 0.05,
                                                   "compliance": 1.0}]})]
    base, *moved = evaluate_plans(result.exposure, sc.resolved_agent(), [(p, None) for p in plans],
                                  [r.name for r in sc.releases])
    for plan in moved:
        assert np.isfinite(plan.arrival3_s).all(), plan.plan  # had read never
        assert (plan.arrival3_s <= reference_s + 1.0).all()
        np.testing.assert_array_equal(plan.arrival3_s, base.arrival3_s)
        assert (plan.fatalities <= base.fatalities).all()
