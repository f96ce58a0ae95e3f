"""The 3-D numba kernel's midpoint wind from the start's corner values
(``kernels_numba_batch._mid_wind_slots``): where the midpoint is in the start's cell and records,
the wind is computed from the corner values that the start's read kept; elsewhere it is
read in full. Both give the oracle's wind, in and out of the start's cell and across a
record boundary within the step's first half."""

from __future__ import annotations

import dataclasses

import numba
import numpy as np

from plumecast.transport.kernels_numba_3d import (
    _grid_scalars,
    _level,
    _met3_args,
    _read3,
    _read3_full,
)
from plumecast.transport.kernels_numba_batch import (
    _BATCH,
    _S_COUNT,
    _S_CZ,
    _S_FZ,
    _S_LA,
    _S_LAM,
    _S_LO,
    _S_LOM,
    _S_OK1,
    _S_OK2,
    _S_VW,
    _S_VX,
    _S_VY,
    _S_VZ,
    _S_W00,
    _S_W01,
    _S_W10,
    _S_W11,
    _corner_slots,
    _mid_wind_slots,
)
from plumecast.transport.kernels_numpy import StepPhysics, interpolate_wind, level_weights
from plumecast.transport.lagrangian import get_kernel
from tests.helpers import assert_matches_oracle
from tests.transport.test_kernel_3d import DEPOSITION, _met_3d, _release, _sampler


@numba.njit(error_model="numpy", fastmath={"contract"})
def _start_and_mid(wf, fpar, ipar, zm, zinv, ztab, zpar, swap, pts, times):  # type: ignore[no-untyped-def]
    """The kernel's stages for batches of the rows (lon, lat, lon_m, lat_m, z) of ``pts``, the
    records (k0, w0, km, wm) of each batch in ``times``: the start's corners and wind
    (:func:`_corner_slots`, :func:`_read3`, which keeps the corner values), the midpoint's
    corners and wind (:func:`_mid_wind_slots`), and the midpoint's wind read in full
    (:func:`_read3_full`); whether the midpoint's cell is the start's."""
    gs = _grid_scalars(fpar, ipar)
    n = pts.shape[0]
    out = np.zeros((n, 3, 4))
    same = np.zeros(n, np.bool_)
    bf = np.zeros(_S_COUNT * _BATCH)
    bo = np.zeros(8 * _BATCH, np.uint64)
    bk = np.zeros(32 * _BATCH)
    blev = np.zeros(_BATCH, np.int64)
    bdone = np.zeros(_BATCH, np.bool_)
    bfirst = np.zeros(_BATCH, np.int64)
    for j in range(n // _BATCH):
        k0, w0, km, wm = int(times[j, 0]), times[j, 1], int(times[j, 2]), times[j, 3]
        for b in range(_BATCH):
            i = j * _BATCH + b
            lev, c, f = _level(pts[i, 4], zm, zinv, ztab, zpar, ipar[6])
            blev[b] = lev
            bf[_S_CZ + b], bf[_S_FZ + b] = c, f
            bf[_S_LO + b], bf[_S_LA + b], bf[_S_LOM + b], bf[_S_LAM + b] = pts[i, 0], pts[i, 1], pts[i, 2], pts[i, 3]
            _corner_slots(bf, bo, b, _S_LO, _S_LA, _S_OK1, gs, 0)
            o = (bo[b], bo[_BATCH + b], bo[2 * _BATCH + b], bo[3 * _BATCH + b])
            wt = (bf[_S_W00 + b], bf[_S_W01 + b], bf[_S_W10 + b], bf[_S_W11 + b])
            out[i, 0] = _read3(wf, k0, w0, lev, c, f, o, wt, ipar, swap, bk, 32 * b)
        for b in range(_BATCH):
            _corner_slots(bf, bo, b, _S_LOM, _S_LAM, _S_OK2, gs, 4 * _BATCH)
        _mid_wind_slots(bf, bo, bk, blev, bdone, bfirst, 0, _BATCH, wf, km, wm, k0, ipar, swap)
        for b in range(_BATCH):
            i = j * _BATCH + b
            out[i, 1] = (bf[_S_VX + b], bf[_S_VY + b], bf[_S_VZ + b], bf[_S_VW + b])
            o = (bo[4 * _BATCH + b], bo[5 * _BATCH + b], bo[6 * _BATCH + b], bo[7 * _BATCH + b])
            wt = (bf[_S_W00 + b], bf[_S_W01 + b], bf[_S_W10 + b], bf[_S_W11 + b])
            out[i, 2] = _read3_full(wf, km, wm, blev[b], bf[_S_CZ + b], bf[_S_FZ + b], o, wt, ipar, swap)
            same[i] = bo[4 * _BATCH + b] == bo[b]
    return out, same


def test_midpoint_wind_from_the_start_corners_is_the_full_read_and_the_oracles():
    """The midpoint's wind from the start's kept corner values equals the full read (bit for
    bit) and the oracle's (1e-12): midpoints in the start's cell (reused) and in the next
    cells, at heights below, between and above the levels, and with the midpoint's records
    past a record time (k0 0, km 1: read in full). A reuse across the record boundary or
    into another cell would give the start's cell's or records' wind instead."""
    grid = _met_3d()
    wf, _, zm, zinv, ztab, zpar, *_, swap = _met3_args(grid, StepPhysics(dt_s=600.0))
    fpar = np.concatenate([grid.float_params, [1.0 / grid.dlon, 1.0 / grid.dlat]])
    ipar = np.concatenate([grid.int_params, [grid.vec.shape[0], grid.nz]])
    rng = np.random.default_rng(11)
    n = 40 * _BATCH
    lon = rng.uniform(-179.0, 179.0, n)
    lat = rng.uniform(-70.0, 70.0, n)
    # a third of the midpoints 0.01-0.1 degrees on (most in the start's cell), the others 1-3
    # degrees (most in a next cell of the 2-degree grid)
    step = np.where(np.arange(n) % 3 == 0, rng.uniform(0.01, 0.1, n), rng.uniform(1.0, 3.0, n))
    ang = rng.uniform(0.0, 2.0 * np.pi, n)
    lon_m, lat_m = lon + step * np.cos(ang), lat + step * np.sin(ang)
    z = np.concatenate([rng.uniform(0.0, 10.0, 50), rng.uniform(10.0, 6000.0, n - 100), rng.uniform(6000.0, 9000.0, 50)])
    # each batch's start time: anywhere, or 1-299 s before the second record (the midpoint, 300 s on, past it)
    nb = n // _BATCH
    t0 = np.where(np.arange(nb) % 2 == 0, rng.uniform(0.0, 43000.0, nb), 21600.0 - rng.uniform(1.0, 299.0, nb))
    k0, w0 = grid.time_index(t0)
    km, wm = grid.time_index(t0 + 300.0)
    times = np.column_stack([k0, w0, km, wm])
    out, same = _start_and_mid(wf, fpar, ipar, zm, zinv, ztab, zpar, swap, np.column_stack([lon, lat, lon_m, lat_m, z]),
                               times)
    k0_p, km_p = np.repeat(k0, _BATCH), np.repeat(km, _BATCH)
    reused = same & (k0_p == km_p)
    assert 50 < reused.sum() < n - 50 and np.sum(same & (k0_p != km_p)) > 20  # both paths, and records past
    np.testing.assert_array_equal(out[:, 1], out[:, 2])
    levels = level_weights(grid, z)
    for i in range(n):
        lev = tuple(x[i:i + 1] for x in levels)
        j = i // _BATCH
        for t, (k, w, lo, la) in enumerate(((k0[j], w0[j], lon, lat), (km[j], wm[j], lon_m, lat_m))):
            want, _ = interpolate_wind(grid, int(k), float(w), lo[i:i + 1], la[i:i + 1], lev, vertical=True)
            np.testing.assert_allclose(out[i, t], want[:, 0], rtol=1e-12, atol=1e-14, err_msg=str(i))


def test_numba_matches_numpy_with_a_record_time_in_the_steps_first_half():
    """The kernel against the oracle where a record's time falls between a step's start and
    its midpoint (records at 0, 21800 and 43200 s, 600 s steps: the midpoint of the step
    from 21600 s takes records 1 and 2, its start records 0 and 1), so that the midpoint's
    wind must not come from the start's corner values there."""
    grid = dataclasses.replace(_met_3d(), times_s=np.array([0.0, 21800.0, 43200.0]))
    k0, _, km, _ = grid.step_weights(600.0, 0, 42)
    assert np.count_nonzero(k0 != km) == 1
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=7, **DEPOSITION)
    out = {}
    for backend in ("numpy", "numba"):
        p = _release(3000, seed=3)
        p.birth_step[:] = 30  # every particle steps through the record time
        sampler = _sampler()
        removed = np.zeros(2)
        decayed = get_kernel(backend)(p, grid, physics, 30, 12, sampler, removed=removed)
        out[backend] = (p, sampler, removed, decayed)
    assert_matches_oracle(out["numpy"], out["numba"])
