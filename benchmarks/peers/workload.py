"""The shared workload of the peer benchmark (plumecast vs OpenDrift vs Parcels).

Everything every runner needs and that must be *identical* across tools lives here:

* the analytic wind on a global 1° grid, written as a CF netCDF file
  (:func:`write_wind_file`)::

      u = 20 cos(phi)                 [m s-1]  (eastward)
      v = 5 sin(2 lambda) cos(phi)    [m s-1]  (northward)

  with ``phi`` latitude and ``lambda`` longitude, on lat = -90..90 (181 points),
  lon = -180..179 (360 points), one (steady) time record, float32;
* the seeded initial positions: ``N`` particles uniform *in area* between 60° S and
  60° N (:func:`initial_positions`);
* the time stepping (144 steps of 600 s = one day) and the diffusivity;
* the great-circle displacement statistics used for the agreement check
  (:func:`displacement_stats`).

This module imports only NumPy (and netCDF4 inside :func:`write_wind_file`) so that
it runs unchanged in each tool's own virtual environment.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("PEERS_WORK", HERE / "_work"))

# --- the workload ------------------------------------------------------------------
DT_S = 600.0  # time step [s]
N_STEPS = 144  # 144 x 600 s = 1 day
KH_M2_S = 1.0e4  # horizontal diffusivity when diffusion is on [m2 s-1]
LAT_MAX_RELEASE = 60.0  # particles released uniformly (in area) in [-60, 60] deg
U0 = 20.0  # jet amplitude [m s-1]
V0 = 5.0  # meridional wave amplitude [m s-1]
RES_DEG = 1.0
START = np.datetime64("2000-01-01T00:00:00", "s")

# Great-circle distances use the plumecast radius (mean Earth radius, IUGG).  Parcels
# converts m <-> degrees with 1852 m per arc minute (R = 6366.7 km, 0.07 % smaller);
# that difference is far inside the agreement tolerance and is stated in the README.
EARTH_RADIUS_M = 6371000.0


def grid(halo: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes -90..90 and longitudes -180..179 [deg], with ``halo`` extra
    longitude columns on each side (periodic copies: -180-halo .. 179+halo)."""
    n = round(180 / RES_DEG)
    lat = np.linspace(-90.0, 90.0, n + 1)
    lon = -180.0 + RES_DEG * np.arange(-halo, round(360 / RES_DEG) + halo)
    return lat, lon


def analytic_wind(lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark wind at (lon, lat) [deg] -> (u, v) [m s-1] (broadcasting)."""
    phi = np.deg2rad(lat_deg)
    lam = np.deg2rad(lon_deg)
    u = U0 * np.cos(phi) + 0.0 * lam
    v = V0 * np.sin(2.0 * lam) * np.cos(phi)
    return u, v


def write_wind_file(path: Path, halo: int = 0, n_time: int = 1) -> Path:
    """Write the analytic wind as a CF-1.8 netCDF file.

    Variables ``u``/``v`` (``eastward_wind``/``northward_wind``, float32, m s-1) on
    ``(time, lat, lon)``; ``halo`` > 0 adds periodic longitude columns on each side
    (same formula, so the halo is exactly periodic); ``n_time`` > 1 repeats the
    steady field at daily records (for readers that want a time span).
    """
    import netCDF4

    lat, lon = grid(halo)
    lon2, lat2 = np.meshgrid(lon, lat)
    u, v = analytic_wind(lon2, lat2)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.nc")
    with netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
        nc.Conventions = "CF-1.8"
        nc.title = "plumecast peer benchmark analytic wind"
        nc.comment = (
            "u = 20 cos(lat), v = 5 sin(2 lon) cos(lat) [m s-1]; steady; "
            f"{halo} periodic halo column(s) each side"
        )
        nc.createDimension("time", None)
        nc.createDimension("lat", lat.size)
        nc.createDimension("lon", lon.size)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01 00:00:00"
        t.calendar = "standard"
        t.standard_name = "time"
        t.axis = "T"
        t[:] = np.arange(n_time, dtype="f8")
        y = nc.createVariable("lat", "f8", ("lat",))
        y.units = "degrees_north"
        y.standard_name = "latitude"
        y.long_name = "latitude"
        y.axis = "Y"
        y[:] = lat
        x = nc.createVariable("lon", "f8", ("lon",))
        x.units = "degrees_east"
        x.standard_name = "longitude"
        x.long_name = "longitude"
        x.axis = "X"
        x[:] = lon
        for name, data, std in (("u", u, "eastward_wind"), ("v", v, "northward_wind")):
            var = nc.createVariable(name, "f4", ("time", "lat", "lon"))
            var.units = "m s-1"
            var.standard_name = std
            var.long_name = std.replace("_", " ")
            var[:] = np.broadcast_to(data.astype("f4"), (n_time, *data.shape))
    os.replace(tmp, path)
    return path


def initial_positions(n: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions uniform in area on the band [-60, 60] deg latitude [deg]."""
    rng = np.random.default_rng(seed)
    s = np.sin(np.deg2rad(LAT_MAX_RELEASE))
    lat = np.rad2deg(np.arcsin(rng.uniform(-s, s, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    return lon, lat


def great_circle_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine great-circle distance [m] between points given in degrees."""
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dl = np.deg2rad(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def displacement_stats(lon0, lat0, lon1, lat1) -> dict[str, float]:
    """Mean, std and RMS great-circle displacement [km] from start to end."""
    d = great_circle_m(lon0, lat0, lon1, lat1) / 1e3
    ok = np.isfinite(d)
    d = d[ok]
    return {
        "mean_km": float(d.mean()),
        "std_km": float(d.std()),
        "rms_km": float(np.sqrt(np.mean(d**2))),
        "n_valid": int(ok.sum()),
    }


def wrap_lon(lon: np.ndarray) -> np.ndarray:
    """Longitudes into [-180, 180)."""
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


# --- helpers the runners share ---------------------------------------------------------


def positions_file(n: int, seed: int) -> Path:
    """The initial positions for (n, seed), created once and shared by all runners."""
    path = WORK / f"init_n{n}_s{seed}.npz"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        lon, lat = initial_positions(n, seed)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, lon=lon, lat=lat)
        os.replace(tmp, path)
    return path


def load_positions(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    with np.load(positions_file(n, seed)) as f:
        return f["lon"].copy(), f["lat"].copy()


_CPU_SECONDS: list[float] = []


class Timer:
    """Wall-clock timer (time.perf_counter) as a context manager; also records the
    process CPU time (all threads, time.process_time) of the block, which
    :func:`save_result` stores beside the wall-clock times."""

    def __enter__(self) -> Timer:
        self.c0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu_seconds = time.process_time() - self.c0
        _CPU_SECONDS.append(self.cpu_seconds)


def runner_args(description: str):
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--n", type=int, required=True, help="number of particles")
    p.add_argument("--kh", type=float, default=0.0, help="horizontal diffusivity [m2 s-1]")
    p.add_argument("--reps", type=int, default=3, help="timed repetitions")
    p.add_argument("--seed", type=int, default=12345, help="seed of the initial positions")
    p.add_argument("--steps", type=int, default=N_STEPS)
    p.add_argument("--dt", type=float, default=DT_S)
    p.add_argument("--out", type=Path, required=True, help="result stem (writes .npz, .json)")
    return p.parse_args()


def save_result(out: Path, lon, lat, seconds: list[float], info: dict) -> None:
    """Final positions of the last repetition (.npz) and the timings (.json)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out.with_suffix(".npz"), lon=np.asarray(lon, "f8"), lat=np.asarray(lat, "f8"))
    info = dict(info)
    info["seconds"] = [float(s) for s in seconds]
    info["median_s"] = float(np.median(seconds))
    if len(_CPU_SECONDS) == len(seconds):
        info["cpu_seconds"] = [float(s) for s in _CPU_SECONDS]
    out.with_suffix(".json").write_text(json.dumps(info, indent=2))
