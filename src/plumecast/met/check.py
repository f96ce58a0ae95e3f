"""``plumecast met check``: read met files as a run would, and say what was found.

The files are read on levels (:func:`plumecast.met.levels.open_met_3d`) where they
allow it, else as one level (:func:`plumecast.met.reader.open_wind`), as a run with
``met.vertical`` unset chooses (:func:`plumecast.run_winds.scenario_winds`). The first record is then converted for the
kernels (:func:`plumecast.met.levels.wind_grid_3d` or
:func:`plumecast.transport.windgrid.wind_grid`), which runs every check a run makes on
it (NaN inside the domain, values outside the plausible ranges of
:data:`plumecast.met.levels_read.PLAUSIBLE_RANGES` such as an undeclared fill value,
level heights, units) and gives the provenance lines a run prints. Every other record
is checked by a run when it reads it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met.reader import STEADY_TIME, MetPath

__all__ = ["check_met"]

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


def check_met(path: MetPath, *, member: int | None = None) -> list[str]:
    """Lines saying what a run would read from ``path`` (a file, a list, a folder or a
    glob pattern).

    Raises
    ------
    MetDataError
        What a run would refuse, naming the file (the same messages).
    """
    from plumecast.met.levels import open_met_3d, wind_grid_3d
    from plumecast.run_winds import _levels_lacking, open_one_level
    from plumecast.transport.windgrid import wind_grid

    # as a run with met.vertical unset chooses: on levels where the files allow it
    why_single = ""
    levels_error: MetDataError | None = None
    try:
        ds = open_met_3d(path, member=member)
        lacking = _levels_lacking(ds)
        why_single = f"the met has {lacking}" if lacking else ""
    except MetDataError as exc:
        why_single = str(exc)
        levels_error = exc
    three_d = not why_single
    if not three_d:
        ds = open_one_level(path, levels_error, member=member)
    lines = [f"source: {ds.attrs.get('source', path)}", f"times: {_times(ds)}", f"grid: {_grid(ds)}"]
    if "number" in ds.dims:
        lines.append(f"members: {ds.sizes['number']} on 'number' (plumecast compare runs each with ensemble: "
                     "{met_members: file}; plumecast run needs files of one member); member 0 checked")
        ds = ds.isel(number=0, drop=True)
    if three_d:
        lev = np.asarray(ds["level"].values, dtype=np.float64)
        unit = "hPa" if ds.attrs.get("level_type") == "pressure" else "m above ground"
        lines.append(f"levels: {lev.size} {ds.attrs.get('level_type', '')} levels, "
                     f"{', '.join(f'{x:g}' for x in lev)} {unit}")
        grid = wind_grid_3d(ds, records=slice(0, 1))
    else:
        lines.append(f"levels: one ({ds.attrs.get('level', 'single level')}): a run moves every particle "
                     f"with it and takes the boundary layer from the scenario (not read on levels: {why_single})")
        grid = wind_grid(ds.isel(time=slice(0, 1)))
    lines += [f"  {p}" for p in grid.provenance]
    has = ["winds"] + [name for name, present in (
        ("vertical motion", grid.w is not None), ("boundary layer", grid.surface is not None),
        ("solar radiation (stomata)", grid.stomata is not None), ("land-sea mask", grid.land is not None))
        if present]
    missing = [what for what, present in (
        ("boundary layer (the scenario's constant K_z and mixing height serve)", grid.surface is not None),
        ("solar radiation (the resistance model's stomata take deposition.solar_radiation_w_m2)",
         grid.stomata is not None),
        ("land-sea mask (dry deposition takes the shipped Natural Earth land)", grid.land is not None)) if not present]
    lines.append(f"first record read and converted: {', '.join(has)}")
    if missing:
        lines.append(f"not in the files: {'; '.join(missing)}")
    return lines
