"""Files a run writes for the dashboard beside its results.

``dashboard.json`` carries what the result files do not: the agent's AEGL table
(so the page can read AEGL-1/2/3 for the elapsed exposure duration, as
:mod:`plumecast.consequence` does) and the scenario's times. ``front_arrival.nc``
holds the neutralisation front's arrival time per output cell when the run had
a front. Both are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plumecast.fileio import atomic_path, write_bytes_atomic
from plumecast.web.run_folder import META_FILE

FORMAT = "plumecast-dashboard/1"


def _iso(value: Any) -> str:
    return str(value)[:19] + "Z"


def write_dashboard_files(result: Any, outdir: str | Path) -> list[Path]:
    """Write ``dashboard.json`` (and ``front_arrival.nc`` when the run had a front)
    for a :class:`plumecast.runner.RunResult`; returns the paths written."""
    outdir = Path(outdir)
    sc = result.scenario
    meta = {
        "format": FORMAT,
        "scenario": {
            "name": sc.name, "description": getattr(sc, "description", ""),
            "start": _iso(sc.start64), "issued": _iso(sc.issued64), "duration_h": float(sc.run_hours),
            "time_step_s": float(sc.time_step_s), "interval_min": float(sc.output.interval_min),
            "particles": int(result.stats.get("n_particles", sc.particles)), "backend": sc.backend,
        },
        "agent": result.agent.model_dump(mode="json"),
        # every term of the budget, so that it adds up (the deposited ones had been left out; outputs audit)
        # (deposition not modelled: null, not 0)
        "budget_kg": {k: (None if k.startswith("deposited") and result.deposited is None
                          else float(getattr(result.budget, k)))
                      for k in ("released", "airborne", "decayed", "exited", "neutralised", "deposited_dry",
                                "deposited_wet")},
        "wall_s": float(result.wall_s),
    }
    written = [write_bytes_atomic(outdir / META_FILE, json.dumps(meta, indent=1).encode("utf-8"))]
    if getattr(result, "front_arrival", None) is not None:
        path = outdir / "front_arrival.nc"
        with atomic_path(path) as tmp:
            result.front_arrival.to_dataset(name="front_arrival").to_netcdf(tmp)
        written.append(path)
    return written
