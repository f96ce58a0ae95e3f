"""Progress of a run in progress, shared with the dashboard through the folder.

The command that runs the forecast (``plumecast run/demo --serve``, or any caller
of :func:`plumecast.runner.run` with ``progress=feed.progress``) writes
``live.json`` atomically after every output interval; the dashboard's server-sent
event stream (``/api/live``) watches that file. Going through the folder means
that ``plumecast serve`` started in another terminal sees the same progress, and
that the server itself never writes anything.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from plumecast.fileio import write_bytes_atomic
from plumecast.web.loader import LIVE_FILE

#: A "running" state older than this with no update is reported as stale. [s]
STALE_AFTER_S = 600.0
#: A "running" state whose process is not found on this machine is reported as stopped once it is this old. [s]
GONE_AFTER_S = 20.0


class LiveFeed:
    """Writes ``live.json`` for a run or comparison in progress.

    Parameters
    ----------
    outdir : the result folder (created if needed).
    title : what is running (shown on the page).
    """

    def __init__(self, outdir: str | Path, title: str = "") -> None:
        self.path = Path(outdir) / LIVE_FILE
        self.title = title
        self.t0 = time.time()
        self._write({"state": "starting"})

    def _write(self, data: dict[str, Any]) -> None:
        payload = {"title": self.title, "pid": os.getpid(), "host": socket.gethostname(), "started": self.t0,
                   "updated": time.time()} | data
        write_bytes_atomic(self.path, json.dumps(payload).encode("utf-8"))

    def progress(self, p: Any) -> None:
        """A :class:`plumecast.runner.Progress` (step, n_steps, sim_time, alive, particle_steps_per_s)."""
        self._write({
            "state": "running", "step": int(p.step), "n_steps": int(p.n_steps),
            "sim_time": str(p.sim_time)[:19] + "Z", "alive": int(p.alive),
            "particle_steps_per_s": float(p.particle_steps_per_s),
        })

    def message(self, text: str) -> None:
        """A phase without steps ("writing outputs", "member 3 of 20")."""
        self._write({"state": "running", "message": text})

    def members(self, done: int, total: int) -> None:
        """Progress of a comparison: ensemble members finished (``progress=lambda k, n: ...``)."""
        self._write({"state": "running", "step": int(done), "n_steps": int(total),
                     "message": f"{done} of {total} ensemble members done"})

    def done(self) -> None:
        self._write({"state": "done"})

    def failed(self, message: str) -> None:
        self._write({"state": "failed", "message": message})


def read_live(root: Path) -> dict[str, Any] | None:
    """The folder's live state, or None; a malformed file is reported, not raised."""
    path = root / LIVE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"state": "unknown", "message": f"{LIVE_FILE}: cannot be read ({exc})"}
    if not isinstance(data, dict):
        return {"state": "unknown", "message": f"{LIVE_FILE}: expected a JSON object"}
    updated = data.get("updated")
    if data.get("state") in ("starting", "running") and _process_gone(data):
        # killed (the out-of-memory killer, kill -9) without a word: said at once, not after STALE_AFTER_S of
        # "running" (situation-room audit, session 40)
        data["state"] = "stopped"
        data["message"] = (f"the run's process ({data.get('pid')}) is gone: it stopped without finishing "
                           "(killed, or out of memory)")
    elif data.get("state") in ("starting", "running") and isinstance(updated, int | float) \
            and time.time() - updated > STALE_AFTER_S:
        data["state"] = "stale"
        data["message"] = f"no progress for {int((time.time() - updated) / 60)} min: the run may have stopped"
    older = _older_results(root, data)
    if older:
        data["older_results"] = older
    return data


def _process_gone(data: dict[str, Any]) -> bool:
    """Whether the process that writes ``live.json`` is known to be gone: on this machine (its ``host``),
    no process with its ``pid``. Unknown (another machine, an older file without a host) is not gone."""
    pid = data.get("pid")
    if data.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    updated = data.get("updated")
    if isinstance(updated, int | float) and time.time() - updated < GONE_AFTER_S:
        return False  # written just now: a process in another PID namespace of the same host name, say
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: it exists
        return False
    return False


def _older_results(root: Path, data: dict[str, Any]) -> str:
    """What to say where the folder's results were written before the run that ``live.json`` describes
    started and that run has not finished: the page would show the earlier forecast's countdowns and
    casualties under the new run's name (situation-room audit, session 40: a rerun with --force --serve,
    and after it failed). '' otherwise."""
    from plumecast.fileio import read_marker

    if data.get("state") == "done" or not isinstance(data.get("started"), int | float):
        return ""
    marker = read_marker(root)
    if marker is None or not isinstance(marker.get("created"), str):
        return ""
    created = str(marker["created"])
    try:
        written = datetime.datetime.fromisoformat(created).timestamp()
    except ValueError:
        return ""
    if written + 1.0 >= float(data["started"]):  # 'created' is truncated to the second (review of session 40)
        return ""
    when = datetime.datetime.fromtimestamp(written, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    pending = "is still running and has not replaced them yet" if data.get("state") in ("starting", "running") \
        else "did not replace them"
    return (f"Not this run's forecast: the results shown are those of `plumecast {marker.get('command', '?')}` "
            f"written {when}, before this run started; this run {pending}.")


def live_signature(root: Path) -> tuple[int, int] | None:
    try:
        st = (root / LIVE_FILE).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
