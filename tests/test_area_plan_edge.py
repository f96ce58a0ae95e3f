"""A plan's cut of a city's emission makes its own passing cloud: the air the plan keeps, emitted before the cut,
passes the places near the city within a step at a level the baseline's peak scaled by the largest weight does not
bound (session 46: 10 min of Utrecht's emission cut at 5 min read AEGL-2 6.5 km out at 10.0 min with 300-s steps,
5.7 at 10-s steps; 20 min cut at 10 min, the 2-km disc 9 km out at 20.0 min with 600-s steps, 11.0 at 10 s). The
area plumes now keep the peak of their air emitted before each bin edge (plumecast.area_peak.edge_peaks)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.plans.config import PlanConfig
from plumecast.plans.evaluate import evaluate_plans
from plumecast.runner import run
from tests.test_area_peak_countdown import _scenario


def _arrivals(step_s: float, release_min: float, cut_min: float) -> tuple[object, object]:
    nothing = PlanConfig(name="nothing")
    stop = PlanConfig.model_validate({"name": "stop", "measures": [{"type": "termination", "at_h": cut_min / 60.0}]})
    sc = _scenario(step_s, release_min)
    x = run(sc, exposure_tags_h=[cut_min / 60.0]).exposure
    base, cut = evaluate_plans(x, sc.resolved_agent(), [(nothing, None), (stop, None)], ["fleet"])
    return base, cut


@pytest.mark.parametrize(("step_s", "release_min", "cut_min", "place"), [(300.0, 10.0, 5.0, 1), (600.0, 20.0, 10.0, 4)])
def test_a_plans_cut_of_a_city_release_is_counted_down_no_later_than_at_10_s_steps(step_s, release_min, cut_min,
                                                                                   place):
    base, cut = _arrivals(step_s, release_min, cut_min)
    fine_base, fine_cut = _arrivals(10.0, release_min, cut_min)
    for level in (2, 3):
        got, ref = getattr(cut, f"arrival{level}_s"), getattr(fine_cut, f"arrival{level}_s")
        assert np.isfinite(got[np.isfinite(ref)]).all(), (level, got / 60.0, ref / 60.0)
        both = np.isfinite(got) & np.isfinite(ref)
        assert (got[both] <= ref[both] + 1.0).all(), (level, got / 60.0, ref / 60.0)  # early, never late
        b = getattr(base, f"arrival{level}_s")  # and never before doing nothing
        assert not (np.isfinite(got) & ~np.isfinite(b)).any() and (got[np.isfinite(got)] >= b[np.isfinite(got)]
                                                                   - 1e-6).all(), (level, b / 60.0, got / 60.0)
    assert np.isfinite(fine_cut.arrival2_s[place])  # the measured place (6.5 km out; the disc 9 km out)


def test_the_edge_peaks_move_a_cuts_countdown_alone():
    # read by a plan that keeps the tags unequally alone: doing nothing's figures, and every plan's deaths, are
    # the same to the bit with them as without them (the loads are the steps' air)
    import dataclasses

    sc = _scenario(300.0, 10.0)
    tagged = run(sc, exposure_tags_h=[5.0 / 60.0]).exposure
    assert tagged.area_edge is not None and float(tagged.area_edge.max()) > 0.0
    np.testing.assert_array_equal(tagged.edge_extra, tagged.area_edge)  # no point release: the area plumes' alone
    bare = dataclasses.replace(tagged, edge_extra=None, area_edge=None, area_spot_edge=None, area_part_edge=None)
    nothing = PlanConfig(name="nothing")
    stop = PlanConfig.model_validate({"name": "stop", "measures": [{"type": "termination", "at_h": 5.0 / 60.0}]})
    agent = sc.resolved_agent()
    with_edge = evaluate_plans(tagged, agent, [(nothing, None), (stop, None)], ["fleet"])
    without = evaluate_plans(bare, agent, [(nothing, None), (stop, None)], ["fleet"])
    for name in ("arrival2_s", "arrival3_s", "fatalities"):
        np.testing.assert_array_equal(getattr(with_edge[0], name), getattr(without[0], name))
    np.testing.assert_array_equal(with_edge[1].fatalities, without[1].fatalities)
    assert with_edge[1].arrival2_s[1] < without[1].arrival2_s[1]  # 6.5 km out: 5.0 min, 10.0 without


def test_a_resumed_run_keeps_the_area_edge_peaks_and_an_older_checkpoint_is_refused(tmp_path):
    from plumecast.errors import DataFileError
    from plumecast.scenario import scenario_from_dict
    from tests.test_checkpoint import _stop_at_first_checkpoint

    sc = _scenario(600.0, 20.0)
    tags = [10.0 / 60.0]
    whole = run(sc, exposure_tags_h=tags).exposure
    state = _stop_at_first_checkpoint(sc, tmp_path, 0.5, exposure_tags_h=tags)
    assert (whole.area_edge > 0.0).any() and (whole.area_part_edge > 0.0).any()
    again = run(scenario_from_dict(state.scenario), resume_from=state, exposure_tags_h=tags).exposure
    for name in ("edge_extra", "area_edge", "area_spot_edge", "area_part_edge"):  # (the kernels' rounding after it)
        np.testing.assert_allclose(getattr(again, name), getattr(whole, name), rtol=1e-12, atol=0.0)
    del state.exposure["area_spot_edge"]  # written before the area plumes' edge peaks were kept
    with pytest.raises(DataFileError, match="area plumes' peaks of the air emitted before"):
        run(scenario_from_dict(state.scenario), resume_from=state, exposure_tags_h=tags)
