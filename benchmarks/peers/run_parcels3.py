"""Parcels 3 runner for the peer benchmark (run in .peers/parcels3; JIT kernels).

Fields: ``FieldSet.from_netcdf`` on the benchmark file (``u`` -> U, ``v`` -> V,
``mesh="spherical"``, so m s-1 are turned into degrees with 1852 m per arc minute and
cos(lat)), the single time record extrapolated to all times, and
``add_periodic_halo(zonal=True)`` (5 copied columns each side) with a periodic
boundary kernel that shifts particles by 360 deg when they leave the halo.
Interpolation: Parcels' default ``linear`` (bilinear on the rectilinear grid).
Scheme: Parcels 3 ships Euler, RK4 and RK45 but no RK2, so the runner defines the
midpoint RK2 kernel in the style of Parcels' own ``AdvectionRK4``.
Diffusion: Parcels' ``DiffusionUniformKh`` with constant ``Kh_zonal`` /
``Kh_meridional`` fields (spherical mesh), Wiener increment N(0, dt).

Particles are ``JITParticle`` (kernels translated to C and compiled with the system C
compiler; Parcels runs them on one thread).  Per repetition: a fresh ParticleSet from
the same initial positions; the kernel is compiled by an untimed ``execute`` with
``runtime=0``; the timing covers ``pset.execute(kernel, runtime=1 day, dt=600 s)``
only, with no ParticleFile (no output), the field data already in memory.
Positions are Parcels' default float32; the final state is read from
``lon_nextloop``/``lat_nextloop`` (Parcels 3 applies the last increment lazily).
"""

from __future__ import annotations

import math  # noqa: F401  (used inside the JIT kernels)
import warnings

import numpy as np
import workload as W


def AdvectionRK2(particle, fieldset, time):  # pragma: no cover  (JIT-compiled)
    """Midpoint second-order Runge-Kutta."""
    (u1, v1) = fieldset.UV[particle]
    lon1, lat1 = (particle.lon + u1 * 0.5 * particle.dt, particle.lat + v1 * 0.5 * particle.dt)
    (u2, v2) = fieldset.UV[time + 0.5 * particle.dt, particle.depth, lat1, lon1, particle]
    particle_dlon += u2 * particle.dt  # noqa: F821, F841  (read by the code generator)
    particle_dlat += v2 * particle.dt  # noqa: F821, F841


def PeriodicBC(particle, fieldset, time):  # pragma: no cover  (JIT-compiled)
    if particle.lon < fieldset.halo_west:
        particle_dlon += fieldset.halo_east - fieldset.halo_west  # noqa: F821
    elif particle.lon > fieldset.halo_east:
        particle_dlon -= fieldset.halo_east - fieldset.halo_west  # noqa: F821


def main() -> None:
    a = W.runner_args(__doc__.splitlines()[0])
    warnings.filterwarnings("ignore")
    import parcels
    from parcels import DiffusionUniformKh, FieldSet, JITParticle, ParticleSet

    fs = FieldSet.from_netcdf(
        str(W.WORK / "wind.nc"),
        variables={"U": "u", "V": "v"},
        dimensions={"lon": "lon", "lat": "lat", "time": "time"},
        mesh="spherical",
        allow_time_extrapolation=True,
    )
    # halo bounds = the original domain edges (before the halo is added)
    fs.add_constant("halo_west", float(fs.U.grid.lon[0]))
    fs.add_constant("halo_east", float(fs.U.grid.lon[-1]) + W.RES_DEG)
    fs.add_periodic_halo(zonal=True)
    if a.kh > 0:
        fs.add_constant_field("Kh_zonal", a.kh, mesh="spherical")
        fs.add_constant_field("Kh_meridional", a.kh, mesh="spherical")

    lon0, lat0 = W.load_positions(a.n, a.seed)
    secs = []
    for rep in range(a.reps):
        pset = ParticleSet(fieldset=fs, pclass=JITParticle, lon=lon0, lat=lat0)
        kernel = pset.Kernel(AdvectionRK2)
        if a.kh > 0:
            kernel = kernel + pset.Kernel(DiffusionUniformKh)
        kernel = kernel + pset.Kernel(PeriodicBC)
        parcels.rng.seed(1000 + rep)
        pset.execute(kernel, runtime=0, dt=a.dt, verbose_progress=False)  # compile only
        with W.Timer() as t:
            pset.execute(kernel, runtime=a.dt * a.steps, dt=a.dt, verbose_progress=False)
        secs.append(t.seconds)
        # Parcels 3 applies particle_dlon at the start of the next kernel loop: after
        # execute(), pset.lon is one step behind and the state is in *_nextloop.
        lon = np.asarray(pset.lon_nextloop, "f8")
        lat = np.asarray(pset.lat_nextloop, "f8")
        assert np.all(np.asarray(pset.id)[1:] > np.asarray(pset.id)[:-1]), "order changed"
    W.save_result(
        a.out,
        W.wrap_lon(lon),
        lat,
        secs,
        {
            "tool": "Parcels 3 (JIT)",
            "version": f"parcels {parcels.__version__}",
            "scheme": "midpoint RK2 kernel written for the benchmark (Parcels 3 has no RK2), bilinear",
            "threads": 1,
            "timing_covers": "pset.execute() of the compiled kernel for 144 steps, no output file",
        },
    )


if __name__ == "__main__":
    main()
