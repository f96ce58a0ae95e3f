"""Winds: every met source produces the normalised wind dataset.

See :mod:`plumecast.met.reader` for the form (dims ``(time, lat, lon)``, ``u``/``v``
float32 [m s-1], attrs ``source``, ``level``, ``global_lon``, ``steady``).
"""

from __future__ import annotations

from plumecast.met.analytic import (
    benchmark_wind,
    solid_body_rotation,
    uniform_wind,
    zonal_jet,
)
from plumecast.met.climatology import climatology
from plumecast.met.reader import (
    STEADY_TIME,
    build_wind_dataset,
    check_wind_dataset,
    met_members,
    met_paths,
    normalise_wind,
    open_met_dataset,
    open_wind,
)
from plumecast.met.synthetic import write_era5_style, write_gfs_style

__all__ = [
    "STEADY_TIME",
    "benchmark_wind",
    "build_wind_dataset",
    "check_wind_dataset",
    "climatology",
    "met_members",
    "met_paths",
    "normalise_wind",
    "open_met_dataset",
    "open_wind",
    "solid_body_rotation",
    "uniform_wind",
    "write_era5_style",
    "write_gfs_style",
    "zonal_jet",
]
