"""compare on Dask when something goes wrong: a wrong or dead scheduler, a scheduler
without workers, a member that fails on its input, an absurd wind speed factor, and
the dashboard stopped after the results were written. Each is one clear error (a
ScenarioError: one line, exit 2 on the command line), in bounded time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings

import pytest

from plumecast.ensemble import dask_run as dr
from plumecast.ensemble.compare import make_setup, run_members
from plumecast.ensemble.members import MemberSpec, member_specs, turn_winds
from plumecast.errors import ScenarioError
from plumecast.met import uniform_wind
from tests.ensemble.test_ensemble import _scenario


@pytest.mark.parametrize("address", ["garbage", "http://127.0.0.1:8786", "tcp://host-without-port", "127.0.0.1"])
def test_a_malformed_scheduler_address_is_refused_at_once(address: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError, match="not a Dask scheduler address") as info:
        dr._connect(address)
    assert time.perf_counter() - t0 < 2
    msg = str(info.value)
    assert address in msg and "tcp://HOST:PORT" in msg and "\n" not in msg


def test_a_refused_connection_is_one_error_at_once_naming_the_address() -> None:
    """A port nobody listens on refuses the connection at once: said at once (it had waited the whole
    CONNECT_TIMEOUT_S, 15 s, and said that no scheduler answered; badinput audit, session 43)."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    setup = make_setup(_scenario(), maps=False)
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError, match=rf"connection refused: nothing listens on port {port} of 127\.0\.0\.1") \
            as info:
        run_members(setup, [MemberSpec(0, 1)], scheduler=address)
    assert time.perf_counter() - t0 < 3
    assert address in str(info.value) and "running Dask scheduler" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(ScenarioError, match=r"the host 'no-such-host\.invalid' is not known"):
        dr._connect("tcp://no-such-host.invalid:8786")


@pytest.mark.parametrize("greeting", [b"", b"SSH-2.0-OpenSSH_9.6\r\n"], ids=["silent", "ssh"])
def test_something_else_on_the_port_is_one_error_in_bounded_time(monkeypatch: pytest.MonkeyPatch,
                                                                  greeting: bytes) -> None:
    """A port that answers but does not speak Dask (the scheduler's dashboard, a web server that
    waits for a request, ssh's banner read as a frame of exabytes) hung or ended in a traceback."""
    import threading

    monkeypatch.setattr(dr, "CONNECT_TIMEOUT_S", 2.0)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if greeting:
                conn.sendall(greeting)

    threading.Thread(target=serve, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    t0 = time.perf_counter()
    try:
        with pytest.raises(ScenarioError) as info:
            dr._connect(address)
    finally:
        server.close()
        for conn in held:
            conn.close()
    assert time.perf_counter() - t0 < 10
    msg = str(info.value)
    assert address in msg and "\n" not in msg and "running Dask scheduler" in msg


def test_a_scheduler_without_workers_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    monkeypatch.setattr(dr, "WORKERS_TIMEOUT_S", 1.0)
    setup = make_setup(_scenario(), maps=False)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster:
        with pytest.raises(ScenarioError, match="has no workers") as info:
            run_members(setup, [MemberSpec(0, 1)], scheduler=cluster.scheduler_address)
    assert f"dask worker {cluster.scheduler_address}" in str(info.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_scheduler_that_dies_during_the_run_is_an_error_not_a_hang(tmp_path) -> None:
    """The audit's hang: the scheduler killed mid-run left compare waiting forever."""
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "cluster.log", "w")
    sched = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                              "--dashboard-address", ":0"], stdout=log, stderr=log, start_new_session=True)
    worker = None
    try:
        deadline = time.time() + 60
        while True:  # the scheduler is up when its port answers
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline and sched.poll() is None, (tmp_path / "cluster.log").read_text()
                time.sleep(0.2)
        worker = subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                                  stdout=log, stderr=log, start_new_session=True)
        sc = _scenario(duration_h=8, particles=2000)
        setup = make_setup(sc, maps=False)
        specs = [MemberSpec(i, 10 + i) for i in range(8)]

        def kill_scheduler(k: int, n: int) -> None:
            if k == 1:
                os.kill(sched.pid, signal.SIGKILL)
                killed.append(time.perf_counter())

        killed: list[float] = []
        with pytest.raises(ScenarioError, match="lost the connection to the Dask scheduler") as info:
            run_members(setup, specs, scheduler=address, progress=kill_scheduler)
        assert killed and time.perf_counter() - killed[0] < 20
        assert address in str(info.value) and "no results were written" in str(info.value)
    finally:
        for p in (worker, sched):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()


def test_a_member_that_fails_on_its_input_is_named_and_not_retried() -> None:
    """A user error in one member: 'ensemble member N: ...', the lowest failing member
    whatever the workers, returned as a value (so Dask neither retries nor logs it)."""
    sc = _scenario()
    setup = make_setup(sc, maps=True)
    bad = 1e308  # makes the winds infinite: refused inside the member task
    specs = [MemberSpec(0, 1), MemberSpec(1, 2, wind_speed_factor=bad), MemberSpec(2, 3),
             MemberSpec(3, 4, wind_speed_factor=bad)]
    failure = dr._member_or_failure(setup, specs[1])
    assert isinstance(failure, dr.MemberFailure) and failure.index == 1
    messages = []
    for kw in ({"serial": True}, {"workers": 2}):
        with pytest.raises(ScenarioError) as info:
            run_members(setup, specs, **kw)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("ensemble member 1: ") and "makes the winds" in messages[0]


def test_an_absurd_wind_speed_factor_is_refused_naming_key_and_member() -> None:
    # refused when the scenario is read: a lognormal centred outside the allowed range (audit 26;
    # it had been refused only when member 1 drew it)
    with pytest.raises(ScenarioError, match=r"ensemble\.wind_speed_factor: median: a lognormal with median 1e\+36 "
                                            r"is centred outside the allowed range.* 0 to 10"):
        _scenario(ensemble={"members": 3, "control": True,
                            "wind_speed_factor": {"dist": "lognormal", "median": 1e36, "sigma": 3}})
    ok = _scenario(ensemble={"members": 20, "wind_speed_factor": {"dist": "lognormal", "median": 1, "sigma": 0.3}})
    assert all(s.wind_speed_factor <= 10 for s in member_specs(ok, ok.ensemble))


def test_winds_that_overflow_float32_raise_without_a_numpy_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ScenarioError, match="makes the winds"):
            turn_winds(uniform_wind(10.0, 0.0), 0.0, 3e38)


def test_local_workers_do_not_log_distributed_warnings() -> None:
    assert dr.worker_environ(2)["DASK_LOGGING__DISTRIBUTED"] == "error"


def test_stopping_the_dashboard_after_the_results_says_where_they_are(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    import plumecast.web.server as server
    from plumecast.cli import common
    from plumecast.cli.global_run import _serve_while

    def fake_run_with_dashboard(outdir, job, **kw):
        job(None)
        raise KeyboardInterrupt  # Ctrl-C while the dashboard keeps serving

    monkeypatch.setattr(server, "run_with_dashboard", fake_run_with_dashboard)
    common.kept.clear()
    with pytest.raises(KeyboardInterrupt):
        _serve_while(tmp_path / "out", 0, "t", lambda live: None)
    text = common._kept_text()
    assert f"the results are in {tmp_path / 'out'}" in text and "nothing was written" not in text
    common.kept.clear()

    def failing_job(live):
        raise KeyboardInterrupt  # Ctrl-C during the run: nothing was written, as before

    def fake2(outdir, job, **kw):
        job(None)

    monkeypatch.setattr(server, "run_with_dashboard", fake2)
    with pytest.raises(KeyboardInterrupt):
        _serve_while(tmp_path / "out", 0, "t", failing_job)
    assert "results are in" not in common._kept_text()
