"""The receptors' air from nearby area sources (city discs), as a plume, not particles.

Orchestration of :mod:`plumecast.nearfield.area_source` for
:class:`plumecast.exposure.ExposureSampler`: which (area source, receptor) pairs
are near each other, the plume's concentration at each pair's receptor after
every step, and the arrays the ring sums use to leave those sources' young
particles out of those receptors (:func:`plumecast.exposure_rings.area_skip`).

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
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from plumecast.countermeasures.front import great_circle_m
from plumecast.nearfield.area_source import (
    area_plume_overlaps,
    area_plume_step,
    bin_time,
    emission_integral,
    front_distance,
    source_full_bins,
    spot_candidates,
    sunflower,
    travel_integral,
)
from plumecast.nearfield.area_steady import area_parts_apply, area_plume_apply, area_spot_apply
from plumecast.nearfield.stability import PG_CLASSES, pasquill_gifford_index_from_inverse_obukhov
from plumecast.transport.kernels_numpy import lonlat_to_xyz
from plumecast.units import EARTH_RADIUS_M

#: σ_z curves of the city discs: built-up land (McElroy & Pooler 1968, St. Louis, in
#: Briggs's 1973 urban fits), whatever ``near_field.terrain`` gives the point releases.
CITY_TERRAIN = "urban"

#: Roughness length of the city discs for their stability class from the met's Obukhov
#: length (Golder 1972): 1 m, "skimming" regular large obstacles, the lower end of town
#: centres, in the Davenport classification as revised by Wieringa (1992, J. Wind Eng.
#: Ind. Aerodyn. 41, 357-368). [m]
CITY_ROUGHNESS_M = 1.0

#: Mixing heights of the travel-distance tables a plume interpolates between (linearly in
#: ln H) when its lid comes from the met's boundary layer; outside them the nearest. [m]
LID_TABLE_M = np.geomspace(10.0, 10000.0, 37)


@dataclass
class AreaNearField:
    """The area sources' plumes at the receptors near them (see the module docstring).

    ``kernel`` is the tuple the ring sums take (:func:`plumecast.exposure_rings.area_skip`):
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
    #: the travel-distance tables ``(row, point)`` made so far (``_row``), on the points ``tab_d``
    tab_g: NDArray[np.float64]
    #: per row of ``tab_g``: the front distance S(d) of its class on the points ``tab_d`` (front_distance)
    tab_s: NDArray[np.float64]
    cum: NDArray[np.float64]
    bin_of_step: NDArray[np.int64]
    dt_s: float
    min_wind_m_s: float
    decay_rate_s: float
    dry_velocity_m_s: float
    #: the pairs in source order (the ring sums' lists, ``kernel[6]``), as indices of the pair arrays
    csr_order: NDArray[np.int64]
    #: per area group: release top [m]; the receptors' breathing height [m]; the fixed class
    #: (index into PG_CLASSES, or -1: from the met's boundary layer) and mixing height [m]
    group_top: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    breathing_height_m: float = 1.5
    class_index: int = 3
    mixing_height_m: float = math.inf
    #: ``(lon, lat, t_s) -> (mixing height [m], 1/L [m-1])`` at many points, from the met's
    #: boundary layer (``class_index`` -1), or None
    boundary_at: Any = None
    #: the winds read for the steps of the current kernel call, by (time, sampler) (``_winds``)
    _winds_held: dict[tuple[float, int], tuple[NDArray[np.float64], NDArray[np.float64]]] = field(
        default_factory=dict, repr=False)
    #: row of ``tab_g`` of each (group, class index, mixing height) made so far
    _rows: dict[tuple[int, int, float], int] = field(default_factory=dict, repr=False)
    #: each source's table rows and weight at the step last asked for (``_tables_at``)
    _rows_held: tuple[float, tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] | None = field(
        default=None, repr=False)
    #: the coarse peaks' rates (:func:`plumecast.area_peak.peak_rates`): each group's largest rate over each step
    #: and the one before, over its base rate, (group, step), and its emission integral; :meth:`add_step` reads them
    #: in place of the steps' own with ``peak``, and ``_steady_now`` says whether its step's own air was made
    #: from the steady winds' overlaps (then the peaks' are too)
    peak_coarse: tuple[NDArray[np.float64], NDArray[np.float64]] | None = field(default=None, repr=False)
    _steady_now: bool = field(default=False, repr=False)
    #: how many receptors' finer bounds were read, over the steps (their cost: :func:`plumecast.area_peak.area_peaks`)
    peak_refined: int = 0
    #: the pairs' winds of the last step whose plume bands were marked, and its marks (``set_bands``)
    _band_last: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]] | None = field(
        default=None, repr=False)
    #: the winds and tables of the last step, and the overlaps made for them (``area_plume_overlaps``)
    _last_key: tuple[NDArray[Any], ...] | None = field(default=None, repr=False)
    _overlaps: tuple[NDArray[np.float64], NDArray[np.int64]] | None = field(default=None, repr=False)
    #: under those winds, the points each pair's most exposed one is searched among and their overlaps
    #: (_steady_spots)
    _candidates: tuple[Any, ...] | None = field(default=None, repr=False)
    #: ... and the bins of the parts' points (_steady_parts)
    _part_overlaps: tuple[Any, ...] | None = field(default=None, repr=False)
    #: for the plumes' peaks within the steps (:mod:`plumecast.area_peak`): the parts of
    #: a step their rates are read on, each group's emission integral on them of its largest rate over the
    #: part before each part, the emission bin of each part, and per step whether the rates within it (over
    #: the step before each part) differ from the step's mean rate; None: never (a steady release)
    peak_parts: int = 1
    peak_cum: NDArray[np.float64] | None = field(default=None, repr=False)
    peak_bins: NDArray[np.int64] | None = field(default=None, repr=False)
    peak_differs: NDArray[np.bool_] | None = field(default=None, repr=False)
    #: for a plan's own passing cloud (:func:`plumecast.area_peak.edge_peaks`): each group's largest rate over
    #: each step and the one before, over its base rate, (group, step); None where the run has one emission bin
    edge_rates: NDArray[np.float64] | None = field(default=None, repr=False)
    #: the levels the countdowns read (:class:`plumecast.area_peak.Stakes`); None: every place is at stake. The
    #: parts' finer bound is read only where the coarse one reaches a level not yet reached
    #: (:func:`~plumecast.area_peak.area_peaks`)
    peak_levels: Any = field(default=None, repr=False)
    #: what the places' air has reached so far (:class:`plumecast.area_peak.Seen`; made again from the exposure
    #: after a resume)
    peak_seen: Any = field(default=None, repr=False)

    @classmethod
    def build(
        cls, groups: list[Any], emitted_kg: NDArray[np.float64], dt_s: float,
        source_of_particle: NDArray[np.int32], rec_lat: NDArray[np.float64], rec_lon: NDArray[np.float64],
        rec_extent_m: NDArray[np.float64], bin_of_step: NDArray[np.int64], *, distance_m: float, stability: str, mixing_height_m: float,
        min_wind_m_s: float, breathing_height_m: float, decay_rate_s: float, dry_velocity_m_s: float = 0.0,
        boundary_at: Any = None,
    ) -> AreaNearField | None:
        """The pairs and tables of a run; None when it has no area source near a receptor.

        ``groups``: the run's :class:`plumecast.release.SourceGroup` list;
        ``emitted_kg``: ``(step, group)`` mass emitted [kg] (the particles' own);
        ``source_of_particle``: each particle's index in the concatenated sources;
        ``bin_of_step``: the emission-tag bin of each step. ``stability``: a Pasquill-Gifford
        class, or ``auto``: with ``boundary_at`` (``(lon, lat, t_s) -> (h, 1/L)``, the
        met's boundary layer) each source's class at each step from the met's Obukhov
        length (Golder 1972, :data:`CITY_ROUGHNESS_M`) under a lid at the met's mixing
        height; without it class D under ``mixing_height_m``.
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
        # the travel-distance tables: one per area group for a fixed class and lid, else made
        # as the steps ask for them (_row)
        max_d = float(np.max(2.0 * radius + distance_m)) * 1.01
        from_met = stability == "auto" and boundary_at is not None
        class_index = -1 if from_met else PG_CLASSES.index("D" if stability == "auto" else stability)  # type: ignore[arg-type]
        group_top = np.array([float(g.height_m) for g in groups])
        d, _ = travel_integral(max_d, 0.0, breathing_height_m, "D", CITY_TERRAIN, math.inf)
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
        # each receptor's sample points: the most its pairs ask for (its smallest source beside it),
        # for all of them, so that its parts (part_receptors) are the same points whatever the source
        which = _sample_sets(ext[pair_rec], radius[pair_src])
        most = np.zeros(rlat.size, np.int64)
        np.maximum.at(most, pair_rec, which)
        pair_k0, pair_nk = _SET_START[most[pair_rec]], np.asarray(_SET_SIZES, np.int64)[most[pair_rec]]
        # the ring sums' lists: for each source, the receptors its plume covers (source order)
        order = np.argsort(pair_src, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(pair_src, minlength=n_src))]).astype(np.int64)
        max_age = np.where(is_area, np.ceil((2.0 * radius + distance_m) / min_wind_m_s / dt_s), 0).astype(np.int64)
        # which of those receptors lie in the source's plume band now (set_bands); all at first
        kernel = (np.ascontiguousarray(source_of_particle, np.int32), np.deg2rad(lat), np.deg2rad(lon), reach,
                  max_age, ptr, np.ascontiguousarray(pair_rec[order], np.int64), np.ones((1, pair_src.size), np.uint8))
        out = cls(
            kernel=kernel, rec_ptr=rec_ptr, pair_src=pair_src, pair_de=pair_de, pair_dn=pair_dn,
            pair_ext=ext[pair_rec], pair_k0=pair_k0, pair_nk=pair_nk, src_lat=lat, src_lon=lon,
            src_row=np.zeros(n_src, np.int64), src_q=q, src_radius=radius,
            src_reach=reach, src_group=src_group, near_sources=np.unique(pair_src), tab_d=d,
            tab_g=np.zeros((0, d.size)), tab_s=np.zeros((0, d.size)), cum=emission_integral(factor, dt_s),
            bin_of_step=np.ascontiguousarray(bin_of_step, np.int64),
            dt_s=float(dt_s), min_wind_m_s=float(min_wind_m_s), decay_rate_s=float(decay_rate_s),
            dry_velocity_m_s=float(dry_velocity_m_s), csr_order=order, group_top=group_top,
            breathing_height_m=float(breathing_height_m), class_index=class_index,
            mixing_height_m=float(mixing_height_m), boundary_at=boundary_at if from_met else None,
        )
        from plumecast.area_peak import peak_rates

        peak_rates(out, groups, factor)
        if not from_met:
            # each area source's group table (the class and lid of the whole run)
            for s in out.near_sources:
                out.src_row[s] = out._row(int(src_group[s]), class_index, float(mixing_height_m))
        return out

    def _row(self, group: int, class_index: int, mixing_height_m: float) -> int:
        """The row of ``tab_g`` of the travel-distance table of area group ``group`` under
        class ``PG_CLASSES[class_index]`` and a lid at ``mixing_height_m``, made the first
        time it is asked for."""
        key = (group, class_index, mixing_height_m)
        row = self._rows.get(key)
        if row is None:
            d, g = travel_integral(float(self.tab_d[-1]), float(self.group_top[group]), self.breathing_height_m,
                                   PG_CLASSES[class_index], CITY_TERRAIN, mixing_height_m)
            row = self._rows[key] = self.tab_g.shape[0]
            self.tab_g = np.ascontiguousarray(np.concatenate([self.tab_g, g[None, :]]))
            fr = front_distance(self.tab_d, PG_CLASSES[class_index], CITY_TERRAIN)
            self.tab_s = np.ascontiguousarray(np.concatenate([self.tab_s, fr[None, :]]))
        return row

    def _tables_at(self, t_s: float) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Each source's two table rows and the weight of the second at ``t_s``: its group's
        table for a fixed class and lid; from the met's boundary layer, the class of its
        Obukhov length (Golder 1972) and the two tables of :data:`LID_TABLE_M` round its
        mixing height, weighted linearly in ln H."""
        if self.boundary_at is None:
            return self.src_row, self.src_row, np.zeros(self.src_row.size)
        if self._rows_held is not None and self._rows_held[0] == t_s:
            return self._rows_held[1]
        s = self.near_sources
        h, inv_l = self.boundary_at(self.src_lon[s], self.src_lat[s], t_s)
        h = np.where(np.isfinite(h) & (h > 0.0), h, self.mixing_height_m if math.isfinite(self.mixing_height_m)
                     else LID_TABLE_M[-1])
        cls_i = pasquill_gifford_index_from_inverse_obukhov(inv_l, CITY_ROUGHNESS_M)
        pos = np.interp(np.log(h), np.log(LID_TABLE_M), np.arange(LID_TABLE_M.size, dtype=float))
        lo = np.minimum(np.floor(pos).astype(np.int64), LID_TABLE_M.size - 2)
        row_a = np.zeros(self.src_lat.size, np.int64)
        row_b = np.zeros(self.src_lat.size, np.int64)
        w_b = np.zeros(self.src_lat.size)
        n_lid = LID_TABLE_M.size
        for rows, lid in ((row_a, lo), (row_b, lo + 1)):
            # one table per (group, class, lid) the sources need, made once
            key = (self.src_group[s] * len(PG_CLASSES) + cls_i) * n_lid + lid
            uniq, inverse = np.unique(key, return_inverse=True)
            made = np.array([self._row(int(k // (len(PG_CLASSES) * n_lid)), int(k // n_lid % len(PG_CLASSES)),
                                       float(LID_TABLE_M[k % n_lid])) for k in uniq], np.int64)
            rows[s] = made[inverse]
        w_b[s] = pos - lo
        self._rows_held = (t_s, (row_a, row_b, w_b))
        return row_a, row_b, w_b

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
        last = self._band_last
        for k in range(nsteps):
            u, v = self._winds((step0 + k + 1) * self.dt_s, winds_at)
            uu, vv = u[src], v[src]
            if last is not None and np.array_equal(uu, last[0]) and np.array_equal(vv, last[1]):
                on[k] = last[2]  # the pairs' winds of the step before (steady met): the same marks
                continue
            speed = np.hypot(uu, vv)
            with np.errstate(invalid="ignore", divide="ignore"):
                ex = np.where(speed > 0, uu / speed, 1.0)
                ey = np.where(speed > 0, vv / speed, 0.0)
            x = de * ex + dn * ey
            y = -de * ey + dn * ex
            on[k] = np.isfinite(speed) & (np.abs(y) < reach) & (x > -reach)
            last = (uu, vv, on[k].copy())
        self._band_last = last
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

    @cached_property
    def _rates(self) -> NDArray[np.float64]:
        """``(group, step)``: each group's emission rate in each step over its base rate."""
        return np.ascontiguousarray(np.diff(self.cum, axis=1) / self.dt_s)

    def _overlap_size(self, u_e: NDArray[np.float64], v_n: NDArray[np.float64],
                      pair_src: NDArray[np.int64] | None = None) -> int:
        """The number of (pair, bin) overlaps :func:`area_plume_overlaps` would hold for the
        pairs' sources ``pair_src`` (default: the pairs')."""
        src = self.pair_src if pair_src is None else pair_src
        speed = np.maximum(np.hypot(u_e, v_n), self.min_wind_m_s)[src]
        far = (self.src_reach + self.src_radius)[src]
        with np.errstate(invalid="ignore"):
            bins = np.ceil(far / (speed * bin_time(self.dt_s, self.decay_rate_s)))
        return int(np.nansum(bins))

    @cached_property
    def spot_receptors(self) -> NDArray[np.int64]:
        """The receptors some area source's plume gives air to (those with pairs)."""
        return np.flatnonzero(np.diff(self.rec_ptr) > 0).astype(np.int64)

    @cached_property
    def _spot_col(self) -> NDArray[np.int64]:
        col = np.full(self.rec_ptr.size - 1, -1, np.int64)
        col[self.spot_receptors] = np.arange(self.spot_receptors.size)
        return col

    @cached_property
    def part_receptors(self) -> NDArray[np.int64]:
        """The receptors whose disc the plumes are sampled at several points of (its parts,
        :attr:`part_ptr`: the points of each one's pairs, each with an equal share of its
        people)."""
        first = self.rec_ptr[:-1]
        many = (np.diff(self.rec_ptr) > 0) & (self.pair_nk[np.minimum(first, self.pair_nk.size - 1)] > 1)
        return np.flatnonzero(many).astype(np.int64)

    @cached_property
    def part_ptr(self) -> NDArray[np.int64]:
        """Where each of :attr:`part_receptors`' parts start and end (CSR)."""
        n = self.pair_nk[self.rec_ptr[self.part_receptors]]
        return np.concatenate([[0], np.cumsum(n)]).astype(np.int64)

    @cached_property
    def _part_col(self) -> NDArray[np.int64]:
        col = np.full(self.rec_ptr.size - 1, -1, np.int64)
        col[self.part_receptors] = self.part_ptr[:-1]
        return col

    @cached_property
    def _no_col(self) -> NDArray[np.int64]:
        return np.full(self.rec_ptr.size - 1, -1, np.int64)

    def add_step(self, step: int, conc: NDArray[np.float64], hit: NDArray[np.bool_], winds_at: Any,
                 burn_s: NDArray[np.float64] | None = None, spot: NDArray[np.float64] | None = None,
                 parts: NDArray[np.float64] | None = None, peak: bool = False) -> None:
        """Add the plumes at the end of step ``step`` to ``conc`` ``(tag, receptor)``
        (a view of that step's concentrations) [kg m-3]; ``winds_at(lon, lat, t_s)``:
        the wind at many points [m s-1]; ``burn_s``: when a neutralisation front burnt
        each receptor's air [s] (``inf``: not yet; None: no front). ``spot``: ``(tag,
        receptor of spot_receptors)`` (zeros) gets the plumes' air at each of those discs'
        most exposed sample point (per pair, the point whose air summed over the tags is
        the largest; several pairs' summed) [kg m-3]. ``parts``: ``(tag, part)`` (zeros)
        gets the plumes' air at each part of :attr:`part_receptors` (:attr:`part_ptr`; their
        mean is what ``conc`` gets) [kg m-3]. ``peak``: the coarse peaks' rates (:attr:`peak_coarse`) in place
        of the steps' own, for the step whose own air was just made (:func:`plumecast.area_peak.coarse_peaks`)."""
        if parts is not None and parts.shape[1] == 0:
            parts = None
        rates, cum = self.peak_coarse if peak and self.peak_coarse is not None else (self._rates, self.cum)
        t_s = (step + 1) * self.dt_s
        u_e, v_n = self._winds(t_s, winds_at)
        row_a, row_b, w_b = self._tables_at(t_s)
        burn = np.full(self.rec_ptr.size - 1, np.inf) if burn_s is None else np.asarray(burn_s, np.float64)
        # the near sources' only: the others' winds and tables are never read (0, or fixed rows)
        key = tuple(a[self.near_sources] for a in (u_e, v_n, row_a, row_b, w_b))
        if peak:  # the peaks of the step whose own air was just made: made as that was
            steady = self._steady_now
        else:
            steady = self._last_key is not None and all(
                np.array_equal(a, b, equal_nan=True) for a, b in zip(key, self._last_key, strict=True))
            self._last_key = key
            if not steady:
                self._overlaps = None
                self._candidates = None
                self._part_overlaps = None
            elif self._overlaps is None and self._overlap_size(u_e, v_n) <= MAX_OVERLAPS:
                # the same winds and tables as the step before: each pair's share of each travel-distance bin
                # is the same too, made once from the sample points for the steps they stay so
                self._overlaps = area_plume_overlaps(
                    self.dt_s, self.rec_ptr, self.pair_src, self.pair_de, self.pair_dn, self.pair_ext, self.pair_k0,
                    self.pair_nk, _SAMPLES[0], _SAMPLES[1], row_a, row_b, w_b, self.src_q, self.src_radius,
                    self.src_reach, u_e, v_n, self.min_wind_m_s, self.tab_d, self.tab_g, self.tab_s,
                    self.decay_rate_s, self.dry_velocity_m_s)
            self._steady_now = steady and self._overlaps is not None
        if steady and self._overlaps is not None:  # a step is then a sum over bins
            overlap, pair_ptr = self._overlaps
            area_plume_apply(t_s, self.dt_s, self.rec_ptr, self.pair_src, overlap, pair_ptr, self.src_group,
                             rates, self.bin_of_step, self.cum.shape[0], self.decay_rate_s, burn, conc, hit)
            if spot is not None and self._steady_spots(t_s, u_e, v_n, row_a, row_b, w_b, burn, spot, rates):
                spot = None
            if parts is not None and self._steady_parts(t_s, u_e, v_n, row_a, row_b, w_b, burn, parts, rates):
                parts = None
            if spot is None and parts is None:
                return
            conc = np.zeros_like(conc)  # the mean is made: the sample points for the spot or parts alone
        area_plume_step(t_s, self.dt_s, self.rec_ptr, self.pair_src, self.pair_de, self.pair_dn, self.pair_ext,
                        self.pair_k0, self.pair_nk, _SAMPLES[0], _SAMPLES[1], row_a, row_b, w_b, self.src_q,
                        self.src_radius, self.src_reach, self.src_group, u_e, v_n, self.min_wind_m_s, self.tab_d,
                        self.tab_g, self.tab_s, cum, self.bin_of_step, self.cum.shape[0],
                        self.decay_rate_s, self.dry_velocity_m_s, burn, conc, hit,
                        spot if spot is not None else _NO_SPOT, self._spot_col if spot is not None else self._no_col,
                        parts if parts is not None else _NO_SPOT, self._part_col if parts is not None else self._no_col)

    def peak_first(self, step: int, winds_at: Any) -> int | None:
        """Where the plumes' air at step ``step`` can peak above the step's (:func:`plumecast.area_peak.area_peaks`),
        the first emission step the plumes can still hold air of (at most one step too early); None where none
        of the emission they hold came at a rate that changed within its step."""
        if self.peak_cum is None or self.peak_differs is None:
            return None
        first = self.held_first(step, winds_at)
        return first if first is not None and bool(self.peak_differs[first:step + 1].any()) else None

    def held_first(self, step: int, winds_at: Any) -> int | None:
        """The first emission step the plumes can still hold air of at step ``step`` (at most one step too early);
        None where no source is near."""
        u_e, v_n = self._winds((step + 1) * self.dt_s, winds_at)
        s = self.near_sources
        speed = np.maximum(np.hypot(u_e[s], v_n[s]), self.min_wind_m_s)
        with np.errstate(invalid="ignore"):
            back = (self.src_reach + self.src_radius)[s] / speed  # the oldest air the plumes hold [s]
        if not np.isfinite(back).any():
            return None
        return max(int(math.floor(step - float(np.nanmax(back)) / self.dt_s)) - 1, 0)

    def edges_held(self, step: int, winds_at: Any) -> list[tuple[int, int]]:
        """The emission-tag bin edges within the emission the plumes can hold at step ``step``, each as (the bin
        before it, the first step after it); none without :attr:`edge_rates`."""
        if self.edge_rates is None:
            return []
        first = self.held_first(step, winds_at)
        if first is None:
            return []
        lo, hi = int(self.bin_of_step[first]), int(self.bin_of_step[step])
        return [(k, int(np.searchsorted(self.bin_of_step, k + 1, side="left"))) for k in range(lo, hi)]

    def peak_at(self, part: int, n_tags: int, winds_at: Any, burn_s: NDArray[np.float64] | None,
                spot: NDArray[np.float64] | None, parts: NDArray[np.float64] | None,
                only: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
        """The plumes at the end of part ``part`` of the steps cut into :attr:`peak_parts` parts, from the
        largest rates over the part before each part (:attr:`peak_cum`), summed
        over the tags: at each receptor (returned), at each disc's most exposed point (``spot``, the most
        of any of its points) and at each part of a disc (``parts``) [kg m-3]
        (:func:`plumecast.area_peak.area_peaks`); ``only``: at those receptors (and their spots and parts)
        alone, 0 at the others."""
        assert self.peak_cum is not None and self.peak_bins is not None
        dt_part = self.dt_s / self.peak_parts
        t_s = part * dt_part
        step_t = (int(math.ceil(part / self.peak_parts - 1e-9))) * self.dt_s  # the winds of the step it ends
        u_e, v_n = self._winds(step_t, winds_at)
        row_a, row_b, w_b = self._tables_at(step_t)
        n_rec = self.rec_ptr.size - 1
        conc = np.zeros((n_tags, n_rec))
        burn = np.full(n_rec, np.inf) if burn_s is None else np.asarray(burn_s, np.float64)
        at_spot = None if spot is None or spot.size == 0 else np.zeros((n_tags, spot.size))
        at_parts = None if parts is None or parts.size == 0 else np.zeros((n_tags, parts.size))
        ptr = self.rec_ptr
        pairs: tuple[Any, ...] = (self.pair_src, self.pair_de, self.pair_dn, self.pair_ext, self.pair_k0, self.pair_nk)
        if only is not None:  # the pairs of those receptors alone (the others' ranges empty)
            count = np.where(only, np.diff(self.rec_ptr), 0)
            ptr = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
            pick = np.repeat(self.rec_ptr[:-1] - ptr[:-1], count) + np.arange(int(ptr[-1]))
            pairs = tuple(np.ascontiguousarray(a[pick]) for a in pairs)
        area_plume_step(t_s, dt_part, ptr, pairs[0], pairs[1], pairs[2], pairs[3], pairs[4], pairs[5],
                        _SAMPLES[0], _SAMPLES[1], row_a, row_b, w_b, self.src_q,
                        self.src_radius, self.src_reach, self.src_group, u_e, v_n, self.min_wind_m_s, self.tab_d,
                        self.tab_g, self.tab_s, self.peak_cum, self.peak_bins, self.cum.shape[0],
                        self.decay_rate_s, self.dry_velocity_m_s, burn, conc, np.zeros(n_rec, np.bool_),
                        at_spot if at_spot is not None else _NO_SPOT,
                        self._spot_col if at_spot is not None else self._no_col,
                        at_parts if at_parts is not None else _NO_SPOT,
                        self._part_col if at_parts is not None else self._no_col)
        if spot is not None and at_spot is not None:
            spot[:] = at_spot.sum(axis=0)
        if parts is not None and at_parts is not None:
            parts[:] = at_parts.sum(axis=0)
        return np.asarray(conc.sum(axis=0), dtype=float)

    def _steady_parts(self, t_s: float, u_e: NDArray[np.float64], v_n: NDArray[np.float64], row_a: NDArray[np.int64],
                      row_b: NDArray[np.int64], w_b: NDArray[np.float64], burn: NDArray[np.float64],
                      parts: NDArray[np.float64], rates: NDArray[np.float64]) -> bool:
        """:meth:`add_step`'s ``parts`` under steady winds and tables (the emission ``rates``, (group, step)), as :meth:`_steady_spots`
        makes the spots: each (pair, sample point) of the receptors with parts a pair of one
        point whose overlaps (:func:`area_plume_overlaps`) are made once for the steps the
        winds stay so, kept as its first and last bins' (between them, its source's whole
        bins', :func:`source_full_bins`); a step is then :func:`area_parts_apply`. False
        where there are too many to make (:data:`MAX_OVERLAPS`: the sample points make them then)."""
        if self._part_overlaps == ():
            return False
        if self._part_overlaps is None:
            pair_l, col_l, k_l = [], [], []
            for r in self.part_receptors:  # the pairs' points in the order of the parts
                ps = np.arange(self.rec_ptr[r], self.rec_ptr[r + 1])
                nk = int(self.pair_nk[ps[0]])
                i = np.repeat(np.arange(nk), ps.size)
                pair_l.append(np.tile(ps, nk))
                col_l.append(self._part_col[r] + i)
                k_l.append(self.pair_k0[ps[0]] + i)
            pair, col, k = np.concatenate(pair_l), np.concatenate(col_l), np.concatenate(k_l)
            src = self.pair_src[pair]
            if self._overlap_size(u_e, v_n, src) > MAX_OVERLAPS:
                self._part_overlaps = ()  # for as long as the winds stay so
                return False
            overlap, ov_ptr = area_plume_overlaps(  # each point as a disc of no extent (the samples' centre)
                self.dt_s, np.arange(pair.size + 1, dtype=np.int64), src,
                self.pair_de[pair] + self.pair_ext[pair] * _SAMPLES[0][k],
                self.pair_dn[pair] + self.pair_ext[pair] * _SAMPLES[1][k], np.zeros(pair.size),
                np.zeros(pair.size, np.int64), np.ones(pair.size, np.int64), _SAMPLES[0], _SAMPLES[1], row_a, row_b,
                w_b, self.src_q, self.src_radius, self.src_reach, u_e, v_n, self.min_wind_m_s, self.tab_d,
                self.tab_g, self.tab_s, self.decay_rate_s, self.dry_velocity_m_s)
            lo, hi = _nonzero_bins(overlap, ov_ptr)
            kept = np.flatnonzero(hi > lo)  # the points a pair's plume reaches at all, in the order of the parts
            first = overlap[ov_ptr[kept] + lo[kept]]
            last = overlap[ov_ptr[kept] + np.maximum(hi[kept] - 1, 0)]
            full, n_bins, ptr = source_full_bins(self.dt_s, src[kept], self.src_q.size, row_a, row_b, w_b, self.src_q,
                                                 self.src_radius, self.src_reach, u_e, v_n, self.min_wind_m_s,
                                                 self.tab_d, self.tab_g, self.tab_s, self.decay_rate_s,
                                                 self.dry_velocity_m_s)
            col_ptr = np.concatenate([[0], np.cumsum(np.bincount(col[kept], minlength=int(self.part_ptr[-1])))])
            owner = np.repeat(self.part_receptors, np.diff(self.part_ptr))
            self._part_overlaps = (col_ptr.astype(np.int64), np.ascontiguousarray(src[kept]), lo[kept], hi[kept],
                                   first, last, full, n_bins, ptr, np.unique(src[kept]), owner)
        col_ptr, src, lo, hi, first, last, full, n_bins, ptr, used, owner = self._part_overlaps
        area_parts_apply(t_s, self.dt_s, col_ptr, src, lo, hi, first, last, full, n_bins, ptr, used, self.src_group,
                         burn[owner], rates, self.bin_of_step, self.cum.shape[0], self.decay_rate_s, parts)
        return True

    def _steady_spots(self, t_s: float, u_e: NDArray[np.float64], v_n: NDArray[np.float64], row_a: NDArray[np.int64],
                      row_b: NDArray[np.int64], w_b: NDArray[np.float64], burn: NDArray[np.float64],
                      spot: NDArray[np.float64], rates: NDArray[np.float64]) -> bool:
        """:meth:`add_step`'s ``spot`` under steady winds and tables (the emission ``rates``, (group, step)); False where there are
        too many points to keep (:data:`MAX_OVERLAPS`: the sample points make it then).

        Each pair's points that can be its most exposed one (:func:`spot_candidates`: among its
        sample points and its crosswind lines' points) are
        made pairs of one point each, whose overlaps (:func:`area_plume_overlaps`, each bin's
        share of the point's air but for the emission rate) are made once for the steps the
        winds stay so; a step's air at each point is then a sum over the few bins it comes
        from (:func:`area_spot_apply`: the sums of :func:`area_plume_apply`).
        """
        if self._candidates == ():
            return False
        if self._candidates is None:
            cand_ptr, cand_e, cand_n = spot_candidates(self.pair_src, self.pair_de, self.pair_dn, self.pair_ext,
                                                       self.pair_k0, self.pair_nk, _SAMPLES[0], _SAMPLES[1],
                                                       self.src_radius, self.src_reach, u_e, v_n)
            pair = np.repeat(np.arange(self.pair_src.size), np.diff(cand_ptr))
            if self._overlap_size(u_e, v_n, self.pair_src[pair]) > MAX_OVERLAPS:
                self._candidates = ()  # for as long as the winds stay so
                return False
            ones = np.arange(cand_e.size + 1, dtype=np.int64)  # one point, one "receptor"
            overlap, ov_ptr = area_plume_overlaps(  # each point as a disc of no extent (the samples' centre)
                self.dt_s, ones, self.pair_src[pair], cand_e, cand_n, np.zeros(cand_e.size),
                np.zeros(cand_e.size, np.int64), np.ones(cand_e.size, np.int64), _SAMPLES[0], _SAMPLES[1], row_a,
                row_b, w_b, self.src_q,
                self.src_radius, self.src_reach, u_e, v_n, self.min_wind_m_s, self.tab_d, self.tab_g, self.tab_s,
                self.decay_rate_s, self.dry_velocity_m_s)
            first_nz, last_nz = _nonzero_bins(overlap, ov_ptr)
            self._candidates = (cand_ptr, overlap, ov_ptr, first_nz, last_nz)
        cand_ptr, overlap, ov_ptr, lo, hi = self._candidates
        area_spot_apply(t_s, self.dt_s, self.rec_ptr, cand_ptr, overlap, ov_ptr, lo, hi, self.src_group[self.pair_src],
                        burn, rates, self.bin_of_step, self.cum.shape[0], self.decay_rate_s, spot,
                        self._spot_col)
        return True


def _nonzero_bins(overlap: NDArray[np.float64], ov_ptr: NDArray[np.int64]) -> tuple[NDArray[np.int64],
                                                                                     NDArray[np.int64]]:
    """Each point's bins whose overlap (``overlap[ov_ptr[q]:ov_ptr[q + 1]]``) is not 0, ``lo
    .. hi - 1`` (none: 0 .. 0)."""
    n = ov_ptr.size - 1
    nz = np.flatnonzero(overlap > 0.0)
    owner = np.searchsorted(ov_ptr, nz, side="right") - 1
    lo = np.zeros(n, np.int64)
    hi = np.zeros(n, np.int64)
    if nz.size:
        new_owner = np.concatenate([[True], owner[1:] != owner[:-1]])
        ends = np.concatenate([owner[1:] != owner[:-1], [True]])
        lo[owner[new_owner]] = (nz - ov_ptr[owner])[new_owner]
        hi[owner[ends]] = (nz - ov_ptr[owner])[ends] + 1
    return lo, hi


_NO_SPOT = np.zeros((1, 1))

#: Most (pair, bin) overlaps kept for steady winds (``AreaNearField.add_step``; 8 bytes each):
#: more, and every step is made from the sample points (0: always).
MAX_OVERLAPS = 20_000_000

#: Sample points of a receptor's disc for an area-source plume: the centre, then 4, 16 and 64
#: equal-area points (Vogel's spiral of half of them and its mirror through the centre, so
#: that each set is centred), concatenated; :func:`_sample_sets` picks one per pair.
_SET_SIZES = (1, 4, 16, 64)
_SAMPLES = np.ascontiguousarray(np.concatenate(
    [np.zeros((2, 1)), *(np.concatenate([sunflower(n // 2), -sunflower(n // 2)], axis=1) for n in _SET_SIZES[1:])],
    axis=1))
_SET_START = np.concatenate([[0], np.cumsum(_SET_SIZES)[:-1]]).astype(np.int64)


def _sample_sets(extent_m: NDArray[np.float64], radius_m: NDArray[np.float64]) -> NDArray[np.int64]:
    """Each pair's sample set (index into :data:`_SET_SIZES`): a receptor whose disc is
    small beside the source's is sampled at fewer points (the plume varies over the
    source's scale): its centre up to R/8, 4 points up to R/4, 16 up to R/2, else 64."""
    ratio = np.asarray(extent_m, float) / np.maximum(np.asarray(radius_m, float), 1e-9)
    return np.searchsorted(np.array([0.125, 0.25, 0.5]), ratio, side="left").astype(np.int64)


def no_area_kernel() -> tuple[Any, ...]:
    """The ring sums' area tuple of a run without area-source plumes (nothing left out)."""
    return (np.zeros(0, np.int32), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, np.int64),
            np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros((1, 0), np.uint8))
