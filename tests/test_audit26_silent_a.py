"""Silent behaviours found by the audit (audit-silent, F1 F3 F5 F6), each now said or refused.

F1: ``plumecast run --resume`` re-read the receptor CSV (and every other file the
scenario names) and put the exposure so far on the new receptors without a word.
F6: the resumed run said "start ... has no time zone" of a start given with ``Z``.
F3: a folder with files of an older comparison beside a new run's set showed both on
the dashboard; ``--force`` did not say which result-like files it kept.
F5: a receptor CSV with its population under another name (``pop``) was read with
every population unknown, and no note.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import plumecast.checkpoint as ckpt
from plumecast.checkpoint import CheckpointWriter, checkpoint_path, load_checkpoint
from plumecast.errors import DataFileError
from plumecast.fileio import MARKER_NAME, OutputSet
from plumecast.receptors import read_receptor_csv
from plumecast.runner import run
from plumecast.scenario import load_scenario
from tests.helpers import run_cli

SCENARIO = """\
name: resumed
start: {start}
duration_h: 3
time_step_s: 600
particles: 400
seed: 3
agent: chlorine
met: {{source: uniform, u_m_s: 5, v_m_s: 0}}
turbulence: {{kh_m2_s: 3000, kz_m2_s: 20, mixing_height_m: 800}}
releases:
  - {{type: point, name: tank, lat: 50, lon: 8, rate_kg_s: 2, stop_h: 1}}
output:
  grid: {{lon_min: 4, lon_max: 16, lat_min: 46, lat_max: 56, resolution_deg: 0.5}}
  interval_min: 60
receptors:
  csv: rec.csv
local_weather: {{wind_speed_m_s: 3, wind_from_deg: 270, stability: D}}
"""
RECEPTORS = "name,lat,lon,population\nA,50.1,9.0,1000\nB,50.0,10.0,\n"


def _folder(tmp_path: Path, start: str = "2026-01-10T00:00:00Z") -> Path:
    (tmp_path / "s.yaml").write_text(SCENARIO.format(start=start))
    (tmp_path / "rec.csv").write_text(RECEPTORS)
    return tmp_path / "s.yaml"


def _interrupted_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                     start: str = "2026-01-10T00:00:00Z") -> str:
    """``plumecast run`` with a checkpoint every hour, stopped (Ctrl-C) right after the first
    one; its output."""
    path = _folder(tmp_path, start)
    save = CheckpointWriter.save

    def save_then_stop(self, state):  # type: ignore[no-untyped-def]
        save(self, state)
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(CheckpointWriter, "save", save_then_stop)
        rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "o"), "-q", "--no-map", "--checkpoint-h", "1"],
                          capsys, monkeypatch)
    assert rc != 0 and checkpoint_path(tmp_path / "o").is_file(), out
    return out


# --------------------------------------------------------------------------- F1, F6: resume


def test_resume_refuses_a_receptor_moved_in_the_csv(tmp_path, capsys, monkeypatch):
    _interrupted_run(tmp_path, capsys, monkeypatch)
    (tmp_path / "rec.csv").write_text(RECEPTORS.replace("A,50.1,9.0", "A,53.5,9.9"))
    rc, out = run_cli(["run", "--resume", str(tmp_path / "o"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2, out
    flat = " ".join(out.split())
    assert f"{tmp_path / 'rec.csv'} (receptors.csv) changed" in flat, out
    assert "receptor 'A' was at 50.1 N 9 E, is now at 53.5 N 9.9 E" in flat, out
    assert not (tmp_path / "o" / "consequences.csv").exists()
    # put back as it was: the run resumes
    (tmp_path / "rec.csv").write_text(RECEPTORS)
    rc, out = run_cli(["run", "--resume", str(tmp_path / "o"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 0, out


def test_resume_refuses_a_changed_population_and_an_added_receptor(tmp_path):
    sc = load_scenario(_folder(tmp_path))
    writer = CheckpointWriter(tmp_path / "o", 1.0, sc.time_step_s, scenario=sc.checkpoint_dict())
    save = writer.save

    def save_then_stop(state):  # type: ignore[no-untyped-def]
        save(state)
        raise KeyboardInterrupt

    writer.save = save_then_stop  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        run(sc, checkpoint=writer)
    state = load_checkpoint(checkpoint_path(tmp_path / "o"))
    assert state.inputs is not None and state.inputs["receptors"]["name"] == ["A", "B"]
    (tmp_path / "rec.csv").write_text(RECEPTORS.replace("1000", "2000"))
    with pytest.raises(DataFileError, match=r"receptor 'A' had population 1000, now 2000"):
        run(sc, resume_from=state)
    (tmp_path / "rec.csv").write_text(RECEPTORS + "C,50.2,11,5\n")
    with pytest.raises(DataFileError, match=r"receptor\(s\) 'C' added"):
        run(sc, resume_from=state)
    (tmp_path / "rec.csv").write_text(RECEPTORS)
    assert run(sc, resume_from=state).budget == run(sc).budget


def test_the_input_record_sees_met_files_changed_added_and_removed(tmp_path, monkeypatch):
    met = tmp_path / "met"
    met.mkdir()
    (met / "a.nc").write_bytes(bytes(range(256)) * 64)
    sc = SimpleNamespace(receptors=SimpleNamespace(csv=None, population_raster=None),
                         met=SimpleNamespace(source="file", path=met))
    then = ckpt.input_record(sc)
    state = ckpt.RunState(step=1, particles=None, fields=[], tag_fields=[], times=[], decayed=0.0,  # type: ignore[arg-type]
                          neutralised=0.0, particle_steps=0, inputs=then)
    state.check_inputs(ckpt.input_record(sc))  # the same files: accepted
    (met / "b.nc").write_bytes(b"x")
    with pytest.raises(DataFileError, match=r"b\.nc \(met\.path\) is new"):
        state.check_inputs(ckpt.input_record(sc))
    (met / "b.nc").unlink()
    (met / "a.nc").rename(met / "c.nc")
    with pytest.raises(DataFileError, match=r"a\.nc \(met\.path\) is no longer there"):
        state.check_inputs(ckpt.input_record(sc))
    (met / "c.nc").rename(met / "a.nc")
    # a large file is fingerprinted by its size and blocks spread over it: a changed block is seen
    monkeypatch.setattr(ckpt, "WHOLE_HASH_BYTES", 1000)
    monkeypatch.setattr(ckpt, "_BLOCK", 100)
    big = ckpt.input_record(sc)
    data = bytearray((met / "a.nc").read_bytes())
    data[0] ^= 1
    (met / "a.nc").write_bytes(bytes(data))
    state.inputs = big
    with pytest.raises(DataFileError, match=r"a\.nc \(met\.path\) changed"):
        state.check_inputs(ckpt.input_record(sc))


def test_resume_prints_the_notes_of_the_run(tmp_path, capsys, monkeypatch):
    first = _interrupted_run(tmp_path, capsys, monkeypatch)
    rc, out = run_cli(["run", "--resume", str(tmp_path / "o"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 0, out
    assert "no time zone" not in out, out  # the start was given with Z
    assert "run ignored: local_weather" in first and "run ignored: local_weather" in out
    # a start without a time zone: the resumed run says so, as the run did
    shutil.rmtree(tmp_path / "o")
    _interrupted_run(tmp_path, capsys, monkeypatch, start="2026-01-10T00:00:00")
    stored = load_checkpoint(checkpoint_path(tmp_path / "o")).scenario
    assert stored["start"] == "2026-01-10T00:00:00"
    rc, out = run_cli(["run", "--resume", str(tmp_path / "o"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 0 and "start 2026-01-10T00:00 has no time zone" in " ".join(out.split()), out


# --------------------------------------------------------------------------- F3: stale results beside a run


def _stale_comparison(folder: Path, scenario: str = "other case") -> None:
    """The files of a comparison, as copied from another folder without its marker."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "decision_table.csv").write_text(
        "plan,members,fatalities_p5,fatalities_median,fatalities_p95,lives_saved_p5,lives_saved_median,"
        "lives_saved_p95,baseline\ndo nothing,4,1,2,3,0,0,0,true\n")
    (folder / "cities.csv").write_text("plan,city,population\ndo nothing,X,10\n")
    (folder / "comparison.json").write_text(json.dumps({
        "format": "plumecast-comparison/1", "scenario": scenario, "release_start": "2025-06-01T12:00:00Z",
        "issued_at": "2025-06-01T12:00:00Z", "duration_h": 2, "time_step_s": 300}))
    (folder / "members.csv").write_text("member\n0\n")


def test_force_names_the_result_files_it_kept_and_the_dashboard_shows_only_the_new_set(tmp_path, capsys,
                                                                                         monkeypatch):
    from plumecast.web.loader import Folder
    from plumecast.web.views import summary

    path = _folder(tmp_path)
    out_dir = tmp_path / "o"
    _stale_comparison(out_dir)
    (out_dir / "notes.txt").write_text("mine")
    rc, out = run_cli(["run", str(path), "-o", str(out_dir), "-q", "--no-map", "--force"], capsys, monkeypatch)
    assert rc == 0, out
    flat = " ".join(out.split())
    assert f"kept in {out_dir}: cities.csv, comparison.json, decision_table.csv, members.csv, named like " \
           "plumecast results but not written by this run" in flat, out
    assert "notes.txt" not in flat
    snap = Folder(out_dir).snapshot()
    assert snap.run is not None and snap.compare is None  # the plan table of another case is not shown
    problems = summary(snap, None)["problems"]
    assert problems[0].startswith("decision_table.csv, cities.csv, comparison.json: not part of the latest "
                                  "results (those of plumecast run"), problems


def test_without_a_marker_a_run_beside_another_comparison_is_said_to_be_so(tmp_path, capsys, monkeypatch):
    from plumecast.web.loader import Folder
    from plumecast.web.views import summary

    path = _folder(tmp_path)
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "o"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 0, out
    (tmp_path / "o" / MARKER_NAME).unlink()  # copied elsewhere, or written before plumecast kept the marker
    _stale_comparison(tmp_path / "o")
    snap = Folder(tmp_path / "o").snapshot()
    assert snap.run is not None and snap.compare is not None
    first = summary(snap, None)["problems"][0]
    assert first.startswith("this folder holds the results of two different cases side by side"), first
    assert "scenario 'resumed' and 'other case'" in first
    assert "release start 2026-01-10 00:00 UTC and 2025-06-01 12:00 UTC" in first


def test_a_marker_leaves_a_plan_folder_written_by_its_own_run_shown(tmp_path):
    from plumecast.web.loader import Folder

    with OutputSet(tmp_path / "o", command="compare") as out:
        _stale_comparison(out.path, scenario="case")
    with OutputSet(tmp_path / "o" / "plans" / "do nothing", command="run") as out:
        (out.path / "receptors.csv").write_text("time,A\n2026-01-10T01:00:00,0\n")
    snap = Folder(tmp_path / "o").snapshot()
    assert not [p for p in snap.problems if "not part of the latest results" in p], snap.problems
    assert snap.compare is not None


# --------------------------------------------------------------------------- F5: receptor CSV columns


@pytest.mark.parametrize("column", ["pop", "population_2020", "Inhabitants"])
def test_a_population_under_another_name_is_refused(tmp_path, column):
    path = tmp_path / "r.csv"
    path.write_text(f"name,lat,lon,{column}\nA,51.5,6.9,1000\n")
    with pytest.raises(DataFileError, match=rf"r\.csv: line 1, column '{column}': not read; the people at each "
                                            r"receptor go in a column named 'population' \(the columns read: "
                                            r"name, lat, lon, population, country"):
        read_receptor_csv(path)
    path.write_text(f"name,lat,lon,population,{column}\nA,51.5,6.9,1000,3\n")
    assert read_receptor_csv(path).population.tolist() == [1000.0]  # beside a population column: ignored


def test_the_run_names_the_ignored_columns_and_a_missing_population(tmp_path):
    path = _folder(tmp_path)
    (tmp_path / "rec.csv").write_text("name,lat,lon,note\nA,50.1,9.0,gate\n")
    notes = load_scenario(path).notes()
    assert any(n.startswith(f"receptors.csv {tmp_path / 'rec.csv'}: column(s) 'note' ignored (read: name, lat, "
                            "lon, population, country); no 'population' column: the population at its receptors "
                            "is unknown") for n in notes), notes
    (tmp_path / "rec.csv").write_text(RECEPTORS)
    assert not [n for n in load_scenario(path).notes() if "receptors.csv" in n]
    assert np.isnan(read_receptor_csv(tmp_path / "rec.csv").population[1])


def test_compare_force_names_the_result_files_it_kept(tmp_path, capsys, monkeypatch):
    """compare --force over an older run's files: the same line as run's (they are not part of
    the comparison's set, and the dashboard does not show them)."""
    path = _folder(tmp_path)
    text = path.read_text() + ("plans:\n  - name: stop\n    measures:\n      - {type: termination, at_h: 0.5}\n"
                               "ensemble:\n  members: 2\n")
    path.write_text(text)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    for name in ("receptors.csv", "consequences.csv"):
        (out_dir / name).write_text("old\n")
    rc, out = run_cli(["compare", str(path), "-o", str(out_dir), "-q", "--workers", "0", "--no-maps", "--force"],
                      capsys, monkeypatch)
    assert rc == 0, out
    flat = " ".join(out.split())
    assert f"kept in {out_dir}: consequences.csv, receptors.csv, named like plumecast results but not written " \
           "by this compare" in flat, out
