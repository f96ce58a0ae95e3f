"""A passive near-field plume spreads each kilogram's arrival over the cloud's passage (sigma_x = sigma_y, as
Palazzi et al. 1982 and zones take it), as the dense cloud's always had (plumecast.near_field_smear). Without
it a release shorter than the passage put its whole mass into one step at every distance: 300 kg of chlorine
over 60 s (dense_gas off, class D, 3 m/s, 60-s steps) read 2.0 and 0.54 ppm at 10 and 30 km in run, 7 and 16
times zones' 0.27 and 0.034 ppm, and the figure fell with the step length (audit of run against zones,
session 42)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

KM = (3.0, 10.0, 30.0)
KM_PER_DEG_LON_AT_52 = 68.5


def _data(step_s: float, duration_s: float) -> dict:
    return {
        "name": "short passive", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 5,
        "time_step_s": step_s, "particles": 20000, "seed": 7,
        "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0,
                      "amount_kg": 300.0, "duration_s": duration_s, "dense_gas": "off"}],
        "local_weather": {"wind_speed_m_s": 3.0, "wind_from_deg": 270, "stability": "D", "terrain": "rural"},
        "near_field": {"stability": "D"},
        "receptors": {"points": [{"name": f"x{k:g}", "lat": 52.0, "lon": 5.0 + k / KM_PER_DEG_LON_AT_52,
                                  "population": 1000} for k in KM]},
        "output": {"grid": {"lon_min": 4.0, "lon_max": 6.0, "lat_min": 51.5, "lat_max": 52.5,
                            "resolution_deg": 0.05}, "interval_min": 60},
    }


def _zones_peaks(tmp_path: Path, data: dict) -> np.ndarray:
    from plumecast.nearfield.zones import compute_zones, read_zones_scenario

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = compute_zones(read_zones_scenario(path, None).scenario, consequences=False)
    pts = res.points
    assert pts is not None
    return np.asarray(pts["outdoor_ppm"].max("time").values, dtype=float)


@pytest.mark.parametrize("duration_s", [60.0, 0.0], ids=["60 s", "puff"])
def test_a_short_passive_release_reads_as_zones_where_its_passage_outlasts_a_step(tmp_path: Path,
                                                                                 duration_s: float) -> None:
    data = _data(60.0, duration_s)
    zones = _zones_peaks(tmp_path, data)
    peaks = {}
    for step_s in (60.0, 300.0):
        res = run(scenario_from_dict(_data(step_s, duration_s)))
        peaks[step_s] = np.asarray(res.consequences()["peak_concentration_ppm"].values, dtype=float)
    # at 10 and 30 km the passage (2.5 sigma_x/u: 8 and 25 min) outlasts both steps: run's step means are zones'
    # peaks within 25 %, whatever the step (they had been 7-16 times zones' at 60-s steps, 1.3-2 at 300 s)
    for step_s, got in peaks.items():
        np.testing.assert_allclose(got[1:], zones[1:], rtol=0.25, err_msg=f"{step_s} s")
    # a step longer than the passage at 3 km averages over it: never above zones' peak
    assert peaks[300.0][0] <= zones[0] * 1.05
