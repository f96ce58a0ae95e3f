"""Quantities over intervals: precipitation, sensible heat flux, solar radiation.

Producers give these not at an instant but over an interval that ends at the valid
time, in one of three ways:

* **accumulated since a start**: ECMWF forecasts (open data, MARS forecast
  retrievals: ``tp`` [m], ``ssrd``, ``sshf`` [J m-2] since the forecast start), WRF
  (``RAINNC``, ``RAINC`` [mm] since the model start);
* **accumulated or averaged over a window that restarts**: GFS (``APCP`` in 6-h
  buckets, 0-3, 0-6, 6-9, 6-12 h ...; ``PRATE``, ``DSWRF``, ``SHTFL`` averaged over
  windows restarting every 6 h, "0-3 hour ave", "0-6 hour ave", "6-9 hour ave"; NCEP
  GFS product inventory, https://www.nco.ncep.noaa.gov/pmb/products/gfs/, and wgrib2
  ``-ncep_norm``); ERA5 (``tp``, ``sshf``, ``ssrd`` over the hour that ends at the valid
  time; Hersbach et al. 2020, doi:10.1002/qj.3803);
* **the mean over the interval from the previous record**: the file of
  ``plumecast met fetch`` (``prate``, ``rsds``; docs/fetch.md).

A GRIB message says which: its step range (``startStep``-``endStep``, "0-6", "6-9")
and type of statistical processing (cfgrib's ``GRIB_stepType`` ``accum`` or ``avg``).
:func:`attach_grib_windows` reads the step range of every such message with ecCodes
(cfgrib keeps only the end step) and puts the length of each record's window on the
field as the coordinate ``plumecast_win_<variable>``; a netCDF copy of a forecast GRIB
file made with cfgrib keeps the steps and ``GRIB_stepType`` but no step range, and gets
the windows rebuilt from its steps by the producer's convention, or a refusal where they
cannot be told (:func:`attach_copy_windows`); other netCDF files carry no step range:
CF time bounds (the time's ``bounds`` naming ``time_bnds(time, 2)``, with the variable's
``cell_methods`` ``time: sum`` or ``time: mean``) give each record's window, read as
step ranges are, and a value labelled at the middle or the start of its window (CMIP,
CDO's statistics) is read at the window's end (:mod:`plumecast.met.time_bounds`); else
a window the variable states (``plumecast_window``, or a CF ``cell_methods`` interval:
:func:`stated_window`) is read, else the producers' conventions above stand in for it
(:func:`timing`), a precipitation amount of no known convention is refused, and
precipitation read as ERA5's hourly amounts is tested against the data
(:func:`check_not_since_start`: a forecast's accumulation copied without its GRIB
attributes would read as ERA5's). The
window of each record then travels with the field, as the coordinate ``win_<field>``
on ``time``, through the merges and joins of a set, and :func:`interval_means` takes
every record back to **the mean over the interval from the previous record to it**,
through the integrals over the windows (the method of ``met fetch``,
:func:`plumecast.met.fetch_surface._integral`): 3-6 h of ECMWF is
``(A(0-6) - A(0-3)) / 3 h``, of a GFS average ``(6 M(0-6) - 3 M(0-3)) / 3``, 6-9 h of a
GFS bucket ``A(6-9) / 3 h``; ERA5's hour is read as it is. A window that begins at no
record (nor at the forecast start) cannot be taken back: the mean over the window
stands for the interval where the window lies inside it (ERA5's last hour of a
3-hourly set), else it is an error naming the file and the variable. The first record,
whose interval lies before the set, keeps the mean over its own window, or, where it
has none (a forecast's step 0), takes the first interval's. The units never decide
the convention.

A run holds each such mean **constant over its interval**
(:class:`plumecast.run_winds.RunWinds`): the rain, radiation and heat flux of the
interval ending at a record apply from the previous record to it, as a mass- (and
energy-) conserving reading of interval data must (FLEXPART's reason for its
precipitation scheme: Hittmeir, Philipp & Seibert 2018, Geosci. Model Dev. 11, 2503,
doi:10.5194/gmd-11-2503-2018; interpolating the means linearly between records, as if
they were instantaneous, moves half of each interval's rain into the next one). A
difference of accumulations that is negative beyond GRIB packing noise
(:data:`NEGATIVE_TOLERANCE`) is not a bucket reset (the step ranges say where those
are) and is refused when the record is read, naming the file and the variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.met.variables import _err, _when

__all__ = [
    "INTERVAL",
    "INTERVAL_FIELDS",
    "NEGATIVE_TOLERANCE",
    "accumulated_since_start",
    "attach_copy_windows",
    "attach_grib_windows",
    "check_not_since_start",
    "interval_means",
    "stated_window",
    "timing",
]

#: Normalised fields that may be quantities over intervals.
INTERVAL_FIELDS = ("precip", "shf", "solar")
#: Attribute of a normalised field (``"1"``) whose value at a record is the mean over
#: the interval from the previous record to it: a run holds it constant there.
INTERVAL = "plumecast_interval"
#: Attribute (``"1"``) of a field formed by differencing accumulations (or window
#: integrals): a value below ``-NEGATIVE_TOLERANCE`` is refused when read.
DIFFERENCED = "plumecast_differenced"
#: Negative means of differenced fields taken for GRIB packing noise (and read as 0):
#: precipitation [mm h-1], solar radiation [W m-2]. Packing a 10-day ECMWF ``tp`` of
#: 0.2 m in 16 bits leaves 3e-6 m, a GFS ``APCP`` bucket about 0.05 kg m-2: far below.
NEGATIVE_TOLERANCE = {"precip": 0.1, "solar": 10.0}
#: Timing of a field: an instantaneous value, an amount over a window, a mean over one.
INSTANT, SUM, MEAN = "instant", "sum", "mean"
#: The field attribute holding its timing (INSTANT, SUM or MEAN).
TIMING = "plumecast_timing"
#: Coordinate prefix of the window lengths [s] of each record of a field, on time:
#: a length >= 0, or :data:`SINCE_START` (since a start common to the set, WRF) or
#: :data:`SINCE_PREVIOUS` (since the previous record, ``met fetch``).
WINDOW = "win_"
#: The GRIB hypercube's coordinate of a variable's window lengths (``plumecast_win_tp``).
GRIB_WINDOW = "plumecast_win_"
#: Attribute of a variable whose windows were not read from GRIB step ranges: how they were found.
WINDOWS_FROM = "plumecast_windows"
#: ... or why they cannot be told (a netCDF copy of a GRIB file): the field is refused with it.
WINDOWS_UNKNOWN = "plumecast_windows_unknown"
SINCE_START = float("nan")
SINCE_PREVIOUS = -1.0
#: Seconds of each field's rate unit: mm h-1, W m-2 (J m-2 s-1).
RATE_SECONDS = {"precip": 3600.0, "shf": 1.0, "solar": 1.0}
#: ERA5/ECMWF names of hourly accumulations on netCDF files without step ranges.
_ECMWF_HOURLY = ("tp", "lsp", "cp", "sshf", "ssrd")
#: WRF's accumulations since the model start.
_SINCE_START_NAMES = ("rainnc", "rainc", "rainsh")
_STATISTICAL = ("accum", "avg")


# --------------------------------------------------------------------------- GRIB step ranges


def _window_seconds(ec: Any, h: Any) -> float:
    """endStep - startStep of a message [s]."""
    try:
        ec.codes_set(h, "stepUnits", "m")
        return 60.0 * float(ec.codes_get_long(h, "endStep") - ec.codes_get_long(h, "startStep"))
    except Exception:  # noqa: BLE001 - a GRIB 1 message without minutes: its own step units (hours)
        factor = {0: 60.0, 1: 3600.0, 2: 86400.0, 10: 3 * 3600.0, 11: 6 * 3600.0, 12: 12 * 3600.0, 13: 1.0}
        unit = factor.get(int(ec.codes_get(h, "stepUnits")), 3600.0)
        return unit * float(ec.codes_get_long(h, "endStep") - ec.codes_get_long(h, "startStep"))


def grib_windows(path: Path) -> dict[tuple[int, str, str], dict[int, float]]:
    """The step ranges of a GRIB file's accumulated and averaged messages:
    ``(paramId, typeOfLevel, stepType) -> {valid time [s since 1970]: window [s]}``,
    the first message of each valid time (the one cfgrib reads when two share it, as
    GFS's 0-9 and 6-9 h ``APCP``). Headers only are read."""
    import eccodes

    out: dict[tuple[int, str, str], dict[int, float]] = {}
    with open(path, "rb") as fh:
        while True:
            h = eccodes.codes_grib_new_from_file(fh, headers_only=True)
            if h is None:
                return out
            try:
                step_type = str(eccodes.codes_get(h, "stepType"))
                if step_type not in _STATISTICAL:
                    continue
                key = (int(eccodes.codes_get(h, "paramId")), str(eccodes.codes_get(h, "typeOfLevel")), step_type)
                date, hhmm = int(eccodes.codes_get(h, "validityDate")), int(eccodes.codes_get(h, "validityTime"))
                valid = np.datetime64(f"{date // 10000:04d}-{date // 100 % 100:02d}-{date % 100:02d}T"
                                      f"{hhmm // 100:02d}:{hhmm % 100:02d}", "s").astype(np.int64)
                out.setdefault(key, {}).setdefault(int(valid), _window_seconds(eccodes, h))
            finally:
                eccodes.codes_release(h)


def _with_windows(part: xr.Dataset, name: str, lengths: NDArray[np.float64], how: str = "") -> xr.Dataset:
    """``part`` with the window lengths [s] of its variable ``name`` at each valid time
    (``lengths``, in the order of ``valid_time``'s values) as the coordinate
    ``plumecast_win_<name>`` on ``valid_time``'s dimensions, and, where ``how`` is given,
    how they were found in the variable's attribute :data:`WINDOWS_FROM` (for the
    provenance; without it, the GRIB step ranges)."""
    vt = part["valid_time"]
    coord = (vt.dims, lengths.reshape(vt.shape)) if vt.ndim else ((), lengths.reshape(-1)[0])
    part = part.assign_coords({f"{GRIB_WINDOW}{name}": coord})
    if how:
        part[name].attrs[WINDOWS_FROM] = how
    return part


def attach_grib_windows(path: Path, parts: list[xr.Dataset]) -> list[xr.Dataset]:
    """``parts`` (cfgrib's hypercubes of ``path``) with, for each accumulated or averaged
    variable, its window length [s] at each valid time as the coordinate
    ``plumecast_win_<variable>`` (NaN where no message was found)."""
    table: dict[tuple[int, str, str], dict[int, float]] | None = None
    out = []
    for part in parts:
        for n in list(part.data_vars):
            a = part[n].attrs
            step_type = str(a.get("GRIB_stepType", "instant"))
            if step_type not in _STATISTICAL or "valid_time" not in part.coords:
                continue
            if table is None:
                table = grib_windows(path)
            found = table.get((int(a.get("GRIB_paramId", 0)), str(a.get("GRIB_typeOfLevel", "")), step_type), {})
            secs = np.atleast_1d(np.asarray(part["valid_time"].values).astype("datetime64[s]").astype(np.int64))
            part = _with_windows(part, str(n), np.array([found.get(int(s), np.nan) for s in secs], np.float64))
        out.append(part)
    return out


# --------------------------------------------------------------------------- netCDF copies of GRIB files

#: Steps [h] beyond ERA5's: the CDS's ERA5 accumulations come from the forecasts of 06 and
#: 18 UTC over the hour before steps 1 to 12 (Hersbach et al. 2020; ERA5 data documentation).
_ERA5_LAST_STEP_H = 12
_ERA5_RUNS_H = (6, 18)


def _copy_steps(ds: xr.Dataset) -> tuple[NDArray[np.float64], NDArray[Any]] | None:
    """The forecast step [s] and reference time of each valid time of a netCDF copy of
    cfgrib's layout (``step`` or, stacked, ``forecast_period``; ``time`` or
    ``forecast_reference_time``), in the shape of ``valid_time``; None for another file."""
    step_name = next((c for c in ("forecast_period", "step") if c in ds.variables), None)
    if step_name is None or "valid_time" not in ds.variables:
        return None
    vt = ds["valid_time"]
    step = ds[step_name]
    if not np.issubdtype(step.dtype, np.timedelta64) or not set(step.dims) <= set(vt.dims):
        return None
    secs = step.broadcast_like(vt).transpose(*vt.dims).values.astype("timedelta64[s]").astype(np.float64)
    ref_name = next((c for c in ("forecast_reference_time", "time") if c in ds.variables), None)
    ref: NDArray[Any] = np.full(vt.shape, np.datetime64("NaT"), "datetime64[s]")
    if ref_name is not None and set(ds[ref_name].dims) <= set(vt.dims):
        ref = ds[ref_name].broadcast_like(vt).transpose(*vt.dims).values.astype("datetime64[s]")
    return np.asarray(secs, np.float64), ref


def _accumulations(ds: xr.Dataset) -> list[str]:
    """The accumulated and averaged variables of a netCDF copy of cfgrib's layout whose
    windows are still to be found."""
    return [str(n) for n in ds.data_vars if str(ds[n].attrs.get("GRIB_stepType", "")).lower() in _STATISTICAL
            and f"{GRIB_WINDOW}{n}" not in ds.coords]


def accumulated_since_start(copies: list[xr.Dataset]) -> frozenset[int]:
    """The reference times [s since 1970] of the ECMWF forecasts whose accumulations some
    netCDF copy of the set holds at step 0 or beyond 12 h: since the forecast start,
    not ERA5's hour (a forecast copied a file per step, step 0 in a file of its own)."""
    out: set[int] = set()
    for ds in copies:
        if str(ds.attrs.get("GRIB_centre", "")).strip().lower() != "ecmf" or not any(
                str(ds[n].attrs.get("GRIB_stepType", "")).lower() == "accum" for n in _accumulations(ds)):
            continue
        found = _copy_steps(ds)
        if found is not None:
            secs, ref = found
            sure = ((secs == 0) | (secs > 3600.0 * _ERA5_LAST_STEP_H)) & ~np.isnat(ref)
            out.update(int(r) for r in ref[sure].astype(np.int64))
    return frozenset(out)


def attach_copy_windows(path: Path, ds: xr.Dataset, since_start: frozenset[int] = frozenset()) -> xr.Dataset:
    """A netCDF copy of a forecast GRIB file made with cfgrib (``xarray.open_dataset(...,
    engine="cfgrib").to_netcdf()``: a ``step`` coordinate, scalar or a dimension, or
    stacked reference times x steps, and the variables' ``GRIB_*`` attributes) with the
    windows of its accumulated and averaged variables (``GRIB_stepType`` ``accum``,
    ``avg``) rebuilt from the steps by the producer's convention, as the coordinate that
    :func:`attach_grib_windows` gives a GRIB file's (the copy lost the step ranges):
    ECMWF (``GRIB_centre`` ``ecmf``) accumulates since the forecast start; GFS (``kwbc``)
    accumulates and averages over windows restarting every 6 h
    (:func:`plumecast.met.fetch_surface._window_start`, as ``met fetch`` plans them).
    Other files are returned as they are.

    ``since_start``: the reference times [s] of ECMWF forecasts that other copies of the
    set show to accumulate since the start (:func:`accumulated_since_start`).

    Where the windows cannot be told from the copy (ECMWF accumulations on steps 1-12 h
    of 06 or 18 UTC forecasts without step 0 in the set: ERA5 from the CDS covers the
    hour before each step there; ECMWF averages; other centres) the windows are NaN and the
    variable's attribute :data:`WINDOWS_UNKNOWN` says why: :func:`timing` refuses the
    field with it, naming the file, when the field is read (a variable that is not read,
    ``sf`` or ``ro``, is not refused).
    """
    from plumecast.met.fetch_surface import GFS_AVERAGE_RESET_H, _window_start

    names = _accumulations(ds)
    found = _copy_steps(ds) if names else None
    if found is None:
        return ds
    secs, ref = found
    centre = str(ds.attrs.get("GRIB_centre", "")).strip().lower()
    hours = secs / 3600.0
    for n in names:
        step_type = str(ds[n].attrs["GRIB_stepType"]).lower()
        shown = ", ".join(f"{h:g}" for h in np.unique(hours)[:8]) + (" .." if np.unique(hours).size > 8 else "")
        what = (f"{n!r} ({'accumulated' if step_type == 'accum' else 'averaged'}, GRIB_stepType {step_type}, "
                f"centre {centre or 'not given'}) on forecast steps {shown} h")
        ask = ("expected the GRIB file itself (its step ranges say each value's window), or a netCDF file on valid "
               "times holding the mean over the interval before each")
        lengths, how, why = np.full(secs.shape, np.nan), "", ""
        if centre == "kwbc":
            if np.any(hours != np.round(hours)):
                why = (f"{what}: GFS's windows restart every {GFS_AVERAGE_RESET_H} h of whole-hour steps; this "
                       f"netCDF copy keeps no step ranges; {ask}")
            else:
                start = np.array([_window_start("gfs", int(h)) if h > 0 else 0 for h in hours.reshape(-1)])
                lengths = secs - 3600.0 * start.reshape(secs.shape).astype(np.float64)
                how = (f"over windows rebuilt from its forecast steps by GFS's convention (centre kwbc: windows "
                       f"restarting every {GFS_AVERAGE_RESET_H} h, 0-1 .. 0-6 h, 6-7 .. 6-12 h; the netCDF copy "
                       "keeps no step ranges)")
        elif centre == "ecmf" and step_type == "accum":
            runs = ref[~np.isnat(ref)].astype("datetime64[h]").astype(np.int64) % 24
            shown_elsewhere = not np.isnat(ref).any() and np.isin(ref.astype(np.int64), list(since_start)).all()
            if (np.any(hours == 0) or np.any(hours > _ERA5_LAST_STEP_H) or np.any(~np.isin(runs, _ERA5_RUNS_H))
                    or shown_elsewhere):
                lengths = secs
                how = ("since the forecast start (ECMWF's accumulations, centre ecmf; the windows rebuilt from its "
                       "forecast steps: the netCDF copy keeps no step ranges)")
            else:
                why = (f"{what} of forecasts from 06 or 18 UTC without step 0: this netCDF copy keeps no step ranges, "
                       "and there ECMWF forecasts accumulate since the forecast start while ERA5 from the CDS "
                       "accumulates over the hour before each step; " + ask)
        else:
            why = (f"{what}: this netCDF copy keeps no step ranges, and the windows of this producer cannot be told "
                   "from its steps (plumecast rebuilds those of ECMWF accumulations, since the forecast start, and "
                   "of GFS, centre kwbc); " + ask)
        ds = _with_windows(ds, n, np.asarray(lengths, np.float64), how)
        if why:
            ds[n].attrs[WINDOWS_UNKNOWN] = why
    return ds


# --------------------------------------------------------------------------- the timing of one file's field


def timing(key: str, da: xr.DataArray, fname: str, amount: bool, where: str, forecast_steps: bool,
           centre: str = "") -> tuple[str, Any, str]:
    """When the values of an interval field of one file apply: ``(kind, window, note)``,
    kind :data:`INSTANT`, :data:`SUM` (an amount over the window) or :data:`MEAN`;
    window the lengths [s] of the records' windows (an array on the field's time, from
    the GRIB step ranges or, in a netCDF copy of a GRIB file, rebuilt from its steps by
    :func:`attach_copy_windows`), or one length for all (:data:`SINCE_START`,
    :data:`SINCE_PREVIOUS`, 3600 s), or None for INSTANT; ``amount``: the units are an
    amount (m, mm, kg m-2, J m-2), not a rate; ``forecast_steps``: a netCDF file on
    forecast steps (reference time x step, stacked into valid times); ``centre`` the
    GRIB centre the file names (``ecmf``: an ERA5 mean rate, ``avg_tprate``,
    ``avg_ishf``, averages the hour before the valid time).

    Raises
    ------
    MetDataError
        A GRIB message without a step range; a field of a netCDF copy of a GRIB file
        whose windows cannot be told from its steps (:func:`attach_copy_windows`); an
        accumulated field of a netCDF file on forecast steps without GRIB attributes
        (its step ranges are lost).
    """
    low = fname.lower()
    step_type = str(da.attrs.get("GRIB_stepType", "")).lower()
    coord = f"{GRIB_WINDOW}{fname}"
    if coord in da.coords:
        win = np.asarray(da[coord].values, dtype=np.float64)
        if np.isnan(win).any() and WINDOWS_UNKNOWN in da.attrs:  # a netCDF copy's (attach_copy_windows)
            raise _err(where, str(da.attrs[WINDOWS_UNKNOWN]))
        if np.isnan(win).any():
            raise _err(where, f"{fname!r} ({step_type}): no step range found for some of its messages; expected "
                              "GRIB messages with startStep and endStep")
        kind = SUM if amount else MEAN
        how = str(da.attrs.get(WINDOWS_FROM, "")) or "over each message's GRIB step range"
        return kind, win, ("" if kind == SUM else "averaged ") + how
    if forecast_steps and (amount or step_type in _STATISTICAL):
        raise _err(where, f"{fname!r} is {'accumulated' if amount else 'averaged'} over forecast steps, but this "
                          "netCDF copy of a forecast (reference time x step) keeps no step ranges: whether a value "
                          "covers the time since the forecast start or the last step is unknown; expected the GRIB "
                          "file itself (its step ranges say it), or a netCDF file on valid times")
    comment = str(da.attrs.get("comment", "")).lower()
    if "mean over the interval from the previous lead time" in comment:
        return MEAN, SINCE_PREVIOUS, "the mean over the interval from the previous lead time (plumecast met fetch)"
    stated = stated_window(da, fname, where)
    if stated is not None:
        return (SUM if amount else MEAN), stated[0], stated[1]
    if not amount:
        if (step_type == "avg" and centre == "ecmf") or low in _ERA5_MEAN_RATES:
            return MEAN, 3600.0, "the mean over the hour before the valid time (ERA5 mean rate)"
        return INSTANT, None, ""
    if low in _SINCE_START_NAMES:
        return SUM, SINCE_START, "since the model start"
    units = str(da.attrs.get("units", "no units"))
    if key == "precip" and low.startswith("apcp"):
        raise _err(where, f"{fname!r} [{units}] is GFS's accumulated precipitation (APCP), which GFS puts in buckets "
                          "restarting every 6 h (0-3, 0-6, 6-9, 6-12 h ...), but this netCDF file (as wgrib2 -netcdf "
                          "writes it) keeps no step ranges to tell each value's window; expected the GRIB file itself "
                          "(its step ranges say them), GFS's rate PRATE, or the window stated on the variable: "
                          f"{_HOW_TO_STATE}")
    if key == "precip" and low not in _ECMWF_HOURLY:
        raise _err(where, f"{fname!r} [{units}] is a precipitation amount, but nothing in the file says over which "
                          "time each value is accumulated (the hour before it, a 6-h bucket, or since the model "
                          "start as WRF's RAINNC); expected the window stated on the variable: "
                          f"{_HOW_TO_STATE}; or a rate (kg m-2 s-1, mm h-1)")
    return SUM, 3600.0, ERA5_HOUR


#: How a netCDF file states the window of its amounts (:func:`stated_window`), for messages.
_HOW_TO_STATE = ("the CF attribute cell_methods 'time: sum (interval: 1 hour)' where each value covers the hour "
                 "(or the interval given) that ends at its time, or plumecast_window 'since start' where it is "
                 "accumulated since the model or forecast start (e.g. ncatted -a plumecast_window,VAR,c,c,"
                 "'since start' FILE), or CF time bounds (the time's attribute bounds naming a variable of the start "
                 "and end of each value's window) with cell_methods 'time: sum'")
#: Attribute (``"1"``) of precipitation read by its name as ERA5's hourly amounts.
BY_NAME = "plumecast_era5_by_name"
#: The timing note of an amount read as ERA5's hourly one by its name (no window stated):
#: :func:`check_not_since_start` tests such precipitation against the data.
ERA5_HOUR = "over the hour before the valid time (ERA5)"
#: ERA5's mean rates (legacy CDS names) over the hour before the valid time.
_ERA5_MEAN_RATES = ("mtpr",)
_SECONDS = {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
            "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0, "d": 86400.0,
            "day": 86400.0, "days": 86400.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-z]+)\s*$")
_CELL_METHOD = re.compile(r"(?:^|\s)[a-z_]*time[a-z_]*:\s*(sum|mean)\s*\(\s*interval:\s*([^)]*)\)")


def stated_window(da: xr.DataArray, fname: str, where: str) -> tuple[float, str] | None:
    """The window [s] of each value of a netCDF field over intervals as the file states it,
    and how, or None: the attribute ``plumecast_window`` (``since start``, or a duration
    such as ``1 hour``), else a CF ``cell_methods`` of ``sum`` or ``mean`` over time with
    an interval (``time: sum (interval: 1 hour)``), taken as the window that ends at each
    valid time. CF time bounds, where the file has them, come first: their windows are on
    the field already (:func:`plumecast.met.time_bounds.attach_bounds_windows`).

    Raises
    ------
    MetDataError
        A ``plumecast_window`` that is neither.
    """
    own = da.attrs.get("plumecast_window")
    if own is not None:
        text = str(own).strip().lower()
        if text in ("since start", "since the start", "since_start"):
            return SINCE_START, "since the start (its plumecast_window)"
        m = _DURATION.match(text)
        if m is None or m.group(2) not in _SECONDS or not float(m.group(1)) > 0:
            raise _err(where, f"{fname!r} has plumecast_window {own!r}; expected 'since start' or a duration such "
                              "as '1 hour' or '3 hours' (the window that ends at each valid time)")
        return float(m.group(1)) * _SECONDS[m.group(2)], f"over the {text} before the valid time (its plumecast_window)"
    m = _CELL_METHOD.search(str(da.attrs.get("cell_methods", "")).lower())
    if m is None:
        return None
    d = _DURATION.match(m.group(2))
    if d is None or d.group(2) not in _SECONDS or not float(d.group(1)) > 0:
        raise _err(where, f"{fname!r} has cell_methods {da.attrs['cell_methods']!r}, whose interval is not a "
                          "duration plumecast reads; expected e.g. 'time: sum (interval: 1 hour)'")
    span = f"{d.group(1)} {d.group(2)}"
    return float(d.group(1)) * _SECONDS[d.group(2)], f"over the {span} before the valid time (its cell_methods)"


#: Records and points :func:`check_not_since_start` reads.
_CHECK_RECORDS, _CHECK_POINTS = 25, 10000
#: An increase or decrease [mm] beyond GRIB packing noise.
_GROWTH_MM = 0.01


def check_not_since_start(da: xr.DataArray, where: str) -> None:
    """Refuse precipitation read by its name as ERA5's hourly amounts (``tp``, ``lsp``,
    ``cp`` without GRIB step ranges or a stated window) whose values never decrease at
    any point over the first records and grow somewhere: an accumulation since a
    forecast's start (an ECMWF forecast, or GFS, copied to netCDF by cdo or
    grib_to_netcdf, without its GRIB attributes) looks so, and read as hourly amounts it
    gives rain too high by a factor that grows with the lead time. ERA5's hourly amounts
    rise and fall from hour to hour; where they only rise over the whole domain the
    two readings cannot be told apart, and the file is refused too, with the ways to
    state the convention. ``da``: the field in mm on ``time`` (and lat, lon, members),
    of its first ``_CHECK_RECORDS`` records on at most ``_CHECK_POINTS`` points per record."""
    n = min(int(da.sizes.get("time", 1)), _CHECK_RECORDS)
    times = np.asarray(da["time"].values)
    gap_s = float(np.diff(times[:n].astype("datetime64[s]").astype(np.int64)).min()) if n >= 2 else 0.0
    if gap_s <= 3600.0:
        return  # hourly records: ERA5's hourly amounts as they come
    sub = da.isel(time=slice(0, n))
    s = max(1, int(np.ceil(np.sqrt(sub.sizes["lat"] * sub.sizes["lon"] / _CHECK_POINTS))))
    sub = sub.isel(lat=slice(None, None, s), lon=slice(None, None, s)).transpose("time", ...)
    a = np.asarray(sub.values, np.float64).reshape(n, -1)
    a = a[:, np.isfinite(a).all(axis=0)]
    d = np.diff(a, axis=0)
    if not d.size or float(d.min()) < -_GROWTH_MM or float(d.max()) <= _GROWTH_MM:
        return
    var = str(da.attrs.get("plumecast_var", "tp"))
    gap = gap_s / 3600.0
    raise _err(where, f"{var!r} is read by its name as ERA5's hourly amounts (over the hour before each valid time), "
                      f"but over its first {n} records ({_when(times[0])} .. {_when(times[n - 1])}, {gap:g} h or more apart) it never decreases at any "
                      "point and grows (by up to "
                      f"{float(d.max()):.3g} mm from one record to the next): so does an accumulation since a "
                      "forecast's start (an ECMWF or GFS forecast copied to netCDF without its GRIB attributes), "
                      "which read as hourly amounts gives rain many times too high; expected the GRIB file itself "
                      "(its step ranges say each value's window), or the convention stated on the variable: "
                      + _HOW_TO_STATE)


# --------------------------------------------------------------------------- back to the intervals


def _integral(a: int, b: int, index: dict[int, int], start: NDArray[np.float64], kind: str, rate_s: float,
              n: int) -> dict[int, float] | None:
    """Coefficients (record -> weight) of the amount over (a, b] [rate unit x
    ``rate_s`` s] from the records' windows (record k covers (start[k], t_k]), or None
    where a window begins at no record. With st the start of b's window:
    I(a, b) = W(b) + I(a, st) when st >= a, and W(b) - I(st, a) when it begins before a
    (:func:`plumecast.met.fetch_surface._integral`)."""
    coeffs: dict[int, float] = {}
    sign = 1.0
    for _ in range(2 * n + 2):
        if a == b:
            return coeffs
        k = index.get(b)
        if k is None:
            return None
        st = float(start[k])
        if not st < b:
            return None  # an empty window (step 0) at b
        w = 1.0 if kind == SUM else (b - st) / rate_s
        coeffs[k] = coeffs.get(k, 0.0) + sign * w
        if st >= a:
            b = int(round(st))
        else:
            sign = -sign
            a, b = int(round(st)), a
    return None


def _starts(t: NDArray[np.int64], win: NDArray[np.float64]) -> NDArray[np.float64]:
    """Start [s] of each record's window from its length (NaN: a start common to all,
    before every record; -1: the previous record)."""
    start = t.astype(np.float64) - win
    origin = float(t.min()) - 1e12
    start[np.isnan(win)] = origin
    prev = win == SINCE_PREVIOUS
    if prev.any():
        before = np.concatenate([[t[0] - (t[1] - t[0] if t.size > 1 else 1)], t[:-1]]).astype(np.float64)
        start[prev] = before[prev]
    return start


def interval_means(da: xr.DataArray, name: str, targets: NDArray[Any], where: str
                   ) -> tuple[xr.DataArray, str]:
    """A field over intervals (``da`` on its own times, with the coordinate
    ``win_<name>`` and attr :data:`TIMING`) as the mean over the interval from the
    previous target time to each of ``targets`` (times of ``da``): lazily, each record
    a combination of a few of ``da``'s. Returns it (attrs ``units`` the rate, ``INTERVAL``
    and, where records were differenced, ``DIFFERENCED``) and a note for the provenance.

    Raises
    ------
    MetDataError
        Naming the file of the record and the variable: a window that begins before the
        previous record at no record; an accumulation since the start with one record.
    """
    kind = str(da.attrs.get(TIMING, MEAN))
    rate_s = RATE_SECONDS[name]
    t = np.asarray(da["time"].values).astype("datetime64[s]").astype(np.int64)
    start = _starts(t, np.asarray(da[f"{WINDOW}{name}"].values, dtype=np.float64))
    index = {int(x): k for k, x in enumerate(t)}
    tg = np.asarray(targets).astype("datetime64[s]").astype(np.int64)
    files = np.asarray(da[f"met_file_{name}"].values) if f"met_file_{name}" in da.coords else None
    var = str(da.attrs.get("plumecast_var", name))

    def file_of(k: int) -> str:
        return str(files[k]) if files is not None else where

    def own(k: int) -> dict[int, float] | None:
        """The mean over record k's own window, or None where it has none."""
        st = float(start[k])
        if not st < t[k] or np.isnan(da[f"{WINDOW}{name}"].values[k]):
            return None
        return {k: 1.0} if kind == MEAN else {k: rate_s / (t[k] - st)}

    rows: list[dict[int, float] | None] = []
    approximated = 0
    for i, b in enumerate(tg):
        k = index[int(b)]
        if i == 0:
            rows.append(own(k))
            continue
        a = int(tg[i - 1])
        coeffs = _integral(a, int(b), index, start, kind, rate_s, t.size)
        if coeffs is not None:
            rows.append({j: c * rate_s / (b - a) for j, c in coeffs.items()})
        elif a <= start[k] < b:
            rows.append(own(k))  # the window lies inside the interval: its mean stands for the interval's
            approximated += 1
        else:
            st = np.datetime64(int(start[k]), "s") if np.isfinite(start[k]) and start[k] > t.min() - 1e11 else None
            span = f"{_when(st)} to {_when(np.datetime64(int(b), 's'))}" if st is not None else "its window"
            raise _err(file_of(k), f"{var!r} at {_when(np.datetime64(int(b), 's'))} covers {span}, which begins "
                                   f"{'at no record' if st is None or st < a else 'after the previous record'} "
                                   f"of the set, so the interval from {_when(np.datetime64(a, 's'))} cannot be "
                                   "taken from it; expected the records whose step ranges begin there (e.g. GFS "
                                   "f006 for the 6-9 h bucket of f009)")
    first_own = rows[0] is not None
    if rows[0] is None:
        if len(rows) > 1:
            rows[0] = rows[1]
        elif kind == SUM and np.isnan(da[f"{WINDOW}{name}"].values[0]):
            raise _err(file_of(0), f"{var!r} is accumulated since the model start: at least 2 records are needed "
                                   "to form a rate")
        else:
            rows[0] = {}
    full: list[dict[int, float]] = [r if r is not None else {} for r in rows]

    x = da.transpose("time", ...)
    data = x.data
    if all(len(r) == 1 for r in full):
        idx = [next(iter(r)) for r in full]
        coef = np.array([next(iter(r.values())) for r in full], dtype=np.float64)
        out = data[idx] * coef.reshape((-1,) + (1,) * (data.ndim - 1)).astype(np.float32)
    else:
        pieces = [sum((np.float32(c) * data[j] for j, c in r.items()), start=data[0] * np.float32(0.0))
                  for r in full]
        stack = _stack_of(data)
        out = stack(pieces)
    coords: dict[str, Any] = {str(d): x[d] for d in x.dims if d != "time" and d in x.coords}
    pick = [index[int(b)] for b in tg]
    coords["time"] = ("time", np.asarray(targets))
    if files is not None:
        coords[f"met_file_{name}"] = ("time", files[pick])
    res = xr.DataArray(out, dims=x.dims, coords=coords).astype(np.float32)
    differenced = any(len(r) > 1 for r in full)
    attrs = {k: v for k, v in da.attrs.items() if k != TIMING}
    attrs.update({"units": "mm h-1" if name == "precip" else "W m-2", INTERVAL: "1"})
    if differenced:
        attrs[DIFFERENCED] = "1"
    res.attrs = attrs
    note = ("the mean over the interval from the previous record to each record (the first record: "
            + ("the mean over its own window" if first_own else "the first interval's") + ")")
    if approximated:
        note += (f"; at {approximated} record(s) the window is shorter than the interval between records "
                 "and its mean stands for the interval's")
    return res, note


def _stack_of(data: Any) -> Any:
    """``stack`` for the array kind of ``data`` (dask or NumPy)."""
    try:
        import dask.array as dsk
    except ImportError:  # pragma: no cover - dask comes with the package
        return np.stack
    return dsk.stack if isinstance(data, dsk.Array) else np.stack


def window_coords(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (one file's canonical dataset on ``time``) with each ``win_<field>``
    coordinate on ``time`` (a scalar one, of a file of one record, broadcast)."""
    n = ds.sizes.get("time", 1)
    for c in [str(c) for c in ds.coords if str(c).startswith(WINDOW)]:
        if ds[c].dims != ("time",):
            ds = ds.assign_coords({c: ("time", np.broadcast_to(np.asarray(ds[c].values, np.float64), (n,)).copy())})
    return ds


def check_negative(a: NDArray[np.float64], name: str, da: xr.DataArray, where: str, time: Any,
                   lat: NDArray[np.float64], lon: NDArray[np.float64]) -> None:
    """Refuse a differenced field below ``-NEGATIVE_TOLERANCE``: an accumulation that
    decreases inside its window (no bucket reset: the step ranges say where those are)."""
    tol = NEGATIVE_TOLERANCE.get(name)
    if tol is None or da.attrs.get(DIFFERENCED) != "1" or not a.size or float(a.min()) >= -tol:
        return
    j, i = np.unravel_index(int(np.argmin(a)), a.shape)[-2:]
    var = str(da.attrs.get("plumecast_var", name))
    unit = str(da.attrs.get("units", ""))
    raise _err(where, f"{var!r} gives {float(a[..., j, i].min()):.3g} {unit} over the interval ending at {time}, at "
                      f"lat={lat[j]:g}, lon={lon[i]:g}: the accumulation decreases from the previous record although "
                      "no step range restarts there (not a bucket reset, not GRIB packing noise); expected "
                      "accumulations that grow within their window")
