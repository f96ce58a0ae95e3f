"""Particles to concentrations: output grid, cell volumes, receptor series.

Near-surface concentration in an output cell over an interval is the mean, over the
sampled time steps of the interval, of the mass of particles below the layer depth
``H`` divided by the cell volume ``A H`` (FLEXPART's output convention, Stohl et al.
2005, sect. 7). ``A = R^2 Δλ (sin φ_n - sin φ_s)`` is the area of the lon/lat cell on
the sphere. The default layer depth is 100 m (``output.layer_depth_m``): a deeper
layer smooths the field vertically, a shallower one is noisier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.errors import DataFileError
from plumecast.receptors import Receptors
from plumecast.scenario import GridConfig
from plumecast.transport.kernels_numpy import OutputSampler
from plumecast.units import EARTH_RADIUS_M

CONC_UNITS = "kg m-3"


def lon_order(lon: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The column order that draws a lon grid west to east in one piece, and the longitudes
    in that order [deg]: sorted, except that a regional grid written in -180..180 across
    the antimeridian (170.5 .. 179.5, -179.5 .. -170.5: its widest gap inside the range)
    starts at its western edge, the part past 180 moved 360 degrees east (180.5 .. 189.5).
    A grid written beyond 180 (170.5 .. 189.5, as plumecast writes one) is only sorted."""
    lon = np.asarray(lon, dtype=float)
    order = np.argsort(lon, kind="stable")
    s = lon[order]
    if s.size > 1:
        gaps = np.diff(s)
        k = int(np.argmax(gaps))
        if gaps[k] > max(s[0] + 360.0 - s[-1], 1.5 * float(np.median(gaps))):
            order = np.concatenate([order[k + 1:], order[: k + 1]])
            s = np.concatenate([s[k + 1:], s[: k + 1] + 360.0])
    return order, s


@dataclass(frozen=True)
class OutputGrid:
    """A regular lon/lat output grid given by its south-west corner and cell size.

    Cells run east from ``lon0``; on a grid across the antimeridian their longitudes
    continue beyond 180 (170.5 .. 189.5), increasing as CF asks of a coordinate, and a
    particle at -175 falls in the cell of 185 (:meth:`wrap_lon`)."""

    lon0: float
    lat0: float
    dlon: float
    dlat: float
    nlon: int
    nlat: int

    @classmethod
    def from_config(cls, cfg: GridConfig) -> OutputGrid:
        nlon = max(1, int(round(cfg.lon_span / cfg.resolution_deg)))
        nlat = max(1, int(round((cfg.lat_max - cfg.lat_min) / cfg.resolution_deg)))
        return cls(cfg.lon_min, cfg.lat_min, cfg.resolution_deg, cfg.resolution_deg, nlon, nlat)

    @property
    def lon(self) -> NDArray[np.float64]:
        """Cell-centre longitudes. [deg]"""
        return np.asarray(self.lon0 + (np.arange(self.nlon) + 0.5) * self.dlon, dtype=np.float64)

    @property
    def lon_edges(self) -> NDArray[np.float64]:
        """Cell-edge longitudes, increasing (beyond 180 on a grid across the antimeridian). [deg]"""
        return np.asarray(self.lon0 + np.arange(self.nlon + 1) * self.dlon, dtype=np.float64)

    @property
    def lat_edges(self) -> NDArray[np.float64]:
        """Cell-edge latitudes, increasing. [deg]"""
        return np.asarray(self.lat0 + np.arange(self.nlat + 1) * self.dlat, dtype=np.float64)

    def wrap_lon(self, lon: Any) -> NDArray[np.float64]:
        """Longitudes [deg] taken modulo 360 into ``lon0 .. lon0 + 360``, the frame of the
        grid's cells (-175 becomes 185 on a grid from 170)."""
        return np.asarray(self.lon0 + np.mod(np.asarray(lon, dtype=np.float64) - self.lon0, 360.0), dtype=np.float64)

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

    def sampler(self, layer_depth_m: float, acc: Any = None) -> OutputSampler:
        """An empty accumulator on this grid; ``acc`` is a zeroed (lat, lon) array
        wherever the backend keeps it (default: a new host array)."""
        return OutputSampler(self.lon0, self.dlon, self.nlon, self.lat0, self.dlat, self.nlat, layer_depth_m,
                             np.zeros((self.nlat, self.nlon)) if acc is None else acc)


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


def sample_bilinear(
    field: xr.DataArray, lat: Sequence[float] | NDArray[Any], lon: Sequence[float] | NDArray[Any]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Bilinear interpolation of a ``(time, lat, lon)`` field between cell centres.

    Longitude wraps when the grid covers the whole circle; on a regional grid it is
    taken modulo 360 into the grid's frame (a receptor at -175 on a grid of centres
    170.5 .. 189.5, across the antimeridian, is read at 185). Points within half a
    cell outside the outermost centres take the edge values; points farther out
    are reported outside.

    Parameters
    ----------
    field : xarray.DataArray, dims (time, lat, lon)
        Gridded field, lat and lon in degrees, each at least 2 long.
    lat, lon : array_like, shape (n,)
        Receptor positions. [degrees]

    Returns
    -------
    values : numpy.ndarray, shape (time, n)
        Interpolated values (0 for points outside). [field units]
    inside : numpy.ndarray of bool, shape (n,)
        Whether each point lies on the grid.
    """
    if set(field.dims) != {"time", "lat", "lon"}:
        raise DataFileError(f"field: dims {field.dims}; expected (time, lat, lon)")
    f = field.transpose("time", "lat", "lon")
    glat = np.asarray(f["lat"].values, dtype=float)
    glon = np.asarray(f["lon"].values, dtype=float)
    data = np.asarray(f.values, dtype=float)
    if glat.size < 2 or glon.size < 2:
        raise DataFileError("field: needs at least 2 latitudes and 2 longitudes")
    if glat[0] > glat[-1]:
        glat, data = glat[::-1], data[:, ::-1, :]
    if np.any(np.diff(glat) <= 0) or np.any(np.diff(glon) <= 0):
        raise DataFileError("field: lat and lon must be monotonic")
    rlat = np.asarray(lat, dtype=float)
    rlon = np.asarray(lon, dtype=float)
    dlon = float(np.median(np.diff(glon)))
    periodic = (
        abs(glon.size * dlon - 360.0) < 1e-6 * 360.0 or int(field.attrs.get("global_lon", 0)) == 1
    )
    if periodic:
        glon = np.concatenate([glon, [glon[0] + 360.0]])
        data = np.concatenate([data, data[:, :, :1]], axis=2)
        rlon = glon[0] + np.mod(rlon - glon[0], 360.0)
    else:  # into the 360 degrees that start half a cell west of the first centre
        west = glon[0] - 0.5 * dlon
        rlon = west + np.mod(rlon - west, 360.0)
    half_lat = 0.5 * float(np.median(np.diff(glat)))
    inside = (rlat >= glat[0] - half_lat) & (rlat <= glat[-1] + half_lat)
    if not periodic:
        inside &= (rlon >= glon[0] - 0.5 * dlon) & (rlon <= glon[-1] + 0.5 * dlon)
    inside &= np.isfinite(rlat) & np.isfinite(rlon)
    i = np.clip(np.searchsorted(glat, rlat) - 1, 0, glat.size - 2)
    j = np.clip(np.searchsorted(glon, rlon) - 1, 0, glon.size - 2)
    wy = np.clip((rlat - glat[i]) / (glat[i + 1] - glat[i]), 0.0, 1.0)
    wx = np.clip((rlon - glon[j]) / (glon[j + 1] - glon[j]), 0.0, 1.0)
    wy = np.where(inside, wy, 0.0)
    wx = np.where(inside, wx, 0.0)
    values = (
        data[:, i, j] * ((1 - wy) * (1 - wx))
        + data[:, i, j + 1] * ((1 - wy) * wx)
        + data[:, i + 1, j] * (wy * (1 - wx))
        + data[:, i + 1, j + 1] * (wy * wx)
    )
    values[:, ~inside] = 0.0
    return values, inside


def receptor_coords(receptors: Receptors) -> dict[str, Any]:
    """The ``receptor`` coordinates of a (time, receptor) series: index, name, lat,
    lon, population (NaN where unknown) and country."""
    return {
        "receptor": np.arange(len(receptors)),
        "name": ("receptor", np.asarray(receptors.name, dtype=str)),
        "lat": ("receptor", np.asarray(receptors.lat, float), {"units": "degrees_north"}),
        "lon": ("receptor", np.asarray(receptors.lon, float), {"units": "degrees_east"}),
        "population": ("receptor", np.asarray(receptors.population, float)),
        "country": ("receptor", np.asarray(receptors.country, dtype=str)),
    }


def receptor_series(field: xr.DataArray, receptors: Receptors) -> xr.DataArray:
    """Concentration time series at receptors, ``(time, receptor)``. [kg m-3]"""
    values, inside = sample_bilinear(field, receptors.lat, receptors.lon)
    values[:, ~inside] = np.nan  # off the grid: unknown, not zero
    da = xr.DataArray(
        values,
        dims=("time", "receptor"),
        coords={"time": field["time"].values, **receptor_coords(receptors)},
        name="concentration",
        attrs={
            "units": CONC_UNITS,
            "long_name": "near-surface mass concentration at receptor (bilinear between output cell centres; "
            "NaN off the output grid)",
            "cell_methods": field.attrs.get("cell_methods", "time: mean"),
        },
    )
    return da
