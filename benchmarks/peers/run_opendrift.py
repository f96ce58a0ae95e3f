"""OpenDrift runner for the peer benchmark (run in .peers/opendrift).

Model: ``OceanDrift`` with the benchmark wind mapped onto the ocean-current variables
(``u`` -> x_sea_water_velocity, ``v`` -> y_sea_water_velocity through the generic CF
reader's ``standard_name_mapping``), so the particles move with exactly the field,
drift factor 1.  Scheme: ``drift:advection_scheme = "runge-kutta"``, OpenDrift's
midpoint RK2: half a step along the WGS84 geodesic with the start velocity, sample the
field there (and half a step later), full step along the geodesic from the start with
the midpoint velocity.  Interpolation: the reader's default for a regular lon/lat
grid (bilinear, ``linearNDFast`` = ``scipy.ndimage.map_coordinates(order=1)`` on the
block).  Diffusion: environment variable ``horizontal_diffusivity`` (its fallback value) (Gaussian random velocity of
std sqrt(2 K / dt) per component, applied with the same geodesic step).

Changes from the defaults, each needed for the workload:
* the reader is marked ``always_valid`` (OpenDrift's switch for a time-independent
  field; otherwise the single time record only covers the first hour);
* valid range of the current components widened from +-15 to +-100 m s-1 (the
  20 m s-1 jet would otherwise be masked as invalid and replaced by the fallback 0);
* no automatic land mask, coastline action "none", ``seed:ocean_only`` off (no land in
  this workload; by default OpenDrift moves particles seeded on land to the sea);
* no wind drift, Stokes drift or vertical motion (particles at z = 0);
* output: in memory only (no file), ``time_step_output`` = the whole run, exporting
  only lon/lat, i.e. the minimum OpenDrift allows (first and last record).

The netCDF file is read into memory (``xarray.open_dataset(...).load()``) before the
timing.  Timing covers ``OceanDrift.run(...)``: OpenDrift's run preparation (reader
checks, interpolator set-up) plus the 144 steps and recording the final state;
model creation, configuration and ``seed_elements`` are excluded.  Single process;
NumPy/SciPy/pyproj threads as the libraries choose.
"""

from __future__ import annotations

import logging
import warnings
from datetime import datetime, timedelta

import numpy as np
import workload as W


def main() -> None:
    a = W.runner_args(__doc__.splitlines()[0])
    warnings.filterwarnings("ignore")
    import opendrift
    import xarray as xr
    from opendrift.models.oceandrift import OceanDrift
    from opendrift.readers import reader_netCDF_CF_generic
    from opendrift.readers.basereader.consts import standard_names

    for name in ("x_sea_water_velocity", "y_sea_water_velocity"):
        standard_names[name]["valid_min"] = -100.0
        standard_names[name]["valid_max"] = 100.0

    ds = xr.open_dataset(W.WORK / "wind.nc").load()
    reader = reader_netCDF_CF_generic.Reader(
        ds,
        name="benchmark wind",
        standard_name_mapping={"u": "x_sea_water_velocity", "v": "y_sea_water_velocity"},
    )
    reader.always_valid = True  # steady field: one time record valid at all times
    lon0, lat0 = W.load_positions(a.n, a.seed)
    start = datetime(2000, 1, 1)
    secs = []
    for rep in range(a.reps):
        o = OceanDrift(loglevel=50)
        logging.getLogger("opendrift").setLevel(logging.ERROR)
        o.add_reader(reader)
        o.set_config("general:use_auto_landmask", False)
        o.set_config("general:coastline_action", "none")
        o.set_config("seed:ocean_only", False)  # else seeds on land are moved to the sea
        o.set_config("drift:advection_scheme", "runge-kutta")
        o.set_config("environment:fallback:horizontal_diffusivity", float(a.kh))
        o.set_config("drift:vertical_advection", False)
        o.set_config("drift:vertical_mixing", False)
        o.set_config("drift:stokes_drift", False)
        o.set_config("seed:wind_drift_factor", 0.0)
        for v in ("x_wind", "y_wind", "sea_surface_wave_stokes_drift_x_velocity",
                  "sea_surface_wave_stokes_drift_y_velocity", "upward_sea_water_velocity",
                  "land_binary_mask"):
            o.set_config(f"environment:fallback:{v}", 0.0)
        o.seed_elements(lon=lon0, lat=lat0, time=start, z=0.0, wind_drift_factor=0.0)
        np.random.seed(1000 + rep)  # noqa: NPY002  (the tool draws from the global state)
        duration = timedelta(seconds=a.dt * a.steps)
        with W.Timer() as t:
            o.run(
                duration=duration,
                time_step=timedelta(seconds=a.dt),
                time_step_output=duration,
                export_variables=["lon", "lat"],
            )
        secs.append(t.seconds)
        lon = np.asarray(o.result.lon.isel(time=-1)).astype("f8")
        lat = np.asarray(o.result.lat.isel(time=-1)).astype("f8")
        # result is ordered by trajectory = seeding order
    W.save_result(
        a.out,
        W.wrap_lon(lon),
        lat,
        secs,
        {
            "tool": "OpenDrift",
            "version": f"opendrift {opendrift.__version__} (OceanDrift)",
            "scheme": "runge-kutta (midpoint RK2, WGS84 geodesic steps), bilinear",
            "threads": "1 process",
            "timing_covers": "OceanDrift.run(): run preparation + 144 steps, in-memory output of lon/lat",
        },
    )


if __name__ == "__main__":
    main()
