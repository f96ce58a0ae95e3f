"""The one scenario language: which mode (``run``, ``compare``, ``zones``) reads
which section of a scenario, and the line that tells the user what a mode left
unread. Re-exported by :mod:`plumecast.scenario`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from plumecast.scenario import Scenario

#: Top-level keys ``plumecast zones`` reads; every other key of :class:`Scenario`
#: (start, met, output, particles, plans, ...) belongs to the particle forecast. Of ``turbulence``
#: zones reads ``mixing_height_m`` alone, its plume's lid where local_weather gives none
#: (:mod:`plumecast.nearfield.lid`); it lists the other keys given as ignored.
ZONES_KEYS = frozenset({"name", "description", "agent", "releases", "local_weather", "zones", "receptors",
                        "shelter", "reference", "turbulence"})
#: Top-level keys only ``plumecast compare`` reads (``run`` ignores them).
COMPARE_ONLY_KEYS = frozenset({"plans", "ensemble"})
Mode = Literal["run", "compare", "zones"]


def readers(key: str) -> str:
    """The modes that read top-level key ``key`` of the scenario language, in words."""
    if key in COMPARE_ONLY_KEYS:
        return "compare"
    if key in ("local_weather", "zones"):
        return "zones"
    if key in ZONES_KEYS:
        return "zones, run and compare"
    return "run and compare"


def ignored_keys(sc: Scenario, mode: Literal["run", "compare"]) -> dict[str, str]:
    """The sections (and release / receptor keys) of ``sc`` that ``mode`` does not
    read, each with the modes that read it.

    A section counts when it is given (not left at its default), so a scenario
    changed with :meth:`Scenario.replace` reports the same as the file it came
    from. ``reference`` and ``description`` are a record and never listed.
    """
    out: dict[str, str] = {}
    if sc.local_weather is not None:
        # run reads the wind at the release for a tank's rain-out pool (plumecast.release), and the stability and
        # mixing height for the point releases' near-field plumes where the met gives no boundary layer
        # (run_near_field.point_plume_weather)
        pool = any(r.type == "point" and r.tank is not None and r.tank.pool is not None for r in sc.releases)
        read = ["wind_speed_m_s, read for the tank's pool"] if pool else []
        nf = sc.near_field
        if nf.stability == "auto" and nf.distance_km > 0 and any(r.type == "point" for r in sc.releases):
            m = sc.met
            if m.source != "file" or m.boundary_layer == "constant" or m.vertical == "single" or m.level_hpa is not None:
                read.append("the stability and mixing_height_m, read for the near-field plumes")
            else:
                read.append("the stability and mixing_height_m, read for the near-field plumes if the met gives no "
                            "boundary layer")
        # the point releases' near-field plumes also take local_weather's terrain (when near_field gives
        # none) and its air temperature (a stack's plume rise; the pure vapour's density, their ceiling)
        points = nf.distance_km > 0 and any(r.type == "point" for r in sc.releases)
        if points and nf.terrain is None:
            read.append("terrain, read for the near-field plumes' sigma curves")
        if points:
            stacks = any(r.type == "point" and getattr(r, "stack", None) is not None for r in sc.releases)
            dense = _dense_capable(sc)
            read.append("air_temperature_c, read for " + ("the stacks' plume rise and " if stacks else "")
                        + "the near-field plumes' pure-vapour ceiling" + (" and dense clouds" if dense else ""))
            if dense:
                read.append("averaging_time_s, read for the near-field dense clouds' width")
        out[f"local_weather (all but {'; '.join(read)})" if read else "local_weather"] = "zones"
    if sc.zones is not None:
        out["zones"] = "zones"
    if mode == "run":
        if sc.plans:
            out["plans"] = "compare"
        if sc.ensemble is not None:
            out["ensemble"] = "compare"
    else:
        if sc.shelter is not None:
            # compare's shelter orders are plan measures (type: shelter), with their own air changes and compliance
            out["shelter (compare: give a plan a shelter measure)"] = "run and zones"
        if sc.receptors.population_raster is not None:
            # compare counts people at its receptors; the raster's people in the cells past each AEGL are run's
            # (people_above_aegl.csv) and zones' (it had been read by neither compare nor its ignored line; badinput)
            out["receptors.population_raster"] = "run and zones"
    for i, rel in enumerate(sc.releases):
        # a point release's vapour temperature and dense_gas set its near-field dense cloud (run_near_field.dense_cloud)
        no_cloud = sc.near_field.distance_km <= 0 or getattr(rel, "stack", None) is not None
        if rel.type == "point" and (no_cloud or rel.dense_gas == "off"):
            if rel.temperature_c is not None:  # the vapour's temperature sets only the dense cloud's criterion
                out[f"releases.{i}.temperature_c"] = "zones"
        if rel.type == "point" and no_cloud:
            if rel.dense_gas != "auto":
                out[f"releases.{i}.dense_gas"] = "zones"
    out.update(_unread_here(sc, mode))
    if mode == "compare":
        # run's sheltered figures and zones' threat at a point read a point's own building; compare's shelter
        # orders are plan measures with their own air changes, as it ignores the top-level shelter's
        for k, p in enumerate(sc.receptors.points):
            if p.air_changes_per_hour is not None:
                out[f"receptors.points.{k}.air_changes_per_hour (compare: a plan's shelter measure sets the air "
                    "changes)"] = "run and zones"
    return out


def _changed(model: object, name: str) -> bool:
    """Whether key ``name`` of a section (``sc.met``, ``sc.turbulence``) is not at its default (given, as
    :func:`ignored_keys` counts a section; a file giving the default itself is taken as not giving it)."""
    return bool(getattr(model, name) != type(model).model_fields[name].default)  # type: ignore[attr-defined]


def one_level_winds(sc: Scenario) -> bool:
    """Whether ``sc``'s winds are read at one level whatever the met file holds (a uniform wind, the
    climatology at one level, ``vertical: single`` or ``level_hpa``): the log law below the lowest level
    and a boundary layer from the met are then not used (:func:`plumecast.run_winds.scenario_winds`)."""
    m = sc.met
    if m.source == "uniform" or m.vertical == "single" or m.level_hpa is not None:
        return True
    if m.source == "climatology" and m.vertical is None:
        h = float(sc.turbulence.mixing_height_m)  # a release above it reads the climatology's three levels
        return not any(float(getattr(r, "height_m", 0.0) or 0.0) > h for r in sc.releases)
    return False


def _unread_here(sc: Scenario, mode: Literal["run", "compare"]) -> dict[str, str]:
    """Keys of ``sc`` that ``mode`` reads but not with the rest of this scenario, each with the reason (no
    mode reads them then: they map to ""): ``met.month`` beside a met file or a uniform wind,
    ``met.roughness_length_m`` with winds at one level, ``turbulence.kz_free_m2_s`` under a constant boundary
    layer, ``shelter`` in a run without receptors (audit 43, #4: each had been dropped without a word). A met
    file read at one level, or without a boundary layer, only tells at run time (:func:`unused_met_lines`)."""
    out: dict[str, str] = {}
    m = sc.met
    if m.month is not None and m.source != "climatology":
        out[f"met.month (read with source: climatology; the {'file' if m.source == 'file' else 'uniform'} winds "
            "are not a month's)"] = ""
    if _changed(m, "roughness_length_m") and one_level_winds(sc):
        out["met.roughness_length_m (the log law below the lowest level serves winds on levels; these are read at "
            "one level)"] = ""
    constant = m.source != "file" or m.boundary_layer == "constant" or m.vertical == "single" or m.level_hpa is not None
    if _changed(sc.turbulence, "kz_free_m2_s") and constant:
        out["turbulence.kz_free_m2_s (used above a boundary layer from the met; this run's is constant: "
            "turbulence.mixing_height_m and kz_m2_s)"] = ""
    r = sc.receptors
    if mode == "run" and sc.shelter is not None and r.cities is None and not r.points and r.csv is None:
        out["shelter (no receptors: the sheltered figures are the consequence table's, at receptors)"] = ""
    return out


def unused_met_lines(sc: Scenario, levels: bool, has_boundary_layer: bool) -> list[str]:
    """A line for a met key that a met file, as read, leaves unused, and :func:`ignored_keys` cannot
    tell before it is read: ``met.roughness_length_m`` where the file is read at one level,
    ``turbulence.kz_free_m2_s`` where it gives no boundary layer."""
    m = sc.met
    if m.source != "file":
        return []
    out = []
    if _changed(m, "roughness_length_m") and not levels and not one_level_winds(sc):
        out.append(f"met.roughness_length_m {m.roughness_length_m:g} m not used: the met file is read at one level "
                   "(the log law below the lowest level serves winds on levels)")
    constant = m.boundary_layer == "constant" or m.vertical == "single" or m.level_hpa is not None
    if _changed(sc.turbulence, "kz_free_m2_s") and not has_boundary_layer and not constant:
        out.append(f"turbulence.kz_free_m2_s {sc.turbulence.kz_free_m2_s:g} m2 s-1 not used: the met gives no "
                   "boundary layer (it serves above one), so the mixing height and K_z are the scenario's")
    return out


def _dense_capable(sc: Scenario) -> bool:
    """Whether a point release of ``sc`` may be a dense cloud in the near field of ``run`` and
    ``compare`` (:func:`plumecast.run_near_field.dense_cloud`: no stack, ``dense_gas`` not off)."""
    return sc.near_field.distance_km > 0 and any(
        r.type == "point" and getattr(r, "stack", None) is None and r.dense_gas != "off" for r in sc.releases)


def _past_the_end(sc: Scenario) -> list[str]:
    """A line per release whose own end (``stop_h``, ``duration_s``) lies after the end of the run
    and of any ``termination_h``: what it emits after the run is not modelled (a run of 1 h of a
    1.5-h release had reported 43 t released of 65 t without a word; honest-numbers audit)."""
    run_h = float(sc.run_hours)
    term = sc.termination_h
    key = "duration_h" if sc.duration_h is not None else "end"
    out = []
    for i, rel in enumerate(sc.releases):
        lasts = getattr(rel, "duration_known_s", None)
        if lasts is None or (term is not None and term <= run_h):
            continue
        ends_h = float(rel.start_h) + float(lasts) / 3600.0
        if term is not None:
            ends_h = min(ends_h, float(term))
        if ends_h > run_h + 1e-9:
            name = getattr(rel, "name", None) or f"releases.{i}"
            amount = getattr(rel, "amount_kg", None)
            share = (f" ({(ends_h - run_h) * 3600.0 / float(lasts):.0%} of its amount)"
                     if amount is not None and lasts > 0 else "")
            out.append(f"{name} emits until {ends_h:g} h, after the end of the run ({key}: {run_h:g} h): what it "
                       f"emits after that{share} is not modelled, and the figures cover the run only; lengthen "
                       f"{key} to follow it")
    return out


def ignored_line(ignored: dict[str, str], mode: Mode) -> str | None:
    """One line for the user: the keys ``mode`` did not read, grouped by the modes
    that read them (:func:`ignored_keys`); None when it read everything given."""
    if not ignored:
        return None
    by: dict[str, list[str]] = {}
    for key, who in ignored.items():
        by.setdefault(who, []).append(key)
    # "": read by no mode with this scenario, the key says why
    return f"{mode} ignored: " + "; ".join(f"{', '.join(keys)} (read by {who})" if who else ", ".join(keys)
                                           for who, keys in by.items())


def time_written(raw: object) -> str:
    """How the file wrote a date-time (``start``, ``end``, ``issued_at``): ``"date"`` a date
    alone (``2026-01-20``, read as 00:00 UTC), ``"no zone"`` a date and time without a time
    zone (read as UTC), ``"zone"`` with its ``Z`` or offset.

    >>> time_written("2026-01-20"), time_written("2026-01-20T06:00"), time_written("2026-01-20T06:00+01:00")
    ('date', 'no zone', 'zone')
    """
    if (isinstance(raw, _dt.date) and not isinstance(raw, _dt.datetime)) or (
            isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip())):
        return "date"
    if (isinstance(raw, _dt.datetime) and raw.tzinfo is None) or (
            isinstance(raw, str) and not re.search(r"(Z|[+-]\d{2}(:?\d{2})?)$", raw.strip(), re.IGNORECASE)):
        return "no zone"
    return "zone"


#: why each date-time key wants its time of day, and its time zone, for the notes on how it was read
_DATE_USE = {"start": "the run starts at the time meant (clock times and countdowns follow it)",
             "end": "the run ends at the time meant",
             "issued_at": "the countdowns count from when the forecast is issued"}
_ZONE_USE = {"start": "clock times and countdowns are not off by the difference",
             "end": "the run does not end off by the difference",
             "issued_at": "the countdowns are not off by the difference"}


def time_notes(sc: Scenario, written: dict[str, str]) -> list[str]:
    """A line per date-time key (``start``, ``end``, ``issued_at``) the file wrote without a
    time zone (read as UTC) or without a time of day (read as 00:00 UTC: ``start: '2026-01-20'``
    had run from midnight without a word; audit 43, #3); ``written``: :func:`time_written` of each."""
    out = []
    for key in ("start", "end", "issued_at"):
        t = getattr(sc, key)
        how = written.get(key, "zone")
        if t is None or how == "zone":
            continue
        if how == "date":
            day = t.date().isoformat()
            out.append(f"{key} {day} has no time of day and no time zone and is read as 00:00 UTC (midnight); "
                       f"write the time and its zone, e.g. {day}T06:00:00Z, so that {_DATE_USE[key]}")
        else:
            out.append(f"{key} {t.isoformat(timespec='minutes')} has no time zone and is read as UTC; write it "
                       f"with Z or an offset (e.g. +01:00) so that {_ZONE_USE[key]}")
    return out


def run_notes(sc: Scenario, written: dict[str, str]) -> list[str]:
    """What a person running ``sc`` should know that is not an error: ``start``, ``end`` or
    ``issued_at`` read as UTC for want of a time zone or as midnight for want of a time of day
    (:func:`time_notes`; ``written``: how the file wrote each), an ``issued_at`` at or
    after the end of the forecast (every countdown passed: a slip of the date), a release
    outside the output grid (its gas is moved but not mapped there), the columns of
    the receptor CSV that are not read and a CSV without population
    (:func:`plumecast.receptors.csv_note`)."""
    from plumecast.receptors import csv_note

    out = time_notes(sc, written)
    g = sc.output.grid
    for i, rel in enumerate(sc.releases):
        lat, lon = getattr(rel, "lat", None), getattr(rel, "lon", None)
        if lat is None or lon is None:
            continue
        if not g.contains(float(lat), float(lon)):
            name = getattr(rel, "name", None) or f"releases.{i}"
            out.append(f"{name} at {float(lat):g} N, {float(lon):g} E is outside output.grid "
                       f"({g.lat_min:g}..{g.lat_max:g} N, {g.lon_min:g}..{g.lon_max:g} E): concentration.nc "
                       "and the map show its gas only where it enters the grid")
    out += _past_the_end(sc)
    end = sc.start + _dt.timedelta(hours=float(sc.run_hours))
    if sc.issued_at is not None and sc.issued_at >= end:
        out.append(f"issued_at {sc.issued_at.isoformat(timespec='minutes')} is at or after the end of the forecast "
                   f"({end.isoformat(timespec='minutes')}): every countdown has passed, and a place the gas had not "
                   "reached reads '—' for a forecast already over; check the date and time")
    note = csv_note(sc.receptors.csv) if sc.receptors.csv is not None else None
    if note:
        out.append(note)
    out += receptors_off_grid(sc)
    return out


def receptors_off_grid(sc: Scenario) -> list[str]:
    """A line naming the user's receptors (``points``, the CSV's rows) outside ``output.grid``, with
    their distance from the nearest release, and whether swapping their lat and lon would bring
    them inside: lat 6.9, lon 51.5 for 51.5 N 6.9 E had put a receptor in Somalia without a word,
    while a release outside the grid gets a note (audit 43)."""
    from plumecast.errors import DataFileError
    from plumecast.receptors import read_receptor_csv

    g = sc.output.grid
    places = [(p.name, p.lat, p.lon) for p in sc.receptors.points]
    if sc.receptors.csv is not None:
        try:
            rows = read_receptor_csv(sc.receptors.csv)
        except DataFileError:  # refused where the receptors are read, with its line
            rows = None
        if rows is not None:
            places += [(str(n), float(la), float(lo)) for n, la, lo in zip(rows.name, rows.lat, rows.lon, strict=True)]
    off = [(n, la, lo) for n, la, lo in places if not g.contains(float(la), float(lo))]
    if not off:
        return []
    sources = [(float(la), float(lo)) for r in sc.releases
               if (la := getattr(r, "lat", None)) is not None and (lo := getattr(r, "lon", None)) is not None]

    def said(name: str, lat: float, lon: float) -> str:
        far = (f", {min(_km(lat, lon, a, b) for a, b in sources):,.0f} km from the nearest release"
               if sources else "")
        swap = " (lat and lon swapped?)" if abs(lon) <= 90.0 and g.contains(lon, lat) else ""
        return f"{name} at {_lat_lon(lat, lon)}{far}{swap}"

    more = f" and {len(off) - 3} more" if len(off) > 3 else ""
    return [f"{len(off)} receptor(s) outside output.grid (lat {g.lat_min:g}..{g.lat_max:g}, lon {g.lon_min:g}.."
            f"{g.lon_max:g}): {'; '.join(said(*p) for p in off[:3])}{more}; their figures are computed, but the "
            "map does not show them; check their coordinates"]


def _lat_lon(lat: float, lon: float) -> str:
    """``8.5 N, 50.2 E`` / ``33.9 S, 18.4 E``: a place with its hemispheres (``-33.9 N`` had read as north)."""
    return f"{abs(lat):g} {'S' if lat < 0 else 'N'}, {abs(lon):g} {'W' if lon < 0 else 'E'}"


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance [km] (haversine, the mean Earth radius)."""
    from plumecast.units import EARTH_RADIUS_M

    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_M / 1000.0 * math.asin(min(1.0, math.sqrt(h)))
