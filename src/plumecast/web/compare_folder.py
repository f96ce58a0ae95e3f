"""Read the files of ``plumecast compare`` (:mod:`plumecast.ensemble.summary`):
``decision_table.csv`` (one row per plan), ``cities.csv`` (one row per city and
plan), ``cost_of_delay.csv``, ``exceedance_probability.nc`` (plan, level, lat,
lon) and, optionally, one run-like folder per plan (``<root>/<plan>/`` or
``<root>/plans/<plan>/``, matched by name). What cannot be read becomes a problem.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.web.encode import fraction_bytes, grid_box, north_up, parse_float, safe_name
from plumecast.web.run_folder import RunData, has_run_files, load_run

COMPARE_FILES = ("decision_table.csv", "cities.csv", "cost_of_delay.csv", "exceedance_probability.nc")


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
    rows = list(reader)
    for k, row in enumerate(rows):
        if None in row or any(v is None for v in row.values()):
            raise ValueError(f"line {k + 2} has {len(row) - (1 if None in row else 0)} fields, "
                             f"expected {len(reader.fieldnames)} (truncated or being written?)")
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
                order = np.argsort(lon)
                for i, plan in enumerate(np.asarray(ds["plan"].values)):
                    for j, level in enumerate(np.asarray(ds["level"].values)):
                        grid = north_up(np.asarray(da.values[i, j], float)[:, order], lat)
                        cd.probability.setdefault(str(plan), {})[str(level)] = fraction_bytes(grid)
                cd.prob_grid = grid_box(lat, lon)
                if cd.members is None and "members" in ds.attrs:
                    cd.members = int(ds.attrs["members"])
        except Exception as exc:
            cd.problems.append(f"exceedance_probability.nc: cannot be read ({type(exc).__name__}: {exc})")
    for plan in cd.plans:
        d = _plan_dir(root, plan["name"])
        if d is not None:
            cd.plan_runs[plan["name"]] = load_run(d, plan["name"])
    return cd


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
