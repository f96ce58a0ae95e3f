"""``plumecast zones SCENARIO``: threat zones of a local release (how far, who, how many)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from plumecast.cli.common import console, fold, output_path
from plumecast.numbers import people, people_range, plain


def _fmt(value: float, spec: str = "") -> str:
    """A number to two significant figures in plain notation (``spec``: a format instead),
    or "n/a" for NaN (a missing AEGL or probit is never shown as 0)."""
    if not math.isfinite(value):
        return "n/a"
    return format(value, spec) if spec else plain(value, 2)


def _km(metres: float) -> str:
    """A distance in km to two significant figures (the model supports no more);
    under 1 cm it is 0 (a point on the plume axis comes back from the lon/lat
    projection 1e-13 m off it, rounding, not an offset)."""
    from plumecast.nearfield.zones.export import sig_text

    return "0" if abs(metres) < 0.01 else sig_text(metres / 1000.0)


def _peak_ppm(ppm: float, floor_ppm: float) -> str:
    """A peak concentration at a point to two significant figures; below the agent's
    onset floor (1 % of its lowest 8-h AEGL, where exposure has not begun) it is
    ``< floor``: a Gaussian tail of 1e-12 ppm is not a figure the model supports."""
    from plumecast.nearfield.zones.export import sig_text, threshold_text

    if 0 < ppm < floor_ppm:
        return f"< {threshold_text(floor_ppm)}"
    return sig_text(ppm)


def _minutes(seconds: float) -> str:
    """A time in minutes to two significant figures; "—" when there is none (NaN)."""
    from plumecast.nearfield.zones.export import sig_text

    return "—" if not math.isfinite(seconds) else sig_text(seconds / 60.0)


def _after_release(when: Any) -> str:
    """A shelter time in words: seconds after the release start, or a date and time."""
    if isinstance(when, int | float):
        return "the release start" if when <= 0 else f"{plain(when / 60.0, 3, trim=True)} min after the release start"
    return str(when)


def shelter_words(shelter: Any) -> str:
    """The shelter-in-place the sheltered deaths assume, in words: air changes,
    compliance, and when people go inside and come out (the scenario's
    ``shelter.start_h`` / ``end_h``; by default from the release start until the
    cloud has passed each place), as the figures use them."""
    from plumecast.shelter import Shelter

    s = shelter if shelter is not None else Shelter()
    start = "from " + _after_release(0.0 if s.start is None else s.start)
    if s.end is None or isinstance(s.end, list):  # a list: each place's end, when its cloud has passed
        end = "until the cloud has passed"
    else:
        end = (f"until {_after_release(s.end)}, then ventilated at {s.ventilation_air_changes_per_hour:g} "
               "air changes/h")
    return f"{s.air_changes_per_hour:g} air changes/h, {s.compliance_fraction:.0%} compliance, {start} {end}"


def _with_range(mid: float, lo: float, hi: float) -> str:
    """``mid`` to two significant figures, then its range where its ends read differently
    (:func:`plumecast.numbers.people_range`, as ``run`` gives the probit sets' range). People
    and deaths read as in ``run`` and ``compare``: "< 1" below one, where zones had written
    fractions of a death ("0.042", "< 0.01") until session 35 (outputs audit)."""
    return people(mid) if not math.isfinite(mid) else people_range(mid, lo, hi)


def _deaths(rec: Any, i: int, suffix: str) -> str:
    """Expected deaths to two significant figures, with the probit-set range where there is one."""
    mid = float(rec[f"fatalities{suffix}"][i])
    lo_name, hi_name = f"fatalities{suffix}_low", f"fatalities{suffix}_high"
    if lo_name not in rec or hi_name not in rec:
        return people(mid)
    return _with_range(mid, float(rec[lo_name][i]), float(rec[hi_name][i]))


def _total_deaths(rec: Any, suffix: str) -> str:
    """The expected deaths summed over the receptors whose figures are known, with the
    sums of the probit-set ranges (as each receptor's cell shows them)."""
    def total(name: str) -> float:
        if name not in rec:
            return math.nan
        v = np.asarray(rec[name].values, dtype=float)
        return float(v[np.isfinite(v)].sum()) if np.isfinite(v).any() else math.nan

    return _with_range(total(f"fatalities{suffix}"), total(f"fatalities{suffix}_low"),
                       total(f"fatalities{suffix}_high"))


def edge_note(result: Any) -> str:
    """The totals' clause on the cities whose disc reaches into a zone while its centre lies outside the
    zones and the sector (:func:`plumecast.nearfield.zones.assessment.edge_receptors`): their deaths are
    not computed, so the totals leave them out, by name (``""`` when there are none)."""
    from plumecast.numbers import people

    edge = getattr(result, "edge_receptors", None) or []
    if not edge:
        return ""
    named = [f"{escape(n)} ({people(p)} people, its disc reaching the {z} zone)" for n, p, z in edge]
    return (f"; not in the totals, deaths not computed: {_names(named)} (each one's centre lies outside the zones and the "
            "sector, and the figures are computed at centres; run or compare assesses a city part by part)")


def _names(names: list[str], most: int = 3) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def unknown_receptors_note(rec: Any, points: Any = None) -> str:
    """The receptors whose deaths are unknown and so not in the totals, by kind, named:
    population unknown; concentration unknown at a receptor of the table; a point given
    beyond the local model's range (not in the table: its concentration is unknown,
    never 0). ``""`` when there are none."""
    from plumecast.nearfield.zones.setup import MAX_DISTANCE_M

    parts = []
    if rec is not None:
        names = [str(n) for n in rec["receptor"].values]
        fat = np.asarray(rec["fatalities"].values, dtype=float)
        pop = np.asarray(rec["population"].values, dtype=float)
        known_c = (np.asarray(rec["concentration_known"].values).astype(bool) if "concentration_known" in rec
                   else np.isfinite(np.asarray(rec["peak_concentration"].values, dtype=float)))
        no_conc = [names[i] for i in np.flatnonzero(~np.isfinite(fat) & ~known_c)]
        no_pop = [names[i] for i in np.flatnonzero(~np.isfinite(fat) & known_c & ~np.isfinite(pop))]
        other = [names[i] for i in np.flatnonzero(~np.isfinite(fat) & known_c & np.isfinite(pop))]
        for what, which in (("population unknown", no_pop), ("concentration unknown", no_conc),
                            ("lethal fraction unknown", other)):
            if which:
                parts.append(f"{len(which)} with {what} ({_names(which)})")
    if points is not None and "in_range" in points:
        listed = set() if rec is None else {str(n) for n in rec["receptor"].values}
        near_of = points["too_near"].values if "too_near" in points else np.zeros(points.sizes["point"], bool)
        left = [(str(n), bool(close)) for n, ok, close in zip(points["point"].values, points["in_range"].values,
                                                               near_of, strict=True) if not ok and str(n) not in listed]
        far = [n for n, close in left if not close]
        near = [n for n, close in left if close]
        if far:
            parts.append(f"{len(far)} beyond the local model's {MAX_DISTANCE_M / 1000:.0f} km range, concentration "
                         f"unknown ({_names(far)})")
        if near:  # (they had been called beyond the 100 km range; review of session 40)
            parts.append(f"{len(near)} within 10 m of the release or in a dense cloud's gravity spread outside "
                         "its crosswind profile (upwind; a puff's slumping beside the source), "
                         f"concentration unknown ({_names(near)})")
    return "; ".join(parts)


def _zone_tables(result: Any, width: int | None = None) -> list[Table]:
    """The zone table in parts whose columns fit ``width`` characters, each led by the level (at 80
    columns every cell had been folded, "(extrapolate/d: 93)"; session 42); one table where ``width`` is
    None. Its thresholds, exposures and distances are written by the same functions as the map legend
    (:func:`plumecast.nearfield.zones.legend_labels`)."""
    from plumecast.nearfield.zones.export import (
        distance_text,
        exposure_text,
        sig_text,
        threshold_text,
    )
    from plumecast.table_parts import split_table

    sc = result.scenario
    title = (f"{sc.name}: {result.agent.name}, PG class {result.setup.pg_class}, "
             f"{sc.meteorology.wind_speed_m_s:g} m/s from {sc.meteorology.wind_from_deg:g}°")
    # headers and cells are escaped: rich would read "[ppm]" as a style tag and drop it
    head = ["level", "threshold at tip [ppm]", "AEGL exposure [min]", "max downwind distance [km]", "area [km²]",
            "people inside [people]", "in cities/receptors inside [people]"]
    body = []
    for row in result.table():
        if result.population_source is None:
            people_text = "unknown (no raster)"
        else:
            people_text = people(row["people_inside"])
            if row["people_unknown_area_km2"] > 0:
                people_text += f" + unknown on {plain(row['people_unknown_area_km2'], 2)} km²"
        listed = row.get("receptor_people_inside")
        if listed is None:
            listed_text = "—"
        else:
            listed_text = people(listed)
            if row["receptors_unknown_population"]:
                listed_text += f" + {row['receptors_unknown_population']} unknown"
        body.append([
            escape(row["level"]),
            threshold_text(row["threshold_ppm"]),
            exposure_text(row["exposure_duration_min"], row["fixed_level"]),
            distance_text(row["max_distance_m"]),
            sig_text(row["area_km2"]),
            escape(people_text),
            escape(listed_text),
        ])
    return split_table(escape(title), [escape(c) for c in head], body, width)


def _zone_table(result: Any) -> Table:
    """The zone table whole (:func:`_zone_tables` without a width)."""
    return _zone_tables(result)[0]


def _arrival(rec: Any, i: int, level: int, clock: tuple[Any, Any]) -> str:
    """When AEGL-``level`` is first reached at receptor ``i``, erring early (the start of the
    interval in which it is): time left from the forecast's issue and the UTC clock time where
    the scenario gives ``issued_at`` and ``start`` (``clock``), else the time after the release
    starts; "—" never, "n/a" where the agent's AEGL is missing for a duration reached there."""
    from plumecast.numbers import clock as clock_text
    from plumecast.numbers import countdown

    h = float(rec[f"hours_to_aegl{level}"].values[i])
    if not math.isfinite(h):
        if "concentration_known" in rec and not bool(rec["concentration_known"].values[i]):
            return "unknown"  # not "—" (never): its concentration is not known (review of session 40)
        known = f"aegl{level}_known" not in rec or int(rec[f"aegl{level}_known"].values[i]) == 1
        return "—" if known else "n/a"
    start, issued = clock
    if start is None:
        return f"{math.floor(h * 60.0 + 1e-9):g} min after the release starts"
    at = start + np.timedelta64(int(math.floor(h * 3600.0 + 1e-6)), "s")
    if issued is None:
        return clock_text(at)
    return f"{countdown(float((at - issued) / np.timedelta64(1, 's')))} ({clock_text(at)})"


#: the receptor table's title
RECEPTOR_TITLE = "receptors in the zones or the wind-direction uncertainty sector"


def _receptor_rows(rec: Any, zone_names: list[str], clock: tuple[Any, Any] = (None, None)
                   ) -> tuple[list[str], list[list[str]]]:
    """The receptor table's head and rows, as text."""
    load_units = str(rec["toxic_load"].attrs.get("units", "n/a"))
    head = ["receptor", "zone", "figures for", "population [people]", "distance [km]", "AEGL-2 from", "AEGL-3 from",
            "peak [ppm]", "peak % of AEGL-3", f"toxic load [{load_units}]", "probit", "deaths outdoors [people]",
            "deaths sheltered [people]"]
    body = []
    for i in range(rec.sizes["receptor"]):
        k = int(rec.zone_index[i])
        body.append([
            escape(str(rec.receptor.values[i])),
            escape(zone_names[k]) if k >= 0 else "sector only",
            "plume axis*" if bool(rec.plume_axis_assumed[i]) else "its position",
            people(float(rec.population[i])),
            # from the source (the along-wind projection had read Karlsruhe, 53 km away, as 0.32 km in calm air,
            # where its figures are the plume axis's at 53 km; zones audit, session 40)
            _km(math.hypot(float(rec.x_m[i]), float(rec.y_m[i]))),
            _arrival(rec, i, 2, clock),
            _arrival(rec, i, 3, clock),
            _fmt(float(rec.peak_concentration_ppm[i])),
            _fmt(float(rec.peak_percent_aegl3[i])),
            _fmt(float(rec.toxic_load[i])),
            "-inf (no exposure)" if float(rec.probit[i]) == -math.inf else _fmt(float(rec.probit[i]), ".2f"),
            _deaths(rec, i, ""),
            _deaths(rec, i, "_sheltered"),
        ])
    return [escape(c) for c in head], body


def _receptor_tables(rec: Any, zone_names: list[str], clock: tuple[Any, Any] = (None, None),
                     width: int | None = None) -> list[Table]:
    """The receptor table in parts whose columns fit ``width`` characters, each led by the receptor's name
    (at 80 columns its 13 columns had been folded a few characters wide, "Gel/sen/kir/che/n"; first-hour
    audit, session 40); one table where ``width`` is None."""
    from plumecast.table_parts import split_table

    head, body = _receptor_rows(rec, zone_names, clock)
    return split_table(RECEPTOR_TITLE, head, body, width, left=(0, 1))


def _receptor_table(rec: Any, zone_names: list[str], clock: tuple[Any, Any] = (None, None)) -> Table:
    """The receptor table whole (:func:`_receptor_tables` without a width)."""
    return _receptor_tables(rec, zone_names, clock)[0]


def register(app: typer.Typer) -> None:
    """Add the ``zones`` command to ``app``."""

    @app.command("zones")
    def zones_command(
        scenario: Path = typer.Argument(..., help="scenario YAML: releases and local_weather (docs/scenario.md); "
                                        "the old local format (source, release, meteorology) is still read"),
        out: Path = typer.Option(Path("plumecast-zones"), "-o", "--output", parser=output_path, metavar="PATH",
                                 help="folder for zones.geojson/.kml/.png, and threat_points.csv with receptors.points "
                                      "(created if needed)"),
        no_receptors: bool = typer.Option(False, "--no-receptors", help="skip cities / receptors"),
        force: bool = typer.Option(False, "--force", help="replace the results already in the folder"),
        release: str | None = typer.Option(None, "--release",
                                           help="name or index of the point release to model when releases has several"),
    ) -> None:
        """Footprint of each level of concern, its maximum downwind distance, who is inside and how many may die."""
        from plumecast.errors import ScenarioError
        from plumecast.fileio import OutputSet
        from plumecast.nearfield.zones import read_zones_scenario

        read = read_zones_scenario(scenario, release)
        for note in read.notes():
            console.print(escape(note), highlight=False)
        sc = read.scenario
        with OutputSet(out, command="zones", force=force) as outset:
            try:
                written = _zones_into(sc, outset.path, no_receptors, (read.release_start, read.issued),
                                      issued_from_start=read.issued_from_start)
            except ScenarioError as exc:  # the source or dense-gas model refused the release: name file and line
                raise ScenarioError(read.locate(str(exc))) from None
        for p in written:
            console.print(f"wrote {escape(str(outset.final_path(p)))}", highlight=False)


def _zones_into(sc: Any, out: Path, no_receptors: bool, clock: tuple[Any, Any] = (None, None),
                issued_from_start: bool = False) -> list[Path]:
    """Compute the zones of ``sc``, print the tables and write the files to ``out``; ``clock``:
    the release's start and the forecast's issue time (UTC, or None) for the countdowns;
    ``issued_from_start``: the scenario gives no ``issued_at`` and the issue time is its start."""
    from plumecast.nearfield.zones import compute_zones, write_outputs

    result = compute_zones(sc, consequences=not no_receptors)
    for table in _zone_tables(result, console.width):
        console.print(table)
    console.print(f"concentration model: {escape(result.model_name)}", highlight=False)
    from plumecast.nearfield.lid import lid_text

    # the lid, and where it comes from, as run's provenance names its near field's (zones had said nothing and had
    # taken none by default; audit D2)
    console.print(f"mixing layer: {escape(lid_text(result.setup.mixing_height_m, result.setup.lid_from))}: the "
                  "Gaussian plume is reflected at the lid (Turner 1970), as in run's near field", highlight=False)
    if math.isfinite(result.flammable_mass_kg):
        console.print(f"flammable mass (between LFL and UFL, the most at one time): {plain(result.flammable_mass_kg, 2)} kg",
                      highlight=False)
    if result.points is not None:
        from plumecast.consequence import onset_floor
        from plumecast.nearfield.zones.near_source import NEAR_RANGE_M
        from plumecast.nearfield.zones.points import point_summary
        from plumecast.nearfield.zones.setup import MAX_DISTANCE_M
        from plumecast.units import kg_m3_to_ppm

        floor_ppm = float(kg_m3_to_ppm(onset_floor(result.agent), result.agent.molecular_weight_g_mol))

        pt = Table(title="threat at a point (outdoor / indoor, single-zone building)")
        # minutes after the release's start (the receptors' countdowns give clock times; zones audit, session 40)
        for col in ("point", "downwind [km]", "crosswind [km]", "peak outdoor [ppm]", "at [min after release]",
                    "peak indoor [ppm]", "at [min after release]"):
            pt.add_column(escape(col), justify="left" if col == "point" else "right")
        far: list[str] = []
        near: list[str] = []
        rec = result.receptors
        # a point in the uncertainty sector has its own place here and the plume's axis in the receptor table
        on_axis = set() if rec is None or "plume_axis_assumed" not in rec else {
            str(n) for n, a in zip(rec["receptor"].values, rec["plume_axis_assumed"].values, strict=True) if a}
        marked = False
        for row in point_summary(result.points):
            if not row["in_range"]:
                (near if row.get("too_near") else far).append(str(row["point"]))
                what = "unknown (near)" if row.get("too_near") else "out of range"
                pt.add_row(escape(str(row["point"])), _km(float(row["x_m"])), _km(float(row["y_m"])),
                           what, "—", what, "—")
                continue
            cells = []
            for where in ("outdoor", "indoor"):
                peak = float(row[f"peak_{where}_ppm"])
                when = float(row[f"time_peak_{where}_s"]) if not 0 < peak < floor_ppm else math.nan
                cells += [_peak_ppm(peak, floor_ppm), _minutes(when)]
            name = str(row["point"])
            marked |= name in on_axis
            pt.add_row(escape(name) + (" †" if name in on_axis else ""), _km(float(row["x_m"])),
                       _km(float(row["y_m"])), *cells)
        console.print(fold(pt))
        if marked:
            console.print("† in the wind-direction uncertainty sector: here at its own place in the forecast wind; "
                          "the receptor table gives it the plume axis at its distance (the wind may swing onto it)",
                          highlight=False)
        if far:
            console.print(
                f"out of range: {escape(', '.join(far))} lie(s) more than {MAX_DISTANCE_M / 1000:.0f} km from the "
                "release, beyond the local model's range: concentration unknown there (NaN in threat_points.csv)",
                highlight=False,
            )
        if near:
            console.print(
                f"unknown (near): {escape(', '.join(near))} lie(s) within {NEAR_RANGE_M:g} m of the release or in a "
                "dense cloud's gravity spread outside its crosswind profile (upwind; a puff's slumping beside the "
                "source), where the model gives no concentration (a plume says nothing at its source): treat the "
                "place as inside the innermost zone that covers it (NaN in threat_points.csv)",
                highlight=False)
    from plumecast.validation.schemes import zones_scheme_note

    console.print(escape(zones_scheme_note(sc.meteorology)), highlight=False)
    console.print(
        f"wind-direction uncertainty: ±{result.uncertainty_half_angle_deg:g}° about the downwind direction"
    )
    console.print(f"people inside: {escape(result.people_basis)}", highlight=False)
    if result.population_source is None:
        console.print(
            "  for a count give receptors: {population_raster: FILE} in the scenario (WorldPop, GHS-POP or "
            "LandScan persons per cell, EPSG:4326; in the old local format population: {raster: FILE})",
            highlight=False,
        )
    rec = result.receptors
    if rec is not None:
        from plumecast.numbers import clock as clock_text

        for table in _receptor_tables(rec, [z.level.name for z in result.zones], clock, console.width):
            console.print(table)
        start, issued = clock
        console.print(
            "AEGL-2/3 from: the earliest the air can reach the level, given the exact means of the first interval "
            "that reaches it and the one before; sheltered, a building fed each interval's highest outdoor air "
            "(early, never late)"
            + (f"; time left from the forecast's issue ({clock_text(issued)}"
               + (": no issued_at, so taken as issued at start, as run and compare take it; give issued_at to "
                  "count from the moment it is issued" if issued_from_start else "")
               + ") and the UTC clock time"
               if start is not None and issued is not None else
               "; give start (and issued_at) for clock times and time left")
            + "; '—' not reached; 'n/a' the agent's AEGL is missing for a duration reached there",
            highlight=False)
        if bool(rec["plume_axis_assumed"].any()):
            console.print(
                "* in the wind-direction uncertainty sector: figures on the plume axis at that distance from the "
                "source (the wind may swing onto it); the totals add them as if it did, at every such receptor at "
                "once: an upper bound over the wind directions",
                highlight=False,
            )
        n = rec.sizes["receptor"]
        n_known = int(np.isfinite(np.asarray(rec["fatalities"].values, dtype=float)).sum())
        unknown = unknown_receptors_note(rec, result.points)
        console.print(
            f"expected deaths at {n_known} of the {n} receptor(s) in the zones or the uncertainty sector "
            "(2 significant figures, range over the published probit sets): "
            f"{_total_deaths(rec, '')} outdoors; {_total_deaths(rec, '_sheltered')} with shelter-in-place "
            f"({shelter_words(sc.shelter)})"
            + (f"; not in the totals, figures unknown: {escape(unknown)}" if unknown else "")
            + edge_note(result),
            highlight=False,
        )
    elif result.receptors_searched:
        unknown = unknown_receptors_note(None, result.points)
        console.print(
            "receptors: no city or listed receptor inside the zones or the uncertainty sector "
            "(this is not a count of people)" + (f"; figures unknown: {escape(unknown)}" if unknown else ""),
            highlight=False,
        )
    else:
        console.print("receptors: not searched (--no-receptors or none configured)")
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    written = list(write_outputs(result, out))
    if result.points is not None:
        from plumecast.fileio import write_bytes_atomic
        from plumecast.nearfield.zones.export import threat_points_csv

        # points beyond the model's range: in_range False and NaN values, never 0
        written.append(write_bytes_atomic(out / "threat_points.csv",
                                          threat_points_csv(result.points).encode("utf-8")))
    return written
