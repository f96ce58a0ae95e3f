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


_register()


def main() -> None:
    """Entry point of the ``plumecast`` script."""
    from plumecast.cli.common import run_app

    sys.exit(run_app(app, leave_at_once=True))
