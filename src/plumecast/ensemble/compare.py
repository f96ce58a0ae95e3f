"""Run every plan against every ensemble member, on ``dask.distributed`` or serially.

One task per member (:func:`member_task`). It runs the transports the member needs
and evaluates every plan on them:

* one baseline transport with emission tags: it serves the do-nothing plan, every
  plan that only changes exposure (shelter, evacuation) and every termination or
  emission cut (superposition of tags, exact by linearity);
* one transport per plan with a neutralisation front (the only measure that
  changes the transport), and one per extra ignition time of its cost of delay;
* the probability maps of termination plans come from the baseline's gridded
  emission tags (``runner.run(grid_tags_h=...)``, CPU backends; exact by
  linearity); on a GPU backend, which has no gridded tags, from a direct rerun
  with the termination and the same mass per particle (exact as well).

The task returns small per-receptor arrays and per-plan gridded exceedance
indicators. The indicators are summed into counts on the workers by a tree of
``add`` tasks (integer sums: exact in any order), so a large ensemble of global
grids never sits in one process. Members carry their own seeds, and member
results are placed by member index, so the comparison does not depend on the
number of workers or the order in which tasks finish. Running the members on
Dask (the cluster, its failures, its log) is :mod:`plumecast.ensemble.dask_run`.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.ensemble.dask_run import MemberFailure, _run_dask
from plumecast.ensemble.dense_cuts import HeldToWhole
from plumecast.ensemble.members import MemberSpec, member_scenario, member_specs, member_wind
from plumecast.ensemble.plan_checks import _check_plans_on_the_run
from plumecast.errors import PlumecastError, ScenarioError
from plumecast.plans.config import PlanConfig, PlanKeys, measure_kind, with_baseline
from plumecast.plans.evaluate import (
    PlanOutcome,
    evaluate_plan,
    evaluate_plans,
    front_arrival_at,
    has_front,
    has_termination,
    plan_cuts,
    release_groups,
    tag_weights,
    termination_times_h,
)
from plumecast.scenario import Scenario

LEVELS = (2, 3)
#: a dense cut's hold is said where it moves some receptor's dose by more than this share (dense_cuts)
HELD_NOTE_SHARE = 0.01


@dataclass(frozen=True)
class CompareSetup:
    """What every member task needs (small and picklable)."""

    scenario: Scenario
    plans: tuple[PlanConfig, ...]
    tags_h: tuple[float, ...]
    delay_h: tuple[float, ...]
    maps: bool = True
    termination_maps: bool = True


@dataclass
class MemberResult:
    index: int
    outcomes: dict[str, PlanOutcome]
    delay_termination: dict[str, NDArray[np.float64]]  # plan -> total fatalities at each setup.delay_h
    delay_ignition: dict[str, dict[float, float]]  # plan -> {ignition h: total fatalities}
    grids: dict[str, NDArray[np.uint32]] | None  # plan -> (level, lat, lon) exceedance indicator / counts
    wall_s: float
    runs: int
    notes: list[str] = field(default_factory=list)
    cpu_s: tuple[float, float] = (0.0, 0.0)  # (user, system) CPU time of the process during the task [s]
    #: the lowest and highest total over the agent's probit sets of each point of the curves above
    #: (PlanOutcome.total_span): plan -> (delay, 2), and plan -> {ignition h: (lowest, highest)}
    delay_termination_span: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    delay_ignition_span: dict[str, dict[float, tuple[float, float]]] = field(default_factory=dict)


def default_tags_h(scenario: Scenario, plans: Sequence[PlanConfig], step_h: float = 2.0) -> tuple[float, ...]:
    """Emission-tag edges: every ``step_h`` hours plus every termination time. [h]"""
    run_h = scenario.run_hours
    edges = set(np.round(np.arange(0.0, run_h + 1e-9, step_h), 9).tolist())
    edges |= {t for t in termination_times_h(plans) if 0 <= t <= run_h}
    edges.add(run_h)
    return tuple(sorted(edges))


def make_setup(scenario: Scenario, plans: Sequence[PlanConfig] | None = None, *, particles: int | None = None,
               tag_step_h: float = 2.0, maps: bool = True, termination_maps: bool = True,
               source: str | None = None, lines: Mapping[tuple[str | int, ...], int] | None = None) -> CompareSetup:
    """A comparison of ``plans`` (default: the scenario's) with the do-nothing baseline first
    (:func:`check_comparison` says whether it compares anything). ``source`` and ``lines``:
    the scenario file and its key-path -> line index
    (:func:`plumecast.scenario_yaml.parse_yaml`), so that what is refused here names the
    file, line and key (``plans.0.measures.1.region``) as the schema's errors do."""
    given = list(scenario.plans if plans is None else plans)
    keys = PlanKeys(source, (lines or {}) if plans is None else {}, tuple(p.name for p in given))
    plist = with_baseline(given, keys)
    if particles is None and scenario.ensemble is not None and scenario.ensemble.particles:
        particles = scenario.ensemble.particles
    sc = scenario.replace(particles=particles) if particles is not None else scenario
    names = [r.name or f"release {i}" for i, r in enumerate(sc.releases)]
    for p in plist:
        for j, m in enumerate(p.measures):
            if measure_kind(m) == "termination":
                try:
                    release_groups(getattr(m, "releases", None), names)  # bad names fail here, before any run
                except ScenarioError as exc:
                    raise ScenarioError(keys.message(p.name, ("measures", j, "releases"),
                                                     str(exc).removeprefix("plans: "))) from None
    _check_plans_on_the_run(sc, plist, keys)
    tags = default_tags_h(sc, plist, tag_step_h)
    delay = tuple(t for t in tags if t < sc.run_hours)
    return CompareSetup(sc, tuple(plist), tags, delay, maps, termination_maps)


ADD_PLANS = ("add a 'plans:' list with at least one plan that has measures, e.g.\n"
             "  plans:\n"
             "    - name: shelter now\n"
             "      measures: [{type: shelter, start_h: 0.5, compliance: 0.8}]\n"
             "(docs/plans.md)")


def check_comparison(setup: CompareSetup, n_members: int, source: str | None = None) -> str | None:
    """Refuse a comparison that compares nothing; a notice for one that only has a baseline.

    Without a plan that has measures and with one member (no ``ensemble:``), there is
    neither a plan to compare nor a spread to show: that is a single forecast, refused
    with what to add. With an ensemble but no plans, the do-nothing baseline's spread
    and exceedance probabilities are still worth having: the returned notice says
    that no plan is compared (None when there are plans).

    Raises
    ------
    ScenarioError
        No plan and one member (``source``, the scenario file, starts the message).
    """
    if any(p.measures for p in setup.plans):
        return None
    where = f"{source}: " if source else ""
    if n_members <= 1:
        raise ScenarioError(
            f"{where}plans: nothing to compare: the scenario has no response plan and one member (no "
            "'ensemble:' key, or members: 1); "
            f"{ADD_PLANS}, and an 'ensemble:' key for probabilities and 5-95 % intervals. "
            "For a single forecast without plans use 'plumecast run'")
    return (f"{where}no response plans: only the do-nothing baseline over {n_members} members "
            "(its spread and exceedance probabilities); to compare plans, add a 'plans:' list (docs/plans.md)")


# --------------------------------------------------------------------------- transports


def _release_names(sc: Scenario) -> list[str]:
    return [r.name or f"release {i}" for i, r in enumerate(sc.releases)]


def _run(sc: Scenario, wind: xr.Dataset, tags_h: Sequence[float] | None, front: Any = None,
         particle_mass_kg: float | None = None, grid_tags_h: Sequence[float] | None = None) -> tuple[Any, Any]:
    """One transport of a member (:func:`plumecast.runner.run`) and its receptor exposure."""
    from plumecast import runner

    res = runner.run(sc, wind=wind, exposure_tags_h=None if tags_h is None else list(tags_h),
                     particle_mass_kg=particle_mass_kg, front=front,
                     grid_tags_h=None if grid_tags_h is None else list(grid_tags_h))
    if res.exposure is None:
        raise ScenarioError("plans: the scenario has no receptors (receptors: cities/points/csv); "
                            "a comparison needs places to compare")
    return res, res.exposure


def _cut_run(sc: Scenario, wind: xr.Dataset, tags_h: Sequence[float] | None, mass: float | None) -> Any:
    """The exposure of a member's transport with a plan's cuts applied (:func:`_apply_cuts`), its
    particles of the baseline's mass; a cut that leaves less than one particle's mass (a termination
    at the release's start) gets the scenario's particle count."""
    from plumecast.release import schedule

    if mass is not None and schedule(sc).total_kg < mass:
        mass = None
    return _run(sc, wind, tags_h, particle_mass_kg=mass)[1]


def _cuts_nothing(sc: Scenario, cut: Scenario) -> bool:
    """True where every release of ``cut`` (``sc`` with stops, :func:`_apply_cuts`) stops at or after it would
    have ended anyway (its stop, its duration, the scenario's termination, the end of the run; a tank's end is
    its source model's, so only the run's end counts there): the baseline's transport, not a rerun (a delay
    of 4, 6 or 8 h of a 3-h release had cost a transport each, and read the baseline with float noise)."""
    term = sc.termination_h
    for rel, new in zip(sc.releases, cut.releases, strict=True):
        if new.stop_h is None or new.stop_h == rel.stop_h:
            continue
        ends = [float(sc.run_hours)] + [float(t) for t in (term, rel.stop_h) if t is not None]
        lasts = getattr(rel, "duration_s", None)
        if getattr(rel, "tank", None) is None and lasts is not None:
            ends.append(float(rel.start_h) + float(lasts) / 3600.0)
        if float(new.stop_h) < min(ends) - 1e-9:
            return False
    return True


def _apply_cuts(sc: Scenario, plan: PlanConfig, ignition_h: float | None = None,
                termination_h: float | None = None) -> Scenario:
    """The scenario with the plan's terminations applied directly (for transports
    that are not linear in the emissions: the front; a near field that is zones' dense
    cloud); ``termination_h`` moves them all to that time (the cost of delay)."""
    names = _release_names(sc)
    releases = list(sc.releases)
    for at_h, fraction, groups in plan_cuts(plan, names, termination_h):
        if fraction < 1.0:
            raise ScenarioError(f"plans: {plan.name!r}: an emission cut (fraction {fraction:g} < 1) combined with a "
                                "front is not supported; use a full termination")
        for g in groups:
            r = releases[int(g)]
            stop = at_h if r.stop_h is None else min(r.stop_h, at_h)
            if stop <= r.start_h:
                stop = r.start_h + 1e-6
            releases[int(g)] = r.model_copy(update={"stop_h": stop})
    return sc.model_copy(update={"releases": releases})


def _burnt_nothing(res: Any, arrival_s: NDArray[np.float64]) -> bool:
    """True where a front's run removed no gas and reached no receptor: the plan is then its other measures
    alone, read on the baseline's transport as the plans without a front are. Its own transport (the releases
    cut, fewer particles, other discs) reads those measures with other noise: a front that burnt nothing had
    moved a termination's figures by 13 (7-160) deaths (planner audit, session 39)."""
    return float(res.budget.neutralised) == 0.0 and not np.isfinite(np.asarray(arrival_s, float)).any()


def _cuts_dense(plan: PlanConfig, names: list[str], dense: set[int]) -> bool:
    """Whether ``plan`` cuts a release whose near field is zones' dense cloud (its cut is then a rerun)."""
    return any(dense & {int(g) for g in groups} for _, _, groups in plan_cuts(plan, names))


def _front_outcome(plan: PlanConfig, res: Any, exp: Any, arrival_s: NDArray[np.float64], base_exp: Any,
                   holder: HeldToWhole | None, dense: set[int],
                   tags: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]], names: list[str],
                   agent: Any) -> PlanOutcome:
    """The outcome of a plan with a front from its run ``res`` (exposure ``exp``): the front's figures, or
    where it burnt nothing (:func:`_burnt_nothing`) those of its other measures alone, as the plans without
    a front read them: by tags on the baseline's transport, or, where it stops a release whose near field
    is zones' dense cloud, on ``exp`` (that release cut, nothing removed) held as
    :class:`~plumecast.ensemble.dense_cuts.HeldToWhole` holds every such cut."""
    if not _burnt_nothing(res, arrival_s):
        return evaluate_plan(exp, agent, _without(plan, ("termination", "front")), names, front_arrival_s=arrival_s)
    rest = _without(plan, ("front",))
    no_front = np.full(np.asarray(base_exp.receptors.lat).size, np.nan)
    if not _cuts_dense(rest, names, dense):
        return evaluate_plan(base_exp, agent, rest, names, front_arrival_s=no_front)
    full, partial = _split_terminations(rest)
    held, _ = (holder or HeldToWhole(base_exp, sorted(dense))).hold(exp, tag_weights(*tags, plan_cuts(full, names)))
    return evaluate_plan(held, agent, partial, names, front_arrival_s=no_front)


def _tag_field(base_res: Any, plan: PlanConfig, names: list[str]) -> xr.DataArray | None:
    """The baseline's gridded air with the plan's cuts applied by its emission tags; None without gridded
    tags (a GPU backend)."""
    by_tag = base_res.concentration_by_tag
    if by_tag is None:
        return None
    w = tag_weights(by_tag["tag_start_h"].values, by_tag["tag_end_h"].values,
                    by_tag["tag_group"].values.astype(np.int64), plan_cuts(plan, names))
    return base_res.concentration.copy(data=np.tensordot(w, by_tag.values, axes=(0, 0)).astype(np.float32))


def _front_of(plan: PlanConfig, agent: Any, ignition_h: float | None = None) -> Any:
    """The front of a plan (its ignition moved to ``ignition_h``) as runner.run(front=...) takes it."""
    from plumecast.countermeasures.config import build_measure

    fronts = [m for m in plan.measures if measure_kind(m) == "front"]
    if len(fronts) != 1:
        raise ScenarioError(f"plans: {plan.name!r} has {len(fronts)} fronts; expected one")
    f = fronts[0]
    if ignition_h is not None:
        key = "ignition_h" if hasattr(f, "ignition_h") else "at_h"
        f = f.model_copy(update={key: ignition_h})
    return build_measure(f, agent)


def ignition_of(plan: PlanConfig) -> float:
    """The ignition time of a plan's front, hours after the start (:func:`_front_of`'s front)."""
    f = next(m for m in plan.measures if measure_kind(m) == "front")
    return float(getattr(f, "ignition_h" if hasattr(f, "ignition_h") else "at_h"))


def _front_on_grid(spec: Any, sc: Scenario) -> Any:
    """A fresh (stateful) Front on the scenario's output grid."""
    from plumecast.concentration import OutputGrid

    return spec.on_output_grid(OutputGrid.from_config(sc.output.grid))


def _split_terminations(plan: PlanConfig) -> tuple[PlanConfig, PlanConfig]:
    """The plan's full terminations alone, and the plan without them (its other measures and its
    partial cuts): the first applied to the sources of a rerun (:func:`_apply_cuts`), the
    second by tags on it."""
    def full(m: Any) -> bool:
        return measure_kind(m) == "termination" and float(getattr(m, "fraction", 1.0)) >= 1.0

    return (plan.model_copy(update={"measures": [m for m in plan.measures if full(m)]}),
            plan.model_copy(update={"measures": [m for m in plan.measures if not full(m)]}))


def _without(plan: PlanConfig, kinds: tuple[str, ...]) -> PlanConfig:
    return plan.model_copy(update={"measures": [m for m in plan.measures if measure_kind(m) not in kinds]})


# --------------------------------------------------------------------------- grids


def grid_exceedance(conc: xr.DataArray, agent: Any, start: np.datetime64) -> NDArray[np.uint32]:
    """1 where a cell reaches AEGL-2 / AEGL-3 at some time, shape (level, lat, lon)
    (:func:`plumecast.grid_consequence.cells_reaching_aegl`)."""
    from plumecast.grid_consequence import cells_reaching_aegl

    return cells_reaching_aegl(conc, agent, start, LEVELS)


# --------------------------------------------------------------------------- the member task


def member_task(setup: CompareSetup, spec: MemberSpec) -> MemberResult:
    """Everything one member contributes to the comparison."""
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    sc = member_scenario(setup.scenario, spec)
    wind = member_wind(sc, spec)
    agent = sc.resolved_agent()
    names = _release_names(sc)
    # gridded emission tags at the plans' termination times: the maps of termination plans
    # come from the baseline transport too (exact by linearity, no rerun)
    cuts_h = sorted({t for t in termination_times_h(setup.plans) if 0 < t < sc.run_hours})
    want_grid_tags = setup.maps and setup.termination_maps and bool(cuts_h) and sc.backend in ("numba", "numpy")
    base_res, base_exp = _run(sc, wind, setup.tags_h, grid_tags_h=cuts_h if want_grid_tags else None)
    runs = 1
    from plumecast.run_near_field import WARNING_PREFIXES

    # what the member's near-field plumes must say (a dense release modelled passive, a class its wind does
    # not allow, the pure-vapour cap): compare shows them as run does (member_warnings)
    provenance_notes = [str(line) for line in base_res.stats.get("met_provenance", [])
                        if str(line).startswith(WARNING_PREFIXES)]
    mass = base_res.stats.get("particle_mass_kg")
    lat = np.asarray(base_exp.receptors.lat, float)
    lon = np.asarray(base_exp.receptors.lon, float)
    outcomes: dict[str, PlanOutcome] = {}
    grids: dict[str, NDArray[np.uint32]] = {}
    delay_term: dict[str, NDArray[np.float64]] = {}
    delay_ign: dict[str, dict[float, float]] = {}
    term_span: dict[str, NDArray[np.float64]] = {}  # each curve point's range over the probit sets
    ign_span: dict[str, dict[float, tuple[float, float]]] = {}
    notes: list[str] = provenance_notes
    # the forecast ends with gas still at some places: their deaths, and what a plan saves there, cover the
    # forecast only, and a plan that acts later may rank otherwise over a longer one (run said so, compare
    # had not: a 1-h forecast of a 1.5-h release ranked shelter first, 5 h ranked the valve; honest-numbers audit)
    from plumecast.consequence_metrics import onset_floor

    series = base_exp.total()
    last = np.nan_to_num(series[-1]) if series.shape[0] else np.zeros(0)
    floor = onset_floor(agent)
    if np.any(last >= floor if floor > 0 else last > 0):
        from plumecast.release import schedule

        emitted = schedule(sc).emitted_kg
        emitting = bool(emitted.shape[0]) and float(emitted[-1].sum()) > 0.0  # in the forecast's last step
        notes.append(f"plans: gas is still present at the end of the forecast ({sc.run_hours:g} h) at some "
                     "receptors" + (" (a release still emits then)" if emitting else "") + ": their deaths and "
                     "the lives each plan saves cover the forecast only (lower bounds), and the plans may rank "
                     "otherwise over a longer one" + ("" if emitting else "; lengthen duration_h before deciding"))
    base_grid = grid_exceedance(base_res.concentration, agent, sc.start64) if setup.maps else None
    plain = [p for p in setup.plans if not has_front(p)]
    # every plan without a front, and the cost of delay of those with a termination, from the
    # baseline transport in one assessment (emission tags: exact by linearity)
    variants: list[tuple[PlanConfig, float | None]] = [(p, None) for p in plain]
    variants += [(p, h) for p in plain if has_termination(p) for h in setup.delay_h]
    evaluated = evaluate_plans(base_exp, agent, variants, names)
    for (p, h), o in zip(variants, evaluated, strict=True):
        if h is None:
            outcomes[p.name] = o
    for p in plain:
        if has_termination(p):
            mine = [o for (q, h), o in zip(variants, evaluated, strict=True) if q is p and h is not None]
            delay_term[p.name] = np.array([o.total_fatalities for o in mine])
            term_span[p.name] = np.array([o.total_span for o in mine]).reshape(-1, 2)
    if setup.maps:
        for p in plain:
            if p.name in grids:
                continue
            if has_termination(p) and setup.termination_maps:
                field = _tag_field(base_res, p, names)
                if field is None:  # a GPU backend: no gridded tags, so a direct rerun (exact, with the same particles)
                    tres, _ = _run(_apply_cuts(sc, p), wind, None, particle_mass_kg=mass)
                    runs += 1
                    field = tres.concentration
                grids[p.name] = grid_exceedance(field, agent, sc.start64)
            elif not has_termination(p):
                assert base_grid is not None
                grids[p.name] = base_grid  # shelter and evacuation do not change the outdoor air
    # a termination of a release whose near field is zones' dense cloud: that air is not linear in the
    # emissions (the cloud of a shorter release is another cloud), so the plan's transport is rerun with
    # the release cut, as a front's is; dropping the emission tags had kept the whole release's dose per
    # kilogram (10 kg/s over 2 h cut at 10 min: 0.62-0.68 of the cut release's dose; dense-cloud audit)
    dense = set(base_res.stats.get("near_field_dense_groups", ()))
    # each distinct cut (the releases' stops) is one transport, whatever plans and delays ask for it: two
    # plans that stop the same release share its cost-of-delay reruns (16 transports had been run where 5
    # distinct cuts would do; dense-cloud audit). key -> (the cut scenario, the emission tags' weights of the cut,
    # [(plan, partial, delay or None, j)])
    cut_runs: dict[tuple[float | None, ...], tuple[Scenario, NDArray[np.float64],
                                                    list[tuple[str, PlanConfig, float | None, int]]]] = {}
    tags = (np.asarray(base_exp.tag_start_h), np.asarray(base_exp.tag_end_h), np.asarray(base_exp.tag_group))
    dense_named: list[str] = []  # the plans whose cost of delay comes from such reruns
    for p in plain:
        cuts = plan_cuts(p, names) if has_termination(p) else []
        if not any(dense & {int(g) for g in groups} for _, _, groups in cuts):
            continue
        if any(fraction < 1.0 and dense & {int(g) for g in groups} for _, fraction, groups in cuts):
            notes.append(f"plans: {p.name!r} cuts a release whose near field is zones' dense cloud by a fraction: "
                         "its receptors keep the whole release's dose per kilogram (the dense cloud is not linear "
                         "in its emissions); a full termination is rerun exactly")
            continue
        dense_named.append(p.name)
        # the full terminations applied to the sources, the partial ones (of other releases) by tags on that run
        full, partial = _split_terminations(p)
        # a cut before a release starts leaves nothing of it: the tags' figure is then exact (a rerun keeps a
        # release of a millisecond, _apply_cuts, and printed 9e-46 deaths)
        linear, linear_span = delay_term.get(p.name), term_span.get(p.name)
        starts = [sc.releases[int(g)].start_h for _, fraction, groups in plan_cuts(full, names) for g in groups]
        delay_term[p.name] = np.full(len(setup.delay_h), np.nan)
        term_span[p.name] = np.full((len(setup.delay_h), 2), np.nan)
        for j, h in [(-1, None), *enumerate(setup.delay_h)]:
            if h is not None and linear is not None and starts and h <= min(starts):
                delay_term[p.name][j] = float(linear[j])
                if linear_span is not None:
                    term_span[p.name][j] = linear_span[j]
                continue
            cut = _apply_cuts(sc, full, termination_h=h)
            key = tuple(r.stop_h for r in cut.releases)
            if key not in cut_runs:  # with the tags' weights of the cut: the whole release's air of the emission before it
                cut_runs[key] = (cut, tag_weights(*tags, plan_cuts(full, names, h)), [])
            cut_runs[key][2].append((p.name, partial, h, j))
    # a stopped release is the whole one's first part: its air is held between the baseline's and the baseline's of
    # the emission before the stop (dense_cuts: a shorter release's cloud is zones' puff, which can be the more
    # concentrated, and had made a stop at 1 h read more deaths than doing nothing)
    holder = HeldToWhole(base_exp, sorted(dense)) if cut_runs else None
    for cut, linear_w, asks in cut_runs.values():
        assert holder is not None
        if _cuts_nothing(sc, cut):  # a stop at or after every release's end: the baseline itself, not a rerun
            dexp, change = base_exp, 0.0
        else:
            dexp, change = holder.hold(_cut_run(cut, wind, setup.tags_h, mass), linear_w)
            runs += 1
        for name in dict.fromkeys(a[0] for a in asks if a[2] is None):
            if change > HELD_NOTE_SHARE:
                notes.append(f"plans: {name!r}: the cut release's own dense cloud (zones' cloud of a shorter "
                             "release) reads above the whole release's air or below its air of the emission before "
                             "the stop at some receptors; their air is held between the two, step by step "
                             "(docs/dense_gas.md): a stopped release is the whole one's first part")
        for (name, _, h, j), o in zip(asks, evaluate_plans(dexp, agent, [(partial, h) for _, partial, h, _ in asks],
                                                            names), strict=True):
            if h is None:
                outcomes[name] = o
            else:
                delay_term[name][j] = o.total_fatalities
                term_span[name][j] = o.total_span
    for name, curve in delay_term.items():
        if name in dense_named and np.any(np.diff(curve) < 0.0):
            notes.append(f"plans: {name!r}: stopping later reads fewer deaths at some delays of its cost-of-delay "
                         "curve: each stop's dense cloud is zones' cloud of the shorter release (held to the whole "
                         "release's, not to each other's; docs/dense_gas.md), so the curve is the model's, not a "
                         "reason to wait")
    for plan in setup.plans:
        if not has_front(plan):
            continue
        fsc = _apply_cuts(sc, plan)
        fres, fexp = _run(fsc, wind, setup.tags_h, front=_front_on_grid(_front_of(plan, agent), fsc), particle_mass_kg=mass)
        runs += 1
        fa = front_arrival_at(getattr(fres, "front_arrival", None), lat, lon, sc.start64)
        outcomes[plan.name] = _front_outcome(plan, fres, fexp, fa, base_exp, holder, dense, tags, names, agent)
        if setup.maps:
            # a front that burnt nothing: the map of its other measures, as its figures (its own transport's
            # map had disagreed with them by Monte Carlo noise; review of session 40)
            field = fres.concentration
            if _burnt_nothing(fres, fa) and not _cuts_dense(plan, names, dense):
                others = _tag_field(base_res, plan, names) if has_termination(plan) else base_res.concentration
                field = fres.concentration if others is None else others
            grids[plan.name] = grid_exceedance(field, agent, sc.start64)
        totals: dict[float, float] = {}
        spans: dict[float, tuple[float, float]] = {}
        own = ignition_of(plan)
        if plan.ignition_delays_h:
            # the plan's own ignition is a point of its curve, as a termination plan's own cut time is one of its
            # delays: its own run, no rerun (audit 42c: the curve had left it out)
            totals[own], spans[own] = outcomes[plan.name].total_fatalities, outcomes[plan.name].total_span
        for h in plan.ignition_delays_h:
            if float(h) == own:
                continue
            dres, dexp = _run(fsc, wind, setup.tags_h, front=_front_on_grid(_front_of(plan, agent, h), fsc),
                              particle_mass_kg=mass)
            runs += 1
            late = _front_outcome(plan, dres, dexp, front_arrival_at(dres.front_arrival, lat, lon, sc.start64),
                                  base_exp, holder, dense, tags, names, agent)
            totals[float(h)], spans[float(h)] = late.total_fatalities, late.total_span
        if totals:
            delay_ign[plan.name], ign_span[plan.name] = totals, spans
    outcomes = {p.name: outcomes[p.name] for p in setup.plans}
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    return MemberResult(spec.index, outcomes, delay_term, delay_ign, grids if setup.maps else None,
                        time.perf_counter() - t0, runs, notes,
                        cpu_s=(ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime),
                        delay_termination_span=term_span, delay_ignition_span=ign_span)


def member_warnings(raw: RawComparison) -> list[str]:
    """The lines of the members the user must know: what the plans' own work says (lines
    starting "plans:", each distinct one once: a dense release cut by a fraction, a cost of
    delay to read with care), then the near-field lines of their runs
    (:data:`plumecast.run_near_field.WARNING_PREFIXES`: a dense release, a class the wind at
    the source does not allow, the pure-vapour cap), one per kind: the first member's, with
    how many members have one (the members' winds differ, so their figures may)."""
    from plumecast.run_near_field import WARNING_PREFIXES

    n = len(raw.members)
    out = []
    # what the plans' own work says (a dense release cut by a fraction, a cost of delay to read with care):
    # each distinct line once, with how many members have it
    for line in dict.fromkeys(text for m in raw.members for text in m.notes if text.startswith("plans:")):
        members = sum(line in m.notes for m in raw.members)
        out.append(line if members == n or n == 1 else f"{line} [{members} of {n} members]")
    for prefix in WARNING_PREFIXES:
        found = [(m.index, line) for m in raw.members for line in m.notes if line.startswith(prefix)]
        if not found:
            continue
        index, line = found[0]
        members = len({i for i, _ in found})
        same = len({text for _, text in found}) == 1 and members == n
        out.append(line if same or n == 1 else f"{line} [member {index}; {members} of {n} members have such a line]")
    return out


def _small(result: Any) -> Any:
    return replace(result, grids=None) if isinstance(result, MemberResult) else result


def _grids(result: Any) -> dict[str, NDArray[np.uint32]] | None:
    if isinstance(result, MemberFailure):
        return None
    return result.grids if isinstance(result, MemberResult) else result


def add_grids(a: Any, b: Any) -> dict[str, NDArray[np.uint32]] | None:
    """Sum two members' (or partial sums') exceedance counts (exact, order-free)."""
    ga, gb = _grids(a), _grids(b)
    if ga is None or gb is None:
        return ga if gb is None else gb
    return {k: ga[k].astype(np.uint32) + gb[k].astype(np.uint32) for k in ga}


# --------------------------------------------------------------------------- orchestration


@dataclass
class RawComparison:
    """Member results in member order plus the summed exceedance counts."""

    setup: CompareSetup
    specs: list[MemberSpec]
    members: list[MemberResult]
    counts: dict[str, NDArray[np.uint32]] | None
    grid_lat: NDArray[np.float64] | None
    grid_lon: NDArray[np.float64] | None
    wall_s: float
    workers: int
    #: the file Dask's own log lines of the run went to (warnings: a worker that died and was
    #: restarted, its members rerun), or None where Dask logged nothing worth keeping
    dask_log: str | None = None


def _grid_coords(sc: Scenario) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    from plumecast.concentration import OutputGrid

    g = OutputGrid.from_config(sc.output.grid)
    return g.lat, g.lon


def _member_message(index: int, message: str) -> str:
    """``ensemble member N: ...`` (the member named once)."""
    return message if message.startswith(f"ensemble member {index}:") else f"ensemble member {index}: {message}"


def run_members(
    setup: CompareSetup,
    specs: Sequence[MemberSpec],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    serial: bool = False,
    progress: Callable[[int, int], None] | None = None,
    retries: int = 2,
    worker_threads: int | None = None,
    source: str | None = None,
    lines: Mapping[tuple[str | int, ...], int] | None = None,
) -> RawComparison:
    """Run the member tasks (serially in this process, on a LocalCluster of
    ``workers`` processes, or on the cluster at ``scheduler``) and reduce them.

    ``worker_threads``: numba threads of each local worker (default: the cores
    divided among the workers, :func:`plumecast.ensemble.dask_run.worker_environ`). A local cluster is refused
    before it starts where the members that run at once (one per worker) need more
    memory than this machine has available
    (:func:`plumecast.scenario_checks.check_members_memory`; ``source`` and ``lines``,
    the scenario file and its key -> line index, are named in that message)."""
    t0 = time.perf_counter()
    specs = list(specs)
    n = len(specs)
    results: list[MemberResult | None] = [None] * n
    counts: dict[str, NDArray[np.uint32]] | None = None
    if serial:
        for k, spec in enumerate(specs):
            try:
                r = member_task(setup, spec)
            except PlumecastError as exc:
                raise type(exc)(_member_message(spec.index, str(exc))) if type(exc).__init__ is Exception.__init__ \
                    else ScenarioError(_member_message(spec.index, str(exc))) from None
            counts = add_grids(counts, r) if counts is not None else _grids(r)
            results[k] = _small(r)
            if progress:
                progress(k + 1, n)
        used, log = 0, None
    else:
        from plumecast.scenario_checks import check_members_memory

        if not scheduler:  # the members that run at once on this machine: one per local worker
            check_members_memory(setup.scenario, min(workers, n), source, lines, workers=workers)
        counts, results, used, log = _run_dask(setup, specs, workers, scheduler, progress, retries, worker_threads)
    lat, lon = _grid_coords(setup.scenario) if setup.maps else (None, None)
    done = [r for r in results if r is not None]
    return RawComparison(setup, specs, done, counts, lat, lon, time.perf_counter() - t0, used, log)


def compare(scenario: Scenario, *, members: int | None = None, workers: int = 2, scheduler: str | None = None,
            serial: bool = False, particles: int | None = None, maps: bool = True,
            progress: Callable[[int, int], None] | None = None) -> RawComparison:
    """Run the scenario's plans against its ensemble members (see :func:`run_members`)."""
    setup = make_setup(scenario, particles=particles, maps=maps)
    specs = member_specs(setup.scenario, getattr(scenario, "ensemble", None), members)
    check_comparison(setup, len(specs))
    return run_members(setup, specs, workers=workers, scheduler=scheduler, serial=serial, progress=progress)
