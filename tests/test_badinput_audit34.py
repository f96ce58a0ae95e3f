"""Bad input whose message had spoken pydantic's language, said a thing twice, or was not
given at all (badinput audit, session 34): each is now one line naming the file, the key
and the value, and saying what was expected, with no traceback and no output left."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumecast.errors import ScenarioError
from plumecast.nearfield.zones.scenario import read_zones_scenario
from plumecast.scenario import load_scenario
from tests.helpers import SMALL_ZONES_SCENARIO, run_cli
from tests.test_scenario import GOOD, write

#: pydantic's own wording and internals that the messages of this audit must not show (its words for a
#: bound, a choice or a yes/no value, "Input should be less than or equal to 90", are those of
#: tests/test_badinput_audit34b.py)
PYDANTIC_WORDS = ("Input should be a valid", "Unable to extract tag", "Input tag", "object to extract fields",
                  "function-after", "lax-or-strict", "instance of", "<class")

#: a zones scenario in the scenario language (releases, local_weather)
ZONES = """\
name: local
releases:
  - {type: point, name: tank, lat: 45, lon: 5, amount_kg: 500, duration_s: 0}
agent: chlorine
local_weather: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}
"""


def problem_lines(tmp_path: Path, text: str, loader=load_scenario) -> list[str]:
    """The lines of the ScenarioError raised reading ``text`` (after 'invalid scenario:')."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        loader(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for word in PYDANTIC_WORDS:
        assert word not in msg, msg
    return [ln.strip() for ln in msg.splitlines() if ln.strip() != "invalid scenario:"]


def cli(args: list[str], capsys, monkeypatch) -> tuple[int, str]:
    rc, out = run_cli(args, capsys, monkeypatch)
    assert "Traceback" not in out, out
    return rc, out


# --------------------------------------------------------------------------- 1. agent: 5


def test_an_agent_that_is_no_name_nor_mapping_says_what_an_agent_may_be(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, GOOD.replace("agent: chlorine", "agent: 5"))
    outdir = tmp_path / "out"
    rc, out = cli(["run", str(path), "-o", str(outdir)], capsys, monkeypatch)
    assert rc == 2
    assert f"{path}, line 7: agent: 5 is not an agent; expected the name of a shipped agent" in out, out
    assert "`plumecast agents` lists them" in out and "a mapping of the agent's fields" in out
    assert "valid dictionary" not in out and "(got" not in out
    assert not outdir.exists()  # nothing written


@pytest.mark.parametrize(("value", "shown"), [("[chlorine]", "['chlorine']"), ("true", "true"), ("", "null")])
def test_other_agents_of_the_wrong_kind_are_shown_as_written(tmp_path, value, shown):
    lines = problem_lines(tmp_path, GOOD.replace("agent: chlorine", f"agent: {value}".rstrip()))
    assert len(lines) == 1 and lines[0].endswith(f"agent: {shown} is not an agent; expected the name of a shipped "
                                                 "agent (e.g. chlorine; `plumecast agents` lists them) or a mapping "
                                                 "of the agent's fields (name, molecular_weight_g_mol, aegl_ppm, "
                                                 "probit ...; docs/scenario.md)"), lines


def test_zones_says_the_same_of_an_agent(tmp_path):
    lines = problem_lines(tmp_path, ZONES.replace("agent: chlorine", "agent: 5"), read_zones_scenario)
    assert len(lines) == 1 and "line 4: agent: 5 is not an agent; expected the name of a shipped agent" in lines[0]


# --------------------------------------------------------------------------- 2. releases: [1.5]


def test_a_release_that_is_no_mapping_is_shown_once_with_what_a_release_is(tmp_path, capsys, monkeypatch):
    text = GOOD.split("releases:")[0] + "releases: [1.5]\noutput:" + GOOD.split("output:")[1]
    path = write(tmp_path, text)
    outdir = tmp_path / "out"
    rc, out = cli(["run", str(path), "-o", str(outdir)], capsys, monkeypatch)
    assert rc == 2 and not outdir.exists()
    line = next(ln for ln in out.splitlines() if "releases.0" in ln).strip()
    assert line == (f"{path}, line 9: releases.0: 1.5 is not a release; expected a mapping with type: point (keys "
                    "lat, lon ...) or type: cities (keys rate_kg_s_per_capita ...) (docs/scenario.md)"), line
    assert "got" not in out and out.count("1.5") == 1 and "valid dictionary" not in out


@pytest.mark.parametrize(
    ("item", "key", "expected"),
    [
        ("{lat: 50, lon: 10, rate_kg_s: 1}", "releases.0", "the release has no type; expected a mapping with "
         "type: point (keys lat, lon ...) or type: cities"),
        ("{type: volcano, lat: 50, lon: 10}", "releases.0.type", "'volcano' is not a release type; expected point "
         "or cities (docs/scenario.md)"),
        ("[50, 10]", "releases.0", "[50, 10] is not a release; expected a mapping with type: point"),
    ],
)
def test_a_release_without_its_type_names_the_kinds(tmp_path, item, key, expected):
    text = GOOD.split("releases:")[0] + f"releases: [{item}]\noutput:" + GOOD.split("output:")[1]
    lines = problem_lines(tmp_path, text)
    assert len(lines) == 1 and f": {key}: {expected}" in lines[0], lines


def test_zones_names_a_release_that_is_no_mapping_instead_of_saying_there_is_none(tmp_path):
    text = ZONES.replace("  - {type: point, name: tank", "  - 1.5\n  - {type: point, name: tank")
    lines = problem_lines(tmp_path, text, read_zones_scenario)
    assert len(lines) == 1 and lines[0].endswith("line 3: releases.0: 1.5 is not a release; expected a mapping "
                                                 "with type: point (keys lat, lon ...) or type: cities (keys "
                                                 "rate_kg_s_per_capita ...) (docs/scenario.md)"), lines
    text = ZONES.replace("  - {type: point, name: tank, lat: 45, lon: 5, amount_kg: 500, duration_s: 0}", "  - 1.5")
    lines = problem_lines(tmp_path, text, read_zones_scenario)
    assert "has none" not in lines[0] and "releases.0: 1.5 is not a release" in lines[0], lines


def test_a_measure_that_is_no_mapping_or_has_no_type_names_the_kinds(tmp_path):
    plans = ("plans:\n  - name: x\n    measures:\n      - 5\n      - {type: bogus}\n      - {at_h: 1}\n")
    lines = problem_lines(tmp_path, GOOD + plans)
    assert len(lines) == 3, lines
    assert lines[0].endswith("line 24: plans.0.measures.0: 5 is not a measure; expected a mapping with type: "
                             "termination (keys at_h ...), type: shelter (keys start_h ...), type: evacuation "
                             "(keys order_h ...) or type: front (keys ignition_h, points, speed_m_s ...) "
                             "(docs/plans.md)"), lines
    assert lines[1].endswith("line 25: plans.0.measures.1.type: 'bogus' is not a measure type; expected "
                             "termination, shelter, evacuation or front (docs/plans.md)"), lines
    assert lines[2].endswith("line 26: plans.0.measures.2: the measure has no type; expected a mapping with type: "
                             "termination (keys at_h ...), type: shelter (keys start_h ...), type: evacuation (keys "
                             "order_h ...) or type: front (keys ignition_h, points, speed_m_s ...) (docs/plans.md)")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a value the message shows already is not repeated as "(got ...)"
        ("start: 2026-01-15T06:00:00Z", "start: 20260120", "start: 20260120 is a number, not a date; expected an "
         "ISO 8601 date-time"),
        ("agent: chlorine", "agent: unobtainium", "agent: unknown agent 'unobtainium'; known agents are"),
        # a value that is not the mapping or the list asked for
        ("met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}", "met: 5", "met: 5 is not a mapping; expected a mapping "
         "of keys"),
        ("releases:\n  - type: point", "releases: 1.5\nx:\n  - type: point", "releases: 1.5 is not a list; "
         "expected a list"),
    ],
)
def test_the_value_is_shown_once(tmp_path, old, new, expected):
    assert old in GOOD
    lines = problem_lines(tmp_path, GOOD.replace(old, new))
    assert expected in lines[0] and "(got" not in lines[0], lines


# --------------------------------------------------------------------------- 3. region: region:


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("nowhere", "'nowhere'; expected 'all', a list of city names or [lon_min, lat_min, lon_max, lat_max]"),
        ("[1, 95, 3, 4]", "box [1, 95, 3, 4] needs -90 <= lat_min <= lat_max <= 90 (order: lon_min, lat_min, "
                          "lon_max, lat_max)"),
        ("[1, 2]", "[1, 2]; expected 'all', a non-empty list of city names or [lon_min, lat_min, lon_max, lat_max]"),
    ],
)
def test_a_region_is_named_once(tmp_path, region, expected):
    plans = f"plans:\n  - name: x\n    measures:\n      - {{type: evacuation, region: {region}, order_h: 1, clearance_h: 2}}\n"
    lines = problem_lines(tmp_path, GOOD + plans)
    assert len(lines) == 1 and lines[0].endswith(f"line 24: plans.0.measures.0.region: {expected}"), lines
    assert "region: region" not in lines[0] and "(got" not in lines[0]


# --------------------------------------------------------------------------- 4. issued_at: [1]

DATE = ("expected an ISO 8601 date-time such as 2026-01-20T06:00:00Z (Z or an offset such as +01:00 gives the time "
        "zone; without one it is read as UTC)")


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("[1]", "[1] is a list, not a date"),
        ("{a: 1}", "{'a': 1} is a mapping, not a date"),
        ("true", "true is a yes/no value, not a date"),
        ("'20260120'", "'20260120' is digits only, not a date"),  # had been 1970-08-23, seconds since 1970
        ("soon", "'soon' is not a date-time as written"),
        ("2026-02-30", "'2026-02-30' names a day, month or time of day that does not exist"),
    ],
)
def test_an_issue_time_that_is_no_date_is_shown_with_the_format_expected(tmp_path, value, said):
    lines = problem_lines(tmp_path, GOOD.replace("agent: chlorine", f"agent: chlorine\nissued_at: {value}"))
    assert lines == [f"{tmp_path / 's.yaml'}, line 8: issued_at: {said}; {DATE}"], lines


def test_the_cli_shows_the_issue_time_given(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, GOOD.replace("agent: chlorine", "agent: chlorine\nissued_at: [1]"))
    rc, out = cli(["run", str(path), "-o", str(tmp_path / "out")], capsys, monkeypatch)
    assert rc == 2 and f"{path}, line 8: issued_at: [1] is a list, not a date; {DATE}" in out, out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("value", "said"), [("5", "5 is a number, not a date"), ("[1]", "[1] is a list, not a date"),
                                             ("soon", "'soon' is not a date-time as written")])
def test_zones_refuses_an_issue_time_that_is_no_date(tmp_path, value, said):
    # zones read issued_at for the countdowns: 5 had been 5 s after 1970, [1] left out as "read by run and compare"
    lines = problem_lines(tmp_path, ZONES + f"issued_at: {value}\n", read_zones_scenario)
    assert lines == [f"{tmp_path / 's.yaml'}, line 6: issued_at: {said}; {DATE} (zones read it for the receptors' "
                     "countdowns)"], lines
    assert read_zones_scenario(write(tmp_path, ZONES + "issued_at: 2026-01-20T06:00:00Z\n")).issued is not None


# --------------------------------------------------------------------------- 5. plans: []


def test_compare_refuses_an_empty_list_of_plans(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, GOOD + "plans: []\nensemble: {members: 2}\n")
    outdir = tmp_path / "out"
    rc, out = cli(["compare", str(path), "-o", str(outdir), "--workers", "0"], capsys, monkeypatch)
    assert rc == 2, out
    assert f"error: {path}, line 21: plans: an empty list; expected at least one plan (a name and its measures" in out
    assert "To run the do-nothing baseline alone over the ensemble's members, leave plans out" in out
    assert "members x" not in out and not outdir.exists()  # refused before any member ran


def test_leaving_plans_out_is_not_refused_as_an_empty_list(tmp_path):
    from plumecast.cli.compare import refuse_empty_plans
    from plumecast.scenario_yaml import parse_yaml

    for text in (GOOD + "ensemble: {members: 2}\n", GOOD + "plans:\n  - name: x\n    measures: [{type: termination, "
                 "at_h: 1}]\n"):
        data, lines = parse_yaml(text, "s.yaml")
        refuse_empty_plans(data, "s.yaml", lines)
        load_scenario(write(tmp_path, text))  # and the file is valid


# --------------------------------------------------------------------------- 6. serve a zones folder


def test_serve_says_a_zones_folder_is_not_one_it_shows(tmp_path, capsys, monkeypatch):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from plumecast.fileio import OutputSet

    folder = tmp_path / "zones-out"
    with OutputSet(folder, command="zones") as out:  # as plumecast zones writes its set
        for name in ("zones.geojson", "zones.kml"):
            (out.path / name).write_text("{}")
    rc, out = cli(["serve", str(folder), "--port", "0"], capsys, monkeypatch)
    assert rc == 2
    assert out.strip() == (f"error: {folder}: holds the output of plumecast zones, which the dashboard does not show; "
                           "expected a folder written by plumecast run, compare or demo; open zones.geojson or "
                           "zones.kml in a map viewer (QGIS, Google Earth)"), out


def test_a_zones_folder_without_its_marker_is_named_too(tmp_path):
    from plumecast.fileio import MARKER_NAME
    from plumecast.web.loader import not_a_result_folder

    (tmp_path / "zones.geojson").write_text("{}")
    assert "holds the output of plumecast zones" in str(not_a_result_folder(tmp_path))
    (tmp_path / "zones.geojson").unlink()
    (tmp_path / MARKER_NAME).write_text('{"command": "run", "files": []}')  # a run's set: served, as before
    assert not_a_result_folder(tmp_path) is None
    (tmp_path / MARKER_NAME).write_text("not json")  # a marker that cannot be read: as before
    assert not_a_result_folder(tmp_path) is None


# --------------------------------------------------------------------------- 7. tags in key paths


def test_key_paths_under_measures_read_as_the_file_writes_them(tmp_path):
    plans = ("plans:\n  - name: x\n    measures:\n"
             "      - {type: termination, at_h: 1}\n"
             "      - {type: shelter, start_h: soon}\n"
             "      - {type: shelter, compliance: 0.5}\n"
             "      - {type: evacuation, order_h: 1}\n"
             "      - {type: front, ignition_h: 1, points: [[95, 0]], speed_m_s: 1}\n"
             "      - {type: shelter, start_h: 1, rgion: all}\n")
    lines = problem_lines(tmp_path, GOOD + plans)
    keys = [ln.split(": ")[1] for ln in lines]
    assert keys == ["plans.0.measures.1.start_h", "plans.0.measures.2.start_h", "plans.0.measures.3",
                    "plans.0.measures.4.points", "plans.0.measures.5.rgion"], lines
    for tag in (".shelter", ".evacuation", ".front", ".termination"):
        assert tag not in "\n".join(lines)
    assert lines[1].endswith("line 26: plans.0.measures.2.start_h: required key is missing"), lines


def test_a_key_named_like_a_kind_is_kept(tmp_path):
    # releases.0.point.lat -> releases.0.lat, and a key path through a real key is left as it is
    lines = problem_lines(tmp_path, GOOD.replace("lat: 50.0\n", "lat: 95.0\n"))
    assert len(lines) == 1 and ": releases.0.lat: " in lines[0], lines
    lines = problem_lines(tmp_path, GOOD.replace("    stop_h: 3\n", "    stop_h: 3\n    stack: {diameter_m: 0}\n"))
    assert ": releases.0.stack.diameter_m: " in lines[0] and "exit_velocity_m_s" in "\n".join(lines), lines


def test_valid_plans_and_zones_still_load(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD + "plans:\n  - name: x\n    measures:\n      - {type: shelter, "
                             "region: all, start_h: 1}\n      - {type: termination, at_h: 2}\n"))
    assert [m.type for m in sc.plans[0].measures] == ["shelter", "termination"]
    assert read_zones_scenario(write(tmp_path, ZONES)).release_index == 0
    assert read_zones_scenario(write(tmp_path, SMALL_ZONES_SCENARIO)).old_format
