"""The last of pydantic's wording in scenario messages (badinput audit, session 34, second
part): a value outside its range, a list or text too short or too long, a word that is none
of the choices, a yes/no key given something else and a .nan or .inf are each said in our
words: the file, the line, the key, the value once, and the bound or all the choices (as
they are written in YAML) or ``true or false`` expected; no traceback, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plumecast.nearfield.zones.scenario import read_zones_scenario
from plumecast.scenario import load_scenario
from tests.helpers import SMALL_ZONES_SCENARIO, run_cli
from tests.test_badinput_audit34 import ZONES
from tests.test_badinput_audit34 import problem_lines as _problem_lines
from tests.test_scenario import GOOD, write

#: pydantic's words for a bound, a length, the choices and a yes/no value, none of which a message shows
PYDANTIC_WORDS = ("Input should be", "should have at", "after validation", "valid boolean", "unable to interpret",
                  "than or equal", "greater than", "less than", "finite number,")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

def problem_lines(tmp_path: Path, text: str, loader=load_scenario) -> list[str]:
    """:func:`tests.test_badinput_audit34.problem_lines` (the file named, pydantic's type words
    absent), with none of the bound, choice and yes/no words either."""
    lines = _problem_lines(tmp_path, text, loader)
    for word in PYDANTIC_WORDS:
        assert all(word not in line for line in lines), lines
    return lines


def cli(args: list[str], capsys, monkeypatch) -> tuple[int, str]:
    rc, out = run_cli(args, capsys, monkeypatch)
    assert "Traceback" not in out, out
    for word in PYDANTIC_WORDS:
        assert word not in out, out
    return rc, out


def refused(command: str, path: Path, tmp_path: Path, capsys, monkeypatch) -> str:
    """What ``plumecast COMMAND PATH -o OUT`` says when it refuses the file: exit status 2, no
    output folder, and (:func:`cli`) no traceback nor pydantic's words."""
    outdir = tmp_path / "out"
    rc, out = cli([command, str(path), "-o", str(outdir)], capsys, monkeypatch)
    assert rc == 2 and not outdir.exists(), out
    return out


def example(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of ``examples/name`` with ``old`` replaced by ``new`` (once)."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- 1. range limits


def test_run_names_the_largest_latitude_and_shows_the_value_once(tmp_path, capsys, monkeypatch):
    path = example(tmp_path, "rhine_stack_24h.yaml", "    lat: 51.45", "    lat: 95.5")
    out = refused("run", path, tmp_path, capsys, monkeypatch)
    line = next(ln for ln in out.splitlines() if "releases.0.lat" in ln).strip()
    assert line == f"{path}, line 21: releases.0.lat: 95.5 is too large; expected 90 or less", out
    assert out.count("95.5") == 1 and "(got" not in out


def test_zones_names_the_smallest_wind_speed(tmp_path, capsys, monkeypatch):
    path = example(tmp_path, "graniteville_2005.yaml", "wind_speed_m_s: 1.5 ", "wind_speed_m_s: -1.5 ")
    out = refused("zones", path, tmp_path, capsys, monkeypatch)
    assert f"{path}, line 33: local_weather.wind_speed_m_s: -1.5 is too small; expected more than 0" in out, out
    assert out.count("-1.5") == 1


@pytest.mark.parametrize(
    ("old", "new", "line", "said"),
    [
        # gt, ge, le, lt-like bounds: the bound as a user writes it
        ("particles: 1000", "particles: 0", 5, "particles: 0 is too small; expected more than 0"),
        ("agent: chlorine", "agent: chlorine\nturbulence: {mixing_height_m: 0.5}", 8,
         "turbulence.mixing_height_m: 0.5 is too small; expected 10 or more"),
        ("rate_kg_s: 2.0", "rate_kg_s: 1.0e+300", 14, "releases.0.rate_kg_s: 1e+300 is too large; expected 1e+12 or "
         "less"),
        ("agent: chlorine", "agent: chlorine\nensemble: {members: 20000}", 8,
         "ensemble.members: 20000 is too large; expected 10000 or less"),
        # a list or a text of the wrong length
        ("receptors:\n  points:", "receptors:\n  cities: {names: []}\n  points:", 19,
         "receptors.cities.names: [] is an empty list; expected at least 1 item"),
    ],
)
def test_a_value_out_of_range_names_the_bound(tmp_path, old, new, line, said):
    assert old in GOOD
    lines = problem_lines(tmp_path, GOOD.replace(old, new))
    assert lines == [f"{tmp_path / 's.yaml'}, line {line}: {said}"], lines


def test_a_plan_name_too_long_or_empty_says_how_long_it_may_be(tmp_path):
    plans = ("plans:\n  - name: ''\n    measures: [{type: termination, at_h: 1}]\n"
             f"  - name: {'x' * 90}\n    measures: [{{type: termination, at_h: 1, fraction: 1.5}}]\n"
             "  - name: y\n    measures: [{type: front, ignition_h: 1, points: [], speed_m_s: 1}]\n")
    lines = problem_lines(tmp_path, GOOD + plans)
    assert lines[0].endswith("line 22: plans.0.name: '' is an empty text; expected a text that is not empty"), lines
    assert lines[1].endswith("line 24: plans.1.name: '" + "x" * 56 + "... is 90 characters long; expected a text "
                             "of at most 80 characters"), lines
    assert lines[2].endswith("line 25: plans.1.measures.0.fraction: 1.5 is too large; expected 1 or less"), lines
    assert lines[3].endswith("line 27: plans.2.measures.0.points: [] is an empty list; expected at least 1 item")
    assert len(lines) == 4


# --------------------------------------------------------------------------- 2. choices


def test_run_names_every_backend(tmp_path, capsys, monkeypatch):
    path = example(tmp_path, "rhine_stack_24h.yaml", "seed: 7\n", "seed: 7\nbackend: fortran\n")
    out = refused("run", path, tmp_path, capsys, monkeypatch)
    assert out.strip() == (f"error: invalid scenario:\n  {path}, line 15: backend: 'fortran' is not one of the "
                           "choices; expected numba, numpy, cuda or cuda-mixed"), out


def test_zones_names_every_stability_class(tmp_path, capsys, monkeypatch):
    path = example(tmp_path, "graniteville_2005.yaml", "stability: F ", "stability: G ")
    out = refused("zones", path, tmp_path, capsys, monkeypatch)
    assert (f"{path}, line 35: local_weather.stability: 'G' is not one of the choices; expected A, B, C, D, E or F"
            in out), out
    assert out.count("'G'") == 1 and "(got" not in out


@pytest.mark.parametrize(
    ("text", "loader", "said"),
    [
        (GOOD.replace("source: uniform", "source: bogus"), load_scenario,
         "line 8: met.source: 'bogus' is not one of the choices; expected climatology, file or uniform"),
        (GOOD + "ensemble: {members: 2, met_members: sometimes}\n", load_scenario,
         "line 21: ensemble.met_members: 'sometimes' is not one of the choices; expected perturb or file"),
        (GOOD + "ensemble: {members: 2, wind_speed_factor: {dist: gauss, mean: 1}}\n", load_scenario,
         "line 21: ensemble.wind_speed_factor.dist: 'gauss' is not one of the choices; expected normal, lognormal, "
         "uniform or fixed"),
        (ZONES.replace("stability: D", "stability: D, terrain: moon"), read_zones_scenario,
         "line 5: local_weather.terrain: 'moon' is not one of the choices; expected rural or urban"),
        # a number among the choices is written as a number
        (ZONES + "zones: {levels: [{aegl: 4}]}\n", read_zones_scenario,
         "line 6: zones.levels.0.aegl: 4 is not one of the choices; expected 1, 2 or 3"),
        # a word that YAML reads as false unquoted is named quoted
        (ZONES.replace("amount_kg: 500", "amount_kg: 500, dense_gas: sometimes"), read_zones_scenario,
         "line 3: releases.0.dense_gas: 'sometimes' is not one of the choices; expected auto or 'off'"),
    ],
)
def test_a_word_that_is_none_of_the_choices_names_them_all(tmp_path, text, loader, said):
    lines = problem_lines(tmp_path, text, loader)
    assert lines == [f"{tmp_path / 's.yaml'}, {said}"], lines


def test_the_choices_quoted_are_the_ones_yaml_would_misread():
    from plumecast.scenario_yaml import _choices

    assert _choices("'numba', 'numpy', 'cuda' or 'cuda-mixed'") == "numba, numpy, cuda or cuda-mixed"
    assert _choices("'auto', 'off', 'yes', '1', 'null' or 2") == "auto, 'off', 'yes', '1', 'null' or 2"
    assert _choices("'all'") == "all"
    assert _choices("not a list of choices") == "not a list of choices"  # shown as it is, not lost


# --------------------------------------------------------------------------- 3. yes/no values


@pytest.mark.parametrize(("value", "shown"), [("maybe", "'maybe'"), ("3", "3"), ("[1]", "[1]"), ("", "null")])
def test_a_yes_no_key_given_something_else_expects_true_or_false(tmp_path, value, shown):
    text = ZONES + f"zones: {{flammable_levels: {value}}}\n"
    lines = problem_lines(tmp_path, text, read_zones_scenario)
    assert lines == [f"{tmp_path / 's.yaml'}, line 6: zones.flammable_levels: {shown} is not a yes/no value; "
                     "expected true or false"], lines


@pytest.mark.parametrize(
    ("text", "loader", "said"),
    [
        (GOOD + "ensemble: {members: 2, control: maybe}\n", load_scenario, "line 21: ensemble.control"),
        (ZONES.replace("stability: D", "daytime: sometimes"), read_zones_scenario, "line 5: local_weather.daytime"),
        (SMALL_ZONES_SCENARIO.replace("cities: false", "cities: maybe"), read_zones_scenario, "line 6: "
         "receptors.cities"),  # the old local format too
    ],
)
def test_every_yes_no_key_says_so(tmp_path, text, loader, said):
    lines = problem_lines(tmp_path, text, loader)
    assert len(lines) == 1 and f", {said}: " in lines[0], lines
    assert lines[0].endswith(" is not a yes/no value; expected true or false") and "(got" not in lines[0], lines


def test_zones_cli_says_true_or_false(tmp_path, capsys, monkeypatch):
    path = example(tmp_path, "graniteville_2005.yaml", "  levels:\n", "  flammable_levels: sometimes\n  levels:\n")
    out = refused("zones", path, tmp_path, capsys, monkeypatch)
    assert (f"{path}, line 40: zones.flammable_levels: 'sometimes' is not a yes/no value; expected true or false"
            in out), out


# --------------------------------------------------------------------------- .nan and .inf


@pytest.mark.parametrize(("value", "shown"), [(".nan", ".nan"), (".inf", ".inf"), ("-.inf", "-.inf")])
def test_nan_and_inf_are_shown_as_written(tmp_path, value, shown):
    lines = problem_lines(tmp_path, GOOD.replace("rate_kg_s: 2.0", f"rate_kg_s: {value}"))
    assert lines == [f"{tmp_path / 's.yaml'}, line 14: releases.0.rate_kg_s: {shown} is not a finite number; "
                     "expected an ordinary number (not .nan, .inf or -.inf)"], lines


# --------------------------------------------------------------------------- all at once, and union branches


def test_several_problems_each_in_our_words(tmp_path, capsys, monkeypatch):
    path = example(tmp_path, "rhine_stack_24h.yaml", "compliance_fraction: 0.8", "compliance_fraction: 1.8")
    text = path.read_text().replace("seed: 7\n", "seed: 7\nbackend: fortran\n").replace("terrain: urban",
                                                                                         "terrain: town")
    path.write_text(text)
    out = refused("run", path, tmp_path, capsys, monkeypatch)
    assert f"{path}, line 15: backend: 'fortran' is not one of the choices" in out
    assert f"{path}, line 49: shelter.compliance_fraction: 1.8 is too large; expected 1 or less" in out
    assert f"{path}, line 41: local_weather.terrain: 'town' is not one of the choices; expected rural or urban" in out
    assert "(got" not in out


def test_union_branches_are_still_joined_with_or():
    from typing import Literal

    from pydantic import BaseModel, ValidationError

    from plumecast.scenario_yaml import format_errors

    class Model(BaseModel):
        flag: bool | list[int] = True
        region: Literal["all"] | list[str] = "all"

    with pytest.raises(ValidationError) as info:
        Model.model_validate({"flag": "maybe", "region": 5})
    msg = format_errors(info.value, "f.yaml", {("flag",): 3, ("region",): 4})
    assert msg.splitlines()[1:] == ["  f.yaml, line 3: flag: expected true or false or a list of them (got 'maybe')",
                                    "  f.yaml, line 4: region: expected all or a list of them (got 5)"], msg


def test_good_files_still_load(tmp_path):
    assert load_scenario(write(tmp_path, GOOD + "ensemble: {members: 2, control: false}\n")).ensemble is not None
    assert read_zones_scenario(write(tmp_path, ZONES + "zones: {flammable_levels: false}\n")).release_index == 0
    shutil.copy(EXAMPLES / "graniteville_2005.yaml", tmp_path / "g.yaml")
    assert read_zones_scenario(tmp_path / "g.yaml").release_index == 0
