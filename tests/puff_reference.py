"""The physical air of the turning-wind tests: 10-s Gaussian puffs in a uniform wind that changes between records.

14.4 t of chlorine over 2 h from a 1-m source at 52 N 5 E, class D, rural; the wind uniform, linear in time
between records every 100 s. Each 10 s of emission is one puff carried by the source's wind, with the Briggs
rural D sigmas of the path it ran (sigma_x = sigma_y), reflected at the ground, read at 1.5 m: the air itself,
as a puff model (INPUFF, RIMPUFF) gives it, against which the near field's coarse steps are checked
(tests/test_countdown_turn_sweep.py, tests/test_countdown_side_carry.py, tests/test_steady_plume_cut.py;
session 51).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plumecast.agents import get_agent
from plumecast.consequence import outdoor_outcomes
from plumecast.met import build_wind_dataset
from plumecast.nearfield.gaussian import briggs_sigma_y, briggs_sigma_z
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.test_countdown_audit44 import KM_PER_DEG_LON_AT_52

RECORDS = np.arange(0.0, 4 * 3600.0 + 1.0, 100.0)
START = np.datetime64("2026-01-20T06:00")
KM_LAT = 111.2
AMOUNT_KG, DURATION_S, RUN_S = 14400.0, 7200.0, 3 * 3600.0
#: the reversal's releases (tests/test_steady_plume_cut.py, tests/test_near_field_fold.py): agent, kg, duration [s]
#: and the record [s] from which the wind, 3 m/s from the west before, blows at 3 m/s from the east
CHLORINE_REVERSAL = ("chlorine", 14400.0, 7200.0, 3600.0)
AMMONIA_REVERSAL = ("ammonia", 2000.0, 600.0, 1200.0)
Reversal = tuple[str, float, float, float]


def place_xy(places: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """East and north [m] of places given as (distance [km], degrees north of east)."""
    return (np.array([d * math.cos(math.radians(b)) for d, b in places]) * 1000.0,
            np.array([d * math.sin(math.radians(b)) for d, b in places]) * 1000.0)


def scenario(name: str, step_s: float, places: list[tuple[float, float]], agent: str = "chlorine",
             amount_kg: float = AMOUNT_KG, duration_s: float = DURATION_S) -> dict[str, Any]:
    """The release of the module docstring (or ``amount_kg`` of ``agent`` over ``duration_s``) with receptors at
    ``places``, run at ``step_s`` steps."""
    x, y = place_xy(places)
    return {
        "name": name, "agent": agent, "start": "2026-01-20T06:00:00Z", "duration_h": RUN_S / 3600.0,
        "time_step_s": step_s, "particles": 500, "seed": 3, "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0, "amount_kg": amount_kg,
                      "duration_s": duration_s, "start_h": 0.0, "dense_gas": "off"}],
        "local_weather": {"wind_speed_m_s": 3.0, "wind_from_deg": 270, "stability": "D", "terrain": "rural"},
        "near_field": {"stability": "D"},
        "receptors": {"points": [{"name": f"p{i}", "lat": 52.0 + yi / 1000.0 / KM_LAT,
                                  "lon": 5.0 + xi / 1000.0 / KM_PER_DEG_LON_AT_52, "population": 1000}
                                 for i, (xi, yi) in enumerate(zip(x, y, strict=True))]},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 5.5, "lat_min": 51.8, "lat_max": 52.2, "resolution_deg": 0.05},
                   "interval_min": 60},
    }


def wind(u: np.ndarray, v: np.ndarray, source: str) -> Any:
    """The uniform wind ``u``, ``v`` [m/s] at :data:`RECORDS` as the run's wind dataset."""
    lat, lon = np.arange(50.0, 54.001, 0.25), np.arange(3.0, 7.001, 0.25)
    ones = np.ones((1, lat.size, lon.size), np.float32)
    times = (START + RECORDS.astype("timedelta64[s]")).astype("datetime64[ns]")
    return build_wind_dataset(u.astype(np.float32)[:, None, None] * ones, v.astype(np.float32)[:, None, None] * ones,
                              times, lat, lon, source=source, level="10 m", steady=False)


def puffs(u: np.ndarray, v: np.ndarray, places: list[tuple[float, float]], dt: float = 10.0, agent: str = "chlorine",
          amount_kg: float = AMOUNT_KG, duration_s: float = DURATION_S) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The puffs' first AEGL-1/2/3 times [h] and doses [kg s m-3] at ``places`` in the wind ``u``, ``v`` at
    :data:`RECORDS` (module docstring; or ``amount_kg`` of ``agent`` over ``duration_s``)."""
    px, py = place_xy(places)
    emit = np.arange(0.5 * dt, duration_s, dt)
    mass = amount_kg / duration_s * dt
    tf = np.arange(0.0, RUN_S + 1.0, 1.0)
    uf, vf = np.interp(tf, RECORDS, u), np.interp(tf, RECORDS, v)
    cx, cy, cs = (np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]))]) for w in (uf, vf, np.hypot(uf, vf)))
    conc = np.zeros((int(RUN_S / dt), px.size))
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
    out = outdoor_outcomes(conc, time, START.astype("datetime64[ns]"), get_agent(agent), levels=(1, 2, 3))
    return {lv: out[f"first{lv}_s"] / 3600.0 for lv in (1, 2, 3)}, conc.sum(axis=0) * dt


def reached_no_later(ds: Any, first: dict[int, np.ndarray], hours: Any, slack_h: float) -> list[np.ndarray]:
    """Assert that every AEGL-1/2/3 level the puffs reach (``first``, :func:`puffs`) is read in the run's
    consequences ``ds`` (``hours(ds, name)``: the countdowns [h]) and no later than the puffs' plus ``slack_h``; the
    places the puffs reach, per level."""
    out = []
    for level in (1, 2, 3):
        got, ref = hours(ds, f"hours_to_aegl{level}"), first[level]
        both = np.isfinite(ref)
        assert np.isfinite(got[both]).all(), (level, got * 60.0, ref * 60.0)
        assert (got[both] <= ref[both] + slack_h).all(), (level, got * 60.0, ref * 60.0)
        out.append(both)
    return out


def reversal_u(rel: Reversal) -> np.ndarray:
    """The reversal's eastward wind [m/s] at :data:`RECORDS` (``rel``: :data:`CHLORINE_REVERSAL`'s form)."""
    return np.where(RECORDS >= rel[3], -3.0, 3.0)


def reversal_puffs(rel: Reversal, places: list[tuple[float, float]]) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """:func:`puffs` of the release ``rel`` in its reversal at ``places``."""
    return puffs(reversal_u(rel), np.zeros(RECORDS.size), places, agent=rel[0], amount_kg=rel[1], duration_s=rel[2])


def reversal_run(step_s: float, rel: Reversal, places: list[tuple[float, float]]) -> Any:
    """The run's consequences of the release ``rel`` in its reversal at ``places``, at ``step_s`` steps."""
    data = scenario("reversal", step_s, places, agent=rel[0], amount_kg=rel[1], duration_s=rel[2])
    return run(scenario_from_dict(data), wind=wind(reversal_u(rel), np.zeros(RECORDS.size), "reversal")).consequences()
