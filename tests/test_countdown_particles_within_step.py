"""The particles' air between two samples (session 48): a puff that passes a town between the ends of two
steps is counted down by where its particles go within the step, never missed.

The receptors' air from the particles is their kernel estimate where the transport leaves them, at each
step's end. 140 t of chlorine at once, the near field off (the particles alone), 10 m/s: a town 21 km out
breathed 10 mg/m3 at 10-s steps (AEGL-2 at 32 min), but 600-s steps
sampled the cloud at 30 and 40 min, on either side of it (3.5 mg/m3 at most), and read AEGL-2 "never". The
particles are now also placed on their way within each step (module ``exposure_rings``), for the
countdowns only.
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
TOWNS_KM = (21.0, 22.0, 23.0)


def _scenario(step_s: float, backend: str = "numba") -> Any:
    return scenario_from_dict({
        "name": "puff", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 1.5,
        "time_step_s": step_s, "particles": 20000, "seed": 3, "backend": backend,
        "met": {"source": "uniform", "u_m_s": 10.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "tank", "lat": 52.0, "lon": 5.0, "height_m": 1.0,
                      "amount_kg": 1.4e5, "duration_s": 0.0, "dense_gas": "off"}],
        "near_field": {"distance_km": 0},
        "receptors": {"points": [{"name": f"town {k:g} km", "lat": 52.0, "lon": 5.0 + k / KM_PER_DEG_LON_AT_52,
                                  "population": 1000} for k in TOWNS_KM]},
        "output": {"grid": {"lon_min": 4.5, "lon_max": 6.0, "lat_min": 51.7, "lat_max": 52.3,
                            "resolution_deg": 0.05}, "interval_min": 30},
    })


@pytest.fixture(scope="module")
def runs() -> dict[float, Any]:
    return {step: run(_scenario(step)) for step in (10.0, 600.0, 900.0)}


def _hours(result: Any, level: int) -> np.ndarray:
    return np.asarray(result.consequences()[f"hours_to_aegl{level}"].values, dtype=float)


@pytest.mark.parametrize("step_s", [600.0, 900.0])
def test_a_puff_between_two_samples_is_counted_down_no_later_than_at_10_s(runs: dict[float, Any],
                                                                          step_s: float) -> None:
    coarse, fine = runs[step_s], runs[10.0]
    ref2 = _hours(fine, 2)
    assert np.isfinite(ref2[0]) and 0.5 < ref2[0] < 0.75, ref2  # the town 21 km out reaches AEGL-2 at 10-s steps
    for level in (1, 2, 3):
        got, ref = _hours(coarse, level), _hours(fine, level)
        assert np.isfinite(got[np.isfinite(ref)]).all(), (level, got, ref)  # AEGL-2 had read never at 600 s
        both = np.isfinite(got) & np.isfinite(ref)
        assert (got[both] <= ref[both] + ONE_SECOND_H).all(), (level, got, ref)


def test_the_steps_ends_alone_miss_the_puff_and_the_figures_stay_theirs(runs: dict[float, Any]) -> None:
    coarse, fine = runs[600.0], runs[10.0]
    aegl2 = 2.8 * 70.906 / 24.45e3 * 1e-3  # 2.8 ppm of chlorine [kg m-3]
    e = coarse.exposure
    assert e.particle_peak is not None and e.peak_extra is not None
    assert e.total()[:, 0].max() < aegl2 < fine.exposure.total()[:, 0].max()  # the end samples are below it
    assert (e.total()[:, 0] + e.particle_peak[:, 0]).max() >= aegl2  # the air within the step is not
    # the air within the step is for the countdowns alone: the concentrations and doses are the end samples'
    ds = coarse.consequences()
    np.testing.assert_allclose(ds["peak_concentration"].values, e.total().max(axis=0), rtol=1e-12)
    # steps of 60 s or less read the end samples alone, as before
    assert fine.exposure.particle_peak is not None and not fine.exposure.particle_peak.any()


@pytest.mark.parametrize("step_s", [600.0, 900.0])
def test_an_onset_long_before_the_peak_reads_the_steps_lowest_level(runs: dict[float, Any], step_s: float) -> None:
    # 23 km out the air crosses the onset floor some 20 min before its peak: the within-step peak had been read
    # against the AEGL for the duration elapsed at the step's start, a higher level than at the step's end, and
    # AEGL-2 read "never" at 600-s steps against 36 min at 10-s steps (session 46)
    ref = _hours(runs[10.0], 2)[2]
    assert np.isfinite(ref) and 0.5 < ref < 0.75, ref
    got = _hours(runs[step_s], 2)[2]
    assert np.isfinite(got) and got <= ref + ONE_SECOND_H, (got * 60, ref * 60)
