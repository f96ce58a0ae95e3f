"""plumecast runner for the peer benchmark (run in the plumecast environment).

Fields: the same benchmark netCDF file, read with ``plumecast.met.open_wind`` (one
record -> ``steady=1``) and converted once to the kernel's ``WindGrid`` (Cartesian
velocity vectors at the grid nodes; periodic in longitude because the file covers the
whole circle, no halo needed).  The field is checked against
``plumecast.met.benchmark_wind()`` (same formula) before anything is timed.
Interpolation: bilinear in (lon, lat) of the node velocities, taken as 3-D Cartesian
vectors and projected onto the tangent plane.  Scheme: midpoint RK2 on the unit
sphere (3-D Cartesian steps, renormalised); diffusion: Gaussian random walk of std
sqrt(2 K_h dt) per horizontal component (counter-based random numbers).

Backend ``numba`` (default): parallel over particles with all threads Numba sees
(``NUMBA_NUM_THREADS``; 2 on the benchmark machine), all 144 steps of a particle in
registers.  Timing: one untimed warm-up call (JIT compilation or cache load), then
each repetition times ``plumecast.transport.trajectories(lon, lat, grid, dt_s=600,
n_steps=144, kh_m2_s=...)``, i.e. copying the positions into a Particles struct,
the 144 steps and returning the final positions; no output.
"""

from __future__ import annotations

import numpy as np
import workload as W


def main() -> None:
    a = W.runner_args(__doc__.splitlines()[0])
    import numba

    import plumecast
    from plumecast.met import benchmark_wind, open_wind
    from plumecast.transport import trajectories
    from plumecast.transport.windgrid import wind_grid

    ds = open_wind(W.WORK / "wind.nc")
    ref = benchmark_wind(1.0)
    for name in ("u", "v"):
        diff = float(np.abs(ds[name].values - ref[name].values).max())
        if diff > 1e-5:
            raise SystemExit(f"plumecast: file {name} differs from benchmark_wind by {diff}")
    if int(ds.attrs.get("steady", 0)) != 1 or int(ds.attrs.get("global_lon", 0)) != 1:
        raise SystemExit(f"plumecast: expected steady global wind, got {ds.attrs}")
    grid = wind_grid(ds)

    lon0, lat0 = W.load_positions(a.n, a.seed)
    kw = dict(dt_s=a.dt, n_steps=a.steps, kh_m2_s=a.kh, backend="numba")
    trajectories(lon0[:1000], lat0[:1000], grid, **kw, seed=999)  # warm-up (compile)
    secs = []
    for rep in range(a.reps):
        with W.Timer() as t:
            lon, lat = trajectories(lon0, lat0, grid, **kw, seed=1000 + rep)
        secs.append(t.seconds)
    W.save_result(
        a.out,
        W.wrap_lon(lon),
        lat,
        secs,
        {
            "tool": "plumecast",
            "version": f"plumecast {plumecast.__version__} (numba {numba.__version__})",
            "scheme": "midpoint RK2 on the unit sphere (3-D Cartesian), bilinear",
            "threads": numba.get_num_threads(),
            "timing_covers": "trajectories(): 144 steps with the numba backend, after a warm-up call",
        },
    )


if __name__ == "__main__":
    main()
