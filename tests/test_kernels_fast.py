"""Accuracy of the polynomial transcendentals in :mod:`plumecast.transport.fastmath`
(dense samples and edge cases: uniforms near 0 and 1)."""

from __future__ import annotations

import numba
import numpy as np

from plumecast.transport import fastmath as fm


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
