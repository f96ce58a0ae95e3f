"""The receptor index and the compiled ring sums of :mod:`plumecast.exposure`'s kernel estimate: the
receptors sorted into latitude bands for the disc search (:class:`ReceptorIndex`), and per particle the
ring shells of the receptors round it it adds to (:func:`ring_add`), less the near field of its point
source (:func:`near_field_excluded`) and the receptors an area source's plume gives its air to
(:func:`area_skip`). Split out of :mod:`plumecast.exposure` unchanged."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from plumecast.units import EARTH_RADIUS_M


@dataclass(frozen=True)
class ReceptorIndex:
    """Receptors sorted into latitude bands (then by longitude) for the disc search."""

    band_start: NDArray[np.int64]
    order: NDArray[np.int64]
    lat: NDArray[np.float64]  # sorted, radians
    lon: NDArray[np.float64]  # sorted, radians in [-pi, pi)
    band_width_rad: float
    max_radius_m: float

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


@numba.njit(cache=True)
def _haversine_m(phi1: float, lam1: float, phi2: float, lam2: float, r: float) -> float:  # pragma: no cover
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
    return _haversine_m(phi, lam, nf_lat[g] * deg, nf_lon[g] * deg, 6371000.0) < nf_dist


@numba.njit(cache=True, error_model="numpy")
def ring_add(phi, lam, m, tag, band_start, order, rlat, rlon, band_w, max_r, radii, shell_mass,
             shell_count, skip, skip_on, skip_lo, skip_hi):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Add one near-surface particle (lat ``phi``, lon ``lam`` [rad], mass ``m``, tag)
    to the ring shells ``(ring, tag, receptor)`` of the receptors within ``max_r``,
    except the receptors ``skip[skip_lo:skip_hi]`` whose ``skip_on`` is set (those
    whose air from this particle's source an area-source plume gives now; see
    :func:`area_skip`)."""
    nb = band_start.size - 1
    nrings = radii.shape[1]
    b = int((phi + 0.5 * math.pi) / band_w)
    for bb in range(max(b - 1, 0), min(b + 2, nb)):
        lo = band_start[bb]
        hi = band_start[bb + 1]
        if lo == hi:
            continue
        edge = max(abs(-0.5 * math.pi + bb * band_w), abs(-0.5 * math.pi + (bb + 1) * band_w))
        edge = max(edge, abs(phi))
        cosb = math.cos(min(edge, 0.5 * math.pi - 1e-6))
        dlam = max_r / (6371000.0 * cosb)
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
                d = _haversine_m(phi, lam, rlat[s], rlon[s], 6371000.0)
                if d >= max_r:
                    continue
                rec = order[s]
                skipped = False
                for q in range(skip_lo, skip_hi):
                    if skip[q] == rec:
                        skipped = skip_on[q] != 0
                        break
                if skipped:
                    continue
                for k in range(nrings):
                    if d < radii[rec, k]:
                        shell_mass[k, tag, rec] += m
                        shell_count[k, tag, rec] += 1
                        break


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
    if lo == hi or _haversine_m(phi, lam, a_lat[s], a_lon[s], 6371000.0) >= a_reach[s]:
        return 0, 0
    return lo, hi


@numba.njit(cache=True)
def _ring_sums(plon, plat, pz, pmass, pbirth, pstatus, ptag, pgroup, step, layer, nf_group, nf_lat, nf_lon,
               nf_dist, nf_max_age, area, band_start, order, rlat, rlon, band_w, max_r, radii, shell_mass,
               shell_count):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Mass and count of near-surface particles in the ring shells round each receptor."""
    deg = math.pi / 180.0
    for j in range(plon.size):
        if pbirth[j] > step or pstatus[j] != 0 or pz[j] >= layer:
            continue
        phi = plat[j] * deg
        lam = plon[j] * deg
        if near_field_excluded(phi, lam, step - pbirth[j], pgroup[j], nf_group, nf_lat, nf_lon, nf_dist,
                               nf_max_age):
            continue
        lo, hi = area_skip(phi, lam, j, step - pbirth[j], area)
        ring_add(phi, lam, pmass[j], ptag[j], band_start, order, rlat, rlon, band_w, max_r, radii, shell_mass,
                 shell_count, area[6], area[7][0], lo, hi)
