"""``plumecast met check``: read met files as a run would, and say what was found.

The files are read on levels (:func:`plumecast.met.levels.open_met_3d`) where they
allow it, else as one level (:func:`plumecast.met.reader.open_wind`), as a run with
``met.vertical`` unset chooses (:func:`plumecast.run_winds.scenario_winds`). Every
record is then converted for the kernels as a run converts the records it reads
(:func:`plumecast.met.levels.wind_grid_3d`, one record at a time, or
:func:`plumecast.transport.windgrid.wind_grid`), which runs every check a run makes on
it (NaN inside the domain, values outside the plausible ranges of
:data:`plumecast.met.plausible.PLAUSIBLE_RANGES` such as an undeclared fill value,
level heights, units), and the first record gives the provenance lines a run prints.
On levels, sets larger than :data:`CHECK_BYTES` are checked at records spread evenly
over them (the first and the last among them), and the output says which; the
single-level reader reads and checks every record when it opens the files.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met.reader import NO_WIND_UNITS, STEADY_TIME, MetPath

__all__ = ["CHECK_BYTES", "check_met"]

#: Bytes of met records (as stored) that :func:`check_met` reads and converts on levels:
#: every record of a set up to this size (about a minute's reading and converting on a
#: shared 2-core machine, 0.5 deg global records of 60 MB taking 0.7 s each); beyond
#: it, records spread evenly over the set, which the output names.
CHECK_BYTES = 4 * 2**30

def _when(t: Any) -> str:
    return str(np.datetime_as_string(np.asarray(t).astype("datetime64[m]"), unit="m")).replace("T", " ") + " UTC"


def _times(ds: xr.Dataset) -> str:
    t = np.asarray(ds["time"].values).astype("datetime64[s]")
    if t.size == 1 or bool(ds.attrs.get("steady", 0)):
        if t[0] == STEADY_TIME:
            return "steady (one record without a valid time, for all times)"
        return (f"one record, valid {_when(t[0])}, held steady for all times (a run more than a day from it is "
                "warned: winds of another date)")
    steps = np.unique(np.diff(t).astype(np.int64)) / 3600.0
    step = f"every {steps[0]:g} h" if steps.size == 1 else f"every {steps.min():g} to {steps.max():g} h"
    return f"{t.size} records, {_when(t[0])} to {_when(t[-1])}, {step}"


def _grid(ds: xr.Dataset) -> str:
    lon = np.asarray(ds["lon"].values, dtype=np.float64)
    lat = np.asarray(ds["lat"].values, dtype=np.float64)
    d_lon = float(np.median(np.diff(lon))) if lon.size > 1 else float("nan")
    d_lat = float(np.median(np.diff(lat))) if lat.size > 1 else float("nan")
    where = "global in longitude" if int(ds.attrs.get("global_lon", 0)) else "regional"
    return (f"{lon.size} x {lat.size} points, {d_lon:g} x {d_lat:g} deg, lon {lon[0]:g} to {lon[-1]:g}, "
            f"lat {lat[0]:g} to {lat[-1]:g} ({where})")


def check_met(path: MetPath, *, member: int | None = None, max_bytes: int = CHECK_BYTES) -> list[str]:
    """Lines saying what a run would read from ``path`` (a file, a list, a folder or a
    glob pattern), after reading and checking its records as a run does.

    Parameters
    ----------
    max_bytes : on levels, every record is read and converted when the records hold
        at most this many bytes together (as stored); else records spread evenly over
        the set, the first and the last among them, to about this size (named in the
        output).

    Raises
    ------
    MetDataError
        What a run would refuse, naming the file (the same messages).
    """
    from plumecast.met.levels import open_met_3d, wind_grid_3d
    from plumecast.run_winds import (
        _levels_lacking,
        no_geopotential_error,
        open_one_level,
        unused_at_one_level,
    )
    from plumecast.transport.windgrid import wind_grid

    # as a run with met.vertical unset chooses: on levels where the files allow it
    why_single = ""
    levels_error: MetDataError | None = None
    refused: MetDataError | None = None
    unused: tuple[str, ...] = ()  # the boundary layer and rain of files read at one level
    try:
        ds = open_met_3d(path, member=member)
        lacking = _levels_lacking(ds)
        why_single = f"the met has {lacking}" if lacking else ""
        if lacking:
            refused = no_geopotential_error(ds)
            unused = unused_at_one_level(ds)
    except MetDataError as exc:
        why_single = str(exc)
        levels_error = exc
        unused = tuple(getattr(exc, "unused", ()))
    if refused is not None:  # winds on pressure levels without geopotential: as a run, refused
        raise refused
    three_d = not why_single
    if not three_d:
        ds = open_one_level(path, levels_error, member=member)
    lines = [f"source: {ds.attrs.get('source', path)}", f"times: {_times(ds)}", f"grid: {_grid(ds)}"]
    if "number" in ds.dims:
        lines.append(f"members: {ds.sizes['number']} on 'number' (plumecast compare runs each with ensemble: "
                     "{met_members: file}; plumecast run needs files of one member); member 0 checked")
        ds = ds.isel(number=0, drop=True)
    n = int(ds.sizes["time"])
    if three_d:
        lev = np.asarray(ds["level"].values, dtype=np.float64)
        unit = {"pressure": "hPa", "altitude": "m above sea level"}.get(str(ds.attrs.get("level_type")),
                                                                      "m above ground")
        lines.append(f"levels: {lev.size} {ds.attrs.get('level_type', '')} levels, "
                     f"{', '.join(f'{x:g}' for x in lev)} {unit}")
        grid = wind_grid_3d(ds, records=slice(0, 1))
        first = grid.provenance
        picked, why_some = _records_to_check(ds, max_bytes)
        # the others one at a time into the first record's arrays, on its heights, as a run reads them
        slot = dataclasses.replace(grid, vec=grid.vec.copy(), w=None if grid.w is None else grid.w.copy(),
                                   surface=None if grid.surface is None else grid.surface.copy(),
                                   stomata=None if grid.stomata is None else grid.stomata.copy())
        for k in picked[1:]:
            wind_grid_3d(ds, records=slice(k, k + 1), z_levels_m=grid.z_m, out=slot)
        checked = _checked_text(ds, picked, why_some)
        provenance = [p for p in first if not p.startswith("met: ")]
    else:
        lines.append(f"levels: one ({ds.attrs.get('level', 'single level')}): a run moves every particle "
                     f"with it and takes the boundary layer from the scenario (not read on levels: {why_single})")
        if ds.attrs.get(NO_WIND_UNITS):
            lines.append(f"winds: {ds.attrs[NO_WIND_UNITS]}")
        grid = wind_grid(ds.isel(time=slice(0, 1)))
        provenance = list(grid.provenance)
        # open_wind has read every record and refused NaN and speeds above MAX_WIND_M_S in any
        checked = _checked_text(ds, list(range(n)), "")
    lines += [f"  {p}" for p in provenance]
    has = ["winds"] + [name for name, present in (
        ("vertical motion", grid.w is not None), ("boundary layer", grid.surface is not None),
        ("solar radiation (stomata)", grid.stomata is not None), ("land-sea mask", grid.land is not None))
        if present]
    held = " ".join(unused)
    missing = [what for what, present in (
        ("boundary layer (the scenario's constant K_z and mixing height serve)", grid.surface is not None or
         "(mixing height)" in held or "(friction velocity)" in held or "(heat flux)" in held),
        ("solar radiation (the resistance model's stomata take deposition.solar_radiation_w_m2)",
         grid.stomata is not None or "(solar radiation)" in held),
        ("land-sea mask (dry deposition takes the shipped Natural Earth land)", grid.land is not None)) if not present]
    how = "read and converted as a run reads them, each checked" if three_d else "read as a run reads them, each checked"
    lines.append(f"records {how} (NaN, {'plausible values' if three_d else 'wind speed'}): {checked}")
    lines.append(f"in the records: {', '.join(has)}")
    if missing:
        lines.append(f"not in the files: {'; '.join(missing)}")
    if unused and not three_d:
        lines.append(f"in the files but not used, the winds being read at one level: {', '.join(unused)} (the "
                     "scenario's constant K_z and mixing height serve, no rain reaches the particles, the stomata "
                     "take deposition.solar_radiation_w_m2)")
    return lines


def _record_bytes(ds: xr.Dataset) -> int:
    """Bytes one record of ``ds`` holds as stored (its fields on time)."""
    return int(sum(ds[v].dtype.itemsize * math.prod(s for d, s in ds[v].sizes.items() if d != "time")
                   for v in ds.data_vars if "time" in ds[v].dims))


def _records_to_check(ds: xr.Dataset, max_bytes: int) -> tuple[list[int], str]:
    """The records to read and convert: all of them when they hold at most ``max_bytes``
    together; else every k-th from the first, and the last, to about ``max_bytes``
    (at least the first and the last); with why not all ('' when all)."""
    n = int(ds.sizes["time"])
    per = max(_record_bytes(ds), 1)
    if n * per <= max_bytes or n <= 2:
        return list(range(n)), ""
    fit = max(2, max_bytes // per)
    step = math.ceil((n - 1) / (fit - 1))
    picked = list(range(0, n, step))
    if picked[-1] != n - 1:
        picked.append(n - 1)
    return picked, (f"the {n} records hold {_size(n * per)}, beyond the {_size(max_bytes)} a check reads; a run "
                    "checks each record it reads")


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.3g} MiB"


def _checked_text(ds: xr.Dataset, picked: list[int], why_some: str) -> str:
    """Which records were read, converted and checked, in words: ``all 13``, ``the one
    record`` or, for some of them, which (counting from 0) and why."""
    n = int(ds.sizes["time"])
    if n == 1:
        return "the one record"
    if len(picked) == n:
        return f"all {n}"
    step = picked[1] - picked[0]
    if len(picked) <= 6:
        which = ", ".join(map(str, picked))
    else:
        regular = picked[:-1] == list(range(0, picked[-2] + 1, step))
        which = (f"{picked[0]}, {picked[1]}, {picked[2]}, ..., {picked[-2]}" + (f" (step {step})" if regular else "")
                 + f" and {picked[-1]}")
    return f"{len(picked)} of {n}: {which} (counting from 0; {why_some})"
