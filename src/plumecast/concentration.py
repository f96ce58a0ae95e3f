"""Particles to concentrations: output grid, cell volumes, receptor series.

Near-surface concentration in an output cell over an interval is the mean, over the
sampled time steps of the interval, of the mass of particles below the layer depth
``H`` divided by the cell volume ``A H`` (FLEXPART's output convention, Stohl et al.
2005, sect. 7). ``A = R^2 Δλ (sin φ_n - sin φ_s)`` is the area of the lon/lat cell on
the sphere. The default layer depth is 100 m (``output.layer_depth_m``): a deeper
layer smooths the field vertically, a shallower one is noisier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.receptors import Receptors
from plumecast.scenario import GridConfig
from plumecast.transport.kernels_numpy import OutputSampler
from plumecast.units import EARTH_RADIUS_M

CONC_UNITS = "kg m-3"


@dataclass(frozen=True)
class OutputGrid:
    """A regular lon/lat output grid given by its south-west corner and cell size."""

    lon0: float
    lat0: float
    dlon: float
    dlat: float
    nlon: int
    nlat: int

    @classmethod
    def from_config(cls, cfg: GridConfig) -> OutputGrid:
        nlon = max(1, int(round((cfg.lon_max - cfg.lon_min) / cfg.resolution_deg)))
        nlat = max(1, int(round((cfg.lat_max - cfg.lat_min) / cfg.resolution_deg)))
        return cls(cfg.lon_min, cfg.lat_min, cfg.resolution_deg, cfg.resolution_deg, nlon, nlat)

    @property
    def lon(self) -> NDArray[np.float64]:
        """Cell-centre longitudes. [deg]"""
        return np.asarray(self.lon0 + (np.arange(self.nlon) + 0.5) * self.dlon, dtype=np.float64)

    @property
    def lat(self) -> NDArray[np.float64]:
        """Cell-centre latitudes. [deg]"""
        return np.asarray(self.lat0 + (np.arange(self.nlat) + 0.5) * self.dlat, dtype=np.float64)

    def cell_area_m2(self) -> NDArray[np.float64]:
        """Area of the cells of each row, shape (lat, 1). [m2]"""
        south = np.deg2rad(self.lat0 + np.arange(self.nlat) * self.dlat)
        north = np.deg2rad(self.lat0 + (np.arange(self.nlat) + 1) * self.dlat)
        north = np.minimum(north, np.pi / 2)
        return (EARTH_RADIUS_M**2 * np.deg2rad(self.dlon) * (np.sin(north) - np.sin(south)))[:, None]

    def sampler(self, layer_depth_m: float) -> OutputSampler:
        return OutputSampler(self.lon0, self.dlon, self.nlon, self.lat0, self.dlat, self.nlat, layer_depth_m,
                             np.zeros((self.nlat, self.nlon)))


def mean_concentration(acc_kg: NDArray[np.float64], n_samples: int, grid: OutputGrid, layer_depth_m: float) -> NDArray[np.float32]:
    """Interval-mean concentration from accumulated sampled mass. [kg m-3]"""
    return (acc_kg / (max(n_samples, 1) * grid.cell_area_m2() * layer_depth_m)).astype(np.float32)


def concentration_dataarray(
    values: NDArray[np.float32], times: NDArray[np.datetime64], interval_s: float, grid: OutputGrid,
    agent_name: str, layer_depth_m: float,
) -> xr.DataArray:
    """Wrap gridded concentrations ``(time, lat, lon)`` as a CF DataArray.

    Time stamps mark the end of each averaging interval (``time_bnds`` gives both ends).
    """
    lon = xr.DataArray(grid.lon, dims="lon", attrs={"units": "degrees_east", "standard_name": "longitude", "long_name": "longitude"})
    lat = xr.DataArray(grid.lat, dims="lat", attrs={"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude"})
    da = xr.DataArray(
        values,
        dims=("time", "lat", "lon"),
        coords={"time": times, "lat": lat, "lon": lon},
        name="concentration",
        attrs={
            "units": CONC_UNITS,
            "long_name": f"near-surface mass concentration of {agent_name}, mean over the interval ending at time",
            "cell_methods": f"time: mean (interval: {interval_s / 60:g} minutes)",
            "layer_depth_m": layer_depth_m,
            "agent": agent_name,
        },
    )
    da["time"].attrs.update({"standard_name": "time", "long_name": "end of averaging interval"})
    return da


def sample_points(field: xr.DataArray, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bilinear interpolation of a ``(time, lat, lon)`` field between cell centres at
    points; points outside the grid's centres take the nearest edge cell, points
    outside the grid get NaN. Returns ``(time, point)``."""
    glat = np.asarray(field["lat"].values, float)
    glon = np.asarray(field["lon"].values, float)
    vals = np.asarray(field.values, dtype=np.float64)
    dlat = glat[1] - glat[0] if glat.size > 1 else 1.0
    dlon = glon[1] - glon[0] if glon.size > 1 else 1.0
    lon = ((np.asarray(lon, float) + 180.0) % 360.0) - 180.0
    lat = np.asarray(lat, float)
    inside = (lat >= glat[0] - dlat / 2) & (lat <= glat[-1] + dlat / 2) & (lon >= glon[0] - dlon / 2) & (lon <= glon[-1] + dlon / 2)
    fj = np.clip((lat - glat[0]) / dlat, 0, glat.size - 1)
    fi = np.clip((lon - glon[0]) / dlon, 0, glon.size - 1)
    j0 = np.minimum(np.floor(fj).astype(int), max(glat.size - 2, 0))
    i0 = np.minimum(np.floor(fi).astype(int), max(glon.size - 2, 0))
    j1 = np.minimum(j0 + 1, glat.size - 1)
    i1 = np.minimum(i0 + 1, glon.size - 1)
    b = fj - j0
    a = fi - i0
    out = (
        (1 - a) * (1 - b) * vals[:, j0, i0] + a * (1 - b) * vals[:, j0, i1]
        + (1 - a) * b * vals[:, j1, i0] + a * b * vals[:, j1, i1]
    )
    out[:, ~inside] = np.nan
    return out


def receptor_series(field: xr.DataArray, receptors: Receptors) -> xr.DataArray:
    """Concentration time series at receptors, ``(time, receptor)``. [kg m-3]"""
    values = sample_points(field, receptors.lat, receptors.lon)
    da = xr.DataArray(
        values,
        dims=("time", "receptor"),
        coords={
            "time": field["time"].values,
            "receptor": np.arange(len(receptors)),
            "name": ("receptor", np.asarray(receptors.name, dtype=str)),
            "lat": ("receptor", np.asarray(receptors.lat, float), {"units": "degrees_north"}),
            "lon": ("receptor", np.asarray(receptors.lon, float), {"units": "degrees_east"}),
            "population": ("receptor", np.asarray(receptors.population, float)),
            "country": ("receptor", np.asarray(receptors.country, dtype=str)),
        },
        name="concentration",
        attrs={
            "units": CONC_UNITS,
            "long_name": "near-surface mass concentration at receptor (bilinear between output cell centres)",
            "cell_methods": field.attrs.get("cell_methods", "time: mean"),
        },
    )
    return da
