"""The 3-D parts of the numba CPU kernel (:mod:`plumecast.transport.kernels_numba`):
the grid-corner lookup it shares with the single-level step, the level lookup, the
interpolation of winds on levels and of the boundary-layer fields, the wrappers of the
boundary-layer functions, and the packing of a 3-D WindGrid node by node.

The kernel's cache key covers this module's source (``kernels_numba._source_stamp``).
"""

from __future__ import annotations

import math
import threading
from typing import Any, cast

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic
from numpy.typing import NDArray

from plumecast.transport import boundary_layer as bl
from plumecast.transport.kernels_numpy import StepPhysics
from plumecast.transport.windgrid import WindGrid, pack_surface, pack_wind

# (_HELPER) The 3-D kernel's helpers are marked ``forceinline``: compiled once each and
# inlined by LLVM (its ``alwaysinline``), not by numba's IR inliner (``inline="always"``),
# which copies and retypes the IR at every call site, before the branches of the other
# physics are pruned: the single-level kernel then took 344 s to compile instead of
# 95 s, the 3-D one 400 s instead of 95 s (2 cores, load 1.3-3). Plain calls, which
# LLVM did not inline, made the 3-D step 10-40 % slower. They are not cached on their
# own: the kernel's cache holds their code, and its key covers their sources (_STAMP).
# The helpers that take arrays are compiled without numba's reference counting
# (``_nrt=False``; they allocate nothing): with it, each call increfs its array arguments
# on entry and decrefs them on every return path, atomic operations that LLVM's refcount
# pruning could not remove across their branches (with the ``met3`` tuple unpacked in
# every step as well, the 3-D loop's assembly held 23 decref and 10 incref calls,
# against 2 and 4, all outside the steps, in the single-level loop and now in this one).
# The wrappers of the boundary-layer functions have no FMA contraction: the
# arithmetic of their NumPy twins, which the oracle runs.


#: the decorator of the helpers that take arrays (see _HELPER; ``_nrt`` is a numba option
#: its type stubs do not list)
_njit_no_nrt = cast(Any, numba.njit)(forceinline=True, _nrt=False, error_model="numpy", fastmath={"contract"})


@numba.njit(inline="always", error_model="numpy", fastmath={"contract"})  # see _HELPER
def _corners(lon, lat, fpar, ipar):  # type: ignore[no-untyped-def]
    """Offsets of the four grid nodes round (lon, lat) in a (lat, lon) plane and their
    bilinear weights, ``o00, o01, o10, o11, w00, w01, w10, w11``, and whether the
    point is inside the domain. ``fpar`` holds (lon0, dlon, lat0, dlat, 1/dlon,
    1/dlat). Same arithmetic as the oracle's ``_corners`` up to the rounding of a
    multiplication by 1/dlon."""
    nlon = ipar[0]
    nlat = ipar[1]
    ok = True
    fi = (lon - fpar[0]) * fpar[4]
    if ipar[2] == 1:
        if fi < 0.0:
            fi += nlon
        elif fi >= nlon:
            fi -= nlon
        if fi < 0.0 or fi >= nlon:  # far outside [-180, 180): the general wrap
            fi = fi - math.floor(fi / nlon) * nlon
    else:
        if fi < 0.0 or fi > nlon - 1:
            ok = False
        fi = min(max(fi, 0.0), nlon - 1.0)
    i0 = min(int(fi), nlon - 1)
    a = fi - i0
    i1 = i0 + 1
    if i1 >= nlon:
        i1 = 0 if ipar[2] == 1 else nlon - 1
    fj = (lat - fpar[2]) * fpar[5]
    if fj < 0.0:
        if ipar[3] == 0:
            ok = False
        fj = 0.0
    if fj > nlat - 1:
        if ipar[4] == 0:
            ok = False
        fj = nlat - 1.0
    j0 = min(int(fj), nlat - 1)
    b = fj - j0
    j1 = min(j0 + 1, nlat - 1)
    # unsigned offsets (all are >= 0): numba wraps negative signed indices round,
    # a compare and select on every load otherwise
    # (a flat tuple: numba's parfor array analysis fails on a nested one)
    return (np.uint64(j0 * nlon + i0), np.uint64(j0 * nlon + i1), np.uint64(j1 * nlon + i0),
            np.uint64(j1 * nlon + i1), (1.0 - a) * (1.0 - b), a * (1.0 - b), (1.0 - a) * b, a * b, ok)


@numba.njit(inline="always", error_model="numpy")
def _grid_scalars(fpar, ipar):  # type: ignore[no-untyped-def]
    """The grid's parameters as scalars, for :func:`_corners_v` and :func:`_inside_v`:
    (lon0, 1/dlon, lat0, 1/dlat, nlon, nlat, periodic in lon, open south, open north,
    dlon, dlat), taken out of ``fpar`` and ``ipar`` once per call."""
    return (fpar[0], fpar[4], fpar[2], fpar[5], ipar[0], ipar[1], ipar[2] == 1, ipar[3] == 1, ipar[4] == 1,
            fpar[1], fpar[3])


@numba.njit(inline="always", error_model="numpy", fastmath={"contract"})
def _corners_v(lon, lat, gs):  # type: ignore[no-untyped-def]
    """:func:`_corners`, bit for bit, with the grid's parameters as scalars (``gs``, from
    :func:`_grid_scalars`) and its branches as selects, so that LLVM vectorises a loop
    of it over a batch of particles (the 3-D kernel's corner stages, see kernels_numba_batch._BATCH).
    The corners' offsets are unsigned (see _corners); ``ok``: the point is inside. The
    single-level kernel keeps the branches of :func:`_corners` and :func:`kernels_numba_step._inside`:
    through this form (one particle at a time) it ran 45.5 against 42.3 ns per step (1
    thread, 10^6 particles, two alternations), and LLVM contracted its multiply-adds
    otherwise (lon/lat 4e-14 degrees apart)."""
    nlon = gs[4]
    nlat = gs[5]
    nlonf = float(nlon)
    fi = (lon - gs[0]) * gs[1]
    if gs[6]:
        fi = fi + nlonf if fi < 0.0 else (fi - nlonf if fi >= nlonf else fi)
        fi = fi - math.floor(fi / nlonf) * nlonf if (fi < 0.0 or fi >= nlonf) else fi
        ok = True
    else:
        ok = not (fi < 0.0 or fi > nlonf - 1.0)
        fi = min(max(fi, 0.0), nlonf - 1.0)
    i0 = min(int(fi), nlon - 1)
    a = fi - i0
    i1 = i0 + 1
    i1 = (0 if gs[6] else nlon - 1) if i1 >= nlon else i1
    fj = (lat - gs[2]) * gs[3]
    ok = ok and (gs[7] or fj >= 0.0) and (gs[8] or fj <= nlat - 1.0)
    fj = min(max(fj, 0.0), nlat - 1.0)
    j0 = min(int(fj), nlat - 1)
    b = fj - j0
    j1 = min(j0 + 1, nlat - 1)
    return (np.uint64(j0 * nlon + i0), np.uint64(j0 * nlon + i1), np.uint64(j1 * nlon + i0),
            np.uint64(j1 * nlon + i1), (1.0 - a) * (1.0 - b), a * (1.0 - b), (1.0 - a) * b, a * b, ok)


@numba.njit(inline="always", error_model="numpy")
def _inside_v(lon, lat, gs):  # type: ignore[no-untyped-def]
    """Whether (lon, lat) is inside the grid (``kernels_numba_step._inside``, bit for
    bit), branch-free on the scalars ``gs`` of :func:`_grid_scalars`."""
    fi = (lon - gs[0]) / gs[9]
    fj = (lat - gs[2]) / gs[10]
    return ((gs[6] or not (fi < 0.0 or fi > gs[4] - 1)) and (gs[7] or not fj < 0.0)
            and (gs[8] or not fj > gs[5] - 1))


@_njit_no_nrt  # see _HELPER
def _level(z, zm, zinv, ztab, zpar, nz):  # type: ignore[no-untyped-def]
    """The particle's lower level, weight of the level above and log-law factor
    (:func:`kernels_numpy.level_weights`), found from the lookup table of
    :meth:`WindGrid.level_params` (``zpar`` = (1/dz, 1/ln(z_0m/z0), z0)). Tried and not
    kept (session 53): the particle's last pair of levels kept and tested first (the same
    results; a particle above the boundary layer moves about 10 m a step), slower: the test
    is a branch that the boundary layer's redraws mispredict (10^6 particles, 1 thread,
    medians of six 57.8 -> 59.4 CPU ns per particle-step)."""
    if nz == 1:
        return 0, 0.0, 1.0
    if z >= zm[np.uint64(nz - 1)]:
        return nz - 1, 0.0, 1.0
    if z < zm[0]:
        return 0, 0.0, math.log(max(z, zpar[2]) / zpar[2]) * zpar[1]
    # unsigned indices (z >= zm[0] > 0 here, and the levels are >= 0): numba wraps negative
    # signed indices round, a compare and select before each load of this chain otherwise
    lev = ztab[np.uint64(min(int(z * zpar[0]), ztab.size - 1))]
    # the one step up that the table leaves, without a branch (z < zm[nz - 1] here, and the
    # table's levels are at most nz - 2): taken or not at random, a branch mispredicted
    lev += np.int64(z >= zm[np.uint64(lev + 1)])
    while lev < nz - 2 and z >= zm[np.uint64(lev + 1)]:  # only where the table is coarser than a layer
        lev += 1
    while lev > 0 and z < zm[np.uint64(lev)]:  # z / dz rounded up into the next table cell
        lev -= 1
    ul = np.uint64(lev)
    return lev, (z - zm[ul]) * zinv[ul], 1.0


def _blend_tail(context: Any, builder: Any, acc: Any, wt: Any, swap: Any, width: int) -> Any:
    """The end of :func:`_make_blend`'s and :func:`_make_kept`'s code: the two records of the
    ``2 width`` doubles ``acc`` exchanged where ``swap``, blended ``(1 - wt) r0 + wt r1`` in
    the register, and the ``width`` results as a tuple's values."""
    i32 = ir.IntType(32)
    vd = acc.type
    vh = ir.VectorType(ir.DoubleType(), width)

    def record(first: int) -> Any:
        return builder.shuffle_vector(acc, ir.Constant(vd, ir.Undefined),
                                      ir.Constant(ir.VectorType(i32, width), list(range(first, first + width))))

    r0, r1 = record(0), record(width)
    r0, r1 = builder.select(swap, r1, r0), builder.select(swap, r0, r1)
    one = ir.Constant(ir.DoubleType(), 1.0)
    out = builder.fadd(builder.fmul(_splat(builder, builder.fsub(one, wt), vh), r0),
                       builder.fmul(_splat(builder, wt, vh), r1))
    return [builder.extract_element(out, ir.Constant(i32, i)) for i in range(width)]


def _splat(builder: Any, x: Any, vt: Any) -> Any:
    """``x`` in every lane of a vector of type ``vt``."""
    i32 = ir.IntType(32)
    v = builder.insert_element(ir.Constant(vt, ir.Undefined), x, ir.Constant(i32, 0))
    return builder.shuffle_vector(v, ir.Constant(vt, ir.Undefined),
                                  ir.Constant(ir.VectorType(i32, vt.count), [0] * vt.count))


def _is_c_1d(arr: Any, dtype: Any) -> bool:
    """Whether the numba type ``arr`` is a contiguous 1-D array of ``dtype`` (the intrinsics
    count their offsets in elements from the data pointer)."""
    return isinstance(arr, types.Array) and arr.dtype == dtype and arr.ndim == 1 and arr.layout == "C"


def _make_blend(width: int, levels: int, gap: int = 0, keep: bool = False) -> Any:
    """A numba intrinsic ``(arr, b00, b01, b10, b11, s, w00, w01, w10, w11, c, wt, swap)``: ``width``
    fields of records ``k`` and ``k + 1`` on one level (``levels`` 1) or on two (2), read,
    interpolated and blended in vector registers from the loads to the result, a tuple
    of ``width`` float64.

    ``arr`` is a contiguous 1-D float32 array in which each corner's ``2 width`` floats
    (the two records side by side) start at ``b..`` and, with two levels, those of the
    level above at ``b.. + s``. Each is one vector load, widened to doubles. With two
    levels each corner's two are blended first, ``(1 - c) a + c b`` (both records, all
    lanes at once); then the corners are summed with the splat bilinear weights, ``w00
    f00 + w01 f01 + w10 f10 + w11 f11``, in that order. ``gap`` > 0: the second record's
    fields start ``gap`` floats after the first one's instead of right after them (the
    first ``width`` of a wider record, two loads of ``width`` floats joined in one
    register; :data:`_surface4`). Then the records are blended, ``(1 - wt) r0 + wt r1``,
    all lanes at once; only the ``width`` results leave the register. ``swap`` True: the
    records lie the other way round (the second first: a streamed window packed as a ring
    of two records, :func:`_packed`); the two halves of the register are exchanged by
    selects before the records' blend, so the arithmetic is the same. FMA contraction
    comes from the caller's ``fastmath={"contract"}``, which numba applies to these
    instructions too.

    ``keep`` True: two more arguments, ``kf`` (a contiguous 1-D float64 array) and ``ko``:
    each corner's level-blended ``2 width`` doubles are also stored, corner after corner,
    at ``kf[ko:ko + 8 width]``, for :func:`_make_kept`'s read of another point in the same
    cell at the same height (the step's midpoint, kernels_numba_batch._mid_wind_slots).

    Lane by lane these are the operations, in the order, of the scalar form (the oracle's
    level, bilinear and time interpolation). Before session 54 the levels were blended
    after the bilinear sums (each level summed over the corners, then ``(1 - c) a + c b``
    once), which read the same floats, one blend fewer; the order changed so that the
    midpoint can reuse the start's corner values (results within about 1e-16 relative of
    the old order's). Before that (sessions up to 19) the blends were scalar: the form
    before returned the 2 ``width`` sums of each level as scalars, LLVM extracted them
    one by one (shuffles, on the same execution port as the widening and the splats) and
    did the blends in scalar arithmetic. On the 3-D benchmark's met, 10^6 particles, one
    thread, ns per particle-step: one level with w 75 -> 64, twelve levels 83 -> 71, with
    the boundary layer (whose eight fields of two records are read the same way) 115 -> 97
    (benchmarks/README.md). Before, LLVM's SLP vectoriser had not combined the scalar form
    at all (32 scalar loads and conversions a record)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        data = context.make_array(signature.args[0])(context, builder, value=args[0]).data
        vf = ir.VectorType(ir.FloatType(), 2 * width)
        vd = ir.VectorType(ir.DoubleType(), 2 * width)
        one = ir.Constant(ir.DoubleType(), 1.0)
        step = context.cast(builder, args[5], signature.args[5], types.uint64)
        if levels == 2:
            c1 = _splat(builder, builder.fsub(one, args[10]), vd)
            c2 = _splat(builder, args[10], vd)
        if keep:
            kdata = context.make_array(signature.args[13])(context, builder, value=args[13]).data
            kat = context.cast(builder, args[14], signature.args[14], types.uint64)
        acc: Any = None
        for q, (b, bt, w) in enumerate(zip(args[1:5], signature.args[1:5], args[6:10], strict=True)):
            idx = context.cast(builder, b, bt, types.uint64)  # an i64
            lv: list[Any] = []
            for lev in range(levels):
                at = idx if lev == 0 else builder.add(idx, step)
                if gap:  # the two records' fields apart: two loads, joined
                    vw = ir.VectorType(ir.FloatType(), width)
                    r0 = builder.load(builder.bitcast(builder.gep(data, [at]), vw.as_pointer()), align=4)
                    r1 = builder.load(builder.bitcast(builder.gep(data, [builder.add(at, ir.Constant(at.type, gap))]),
                                                      vw.as_pointer()), align=4)
                    rec = builder.shuffle_vector(r0, r1, ir.Constant(ir.VectorType(ir.IntType(32), 2 * width),
                                                                     list(range(2 * width))))
                else:
                    rec = builder.load(builder.bitcast(builder.gep(data, [at]), vf.as_pointer()), align=4)
                lv.append(builder.fpext(rec, vd))
            corner = lv[0]
            if levels == 2:
                corner = builder.fadd(builder.fmul(c1, lv[0]), builder.fmul(c2, lv[1]))
            if keep:
                dst = builder.gep(kdata, [builder.add(kat, ir.Constant(kat.type, q * 2 * width))])
                builder.store(corner, builder.bitcast(dst, vd.as_pointer()), align=8)
            prod = builder.fmul(_splat(builder, w, vd), corner)
            acc = prod if acc is None else builder.fadd(acc, prod)
        vals = _blend_tail(context, builder, acc, args[11], args[12], width)
        return context.make_tuple(builder, signature.return_type, vals)

    def typing(typingctx, arr, b00, b01, b10, b11, s, w00, w01, w10, w11, c, wt, swap):  # type: ignore[no-untyped-def]
        if not _is_c_1d(arr, types.float32):
            return None
        f64 = types.float64
        sig = types.UniTuple(f64, width)(arr, b00, b01, b10, b11, s, f64, f64, f64, f64, f64, f64, types.boolean)
        return sig, codegen

    def typing_keep(typingctx, arr, b00, b01, b10, b11, s, w00, w01, w10, w11, c, wt, swap, kf, ko):  # type: ignore[no-untyped-def]
        if not (_is_c_1d(arr, types.float32) and _is_c_1d(kf, types.float64)):
            return None
        f64 = types.float64
        sig = types.UniTuple(f64, width)(arr, b00, b01, b10, b11, s, f64, f64, f64, f64, f64, f64, types.boolean,
                                         kf, ko)
        return sig, codegen

    return intrinsic(typing_keep if keep else typing)


def _make_kept(width: int) -> Any:
    """A numba intrinsic ``(kf, ko, w00, w01, w10, w11, wt, swap)``: the read of
    :func:`_make_blend` (``keep``) at other bilinear weights and another time weight from
    the corner values it stored at ``kf[ko:ko + 8 width]``: the corners summed, ``w00 f00 +
    w01 f01 + w10 f10 + w11 f11``, then the records blended, the same instructions in the
    same order, so the result is that read's (bit for bit) at a point with the same
    corners, height and records, without its loads, widening and level blends."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        kdata = context.make_array(signature.args[0])(context, builder, value=args[0]).data
        kat = context.cast(builder, args[1], signature.args[1], types.uint64)
        vd = ir.VectorType(ir.DoubleType(), 2 * width)
        acc: Any = None
        for q in range(4):
            src = builder.gep(kdata, [builder.add(kat, ir.Constant(kat.type, q * 2 * width))])
            corner = builder.load(builder.bitcast(src, vd.as_pointer()), align=8)
            prod = builder.fmul(_splat(builder, args[2 + q], vd), corner)
            acc = prod if acc is None else builder.fadd(acc, prod)
        vals = _blend_tail(context, builder, acc, args[6], args[7], width)
        return context.make_tuple(builder, signature.return_type, vals)

    def typing(typingctx, kf, ko, w00, w01, w10, w11, wt, swap):  # type: ignore[no-untyped-def]
        if not _is_c_1d(kf, types.float64):
            return None
        f64 = types.float64
        return types.UniTuple(f64, width)(kf, ko, f64, f64, f64, f64, f64, types.boolean), codegen

    return intrinsic(typing)


def _prefetch_typing(typingctx, arr, i):  # type: ignore[no-untyped-def]
    """The typing of :data:`_prefetch`: ask the CPU to bring element ``i`` of the 1-D array ``arr`` into its caches
    (``llvm.prefetch``, read, high locality, data): no load, no bounds check, no
    effect on the results. The 3-D kernel prefetches the next batch's particles, which
    it reads in the order of their place on the grid, at random places in the arrays."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1):
        return None
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ary = context.make_array(signature.args[0])(context, builder, value=args[0])
        idx = context.cast(builder, args[1], signature.args[1], types.intp)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(builder.gep(ary.data, [idx]), i8p), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


#: ``_prefetch(arr, i)``: see :func:`_prefetch_typing`
_prefetch: Any = intrinsic(_prefetch_typing)


#: (vx, vy, vz, w) of two records on two levels (the single-level kernel reads its three
#: planes with scalar loads: a packed copy read with four-float vectors was tried,
#: bit-identical and no faster, 70-81 against 62-87 ns per step at 10^6, 1 thread, side
#: by side)
_wind3: Any = _make_blend(4, 2)
#: :data:`_wind3` that also keeps each corner's level-blended records (the start of a step)
_wind3_keep: Any = _make_blend(4, 2, keep=True)
#: :data:`_wind3` at another point of the same cell from the values :data:`_wind3_keep` kept
_wind3_kept: Any = _make_kept(4)
#: the eight boundary-layer fields of two records
_surface8: Any = _make_blend(8, 1)
#: the first four of them (mixing height, u*, 1/L, w*: the vertical turbulence's), all the
#: 3-D step reads without deposition
_surface4: Any = _make_blend(4, 1, gap=8)


@_njit_no_nrt  # see _HELPER (contract, as the reads that call it)
def _wind_at(o, lev, k, ipar):  # type: ignore[no-untyped-def]
    """The offsets into the packed wind (:func:`_packed`) of records ``k``, ``k + 1`` on
    level ``lev`` at the corners ``o``, and the stride to the level above, for
    :data:`_wind3` and :data:`_wind3_keep` (:func:`_read3`, :func:`_read3_full`)."""
    s = np.uint64(max(ipar[5], 2) * 4)
    node = np.uint64(ipar[6]) * s
    off = np.uint64(lev) * s + np.uint64(k * 4)
    return o[0] * node + off, o[1] * node + off, o[2] * node + off, o[3] * node + off, s


@_njit_no_nrt  # see _HELPER (contract, as the reads that call it)
def _log_law(v, f):  # type: ignore[no-untyped-def]
    """The wind ``v`` (vx, vy, vz, w) times the log-law factor ``f`` below the lowest
    level (:func:`_level`; 1 at and above it, where it is not applied)."""
    vx, vy, vz, vw = v
    if f != 1.0:
        vx *= f
        vy *= f
        vz *= f
        vw *= f
    return vx, vy, vz, vw


@_njit_no_nrt  # see _HELPER
def _read3(vf, k, w, lev, c, f, o, wt, ipar, swap, kf, ko):  # type: ignore[no-untyped-def]
    """Wind on levels at the corners ``o`` (bilinear weights ``wt``) of
    :func:`_corners_v`: records ``k`` and ``k + 1`` at the particle's height weights
    (lev, c), then linear in time (weight ``w``), then the log-law factor ``f`` (the
    oracle's ``interpolate_wind`` with levels); (vx, vy, vz, w), w 0 where the grid has
    none, as packed. Each corner's level-blended records (8 doubles) are kept in
    ``kf[ko:ko + 32]`` for :func:`_read3_kept` (kernels_numba_batch._mid_wind_slots).

    ``vf`` is the packed (lat, lon, nz, nt, 4) array of :func:`_packed`: a node's (vx, vy,
    vz, w) of two consecutive records on one level are 32 contiguous bytes, and those of
    the level above follow them when ``nt`` is 2 (the streamed met), so a corner costs
    one cache line or two instead of the eight planes of the (time, nz, 3, lat, lon)
    layout. Both levels and both records are read without a branch (:data:`_wind3`):
    the level above also at ``c = 0``, where it weighs nothing (the array is padded for
    the top level of the last node), the second record also at ``w = 0`` (the same
    result). ``k <= nt - 2`` (:meth:`WindGrid.time_index`; a single record is packed
    twice). ``swap``: records ``k`` and ``k + 1`` lie the other way round (see
    :func:`_packed`)."""
    a = _wind_at(o, lev, k, ipar)
    return _log_law(_wind3_keep(vf, a[0], a[1], a[2], a[3], a[4], wt[0], wt[1], wt[2], wt[3], c, w, swap, kf,
                                np.uint64(ko)), f)


@_njit_no_nrt  # see _HELPER
def _read3_full(vf, k, w, lev, c, f, o, wt, ipar, swap):  # type: ignore[no-untyped-def]
    """:func:`_read3` without keeping the corner values: the step midpoint's wind where it
    left the start's cell or records (see kernels_numba_batch._mid_wind_slots)."""
    a = _wind_at(o, lev, k, ipar)
    return _log_law(_wind3(vf, a[0], a[1], a[2], a[3], a[4], wt[0], wt[1], wt[2], wt[3], c, w, swap), f)


@_njit_no_nrt  # see _HELPER
def _read3_kept(kf, ko, wt, w, f, swap):  # type: ignore[no-untyped-def]
    """:func:`_read3`'s wind at another point of the same cell and records at the same
    height (``f``), from the corner values it kept in ``kf[ko:ko + 32]``: the point's
    bilinear weights ``wt`` and time weight ``w`` on them (:data:`_wind3_kept`), bit for
    bit the full read's (:func:`_read3_full`; the log-law factor without a branch: ``x
    1.0`` is ``x``)."""
    vx, vy, vz, vw = _wind3_kept(kf, np.uint64(ko), wt[0], wt[1], wt[2], wt[3], w, swap)
    return vx * f, vy * f, vz * f, vw * f


@_njit_no_nrt  # see _HELPER
def _surface(sf, k, w, o, wt, ipar, precip, deposit, swap):  # type: ignore[no-untyped-def]
    """Boundary-layer fields (mixing height, u*, 1/L, w*, precipitation; the last only
    if ``precip``; then the solar irradiance and surface temperature, zero where the
    grid has none, and the land fraction, 1 where it has none) at the corners ``o`` of
    :func:`_corners_v` (weights ``wt``), linear in time. ``sf`` is the packed (lat, lon,
    nt, 8) array of :func:`_packed`: records ``k`` and ``k + 1`` of a corner are 64
    contiguous bytes, read as one vector (:data:`_surface8`), without a branch (as in
    :func:`_read3`). Without ``deposit`` only the first four, which the vertical
    turbulence uses, are read (:data:`_surface4`; the same values), the others are
    returned as 0 (the land fraction as 1): the read is as much arithmetic as the wind's
    on two levels, and half of it was unused (10^6 particles, one thread, alternated:
    see benchmarks/README.md, session 19). ``swap``: as in :func:`_read3`."""
    e = np.uint64(max(ipar[5], 2) * 8)
    kb = np.uint64(k * 8)
    if not deposit:
        h, us, il, ws = _surface4(sf, o[0] * e + kb, o[1] * e + kb, o[2] * e + kb, o[3] * e + kb,
                                  np.uint64(0), wt[0], wt[1], wt[2], wt[3], 0.0, w, swap)
        return h, us, il, ws, 0.0, 0.0, 0.0, 1.0
    h, us, il, ws, pr, g, t, f = _surface8(sf, o[0] * e + kb, o[1] * e + kb, o[2] * e + kb, o[3] * e + kb,
                                           np.uint64(0), wt[0], wt[1], wt[2], wt[3], 0.0, w, swap)
    return h, us, il, ws, pr if precip else 0.0, g, t, f


@numba.njit(forceinline=True, error_model="numpy")  # see _HELPER
def _vertical_step(z, h, ustar, inv_l, wstar, kz_const, kz_free, dt, xi, base):  # type: ignore[no-untyped-def]
    """:func:`plumecast.transport.boundary_layer.vertical_step` (see _HELPER)."""
    return bl.vertical_step(z, h, ustar, inv_l, wstar, kz_const, kz_free, dt, xi, base)


@numba.njit(forceinline=True, error_model="numpy")  # see _HELPER
def _removal_factors(z, h, vd, precip_mm_h, scav_a, scav_b, dt):  # type: ignore[no-untyped-def]
    """:func:`plumecast.transport.boundary_layer.removal_factors` (see _HELPER)."""
    return bl.removal_factors(z, h, vd, precip_mm_h, scav_a, scav_b, dt)


@numba.njit(forceinline=True, error_model="numpy")  # see _HELPER
def _dry_velocity(ustar, inv_l, z0, rc, rb_u):  # type: ignore[no-untyped-def]
    """:func:`plumecast.transport.boundary_layer.dry_velocity` (see _HELPER)."""
    return bl.dry_velocity(ustar, inv_l, z0, rc, rb_u)


@numba.njit(forceinline=True, error_model="numpy")  # see _HELPER
def _dry_velocity_mosaic(ustar, inv_l, z0, rc, rc_water, land, rb_u):  # type: ignore[no-untyped-def]
    """:func:`plumecast.transport.boundary_layer.dry_velocity_mosaic` (see _HELPER)."""
    return bl.dry_velocity_mosaic(ustar, inv_l, z0, rc, rc_water, land, rb_u)


@numba.njit(forceinline=True, error_model="numpy")  # see _HELPER
def _band_offset(lat):  # type: ignore[no-untyped-def]
    """Where the resistance table's row of the latitude band of ``lat`` starts in ``p3``
    (:func:`plumecast.transport.boundary_layer.season_band`; see _met3_args)."""
    return _P3_TABLE + bl.BAND_WIDTH * bl.season_band(lat)


@numba.njit(forceinline=True, error_model="numpy")  # see _HELPER
def _surface_resistance_met(g, t, p3, i):  # type: ignore[no-untyped-def]
    """:func:`plumecast.transport.boundary_layer.surface_resistance_met` with the terms
    in ``p3[i:i + 6]`` (a band's land terms at its row + 1, its water terms at + 8; see
    _HELPER)."""
    return bl.surface_resistance_met(g, t, p3[i], p3[i + 1], p3[i + 2], p3[i + 3], p3[i + 4], p3[i + 5])


def _met3_args(wind: WindGrid, physics: StepPhysics) -> tuple[Any, ...]:
    """The 3-D met and physics of :func:`_step` (``met3``): the packed wind and
    surface fields (:func:`_packed`), the level lookup, flags and constants, and whether
    the packed records lie the other way round."""
    zm, zinv, ztab, zpar = wind.level_params()
    wf, sf, swap = _packed(wind)
    # met_rc: r_c from the met's radiation and temperature at each particle
    res_on, rb_u, met_rc, table = physics.resistance_args(wind)
    # an array, not a tuple: numba's parfor lowering refuses a tuple of floats
    p3 = np.array([physics.kz_m2_s, physics.kz_free_m2_s, physics.dt_s, physics.scavenging_a_s,
                   physics.scavenging_b, physics.dry_velocity_m_s, float(res_on), rb_u, *table.ravel()], np.float64)
    return (wf, sf, zm, zinv, ztab, zpar, wind.w is not None, wind.surface is not None, physics.deposits, met_rc, p3,
            swap)


#: where the resistance table (ResistanceModel.table, 3 bands x 14) starts in ``p3``
_P3_TABLE = 8
_NO_FIELD = np.zeros(16, np.float32)
#: ``met3`` of the single-level kernel, which does not read it
_NO_MET3 = (_NO_FIELD, _NO_FIELD, np.zeros(1), np.ones(1), np.zeros(1, np.int64), np.array([1.0, 0.0, 0.1]),
            False, False, False, False, np.zeros(_P3_TABLE + bl.SEASON_BANDS * bl.BAND_WIDTH), False)
#: the thread that packed last, the WindGrid it packed and its arrays: handed back only to
#: that thread, whose kernel calls run one after the other, so that its next window can be
#: packed into the same memory without another thread reading it; one such slot, so that a
#: pool of threads (the situation room's) does not hold a packed met per thread
_PACKED: list[Any] = [None]
_PACKED_LOCK = threading.Lock()


def _packed(wind: WindGrid) -> tuple[NDArray[np.float32], NDArray[np.float32], bool]:
    """The 3-D kernel's node-interleaved copies of a grid's fields, flattened: the wind
    and vertical velocity as (lat, lon, nz, nt, 4) (vx, vy, vz, w; w = 0 without it),
    the boundary-layer fields as (lat, lon, nt, 8) (:data:`SURFACE_FIELDS`, then
    padding); a single record is packed twice (``nt`` = 2; the kernel reads two). The
    records of a node are side by side: the kernel reads records ``k`` and ``k + 1`` at
    once (:func:`_read3`). Made once per WindGrid and thread (the last one is kept; the
    reference is to the object, not its id, which a new grid could reuse), into the
    memory of the same thread's last one where the shapes agree (streamed met: a new
    WindGrid every met interval).

    The third value, ``swap``, says that the two records lie the other way round. A
    streamed window one record on from the last one packed (:attr:`WindGrid.stream`)
    shares its first record with the last one's second: only its second record is packed,
    over the last one's first, and the two are a ring (``swap`` alternates). Packing the
    whole window had taken 37-51 ms of each met interval's kernel call (0.25 degree
    global, 9 levels, 2 threads), 14 % of the call at 10^6 particles."""
    me = threading.get_ident()
    with _PACKED_LOCK:
        last = _PACKED[0]
        if last is not None and last[0] == me and last[1] is wind:
            return last[2], last[3], last[5]
        mine = last if last is not None and last[0] == me else None
        if mine is not None:
            _PACKED[0] = None  # its arrays are written over now
    prev = None if mine is None else mine[1]
    if (prev is not None and wind.stream is not None and prev.stream is not None
            and wind.stream[0] is prev.stream[0] and wind.stream[1] == prev.stream[1] + 1
            and wind.vec.shape[0] == 2 and prev.vec.shape == wind.vec.shape
            and (wind.surface is None) == (prev.surface is None)):
        assert mine is not None
        wf, sf, s4, swap = mine[2], mine[3], mine[4], not mine[5]
        _pack_second(wind, wf, s4, 0 if swap else 1)
        if wind.surface is not None:
            # the shared record's boundary-layer fields may hold the next interval's rain, radiation and
            # heat flux now (run_winds holds interval quantities over their interval): refilled (2-D, cheap)
            _pack_surface(wind, s4, 1 if swap else 0, record=0)
    else:
        ntp = max(wind.vec.shape[0], 2)
        # padded by one level: _read3 reads the level above the top one (weight 0)
        wf = pack_wind(wind, records_inner=True, min_records=2, pad=ntp * 4, out=None if mine is None else mine[2])
        # without boundary-layer fields, one node of zeros (as _NO_FIELD)
        s4 = pack_surface(wind, records_inner=True, min_records=2, out=None if mine is None else mine[4])
        sf = s4.ravel()
        swap = False
    with _PACKED_LOCK:
        _PACKED[0] = (me, wind, wf, sf, s4, swap)
    return wf, sf, swap


def _pack_surface(wind: WindGrid, s4: NDArray[np.float32], slot: int, record: int) -> None:
    """Pack the boundary-layer fields of record ``record`` of ``wind`` into record slot
    ``slot`` of the packed surface array ``s4`` of :func:`_packed`."""
    from plumecast.transport.packing import fill_surface

    assert wind.surface is not None
    r = slice(record, record + 1)
    fill_surface(s4.transpose(2, 0, 1, 3)[slot:slot + 1], wind.surface[r],
                 None if wind.stomata is None else wind.stomata[r],
                 None if wind.dry_velocity is None else wind.dry_velocity[r], wind.land)


def _pack_second(wind: WindGrid, wf: NDArray[np.float32], s4: NDArray[np.float32], slot: int) -> None:
    """Pack the second record of a two-record ``wind`` into record slot ``slot`` of the
    packed arrays ``wf`` and ``s4`` of :func:`_packed` (the other slot is left as it is)."""
    from plumecast.transport.packing import fill_surface, fill_wind

    _, nz, _, nlat, nlon = wind.vec.shape
    view = wf[:nlat * nlon * nz * 8].reshape(nlat, nlon, nz, 2, 4).transpose(3, 0, 1, 2, 4)
    fill_wind(view[slot:slot + 1], wind.vec[1:], None if wind.w is None else wind.w[1:])
    if wind.surface is not None:
        fill_surface(s4.transpose(2, 0, 1, 3)[slot:slot + 1], wind.surface[1:],
                     None if wind.stomata is None else wind.stomata[1:],
                     None if wind.dry_velocity is None else wind.dry_velocity[1:], wind.land)
