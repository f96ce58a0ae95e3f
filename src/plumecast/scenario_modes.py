"""The one scenario language: which mode (``run``, ``compare``, ``zones``) reads
which section of a scenario, and the line that tells the user what a mode left
unread. Re-exported by :mod:`plumecast.scenario`.
"""

from __future__ import annotations

import datetime as _dt
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
    for k, p in enumerate(sc.receptors.points):
        if p.air_changes_per_hour is not None:
            out[f"receptors.points.{k}.air_changes_per_hour"] = "zones"
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
    return f"{mode} ignored: " + "; ".join(f"{', '.join(keys)} (read by {who})" for who, keys in by.items())


def run_notes(sc: Scenario, start_zone_given: bool) -> list[str]:
    """What a person running ``sc`` should know that is not an error: a ``start``
    read as UTC for want of a time zone (``start_zone_given`` False), an ``issued_at`` at or
    after the end of the forecast (every countdown passed: a slip of the date), a release
    outside the output grid (its gas is moved but not mapped there), the columns of
    the receptor CSV that are not read and a CSV without population
    (:func:`plumecast.receptors.csv_note`)."""
    from plumecast.receptors import csv_note

    out = []
    if not start_zone_given:
        out.append(f"start {sc.start.isoformat(timespec='minutes')} has no time zone and is read as UTC; "
                   "write it with Z or an offset (e.g. +01:00) so that clock times and countdowns are not off "
                   "by the difference")
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
    return out
