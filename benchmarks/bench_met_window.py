"""Streamed met: the work of each met interval, on hourly 0.25 deg global files.

A run on met files reads one record per met interval, shifts its window of records
and hands the kernel a new WindGrid, which the numba kernel packs into its
node-interleaved layout (:func:`plumecast.transport.kernels_numba_3d._packed`). This
script writes ``--hours + 1`` hourly records with :mod:`bench_met_memory`'s writer (the
same synthetic ERA5-style files), then for each met interval times, side by side in one
process:

* the window (``RunWinds.grid_for``: the next record read and converted into the
  window's own memory, the window shifted);
* the same record read again into fresh arrays (``RunWinds._record``, as every record was
  read before session 20): fresh memory costs a page fault and the zeroing of each page;
* the kernel's packing of the new window (after the first, only its new record: the
  two packed records are a ring, ``swap`` alternates), and the whole window packed into
  memory of its own as before session 20 (``pack_wind``, ``pack_surface`` with ``out``);
* the same packing by NumPy's strided assignments of the transposed fields, the way the
  fields were packed before the compiled loops (``transport/packing.py``), into fresh
  arrays; checked equal to the kernel's.

With ``--run-particles N``, then a run on the same files (``runner.run``, numba, a puff
of N particles at two places, 10-minute steps, hourly output) and its wall time, kernel
time and time spent reading met in the loop.

Usage::

    python benchmarks/bench_met_window.py [--levels 3] [--hours 3] [--keep DIR] [--run-particles N]
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


def streamed_run(folder: Path, hours: int, particles: int) -> None:
    """A run on the files: wall time, kernel calls, met read in the loop (after a warm-up run)."""
    from plumecast.runner import run
    from plumecast.scenario import scenario_from_dict

    def scenario(**over: object) -> object:
        data = {"name": "streamed run", "start": "2026-01-15T00:00:00Z", "duration_h": hours, "time_step_s": 600,
                "particles": particles, "seed": 1, "backend": "numba", "deposition": "off",
                "releases": [{"type": "point", "lat": 48.0, "lon": 10.0, "height_m": 50, "amount_kg": 1000.0,
                              "duration_s": 0},
                             {"type": "point", "lat": -20.0, "lon": 140.0, "height_m": 1500, "amount_kg": 1000.0,
                              "duration_s": 0}],
                "output": {"grid": {"resolution_deg": 2.0}, "interval_min": 60},
                "met": {"source": "file", "path": str(folder / "*.nc")}}
        data.update(over)
        return scenario_from_dict(data)

    run(scenario(duration_h=1, particles=1000, met={"source": "uniform", "u_m_s": 5.0}))  # compile or load
    t = time.perf_counter()
    r = run(scenario())
    wall = time.perf_counter() - t
    ph = r.stats["phases_s"]
    steps = r.particle_steps
    print(f"run: {particles} particles, {hours} h: wall {wall:.2f} s, kernel calls {r.stats['kernel_s']:.2f} s "
          f"({steps / r.stats['kernel_s'] / 1e6:.1f} M particle-steps/s), met read in the loop "
          f"{ph.get('met records (in loop)', 0.0):.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, default=3, help="pressure levels per file (1000 hPa upwards)")
    ap.add_argument("--hours", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    ap.add_argument("--run-particles", type=int, default=0, help="then a run of this many particles on the files")
    args = ap.parse_args()
    import os

    from plumecast.run_winds import run_winds
    from plumecast.scenario import scenario_from_dict
    from plumecast.transport.kernels_numba_3d import _packed
    from plumecast.transport.windgrid import pack_surface, pack_wind

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
        full_w = full_s = None
        for h in range(args.hours):
            t0 = time.perf_counter()
            grid = winds.grid_for(h * 6, 6, 600.0)
            t1 = time.perf_counter()
            wf, sf, swap = _packed(grid)
            t2 = time.perf_counter()
            full_w = pack_wind(grid, records_inner=True, min_records=2, pad=8, out=full_w)
            full_s = pack_surface(grid, records_inner=True, min_records=2, out=full_s)
            t_full = time.perf_counter() - t2
            t4 = time.perf_counter()
            fresh = winds._record(h + 1)  # the window's newest record, into fresh arrays
            t_fresh = time.perf_counter() - t4
            assert np.array_equal(fresh.vec[0], grid.vec[-1])
            del fresh
            t2b = time.perf_counter()
            wf_np, sf_np = numpy_packing(grid)
            t3 = time.perf_counter()
            if swap:  # the kernel's ring of two records (only the new one packed): the other way round
                nz = grid.vec.shape[1]
                wf_np = np.concatenate([wf_np[:-8].reshape(grid.nlat, grid.nlon, nz, 2, 4)[:, :, :, ::-1].ravel(),
                                        wf_np[-8:]])
                sf_np = sf_np.reshape(grid.nlat, grid.nlon, 2, 8)[:, :, ::-1].ravel()
            same = np.array_equal(wf, wf_np) and np.array_equal(sf, sf_np)
            print(f"hour {h}: window {t1 - t0:6.3f} s (its record into fresh arrays {t_fresh:6.3f} s)  packing "
                  f"{t2 - t1:6.3f} s (the whole window {t_full:6.3f} s, {t_full / (t2 - t1):4.1f}x; NumPy assignments "
                  f"{t3 - t2b:6.3f} s, {(t3 - t2b) / (t2 - t1):5.1f}x; equal: {same}; swapped ring: {swap})  "
                  f"wind {grid.vec.shape} {grid.vec.nbytes / 2**20:.0f} MiB", flush=True)
            del wf_np, sf_np
        if args.run_particles:
            del winds, grid, wf, sf, full_w, full_s
            streamed_run(folder, args.hours, args.run_particles)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
