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
from plumecast.nearfield.gaussian import pure_vapour_kg_m3
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
    terrain = point_plume_terrain(scenario)[0]
    cap = pure_vapour_kg_m3(float(agent.molecular_weight_g_mol), air_temperature_c(scenario)[0] + 273.15)
    out = []
    for g, (rel, grp) in enumerate(zip(scenario.releases, sched.groups, strict=True)):
        if not isinstance(rel, PointRelease):
            continue
        # an instantaneous release is a puff at its moment, not the step's mean rate (SourceGroup.as_puff)
        puff = grp.as_puff()
        out.append(NearFieldSource(
            group=g, lat=float(grp.lat[0]), lon=float(grp.lon[0]), height_m=float(rel.height_m),
            pg_class=pg_class, terrain=terrain, mixing_height_m=lid,
            decay_rate_s=float(getattr(agent, "decay_rate_s", 0.0)), rate_at=puff.group_rate,
            emitted_by=puff.emitted_by, boundary_at=boundary_at if nf.stability == "auto" else None,
            stack=stack_exhaust(scenario, rel, agent, float(np.sum(grp.rate_kg_s))),
            pure_vapour_kg_m3=cap, dense=dense_cloud(scenario, rel, terrain, lid, grp),
            emitted_knots=_thinned_knots(puff),
            rate_knots=np.asarray(puff._emitted_knots[0], dtype=float), start_s=float(puff.start_s),
        ))
    return out


def _thinned_knots(grp: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A release group's emitted mass at its knots (:meth:`plumecast.release.SourceGroup.emitted_by`),
    with knots added every :data:`KNOT_SPACING_S` where a profile's factor changes linearly between
    them (the smear takes the mass linear between knots), thinned once
    (:func:`plumecast.near_field_smear.thin_knots`)."""
    from plumecast.near_field_smear import thin_knots

    knots = np.asarray(grp._emitted_knots[0], dtype=float)
    if np.ptp(grp.profile_f) > 0 and knots.size > 1:  # a profile that varies: E is quadratic between knots
        fine = np.arange(knots[0], knots[-1], KNOT_SPACING_S)
        knots = np.unique(np.concatenate([knots, fine]))
    return thin_knots(knots, np.asarray(grp.emitted_by(knots), dtype=float))


#: the spacing of the knots added where a release's profile varies, for the dense cloud's smear [s]
KNOT_SPACING_S = 300.0


def dense_cloud(scenario: Scenario, rel: PointRelease, terrain: str, lid_m: float, grp: Any = None) -> Any:
    """The point release as zones' dense cloud for run's near field
    (:class:`plumecast.near_field_dense.DenseCloud`: zones' criterion and model at each step's
    weather; a lighter gas is never dense there), or None: ``dense_gas: off``, or a stack (a
    buoyant, raised plume, which zones do not model as dense either). A tank cut before it is
    empty (``stop_h``, the scenario's ``termination_h``: a plan's termination, rerun by
    compare) is the mass its group (``grp``) emitted until then, released evenly over that
    time: zones' tank is the whole tank (the cut tank's dose per kilogram had been the uncut
    one's; regression audit)."""
    if rel.dense_gas == "off" or rel.stack is not None:
        return None
    from plumecast.near_field_dense import DenseCloud, local_scenario

    ends = [h for h in (rel.stop_h, scenario.termination_h) if h is not None]
    if rel.tank is not None and grp is not None and ends:
        end_s = min(ends) * 3600.0
        emitted = float(grp.emitted_by(np.array([end_s]))[0])
        # still emitting when cut (the group's rate is the cut tank's)
        if emitted > 0.0 and end_s > rel.start_h * 3600.0 and float(grp.group_rate(np.array([end_s - 1e-3]))[0]) > 0:
            rel = rel.model_copy(update={"tank": None, "amount_kg": emitted, "rate_kg_s": None,
                                         "duration_s": end_s - rel.start_h * 3600.0, "stop_h": None})

    lw = scenario.local_weather
    met = scenario.met
    # the zones' wind of the scenario, for a tank's rain-out pool (as release.tank_profile): each step's
    # weather replaces it in the cloud's setup
    speed = (float(lw.wind_speed_m_s) if lw is not None
             else float(np.hypot(met.u_m_s, met.v_m_s)) if met.source == "uniform" else NEAR_FIELD_MIN_WIND_M_S)
    local = local_scenario(scenario, rel, terrain, lid_m, max(speed, NEAR_FIELD_MIN_WIND_M_S), 270.0, "D")
    return DenseCloud(local)


#: the air temperature a stack's plume rise and the pure-vapour cap take without local_weather [°C] (the zones
#: default)
DEFAULT_AIR_TEMPERATURE_C = 15.0


def air_temperature_c(scenario: Scenario) -> tuple[float, str]:
    """The air temperature at the releases [°C] and where it comes from, in words:
    ``local_weather.air_temperature_c`` (15 °C when local_weather is given without it),
    else :data:`DEFAULT_AIR_TEMPERATURE_C`."""
    lw = scenario.local_weather
    if lw is None:
        return DEFAULT_AIR_TEMPERATURE_C, "no local_weather: the default"
    return float(lw.air_temperature_c), "local_weather.air_temperature_c"


def point_plume_terrain(scenario: Scenario) -> tuple[str, str]:
    """The terrain of the point releases' Briggs curves (``rural`` or ``urban``) and where it
    comes from: ``near_field.terrain`` when given, else ``local_weather.terrain`` (the zones'
    terrain: one scenario file then gives ``run`` and ``zones`` the same plume, as for the
    class, :func:`point_plume_weather`), else rural. (Before, ``run`` took rural whatever
    local_weather said: 3.7 and 5.8 times zones' urban plume at 1 and 3 km for the same
    ammonia vent; cell audit.)"""
    nf = scenario.near_field
    if nf.terrain is not None:
        return nf.terrain, "near_field.terrain"
    lw = scenario.local_weather
    if lw is not None:
        return lw.terrain, "local_weather.terrain"
    return "rural", "the default"


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

    t_air = air_temperature_c(scenario)[0] + 273.15
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
    from plumecast.nearfield.lid import lid_text, near_field_lid

    nf = scenario.near_field
    lid = scenario.turbulence.mixing_height_m
    if nf.stability != "auto":
        return nf.stability, lid, (f"class {nf.stability} (near_field.stability), lid {lid:g} m "
                                   "(turbulence.mixing_height_m)")
    lw = scenario.local_weather
    if met_bl:  # each step's class and lid come from the met (NearFieldSource.boundary_at)
        return "D", lid, f"class D, lid {lid:g} m (turbulence.mixing_height_m) where the met gives none"
    # the lid by the rule zones takes (one place: plumecast.nearfield.lid), so that one file gives both one plume
    lid, where = near_field_lid(None if lw is None else lw.mixing_height_m, lid)
    if lw is None:
        return "D", lid, f"class D (the met gives no boundary layer), {lid_text(lid, where)}"
    return lw.pg_class(), lid, (f"class {lw.pg_class()} from local_weather (the met gives no boundary layer), "
                                f"{lid_text(lid, where)}")


def near_field_line(scenario: Scenario, sampler_x: ExposureSampler | None, met_bl: bool) -> list[str]:
    """How the near-field plumes of the receptors' exposure took their stability, lid and
    terrain and which wind at each point source, in one line (none without near-field
    plumes), then what the user must know of them: a stack's plume rise, a class given
    that the wind at the source does not allow (:func:`class_wind_lines`), a release the
    zones' criterion calls dense (:func:`dense_release_lines`), and the receptors where a
    plume was held at the pure vapour (:func:`pure_vapour_lines`)."""
    if sampler_x is None or not (sampler_x.near or sampler_x.area is not None):
        return []
    nf = scenario.near_field
    lid = f"{scenario.turbulence.mixing_height_m:g} m (turbulence.mixing_height_m)"
    terrain, from_where = point_plume_terrain(scenario)
    sigmas = f"Briggs {terrain} sigmas ({from_where})"
    if nf.stability == "auto" and met_bl:
        how = ("Pasquill-Gifford class from the met's Obukhov length at each source and step (Golder 1972), lid at "
               "the met's mixing height" + (f"; point releases: {sigmas}" if sampler_x.near else ""))
    elif nf.stability == "auto":
        how = f"class D (the met gives no boundary layer), lid {lid}"
        if sampler_x.near:
            point = point_plume_weather(scenario, met_bl)[2]
            how = (f"point releases {point}, {sigmas}; city discs {how}" if sampler_x.area is not None
                   else f"{point}, {sigmas}")
    else:
        how = f"class {nf.stability} (near_field.stability), lid {lid}" + (f", {sigmas}" if sampler_x.near else "")
    winds = [w for w in (_source_wind_text(scenario, sampler_x, si) for si in range(len(sampler_x.near))) if w]
    lines = [f"near-field plumes (within {nf.distance_km:g} km): {how}"
             + (f"; wind at the source: {'; '.join(winds)}" if winds else "")]
    wind_words = getattr(sampler_x.wind_at, "words", None)
    top = f"its wind at the stack top ({wind_words})" if wind_words else "the wind at the source"
    for src in sampler_x.near:
        if src.stack is not None:
            lines.append(f"near-field plume of {scenario.releases[src.group].name or f'releases.{src.group}'}: raised "
                         f"by its stack's plume rise from {src.height_m:g} m (Briggs 1975/1984 with the ISC3 constants, "
                         f"as zones, with each step's class), carried, diluted and raised by {top}; its particles "
                         "start at the stack top")
    lines += class_wind_lines(scenario, sampler_x, met_bl)
    lines += dense_release_lines(scenario, sampler_x, met_bl)
    lines += pure_vapour_lines(scenario, sampler_x)
    return lines


#: how the lines of :func:`near_field_line` that the user must act on start (``plumecast compare`` shows the
#: members' ones among its notes: :func:`plumecast.ensemble.compare.member_task`)
WARNING_PREFIXES = ("warning: near-field class", "dense release:", "pure vapour:")


def _release_name(scenario: Scenario, group: int) -> str:
    return getattr(scenario.releases[group], "name", None) or f"releases.{group}"


def _emitting_steps(src: NearFieldSource, n_steps: int, dt_s: float) -> NDArray[np.bool_]:
    """The steps in which the source emits (mass leaves it in the step)."""
    t0 = np.arange(n_steps) * dt_s
    t1 = t0 + dt_s
    if src.emitted_by is not None:
        return np.asarray(src.emitted_by(t1) > src.emitted_by(t0), dtype=bool)
    return np.asarray(src.rate_at(0.5 * (t0 + t1)) > 0.0, dtype=bool)


def _near_field_winds(sampler_x: ExposureSampler, si: int, distance_m: float) -> NDArray[np.float64]:
    """The winds (rows of :func:`_release_winds`) of the steps in which a source's near-field air was
    out: those it emitted, and those after each emitting stretch until its last air has travelled
    ``distance_m`` (the speeds carrying the plume, step by step). A dense cloud decides at each of
    them (a release passive while it emitted may be dense while its air crosses the near field in a
    lull; regression audit)."""
    rec = sampler_x.source_wind[si]
    sampled = np.isfinite(rec[:, 0])
    emitting = _emitting_steps(sampler_x.near[si], sampler_x.n_steps, sampler_x.dt_s)
    out_ = emitting.copy()
    travelled = np.inf
    for k in range(sampler_x.n_steps):
        if emitting[k]:
            travelled = 0.0
        elif travelled < distance_m:
            out_[k] = True
            travelled += float(rec[k, 2]) * sampler_x.dt_s if sampled[k] else np.inf
    on = out_ & sampled
    if not on.any():
        return _release_winds(sampler_x, si)
    return np.asarray(rec[on], dtype=float)


def _release_winds(sampler_x: ExposureSampler, si: int) -> NDArray[np.float64]:
    """The winds a near-field source's plume took while it emitted, ``(step, 5)``: the met's
    wind at the source (u, v) [m s-1], the speed carrying the plume [m s-1], the class
    index and the lid [m] (:attr:`plumecast.exposure.ExposureSampler.source_wind`; NaN in a
    checkpoint written before it was kept); the first sampled step
    when it emitted in none (empty when none was sampled)."""
    rec = sampler_x.source_wind[si]
    sampled = np.isfinite(rec[:, 0])
    emitting = _emitting_steps(sampler_x.near[si], sampler_x.n_steps, sampler_x.dt_s)
    if emitting.any() and not sampled[int(np.argmax(emitting))]:
        return np.zeros((0, 5))  # a run resumed after the release began: its first winds are not known here
    on = emitting & sampled
    if not on.any():
        on = sampled & (np.cumsum(sampled) == 1)
    return np.asarray(rec[on], dtype=float)


def _from_deg(u_e: float, v_n: float) -> float:
    """The direction a wind ``(u_e, v_n)`` blows from, clockwise from north. [deg]"""
    return float(np.degrees(np.arctan2(-u_e, -v_n)) % 360.0)


def _source_wind_text(scenario: Scenario, sampler_x: ExposureSampler, si: int) -> str:
    """``"tank car 8.2 m/s from 263° at the release start (8.1-8.3 m/s while it is released)"``:
    the met's wind at a point source that its near-field plume took ("" when none was sampled);
    a stack's plume's speed at its top too."""
    w = _release_winds(sampler_x, si)
    if w.shape[0] == 0:
        return ""
    src = sampler_x.near[si]
    speed = np.hypot(w[:, 0], w[:, 1])
    text = f"{_release_name(scenario, src.group)} {speed[0]:.1f} m/s from {_from_deg(w[0, 0], w[0, 1]):.0f}° " \
           "at the release start"
    if w.shape[0] > 1:
        lo, hi = float(speed.min()), float(speed.max())
        text += (f" ({lo:.1f}-{hi:.1f} m/s while it is released)" if f"{lo:.1f}" != f"{hi:.1f}"
                 else " (the same while it is released)")
    if src.stack is not None:
        text += f", its plume carried at {w[0, 2]:.1f} m/s at the stack top"
    elif speed[0] < NEAR_FIELD_MIN_WIND_M_S:
        text += f", its plume carried at the {NEAR_FIELD_MIN_WIND_M_S:g} m/s floor"
    return text


def class_wind_lines(scenario: Scenario, sampler_x: ExposureSampler, met_bl: bool) -> list[str]:
    """One warning per point source whose near-field class is given (by ``local_weather``,
    or ``near_field.stability``) while the met's wind at the source, as the plume took it
    while the source emits, is one Turner's (1970) key does not give that class for
    (:func:`plumecast.nearfield.stability.turner_wind_limit_m_s`: F below 3 m/s, E below
    5 m/s). On the climatology a night class F from local_weather had been paired with the
    8.2 m/s monthly mean wind with no word (Aiken 130 ppm where zones' 1.5 m/s plume does
    not go; cell audit)."""
    from plumecast.nearfield.stability import PG_CLASSES, turner_wind_limit_m_s

    nf = scenario.near_field
    lw = scenario.local_weather
    if nf.stability == "auto" and (met_bl or lw is None):
        return []  # the met's own class (Golder 1972), or D: any wind
    where = "near_field.stability" if nf.stability != "auto" else "local_weather"
    out = []
    for si, src in enumerate(sampler_x.near):
        w = _release_winds(sampler_x, si)
        if w.shape[0] == 0:
            continue
        cls = PG_CLASSES[int(w[0, 3])]
        limit = turner_wind_limit_m_s(cls)
        speed = np.hypot(w[:, 0], w[:, 1])
        k = int(np.argmax(speed))
        if speed[k] < limit:
            continue
        over = int(np.count_nonzero(speed >= limit))
        when = ("while it is released" if over == speed.size
                else f"in {over} of the {speed.size} steps it is released in, up to")
        stable = cls in ("E", "F")
        effect = ("a stable plume in a strong wind is diluted far too little: its figures are too high and its "
                  "plume too narrow, and it reaches places the wind does not carry a stable plume to"
                  if stable else "an unstable plume in a strong wind is diluted far too much: its figures are "
                  "too low")
        local = (f" (local_weather's own wind is {lw.wind_speed_m_s:g} m/s from {lw.wind_from_deg:g}°, the one "
                 "zones takes)" if lw is not None else "")
        out.append(
            f"warning: near-field class {cls} ({where}) does not go with the wind at "
            f"{_release_name(scenario, src.group)}: the met gives {speed[k]:.1f} m/s from "
            f"{_from_deg(w[k, 0], w[k, 1]):.0f}° there {when}{local}, and Turner's (1970) key "
            f"(plumecast.nearfield.stability) has class {cls} only below {limit:g} m/s; {effect}. Give the class "
            "that goes with the met's wind (near_field.stability), local_weather that matches the met, or a met "
            "with its boundary layer (near_field.stability: auto then takes its class)")
    return out


def pure_vapour_lines(scenario: Scenario, sampler_x: ExposureSampler) -> list[str]:
    """One line per point source whose near-field plume was held at the pure vapour's density
    (:attr:`plumecast.near_field_plume.NearFieldSource.pure_vapour_kg_m3`) at some receptor:
    how many receptors, which, and how far from the source."""
    from plumecast.units import kg_m3_to_ppm

    capped = getattr(sampler_x, "capped", None)
    if capped is None:
        return []
    agent = scenario.resolved_agent()
    t_c, t_from = air_temperature_c(scenario)
    names = [str(n) for n in sampler_x.receptors.name]
    out = []
    for si, src in enumerate(sampler_x.near):
        hit = np.flatnonzero(capped[si])
        if hit.size == 0:
            continue
        shown = ", ".join(names[i] + (" (parts of its disc)" if sampler_x.extent[i] > 0 else "") for i in hit[:3])
        more = f" and {hit.size - 3} more" if hit.size > 3 else ""
        ppm = float(kg_m3_to_ppm(src.pure_vapour_kg_m3, agent.molecular_weight_g_mol))
        out.append(
            f"pure vapour: the near-field plume of {_release_name(scenario, src.group)} was held at the density of "
            f"pure {agent.name} vapour, {src.pure_vapour_kg_m3:.3g} kg m-3 (a mole fraction of 1 at {t_c:g} °C "
            f"({t_from}) and 1 atm; {ppm:,.0f} ppm as the ppm figures convert, at 25 °C), at {hit.size} "
            f"receptor{'s' if hit.size > 1 else ''} ({shown}{more}), within {src_reach_text(sampler_x, si)} of the "
            "source: a Gaussian plume rises without bound towards its source and had given more agent per cubic "
            "metre than the pure gas holds; there the figures are the pure gas's, which no air can exceed")
    return out


def src_reach_text(sampler_x: ExposureSampler, si: int) -> str:
    """How far from the source the farthest capped sample lay, in words."""
    d = float(sampler_x.capped_reach_m[si])
    return f"{d:,.0f} m" if d < 10_000 else f"{d / 1000:.0f} km"


def dense_release_lines(scenario: Scenario, sampler_x: ExposureSampler, met_bl: bool = False) -> list[str]:
    """One line per point source that zones' criterion (Britter & McQuaid 1988,
    :func:`plumecast.nearfield.zones.setup.plume_setup`) calls dense at the wind and class
    the run's near-field plume took at some step it emitted: run's near field gave its
    receptors zones' dense cloud at those steps (:mod:`plumecast.near_field_dense`), the
    Gaussian plume at the others. The line says so, with the criterion at the release start,
    the steps whose weather made the release passive or that zones refused. (Until session 28
    run modelled such a release as a passive plume and only said so: 4,500 ppm at 2 km where
    zones gave 570 ppm for 54 t of chlorine; cell audit.)"""
    out = []
    for si, src in enumerate(sampler_x.near):
        rel = scenario.releases[src.group]
        cloud = src.dense
        if cloud is None or not isinstance(rel, PointRelease):
            continue
        weather, kinds = _dense_kinds(sampler_x, si)
        if not kinds:
            continue
        name = _release_name(scenario, src.group)
        n_refused = kinds.count("refused")
        refused = (f"; zones' dense-gas model could not be applied at the weather of {n_refused} of the {len(kinds)} "
                   f"steps its near-field air was out ({next(iter(cloud.refused.values()))}), which took the "
                   "passive plume"
                   if n_refused else "")
        if "dense" not in kinds:
            if refused:
                out.append(f"dense release: {name}: run's near-field plume is the passive Gaussian plume{refused}")
            continue
        at = kinds.index("dense")
        first = cloud.setup_at(*weather[at])
        d = first.dense
        crit = f"{d.criterion:.2g} >= {0.15 if d.kind == 'continuous' else 0.20:g}"
        passive = kinds.count("passive")
        steps = (f"; the weather of {passive} of the {len(kinds)} steps its near-field air was out made it passive "
                 "(the Gaussian plume there)" if passive else "")
        out.append(
            f"dense release: {name} is dense by zones' criterion (Britter & McQuaid 1988, {d.kind}: {crit} with the "
            f"{first.wind_speed_m_s:.1f} m/s wind and class {first.pg_class} this run has at the source "
            f"{'at the release start' if at == 0 else f'at step {at + 1} of those its near-field air was out'}): "
            "run's near field gives "
            "its receptors zones' dense cloud at each step's wind and class, zones' dose per kilogram released "
            "spread over the steps as the air leaves the source, arriving with zones' front (gravity's along-wind "
            f"spread runs it ahead of the wind; docs/dense_gas.md){steps}{refused}{_raised_dense_text(scenario, rel, met_bl)}")
    return out


#: a dense release above this height [m] is said to be modelled from the ground (zones' own rule)
DENSE_GROUND_HEIGHT_M = 2.0


def _raised_dense_text(scenario: Scenario, rel: PointRelease, met_bl: bool = False) -> str:
    """What the dense cloud's line says of a release above :data:`DENSE_GROUND_HEIGHT_M`: the
    workbook's cloud starts on the ground (as ``plumecast zones`` says), while the release's
    particles start at its height (docs audit, session 30: a release at 1,000 m above a 500-m
    lid was said to give no ground air, and its near field gave a city 1,500,000 % of AEGL-3)."""
    height = float(rel.height_m)
    if height <= DENSE_GROUND_HEIGHT_M:
        return ""
    lid = float(scenario.turbulence.mixing_height_m)
    # the scenario's constant lid only where the met gives no boundary layer (regression audit)
    above = (f", above the {lid:,.0f} m mixing height (turbulence.mixing_height_m)" if height >= lid and not met_bl
             else "")
    km = f"{float(scenario.near_field.distance_km):g} km"
    shown = f"{height:,.0f} m" if height >= 10.0 else f"{height:.3g} m"  # 2.5 m, not "2 m"
    return (f"; the workbook's cloud starts on the ground: the release height ({shown}{above}) and the "
            f"mixing lid are not used in the near field, whose air within {km} (near_field.distance_km) is a ground "
            "release's (on the safe side near the source; an elevated dense jet's fall is not modelled), while its "
            f"particles, which carry the air beyond {km}, start at {shown}")


def _dense_kinds(sampler_x: ExposureSampler, si: int) -> tuple[list[tuple[float, str, float]], list[str]]:
    """The weather of each step the near-field air of dense-capable source ``si`` was out
    (:func:`_near_field_winds`) as its cloud is set up at it (the speed carrying the plume, the
    class and the lid: the met's, else the source's own), and what the release was there
    (:meth:`plumecast.near_field_dense.DenseCloud.kind_at`)."""
    from plumecast.nearfield.stability import PG_CLASSES

    src = sampler_x.near[si]
    weather: list[tuple[float, str, float]] = [(float(row[2]), str(PG_CLASSES[int(row[3])]),
                float(row[4]) if row.size > 4 and np.isfinite(row[4]) else src.mixing_height_m)
               for row in _near_field_winds(sampler_x, si, sampler_x.nf_distance)]
    return weather, [src.dense.kind_at(*wx) for wx in weather]


def dense_groups(sampler_x: ExposureSampler | None) -> list[int]:
    """The release groups whose near field was zones' dense cloud at some step their near-field
    air was out (:func:`_near_field_winds`; :mod:`plumecast.near_field_dense`): their receptors'
    air is not linear in their emissions, so ``compare`` reruns a plan that terminates them
    instead of dropping emission tags."""
    if sampler_x is None:
        return []
    return [int(src.group) for si, src in enumerate(sampler_x.near)
            if src.dense is not None and "dense" in _dense_kinds(sampler_x, si)[1]]


def beyond_near_field_lines(scenario: Scenario, sampler_x: ExposureSampler | None) -> list[str]:
    """One line per point release with receptors beyond the near field but within its
    plume's reach (``near_field.distance_km`` to :data:`plumecast.exposure.PLUME_REACH_M`):
    their air is the larger of the particles' and the plume's (docs/exposure.md; farther, out
    to :data:`plumecast.exposure.PLUME_FADE_END_M`, the plume weighted down). The
    particles alone, spread by ``turbulence.kh_m2_s``, had read 21-170 times less at 31 km
    than the plume at 29 km."""
    if sampler_x is None:
        return []
    from plumecast.countermeasures.front import great_circle_m
    from plumecast.near_field_plume import PLUME_FADE_END_M, PLUME_REACH_M

    if not sampler_x.near:
        return near_field_off_lines(scenario, sampler_x)
    d_km = float(scenario.near_field.distance_km)
    d_m = d_km * 1000.0
    r = sampler_x.receptors
    names = [str(n) for n in r.name]
    out = []
    for src in sampler_x.near:
        dist = great_circle_m(src.lat, src.lon, np.asarray(r.lat, float), np.asarray(r.lon, float))
        # a city whose disc reaches into the near field gets the plume there (its parts, city_parts)
        edge = dist - np.asarray(sampler_x.extent, dtype=float)
        near = np.nonzero((edge > d_m) & (dist <= PLUME_REACH_M))[0]
        if near.size == 0:
            continue
        near = near[np.argsort(dist[near])]
        shown = ", ".join(f"{names[i]} ({dist[i] / 1000:.0f} km)" for i in near[:3])
        more = f" and {near.size - 3} more" if near.size > 3 else ""
        rel = scenario.releases[src.group]
        what = getattr(rel, "name", None) or f"releases.{src.group}"
        out.append(
            f"beyond the near field: {shown}{more} lie between {d_km:g} km (near_field.distance_km) and "
            f"{PLUME_REACH_M / 1000:g} km of {what}: their air is the larger of the particles' and the plume's (the "
            f"particles alone, spread by turbulence.kh_m2_s ({scenario.turbulence.kh_m2_s:g} m2/s) far wider than a "
            "plume at that range, can read tens of times less; the plume goes straight down the wind at the source, "
            f"where the particles follow the winds; docs/exposure.md); beyond {PLUME_REACH_M / 1000:g} km the "
            f"plume's air is weighted down to 0 at {PLUME_FADE_END_M / 1000:g} km")
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
    from plumecast.area_peak import stake_levels

    nf = scenario.near_field
    r = sampler_x.receptors
    area = AreaNearField.build(
        sched.groups, sched.emitted_kg, scenario.time_step_s, source, np.asarray(r.lat, float),
        np.asarray(r.lon, float), sampler_x.extent, sampler_x.bin_of_step, distance_m=nf.distance_km * 1000.0, stability=nf.stability,
        mixing_height_m=scenario.turbulence.mixing_height_m, min_wind_m_s=NEAR_FIELD_MIN_WIND_M_S,
        breathing_height_m=BREATHING_HEIGHT_M, decay_rate_s=float(getattr(agent, "decay_rate_s", 0.0)),
        dry_velocity_m_s=dry_velocity_m_s, boundary_at=boundary_at)
    if area is not None:  # the levels the countdowns read, for where the plumes' peaks are refined
        area.peak_levels = stake_levels(agent)
    return area
