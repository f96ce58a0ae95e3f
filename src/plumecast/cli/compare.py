"""``plumecast compare``: every plan of a scenario against every ensemble member."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from plumecast.cli.common import (
    console,
    given,
    located,
    output_path,
    print_tables,
    progress_columns,
    refuse_port_without_serve,
)
from plumecast.errors import PlumecastError


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare_command(
        ctx: typer.Context,
        scenario: Annotated[Path, typer.Argument(help="scenario file with plans: (and ensemble:), see docs/plans.md")],
        outdir: Annotated[Path, typer.Option("--output", "-o", parser=output_path, metavar="PATH", help="folder for the outputs (created if needed)")] = Path("plumecast-compare"),
        members: Annotated[int | None, typer.Option(min=1, help="override ensemble.members")] = None,
        workers: Annotated[int, typer.Option(min=0, help="local Dask worker processes (0: run serially in this process)")] = 2,
        scheduler: Annotated[str | None, typer.Option(help="address of an existing Dask scheduler (tcp://host:8786)")] = None,
        particles: Annotated[int | None, typer.Option(min=1, help="particles per member (default: ensemble.particles, else the scenario's)")] = None,
        maps: Annotated[bool, typer.Option("--maps/--no-maps", help="probability maps of exceeding AEGL-2/3")] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
        serve: Annotated[bool, typer.Option("--serve", help="serve the dashboard (plumecast serve) during and after the comparison")] = False,
        port: Annotated[int, typer.Option(min=0, max=65535, help="dashboard port with --serve (0: any free port)")] = 8765,
        force: Annotated[bool, typer.Option("--force", help="replace the results already in OUTDIR")] = False,
    ) -> None:
        """Compare the scenario's response plans (and a do-nothing baseline) over its ensemble:
        decision_table.csv/.md/.html, cities.csv, members.csv, member_values.nc, cost_of_delay.csv/.png,
        exceedance_probability.nc, probability maps and comparison.json."""
        from rich.markup import escape

        from plumecast.scenario import ignored_keys, ignored_line, load_scenario
        from plumecast.scenario_yaml import parse_yaml, read_scenario_text

        refuse_port_without_serve(ctx, serve, port)
        if scheduler is not None and given(ctx, "workers"):  # --workers had been ignored (badinput audit, session 43)
            raise typer.BadParameter(
                f"{workers} local Dask worker processes, and --scheduler {scheduler} runs the members on that "
                "scheduler's workers instead; give --workers or --scheduler, not both", param_hint="--workers")
        sc = load_scenario(scenario)
        # the file's key -> line index: what the comparison refuses in the plans names the line (make_setup)
        data, lines = parse_yaml(read_scenario_text(scenario), str(scenario))
        refuse_empty_plans(data, str(scenario), lines)
        line = ignored_line(ignored_keys(sc, "compare"), "compare")
        if line:
            console.print(escape(line), highlight=False)
        def job(live: Any = None) -> None:
            execute_compare(sc, outdir, members=members, workers=workers, scheduler=scheduler, particles=particles,
                            maps=maps, quiet=quiet, source=str(scenario), live=live, force=force,
                            lines=lines)

        try:
            if serve:
                from plumecast.cli.global_run import _serve_while

                _serve_while(outdir, port, sc.name, job)
            else:
                job()
        except PlumecastError as exc:  # a key found wanting once a member reads its inputs: with its file and line
            raise located(exc, scenario) from None


def refuse_empty_plans(data: Any, source: str, lines: dict[tuple[str | int, ...], int]) -> None:
    """Refuse ``plans: []``: an empty list had run the do-nothing baseline alone, as if the key
    were left out, without a word that the plans were missing (badinput audit, session 34)."""
    from plumecast.errors import ScenarioError
    from plumecast.scenario_yaml import where

    if isinstance(data, dict) and data.get("plans") == []:
        raise ScenarioError(
            f"{where(source, lines, 'plans')}: an empty list; expected at least one plan (a name and its measures, "
            "e.g. plans: [{name: shelter now, measures: [{type: shelter, start_h: 0.5}]}], docs/plans.md). To run "
            "the do-nothing baseline alone over the ensemble's members, leave plans out (docs/plans.md, \"Without "
            "plans, or without an ensemble\")")


def execute_compare(sc: Any, outdir: Path, *, members: int | None = None, workers: int = 2,
                    scheduler: str | None = None, particles: int | None = None, maps: bool = True,
                    quiet: bool = False, source: str = "scenario", live: Any = None,
                    force: bool = False, command: str = "compare",
                    lines: dict[tuple[str | int, ...], int] | None = None) -> dict[str, Any]:
    """Run a comparison with a progress bar counting members, print its tables and write
    its outputs as one set (:class:`plumecast.fileio.OutputSet`; ``plumecast compare``
    and ``plumecast demo``). ``source``: the scenario file and ``lines`` its key -> line
    index, named by what the plans' checks refuse."""
    from plumecast.cli.common import kept
    from plumecast.fileio import OutputSet

    kept.clear()
    with OutputSet(outdir, command=command, force=force) as out:
        kept["outdir"] = f"no results were written; {outdir} was left as it was"
        res = _compare_into(sc, out.path, members=members, workers=workers, scheduler=scheduler,
                            particles=particles, maps=maps, quiet=quiet, source=source, live=live, lines=lines)
    kept.clear()
    # an interrupt from here on comes after the set is in place (it had ended the command with status 130 and no
    # word, or with "nothing was written"; outputs audit, session 30)
    kept["outdir"] = f"the results had been written in full to {outdir} before the interrupt"
    if live is not None:
        from plumecast.cli.global_run import _let_dashboard_see

        _let_dashboard_see(out)
    res["written"] = [out.final_path(p) for p in res["written"]]
    console.print("written: " + ", ".join(str(p) for p in res["written"]), highlight=False)
    from plumecast.cli.global_run import say_left_results

    say_left_results(out, outdir, command)
    return res


def _compare_into(sc: Any, outdir: Path, *, members: int | None, workers: int, scheduler: str | None,
                  particles: int | None, maps: bool, quiet: bool, source: str, live: Any,
                  lines: dict[tuple[str | int, ...], int] | None = None) -> dict[str, Any]:
    from plumecast.ensemble.compare import check_comparison, make_setup, run_members
    from plumecast.ensemble.members import member_specs, timing_shift_note
    from plumecast.ensemble.plan_checks import past_measures_note, plan_notes
    from plumecast.ensemble.summary import console_notes, summarise
    from plumecast.ensemble.summary_files import write_outputs
    from plumecast.ensemble.summary_text import receptor_labels
    from plumecast.ensemble.summary_views import console_tables
    from plumecast.errors import ScenarioError
    from plumecast.runner import select_receptors_with_extent

    t0 = time.perf_counter()
    setup = make_setup(sc, particles=particles, maps=maps, source=source, lines=lines)
    specs = member_specs(setup.scenario, sc.ensemble, members, source=source, lines=lines)
    notice = check_comparison(setup, len(specs), source)  # no plans and no ensemble: refused here
    receptors, extent = select_receptors_with_extent(setup.scenario)
    if receptors is None or len(receptors) == 0:
        raise ScenarioError(f"{source}: receptors: a comparison needs receptors (cities, points or csv)")
    if notice:
        console.print(f"note: {notice}", highlight=False)
    from plumecast.receptors import nested_note

    nested = nested_note(receptors, extent)
    if nested:
        console.print(f"note: {nested}", highlight=False, markup=False)
    # the scenario's own notes (a start or issued_at read as UTC, a release off the grid), as run prints them
    for line in [*setup.scenario.notes("compare"), *plan_notes(setup.scenario),
                 timing_shift_note(setup.scenario, specs)]:
        if line:
            console.print(f"note: {line}", highlight=False, markup=False)
    if len(specs) == 1:
        why = "no 'ensemble:' key" if sc.ensemble is None else "one member asked for"
        console.print(f"note: {why}: the comparison has one member, so there is no ensemble spread; the "
                      "tables give that run's figures, not probabilities or 5-95 % intervals (add 'ensemble:', "
                      "docs/plans.md)", highlight=False)
    if workers and not scheduler:  # before the bar: the members that run at once fit this machine's memory
        from plumecast.scenario_checks import check_members_memory

        own = particles is None and not getattr(sc.ensemble, "particles", None)  # the key 'particles' of the file
        check_members_memory(setup.scenario, min(workers, len(specs)), source, lines if own else None,
                             workers=workers)
    columns = progress_columns("members", console.width, "members", most=len(specs))
    with Progress(*columns, console=console, disable=quiet) as bar:
        task = bar.add_task("members", total=len(specs))
        def on_member(k: int, n: int) -> None:
            bar.update(task, completed=k)
            if live is not None:  # plumecast.web.live.LiveFeed (--serve)
                live.members(k, n)

        raw = run_members(setup, specs, workers=workers, scheduler=scheduler, serial=workers == 0 and not scheduler,
                          progress=on_member, source=source, lines=lines)
    from plumecast.ensemble.compare import member_warnings

    for line in member_warnings(raw):  # as run prints them among its provenance (also in decision_table.md)
        console.print(f"note: {line}", highlight=False, markup=False)
    if raw.dask_log:
        console.print(f"note: Dask logged warnings during the run (a worker that died is restarted and its "
                      f"members are rerun; the results do not depend on it): {raw.dask_log}",
                      highlight=False, markup=False)
    names = [str(n) for n in receptors.name]
    summary = summarise(raw, names, receptor_labels(names, receptors.lat, receptors.lon,
                                                    getattr(receptors, "country", None)),
                        places={"lat": receptors.lat, "lon": receptors.lon,
                                "country": getattr(receptors, "country", None),
                                "population": getattr(receptors, "population", None)})
    written = write_outputs(summary, outdir)
    print_tables(console_tables(summary, width=console.width))
    past = past_measures_note(setup.scenario, setup.plans)  # said again beside the ranking it qualifies
    for note in [*console_notes(summary), *([past + "."] if past else [])]:  # as decision_table.md
        console.print(note, highlight=False, markup=False)
    who = "1 member (no ensemble spread)" if len(specs) == 1 else f"{len(specs)} members"
    console.print(f"{who} x {len(setup.plans)} plans, {setup.scenario.particles:,} particles per "
                  f"member, {raw.workers or 'no'} Dask workers: members {raw.wall_s:.1f} s, "
                  f"end to end {time.perf_counter() - t0:.1f} s")
    return {"raw": raw, "summary": summary, "written": written}
