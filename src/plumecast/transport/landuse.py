"""The land use at a place, from the land-use inventory that FLEXPART ships, for Wesely's
(1989) resistance model of dry deposition (:mod:`plumecast.transport.drydep`).

The inventory (``data/geo/landuse_igbp_0p3deg.npz``, its provenance in
``data/geo/PROVENANCE.md``) is the IGBP-DIS DISCover 1-km land cover (Belward, Estes &
Kline 1999, Photogramm. Eng. Remote Sens. 65, 1013-1020; Loveland et al. 2000, Int. J.
Remote Sens. 21, 1303-1330) as FLEXPART 10.4 aggregates it (``options/IGBP_int1.dat``,
read by its ``readlanduse.f90``): cells of 0.3 degrees from 180 W and 90 S, and for
each the three most abundant of 13 classes with their shares in steps of 1/16. The
classes are Wesely's eleven land uses in his order, then snow and ice, then rainforest:
:data:`plumecast.transport.drydep.LAND_USES` in its order. As FLEXPART's
``assignland.f90`` does, a cell's shares are those of its three classes, rescaled to
sum to one.

``deposition.land_use: map`` deposits by each met cell's shares of these classes
(:mod:`plumecast.transport.deposition_cells`); its notes give, for scale, the land use round
the release (:func:`release_land_use`; the first point release, else the most populous
city of the first city release): the most abundant land class (not
water) of that cell, or, where it holds no land, of the cells round it within
:data:`SEARCH_DEG`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from plumecast.errors import DataFileError
from plumecast.transport.drydep import LAND_USES

__all__ = ["CELL_DEG", "SEARCH_DEG", "PlaceLandUse", "cell_shares", "inventory", "release_land_use"]

#: Side of an inventory cell. [deg]
CELL_DEG = 0.3
#: Cells within this distance of the release's (in longitude and latitude) are searched
#: for land where its own holds none. [deg]
SEARCH_DEG = 1.0
_NLON, _NLAT = 1200, 600
_FILE = "landuse_igbp_0p3deg.npz"
_WATER = LAND_USES.index("water")


@lru_cache(maxsize=1)
def inventory() -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The inventory: each cell's three classes (indices into LAND_USES) and their shares,
    rescaled to sum to 1 in each cell (as FLEXPART's ``assignland.f90``; 0 where the
    inventory has nothing), arrays of shape (600, 1200, 3), row 0 from 90 S, column 0
    from 180 W."""
    try:
        raw = resources.files("plumecast").joinpath("data", "geo", _FILE).read_bytes()
        with np.load(io.BytesIO(raw)) as z:
            category = np.asarray(z["category"])
            share16 = np.asarray(z["share16"])
    except (OSError, KeyError, ValueError) as exc:
        raise DataFileError(f"plumecast/data/geo/{_FILE}: the shipped land-use inventory cannot be read ({exc}); "
                            "reinstall plumecast") from None
    shape = (_NLAT, _NLON, 3)
    if category.shape != shape or share16.shape != shape or category.min() < 1 or category.max() > len(LAND_USES):
        raise DataFileError(f"plumecast/data/geo/{_FILE}: expected classes 1-{len(LAND_USES)} on a {shape} grid; "
                            "reinstall plumecast")
    share = share16.astype(np.float64)
    total = share.sum(-1, keepdims=True)
    return (category - 1).astype(np.int64), np.divide(share, total, out=np.zeros_like(share), where=total > 0.0)


def _cell(lon: float, lat: float) -> tuple[int, int]:
    """Row (latitude) and column (longitude) of the cell holding (lon, lat)."""
    if not (np.isfinite(lon) and np.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"({lon!r}, {lat!r}) is not a place: expected a finite longitude and a latitude "
                         "within -90..90 degrees")
    col = int(((lon + 180.0) % 360.0) // CELL_DEG) % _NLON
    row = min(int((lat + 90.0) // CELL_DEG), _NLAT - 1)
    return row, col


def _shares_of(row: int, col: int) -> NDArray[np.float64]:
    """The shares of the 13 classes in one cell, summing to 1 (all 0 where the
    inventory has nothing there)."""
    category, share = inventory()
    out = np.zeros(len(LAND_USES))
    np.add.at(out, category[row, col], share[row, col])
    return out


def cell_shares(lon: float, lat: float) -> dict[str, float]:
    """The land uses of the inventory's cell holding (lon, lat) [deg] and their shares
    (summing to 1, largest first); empty where the inventory has nothing there."""
    shares = _shares_of(*_cell(lon, lat))
    order = np.argsort(-shares, kind="stable")
    return {LAND_USES[i]: float(shares[i]) for i in order if shares[i] > 0.0}


@dataclass(frozen=True)
class PlaceLandUse:
    """The land use the resistance model takes at a place, and why."""

    #: one of :data:`plumecast.transport.drydep.LAND_USES`
    land_use: str
    #: its share of the land of the cells it was chosen from [-]
    land_share: float
    #: the shares of the place's own cell (:func:`cell_shares`)
    cell: dict[str, float]
    #: how it was chosen, for the run's notes
    how: str


def release_land_use(lon: float, lat: float) -> PlaceLandUse:
    """The land use of ``deposition.land_use: map`` at (lon, lat) [deg]: the most
    abundant land class of the inventory's cell there, else of the cells within
    :data:`SEARCH_DEG` of it; water where they hold no land."""
    row, col = _cell(lon, lat)
    own = _shares_of(row, col)
    where = f"its {CELL_DEG:g} degree cell"
    land = own.copy()
    land[_WATER] = 0.0
    if land.sum() == 0.0:
        k = int(round(SEARCH_DEG / CELL_DEG))
        land = np.zeros(len(LAND_USES))
        for r in range(max(row - k, 0), min(row + k, _NLAT - 1) + 1):
            for c in range(col - k, col + k + 1):
                land += _shares_of(r, c % _NLON)
        land[_WATER] = 0.0
        where = f"the {CELL_DEG:g} degree cells within {SEARCH_DEG:g} degree (its own holds no land)"
    cell = {LAND_USES[i]: float(own[i]) for i in np.argsort(-own, kind="stable") if own[i] > 0.0}
    listed = ", ".join(f"{name} {100.0 * share:.0f} %" for name, share in cell.items()) or "no data"
    if land.sum() == 0.0:
        return PlaceLandUse("water", 1.0, cell, f"water: no land within {SEARCH_DEG:g} degree in the IGBP-DIS land "
                            f"cover (its cell: {listed})")
    best = int(np.argmax(land))
    share = float(land[best] / land.sum())
    return PlaceLandUse(LAND_USES[best], share, cell,
                        f"{LAND_USES[best]}, {100.0 * share:.0f} % of the land of {where} in the IGBP-DIS land cover "
                        f"as FLEXPART ships it (the cell: {listed})")
