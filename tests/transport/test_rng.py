"""The counter-based normal deviates (:mod:`plumecast.transport.rng`): one uniform pair a
SplitMix64 output, one vertical Box-Muller pair per two steps. Their moments and their
independence (between steps, within a step, between neighbouring particles) to 5 sampling
sigmas over 10^6 values; the checks shown to reject broken pairings; the smallest uniform
and the largest deviate it gives; the numba kernels' deviates equal to the NumPy ones for
calls starting at odd and even steps."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from plumecast.transport import rng

N = 1_000_000
SEED = 7
Z5 = 5.0  # sampling sigmas allowed


def _moment_errors(x: np.ndarray) -> list[str]:
    """The moments of ``x`` that are not those of a standard normal within Z5 sampling sigmas."""
    n = x.size
    m = float(x.mean())
    d = x - m
    v = float(np.mean(d * d))
    skew = float(np.mean(d**3)) / v**1.5
    kurt = float(np.mean(d**4)) / v**2
    bad = []
    if abs(m) > Z5 / math.sqrt(n):
        bad.append(f"mean {m:.5f}")
    if abs(v - 1.0) > Z5 * math.sqrt(2.0 / n):
        bad.append(f"variance {v:.5f}")
    if abs(skew) > Z5 * math.sqrt(6.0 / n):
        bad.append(f"skewness {skew:.5f}")
    if abs(kurt - 3.0) > Z5 * math.sqrt(24.0 / n):
        bad.append(f"kurtosis {kurt:.5f}")
    return bad


def _dependence_errors(a: np.ndarray, b: np.ndarray) -> list[str]:
    """Correlations of ``a`` and ``b``, of their squares and of their magnitudes beyond Z5
    sampling sigmas of 0 (1/sqrt(n) for independent values): the squares and magnitudes catch
    deviates that share a Box-Muller radius or angle without being correlated themselves."""
    bound = Z5 / math.sqrt(a.size)
    bad = []
    for name, x, y in (("values", a, b), ("squares", a * a, b * b), ("magnitudes", np.abs(a), np.abs(b))):
        c = float(np.corrcoef(x, y)[0, 1])
        if abs(c) > bound:
            bad.append(f"{name} {c:.5f}")
    return bad


@pytest.fixture(scope="module")
def stream() -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    keys = rng.particle_keys(SEED, np.arange(N, dtype=np.int64))
    return {step: rng.normals3(keys, step) for step in (10, 11, 12)}


def test_normals_have_the_moments_of_a_standard_normal(stream):
    for step, xs in stream.items():
        for c, x in enumerate(xs):
            assert not _moment_errors(x), (step, c, _moment_errors(x))


def test_normals_are_independent_between_steps_components_and_particles(stream):
    x10, x11, x12 = stream[10], stream[11], stream[12]
    pairs = {
        "vertical, steps 10 and 11 (one Box-Muller pair)": (x10[2], x11[2]),
        "vertical, steps 11 and 12 (two pairs)": (x11[2], x12[2]),
        "horizontal east, steps 10 and 11": (x10[0], x11[0]),
        "horizontal north, steps 11 and 12": (x11[1], x12[1]),
        "east and north of a step": (x10[0], x10[1]),
        "east and vertical of a step": (x11[0], x11[2]),
        "north and vertical of a step": (x10[1], x10[2]),
        "north of step 10 and vertical of step 11": (x10[1], x11[2]),
    }
    for c in range(3):
        pairs[f"component {c}, neighbouring particles"] = (stream[11][c][:-1], stream[11][c][1:])
    pairs["vertical, neighbouring particles, steps 10 and 11"] = (x10[2][:-1], x11[2][1:])
    bad = {name: _dependence_errors(a, b) for name, (a, b) in pairs.items()}
    assert not any(bad.values()), bad


def test_the_checks_reject_broken_pairings(stream):
    """The same checks on streams whose vertical pairing is broken: they must fail."""
    keys = rng.particle_keys(SEED, np.arange(N, dtype=np.int64))
    with np.errstate(over="ignore"):
        even = keys + np.uint64(10) * rng.STEP_MULT
        odd = keys + np.uint64(11) * rng.STEP_MULT
    u1, u2 = rng.uniform_pair(even, rng.PAIR_Z)
    v1, _ = rng.uniform_pair(odd, rng.PAIR_Z)
    x10 = stream[10][2]
    # the odd step taking the cosine again: the same deviate twice
    assert _dependence_errors(x10, np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2))
    # the odd step's own radius with the even step's angle: uncorrelated, but not independent
    broken = np.sqrt(-2.0 * np.log(v1)) * np.sin(2.0 * np.pi * u2)
    assert not _moment_errors(broken)
    assert _dependence_errors(x10, broken)
    # the two uniforms of one output swapped in the odd step (angle and radius exchanged)
    assert _dependence_errors(x10, np.sqrt(-2.0 * np.log(u2)) * np.cos(2.0 * np.pi * u1))


def test_vertical_deviates_of_two_steps_are_one_box_muller_pair():
    keys = rng.particle_keys(3, np.arange(1000, dtype=np.int64))
    for m in (0, 5, 71):
        a = rng.normals3(keys, 2 * m)[2]
        b = rng.normals3(keys, 2 * m + 1)[2]
        with np.errstate(over="ignore"):
            base = keys + np.uint64(2 * m) * rng.STEP_MULT
        u1, _ = rng.uniform_pair(base, rng.PAIR_Z)
        np.testing.assert_allclose(a * a + b * b, -2.0 * np.log(u1), rtol=1e-13)


def test_smallest_uniform_and_largest_deviate():
    # mix64(0) = 0: the counter whose pair j is made from the output 0
    with np.errstate(over="ignore"):
        base = np.array([0], np.uint64) - np.uint64(rng.PAIR_H) * rng.GOLDEN
    u1, u2 = rng.uniform_pair(base, rng.PAIR_H)
    assert u1[0] == u2[0] == 2.0**-33
    r = math.sqrt(-2.0 * math.log(u1[0]))
    assert r == pytest.approx(math.sqrt(2.0 * 33.0 * math.log(2.0)), rel=1e-15)
    assert 6.76 < r < 6.77
    keys = rng.particle_keys(SEED, np.arange(N, dtype=np.int64))
    u1, u2 = rng.uniform_pair(keys, rng.PAIR_Z)
    assert u1.min() >= 2.0**-33 and u2.min() >= 2.0**-33
    assert u1.max() <= 1.0 - 2.0**-33 and u2.max() <= 1.0 - 2.0**-33


@numba.njit(error_model="numpy")
def _fill(idx, seed_key, step0, nsteps, vertical, batch_layout):  # type: ignore[no-untyped-def]
    nl = idx.size
    xi = np.full((3, nl * nsteps), np.nan)
    bases = np.zeros(nl * nsteps, np.uint64)
    vb = np.zeros(nl * (nsteps // 2 + 1), np.uint64)
    vz = np.zeros((2, nl * (nsteps // 2 + 1)))
    if batch_layout:
        rng.fill_normals(xi, bases, vb, vz, idx, seed_key, step0, nsteps, vertical, 1, nl)
    else:
        rng.fill_normals(xi, bases, vb, vz, idx, seed_key, step0, nsteps, vertical, nsteps, 1)
    return xi, bases


@pytest.mark.parametrize("batch_layout", [True, False])
def test_kernel_deviates_equal_the_oracle_for_calls_at_odd_and_even_steps(batch_layout):
    idx = np.array([0, 5, 17, 123456, 999, 3, 77, 4095], np.int64)
    keys = rng.particle_keys(SEED, idx)
    sk = rng.seed_key(SEED)
    for step0 in (0, 1, 6, 7, 143):
        for nsteps in (1, 2, 3, 6, 7):
            xi, bases = _fill(idx, sk, step0, nsteps, True, batch_layout)
            xh, _ = _fill(idx, sk, step0, nsteps, False, batch_layout)
            for s in range(nsteps):
                t = s * idx.size + np.arange(idx.size) if batch_layout else np.arange(idx.size) * nsteps + s
                want = rng.normals3(keys, step0 + s)
                for c in range(3):
                    np.testing.assert_allclose(xi[c, t], want[c], rtol=0, atol=2e-14, err_msg=f"{step0} {nsteps} {c}")
                np.testing.assert_array_equal(xh[:2, t], xi[:2, t])
                with np.errstate(over="ignore"):
                    np.testing.assert_array_equal(bases[t], keys + np.uint64(step0 + s) * rng.STEP_MULT)
