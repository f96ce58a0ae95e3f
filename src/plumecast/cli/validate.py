"""``plumecast validate prairie-grass [DIR]``: score the local model on Project Prairie Grass."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from plumecast.cli.common import console


def register(app: typer.Typer) -> None:
    """Add the ``validate`` sub-app (command ``prairie-grass``) to ``app``."""
    validate_app = typer.Typer(help="Validate plumecast against field measurements.", no_args_is_help=True)

    @validate_app.command("prairie-grass")
    def prairie_grass_command(
        data_dir: Path | None = typer.Argument(
            None, help="folder with runs.csv and arcs.csv (default: the copy shipped with plumecast)"
        ),
        out: Path = typer.Option(Path("."), "-o", "--output", help="folder for the scatter plot, pairs and scores"),
        so2_correction: bool = typer.Option(
            False, "--so2-correction", help="multiply observations by the archive's SO2 loss factors"
        ),
    ) -> None:
        """Arc-maximum and crosswind-integrated concentrations vs observations (Chang & Hanna 2004 scores)."""
        from plumecast.validation.prairie_grass import evaluate, write_outputs

        result = evaluate(data_dir, apply_so2_correction=so2_correction)
        console.print(
            f"Project Prairie Grass: {len(result.runs_used)} runs with meteorology, "
            f"{result.run_id.size} arcs; skipped (no meteorology): "
            f"{', '.join(map(str, result.runs_skipped)) or 'none'}"
        )
        for title, sc in (("arc maximum concentration", result.scores_max), ("crosswind-integrated concentration", result.scores_cy)):
            table = Table(title=f"{title} (criteria: FAC2 ≥ 0.5, |FB| ≤ 0.3, NMSE ≤ 1.5)")
            # scores are dimensionless; the arc label carries its unit ("50 m"); n counts arcs
            for col in ("arc distance", "n arcs", "FAC2", "FB", "NMSE", "MG", "VG"):
                table.add_column(col, justify="right")
            for key, s in sc.items():
                table.add_row(key, str(s.n), f"{s.fac2:.2f}", f"{s.fb:+.2f}", f"{s.nmse:.2f}", f"{s.mg:.2f}", f"{s.vg:.2f}")
            console.print(table)
        for p in write_outputs(result, out):
            console.print(f"wrote {p}")

    app.add_typer(validate_app, name="validate")
