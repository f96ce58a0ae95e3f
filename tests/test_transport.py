"""Analytic tests of the Lagrangian transport, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.met import solid_body_rotation, uniform_wind
from plumecast.transport import trajectories
from plumecast.transport.kernels_numpy import lonlat_to_xyz
from plumecast.units import EARTH_RADIUS_M
from tests.conftest import ALL_BACKENDS


def great_circle_m(lon1, lat1, lon2, lat2):
    p = lonlat_to_xyz(np.asarray(lon1, float), np.asarray(lat1, float))
    q = lonlat_to_xyz(np.asarray(lon2, float), np.asarray(lat2, float))
    cross = np.linalg.norm(np.cross(p.T, q.T), axis=1)
    return EARTH_RADIUS_M * np.arctan2(cross, np.sum(p * q, axis=0))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize(("u", "v", "lat0"), [(10.0, 0.0, 0.0), (0.0, 7.0, -30.0), (-15.0, 0.0, 0.0)])
def test_uniform_wind_displacement_is_u_t(backend, u, v, lat0):
    wind = uniform_wind(u, v, resolution_deg=1.0)
    lon0 = np.linspace(-170, 170, 50)
    lat = np.full_like(lon0, lat0)
    dt, n = 600.0, 144
    lon1, lat1 = trajectories(lon0, lat, wind, dt_s=dt, n_steps=n, backend=backend)
    dist = great_circle_m(lon0, lat, lon1, lat1)
    expected = np.hypot(u, v) * dt * n
    np.testing.assert_allclose(dist, expected, rtol=1e-3)
    # and in the right direction
    if v == 0.0:
        np.testing.assert_allclose(lat1, lat0, atol=1e-6)
        assert np.all(np.sign(((lon1 - lon0 + 180) % 360) - 180) == np.sign(u))
    else:
        np.testing.assert_allclose(lat1 - lat0, np.rad2deg(v * dt * n / EARTH_RADIUS_M), rtol=1e-3)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_solid_body_rotation_over_both_poles_returns_home(backend):
    period = 12 * 86400.0
    wind = solid_body_rotation(axis_lat_deg=0.0, axis_lon_deg=0.0, period_s=period, resolution_deg=1.0)
    rng = np.random.default_rng(3)
    lon0 = rng.uniform(-180, 180, 400)
    lat0 = rng.uniform(-80, 80, 400)
    n = 1728  # 600 s steps
    lon1, lat1 = trajectories(lon0, lat0, wind, dt_s=period / n, n_steps=n, backend=backend)
    err_deg = np.rad2deg(great_circle_m(lon0, lat0, lon1, lat1) / EARTH_RADIUS_M)
    assert err_deg.max() < 0.5
    # the paths really cross the poles: about the x axis, points reach |lat| = 90 - |angle to axis|
    p = lonlat_to_xyz(lon0, lat0)
    assert np.mean(np.abs(p[0]) < 0.2) > 0.05  # some particles pass within ~11.5 deg of each pole


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_half_rotation_crosses_pole(backend):
    """A particle on the equator at 90E, rotating about the x axis, is at the north
    pole after a quarter turn and at 90W after half a turn."""
    period = 10 * 86400.0
    wind = solid_body_rotation(axis_lat_deg=0.0, axis_lon_deg=0.0, period_s=period, resolution_deg=0.5)
    n = 720
    lon1, lat1 = trajectories([90.0], [0.0], wind, dt_s=period / 4 / n, n_steps=n, backend=backend)
    assert lat1[0] > 89.7
    lon2, lat2 = trajectories(lon1, lat1, wind, dt_s=period / 4 / n, n_steps=n, backend=backend)
    assert abs(lat2[0]) < 0.3
    assert abs(((lon2[0] + 90.0 + 180) % 360) - 180) < 0.3


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_diffusion_variance_is_2_kh_t(backend):
    kh = 1.0e4
    dt, n = 600.0, 72
    wind = uniform_wind(0.0, 0.0, resolution_deg=2.0)
    npart = 100_000
    lon0 = np.zeros(npart)
    lat0 = np.zeros(npart)
    lon1, lat1 = trajectories(lon0, lat0, wind, dt_s=dt, n_steps=n, kh_m2_s=kh, backend=backend, seed=11)
    x = np.deg2rad(lon1) * EARTH_RADIUS_M
    y = np.deg2rad(lat1) * EARTH_RADIUS_M
    t = dt * n
    np.testing.assert_allclose(np.var(x), 2 * kh * t, rtol=0.03)
    np.testing.assert_allclose(np.var(y), 2 * kh * t, rtol=0.03)
    assert abs(np.mean(x)) < 4 * np.sqrt(2 * kh * t / npart)


def test_numba_matches_numpy_without_diffusion():
    from plumecast.met import benchmark_wind

    wind = benchmark_wind(1.0)
    rng = np.random.default_rng(5)
    lon0 = rng.uniform(-180, 180, 5000)
    lat0 = rng.uniform(-85, 85, 5000)
    a = trajectories(lon0, lat0, wind, dt_s=600, n_steps=144, backend="numpy")
    b = trajectories(lon0, lat0, wind, dt_s=600, n_steps=144, backend="numba")
    dlon = np.abs(((a[0] - b[0] + 180) % 360) - 180)
    assert dlon.max() < 1e-6
    assert np.abs(a[1] - b[1]).max() < 1e-6


def test_numba_matches_numpy_with_diffusion_statistically():
    from plumecast.met import benchmark_wind

    wind = benchmark_wind(1.0)
    rng = np.random.default_rng(6)
    n = 20000
    lon0 = rng.uniform(-180, 180, n)
    lat0 = rng.uniform(-60, 60, n)
    a = trajectories(lon0, lat0, wind, dt_s=600, n_steps=72, kh_m2_s=1e4, backend="numpy", seed=1)
    b = trajectories(lon0, lat0, wind, dt_s=600, n_steps=72, kh_m2_s=1e4, backend="numba", seed=2)
    da = great_circle_m(lon0, lat0, *a)
    db = great_circle_m(lon0, lat0, *b)
    # different seeds: the displacement distributions agree (two-sample tests)
    from scipy import stats

    assert stats.ks_2samp(da, db).pvalue > 1e-3
    np.testing.assert_allclose(da.mean(), db.mean(), rtol=0.01)
    # same seed: the same random numbers, so the same particles to rounding
    c = trajectories(lon0, lat0, wind, dt_s=600, n_steps=72, kh_m2_s=1e4, backend="numba", seed=1)
    assert np.abs(((a[0] - c[0] + 180) % 360) - 180).max() < 1e-6
    assert np.abs(a[1] - c[1]).max() < 1e-6


def test_unknown_backend_fails_loudly():
    from plumecast.errors import BackendUnavailableError

    with pytest.raises(BackendUnavailableError, match="unknown backend 'fortran'"):
        trajectories([0.0], [0.0], uniform_wind(1, 0), dt_s=600, n_steps=1, backend="fortran")


def _uniform_column(n: int, h: float, seed: int):
    from plumecast.transport.particles import Particles

    rng = np.random.default_rng(seed)
    p = Particles.empty(n)
    p.lon[:] = rng.uniform(-10.0, 10.0, n)
    p.lat[:] = rng.uniform(-10.0, 10.0, n)
    p.z[:] = rng.uniform(0.0, h, n)
    p.mass[:] = 1.0
    return p


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("h", [100.0, 200.0, 1000.0])
def test_well_mixed_layer_stays_well_mixed(backend, h):
    """Thomson (1987) well-mixed criterion for a constant K_z: particles uniform in
    [0, h] stay uniform. With K_z = 50 m2/s and 1800 s steps the step's standard
    deviation (424 m) exceeds h = 100 and 200 m, so a single reflection is not enough."""
    from plumecast.transport.kernels_numpy import StepPhysics
    from plumecast.transport.lagrangian import get_kernel
    from plumecast.transport.windgrid import wind_grid

    n = 100_000
    p = _uniform_column(n, h, seed=int(h))
    physics = StepPhysics(dt_s=1800.0, kz_m2_s=50.0, mixing_height_m=h, seed=7)
    get_kernel(backend)(p, wind_grid(uniform_wind(0.0, 0.0, resolution_deg=2.0)), physics, 0, 48)  # 24 h
    z = p.z.astype(np.float64)
    assert z.min() >= 0.0 and z.max() <= h
    counts, _ = np.histogram(z, bins=10, range=(0.0, h))
    share = counts / n
    np.testing.assert_allclose(share, 0.1, rtol=0.05)  # every 10 % bin within 5 % of its share
    assert np.count_nonzero(z == 0.0) < 1e-3 * n  # no pile-up at the ground
    assert np.count_nonzero(z == np.float32(h)) < 1e-3 * n


def test_fold_into_layer_is_repeated_reflection():
    from plumecast.transport.kernels_numpy import fold_into_layer

    h = 100.0
    z = np.array([-350.0, -250.0, -30.0, 0.0, 30.0, 100.0, 130.0, 230.0, 370.0, 1e6 + 40.0])
    np.testing.assert_allclose(fold_into_layer(z, h), [50.0, 50.0, 30.0, 0.0, 30.0, 100.0, 70.0, 30.0, 30.0, 40.0],
                               atol=1e-9)


def test_numba_matches_numpy_in_the_vertical():
    from plumecast.transport.kernels_numpy import StepPhysics
    from plumecast.transport.lagrangian import get_kernel
    from plumecast.transport.windgrid import wind_grid

    grid = wind_grid(uniform_wind(3.0, 1.0, resolution_deg=2.0))
    physics = StepPhysics(dt_s=600.0, kh_m2_s=1e3, kz_m2_s=50.0, mixing_height_m=150.0, seed=3)
    a = _uniform_column(5000, 150.0, seed=1)
    a.z[:100] = 400.0  # above the mixed layer: not mixed
    b = _uniform_column(5000, 150.0, seed=1)
    b.z[:100] = 400.0
    get_kernel("numpy")(a, grid, physics, 0, 36)
    get_kernel("numba")(b, grid, physics, 0, 36)
    assert np.all(a.z[:100] == 400.0) and np.all(b.z[:100] == 400.0)
    assert np.abs(a.z.astype(np.float64) - b.z).max() < 1e-3
