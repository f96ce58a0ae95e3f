"""Met reading: a 72 h run on hourly 0.25 deg global files holds only the records it needs.

Writes a synthetic ERA5-style (CDS netCDF) set of hourly global 0.25 deg files to a
temporary folder, one pair per hour (pressure levels: u, v, geopotential; single
levels: boundary-layer height and surface geopotential), each generated from an
analytic function of time when it is written, so the whole set is never in
memory. Then, in a fresh process, runs a 72 h forecast on it through
``plumecast.runner.run`` and reports the peak resident memory (``ru_maxrss``)
against the size of one met record and of all records, as the run holds them
(the WindGrid arrays: winds on the height levels, boundary-layer fields) and as
stored in the files.

Usage::

    python benchmarks/bench_met_memory.py [--levels 3] [--hours 72] [--keep DIR]

Needs about 45 MB of disk per hourly record with 3 levels (3.3 GB for 72 h); the
script checks the free space first and removes the files at the end (unless
``--keep``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LEVELS_HPA = (1000.0, 850.0, 700.0, 500.0, 300.0, 200.0)
G0 = 9.80665
RES_DEG = 0.25


def _fields(k: int, n_levels: int) -> dict[str, np.ndarray]:
    """Smooth global fields of hour ``k`` (float32), ERA5 CDS layout: latitude
    90 -> -90, longitude 0 .. 359.75."""
    from plumecast.met.levels import standard_atmosphere_height_m

    lat = np.linspace(90.0, -90.0, int(round(180 / RES_DEG)) + 1)
    lon = np.arange(0.0, 360.0, RES_DEG)
    la = np.deg2rad(lat)[:, None].astype(np.float32)
    lo = np.deg2rad(lon)[None, :].astype(np.float32)
    t = np.float32(k / 24.0)
    levels = np.array(LEVELS_HPA[:n_levels])
    z_isa = standard_atmosphere_height_m(levels)
    u = np.empty((1, n_levels, lat.size, lon.size), np.float32)
    v = np.empty_like(u)
    z = np.empty_like(u)
    wave = np.sin(3 * lo + 0.5 * t) * np.cos(la)
    for i, h in enumerate(z_isa):
        gh = np.float32(h) + np.float32(60.0) * wave * np.cos(2 * la)
        z[0, i] = gh * np.float32(G0)
        u[0, i] = np.float32(5.0 + 0.004 * h) * np.cos(la) + 3.0 * np.sin(2 * lo - t) * np.cos(la) ** 2
        v[0, i] = 2.0 * np.cos(3 * la + t) * np.sin(lo) * np.cos(la)
    blh = (700.0 + 500.0 * np.sin(lo + 2 * np.pi * t) ** 2 * np.cos(la) ** 2).astype(np.float32)[None]
    zs = (np.float32(G0) * 200.0 * (1 + np.sin(4 * lo) * np.cos(5 * la)) * np.cos(la) ** 4).astype(np.float32)[None]
    return {"lat": lat, "lon": lon, "levels": levels, "u": u, "v": v, "z": z, "blh": blh, "zs": zs}


def write_set(folder: Path, hours: int, n_levels: int) -> list[Path]:
    """One pressure-level and one single-level file per hour, written one at a time."""
    import xarray as xr

    t0 = np.datetime64("2026-01-15T00:00", "ns")
    paths: list[Path] = []
    for k in range(hours + 1):
        f = _fields(k, n_levels)
        when = np.array([t0 + np.timedelta64(k, "h")])
        coords = {"valid_time": when, "latitude": f["lat"], "longitude": f["lon"]}
        pdims = ("valid_time", "pressure_level", "latitude", "longitude")
        pl = xr.Dataset(
            {"u": (pdims, f["u"], {"units": "m s**-1", "standard_name": "eastward_wind"}),
             "v": (pdims, f["v"], {"units": "m s**-1", "standard_name": "northward_wind"}),
             "z": (pdims, f["z"], {"units": "m**2 s**-2", "standard_name": "geopotential"})},
            coords={**coords, "pressure_level": ("pressure_level", f["levels"], {"units": "hPa"})},
        )
        sdims = ("valid_time", "latitude", "longitude")
        sl = xr.Dataset({"blh": (sdims, f["blh"], {"units": "m"}), "z": (sdims, f["zs"], {"units": "m**2 s**-2"})},
                        coords=coords)
        for kind, ds in (("pl", pl), ("sl", sl)):
            path = folder / f"era5_{kind}_{k:03d}.nc"
            ds.to_netcdf(path)
            paths.append(path)
        del f, pl, sl
    return paths


def _run_child(folder: str, hours: int, backend: str) -> dict[str, float]:
    """In a fresh process: warm up the kernels, then the 72 h run; memory figures."""
    from plumecast.run_winds import record_bytes, run_winds
    from plumecast.runner import run
    from plumecast.scenario import scenario_from_dict

    def scenario(**over: object) -> object:
        data = {"name": "met memory", "start": "2026-01-15T00:00:00Z", "duration_h": hours, "time_step_s": 900,
                "particles": 20000, "seed": 1, "backend": backend, "deposition": "off",
                "releases": [{"type": "point", "lat": 48.0, "lon": 10.0, "height_m": 50, "rate_kg_s": 1.0},
                             {"type": "point", "lat": -20.0, "lon": 140.0, "height_m": 1500, "rate_kg_s": 1.0}],
                "output": {"grid": {"resolution_deg": 2.0}, "interval_min": 180}}
        data.update(over)
        return scenario_from_dict(data)

    run(scenario(duration_h=1, met={"source": "uniform", "u_m_s": 5.0}))  # warm up (numba: compile)
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sc = scenario(met={"source": "file", "path": os.path.join(folder, "*.nc")})
    winds = run_winds(sc)
    one = record_bytes(winds.first_grid())
    n_records = winds.n_records
    del winds
    t = time.perf_counter()
    r = run(sc)
    wall = time.perf_counter() - t
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"baseline_rss_mib": base_kib / 1024, "peak_rss_mib": peak_kib / 1024,
            "record_mib": one / 2**20, "n_records": n_records, "all_records_mib": one * n_records / 2**20,
            "records_read": r.stats["met_records_read"], "window_records": r.stats["met_window_records"],
            "wall_s": wall, "met_s": r.stats["phases_s"].get("met records (in loop)", 0.0),
            "residual": r.budget.residual / r.budget.released}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, default=3, help="pressure levels per file (1000 hPa upwards)")
    ap.add_argument("--hours", type=int, default=72)
    ap.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    ap.add_argument("--backend", default="numpy", help="transport backend (memory does not depend on it)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(_run_child(args.child, args.hours, args.backend)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="plumecast-met-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    cells = int(round(180 / RES_DEG) + 1) * int(round(360 / RES_DEG))
    need = (args.hours + 1) * cells * 4 * (3 * args.levels + 2) * 1.05
    free = shutil.disk_usage(folder).free
    if need > 0.5 * free:
        sys.exit(f"the files need about {need / 2**30:.1f} GiB but {folder} has {free / 2**30:.1f} GiB free; "
                 "use fewer --levels or --hours")
    try:
        t = time.perf_counter()
        paths = write_set(folder, args.hours, args.levels)
        on_disk = sum(p.stat().st_size for p in paths)
        print(f"wrote {len(paths)} files ({args.hours + 1} hourly records, {args.levels} pressure levels, "
              f"0.25 deg global) = {on_disk / 2**30:.2f} GiB in {time.perf_counter() - t:.0f} s", flush=True)
        out = subprocess.run([sys.executable, __file__, "--child", str(folder), "--hours", str(args.hours),
                              "--backend", args.backend], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"the run failed:\n{out.stderr[-3000:]}")
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["files_gib"] = on_disk / 2**30
        print(json.dumps(res, indent=1))
        grow = res["peak_rss_mib"] - res["baseline_rss_mib"]
        print(f"peak RSS {res['peak_rss_mib']:.0f} MiB (baseline after imports and a warm-up run "
              f"{res['baseline_rss_mib']:.0f} MiB, so the run added {grow:.0f} MiB); one record as the run holds "
              f"it {res['record_mib']:.0f} MiB, all {res['n_records']} records {res['all_records_mib']:.0f} MiB "
              f"({res['files_gib']:.2f} GiB in the files); records read {res['records_read']}, at most "
              f"{res['window_records']} in one window; run {res['wall_s']:.0f} s of which met reading "
              f"{res['met_s']:.0f} s")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
