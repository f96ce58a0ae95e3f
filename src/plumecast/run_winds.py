"""The met of one run, held a few records at a time.

A 72 h run on hourly 0.25 deg global files would need 73 records of 3-D winds,
vertical velocity and boundary-layer fields, several gigabytes, if it read them
all. :class:`RunWinds` keeps only the records the current kernel call needs: the
run loop asks :meth:`RunWinds.chunks` how to split an output interval so that each
kernel call stays between two consecutive records (more only when one time step is
longer than the met interval), and :meth:`RunWinds.grid_for` returns the
:class:`~plumecast.transport.windgrid.WindGrid` of just those records. Records are
read one at a time (lazily, through xarray/dask) and dropped once the run has
passed them, so at most three are resident: the two of the window and the one
being read. The record times of every grid stay seconds after the run start, so a
kernel's linear interpolation in time gives the same weights as on the whole set.

Quantities over intervals (precipitation, heat flux, solar radiation whose value at a
record is the mean over the interval ending there: :mod:`plumecast.met.intervals`)
are held constant over their interval: the first record of each window carries the
interval that begins at it (:func:`plumecast.met.wind_grid_3d`'s ``interval_starts``),
so that both records of a window hold the same rain, radiation and heat flux, where
the kernels' linear interpolation in time would otherwise spread half of each
interval's rain into the next one.

Which reader is used is the scenario's choice (``met.vertical``): ``levels`` reads
u, v, w and geopotential on the file's levels and interpolates them to heights
above ground (:func:`plumecast.met.wind_grid_3d`); ``single`` reads one level whose
wind applies at every height (the original behaviour). ``met.boundary_layer`` says
whether the boundary layer comes from the met or from the scenario's constants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dask
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast import met
from plumecast.errors import MetDataError, ScenarioError
from plumecast.met.intervals import INTERVAL, INTERVAL_FIELDS
from plumecast.met.reader import NO_WIND_UNITS, STEADY_TIME
from plumecast.transport.windgrid import SURFACE_FIELDS, WindGrid, wind_grid

if TYPE_CHECKING:
    from plumecast.stack_wind import SourceWind
    from plumecast.transport.deposition_cells import CellDeposition


class RunWinds:
    """The winds of one run, read record by record.

    Parameters
    ----------
    dataset : the normalised met dataset (lazy): single-level (``u``, ``v`` on
        ``(time, lat, lon)``) or 3-D (what :func:`plumecast.met.open_met_3d` returns).
    start : the run's start; record times are measured from it.
    levels : read the dataset's levels (3-D winds) rather than one level.
    boundary_layer : ``"met"``, ``"constant"`` or None (met when the met gives it).
    roughness_length_m : z0 of the log-law below the lowest level. [m]
    notes : lines on how the met was chosen, added to :attr:`provenance`.
    end : the run's end (default: its start): a dataset of one record (steady winds)
        valid more than :data:`STEADY_DATE_MARGIN` before the start or after the end
        gets a warning line in :attr:`provenance` (winds of another date).
    """

    def __init__(self, dataset: xr.Dataset, start: np.datetime64, *, levels: bool,
                 boundary_layer: str | None = None, roughness_length_m: float = 0.1,
                 notes: tuple[str, ...] = (), end: np.datetime64 | None = None) -> None:
        # the dataset's task graph optimised once (culled, fused): a record's read then starts
        # from it, not from the graph of every file of the set, whose optimisation at every
        # read grew with the number of files (one record of 49 hourly 0.25 degree files: 101
        # -> 53 ms to load; benchmarks/README.md, session 20)
        self.dataset = dask.optimize(dataset)[0]
        self.start: np.datetime64 = start.astype("datetime64[ns]")
        self.levels = bool(levels)
        self.boundary_layer = boundary_layer
        self.roughness_length_m = float(roughness_length_m)
        self.source = str(dataset.attrs.get("source", "wind dataset"))
        times = np.asarray(dataset["time"].values, dtype="datetime64[ns]")
        self.steady = bool(dataset.attrs.get("steady", 0)) or times.size == 1
        self.end: np.datetime64 = self.start if end is None else end.astype("datetime64[ns]")
        #: the valid time of a steady dataset's record (None: it has none, as the
        #: climatology and uniform winds)
        self.steady_time: np.datetime64 | None = (
            times[0] if self.steady and times.size and times[0] != STEADY_TIME else None)
        self.record_s = (np.zeros(1) if self.steady
                         else np.asarray((times - self.start) / np.timedelta64(1, "s"), dtype=np.float64))
        self._window: tuple[tuple[int, int], WindGrid] | None = None
        #: the height levels of the 3-D records (those of the first one read)
        self._heights: NDArray[np.float64] | None = None
        #: records read from the dataset so far, and the most held in one window
        self.records_read = 0
        self._read_span: tuple[int, int] | None = None  # first and last record read
        self.window_records = 0
        self._first: WindGrid | None = None
        #: a land fraction that replaces the met's on every record (use_land_mask)
        self._land: NDArray[np.float32] | None = None
        #: the dry deposition velocity of each node from its land uses (use_cell_deposition)
        self._cells: CellDeposition | None = None
        #: quantities over intervals in the met (held constant over each interval), and the
        #: boundary-layer fields of the records read with the interval after each
        self._interval = self.levels and boundary_layer != "constant" and any(
            str(dataset[n].attrs.get(INTERVAL, "")) == "1" for n in INTERVAL_FIELDS if n in dataset)
        self._starts: dict[int, NDArray[np.float32] | MetDataError] = {}
        first = self.first_grid()
        #: the records carry a boundary layer from the met (not for met.boundary_layer: constant)
        self.has_boundary_layer = first.surface is not None
        self._notes = tuple(notes)
        if self.boundary_layer == "met" and first.surface is None:
            raise MetDataError(
                f"{self.source}: met.boundary_layer is 'met' but the file gives no boundary-layer height and it "
                "could not be diagnosed from the profile; expected blh/hpbl (or temperature on the levels), or "
                "met.boundary_layer: constant"
            )
        self._provenance: tuple[str, ...] = self._notes + self._bl_lines(first)

    @property
    def provenance(self) -> tuple[str, ...]:
        """How the met was read, line by line (the first record's account), with the
        records the run has read so far in place of that record's own range."""
        if self._read_span is None:
            return self._provenance
        from plumecast.met.variables import _when

        lo, hi = self._read_span
        t_lo, t_hi = (self.start + np.timedelta64(int(round(self.record_s[i])), "s") for i in (lo, hi))
        held = f", at most {self.window_records} held at a time" if self.window_records > 1 else ""
        if not self.steady:
            line = (f"met: {self.source}, {hi - lo + 1} record(s) read, {_when(t_lo)}"
                    + (f" to {_when(t_hi)}" if hi > lo else "") + held)
        elif self.steady_time is None:
            line = f"met: {self.source}, one steady record (without a valid time), held for the whole run"
        else:
            line = f"met: {self.source}, one record, valid {_when(self.steady_time)}, held for the whole run (steady)"
        warning = self._steady_date_warning()
        out: list[str] = []
        for p in self._provenance:
            if not str(p).startswith("met: "):
                out.append(p)
                continue
            out.append(line)
            if warning:
                out.append(warning)
        if self.steady_time is not None and line not in out:
            # the single-level reader gives no met line: the record's date is said all the same
            out[len(self._notes):len(self._notes)] = [line, *([warning] if warning else [])]
        return tuple(out)

    def _steady_date_warning(self) -> str:
        """A warning line when the one record of steady winds is valid far from the run
        (more than :data:`STEADY_DATE_MARGIN` before its start or after its end); ''
        otherwise."""
        if self.steady_time is None:
            return ""
        from plumecast.met.variables import _when

        t = self.steady_time
        if t < self.start - STEADY_DATE_MARGIN:
            gap, side, ref = self.start - t, "before the run starts", self.start
        elif t > self.end + STEADY_DATE_MARGIN:
            gap, side, ref = t - self.end, "after the run ends", self.end
        else:
            return ""
        hours = float(gap / np.timedelta64(1, "s")) / 3600.0
        span = f"{hours / 24.0:,.3g} days" if hours >= 48.0 else f"{hours:,.3g} h"
        return (f"WARNING: the met has one record, valid {_when(t)}, {span} {side} ({_when(ref)}): winds of another "
                "date are held steady for the whole run; give met files whose times cover the run for a forecast")

    # ---- what the run loop asks -------------------------------------------------

    @property
    def n_records(self) -> int:
        return int(self.record_s.size)

    def record_span(self, t0_s: float, t1_s: float) -> tuple[int, int]:
        """First and last record the times ``t0_s .. t1_s`` [s after start] need:
        the last record at or before ``t0_s`` and the first at or after ``t1_s``
        (clipped to the records there are)."""
        n = self.n_records
        if n == 1:
            return 0, 0
        lo = int(np.clip(np.searchsorted(self.record_s, t0_s, side="right") - 1, 0, n - 1))
        hi = int(np.clip(np.searchsorted(self.record_s, t1_s, side="left"), 0, n - 1))
        return min(lo, hi), max(lo, hi)

    def chunks(self, step0: int, nsteps: int, dt_s: float) -> list[tuple[int, int]]:
        """Split steps ``step0 .. step0 + nsteps - 1`` into ``(first step, count)``
        calls, each of whose steps (start to end) lie between two consecutive
        records; a step longer than the met interval is a call of its own."""
        if self.n_records == 1:
            return [(step0, nsteps)]
        out: list[tuple[int, int]] = []
        s = step0
        end = step0 + nsteps
        while s < end:
            lo, hi = self.record_span(s * dt_s, (s + 1) * dt_s)
            limit = max(hi, lo + 1)
            n = 1
            while s + n < end and self.record_span((s + n) * dt_s, (s + n + 1) * dt_s)[1] <= limit:
                n += 1
            out.append((s, n))
            s += n
        return out

    @property
    def top_m(self) -> float | None:
        """The highest height of the kernels' met [m above ground] (on levels, once
        a record has been read); above it the top level's winds and w hold."""
        if not self.levels or self._heights is None or len(self._heights) < 2:
            return None
        return float(self._heights[-1])

    def grid_for(self, step0: int, nsteps: int, dt_s: float) -> WindGrid:
        """The WindGrid of the records steps ``step0 .. step0 + nsteps - 1`` need
        (a new object whenever the records change; records the run has passed are
        dropped)."""
        span = self.record_span(step0 * dt_s, (step0 + nsteps) * dt_s)
        old = self._window
        if old is not None and old[0] == span:
            return old[1]
        self._window = None
        lo, hi = span
        if old is not None and old[0] == (lo - 1, hi - 1) and hi > lo:
            # the usual case, one met interval later: shift the arrays by one record in
            # place and read the new last record into the last slot (3-D met; the
            # single-level record is copied there)
            g = old[1]
            for name in _RECORD_ARRAYS:
                x = getattr(g, name)
                if x is not None:
                    x[:-1] = x[1:]
            self._read_into(hi, g, -1)
            # the same stream, one record on: its packing keeps the record the two share (its wind; its
            # boundary-layer fields, which may now hold the next interval's quantities, are packed again)
            token = None if g.stream is None else g.stream[0]
            self._hold_intervals(g, lo)
            grid = dataclasses.replace(g, times_s=self.record_s[lo:hi + 1].copy(),
                                       stream=None if token is None else (token, lo))
        elif lo == hi:
            grid = self._record(lo)
        else:
            # the first window: the first record, then the others read into their slots
            # (zeros, not empty: the WindGrid checks its values)
            first = self._record(lo)
            arrays: dict[str, Any] = {}
            for name in _RECORD_ARRAYS:
                x = getattr(first, name)
                arrays[name] = None if x is None else np.zeros((hi - lo + 1,) + x.shape[1:], x.dtype)
                if x is not None:
                    arrays[name][0] = x[0]
            grid = dataclasses.replace(first, times_s=self.record_s[lo:hi + 1].copy(), **arrays)
            del first, arrays
            for r, k in enumerate(range(lo + 1, hi + 1), start=1):
                self._read_into(k, grid, r)
            self._hold_intervals(grid, lo)
            grid = dataclasses.replace(grid, stream=(object(), lo))  # a new stream: nothing packed is reused
        self._first = None
        self._window = (span, grid)
        self.window_records = max(self.window_records, hi - lo + 1)
        return grid

    def _hold_intervals(self, grid: WindGrid, lo: int) -> bool:
        """Give the first record of a window (record ``lo``, in place) the quantities of
        the interval that begins at it, so that the window holds them constant (the
        record read alone holds the interval that ends at it). True if a value changed."""
        for k in [k for k in self._starts if k < lo]:
            del self._starts[k]
        start = self._starts.get(lo)
        if isinstance(start, MetDataError):
            raise start  # the next record's values, refused when it was read
        if start is None or grid.surface is None:
            return False
        n = grid.surface.shape[1]
        changed = not np.array_equal(grid.surface[0], start[:n])
        grid.surface[0] = start[:n]
        if grid.stomata is not None:
            changed = changed or not np.array_equal(grid.stomata[0], start[n:])
            grid.stomata[0] = start[n:]
        if changed and self._cells is not None and grid.dry_velocity is not None:
            one = dataclasses.replace(grid, vec=grid.vec[:1], times_s=grid.times_s[:1],
                                      w=None if grid.w is None else grid.w[:1], surface=grid.surface[:1],
                                      stomata=None if grid.stomata is None else grid.stomata[:1],
                                      dry_velocity=None, stream=None)
            grid.dry_velocity[0] = self._cells.velocity(one)[0]
        return changed

    def first_grid(self) -> WindGrid:
        """The grid of the first record (domain checks before the run)."""
        if self._first is None:
            self._first = self._record(0)
        return self._first

    def wind_at(self) -> SourceWind:
        """``(lon, lat, t_s) -> (u_east, v_north)`` [m s-1] of the lowest level, from
        the records the run holds now (the same interpolation the particles see), with
        :meth:`~plumecast.stack_wind.SourceWind.at_stack`, the wind at a stack's top
        (on levels, the particles' wind at that height; with one level, ``zones``' power
        law from it taken as the 10 m wind) for the near-field plume of a stack."""
        from plumecast.runner import wind_sampler
        from plumecast.stack_wind import SourceWind

        cache: dict[str, Any] = {}

        def grid_now() -> WindGrid:
            return self._window[1] if self._window is not None else self.first_grid()

        def at(lon: float, lat: float, t_s: float) -> tuple[float, float]:
            grid = grid_now()
            if cache.get("grid") is not grid or cache.get("times") is not grid.times_s:
                # one 2-D copy per window (the arrays of a window shift in place)
                cache.update(grid=grid, times=grid.times_s, sample=wind_sampler(lowest_level(grid)))
            return cache["sample"](lon, lat, t_s)  # type: ignore[no-any-return]

        return SourceWind(at, grid_now, one_level=not self.levels)

    def boundary_at(self) -> Callable[[Any, Any, float], tuple[NDArray[np.float64], NDArray[np.float64]]] | None:
        """``(lon, lat, t_s) -> (mixing height [m], 1/L [m-1])`` at many points from the
        met's boundary layer in the records the run holds now (bilinear, linear in time,
        as the particles see it; NaN off the met's domain), or None when the run has no
        boundary layer from the met (the near-field plumes then keep the scenario's)."""
        if not self.has_boundary_layer:
            return None
        from plumecast.transport.kernels_numpy import surface_inside

        h_i = SURFACE_FIELDS.index("mixing_height_m")
        l_i = SURFACE_FIELDS.index("inverse_obukhov_length_m")

        def at(lon: Any, lat: Any, t_s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            grid = self._window[1] if self._window is not None else self.first_grid()
            lon_a = np.atleast_1d(np.asarray(lon, np.float64))
            lat_a = np.atleast_1d(np.asarray(lat, np.float64))
            k, w = grid.time_index(np.array([t_s], np.float64))
            f, inside = surface_inside(grid, int(k[0]), float(w[0]), lon_a, lat_a)
            return np.where(inside, f[h_i], np.nan), np.where(inside, f[l_i], np.nan)

        return at

    def use_land_mask(self, mode: str) -> str:
        """Choose the land fraction of the land-water mosaic of dry deposition
        (``deposition.land_mask``: auto, met or map; see
        :mod:`plumecast.met.landmask`) and say which, in one line. Records read from
        now on carry it."""
        from plumecast.met.landmask import SAMPLES, land_fraction_on_grid

        first = self.first_grid()
        if first.surface is None:  # the resistance model stops the run before this (no u*, no 1/L)
            raise ScenarioError(f"deposition.land_mask: {self.source} has no boundary-layer fields to deposit with")
        if first.land is not None and mode in ("auto", "met"):
            src = next((p for p in first.provenance if p.startswith("land fraction:")), "land fraction: the met's")
            return f"land and water for dry deposition: {src.removeprefix('land fraction: ')}"
        if mode == "met":
            raise ScenarioError(f"deposition.land_mask: met, but {self.source} has no land-sea mask; expected lsm "
                                "(ERA5, ECMWF), LAND (GFS), LANDMASK or XLAND (WRF), or a variable with standard_name "
                                "land_area_fraction; or use land_mask: auto or map (the shipped Natural Earth land)")
        self._land = land_fraction_on_grid(first.lon0, first.dlon, first.nlon, first.lat0, first.dlat, first.nlat)
        self._first = dataclasses.replace(first, land=self._land)
        self._window = None
        why = "as asked (deposition.land_mask: map)" if mode == "map" else "the met has no land-sea mask"
        return (f"land and water for dry deposition: Natural Earth 1:110m land polygons on the met grid ({why}; "
                f"cells near a coast sampled at {SAMPLES}x{SAMPLES} points)")

    def use_cell_deposition(self, cells: CellDeposition) -> str:
        """Give every record read from now on the dry deposition velocity of each node
        from its cell's mix of land uses (``deposition.land_use: map``;
        :mod:`plumecast.transport.deposition_cells`) and say so, in one line."""
        from plumecast.transport.deposition_cells import ROUGHNESS_LENGTH_M

        first = self.first_grid()
        if first.surface is None:  # the resistance model stops the run before this (no u*, no 1/L)
            raise ScenarioError(f"deposition.land_use: map: {self.source} has no boundary-layer fields to deposit with")
        self._cells = cells
        self._first = dataclasses.replace(first, dry_velocity=cells.velocity(first))
        self._window = None
        radiation = ("the met's solar radiation and surface temperature" if first.stomata is not None else
                     "the declared solar radiation and surface temperature")
        return (f"dry deposition: v_d on the met grid from each cell's mix of the 13 land uses of the IGBP-DIS land "
                f"cover as FLEXPART ships it, sum of share / (r_a + r_b + r_c) with each land use's roughness length "
                f"({min(ROUGHNESS_LENGTH_M.values()):g}-{max(ROUGHNESS_LENGTH_M.values()):g} m, FLEXPART surfdata.t) "
                f"and r_c at {radiation}, interpolated to the particles (FLEXPART getvdep); water from the land "
                "cover, deposition.land_mask not used")

    # ---- reading --------------------------------------------------------------------

    def _record(self, k: int, into: WindGrid | None = None) -> WindGrid:
        """Record ``k`` read from the dataset, its time in seconds after the start.
        ``into``: a WindGrid of one record whose arrays a 3-D record is written into
        (:func:`plumecast.met.wind_grid_3d`'s ``out``; not for record 0)."""
        if k == 0 and self._first is not None:
            return self._first
        ds = self.dataset
        if self.levels:
            # the heights of the first record read for all (the default ones are the same for
            # every record; worked out again they cost a read of record 0's ground each time)
            grid = met.wind_grid_3d(ds, start=self.start, records=slice(k, k + 1), z_levels_m=self._heights,
                                    roughness_length_m=self.roughness_length_m, out=into,
                                    interval_starts=self._starts if self._interval else None)
            self._heights = grid.z_m
        else:
            one = ds if self.steady else ds.isel(time=slice(k, k + 1))
            grid = wind_grid(one, start=self.start)
        grid = dataclasses.replace(grid, times_s=self.record_s[k:k + 1].copy())
        if self.boundary_layer == "constant" and grid.surface is not None:
            grid = dataclasses.replace(grid, surface=None, stomata=None, land=None, dry_velocity=None)
        elif grid.surface is not None:
            if self._land is not None:
                grid = dataclasses.replace(grid, land=self._land)
            if self._cells is not None:
                grid = dataclasses.replace(grid, dry_velocity=self._cells.velocity(grid))
        self.records_read += 1
        lo, hi = self._read_span if self._read_span is not None else (k, k)
        self._read_span = (min(lo, k), max(hi, k))
        return grid

    def _read_into(self, k: int, g: WindGrid, r: int) -> None:
        """Read record ``k`` into slot ``r`` of the window ``g``'s arrays: a 3-D record
        straight into them (fresh memory costs a page fault and the zeroing of each
        page: 0.45 -> 0.20 s per hourly 0.25 degree record in a run, benchmarks/README.md),
        a single-level one copied there."""
        end = None if r == -1 else r + 1
        views: dict[str, Any] = {name: None if getattr(g, name) is None else getattr(g, name)[r:end]
                                 for name in _RECORD_ARRAYS}
        slot = dataclasses.replace(g, times_s=g.times_s[r:end], **views)
        new = self._record(k, into=slot)
        for name in _RECORD_ARRAYS:
            a, b = getattr(g, name), getattr(new, name)
            if a is not None and b is not None and not np.may_share_memory(a, b):
                a[r] = b[0]

    def _bl_lines(self, grid: WindGrid) -> tuple[str, ...]:
        """The first record's provenance with the boundary-layer lines as the run uses
        them: with ``met.boundary_layer: constant``, the met's boundary-layer fields and
        rain (read by :func:`plumecast.met.wind_grid_3d`) are not used, and the lines
        say so instead of naming them."""
        lines = tuple(grid.provenance)
        if grid.surface is not None:
            return lines
        if self.boundary_layer == "constant":
            unused = [line for line in lines if line.startswith(_MET_BL_LINES)]
            kept = tuple(line for line in lines if not line.startswith(_MET_BL_LINES))
            if not unused:
                return (*kept, "boundary layer: constant mixing height and K_z from the scenario "
                               "(met.boundary_layer: constant)")
            fields = [line.split(":", 1)[0].replace("1/L, w*", "1/L and w*") for line in unused
                      if not line.startswith("precipitation:")]
            rain = any(line.startswith("precipitation:") for line in unused)
            return (*kept,
                    "boundary layer: constant mixing height and K_z from the scenario (met.boundary_layer: constant)"
                    + (f"; not used from the met: {', '.join(fields)}" if fields else ""),
                    *(["precipitation: not used with met.boundary_layer: constant (rain is read only with the met's "
                       "boundary layer): no wet scavenging in this run, whatever scavenging coefficients are given"]
                      if rain else []))
        if any("boundary layer" in line for line in (*lines, *self._notes)):
            return lines  # the reader (or how the met was chosen) has said why there is none
        return (*lines, "boundary layer: constant mixing height and K_z from the scenario (the met gives none)")


#: How the met's boundary-layer lines of :func:`plumecast.met.wind_grid_3d`'s provenance start.
_MET_BL_LINES = ("mixing height:", "u*:", "1/L, w*:", "precipitation:", "solar radiation at the ground:",
                 "land fraction:")

#: A steady met record valid further than this from the run is winds of another date.
STEADY_DATE_MARGIN = np.timedelta64(1, "D")


#: the WindGrid arrays that hold one record per time (shifted along a streamed window)
_RECORD_ARRAYS = ("vec", "w", "surface", "stomata", "dry_velocity")


def lowest_level(grid: WindGrid) -> WindGrid:
    """``grid`` with only its lowest wind level (for 2-D wind lookups)."""
    if grid.nz == 1 and grid.w is None and grid.surface is None:
        return grid
    return dataclasses.replace(grid, vec=np.ascontiguousarray(grid.vec[:, :1]), z_m=np.asarray(grid.z_m[:1]),
                               w=None, surface=None, stomata=None, land=None, dry_velocity=None, stream=None)


def run_winds(scenario: Any, wind: xr.Dataset | None = None) -> RunWinds:
    """The winds a scenario asks for (``met``), or ``wind`` (a normalised dataset,
    single-level or 3-D) instead."""
    cfg = scenario.met
    if wind is None:
        ds, levels, note = scenario_winds(scenario)
    else:
        ds, levels = wind, _is_3d(wind)
        if cfg.vertical == "single" and levels:
            raise ScenarioError("met.vertical is 'single' but the wind dataset given to the run has several levels")
        note = _vertical_note(wind, levels)
    end = scenario.start64 + np.timedelta64(int(round(scenario.run_hours * 3600)), "s")
    return RunWinds(ds, scenario.start64, levels=levels, boundary_layer=cfg.boundary_layer,
                    roughness_length_m=cfg.roughness_length_m, notes=tuple(note.split("\n")), end=end)


def scenario_winds(scenario: Any, member: int | None = None) -> tuple[xr.Dataset, bool, str]:
    """The normalised (lazy) met dataset a scenario's ``met`` asks for, whether it is
    read on levels (3-D) or as one level, and a line saying which and why (with, read
    at one level, lines saying that the files' boundary layer and rain are not used:
    lines apart by newlines). ``member``: the index along the files' member dimension
    (``number``) to read, the same way (an ensemble's ``met_members: file``); None: the
    files must hold one member.

    Raises
    ------
    MetDataError
        Files with winds on several pressure levels but no geopotential (unless
        ``met.vertical: single``), naming the file: their levels' heights are unknown,
        and reading one level of them instead would drop the files' boundary layer
        and rain silently (docs/met.md).
    """
    cfg = scenario.met
    start = scenario.start64
    if cfg.source == "uniform":
        return met.uniform_wind(cfg.u_m_s, cfg.v_m_s), False, "winds: uniform (one level at every height)"
    if cfg.source == "climatology":
        month = cfg.month if cfg.month is not None else scenario.start.month
        aloft = _releases_aloft(scenario)
        if cfg.vertical == "single" or cfg.level_hpa is not None or (cfg.vertical is None and not aloft):
            # a release inside the mixed layer stays there (constant K_z in [0, h]): its
            # wind is the 850 hPa one, the top of a typical boundary layer, and the
            # single-level kernel path is the fastest
            ds = met.climatology(month, level_hpa=cfg.level_hpa if cfg.level_hpa is not None else 850.0)
            return ds, False, (f"winds: climatological mean winds, one level ({ds.attrs.get('level', '')}) at "
                               "every height; not a forecast"
                               + ("" if cfg.vertical == "single" or cfg.level_hpa is not None else
                                  " (every release starts inside the mixed layer; met.vertical: levels uses its "
                                  "850/500/200 hPa levels)"))
        why = "" if cfg.vertical == "levels" else f" (a release starts aloft: {aloft})"
        return (met.climatology_3d(month), True,
                "winds: climatological mean winds on 850/500/200 hPa, interpolated in height; not a forecast" + why)
    assert cfg.path is not None
    end = start + np.timedelta64(int(round(scenario.run_hours * 3600)), "s")
    window = (start, end)
    why_single = ""
    levels_error: MetDataError | None = None
    unused: tuple[str, ...] = ()
    if cfg.vertical != "single" and cfg.level_hpa is None:
        try:
            ds = one_member(met.open_met_3d(cfg.path, time_window=window), member)
        except MetDataError as exc:
            if cfg.vertical == "levels":
                from plumecast.met.variables import NoLevelsError

                if isinstance(exc, NoLevelsError):  # its message had pointed at plumecast.met.open_wind
                    where = str(exc).split(": no winds on", 1)[0]
                    raise MetDataError(f"{where}: met.vertical is 'levels' but the file has no winds on pressure or "
                                       "height levels (a single-level file, such as 10 m winds); expected u, v on "
                                       "levels with geopotential, or met.vertical: single to run on its one level"
                                       ) from None
                raise
            why_single = str(exc)
            levels_error = exc
            unused = tuple(getattr(exc, "unused", ()))
        else:
            lacking = _levels_lacking(ds, one_level_ok=cfg.vertical == "levels")
            if not lacking:
                return ds, True, f"winds: {ds.attrs.get('source', cfg.path)}, on the file's levels, interpolated in height"
            if cfg.vertical == "levels":
                raise MetDataError(f"{ds.attrs.get('source', cfg.path)}: met.vertical is 'levels' but the met has "
                                   f"{lacking}; expected several levels with geopotential, or met.vertical: single")
            refused = no_geopotential_error(ds)
            if refused is not None:
                raise refused
            why_single = f"the met has {lacking}"
            unused = unused_at_one_level(ds)
    if cfg.boundary_layer == "met":
        # what the files lack, in a file's terms (it had named the file twice and pointed a command-line user at
        # the Python function plumecast.met.open_wind; badinput audit, session 43)
        from pathlib import Path

        from plumecast.met.files import describe_paths

        shown = (describe_paths([Path(str(p)) for p in cfg.path]) if isinstance(cfg.path, (list, tuple))
                 else str(cfg.path))
        has = ("winds at one level only (such as the 10 m winds)" if levels_error is not None
               else f"winds on levels but {why_single.removeprefix('the met has ')}")
        raise ScenarioError(
            f"met.boundary_layer: 'met' reads the mixing height and turbulence from the met's vertical profile, and "
            f"{shown} holds {has}; expected met files with the winds (u, v) and the geopotential "
            "(z) on pressure or height levels, with the mixing height (ERA5 blh, GFS hpbl) or the temperature (t) "
            "on those levels to diagnose it from (docs/met.md), or boundary_layer: constant to use "
            "turbulence.mixing_height_m and kz_m2_s")
    ds = open_one_level(cfg.path, levels_error, level_hpa=cfg.level_hpa, time_window=window, member=member)
    note = f"winds: one level ({ds.attrs.get('level', '')}) at every height"
    if ds.attrs.get(NO_WIND_UNITS):
        note += f"; {ds.attrs[NO_WIND_UNITS]}"
    if why_single:
        note += f"; not read on levels because {why_single}"
    if cfg.vertical == "single" or cfg.level_hpa is not None:
        note += ("\nboundary layer: constant mixing height and K_z from the scenario (met.vertical: single: the "
                 "boundary layer and the precipitation of the met files, if any, are not read; no wet scavenging)")
    elif unused:
        note += ("\nboundary layer: constant mixing height and K_z from the scenario"
                 f"\n{unused_warning(unused, str(ds.attrs.get('level', 'one level')))}")
    return ds, False, note


def unused_warning(unused: tuple[str, ...], level: str) -> str:
    """A warning line: the files hold these boundary-layer fields and this rain
    (``'blh' of sl.nc``), which a read at one level does not use."""
    return (f"WARNING: the met files hold {', '.join(unused)}, not used: the winds are read at one level ({level}), "
            "so the mixing height and K_z are the scenario's and no rain reaches the particles (no wet scavenging); "
            "give winds on pressure levels with their geopotential (ERA5: the pressure-levels data set) to use them")


def no_geopotential_error(ds: xr.Dataset) -> MetDataError | None:
    """The error of a 3-D dataset with winds on several pressure levels but no
    geopotential (None for any other): the heights of its levels are unknown, and the
    one-level fallback would silently drop its boundary layer and rain."""
    if str(ds.attrs.get("level_type", "pressure")) != "pressure" or "gh" in ds or int(ds.sizes.get("level", 1)) < 2:
        return None
    where = str(ds.attrs.get("first_file", ds.attrs.get("source", "met")))
    unused = unused_at_one_level(ds)
    return MetDataError(
        f"{where}: winds on {int(ds.sizes['level'])} pressure levels but no geopotential (z, gh, HGT or GHT) on them: "
        "the heights of the levels above the ground are unknown; expected the geopotential with the winds (ERA5: add "
        "'geopotential' (z) to the pressure-level request), or met.vertical: single to move every particle with the "
        "wind of one level" + (f" (the files' {', '.join(unused)} are then not used)" if unused else ""))


def unused_at_one_level(ds: xr.Dataset) -> tuple[str, ...]:
    """The boundary-layer fields and precipitation of a 3-D dataset, in words
    (``'blh' of sl.nc``): what a read at one level leaves unused."""
    from plumecast.met.levels_read import BOUNDARY_FIELDS, boundary_field_text

    out = []
    for n in BOUNDARY_FIELDS:
        if n in ds:
            coord = f"met_file_{n}"
            where = (str(np.asarray(ds[coord].values).ravel()[0]) if coord in ds.coords else
                     str(np.asarray(ds["met_file"].values).ravel()[0]) if "met_file" in ds.coords else "the files")
            out.append(boundary_field_text(n, str(ds[n].attrs.get("plumecast_var", n)), where))
    return tuple(out)


def open_one_level(path: Any, levels_error: MetDataError | None, **kwargs: Any) -> xr.Dataset:
    """:func:`plumecast.met.open_wind` after the read on levels failed with
    ``levels_error`` (None: it was not tried). Unless the files simply have no winds
    on levels (:class:`~plumecast.met.variables.NoLevelsError`), files with levels
    that cannot be used (a gap, a NaN, a window not covered, a field in wrong units or
    without units, a 10 m wind component without the other) are refused for that
    reason, whether the one-level reader cannot read them either or could, at one of
    their levels or, where a field on levels is refused, at their 10 m wind (ERA5's
    pressure-level and single-level files, a GFS or WRF file of several levels): that
    would put every particle at one level in place of the levels the run was to read. A
    file of one level whose surface fields the level reader refuses is read at that level."""
    from plumecast.met.variables import NoLevelsError

    refused = levels_error is not None and not isinstance(levels_error, NoLevelsError)
    try:
        ds = met.open_wind(path, **kwargs)
    except MetDataError as exc:
        if not refused:
            raise
        assert levels_error is not None
        raise levels_error from exc
    if refused and (int(ds.attrs.get("levels_in_files", 1)) > 1 or getattr(levels_error, "on_levels", False)):
        # the one-level reader could read them, at one of their levels or at their 10 m wind (a NOMADS
        # OpenDAP file whose level fields have no units attribute had run on its 10 m wind at every height
        # and without its boundary layer, saying so only in the winds line; met audit, session 30)
        assert levels_error is not None
        raise levels_error
    return ds


def _releases_aloft(scenario: Any) -> str:
    """The first release (if any) that starts above the mixing height, in words; ''
    if none does. Such a release leaves the mixed layer's wind behind: with the
    climatology, it is read on its three levels so that it moves with the winds aloft."""
    h = float(scenario.turbulence.mixing_height_m)
    for i, rel in enumerate(scenario.releases):
        height = float(getattr(rel, "height_m", 0.0) or 0.0)
        if height > h:
            name = getattr(rel, "name", None) or f"releases.{i}"
            return f"{name} at {height:g} m, above the {h:g} m mixing height"
    return ""


def one_member(ds: xr.Dataset, member: int | None = None) -> xr.Dataset:
    """``ds`` without its member dimension (``number``): member ``member`` of it (an
    ensemble's), else its one member; a MetDataError naming the source when it holds
    several and none is chosen (a single run needs one: choose it, or run the members
    as an ensemble) or the chosen one is not there."""
    src = ds.attrs.get("source", "met")
    if member is not None:
        n = int(ds.sizes.get("number", 1))
        if not 0 <= member < n:
            raise MetDataError(f"{src}: member {member} asked for but the files hold {n} ensemble member"
                               f"{'s' if n != 1 else ''} (dimension 'number'); ask for at most {n} members")
        if "number" not in ds.dims:
            return ds
        return ds.isel(number=member)
    if "number" not in ds.dims:
        return ds
    n = int(ds.sizes["number"])
    if n == 1:
        return ds.isel(number=0)
    raise MetDataError(f"{src}: the files hold {n} ensemble members (dimension 'number'); "
                       "a single run reads one: run them as an ensemble (ensemble: {met_members: file} in the "
                       "scenario, plumecast compare), or give files of one member")


def _levels_lacking(ds: xr.Dataset, one_level_ok: bool = False) -> str:
    """What a 3-D dataset lacks for winds on levels ('' if nothing): several levels
    (one is enough when asked for explicitly: the log law below it, its wind held
    above), and geopotential height unless the levels are heights."""
    n = int(ds.sizes.get("level", 1))
    if n < 2 and not one_level_ok:
        return f"{n} level"
    if str(ds.attrs.get("level_type", "pressure")) != "height" and "gh" not in ds:
        return "no geopotential on its levels"
    return ""


def _is_3d(ds: xr.Dataset) -> bool:
    """Whether a normalised dataset holds several wind levels."""
    return any(dim not in ("time", "lat", "lon") and ds.sizes[dim] > 1 for dim in ds["u"].dims)


def _vertical_note(ds: xr.Dataset, levels: bool) -> str:
    source = ds.attrs.get("source", "wind dataset")
    if levels:
        return f"winds: {source}, on its levels, interpolated in height"
    return f"winds: {source}, one level ({ds.attrs.get('level', '')}) at every height"


def record_bytes(grid: WindGrid) -> int:
    """Bytes one record of ``grid`` holds (winds, vertical velocity, boundary layer)."""
    per = grid.vec[0].nbytes
    if grid.w is not None:
        per += grid.w[0].nbytes
    if grid.surface is not None:
        per += grid.surface[0].nbytes
    return int(per)

