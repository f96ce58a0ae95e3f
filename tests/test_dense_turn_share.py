"""A release that can be dense in a wind that turns within a step sets up its dense clouds at the step's knots only
(session 52, plumecast.near_field_dense.DenseCloud.shared).

30 t of chlorine over 30 min (``dense_gas: auto``, class D, 3 m/s), the 90-degree turn of tests/puff_reference.py
between the records at 3,500 and 3,600 s. The turn's sub-steps (plumecast.near_field_turn.swept, at most 2 degrees
each) had each set zones' dense cloud up at its own speed of the turn's dip: 42 clouds in a 1-h run at 600-s steps
(16.9 s of a 3-h run against 1.9 s before the sub-steps, docs/exposure.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import plumecast.nearfield.zones.setup as zones_setup
from plumecast.near_field_dense import DenseCloud, local_scenario
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.puff_reference import RECORDS, scenario, wind

PLACES = [(1.0, 0), (2.0, 45), (3.0, 90)]


def _data(step: float) -> dict[str, Any]:
    data = scenario("denseturn", step, PLACES, amount_kg=30000.0, duration_s=1800.0)
    data["releases"][0]["dense_gas"] = "auto"
    data["duration_h"] = 1.0
    return data


def test_a_turning_step_sets_up_the_clouds_of_its_knots_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's steps read the speeds of their knots (3 m/s and the dip's bottom, 2.12 m/s), the turn's sub-steps
    those and the shared grid's between them (2.15, 2.37, 2.61 and 2.87 m/s, ``10^(k/24)``:
    plumecast.near_field_dense.SHARED_PER_DECADE), and the peaks of the turn's two
    stretches the speed at each one's middle: at most 8 clouds, where each sub-step's own speed had been one more
    (42)."""
    made: list[float] = []
    real = zones_setup.with_dense_regime

    def counted(local: Any, step: Any) -> Any:
        made.append(float(step.wind_speed_m_s))
        return real(local, step)

    monkeypatch.setattr(zones_setup, "with_dense_regime", counted)
    north = RECORDS >= 3600.0
    run(scenario_from_dict(_data(600.0)), wind=wind(np.where(north, 0.0, 3.0), np.where(north, 3.0, 0.0), "turn"))
    assert 3.0 in made and 2.12 in made  # the knots' (the dip's bottom, 3 m/s / sqrt 2)
    assert len(made) <= 8, sorted(made)


@pytest.fixture(scope="module")
def cloud() -> DenseCloud:
    sc = scenario_from_dict(_data(600.0))
    return DenseCloud(local_scenario(sc, sc.releases[0], "rural", math.inf, 3.0, 270.0, "D"))


def test_a_shared_cloud_reads_as_the_cloud_at_its_own_speed(cloud: DenseCloud) -> None:
    """Between the knots' speeds the shared clouds read within 0.5 % of the cloud set up at the speed itself on the
    axis and across its flat core, 0.1-5 km out, and within 5 % one and two of its edges' sigma beyond the core;
    sigma_x within 2 %; at a knot's own speed the cloud itself, to the bit."""
    from plumecast.nearfield.zones.setup import lateral_shape

    knots = [(3.0, "D", math.inf), (2.12, "D", math.inf)]
    x = np.repeat(np.geomspace(100.0, 5000.0, 12), 5)
    for speed in (2.9, 2.6, 2.3, 2.15):
        core, edge = lateral_shape(cloud.setup_at(speed, "D", math.inf), x)
        y = np.tile([0.0, 0.5, 1.0, 1.0, 1.0], 12) * core + np.tile([0.0, 0.0, 0.0, 1.0, 2.0], 12) * edge
        alone = cloud.dose_per_kg(x, y, speed, "D", math.inf)
        with cloud.shared(knots):
            both = cloud.dose_per_kg(x, y, speed, "D", math.inf)
        assert alone is not None and both is not None
        inside = np.tile([True, True, True, False, False], 12)  # in the flat core (its edge included)
        np.testing.assert_allclose(both[0][inside], alone[0][inside], rtol=0.005, err_msg=str(speed))
        # beyond the core, where its edge falls over a few metres near the source (sigma 8 m at 100 m, the core's
        # half-width 100-170 m), a core 1 % off moves it (the knots' clouds alone: 1.36 at 100 m, 2.6 m/s)
        np.testing.assert_allclose(both[0][~inside], alone[0][~inside], rtol=0.05, err_msg=str(speed))
        np.testing.assert_allclose(both[1], alone[1], rtol=0.02, err_msg=str(speed))
    for speed in (3.0, 2.12):
        alone = cloud.dose_per_kg(x, 0.0 * x, speed, "D", math.inf)
        with cloud.shared(knots):
            both = cloud.dose_per_kg(x, 0.0 * x, speed, "D", math.inf)
        assert alone is not None and both is not None
        assert np.array_equal(alone[0], both[0]) and np.array_equal(alone[1], both[1])


def test_a_turning_step_reads_its_knots_weathers_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wind veering 90 degrees over 30 min (3 m/s, from 3,000 s on): its 600-s steps turn within themselves
    (plumecast.near_field_turn.swept's sub-steps) and bend the streak line (plumecast.near_field_drift.drifted's
    sub-steps); a dense-capable release reads its step's knot weathers once for both (session 53: the turn and the
    line had each made and read their own plumecast.near_field_turn.knot_clouds, twice a step)."""
    import plumecast.exposure as exposure
    import plumecast.near_field_turn as turn

    real = turn.knot_clouds
    reads: dict[tuple[int, float], int] = {}

    def counted(src: Any, wind_at: Any, times: list[float] | None) -> Any:
        inner = real(src, wind_at, times)
        if src.dense is None or wind_at is None or times is None:
            return inner
        used: list[bool] = []

        def clouds(bound: bool = False) -> Any:
            if not used:  # its weathers are read at its first call
                used.append(True)
                key = (id(src), float(times[0]))
                reads[key] = reads.get(key, 0) + 1
            return inner(bound)

        return clouds

    monkeypatch.setattr(turn, "knot_clouds", counted)
    monkeypatch.setattr(exposure, "knot_clouds", counted)
    angle = np.radians(np.clip((RECORDS - 3000.0) / 1800.0, 0.0, 1.0) * 90.0)
    data = _data(600.0)
    data["duration_h"] = 1.5
    run(scenario_from_dict(data), wind=wind(3.0 * np.cos(angle), 3.0 * np.sin(angle), "veer"))
    assert len(reads) >= 3, reads  # the steps of the veer (3,000-5,400 s) read them
    assert max(reads.values()) == 1, reads
