"""The shipped GeoNames city table, for finding a city by name on the dashboard
(case- and accent-insensitive) and placing a name from ``receptors.csv`` on the map."""

from __future__ import annotations

import math
import threading
from typing import Any

from plumecast.web.encode import clean, fold, parse_float

_CITY_LOCK = threading.Lock()
_CITY_CACHE: dict[str, Any] = {}


def city_table() -> list[dict[str, Any]]:
    """The shipped cities (read once), by descending population, with folded names."""
    with _CITY_LOCK:
        if "rows" not in _CITY_CACHE:
            from plumecast.receptors import load_cities

            c = load_cities(min_population=None)
            _CITY_CACHE["rows"] = [
                {"name": str(n), "country": str(k), "lat": float(la), "lon": float(lo), "population": float(p),
                 "key": fold(str(n))}
                for n, k, la, lo, p in zip(c.name, c.country, c.lat, c.lon, c.population, strict=True)]
        return list(_CITY_CACHE["rows"])


def city_lookup() -> dict[str, dict[str, Any]]:
    """Folded name -> the most populous shipped city of that name."""
    with _CITY_LOCK:
        cached = _CITY_CACHE.get("lookup")
    if cached is not None:
        return dict(cached)
    out: dict[str, dict[str, Any]] = {}
    for row in city_table():  # sorted by descending population
        out.setdefault(row["key"], row)
    with _CITY_LOCK:
        _CITY_CACHE["lookup"] = out
    return out


def search_cities(query: str, receptors: list[dict[str, Any]], limit: int = 12) -> list[dict[str, Any]]:
    """Cities whose name matches ``query`` (case/accent-insensitive): the view's
    receptors first, then the shipped GeoNames table (exact, prefix, substring;
    larger first)."""
    q = fold(query)
    if not q:
        return []
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def rank(key: str) -> int:
        return 0 if key == q else 1 if key.startswith(q) else 2 if q in key else 3

    recs = sorted((rank(fold(r["name"])), -_nan0(r.get("population")), r["id"]) for r in receptors)
    for rk, _, i in recs:
        if rk == 3 or len(out) >= limit:
            break
        r = receptors[i]
        out.append({"name": r["name"], "country": r.get("country", ""), "lat": r.get("lat"), "lon": r.get("lon"),
                    "population": r.get("population"), "receptor": i})
        seen.add((fold(r["name"]), str(r.get("country", ""))))
    table = [(rank(row["key"]), row) for row in city_table()]
    for rk in (0, 1, 2):
        for r_k, row in table:
            if len(out) >= limit:
                break
            if r_k == rk and (row["key"], row["country"]) not in seen:
                seen.add((row["key"], row["country"]))
                out.append({k: row[k] for k in ("name", "country", "lat", "lon", "population")} | {"receptor": None})
    return clean(out)  # type: ignore[no-any-return]


def _nan0(x: Any) -> float:
    v = parse_float(x)
    return 0.0 if math.isnan(v) else v


def city_position(name: str) -> dict[str, Any] | None:
    """The most populous shipped city called ``name`` (folded), or None."""
    return city_lookup().get(fold(name))

