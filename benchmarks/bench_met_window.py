"""Streamed met: the work of each met interval, on hourly 0.25 deg global files.

A run on met files reads one record per met interval, shifts its window of records
and hands the kernel a new WindGrid, which the numba kernel packs into its
node-interleaved layout (:func:`plumecast.transport.kernels_numba_3d._packed`). This
script writes ``--hours + 1`` hourly records with :mod:`bench_met_memory`'s writer (the
same synthetic ERA5-style files), then for each met interval times, side by side in one
process:

* the window (``RunWinds.grid_for``: the next record read and converted, the window
  shifted);
* the kernel's packing of the new window;
* the same packing by NumPy's strided assignments of the transposed fields, the way the
  fields were packed before the compiled loops (``transport/packing.py``), into fresh
  arrays; checked equal to the kernel's.

Usage::

    python benchmarks/bench_met_window.py [--levels 3] [--hours 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_met_memory import write_set  # noqa: E402


def numpy_packing(wind):  # type: ignore[no-untyped-def]
    """The packed wind (flat, padded) and boundary-layer fields by NumPy assignments."""
    nt, nz, _, nlat, nlon = wind.vec.shape
    ntp = max(nt, 2)
    v = np.zeros((nlat, nlon, nz, ntp, 4), np.float32)
    view = v.transpose(3, 0, 1, 2, 4)
    for k in range(ntp):
        view[k, ..., :3] = wind.vec[min(k, nt - 1)].transpose(2, 3, 0, 1)
        if wind.w is not None:
            view[k, ..., 3] = wind.w[min(k, nt - 1)].transpose(1, 2, 0)
    wf = np.concatenate([v.ravel(), np.zeros(ntp * 4, np.float32)])
    nf = wind.surface.shape[1]
    s = np.zeros((nlat, nlon, ntp, 8), np.float32)
    sview = s.transpose(2, 0, 1, 3)
    for k in range(ntp):
        sview[k, ..., :nf] = wind.surface[min(k, nt - 1)].transpose(1, 2, 0)
        if wind.stomata is not None:
            sview[k, ..., nf:nf + 2] = wind.stomata[min(k, nt - 1)].transpose(1, 2, 0)
        if wind.dry_velocity is not None:
            sview[k, ..., nf] = wind.dry_velocity[min(k, nt - 1)]
        sview[k, ..., nf + 2] = 1.0 if wind.land is None else wind.land
    return wf, s.ravel()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, default=3, help="pressure levels per file (1000 hPa upwards)")
    ap.add_argument("--hours", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    args = ap.parse_args()
    import os

    from plumecast.run_winds import run_winds
    from plumecast.scenario import scenario_from_dict
    from plumecast.transport.kernels_numba_3d import _packed

    folder = args.keep or Path(tempfile.mkdtemp(prefix="plumecast-met-window-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if not list(folder.glob("era5_pl_*.nc")):
            write_set(folder, args.hours, args.levels)
        sc = scenario_from_dict({
            "name": "met window", "start": "2026-01-15T00:00:00Z", "duration_h": args.hours, "time_step_s": 600,
            "particles": 1000, "backend": "numba", "deposition": "off",
            "releases": [{"type": "point", "lat": 48.0, "lon": 10.0, "height_m": 50, "rate_kg_s": 1.0}],
            "met": {"source": "file", "path": str(folder / "*.nc")}})
        winds = run_winds(sc)
        print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} levels={args.levels} hours={args.hours}")
        for h in range(args.hours):
            t0 = time.perf_counter()
            grid = winds.grid_for(h * 6, 6, 600.0)
            t1 = time.perf_counter()
            wf, sf = _packed(grid)
            t2 = time.perf_counter()
            wf_np, sf_np = numpy_packing(grid)
            t3 = time.perf_counter()
            same = np.array_equal(wf, wf_np) and np.array_equal(sf, sf_np)
            print(f"hour {h}: window {t1 - t0:6.3f} s  packing {t2 - t1:6.3f} s  (NumPy assignments {t3 - t2:6.3f} s, "
                  f"{(t3 - t2) / (t2 - t1):5.1f}x; equal: {same})  wind {grid.vec.shape} "
                  f"{grid.vec.nbytes / 2**20:.0f} MiB", flush=True)
            del wf_np, sf_np
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
