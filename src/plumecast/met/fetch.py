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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import re
import socket
import tempfile
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import xarray as xr

from plumecast.errors import OutputPathError, PlumecastError

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
    "surface_geopotential",
]

log = logging.getLogger(__name__)

#: Standard gravity [m s-2] (CGPM 1901; WMO): geopotential = g0 x geopotential height.
G0 = 9.80665
#: Gas constant of dry air [J kg-1 K-1] (WMO; Wallace & Hobbs 2006, Atmospheric Science, 2nd ed.).
R_DRY = 287.05

SOURCES = ("ecmwf", "gfs")

#: ecmwf-opendata source names and the host each one downloads from.
ECMWF_MIRRORS = {
    "ecmwf": "data.ecmwf.int",
    "aws": "ecmwf-forecasts.s3.eu-central-1.amazonaws.com",
    "azure": "ai4edataeuwest.blob.core.windows.net",
    "google": "storage.googleapis.com",
}

#: Base addresses of the GFS archive (folders gfs.YYYYMMDD/HH/atmos/ below them).
GFS_MIRRORS = {
    "aws": "https://noaa-gfs-bdp-pds.s3.amazonaws.com",
    "nomads": "https://nomads.ncep.noaa.gov/pub/data/nccf/com/gfs/prod",
    "google": "https://storage.googleapis.com/global-forecast-system",
}

#: Pressure levels of the ECMWF open data [hPa].
ECMWF_LEVELS = (1000, 925, 850, 700, 600, 500, 400, 300, 250, 200, 150, 100, 50)
#: Pressure levels of the GFS 0.25 degree pgrb2 files at or above 1 hPa [hPa].
GFS_LEVELS = (1000, 975, 950, 925, 900, 850, 800, 750, 700, 650, 600, 550, 500, 450, 400, 350,
              300, 250, 200, 150, 100, 70, 50, 40, 30, 20, 15, 10, 7, 5, 3, 2, 1)
#: Levels fetched when none are given: the troposphere, where releases travel [hPa].
DEFAULT_LEVELS = (1000, 925, 850, 700, 600, 500, 400, 300, 250, 200)

_HELP_INSTALL = 'pip install "plumecast[fetch]"'


class MetFetchError(PlumecastError):
    """A forecast download cannot be made: bad request, no network, data not on the
    server, or a missing optional package."""


# --------------------------------------------------------------------------- fields

@dataclass(frozen=True)
class _Field:
    """One output variable and the GRIB2 message it comes from."""

    name: str  # output name (ERA5)
    codes: tuple[int, int, int]  # GRIB2 discipline, parameterCategory, parameterNumber
    level_type: int  # GRIB2 code table 4.5: 100 isobaric, 103 height above ground, 1 surface
    height: int | None  # level value of a single-level field (m above ground), None for isobaric
    ecmwf: str | None  # ecmwf-opendata param name (None: not in the ECMWF open data)
    gfs: tuple[str, str] | None  # (variable, level text) in the GFS .idx inventory
    units: str
    standard_name: str
    long_name: str
    factor: float = 1.0  # output = GRIB value x factor


_PL_FIELDS = (
    _Field("u", (0, 2, 2), 100, None, "u", ("UGRD", "{level} mb"), "m s-1", "eastward_wind",
           "U component of wind"),
    _Field("v", (0, 2, 3), 100, None, "v", ("VGRD", "{level} mb"), "m s-1", "northward_wind",
           "V component of wind"),
    _Field("w", (0, 2, 8), 100, None, "w", ("VVEL", "{level} mb"), "Pa s-1",
           "lagrangian_tendency_of_air_pressure", "Vertical velocity (omega)"),
    _Field("z", (0, 3, 5), 100, None, "gh", ("HGT", "{level} mb"), "m2 s-2", "geopotential",
           "Geopotential", G0),
    _Field("t", (0, 0, 0), 100, None, "t", ("TMP", "{level} mb"), "K", "air_temperature",
           "Temperature"),
)
_SFC_FIELDS = (
    _Field("u10", (0, 2, 2), 103, 10, "10u", ("UGRD", "10 m above ground"), "m s-1", "eastward_wind",
           "10 metre U wind component"),
    _Field("v10", (0, 2, 3), 103, 10, "10v", ("VGRD", "10 m above ground"), "m s-1", "northward_wind",
           "10 metre V wind component"),
    _Field("t2m", (0, 0, 0), 103, 2, "2t", ("TMP", "2 m above ground"), "K", "air_temperature",
           "2 metre temperature"),
    _Field("sp", (0, 3, 0), 1, 0, "sp", ("PRES", "surface"), "Pa", "surface_air_pressure",
           "Surface pressure"),
    _Field("blh", (0, 3, 196), 1, 0, None, ("HPBL", "surface"), "m", "atmosphere_boundary_layer_thickness",
           "Boundary layer height"),
    _Field("orog", (0, 3, 5), 1, 0, None, ("HGT", "surface"), "m", "surface_altitude",
           "Surface altitude (orography)"),
)


def _fields(source: str) -> tuple[tuple[_Field, ...], tuple[_Field, ...]]:
    """The (pressure-level, single-level) fields a source provides."""
    key = "ecmwf" if source == "ecmwf" else "gfs"
    return (tuple(f for f in _PL_FIELDS if getattr(f, key) is not None),
            tuple(f for f in _SFC_FIELDS if getattr(f, key) is not None))


# --------------------------------------------------------------------------- request

@dataclass(frozen=True)
class Area:
    """A latitude-longitude box, given as MARS does: north, west, south, east [degrees]."""

    north: float
    west: float
    south: float
    east: float

    def __str__(self) -> str:
        return f"{self.north:g},{self.west:g},{self.south:g},{self.east:g}"


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


@dataclass(frozen=True)
class FetchRequest:
    """What to download: a source, a forecast run (date and cycle), lead times,
    pressure levels, an area and where from."""

    source: str
    date: dt.date
    cycle: int
    steps: tuple[int, ...]
    area: Area
    levels: tuple[int, ...] = DEFAULT_LEVELS
    mirror: str | None = None

    @property
    def reference_time(self) -> dt.datetime:
        return dt.datetime(self.date.year, self.date.month, self.date.day, self.cycle)

    @property
    def host(self) -> str:
        if self.source == "ecmwf":
            return ECMWF_MIRRORS[self.mirror or "ecmwf"]
        return GFS_MIRRORS[self.mirror or "aws"].split("/")[2]

    def describe(self) -> str:
        name = "ECMWF IFS open data" if self.source == "ecmwf" else "NOAA GFS"
        return f"{name} {self.date:%Y-%m-%d} {self.cycle:02d} UTC"

    def check(self, now: dt.datetime | None = None) -> None:
        """Refuse what the source cannot have: an unknown source or mirror, a cycle
        other than 0/6/12/18, lead times or levels the source does not produce, a run
        in the future."""
        if self.source not in SOURCES:
            raise MetFetchError(f"--source {self.source!r}: expected one of {', '.join(SOURCES)}")
        mirrors = ECMWF_MIRRORS if self.source == "ecmwf" else GFS_MIRRORS
        if self.mirror is not None and self.mirror not in mirrors:
            raise MetFetchError(f"--mirror {self.mirror!r}: expected one of {', '.join(mirrors)} "
                                f"for --source {self.source}")
        if self.cycle not in (0, 6, 12, 18):
            raise MetFetchError(f"--cycle {self.cycle}: expected 0, 6, 12 or 18 (UTC)")
        now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if self.reference_time > now:
            raise MetFetchError(f"--date {self.date:%Y-%m-%d} --cycle {self.cycle}: that run starts in the "
                                f"future (now {now:%Y-%m-%d %H} UTC); expected a run that has started")
        if not self.steps:
            raise MetFetchError("--steps: expected at least one lead time")
        allowed = _allowed_steps(self.source, self.cycle)
        bad = [s for s in self.steps if s not in allowed]
        if bad:
            raise MetFetchError(f"--steps: {', '.join(map(str, bad[:5]))} h not produced by "
                                f"{self.describe()}; expected {_describe_steps(self.source, self.cycle)}")
        levels = ECMWF_LEVELS if self.source == "ecmwf" else GFS_LEVELS
        bad = [lev for lev in self.levels if lev not in levels]
        if bad or not self.levels:
            raise MetFetchError(f"--levels: {', '.join(map(str, bad)) or 'none'} hPa not in the "
                                f"{self.source.upper()} files; expected some of {', '.join(map(str, levels))}")


def _allowed_steps(source: str, cycle: int) -> set[int]:
    """Lead times [h] the service publishes (ECMWF open-data documentation;
    NCEP GFS product inventory)."""
    if source == "ecmwf":
        if cycle in (6, 18):
            return set(range(0, 91, 3))
        return set(range(0, 145, 3)) | set(range(150, 361, 6))
    return set(range(0, 121)) | set(range(123, 385, 3))


def _describe_steps(source: str, cycle: int) -> str:
    if source == "ecmwf":
        return "0-90 h by 3 h for the 06 and 18 UTC runs" if cycle in (6, 18) else \
            "0-144 h by 3 h, then to 360 h by 6 h"
    return "0-120 h by 1 h, then to 384 h by 3 h"


# --------------------------------------------------------------------------- optional packages

def _require(module: str, what: str) -> ModuleType:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MetFetchError(f"{what} needs the Python package {module.split('.')[0]!r}, "
                            f"which is not installed: {_HELP_INSTALL}") from None


def _ecmwf_client_class() -> Any:
    mod = _require("ecmwf.opendata", "--source ecmwf (ECMWF open data)")
    return mod.Client


def _http_session() -> Any:
    """The HTTP session GFS downloads go through (tests replace this function)."""
    requests = _require("requests", "--source gfs (GFS download)")
    session = requests.Session()
    session.headers["User-Agent"] = "plumecast-met-fetch"
    return session


# --------------------------------------------------------------------------- network errors

def _reachable(host: str) -> None:
    """Fail at once, in one line, when the host's name cannot be resolved (no
    network); skipped when a proxy is configured (the proxy resolves names)."""
    if urllib.request.getproxies():
        return
    try:
        socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise MetFetchError(f"cannot reach {host}: name not resolved ({exc.strerror or exc}) "
                            "(no network?)") from None


def _one_line(text: object, limit: int = 200) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _connection_reason(exc: BaseException) -> str:
    text = str(exc)
    for pattern, reason in ((r"NameResolution|Name or service not known|getaddrinfo", "name not resolved"),
                            (r"Connection refused", "connection refused"),
                            (r"timed out|Timeout", "timed out"),
                            (r"Network is unreachable", "network is unreachable"),
                            (r"SSL|certificate", "TLS/SSL failed")):
        if re.search(pattern, text):
            return reason
    return _one_line(text, 120)


@contextlib.contextmanager
def _network_errors(req: FetchRequest, what: str) -> Iterator[None]:
    """Turn the exceptions of requests / ecmwf-opendata / multiurl into one line."""
    try:
        yield
    except MetFetchError:
        raise
    except Exception as exc:
        requests = _optional("requests")
        host = req.host
        if requests is not None and isinstance(exc, requests.HTTPError) and exc.response is not None:
            code = exc.response.status_code
            url = getattr(exc.response, "url", "") or ""
            if code == 404:
                hint = ""
                if req.source == "ecmwf" and (req.mirror or "ecmwf") == "ecmwf":
                    hint = " (data.ecmwf.int keeps about four days; older runs: --mirror aws)"
                elif req.source == "gfs" and req.mirror == "nomads":
                    hint = " (NOMADS keeps about ten days; older runs: --mirror aws, from 2021)"
                raise MetFetchError(f"{host} has no {what} of {req.describe()} (HTTP 404 for {url}){hint}") from None
            raise MetFetchError(f"{host} refused the download of {req.describe()}: HTTP {code} "
                                f"{_one_line(exc.response.reason or '', 60)} for {url}") from None
        if (requests is not None and isinstance(exc, requests.ConnectionError | requests.Timeout)) \
                or isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
            raise MetFetchError(f"cannot reach {host}: {_connection_reason(exc)} (no network?)") from None
        if requests is not None and isinstance(exc, requests.RequestException):
            raise MetFetchError(f"download from {host} failed: {_one_line(exc, 160)}") from None
        if isinstance(exc, OSError):  # the temporary folder: disk full, no permission
            raise MetFetchError(f"cannot store the download of {req.describe()} in "
                                f"{exc.filename or 'the temporary folder'}: {exc.strerror or exc}") from None
        if isinstance(exc, ValueError) and "index entries" in str(exc):
            raise MetFetchError(f"{host} lists no {what} for {req.describe()} "
                                f"(steps {_steps_text(req.steps)}, levels {','.join(map(str, req.levels))})") from None
        raise


def _optional(name: str) -> ModuleType | None:
    try:
        import importlib

        return importlib.import_module(name)
    except ImportError:
        return None


@contextlib.contextmanager
def _quiet_library() -> Iterator[None]:
    """Keep ecmwf-opendata and multiurl from printing (attribution line, retry
    warnings, progress bars): plumecast says what happens in its own words."""
    names = ("ecmwf.opendata", "ecmwf", "multiurl", "urllib3")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for n, lev in levels.items():
            logging.getLogger(n).setLevel(lev)


def _steps_text(steps: Sequence[int]) -> str:
    if len(steps) > 2:
        d = np.diff(steps)
        if np.all(d == d[0]):
            return f"{steps[0]}-{steps[-1]} h by {d[0]} h"
    return ",".join(map(str, steps)) + " h"


# --------------------------------------------------------------------------- downloads

def download_ecmwf(req: FetchRequest, folder: Path) -> list[Path]:
    """Download the request's fields from ECMWF open data with ``ecmwf-opendata``
    into GRIB2 files in ``folder`` (requests for the pressure levels, the surface
    fields and the accumulated precipitation)."""
    client_class = _ecmwf_client_class()
    pl_fields, sfc_fields = _fields("ecmwf")
    _reachable(req.host)
    common: dict[str, Any] = dict(date=int(req.date.strftime("%Y%m%d")), time=req.cycle,
                                  step=list(req.steps), type="fc", stream="oper")
    out = []
    with _network_errors(req, "forecast"), _quiet_library():
        client = client_class(source=req.mirror or "ecmwf", maximum_retries=3, retry_after=2)
        target = folder / "ecmwf-pl.grib2"
        client.retrieve(**common, levtype="pl", levelist=list(req.levels),
                        param=[f.ecmwf for f in pl_fields], target=str(target))
        out.append(target)
        target = folder / "ecmwf-sfc.grib2"
        client.retrieve(**common, levtype="sfc", param=[f.ecmwf for f in sfc_fields], target=str(target))
        out.append(target)
        tp_steps = precipitation_steps(req)
        if tp_steps:
            target = folder / "ecmwf-tp.grib2"
            client.retrieve(**dict(common, step=list(tp_steps)), levtype="sfc", param=["tp"], target=str(target))
            out.append(target)
    return out


def precipitation_steps(req: FetchRequest) -> tuple[int, ...]:
    """Lead times [h] whose precipitation message is downloaded: every requested one
    after 0 and, for ECMWF (accumulated since the start), the published step before
    the first requested one (the start of its interval). None when only lead time 0
    is asked for (then no precipitation is written)."""
    need = {s for s in req.steps if s > 0}
    if not need:
        return ()
    if req.source == "ecmwf" and req.steps[0] > 0:
        prev = max(s for s in _allowed_steps(req.source, req.cycle) if s < req.steps[0])
        if prev > 0:
            need.add(prev)
    return tuple(sorted(need))


def gfs_url(req: FetchRequest, step: int) -> str:
    """Address of the GFS 0.25 degree pgrb2 file of one lead time."""
    base = GFS_MIRRORS[req.mirror or "aws"]
    ymd, hh = f"{req.date:%Y%m%d}", f"{req.cycle:02d}"
    return f"{base}/gfs.{ymd}/{hh}/atmos/gfs.t{hh}z.pgrb2.0p25.f{step:03d}"


def _idx_ranges(idx_text: str, wanted: set[tuple[str, str]], url: str,
                req: FetchRequest) -> list[tuple[int, int | None]]:
    """Byte ranges [start, end] (end None: to the end of the file) of the wanted
    (variable, level) messages in a wgrib2 inventory, adjacent ones merged."""
    rows = []
    for line in idx_text.splitlines():
        parts = line.split(":")
        if len(parts) < 6 or not parts[1].isdigit():
            continue
        rows.append((int(parts[1]), parts[2], parts[3], parts[4]))
    if not rows:
        raise MetFetchError(f"{url}.idx: not a wgrib2 inventory (no lines 'n:offset:d=...:VAR:level:...')")
    expected = f"d={req.date:%Y%m%d}{req.cycle:02d}"
    if rows[0][1] != expected:
        raise MetFetchError(f"{url}.idx: holds the run {rows[0][1][2:]}; expected {expected[2:]}")
    found: set[tuple[str, str]] = set()
    ranges: list[tuple[int, int | None]] = []
    for i, (start, _d, var, level) in enumerate(rows):
        if (var, level) in wanted and (var, level) not in found:
            found.add((var, level))
            end = rows[i + 1][0] - 1 if i + 1 < len(rows) else None
            if ranges and ranges[-1][1] is not None and ranges[-1][1] + 1 == start:
                ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((start, end))
    missing = sorted(wanted - found)
    if missing:
        names = ", ".join(f"{v} at {lev}" for v, lev in missing[:4])
        raise MetFetchError(f"{url}.idx: lists no {names}{' ...' if len(missing) > 4 else ''}; "
                            "expected every requested field in the GFS file")
    return ranges


def download_gfs(req: FetchRequest, folder: Path) -> list[Path]:
    """Download the request's messages of each lead time's GFS file by HTTP range
    requests located with the file's ``.idx`` inventory, into ``folder``."""
    pl_fields, sfc_fields = _fields("gfs")
    wanted = {(f.gfs[0], f.gfs[1].format(level=lev)) for f in pl_fields if f.gfs for lev in req.levels}
    wanted |= {f.gfs for f in sfc_fields if f.gfs}
    _reachable(req.host)
    out = []
    with _network_errors(req, "GFS file"):
        session = _http_session()
        for step in req.steps:
            url = gfs_url(req, step)
            r = session.get(url + ".idx", timeout=(10, 60))
            r.raise_for_status()
            precip = {("PRATE", "surface")} if step in precipitation_steps(req) else set()
            ranges = _idx_ranges(r.text, wanted | precip, url, req)
            target = folder / f"gfs.f{step:03d}.grib2"
            with open(target, "wb") as fh:
                for start, end in ranges:
                    span = f"bytes={start}-{'' if end is None else end}"
                    r = session.get(url, headers={"Range": span}, timeout=(10, 300))
                    r.raise_for_status()
                    data = r.content
                    if r.status_code == 200:  # the server ignored the range: cut it here
                        data = data[start: None if end is None else end + 1]
                    fh.write(data)
            out.append(target)
    return out


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
            else:
                key = (int(ec.codes_get(h, "Ni")), int(ec.codes_get(h, "Nj")),
                       float(ec.codes_get(h, "latitudeOfFirstGridPointInDegrees")),
                       float(ec.codes_get(h, "longitudeOfFirstGridPointInDegrees")),
                       float(ec.codes_get(h, "iDirectionIncrementInDegrees")),
                       float(ec.codes_get(h, "jDirectionIncrementInDegrees")),
                       int(ec.codes_get(h, "jScansPositively")), int(ec.codes_get(h, "iScansNegatively")))
                if key != grid.key:
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
    return _dataset(arrays, grid, req)


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
    s_-1 the published step before the first requested one. GFS sends PRATE, already
    a mean rate over the model's averaging window that ends at the lead time (1 to
    6 h; the windows restart every 6 h): it is taken as it is. At lead time 0 no
    interval ends; the rate of the first interval is used. Small negative values
    left by GRIB packing are set to 0.
    """
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
    if req.source == "ecmwf":
        acc_prev = 0.0 if prev == 0 else precip[prev][1]
        return (precip[s][1] - acc_prev) / (3600.0 * (s - prev))
    return precip[s][1]


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
               "GFS PRATE: mean over the model's averaging window ending at this time (1 to 6 h, "
               "restarting every 6 h)")
        data_vars["prate"] = (("time", "latitude", "longitude"), arrays["prate"],
                              {"units": "kg m-2 s-1", "standard_name": "precipitation_flux",
                               "long_name": "Precipitation rate",
                               "comment": how + "; at lead time 0, the rate of the first interval"})
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
    out = check_output_file(output, force)
    say = say or (lambda _line: None)
    say(f"downloading {req.describe()}: steps {_steps_text(req.steps)}, {len(req.levels)} pressure levels, "
        f"area {req.area} (N,W,S,E), from {req.host}")
    with tempfile.TemporaryDirectory(prefix="plumecast-fetch-", dir=workdir) as tmp:
        folder = Path(tmp)
        if req.source == "ecmwf":
            paths = download_ecmwf(req, folder)
        else:
            paths = download_gfs(req, folder)
        size = sum(p.stat().st_size for p in paths)
        say(f"downloaded {size / 1e6:.1f} MB of GRIB2; cutting out the area")
        ds = normalise_grib(paths, req)
    with atomic_path(out) as part:
        ds.to_netcdf(part, engine="netcdf4", format="NETCDF4", encoding=_encoding(ds))
    say(f"written: {out} ({ds.sizes['time']} times, {ds.sizes['level']} levels, "
        f"{ds.sizes['latitude']} x {ds.sizes['longitude']} points; {', '.join(map(str, ds.data_vars))})")
    return out
