"""Scaffolding shared by test modules: a small scenario, the command line run in this
process, a child process killed with SIGTERM in the middle of writing a file, and a
transport kernel's results held to the NumPy oracle's."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
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


def sigint_default() -> None:
    """``preexec_fn`` of a child that a test interrupts with SIGINT: the default action
    (Python's KeyboardInterrupt) even where the tests run with SIGINT ignored, as a
    background job without job control is, which the child would inherit (Python keeps an
    inherited ignore)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def small_scenario(name: str, particles: int, *extra_lines: str) -> str:
    """The YAML of a small run: 2 h from 2026-01-10T00Z in 10-min steps, a uniform
    5 m s-1 westerly wind, one 1 kg s-1 point release at 50 N 8 E, a 0.5 deg grid over
    0-20 E, 40-60 N. ``extra_lines`` (e.g. ``"backend: numpy"``) follow ``particles``."""
    lines = [f"name: {name}", "start: 2026-01-10T00:00:00Z", "duration_h: 2", "time_step_s: 600",
             f"particles: {particles}", *extra_lines,
             "met: {source: uniform, u_m_s: 5, v_m_s: 0}",
             "releases:",
             "  - {type: point, name: tank, lat: 50, lon: 8, rate_kg_s: 1}",
             "output:",
             "  grid: {lon_min: 0, lon_max: 20, lat_min: 40, lat_max: 60, resolution_deg: 0.5}"]
    return "\n".join(lines) + "\n"


#: The YAML of a small near-field (``plumecast zones``) scenario: 500 kg of chlorine
#: at once at 45 N 5 E, 3 m s-1 westerly wind, stability D, no city receptors.
SMALL_ZONES_SCENARIO = """\
name: local
source: {lat: 45, lon: 5}
release: {amount_kg: 500, duration_s: 0}
agent: chlorine
meteorology: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}
receptors: {cities: false}
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


def assert_matches_oracle(ref: tuple[Any, ...], out: tuple[Any, ...]) -> None:
    """``out``, (particles, sampler, removed, decayed) of a transport kernel, against
    ``ref``, the same of the NumPy oracle run from the same particles through the same
    calls: positions to 1e-6 deg, heights to 1e-3 m (stored in float32), the same exits,
    masses, deposited (dry, wet) and decayed masses and the sampled total to 1e-9
    relative, the deposition grid cell by cell to 1e-6 relative."""
    (a, sa, ra, da), (b, sb, rb, db) = ref, out
    assert np.abs(((a.lon - b.lon + 180.0) % 360.0) - 180.0).max() < 1e-6
    assert np.abs(a.lat - b.lat).max() < 1e-6
    assert np.abs(a.z.astype(float) - b.z).max() < 1e-3
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_allclose(b.mass, a.mass, rtol=1e-9)
    np.testing.assert_allclose(rb, ra, rtol=1e-9)
    np.testing.assert_allclose(db, da, rtol=1e-9)
    np.testing.assert_allclose(sb.acc.sum(), sa.acc.sum(), rtol=1e-9)
    np.testing.assert_allclose(sb.deposited, sa.deposited, rtol=1e-6, atol=1e-12 * sa.deposited.max())
