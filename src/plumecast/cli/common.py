"""Helpers shared by the CLI commands."""

from __future__ import annotations

import typer
from rich.console import Console

from plumecast.errors import PlumecastError

console = Console()
err_console = Console(stderr=True)


def report_user_error(exc: PlumecastError) -> None:
    """Print a user error without a traceback."""
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)


def run_app(app: typer.Typer) -> int:
    """Run the typer app, turning PlumecastError into a message and exit status 2."""
    try:
        app(standalone_mode=False)
    except PlumecastError as exc:
        report_user_error(exc)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err_console.print("aborted")
        return 1
    except Exception as exc:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return int(exc.exit_code)
        raise
    return 0
