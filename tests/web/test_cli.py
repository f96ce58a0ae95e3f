"""``plumecast serve`` and ``plumecast run --serve`` as a user starts them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from tests.helpers import sigint_default  # noqa: E402
from tests.web.conftest import TINY  # noqa: E402


def _start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, COLUMNS="200")
    proc = subprocess.Popen([sys.executable, "-m", "plumecast", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, preexec_fn=sigint_default)
    assert proc.stdout is not None
    t0 = time.monotonic()
    seen = []
    while time.monotonic() - t0 < 120:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError("no dashboard URL printed:\n" + "".join(seen))


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - loopback only
        return r.status, r.read()


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_serve_a_folder(run_dir: Path, tmp_path: Path) -> None:
    proc, url = _start(["serve", str(run_dir), "--port", "0"], tmp_path)
    try:
        status, body = _get(url + "api/summary")
        assert status == 200 and json.loads(body)["title"] == "tokyo-bay-test"
        status, body = _get(url)
        assert b"/static/app.js" in body
    finally:
        _stop(proc)
    assert proc.returncode in (0, 130, -2)


def test_serve_refuses_a_missing_folder(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "plumecast", "serve", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "not a folder" in r.stderr and "Traceback" not in r.stderr


def test_serve_refuses_a_folder_without_results(tmp_path: Path) -> None:
    """``plumecast serve /tmp`` used to serve an empty page; a folder that plumecast did not
    write is refused at start with one line naming it and what was expected."""
    (tmp_path / "notes.txt").write_text("not a result")
    (tmp_path / "sub").mkdir()
    r = subprocess.run([sys.executable, "-m", "plumecast", "serve", str(tmp_path), "--port", "0"],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS="400"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = " ".join(r.stderr.split())
    assert f"{tmp_path}: holds no plumecast results" in line
    assert "plumecast run or demo" in line and "plumecast compare" in line and "--wait" in line


def test_serve_wait_serves_a_folder_before_its_results(tmp_path: Path) -> None:
    folder = tmp_path / "later"
    folder.mkdir()
    proc, url = _start(["serve", str(folder), "--port", "0", "--wait"], tmp_path)
    try:
        status, body = _get(url)
        assert status == 200 and b"No results to show yet" in body
    finally:
        _stop(proc)


def test_not_a_result_folder(run_dir: Path, compare_dir: Path, tmp_path: Path) -> None:
    from plumecast.web.loader import not_a_result_folder

    assert not_a_result_folder(run_dir) is None and not_a_result_folder(compare_dir) is None
    assert "not a folder" in str(not_a_result_folder(tmp_path / "nope"))
    assert "holds no plumecast results" in str(not_a_result_folder(tmp_path))
    assert not_a_result_folder(run_dir.parent) is not None  # the parent of a run folder is none
    (tmp_path / "live.json").write_text("{}")  # a run writing it with --serve
    assert not_a_result_folder(tmp_path) is None


def test_serve_refuses_a_busy_port(run_dir: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "plumecast", "serve", str(run_dir), "--port", str(port)],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "cannot serve on 127.0.0.1" in r.stderr and "--port" in r.stderr


def test_run_with_serve_reports_progress_live(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(TINY | {"duration_h": 3}))
    out = tmp_path / "out"
    proc, url = _start(["run", str(scenario), "-o", str(out), "-q", "--serve", "--port", "0"], tmp_path)
    try:
        states = set()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            _, body = _get(url + "api/live?once=1")
            text = body.decode()
            if "data: " in text:
                data = json.loads(text.split("data: ", 1)[1].split("\n", 1)[0])
                if data:
                    states.add(data["state"])
                    if data["state"] == "done":
                        break
            time.sleep(0.2)
        assert "done" in states
        summary = json.loads(_get(url + "api/summary")[1])
        assert summary["usable"] and summary["live"]["state"] == "done"
        assert (out / "concentration_animation.gif").is_file() and (out / "dashboard.json").is_file()
    finally:
        _stop(proc)
