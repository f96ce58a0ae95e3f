"""The ``plumecast`` command line (typer + rich).

User mistakes (a bad scenario key, a missing file) are printed as one message,
without a traceback, and the command exits with status 2.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="plumecast",
    help="Forecast where a released hazardous gas goes, when it reaches each city, and who it hurts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    """``plumecast --version``: the installed version, so a planner can say which one gave a forecast (there had
    been no way to; first-hour audit, session 40)."""
    if value:
        from plumecast import __version__

        typer.echo(f"plumecast {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                          help="print the installed version and exit")) -> None:
    """Forecast where a released hazardous gas goes, when it reaches each city, and who it hurts."""


def _register() -> None:
    from plumecast.cli import compare as compare_cmd
    from plumecast.cli import global_run, info, validate, zones
    from plumecast.cli import met as met_cmd
    from plumecast.cli import serve as serve_cmd

    global_run.register(app)
    zones.register(app)
    validate.register(app)
    info.register(app)
    compare_cmd.register(app)
    serve_cmd.register(app)
    met_cmd.register(app)
    _one_line_summaries(app)


def _one_line_summaries(typer_app: typer.Typer) -> None:
    """Each command's summary in the command lists: its docstring's first paragraph
    as one line for rich to wrap (typer keeps the docstring's own line breaks there,
    which broke sentences in the middle)."""
    for info in typer_app.registered_commands:
        doc = (info.help or (info.callback.__doc__ if info.callback else None) or "").strip()
        if info.short_help is None and doc:
            info.short_help = " ".join(doc.split("\n\n")[0].split())
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _one_line_summaries(group.typer_instance)


def _starting_interrupted() -> None:
    """Ctrl-C while the commands' modules load (numpy, xarray, numba: a few seconds): one line,
    not a 30-line traceback (zones audit); nothing has been written yet."""
    sys.stderr.write("interrupted (Ctrl-C) while plumecast was starting: nothing was written\n")
    raise SystemExit(130) from None


try:
    _register()
except KeyboardInterrupt:
    _starting_interrupted()


def main() -> None:
    """Entry point of the ``plumecast`` script."""
    try:
        from plumecast.cli.common import run_app
        from plumecast.runner import run as _loaded  # noqa: F401  (run_app's first import, here under the guard)
    except KeyboardInterrupt:
        _starting_interrupted()
    sys.exit(run_app(app, leave_at_once=True))
