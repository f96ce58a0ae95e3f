"""Read the files of ``plumecast compare`` (:mod:`plumecast.ensemble.summary_files`):
``decision_table.csv`` (one row per plan), ``cities.csv`` (one row per city and
plan), ``cost_of_delay.csv``, ``exceedance_probability.nc`` (plan, level, lat,
lon), ``comparison.json`` (the release start and the forecast's issue time; a
comparison written before it has none, and its countdowns can then only run from the
release start) and, optionally, one run-like folder per plan (``<root>/<plan>/`` or
``<root>/plans/<plan>/``, matched by name). What cannot be read becomes a problem.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.concentration import lon_order
from plumecast.web.encode import fraction_bytes, grid_box, north_up, parse_float, safe_name
from plumecast.web.run_folder import RunData, has_run_files, load_run

COMPARE_FILES = ("decision_table.csv", "cities.csv", "cost_of_delay.csv", "exceedance_probability.nc")
#: The comparison's times (``plumecast.ensemble.summary_files.RECORD_FILE``); not in
#: :data:`COMPARE_FILES`: alone it is no comparison.
RECORD_FILE = "comparison.json"
#: Why a plan shown from its table counts from the release start (no issue time recorded).
NO_ISSUE_TIME = ("the comparison's files do not record the forecast's issue time (no comparison.json: written "
                 "before plumecast recorded it); see decision_table.md for it")


@dataclass
class CompareData:
    """A comparison folder: the plans, their per-city rows, the cost of delay and the
    probability maps (as bytes), and the plans' own run folders where written."""

    plans: list[dict[str, Any]] = field(default_factory=list)
    cities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    delay: list[dict[str, Any]] = field(default_factory=list)
    probability: dict[str, dict[str, NDArray[np.uint8]]] = field(default_factory=dict)
    prob_grid: dict[str, Any] | None = None
    members: int | None = None
    plan_runs: dict[str, RunData] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: the release start and the forecast's issue time (``comparison.json``); None: not recorded
    start: np.datetime64 | None = None
    issued: np.datetime64 | None = None
    duration_h: float | None = None
    #: the scenario's name (``comparison.json``), for the page's title
    scenario: str | None = None
    #: why the issue time is unknown (None: it is known)
    issued_unknown: str | None = NO_ISSUE_TIME
    #: the plan with the fewest expected deaths against the next, in words (``comparison.json``'s ``ranking``)
    ranking: str | None = None
    #: the agent's probit sets the intervals of people also span (``comparison.json``; []: one set, or not recorded)
    probit_sets: list[str] = field(default_factory=list)
    #: decision_table.md's sentence on the plans timed before the forecast's issue (``comparison.json``'s
    #: ``timed_before_issue_note``, else read from decision_table.md); None: there are none, or not recorded
    past_note: str | None = None
    #: the plans timed before the issue (``comparison.json``'s ``timed_before_issue``); None: not recorded
    past_plans: list[str] | None = None
    #: the hours after the release start at which the first release begins (None: not recorded)
    releases_begin_h: float | None = None
    #: each plan's own termination / front ignition time, hours after the release start
    measure_times_h: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def issued_s(self) -> float | None:
        """The issue time in seconds after the release start; None when not recorded."""
        if self.start is None or self.issued is None:
            return None
        return float((self.issued - self.start) / np.timedelta64(1, "s"))

    @property
    def usable(self) -> bool:
        return bool(self.plans)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV table with a header line (``#`` lines skipped); ValueError when
    it is empty or a line is short (truncated or still being written)."""
    text = path.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    if not lines:
        raise ValueError("the file is empty")
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if not reader.fieldnames:
        raise ValueError("no header line")
    kept = [k + 1 for k, ln in enumerate(text.splitlines()) if not ln.startswith("#")]  # line numbers in the file
    rows = []
    for row in reader:
        if None in row or any(v is None for v in row.values()):
            # DictReader fills a short line with None and puts a long line's extra fields under None:
            # count the fields the line really has
            n = sum(1 for k, v in row.items() if k is not None and v is not None) + len(row.get(None) or [])
            line = kept[min(reader.line_num, len(kept)) - 1]
            raise ValueError(f"line {line} has {n} fields, expected {len(reader.fieldnames)} "
                             "(truncated or being written?)")
        rows.append(row)
    return rows


def load_compare(root: Path) -> CompareData | None:
    """Read the comparison files of ``root``; None when it has none."""
    if not any((root / n).is_file() for n in COMPARE_FILES):
        return None
    cd = CompareData()
    f = root / "decision_table.csv"
    if f.is_file():
        try:
            for r in read_csv_rows(f):
                if not r.get("plan"):
                    raise ValueError("a row has no 'plan'")
                cd.plans.append({
                    "name": r["plan"], "members": parse_float(r.get("members")),
                    "fatalities": [parse_float(r.get(f"fatalities_{k}")) for k in ("p5", "median", "p95")],
                    "lives_saved": [parse_float(r.get(f"lives_saved_{k}")) for k in ("p5", "median", "p95")],
                    "receptors_unknown": parse_float(r.get("receptors_unknown_max")),
                    # receptors where the plan changes the exposure but the deaths are unknown: its lives
                    # saved leave them out (never a bare 0 there)
                    "saved_unknown": parse_float(r.get("receptors_saved_unknown_max")),
                    "baseline": (str(r["baseline"]).strip().lower() in ("true", "1", "yes")) if "baseline" in r
                    else not cd.plans,  # older tables: the baseline is the first row
                    "particles_per_member": parse_float(r.get("particles_per_member")),
                })
            if cd.plans and math.isfinite(cd.plans[0]["members"]):
                cd.members = int(cd.plans[0]["members"])
        except (OSError, ValueError, KeyError) as exc:
            cd.problems.append(f"decision_table.csv: cannot be read ({exc}); no plan comparison")
            cd.plans = []
    else:
        cd.problems.append("decision_table.csv: missing; the plans cannot be compared")
    f = root / "cities.csv"
    if f.is_file():
        try:
            for r in read_csv_rows(f):
                cd.cities.setdefault(r.get("plan", ""), []).append(r)
        except (OSError, ValueError) as exc:
            cd.problems.append(f"cities.csv: cannot be read ({exc}); no per-city figures for the plans")
    elif cd.plans:
        cd.problems.append("cities.csv: missing; no per-city figures for the plans")
    f = root / "cost_of_delay.csv"
    if f.is_file():
        try:
            cd.delay = [{"plan": r.get("plan", ""), "varied": r.get("varied", ""), "time_h": parse_float(r.get("time_h")),
                         "p5": parse_float(r.get("fatalities_p5")), "median": parse_float(r.get("fatalities_median")),
                         "p95": parse_float(r.get("fatalities_p95"))} for r in read_csv_rows(f)]
        except (OSError, ValueError) as exc:
            cd.problems.append(f"cost_of_delay.csv: cannot be read ({exc})")
    f = root / "exceedance_probability.nc"
    if f.is_file():
        try:
            with xr.open_dataset(f) as ds:
                da = ds["probability"].transpose("plan", "level", "lat", "lon")
                lat, lon = np.asarray(ds["lat"].values, float), np.asarray(ds["lon"].values, float)
                order = lon_order(lon)[0]  # west to east, in one piece across 180
                for i, plan in enumerate(np.asarray(ds["plan"].values)):
                    for j, level in enumerate(np.asarray(ds["level"].values)):
                        grid = north_up(np.asarray(da.values[i, j], float)[:, order], lat)
                        cd.probability.setdefault(str(plan), {})[str(level)] = fraction_bytes(grid)
                cd.prob_grid = grid_box(lat, lon)
                if cd.members is None and "members" in ds.attrs:
                    cd.members = int(ds.attrs["members"])
        except Exception as exc:
            cd.problems.append(f"exceedance_probability.nc: cannot be read ({type(exc).__name__}: {exc})")
    readable = _load_record(root / RECORD_FILE, cd)
    _timed_before_issue(root, cd)
    for plan in cd.plans:
        d = _plan_dir(root, plan["name"])
        if d is not None:
            cd.plan_runs[plan["name"]] = load_run(d, plan["name"])
    if readable and cd.issued_unknown is not None and any(p["name"] not in cd.plan_runs for p in cd.plans):
        cd.problems.append(f"{RECORD_FILE}: {'missing' if not (root / RECORD_FILE).is_file() else 'incomplete'}; "
                           "the countdowns of plans shown from their tables run from the release start, not "
                           "from the forecast's issue time, which is unknown (see decision_table.md)")
    return cd


def table_seconds(h: float) -> float:
    """Seconds after the release start of an hour figure of ``cities.csv``.

    The tables write arrival hours rounded down to 0.01 h
    (:func:`plumecast.ensemble.summary.file_rows`), and ``decision_table.md`` counts from the
    same rounded time, so the page's countdowns are the table's. (Until session 31 the hours
    were rounded down to the time step and read back as the step's time; the arrivals are
    now the earliest the air can reach a level, off the step grid, and the page read 1-3 min
    earlier than the table.) NaN stays NaN.

    >>> table_seconds(0.66), table_seconds(-0.34), math.isnan(table_seconds(math.nan))
    (2376.0, -1224.0, True)
    """
    if not math.isfinite(h):
        return math.nan
    return round(h * 3600.0, 6)


def _utc(value: Any) -> np.datetime64 | None:
    """An ISO 8601 UTC time (``...Z`` or ``+00:00``) as datetime64[ns]; None for null;
    ValueError for anything else."""
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1]
    elif text.endswith("+00:00"):
        text = text[:-6]
    else:
        raise ValueError(f"{value!r} is not a UTC time (expected ISO 8601 ending in Z)")
    t = np.datetime64(text, "ns")
    if np.isnat(t):
        raise ValueError(f"{value!r} is not a time")
    return t


def _load_record(path: Path, cd: CompareData) -> bool:
    """The release start and the issue time of ``comparison.json``, when it has them;
    False when the file is there but cannot be read (a problem, said here)."""
    if not path.is_file():
        return True
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rec, dict):
            raise ValueError("expected a JSON object")
        start, issued = _utc(rec.get("release_start")), _utc(rec.get("issued_at"))
        dur = parse_float(rec.get("duration_h"))
    except (OSError, ValueError) as exc:
        cd.issued_unknown = f"{RECORD_FILE} cannot be read; see decision_table.md for the issue time"
        cd.problems.append(f"{RECORD_FILE}: cannot be read ({exc}); the countdowns of plans shown from their "
                           "tables run from the release start, not from the forecast's issue time")
        return False
    cd.start = start
    cd.duration_h = dur if math.isfinite(dur) and dur > 0 else None
    name = rec.get("scenario")
    cd.scenario = (name.strip() or None) if isinstance(name, str) else None
    ranking = rec.get("ranking")
    cd.ranking = ranking if isinstance(ranking, str) and ranking.strip() else None
    sets = rec.get("probit_sets")
    cd.probit_sets = [str(v) for v in sets] if isinstance(sets, list) else []
    past, note = rec.get("timed_before_issue"), rec.get("timed_before_issue_note")
    if isinstance(past, list) and all(isinstance(v, str) for v in past):
        cd.past_plans = list(past)
        cd.past_note = note.strip() if isinstance(note, str) and note.strip() else None
    begin = parse_float(rec.get("releases_begin_h"))
    cd.releases_begin_h = begin if math.isfinite(begin) and begin >= 0 else None
    own = rec.get("measure_times_h")
    if isinstance(own, dict):
        for plan, times in own.items():
            if isinstance(times, dict):
                ok = {str(k): parse_float(v) for k, v in times.items()}
                cd.measure_times_h[str(plan)] = {k: v for k, v in ok.items() if math.isfinite(v)}
    if start is not None and issued is not None:
        cd.issued = issued
        cd.issued_unknown = None
    else:
        cd.issued_unknown = (f"{RECORD_FILE} gives no " + ("release start" if start is None else "issue time")
                             + "; see decision_table.md for the issue time")
    return True


#: how decision_table.md begins its sentence on the plans timed before the issue
#: (:func:`plumecast.ensemble.plan_checks.past_measures_note`)
PAST_NOTE_START = "Timed before the forecast's issue ("


def _timed_before_issue(root: Path, cd: CompareData) -> None:
    """Mark the plans timed before the forecast's issue (``before_issue``): from ``comparison.json``, or, for a
    comparison written before it recorded them, from decision_table.md's sentence (the plans it quotes)."""
    if cd.past_plans is None:
        try:
            md = (root / "decision_table.md").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            md = ""
        at = md.find(PAST_NOTE_START)
        if at >= 0:
            end = md.find("not an option", at)
            cd.past_note = md[at:end + len("not an option")] if end >= 0 else None
            cd.past_plans = [p["name"] for p in cd.plans if cd.past_note and f"{p['name']!r} (" in cd.past_note]
    for p in cd.plans:
        p["before_issue"] = bool(cd.past_plans and p["name"] in cd.past_plans)
        p["own_times_h"] = cd.measure_times_h.get(p["name"], {})


def _plan_dir(root: Path, plan: str) -> Path | None:
    """A plan's own run-like folder, if the comparison wrote one (optional)."""
    for base in (root / "plans", root):
        for name in (plan, safe_name(plan)):
            if not name or name.startswith(".") or "/" in name or name in (".", ".."):
                continue
            d = base / name
            try:
                if d.is_dir() and not d.is_symlink() and d.resolve().is_relative_to(root.resolve()) \
                        and has_run_files(d):
                    return d
            except OSError:
                continue
    return None
