"""Download open forecast data into one normalised netCDF file (``plumecast met fetch``).

Two sources, both free and without an account:

* ``ecmwf``: the ECMWF IFS high-resolution forecast on the 0.25 degree open-data
  grid (licence CC BY 4.0), downloaded with ECMWF's ``ecmwf-opendata`` client from
  ``data.ecmwf.int`` (about the last four days) or one of its cloud mirrors
  (``aws``, ``azure``, ``google``, which keep older runs).
* ``gfs``: NOAA's GFS on the 0.25 degree grid (``pgrb2.0p25`` files, public
  domain), read straight from the NOAA Open Data Dissemination bucket on AWS
  (``aws``, runs since 2021), NOMADS (``nomads``, about the last ten days) or
  Google Cloud (``google``). Only the messages needed are downloaded, by HTTP range
  requests located with the file's wgrib2 ``.idx`` inventory (the method of the
  Herbie package, Blaylock 2022, doi:10.5281/zenodo.4567540); no other package is
  needed for it than ``requests``.

Both services send whole global fields; the area is cut out here while decoding
with ecCodes, so only the area is ever held in memory. The result is one CF
netCDF file with ERA5's variable names (Hersbach et al. 2020,
doi:10.1002/qj.3803), the form :func:`plumecast.met.open_wind` and the 3-D reader
take:

* on ``(time, level, latitude, longitude)``: ``u``, ``v`` [m s-1], ``w`` [Pa s-1]
  (pressure vertical velocity, omega), ``z`` geopotential [m2 s-2] (the services'
  geopotential height [gpm] times g0 = 9.80665 m s-2) and ``t`` [K];
* on ``(time, latitude, longitude)``: ``u10``, ``v10`` [m s-1], ``t2m`` [K],
  ``sp`` [Pa] and, for GFS, ``blh`` [m] (GFS ``HPBL``) and ``orog`` [m] (GFS
  ``HGT`` at the surface);
* ``prate`` precipitation rate [kg m-2 s-1], the mean over the interval that ends
  at each lead time (:func:`precipitation_rate`; none when only lead time 0 is
  fetched);
* ``rsds`` solar (short-wave) radiation at the ground [W m-2], the mean over the
  same intervals (:func:`plumecast.met.fetch_surface.solar_radiation`), and
  ``lsm`` the land-sea mask [1] on ``(latitude, longitude)`` (time-invariant), see
  :mod:`plumecast.met.fetch_surface`;
* ``zs`` surface geopotential [m2 s-2] where the source sends no orography
  (ECMWF): diagnosed from ``sp`` and ``z`` (:func:`surface_geopotential`), when
  the levels include 1000 hPa;
* ``time`` is the valid time (with ``forecast_period`` [h] beside it and the
  scalar ``forecast_reference_time``), ``level`` [hPa] runs from the ground
  upwards (1000 hPa first), ``latitude`` ascends, ``longitude`` ascends in
  [-180, 180).

The file is written atomically (:func:`plumecast.fileio.atomic_path`): a failed or
interrupted download leaves no file behind, and an existing file is replaced only
with ``force=True``. A network failure is one :class:`MetFetchError` line naming
the host.

The parts: the request, its checks, the fields and the errors are in
:mod:`plumecast.met.fetch_common`; the downloads of each service in
:mod:`plumecast.met.fetch_ecmwf` and :mod:`plumecast.met.fetch_gfs`; solar
radiation and the land-sea mask in :mod:`plumecast.met.fetch_surface`; the parsing
of the command's values, the decoding, the writing and :func:`fetch` here. Every public
name is importable from this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from plumecast.errors import OutputPathError
from plumecast.met.fetch_common import (
    DEFAULT_LEVELS,
    ECMWF_MIRRORS,
    GFS_MIRRORS,
    SOURCES,
    Area,
    FetchRequest,
    MetFetchError,
    _allowed_steps,
    _Field,
    _fields,
    _one_line,
    _require,
    _steps_text,
    precipitation_steps,
)
from plumecast.met.fetch_common import ECMWF_LEVELS as ECMWF_LEVELS
from plumecast.met.fetch_common import G0 as G0
from plumecast.met.fetch_common import GFS_LEVELS as GFS_LEVELS
from plumecast.met.fetch_common import _reachable as _reachable
from plumecast.met.fetch_ecmwf import LSM_FILE, SSRD_FILE, download_ecmwf
from plumecast.met.fetch_gfs import _http_session as _http_session
from plumecast.met.fetch_gfs import _idx_ranges as _idx_ranges
from plumecast.met.fetch_gfs import download_gfs
from plumecast.met.fetch_gfs import gfs_url as gfs_url
from plumecast.met.fetch_surface import SurfaceFields, interval_means, surface_kind
from plumecast.met.fetch_surface import data_vars as _surface_vars
from plumecast.met.fetch_surface import solar_radiation as solar_radiation
from plumecast.met.fetch_surface import solar_steps as solar_steps

__all__ = [
    "DEFAULT_LEVELS",
    "ECMWF_MIRRORS",
    "GFS_MIRRORS",
    "SOURCES",
    "Area",
    "FetchRequest",
    "MetFetchError",
    "fetch",
    "normalise_grib",
    "parse_area",
    "parse_date",
    "parse_levels",
    "parse_steps",
    "precipitation_rate",
    "precipitation_steps",
    "solar_radiation",
    "solar_steps",
    "surface_geopotential",
]

log = logging.getLogger(__name__)

#: Gas constant of dry air [J kg-1 K-1] (WMO; Wallace & Hobbs 2006, Atmospheric Science, 2nd ed.).
R_DRY = 287.05


# --------------------------------------------------------------------------- request

def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` (or ``YYYYMMDD``) as a date; a wrong form is a :class:`MetFetchError`."""
    s = str(text).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise MetFetchError(f"--date {text!r}: expected a date as YYYY-MM-DD, e.g. 2024-01-31")


def parse_steps(text: str) -> tuple[int, ...]:
    """Lead times [h]: ``0,3,6``, a range ``0-72/3`` (start-stop/step, both ends
    included) or a mix of both, sorted and without repeats.

    >>> parse_steps("0-12/3,24,6")
    (0, 3, 6, 9, 12, 24)
    """
    steps: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+)(?:/(\d+))?)?", part)
        if not m:
            raise MetFetchError(f"--steps {text!r}: {part!r} is not a lead time; expected hours as "
                                "0,3,6 or a range 0-72/3")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        by = int(m.group(3)) if m.group(3) is not None else 1
        if b < a or by < 1:
            raise MetFetchError(f"--steps {text!r}: range {part!r} runs backwards or has step 0; "
                                "expected start-stop/step with start <= stop")
        steps.update(range(a, b + 1, by))
    return tuple(sorted(steps))


def parse_levels(text: str) -> tuple[int, ...]:
    """Pressure levels [hPa] as ``1000,850,500``; returned from the ground up (descending)."""
    out: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        try:
            out.add(int(part))
        except ValueError:
            raise MetFetchError(f"--levels {text!r}: {part!r} is not a pressure level; expected whole "
                                "hPa such as 1000,850,500") from None
    return tuple(sorted(out, reverse=True))


def parse_area(text: str) -> Area:
    """``N,W,S,E`` in degrees (latitudes in [-90, 90], longitudes in [-180, 180],
    north > south, west < east).

    >>> parse_area("60,-10,35,30")
    Area(north=60.0, west=-10.0, south=35.0, east=30.0)
    """
    parts = str(text).replace(" ", "").split(",")
    try:
        n, w, s, e = (float(p) for p in parts)
    except ValueError:
        raise MetFetchError(f"--area {text!r}: expected four numbers N,W,S,E in degrees, "
                            "e.g. 60,-10,35,30") from None
    if not all(np.isfinite(x) for x in (n, w, s, e)):
        raise MetFetchError(f"--area {text!r}: expected finite numbers N,W,S,E")
    if not (-90.0 <= s < n <= 90.0):
        raise MetFetchError(f"--area {text!r}: expected latitudes -90 <= S < N <= 90 (north first)")
    if not (-180.0 <= w < e <= 180.0):
        raise MetFetchError(f"--area {text!r}: expected longitudes -180 <= W < E <= 180 (an area "
                            "across the antimeridian is not supported; fetch it as two areas)")
    return Area(n, w, s, e)


# --------------------------------------------------------------------------- decoding

@dataclass
class _Grid:
    lat: np.ndarray  # of the rows of the message, in file order
    lon: np.ndarray  # of the columns, in [-180, 180), in file order
    rows: np.ndarray  # indices of the rows inside the area, lat ascending
    cols: np.ndarray  # indices of the columns inside the area, lon ascending
    key: tuple[Any, ...]


def _grid_of(ec: Any, h: Any, area: Area, path: Path) -> _Grid:
    grid_type = ec.codes_get(h, "gridType")
    if grid_type != "regular_ll":
        raise MetFetchError(f"{path}: a message is on a {grid_type} grid; expected a regular "
                            "latitude-longitude grid")
    ni, nj = int(ec.codes_get(h, "Ni")), int(ec.codes_get(h, "Nj"))
    lat1 = float(ec.codes_get(h, "latitudeOfFirstGridPointInDegrees"))
    lon1 = float(ec.codes_get(h, "longitudeOfFirstGridPointInDegrees"))
    di = float(ec.codes_get(h, "iDirectionIncrementInDegrees"))
    dj = float(ec.codes_get(h, "jDirectionIncrementInDegrees"))
    j_pos = int(ec.codes_get(h, "jScansPositively"))
    i_neg = int(ec.codes_get(h, "iScansNegatively"))
    if int(ec.codes_get(h, "jPointsAreConsecutive")):
        raise MetFetchError(f"{path}: a message stores columns first (jPointsAreConsecutive=1); "
                            "expected rows of longitudes, as ECMWF and NCEP send")
    lat = lat1 + (1 if j_pos else -1) * dj * np.arange(nj)
    lon = lon1 + (-1 if i_neg else 1) * di * np.arange(ni)
    lon = (np.round(lon, 6) + 180.0) % 360.0 - 180.0
    eps = 1e-6
    row_in = np.nonzero((lat >= area.south - eps) & (lat <= area.north + eps))[0]
    col_in = np.nonzero((lon >= area.west - eps) & (lon <= area.east + eps))[0]
    rows = row_in[np.argsort(lat[row_in], kind="stable")]
    cols = col_in[np.argsort(lon[col_in], kind="stable")]
    if rows.size < 2 or cols.size < 2:
        raise MetFetchError(f"--area {area}: holds {rows.size} x {cols.size} points of the "
                            f"{dj:g} x {di:g} degree grid; expected at least 2 x 2 (a larger area)")
    return _Grid(lat, lon, rows, cols, (ni, nj, lat1, lon1, di, dj, j_pos, i_neg))


def _grid_key(ec: Any, h: Any) -> tuple[Any, ...]:
    return (int(ec.codes_get(h, "Ni")), int(ec.codes_get(h, "Nj")),
            float(ec.codes_get(h, "latitudeOfFirstGridPointInDegrees")),
            float(ec.codes_get(h, "longitudeOfFirstGridPointInDegrees")),
            float(ec.codes_get(h, "iDirectionIncrementInDegrees")),
            float(ec.codes_get(h, "jDirectionIncrementInDegrees")),
            int(ec.codes_get(h, "jScansPositively")), int(ec.codes_get(h, "iScansNegatively")))


def _messages(ec: Any, path: Path) -> Iterator[Any]:
    with open(path, "rb") as fh:
        while True:
            try:
                h = ec.codes_grib_new_from_file(fh)
            except Exception as exc:  # ecCodes' own errors (truncated message...)
                raise MetFetchError(f"{path}: not readable as GRIB ({_one_line(exc, 120)})") from None
            if h is None:
                return
            try:
                yield h
            finally:
                ec.codes_release(h)


def normalise_grib(paths: Sequence[Path], req: FetchRequest) -> xr.Dataset:
    """Decode the downloaded GRIB2 files with ecCodes, cut out the area and build the
    normalised dataset (module docstring); every requested field, level and step must
    be there, else a :class:`MetFetchError` names what is missing."""
    ec = _require("eccodes", "decoding the downloaded GRIB")
    pl_fields, sfc_fields = _fields(req.source)
    by_key: dict[tuple[Any, ...], _Field] = {}
    for f in pl_fields:
        by_key[(*f.codes, f.level_type)] = f
    for f in sfc_fields:
        by_key[(*f.codes, f.level_type, f.height)] = f
    levels = list(req.levels)
    steps = list(req.steps)
    grid: _Grid | None = None
    arrays: dict[str, np.ndarray] = {}
    precip_steps = set(precipitation_steps(req))
    precip: dict[int, tuple[int, np.ndarray]] = {}
    seen: set[tuple[str, int, int]] = set()
    surface = SurfaceFields(req)  # solar radiation and land-sea mask
    names = {Path(p).name for p in paths}
    surface.mask_unoffered = req.source == "ecmwf" and LSM_FILE not in names
    surface.solar_unoffered = req.source == "ecmwf" and bool(surface.solar_steps) and SSRD_FILE not in names
    ref_expected = (int(req.date.strftime("%Y%m%d")), req.cycle * 100)
    for path in paths:
        for h in _messages(ec, path):
            codes = tuple(int(ec.codes_get(h, k, ktype=int)) for k in
                          ("discipline", "parameterCategory", "parameterNumber", "typeOfFirstFixedSurface"))
            precip_kind = _precipitation_kind(ec, h, req.source, codes)
            if precip_kind:
                ec.codes_set(h, "stepUnits", 1)
                end = int(ec.codes_get(h, "endStep", ktype=int))
                if end in precip_steps:
                    if grid is None:
                        grid = _grid_of(ec, h, req.area, path)
                    values = _subset_values(ec, h, grid)
                    if precip_kind == "accumulation_m":
                        values = values * 1000.0  # m of water -> kg m-2 (water 1000 kg m-3)
                    start = int(ec.codes_get(h, "startStep", ktype=int))
                    precip[end] = (start, values)
                continue
            kind = surface_kind(ec, h, req.source, codes)
            if kind:
                if surface.wanted(ec, h, kind):
                    if grid is None:
                        grid = _grid_of(ec, h, req.area, path)
                    elif _grid_key(ec, h) != grid.key:
                        raise MetFetchError(f"{path}: the {'solar radiation' if kind == 'solar' else 'land-sea mask'}"
                                            " is on another grid than the first message; expected one grid")
                    surface.add(ec, h, kind, path, _subset_values(ec, h, grid))
                continue
            if codes[3] == 100:
                found = by_key.get(codes)
                level = int(round(float(ec.codes_get(h, "level", ktype=float))))
                if found is None or level not in levels:
                    continue
                k_level = levels.index(level)
            else:
                height = 0 if codes[3] == 1 else int(ec.codes_get(h, "level", ktype=int))
                found = by_key.get((*codes, height))
                if found is None:
                    continue
                k_level = -1
                level = 0
            f = found
            ec.codes_set(h, "stepUnits", 1)
            step = int(ec.codes_get(h, "endStep", ktype=int))
            if step not in steps:
                continue
            ref = (int(ec.codes_get(h, "dataDate")), int(ec.codes_get(h, "dataTime")))
            if ref != ref_expected:
                raise MetFetchError(f"{path}: holds the run of {ref[0]} {ref[1]:04d} UTC; expected "
                                    f"{req.describe()}")
            if grid is None:
                grid = _grid_of(ec, h, req.area, path)
            if not arrays:
                ny, nx = grid.rows.size, grid.cols.size
                for g in pl_fields:
                    arrays[g.name] = np.full((len(steps), len(levels), ny, nx), np.nan, np.float32)
                for g in sfc_fields:
                    arrays[g.name] = np.full((len(steps), ny, nx), np.nan, np.float32)
            elif _grid_key(ec, h) != grid.key:
                raise MetFetchError(f"{path}: {f.name} at step {step} h is on another grid than the "
                                    "first message; expected one grid for all fields")
            field2d = _subset_values(ec, h, grid) * f.factor
            k_step = steps.index(step)
            if k_level >= 0:
                arrays[f.name][k_step, k_level] = field2d
            else:
                arrays[f.name][k_step] = field2d
            seen.add((f.name, level, step))
    if grid is None or not arrays:
        raise MetFetchError(f"the download of {req.describe()} holds none of the requested fields "
                            f"({', '.join(str(p) for p in paths)})")
    for f in pl_fields:
        for lev in levels:
            for step in steps:
                if (f.name, lev, step) not in seen:
                    raise MetFetchError(f"the download of {req.describe()} lacks {f.name} at {lev} hPa, "
                                        f"step {step} h; expected every field, level and step")
    for f in sfc_fields:
        for step in steps:
            if (f.name, 0, step) not in seen:
                raise MetFetchError(f"the download of {req.describe()} lacks {f.name}, step {step} h; "
                                    "expected every field and step")
    if precip_steps:
        missing = sorted(precip_steps - set(precip))
        if missing:
            raise MetFetchError(f"the download of {req.describe()} lacks the precipitation of step "
                                f"{missing[0]} h; expected it for every lead time after 0")
        arrays["prate"] = precipitation_rate(req, precip).astype(np.float32)
    arrays.update(surface.arrays())
    ds = _dataset(arrays, grid, req)
    # (the field the service lacked, what runs take instead)
    lacking = [pair for pair, flag in (
        (("land-sea mask (lsm)", "the shipped Natural Earth land for dry deposition"), surface.mask_unoffered),
        (("solar radiation (ssrd)", "the declared solar radiation for the stomata"), surface.solar_unoffered))
        if flag]
    if lacking:
        ds.attrs["comment"] = (f"{req.host} offered no {' and no '.join(w for w, _ in lacking)} for this run: the "
                               f"file has none, and plumecast runs take {' and '.join(t for _, t in lacking)}")
    return ds


def _subset_values(ec: Any, h: Any, grid: _Grid) -> np.ndarray:
    """The message's values inside the area, (lat ascending, lon ascending); missing
    points (bitmap) as NaN."""
    values = np.asarray(ec.codes_get_values(h), dtype=np.float64)
    if int(ec.codes_get(h, "bitmapPresent")):
        values[values == float(ec.codes_get(h, "missingValue"))] = np.nan
    return values.reshape(grid.lat.size, grid.lon.size)[np.ix_(grid.rows, grid.cols)]


def _precipitation_kind(ec: Any, h: Any, source: str, codes: tuple[int, ...]) -> str:
    """'accumulation_m' / 'accumulation_kg' (ECMWF total precipitation since the
    start, in m or kg m-2), 'rate' (GFS PRATE, a mean over a window) or ''."""
    if source == "ecmwf":
        if codes[0] != 0 or codes[1] != 1 or ec.codes_get(h, "shortName") != "tp":
            return ""
        return "accumulation_m" if ec.codes_get(h, "units") == "m" else "accumulation_kg"
    return "rate" if codes == (0, 1, 7, 1) else ""


def precipitation_rate(req: FetchRequest, precip: dict[int, tuple[int, np.ndarray]]) -> np.ndarray:
    """Precipitation rate [kg m-2 s-1] at each requested lead time: the mean over the
    interval that ends there.

    ECMWF sends total precipitation accumulated since the start of the run: the rate
    at lead time s_k is (tp(s_k) - tp(s_k-1)) / (s_k - s_k-1), with tp(0) = 0 and
    s_-1 the published step before the first requested one. GFS sends PRATE, a mean
    rate over an averaging window that ends at the lead time and restarts every 6 h
    (0-3, 0-6, 6-9, 6-12 h ...), as DSWRF: it is taken back to the interval between two
    lead times through the integrals over the windows
    (:func:`plumecast.met.fetch_surface.interval_means`; 3-6 h: (6 A(0-6) - 3 A(0-3)) /
    3). At lead time 0 no interval ends; the rate of the first interval is used. Small
    negative values left by GRIB packing are set to 0.
    """
    if req.source == "gfs":
        return interval_means(req, precip, "precipitation")
    steps = list(req.steps)
    out = []
    for k, s in enumerate(steps):
        if s == 0:
            s_next = steps[k + 1] if k + 1 < len(steps) else None
            if s_next is None:
                raise MetFetchError("precipitation needs a lead time after 0")
            out.append(_rate_at(req, precip, s_next, 0))
        else:
            prev = steps[k - 1] if k > 0 else max(
                p for p in _allowed_steps(req.source, req.cycle) if p < s)
            out.append(_rate_at(req, precip, s, prev))
    return np.maximum(np.stack(out), 0.0)


def _rate_at(req: FetchRequest, precip: dict[int, tuple[int, np.ndarray]], s: int, prev: int) -> np.ndarray:
    """ECMWF's mean rate over (prev, s] from the accumulations."""
    acc_prev = 0.0 if prev == 0 else precip[prev][1]
    return (precip[s][1] - acc_prev) / (3600.0 * (s - prev))


def surface_geopotential(z: np.ndarray, t: np.ndarray, sp: np.ndarray,
                         levels_hpa: Sequence[float]) -> np.ndarray:
    """Geopotential of the ground [m2 s-2] from the surface pressure and the
    geopotential on pressure levels, for sources that send no orography (ECMWF open
    data).

    Between two levels the geopotential is interpolated linearly in ln p, which is
    the hypsometric equation for a layer of uniform temperature; below the lowest
    level (surface pressure above it) and above the highest the hypsometric equation
    is applied with the temperature of that level:
    Φ_s = Φ_k + R_d T_k ln(p_k / p_s) (Wallace & Hobbs 2006, Atmospheric Science,
    2nd ed., eq. 3.24; virtual temperature taken as temperature).

    Parameters
    ----------
    z, t : ndarray (..., level, lat, lon)
        Geopotential [m2 s-2] and temperature [K] on ``levels_hpa``.
    sp : ndarray (..., lat, lon)
        Surface pressure. [Pa]
    levels_hpa : sequence of float
        The pressure levels, from the ground up (descending). [hPa]

    Returns
    -------
    ndarray (..., lat, lon)
        Surface geopotential. [m2 s-2]
    """
    p = np.asarray(levels_hpa, dtype=np.float64) * 100.0
    lnp = np.log(p)
    lnsp = np.log(sp.astype(np.float64))
    zz, tt = z.astype(np.float64), t.astype(np.float64)
    out = zz[..., 0, :, :] - R_DRY * tt[..., 0, :, :] * (lnsp - lnp[0])  # ground below the lowest level
    for k in range(p.size - 1):
        inside = (lnsp < lnp[k]) & (lnsp >= lnp[k + 1])
        frac = (lnp[k] - lnsp) / (lnp[k] - lnp[k + 1])
        out = np.where(inside, zz[..., k, :, :] + frac * (zz[..., k + 1, :, :] - zz[..., k, :, :]), out)
    above = lnsp < lnp[-1]
    return np.where(above, zz[..., -1, :, :] + R_DRY * tt[..., -1, :, :] * (lnp[-1] - lnsp), out)


def _dataset(arrays: dict[str, np.ndarray], grid: _Grid, req: FetchRequest) -> xr.Dataset:
    pl_fields, sfc_fields = _fields(req.source)
    ref = np.datetime64(req.reference_time, "ns")
    steps_h = np.asarray(req.steps, dtype=np.int64)
    valid = ref + steps_h.astype("timedelta64[h]").astype("timedelta64[ns]")
    data_vars: dict[str, Any] = {}
    for f in pl_fields:
        data_vars[f.name] = (("time", "level", "latitude", "longitude"), arrays[f.name],
                             {"units": f.units, "standard_name": f.standard_name, "long_name": f.long_name})
    for f in sfc_fields:
        data_vars[f.name] = (("time", "latitude", "longitude"), arrays[f.name],
                             {"units": f.units, "standard_name": f.standard_name, "long_name": f.long_name})
    if "prate" in arrays:
        how = ("mean over the interval from the previous lead time (the published step before the first "
               "one) to this one, from the accumulated total precipitation tp (1 m = 1000 kg m-2)"
               if req.source == "ecmwf" else
               "mean over the interval from the previous lead time (the published step before the first one) "
               "to this one, from GFS PRATE, averaged over windows restarting every 6 h, taken back to the "
               "interval through the integral over each window (e.g. 3-6 h: (6 A(0-6) - 3 A(0-3)) / 3)")
        data_vars["prate"] = (("time", "latitude", "longitude"), arrays["prate"],
                              {"units": "kg m-2 s-1", "standard_name": "precipitation_flux",
                               "long_name": "Precipitation rate",
                               "comment": how + "; at lead time 0, the rate of the first interval"})
    data_vars.update(_surface_vars(arrays, req))
    diagnosed = ""
    if "orog" not in arrays and 1000 in req.levels:
        zs = surface_geopotential(arrays["z"], arrays["t"], arrays["sp"], req.levels).astype(np.float32)
        data_vars["zs"] = (("time", "latitude", "longitude"), zs,
                           {"units": "m2 s-2", "standard_name": "surface_geopotential",
                            "long_name": "Surface geopotential (diagnosed)",
                            "comment": "not sent by the service: diagnosed from sp and the geopotential "
                                       "on the pressure levels (linear in ln p between levels, hypsometric "
                                       "equation below the lowest; Wallace & Hobbs 2006, eq. 3.24)"})
        diagnosed = "; surface geopotential zs diagnosed from sp and z on the levels"
    if req.source == "ecmwf":
        source = f"ECMWF IFS high-resolution forecast, 0.25 degree open data, from {req.host} via ecmwf-opendata"
        licence = "CC BY 4.0; Copyright ECMWF (attribute ECMWF when using these data)"
        institution = "European Centre for Medium-Range Weather Forecasts"
    else:
        source = f"NOAA NCEP GFS, 0.25 degree pgrb2 files, from {req.host} (byte ranges from the .idx inventories)"
        licence = "public domain (NOAA)"
        institution = "NOAA National Centers for Environmental Prediction"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    levels = ",".join(map(str, req.levels))
    ds = xr.Dataset(
        data_vars,
        coords={
            "time": ("time", valid, {"standard_name": "time", "long_name": "valid time"}),
            "level": ("level", np.asarray(req.levels, dtype=np.float64),
                      {"units": "hPa", "standard_name": "air_pressure", "long_name": "pressure level",
                       "positive": "down", "axis": "Z"}),
            "latitude": ("latitude", grid.lat[grid.rows].astype(np.float64),
                         {"units": "degrees_north", "standard_name": "latitude", "axis": "Y"}),
            "longitude": ("longitude", grid.lon[grid.cols].astype(np.float64),
                          {"units": "degrees_east", "standard_name": "longitude", "axis": "X"}),
            "forecast_period": ("time", steps_h.astype(np.float64),
                                {"units": "hours", "standard_name": "forecast_period",
                                 "long_name": "lead time"}),
            "forecast_reference_time": ((), ref, {"standard_name": "forecast_reference_time"}),
        },
        attrs={
            "Conventions": "CF-1.8",
            "title": f"{req.describe()}, steps {_steps_text(req.steps)}, area {req.area} (N,W,S,E)",
            "source": source,
            "institution": institution,
            "licence": licence,
            "history": (f"{now} plumecast met fetch --source {req.source} --date {req.date:%Y-%m-%d} "
                        f"--cycle {req.cycle} --steps {','.join(map(str, req.steps))} --area {req.area} "
                        f"--levels {levels}{' --mirror ' + req.mirror if req.mirror else ''}; "
                        "area cut from the global fields, latitudes made ascending, longitudes put in "
                        "[-180, 180), geopotential height x 9.80665 = geopotential z" + diagnosed),
        },
    )
    return ds


# --------------------------------------------------------------------------- the command

def _encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    enc: dict[str, dict[str, Any]] = {}
    for name in ds.data_vars:
        shape = ds[name].shape
        chunks = tuple(1 if i < len(shape) - 2 else n for i, n in enumerate(shape))
        enc[str(name)] = {"dtype": "float32", "zlib": True, "complevel": 4, "_FillValue": np.float32(np.nan),
                          "chunksizes": chunks}
    for name in ds.coords:  # CF 2.5.1: no _FillValue on coordinates
        enc[str(name)] = {"_FillValue": None}
    for name in ("time", "forecast_reference_time"):
        enc[name].update(units="hours since 1970-01-01 00:00:00", calendar="proleptic_gregorian", dtype="float64")
    return enc


def _new_folders(folder: Path) -> list[Path]:
    """The folders of ``folder``'s path that do not exist yet, deepest first (those a
    check of the output would create)."""
    out = []
    p = folder
    while str(p) not in ("", ".") and not p.exists() and p != p.parent:
        out.append(p)
        p = p.parent
    return out


def check_output_file(output: str | Path, force: bool) -> Path:
    """Refuse, before any download, an output that exists (without ``force``), is a
    folder, or lies where no file can be written."""
    out = Path(output)
    if out.is_dir():
        raise OutputPathError(f"{out}: is a folder; expected a netCDF file name such as forecast.nc")
    if out.exists() and not force:
        raise OutputPathError(f"{out}: exists; pass --force to replace it")
    from plumecast.fileio import check_output_dir

    check_output_dir(out.parent if str(out.parent) else Path("."), "folder of the output file")
    return out


Say = Callable[[str], None]


def fetch(req: FetchRequest, output: str | Path, *, force: bool = False, say: Say | None = None,
          workdir: str | Path | None = None) -> Path:
    """Download ``req`` and write the normalised netCDF file ``output`` atomically.

    Parameters
    ----------
    req : FetchRequest
        Source, run, lead times [h], levels [hPa], area and mirror; checked first.
    output : str or Path
        netCDF file to write; an existing one is replaced only with ``force``.
    say : callable, optional
        Receives one line per stage (what is downloaded from where, what was written).
    workdir : path, optional
        Folder for the GRIB downloads (default: a temporary folder, removed after).

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    MetFetchError
        Bad request, network failure (one line naming the host), data not on the
        server, missing optional package.
    OutputPathError
        ``output`` exists (without ``force``) or cannot be written.
    """
    from plumecast.fileio import atomic_path

    req.check()
    # the optional packages first: a missing one is said before anything is announced or made
    if req.source == "ecmwf":
        _require("ecmwf.opendata", "--source ecmwf (ECMWF open data)")
    else:
        _require("requests", "--source gfs (GFS download)")
    _require("eccodes", "decoding the downloaded GRIB")
    created = _new_folders(Path(output).parent)
    out = check_output_file(output, force)
    say = say or (lambda _line: None)
    say(f"downloading {req.describe()}: steps {_steps_text(req.steps)}, {len(req.levels)} pressure levels, "
        f"area {req.area} (N,W,S,E), from {req.host}")
    try:
        with tempfile.TemporaryDirectory(prefix="plumecast-fetch-", dir=workdir) as tmp:
            folder = Path(tmp)
            if req.source == "ecmwf":
                paths = download_ecmwf(req, folder)
            else:
                paths = download_gfs(req, folder)
            size = sum(p.stat().st_size for p in paths)
            say(f"downloaded {size / 1e6:.1f} MB of GRIB2; cutting out the area")
            ds = normalise_grib(paths, req)
    except BaseException:
        for made in created:  # a failed download leaves no empty folders behind
            with contextlib.suppress(OSError):
                made.rmdir()
        raise
    with atomic_path(out) as part:
        ds.to_netcdf(part, engine="netcdf4", format="NETCDF4", encoding=_encoding(ds))
    say(f"written: {out} ({ds.sizes['time']} times, {ds.sizes['level']} levels, "
        f"{ds.sizes['latitude']} x {ds.sizes['longitude']} points; {', '.join(map(str, ds.data_vars))})")
    return out
