"""NumPy reference kernel: the oracle the compiled backends are tested against.

One time step for all particles at once (vectorised over particles, a Python loop
over steps). The physics, shared by every backend:

* advection: explicit midpoint (RK2) step on the unit sphere in 3-D Cartesian
  coordinates, ``p' = N(p + V(p_mid, t + dt/2) dt / R)`` with ``N`` the normalisation
  onto the sphere and ``V`` the pole-safe interpolated wind (see
  :mod:`plumecast.transport.windgrid`); the midpoint ``p_mid`` is taken in the local
  tangent plane away from the poles and on the sphere near them (:func:`midpoint`),
  so ``1 / cos φ`` never exceeds ~5.8.
* horizontal turbulence: random displacement ``sqrt(2 K_h dt) (ξ1 e + ξ2 n)`` in the
  local tangent plane, added to the final step (Fickian random walk; e.g. Stohl et al.
  2005, sect. 4).
* vertical mixing: random walk ``sqrt(2 K_z dt) ξ3`` for particles inside the mixed
  layer, reflected at the ground and at the mixing height ``h`` as often as the step
  needs (:func:`fold_into_layer`: the position folded into [0, h], the method of
  images for two reflecting walls; Wilson & Flesch 1993, Boundary-Layer Meteorol. 65,
  323, reflection for a homogeneous K). A step longer than ``h`` therefore keeps a
  well-mixed layer well mixed (Thomson 1987, J. Fluid Mech. 180, 529) instead of
  piling particles up at a wall; particles released above ``h`` are not mixed.
* decay: first order, ``m <- m exp(-k dt)``; the removed mass is counted.
* sampling: after each step, the mass of particles below ``layer_depth`` is added to
  their output-grid cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.transport import rng
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED, Particles
from plumecast.transport.windgrid import WindGrid
from plumecast.units import EARTH_RADIUS_M


def fold_into_layer(z: NDArray[np.float64], h: float) -> NDArray[np.float64]:
    """Height ``z`` [m] after reflections at 0 and ``h`` [m], as many as it takes.

    Reflecting walls at 0 and ``h`` map a free displacement to ``r = z mod 2h``,
    folded back (``2h - r``) where ``r > h`` (the method of images; e.g. Wilson &
    Flesch 1993, Boundary-Layer Meteorol. 65, 323). The compiled kernels do the
    same arithmetic: ``r = z - 2h floor(z / 2h)``, then the fold, then a clip to
    [0, h] against rounding.
    """
    two_h = 2.0 * h
    r = z - two_h * np.floor(z / two_h)
    r = np.where(r > h, two_h - r, r)
    return np.clip(r, 0.0, h)


@dataclass
class StepPhysics:
    """Constants of one kernel call (SI units)."""

    dt_s: float
    kh_m2_s: float = 0.0
    kz_m2_s: float = 0.0
    mixing_height_m: float = 1000.0
    decay_rate_s: float = 0.0
    seed: int = 0


@dataclass
class OutputSampler:
    """Accumulates particle mass below ``layer_depth_m`` in output-grid cells.

    ``acc`` (lat, lon) float64 holds the sum over sampled steps of the mass in each
    cell [kg]; the orchestrator divides by the number of samples, the cell area and
    the layer depth to obtain a mean concentration.
    """

    lon0: float
    dlon: float
    nlon: int
    lat0: float
    dlat: float
    nlat: int
    layer_depth_m: float
    acc: NDArray[np.float64]
    #: per-particle emission tag (see plumecast.exposure) when ``acc`` is
    #: ``(tag, lat, lon)``: each tag's mass is accumulated apart (CPU backends only)
    particle_tag: NDArray[np.int32] | None = None

    @property
    def n_tags(self) -> int:
        return 1 if self.particle_tag is None else int(self.acc.shape[0])

    @property
    def float_params(self) -> NDArray[np.float64]:
        return np.array([self.lon0, self.dlon, self.lat0, self.dlat, self.layer_depth_m], np.float64)

    @property
    def int_params(self) -> NDArray[np.int64]:
        return np.array([self.nlon, self.nlat], np.int64)


def lonlat_to_xyz(lon_deg: NDArray[np.float64], lat_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    lam = np.deg2rad(lon_deg)
    phi = np.deg2rad(lat_deg)
    c = np.cos(phi)
    return np.stack([c * np.cos(lam), c * np.sin(lam), np.sin(phi)])


def xyz_to_lonlat(p: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon = np.rad2deg(np.arctan2(p[1], p[0]))
    lat = np.rad2deg(np.arcsin(np.clip(p[2], -1.0, 1.0)))
    return lon, lat


def _normalise(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return p / np.sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2])


def interpolate_wind(
    wind: WindGrid, k: int, w: float, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Bilinear, linear-in-time interpolation of the Cartesian wind. Returns the
    (3, n) velocity [m s-1] and a mask of points inside the domain."""
    fi = (lon - wind.lon0) / wind.dlon
    inside = np.ones(lon.shape, bool)
    if wind.global_lon:
        fi = fi - np.floor(fi / wind.nlon) * wind.nlon
    else:
        inside &= (fi >= 0.0) & (fi <= wind.nlon - 1)
        fi = np.clip(fi, 0.0, wind.nlon - 1)
    i0 = np.minimum(np.floor(fi).astype(np.int64), wind.nlon - 1)
    a = fi - i0
    i1 = i0 + 1
    i1 = np.where(i1 >= wind.nlon, 0 if wind.global_lon else wind.nlon - 1, i1)
    fj = (lat - wind.lat0) / wind.dlat
    if not wind.polar_south:
        inside &= fj >= 0.0
    if not wind.polar_north:
        inside &= fj <= wind.nlat - 1
    fj = np.clip(fj, 0.0, wind.nlat - 1)
    j0 = np.minimum(np.floor(fj).astype(np.int64), wind.nlat - 1)
    b = fj - j0
    j1 = np.minimum(j0 + 1, wind.nlat - 1)
    k1 = min(k + 1, wind.vec.shape[0] - 1)
    out = np.empty((3, lon.size))
    for c in range(3):
        f0 = wind.vec[k, 0, c].astype(np.float64)
        f1 = wind.vec[k1, 0, c].astype(np.float64)
        v0 = (1 - b) * ((1 - a) * f0[j0, i0] + a * f0[j0, i1]) + b * ((1 - a) * f0[j1, i0] + a * f0[j1, i1])
        v1 = (1 - b) * ((1 - a) * f1[j0, i0] + a * f1[j0, i1]) + b * ((1 - a) * f1[j1, i0] + a * f1[j1, i1])
        out[c] = (1.0 - w) * v0 + w * v1
    return out, inside


#: Below this latitude the midpoint of a step is found in the local tangent plane. [deg]
TANGENT_MIDPOINT_MAX_LAT = 80.0


def midpoint(
    p: NDArray[np.float64], lon: NDArray[np.float64], lat: NDArray[np.float64], v: NDArray[np.float64], half: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Where the midpoint rule samples the wind, and the point whose tangent plane
    the midpoint velocity is projected on. ``half = dt / 2R``. [rad per (m s-1)]

    Away from the poles (|lat| < 80 deg) the midpoint is a step of the eastward and
    northward velocity components in the local tangent plane,
    ``lon_m = lon + u dt / (2 R cos lat)``, ``lat_m = lat + v dt / (2 R)``, and the
    projection uses the start point: both differ from the great-circle midpoint by
    O(dt^2), which keeps the scheme second order and avoids the atan2/asin of the
    exact midpoint (a quarter of the cost of a step on the CPU). Near the poles,
    where 1/cos(lat) is large, the midpoint is the exact one on the sphere,
    ``N(p + V dt / 2R)``, with its own tangent plane.
    """
    rh = np.sqrt(p[0] * p[0] + p[1] * p[1])
    near = (lat >= TANGENT_MIDPOINT_MAX_LAT) | (lat <= -TANGENT_MIDPOINT_MAX_LAT)
    inv = 1.0 / np.where(near, 1.0, rh)
    ue = (p[0] * v[1] - p[1] * v[0]) * inv
    vn = v[2] * rh - (v[0] * p[0] + v[1] * p[1]) * p[2] * inv
    lon_t = lon + ue * half * inv * (180.0 / np.pi)
    lat_t = lat + vn * half * (180.0 / np.pi)
    if not np.any(near):
        return p, lon_t, lat_t
    pm = _normalise(p + _tangent(v, p) * half)
    lon_e, lat_e = xyz_to_lonlat(pm)
    return np.where(near, pm, p), np.where(near, lon_e, lon_t), np.where(near, lat_e, lat_t)


#: Below this latitude the lon/lat of a step's end point are found by expansion. [deg]
EXPANSION_MAX_LAT = 60.0


def end_lonlat(
    p: NDArray[np.float64], lon: NDArray[np.float64], lat: NDArray[np.float64], d: NDArray[np.float64],
    pn: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lon/lat of the end point ``pn = N(p + d)`` of a step, for the next wind lookup.

    ``d`` is the step's displacement on the unit sphere, tangent at ``p``. Below
    |lat| = 60 deg the second-order expansion of the great-circle destination,
    ``lat' = lat + d_n - d_e^2 tan(lat) / 2``, ``lon' = lon + (d_e + d_e d_n tan(lat)) /
    cos(lat)`` (d_e, d_n the eastward and northward components), replaces atan2 and
    asin; its O(d^3) error keeps the lookup point within metres of the particle over a
    call (the particle's position itself, ``pn``, is exact and is converted exactly
    when the call ends). Elsewhere the exact conversion.
    """
    rh = np.sqrt(p[0] * p[0] + p[1] * p[1])
    far = (lat >= EXPANSION_MAX_LAT) | (lat <= -EXPANSION_MAX_LAT)
    inv = 1.0 / np.where(far, 1.0, rh)
    tphi = p[2] * inv
    de = (p[0] * d[1] - p[1] * d[0]) * inv
    dn = d[2] * rh - (d[0] * p[0] + d[1] * p[1]) * p[2] * inv
    lon_t = lon + (de + de * dn * tphi) * inv * (180.0 / np.pi)
    lat_t = lat + (dn - 0.5 * de * de * tphi) * (180.0 / np.pi)
    lon_t = np.where(lon_t >= 180.0, lon_t - 360.0, np.where(lon_t < -180.0, lon_t + 360.0, lon_t))
    if not np.any(far):
        return lon_t, lat_t
    lon_e, lat_e = xyz_to_lonlat(pn)
    return np.where(far, lon_e, lon_t), np.where(far, lat_e, lat_t)


def inside_domain(wind: WindGrid, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Mask of points inside the wind grid (always true on a global grid)."""
    inside = np.ones(np.shape(lon), bool)
    if not wind.global_lon:
        fi = (lon - wind.lon0) / wind.dlon
        inside &= (fi >= 0.0) & (fi <= wind.nlon - 1)
    fj = (lat - wind.lat0) / wind.dlat
    if not wind.polar_south:
        inside &= fj >= 0.0
    if not wind.polar_north:
        inside &= fj <= wind.nlat - 1
    return inside


def _tangent(v: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    d = v[0] * p[0] + v[1] * p[1] + v[2] * p[2]
    return v - d * p


def advance(
    particles: Particles,
    wind: WindGrid,
    physics: StepPhysics,
    step0: int,
    nsteps: int,
    sampler: OutputSampler | None = None,
    receptors: Any = None,
) -> float:
    """Advance ``particles`` in place through steps ``step0 .. step0 + nsteps - 1``.

    Returns the mass removed by decay during these steps. [kg] ``receptors``: an
    :class:`plumecast.exposure.ExposureSampler` given the exact particle positions
    after every step.
    """
    dt = physics.dt_s
    k0, w0, km, wm = wind.step_weights(dt, step0, nsteps)
    decay_factor = np.exp(-physics.decay_rate_s * dt)
    sig_h = np.sqrt(2.0 * physics.kh_m2_s * dt)
    sig_z = np.sqrt(2.0 * physics.kz_m2_s * dt)
    h = physics.mixing_height_m
    keys_all = rng.particle_keys(physics.seed, np.arange(len(particles), dtype=np.int64))
    decayed = 0.0
    # the state within a call: exact positions P on the sphere, and the lon/lat used
    # for the wind lookups (LON, LAT; see end_lonlat); stored lon/lat are converted
    # exactly from P at the end of the call
    touched = (particles.birth_step < step0 + nsteps) & (particles.status == STATUS_ACTIVE)
    P = lonlat_to_xyz(particles.lon, particles.lat)
    LON = particles.lon.copy()
    LAT = particles.lat.copy()
    for s in range(nsteps):
        step = step0 + s
        idx = np.nonzero((particles.birth_step <= step) & (particles.status == STATUS_ACTIVE))[0]
        if idx.size == 0:
            continue
        lon = LON[idx]
        lat = LAT[idx]
        p = P[:, idx]
        v1, ok1 = interpolate_wind(wind, int(k0[s]), float(w0[s]), lon, lat)
        pm, lonm, latm = midpoint(p, lon, lat, v1, 0.5 * dt / EARTH_RADIUS_M)
        v2, ok2 = interpolate_wind(wind, int(km[s]), float(wm[s]), lonm, latm)
        v2 = _tangent(v2, pm)
        disp = v2 * dt
        keys = keys_all[idx]
        if physics.kh_m2_s > 0.0 or physics.kz_m2_s > 0.0:
            xi1, xi2, xi3 = rng.normals3(keys, step)
        if physics.kh_m2_s > 0.0:
            rh = np.sqrt(p[0] * p[0] + p[1] * p[1])
            safe = rh > 1e-12
            rh_s = np.where(safe, rh, 1.0)
            e = np.where(safe, np.stack([-p[1] / rh_s, p[0] / rh_s, np.zeros_like(rh)]), np.array([[0.0], [1.0], [0.0]]))
            n = np.where(safe, np.stack([-p[2] * p[0] / rh_s, -p[2] * p[1] / rh_s, rh]), np.array([[-1.0], [0.0], [0.0]]))
            disp = disp + sig_h * (xi1 * e + xi2 * n)
        pn = _normalise(p + disp / EARTH_RADIUS_M)
        lon_n, lat_n = end_lonlat(p, lon, lat, disp / EARTH_RADIUS_M, pn)
        ok = ok1 & ok2 & inside_domain(wind, lon_n, lat_n)
        z = particles.z[idx].astype(np.float64)
        if physics.kz_m2_s > 0.0:
            mixed = z <= h
            z = np.where(mixed, fold_into_layer(z + sig_z * xi3, h), z)
        m = particles.mass[idx]
        mn = m * decay_factor
        decayed += float(np.sum(np.where(ok, m - mn, 0.0)))
        # particles that left the domain stop at their last position inside it
        P[:, idx] = np.where(ok, pn, p)
        LON[idx] = np.where(ok, lon_n, lon)
        LAT[idx] = np.where(ok, lat_n, lat)
        particles.z[idx] = np.where(ok, z, particles.z[idx]).astype(np.float32)
        particles.mass[idx] = np.where(ok, mn, m)
        particles.status[idx] = np.where(ok, STATUS_ACTIVE, STATUS_EXITED).astype(np.int8)
        if sampler is not None:
            sel = ok & (z < sampler.layer_depth_m)
            tags = None if sampler.particle_tag is None else sampler.particle_tag[idx][sel]
            _sample(sampler, lon_n[sel], lat_n[sel], mn[sel], tags)
        if receptors is not None:
            lon_e, lat_e = particles.lon.copy(), particles.lat.copy()
            lon_e[idx], lat_e[idx] = xyz_to_lonlat(P[:, idx])
            receptors.sample(lon_e, lat_e, particles.z, particles.mass, particles.birth_step, particles.status, step,
                             receptors.wind_at)
    lon_x, lat_x = xyz_to_lonlat(P[:, touched])
    particles.lon[touched] = lon_x
    particles.lat[touched] = lat_x
    return decayed


def _sample(sampler: OutputSampler, lon: NDArray[np.float64], lat: NDArray[np.float64], mass: NDArray[np.float64],
            tags: NDArray[np.int32] | None = None) -> None:
    fi = (lon - sampler.lon0) / sampler.dlon
    fj = (lat - sampler.lat0) / sampler.dlat
    i = np.floor(fi).astype(np.int64)
    j = np.floor(fj).astype(np.int64)
    keep = (i >= 0) & (i < sampler.nlon) & (j >= 0) & (j < sampler.nlat)
    flat = j[keep] * sampler.nlon + i[keep]
    if tags is None:
        sampler.acc += np.bincount(flat, weights=mass[keep], minlength=sampler.nlat * sampler.nlon).reshape(
            sampler.nlat, sampler.nlon
        )
        return
    cells = sampler.nlat * sampler.nlon
    flat = flat + tags[keep].astype(np.int64) * cells
    sampler.acc += np.bincount(flat, weights=mass[keep], minlength=sampler.n_tags * cells).reshape(
        sampler.n_tags, sampler.nlat, sampler.nlon
    )
