"""Transport kernel throughput: particle-steps per second on the benchmark workload.

Global 1 deg grid (``plumecast.met.benchmark_wind(1.0)``), particles uniform between
60S and 60N, 144 steps of 600 s, midpoint RK2, with and without K_h = 1e4 m2/s.
Median of ``--reps`` repetitions (JIT compilation excluded); numpy is timed at 1e5
particles only. Usage: ``python benchmarks/bench_transport.py [--sizes 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from plumecast.met import benchmark_wind
from plumecast.transport import trajectories
from plumecast.transport.particles import BYTES_PER_PARTICLE
from plumecast.transport.windgrid import wind_grid


def bench(backend: str, n: int, kh: float, steps: int, reps: int) -> float:
    grid = wind_grid(benchmark_wind(1.0))
    rng = np.random.default_rng(0)
    lon = rng.uniform(-180, 180, n)
    lat = rng.uniform(-60, 60, n)
    trajectories(lon[:100], lat[:100], grid, dt_s=600, n_steps=2, kh_m2_s=kh, backend=backend)  # compile
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        trajectories(lon, lat, grid, dt_s=600, n_steps=steps, kh_m2_s=kh, backend=backend)
        times.append(time.perf_counter() - t0)
    return n * steps / float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--steps", type=int, default=144)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} steps={a.steps} reps={a.reps} (median)")
    print(f"memory per particle: {BYTES_PER_PARTICLE} bytes (state; the kernel adds no per-particle arrays)")
    for kh in (0.0, 1e4):
        for n in a.sizes:
            numba_rate = bench("numba", n, kh, a.steps, a.reps)
            line = f"kh={kh:8.0f} n={n:>9d}  numba {numba_rate / 1e6:7.2f} M particle-steps/s"
            if n <= 100_000:
                numpy_rate = bench("numpy", n, kh, a.steps, a.reps)
                line += f"  numpy {numpy_rate / 1e6:7.2f} M/s  numba/numpy {numba_rate / numpy_rate:6.1f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
