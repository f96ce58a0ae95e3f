"""One particle's midpoint step, for the numba CPU kernel (:mod:`plumecast.transport.kernels_numba`):
the single-level wind lookup, the midpoint and end point on the sphere and horizontal
diffusion, which the 3-D kernel's batch stages share (their corner lookups and reads of
the met are in :mod:`plumecast.transport.kernels_numba_3d`), and the 3-D vertical
turbulence and removal (:func:`_step_c`).

(_TWO_FORMS) The single-level step's two halves are compiled once each and inlined by
LLVM; the 3-D kernel's parts are inlined by numba into its IR (``inline="always"``). The
single-level kernel calls the whole step twice, once per lane: inlined by numba, each copy
went through numba's parfor passes, whose copy propagation deep-copies its data block by
block, and the kernel took 178 s to compile (2 cores, load 1); compiled once each and
inlined by LLVM (``forceinline``, the 3-D helpers' _HELPER form), 61 s. The 3-D kernel in
that form compiled in 55 s instead of 81 s but ran 5 % slower (12 pairs of runs side by
side on the two cores, one thread each, 10^6 particles, 24 steps: 198 against 188 ns per
particle-step), and keeps numba's inlining; the single-level kernel ran alike (101 against
102 ns, 6 pairs). Inlining the lane helpers by LLVM as well (the normal deviates, the lane
loads, commits and stores) took the compilation to 44 s, but the single-level step to
107 against 101 ns; they stay with numba's.

The kernel's cache key covers this module's source (``kernels_numba._source_stamp``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from plumecast.transport import fastmath as fm
from plumecast.transport.kernels_numba_3d import (
    _band_offset,
    _corners,
    _dry_velocity,
    _dry_velocity_mosaic,
    _njit_no_nrt,
    _removal_factors,
    _surface_resistance_met,
)

_RAD = 180.0 / math.pi
_INV_360 = 1.0 / 360.0
_EXPANSION_MAX_LAT = 60.0  # as kernels_numpy.EXPANSION_MAX_LAT


@numba.njit(inline="always", error_model="numpy")
def _inv_sqrt_1p(e):  # type: ignore[no-untyped-def]
    """``1 / sqrt(1 + e)``: for the small ``e`` of one step's renormalisation onto
    the sphere (``|e| < 1e-4``) its Taylor series to e^3 (error below e^4 / 3, i.e.
    under 1e-16), else the square root."""
    if -1e-4 < e < 1e-4:
        return 1.0 - e * (0.5 - e * (0.375 - 0.3125 * e))
    return 1.0 / math.sqrt(1.0 + e)


@numba.njit(inline="always", error_model="numpy")
def _fold_walk(z, h, dz):  # type: ignore[no-untyped-def]
    """``z + dz`` reflected at 0 and ``h`` as often as needed, in ``[0, h]``: the
    constant-K vertical random walk in the mixed layer (kernels_numpy.fold_into_layer)."""
    two_h = 2.0 * h
    z = z + dz
    z = z - two_h * math.floor(z / two_h)
    if z > h:
        z = two_h - z
    return min(max(z, 0.0), h)


@numba.njit(inline="always", error_model="numpy")
def _mid_tangent(px, py, pz, lo, la, vx, vy, vz, half):  # type: ignore[no-untyped-def]
    """The midpoint of a step in the local tangent plane, away from the poles
    (|lat| < 80; kernels_numpy.midpoint): ``rh`` (the distance from the axis) and the
    midpoint's lookup lon/lat; the midpoint's unit vector is the start's."""
    rh = math.sqrt(px * px + py * py)
    inv = 1.0 / rh
    ue = (px * vy - py * vx) * inv
    vn = vz * rh - (vx * px + vy * py) * pz * inv
    return rh, lo + ue * half * inv * _RAD, la + vn * half * _RAD


@numba.njit(inline="always", error_model="numpy")
def _mid_sphere(px, py, pz, vx, vy, vz, half):  # type: ignore[no-untyped-def]
    """The midpoint of a step near the poles, on the sphere: ``rh``, its unit vector
    and lon/lat."""
    rh = math.sqrt(px * px + py * py)
    d = vx * px + vy * py + vz * pz
    qx = px + (vx - d * px) * half
    qy = py + (vy - d * py) * half
    qz = pz + (vz - d * pz) * half
    r = _inv_sqrt_1p(qx * qx + qy * qy + qz * qz - 1.0)
    qx *= r
    qy *= r
    qz *= r
    return rh, qx, qy, qz, math.atan2(qy, qx) * _RAD, math.asin(min(max(qz, -1.0), 1.0)) * _RAD


@numba.njit(inline="always", error_model="numpy")
def _displacement(px, py, pz, rh, qx, qy, qz, vx, vy, vz, xi1, xi2, full, sh, diffuse_h):  # type: ignore[no-untyped-def]
    """A step's displacement on the sphere (Cartesian, in Earth radii) from the wind
    at its midpoint, plus the horizontal diffusion where ``diffuse_h``."""
    d = vx * qx + vy * qy + vz * qz
    dx = (vx - d * qx) * full
    dy = (vy - d * qy) * full
    dz = (vz - d * qz) * full
    if diffuse_h:
        if rh > 1e-12:
            inv = 1.0 / rh
            dx += sh * (-py * inv * xi1 - pz * px * inv * xi2)
            dy += sh * (px * inv * xi1 - pz * py * inv * xi2)
            dz += sh * (rh * xi2)
        else:
            dy += sh * xi1
            dx -= sh * xi2
    return dx, dy, dz


@numba.njit(inline="always", error_model="numpy")
def _renormalised(px, py, pz, dx, dy, dz):  # type: ignore[no-untyped-def]
    """The end point's unit vector: the start plus the displacement, back onto the sphere."""
    nx = px + dx
    ny = py + dy
    nz = pz + dz
    r = _inv_sqrt_1p(nx * nx + ny * ny + nz * nz - 1.0)
    return nx * r, ny * r, nz * r


@numba.njit(inline="always", error_model="numpy")
def _renormalised_series(px, py, pz, dx, dy, dz):  # type: ignore[no-untyped-def]
    """:func:`_renormalised` by the series of :func:`_inv_sqrt_1p` alone, and its ``e``:
    the same unit vector where ``|e| < 1e-4`` (the 3-D kernel's vectorised end point,
    which redoes the others by :func:`_renormalised`; the select of the vectorised
    :func:`_inv_sqrt_1p` computed the square root and the division for every lane)."""
    nx = px + dx
    ny = py + dy
    nz = pz + dz
    e = nx * nx + ny * ny + nz * nz - 1.0
    r = 1.0 - e * (0.5 - e * (0.375 - 0.3125 * e))
    return nx * r, ny * r, nz * r, e


@numba.njit(inline="always", error_model="numpy")
def _expansion_lonlat(px, py, pz, lo, la, rh, dx, dy, dz):  # type: ignore[no-untyped-def]
    """The end point's lookup lon/lat by expansion below 60 degrees (kernels_numpy.end_lonlat)."""
    inv2 = 1.0 / rh
    tphi = pz * inv2
    de = (px * dy - py * dx) * inv2
    dn = dz * rh - (dx * px + dy * py) * pz * inv2
    lon_n = lo + (de + de * dn * tphi) * inv2 * _RAD
    lat_n = la + (dn - 0.5 * de * de * tphi) * _RAD
    if lon_n >= 180.0:
        lon_n -= 360.0
    elif lon_n < -180.0:
        lon_n += 360.0
    return lon_n, lat_n


@numba.njit(inline="always", error_model="numpy")
def _sphere_lonlat(nx, ny, nz):  # type: ignore[no-untyped-def]
    """Lon/lat of a unit vector [deg]."""
    return math.atan2(ny, nx) * _RAD, math.asin(min(max(nz, -1.0), 1.0)) * _RAD


@numba.njit(inline="always", error_model="numpy")
def _interp(vf, k, w, lon, lat, fpar, ipar):  # type: ignore[no-untyped-def]
    """Bilinear, linear-in-time interpolation of the Cartesian node wind.

    ``vf`` is the wind flattened from (time, 3, lat, lon); ``fpar`` holds
    (lon0, dlon, lat0, dlat, 1/dlon, 1/dlat). Same arithmetic as the oracle's
    ``interpolate_wind`` up to the rounding of a multiplication by 1/dlon."""
    o00, o01, o10, o11, w00, w01, w10, w11, ok = _corners(lon, lat, fpar, ipar)
    plane = np.uint64(ipar[1] * ipar[0])
    base = np.uint64(k * 3) * plane
    vx = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
    base += plane
    vy = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
    base += plane
    vz = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
    if w > 0.0:
        k1 = min(k + 1, ipar[5] - 1)
        base = np.uint64(k1 * 3) * plane
        ux = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
        base += plane
        uy = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
        base += plane
        uz = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
        vx = (1.0 - w) * vx + w * ux
        vy = (1.0 - w) * vy + w * uy
        vz = (1.0 - w) * vz + w * uz
    return vx, vy, vz, ok


@numba.njit(inline="always")
def _inside(lon, lat, fpar, ipar):  # type: ignore[no-untyped-def]
    if ipar[2] == 0:
        fi = (lon - fpar[0]) / fpar[1]
        if fi < 0.0 or fi > ipar[0] - 1:
            return False
    fj = (lat - fpar[2]) / fpar[3]
    if fj < 0.0 and ipar[3] == 0:
        return False
    if fj > ipar[1] - 1 and ipar[4] == 0:
        return False
    return True


@numba.njit(inline="always")
def _unit_vector(lo, la):  # type: ignore[no-untyped-def]
    """The unit vector at (lon, lat) [deg], with the branch-free polynomial sincos of
    :mod:`fastmath` (error below 5e-16; two of them cost less than the four libm calls)."""
    cl, sl = fm.sincos_2pi(lo * _INV_360)
    cp, sp = fm.sincos_2pi(la * _INV_360)
    return cp * cl, cp * sl, sp


def _step_a_py(px, py, pz, lo, la, k0s, w0s, vf, fpar, ipar, half):  # type: ignore[no-untyped-def]
    """The first half of :func:`_step`: the wind at the start and the midpoint. Returns
    ``(ok1, rh, qx, qy, qz, lom, lam_)`` for the second half."""
    vx, vy, vz, ok1 = _interp(vf, k0s, w0s, lo, la, fpar, ipar)
    if la < 80.0 and la > -80.0:
        rh, lom, lam_ = _mid_tangent(px, py, pz, lo, la, vx, vy, vz, half)
        qx = px
        qy = py
        qz = pz
    else:
        rh, qx, qy, qz, lom, lam_ = _mid_sphere(px, py, pz, vx, vy, vz, half)
    return ok1, rh, qx, qy, qz, lom, lam_


def _step_b_py(px, py, pz, lo, la, z, xi1, xi2, xi3, a, kms, wms, vf, fpar, ipar, kp,
               diffuse_h, diffuse_z):  # type: ignore[no-untyped-def]
    """The second half of :func:`_step`, from the first's results ``a``
    (:func:`_step_a_py`): the wind at the midpoint, then :func:`_end_point`."""
    ok1, rh, qx, qy, qz, lom, lam_ = a
    vx, vy, vz, ok2 = _interp(vf, kms, wms, lom, lam_, fpar, ipar)
    return _end_point(px, py, pz, lo, la, z, xi1, xi2, xi3, rh, qx, qy, qz, ok1, vx, vy, vz, ok2, fpar, ipar,
                      kp, diffuse_h, diffuse_z)


@numba.njit(inline="always", error_model="numpy")
def _end_point(px, py, pz, lo, la, z, xi1, xi2, xi3, rh, qx, qy, qz, ok1, vx, vy, vz, ok2, fpar, ipar,
               kp, diffuse_h, diffuse_z):  # type: ignore[no-untyped-def]
    """The end point of a step from the wind at its midpoint (vx, vy, vz; ok2 whether
    the midpoint is inside): the horizontal displacement and diffusion and the vertical
    random walk in the mixed layer; the new unit vector, lookup lon/lat, height, whether
    inside, and removal factors of 1 (the single-level physics removes nothing). ``rh``,
    ``q..``, ``ok1``: from :func:`_step_a_py`. The 3-D kernel does the same, and the
    vertical advection, in its batch stages (``kernels_numba_batch._end_slots``)."""
    half, full, sh, sig_z, h = kp
    dx, dy, dz = _displacement(px, py, pz, rh, qx, qy, qz, vx, vy, vz, xi1, xi2, full, sh, diffuse_h)
    if diffuse_z and z <= h:
        z = float(np.float32(_fold_walk(z, h, sig_z * xi3)))  # the state is float32, as in the oracle
    nx, ny, nz = _renormalised(px, py, pz, dx, dy, dz)
    if -_EXPANSION_MAX_LAT < la < _EXPANSION_MAX_LAT:
        lon_n, lat_n = _expansion_lonlat(px, py, pz, lo, la, rh, dx, dy, dz)
    else:
        lon_n, lat_n = _sphere_lonlat(nx, ny, nz)
    ok = ok1 and ok2 and _inside(lon_n, lat_n, fpar, ipar)
    return nx, ny, nz, lon_n, lat_n, z, ok, 1.0, 1.0


@numba.njit(inline="always", error_model="numpy")
def _step_c(z, la, xi3, bl3, kp, diffuse_z, zpar, flags3, p3):  # type: ignore[no-untyped-def]
    """The 3-D step's vertical turbulence and removal (the 3-D kernel's last stage, see
    kernels_numba_batch._BATCH): from the height ``z`` after the vertical advection, the new height,
    rounded to float32, and the dry and wet removal factors of the particle's mass. With a
    boundary layer from the met (``has_sfc``) ``z`` is the height after the vertical turbulence
    already (:func:`kernels_numba_batch._free_slots` and the kernel's list of the particles in the
    boundary layer, which call ``boundary_layer.vertical_step``).
    ``la``: its latitude at the start of the step; ``bl3``: the boundary layer there,
    (h, u*, 1/L, w*, precipitation, solar irradiance, surface temperature, land fraction;
    :func:`kernels_numba_3d._surface`)."""
    half, full, sh, sig_z, h = kp
    has_w, has_sfc, deposit, met_rc = flags3
    hs, us, il, ws, pr, sg, st, lf = bl3
    # p3 = (kz, kz_free, dt, scavenging a, scavenging b, dry deposition velocity, 1 where the
    # resistance model is on (2: v_d from the grid's dry_velocity) and its u* r_b, then its table by
    # latitude band, ResistanceModel.table; kernels_numba_3d._met3_args)
    # (with a boundary layer from the met its turbulence is done before, stage by stage: kernels_numba_batch._free_slots)
    if not has_sfc and diffuse_z and z <= h:
        z = _fold_walk(z, h, sig_z * xi3)
    z = float(np.float32(z))
    fd = 1.0
    fw = 1.0
    if deposit:
        vd = p3[5]
        if p3[6] > 1.5 and has_sfc:  # v_d of the cells' land uses, packed in the irradiance's slot
            vd = sg
        elif p3[6] > 0.0 and has_sfc:  # the resistance model, from the met's u* and 1/L
            b = _band_offset(la)  # the row of the particle's latitude band (its season)
            rc = _surface_resistance_met(sg, st, p3, b + 1) if met_rc else p3[b]
            if p3[b + 7] > 0.0:  # the land-water mosaic, from the met's (or the map's) land fraction
                rcw = _surface_resistance_met(sg, st, p3, b + 8) if met_rc else p3[b + 7]
                vd = _dry_velocity_mosaic(us, il, zpar[2], rc, rcw, lf, p3[7])
            else:
                vd = _dry_velocity(us, il, zpar[2], rc, p3[7])
        fd, fw = _removal_factors(z, hs, vd, pr, p3[3], p3[4], p3[2])
    return z, fd, fw


#: the two halves of the single-level step, inlined by LLVM into the kernel's two lanes (see
#: _TWO_FORMS)
_step_a_lane = _njit_no_nrt(_step_a_py)
_step_b_lane = _njit_no_nrt(_step_b_py)


@numba.njit(inline="always", error_model="numpy")
def _step(px, py, pz, lo, la, z, xi1, xi2, xi3, k0s, w0s, kms, wms, vf, fpar, ipar, kp,
          diffuse_h, diffuse_z):  # type: ignore[no-untyped-def]
    """One midpoint step of one particle in the single-level physics: the new unit
    vector, its lookup lon/lat, height, whether the particle stayed inside the domain,
    and removal factors of 1. ``xi1``-``xi3`` are the step's standard normal deviates
    (horizontal east/north-ish pair, vertical). ``kp`` is (half, full, sh, sig_z, h).
    The 3-D kernel runs the same parts, and its own, stage by stage over a batch of
    particles (``kernels_numba_batch._BATCH``)."""
    a = _step_a_lane(px, py, pz, lo, la, k0s, w0s, vf, fpar, ipar, kp[0])
    return _step_b_lane(px, py, pz, lo, la, z, xi1, xi2, xi3, a, kms, wms, vf, fpar, ipar, kp, diffuse_h, diffuse_z)
