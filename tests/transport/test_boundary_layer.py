"""Boundary-layer turbulence and removal (plumecast.transport.boundary_layer).

A 1-D column of particles is driven with the module's functions directly: the numba
scalar functions through a small compiled loop, the NumPy twins step by step.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy.linalg import solve_banded

from plumecast.transport import boundary_layer as bl
from plumecast.transport import rng
from plumecast.transport.kernels_numpy import fold_into_layer

DT = 900.0  # 15-min steps
DAY = 96  # steps in 24 h

# (h [m], u* [m/s], 1/L [1/m], w* [m/s]) of the three regimes
UNSTABLE = (1200.0, 0.35, -1.0 / 50.0, 1.8)
NEUTRAL = (800.0, 0.4, 0.0, 0.0)
STABLE = (150.0, 0.15, 1.0 / 40.0, 0.0)
SHALLOW_STABLE = (100.0, 0.1, 1.0 / 20.0, 0.0)
SHALLOW_NEUTRAL = (200.0, 0.5, 0.0, 0.0)


@numba.njit
def _column(z, mass, keys, step0, h_steps, ustar, inv_l, wstar, kz_free, dt, vd, precip, a, b):  # type: ignore[no-untyped-def]
    """Advance a column of particles through len(h_steps) steps (numba functions);
    returns the mass removed by dry and by wet deposition."""
    dry = 0.0
    wet = 0.0
    for s in range(h_steps.size):
        h = h_steps[s]
        for i in range(z.size):
            base = keys[i] + np.uint64(step0 + s) * rng.STEP_MULT
            z[i] = bl.vertical_step(z[i], h, ustar, inv_l, wstar, 0.0, kz_free, dt, 0.0, base)
            f_dry, f_wet = bl.removal_factors(z[i], h, vd, precip, a, b, dt)
            m = mass[i]
            dry += m * (1.0 - f_dry)
            wet += m * f_dry * (1.0 - f_wet)
            mass[i] = m * f_dry * f_wet
    return dry, wet


def _keys(n: int, seed: int = 1) -> np.ndarray:
    return rng.particle_keys(seed, np.arange(n, dtype=np.int64))


def _run_numba(z, h_steps, met, kz_free=0.1, dt=DT, vd=0.0, precip=0.0, a=0.0, b=0.0, seed=1):  # type: ignore[no-untyped-def]
    h0, ustar, inv_l, wstar = met
    z = np.array(z, dtype=np.float64)
    mass = np.ones(z.size)
    dry, wet = _column(z, mass, _keys(z.size, seed), 0, np.asarray(h_steps, np.float64), ustar, inv_l, wstar,
                       kz_free, dt, vd, precip, a, b)
    return z, mass, dry, wet


def _run_numpy(z, h, met, nsteps, dt=DT, seed=1):  # type: ignore[no-untyped-def]
    _, ustar, inv_l, wstar = met
    z = np.array(z, dtype=np.float64)
    keys = _keys(z.size, seed)
    for s in range(nsteps):
        with np.errstate(over="ignore"):
            base = keys + np.uint64(s) * rng.STEP_MULT
        z = bl.vertical_step_array(z, h, ustar, inv_l, wstar, 0.0, 0.1, dt, 0.0, base)
    return z


def _shares(z: np.ndarray, h: float) -> np.ndarray:
    """Each 10 % height bin's count over its share of a uniform distribution."""
    return np.histogram(z, bins=10, range=(0.0, h))[0] / (z.size / 10.0)


# --- scalar and array versions agree -------------------------------------------


@numba.njit
def _step_all(z, h, ustar, inv_l, wstar, kz_const, kz_free, dt, xi, base):  # type: ignore[no-untyped-def]
    out = np.empty(z.size)
    for i in range(z.size):
        out[i] = bl.vertical_step(z[i], h[i], ustar[i], inv_l[i], wstar[i], kz_const, kz_free, dt, xi[i], base[i])
    return out


@numba.njit
def _removal_all(z, h, vd, precip, a, b, dt):  # type: ignore[no-untyped-def]
    out = np.empty((2, z.size))
    for i in range(z.size):
        out[0, i], out[1, i] = bl.removal_factors(z[i], h[i], vd[i], precip[i], a[i], b[i], dt)
    return out


@pytest.mark.parametrize("dt", [60.0, 900.0, 3600.0])
def test_scalar_and_array_versions_agree(dt: float) -> None:
    r = np.random.default_rng(7)
    n = 50_000
    h = r.uniform(10.0, 3000.0, n)
    z = h * r.uniform(0.0, 1.3, n)
    z[:100] = 0.0
    z[100:200] = h[100:200]
    ustar = r.uniform(-0.3, 1.0, n)  # a quarter without a boundary layer from the met
    inv_l = r.uniform(-0.2, 0.2, n) * r.choice([0.0, 0.01, 1.0], n)
    wstar = r.uniform(0.0, 3.0, n)
    xi = r.standard_normal(n)
    base = r.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    a = _step_all(z, h, ustar, inv_l, wstar, 50.0, 0.1, dt, xi, base)
    b = bl.vertical_step_array(z, h, ustar, inv_l, wstar, 50.0, 0.1, dt, xi, base)
    np.testing.assert_allclose(a, b, rtol=0.0, atol=1e-12)
    moved = np.abs(a - z) > 0
    assert moved.mean() > 0.5  # the comparison covers real moves
    vd = r.uniform(0.0, 0.05, n) * (r.uniform(size=n) < 0.8)
    precip = r.uniform(0.0, 20.0, n) * (r.uniform(size=n) < 0.8)
    sa = r.uniform(0.0, 2e-4, n)
    sb = r.uniform(0.5, 1.0, n)
    fa = _removal_all(a, h, vd, precip, sa, sb, dt)
    fb = bl.removal_factors_array(a, h, vd, precip, sa, sb, dt)
    np.testing.assert_allclose(fa[0], fb[0], rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(fa[1], fb[1], rtol=0.0, atol=1e-12)
    assert (fa[0] < 1.0).mean() > 0.01 and (fa[1] < 1.0).mean() > 0.3


def test_without_met_the_constant_k_walk_is_unchanged() -> None:
    """u* < 0: today's random walk folded into [0, h], untouched above h."""
    r = np.random.default_rng(3)
    n = 10_000
    h = 700.0
    z = r.uniform(0.0, 1000.0, n).astype(np.float32).astype(np.float64)
    xi = r.standard_normal(n)
    base = np.zeros(n, np.uint64)
    got = _step_all(z, np.full(n, h), np.full(n, -1.0), np.zeros(n), np.zeros(n), 50.0, 0.1, DT, xi, base)
    want = np.where(z <= h, fold_into_layer(z + math.sqrt(2.0 * 50.0 * DT) * xi, h), z)
    np.testing.assert_array_equal(got, want.astype(np.float32).astype(np.float64))


# --- profiles -----------------------------------------------------------------


def _flexpart_tl_w_unstable(z, h, ustar, inv_l, wstar):  # type: ignore[no-untyped-def]
    """Hanna's piecewise unstable T_Lw as in FLEXPART's hanna routine."""
    sigw = bl.hanna_sigma_w(z, h, ustar, inv_l, wstar)
    zeta = z / h
    ol = 1.0 / inv_l
    tl = np.where(
        z < abs(ol), 0.1 * z / (sigw * (0.55 - 0.38 * np.abs(z / ol))),
        np.where(zeta < 0.1, 0.59 * z / sigw, 0.15 * h / sigw * (1.0 - np.exp(-5.0 * zeta))),
    )
    return np.maximum(tl, 30.0)


def test_hanna_profiles_follow_the_published_forms() -> None:
    z = np.linspace(0.0, 1000.0, 2001)
    # unstable, |L| < 0.1 h: Hanna's piecewise T_Lw (the branches for z/h < 0.1 and
    # above cross at 0.1004, not at 0.1, hence 4e-4 there)
    got = bl.hanna_tl_w(z, 1000.0, 0.3, -1.0 / 40.0, 1.5)
    want = _flexpart_tl_w_unstable(z, 1000.0, 0.3, -1.0 / 40.0, 1.5)
    np.testing.assert_allclose(got, want, rtol=4e-4)
    away = np.abs(z / 1000.0 - 0.1) > 1e-3
    np.testing.assert_allclose(got[away], want[away], rtol=1e-12)
    # unstable, |L| = 0.5 h: no jump at z = |L| (Hanna's piecewise form has one)
    k = bl.hanna_kz(z, 1000.0, 0.3, -1.0 / 500.0, 1.5)
    assert np.max(np.abs(np.diff(k))) < 0.02 * k.max()
    # stable: sigma_w = 1.3 u* (1 - z/h) + 0.01, T_Lw = 0.1 h (z/h)^0.8 / sigma_w >= 30 s
    s = bl.hanna_sigma_w(z, 1000.0, 0.3, 1.0 / 50.0, 0.0)
    np.testing.assert_allclose(s, 1.3 * 0.3 * (1 - z / 1000.0) + 0.01, rtol=1e-12)
    t = bl.hanna_tl_w(z, 1000.0, 0.3, 1.0 / 50.0, 0.0)
    np.testing.assert_allclose(t, np.maximum(0.1 * 1000.0 * (z / 1000.0) ** 0.8 / s, 30.0), rtol=1e-12)
    # neutral: sigma_w decays as exp(-2e-4 z / u*)
    s = bl.hanna_sigma_w(z, 1000.0, 0.5, 1e-4, 0.0)
    np.testing.assert_allclose(s, 1.3 * 0.5 * np.exp(-2e-4 * z / 0.5) + 0.01, rtol=1e-12)
    # regimes: h/|L| < 1 neutral
    assert list(bl.stability_regime_array([1000.0] * 3, [5e-4, -0.01, 0.01])) == [bl.NEUTRAL, bl.UNSTABLE, bl.STABLE]


@pytest.mark.parametrize("met", [UNSTABLE, NEUTRAL, STABLE, SHALLOW_STABLE, SHALLOW_NEUTRAL,
                                 (1500.0, 0.05, -1.0 / 5.0, 2.5), (300.0, 0.02, 0.0, 0.0), (2000.0, 0.8, -1e-3, 0.5)])
def test_kernel_profile_matches_hanna_and_its_bounds(met: tuple[float, float, float, float]) -> None:
    h, ustar, inv_l, wstar = met
    z = np.linspace(0.0, h, 4001)
    regime = bl.stability_regime(h, inv_l)
    fast = bl.kz_profile_array(z, h, ustar, inv_l, wstar, regime)
    exact = bl.hanna_kz(z, h, ustar, inv_l, wstar)
    np.testing.assert_allclose(fast, exact, rtol=2e-3)
    lo, hi = bl.kz_bounds(h, ustar, inv_l, wstar, regime)
    assert lo <= fast.min() and fast.max() <= hi
    assert hi < 4.0 * fast.max()  # a usable bound, not a wild one
    assert bl.kz_profile(0.3 * h, h, ustar, inv_l, wstar, regime) == pytest.approx(
        float(bl.kz_profile_array(0.3 * h, h, ustar, inv_l, wstar, regime)), rel=1e-12)


# --- well-mixed criterion (Thomson 1987) -----------------------------------------


@pytest.mark.parametrize(
    "met", [UNSTABLE, NEUTRAL, STABLE, SHALLOW_STABLE, SHALLOW_NEUTRAL],
    ids=["unstable", "neutral", "stable", "stable-100m", "neutral-200m"],
)
def test_well_mixed_stays_well_mixed_numba(met: tuple[float, float, float, float]) -> None:
    """Uniform particles in a layer with height-varying K stay uniform for 24 h of
    15-min steps: every 10 % bin within 5 % of its share. N = 400 000: a bin holds
    40 000, so sampling noise is 0.5 % and 5 % is ten of its sigmas."""
    h = met[0]
    n = 400_000
    z0 = (np.arange(n) + 0.5) / n * h
    z, *_ = _run_numba(z0, np.full(DAY, h), met)
    shares = _shares(z, h)
    assert np.all(np.abs(shares - 1.0) < 0.05), shares
    assert np.mean(z == 0.0) < 1e-4  # no pile-up at the ground
    assert np.all(z <= h) and np.all(z >= 0.0)
    assert np.mean(np.abs(z - z0) > 0.1 * h) > 0.3  # they did move


@pytest.mark.parametrize("met", [UNSTABLE, NEUTRAL, SHALLOW_STABLE], ids=["unstable", "neutral", "stable-100m"])
def test_well_mixed_stays_well_mixed_numpy(met: tuple[float, float, float, float]) -> None:
    """The NumPy twin, N = 100 000 (5 % is five sigmas of a bin's noise)."""
    h = met[0]
    n = 100_000
    z = _run_numpy((np.arange(n) + 0.5) / n * h, h, met, DAY)
    shares = _shares(z, h)
    assert np.all(np.abs(shares - 1.0) < 0.05), shares
    assert np.mean(z == 0.0) < 1e-4


# --- the spread follows the diffusion equation ---------------------------------


def _diffusion_reference(h, met, z0, times, nz=400, dt=2.0):  # type: ignore[no-untyped-def]
    """Finite-volume solution of dc/dt = d/dz (K dc/dz) with closed walls (implicit
    Euler), from a unit pulse at z0: the concentration profiles at ``times``."""
    _, ustar, inv_l, wstar = met
    dz = h / nz
    zc = (np.arange(nz) + 0.5) * dz
    a = bl.hanna_kz(np.arange(1, nz) * dz, h, ustar, inv_l, wstar) * dt / dz**2
    ab = np.zeros((3, nz))
    ab[1] = 1.0
    ab[1, :-1] += a
    ab[1, 1:] += a
    ab[0, 1:] = -a
    ab[2, :-1] = -a
    c = np.zeros(nz)
    c[min(int(z0 / dz), nz - 1)] = 1.0 / dz
    out, t = [], 0.0
    for tt in times:
        while t < tt - 1e-9:
            c = solve_banded((1, 1), ab, c)
            t += dt
        out.append(c.copy())
    return zc, dz, out


@pytest.mark.parametrize("met", [UNSTABLE, NEUTRAL, STABLE], ids=["unstable", "neutral", "stable"])
def test_ground_release_spreads_like_the_diffusion_equation(met: tuple[float, float, float, float]) -> None:
    """A release at 1 m: the mean height after 30 min and 1 h within 0.04 h of the
    finite-volume solution with the same K profile (a scheme without the drift, or
    with K at the start instead of the midpoint, misses by more)."""
    h = met[0]
    n = 100_000
    times = [2 * DT, 4 * DT]
    zc, dz, ref = _diffusion_reference(h, met, 1.0, times)
    z = np.full(n, 1.0)
    keys = _keys(n, 5)
    mass = np.ones(n)
    _, ustar, inv_l, wstar = met
    step = 0
    for tt, c in zip(times, ref, strict=True):
        nst = int(round(tt / DT)) - step
        _column(z, mass, keys, step, np.full(nst, h), ustar, inv_l, wstar, 0.1, DT, 0.0, 0.0, 0.0, 0.0)
        step += nst
        assert abs(z.mean() - np.sum(c * zc) * dz) < 0.04 * h
        assert abs(np.mean(z < 0.2 * h) - np.sum(c[zc < 0.2 * h]) * dz) < 0.06


# --- a breathing boundary layer ------------------------------------------------


def test_growing_boundary_layer_mixes_in_particles_above_it() -> None:
    met = (1000.0, 0.35, -1.0 / 50.0, 1.8)
    n = 100_000
    z0 = np.full(n, 1500.0)
    # 4 h under a 1 km layer: they stay aloft (free troposphere, K = 0.1 m2/s)
    z, *_ = _run_numba(z0, np.full(16, 1000.0), met)
    assert np.all(z > 1000.0) and abs(np.mean(z) - 1500.0) < 5.0
    # the layer grows to 2 km: after 4 h they fill it
    h_steps = np.full(16, 2000.0)
    mass = np.ones(n)
    _column(z, mass, _keys(n), 16, h_steps, 0.35, -1.0 / 50.0, 1.8, 0.1, DT, 0.0, 0.0, 0.0, 0.0)
    assert np.all(z <= 2000.0)
    assert np.all(np.abs(_shares(z, 2000.0) - 1.0) < 0.1)


def test_collapsing_boundary_layer_leaves_particles_aloft() -> None:
    n = 100_000
    z0 = (np.arange(n) + 0.5) / n * 1500.0
    # the day's layer collapses to 300 m for 12 h (stable night, K_free = 0.01 m2/s)
    z, *_ = _run_numba(z0, np.full(48, 300.0), (300.0, 0.1, 1.0 / 30.0, 0.0), kz_free=0.01)
    below = z0 <= 300.0
    assert np.all(z[below] <= 300.0)  # the night layer keeps its particles
    aloft = z0 > 400.0  # the residual layer stays where it was, within the free K's spread
    assert np.mean(z[aloft] > 300.0) > 0.999
    assert np.abs(z[aloft] - z0[aloft]).mean() < 40.0
    assert abs(np.mean(z > 300.0) - np.mean(z0 > 300.0)) < 0.01


# --- deposition -------------------------------------------------------------------


def _deposition_reference(h, met, vd, t_end, nz=500, dt=5.0):  # type: ignore[no-untyped-def]
    """Column mass of a layer first uniform, with the loss rate v_d / z_d in the
    particles' deposition layer z_d (30 m, or 2 v_d DT if deeper), by finite volumes
    (implicit Euler)."""
    _, ustar, inv_l, wstar = met
    zd = max(bl.DRY_DEPOSITION_LAYER_M, 2.0 * vd * DT)
    dz = h / nz
    zc = (np.arange(nz) + 0.5) * dz
    a = bl.hanna_kz(np.arange(1, nz) * dz, h, ustar, inv_l, wstar) * dt / dz**2
    ab = np.zeros((3, nz))
    ab[1] = 1.0 + np.where(zc < zd, vd / zd, 0.0) * dt
    ab[1, :-1] += a
    ab[1, 1:] += a
    ab[0, 1:] = -a
    ab[2, :-1] = -a
    c = np.full(nz, 1.0 / h)
    for _ in range(int(round(t_end / dt))):
        c = solve_banded((1, 1), ab, c)
    return float(c.sum() * dz)


@pytest.mark.parametrize("met", [(500.0, 0.4, 0.0, 0.0), UNSTABLE], ids=["neutral", "unstable"])
def test_dry_deposition_column_decays_as_exp_vd_t_over_h(met: tuple[float, float, float, float]) -> None:
    """A layer that stays well mixed (v_d = 2 mm/s, mixing much faster than
    deposition): the column mass after 24 h is exp(-v_d t / h) within 2 % (sampling
    noise 0.2 %); the mass budget closes."""
    h = met[0]
    vd = 0.002
    n = 200_000
    z, mass, dry, wet = _run_numba((np.arange(n) + 0.5) / n * h, np.full(DAY, h), met, vd=vd)
    assert mass.sum() / n == pytest.approx(math.exp(-vd * DAY * DT / h), rel=0.02)
    assert dry + mass.sum() == pytest.approx(n, rel=1e-10) and wet == 0.0


@pytest.mark.parametrize("met", [(500.0, 0.4, 0.0, 0.0), UNSTABLE, STABLE], ids=["neutral", "unstable", "stable"])
def test_fast_dry_deposition_is_limited_by_mixing_like_the_diffusion_equation(
    met: tuple[float, float, float, float],
) -> None:
    """v_d = 2 cm/s empties the lowest layer faster than turbulence refills it; the
    column then decays more slowly than exp(-v_d t / h). The particles' 24-h decay
    rate, ln(M0 / M), within 10 % of the finite-volume solution's (dt = 5 s)."""
    h = met[0]
    vd = 0.02
    t = (DAY if h > 200.0 else DAY // 4) * DT
    n = 100_000
    _, mass, _, _ = _run_numba((np.arange(n) + 0.5) / n * h, np.full(int(t / DT), h), met, vd=vd)
    ref = _deposition_reference(h, met, vd, t)
    assert -math.log(mass.mean()) == pytest.approx(-math.log(ref), rel=0.1)
    assert ref > 1.05 * math.exp(-vd * t / h)  # mixing does limit the deposition here


def test_dry_deposition_acts_below_the_deposition_layer_only() -> None:
    f = [bl.removal_factors(z, 800.0, 0.01, 0.0, 0.0, 0.0, 600.0)[0] for z in (0.0, 29.9, 30.0, 30.1, 500.0)]
    p = (800.0 / 30.0) * (1.0 - math.exp(-0.01 * 600.0 / 800.0))
    assert f == pytest.approx([1.0 - p, 1.0 - p, 1.0 - p, 1.0, 1.0], rel=1e-14)
    # a layer shallower than 30 m: the whole layer deposits, at v_d / h
    f_shallow = bl.removal_factors(5.0, 10.0, 0.01, 0.0, 0.0, 0.0, 60.0)[0]
    assert f_shallow == pytest.approx(math.exp(-0.01 * 60.0 / 10.0), rel=1e-12)


def test_wet_scavenging_decays_as_exp_minus_lambda_t() -> None:
    """NH3-like below-cloud scavenging (A = 9.9e-5 s-1, B = 0.62; FLEXPART) in 2 mm/h
    rain for 6 h: every particle in the rain column keeps exp(-Lambda t)."""
    a, b, p = 9.9e-5, 0.62, 2.0
    lam = a * p**b
    met = NEUTRAL
    n = 20_000
    z0 = np.concatenate([(np.arange(n) + 0.5) / n * 800.0, np.full(100, 5000.0)])
    z, mass, dry, wet = _run_numba(z0, np.full(24, 800.0), met, kz_free=0.0, precip=p, a=a, b=b)
    np.testing.assert_allclose(mass[:n], math.exp(-lam * 24 * DT), rtol=1e-12)
    np.testing.assert_array_equal(mass[n:], 1.0)  # above the rain column
    assert wet + mass.sum() == pytest.approx(n + 100, rel=1e-10) and dry == 0.0
    assert bl.removal_factors(100.0, 800.0, 0.0, 0.0, a, b, DT) == (1.0, 1.0)  # no rain
