"""The receptors' air from nearby area sources (city discs), as a plume, not particles.

Orchestration of :mod:`plumecast.nearfield.area_source` for
:class:`plumecast.exposure.ExposureSampler`: which (area source, receptor) pairs
are near each other, the plume's concentration at each pair's receptor after
every step, and the arrays the ring sums use to leave those sources' young
particles out of those receptors (:func:`plumecast.exposure.area_skip`).

A pair is an area source ``s`` (centre, radius ``R``) and a receptor whose disc
comes within ``R + L`` of the centre, ``L`` being ``near_field.distance_km``. For
such a pair the receptor's air from ``s`` is the plume's wherever its sample
points lie within ``R + L`` of the centre; while the receptor lies in the plume's
band for the wind at that step (within ``R`` plus its own extent across the wind,
not wholly upwind; :meth:`AreaNearField.set_bands`), the particles of ``s`` are left out of its ring sums while they are within
``R + L`` of the centre and younger than ``(2 R + L) / u_min`` (the longest travel
time the plume covers at the near field's wind floor), so no air is counted twice.
The plume has no crosswind spread, so a receptor beside the band keeps the
particles, which carry the air that spreads to it. Elsewhere, and for every other
receptor, the particles carry the air as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from plumecast.countermeasures.front import great_circle_m
from plumecast.nearfield.area_source import (
    area_plume_step,
    emission_integral,
    sunflower,
    travel_integral,
)
from plumecast.transport.kernels_numpy import lonlat_to_xyz
from plumecast.units import EARTH_RADIUS_M

#: σ_z curves of the city discs: built-up land (McElroy & Pooler 1968, St. Louis, in
#: Briggs's 1973 urban fits), whatever ``near_field.terrain`` gives the point releases.
CITY_TERRAIN = "urban"


@dataclass
class AreaNearField:
    """The area sources' plumes at the receptors near them (see the module docstring).

    ``kernel`` is the tuple the ring sums take (:func:`plumecast.exposure.area_skip`):
    per particle its source, per source its centre [rad], reach [m], age limit
    [steps] and the list (CSR) of receptors whose air from it the plume gives.
    """

    kernel: tuple[Any, ...]
    rec_ptr: NDArray[np.int64]
    pair_src: NDArray[np.int64]
    pair_de: NDArray[np.float64]
    pair_dn: NDArray[np.float64]
    pair_ext: NDArray[np.float64]
    pair_k0: NDArray[np.int64]
    pair_nk: NDArray[np.int64]
    src_lat: NDArray[np.float64]
    src_lon: NDArray[np.float64]
    src_row: NDArray[np.int64]
    src_q: NDArray[np.float64]
    src_radius: NDArray[np.float64]
    src_reach: NDArray[np.float64]
    src_group: NDArray[np.int64]
    near_sources: NDArray[np.int64]
    tab_d: NDArray[np.float64]
    tab_g: NDArray[np.float64]
    cum: NDArray[np.float64]
    bin_of_step: NDArray[np.int64]
    bin_first: NDArray[np.int64]
    dt_s: float
    min_wind_m_s: float
    decay_rate_s: float
    dry_velocity_m_s: float
    #: the pairs in source order (the ring sums' lists, ``kernel[6]``), as indices of the pair arrays
    csr_order: NDArray[np.int64]
    #: the winds read for the steps of the current kernel call, by (time, sampler) (``_winds``)
    _winds_held: dict[tuple[float, int], tuple[NDArray[np.float64], NDArray[np.float64]]] = field(
        default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, groups: list[Any], emitted_kg: NDArray[np.float64], dt_s: float,
        source_of_particle: NDArray[np.int32], rec_lat: NDArray[np.float64], rec_lon: NDArray[np.float64],
        rec_extent_m: NDArray[np.float64], bin_of_step: NDArray[np.int64], *, distance_m: float, stability: str, mixing_height_m: float,
        min_wind_m_s: float, breathing_height_m: float, decay_rate_s: float, dry_velocity_m_s: float = 0.0,
    ) -> AreaNearField | None:
        """The pairs and tables of a run; None when it has no area source near a receptor.

        ``groups``: the run's :class:`plumecast.release.SourceGroup` list;
        ``emitted_kg``: ``(step, group)`` mass emitted [kg] (the particles' own);
        ``source_of_particle``: each particle's index in the concatenated sources;
        ``bin_of_step``: the emission-tag bin of each step.
        """
        if distance_m <= 0.0 or not any(g.area for g in groups):
            return None
        sizes = [g.rate_kg_s.size for g in groups]
        n_src = int(sum(sizes))
        src_group = np.repeat(np.arange(len(groups)), sizes).astype(np.int64)
        lat = np.concatenate([g.lat for g in groups]).astype(float)
        lon = np.concatenate([g.lon for g in groups]).astype(float)
        radius = np.concatenate([np.full(n, g.radius_m if g.area else 0.0) for g, n in zip(groups, sizes, strict=True)])
        is_area = radius > 0.0
        reach = np.where(is_area, radius + distance_m, 0.0)
        q = np.zeros(n_src)
        q[is_area] = np.concatenate([g.rate_kg_s / (math.pi * g.radius_m ** 2) for g in groups if g.area])
        # each group's rate in each emission step over its base rate: the particles' emitted mass
        base = np.array([float(g.rate_kg_s.sum()) for g in groups])
        factor = np.ascontiguousarray((emitted_kg / (dt_s * np.maximum(base, 1e-300))).T)
        # the travel-distance tables, one per area group
        rows: dict[int, int] = {}
        tables: list[NDArray[np.float64]] = []
        max_d = float(np.max(2.0 * radius + distance_m)) * 1.01
        for gi, g in enumerate(groups):
            if g.area:
                rows[gi] = len(tables)
                d, gt = travel_integral(max_d, g.height_m, breathing_height_m, stability, CITY_TERRAIN,
                                        mixing_height_m)
                tables.append(gt)
        src_row = np.array([rows.get(int(gi), 0) for gi in src_group], np.int64)
        # pairs: a receptor's disc within the reach of an area source
        rlat = np.asarray(rec_lat, float)
        rlon = np.asarray(rec_lon, float)
        ext = np.asarray(rec_extent_m, float)
        area_idx = np.flatnonzero(is_area)
        tree = cKDTree(lonlat_to_xyz(lon[area_idx], lat[area_idx]).T)
        pair_src_l: list[NDArray[np.int64]] = []
        pair_rec_l: list[NDArray[np.int64]] = []
        max_reach = float(reach[area_idx].max())
        for r in np.flatnonzero(np.isfinite(rlat) & np.isfinite(rlon)):
            ang = min((max_reach + ext[r]) / EARTH_RADIUS_M, math.pi)
            near = area_idx[np.asarray(tree.query_ball_point(lonlat_to_xyz(rlon[r:r + 1], rlat[r:r + 1])[:, 0],
                                                             2.0 * math.sin(0.5 * ang) * 1.0001), np.int64)]
            if near.size:
                near = near[great_circle_m(rlat[r], rlon[r], lat[near], lon[near]) < reach[near] + ext[r]]
            pair_src_l.append(np.sort(near))
            pair_rec_l.append(np.full(near.size, r, np.int64))
        pair_src = np.concatenate(pair_src_l) if pair_src_l else np.zeros(0, np.int64)
        if pair_src.size == 0:
            return None
        pair_rec = np.concatenate(pair_rec_l)
        # the plumes are summed receptor by receptor (pairs in receptor order, one thread each)
        rec_ptr = np.concatenate([[0], np.cumsum(np.bincount(pair_rec, minlength=rlat.size))]).astype(np.int64)
        # receptor centres east and north of the source centre (its tangent plane)
        dlon = ((rlon[pair_rec] - lon[pair_src] + 180.0) % 360.0) - 180.0
        pair_de = np.deg2rad(dlon) * EARTH_RADIUS_M * np.cos(np.deg2rad(lat[pair_src]))
        pair_dn = np.deg2rad(rlat[pair_rec] - lat[pair_src]) * EARTH_RADIUS_M
        pair_k0, pair_nk = _sample_sets(ext[pair_rec], radius[pair_src])
        # the ring sums' lists: for each source, the receptors its plume covers (source order)
        order = np.argsort(pair_src, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(pair_src, minlength=n_src))]).astype(np.int64)
        max_age = np.where(is_area, np.ceil((2.0 * radius + distance_m) / min_wind_m_s / dt_s), 0).astype(np.int64)
        # which of those receptors lie in the source's plume band now (set_bands); all at first
        kernel = (np.ascontiguousarray(source_of_particle, np.int32), np.deg2rad(lat), np.deg2rad(lon), reach,
                  max_age, ptr, np.ascontiguousarray(pair_rec[order], np.int64), np.ones((1, pair_src.size), np.uint8))
        return cls(
            kernel=kernel, rec_ptr=rec_ptr, pair_src=pair_src, pair_de=pair_de, pair_dn=pair_dn,
            pair_ext=ext[pair_rec], pair_k0=pair_k0, pair_nk=pair_nk, src_lat=lat, src_lon=lon, src_row=src_row,
            src_q=q, src_radius=radius,
            src_reach=reach, src_group=src_group, near_sources=np.unique(pair_src), tab_d=d,
            tab_g=np.ascontiguousarray(np.stack(tables)), cum=emission_integral(factor, dt_s),
            bin_of_step=np.ascontiguousarray(bin_of_step, np.int64),
            bin_first=np.searchsorted(bin_of_step, np.arange(int(bin_of_step.max()) + 1)).astype(np.int64),
            dt_s=float(dt_s), min_wind_m_s=float(min_wind_m_s), decay_rate_s=float(decay_rate_s),
            dry_velocity_m_s=float(dry_velocity_m_s), csr_order=order,
        )

    def set_bands(self, step0: int, nsteps: int, winds_at: Any) -> None:
        """Mark, for the ring sums of steps ``step0 .. step0 + nsteps - 1``, the pairs
        whose receptor disc lies in the source's plume band for the wind at the end of
        each step (the plume's own time: within ``R`` + the receptor's extent across
        the wind, not wholly upwind): only those receptors leave the source's young
        particles out at that step. The plume has no crosswind spread; a receptor
        beside the band keeps the particles, which carry the air that spreads to it."""
        o = self.csr_order
        if winds_at is None or o.size == 0:
            return
        self._winds_held = {}
        on = np.zeros((nsteps, o.size), np.uint8)
        src = self.pair_src[o]
        de, dn = self.pair_de[o], self.pair_dn[o]
        reach = self.src_radius[src] + self.pair_ext[o]
        for k in range(nsteps):
            u, v = self._winds((step0 + k + 1) * self.dt_s, winds_at)
            uu, vv = u[src], v[src]
            speed = np.hypot(uu, vv)
            with np.errstate(invalid="ignore", divide="ignore"):
                ex = np.where(speed > 0, uu / speed, 1.0)
                ey = np.where(speed > 0, vv / speed, 0.0)
            x = de * ex + dn * ey
            y = -de * ey + dn * ex
            on[k] = np.isfinite(speed) & (np.abs(y) < reach) & (x > -reach)
        self.kernel = (*self.kernel[:7], on)

    def _winds(self, t_s: float, winds_at: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The wind at every source near a receptor at ``t_s`` (0 at the others) [m s-1],
        read once per step: the bands of a kernel call's steps read it before the call,
        the plumes after it (the same records are held in between)."""
        key = (t_s, id(winds_at))
        if key not in self._winds_held:
            u = np.zeros(self.src_lat.size)
            v = np.zeros(self.src_lat.size)
            s = self.near_sources
            u[s], v[s] = winds_at(self.src_lon[s], self.src_lat[s], t_s)
            self._winds_held[key] = (u, v)
        return self._winds_held[key]

    def add_step(self, step: int, conc: NDArray[np.float64], hit: NDArray[np.bool_], winds_at: Any) -> None:
        """Add the plumes at the end of step ``step`` to ``conc`` ``(tag, receptor)``
        (a view of that step's concentrations) [kg m-3]; ``winds_at(lon, lat, t_s)``:
        the wind at many points [m s-1]."""
        t_s = (step + 1) * self.dt_s
        u_e, v_n = self._winds(t_s, winds_at)
        area_plume_step(t_s, self.dt_s, self.rec_ptr, self.pair_src, self.pair_de, self.pair_dn, self.pair_ext,
                        self.pair_k0, self.pair_nk, _SAMPLES[0], _SAMPLES[1], self.src_row, self.src_q,
                        self.src_radius, self.src_reach, self.src_group, u_e, v_n, self.min_wind_m_s, self.tab_d,
                        self.tab_g, self.cum, self.bin_of_step, self.bin_first, self.cum.shape[0],
                        self.decay_rate_s, self.dry_velocity_m_s, conc, hit)


#: Sample points of a receptor's disc for an area-source plume: the centre, then 4, 16 and 64
#: equal-area points (Vogel's spiral of half of them and its mirror through the centre, so
#: that each set is centred), concatenated; :func:`_sample_sets` picks one per pair.
_SET_SIZES = (1, 4, 16, 64)
_SAMPLES = np.ascontiguousarray(np.concatenate(
    [np.zeros((2, 1)), *(np.concatenate([sunflower(n // 2), -sunflower(n // 2)], axis=1) for n in _SET_SIZES[1:])],
    axis=1))
_SET_START = np.concatenate([[0], np.cumsum(_SET_SIZES)[:-1]]).astype(np.int64)


def _sample_sets(extent_m: NDArray[np.float64], radius_m: NDArray[np.float64]) -> tuple[NDArray[np.int64],
                                                                                         NDArray[np.int64]]:
    """First point and number of points of each pair's sample set: a receptor whose disc
    is small beside the source's is sampled at fewer points (the plume varies over the
    source's scale): its centre up to R/8, 4 points up to R/4, 16 up to R/2, else 64."""
    ratio = np.asarray(extent_m, float) / np.maximum(np.asarray(radius_m, float), 1e-9)
    which = np.searchsorted(np.array([0.125, 0.25, 0.5]), ratio, side="left")
    return _SET_START[which], np.asarray(_SET_SIZES, np.int64)[which]


def no_area_kernel() -> tuple[Any, ...]:
    """The ring sums' area tuple of a run without area-source plumes (nothing left out)."""
    return (np.zeros(0, np.int32), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, np.int64),
            np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros((1, 0), np.uint8))
