"""Countdowns where the wind changes speed within a time step (session 47).

The near field takes each step's plume with the wind at the step's middle. Where the wind slows within a step, the
air late in it is thicker (the plume's ``1/u``) and its arrivals are spread wider in time (``sigma_x / u``) than the
middle's wind gives, and finer steps, each with its own middle's wind, read the level sooner: 3 t of chlorine over
600 s, class D, the wind slowing from 4 to 1 m/s over 15-20 min, read AEGL-2 5 km out at 19.85 and 19.99 min with
600- and 300-s steps, 19.5 min with 10-s steps. The step's peak now also takes the plumes of the winds at its ends
(near_field_plume.NearFieldSource._changed_wind_peak); its mean, the dose, keeps the middle's wind.
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

SLOWING = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 4.0, "cls": "D", "km": (3.0, 5.0), "hours": 1.0}


@pytest.fixture(scope="module")
def slowing_runs() -> dict[float, Any]:
    wind = _slowing_wind(4.0, 1.0, 900.0, 1.0)
    return {step: run(scenario_from_dict(_data(step, **SLOWING)), wind=wind) for step in (600.0, 300.0, 10.0)}


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_a_wind_slowing_within_a_step_does_not_make_the_countdown_late(slowing_runs: dict[float, Any],
                                                                       step: float) -> None:
    got_ds, ref_ds = slowing_runs[step].consequences(), slowing_runs[10.0].consequences()
    for level in (1, 2):
        got, ref = _hours(got_ds, f"hours_to_aegl{level}"), _hours(ref_ds, f"hours_to_aegl{level}")
        assert np.isfinite(got[np.isfinite(ref)]).all(), (level, got, ref)
        both = np.isfinite(got) & np.isfinite(ref)
        # 5 km, AEGL-2: 19.85 (600 s) and 19.99 min (300 s) had come after the 10-s steps' 19.5
        assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (step, level, got * 60.0, ref * 60.0)
    assert np.isfinite(_hours(ref_ds, "hours_to_aegl2")[1])  # the level is reached 5 km out


def _source() -> Any:
    from plumecast.near_field_plume import NearFieldSource

    return NearFieldSource(group=0, lat=52.0, lon=5.0, height_m=1.0, pg_class="D", terrain="rural",
                           mixing_height_m=800.0, decay_rate_s=0.0, rate_at=lambda t: np.where(
                               (np.asarray(t) >= 0) & (np.asarray(t) < 600), 5.0, 0.0),
                           emitted_by=lambda t: 5.0 * np.clip(np.asarray(t, dtype=float), 0.0, 600.0),
                           emitted_knots=(np.array([0.0, 600.0]), np.array([0.0, 3000.0])),
                           rate_knots=np.array([0.0, 600.0]), start_s=0.0)


def test_a_steady_wind_keeps_its_peak_to_the_bit() -> None:
    src = _source()
    lon = 5.0 + np.array([0.5, 1.0, 2.0, 5.0]) / KM_PER_DEG_LON_AT_52
    lat = np.full(4, 52.0)
    edges = np.arange(0.0, 7200.0, 300.0)

    def steady(lon_: Any, lat_: Any, t: float) -> tuple[float, float]:
        return 3.0, 0.0

    def slowing(lon_: Any, lat_: Any, t: float) -> tuple[float, float]:  # 3 m/s at the middle, 4.5 to 1.5
        return 4.5 - 3.0 * (t - 300.0) / 300.0, 0.0

    peaks = []
    for wind, span in ((steady, None), (steady, (3.0, 3.0)), (slowing, (1.5, 4.5))):
        peak = np.zeros(4)
        mean = src.step_mean_at(lat, lon, 300.0, 600.0, 30e3, wind, edges, peak=peak, speed_span=span)[0]
        peaks.append((mean, peak))
    np.testing.assert_array_equal(peaks[0][1], peaks[1][1])
    # the wind slowing within the step: its mean diluted by the wind each piece's air arrives in (session 51,
    # near_field_dilution; the middle's alone before), at most by the slowest's 1/u, and a higher peak
    hit = peaks[0][0] > 0.0
    assert (peaks[2][0][hit] != peaks[0][0][hit]).any() and (peaks[2][0] <= peaks[0][0] * 3.0 / 1.5 + 1e-30).all()
    assert hit.any() and (peaks[2][1][hit] > peaks[0][1][hit]).all()
