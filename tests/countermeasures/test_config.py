"""Scenario models of the countermeasures and the runtime objects built from them."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from plumecast.agents import Agent
from plumecast.countermeasures import Evacuation, FrontSpec, ShelterOrder, Termination
from plumecast.countermeasures.config import MeasureConfig, build_measure, build_measures
from plumecast.countermeasures.front import lfl_kg_m3
from plumecast.errors import ScenarioError
from plumecast.units import ppm_to_kg_m3

PLAN = TypeAdapter(list[MeasureConfig])
AGENT = Agent(name="fuel", molecular_weight_g_mol=44.1, lfl_vol_pct=2.1, ufl_vol_pct=9.5)


def test_a_plan_list_parses_and_builds() -> None:
    cfgs = PLAN.validate_python([
        {"type": "termination", "at_h": 12, "releases": ["fleet"]},
        {"type": "shelter", "region": "all", "start_h": 6, "end_h": 30, "compliance": 0.8},
        {"type": "evacuation", "region": [139.0, 35.0, 140.5, 36.0], "order_h": 8, "clearance_h": 6},
        {"type": "front", "ignition_h": 14, "points": [[35.7, 139.7]], "speed_m_s": 300},
    ])
    built = build_measures(cfgs, AGENT)
    assert isinstance(built[0], Termination) and built[0].releases == ("fleet",) and built[0].at_h == 12
    assert isinstance(built[1], ShelterOrder) and built[1].end_h == 30 and built[1].compliance == 0.8
    assert built[1].ventilation_air_changes_per_hour == 4.0
    assert isinstance(built[2], Evacuation) and built[2].region == (139.0, 35.0, 140.5, 36.0)
    assert isinstance(built[3], FrontSpec)
    assert built[3].ignite_time_s == 14 * 3600.0
    assert built[3].threshold_kg_m3 == pytest.approx(lfl_kg_m3(2.1, 44.1))
    assert built[3].ignitions == ((35.7, 139.7),)


def test_thresholds_and_clearance_rate() -> None:
    front = PLAN.validate_python([{"type": "front", "ignition_h": 1, "points": [[0, 0]], "speed_m_s": 10,
                                   "threshold_ppm": 50}])[0]
    assert build_measure(front, AGENT).threshold_kg_m3 == pytest.approx(float(ppm_to_kg_m3(50, 44.1)))
    given = PLAN.validate_python([{"type": "front", "ignition_h": 1, "points": [[0, 0]], "speed_m_s": 10,
                                   "threshold_kg_m3": 1e-4}])[0]
    assert build_measure(given).threshold_kg_m3 == 1e-4  # no agent needed
    no_lfl = Agent(name="chlorine-like", molecular_weight_g_mol=70.9)
    lfl_front = PLAN.validate_python([{"type": "front", "ignition_h": 1, "points": [[0, 0]], "speed_m_s": 10}])[0]
    with pytest.raises(ScenarioError, match="no lower flammability limit"):
        build_measure(lfl_front, no_lfl)
    evac = PLAN.validate_python([{"type": "evacuation", "order_h": 2, "rate_per_h": 0.25}])[0]
    built = build_measure(evac)
    assert isinstance(built, Evacuation) and built.clearance_h == 4.0
    np.testing.assert_allclose(built.leave_h, 2.0 + 4.0 * (np.arange(8) + 0.5) / 8)


@pytest.mark.parametrize("bad, what", [
    ({"type": "shelter", "start_h": 1, "colour": "red"}, "extra"),
    ({"type": "shelter", "start_h": 5, "end_h": 2}, "before start_h"),
    ({"type": "shelter", "start_h": 1, "region": [0, 10, 5, -10]}, "lat_min"),
    ({"type": "shelter", "start_h": 1, "region": "everywhere"}, "expected 'all'"),
    ({"type": "evacuation", "order_h": 1}, "exactly one"),
    ({"type": "evacuation", "order_h": 1, "clearance_h": 2, "rate_per_h": 0.5}, "exactly one"),
    ({"type": "termination", "at_h": 1, "fraction": 1.5}, "less than or equal"),
    ({"type": "front", "ignition_h": 1, "points": [[95, 0]], "speed_m_s": 1}, "ignition point"),
    ({"type": "front", "ignition_h": 1, "points": [[0, 0]], "speed_m_s": 1, "threshold_ppm": 1,
      "threshold_kg_m3": 1}, "not both"),
    ({"type": "teleport", "at_h": 1}, "tag"),
])
def test_bad_models_are_refused(bad: dict, what: str) -> None:
    with pytest.raises(ValidationError, match=what):
        PLAN.validate_python([bad])


def test_models_are_frozen() -> None:
    cfg = PLAN.validate_python([{"type": "termination", "at_h": 3}])[0]
    with pytest.raises(ValidationError):
        cfg.at_h = 4  # type: ignore[misc]


_GOOD = {
    "termination": {"type": "termination", "at_h": 1, "fraction": 0.5},
    "shelter": {"type": "shelter", "start_h": 0.5, "end_h": 3, "compliance": 0.8, "air_changes_per_hour": 0.5,
                "ventilation_air_changes_per_hour": 3, "pre_air_changes_per_hour": 1},
    "evacuation": {"type": "evacuation", "order_h": 1, "clearance_h": 2, "compliance": 0.5},
    "front": {"type": "front", "ignition_h": 1, "points": [[0, 0]], "speed_m_s": 10, "threshold_ppm": 5},
}
_NUMERIC = [(kind, key) for kind, m in _GOOD.items() for key, v in m.items() if isinstance(v, int | float)]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("kind, key", _NUMERIC)
def test_nan_and_inf_are_refused_in_every_numeric_key(kind: str, key: str, bad: float) -> None:
    """A NaN time or compliance would otherwise make a measure silently never (or always) apply."""
    PLAN.validate_python([_GOOD[kind]])  # the good one parses
    with pytest.raises(ValidationError) as info:
        PLAN.validate_python([{**_GOOD[kind], key: bad}])
    errors = info.value.errors()
    assert len(errors) == 1 and errors[0]["loc"][-1] == key and "finite" in errors[0]["msg"]


@pytest.mark.parametrize("where", ["points", "region"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_nan_and_inf_are_refused_in_points_and_boxes(where: str, bad: float) -> None:
    m = ({**_GOOD["front"], "points": [[0.0, bad]]} if where == "points"
         else {**_GOOD["shelter"], "region": [0.0, 0.0, bad, 1.0]})
    with pytest.raises(ValidationError, match="finite number") as info:
        PLAN.validate_python([m])
    assert len(info.value.errors()) == 1 and where in [str(x) for x in info.value.errors()[0]["loc"]]
