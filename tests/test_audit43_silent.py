"""Silent behaviour and bad input, audit 43 (#2-#5): each now used, said or refused.

#2: a point's own ``air_changes_per_hour`` made no difference to run's sheltered figures
and was not listed as ignored. #3: a date without a time of day (``start``, ``end``,
``issued_at``) read as 00:00 UTC, and an ``end`` without a zone, without a note. #4: keys
this scenario leaves unread (``met.month``, ``met.roughness_length_m``,
``turbulence.kz_free_m2_s``, ``shelter`` without receptors) and winds without units, read
as m s-1, said nowhere. #5: a receptor CSV's population of 1e30, a column given twice, one
name at two places, and a receptor far off the output grid (lat and lon swapped).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import DataFileError, ScenarioError
from plumecast.receptors import read_receptor_csv
from plumecast.scenario import ignored_keys, ignored_line, load_scenario, scenario_from_dict
from tests.helpers import run_cli

BASE = """\
name: audit43
start: {start}
duration_h: 2
time_step_s: 600
particles: {particles}
seed: 2
agent: chlorine
met: {met}
releases:
  - {{type: point, name: stack, lat: 50.0, lon: 8.0, height_m: 10, rate_kg_s: 50, stop_h: 1}}
output:
  grid: {{lon_min: 4, lon_max: 14, lat_min: 46, lat_max: 54, resolution_deg: 0.5}}
"""
UNIFORM = "{source: uniform, u_m_s: 5, v_m_s: 0}"


def scenario_text(*extra: str, start: str = "2026-01-20T06:00:00Z", particles: int = 500,
                  met: str = UNIFORM) -> str:
    return BASE.format(start=start, particles=particles, met=met) + "".join(textwrap.dedent(e) for e in extra)


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- #2 a point's own air changes

TWO_POINTS = """\
receptors:
  points:
    - {name: P, lat: 50.0, lon: 8.1, population: 10000, radius_km: 1}
    - {name: Q, lat: 50.0, lon: 8.1, population: 10000, radius_km: 1, air_changes_per_hour: 5}
"""


def test_point_air_changes_set_its_sheltered_figures(tmp_path, capsys, monkeypatch):
    """P (the shelter's 0.5 h-1) and Q (its own 5 h-1) at one place: the same air outdoors, and
    more gas indoors at Q. The two rows had been identical (fatalities_sheltered 5.5e-12 for both)."""
    path = write(tmp_path, scenario_text(TWO_POINTS))
    sc = load_scenario(path)
    assert not any("air_changes" in k for k in ignored_keys(sc, "run"))
    assert any("points.1.air_changes_per_hour" in k for k in ignored_keys(sc, "compare"))
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "out"), "--no-map"], capsys, monkeypatch)
    assert rc == 0, out
    ds = xr.open_dataset(tmp_path / "out" / "consequences.nc")
    try:
        rows = {str(n): i for i, n in enumerate(ds["name"].values)}
        p, q = rows["P"], rows["Q"]
        assert float(ds["fatalities"].values[p]) == pytest.approx(float(ds["fatalities"].values[q]), rel=1e-9)
        lf_p, lf_q = (float(ds["lethal_fraction_sheltered"].values[k]) for k in (p, q))
        assert lf_q > 0.0 and lf_q > 10.0 * lf_p
        assert float(ds["peak_concentration_sheltered"].values[q]) > float(ds["peak_concentration_sheltered"].values[p])
        assert ds.attrs["shelter_own_air_changes_per_hour"] == "Q 5"
    finally:
        ds.close()
    assert "0.5 air changes/h, at their own rate at Q 5" in " ".join(out.split())
    from tests.web.test_api import client_for  # the dashboard's totals say it too

    shelter = client_for(tmp_path / "out").get("/api/view/run").json()["totals"]["shelter"]
    assert shelter["shelter_own_air_changes_per_hour"] == "Q 5"


def test_own_rates_reach_the_shelter_model():
    """:class:`Shelter`'s per-receptor rates: NaN takes the shelter's, the others their own."""
    from plumecast.consequence import assess
    from plumecast.shelter import Shelter

    conc = xr.DataArray(np.full((6, 2), 2e-3), dims=("time", "receptor"),
                        coords={"time": np.arange(1, 7) * 600.0}, attrs={"units": "kg m-3"})
    from plumecast.agents import get_agent

    agent = get_agent("chlorine")
    both = Shelter(receptor_air_changes_per_hour=[float("nan"), 5.0])
    ds = assess(conc, agent, [100.0, 100.0], shelter=both, start=0.0)
    same = assess(conc, agent, [100.0, 100.0], shelter=Shelter(), start=0.0)
    assert float(ds["toxic_load_sheltered"].values[0]) == float(same["toxic_load_sheltered"].values[0])
    assert float(ds["toxic_load_sheltered"].values[1]) > float(same["toxic_load_sheltered"].values[1])
    with pytest.raises(ValueError, match="expected values > 0"):
        Shelter(receptor_air_changes_per_hour=[0.0])


# ---------------------------------------------------------------- #3 dates without a time of day or zone

@pytest.mark.parametrize(("line", "key", "expected"), [
    ("start: '2026-01-20'", "start", "start 2026-01-20 has no time of day and no time zone and is read as 00:00 UTC"),
    ("start: 2026-01-20", "start", "start 2026-01-20 has no time of day and no time zone and is read as 00:00 UTC"),
    ("issued_at: \"2026-01-20\"", "issued_at", "issued_at 2026-01-20 has no time of day and no time zone and is read as 00:00 UTC"),
    ("end: 2026-01-20T08:00:00", "end", "end 2026-01-20T08:00 has no time zone and is read as UTC"),
    ("end: '2026-01-21'", "end", "end 2026-01-21 has no time of day and no time zone and is read as 00:00 UTC"),
])
def test_dates_without_time_or_zone_get_a_note(tmp_path, line, key, expected):
    text = scenario_text()
    if key == "start":
        text = text.replace("start: 2026-01-20T06:00:00Z", line)
    elif key == "end":
        text = text.replace("duration_h: 2", line)
    else:
        text = text.replace("duration_h: 2", f"duration_h: 2\n{line}")
    sc = load_scenario(write(tmp_path, text))
    notes = [n for n in sc.notes() if n.startswith(f"{key} ")]
    assert len(notes) == 1 and notes[0].startswith(expected), sc.notes()
    # a resumed run reads the scenario back from its checkpoint, and a changed one is the same file: same notes
    assert [n for n in scenario_from_dict(sc.checkpoint_dict()).notes() if n.startswith(f"{key} ")] == notes
    assert [n for n in sc.replace(particles=100).notes() if n.startswith(f"{key} ")] == notes
    # with its time and zone, none (also read back from a checkpoint)
    text = scenario_text().replace("duration_h: 2", "end: 2026-01-20T08:00:00+01:00\nissued_at: 2026-01-20T05:00Z")
    sc = load_scenario(write(tmp_path, text, "full.yaml"))
    assert not [n for n in sc.notes() if "time zone" in n or "time of day" in n]
    assert not [n for n in scenario_from_dict(sc.checkpoint_dict()).notes() if "time zone" in n]


# ---------------------------------------------------------------- #4 keys this scenario leaves unread

@pytest.mark.parametrize(("met", "extra", "said", "read_met", "read_extra"), [
    ("{source: uniform, u_m_s: 3, month: 7}", "", "met.month (read with source: climatology",
     "{source: climatology, month: 7}", ""),
    ("{source: climatology, roughness_length_m: 0.5}", "", "met.roughness_length_m (the log law",
     "{source: climatology, vertical: levels, roughness_length_m: 0.5}", ""),
    ("{source: climatology}", "turbulence: {kz_free_m2_s: 5}\n", "turbulence.kz_free_m2_s (used above a boundary",
     "{source: climatology}", "turbulence: {kz_m2_s: 5}\n"),
    ("{source: climatology}", "shelter: {air_changes_per_hour: 1}\n", "shelter (no receptors",
     "{source: climatology}", "shelter: {air_changes_per_hour: 1}\nreceptors: {points: [{name: P, lat: 50, lon: 9}]}\n"),
])
def test_keys_unread_with_this_scenario_are_listed(tmp_path, met, extra, said, read_met, read_extra):
    sc = load_scenario(write(tmp_path, scenario_text(extra, met=met)))
    line = ignored_line(ignored_keys(sc, "run"), "run")
    assert line is not None and said in line, line
    assert f"{said.split(' ')[0]} (read by" not in line  # the reason, not a mode that would read it
    # where this scenario reads the key (or a neighbour of it), nothing is listed
    read = load_scenario(write(tmp_path, scenario_text(read_extra, met=read_met), "read.yaml"))
    assert ignored_line(ignored_keys(read, "run"), "run") is None


def test_met_file_unused_keys_are_said_when_read(tmp_path):
    """A met file read at one level without a boundary layer: the roughness and kz_free given are
    said in the met lines, as the file reveals it."""
    from plumecast.scenario_modes import unused_met_lines

    nc = _wind_file(tmp_path / "w.nc", units=True)
    met = f"{{source: file, path: {nc}, roughness_length_m: 0.3}}"
    sc = load_scenario(write(tmp_path, scenario_text("turbulence: {kz_free_m2_s: 2}\n", met=met,
                                                     start="2026-01-20T00:00:00Z")))
    lines = unused_met_lines(sc, levels=False, has_boundary_layer=False)
    assert [line.split(" ")[0] for line in lines] == ["met.roughness_length_m", "turbulence.kz_free_m2_s"]
    assert unused_met_lines(sc, levels=True, has_boundary_layer=True) == []


def _wind_file(path: Path, units: bool) -> Path:
    lat, lon = np.arange(44.0, 56.5, 0.5), np.arange(2.0, 16.5, 0.5)
    time = np.array(["2026-01-20T00", "2026-01-20T03", "2026-01-20T06"], dtype="datetime64[ns]")
    shape = (time.size, lat.size, lon.size)
    attrs = {"units": "m s-1"} if units else {}
    xr.Dataset({"u10": (("time", "latitude", "longitude"), np.full(shape, 5.0, np.float32), attrs),
                "v10": (("time", "latitude", "longitude"), np.zeros(shape, np.float32), attrs)},
               coords={"time": time, "latitude": lat, "longitude": lon}).to_netcdf(path)
    return path


def test_winds_without_units_are_said(tmp_path, capsys, monkeypatch):
    from plumecast.met import open_wind
    from plumecast.met.reader import NO_WIND_UNITS

    bare = open_wind(_wind_file(tmp_path / "bare.nc", units=False))
    assert "'u10' and 'v10' without a units attribute: read as m s-1" in bare.attrs[NO_WIND_UNITS]
    assert NO_WIND_UNITS not in open_wind(_wind_file(tmp_path / "ok.nc", units=True)).attrs
    rc, out = run_cli(["met", "check", str(tmp_path / "bare.nc")], capsys, monkeypatch)
    assert rc == 0 and "without a units attribute: read as m s-1" in " ".join(out.split()), out
    from plumecast.run_winds import scenario_winds

    met = f"{{source: file, path: {tmp_path / 'bare.nc'}}}"
    sc = load_scenario(write(tmp_path, scenario_text(met=met, start="2026-01-20T00:00:00Z")))
    assert "without a units attribute" in scenario_winds(sc)[2]


# ---------------------------------------------------------------- #5 the receptor CSV

@pytest.mark.parametrize(("text", "said"), [
    ("name,lat,lon,population\nA,51.5,6.9,1e30\n",
     "line 2, column 'population': 1e30 is more people than live on Earth; expected 0 .. 8.2 billion"),
    ("name,lat,lon,population,population\nA,51.5,6.9,1000,2000\n",
     "line 1: the column 'population' is given 2 times (columns 4, 5)"),
    ("name,lat,lon,population\nA,51.5,6.9,1000\na ,52.5,6.9,1000\n",
     "line 3, column 'name': 'a' at 52.5, 6.9 has the name of line 2 (at 51.5, 6.9)"),
])
def test_csv_refusals(tmp_path, text, said):
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        read_receptor_csv(path)
    assert str(err.value).startswith(f"{path}: {said}"), str(err.value)
    assert "\n" not in str(err.value)
    # the bound itself, and two names apart, are read
    path.write_text("name,lat,lon,population\nA,51.5,6.9,8.2e9\nA 2,52.5,6.9,1\n", encoding="utf-8")
    assert read_receptor_csv(path).population.tolist() == [8.2e9, 1.0]


def test_points_one_name_two_places_and_huge_population_refused(tmp_path):
    two = "receptors:\n  points:\n    - {name: P, lat: 50, lon: 9}\n    - {name: ' p', lat: 50.5, lon: 9}\n"
    with pytest.raises(ScenarioError, match=r"line 16: receptors.points.1: ' p' at 50.5, 9 has the name of "
                       r"receptors.points.0 \(at 50, 9\); expected each receptor's name once"):
        load_scenario(write(tmp_path, scenario_text(two)))
    huge = "receptors:\n  points:\n    - {name: P, lat: 50, lon: 9, population: 1.0e+30}\n"
    with pytest.raises(ScenarioError, match=r"receptors.points.0.population"):
        load_scenario(write(tmp_path, scenario_text(huge), "h.yaml"))


def test_receptor_off_the_grid_gets_a_note(tmp_path):
    (tmp_path / "r.csv").write_text("name,lat,lon,population\nA,8.5,50.2,1000\nB,50.1,8.5,1000\n", encoding="utf-8")
    sc = load_scenario(write(tmp_path, scenario_text("receptors: {csv: r.csv}\n")))
    notes = [n for n in sc.notes() if "outside output.grid" in n]
    assert len(notes) == 1, sc.notes()
    assert notes[0].startswith("1 receptor(s) outside output.grid (lat 46..54, lon 4..14): A at 8.5 N, 50.2 E, ")
    assert "km from the nearest release (lat and lon swapped?)" in notes[0] and "B at" not in notes[0]
    inside = load_scenario(write(tmp_path, scenario_text("receptors: {points: [{name: P, lat: 50, lon: 9}]}\n"),
                                 "in.yaml"))
    assert not [n for n in inside.notes() if "outside output.grid" in n]
    south = load_scenario(write(tmp_path, scenario_text("receptors: {points: [{name: S, lat: -33.9, lon: -18.4}]}\n"),
                                "s.yaml"))
    said = [n for n in south.notes() if "outside output.grid" in n]
    assert said and "S at 33.9 S, 18.4 W, " in said[0] and "swapped" not in said[0], said
