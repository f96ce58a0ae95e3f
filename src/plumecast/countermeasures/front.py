"""The neutralisation front ("atmospheric converter").

From ignition point(s) at time ``T`` a combustion front spreads over the sphere at
a given speed ``v`` through air whose near-surface concentration is at or above a
threshold (by default the agent's lower flammability limit, LFL) and removes the
gas it passes. It cannot cross clean air: a gap of cells below the threshold stops
it.

Model (on the output grid, advanced once per output interval)
-------------------------------------------------------------
* Cells are graph nodes; each cell is joined to 16 neighbours: the 8 around it and
  the 8 "knight" cells (one row and two columns away, or two rows and one column).
  An edge's length is the great-circle distance between the cell centres
  (haversine, Earth radius :data:`plumecast.units.EARTH_RADIUS_M`); longitude is
  periodic when the grid spans 360 degrees. The knight moves make path lengths on
  the graph close to great-circle distances: on square cells the longest detour of
  a 16-neighbour path is ``1/cos(13.3 deg) - 1 = 2.8 %`` (8 neighbours alone:
  8.2 %); on lon/lat cells it grows where cells are narrow (high latitudes). The
  error always makes the front late, never early.
* The front enters a cell only if the cell is at or above the threshold during the
  output interval in which the front gets there, and an edge that passes between
  cells needs those cells to be flammable too (a diagonal step needs one of the two
  cells it passes between, a knight step both cells its segment crosses): the
  front moves from cell to cell through flammable cells sharing a side, and never
  jumps a gap, even a one-cell diagonal line of clean air.
* Arrival time ``t_j = min_i (t_i + d_ij / v)`` over flammable paths (Dijkstra's
  algorithm, :func:`scipy.sparse.csgraph.dijkstra`, with a virtual source joined
  to the front's cells). Each call continues from the cells that burnt in earlier
  intervals, at their own arrival times, so the front does not lose time at the
  interval edges.
* A cell burns once. Gas that later comes back into a burnt cell (from a source
  still emitting, or carried in by the wind) is not lit again unless the front
  reaches it anew, which it cannot through the burnt cells (they are now clean):
  the converter is a travelling flame, not a standing one.
* Ignition: each igniter is a pilot flame from ``T``: its cell lights at the first
  moment at or after ``T`` when the cell is at or above the threshold (at ``T`` if
  it already is; at the start of the first interval after ``T`` in which it is,
  otherwise). An igniter in air that never becomes flammable lights nothing
  (:attr:`Front.ignition_s` stays ``inf``).
* :meth:`Front.advance` returns the cells that burnt during the interval; the
  runner removes the particles in them (the "neutralised" term of the mass
  budget). Cells below the threshold are never returned, so nothing is removed
  from air the front cannot burn.

Threshold: the LFL in % v/v converted to a mass concentration with the ideal gas
law at 25 degC and 1 atm (:func:`plumecast.units.ppm_to_kg_m3`), the reference
state of the tabulated limits (IEC 60079-20-1). Near-surface air is usually
colder, which raises the mass concentration of a given volume fraction by a few
per cent; a user threshold replaces the LFL.

References: Dijkstra, E.W. (1959) A note on two problems in connexion with graphs.
Numerische Mathematik 1, 269-271. Haversine formula: Sinnott, R.W. (1984) Virtues
of the haversine. Sky and Telescope 68(2), 159.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from plumecast.errors import ScenarioError
from plumecast.units import EARTH_RADIUS_M, P_STANDARD_PA, T_STANDARD_K, ppm_to_kg_m3

__all__ = [
    "Front",
    "FrontSpec",
    "agent_lfl_kg_m3",
    "great_circle_m",
    "lfl_kg_m3",
]

# (d_row, d_col, mode, via cells): mode 0 none, 1 any of the via cells, 2 all of them
_OFFSETS: list[tuple[int, int, int, tuple[tuple[int, int], ...]]] = []
for _di, _dj in ((0, 1), (0, -1), (1, 0), (-1, 0)):
    _OFFSETS.append((_di, _dj, 0, ()))
for _si in (1, -1):
    for _sj in (1, -1):
        _OFFSETS.append((_si, _sj, 1, ((_si, 0), (0, _sj))))
        _OFFSETS.append((_si, 2 * _sj, 2, ((0, _sj), (_si, _sj))))
        _OFFSETS.append((2 * _si, _sj, 2, ((_si, 0), (_si, _sj))))

#: Seconds added to the virtual source's edges so that none has zero weight.
_SOURCE_OFFSET_S = 1.0


def great_circle_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance on a sphere of radius ``EARTH_RADIUS_M`` (haversine,
    Sinnott 1984), from degrees. [m]

    >>> round(float(great_circle_m(0.0, 0.0, 0.0, 1.0)) / 1000.0, 3)
    111.195
    """
    p1, p2 = np.deg2rad(np.asarray(lat1, float)), np.deg2rad(np.asarray(lat2, float))
    dp = p2 - p1
    dl = np.deg2rad(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=float)


def lfl_kg_m3(
    lfl_vol_pct: float,
    molecular_weight_g_mol: float,
    temperature_k: float = T_STANDARD_K,
    pressure_pa: float = P_STANDARD_PA,
) -> float:
    """Lower flammability limit as a mass concentration (ideal gas). [kg m-3]

    ``c = x P M / (R T)`` with ``x = LFL / 100``.

    >>> round(lfl_kg_m3(5.0, 16.043), 4)   # methane: 5 % v/v
    0.0328
    """
    if not (0 < lfl_vol_pct <= 100):
        raise ValueError(f"lfl_vol_pct = {lfl_vol_pct}; expected a volume percentage in (0, 100]")
    return float(ppm_to_kg_m3(lfl_vol_pct * 1.0e4, molecular_weight_g_mol, temperature_k, pressure_pa))


def agent_lfl_kg_m3(agent: Any) -> float:
    """The agent's LFL in kg m-3 (the front's default threshold).

    Raises
    ------
    ScenarioError
        The agent has no lower flammability limit (it cannot burn unless the
        scenario gives ``threshold_kg_m3``).
    """
    lfl = getattr(agent, "lfl_vol_pct", None)
    if lfl is None:
        raise ScenarioError(
            f"front: agent {getattr(agent, 'name', agent)!r} has no lower flammability limit (lfl_vol_pct); "
            "give the front a threshold_kg_m3 or threshold_ppm, or define lfl_vol_pct for the agent"
        )
    return lfl_kg_m3(float(lfl), float(agent.molecular_weight_g_mol))


def _check_axis(centres: ArrayLike, edges: ArrayLike | None, name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c = np.asarray(centres, dtype=float).reshape(-1)
    if c.size < 1 or not np.all(np.isfinite(c)):
        raise ValueError(f"front grid: {name} centres must be finite and non-empty")
    if c.size > 1 and np.any(np.diff(c) <= 0):
        raise ValueError(f"front grid: {name} centres must increase strictly")
    if edges is None:
        if c.size < 2:
            raise ValueError(f"front grid: give {name}_edges for a single {name} cell")
        mid = 0.5 * (c[1:] + c[:-1])
        e = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    else:
        e = np.asarray(edges, dtype=float).reshape(-1)
    if e.size != c.size + 1 or np.any(np.diff(e) <= 0) or np.any((c <= e[:-1]) | (c >= e[1:])):
        raise ValueError(f"front grid: {name}_edges must increase and hold one centre per cell ({c.size + 1} edges)")
    return c, e


@dataclass(frozen=True)
class FrontSpec:
    """A front independent of the grid (what a plan says). Build it on the run's
    output grid with :meth:`on_grid` or :meth:`on_output_grid`.

    Parameters
    ----------
    ignitions : ((lat, lon), ...) ignition points. [deg]
    ignite_time_s : ignition, seconds after the release start. [s]
    speed_m_s : front speed. [m s-1]
    threshold_kg_m3 : lowest concentration that burns. [kg m-3]
    """

    ignitions: tuple[tuple[float, float], ...]
    ignite_time_s: float
    speed_m_s: float
    threshold_kg_m3: float

    def __post_init__(self) -> None:
        pts = tuple((float(a), float(b)) for a, b in self.ignitions)
        object.__setattr__(self, "ignitions", pts)
        _validate(pts, self.ignite_time_s, self.speed_m_s, self.threshold_kg_m3)

    def on_grid(
        self, lon: ArrayLike, lat: ArrayLike, lon_edges: ArrayLike | None = None, lat_edges: ArrayLike | None = None
    ) -> Front:
        """A :class:`Front` on a lon/lat grid (cell centres, optional edges). [deg]"""
        return Front(lon, lat, lon_edges, lat_edges, self.ignitions, self.ignite_time_s, self.speed_m_s,
                     self.threshold_kg_m3)

    def on_output_grid(self, grid: Any) -> Front:
        """A :class:`Front` on a :class:`plumecast.concentration.OutputGrid`."""
        lon_e = grid.lon0 + np.arange(grid.nlon + 1) * grid.dlon
        lat_e = grid.lat0 + np.arange(grid.nlat + 1) * grid.dlat
        return self.on_grid(grid.lon, grid.lat, lon_e, lat_e)


def _validate(ignitions: Sequence[tuple[float, float]], t: float, v: float, thr: float) -> None:
    if len(ignitions) == 0:
        raise ScenarioError("front: no ignition point; expected at least one [lat, lon]")
    for lat, lon in ignitions:
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
            raise ScenarioError(f"front: ignition point [{lat}, {lon}]; expected [lat, lon] in degrees")
    if not (math.isfinite(t) and t >= 0):
        raise ScenarioError(f"front: ignition time {t!r} s; expected seconds after start, >= 0")
    if not (math.isfinite(v) and v > 0):
        raise ScenarioError(f"front: speed {v!r} m/s; expected > 0")
    if not (math.isfinite(thr) and thr > 0):
        raise ScenarioError(f"front: threshold {thr!r} kg m-3; expected > 0")


def _dlon(front: Front, j: NDArray[np.int64], dj: int) -> NDArray[np.float64]:
    """Longitude step from column ``j`` to ``j + dj`` (across the seam of a periodic grid). [deg]"""
    j2 = j + dj
    if front.periodic:
        n = front.lon.size
        base = front.lon[j2 % n] + 360.0 * np.floor_divide(j2, n)
    else:
        base = front.lon[np.clip(j2, 0, front.lon.size - 1)]
    return np.asarray(base - front.lon[j], dtype=float)


class Front:
    """A neutralisation front on a lon/lat grid.

    Parameters
    ----------
    lon, lat : cell-centre longitudes and latitudes, increasing. [deg]
    lon_edges, lat_edges : cell edges (``None``: midway between centres). [deg]
    ignitions : ((lat, lon), ...) ignition points; each lights the cell holding it. [deg]
    ignite_time_s : ignition, seconds after the release start. [s]
    speed_m_s : front speed. [m s-1]
    threshold_kg_m3 : lowest near-surface concentration that burns. [kg m-3]

    Attributes
    ----------
    arrival_s : (lat, lon) time the front reached each cell, ``inf`` where it has not. [s]
    ignition_s : (n_ignitions,) time each igniter lit its cell (``inf``: not yet). [s]
    periodic : True when the grid spans 360 degrees of longitude.
    """

    def __init__(
        self,
        lon: ArrayLike,
        lat: ArrayLike,
        lon_edges: ArrayLike | None,
        lat_edges: ArrayLike | None,
        ignitions: Sequence[tuple[float, float]] | ArrayLike,
        ignite_time_s: float,
        speed_m_s: float,
        threshold_kg_m3: float,
    ) -> None:
        pts = [(float(a), float(b)) for a, b in np.asarray(ignitions, dtype=float).reshape(-1, 2)]
        _validate(pts, float(ignite_time_s), float(speed_m_s), float(threshold_kg_m3))
        self.lon, self.lon_edges = _check_axis(lon, lon_edges, "lon")
        self.lat, self.lat_edges = _check_axis(lat, lat_edges, "lat")
        if self.lat_edges[0] < -90.0 - 1e-9 or self.lat_edges[-1] > 90.0 + 1e-9:
            raise ValueError("front grid: latitude edges beyond +-90 degrees")
        self.periodic = bool(abs((self.lon_edges[-1] - self.lon_edges[0]) - 360.0) < 1e-6)
        self.ignite_time_s = float(ignite_time_s)
        self.speed_m_s = float(speed_m_s)
        self.threshold_kg_m3 = float(threshold_kg_m3)
        self.shape = (self.lat.size, self.lon.size)
        cells = self.cell_index(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        if np.any(cells < 0):
            bad = pts[int(np.flatnonzero(cells < 0)[0])]
            raise ScenarioError(
                f"front: ignition point [lat {bad[0]:g}, lon {bad[1]:g}] is outside the output grid "
                f"(lat {self.lat_edges[0]:g}..{self.lat_edges[-1]:g}, lon {self.lon_edges[0]:g}..{self.lon_edges[-1]:g})"
            )
        self.ignitions = tuple(pts)
        self._ign_cells = cells
        self.ignition_s = np.full(len(pts), np.inf)
        self.arrival_s = np.full(self.shape, np.inf)
        self._t_last = -np.inf
        self._build_edges()

    # ------------------------------------------------------------------ grid

    def _build_edges(self) -> None:
        nlat, nlon = self.shape
        ii = np.repeat(np.arange(nlat, dtype=np.int64), nlon)
        jj = np.tile(np.arange(nlon, dtype=np.int64), nlat)
        src, dst, w_m, mode, v1, v2 = [], [], [], [], [], []
        for di, dj, md, via in _OFFSETS:
            i2, j2 = ii + di, jj + dj
            ok = (i2 >= 0) & (i2 < nlat)
            if self.periodic:
                j2 = j2 % nlon
            else:
                ok &= (j2 >= 0) & (j2 < nlon)
            s = ii[ok] * nlon + jj[ok]
            d = i2[ok] * nlon + j2[ok]
            # the length depends on the two latitudes and the longitude difference only
            lat_a, lat_b = self.lat[ii[ok]], self.lat[i2[ok]]
            w_m.append(great_circle_m(lat_a, self.lon[jj[ok]], lat_b, self.lon[jj[ok]] + _dlon(self, jj[ok], dj)))
            vias = []
            for vi, vj in via:
                vj_ = (jj[ok] + vj) % nlon if self.periodic else jj[ok] + vj
                vias.append((ii[ok] + vi) * nlon + vj_)
            while len(vias) < 2:
                vias.append(np.full(s.size, -1, dtype=np.int64))
            src.append(s)
            dst.append(d)
            mode.append(np.full(s.size, md, dtype=np.int8))
            v1.append(vias[0])
            v2.append(vias[1])
        s_all, d_all, w = np.concatenate(src), np.concatenate(dst), np.concatenate(w_m)
        keep = (s_all != d_all) & (w > 0)
        idx = np.flatnonzero(keep)
        if self.periodic and nlon < 5:
            # tiny periodic grids: two offsets may join the same pair; keep the shortest
            key = s_all[keep] * (nlat * nlon) + d_all[keep]
            order = np.lexsort((w[keep], key))
            first = np.ones(order.size, dtype=bool)
            first[1:] = key[order][1:] != key[order][:-1]
            idx = idx[order[first]]
        self._src = s_all[idx]
        self._dst = d_all[idx]
        self._w_s = w[idx] / self.speed_m_s
        self._mode = np.concatenate(mode)[idx]
        self._v1 = np.concatenate(v1)[idx]
        self._v2 = np.concatenate(v2)[idx]

    def cell_index(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.int64]:
        """Flat index (row * nlon + col) of the cell holding each point; -1 off the grid."""
        la = np.asarray(lat, dtype=float).reshape(-1)
        lo = np.asarray(lon, dtype=float).reshape(-1)
        if self.periodic:
            lo = (lo - self.lon_edges[0]) % 360.0 + self.lon_edges[0]
        else:
            # try the point's longitude in both conventions (-180..180 and 0..360)
            alt = np.where(lo < self.lon_edges[0], lo + 360.0, np.where(lo > self.lon_edges[-1], lo - 360.0, lo))
            lo = alt
        i = np.searchsorted(self.lat_edges, la, side="right") - 1
        j = np.searchsorted(self.lon_edges, lo, side="right") - 1
        i = np.where(la == self.lat_edges[-1], self.lat.size - 1, i)
        j = np.where(lo == self.lon_edges[-1], self.lon.size - 1, j)
        ok = (i >= 0) & (i < self.lat.size) & (j >= 0) & (j < self.lon.size) & np.isfinite(la) & np.isfinite(lo)
        return np.where(ok, i * self.lon.size + j, -1).astype(np.int64)

    # ------------------------------------------------------------------ state

    @property
    def burnt(self) -> NDArray[np.bool_]:
        """(lat, lon) cells the front has reached so far."""
        return np.asarray(np.isfinite(self.arrival_s))

    def arrival_at(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
        """Front arrival at points (the cell holding each), seconds after the release
        start: ``inf`` where it has not arrived, NaN for a point off the grid. [s]"""
        idx = self.cell_index(lat, lon)
        flat = self.arrival_s.reshape(-1)
        return np.where(idx >= 0, flat[np.maximum(idx, 0)], np.nan)

    # ------------------------------------------------------------------ physics

    def _via_ok(self, ok: NDArray[np.bool_], sel: NDArray[np.int64]) -> NDArray[np.bool_]:
        mode = self._mode[sel]
        a = ok[np.maximum(self._v1[sel], 0)]
        b = ok[np.maximum(self._v2[sel], 0)]
        return np.asarray((mode == 0) | ((mode == 1) & (a | b)) | ((mode == 2) & a & b))

    def advance(self, conc: ArrayLike, t0_s: float, t1_s: float) -> NDArray[np.bool_]:
        """Move the front through the interval ``[t0_s, t1_s]``.

        Parameters
        ----------
        conc : (lat, lon) near-surface concentration over the interval. [kg m-3]
            NaN counts as not flammable.
        t0_s, t1_s : interval, seconds after the release start; calls must come in
            time order. [s]

        Returns
        -------
        (lat, lon) bool: the cells that burnt during this interval (and only they).
        """
        c = np.asarray(conc, dtype=float)
        if c.shape != self.shape:
            raise ValueError(f"front: concentration has shape {c.shape}; expected (lat, lon) = {self.shape}")
        t0, t1 = float(t0_s), float(t1_s)
        if not (t1 > t0):
            raise ValueError(f"front: interval [{t0}, {t1}] s is empty; expected t1 > t0")
        if t0 < self._t_last - 1e-6:
            raise ValueError(f"front: interval starts at {t0} s, before the end of the last one ({self._t_last} s)")
        self._t_last = t1
        new = np.zeros(self.shape, dtype=bool)
        if t1 < self.ignite_time_s:
            return new
        n = c.size
        arr = self.arrival_s.reshape(-1)
        burnt = np.isfinite(arr)
        flam = np.nan_to_num(c.reshape(-1), nan=-np.inf) >= self.threshold_kg_m3
        active = flam & ~burnt
        if not active.any():
            return new
        seed_t = np.full(n, np.inf)
        # edges from the cells burnt in earlier intervals, arriving in this one
        sel = np.flatnonzero(burnt[self._src] & active[self._dst])
        if sel.size:
            sel = sel[self._via_ok(active | burnt, sel)]
            t_arr = arr[self._src[sel]] + self._w_s[sel]
            go = t_arr >= t0
            np.minimum.at(seed_t, self._dst[sel[go]], t_arr[go])
        # igniters (pilot flames from T)
        t_ign = max(self.ignite_time_s, t0)
        for cell in self._ign_cells:
            if active[cell]:
                seed_t[cell] = min(seed_t[cell], t_ign)
        seeds = np.flatnonzero(np.isfinite(seed_t))
        if seeds.size == 0:
            return new
        sel = np.flatnonzero(active[self._src] & active[self._dst])
        sel = sel[self._via_ok(active, sel)]
        rows = np.concatenate([self._src[sel], np.full(seeds.size, n)])
        cols = np.concatenate([self._dst[sel], seeds])
        data = np.concatenate([self._w_s[sel], seed_t[seeds] - t0 + _SOURCE_OFFSET_S])
        graph = csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
        span = (t1 - t0) + _SOURCE_OFFSET_S
        dist = dijkstra(graph, directed=True, indices=n, limit=span * (1 + 1e-12) + 1e-9)
        t_new = t0 + dist[:n] - _SOURCE_OFFSET_S
        lit = active & (t_new <= t1 + 1e-9)
        arr[lit] = np.maximum(t_new[lit], t0)
        for k, cell in enumerate(self._ign_cells):
            if lit[cell] and not np.isfinite(self.ignition_s[k]):
                self.ignition_s[k] = arr[cell]
        new.reshape(-1)[:] = lit
        return new
