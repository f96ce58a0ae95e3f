"""Precipitation of one 3-D met file that is not a single variable, and precipitation that is not read.

:func:`precipitation_parts` completes the fields of one file (:func:`plumecast.met.levels_read._canonical`):
WRF's grid-scale ``RAINNC`` plus its convective ``RAINC``; ERA5's large-scale ``lsp`` plus convective ``cp``
where the file has no total ``tp``. A part without its other part (``lsp`` alone, ``RAINC`` alone) is not
the total precipitation and is not read as it; it is named instead, as is any variable that looks like
precipitation (by its name, ``long_name`` or ``standard_name``) in a file where no precipitation is read,
so that the provenance and ``plumecast met check`` never say that the files hold none (met audit 42b: GFS's
``APCP_surface`` from wgrib2, ERA5's ``mtpr`` and ``lsp`` + ``cp`` had left runs silently dry).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["PRECIP_UNREAD", "field_file", "looks_like_precipitation", "precipitation_parts"]

#: The words that end the text of precipitation that is not read (:func:`precipitation_parts`), by which
#: :func:`plumecast.met.levels.wind_grid_3d` tells it among the ``unread`` notes.
PRECIP_UNREAD = ": precipitation not read"
#: Total precipitation from two parts: (part, other part, what each is).
_PAIRS = (("lsp", "cp", "ERA5's large-scale precipitation", "ERA5's convective precipitation"),
          ("RAINNC", "RAINC", "WRF's grid-scale precipitation", "WRF's convective precipitation"))
_WORDS = re.compile(r"precip|(^|[^a-z])rain|snowfall")
_NAMES = re.compile(r"^(tp|lsp|cp|pr|prc|mtpr|crr|lsrr|apcp.*|acpcp.*|ncpcp.*|prate.*|cprat.*|rain.*)$")


def looks_like_precipitation(name: str, da: xr.DataArray) -> bool:
    """Whether a variable named ``name`` looks like precipitation: its name (``tp``, ``APCP_surface``,
    ``RAINC`` ...), or its ``long_name`` or ``standard_name`` saying precipitation, rain or snowfall
    (not "terrain")."""
    text = " ".join(str(da.attrs.get(k, "")) for k in ("long_name", "standard_name", "description")).lower()
    return bool(_NAMES.match(name.lower()) or _WORDS.search(text) or _WORDS.search(name.lower()))


def precipitation_parts(surface: dict[str, xr.DataArray], surf_vars: dict[str, xr.DataArray],
                        used: set[str], prepare: Callable[[xr.DataArray, str], xr.DataArray]) -> list[str]:
    """Complete ``surface`` (the file's normalised surface fields, changed in place) with the total
    precipitation of two parts, and return, in words, the precipitation the file holds but that is not read.
    ``surf_vars``: the file's surface variables by name; ``used``: those read as some field;
    ``prepare(variable, name)``: the variable as the normalised ``precip`` (converted, with its windows)."""
    lower = {n.lower(): n for n in surf_vars}
    matched = str(surface["precip"].attrs.get("plumecast_var", "")).lower() if "precip" in surface else ""
    notes: list[str] = []
    for part, other, what, what_other in _PAIRS:
        have = [lower[x.lower()] for x in (part, other) if x.lower() in lower]
        if len(have) == 2 and (matched in ("", part.lower())):
            a = surface["precip"] if matched == part else prepare(surf_vars[have[0]], have[0])
            b = prepare(surf_vars[have[1]], have[1])
            surface["precip"] = a.copy(data=a.data + b.data).assign_attrs(
                plumecast_from=f"{a.attrs['plumecast_from']} + {b.attrs['plumecast_from']}")
            matched = part.lower()
            used.update(have)
        elif len(have) == 1 and "precip" not in surface:
            alone = have[0]
            said, missing = (what, other) if alone.lower() == part.lower() else (what_other, part)
            notes.append(f"{alone!r} ({said} only, without {missing!r}){PRECIP_UNREAD} as the total "
                         f"precipitation (it needs {part!r} + {other!r})")
            used.add(alone)
    if "precip" not in surface:
        for n, da in surf_vars.items():
            if n not in used and looks_like_precipitation(n, da):
                long = da.attrs.get("long_name", da.attrs.get("standard_name"))
                notes.append(f"{n!r} [{da.attrs.get('units', 'no units')}]" + (f" ({long})" if long else "")
                             + f"{PRECIP_UNREAD} (not a name, standard_name or convention plumecast reads: tp, "
                               "lsp + cp, mtpr, PRATE, RAINNC, pr, or standard_name precipitation_flux or "
                               "precipitation_amount)")
    return notes


def field_file(ds: xr.Dataset, field: str, default: Path) -> str:
    """The file of ``field``'s first record, for a message: its ``met_file_<field>`` or ``met_file``."""
    for c in (f"met_file_{field}", "met_file"):
        if c in ds[field].coords:
            v = np.asarray(ds[field][c].values).reshape(-1)
            if v.size:
                name = str(v[0])
                return str(default.with_name(name)) if name != default.name else str(default)
    return str(default)
