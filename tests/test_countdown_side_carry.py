"""The old leg's air carried sideways in the steps after a turn (session 51, plumecast.near_field_drift).

14.4 t of chlorine over 2 h, class D, 3 m/s east, the wind turning to the north (or to 60 degrees) between the
records at 3,500 and 3,600 s, over the 600 s before 3,600 s (a fan), or reversing. After the turn the new wind
carries the old leg's air sideways; the streak line was read at each step's end only, and a 600-s step moves it
1.8 km: AEGL-1 10 km out 15-45 degrees off the old leg read "never" with 600- and 300-s steps where 10-s Gaussian
puffs in the same wind (the air itself) reach it at 66-101 min, AEGL-2 1 km out 15 degrees off the old leg after
the reversal "never" (puffs 63 min), and the dose 1 km out 15-75 degrees off the old leg after the turn was
0.26-0.36 of the puffs'. The puffs: each 10 s of emission carried by the source's wind (linear between records),
Briggs rural D sigmas of the path it ran, sigma_x = sigma_y, reflected at the ground.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from plumecast.near_field_drift import DRIFT_SIGMAS, knots_in_step, sub_lines
from plumecast.near_field_track import track_at
from plumecast.nearfield.gaussian import briggs_sigma_y
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.puff_reference import RECORDS, puffs, reached_no_later, scenario, wind
from tests.test_countdown_audit44 import ONE_SECOND_H, _hours

#: 10 km out 15-45 degrees north of east (the old leg's air carried north), 1 km out 15-75 degrees (the dose)
PLACES = [(10.0, b) for b in (15, 30, 45)] + [(1.0, b) for b in (15, 30, 45, 60, 75)]
CASES = ("turn90", "turn60", "fan90", "reverse")


def _winds(case: str) -> tuple[np.ndarray, np.ndarray]:
    after = RECORDS >= 3600.0
    if case.startswith("turn"):  # east until the record at 3,500 s, turned from the one at 3,600 s
        a = math.radians(float(case[4:]))
        return np.where(after, 3.0 * math.cos(a), 3.0), np.where(after, 3.0 * math.sin(a), 0.0)
    if case == "reverse":
        return np.where(after, -3.0, 3.0), np.zeros(RECORDS.size)
    ang = np.clip((RECORDS - 3000.0) / 600.0, 0.0, 1.0) * math.pi / 2.0  # the fan: turning over 3,000-3,600 s
    return 3.0 * np.cos(ang), 3.0 * np.sin(ang)








@pytest.fixture(scope="module")
def carried() -> dict[tuple[str, float], Any]:
    out: dict[tuple[str, float], Any] = {}
    for case in CASES:
        u, v = _winds(case)
        met = wind(u, v, case)
        out[(case, 0.0)] = puffs(u, v, PLACES)
        for step in (600.0, 300.0):
            out[(case, step)] = run(scenario_from_dict(scenario("carry", step, PLACES)), wind=met)
    return out


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("step", [600.0, 300.0])
def test_the_old_leg_s_air_carried_sideways_is_not_read_late(carried: dict[tuple[str, float], Any], case: str,
                                                              step: float) -> None:
    """Every level the puffs reach at these places is read, and no later than the puffs (had read "never": the
    turn's AEGL-1 10 km out at 15 and 30 degrees, 71 and 84 min by the puffs; the 60-degree turn's at 45 degrees,
    101 min; the fan's at 15 and 45 degrees, 66 and 90 min; the reversal's AEGL-2 1 km out at 15 degrees, 63 min)."""
    first, _ = carried[(case, 0.0)]
    ds = carried[(case, step)].consequences()
    reached = sum(int(both.sum()) for both in reached_no_later(ds, first, _hours, ONE_SECOND_H))
    assert reached >= 3, reached  # the air reaches these places


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_the_dose_the_old_leg_s_air_brings_sideways_is_the_air_s(carried: dict[tuple[str, float], Any],
                                                                 step: float) -> None:
    """1 km out 15-75 degrees north of the old leg after the 90-degree turn: the line's sweep north had been read at
    the steps' ends only (0.26-0.36 of the puffs' dose at 600-s steps). The steps' knots are at most DRIFT_M (150
    m, about 2 sigma_y 1 km out) apart, and the time average of a Gaussian crossing sampled that finely is within
    about 2 % of its integral, so the dose is the line's plume's own: the 30-s steps (whose line moves 90 m a step)
    read 1.17-1.27 of the puffs' there. The floor 0.8 leaves the puffs' and the plume's own differences (the
    plume's sigma_x); above 2 the sideways air would be counted twice."""
    _, dose = carried[("turn90", 0.0)]
    pick = [i for i, (d, _) in enumerate(PLACES) if d == 1.0]
    ds = carried[("turn90", step)].consequences()
    c = np.asarray(ds["concentration"].values, float)
    ratio = (np.nansum(c, axis=0) * step)[pick] / dose[pick]
    assert (ratio > 0.8).all() and (ratio < 2.0).all(), (step, ratio)


def test_the_line_within_a_step_is_the_old_line_moved_by_the_wind_s_run() -> None:
    """The knots within a step: the line at the step's start moved by the share of the step's run so far, the air
    emitted since along that run; as many as keep each old stretch's drift across itself within DRIFT_SIGMAS of its
    sigma_y. A straight line (a change of speed only) and a slow veer are read at the step's end alone."""
    dt = 600.0
    east = np.array([[3.0, 0.0]] * 6 + [[0.0, 3.0]] * 2)  # east, then north for the last two steps
    end, start = track_at(east, dt, 30_000.0), track_at(east[:-1], dt, 30_000.0)
    assert end is not None and start is not None and not end.straight
    m = knots_in_step(end, "D", "rural")
    # the old leg's youngest stretch (3.6-5.4 km along the line, its middle 4.5 km) moves 1.8 km across itself; the
    # step before's (north too) not at all
    assert m == math.ceil(1800.0 / (DRIFT_SIGMAS * float(briggs_sigma_y(np.array([4500.0]), "D", "rural")[0])))
    lines = sub_lines(end, dt, m)
    assert len(lines) == m > 1
    for i, line in enumerate(lines, start=1):
        share = i / m
        assert line.ago[i] == pytest.approx(share * dt) and line.north[i] == pytest.approx(share * 1800.0)
        # the old knots: the start's line moved north by the share of the step's run
        np.testing.assert_allclose(line.east[i:i + 4], start.east[:4], atol=1e-6)
        np.testing.assert_allclose(line.north[i:i + 4], start.north[:4] + share * 1800.0, atol=1e-6)
        np.testing.assert_allclose(line.ago[i:i + 4], start.ago[:4] + share * dt, atol=1e-6)
    np.testing.assert_allclose(lines[-1].east[m:], end.east[1:], atol=1e-6)
    slowing = track_at(np.array([[3.0, 0.0]] * 6 + [[1.5, 0.0]] * 2), dt, 30_000.0)
    assert slowing is not None and slowing.straight and knots_in_step(slowing, "D", "rural") == 1
    assert sub_lines(slowing, dt, 1) == [slowing]
    veer = np.radians(20.0 / 3600.0 * 300.0 * np.arange(72))  # 20 degrees an hour, 300-s steps, 6 h
    slow = track_at(3.0 * np.stack((np.cos(veer), np.sin(veer)), axis=1), 300.0, 100_000.0)
    assert slow is not None and not slow.straight and knots_in_step(slow, "D", "rural") == 1
