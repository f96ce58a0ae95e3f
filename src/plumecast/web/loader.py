"""Read a plumecast output folder into what the dashboard shows.

Nothing here imports FastAPI: the loader is plain numpy/xarray and is tested on
its own. A folder is read once and kept in memory until one of its result files
changes (size or modification time), so hundreds of polling clients cost a few
``stat`` calls per second, not a re-read.

What a folder may hold (every file is optional; what is missing is reported as a
*problem*, never guessed and never shown as zero):

``run`` / ``demo`` (:func:`plumecast.runner.write_outputs`, ``consequence``; read by
:mod:`plumecast.web.run_folder`)
    ``concentration.nc`` (time, lat, lon), ``consequences.nc`` (per receptor:
    population, first exceedance of each AEGL, fatalities, the per-step outdoor
    and indoor series), ``receptors.csv`` (per-step series only),
    ``dashboard.json`` (:mod:`plumecast.web.export`: the agent's AEGL table and
    the scenario's times), ``front_arrival.nc`` (neutralisation front).
``compare`` (:mod:`plumecast.ensemble.summary_files`; read by :mod:`plumecast.web.compare_folder`)
    ``decision_table.csv`` (one row per plan), ``cities.csv`` (one row per city
    and plan), ``cost_of_delay.csv``, ``exceedance_probability.nc``
    (plan, level, lat, lon), ``comparison.json`` (the release start and the
    forecast's issue time; absent in older folders) and, optionally, one run-like folder per plan
    (``<root>/<plan>/`` or ``<root>/plans/<plan>/``, matched by name).

The "% of AEGL-3" of a city follows :mod:`plumecast.consequence` (see
:mod:`plumecast.web.aegl`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumecast.web.compare_folder import COMPARE_FILES, RECORD_FILE, CompareData, load_compare
from plumecast.web.run_folder import RUN_FILES, RunData, has_run_files, load_run

__all__ = ["LIVE_FILE", "RESTAT_S", "Folder", "FolderProblem", "Snapshot", "not_a_result_folder"]

LIVE_FILE = "live.json"
#: Seconds a folder's signature is trusted before its files are stat'ed again.
RESTAT_S = 1.0


class FolderProblem(Exception):
    """A request cannot be answered from the folder as it is (missing or unreadable file)."""


@dataclass
class Snapshot:
    """The folder as read at one moment: its run, its comparison, the views and problems."""

    root: Path
    signature: tuple[Any, ...]
    run: RunData | None
    compare: CompareData | None
    problems: list[str]
    loaded_at: float
    views: dict[str, RunData | None] = field(default_factory=dict)  # view id -> run data (None: table only)
    cache: dict[str, Any] = field(default_factory=dict)  # answers built from this snapshot (JSON bytes...)

    def cached(self, key: str, make: Any) -> Any:
        """``make()`` once per snapshot (a changed folder is a new snapshot)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    @property
    def usable(self) -> bool:
        return bool((self.run and self.run.usable) or (self.compare and self.compare.usable))


def not_a_result_folder(root: str | Path) -> str | None:
    """Why ``root`` is no folder of plumecast results, in one line (None when it is one).

    A result folder holds, in itself, at least one file the dashboard reads
    (``RUN_FILES``, ``COMPARE_FILES``, ``comparison.json``), a live run's ``live.json``
    or the marker plumecast writes with every output set (a comparison's plan folders
    count only beside its tables, so the parent of a run folder is none).
    ``plumecast serve`` refuses any other folder at start (``/tmp``, the parent of the
    results) instead of serving a page with nothing on it."""
    from plumecast.fileio import MARKER_NAME

    path = Path(root)
    if not path.is_dir():
        return f"{root}: not a folder; expected the output folder of plumecast run, demo or compare"
    if any((path / n).is_file() for n in (*RUN_FILES, *COMPARE_FILES, RECORD_FILE, LIVE_FILE, MARKER_NAME)):
        return None
    return (f"{root}: holds no plumecast results: expected a folder written by plumecast run or demo "
            f"({', '.join(RUN_FILES[:2])}, {RUN_FILES[-1]}) or by plumecast compare "
            f"({', '.join(COMPARE_FILES[:2])}); with --wait it is served anyway and shows the results "
            "once a run writes them")


class Folder:
    """A result folder, re-read when its files change; thread-safe."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._checked = 0.0

    def signature(self) -> tuple[Any, ...]:
        names = [*RUN_FILES, *COMPARE_FILES, RECORD_FILE]
        sig: list[Any] = []
        for base in self._run_dirs():
            for n in names:
                try:
                    st = (base / n).stat()
                    sig.append((str(base), n, st.st_size, st.st_mtime_ns))
                except OSError:
                    continue
        return tuple(sig)

    def _run_dirs(self) -> list[Path]:
        out = [self.root]
        try:
            for base in (self.root, self.root / "plans"):
                if base.is_dir():
                    out += sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")
                                  and not d.is_symlink())
        except OSError:
            pass
        return out

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        snap = self._snap
        if snap is not None and now - self._checked < RESTAT_S:
            return snap
        with self._lock:
            if self._snap is not None and time.monotonic() - self._checked < RESTAT_S:
                return self._snap
            sig = self.signature()
            if self._snap is None or self._snap.signature != sig:
                self._snap = self._load(sig)
            self._checked = time.monotonic()
            return self._snap

    def _load(self, sig: tuple[Any, ...]) -> Snapshot:
        problems: list[str] = []
        if not self.root.is_dir():
            problems.append(f"{self.root}: is not a folder (moved or deleted?)")
            return Snapshot(self.root, sig, None, None, problems, time.time())
        run = load_run(self.root, "this run") if has_run_files(self.root) else None
        try:
            compare = load_compare(self.root)
        except OSError as exc:
            compare = None
            problems.append(f"comparison files cannot be read ({exc})")
        if run is None and compare is None:
            problems.append(
                f"{self.root}: holds no plumecast results yet: expected the files of 'plumecast run'/'demo' "
                "(concentration.nc, consequences.nc, receptors.csv) or of 'plumecast compare' "
                "(decision_table.csv, cities.csv, exceedance_probability.nc)")
        snap = Snapshot(self.root, sig, run, compare, problems, time.time())
        if run is not None:
            snap.views["run"] = run
        if compare is not None:
            for k, plan in enumerate(compare.plans):
                snap.views[f"plan{k}"] = compare.plan_runs.get(plan["name"])
        return snap
