"""Load test of the dashboard on loopback: N concurrent clients polling for T seconds.

Each client repeats what an open dashboard page does while it is watched: the
summary (as after a live event), the view, one map frame (cycling through the
forecast) and the live state; then it waits ``--interval`` seconds. The server
is ``plumecast serve`` in its own process (uvicorn, one worker), on 127.0.0.1
only; each client is an asyncio task with its own keep-alive connection (a
minimal HTTP/1.1 client, so that the load generator costs little next to the
server it measures on the same machine).

    python benchmarks/bench_web.py [FOLDER] [--clients 200] [--seconds 30] [--interval 0.5]

Without FOLDER a tiny run is made first (a few seconds). Prints the requests
made, errors (non-2xx/304 answers, timeouts, connection failures), throughput
and latency percentiles. Bounded in count and time; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _tiny_run(out: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.web.conftest import build_run

    return build_run(out)


def _start_server(folder: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "plumecast", "serve", str(folder), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            return proc, m.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the dashboard did not start")


class Conn:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator
    shares the machine with the server, so it must cost far less than the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET /{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(parts)
        else:
            body = b""
        if headers.get("connection") == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _client(host: str, port: int, view: str, n_frames: int, until: float, interval: float,
                  lat: list[float], errors: list[str], k0: int) -> int:
    conn = Conn(host, port)
    n = 0
    k = k0
    try:
        while time.monotonic() < until:
            paths = ["api/summary", f"api/view/{view}", "api/live?once=1"]
            if n_frames:
                paths.append(f"api/view/{view}/frame/{k % n_frames}")
            for p in paths:
                t = time.perf_counter()
                try:
                    status, _ = await asyncio.wait_for(conn.get(p), timeout=30.0)
                    if status not in (200, 304):
                        errors.append(f"{p}: {status}")
                except Exception as exc:  # timeouts, resets: all count as errors
                    errors.append(f"{p}: {type(exc).__name__}")
                    await conn.close()
                lat.append(time.perf_counter() - t)
                n += 1
            k += 1
            await asyncio.sleep(interval)
    finally:
        await conn.close()
    return n


async def _main(url: str, clients: int, seconds: float, interval: float) -> None:
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    first = Conn(host, int(port))
    summary = json.loads((await first.get("api/summary"))[1])
    view = summary["views"][0]["id"]
    n_frames = json.loads((await first.get(f"api/view/{view}"))[1])["n_frames"]
    await first.close()
    lat: list[float] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    t0 = time.perf_counter()
    counts = await asyncio.gather(*[_client(host, int(port), view, n_frames, until, interval, lat, errors, i)
                                    for i in range(clients)])
    wall = time.perf_counter() - t0
    ms = np.array(lat) * 1000
    print(json.dumps({
        "clients": clients, "seconds": round(wall, 1), "poll_interval_s": interval, "requests": int(sum(counts)),
        "errors": len(errors), "error_kinds": sorted(set(errors))[:10], "requests_per_s": round(sum(counts) / wall, 1),
        "latency_ms": {"p50": round(float(np.percentile(ms, 50)), 1), "p95": round(float(np.percentile(ms, 95)), 1),
                       "p99": round(float(np.percentile(ms, 99)), 1), "max": round(float(ms.max()), 1)},
    }, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--interval", type=float, default=0.5, help="pause between a client's polls [s]")
    a = ap.parse_args()
    if not (1 <= a.clients <= 1000 and 1 <= a.seconds <= 300):
        raise SystemExit("--clients 1..1000 and --seconds 1..300 (the test is bounded)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = a.folder or _tiny_run(Path(tmp) / "run")
        proc, url = _start_server(folder)
        try:
            asyncio.run(_main(url, a.clients, a.seconds, a.interval))
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
