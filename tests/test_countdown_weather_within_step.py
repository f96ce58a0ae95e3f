"""Countdowns where the weather changes within a time step (session 48; after test_countdown_wind_within_step).

* A met record within a step, off its ends and middle: the step's speeds were read at those three only, and a
  dip of the wind at a record 100 s into a 600-s step was missed (AEGL-3 1 km out never, 10 min at 10-s steps).
  They now take the records within the step too (NearFieldSource.step_speeds).
* A class that changes within a step (the met's boundary layer): the step's peak and front now take the
  classes within it (NearFieldSource._step_classes).
* Indoors in a slowing wind: the building's air was bounded from each step's dose let in as fast as the step's peak
  allows (shelter.indoor_peak_bound), and the steps' means, taken with each step's middle wind, lag the finer
  steps' air after the wind has changed: 3 t of chlorine over 600 s, class D, 4 -> 1 m/s over 15-20 min, read
  AEGL-1 indoors 8 and 12 km out at 80 and 160 min with 300-s steps, 78.5 and 156.2 min with 10-s steps (and
  compare's shelter from 1 h AEGL-2 at 8 km at 125 min, 124.3 min at 10-s steps). Where the plume's wind has
  changed since its release began (ReceptorExposure.wind_changed) the building now takes the step's peak, which
  bounds its air at every moment, held over the step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.test_countdown_audit44 import ONE_SECOND_H, _data, _hours, _slowing_wind

SLOWING_FAR = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 4.0, "cls": "D", "km": (8.0, 12.0), "hours": 3.0}


@pytest.fixture(scope="module")
def slowing_far() -> dict[float, Any]:
    wind = _slowing_wind(4.0, 1.0, 900.0, 3.0)
    return {step: (sc := scenario_from_dict(_data(step, **SLOWING_FAR)), run(sc, wind=wind))
            for step in (600.0, 300.0, 10.0)}


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_indoor_countdowns_in_a_slowing_wind_are_not_late(slowing_far: dict[float, Any], step: float) -> None:
    got_ds, ref_ds = slowing_far[step][1].consequences(), slowing_far[10.0][1].consequences()
    for level in (1, 2):
        for suffix in ("", "_sheltered"):
            name = f"hours_to_aegl{level}{suffix}"
            got, ref = _hours(got_ds, name), _hours(ref_ds, name)
            assert np.isfinite(got[np.isfinite(ref)]).all(), (name, got, ref)
            both = np.isfinite(got) & np.isfinite(ref)
            # AEGL-1 indoors 8 and 12 km out: 80 and 160 min with 300-s steps had come after 78.5 and 156.2
            assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (step, name, got * 60.0, ref * 60.0)
    assert np.isfinite(_hours(ref_ds, "hours_to_aegl1_sheltered")).all()


def shelters_no_later_than_10_s(runs: dict[float, Any], step: float, names: list[str]) -> list[list[Any]]:
    """``compare``'s two shelters (at once, from 1 h) on the runs (step: (scenario, result)) at ``step`` and 10 s,
    each AEGL-2/3 arrival at ``step`` no later than at 10-s steps (nor "never" where those give a time); the two
    steps' outcomes, ``runs[step]``'s first."""
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plans

    plans = [PlanConfig.model_validate(p) for p in (
        {"name": "shelter", "measures": [{"type": "shelter", "start_h": 0.0}]},
        {"name": "shelter from 1 h", "measures": [{"type": "shelter", "start_h": 1.0}]})]
    got = {}
    for s in (step, 10.0):
        sc, res = runs[s]
        got[s] = evaluate_plans(res.exposure, sc.resolved_agent(), [(p, None) for p in plans], names)
    for coarse, ref in zip(got[step], got[10.0], strict=True):
        for level in (2, 3):
            now, then = getattr(coarse, f"arrival{level}_s"), getattr(ref, f"arrival{level}_s")
            assert np.isfinite(now[np.isfinite(then)]).all(), (coarse.plan, level, now, then)
            both = np.isfinite(now) & np.isfinite(then)
            assert (now[both] <= then[both] + 1.0).all(), (coarse.plan, level, now / 60.0, then / 60.0)
    return [got[step], got[10.0]]


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_compare_s_shelters_in_a_slowing_wind_are_not_late(slowing_far: dict[float, Any], step: float) -> None:
    # the shelter from 1 h, AEGL-2 8 km out: 125 min with 300-s steps had come after 124.3
    got = shelters_no_later_than_10_s(slowing_far, step, ["src"])
    assert np.isfinite(got[1][1].arrival2_s[0])


def test_the_steps_after_a_change_of_wind_are_marked(slowing_far: dict[float, Any]) -> None:
    from plumecast.near_field_track import changed_wind_steps

    e = slowing_far[300.0][1].exposure
    marked = e.wind_changed
    assert marked is not None and e.peak_extra is not None and not marked[:3].any()  # 4 m/s until 15 min
    # slowing after: per receptor (session 49), from the first step its plume has air there (8 and 12 km out: 35 and
    # 85 min)
    first_air = np.argmax((e.total() > 0.0) | (e.peak_extra > 0.0), axis=0)
    np.testing.assert_array_equal(first_air, [7, 17])
    np.testing.assert_array_equal(marked, np.arange(marked.shape[0])[:, None] >= first_air[None, :])
    winds = np.tile([3.0, 0.0], (1, 8, 1))
    speeds = np.full((1, 8, 2), 3.0)
    assert not changed_wind_steps(winds, speeds, [-np.inf], 60.0).any()  # a steady wind: none
    turned, slowed = winds.copy(), speeds.copy()
    turned[0, 5:] = (0.0, 3.0)
    slowed[0, 3] = (2.0, 3.0)  # within step 3
    np.testing.assert_array_equal(changed_wind_steps(turned, speeds, [0.0], 60.0), np.arange(8) >= 5)
    np.testing.assert_array_equal(changed_wind_steps(winds, slowed, [0.0], 60.0), np.arange(8) >= 3)
    # before its release began the wind does not count; not sampled (NaN, a resumed run) neither
    slowed[0, :4] = np.nan
    np.testing.assert_array_equal(changed_wind_steps(turned, slowed, [250.0], 60.0), np.arange(8) >= 5)


def _records_wind(times_s: np.ndarray, speeds: np.ndarray) -> Any:
    """A uniform wind from the west with records at ``times_s`` [s after the start] of ``speeds`` [m/s]."""
    from plumecast.met import build_wind_dataset

    lat, lon = np.arange(50.0, 54.001, 0.25), np.arange(3.0, 7.001, 0.25)
    ones = np.ones((1, lat.size, lon.size), np.float32)
    times = (np.datetime64("2026-01-20T06:00") + times_s.astype("timedelta64[s]")).astype("datetime64[ns]")
    return build_wind_dataset(np.asarray(speeds, np.float32)[:, None, None] * ones,
                              0.0 * ones.repeat(times_s.size, axis=0), times, lat, lon, source="dip", level="10 m",
                              steady=False)


DIP = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 4.0, "cls": "D", "km": (1.0, 2.0, 5.0), "hours": 1.0}


@pytest.fixture(scope="module")
def dip_runs() -> dict[float, Any]:
    # records every 100 s, 4 m/s but 1 m/s at 700 s: 100 s into the 600-s step 600-1200 s, whose ends and middle
    # read 4 m/s
    t = np.arange(0.0, 3601.0, 100.0)
    wind = _records_wind(t, np.where(t == 700.0, 1.0, 4.0))
    return {step: run(scenario_from_dict(_data(step, **DIP)), wind=wind) for step in (600.0, 300.0, 10.0)}


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_a_met_record_within_a_step_off_its_ends_and_middle_counts(dip_runs: dict[float, Any], step: float) -> None:
    # AEGL-3 1 and 2 km out had read never with 600-s steps (10 and 11.5 min at 10-s steps), 2 km never with 300-s
    # steps; AEGL-1 3 km out 11.25 min with 600-s steps (10.67)
    ref_ds = _no_later_than_10_s(dip_runs, step)
    assert np.isfinite(_hours(ref_ds, "hours_to_aegl3")[0])


def _no_later_than_10_s(runs: dict[float, Any], step: float) -> Any:
    """Assert each countdown (AEGL-1/2/3, outdoors and sheltered) of ``runs[step]`` finite where the 10-s steps'
    is and no later than it (+1 s); the 10-s steps' consequences."""
    got_ds, ref_ds = runs[step].consequences(), runs[10.0].consequences()
    for level in (1, 2, 3):
        for suffix in ("", "_sheltered"):
            name = f"hours_to_aegl{level}{suffix}"
            got, ref = _hours(got_ds, name), _hours(ref_ds, name)
            assert np.isfinite(got[np.isfinite(ref)]).all(), (step, name, got * 60.0, ref * 60.0)
            both = np.isfinite(got) & np.isfinite(ref)
            assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (step, name, got * 60.0, ref * 60.0)
    return ref_ds


def test_the_speeds_within_a_step_take_the_records_within_it() -> None:
    from plumecast.near_field_plume import NearFieldSource

    src = NearFieldSource(group=0, lat=52.0, lon=5.0, height_m=1.0, pg_class="D", terrain="rural",
                          mixing_height_m=800.0, decay_rate_s=0.0, rate_at=lambda t: np.ones_like(t))

    class Wind:
        def __call__(self, lon: float, lat: float, t: float) -> tuple[float, float]:
            return (1.0 if t == 700.0 else 4.0), 0.0

        def records_within(self, t0: float, t1: float) -> list[float]:
            return [v for v in (600.0, 700.0, 800.0, 1200.0) if t0 < v < t1]

    assert src.step_speeds(Wind(), 600.0, 1200.0) == [4.0, 1.0, 4.0, 4.0]
    assert src.step_speeds(Wind().__call__, 600.0, 1200.0) == [4.0, 4.0]  # a plain function: the ends only


def _boundary_layer(times_s: np.ndarray, classes: list[str]) -> Any:
    """A met boundary layer ``(lon, lat, t_s) -> (mixing height, 1/L)``: 800 m, and at each record the 1/L of its
    class (Golder, rural roughness), linear in time between records (as the met's fields)."""
    from plumecast.nearfield.stability import inverse_obukhov_golder

    inv_l = np.array([inverse_obukhov_golder(c, 0.1) for c in classes])

    def at(lon: Any, lat: Any, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        n = np.atleast_1d(np.asarray(lon)).size
        return np.full(n, 800.0), np.full(n, float(np.interp(t_s, times_s, inv_l)))

    return at


RECORDS = np.arange(0.0, 3601.0, 100.0)
CLASS_CHANGES = {
    # D until 900 s, F from 1000 s: within the 600-s step 600-1200 s, whose middle is D (AEGL-3 2 km out had read
    # 20 min with 600-s steps, 16.0 with 10-s steps)
    "D to F": ["F" if t >= 1000.0 else "D" for t in RECORDS],
    # F to D: D's wider sigma_x brings the front sooner (AEGL-1 and -2 3 km out 15.8 min, 15.5 with 10-s steps)
    "F to D": ["D" if t >= 1000.0 else "F" for t in RECORDS],
    # F at one record only, 100 s into a step (AEGL-3 2 km out never with 600- and 300-s steps, 11.1 min)
    "F at 700 s": ["F" if t == 700.0 else "D" for t in RECORDS],
}
CLASSED = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 3.0, "cls": "D", "km": (0.5, 1.0, 2.0, 3.0, 5.0),
           "hours": 1.0}


@pytest.fixture(scope="module", params=list(CLASS_CHANGES))
def classed_runs(request: Any) -> dict[float, Any]:
    # the near field's class from the met's boundary layer (near_field.stability auto), put in the place of the
    # met's: the runs' winds (3 m/s) have records at the same times
    import plumecast.run_winds as run_winds

    wind = _records_wind(RECORDS, np.full(RECORDS.size, 3.0))
    bl = _boundary_layer(RECORDS, CLASS_CHANGES[request.param])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run_winds.RunWinds, "boundary_at", lambda self: bl)
        return {step: run(scenario_from_dict(_data(step, **CLASSED)), wind=wind) for step in (600.0, 300.0, 10.0)}


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_a_class_changing_within_a_step_does_not_make_the_countdown_late(classed_runs: dict[float, Any],
                                                                         step: float) -> None:
    ref_ds = _no_later_than_10_s(classed_runs, step)
    assert np.isfinite(_hours(ref_ds, "hours_to_aegl2")[3])  # the levels are reached 3 km out
