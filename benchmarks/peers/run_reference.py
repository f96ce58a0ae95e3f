"""Independent NumPy reference for the peer benchmark (the judge, not a contender).

Midpoint RK2 in (lon, lat) with bilinear interpolation of the gridded wind read from
the benchmark netCDF file, periodic in longitude; after each advective step a
horizontal random walk of standard deviation sqrt(2 K_h dt) [m] per component.
Metres are turned into degrees with the mean Earth radius, dlon = dx / (R cos lat).
(The release band stays within +-66 deg in one day, far from the poles.)

Timing covers the 144-step loop only (vectorised NumPy, one thread).
"""

from __future__ import annotations

import numpy as np
import workload as W


def load_grid(path):
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        lat = np.asarray(nc["lat"][:], "f8")
        lon = np.asarray(nc["lon"][:], "f8")
        u = np.asarray(nc["u"][0], "f8")
        v = np.asarray(nc["v"][0], "f8")
    return lon, lat, u, v


def make_sampler(lon_g, lat_g, u, v):
    dlon = lon_g[1] - lon_g[0]
    dlat = lat_g[1] - lat_g[0]
    nlon = lon_g.size

    def sample(lon, lat):
        x = ((lon - lon_g[0]) / dlon) % nlon
        y = np.clip((lat - lat_g[0]) / dlat, 0.0, lat_g.size - 1 - 1e-9)
        i0 = np.floor(x).astype(np.int64)
        j0 = np.floor(y).astype(np.int64)
        fx = x - i0
        fy = y - j0
        i1 = (i0 + 1) % nlon
        j1 = j0 + 1
        w00 = (1 - fx) * (1 - fy)
        w10 = fx * (1 - fy)
        w01 = (1 - fx) * fy
        w11 = fx * fy
        uu = w00 * u[j0, i0] + w10 * u[j0, i1] + w01 * u[j1, i0] + w11 * u[j1, i1]
        vv = w00 * v[j0, i0] + w10 * v[j0, i1] + w01 * v[j1, i0] + w11 * v[j1, i1]
        return uu, vv

    return sample


def integrate(lon, lat, sample, dt, n_steps, kh, rng):
    r2d = 180.0 / np.pi
    R = W.EARTH_RADIUS_M
    lon = lon.copy()
    lat = lat.copy()
    sigma = np.sqrt(2.0 * kh * dt)
    for _ in range(n_steps):
        u1, v1 = sample(lon, lat)
        coslat = np.cos(np.deg2rad(lat))
        lonm = lon + 0.5 * dt * u1 / (R * coslat) * r2d
        latm = lat + 0.5 * dt * v1 / R * r2d
        u2, v2 = sample(lonm, latm)
        cosm = np.cos(np.deg2rad(latm))
        lon += dt * u2 / (R * cosm) * r2d
        lat += dt * v2 / R * r2d
        if kh > 0:
            coslat = np.cos(np.deg2rad(lat))
            lon += sigma * rng.standard_normal(lon.size) / (R * coslat) * r2d
            lat += sigma * rng.standard_normal(lat.size) / R * r2d
        lon = W.wrap_lon(lon)
    return lon, lat


def main() -> None:
    a = W.runner_args(__doc__.splitlines()[0])
    path = W.WORK / "wind.nc"
    lon_g, lat_g, u, v = load_grid(path)
    sample = make_sampler(lon_g, lat_g, u, v)
    lon0, lat0 = W.load_positions(a.n, a.seed)
    secs = []
    for rep in range(a.reps):
        rng = np.random.default_rng(1000 + rep)
        with W.Timer() as t:
            lon, lat = integrate(lon0, lat0, sample, a.dt, a.steps, a.kh, rng)
        secs.append(t.seconds)
    W.save_result(
        a.out,
        lon,
        lat,
        secs,
        {
            "tool": "reference",
            "version": f"numpy {np.__version__}",
            "scheme": "midpoint RK2 in lon/lat, bilinear, Gaussian random walk",
            "threads": 1,
            "timing_covers": "the 144-step NumPy loop (no file reading, no output)",
        },
    )


if __name__ == "__main__":
    main()
