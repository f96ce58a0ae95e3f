"""A plan's own passing cloud is counted down no later than finer steps count it (session 46's left item).

A plan that cuts a release keeps the air emitted before the cut, which passes a place as a cloud's trailing edge
where the whole release's air is a plateau. ``compare`` had bounded the plan's air within a step by the baseline's
peak above its mean times the largest weight the plan keeps there: 5 kg/s of chlorine (2 m, class D, 3 m/s) cut
at 10 min of 20 read AEGL-2 7 km out "never" with 600-s steps, where the same plan at 10-s steps reaches it at
41.3 min. The near field now keeps the peak of the air emitted before each step's bin edge
(:attr:`plumecast.exposure.ReceptorExposure.edge_extra`), which a plan reads with the weight it keeps of that
air (:func:`plumecast.plans.evaluate._plan_extra`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from plumecast.plans.config import PlanConfig
from plumecast.plans.evaluate import evaluate_plans
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

KM = 111.32 * math.cos(math.radians(52.0))
PLACES_KM = (1.0, 3.0, 5.0, 7.0)


def _data(step_s: float, amount_kg: float, duration_s: float, speed: float, cls: str) -> dict[str, Any]:
    return {
        "name": "own", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 1.0,
        "time_step_s": step_s, "particles": 2000, "seed": 3,
        "met": {"source": "uniform", "u_m_s": speed, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 2.0,
                      "amount_kg": amount_kg, "duration_s": duration_s}],
        "local_weather": {"wind_speed_m_s": speed, "wind_from_deg": 270, "stability": cls, "terrain": "rural"},
        "receptors": {"points": [{"name": f"x{k:g}", "lat": 52.0, "lon": 5.0 + k / KM, "population": 1000}
                                 for k in PLACES_KM]},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 5.7, "lat_min": 51.8, "lat_max": 52.2,
                            "resolution_deg": 0.05}, "interval_min": 60},
    }


def _plans(cuts_h: tuple[float, ...]) -> list[PlanConfig]:
    plans = [PlanConfig(name="nothing")]
    for at in cuts_h:
        plans.append(PlanConfig.model_validate(
            {"name": f"stop{at * 60:g}", "measures": [{"type": "termination", "at_h": at}]}))
        plans.append(PlanConfig.model_validate(
            {"name": f"half{at * 60:g}", "measures": [{"type": "termination", "at_h": at, "fraction": 0.5}]}))
    return plans


#: (release, its cuts [h], the coarse steps [s]): 5 kg/s for 20 min cut at 10 min, class D at 3 m/s (the case
#: above), and 5 kg/s for 30 min cut at 5 or 10 min, class C at 4 m/s
CASES = {
    "D20": ({"amount_kg": 6000.0, "duration_s": 1200.0, "speed": 3.0, "cls": "D"}, (1.0 / 6.0,), (600.0, 300.0)),
    "C30": ({"amount_kg": 9000.0, "duration_s": 1800.0, "speed": 4.0, "cls": "C"}, (1.0 / 12.0, 1.0 / 6.0),
            (300.0,)),
}


_GOT: dict[str, dict[float, Any]] = {}


def _arrivals(name: str) -> dict[float, Any]:
    """Each case's plans' outcomes at its coarse steps and at 10-s steps, run once for the module's tests."""
    if name not in _GOT:
        release, cuts, coarse = CASES[name]
        plans = _plans(cuts)
        got = {}
        for step_s in (*coarse, 10.0):
            sc = scenario_from_dict(_data(step_s, **release))
            result = run(sc, exposure_tags_h=list(cuts))
            got[step_s] = evaluate_plans(result.exposure, sc.resolved_agent(), [(p, None) for p in plans], ["src"])
        _GOT[name] = got
    return _GOT[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_plans_countdown_is_no_later_than_at_10_s_steps(name: str) -> None:
    got = _arrivals(name)
    for step_s, outcomes in got.items():
        _no_later(outcomes, got[10.0], f"{name} {step_s:g}-s steps")


def _no_later(outcomes: list[Any], fine: list[Any], what: str) -> None:
    """Assert each plan's countdowns (AEGL-2 and 3) in ``outcomes`` finite where ``fine``'s are and no later (+1 s)."""
    for coarse, ref in zip(outcomes, fine, strict=True):
        for level in (2, 3):
            now, then = getattr(coarse, f"arrival{level}_s"), getattr(ref, f"arrival{level}_s")
            reached = np.isfinite(then)
            where = f"{what}, {coarse.plan}, AEGL-{level}: {now / 60} against {then / 60} min"
            assert np.isfinite(now[reached]).all(), where
            assert (now[reached] <= then[reached] + 1.0).all(), where


def test_the_stop_at_10_min_reaches_aegl2_7_km_out_at_coarse_steps() -> None:
    got = _arrivals("D20")
    fine = {o.plan: o for o in got[10.0]}
    assert 41.0 <= fine["stop10"].arrival2_s[-1] / 60.0 <= 41.5  # 41.3 min, as measured in session 46
    for step_s in (600.0, 300.0):
        plans = {o.plan: o for o in got[step_s]}
        cut = plans["stop10"]
        assert cut.arrival2_s[-1] <= fine["stop10"].arrival2_s[-1] + 1.0, (step_s, cut.arrival2_s / 60)
        # and never before doing nothing: the plan's air is the baseline's or less
        assert (np.nan_to_num(cut.arrival2_s, nan=np.inf) >= plans["nothing"].arrival2_s - 1e-6).all()


def test_a_resumed_run_keeps_the_edge_peaks_and_an_older_checkpoint_is_refused(tmp_path: Any) -> None:
    from plumecast.errors import DataFileError
    from tests.test_checkpoint import _stop_at_first_checkpoint

    data = _data(600.0, 6000.0, 1200.0, 3.0, "D")
    data["output"]["interval_min"] = 30  # a checkpoint is due after an output
    sc = scenario_from_dict(data)
    tags = [1.0 / 6.0]
    whole = run(sc, exposure_tags_h=tags)
    assert whole.exposure.edge_extra is not None and (whole.exposure.edge_extra > 0.0).any()
    state = _stop_at_first_checkpoint(sc, tmp_path, 0.5, exposure_tags_h=tags)
    assert (np.asarray(state.exposure["edge_extra"]) > 0.0).any()  # the steps before the resume have some
    again = run(scenario_from_dict(state.scenario), resume_from=state, exposure_tags_h=tags)
    np.testing.assert_array_equal(again.exposure.edge_extra, whole.exposure.edge_extra)
    np.testing.assert_array_equal(again.exposure.part_edge, whole.exposure.part_edge)
    # a checkpoint written before the edge peaks were kept: their steps would read a plan's cut late
    del state.exposure["edge_extra"]
    with pytest.raises(DataFileError, match="before each emission-tag edge.*rerun from the start"):
        run(scenario_from_dict(state.scenario), resume_from=state, exposure_tags_h=tags)


def test_a_held_dense_cut_keeps_its_edge_peaks_below_the_whole_release() -> None:
    """``compare`` holds a dense cut's rerun below the baseline's peak within each step (ensemble.dense_cuts); the
    air emitted before a bin edge adds to its peak, and is held below the same with the baseline's own."""
    from dataclasses import replace

    from plumecast.ensemble.dense_cuts import HeldToWhole

    sc = scenario_from_dict(_data(600.0, 6000.0, 1200.0, 3.0, "D"))
    base = run(sc, exposure_tags_h=[1.0 / 6.0]).exposure
    assert base.peak_extra is not None and base.edge_extra is not None
    some = base.total() > 0.0
    rerun = replace(base, edge_extra=base.edge_extra + 1e-3 * some)  # a rerun's cloud far above the baseline's
    held, _ = HeldToWhole(base, [0]).hold(rerun, np.ones(base.n_tags))
    assert held.peak_extra is not None and held.edge_extra is not None
    top = base.total() + base.peak_extra + base.edge_extra
    assert (held.total() + held.peak_extra + held.edge_extra <= top * (1.0 + 1e-12)).all()
    kept, _ = HeldToWhole(base, [0]).hold(base, np.ones(base.n_tags))  # the baseline's own: as it is
    assert (base.edge_extra > 0.0).any()
    np.testing.assert_allclose(kept.edge_extra, base.edge_extra, rtol=1e-12, atol=0.0)


def test_a_cut_in_a_slowing_wind_reads_its_edge_with_the_steps_other_winds(monkeypatch: Any) -> None:
    """The edge peak takes the weathers within the step as the step's peak does (a wind slowing within a step: the
    late air is thicker, ``NearFieldSource._changed_wind_peak``); the stop at 10 min of 20 in a wind slowing from 3
    to 1 m/s over 15-20 min: no plan's countdown at 600-s steps later than at 10-s steps (measured, session
    48: the stop's AEGL-2 1, 3 and 5 km out at 5.0, 10.7, 20.0 min with 600-s steps, 5.0, 15.7, 31.8 at 10 s)."""
    from plumecast.near_field_plume import NearFieldSource
    from tests.test_countdown_audit44 import _slowing_wind

    seen: list[int] = []
    edge_peak = NearFieldSource._edge_peak

    def spy(self: Any, *args: Any) -> None:
        seen.append(len(args[11]))  # the step's other weathers
        edge_peak(self, *args)

    monkeypatch.setattr(NearFieldSource, "_edge_peak", spy)
    wind, cuts = _slowing_wind(3.0, 1.0, 900.0, 1.0), (1.0 / 6.0,)
    plans = [p for p in _plans(cuts) if p.name != "half10"]
    got = {}
    for step_s in (600.0, 10.0):
        sc = scenario_from_dict(_data(step_s, 6000.0, 1200.0, 3.0, "D"))
        result = run(sc, wind=wind, exposure_tags_h=list(cuts))
        got[step_s] = evaluate_plans(result.exposure, sc.resolved_agent(), [(p, None) for p in plans], ["src"])
    assert any(seen)  # the edges of steps whose wind changes within them were read with their other winds
    _no_later(got[600.0], got[10.0], "slowing wind, 600-s steps")
