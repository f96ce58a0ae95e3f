"""Counter-based random numbers shared by every backend.

The random numbers of particle ``i`` at time step ``k`` are a pure function of
``(seed, i, k)``: SplitMix64 finalisers (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators", OOPSLA, doi:10.1145/2660193.2660195) applied to a
counter built from the three. No generator state is stored, so a run gives the same
particles whatever the number of threads, the kernel chunking or the backend, and the
NumPy oracle reproduces the compiled kernels' random numbers exactly.

Normal deviates come from the Box-Muller transform of two such uniforms.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
STEP_MULT = np.uint64(0xD1B54A32D192ED03)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
TWO_POW_M53 = 1.0 / 9007199254740992.0


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


def normals3(keys: NDArray[np.uint64], step: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Three standard normal deviates per key at ``step`` (two Box-Muller pairs, the
    fourth value unused)."""
    u1, u2, u3, u4 = uniforms(keys, step, 4)
    r1 = np.sqrt(-2.0 * np.log(u1))
    r2 = np.sqrt(-2.0 * np.log(u3))
    return r1 * np.cos(2.0 * np.pi * u2), r1 * np.sin(2.0 * np.pi * u2), r2 * np.cos(2.0 * np.pi * u4)


# --- the same generator for compiled kernels (numba) -----------------------
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


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
