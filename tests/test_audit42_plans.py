"""The comparison as an emergency planner reads it (audit 42c): the ranking's tally under each probit set,
float noise read as lives lost, booleans taken for numbers, and front delays after the forecast's end."""

from __future__ import annotations

from plumecast.ensemble.summary import ranking_text, summarise
from plumecast.plans.config import BASELINE_NAME
from tests.plans.test_plans import _two_set_raw


def test_each_probit_sets_tally_reads_as_the_firsts() -> None:
    # ", 0 of 3 under 'lees'" after "the same deaths in all 3 members" read as "the same in 0 of 3": the two
    # plans were identical under both sets (audit 42c, D2)
    same = {BASELINE_NAME: ([100, 101, 102], [200, 201, 202]), "A": ([10, 11, 12], [30, 31, 32]),
            "B": ([10, 11, 12], [30, 31, 32])}
    text = ranking_text(summarise(_two_set_raw(3, same), ["a"]))
    assert text is not None and "has the same deaths in all 3 members under both sets" in text, text
    assert "0 of 3" not in text
    # A ahead under the first set, the same under the second (a difference below TIE_DEATHS)
    tied = {BASELINE_NAME: ([100, 101, 102], [200, 201, 202]), "A": ([10, 11, 12], [30, 31, 32]),
            "B": ([15, 16, 17], [30.0002, 31.0002, 32.0002])}
    text = ranking_text(summarise(_two_set_raw(3, tied), ["a"]))
    assert text is not None
    assert "fewer deaths in 3 of 3 members under 'purple_book'; the same in all 3 under 'lees'" in text, text
    # a mixed tally keeps its ties under the later set too
    mixed = {BASELINE_NAME: ([100, 101, 102], [200, 201, 202]), "A": ([10, 11, 12], [30, 31, 32]),
             "B": ([15, 16, 17], [30, 31, 40])}
    text = ranking_text(summarise(_two_set_raw(3, mixed), ["a"]))
    assert text is not None
    assert "fewer deaths in 3 of 3 members under 'purple_book'; fewer in 1 of 3, the same in 2 under 'lees'" in text


def test_an_evacuation_after_the_cloud_costs_nobody_exactly() -> None:
    # eight departure groups of compliance/8 each, all leaving after the cloud had passed, summed to doing
    # nothing's toll less 1.4e-14: "costs < 1" (audit 42c, D3); they breathe what doing nothing breathes, so the
    # toll is doing nothing's to the last bit
    from tests.plans.test_plans import _cloud, _deaths

    for compliance in (1.0, 0.9, 0.8, 0.7, 0.3):
        for ppm in (120.0, 150.0, 230.0):
            exp = _cloud(144, ppm=ppm)
            base, late = _deaths(exp, [], [{"type": "evacuation", "order_h": 3.5, "clearance_h": 0.5,
                                            "compliance": compliance}])
            assert 0 < base < 1e6 and base - late == 0.0, (compliance, ppm, base - late)


def test_the_cohorts_weighted_fraction_is_exact_when_they_breathe_the_same() -> None:
    import numpy as np

    from plumecast.plans.evaluate import _weighted_fraction

    w = np.array([[0.9 / 8]] * 8 + [[1 - 0.9]])  # compliance 0.9: eight groups leave, the rest stay
    lf = np.full((9, 1), 0.123456789)
    assert (w * lf).sum(axis=0).tolist() != [0.123456789]  # the plain weighted sum has the noise
    assert _weighted_fraction(w, lf).tolist() == [0.123456789]
    # cohorts that differ: the weighted sum; a receptor no cohort covers: 0
    w2 = np.array([[0.25, 0.0], [0.75, 0.0]])
    lf2 = np.array([[0.2, 0.5], [0.6, 0.5]])
    assert np.allclose(_weighted_fraction(w2, lf2), [0.25 * 0.2 + 0.75 * 0.6, 0.0])


def test_a_boolean_is_no_number_in_a_plan_or_the_ensemble(tmp_path) -> None:
    # at_h: true ran as a cut at 1 h without a word; every number of a plan file, a list's items included, is
    # refused as at_h: null is, naming the file, line, key and what is expected (audit 42c, D4)
    import pytest

    from plumecast.errors import ScenarioError
    from plumecast.scenario import load_scenario
    from tests.test_scenario import GOOD, write

    def refused(text: str, name: str) -> str:
        with pytest.raises(ScenarioError) as err:
            load_scenario(write(tmp_path, text, name))
        return str(err.value)

    hours = "expected a number of hours after the scenario's start (e.g. 0.5)"
    plan = "plans:\n  - name: p\n    measures:\n      - {type: %s}\n"
    for i, (measure, key) in enumerate([
            ("termination, at_h: true", "plans.0.measures.0.at_h: true is not a number; " + hours),
            ("termination, at_h: no", "plans.0.measures.0.at_h: false is not a number; " + hours),
            ("termination, at_h: 1, fraction: true", "plans.0.measures.0.fraction: true is not a number; expected a number"),
            ("shelter, start_h: on", "plans.0.measures.0.start_h: true is not a number; " + hours),
            ("shelter, start_h: 0, compliance: true", "plans.0.measures.0.compliance: true is not a number"),
            ("shelter, start_h: 0, air_changes_per_hour: true", "air_changes_per_hour: true is not a number"),
            ("evacuation, order_h: 0, clearance_h: true", "plans.0.measures.0.clearance_h: true is not a number"),
            ("evacuation, order_h: 0, cohorts: true", "plans.0.measures.0.cohorts: true is not a number"),
            ("front, ignition_h: true, points: [[35.7, 139.7]], speed_m_s: 300",
             "plans.0.measures.0.ignition_h: true is not a number; " + hours),
            ("front, ignition_h: 1, points: [[35.7, true]], speed_m_s: 300",
             "plans.0.measures.0.points.0.1: true is not a number"),
            ("shelter, start_h: 0, region: [true, 30, 140, 40]", "plans.0.measures.0.region.0: true is not a number"),
    ]):
        text = GOOD + plan % measure
        msg = refused(text, f"m{i}.yaml")
        line = text.splitlines().index(f"      - {{type: {measure}}}") + 1
        assert f"m{i}.yaml, line {line}: " in msg and key in msg, msg
    delays = GOOD + plan % "front, ignition_h: 1, points: [[35.7, 139.7]], speed_m_s: 300" + \
        "    ignition_delays_h: [2, true]\n"
    assert "plans.0.ignition_delays_h.1: true is not a number; " + hours in refused(delays, "d.yaml")
    # the scenario's ensemble takes the same base: members: true had run one member
    ens = GOOD + "ensemble:\n  members: true\n"
    assert "ensemble.members: true is not a number" in refused(ens, "e.yaml")
    # whole numbers stay numbers where hours are expected
    assert load_scenario(write(tmp_path, GOOD + plan % "termination, at_h: 1", "ok.yaml")).plans[0].measures[0].at_h == 1


def test_a_front_plans_own_ignition_is_a_point_of_its_curve_and_late_delays_are_said() -> None:
    # the cost-of-delay curve of a front plan had its delays alone, not the plan's own ignition (a termination
    # plan's own cut time is one of its delays), and a delay after the run's end, which lights nothing, passed
    # without a word (audit 42c, D5)
    from plumecast.ensemble.compare import make_setup, member_task
    from plumecast.ensemble.members import MemberSpec
    from plumecast.ensemble.plan_checks import plan_notes
    from tests.ensemble.test_ensemble import _scenario

    lit = {"type": "front", "ignition_h": 1.0, "points": [[0.0, 0.0]], "speed_m_s": 20.0, "threshold_kg_m3": 1e-9}
    sc = _scenario(duration_h=3, time_step_s=600, particles=2000, seed=5,
                   plans=[{"name": "burn", "measures": [lit], "ignition_delays_h": [2.0, 5.0]},
                          {"name": "burn again", "measures": [lit], "ignition_delays_h": [1.0, 2.0]}])
    r = member_task(make_setup(sc), MemberSpec(0, sc.seed))
    own = r.outcomes["burn"].total_fatalities
    assert sorted(r.delay_ignition["burn"]) == [1.0, 2.0, 5.0]
    assert r.delay_ignition["burn"][1.0] == own and r.delay_ignition["burn again"][1.0] == own
    assert r.delay_ignition_span["burn"][1.0] == r.outcomes["burn"].total_span
    assert r.delay_ignition["burn"][2.0] == r.delay_ignition["burn again"][2.0] > own  # lit later: worse
    # the own time given as a delay is no rerun: two fronts, three reruns (2, 5 and 2 h), baseline
    assert r.runs == 1 + 2 + 3
    notes = [n for n in plan_notes(sc) if "ignition_delays_h" in n]
    assert notes == ["plan 'burn': ignition_delays_h 5 h, at or after the end of the run (3 h): the front is not lit "
                     "within the run, so the cost-of-delay curve reads the plan without its front there"]
