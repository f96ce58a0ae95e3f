"""A countdown is never given before the air that reaches the level can be there (audit 42d, D4).

With 600-s steps, 3 t of chlorine over 600 s in class F at 1.5 m/s read AEGL-1 at 1 km as "now" (0.0 h), 9 min
before zones' front; a 300-kg puff with 300-s steps read AEGL-1 at 1 km and AEGL-3 at 0.3 km as "now" too. The
near-field air carries a front (the release's start plus ``(x - sqrt 2 sigma_x) / u``) and none of it is at a
place before it: where that air lifts the place to the level (the particles' air alone stays below it), the
countdown is no earlier than the front (consequence_metrics.ArrivalFloor). Early, never late: a run of the same
release at 10-s steps never reaches a level before the coarse steps' time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
import yaml

from plumecast.agents import get_agent
from plumecast.consequence import assess
from plumecast.consequence_metrics import ArrivalFloor
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from plumecast.units import ppm_to_kg_m3

KM_PER_DEG_LON_AT_52 = 111.32 * math.cos(math.radians(52.0))
CL2 = get_agent("chlorine")


def _data(step_s: float, *, amount_kg: float, duration_s: float, speed: float, cls: str, km: tuple[float, ...],
          hours: float = 1.0, dense: str | None = None) -> dict[str, Any]:
    rel: dict[str, Any] = {"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0,
                           "amount_kg": amount_kg, "duration_s": duration_s}
    if dense is not None:
        rel["dense_gas"] = dense
    return {
        "name": "front", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": hours,
        "time_step_s": step_s, "particles": 2000, "seed": 3,
        "met": {"source": "uniform", "u_m_s": speed, "v_m_s": 0.0}, "releases": [rel],
        "local_weather": {"wind_speed_m_s": speed, "wind_from_deg": 270, "stability": cls, "terrain": "rural"},
        "receptors": {"points": [{"name": f"x{k:g}", "lat": 52.0, "lon": 5.0 + k / KM_PER_DEG_LON_AT_52,
                                  "population": 1000} for k in km]},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 5.5, "lat_min": 51.8, "lat_max": 52.2,
                            "resolution_deg": 0.05}, "interval_min": 60},
    }


#: the audit's two cases (F600: dense chlorine, class F; ppuff300: a passive puff, class D) and a 10-min release
#: in class D
F600 = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 1.5, "cls": "F", "km": (0.3, 1.0)}
PUFF = {"amount_kg": 300.0, "duration_s": 0.0, "speed": 3.0, "cls": "D", "km": (0.3, 1.0), "dense": "off"}
D10 = {"amount_kg": 3000.0, "duration_s": 600.0, "speed": 3.0, "cls": "D", "km": (1.0, 3.0)}


def _minutes(ds: xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(ds[name].values, dtype=float) * 60.0


def _zones_first_air_min(tmp_path: Path, data: dict[str, Any]) -> np.ndarray:
    """zones' first air [min] at the receptors: the first time its outdoor series is above 0."""
    from plumecast.nearfield.zones import compute_zones, read_zones_scenario

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    pts = compute_zones(read_zones_scenario(path, None).scenario, consequences=False).points
    assert pts is not None
    t = np.asarray(pts["time"].values, dtype=float)
    air = np.asarray(pts["outdoor_ppm"].transpose("time", ...).values, dtype=float)
    return np.array([t[np.argmax(air[:, i] > 0.0)] / 60.0 for i in range(air.shape[1])])


def test_the_floor_holds_where_the_near_field_air_lifts_the_place_and_not_where_the_particles_do() -> None:
    # one 600-s step whose mean is far above AEGL-1: "now" from the means alone; the near-field air's front at 9 min
    # moves it there, outdoors and sheltered, unless the other air alone reaches the level
    level = float(ppm_to_kg_m3(0.5, CL2.molecular_weight_g_mol))
    t = np.arange(1, 5) * 600.0
    c = np.array([[100.0, 100.0], [300.0, 300.0], [0.0, 0.0], [0.0, 0.0]]) * level
    da = xr.DataArray(c, dims=("time", "receptor"), coords={"time": t}, attrs={"units": "kg m-3"})
    front = np.full(c.shape, 540.0)
    other = np.zeros(c.shape)
    other[:, 1] = c[:, 1]  # all the particles' air there
    floor = ArrivalFloor.of_steps(front, other)
    plain = assess(da, CL2, [1.0, 1.0], start=0.0)
    got = assess(da, CL2, [1.0, 1.0], start=0.0, arrival_floor=floor)
    assert _minutes(plain, "hours_to_aegl1").tolist() == [0.0, 0.0]
    assert _minutes(got, "hours_to_aegl1").tolist() == [9.0, 0.0]
    for lv in (1, 2, 3):
        for suffix in ("", "_sheltered"):
            a, b = _minutes(got, f"hours_to_aegl{lv}{suffix}"), _minutes(plain, f"hours_to_aegl{lv}{suffix}")
            assert np.isfinite(a).tolist() == np.isfinite(b).tolist()  # reached where it was, no more
            assert not np.isfinite(a[0]) or a[0] == max(b[0], 9.0)  # the near field's: not before its front
            assert np.array_equal(a[1], b[1], equal_nan=True)  # the particles': unchanged
    # the fronts and the other air accumulate over the steps; no floor where the level is never reached
    fl = ArrivalFloor.of_steps(np.array([[np.inf, 700.0], [500.0, 900.0]]), np.array([[0.0, 3.0], [1.0, 0.0]]))
    at = fl.at(np.array([1, 1]), np.array([2.0, 2.0]))
    assert at[0] == 500.0 and np.isnan(at[1])
    assert np.isnan(fl.at(np.array([-1, 0]), np.array([2.0, 5.0]))).tolist() == [True, False]


@pytest.mark.parametrize(("case", "step_s"), [(F600, 600.0), (PUFF, 300.0)], ids=["F600", "ppuff300"])
def test_coarse_steps_no_longer_read_now_before_the_front(tmp_path: Path, case: dict[str, Any],
                                                          step_s: float) -> None:
    data = _data(step_s, **case)
    ds = run(scenario_from_dict(data)).consequences()
    zones = _zones_first_air_min(tmp_path, data)
    a1 = _minutes(ds, "hours_to_aegl1")
    assert np.isfinite(a1).all()
    # not "now": the front at 0.3 and 1 km (zones' 3.2 and 9.4 min in F600, 1.5 and 5.0 in the puff); within a
    # step of zones' first air, and never after it
    assert (a1 > 1.0).all(), a1
    assert (np.abs(a1 - zones) <= step_s / 60.0).all(), (a1, zones)
    assert (a1 <= zones + 1.0 / 60.0).all(), (a1, zones)
    for lv in (2, 3):
        for suffix in ("", "_sheltered"):
            got = _minutes(ds, f"hours_to_aegl{lv}{suffix}")
            assert (got[np.isfinite(got)] >= a1[np.isfinite(got)] - 1e-9).all()


@pytest.fixture(scope="module")
def fine() -> dict[str, xr.Dataset]:
    return {name: run(scenario_from_dict(_data(10.0, **case))).consequences()
            for name, case in (("F600", F600), ("D10", D10))}


@pytest.mark.parametrize("name", ["F600", "D10"])
def test_a_run_at_10_s_steps_never_reaches_a_level_before_the_coarse_bound(fine: dict[str, xr.Dataset],
                                                                          name: str) -> None:
    case = F600 if name == "F600" else D10
    coarse = run(scenario_from_dict(_data(600.0, **case))).consequences()
    for lv in (1, 2, 3):
        for suffix in ("", "_sheltered"):
            key = f"hours_to_aegl{lv}{suffix}"
            ref, got = _minutes(fine[name], key), _minutes(coarse, key)
            assert np.isfinite(got[np.isfinite(ref)]).all(), (key, got, ref)  # reached at 10 s: reached here
            both = np.isfinite(ref) & np.isfinite(got)
            assert (got[both] <= ref[both] + 1.0 / 60.0).all(), (key, got, ref)  # early, never late
    # and AEGL-1 now comes with the front, as at 10-s steps (it had read "now" at 1 km: 0 against 9.3 and 4.8 min)
    a1, ref1 = _minutes(coarse, "hours_to_aegl1"), _minutes(fine[name], "hours_to_aegl1")
    assert (np.abs(a1 - ref1) <= 1.0).all(), (a1, ref1)


def test_compare_keeps_the_floor_for_its_plans() -> None:
    # 5 kg/s for 20 min, terminated at 10 min: the baseline, the cut and people sheltering or leaving are never
    # counted down before the front, nor after the same plan on the same run at 10-s steps
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plans

    plans = [PlanConfig(name="nothing")] + [PlanConfig.model_validate(p) for p in (
        {"name": "stop", "measures": [{"type": "termination", "at_h": 1.0 / 6.0}]},
        {"name": "shelter", "measures": [{"type": "shelter", "start_h": 0.0}]},
        {"name": "leave", "measures": [{"type": "evacuation", "order_h": 0.5, "clearance_h": 0.1}]})]
    got = {}
    for step_s in (600.0, 10.0):
        sc = scenario_from_dict(_data(step_s, **{**D10, "amount_kg": 6000.0, "duration_s": 1200.0}))
        result = run(sc, exposure_tags_h=[1.0 / 6.0])
        got[step_s] = evaluate_plans(result.exposure, sc.resolved_agent(), [(p, None) for p in plans], ["src"])
        if step_s == 600.0:
            table = _minutes(result.consequences(), "hours_to_aegl2")
            floor = result.exposure.arrival_floor()
            assert floor is not None
            first_air = floor.front_s[-1] / 60.0
    base = got[600.0][0]
    np.testing.assert_allclose(base.arrival2_s / 60.0, table, rtol=0, atol=1e-6)  # as run's table
    assert (base.arrival2_s / 60.0 > 4.0).all()  # it had read 0 at 1 km
    for coarse, ref in zip(got[600.0], got[10.0], strict=True):
        for level in (2, 3):
            now, then = getattr(coarse, f"arrival{level}_s") / 60.0, getattr(ref, f"arrival{level}_s") / 60.0
            assert np.isfinite(now[np.isfinite(then)]).all(), (coarse.plan, level, now, then)
            seen = np.isfinite(now)
            assert (now[seen] >= first_air[seen] - 1e-9).all(), (coarse.plan, level, now, first_air)
            both = seen & np.isfinite(then)
            assert (now[both] <= then[both] + 1.0 / 60.0).all(), (coarse.plan, level, now, then)
    assert np.isfinite(got[600.0][1].arrival2_s).all()  # the cut reaches AEGL-2 at both places


def test_the_particles_air_keeps_its_countdown(monkeypatch: pytest.MonkeyPatch) -> None:
    # a place the particles' air reaches the level at (a point 500 m off the class-F plume's axis, in a 1-km
    # kernel disc beyond a 200-m near field): no front bounds it, and its countdown is the one the steps give
    from plumecast.exposure import ReceptorExposure

    data = _data(600.0, **F600)
    data["near_field"] = {"distance_km": 0.2}
    data["receptors"]["points"].append({"name": "x1y0.5", "lat": 52.0 + 0.5 / 111.2, "population": 1000,
                                        "lon": 5.0 + 1.0 / KM_PER_DEG_LON_AT_52})
    result = run(scenario_from_dict(data))
    with_floor = result.consequences()
    floor = result.exposure.arrival_floor()
    assert floor is not None
    monkeypatch.setattr(ReceptorExposure, "arrival_floor", lambda self: None)
    without = result.consequences()
    off = 2  # the point off the axis
    a1 = _minutes(with_floor, "hours_to_aegl1")
    assert np.isfinite(a1[off])
    k = int(a1[off] * 60.0 // 600.0)
    level = float(ppm_to_kg_m3(0.5, CL2.molecular_weight_g_mol))
    assert floor.other[k, off] >= level  # the particles alone reach AEGL-1 there
    assert np.isfinite(floor.front_s[-1, off]) and floor.front_s[-1, off] / 60.0 > a1[off]  # a front it ignores
    for lv in (1, 2, 3):
        for suffix in ("", "_sheltered"):
            key = f"hours_to_aegl{lv}{suffix}"
            np.testing.assert_array_equal(_minutes(with_floor, key)[off], _minutes(without, key)[off])
