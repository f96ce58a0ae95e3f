"""Parcels 4 runner for the peer benchmark (run in .peers/parcels4; vectorised NumPy kernels).

Fields: the benchmark file written *with two periodic halo columns on each side*
(lon = -182..181, same formula: ``workload.write_wind_file(halo=2)``), because a
Parcels 4 structured grid is not periodic by itself (its ``XGrid`` assumes "the
provided grid already has a halo"); turned into an SGRID dataset with
``parcels.convert.copernicusmarine_to_sgrid`` (A-grid, nodes at the data points) and
read with ``FieldSet.from_sgrid_conventions(mesh="spherical")``.  A periodic
boundary kernel keeps particles in [-180, 180).  The single time record is a steady
field (Parcels 4 treats a field with one time as time-independent).
Interpolation: Parcels' default for the A-grid (bilinear, ``XLinear``).
Scheme: Parcels' own ``AdvectionRK2`` (midpoint RK2 through ``parcels.kernels.RK2``).
Diffusion: Parcels' ``DiffusionUniformKh`` with constant ``Kh_zonal``/``Kh_meridional``.

Kernels are plain vectorised NumPy over all particles (single thread, apart from
whatever NumPy itself threads).  Per repetition: a fresh ParticleSet from the same
initial positions; timing covers ``pset.execute(kernels, runtime=1 day, dt=600 s)``
with no ParticleFile (no output) and the field already in memory (``.load()``).
"""

from __future__ import annotations

import warnings

import numpy as np
import workload as W

HALO = 2


def PeriodicBC(particles, fieldset):  # pragma: no cover  (a Parcels kernel)
    """Wrap the position after this step's increments into [-180, 180)."""
    x = particles.x + particles.dx
    particles.dx = np.where(
        x < -180.0, particles.dx + 360.0, np.where(x >= 180.0, particles.dx - 360.0, particles.dx)
    )


def main() -> None:
    a = W.runner_args(__doc__.splitlines()[0])
    warnings.filterwarnings("ignore")
    import parcels
    import xarray as xr
    from parcels import FieldSet, ParticleSet
    from parcels.kernels import AdvectionRK2, DiffusionUniformKh

    path = W.WORK / f"wind_halo{HALO}.nc"
    if not path.exists():
        W.write_wind_file(path, halo=HALO)
    ds = xr.open_dataset(path).load()
    sg = parcels.convert.copernicusmarine_to_sgrid(fields={"U": ds["u"], "V": ds["v"]})
    fs = FieldSet.from_sgrid_conventions(sg, mesh="spherical")
    if a.kh > 0:
        fs.add_constant_field("Kh_zonal", a.kh)
        fs.add_constant_field("Kh_meridional", a.kh)
    kernels = [AdvectionRK2] + ([DiffusionUniformKh] if a.kh > 0 else []) + [PeriodicBC]

    lon0, lat0 = W.load_positions(a.n, a.seed)
    secs = []
    for rep in range(a.reps):
        pset = ParticleSet(fs, x=lon0, y=lat0, z=np.zeros_like(lon0))
        np.random.seed(1000 + rep)  # noqa: NPY002  (the tool draws from the global state)
        with W.Timer() as t:
            pset.execute(kernels, runtime=a.dt * a.steps, dt=a.dt, verbose_progress=False)
        secs.append(t.seconds)
        lon = np.asarray(pset.x, "f8")
        lat = np.asarray(pset.y, "f8")
        ids = np.asarray(pset.particle_id)
        assert ids.size == a.n and np.all(ids[1:] > ids[:-1]), "particles lost or reordered"
    del pset  # (its __del__ fails noisily at interpreter shutdown)
    W.save_result(
        a.out,
        W.wrap_lon(lon),
        lat,
        secs,
        {
            "tool": "Parcels 4",
            "version": f"parcels {parcels.__version__}",
            "scheme": "AdvectionRK2 (midpoint RK2), bilinear",
            "threads": 1,
            "timing_covers": "pset.execute() for 144 steps (vectorised kernels), no output file",
        },
    )


if __name__ == "__main__":
    main()
