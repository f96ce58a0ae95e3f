"""Helpers shared by the CLI commands."""

from __future__ import annotations

import signal
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from plumecast.errors import PlumecastError

console = Console()
err_console = Console(stderr=True)

#: What an interrupted command leaves behind, said when Ctrl-C or SIGTERM stops it
#: (the output folder left as it was, the last checkpoint); commands set it as they go.
kept: dict[str, str] = {}


def fold(table: Any) -> Any:
    """Let every column of a rich table fold long cells onto more lines instead of
    cutting them with "…" (a figure is never shown cut, whatever the terminal width)."""
    for col in table.columns:
        col.overflow = "fold"
    return table


def print_tables(tables: Any) -> None:
    for table in tables:
        console.print(fold(table))


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    """Warnings as one plain line each, once, without source lines (no raw numpy warnings)."""
    import os

    text = f"{category.__name__}: {message} ({os.path.basename(filename)}:{lineno})"
    if text not in _warned:
        _warned.add(text)
        err_console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True)


_warned: set[str] = set()


def report_user_error(exc: PlumecastError) -> None:
    """Print a user error without a traceback."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)


def run_app(app: typer.Typer, *, leave_at_once: bool = False) -> int:
    """Run the typer app; a PlumecastError becomes a message and exit status 2.

    Usage mistakes (unknown command or option, missing argument) are reported by
    typer itself in standalone mode, also with exit status 2.

    Ctrl-C and SIGTERM unwind the command (staging folders and half-written files
    are removed on the way), say what was kept and, with ``leave_at_once`` (the
    ``plumecast`` script), end the process there: the interpreter's own shutdown
    takes a second or more after numba and Dask have been loaded, and a transport
    kernel call that was abandoned may still be computing.
    """
    import warnings

    from plumecast import runner

    was_interruptible = runner.interruptible_kernels
    runner.interruptible_kernels = True  # a person may press Ctrl-C: numba calls on a helper thread
    previous = _terminate_as_exit()
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        app(prog_name="plumecast")
    except PlumecastError as exc:
        report_user_error(exc)
        if "checkpoint" in kept:  # a run that fails after a checkpoint (a full disk at the next): it is kept
            err_console.print(f"note: {kept['checkpoint']}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        return _interrupted(leave_at_once)
    except SystemExit as exc:
        if exc.code == 130 and isinstance(exc.__context__, typer.Exit):
            return _interrupted(leave_at_once)  # typer turns Ctrl-C into Exit(130) without a word
        if exc.code == 128 + signal.SIGTERM:
            _leave(int(exc.code), leave_at_once)
        raise
    finally:
        runner.interruptible_kernels = was_interruptible
        warnings.showwarning = shown
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupted(leave_at_once: bool) -> int:
    err_console.print("interrupted (Ctrl-C): " + _kept_text(), highlight=False, soft_wrap=True)
    _leave(130, leave_at_once)
    return 130


def _kept_text() -> str:
    if not kept:
        return "nothing was written; half-written files were removed"
    return "; ".join(kept.values())


def _leave(code: int, at_once: bool) -> None:
    """End the process now (``at_once``, or an abandoned transport kernel call is still
    computing, :func:`plumecast.runner._kernel_call`: the interpreter's shutdown
    should not run beside it)."""
    import os
    import sys

    runner = sys.modules.get("plumecast.runner")
    if at_once or (runner is not None and runner.kernel_busy()):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def _terminate_as_exit() -> Any:
    """Make SIGTERM raise SystemExit(143) in the main thread, so that ``finally``
    blocks and :func:`plumecast.fileio.atomic_path` remove temporary files as on an
    exception. Returns the previous handler (None if it could not be set)."""

    def handler(signum: int, frame: Any) -> None:
        err_console.print("terminated (SIGTERM): " + _kept_text(), highlight=False, soft_wrap=True)
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


def progress_columns(kind: str, width: int, title: str = "", most: int = 0) -> list[Any]:
    """The columns of a progress line that fit ``width`` characters (the console's), so
    that rich never cuts one with "…": the elapsed and remaining time always show, then
    (``kind`` "run") the simulated time, a bar, the particles alive, the title and the
    particle-steps per second, or (``kind`` "members") a bar, the members done and the
    title, in that order of priority, each only if it fits whole. (At 80 columns the
    full set cut the times to "0… left 0:0…"; audit.) The task's fields: ``simtime``,
    ``alive`` and ``rate`` [M particle-steps/s] for "run"."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Column

    name = title[:24]
    digits = max(9, len(f"{most:,}"))
    # (display order, width, column); rich puts one space between columns
    parts: list[tuple[int, int, Any]] = [(7, 8, TimeElapsedColumn()), (8, 4, TextColumn("left")),
                                         (9, 8, TimeRemainingColumn())]
    budget = max(width, 40) - 1 - sum(w + 1 for _, w, _ in parts)
    bar: tuple[int, int, Any] = (2, 10, None)
    wanted: list[tuple[int, int, Any]]
    if kind == "run":
        wanted = [(3, 20, TextColumn("{task.fields[simtime]}")), bar,
                  (4, 6 + digits, TextColumn(f"alive {{task.fields[alive]:>{digits},}}")),
                  (1, len(name), TextColumn("[bold]{task.description}",
                                            table_column=Column(no_wrap=True, max_width=24))),
                  (5, 15, TextColumn("{task.fields[rate]:>5.1f} M steps/s"))]
    else:
        wanted = [bar, (3, 2 * len(str(max(most, 1))) + 1, MofNCompleteColumn()),
                  (1, len(name), TextColumn("[bold]{task.description}",
                                            table_column=Column(no_wrap=True, max_width=24)))]
    bar_width = 0
    for order, w, col in wanted:
        if w and w + 1 <= budget:
            budget -= w + 1
            if col is None:
                bar_width = w
            else:
                parts.append((order, w, col))
    if bar_width:
        bar_width += min(budget, 10)  # a longer bar where room is left
        parts.append((2, bar_width, BarColumn(bar_width=bar_width)))
    return [col for _, _, col in sorted(parts, key=lambda p: p[0])]


def given(ctx: Any, name: str) -> bool:
    """Whether the option of parameter ``name`` was given on the command line (or by its environment
    variable), not left at its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def refuse_port_without_serve(ctx: Any, serve: bool, port: int) -> None:
    """``--port`` without ``--serve``: refused as a usage error (exit 2). The port had been taken and
    ignored, and no dashboard was served (badinput audit, session 43)."""
    if not serve and given(ctx, "port"):
        raise typer.BadParameter(f"{port} is the port of the dashboard, which is served only with --serve; add "
                                 "--serve, or leave --port out", param_hint="--port")


def output_path(value: str) -> Any:
    """The parser of the ``-o/--output`` folder options: an empty path is refused (``-o ''`` had been taken as
    the current folder; badinput audit, session 43)."""
    from pathlib import Path

    if value == "":
        raise typer.BadParameter("'' is an empty path; expected a folder name (e.g. -o results; -o . for the "
                                 "current folder)")
    return Path(value)


def output_file(value: str) -> Any:
    """The parser of an ``-o/--output`` file option: an empty path is refused, as :func:`output_path`."""
    from pathlib import Path

    if value == "":
        raise typer.BadParameter("'' is an empty path; expected a file name (e.g. -o forecast.nc)")
    return Path(value)


def located(exc: PlumecastError, scenario_file: Any) -> PlumecastError:
    """``exc``, found while a scenario runs and starting with the key it is about (``"met.boundary_layer:
    ..."``, after an ``"ensemble member N: "``), with the scenario file and the key's line put before the key,
    as the schema's own errors read (the run had said which key, but not in which file or on which line;
    badinput audit, session 43). Unchanged where the file does not spell that key (a default) or the message
    names no key."""
    import re

    m = re.match(r"((?:ensemble member \d+: )?)([a-z_]+(?:\.[a-z_0-9]+)+): (.*)$", str(exc), re.S)
    if scenario_file is None or m is None:
        return exc
    from plumecast.scenario_yaml import parse_yaml, read_scenario_text, where

    try:
        _, lines = parse_yaml(read_scenario_text(scenario_file), str(scenario_file))
    except PlumecastError:
        return exc
    key = tuple(int(k) if k.isdigit() else k for k in m.group(2).split("."))
    if key not in lines:  # a file name ("met.nc: ..."), or a key left at its default
        return exc
    return type(exc)(f"{m.group(1)}{where(str(scenario_file), lines, *key)}: {m.group(3)}")
