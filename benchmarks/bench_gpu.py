"""GPU benchmark of the CUDA backend on the peers' workload.

Workload: global 1 deg grid (181 x 360), u = 20 cos(lat), v = 5 sin(2 lon) cos(lat)
[m s-1] (``plumecast.met.benchmark_wind``), particles uniform between 60 S and 60 N,
144 steps of 600 s, midpoint RK2, with and without K_h = 1e4 m2 s-1. Full
plumecast particle state on the device (lon, lat float64; z float32; mass float64;
birth step int32; status int8: 33 bytes per particle).

Memory-traffic model (bytes per particle-step): one kernel call reads the state
(33 B) and writes lon, lat, z, mass (28 B) = 61 B per particle per call; with S
steps fused in one call that is 61 / S bytes per particle-step. The wind field
(0.8 MB) stays in L2. The bandwidth bound for one step per launch is therefore
HBM bandwidth / 61 B.

Prints particle-steps per second (median of 3) for each variant and N; the timing
includes sorting the particles by grid cell on the device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1e6,1e7,1e8")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import cupy as cp

    from plumecast.met import benchmark_wind
    from plumecast.transport.kernels_cuda import get_backend
    from plumecast.transport.kernels_numpy import StepPhysics
    from plumecast.transport.particles import Particles
    from plumecast.transport.windgrid import wind_grid

    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    # peak DRAM bandwidth from the memory clock and bus width (DDR: x2)
    bw = 2.0 * props["memoryClockRate"] * 1e3 * props["memoryBusWidth"] / 8.0
    print(f"device: {name}, {props['multiProcessorCount']} SMs, theoretical DRAM bandwidth {bw / 1e12:.2f} TB/s")
    grid = wind_grid(benchmark_wind(1.0))
    rows = []
    for n in [int(float(s)) for s in args.sizes.split(",")]:
        rng = cp.random.default_rng(1)
        lon = rng.uniform(-180.0, 180.0, n)
        lat = cp.rad2deg(cp.arcsin(rng.uniform(-np.sin(np.pi / 3), np.sin(np.pi / 3), n)))
        for variant in ("float64", "mixed"):
            be = get_backend(variant)
            for kh in (0.0, 1.0e4):
                for fused in (True, False):
                    phys = StepPhysics(dt_s=600.0, kh_m2_s=kh, seed=7)
                    times = []
                    for rep in range(args.reps + 1):
                        host = Particles(lon.copy(), lat.copy(), cp.zeros(n, cp.float32), cp.ones(n, cp.float64),
                                         cp.zeros(n, cp.int32), cp.zeros(n, cp.int8))
                        cp.cuda.Device().synchronize()
                        t0 = time.perf_counter()
                        # the sort by grid cell (to_device) is part of the timed work
                        p = be.to_device(host)
                        del host
                        if fused:
                            be.advance(p, grid, phys, 0, 144)
                        else:
                            for s in range(144):
                                be.advance(p, grid, phys, s, 1)
                        cp.cuda.Device().synchronize()
                        if rep > 0:  # the first repetition compiles and warms up
                            times.append(time.perf_counter() - t0)
                    t = statistics.median(times)
                    rate = n * 144 / t
                    bytes_per_ps = 61.0 / (144 if fused else 1)
                    row = {"n": n, "variant": variant, "kh": kh, "fused": fused, "seconds": t,
                           "particle_steps_per_s": rate, "bytes_per_particle_step": bytes_per_ps,
                           "fraction_of_bandwidth_bound": rate * bytes_per_ps / bw}
                    rows.append(row)
                    print(f"N={n:>11,} {variant:>7} K_h={kh:>7g} {'fused 144' if fused else '1 step/launch':>13}: "
                          f"{rate:10.3e} particle-steps/s  ({t * 1e3:8.1f} ms; {rate * bytes_per_ps / bw * 100:5.1f} % "
                          f"of the {bytes_per_ps:.2f} B/particle-step bandwidth bound)")
                    del p
                    cp.get_default_memory_pool().free_all_blocks()
        del lon, lat
        cp.get_default_memory_pool().free_all_blocks()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": name, "bandwidth_B_s": bw, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
