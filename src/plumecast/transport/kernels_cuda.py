"""GPU kernel (CUDA C through CuPy): the physics of :mod:`kernels_numpy`, one
thread per particle, all the steps of a call fused in registers.

The particle state, the wind and the output grid stay on the device for a whole
run (:class:`CudaBackend` moves the state once at the start and once at the end;
only each finished output interval, a lat/lon grid, comes back to the host).

Device layout and ordering: the wind is stored as one ``float4`` (vx, vy, vz, 0)
per node so a corner costs one 16-byte load; particles are sorted by wind-grid cell
when they move to the device, so the threads of a warp read the same cache lines.
Each particle keeps its original index (``pid``, int32, 4 bytes: 37 bytes per
particle on the device), which keys its random numbers: the results do not depend
on the sort, and the float64 variant reproduces the NumPy oracle's particles.

Two variants, chosen by backend name:

* ``"cuda"`` (float64): all arithmetic in double precision, as the oracle.
* ``"cuda-mixed"``: the particle position is kept and accumulated in double
  precision, but everything computed from it for one step (wind lookups,
  interpolation, tangent projection, Box-Muller with the hardware's fast
  intrinsics) runs in single precision, and the renormalisation onto the sphere uses
  a series instead of a square root. Positions agree with the oracle to ~1e-5 deg
  after a day (see the GPU tests); its random numbers are the same stream,
  truncated to 24 bits.

CuPy is an optional extra (``pip install "plumecast[gpu]"``); without it, or
without a CUDA device, asking for a ``cuda`` backend raises
BackendUnavailableError. There is no silent fallback.

Winds on levels, vertical advection, a boundary layer from the met and deposition
(the 3-D path of :mod:`kernels_numpy`) run in a third kernel, ``advance3d_f64``
(:mod:`kernels_cuda_3d`), float64 for both variants, taken when the WindGrid has
more than one level, ``w`` or boundary-layer fields, or deposition is on; it adds
the dry and wet deposited masses to ``removed`` and to the sampler's ``deposited``
grid as the other backends do.

What was tested, and how (session 10, on a machine without a GPU): the CUDA C of all
three kernels compiled by the host C++ compiler with a prelude standing in for the
CUDA built-ins (``PLUMECAST_HOST``; ``tests/transport/cuda_host.py``), run thread
by thread through this module's own :class:`CudaBackend` with a NumPy stand-in for
CuPy, against the NumPy oracle (``tests/transport/test_cuda_on_cpu.py``: positions to
1e-6 deg, heights to 1e-3 m, masses and decayed, deposited and sampled totals to 1e-9
relative, grids cell by cell to 1e-6, exits identical, a whole 3-D run with
deposition through the runner; measured differences were ~1e-13 deg and ~1e-15
relative); and the sources compiled to PTX for sm_90
by nvcc 13.0 (the 3-D kernel: 156 registers, no spills). numba's CUDA simulator
cannot run CUDA C, so it was not used. Not run on a GPU: NVRTC's build, the
shared-memory reductions, atomics under contention, and the speed of the 3-D kernel
(``tests/test_gpu.py`` has the 3-D comparisons for a machine with one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from plumecast.errors import BackendUnavailableError
from plumecast.transport import kernels_cuda_3d
from plumecast.transport.kernels_numpy import OutputSampler, StepPhysics
from plumecast.transport.particles import Particles
from plumecast.transport.rng import seed_key
from plumecast.transport.windgrid import WindGrid, pack_surface, pack_wind
from plumecast.units import EARTH_RADIUS_M

_SOURCE = r"""
#define R_EARTH @R_EARTH@
#define DEG2RAD 0.017453292519943295
#define RAD2DEG 57.29577951308232
#define TWO_PI 6.283185307179586
#define TANGENT_MAX_LAT 80.0
#define EXPANSION_MAX_LAT 60.0
typedef unsigned long long u64;
#define GOLDEN 0x9E3779B97F4A7C15ULL
#define STEP_MULT 0xD1B54A32D192ED03ULL
/* rng.PAIR_H, rng.PAIR_Z: the uniform pairs of the horizontal and the vertical deviates */
#define PAIR_H 1
#define PAIR_Z 2

__device__ __forceinline__ u64 mix64(u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

struct Grid {
    int nlon, nlat, global_lon, polar_s, polar_n, nt;
    double lon0, dlon, lat0, dlat;
};

/* node offsets (in a record) and bilinear weights of the four corners round a point */
template <typename real>
struct Corners { size_t o00, o01, o10, o11; real w00, w01, w10, w11; };

/* the corners round (lon, lat), and whether the point is inside the grid */
template <typename real>
__device__ __forceinline__ bool corners(const Grid& g, real lon, real lat, Corners<real>* c) {
    bool ok = true;
    real fi = (lon - (real)g.lon0) / (real)g.dlon;
    if (g.global_lon) {
        fi = fi - floor(fi / (real)g.nlon) * (real)g.nlon;
    } else {
        if (fi < (real)0 || fi > (real)(g.nlon - 1)) ok = false;
        fi = fmin(fmax(fi, (real)0), (real)(g.nlon - 1));
    }
    int i0 = min((int)floor(fi), g.nlon - 1);
    real a = fi - (real)i0;
    int i1 = i0 + 1;
    if (i1 >= g.nlon) i1 = g.global_lon ? 0 : g.nlon - 1;
    real fj = (lat - (real)g.lat0) / (real)g.dlat;
    if (fj < (real)0) { if (!g.polar_s) ok = false; fj = 0; }
    if (fj > (real)(g.nlat - 1)) { if (!g.polar_n) ok = false; fj = (real)(g.nlat - 1); }
    int j0 = min((int)floor(fj), g.nlat - 1);
    real b = fj - (real)j0;
    int j1 = min(j0 + 1, g.nlat - 1);
    c->o00 = (size_t)j0 * g.nlon + i0; c->o01 = (size_t)j0 * g.nlon + i1;
    c->o10 = (size_t)j1 * g.nlon + i0; c->o11 = (size_t)j1 * g.nlon + i1;
    c->w00 = ((real)1 - a) * ((real)1 - b); c->w01 = a * ((real)1 - b); c->w10 = ((real)1 - a) * b; c->w11 = a * b;
    return ok;
}

/* the bilinear interpolation of four corner values */
template <typename real>
__device__ __forceinline__ real bil(const Corners<real>& q, float a00, float a01, float a10, float a11) {
    return q.w00 * (real)a00 + q.w01 * (real)a01 + q.w10 * (real)a10 + q.w11 * (real)a11;
}

/* bilinear + linear-in-time interpolation of the float4 node vectors */
template <typename real>
__device__ __forceinline__ bool interp(const float4* __restrict__ vec, const Grid& g, int k, real w,
                                       real lon, real lat, real* vx, real* vy, real* vz) {
    Corners<real> q;
    bool ok = corners<real>(g, lon, lat, &q);
    size_t plane = (size_t)g.nlat * g.nlon;
    const float4* f = vec + (size_t)k * plane;
    float4 c00 = __ldg(f + q.o00), c01 = __ldg(f + q.o01), c10 = __ldg(f + q.o10), c11 = __ldg(f + q.o11);
    real ox = bil(q, c00.x, c01.x, c10.x, c11.x);
    real oy = bil(q, c00.y, c01.y, c10.y, c11.y);
    real oz = bil(q, c00.z, c01.z, c10.z, c11.z);
    if (w > (real)0) {
        int k1 = min(k + 1, g.nt - 1);
        const float4* f1 = vec + (size_t)k1 * plane;
        float4 d00 = __ldg(f1 + q.o00), d01 = __ldg(f1 + q.o01), d10 = __ldg(f1 + q.o10), d11 = __ldg(f1 + q.o11);
        real w0 = (real)1 - w;
        ox = w0 * ox + w * bil(q, d00.x, d01.x, d10.x, d11.x);
        oy = w0 * oy + w * bil(q, d00.y, d01.y, d10.y, d11.y);
        oz = w0 * oz + w * bil(q, d00.z, d01.z, d10.z, d11.z);
    }
    *vx = ox; *vy = oy; *vz = oz;
    return ok;
}

__device__ __forceinline__ bool inside(const Grid& g, double lon, double lat) {
    if (!g.global_lon) {
        double fi = (lon - g.lon0) / g.dlon;
        if (fi < 0.0 || fi > (double)(g.nlon - 1)) return false;
    }
    double fj = (lat - g.lat0) / g.dlat;
    if (fj < 0.0 && !g.polar_s) return false;
    if (fj > (double)(g.nlat - 1) && !g.polar_n) return false;
    return true;
}

/* the kernels' arguments, in groups shared with the 3-D kernel (CudaBackend.advance's order) */
#define PARTICLE_ARGS \
    double* __restrict__ lon, double* __restrict__ lat, float* __restrict__ zarr, double* __restrict__ mass, \
    const int* __restrict__ birth, signed char* __restrict__ status, const int* __restrict__ pid
#define GRID_ARGS \
    int g_nlon, int g_nlat, int g_global, int g_ps, int g_pn, int g_nt, double g_lon0, double g_dlon, double g_lat0, \
    double g_dlat
#define STEP_ARGS \
    const int* __restrict__ k0, const double* __restrict__ w0, const int* __restrict__ km, const double* __restrict__ wm, \
    int step0, int nsteps, double dt, double kh, double kz, double h, double decay_factor, u64 seed_key, \
    const double* __restrict__ hgain, int ngain
#define SAMPLE_ARGS \
    int do_sample, double slon0, double sdlon, int snlon, double slat0, double sdlat, int snlat, double layer, \
    double* __restrict__ acc

#define KERNEL_ARGS \
    PARTICLE_ARGS, const float4* __restrict__ vec, GRID_ARGS, STEP_ARGS, SAMPLE_ARGS, double* __restrict__ decayed, \
    long long n

/* the thread's particle and the wind grid of GRID_ARGS */
#define THREAD_AND_GRID \
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; \
    const Grid g = {g_nlon, g_nlat, g_global, g_ps, g_pn, g_nt, g_lon0, g_dlon, g_lat0, g_dlat};

#define KERNEL_PROLOGUE THREAD_AND_GRID double dec = 0.0;

#ifdef PLUMECAST_HOST
/* the tests' CPU build of this source (one thread at a time): no block reduction */
#define KERNEL_EPILOGUE if (dec != 0.0) atomicAdd(decayed, dec);
#else
/* block reduction of the decayed mass: one atomic per block */
#define KERNEL_EPILOGUE \
    __shared__ double sdec[256]; \
    sdec[threadIdx.x] = dec; \
    __syncthreads(); \
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) { \
        if (threadIdx.x < stride) sdec[threadIdx.x] += sdec[threadIdx.x + stride]; \
        __syncthreads(); \
    } \
    if (threadIdx.x == 0 && sdec[0] != 0.0) atomicAdd(decayed, sdec[0]);
#endif

__device__ __forceinline__ void vertical(double* z, double h, double sig_z, double xi3) {
    /* reflect at 0 and h as often as needed: fold into [0, h] (kernels_numpy.fold_into_layer) */
    const double two_h = 2.0 * h;
    double zz = *z + sig_z * xi3;
    zz -= two_h * floor(zz / two_h);
    if (zz > h) zz = two_h - zz;
    zz = fmin(fmax(zz, 0.0), h);
    *z = (double)(float)zz;
}

/* add m to the cell of (lo, la) of an output grid, if the point is on it */
__device__ __forceinline__ void add_to_cell(double* out, double lo, double la, double slon0, double sdlon, int snlon,
                                            double slat0, double sdlat, int snlat, double m) {
    double x = lo - slon0; /* degrees east of the grid's west edge, in 0..360 (a grid across 180 deg) */
    if (x < 0.0) x += 360.0; else if (x >= 360.0) x -= 360.0;
    int ci = (int)floor(x / sdlon);
    int cj = (int)floor((la - slat0) / sdlat);
    if (ci >= 0 && ci < snlon && cj >= 0 && cj < snlat) atomicAdd(out + (size_t)cj * snlon + ci, m);
}

__device__ __forceinline__ void sample(double* acc, int do_sample, double z, double layer, double lo, double la,
                                       double slon0, double sdlon, int snlon, double slat0, double sdlat, int snlat,
                                       double m) {
    if (do_sample && z < layer) add_to_cell(acc, lo, la, slon0, sdlon, snlon, slat0, sdlat, snlat, m);
}

/* the unit vector of (lon, lat) [deg] */
__device__ __forceinline__ void unit_vector(double lo, double la, double* px, double* py, double* pz) {
    double sphi, cphi, slam, clam;
    sincos(la * DEG2RAD, &sphi, &cphi);
    sincos(lo * DEG2RAD, &slam, &clam);
    *px = cphi * clam; *py = cphi * slam; *pz = sphi;
}

/* lon/lat [deg] of a point on the unit sphere */
__device__ __forceinline__ void lonlat(double x, double y, double z, double* lo, double* la) {
    *lo = atan2(y, x) * RAD2DEG;
    *la = asin(fmin(fmax(z, -1.0), 1.0)) * RAD2DEG;
}

/* the first step of particle i in a call of nsteps steps from step0; -1 when it does not move in the
   call (past the last particle, not active, or released later) */
__device__ __forceinline__ int first_step(long long i, long long n, const signed char* status, const int* birth,
                                          int step0, int nsteps) {
    if (i >= n || status[i] != 0) return -1;
    int first = max(step0, birth[i]);
    return first < step0 + nsteps ? first : -1;
}

/* particle i's state at the end of a call: lon/lat of its position (x, y, z) on the unit sphere, mass,
   height and whether it left the grid */
__device__ __forceinline__ void store_state(double* lon, double* lat, double* mass, float* zarr, signed char* status,
                                            long long i, double x, double y, double z, double m, double height,
                                            bool exited) {
    lonlat(x, y, z, lon + i, lat + i);
    mass[i] = m; zarr[i] = (float)height;
    if (exited) status[i] = 2;
}

/* the particle's key of the counter-based random numbers (rng.particle_keys) */
__device__ __forceinline__ u64 particle_key(u64 seed_key, int pid) {
    return mix64(seed_key ^ ((u64)pid * GOLDEN));
}

/* ---------------- float64: the oracle's arithmetic ---------------- */
__device__ __forceinline__ double uniform53(u64 base, int j) {
    u64 r = mix64(base + (u64)j * GOLDEN);
    return ((double)(r >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* the j-th pair of uniforms of a step's counter (rng.uniform_pair): the high and the low 32 bits of one
   output, and the Box-Muller pair (cosine, sine) of them */
__device__ __forceinline__ void normal_pair(u64 base, int j, double* c, double* s) {
    u64 r = mix64(base + (u64)j * GOLDEN);
    double u1 = ((double)(r >> 32) + 0.5) * (1.0 / 4294967296.0);
    double u2 = ((double)(r & 0xFFFFFFFFULL) + 0.5) * (1.0 / 4294967296.0);
    double rr = sqrt(-2.0 * log(u1)), sn, cs;
    sincos(TWO_PI * u2, &sn, &cs);
    *c = rr * cs;
    *s = rr * sn;
}

/* the step's midpoint (kernels_numpy.midpoint) with the wind v at p (lo, la): the point q the
   second wind is projected at, and (lom, lam) where it is looked up */
__device__ __forceinline__ void midpoint(double lo, double la, double px, double py, double pz, double vx, double vy,
                                         double vz, double half, double* qx, double* qy, double* qz, double* lom,
                                         double* lam) {
    if (la < TANGENT_MAX_LAT && la > -TANGENT_MAX_LAT) {
        /* in the local tangent plane: q = p */
        double rh = sqrt(px * px + py * py), inv = 1.0 / rh;
        double ue = (px * vy - py * vx) * inv;
        double vn = vz * rh - (vx * px + vy * py) * pz * inv;
        *lom = lo + ue * half * inv * RAD2DEG;
        *lam = la + vn * half * RAD2DEG;
        *qx = px; *qy = py; *qz = pz;
    } else {
        double d = vx * px + vy * py + vz * pz;
        double x = px + (vx - d * px) * half, y = py + (vy - d * py) * half, z = pz + (vz - d * pz) * half;
        double r = 1.0 / sqrt(x * x + y * y + z * z);
        *qx = x * r; *qy = y * r; *qz = z * r;
        lonlat(*qx, *qy, *qz, lom, lam);
    }
}

/* the factor on the horizontal deviates of a particle born at step b, in step `step` (the oracle's
   horizontal_gain table: its last entry beyond its end; [1] for the plain random walk) */
__device__ __forceinline__ double age_gain(const double* hgain, int ngain, int step, int b) {
    int a = step - b;
    a = a < 0 ? 0 : (a > ngain - 1 ? ngain - 1 : a);
    return hgain[a];
}

/* horizontal diffusion (K_h > 0): the Box-Muller pair of the step's uniform pair PAIR_H times the
   particle's age factor ga, east and north at p, times sig_h, added to the step d */
__device__ __forceinline__ void horizontal_diffusion(u64 base, double kh, double sig_h, double ga, double px,
                                                     double py, double pz, double* dx, double* dy, double* dz) {
    if (!(kh > 0.0)) return;
    double xi1, xi2;
    normal_pair(base, PAIR_H, &xi1, &xi2);
    xi1 *= ga;
    xi2 *= ga;
    double rh = sqrt(px * px + py * py);
    if (rh > 1e-12) {
        double inv = 1.0 / rh;
        *dx += sig_h * (-py * inv * xi1 - pz * px * inv * xi2);
        *dy += sig_h * (px * inv * xi1 - pz * py * inv * xi2);
        *dz += sig_h * (rh * xi2);
    } else {
        *dy += sig_h * xi1;
        *dx -= sig_h * xi2;
    }
}

/* the vertical normal of the step (rng.normals3): steps 2m and 2m + 1 the cosine and the sine of the
   Box-Muller pair of step 2m's uniform pair PAIR_Z */
__device__ __forceinline__ double normal_z(u64 key, int step) {
    double c, s;
    normal_pair(key + (u64)(step & ~1) * STEP_MULT, PAIR_Z, &c, &s);
    return (step & 1) ? s : c;
}

/* the end of the step: n = p + d back on the unit sphere, and its lon/lat, below EXPANSION_MAX_LAT by
   expansion about (lo, la) (kernels_numpy.end_lonlat) */
__device__ __forceinline__ void end_point(double lo, double la, double px, double py, double pz, double dx, double dy,
                                          double dz, double* nx, double* ny, double* nz, double* lon_n,
                                          double* lat_n) {
    double x = px + dx, y = py + dy, z = pz + dz;
    double r = 1.0 / sqrt(x * x + y * y + z * z);
    *nx = x * r; *ny = y * r; *nz = z * r;
    if (la < EXPANSION_MAX_LAT && la > -EXPANSION_MAX_LAT) {
        double rh = sqrt(px * px + py * py), inv = 1.0 / rh, tphi = pz * inv;
        double de = (px * dy - py * dx) * inv;
        double dn = dz * rh - (dx * px + dy * py) * pz * inv;
        double lo_n = lo + (de + de * dn * tphi) * inv * RAD2DEG;
        *lat_n = la + (dn - 0.5 * de * de * tphi) * RAD2DEG;
        if (lo_n >= 180.0) lo_n -= 360.0; else if (lo_n < -180.0) lo_n += 360.0;
        *lon_n = lo_n;
    } else {
        lonlat(*nx, *ny, *nz, lon_n, lat_n);
    }
}

extern "C" __global__ void advance_f64(KERNEL_ARGS) {
    KERNEL_PROLOGUE
    const double half = 0.5 * dt / R_EARTH, full = dt / R_EARTH;
    const double sig_h = sqrt(2.0 * kh * dt) / R_EARTH, sig_z = sqrt(2.0 * kz * dt);
    const int first = first_step(i, n, status, birth, step0, nsteps);
    if (first >= 0) {
        double lo = lon[i], la = lat[i], z = (double)zarr[i], m = mass[i], px, py, pz;
        unit_vector(lo, la, &px, &py, &pz);
        const u64 key = particle_key(seed_key, pid[i]);
        bool exited = false;
        for (int step = first; step < step0 + nsteps; ++step) {
            int s = step - step0;
            double zn = z;  /* committed with the step: an exiting particle keeps its height */
            double vx, vy, vz, qx, qy, qz, lom, lam;
            bool ok1 = interp<double>(vec, g, k0[s], w0[s], lo, la, &vx, &vy, &vz);
            midpoint(lo, la, px, py, pz, vx, vy, vz, half, &qx, &qy, &qz, &lom, &lam);
            bool ok2 = interp<double>(vec, g, km[s], wm[s], lom, lam, &vx, &vy, &vz);
            double d = vx * qx + vy * qy + vz * qz;
            double dx = (vx - d * qx) * full, dy = (vy - d * qy) * full, dz = (vz - d * qz) * full;
            if (kh > 0.0 || kz > 0.0) {
                u64 base = key + (u64)step * STEP_MULT;
                horizontal_diffusion(base, kh, sig_h, age_gain(hgain, ngain, step, birth[i]), px, py, pz, &dx, &dy,
                                     &dz);
                if (kz > 0.0 && z <= h) vertical(&zn, h, sig_z, normal_z(key, step));
            }
            double nx, ny, nz, lon_n, lat_n;
            end_point(lo, la, px, py, pz, dx, dy, dz, &nx, &ny, &nz, &lon_n, &lat_n);
            if (!(ok1 && ok2 && inside(g, lon_n, lat_n))) { exited = true; break; }
            double mn = m * decay_factor;
            dec += m - mn;
            m = mn;
            z = zn;
            px = nx; py = ny; pz = nz;
            lo = lon_n; la = lat_n;
            sample(acc, do_sample, z, layer, lo, la, slon0, sdlon, snlon, slat0, sdlat, snlat, m);
        }
        /* the stored state: exact lon/lat of the position on the sphere */
        store_state(lon, lat, mass, zarr, status, i, px, py, pz, m, z, exited);
    }
    KERNEL_EPILOGUE
}

/* ---------------- mixed: double position, single-precision step ---------------- */
/* the j-th pair of uniforms of a step's counter to 24 bits: the top 24 of each half of one output (those of
   rng.uniform_pair, rounded) */
__device__ __forceinline__ void uniform_pair24(u64 base, int j, float* a, float* b) {
    u64 r = mix64(base + (u64)j * GOLDEN);
    *a = ((float)(unsigned int)(r >> 40) + 0.5f) * (1.0f / 16777216.0f);
    *b = ((float)(unsigned int)((r >> 8) & 0xFFFFFFULL) + 0.5f) * (1.0f / 16777216.0f);
}

extern "C" __global__ void advance_mixed(KERNEL_ARGS) {
    KERNEL_PROLOGUE
    const float half = (float)(0.5 * dt / R_EARTH), full = (float)(dt / R_EARTH);
    const float sig_h = (float)(sqrt(2.0 * kh * dt) / R_EARTH);
    const double sig_z = sqrt(2.0 * kz * dt);
    const int first = first_step(i, n, status, birth, step0, nsteps);
    if (first >= 0) {
        double lo = lon[i], la = lat[i], z = (double)zarr[i], m = mass[i], px, py, pz;
        unit_vector(lo, la, &px, &py, &pz);
        const u64 key = particle_key(seed_key, pid[i]);
        float lof = (float)lo, laf = (float)la;
        bool exited = false;
        for (int step = first; step < step0 + nsteps; ++step) {
            int s = step - step0;
            double zn = z;  /* committed with the step: an exiting particle keeps its height */
            float fx = (float)px, fy = (float)py, fz = (float)pz;
            float vx, vy, vz;
            bool ok1 = interp<float>(vec, g, k0[s], (float)w0[s], lof, laf, &vx, &vy, &vz);
            float qx, qy, qz, lom, lam, d;
            if (laf < (float)TANGENT_MAX_LAT && laf > -(float)TANGENT_MAX_LAT) {
                float rh2 = fx * fx + fy * fy, inv = rsqrtf(rh2), rh = rh2 * inv;
                float ue = (fx * vy - fy * vx) * inv;
                float vn = vz * rh - (vx * fx + vy * fy) * fz * inv;
                lom = lof + ue * half * inv * (float)RAD2DEG;
                lam = laf + vn * half * (float)RAD2DEG;
                qx = fx; qy = fy; qz = fz;
            } else {
                d = vx * fx + vy * fy + vz * fz;
                qx = fx + (vx - d * fx) * half; qy = fy + (vy - d * fy) * half; qz = fz + (vz - d * fz) * half;
                float r = rsqrtf(qx * qx + qy * qy + qz * qz);
                qx *= r; qy *= r; qz *= r;
                lom = atan2f(qy, qx) * (float)RAD2DEG; lam = asinf(fminf(fmaxf(qz, -1.f), 1.f)) * (float)RAD2DEG;
            }
            bool ok2 = interp<float>(vec, g, km[s], (float)wm[s], lom, lam, &vx, &vy, &vz);
            d = vx * qx + vy * qy + vz * qz;
            float dx = (vx - d * qx) * full, dy = (vy - d * qy) * full, dz = (vz - d * qz) * full;
            if (kh > 0.0 || kz > 0.0) {
                u64 base = key + (u64)step * STEP_MULT;
                float u1, u2;
                uniform_pair24(base, PAIR_H, &u1, &u2);
                float rr = sqrtf(-2.f * __logf(u1));
                float sn, cs;
                __sincosf((float)TWO_PI * u2, &sn, &cs);
                const float ga = (float)age_gain(hgain, ngain, step, birth[i]);
                float xi1 = rr * cs * ga, xi2 = rr * sn * ga;
                if (kh > 0.0) {
                    float rh2 = fx * fx + fy * fy;
                    if (rh2 > 1e-12f) {
                        float inv = rsqrtf(rh2), rh = rh2 * inv;
                        dx += sig_h * (-fy * inv * xi1 - fz * fx * inv * xi2);
                        dy += sig_h * (fx * inv * xi1 - fz * fy * inv * xi2);
                        dz += sig_h * (rh * xi2);
                    } else {
                        dy += sig_h * xi1;
                        dx -= sig_h * xi2;
                    }
                }
                if (kz > 0.0 && z <= h) {
                    float v1, v2, s3, c3;  /* the pair of steps 2m, 2m + 1 (normal_z) */
                    uniform_pair24(key + (u64)(step & ~1) * STEP_MULT, PAIR_Z, &v1, &v2);
                    __sincosf((float)TWO_PI * v2, &s3, &c3);
                    vertical(&zn, h, sig_z, (double)(sqrtf(-2.f * __logf(v1)) * ((step & 1) ? s3 : c3)));
                }
            }
            /* double accumulation; |n|^2 = 1 + e with e ~ 1e-6: 1/sqrt(1+e) by its series */
            double nx = px + (double)dx, ny = py + (double)dy, nz = pz + (double)dz;
            double e = nx * nx + ny * ny + nz * nz - 1.0;
            double rn = 1.0 - e * (0.5 - 0.375 * e);
            nx *= rn; ny *= rn; nz *= rn;
            float lon_n, lat_n;
            if (laf < (float)EXPANSION_MAX_LAT && laf > -(float)EXPANSION_MAX_LAT) {
                float rh2 = fx * fx + fy * fy, inv = rsqrtf(rh2), rh = rh2 * inv, tphi = fz * inv;
                float de = (fx * dy - fy * dx) * inv;
                float dn = dz * rh - (dx * fx + dy * fy) * fz * inv;
                lon_n = lof + (de + de * dn * tphi) * inv * (float)RAD2DEG;
                lat_n = laf + (dn - 0.5f * de * de * tphi) * (float)RAD2DEG;
                if (lon_n >= 180.f) lon_n -= 360.f; else if (lon_n < -180.f) lon_n += 360.f;
            } else {
                float nfx = (float)nx, nfy = (float)ny, nfz = (float)nz;
                lon_n = atan2f(nfy, nfx) * (float)RAD2DEG;
                lat_n = asinf(fminf(fmaxf(nfz, -1.f), 1.f)) * (float)RAD2DEG;
            }
            if (!(ok1 && ok2 && inside(g, (double)lon_n, (double)lat_n))) { exited = true; break; }
            double mn = m * decay_factor;
            dec += m - mn;
            m = mn;
            z = zn;
            px = nx; py = ny; pz = nz;
            lof = lon_n; laf = lat_n;
            sample(acc, do_sample, z, layer, (double)lon_n, (double)lat_n, slon0, sdlon, snlon, slat0, sdlat, snlat, m);
        }
        /* exact conversion of the stored state */
        double rr = 1.0 / sqrt(px * px + py * py + pz * pz);
        store_state(lon, lat, mass, zarr, status, i, px, py, pz * rr, m, z, exited);
    }
    KERNEL_EPILOGUE
}
""".replace("@R_EARTH@", repr(EARTH_RADIUS_M))

_THREADS = 256
VARIANTS = ("float64", "mixed")


def _cupy() -> Any:
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailableError(
            "backend 'cuda' needs CuPy and an NVIDIA GPU: pip install \"plumecast[gpu]\" "
            f"(CuPy could not be imported: {exc})"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise BackendUnavailableError(f"backend 'cuda': no usable CUDA device ({exc})") from None
    if count < 1:
        raise BackendUnavailableError("backend 'cuda': CuPy is installed but no CUDA device was found")
    return cupy


@dataclass
class DeviceParticles(Particles):
    """Particles on the device, sorted by wind-grid cell; ``pid`` is each one's
    index in the host arrays (it keys the random numbers and undoes the sort)."""

    pid: Any = None


class CudaBackend:
    """Device-resident particle runs on an NVIDIA GPU through CuPy."""

    def __init__(self, variant: str = "float64", array_module: Any = None) -> None:
        """``array_module``: CuPy (None: import it and check for a device), or a
        stand-in with its interface (the tests run this class on the CPU with one)."""
        if variant not in VARIANTS:
            raise BackendUnavailableError(f"cuda variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        self.cp = _cupy() if array_module is None else array_module
        self.variant = variant
        self.name = "cuda" if variant == "float64" else "cuda-mixed"
        self._module = self.cp.RawModule(code=_SOURCE, options=("--std=c++14",))
        self._kernel = self._module.get_function("advance_f64" if variant == "float64" else "advance_mixed")
        self._kernel_3d: Any = None  # compiled at the first 3-D call
        self._met3_cache: tuple[WindGrid, tuple[Any, ...]] | None = None
        #: the horizontal age table on the device and the host table it came from (cached by
        #: horizontal_gain per (dt, T): the same object while they stay the same)
        self._gain: tuple[Any, Any] | None = None
        self._wind_cache: tuple[WindGrid, Any] | None = None
        self._tw_cache: dict[tuple[int, float, int, int], tuple[WindGrid, tuple[Any, Any, Any, Any]]] = {}

    # -- state movement -------------------------------------------------
    def to_device(self, p: Particles, sort_cell_deg: float = 1.0) -> DeviceParticles:
        """Copy particles to the device, sorted by (lat, lon) cell of ``sort_cell_deg``."""
        cp = self.cp
        lon = cp.asarray(p.lon)
        lat = cp.asarray(p.lat)
        nlon = int(round(360.0 / sort_cell_deg))
        cell = cp.floor((lat + 90.0) / sort_cell_deg).astype(cp.int64) * nlon + cp.floor(
            (lon + 180.0) / sort_cell_deg).astype(cp.int64)
        order = cp.argsort(cell).astype(cp.int32)
        del cell
        return DeviceParticles(
            lon[order], lat[order], cp.asarray(p.z)[order], cp.asarray(p.mass)[order],
            cp.asarray(p.birth_step)[order], cp.asarray(p.status)[order], pid=order,
        )

    def to_host(self, p: Particles) -> Particles:
        cp = self.cp
        if not isinstance(p, DeviceParticles):
            return Particles(*(cp.asnumpy(a) for a in (p.lon, p.lat, p.z, p.mass, p.birth_step, p.status)))
        # undo the sort on the device, then copy contiguous arrays
        arrays = []
        for name in ("lon", "lat", "z", "mass", "birth_step", "status"):
            a = getattr(p, name)
            back = cp.empty_like(a)
            back[p.pid] = a
            arrays.append(cp.asnumpy(back))
        return Particles(*arrays)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.cp.zeros(shape, dtype=self.cp.float64)

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(self.cp.asnumpy(a))

    def count_active(self, p: Particles, step: int) -> int:
        return int(self.cp.count_nonzero((p.birth_step <= step) & (p.status == 0)))

    def _wind(self, wind: WindGrid) -> Any:
        # keep a reference to the WindGrid itself: an id() could be reused by a new object
        if self._wind_cache is None or self._wind_cache[0] is not wind:
            v = wind.vec[:, 0]  # (time, 3, lat, lon): the single-level kernel's one level
            packed = np.zeros((v.shape[0], v.shape[2], v.shape[3], 4), np.float32)
            packed[..., :3] = np.moveaxis(v, 1, -1)
            self._wind_cache = (wind, self.cp.asarray(packed))
        return self._wind_cache[1]

    def _time_weights(self, wind: WindGrid, dt: float, step0: int, nsteps: int) -> tuple[Any, Any, Any, Any]:
        """Wind record index and weight at the start and middle of each step, on the
        device; a steady wind needs only one small cached set."""
        key = (id(wind), dt, 0 if wind.times_s.size == 1 else step0, nsteps)
        cached = self._tw_cache.get(key)
        if cached is not None and cached[0] is wind:
            return cached[1]
        k0, w0, km, wm = wind.step_weights(dt, step0, nsteps)
        cp = self.cp
        out = (cp.asarray(k0.astype(np.int32)), cp.asarray(w0), cp.asarray(km.astype(np.int32)), cp.asarray(wm))
        if len(self._tw_cache) > 64:
            self._tw_cache.clear()
        self._tw_cache[key] = (wind, out)
        return out

    # -- the step -------------------------------------------------------
    def advance(
        self,
        particles: Particles,
        wind: WindGrid,
        physics: StepPhysics,
        step0: int,
        nsteps: int,
        sampler: OutputSampler | None = None,
        removed: np.ndarray | None = None,
    ) -> float:
        """Advance device particles (from :meth:`to_device`); host particles are
        copied in and back. Returns the mass decayed [kg]; ``removed`` (dry, wet) gets
        the mass deposited (the 3-D kernel: winds on levels, ``w``, a boundary layer
        from the met or deposition; the single-level kernel otherwise)."""
        cp = self.cp
        on_host = not isinstance(particles, DeviceParticles)
        dev = self.to_device(particles) if on_host else cast(DeviceParticles, particles)
        dt = physics.dt_s
        k0, w0, km, wm = self._time_weights(wind, dt, step0, nsteps)
        grid = (
            np.int32(wind.nlon), np.int32(wind.nlat), np.int32(wind.global_lon), np.int32(wind.polar_south),
            np.int32(wind.polar_north), np.int32(wind.vec.shape[0]),
            np.float64(wind.lon0), np.float64(wind.dlon), np.float64(wind.lat0), np.float64(wind.dlat),
        )
        three_d = wind.three_d or physics.deposits
        sums = cp.zeros(3 if three_d else 1, cp.float64)  # decayed (and dry, wet deposited) mass
        acc = self._device_grid(None if sampler is None else sampler.acc)
        sp: tuple[Any, ...] = (0, 0.0, 1.0, 0, 0.0, 1.0, 0, 0.0)
        dep = None
        if sampler is not None:
            sp = (1, sampler.lon0, sampler.dlon, sampler.nlon, sampler.lat0, sampler.dlat, sampler.nlat,
                  sampler.layer_depth_m)
            if three_d and physics.deposits and sampler.deposited is not None:
                dep = self._device_grid(sampler.deposited)
        n = len(dev)
        host_gain = physics.horizontal_gain()
        if self._gain is None or self._gain[0] is not host_gain:  # copied once per (dt, T), not every call
            self._gain = (host_gain, cp.asarray(host_gain))
        gain = self._gain[1]
        head = (dev.lon, dev.lat, dev.z, dev.mass, dev.birth_step, dev.status, dev.pid)
        steps = (np.int32(step0), np.int32(nsteps), np.float64(dt), np.float64(physics.kh_m2_s),
                 np.float64(physics.kz_m2_s), np.float64(physics.mixing_height_m),
                 np.float64(math.exp(-physics.decay_rate_s * dt)), seed_key(physics.seed),
                 gain, np.int32(gain.size))
        sample = (np.int32(sp[0]), np.float64(sp[1]), np.float64(sp[2]), np.int32(sp[3]), np.float64(sp[4]),
                  np.float64(sp[5]), np.int32(sp[6]), np.float64(sp[7]), acc)
        if three_d:
            wv, sf, zm, zinv, ztab, zpar, tab = self._met3(wind)
            res_on, rb_u, met_rc, rtab = physics.resistance_args(wind)
            kernel = self._get_kernel_3d()
            args: tuple[Any, ...] = (
                *head, wv, sf, *grid,
                np.int32(wind.nz), zm, zinv, ztab, np.int32(ztab.size), *(np.float64(x) for x in zpar),
                k0, w0, km, wm, *steps,
                np.int32(wind.w is not None), np.int32(wind.surface is not None), np.int32(physics.deposits),
                np.float64(physics.kz_free_m2_s), np.float64(physics.dry_velocity_m_s),
                np.int32(res_on), np.float64(rb_u), np.int32(met_rc), cp.asarray(rtab.ravel()),
                np.float64(physics.scavenging_a_s), np.float64(physics.scavenging_b), tab,
                *sample, np.int32(dep is not None), cp.zeros(1, cp.float64) if dep is None else dep, sums,
                np.int64(n),
            )
        else:
            kernel = self._kernel
            args = (*head, self._wind(wind), *grid, k0, w0, km, wm, *steps, *sample, sums, np.int64(n))
        blocks = (n + _THREADS - 1) // _THREADS
        if blocks > 0:
            kernel((blocks,), (_THREADS,), args)
        if sampler is not None and isinstance(sampler.acc, np.ndarray):
            sampler.acc[...] = cp.asnumpy(acc)
        if dep is not None and sampler is not None and isinstance(sampler.deposited, np.ndarray):
            sampler.deposited[...] = cp.asnumpy(dep)
        if on_host:
            host = self.to_host(dev)
            for name in ("lon", "lat", "z", "mass", "status"):
                getattr(particles, name)[...] = getattr(host, name)
        out = self.to_numpy(sums)
        if three_d and removed is not None:
            removed += out[1:]
        return float(out[0])

    def _device_grid(self, a: Any) -> Any:
        """An output grid on the device (a host one is copied in; None: a dummy)."""
        if a is None:
            return self.cp.zeros(1, self.cp.float64)
        return self.cp.asarray(a) if isinstance(a, np.ndarray) else a

    def _get_kernel_3d(self) -> Any:
        """The 3-D kernel, compiled at first use, without multiply-add contraction
        (see :mod:`kernels_cuda_3d`)."""
        if self._kernel_3d is None:
            module = self.cp.RawModule(code=_SOURCE + kernels_cuda_3d.source_3d(),
                                       options=("--std=c++14", "--fmad=false"))
            self._kernel_3d = module.get_function("advance3d_f64")
        return self._kernel_3d

    def _met3(self, wind: WindGrid) -> tuple[Any, ...]:
        """The 3-D kernel's met on the device: packed wind and w, boundary-layer
        fields, level lookup (:mod:`kernels_cuda_3d`) and the profile table; kept
        for the last WindGrid (the object itself, not its id)."""
        if self._met3_cache is None or self._met3_cache[0] is not wind:
            self._met3_cache = None  # free the previous grid's arrays first
            cp = self.cp
            zm, zinv, ztab, zpar = kernels_cuda_3d.level_arrays(wind)
            met = (cp.asarray(pack_wind(wind)), cp.asarray(pack_surface(wind)),
                   cp.asarray(zm), cp.asarray(zinv), cp.asarray(ztab), zpar,
                   cp.asarray(kernels_cuda_3d.profile_table()))
            self._met3_cache = (wind, met)
        return self._met3_cache[1]


_BACKENDS: dict[str, CudaBackend] = {}


def get_backend(variant: str = "float64") -> CudaBackend:
    """The (cached) CUDA backend of a variant; raises BackendUnavailableError
    when CuPy or a CUDA device is missing."""
    if variant not in _BACKENDS:
        _BACKENDS[variant] = CudaBackend(variant)
    return _BACKENDS[variant]
