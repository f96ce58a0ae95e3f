"""Accuracy of the polynomial transcendentals in :mod:`plumecast.transport.fastmath`
(dense samples and edge cases: uniforms near 0 and 1, the octants' edges of atan2)."""

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


@numba.njit
def _atan2(y, x):  # type: ignore[no-untyped-def]
    out = np.empty(y.size)
    for i in range(y.size):
        out[i] = fm.atan2(y[i], x[i])
    return out


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


def test_atan2_over_every_octant():
    """Within 4e-16 of libm's relative to the result (or 1e-300 absolute near 0), over
    directions all round the circle, at the octants' edges and the reduction's switch at
    tan(pi/8), on every scale; the signed zeros and pi of libm; the lon/lat of unit
    vectors (the kernel's use) within 1e-13 degrees."""
    rng = np.random.default_rng(4)
    ang = np.concatenate([rng.uniform(-np.pi, np.pi, 400_000), np.linspace(-np.pi, np.pi, 100_001)])
    edges = np.array([k * np.pi / 8 for k in range(-8, 9)])
    ang = np.concatenate([ang, edges, np.nextafter(edges, 10.0), np.nextafter(edges, -10.0)])
    scale = np.exp(rng.uniform(-300.0, 300.0, ang.size))
    y, x = scale * np.sin(ang), scale * np.cos(ang)
    want = np.arctan2(y, x)
    got = _atan2(y, x)
    assert np.all(np.abs(got - want) <= np.maximum(4e-16 * np.abs(want), 1e-300))
    t = np.tan(np.pi / 8)
    y2 = np.array([t, np.nextafter(t, 0.0), np.nextafter(t, 1.0), 1.0, 1.0, -1.0, 0.0, -0.0, 0.0, -0.0, 0.0, 5.0])
    x2 = np.array([1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -2.0, -2.0, 0.0, 0.0])
    np.testing.assert_allclose(_atan2(y2, x2), np.arctan2(y2, x2), rtol=4e-16, atol=0.0)
    assert np.array_equal(np.signbit(_atan2(y2, x2)), np.signbit(np.arctan2(y2, x2)))
    lon = rng.uniform(-180.0, 180.0, 100_000)
    lat = rng.uniform(-90.0, 90.0, 100_000)
    p = np.array([np.cos(np.radians(lat)) * np.cos(np.radians(lon)), np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
                  np.sin(np.radians(lat))])
    assert np.abs(np.degrees(_atan2(p[1], p[0])) - lon).max() < 1e-13
    assert np.abs(np.degrees(_atan2(p[2], np.hypot(p[0], p[1]))) - lat).max() < 1e-13
