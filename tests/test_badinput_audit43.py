"""Scenario input that YAML 1.1 read silently otherwise than written (``1:30`` as 90, ``024`` as 20),
unknown keys and agents without the closest name, YAML's yes/no words for text, and a file not in
UTF-8 (bad-input audit, session 43): each is now one line naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumecast.errors import ScenarioError
from plumecast.scenario import load_scenario
from tests.test_badinput_audit34 import problem_lines
from tests.test_scenario import GOOD, write


@pytest.mark.parametrize(("old", "new", "line", "said"), [
    ("duration_h: 6", "duration_h: 1:30", 3, "duration_h: 1:30 is read by YAML as 90 (a base-60 number); expected "
                                             "a decimal number: 1.5"),
    ("duration_h: 6", "duration_h: 006", 3, "duration_h: 006 is read by YAML as 6 (an octal number"),
    ("duration_h: 6", "duration_h: 024", 3, "duration_h: 024 is read by YAML as 20 (an octal number, for its "
                                            "leading 0); expected 24"),
    ("stop_h: 3", "stop_h: 2:30:00", 15, "releases.0.stop_h: 2:30:00 is read by YAML as 9000 (a base-60 number); "
                                         "expected a decimal number: 2.5"),
    ("height_m: 30", "height_m: 1:30.5", 13, "releases.0.height_m: 1:30.5 is read by YAML as 90.5"),
])
def test_yaml_1_1_base_60_and_octal_numbers_are_refused(tmp_path: Path, old: str, new: str, line: int,
                                                        said: str) -> None:
    assert old in GOOD
    lines = problem_lines(tmp_path, GOOD.replace(old, new))
    assert any(f"line {line}: {said}" in ln for ln in lines), lines


@pytest.mark.parametrize(("old", "new"), [("duration_h: 6", "duration_h: '6'"), ("duration_h: 6", "duration_h: 6.0"),
                                          ("height_m: 30", "height_m: 0"), ("height_m: 30", "height_m: 0.5"),
                                          ("height_m: 30", "height_m: 1_0")])
def test_ordinary_numbers_still_read(tmp_path: Path, old: str, new: str) -> None:
    load_scenario(write(tmp_path, GOOD.replace(old, new)))


@pytest.mark.parametrize(("old", "new", "said"), [
    ("particles: 1000", "partciles: 1000", "partciles: unknown key; did you mean 'particles'?"),
    ("stop_h: 3", "stop_hh: 3", "releases.0.stop_hh: unknown key; did you mean 'stop_h'?"),
    ("resolution_deg: 0.5", "resolution: 0.5", "output.grid.resolution: unknown key; did you mean 'resolution_deg'?"),
    ("  points:", "  pionts:", "receptors.pionts: unknown key; did you mean 'points'?"),
])
def test_an_unknown_key_gets_the_closest_key_accepted_there(tmp_path: Path, old: str, new: str, said: str) -> None:
    assert old in GOOD
    lines = problem_lines(tmp_path, GOOD.replace(old, new))
    assert any(said in ln for ln in lines), lines


def test_an_unknown_key_far_from_any_gets_no_guess(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, GOOD.replace("particles: 1000", "particles: 1000\nzzqx: 1"))
    assert any("zzqx: unknown key (check its spelling" in ln for ln in lines), lines


def test_a_misspelt_agent_gets_the_closest_agent(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, GOOD.replace("agent: chlorine", "agent: chlorin"))
    assert any("unknown agent 'chlorin' (did you mean 'chlorine'?)" in ln for ln in lines), lines


def test_yaml_no_for_a_name_says_to_quote_it(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, GOOD.replace("name: stack test", "name: no"))
    assert any("name: false is not text; expected text" in ln and "quote it" in ln for ln in lines), lines


def test_a_file_not_in_utf8_names_the_line_of_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(GOOD.replace("name: stack test", "name: Orl\xe9ans").encode("latin-1"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert f"{path}, line 1: byte 0xe9 is not UTF-8 text; expected a file saved as UTF-8" in str(e.value)
