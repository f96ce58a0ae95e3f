"""A wind that turns within one coarse step sweeps places side-on (session 51, plumecast.near_field_turn).

14.4 t of chlorine over 2 h, class D, 3 m/s east, the wind turning to the north between the records at 3,500 and
3,600 s (a turn) or over the 600 s before 3,600 s (a fan). The step's plume had read the wind at the step's middle
only: the places the turn sweeps side-on, 1-2 km out at 15-75 degrees off the old leg, read AEGL-1/2/3 "never" with
600- and 300-s steps where 10-s Gaussian puffs in the same wind (the air itself) reach them at 52-66 min, and in the
fan their doses were 0.02-0.08 of the puffs' off the step's middle direction. The reference here is the puffs: each
10 s of emission carried by the source's wind (linear between records), Briggs rural D sigmas of the path it ran,
sigma_x = sigma_y, reflected at the ground.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from plumecast.near_field_turn import groups, turn_knots
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.puff_reference import RECORDS, puffs, reached_no_later, scenario, wind
from tests.test_countdown_audit44 import ONE_SECOND_H, _hours
from tests.test_countdown_turning_wind import _source, _Wind

#: the swept sector: 1 and 2 km out at 15-75 degrees north of east; and 5 km east (the old leg)
PLACES = [(d, b) for d in (1.0, 2.0) for b in (15, 30, 45, 60, 75)] + [(5.0, 0)]


def _winds(case: str) -> tuple[np.ndarray, np.ndarray]:
    if case == "turn":  # east until the record at 3,500 s, north from the one at 3,600 s
        north = RECORDS >= 3600.0
        return np.where(north, 0.0, 3.0), np.where(north, 3.0, 0.0)
    ang = np.clip((RECORDS - 3000.0) / 600.0, 0.0, 1.0) * math.pi / 2.0  # the fan: turning over 3,000-3,600 s
    return 3.0 * np.cos(ang), 3.0 * np.sin(ang)








@pytest.fixture(scope="module")
def sweeps() -> dict[tuple[str, float], Any]:
    out: dict[tuple[str, float], Any] = {}
    for case, steps in (("turn", (600.0, 300.0, 30.0)), ("fan", (600.0, 300.0))):
        u, v = _winds(case)
        met = wind(u, v, case)
        out[(case, 0.0)] = puffs(u, v, PLACES)
        for step in steps:
            out[(case, step)] = run(scenario_from_dict(scenario("sweep", step, PLACES)), wind=met)
    return out


@pytest.mark.parametrize("case", ["turn", "fan"])
@pytest.mark.parametrize("step", [600.0, 300.0])
def test_places_a_turn_sweeps_side_on_are_not_read_late(sweeps: dict[tuple[str, float], Any], case: str,
                                                        step: float) -> None:
    first, _ = sweeps[(case, 0.0)]
    ds = sweeps[(case, step)].consequences()
    # had read never at 1-2 km, 15-75 degrees (the puffs: 52-66 min)
    reached = sum(int(both[:-1].sum()) for both in reached_no_later(ds, first, _hours, ONE_SECOND_H))
    assert reached >= 10  # the sector is reached by the air


def test_the_old_leg_is_not_read_late_where_the_turn_leaves_it(sweeps: dict[tuple[str, float], Any]) -> None:
    """5 km east, on the old leg: the 30-s steps read AEGL-2 at 58.5 min, in the turn (the steady plume of the turn's
    slower wind, 2.1 m/s half way, 1.4 times as thick at once; the puffs' air never reaches AEGL-2 there), and the
    600- and 300-s steps had read it never: the turn within their step was not seen (session 50 audit)."""
    ref_ds = sweeps[("turn", 30.0)].consequences()
    for step in (600.0, 300.0):
        ds = sweeps[("turn", step)].consequences()
        for level in (1, 2, 3):
            got, ref = _hours(ds, f"hours_to_aegl{level}")[-1], _hours(ref_ds, f"hours_to_aegl{level}")[-1]
            if math.isfinite(ref):
                assert math.isfinite(got) and got <= ref + ONE_SECOND_H, (step, level, got * 60.0, ref * 60.0)
    assert math.isfinite(_hours(ref_ds, "hours_to_aegl2")[-1])


def test_the_fan_s_dose_off_the_step_s_middle_is_the_air_s(sweeps: dict[tuple[str, float], Any]) -> None:
    """The fan turns over one 600-s step, whose middle wind blows to 45 degrees: 1-2 km out at 15, 30, 60 and 75
    degrees the step's plume had read 0.02-0.08 of the puffs' dose at 1 km (the air that passed them in the step
    left out); the sub-steps of the turn now read 0.5-1.3 of it (each sub-step's steady plume, its own window)."""
    _, dose = sweeps[("fan", 0.0)]
    pick = [i for i, (d, b) in enumerate(PLACES) if b in (15, 30, 60, 75)]
    for step in (600.0, 300.0):
        ds = sweeps[("fan", step)].consequences()
        c = np.asarray(ds["concentration"].values, float)
        ratio = (np.nansum(c, axis=0) * step)[pick] / dose[pick]
        assert (ratio > 0.4).all(), (step, ratio)  # 600-s steps: had read 0.02-0.08 at 1 km
        # and not doubled (at 300-s steps, 1 km at 60 degrees reads 3.3: the streak line's stretch of the step
        # 3,300-3,600 s, whose middle wind blows to 67.5 degrees, the larger of two plumes; as before)
        assert step != 600.0 or (ratio < 2.5).all(), (step, ratio)


def test_a_steady_wind_and_a_change_of_speed_do_not_turn() -> None:
    """Only a step whose direction turns pays for the sub-steps: a steady wind and a speed-only change read None (the
    step's plume as before, to the bit); a turn of 90 degrees between records is cut at the dip's bottom."""
    src = _source()
    north = RECORDS >= 3600.0
    assert turn_knots(src, _Wind(np.full(RECORDS.size, 3.0), np.zeros(RECORDS.size)), 3000.0, 3600.0) is None
    assert turn_knots(src, _Wind(np.where(north, 1.0, 4.0), np.zeros(RECORDS.size)), 3000.0, 3600.0) is None
    knots = turn_knots(src, _Wind(np.where(north, 0.0, 3.0), np.where(north, 3.0, 0.0)), 3000.0, 3600.0)
    assert knots is not None
    times, vec, ang = knots
    got = groups(times, ang, [u == 0.0 and v == 0.0 for u, v in vec])
    assert got[0][:2] == (3000.0, 3500.0) and got[0][2] == got[0][3] == 0.0  # east until the record at 3,500 s
    assert [g[:2] for g in got[1:]] == [(3500.0, 3550.0), (3550.0, 3600.0)]
    assert got[-1][3] == pytest.approx(math.pi / 2.0)
