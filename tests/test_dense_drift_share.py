"""A release that can be dense whose streak line drifts within a step while the wind's speed changes reads its
sub-steps with the dense clouds of the step's knots (session 52, plumecast.near_field_drift.drifted with
plumecast.near_field_turn.knot_clouds), and the peaks of those sub-steps and of a turn's stretches with the larger
of the two clouds around their speed (plumecast.near_field_dense.DenseCloud.shared's ``bound``).

30 t of chlorine over 30 min (``dense_gas: auto``, class D): 3 m/s east, turning north between the records at
3,500 and 3,600 s, then rising to 4.5 m/s by the record at 4,200 s (no record between). The step 3,600-4,200 s
carries the old leg's line sideways (plumecast.near_field_drift) while the speed rises: its sub-steps had each set
up the cloud at its own speed (3.13, 3.25, ... 4.37 m/s: 18 clouds in all in the run's 7 steps).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import plumecast.nearfield.zones.setup as zones_setup
import tests.puff_reference as reference
from plumecast.near_field_dense import DenseCloud, local_scenario
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

PLACES = [(1.0, 0), (2.0, 45), (3.0, 90)]
RECORDS = np.array([0.0, 3500.0, 3600.0, 4200.0, 14400.0])


def _data() -> dict[str, Any]:
    data = reference.scenario("densedrift", 600.0, PLACES, amount_kg=30000.0, duration_s=1800.0)
    data["releases"][0]["dense_gas"] = "auto"
    data["duration_h"] = 4200.0 / 3600.0
    return data


def test_a_drifting_line_in_a_changing_speed_sets_up_the_clouds_of_its_knots(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The drifting step's knots (3, 3.75 and 4.5 m/s) and the grid's speeds between them (3.16, 3.48, 3.83 and
    4.22 m/s), with the turn's (2.12-3 m/s): 12 clouds, not one more at each sub-step's speed (18)."""
    made: list[float] = []
    real = zones_setup.with_dense_regime

    def counted(local: Any, step: Any) -> Any:
        made.append(round(float(step.wind_speed_m_s), 2))
        return real(local, step)

    monkeypatch.setattr(zones_setup, "with_dense_regime", counted)
    monkeypatch.setattr(reference, "RECORDS", RECORDS)
    north = RECORDS >= 3600.0
    speed = np.where(RECORDS >= 4200.0, 4.5, 3.0)
    run(scenario_from_dict(_data()), wind=reference.wind(np.where(north, 0.0, 3.0), np.where(north, speed, 0.0), "drift"))
    assert {3.0, 3.75, 4.5} <= set(made)
    assert not {3.13, 3.25, 3.38, 3.63, 4.12, 4.37} & set(made), sorted(made)
    assert len(made) <= 12, sorted(made)


def test_a_bound_reads_no_lower_than_the_cloud_at_its_own_speed() -> None:
    """For a peak and a front (``bound``): at each place the larger of the two shared clouds around the speed, at
    or above the cloud set up at the speed itself (the geometric mean reads up to 0.06 % below it on the axis), and
    its sigma_x (the front's lead) no smaller; at a knot's speed the cloud itself, to the bit."""
    from plumecast.nearfield.zones.setup import lateral_shape

    sc = scenario_from_dict(_data())
    cloud = DenseCloud(local_scenario(sc, sc.releases[0], "rural", math.inf, 3.0, 270.0, "D"))
    knots = [(3.0, "D", math.inf), (4.5, "D", math.inf)]
    x = np.concatenate((np.repeat(np.geomspace(100.0, 5000.0, 12), 5), [0.5, 0.9]))
    for speed in (3.1, 3.4, 3.6, 4.0, 4.4):
        core, edge = lateral_shape(cloud.setup_at(speed, "D", math.inf), x)
        y = np.tile([0.0, 0.5, 1.0, 1.0, 1.0], 12) * core[:60] + np.tile([0.0, 0.0, 0.0, 1.0, 2.0], 12) * edge[:60]
        y = np.concatenate((y, [0.0, 0.0]))
        alone = cloud.dose_per_kg(x, y, speed, "D", math.inf)
        with cloud.shared(knots, bound=True):
            top = cloud.dose_per_kg(x, y, speed, "D", math.inf)
        assert alone is not None and top is not None
        assert (top[0] >= alone[0] * (1.0 - 1e-6)).all(), (speed, np.min(top[0] / np.maximum(alone[0], 1e-300)))
        assert (top[1] >= alone[1] * (1.0 - 1e-6)).all(), speed  # (the tables read sigma_x within 1e-7)
        np.testing.assert_allclose(top[0][:60:5], alone[0][:60:5], rtol=0.1, err_msg=str(speed))  # on the axis
    for speed in (3.0, 4.5):
        alone = cloud.dose_per_kg(x, 0.0 * x, speed, "D", math.inf)
        with cloud.shared(knots, bound=True):
            top = cloud.dose_per_kg(x, 0.0 * x, speed, "D", math.inf)
        assert alone is not None and top is not None
        assert np.array_equal(alone[0], top[0]) and np.array_equal(alone[1], top[1])
