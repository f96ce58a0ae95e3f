"""Scaffolding shared by test modules: the command line run in this process, and a
child process killed with SIGTERM in the middle of writing a file."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

#: Put before a script run by :func:`run_until_sigterm`: SIGTERM becomes the exit of a
#: plumecast command (``plumecast.cli.common._terminate_as_exit``), and ``sigterm_self()``
#: sends it to the script's own process and waits for it to act.
SIGTERM_PRELUDE = """\
import os, signal, time
from plumecast.cli.common import _terminate_as_exit
_terminate_as_exit()


def sigterm_self():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
"""


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run the plumecast command line in this process; (exit status, all output)."""
    from plumecast.cli import app
    from plumecast.cli.common import run_app

    monkeypatch.setattr(sys, "argv", ["plumecast", *args])
    try:
        rc = run_app(app)
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out + out.err


def run_until_sigterm(body: str, timeout: float = 60) -> None:
    """Run ``body`` (Python, indented as you like, after :data:`SIGTERM_PRELUDE`) in a
    child process that calls ``sigterm_self()``; assert that it ended as a plumecast
    command ends on SIGTERM: exit status 128 + 15 and no traceback."""
    script = SIGTERM_PRELUDE + textwrap.dedent(body)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 128 + signal.SIGTERM, r.stderr
    assert "Traceback" not in r.stderr
