"""Shared test fixtures and markers."""

from __future__ import annotations

import importlib.util

import pytest


def _cuda_available() -> bool:
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return bool(cupy.cuda.runtime.getDeviceCount() > 0)
    except Exception:
        return False


HAS_CUDA = _cuda_available()
CPU_BACKENDS = ["numpy", "numba"]
_NO_GPU = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU with CuPy on this machine")
ALL_BACKENDS = CPU_BACKENDS + [
    pytest.param("cuda", marks=[_NO_GPU, pytest.mark.gpu]),
    pytest.param("cuda-mixed", marks=[_NO_GPU, pytest.mark.gpu]),
]
requires_cuda = _NO_GPU
