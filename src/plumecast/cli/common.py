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


def report_user_error(exc: PlumecastError) -> None:
    """Print a user error without a traceback."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)


def run_app(app: typer.Typer) -> int:
    """Run the typer app; a PlumecastError becomes a message and exit status 2.

    Usage mistakes (unknown command or option, missing argument) are reported by
    typer itself in standalone mode, also with exit status 2.
    """
    previous = _terminate_as_exit()
    try:
        app(prog_name="plumecast")
    except PlumecastError as exc:
        report_user_error(exc)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted: no further output was written (files completed before the "
                          "interrupt are kept; half-written files were removed)", highlight=False)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _terminate_as_exit() -> Any:
    """Make SIGTERM raise SystemExit(143) in the main thread, so that ``finally``
    blocks and :func:`plumecast.fileio.atomic_path` remove temporary files as on an
    exception. Returns the previous handler (None if it could not be set)."""

    def handler(signum: int, frame: Any) -> None:
        err_console.print("terminated (SIGTERM): half-written files were removed", highlight=False)
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None
