"""End-to-end time and peak memory of ``plumecast demo``.

Runs ``python -m plumecast demo`` in a fresh process and prints its wall time and
peak resident memory. Two modes:

* ``--plans`` (what ``plumecast demo`` does by default): the four plans of the
  story compared over the 20-member ensemble (imports, Dask workers, every member's
  transports, assessments, tables and maps included); target <= 60 s on 2 cores
  with warm caches.
* default (``plumecast demo --single``): one forecast with 1e6 particles (release,
  72 h of transport, consequence table, netCDF/CSV outputs and the PNG map).

    python benchmarks/bench_demo.py --plans              # the decision demo
    python benchmarks/bench_demo.py                      # 1e6 particles, numba
    python benchmarks/bench_demo.py --particles 1e7      # the memory check (<= 2 GB)
    python benchmarks/bench_demo.py --backend cuda --particles 1e7
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--particles", default="1e6")
    ap.add_argument("--backend", default="numba")
    ap.add_argument("--plans", action="store_true", help="the plan comparison (plumecast demo's default)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs after one warm-up run (JIT caches); 0: time the single run")
    args = ap.parse_args()
    n = int(float(args.particles))
    if args.plans:
        cmd = [sys.executable, "-m", "plumecast", "demo", "--backend", args.backend, "-q"]
    else:
        cmd = [sys.executable, "-m", "plumecast", "demo", "--single", "--particles", str(n), "--backend", args.backend,
               "-q"]
    walls = []
    for i in range(args.repeat + 1):
        load0 = os.getloadavg()[0]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            proc = subprocess.run([*cmd, "-o", out], capture_output=True, text=True)
            wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:])
            return 1
        label = "warm-up (JIT compile if not cached)" if i == 0 else f"run {i}"
        what = "4 plans x 20 members" if args.plans else f"{n:,} particles"
        # CPU of the demo and its (Dask worker) processes: tells a loaded machine from a slow run
        print(f"plumecast demo, {what}, backend {args.backend}, {label}: {wall:.1f} s end to end; CPU "
              f"{ru1.ru_utime - ru0.ru_utime:.1f} s user + {ru1.ru_stime - ru0.ru_stime:.1f} s system; "
              f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}")
        if i > 0 or args.repeat == 0:
            walls.append(wall)
    rss_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    print(f"best end-to-end time: {min(walls):.1f} s (target <= 60 s on 2 cores)")
    print(f"peak resident memory of the demo process: {rss_gb:.2f} GB (target <= 2 GB at 1e7 particles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
