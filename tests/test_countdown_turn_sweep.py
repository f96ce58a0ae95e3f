"""A wind that turns within one coarse step sweeps places side-on (session 51, plumecast.near_field_turn).

14.4 t of chlorine over 2 h, class D, 3 m/s east, the wind turning to the north between the records at 3,500 and
3,600 s (a turn) or over the 600 s before 3,600 s (a fan). The step's plume had read the wind at the step's middle
only: the places the turn sweeps side-on, 1-2 km out at 15-75 degrees off the old leg, read AEGL-1/2/3 "never" with
600- and 300-s steps where 10-s Gaussian puffs in the same wind (the air itself) reach them at 52-66 min, and in the
fan their doses were 0.02-0.08 of the puffs' off the step's middle direction. The reference here is the puffs: each
10 s of emission carried by the source's wind (linear between records), Briggs rural D sigmas of the path it ran,
sigma_x = sigma_y, reflected at the ground.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from plumecast.agents import get_agent
from plumecast.consequence import outdoor_outcomes
from plumecast.met import build_wind_dataset
from plumecast.near_field_turn import groups, turn_knots
from plumecast.nearfield.gaussian import briggs_sigma_y, briggs_sigma_z
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.test_countdown_audit44 import KM_PER_DEG_LON_AT_52, ONE_SECOND_H, _hours
from tests.test_countdown_turning_wind import _source, _Wind

RECORDS = np.arange(0.0, 4 * 3600.0 + 1.0, 100.0)
START = np.datetime64("2026-01-20T06:00")
KM_LAT = 111.2
#: the swept sector: 1 and 2 km out at 15-75 degrees north of east; and 5 km east (the old leg)
PLACES = [(d, b) for d in (1.0, 2.0) for b in (15, 30, 45, 60, 75)] + [(5.0, 0)]


def _winds(case: str) -> tuple[np.ndarray, np.ndarray]:
    if case == "turn":  # east until the record at 3,500 s, north from the one at 3,600 s
        north = RECORDS >= 3600.0
        return np.where(north, 0.0, 3.0), np.where(north, 3.0, 0.0)
    ang = np.clip((RECORDS - 3000.0) / 600.0, 0.0, 1.0) * math.pi / 2.0  # the fan: turning over 3,000-3,600 s
    return 3.0 * np.cos(ang), 3.0 * np.sin(ang)


def _xy() -> tuple[np.ndarray, np.ndarray]:
    return (np.array([d * math.cos(math.radians(b)) for d, b in PLACES]) * 1000.0,
            np.array([d * math.sin(math.radians(b)) for d, b in PLACES]) * 1000.0)


def _data(step_s: float) -> dict[str, Any]:
    x, y = _xy()
    return {
        "name": "sweep", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 3.0, "time_step_s": step_s,
        "particles": 500, "seed": 3, "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0, "amount_kg": 14400.0,
                      "duration_s": 7200.0, "start_h": 0.0, "dense_gas": "off"}],
        "local_weather": {"wind_speed_m_s": 3.0, "wind_from_deg": 270, "stability": "D", "terrain": "rural"},
        "near_field": {"stability": "D"},
        "receptors": {"points": [{"name": f"p{i}", "lat": 52.0 + yi / 1000.0 / KM_LAT,
                                  "lon": 5.0 + xi / 1000.0 / KM_PER_DEG_LON_AT_52, "population": 1000}
                                 for i, (xi, yi) in enumerate(zip(x, y, strict=True))]},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 5.5, "lat_min": 51.8, "lat_max": 52.2, "resolution_deg": 0.05},
                   "interval_min": 60},
    }


def _puffs(u: np.ndarray, v: np.ndarray, dt: float = 10.0) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The puffs' first AEGL times [h] and doses [kg s m-3] at :data:`PLACES` (module docstring)."""
    px, py = _xy()
    emit = np.arange(0.5 * dt, 7200.0, dt)
    mass = 14400.0 / 7200.0 * dt
    tf = np.arange(0.0, 3 * 3600.0 + 1.0, 1.0)
    uf, vf = np.interp(tf, RECORDS, u), np.interp(tf, RECORDS, v)
    cx, cy, cs = (np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]))]) for w in (uf, vf, np.hypot(uf, vf)))
    conc = np.zeros((int(3 * 3600 / dt), px.size))
    for k in range(conc.shape[0]):
        t = (k + 0.5) * dt
        live = emit[emit < t]
        if live.size == 0:
            continue
        ex, ey = np.interp(t, tf, cx) - np.interp(live, tf, cx), np.interp(t, tf, cy) - np.interp(live, tf, cy)
        path = np.maximum(np.interp(t, tf, cs) - np.interp(live, tf, cs), 1.0)
        sy, sz = np.asarray(briggs_sigma_y(path, "D", "rural")), np.asarray(briggs_sigma_z(path, "D", "rural"))
        vert = np.exp(-(1.5 - 1.0) ** 2 / (2 * sz ** 2)) + np.exp(-(1.5 + 1.0) ** 2 / (2 * sz ** 2))
        d2 = (px[None, :] - ex[:, None]) ** 2 + (py[None, :] - ey[:, None]) ** 2
        each = mass / ((2 * math.pi) ** 1.5 * sy * sy * sz) * vert
        conc[k] = (each[:, None] * np.exp(-d2 / (2 * sy[:, None] ** 2))).sum(axis=0)
    time = (START + (np.arange(1, conc.shape[0] + 1) * dt).astype("timedelta64[s]")).astype("datetime64[ns]")
    out = outdoor_outcomes(conc, time, START.astype("datetime64[ns]"), get_agent("chlorine"), levels=(1, 2, 3))
    return {lv: out[f"first{lv}_s"] / 3600.0 for lv in (1, 2, 3)}, conc.sum(axis=0) * dt


@pytest.fixture(scope="module")
def sweeps() -> dict[tuple[str, float], Any]:
    lat, lon = np.arange(50.0, 54.001, 0.25), np.arange(3.0, 7.001, 0.25)
    ones = np.ones((1, lat.size, lon.size), np.float32)
    times = (START + RECORDS.astype("timedelta64[s]")).astype("datetime64[ns]")
    out: dict[tuple[str, float], Any] = {}
    for case, steps in (("turn", (600.0, 300.0, 30.0)), ("fan", (600.0, 300.0))):
        u, v = _winds(case)
        wind = build_wind_dataset(u.astype(np.float32)[:, None, None] * ones, v.astype(np.float32)[:, None, None] * ones,
                                  times, lat, lon, source=case, level="10 m", steady=False)
        out[(case, 0.0)] = _puffs(u, v)
        for step in steps:
            out[(case, step)] = run(scenario_from_dict(_data(step)), wind=wind)
    return out


@pytest.mark.parametrize("case", ["turn", "fan"])
@pytest.mark.parametrize("step", [600.0, 300.0])
def test_places_a_turn_sweeps_side_on_are_not_read_late(sweeps: dict[tuple[str, float], Any], case: str,
                                                        step: float) -> None:
    first, _ = sweeps[(case, 0.0)]
    ds = sweeps[(case, step)].consequences()
    reached = 0
    for level in (1, 2, 3):
        got, ref = _hours(ds, f"hours_to_aegl{level}"), first[level]
        both = np.isfinite(ref)
        reached += int(both[:-1].sum())
        # had read never at 1-2 km, 15-75 degrees (the puffs: 52-66 min)
        assert np.isfinite(got[both]).all(), (level, got * 60.0, ref * 60.0)
        assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (level, got * 60.0, ref * 60.0)
    assert reached >= 10  # the sector is reached by the air


def test_the_old_leg_is_not_read_late_where_the_turn_leaves_it(sweeps: dict[tuple[str, float], Any]) -> None:
    """5 km east, on the old leg: the 30-s steps read AEGL-2 at 58.5 min, in the turn (the steady plume of the turn's
    slower wind, 2.1 m/s half way, 1.4 times as thick at once; the puffs' air never reaches AEGL-2 there), and the
    600- and 300-s steps had read it never: the turn within their step was not seen (session 50 audit)."""
    ref_ds = sweeps[("turn", 30.0)].consequences()
    for step in (600.0, 300.0):
        ds = sweeps[("turn", step)].consequences()
        for level in (1, 2, 3):
            got, ref = _hours(ds, f"hours_to_aegl{level}")[-1], _hours(ref_ds, f"hours_to_aegl{level}")[-1]
            if math.isfinite(ref):
                assert math.isfinite(got) and got <= ref + ONE_SECOND_H, (step, level, got * 60.0, ref * 60.0)
    assert math.isfinite(_hours(ref_ds, "hours_to_aegl2")[-1])


def test_the_fan_s_dose_off_the_step_s_middle_is_the_air_s(sweeps: dict[tuple[str, float], Any]) -> None:
    """The fan turns over one 600-s step, whose middle wind blows to 45 degrees: 1-2 km out at 15, 30, 60 and 75
    degrees the step's plume had read 0.02-0.08 of the puffs' dose at 1 km (the air that passed them in the step
    left out); the sub-steps of the turn now read 0.5-1.3 of it (each sub-step's steady plume, its own window)."""
    _, dose = sweeps[("fan", 0.0)]
    pick = [i for i, (d, b) in enumerate(PLACES) if b in (15, 30, 60, 75)]
    for step in (600.0, 300.0):
        ds = sweeps[("fan", step)].consequences()
        c = np.asarray(ds["concentration"].values, float)
        ratio = (np.nansum(c, axis=0) * step)[pick] / dose[pick]
        assert (ratio > 0.4).all(), (step, ratio)  # 600-s steps: had read 0.02-0.08 at 1 km
        # and not doubled (at 300-s steps, 1 km at 60 degrees reads 3.3: the streak line's stretch of the step
        # 3,300-3,600 s, whose middle wind blows to 67.5 degrees, the larger of two plumes; as before)
        assert step != 600.0 or (ratio < 2.5).all(), (step, ratio)


def test_a_steady_wind_and_a_change_of_speed_do_not_turn() -> None:
    """Only a step whose direction turns pays for the sub-steps: a steady wind and a speed-only change read None (the
    step's plume as before, to the bit); a turn of 90 degrees between records is cut at the dip's bottom."""
    src = _source()
    north = RECORDS >= 3600.0
    assert turn_knots(src, _Wind(np.full(RECORDS.size, 3.0), np.zeros(RECORDS.size)), 3000.0, 3600.0) is None
    assert turn_knots(src, _Wind(np.where(north, 1.0, 4.0), np.zeros(RECORDS.size)), 3000.0, 3600.0) is None
    knots = turn_knots(src, _Wind(np.where(north, 0.0, 3.0), np.where(north, 3.0, 0.0)), 3000.0, 3600.0)
    assert knots is not None
    times, vec, ang = knots
    got = groups(times, ang, [u == 0.0 and v == 0.0 for u, v in vec])
    assert got[0][:2] == (3000.0, 3500.0) and got[0][2] == got[0][3] == 0.0  # east until the record at 3,500 s
    assert [g[:2] for g in got[1:]] == [(3500.0, 3550.0), (3550.0, 3600.0)]
    assert got[-1][3] == pytest.approx(math.pi / 2.0)
