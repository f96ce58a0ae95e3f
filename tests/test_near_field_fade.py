"""Beyond ``near_field.distance_km`` a point release's plume fades into its particles
(plumecast.exposure, NEAR_FIELD_FADE): a receptor's air is the particles' or, where larger,
the plume's weighted from 1 at the near field's edge to 0 at three times it. The particles
alone, spread by the synoptic K_h, had read 29 times less at 30.1 km than the plume at
29.9 km, and a small release's onset that came at 29.9 km in about 4 h never came at 30.1
or 35 km: countdowns erred late just beyond the edge (session 29 audit, docs/exposure.md)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.exposure import NEAR_FIELD_FADE, plume_fade
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

KM = (20.0, 29.9, 30.1, 31.0, 35.0, 60.0, 95.0)
KM_PER_DEG_LON_AT_40 = 85.1
DT = 300.0


def _run(rate_kg_s: float, stop_h: float, u_m_s: float, duration_h: float, agent: str, **near_field):
    return run(scenario_from_dict({
        "name": "edge of the near field", "start": "2026-03-01T00:00:00Z", "duration_h": duration_h,
        "time_step_s": DT, "particles": 20000, "seed": 3, "backend": "numpy", "agent": agent,
        "met": {"source": "uniform", "u_m_s": u_m_s, "v_m_s": 0.0},
        "releases": [{"type": "point", "lat": 40.0, "lon": -100.0, "height_m": 1, "rate_kg_s": rate_kg_s,
                      "stop_h": stop_h, "dense_gas": "off"}],
        "receptors": {"points": [{"name": f"{k:g} km", "lat": 40.0, "lon": -100.0 + k / KM_PER_DEG_LON_AT_40,
                                  "population": 1000} for k in KM]},
        "near_field": {"stability": "D", **near_field},
    }))


def test_the_plumes_weight_falls_from_one_at_the_edge_to_zero_at_three_times_it():
    d = 30e3
    w = plume_fade(np.array([10e3, 30e3, 30e3 + 1.0, 60e3, 75e3, 90e3, 120e3]), d)
    assert np.isnan(w[:2]).all()  # within the near field the plume is the air
    np.testing.assert_allclose(w[2:], [1.0 - 1.0 / 60e3, 0.5, 0.25, 0.0, 0.0])
    assert NEAR_FIELD_FADE == 3.0
    assert np.isnan(plume_fade(np.array([5e3]), 0.0)).all()  # near field off: no plume anywhere


@pytest.fixture(scope="module")
def ammonia():
    """10 kg/s of ammonia for 3 h, class D, 3 m/s: the case docs/exposure.md measured (29 times)."""
    return _run(10.0, 3.0, 3.0, 12.0, "ammonia")


def test_the_air_just_beyond_the_near_field_is_the_plumes_not_the_particles(ammonia):
    peak = ammonia.exposure.total().max(axis=0)
    at = {k: float(peak[i]) for i, k in enumerate(KM)}
    assert at[30.1] > 0.9 * at[29.9]  # was 0.035 times
    assert at[31.0] > 0.85 * at[29.9]
    # and falls with distance through the fade
    assert at[29.9] > at[30.1] > at[31.0] > at[35.0] > at[60.0] > 0.0


def test_beyond_the_near_field_the_air_is_never_below_the_particles_alone(ammonia, monkeypatch):
    """The same run with the fade cut to nothing (its end a millionth beyond the edge): the
    particles alone, as before the fade. The particles are the same (the near field moves none)."""
    monkeypatch.setattr("plumecast.exposure.NEAR_FIELD_FADE", 1.0 + 1e-6)
    alone = _run(10.0, 3.0, 3.0, 12.0, "ammonia").exposure.total()
    faded = ammonia.exposure.total()
    i29, i30, i60, i95 = (KM.index(k) for k in (29.9, 30.1, 60.0, 95.0))
    np.testing.assert_array_equal(faded[:, i29], alone[:, i29])  # inside the near field: the plume either way
    for i in (i30, i60):
        assert (faded[:, i] >= alone[:, i]).all()
    assert faded[:, i30].max() > 10.0 * alone[:, i30].max()  # the jump the fade removes (29 times)
    assert faded[:, i60].max() > 2.0 * alone[:, i60].max()
    np.testing.assert_array_equal(faded[:, i95], alone[:, i95])  # beyond 90 km: the particles alone


@pytest.mark.parametrize("share", [0.05, 0.2])
def test_a_countdown_just_beyond_the_near_field_does_not_err_late(share):
    """1 kg/s of chlorine, 2 m/s: a share of the peak at 29.9 km came there in 4 h and never at
    30.1 or 35 km. Now it comes there no later than with the near field carried to 36 km."""
    faded = _run(1.0, 7.0, 2.0, 7.0, "chlorine").exposure.total()
    plume = _run(1.0, 7.0, 2.0, 7.0, "chlorine", distance_km=36).exposure.total()

    def first_h(air: np.ndarray, km: float) -> float:
        hit = np.flatnonzero(air[:, KM.index(km)] > share * air[:, KM.index(29.9)].max())
        return float((hit[0] + 1) * DT / 3600.0) if hit.size else np.inf

    assert first_h(faded, 29.9) == first_h(plume, 29.9) < 4.5
    for km in (30.1, 31.0, 35.0):
        assert first_h(faded, km) <= first_h(plume, km) < 5.0, km
