"""CF time bounds: the window of each record of a quantity over intervals.

CF's own way to say over which time each value of a field holds is a bounds variable
of its time coordinate (the time's attribute ``bounds = "time_bnds"``, with
``time_bnds(time, 2)`` the start and end of each record's cell) together with the
variable's ``cell_methods`` saying what was done over the cell: ``time: sum`` (an
amount over the window) or ``time: mean`` (a mean over it), without an ``interval``
(CDO's ``-f nc copy`` of averaged or summed GRIB fields and its statistics, NCO, many
reanalysis and model post-processors, CMIP output: ``pr`` as a ``time: mean`` flux with
``time_bnds``). :func:`attach_bounds_windows` reads the window of every record of such
a variable from the bounds (windows that may differ from record to record, as GFS's
buckets do) and puts their lengths on it as the coordinate
``plumecast_win_<variable>`` that :func:`plumecast.met.intervals.attach_grib_windows`
gives a GRIB field, with how they were found: from there they are read as a GRIB
file's step ranges are (:func:`plumecast.met.intervals.timing`,
:func:`plumecast.met.intervals.interval_means`). The bounds, where there are any, come
before an ``interval`` in ``cell_methods`` (CF's interval is the spacing of the data the
statistic was taken over, not always the window) and before the producers' conventions.

Most files label each value at the end of its window (the valid time: CDO's copies of
GRIB files, ERA5 through CDO). CMIP and CDO's statistics label it at the middle of the
window (``pr`` of 00-03 UTC at 01:30), some at its start. plumecast holds at each record
the mean over the interval from the previous record to it, so such a value is read at
the **end** of its window, the upper bound, where the mean over the window is the mean
over the interval that ends there (:func:`at_interval_ends`): the file's quantities
over intervals then have records at the window ends (03:00, 06:00 ..), those of the
files of winds on levels, and the provenance says so. That can be done only where the
file's surface fields are all such quantities (a file of ``pr`` alone, as CMIP writes
them): an instantaneous field of the same file (``tas``, a 10 m wind) holds at the
labels, and the two cannot share one time axis; such a file is refused naming it and
its fields. The level fields of a file (winds) stay at their times.

Bounds that contradict the records are refused when the field is read (its windows are
unknown, :data:`plumecast.met.intervals.WINDOWS_UNKNOWN`), naming the file and the
variable: bounds that do not contain the record's time (a window that ends before it or
begins after it), windows whose ends do not increase from record to record, a window
that overlaps the previous record's without beginning with it (an accumulation since a
common start, a GFS bucket that grows, begins with it), an empty window after the first
record; so are bounds that cannot be read, climatological bounds (the time's
``climatology``, or ``within``/``over`` in ``cell_methods``: statistics over many years,
not one interval a value), another statistic over time (``time: maximum``), and a
statistic that contradicts the units (``time: sum`` of a rate, ``time: mean`` of an
amount: the mean of amounts whose own window the file does not state). A variable with
no ``cell_methods`` over time is not read by the bounds (CF says nothing then of what
it is over them; CDO writes none for GRIB accumulations, ``stepType`` accum): the other
ways to state its window stand (:mod:`plumecast.met.intervals`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.met.intervals import GRIB_WINDOW, INSTANT, TIMING, WINDOWS_FROM, WINDOWS_UNKNOWN
from plumecast.met.levels_units import _ACC_MM, _FLUX_J, _units
from plumecast.met.variables import _err, _when, decoded_times

__all__ = ["BOUNDS", "at_interval_ends", "attach_bounds_windows", "time_methods"]

#: Attribute of a file variable whose windows were read from its time's bounds: the bounds variable's name.
BOUNDS = "plumecast_time_bounds"
#: One entry of a CF cell_methods: the names it applies to, the method, ``where``/``within``/``over``
#: qualifiers, and a parenthesised comment (``(interval: 1 hour)``).
_ENTRY = re.compile(r"((?:[a-z0-9_]+:\s*)+)([a-z_]+)((?:\s+(?:where|over|within)\s+[a-z0-9_]+)*)\s*(?:\([^)]*\))?")
_NAME = re.compile(r"([a-z0-9_]+):")
#: What a file of quantities over intervals should hold, for the refusals of contradicting bounds.
_EXPECTED = ("expected time bounds that contain each record's time, one window per record, each beginning where "
             "the previous one ends (or, accumulated since a common start, with it)")


class _Bounds(NamedTuple):
    """A file's time bounds: the bounds variable's name, whether they are climatological,
    the time's dimension (None for a scalar time), and the time, start and end of each
    record [s since 1970]."""

    name: str
    climatology: bool
    dim: str | None
    t: NDArray[np.int64]
    lo: NDArray[np.int64]
    hi: NDArray[np.int64]


def time_methods(cell_methods: str, names: set[str]) -> list[tuple[str, str]]:
    """The entries of a CF ``cell_methods`` that apply to time (one of ``names``, lower
    case): ``(method, qualifiers)`` in their order (``("sum", "")``, ``("mean", "within
    days")``)."""
    out = []
    for m in _ENTRY.finditer(cell_methods.lower()):
        if set(_NAME.findall(m.group(1))) & names:
            out.append((m.group(2), " ".join(m.group(3).split())))
    return out


def _seconds(values: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """Times [s since 1970], to the nearest second (bounds stored as float hours decode a few ns off)."""
    ns = np.asarray(values).astype("datetime64[ns]").astype(np.int64)
    return (ns + 500_000_000) // 1_000_000_000


def _bounds_of(ds: xr.Dataset, time_name: str | None) -> _Bounds | str | None:
    """The time bounds of ``ds`` (the bounds variable that its time coordinate
    ``time_name`` names in its ``bounds`` or ``climatology`` attribute, or in its encoding,
    where xarray moves them with ``decode_coords="all"``), or why they cannot be read, or
    None where the time names none (or names a variable the file lacks)."""
    if time_name is None or time_name not in ds.variables:
        return None
    tc = ds[time_name]
    got = [(str(src[k]), k == "climatology") for k in ("bounds", "climatology") for src in (tc.attrs, tc.encoding)
           if src.get(k)]
    if not got or got[0][0] not in ds.variables:
        return None
    name, clim = got[0]
    b = ds[name]
    labels = decoded_times(np.asarray(tc.values))
    if labels is None or tc.ndim > 1:
        return None  # a time that cannot be read is refused with the time itself
    dim = str(tc.dims[0]) if tc.ndim == 1 else None
    want = (tc.shape[0], 2) if dim is not None else (2,)
    if b.shape != want or (dim is not None and str(b.dims[0]) != dim):
        return (f"its time {time_name!r} names the bounds {name!r}, of dims {b.dims} and shape {b.shape}; expected "
                f"2 values (start and end) for each of its {tc.size} record(s)")
    values = np.asarray(b.values)
    if not np.issubdtype(values.dtype, np.datetime64):  # xarray decodes them with the time's units where they have none
        return (f"its time bounds {name!r} could not be read as dates (units {b.attrs.get('units', 'none')!r}); "
                f"expected the units of {time_name!r}, or none")
    pairs = values.reshape(-1, 2)
    if np.isnat(pairs).any():
        k = int(np.flatnonzero(np.isnat(pairs).any(axis=1))[0])
        return f"its time bounds {name!r} are missing at {_when(labels.reshape(-1)[k])}; " + _EXPECTED
    secs = _seconds(pairs)
    return _Bounds(name, clim, dim, _seconds(labels.reshape(-1)), secs.min(axis=1), secs.max(axis=1))


def _hours(s: float) -> str:
    return f"{s / 3600.0:.3g} h" if abs(s) < 2 * 86400 else f"{s / 86400.0:.3g} days"


def _contradiction(b: _Bounds) -> str | None:
    """How the bounds contradict the records, in words, or None."""
    t, lo, hi = b.t, b.lo, b.hi
    at = [_when(np.datetime64(int(x), "s")) for x in t]

    def span(k: int) -> str:
        return f"{_when(np.datetime64(int(lo[k]), 's'))} to {_when(np.datetime64(int(hi[k]), 's'))}"

    for k in range(t.size):
        if hi[k] < t[k] or lo[k] > t[k]:
            gap = (f"ends {_hours(t[k] - hi[k])} before it" if hi[k] < t[k] else f"begins {_hours(lo[k] - t[k])} "
                   "after it")
            return (f"its time bounds {b.name!r} at {at[k]} span {span(k)}, which do not contain that time (the "
                    f"window {gap}); " + _EXPECTED)
        if k == 0:
            continue
        if hi[k] <= hi[k - 1]:
            return (f"its time bounds {b.name!r} at {at[k]} ({span(k)}) end no later than those of the previous "
                    f"record {at[k - 1]} ({span(k - 1)}); " + _EXPECTED)
        if lo[k] == hi[k]:
            return (f"its time bounds {b.name!r} at {at[k]} are an empty window ({span(k)}) after the first "
                    "record; " + _EXPECTED)
        if lo[k] < hi[k - 1] and lo[k] != lo[k - 1]:
            return (f"its time bounds {b.name!r} at {at[k]} ({span(k)}) overlap those of the previous record "
                    f"{at[k - 1]} ({span(k - 1)}) without beginning with them; " + _EXPECTED)
    return None


def _lengths_text(b: _Bounds) -> str:
    """The windows' lengths in words: ``3 h windows``, ``windows of 1 to 6 h``."""
    w = (b.hi - b.lo).astype(np.float64)
    if w.size and w.min() == w.max():
        return f"{_hours(float(w[0]))} windows"
    return f"windows of {_hours(float(w.min()))} to {_hours(float(w.max()))}"


def _amount(da: xr.DataArray) -> bool:
    """The units are an amount (m, mm, kg m-2, J m-2), as :func:`plumecast.met.levels_read._canonical` tells them."""
    return _units(da) in _FLUX_J | _ACC_MM | {"m"}


def attach_bounds_windows(ds: xr.Dataset, time_name: str | None) -> xr.Dataset:
    """``ds`` (one netCDF file) with, for each variable whose ``cell_methods`` say
    ``sum`` or ``mean`` over time, the window lengths [s] of its records read from the
    time bounds as the coordinate ``plumecast_win_<variable>`` on time, how in its
    attribute :data:`plumecast.met.intervals.WINDOWS_FROM` and the bounds' name in
    :data:`BOUNDS`; where the bounds contradict the records or the variable cannot be
    read over them, NaN windows and why in
    :data:`plumecast.met.intervals.WINDOWS_UNKNOWN` (refused when the field is read as a
    quantity over intervals). Variables that already have windows (a netCDF copy of a
    GRIB file), or no statistic over time, are left as they are; so is a file whose time
    names no bounds."""
    b = _bounds_of(ds, time_name)
    if b is None:
        return ds
    assert time_name is not None
    names = {time_name.lower(), "time"} | ({b.dim.lower()} if isinstance(b, _Bounds) and b.dim else set())
    problem = b if isinstance(b, str) else _contradiction(b)
    for n in [str(n) for n in ds.data_vars]:
        da = ds[n]
        dim = b.dim if isinstance(b, _Bounds) else (str(ds[time_name].dims[0]) if ds[time_name].ndim else None)
        if f"{GRIB_WINDOW}{n}" in da.coords or da.ndim < 2 or (dim is not None and dim not in da.dims):
            continue
        methods = time_methods(str(da.attrs.get("cell_methods", "")), names)
        if not methods or (methods[-1][0] == "point" and len(methods) == 1):
            continue
        cm = str(da.attrs["cell_methods"])
        units = str(da.attrs.get("units", "no units"))
        method = methods[-1][0]
        why = ""
        if (isinstance(b, _Bounds) and b.climatology) or any("within" in q or "over" in q for _m, q in methods):
            why = (f"{n!r} has cell_methods {cm!r} over climatological time bounds: statistics over many years, "
                   "not a value over one interval per record; expected a series of windows (time bounds named by "
                   "the time's 'bounds' attribute, cell_methods 'time: sum' or 'time: mean')")
        elif len(methods) > 1 or method not in ("sum", "mean") or methods[-1][1]:
            why = (f"{n!r} has cell_methods {cm!r}: the {method} {methods[-1][1] + ' ' if methods[-1][1] else ''}"
                   "over each window of its time bounds, not the amount or the mean over it; expected cell_methods "
                   "'time: sum' (an amount) or 'time: mean' (a rate)")
        elif method == "sum" and not _amount(da):
            why = (f"{n!r} [{units}] is a rate, but its cell_methods {cm!r} sum it over its time bounds; expected "
                   "'time: mean' for a rate, or an amount (kg m-2, mm, m, J m-2) with 'time: sum'")
        elif method == "mean" and _amount(da):
            why = (f"{n!r} [{units}] is an amount, but its cell_methods {cm!r} make each value the mean of amounts "
                   "over its time bounds, whose own window the file does not state; expected 'time: sum' for the "
                   "amount over the bounds, or a rate (kg m-2 s-1, mm h-1, W m-2) averaged over them")
        elif problem:
            why = f"{n!r} (cell_methods {cm!r}): {problem}"
        if isinstance(b, _Bounds) and not why:
            lengths = (b.hi - b.lo).astype(np.float64)
            how = f"over its time bounds ({b.name}, {_lengths_text(b)})"
        else:
            lengths = np.full(ds[time_name].size, np.nan)
            how = ""
        coord = ((dim,), lengths) if dim is not None else ((), lengths.reshape(-1)[0])
        ds = ds.assign_coords({f"{GRIB_WINDOW}{n}": coord})
        attrs = dict(ds[n].attrs)
        if why:
            attrs[WINDOWS_UNKNOWN] = why
        else:
            attrs.update({WINDOWS_FROM: how, BOUNDS: b.name if isinstance(b, _Bounds) else ""})
        ds[n].attrs = attrs
    return ds


def at_interval_ends(ds: xr.Dataset, surf: xr.Dataset | None, time_name: str | None, where: str
                     ) -> xr.Dataset | None:
    """``surf`` (the normalised surface fields of the file ``ds``, on its time
    ``time_name``) with its times moved to the ends of their time bounds where the file
    labels the values of its quantities over intervals elsewhere in their windows (the
    middle: CMIP, CDO's statistics; the start), and the provenance of those fields
    saying so: the mean over a window is the mean over the interval that ends where the
    window ends (:mod:`plumecast.met.time_bounds`).

    Raises
    ------
    MetDataError
        Naming the file: such a quantity beside fields that hold at the times as they
        are (instantaneous ones, or quantities over intervals whose windows are not the
        bounds): the two cannot share one time axis.
    """
    if surf is None or time_name is None or time_name not in surf.coords:
        return surf
    b = _bounds_of(ds, time_name)
    if not isinstance(b, _Bounds) or np.array_equal(b.hi, b.t):
        return surf
    by_bounds = [str(n) for n in surf.data_vars if surf[n].attrs.get(TIMING, INSTANT) != INSTANT
                 and BOUNDS in ds.get(str(surf[n].attrs.get("plumecast_var", "")), xr.DataArray()).attrs]
    if not by_bounds:
        return surf
    tc = surf[time_name]
    width = b.hi - b.lo
    mid = bool(np.all(np.abs(2 * (b.hi - b.t) - width) <= 1))
    place = "at the middle of" if mid else "at the start of" if np.array_equal(b.lo, b.t) else "inside"

    said = {str(n): repr(str(surf[n].attrs.get("plumecast_var", n))) for n in surf.data_vars}
    others = [str(n) for n in surf.data_vars if str(n) not in by_bounds and set(tc.dims) <= set(surf[n].dims)]
    if others:
        first = [_when(np.datetime64(int(x), "s")) for x in (b.t[0], b.lo[0], b.hi[0])]
        raise _err(where, f"{', '.join(said[n] for n in by_bounds)} (over intervals, by the time bounds "
                          f"{b.name!r}) label each value {place} its window ({first[0]} for {first[1]} to {first[2]}), "
                          f"while {', '.join(said[n] for n in others)} of the same file hold at those times: plumecast "
                          "reads a mean over a window at the window's end, and the two cannot share one time axis; "
                          "expected the quantities over intervals in a file of their own (e.g. cdo selname), or times "
                          "at the ends of their time bounds (e.g. cdo shifttime)")
    shift = b.hi - b.t
    moved = (f"{_hours(float(shift.min()))}" if shift.min() == shift.max()
             else f"{_hours(float(shift.min()))} to {_hours(float(shift.max()))}")
    ends = b.hi.astype("datetime64[s]").astype("datetime64[ns]")
    surf = surf.assign_coords({time_name: (tc.dims, ends if tc.ndim else ends[0], tc.attrs)})
    note = f"its times {place} each window, read at the window's end ({moved} later)"
    for n in by_bounds:
        a = surf[n].attrs
        a["plumecast_from"] = f"{a.get('plumecast_from', n)}; {note}"
        a["plumecast_conversion"] = f"{a.get('plumecast_conversion', '')}; {note}".lstrip("; ")
    return surf
