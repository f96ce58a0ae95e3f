"""Numba CPU kernel: the same physics as :mod:`plumecast.transport.kernels_numpy`,
compiled and parallel over particles.

Every particle runs all the steps of one call in registers before the next particle
is touched ("step fusion"): the wind field (a few MB) stays in cache and the
particle arrays are read and written once per call instead of once per step. The
particle range is cut into one contiguous block per thread; each block accumulates
its own output grid and decay total, summed at the end, so there are no races and
the sum order does not depend on scheduling.

Measured levers (single thread, 10^6 particles, benchmark wind, K_h = 1e4; see
benchmarks/README.md): flat wind indexing with multiplications by the inverse grid
spacing and no modulo in the lookup (155 -> 142 ns per particle-step); polynomial
log and sincos in Box-Muller (:mod:`fastmath`, -> 129 ns); renormalisation onto the
sphere by a series instead of a square root and a division (-> 124 ns); the
tangent-plane midpoint of :func:`kernels_numpy.midpoint` instead of the exact one
(-> 96 ns); lookup lon/lat of the end point by expansion
(:func:`kernels_numpy.end_lonlat`, -> 77 ns); several particles interleaved per pass
(-> 69 ns; two lanes, see _LANES); the normal deviates made ahead of the steps in a loop of their own that
LLVM vectorises (-> 57 ns); FMA contraction (-> 50 ns); unsigned array indices, so
that numba emits no wrap-around of negative indices, which had kept the normals'
loop from being vectorised and added a compare and select to each of the 24 wind
loads of a step (-> 37 ns). Later, on the 3-D kernel (session 54, rngcost): the deviates of a
step from one uniform pair per SplitMix64 output and one vertical Box-Muller pair per two steps
(:func:`rng.fill_normals`), 56.3-57.4 -> 54.3-55.2 CPU ns per particle-step (10^6 particles, 36 steps, 1 and 2
threads, three alternations). A polynomial atan2 was slower than libm's here and is
not used; sorting the particles by grid cell did not help (the 0.8 MB float32 wind
field of a 1 degree grid stays in L2). Larger winds do not stay in cache: where the
kernel's wind exceeds ``LOCALITY_MIN_BYTES`` the particles are taken in the order of
their tile of the grid (:func:`_locality_order`; the 3-D benchmark's step at 10^6
particles 194-212 -> 149-157 ns on one thread, 122-132 -> 96-100 ns on two, side by side).

Winds on levels, vertical velocity, a boundary layer from the met and deposition
(the 3-D path of :mod:`kernels_numpy`) are a second specialisation of the same
source (:func:`_make_advance`, a closure constant that numba's branch pruning uses,
so the single-level kernel is unchanged, bit for bit). Its met is packed once per
WindGrid node by node (:func:`kernels_numba_3d._packed`: a corner's wind and w of two
consecutive records side by side on each level, and the two levels round a particle one
after the other where the grid holds two records, as the streamed met does; the
boundary-layer fields of two records in one cache line; a streamed window one record on
from the last packs only its new record, the two packed records a ring that the reads
take either way round), and the particle's pair of levels
comes from a lookup table (:meth:`WindGrid.level_params`). Its helpers are marked
``forceinline`` (see the _HELPER note in :mod:`kernels_numba_3d`): they used to be plain calls that LLVM left as calls
(the assembly showed 13 calls a step, each passing a dozen arguments and the arrays'
structs through the stack, and hiding the two lanes' chains from each other); inlined,
the 3-D benchmark step went from 4.1 to 4.8-5.7 M particle-steps/s per two CPU-seconds
(1 thread, 10^5 particles, load 1.2-2.4). LLVM then still read each corner's eight
values (vx, vy, vz, w on two levels) as 32 scalar loads and conversions a record: a
numba intrinsic reading them as one vector of 8 floats per corner and level took the 3-D
step from 490 to 255-300 ns per particle-step (1 thread; 3-D / single level 0.25-0.31 at
10^6; it left the level and time blends to scalar code, which ``kernels_numba_3d._wind3``
now does in the vector registers too, 115 -> 97 ns per step on a later machine). The step then still did atomic reference counting:
the met arrays taken out of the ``met3`` tuple every step, and increfs/decrefs of the
array arguments of every 3-D helper on each of its return paths (see
``kernels_numba_3d``); without them, 3-D / single level is 0.38-0.41 at 10^6
(benchmarks/README.md). The blocks' work stays
in the body of the ``prange`` loop: moved into a plain function that the loop called,
it cost the single-level kernel 25-60 % (124-127 against 71-76 ns per step, 1 thread,
measured side by side): numba compiles a parfor body with its arrays marked
``noalias``, a plain function without. The 3-D kernel steps a batch of particles stage
by stage instead of two lanes (see :mod:`kernels_numba_batch`, its _BATCH). One particle's step is in
:mod:`kernels_numba_step`, compiled in two forms to keep the first compilation short
(its _TWO_FORMS note).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from plumecast.exposure_area import no_area_kernel
from plumecast.exposure_rings import area_skip, near_field_excluded, ring_add, way_is_long
from plumecast.transport.kernels_numba_3d import (
    _NO_MET3,
    _grid_scalars,
    _inside_v,
    _level,
    _met3_args,
    _prefetch,
    _read3,
    _surface,
    _vertical_step,
)
from plumecast.transport.kernels_numba_batch import (
    _BATCH,
    _S_COUNT,
    _S_CZ,
    _S_EX,
    _S_FD,
    _S_FW,
    _S_FZ,
    _S_HS,
    _S_IL,
    _S_LA,
    _S_LAM,
    _S_LAT,
    _S_LF,
    _S_LO,
    _S_LOM,
    _S_LON,
    _S_M,
    _S_NX,
    _S_NY,
    _S_NZ,
    _S_OK1,
    _S_OK2,
    _S_OKN,
    _S_PR,
    _S_PX,
    _S_PY,
    _S_PZ,
    _S_QX,
    _S_QY,
    _S_QZ,
    _S_RH,
    _S_SG,
    _S_ST,
    _S_US,
    _S_VX,
    _S_VY,
    _S_VZ,
    _S_W00,
    _S_W01,
    _S_W10,
    _S_W11,
    _S_WS,
    _S_Z,
    _S_ZC,
    _S_ZN,
    _S_ZV,
    _add_cell,
    _commit_batch,
    _corner_slots,
    _deposit,
    _end_slots,
    _free_sigma,
    _free_slots,
    _in_layer,
    _lonlat_slots,
    _mid_wind_slots,
    _midpoint_slots,
    _unit_slots,
)
from plumecast.transport.kernels_numba_step import (
    _EXPANSION_MAX_LAT,
    _RAD,
    _mid_sphere,
    _sphere_lonlat,
    _step,
    _step_c,
    _unit_vector,
)
from plumecast.transport.kernels_numpy import OutputSampler, StepPhysics
from plumecast.transport.locality import (
    _NO_ORDER,
    LOCALITY_MIN_BYTES,
    LOCALITY_TILE,
    _locality_order,
)
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED, Particles
from plumecast.transport.rng import fill_normals as _fill_normals
from plumecast.transport.rng import seed_key
from plumecast.transport.windgrid import WindGrid
from plumecast.units import EARTH_RADIUS_M


@numba.njit(inline="always", error_model="numpy")
def _scale_by_age(xi, idx, birth, nl, step0, nsteps, gain, lane_stride, step_stride):  # type: ignore[no-untyped-def]
    """Multiply the horizontal pair of deviates that :func:`_fill_normals` made for the
    first ``nl`` particles ``idx`` by the factor of each particle's age in steps
    (``gain``, :func:`plumecast.transport.kernels_numpy.horizontal_gain`; its last entry
    beyond its end, its first before a birth, unused), as the oracle does."""
    top = gain.size - 1
    for lane in range(nl):
        b = birth[idx[lane]]
        off = lane * lane_stride
        for s in range(nsteps):
            g = gain[min(max(step0 + s - b, 0), top)]
            t = np.uint64(off + s * step_stride)
            xi[0, t] *= g
            xi[1, t] *= g


@numba.njit(inline="always")
def _lane_load(i, live, step0, end, lon, lat, zarr, mass, birth, status):  # type: ignore[no-untyped-def]
    """A lane's state: (px, py, pz, lon, lat, z, mass, first step, done, exited).
    A lane without a live particle (past the block's end, not alive, or born after
    this call) is done from the start and commits nothing."""
    first = end
    if live and status[i] == 0:
        first = max(step0, birth[i])
    lo = lon[i]
    la = lat[i]
    px = py = pz = 0.0
    if first < end:  # particles not yet born skip the trigonometry
        px, py, pz = _unit_vector(lo, la)
    return (px, py, pz, lo, la, float(zarr[i]), mass[i], first, first >= end, False)


@numba.njit(inline="always", error_model="numpy")
def _lane_step(st, xi, t, k0s, w0s, kms, wms, vf, fpar, ipar, kp, diffuse_h, diffuse_z):  # type: ignore[no-untyped-def]
    return _step(st[0], st[1], st[2], st[3], st[4], st[5], xi[0, t], xi[1, t], xi[2, t],
                 k0s, w0s, kms, wms, vf, fpar, ipar, kp, diffuse_h, diffuse_z)


@numba.njit(inline="always")
def _lane_commit(st, new, step, decay_factor, do_sample, acc, blk, g, sfpar, sipar,
                 three_d, dep_on, dep):  # type: ignore[no-untyped-def]
    """Accept the step ``new`` (from :func:`_step`) if the lane's particle is alive at
    ``step``; returns the lane state and the mass decayed, dry-deposited and
    wet-scavenged in the step (the last two added to ``dep[blk]`` at the end point
    when ``dep_on``). The 3-D kernel commits a batch whose particles all step, without
    receptors, by ``kernels_numba_batch._commit_batch`` instead (the same arithmetic,
    vectorised; session 54: 56-58 -> 52-53 ns per particle-step, 1 thread)."""
    if st[8] or step < st[7]:
        return st, 0.0, 0.0, 0.0
    if not new[6]:
        return (st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7], True, True), 0.0, 0.0, 0.0
    m = st[6] * decay_factor
    dec = st[6] - m
    dry = 0.0
    wet = 0.0
    if three_d:
        md = m * new[7]
        mw = md * new[8]
        dry = m - md
        wet = md - mw
        if dep_on and m != mw:
            _add_cell(dep, blk, 0, new[3], new[4], m - mw, sfpar, sipar)
        m = mw
    if do_sample:
        _deposit(acc, blk, g, new[3], new[4], new[5], m, sfpar, sipar)
    return (new[0], new[1], new[2], new[3], new[4], new[5], m, st[7], False, False), dec, dry, wet


@numba.njit(inline="always")
def _lane_store(i, live, st, end, lon, lat, zarr, mass, status):  # type: ignore[no-untyped-def]
    """Write back a lane's particle: the exact lon/lat of its position on the sphere."""
    if live and st[7] < end:
        lon[i] = math.atan2(st[1], st[0]) * _RAD
        lat[i] = math.asin(min(max(st[2], -1.0), 1.0)) * _RAD
        zarr[i] = st[5]
        mass[i] = st[6]
        if st[9]:
            status[i] = 2


@numba.njit(inline="always", error_model="numpy")
def _rx_near(st, a, step, rx_layer, rx_mask, way):  # type: ignore[no-untyped-def]
    """Cheap test before the receptor search: the lane's particle is alive at
    ``step``, below the layer depth, and in a half-degree cell within reach of a
    receptor (``rx_mask``, 360 x 720, conservative; from the lookup lon/lat), or, with
    its way within the step read (``way``), that way from ``a`` is longer than the cells'
    extra reach (:func:`plumecast.exposure_rings.way_is_long`)."""
    if st[8] or step < st[7] or st[5] >= rx_layer:
        return False
    if way and way_is_long(a, st):
        return True
    j = int((st[4] + 90.0) * 2.0)
    j = min(max(j, 0), 359)
    i = int((st[3] + 180.0) * 2.0) % 720
    if i < 0:
        i += 720
    return rx_mask[j, i]


@numba.njit(error_model="numpy")
def _rx_lane(st, a, i, step, srel, blk, birth, rx_layer, ptag, pgroup, nf_group, nf_lat, nf_lon, nf_dist, nf_max_age,
             area, band_start, order, rlat, rlon, band_w, max_r, radii, rx_mass, rx_count, rxyz, rx_chord2,
             rx_smass, rx_scount, rx_frac):  # type: ignore[no-untyped-def]
    """Add a lane's particle after ``step`` to the receptors' ring shells
    (:func:`plumecast.exposure_rings.ring_add`) if it is alive and near the surface, and its way
    within the step from ``a`` (its state at the step's start) where the step is cut into parts
    (``rx_frac``: each particle's part of its birth step before its emission)."""
    if st[8] or step < st[7] or st[5] >= rx_layer:
        return
    phi = math.asin(min(max(st[2], -1.0), 1.0))
    lam = math.atan2(st[1], st[0])
    if near_field_excluded(phi, lam, step - birth[i], pgroup[i], nf_group, nf_lat, nf_lon, nf_dist, nf_max_age):
        return
    lo, hi = area_skip(phi, lam, i, step - birth[i], area)
    ring_add(phi, lam, st[6], ptag[i], band_start, order, rlat, rlon, band_w, max_r, radii, rx_mass[blk, srel],
             rx_count[blk, srel], area[6], area[7][srel], lo, hi, (a[0], a[1], a[2]), (st[0], st[1], st[2]),
             pgroup[i], rxyz, rx_chord2, rx_smass[blk, srel], rx_scount[blk, srel], rx_frac[i],
             birth[i] == step)


_BLOCKS = 8  # accumulation blocks, dealt to the threads by prange
_LANES = 2
_CHUNK = 128 * _LANES  # particles dealt to a thread at a time


# Two lanes: four ran 3 % faster on the benchmark workload, but numba's IR inlining of
# four copies of the step made the first compilation 124 s long instead of 35 s.


def _source_stamp() -> str:
    """A hash of the modules whose numba functions the kernel compiles in.

    numba's cache is keyed on this file's source and on the kernel's closure
    variables, not on the functions it calls from other modules: this stamp, a
    closure variable, makes an edit of one of those modules recompile the kernel
    instead of running stale cached code."""
    digest = hashlib.sha256()
    for name in ("plumecast.transport.fastmath", "plumecast.transport.rng", "plumecast.transport.boundary_layer",
                 "plumecast.exposure", "plumecast.exposure_rings", "plumecast.transport.kernels_numba_3d",
                 "plumecast.transport.kernels_numba_step", "plumecast.transport.kernels_numba_batch"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()


def _make_advance(three_d: bool, stamp: str) -> Any:
    """The kernel, compiled for the single-level physics (``three_d`` False) or for
    winds on levels with vertical advection, a boundary layer from the met and
    deposition (True). ``three_d`` is a closure constant: numba prunes the branches
    of the other physics before typing (the single-level kernel is the code and the
    speed it was, and compiles as fast), and caches the two apart. ``stamp``: see
    :func:`_source_stamp`."""

    @numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
    def _advance(
        lon, lat, zarr, mass, birth, status, reorder, porder,
        vf, fpar, ipar, met3,
        k0, w0, km, wm,
        step0, nsteps, dt, kh, kz, h, decay_factor, seed_key, hgain,
        do_sample, sfpar, sipar, acc, decayed_blocks, gtag, tagged, dep_on, dep, removed_blocks,
        rx_on, rx_layer, rx_mask, ptag, pgroup, nf_group, nf_lat, nf_lon, nf_dist, nf_max_age, area,
        band_start, order, rlat, rlon, band_w, max_r, radii, rx_mass, rx_count, rxyz, rx_chord2, rx_smass, rx_scount,
        rx_frac,
    ):  # type: ignore[no-untyped-def]
        n = lon.size + 0 * len(stamp)  # the stamp is a closure variable: part of the cache key
        nblocks = decayed_blocks.size
        sh = math.sqrt(2.0 * kh * dt) / EARTH_RADIUS_M
        sig_z = math.sqrt(2.0 * kz * dt)
        diffuse_h = kh > 0.0
        by_age = diffuse_h and hgain.size > 1  # the horizontal deviates by age (_scale_by_age)
        diffuse_z = kz > 0.0
        # the 3-D met, out of its tuple once (see _step)
        wf, sf, zm, zinv, ztab, zpar, has_w, has_sfc, deposit, met_rc, p3, swap = met3
        flags3 = (has_w, has_sfc, deposit, met_rc)
        vertical = diffuse_z
        if three_d:
            vertical = diffuse_z or has_sfc  # the boundary layer's turbulence needs xi3
        half = 0.5 * dt / EARTH_RADIUS_M
        full = dt / EARTH_RADIUS_M
        end = step0 + nsteps
        kp = (half, full, sh, sig_z, h)
        gs = _grid_scalars(fpar, ipar)
        no_edge = gs[6] and gs[7] and gs[8]  # periodic in longitude and open at both poles (_end_slots)
        sfree = _free_sigma(p3[1], p3[2])  # the free troposphere's vertical random walk (_free_slots)
        n_chunks = (n + _CHUNK - 1) // _CHUNK
        rx_way = rx_smass.shape[2] > 0  # the receptors read the particles' ways within the steps
        for blk in numba.prange(nblocks):
            dec = 0.0
            dry = 0.0
            wet = 0.0
            if three_d:
                # the 3-D step in stages over a batch of particles (see kernels_numba_batch._BATCH); an else
                # branch, not a continue: numba prunes the two-lane loop from the 3-D kernel
                bxi = np.zeros((3, _BATCH * nsteps))
                bbases = np.zeros(_BATCH * nsteps, np.uint64)
                bvb = np.zeros(_BATCH * (nsteps // 2 + 1), np.uint64)  # the vertical deviates' pairs of steps
                bvz = np.zeros((2, _BATCH * (nsteps // 2 + 1)))
                bidx = np.zeros(_BATCH, np.int64)
                bfirst = np.zeros(_BATCH, np.int64)
                bdone = np.zeros(_BATCH, np.bool_)
                bexit = np.zeros(_BATCH, np.bool_)
                bgt = np.zeros(_BATCH, np.int64)
                blev = np.zeros(_BATCH, np.int64)
                # the batch's values, slot by slot (kernels_numba_batch._S_...), and its corners' offsets
                bf = np.zeros(_S_COUNT * _BATCH)
                bo = np.zeros(8 * _BATCH, np.uint64)  # the start's, then the midpoint's
                bk = np.zeros(32 * _BATCH)  # each particle's corner values at the start (_read3, _mid_wind_slots)
                blay = np.zeros(_BATCH, np.int64)  # the batch's particles in the boundary layer (_in_layer)
                if not has_sfc:  # the boundary-layer slots of a met without one
                    for b in range(_BATCH):
                        bf[_S_HS + b] = h
                        bf[_S_US + b] = -1.0
                        bf[_S_LF + b] = 1.0
                for chunk in range(blk, n_chunks, nblocks):
                    i_end = min(n, (chunk + 1) * _CHUNK)
                    for j in range(chunk * _CHUNK, i_end, _BATCH):
                        nb = min(_BATCH, i_end - j)
                        if reorder:
                            # the next batch's particles, at random places in the arrays in grid
                            # order, brought into cache while this batch steps (see _prefetch)
                            for jn in range(j + _BATCH, min(j + 2 * _BATCH, i_end)):
                                ip = porder[jn]
                                _prefetch(lon, ip)
                                _prefetch(lat, ip)
                                _prefetch(zarr, ip)
                                _prefetch(mass, ip)
                                _prefetch(birth, ip)
                                _prefetch(status, ip)
                        first = end
                        # the batch's particles: first every load, without a branch on what they
                        # give and with unsigned indices (no wrap-around), so that the loads at
                        # random places in grid order are in flight together; then their steps
                        # (a load-dependent branch in the same loop, bit-identical: 10^6
                        # particles, 1 thread, 6-step calls 84.9-86.2 -> 81.5-83.1 ns per
                        # particle-step, three alternations)
                        for b in range(_BATCH):
                            live = b < nb
                            i = (porder[j + b] if reorder else j + b) if live else bidx[0]
                            bidx[b] = i
                            ui = np.uint64(i)
                            bf[_S_LO + b] = lon[ui]
                            bf[_S_LA + b] = lat[ui]
                            bf[_S_Z + b] = float(zarr[ui])
                            bf[_S_M + b] = mass[ui]
                            bfirst[b] = birth[ui]  # its first step, below
                            bexit[b] = status[ui] == 0  # whether it is active, until below
                        for b in range(_BATCH):
                            live = b < nb
                            i = bidx[b]
                            fb = max(step0, bfirst[b]) if (live and bexit[b]) else end
                            bfirst[b] = fb
                            bdone[b] = fb >= end
                            bexit[b] = False
                            bgt[b] = gtag[i] if tagged else 0
                            first = min(first, fb)
                        if first >= end:
                            continue
                        # the batch's unit vectors (vectorised; those of the particles that do not
                        # step in this call are not used)
                        for b in range(_BATCH):
                            _unit_slots(bf, b)
                        if diffuse_h or vertical:
                            _fill_normals(bxi, bbases, bvb, bvz, bidx, seed_key, step0, nsteps, vertical, 1, _BATCH)
                            if by_age:
                                _scale_by_age(bxi, bidx, birth, nb, step0, nsteps, hgain, 1, _BATCH)
                        for step in range(first, end):
                            s = np.uint64(step - step0)
                            # the particle's pair of levels (a table lookup)
                            for b in range(nb):
                                if bdone[b] or step < bfirst[b]:
                                    continue
                                lev, cz, fz = _level(bf[_S_Z + b], zm, zinv, ztab, zpar, ipar[6])
                                blev[b] = lev
                                bf[_S_CZ + b] = cz
                                bf[_S_FZ + b] = fz
                            # the grid corners round the start (vectorised: every lane of the batch)
                            for b in range(nb):
                                _corner_slots(bf, bo, b, _S_LO, _S_LA, _S_OK1, gs, 0)
                            # the wind and the boundary layer there (vector reads of the packed met)
                            for b in range(nb):
                                if bdone[b] or step < bfirst[b]:
                                    continue
                                o = (bo[b], bo[_BATCH + b], bo[2 * _BATCH + b], bo[3 * _BATCH + b])
                                wt = (bf[_S_W00 + b], bf[_S_W01 + b], bf[_S_W10 + b], bf[_S_W11 + b])
                                v = _read3(wf, k0[s], w0[s], blev[b], bf[_S_CZ + b], bf[_S_FZ + b], o, wt, ipar, swap,
                                           bk, 32 * b)
                                bf[_S_VX + b], bf[_S_VY + b], bf[_S_VZ + b] = v[0], v[1], v[2]
                                if has_sfc:
                                    u = _surface(sf, k0[s], w0[s], o, wt, ipar, p3[3] > 0.0, deposit, swap)
                                    bf[_S_HS + b], bf[_S_US + b], bf[_S_IL + b], bf[_S_WS + b] = u[0], u[1], u[2], u[3]
                                    bf[_S_PR + b], bf[_S_SG + b], bf[_S_ST + b], bf[_S_LF + b] = u[4], u[5], u[6], u[7]
                            # the midpoint (vectorised; near the poles on the sphere, below)
                            for b in range(nb):
                                _midpoint_slots(bf, b, half)
                            # whether a particle of the batch starts beyond 60 degrees: only then the loops
                            # that redo those one by one run. LLVM vectorised them and, libm's atan2 and
                            # asin being free of side effects, called both for every lane of every batch
                            # (four calls a particle-step: 5.6 % of the samples of a profile)
                            polar = False
                            for b in range(nb):
                                la = bf[_S_LA + b]
                                polar |= not (-_EXPANSION_MAX_LAT < la < _EXPANSION_MAX_LAT)
                            for b in range(nb if polar else 0):
                                la = bf[_S_LA + b]
                                if not (la < 80.0 and la > -80.0):
                                    m = _mid_sphere(bf[_S_PX + b], bf[_S_PY + b], bf[_S_PZ + b], bf[_S_VX + b],
                                                    bf[_S_VY + b], bf[_S_VZ + b], half)
                                    bf[_S_RH + b], bf[_S_QX + b], bf[_S_QY + b], bf[_S_QZ + b] = m[0], m[1], m[2], m[3]
                                    bf[_S_LOM + b], bf[_S_LAM + b] = m[4], m[5]
                            # the corners round the midpoint (vectorised) and the wind there
                            for b in range(nb):
                                _corner_slots(bf, bo, b, _S_LOM, _S_LAM, _S_OK2, gs, 4 * _BATCH)
                            # (from the start's corner values where in the start's cell and records)
                            _mid_wind_slots(bf, bo, bk, blev, bdone, bfirst, step, nb, wf, km[s], wm[s], k0[s], ipar, swap)
                            # the end point and the vertical advection (vectorised; its lon/lat
                            # beyond 60 degrees from the unit vector, below)
                            if no_edge:  # no edge to leave: the inside test not computed (see _end_slots)
                                for b in range(nb):
                                    t = s * np.uint64(_BATCH) + np.uint64(b)
                                    _end_slots(bf, b, bxi[0, t], bxi[1, t], full, sh, diffuse_h, has_w, p3[2], gs, False,
                                               False)
                            else:
                                for b in range(nb):
                                    t = s * np.uint64(_BATCH) + np.uint64(b)
                                    _end_slots(bf, b, bxi[0, t], bxi[1, t], full, sh, diffuse_h, has_w, p3[2], gs, False,
                                               True)
                            # the steps whose renormalisation's series is not exact, redone one by one
                            long_step = False
                            for b in range(nb):
                                long_step |= bf[_S_EX + b] > 0.5
                            for b in range(nb if long_step else 0):
                                if bf[_S_EX + b] > 0.5:
                                    t = s * np.uint64(_BATCH) + np.uint64(b)
                                    _end_slots(bf, b, bxi[0, t], bxi[1, t], full, sh, diffuse_h, has_w, p3[2], gs, True,
                                               True)
                            for b in range(nb if polar else 0):
                                la = bf[_S_LA + b]
                                if not (-_EXPANSION_MAX_LAT < la < _EXPANSION_MAX_LAT):
                                    lo_n, la_n = _sphere_lonlat(bf[_S_NX + b], bf[_S_NY + b], bf[_S_NZ + b])
                                    bf[_S_LON + b] = lo_n
                                    bf[_S_LAT + b] = la_n
                                    ok = bf[_S_OK1 + b] > 0.5 and bf[_S_OK2 + b] > 0.5 and _inside_v(lo_n, la_n, gs)
                                    bf[_S_OKN + b] = 1.0 if ok else 0.0
                            # the vertical turbulence: the free troposphere's for all (vectorised), then
                            # the boundary layer's for those in it, from a list (kernels_numba_batch._free_slots)
                            if has_sfc:
                                for b in range(nb):
                                    t = s * np.uint64(_BATCH) + np.uint64(b)
                                    _free_slots(bf, b, sfree, bxi[2, t])
                                nlay = 0
                                for b in range(nb):
                                    blay[nlay] = b
                                    nlay += _in_layer(bf, b)
                                for q in range(nlay):
                                    b = blay[q]
                                    if bdone[b] or step < bfirst[b]:
                                        continue
                                    t = s * np.uint64(_BATCH) + np.uint64(b)
                                    bf[_S_ZV + b] = _vertical_step(bf[_S_ZN + b], bf[_S_HS + b], bf[_S_US + b],
                                                                   bf[_S_IL + b], bf[_S_WS + b], p3[0], p3[1], p3[2],
                                                                   bxi[2, t], bbases[t])
                            # the removal and the commit: where every particle of the batch steps now and no
                            # receptor reads them (a run's usual case), without a branch a particle
                            # (kernels_numba_batch._commit_batch); one by one otherwise
                            all_on = not rx_on
                            for b in range(nb):
                                all_on = all_on and not bdone[b] and step >= bfirst[b]
                            from_c = deposit or not has_sfc
                            for b in range(nb if all_on and from_c else 0):
                                t = s * np.uint64(_BATCH) + np.uint64(b)
                                bl3 = (bf[_S_HS + b], bf[_S_US + b], bf[_S_IL + b], bf[_S_WS + b], bf[_S_PR + b],
                                       bf[_S_SG + b], bf[_S_ST + b], bf[_S_LF + b])
                                bf[_S_ZC + b], bf[_S_FD + b], bf[_S_FW + b] = _step_c(
                                    bf[(_S_ZV if has_sfc else _S_ZN) + b], bf[_S_LA + b], bxi[2, t], bl3, kp, diffuse_z,
                                    zpar, flags3, p3)
                            live_any = False
                            if all_on:
                                dec, dry, wet, live_any = _commit_batch(bf, nb, bdone, bexit, bgt, decay_factor, from_c,
                                                                        deposit, dec, dry, wet, do_sample, dep_on, acc,
                                                                        dep, blk, sfpar, sipar)
                            for b in range(0 if all_on else nb):
                                if bdone[b] or step < bfirst[b]:
                                    live_any = live_any or not bdone[b]
                                    continue
                                t = s * np.uint64(_BATCH) + np.uint64(b)
                                bl3 = (bf[_S_HS + b], bf[_S_US + b], bf[_S_IL + b], bf[_S_WS + b], bf[_S_PR + b],
                                       bf[_S_SG + b], bf[_S_ST + b], bf[_S_LF + b])
                                zc, fd, fw = _step_c(bf[(_S_ZV if has_sfc else _S_ZN) + b], bf[_S_LA + b], bxi[2, t], bl3,
                                                     kp, diffuse_z, zpar, flags3, p3)
                                new = (bf[_S_NX + b], bf[_S_NY + b], bf[_S_NZ + b], bf[_S_LON + b], bf[_S_LAT + b], zc,
                                       bf[_S_OKN + b] > 0.5, fd, fw)
                                st = (bf[_S_PX + b], bf[_S_PY + b], bf[_S_PZ + b], bf[_S_LO + b], bf[_S_LA + b],
                                      bf[_S_Z + b], bf[_S_M + b], bfirst[b], False, False)
                                st0 = st  # its place at the step's start (the receptors' ways within the step)
                                st, d0, dry0, wet0 = _lane_commit(st, new, step, decay_factor, do_sample, acc, blk,
                                                                  bgt[b], sfpar, sipar, three_d, dep_on, dep)
                                dec += d0
                                dry += dry0
                                wet += wet0
                                bf[_S_PX + b], bf[_S_PY + b], bf[_S_PZ + b] = st[0], st[1], st[2]
                                bf[_S_LO + b], bf[_S_LA + b], bf[_S_Z + b], bf[_S_M + b] = st[3], st[4], st[5], st[6]
                                bdone[b] = st[8]
                                bexit[b] = st[9]
                                live_any = live_any or not st[8]
                                if rx_on and _rx_near(st, st0, step, rx_layer, rx_mask, rx_way):
                                    _rx_lane(st, st0, bidx[b], step, step - step0, blk, birth, rx_layer, ptag, pgroup,
                                             nf_group, nf_lat, nf_lon, nf_dist, nf_max_age, area, band_start, order,
                                             rlat, rlon, band_w, max_r, radii, rx_mass, rx_count, rxyz, rx_chord2,
                                             rx_smass, rx_scount, rx_frac)
                            if not live_any:
                                break
                        # the exact lon/lat of the batch's unit vectors (vectorised), then its particles written back
                        for b in range(_BATCH):
                            _lonlat_slots(bf, b)
                        for b in range(nb):
                            if bfirst[b] < end:
                                i = bidx[b]
                                lon[i] = bf[_S_LON + b]
                                lat[i] = bf[_S_LAT + b]
                                zarr[i] = bf[_S_Z + b]
                                mass[i] = bf[_S_M + b]
                                if bexit[b]:
                                    status[i] = 2
            else:
                xi = np.zeros((3, _LANES * nsteps))
                bases = np.zeros(_LANES * nsteps, np.uint64)
                vb = np.zeros(_LANES * (nsteps // 2 + 1), np.uint64)  # the vertical deviates' pairs of steps
                vz = np.zeros((2, _LANES * (nsteps // 2 + 1)))
                idx = np.empty(_LANES, np.int64)
                # Chunks of _CHUNK particles are dealt round-robin to the blocks: particles are
                # sorted by birth step, and contiguous blocks would leave the threads holding
                # the late-born ones idle for most of a run.
                # _LANES particles per pass: each particle's steps are one chain of dependent
                # operations (lookup -> midpoint -> lookup -> end point) whose latency, not the
                # arithmetic, bounds a single particle; interleaving independent chains lets
                # the core overlap them. Lane states are tuples, which LLVM keeps in registers.
                for chunk in range(blk, n_chunks, nblocks):
                    i_end = min(n, (chunk + 1) * _CHUNK)
                    for j in range(chunk * _CHUNK, i_end, _LANES):
                        live1 = j + 1 < i_end
                        # particle indices: in the order of the array, or in the order of
                        # their place on the grid (_locality_order)
                        i = porder[j] if reorder else j
                        i1 = (porder[j + 1] if reorder else j + 1) if live1 else i
                        s0 = _lane_load(i, True, step0, end, lon, lat, zarr, mass, birth, status)
                        s1 = _lane_load(i1, live1, step0, end, lon, lat, zarr, mass, birth, status)
                        first = min(s0[7], s1[7])
                        if first >= end:
                            continue
                        if diffuse_h or vertical:
                            idx[0] = i
                            idx[1] = i1
                            _fill_normals(xi, bases, vb, vz, idx, seed_key, step0, nsteps, vertical, nsteps, 1)
                            if by_age:
                                _scale_by_age(xi, idx, birth, 2, step0, nsteps, hgain, nsteps, 1)
                        off1 = np.uint64(nsteps)
                        g0 = gtag[i] if tagged else 0
                        g1 = gtag[i1] if tagged else 0
                        for step in range(first, end):
                            s = np.uint64(step - step0)  # unsigned: no wrap-around select (see _interp)
                            n0 = _lane_step(s0, xi, s, k0[s], w0[s], km[s], wm[s], vf, fpar, ipar, kp,
                                            diffuse_h, diffuse_z)
                            n1 = _lane_step(s1, xi, s + off1, k0[s], w0[s], km[s], wm[s], vf, fpar, ipar, kp,
                                            diffuse_h, diffuse_z)
                            a0 = s0  # the lanes' places at the step's start (the receptors' ways within the step)
                            a1 = s1
                            s0, d0, dry0, wet0 = _lane_commit(s0, n0, step, decay_factor, do_sample, acc, blk, g0,
                                                              sfpar, sipar, three_d, dep_on, dep)
                            s1, d1, dry1, wet1 = _lane_commit(s1, n1, step, decay_factor, do_sample, acc, blk, g1,
                                                              sfpar, sipar, three_d, dep_on, dep)
                            dec += d0 + d1  # no removal in the single-level physics
                            if rx_on:
                                srel = step - step0
                                if _rx_near(s0, a0, step, rx_layer, rx_mask, rx_way):
                                    _rx_lane(s0, a0, i, step, srel, blk, birth, rx_layer, ptag, pgroup, nf_group,
                                             nf_lat, nf_lon, nf_dist, nf_max_age, area, band_start, order, rlat, rlon,
                                             band_w, max_r, radii, rx_mass, rx_count, rxyz, rx_chord2, rx_smass, rx_scount, rx_frac)
                                if live1 and _rx_near(s1, a1, step, rx_layer, rx_mask, rx_way):
                                    _rx_lane(s1, a1, i1, step, srel, blk, birth, rx_layer, ptag, pgroup, nf_group,
                                             nf_lat, nf_lon, nf_dist, nf_max_age, area, band_start, order, rlat, rlon,
                                             band_w, max_r, radii, rx_mass, rx_count, rxyz, rx_chord2, rx_smass, rx_scount, rx_frac)
                            if s0[8] and s1[8]:
                                break
                        _lane_store(i, True, s0, end, lon, lat, zarr, mass, status)
                        _lane_store(i1, live1, s1, end, lon, lat, zarr, mass, status)
            decayed_blocks[blk] = dec
            removed_blocks[blk, 0] = dry
            removed_blocks[blk, 1] = wet

    return _advance


_STAMP = _source_stamp()
_advance = _make_advance(False, _STAMP)
_advance_3d = _make_advance(True, _STAMP)


def advance(
    particles: Particles,
    wind: WindGrid,
    physics: StepPhysics,
    step0: int,
    nsteps: int,
    sampler: OutputSampler | None = None,
    receptors: Any = None,
    removed: NDArray[np.float64] | None = None,
) -> float:
    """Advance ``particles`` in place through ``nsteps`` steps; see
    :func:`plumecast.transport.kernels_numpy.advance` (same contract).

    ``receptors``: an :class:`plumecast.exposure.ExposureSampler`; the ring sums
    round its receptors are then taken inside the kernel after every step (the
    same arithmetic as its host path) and handed to it at the end of the call.
    """
    dt = physics.dt_s
    k0, w0, km, wm = wind.step_weights(dt, step0, nsteps)
    three_d = wind.three_d or physics.deposits
    # a fixed number of blocks (not one per thread): the particles each block holds, and so
    # the order of every sum, do not depend on the number of threads
    nblocks = _BLOCKS
    decayed_blocks = np.zeros(nblocks)
    removed_blocks = np.zeros((nblocks, 2))
    gtag = np.zeros(1, np.int32)
    dep_on = False
    dep = np.zeros((1, 1, 1, 1))
    if sampler is not None:
        acc = np.zeros((nblocks, sampler.n_tags, sampler.nlat, sampler.nlon))
        sfpar, sipar = sampler.float_params, sampler.int_params
        if sampler.particle_tag is not None:
            gtag = sampler.particle_tag
        if sampler.deposited is not None and physics.deposits:
            dep_on = True
            dep = np.zeros((nblocks, 1, sampler.nlat, sampler.nlon))
    else:
        acc = np.zeros((1, 1, 1, 1))
        sfpar, sipar = np.zeros(5), np.zeros(2, np.int64)
    kernel = _advance_3d if three_d else _advance
    met3 = _met3_args(wind, physics) if three_d else _NO_MET3
    # the particles in the order of their place on the grid where its wind does not fit a
    # core's cache (see _locality_order); the array's order otherwise
    field_bytes = met3[0].nbytes + met3[1].nbytes if three_d else wind.vec.nbytes
    reorder = field_bytes > LOCALITY_MIN_BYTES and particles.lon.size > _CHUNK
    order = _locality_order(particles.lon, particles.lat, particles.status, wind.float_params, wind.int_params,
                            LOCALITY_TILE) if reorder else _NO_ORDER
    kernel(
        particles.lon, particles.lat, particles.z, particles.mass, particles.birth_step, particles.status,
        reorder, order,
        wind.vec.ravel(), np.concatenate([wind.float_params, [1.0 / wind.dlon, 1.0 / wind.dlat]]),
        np.concatenate([wind.int_params, [wind.vec.shape[0], wind.nz]]),
        met3,
        k0, w0, km, wm,
        step0, nsteps, dt, physics.kh_m2_s, physics.kz_m2_s, physics.mixing_height_m,
        math.exp(-physics.decay_rate_s * dt), seed_key(physics.seed), physics.horizontal_gain(),
        sampler is not None, sfpar, sipar, acc, decayed_blocks, gtag, gtag.size == particles.lon.size,
        dep_on, dep, removed_blocks,
        *(_NO_RECEPTORS if receptors is None else receptors.kernel_args(nblocks, nsteps, step0)),
    )
    if sampler is not None:
        sampler.acc += acc.sum(axis=0) if sampler.particle_tag is not None else acc[:, 0].sum(axis=0)
        if dep_on:
            assert sampler.deposited is not None
            sampler.deposited += dep[:, 0].sum(axis=0)
    if removed is not None:
        removed += removed_blocks.sum(axis=0)
    if receptors is not None:
        receptors.add_kernel_sums(step0, nsteps)
    return float(decayed_blocks.sum())


_NO_RECEPTORS = (
    False, 0.0, np.zeros((360, 720), np.bool_), np.zeros(1, np.int32), np.zeros(1, np.int32), np.zeros(1, np.bool_), np.zeros(1), np.zeros(1), 0.0, 0,
    no_area_kernel(), np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros(1), np.zeros(1), 1.0, 0.0, np.zeros((1, 1)),
    np.zeros((1, 1, 1, 1, 1)), np.zeros((1, 1, 1, 1, 1), np.int64),
    np.zeros((1, 3)), np.zeros((1, 1)), np.zeros((1, 1, 0, 1, 1, 1)), np.zeros((1, 1, 0, 1, 1, 1), np.int32),
    np.zeros(1),
)

assert STATUS_ACTIVE == 0 and STATUS_EXITED == 2  # the kernel hard-codes these values
