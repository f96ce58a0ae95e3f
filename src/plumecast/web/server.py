"""Run the dashboard with uvicorn: in the foreground (``plumecast serve``) or in a
background thread while a forecast runs (``plumecast run/demo --serve``)."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plumecast.errors import PlumecastError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port), or one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: small answers go out at once, not after a delayed ACK (~40 ms)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        # what to change: the port where it is taken (or reserved), the host where it is not this machine's
        # (a --host problem had been answered "choose another --port"; web audit)
        if isinstance(exc, socket.gaierror):
            # not an address, nor a name that resolves: the port is not to blame (it had been told to choose
            # another --port; badinput audit, session 43)
            raise PlumecastError(f"cannot serve on {host}:{port}: --host {host} is not a valid address of this "
                                 f"machine: not an IP address, nor a host name that resolves ({exc.strerror or exc}); "
                                 "expected an address of this machine (127.0.0.1: this machine only; 0.0.0.0: "
                                 "every interface)") from None
        hint = ("--host must be an address of this machine (127.0.0.1: this machine only; 0.0.0.0: every "
                "interface)" if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) else
                "choose another --port (or --port 0 for any free one)")
        raise PlumecastError(f"cannot serve on {host}:{port}: {exc.strerror or exc}; {hint}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class DashboardServer:
    """uvicorn serving one folder on an already bound socket, in a thread."""

    def __init__(self, folder: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 log_level: str = "warning") -> None:
        import uvicorn

        from plumecast.web.app import LOCAL_HOSTS, create_app

        self.sock = bind(host, port)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        # bound to every interface: any Host may reach it (the user asked for it; a warning is printed)
        hosts = ["*"] if host in ("0.0.0.0", "::", "[::]") else list(LOCAL_HOSTS) + [host, host.strip("[]")]
        self.app = create_app(folder, allowed_hosts=hosts)
        config = uvicorn.Config(self.app, log_level=log_level, access_log=False, timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        h = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{h}:{self.port}/"

    def start(self, timeout_s: float = 20.0) -> DashboardServer:
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="plumecast-dashboard", daemon=True)
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() - t0 > timeout_s:
                raise PlumecastError(f"the dashboard did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.app.state.closing = True
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.sock.close()

    def wait(self) -> None:
        """Block until interrupted (Ctrl-C) or the server stops."""
        try:
            while self.thread is not None and self.thread.is_alive():
                self.thread.join(timeout=0.5)
        finally:
            self.stop()


def run_with_dashboard(outdir: str | Path, job: Callable[[Any], Any], *, host: str = DEFAULT_HOST,
                       port: int = DEFAULT_PORT, title: str = "", announce: Callable[[str], None] = print,
                       keep_serving: bool = True) -> Any:
    """Serve ``outdir`` while ``job(live_feed)`` runs, then keep serving until Ctrl-C.

    ``job`` gets a :class:`~plumecast.web.live.LiveFeed` whose ``progress`` it
    passes on as the runner's progress callback.
    """
    from plumecast.fileio import check_output_dir
    from plumecast.web.live import LiveFeed

    existed = Path(outdir).exists()
    check_output_dir(outdir)
    try:
        server = DashboardServer(outdir, host, port).start()
    except BaseException:
        if not existed:  # a port in use: the folder this call made, still empty, goes too (web audit)
            with contextlib.suppress(OSError):
                Path(outdir).rmdir()
        raise
    announce(f"dashboard: {server.url} (follow the run live; Ctrl-C stops serving)")
    if not is_loopback(host):
        announce(f"warning: serving on {host}: anyone who can reach this address can read the results")
    feed = LiveFeed(outdir, title=title)
    try:
        result = job(feed)
    except BaseException as exc:
        feed.failed(f"{type(exc).__name__}: {exc}")
        server.stop()
        raise
    feed.done()
    if keep_serving:
        announce(f"run finished; the dashboard stays on {server.url} until Ctrl-C")
        server.wait()
    else:
        server.stop()
    return result


def serve_forever(folder: str | Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                  announce: Callable[[str], None] = print) -> None:
    server = DashboardServer(folder, host, port).start()
    announce(f"dashboard of {folder}: {server.url} (Ctrl-C stops)")
    if not is_loopback(host):
        announce(f"warning: serving on {host}: anyone who can reach this address can read the results")
    server.wait()
