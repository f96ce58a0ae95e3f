"""The 3-D physics of :mod:`kernels_numpy` in CUDA C: winds on levels, vertical
advection, a boundary layer from the met and deposition (used by
:class:`plumecast.transport.kernels_cuda.CudaBackend`; see its module docstring for
what was tested).

One thread per particle, all the steps of a call in registers, as the single-level
kernel. The arithmetic follows the numba kernel's 3-D path
(:func:`plumecast.transport.kernels_numba_step._step`) and the oracle: the pair of levels
from the height at the start of the step through :meth:`WindGrid.level_params`'s
lookup table, each grid corner's two levels blended before the bilinear sum (the order
of the numba kernel, whose midpoint reuses the start's corner values; the CUDA kernel
reads both in full), the log law below the lowest level, ``w`` at the midpoint, the
boundary layer's :func:`~plumecast.transport.boundary_layer.vertical_step` and
:func:`~plumecast.transport.boundary_layer.removal_factors` (with the resistance model's
:func:`~plumecast.transport.boundary_layer.dry_velocity`,
:func:`~plumecast.transport.boundary_layer.dry_velocity_mosaic` and
:func:`~plumecast.transport.boundary_layer.surface_resistance_met`) written out in C below
(their constants and profile table come from that module, not copied), with the
same counter-based random numbers (:mod:`plumecast.transport.rng`).

The module is compiled with ``--fmad=false``: no multiply-add contraction, so the
boundary layer's Metropolis acceptance test and the deposition factors round as the
NumPy twins do (the numba kernel compiles its boundary-layer wrappers without
contraction for the same reason); the single-level kernels keep contraction.

Device layout: the wind and ``w`` of a node as one ``float4`` (vx, vy, vz, w) per
level, the levels of a node adjacent, ``(time, lat, lon, nz)``, so that the level
pair of a corner is 32 contiguous bytes; the boundary-layer fields as two ``float4``
per node, ``(time, lat, lon, 2)`` (:data:`SURFACE_FIELDS`, the solar irradiance and
surface temperature of ``WindGrid.stomata``, then the land fraction of ``WindGrid.land``;
``WindGrid.dry_velocity`` in the irradiance's place where the grid has it, ``res_on`` 2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from plumecast.transport import boundary_layer as bl
from plumecast.transport.windgrid import WindGrid

#: names of the boundary-layer constants substituted into the source (``@NAME@``)
_BL_CONSTANTS = ("SIGMA_W_FLOOR", "T_LW_MIN_S", "USTAR_MIN", "NEUTRAL", "UNSTABLE", "STABLE", "WELL_MIXED_RATIO",
                 "SUBSTEP_RATIO", "MAX_SUBSTEPS", "FIRST_UNIFORM", "DRY_DEPOSITION_LAYER_M", "WET_COLUMN_TOP_M",
                 "TABLE_N", "TABLE_EXACT_BELOW", "F_UNSTABLE_MAX", "G_STABLE_MAX", "Y_NEUTRAL_PEAK",
                 "_E_NEUTRAL_PEAK", "_TWO_THIRDS", "DRY_REFERENCE_HEIGHT_M", "VON_KARMAN",
                 "MIN_SURFACE_RESISTANCE_S_M", "TROPICS_EDGE_DEG", "BAND_WIDTH")

_SOURCE_3D = r"""
/* ---------------- 3-D physics (float64): see kernels_cuda_3d ---------------- */
/* follows the single-level source and uses its helpers (the grid lookup, the step's midpoint, diffusion
   and end point, the random numbers, sampling) and its argument groups */
/* the lower level, weight of the level above and log-law factor (kernels_numba_3d._level) */
__device__ __forceinline__ void level_of(double z, const double* __restrict__ zm, const double* __restrict__ zinv,
                                         const int* __restrict__ ztab, int ntab, double zp0, double zp1, double zp2,
                                         int nz, int* lev, double* c, double* f) {
    *lev = 0; *c = 0.0; *f = 1.0;
    if (nz == 1) return;
    if (z >= zm[nz - 1]) { *lev = nz - 1; return; }
    if (z < zm[0]) { *f = log(fmax(z, zp2) / zp2) * zp1; return; }
    int l = ztab[min((int)(z * zp0), ntab - 1)];
    while (l < nz - 2 && z >= zm[l + 1]) ++l;
    while (l > 0 && z < zm[l]) --l;  /* z / dz rounded up into the next table cell */
    *lev = l; *c = (z - zm[l]) * zinv[l];
}

/* a corner's value between its two levels (weight c of the upper one) */
__device__ __forceinline__ double lev2(float a, float u, double c) { return (1.0 - c) * (double)a + c * (double)u; }

/* the bilinear sum of four corner values in double, in bil's order */
__device__ __forceinline__ double bild(const Corners<double>& q, double a00, double a01, double a10, double a11) {
    return q.w00 * a00 + q.w01 * a01 + q.w10 * a10 + q.w11 * a11;
}

/* wind and w of record k at the level weights (kernels_numba_3d._read3 reads the same for
   records k and k + 1, from its own layout with the records side by side): each corner's
   two levels blended first, then the corners (the order of the numba kernel, whose step
   midpoint reuses the start's corner values, kernels_numba_batch._mid_wind_slots, and of the oracle) */
__device__ __forceinline__ void record3(const float4* __restrict__ wv, int k, size_t plane, int nz, int lev,
                                        double c, const Corners<double>& q, bool want_w, double* o) {
    size_t kb = (size_t)k * plane;
    const float4 *b00 = wv + (kb + q.o00) * nz + lev, *b01 = wv + (kb + q.o01) * nz + lev;
    const float4 *b10 = wv + (kb + q.o10) * nz + lev, *b11 = wv + (kb + q.o11) * nz + lev;
    float4 a00 = __ldg(b00), a01 = __ldg(b01), a10 = __ldg(b10), a11 = __ldg(b11);
    if (c > 0.0) {
        float4 u00 = __ldg(b00 + 1), u01 = __ldg(b01 + 1), u10 = __ldg(b10 + 1), u11 = __ldg(b11 + 1);
        o[0] = bild(q, lev2(a00.x, u00.x, c), lev2(a01.x, u01.x, c), lev2(a10.x, u10.x, c), lev2(a11.x, u11.x, c));
        o[1] = bild(q, lev2(a00.y, u00.y, c), lev2(a01.y, u01.y, c), lev2(a10.y, u10.y, c), lev2(a11.y, u11.y, c));
        o[2] = bild(q, lev2(a00.z, u00.z, c), lev2(a01.z, u01.z, c), lev2(a10.z, u10.z, c), lev2(a11.z, u11.z, c));
        o[3] = want_w ? bild(q, lev2(a00.w, u00.w, c), lev2(a01.w, u01.w, c), lev2(a10.w, u10.w, c),
                             lev2(a11.w, u11.w, c)) : 0.0;
    } else {
        o[0] = bil(q, a00.x, a01.x, a10.x, a11.x);
        o[1] = bil(q, a00.y, a01.y, a10.y, a11.y);
        o[2] = bil(q, a00.z, a01.z, a10.z, a11.z);
        o[3] = want_w ? bil(q, a00.w, a01.w, a10.w, a11.w) : 0.0;
    }
}

/* wind on levels: each record at the height, linear in time, then the log law (kernels_numba_3d._read3) */
__device__ __forceinline__ void wind3(const float4* __restrict__ wv, const Grid& g, int nz, int k, double w,
                                      int lev, double c, double f, const Corners<double>& q, bool want_w, double* o) {
    size_t plane = (size_t)g.nlat * g.nlon;
    record3(wv, k, plane, nz, lev, c, q, want_w, o);
    if (w > 0.0) {
        double u[4];
        record3(wv, min(k + 1, g.nt - 1), plane, nz, lev, c, q, want_w, u);
        for (int j = 0; j < 4; ++j) o[j] = (1.0 - w) * o[j] + w * u[j];
    }
    if (f != 1.0) for (int j = 0; j < 4; ++j) o[j] *= f;
}

/* boundary-layer fields (h, u*, 1/L, w*, precipitation) at the corners, linear in time */
__device__ __forceinline__ void surface(const float4* __restrict__ sf, const Grid& g, int k, double w,
                                        const Corners<double>& q, bool precip, bool stomata, bool land,
                                        double* o) {
    size_t plane = (size_t)g.nlat * g.nlon;
    for (int r = 0; r < 2; ++r) {
        size_t kb = (size_t)(r == 0 ? k : min(k + 1, g.nt - 1)) * plane;
        float4 a00 = __ldg(sf + (kb + q.o00) * 2), a01 = __ldg(sf + (kb + q.o01) * 2);
        float4 a10 = __ldg(sf + (kb + q.o10) * 2), a11 = __ldg(sf + (kb + q.o11) * 2);
        double v[8];
        v[0] = bil(q, a00.x, a01.x, a10.x, a11.x);
        v[1] = bil(q, a00.y, a01.y, a10.y, a11.y);
        v[2] = bil(q, a00.z, a01.z, a10.z, a11.z);
        v[3] = bil(q, a00.w, a01.w, a10.w, a11.w);
        /* precipitation, solar irradiance, surface temperature, land fraction: read only where asked */
        v[4] = v[5] = v[6] = 0.0;
        v[7] = 1.0;
        if (precip || stomata || land) {
            float4 b00 = __ldg(sf + (kb + q.o00) * 2 + 1), b01 = __ldg(sf + (kb + q.o01) * 2 + 1);
            float4 b10 = __ldg(sf + (kb + q.o10) * 2 + 1), b11 = __ldg(sf + (kb + q.o11) * 2 + 1);
            if (precip) v[4] = bil(q, b00.x, b01.x, b10.x, b11.x);
            v[5] = bil(q, b00.y, b01.y, b10.y, b11.y);
            v[6] = bil(q, b00.z, b01.z, b10.z, b11.z);
            if (land) v[7] = bil(q, b00.w, b01.w, b10.w, b11.w);
        }
        if (r == 0) {
            for (int j = 0; j < 8; ++j) o[j] = v[j];
            if (!(w > 0.0)) return;
        } else {
            for (int j = 0; j < 8; ++j) o[j] = (1.0 - w) * o[j] + w * v[j];
        }
    }
}

/* --- boundary_layer.py's scalar functions, same arithmetic in the same order --- */
#define BL_FLOOR @SIGMA_W_FLOOR@
#define BL_TLW_MIN @T_LW_MIN_S@
#define BL_USTAR_MIN @USTAR_MIN@
#define BL_DRY_REF @DRY_REFERENCE_HEIGHT_M@
#define BL_MIN_RC @MIN_SURFACE_RESISTANCE_S_M@
#ifdef PLUMECAST_HOST
#define BL_INF INFINITY
#else
#define BL_INF __longlong_as_double(0x7ff0000000000000LL)
#endif
#define BL_KARMAN @VON_KARMAN@
#define BL_TROPICS_EDGE_DEG @TROPICS_EDGE_DEG@
#define BL_BAND_WIDTH @BAND_WIDTH@
#define BL_NEUTRAL @NEUTRAL@
#define BL_UNSTABLE @UNSTABLE@
#define BL_STABLE @STABLE@
#define BL_WELL_MIXED @WELL_MIXED_RATIO@
#define BL_SUBSTEP_RATIO @SUBSTEP_RATIO@
#define BL_MAX_SUBSTEPS @MAX_SUBSTEPS@
#define BL_FIRST_UNIFORM @FIRST_UNIFORM@
#define BL_DRY_LAYER @DRY_DEPOSITION_LAYER_M@
#define BL_WET_TOP @WET_COLUMN_TOP_M@
#define BL_TABLE_N @TABLE_N@
#define BL_TABLE_EXACT_BELOW @TABLE_EXACT_BELOW@
#define BL_F_UNSTABLE_MAX @F_UNSTABLE_MAX@
#define BL_G_STABLE_MAX @G_STABLE_MAX@
#define BL_Y_PEAK @Y_NEUTRAL_PEAK@
#define BL_E_PEAK @_E_NEUTRAL_PEAK@
#define BL_TWO_THIRDS @_TWO_THIRDS@

/* stability_regime */
__device__ __forceinline__ int bl_regime(double h, double inv_l) {
    if (h * fabs(inv_l) < 1.0) return BL_NEUTRAL;
    if (inv_l < 0.0) return BL_UNSTABLE;
    return BL_STABLE;
}

/* _table: column col of PROFILE_TABLE ((TABLE_N + 1, 4), row-major) at zeta */
__device__ __forceinline__ double bl_table(const double* __restrict__ tab, double zeta, int col) {
    if (zeta < BL_TABLE_EXACT_BELOW && col != 1) {
        double zc = fmax(zeta, 0.0);
        if (col == 0) return (1.0 - 0.9 * zc) * pow(zc, BL_TWO_THIRDS);
        return pow(zc, 0.8);
    }
    double f = fmin(zeta, 1.0) * BL_TABLE_N;
    int i = min((int)f, BL_TABLE_N - 1);
    double a = __ldg(tab + 4 * i + col);
    return a + (f - (double)i) * (__ldg(tab + 4 * (i + 1) + col) - a);
}

/* kz_profile (Hanna 1982; see boundary_layer.py for the formulas' sources) */
__device__ double bl_kz(const double* __restrict__ tab, double z, double h, double ustar, double inv_l,
                        double wstar, int regime) {
    double zeta = z / h, sw, ell;
    if (regime == BL_NEUTRAL) {
        double u = fmax(ustar, BL_USTAR_MIN);
        double y = z / u;
        sw = 1.3 * u * exp(-2e-4 * y) + BL_FLOOR;
        ell = 0.5 * z / (1.0 + 1.5e-3 * y);
    } else if (regime == BL_UNSTABLE) {
        double var = 1.2 * wstar * wstar * bl_table(tab, zeta, 0) + (1.8 - 1.4 * zeta) * ustar * ustar;
        sw = sqrt(fmax(var, 0.0)) + BL_FLOOR;
        double x = z * fabs(inv_l);
        ell = x < 1.0 ? 0.1 * z / (0.55 - 0.38 * x) : 0.59 * z;
        ell = fmin(ell, h * bl_table(tab, zeta, 1));
    } else {
        sw = BL_FLOOR + 1.3 * ustar * fmax(1.0 - zeta, 0.0);
        ell = 0.1 * h * bl_table(tab, zeta, 2);
    }
    return sw * fmax(ell, BL_TLW_MIN * sw);
}

/* kz_bounds */
__device__ void bl_kz_bounds(const double* __restrict__ tab, double h, double ustar, double wstar, int regime,
                             double* k_lo, double* k_hi) {
    double s_min, s_max, top;
    if (regime == BL_NEUTRAL) {
        double u = fmax(ustar, BL_USTAR_MIN);
        double yh = h / u;
        s_min = 1.3 * u * fmax(1.0 - 2e-4 * yh, 0.0) + BL_FLOOR;
        s_max = 1.3 * u + BL_FLOOR;
        if (yh > BL_Y_PEAK) {
            top = (1.3 * u * BL_E_PEAK * 0.5 * u * BL_Y_PEAK / (1.0 + 1.5e-3 * BL_Y_PEAK)
                   + BL_FLOOR * 0.5 * h / (1.0 + 1.5e-3 * yh));
        } else {
            top = (1.3 * u / (1.0 + 2e-4 * yh) + BL_FLOOR) * 0.5 * h / (1.0 + 1.5e-3 * yh);
        }
    } else if (regime == BL_UNSTABLE) {
        double a = 1.2 * wstar * wstar, b = ustar * ustar;
        s_max = sqrt(BL_F_UNSTABLE_MAX * a + 1.8 * b) + BL_FLOOR;
        s_min = sqrt(fmin(1.8 * b, 0.1 * a + 0.4 * b)) + BL_FLOOR;
        top = s_max * h * __ldg(tab + 4 * BL_TABLE_N + 1);
    } else {
        s_max = 1.3 * ustar + BL_FLOOR;
        s_min = BL_FLOOR;
        top = 0.1 * h * (BL_FLOOR + 1.3 * ustar * BL_G_STABLE_MAX);
    }
    *k_lo = BL_TLW_MIN * s_min * s_min;
    *k_hi = fmax(top, BL_TLW_MIN * s_max * s_max);
}

/* _round_below: the float32 nearest z, but not above h */
__device__ __forceinline__ double bl_round_below(double z, double h) {
    float zr = (float)z;
    if ((double)zr > h) {
        zr = nextafterf((float)h, 0.0f);
        if ((double)zr > h) zr = nextafterf(zr, 0.0f);
    }
    return (double)zr;
}

/* vertical_step */
__device__ double bl_vertical_step(const double* __restrict__ tab, double z, double h, double ustar, double inv_l,
                                   double wstar, double kz_const, double kz_free, double dt, double xi, u64 base) {
    if (ustar < 0.0) {
        if (z <= h) {
            double two_h = 2.0 * h;
            z = z + sqrt(2.0 * kz_const * dt) * xi;
            z = z - two_h * floor(z / two_h);
            if (z > h) z = two_h - z;
            z = fmin(fmax(z, 0.0), h);
        }
        return (double)(float)z;
    }
    if (z > h || h <= 0.0) return (double)(float)fabs(z + sqrt(2.0 * kz_free * dt) * xi);
    int regime = bl_regime(h, inv_l);
    double k_lo, k_hi;
    bl_kz_bounds(tab, h, ustar, wstar, regime, &k_lo, &k_hi);
    /* substeps */
    double hh = h * h;
    if (k_lo * dt >= BL_WELL_MIXED * hh) return bl_round_below(h * uniform53(base, BL_FIRST_UNIFORM), h);
    double xk = k_hi * dt, sub = BL_SUBSTEP_RATIO * hh;
    int n = 1;
    while (n < BL_MAX_SUBSTEPS && xk > (double)n * sub) ++n;
    double c6 = n == 1 ? 6.0 * dt : 6.0 * dt / (double)n;
    double s2 = fmin(c6 * k_hi, h * h);
    double s = sqrt(s2), two_h = 2.0 * h;
    for (int k = 0; k < n; ++k) {
        double x = z + s * (2.0 * uniform53(base, BL_FIRST_UNIFORM + 2 * k) - 1.0);
        if (x < 0.0) x = -x; else if (x > h) x = two_h - x;
        x = fmin(fmax(x, 0.0), h);
        if (uniform53(base, BL_FIRST_UNIFORM + 2 * k + 1) * s2
                <= c6 * bl_kz(tab, 0.5 * (z + x), h, ustar, inv_l, wstar, regime)) z = x;
    }
    return bl_round_below(z, h);
}

/* dry_velocity: the resistance model's 1 / (r_a + r_b + r_c) */
__device__ __forceinline__ double bl_psi_h(double zeta) {
    if (zeta >= 0.0) return -5.0 * zeta;
    return 2.0 * log(0.5 * (1.0 + sqrt(1.0 - 16.0 * zeta)));
}
__device__ __forceinline__ double bl_ra_rb(double ustar, double inv_l, double z0, double rb_u) {
    double u = fmax(ustar, BL_USTAR_MIN), zr = BL_DRY_REF, z0c = fmin(z0, 0.5 * zr);
    double ra = (log(zr / z0c) - bl_psi_h(zr * inv_l) + bl_psi_h(z0c * inv_l)) / (BL_KARMAN * u);
    return fmax(ra, 0.0) + rb_u / u;
}
__device__ __forceinline__ double bl_dry_velocity(double ustar, double inv_l, double z0, double rc, double rb_u) {
    return 1.0 / (bl_ra_rb(ustar, inv_l, z0, rb_u) + rc);
}
/* dry_velocity_mosaic: land fraction f at r_c, the rest at the water's r_c */
__device__ __forceinline__ double bl_dry_velocity_mosaic(double ustar, double inv_l, double z0, double rc,
                                                         double rcw, double land, double rb_u) {
    double rab = bl_ra_rb(ustar, inv_l, z0, rb_u), f = fmin(fmax(land, 0.0), 1.0);
    return f / (rab + rc) + (1.0 - f) / (rab + rcw);
}

/* season_band: 0 north of the tropics, 1 the tropics, 2 south of them */
__device__ __forceinline__ int bl_season_band(double lat) {
    return lat >= BL_TROPICS_EDGE_DEG ? 0 : (lat <= -BL_TROPICS_EDGE_DEG ? 2 : 1);
}

/* surface_resistance_met: r_c at the solar irradiance g and surface temperature t; rt: its six terms */
__device__ __forceinline__ double bl_surface_resistance(double g, double t, const double* __restrict__ rt) {
    double r_s = BL_INF;
    if (t > 0.0 && t < 40.0) {
        double q = 200.0 / (g + 0.1);
        r_s = rt[0] * (1.0 + q * q) * (400.0 / (t * (40.0 - t)));
    }
    double cold = 1000.0 * exp(-t - 4.0);
    double r_dc = 100.0 * (1.0 + 1000.0 / (g + 10.0));
    double cond = 1.0 / (r_s + rt[1]) + 1.0 / (rt[2] + cold) + 1.0 / (r_dc + (rt[3] + cold))
                  + 1.0 / (rt[5] + (rt[4] + cold));
    if (cond == 0.0) return BL_INF;
    return fmax(1.0 / cond, BL_MIN_RC);
}

/* removal_factors: (f_dry, f_wet) */
__device__ __forceinline__ void bl_removal(double z, double h, double vd, double pr, double sa, double sb,
                                           double dt, double* fd, double* fw) {
    *fd = 1.0;
    if (vd > 0.0) {
        double zd = fmax(BL_DRY_LAYER, 2.0 * vd * dt);
        if (h > 0.0) zd = fmin(zd, h);
        if (z <= zd) {
            double p = h > 0.0 ? (h / zd) * (1.0 - exp(-vd * dt / h)) : vd * dt / zd;
            *fd = fmax(1.0 - p, 0.0);
        }
    }
    *fw = 1.0;
    if (pr > 0.0 && sa > 0.0 && z <= fmax(h, BL_WET_TOP)) *fw = exp(-sa * pow(pr, sb) * dt);
}

#ifdef PLUMECAST_HOST
#define EPILOGUE_3D \
    if (dec != 0.0) atomicAdd(sums, dec); \
    if (dry != 0.0) atomicAdd(sums + 1, dry); \
    if (wet != 0.0) atomicAdd(sums + 2, wet);
#else
/* block reduction of the decayed, dry- and wet-deposited masses: three atomics per block */
#define EPILOGUE_3D \
    __shared__ double s3[3][256]; \
    s3[0][threadIdx.x] = dec; s3[1][threadIdx.x] = dry; s3[2][threadIdx.x] = wet; \
    __syncthreads(); \
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) { \
        if (threadIdx.x < stride) { \
            s3[0][threadIdx.x] += s3[0][threadIdx.x + stride]; \
            s3[1][threadIdx.x] += s3[1][threadIdx.x + stride]; \
            s3[2][threadIdx.x] += s3[2][threadIdx.x + stride]; \
        } \
        __syncthreads(); \
    } \
    if (threadIdx.x == 0) { \
        if (s3[0][0] != 0.0) atomicAdd(sums, s3[0][0]); \
        if (s3[1][0] != 0.0) atomicAdd(sums + 1, s3[1][0]); \
        if (s3[2][0] != 0.0) atomicAdd(sums + 2, s3[2][0]); \
    }
#endif

extern "C" __global__ void advance3d_f64(
    PARTICLE_ARGS, const float4* __restrict__ wv, const float4* __restrict__ sf, GRID_ARGS,
    int nz, const double* __restrict__ zm, const double* __restrict__ zinv, const int* __restrict__ ztab, int ntab,
    double zp0, double zp1, double zp2, STEP_ARGS,
    int has_w, int has_sfc, int deposits, double kz_free, double vd, int res_on, double rb_u, int met_rc,
    const double* __restrict__ rtab, double scav_a, double scav_b,
    const double* __restrict__ tab, SAMPLE_ARGS, int do_dep, double* __restrict__ dep, double* __restrict__ sums,
    long long n) {
    THREAD_AND_GRID
    double dec = 0.0, dry = 0.0, wet = 0.0;
    const double half = 0.5 * dt / R_EARTH, full = dt / R_EARTH;
    const double sig_h = sqrt(2.0 * kh * dt) / R_EARTH, sig_z = sqrt(2.0 * kz * dt);
    const bool randoms = kh > 0.0 || kz > 0.0 || has_sfc;
    const bool precip = has_sfc && scav_a > 0.0;
    const int first = first_step(i, n, status, birth, step0, nsteps);
    if (first >= 0) {
        double lo = lon[i], la = lat[i], z = (double)zarr[i], m = mass[i], px, py, pz;
        unit_vector(lo, la, &px, &py, &pz);
        const u64 key = particle_key(seed_key, pid[i]);
        bool exited = false;
        for (int step = first; step < step0 + nsteps; ++step) {
            int s = step - step0;
            int lev; double cz, fz;
            level_of(z, zm, zinv, ztab, ntab, zp0, zp1, zp2, nz, &lev, &cz, &fz);
            Corners<double> c1, c2;
            bool ok1 = corners<double>(g, lo, la, &c1);
            double v[4];
            wind3(wv, g, nz, k0[s], w0[s], lev, cz, fz, c1, false, v);
            double met[8] = {h, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0};
            if (has_sfc) {
                surface(sf, g, k0[s], w0[s], c1, precip, met_rc != 0 || res_on == 2, res_on == 1 && rtab[7] > 0.0, met);
            }
            double qx, qy, qz, lom, lam;
            midpoint(lo, la, px, py, pz, v[0], v[1], v[2], half, &qx, &qy, &qz, &lom, &lam);
            bool ok2 = corners<double>(g, lom, lam, &c2);
            wind3(wv, g, nz, km[s], wm[s], lev, cz, fz, c2, has_w != 0, v);
            double vx = v[0], vy = v[1], vz = v[2];
            double d = vx * qx + vy * qy + vz * qz;
            double dx = (vx - d * qx) * full, dy = (vy - d * qy) * full, dz = (vz - d * qz) * full;
            u64 base = key + (u64)step * STEP_MULT;
            horizontal_diffusion(base, kh, sig_h, age_gain(hgain, ngain, step, birth[i]), px, py, pz, &dx, &dy, &dz);
            double xi3 = randoms ? normal_z(key, step) : 0.0;
            /* vertical: advection by w (reflected at the ground), then turbulence */
            double zn = z;
            if (has_w) {
                zn = zn + v[3] * dt;
                if (zn < 0.0) zn = -zn;
            }
            if (has_sfc) {
                zn = bl_vertical_step(tab, zn, met[0], met[1], met[2], met[3], kz, kz_free, dt, xi3, base);
            } else if (kz > 0.0 && zn <= h) {
                vertical(&zn, h, sig_z, xi3);
            }
            zn = (double)(float)zn;
            double fd = 1.0, fw = 1.0;
            if (deposits) {
                double vdn = vd;
                if (res_on == 2 && has_sfc) {
                    vdn = met[5];  /* v_d of the cells' land uses, packed in the irradiance's slot */
                } else if (res_on && has_sfc) {
                    /* the row of the particle's latitude band (its season): r_c of the land, its
                       terms, r_c of water, its terms (ResistanceModel.table) */
                    const double* row = rtab + BL_BAND_WIDTH * bl_season_band(la);
                    double rcn = met_rc ? bl_surface_resistance(met[5], met[6], row + 1) : row[0];
                    if (row[7] > 0.0) {  /* the land-water mosaic */
                        double rwn = met_rc ? bl_surface_resistance(met[5], met[6], row + 8) : row[7];
                        vdn = bl_dry_velocity_mosaic(met[1], met[2], zp2, rcn, rwn, met[7], rb_u);
                    } else {
                        vdn = bl_dry_velocity(met[1], met[2], zp2, rcn, rb_u);
                    }
                }
                bl_removal(zn, met[0], vdn, met[4], scav_a, scav_b, dt, &fd, &fw);
            }
            double nx, ny, nz_, lon_n, lat_n;
            end_point(lo, la, px, py, pz, dx, dy, dz, &nx, &ny, &nz_, &lon_n, &lat_n);
            if (!(ok1 && ok2 && inside(g, lon_n, lat_n))) { exited = true; break; }
            double mn = m * decay_factor;
            dec += m - mn;
            if (deposits) {
                double md = mn * fd, mw = md * fw;
                dry += mn - md;
                wet += md - mw;
                if (do_dep && mn != mw) add_to_cell(dep, lon_n, lat_n, slon0, sdlon, snlon, slat0, sdlat, snlat,
                                                    mn - mw);
                mn = mw;
            }
            m = mn;
            z = zn;
            px = nx; py = ny; pz = nz_;
            lo = lon_n; la = lat_n;
            sample(acc, do_sample, z, layer, lo, la, slon0, sdlon, snlon, slat0, sdlat, snlat, m);
        }
        store_state(lon, lat, mass, zarr, status, i, px, py, pz, m, z, exited);
    }
    EPILOGUE_3D
}
"""


def source_3d() -> str:
    """The CUDA C of the 3-D kernel (to follow the single-level source, whose
    helpers it uses), with the boundary-layer constants of
    :mod:`plumecast.transport.boundary_layer` written in."""
    src = _SOURCE_3D
    for name in _BL_CONSTANTS:
        src = src.replace(f"@{name}@", repr(getattr(bl, name)))
    return src


def profile_table() -> NDArray[np.float64]:
    """The boundary layer's profile table, (TABLE_N + 1, 4) float64, C order."""
    return np.ascontiguousarray(bl.PROFILE_TABLE, dtype=np.float64)


def level_arrays(wind: WindGrid) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32],
                                          NDArray[np.float64]]:
    """:meth:`WindGrid.level_params` with the table as int32."""
    zm, zinv, ztab, zpar = wind.level_params()
    return (np.ascontiguousarray(zm, np.float64), np.ascontiguousarray(zinv, np.float64),
            np.ascontiguousarray(ztab, np.int32), np.asarray(zpar, np.float64))
