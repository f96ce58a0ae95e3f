"""The 3-D numba kernel's commit of a whole batch (``kernels_numba_batch._commit_batch``,
vectorised over the batch's slots) against the per-particle commit it replaces where
every particle of the batch steps (``kernels_numba._lane_commit``): the same states,
sums, samples and deposits, bit for bit."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from plumecast.transport.kernels_numba import _lane_commit
from plumecast.transport.kernels_numba_batch import (
    _BATCH,
    _S_COUNT,
    _S_DEC,
    _S_DRY,
    _S_FD,
    _S_FW,
    _S_LA,
    _S_LAT,
    _S_LO,
    _S_LON,
    _S_M,
    _S_MR,
    _S_NX,
    _S_NY,
    _S_NZ,
    _S_OKN,
    _S_PX,
    _S_PY,
    _S_PZ,
    _S_WET,
    _S_Z,
    _S_ZC,
    _S_ZV,
    _commit_batch,
)

#: the slots of a particle's state, in the order of the lane state's first seven values
_STATE = np.array([_S_PX, _S_PY, _S_PZ, _S_LO, _S_LA, _S_Z, _S_M], np.int64)


@numba.njit(error_model="numpy")
def _both(bf, nb, decay, from_c, deposit, do_sample, dep_on, sfpar, sipar, state):  # type: ignore[no-untyped-def]
    """The batch commit of ``bf`` (a copy) and the lane commit of each particle: the two
    slot arrays, the two (dec, dry, wet) sums, the two output grids, the two deposit grids,
    the batch form's done and exited flags, whether a particle is alive, and the lane
    form's done flags."""
    acc = np.zeros((1, 2, 8, 8))
    dep = np.zeros((1, 1, 8, 8))
    bdone = np.zeros(_BATCH, np.bool_)
    bexit = np.zeros(_BATCH, np.bool_)
    bgt = np.zeros(_BATCH, np.int64)
    for b in range(_BATCH):
        bgt[b] = b % 2
    out = bf.copy()
    dec, dry, wet, live = _commit_batch(out, nb, bdone, bexit, bgt, decay, from_c, deposit, 0.0, 0.0, 0.0,
                                        do_sample, dep_on, acc, dep, 0, sfpar, sipar)
    ref = bf.copy()
    acc2 = np.zeros((1, 2, 8, 8))
    dep2 = np.zeros((1, 1, 8, 8))
    done2 = np.zeros(_BATCH, np.bool_)
    dec2 = 0.0
    dry2 = 0.0
    wet2 = 0.0
    for b in range(nb):
        st = (bf[state[0] + b], bf[state[1] + b], bf[state[2] + b], bf[state[3] + b], bf[state[4] + b],
              bf[state[5] + b], bf[state[6] + b], 0, False, False)
        z = bf[_S_ZC + b] if from_c else float(np.float32(bf[_S_ZV + b]))
        fd = bf[_S_FD + b] if from_c else 1.0
        fw = bf[_S_FW + b] if from_c else 1.0
        new = (bf[_S_NX + b], bf[_S_NY + b], bf[_S_NZ + b], bf[_S_LON + b], bf[_S_LAT + b], z,
               bf[_S_OKN + b] > 0.5, fd, fw)
        st, d0, dry0, wet0 = _lane_commit(st, new, 0, decay, do_sample, acc2, 0, bgt[b], sfpar, sipar, True,
                                          dep_on, dep2)
        dec2 += d0
        dry2 += dry0
        wet2 += wet0
        ref[state[0] + b], ref[state[1] + b], ref[state[2] + b] = st[0], st[1], st[2]
        ref[state[3] + b], ref[state[4] + b], ref[state[5] + b], ref[state[6] + b] = st[3], st[4], st[5], st[6]
        done2[b] = st[8]
    return out, ref, (dec, dry, wet), (dec2, dry2, wet2), acc, acc2, dep, dep2, bdone, bexit, live, done2


def _batch(rng: np.random.Generator, exits: float) -> np.ndarray:
    """A batch's slots: random states and end points (in and round an 8 x 8 output grid of
    2-degree cells from 0, 0), a part ``exits`` of them leaving the domain, removal
    factors of 1 for a third of them."""
    bf = rng.uniform(0.5, 1.5, _S_COUNT * _BATCH)
    for s in (_S_LO, _S_LON, _S_LA, _S_LAT):
        bf[s:s + _BATCH] = rng.uniform(-1.0, 17.0, _BATCH)
    bf[_S_Z:_S_Z + _BATCH] = rng.uniform(0.0, 400.0, _BATCH).astype(np.float32)
    bf[_S_ZV:_S_ZV + _BATCH] = rng.uniform(0.0, 400.0, _BATCH)  # rounded to float32 in the commit
    bf[_S_ZC:_S_ZC + _BATCH] = rng.uniform(0.0, 400.0, _BATCH).astype(np.float32)
    bf[_S_OKN:_S_OKN + _BATCH] = (rng.uniform(size=_BATCH) >= exits).astype(float)
    for s in (_S_FD, _S_FW):
        f = rng.uniform(0.3, 1.0, _BATCH)
        f[rng.uniform(size=_BATCH) < 0.33] = 1.0
        bf[s:s + _BATCH] = f
    return bf


@pytest.mark.parametrize("from_c", [False, True])
@pytest.mark.parametrize("decay", [1.0, 0.9993])
def test_batch_commit_is_the_lane_commit(from_c, decay):
    rng = np.random.default_rng(21)
    sfpar = np.array([0.0, 2.0, 0.0, 2.0, 200.0])  # output cells of 2 degrees from 0, 0; layer depth 200 m
    sipar = np.array([8, 8], np.int64)
    for trial in range(12):
        nb = _BATCH if trial % 3 else int(rng.integers(1, _BATCH))
        exits = (0.0, 0.3, 1.0)[trial % 3]
        deposit = from_c and trial % 2 == 0
        for do_sample, dep_on in ((False, False), (True, False), (True, deposit)):
            bf = _batch(rng, exits)
            if not deposit:  # _step_c's factors without deposition
                bf[_S_FD:_S_FD + _BATCH] = 1.0
                bf[_S_FW:_S_FW + _BATCH] = 1.0
            got = _both(bf, nb, decay, from_c, deposit, do_sample, dep_on, sfpar, sipar, _STATE)
            out, ref, sums, sums2, acc, acc2, dep, dep2, bdone, bexit, live, done2 = got
            # every slot the lane form writes, and the others untouched but the batch form's own scratch slots
            scratch = np.zeros(out.size, bool)
            for slot in (_S_MR, _S_DEC, _S_DRY, _S_WET):
                scratch[slot:slot + _BATCH] = True
            np.testing.assert_array_equal(out[~scratch], ref[~scratch])
            # the sums as the lane form's, bit for bit (its additions of 0.0 left out without decay or removal)
            assert sums[0] == sums2[0]
            if deposit:
                assert sums[1:] == sums2[1:]
            else:
                assert sums2[1:] == (0.0, 0.0)
            np.testing.assert_array_equal(acc, acc2)
            np.testing.assert_array_equal(dep, dep2)
            np.testing.assert_array_equal(bdone, done2)
            np.testing.assert_array_equal(bexit, done2)
            assert live == (not done2[:nb].all())
            if do_sample:
                assert acc.any() or exits == 1.0
            if dep_on:
                assert dep.any() or exits == 1.0
