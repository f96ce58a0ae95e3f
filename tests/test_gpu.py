"""The CUDA backend against the NumPy oracle (skipped where there is no GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.met import benchmark_wind
from plumecast.runner import run
from plumecast.transport import trajectories
from plumecast.transport.lagrangian import get_kernel
from tests.conftest import requires_cuda
from tests.helpers import assert_matches_oracle
from tests.test_run import base
from tests.transport.test_cuda_on_cpu import CASES_3D, _both
from tests.transport.test_kernel_3d import _release, _sampler

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


# --- the 3-D kernel (winds on levels, w, boundary layer from the met, deposition) ------
# The same cases as tests/transport/test_cuda_on_cpu.py, which runs them through a CPU
# build of the CUDA C; here on the device, through CuPy and NVRTC.


@pytest.mark.parametrize("case", sorted(CASES_3D))
def test_cuda_3d_matches_oracle(case):
    grid, physics = CASES_3D[case]()
    assert_matches_oracle(*_both(
        get_kernel("cuda"), grid, physics, ((0, 30), (30, 12)), lambda: _release(3000, seed=2), _sampler))


def test_cuda_mixed_runs_3d_physics_in_float64():
    """cuda-mixed has no single-precision 3-D kernel: it runs the float64 one."""
    grid, physics = CASES_3D["met-boundary-layer-deposition"]()
    a, b = _release(2000, seed=4), _release(2000, seed=4)
    get_kernel("cuda")(a, grid, physics, 0, 20)
    get_kernel("cuda-mixed")(b, grid, physics, 0, 20)
    np.testing.assert_array_equal(a.lon, b.lon)
    np.testing.assert_array_equal(a.z, b.z)


def test_cuda_3d_run_matches_numpy_run(tmp_path):
    from tests.met.style_files import atmosphere, write_era5
    from tests.run3d.test_run3d import scenario

    files = write_era5(atmosphere(n_times=4), tmp_path / "pl.nc", tmp_path / "sl.nc")
    sc = scenario(files)
    a = run(sc)
    b = run(sc.replace(backend="cuda"))
    assert b.stats["wind_level"] == "levels"
    np.testing.assert_allclose(b.particles.lon, a.particles.lon, atol=1e-6)
    np.testing.assert_allclose(b.particles.lat, a.particles.lat, atol=1e-6)
    np.testing.assert_allclose(b.particles.z, a.particles.z, atol=1e-2)
    for name in ("airborne", "decayed", "deposited_dry", "deposited_wet", "exited"):
        assert getattr(b.budget, name) == pytest.approx(getattr(a.budget, name), rel=1e-6, abs=1e-9 * a.budget.released)
    assert abs(b.budget.residual) <= 1e-9 * b.budget.released
    np.testing.assert_allclose(b.concentration.values, a.concentration.values, rtol=1e-5,
                               atol=1e-9 * float(a.concentration.max()))
