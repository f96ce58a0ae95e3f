"""Counter-based random numbers shared by every backend.

The random numbers of particle ``i`` at time step ``k`` are a pure function of
``(seed, i, k)``: SplitMix64 finalisers (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators", OOPSLA, doi:10.1145/2660193.2660195) applied to a
counter built from the three. No generator state is stored, so a run gives the same
particles whatever the number of threads, the kernel chunking or the backend, and the
NumPy oracle reproduces the compiled kernels' random numbers exactly.

Normal deviates (:func:`normals3`, ``kernels_numba._fill_normals`` and the CUDA
kernels' ``normal_pair``) come from the Box-Muller transform of a pair of uniforms made
from one SplitMix64 output, its high and its low 32 bits (:func:`uniform_pair`, each
``(k + 1/2) 2^-32`` with ``k`` the 32-bit integer: in (0, 1), never 0 or 1). A step
takes three: the horizontal pair from the pair of uniforms ``j = 1`` of the step's
counter; the vertical deviate of steps ``2m`` and ``2m + 1`` the cosine and the sine of
one Box-Muller pair, from the uniforms ``j = 2`` of step ``2m``'s counter. Each is
still a pure function of ``(seed, particle, step)``, the two vertical deviates of a pair
of steps independent standard normals as those of one step are. Three deviates a step
thus take 1.5 SplitMix64 outputs, logarithms, square roots and sines/cosines instead of
4, 2, 2 and 2 (two Box-Muller pairs of 53-bit uniforms, the fourth deviate unused, until
2026-12-05). The cost: the smallest uniform is ``2^-33``, so that no deviate exceeds
``sqrt(2 ln 2^33) = 6.76`` in magnitude (a standard normal does with probability
``1.4e-11``: 0.006 deviates in a run of 10^6 particles over 144 steps), and the radius
``sqrt(-2 ln u1)`` takes 2^32 values, ``2^-32 / (u1 r)`` apart: 1.7e-7 at 4 sigma, 2.5e-3
at 6, 0.16 between the two largest (6.60, 6.76). The 53-bit uniforms before cut the
deviates at 8.65. ``tests/transport/test_rng.py`` holds the
moments of 10^6 deviates and the correlations between steps, between the pair of a step and
between neighbouring particles to their sampling bounds.

The uniforms :func:`uniforms` and :func:`uniform_scalar` (53 bits each, one SplitMix64
output a uniform: the boundary layer's Metropolis steps, ``j >= 5``, and the release)
are as before.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from plumecast.transport import fastmath as fm

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
STEP_MULT = np.uint64(0xD1B54A32D192ED03)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
TWO_POW_M53 = 1.0 / 9007199254740992.0
TWO_POW_M32 = 1.0 / 4294967296.0
#: The uniform pair of the horizontal deviates, and that of the vertical ones (of an even step).
PAIR_H = 1
PAIR_Z = 2


def mix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser (bijective 64-bit mixing)."""
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


def seed_key(seed: int) -> np.uint64:
    """The run's key: the mixed seed from which every particle's stream key derives."""
    with np.errstate(over="ignore"):
        return np.uint64(mix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0])


def particle_keys(seed: int, index: NDArray[np.int64]) -> NDArray[np.uint64]:
    """Per-particle stream key from the run seed and the particle index."""
    with np.errstate(over="ignore"):
        return mix64(seed_key(seed) ^ (index.astype(np.uint64) * GOLDEN))


def uniforms(keys: NDArray[np.uint64], step: int, n: int) -> list[NDArray[np.float64]]:
    """``n`` uniform deviates in (0, 1] for each key at time step ``step`` (the largest,
    (2^53 - 1/2) 2^-53, rounds to 1.0; the smallest is 2^-54)."""
    with np.errstate(over="ignore"):
        base = keys + np.uint64(step) * STEP_MULT
        out = []
        for j in range(1, n + 1):
            r = mix64(base + np.uint64(j) * GOLDEN)
            out.append(((r >> np.uint64(11)).astype(np.float64) + 0.5) * TWO_POW_M53)
        return out


def uniform_pair(base: NDArray[np.uint64], j: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The ``j``-th pair of uniform deviates of the counters ``base``: the high and the low
    32 bits of one SplitMix64 output, each ``(k + 1/2) 2^-32``, in [2^-33, 1 - 2^-33]."""
    with np.errstate(over="ignore"):
        r = mix64(base + np.uint64(j) * GOLDEN)
    hi = (r >> np.uint64(32)).astype(np.int64).astype(np.float64)
    lo = (r & np.uint64(0xFFFFFFFF)).astype(np.int64).astype(np.float64)
    return (hi + 0.5) * TWO_POW_M32, (lo + 0.5) * TWO_POW_M32


def box_muller(u1: NDArray[np.float64], u2: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two independent standard normal deviates from two uniforms in (0, 1)."""
    r = np.sqrt(-2.0 * np.log(u1))
    return r * np.cos(2.0 * np.pi * u2), r * np.sin(2.0 * np.pi * u2)


def normals3(keys: NDArray[np.uint64], step: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Three standard normal deviates per key at ``step``: the horizontal pair (a
    Box-Muller pair of the step's uniform pair ``PAIR_H``) and the vertical deviate (the
    cosine of the Box-Muller pair of the uniform pair ``PAIR_Z`` of step ``step`` rounded
    down to even, the sine at odd steps; see the module docstring)."""
    with np.errstate(over="ignore"):
        base = keys + np.uint64(step) * STEP_MULT
        even = keys + np.uint64(step - (step & 1)) * STEP_MULT
    x1, x2 = box_muller(*uniform_pair(base, PAIR_H))
    c, s = box_muller(*uniform_pair(even, PAIR_Z))
    return x1, x2, (s if step & 1 else c)


# --- the same generator for compiled kernels (numba) -----------------------
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


@numba.njit(inline="always")
def mix64_scalar(z: np.uint64) -> np.uint64:
    """:func:`mix64` of one value, for numba kernels."""
    z = (z ^ (z >> _S30)) * MIX1
    z = (z ^ (z >> _S27)) * MIX2
    return z ^ (z >> _S31)


@numba.njit(inline="always")
def uniform_scalar(base: np.uint64, j: int) -> float:
    """The ``j``-th uniform of a step's counter ``base`` (as :func:`uniforms`), for
    numba kernels."""
    r = mix64_scalar(base + np.uint64(j) * GOLDEN)
    # r >> 11 < 2^53 fits an int64, whose conversion to float64 is one instruction
    # (x86 has none for uint64 before AVX-512)
    return (float(np.int64(r >> _S11)) + 0.5) * TWO_POW_M53


@numba.njit(inline="always")
def uniform_pair_scalar(base: np.uint64, j: int) -> tuple[float, float]:
    """The ``j``-th pair of uniforms of a step's counter ``base`` (as :func:`uniform_pair`),
    for numba kernels."""
    r = mix64_scalar(base + np.uint64(j) * GOLDEN)
    return (float(np.int64(r >> _S32)) + 0.5) * TWO_POW_M32, (float(np.int64(r & _LOW32)) + 0.5) * TWO_POW_M32


@numba.njit(inline="always", error_model="numpy")
def box_muller_scalar(u1: float, u2: float) -> tuple[float, float]:
    """:func:`box_muller` of one pair of uniforms, for numba kernels: the polynomial
    ``log``/``sincos`` of :mod:`fastmath`, branch-free, so that a loop of it vectorises."""
    rr = math.sqrt(-2.0 * fm.log_unit(u1))
    c2, s2 = fm.sincos_2pi(u2)
    return rr * c2, rr * s2


@numba.njit(inline="always", error_model="numpy")
def fill_normals(xi, bases, vbases, vz, idx, seed_key, step0, nsteps, vertical, lane_stride, step_stride):  # type: ignore[no-untyped-def]
    """The normal deviates of the particles ``idx`` (one per lane) for the steps
    ``step0..step0+nsteps-1`` into ``xi[:, lane * lane_stride + s * step_stride]``
    (``kernels_numba``'s two-lane kernel: ``nsteps``, 1; its 3-D kernel's batch: 1, ``_BATCH``, so
    that its vectorised end point reads a step's deviates of the whole batch side by side):
    Box-Muller of their counter-based uniform pairs, exactly as
    :func:`normals3`: the horizontal pair of each step from its
    uniform pair ``PAIR_H``; the vertical deviates of steps ``2m``, ``2m + 1`` the two of
    one Box-Muller pair of step ``2m``'s ``PAIR_Z``, made in a loop over the pairs of
    steps (counters in ``vbases``, deviates in ``vz``, each ``nsteps // 2 + 1`` a lane) and
    then put in their steps' places.

    They do not depend on the particles' positions, so they are made ahead of the
    steps in flat loops over lanes and steps, which LLVM vectorises (the
    polynomial ``log``/``sincos`` of :mod:`fastmath` are branch-free for this
    reason): about 2 ns per pair instead of 13 ns inline in the step, where they also
    competed with the step's chain of dependent lookups. The loops are flat so that
    calls of a few steps (one output interval) still fill whole vectors. Steps before
    a particle's birth get numbers too, unused. Indices are unsigned: numba wraps
    negative signed indices round, and that select keeps LLVM from vectorising.
    One uniform pair a SplitMix64 output and one vertical pair per two steps (session
    54, rngcost): the deviates alone on the batch's sizes, 36 steps, 11.0 -> 8.6 ns a
    particle-step (benchmarks/README.md, "Session 54 (rngcost)")."""
    nl = idx.size
    odd0 = step0 & 1  # the call starts at an odd step: its first vertical deviate is a pair's sine
    npair = (nsteps + odd0 + 1) >> 1
    for lane in range(nl):
        key = mix64_scalar(seed_key ^ (np.uint64(idx[lane]) * GOLDEN))
        off = lane * lane_stride
        for s in range(nsteps):
            bases[np.uint64(off + s * step_stride)] = key + np.uint64(s + step0) * STEP_MULT
        if vertical:
            even0 = key + np.uint64(step0 - odd0) * STEP_MULT
            po = lane * npair
            for p in range(npair):
                vbases[np.uint64(po + p)] = even0 + np.uint64(2 * p) * STEP_MULT
    for t in range(bases.size):
        ut = np.uint64(t)
        u1, u2 = uniform_pair_scalar(bases[ut], PAIR_H)
        xi[0, ut], xi[1, ut] = box_muller_scalar(u1, u2)
    if vertical:
        for q in range(nl * npair):
            uq = np.uint64(q)
            u1, u2 = uniform_pair_scalar(vbases[uq], PAIR_Z)
            vz[0, uq], vz[1, uq] = box_muller_scalar(u1, u2)
        for lane in range(nl):
            off = lane * lane_stride
            po = lane * npair
            for s in range(nsteps):
                k = s + odd0
                xi[2, np.uint64(off + s * step_stride)] = vz[np.uint64(k & 1), np.uint64(po + (k >> 1))]
