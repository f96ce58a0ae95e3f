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

Where the folder holds plumecast's marker (:data:`plumecast.fileio.MARKER_NAME`), only
the files it lists are read: the latest set written there; a file the dashboard reads
that the marker does not list (left from earlier results: a comparison copied in
without its marker, or written before plumecast kept one) is not shown, and is named
as a problem ("not part of the latest results"). Without a marker, a run and a
comparison of different scenarios or release starts side by side are said to be so,
first among the problems.

The "% of AEGL-3" of a city follows :mod:`plumecast.consequence` (see
:mod:`plumecast.web.aegl`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
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
    from plumecast.fileio import MARKER_NAME, read_marker

    path = Path(root)
    if not path.is_dir():
        return f"{root}: not a folder; expected the output folder of plumecast run, demo or compare"
    if any((path / n).is_file() for n in (*RUN_FILES, *COMPARE_FILES, RECORD_FILE, LIVE_FILE)):
        return None
    # the command of the marker's set (one whose marker cannot be read is taken as a run's, as before)
    command = str((read_marker(path) or {}).get("command") or "run") if (path / MARKER_NAME).is_file() else None
    if command in ("run", "compare", "demo"):
        return None  # a set without a file the dashboard reads yet: the page says what is missing
    if command is not None or (path / "zones.geojson").is_file():
        # a folder of zones had been served as a dashboard with nothing on it (badinput audit, session 34)
        command = command or "zones"
        return (f"{root}: holds the output of plumecast {command}, which the dashboard does not show; expected a "
                "folder written by plumecast run, compare or demo"
                + ("; open zones.geojson or zones.kml in a map viewer (QGIS, Google Earth)" if command == "zones"
                   else ""))
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
        from plumecast.fileio import MARKER_NAME

        names = [*RUN_FILES, *COMPARE_FILES, RECORD_FILE, MARKER_NAME]
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
        from plumecast.fileio import MARKER_NAME, read_marker

        problems: list[str] = []
        if not self.root.is_dir():
            problems.append(f"{self.root}: is not a folder (moved or deleted?)")
            return Snapshot(self.root, sig, None, None, problems, time.time())
        marker = read_marker(self.root)
        listed = marker.get("files") if marker is not None else None
        if isinstance(listed, list):
            assert marker is not None
            shown, stray = _shown_and_stray(self.root, self._run_dirs(), {str(f) for f in listed})
            if stray:
                problems.append(
                    f"{', '.join(stray)}: not part of the latest results (those of plumecast "
                    f"{marker.get('command', '?')}, {marker.get('created', '?')}, listed in {MARKER_NAME}): left "
                    "from earlier results and not shown; remove them, or keep each set of results in its own folder")
            with _listed_only(self.root, shown if stray else None) as base:
                run, compare = self._read(base, problems)
        else:
            run, compare = self._read(self.root, problems)
            mixed = _mixed(run, compare)
            if mixed:
                problems.insert(0, mixed)
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

    def _read(self, base: Path, problems: list[str]) -> tuple[RunData | None, CompareData | None]:
        """The run and the comparison of the folder, read from ``base`` (the folder, or a
        view of it holding only the files its marker lists)."""
        run = load_run(base, "this run") if has_run_files(base) else None
        try:
            compare = load_compare(base)
        except OSError as exc:
            compare = None
            problems.append(f"comparison files cannot be read ({exc})")
        if base != self.root:  # the paths as they are in the folder, not in the view
            for rd in [run, *(compare.plan_runs.values() if compare is not None else [])]:
                if rd is not None:
                    rd.path = self.root / rd.path.relative_to(base)
            for obj in (run, compare, *(compare.plan_runs.values() if compare is not None else [])):
                if obj is not None:
                    obj.problems[:] = [p.replace(str(base), str(self.root)).replace(base.name, self.root.name)
                                       for p in obj.problems]
        return run, compare


def _shown_and_stray(root: Path, dirs: list[Path], listed: set[str]) -> tuple[set[str], list[str]]:
    """The files the dashboard reads in ``dirs`` (the folder and its plan folders), relative
    to ``root``: those to show and those the marker's list ``listed`` does not name. A plan
    folder the list says nothing of is judged by its own marker (a run written there), and
    shown whole without one (a plan folder put there by hand)."""
    from plumecast.fileio import read_marker

    shown: set[str] = set()
    stray: list[str] = []
    for base in dirs:
        sub = "" if base == root else f"{base.relative_to(root).as_posix()}/"
        allowed: set[str] | None = listed
        if sub and not any(f.startswith(sub) for f in listed):
            own = read_marker(base)
            files = own.get("files") if own is not None else None
            allowed = {f"{sub}{f}" for f in files} if isinstance(files, list) else None
        for name in (*RUN_FILES, *COMPARE_FILES, RECORD_FILE):
            rel = f"{sub}{name}"
            if not (base / name).is_file():
                continue
            if allowed is None or rel in allowed:
                shown.add(rel)
            else:
                stray.append(rel)
    return shown, stray


@contextlib.contextmanager
def _listed_only(root: Path, listed: set[str] | None) -> Iterator[Path]:
    """``root`` itself (``listed`` None), or a temporary folder that holds links to the
    files of ``root`` named in ``listed`` only (in their sub-folders), removed afterwards."""
    if listed is None:
        yield root
        return
    view = Path(tempfile.mkdtemp(prefix=".plumecast-view-"))
    try:
        for rel in sorted(listed):
            src, dst = root / rel, view / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                os.symlink(src, dst)
        yield view
    finally:
        shutil.rmtree(view, ignore_errors=True)


def _mixed(run: RunData | None, compare: CompareData | None) -> str | None:
    """A warning when a folder without a marker holds a run and a comparison of
    different scenarios or release starts (None when it does not, or cannot tell)."""
    if run is None or compare is None:
        return None
    scen = run.meta.get("scenario") if isinstance(run.meta, dict) else None
    name = scen.get("name") if isinstance(scen, dict) else None
    differ = []
    if isinstance(name, str) and compare.scenario is not None and name != compare.scenario:
        differ.append(f"scenario {name!r} and {compare.scenario!r}")
    if run.start is not None and compare.start is not None and run.start != compare.start:
        differ.append(f"release start {str(run.start)[:16].replace('T', ' ')} UTC and "
                      f"{str(compare.start)[:16].replace('T', ' ')} UTC")
    if not differ:
        return None
    return ("this folder holds the results of two different cases side by side, a run and a plan comparison ("
            + "; ".join(differ) + "), and no record (.plumecast-results.json) of which is the latest: the plan "
            "table is not that of the run's map; keep each set of results in its own folder")
