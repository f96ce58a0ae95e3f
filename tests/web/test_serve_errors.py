"""What serve says when it cannot listen, and what it leaves (web audit, session 31)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from plumecast.errors import PlumecastError  # noqa: E402
from plumecast.web.server import bind, run_with_dashboard  # noqa: E402


def test_a_port_in_use_names_the_port_and_a_foreign_host_the_host(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(PlumecastError, match=r"choose another --port"):
            bind("127.0.0.1", port)
        # an address of no interface here (TEST-NET-1, RFC 5737): the host is the thing to change
        with pytest.raises(PlumecastError, match=r"--host must be an address of this machine") as info:
            bind("192.0.2.1", 0)
        assert "--port" not in str(info.value)
        # run --serve on the port in use: refused before the job, and the folder it made is gone again
        out = tmp_path / "new_results"
        ran = []
        with pytest.raises(PlumecastError):
            run_with_dashboard(out, ran.append, port=port, announce=lambda s: None)
        assert ran == [] and not out.exists()
        # a folder that was there stays
        out.mkdir()
        with pytest.raises(PlumecastError):
            run_with_dashboard(out, ran.append, port=port, announce=lambda s: None)
        assert out.is_dir()
    finally:
        taken.close()
