"""GPU kernel (CUDA C through CuPy): the physics of :mod:`kernels_numpy`, one
thread per particle, all the steps of a call fused in registers.

The particle state, the wind and the output grid stay on the device for a whole
run (:class:`CudaBackend` moves the state once at the start and once at the end;
only each finished output interval, a lat/lon grid, comes back to the host). The
random numbers are the same counter-based SplitMix64 stream as on the CPU, so the
float64 variant reproduces the NumPy oracle's particles.

Two variants, chosen by name:

* ``"float64"`` (default): all arithmetic in double precision, as the oracle.
* ``"mixed"``: the particle state stays double precision and positions are
  accumulated in double, but the wind lookups (lon/lat of the midpoint and end
  point), the interpolation and the Box-Muller transform run in single precision
  with the hardware's fast intrinsics. Position errors stay below ~1e-4 deg
  after a day (see the GPU tests); it is the variant for very large runs.

CuPy is an optional extra (``pip install "plumecast[gpu]"``); without it, or
without a CUDA device, asking for the ``cuda`` backend raises
BackendUnavailableError. There is no silent fallback.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plumecast.errors import BackendUnavailableError
from plumecast.transport.kernels_numpy import OutputSampler, StepPhysics
from plumecast.transport.particles import Particles
from plumecast.transport.windgrid import WindGrid
from plumecast.units import EARTH_RADIUS_M

_SOURCE = r"""
#define R_EARTH %(R)r
#define DEG2RAD 0.017453292519943295
#define RAD2DEG 57.29577951308232
#define TWO_PI 6.283185307179586
#if USE_FLOAT
typedef float real;
#define ATAN2(y, x) atan2f((float)(y), (float)(x))
#define ASIN(x) asinf((float)(x))
#define LOG(x) __logf((float)(x))
#define SQRT(x) sqrtf((float)(x))
#define SINCOS(x, s, c) __sincosf((float)(x), (s), (c))
#else
typedef double real;
#define ATAN2(y, x) atan2((y), (x))
#define ASIN(x) asin((x))
#define LOG(x) log((x))
#define SQRT(x) sqrt((x))
#define SINCOS(x, s, c) sincos((x), (s), (c))
#endif

typedef unsigned long long u64;
#define GOLDEN 0x9E3779B97F4A7C15ULL
#define STEP_MULT 0xD1B54A32D192ED03ULL

__device__ __forceinline__ u64 mix64(u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

__device__ __forceinline__ double uniform(u64 base, int j) {
    u64 r = mix64(base + (u64)j * GOLDEN);
    return ((double)(r >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

struct Grid {
    int nlon, nlat, global_lon, polar_s, polar_n, nt;
    double lon0, dlon, lat0, dlat;
};

__device__ __forceinline__ bool interp(const float* __restrict__ vec, const Grid g, int k, real w,
                                       real lon, real lat, real* vx, real* vy, real* vz) {
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
    int k1 = min(k + 1, g.nt - 1);
    real w00 = ((real)1 - a) * ((real)1 - b), w01 = a * ((real)1 - b), w10 = ((real)1 - a) * b, w11 = a * b;
    size_t plane = (size_t)g.nlat * g.nlon;
    size_t r0 = (size_t)j0 * g.nlon, r1 = (size_t)j1 * g.nlon;
    real out[3];
    for (int c = 0; c < 3; ++c) {
        const float* f = vec + ((size_t)k * 3 + c) * plane;
        real v = w00 * (real)__ldg(f + r0 + i0) + w01 * (real)__ldg(f + r0 + i1)
               + w10 * (real)__ldg(f + r1 + i0) + w11 * (real)__ldg(f + r1 + i1);
        out[c] = ((real)1 - w) * v;
        if (w > (real)0) {
            const float* f1 = vec + ((size_t)k1 * 3 + c) * plane;
            out[c] += w * (w00 * (real)__ldg(f1 + r0 + i0) + w01 * (real)__ldg(f1 + r0 + i1)
                         + w10 * (real)__ldg(f1 + r1 + i0) + w11 * (real)__ldg(f1 + r1 + i1));
        }
    }
    *vx = out[0]; *vy = out[1]; *vz = out[2];
    return ok;
}

__device__ __forceinline__ bool inside(const Grid g, double lon, double lat) {
    if (!g.global_lon) {
        double fi = (lon - g.lon0) / g.dlon;
        if (fi < 0.0 || fi > (double)(g.nlon - 1)) return false;
    }
    double fj = (lat - g.lat0) / g.dlat;
    if (fj < 0.0 && !g.polar_s) return false;
    if (fj > (double)(g.nlat - 1) && !g.polar_n) return false;
    return true;
}

extern "C" __global__ void advance(
    double* __restrict__ lon, double* __restrict__ lat, float* __restrict__ zarr, double* __restrict__ mass,
    const int* __restrict__ birth, signed char* __restrict__ status,
    const float* __restrict__ vec, int g_nlon, int g_nlat, int g_global, int g_ps, int g_pn, int g_nt,
    double g_lon0, double g_dlon, double g_lat0, double g_dlat,
    const int* __restrict__ k0, const double* __restrict__ w0, const int* __restrict__ km, const double* __restrict__ wm,
    int step0, int nsteps, double dt, double kh, double kz, double h, double decay_factor, u64 seed_key,
    int do_sample, double slon0, double sdlon, int snlon, double slat0, double sdlat, int snlat, double layer,
    double* __restrict__ acc, double* __restrict__ decayed, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    Grid g;
    g.nlon = g_nlon; g.nlat = g_nlat; g.global_lon = g_global; g.polar_s = g_ps; g.polar_n = g_pn; g.nt = g_nt;
    g.lon0 = g_lon0; g.dlon = g_dlon; g.lat0 = g_lat0; g.dlat = g_dlat;
    double dec = 0.0;
    if (i < n && status[i] == 0) {
        int first = max(step0, birth[i]);
        if (first < step0 + nsteps) {
            double lo = lon[i], la = lat[i];
            double z = (double)zarr[i];
            double m = mass[i];
            u64 key = mix64(seed_key ^ ((u64)i * GOLDEN));
            double sphi, cphi, slam, clam;
            sincos(la * DEG2RAD, &sphi, &cphi);
            sincos(lo * DEG2RAD, &slam, &clam);
            double px = cphi * clam, py = cphi * slam, pz = sphi;
            const double half = 0.5 * dt / R_EARTH, full = dt / R_EARTH;
            const double sig_h = sqrt(2.0 * kh * dt) / R_EARTH, sig_z = sqrt(2.0 * kz * dt);
            real lo_r = (real)lo, la_r = (real)la;
            bool exited = false;
            for (int step = first; step < step0 + nsteps; ++step) {
                int s = step - step0;
                real vx, vy, vz;
                bool ok1 = interp(vec, g, k0[s], (real)w0[s], lo_r, la_r, &vx, &vy, &vz);
                double d = (double)vx * px + (double)vy * py + (double)vz * pz;
                double qx = px + ((double)vx - d * px) * half;
                double qy = py + ((double)vy - d * py) * half;
                double qz = pz + ((double)vz - d * pz) * half;
                double r = rsqrt(qx * qx + qy * qy + qz * qz);
                qx *= r; qy *= r; qz *= r;
                real lom = (real)ATAN2((real)qy, (real)qx) * (real)RAD2DEG;
                real lam = (real)ASIN(fmin(fmax((real)qz, (real)-1), (real)1)) * (real)RAD2DEG;
                bool ok2 = interp(vec, g, km[s], (real)wm[s], lom, lam, &vx, &vy, &vz);
                d = (double)vx * qx + (double)vy * qy + (double)vz * qz;
                double dx = ((double)vx - d * qx) * full;
                double dy = ((double)vy - d * qy) * full;
                double dz = ((double)vz - d * qz) * full;
                if (kh > 0.0 || kz > 0.0) {
                    u64 base = key + (u64)step * STEP_MULT;
                    real u1 = (real)uniform(base, 1), u2 = (real)uniform(base, 2);
                    real rr = SQRT((real)-2 * LOG(u1));
                    real sn, cs;
                    SINCOS((real)TWO_PI * u2, &sn, &cs);
                    double xi1 = (double)(rr * cs), xi2 = (double)(rr * sn);
                    if (kh > 0.0) {
                        double rh = sqrt(px * px + py * py);
                        if (rh > 1e-12) {
                            double inv = 1.0 / rh;
                            dx += sig_h * (-py * inv * xi1 - pz * px * inv * xi2);
                            dy += sig_h * (px * inv * xi1 - pz * py * inv * xi2);
                            dz += sig_h * (rh * xi2);
                        } else {
                            dy += sig_h * xi1;
                            dx -= sig_h * xi2;
                        }
                    }
                    if (kz > 0.0 && z <= h) {
                        real u3 = (real)uniform(base, 3), u4 = (real)uniform(base, 4);
                        real s3, c3;
                        SINCOS((real)TWO_PI * u4, &s3, &c3);
                        double xi3 = (double)(SQRT((real)-2 * LOG(u3)) * c3);
                        z = fabs(z + sig_z * xi3);
                        if (z > h) z = 2.0 * h - z;
                        z = fmin(fmax(z, 0.0), h);
                        z = (double)(float)z;
                    }
                }
                double nx = px + dx, ny = py + dy, nz = pz + dz;
                r = rsqrt(nx * nx + ny * ny + nz * nz);
                nx *= r; ny *= r; nz *= r;
#if USE_FLOAT
                lo_r = ATAN2((real)ny, (real)nx) * (real)RAD2DEG;
                la_r = ASIN(fmin(fmax((real)nz, (real)-1), (real)1)) * (real)RAD2DEG;
                double lon_n = (double)lo_r, lat_n = (double)la_r;
#else
                double lon_n = atan2(ny, nx) * RAD2DEG;
                double lat_n = asin(fmin(fmax(nz, -1.0), 1.0)) * RAD2DEG;
                lo_r = lon_n; la_r = lat_n;
#endif
                if (!(ok1 && ok2 && inside(g, lon_n, lat_n))) { exited = true; break; }
                double mn = m * decay_factor;
                dec += m - mn;
                m = mn;
                px = nx; py = ny; pz = nz;
                lo = lon_n; la = lat_n;
                if (do_sample && z < layer) {
                    int ci = (int)floor((lo - slon0) / sdlon);
                    int cj = (int)floor((la - slat0) / sdlat);
                    if (ci >= 0 && ci < snlon && cj >= 0 && cj < snlat) atomicAdd(acc + (size_t)cj * snlon + ci, m);
                }
            }
#if USE_FLOAT
            /* exact conversion of the stored state at the end of the call */
            if (!exited) {
                lo = atan2(py, px) * RAD2DEG;
                la = asin(fmin(fmax(pz, -1.0), 1.0)) * RAD2DEG;
            }
#endif
            lon[i] = lo; lat[i] = la; mass[i] = m; zarr[i] = (float)z;
            if (exited) status[i] = 2;
        }
    }
    /* block reduction of the decayed mass, one atomic per block */
    __shared__ double sdec[256];
    sdec[threadIdx.x] = dec;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) sdec[threadIdx.x] += sdec[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0 && sdec[0] != 0.0) atomicAdd(decayed, sdec[0]);
}
""" % {"R": EARTH_RADIUS_M}

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


class CudaBackend:
    """Device-resident particle runs on an NVIDIA GPU through CuPy."""

    name = "cuda"

    def __init__(self, variant: str = "float64") -> None:
        if variant not in VARIANTS:
            raise BackendUnavailableError(f"cuda variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        self.cp = _cupy()
        self.variant = variant
        options = ("-DUSE_FLOAT=1",) if variant == "mixed" else ("-DUSE_FLOAT=0",)
        self._module = self.cp.RawModule(code=_SOURCE, options=("--std=c++14", *options))
        self._kernel = self._module.get_function("advance")
        self._wind_cache: tuple[int, Any] | None = None

    # -- state movement -------------------------------------------------
    def to_device(self, p: Particles) -> Particles:
        cp = self.cp
        return Particles(*(cp.asarray(a) for a in (p.lon, p.lat, p.z, p.mass, p.birth_step, p.status)))

    def to_host(self, p: Particles) -> Particles:
        cp = self.cp
        return Particles(*(cp.asnumpy(a) for a in (p.lon, p.lat, p.z, p.mass, p.birth_step, p.status)))

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.cp.zeros(shape, dtype=self.cp.float64)

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(self.cp.asnumpy(a))

    def count_active(self, p: Particles, n_born: int) -> int:
        return int(self.cp.count_nonzero(p.status[:n_born] == 0))

    def _wind(self, wind: WindGrid) -> Any:
        if self._wind_cache is None or self._wind_cache[0] != id(wind):
            self._wind_cache = (id(wind), self.cp.asarray(wind.vec))
        return self._wind_cache[1]

    # -- the step -------------------------------------------------------
    def advance(
        self,
        particles: Particles,
        wind: WindGrid,
        physics: StepPhysics,
        step0: int,
        nsteps: int,
        sampler: OutputSampler | None = None,
    ) -> float:
        """Advance device-resident ``particles`` (see :meth:`to_device`); host
        particles are copied in and back."""
        cp = self.cp
        on_host = isinstance(particles.lon, np.ndarray)
        dev = self.to_device(particles) if on_host else particles
        dt = physics.dt_s
        t_start = (np.arange(step0, step0 + nsteps) * dt).astype(np.float64)
        k0, w0 = wind.time_index(t_start)
        km, wm = wind.time_index(t_start + 0.5 * dt)
        grid = (
            np.int32(wind.nlon), np.int32(wind.nlat), np.int32(wind.global_lon), np.int32(wind.polar_south),
            np.int32(wind.polar_north), np.int32(wind.vec.shape[0]),
            np.float64(wind.lon0), np.float64(wind.dlon), np.float64(wind.lat0), np.float64(wind.dlat),
        )
        decayed = cp.zeros(1, cp.float64)
        if sampler is not None:
            acc = sampler.acc if not isinstance(sampler.acc, np.ndarray) else cp.asarray(sampler.acc)
            sp = (1, sampler.lon0, sampler.dlon, sampler.nlon, sampler.lat0, sampler.dlat, sampler.nlat,
                  sampler.layer_depth_m)
        else:
            acc = cp.zeros(1, cp.float64)
            sp = (0, 0.0, 1.0, 0, 0.0, 1.0, 0, 0.0)
        n = len(dev)
        from plumecast.transport.kernels_numba import _seed_key

        args = (
            dev.lon, dev.lat, dev.z, dev.mass, dev.birth_step, dev.status,
            self._wind(wind), *grid,
            cp.asarray(k0.astype(np.int32)), cp.asarray(w0), cp.asarray(km.astype(np.int32)), cp.asarray(wm),
            np.int32(step0), np.int32(nsteps), np.float64(dt), np.float64(physics.kh_m2_s),
            np.float64(physics.kz_m2_s), np.float64(physics.mixing_height_m),
            np.float64(math.exp(-physics.decay_rate_s * dt)), np.uint64(_seed_key(physics.seed)),
            np.int32(sp[0]), np.float64(sp[1]), np.float64(sp[2]), np.int32(sp[3]), np.float64(sp[4]),
            np.float64(sp[5]), np.int32(sp[6]), np.float64(sp[7]),
            acc, decayed, np.int64(n),
        )
        blocks = (n + _THREADS - 1) // _THREADS
        if blocks > 0:
            self._kernel((blocks,), (_THREADS,), args)
        if sampler is not None and isinstance(sampler.acc, np.ndarray):
            sampler.acc[...] = cp.asnumpy(acc)
        if on_host:
            host = self.to_host(dev)
            for name in ("lon", "lat", "z", "mass", "status"):
                getattr(particles, name)[...] = getattr(host, name)
        return float(decayed.get()[0])


_BACKENDS: dict[str, CudaBackend] = {}


def get_backend(variant: str = "float64") -> CudaBackend:
    """The (cached) CUDA backend of a variant; raises BackendUnavailableError
    when CuPy or a CUDA device is missing."""
    if variant not in _BACKENDS:
        _BACKENDS[variant] = CudaBackend(variant)
    return _BACKENDS[variant]


def get_advance(variant: str = "float64") -> Any:
    """The ``advance`` function of the CUDA backend (host or device particles)."""
    return get_backend(variant).advance
