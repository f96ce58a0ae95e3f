"""``plumecast zones SCENARIO``: threat zones of a local release (how far, who, how many)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from plumecast.cli.common import console


def register(app: typer.Typer) -> None:
    """Add the ``zones`` command to ``app``."""

    @app.command("zones")
    def zones_command(
        scenario: Path = typer.Argument(..., help="local scenario YAML (see docs/local_scale.md)"),
        out: Path = typer.Option(Path("."), "-o", "--out", help="folder for zones.geojson/.kml/.png"),
        no_receptors: bool = typer.Option(False, "--no-receptors", help="skip cities / receptors"),
    ) -> None:
        """Footprint of each level of concern, its maximum downwind distance, and who is inside."""
        from plumecast.zones import compute_zones, load_local_scenario, write_outputs

        sc = load_local_scenario(scenario)
        result = compute_zones(sc, consequences=not no_receptors)
        table = Table(
            title=f"{sc.name}: {result.agent.name}, PG class {result.setup.pg_class}, "
            f"{sc.meteorology.wind_speed_m_s:g} m/s from {sc.meteorology.wind_from_deg:g}°"
        )
        for col in ("level", "threshold [ppm]", "max downwind distance", "area [km²]", "people inside"):
            table.add_column(col)
        for row in result.table():
            dist = row["max_distance_m"]
            dist_txt = "not reached" if dist <= 0 else (f"> {dist / 1000:.0f} km" if dist >= 99_000 else f"{dist / 1000:.2f} km")
            people = row.get("population_inside")
            table.add_row(
                row["level"],
                f"{row['threshold_ppm']:.3g}",
                dist_txt,
                f"{row['area_km2']:.3g}",
                "—" if people is None else f"{people:,.0f}",
            )
        console.print(table)
        console.print(
            f"wind-direction uncertainty: ±{result.uncertainty_half_angle_deg:g}° about the downwind direction"
        )
        rec = result.receptors
        if rec is not None:
            rt = Table(title="receptors in the zones or the uncertainty sector")
            for col in ("receptor", "population", "distance [km]", "peak [ppm]", "% of AEGL-3", "expected deaths"):
                rt.add_column(col)
            for i in range(rec.sizes["receptor"]):
                rt.add_row(
                    str(rec.receptor.values[i]),
                    f"{float(rec.population[i]):,.0f}",
                    f"{float(rec.x_m[i]) / 1000:.2f}",
                    f"{float(rec.peak_ppm[i]):.3g}",
                    f"{float(rec.percent_of_aegl3[i]):.3g}",
                    f"{float(rec.expected_fatalities[i]):,.1f}",
                )
            console.print(rt)
            console.print(f"expected fatalities, all receptors: {float(rec.expected_fatalities.sum()):,.1f}")
        for w in result.warnings:
            console.print(f"[yellow]warning:[/] {w}", highlight=False)
        for p in write_outputs(result, out):
            console.print(f"wrote {p}")
