"""Dry deposition velocity on the met grid from each cell's mix of land uses, as FLEXPART
computes it (``deposition.land_use: map``).

FLEXPART (Stohl et al. 2005, Atmos. Chem. Phys. 5, 2461, doi:10.5194/acp-5-2461-2005,
sect. 5; its ``assignland.f90`` and ``getvdep.f90``) gives each node of the met grid the
shares ``f_c`` of the 13 land-use classes of its land-use inventory
(:mod:`plumecast.transport.landuse`) and, at every met record, the deposition velocity

    v_d = sum_c f_c / (r_a,c + r_b + r_c,c)

with the aerodynamic resistance ``r_a,c`` of the class's own roughness length
(:data:`ROUGHNESS_LENGTH_M`, FLEXPART's ``options/surfdata.t``) under the node's u* and
1/L, the gas's quasi-laminar resistance ``r_b`` and Wesely's surface resistance
``r_c,c`` of the class in the season of the node's latitude band
(:mod:`plumecast.transport.drydep`), at the met's solar radiation and surface
temperature where the met has them. The particles take ``v_d`` interpolated from the
nodes like the other boundary-layer fields (``WindGrid.dry_velocity``), as FLEXPART's
particles take ``vdep``. Water is the inventory's class 7; the met's land-sea mask and
``deposition.land_mask`` do not enter.

A node's shares are the mean of the inventory's shares at ``n x n`` points spread evenly
over the node's cell (one grid spacing centred on the node), ``n`` enough to put two
points in every 0.3 degree inventory cell the node's cell covers (FLEXPART samples 10 x
10). Points on the inventory's four cells without data count as water.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from plumecast.transport import boundary_layer as bl
from plumecast.transport import drydep
from plumecast.transport.drydep import LAND_USES
from plumecast.transport.landuse import CELL_DEG, inventory
from plumecast.transport.windgrid import WindGrid

__all__ = ["ROUGHNESS_LENGTH_M", "CellDeposition", "class_fractions_on_grid"]

#: Roughness length of each class of :data:`plumecast.transport.drydep.LAND_USES` for its
#: aerodynamic resistance: FLEXPART 10.4 ``options/surfdata.t`` (flexpart/flexpart, commit
#: 3d7eebf7c4909f59db5ec32c524f88fb846e9fe5). [m]
ROUGHNESS_LENGTH_M: dict[str, float] = {
    "urban": 0.7, "agricultural": 0.1, "range": 0.1, "deciduous_forest": 1.0, "coniferous_forest": 1.0,
    "mixed_forest": 0.7, "water": 0.001, "barren": 0.01, "wetland": 0.1, "mixed_agricultural_range": 0.1,
    "rocky_open_shrubs": 0.05, "snow_ice": 0.001, "rainforest": 1.0,
}
_WATER = LAND_USES.index("water")


@lru_cache(maxsize=4)
def class_fractions_on_grid(lon0: float, dlon: float, nlon: int, lat0: float, dlat: float,
                            nlat: int) -> NDArray[np.float64]:
    """Shares of the 13 classes in each node's cell of the regular grid of ``nlon`` x
    ``nlat`` nodes from (``lon0``, ``lat0``): (13, nlat, nlon), summing to 1 at each node;
    kept for the next run on the same grid; read-only."""
    category, weight = inventory()
    n = int(min(max(2, math.ceil(2.0 * max(abs(dlon), abs(dlat)) / CELL_DEG)), 10))
    off = (np.arange(n) + 0.5) / n - 0.5
    lon = lon0 + dlon * np.arange(nlon)
    lat = lat0 + dlat * np.arange(nlat)
    out = np.zeros((len(LAND_USES), nlat, nlon))
    node = np.arange(nlon)
    for j in range(nlat):  # one row at a time: n^2 samples per node
        py = np.clip(lat[j] + off * dlat, -90.0, 90.0)
        px = lon[:, None] + off[None, :] * dlon  # (nlon, n)
        row = np.minimum(((py + 90.0) // CELL_DEG).astype(np.int64), category.shape[0] - 1)  # (n,)
        col = (((px + 180.0) % 360.0) // CELL_DEG).astype(np.int64) % category.shape[1]  # (nlon, n)
        cats = category[row[None, :, None], col[:, None, :]]  # (nlon, n rows, n cols, 3)
        wts = weight[row[None, :, None], col[:, None, :]]
        idx = node[:, None, None, None] * len(LAND_USES) + cats
        counts = np.bincount(idx.ravel(), weights=wts.ravel(), minlength=nlon * len(LAND_USES))
        acc = counts.reshape(nlon, len(LAND_USES)) / (n * n)
        missing = 1.0 - acc.sum(axis=1)  # points without data: water
        acc[:, _WATER] += np.where(missing > 1e-9, missing, 0.0)
        out[:, j, :] = acc.T
    out = np.clip(out, 0.0, 1.0)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class CellDeposition:
    """What the dry deposition velocity of every node takes besides the met: the gas,
    the season of each latitude band (north of the tropics, the tropics, south of them:
    :func:`plumecast.transport.boundary_layer.season_band`) and the declared radiation and
    temperature for the stomata where the met has none."""

    gas: drydep.WeselyGas
    seasons: tuple[str, str, str]
    solar_w_m2: float = 0.0
    surface_temperature_c: float = 15.0

    def fractions(self, grid: WindGrid) -> NDArray[np.float64]:
        """:func:`class_fractions_on_grid` of ``grid``."""
        return class_fractions_on_grid(grid.lon0, grid.dlon, grid.nlon, grid.lat0, grid.dlat, grid.nlat)

    def velocity(self, grid: WindGrid) -> NDArray[np.float32]:
        """The dry deposition velocity of each node and record of ``grid`` (which carries
        the boundary-layer fields): (time, lat, lon) float32. [m s-1]"""
        if grid.surface is None:
            raise ValueError("the dry deposition velocity of the cells needs the met's u* and 1/L")
        frac = self.fractions(grid)
        rb_u = drydep.laminar_factor(self.gas.diffusivity_ratio)
        lat = grid.lat0 + grid.dlat * np.arange(grid.nlat)
        band = bl.season_band_array(lat)
        rows = [band == b for b in range(bl.SEASON_BANDS)]
        out = np.zeros((grid.surface.shape[0], grid.nlat, grid.nlon), np.float32)
        for k in range(out.shape[0]):
            ustar = grid.surface[k, 1].astype(np.float64)
            inv_l = grid.surface[k, 2].astype(np.float64)
            vd = np.zeros((grid.nlat, grid.nlon))
            for c, name in enumerate(LAND_USES):
                f = frac[c]
                if not np.any(f > 0.0):
                    continue
                rc = np.empty((grid.nlat, grid.nlon))
                for b, sel in enumerate(rows):
                    if not np.any(sel):
                        continue
                    season = self.seasons[b]
                    if grid.stomata is not None:
                        terms = drydep.resistance_terms(self.gas, name, season)
                        rc[sel] = bl.surface_resistance_met_array(grid.stomata[k, 0][sel].astype(np.float64),
                                                                  grid.stomata[k, 1][sel].astype(np.float64), *terms)
                    else:
                        rc[sel] = drydep.surface_resistance(self.gas, name, season, solar_w_m2=self.solar_w_m2,
                                                            surface_temperature_c=self.surface_temperature_c)
                vd += f * bl.dry_velocity_array(ustar, inv_l, ROUGHNESS_LENGTH_M[name], rc, rb_u)
            out[k] = vd
        return out
