"""Countdowns that came later than the same run at 10-s steps (countdown audit, session 44).

* An instantaneous release (``duration_s: 0``) was let go over the rest of its time step in the near field too:
  its cloud came at the step's mean rate, and a 300-kg puff of chlorine (class D, 3 m/s) read AEGL-3 "never" at
  1 km with 600-s steps, where 10-s steps reach it at 8 min. The near field now lets it go at its moment
  (release.SourceGroup.as_puff).
* Indoors, the steps' means let a cloud that passes within a step into the building over the whole step: AEGL-1
  indoors "never" at 1 km with 600-s steps (9 min at 10-s steps), and compare's shelter plan read AEGL-3 at 0.3 km
  (class F) 1 min late at 300-s steps. The building's air is now bounded with the dose let in as fast as the peak
  allows (shelter.indoor_peak_bound, countermeasures.shelter_order.sheltered_peak).
* Where the wind slows, the near-field air's front was dated with the step's middle speed: 5 km out, 4 m/s slowing
  to 1 m/s, it was 19.6 min with 300-s steps, and AEGL-1 there with it, where 10-s steps have the air at 18.0 min
  and AEGL-1 at 18.2 min. The front now takes the highest speed for the travel and the lowest for the spread's
  lead (near_field_plume.NearFieldSource.step_mean_at's speed_span).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import xarray as xr

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from plumecast.shelter import indoor_concentration

KM_PER_DEG_LON_AT_52 = 111.32 * math.cos(math.radians(52.0))
ONE_SECOND_H = 1.0 / 3600.0


def _data(step_s: float, *, amount_kg: float, duration_s: float, speed: float, cls: str, km: tuple[float, ...],
          hours: float = 1.0, start_h: float = 0.0) -> dict[str, Any]:
    rel = {"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0, "amount_kg": amount_kg,
           "duration_s": duration_s, "start_h": start_h, "dense_gas": "off"}
    return {
        "name": "countdown", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": hours,
        "time_step_s": step_s, "particles": 2000, "seed": 3,
        "met": {"source": "uniform", "u_m_s": speed, "v_m_s": 0.0}, "releases": [rel],
        "local_weather": {"wind_speed_m_s": speed, "wind_from_deg": 270, "stability": cls, "terrain": "rural"},
        "receptors": {"points": [{"name": f"x{k:g}", "lat": 52.0, "lon": 5.0 + k / KM_PER_DEG_LON_AT_52,
                                  "population": 1000} for k in km]},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 5.5, "lat_min": 51.8, "lat_max": 52.2,
                            "resolution_deg": 0.05}, "interval_min": 60},
    }


#: 300 kg of chlorine at once, 3 min after the run starts (within the first step of 300 or 600 s)
PUFF = {"amount_kg": 300.0, "duration_s": 0.0, "speed": 3.0, "cls": "D", "km": (0.3, 1.0), "start_h": 0.05}


def _hours(ds: xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(ds[name].values, dtype=float)


@pytest.fixture(scope="module")
def puff_runs() -> dict[float, Any]:
    return {step: run(scenario_from_dict(_data(step, **PUFF))) for step in (600.0, 10.0)}


def test_an_instantaneous_release_is_a_puff_in_the_near_field(puff_runs: dict[float, Any]) -> None:
    coarse, fine = puff_runs[600.0], puff_runs[10.0]
    a, b = coarse.consequences(), fine.consequences()
    for level in (1, 2, 3):
        got, ref = _hours(a, f"hours_to_aegl{level}"), _hours(b, f"hours_to_aegl{level}")
        assert np.isfinite(got[np.isfinite(ref)]).all(), (level, got, ref)  # AEGL-3 at 1 km had read never
        both = np.isfinite(got) & np.isfinite(ref)
        assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (level, got, ref)
    assert np.isfinite(_hours(a, "hours_to_aegl3")[1])
    # the same puff at either step: the dose at each place is kept (within the particles' noise beyond the plume)
    dose = [r.exposure.total().sum(axis=0) * r.exposure.dt_s for r in (coarse, fine)]
    np.testing.assert_allclose(dose[0], dose[1], rtol=0.05)
    # and the air comes as a puff: its peak within the first step is far above the step's mean
    e = coarse.exposure
    assert e.peak_extra is not None and (e.peak_extra[:, 1] > 5.0 * e.total()[:, 1]).any()


def test_the_puff_keeps_the_release_s_mass_and_moment() -> None:
    from plumecast.release import PUFF_S, source_groups

    sc = scenario_from_dict(_data(600.0, **PUFF))
    grp = source_groups(sc)[0]
    puff = grp.as_puff()
    assert grp.instant_s == pytest.approx(180.0) and puff.start_s == pytest.approx(180.0)
    t = np.array([179.0, 180.0, 180.0 + PUFF_S, 600.0, 3600.0])
    np.testing.assert_allclose(puff.emitted_by(t), [0.0, 0.0, 300.0, 300.0, 300.0], atol=1e-9)
    np.testing.assert_allclose(grp.emitted_by(t[3:]), [300.0, 300.0])  # the particles' group: over the step
    assert grp.emitted_by(np.array([180.0 + PUFF_S]))[0] < 1.0
    # a release with a duration is its own puff
    lasting = source_groups(scenario_from_dict(_data(600.0, **{**PUFF, "duration_s": 60.0})))[0]
    assert lasting.as_puff() is lasting


def test_people_sheltering_get_a_passing_cloud_at_once(puff_runs: dict[float, Any]) -> None:
    a, b = puff_runs[600.0].consequences(), puff_runs[10.0].consequences()
    for level in (1, 2, 3):
        got, ref = _hours(a, f"hours_to_aegl{level}_sheltered"), _hours(b, f"hours_to_aegl{level}_sheltered")
        assert np.isfinite(got[np.isfinite(ref)]).all(), (level, got, ref)  # AEGL-1 at 1 km had read never
        both = np.isfinite(got) & np.isfinite(ref)
        assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (level, got, ref)
    assert np.isfinite(_hours(a, "hours_to_aegl1_sheltered")[1])


def _fine_and_coarse(rng: np.random.Generator, n_coarse: int, per: int) -> tuple[np.ndarray, ...]:
    """A fine outdoor series (time, 3): a plume that rises and stays, puffs of a few fine steps, and noise."""
    n = n_coarse * per
    t = np.arange(n)
    plume = np.clip((t - rng.integers(0, n // 2)) / rng.integers(1, n), 0.0, 1.0) * rng.uniform(0.5, 2.0)
    puffs = np.zeros(n)
    for _ in range(3):
        at = rng.integers(0, n - 3)
        puffs[at:at + rng.integers(1, 4)] += rng.uniform(1.0, 30.0)
    noise = rng.uniform(0.0, 1.0, n) * (rng.uniform(0.0, 1.0, n) < 0.1)
    fine = np.stack([plume, puffs, plume + puffs + noise], axis=1)
    return fine, fine.reshape(n_coarse, per, 3).mean(axis=1), fine.reshape(n_coarse, per, 3).max(axis=1)


@pytest.mark.parametrize("ach", [0.5, 4.0, 20.0])
def test_the_indoor_bound_is_never_below_the_building_s_air(ach: float) -> None:
    from plumecast.shelter import indoor_peak_bound

    rng = np.random.default_rng(44)
    for _ in range(20):
        per, n_coarse, dt = 60, 12, 600.0
        fine, mean, peak = _fine_and_coarse(rng, n_coarse, per)
        inside, end = indoor_concentration(fine, np.full(fine.shape[0], dt / per), ach)
        most = np.maximum(inside, end).reshape(n_coarse, per, 3).max(axis=1)  # the building's air, finely
        bound = indoor_peak_bound(mean, peak, np.full(n_coarse, dt), ach)
        assert (bound >= most * (1.0 - 1e-9)).all()
        # the coarse model's own air, constant over each step, is below its bound where nothing passes within a step
        coarse_in, coarse_end = indoor_concentration(mean, np.full(n_coarse, dt), ach)
        assert (bound >= coarse_end * (1.0 - 1e-12)).all()
    # where the peak is the mean the bound is the larger of the model's air at the step's two ends
    flat = np.linspace(0.0, 1.0, 8)[:, None]
    _, ends = indoor_concentration(flat, np.full(8, 600.0), ach)
    np.testing.assert_allclose(indoor_peak_bound(flat, flat, np.full(8, 600.0), ach)[:, 0],
                               np.maximum(np.append(0.0, ends[:-1, 0]), ends[:, 0]), rtol=1e-12)


def test_a_shelter_order_s_bound_is_never_below_what_its_people_breathe() -> None:
    from plumecast.countermeasures.shelter_order import sheltered_exposure, sheltered_peak

    rng = np.random.default_rng(7)
    per, n_coarse, dt = 60, 12, 600.0
    for start_s, stop_s in ((0.0, math.inf), (1500.0, math.inf), (900.0, 4000.0)):
        for _ in range(10):
            fine, mean, peak = _fine_and_coarse(rng, n_coarse, per)
            edges = np.arange(fine.shape[0] + 1) * dt / per
            breathed = sheltered_exposure(fine, edges[:-1], edges[1:], start_s, stop_s, 0.5, 4.0)
            most = breathed.reshape(n_coarse, per, 3).max(axis=1)
            coarse_edges = np.arange(n_coarse + 1) * dt
            bound = sheltered_peak(mean, peak, coarse_edges[:-1], coarse_edges[1:], start_s, stop_s, 0.5, 4.0)
            # the fine steps' means are below the fine air's highest, itself below the bound
            assert (bound >= most * (1.0 - 1e-9)).all(), (start_s, stop_s)


def test_compare_s_shelter_gets_a_passing_cloud_at_once() -> None:
    # 300 kg of chlorine at once, class F, 1.5 m/s: AEGL-3 indoors 0.3 km out at 6.4 min with 10-s
    # steps; 300-s steps had read 7.3 min (the step's means let the cloud in over the step)
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plans

    case = {**PUFF, "speed": 1.5, "cls": "F"}
    plans = [PlanConfig.model_validate(p) for p in (
        {"name": "shelter", "measures": [{"type": "shelter", "start_h": 0.0}]},
        {"name": "shelter and leave", "measures": [{"type": "shelter", "start_h": 0.0},
                                                   {"type": "evacuation", "order_h": 0.5, "clearance_h": 0.1}]})]
    got = {}
    for step in (300.0, 10.0):
        sc = scenario_from_dict(_data(step, **case))
        got[step] = evaluate_plans(run(sc).exposure, sc.resolved_agent(), [(p, None) for p in plans], ["src"])
    for coarse, ref in zip(got[300.0], got[10.0], strict=True):
        for level in (2, 3):
            now, then = getattr(coarse, f"arrival{level}_s"), getattr(ref, f"arrival{level}_s")
            assert np.isfinite(now[np.isfinite(then)]).all(), (coarse.plan, level, now, then)
            both = np.isfinite(now) & np.isfinite(then)
            assert (now[both] <= then[both] + 1.0).all(), (coarse.plan, level, now / 60.0, then / 60.0)
    assert np.isfinite(got[10.0][0].arrival3_s[0])  # the level is reached indoors there


def _slowing_wind(fast: float, slow: float, at_s: float, hours: float) -> xr.Dataset:
    """A uniform wind from the west, ``fast`` until ``at_s``, ``slow`` from 5 min later (records every 5 min)."""
    from plumecast.met import build_wind_dataset

    lat, lon = np.arange(50.0, 54.001, 0.25), np.arange(3.0, 7.001, 0.25)
    t = np.arange(int(hours * 12) + 1) * 300.0
    u = np.where(t <= at_s, fast, slow).astype(np.float32)
    ones = np.ones((1, lat.size, lon.size), np.float32)
    times = (np.datetime64("2026-01-20T06:00") + t.astype("timedelta64[s]")).astype("datetime64[ns]")
    return build_wind_dataset(u[:, None, None] * ones, 0.0 * ones.repeat(t.size, axis=0), times, lat, lon,
                              source="slowing", level="10 m", steady=False)


def test_a_slowing_wind_s_front_is_not_dated_by_the_step_s_middle() -> None:
    # 3 t over 600 s, class D, 4 m/s slowing to 1 m/s at 15-20 min; 3 and 5 km out
    case = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 4.0, "cls": "D", "km": (3.0, 5.0), "hours": 1.0}
    wind = _slowing_wind(4.0, 1.0, 900.0, 1.0)
    res = {step: run(scenario_from_dict(_data(step, **case)), wind=wind) for step in (300.0, 10.0)}
    fine = res[10.0].exposure
    near = fine.total() - fine.other_air  # the near-field air at 10-s steps
    first_air_s = np.array([(np.argmax(near[:, i] > 0.0)) * fine.dt_s for i in range(near.shape[1])])  # step start
    floor = res[300.0].exposure.arrival_floor()
    assert floor is not None
    # the coarse steps' front is no later than the air at 10-s steps (5 km: 18.7 min against 18.0)
    assert (floor.front_s[-1] <= first_air_s + 1e-6).all(), (floor.front_s[-1] / 60.0, first_air_s / 60.0)
    a, b = res[300.0].consequences(), res[10.0].consequences()
    got, ref = _hours(a, "hours_to_aegl1"), _hours(b, "hours_to_aegl1")
    assert np.isfinite(got).all() and np.isfinite(ref).all()
    assert (got <= ref + ONE_SECOND_H).all(), (got * 60.0, ref * 60.0)  # 5 km: 19.6 min had come after 18.2


def test_a_steady_wind_keeps_its_front() -> None:
    # no change of speed: the bound is the step's own front, to the bit (the floor of the steady cases stands)
    from plumecast.near_field_plume import NearFieldSource

    src = NearFieldSource(group=0, lat=52.0, lon=5.0, height_m=1.0, pg_class="D", terrain="rural",
                          mixing_height_m=800.0, decay_rate_s=0.0, rate_at=lambda t: np.where(
                              (np.asarray(t) >= 0) & (np.asarray(t) < 600), 5.0, 0.0),
                          emitted_by=lambda t: 5.0 * np.clip(np.asarray(t, dtype=float), 0.0, 600.0),
                          emitted_knots=(np.array([0.0, 600.0]), np.array([0.0, 3000.0])), start_s=0.0)
    lon = 5.0 + np.array([0.5, 1.0, 2.0]) / KM_PER_DEG_LON_AT_52
    lat = np.full(3, 52.0)
    edges = np.arange(0.0, 7200.0, 600.0)

    def wind(lon_: Any, lat_: Any, t: float) -> tuple[float, float]:
        return 3.0, 0.0

    fronts = []
    for span in (None, (3.0, 3.0), (1.0, 3.0)):
        front = np.full(3, np.inf)
        src.step_mean_at(lat, lon, 300.0, 900.0, 30e3, wind, edges, front=front, speed_span=span)
        fronts.append(front)
    np.testing.assert_array_equal(fronts[0], fronts[1])
    assert np.isfinite(fronts[0]).all() and (fronts[2] < fronts[0]).all()  # a slower spell: earlier, never later
