"""Countdowns where the wind picks up within a step after a lull (session 49; after test_countdown_weather_within_step).

The near field's steady plume brings a place ``d`` metres out the air that left the source by ``t - d/u(t)``, each
step from where the last one's window ended. Where the wind picks up again after a lull, that window end runs
faster than time (``1 + d u'/u^2``), and once it passes what the place had breathed the finer steps deliver the
emission held back during the lull at once: records every 100 s, 4 m/s but 1 m/s at 1,300 s, 3 t of chlorine over
600 s, class D: 10-s steps read AEGL-3 3 and 5 km out at 23.0 and 23.2 min, 300- and 600-s steps never (their peak
took the window's mean growth over the step). The step's peak now takes the window's fastest growth within it
(plumecast.near_field_squeeze), and the peaks of all the plumes a place takes the larger of where the speed rises
within the step or none has air in its mean (the step's mean had chosen whose peak counted).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.test_countdown_audit44 import KM_PER_DEG_LON_AT_52, _data, _hours
from tests.test_countdown_weather_within_step import _no_later_than_10_s, _records_wind
from tests.test_countdown_wind_within_step import _source

RECORDS = np.arange(0.0, 3601.0, 100.0)
LULLS = {
    # 1 m/s at the record at 1,300 s: AEGL-3 3 and 5 km out at 23.0 and 23.2 min with 10-s steps, never with 300-
    # and 600-s steps
    "at 1300 s": np.where(RECORDS == 1300.0, 1.0, 4.0),
    # 1 m/s at 700 and 800 s: AEGL-3 3 km out at 14.7 min with 10-s steps, never with 300- and 600-s steps; AEGL-1
    # 3 km out 11.0 min with 60-s steps (10.7 with 10-s steps)
    "over 700-800 s": np.where((RECORDS >= 700.0) & (RECORDS <= 800.0), 1.0, 4.0),
}
CASE = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 4.0, "cls": "D", "km": (1.0, 2.0, 3.0, 5.0),
        "hours": 1.0}


@pytest.fixture(scope="module", params=list(LULLS))
def lull_runs(request: Any) -> dict[float, Any]:
    wind = _records_wind(RECORDS, LULLS[request.param])
    return {step: run(scenario_from_dict(_data(step, **CASE)), wind=wind) for step in (600.0, 300.0, 60.0, 10.0)}


@pytest.mark.parametrize("step", [600.0, 300.0, 60.0])
def test_a_wind_picking_up_after_a_lull_does_not_make_the_countdown_late(lull_runs: dict[float, Any],
                                                                          step: float) -> None:
    ref_ds = _no_later_than_10_s(lull_runs, step)
    assert np.isfinite(_hours(ref_ds, "hours_to_aegl3")[2])  # the catch-up reaches AEGL-3 3 km out


class _Wind:
    """A uniform wind from the west, linear in time between records every 100 s of ``speeds`` [m/s]."""

    def __init__(self, speeds: np.ndarray) -> None:
        self.speeds = speeds

    def __call__(self, lon: Any, lat: Any, t: float) -> tuple[float, float]:
        return float(np.interp(t, RECORDS, self.speeds)), 0.0

    def records_within(self, t0: float, t1: float) -> list[float]:
        return [float(v) for v in RECORDS[(RECORDS > t0) & (RECORDS < t1)]]


def _peaks(src: Any, wind: Any, step: float, until: float, lat: np.ndarray, lon: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray]:
    """The steady plume's step means and peaks (steps, points) from the start to ``until``, its windows going on
    from step to step as a run's do."""
    edges = np.arange(0.0, 7200.0, 600.0)
    delivered = np.full(lat.size, np.nan)
    means, peaks = [], []
    for t0 in np.arange(0.0, until, step):
        peak = np.zeros(lat.size)
        means.append(src.step_mean_at(lat, lon, t0, t0 + step, 30e3, wind, edges, delivered=delivered, peak=peak,
                                      speed_span=(1.0, 4.0))[0])
        peaks.append(peak)
    return np.array(means), np.array(peaks)


def test_the_step_s_peak_bounds_the_window_s_growth_within_it() -> None:
    src = _source()
    lon = 5.0 + np.array([1.0, 2.0, 3.0, 5.0]) / KM_PER_DEG_LON_AT_52
    lat = np.full(4, 52.0)
    lull = _Wind(LULLS["at 1300 s"])
    fine = _peaks(src, lull, 10.0, 1800.0, lat, lon)[0]
    for step in (600.0, 300.0):
        coarse = _peaks(src, lull, step, 1800.0, lat, lon)[1]
        n = int(step // 10.0)
        within = fine.reshape(-1, n, lat.size).max(axis=1)  # the 10-s steps' air at its most within each step
        # 3 and 5 km out, 1,200-1,500 s: the 300-s step's peak had been below the 10-s steps' catch-up (1/7, 1/2)
        assert (coarse >= within).all(), (step, coarse, within)
    # a steady wind with records within its steps: the peaks as without them, to the bit
    steady = _Wind(np.full(RECORDS.size, 4.0))
    for step in (300.0, 600.0):
        got = _peaks(src, steady, step, 3600.0, lat, lon)
        plain = _peaks(src, steady.__call__, step, 3600.0, lat, lon)
        np.testing.assert_array_equal(got[0], plain[0])
        np.testing.assert_array_equal(got[1], plain[1])
        assert (got[1] > 0.0).any()
