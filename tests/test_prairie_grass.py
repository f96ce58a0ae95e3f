"""Project Prairie Grass evaluation (validation tier: runs in CI)."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from plumecast.errors import DataFileError
from plumecast.validation.metrics import scores
from plumecast.validation.prairie_grass import (
    default_data_dir,
    evaluate,
    evaluate_schemes,
    rank_schemes,
    write_outputs,
)
from plumecast.validation.schemes import (
    DOCUMENTED_ARC_MAX_SCORES,
    SCHEMES,
    solar_elevation_deg,
    turner_day_and_insolation,
    zones_scheme_note,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def all_schemes():
    """Every scheme on the shipped measurements (computed once: ~5 s)."""
    return evaluate_schemes()


def _subset(tmp_path, max_run):
    src = default_data_dir()
    for name in ("runs.csv", "arcs.csv"):
        lines = (src / name).read_text().splitlines()
        keep = [lines[0]] + [ln for ln in lines[1:] if int(ln.split(",")[0]) < max_run]
        (tmp_path / name).write_text("\n".join(keep) + "\n")
    return tmp_path


def test_metrics_hand_computed():
    s = scores([1.0, 2.0, 4.0], [1.0, 1.0, 8.0])
    assert s.fac2 == 1.0  # ratios 1, 0.5, 2: the bounds are inclusive
    assert scores([1.0, 1.0], [1.0, 2.1]).fac2 == 0.5
    assert s.fb == pytest.approx((7 / 3 - 10 / 3) / (0.5 * (17 / 3)))
    assert s.nmse == pytest.approx((0 + 1 + 16) / 3 / ((7 / 3) * (10 / 3)))
    assert s.mg == pytest.approx(np.exp((0 + np.log(2) - np.log(2)) / 3))
    assert s.vg == pytest.approx(np.exp((0 + np.log(2) ** 2 + np.log(2) ** 2) / 3))
    perfect = scores([1.0, 3.0], [1.0, 3.0])
    assert (perfect.fac2, perfect.fb, perfect.nmse, perfect.mg, perfect.vg) == (1.0, 0.0, 0.0, 1.0, 1.0)


@pytest.mark.validation
def test_prairie_grass_meets_chang_hanna():
    res = evaluate()
    assert len(res.runs_used) >= 30
    for sc in (res.scores_max, res.scores_cy):
        overall = sc["all"]
        assert overall.fac2 >= 0.5
        assert abs(overall.fb) <= 0.3
        assert overall.nmse <= 1.5
    assert set(res.scores_max) == {"all", "50 m", "100 m", "200 m", "400 m", "800 m"}


@pytest.mark.validation
def test_prairie_grass_any_directory(tmp_path):
    """The command works on another directory of the same layout (a subset of runs here)."""
    res = evaluate(_subset(tmp_path, 30))
    assert max(res.runs_used) < 30 and res.scores_max["all"].n == 5 * len(res.runs_used)
    paths = write_outputs(res, tmp_path / "out")
    assert [p.name for p in paths] == [
        "prairie_grass_pairs.csv", "prairie_grass_scores.json", "prairie_grass_scatter_similarity.png"
    ]
    assert all(p.stat().st_size > 0 for p in paths)


def test_bad_directory_is_user_error(tmp_path):
    with pytest.raises(DataFileError, match="runs.csv"):
        evaluate(tmp_path)
    shutil.copy(default_data_dir() / "runs.csv", tmp_path / "runs.csv")
    (tmp_path / "arcs.csv").write_text("run_id,distance_m\n1,50\n")
    with pytest.raises(DataFileError, match="missing column"):
        evaluate(tmp_path)


def test_cli_validate_prairie_grass(tmp_path):
    """Through the installed app, one scheme: per-distance scores with their column names, files written."""
    from typer.testing import CliRunner

    from plumecast.cli import app

    data = _subset(tmp_path, 30)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app, ["validate", "prairie-grass", str(data), "--scheme", "briggs-rural-golder", "-o", str(out)],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    for col in ("arc distance", "n arcs", "FAC2", "FB", "NMSE", "MG", "VG", "briggs-rural-golder"):
        assert col in r.output
    assert (out / "prairie_grass_scatter_briggs-rural-golder.png").stat().st_size > 0


def test_cli_validate_all_schemes_table(tmp_path):
    """``--scheme all`` prints one row per scheme with FAC2, FB, NMSE, MG, VG; the scores file matches."""
    import json

    from typer.testing import CliRunner

    from plumecast.cli import app

    data = _subset(tmp_path, 30)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app, ["validate", "prairie-grass", str(data), "--scheme", "all", "--no-plots", "-o", str(out)],
        env={"COLUMNS": "220"},
    )
    assert r.exit_code == 0, r.output
    expected = evaluate_schemes(data)
    for name, res in expected.items():
        rows = [ln for ln in r.output.splitlines() if f" {name} " in ln and "│" in ln]
        assert len(rows) == 2, (name, r.output)  # arc maximum and crosswind integral tables
        for row, s in zip(rows, (res.scores_max["all"], res.scores_cy["all"]), strict=True):
            cells = [c.strip() for c in row.split("│") if c.strip()]
            assert cells[3:8] == [f"{s.fac2:.2f}", f"{s.fb:+.2f}", f"{s.nmse:.2f}", f"{s.mg:.2f}", f"{s.vg:.2f}"]
    assert "best that plumecast zones can run" in r.output
    saved = json.loads((out / "prairie_grass_scores.json").read_text())
    assert set(saved) == set(SCHEMES) | {"ranking"} and saved["ranking"] == rank_schemes(expected)
    assert not list(out.glob("*.png"))
    bad = CliRunner().invoke(app, ["validate", "prairie-grass", str(data), "--scheme", "pasquill"])
    assert bad.exit_code == 2 and "briggs-rural-golder" in bad.output


def test_cli_validate_bad_directory_exit_2(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "plumecast", "validate", "prairie-grass", str(tmp_path), "-o", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )
    assert r.returncode == 2 and "runs.csv" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not out.exists()


def test_every_scheme_is_scored_from_the_shipped_measurements(all_schemes):
    """All schemes score the same 185 observed pairs, read from the shipped arcs.csv."""
    assert set(all_schemes) == set(SCHEMES)
    with (default_data_dir() / "arcs.csv").open() as fh:
        obs = {(int(r["run_id"]), float(r["distance_m"])): float(r["obs_max_conc_g_m3"]) for r in csv.DictReader(fh)}
    for res in all_schemes.values():
        assert res.run_id.size == 185 and len(res.runs_used) == 37
        expected = [obs[(int(i), float(d))] * 1e-3 for i, d in zip(res.run_id, res.distance_m, strict=True)]
        np.testing.assert_array_equal(res.obs_max_kg_m3, expected)
        assert res.scores_max["all"] == scores(res.obs_max_kg_m3, res.pred_max_kg_m3)
        assert np.all(res.pred_max_kg_m3 > 0) and np.all(res.pred_cy_kg_m2 > 0)
    # the schemes really differ (each runs its own physics)
    preds = {n: tuple(np.round(r.pred_max_kg_m3, 12)) for n, r in all_schemes.items()}
    assert len(set(preds.values())) == len(preds)


def test_scores_follow_the_measurements(tmp_path):
    """Change one observation in a copy of the data: the score changes with it."""
    data = _subset(tmp_path, 12)
    before = evaluate_schemes(data, scheme_names=["briggs-rural-turner"])["briggs-rural-turner"]
    lines = (data / "arcs.csv").read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("obs_max_conc_g_m3")
    k = next(i for i, ln in enumerate(lines) if ln.startswith(f"{before.runs_used[0]},"))
    row = lines[k].split(",")
    row[col] = str(float(row[col]) * 10)
    lines[k] = ",".join(row)
    (data / "arcs.csv").write_text("\n".join(lines) + "\n")
    after = evaluate_schemes(data, scheme_names=["briggs-rural-turner"])["briggs-rural-turner"]
    assert after.scores_max["all"].fb > before.scores_max["all"].fb
    np.testing.assert_array_equal(after.pred_max_kg_m3, before.pred_max_kg_m3)


def test_briggs_schemes_run_the_zones_code(monkeypatch, tmp_path):
    """The Briggs scores are those of plumecast.nearfield.zones.peak_concentration, not of a copy of it."""
    import plumecast.nearfield.zones as zones

    data = _subset(tmp_path, 8)
    base = evaluate_schemes(data, scheme_names=["briggs-rural-golder"])["briggs-rural-golder"]
    real = zones.peak_concentration
    monkeypatch.setattr(zones, "peak_concentration", lambda *a, **k: 2.0 * real(*a, **k))
    doubled = evaluate_schemes(data, scheme_names=["briggs-rural-golder"])["briggs-rural-golder"]
    np.testing.assert_allclose(doubled.pred_max_kg_m3, 2 * base.pred_max_kg_m3, rtol=1e-12)
    np.testing.assert_allclose(doubled.pred_cy_kg_m2, 2 * base.pred_cy_kg_m2, rtol=1e-12)


def test_turner_inputs_from_the_sun():
    # solar noon at the June solstice: 90 - 42.49 + 23.44 degrees
    from datetime import date

    noon = max(solar_elevation_deg(date(1956, 6, 21), h / 60, 42.49, -98.6, -6.0) for h in range(11 * 60, 14 * 60))
    assert noon == pytest.approx(90 - 42.49 + 23.44, abs=0.3)
    assert turner_day_and_insolation(date(1956, 7, 6), 14.0, 42.49, -98.6, -6.0) == (True, "strong")
    # run 46 (18:45 CST, 15 Aug): within an hour of sunset, night in Turner's key
    assert turner_day_and_insolation(date(1956, 8, 15), 18.75, 42.49, -98.6, -6.0) == (False, None)
    assert turner_day_and_insolation(date(1956, 7, 14), 8.0, 42.49, -98.6, -6.0) == (True, "slight")


def test_documented_scores_match_the_computed_ones(all_schemes):
    """The per-scheme table of docs/validation.md, the README line and zones' note agree with the data."""
    doc = (ROOT / "docs" / "validation.md").read_text()
    for name, res in all_schemes.items():
        m = res.scores_max["all"]
        assert DOCUMENTED_ARC_MAX_SCORES[name] == (round(m.fac2, 2), round(m.fb, 2))
        for label, s in (("arc max", res.scores_max["all"]), ("C_y", res.scores_cy["all"])):
            row = f"| `{name}` | {label} | {s.n} | {s.fac2:.2f} | {s.fb:+.2f} | {s.nmse:.2f} | {s.mg:.2f} | {s.vg:.2f} |"
            assert row in doc, row
    readme = " ".join((ROOT / "README.md").read_text().split())
    sim, gol = all_schemes["similarity"].scores_max["all"], all_schemes["briggs-rural-golder"].scores_max["all"]
    assert f"FAC2 {sim.fac2:.2f}, FB {sim.fb:+.2f}" in readme
    assert f"FAC2 {gol.fac2:.2f}, FB {gol.fb:+.2f}" in readme


def test_zones_default_is_the_best_validated_scheme_it_can_run(all_schemes):
    """Ranking from the data -> the scheme docs/validation.md names -> the route zones picks by default."""
    from plumecast.nearfield.zones import MeteorologySpec
    from plumecast.nearfield.zones.scenario import AUTO_STABILITY_ORDER

    ranking = rank_schemes(all_schemes)
    assert ranking[0] == "similarity" and all_schemes["similarity"].scores_max["all"].passes_chang_hanna()
    rural = [n for n in ranking if SCHEMES[n].zones_usable and SCHEMES[n].terrain == "rural"]
    doc = (ROOT / "docs" / "validation.md").read_text()
    claimed = re.search(r"\*\*Default of `plumecast zones`: `([a-z-]+)`\*\*", doc)
    assert claimed is not None and claimed.group(1) == rural[0]
    # zones' automatic order of class routes follows the ranking of the schemes they give
    route_of = {"golder": "obukhov_length", "turner": "observations"}
    ranked_routes = [route_of[SCHEMES[n].class_route] for n in rural]  # type: ignore[index]
    assert [r for r in AUTO_STABILITY_ORDER if r in ranked_routes] == ranked_routes
    # a scenario that allows every route gets the documented default, and says why not similarity
    met = MeteorologySpec(
        wind_speed_m_s=4.0, wind_from_deg=180.0, stability="F", obukhov_length_m=-30.0,
        daytime=True, insolation="strong",
    )
    assert met.stability_route() == route_of[SCHEMES[rural[0]].class_route]  # type: ignore[index]
    note = zones_scheme_note(met)
    assert rural[0] in note and "sigma_theta" in note and "not used" in note
    fac2, fb = DOCUMENTED_ARC_MAX_SCORES[rural[0]]
    assert f"FAC2 {fac2:.2f}, FB {fb:+.2f}" in note


def test_zones_stability_route_can_be_forced_and_checked():
    from pydantic import ValidationError

    from plumecast.nearfield.zones import MeteorologySpec

    both = {"wind_speed_m_s": 4.0, "wind_from_deg": 180.0, "stability": "F", "obukhov_length_m": -30.0}
    assert MeteorologySpec(**both).pg_class() != "F"  # auto: L (validated) before a given letter
    assert MeteorologySpec(**both, stability_from="stability").pg_class() == "F"
    with pytest.raises(ValidationError, match="stability_from: observations needs daytime"):
        MeteorologySpec(**both, stability_from="observations")
    assert "cannot test a class given directly" in zones_scheme_note(
        MeteorologySpec(wind_speed_m_s=4.0, wind_from_deg=0.0, stability="D")
    )


def test_zones_note_quotes_the_scores_of_the_roughness_used():
    """The Golder route's class depends on z0: zones quoted the site's (0.006 m) FAC2 0.65,
    FB +0.46 for a scenario at the default 0.1 m, whose scores are FAC2 0.58, FB +0.50 (docs audit)."""
    from plumecast.nearfield.spec import MeteorologySpec
    from plumecast.validation.schemes import zones_scheme_note

    met = MeteorologySpec(wind_speed_m_s=3.0, wind_from_deg=270.0, obukhov_length_m=-50.0)
    text = zones_scheme_note(met)
    assert "FAC2 0.65, FB +0.46 on arc maxima with the site's roughness, 0.006 m" in text
    assert "FAC2 0.58, FB +0.50 with 0.1 m" in text
    site = zones_scheme_note(MeteorologySpec(wind_speed_m_s=3.0, wind_from_deg=270.0, obukhov_length_m=-50.0,
                                             roughness_length_m=0.006))
    assert "with 0.1 m" not in site
