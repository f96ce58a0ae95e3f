"""The 3-D numba kernel's batch (:mod:`plumecast.transport.kernels_numba`): the size of
the batch of particles it steps stage by stage, the slots of the flat array that holds
the batch's values between the stages, and the stages of plain arithmetic over a slot
(the corners, the midpoint, the end point, the unit vectors and lon/lat of a call's
loads and write-back), written so that LLVM vectorises a loop of each over the batch.

The kernel's cache key covers this module's source (``kernels_numba._source_stamp``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from plumecast.transport import fastmath as fm
from plumecast.transport.kernels_numba_3d import (
    _corners_v,
    _inside_v,
    _njit_no_nrt,
    _read3_full,
    _read3_kept,
)
from plumecast.transport.kernels_numba_step import (
    _RAD,
    _displacement,
    _expansion_lonlat,
    _mid_tangent,
    _renormalised,
    _renormalised_series,
    _unit_vector,
)

#: Particles the 3-D kernel steps together, stage by stage: each step runs, for all of
#: them, the level lookup; the grid corners round the start; the wind and the boundary
#: layer there (kernels_numba_3d._read3, _surface); the midpoint; the corners round it;
#: the wind there; the end point with the vertical advection; then the vertical
#: turbulence and removal (:func:`kernels_numba_step._step_c`) and the commit. The values between the
#: stages are in the slots of one flat array (_S_..., one value per particle side by
#: side), and the stages of plain arithmetic (the corners, the midpoint, the end point)
#: are loops without branches that LLVM vectorises; the particles near the poles (the
#: midpoint on the sphere beyond 80 degrees, the lon/lat from the unit vector beyond 60)
#: are redone one by one after them. The particles'
#: chains are independent within a stage, so the core overlaps them more than the two
#: lanes of the single-level kernel, whose steps are too long (about 700 instructions
#: in the 3-D physics) for the reorder window to reach from one lane into the other; the
#: batch's particle loads, at random places in grid order, are issued together too.
#: Measured side by side with the two-lane 3-D kernel (10^6 particles, 36 steps, 1
#: degree 3-D benchmark met, best of 3, ns per particle-step): 1 thread 133-138 against
#: 144-155, 2 threads 79-101 against 84-108 (the same noisy minutes); 16 and 64
#: particles ran alike, 16 kept the normal deviates of a 144-step call in 55 kB (32 since
#: session 54, see below).
#: The lon/lat that come out differ from the two-lane kernel's by up to 1e-13 degrees
#: (LLVM contracts a few multiply-adds differently). The third stage was split from the
#: second later: the boundary layer's Metropolis sub-steps are one chain of dependent
#: operations (proposal, fold, division, table, square root, test) per particle, and in
#: a stage of their own the core overlaps those of more particles; on the same met, 10^6
#: particles, one thread, alternated with the two-stage kernel: 99 -> 91 ns per
#: particle-step, particles in the boundary layer (0-300 m) 128 -> 108, bit-identical.
#: The midpoint wind was then split from the end point for the same reason (the end
#: point's chain: wind, displacement, renormalisation series): 90-92 -> 86-87 ns (two
#: alternations), bit-identical. In grid order the batch's particles lie at random places
#: in their arrays: each batch prefetches the next one's (kernels_numba_3d._prefetch);
#: per call of 10^6 particles, one thread, two alternations: 1 step 273-286 -> 213-220
#: ms, 6 steps (an hour of 10-minute steps, a real run's call) 681-689 -> 633-666 ms, 36
#: steps alike; two threads 151 -> 111, 356 -> 334, 1588 -> 1538 ms.
#: The vectorised stages (before: one loop per stage over the particles, each step's
#: arithmetic scalar): 10^6 particles, one thread, 82.0 -> 72.6 ns per particle-step,
#: bit-identical; LLVM vectorises only loops over one array (bf) with offsets known at
#: compile time (with the values in arrays of their own, the runtime checks that they do
#: not overlap were too many, and the loop stayed scalar), and the batch's normal
#: deviates step by step (_fill_normals' strides; with those of a particle side by side,
#: the end point read them with a runtime stride and stayed scalar): 72.5 -> 65.9 ns.
#: Tried and not kept: the level lookup vectorised (gathers from the table, the rest
#: redone one by one): 66.1-66.4 against 66.8-67.8 ns, but one level 47.4-47.7 against
#: 45.8-46.0; 512-bit vectors (the normal deviates 8.1 -> 6.3 ns a step, but the kernel
#: 64.6 -> 67.0, the single-level one 41.5 -> 45.3).
#: Session 53 (benchmarks/README.md; CPU ns per particle-step, 10^6 particles, 36 steps,
#: side by side with the code before, load 3-8 from other work): the vertical turbulence in
#: three loops (_free_slots: the free troposphere's walk for all, vectorised; a branch-free
#: list of those in the boundary layer, _in_layer; boundary_layer.vertical_step for those
#: only), where each particle's step had branched on z > h at random (73 % of the benchmark's
#: particles above h): 1 thread 58.1-59.1 -> 57.0-59.4 (medians of six 58.6 -> 57.8); the end
#: point's unit vector by the series alone and no inside test on a grid without edges
#: (_end_slots) with it: 59.0-59.4 -> 56.5-57.2; bit-identical. Tried and not kept: the level
#: lookup keeping the particle's last pair of levels (kernels_numba_3d._level), 57.8 -> 59.4
#: (medians); the locality order's counting sort in parallel (locality._locality_order).
#: Session 54 (midreuse; benchmarks/README.md, same units, load 3-4.3): the midpoint's wind
#: from the start's corner values (_mid_wind_slots; the levels now blended per corner before
#: the bilinear sum, in the oracle and CUDA too; lon/lat within 6e-14 degrees of the old
#: order's after 36 steps): 1 thread 56.7-57.1 -> 55.4-56.1, 2 threads 56.9-57.1 -> 55.6-56.3,
#: with removal and in 6-step calls no measurable change. Tried and not kept: the reuse as a
#: branch in each particle's read, the same speed.
#: A call's own work, once per particle and call (a run calls once per met interval, six
#: 10-minute steps between hourly records): the batch's loads, all in flight before any
#: arithmetic on them, then its unit vectors in a vectorised loop (_unit_slots), and its
#: lon/lat written back by a vectorised atan2 (_lonlat_slots): 10^6 particles, 2 threads,
#: 6-step calls 20.1-20.2 -> 23.3-24.1 M particle-steps/s (session 19, benchmarks/README.md;
#: the boundary layer's read narrowed without deposition, _surface4, is in these too).
#: Tried and not kept there: the particles staged in grid order by a parallel gather before
#: the call (its 40 MB of fresh pages a call cost more than the random loads it saved: 95
#: against 87-89 ns a step at 6 steps, 1 thread).
#: Session 54 (commitstage; Intel Xeon, Emerald Rapids, 2 cores shared with other work, load 2.4-4.5; CPU ns per
#: particle-step, 10^6 particles, 36 steps, one thread, min of 3 reps, alternated with the code before): the commit
#: of a batch whose particles all step now (:func:`_commit_batch`, vectorised) instead of each particle's
#: ``kernels_numba._lane_commit`` with its tuples and branches: 55.9-58.5 -> 52.4-52.7, bit-identical (a stage
#: left out to find its cost: the commit as a bare copy of the end point's slots 52.1 against 56.4; the level
#: lookup run only at a call's first step 53.7 against 55.8). Tried and not kept: 32 particles a batch (50.4-51.0
#: against 52.4-52.7, the particles' states identical, but the sums into the output grid, the deposits, the
#: removed and decayed mass in another order, up to 5e-16 relative apart); the stages over all _BATCH lanes, a trip count
#: known at compile time (54.0-54.2 against 53.1-53.6, slower); the level loop's test of each particle left out
#: where the whole batch steps (52.8-53.9, no gain). At the session's end, alternated with the code before: 1
#: thread 0.935, 2 threads 0.912, with removal 0.954, 6-step calls 0.936 of its CPU time; benchmark 35.2-35.4 ->
#: 38.0-38.2 M particle-steps/s (benchmarks/README.md).
#: Session 54, at its end (the lead; load 1.7-2.1 from the benchmark's own two threads, nothing else running):
#: 32 particles a batch after all, `bench_transport.py --three-d --sizes 1000000 --steps 36 --call-steps 6`
#: alternated twice with 16: 40.79 and 40.93 against 39.99 and 39.63 M particle-steps/s deposition off, 34.75
#: and 35.47 against 30.62 and 34.32 with removal, 6-step calls 33.71 and 33.80 against 33.53 and 32.39; a
#: 144-step call (deviates 110 kB, beyond L1) 40.80 against 40.20. The particles' states are those of 16 to the
#: bit; the sums into the output grid, the deposits and the removed and decayed mass are added in another
#: order (up to 5e-16 relative apart), fixed for given particles and independent of the number of threads.
_BATCH = 32

_S_COUNT = 49
# The 3-D batch's slots (see _BATCH): where each value of the batch's particles starts in
# the flat array ``bf`` (_BATCH values a slot, one per particle)
(_S_PX, _S_PY, _S_PZ, _S_LO, _S_LA, _S_Z, _S_M,  # the state
 _S_CZ, _S_FZ,  # the level weight and log-law factor
 _S_HS, _S_US, _S_IL, _S_WS, _S_PR, _S_SG, _S_ST, _S_LF,  # the boundary layer (_surface)
 _S_RH, _S_QX, _S_QY, _S_QZ, _S_LOM, _S_LAM,  # the midpoint
 _S_VX, _S_VY, _S_VZ, _S_VW,  # the wind at the start, then at the midpoint
 _S_W00, _S_W01, _S_W10, _S_W11, _S_OK1, _S_OK2,  # the corners' weights, inside at the start and midpoint
 _S_NX, _S_NY, _S_NZ, _S_LON, _S_LAT, _S_ZN, _S_OKN,  # the end point
 _S_ZV,  # the height after the vertical turbulence (_free_slots)
 _S_EX,  # 1.0 where the end point's unit vector needs the exact renormalisation (_end_slots)
 _S_ZC, _S_FD, _S_FW,  # the height and removal factors of _step_c (_commit_slots with removal)
 _S_MR, _S_DEC, _S_DRY, _S_WET,  # the mass after the decay; the mass decayed, dry- and wet-removed in the step
 ) = (k * _BATCH for k in range(_S_COUNT))


@numba.njit(inline="always", error_model="numpy")
def _corner_slots(bf, bo, b, s_lon, s_lat, s_ok, gs, at):  # type: ignore[no-untyped-def]
    """The corners round the point in slots ``s_lon``, ``s_lat`` of particle ``b``
    (:func:`kernels_numba_3d._corners_v`): offsets into ``bo`` from ``at`` (the start's
    at 0, the midpoint's at ``4 _BATCH``: the midpoint's read compares them), weights
    into their slots, inside (1.0 or 0.0) into ``s_ok``."""
    c = _corners_v(bf[s_lon + b], bf[s_lat + b], gs)
    bo[at + b] = c[0]
    bo[at + _BATCH + b] = c[1]
    bo[at + 2 * _BATCH + b] = c[2]
    bo[at + 3 * _BATCH + b] = c[3]
    bf[_S_W00 + b] = c[4]
    bf[_S_W01 + b] = c[5]
    bf[_S_W10 + b] = c[6]
    bf[_S_W11 + b] = c[7]
    bf[s_ok + b] = 1.0 if c[8] else 0.0


@numba.njit(inline="always", error_model="numpy")
def _midpoint_slots(bf, b, half):  # type: ignore[no-untyped-def]
    """The midpoint in the tangent plane (:func:`kernels_numba_step._mid_tangent`) of
    particle ``b``, its unit vector the start's; the 3-D kernel redoes it on the sphere
    near the poles."""
    px = bf[_S_PX + b]
    py = bf[_S_PY + b]
    pz = bf[_S_PZ + b]
    rh, lom, lam_ = _mid_tangent(px, py, pz, bf[_S_LO + b], bf[_S_LA + b], bf[_S_VX + b], bf[_S_VY + b],
                                 bf[_S_VZ + b], half)
    bf[_S_RH + b] = rh
    bf[_S_QX + b] = px
    bf[_S_QY + b] = py
    bf[_S_QZ + b] = pz
    bf[_S_LOM + b] = lom
    bf[_S_LAM + b] = lam_


@numba.njit(inline="always", error_model="numpy")
def _end_slots(bf, b, xi1, xi2, full, sh, diffuse_h, has_w, dt, gs, exact, check):  # type: ignore[no-untyped-def]
    """The end point of particle ``b`` (:func:`kernels_numba_step._end_point` in the 3-D
    physics), its lookup lon/lat by expansion (the 3-D kernel redoes them from the unit
    vector beyond 60 degrees), the height after the vertical advection, and whether it
    stayed inside (1.0 or 0.0).

    ``exact`` False (the vectorised loop): the unit vector by the renormalisation's series
    alone (:func:`kernels_numba_step._renormalised_series`), and 1.0 in ``_S_EX`` where that
    is not the exact one (a step of more than about 60 km, which the kernel then redoes with
    ``exact`` True); the vectorised select of the series and ``1 / sqrt(1 + e)`` had
    computed both for every lane. ``check`` False: the grid has no edge to leave (periodic
    in longitude, open at both poles), where ``_inside_v`` is always true: its two
    divisions are not computed (the vectorised loop computed them for every lane)."""
    px = bf[_S_PX + b]
    py = bf[_S_PY + b]
    pz = bf[_S_PZ + b]
    rh = bf[_S_RH + b]
    dx, dy, dz = _displacement(px, py, pz, rh, bf[_S_QX + b], bf[_S_QY + b], bf[_S_QZ + b], bf[_S_VX + b],
                               bf[_S_VY + b], bf[_S_VZ + b], xi1, xi2, full, sh, diffuse_h)
    z = bf[_S_Z + b]
    if has_w:
        z = z + bf[_S_VW + b] * dt  # vertical advection, reflected at the ground
        z = -z if z < 0.0 else z
    if exact:
        nx, ny, nz = _renormalised(px, py, pz, dx, dy, dz)
        bf[_S_EX + b] = 0.0
    else:
        nx, ny, nz, e = _renormalised_series(px, py, pz, dx, dy, dz)
        bf[_S_EX + b] = 0.0 if -1e-4 < e < 1e-4 else 1.0
    lon_n, lat_n = _expansion_lonlat(px, py, pz, bf[_S_LO + b], bf[_S_LA + b], rh, dx, dy, dz)
    bf[_S_NX + b] = nx
    bf[_S_NY + b] = ny
    bf[_S_NZ + b] = nz
    bf[_S_LON + b] = lon_n
    bf[_S_LAT + b] = lat_n
    bf[_S_ZN + b] = z
    ok = bf[_S_OK1 + b] > 0.5 and bf[_S_OK2 + b] > 0.5 and (not check or _inside_v(lon_n, lat_n, gs))
    bf[_S_OKN + b] = 1.0 if ok else 0.0


@numba.njit(inline="always", error_model="numpy")
def _unit_slots(bf, b):  # type: ignore[no-untyped-def]
    """The unit vector of particle ``b``'s lon/lat into its slots (:func:`_unit_vector`):
    a loop of it over the batch is vectorised, where ``kernels_numba._lane_load`` makes one
    particle's at a time. In the batch's load, each particle's sincos waited on its
    lon/lat, read at a random place in grid order; now the loads only copy, all of them
    in flight together, and the trigonometry follows. Bit-identical; 10^6 particles, 1
    thread, two alternations of 7 calls (session 19): 6-step calls (a run's) 91.4-97.9
    -> 83.6-86.8 ns per particle-step, 24-step calls 72.3-75.0 -> 70.4-73.4 (about 40 ns
    per particle and call)."""
    px, py, pz = _unit_vector(bf[_S_LO + b], bf[_S_LA + b])
    bf[_S_PX + b] = px
    bf[_S_PY + b] = py
    bf[_S_PZ + b] = pz


@numba.njit(inline="always", error_model="numpy")
def _lonlat_slots(bf, b):  # type: ignore[no-untyped-def]
    """The lon/lat [deg] of particle ``b``'s unit vector into its end point's slots, by
    the branch-free :func:`fastmath.atan2` (within 2 ulp of libm's atan2 and asin, which
    the two-lane kernel's ``kernels_numba._lane_store`` calls one particle at a time): a loop of
    it over the batch is vectorised. The write-back is once per call, and a run calls
    the kernel once per met interval (six 10-minute steps between hourly records): at
    that length, 10^6 particles, 1 thread, two alternations of 7 calls, the median step
    went 91.4 and 92.3 -> 89.9 and 89.9 ns (session 19, AMD EPYC); lon/lat move by up to
    2 ulp, which the next call's steps carry on (1e-11 degrees after 18 more steps near
    the poles)."""
    px = bf[_S_PX + b]
    py = bf[_S_PY + b]
    bf[_S_LON + b] = fm.atan2(py, px) * _RAD
    bf[_S_LAT + b] = fm.atan2(bf[_S_PZ + b], math.sqrt(px * px + py * py)) * _RAD


@numba.njit(forceinline=True, error_model="numpy")  # no FMA contraction: boundary_layer.vertical_step's arithmetic
def _free_sigma(kz_free, dt):  # type: ignore[no-untyped-def]
    """The free troposphere's random-walk scale of ``boundary_layer.vertical_step``, once per call."""
    return math.sqrt(2.0 * kz_free * dt)


@numba.njit(forceinline=True, error_model="numpy")  # no FMA contraction (see _free_sigma)
def _free_walk(z, sfree, xi):  # type: ignore[no-untyped-def]
    """``boundary_layer.vertical_step`` above the mixing height, bit for bit (``sfree`` from
    :func:`_free_sigma`)."""
    return float(np.float32(abs(z + sfree * xi)))


@numba.njit(inline="always", error_model="numpy")
def _free_slots(bf, b, sfree, xi3):  # type: ignore[no-untyped-def]
    """The height of particle ``b`` after the vertical turbulence as if it were above the
    mixing height (:func:`_free_walk`, into ``_S_ZV``); a loop of it over the batch is
    vectorised. The 3-D kernel then calls ``boundary_layer.vertical_step`` from a list of
    the particles that are not (:func:`_in_layer`), without a branch on each particle's
    ``z > h``, which, taken at random in a batch (73 % of the benchmark's particles are
    above h), was mispredicted."""
    bf[_S_ZV + b] = _free_walk(bf[_S_ZN + b], sfree, xi3)


@numba.njit(inline="always", error_model="numpy")
def _in_layer(bf, b):  # type: ignore[no-untyped-def]
    """1 where ``boundary_layer.vertical_step`` does more for particle ``b`` than
    :func:`_free_walk` (inside the mixing height, or no u*), else 0."""
    z = bf[_S_ZN + b]
    hs = bf[_S_HS + b]
    return np.int64(not (bf[_S_US + b] >= 0.0 and (z > hs or hs <= 0.0)))


@_njit_no_nrt  # see kernels_numba_3d._HELPER
def _mid_wind_slots(bf, bo, bk, blev, bdone, bfirst, step, nb, wf, k, w, k_start, ipar, swap):  # type: ignore[no-untyped-def]
    """The wind at the batch's midpoints (corners at ``bo[4 _BATCH:]``, weights in their
    slots), records ``k`` (time weight ``w``), at the start's heights, into ``_S_VX`` to
    ``_S_VW``. With 1-degree cells and 10-minute steps a midpoint is nearly always in its
    start's cell (the same first corner, ``bo[b]``; the other three follow from it), and
    the records differ from the start's (``k_start``) only where a record's time falls in
    the step's first half (never with steps that divide the records' interval): so first,
    for every particle and without a branch, the wind from the corner values that the
    start's read kept (``bk[32 b:32 b + 32]``, kernels_numba_3d._read3_kept; stale and unused
    for the particles that do not step), then, only where a midpoint left its start's cell
    or records, the full read (kernels_numba_3d._read3_full), the same result as it would
    have been for the others."""
    left = k != k_start
    for b in range(nb):
        wt = (bf[_S_W00 + b], bf[_S_W01 + b], bf[_S_W10 + b], bf[_S_W11 + b])
        v = _read3_kept(bk, 32 * b, wt, w, bf[_S_FZ + b], swap)
        bf[_S_VX + b], bf[_S_VY + b], bf[_S_VZ + b], bf[_S_VW + b] = v[0], v[1], v[2], v[3]
        left |= bo[4 * _BATCH + b] != bo[b]
    for b in range(nb if left else 0):
        if bdone[b] or step < bfirst[b] or (k == k_start and bo[4 * _BATCH + b] == bo[b]):
            continue
        o = (bo[4 * _BATCH + b], bo[5 * _BATCH + b], bo[6 * _BATCH + b], bo[7 * _BATCH + b])
        wt = (bf[_S_W00 + b], bf[_S_W01 + b], bf[_S_W10 + b], bf[_S_W11 + b])
        v = _read3_full(wf, k, w, blev[b], bf[_S_CZ + b], bf[_S_FZ + b], o, wt, ipar, swap)
        bf[_S_VX + b], bf[_S_VY + b], bf[_S_VZ + b], bf[_S_VW + b] = v[0], v[1], v[2], v[3]


@numba.njit(inline="always", error_model="numpy")
def _commit_slots(bf, b, decay_factor, from_c):  # type: ignore[no-untyped-def]
    """The commit of particle ``b``, which steps now (alive, born, not done): the end
    point's slots into the state's if it stayed inside (``_S_OKN``), else its state as it
    was; the height rounded to float32 (``_S_ZV``'s), the mass decayed; or, ``from_c``, the
    height in ``_S_ZC`` and the mass decayed and times the dry and wet removal factors
    ``_S_FD``, ``_S_FW`` (all three from ``kernels_numba_step._step_c``). The mass after the
    decay into ``_S_MR``, the mass decayed into ``_S_DEC`` and, ``from_c``, the dry and wet
    removal into
    ``_S_DRY`` and ``_S_WET`` (0 where it left); returns 1 where it left the domain, else 0. The same arithmetic as
    ``kernels_numba._lane_commit``, without its branches and tuples: a loop of it over
    the batch is vectorised."""
    ok = bf[_S_OKN + b] > 0.5
    m0 = bf[_S_M + b]
    m = m0 * decay_factor
    if from_c:
        md = m * bf[_S_FD + b]
        mw = md * bf[_S_FW + b]
        bf[_S_DRY + b] = m - md if ok else 0.0
        bf[_S_WET + b] = md - mw if ok else 0.0
        z = bf[_S_ZC + b]
    else:
        mw = m
        z = float(np.float32(bf[_S_ZV + b]))
    bf[_S_MR + b] = m
    bf[_S_DEC + b] = m0 - m if ok else 0.0
    # (both values loaded before the selects: a load in one arm only is not speculated, and
    # the loop was left scalar)
    px, py, pz, lo, la, z0 = bf[_S_PX + b], bf[_S_PY + b], bf[_S_PZ + b], bf[_S_LO + b], bf[_S_LA + b], bf[_S_Z + b]
    nx, ny, nz, lon, lat = bf[_S_NX + b], bf[_S_NY + b], bf[_S_NZ + b], bf[_S_LON + b], bf[_S_LAT + b]
    bf[_S_PX + b] = nx if ok else px
    bf[_S_PY + b] = ny if ok else py
    bf[_S_PZ + b] = nz if ok else pz
    bf[_S_LO + b] = lon if ok else lo
    bf[_S_LA + b] = lat if ok else la
    bf[_S_Z + b] = z if ok else z0
    bf[_S_M + b] = mw if ok else m0
    return np.int64(not ok)


@numba.njit(inline="always")
def _add_cell(acc, blk, g, lo, la, m, sfpar, sipar):  # type: ignore[no-untyped-def]
    """Add ``m`` to the output-grid cell of (lo, la), if there is one."""
    x = lo - sfpar[0]  # degrees east of the grid's west edge, in 0..360 (a grid across 180 deg)
    if x < 0.0:
        x += 360.0
    elif x >= 360.0:
        x -= 360.0
    ci = int(math.floor(x / sfpar[1]))
    cj = int(math.floor((la - sfpar[2]) / sfpar[3]))
    if ci >= 0 and ci < sipar[0] and cj >= 0 and cj < sipar[1]:
        acc[blk, g, cj, ci] += m


@numba.njit(inline="always")
def _deposit(acc, blk, g, lo, la, z, m, sfpar, sipar):  # type: ignore[no-untyped-def]
    """Sample a particle's mass into its output cell if it is below the layer depth."""
    if z < sfpar[4]:
        _add_cell(acc, blk, g, lo, la, m, sfpar, sipar)


@numba.njit(inline="always", error_model="numpy")
def _commit_batch(bf, nb, bdone, bexit, bgt, decay_factor, from_c, deposit, dec, dry, wet, do_sample, dep_on, acc,
                  dep, blk, sfpar, sipar):  # type: ignore[no-untyped-def]
    """The commit of the batch's ``nb`` particles where all of them step now (alive, born,
    not done) and no receptor reads them: :func:`_commit_slots` for all (vectorised), the
    masses decayed, dry- and wet-removed added to ``dec``, ``dry``, ``wet`` particle by
    particle in the batch's order (the additions of 0.0 that an unremoved mass would add
    left out: without decay, or without deposition), the deposition and the output
    grid's samples (``_add_cell``, ``_deposit``), and the particles that left marked done
    and exited. Returns the three sums and whether a particle is still alive. The same
    operations as ``kernels_numba._lane_commit`` particle by particle, in the same
    order: bit-identical. ``from_c`` False: the height from ``_S_ZV`` and no removal
    (``kernels_numba_step._step_c`` then only rounds it; a boundary layer from the met
    and no deposition); True: ``_S_ZC``, ``_S_FD``, ``_S_FW`` from ``_step_c`` (factors
    of 1 without ``deposit``).

    The benchmark's particles (all born at the first step, on a global grid) all take
    this path after their first step; the per-particle loop, whose tuples LLVM kept in
    registers but whose branches and scalar loads it did not vectorise, had cost about 4
    of the 3-D step's 56 ns (session 54, see _BATCH)."""
    nexit = 0
    for b in range(nb):
        nexit += _commit_slots(bf, b, decay_factor, from_c)
    for b in range(nb if decay_factor != 1.0 else 0):
        dec += bf[_S_DEC + b]
    for b in range(nb if deposit else 0):
        dry += bf[_S_DRY + b]
        wet += bf[_S_WET + b]
    for b in range(nb if do_sample or dep_on else 0):
        if bf[_S_OKN + b] > 0.5:
            m = bf[_S_MR + b]
            mw = bf[_S_M + b]
            if dep_on and m != mw:
                _add_cell(dep, blk, 0, bf[_S_LON + b], bf[_S_LAT + b], m - mw, sfpar, sipar)
            if do_sample:
                _deposit(acc, blk, bgt[b], bf[_S_LON + b], bf[_S_LAT + b], bf[_S_Z + b], mw, sfpar, sipar)
    for b in range(nb if nexit > 0 else 0):
        if not bf[_S_OKN + b] > 0.5:
            bdone[b] = True
            bexit[b] = True
    return dec, dry, wet, nexit < nb
