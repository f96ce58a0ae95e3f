"""Shared test fixtures and markers."""

from __future__ import annotations

import importlib.util
import os

import pytest

# pytest-xdist gives its workers COLUMNS=80, which the CLI's consoles (plumecast.cli.common, made at
# import) would keep as their width for every command: the tests that invoke the CLI set the width
# they read its tables at through COLUMNS for that call, as a user's shell does
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)


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


# --------------------------------------------------------------------------- process exit
# The full suite loads numba (OpenMP), netCDF4/HDF5, GDAL (rasterio), ecCodes, Dask and
# Chromium drivers into one process; at interpreter shutdown one of these C libraries'
# destructors has aborted ("free(): invalid pointer", after every test had passed and
# the summary was printed). A `plumecast` command does not load that mix and exits
# cleanly. So that the suite's exit status is the tests' own, the test process ends with
# os._exit once pytest has finished everything (PLUMECAST_TEST_NORMAL_EXIT=1 turns this
# off, to look for the culprit).
_SESSION: dict[str, int] = {}


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _SESSION["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    import os
    import sys

    if "status" in _SESSION and os.environ.get("PLUMECAST_TEST_NORMAL_EXIT") != "1":
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(_SESSION["status"])
