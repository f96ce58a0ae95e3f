"""Exposure at receptors at the transport's own resolution.

Toxic load ``∫ C^n dt`` is convex in ``C``: averaging the concentration first, over
an output hour or over a 1° output cell, understates it (DESIGN.md, "Honest
numbers"). The receptor concentrations that feed the consequence stage are
therefore sampled here after **every transport step**, directly from the
particles, at a spatial scale set by the receptor itself and by the local
particle density, and not read back from the gridded output (and, for the
countdowns only, on the particles' ways within each step: :mod:`plumecast.exposure_rings`).

Far field: adaptive kernel estimate
    Around each receptor a set of nested discs of radius ``r_k = r_0 2^k``
    (``k = 0 .. K-1``, capped at :data:`MAX_RADIUS_M`) is searched. ``r_0`` is
    the receptor's own extent: for a city, the radius of a disc holding its
    population at :data:`URBAN_DENSITY_PER_KM2` (Angel et al. 2011 give
    2,000-10,000 km⁻² for the built-up areas of the world's cities; 5,000 is a
    mid value), at least :data:`MIN_RADIUS_M`. The estimate uses the smallest
    disc holding at least :data:`plumecast.exposure_kernel.MIN_PARTICLES` particles of the near-surface
    layer (a balloon / k-nearest-neighbour density estimate, Loftsgaarden &
    Quesenberry 1965, Ann. Math. Stat. 36, 1049), so that the scale follows the
    particle spacing where particles are sparse and the city's extent where they
    are dense:

        C = (mass of the particles below H inside the disc) / (π r_k² H)

    with ``H`` the near-surface layer depth of the output (``output.layer_depth_m``).

Near field: Gaussian plume around point sources
    Within ``near_field.distance_km`` of a point release a particle cloud of a
    few thousand particles cannot resolve a plume tens of metres wide, and the
    particles' constant eddy diffusivity is meant for synoptic scales. Receptors
    there get the steady Gaussian plume of :mod:`plumecast.nearfield.gaussian`
    (the same Briggs σ curves as ``plumecast zones``; a dense release, zones' dense
    cloud), driven by the wind at the source at the step's middle (where it has
    changed, along the plume's streak line: :mod:`plumecast.near_field_track`), carrying
    the mass that left the source in its emission window over a step
    (:meth:`NearFieldSource.step_mean_at`); the particles of that release are left
    out of the kernel estimate while they are younger than ``distance / 1 m s-1``
    and closer to their source than the near-field distance, so no mass is counted
    twice.

Beyond the near field: the larger of the plume's air and the particles'
    Beyond ``near_field.distance_km`` (d) a point release's particles, spread by the
    synoptic ``turbulence.kh_m2_s``, are far wider than its plume (29 times lower at 30.1
    km than the plume at 29.9 km; countdowns "never": docs/exposure.md). Out to
    :data:`PLUME_REACH_M` (100 km) the plume is still computed, and a place breathes, all its
    emission bins together, the larger of its release's particles' air and the plume's (the
    plume adds its air above theirs, in its own bins: no mass counted twice, never below either
    model, the same whatever bins the plans cut, and a termination drops the excess of the
    bins it drops). Within d the same rule
    replaces a sum (a kernel disc took in particles just beyond d on top of the plume). From
    100 to :data:`PLUME_FADE_END_M` (200 km) the plume is weighted down to 0, so the air does
    not jump where the particles alone take over. A release that can be dense has zones'
    cloud within 100 km (the range zones cover) and its passive Gaussian plume beyond. Once
    a neutralisation front is lit the plume beyond d carries only the air emitted since
    (the plume knows nothing of the front, which burns the gas it sweeps).

Near field: area-source plume around emitting cities
    The discs of a ``cities`` release are treated alike (:mod:`plumecast.exposure_area`,
    :mod:`plumecast.nearfield.area_source`): a receptor within ``near_field.distance_km``
    of a disc's edge gets that disc's air as the urban area-source plume (Gifford &
    Hanna 1973), and leaves the disc's young particles out of its kernel estimate
    while they are within that reach. A city's own air then does not depend on how
    many of its particles happen to sit in its disc.

Emission tags
    Every particle carries a tag: its release group and the emission-time bin of
    its birth. Concentrations are kept per tag, so that a termination (or any
    emission cut) at a bin edge is applied exactly afterwards by linearity of
    the transport in the emissions, without rerunning (DESIGN.md, "Plans and
    ensembles").

References
----------
* Angel, S., Parent, J., Civco, D.L. & Blei, A.M. (2011) *Making Room for a
  Planet of Cities*, Lincoln Institute of Land Policy, ch. 6 (urban densities).
* Loftsgaarden, D.O. & Quesenberry, C.P. (1965) A nonparametric estimate of a
  multivariate density function. Ann. Math. Statist. 36, 1049-1051.
* Stohl, A. et al. (2005) Technical note: The Lagrangian particle dispersion
  model FLEXPART version 6.2. Atmos. Chem. Phys. 5, 2461 (sect. 7: receptor
  concentrations sampled by kernel around receptor points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.area_peak import area_steps, other_air
from plumecast.concentration import receptor_coords
from plumecast.consequence_metrics import ArrivalFloor
from plumecast.countermeasures.front import great_circle_m
from plumecast.disc_samples import disc_samples
from plumecast.exposure_area import AreaNearField, no_area_kernel
from plumecast.exposure_kernel import N_RINGS, kernel_estimate, near_field_rings
from plumecast.exposure_rings import (  # noqa: F401 - area_skip, near_field_excluded, ring_add: the kernels' API here
    WAY_MASK_MARGIN_M,
    WAY_PLACES_PER_CALL,
    ReceptorIndex,
    area_skip,
    chord2,
    n_sub,
    near_field_excluded,
    path_peaks,
    ring_add,
    ring_sums,
)
from plumecast.near_field_cut import steady_air
from plumecast.near_field_drift import drifted, knots_in_step
from plumecast.near_field_fold import step_shift, sub_step_air, with_older
from plumecast.near_field_plume import (
    NEAR_FIELD_MIN_WIND_M_S,
    PLUME_FADE_END_M,
    PLUME_REACH_M,
    NearFieldSource,
    plume_weight,
)
from plumecast.near_field_track import carrying_vector, changed_wind_steps, speed_span, track_at
from plumecast.near_field_turn import knot_clouds, swept
from plumecast.nearfield.gaussian import at_pure_vapour
from plumecast.nearfield.stability import PG_CLASSES
from plumecast.receptors import Receptors, reach_mask
from plumecast.shelter_lag import note_lagging

#: Built-up population density used to turn a city's population into its extent. [km-2]
URBAN_DENSITY_PER_KM2 = 5000.0
#: Smallest kernel radius (a point receptor, a small town). [m]
MIN_RADIUS_M = 1000.0
#: Largest kernel radius; beyond it the receptor sees the concentration of a ~1° cell. [m]
MAX_RADIUS_M = 100_000.0

CONC_UNITS = "kg m-3"


def receptor_radius_m(population: NDArray[np.float64]) -> NDArray[np.float64]:
    """Extent of each receptor: the radius of a disc holding its population at :data:`URBAN_DENSITY_PER_KM2`, at
    least :data:`MIN_RADIUS_M`; unknown population -> :data:`MIN_RADIUS_M`. [m]"""
    pop = np.nan_to_num(np.asarray(population, dtype=float), nan=0.0)
    r = np.sqrt(np.maximum(pop, 0.0) / (math.pi * URBAN_DENSITY_PER_KM2)) * 1000.0
    return np.clip(r, MIN_RADIUS_M, MAX_RADIUS_M)


@dataclass(frozen=True)
class ReceptorExposure:
    """Concentration at receptors after every transport step, per emission tag.

    Attributes
    ----------
    time : (n_steps,) datetime64[ns], end of each step.
    dt_s : transport step. [s]
    conc : (n_tags, n_steps, n_receptor) near-surface concentration from the
        particles (and near-field plumes) of each tag. [kg m-3]
    tag_start_h, tag_end_h : (n_tags,) emission window of each tag, hours after start.
    tag_group : (n_tags,) release group (index into ``scenario.releases``).
    group_names : names of the release groups.
    on_grid : (n_receptor,) False where the receptor lies outside the wind domain
        (its figures are unknown, NaN).
    receptors : the receptor table.
    near_field : (n_receptor,) True where a near-field plume contributed.
    kernel_radius_m : (n_receptor,) median radius of the disc used over the steps
        with gas. [m]
    """

    time: NDArray[np.datetime64]
    dt_s: float
    conc: NDArray[np.float64]
    tag_start_h: NDArray[np.float64]
    tag_end_h: NDArray[np.float64]
    tag_group: NDArray[np.int64]
    group_names: tuple[str, ...]
    on_grid: NDArray[np.bool_]
    receptors: Receptors
    near_field: NDArray[np.bool_]
    kernel_radius_m: NDArray[np.float64]
    #: the city discs a point release's plume can cross (receptor indices), their parts (the cells of
    #: :func:`plumecast.disc_samples.disc_samples`: where each disc's start and end, ``part_ptr``, and each
    #: one's share of its disc's people, ``part_weight``), and the plume's air at each part after each step
    #: from each near-field release, ``part_c`` (n_steps, n_sources, n_parts) [kg m-3], with the emission tag
    #: that air belongs to, ``part_tag``; the discs' ``conc`` holds the parts' mean (see :func:`by_part`)
    part_receptors: NDArray[np.int64] | None = None
    part_ptr: NDArray[np.int64] | None = None
    part_weight: NDArray[np.float64] | None = None
    part_c: NDArray[np.float64] | None = None
    part_tag: NDArray[np.int32] | None = None
    #: the share of ``part_c`` that left the source in the emission-time bin before ``part_tag``'s (the
    #: plume's air over a step left in a window of one step, which may straddle a bin edge)
    part_early: NDArray[np.float64] | None = None
    #: the receptors some area source's plume gives air to, and per tag, step and such receptor how much
    #: more those plumes give at its disc's most exposed sample point than over the disc (its *spot*,
    #: :func:`plumecast.exposure_parts.by_part_kinds`; negative in some tags, never in their sum) [kg m-3]
    spot_receptors: NDArray[np.int64] | None = None
    spot_extra: NDArray[np.float64] | None = None
    #: the receptors whose disc those plumes are sampled at several points of (its parts, each with an
    #: equal share of its people: ``area_part_ptr``, CSR), and per tag, step and part the plumes' air
    #: there, ``area_part_c`` (n_tags, n_steps, n_parts) [kg m-3]; the discs' ``conc`` holds their mean
    area_part_receptors: NDArray[np.int64] | None = None
    area_part_ptr: NDArray[np.int64] | None = None
    area_part_c: NDArray[np.float64] | None = None
    #: for the countdowns only: how much more than the step's mean the point releases' near-field air
    #: reaches within the step (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`'s ``peak``),
    #: at each receptor that is a point, ``peak_extra`` (n_steps, n_receptor), and at each part of a disc,
    #: ``part_peak`` (n_steps, n_sources, n_parts) [kg m-3]; the exposure (``conc``, ``part_c``) is the means
    #: (``peak_extra`` also holds the particles' air within the step above its end sample, ``particle_peak``)
    peak_extra: NDArray[np.float64] | None = None
    part_peak: NDArray[np.float64] | None = None
    #: for a plan's countdowns only (``compare``): how much more than ``peak_extra`` (``part_peak``) the air of the
    #: point releases emitted before the bin edge of each step's air (the share tagged with the bin before) reaches
    #: above its own share of the mean within the step, ``edge_extra`` (n_steps, n_receptor) and ``part_edge``
    #: (n_steps, n_sources, n_parts) [kg m-3]: a plan that keeps that air and cuts the rest breathes its passing
    #: (:func:`plumecast.plans.evaluate.evaluate_plans`); 0 where the step's air has no bin edge
    edge_extra: NDArray[np.float64] | None = None
    part_edge: NDArray[np.float64] | None = None
    #: ... the area plumes' (:mod:`plumecast.area_peak`; in ``peak_extra`` at the receptors) at their spots
    #: (n_steps, n_spot) and at the discs' parts (n_steps, n_parts) [kg m-3]
    area_spot_peak: NDArray[np.float64] | None = None
    area_part_peak: NDArray[np.float64] | None = None
    #: ... and the area plumes' share of ``edge_extra`` (n_steps, n_receptor), and theirs at the spots and the
    #: discs' parts (:func:`plumecast.area_peak.edge_peaks`) [kg m-3]
    area_edge: NDArray[np.float64] | None = None
    area_spot_edge: NDArray[np.float64] | None = None
    area_part_edge: NDArray[np.float64] | None = None
    #: for the countdowns' floor only (:meth:`arrival_floor`): per step, the earliest time [s after the run start]
    #: the point releases' near-field air of the step can be at each receptor (a disc's: its parts' earliest),
    #: ``front_s`` (n_steps, n_receptor), and at each part, ``part_front_s`` (n_steps, n_parts) (inf: none of it;
    #: -inf: not known); and the rest of the air at each receptor (the particles', the area plumes'), ``other_air``
    #: (n_steps, n_receptor) [kg m-3]
    front_s: NDArray[np.float64] | None = None
    part_front_s: NDArray[np.float64] | None = None
    other_air: NDArray[np.float64] | None = None
    #: for the countdowns only: how much more than the end sample the particles' air reaches within each step
    #: (:mod:`plumecast.exposure_rings`), (n_steps, n_receptor) [kg m-3]; already in ``peak_extra`` and ``other_air``
    particle_peak: NDArray[np.float64] | None = None
    #: for the sheltered countdowns only: per step and receptor (n_steps, n_receptor), whether a point release whose
    #: carrying weather has changed since its release began (:func:`plumecast.near_field_track.changed_wind_steps`)
    #: can have near-field air there (a disc's: at any of its parts), and per step and part, ``part_wind_changed``
    #: (n_steps, n_parts): its building then takes the step's peak held over it (:mod:`plumecast.shelter_lag`)
    wind_changed: NDArray[np.bool_] | None = None
    part_wind_changed: NDArray[np.bool_] | None = None

    @property
    def n_tags(self) -> int:
        return int(self.conc.shape[0])

    def total(self, weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Concentration (step, receptor) summed over tags with optional per-tag
        weights (e.g. 0 for emissions a termination prevents). [kg m-3]"""
        if weights is None:
            out = self.conc.sum(axis=0)
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (self.n_tags,):
                raise ValueError(f"weights: {w.shape} for {self.n_tags} tags")
            out = np.tensordot(w, self.conc, axes=(0, 0))
        out = np.array(out, dtype=float)
        out[:, ~self.on_grid] = np.nan
        return out

    def arrival_floor(self) -> ArrivalFloor | None:
        """The earliest each receptor can reach a level its near-field air reaches (an ArrivalFloor,
        :mod:`plumecast.consequence_metrics`, of :attr:`front_s` and :attr:`other_air`); None: no fronts kept."""
        if self.front_s is None or self.other_air is None:
            return None
        return ArrivalFloor.of_steps(self.front_s, self.other_air)

    def to_dataarray(self, weights: NDArray[np.float64] | None = None) -> xr.DataArray:
        """``(time, receptor)`` DataArray (CF attributes) of :meth:`total`; NaN off the domain."""
        r = self.receptors
        return xr.DataArray(
            self.total(weights),
            dims=("time", "receptor"),
            coords={"time": self.time, **receptor_coords(r)},
            name="concentration",
            attrs={
                "units": CONC_UNITS,
                "standard_name": "mass_concentration_in_air",
                "long_name": "near-surface concentration at receptor after each transport step "
                "(adaptive kernel estimate from the particles; Gaussian plume near point sources); "
                "NaN outside the wind domain",
                "cell_methods": f"time: point (interval: {self.dt_s / 60:g} minutes)",
            },
        )


# --------------------------------------------------------------------------- tags


def tag_bins(n_steps: int, dt_s: float, cuts_h: Any) -> NDArray[np.int64]:
    """Step index at which each emission-time bin starts, from cut times in hours.

    Raises ValueError naming the cut if it does not fall on a step boundary.
    """
    edges = [0]
    for h in sorted({float(c) for c in (cuts_h or [])}):
        s = h * 3600.0 / dt_s
        k = int(round(s))
        if abs(s - k) > 1e-6:
            raise ValueError(f"emission tag at {h:g} h is not on a time step boundary (step {dt_s:g} s)")
        if 0 < k < n_steps and k not in edges:
            edges.append(k)
    return np.asarray(edges, dtype=np.int64)


# --------------------------------------------------------------------------- sampler


class ExposureSampler:
    """Accumulates :class:`ReceptorExposure` during a run (orchestration only; the
    physics is in the pure functions below)."""

    def __init__(
        self,
        receptors: Receptors,
        *,
        start64: np.datetime64,
        dt_s: float,
        n_steps: int,
        layer_depth_m: float,
        bin_starts: NDArray[np.int64],
        group_of_particle: NDArray[np.int32],
        birth_step: NDArray[np.int32],
        group_names: tuple[str, ...],
        on_grid: NDArray[np.bool_],
        near_field: list[NearFieldSource],
        near_field_distance_m: float,
        extent_m: NDArray[np.float64] | None = None,
        birth_frac: NDArray[np.float64] | None = None,
    ) -> None:
        self.receptors = receptors
        self.dt_s = float(dt_s)
        self.n_steps = int(n_steps)
        self.start64 = start64
        self.layer = float(layer_depth_m)
        n_groups = len(group_names)
        self.n_groups = n_groups
        self.group_names = group_names
        self.bin_starts = bin_starts
        bin_of_step = np.searchsorted(bin_starts, np.arange(n_steps), side="right") - 1
        self.bin_of_step = bin_of_step.astype(np.int64)
        self.tag = (bin_of_step[np.minimum(birth_step, n_steps - 1)] * n_groups + group_of_particle).astype(np.int32)
        self.n_tags = int(bin_starts.size * n_groups)
        self.group_of_particle = group_of_particle
        nrec = len(receptors)
        self.conc = np.zeros((self.n_tags, n_steps, nrec))
        self.on_grid = on_grid
        lat = np.asarray(receptors.lat, float)
        lon = np.asarray(receptors.lon, float)
        # the receptor's own extent: a city's built-up disc, 0 for a point
        self.extent = (receptor_radius_m(receptors.population) if extent_m is None
                       else np.clip(np.asarray(extent_m, dtype=float), 0.0, MAX_RADIUS_M))
        self.radii = ring_radii(np.maximum(self.extent, MIN_RADIUS_M))
        self.chord2 = chord2(self.radii)  # the discs' edges as squared chords (the particles' ways, exposure_rings)
        self.index = ReceptorIndex(lat, lon, MAX_RADIUS_M)
        # the kernels' cheap test: with ways within the steps, WAY_MASK_MARGIN_M farther (exposure_rings.way_is_long)
        self.mask = reach_mask(lat, lon, MAX_RADIUS_M + (WAY_MASK_MARGIN_M if n_sub(self.dt_s) > 1 else 0.0))
        self.radius_used = np.full((n_steps, nrec), np.nan)
        self.near = near_field
        self.nf_distance = float(near_field_distance_m)
        self.near_hit = np.zeros(nrec, bool)
        # point groups whose young particles the near-field plume replaces
        self.nf_group = np.zeros(n_groups, np.bool_)
        self.nf_lat = np.zeros(n_groups)
        self.nf_lon = np.zeros(n_groups)
        for src in near_field:
            self.nf_group[src.group] = True
            self.nf_lat[src.group] = src.lat
            self.nf_lon[src.group] = src.lon
        self.nf_max_age_steps = int(math.ceil(self.nf_distance / NEAR_FIELD_MIN_WIND_M_S / self.dt_s))
        # the largest disc of each tag at each receptor inside a near field (near_field_rings)
        self.max_ring = near_field_rings(self.radii, lat, lon, self.nf_group, self.nf_lat, self.nf_lon,
                                         self.nf_distance, self.n_tags)
        # the city discs a point release's plume can cross keep its air per part of the disc: a narrow
        # plume averaged over a city before the toxic load understates the deaths (docs/exposure.md)
        # (and those its plume reaches beyond the near field: module docstring)
        self.nf_reach = max(PLUME_FADE_END_M, self.nf_distance) if self.nf_distance > 0.0 else 0.0
        split = np.zeros(nrec, bool)
        for src in near_field:
            d = great_circle_m(src.lat, src.lon, lat, lon)
            split |= (self.extent > 0.0) & (d < self.nf_reach + self.extent)
        self.part_receptors = np.flatnonzero(split).astype(np.int64)
        self.samples = disc_samples(lat, lon, self.extent, self.part_receptors, [(s.lat, s.lon) for s in near_field],
                                    self.nf_reach)
        n_parts = int(self.samples.weight.size)
        self.part_parent = self.part_receptors[self.samples.disc_of_sample]  # each part's receptor
        self.part_c = np.zeros((n_steps, len(near_field), n_parts))
        self.part_tag = np.zeros((n_steps, len(near_field), n_parts), np.int32)
        self.part_early = np.zeros((n_steps, len(near_field), n_parts))  # the share of part_c from the bin before
        # the near-field air's peak within a step above its mean, for the countdowns (ReceptorExposure.peak_extra)
        self.part_peak = np.zeros((n_steps, len(near_field), n_parts))
        self.peak_extra = np.zeros((n_steps, nrec))
        # ... and how much more the air emitted before a step's bin edge can reach (ReceptorExposure.edge_extra)
        self.part_edge = np.zeros((n_steps, len(near_field), n_parts))
        self.edge_extra = np.zeros((n_steps, nrec))
        # for the countdowns' floor (ReceptorExposure.front_s): per step, the earliest time the point releases'
        # near-field air of the step can be at each receptor and part (inf: none), and that air at each receptor
        self.front_s = np.full((n_steps, nrec), np.inf)
        self.part_front_s = np.full((n_steps, n_parts), np.inf)
        self.nf_air = np.zeros((n_steps, nrec))
        # the receptors the near-field plume reaches at their centre: points (a disc's air is its parts')
        self.point_receptors = np.flatnonzero(self.extent <= 0.0).astype(np.int64)
        # where the plume is sampled: the points' centres, then the discs' parts (module disc_samples), each
        # point's receptor and share of its people
        pts = self.point_receptors
        self.where = (np.concatenate([lat[pts], self.samples.lat]), np.concatenate([lon[pts], self.samples.lon]),
                      np.concatenate([pts, self.part_parent]), np.concatenate([np.ones(pts.size), self.samples.weight]))
        # per near-field source and sample point: beyond the near field
        dist = np.array([great_circle_m(s.lat, s.lon, *self.where[:2]) for s in near_field]).reshape(
            len(near_field), self.where[0].size)
        self.nf_beyond = dist > self.nf_distance
        self.nf_weight = np.where(self.nf_beyond, plume_weight(dist), 1.0)  # the plume's weight at each
        self.nf_far = dist > PLUME_REACH_M  # where a dense-capable release's air is its passive plume's (its twin)
        self.nf_passive = [None if s.dense is None else replace(s, dense=None) for s in near_field]
        # when a neutralisation front was first lit [s] (inf: not yet), set by the runner: beyond the near
        # field the plumes then carry only the air emitted since (module docstring)
        self.front_lit_s = math.inf
        # per near-field source and step (NaN: not yet sampled), at the step's middle: the met's wind at the
        # source (u, v), the speed carrying its plume (a stack's at its top) [m s-1], its class (index into
        # PG_CLASSES) and lid [m], for the lines on its wind, class and dense cloud (plumecast.run_near_field)
        self.source_wind = np.full((len(near_field), n_steps, 5), np.nan)  # and the plume's wind (nf_track)
        self.nf_track = np.full((len(near_field), n_steps, 2), np.nan)
        # per source and step: the lowest and highest speed carrying its plume at the step's start, middle, end, records
        self.nf_speeds = np.full((len(near_field), n_steps, 2), np.nan)  # (NaN: not sampled; for its fronts)
        # per source and step: how far its carrying wind ran over the step [m] (the speed's integral, linear between
        # the step's ends, middle and the met's records; NaN: not sampled): its streak line's stretch of the step
        self.nf_run = np.full((len(near_field), n_steps), np.nan)
        self.nf_shift = np.full((len(near_field), n_steps, 2), np.nan)  # ... its air's shift where it turned within
        self.nf_classes = np.full((len(near_field), n_steps, 2), np.nan)  # ... and its classes' (their indices)
        # per step, receptor and part: a changed weather's plume has air there (plumecast.shelter_lag.note_lagging)
        self.nf_lag, self.part_lag = np.zeros((n_steps, nrec), bool), np.zeros((n_steps, n_parts), bool)
        self.lag_seen: dict[int, list[Any]] = {}  # per source: the steps shelter_lag.source_changed has read
        # per near-field source and sample point (points, then disc parts): the emission time up to which its
        # air has reached the point (NaN: none yet; NearFieldSource.step_mean_at)
        self.nf_delivered = np.full((len(near_field), self.point_receptors.size + self.samples.lat.size), np.nan)
        # per near-field source and receptor: whether its plume was held at the pure vapour's density
        # there (NearFieldSource.pure_vapour_kg_m3) in some step, and the farthest such sample [m]
        self.capped = np.zeros((len(near_field), nrec), bool)
        self.capped_reach_m = np.zeros(len(near_field))
        self.wind_at: Any = None  # (lon, lat, t_s) -> (u, v), set by the runner for the near field
        # when a neutralisation front burnt each receptor's air [s] (inf: not yet), set by the runner: from
        # then on the near-field plumes carry only the air emitted since (the particles it burnt are removed)
        self.burn_s = np.full(len(receptors), np.inf)
        # area sources (city discs) whose air the receptors near them get as a plume (use_area_plumes)
        self.area: AreaNearField | None = None
        self.spot_extra = np.zeros((self.n_tags, n_steps, 0))
        self.area_part_c = np.zeros((self.n_tags, n_steps, 0))
        self.area_peak, self.area_spot_peak, self.area_part_peak = (np.zeros((n_steps, 0)) for _ in range(3))  # area_peak
        self.area_edge, self.area_spot_edge, self.area_part_edge = (np.zeros((n_steps, 0)) for _ in range(3))
        self._no_area = no_area_kernel()
        self._kmass: NDArray[np.float64] | None = None  # the kernels' ring-shell buffers, reused call after call
        self._kcount: NDArray[np.int64] | None = None
        # the particles' air within each step, for the countdowns (module exposure_rings): into how many parts a
        # step is cut, the kernels' buffers of the places within the steps, the particles' places at the last
        # sample (for the host's sample), and how much more than the step's end sample that air reaches [kg m-3]
        self.n_sub = n_sub(self.dt_s)
        # the most steps of a kernel call (None: any): the ways' buffers hold WAY_PLACES_PER_CALL places a call
        self.steps_per_call = None if self.n_sub <= 1 else max(WAY_PLACES_PER_CALL // self.n_sub, 1)
        # each particle's part of its birth step before its emission: its places within the steps are read that
        # much of a step behind on its way (exposure_rings.path_add; release.birth_fractions)
        self.birth_frac = np.ascontiguousarray(np.zeros(birth_step.size) if birth_frac is None else birth_frac,
                                               dtype=np.float64)
        self._smass: NDArray[np.float64] | None = None
        self._scount: NDArray[np.int32] | None = None
        self._last: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
        self._last_step = -2
        self.particle_peak = np.zeros((n_steps, nrec))

    @property
    def area_kernel(self) -> tuple[Any, ...]:
        """The ring sums' area tuple (:func:`area_skip`): the plumes' arrays, or empty ones."""
        return self._no_area if self.area is None else self.area.kernel

    def use_area_plumes(self, area: AreaNearField | None) -> None:
        """Give the receptors near area sources those sources' air as a plume
        (:mod:`plumecast.exposure_area`), leaving their young particles out there, and keep
        the plumes' air at those receptors' most exposed points (:attr:`spot_extra`) and at
        their discs' parts (:attr:`area_part_c`)."""
        self.area = area
        n = 0 if area is None else area.spot_receptors.size
        self.spot_extra = np.zeros((self.n_tags, self.n_steps, n))
        self.area_part_c = np.zeros((self.n_tags, self.n_steps, 0 if area is None else int(area.part_ptr[-1])))
        self.area_peak = np.zeros((self.n_steps, 0 if area is None else len(self.receptors)))
        self.area_spot_peak = np.zeros((self.n_steps, n))
        self.area_part_peak = np.zeros(self.area_part_c.shape[1:])
        # ... and of the air emitted before a bin edge, for the plans (area_peak.edge_peaks; also in edge_extra)
        self.area_edge, self.area_spot_edge = np.zeros(self.area_peak.shape), np.zeros(self.area_spot_peak.shape)
        self.area_part_edge = np.zeros(self.area_part_peak.shape)

    def _host_shells(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        nrec = len(self.receptors)
        return np.zeros((N_RINGS, self.n_tags, nrec)), np.zeros((N_RINGS, self.n_tags, nrec), np.int64)

    def wants_start(self, step: int) -> bool:
        """Whether :meth:`sample` of ``step`` needs the particles' places at its start (:meth:`note_start`):
        the particles' air within the step is read (:data:`n_sub` > 1) and the last sample was not the step before."""
        return self.n_sub > 1 and self._last_step != step - 1

    def note_start(self, lon: NDArray[np.float64], lat: NDArray[np.float64], step: int) -> None:
        """The particles' places [deg] at the start of ``step`` (kept for :meth:`sample`'s ways within the step)."""
        if self.n_sub > 1:
            self._last = (np.array(lon, dtype=np.float64), np.array(lat, dtype=np.float64))
            self._last_step = step - 1

    def sample(self, lon: NDArray[np.float64], lat: NDArray[np.float64], z: NDArray[np.float32],
               mass: NDArray[np.float64], birth_step: NDArray[np.int32], status: NDArray[np.int8], step: int,
               wind_at: Any = None, lon0: NDArray[np.float64] | None = None,
               lat0: NDArray[np.float64] | None = None) -> None:
        """Add the concentrations after step ``step`` (particle state at its end), on the host; ``lon0``, ``lat0``:
        the particles' places at the step's start, for their air within it (default: the last sample's, where it
        was the step before; else none: the end sample alone)."""
        if self.area is not None:
            self.area.set_bands(step, 1, wind_at if wind_at is not None else self.wind_at)
        shell_mass, shell_count = self._host_shells()
        nrec = len(self.receptors)
        ns = self.n_sub if self.n_sub > 1 else 0
        sub = (np.zeros((1, ns, N_RINGS, self.n_groups, nrec)), np.zeros((1, ns, N_RINGS, self.n_groups, nrec), np.int32))
        if lon0 is None or lat0 is None:
            lon0, lat0 = self._last if self._last is not None and self._last_step == step - 1 else (lon, lat)
        ring_sums(lon, lat, z, mass, birth_step, status, self.tag, self.group_of_particle, int(step),
                  self.layer, self.nf_group, self.nf_lat, self.nf_lon, self.nf_distance, self.nf_max_age_steps,
                  self.area_kernel, self.index.band_start, self.index.order, self.index.lat, self.index.lon,
                  self.index.band_width_rad, self.index.max_radius_m, self.radii, shell_mass, shell_count,
                  np.asarray(lon0, dtype=np.float64), np.asarray(lat0, dtype=np.float64), self.index.xyz, self.chord2,
                  sub[0][0], sub[1][0], self.birth_frac)
        self.note_start(lon, lat, step + 1)
        self._add_shells(shell_mass[None], shell_count[None], step, wind_at, sub)

    def kernel_args(self, nblocks: int, nsteps: int, step0: int = 0) -> tuple[Any, ...]:
        """The arguments of the compiled kernels' receptor sampling (see
        ``kernels_numba._advance``), with fresh per-block ring-shell accumulators (and those of the
        particles' places within the steps, :func:`plumecast.exposure_rings.path_add`)."""
        if self.area is not None:  # the plumes' bands at each step of the call
            self.area.set_bands(step0, nsteps, self.wind_at)
        nrec = len(self.receptors)
        shape = (nblocks, nsteps, N_RINGS, self.n_tags, nrec)
        sub_shape = (nblocks, nsteps, self.n_sub if self.n_sub > 1 else 0, N_RINGS, self.n_groups, nrec)
        if (self._kmass is None or self._kcount is None or self._smass is None or self._scount is None
                or self._kmass.shape[:1] + self._kmass.shape[2:] != (nblocks, N_RINGS, self.n_tags, nrec)
                or self._kmass.shape[1] < nsteps):
            self._kmass = np.zeros(shape)
            self._kcount = np.zeros(shape, np.int64)
            self._smass = np.zeros(sub_shape)
            self._scount = np.zeros(sub_shape, np.int32)
        else:  # the same buffers for every call of a run, cleared
            self._kmass[:, :nsteps] = 0.0
            self._kcount[:, :nsteps] = 0
            self._smass[:, :nsteps] = 0.0
            self._scount[:, :nsteps] = 0
        ix = self.index
        return (True, self.layer, self.mask, self.tag, self.group_of_particle, self.nf_group, self.nf_lat, self.nf_lon,
                self.nf_distance, self.nf_max_age_steps, self.area_kernel, ix.band_start, ix.order, ix.lat, ix.lon,
                ix.band_width_rad, ix.max_radius_m, self.radii, self._kmass, self._kcount, ix.xyz, self.chord2,
                self._smass, self._scount, self.birth_frac)

    def add_kernel_sums(self, step0: int, nsteps: int) -> None:
        """Turn the kernel's ring shells of steps ``step0 .. step0 + nsteps - 1`` into concentrations (sums over the
        blocks in a fixed order: thread-count independent)."""
        assert self._kmass is not None and self._kcount is not None  # set by kernel_args before the call
        assert self._smass is not None and self._scount is not None
        self._add_shells(self._kmass[:, :nsteps].sum(axis=0), self._kcount[:, :nsteps].sum(axis=0), step0,
                         self.wind_at, (self._smass[:, :nsteps].sum(axis=0), self._scount[:, :nsteps].sum(axis=0)))

    def _add_shells(self, mass: NDArray[np.float64], count: NDArray[np.int64], step0: int, wind_at: Any,
                    sub: tuple[NDArray[np.float64], NDArray[np.int32]] | None = None) -> None:
        """Concentrations of steps ``step0 ..`` from their ring shells ``(step, ring, tag,
        receptor)``, all steps at once, the particles' air within those steps above them, for the countdowns
        (``sub``: :func:`plumecast.exposure_rings.path_peaks`; in :attr:`particle_peak` and ``peak_extra``), then
        the near-field plumes of those steps."""
        nsteps = mass.shape[0]
        conc, used = kernel_estimate(mass, count, self.radii, self.layer, self.max_ring)  # (step, tag, rec), (step, rec)
        self.conc[:, step0:step0 + nsteps, :] = np.moveaxis(conc, 0, 1)
        self.radius_used[step0:step0 + nsteps] = np.where(conc.sum(axis=1) > 0, used, np.nan)
        if sub is not None and sub[0].shape[1]:
            extra = path_peaks(mass, count, sub[0], sub[1], self.n_groups, self.radii, self.layer, self.max_ring, conc)
            self.particle_peak[step0:step0 + nsteps] = extra
            self.peak_extra[step0:step0 + nsteps] += extra
        if self.near:
            for k in range(nsteps):
                self._near_field_step(step0 + k, wind_at)
        if self.area is not None:  # with their peaks within the steps, for the countdowns (module area_peak)
            area_steps(self, step0, nsteps, wind_at)

    def _near_field_step(self, step: int, wind_at: Any) -> None:
        t0_s, t_end_s = step * self.dt_s, (step + 1) * self.dt_s
        pts = self.point_receptors
        where_lat, where_lon, owner, weight = self.where
        # a front burnt these receptors' air: only what left the source since is there
        burn = self.burn_s[owner]
        since = np.where(burn < t_end_s, burn, -np.inf)
        edges_s = np.asarray(self.bin_starts * self.dt_s, dtype=np.float64)
        self.nf_lag[step], self.part_lag[step] = False, False  # (set in a checkpoint written before they were kept)
        for si, src in enumerate(self.near):
            mine = since
            if self.front_lit_s < t_end_s:  # beyond the near field: the air emitted since a front was lit
                mine = np.where(self.nf_beyond[si], np.maximum(since, self.front_lit_s), since)
            c, bins, early, peak, front, edge = self._plume_step(si, src, step, where_lat, where_lon, wind_at,
                                                                 edges_s, mine)
            np.minimum.at(self.front_s[step], owner, front)  # a disc's: its parts' earliest
            np.minimum(self.part_front_s[step], front[pts.size:], out=self.part_front_s[step])
            # the peak within the step above the air breathed (the larger of the particles' and the plume's)
            w_si = self.nf_weight[si]
            there = self._group_air(step, src.group)[owner]  # its release's particles, every emission bin
            extra = np.maximum(np.maximum(there, w_si * peak) - np.maximum(there, w_si * c), 0.0)
            np.add.at(self.peak_extra[step], owner[:pts.size], extra[:pts.size])
            self.part_peak[step, si] = extra[pts.size:]
            self._note_source(si, src, step, c, where_lat, where_lon, wind_at, 0.5 * (t0_s + t_end_s), owner)
            note_lagging(self, si, step, c, peak, there)
            # the air at each sample point belongs to the tags of its emission times, so that a termination
            # removes it exactly (the bin of the window's end, and its share from the bin before)
            tags = (bins * self.n_groups + src.group).astype(np.int64)
            self._above_particles(si, c, there)
            if edges_s.size > 1:  # for the plans that keep the air emitted before a bin edge and cut the rest
                self._note_edge(si, step, edge, c, early, extra, there)
            self.part_c[step, si] = c[pts.size:]
            self.part_tag[step, si] = tags[pts.size:]
            self.part_early[step, si] = early[pts.size:]
            hit = np.flatnonzero(c > 0)
            if hit.size:
                cw = c[hit] * weight[hit]
                np.add.at(self.nf_air[step], owner[hit], cw)
                np.add.at(self.conc, (tags[hit], np.full(hit.size, step), owner[hit]), cw * (1.0 - early[hit]))
                two = early[hit] > 0
                if two.any():
                    np.add.at(self.conc, (tags[hit][two] - self.n_groups, np.full(int(two.sum()), step),
                                          owner[hit][two]), cw[two] * early[hit][two])
                self.near_hit[owner[hit]] = True

    def _plume_step(self, si: int, src: NearFieldSource, step: int, lat: NDArray[np.float64], lon: NDArray[np.float64],
                    wind_at: Any, edges_s: NDArray[np.float64], since: NDArray[np.float64],
                    ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64],
                               NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`NearFieldSource.step_mean_at` of source ``si`` at the sample points in ``step``: the steady
        plume of the step's wind and, where it has changed, the larger of it and the plume along the streak line's
        youngest stretch, plus the next older's (:mod:`plumecast.near_field_fold`); a dense-capable release
        has zones' cloud within :data:`PLUME_REACH_M` only, its passive Gaussian plume beyond. Fourth: the
        chosen plume's peak within the step (:meth:`NearFieldSource.step_mean_at`'s ``peak``), fifth the earliest
        its air can be there (its ``front``), sixth the peak of its air emitted before its bin edge (its ``edge``)."""
        t0_s, t_end_s = step * self.dt_s, (step + 1) * self.dt_s
        span, times, vec = None, None, None
        if wind_at is not None:  # the wind carrying its plume, step by step (a calm: the last step's way)
            last = self.nf_track[si, step - 1] if step > 0 else (1.0, 0.0)
            self.nf_track[si, step] = carrying_vector(*(mid := src.source_wind(wind_at, 0.5 * (t0_s + t_end_s))), last)
            times, winds = src.knot_winds(wind_at, t0_s, t_end_s, mid)  # the carrying winds within the step (once)
            ends, vec = [w[2] for w in winds], [w[:2] for w in winds]
            self.nf_speeds[si, step] = (min(ends), max(ends))
            self.nf_run[si, step] = float(np.trapezoid(ends, times))
            self.nf_shift[si, step] = step_shift(times, vec)
            self.nf_classes[si, step] = src.class_span(wind_at, t0_s, t_end_s)
            first = 0 if not math.isfinite(src.start_s) else min(max(int(src.start_s // self.dt_s), 0), step)
            span = speed_span(self.nf_track[si, first:step + 1], self.nf_speeds[si, first:step + 1])
        track = track_at(self.nf_track[si, :step + 1], self.dt_s, self.nf_reach, self.nf_run[si, :step + 1],
                         self.nf_speeds[si, :step + 1, 0], self.nf_shift[si, :step + 1])
        heading = self.nf_track[si, step] if wind_at is not None else None
        cls = None if track is None else src.class_and_lid(0.5 * (t0_s + t_end_s))[0]  # the middle's, read once
        out = self._plume_of(si, src, lat, lon, t0_s, t_end_s, wind_at, edges_s,  # only the air that went its way
                             steady_air(since, track, heading, src, t0_s, t_end_s, cls), self.nf_delivered, None,
                             heading, span=span, carried=track if track is not None and track.straight else None)
        clouds = knot_clouds(src, wind_at, times)  # its knots' weathers, read once for the turn's and line's sub-steps
        out = swept(lambda la, lo, a, b, way, top=True, cut=-math.inf: self._plume_of(si, src, la, lo, a, b, wind_at,
                    edges_s, since if top else sub_step_air(since, track, way, t0_s, t_end_s, cls, src.terrain, cut),
                    None, None, way, top=top), src, lat, lon, t0_s, t_end_s, wind_at, out, times, vec, clouds)
        if track is None:  # a straight line: the same plume
            return out
        # the line's windows are its own travel times, not what a place has breathed (docs/exposure.md, session 38)
        peak, front, edge = out[3], out[4], out[5]
        assert cls is not None  # read with the track
        knots = knots_in_step(track, cls, src.terrain)
        for branch in (0, 1):
            along = drifted(lambda la, lo, a, b, line, k=branch: self._plume_of(  # the line within the step
                si, src, la, lo, a, b, wind_at, edges_s, since, None, line, None, k, span=span), src, lat, lon, t0_s,
                t_end_s, track, branch, knots, cls, clouds)
            out = with_older(out, along, branch, (src, track, lat, lon, cls, t_end_s))  # type: ignore[assignment]
            peak, front, edge = np.maximum(peak, along[3]), np.minimum(front, along[4]), np.maximum(edge, along[5])
        # the peaks and fronts of all plumes (session 49) where the speed rises within the step (after a lull the
        # steady plume's catch-up, whose step mean the line's outgrows over a 300-s step, had been left out) or
        # where none has air in the step's mean (the chosen one is then the steady plume, and the line's peak, in
        # a wind slowing to a lull, had been left out: AEGL-1 3 km out at 11.0 min with 60-s steps, 10.7 with
        # 10-s steps), or where the line is not straight (its air sweeps a place within the step, module
        # near_field_drift); elsewhere the plume of the largest mean's, as before
        every = out[0] <= 0.0
        if src.speed_rises(wind_at, t0_s, t_end_s) or not track.straight:
            every[:] = True
        if not every.any():
            return out
        return (out[0], out[1], out[2], np.where(every, peak, out[3]), np.where(every, front, out[4]),
                np.where(every, edge, out[5]))

    def _plume_of(self, si: int, src: NearFieldSource, lat: NDArray[np.float64], lon: NDArray[np.float64],
                  t0_s: float, t_end_s: float, wind_at: Any, edges_s: NDArray[np.float64], since: NDArray[np.float64],
                  delivered: NDArray[np.float64] | None, track: Any, heading: Any = None, branch: int = 0,
                  span: tuple[float, float] | None = None, carried: Any = None, top: bool = True,
                  ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64],
                             NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`_plume_step`'s plume, steady (``track`` None) or along ``track``, windows in ``delivered[si]``
        (None: each step's own), its peak within the step, the earliest its air can be there (``span``: speed_span)
        and the peak of its air from before its bin edge (``top`` False: the mean alone, the last three not read)."""
        far, passive = self.nf_far[si], self.nf_passive[si]
        peak, front, edge = np.zeros(lat.size), np.full(lat.size, np.inf), np.zeros(lat.size)
        c, bins, early = np.zeros(lat.size), np.zeros(lat.size, np.int64), np.zeros(lat.size)
        whole = passive is None or not far.any()  # one plume (a dense-capable release's twin beyond its reach)
        for part, who in (((np.ones(lat.size, bool), src),) if whole else ((~far, src), (far, passive or src))):
            if not part.any():
                continue
            done = None if delivered is None else delivered[si, part]  # a copy, updated by the call and put back
            high, first, before = np.zeros(int(part.sum())), np.zeros(int(part.sum())), np.zeros(int(part.sum()))
            got = who.step_mean_at(lat[part], lon[part], t0_s, t_end_s, self.nf_reach, wind_at, edges_s,
                                   since[part] if np.isfinite(since[part]).any() else None, done, track, heading,
                                   branch, high if top else None, first if top else None, speed_span=span,
                                   edge=before if top else None, carried=carried)
            if delivered is not None:
                delivered[si, part] = done
            c[part], bins[part], early[part] = got
            peak[part], front[part], edge[part] = high, first, before
        return c, bins, early, peak, front, edge

    def _note_edge(self, si: int, step: int, edge: NDArray[np.float64], excess: NDArray[np.float64],
                   early: NDArray[np.float64], extra: NDArray[np.float64], there: NDArray[np.float64]) -> None:
        """Keep, for ``compare``'s plans, how much more than the step's peak above its mean (``extra``, that of
        :attr:`peak_extra` and :attr:`part_peak`) the air source ``si`` emitted before its bin edge can reach
        above its own share of the step's mean air, both above its release's particles' air ``there`` as the
        step's air is (``edge``: its peak, from :meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`;
        ``excess``: the plume's air above the particles', ``early`` the share of it from the bin before):
        :attr:`ReceptorExposure.edge_extra` and :attr:`ReceptorExposure.part_edge`."""
        pts = self.point_receptors.size
        owner = self.where[2]
        above = np.maximum(self.nf_weight[si] * edge - there, 0.0)
        more = np.maximum(above - early * excess - extra, 0.0)
        np.add.at(self.edge_extra[step], owner[:pts], more[:pts])
        self.part_edge[step, si] = more[pts:]

    def _group_air(self, step: int, group: int) -> NDArray[np.float64]:
        """The air of release group ``group``'s particles at each receptor in ``step``, all its emission bins
        together (the tags ``bin * n_groups + group``). [kg m-3]"""
        return np.asarray(self.conc[group::self.n_groups, step, :].sum(axis=0), dtype=np.float64)

    def _above_particles(self, si: int, c: NDArray[np.float64], there: NDArray[np.float64]) -> None:
        """Turn the plume's air ``c`` at the sample points (of source ``si``; changed in place) into its air above its
        release's particles' at each point, ``there`` (:meth:`_group_air` at each point's receptor), all emission
        bins together: the point then breathes the larger of the two (module docstring). The excess stays in the
        plume's own bins (the bin of its window, and its ``early`` share in the bin before), so that a termination
        that drops them drops it, as a transport of the cut release would. Taken over all bins, every plan's air
        is a sum over its kept bins with the same weights whatever other bins the comparison cuts (bin by bin, a
        plan's cut times had raised the baseline's figures: docs/exposure.md, audit of session 42)."""
        out = np.flatnonzero(c > 0)
        if out.size:
            c[out] = np.maximum(self.nf_weight[si, out] * c[out] - there[out], 0.0)

    def _note_source(self, si: int, src: NearFieldSource, step: int, c: NDArray[np.float64],
                     lat: NDArray[np.float64], lon: NDArray[np.float64], wind_at: Any, t_mid_s: float,
                     owner: NDArray[np.int64]) -> None:
        """Keep what the provenance says of a near-field source's step: the met's wind at the source and the speed
        that carried its plume (:attr:`source_wind`), and the receptors where its plume was held at the pure
        vapour (:attr:`capped`, :attr:`capped_reach_m`)."""
        if wind_at is not None:
            u_e, v_n = wind_at(src.lon, src.lat, t_mid_s)
            pg_class, lid_m = src.class_and_lid(t_mid_s)
            self.source_wind[si, step] = (float(u_e), float(v_n), src.source_wind(wind_at, t_mid_s)[2],
                                          PG_CLASSES.index(pg_class), lid_m)  # type: ignore[arg-type]
        at_cap = at_pure_vapour(c, src.pure_vapour_kg_m3)
        if at_cap.any():
            self.capped[si, owner[at_cap]] = True
            d = great_circle_m(src.lat, src.lon, lat[at_cap], lon[at_cap])
            self.capped_reach_m[si] = max(self.capped_reach_m[si], float(np.max(d)))

    def result(self) -> ReceptorExposure:
        times = self.start64 + (np.arange(1, self.n_steps + 1) * np.timedelta64(int(round(self.dt_s * 1e9)), "ns"))
        dt_h = self.dt_s / 3600.0
        starts, ends = self.bin_starts * dt_h, np.append(self.bin_starts[1:], self.n_steps) * dt_h
        tag_start, tag_end = np.repeat(starts, self.n_groups), np.repeat(ends, self.n_groups)
        tag_group = np.tile(np.arange(self.n_groups), self.bin_starts.size)
        with np.errstate(all="ignore"):
            used = np.nanmedian(np.where(np.isnan(self.radius_used).all(axis=0), 0.0, self.radius_used), axis=0) \
                if self.n_steps else np.zeros(len(self.receptors))
        changed = changed_wind_steps(self.nf_track, self.nf_speeds, [s.start_s for s in self.near], self.dt_s,
                                     self.source_wind[:, :, 3:5], self.nf_classes)
        return ReceptorExposure(
            time=times.astype("datetime64[ns]"), dt_s=self.dt_s, conc=self.conc, tag_start_h=tag_start,
            tag_end_h=tag_end, tag_group=tag_group.astype(np.int64), group_names=self.group_names,
            on_grid=self.on_grid, receptors=self.receptors, near_field=self.near_hit, kernel_radius_m=used,
            part_receptors=self.part_receptors, part_ptr=self.samples.ptr, part_weight=self.samples.weight,
            part_c=self.part_c, part_tag=self.part_tag, part_early=self.part_early,
            peak_extra=self.peak_extra, part_peak=self.part_peak, edge_extra=self.edge_extra,
            part_edge=self.part_edge, front_s=self.front_s,
            part_front_s=self.part_front_s, other_air=other_air(self),
            wind_changed=self.nf_lag & changed[:, None], part_wind_changed=self.part_lag & changed[:, None],
            spot_receptors=None if self.area is None else self.area.spot_receptors, spot_extra=self.spot_extra,
            area_part_receptors=None if self.area is None else self.area.part_receptors,
            area_part_ptr=None if self.area is None else self.area.part_ptr, area_part_c=self.area_part_c,
            area_spot_peak=self.area_spot_peak, area_part_peak=self.area_part_peak, particle_peak=self.particle_peak,
            area_edge=self.area_edge, area_spot_edge=self.area_spot_edge, area_part_edge=self.area_part_edge,
        )


def ring_radii(r0_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Radii of the nested discs, ``(receptor, N_RINGS)``: ``min(r0 2^k, MAX_RADIUS_M)``. [m]"""
    k = 2.0 ** np.arange(N_RINGS)
    return np.ascontiguousarray(np.minimum(np.asarray(r0_m, float)[:, None] * k[None, :], MAX_RADIUS_M))
