"""Where a city's people are sampled for a point release's near-field plume.

A receptor city is a disc (:func:`plumecast.exposure.receptor_radius_m`). A point
release's plume near its source is tens to hundreds of metres wide (Briggs σ_y is 2-8 % of
the distance in classes D-F), far narrower than a city, and the toxic load is convex in
the concentration: the deaths of the people under the plume are lost when the plume is
averaged over the disc, or sampled at points wider apart than it is (DESIGN "Honest
numbers"). The parts of a disc the plume can cross are therefore the cells of a polar
grid centred on the release (:func:`disc_samples`; with several releases near a disc,
each one's grid covers the part of the disc nearer to it than to the others): the plume's
angular width is about the same at every distance, so cells of one angle
(:data:`SECTOR_DEG`) resolve it everywhere, and rings growing by :data:`RING_RATIO` follow
its fall with distance. Each cell holds the people of its area inside the disc (an equal
density over the disc, as for the disc's mean) and breathes the plume's air at the centre
of that area.

Sixty-four equal-area parts (1.4 km apart in a city of 600,000) had been used until
session 25: 100 kg/s of chlorine for 30 min released 4.6 km from Essen's centre read
AEGL-3 "never" and < 1 death, while 1,896 receptors 250 m apart over the same disc gave
360 deaths and 20,000 people above AEGL-3 (consequence audit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumecast.countermeasures.front import great_circle_m
from plumecast.units import EARTH_RADIUS_M

#: angle of a cell [deg]: class F's σ_y is about 2.3° seen from the source (Briggs 1973, 0.04 x), so its
#: plume's axis is never more than a third of σ_y from a cell's centre
SECTOR_DEG = 1.5
#: ratio of a ring's outer to inner radius: the plume falls by about 1.4x across a ring (x^-2)
RING_RATIO = 1.2
#: inner radius of the innermost ring round the release [m]; the people closer are one part at the release
INNER_RADIUS_M = 25.0
#: sub-points per cell, per direction, for the share of its area inside the disc
_SUB = 4


@dataclass(frozen=True)
class DiscSamples:
    """The sample points of the split discs, disc after disc.

    ``receptors`` (n_split,) the receptor index of each split disc; ``ptr`` (n_split + 1,)
    where each disc's samples start and end; ``lat``, ``lon`` (n_samples,) [deg];
    ``weight`` (n_samples,) each sample's share of its disc's area (its people), summing to
    at most 1 per disc (the rest of the disc lies beyond the plume's reach); 0 for the points
    of the disc's edge, which time the arrivals only.
    """

    receptors: NDArray[np.int64]
    ptr: NDArray[np.int64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    weight: NDArray[np.float64]

    @property
    def disc_of_sample(self) -> NDArray[np.int64]:
        """Each sample's disc (index into ``receptors``)."""
        return np.repeat(np.arange(self.receptors.size, dtype=np.int64), np.diff(self.ptr))


def disc_samples(lat: NDArray[np.float64], lon: NDArray[np.float64], radius_m: NDArray[np.float64],
                 split: NDArray[np.int64], sources: list[tuple[float, float]], reach_m: float) -> DiscSamples:
    """The cells of the discs ``split`` (receptor indices; centres ``lat``, ``lon``
    [deg], radii ``radius_m`` [m]) on polar grids round the releases of ``sources``
    (lat, lon) whose plume (out to ``reach_m``: :data:`plumecast.exposure.PLUME_FADE_END_M`
    beyond the near field) reaches each disc: module docstring. With
    several, each release's grid covers the part of the disc nearer to it than to the
    others (the people of a cell are counted once), so each plume is resolved near its
    own source."""
    split = np.asarray(split, dtype=np.int64)
    ptr = [0]
    out_lat: list[NDArray[np.float64]] = []
    out_lon: list[NDArray[np.float64]] = []
    out_w: list[NDArray[np.float64]] = []
    for rec in split:
        la, lo, radius = float(lat[rec]), float(lon[rec]), float(radius_m[rec])
        d_all = np.array([great_circle_m(s_lat, s_lon, np.array([la]), np.array([lo]))[0] for s_lat, s_lon in sources])
        near_i = [int(i) for i in np.argsort(d_all) if d_all[i] - radius < reach_m] or [int(np.argmin(d_all))]
        near = [sources[i] for i in near_i]
        n0 = len(out_w)
        if len(near) == 1:
            _round_one(near[0], la, lo, radius, reach_m, None, out_lat, out_lon, out_w)
        else:
            # each release's cells where it is the nearest of them, scaled to that region's share of the disc
            share = _nearest_shares(near, la, lo, radius, reach_m)
            for k, src in enumerate(near):
                m = len(out_w)
                _round_one(src, la, lo, radius, reach_m, (near, k), out_lat, out_lon, out_w)
                got = sum(float(w.sum()) for w in out_w[m:])
                if got > 0:
                    for j in range(m, len(out_w)):
                        out_w[j] = out_w[j] * (share[k] / got)
        # the disc's edge within the near field, as parts of no people: a cell breathes the air at the centre of
        # its area, up to half a ring inside the edge, and the plume reaches the edge first (arrivals are the
        # earliest part's: without these, a city's AEGL-3 countdown was 5-14 min later than at its edge;
        # regression audit). Only the arc a release sees (between the tangents from it, and one point beyond
        # each): a ray from the release enters the disc there, ahead of every point behind it on the ray, and a
        # ground plume is no weaker there (its sigma_y grows slower than the distance); the far arc's points
        # had been 45 % of all samples in the Ruhr's 274 towns, each a row of the run's part arrays
        step = edge_step_deg(radius, float(np.min(d_all[near_i])))
        a_edge = np.radians(np.arange(0.0, 360.0, step))
        e_lat = la + np.degrees(radius * np.sin(a_edge) / EARTH_RADIUS_M)
        e_lon = lo + np.degrees(radius * np.cos(a_edge) / (EARTH_RADIUS_M * math.cos(math.radians(la))))
        on = np.zeros(a_edge.size, bool)
        for i in near_i:
            to_edge = great_circle_m(*sources[i], e_lat, e_lon)
            centre = float(d_all[i])
            tangent = math.sqrt(max(centre * centre - radius * radius, 0.0)) + radius * math.radians(step)
            on |= (to_edge < reach_m) & ((centre <= radius) | (to_edge <= tangent))
        out_w.append(np.zeros(int(on.sum())))
        out_lat.append(e_lat[on])
        out_lon.append(e_lon[on])
        ptr.append(ptr[-1] + sum(int(w.size) for w in out_w[n0:]))
    lon_all = (_cat(out_lon) + 180.0) % 360.0 - 180.0
    return DiscSamples(receptors=split, ptr=np.asarray(ptr, dtype=np.int64), lat=_cat(out_lat), lon=lon_all,
                       weight=_cat(out_w))


def edge_step_deg(radius_m: float, centre_m: float) -> float:
    """The angle [deg] between a disc's edge points (about its centre): :data:`SECTOR_DEG`, or,
    where that puts them closer together than a quarter of the narrowest plume that can reach
    the disc (class F's open-country σ_y at its nearest edge, Briggs 1973), that spacing, at
    most 45°. A town of 15,000 150 km away had 120 edge points 26 m apart under a plume 1.5 km
    wide; among the Ruhr's 788 towns within 200 km of a release the parts fell from 105,134 to
    27,057 (the run's memory from 1.09 to 0.62 GB), AEGL-1 countdowns moved by -1 to +8 s (16
    towns), peaks by under 0.1 %, deaths not at all (session 36)."""
    from plumecast.nearfield.gaussian import briggs_sigma_y

    near_m = max(centre_m - radius_m, INNER_RADIUS_M)
    spacing = 0.25 * float(briggs_sigma_y(near_m, "F", "rural"))
    return float(min(max(SECTOR_DEG, math.degrees(spacing / radius_m)), 45.0))


def _plane(points_lat: NDArray[np.float64], points_lon: NDArray[np.float64], lat0: float,
           lon0: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """East, north of points from (lat0, lon0) in its tangent plane. [m]"""
    e = np.radians(((np.asarray(points_lon) - lon0 + 180.0) % 360.0) - 180.0) * EARTH_RADIUS_M * math.cos(
        math.radians(lat0))
    return e, np.radians(np.asarray(points_lat) - lat0) * EARTH_RADIUS_M


def _owner(near: list[tuple[float, float]], la: float, lo: float, e: NDArray[np.float64],
           n: NDArray[np.float64]) -> NDArray[np.int64]:
    """For points (east ``e``, north ``n`` of the disc centre ``la``, ``lo``): the index of
    the nearest of the releases ``near``."""
    best = np.full(e.shape, np.inf)
    who = np.zeros(e.shape, np.int64)
    for k, (s_lat, s_lon) in enumerate(near):
        se, sn = _plane(np.array([s_lat]), np.array([s_lon]), la, lo)
        d2 = (e - se[0]) ** 2 + (n - sn[0]) ** 2
        closer = d2 < best
        best = np.where(closer, d2, best)
        who = np.where(closer, k, who)
    return who


def _nearest_shares(near: list[tuple[float, float]], la: float, lo: float, radius: float,
                    reach_m: float) -> NDArray[np.float64]:
    """Each release's share of the disc: the part nearer to it than to the others and
    within its near field, on a 201 x 201 grid over the disc."""
    g = np.linspace(-radius, radius, 201)
    e, n = np.meshgrid(g, g)
    inside = e * e + n * n <= radius * radius
    e, n = e[inside], n[inside]
    who = _owner(near, la, lo, e, n)
    out = np.zeros(len(near))
    for k, (s_lat, s_lon) in enumerate(near):
        se, sn = _plane(np.array([s_lat]), np.array([s_lon]), la, lo)
        mine = (who == k) & (np.hypot(e - se[0], n - sn[0]) < reach_m)
        out[k] = np.count_nonzero(mine) / e.size
    return out


def _round_one(src: tuple[float, float], la: float, lo: float, radius: float, reach_m: float,
               owner: tuple[list[tuple[float, float]], int] | None, out_lat: list[NDArray[np.float64]],
               out_lon: list[NDArray[np.float64]], out_w: list[NDArray[np.float64]]) -> None:
    """The cells of one disc on the polar grid round the release ``src``, appended to the
    lists (the part at the release first, if the disc holds it). ``owner`` (the releases,
    and this one's index): only the sub-points nearer to this release than to the others,
    the weights left for the caller to scale; None: the whole disc, scaled to the exact
    area of the disc between the grid's rings."""
    s_lat, s_lon = src
    cos0 = math.cos(math.radians(s_lat))
    # the disc's centre in the release's tangent plane (east, north) [m]
    ce, cn = _plane(np.array([la]), np.array([lo]), s_lat, s_lon)
    cx, cy = float(ce[0]), float(cn[0])
    d = math.hypot(cx, cy)
    r_lo = max(INNER_RADIUS_M, d - radius)
    r_hi = min(d + radius, reach_m)
    # the people within INNER_RADIUS_M of the release: one part at the release itself (the plume's axis
    # value at that distance, plumecast.near_field_plume.NearFieldSource.step_mean_at)
    inner = _lens_m2(INNER_RADIUS_M, radius, d)
    if inner > 0.0:
        out_w.append(np.array([inner / (math.pi * radius * radius)]))
        out_lat.append(np.array([s_lat]))
        out_lon.append(np.array([s_lon]))
    if r_hi <= r_lo:
        return
    n_ring = max(1, math.ceil(math.log(r_hi / r_lo) / math.log(RING_RATIO) - 1e-9))
    edges = r_lo * (r_hi / r_lo) ** (np.arange(n_ring + 1) / n_ring)
    n_sec = round(360.0 / SECTOR_DEG)
    width = 2.0 * math.pi / n_sec
    if d > radius:  # only the sectors that can hold part of the disc
        half = math.asin(min(radius / d, 1.0)) + width
        bearing = math.atan2(cy, cx)
        k0 = math.floor((bearing - half) / width)
        k1 = math.ceil((bearing + half) / width)
        sectors = np.arange(k0, k1, dtype=float)
    else:
        sectors = np.arange(n_sec, dtype=float)
    # sub-points equally spaced in r^2 and angle: each stands for an equal share of its cell's area
    f = (np.arange(_SUB) + 0.5) / _SUB
    r2_in, r2_out = edges[:-1] ** 2, edges[1:] ** 2
    r_sub = np.sqrt(r2_in[:, None] + (r2_out - r2_in)[:, None] * f[None, :])  # (ring, sub)
    a_sub = (sectors[:, None] + f[None, :]) * width  # (sector, sub)
    x = r_sub[:, None, :, None] * np.cos(a_sub)[None, :, None, :]  # (ring, sector, sub_r, sub_a)
    y = r_sub[:, None, :, None] * np.sin(a_sub)[None, :, None, :]
    inside = (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius
    if owner is not None:  # only where this release is the nearest (the disc's centre plane: east, north)
        near, k = owner
        inside &= _owner(near, la, lo, x - cx, y - cy) == k
    n_in = inside.sum(axis=(2, 3))
    keep = n_in > 0
    area = 0.5 * width * (r2_out - r2_in)[:, None] * n_in / (_SUB * _SUB)  # (ring, sector) [m2]
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.where(inside, x, 0.0).sum(axis=(2, 3)) / n_in
        my = np.where(inside, y, 0.0).sum(axis=(2, 3)) / n_in
    scale = 1.0
    if owner is None:  # the sub-points' share of each cell, scaled to the exact area between r_lo and r_hi
        exact = _lens_m2(r_hi, radius, d) - _lens_m2(r_lo, radius, d)
        total = float(area[keep].sum())
        scale = exact / total if total > 0 else 0.0
    out_w.append(area[keep] * scale / (math.pi * radius * radius))
    out_lat.append(s_lat + np.degrees(my[keep] / EARTH_RADIUS_M))
    out_lon.append(s_lon + np.degrees(mx[keep] / (EARTH_RADIUS_M * cos0)))


def _cat(parts: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    return np.concatenate(parts) if parts else np.zeros(0)


def _lens_m2(r: float, radius: float, d: float) -> float:
    """Area of the intersection of a circle of radius ``r`` and a disc of radius
    ``radius`` whose centres are ``d`` apart. [m2]"""
    if r <= 0.0 or radius <= 0.0:
        return 0.0
    if d >= r + radius:
        return 0.0
    if d <= abs(r - radius):
        return math.pi * min(r, radius) ** 2
    a = r * r * math.acos(max(-1.0, min(1.0, (d * d + r * r - radius * radius) / (2.0 * d * r))))
    b = radius * radius * math.acos(max(-1.0, min(1.0, (d * d + radius * radius - r * r) / (2.0 * d * radius))))
    c = 0.5 * math.sqrt(max(0.0, (-d + r + radius) * (d + r - radius) * (d - r + radius) * (d + r + radius)))
    return a + b - c
