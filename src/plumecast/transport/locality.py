"""The particles in the order of their place on the grid, for the CPU kernels
(:mod:`plumecast.transport.kernels_numba`): where the wind a kernel reads does not fit
a core's cache, the next particle then starts where the last one did."""

from __future__ import annotations

import math

import numba
import numpy as np

#: Grids whose wind (as the kernel reads it) is larger than this get the particles in the
#: order of their place on the grid (:func:`_locality_order`, about 28 ms per 10^6
#: particles and call). Measured side by side at 10^6 particles, one thread, 36 steps: the
#: single-level kernel on a 1 degree grid with two records (1.6 MB) ran no faster in grid
#: order (99-122 against 104-126 ns per step), on a 0.25 degree grid with two records
#: (25 MB) 94-103 against 125-129 ns; the 3-D benchmark's 25 MB, see
#: :func:`_locality_order`. [bytes]
LOCALITY_MIN_BYTES = 4 << 20
#: Side of the tiles of grid nodes that :func:`_locality_order` sorts by. [nodes]
LOCALITY_TILE = 4
_NO_ORDER = np.zeros(1, np.int64)


@numba.njit(cache=True, error_model="numpy")
def _locality_order(lon, lat, status, fpar, ipar, tile):  # type: ignore[no-untyped-def]
    """The particles' indices ordered by the tile of ``tile`` x ``tile`` grid nodes
    that holds them (tiles row by row; within a tile in index order; particles no
    longer active last): a counting sort, two passes over the particles.

    The kernel runs all steps of a particle before the next: in this order the next
    particle starts where the last one did, and finds that part of the wind in cache
    instead of main memory. On the 3-D benchmark's 25 MB packed wind (1 degree, 12
    levels, two records), at 10^6 particles, side by side: given sorted by 1 degree
    cell, the particles ran 15-25 % faster on one thread (a first trial); this order
    and the records side by side (:func:`kernels_numba_3d._read3`) together took the
    step from 194-212 to 149-157 ns on one thread, 122-132 to 96-100 ns on two. Each particle
    keeps its random numbers (they are keyed by its index); what changes is the order
    of the blocks' sums, fixed for given particles and independent of the number of
    threads. ``fpar``/``ipar``: :attr:`WindGrid.float_params`/``int_params``. Tried and
    not kept (session 53): its two passes in parallel over 8 fixed parts of the particles
    (the same order): at 10^6 particles, 2 threads, load 3.4-4.1, 43-46 ms a call against
    16-18 ms serial."""
    n = lon.size
    ntx = (ipar[0] + tile - 1) // tile
    nty = (ipar[1] + tile - 1) // tile
    ntiles = ntx * nty
    keys = np.empty(n, np.int64)
    counts = np.zeros(ntiles + 2, np.int64)
    for p in range(n):
        key = ntiles
        if status[p] == 0:
            fi = (lon[p] - fpar[0]) / fpar[1]
            if ipar[2] == 1:
                fi = fi - math.floor(fi / ipar[0]) * ipar[0]
            fj = (lat[p] - fpar[2]) / fpar[3]
            i = min(max(int(fi), 0), ipar[0] - 1)
            jj = min(max(int(fj), 0), ipar[1] - 1)
            key = (jj // tile) * ntx + i // tile
        keys[p] = key
        counts[key + 1] += 1
    for t in range(1, ntiles + 2):
        counts[t] += counts[t - 1]
    order = np.empty(n, np.int64)
    for p in range(n):
        k = keys[p]
        order[counts[k]] = p
        counts[k] += 1
    return order
