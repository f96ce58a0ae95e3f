"""Numbers and names as the dashboard's page reads them.

JSON-safe values (NaN -> null, numpy -> Python), floats rounded to a few
significant figures for transport, map grids as bytes (log scale for
concentrations, ``ceil(255 p)`` for probabilities) in image row order, and the
folded form of a name used for search.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.concentration import lon_order


def clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars/arrays -> Python."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, np.generic):
        return clean(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def compact(values: NDArray[Any], sig: int = 4) -> list[Any]:
    """A float array as a (nested) list with ``sig`` significant figures, NaN -> None."""
    a = np.asarray(values, dtype=np.float64)
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a)
    if ok.any():
        v = a[ok]
        mag = np.floor(np.log10(np.where(v == 0, 1.0, np.abs(v))))
        # rounded as a decimal string: 10 ** (sig - 1 - mag) overflows below about 1e-305, and a known
        # 4.7e-321 kg m-3 had gone out as None, unknown (situation-room audit, session 40)
        tiny = np.abs(v) < 1e-290
        with np.errstate(over="ignore"):
            scale = 10.0 ** (sig - 1 - np.where(tiny, 0.0, mag))
        rounded = np.round(v * scale) / scale
        rounded[tiny] = [float(f"{x:.{sig - 1}e}") for x in v[tiny]]
        out[ok] = rounded
    return list(clean(out))


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name, for search ("São Paulo" -> "sao paulo")."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in norm if not unicodedata.combining(ch)).casefold().strip()


def safe_name(plan: str) -> str:
    """The folder name a plan's files would use (as ``ensemble.summary`` names its maps)."""
    return "".join(ch if ch.isalnum() else "_" for ch in plan).strip("_")


def parse_float(text: Any) -> float:
    """``text`` as a finite float; NaN for anything else (empty, words, inf)."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def iso_utc(t: Any) -> str | None:
    """A datetime64 as ``YYYY-MM-DDTHH:MM:SSZ``; None for None or NaT."""
    if t is None or np.isnat(t):
        return None
    return str(np.asarray(t).astype("datetime64[s]")) + "Z"


def north_up(values: NDArray[Any], lat: NDArray[np.float64]) -> NDArray[Any]:
    """Rows ordered north to south (image order) whatever the file's latitude order."""
    order = np.argsort(-np.asarray(lat, dtype=float), kind="stable")
    return np.asarray(values)[..., order, :]


def grid_box(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> dict[str, float | int]:
    """Outer cell edges of a regular lat/lon grid of cell centres [deg]; ``lon1`` beyond 180
    for a grid across the antimeridian (:func:`plumecast.concentration.lon_order`), so that ``lon0 .. lon1`` is
    the grid's box, west to east, in one piece."""
    lat = np.sort(np.asarray(lat, dtype=float))
    lon = lon_order(lon)[1]
    dlat = float(np.median(np.diff(lat))) if lat.size > 1 else 1.0
    dlon = float(np.median(np.diff(lon))) if lon.size > 1 else 1.0
    return {"lat0": float(lat[0] - dlat / 2), "lat1": float(lat[-1] + dlat / 2),
            "lon0": float(lon[0] - dlon / 2), "lon1": float(lon[-1] + dlon / 2),
            "nlat": int(lat.size), "nlon": int(lon.size)}


def log_bytes(values: NDArray[Any], vmin: float, vmax: float) -> NDArray[np.uint8]:
    """Log-scale quantisation for the map: 0 below ``vmin`` (or NaN), else
    ``1 + round(254 log(c/vmin) / log(vmax/vmin))`` clipped to 1..255."""
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros(v.shape, dtype=np.uint8)
    ok = np.isfinite(v) & (v >= vmin)
    if vmax > vmin > 0:
        q = 1.0 + np.round(254.0 * np.log(v[ok] / vmin) / math.log(vmax / vmin))
        out[ok] = np.clip(q, 1, 255).astype(np.uint8)
    return out


def fraction_bytes(p: NDArray[Any]) -> NDArray[np.uint8]:
    """A probability grid as bytes: 0 for 0 (or NaN), else ``ceil(255 p)`` (any p > 0 shows)."""
    v = np.nan_to_num(np.asarray(p, dtype=np.float64), nan=0.0)
    return np.clip(np.ceil(np.clip(v, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)

