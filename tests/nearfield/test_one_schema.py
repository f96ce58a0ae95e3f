"""One scenario language: the same file drives `zones`, `run` and `compare`; the old
local format gives the same zones; each mode says what it ignored; the zone map's
legend shows the zone table's thresholds."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import shapely
import yaml

from plumecast.errors import ScenarioError
from plumecast.nearfield.zones import (
    compute_zones,
    legend_labels,
    read_zones_scenario,
    zone_map_figure,
    zones_from_dict,
)
from plumecast.nearfield.zones.export import distance_text, threshold_text, to_geojson, to_kml
from plumecast.scenario import ignored_keys, ignored_line, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "graniteville_2005.yaml"
OLD_EXAMPLE = Path(__file__).resolve().parent / "data" / "graniteville_2005_old_format.yaml"
RHINE = ROOT / "examples" / "rhine_stack_24h.yaml"


def _doc_example() -> dict:
    """The YAML example of docs/scenario.md that drives zones and run."""
    text = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    block = text.split("A file that drives `zones` and `run`", 1)[1]
    return yaml.safe_load(block.split("```yaml", 1)[1].split("```", 1)[0])


def _write(tmp_path: Path, data: dict, name: str = "sc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _same(x, y) -> bool:
    """Equal, NaN equal to NaN (unknown people, fixed-level exposures)."""
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def _same_zones(a, b) -> None:
    assert [z.level.name for z in a.zones] == [z.level.name for z in b.zones]
    for za, zb in zip(a.zones, b.zones, strict=True):
        assert za.max_distance_m == zb.max_distance_m and za.area_m2 == zb.area_m2
        assert _same(za.threshold_at_tip_kg_m3, zb.threshold_at_tip_kg_m3)
        assert shapely.to_wkb(za.polygon) == shapely.to_wkb(zb.polygon)
    for ra, rb in zip(a.table(), b.table(), strict=True):
        assert ra.keys() == rb.keys() and all(_same(ra[k], rb[k]) for k in ra), (ra, rb)


# --------------------------------------------------------------------------- the same file through zones and run


def test_doc_example_drives_zones_and_run(tmp_path):
    from plumecast.runner import run

    path = _write(tmp_path, _doc_example())
    zin = read_zones_scenario(path)
    rel = zin.scenario.release
    assert (rel.rate_kg_s, rel.duration_s) == (20.0, 600.0)
    assert zin.scenario.meteorology.stability == "D"
    res = compute_zones(zin.scenario, consequences=False)
    assert res.zones[-1].max_distance_m > 0  # AEGL-3 of 20 kg/s chlorine is reached

    sc = load_scenario(path)
    assert sc.releases[0].stop_h == pytest.approx(600.0 / 3600.0, rel=1e-12)  # duration_s sets stop_h for run
    r = run(sc.replace(particles=2000, backend="numpy", duration_h=1))
    # the forecast emits the mass zones models: 20 kg/s for 600 s
    assert r.stats["emitted_kg"] == pytest.approx(rel.rate_kg_s * rel.duration_s, rel=1e-9)
    # the climatology gives no boundary layer: the point release's plume takes local_weather's class
    assert ignored_line(ignored_keys(sc, "run"), "run") == (
        "run ignored: local_weather (all but the stability and mixing_height_m, read for the near-field plumes; "
        "terrain, read for the near-field plumes' sigma curves; air_temperature_c, read for the near-field plumes' "
        "pure-vapour ceiling and dense clouds; averaging_time_s, read for the near-field dense clouds' width), "
        "zones (read by zones)")
    # ... and its terrain (local_weather's, by default rural), and the line names the wind at the source
    assert any("class D from local_weather (the met gives no boundary layer), lid 1000 m "
               "(turbulence.mixing_height_m, default 1000 m; local_weather gives no mixing_height_m), Briggs rural "
               "sigmas (local_weather.terrain); wind at the "
               "source: releases.0 7.3 m/s from 268° at the release start" in line
               for line in r.stats["met_provenance"])


def test_rhine_example_drives_zones_and_run():
    sc = load_scenario(RHINE)
    zin = read_zones_scenario(RHINE)
    rel = sc.releases[0]
    assert zin.scenario.source.lat == rel.lat and zin.scenario.source.height_m == rel.height_m
    assert zin.scenario.release.duration_s == pytest.approx((rel.stop_h - rel.start_h) * 3600.0, rel=1e-12)
    # run's shelter (from 1 h after start) is zones' shelter 3600 s after the release starts
    assert zin.scenario.shelter.start == pytest.approx(3600.0)
    assert zin.scenario.shelter.compliance_fraction == sc.shelter.compliance_fraction
    assert zin.scenario.receptors.cities and zin.scenario.receptors.min_population == 200000


def test_compare_file_with_local_weather_drives_zones(tmp_path):
    from plumecast.scenario import demo_plans_scenario_path

    data = yaml.safe_load(demo_plans_scenario_path().read_text())
    assert data.get("plans")
    path = _write(tmp_path, data)
    with pytest.raises(ScenarioError, match="needs local_weather"):
        read_zones_scenario(path)
    # the shipped comparison has area sources only: add a point release and the weather there
    data["releases"].append({"type": "point", "name": "rail car", "lat": 48.85, "lon": 2.35, "rate_kg_s": 10.0,
                             "stop_h": 0.5})
    data["local_weather"] = {"wind_speed_m_s": 5, "wind_from_deg": 270, "stability": "D"}
    path = _write(tmp_path, data)
    sc = load_scenario(path)  # what compare reads
    assert "plans" not in ignored_keys(sc, "compare")
    assert ignored_keys(sc, "compare")["local_weather (all but the stability and mixing_height_m, read for the "
                                       "near-field plumes; terrain, read for the near-field plumes' sigma curves; "
                                       "air_temperature_c, read for the near-field plumes' pure-vapour ceiling and "
                                       "dense clouds; averaging_time_s, read for the near-field dense clouds' width)"
                                       ] == "zones"
    assert ignored_keys(sc, "run")["plans"] == "compare"
    zin = read_zones_scenario(path)
    assert zin.release_index == len(data["releases"]) - 1
    assert zin.ignored["plans"] == "compare" and zin.ignored["met"] == "run and compare"
    assert zin.ignored["releases.0"] == "run and compare"
    assert zin.scenario.release.duration_s == pytest.approx(1800.0)


# --------------------------------------------------------------------------- old vs new format


def test_old_and_new_format_give_identical_zones():
    new, old = read_zones_scenario(EXAMPLE), read_zones_scenario(OLD_EXAMPLE)
    assert new.scenario == old.scenario
    assert old.old_format and not new.old_format
    _same_zones(compute_zones(new.scenario, consequences=False), compute_zones(old.scenario, consequences=False))


def test_old_and_new_format_identical_with_tank_shelter_points(tmp_path):
    tank = {"volume_m3": 20.0, "fill_fraction": 0.8, "temperature_c": 20.0, "hole_diameter_m": 0.02}
    weather = {"wind_speed_m_s": 2.5, "wind_from_deg": 200, "daytime": True, "insolation": "moderate",
               "terrain": "urban", "air_temperature_c": 10.0}
    old = {
        "name": "tank leak", "agent": "chlorine",
        "source": {"lat": 48.1, "lon": 11.6, "height_m": 2.0},
        "release": {"tank": tank, "dense_gas": "auto"},
        "meteorology": weather,
        "levels": [{"aegl": 2}, {"ppm": 300, "name": "IDLH"}],
        "receptor_height_m": 2.0,
        "receptors": {"cities": False},
        "shelter": {"air_changes_per_hour": 0.3, "compliance_fraction": 0.9, "start": 600.0},
        "points": [{"name": "school", "lat": 48.11, "lon": 11.61, "air_changes_per_hour": 1.0}],
    }
    new = {
        "name": "tank leak", "agent": "chlorine",
        "start": "2026-03-01T10:00:00Z", "duration_h": 2, "met": {"source": "climatology"},
        "releases": [{"type": "point", "lat": 48.1, "lon": 11.6, "height_m": 2.0, "tank": tank, "start_h": 0.5}],
        "local_weather": weather,
        "zones": {"levels": [{"aegl": 2}, {"ppm": 300, "name": "IDLH"}], "receptor_height_m": 2.0},
        "receptors": {"points": [{"name": "school", "lat": 48.11, "lon": 11.61, "air_changes_per_hour": 1.0}]},
        "shelter": {"air_changes_per_hour": 0.3, "compliance_fraction": 0.9, "start_h": 0.5 + 600.0 / 3600.0},
    }
    a = read_zones_scenario(_write(tmp_path, old, "old.yaml"))
    b = read_zones_scenario(_write(tmp_path, new, "new.yaml"))
    assert a.scenario.model_dump(exclude={"shelter"}) == b.scenario.model_dump(exclude={"shelter"})
    assert b.scenario.shelter.start == pytest.approx(600.0, rel=1e-9)
    # start is read for the receptors' countdowns (zones.scenario.zones_clock)
    assert b.ignored == {"duration_h": "run and compare", "met": "run and compare"}
    za = compute_zones(a.scenario, consequences=False)
    zb = compute_zones(b.scenario.model_copy(update={"shelter": a.scenario.shelter}), consequences=False)
    _same_zones(za, zb)
    # run reads the same file: its particles follow the very profile zones ran (one source model)
    from plumecast.nearfield.zones import plume_setup
    from plumecast.release import schedule

    zones_profile = plume_setup(b.scenario).release_profile
    group = schedule(load_scenario(tmp_path / "new.yaml")).groups[0]
    assert group.source_model == zones_profile.method
    assert (group.rate_edges_s == 0.5 * 3600.0 + zones_profile.time_s).all()
    assert (group.rate_table_kg_s == zones_profile.rate_kg_s).all()


def test_old_format_deprecation_note_and_mixing_refused(tmp_path):
    assert any("old local format" in n for n in read_zones_scenario(OLD_EXAMPLE).notes())
    data = yaml.safe_load(OLD_EXAMPLE.read_text())
    data["releases"] = [{"type": "point", "lat": 33.56, "lon": -81.8, "rate_kg_s": 1.0, "duration_s": 60}]
    with pytest.raises(ScenarioError, match="describe the release twice"):
        read_zones_scenario(_write(tmp_path, data))


# --------------------------------------------------------------------------- what each mode ignored


def test_zones_cli_prints_ignored_keys_line(tmp_path):
    from typer.testing import CliRunner

    from plumecast.cli import app

    r = CliRunner().invoke(app, ["zones", str(RHINE), "-o", str(tmp_path / "out"), "--no-receptors"],
                           env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("zones ignored:")]
    assert len(lines) == 1
    ignored = re.match(r"zones ignored: (.*) \(read by run and compare\)$", lines[0]).group(1).split(", ")
    data = yaml.safe_load(RHINE.read_text())
    expected = [k for k in data if k not in ("name", "description", "agent", "releases", "local_weather",
                                             "receptors", "shelter", "start", "issued_at", "turbulence")]
    # of turbulence zones reads mixing_height_m alone (its lid where local_weather gives none, as run's near field)
    assert ignored == [*expected, "receptors.cities.bbox", "turbulence.kh_m2_s", "turbulence.kz_m2_s"]
    assert "mixing layer: lid 600 m (turbulence.mixing_height_m, default 1000 m; local_weather gives no " \
           "mixing_height_m)" in r.output
    assert "note: this file uses the old local format" not in r.output


def test_ignored_line_groups_keys_by_reader():
    line = ignored_line({"start": "run and compare", "plans": "compare", "met": "run and compare"}, "zones")
    assert line == "zones ignored: start, met (read by run and compare); plans (read by compare)"
    assert ignored_line({}, "run") is None
    sc = load_scenario(RHINE).replace(local_weather=None)
    assert ignored_keys(sc, "run") == {}  # the stack's plume rise: run raises the near-field plume too
    assert "air_temperature_c, read for the stacks' plume rise" in " ".join(ignored_keys(load_scenario(RHINE), "run"))


# --------------------------------------------------------------------------- forecast file without local weather


def test_run_file_without_local_weather_one_clear_message(tmp_path):
    data = yaml.safe_load(RHINE.read_text())
    del data["local_weather"]
    path = _write(tmp_path, data)
    with pytest.raises(ScenarioError) as err:
        read_zones_scenario(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}: plumecast zones needs local_weather")
    for key in ("wind_speed_m_s", "wind_from_deg", "stability", "obukhov_length_m", "cloud_cover_octas"):
        assert key in msg
    assert "required" not in msg.lower() and "validation" not in msg.lower()
    # the forecast itself still loads
    assert load_scenario(path).releases[0].rate_kg_s == 50.0


def test_run_file_without_duration_or_weather_lists_both_needs(tmp_path):
    data = _doc_example()
    del data["local_weather"], data["releases"][0]["duration_s"]
    with pytest.raises(ScenarioError, match=r"needs local_weather .*; and how long releases.0 lasts: duration_s"):
        read_zones_scenario(_write(tmp_path, data))


def test_cli_run_file_without_local_weather_exit_2(tmp_path):
    data = yaml.safe_load(RHINE.read_text())
    del data["local_weather"]
    path = _write(tmp_path, data)
    r = subprocess.run([sys.executable, "-m", "plumecast", "zones", str(path), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "250"})
    assert r.returncode == 2, r.stderr
    assert "local_weather" in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert "Field required" not in r.stderr and "required key is missing" not in r.stderr


def test_language_errors_name_key_and_line(tmp_path):
    data = _doc_example()
    data["local_weather"]["wind_speed_m_s"] = -3
    data["local_wether"] = {}
    path = _write(tmp_path, data)
    with pytest.raises(ScenarioError) as err:
        read_zones_scenario(path)
    msg = str(err.value)
    assert re.search(r"line \d+: local_weather.wind_speed_m_s: -3 is too small; expected more than 0", msg)
    assert re.search(r"line \d+: local_wether: unknown key", msg)


def test_several_point_releases_need_release_option(tmp_path):
    data = _doc_example()
    second = {**data["releases"][0], "name": "second", "lat": 51.5, "rate_kg_s": 5.0}
    data["releases"] = [{**data["releases"][0], "name": "first"}, second]
    path = _write(tmp_path, data)
    with pytest.raises(ScenarioError, match="2 point releases .*--release"):
        read_zones_scenario(path)
    zin = read_zones_scenario(path, release="second")
    assert zin.scenario.release.rate_kg_s == 5.0 and zin.release_index == 1
    assert zin.ignored["releases.0"] == "run and compare"
    assert read_zones_scenario(path, release="0").scenario.release.rate_kg_s == 20.0
    with pytest.raises(ScenarioError, match="not a point release"):
        read_zones_scenario(path, release="third")


def test_duration_and_stop_must_agree():
    base = {"name": "x", "start": "2026-01-01T00:00:00Z", "duration_h": 2,
            "releases": [{"type": "point", "lat": 45, "lon": 5, "rate_kg_s": 1.0, "start_h": 0.5,
                          "duration_s": 1800, "stop_h": 1.0}]}
    sc = scenario_from_dict(base)
    assert sc.releases[0].duration_known_s == 1800.0
    # a copy carries stop_h alone: a plan that stops the release earlier is not refused
    cut = sc.releases[0].model_dump()
    assert "duration_s" not in cut
    cut["stop_h"] = 0.75
    assert sc.replace(releases=[cut]).releases[0].duration_known_s == pytest.approx(900.0)
    base["releases"][0]["stop_h"] = 1.5
    with pytest.raises(ScenarioError, match="stop_h: 1.5 h disagrees with start_h"):
        scenario_from_dict(base)


def test_zones_from_dict_defaults_follow_the_language():
    zin = zones_from_dict({"releases": [{"type": "point", "lat": 45, "lon": 355, "rate_kg_s": 2,
                                         "stop_h": 0.25}],
                           "local_weather": {"wind_speed_m_s": 3, "wind_from_deg": 90, "stability": "C"}})
    sc = zin.scenario
    assert sc.source.lon == pytest.approx(-5.0)  # 355 deg east, as run takes it
    assert sc.release.duration_s == pytest.approx(900.0)
    assert sc.agent.name == "chlorine"  # the language's default agent, as run
    assert not sc.receptors.cities  # no receptors.cities: no city search, as run
    assert [lv.aegl for lv in sc.levels] == [1, 2, 3]
    assert zin.ignored == {}


@pytest.mark.parametrize(("start", "day"), [("2026-06-21T12:00:00Z", True), ("2026-06-21T23:00:00Z", False),
                                           ("2026-06-21T05:00:00+02:00", False)])
def test_daytime_from_start_when_only_cloud_cover_is_given(start, day):
    data = {"start": start, "duration_h": 1,
            "releases": [{"type": "point", "lat": 45, "lon": 5, "rate_kg_s": 2, "duration_s": 600}],
            "local_weather": {"wind_speed_m_s": 2.5, "wind_from_deg": 90, "cloud_cover_octas": 2}}
    zin = zones_from_dict(data)
    met = zin.scenario.meteorology
    assert met.daytime is day and met.stability_route() == "observations"
    assert "start" not in zin.ignored
    assert any(n.startswith(f"zones: local_weather.daytime taken as {str(day).lower()} from start") for n in zin.notes())
    # a class given by the user is never overridden by the time of day
    data["local_weather"]["stability"] = "D"
    zin = zones_from_dict(data)
    assert zin.scenario.meteorology.daytime is None and zin.scenario.meteorology.pg_class() == "D"
    assert "start" not in zin.ignored and zin.release_start is not None  # read for the countdowns


# --------------------------------------------------------------------------- legend = table


def test_map_legend_shows_the_table_thresholds():
    from plumecast.cli.zones import _zone_table

    res = compute_zones(read_zones_scenario(EXAMPLE).scenario, consequences=False)
    rows = res.table()
    # the case the legend used to get wrong: the threshold at the tip is not the 10-min AEGL
    assert any(threshold_text(r["threshold_ppm"]) != threshold_text(z.level.threshold_ppm)
               for r, z in zip(rows, res.zones, strict=True))
    fig = zone_map_figure(res)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    drawn = [z for z in res.zones if not z.polygon.is_empty]
    assert texts[: len(drawn)] == [lab for lab, z in zip(legend_labels(res), res.zones, strict=True)
                                   if not z.polygon.is_empty]
    assert texts[len(drawn):] == ["source"]
    table = _zone_table(res)
    cells = {c.header: list(c._cells) for c in table.columns}
    thr_col = next(v for k, v in cells.items() if str(k).startswith("threshold"))
    dist_col = next(v for k, v in cells.items() if str(k).startswith("max downwind"))
    for k, z in enumerate(res.zones):
        if z.polygon.is_empty:
            continue
        label = texts[drawn.index(z)]
        thr = re.search(r"\(([^ ]+) ppm", label).group(1)
        assert thr == thr_col[k] == threshold_text(rows[k]["threshold_ppm"])
        assert label.endswith(f": {dist_col[k]} km") and dist_col[k] == distance_text(rows[k]["max_distance_m"])
    # the GeoJSON and the KML carry the same thresholds
    gj = [f["properties"] for f in to_geojson(res)["features"] if f["properties"]["kind"] == "threat_zone"]
    assert [p["threshold_ppm"] for p in gj] == [r["threshold_ppm"] for r, z in zip(rows, res.zones, strict=True)
                                               if not z.polygon.is_empty]
    kml = to_kml(res)
    for lab, z in zip(legend_labels(res), res.zones, strict=True):
        if not z.polygon.is_empty:
            assert f"<description>{escape(lab)}</description>" in kml


def test_zones_count_the_people_of_the_named_places_in_its_zones(tmp_path):
    # a place with its population 400 m downwind of a chlorine release: inside AEGL-3, so among
    # the receptors counted (its population was read by run only, and the zone table said 0)
    data = _doc_example()
    data["receptors"] = {"points": [{"name": "town", "lat": 51.45, "lon": 6.75 + 0.4 / 69.5, "population": 2600},
                                    {"name": "farm", "lat": 51.45, "lon": 6.75 + 0.5 / 69.5}]}
    zin = read_zones_scenario(_write(tmp_path, data))
    assert not any("population" in k for k in zin.ignored)
    res = compute_zones(zin.scenario)
    rec = res.receptors
    assert rec is not None and set(rec["receptor"].values) == {"town", "farm"}
    aegl3 = res.table()[-1]
    assert aegl3["receptor_people_inside"] == 2600.0 and aegl3["receptors_unknown_population"] == 1


def test_a_stability_given_but_overridden_by_another_route_is_said(tmp_path):
    data = _doc_example()
    data["local_weather"] |= {"stability": "F", "obukhov_length_m": -5}  # F given, but L says A
    res = compute_zones(read_zones_scenario(_write(tmp_path, data)).scenario, consequences=False)
    assert res.setup.pg_class == "A"
    said = [w for w in res.warnings if "given but not used" in w]
    assert said == ["stability F given but not used: class A comes from obukhov_length_m (stability_from: auto); "
                    "set stability_from: stability to use it"]
    data["local_weather"]["obukhov_length_m"] = 1e6  # near neutral: L gives D, still not F
    data["local_weather"]["stability"] = "D"
    res = compute_zones(read_zones_scenario(_write(tmp_path, data)).scenario, consequences=False)
    assert not [w for w in res.warnings if "given but not used" in w]  # the routes agree: nothing to say


def test_compare_says_it_does_not_read_the_scenarios_shelter():
    """compare's shelter orders are plan measures: a scenario shelter section changed nothing
    there without a word (plans audit)."""
    from plumecast.scenario import demo_plans_scenario_path

    data = yaml.safe_load(demo_plans_scenario_path().read_text())
    data["shelter"] = {"air_changes_per_hour": 3.0, "compliance_fraction": 0.1, "start_h": 2}
    sc = scenario_from_dict(data)
    assert ignored_keys(sc, "compare") == {"shelter (compare: give a plan a shelter measure)": "run and zones"}
    assert "shelter" not in " ".join(ignored_keys(sc, "run"))
