"""Threat zones of a local release: the zone polygons of each level of concern, the
wind-direction uncertainty sector and the result (:func:`compute_zones`; see the package
docstring). The physics lives in :mod:`~plumecast.nearfield.zones.setup` (plume setup,
dense-gas regime, levels), :mod:`~plumecast.nearfield.zones.stack` (a stack's plume rise),
:mod:`~plumecast.nearfield.zones.dense_finite` (a finite dense release),
:mod:`~plumecast.nearfield.zones.plume` (concentrations,
exposure series, level ratio), :mod:`~plumecast.nearfield.zones.boundary` (tips and
polygon edges) and :mod:`~plumecast.nearfield.zones.assessment` (receptors); their names
stay importable from here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from plumecast.agents import Agent
from plumecast.consequence import onset_floor
from plumecast.errors import DataFileError, ScenarioError
from plumecast.nearfield.stability import (
    GOLDER_MAX_ROUGHNESS_M,
    SIGMA_THETA_DEG,
    PGClass,
)
from plumecast.nearfield.zones.assessment import (
    _load_receptors,
    assess_receptors,
    edge_receptors,
    receptor_people_by_zone,
    receptor_shelter,
    zone_receptors,
)
from plumecast.nearfield.zones.boundary import (
    _TIP_POINTS,
    TIP_BRACKET,
    _bisect_boundary,
    _refine_crossings,
    boundary_factor,
)
from plumecast.nearfield.zones.near_source import puff_envelope, upwind_extent_m, upwind_lobe
from plumecast.nearfield.zones.plume import (
    FIRST_INTERVAL_S,
    N_SUBSAMPLES,
    N_TIME_INTERVALS,
    axis_peak_below,
    concentration_series,
    dense_axis_concentration,
    exposure_series,
    exposure_time_axis,
    exposure_windows,
    flammable_mass_kg,
    footprint_halfwidth,
    level_ratio,
    level_table_kg_m3,
    peak_concentration,
)
from plumecast.nearfield.zones.scenario import (
    LocalScenario,
)
from plumecast.nearfield.zones.setup import (
    MAX_DISTANCE_M,
    MIN_WIND_SPEED_M_S,
    Level,
    PlumeSetup,
    _sigmas,
    at_search_limit,
    dense_setup,
    exposure_duration,
    flammable_levels,
    lateral_halfwidth,
    lateral_shape,
    level_threshold,
    passive_transition_distance,
    plume_setup,
    release_profile,
    release_temperature,
    release_temperature_k,
    resolve_levels,
    to_local,
    to_lonlat,
)
from plumecast.nearfield.zones.stack import (
    lid_crossing_m,
)
from plumecast.nearfield.zones.windowed import (
    LevelRatio,
    WindowSeries,
)
from plumecast.numbers import plain
from plumecast.units import kg_m3_to_ppm

if TYPE_CHECKING:  # xarray is imported where receptors are assessed
    import xarray as xr

__all__ = [
    "FIRST_INTERVAL_S", "MAX_DISTANCE_M", "MIN_WIND_SPEED_M_S", "N_SUBSAMPLES", "N_TIME_INTERVALS", "TIP_BRACKET",
    "Level", "PlumeSetup", "ThreatZones", "Zone", "_TIP_POINTS", "_bisect_boundary", "_load_receptors",
    "_refine_crossings", "_sigmas", "assess_receptors", "boundary_factor", "compute_zones", "concentration_series",
    "default_direction_uncertainty_deg", "dense_axis_concentration", "dense_setup", "exposure_duration",
    "exposure_series", "exposure_time_axis", "exposure_windows", "flammable_levels", "flammable_mass_kg",
    "footprint_halfwidth", "level_ratio", "level_table_kg_m3", "level_threshold", "passive_transition_distance",
    "passive_reason", "peak_concentration", "plume_setup", "receptor_shelter", "release_profile", "release_temperature_k",
    "resolve_levels", "to_local", "to_lonlat",
]

# --------------------------------------------------------------------------- result


@dataclass
class Zone:
    """Footprint of one level: polygon in lon/lat and its extent."""

    level: Level
    polygon: Polygon  # lon/lat, degrees (empty when the level is never reached)
    polygon_local: Polygon  # metres, x downwind, y left of the wind
    max_distance_m: float
    min_distance_m: float
    area_m2: float
    threshold_at_tip_kg_m3: float = math.nan  # threshold at the farthest point [kg m-3]
    exposure_duration_at_tip_s: float = math.nan  # AEGL exposure duration there [s] (NaN: fixed level)
    people: Any = None  # plumecast.population.PopulationCount from a raster; None: no raster
    #: the part drawn from a dense cloud's gravity spread outside the crosswind profile (the upwind lobe, a
    #: puff's slumping discs), where the model gives no concentration (near_source.upwind_unknown) [m]
    spread_local: Polygon = field(default_factory=Polygon)

    @property
    def beyond_search_limit(self) -> bool:
        """True when the zone reaches the :data:`MAX_DISTANCE_M` search limit: it
        extends beyond it, and ``max_distance_m`` is the limit, not its real reach (:func:`at_search_limit`)."""
        return at_search_limit(self.max_distance_m)


@dataclass
class ThreatZones:
    """Result of :func:`compute_zones` (no file I/O)."""

    scenario: LocalScenario
    agent: Agent
    setup: PlumeSetup
    zones: list[Zone]
    uncertainty_half_angle_deg: float
    uncertainty_lines: list[LineString]  # lon/lat
    uncertainty_sector: Polygon  # lon/lat
    receptors: xr.Dataset | None = None
    warnings: list[str] = field(default_factory=list)
    receptors_searched: bool = False  # True when receptors were looked for (even if none found)
    receptors_given: bool = False  # True when compute_zones was handed its receptors (not the scenario's)
    population_source: str | None = None  # the raster people were counted from (None: no raster)
    flammable_mass_kg: float = math.nan  # between LFL and UFL in the steady plume (NaN: not flammable / a puff)
    points: xr.Dataset | None = None  # threat at the scenario's points (plumecast.nearfield.zones.points)
    #: per zone: the receptors' people in it (cities by the share of their disc it covers), the receptors in
    #: it and those of unknown people (:func:`~plumecast.nearfield.zones.assessment.receptor_people_by_zone`)
    receptor_people: list[tuple[float, int, int]] | None = None
    #: the cities whose disc reaches into a zone while its centre lies in no zone and outside the sector: their
    #: figures are computed at centres, so they are not assessed (name, people, the innermost zone reached)
    edge_receptors: list[tuple[str, float, str]] = field(default_factory=list)

    @property
    def model_name(self) -> str:
        """The concentration model, in words (printed by the CLI)."""
        d = self.setup.dense
        rise = self.setup.plume_rise
        if d is None and rise is not None:
            return (f"passive Gaussian from a stack with Briggs plume rise (final rise {rise.final_rise_m:.0f} m, "
                    f"effective height up to {rise.stack_height_m + rise.final_rise_m:.0f} m)")
        if d is None:
            return f"passive Gaussian ({passive_reason(self.scenario, self.setup)})"
        from plumecast.nearfield.zones.export import sig_text

        passive = (f"; the source's passive Gaussian from {sig_text(d.handover_m)} m" if math.isfinite(d.handover_m)
                   else "")
        return (f"dense gas: Britter & McQuaid (1988) {d.kind} release, workbook curves to "
                f"{sig_text(d.curves_end_m)} m, then passive Gaussian {'plume' if d.kind == 'continuous' else 'puff'}"
                f" from virtual sources{passive}")

    @property
    def people_basis(self) -> str:
        """What ``people inside`` counts, in words."""
        if self.population_source is not None:
            return f"population raster {self.population_source} (persons per cell, area-weighted)"
        spec = self.scenario.receptors
        parts = []
        if self.receptors_given:
            parts.append("the receptors given")
        elif spec.cities:  # the shipped GeoNames table holds cities of >= 15,000 people
            parts.append(f"GeoNames cities of >= {max(spec.min_population, 15000.0):,.0f} people")
        if spec.csv is not None and not self.receptors_given:
            parts.append(f"the receptors of {spec.csv.name}")
        if self.scenario.points and not self.receptors_given:
            n = len(self.scenario.points)
            parts.append(f"{n} named place{'s' if n > 1 else ''} (receptors.points)")
        if not parts:
            return "no population raster and no receptors: nobody is counted; people everywhere are unknown"
        listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        return f"no population raster: only {listed} are counted; people elsewhere are unknown"

    def table(self) -> list[dict[str, Any]]:
        """One row per level: threshold, maximum downwind distance, area, people inside.

        ``threshold_ppm`` / ``threshold_mg_m3`` are the threshold at the zone's
        tip, for an AEGL read at the exposure duration there
        (``exposure_duration_min``, elapsed since the onset floor was reached;
        NaN for a fixed level, ``fixed_level`` True, and for an AEGL never reached).
        People inside the zone's polygon (inner zones included):

        * ``people_inside``: from the population raster; NaN (unknown) without one.
          ``people_unknown_area_km2`` / ``people_unknown_cells``: the part of the
          zone the raster could not say (nodata or beyond its extent).
        * ``receptor_people_inside``: the people of the receptors inside: a city's
          (GeoNames, >= 15,000) spread evenly over its built-up disc, the share the zone
          covers; a listed receptor's (CSV, points) where it lies inside; with
          ``receptors_inside`` (the receptors the zone reaches) and
          ``receptors_unknown_population``; absent when receptors were not searched.
        * ``people_basis``: what was counted, in words.
        """
        mw = self.agent.molecular_weight_g_mol
        rows = []
        for k, z in enumerate(self.zones):
            thr = z.threshold_at_tip_kg_m3 if math.isfinite(z.threshold_at_tip_kg_m3) else z.level.threshold_kg_m3
            row: dict[str, Any] = {
                "level": z.level.name,
                "threshold_ppm": float(kg_m3_to_ppm(thr, mw)),
                "threshold_mg_m3": thr * 1e6,
                "exposure_duration_min": z.exposure_duration_at_tip_s / 60.0,
                "fixed_level": z.level.aegl is None,  # no exposure duration (ppm, mg/m3, LFL)
                "max_distance_m": z.max_distance_m,
                "area_km2": z.area_m2 / 1e6,
                "people_inside": math.nan if z.people is None else float(z.people.people),
                "people_unknown_area_km2": math.nan if z.people is None else float(z.people.unknown_area_km2),
                "people_unknown_cells": math.nan if z.people is None else float(z.people.unknown_cells),
                "people_basis": self.people_basis,
            }
            if self.receptors_searched:
                people, n_in, n_unknown = self.receptor_people[k] if self.receptor_people else (0.0, 0, 0)
                row["receptor_people_inside"] = float(people)
                row["receptors_inside"] = int(n_in)
                row["receptors_unknown_population"] = int(n_unknown)
            rows.append(row)
        return rows


def passive_reason(scenario: LocalScenario, setup: PlumeSetup) -> str:
    """Why a release without a stack is modelled as a passive (neutrally buoyant)
    plume, in words: ``dense_gas: off``, a vapour no denser than the air, a
    Britter-McQuaid criterion below the threshold, or a cloud passive before the
    first workbook curve (the tests of :func:`dense_setup`, in its order)."""
    from plumecast.nearfield import dense_gas as dg
    from plumecast.nearfield.zones.export import sig_text

    if scenario.release.dense_gas == "off":
        return "dense_gas: off in the scenario"
    m = scenario.agent.molecular_weight_g_mol / 1000.0
    t0, t_source, _ = release_temperature(scenario, setup)
    ta = scenario.meteorology.air_temperature_c + 273.15
    g0p = dg.reduced_gravity(m, t0, ta)
    u = max(scenario.meteorology.wind_speed_m_s, MIN_WIND_SPEED_M_S)  # the 10-m wind dense_setup reads
    if setup.duration_s > 0:
        threshold, kind = dg.CRITERION_CONTINUOUS, "continuous"
    else:
        threshold, kind = dg.CRITERION_INSTANTANEOUS, "instantaneous"

    def criterion(g0: float, mass: float) -> float:
        if setup.duration_s > 0:
            return dg.continuous_criterion(g0, dg.release_volume(mass / setup.duration_s, m, t0), u)
        return dg.instantaneous_criterion(g0, dg.release_volume(mass, m, t0), u)

    # a flashing liquefied gas's airborne mass is part droplets (the twice-flash rule): the density counts the
    # vapour alone (docs/dense_gas.md); say what the droplets' weight would make of it (dense audit: a flashing
    # ammonia tank read "lighter than air" without a word, where ALOHA and SLAB take a heavy two-phase cloud)
    prof = setup.release_profile
    droplets = ""
    flash, stored = math.nan, ""
    if prof is not None:
        flash = prof.flash_fraction
    elif t_source == "boiling point" and _liquid_at(scenario, ta):
        # a bare amount or rate taken to leave at its boiling point is a liquefied gas flashing: from pressurised
        # storage at the air's temperature (the usual case), part of it leaves as droplets too (Desert Tortoise 4,
        # 41 t of ammonia: these passive zones read its 0.8-2.8 km arcs 5-10x low; docs/validation.md)
        flash = _flash_at_air(scenario, ta)
        stored = " if it leaves pressurised storage at the air's temperature"
    if 0 < flash < 1:
        laden = min(2.0 * flash, 1.0) / flash  # airborne / vapour mass
        g0_laden = dg.reduced_gravity(laden * m, t0, ta)  # the droplets' mass in the vapour's volume
        crit_laden = criterion(g0_laden, setup.mass_kg / laden) if laden > 1 and g0_laden > 0 else 0.0
        if crit_laden >= threshold:
            droplets = (f"; {plain(100 * (1 - 1 / laden), 2)} % of the airborne mass is liquid droplets{stored} "
                        f"(flash fraction {plain(flash, 2)}, twice-flash rule), not counted in the density: "
                        "counted, the cloud would be dense "
                        f"(g0' = {plain(g0_laden, 2)} m/s², Britter-McQuaid criterion "
                        f"{sig_text(crit_laden)}), as heavy-gas models (ALOHA, SLAB) "
                        "treat such a two-phase release; these zones are the passive vapour's and may be far too "
                        "short (Desert Tortoise 4, 41 t of ammonia: its 0.8-2.8 km arcs read 5-10x below the "
                        "measurements; docs/validation.md)")
    elif stored:  # taken to flash, its share of droplets not computable
        droplets = ("; a liquefied gas flashing from pressurised storage also carries droplets, which make the "
                    "cloud denser than its vapour (their share is not computed: thermo.csv cannot give the liquid "
                    "properties it needs at this agent's boiling point), and heavy-gas models (ALOHA, SLAB) treat such a cloud as dense; "
                    "these zones are the passive vapour's and may be far too short (Desert Tortoise 4, 41 t of "
                    "ammonia: its 0.8-2.8 km arcs read 5-10x below the measurements; docs/validation.md)")
    if g0p <= 0:
        return (f"lighter than air: the vapour (M = {scenario.agent.molecular_weight_g_mol:g} g/mol at "
                f"{t0 - 273.15:.0f} °C) is no denser than the air at {ta - 273.15:.0f} °C, reduced gravity "
                f"g0' = {plain(g0p, 2)} m/s² <= 0{droplets}")
    crit = criterion(g0p, setup.mass_kg)
    if crit < threshold:
        return (f"Britter-McQuaid criterion {sig_text(crit)} is below the {threshold:g} a dense {kind} release "
                f"needs{droplets}")
    return (f"Britter-McQuaid criterion {sig_text(crit)} met (>= {threshold:g}), but the cloud turns passive "
            "within the workbook's near field, before its first published curve: its own Richardson number "
            "falls below the criterion there, so dense effects are left out")


def _flash_at_air(scenario: LocalScenario, air_k: float) -> float:
    """Flash fraction of the agent stored as a liquid under its own pressure at ``air_k`` and released to
    1 atm (as a tank's source model, :func:`plumecast.nearfield.source_models.tank`); NaN where the shipped
    thermo table lacks the agent's properties. [-]"""
    from plumecast.nearfield.source_models import load_thermo
    from plumecast.nearfield.source_models.two_phase import flash_fraction

    try:
        th = load_thermo(scenario.agent.name, scenario.agent.molecular_weight_g_mol)
        tb = th.boiling_point_k
        return flash_fraction(air_k, tb, th.liquid_heat_capacity_j_kg_k(tb), th.heat_of_vaporisation_j_kg(tb))
    except (DataFileError, ValueError):
        return math.nan


def _liquid_at(scenario: LocalScenario, air_k: float) -> bool:
    """Whether the agent can be stored as a liquid at ``air_k``: below its critical temperature (thermo.csv's
    ``hvap106_tc_k``; True where the table lacks it). Carbon monoxide (critical at -140 °C) had been told its
    droplets would make its cloud dense (review, session 39)."""
    from plumecast.nearfield.source_models import load_thermo

    try:
        return air_k < load_thermo(scenario.agent.name, scenario.agent.molecular_weight_g_mol)._need("hvap106_tc_k")
    except DataFileError:
        return True


def default_direction_uncertainty_deg(pg_class: PGClass, wind_speed_m_s: float) -> float:
    """Half-angle of the wind-direction uncertainty lines. [deg]

    Twice the typical σ_θ of the stability class (US EPA 2000, Table 6-8a;
    about 95 % of 10-min directions for a normal distribution), at least 10°;
    a full circle (180°) below 1 m/s, where the direction is not meaningful.
    A plumecast convention, documented in ``docs/local_scale.md``.
    """
    if wind_speed_m_s < 1.0:
        return 180.0
    return float(min(180.0, max(10.0, 2.0 * SIGMA_THETA_DEG[pg_class])))


def compute_zones(
    scenario: LocalScenario,
    n_points: int = 240,
    receptors: Any | None = None,
    consequences: bool = True,
    population: Any | None = None,
) -> ThreatZones:
    """Threat zones of a local scenario.

    Parameters
    ----------
    scenario : LocalScenario
        The release (not modified).
    n_points : int
        Downwind distances sampled (log-spaced 1 m – 100 km) for the footprints.
    receptors : plumecast.receptors.Receptors, optional
        Receptors to assess; by default from ``scenario.receptors``.
    consequences : bool
        Assess receptors (cities / CSV) inside the zones.
    population : plumecast.population.PopulationRaster, optional
        Count people inside each zone from it; by default the scenario's
        ``population.raster`` (read only around the zones), else none.

    Returns
    -------
    ThreatZones
    """
    agent = scenario.agent
    setup = plume_setup(scenario)
    skipped: list[str] = []
    levels = resolve_levels(scenario, agent, setup, skipped)
    order = np.argsort([lv.threshold_kg_m3 for lv in levels])  # low threshold (largest zone) first
    levels = [levels[i] for i in order]
    lat0, lon0, bearing = scenario.source.lat, scenario.source.lon, setup.downwind_bearing_deg

    x = np.geomspace(1.0, MAX_DISTANCE_M, n_points)
    ends = exposure_time_axis(setup)
    floor = onset_floor(agent)
    tables = [level_table_kg_m3(lv, agent) for lv in levels]
    for k_lv, (lv, tab) in enumerate(zip(levels, tables, strict=True)):
        if not np.all(np.isfinite(tab)):  # levels.N.aegl: ZonesInput.locate names the file and line
            raise ScenarioError(
                f"levels.{int(order[k_lv])}.aegl: level {lv.name}: agent {agent.name!r} lacks some of the 10 min - 8 h "
                "AEGL values the onset convention reads; give a threshold with ppm or mg_m3 instead"
            )
    n_lv = len(levels)
    tab_arr = np.array(tables) if tables else np.zeros((0, 5))
    w_cl = exposure_windows(setup, x, np.zeros_like(x), ends)
    r_cl = np.zeros((n_lv, x.size))
    if n_lv:
        lr_cl = LevelRatio(w_cl, ends, tab_arr, floor, ratio_only=True)
        r_cl = lr_cl(np.ones(n_lv * x.size))[0].reshape(n_lv, -1)
    # insert every level's crossing points so that all polygons share the x grid (nested by construction)
    g_cl = np.log(np.maximum(r_cl, 1e-300))
    sgn = np.sign(g_cl)
    c_lv, c_i = np.nonzero(sgn[:, :-1] * sgn[:, 1:] < 0)
    lo, hi, x_eval, w_eval = _refine_crossings(
        setup, x[c_i], x[c_i + 1], g_cl[c_lv, c_i], g_cl[c_lv, c_i + 1], c_lv.astype(np.intp), ends, tab_arr, floor
    )
    xg = np.unique(np.concatenate([x, lo, hi]))
    # the series at a place depends on that place alone: reuse the grid's and the refinement's
    j = np.minimum(np.searchsorted(x, xg), x.size - 1)
    on_grid = x[j] == xg
    new_x = xg[~on_grid]
    first_eval = {float(v): i for i, v in reversed(list(enumerate(x_eval.tolist())))}
    w_new = w_eval.take(np.array([first_eval[float(v)] for v in new_x.tolist()], dtype=np.intp))
    src = np.where(on_grid, j, x.size + np.cumsum(~on_grid) - 1)
    w_g = WindowSeries.concat([w_cl, w_new])  # place src[i] is the refined grid's i-th distance
    r_g = np.zeros((n_lv, xg.size))
    r_g[:, on_grid] = r_cl[:, j[on_grid]]
    if n_lv and new_x.size:
        lr_new = LevelRatio(w_new, ends, tab_arr, floor, ratio_only=True)
        r_n, _ = lr_new(np.ones(n_lv * new_x.size))
        r_g[:, ~on_grid] = r_n.reshape(n_lv, -1)
    b_g, s_g = lateral_shape(setup, xg)
    # boundary factors of all levels in one bisection (boundary_factor, column by column)
    f_star = np.full((n_lv, xg.size), np.nan)
    inside_lv, inside_pl = np.nonzero(r_g >= 1.0)
    if inside_lv.size:
        # a column's candidates depend on its place's series and its level alone: take them from the
        # grid's and the new places' ratios instead of searching the same values again
        q = src[inside_pl]
        grid = q < x.size
        parts = [(np.nonzero(grid)[0], lr_cl.candidate_pairs(inside_lv[grid] * x.size + q[grid]))]
        if (~grid).any():
            cols_new = inside_lv[~grid] * new_x.size + (q[~grid] - x.size)
            parts.append((np.nonzero(~grid)[0], lr_new.candidate_pairs(cols_new, int(w_cl.for_levels().offsets[-1]))))
        col = np.concatenate([which[rank] for which, (rank, _) in parts])
        pos = np.concatenate([p for _, (_, p) in parts])
        o = np.argsort(col, kind="stable")
        ratio = LevelRatio(w_g, ends, tab_arr, floor, q, inside_lv, ratio_only=True, candidates=(col[o], pos[o]))
        f_star[inside_lv, inside_pl] = _bisect_boundary(ratio, r_g[inside_lv, inside_pl])
    from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

    # the exposure duration at each zone's tip: level_ratio on the axis there (first maximum)
    tips = np.array([int(np.nonzero(np.isfinite(f_star[k]))[0][-1]) if np.isfinite(f_star[k]).any() else 0
                     for k in range(n_lv)], dtype=np.intp)
    e_tip = np.full(n_lv, np.nan)
    if n_lv:
        e_tip = LevelRatio(w_g, ends, tab_arr, floor, src[tips], np.arange(n_lv, dtype=np.intp))(np.ones(n_lv))[1]
    zones = []
    for k, (lv, tab) in enumerate(zip(levels, tables, strict=True)):
        fk = f_star[k]
        hw = np.where(np.isfinite(fk), lateral_halfwidth(b_g, s_g, np.where(np.isfinite(fk), fk, 1.0)), 0.0)
        inside = np.nonzero(np.isfinite(fk))[0]
        if inside.size == 0:
            zones.append(Zone(lv, Polygon(), Polygon(), 0.0, 0.0, 0.0))
            continue
        i0, i1 = inside[0], inside[-1]
        i0 = max(i0 - 1, 0)
        i1 = min(i1 + 1, xg.size - 1)
        xs = xg[i0 : i1 + 1]
        ys = hw[i0 : i1 + 1]
        at_source = float(np.max(ys[: min(2, ys.size)]))  # the zone's half-width next to the source
        lobe = Polygon()
        if i0 == 0 and setup.dense is not None and setup.dense.kind == "instantaneous":
            # a puff: the ground its slumping discs cover while their centres lie in the zone on the axis
            lobe = puff_envelope(setup, min(float(xg[inside[-1]]), setup.dense.curves_end_m), float(xg[inside[-1]]))
        elif i0 == 0:
            lobe = upwind_lobe(setup, at_source)
        if i0 == 0:  # reaches the source (a dense plume: as wide there as its spread against the wind)
            xs = np.concatenate([[0.0], xs])
            ys = np.concatenate([[0.0 if lobe.is_empty else at_source], ys])
        px = np.concatenate([xs, xs[::-1]])
        py = np.concatenate([ys, -ys[::-1]])
        local = Polygon(np.column_stack([px, py])).buffer(0)
        spread = Polygon()
        if not lobe.is_empty:  # a dense cloud's gravity spread: against the wind, and a puff's to the side
            spread = lobe.difference(local)
            local = local.union(lobe).buffer(0)
        geo = shapely.transform(
            local, lambda xy: np.column_stack(to_lonlat(lat0, lon0, bearing, xy[:, 0], xy[:, 1]))
        )
        tip = int(inside[-1])
        elapsed_tip = e_tip[k : k + 1]
        thr_tip = float(aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed_tip)[0])
        zones.append(
            Zone(
                level=lv,
                polygon=geo,
                polygon_local=local,
                max_distance_m=float(xg[tip]),
                min_distance_m=float(xg[inside[0]]) if i0 > 0 else 0.0,
                area_m2=float(local.area),
                threshold_at_tip_kg_m3=thr_tip,
                exposure_duration_at_tip_s=float(elapsed_tip[0]) if lv.aegl is not None else math.nan,
                spread_local=spread,
            )
        )

    met = scenario.meteorology
    half = (
        met.direction_uncertainty_deg
        if met.direction_uncertainty_deg is not None
        else default_direction_uncertainty_deg(setup.pg_class, met.wind_speed_m_s)
    )
    reach = max((z.max_distance_m for z in zones), default=0.0)
    lines, sector = _uncertainty(lat0, lon0, bearing, half, reach)

    from plumecast.nearfield.zones.export import sig_text

    warnings = skipped + _warnings(scenario, setup)
    for z in zones:
        if z.beyond_search_limit:
            warnings.append(
                f"{z.level.name} reaches the {MAX_DISTANCE_M / 1000:g} km search limit: report it as "
                "'beyond'; the steady local model is not meant for such distances"
            )
        elif z.max_distance_m > 10_000:
            warnings.append(
                f"{z.level.name} reaches {sig_text(z.max_distance_m / 1000)} km: beyond 10 km the Briggs "
                "curves are extrapolated and a steady, straight wind is unlikely"
            )
    x_lid = lid_crossing_m(setup)
    if not any(z.max_distance_m > 0 for z in zones) and x_lid is not None:
        why = ("because the release's effective height is above the mixing height" if x_lid == 0.0 else
               f"because the plume rises through the mixing lid {x_lid:.0f} m downwind, beyond which no gas reaches "
               "the ground (before it, the ground concentration stays below every level)")
        warnings.append(
            f"no zone is drawn {why}, not because the release is harmless: gas brought down when the mixed layer "
            "grows (fumigation) is not modelled")
    result = ThreatZones(scenario, agent, setup, zones, half, lines, sector, None, warnings)
    result.flammable_mass_kg = flammable_mass_kg(setup, agent) if flammable_levels(scenario, agent) else math.nan
    from plumecast.nearfield.zones.points import point_threat

    result.points = point_threat(result)
    _count_people(result, population)
    spec = scenario.receptors
    result.receptors_given = receptors is not None
    result.receptors_searched = consequences and (
        receptors is not None or spec.cities or spec.csv is not None or bool(scenario.points)
    )
    if result.receptors_searched and reach > 0:
        found = zone_receptors(result, receptors)  # read once: the people counted and the receptors assessed
        if found is not None:
            result.receptor_people = receptor_people_by_zone(result, *found)
            # the cities beyond the zones' reach that only the count needs lie outside the zones and the sector:
            # the assessment leaves them out as it did when it read the receptors itself
            result.receptors = assess_receptors(result, found[0])
            result.edge_receptors = edge_receptors(result, *found)
        if result.receptors is not None:
            result.warnings.extend(
                f"consequences: {w}" for w in str(result.receptors.attrs.get("warnings", "")).splitlines() if w
            )
    held = pure_vapour_note(result)
    if held:
        result.warnings.append(held)
    return result


def pure_vapour_note(result: ThreatZones) -> str | None:
    """Where the zones' concentration was held at the pure vapour's density
    (``setup.pure_vapour_kg_m3``, :func:`plumecast.nearfield.gaussian.cap_at_pure_vapour`):
    how far along the axis, and which points and receptors; None where it was not.
    (A passive plume of 54 t of chlorine had read 3,300,000 ppm outdoors 30 m from the
    source, more agent than the pure gas holds; cell audit.)"""
    from plumecast.nearfield.gaussian import at_pure_vapour

    setup = result.setup
    cap = setup.pure_vapour_kg_m3
    if not math.isfinite(cap):
        return None
    xs = np.geomspace(0.1, MAX_DISTANCE_M, 2000)
    if axis_peak_below(setup, xs, cap * (1.0 - 1e-12)):  # (at_pure_vapour's rounding: held nowhere)
        return None
    held = at_pure_vapour(peak_concentration(setup, xs, np.zeros_like(xs)), cap)
    if not held.any():
        return None
    places = []
    if result.points is not None:
        peak = np.nanmax(np.where(np.isfinite(result.points["outdoor_kg_m3"].values),
                                  result.points["outdoor_kg_m3"].values, 0.0), axis=0)
        places += [str(n) for n, hit in zip(result.points["point"].values, at_pure_vapour(peak, cap), strict=True)
                   if hit]
    rec = result.receptors
    if rec is not None and "peak_concentration" in rec:
        names = rec["name"].values if "name" in rec.coords else rec["receptor"].values
        peak = np.asarray(rec["peak_concentration"].values, dtype=float)
        places += [str(n) for n, hit in zip(names, at_pure_vapour(np.nan_to_num(peak), cap), strict=True) if hit]
    places = list(dict.fromkeys(places))  # a point is also among the receptors
    agent = result.agent
    shown = ", ".join(str(p) for p in places[:4]) + (f" and {len(places) - 4} more" if len(places) > 4 else "")
    where = (f"; held there at {len(places)} of the points and receptors ({shown})" if places
             else "; no point or receptor lies there")
    return (f"pure vapour: the concentration is held at the density of pure {agent.name} vapour, {plain(cap, 3)} kg m-3 "
            f"(a mole fraction of 1 at the air's {result.scenario.meteorology.air_temperature_c:g} °C and 1 atm; "
            f"{plain(float(kg_m3_to_ppm(cap, agent.molecular_weight_g_mol)), 3)} ppm as the ppm figures convert, at "
            f"25 °C), on the plume axis up to {plain(float(xs[held].max()), 3)} m from the source, where the "
            f"{'Gaussian plume' if setup.dense is None else 'model'} gives more agent per cubic metre than the pure "
            f"gas holds{where}")


def _count_people(result: ThreatZones, population: Any | None) -> None:
    """Fill ``zone.people`` from a population raster (given, or the scenario's)."""
    spec = result.scenario.population
    if population is None and spec is None:
        return
    from plumecast.population import PopulationCount, PopulationRaster
    shapes = [z.polygon for z in result.zones if not z.polygon.is_empty]
    if population is None:
        assert spec is not None
        if not shapes:
            result.population_source = str(spec.raster)
            for z in result.zones:
                z.people = PopulationCount(0.0, 0.0, 0.0, 0.0)
            return
        minx, miny, maxx, maxy = shapely.union_all(shapes).bounds
        pad = 0.01
        population = PopulationRaster.load(
            spec.raster, bbox=(minx - pad, miny - pad, maxx + pad, maxy + pad), variable=spec.variable
        )
    result.population_source = str(getattr(population, "source", "population raster"))
    for note in getattr(population, "notes", ()):
        result.warnings.append(f"population raster: {note}")
    for z in result.zones:
        z.people = PopulationCount(0.0, 0.0, 0.0, 0.0) if z.polygon.is_empty else population.count_in_polygon(z.polygon)
        if z.people.unknown_area_km2 > 0:
            result.warnings.append(
                f"{z.level.name}: population unknown on {plain(z.people.unknown_area_km2, 2)} km² of "
                f"{plain(z.people.area_km2, 2)} km² ({plain(z.people.unknown_cells, 3)} nodata cells, or beyond the raster); "
                "people inside is a lower bound"
            )


def _uncertainty(
    lat0: float, lon0: float, bearing: float, half_deg: float, reach_m: float
) -> tuple[list[LineString], Polygon]:
    if reach_m <= 0:
        return [], Polygon()
    angles = np.radians(np.linspace(-half_deg, half_deg, 73))
    ax = reach_m * np.cos(angles)
    ay = reach_m * np.sin(angles)
    if half_deg >= 180:
        px, py = ax, ay
    else:
        px = np.concatenate([[0.0], ax])
        py = np.concatenate([[0.0], ay])
    lon, lat = to_lonlat(lat0, lon0, bearing, px, py)
    sector = Polygon(np.column_stack([lon, lat])).buffer(0)
    lines = []
    if half_deg < 180:
        for sgn in (-1.0, 1.0):
            ex, ey = reach_m * math.cos(math.radians(half_deg)), sgn * reach_m * math.sin(math.radians(half_deg))
            lo, la = to_lonlat(lat0, lon0, bearing, [0.0, ex], [0.0, ey])
            lines.append(LineString(np.column_stack([lo, la])))
    return lines, sector


def _liquid_notes(scenario: LocalScenario, setup: PlumeSetup) -> list[str]:
    """A warning where the agent is a liquid at the temperature its release is taken at (it boils above the
    air's, or above the ``temperature_c`` given): a rate of it at 1 atm is a liquid, a pool's evaporation or an
    aerosol, not the vapour modelled (hydrogen fluoride at 15 °C had read as a light passive gas without a
    word; zones audit, session 40)."""
    from plumecast.nearfield.source_models import load_thermo

    t0, how, _ = release_temperature(scenario, setup)
    if how not in ("air", "release") or scenario.release.stack is not None:
        return []
    try:
        tb = load_thermo(scenario.agent.name, scenario.agent.molecular_weight_g_mol).boiling_point_k
    except DataFileError:
        return []
    if t0 >= tb:
        return []
    where = "the air's" if how == "air" else "the release's"
    return [f"{scenario.agent.name} boils at {tb - 273.15:.0f} °C, above {where} {t0 - 273.15:.0f} °C: released at "
            "1 atm it is a liquid, and what becomes airborne is its pool's evaporation or an aerosol (hydrogen "
            "fluoride's forms a cold, dense cloud); the zones take the rate given as vapour at that temperature "
            f"({'dense' if setup.dense is not None else 'passive'} by its density), possibly far too short for a "
            "pressurised release"]


def _assumption_notes(scenario: LocalScenario, setup: PlumeSetup) -> list[str]:
    """What the model took for granted without a word in the scenario: the vapour of a
    rate or amount of a liquefied gas at its boiling point, and a receptor height
    the dense-gas model does not read."""
    out = []
    rel = scenario.release
    t0, how, why = release_temperature(scenario, setup)
    air_c = scenario.meteorology.air_temperature_c
    if rel.stack is None and rel.dense_gas == "auto" and how == "boiling point" and t0 < air_c + 273.15:
        out.append(
            f"release temperature_c not given: the vapour is assumed to leave at {scenario.agent.name}'s boiling "
            f"point, {t0 - 273.15:.0f} °C (a liquefied gas flashing to 1 atm; denser than at the air's {air_c:g} °C); "
            "for a gas that leaves warmer (a gas-phase leak, a heated vessel) give the release's temperature_c [°C]")
    elif rel.stack is None and rel.dense_gas == "auto" and how == "air, boiling point unknown":
        reason = why.split(": ", 1)[-1].split(";")[0] if why else "no boiling point"
        out.append(
            f"release temperature_c not given and {scenario.agent.name}'s boiling point is unknown ({reason}): the "
            f"vapour is assumed to leave at the air's {air_c:g} °C; a liquefied gas flashing to 1 atm leaves at its "
            "boiling point, colder and denser (its dense-gas zones reach further): give the release's "
            "temperature_c [°C]")
    default_height = LocalScenario.model_fields["receptor_height_m"].default
    if setup.dense is not None and scenario.receptor_height_m != default_height:
        out.append(
            f"receptor height: {scenario.receptor_height_m:g} m is not used by the dense-gas model, which gives the "
            "ground-level concentration of the cloud (the workbook correlates ground-level maxima only) at any "
            "height, also where the passive plume takes over")
    return out


def _warnings(scenario: LocalScenario, setup: PlumeSetup) -> list[str]:
    w = []
    met = scenario.meteorology
    if met.wind_speed_m_s < 1.5:
        w.append(
            f"wind {met.wind_speed_m_s:g} m/s is below 1.5 m/s: Gaussian models (and ALOHA) are "
            "unreliable in near-calm air; the model used 1 m/s at least"
        )
    w.extend(met.unused_classes())
    if met.stability_route() == "obukhov_length" and met.roughness_length_m > GOLDER_MAX_ROUGHNESS_M:
        w.append(f"class {setup.pg_class} from obukhov_length_m read on Golder's lines at roughness "
                 f"{GOLDER_MAX_ROUGHNESS_M:g} m, not the {met.roughness_length_m:g} m given: past about 1.3 m "
                 "the lines no longer keep the classes in order")
    if setup.pg_class in ("E", "F"):
        w.append(f"stable class {setup.pg_class}: meander and terrain channelling are not modelled")
    w.extend(setup.notes)
    x_lid = lid_crossing_m(setup)
    if x_lid is not None:
        top = (setup.plume_rise.stack_height_m + setup.plume_rise.final_rise_m if setup.plume_rise is not None
               else setup.source_height_m)
        where = ("from the source on, so no gas reaches the ground anywhere" if x_lid == 0.0 else
                 f"beyond {x_lid:.0f} m downwind, where it rises through the lid, so no gas reaches the ground "
                 "there and the zones end there at the latest")
        w.append(
            f"the plume's effective height ({top:.0f} m) is above the mixing height "
            f"({setup.mixing_height_m:g} m): it stays above the lid {where} (US EPA 1995, ISC3 §1.1.6)")
    prof = setup.release_profile
    if prof is not None:
        w.append(
            f"source model: {prof.method}; airborne {plain(prof.airborne_kg, 3)} kg of {plain(prof.released_kg, 3)} kg released; "
            f"zones use the maximum 60-s average rate {plain(setup.mass_kg / max(setup.duration_s, 1e-9), 3)} kg/s "
            f"for {plain(setup.duration_s / 60, 3, trim=True)} min"
        )
        w.extend(f"source model: {n}" for n in prof.notes)
    w.extend(_assumption_notes(scenario, setup))
    w.extend(_liquid_notes(scenario, setup))
    if setup.dense is not None:
        w.extend(setup.dense.notes)
        w.append("dense gas: slumping is modelled with the Britter-McQuaid workbook correlations (flat terrain); "
                 "pooling in low ground and flow down slopes are not")
        from plumecast.nearfield.zones.export import sig_text

        up = upwind_extent_m(setup)
        if up > 0.0:  # the polygons alone had shown it (review of session 40)
            steady = setup.dense.kind == "continuous" and up >= setup.dense.upwind_extent_m(setup.wind_speed_m_s)
            how = ("the workbook's gravity spread against the wind (L_U = D/2 + 2 l_b)" if steady else
                   "the slumping against the wind of " + ("the puff" if setup.dense.kind != "continuous" else
                                                           "the whole release at once, which bounds a release "
                                                           "of finite duration") + " (its edge's farthest reach, "
                   "R(t) - u t)")
            if setup.dense.kind != "continuous":  # the zones take in the puff's slumping discs (near_source.
                # puff_envelope; the lobe had been as wide as the zone at the source: review of session 41)
                r0, c = setup.dense.puff_slumping()
                u = setup.wind_speed_m_s
                w.append(f"dense gas: the zones take in the ground the puff's slumping cloud covers (R² = R0² + c t, "
                         f"its centre carried at the wind's speed): {sig_text(up)} m upwind of the source, "
                         f"{how}, and {sig_text(math.sqrt(r0**2 + c**2 / (4.0 * u**2)))} m to each side at the "
                         "source; the concentration there, outside the crosswind profile of the cloud as its centre "
                         "passes, is not given: unknown at the places in it")
            else:
                w.append(f"dense gas: the zones reach {sig_text(up)} m upwind of the source, {how}; the "
                         "concentration there is not given: unknown at the places in it")
        if setup.source_height_m > 2.0:  # the workbook's clouds start on the ground (zones audit: 1, 50 and
            # 300 m, the last above the lid, gave the same zones with no word)
            w.append(f"dense gas: the workbook's cloud starts on the ground: the release height "
                     f"({setup.source_height_m:g} m) and the mixing lid are not used, so the zones are those of "
                     "a ground release (on the safe side near the source; an elevated dense jet's fall is not "
                     "modelled)")
    elif scenario.release.dense_gas == "off" and scenario.release.stack is None and scenario.agent.molecular_weight_g_mol > 34 and setup.mass_kg > 1000:
        w.append(
            f"{scenario.agent.name} (M = {scenario.agent.molecular_weight_g_mol:g} g/mol) released in "
            "bulk may behave as a dense gas: near-source spreading, slumping and pooling in low "
            "ground are not modelled (see docs/local_scale.md)"
        )
    return w
