"""Helpers shared by the CLI commands."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from plumecast.errors import PlumecastError

console = Console()
err_console = Console(stderr=True)


def report_user_error(exc: PlumecastError) -> None:
    """Print a user error without a traceback."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)


def run_app(app: typer.Typer) -> int:
    """Run the typer app; a PlumecastError becomes a message and exit status 2.

    Usage mistakes (unknown command or option, missing argument) are reported by
    typer itself in standalone mode, also with exit status 2.
    """
    try:
        app(prog_name="plumecast")
    except PlumecastError as exc:
        report_user_error(exc)
        return 2
    return 0
