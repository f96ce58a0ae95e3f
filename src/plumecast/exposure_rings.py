"""The receptor index and the compiled ring sums of :mod:`plumecast.exposure`'s kernel estimate: the
receptors sorted into latitude bands for the disc search (:class:`ReceptorIndex`), and per particle the
ring shells of the receptors round it it adds to (:func:`ring_add`), less the near field of its point
source (:func:`near_field_excluded`) and the receptors an area source's plume gives its air to
(:func:`area_skip`); and, for the countdowns only, the particle's places within the step.

The particles are where the transport leaves them at the end of each step, and the receptors' air is
their kernel estimate there. A cloud that passes a place between two such samples is missed: a 140-t
chlorine puff, near field off, 10 m/s, read AEGL-2 at a town 20 km out at 29 min with 60-s steps, 5 seeds,
and "never" with 600-s steps, the 600-s samples' peak 6.5-7.6 mg/m3 against 10.8-11.7 at 60 s (session 48).
With steps longer than :data:`SUB_SAMPLE_S`, each particle near a receptor is also placed on the straight
way from its place at the step's start to its place at the end at ``n_sub(dt)`` times within the step, each
the part of its birth step before its emission behind (:func:`path_add`: the transport lets it go at its birth
step's start; session 50), and the kernel estimate at each of those times (:func:`path_peaks`) is the
particles' air within the step, kept for the countdowns only (``ReceptorExposure.peak_extra``): the doses, means and
deaths are the end samples', bit for bit. Only pairs of a particle and a receptor whose disc changes within
the step cost more than the end sample's; the transport step itself is unchanged."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from plumecast.exposure_kernel import kernel_estimate
from plumecast.transport.kernels_numpy import lonlat_to_xyz
from plumecast.units import EARTH_RADIUS_M

#: The particles' air is read within a step at least this often (:func:`n_sub`). [s]
SUB_SAMPLE_S = 60.0
#: With ways within the steps, the compiled kernels' cheap test (``ExposureSampler.mask``, the half-degree cells
#: near a receptor) reaches this much farther, and a particle whose way within the step is longer skips it for
#: the exact search (:func:`way_is_long`): a way that passes a receptor's discs and ends beyond the cells. [m]
WAY_MASK_MARGIN_M = 20_000.0
#: The most places within the steps a kernel call's buffers hold per receptor, release group, ring and block
#: (``ExposureSampler.steps_per_call``: 6 steps at 600 s, 12 at 300 s, 1 at an hour or more; :func:`calls_of`).
#: The buffers had grown with the output interval: 1,000 receptors at 600-s steps took 475 MB more at a 12-h
#: interval (72 steps a call, 648 places), 40 MB at an hour (session 50).
WAY_PLACES_PER_CALL = 60


def calls_of(chunks: list[tuple[int, int]], most: int | None) -> list[tuple[int, int]]:
    """The kernel calls ``(first step, count)`` of ``chunks``, each cut into calls of at most ``most`` steps
    (None: as they are). The results do not depend on the cut (the random numbers are the particle's and the
    step's)."""
    if most is None:
        return list(chunks)
    return [(s0 + k, min(most, m - k)) for s0, m in chunks for k in range(0, m, most)]


def n_sub(dt_s: float) -> int:
    """Into how many equal parts a step of ``dt_s`` is cut for the particles' air within it (1: the end
    sample alone, at steps of :data:`SUB_SAMPLE_S` or less)."""
    return max(int(math.ceil(float(dt_s) / SUB_SAMPLE_S - 1e-9)), 1)


@numba.njit(cache=True, error_model="numpy")
def way_is_long(a, st):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Whether the places of the way from unit vector ``a[:3]`` to ``st[:3]`` (:func:`path_add`: up to twice
    its length behind its end) can reach farther than :data:`WAY_MASK_MARGIN_M` from its end."""
    dx, dy, dz = st[0] - a[0], st[1] - a[1], st[2] - a[2]
    return 2.0 * 6371000.0 * math.sqrt(dx * dx + dy * dy + dz * dz) > WAY_MASK_MARGIN_M


@numba.njit(cache=True, error_model="numpy")
def unit_vector(lon_deg: float, lat_deg: float) -> tuple[float, float, float]:  # pragma: no cover - compiled
    deg = math.pi / 180.0
    cp = math.cos(lat_deg * deg)
    return cp * math.cos(lon_deg * deg), cp * math.sin(lon_deg * deg), math.sin(lat_deg * deg)


@numba.njit(cache=True, error_model="numpy")
def _ring_of(c2, thr2):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The first disc whose squared chord ``thr2`` is beyond ``c2`` (``thr2.size``: none)."""
    for k in range(thr2.size):
        if c2 < thr2[k]:
            return k
    return thr2.size


def chord2(radii_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """The squared chords of the unit sphere of great-circle distances ``radii_m`` [m] (the discs' edges
    for :func:`path_add`)."""
    return np.ascontiguousarray((2.0 * np.sin(0.5 * np.asarray(radii_m, dtype=float) / EARTH_RADIUS_M)) ** 2)


@numba.njit(cache=True, error_model="numpy")
def path_add(ax, ay, az, wx, wy, wz, ww, rx, ry, rz, thr2, ke, m, g, rec, sub_mass, sub_count, frac,
             first):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Where a particle going straight from unit vector ``a`` by ``w`` (``ww = |w|^2``) within a step is at
    the times ``i / n - frac`` of the step (``i = 1 .. n``, ``n = sub_mass.shape[0]``; ``frac``: the part of its
    birth step before its emission, :func:`plumecast.release.birth_fractions`), as the change from its end's
    ring ``ke`` of receptor ``rec`` (unit vector ``r``; its discs' squared chords ``thr2``): ``m`` and one
    particle moved, in ``sub_mass``/``sub_count`` ``(i - 1, ring, group, receptor)``, from ring ``ke`` to its
    ring then (``thr2.size``: beyond the discs). The places are on the chord through ``a`` and its end (within
    a metre of the sphere for a step's way of tens of km), before ``a`` at the same speed where the time is
    before the step's start, except in its birth step (``first``), where it is at the source until its
    emission. Nothing where every such time has the end's ring: both ends of the places' way are in it and
    its closest approach is not in a smaller disc (the common case, in a few multiplications).

    The transport lets every particle go at its birth step's start, a step's emission as one lump: a 5-min
    release from 8.22 min, 600-s steps, was two lumps 10 min apart, and 4 km off its axis 50 km out its air
    within the steps peaked at 1.95 mg/m3 against 2.9 at 10-s steps (10 seeds), AEGL-1 of chlorine at 90 min in
    7 of 10 seeds against 83.8-84.5 (session 50). Read ``frac`` of a step behind on its way, each particle is
    where one let go at its emission would be, at the way's speed."""
    nr = thr2.size
    n = sub_mass.shape[0]
    dx, dy, dz = ax - rx, ay - ry, az - rz
    lo = 1.0 / n - frac
    if first:
        lo = max(lo, 0.0)
    hi = 1.0 - frac
    if (_ring_of((dx + lo * wx) ** 2 + (dy + lo * wy) ** 2 + (dz + lo * wz) ** 2, thr2) == ke
            and _ring_of((dx + hi * wx) ** 2 + (dy + hi * wy) ** 2 + (dz + hi * wz) ** 2, thr2) == ke):
        if ke == 0:
            return
        t = lo
        if ww > 0.0:
            t = min(max(-(dx * wx + dy * wy + dz * wz) / ww, lo), hi)
        if (dx + t * wx) ** 2 + (dy + t * wy) ** 2 + (dz + t * wz) ** 2 >= thr2[ke - 1]:
            return
    for i in range(1, n + 1):
        t = i / n - frac
        if first:
            t = max(t, 0.0)
        ki = _ring_of((dx + t * wx) ** 2 + (dy + t * wy) ** 2 + (dz + t * wz) ** 2, thr2)
        if ki == ke:
            continue
        if ki < nr:
            sub_mass[i - 1, ki, g, rec] += m
            sub_count[i - 1, ki, g, rec] += 1
        if ke < nr:
            sub_mass[i - 1, ke, g, rec] -= m
            sub_count[i - 1, ke, g, rec] -= 1


def path_peaks(mass: NDArray[np.float64], count: NDArray[np.int64], sub_mass: NDArray[np.float64],
               sub_count: NDArray[np.int32], n_groups: int, radii: NDArray[np.float64], layer_m: float,
               max_ring: NDArray[np.int64] | None, conc: NDArray[np.float64]) -> NDArray[np.float64]:
    """How much more than the end samples' ``conc`` (step, tag, receptor) [kg m-3] the particles' air reaches
    at the times within the steps (:func:`path_add`), ``(step, receptor)``, 0 where no particle changes disc:
    the kernel estimate (:func:`plumecast.exposure_kernel.kernel_estimate`, the same discs, by release group)
    of the end's ring shells ``mass``/``count`` (step, ring, tag, receptor) moved by ``sub_mass``/``sub_count``
    (step, time, ring, group, receptor), at its most over those times."""
    nsteps, nr, ntags, nrec = mass.shape
    out = np.zeros((nsteps, nrec))
    moved = (sub_count != 0).any(axis=(1, 2, 3)) | (sub_mass != 0.0).any(axis=(1, 2, 3))  # (step, receptor)
    if sub_mass.shape[1] == 0 or not moved.any():
        return out
    steps, recs = np.nonzero(moved)
    shape = (nsteps, nr, ntags // n_groups, n_groups, nrec)
    gm = mass.reshape(shape).sum(axis=2)[steps, :, :, recs]  # (pair, ring, group)
    gc = count.reshape(shape).sum(axis=2)[steps, :, :, recs]
    sm = np.moveaxis(sub_mass[steps, :, :, :, recs], 0, -1)  # (time, ring, group, pair)
    sc = np.moveaxis(sub_count[steps, :, :, :, recs], 0, -1)
    cap = None if max_ring is None else max_ring[:n_groups, recs]
    top, _ = kernel_estimate(np.moveaxis(gm, 0, -1)[None] + sm, np.moveaxis(gc, 0, -1)[None] + sc, radii[recs],
                             layer_m, cap)  # (time, group, pair)
    most = top.sum(axis=1).max(axis=0)
    end = conc[steps, :, recs].sum(axis=1)
    out[steps, recs] = np.where(most > end * (1.0 + 1e-9), most - end, 0.0)
    return out


@dataclass(frozen=True)
class ReceptorIndex:
    """Receptors sorted into latitude bands (then by longitude) for the disc search."""

    band_start: NDArray[np.int64]
    order: NDArray[np.int64]
    lat: NDArray[np.float64]  # sorted, radians
    lon: NDArray[np.float64]  # sorted, radians in [-pi, pi)
    band_width_rad: float
    max_radius_m: float
    xyz: NDArray[np.float64]  # (receptor, 3), unsorted

    def __init__(self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], max_radius_m: float) -> None:
        width = max_radius_m / EARTH_RADIUS_M
        nb = int(math.ceil(math.pi / width)) + 1
        phi = np.deg2rad(np.asarray(lat_deg, float))
        lam = np.deg2rad((np.asarray(lon_deg, float) + 180.0) % 360.0 - 180.0)
        band = np.clip(((phi + math.pi / 2) / width).astype(np.int64), 0, nb - 1)
        order = np.lexsort((lam, band))
        counts = np.bincount(band, minlength=nb)
        object.__setattr__(self, "band_start", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        object.__setattr__(self, "order", order.astype(np.int64))
        object.__setattr__(self, "lat", np.ascontiguousarray(phi[order]))
        object.__setattr__(self, "lon", np.ascontiguousarray(lam[order]))
        object.__setattr__(self, "band_width_rad", float(width))
        object.__setattr__(self, "max_radius_m", float(max_radius_m))
        # each receptor's unit vector, in the receptors' own order (for the paths within a step, path_add)
        xyz = lonlat_to_xyz(np.asarray(lon_deg, float).reshape(-1), np.asarray(lat_deg, float).reshape(-1))
        object.__setattr__(self, "xyz", np.ascontiguousarray(xyz.T))


@numba.njit(cache=True)
def haversine_m(phi1: float, lam1: float, phi2: float, lam2: float, r: float) -> float:  # pragma: no cover
    s1 = math.sin(0.5 * (phi2 - phi1))
    s2 = math.sin(0.5 * (lam2 - lam1))
    a = s1 * s1 + math.cos(phi1) * math.cos(phi2) * s2 * s2
    return 2.0 * r * math.asin(min(1.0, math.sqrt(a)))


@numba.njit(cache=True, error_model="numpy")
def near_field_excluded(phi, lam, age_steps, g, nf_group, nf_lat, nf_lon, nf_dist,
                        nf_max_age):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Whether a particle (lat ``phi``, lon ``lam`` [rad]) lies in the near field of
    its point source, where the Gaussian plume stands in for it (left out of the
    receptors' discs; a receptor inside that near field keeps its disc inside it,
    :func:`near_field_rings`)."""
    if not nf_group[g] or age_steps >= nf_max_age:
        return False
    deg = math.pi / 180.0
    return haversine_m(phi, lam, nf_lat[g] * deg, nf_lon[g] * deg, 6371000.0) < nf_dist


@numba.njit(cache=True, error_model="numpy")
def ring_add(phi, lam, m, tag, band_start, order, rlat, rlon, band_w, max_r, radii, shell_mass,
             shell_count, skip, skip_on, skip_lo, skip_hi, start, end, g, rxyz, rchord2, sub_mass,
             sub_count, frac, first):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Add one near-surface particle (lat ``phi``, lon ``lam`` [rad], mass ``m``, tag)
    to the ring shells ``(ring, tag, receptor)`` of the receptors within ``max_r``,
    except the receptors ``skip[skip_lo:skip_hi]`` whose ``skip_on`` is set (those
    whose air from this particle's source an area-source plume gives now; see
    :func:`area_skip`). With sub-samples (``sub_mass.shape[0] > 0``): also the particle's
    place within the step on its way from ``start`` (its unit vector at the step's start) to ``end`` (at its end),
    of release group ``g``, at each receptor (:func:`path_add`; ``rxyz``: the receptors'
    unit vectors, ``rchord2`` their discs' squared chords, :func:`chord2`; ``frac``: the part of its birth step
    before its emission, ``first``: this is its birth step), at the receptors within ``max_r`` and the places'
    reach of its end."""
    nb = band_start.size - 1
    nrings = radii.shape[1]
    path = sub_mass.shape[0] > 0
    wx = wy = wz = ww = span = 0.0
    if path:  # the way within the step, start to end, and how far from its end its places reach (the way, and
        # ``frac`` of it behind its start; and 10 m for the chord's) [m]
        wx = end[0] - start[0]
        wy = end[1] - start[1]
        wz = end[2] - start[2]
        ww = wx * wx + wy * wy + wz * wz
        span = 6371000.0 * math.sqrt(ww) * (1.0 + (0.0 if first else frac)) + 10.0
    # the receptors within reach: ``max_r`` of its end, and with its way within the step ``span`` more (a way
    # longer than ``max_r`` less a disc had passed a receptor unseen where it ended beyond ``max_r``: 6-h steps
    # at 10 m/s, 216 km, had read AEGL-1 "never" 300 km out, 8.2 h at 60-s steps; session 50)
    reach = max_r + span
    wide = reach / 6371000.0  # [rad]
    b_lo = int((phi - wide + 0.5 * math.pi) / band_w)
    b_hi = int((phi + wide + 0.5 * math.pi) / band_w)
    for bb in range(max(b_lo, 0), min(b_hi + 1, nb)):
        lo = band_start[bb]
        hi = band_start[bb + 1]
        if lo == hi:
            continue
        edge = max(abs(-0.5 * math.pi + bb * band_w), abs(-0.5 * math.pi + (bb + 1) * band_w))
        edge = max(edge, abs(phi))
        cosb = math.cos(min(edge, 0.5 * math.pi - 1e-6))
        dlam = reach / (6371000.0 * cosb)
        a0 = lo
        a1 = hi
        c0 = hi
        c1 = hi
        if dlam < math.pi:
            a = lam - dlam
            c = lam + dlam
            seg = rlon[lo:hi]
            if a < -math.pi:
                a0 = lo + np.searchsorted(seg, a + 2 * math.pi)
                c0 = lo
                c1 = lo + np.searchsorted(seg, c, side="right")
            elif c >= math.pi:
                a0 = lo + np.searchsorted(seg, a)
                c0 = lo
                c1 = lo + np.searchsorted(seg, c - 2 * math.pi, side="right")
            else:
                a0 = lo + np.searchsorted(seg, a)
                a1 = lo + np.searchsorted(seg, c, side="right")
        for part in range(2):
            s_lo = a0 if part == 0 else c0
            s_hi = a1 if part == 0 else c1
            for s in range(s_lo, s_hi):
                d = haversine_m(phi, lam, rlat[s], rlon[s], 6371000.0)
                if d >= reach:
                    continue
                rec = order[s]
                skipped = False
                for q in range(skip_lo, skip_hi):
                    if skip[q] == rec:
                        skipped = skip_on[q] != 0
                        break
                if skipped:
                    continue
                ke = nrings
                for k in range(nrings if d < max_r else 0):  # beyond max_r: its way alone
                    if d < radii[rec, k]:
                        shell_mass[k, tag, rec] += m
                        shell_count[k, tag, rec] += 1
                        ke = k
                        break
                # the way within the step: nothing to add where all of it is within the end's ring (the common case)
                if path and (d + span >= (radii[rec, ke] if ke < nrings else math.inf)
                             or d - span < (radii[rec, ke - 1] if ke > 0 else -1.0)):
                    path_add(start[0], start[1], start[2], wx, wy, wz, ww, rxyz[rec, 0], rxyz[rec, 1], rxyz[rec, 2],
                             rchord2[rec], ke, m, g, rec, sub_mass, sub_count, frac, first)


@numba.njit(cache=True, error_model="numpy")
def area_skip(phi, lam, j, age_steps, area):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The receptors that leave particle ``j`` out, as a range ``(lo, hi)`` of
    ``area``'s receptor list: those whose air from the particle's area source the
    area-source plume gives (:class:`AreaNearField`), while the particle is younger
    than the plume's reach in time and within its reach in space; ``(0, 0)``
    otherwise."""
    a_src, a_lat, a_lon, a_reach, a_age, a_ptr, a_rec, a_on = area  # a_on: (step of the call, pair)
    if a_src.size == 0:
        return 0, 0
    s = a_src[j]
    if s < 0 or age_steps >= a_age[s]:
        return 0, 0
    lo = a_ptr[s]
    hi = a_ptr[s + 1]
    if lo == hi or haversine_m(phi, lam, a_lat[s], a_lon[s], 6371000.0) >= a_reach[s]:
        return 0, 0
    return lo, hi


@numba.njit(cache=True)
def ring_sums(plon, plat, pz, pmass, pbirth, pstatus, ptag, pgroup, step, layer, nf_group, nf_lat, nf_lon,
              nf_dist, nf_max_age, area, band_start, order, rlat, rlon, band_w, max_r, radii, shell_mass,
              shell_count, lon0, lat0, rxyz, rchord2, sub_mass, sub_count, pfrac):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Mass and count of near-surface particles in the ring shells round each receptor (and, with
    sub-samples, their places within the step from ``lon0``, ``lat0`` [deg], :func:`path_add`, each ``pfrac``
    of a step behind)."""
    deg = math.pi / 180.0
    path = sub_mass.shape[0] > 0
    for j in range(plon.size):
        if pbirth[j] > step or pstatus[j] != 0 or pz[j] >= layer:
            continue
        phi = plat[j] * deg
        lam = plon[j] * deg
        if near_field_excluded(phi, lam, step - pbirth[j], pgroup[j], nf_group, nf_lat, nf_lon, nf_dist,
                               nf_max_age):
            continue
        lo, hi = area_skip(phi, lam, j, step - pbirth[j], area)
        start = end = (0.0, 0.0, 0.0)
        if path:
            start = unit_vector(lon0[j], lat0[j])
            end = unit_vector(plon[j], plat[j])
        ring_add(phi, lam, pmass[j], ptag[j], band_start, order, rlat, rlon, band_w, max_r, radii, shell_mass,
                 shell_count, area[6], area[7][0], lo, hi, start, end, pgroup[j], rxyz, rchord2, sub_mass,
                 sub_count, pfrac[j], pbirth[j] == step)
