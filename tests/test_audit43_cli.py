"""Command-line options that had been ignored or left in conflict, and messages below the
standard (badinput audit 43e, sections 6 and 7): each is refused in one line naming the
options, or said in a note, and each message names the file, line and key to change."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from plumecast.errors import MetDataError, OutputPathError, ScenarioError
from plumecast.scenario import load_scenario
from tests.helpers import run_cli, small_scenario

REPO = Path(__file__).resolve().parents[1]
POINT = "receptors: {points: [{name: A, lat: 50, lon: 9, population: 1000}]}\n"


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _no_members(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a comparison gets as far as running its members."""
    import plumecast.ensemble.compare as compare

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the members ran; the problem should have been refused before")

    monkeypatch.setattr(compare, "run_members", refuse)


# --------------------------------------------------------------------------- options ignored or in conflict


@pytest.mark.parametrize("command", [["run", "SCENARIO"], ["compare", "SCENARIO"], ["demo"]])
def test_port_without_serve_is_refused(tmp_path, capsys, monkeypatch, command):
    scenario = _write(tmp_path, small_scenario("p", 100) + POINT)
    args = [str(scenario) if a == "SCENARIO" else a for a in command]
    rc, out = run_cli([*args, "-o", str(tmp_path / "out"), "--port", "9999"], capsys, monkeypatch)
    assert rc == 2, out
    assert "--port" in out and "--serve" in out and "9999" in out
    assert not (tmp_path / "out").exists()


def test_demo_single_refuses_the_comparisons_members_and_workers(tmp_path, capsys, monkeypatch):
    rc, out = run_cli(["demo", "--single", "--members", "3", "--workers", "5", "-o", str(tmp_path / "d")],
                      capsys, monkeypatch)
    assert rc == 2, out
    assert "--members" in out and "--workers" in out and "--single" in out
    rc, out = run_cli(["demo", "--single", "--workers", "2", "-o", str(tmp_path / "d")], capsys, monkeypatch)
    assert rc == 2 and "--workers" in out and "--members" not in out  # given, even at its default value
    assert not (tmp_path / "d").exists()


def test_compare_refuses_workers_with_a_scheduler(tmp_path, capsys, monkeypatch):
    scenario = _write(tmp_path, small_scenario("p", 100) + POINT)
    rc, out = run_cli(["compare", str(scenario), "-o", str(tmp_path / "c"), "--scheduler", "tcp://127.0.0.1:1",
                       "--workers", "3"], capsys, monkeypatch)
    assert rc == 2, out
    assert "--workers" in out and "--scheduler" in out
    assert "connection refused" not in out  # refused before any connection is tried


@pytest.mark.parametrize("command", [["run", "SCENARIO"], ["compare", "SCENARIO"], ["demo"], ["zones", "SCENARIO"]])
def test_an_empty_output_path_is_refused(tmp_path, capsys, monkeypatch, command):
    scenario = _write(tmp_path, small_scenario("p", 100) + POINT)
    monkeypatch.chdir(tmp_path)
    args = [str(scenario) if a == "SCENARIO" else a for a in command]
    rc, out = run_cli([*args, "-o", ""], capsys, monkeypatch)
    assert rc == 2, out
    assert "empty path" in out and "-o" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]  # nothing written in the current folder


def test_checkpoint_interval_beyond_the_run_is_said(tmp_path, capsys, monkeypatch):
    from plumecast.cli.global_run import no_checkpoint_note

    sc = load_scenario(_write(tmp_path, small_scenario("c", 100)))  # 2 h in 10-min steps, hourly output
    assert no_checkpoint_note(sc, 1.0) is None  # at +1 h
    assert no_checkpoint_note(sc, 0.1) is None  # at the end of the first output interval
    note = no_checkpoint_note(sc, 1.5)  # the interval that reaches 1.5 h ends with the run: none
    assert note is not None and "no checkpoint will be written" in note and "2-h run" in note
    assert "no checkpoint will be written" in (no_checkpoint_note(sc, 100) or "")
    scenario = _write(tmp_path, small_scenario("c", 100, "backend: numpy"))
    rc, out = run_cli(["run", str(scenario), "-o", str(tmp_path / "o"), "-q", "--no-map", "--checkpoint-h", "100"],
                      capsys, monkeypatch)
    assert rc == 0, out
    assert "note: --checkpoint-h 100: no checkpoint will be written" in " ".join(out.split())


# --------------------------------------------------------------------------- messages


FRONT_ON_CHLORINE = small_scenario("f", 100) + POINT + """\
plans:
  - name: burn
    measures:
      - type: front
        ignition_h: 0.5
        points: [[50, 8]]
        speed_m_s: 10
"""


def test_a_front_on_an_agent_without_an_lfl_is_refused_before_the_members_run(tmp_path, capsys, monkeypatch):
    _no_members(monkeypatch)
    scenario = _write(tmp_path, FRONT_ON_CHLORINE)
    t0 = time.perf_counter()
    rc, out = run_cli(["compare", str(scenario), "-o", str(tmp_path / "c"), "--workers", "0"], capsys, monkeypatch)
    assert rc == 2, out
    msg = " ".join(out.split())
    assert f"{scenario}, line 15: plans.0.measures.0: plan 'burn':" in msg  # the line of '- type: front'
    assert "agent 'chlorine' has none" in msg and "threshold_kg_m3 or threshold_ppm" in msg
    assert "ensemble member" not in msg
    assert time.perf_counter() - t0 < 30
    # a threshold of its own lets it burn: no longer refused for want of an LFL
    from plumecast.ensemble.compare import make_setup

    ok = load_scenario(_write(tmp_path, FRONT_ON_CHLORINE.replace("speed_m_s: 10", "speed_m_s: 10\n        "
                                                                  "threshold_ppm: 1000"), "ok.yaml"))
    assert len(make_setup(ok).plans) == 2


def test_met_members_file_on_the_climatology_names_file_and_line(tmp_path, capsys, monkeypatch):
    _no_members(monkeypatch)
    text = small_scenario("e", 100) + POINT + (
        "ensemble:\n  members: 2\n  met_members: file\n"
        "plans:\n  - name: stop\n    measures: [{type: termination, at_h: 1}]\n")
    scenario = _write(tmp_path, text)
    rc, out = run_cli(["compare", str(scenario), "-o", str(tmp_path / "c"), "--workers", "0"], capsys, monkeypatch)
    assert rc == 2, out
    msg = " ".join(out.split())
    assert f"{scenario}, line 14: ensemble.met_members: 'file'" in msg
    assert "met.source is 'uniform'" in msg and "met_members: perturb" in msg


def test_a_tank_property_no_key_can_give_names_the_keys_to_give(tmp_path):
    text = small_scenario("t", 100).replace(
        "{type: point, name: tank, lat: 50, lon: 8, rate_kg_s: 1}",
        "{type: point, name: tank, lat: 50, lon: 8, tank: {volume_m3: 10, hole_diameter_m: 0.05, "
        "temperature_c: 20}}").replace("particles: 100", "particles: 100\nagent: phosgene")
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    msg = str(info.value)
    assert "line 9: releases.0.tank:" in msg and "agent 'phosgene' has no vapour pressure correlation" in msg
    assert "releases.0.rate_kg_s" in msg and "releases.0.amount_kg" in msg and "duration_s" in msg
    assert "releases.N" not in msg and "give the property in the scenario" not in msg


def test_a_missing_liquid_heat_capacity_names_the_tank_key(monkeypatch):
    from plumecast.nearfield.source_models.properties import load_thermo

    th = load_thermo("chlorine", 70.906)
    row = {k: ("" if k.startswith(("cpl100", "cpl114")) else v) for k, v in th.row.items()}
    blank = type(th)(th.agent, th.molecular_weight_kg_mol, row)
    with pytest.raises(Exception, match=r"^liquid_heat_capacity_j_kg_k: thermo\.csv: agent 'chlorine' has no "
                                        r"liquid heat capacity correlation"):
        blank.liquid_heat_capacity_j_kg_k(250.0)


def _ten_metre_file(path: Path) -> Path:
    times = pd.date_range("2026-01-09T21:00", "2026-01-10T06:00", freq="3h")
    lat, lon = np.arange(40.0, 61.0, 1.0), np.arange(0.0, 21.0, 1.0)
    shape = (times.size, lat.size, lon.size)
    xr.Dataset({"u10": (("time", "latitude", "longitude"), np.full(shape, 5.0), {"units": "m s-1"}),
                "v10": (("time", "latitude", "longitude"), np.zeros(shape), {"units": "m s-1"})},
               coords={"time": times, "latitude": lat, "longitude": lon}).to_netcdf(path)
    return path


def test_boundary_layer_met_on_a_ten_metre_file_says_what_the_files_need(tmp_path, capsys, monkeypatch):
    met = _ten_metre_file(tmp_path / "w10.nc")
    text = small_scenario("b", 100).replace("met: {source: uniform, u_m_s: 5, v_m_s: 0}",
                                            f"met:\n  source: file\n  path: {met}\n  boundary_layer: met")
    scenario = _write(tmp_path, text)
    rc, out = run_cli(["run", str(scenario), "-o", str(tmp_path / "o"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2, out
    msg = " ".join(out.split())
    assert f"{scenario}, line 9: met.boundary_layer:" in msg
    assert "winds at one level only" in msg and "on pressure or height levels" in msg and "blh" in msg
    assert "boundary_layer: constant" in msg
    assert "open_wind" not in msg and "plumecast.met" not in msg
    assert msg.count(str(met)) == 1


def test_vertical_levels_on_a_ten_metre_file_names_the_key_not_a_function(tmp_path, capsys, monkeypatch):
    met = _ten_metre_file(tmp_path / "w10.nc")
    text = small_scenario("b", 100).replace("met: {source: uniform, u_m_s: 5, v_m_s: 0}",
                                            f"met:\n  source: file\n  path: {met}\n  vertical: levels")
    scenario = _write(tmp_path, text)
    rc, out = run_cli(["run", str(scenario), "-o", str(tmp_path / "o"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2, out
    msg = " ".join(out.split())
    assert "met.vertical is 'levels' but the file has no winds on pressure or height levels" in msg
    assert "met.vertical: single" in msg and str(met) in msg
    assert "open_wind" not in msg and "plumecast.met" not in msg


def test_serve_on_a_host_that_is_no_address_names_the_host(tmp_path):
    pytest.importorskip("fastapi")
    from plumecast.errors import PlumecastError
    from plumecast.web.server import bind

    with pytest.raises(PlumecastError) as info:
        bind("999.1.1.1", 0)
    msg = str(info.value)
    assert "--host 999.1.1.1 is not a valid address of this machine" in msg
    assert "--port" not in msg


def test_an_output_folder_in_proc_says_it_cannot_be_created_there(tmp_path):
    from plumecast.fileio import OutputSet

    with pytest.raises(OutputPathError) as info:
        OutputSet("/proc/plumecast_out", command="run").__enter__()
    msg = str(info.value)
    assert msg.startswith("-o/--output /proc/plumecast_out: the folder cannot be created in /proc (its file system "
                          "takes no new files or folders; the system's error: No such file or directory)"), msg


def test_a_zones_file_given_to_run_names_every_missing_key_and_zones():
    path = REPO / "examples" / "graniteville_2005.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert f"{path}: start: required key is missing" in msg
    assert f"{path}: duration_h: required key is missing" in msg and "or end" in msg
    assert "has local_weather and zones" in msg and f"`plumecast zones {path}`" in msg and "met (the winds" in msg


def test_a_run_without_start_or_duration_names_both(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, "releases: [{type: point, lat: 1, lon: 1, rate_kg_s: 1}]\n"))
    msg = str(info.value)
    assert "start: required key is missing" in msg and "duration_h: required key is missing" in msg
    assert "plumecast zones" not in msg  # no local_weather or zones: not a zones file


def test_a_met_file_with_u10_but_no_v10_names_v10(tmp_path):
    from plumecast.met.reader import open_wind

    path = _ten_metre_file(tmp_path / "w.nc")
    with xr.open_dataset(path) as ds:
        ds[["u10"]].load().to_netcdf(tmp_path / "u_only.nc")
    with pytest.raises(MetDataError) as info:
        open_wind(tmp_path / "u_only.nc")
    msg = str(info.value)
    assert "'v10', the northward 10 m wind, is missing (the file has the eastward wind 'u10')" in msg
