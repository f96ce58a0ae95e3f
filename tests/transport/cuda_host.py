"""Run the CUDA backend on the CPU, for tests on machines without a GPU.

The CUDA C of :mod:`plumecast.transport.kernels_cuda` (and of its 3-D kernel) is
compiled by the host C++ compiler with a small prelude that stands in for the CUDA
built-ins (``float4``, ``__ldg``, ``atomicAdd``, the thread indices, the single-
precision intrinsics) and with ``PLUMECAST_HOST`` defined (the kernels then add their
per-thread sums directly instead of reducing them in shared memory). A launch runs
the threads one after the other. :data:`HostArrays` is a NumPy stand-in for the part
of CuPy's interface that :class:`CudaBackend` uses, so that the backend's own host
code (sorting onto the "device", packing the met, argument lists, copying back) runs
as it does on a GPU.

What this does not test: the device compiler's code (NVRTC: multiply-add
contraction in the single-level kernels, its libm), the block reductions in shared
memory, races between threads, and the float32 intrinsics' device accuracy.
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

PRELUDE = r"""
#include <cmath>
#include <math.h>
#define PLUMECAST_HOST 1
#define __device__
#define __global__
#define __forceinline__ inline
struct float4 { float x, y, z, w; };
struct Dim3 { unsigned int x; };
static Dim3 blockIdx, threadIdx, blockDim;
extern "C" void plumecast_set_thread(unsigned int b, unsigned int t, unsigned int n) {
    blockIdx.x = b; threadIdx.x = t; blockDim.x = n;
}
template <typename T> inline T __ldg(const T* p) { return *p; }
inline double atomicAdd(double* p, double v) { double o = *p; *p = o + v; return o; }
template <typename T> inline T min(T a, T b) { return b < a ? b : a; }
template <typename T> inline T max(T a, T b) { return a < b ? b : a; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __logf(float x) { return logf(x); }
inline void __sincosf(float x, float* s, float* c) { sincosf(x, s, c); }
using std::floor; using std::fmin; using std::fmax; using std::sqrt; using std::log; using std::exp;
using std::pow; using std::atan2; using std::asin; using std::fabs;
"""

_CTYPES = {
    np.dtype(np.int32): ctypes.c_int32,
    np.dtype(np.int64): ctypes.c_int64,
    np.dtype(np.uint64): ctypes.c_uint64,
    np.dtype(np.float64): ctypes.c_double,
    np.dtype(np.float32): ctypes.c_float,
}


def compiler() -> str | None:
    """The host C++ compiler, if there is one."""
    return shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")


class HostKernel:
    """A ``__global__`` function of the CPU build, called as a CuPy RawKernel."""

    def __init__(self, lib: ctypes.CDLL, name: str) -> None:
        self._lib = lib
        self._fn = getattr(lib, name)
        self._fn.restype = None

    def __call__(self, grid: tuple[int, ...], block: tuple[int, ...], args: tuple[Any, ...]) -> None:
        cargs: list[Any] = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous, "kernel arrays must be contiguous"
                cargs.append(ctypes.c_void_p(a.ctypes.data))
            else:
                cargs.append(_CTYPES[np.asarray(a).dtype](a))
        for b in range(grid[0]):
            for t in range(block[0]):
                self._lib.plumecast_set_thread(b, t, block[0])
                self._fn(*cargs)


class HostModule:
    """CuPy's RawModule for the CPU: the source compiled with the host compiler
    (cached by the hash of source and options in the temporary directory)."""

    def __init__(self, code: str, options: tuple[str, ...] = ()) -> None:
        cxx = compiler()
        if cxx is None:
            raise RuntimeError("no C++ compiler (g++, c++ or clang++) to build the CUDA kernels for the CPU")
        # NVRTC's --fmad=false has no host counterpart: the host build never contracts
        src = PRELUDE + code
        key = hashlib.sha256((src + cxx).encode()).hexdigest()[:16]
        out = Path(tempfile.gettempdir()) / f"plumecast_cuda_host_{key}.so"
        if not out.exists():
            with tempfile.TemporaryDirectory() as tmp:
                cu = Path(tmp) / "kernels.cpp"
                cu.write_text(src)
                lib = Path(tmp) / "kernels.so"
                cmd = [cxx, "-std=c++14", "-O1", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math",
                       "-Wno-unused-variable", str(cu), "-o", str(lib)]
                subprocess.run(cmd, check=True, capture_output=True, text=True)
                shutil.move(str(lib), out)
        self._lib = ctypes.CDLL(str(out))
        self._lib.plumecast_set_thread.restype = None

    def get_function(self, name: str) -> HostKernel:
        return HostKernel(self._lib, name)


def _asarray(a: Any, dtype: Any = None) -> np.ndarray:
    return np.array(a, dtype=dtype, copy=True, order="C")  # a transfer to the "device" copies


HostArrays = types.SimpleNamespace(
    asarray=_asarray,
    asnumpy=lambda a: np.array(a, copy=True),
    zeros=np.zeros,
    empty_like=np.empty_like,
    floor=np.floor,
    argsort=lambda a: np.argsort(a, kind="stable"),
    count_nonzero=np.count_nonzero,
    int32=np.int32,
    int64=np.int64,
    float32=np.float32,
    float64=np.float64,
    RawModule=HostModule,
)
