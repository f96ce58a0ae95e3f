"""What of a GRIB file the readers take, and what they say they left out.

A whole GFS ``pgrb2`` file (as ``wget .../gfs.t00z.pgrb2.0p25.f003`` gives it, or the
AWS/Google copies) holds the winds on many GRIB level types besides the pressure
levels: ``heightAboveGround`` 10 to 100 m, ``heightAboveSea`` (1829, 2743 m ...),
``sigma`` 0.995, ``tropopause``, ``maxWind``, ``potentialVorticity`` ... (NCEP GFS
product inventory, https://www.nco.ncep.noaa.gov/pmb/products/gfs/). cfgrib gives each
level type as hypercubes of their own (ecCodes ``typeOfLevel``), and the same ``u`` on
several of them cannot be read as one set of levels. :func:`select_level_types` keeps,
where a file has winds on ``isobaricInhPa``, those pressure levels (with GFS's levels
above 1 hPa, ``isobaricInPa``), the surface fields, and the 10 m wind and 2 m
temperature (``heightAboveGround`` 10 and 2 m), and leaves the other level types out,
saying which in the dataset attribute :data:`UNREAD` that the provenance gives
(:func:`unread_text`).

ecCodes writes its own complaints about a damaged message straight to the process's
standard error (``ECCODES ERROR : ...``) before cfgrib raises; where plumecast then
refuses the file in its own one line, :func:`quiet_eccodes` keeps them off the console
(:func:`replay` writes them out where the file is read after all).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["UNREAD", "quiet_eccodes", "replay", "select_level_types", "unread_text"]

#: Attribute (of a GRIB hypercube, then of the normalised 3-D dataset) saying what the
#: files hold that is not read: level types left out, fields that cannot be identified.
UNREAD = "unread"
#: GRIB level types read beside winds on isobaricInhPa (ecCodes ``typeOfLevel``).
_KEPT = ("isobaricInhPa", "isobaricInPa", "surface", "meanSea")
#: Heights above ground [m] read beside them: the 2 m temperature, the 10 m wind.
_KEPT_HEIGHTS = (2.0, 10.0)
_WIND_NAMES = ("u", "v")
_STDERR_LOCK = threading.Lock()


def _level_type(part: xr.Dataset) -> str:
    return next((str(part[n].attrs.get("GRIB_typeOfLevel", "")) for n in part.data_vars), "")


def _kept(part: xr.Dataset) -> bool:
    kind = _level_type(part)
    if kind in _KEPT:
        return True
    if kind != "heightAboveGround" or kind not in part.coords or part[kind].ndim != 0:
        return False
    return float(part[kind].values) in _KEPT_HEIGHTS


#: Level types whose levels are said with their values, in these units (ecCodes level
#: values: heights in m, sigma as a fraction of the surface pressure).
_LEVEL_UNITS = {"heightAboveGround": " m", "heightAboveSea": " m above sea level", "sigma": ""}


def _levels_text(part: xr.Dataset, kind: str) -> str:
    """A hypercube's levels in words (``20..100 m``, ``1829, 2743 m above sea level``),
    '' for a level type whose levels say nothing more (tropopause, max wind)."""
    if kind not in _LEVEL_UNITS or kind not in part.coords or not np.issubdtype(part[kind].dtype, np.number):
        return ""
    x = np.atleast_1d(np.asarray(part[kind].values, np.float64))
    shown = ", ".join(f"{v:g}" for v in x) if x.size <= 3 else f"{x.min():g}..{x.max():g}"
    return f"{shown}{_LEVEL_UNITS[kind]}"


def select_level_types(parts: list[xr.Dataset]) -> list[xr.Dataset]:
    """cfgrib's hypercubes of one GRIB file, those of other level types than the
    pressure levels, the surface, 10 m and 2 m left out where the file has winds on
    ``isobaricInhPa`` (module docstring); the kept hypercubes carry the attribute
    :data:`UNREAD` naming the level types left out and their variables. Other files'
    hypercubes are returned as they are."""
    def winds_on_pressure(part: xr.Dataset) -> bool:
        return _level_type(part) == "isobaricInhPa" and any(
            str(n).lower() in _WIND_NAMES or str(part[n].attrs.get("GRIB_shortName", "")).lower() in _WIND_NAMES
            for n in part.data_vars)

    if not any(winds_on_pressure(p) for p in parts):
        return parts
    keep = [p for p in parts if _kept(p)]
    left: dict[str, list[str]] = {}
    for p in parts:
        if _kept(p):
            continue
        kind = _level_type(p) or "unknown level type"
        levels = _levels_text(p, kind)
        names = ", ".join(sorted(str(n) for n in p.data_vars))
        left.setdefault(kind, []).append(f"{levels} ({names})" if levels else f"({names})")
    if not left:
        return parts
    note = ("GRIB level types left out, the winds being read on isobaricInhPa (with the 10 m wind, the 2 m "
            "temperature and the surface fields): " + "; ".join(f"{k} {', '.join(v)}" for k, v in sorted(left.items())))
    return [p.assign_attrs({UNREAD: note}) for p in keep]


def unread_text(items: Sequence[tuple[str, Path]]) -> str:
    """What the files hold that is not read (``items``: text, file or folder), each text
    once with its files: ``'unknown' on surface (...) in gfs_f000.nc .. gfs_f004.nc (5
    files)`` (a folder's text names the folder itself)."""
    files: dict[str, list[str]] = {}
    for text, path in items:
        names = files.setdefault(text, [])
        if path.name not in names and not path.is_dir():  # a folder's note names it
            names.append(path.name)
    out = []
    for text, names in files.items():
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} .. {names[-1]} ({len(names)} files)"
        out.append(f"{text} in {shown}" if names else text)
    return "; ".join(out)


@contextlib.contextmanager
def quiet_eccodes() -> Iterator[list[str]]:
    """Hold what the C libraries write to standard error (file descriptor 2: ecCodes'
    ``ECCODES ERROR`` lines) while the block runs: dropped where it raises (plumecast
    reports the problem itself), else put in the list yielded, for :func:`replay` once
    the file is read after all."""
    held: list[str] = []
    with _STDERR_LOCK:  # one thread at a time moves file descriptor 2 (and puts it back)
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no file descriptor 2 (an embedded interpreter): as it is
            yield held
            return
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield held
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            held.append(tmp.read().decode("utf-8", "replace"))


def replay(held: list[str]) -> None:
    """Write out what :func:`quiet_eccodes` held (the file was read after all)."""
    text = "".join(held)
    if text:
        sys.stderr.write(text)
