"""Receptors inside a point release's near field read the near-field plume, not the
mean air of a particle cloud tens of kilometres away: the particles the plume stands
for count for the size of a receptor's disc (exposure_rings.near_field_excluded).

An audit (a chlorine release, 1.5 m/s, class F) had found the receptors' discs growing
past the near field's edge to find particles to count: a point 5 km downwind read
1e-8 kg m-3 for hours after the plume had passed, one upwind read gas, and one at 20 km
started its exposure clock 69 min before the plume arrived."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

KM_PER_DEG_LON_AT_40 = 85.1


def _scenario(backend: str) -> dict:
    pts = {"upwind 5 km": -5.0, "downwind 5 km": 5.0, "downwind 20 km": 20.0, "downwind 60 km": 60.0}
    return {
        "name": "near-field discs", "start": "2026-03-01T00:00:00Z", "duration_h": 4, "time_step_s": 300,
        "particles": 20000, "seed": 5, "backend": backend, "agent": "chlorine",
        "met": {"source": "uniform", "u_m_s": 1.5, "v_m_s": 0.0},
        # the random walk from the release: the widest spread of the particles ahead of the cloud
        "turbulence": {"kh_m2_s": 1.0e4, "kh_time_scale_s": 0.0, "mixing_height_m": 300.0},
        "near_field": {"stability": "F"},
        "releases": [{"type": "point", "lat": 40.0, "lon": -100.0, "height_m": 1.0, "amount_kg": 30000.0,
                      "duration_s": 600.0, "dense_gas": "off"}],
        "receptors": {"points": [{"name": n, "lat": 40.0, "lon": -100.0 + k / KM_PER_DEG_LON_AT_40}
                                 for n, k in pts.items()]},
    }


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_receptors_inside_the_near_field_read_nothing_from_the_distant_cloud(backend):
    res = run(scenario_from_dict(_scenario(backend)))
    names = list(res.exposure.receptors.name)
    air = res.exposure.total()  # (time, receptor) [kg m-3]
    t_h = (np.arange(air.shape[0]) + 1) * 300.0 / 3600.0
    up, d5, d20, d60 = (names.index(n) for n in ("upwind 5 km", "downwind 5 km", "downwind 20 km", "downwind 60 km"))
    # the particles did run far ahead of the cloud: the receptor beyond the near field reads them
    assert air[:, d60].max() > 0.0
    # upwind: nothing, ever
    assert np.all(air[:, up] == 0.0)
    # downwind at 5 km: the plume (from 5000 m / 1.5 m/s = 0.93 h to 1.1 h), then nothing but the Gaussian tail of
    # its arrivals' spread (sigma_x / u, since session 42: 1e-45 kg m-3 and less; the discs had read 1e-8)
    assert air[:, d5].max() > 1e-3
    assert np.all(air[t_h > 1.5, d5] < 1e-30)
    # at 20 km: nothing before the plume can be there (3.7 h after the release started)
    assert np.all(air[t_h < 3.5, d20] == 0.0)
