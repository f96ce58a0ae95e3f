"""Transport kernel throughput: particle-steps per second on the benchmark workload.

Global 1 deg grid (``plumecast.met.benchmark_wind(1.0)``), particles uniform between
60S and 60N, 144 steps of 600 s, midpoint RK2, with and without K_h = 1e4 m2/s.
Median of ``--reps`` repetitions (JIT compilation excluded); numpy is timed at 1e5
particles only. Usage: ``python benchmarks/bench_transport.py [--sizes 100000 1000000]``.

``--three-d``: the 3-D workload instead (:func:`grid_3d`): the same wind on 12 levels
from 10 m to 8 km scaled with height, two records a day apart (linear in time),
vertical velocity, and boundary-layer fields from the met (mixing height, u*, 1/L,
w*, rain) varying in space and time; particles between 0 and 3 km, K_h = 1e4 m2/s,
Hanna turbulence in the boundary layer, with and without dry deposition and wet
scavenging. ``--call-steps 6`` adds the 3-D kernel called as a run calls it, once per
met interval (six 10-minute steps between hourly records; the work of each call, the
particles' order on the grid and their loads and stores, counted; the met's reading
not, see ``bench_met_window.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np

from plumecast.met import benchmark_wind
from plumecast.transport import trajectories
from plumecast.transport.kernels_numpy import StepPhysics
from plumecast.transport.lagrangian import get_kernel
from plumecast.transport.particles import BYTES_PER_PARTICLE, Particles
from plumecast.transport.windgrid import SURFACE_FIELDS, WindGrid, wind_grid

#: Heights of the 3-D benchmark's levels. [m]
LEVELS_M = (10.0, 50.0, 100.0, 200.0, 400.0, 700.0, 1000.0, 1500.0, 2000.0, 3000.0, 5000.0, 8000.0)


def bench(backend: str, n: int, kh: float, steps: int, reps: int, records: int = 1) -> float:
    """Particle-steps/s of the single-level kernel on the benchmark wind (``records`` 2:
    two records a day apart, the second as in :func:`grid_3d`, linear in time)."""
    grid = wind_grid(benchmark_wind(1.0))
    if records == 2:
        vec = np.stack([grid.vec[0], 0.7 * grid.vec[0] + 0.3 * grid.vec[0, :, :, :, ::-1]])
        grid = dataclasses.replace(grid, vec=vec, times_s=np.array([0.0, 86400.0]))
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


def grid_3d(resolution_deg: float = 1.0) -> WindGrid:
    """The 3-D benchmark met (see the module docstring)."""
    base = wind_grid(benchmark_wind(resolution_deg))
    lon = base.lon0 + base.dlon * np.arange(base.nlon)
    lat = base.lat0 + base.dlat * np.arange(base.nlat)
    nz, nt = len(LEVELS_M), 2
    vec = np.empty((nt, nz, 3, base.nlat, base.nlon), np.float32)
    w = np.empty((nt, nz, base.nlat, base.nlon), np.float32)
    lam = np.deg2rad(lon)[None, :]
    phi = np.deg2rad(lat)[:, None]
    for k in range(nt):
        for lev, z in enumerate(LEVELS_M):
            scale = 0.3 + 0.7 * min(z / 2000.0, 1.5)
            vec[k, lev] = scale * ((1.0 - 0.3 * k) * base.vec[0, 0] + 0.3 * k * base.vec[0, 0, :, ::-1])
            w[k, lev] = 0.02 * min(z / 1000.0, 1.0) * np.sin(2 * lam + k) * np.cos(phi)
    sfc = np.empty((nt, len(SURFACE_FIELDS), base.nlat, base.nlon), np.float32)
    for k in range(nt):
        day = np.cos(lam + np.pi * k)  # the sun's side of the globe
        sfc[k, 0] = 800.0 + 700.0 * day * np.cos(phi)
        sfc[k, 1] = 0.25 + 0.15 * np.abs(np.sin(3 * lam)) * np.cos(phi)
        sfc[k, 2] = np.where(day > 0.2, -0.02 * day, np.where(day < -0.2, 0.01, 0.0)) * np.ones_like(phi)
        sfc[k, 3] = np.maximum(2.0 * day, 0.0) * np.cos(phi)
        sfc[k, 4] = np.where(np.abs(np.rad2deg(phi)) < 10.0, 3.0, 0.0) * (1.0 + np.sin(lam))
    return WindGrid(vec=vec, times_s=np.array([0.0, 86400.0]), lon0=base.lon0, dlon=base.dlon, nlon=base.nlon,
                    lat0=base.lat0, dlat=base.dlat, nlat=base.nlat, global_lon=True, polar_south=base.polar_south,
                    polar_north=base.polar_north, z_m=np.array(LEVELS_M), w=w, surface=sfc, roughness_length_m=0.1)


def bench_3d(backend: str, n: int, steps: int, reps: int, deposition: bool, call_steps: int = 0,
             time_scale_s: float = 0.0) -> float:
    """Particle-steps/s of the 3-D kernel: one call of ``steps`` steps, or calls of
    ``call_steps`` each (``call_steps`` > 0); ``time_scale_s``: the horizontal Lagrangian
    time scale (``turbulence.kh_time_scale_s``; 0: the random walk from the release)."""
    grid = grid_3d(1.0)
    rng = np.random.default_rng(0)
    lon = rng.uniform(-180, 180, n)
    lat = rng.uniform(-60, 60, n)
    z = rng.uniform(0.0, 3000.0, n).astype(np.float32)
    extra = dict(dry_velocity_m_s=0.005, scavenging_a_s=1e-4, scavenging_b=0.8) if deposition else {}
    physics = StepPhysics(dt_s=600.0, kh_m2_s=1e4, kz_m2_s=10.0, kz_free_m2_s=0.1, seed=1,
                          kh_time_scale_s=time_scale_s, **extra)
    kernel = get_kernel(backend)

    def particles(m: int) -> Particles:
        p = Particles.empty(m)
        p.lon[:], p.lat[:], p.z[:], p.mass[:] = lon[:m], lat[:m], z[:m], 1.0
        return p

    kernel(particles(100), grid, physics, 0, 2, removed=np.zeros(2))  # compile
    times = []
    for _ in range(reps):
        p = particles(n)
        per = call_steps if call_steps > 0 else steps
        t0 = time.perf_counter()
        for s0 in range(0, steps, per):
            kernel(p, grid, physics, s0, min(per, steps - s0), removed=np.zeros(2))
        times.append(time.perf_counter() - t0)
    return n * steps / float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--steps", type=int, default=144)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--three-d", action="store_true", help="the 3-D workload (levels, w, boundary layer)")
    ap.add_argument("--call-steps", type=int, default=0,
                    help="with --three-d: also time the 3-D kernel called every this many steps (a run: 6)")
    ap.add_argument("--kh-time-scale", type=float, default=10800.0,
                    help="with --three-d: the horizontal Lagrangian time scale of the 3-D workload [s] (a run's "
                         "default, turbulence.kh_time_scale_s: 10800; 0: the random walk from the release)")
    a = ap.parse_args()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} steps={a.steps} reps={a.reps} (median)")
    print(f"memory per particle: {BYTES_PER_PARTICLE} bytes of state; the numba kernel adds 16 bytes a particle "
          "during a call where the met exceeds LOCALITY_MIN_BYTES (the particles' order on the grid and its keys, "
          "int64; the 3-D workload here)")
    if a.three_d:
        print(f"3-D: {len(LEVELS_M)} levels, 2 records, w, boundary layer from the met, K_h = 1e4, "
              f"horizontal time scale {a.kh_time_scale:g} s (the particles all released at step 0); "
              "each against the single-level kernel (K_h = 1e4; steady, and two records a day apart) "
              "measured just before it")
        for deposition in (False, True):
            for n in a.sizes:
                single = bench("numba", n, 1e4, a.steps, a.reps)
                single_2 = bench("numba", n, 1e4, a.steps, a.reps, records=2)
                numba_rate = bench_3d("numba", n, a.steps, a.reps, deposition, time_scale_s=a.kh_time_scale)
                line = (f"deposition={deposition!s:5} n={n:>9d}  numba {numba_rate / 1e6:7.2f} M particle-steps/s"
                        f"  (single level {single / 1e6:6.2f} M/s, 3-D/single {numba_rate / single:5.2f}; "
                        f"single level, two records {single_2 / 1e6:6.2f} M/s, 3-D/that {numba_rate / single_2:5.2f})")
                if a.call_steps > 0:
                    calls = bench_3d("numba", n, a.steps, a.reps, deposition, a.call_steps, a.kh_time_scale)
                    line += (f"  called every {a.call_steps} steps: {calls / 1e6:6.2f} M/s "
                             f"(/single {calls / single:5.2f})")
                if n <= 100_000:
                    numpy_rate = bench_3d("numpy", n, a.steps, a.reps, deposition, time_scale_s=a.kh_time_scale)
                    line += f"  numpy {numpy_rate / 1e6:7.2f} M/s  numba/numpy {numba_rate / numpy_rate:6.1f}x"
                print(line, flush=True)
        return
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
