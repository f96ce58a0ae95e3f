"""Checks of a comparison's plans against the run, before any member runs.

:func:`_check_plans_on_the_run` (called by
:func:`plumecast.ensemble.compare.make_setup`) refuses what the run's grid, time
steps and receptors cannot carry out in a plan, naming the plan, key and (with
:class:`plumecast.plans.config.PlanKeys`) the file and line: a termination off a
time-step boundary, a front lit outside the output grid or on an agent without a lower
flammability limit (:func:`_check_front_threshold`), a shelter or evacuation
region naming no receptor of the run (:func:`_check_boxes`, :func:`_people_message`),
an emission cut combined with a front (:func:`_check_cuts_with_front`).
:func:`plan_notes` lists, one line each, the measures that can change nothing
(times at or after the end of the run, ignition delays without a front).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from plumecast.errors import ScenarioError
from plumecast.plans.config import PlanConfig, PlanKeys, measure_kind
from plumecast.plans.evaluate import has_front
from plumecast.scenario import Scenario


def _check_plans_on_the_run(sc: Scenario, plans: Sequence[PlanConfig], keys: PlanKeys | None = None) -> None:
    """What the run's grid, steps and receptors refuse in a plan, said before any member
    runs and naming the plan and key (``keys``: the file and line too; found inside member
    0, after its transport, before): a termination off a time-step boundary (its emission
    tag would split a step), a front lit outside the output grid, a shelter or evacuation
    region naming a city that is not a receptor, a city under two orders of one kind."""
    from plumecast.countermeasures.combine import check_people_measures
    from plumecast.exposure import tag_bins
    from plumecast.runner import select_receptors

    keys = keys or PlanKeys()
    if any(measure_kind(m) in ("shelter", "evacuation") for p in plans for m in p.measures):
        receptors = select_receptors(sc)
        if receptors is not None:
            for plan in plans:
                try:
                    check_people_measures(receptors, plan.measures, plan.name)
                except ScenarioError as exc:
                    raise ScenarioError(_people_message(str(exc), plan.name, keys)) from None
                _check_boxes(receptors, plan, keys)

    dt_h = sc.time_step_s / 3600.0
    g = sc.output.grid
    for plan in plans:
        _check_cuts_with_front(plan, keys)
        for j, m in enumerate(plan.measures):
            at = getattr(m, "at_h", None)
            if measure_kind(m) == "termination" and at is not None and 0 <= at <= sc.run_hours:
                try:
                    tag_bins(sc.n_steps, sc.time_step_s, [at])  # the run's own test of a tag's edge
                except ValueError:
                    steps = at / dt_h
                    raise ScenarioError(keys.message(
                        plan.name, ("measures", j, "at_h"),
                        f"{at:g} h is not on a time-step boundary (time_step_s {sc.time_step_s:g} s = {dt_h:.4g} h); "
                        # to 10 figures: '0.1667' had been suggested and refused in turn (plans audit)
                        f"expected a multiple of it, e.g. {math.floor(steps) * dt_h:.10g} or "
                        f"{math.ceil(steps) * dt_h:.10g} ({math.floor(steps) * sc.time_step_s / 60:g} or "
                        f"{math.ceil(steps) * sc.time_step_s / 60:g} min)", sep=" ")) from None
            if measure_kind(m) == "front":
                _check_front_threshold(sc, plan, j, m, keys)
                for lat, lon in getattr(m, "points", []):
                    if not g.contains(float(lat), float(lon)):
                        raise ScenarioError(keys.message(
                            plan.name, ("measures", j, "points"),
                            f"[{float(lat):g}, {float(lon):g}] is outside output.grid (lat {g.lat_min:g}.."
                            f"{g.lat_max:g}, lon {g.lon_min:g}..{g.lon_max:g}); expected ignition points on the grid "
                            "the front burns", sep=" "))


def _check_front_threshold(sc: Scenario, plan: PlanConfig, j: int, m: Any, keys: PlanKeys) -> None:
    """A front on an agent without a lower flammability limit and without a threshold of its own: refused
    here, naming the file, line, measure and agent (it had been refused only once member 0 ran, as "ensemble
    member 0: front: agent 'chlorine' has no lower flammability limit ..."; badinput audit, session 43)."""
    if getattr(m, "threshold_kg_m3", None) is not None or getattr(m, "threshold_ppm", None) is not None:
        return
    if getattr(sc.agent, "lfl_vol_pct", None) is not None:
        return
    raise ScenarioError(keys.message(
        plan.name, ("measures", j),
        f"a front burns the gas above the agent's lower flammability limit, and agent {sc.agent.name!r} has none "
        "(lfl_vol_pct: not flammable, or no cited value); expected threshold_kg_m3 or threshold_ppm in this "
        "measure (the lowest concentration that burns), or an agent with lfl_vol_pct (an inline agent: "
        "docs/scenario.md)"))


def _people_message(text: str, plan: str, keys: PlanKeys) -> str:
    """A message of :func:`plumecast.countermeasures.combine.check_people_measures`
    (``"plans: 'P': measures.0.region: city ..."``, ``"plans: 'P': receptor 'B' is covered
    by two evacuations (measures.1 and measures.2); ..."``) starting with the file, line and
    key of the measure it names (the later of two)."""
    import re

    text = text.removeprefix(f"plans: {plan!r}: ")
    named = re.match(r"measures\.(\d+)\.(\w+): (.*)$", text, re.S)
    if named:
        return keys.message(plan, ("measures", int(named.group(1)), named.group(2)), named.group(3))
    both = re.findall(r"measures\.(\d+)", text)
    if both and keys.source is not None:  # the later of the two orders, where the clash is found
        return keys.message(plan, ("measures", int(both[-1]), "region"), text)
    return keys.message(plan, (), text)


def _check_boxes(receptors: Any, plan: PlanConfig, keys: PlanKeys | None = None) -> None:
    """Refuse a shelter or evacuation box that holds none of the run's receptors, as an
    unknown city name is refused: the order would cover no one and the plan read as
    saving nothing, silently (an evacuation box over the wrong continent; audit)."""
    from plumecast.countermeasures.region import check_region, region_mask

    keys = keys or PlanKeys()
    n = len(np.asarray(receptors.lat))
    for j, m in enumerate(plan.measures):
        region = getattr(m, "region", None)
        if measure_kind(m) not in ("shelter", "evacuation") or region is None:
            continue
        what = f"measures.{j}.region"
        try:
            region = check_region(region, what)
            mask = region_mask(region, receptors, what)
        except ScenarioError:
            continue  # check_people_measures names it
        box_given = isinstance(region, tuple) and len(region) == 4 and all(isinstance(v, float) for v in region)
        if box_given and not mask.any():
            box = ", ".join(f"{float(v):g}" for v in region)
            raise ScenarioError(keys.message(
                plan.name, ("measures", j, "region"),
                f"the box [{box}] (lon_min, lat_min, lon_max, lat_max) holds none of the {n} receptors of this run; "
                "expected a box round receptors of the scenario (a region names receptors of the scenario), or "
                "their names"))


def _check_cuts_with_front(plan: PlanConfig, keys: PlanKeys | None = None) -> None:
    """Refuse an emission cut (fraction < 1) in a plan with a front before any member runs:
    the front's transport is rerun with the plan's terminations written into the releases
    (:func:`_apply_cuts`), which only stops them; it was refused inside member 0 after a
    minute of transport (docs/countermeasures.md's own example; audit)."""
    if not has_front(plan):
        return
    keys = keys or PlanKeys()
    for j, m in enumerate(plan.measures):
        fraction = getattr(m, "fraction", 1.0)
        if measure_kind(m) == "termination" and fraction is not None and float(fraction) < 1.0:
            raise ScenarioError(keys.message(
                plan.name, ("measures", j, "fraction"),
                f"{float(fraction):g}: an emission cut (fraction < 1) cannot be combined with a front in one plan (the "
                "front's transport is rerun with the plan's terminations as full stops); expected fraction 1 (a full "
                "stop) in this plan, or the cut in a plan of its own without the front", sep=" "))


def plan_notes(scenario: Scenario) -> list[str]:
    """Measures that can change nothing, each in one line: a time at or after the end
    of the run (a cost-of-delay ignition time too), cost-of-delay ignition times on a plan
    without a front."""
    end_h = float(scenario.run_hours)
    out = []
    for plan in scenario.plans:
        for _, m, key, t in _measure_times([plan]):
            if t < end_h:
                continue
            if m.type == "shelter":
                # the series goes on in clean air for the gas left indoors (plans.evaluate): people who go
                # inside then breathe what the buildings took in during the run, which may cost lives
                # (-0.0022 lives "saved" read as "< 1" beside "it changes nothing"; audit)
                out.append(f"plan {plan.name!r}: shelter at {key} {t:g} h, at or after the end of the run "
                           f"({end_h:g} h): it protects no one from the run's gas; people then go indoors "
                           "into buildings that took in gas during the run, and the figures count what they "
                           "breathe there, so the plan can cost lives")
                continue
            out.append(f"plan {plan.name!r}: {m.type} at {key} {t:g} h, at or after the end of the run "
                       f"({end_h:g} h): it changes nothing in this comparison")
        if getattr(plan, "ignition_delays_h", None) and not any(m.type == "front" for m in plan.measures):
            out.append(f"plan {plan.name!r}: ignition_delays_h is ignored: the plan has no front to light later")
        elif late := [float(h) for h in getattr(plan, "ignition_delays_h", None) or [] if float(h) >= end_h]:
            # a front lit after the run lights nothing in it: that point of the curve is the plan without its
            # front, which nothing had said (audit 42c)
            times = ", ".join(f"{h:g}" for h in late)
            out.append(f"plan {plan.name!r}: ignition_delays_h {times} h, at or after the end of the run "
                       f"({end_h:g} h): the front is not lit within the run, so the cost-of-delay curve reads "
                       f"the plan without its front there")
    gaps, past = aegl_gap_note(scenario.resolved_agent()), past_measures_note(scenario)
    out += [gaps] if gaps else []
    out += [past[0].lower() + past[1:]] if past else []
    return out


#: the keys of a measure's time, hours after the start
MEASURE_TIME_KEYS = ("at_h", "start_h", "order_h", "ignition_h")


def _measure_times(plans: Sequence[PlanConfig]) -> Iterator[tuple[PlanConfig, Any, str, float]]:
    """Each measure time of ``plans``: (plan, measure, key, hours after the start)."""
    for plan in plans:
        for m in plan.measures:
            for key in MEASURE_TIME_KEYS:
                t = getattr(m, key, None)
                if isinstance(t, int | float):
                    yield plan, m, key, float(t)


def _past_measures(scenario: Scenario, plans: Sequence[PlanConfig] | None) -> list[tuple[PlanConfig, Any, float]]:
    """(plan, measure, hours after the start) of each measure timed before the forecast's issue time; [] without
    ``issued_at``."""
    if scenario.issued_at is None:
        return []
    issued_h = float((scenario.issued64 - scenario.start64) / np.timedelta64(1, "s")) / 3600.0
    return [(plan, m, t) for plan, m, _, t in _measure_times(scenario.plans if plans is None else plans)
            if t < issued_h - 1e-9]


def plans_timed_before_issue(scenario: Scenario, plans: Sequence[PlanConfig] | None = None) -> list[str]:
    """The names of the plans with a measure timed before the forecast's issue time (those
    :func:`past_measures_note` names), in plan order; [] without ``issued_at``."""
    names = {plan.name for plan, _, _ in _past_measures(scenario, plans)}
    return [p.name for p in (scenario.plans if plans is None else plans) if p.name in names]


def own_measure_times(plans: Sequence[PlanConfig]) -> dict[str, dict[str, float]]:
    """Each plan's own time of the measures the cost of delay varies, hours after the start: its first
    termination's ``at_h`` and its first front's ``ignition_h`` (the star of cost_of_delay.png), by plan name;
    plans without either are left out."""
    out: dict[str, dict[str, float]] = {}
    for plan in plans:
        for m in plan.measures:
            kind = getattr(m, "type", None)
            t = getattr(m, "at_h" if kind == "termination" else "ignition_h", None) \
                if kind in ("termination", "front") else None
            if isinstance(t, int | float) and math.isfinite(float(t)):
                out.setdefault(plan.name, {}).setdefault(str(kind), float(t))
    return out


def past_measures_note(scenario: Scenario, plans: Sequence[PlanConfig] | None = None) -> str | None:
    """The measures timed before the forecast's issue time (``issued_at``), in one sentence: a plan that acts
    then is ranked as if it had been carried out, which only a plan already under way can be (a plug at 14:20
    ranked first by a forecast issued at 14:40 without a word; planner audit, session 39). None where there
    are none, or no ``issued_at``."""
    if scenario.issued_at is None:
        return None
    past = []
    for plan, m, t in _past_measures(scenario, plans):
        clock = np.datetime_as_string(scenario.start64 + np.timedelta64(round(t * 3600.0), "s"), "m")
        past.append(f"{plan.name!r} ({m.type} at {clock.replace('T', ' ')} UTC)")
    if not past:
        return None
    issued = np.datetime_as_string(scenario.issued64, "m").replace("T", " ")
    return (f"Timed before the forecast's issue ({issued} UTC): {', '.join(past)}; these figures assume the measure "
            "was carried out then, so read such a plan as an account of one already under way, not an option")


def aegl_durations_given(scenario: Any, level: int) -> str:
    """Whether the scenario's agent gives AEGL-``level`` for "all" its durations, "some" or
    "none" ("all" without a scenario: nothing is known to be missing)."""
    if scenario is None:
        return "all"
    table = np.asarray(scenario.resolved_agent().aegl_table_ppm(level), dtype=float)
    return "all" if np.isfinite(table).all() else "some" if np.isfinite(table).any() else "none"


def aegl_gap_note(agent: Any) -> str | None:
    """One line where the agent's AEGL-2 or AEGL-3 table has gaps or is missing: what the
    comparison then cannot say (the cities tables' "n/a", the maps counting only the cells where
    a level is known to be reached), or None (regression audit: a planner saw P(AEGL-3) "unknown"
    beside 44 deaths, and maps with no cell reaching AEGL-3, with no reason given)."""
    from plumecast.toxicology import AEGL_DURATIONS_S

    lacks = []
    for level in (2, 3):
        table = agent.aegl_table_ppm(level)
        given = [lab for lab, v in zip(AEGL_DURATIONS_S, table, strict=True) if np.isfinite(v)]
        if not given:
            lacks.append(f"no AEGL-{level}, so P(AEGL-{level}) and its countdowns are n/a everywhere")
        elif len(given) < len(table):
            lacks.append(f"AEGL-{level} only for {', '.join(given)}, so where the gas lasts longer before AEGL-{level} "
                         f"is reached P(AEGL-{level}) and its countdown are n/a")
    if not lacks:
        return None
    return (f"the agent's table has {'; '.join(lacks)} (unknown, not never); the probability maps count only the "
            "cells where a level is known to be reached")
