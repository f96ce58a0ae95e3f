"""NOAA GFS for ``plumecast met fetch --source gfs``: the 0.25 degree ``pgrb2``
files (public domain) from the NOAA Open Data Dissemination bucket on AWS, NOMADS
or Google Cloud; only the messages needed are downloaded, by HTTP range requests
located with each file's wgrib2 ``.idx`` inventory (see :mod:`plumecast.met.fetch`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plumecast.met.fetch_common import (
    GFS_MIRRORS,
    FetchRequest,
    MetFetchError,
    _fields,
    _network_errors,
    _require,
    precipitation_steps,
)
from plumecast.met.fetch_surface import GFS_MASK, GFS_SOLAR, solar_steps


def _http_session() -> Any:
    """The HTTP session GFS downloads go through (tests replace this function)."""
    requests = _require("requests", "--source gfs (GFS download)")
    session = requests.Session()
    session.headers["User-Agent"] = "plumecast-met-fetch"
    return session


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
    requests located with the file's ``.idx`` inventory, into ``folder``: the
    fields, PRATE, DSWRF (also from the files of the steps that the 6-hourly
    averaging windows need, :func:`plumecast.met.fetch_surface.solar_steps`) and,
    from the first lead time's file, LAND."""
    # looked up there at call time: the tests replace them in plumecast.met.fetch
    from plumecast.met.fetch import _http_session, _reachable

    pl_fields, sfc_fields = _fields("gfs")
    wanted = {(f.gfs[0], f.gfs[1].format(level=lev)) for f in pl_fields if f.gfs for lev in req.levels}
    wanted |= {f.gfs for f in sfc_fields if f.gfs}
    _reachable(req.host)
    solar = set(solar_steps(req))
    out = []
    with _network_errors(req, "GFS file"):
        session = _http_session()
        for step in sorted(set(req.steps) | solar):
            url = gfs_url(req, step)
            r = session.get(url + ".idx", timeout=(10, 60))
            r.raise_for_status()
            want = set(wanted) if step in req.steps else set()
            if step in precipitation_steps(req):
                want.add(("PRATE", "surface"))
            if step in solar:  # may be a step not requested: an average window's end
                want.add(GFS_SOLAR)
            if step == req.steps[0]:  # time-invariant: once
                want.add(GFS_MASK)
            ranges = _idx_ranges(r.text, want, url, req)
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
