"""Scenario files: validation messages name the file, the key and the line."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from plumecast.errors import ScenarioError
from plumecast.scenario import load_scenario

GOOD = """\
name: stack test
start: 2026-01-15T06:00:00Z
duration_h: 6
time_step_s: 600
particles: 1000
seed: 1
agent: chlorine
met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}
releases:
  - type: point
    lat: 50.0
    lon: 10.0
    height_m: 30
    rate_kg_s: 2.0
    stop_h: 3
output:
  grid: {lon_min: 0, lon_max: 30, lat_min: 40, lat_max: 60, resolution_deg: 0.5}
receptors:
  points:
    - {name: downwind, lat: 50.0, lon: 11.0, population: 1000}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_good_scenario_loads_and_is_frozen(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.n_steps == 36
    assert sc.agent.name.lower() == "chlorine"
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        sc.particles = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("old", "new", "key", "line"),
    [
        ("particles: 1000", "particles: 1000\nparticels: 5", "particels", "line 6"),
        ("particles: 1000", "particles: many", "particles", "line 5"),
        ("rate_kg_s: 2.0", "rate_kg_s: -2.0", "releases.0.rate_kg_s", "line 14"),
        ("lat: 50.0\n", "lat: 95.0\n", "releases.0.lat", "line 11"),
        ("particles: 1000", "particles: 0", "particles", "line 5"),
        ("duration_h: 6", "end: 2026-01-14T00:00:00Z", "end", None),
        ("met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}", "met: {source: file, path: nowhere.nc}", "met.path", "line 8"),
        ("stop_h: 3", "stop_h: 3\n    start_h: 4", "releases.0", None),
        ("agent: chlorine", "agent: unobtainium", "agent", "line 7"),
        ("time_step_s: 600", "time_step_s: 0", "time_step_s", "line 4"),
        ("releases:\n  - type: point", "releases:\n  - type: volcano", "releases.0", None),
    ],
)
def test_bad_values_are_named(tmp_path, old, new, key, line):
    text = GOOD.replace(old, new)
    assert text != GOOD
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg
    assert key in msg
    if line:
        assert line in msg


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "absent.yaml")
    with pytest.raises(ScenarioError, match=r"line \d: not valid YAML"):
        load_scenario(write(tmp_path, "name: x\nstart: [unclosed\n"))
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(write(tmp_path, "- just\n- a list\n"))


def test_cli_reports_user_error_without_traceback(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, GOOD.replace("rate_kg_s: 2.0", "rate_kg_s: -1"))
    proc = subprocess.run([sys.executable, "-m", "plumecast", "run", str(path), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "releases.0.rate_kg_s" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["bogus"], ["run"], ["run", "x.yaml", "--particles", "0"]])
def test_cli_usage_errors_exit_2_without_traceback(argv):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "plumecast", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout


def test_cli_error_text_keeps_square_brackets(capsys):
    from plumecast.cli.common import report_user_error
    from plumecast.errors import BackendUnavailableError

    report_user_error(BackendUnavailableError('pip install "plumecast[gpu]"'))
    assert 'plumecast[gpu]' in capsys.readouterr().err


@pytest.mark.parametrize(
    ("new", "key", "expected"),
    [
        ("deposition: {dry_velocity_m_s: -0.01}", "deposition.dry_velocity_m_s", "-0.01 is too small; expected 0 or more"),
        ("deposition: {dry_velocity_m_s: 5}", "deposition.dry_velocity_m_s", "5 is too large; expected 0.2 or less"),
        ("deposition: {scavenging_b: 7}", "deposition.scavenging_b", "7 is too large; expected 2 or less"),
        ("deposition: sometimes", "deposition", "expected off, or a mapping"),
        ("deposition: {dry_velocity: 0.01}", "deposition.dry_velocity", "unknown key"),
        ("turbulence: {kz_free_m2_s: -1}", "turbulence.kz_free_m2_s", "-1 is too small; expected 0 or more"),
        ("met: {source: uniform, u_m_s: 5.0, vertical: levels}", "met.vertical", "a uniform wind has one level"),
        ("met: {source: uniform, u_m_s: 5.0, vertical: sideways}", "met.vertical", "'sideways' is not one of the choices; expected levels or single"),
        ("met: {source: climatology, boundary_layer: met}", "met.boundary_layer", "needs a met file"),
        ("met: {source: climatology, vertical: levels, level_hpa: 850}", "met.vertical", "picks one"),
        ("met: {source: uniform, roughness_length_m: 0}", "met.roughness_length_m", "0 is too small; expected more than 0"),
    ],
)
def test_bad_met_turbulence_and_deposition_keys_are_named(tmp_path, new, key, expected):
    text = GOOD.replace("met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}", new)
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and key in msg and expected in msg
    assert "line 8" in msg  # the line of the key


@pytest.mark.parametrize("off", ["off", "false", "'off'"])
def test_deposition_off_in_any_spelling(tmp_path, off):
    text = GOOD.replace("agent: chlorine", "agent: ammonia\ndeposition: " + off)
    sc = load_scenario(write(tmp_path, text))
    assert sc.deposition.off and sc.deposition_values() == (0.0, 0.0, 0.0, [])


def test_yaml_side_split_keeps_the_names_and_zones_reads_files_the_same_way(tmp_path):
    """The YAML reading and error formatting live in plumecast.scenario_yaml; the old
    names stay importable from plumecast.scenario, and zones reads a file (and words
    its problems) through the same functions as run."""
    import plumecast.scenario as scenario_mod
    from plumecast import scenario_yaml
    from plumecast.nearfield.zones import read_zones_scenario

    assert scenario_mod._format_errors is scenario_yaml.format_errors
    assert scenario_mod._parse_yaml is scenario_yaml.parse_yaml
    assert scenario_mod.MAX_YAML_BYTES == scenario_yaml.MAX_YAML_BYTES
    for name in ("ZONES_KEYS", "COMPARE_ONLY_KEYS", "readers", "ignored_keys", "ignored_line", "PointRelease"):
        assert name in scenario_mod.__all__ and hasattr(scenario_mod, name)
    big = tmp_path / "big.yaml"
    big.write_text("#" * (scenario_yaml.MAX_YAML_BYTES + 1), encoding="utf-8")
    weather = "local_weather: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}\n"
    bad_key = write(tmp_path, GOOD.replace("    height_m: 30", "    height_mm: 30") + weather)
    for path, words in ((tmp_path / "missing.yaml", "scenario file not found"), (big, "bytes; expected a scenario"),
                        (bad_key, "line 13: releases.0.height_mm: unknown key")):
        messages = []
        for read in (load_scenario, read_zones_scenario):
            with pytest.raises(ScenarioError) as err:
                read(path)
            messages.append(str(err.value))
        assert all(words in m for m in messages), messages
        assert messages[0] == messages[1]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("particles: 1000", "particles: true", r"line 5: particles: true is not a number; expected a number"),
    ("rate_kg_s: 2.0", "rate_kg_s: false", r"releases\.0\.rate_kg_s: false is not a number"),
    ("rate_kg_s: 2.0", "rate_kg_s: 1.0e+300", r"releases\.0\.rate_kg_s: 1e\+300 is too large; expected 1e\+12 or less"),
    ("height_m: 30", "height_m: yes", r"releases\.0\.height_m: true is not a number"),
])
def test_true_false_and_absurd_numbers_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    """YAML's true/false (and yes/no) where a number is expected are refused, not
    read as 1 and 0 (one particle, 1 kg/s); amounts beyond any release too."""
    with pytest.raises(ScenarioError, match=message):
        load_scenario(write(tmp_path, GOOD.replace(old, new)))


def test_unquoted_off_is_the_word_for_a_choice_of_words(tmp_path: Path) -> None:
    """``dense_gas: off`` unquoted (YAML reads false) is the choice ``off``, in the
    language and the old local format (was refused as "false is not a number"); a
    true where no choice is on/yes/true is refused naming the choices, not as a number."""
    from plumecast.nearfield.zones import read_zones_scenario

    off = GOOD.replace("    stop_h: 3", "    stop_h: 3\n    dense_gas: off")
    assert load_scenario(write(tmp_path, off)).releases[0].dense_gas == "off"
    zones = off + "local_weather: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}\n"
    assert read_zones_scenario(write(tmp_path, zones)).scenario.release.dense_gas == "off"
    old = ("source: {lat: 45, lon: 5}\nrelease: {amount_kg: 500, duration_s: 0, dense_gas: off}\nagent: chlorine\n"
           "meteorology: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}\n")
    assert read_zones_scenario(write(tmp_path, old)).scenario.release.dense_gas == "off"
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, off.replace("dense_gas: off", "dense_gas: on")))
    assert ("line 16: releases.0.dense_gas: true is not one of the choices; expected auto or off (YAML reads an "
            "unquoted on, yes or true as true; quote the word)") in str(err.value)
    assert "not a number" not in str(err.value)


def test_true_false_still_set_the_switches(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, GOOD + "ensemble: {members: 2, control: false}\n"))
    assert sc.ensemble is not None and sc.ensemble.control is False


@pytest.mark.parametrize(("start", "noted"), [
    ("2026-01-15T06:00:00Z", False), ("2026-01-15T07:00:00+01:00", False), ("'2026-01-15T06:00:00Z'", False),
    ("2026-01-15T06:00:00", True), ("'2026-01-15 06:00'", True), ("2026-01-15", True),
])
def test_a_start_without_time_zone_is_noted(tmp_path: Path, start: str, noted: bool) -> None:
    sc = load_scenario(write(tmp_path, GOOD.replace("start: 2026-01-15T06:00:00Z", f"start: {start}")))
    notes = [n for n in sc.notes() if "no time zone" in n]
    assert bool(notes) is noted
    assert bool([n for n in sc.replace(particles=10).notes() if "no time zone" in n]) is noted


def test_a_release_outside_the_output_grid_is_noted(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, GOOD)).notes() == []
    sc = load_scenario(write(tmp_path, GOOD.replace("lon: 10.0\n    height_m", "lon: 35.0\n    height_m")))
    (note,) = sc.notes()
    assert "releases.0 at 50 N, 35 E is outside output.grid (40..60 N, 0..30 E)" in note


def test_a_release_that_outlasts_the_run_is_said():
    """A 1-h run of a 1.5-h release reported 43 t released of 65 t without a word (honest-numbers
    audit): the release's end after the run's is a note naming both, with the amount's share left out."""
    from plumecast.scenario import scenario_from_dict

    def notes(**release: object) -> list[str]:
        sc = scenario_from_dict(dict(name="t", start="2026-10-03T22:00:00Z", duration_h=1, particles=100,
                                     releases=[{"type": "point", "name": "tanker", "lat": 51.4, "lon": 6.7,
                                                **release}]))
        return [n for n in sc.notes() if "after the end of the run" in n]

    (line,) = notes(rate_kg_s=12.0, stop_h=1.5)
    assert line.startswith("tanker emits until 1.5 h, after the end of the run (duration_h: 1 h)")
    (line,) = notes(amount_kg=64_800.0, duration_s=5400.0)
    assert "(33% of its amount)" in line
    assert notes(rate_kg_s=12.0, stop_h=1.0) == [] and notes(rate_kg_s=12.0) == []  # ends with the run; no end


_AGENT = """agent:
  name: my gas
  molecular_weight_g_mol: 50
  aegl_ppm:
    aegl1: {10min: 1, 30min: 1, 60min: 1, 4h: 1, 8h: 1}
    aegl2:
      10min: 5
      30min: 5
      60min: 5
"""


@pytest.mark.parametrize(("row", "message"), [
    ("      30min: -4", r"line {row}: agent\.aegl_ppm\.aegl2\.30min: -4 is not a positive number; expected a positive"),
    ("      30min: abc", r"line {row}: agent\.aegl_ppm\.aegl2\.30min: 'abc' is not a number; expected a positive"),
    ("      30min: true", r"line {row}: agent\.aegl_ppm\.aegl2\.30min: true is not a number"),
    ("      45min: 5", r"line {row}: agent\.aegl_ppm\.aegl2\.45min: AEGL-2 duration '45min' is not one of the durations"),
    # a key the path cannot name (a space): the aegl_ppm line, the level and duration in words
    ("      30 min: -4", r"line {table}: agent\.aegl_ppm: AEGL-2 30 min: -4 is not a positive number"),
])
def test_an_agents_aegl_error_names_the_line_of_its_value(tmp_path: Path, row: str, message: str) -> None:
    """A bad value in an inline agent's AEGL table was put on the aegl_ppm line, not its own."""
    text = GOOD.replace("agent: chlorine\n", "") + _AGENT.replace("      30min: 5", row)
    table = text.splitlines().index("  aegl_ppm:") + 1  # the aegl_ppm line; the bad value's is 4 below
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    want = message.replace("{row}", str(table + 4)).replace("{table}", str(table))
    assert re.search(want, str(err.value)), str(err.value)
