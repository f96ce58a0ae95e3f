"""Orchestration of Lagrangian particle runs: backends, chunks, sampling.

Physics lives in the kernels (:mod:`kernels_numpy`, :mod:`kernels_numba`,
:mod:`kernels_cuda`); this module chooses a backend by name and drives it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from plumecast.errors import BackendUnavailableError
from plumecast.transport.kernels_numpy import OutputSampler, StepPhysics
from plumecast.transport.particles import Particles
from plumecast.transport.windgrid import WindGrid, wind_grid

BACKENDS = ("numpy", "numba", "cuda", "cuda-mixed")


class Kernel(Protocol):
    def __call__(
        self,
        particles: Particles,
        wind: WindGrid,
        physics: StepPhysics,
        step0: int,
        nsteps: int,
        sampler: OutputSampler | None = None,
        *,
        removed: NDArray[np.float64] | None = None,
    ) -> float: ...


class Backend(Protocol):
    """What the run loop needs from a backend: the step, and moving state and
    output grids between the host and wherever the backend keeps them."""

    name: str

    def advance(
        self,
        particles: Particles,
        wind: WindGrid,
        physics: StepPhysics,
        step0: int,
        nsteps: int,
        sampler: OutputSampler | None = None,
        *,
        removed: NDArray[np.float64] | None = None,
    ) -> float: ...

    def to_device(self, p: Particles) -> Particles: ...

    def to_host(self, p: Particles) -> Particles: ...

    def zeros(self, shape: tuple[int, ...]) -> Any: ...

    def to_numpy(self, a: Any) -> NDArray[Any]: ...

    def count_active(self, p: Particles, step: int) -> int: ...


class HostBackend:
    """A backend whose particles live in host memory (numpy, numba)."""

    def __init__(self, name: str, kernel: Kernel) -> None:
        self.name = name
        self.advance = kernel

    def to_device(self, p: Particles) -> Particles:
        return p

    def to_host(self, p: Particles) -> Particles:
        return p

    def zeros(self, shape: tuple[int, ...]) -> NDArray[np.float64]:
        return np.zeros(shape)

    def to_numpy(self, a: Any) -> NDArray[Any]:
        return np.asarray(a)

    def count_active(self, p: Particles, step: int) -> int:
        """Particles released by ``step`` and still in the domain."""
        return int(np.count_nonzero((p.birth_step <= step) & (p.status == 0)))


def get_backend(backend: str) -> Backend:
    """The backend called ``backend`` (see :data:`BACKENDS`); fails loudly if it
    cannot run here."""
    if backend in ("cuda", "cuda-mixed"):
        from plumecast.transport import kernels_cuda

        return kernels_cuda.get_backend("mixed" if backend == "cuda-mixed" else "float64")
    return HostBackend(backend, get_kernel(backend))


def get_kernel(backend: str) -> Kernel:
    """Return the ``advance`` kernel of a backend chosen by name.

    Raises BackendUnavailableError naming the backend and the install command when
    it cannot run here; there is no silent fallback to another backend.
    """
    if backend == "numpy":
        from plumecast.transport import kernels_numpy

        return kernels_numpy.advance
    if backend == "numba":
        try:
            from plumecast.transport import kernels_numba
        except ImportError as exc:  # pragma: no cover - numba is a core dependency
            raise BackendUnavailableError(f"backend 'numba' needs numba: pip install numba ({exc})") from exc
        return kernels_numba.advance
    if backend in ("cuda", "cuda-mixed"):
        return get_backend(backend).advance
    raise BackendUnavailableError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def trajectories(
    lon_deg: ArrayLike,
    lat_deg: ArrayLike,
    wind: xr.Dataset | WindGrid,
    *,
    dt_s: float,
    n_steps: int,
    kh_m2_s: float = 0.0,
    kh_time_scale_s: float = 0.0,
    backend: str = "numba",
    seed: int = 0,
    callback: Callable[[int], None] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Move passive particles horizontally and return their final positions.

    The plain interface to the transport kernel (no release schedule, no vertical
    mixing, no decay, no output grid), e.g. for trajectory studies and for the
    side-by-side benchmarks against other particle models.

    Parameters
    ----------
    lon_deg, lat_deg : start positions. [deg]
    wind : a normalised wind dataset (``plumecast.met``) or a prepared WindGrid;
        record times are measured from its first record.
    dt_s : time step. [s]
    n_steps : number of steps.
    kh_m2_s : horizontal eddy diffusivity of the random walk. [m2 s-1]
    kh_time_scale_s : horizontal Lagrangian time scale: particles spread as Taylor's
        (1921) ``2 K [t - T (1 - exp(-t/T))]`` (:func:`plumecast.transport.kernels_numpy.horizontal_gain`);
        0 (default, as in OpenDrift's and Parcels' random walks): ``2 K t``. [s]
    backend : ``"numpy"`` (reference), ``"numba"`` (CPU, default) or ``"cuda"``.
    seed : random seed of the diffusion.

    Returns
    -------
    lon, lat : final positions [deg]; particles that left a regional domain stay at
        their last position inside it.
    """
    lon = np.array(lon_deg, dtype=np.float64).ravel()
    lat = np.array(lat_deg, dtype=np.float64).ravel()
    grid = wind if isinstance(wind, WindGrid) else wind_grid(wind)
    kernel = get_kernel(backend)
    p = Particles.empty(lon.size)
    p.lon[:] = lon
    p.lat[:] = lat
    p.mass[:] = 1.0
    physics = StepPhysics(dt_s=float(dt_s), kh_m2_s=float(kh_m2_s), seed=int(seed),
                          kh_time_scale_s=float(kh_time_scale_s))
    kernel(p, grid, physics, 0, int(n_steps))
    if callback is not None:
        callback(int(n_steps))
    return p.lon, p.lat
