"""User-facing messages and outputs of the command line (user-workflow audit): ``-o .``,
grid resolution suggestions, threat_points.csv, empty and garbage input files, and
``--resume`` on a finished run."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from plumecast.errors import MetDataError, OutputPathError, ScenarioError
from plumecast.fileio import MARKER_NAME, OutputSet
from plumecast.met.reader import open_wind
from plumecast.nearfield.zones.export import distinct_times
from plumecast.scenario import load_scenario
from tests.helpers import SMALL_ZONES_SCENARIO, run_cli, small_scenario

ZONES_WITH_POINTS = SMALL_ZONES_SCENARIO + "points: [{name: school, lat: 45.0, lon: 5.01}, {name: far, lat: 45, lon: 8}]\n"


# --------------------------------------------------------------------------- -o . and -o /


def test_the_empty_current_folder_is_accepted_and_stays_the_same_folder(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    inode = here.stat().st_ino
    monkeypatch.chdir(here)
    with OutputSet(".", command="t") as out:
        assert out.path.parent == tmp_path  # staging beside the folder, not in it
        (out.path / "a.nc").write_text("1")
    assert out.committed == [Path("a.nc")]  # the paths as the user gave the folder
    assert sorted(p.name for p in here.iterdir()) == [MARKER_NAME, "a.nc"]
    assert here.stat().st_ino == inode  # moved in, not swapped: a shell in it still sees the files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]  # no lock or staging folder left
    with pytest.raises(OutputPathError, match=r"^-o/--output \. \(.*here\): already holds plumecast results"):
        OutputSet(".", command="t").__enter__()
    with OutputSet(".", command="t", force=True) as out:
        (out.path / "b.nc").write_text("2")
    assert sorted(p.name for p in here.iterdir()) == [MARKER_NAME, "b.nc"]  # the old set's a.nc is gone
    assert here.stat().st_ino == inode


def test_zones_into_the_empty_current_folder_and_the_root_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.yaml").write_text(ZONES_WITH_POINTS)
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    rc, out = run_cli(["zones", "../s.yaml", "-o", "."], capsys, monkeypatch)
    assert rc == 0, out
    assert "is not empty" not in out
    assert {"zones.geojson", "threat_points.csv", MARKER_NAME} <= {p.name for p in here.iterdir()}
    rc, out = run_cli(["zones", "../s.yaml", "-o", "/"], capsys, monkeypatch)
    assert rc == 2
    assert "error: -o/--output /: is the root of the file system; expected a folder for the results" in out
    assert "Traceback" not in out


# --------------------------------------------------------------------------- grid resolution


GRID_RUN = small_scenario("grid", 100).replace(
    "{lon_min: 0, lon_max: 20, lat_min: 40, lat_max: 60, resolution_deg: 0.5}",
    "{lon_min: -84, lon_max: -79, lat_min: 32, lat_max: 36, resolution_deg: RES}").replace(
    "lat: 50, lon: 8", "lat: 33.56, lon: -81.81")


def _grid_error(tmp_path: Path, text: str) -> str:
    (tmp_path / "g.yaml").write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "g.yaml")
    return str(info.value)


@pytest.mark.parametrize("res", ["0.03", "0.0299401"])
def test_the_suggested_resolutions_and_bounds_are_accepted(tmp_path, res):
    msg = _grid_error(tmp_path, GRID_RUN.replace("RES", res))
    assert f"resolution_deg ({res} deg)" in msg and "lon_max - lon_min (5 deg) is not a whole number" in msg
    assert "lat_max - lat_min (4 deg)" in msg  # both spans are named, so the suggestions suit both
    suggested = re.search(r"divides both spans \(e\.g\. ([0-9.]+) or ([0-9.]+)\)", msg)
    assert suggested is not None, msg
    assert suggested.groups() == ("0.025", "0.04")
    for value in suggested.groups():
        (tmp_path / "ok.yaml").write_text(GRID_RUN.replace("RES", value))
        assert load_scenario(tmp_path / "ok.yaml").output.grid.resolution_deg == float(value)
    bounds = dict(re.findall(r"(l[ao][nt]_max): (-?[0-9.]+) \(\d+ cells\)", msg))
    assert set(bounds) == {"lon_max", "lat_max"}, msg
    text = GRID_RUN.replace("RES", res).replace("lon_max: -79", f"lon_max: {bounds['lon_max']}").replace(
        "lat_max: 36", f"lat_max: {bounds['lat_max']}")
    (tmp_path / "moved.yaml").write_text(text)
    assert load_scenario(tmp_path / "moved.yaml").output.grid.lon_max == float(bounds["lon_max"])


def test_a_resolution_that_divides_one_span_gets_a_suggestion_for_the_other(tmp_path):
    msg = _grid_error(tmp_path, GRID_RUN.replace("RES", "0.5").replace("lat_max: 36", "lat_max: 35.25"))
    assert "lat_max - lat_min (3.25 deg) is not a whole number of cells of resolution_deg (0.5 deg): 6.5 cells" in msg
    assert "lon_max - lon_min" not in msg
    assert "(e.g. 0.25)" in msg and "lat_max: 35.5 (7 cells)" in msg


# --------------------------------------------------------------------------- threat_points.csv


def test_threat_points_csv_has_units_and_rounded_values(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.yaml").write_text(ZONES_WITH_POINTS)
    rc, out = run_cli(["zones", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "z")], capsys, monkeypatch)
    assert rc == 0, out
    with open(tmp_path / "z" / "threat_points.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["time [s]", "point", "outdoor_ppm [ppm]", "indoor_ppm [ppm]", "in_range", "too_near", "lat",
                       "lon"]
    body = rows[1:]
    times = [float(r[0]) for r in body[::2]]
    assert len(set(times)) == len(times) and times == sorted(times)  # one row per time and point
    for r in body:
        assert len(r[0].replace(".", "").replace("-", "").strip("0")) <= 4, r  # 3 figures (4 where needed)
    school = [r for r in body if r[1] == "school"]
    far = [r for r in body if r[1] == "far"]
    assert any(float(r[2]) > 0 for r in school)
    for r in school:
        for cell in r[2:4]:
            mantissa = f"{float(cell):e}".split("e")[0].rstrip("0").rstrip(".").replace(".", "").lstrip("-")
            assert len(mantissa) <= 2, cell  # two significant figures, as in consequences.csv
    assert all(r[2] == "NaN" and r[3] == "NaN" and r[4] == "False" for r in far)  # unknown, never 0
    assert school[0][5:] == ["False", "45.0", "5.01"]  # too_near, lat, lon


def test_times_are_rounded_but_kept_distinct():
    assert distinct_times([1.0, 1.00914661110774, 235.80861343101452]) == [1.0, 1.01, 236.0]
    assert distinct_times([1.1, 1.104, 1.108]) == [1.1, 1.104, 1.108]  # 3 figures would make 1.1 twice


# --------------------------------------------------------------------------- empty and garbage inputs


@pytest.mark.parametrize(("text", "what"), [("", "0 bytes"), ("# nothing yet\n\n", "only blank lines or comments")])
@pytest.mark.parametrize("command", ["run", "zones"])
def test_an_empty_scenario_file_is_said_to_be_empty(tmp_path, monkeypatch, capsys, command, text, what):
    (tmp_path / "s.yaml").write_text(text)
    rc, out = run_cli([command, str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")], capsys, monkeypatch)
    assert rc == 2
    assert f"s.yaml: the file is empty ({what}); expected a scenario" in out
    assert "NoneType" not in out and "Traceback" not in out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["run", "zones"])
def test_a_scenario_that_is_one_word_says_what_it_holds(tmp_path, monkeypatch, capsys, command):
    (tmp_path / "s.yaml").write_text("garbage\n")
    rc, out = run_cli([command, str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")], capsys, monkeypatch)
    assert rc == 2
    assert "at the top level, got the text 'garbage'" in " ".join(out.split())
    assert "got str" not in out


def test_met_files_that_are_empty_or_text_are_named_plainly(tmp_path):
    (tmp_path / "empty.nc").write_bytes(b"")
    with pytest.raises(MetDataError) as info:
        open_wind(tmp_path / "empty.nc")
    assert "empty.nc: is empty (0 bytes" in str(info.value) and "begins with" not in str(info.value)
    (tmp_path / "fake.nc").write_text("garbage\n")
    with pytest.raises(MetDataError) as info:
        open_wind(tmp_path / "fake.nc")
    assert "it begins with 'garbage\\n':" in str(info.value)  # escaped once, as Python writes it
    assert "\\\\n" not in str(info.value)


# --------------------------------------------------------------------------- --resume a finished run


def test_resume_of_a_finished_run_says_it_finished(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.yaml").write_text(small_scenario("ck", 200, "backend: numpy"))
    monkeypatch.chdir(tmp_path)
    rc, out = run_cli(["run", "s.yaml", "-o", "ck1", "--checkpoint-h", "1", "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 0, out
    before = sorted(os.listdir("ck1"))
    rc, out = run_cli(["run", "--resume", "ck1"], capsys, monkeypatch)
    assert rc == 2
    flat = " ".join(out.split())
    assert "--resume ck1: holds the finished results of `plumecast run`" in flat
    assert "nothing to resume" in flat and "plumecast run SCENARIO -o ck1 --force" in flat
    assert "expected a folder written by" not in flat
    assert sorted(os.listdir("ck1")) == before  # left as it was
    rc, out = run_cli(["run", "--resume", "nowhere"], capsys, monkeypatch)
    assert rc == 2 and "--resume nowhere: no such folder" in " ".join(out.split())


def test_a_release_outside_the_met_names_the_files_as_written(tmp_path):
    """The files of met.path read as a person wrote them, not as a Python list of PosixPath."""
    import pytest

    from plumecast.errors import ScenarioError
    from plumecast.scenario import scenario_from_dict
    from tests.met.style_files import atmosphere, write_era5

    files = write_era5(atmosphere(n_times=2), tmp_path / "pl.nc", tmp_path / "sl.nc")
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict({"start": "2026-03-01T00:00:00Z", "duration_h": 1,
                            "met": {"source": "file", "path": [str(p) for p in files]},
                            "releases": [{"type": "point", "lat": -30.0, "lon": 100.0, "rate_kg_s": 1.0}]})
    text = str(err.value)
    assert "outside the winds of met.path" in text and f"{files[0]}, {files[1]}" in text
    assert "PosixPath" not in text and "[" not in text.split("met.path", 1)[1].split("(lat", 1)[0]


# --------------------------------------------------------------------------- zones: what the output says


def test_zones_point_table_rounds_the_axis_and_the_gaussian_tail(tmp_path, monkeypatch, capsys):
    """A point on the plume axis has crosswind 0 (was -0.00000000000000010 km, the lon/lat
    projection's rounding); a peak below the onset floor reads "< 0.005" with no time
    (was 0.0000000000010 ppm at 40 min); the shelter line says when people go in and out."""
    text = (SMALL_ZONES_SCENARIO + "points: [{name: school, lat: 45.0, lon: 5.01}, {name: aside, lat: 45.004, "
            "lon: 5.01}]\nshelter: {air_changes_per_hour: 0.5, start: 300, end: 1200}\n")
    (tmp_path / "s.yaml").write_text(text)
    rc, out = run_cli(["zones", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")], capsys, monkeypatch)
    assert rc == 0, out
    table = out[out.index("threat at a point"):out.index("dispersion:")]  # the point table only
    cells = {ln.split("│")[1].replace("†", "").strip(): [c.strip() for c in ln.split("│")[2:-1]]
             for ln in table.splitlines() if ln.startswith(("│ school", "│ aside"))}
    assert cells["school"][1] == "0", cells  # crosswind [km]
    assert cells["aside"][2:] == ["< 0.005", "—", "< 0.005", "—"], cells
    said = " ".join(out.split())
    assert ("with shelter-in-place (0.5 air changes/h, 100% compliance, from 5 min after the release start until "
            "20 min after the release start, then ventilated at 4 air changes/h)") in said, said


def test_zones_shelter_words_follow_start_and_end():
    """The shelter summary says the scenario's start and end (was always "until the cloud
    has passed", even with shelter.start_h / end_h set)."""
    from plumecast.cli.zones import shelter_words
    from plumecast.shelter import Shelter

    assert shelter_words(None) == ("0.5 air changes/h, 100% compliance, from the release start until the cloud "
                                   "has passed")
    assert shelter_words(Shelter(start=1800.0)) == ("0.5 air changes/h, 100% compliance, from 30 min after the "
                                                    "release start until the cloud has passed")
    assert shelter_words(Shelter(compliance_fraction=0.8, end=1080.0)) == (
        "0.5 air changes/h, 80% compliance, from the release start until 18 min after the release start, then "
        "ventilated at 4 air changes/h")


ZONES_LANGUAGE = """\
name: t
agent: chlorine
releases:
  - type: point
    lat: 40.0
    lon: -75.0
    height_m: 1
    amount_kg: 1000
    duration_s: 600
local_weather: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}
"""


@pytest.mark.parametrize(("old", "new", "said"), [
    ("    amount_kg: 1000\n", "    tank: {volume_m3: 2, temperature_c: 20, hole_diameter_m: 3}\n",
     "s.yaml, line 8: releases.0.tank.hole_diameter_m: a 3 m hole is larger than the tank"),
    ("amount_kg: 1000", "amount_kg: 5.0e12", "s.yaml, line 8: releases.0.amount_kg: 5e+12 kg is beyond the range"),
])
def test_zones_source_and_dense_model_errors_name_file_line_and_key(tmp_path, monkeypatch, capsys, old, new, said):
    """The tank's source model and the dense-gas range check refuse a release once they run;
    the message names the file, the line and the key as the file spells it (was
    "error: release.tank.hole_diameter_m: ..." and "error: releases.amount_kg: ...")."""
    (tmp_path / "s.yaml").write_text(ZONES_LANGUAGE.replace(old, new))
    rc, out = run_cli(["zones", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")], capsys, monkeypatch)
    assert rc == 2 and said in " ".join(out.split()), out
    assert "Traceback" not in out


def test_zones_old_format_tank_error_names_file_line_and_key(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.yaml").write_text(SMALL_ZONES_SCENARIO.replace(
        "release: {amount_kg: 500, duration_s: 0}",
        "release:\n  tank: {volume_m3: 2, temperature_c: 20, hole_diameter_m: 3}"))
    rc, out = run_cli(["zones", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")], capsys, monkeypatch)
    assert rc == 2 and "s.yaml, line 4: release.tank.hole_diameter_m: a 3 m hole" in " ".join(out.split()), out


def test_zones_misspelt_duration_is_named_with_the_missing_one(tmp_path, monkeypatch, capsys):
    """duration_min instead of duration_s: the unknown key is named beside the missing
    duration (was: only "needs how long releases.0 lasts")."""
    (tmp_path / "s.yaml").write_text(ZONES_LANGUAGE.replace("duration_s: 600", "duration_min: 10"))
    rc, out = run_cli(["zones", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")], capsys, monkeypatch)
    said = " ".join(out.split())
    assert rc == 2 and "needs how long releases.0 lasts" in said, out
    assert "releases.0.duration_min (line 9): unknown key (check its spelling)" in said, out


def test_zones_says_the_agent_it_assumed(tmp_path, monkeypatch, capsys):
    """Without agent: the default (chlorine) is said, not used silently."""
    (tmp_path / "s.yaml").write_text(ZONES_LANGUAGE.replace("agent: chlorine\n", ""))
    rc, out = run_cli(["zones", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")], capsys, monkeypatch)
    assert rc == 0, out
    assert "zones: no agent given: chlorine is assumed (the default); give agent: NAME" in " ".join(out.split())


def test_sigterm_while_the_commands_load_is_one_line() -> None:
    """The script's entry point (pyproject, python -m plumecast) sets a SIGTERM handler before the
    commands' modules load: one line and status 143 (the interpreter's default had ended the
    process without a word; outputs audit, session 30)."""
    import subprocess
    import sys
    import tomllib

    root = Path(__file__).resolve().parents[1]
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["plumecast"] == "plumecast.cli.entry:main"
    assert "plumecast.cli.entry" in (root / "src" / "plumecast" / "__main__.py").read_text()
    body = ("import os, signal, time\n"
            "from plumecast.cli import entry\n"
            "signal.signal(signal.SIGTERM, entry._terminated_starting)\n"
            "os.kill(os.getpid(), signal.SIGTERM)\n"
            "time.sleep(30)\n")
    r = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=60)
    assert r.returncode == 143
    assert r.stderr == "terminated (SIGTERM) while plumecast was starting: nothing was written\n"


def test_version_is_printed(capsys, monkeypatch):
    # a planner could not say which version gave a forecast (first-hour audit, session 40)
    from plumecast import __version__

    rc, out = run_cli(["--version"], capsys, monkeypatch)
    assert rc == 0 and out.strip() == f"plumecast {__version__}"
