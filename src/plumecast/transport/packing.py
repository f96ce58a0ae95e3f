"""The copies of a WindGrid's fields in the node-interleaved layouts of the 3-D kernels
(:func:`plumecast.transport.windgrid.pack_wind`, :func:`~plumecast.transport.windgrid.pack_surface`),
made by compiled loops over the grid's rows, in parallel.

A run on streamed met packs at every met interval (a new WindGrid each time;
:mod:`plumecast.run_winds`): the numba kernel only the window's new record
(``kernels_numba_3d._packed``), the CUDA kernels the whole window. NumPy's strided assignments of the
transposed fields took 0.7-1.3 s per window of two records on a 0.25 degree global grid
with 9 height levels (214 MB of wind, 2 cores), several times what the numba kernel then
spent moving 10^6 particles through the hour; these loops read each source row once,
contiguously, and write a row's nodes while they are in cache. The values are copied
(or rounded to float32) exactly as the NumPy assignments did.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

#: a placeholder for an optional field the grid does not have (never read)
_NONE_4D = np.zeros((1, 1, 1, 1), np.float32)
_NONE_3D = np.zeros((1, 1, 1), np.float32)
_NONE_2D = np.zeros((1, 1), np.float32)


@numba.njit(parallel=True, cache=True)
def _fill_wind(view, vec, w, has_w):  # type: ignore[no-untyped-def]
    """``view[k, j, i, l] = (vx, vy, vz, w)`` of record ``min(k, nt - 1)``, level ``l``
    of node (j, i), w = 0 without it. ``view``: (records, lat, lon, nz, 4), any strides;
    ``vec``: (nt, nz, 3, lat, lon); ``w``: (nt, nz, lat, lon)."""
    ntp, nlat, nlon, nz, _ = view.shape
    nt = vec.shape[0]
    for j in numba.prange(nlat):
        for k in range(ntp):
            ks = min(k, nt - 1)
            for lev in range(nz):
                for i in range(nlon):
                    view[k, j, i, lev, 0] = vec[ks, lev, 0, j, i]
                    view[k, j, i, lev, 1] = vec[ks, lev, 1, j, i]
                    view[k, j, i, lev, 2] = vec[ks, lev, 2, j, i]
                    view[k, j, i, lev, 3] = w[ks, lev, j, i] if has_w else 0.0


@numba.njit(parallel=True, cache=True)
def _fill_surface(view, surface, stomata, has_stomata, dry, has_dry, land, has_land):  # type: ignore[no-untyped-def]
    """``view[k, j, i]`` = the boundary-layer fields of record ``min(k, nt - 1)`` at node
    (j, i), then the irradiance (or the dry deposition velocity, ``dry``) and the surface
    temperature (zeros without ``stomata``), then the land fraction (1 without
    ``land``), then zeros. ``view``: (records, lat, lon, 8), any strides; ``surface``:
    (nt, nf, lat, lon); ``stomata``: (nt, 2, lat, lon); ``dry``: (nt, lat, lon);
    ``land``: (lat, lon)."""
    ntp, nlat, nlon, width = view.shape
    nt, nf = surface.shape[0], surface.shape[1]
    for j in numba.prange(nlat):
        for k in range(ntp):
            ks = min(k, nt - 1)
            for i in range(nlon):
                for f in range(nf):
                    view[k, j, i, f] = surface[ks, f, j, i]
                g = stomata[ks, 0, j, i] if has_stomata else 0.0
                t = stomata[ks, 1, j, i] if has_stomata else 0.0
                view[k, j, i, nf] = dry[ks, j, i] if has_dry else g
                view[k, j, i, nf + 1] = t
                view[k, j, i, nf + 2] = land[j, i] if has_land else 1.0
                for f in range(nf + 3, width):
                    view[k, j, i, f] = 0.0


def fill_wind(view: NDArray[np.float32], vec: NDArray[np.floating], w: NDArray[np.floating] | None) -> None:
    """Fill ``view`` (records, lat, lon, nz, 4) from a WindGrid's ``vec`` and ``w`` (see
    :func:`_fill_wind`)."""
    _fill_wind(view, vec, _NONE_4D if w is None else w, w is not None)


def fill_surface(view: NDArray[np.float32], surface: NDArray[np.floating], stomata: NDArray[np.floating] | None,
                 dry: NDArray[np.floating] | None, land: NDArray[np.floating] | None) -> None:
    """Fill ``view`` (records, lat, lon, 8) from a WindGrid's boundary-layer fields (see
    :func:`_fill_surface`)."""
    _fill_surface(view, surface, _NONE_4D if stomata is None else stomata, stomata is not None,
                  _NONE_3D if dry is None else dry, dry is not None,
                  _NONE_2D if land is None else np.asarray(land), land is not None)
