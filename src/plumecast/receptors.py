"""Where people are: the shipped world city table and user receptor lists.

A :class:`Receptors` table holds named points with a population. It is immutable:
the dataclass is frozen and its arrays are read-only, and every method returns a
new table. Cities come from GeoNames ``cities15000`` (34,006 places), shipped in
``data/cities/cities15000.csv.gz`` (see its PROVENANCE.md; attribution "GeoNames,
CC BY 4.0"). User lists are CSV files with columns ``name, lat, lon`` and optional
``population`` and ``country``.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.errors import DataFileError
from plumecast.units import WORLD_POPULATION

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["CITIES_FILE", "CSV_COLUMNS", "Receptors", "csv_note", "load_cities", "points", "read_receptor_csv"]

#: Package resource holding the city table (relative to ``plumecast``).
CITIES_FILE = "data/cities/cities15000.csv.gz"

BBox = tuple[float, float, float, float]


def _frozen(a: ArrayLike, dtype: Any) -> NDArray[Any]:
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Receptors:
    """A table of named receptor points with population.

    Parameters
    ----------
    name : array_like of str
        Receptor names.
    lat : array_like of float
        Latitudes, -90..90. [deg N]
    lon : array_like of float
        Longitudes, -180..180. [deg E]
    population : array_like of float
        People at each receptor (float so that it can carry expected values). [people]
    country : array_like of str, optional
        ISO 3166-1 alpha-2 country code, or "" where unknown.

    Notes
    -----
    The arrays are copied and made read-only on construction; all methods return
    new tables and never modify this one.
    """

    name: NDArray[np.object_]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    population: NDArray[np.float64]
    country: NDArray[np.object_] = field(default_factory=lambda: np.array([], dtype=object))

    def __post_init__(self) -> None:
        n = len(np.asarray(self.name))
        country = self.country if len(np.asarray(self.country)) else np.full(n, "", dtype=object)
        object.__setattr__(
            self, "name", _frozen([str(s) for s in np.asarray(self.name, dtype=object)], object)
        )
        object.__setattr__(self, "lat", _frozen(self.lat, np.float64))
        object.__setattr__(self, "lon", _frozen(self.lon, np.float64))
        object.__setattr__(self, "population", _frozen(self.population, np.float64))
        object.__setattr__(
            self, "country", _frozen([str(s) for s in np.asarray(country, dtype=object)], object)
        )
        sizes = {k: len(getattr(self, k)) for k in ("name", "lat", "lon", "population", "country")}
        if len(set(sizes.values())) != 1:
            raise DataFileError(
                f"receptors: columns have different lengths {sizes}; expected equal lengths"
            )

    def __len__(self) -> int:
        return int(self.lat.size)

    def __repr__(self) -> str:
        head = ", ".join(self.name[:3].tolist())
        more = ", ..." if len(self) > 3 else ""
        return f"Receptors(n={len(self)}: {head}{more})"

    @classmethod
    def concat(cls, parts: Iterable[Receptors]) -> Receptors:
        """One table of the receptors of several tables, in order."""
        parts = list(parts)
        if len(parts) == 1:
            return parts[0]
        return cls(
            name=np.concatenate([p.name for p in parts]),
            lat=np.concatenate([p.lat for p in parts]),
            lon=np.concatenate([p.lon for p in parts]),
            population=np.concatenate([p.population for p in parts]),
            country=np.concatenate([p.country for p in parts]),
        )

    def take(self, index: ArrayLike) -> Receptors:
        """A new table with the rows at ``index`` (integer positions or a boolean mask)."""
        idx = np.asarray(index)
        return Receptors(
            name=self.name[idx],
            lat=self.lat[idx],
            lon=self.lon[idx],
            population=self.population[idx],
            country=self.country[idx],
        )

    def filter(
        self,
        min_population: float | None = None,
        countries: Iterable[str] | None = None,
        bbox: BBox | None = None,
    ) -> Receptors:
        """Keep the receptors that meet every given condition.

        Parameters
        ----------
        min_population : float, optional
            Keep receptors with at least this population. [people]
        countries : iterable of str, optional
            ISO alpha-2 country codes to keep (case-insensitive).
        bbox : (lon_min, lat_min, lon_max, lat_max), optional
            Box to keep, edges included. [deg] ``lon_min > lon_max`` means the box
            crosses the antimeridian (e.g. ``(170, -50, -170, 0)``).

        Returns
        -------
        Receptors
            A new table, in the original order.
        """
        keep = np.ones(len(self), dtype=bool)
        if min_population is not None:
            keep &= self.population >= float(min_population)
        if countries is not None:
            codes = np.array(
                [
                    c.strip().upper()
                    for c in ([countries] if isinstance(countries, str) else countries)
                ],
                dtype=object,
            )
            keep &= np.isin(np.char.upper(self.country.astype(str)), codes.astype(str))
        if bbox is not None:
            lon_min, lat_min, lon_max, lat_max = (float(b) for b in bbox)
            if lat_min > lat_max:
                raise DataFileError(
                    f"receptors: bbox {tuple(bbox)} has lat_min > lat_max; expected (lon_min, lat_min, lon_max, lat_max)"
                )
            keep &= (self.lat >= lat_min) & (self.lat <= lat_max)
            if lon_min <= lon_max:
                keep &= (self.lon >= lon_min) & (self.lon <= lon_max)
            else:
                keep &= (self.lon >= lon_min) | (self.lon <= lon_max)
        return self.take(keep)

    def largest(self, n: int) -> Receptors:
        """The ``n`` most populous receptors, largest first (ties keep table order)."""
        if n < 0:
            raise DataFileError(f"receptors: largest(n={n}); expected n >= 0")
        order = np.argsort(-self.population, kind="stable")[:n]
        return self.take(order)

    def select(self, names: Iterable[str]) -> Receptors:
        """The receptors with the given names, in the order given.

        Matching is case-insensitive and exact. Where several receptors share a
        name (London GB and London CA) the most populous is taken; write
        ``"London, CA"`` to pick by country code.

        Raises
        ------
        DataFileError
            A name is not in the table; the message suggests close matches.
        """
        lowered = np.char.lower(self.name.astype(str))
        countries = self.country.astype(str)
        picks: list[int] = []
        for raw in [names] if isinstance(names, str) else names:
            key = str(raw).strip().lower()
            hits = np.flatnonzero(lowered == key)
            if hits.size == 0 and "," in key:
                base, _, code = key.rpartition(",")
                hits = np.flatnonzero(
                    (lowered == base.strip()) & (np.char.lower(countries) == code.strip())
                )
            if hits.size == 0:
                close = difflib.get_close_matches(
                    key, list(dict.fromkeys(lowered.tolist())), n=5, cutoff=0.75
                )
                pretty = [str(self.name[np.flatnonzero(lowered == c)[0]]) for c in close]
                hint = f"; did you mean {', '.join(repr(p) for p in pretty)}?" if pretty else ""
                raise DataFileError(
                    f"receptors: name {str(raw)!r} not found among {len(self)} receptors{hint}"
                )
            picks.append(int(hits[np.argmax(self.population[hits])]))
        return self.take(np.array(picks, dtype=np.intp))

    def to_dataframe(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "name": self.name.copy(),
                "country": self.country.copy(),
                "lat": self.lat.copy(),
                "lon": self.lon.copy(),
                "population": self.population.copy(),
            }
        )


def _wrap_lon(lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Longitudes in 0..360 to -180..180 (180 stays 180). [deg]"""
    return np.where(lon > 180.0, lon - 360.0, lon)


def points(
    names: Sequence[str],
    lats: ArrayLike,
    lons: ArrayLike,
    populations: ArrayLike | None = None,
) -> Receptors:
    """Receptors from plain lists.

    Parameters
    ----------
    names : sequence of str
        Receptor names.
    lats : array_like
        Latitudes, -90..90. [deg N]
    lons : array_like
        Longitudes, -180..180 or 0..360 (wrapped to -180..180). [deg E]
    populations : array_like, optional
        People at each receptor, >= 0; NaN (or None in the sequence) where
        unknown; default: all unknown. Unknown is never taken as 0. [people]

    Returns
    -------
    Receptors
    """
    lat = np.array(lats, dtype=np.float64, ndmin=1)
    lon = np.array(lons, dtype=np.float64, ndmin=1)
    pop = (
        np.full(lat.shape, np.nan)
        if populations is None
        else np.array([np.nan if v is None else v for v in np.atleast_1d(np.asarray(populations, dtype=object))],
                      dtype=np.float64)
    )
    n = len(names)
    if not (lat.size == lon.size == pop.size == n):
        raise DataFileError(
            f"receptor points: {n} names, {lat.size} lats, {lon.size} lons, {pop.size} populations; expected equal lengths"
        )
    for label, arr, lo, hi in (
        ("lat", lat, -90.0, 90.0),
        ("lon", lon, -180.0, 360.0),
        ("population", pop, 0.0, WORLD_POPULATION),
    ):
        known = np.isfinite(arr) if label == "population" else np.ones(arr.shape, bool)
        bad = np.flatnonzero(known & (~np.isfinite(arr) | (arr < lo) | (arr > hi)) | (~known & ~np.isnan(arr)))
        if bad.size:
            i = int(bad[0])
            raise DataFileError(
                f"receptor points: {label} of {names[i]!r} is {float(arr[i]):g}; expected {lo:g}..{hi:g}"
            )
    return Receptors(
        name=np.array(list(names), dtype=object), lat=lat, lon=_wrap_lon(lon), population=pop
    )


_RANGES = {
    "lat": (-90.0, 90.0, "degrees north"),
    "lon": (-180.0, 360.0, "degrees east, -180..180 or 0..360"),
}


def _delimiter(text: str) -> str:
    """',' unless the header line has none and uses ';' (spreadsheets with a decimal comma) or a tab."""
    first = text.split("\n", 1)[0]
    if "," not in first:
        for d in (";", "\t"):
            if d in first:
                return d
    return ","


#: The columns of a receptor CSV that are read (others are ignored, and named in a note).
CSV_COLUMNS = ("name", "lat", "lon", "population", "country")
#: Column names taken for a population under another name (refused without a ``population`` column).
_POPULATION_LIKE = re.compile(r"^pop|population|inhabitant|^people|^persons|^residents|einwohner", re.IGNORECASE)


def ignored_columns(header: Sequence[str]) -> list[str]:
    """The non-empty columns of a receptor CSV header that are not read (:data:`CSV_COLUMNS`)."""
    return [h.strip() for h in header if h.strip() and h.strip().lower() not in CSV_COLUMNS]


def csv_header(path: str | Path) -> list[str] | None:
    """The header line of a receptor CSV as its columns; None when it cannot be read."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        return None
    return next(csv.reader([first], delimiter=_delimiter(first)), None)


def csv_note(path: str | Path) -> str | None:
    """What a run should say about the columns of the receptor CSV ``path``: those it
    ignores, and that it has no population column (every population there unknown)."""
    header = csv_header(path)
    if header is None:
        return None
    ignored = ignored_columns(header)
    no_pop = "population" not in [h.strip().lower() for h in header]
    if not ignored and not no_pop:
        return None
    parts = []
    if ignored:
        parts.append(f"column(s) {', '.join(repr(c) for c in ignored)} ignored (read: {', '.join(CSV_COLUMNS)})")
    if no_pop:
        parts.append("no 'population' column: the population at its receptors is unknown (their fatalities too); "
                     "add one to count them")
    return f"receptors.csv {path}: " + "; ".join(parts)


def _parse_rows(text: str, source: str) -> Receptors:
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DataFileError(
            f"{source}: empty file; expected a header line 'name,lat,lon[,population]'"
        ) from None
    cols = [h.strip().lower() for h in header]
    twice = [c for c in dict.fromkeys(cols) if c and cols.count(c) > 1]
    if twice:
        # the first of two 'population' columns had been read and the second dropped without a word (audit 43)
        at = [k + 1 for k, c in enumerate(cols) if c == twice[0]]
        raise DataFileError(
            f"{source}: line 1: the column {twice[0]!r} is given {len(at)} times (columns "
            f"{', '.join(str(k) for k in at)}); expected each column once")
    missing = [c for c in ("name", "lat", "lon") if c not in cols]
    if missing:
        raise DataFileError(
            f"{source}: line 1: missing column(s) {missing}; expected columns name, lat, lon "
            f"(population, country optional); found {header}"
        )
    if "population" not in cols:
        # a population under another name would leave every population unknown without a word (audit)
        for col in ignored_columns(header):
            if _POPULATION_LIKE.search(col):
                raise DataFileError(
                    f"{source}: line 1, column {col!r}: not read; the people at each receptor go in a column "
                    f"named 'population' (the columns read: {', '.join(CSV_COLUMNS)}; others are ignored): "
                    "rename it population, or remove it to leave the population unknown")
    ix = {c: cols.index(c) for c in ("name", "lat", "lon", "population", "country") if c in cols}
    names: list[str] = []
    values: dict[str, list[float]] = {"lat": [], "lon": [], "population": []}
    countries: list[str] = []
    seen: dict[tuple[str, float, float], int] = {}
    named: dict[str, tuple[int, float, float]] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(cols) or any(c.strip() for c in row[len(cols):]):
            hint = " (a value with a comma, e.g. 1,000, must be quoted or written 1000)" if len(row) > len(cols) else ""
            raise DataFileError(
                f"{source}: line {line_no}: {len(row)} fields; expected {len(cols)} ({', '.join(cols)}){hint}"
            )
        name = row[ix["name"]].strip()
        if not name:
            raise DataFileError(
                f"{source}: line {line_no}, column 'name': empty; expected a receptor name"
            )
        names.append(name)
        countries.append(row[ix["country"]].strip().upper() if "country" in ix else "")
        for col in ("lat", "lon", "population"):
            raw = row[ix[col]].strip() if col in ix else ""
            if col == "population" and raw == "":
                values[col].append(math.nan)  # unknown, never 0
                continue
            try:
                val = float(raw)
            except ValueError:
                comma = "," in raw and _is_number(raw.replace(",", ".", 1))
                raise DataFileError(
                    f"{source}: line {line_no}, column {col!r}: {raw!r} is not a number; expected "
                    + (f"{_RANGES[col][2]}" if col in _RANGES else "a population >= 0")
                    + (" written with a decimal point ('.') and no thousands separator" if comma else "")
                ) from None
            if col in _RANGES:
                lo, hi, what = _RANGES[col]
                ok = math.isfinite(val) and lo <= val <= hi
                if not ok:
                    other = _number_or_nan(row[ix["lon"]]) if col == "lat" else math.nan
                    swapped = "; lat and lon swapped?" if abs(other) <= 90.0 else ""
                    raise DataFileError(
                        f"{source}: line {line_no}, column {col!r}: {raw} is out of range; expected {what} "
                        f"({lo:g}..{hi:g}){swapped}"
                    )
            elif not (math.isfinite(val) and val >= 0):
                raise DataFileError(
                    f"{source}: line {line_no}, column 'population': {raw} is negative or not finite; expected >= 0"
                )
            elif val > WORLD_POPULATION:
                raise DataFileError(
                    f"{source}: line {line_no}, column 'population': {raw} is more people than live on Earth; "
                    f"expected 0 .. {WORLD_POPULATION / 1e9:.2g} billion (the world's population, UN WPP 2024)")
            values[col].append(val)
        key = (name, values["lat"][-1], values["lon"][-1] % 360.0)
        if key in seen:
            raise DataFileError(
                f"{source}: line {line_no}: {name!r} at {values['lat'][-1]:g}, {values['lon'][-1]:g} repeats line "
                f"{seen[key]}; expected each receptor once (its people would be counted twice)"
            )
        seen[key] = line_no
        folded = " ".join(name.split()).casefold()
        if folded in named:
            # two rows 'A' in the casualty table that could not be told apart (audit 43)
            first, la, lo = named[folded]
            raise DataFileError(
                f"{source}: line {line_no}, column 'name': {name!r} at {values['lat'][-1]:g}, "
                f"{values['lon'][-1]:g} has the name of line {first} (at {la:g}, {lo:g}); expected each receptor's "
                "name once, so that the tables tell them apart (e.g. 'A north', 'A south')")
        named[folded] = (line_no, values["lat"][-1], values["lon"][-1])
    if not names:
        raise DataFileError(f"{source}: no receptor rows after the header; expected at least one")
    return Receptors(
        name=np.array(names, dtype=object),
        lat=np.array(values["lat"]),
        lon=_wrap_lon(np.array(values["lon"])),
        population=np.array(values["population"]),
        country=np.array(countries, dtype=object),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number_or_nan(text: str) -> float:
    return float(text) if _is_number(text) else math.nan


def read_receptor_csv(path: str | Path) -> Receptors:
    """Read a user receptor list.

    Parameters
    ----------
    path : str or Path
        UTF-8 CSV (a byte-order mark is allowed) with a header line and columns
        ``name``, ``lat`` [deg N], ``lon`` [deg E, -180..180 or 0..360, wrapped to
        -180..180], optionally ``population`` [people, >= 0; empty or absent: unknown
        (NaN), never 0] and ``country``; other columns are ignored (a run names them,
        :func:`csv_note`), but a population under another name (``pop``,
        ``population_2020``) without a ``population`` column is refused. Fields are
        separated by commas, or by semicolons or tabs when the header line has no
        comma; numbers use a decimal point.

    Returns
    -------
    Receptors

    Raises
    ------
    DataFileError
        File missing, a column missing, a row with more or fewer fields than the
        header (an unquoted ``1,000``), a population column under another name, a
        column given twice, the same name twice (at the same position: counted twice;
        elsewhere: rows the tables cannot tell apart), a population above
        :data:`~plumecast.units.WORLD_POPULATION`, or a
        value that is not a number or out of range; the message names the file,
        line and column.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFileError(
            f"{p}: file not found; expected a receptor CSV (name,lat,lon[,population])"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{p}: cannot read ({exc}); expected a UTF-8 CSV file") from None
    return _parse_rows(text, str(p))


@lru_cache(maxsize=1)
def _all_cities() -> Receptors:
    ref = resources.files("plumecast").joinpath(CITIES_FILE)
    try:
        raw = ref.read_bytes()
    except FileNotFoundError:
        raise DataFileError(
            f"plumecast/{CITIES_FILE}: shipped city table missing; reinstall plumecast"
        ) from None
    rows = list(csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))
    header, body = rows[0], rows[1:]
    col = {c: i for i, c in enumerate(header)}
    table = np.array(body, dtype=object)
    return Receptors(
        name=table[:, col["name"]],
        lat=table[:, col["lat"]].astype(np.float64),
        lon=table[:, col["lon"]].astype(np.float64),
        population=table[:, col["population"]].astype(np.float64),
        country=table[:, col["country"]],
    )


def load_cities(
    min_population: float | None = 15000,
    countries: Iterable[str] | None = None,
    bbox: BBox | None = None,
) -> Receptors:
    """World cities from the shipped GeoNames ``cities15000`` table.

    Parameters
    ----------
    min_population : float or None
        Keep cities with at least this population; ``None`` keeps all 34,006
        (a few seats of administration have fewer than 15,000). [people]
    countries : iterable of str, optional
        ISO alpha-2 country codes to keep.
    bbox : (lon_min, lat_min, lon_max, lat_max), optional
        Box to keep. [deg]

    Returns
    -------
    Receptors
        Sorted by descending population. The table is read once and cached; the
        returned object is immutable.

    Examples
    --------
    >>> load_cities().largest(2).name.tolist()
    ['Shanghai', 'Beijing']
    """
    return _all_cities().filter(min_population=min_population, countries=countries, bbox=bbox)


def nested_receptors(receptors: Receptors, radius_m: ArrayLike) -> list[tuple[int, int]]:
    """``(inner, outer)`` pairs: a receptor of known people whose centre lies inside the disc
    of a more populous receptor of the same country (``radius_m``: each one's disc as the run
    uses it, :func:`plumecast.runner.select_receptors_with_extent`: a city's built-up disc,
    a user's point's ``radius_km``, none for a point without it). GeoNames lists some city districts as
    places of their own (Hamburg's Wandsbek and Altona, Paris's arrondissements), so
    totals over such pairs may count their people twice (decision audit). Pairs are found
    among neighbours within the largest radius (a k-d tree on unit vectors)."""
    from scipy.spatial import cKDTree

    n = len(receptors)
    r = np.asarray(radius_m, dtype=float)
    if n < 2 or not np.isfinite(r).any() or np.nanmax(r) <= 0:
        return []
    lat, lon = np.radians(receptors.lat), np.radians(receptors.lon)
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    from plumecast.units import EARTH_RADIUS_M

    pairs = cKDTree(xyz).query_pairs(float(np.nanmax(r)) / EARTH_RADIUS_M, output_type="ndarray")
    out = []
    pop = np.nan_to_num(receptors.population, nan=-1.0)
    for a, b in pairs:
        outer, inner = (a, b) if pop[a] > pop[b] else (b, a)
        # an inner one whose people are known: an unknown population is left out of the totals, so nothing
        # is counted twice (a caravan park of unknown people beside a user's "houses" had been named;
        # honest-numbers audit)
        if pop[outer] <= pop[inner] or pop[inner] <= 0 or receptors.country[a] != receptors.country[b]:
            continue
        d = 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, float(np.linalg.norm(xyz[a] - xyz[b])) / 2.0))
        if d < r[outer]:
            out.append((int(inner), int(outer)))
    return sorted(out)


def nested_note(receptors: Receptors, radius_m: ArrayLike | None) -> str | None:
    """One line naming the receptors of :func:`nested_receptors` (up to three), or None (also
    without discs, ``radius_m`` None)."""
    if radius_m is None:
        return None
    pairs = nested_receptors(receptors, radius_m)
    if not pairs:
        return None
    # each inner receptor once, in the disc of its largest neighbour (the pairs had been counted: "445 receptor(s)"
    # of a run of 430; e2e audit, session 30)
    pop = np.nan_to_num(receptors.population, nan=-1.0)
    outer_of: dict[int, int] = {}
    for i, o in pairs:
        if i not in outer_of or pop[o] > pop[outer_of[i]]:
            outer_of[i] = o
    inner = sorted(outer_of)
    shown = ", ".join(f"{receptors.name[i]} in {receptors.name[outer_of[i]]}" for i in inner[:3])
    more = f" and {len(inner) - 3} more" if len(inner) > 3 else ""
    return (f"{len(inner)} receptor(s) lie inside the disc of a larger one of the same country ({shown}{more}): "
            "GeoNames lists some city districts as places of their own, so the totals may count their people "
            "twice; leave districts out (receptors.cities.names, min_population) where they are")


def reach_mask(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], radius_m: float) -> NDArray[np.bool_]:
    """Half-degree cells (360 x 720, from -90 and -180) holding a point within
    ``radius_m`` of a receptor, with a margin of one cell: the compiled kernels'
    cheap test before the exact disc search (:class:`plumecast.exposure.ExposureSampler`)."""
    from plumecast.units import EARTH_RADIUS_M

    mask = np.zeros((360, 720), np.bool_)
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    for la, lo in zip(np.asarray(lat_deg, float), np.asarray(lon_deg, float), strict=True):
        if not (np.isfinite(la) and np.isfinite(lo)):
            continue
        j0 = max(int(math.floor((la - dlat + 90.0) * 2.0)) - 1, 0)
        j1 = min(int(math.floor((la + dlat + 90.0) * 2.0)) + 1, 359)
        edge = min(abs(la) + dlat, 89.9)
        dlon = dlat / math.cos(math.radians(edge))
        if dlon >= 180.0 or edge >= 89.9:
            mask[j0:j1 + 1, :] = True
            continue
        i0 = int(math.floor((lo - dlon + 180.0) * 2.0)) - 1
        i1 = int(math.floor((lo + dlon + 180.0) * 2.0)) + 1
        mask[j0:j1 + 1, np.arange(i0, i1 + 1) % 720] = True
    return mask
