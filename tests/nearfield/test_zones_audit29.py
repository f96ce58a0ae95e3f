"""What zones says about inputs that change its zones silently (zones audit, session 29): a start
without a time zone that sets day or night, a class the wind does not allow, a wind in km/h, a dense
release above the ground, a level the agent's AEGL table cannot give."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plumecast.errors import ScenarioError
from plumecast.nearfield.zones import compute_zones
from plumecast.nearfield.zones.scenario import read_zones_scenario


def _file(tmp_path: Path, **over: object) -> Path:
    data: dict = {
        "name": "osaka valve", "agent": "chlorine", "start": "2026-07-01T22:30:00+09:00",
        "releases": [{"type": "point", "name": "valve", "lat": 34.65, "lon": 135.43, "height_m": 1,
                      "rate_kg_s": 5, "duration_s": 1200}],
        "local_weather": {"wind_speed_m_s": 2.5, "wind_from_deg": 200, "cloud_cover_octas": 2},
        "receptors": {"points": [{"name": "pier", "lat": 34.66, "lon": 135.44, "population": 100}]},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path = tmp_path / "sc.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_start_without_its_offset_is_said_where_it_sets_day_or_night(tmp_path: Path) -> None:
    """22:30 in Osaka written without +09:00 is read as 22:30 UTC, 07:30 there: day, class B instead
    of F and zones 5-40 times smaller; zones said only "daytime taken as true"."""
    naive = read_zones_scenario(_file(tmp_path, start="2026-07-01T22:30:00"))
    line = [n for n in naive.notes() if "daytime taken as" in n]
    assert len(line) == 1 and "has no time zone and is read as UTC" in line[0]
    assert naive.scenario.meteorology.daytime is True
    given = read_zones_scenario(_file(tmp_path))
    assert given.scenario.meteorology.daytime is False
    assert not [n for n in given.notes() if "no time zone" in n]


def test_a_class_the_wind_does_not_allow_is_warned(tmp_path: Path) -> None:
    lines = read_zones_scenario(_file(tmp_path, local_weather={"stability": "F", "wind_speed_m_s": 10.0,
                                                                "cloud_cover_octas": None})).notes()
    warn = [n for n in lines if n.startswith("warning: local_weather.stability F")]
    assert len(warn) == 1 and "only below 3 m/s" in warn[0] and "too large" in warn[0]
    ok = read_zones_scenario(_file(tmp_path, local_weather={"stability": "F", "wind_speed_m_s": 2.0,
                                                              "cloud_cover_octas": None})).notes()
    assert not [n for n in ok if n.startswith("warning: local_weather.stability")]


def test_a_wind_in_km_per_h_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"sc\.yaml, line \d+: local_weather\.wind_speed_m_s: 250\.0 is too "
                                            r"large; expected 100 or less"):
        read_zones_scenario(_file(tmp_path, local_weather={"wind_speed_m_s": 250.0}))


def test_a_dense_release_above_the_ground_says_its_height_is_not_used(tmp_path: Path) -> None:
    def warnings(height: float) -> list[str]:
        rel = {"type": "point", "name": "valve", "lat": 34.65, "lon": 135.43, "height_m": height, "rate_kg_s": 20,
               "duration_s": 600}
        sc = read_zones_scenario(_file(tmp_path, releases=[rel], local_weather={
            "stability": "F", "wind_speed_m_s": 2.0, "cloud_cover_octas": None})).scenario
        res = compute_zones(sc, consequences=False)
        return [w for w in res.warnings if "starts on the ground" in w]

    assert warnings(1.0) == []
    (line,) = warnings(50.0)
    assert "release height (50 m)" in line


def test_a_level_the_agents_table_cannot_give_names_the_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import run_cli

    agent = {"name": "my gas", "molecular_weight_g_mol": 70.9, "aegl_ppm": {1: {"10min": 0.5, "30min": 0.5}}}
    path = _file(tmp_path, agent=agent, zones={"levels": [{"aegl": 1}, {"ppm": 20}]})
    rc, out = run_cli(["zones", str(path), "-o", str(tmp_path / "out")], capsys, monkeypatch)
    text = " ".join(out.split())
    assert rc == 2 and "sc.yaml, line" in text and "zones.levels.0.aegl" in text, text
    assert "Traceback" not in text


def test_zones_gives_countdowns_from_the_issue_time(tmp_path: Path) -> None:
    """zones read neither start nor issued_at and gave no countdown (zones audit): each receptor's
    AEGL-2/3 now has its time left from the issue and its UTC clock time, erring early."""
    import numpy as np
    import xarray as xr

    from plumecast.cli.zones import _arrival

    rel = {"type": "point", "name": "valve", "lat": 34.65, "lon": 135.43, "height_m": 1, "rate_kg_s": 5,
           "duration_s": 1200, "start_h": 0.5}
    read = read_zones_scenario(_file(tmp_path, releases=[rel], issued_at="2026-07-01T13:40:00Z"))
    assert read.release_start == np.datetime64("2026-07-01T14:00:00")  # 22:30+09:00 is 13:30 UTC, + 0.5 h
    assert read.issued == np.datetime64("2026-07-01T13:40:00")
    assert "start" not in read.ignored and "issued_at" not in read.ignored
    rec = xr.Dataset({"hours_to_aegl2": ("receptor", [0.25, np.nan, np.nan]),
                      "aegl2_known": ("receptor", [1, 1, 0])})
    clock = (read.release_start, read.issued)
    assert _arrival(rec, 0, 2, clock) == "in 35 min (1 Jul 14:15 UTC)"
    assert _arrival(rec, 1, 2, clock) == "—" and _arrival(rec, 2, 2, clock) == "n/a"
    assert _arrival(rec, 0, 2, (read.release_start, None)) == "1 Jul 14:15 UTC"
    assert _arrival(rec, 0, 2, (None, None)) == "15 min after the release starts"
    naive = read_zones_scenario(_file(tmp_path, issued_at="2026-07-01T13:40:00"))
    assert [n for n in naive.notes() if "issued_at 2026-07-01" in n and "no time zone" in n]
    # without issued_at the forecast is issued at the scenario's start, as run's is: the time left and the clock
    # time (zones had given the clock time alone; first-hour audit, session 40, item B6)
    plain = read_zones_scenario(_file(tmp_path, releases=[rel]))
    assert plain.issued == np.datetime64("2026-07-01T13:30:00") and "issued_at" not in plain.ignored
    assert _arrival(rec, 0, 2, (plain.release_start, plain.issued)) == "in 45 min (1 Jul 14:15 UTC)"
    # said beside the receptors' countdowns, the only figures it changes (it had been a note before the run,
    # printed even where zones assessed no receptor; session 42)
    assert plain.issued_from_start and not read.issued_from_start
    assert not [n for n in plain.notes() + read.notes() if "issued_at" in n and "time left" in n]


def test_no_issued_at_is_said_beside_the_countdowns_and_only_there(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without issued_at the time left counts from start: said in the receptors' note, not where zones assess
    no receptor (the note had been printed before the run whatever it then showed; session 42)."""
    from tests.helpers import run_cli

    downwind = {"points": [{"name": "pier", "lat": 34.6585, "lon": 135.4337, "population": 100}]}  # 1 km, AEGL-3
    path = _file(tmp_path, receptors=downwind)
    rc, out = run_cli(["zones", str(path), "-o", str(tmp_path / "a")], capsys, monkeypatch)
    text = " ".join(out.split())
    assert rc == 0, text
    assert "time left from the forecast's issue (1 Jul 13:30 UTC: no issued_at, so taken as issued at start" in text
    rc, out = run_cli(["zones", str(path), "-o", str(tmp_path / "b"), "--no-receptors"], capsys, monkeypatch)
    text = " ".join(out.split())
    assert rc == 0 and "receptors: not searched" in text and "taken as issued" not in text, text
    rc, out = run_cli(["zones", str(_file(tmp_path, receptors=downwind, issued_at="2026-07-01T13:40:00Z")), "-o",
                       str(tmp_path / "c")],
                      capsys, monkeypatch)
    text = " ".join(out.split())
    assert rc == 0 and "time left from the forecast's issue (1 Jul 13:40 UTC) and" in text, text


def test_the_zone_table_is_split_into_parts_that_fit_the_terminal(tmp_path: Path) -> None:
    """At 80 columns the zone table's seven columns had been folded a few characters wide ("(extrapolate/d:
    93)"); it is now drawn in parts whose columns fit, each led by the level, as the receptor table is."""
    import io

    from rich.console import Console

    from plumecast.cli.zones import _zone_tables

    res = compute_zones(read_zones_scenario(_file(tmp_path)).scenario, consequences=False)
    parts = _zone_tables(res, 80)
    assert len(parts) >= 2
    heads = [[str(c.header) for c in t.columns] for t in parts]
    assert all(h[0] == "level" for h in heads)
    assert sum(len(h) - 1 for h in heads) == 6  # every column once, the level in each part
    drawn = ""
    for t in parts:
        con = Console(width=80, file=io.StringIO(), record=True, color_system=None)
        con.print(t)
        text = con.export_text()
        assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
        drawn += text
    assert "(extrapolated:" in drawn  # AEGL-2 reaches 93 km: its words whole
    whole = _zone_tables(res)
    assert len(whole) == 1 and len(whole[0].columns) == 7
