"""Where a countermeasure applies: every receptor, named cities, or a lon/lat box.

A region is written in a scenario as one of

* ``all`` - every receptor;
* a list of names, ``[Tokyo, "London, GB"]`` - matched to the receptor table
  case-insensitively; ``"name, CC"`` picks by ISO country code where two places
  share a name. A name that is not a receptor is an error (a plan that silently
  covers nobody would look like a plan that does nothing);
* a box ``[lon_min, lat_min, lon_max, lat_max]`` in degrees, edges included;
  ``lon_min > lon_max`` is a box across the antimeridian (as
  :meth:`plumecast.receptors.Receptors.filter`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from plumecast.errors import ScenarioError

__all__ = ["Region", "check_region", "region_label", "region_mask"]

#: ``"all"``, a sequence of receptor names, or ``(lon_min, lat_min, lon_max, lat_max)``.
Region = Literal["all"] | Sequence[str] | tuple[float, float, float, float]


def _is_bbox(region: Any) -> bool:
    return (
        not isinstance(region, str)
        and isinstance(region, Sequence)
        and len(region) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in region)
    )


def check_region(region: Any, what: str = "region") -> Region:
    """``region`` normalised (names as a tuple of str, a box as a tuple of 4 floats).

    Raises
    ------
    ScenarioError
        Not ``"all"``, a non-empty list of names, or a valid box.
    """
    if isinstance(region, str):
        if region.strip().lower() == "all":
            return "all"
        raise ScenarioError(
            f"{what}: {region!r}; expected 'all', a list of city names or [lon_min, lat_min, lon_max, lat_max]"
        )
    if _is_bbox(region):
        lon_min, lat_min, lon_max, lat_max = (float(v) for v in region)
        if not all(math.isfinite(v) for v in (lon_min, lat_min, lon_max, lat_max)):
            raise ScenarioError(f"{what}: box {list(region)} has a value that is not a finite number; "
                                "expected [lon_min, lat_min, lon_max, lat_max] in degrees")
        if not (-90.0 <= lat_min <= lat_max <= 90.0):
            raise ScenarioError(
                f"{what}: box {list(region)} needs -90 <= lat_min <= lat_max <= 90 "
                "(order: lon_min, lat_min, lon_max, lat_max)"
            )
        if not (-180.0 <= lon_min <= 360.0 and -180.0 <= lon_max <= 360.0):
            raise ScenarioError(f"{what}: box {list(region)} has a longitude outside -180..360 degrees")
        return (lon_min, lat_min, lon_max, lat_max)
    if isinstance(region, Sequence) and len(region) > 0 and all(isinstance(v, str) for v in region):
        return tuple(str(v) for v in region)
    raise ScenarioError(
        f"{what}: {region!r}; expected 'all', a non-empty list of city names or "
        "[lon_min, lat_min, lon_max, lat_max]"
    )


def region_label(region: Region) -> str:
    """Short text for tables: ``all``, ``Tokyo, Osaka`` or ``box [..]``."""
    if isinstance(region, str):
        return region
    if _is_bbox(region):
        return "box [" + ", ".join(f"{float(v):g}" for v in region) + "]"
    return ", ".join(str(v) for v in region)


def _wrap180(lon: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray((np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0)


def region_mask(region: Region, receptors: Any, what: str = "region") -> NDArray[np.bool_]:
    """Which receptors lie in ``region`` (bool, one per receptor).

    Parameters
    ----------
    region : "all", names or box (see the module docstring).
    receptors : a :class:`plumecast.receptors.Receptors` table (``name``, ``lat``,
        ``lon``, ``country``).
    what : how to name the region in error messages (``plans.0.measures.1.region``).
    """
    region = check_region(region, what)
    n = len(np.asarray(receptors.lat))
    if isinstance(region, str):
        return np.ones(n, dtype=bool)
    if _is_bbox(region):
        lon_min, lat_min, lon_max, lat_max = (float(v) for v in region)  # type: ignore[union-attr]
        lat = np.asarray(receptors.lat, dtype=float)
        lon = _wrap180(np.asarray(receptors.lon, dtype=float))
        a, b = float(_wrap180(np.array(lon_min))), float(_wrap180(np.array(lon_max)))
        if lon_max - lon_min >= 360.0:
            in_lon = np.ones(n, dtype=bool)
        elif a <= b:
            in_lon = (lon >= a) & (lon <= b)
        else:
            in_lon = (lon >= a) | (lon <= b)
        return np.asarray((lat >= lat_min) & (lat <= lat_max) & in_lon, dtype=bool)
    names = np.char.lower(np.asarray([str(s) for s in receptors.name], dtype=str))
    country = np.asarray(getattr(receptors, "country", np.full(n, "", dtype=object)))
    codes = np.char.lower(np.asarray([str(s) for s in country], dtype=str)) if n else np.array([], str)
    mask = np.zeros(n, dtype=bool)
    for raw in region:
        key = str(raw).strip().lower()
        hits = names == key
        if not hits.any() and "," in key:
            base, _, code = key.rpartition(",")
            hits = (names == base.strip()) & (codes == code.strip())
        if not hits.any():
            close = difflib.get_close_matches(key, sorted(set(names.tolist())), n=3, cutoff=0.75)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ScenarioError(
                f"{what}: city {str(raw)!r} is not among the {n} receptors of this run{hint} "
                "(a region names receptors of the scenario)"
            )
        mask |= hits
    return mask
