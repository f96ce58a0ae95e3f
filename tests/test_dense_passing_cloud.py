"""The dense cloud's passing cloud (session 46): the dense cloud of a point release kept its step's mean as its
peak within the step, so 3 t of chlorine at once (``dense_gas: auto``, class D, 3 m/s) read AEGL-3 "never" 2 km
away with 300- and 600-s steps, where 10-s steps reach it at 13.0 min. The cloud's air now has the spread
arrivals' bound within each step (near_field_plume.NearFieldSource._spread_max_rate), as the Gaussian plume's.
With that bound, ``compare``'s rerun of a dense release cut by a termination kept its own cloud's peaks above its
held means (zones' cloud of the shorter release): a stop at 1 h read AEGL-3 at a town 40 km out 2.8 min before
doing nothing. ensemble.dense_cuts.HeldToWhole now holds the peaks too: the cut's air is the whole release's
first part at every moment, not only on the steps' means."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

KM_PER_DEG_LON_AT_52 = 111.32 * math.cos(math.radians(52.0))
ONE_SECOND_H = 1.0 / 3600.0
KM = (1.0, 2.0, 3.0)


def _scenario(step_s: float) -> Any:
    """3 t of chlorine at once, 3 min after the start, class D, 3 m/s: points 1-3 km downwind and a town of
    1 km radius 2 km out (the near field's cloud at its disc's parts)."""
    points = [{"name": f"x{k:g}", "lat": 52.0, "lon": 5.0 + k / KM_PER_DEG_LON_AT_52, "population": 1000}
              for k in KM]
    points.append({"name": "town", "lat": 52.0, "lon": 5.0 + 2.0 / KM_PER_DEG_LON_AT_52, "population": 20000,
                   "radius_km": 1.0})
    return scenario_from_dict({
        "name": "dense puff", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 0.5,
        "time_step_s": step_s, "particles": 500, "seed": 3,
        "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0, "amount_kg": 3000.0,
                      "duration_s": 0.0, "start_h": 0.05, "dense_gas": "auto"}],
        "local_weather": {"wind_speed_m_s": 3.0, "wind_from_deg": 270, "stability": "D", "terrain": "rural"},
        "receptors": {"points": points},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 5.5, "lat_min": 51.8, "lat_max": 52.2,
                            "resolution_deg": 0.05}, "interval_min": 30},
    })


@pytest.fixture(scope="module")
def runs() -> dict[float, Any]:
    return {step: run(_scenario(step)) for step in (600.0, 300.0, 10.0)}


@pytest.mark.parametrize("step_s", [600.0, 300.0])
def test_the_dense_puff_is_counted_down_no_later_than_at_10_s_steps(runs: dict[float, Any], step_s: float) -> None:
    got, ref = runs[step_s].consequences(), runs[10.0].consequences()
    # AEGL-3 at 2 km: "never" with 300- and 600-s steps before, 13.0 min at 10-s steps (12.4 now)
    assert np.isfinite(float(got["hours_to_aegl3"].values[1]))
    step_h = step_s / 3600.0
    for name in [f"hours_to_aegl{lv}" for lv in (1, 2, 3)] + [f"hours_to_aegl{lv}_sheltered" for lv in (1, 2, 3)]:
        now, fine = np.asarray(got[name].values, float), np.asarray(ref[name].values, float)
        assert np.isfinite(now[np.isfinite(fine)]).all(), (name, now * 60, fine * 60)
        both = np.isfinite(now) & np.isfinite(fine)
        assert (now[both] <= fine[both] + ONE_SECOND_H).all(), (name, now * 60, fine * 60)  # early, never late
        assert (now[both] >= fine[both] - step_h).all(), (name, now * 60, fine * 60)  # by less than a step


def test_compare_s_baseline_counts_the_dense_puff_down_as_run_does(runs: dict[float, Any]) -> None:
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plan

    sc = _scenario(600.0)
    out = evaluate_plan(runs[600.0].exposure, sc.resolved_agent(), PlanConfig(name="do nothing"), ["src"])
    ref = np.asarray(runs[10.0].consequences()["hours_to_aegl3"].values, float) * 3600.0
    assert np.isfinite(out.arrival3_s[1]), out.arrival3_s  # the 2-km point
    both = np.isfinite(ref)
    assert (out.arrival3_s[both] <= ref[both] + 1.0).all(), (out.arrival3_s / 60, ref / 60)


def test_a_held_cut_never_peaks_above_the_whole_release(runs: dict[float, Any]) -> None:
    """A dense cut's rerun (its own cloud, zones' of the shorter release) is held, step by step and place by place,
    no higher than the baseline at the steps' means; its near-field peaks within each step are now held below the
    baseline's peaks too (they had been the rerun's own, above: AEGL-3 2.8 min before doing nothing)."""
    from plumecast.ensemble.dense_cuts import HeldToWhole

    base = runs[600.0].exposure
    assert base.peak_extra is not None and base.part_peak is not None
    assert (base.peak_extra > 0.0).any() and (base.part_peak > 0.0).any()  # the dense cloud's passing peak
    # a rerun whose own cloud peaks higher within the steps than the whole release's, and as much on average
    rerun = replace(base, peak_extra=3.0 * base.peak_extra + 1e-4 * (base.total() > 0.0),
                    part_peak=3.0 * base.part_peak + 1e-4 * (base.part_c > 0.0))
    held, _ = HeldToWhole(base, [0]).hold(rerun, np.ones(base.n_tags))
    top = base.total() + base.peak_extra
    assert (held.total() + held.peak_extra <= top * (1.0 + 1e-12)).all()
    np.testing.assert_array_equal(held.peak_extra, base.peak_extra)  # the baseline's own peaks, here
    assert (held.part_c + held.part_peak <= (base.part_c + base.part_peak) * (1.0 + 1e-12)).all()
    # a rerun whose peaks are lower keeps its own
    low = replace(base, peak_extra=0.5 * base.peak_extra, part_peak=0.5 * base.part_peak)
    kept, _ = HeldToWhole(base, [0]).hold(low, np.ones(base.n_tags))
    np.testing.assert_array_equal(kept.peak_extra, low.peak_extra)
    np.testing.assert_array_equal(kept.part_peak, low.part_peak)


def test_the_spread_bound_holds_the_arrivals_and_falls_on_the_cloud_s_trailing_edge() -> None:
    """The bound of the spread arrivals' rate within a step is never below the rate sampled finely within it, and
    on the trailing edge of a cloud it falls with the air: the whole window's largest emission rate had read the
    plateau there for 5 sigma after the cloud's end, and a termination cut by emission tags, which keeps the whole
    baseline's peak where it keeps any air, had then read AEGL-3 at 1 km at 25.8 min at 10-s steps from the lag
    tail of the air emitted before the cut (tests/test_arrival_floor.py, compare's floor)."""
    from plumecast.near_field_plume import NearFieldSource
    from plumecast.near_field_smear import window_mass

    rate, end = 5.0, 1200.0
    src = NearFieldSource(group=0, lat=52.0, lon=5.0, height_m=1.0, pg_class="D", terrain="rural",
                          mixing_height_m=1000.0, decay_rate_s=0.0,
                          rate_at=lambda t: np.where((np.asarray(t) >= 0.0) & (np.asarray(t) < end), rate, 0.0),
                          emitted_by=lambda t: rate * np.clip(np.asarray(t, dtype=float), 0.0, end),
                          emitted_knots=(np.array([0.0, end]), np.array([0.0, rate * end])),
                          rate_knots=np.array([0.0, end]))
    knots, cum = src.emitted_knots
    for sigma, travel, step in ((60.0, 330.0, 10.0), (60.0, 330.0, 300.0), (20.0, 100.0, 60.0), (120.0, 900.0, 600.0)):
        t0 = np.arange(0.0, end + travel + 8.0 * sigma, step)
        a, b = t0 - travel, t0 + step - travel
        n = a.size
        bound = src._spread_max_rate(a, b, np.full(n, sigma), np.full(n, travel), None, np.ones(n, bool))
        h = 0.25
        lead = np.full(n, travel)
        for f in np.linspace(0.0, 1.0, 41):  # the arrival rate at 41 times within each step
            t = a + f * step
            got = window_mass(knots, cum, t - h / 2.0, t + h / 2.0, np.full(n, sigma), None, lead_s=lead) / h
            assert (got <= bound * (1.0 + 1e-6) + 1e-9).all(), (sigma, step, f, got, bound)
        # 2 sigma past the cloud's end (the wind's air of the last emission, plus the step), the air is at most
        # ndtr(-2) = 2.3 % of the plateau: the bound below a tenth of it (the plateau itself before)
        late = a >= end + 2.0 * sigma
        assert late.any() and (bound[late] <= 0.1 * rate).all(), (sigma, step, bound[late])
