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
number of workers or the order in which tasks finish.
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

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


def _apply_cuts(sc: Scenario, plan: PlanConfig, ignition_h: float | None = None) -> Scenario:
    """The scenario with the plan's terminations applied directly (for transports
    that are not linear in the emissions: the front)."""
    names = _release_names(sc)
    releases = list(sc.releases)
    for at_h, fraction, groups in plan_cuts(plan, names):
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


def _front_on_grid(spec: Any, sc: Scenario) -> Any:
    """A fresh (stateful) Front on the scenario's output grid."""
    from plumecast.concentration import OutputGrid

    return spec.on_output_grid(OutputGrid.from_config(sc.output.grid))


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
    mass = base_res.stats.get("particle_mass_kg")
    lat = np.asarray(base_exp.receptors.lat, float)
    lon = np.asarray(base_exp.receptors.lon, float)
    outcomes: dict[str, PlanOutcome] = {}
    grids: dict[str, NDArray[np.uint32]] = {}
    delay_term: dict[str, NDArray[np.float64]] = {}
    delay_ign: dict[str, dict[float, float]] = {}
    notes: list[str] = []
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
            delay_term[p.name] = np.array([o.total_fatalities for (q, h), o in zip(variants, evaluated, strict=True)
                                           if q is p and h is not None])
    if setup.maps:
        for p in plain:
            if p.name in grids:
                continue
            if has_termination(p) and setup.termination_maps:
                by_tag = base_res.concentration_by_tag
                if by_tag is not None:
                    w = tag_weights(by_tag["tag_start_h"].values, by_tag["tag_end_h"].values,
                                    by_tag["tag_group"].values.astype(np.int64), plan_cuts(p, names))
                    field = base_res.concentration.copy(
                        data=np.tensordot(w, by_tag.values, axes=(0, 0)).astype(np.float32))
                else:  # a GPU backend: no gridded tags, so a direct rerun (exact, with the same particles)
                    tres, _ = _run(_apply_cuts(sc, p), wind, None, particle_mass_kg=mass)
                    runs += 1
                    field = tres.concentration
                grids[p.name] = grid_exceedance(field, agent, sc.start64)
            elif not has_termination(p):
                assert base_grid is not None
                grids[p.name] = base_grid  # shelter and evacuation do not change the outdoor air
    for plan in setup.plans:
        if not has_front(plan):
            continue
        fsc = _apply_cuts(sc, plan)
        fres, fexp = _run(fsc, wind, setup.tags_h, front=_front_on_grid(_front_of(plan, agent), fsc), particle_mass_kg=mass)
        runs += 1
        fa = front_arrival_at(getattr(fres, "front_arrival", None), lat, lon, sc.start64)
        outcomes[plan.name] = evaluate_plan(fexp, agent, _without(plan, ("termination", "front")), names,
                                            front_arrival_s=fa)
        if setup.maps:
            grids[plan.name] = grid_exceedance(fres.concentration, agent, sc.start64)
        totals: dict[float, float] = {}
        for h in plan.ignition_delays_h:
            _, dexp = _run(fsc, wind, setup.tags_h, front=_front_on_grid(_front_of(plan, agent, h), fsc), particle_mass_kg=mass)
            runs += 1
            totals[float(h)] = evaluate_plan(dexp, agent, _without(plan, ("termination", "front")),
                                             names).total_fatalities
        if totals:
            delay_ign[plan.name] = totals
    outcomes = {p.name: outcomes[p.name] for p in setup.plans}
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    return MemberResult(spec.index, outcomes, delay_term, delay_ign, grids if setup.maps else None,
                        time.perf_counter() - t0, runs, notes,
                        cpu_s=(ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime))


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
    divided among the workers, :func:`worker_environ`). A local cluster is refused
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


#: seconds to wait for an external scheduler to answer (``--scheduler``), and for it to have a worker
CONNECT_TIMEOUT_S = 15.0
WORKERS_TIMEOUT_S = 30.0
#: seconds between checks that the scheduler is still there while members run
POLL_S = 0.05


@dataclass(frozen=True)
class MemberFailure:
    """A member that failed on a user error (a :class:`PlumecastError`): returned as a
    value, not raised, so that Dask neither retries it (the same input fails again)
    nor logs the worker's traceback."""

    index: int
    message: str


def _member_or_failure(setup: CompareSetup, spec: MemberSpec) -> MemberResult | MemberFailure:
    try:
        return member_task(setup, spec)
    except PlumecastError as exc:
        return MemberFailure(spec.index, str(exc))


def _member_message(index: int, message: str) -> str:
    """``ensemble member N: ...`` (the member named once)."""
    return message if message.startswith(f"ensemble member {index}:") else f"ensemble member {index}: {message}"


def _lost(scheduler: str | None) -> ScenarioError:
    """The scheduler went away (not its workers: :func:`_no_workers`)."""
    if scheduler:
        return ScenarioError(f"lost the connection to the Dask scheduler at {scheduler} during the run (it stopped "
                             "or became unreachable); no results were written: start the scheduler again (or leave "
                             "out --scheduler for a local cluster) and rerun")
    return ScenarioError("lost the connection to the scheduler of the local Dask cluster (in this process) during "
                         "the run; no results were written: rerun (--workers 0 runs the members in this process, "
                         "without Dask)")


def _no_workers(scheduler: str | None, workers: int, waited_s: float | None = None) -> ScenarioError:
    """Every worker left during the run and none came back within ``waited_s`` (the
    scheduler still answers: it is not :func:`_lost`)."""
    if scheduler:
        waited = f", without a worker for {waited_s:g} s" if waited_s else ", without a worker"
        return ScenarioError(f"--scheduler {scheduler}: every worker of the Dask scheduler left during the run (it "
                             f"is still running{waited}); no results were written: "
                             f"start workers again ('dask worker {scheduler}') and rerun")
    back = f" and none was back within {waited_s:g} s" if waited_s else ""
    return ScenarioError(f"the {workers} worker process{'es' if workers != 1 else ''} of the local Dask cluster "
                         f"died during the run{back}; no results were written: "
                         "rerun (with fewer particles or --workers if they ran out of memory; --workers 0 runs the "
                         "members in this process)")


def _killed(key: Any, allowed: int, scheduler: str | None) -> ScenarioError:
    """A task whose workers kept dying while they ran it (``distributed.KilledWorker``)."""
    import re

    m = re.match(r"plumecast-(?:member|small)-(\d+)-", str(key))
    who = f"ensemble member {m.group(1)}" if m else "a task of the comparison"
    where = f"workers of the Dask scheduler at {scheduler}" if scheduler else "local Dask workers"
    return ScenarioError(f"{who}: {allowed + 1} {where} died while running it (killed, e.g. for want of memory); "
                         "no results were written: rerun with fewer particles"
                         + ("" if scheduler else " or --workers, or --workers 0 to run in this process"))


def _result(future: Any, scheduler: str | None, watch: _WorkerWatch | None = None) -> Any:
    """``future.result()``; a connection lost on the way (the scheduler went away) is
    :func:`_lost`, a task cancelled while the scheduler still answers is what ``watch``
    makes of it (:meth:`_WorkerWatch.cancelled`), a task whose workers kept dying is
    :func:`_killed`, an exception of the task itself is raised."""
    import asyncio
    import concurrent.futures

    try:
        while watch is not None:
            # a task done on a worker that then died is computed again, on a worker that may
            # never come: wait in steps, watching the workers (before, this waited forever)
            try:
                return future.result(timeout=WORKER_CHECK_S)
            except TimeoutError:
                if watch.client.status != "running":
                    raise _lost(scheduler) from None
                watch.check()
        return future.result()
    except (OSError, asyncio.CancelledError, concurrent.futures.CancelledError):
        if future.status == "error":
            raise
        if watch is not None and watch.client.status == "running":
            raise watch.cancelled() from None
        raise _lost(scheduler) from None
    except Exception as exc:
        if type(exc).__name__ == "KilledWorker":
            raise _killed(getattr(exc, "task", future.key), int(getattr(exc, "allowed_failures", 3)),
                          scheduler) from None
        raise


def _setup_task(setup: CompareSetup) -> CompareSetup:
    """The setup as a task's result: Dask recomputes it from the graph when the workers
    holding it die (scattered data it could not, so their members were cancelled)."""
    return setup


class _DaskLog:
    """Dask's own log lines (its ``distributed`` and ``tornado`` loggers) go to a file
    while members run, not to the console: a worker that died, the nanny restarting it,
    its tasks rescheduled are Dask's business, and plumecast says in one line what it
    means for the run. The file (in the temporary folder) is made at the first warning;
    :attr:`path` is None while nothing was written to it."""

    #: asyncio's: the gathers of :func:`_result` given up at a timeout end with an
    #: exception nobody retrieves when the client closes ("Task exception was never retrieved")
    NAMES = ("distributed", "tornado", "asyncio")

    def __init__(self, token: str) -> None:
        import tempfile

        self.file = os.path.join(tempfile.gettempdir(), f"plumecast-dask-{token}.log")

    def __enter__(self) -> _DaskLog:
        import logging

        self.handler = logging.FileHandler(self.file, delay=True, encoding="utf-8")
        self.handler.setLevel(logging.WARNING)
        self.handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
        self.saved = []
        for name in self.NAMES:
            lg = logging.getLogger(name)
            self.saved.append((lg, lg.handlers[:], lg.propagate))
            lg.handlers = [self.handler]
            lg.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        import gc

        gc.collect()  # the client's abandoned tasks are finalised (and log) while their lines go to the file
        for lg, handlers, propagate in self.saved:
            lg.handlers = handlers
            lg.propagate = propagate
        self.handler.close()

    @property
    def path(self) -> str | None:
        return self.file if os.path.exists(self.file) else None


def _connect(scheduler: str) -> Any:
    """A Client of the scheduler at ``scheduler``, or a ScenarioError saying what was expected."""
    from distributed import Client

    expected = ("expected the address of a running Dask scheduler, tcp://HOST:PORT (what 'dask scheduler' "
                "prints, e.g. tcp://10.0.0.5:8786)")
    import re

    # checked before a Client exists: a Client that fails on a malformed address waits 30 s
    # in its finaliser and prints a traceback at exit
    if not scheduler.startswith("inproc://") and not re.fullmatch(
            r"((tcp|tls|ucx|ws|wss)://)?(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):\d{1,5}/?", scheduler):
        raise ScenarioError(f"--scheduler {scheduler}: not a Dask scheduler address; {expected}")
    # the Client is made in a daemon thread with a deadline of its own: something other than a
    # scheduler on that port (its dashboard, a web server, ssh) can leave Client() waiting for a
    # handshake that never comes, or feed it bytes that it reads as a frame of exabytes
    import threading

    box: dict[str, Any] = {}

    def make() -> None:
        # made in two steps so that a Client whose start fails can be closed here: left to its
        # finaliser at exit, it waited 2 x the timeout and printed a traceback (audit: ssh's banner)
        client = box["half"] = Client.__new__(Client)
        try:
            with _quiet_distributed():
                client.__init__(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)  # type: ignore[misc]
            box["client"] = client
        except BaseException as exc:  # noqa: BLE001 - reported below as one line
            box["error"] = exc
            _close_quietly(client)

    maker = threading.Thread(target=make, name="plumecast-connect", daemon=True)
    maker.start()
    maker.join(CONNECT_TIMEOUT_S + 5.0)
    if "client" in box:
        return box["client"]
    exc = box.get("error")
    if exc is None:
        _close_quietly(box.get("half"))
        raise ScenarioError(f"--scheduler {scheduler}: no Dask scheduler answered within {CONNECT_TIMEOUT_S:g} s "
                            f"(something is listening there but does not speak Dask's protocol: a dashboard or web "
                            f"port?); {expected}")
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, (OSError, TimeoutError)):
        raise ScenarioError(f"--scheduler {scheduler}: no Dask scheduler answered within "
                            f"{CONNECT_TIMEOUT_S:g} s ({reason}); {expected}") from None
    raise ScenarioError(f"--scheduler {scheduler}: not a Dask scheduler ({type(exc).__name__}: {reason[:120]}); "
                        f"{expected}") from None


def _close_quietly(client: Any, timeout_s: float = 2.0) -> None:
    """Close a Client that never got going, within ``timeout_s`` and without a word; marked
    closed in any case, so that its finaliser does not try again at exit."""
    if client is None:
        return
    with _quiet_distributed():
        try:
            client.close(timeout=timeout_s)
        except BaseException:  # noqa: BLE001, S110 - best effort: it is being given up
            pass
    try:
        client.status = "closed"
    except Exception:  # noqa: BLE001, S110 - a Client without a status has nothing to close
        pass


class _quiet_distributed:
    """distributed's loggers (or those of ``names``) at CRITICAL for the block: its
    reconnection tracebacks, cancellation and nanny warnings are not the user's
    business when plumecast says in one line what happened."""

    def __init__(self, names: tuple[str, ...] = ("distributed", "tornado")) -> None:
        self.names = names

    def __enter__(self) -> None:
        import logging

        self.loggers = [logging.getLogger(n) for n in self.names]
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.CRITICAL)

    def __exit__(self, *exc: object) -> None:
        for lg, level in zip(self.loggers, self.levels, strict=True):
            lg.setLevel(level)


def _stop_local_workers(cluster: Any) -> None:
    """Kill the local worker processes at once (after an error or an interrupt: a worker
    busy in a transport would otherwise take the nanny's 4 s grace time). The nanny is
    told it is closing first, so it does not start a new worker in its place."""
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(nanny, "pid", None)
        try:
            nanny.close_gracefully(reason="plumecast-stop")
        except Exception:  # noqa: BLE001 - best effort: cluster.close() still stops it
            continue
        if pid:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def _run_dask(setup: CompareSetup, specs: list[MemberSpec], workers: int, scheduler: str | None,
              progress: Callable[[int, int], None] | None, retries: int, worker_threads: int | None = None
              ) -> tuple[dict[str, NDArray[np.uint32]] | None, list[MemberResult | None], int, str | None]:
    """Run the members on Dask. A member that fails on a user error stops the run with
    ``ensemble member N: ...`` (the lowest failing index: the message does not depend on
    the workers); ``retries`` only re-run tasks that failed otherwise. A lost worker is
    rescheduled by Dask itself, on the workers left or on the one the local cluster's
    nanny starts in its place: the setup goes in as a task, which Dask recomputes, not as
    scattered data, which it cannot (its loss cancelled every member). A lost scheduler
    is an error within about the polling interval, not a hang; a scheduler left without
    workers for :data:`WORKERS_TIMEOUT_S` says so (:func:`_no_workers`). Dask's own log
    lines go to a file (:class:`_DaskLog`), returned last (None: nothing logged)."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
        raise ScenarioError('plumecast compare needs dask.distributed: pip install "dask[distributed]"') from exc
    cluster = None
    environ = dict(os.environ)
    token = uuid.uuid4().hex[:12]
    log = _DaskLog(token)
    log.__enter__()
    try:
        if scheduler:
            client = _connect(scheduler)
        else:
            cluster = local_cluster(workers, worker_threads)
            client = Client(cluster, set_as_default=False)
    except BaseException:
        log.__exit__()
        _restore_environ(environ)
        raise
    n = len(specs)
    results: list[MemberResult | None] = [None] * n
    ok = False
    # the client's own log of a lost scheduler (a traceback per reconnection attempt)
    quiet_client = _quiet_distributed(("distributed.client", "distributed.comm", "distributed.core", "tornado"))
    quiet_client.__enter__()
    try:
        if scheduler:
            try:
                client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
            except (TimeoutError, OSError):
                if client.status != "running":
                    raise _lost(scheduler) from None
                raise ScenarioError(
                    f"--scheduler {scheduler}: the Dask scheduler has no workers (waited {WORKERS_TIMEOUT_S:g} s); "
                    f"start some with 'dask worker {scheduler}', or leave out --scheduler for a local cluster"
                    ) from None
        used = len(client.scheduler_info().get("workers", {}))
        setup_f = client.submit(_setup_task, setup, key=f"plumecast-setup-{token}", pure=False)
        ac = as_completed(loop=client.loop)
        small: dict[Any, int] = {}
        for k, spec in enumerate(specs):
            f = client.submit(_member_or_failure, setup_f, spec, key=f"plumecast-member-{spec.index}-{token}",
                              retries=retries, pure=False)
            sf = client.submit(_small, f, key=f"plumecast-small-{spec.index}-{token}", retries=retries)
            small[sf.key] = k
            ac.add(f)
            ac.add(sf)
            del f, sf  # only as_completed and the reduction hold members, so they leave worker memory once summed
        queue: list[Any] = []
        failed: dict[int, str] = {}
        pending = set(range(n))
        done = 0
        watch = _WorkerWatch(client, scheduler, workers)
        while not ac.is_empty():
            if failed and not any(j < min(failed) for j in pending):
                break  # every member before the first failing one has finished: its error is the one
            batch = ac.next_batch(block=False)
            if not batch:
                if client.status != "running":
                    raise _lost(scheduler)
                watch.check()
                time.sleep(POLL_S)
                continue
            for f in batch:
                if client.status != "running":
                    raise _lost(scheduler)
                if f.status == "cancelled":
                    raise watch.cancelled()
                if f.key in small:
                    k = small[f.key]
                    r = _result(f, scheduler, watch)
                    pending.discard(k)
                    if isinstance(r, MemberFailure):
                        failed[k] = _member_message(r.index, r.message)
                    else:
                        results[k] = r
                        done += 1
                        if progress and not failed:
                            progress(done, n)
                    continue
                if f.status == "error":
                    _result(f, scheduler, watch)  # a member whose workers kept dying: _killed
                if not setup.maps or failed:
                    continue
                queue.append(f)
                if len(queue) >= 2:
                    a, b = queue.pop(0), queue.pop(0)
                    ac.add(client.submit(add_grids, a, b, retries=retries, pure=False))
                    del a, b
            del batch
        if failed:
            raise ScenarioError(failed[min(failed)])
        counts = _grids(_result(queue[0], scheduler, watch)) if queue else None
        queue.clear()
        del setup_f
        ok = True
    except ScenarioError as exc:
        path = log.path
        if path is None:
            raise
        raise ScenarioError(f"{exc} (Dask's log of the run: {path})") from None
    finally:
        with _quiet_distributed():
            if cluster is not None and not ok:
                _stop_local_workers(cluster)
            client.close()
            if cluster is not None:
                cluster.close()
        quiet_client.__exit__()
        log.__exit__()
        _restore_environ(environ)
    return counts, results, used, log.path


#: seconds between checks, while no task finishes, that the scheduler still has a worker
WORKER_CHECK_S = 1.0


class _WorkerWatch:
    """Whether the scheduler still has workers, asked at most every :data:`WORKER_CHECK_S`
    while no task finishes: Dask keeps a task whose workers all left waiting for a new one
    (the local cluster's nanny restarts a worker that died within seconds); none for
    :data:`WORKERS_TIMEOUT_S` is :func:`_no_workers`."""

    def __init__(self, client: Any, scheduler: str | None, workers: int) -> None:
        self.client, self.scheduler, self.workers = client, scheduler, workers
        self.last = time.monotonic()
        self.none_since: float | None = None

    def count(self) -> int:
        try:
            info = self.client.scheduler_info(n_workers=0)
        except (OSError, TimeoutError):
            raise _lost(self.scheduler) from None
        return int(info.get("n_workers", len(info.get("workers", {}))))

    def check(self) -> None:
        now = time.monotonic()
        if now - self.last < WORKER_CHECK_S:
            return
        self.last = now
        if self.count() > 0:
            self.none_since = None
        elif self.none_since is None:
            self.none_since = now
        elif now - self.none_since >= WORKERS_TIMEOUT_S:
            raise _no_workers(self.scheduler, self.workers, WORKERS_TIMEOUT_S)

    def cancelled(self) -> ScenarioError:
        """What a task cancelled by the scheduler (not by this process) means."""
        if self.client.status != "running":
            return _lost(self.scheduler)
        if self.count() == 0:
            return _no_workers(self.scheduler, self.workers)
        where = f"the Dask scheduler at {self.scheduler}" if self.scheduler else "the local Dask scheduler"
        return ScenarioError(f"{where} cancelled the comparison's tasks during the run (restarted, or another "
                             "client cancelled them?); no results were written: rerun")


def worker_environ(workers: int, threads: int | None = None) -> dict[str, str | None]:
    """Environment of the local worker processes, set before they start
    (``distributed.nanny.pre-spawn-environ``; None removes a variable).

    * ``MALLOC_TRIM_THRESHOLD_`` is removed. Dask sets it to 64 KiB so that workers
      hand freed memory back to the system, but setting it turns off glibc's dynamic
      mmap threshold (mallopt(3)): every array above 128 KiB is then a fresh mmap,
      zero-filled page by page and unmapped when freed. A member allocates such
      arrays for every output interval (grids, emission tags, assessments), and this
      made it 2.3x slower in a worker than in the parent (system time 0.98 -> 8.3 s
      for 4 members, measured in one process with and without the variable).
    * Numba, OpenMP and BLAS get ``cores // workers`` threads each, so the workers do
      not oversubscribe the cores (or ``threads`` each where given); set before the
      process starts, so it holds even where numba is imported while the worker
      unpickles its first task.
    * ``DASK_LOGGING__DISTRIBUTED=error``: the workers' own log lines (a task cancelled
      by Ctrl-C, a worker closing) are not shown; plumecast reports what happened.
    """
    n = str(max(1, (os.cpu_count() or 1) // max(workers, 1)) if threads is None else max(1, int(threads)))
    return {"MALLOC_TRIM_THRESHOLD_": None, "NUMBA_NUM_THREADS": n, "OMP_NUM_THREADS": n,
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "DASK_LOGGING__DISTRIBUTED": "error"}


def local_cluster(workers: int, threads: int | None = None) -> Any:
    """A LocalCluster of ``workers`` worker processes, one task at a time each, with
    :func:`worker_environ` (members run numba with ``cores // workers`` threads, or
    ``threads``)."""
    import dask
    from distributed import LocalCluster

    key = "distributed.nanny.pre-spawn-environ"
    with dask.config.set({f"{key}.{k}": v for k, v in worker_environ(workers, threads).items()}):
        # ':0': the scheduler's small HTTP server on a free port (None would still take 8787,
        # with a warning when another cluster holds it)
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def _restore_environ(before: dict[str, str]) -> None:
    """Undo what the nannies wrote into this process's environment before spawning
    (``os.environ.update(pre-spawn-environ)``, PYTHONHASHSEED included), so that later
    child processes of the caller do not inherit the workers' settings."""
    import dask

    keys = set(dask.config.get("distributed.nanny.pre-spawn-environ", {})) | set(worker_environ(1))
    for k in keys | {"PYTHONHASHSEED"}:
        if k not in before:
            os.environ.pop(k, None)
        elif os.environ.get(k) != before[k]:
            os.environ[k] = before[k]




def compare(scenario: Scenario, *, members: int | None = None, workers: int = 2, scheduler: str | None = None,
            serial: bool = False, particles: int | None = None, maps: bool = True,
            progress: Callable[[int, int], None] | None = None) -> RawComparison:
    """Run the scenario's plans against its ensemble members (see :func:`run_members`)."""
    setup = make_setup(scenario, particles=particles, maps=maps)
    specs = member_specs(setup.scenario, getattr(scenario, "ensemble", None), members)
    check_comparison(setup, len(specs))
    return run_members(setup, specs, workers=workers, scheduler=scheduler, serial=serial, progress=progress)
