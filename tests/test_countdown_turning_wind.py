"""A wind that turns between two met records (session 50 audit of turning winds).

Between records the wind's vector is linear in time, not its speed: a 90-degree turn at 3 m/s between records 100 s
apart dips to 2.1 m/s half way, and the air that leaves then is 1.4 times as thick (Q/u at the emission; 30-s puffs
in the same wind: 7.2 mg/m3 5 km out on the new leg, 1.14 times the steady 6.3). The 30-s steps read it; the 600- and
300-s steps' slowest speed (their ends, middle and the records within them) had read 3 m/s, so their peaks did not
take the thicker air: 14.4 t of chlorine over 2 h, class D, east at 3 m/s, north from the record at 1 h: AEGL-2 5 km
north at 100 and 105 min with 600- and 300-s steps, 86 min with 30-s steps. The dip's bottom is now a knot of the
step's speeds (NearFieldSource.speed_knots).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from plumecast.met import build_wind_dataset
from plumecast.near_field_plume import NearFieldSource
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.test_countdown_audit44 import KM_PER_DEG_LON_AT_52, ONE_SECOND_H, _hours

RECORDS = np.arange(0.0, 4 * 3600.0 + 1.0, 100.0)
NORTH = RECORDS >= 3600.0  # east at 3 m/s, north from the record at 1 h (the one before it still east)


def _source() -> NearFieldSource:
    return NearFieldSource(group=0, lat=52.0, lon=5.0, height_m=1.0, pg_class="D", terrain="rural",
                           mixing_height_m=800.0, decay_rate_s=0.0, rate_at=lambda t: np.ones_like(t))


class _Wind:
    def __init__(self, u: np.ndarray, v: np.ndarray) -> None:
        self.u, self.v = u, v

    def __call__(self, lon: Any, lat: Any, t: float) -> tuple[float, float]:
        return float(np.interp(t, RECORDS, self.u)), float(np.interp(t, RECORDS, self.v))

    def records_within(self, t0: float, t1: float) -> list[float]:
        return [float(r) for r in RECORDS[(RECORDS > t0) & (RECORDS < t1)]]


def test_a_turn_between_records_dips_the_step_s_slowest_speed() -> None:
    src = _source()
    turn = _Wind(np.where(NORTH, 0.0, 3.0), np.where(NORTH, 3.0, 0.0))
    for t0, t1 in ((3000.0, 3600.0), (3300.0, 3600.0), (3540.0, 3570.0)):
        times, speeds = src.speed_knots(turn, t0, t1)
        assert min(speeds) == pytest.approx(3.0 / math.sqrt(2.0), rel=1e-9), (t0, speeds)  # had read 3 (2.13 at 30 s)
        assert 3550.0 in times
    # a wind that only slows, or only picks up, between records: the knots as before (its slowest at a record)
    for a, b in ((4.0, 1.0), (1.0, 4.0)):
        speed_only = _Wind(np.where(NORTH, b, a), np.zeros(RECORDS.size))
        times, speeds = src.speed_knots(speed_only, 3000.0, 3600.0)
        assert times == [3000.0, 3100.0, 3200.0, 3300.0, 3400.0, 3500.0, 3600.0]
        assert min(speeds) == min(a, b)
    # a reversal through the calm: the floor
    rev = _Wind(np.where(NORTH, -3.0, 3.0), np.zeros(RECORDS.size))
    assert min(src.speed_knots(rev, 3000.0, 3600.0)[1]) == pytest.approx(1.0)


def _data(step_s: float) -> dict[str, Any]:
    km_lat = 111.2
    pts = [("n5", 52.0 + 5.0 / km_lat, 5.0), ("n1", 52.0 + 1.0 / km_lat, 5.0), ("e5", 52.0, 5.0 + 5.0 / KM_PER_DEG_LON_AT_52)]
    return {
        "name": "turn", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 3.0, "time_step_s": step_s,
        "particles": 500, "seed": 3, "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0, "amount_kg": 14400.0,
                      "duration_s": 7200.0, "start_h": 0.0, "dense_gas": "off"}],
        "local_weather": {"wind_speed_m_s": 3.0, "wind_from_deg": 270, "stability": "D", "terrain": "rural"},
        "near_field": {"stability": "D"},
        "receptors": {"points": [{"name": n, "lat": la, "lon": lo, "population": 1000} for n, la, lo in pts]},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 5.5, "lat_min": 51.8, "lat_max": 52.2, "resolution_deg": 0.05},
                   "interval_min": 60},
    }


@pytest.fixture(scope="module")
def turn_runs() -> dict[float, Any]:
    lat, lon = np.arange(50.0, 54.001, 0.25), np.arange(3.0, 7.001, 0.25)
    ones = np.ones((1, lat.size, lon.size), np.float32)
    times = (np.datetime64("2026-01-20T06:00") + RECORDS.astype("timedelta64[s]")).astype("datetime64[ns]")
    u, v = np.where(NORTH, 0.0, 3.0), np.where(NORTH, 3.0, 0.0)
    wind = build_wind_dataset(u.astype(np.float32)[:, None, None] * ones, v.astype(np.float32)[:, None, None] * ones,
                              times, lat, lon, source="turn", level="10 m", steady=False)
    return {step: run(scenario_from_dict(_data(step)), wind=wind) for step in (600.0, 300.0, 30.0)}


@pytest.mark.parametrize("step", [600.0, 300.0])
def test_a_turn_between_records_does_not_make_the_countdown_late(turn_runs: dict[float, Any], step: float) -> None:
    got_ds, ref_ds = turn_runs[step].consequences(), turn_runs[30.0].consequences()
    name = "hours_to_aegl2"
    got, ref = _hours(got_ds, name)[0], _hours(ref_ds, name)[0]  # 5 km north: 100 and 105 min had read against 86
    assert math.isfinite(ref) and math.isfinite(got) and got <= ref + ONE_SECOND_H, (step, got * 60.0, ref * 60.0)
    for level in (1, 2, 3):  # and no other countdown there or 1 km north later than the 30-s steps' (5 km east: below)
        g, r = _hours(got_ds, f"hours_to_aegl{level}")[:2], _hours(ref_ds, f"hours_to_aegl{level}")[:2]
        assert np.isfinite(g[np.isfinite(r)]).all(), (level, g * 60.0, r * 60.0)
        both = np.isfinite(g) & np.isfinite(r)
        assert (g[both] <= r[both] + ONE_SECOND_H).all(), (level, g * 60.0, r * 60.0)
    # 5 km east AEGL-2 58.5 min with 30-s steps, the 600- and 300-s steps had read it never: the turn within their
    # step is now read (plumecast.near_field_turn; tests/test_countdown_turn_sweep.py)
