"""``plumecast validate prairie-grass|dense-gas``: score the local schemes on field trials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from plumecast.cli.common import console, fold, output_path

_CRITERIA = "criteria: FAC2 ≥ 0.5, |FB| ≤ 0.3, NMSE ≤ 1.5; FB > 0 and MG > 1: under-prediction"


def _row(s: Any) -> list[str]:
    return [str(s.n), f"{s.fac2:.2f}", f"{s.fb:+.2f}", f"{s.nmse:.2f}", f"{s.mg:.2f}", f"{s.vg:.2f}"]


def _scheme_tables(results: dict[str, Any], ranking: list[str]) -> list[Table]:
    from plumecast.validation.schemes import SCHEMES

    tables = []
    for title, attr in (("arc maximum concentration", "scores_max"), ("crosswind-integrated concentration", "scores_cy")):
        table = Table(title=f"{title}, all arcs, per scheme (best validated first; {_CRITERIA})")
        for col in ("scheme", "zones can use it", "n arcs", "FAC2", "FB", "NMSE", "MG", "VG", "meets all 3"):
            table.add_column(col, justify="left" if col == "scheme" else "right")
        for name in ranking:
            s = getattr(results[name], attr)["all"]
            table.add_row(
                name,
                "yes" if SCHEMES[name].zones_usable else "no",
                *_row(s),
                "yes" if s.passes_chang_hanna() else "no",
            )
        tables.append(table)
    return tables


def _distance_tables(result: Any) -> list[Table]:
    tables = []
    for title, sc in (("arc maximum concentration", result.scores_max), ("crosswind-integrated concentration", result.scores_cy)):
        table = Table(title=f"{result.scheme}: {title} ({_CRITERIA})")
        # scores are dimensionless; the arc label carries its unit ("50 m"); n counts arcs
        for col in ("arc distance", "n arcs", "FAC2", "FB", "NMSE", "MG", "VG"):
            table.add_column(col, justify="right")
        for key, s in sc.items():
            table.add_row(key, *_row(s))
        tables.append(table)
    return tables


def _lng_arc_tables() -> list[Table]:
    """Arc-maximum tables of the LNG spill trials (:mod:`plumecast.validation.lng_arcs`)."""
    from plumecast.numbers import round_sig
    from plumecast.validation.lng_arcs import evaluate_arcs

    res = evaluate_arcs()
    pairs = Table(title="LNG spills: arc-maximum methane (mole %), measured vs plumecast zones")
    for col in ("trial", "class", "rate kg/s", "10-m wind m/s", "distance m", "observed %", "predicted %", "model"):
        pairs.add_column(col, justify="left" if col in ("trial", "model") else "right")
    for r in res.results:
        for i, (x, o, p) in enumerate(zip(r.distances_m, r.observed_pct, r.predicted_pct, strict=True)):
            head = [r.trial.name, r.pg_class, f"{round_sig(r.trial.rate_kg_s, 3):g}",
                    f"{round_sig(r.trial.wind_10m_m_s):g}"] if i == 0 else ["", "", "", ""]
            pairs.add_row(*head, f"{x:g}", f"{round_sig(o):g}", f"{round_sig(p):g}", r.model if i == 0 else "")
    sc = Table(title=f"scores of the arc maxima, per trial and over all arcs ({_CRITERIA})")
    for col in ("trial", "n arcs", "FAC2", "FB", "NMSE", "MG", "VG"):
        sc.add_column(col, justify="left" if col == "trial" else "right")
    for r in res.results:
        sc.add_row(r.trial.name, *_row(r.scores))
    sc.add_row("all trials", *_row(res.overall))
    return [pairs, sc]


def register(app: typer.Typer) -> None:
    """Add the ``validate`` sub-app (commands ``prairie-grass`` and ``dense-gas``) to ``app``."""
    validate_app = typer.Typer(help="Validate plumecast against field measurements.", no_args_is_help=True)

    @validate_app.command("prairie-grass")
    def prairie_grass_command(
        data_dir: Path | None = typer.Argument(
            None, help="folder with runs.csv and arcs.csv (default: the copy shipped with plumecast)"
        ),
        out: Path = typer.Option(Path("plumecast-validation"), "-o", "--output", parser=output_path, metavar="PATH",
                                 help="folder for the scatter plots, pairs and scores (created if needed)"),
        force: bool = typer.Option(False, "--force", help="replace the results already in the folder"),
        scheme: str = typer.Option(
            "all",
            "--scheme",
            help="dispersion scheme to score: all, similarity, briggs-rural-golder, briggs-rural-turner, "
            "briggs-urban-golder, briggs-urban-turner (see docs/validation.md)",
        ),
        night_cloud_octas: float = typer.Option(
            0.0, "--night-cloud-octas", min=0.0, max=8.0,
            help="cloud cover assumed at night by the Turner schemes (not in the archive) [octas]",
        ),
        plots: bool = typer.Option(True, "--plots/--no-plots", help="write a scatter PNG per scheme"),
        so2_correction: bool = typer.Option(
            False, "--so2-correction", help="multiply observations by the archive's SO2 loss factors"
        ),
    ) -> None:
        """Arc-maximum and crosswind-integrated concentrations vs observations (Chang & Hanna 2004 scores)."""
        from plumecast.validation.prairie_grass import evaluate_schemes, rank_schemes, write_outputs
        from plumecast.validation.schemes import SCHEMES

        if scheme != "all" and scheme not in SCHEMES:
            raise typer.BadParameter(
                f"{scheme!r} is not a scheme; expected all or one of {', '.join(SCHEMES)}", param_hint="--scheme"
            )
        names = list(SCHEMES) if scheme == "all" else [scheme]
        from plumecast.fileio import OutputSet

        # the output folder is checked (and locked) before the scores are computed: a file given as -o had been
        # refused after the whole table was printed (badinput audit)
        with OutputSet(out, command="validate prairie-grass", force=force) as outset:
            results = evaluate_schemes(data_dir, so2_correction, names, night_cloud_octas)
            first = next(iter(results.values()))
            console.print(
                f"Project Prairie Grass: {len(first.runs_used)} runs with meteorology, "
                f"{first.run_id.size} arcs; skipped (no meteorology): "
                f"{', '.join(map(str, first.runs_skipped)) or 'none'}",
                highlight=False,
            )
            for name in names:
                console.print(f"  {name}: {escape(SCHEMES[name].description)}; inputs: {escape(SCHEMES[name].inputs)}",
                              highlight=False)
            if len(results) == 1:
                for table in _distance_tables(first):
                    console.print(fold(table))
            else:
                ranking = rank_schemes(results)
                for table in _scheme_tables(results, ranking):
                    console.print(fold(table))
                usable = [n for n in ranking if SCHEMES[n].zones_usable]
                console.print(
                    f"best validated: {ranking[0]}; best that plumecast zones can run: "
                    f"{usable[0] if usable else 'none'}",
                    highlight=False,
                )
            written = write_outputs(results, outset.path, plots=plots)
        for p in written:
            console.print(f"wrote {escape(str(outset.final_path(p)))}", highlight=False)

    @validate_app.command("dense-gas")
    def dense_gas_command(
        data: Path | None = typer.Argument(
            None, help="trial table (default: the shipped Burro LFL distances, plumecast/data/dense_gas); the "
            "shipped LNG spill arcs are scored after it either way"
        ),
    ) -> None:
        """Distance to the LFL of dense-gas field trials, and arc-maximum concentrations of 10 LNG spills, vs the
        zones model (FAC2, FB, NMSE)."""
        from plumecast.numbers import round_sig
        from plumecast.validation.dense_gas import BURRO_ROUGHNESS_M, evaluate

        res = evaluate(data)
        obs_sets = list(res.scores)
        table = Table(title="distance to the LFL (5 % methane), measured vs plumecast zones")
        for col in ("trial", "class", *[f"observed ({k}) m" for k in obs_sets], "predicted m", "model"):
            table.add_column(col, justify="left" if col in ("trial", "model") else "right")
        for t, p, m in zip(res.trials, res.predicted_m, res.models, strict=True):
            table.add_row(t.name, t.stability, *[f"{round_sig(t.observed_m[k]):g}" for k in obs_sets], f"{round_sig(p):g}", m)
        console.print(fold(table))
        scores = Table(title=f"scores of the predicted distances ({_CRITERIA})")
        for col in ("observations", "n", "FAC2", "FB", "NMSE", "MG", "VG"):
            scores.add_column(col, justify="left" if col == "observations" else "right")
        for k, s in res.scores.items():
            scores.add_row(k, *_row(s))
        console.print(fold(scores))
        if data is None:  # the shipped table's own caveats (a user's table is described by its own columns)
            console.print(
                f"winds measured below 10 m carried to 10 m with a neutral log profile (z0 = {BURRO_ROUGHNESS_M:g} m); "
                "two trials only, and the workbook was fitted to data that include LNG spills: not an independent "
                "test (src/plumecast/data/dense_gas/PROVENANCE.md)",
                highlight=False,
            )
        else:
            console.print(f"{len(res.trials)} trials of {escape(str(data))}: the observations are its columns "
                          "lfl_distance_phmsa_m and lfl_distance_witlox_m, labelled by the sources of the shipped "
                          "table's (PHMSA 2023, Witlox 2013)", highlight=False)
            console.print("the shipped LNG spill trials follow (the same every time; src/plumecast/data/dense_gas)",
                          highlight=False)
        for lng_table in _lng_arc_tables():
            console.print(fold(lng_table))
        console.print(
            "LNG spills: inputs from the FDS validation suite (firemodels/fds, firemodels/exp; NFPA/FPRF LNG model "
            "evaluation database), 10-m wind from the measured profile, class from the Obukhov length (Golder); "
            "Falcon 1/3/4 left out (vapour fence around the spill, which the model has no way to represent); "
            "src/plumecast/data/dense_gas/PROVENANCE.md",
            highlight=False,
        )

    app.add_typer(validate_app, name="validate")
