"""Audit of scale and Dask (2026-12): a worker that dies mid-run, a --scheduler that
speaks first, the memory check of members that run at once, the progress line at 80
columns."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from plumecast.ensemble import compare as cmp
from plumecast.ensemble import dask_run as dr
from plumecast.ensemble.compare import make_setup, run_members
from plumecast.ensemble.members import MemberSpec
from plumecast.errors import ScenarioError
from tests.ensemble.test_ensemble import _scenario


def _outcomes(raw: cmp.RawComparison) -> list[list[float]]:
    return [[o.total_fatalities for o in m.outcomes.values()] for m in raw.members]


# --------------------------------------------------------------------------- F1: a worker that dies


def test_a_local_worker_killed_mid_run_is_restarted_and_its_members_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    """--workers 1, its worker SIGKILLed after the first member: the nanny restarts it and the
    comparison finishes with the serial numbers. (The setup was scattered: data Dask cannot
    recompute, so the members were cancelled and the run stopped, blaming the scheduler.)"""
    clusters: list = []
    real = dr.local_cluster

    def keep(*a, **k):
        c = real(*a, **k)
        clusters.append(c)
        return c

    monkeypatch.setattr(dr, "local_cluster", keep)
    setup = make_setup(_scenario(duration_h=6, particles=1500), maps=True)
    specs = [MemberSpec(i, 20 + i) for i in range(5)]
    killed: list[int] = []

    def kill_worker(k: int, n: int) -> None:
        if k == 1 and not killed:
            pids = [int(nanny.pid) for nanny in clusters[0].workers.values() if nanny.pid]
            assert pids
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            killed.extend(pids)

    raw = run_members(setup, specs, workers=1, progress=kill_worker)
    assert killed
    serial = run_members(setup, specs, serial=True)
    assert [m.index for m in raw.members] == [m.index for m in serial.members]
    assert _outcomes(raw) == _outcomes(serial)
    assert raw.counts is not None and serial.counts is not None
    for k in serial.counts:
        np.testing.assert_array_equal(raw.counts[k], serial.counts[k])
    # Dask's own lines (the worker removed, the nanny restarting it), when it logs any (timing), go to a
    # log file, not the console
    if raw.dask_log is not None:
        assert Path(raw.dask_log).is_file()
        Path(raw.dask_log).unlink()


def test_every_worker_of_an_external_scheduler_gone_says_so_not_that_the_scheduler_stopped(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both `dask worker` processes SIGKILLed (nanny and worker), the scheduler still up: the
    message said the scheduler stopped or became unreachable (and, without the fix, the
    wait for a result whose worker died could last forever)."""
    from distributed import LocalCluster

    monkeypatch.setattr(dr, "WORKERS_TIMEOUT_S", 3.0)
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    with LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=":0") \
            as cluster, \
            open(tmp_path / "worker.log", "w") as log:
        address = cluster.scheduler_address
        worker = subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                                  stdout=log, stderr=log, start_new_session=True)
        try:
            setup = make_setup(_scenario(duration_h=8, particles=2000), maps=False)
            specs = [MemberSpec(i, 10 + i) for i in range(8)]
            killed: list[float] = []

            def kill_workers(k: int, n: int) -> None:
                if k == 1 and not killed:
                    os.killpg(worker.pid, signal.SIGKILL)  # the nanny and its worker: no worker left
                    killed.append(time.perf_counter())

            with pytest.raises(ScenarioError) as info:
                run_members(setup, specs, scheduler=address, progress=kill_workers)
            msg = str(info.value)
            assert killed and time.perf_counter() - killed[0] < 30
            assert "every worker" in msg and address in msg and f"dask worker {address}" in msg
            assert "lost the connection" not in msg and "stopped or became unreachable" not in msg
            assert "no results were written" in msg and "\n" not in msg
            assert cluster.scheduler.status.name == "running"  # the scheduler is indeed still there
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    for path in msg.split("Dask's log of the run: ")[1:]:
        Path(path.rstrip(")")).unlink(missing_ok=True)


def test_the_local_scheduler_lost_does_not_advise_leaving_out_scheduler() -> None:
    local = str(dr._lost(None))
    assert "--scheduler" not in local and "local" in local
    remote = str(dr._lost("tcp://10.0.0.5:8786"))
    assert "tcp://10.0.0.5:8786" in remote and "--scheduler" in remote


def test_the_setup_is_not_scattered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scattered data cannot be recomputed when its holders die: the setup goes in as a task."""
    from distributed import Client

    def no_scatter(*a, **k):
        raise AssertionError("client.scatter: data Dask cannot recompute")

    monkeypatch.setattr(Client, "scatter", no_scatter)
    setup = make_setup(_scenario(), maps=False)
    raw = run_members(setup, [MemberSpec(0, 1), MemberSpec(1, 2)], workers=1)
    assert len(raw.members) == 2


# --------------------------------------------------------------------------- F2: a port that speaks first


def test_a_port_that_sends_a_banner_is_one_line_and_the_process_exits_at_once(tmp_path: Path) -> None:
    """ssh's banner read as a frame: one line, then (before) a 2 x timeout wait and a
    traceback from the half-built Client's finaliser at exit."""
    script = tmp_path / "banner.py"
    script.write_text(textwrap.dedent("""
        import socket, threading, time
        server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(4)
        held = []
        def serve():
            while True:
                try:
                    c, _ = server.accept()
                except OSError:
                    return
                held.append(c); c.sendall(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\\r\\n")
        threading.Thread(target=serve, daemon=True).start()
        from plumecast.ensemble import dask_run as dr
        from plumecast.errors import ScenarioError
        dr.CONNECT_TIMEOUT_S = 4.0
        try:
            dr._connect(f"tcp://127.0.0.1:{server.getsockname()[1]}")
        except ScenarioError as exc:
            print("error:", exc, flush=True)
    """))
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parents[1])
    took = time.perf_counter() - t0
    assert p.returncode == 0
    assert p.stdout.count("\n") == 1 and "not a Dask scheduler" in p.stdout
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr
    assert took < 7, took  # before: at least 2 x 4 s in the finaliser


# --------------------------------------------------------------------------- F3: memory of members at once


def test_the_memory_check_counts_the_members_that_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import plumecast.scenario_checks as chk

    setup = make_setup(_scenario(), particles=10_000_000, maps=False)
    one = sum(chk.memory_estimate(setup.scenario).values())
    monkeypatch.setattr(chk, "available_memory_bytes", lambda: int(one * 1.5))
    started: list[int] = []

    def no_cluster(*a, **k):
        started.append(1)
        raise AssertionError("the cluster started")

    monkeypatch.setattr(dr, "local_cluster", no_cluster)
    specs = [MemberSpec(i, i) for i in range(4)]
    with pytest.raises(ScenarioError) as info:
        run_members(setup, specs, workers=2)
    msg = str(info.value)
    assert not started and "2 members at once" in msg and "--workers" in msg and "\n" not in msg
    # one member at a time fits: serial, and --workers 1
    chk.check_members_memory(setup.scenario, 1, "t")
    # more workers than members: only the members run at once
    with pytest.raises(ScenarioError, match="2 members at once"):
        run_members(setup, specs[:2], workers=8)
    chk.check_members_memory(setup.scenario, 1, "t")


# --------------------------------------------------------------------------- F5: progress at 80 columns


@pytest.mark.parametrize("width", [50, 60, 80, 100, 160])
def test_the_progress_line_shows_the_time_left_at_80_columns(width: int) -> None:
    """At 80 columns the line read "… alive 1,000,0… 5.0 M steps/s le…": no time at all."""
    import re

    from rich.console import Console
    from rich.progress import Progress

    from plumecast.cli.common import progress_columns

    for kind, title, total, most in (("run", "audit scale 3-D met 24 h", 720, 1_000_000),
                                     ("run", "poison sky", 720, 100_000_000), ("members", "members", 20, 20)):
        console = Console(width=width, force_terminal=False, color_system=None, record=True)
        with Progress(*progress_columns(kind, width, title, most=most), console=console,
                      auto_refresh=False) as bar:
            task = bar.add_task(title, total=total, simtime="2026-01-15 09:00 UTC", alive=most, rate=5.0)
            bar.update(task, completed=total // 3)
            bar.refresh()
        last = [ln.rstrip() for ln in console.export_text().splitlines() if ln.strip()][-1]
        assert len(last) <= width
        assert re.search(r"\d+:\d\d:\d\d left (\d+:\d\d:\d\d|-:--:--)$", last), last
        if width >= 80:
            assert f"{most:,}" in last and "2026-01-15 09:00 UTC" in last if kind == "run" else f"{total // 3}/" in last
        if width >= 160:
            assert "M steps/s" in last if kind == "run" else title in last
        assert "…" not in last.replace(title[:23] + "…", ""), last
