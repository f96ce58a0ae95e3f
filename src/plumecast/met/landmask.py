"""The fraction of land round each node of a met grid, from the shipped Natural Earth
1:110m land polygons (``data/geo/PROVENANCE.md``; "Made with Natural Earth"), for the
land-water mosaic of dry deposition where the met has no land-sea mask of its own
(ERA5 ``lsm``, GFS ``LAND``, WRF ``LANDMASK``).

A node's cell is the box of one grid spacing centred on it (clipped at the poles).
Its land fraction is the share of ``SAMPLES`` x ``SAMPLES`` points spread evenly over
the box that fall on land. Only cells near a coast are sampled so finely: those
whose node, or a neighbour's node, lies on the other side of the coast, or which
hold a vertex of a coastline. Every other cell takes its node's land or water whole.
A map at 1:110m misses islands smaller than a few tens of kilometres and places
coasts to about 10 km; a met's own mask, where there is one, is used first
(``deposition.land_mask``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.errors import DataFileError

__all__ = ["SAMPLES", "land_fraction", "land_fraction_on_grid"]

#: sample points per cell side in the cells near a coast
SAMPLES = 5
_FILE = "data/geo/ne_110m_land.geojson"


@lru_cache(maxsize=1)
def _land() -> tuple[Any, NDArray[np.float64]]:
    """The land as one prepared shapely geometry, and the vertices of its rings (n, 2)."""
    import shapely
    from shapely.geometry import shape

    ref = resources.files("plumecast").joinpath(_FILE)
    try:
        features = json.loads(ref.read_text(encoding="utf-8"))["features"]
    except FileNotFoundError:
        raise DataFileError(f"plumecast/{_FILE}: shipped map data missing; reinstall plumecast") from None
    land = shapely.union_all([shape(f["geometry"]) for f in features])
    shapely.prepare(land)
    vertices = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(land)))
    return land, np.asarray(vertices, dtype=np.float64)


def land_fraction(lon: ArrayLike, lat: ArrayLike, dlon: float, dlat: float) -> NDArray[np.float32]:
    """Land fraction, 0 (water) to 1 (land), of the cell of each node of the regular grid
    ``lon`` x ``lat`` (ascending, spacings ``dlon``, ``dlat`` [deg]): (lat, lon) float32."""
    import shapely

    land, vertices = _land()
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    wrap = lambda x: (x + 180.0) % 360.0 - 180.0  # noqa: E731 - the polygons span [-180, 180]
    glon, glat = np.meshgrid(wrap(lon), lat)
    frac = shapely.contains_xy(land, glon, glat).astype(np.float32)
    # cells near a coast: a neighbour on the other side, or a coastline vertex inside
    near = np.zeros(frac.shape, bool)
    for axis in (0, 1):
        step = np.diff(frac, axis=axis) != 0.0
        lo = [slice(None), slice(None)]
        hi = [slice(None), slice(None)]
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        near[tuple(lo)] |= step
        near[tuple(hi)] |= step
    j = np.rint((vertices[:, 1] - lat[0]) / dlat).astype(np.int64)
    i = np.rint(((vertices[:, 0] - lon[0]) % 360.0) / dlon).astype(np.int64) % max(1, round(360.0 / dlon))
    ok = (j >= 0) & (j < lat.size) & (i >= 0) & (i < lon.size)
    near[j[ok], i[ok]] = True
    jj, ii = np.nonzero(near)
    if jj.size:
        off = (np.arange(SAMPLES) + 0.5) / SAMPLES - 0.5
        sx = lon[ii][:, None, None] + off[None, None, :] * dlon
        sy = np.clip(lat[jj][:, None, None] + off[None, :, None] * dlat, -90.0, 90.0)
        sx, sy = np.broadcast_arrays(sx, sy)
        inside = shapely.contains_xy(land, wrap(sx), sy)
        frac[jj, ii] = inside.reshape(jj.size, -1).mean(axis=1)
    return frac


@lru_cache(maxsize=4)
def land_fraction_on_grid(lon0: float, dlon: float, nlon: int, lat0: float, dlat: float,
                          nlat: int) -> NDArray[np.float32]:
    """:func:`land_fraction` of the regular grid of ``nlon`` x ``nlat`` nodes from
    (``lon0``, ``lat0``), kept for the next run on the same grid (the members of an
    ensemble); read-only."""
    out = land_fraction(lon0 + dlon * np.arange(nlon), lat0 + dlat * np.arange(nlat), dlon, dlat)
    out.setflags(write=False)
    return out
