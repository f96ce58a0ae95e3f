"""The horizontal Lagrangian time scale: a particle's horizontal spread follows Taylor's
(1921) law, ``2 K [t - T (1 - exp(-t/T))]``, on every backend; T = 0 is the plain random
walk (``tests/test_transport.py``); the compiled kernels draw the same particles as the
oracle, with particles of different ages in one call."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.met import benchmark_wind, uniform_wind
from plumecast.transport import trajectories
from plumecast.transport.kernels_numpy import (
    HORIZONTAL_GAIN_TOLERANCE,
    OutputSampler,
    StepPhysics,
    horizontal_gain,
)
from plumecast.transport.lagrangian import get_kernel
from plumecast.transport.windgrid import wind_grid
from plumecast.units import EARTH_RADIUS_M
from tests.conftest import ALL_BACKENDS
from tests.helpers import assert_matches_oracle
from tests.transport.test_kernel_3d import DEPOSITION, _met_3d, _release, _sampler


def taylor_variance(kh: float, t: float, tl: float) -> float:
    """Taylor (1921), exponential autocorrelation, sigma_v^2 = K / T [m2]."""
    return 2.0 * kh * (t - tl * (1.0 - np.exp(-t / tl)))


@pytest.mark.parametrize(("dt", "tl"), [(600.0, 10800.0), (60.0, 10800.0), (3600.0, 1800.0), (900.0, 86400.0)])
def test_the_gain_table_sums_to_taylors_variance(dt, tl):
    g = horizontal_gain(dt, tl)
    assert g[0] < g[-1] <= 1.0 and np.all(np.diff(g) > 0.0)
    assert 1.0 - g[-1] < 2 * HORIZONTAL_GAIN_TOLERANCE
    steps = np.arange(1, 3 * g.size + 1)
    per_step = np.concatenate([g, np.full(2 * g.size, g[-1])]) ** 2
    kh = 1e4
    var = np.cumsum(2.0 * kh * dt * per_step)
    np.testing.assert_allclose(var, taylor_variance(kh, steps * dt, tl), rtol=1e-6)
    # young: sigma_v t; old: the random walk's 2 K t less the constant 2 K T
    sv = np.sqrt(kh / tl)
    np.testing.assert_allclose(np.sqrt(var[0]), sv * dt, rtol=0.5 * dt / tl + 1e-9)


def test_no_time_scale_is_the_plain_random_walk():
    np.testing.assert_array_equal(horizontal_gain(600.0, 0.0), [1.0])
    assert StepPhysics(dt_s=600.0, kh_m2_s=1e4).horizontal_gain().size == 1


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_spread_follows_taylor_young_and_old(backend):
    """10^5 particles from one point, no wind: the variance of their east and north
    displacements after 30 min, 3 h and 12 h is Taylor's, far below the random walk's
    2 K t while t << T."""
    kh, tl, dt = 1.0e4, 10800.0, 600.0
    wind = uniform_wind(0.0, 0.0, resolution_deg=2.0)
    npart = 100_000
    for n in (3, 18, 72):
        lon, lat = trajectories(np.zeros(npart), np.zeros(npart), wind, dt_s=dt, n_steps=n, kh_m2_s=kh,
                                kh_time_scale_s=tl, backend=backend, seed=21)
        x = np.deg2rad(lon) * EARTH_RADIUS_M
        y = np.deg2rad(lat) * EARTH_RADIUS_M
        t = n * dt
        expected = taylor_variance(kh, t, tl)
        np.testing.assert_allclose(np.var(x), expected, rtol=0.03)
        np.testing.assert_allclose(np.var(y), expected, rtol=0.03)
        if n == 3:
            assert expected < 0.1 * 2.0 * kh * t  # the constant K would spread it 3.5 times as wide


def test_numba_draws_the_oracles_particles_of_every_age():
    """Particles born at different steps (their ages differ within a call), on the
    single-level and the 3-D kernel, in calls that do not start at their births."""
    physics = StepPhysics(dt_s=600.0, kh_m2_s=1e4, kz_m2_s=20.0, mixing_height_m=900.0, seed=4,
                          kh_time_scale_s=5400.0)
    grid = wind_grid(benchmark_wind(2.0))
    out = {}
    for backend in ("numpy", "numba"):
        p = _release(2000, seed=7)
        s = OutputSampler(-180.0, 2.0, 180, -90.0, 2.0, 90, 200.0, np.zeros((90, 180)),
                          deposited=np.zeros((90, 180)))
        removed = np.zeros(2)
        dec = sum(get_kernel(backend)(p, grid, physics, s0, n, s, removed=removed) for s0, n in ((0, 5), (5, 19)))
        out[backend] = (p, s, removed, dec)
    assert_matches_oracle(out["numpy"], out["numba"])
    physics3 = StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=5, kh_time_scale_s=3600.0, **DEPOSITION)
    grid3 = _met_3d()
    out = {}
    for backend in ("numpy", "numba"):
        p = _release(2000, seed=2)
        s = _sampler()
        removed = np.zeros(2)
        dec = sum(get_kernel(backend)(p, grid3, physics3, s0, n, s, removed=removed) for s0, n in ((0, 7), (7, 23)))
        out[backend] = (p, s, removed, dec)
    assert_matches_oracle(out["numpy"], out["numba"])
    # the ages act: the same run without the time scale ends elsewhere
    p = _release(2000, seed=2)
    get_kernel("numpy")(p, grid3, StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=5, **DEPOSITION), 0, 30, _sampler(),
                        removed=np.zeros(2))
    assert np.abs(p.lat - out["numpy"][0].lat).max() > 1e-3
