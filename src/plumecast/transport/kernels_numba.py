"""Numba CPU kernel: the same physics as :mod:`plumecast.transport.kernels_numpy`,
compiled and parallel over particles.

Every particle runs all the steps of one call in registers before the next particle
is touched ("step fusion"): the wind field (a few MB) stays in cache and the
particle arrays are read and written once per call instead of once per step. The
particle range is cut into one contiguous block per thread; each block accumulates
its own output grid and decay total, summed at the end, so there are no races and
the sum order does not depend on scheduling.

Measured levers (single thread, 10^5 particles, benchmark wind, K_h = 1e4; see
benchmarks/README.md): flat wind indexing with multiplications by the inverse grid
spacing and no modulo in the lookup (155 -> 142 ns per particle-step); polynomial
log and sincos in Box-Muller (:mod:`fastmath`, -> 129 ns); renormalisation onto the
sphere by a series instead of a square root and a division (-> 124 ns); the
tangent-plane midpoint of :func:`kernels_numpy.midpoint` instead of the exact one
(-> 96 ns); lookup lon/lat of the end point by expansion
(:func:`kernels_numpy.end_lonlat`, -> 77 ns). A polynomial atan2 was slower than libm's here and is not used.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from plumecast.transport import fastmath as fm
from plumecast.transport.kernels_numpy import OutputSampler, StepPhysics
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED, Particles
from plumecast.transport.rng import GOLDEN as _GOLDEN
from plumecast.transport.rng import STEP_MULT as _STEP_MULT
from plumecast.transport.rng import mix64_scalar, seed_key, uniform_scalar
from plumecast.transport.windgrid import WindGrid
from plumecast.units import EARTH_RADIUS_M

_DEG = math.pi / 180.0
_RAD = 180.0 / math.pi
_TWO_PI = 2.0 * math.pi
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
def _interp(vf, k, w, lon, lat, fpar, ipar):  # type: ignore[no-untyped-def]
    """Bilinear, linear-in-time interpolation of the Cartesian node wind.

    ``vf`` is the wind flattened from (time, 3, lat, lon); ``fpar`` holds
    (lon0, dlon, lat0, dlat, 1/dlon, 1/dlat). Same arithmetic as the oracle's
    ``interpolate_wind`` up to the rounding of a multiplication by 1/dlon."""
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
    plane = nlat * nlon
    o00 = j0 * nlon + i0
    o01 = j0 * nlon + i1
    o10 = j1 * nlon + i0
    o11 = j1 * nlon + i1
    w00 = (1.0 - a) * (1.0 - b)
    w01 = a * (1.0 - b)
    w10 = (1.0 - a) * b
    w11 = a * b
    base = k * 3 * plane
    vx = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
    base += plane
    vy = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
    base += plane
    vz = w00 * vf[base + o00] + w01 * vf[base + o01] + w10 * vf[base + o10] + w11 * vf[base + o11]
    if w > 0.0:
        k1 = min(k + 1, ipar[5] - 1)
        base = k1 * 3 * plane
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


@numba.njit(inline="always", error_model="numpy")
def _step(  # type: ignore[no-untyped-def]
    px, py, pz, lo, la, z, xi1, xi2, xi3, k0s, w0s, kms, wms,
    vf, fpar, ipar, half, full, sh, sig_z, h, diffuse_h, diffuse_z,
):
    """One midpoint step of one particle: the new unit vector, its lookup lon/lat,
    height, and whether the particle stayed inside the domain. ``xi1``-``xi3`` are the
    step's standard normal deviates (horizontal east/north-ish pair, vertical)."""
    vx, vy, vz, ok1 = _interp(vf, k0s, w0s, lo, la, fpar, ipar)
    rh = math.sqrt(px * px + py * py)
    if la < 80.0 and la > -80.0:
        inv = 1.0 / rh
        ue = (px * vy - py * vx) * inv
        vn = vz * rh - (vx * px + vy * py) * pz * inv
        lom = lo + ue * half * inv * _RAD
        lam_ = la + vn * half * _RAD
        qx = px
        qy = py
        qz = pz
    else:
        d = vx * px + vy * py + vz * pz
        qx = px + (vx - d * px) * half
        qy = py + (vy - d * py) * half
        qz = pz + (vz - d * pz) * half
        r = _inv_sqrt_1p(qx * qx + qy * qy + qz * qz - 1.0)
        qx *= r
        qy *= r
        qz *= r
        lom = math.atan2(qy, qx) * _RAD
        lam_ = math.asin(min(max(qz, -1.0), 1.0)) * _RAD
    vx, vy, vz, ok2 = _interp(vf, kms, wms, lom, lam_, fpar, ipar)
    d = vx * qx + vy * qy + vz * qz
    dx = (vx - d * qx) * full
    dy = (vy - d * qy) * full
    dz = (vz - d * qz) * full
    if diffuse_h or diffuse_z:
        if diffuse_h:
            if rh > 1e-12:
                inv = 1.0 / rh
                dx += sh * (-py * inv * xi1 - pz * px * inv * xi2)
                dy += sh * (px * inv * xi1 - pz * py * inv * xi2)
                dz += sh * (rh * xi2)
            else:
                dy += sh * xi1
                dx -= sh * xi2
        if diffuse_z and z <= h:
            z = abs(z + sig_z * xi3)
            if z > h:
                z = 2.0 * h - z
            z = min(max(z, 0.0), h)
            z = float(np.float32(z))  # the state is float32, as in the oracle
    nx = px + dx
    ny = py + dy
    nz = pz + dz
    r = _inv_sqrt_1p(nx * nx + ny * ny + nz * nz - 1.0)
    nx *= r
    ny *= r
    nz *= r
    if -_EXPANSION_MAX_LAT < la < _EXPANSION_MAX_LAT:
        # lookup lon/lat by expansion (kernels_numpy.end_lonlat)
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
    else:
        lon_n = math.atan2(ny, nx) * _RAD
        lat_n = math.asin(min(max(nz, -1.0), 1.0)) * _RAD
    ok = ok1 and ok2 and _inside(lon_n, lat_n, fpar, ipar)
    return nx, ny, nz, lon_n, lat_n, z, ok


@numba.njit(inline="always", error_model="numpy")
def _fill_normals(buf, lane, key, first, end, step0, vertical):  # type: ignore[no-untyped-def]
    """The normal deviates of one particle for steps ``first..end-1`` into
    ``buf[lane, :, step - step0]``: Box-Muller of its counter-based uniforms, exactly
    as :func:`plumecast.transport.rng.normals3`.

    They do not depend on the particle's position, so they are made here in a loop of
    their own, which LLVM vectorises (the polynomial ``log``/``sincos`` of
    :mod:`fastmath` are branch-free for this reason): 2-3 ns per pair instead of
    13 ns inline in the step, where they also competed with the step's chain of
    dependent lookups."""
    for step in range(first, end):
        s = step - step0
        base = key + np.uint64(step) * _STEP_MULT
        rr = math.sqrt(-2.0 * fm.log_unit(uniform_scalar(base, 1)))
        c2, s2 = fm.sincos_2pi(uniform_scalar(base, 2))
        buf[lane, 0, s] = rr * c2
        buf[lane, 1, s] = rr * s2
    if vertical:
        for step in range(first, end):
            s = step - step0
            base = key + np.uint64(step) * _STEP_MULT
            rr = math.sqrt(-2.0 * fm.log_unit(uniform_scalar(base, 3)))
            buf[lane, 2, s] = rr * fm.sincos_2pi(uniform_scalar(base, 4))[0]


@numba.njit(inline="always")
def _unit_vector(lo, la):  # type: ignore[no-untyped-def]
    lam = lo * _DEG
    phi = la * _DEG
    cphi = math.cos(phi)
    return cphi * math.cos(lam), cphi * math.sin(lam), math.sin(phi)


@numba.njit(inline="always")
def _store(i, px, py, pz, m, exited, lon, lat, mass, status):  # type: ignore[no-untyped-def]
    """Write back a particle: the exact lon/lat of its position on the sphere."""
    lon[i] = math.atan2(py, px) * _RAD
    lat[i] = math.asin(min(max(pz, -1.0), 1.0)) * _RAD
    mass[i] = m
    if exited:
        status[i] = 2


@numba.njit(inline="always")
def _deposit(acc, blk, lo, la, z, m, sfpar, sipar):  # type: ignore[no-untyped-def]
    if z < sfpar[4]:
        ci = int(math.floor((lo - sfpar[0]) / sfpar[1]))
        cj = int(math.floor((la - sfpar[2]) / sfpar[3]))
        if ci >= 0 and ci < sipar[0] and cj >= 0 and cj < sipar[1]:
            acc[blk, cj, ci] += m


@numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _advance(
    lon, lat, zarr, mass, birth, status,
    vf, fpar, ipar,
    k0, w0, km, wm,
    step0, nsteps, dt, kh, kz, h, decay_factor, seed_key,
    do_sample, sfpar, sipar, acc, decayed_blocks,
):  # type: ignore[no-untyped-def]
    n = lon.size
    nblocks = decayed_blocks.size
    sh = math.sqrt(2.0 * kh * dt) / EARTH_RADIUS_M
    sig_z = math.sqrt(2.0 * kz * dt)
    diffuse_h = kh > 0.0
    diffuse_z = kz > 0.0
    half = 0.5 * dt / EARTH_RADIUS_M
    full = dt / EARTH_RADIUS_M
    end = step0 + nsteps
    diffuse = diffuse_h or diffuse_z
    for blk in numba.prange(nblocks):
        i_start = (n * blk) // nblocks
        i_end = (n * (blk + 1)) // nblocks
        dec = 0.0
        xi = np.zeros((2, 3, nsteps))
        # Two particles per pass: their steps are independent chains of dependent
        # operations (lookup -> midpoint -> lookup -> end point), and interleaving two
        # of them lets the core overlap one's latency with the other's work. A lane
        # whose particle is not yet born, has left or is missing computes on its own
        # copy and commits nothing.
        for i in range(i_start, i_end, 2):
            j = i + 1
            has_b = j < i_end
            first_a = max(step0, birth[i]) if status[i] == 0 else end
            first_b = max(step0, birth[j]) if has_b and status[j] == 0 else end
            if first_a >= end and first_b >= end:
                continue
            lo_a = lon[i]
            la_a = lat[i]
            z_a = float(zarr[i])
            m_a = mass[i]
            key_a = mix64_scalar(seed_key ^ (np.uint64(i) * _GOLDEN))
            px_a, py_a, pz_a = _unit_vector(lo_a, la_a)
            jj = j if has_b else i
            lo_b = lon[jj]
            la_b = lat[jj]
            z_b = float(zarr[jj])
            m_b = mass[jj]
            key_b = mix64_scalar(seed_key ^ (np.uint64(jj) * _GOLDEN))
            px_b, py_b, pz_b = _unit_vector(lo_b, la_b)
            done_a = first_a >= end
            done_b = first_b >= end
            if diffuse:
                _fill_normals(xi, 0, key_a, first_a, end, step0, diffuse_z)
                _fill_normals(xi, 1, key_b, first_b, end, step0, diffuse_z)
            exited_a = False
            exited_b = False
            for step in range(min(first_a, first_b), end):
                s = step - step0
                nx_a, ny_a, nz_a, lon_a, lat_a, zn_a, ok_a = _step(
                    px_a, py_a, pz_a, lo_a, la_a, z_a, xi[0, 0, s], xi[0, 1, s], xi[0, 2, s], k0[s], w0[s], km[s], wm[s],
                    vf, fpar, ipar, half, full, sh, sig_z, h, diffuse_h, diffuse_z)
                nx_b, ny_b, nz_b, lon_b, lat_b, zn_b, ok_b = _step(
                    px_b, py_b, pz_b, lo_b, la_b, z_b, xi[1, 0, s], xi[1, 1, s], xi[1, 2, s], k0[s], w0[s], km[s], wm[s],
                    vf, fpar, ipar, half, full, sh, sig_z, h, diffuse_h, diffuse_z)
                if not done_a and step >= first_a:
                    if not ok_a:
                        exited_a = True
                        done_a = True
                    else:
                        mn = m_a * decay_factor
                        dec += m_a - mn
                        m_a = mn
                        px_a, py_a, pz_a, lo_a, la_a, z_a = nx_a, ny_a, nz_a, lon_a, lat_a, zn_a
                        if do_sample:
                            _deposit(acc, blk, lo_a, la_a, z_a, m_a, sfpar, sipar)
                if not done_b and step >= first_b:
                    if not ok_b:
                        exited_b = True
                        done_b = True
                    else:
                        mn = m_b * decay_factor
                        dec += m_b - mn
                        m_b = mn
                        px_b, py_b, pz_b, lo_b, la_b, z_b = nx_b, ny_b, nz_b, lon_b, lat_b, zn_b
                        if do_sample:
                            _deposit(acc, blk, lo_b, la_b, z_b, m_b, sfpar, sipar)
                if done_a and done_b:
                    break
            if first_a < end:
                zarr[i] = z_a
                _store(i, px_a, py_a, pz_a, m_a, exited_a, lon, lat, mass, status)
            if has_b and first_b < end:
                zarr[j] = z_b
                _store(j, px_b, py_b, pz_b, m_b, exited_b, lon, lat, mass, status)
        decayed_blocks[blk] = dec


def advance(
    particles: Particles,
    wind: WindGrid,
    physics: StepPhysics,
    step0: int,
    nsteps: int,
    sampler: OutputSampler | None = None,
) -> float:
    """Advance ``particles`` in place through ``nsteps`` steps; see
    :func:`plumecast.transport.kernels_numpy.advance` (same contract)."""
    dt = physics.dt_s
    k0, w0, km, wm = wind.step_weights(dt, step0, nsteps)
    nblocks = max(1, numba.get_num_threads())
    decayed_blocks = np.zeros(nblocks)
    if sampler is not None:
        acc = np.zeros((nblocks, sampler.nlat, sampler.nlon))
        sfpar, sipar = sampler.float_params, sampler.int_params
    else:
        acc = np.zeros((1, 1, 1))
        sfpar, sipar = np.zeros(5), np.zeros(2, np.int64)
    _advance(
        particles.lon, particles.lat, particles.z, particles.mass, particles.birth_step, particles.status,
        wind.vec.ravel(), np.concatenate([wind.float_params, [1.0 / wind.dlon, 1.0 / wind.dlat]]),
        np.concatenate([wind.int_params, [wind.vec.shape[0]]]),
        k0, w0, km, wm,
        step0, nsteps, dt, physics.kh_m2_s, physics.kz_m2_s, physics.mixing_height_m,
        math.exp(-physics.decay_rate_s * dt), seed_key(physics.seed),
        sampler is not None, sfpar, sipar, acc, decayed_blocks,
    )
    if sampler is not None:
        sampler.acc += acc.sum(axis=0)
    return float(decayed_blocks.sum())


assert STATUS_ACTIVE == 0 and STATUS_EXITED == 2  # the kernel hard-codes these values
