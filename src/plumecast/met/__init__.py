"""Winds: every met source produces the normalised wind dataset.

See :mod:`plumecast.met.reader` for the single-level form (dims ``(time, lat,
lon)``, ``u``/``v`` float32 [m s-1], attrs ``source``, ``level``, ``global_lon``,
``steady``) and :mod:`plumecast.met.levels` for the 3-D form (winds on pressure or
height levels with geopotential, vertical motion and boundary-layer fields) and
its conversion to a :class:`~plumecast.transport.windgrid.WindGrid` on heights
above ground. The shipped default (:mod:`plumecast.met.climatology`) holds
climatological mean winds, not a forecast.
"""

from __future__ import annotations

from plumecast.met.analytic import (
    benchmark_wind,
    solid_body_rotation,
    uniform_wind,
    zonal_jet,
)
from plumecast.met.climatology import climatology, climatology_3d
from plumecast.met.levels import DEFAULT_HEIGHTS_M, normalise_met_3d, open_met_3d, wind_grid_3d
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
    "DEFAULT_HEIGHTS_M",
    "STEADY_TIME",
    "benchmark_wind",
    "build_wind_dataset",
    "check_wind_dataset",
    "climatology",
    "climatology_3d",
    "met_members",
    "met_paths",
    "normalise_met_3d",
    "normalise_wind",
    "open_met_3d",
    "open_met_dataset",
    "open_wind",
    "solid_body_rotation",
    "uniform_wind",
    "write_era5_style",
    "wind_grid_3d",
    "write_gfs_style",
    "zonal_jet",
]
