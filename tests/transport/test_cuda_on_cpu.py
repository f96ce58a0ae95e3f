"""The CUDA backend's kernels, compiled for the CPU, against the NumPy oracle.

No GPU is needed: :mod:`tests.transport.cuda_host` builds the CUDA C of
:mod:`plumecast.transport.kernels_cuda` with the host C++ compiler and runs
:class:`CudaBackend` with a NumPy stand-in for CuPy (see that module for what this
does not cover; ``tests/test_gpu.py`` runs the same comparisons on a real GPU). The
single-level kernels (float64 and mixed precision) and the 3-D kernel (winds on
levels, w, a boundary layer from the met, deposition) are each held to the oracle
with the tolerances of the numba-against-NumPy tests.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import numpy as np
import pytest

from plumecast.met import benchmark_wind
from plumecast.transport import kernels_cuda, kernels_cuda_3d, kernels_numpy
from plumecast.transport.kernels_numpy import OutputSampler, ResistanceModel, StepPhysics
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED
from plumecast.transport.windgrid import wind_grid
from tests.helpers import assert_matches_oracle
from tests.transport.cuda_host import HostArrays, compiler
from tests.transport.test_kernel_3d import (
    CELLS,
    DEPOSITION,
    REMOVAL,
    RESISTANCE,
    Z_LEVELS,
    _bands,
    _grid,
    _met_3d,
    _release,
    _sampler,
    _so2_terms,
    _water_terms,
    _with_cells,
    _with_land,
    _with_stomata,
)

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C++ compiler to build the CUDA kernels for the CPU")


@pytest.fixture(scope="module")
def backends():
    return {v: kernels_cuda.CudaBackend(v, array_module=HostArrays) for v in kernels_cuda.VARIANTS}


def _dlon(a, b):
    return np.abs(((a - b + 180.0) % 360.0) - 180.0)


def _both(cuda, grid, physics, calls, particles, sampler_of):
    """Run the oracle and ``cuda`` (an advance) through the same calls from the same
    particles: (particles, sampler, removed, decayed) of each."""
    out = []
    for kernel in (kernels_numpy.advance, cuda):
        p = particles()
        s = sampler_of()
        removed = np.zeros(2)
        decayed = sum(kernel(p, grid, physics, s0, n, s, removed=removed) for s0, n in calls)
        out.append((p, s, removed, decayed))
    return out


def _levels_w_constant_kz():
    """Winds on levels growing with height, a vertical velocity, the constant K_z of
    the scenario (no boundary-layer fields) and no deposition."""
    z = np.asarray(Z_LEVELS)
    lon = np.arange(-180.0, 180.0, 2.0)
    u = (z / 200.0)[None, :, None, None] * (1.0 + 0.5 * np.cos(np.deg2rad(lon)))[None, None, None, :]
    w = 0.02 * np.sin(np.deg2rad(lon))[None, None, None, :] * np.ones((1, z.size, 1, 1))
    grid = _grid(u, 2.0, z, w=w, times_s=(0.0,))
    return grid, StepPhysics(dt_s=600.0, kh_m2_s=2e3, kz_m2_s=20.0, mixing_height_m=900.0, seed=3)


def _single_level_with_deposition():
    """One level, no met boundary layer: the 3-D kernel only because deposition is on."""
    grid = wind_grid(benchmark_wind(2.0))
    assert not grid.three_d
    return grid, StepPhysics(dt_s=600.0, kh_m2_s=5e3, kz_m2_s=30.0, mixing_height_m=1200.0, seed=4,
                             dry_velocity_m_s=0.02)


CASES_3D = {
    "met-boundary-layer-deposition": lambda: (_met_3d(), StepPhysics(dt_s=600.0, kh_m2_s=5e3, decay_rate_s=2e-5,
                                                                      seed=5, **DEPOSITION)),
    "met-boundary-layer-resistance-model": lambda: (_met_3d(), StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=6,
                                                                           resistance=RESISTANCE, **REMOVAL)),
    "met-boundary-layer-resistance-model-met-stomata": lambda: (
        _with_stomata(_met_3d()), StepPhysics(
            dt_s=600.0, kh_m2_s=5e3, seed=6, resistance=ResistanceModel.uniform(120.0, 6.5, _so2_terms(), met_stomata=True),
            **REMOVAL)),
    "met-boundary-layer-resistance-model-mosaic": lambda: (
        _with_land(_with_stomata(_met_3d())), StepPhysics(
            dt_s=600.0, kh_m2_s=5e3, seed=6,
            resistance=ResistanceModel.uniform(120.0, 6.5, _so2_terms(), *_water_terms(), met_stomata=True), **REMOVAL)),
    "met-boundary-layer-resistance-model-season-bands": lambda: (
        _with_land(_with_stomata(_met_3d())), StepPhysics(
            dt_s=600.0, kh_m2_s=5e3, seed=6, resistance=ResistanceModel(_bands(), 6.5, met_stomata=True), **REMOVAL)),
    "met-boundary-layer-velocity-of-the-cells": lambda: (
        _with_cells(_with_stomata(_met_3d())), StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=6, resistance=CELLS,
                                                          **REMOVAL)),
    "levels-w-constant-kz": _levels_w_constant_kz,
    "met-boundary-layer-horizontal-time-scale": lambda: (_met_3d(), StepPhysics(
        dt_s=600.0, kh_m2_s=5e3, seed=5, kh_time_scale_s=3600.0, **DEPOSITION)),
    "one-level-deposition-only": _single_level_with_deposition,
}


@pytest.mark.parametrize("case", sorted(CASES_3D))
def test_cuda_3d_kernel_matches_the_oracle(backends, case):
    grid, physics = CASES_3D[case]()
    ref, out = _both(
        backends["float64"].advance, grid, physics, ((0, 30), (30, 12)), lambda: _release(400, seed=2), _sampler)
    assert_matches_oracle(ref, out)
    (a, sa, ra, _), (_, sb, rb, _) = ref, out
    np.testing.assert_allclose(sb.acc, sa.acc, rtol=1e-6, atol=1e-12 * sa.acc.max())
    # the physics under test acts
    moved_z = np.abs(a.z - _release(400, seed=2).z).max()
    if physics.deposits:
        assert np.all(ra[: 2 if physics.scavenging_a_s > 0 else 1] > 0.0)
        np.testing.assert_allclose(sb.deposited.sum(), rb.sum(), rtol=1e-9)
    else:
        assert np.all(rb == 0.0) and np.all(sb.deposited == 0.0)
    assert moved_z > 10.0


def test_cuda_3d_kernel_mass_budget_with_exits(backends):
    """A regional grid: particles leave; per call the mass before = airborne after +
    decayed + deposited + carried out, and the exits are the oracle's."""
    grid = _met_3d(region=(-40.0, 40.0, -30.0, 30.0))
    physics = StepPhysics(dt_s=900.0, kh_m2_s=2e4, decay_rate_s=3e-5, seed=8, **DEPOSITION)
    cuda = backends["float64"].advance
    ref = _release(600, seed=3, lon=(-38.0, 38.0), lat=(-28.0, 28.0))
    p = _release(600, seed=3, lon=(-38.0, 38.0), lat=(-28.0, 28.0))
    s_ref, s = _sampler(-40.0, 40, -30.0, 30), _sampler(-40.0, 40, -30.0, 30)
    for step0, n in ((0, 10), (10, 30)):
        born = p.birth_step < step0 + n
        before = float(p.mass[born & (p.status == STATUS_ACTIVE)].sum())
        exited_before = float(p.mass[p.status == STATUS_EXITED].sum())
        removed = np.zeros(2)
        decayed = cuda(p, grid, physics, step0, n, s, removed=removed)
        kernels_numpy.advance(ref, grid, physics, step0, n, s_ref, removed=np.zeros(2))
        airborne = float(p.mass[born & (p.status == STATUS_ACTIVE)].sum())
        exited = float(p.mass[p.status == STATUS_EXITED].sum()) - exited_before
        assert removed.min() > 0.0 and decayed > 0.0
        np.testing.assert_allclose(airborne + decayed + removed.sum() + exited, before, rtol=1e-9)
    assert np.count_nonzero(p.status == STATUS_EXITED) > 20
    np.testing.assert_array_equal(p.status, ref.status)
    np.testing.assert_array_equal(p.z, ref.z)  # exited particles keep the height they left with
    assert np.abs(p.lat - ref.lat).max() < 1e-6


@pytest.mark.parametrize("variant", kernels_cuda.VARIANTS)
def test_cuda_single_level_kernels_match_the_oracle(backends, variant):
    """The single-level kernels (what ran on the GPU before the 3-D kernel), with
    K_h, K_z, decay and an output grid, through this same CPU build."""
    grid = wind_grid(benchmark_wind(2.0))
    physics = StepPhysics(dt_s=600.0, kh_m2_s=1e4, kz_m2_s=20.0, mixing_height_m=800.0, decay_rate_s=1e-5, seed=7)

    def sampler():
        return OutputSampler(-180.0, 2.0, 180, -90.0, 2.0, 90, 200.0, np.zeros((90, 180)))

    def particles():
        p = _release(400, seed=6)
        p.lat[:40] = np.linspace(-88.0, 88.0, 40)  # near the poles too
        return p

    (a, sa, _, da), (b, sb, _, db) = _both(backends[variant].advance, grid, physics, ((0, 24), (24, 24)),
                                           particles, sampler)
    tol = 1e-6 if variant == "float64" else 1e-3  # mixed: single-precision lookups (tests/test_gpu.py)
    near_pole = np.abs(a.lat) > 80.0  # longitude is ill-conditioned there
    assert _dlon(a.lon, b.lon)[~near_pole].max() < tol
    assert np.abs(a.lat - b.lat).max() < tol
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_allclose(db, da, rtol=1e-9 if variant == "float64" else 1e-6)
    np.testing.assert_allclose(sb.acc.sum(), sa.acc.sum(), rtol=1e-9 if variant == "float64" else 1e-3)
    if variant == "float64":
        np.testing.assert_array_equal(a.z, b.z)
        np.testing.assert_allclose(sb.acc, sa.acc, rtol=1e-9, atol=1e-12 * sa.acc.max())


@pytest.mark.parametrize("variant", kernels_cuda.VARIANTS)
def test_cuda_single_level_kernels_spread_by_age_as_the_oracle(backends, variant):
    """The horizontal time scale (kernels_numpy.horizontal_gain) on particles born at
    different steps, through calls that do not start at their births."""
    grid = wind_grid(benchmark_wind(2.0))
    physics = StepPhysics(dt_s=600.0, kh_m2_s=1e4, seed=7, kh_time_scale_s=5400.0)

    def sampler():
        return OutputSampler(-180.0, 2.0, 180, -90.0, 2.0, 90, 200.0, np.zeros((90, 180)))

    (a, _, _, _), (b, _, _, _) = _both(backends[variant].advance, grid, physics, ((0, 5), (5, 19)),
                                       lambda: _release(400, seed=6), sampler)
    tol = 1e-6 if variant == "float64" else 1e-3
    assert _dlon(a.lon, b.lon).max() < tol
    assert np.abs(a.lat - b.lat).max() < tol
    plain = _release(400, seed=6)
    kernels_numpy.advance(plain, grid, dataclasses.replace(physics, kh_time_scale_s=0.0), 0, 24)
    assert np.abs(plain.lat - a.lat).max() > 1e-3  # the ages act


def test_cuda_three_d_grid_with_one_level_of_the_same_wind_matches_single_level(backends):
    """Three levels that all carry the one level's wind (log law out of reach): the
    3-D kernel moves particles as the single-level kernel does."""
    g1 = wind_grid(benchmark_wind(2.0))
    g3 = dataclasses.replace(g1, vec=np.ascontiguousarray(np.repeat(g1.vec, 3, axis=1)),
                             z_m=np.array([1e-3, 300.0, 1500.0]), roughness_length_m=1e-4)
    physics = StepPhysics(dt_s=600.0, kh_m2_s=1e3, kz_m2_s=10.0, mixing_height_m=800.0, seed=9)
    cuda = backends["float64"].advance
    a, b = _release(300, seed=1), _release(300, seed=1)
    cuda(a, g1, physics, 0, 30)
    cuda(b, g3, physics, 0, 30)
    np.testing.assert_array_equal(a.z, b.z)
    assert np.abs(a.lat - b.lat).max() < 1e-9 and _dlon(a.lon, b.lon).max() < 1e-9


def test_cuda_sources_compile_for_the_device():
    """The kernels as CuPy's NVRTC gets them, through nvcc for an sm_90 GPU (H100/H200)."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("no nvcc on this machine")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        for name, src, opts in (("single", kernels_cuda._SOURCE, []),
                                ("three_d", kernels_cuda._SOURCE + kernels_cuda_3d.source_3d(), ["--fmad=false"])):
            cu = Path(tmp) / f"{name}.cu"
            cu.write_text(src)
            r = subprocess.run([nvcc, "-arch=sm_90", "-ptx", "-std=c++14", *opts, str(cu), "-o", str(cu) + ".ptx"],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            ptx = Path(str(cu) + ".ptx").read_text()
            kernels = ["advance3d_f64"] if name == "three_d" else ["advance_f64", "advance_mixed"]
            assert all(f".entry {k}(" in ptx for k in kernels)


def test_cuda_run_on_3d_met_matches_the_numpy_run(backends, monkeypatch, tmp_path):
    """A whole run on 3-D met files (levels, boundary layer from the met, rain,
    deposition) with backend 'cuda': it reads the levels (no single-level fallback)
    and gives the oracle's particles, budget and fields."""
    from plumecast.runner import run
    from tests.met.style_files import atmosphere, write_era5
    from tests.run3d.test_run3d import scenario

    files = write_era5(atmosphere(n_times=4), tmp_path / "pl.nc", tmp_path / "sl.nc")
    monkeypatch.setitem(kernels_cuda._BACKENDS, "float64", backends["float64"])
    sc = scenario(files, particles=1500)
    a = run(sc)
    b = run(sc.replace(backend="cuda"))
    assert b.stats["wind_level"] == "levels"
    assert not any("one level" in line for line in b.stats["met_provenance"])
    np.testing.assert_allclose(b.particles.lon, a.particles.lon, atol=1e-6)
    np.testing.assert_allclose(b.particles.lat, a.particles.lat, atol=1e-6)
    np.testing.assert_allclose(b.particles.z, a.particles.z, atol=1e-2)
    assert b.budget.deposited_dry > 0.0 and b.budget.deposited_wet > 0.0
    for name in ("airborne", "decayed", "deposited_dry", "deposited_wet", "exited"):
        assert getattr(b.budget, name) == pytest.approx(getattr(a.budget, name), rel=1e-9, abs=1e-12 * a.budget.released)
    assert abs(b.budget.residual) <= 1e-9 * b.budget.released
    np.testing.assert_allclose(b.concentration.values, a.concentration.values, rtol=1e-6,
                               atol=1e-9 * float(a.concentration.max()))
    np.testing.assert_allclose(b.deposited.values, a.deposited.values, rtol=1e-5,
                               atol=1e-9 * float(a.deposited.max()))
