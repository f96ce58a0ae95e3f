"""Project Prairie Grass evaluation (validation tier: runs in CI)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from plumecast.errors import DataFileError
from plumecast.validation.metrics import scores
from plumecast.validation.prairie_grass import default_data_dir, evaluate, write_outputs


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
    src = default_data_dir()
    for name in ("runs.csv", "arcs.csv"):
        lines = (src / name).read_text().splitlines()
        keep = [lines[0]] + [ln for ln in lines[1:] if int(ln.split(",")[0]) < 30]
        (tmp_path / name).write_text("\n".join(keep) + "\n")
    res = evaluate(tmp_path)
    assert max(res.runs_used) < 30 and res.scores_max["all"].n == 5 * len(res.runs_used)
    paths = write_outputs(res, tmp_path / "out")
    assert all(p.stat().st_size > 0 for p in paths)


def test_bad_directory_is_user_error(tmp_path):
    with pytest.raises(DataFileError, match="runs.csv"):
        evaluate(tmp_path)
    shutil.copy(default_data_dir() / "runs.csv", tmp_path / "runs.csv")
    (tmp_path / "arcs.csv").write_text("run_id,distance_m\n1,50\n")
    with pytest.raises(DataFileError, match="missing column"):
        evaluate(tmp_path)


def test_cli_validate_prairie_grass(tmp_path):
    """Through the installed app: scores printed with their column names, files written."""
    from typer.testing import CliRunner

    from plumecast.cli import app

    r = CliRunner().invoke(app, ["validate", "prairie-grass", "-o", str(tmp_path)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    for col in ("arc distance", "n arcs", "FAC2", "FB", "NMSE"):
        assert col in r.output
    assert any(tmp_path.iterdir())


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
