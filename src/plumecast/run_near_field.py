"""The receptors' near field of a run (:func:`plumecast.runner.run`): the point releases'
Gaussian plumes and the city discs' area plumes that the receptors near them breathe
(docs/exposure.md), the stability and lid they take where the met gives none, and the
lines of the run's provenance that say how they were made and which receptors lie just
beyond them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.exposure import ExposureSampler
from plumecast.exposure_area import AreaNearField
from plumecast.near_field_plume import BREATHING_HEIGHT_M, NEAR_FIELD_MIN_WIND_M_S, NearFieldSource
from plumecast.release import ReleaseSchedule
from plumecast.scenario import PointRelease, Scenario


def near_field_sources(scenario: Scenario, sched: ReleaseSchedule, agent: Any,
                        boundary_at: Any = None) -> list[NearFieldSource]:
    """The point releases whose first kilometres the receptors see as a Gaussian plume;
    ``boundary_at``: the met's boundary layer (:meth:`plumecast.run_winds.RunWinds.boundary_at`),
    which gives their class and lid under ``near_field.stability: auto``."""
    nf = scenario.near_field
    if nf.distance_km <= 0:
        return []
    pg_class, lid, _ = point_plume_weather(scenario, boundary_at is not None)
    out = []
    for g, (rel, grp) in enumerate(zip(scenario.releases, sched.groups, strict=True)):
        if not isinstance(rel, PointRelease):
            continue
        out.append(NearFieldSource(
            group=g, lat=float(grp.lat[0]), lon=float(grp.lon[0]), height_m=float(rel.height_m),
            pg_class=pg_class, terrain=nf.terrain, mixing_height_m=lid,
            decay_rate_s=float(getattr(agent, "decay_rate_s", 0.0)), rate_at=grp.group_rate, emitted_by=grp.emitted_by,
            boundary_at=boundary_at if nf.stability == "auto" else None,
            stack=stack_exhaust(scenario, rel, agent, float(np.sum(grp.rate_kg_s))),
        ))
    return out


#: the air temperature a stack's plume rise takes without local_weather [°C] (the zones default)
DEFAULT_AIR_TEMPERATURE_C = 15.0


def stack_exhaust(scenario: Scenario, rel: PointRelease, agent: Any,
                  rate_kg_s: float) -> tuple[float, float, float, float] | None:
    """A point release's stack as :attr:`plumecast.near_field_plume.NearFieldSource.stack`: its
    diameter, exit velocity, the exhaust's virtual temperature (air carrying the agent at
    ``rate_kg_s``, as ``plumecast zones`` takes it: :func:`plumecast.nearfield.zones.stack.stack_plume`)
    and the air temperature (``local_weather.air_temperature_c``, else 15 °C); None without
    a stack."""
    stack = getattr(rel, "stack", None)
    if stack is None:
        return None
    from plumecast.nearfield.zones.stack import exhaust_mixture

    lw = scenario.local_weather
    t_air = (lw.air_temperature_c if lw is not None else DEFAULT_AIR_TEMPERATURE_C) + 273.15
    t_v = exhaust_mixture(stack, float(agent.molecular_weight_g_mol), rate_kg_s)[0]
    return float(stack.diameter_m), float(stack.exit_velocity_m_s), float(t_v), float(t_air)


def point_plume_weather(scenario: Scenario, met_bl: bool) -> tuple[Any, float, str]:
    """The Pasquill-Gifford class and lid of the point releases' near-field plumes where
    the met does not give them (``met_bl`` False, or a class given), and where they come
    from, in words. ``near_field.stability: auto`` without a boundary layer from the met
    takes the weather observed at the release, ``local_weather`` (its class by the same
    route as ``plumecast zones``, and its ``mixing_height_m`` when given), else class D
    under ``turbulence.mixing_height_m``: one scenario file then gives ``zones`` and
    ``run`` the same plume. (Before, ``run`` kept class D and listed ``local_weather``
    as ignored: class F in ``zones``, D in ``run``, 6-7 times less air at 1-10 km; audit.)"""
    nf = scenario.near_field
    lid = scenario.turbulence.mixing_height_m
    lid_text = f"lid {lid:g} m (turbulence.mixing_height_m)"
    if nf.stability != "auto":
        return nf.stability, lid, f"class {nf.stability} (near_field.stability), {lid_text}"
    lw = scenario.local_weather
    if met_bl or lw is None:
        return "D", lid, f"class D (the met gives no boundary layer), {lid_text}"
    if lw.mixing_height_m is not None:
        lid, lid_text = lw.mixing_height_m, f"lid {lw.mixing_height_m:g} m (local_weather.mixing_height_m)"
    return lw.pg_class(), lid, (f"class {lw.pg_class()} from local_weather (the met gives no boundary layer), "
                                f"{lid_text}")


def near_field_line(scenario: Scenario, sampler_x: ExposureSampler | None, met_bl: bool) -> list[str]:
    """How the near-field plumes of the receptors' exposure took their stability and
    lid, in one line (none without near-field plumes)."""
    if sampler_x is None or not (sampler_x.near or sampler_x.area is not None):
        return []
    nf = scenario.near_field
    lid = f"{scenario.turbulence.mixing_height_m:g} m (turbulence.mixing_height_m)"
    if nf.stability == "auto" and met_bl:
        how = ("Pasquill-Gifford class from the met's Obukhov length at each source and step (Golder 1972), lid at "
               "the met's mixing height")
    elif nf.stability == "auto":
        how = f"class D (the met gives no boundary layer), lid {lid}"
        if sampler_x.near and scenario.local_weather is not None:
            point = point_plume_weather(scenario, met_bl)[2]
            how = (f"point releases {point}; city discs {how}" if sampler_x.area is not None
                   else point)
    else:
        how = f"class {nf.stability} (near_field.stability), lid {lid}"
    lines = [f"near-field plumes (within {nf.distance_km:g} km): {how}"]
    wind_words = getattr(sampler_x.wind_at, "words", None)
    top = f"its wind at the stack top ({wind_words})" if wind_words else "the wind at the source"
    for src in sampler_x.near:
        if src.stack is not None:
            lines.append(f"near-field plume of {scenario.releases[src.group].name or f'releases.{src.group}'}: raised "
                         f"by its stack's plume rise from {src.height_m:g} m (Briggs 1975/1984 with the ISC3 constants, "
                         f"as zones, with each step's class), carried, diluted and raised by {top}; its particles "
                         "start at the stack top")
    return lines


#: receptors up to this many times near_field.distance_km from a point release are named when they lie beyond it
BEYOND_NEAR_FIELD_FACTOR = 3.0


def beyond_near_field_lines(scenario: Scenario, sampler_x: ExposureSampler | None) -> list[str]:
    """One line per point release with receptors just beyond the near field (between
    ``near_field.distance_km`` and :data:`BEYOND_NEAR_FIELD_FACTOR` times it): their air
    comes from the particles alone, whose spread by ``turbulence.kh_m2_s`` is far wider
    than the plume's at that range, so their figures can be far lower than just inside
    (docs/exposure.md; an audit measured 170 times at 31 km against 29 km)."""
    if sampler_x is None:
        return []
    from plumecast.countermeasures.front import great_circle_m

    if not sampler_x.near:
        return near_field_off_lines(scenario, sampler_x)
    d_m = scenario.near_field.distance_km * 1000.0
    r = sampler_x.receptors
    names = [str(n) for n in r.name]
    out = []
    for src in sampler_x.near:
        dist = great_circle_m(src.lat, src.lon, np.asarray(r.lat, float), np.asarray(r.lon, float))
        # a city whose disc reaches into the near field gets the plume there (its parts, city_parts)
        edge = dist - np.asarray(sampler_x.extent, dtype=float)
        near = np.nonzero((edge > d_m) & (dist <= BEYOND_NEAR_FIELD_FACTOR * d_m))[0]
        if near.size == 0:
            continue
        near = near[np.argsort(dist[near])]
        shown = ", ".join(f"{names[i]} ({dist[i] / 1000:.0f} km)" for i in near[:3])
        more = f" and {near.size - 3} more" if near.size > 3 else ""
        rel = scenario.releases[src.group]
        what = getattr(rel, "name", None) or f"releases.{src.group}"
        out.append(
            f"beyond the near field: {shown}{more} lie within {BEYOND_NEAR_FIELD_FACTOR:g} x "
            f"near_field.distance_km ({scenario.near_field.distance_km:g} km) of {what}, so their air comes from the "
            f"particles alone, spread by turbulence.kh_m2_s ({scenario.turbulence.kh_m2_s:g} m2/s) far wider than "
            "a plume at that range: their figures can be far lower than a place just inside it (docs/exposure.md); "
            "to keep them in the plume raise near_field.distance_km (at most 100)")
    return out


def short_release_lines(scenario: Scenario, sched: ReleaseSchedule) -> list[str]:
    """One line per point release that lasts less than a time step: each step's air is
    the step's mean, so its dose is kept but its peak and toxic load are spread over the
    step (20 t at once, 4.6 km from a city: 2,011 deaths with 60-s steps, 574 with 300 s,
    122 with 3,600 s; regression audit; docs/exposure.md)."""
    dt = float(scenario.time_step_s)
    out = []
    for g, (rel, grp) in enumerate(zip(scenario.releases, sched.groups, strict=True)):
        if not isinstance(rel, PointRelease):
            continue
        if grp.instant_s is not None:
            dur = 0.0
        elif grp.rate_edges_s is not None:
            dur = float(min(grp.rate_edges_s[-1], grp.stop_s) - max(grp.rate_edges_s[0], grp.start_s))
        else:
            dur = float(grp.stop_s - grp.start_s)
        if dur < dt:
            what = getattr(rel, "name", None) or f"releases.{g}"
            how = "at once" if dur <= 0 else f"over {dur:g} s"
            out.append(f"{what} is released {how}, within one {dt:g}-s time step: the receptors' air over a step is "
                       "the step's mean, so their doses are kept but peaks and toxic loads are spread over the step "
                       f"(deaths understated); give time_step_s near the release's duration (60 s at the least)")
    return out


#: with the near field off, receptors within this distance of a point release are named [m] (the default reach)
NEAR_FIELD_OFF_REACH_M = 30_000.0


def near_field_off_lines(scenario: Scenario, sampler_x: ExposureSampler) -> list[str]:
    """With ``near_field.distance_km: 0``, one line per point release with receptors
    within :data:`NEAR_FIELD_OFF_REACH_M`: their air is the particles' alone, spread over
    kilometres (30 kg/s of chlorine at the centre of a city of 565,000 read < 1 death
    and 0.97 % of AEGL-3 without a word, 627 deaths with the near field; regression audit)."""
    if scenario.near_field.distance_km > 0:
        return []
    from plumecast.countermeasures.front import great_circle_m

    r = sampler_x.receptors
    names = [str(n) for n in r.name]
    out = []
    for g, rel in enumerate(scenario.releases):
        if not isinstance(rel, PointRelease):
            continue
        dist = great_circle_m(float(rel.lat), float(rel.lon), np.asarray(r.lat, float), np.asarray(r.lon, float))
        near = np.nonzero(dist - np.asarray(sampler_x.extent, dtype=float) <= NEAR_FIELD_OFF_REACH_M)[0]
        if near.size == 0:
            continue
        near = near[np.argsort(dist[near])]
        shown = ", ".join(f"{names[i]} ({dist[i] / 1000:.0f} km)" for i in near[:3])
        more = f" and {near.size - 3} more" if near.size > 3 else ""
        what = getattr(rel, "name", None) or f"releases.{g}"
        out.append(f"near field off (near_field.distance_km: 0): {shown}{more} lie within "
                   f"{NEAR_FIELD_OFF_REACH_M / 1000:.0f} km of {what}, and their air is the particles' alone, spread "
                   f"by turbulence.kh_m2_s ({scenario.turbulence.kh_m2_s:g} m2/s) over kilometres: their figures can be "
                   "far lower than in the plume they would see (docs/exposure.md); give near_field.distance_km")
    return out


def area_plumes(scenario: Scenario, sched: ReleaseSchedule, agent: Any, source: NDArray[np.int32],
                 sampler_x: ExposureSampler, dry_velocity_m_s: float, boundary_at: Any = None) -> AreaNearField | None:
    """The area releases (city discs) whose air the receptors near them get as a plume
    (:mod:`plumecast.exposure_area`); None without a near field or an area release.
    ``boundary_at``: the met's boundary layer, for ``near_field.stability: auto``."""
    nf = scenario.near_field
    r = sampler_x.receptors
    return AreaNearField.build(
        sched.groups, sched.emitted_kg, scenario.time_step_s, source, np.asarray(r.lat, float),
        np.asarray(r.lon, float), sampler_x.extent, sampler_x.bin_of_step, distance_m=nf.distance_km * 1000.0, stability=nf.stability,
        mixing_height_m=scenario.turbulence.mixing_height_m, min_wind_m_s=NEAR_FIELD_MIN_WIND_M_S,
        breathing_height_m=BREATHING_HEIGHT_M, decay_rate_s=float(getattr(agent, "decay_rate_s", 0.0)),
        dry_velocity_m_s=dry_velocity_m_s, boundary_at=boundary_at)
