"""What ``plumecast met fetch`` downloads, and what the two services share.

The request (:class:`Area`, :class:`FetchRequest` and its checks), the fields each
service sends (:func:`_fields`), the errors (:class:`MetFetchError`, one line per
network failure naming the host), the optional packages and the precipitation
lead times. The service-specific downloads are in :mod:`plumecast.met.fetch_ecmwf`
and :mod:`plumecast.met.fetch_gfs`; decoding, writing and the command are in
:mod:`plumecast.met.fetch`, from which the public names are importable too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import socket
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from plumecast.errors import PlumecastError

#: Standard gravity [m s-2] (CGPM 1901; WMO): geopotential = g0 x geopotential height.
G0 = 9.80665

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

#: the grid spacing of both services' files (GFS pgrb2.0p25, ECMWF open data 0p25) [degrees]
SOURCE_GRID_DEG = 0.25


@dataclass(frozen=True)
class Area:
    """A latitude-longitude box, given as MARS does: north, west, south, east [degrees]."""

    north: float
    west: float
    south: float
    east: float

    def __str__(self) -> str:
        return f"{self.north:g},{self.west:g},{self.south:g},{self.east:g}"


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
        if len(set(self.levels)) < 2:  # a run reads one level at every height then (met audit, session 30)
            raise MetFetchError(f"--levels {','.join(map(str, self.levels))}: one pressure level; expected at least "
                                "two (a run interpolates the winds between the levels; with one it would read that "
                                "level's wind at every height)")
        # both services' grids are 0.25 degree, nodes at multiples of it: refused before any download (the
        # check of the GRIB grid had come after "downloaded 0.2 MB"; met audit, session 30)
        rows = math.floor(self.area.north / SOURCE_GRID_DEG + 1e-9) - math.ceil(self.area.south / SOURCE_GRID_DEG - 1e-9) + 1
        # the longitudes of the nodes inside, told apart as the decoder does (180 is -180)
        first = math.ceil(self.area.west / SOURCE_GRID_DEG - 1e-9)
        nodes = np.arange(first, math.floor(self.area.east / SOURCE_GRID_DEG + 1e-9) + 1) * SOURCE_GRID_DEG
        lon = np.round((nodes + 180.0) % 360.0 - 180.0, 6)
        cols = int(np.unique(lon[(lon >= self.area.west - 1e-6) & (lon <= self.area.east + 1e-6)]).size)
        if rows < 2 or cols < 2:
            raise MetFetchError(f"--area {self.area}: holds {max(rows, 0)} x {max(cols, 0)} points of the "
                                f"{SOURCE_GRID_DEG:g} degree grid of {self.describe()}; expected at least 2 x 2 (a "
                                "larger area)")


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


def _steps_text(steps: Sequence[int]) -> str:
    if len(steps) > 2:
        d = np.diff(steps)
        if np.all(d == d[0]):
            return f"{steps[0]}-{steps[-1]} h by {d[0]} h"
    return ",".join(map(str, steps)) + " h"


def precipitation_steps(req: FetchRequest) -> tuple[int, ...]:
    """Lead times [h] whose precipitation message is downloaded: every requested one
    after 0 and, for ECMWF (accumulated since the start), the published step before
    the first requested one (the start of its interval); for GFS (PRATE, averaged over
    windows that restart every 6 h, as DSWRF) those of
    :func:`plumecast.met.fetch_surface.solar_steps`. None when only lead time 0 is
    asked for (then no precipitation is written)."""
    if req.source == "gfs":
        from plumecast.met.fetch_surface import solar_steps  # it imports this module

        return solar_steps(req)
    need = {s for s in req.steps if s > 0}
    if not need:
        return ()
    if req.source == "ecmwf" and req.steps[0] > 0:
        prev = max(s for s in _allowed_steps(req.source, req.cycle) if s < req.steps[0])
        if prev > 0:
            need.add(prev)
    return tuple(sorted(need))
