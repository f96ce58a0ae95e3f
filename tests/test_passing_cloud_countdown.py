"""A cloud that passes a place within a step or two reaches a level its steps' means do not: the
countdown must still come no later than the air's (audit 39: an ammonia tank's 10 min at 306 ppm read
159 and 181 ppm in 600-s means, below AEGL-2's 220 ppm; Suburb C's AEGL-2 came 4.5 min late at 600-s
steps and never at 900 s)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict


def _scenario(step_s: float) -> object:
    return scenario_from_dict({
        "name": "tank", "start": "2026-06-05T22:00:00Z", "duration_h": 2, "time_step_s": step_s,
        "particles": 2000, "seed": 11, "agent": "ammonia", "met": {"source": "uniform", "u_m_s": 2.0, "v_m_s": 0.0},
        "turbulence": {"kh_m2_s": 500, "kz_m2_s": 10, "mixing_height_m": 300},
        "releases": [{"type": "point", "name": "tank", "lat": 52.10, "lon": 5.00, "height_m": 1,
                      "tank": {"volume_m3": 50, "fill_fraction": 0.8, "temperature_c": 20, "hole_diameter_m": 0.05,
                               "hole_height_m": 0.3, "liquid_heat_capacity_j_kg_k": 4700}}],
        "local_weather": {"wind_speed_m_s": 2, "wind_from_deg": 270, "stability": "F", "terrain": "rural"},
        "receptors": {"points": [
            {"name": "Suburb C 10km", "lat": 52.105, "lon": 5.147, "population": 30000, "radius_km": 2},
            {"name": "axis 8.2km", "lat": 52.10, "lon": 5.12, "population": 100}]}})


@pytest.fixture(scope="module")
def reference():
    return run(_scenario(10.0)).consequences()


@pytest.mark.parametrize("step_s", [60.0, 300.0, 600.0, 900.0])
def test_a_passing_cloud_is_counted_down_no_later_than_its_air(reference, step_s):
    got = run(_scenario(step_s)).consequences()
    for level in (1, 2):
        ref = np.asarray(reference[f"hours_to_aegl{level}"].values, float)
        now = np.asarray(got[f"hours_to_aegl{level}"].values, float)
        assert np.isfinite(ref).all()
        assert np.isfinite(now).all(), (step_s, level, now)  # reached at every step
        assert (now <= ref + 1e-9).all(), (step_s, level, now * 60, ref * 60)


@pytest.mark.parametrize("step_s", [600.0, 900.0])
def test_compare_counts_a_passing_cloud_down_as_run_does(reference, step_s):
    # compare's plans read their arrivals through plans.evaluate: the baseline and a plan without shelter or
    # evacuation take the near-field plume's peak within the step too, never later than the air's
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plan

    sc = _scenario(step_s)
    result = run(sc)
    names = [r.name for r in sc.releases]
    out = evaluate_plan(result.exposure, sc.resolved_agent(), PlanConfig(name="do nothing"), names)
    ref = np.asarray(reference["hours_to_aegl2"].values, float) * 3600.0
    assert np.isfinite(out.arrival2_s).all() and (out.arrival2_s <= ref + 1e-6).all(), (out.arrival2_s, ref)
    assert (out.exceed2 == 1.0).all()
    # the same times as run's table
    np.testing.assert_allclose(out.arrival2_s, np.asarray(result.consequences()["hours_to_aegl2"].values) * 3600.0,
                               rtol=0, atol=1e-6)


def test_a_checkpoint_without_the_plume_peaks_is_refused(tmp_path):
    # written before the peaks were kept, it had resumed silently with the countdowns of the steps before the
    # resume read from the means: AEGL-2 at 5 km never instead of 20 min (review, session 39)
    from plumecast.errors import DataFileError
    from tests.test_checkpoint import _stop_at_first_checkpoint

    sc = _scenario(600.0)
    state = _stop_at_first_checkpoint(sc, tmp_path, 1.0)
    whole = run(sc).consequences()
    resumed = run(sc, resume_from=state).consequences()
    np.testing.assert_array_equal(resumed["hours_to_aegl2"].values, whole["hours_to_aegl2"].values)
    for key in ("peak_extra", "part_peak"):
        state.exposure.pop(key)
    with pytest.raises(DataFileError, match="near-field plumes' peaks within the steps"):
        run(sc, resume_from=state)


def test_a_passing_cloud_near_a_level_is_counted_down_early_never_late():
    # the within-step peak is read against the AEGL for the duration elapsed at the step's end, the lowest level
    # the step can meet (the start's had read a town 23 km from 140 t of chlorine AEGL-2 "never" at 600-s steps
    # against 36 min at 10 s, session 46). The price: 10 min of 60 kg/s of ammonia at 81 % of its 10-min AEGL-3
    # reads "AEGL-3 in 10 min" at 600-s steps at 1.25 km and in 15 min at 900-s steps at 1.25 and 1.5 km, where
    # the same run at 10-s steps never reaches it (review, session 39): early, not late, and never before the
    # step in which the cloud's air itself arrives
    from plumecast.consequence_metrics import onset_floor
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plan

    dists = np.array([1.0, 1.25, 1.5])

    def scen(step_s: float):  # type: ignore[no-untyped-def]
        return scenario_from_dict({
            "name": "short", "start": "2026-06-05T22:00:00Z", "duration_h": 1, "time_step_s": step_s,
            "particles": 2000, "seed": 11, "agent": "ammonia", "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
            "releases": [{"type": "point", "name": "leak", "lat": 52.10, "lon": 5.00, "height_m": 1, "rate_kg_s": 60.0,
                          "stop_h": 0.1667}],
            "local_weather": {"wind_speed_m_s": 3, "wind_from_deg": 270, "stability": "D", "terrain": "rural"},
            "receptors": {"points": [{"name": f"x{d:g}km", "lat": 52.10, "population": 1000,
                                      "lon": float(5.0 + d / (111.32 * np.cos(np.radians(52.1))))} for d in dists]}})

    sc10 = scen(10.0)
    fine_run = run(sc10)
    fine = fine_run.consequences()
    above = fine_run.exposure.total() >= onset_floor(sc10.resolved_agent())
    assert above.any(axis=0).all()
    onset_s = np.argmax(above, axis=0) * 10.0  # the start of the first 10-s step of the air at the onset floor
    for level in (2, 3):
        ref = np.asarray(fine[f"hours_to_aegl{level}"].values, float) * 3600.0
        if level == 3:
            assert np.isfinite(ref).tolist() == [True, False, False]
        for step_s in (600.0, 900.0):
            sc = scen(step_s)
            result = run(sc)
            got = np.asarray(result.consequences()[f"hours_to_aegl{level}"].values, float) * 3600.0
            out = evaluate_plan(result.exposure, sc.resolved_agent(), PlanConfig(name="do nothing"), ["leak"])
            plan = np.asarray(getattr(out, f"arrival{level}_s"), float)
            np.testing.assert_allclose(plan, got, rtol=0, atol=1e-6, equal_nan=True)  # compare as run
            reached = np.isfinite(ref)
            assert np.isfinite(got[reached]).all(), (step_s, level, got, ref)
            assert (got[reached] <= ref[reached] + 1.0).all(), (step_s, level, got, ref)  # never late
            # where the 10-s run never reaches the level: early, but not before the step the air arrives in
            early = np.isfinite(got) & ~reached
            assert (got[early] >= np.floor(onset_s[early] / step_s) * step_s).all(), (step_s, level, got, onset_s)


@pytest.mark.parametrize("step_s", [600.0, 900.0])
def test_a_plan_that_moves_people_late_counts_the_passing_cloud_down_as_the_baseline(step_s):
    # a shelter order or an evacuation after the cloud has passed leaves people outdoors while it passes: their
    # countdown must be the baseline's, not the step means' (cohorts had read the means: session 39's left item)
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plans

    sc = _scenario(step_s)
    result = run(sc)
    names = [r.name for r in sc.releases]
    # at 1.9 h, and at 69 min: within the 600-s step in which the cloud passes (the step's mix had read never
    # against 64 min at 10-s steps; review of session 40)
    late = [PlanConfig(name="nothing")] + [PlanConfig.model_validate(p) for h in (1.9, 69 / 60) for p in (
        {"name": f"shelter at {h:g} h", "measures": [{"type": "shelter", "start_h": h, "compliance": 1.0}]},
        {"name": f"leave at {h:g} h", "measures": [{"type": "evacuation", "order_h": h, "clearance_h": 0.05,
                                                     "compliance": 1.0}]})]
    base, *moved = evaluate_plans(result.exposure, sc.resolved_agent(), [(p, None) for p in late], names)
    assert np.isfinite(base.arrival2_s).all()
    for plan in moved:
        np.testing.assert_array_equal(plan.arrival2_s, base.arrival2_s)
        np.testing.assert_array_equal(plan.arrival3_s, base.arrival3_s)
    # sheltered from the start, people breathe the buildings' smoothed air: no passing peak is added to it, and
    # the indoor series never reaches a level sooner than the outdoor one
    early = PlanConfig.model_validate({"name": "shelter now", "measures": [{"type": "shelter", "start_h": 0.0}]})
    (inside,) = evaluate_plans(result.exposure, sc.resolved_agent(), [(early, None)], names)
    reached = np.isfinite(inside.arrival2_s)
    assert (inside.arrival2_s[reached] >= base.arrival2_s[reached]).all()


@pytest.mark.parametrize("step_s", [600.0, 900.0])
def test_run_counts_the_passing_cloud_down_for_those_who_shelter_after_it(step_s):
    # run's sheltered arrivals: people who go inside after the cloud has passed breathed it outdoors, at the
    # same time as everyone else (they had kept the step means' later or missing time)
    base = _scenario(step_s).model_dump(mode="json", exclude_none=True)
    for start_h in (1.9, 69 / 60):  # 69 min: within the step the cloud passes in (review of session 40)
        late = run(scenario_from_dict({**base, "shelter": {"start_h": start_h}})).consequences()
        for level in (2, 3):
            out = np.asarray(late[f"hours_to_aegl{level}"].values, float)
            np.testing.assert_array_equal(np.asarray(late[f"hours_to_aegl{level}_sheltered"].values, float), out)
        assert np.isfinite(np.asarray(late["hours_to_aegl2"].values, float)).all()
    # sheltered from the start, the buildings' air is not given the outdoor peak
    now = run(scenario_from_dict({**base, "shelter": {"start_h": 0.0}})).consequences()
    inside = np.asarray(now["hours_to_aegl2_sheltered"].values, float)
    outside = np.asarray(now["hours_to_aegl2"].values, float)
    assert not (inside[np.isfinite(inside)] < outside[np.isfinite(inside)]).any()
