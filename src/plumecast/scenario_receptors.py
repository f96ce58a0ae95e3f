"""The receptors a scenario names (its cities, points and CSV rows), each once, with the
extent of each one's area."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from plumecast.errors import DataFileError, ScenarioError
from plumecast.exposure import receptor_radius_m
from plumecast.receptors import Receptors, load_cities, points, read_receptor_csv
from plumecast.scenario import Scenario


def select_receptors(scenario: Scenario) -> Receptors | None:
    """The receptors a scenario names (cities, points, a CSV), or None."""
    return select_receptors_with_extent(scenario)[0]


def select_receptors_with_extent(scenario: Scenario) -> tuple[Receptors | None, NDArray[np.float64] | None]:
    """The receptors a scenario names and the radius of each one's area [m]: a city's
    built-up disc (from its population, :func:`plumecast.exposure.receptor_radius_m`),
    a point's ``radius_km`` (0: a point), 0 for CSV rows."""
    out, extent, _ = _selection(scenario)
    return out, extent


def _selection(scenario: Scenario) -> tuple[Receptors | None, NDArray[np.float64] | None, list[str]]:
    """:func:`select_receptors_with_extent` and each receptor's key (``receptors.cities``,
    ``receptors.points.K``, ``receptors.csv (FILE)``), in the receptors' order."""
    cfg = scenario.receptors
    parts: list[Receptors] = []
    extents: list[NDArray[np.float64]] = []
    keys: list[str] = []
    if cfg.cities is not None:
        c = cfg.cities
        cities = load_cities(min_population=c.min_population, countries=c.countries, bbox=c.bbox)
        if len(cities) == 0:
            # a filter that selects nothing (a bbox written lat-first) left every city out of the totals without a
            # word: the run then read "< 1" deaths beside the 2,100 it reads with the bbox the right way (audit)
            raise ScenarioError(f"receptors.cities: {empty_selection_text(c.min_population, c.countries, c.bbox)}")
        if c.names:
            cities = _named_cities(cities, c.names)
        if c.largest is not None:
            cities = cities.largest(c.largest)
        parts.append(cities)
        extents.append(receptor_radius_m(cities.population))
        keys += ["receptors.cities"] * len(cities)
    if cfg.points:
        parts.append(points([p.name for p in cfg.points], [p.lat for p in cfg.points], [p.lon for p in cfg.points],
                            [np.nan if p.population is None else p.population for p in cfg.points]))
        extents.append(np.array([1000.0 * (p.radius_km or 0.0) for p in cfg.points]))
        keys += [f"receptors.points.{k}" for k in range(len(cfg.points))]
    if cfg.csv is not None:
        rows = read_receptor_csv(cfg.csv)
        parts.append(rows)
        extents.append(np.zeros(len(rows)))
        keys += [f"receptors.csv ({cfg.csv})"] * len(rows)
    if not parts:
        return None, None, []
    out = Receptors.concat(parts)
    _once(out, keys)
    return out, np.concatenate(extents), keys


def receptor_air_changes(scenario: Scenario) -> NDArray[np.float64] | None:
    """Each receptor's own air-exchange rate while people shelter, in the order of
    :func:`select_receptors_with_extent` (the cities, the points, the CSV rows): a point's
    ``air_changes_per_hour``, NaN where a receptor has none (it takes the shelter's); None
    when no point gives one. [h-1]"""
    cfg = scenario.receptors
    if not any(p.air_changes_per_hour is not None for p in cfg.points):
        return None
    own = {f"receptors.points.{k}": p.air_changes_per_hour for k, p in enumerate(cfg.points)}
    return np.array([np.nan if (x := own.get(key)) is None else float(x) for key in _selection(scenario)[2]])


def empty_selection_text(min_population: float | None, countries: list[str] | None,
                         bbox: tuple[float, float, float, float] | None) -> str:
    """Why a city selection of the shipped table is empty, in words: its filters, the bbox as the ranges it
    means; for the errors of ``receptors.cities`` and city releases."""
    said = []
    if min_population is not None:
        said.append(f"min_population {min_population:,.0f}")
    if countries:
        said.append(f"countries {', '.join(countries)}")
    if bbox is not None:
        said.append(f"bbox {list(bbox)}, read as lon {bbox[0]:g} to {bbox[2]:g} and lat {bbox[1]:g} to {bbox[3]:g}")
    return (f"the filters select no city of the shipped table ({'; '.join(said) or 'no filter'}); expected at least "
            "one city (bbox is [lon_min, lat_min, lon_max, lat_max]; places under 15,000 people can be given as "
            "receptors.points)")


def _once(receptors: Receptors, where: list[str]) -> None:
    """Refuse a receptor given twice (the same name and place) across or within the scenario's
    receptor lists: its people would be counted twice (the same place twice in ``points``, or in
    ``points`` and the CSV, had added two rows to the totals; badinput audit), and one name given
    to two places among the points and CSV rows (the shipped cities' names may repeat). ``where``:
    each receptor's key, in the order of ``receptors``."""
    seen: dict[tuple[str, float, float], int] = {}
    named: dict[str, int] = {}
    for i, (name, lat, lon) in enumerate(zip(receptors.name, receptors.lat, receptors.lon, strict=True)):
        k = (str(name).strip().casefold(), round(float(lat), 6), round(float(lon) % 360.0, 6))
        if k in seen:
            j = seen[k]
            raise ScenarioError(f"{where[i]}: {str(name)!r} at {float(lat):g}, {float(lon):g} is also in "
                                f"{where[j]}; expected each receptor once (its people would be counted twice)")
        seen[k] = i
        if where[i] == "receptors.cities":  # the shipped table has places of one name in several countries
            continue
        # the user's points and CSV rows: one name at two places gave two rows the tables could not tell apart
        # (audit 43; the CSV reader refuses it within its file)
        folded = " ".join(str(name).split()).casefold()
        if folded in named:
            j = named[folded]
            raise ScenarioError(f"{where[i]}: {str(name)!r} at {float(lat):g}, {float(lon):g} has the name of "
                                f"{where[j]} (at {float(receptors.lat[j]):g}, {float(receptors.lon[j]):g}); expected "
                                "each receptor's name once, so that the tables tell them apart")
        named[folded] = i


def _named_cities(cities: Receptors, names: list[str]) -> Receptors:
    """``receptors.cities.names`` out of the cities the other filters selected; a name not there
    is refused with the key and why a town can be missing (e2e audit, session 30)."""
    try:
        return cities.select(names)
    except DataFileError as exc:
        raise ScenarioError(f"receptors.cities.names: {str(exc).removeprefix('receptors: ')} (the shipped GeoNames "
                            "table holds places of 15,000 people or more and seats of administration, after "
                            "min_population, countries and bbox; give a smaller place under receptors.points)") from None
