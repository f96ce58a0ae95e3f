"""The building's air where the wind has changed, per receptor (session 49; after test_countdown_weather_within_step).

Since session 48 the building was fed the step's peak held over the step, not the step's dose, in every step from
the first in which the weather carrying ANY point release's plume had changed since its release began, and at every
receptor: one flag per step for the whole run. A place reached only by another release's air (one released after the
wind had settled, steady since) then read levels indoors that the same run at 10-s steps never reaches. The flag is
now per receptor (and part of a disc) and step: where such a release's plume can have air above its particles'
(plumecast.shelter_lag). The 5-km case of session 48 (AEGL-1 indoors at 13.1 min with 600-s steps, 29.8 with 10-s
steps) is unchanged: that place is reached by the changed plume, and no tighter bound than the step's peak held over
the step was found sound (docs/exposure.md, session 49).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.test_countdown_audit44 import (
    KM_PER_DEG_LON_AT_52,
    ONE_SECOND_H,
    _data,
    _hours,
    _slowing_wind,
)
from tests.test_countdown_weather_within_step import shelters_no_later_than_10_s

#: release "src": 3 t of chlorine over 600 s from the start, the wind slowing from 4 to 1 m/s 15-20 min after it,
#: a place 5 km downwind; release "later": the same 20 km north and 1.5 km west, from 30 min (a steady 1 m/s since
#: its release began), places 1, 2 and 4 km downwind of it that "src"'s plume never reaches
SLOWING = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 4.0, "cls": "D", "km": (5.0,), "hours": 2.0}
LATER_KM = (1.0, 2.0, 4.0)
LATER_COLS = [1, 2, 3]


def _two_releases(step: float) -> Any:
    d = _data(step, **SLOWING)
    d["releases"].append(dict(d["releases"][0], name="later", lat=52.18, lon=4.9, start_h=0.5))
    d["receptors"]["points"] += [{"name": f"later{k:g}", "lat": 52.18, "lon": 4.9 + k / KM_PER_DEG_LON_AT_52,
                                  "population": 1000} for k in LATER_KM]
    return scenario_from_dict(d)


@pytest.fixture(scope="module")
def two_runs() -> dict[float, Any]:
    wind = _slowing_wind(4.0, 1.0, 900.0, 2.0)
    return {step: (sc := _two_releases(step), run(sc, wind=wind)) for step in (600.0, 300.0, 10.0)}


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_a_place_only_a_steady_release_reaches_keeps_the_dose_bound_indoors(two_runs: dict[float, Any],
                                                                            step: float) -> None:
    got_ds, ref_ds = two_runs[step][1].consequences(), two_runs[10.0][1].consequences()
    for level in (1, 2, 3):
        name = f"hours_to_aegl{level}_sheltered"
        got, ref = _hours(got_ds, name), _hours(ref_ds, name)
        assert np.isfinite(got[np.isfinite(ref)]).all(), (step, name, got * 60.0, ref * 60.0)
        both = np.isfinite(got) & np.isfinite(ref)
        assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (step, name, got * 60.0, ref * 60.0)
        # the later release's places read no level indoors that 10-s steps never reach: AEGL-2 4 km from it had read
        # 100 and 110 min with 600- and 300-s steps, AEGL-3 1 km from it 60 min with 600-s steps (never at 10 s)
        assert not (np.isfinite(got) & ~np.isfinite(ref))[LATER_COLS].any(), (step, name, got * 60.0, ref * 60.0)
    assert np.isfinite(_hours(got_ds, "hours_to_aegl2")[3])  # outdoors AEGL-2 is reached 4 km from it
    # the flags: never at the later release's places, at the place the changed plume reaches
    for s in (step, 10.0):
        marked = np.asarray(two_runs[s][1].exposure.wind_changed)
        assert marked.shape[1] == 4 and not marked[:, LATER_COLS].any() and marked[:, 0].any()


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_compare_s_shelters_keep_the_dose_bound_where_no_changed_plume_is(two_runs: dict[float, Any],
                                                                          step: float) -> None:
    coarse_all, ref_all = shelters_no_later_than_10_s(two_runs, step, ["src", "later"])
    for coarse, ref in zip(coarse_all, ref_all, strict=True):
        # sheltering from the start, AEGL-2 4 km from the later release had read 100 and 110 min with 600- and
        # 300-s steps, AEGL-3 1 km from it 60 min with 600-s steps: never at 10-s steps
        if coarse.plan == "shelter":
            for level in (2, 3):
                now, then = getattr(coarse, f"arrival{level}_s"), getattr(ref, f"arrival{level}_s")
                assert not (np.isfinite(now) & ~np.isfinite(then))[LATER_COLS].any(), (level, now / 60.0, then)

def test_the_met_s_rounding_is_no_change_of_wind() -> None:
    from plumecast.near_field_track import changed_wind_steps

    # a steady 1 m/s from the west as a time-interpolated float32 met gives it, step to step
    winds = np.tile([1.0, -1.1769785e-09], (1, 8, 1))
    winds[0, 3:, 1] = -1.17697849e-09
    speeds = np.full((1, 8, 2), 1.0)
    speeds[0, 5] = (1.0, 1.0 + 1e-9)
    assert not changed_wind_steps(winds, speeds, [0.0], 60.0).any()  # it had marked every step from the fourth
    slowed = speeds.copy()
    slowed[0, 5] = (0.999, 1.0)  # a change of a thousandth is one
    np.testing.assert_array_equal(changed_wind_steps(winds, slowed, [0.0], 60.0), np.arange(8) >= 5)


def test_a_resumed_run_keeps_where_the_building_takes_the_peak(tmp_path: Any, two_runs: dict[float, Any]) -> None:
    from tests.test_checkpoint import _stop_at_first_checkpoint

    wind = _slowing_wind(4.0, 1.0, 900.0, 2.0)
    sc, whole = two_runs[600.0]
    state = _stop_at_first_checkpoint(sc, tmp_path, 1.0, wind=wind)
    assert "nf_lag" in state.exposure and "part_lag" in state.exposure
    again = run(sc, wind=wind, resume_from=state)
    np.testing.assert_array_equal(again.exposure.wind_changed, whole.exposure.wind_changed)
    # a checkpoint written before they were kept: the steps before the resume take session 48's rule (every place,
    # from the first step in which a plume's weather changed), those after it their own
    for name in ("nf_lag", "part_lag"):
        del state.exposure[name]
    old = run(sc, wind=wind, resume_from=state).exposure.wind_changed
    assert old is not None and whole.exposure.wind_changed is not None
    n = state.step
    any_changed = np.asarray(whole.exposure.wind_changed).any(axis=1)
    np.testing.assert_array_equal(old[:n], np.repeat(any_changed[:n, None], old.shape[1], axis=1))
    np.testing.assert_array_equal(old[n:], whole.exposure.wind_changed[n:])
    assert old[:n, LATER_COLS].any()


def test_a_city_s_parts_take_the_peak_where_a_changed_plume_crosses_them() -> None:
    import dataclasses

    from plumecast.city_parts import assess_exposure
    from plumecast.exposure_parts import by_part_kinds

    sc = _two_releases(600.0)
    data = sc.model_dump(mode="json")
    data["receptors"]["points"] += [
        {"name": "Town", "lat": 52.0, "lon": 5.0 + 4.0 / KM_PER_DEG_LON_AT_52, "population": 200_000, "radius_km": 2.0},
        {"name": "Later town", "lat": 52.18, "lon": 4.9 + 3.0 / KM_PER_DEG_LON_AT_52, "population": 50_000,
         "radius_km": 1.0}]
    sc = scenario_from_dict(data)
    e = run(sc, wind=_slowing_wind(4.0, 1.0, 900.0, 2.0)).exposure
    town, later_town = 4, 5
    assert e.part_receptors is not None and e.part_ptr is not None and e.part_wind_changed is not None
    assert {town, later_town} <= set(e.part_receptors.tolist())
    assert e.wind_changed is not None and e.wind_changed[:, town].any() and not e.wind_changed[:, later_town].any()
    slot = {int(r): k for k, r in enumerate(e.part_receptors)}
    own = slice(int(e.part_ptr[slot[town]]), int(e.part_ptr[slot[town] + 1]))
    later = slice(int(e.part_ptr[slot[later_town]]), int(e.part_ptr[slot[later_town] + 1]))
    assert e.part_wind_changed[:, own].any() and not e.part_wind_changed[:, later].any()
    expanded, parent, _, _ = by_part_kinds(e)
    flags = expanded.wind_changed
    assert flags is not None and flags.shape == (e.conc.shape[1], parent.size)
    assert flags[:, parent == town].any() and not flags[:, parent == later_town].any()
    # the later town's sheltered countdowns are those of the dose bound; every place's are no later than the
    # session-48 rule's (the peak held over every step from the first changed one, everywhere)
    agent = sc.resolved_agent()
    now = assess_exposure(e, agent)
    rule48 = assess_exposure(dataclasses.replace(e, wind_changed=np.repeat(e.wind_changed.any(axis=1)[:, None],
                                                                            e.wind_changed.shape[1], axis=1),
                                                 part_wind_changed=np.repeat(e.wind_changed.any(axis=1)[:, None],
                                                                             e.part_wind_changed.shape[1], axis=1)),
                             agent)
    dose = assess_exposure(dataclasses.replace(e, wind_changed=np.zeros_like(e.wind_changed),
                                               part_wind_changed=np.zeros_like(e.part_wind_changed)), agent)
    for level in (1, 2, 3):
        name = f"hours_to_aegl{level}_sheltered"
        a, b, c = _hours(now, name), _hours(rule48, name), _hours(dose, name)
        np.testing.assert_array_equal(a[[1, 2, 3, later_town]], c[[1, 2, 3, later_town]])
        assert (np.nan_to_num(a, nan=np.inf) >= np.nan_to_num(b, nan=np.inf)).all(), (level, a * 60.0, b * 60.0)
