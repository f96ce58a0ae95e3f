"""``plumecast run`` and ``plumecast demo``: the global Lagrangian forecast."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from plumecast.cli.common import (
    console,
    given,
    located,
    output_path,
    progress_columns,
    refuse_port_without_serve,
)
from plumecast.errors import PlumecastError


def _fmt_mass(kg: float) -> str:
    for unit, f in (("Mt", 1e9), ("kt", 1e6), ("t", 1e3)):
        if abs(kg) >= f:
            return f"{kg / f:,.3g} {unit}"
    return f"{kg:,.3g} kg"


def execute(scenario: Any, outdir: Path, *, title: str, map_png: bool, quiet: bool = False,
            live: Any = None, force: bool = False, checkpoint_h: float | None = None,
            resume: Any = None, command: str = "run", scenario_file: Any = None) -> dict[str, Any]:
    """Run a scenario with a progress bar, print the summary and write the outputs as
    one set (:class:`plumecast.fileio.OutputSet`: all files or none, ``force`` to
    replace earlier results); ``checkpoint_h``: a checkpoint every so many simulated
    hours in ``outdir/.checkpoint``; ``resume``: a :class:`plumecast.checkpoint.RunState`
    to continue from; ``scenario_file``: the scenario's file (or a resumed checkpoint's record
    of it), kept with the checkpoints."""
    from plumecast.cli.common import kept
    from plumecast.fileio import OutputSet

    kept.clear()
    with OutputSet(outdir, command=command, force=force, resume=resume is not None) as out:
        kept["outdir"] = f"no results were written; {outdir} was left as it was"
        res = _execute_into(scenario, out.path, outdir, title=title, map_png=map_png, quiet=quiet, live=live,
                            checkpoint_h=checkpoint_h, resume=resume, scenario_file=scenario_file)
    kept.clear()
    # an interrupt from here on comes after the set is in place (it had ended the command with status 130 and no
    # word, or with "nothing was written"; outputs audit, session 30)
    kept["outdir"] = f"the results had been written in full to {outdir} before the interrupt"
    if live is not None:
        _let_dashboard_see(out)
    written = [out.final_path(p) for p in res["written"]]
    console.print("written: " + ", ".join(str(p) for p in written)
                  + f" (outputs, tables and map: {res['output_s']:.1f} s)", highlight=False)
    say_left_results(out, outdir, command)
    res["written"] = written
    return res


def say_left_results(out: Any, outdir: Path, command: str) -> None:
    """The line naming the result-like files ``--force`` kept in ``outdir`` that this
    ``command`` did not write (:attr:`plumecast.fileio.OutputSet.left_results`; none: nothing)."""
    if out.left_results:
        console.print(f"kept in {outdir}: {', '.join(out.left_results)}, named like plumecast results but not "
                      f"written by this {command} (earlier results; the folder's record of its latest results does "
                      "not list them, so the dashboard does not show them): remove them, or keep each set of "
                      "results in its own folder", highlight=False, markup=False)


def _execute_into(scenario: Any, stage: Path, outdir: Path, *, title: str, map_png: bool, quiet: bool,
                  live: Any, checkpoint_h: float | None, resume: Any, scenario_file: Any = None) -> dict[str, Any]:
    from plumecast.cli.common import kept
    from plumecast.runner import run, write_outputs

    hook = None
    if checkpoint_h is not None:
        from plumecast.checkpoint import CheckpointWriter

        resume_dir = outdir  # the user's folder, the one --resume accepts (outdir is rebound to stage below)

        def saved(path: Path, hours: float) -> None:
            kept["checkpoint"] = (f"the checkpoint at +{hours:g} h is kept in {path.parent}: continue with "
                                  f"`plumecast run --resume {resume_dir}`")

        hook = CheckpointWriter(outdir, checkpoint_h, scenario.time_step_s,
                                scenario=scenario.checkpoint_dict(), on_save=saved, scenario_file=scenario_file)
    outdir = stage  # every file of the set goes to the staging folder
    # the population raster is read before the transport: a file that cannot be read had been refused only after
    # the whole run and its tables (badinput audit; zones reads it first too)
    raster = _population_raster(scenario)
    # what fits the console's width, the time left first (progress_columns)
    columns = progress_columns("run", console.width, title, most=scenario.particles)
    with Progress(*columns, console=console, disable=quiet, transient=False) as bar:
        task = bar.add_task(title, total=scenario.n_steps, simtime="", alive=0, rate=0.0,
                            completed=0 if resume is None else resume.step)

        def on_progress(p: Any) -> None:
            bar.update(task, completed=p.step, simtime=str(p.sim_time)[:16].replace("T", " ") + " UTC",
                       alive=p.alive, rate=p.particle_steps_per_s / 1e6)
            if live is not None:  # plumecast.web.live.LiveFeed (--serve)
                live.progress(p)

        result = run(scenario, progress=on_progress, checkpoint=hook, resume_from=resume)

    t_out = time.perf_counter()
    # the cities a point release's plume crosses: their deaths from the parts of their disc (city_parts); receptors.csv
    # holds the series the casualty table is made of (a city a plume crosses: its most exposed part), not the disc
    # means, from which a countdown had come later than the table's
    consequences = result.consequences() if result.receptor_series is not None else None
    table_series = consequences["concentration"] if consequences is not None and "concentration" in consequences else None
    written = write_outputs(result, outdir, receptor_series=table_series)
    summary = Table(title=f"{scenario.name}: run summary", show_header=False)
    summary.add_column("", style="bold")
    summary.add_column("")
    b = result.budget
    summary.add_row("agent", result.agent.name)
    summary.add_row("winds", _winds_line(result.stats))
    summary.add_row("period", f"{scenario.start.isoformat()} UTC + {scenario.run_hours:g} h, step {scenario.time_step_s:g} s")
    summary.add_row("particles", f"{scenario.particles:,} ({scenario.backend} backend, seed {scenario.seed})")
    summary.add_row("released", _fmt_mass(b.released))
    summary.add_row("airborne / decayed / left domain", f"{_fmt_mass(b.airborne)} / {_fmt_mass(b.decayed)} / {_fmt_mass(b.exited)}")
    # not modelled is not a zero (docs audit: "0 kg / 0 kg" for an agent without deposition values)
    summary.add_row("deposited (dry / wet)", f"{_fmt_mass(b.deposited_dry)} / {_fmt_mass(b.deposited_wet)}"
                    if result.deposited is not None else "not modelled (no dry deposition or wet scavenging: see "
                    "'met and removal')")
    if b.neutralised:
        summary.add_row("neutralised", _fmt_mass(b.neutralised))
    summary.add_row("mass balance residual", f"{abs(b.residual) / max(b.released, 1e-300):.1e} of released")
    summary.add_row("peak near-surface concentration", f"{float(result.concentration.max()):.2g} kg m-3")
    rate = result.particle_steps / max(result.stats['kernel_s'], 1e-9) / 1e6
    # two significant figures: a small run's 0.27 M/s had read "0.0 M/s" (honest-numbers audit)
    summary.add_row("particle-steps", f"{result.particle_steps:,} in {result.stats['kernel_s']:.1f} s "
                    f"({rate:.2g} M/s)")
    summary.add_row("wall time", f"{result.wall_s:.1f} s ("
                    + ", ".join(f"{k} {v:.2f} s" for k, v in result.stats["phases_s"].items()) + ")")
    console.print(summary)
    for note in scenario.notes():
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    lines = result.stats.get("met_provenance", [])
    if lines:
        console.print("[bold]met and removal[/] (also in concentration.nc, attribute met_provenance):\n  "
                      + "\n  ".join(escape(str(line)) for line in lines), highlight=False)
    lines = result.stats.get("release_provenance", [])
    if lines:  # releases given as a tank or an amount: which source model made their rate
        console.print("[bold]release[/] (also in concentration.nc, attribute release_provenance):\n  "
                      + "\n  ".join(escape(str(line)) for line in lines), highlight=False)

    if consequences is not None:
        from plumecast.report_tables import print_casualty_table, write_consequence_table

        assert result.receptors is not None and result.exposure is not None  # series come with their receptors
        print_casualty_table(consequences, console, top=20, now=scenario.issued64)
        from plumecast.receptors import nested_note
        from plumecast.runner import select_receptors_with_extent

        nested = nested_note(result.receptors, select_receptors_with_extent(scenario)[1])
        if nested:
            console.print(f"note: {nested}", highlight=False, markup=False)
        written += write_consequence_table(consequences, outdir)
    written += _people_above_levels(result, scenario, outdir, raster, consequences)
    if map_png:
        from plumecast.maps import plot_concentration_map

        peak = result.concentration.max("time")
        peak.attrs.update(result.concentration.attrs)
        # the intervals are stamped at their ends: the first one began an interval before its stamp
        times = result.concentration["time"].values
        interval = np.timedelta64(int(round(scenario.output.interval_min * 60.0)), "s")
        first = str(times[0] - interval)[:16].replace("T", " ")
        last = str(times[-1])[:16].replace("T", " ")
        written.append(plot_concentration_map(
            peak, outdir / "concentration_map.png",
            title=(f"{scenario.name}: highest {scenario.output.interval_min:g}-min mean near-surface "
                   f"{result.agent.name}\n{first} to {last} UTC"),
            units_label="kg m-3", receptors=result.receptors, label_n=10,
        ))
        from plumecast.maps import animate_concentration

        written.append(animate_concentration(
            result.concentration, outdir / "concentration_animation.gif",
            title=f"{scenario.name}: near-surface {result.agent.name}", receptors=result.receptors))
    from plumecast.web.export import write_dashboard_files

    written += write_dashboard_files(result, outdir)
    return {"result": result, "consequences": consequences, "written": written,
            "output_s": time.perf_counter() - t_out}


def _winds_line(stats: dict[str, Any]) -> str:
    """What the run's winds were, as the run describes them (climatological mean
    winds are said to be so, never a forecast)."""
    for line in stats.get("met_provenance", []):
        if str(line).startswith("winds: "):
            return str(line).removeprefix("winds: ")
    return f"{stats.get('wind_source', '')} ({stats.get('wind_level', '')})"


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_command(
        ctx: typer.Context,
        scenario: Annotated[Path | None, typer.Argument(help="scenario file (YAML), see docs/scenario.md (not with --resume)")] = None,
        outdir: Annotated[Path, typer.Option("--output", "-o", parser=output_path, metavar="PATH", help="folder for the outputs (created if needed)")] = Path("plumecast-output"),
        particles: Annotated[int | None, typer.Option(min=1, help="override the scenario's number of particles")] = None,
        backend: Annotated[str | None, typer.Option(help="override the backend: numba (CPU), numpy (reference), cuda (GPU, float64) or cuda-mixed (GPU, double-precision positions with single-precision steps; float64 on the 3-D met path)")] = None,
        seed: Annotated[int | None, typer.Option(min=0, help="override the random seed")] = None,
        map_png: Annotated[bool, typer.Option("--map/--no-map", help="also draw a PNG map of the highest interval-mean concentration of the run")] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
        serve: Annotated[bool, typer.Option("--serve", help="serve the dashboard (plumecast serve) during and after the run")] = False,
        port: Annotated[int, typer.Option(min=0, max=65535, help="dashboard port with --serve (0: any free port)")] = 8765,
        force: Annotated[bool, typer.Option("--force", help="replace the results already in OUTDIR")] = False,
        checkpoint_h: Annotated[float | None, typer.Option("--checkpoint-h", help="write a checkpoint every N simulated hours to OUTDIR/.checkpoint (see --resume)")] = None,
        resume: Annotated[Path | None, typer.Option("--resume", help="continue the checkpointed run in this output folder (no SCENARIO); same results as an uninterrupted run")] = None,
    ) -> None:
        """Run SCENARIO and write concentration.nc, receptors.csv, consequences.csv/.nc, dashboard.json, a map
        and an animation (--map) to OUTDIR; people_above_aegl.csv with receptors.population_raster."""
        from plumecast.scenario import load_scenario

        state = None
        if checkpoint_h is not None and not (math.isfinite(checkpoint_h) and checkpoint_h > 0):
            raise typer.BadParameter(f"{checkpoint_h!r}; expected a positive number of simulated hours",
                                     param_hint="--checkpoint-h")
        refuse_port_without_serve(ctx, serve, port)
        if resume is not None:
            sc, state, outdir = _resume(resume, scenario, particles, backend, seed)
        elif scenario is None:
            raise typer.BadParameter("give a scenario file, or --resume OUTDIR to continue a checkpointed run",
                                     param_hint="SCENARIO")
        else:
            sc = _override(load_scenario(scenario), particles, backend, seed)
            _print_ignored(sc)
        if checkpoint_h is not None and (note := no_checkpoint_note(sc, checkpoint_h, state)):
            console.print(f"note: {note}", highlight=False, markup=False)
        kw: dict[str, Any] = dict(title=sc.name, map_png=map_png, quiet=quiet, force=force,
                                  checkpoint_h=checkpoint_h, resume=state,
                                  scenario_file=scenario if state is None else (state.inputs or {}).get("scenario_file"))
        try:
            if serve:
                _serve_while(outdir, port, sc.name, lambda live: execute(sc, outdir, live=live, **kw))
            else:
                execute(sc, outdir, **kw)
        except PlumecastError as exc:  # a key found wanting once the run reads its inputs: with its file and line
            raise located(exc, scenario) from None

    @app.command("demo")
    def demo_command(
        ctx: typer.Context,
        outdir: Annotated[Path, typer.Option("--output", "-o", parser=output_path, metavar="PATH", help="folder for the outputs")] = Path("plumecast-demo"),
        particles: Annotated[int | None, typer.Option(min=1, help="number of particles (default: 20,000 per member for the comparison, 1,000,000 with --single)")] = None,
        backend: Annotated[str | None, typer.Option(help="numba (CPU, default), numpy (reference), cuda or cuda-mixed (GPU)")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
        serve: Annotated[bool, typer.Option("--serve", help="serve the dashboard (plumecast serve) during and after the run")] = False,
        port: Annotated[int, typer.Option(min=0, max=65535, help="dashboard port with --serve (0: any free port)")] = 8765,
        single: Annotated[bool, typer.Option("--single", help="one deterministic forecast (1,000,000 particles) instead of the plan comparison")] = False,
        members: Annotated[int | None, typer.Option(min=1, help="ensemble members of the comparison (default 20)")] = None,
        workers: Annotated[int, typer.Option(min=0, help="local Dask worker processes of the comparison (0: serial)")] = 2,
        force: Annotated[bool, typer.Option("--force", help="replace the results already in OUTDIR")] = False,
    ) -> None:
        """Run the built-in "poison sky" scenario: a fictional gas emitted in every city of
        >= 15,000 people, 72 h on climatological mean winds (the shipped ERA-Interim January/July
        means, not a forecast). By default the decision the
        story faced: three response plans and the do-nothing baseline compared over a
        20-member ensemble (plumecast compare); with --single, one forecast with the casualty table of the 20 largest
        cities and Tokyo (the first city the story loses), and a map."""
        from plumecast.fileio import read_marker
        from plumecast.scenario import demo_plans_scenario_path, demo_scenario_path, load_scenario

        refuse_port_without_serve(ctx, serve, port)
        unused = [f"--{name}" for name in ("members", "workers") if single and given(ctx, name)]
        if unused:  # they had been ignored without a word (badinput audit, session 43)
            raise typer.BadParameter(
                f"{' and '.join(unused)} size{'s' if len(unused) == 1 else ''} the plan comparison over an ensemble, "
                "and --single runs one forecast instead; leave "
                f"{'it' if len(unused) == 1 else 'them'} out, or leave out --single", param_hint=" / ".join(unused))
        t0 = time.perf_counter()
        if not force and outdir.is_dir() and (read_marker(outdir) or {}).get("command") == "demo":
            force = True  # the demo's own earlier results: the README's command can simply be run again
            console.print(f"replacing the earlier demo results in {outdir}", highlight=False)
        if not single:
            from plumecast.cli.compare import execute_compare

            psc = _override(load_scenario(demo_plans_scenario_path()), None, backend, None)
            console.print(f"[bold]plumecast demo[/]: {psc.description}")
            job = lambda live=None: execute_compare(psc, outdir, members=members, workers=workers,  # noqa: E731
                                                    particles=particles, quiet=quiet, source="poison sky",
                                                    live=live, force=force, command="demo")
            if serve:
                _serve_while(outdir, port, "poison sky: plans", job)
            else:
                job()
            console.print(f"demo finished in {time.perf_counter() - t0:.1f} s (end to end)")
            return
        path = demo_scenario_path()
        sc = _override(load_scenario(path), particles, backend, None)
        console.print(f"[bold]plumecast demo[/]: {sc.description}")
        if serve:
            _serve_while(outdir, port, "poison sky",
                         lambda live: execute(sc, outdir, title="poison sky", map_png=True, quiet=quiet, live=live,
                                              force=force, command="demo"))
        else:
            execute(sc, outdir, title="poison sky", map_png=True, quiet=quiet, force=force, command="demo")
        console.print(f"demo finished in {time.perf_counter() - t0:.1f} s (end to end)")


def no_checkpoint_note(sc: Any, every_h: float, state: Any = None) -> str | None:
    """Why ``--checkpoint-h every_h`` writes no checkpoint in this run (None: it writes at least one). A
    checkpoint is written at the end of the output interval that reaches the interval, never at the end of
    the run (:class:`plumecast.checkpoint.CheckpointWriter`; its step count from the same functions): ``--checkpoint-h
    100`` on a 2-h run had written none without a word (badinput audit, session 43)."""
    from plumecast.checkpoint import checkpoint_every_steps, first_checkpoint_step

    start = 0 if state is None else int(state.step)
    first = first_checkpoint_step(checkpoint_every_steps(every_h, sc.time_step_s), start, sc.steps_per_output)
    if first < sc.n_steps:
        return None
    left = (sc.n_steps - start) * sc.time_step_s / 3600.0
    run = f"the {sc.run_hours:g}-h run" if start == 0 else f"the {left:g} h left of the run"
    return (f"--checkpoint-h {every_h:g}: no checkpoint will be written, since {run} ends before the first one "
            f"(checkpoints are written at the end of the output interval that reaches each {every_h:g} h, never at "
            "the end of the run); give a shorter --checkpoint-h to have one")


def _some(names: list[str], most: int = 3) -> str:
    text = ", ".join(names[:most])
    return text + (f" and {len(names) - most} more" if len(names) > most else "")


def _box(bbox: Any) -> str:
    lon0, lat0, lon1, lat1 = (float(v) for v in bbox)

    def lon(v: float) -> str:
        return f"{abs(v):g}°{'W' if v < 0 else 'E'}"

    def lat(v: float) -> str:
        return f"{abs(v):g}°{'S' if v < 0 else 'N'}"

    return f"{lon(lon0)}–{lon(lon1)}, {lat(lat0)}–{lat(lat1)}"


def describe_receptors(cfg: Any) -> str:
    """The scenario's receptors in words, as ``scenario.receptors`` selects them
    (:func:`plumecast.runner.select_receptors_with_extent`): ``"the 20 largest cities
    of >= 15,000 inhabitants and 1 point given (Tokyo)"``; ``"no receptors"``."""
    parts = []
    c = cfg.cities
    if c is not None:
        if c.largest is None:
            text = "cities"
        else:
            text = "the largest city" if c.largest == 1 else f"the {c.largest:,} largest cities"
        if c.min_population and (c.largest is None or c.min_population > 15000):  # the table's own floor
            text += f" of >= {c.min_population:,} inhabitants"
        if c.countries:
            text += f" in {', '.join(c.countries)}"
        if c.bbox is not None:
            text += f" within {_box(c.bbox)}"
        if c.names:
            text += f" named {_some(list(c.names))}"
        parts.append("every city of the shipped GeoNames table" if text == "cities" else text)
    if cfg.points:
        names = [p.name for p in cfg.points]
        parts.append(f"{len(names)} point{'s' if len(names) > 1 else ''} given ({_some(names)})")
    if cfg.csv is not None:
        parts.append(f"the places listed in {Path(cfg.csv).name}")
    if not parts:
        return "no receptors"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _population_raster(scenario: Any) -> Any:
    """The scenario's population raster over its output grid (``plumecast.population.PopulationRaster``),
    or None without one."""
    if scenario.receptors.population_raster is None:
        return None
    from plumecast.concentration import OutputGrid
    from plumecast.population import PopulationRaster

    g = OutputGrid.from_config(scenario.output.grid)
    lon_edges, lat_edges = g.lon_edges, g.lat_edges  # increasing, beyond 180 on a grid across the antimeridian
    return PopulationRaster.load(scenario.receptors.population_raster,
                                 bbox=(float(lon_edges[0]), float(lat_edges[0]), float(lon_edges[-1]),
                                       float(lat_edges[-1])))


def _people_above_levels(result: Any, scenario: Any, outdir: Path, raster: Any, consequences: Any = None) -> list[Path]:
    """People in the output cells that reach each AEGL, from the scenario's population
    raster (read before the run, :func:`_population_raster`), and the levels no cell reaches
    while receptors do (``consequences``, the casualty table's dataset); without a raster,
    say which receptors alone are counted (the scenario's)."""
    if raster is None:
        n = None if getattr(result, "receptors", None) is None else len(result.receptors)
        what = describe_receptors(scenario.receptors)
        if not n:
            head = "No people are counted: the scenario has no receptors"
        else:
            head = f"People are counted only at the {n:,} receptor{'s' if n > 1 else ''} ({what})"
        console.print(escape(head) + "; give receptors.population_raster (WorldPop, GHS-POP, LandScan) to count "
                      "everyone in the cells that reach each AEGL.", highlight=False)
        return []
    import csv

    from plumecast.concentration import OutputGrid
    from plumecast.fileio import atomic_path
    from plumecast.grid_consequence import cells_reaching_aegl, people_above
    from plumecast.report_tables import cells_below_receptors, print_people_above

    g = OutputGrid.from_config(scenario.output.grid)
    lon_edges, lat_edges = g.lon_edges, g.lat_edges
    flags = cells_reaching_aegl(result.concentration, result.agent, scenario.start64)
    counted = people_above(flags, lon_edges, lat_edges, raster)
    # a count where part of the cells has no raster data is a lower bound ("≥ 1,000", and a warning)
    cells = f"{scenario.output.interval_min:g}-min means over {g.dlon:g} deg cells"
    print_people_above(counted.rows(), console,
                       f"People living in output cells that reach each AEGL (from the population raster; {cells} "
                       "understate local peaks)")
    for line in cells_below_receptors(counted.rows(), consequences, cells):
        console.print(f"note: {escape(line)}", highlight=False)
    path = outdir / "people_above_aegl.csv"
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(counted.rows()[0]))
        w.writeheader()
        w.writerows(counted.rows())
    return [path]


def _serve_while(outdir: Path, port: int, title: str, job: Any) -> None:
    """Run ``job(live_feed)`` with the dashboard served on 127.0.0.1:port, then keep serving.

    Once the job has written its results, Ctrl-C or SIGTERM only stops the dashboard:
    what :func:`plumecast.cli.common.run_app` then says (``kept``) is where the results
    are, not that nothing was written."""
    from plumecast.cli.common import kept
    from plumecast.cli.serve import require_web

    require_web()
    from plumecast.web.server import run_with_dashboard

    def job_then_say_where(live: Any) -> Any:
        result = job(live)
        kept.clear()
        kept["outdir"] = f"the results are in {outdir}; the dashboard stopped"
        return result

    run_with_dashboard(outdir, job_then_say_where, port=port, title=title,
                       announce=lambda s: console.print(s, highlight=False))


def _let_dashboard_see(out: Any) -> None:
    """Wait out the dashboard's re-read interval (``plumecast.web.loader.RESTAT_S``) after
    the set was moved into place, so that it shows the results when the live feed says
    "done" (the whole set appears at once; the folder was stat'ed less than that ago)."""
    from plumecast.web.loader import RESTAT_S

    time.sleep(RESTAT_S + 0.05)


def _print_ignored(sc: Any) -> None:
    """The line naming the sections of ``sc`` that run does not read (none: nothing)."""
    from plumecast.scenario import ignored_keys, ignored_line

    line = ignored_line(ignored_keys(sc, "run"), "run")
    if line:
        console.print(escape(line), highlight=False)


def _resume(folder: Path, scenario: Path | None, particles: int | None, backend: str | None,
            seed: int | None) -> tuple[Any, Any, Path]:
    """The scenario and state of the checkpointed run in ``folder``; only the backend
    may be changed (numba and numpy give the same particles)."""
    from plumecast.checkpoint import checkpoint_path, load_checkpoint, scenario_file_changed
    from plumecast.errors import DataFileError
    from plumecast.scenario import scenario_from_dict

    if scenario is not None:
        raise typer.BadParameter("--resume continues the scenario stored in the checkpoint; give no SCENARIO",
                                 param_hint="SCENARIO")
    if particles is not None or seed is not None:
        raise typer.BadParameter("--particles and --seed cannot change a checkpointed run", param_hint="--resume")
    if not checkpoint_path(folder).is_file():
        raise DataFileError(_no_checkpoint(folder))
    state = load_checkpoint(checkpoint_path(folder))
    sc = scenario_from_dict(state.scenario, source=f"{checkpoint_path(folder)} (scenario)")
    if backend is not None:
        sc = sc.replace(backend=backend)
    _print_ignored(sc)
    console.print(f"resuming {sc.name!r} at +{state.step * sc.time_step_s / 3600:g} h of {sc.run_hours:g} h "
                  f"from {checkpoint_path(folder)}", highlight=False)
    changed = scenario_file_changed(state)
    if changed is not None:  # outputs audit, session 30: a resume had used the old rate without a word
        console.print(f"note: {changed} has changed since the run started; --resume continues the scenario as it "
                      "was then (kept in the checkpoint), without the edits: to run them, start again with "
                      f"`plumecast run {changed} -o {folder} --force`", highlight=False, markup=False)
    if state.inputs is None:
        console.print("note: this checkpoint was written before plumecast recorded the run's input files and "
                      "receptors, so they are not checked: the receptor CSV, population raster and met files "
                      "must be those the run started with", highlight=False, markup=False)
    return sc, state, folder


def _no_checkpoint(folder: Path) -> str:
    """Why ``--resume folder`` finds no checkpoint to continue, as far as the folder tells."""
    from plumecast.checkpoint import checkpoint_path
    from plumecast.fileio import read_marker

    expected = ("expected the output folder of an unfinished run started with "
                "`plumecast run SCENARIO -o OUTDIR --checkpoint-h N`")
    if not folder.exists():
        return f"--resume {folder}: no such folder; {expected}"
    if not folder.is_dir():
        return f"--resume {folder}: is a file, not a folder; {expected}"
    marker = read_marker(folder)
    if marker is not None and marker.get("command") == "run":
        return (f"--resume {folder}: holds the finished results of `plumecast run` ({marker.get('created', '?')}) "
                "and no checkpoint: a run removes its checkpoint once its results are in place, so there is "
                f"nothing to resume; to run it again: plumecast run SCENARIO -o {folder} --force")
    if marker is not None:
        return (f"--resume {folder}: holds the results of `plumecast {marker.get('command', '?')}`, not a "
                f"checkpointed run; {expected}")
    return (f"--resume {folder}: no checkpoint there ({checkpoint_path(folder)} is missing: the run was stopped "
            f"before its first checkpoint, or was not started with --checkpoint-h); {expected}")


def _override(sc: Any, particles: int | None, backend: str | None, seed: int | None) -> Any:
    """The scenario with the command line's --particles, --backend, --seed; a value
    the scenario refuses is an error naming the option."""
    from plumecast.errors import ScenarioError

    changes = {k: v for k, v in (("particles", particles), ("backend", backend), ("seed", seed)) if v is not None}
    if not changes:
        return sc
    try:
        return sc.replace(**changes)
    except ScenarioError as exc:
        text = str(exc).replace(f"{sc.name} (changed: {', '.join(changes)}): ", "")
        for key, value in changes.items():
            text = text.replace(f"\n  {key}: ", f"\n  --{key} {value}: ")
        raise ScenarioError(text.replace("invalid scenario:", "invalid option:", 1)) from None
