"""Consequences on the output grid: which cells reach AEGL-2/3, and how many people
live there (from a population raster).

Each cell's near-surface series is assessed like a receptor's
(:func:`plumecast.consequence.assess`: the same onset floor and AEGL for the
elapsed exposure duration), so a cell and a city in it follow one convention. The
grid values are interval means over a cell, so these flags understate peaks
inside a cell (the receptors' own figures are taken at the transport's
resolution, see :mod:`plumecast.exposure`); the output says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.units import ppm_to_kg_m3

LEVELS = (1, 2, 3)


def cells_reaching_aegl(conc: xr.DataArray, agent: Any, start: np.datetime64,
                        levels: tuple[int, ...] = LEVELS) -> NDArray[np.uint32]:
    """1 where a cell's concentration reaches AEGL-N at some time, shape (level, lat, lon).

    Cells whose peak stays below every tabulated value of all levels cannot reach
    any of them and are not assessed (the common case: fast).
    """
    from plumecast.consequence import assess

    f = conc.transpose("time", "lat", "lon")
    vals = np.asarray(f.values, dtype=float)
    nt, ny, nx = vals.shape
    flat = vals.reshape(nt, ny * nx)
    peak = flat.max(axis=0)
    out = np.zeros((len(levels), ny, nx), dtype=np.uint32)
    mw = agent.molecular_weight_g_mol
    lows = [np.nanmin(ppm_to_kg_m3(agent.aegl_table_ppm(lv), mw)) for lv in levels
            if not np.all(np.isnan(agent.aegl_table_ppm(lv)))]
    if not lows:
        return out
    cand = np.flatnonzero(peak >= min(lows))
    if cand.size == 0:
        return out
    da = xr.DataArray(flat[:, cand], dims=("time", "receptor"), coords={"time": f["time"].values},
                      attrs={"units": "kg m-3"})
    res = assess(da, agent, np.ones(cand.size), start=start, keep_timeseries=False)
    for k, lv in enumerate(levels):
        hit = ~np.isnat(np.asarray(res[f"first_exceedance_aegl{lv}"].values))
        out[k].reshape(-1)[cand[hit]] = 1
    return out


@dataclass(frozen=True)
class PeopleAbove:
    """People living in cells that reach each AEGL level."""

    level: tuple[int, ...]
    people: tuple[float, ...]  # NaN: no known raster cell among them
    cells: tuple[int, ...]
    unknown_fraction: tuple[float, ...]  # of the area of those cells with no raster value (area-weighted)
    source: str

    def rows(self) -> list[dict[str, Any]]:
        return [{"level": f"AEGL-{lv}", "cells": c, "people": p, "unknown_area_fraction": u, "population": self.source}
                for lv, p, c, u in zip(self.level, self.people, self.cells, self.unknown_fraction, strict=True)]


def people_above(flags: NDArray[np.uint32], lon_edges: NDArray[np.float64], lat_edges: NDArray[np.float64],
                 raster: Any, levels: tuple[int, ...] = LEVELS) -> PeopleAbove:
    """People (from a :class:`plumecast.population.PopulationRaster`) in the cells
    flagged by :func:`cells_reaching_aegl`."""
    people, unknown = raster.count_in_cells(lon_edges, lat_edges)
    # cell areas on the sphere (up to a constant): cells at different latitudes weigh by their area
    area = np.outer(np.abs(np.diff(np.sin(np.radians(np.asarray(lat_edges, dtype=float))))),
                    np.abs(np.diff(np.asarray(lon_edges, dtype=float))))
    out_p, out_c, out_u = [], [], []
    for k in range(len(levels)):
        m = flags[k].astype(bool)
        known = m & np.isfinite(people)
        out_c.append(int(m.sum()))
        out_p.append(float(people[known].sum()) if known.any() or not m.any() else float("nan"))
        out_u.append(float((unknown[m] * area[m]).sum() / area[m].sum()) if m.any() else 0.0)
    return PeopleAbove(tuple(levels), tuple(out_p), tuple(out_c), tuple(out_u), raster.describe())
