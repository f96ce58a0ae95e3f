"""The CUDA backend against the NumPy oracle (skipped where there is no GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.met import benchmark_wind
from plumecast.runner import run
from plumecast.transport import trajectories
from tests.conftest import requires_cuda
from tests.test_run import base

pytestmark = [requires_cuda, pytest.mark.gpu]


def _start(n=5000, seed=5):
    rng = np.random.default_rng(seed)
    return rng.uniform(-180, 180, n), rng.uniform(-85, 85, n)


def _dlon(a, b):
    return np.abs(((a - b + 180) % 360) - 180)


def test_cuda_float64_matches_oracle_without_diffusion():
    wind = benchmark_wind(1.0)
    lon0, lat0 = _start()
    a = trajectories(lon0, lat0, wind, dt_s=600, n_steps=144, backend="numpy")
    b = trajectories(lon0, lat0, wind, dt_s=600, n_steps=144, backend="cuda")
    assert _dlon(a[0], b[0]).max() < 1e-6
    assert np.abs(a[1] - b[1]).max() < 1e-6


def test_cuda_float64_same_random_numbers_as_oracle():
    wind = benchmark_wind(1.0)
    lon0, lat0 = _start()
    a = trajectories(lon0, lat0, wind, dt_s=600, n_steps=72, kh_m2_s=1e4, backend="numpy", seed=3)
    b = trajectories(lon0, lat0, wind, dt_s=600, n_steps=72, kh_m2_s=1e4, backend="cuda", seed=3)
    assert _dlon(a[0], b[0]).max() < 1e-6
    assert np.abs(a[1] - b[1]).max() < 1e-6


def test_cuda_mixed_close_to_oracle():
    wind = benchmark_wind(1.0)
    lon0, lat0 = _start()
    a = trajectories(lon0, lat0, wind, dt_s=600, n_steps=144, backend="numpy")
    b = trajectories(lon0, lat0, wind, dt_s=600, n_steps=144, backend="cuda-mixed")
    # single-precision lookups: error well below the 1 deg grid and a day's 1,700 km path
    assert _dlon(a[0], b[0])[np.abs(lat0) < 80].max() < 1e-3
    assert np.abs(a[1] - b[1]).max() < 1e-3


@pytest.mark.parametrize("backend", ["cuda", "cuda-mixed"])
def test_cuda_run_mass_balance_and_fields(backend):
    ref = run(base(backend="numpy"))
    r = run(base(backend=backend))
    b = r.budget
    assert abs(b.residual) <= 1e-9 * b.released
    assert b.decayed == pytest.approx(ref.budget.decayed, rel=1e-6)
    tol = 1e-5 if backend == "cuda" else 0.05
    np.testing.assert_allclose(r.concentration.sum().item(), ref.concentration.sum().item(), rtol=tol)
    if backend == "cuda":
        np.testing.assert_allclose(r.concentration.values, ref.concentration.values, rtol=1e-5, atol=1e-12)
