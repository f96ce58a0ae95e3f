"""The particles' ways within long steps (particle countdown audit, session 50): a way longer than the
receptors' search reach passed a town unseen.

The particles' air within a step (module ``exposure_rings``) was read only from the particles that end the step
within ``MAX_RADIUS_M`` (100 km) of a receptor, in the kernels' cells near one. A step's way longer than that
passed a town and ended beyond it: 140 t of chlorine at once, the near field off, 10 m/s, 6-h steps (216 km
a step) read AEGL-1 "never" at a town 300 km out (its air within the steps 0.01 mg/m3), where 60-s steps
reach it at 8.2 h (3.3 mg/m3). The search now reaches the way's length farther.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

KM_PER_DEG_LON_AT_52 = 111.32 * math.cos(math.radians(52.0))
ONE_SECOND_H = 1.0 / 3600.0


def _scenario(step_s: float, backend: str = "numba") -> Any:
    return scenario_from_dict({
        "name": "long steps", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 12,
        "time_step_s": step_s, "particles": 5000, "seed": 3, "backend": backend,
        "met": {"source": "uniform", "u_m_s": 10.0, "v_m_s": 0.0},
        "turbulence": {"kh_m2_s": 500, "kz_m2_s": 10, "mixing_height_m": 500},
        "releases": [{"type": "point", "name": "tank", "lat": 52.0, "lon": 5.0, "height_m": 1.0,
                      "amount_kg": 1.4e5, "duration_s": 0.0, "dense_gas": "off"}],
        "near_field": {"distance_km": 0},
        "receptors": {"points": [{"name": "town 300 km", "lat": 52.0, "lon": 5.0 + 300.0 / KM_PER_DEG_LON_AT_52,
                                  "population": 1000}]},
        "output": {"grid": {"lon_min": 4.0, "lon_max": 12.0, "lat_min": 50.0, "lat_max": 54.0,
                            "resolution_deg": 0.5}, "interval_min": 360},
    })


@pytest.fixture(scope="module")
def fine() -> Any:
    return run(_scenario(60.0))


def _hours(result: Any) -> float:
    return float(result.consequences()["hours_to_aegl1"].values[0])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_way_longer_than_the_search_reach_is_counted_down(fine: Any, backend: str) -> None:
    ref = _hours(fine)
    assert np.isfinite(ref) and 7.5 < ref < 9.0, ref  # the town reaches AEGL-1 at 60-s steps
    coarse = run(_scenario(21600.0, backend))
    got = _hours(coarse)
    assert np.isfinite(got) and got <= ref + ONE_SECOND_H, (got, ref)  # it had read never
    e = coarse.exposure
    assert e.particle_peak is not None
    aegl1 = 0.5 * 70.906 / 24.45e3 * 1e-3  # 0.5 ppm of chlorine [kg m-3]
    assert e.total()[:, 0].max() < aegl1 <= (e.total()[:, 0] + e.particle_peak[:, 0]).max()  # the ways, not the ends


def _interval_scenario(interval_min: float) -> Any:
    rng = np.random.default_rng(0)
    pts = [{"name": f"p{i}", "lat": float(51.5 + rng.random()), "lon": float(5.1 + 3.0 * rng.random()),
            "population": 1000} for i in range(40)]
    return scenario_from_dict({
        "name": "long interval", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 12,
        "time_step_s": 600.0, "particles": 3000, "seed": 5,
        "met": {"source": "uniform", "u_m_s": 5.0, "v_m_s": 0.0},
        "turbulence": {"kh_m2_s": 500, "kz_m2_s": 10, "mixing_height_m": 500},
        "releases": [{"type": "point", "name": "tank", "lat": 52.0, "lon": 5.0, "height_m": 1.0,
                      "amount_kg": 1.4e5, "duration_s": 1800.0, "dense_gas": "off"}],
        "near_field": {"distance_km": 0}, "receptors": {"points": pts},
        "output": {"grid": {"lon_min": 4.0, "lon_max": 10.0, "lat_min": 50.0, "lat_max": 54.0,
                            "resolution_deg": 0.5}, "interval_min": interval_min},
    })


def test_the_ways_buffers_do_not_grow_with_the_output_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernels' buffers of the places within the steps held every step of an output interval: 72 steps of
    # 9 places at a 12-h interval (1,000 receptors: 475 MB more, against 40 MB at an hour); a call now holds at
    # most 60 places, 6 steps at 600 s, whatever the interval, and the figures are the same as with one call
    from plumecast import exposure

    calls: list[int] = []
    original = exposure.ExposureSampler.kernel_args

    def kernel_args(self: Any, nblocks: int, nsteps: int, step0: int = 0) -> Any:
        calls.append(nsteps)
        return original(self, nblocks, nsteps, step0)

    monkeypatch.setattr(exposure.ExposureSampler, "kernel_args", kernel_args)
    capped = run(_interval_scenario(720.0))
    assert calls and max(calls) <= 6 and sum(calls) == 72, calls
    calls.clear()
    monkeypatch.setattr(exposure, "WAY_PLACES_PER_CALL", 10**6, raising=False)  # one call an interval, as before
    whole = run(_interval_scenario(720.0))
    assert max(calls) == 72, calls
    e, f = capped.exposure, whole.exposure
    assert e.peak_extra is not None and f.peak_extra is not None and e.peak_extra.any()
    np.testing.assert_array_equal(e.total(), f.total())
    np.testing.assert_array_equal(e.peak_extra, f.peak_extra)
    np.testing.assert_array_equal(capped.concentration.values, whole.concentration.values)
