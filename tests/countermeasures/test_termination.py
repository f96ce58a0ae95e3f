"""Source termination and emission cuts: tag weights and direct reruns."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.countermeasures import Termination, combined_tag_weights
from plumecast.errors import ScenarioError

# two release groups, each tagged [0, 6), [6, 12), [12, 72) h
START = np.array([0.0, 6.0, 12.0, 0.0, 6.0, 12.0])
END = np.array([6.0, 12.0, 72.0, 6.0, 12.0, 72.0])
GROUP = np.array([0, 0, 0, 1, 1, 1])
NAMES = ["stack", "fleet"]


def test_full_termination_of_all_releases() -> None:
    w = Termination(12.0).tag_weights(START, END, GROUP, NAMES)
    assert w.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]


def test_cut_of_one_release_by_name_and_by_index() -> None:
    by_name = Termination(6.0, fraction=0.25, releases=("fleet",)).tag_weights(START, END, GROUP, NAMES)
    assert by_name.tolist() == [1.0, 1.0, 1.0, 1.0, 0.75, 0.75]
    by_index = Termination(6.0, fraction=0.25, releases=(1,)).tag_weights(START, END, GROUP, NAMES)
    np.testing.assert_array_equal(by_name, by_index)


def test_cuts_compose_multiplicatively() -> None:
    cuts = [Termination(6.0, fraction=0.5), Termination(12.0, releases=("stack",))]
    w = combined_tag_weights(cuts, START, END, GROUP, NAMES)
    assert w.tolist() == [1.0, 0.5, 0.0, 1.0, 0.5, 0.5]
    assert combined_tag_weights([], START, END, GROUP, NAMES).tolist() == [1.0] * 6


def test_termination_before_start_and_after_the_last_tag() -> None:
    assert Termination(0.0).tag_weights(START, END, GROUP, NAMES).tolist() == [0.0] * 6
    assert Termination(100.0).tag_weights(START, END, GROUP, NAMES).tolist() == [1.0] * 6


def test_time_inside_a_tag_and_unknown_release_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"falls inside emission tag .*exposure_tags_h"):
        Termination(9.0).tag_weights(START, END, GROUP, NAMES)
    # inside a tag of a release that is not cut: fine
    inside_other = np.array([0.0, 9.0, 0.0, 6.0]), np.array([9.0, 72.0, 6.0, 72.0]), np.array([0, 0, 1, 1])
    w = Termination(6.0, releases=("fleet",)).tag_weights(*inside_other, NAMES)
    assert w.tolist() == [1.0, 1.0, 1.0, 0.0]
    with pytest.raises(ScenarioError, match="no release named 'trucks'"):
        Termination(6.0, releases=("trucks",)).tag_weights(START, END, GROUP, NAMES)
    with pytest.raises(ScenarioError, match="out of range"):
        Termination(6.0, releases=(5,)).tag_weights(START, END, GROUP, NAMES)
    with pytest.raises(ScenarioError, match="fraction"):
        Termination(6.0, fraction=0.0)


def _scenario() -> object:
    from plumecast.scenario import scenario_from_dict

    return scenario_from_dict({
        "start": "2026-07-01T00:00:00",
        "duration_h": 24,
        "time_step_s": 600,
        "particles": 1000,
        "met": {"source": "uniform", "u_m_s": 5.0},
        "releases": [
            {"type": "point", "name": "stack", "lat": 10, "lon": 20, "rate_kg_s": 2.0,
             "profile": [[0, 0.2], [10, 1.0], [20, 0.5]]},
            {"type": "point", "name": "vent", "lat": 11, "lon": 21, "rate_kg_s": 1.0, "start_h": 3, "stop_h": 18},
        ],
    })


@pytest.mark.parametrize("cut", [Termination(7.0), Termination(7.0, fraction=0.4),
                                 Termination(7.0, fraction=0.4, releases=("vent",)), Termination(2.0, releases=(1,))])
def test_direct_rerun_emits_what_the_tag_weights_say(cut: Termination) -> None:
    from plumecast.release import emitted_per_step, source_groups

    sc = _scenario()
    rerun = cut.apply_to_scenario(sc)
    assert sc.releases[0].stop_h is None  # the original is unchanged
    dt, n = sc.time_step_s, sc.n_steps
    before = emitted_per_step(source_groups(sc), dt, n)
    after = emitted_per_step(source_groups(rerun), dt, n)
    # one tag per step and group: the cut by linearity
    step_start_h = np.arange(n) * dt / 3600.0
    starts = np.concatenate([step_start_h, step_start_h])
    ends = starts + dt / 3600.0
    groups = np.repeat([0, 1], n)
    w = cut.tag_weights(starts, ends, groups, ["stack", "vent"]).reshape(2, n).T
    np.testing.assert_allclose(after, before * w, rtol=1e-12, atol=0)
    assert not np.array_equal(after, before)
