"""``plumecast zones SCENARIO``: threat zones of a local release (how far, who, how many)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from plumecast.cli.common import console


def _fmt(value: float, spec: str = ".3g") -> str:
    """A number, or "n/a" for NaN (a missing AEGL or probit is never shown as 0)."""
    return "n/a" if not math.isfinite(value) else format(value, spec)


def _distance_km(dist_m: float) -> str:
    if dist_m <= 0:
        return "not reached"
    if dist_m >= 99_000:
        return f"> {dist_m / 1000:.0f}"
    return f"{dist_m / 1000:.2f}"


def _zone_table(result: Any) -> Table:
    sc = result.scenario
    table = Table(
        title=f"{sc.name}: {result.agent.name}, PG class {result.setup.pg_class}, "
        f"{sc.meteorology.wind_speed_m_s:g} m/s from {sc.meteorology.wind_from_deg:g}°"
    )
    # headers and cells are escaped: rich would read "[ppm]" as a style tag and drop it
    for col in (
        "level",
        "threshold at tip [ppm]",
        "AEGL exposure [min]",
        "max downwind distance [km]",
        "area [km²]",
        "people inside [people]",
    ):
        table.add_column(escape(col), justify="left" if col == "level" else "right")
    for row in result.table():
        people = row.get("population_inside")
        table.add_row(
            escape(row["level"]),
            _fmt(row["threshold_ppm"]),
            "fixed level" if not math.isfinite(row["exposure_duration_min"]) else f"{row['exposure_duration_min']:.1f}",
            _distance_km(row["max_distance_m"]),
            f"{row['area_km2']:.3g}",
            "—" if people is None else f"{people:,.0f}",
        )
    return table


def _receptor_table(rec: Any, zone_names: list[str]) -> Table:
    load_units = str(rec["toxic_load"].attrs.get("units", "n/a"))
    rt = Table(title="receptors in the zones or the wind-direction uncertainty sector")
    for col in (
        "receptor",
        "zone",
        "population [people]",
        "downwind [km]",
        "peak [ppm]",
        "peak % of lethal level (AEGL-3)",
        f"toxic load [{load_units}]",
        "probit",
        "deaths outdoors [people]",
        "deaths sheltered [people]",
    ):
        rt.add_column(escape(col), justify="left" if col in ("receptor", "zone") else "right")
    for i in range(rec.sizes["receptor"]):
        k = int(rec.zone_index[i])
        rt.add_row(
            escape(str(rec.receptor.values[i])),
            escape(zone_names[k]) if k >= 0 else "sector only",
            f"{float(rec.population[i]):,.0f}",
            f"{float(rec.x_m[i]) / 1000:.2f}",
            _fmt(float(rec.peak_concentration_ppm[i])),
            _fmt(float(rec.peak_percent_lethal_level[i])),
            _fmt(float(rec.toxic_load[i])),
            "-inf (no exposure)" if float(rec.probit[i]) == -math.inf else _fmt(float(rec.probit[i]), ".2f"),
            _fmt(float(rec.fatalities[i]), ",.1f"),
            _fmt(float(rec.fatalities_sheltered[i]), ",.1f"),
        )
    return rt


def register(app: typer.Typer) -> None:
    """Add the ``zones`` command to ``app``."""

    @app.command("zones")
    def zones_command(
        scenario: Path = typer.Argument(..., help="local scenario YAML (see docs/local_scale.md)"),
        out: Path = typer.Option(Path("."), "-o", "--output", help="folder for zones.geojson/.kml/.png"),
        no_receptors: bool = typer.Option(False, "--no-receptors", help="skip cities / receptors"),
    ) -> None:
        """Footprint of each level of concern, its maximum downwind distance, who is inside and how many may die."""
        from plumecast.zones import compute_zones, load_local_scenario, write_outputs

        sc = load_local_scenario(scenario)
        result = compute_zones(sc, consequences=not no_receptors)
        console.print(_zone_table(result))
        console.print(
            f"wind-direction uncertainty: ±{result.uncertainty_half_angle_deg:g}° about the downwind direction"
        )
        rec = result.receptors
        if rec is not None:
            console.print(_receptor_table(rec, [z.level.name for z in result.zones]))
            shelter = sc.shelter
            ach = shelter.air_changes_per_hour if shelter else 0.5
            comp = shelter.compliance_fraction if shelter else 1.0
            console.print(
                f"expected deaths, all receptors: {_fmt(float(rec.attrs['total_fatalities']), ',.1f')} outdoors; "
                f"{_fmt(float(rec.attrs['total_fatalities_sheltered']), ',.1f')} with shelter-in-place "
                f"({ach:g} air changes/h, {comp:.0%} compliance)",
                highlight=False,
            )
        elif result.receptors_searched:
            console.print("receptors: none inside the zones or the uncertainty sector (0 people)")
        else:
            console.print("receptors: not searched (--no-receptors or none configured)")
        for w in result.warnings:
            console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
        for p in write_outputs(result, out):
            console.print(f"wrote {escape(str(p))}", highlight=False)
