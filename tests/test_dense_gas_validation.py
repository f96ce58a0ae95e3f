"""LNG spill arc-maximum validation (``plumecast.validation.lng_arcs``): shipped data, sourced inputs, scores, CLI."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from plumecast.errors import DataFileError
from plumecast.validation.lng_arcs import (
    arcs_path,
    evaluate_arcs,
    read_arc_maxima,
    read_lng_trials,
    trials_path,
    wind_at_10m_from_profile,
    zones_scenario,
)
from plumecast.validation.metrics import scores


@pytest.fixture(scope="module")
def arcs():  # type: ignore[no-untyped-def]
    """The shipped LNG arcs scored once for the module's tests (each scoring runs the zones model 10 times)."""
    return evaluate_arcs()


@pytest.fixture(scope="module")
def shipped_cli_output() -> str:
    """``plumecast validate dense-gas`` on the shipped tables, run once for the module's tests."""
    from typer.testing import CliRunner

    from plumecast.cli import app

    r = CliRunner().invoke(app, ["validate", "dense-gas"], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    return r.output


TRIALS = ["Burro 3", "Burro 7", "Burro 8", "Burro 9", "Coyote 3", "Coyote 5", "Coyote 6",
          "Maplin Sands 27", "Maplin Sands 34", "Maplin Sands 35"]


def test_shipped_files_carry_their_provenance() -> None:
    for p in (trials_path(), arcs_path()):
        head = "\n".join(ln for ln in p.read_text().splitlines() if ln.startswith("#"))
        assert "firemodels/" in head and "Ivings et al. 2007" in head, p
    prov = (trials_path().parent / "PROVENANCE.md").read_text()
    for needle in ("lng_trials.csv", "lng_arcmax.csv", "2a0849d742b093a6936693c91e720562b6ab73ec",
                   "807665be72d393f487f9cc9264bc8e8944e41744", "Falcon"):
        assert needle in prov


def test_trial_inputs_are_the_sourced_numbers() -> None:
    """Values as written in the FDS input files and the measured profiles (firemodels/fds, firemodels/exp)."""
    t = {x.name: x for x in read_lng_trials()}
    assert list(t) == TRIALS
    # every source is the FERC "high mass flux" 0.167 kg/m2/s at -161.55 °C
    assert {x.mass_flux_kg_m2_s for x in t.values()} == {0.167}
    assert {x.release_temperature_c for x in t.values()} == {-161.55}
    # Burro8.fds @9792103: RADIUS=14.93, ramp to 107 s, &WIND L=16.2, Z_0=0.0002, U_STAR=0.074, TMP_REF=32.87
    b8 = t["Burro 8"]
    assert (b8.source_radius_m, b8.release_duration_s, b8.obukhov_length_m, b8.roughness_length_m,
            b8.friction_velocity_m_s, b8.air_temperature_c) == (14.93, 107, 16.2, 0.0002, 0.074, 32.87)
    # 0.167 * pi * 14.93^2 = 116.9 kg/s: the 116.93 kg/s of the SLAB manual's Burro 8 (burro_lfl.csv)
    assert b8.rate_kg_s == pytest.approx(116.93, abs=0.05)
    assert b8.wind_heights_m == (1, 3, 8) and b8.wind_speeds_m_s == (1.63, 1.94, 2.40)
    c5 = t["Coyote 5"]  # Coyote5.fds: RADIUS=15.68, ramp to 98 s, L=-33.2, TMP_REF=29.27 (at 0.5 m)
    assert (c5.source_radius_m, c5.release_duration_s, c5.obukhov_length_m, c5.air_temperature_c,
            c5.air_temperature_height_m) == (15.68, 98, -33.2, 29.27, 0.5)
    m27 = t["Maplin Sands 27"]  # MaplinSands27.fds: RADIUS=6.65, ramp to 160 s, L=-14.4, Z_0=0.00002; 10-m wind 5.5
    assert (m27.source_radius_m, m27.release_duration_s, m27.obukhov_length_m, m27.roughness_length_m) == (
        6.65, 160, -14.4, 0.00002)
    assert m27.wind_10m_m_s == 5.5
    # the scenario zones runs is built from exactly these numbers
    sc = zones_scenario(b8)
    assert sc["release"] == {"rate_kg_s": b8.rate_kg_s, "duration_s": 107, "temperature_c": -161.55}
    met = sc["meteorology"]
    assert isinstance(met, dict)
    assert (met["obukhov_length_m"], met["roughness_length_m"], met["air_temperature_c"]) == (16.2, 0.0002, 32.87)


def test_wind_profile_to_10m() -> None:
    # Burro 3: 5.58 m/s at 3 m and 5.94 m/s at 8 m -> 5.94 + 0.36 ln(10/8)/ln(8/3)
    assert wind_at_10m_from_profile((1, 3, 8), (5.06, 5.58, 5.94)) == pytest.approx(
        5.94 + 0.36 * math.log(1.25) / math.log(8 / 3))
    # and it agrees with the Monin-Obukhov profile of the FDS input (u* 0.255, L -9.49, z0 2e-4, kappa 0.41)
    zeta = 10 / -9.49
    x = (1 - 16 * zeta) ** 0.25
    psi = 2 * math.log((1 + x) / 2) + math.log((1 + x * x) / 2) - 2 * math.atan(x) + math.pi / 2
    assert wind_at_10m_from_profile((1, 3, 8), (5.06, 5.58, 5.94)) == pytest.approx(
        0.255 / 0.41 * (math.log(10 / 2e-4) - psi), rel=0.02)
    assert wind_at_10m_from_profile((1, 4, 16), (1.0, 2.0, 3.0)) == pytest.approx(2.0 + math.log(2.5) / math.log(4))


def test_arc_maxima_load() -> None:
    arcs = read_arc_maxima()
    assert len(arcs) == 43 and sorted({a.trial for a in arcs}) == sorted(TRIALS)
    c5 = [(a.distance_m, a.mole_percent) for a in arcs if a.trial == "Coyote 5"]
    assert c5 == [(140, 11.5), (200, 7.8), (300, 3.2), (400, 2.1), (500, 1.8)]  # Coyote5_exp.csv


@pytest.mark.validation
def test_scores_recomputed_from_pairs(arcs) -> None:  # type: ignore[no-untyped-def]
    res = arcs
    assert [r.trial.name for r in res.results] == TRIALS
    for r in res.results:
        assert all(math.isfinite(p) and p >= 0 for p in r.predicted_pct)
        assert r.scores == scores(r.observed_pct, r.predicted_pct)
    obs = [v for r in res.results for v in r.observed_pct]
    pred = [v for r in res.results for v in r.predicted_pct]
    assert res.overall == scores(obs, pred) and res.overall.n == 43
    # the low-wind stable trial is run as dense gas and its near-field maxima are within a factor 2
    b8 = next(r for r in res.results if r.trial.name == "Burro 8")
    assert "Britter-McQuaid" in b8.model
    assert all(0.5 <= p / o <= 2 for p, o in zip(b8.predicted_pct[:2], b8.observed_pct[:2], strict=True))


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("# comment\ntrial,site\nX,Y\n")
    with pytest.raises(DataFileError, match="missing column"):
        read_lng_trials(bad)
    arcs = tmp_path / "a.csv"
    arcs.write_text("trial,exp_file,distance_m,ch4_mole_percent\nBurro 3,f,57,abc\n")
    with pytest.raises(DataFileError, match="line 2: ch4_mole_percent = 'abc' is not a number"):
        read_arc_maxima(arcs)
    arcs.write_text("trial,exp_file,distance_m,ch4_mole_percent\nNo Such Trial,f,57,3\n")
    with pytest.raises(DataFileError, match="No Such Trial"):
        evaluate_arcs(None, arcs)


def test_cli_dense_gas_prints_lng_trials(shipped_cli_output: str, arcs) -> None:  # type: ignore[no-untyped-def]
    output = shipped_cli_output
    for name in TRIALS:
        assert name in output
    rows = [ln for ln in output.splitlines() if "│" in ln and "all trials" in ln]
    assert len(rows) == 1, output
    s = arcs.overall
    cells = [c.strip() for c in rows[0].split("│") if c.strip()]
    assert cells[1:7] == [str(s.n), f"{s.fac2:.2f}", f"{s.fb:+.2f}", f"{s.nmse:.2f}", f"{s.mg:.2f}", f"{s.vg:.2f}"]
    assert "Falcon" in output


def test_cli_dense_gas_on_a_users_table_does_not_describe_the_shipped_one(tmp_path, shipped_cli_output: str) -> None:  # type: ignore[no-untyped-def]
    """The shipped table's caveat ("two trials only") is not printed under a user's table of
    three trials (docs audit, session 30)."""
    from typer.testing import CliRunner

    from plumecast.cli import app
    from plumecast.validation.dense_gas import data_path

    rows = data_path().read_text().splitlines()
    mine = tmp_path / "mine.csv"
    mine.write_text("\n".join([*rows, rows[1].replace("Burro 7", "My trial", 1)]) + "\n")
    r = CliRunner().invoke(app, ["validate", "dense-gas", str(mine)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    assert "two trials only" not in r.output
    assert f"{len(rows)} trials of" in r.output and "My trial" in r.output
    assert "two trials only" in shipped_cli_output
