"""Accuracy of the polynomial transcendentals in :mod:`plumecast.transport.fastmath`
(dense samples and edge cases: poles, +-180 deg, uniforms near 0 and 1)."""

from __future__ import annotations

import numba
import numpy as np

from plumecast.transport import fastmath as fm


@numba.njit
def _atan2(y, x):  # type: ignore[no-untyped-def]
    out = np.empty(y.size)
    for i in range(y.size):
        out[i] = fm.atan2(y[i], x[i])
    return out


@numba.njit
def _log(u):  # type: ignore[no-untyped-def]
    out = np.empty(u.size)
    for i in range(u.size):
        out[i] = fm.log_unit(u[i])
    return out


@numba.njit
def _sincos(u):  # type: ignore[no-untyped-def]
    c = np.empty(u.size)
    s = np.empty(u.size)
    for i in range(u.size):
        c[i], s[i] = fm.sincos_2pi(u[i])
    return c, s


def test_atan2_dense_and_edges():
    rng = np.random.default_rng(1)
    th = np.concatenate([np.linspace(-np.pi, np.pi, 400_001), rng.uniform(-np.pi, np.pi, 200_000)])
    r = np.exp(rng.uniform(-30, 30, th.size))
    y, x = r * np.sin(th), r * np.cos(th)
    assert np.abs(_atan2(y, x) - np.arctan2(y, x)).max() < 1e-15
    # +-180 deg: the lookup wraps longitude, so -pi and pi are the same point
    y = np.array([1e-300, -1e-300, 0.0, 1.0, -1.0, 1e-20])
    x = np.array([-1.0, -1.0, -1.0, 0.0, 0.0, -1.0])
    d = _atan2(y, x) - np.arctan2(y, x)
    assert np.abs(d).max() < 1e-15
    assert _atan2(np.zeros(1), np.zeros(1))[0] == 0.0  # pole: finite, no NaN


def test_latitude_by_atan2_near_poles():
    # the kernel takes lat = atan2(z, hypot(x, y)); compare with asin on the unit sphere
    lat = np.concatenate([np.linspace(-90, 90, 200_001), 90 - np.logspace(-12, 0, 500), -90 + np.logspace(-12, 0, 500)])
    phi = np.deg2rad(lat)
    z, rh = np.sin(phi), np.cos(phi)
    err = np.abs(_atan2(z, rh) - phi)
    assert err.max() < 1e-15
    # asin (the oracle's conversion) is ill-conditioned at the poles (an ulp of z is
    # 1e-8 rad at 90 deg); away from them the two agree to 1e-12 rad
    away = np.abs(lat) < 89.9
    assert np.abs(_atan2(z, rh) - np.arcsin(z))[away].max() < 1e-12


def test_log_unit_over_kernel_uniforms():
    rng = np.random.default_rng(2)
    # the kernel's uniforms are (k + 0.5) 2^-53: extremes 2^-54 and 1 - 2^-54
    u = np.concatenate([
        (np.arange(1 << 18) + 0.5) / (1 << 18),
        np.exp(rng.uniform(np.log(2.0**-54), 0.0, 400_000)),
        [0.5 * 2.0**-53, 1.5 * 2.0**-53, 1.0 - 0.5 * 2.0**-53, 1.0 - 1.5 * 2.0**-53, 0.5, 2**-0.5],
    ])
    assert np.abs(_log(u) - np.log(u)).max() < 4e-15
    # the largest kernel uniform, (2^53 - 0.5) 2^-53, rounds to 1.0: log must give 0 exactly
    assert _log(np.array([1.0 - 0.5 * 2.0**-53]))[0] == 0.0


def test_sincos_2pi_over_unit_interval():
    rng = np.random.default_rng(3)
    u = np.concatenate([
        np.linspace(0.0, 1.0, 400_001),
        rng.uniform(0, 1, 200_000),
        [0.5 * 2.0**-53, 1.0 - 0.5 * 2.0**-53, 0.125, 0.375, 0.625, 0.875, 0.25, 0.5, 0.75],
    ])
    c, s = _sincos(u)
    assert np.abs(c - np.cos(2 * np.pi * u)).max() < 1e-15
    assert np.abs(s - np.sin(2 * np.pi * u)).max() < 1e-15
    assert np.abs(c * c + s * s - 1.0).max() < 1e-15
