"""Fixtures of the dashboard tests: a tiny run folder (a real run: few particles,
6 h, a regional grid around Tokyo) and a comparison folder built around it."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.scenario import scenario_from_dict

TINY = {
    "name": "tokyo-bay-test",
    "start": "2026-03-01T00:00:00Z",
    "duration_h": 6,
    "time_step_s": 600,
    "particles": 3000,
    "seed": 11,
    "agent": "chlorine",
    "met": {"source": "uniform", "u_m_s": 7.0, "v_m_s": 1.5},
    "releases": [{"type": "point", "lat": 35.45, "lon": 139.05, "height_m": 10, "rate_kg_s": 8000.0, "stop_h": 4,
                  "profile": [[0, 1.0], [4, 1.0]]}],
    "output": {"grid": {"lon_min": 136, "lon_max": 144, "lat_min": 33, "lat_max": 38, "resolution_deg": 0.25},
               "interval_min": 30},
    "receptors": {"cities": {"names": ["Tokyo", "Yokohama", "Chiba", "Shizuoka", "Kawasaki"]},
                  "points": [{"name": "Lighthouse", "lat": 35.2, "lon": 141.5}]},
    "shelter": {"air_changes_per_hour": 0.5, "compliance_fraction": 0.8},
}

PLANS = ["do nothing", "shelter from hour 1", "stop the release at hour 1"]


def build_run(outdir: Path) -> Path:
    """A real (tiny) run written the way ``plumecast run`` writes it."""
    from plumecast.cli.global_run import execute

    outdir.mkdir(parents=True, exist_ok=True)
    execute(scenario_from_dict(TINY), outdir, title="tiny", map_png=True, quiet=True)
    return outdir


def write_record(outdir: Path, issued: str | None = "2026-03-01T00:00:00Z") -> Path:
    """``comparison.json`` as ``plumecast.ensemble.summary_files.write_record`` writes it for the
    tiny scenario (release start 2026-03-01 00:00 UTC, issued at ``issued``)."""
    import json

    rec = {"format": "plumecast-comparison/1", "scenario": TINY["name"], "release_start": TINY["start"],
           "issued_at": issued, "duration_h": float(TINY["duration_h"]), "time_step_s": 600.0, "members": 4,
           "plans": PLANS, "baseline": PLANS[0]}
    path = outdir / "comparison.json"
    path.write_text(json.dumps(rec, indent=1) + "\n")
    return path


def build_compare(run_dir: Path, outdir: Path) -> Path:
    """A comparison folder in the format of ``plumecast.ensemble.summary_files.write_outputs``
    (decision table, per-city table, cost of delay, probability maps, comparison.json)
    with one plan folder, built around the tiny run (the dashboard's input, not model
    results)."""
    outdir.mkdir(parents=True, exist_ok=True)
    write_record(outdir)
    cons = xr.open_dataset(run_dir / "consequences.nc")
    names = [str(n) for n in cons["name"].values]
    fat = np.nan_to_num(np.asarray(cons["fatalities"].values, float), nan=0.0)
    a2 = (cons["first_exceedance_aegl2"].values - np.datetime64("2026-03-01T00:00")) / np.timedelta64(1, "h")
    a3 = (cons["first_exceedance_aegl3"].values - np.datetime64("2026-03-01T00:00")) / np.timedelta64(1, "h")
    cons.close()
    factor = {PLANS[0]: 1.0, PLANS[1]: 0.4, PLANS[2]: 0.05}
    base_total = max(float(fat.sum()), 1000.0)
    lines = ["plan,members,fatalities_p5,fatalities_median,fatalities_p95,lives_saved_p5,lives_saved_median,"
             "lives_saved_p95,receptors_unknown_max"]
    for p in PLANS:
        med = base_total * factor[p]
        saved = base_total - med
        lines.append(f'"{p}",4,{0.7 * med!r},{med!r},{1.4 * med!r},{0.7 * saved!r},{saved!r},{1.2 * saved!r},1')
    (outdir / "decision_table.csv").write_text("\n".join(lines) + "\n")
    head = ("city,plan,members,p_aegl2,p_aegl3,members_unknown,aegl2_arrival_h_min,aegl2_arrival_h_median,"
            "aegl2_arrival_h_max,aegl3_arrival_h_min,aegl3_arrival_h_median,aegl3_arrival_h_max,fatalities_p5,"
            "fatalities_median,fatalities_p95,front_arrival_h_min,front_arrival_h_median,front_arrival_h_max,"
            "p_front_before_aegl3,front_margin_h_median")
    rows = [head]
    for p in PLANS:
        f = factor[p]
        for n, x2, x3, ft in zip(names, a2, a3, fat, strict=True):
            h2 = "" if math.isnan(x2) else repr(float(x2) + (1.0 if f < 1 else 0.0))
            h3 = "" if (math.isnan(x3) or f < 0.1) else repr(float(x3) + 0.5)
            p2 = "0.0" if not h2 else repr(min(1.0, f + 0.2))
            p3 = "0.0" if not h3 else repr(min(1.0, f))
            front = "2.5,2.75,3.0" if p == PLANS[2] else ",,"
            rows.append(f"{n},{p},4,{p2},{p3},0,{h2},{h2},{h2},{h3},{h3},{h3},{0.7 * f * ft!r},{f * ft!r},"
                        f"{1.4 * f * ft!r},{front},,")
    (outdir / "cities.csv").write_text("\n".join(rows) + "\n")
    delay = ["plan,varied,time_h,fatalities_p5,fatalities_median,fatalities_p95"]
    for h in (0.0, 1.0, 2.0, 3.0, 4.0):
        med = base_total * (0.05 + 0.2 * h)
        delay.append(f"{PLANS[2]},termination,{h},{0.7 * med!r},{med!r},{1.4 * med!r}")
    (outdir / "cost_of_delay.csv").write_text("\n".join(delay) + "\n")
    conc = xr.open_dataset(run_dir / "concentration.nc")
    peak = np.asarray(conc["concentration"].max("time").values, float)
    lat, lon = conc["lat"].values, conc["lon"].values
    conc.close()
    hit = (peak > peak.max() * 1e-3).astype(float) if peak.max() > 0 else np.zeros_like(peak)
    data = np.stack([np.stack([hit * factor[p], hit * factor[p] * 0.5]) for p in PLANS])
    xr.Dataset({"probability": (("plan", "level", "lat", "lon"), data)},
               coords={"plan": PLANS, "level": ["AEGL-2", "AEGL-3"], "lat": lat, "lon": lon},
               attrs={"members": 4}).to_netcdf(outdir / "exceedance_probability.nc")
    # one plan with its own run folder (optional in a comparison)
    plan_dir = outdir / "plans" / "shelter_from_hour_1"
    plan_dir.mkdir(parents=True)
    for name in ("concentration.nc", "consequences.nc", "dashboard.json"):
        shutil.copy(run_dir / name, plan_dir / name)
    return outdir


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.mktemp("web_run"))


@pytest.fixture(scope="session")
def compare_dir(tmp_path_factory: pytest.TempPathFactory, run_dir: Path) -> Path:
    return build_compare(run_dir, tmp_path_factory.mktemp("web_compare"))


@pytest.fixture(scope="session")
def artefact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $PLUMECAST_ARTEFACTS if set, else the pytest tmp folder."""
    import os

    env = os.environ.get("PLUMECAST_ARTEFACTS")
    path = Path(env) if env else tmp_path_factory.getbasetemp() / "artefacts"
    path.mkdir(parents=True, exist_ok=True)
    return path
