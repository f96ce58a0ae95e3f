"""What a fresh-eyes audit of the commands' outputs found (session 38): the map's time window, an
issue time after the forecast, and how people and lives saved are rounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumecast import numbers
from plumecast.scenario import scenario_from_dict

SMALL = {"name": "t", "start": "2026-07-01T00:00:00Z", "duration_h": 2, "time_step_s": 600, "particles": 500,
         "seed": 1, "agent": "chlorine", "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
         "releases": [{"type": "point", "lat": 40.0, "lon": -100.0, "rate_kg_s": 10.0, "height_m": 1.0}],
         "output": {"grid": {"lon_min": -101, "lon_max": -99, "lat_min": 39, "lat_max": 41, "resolution_deg": 0.1},
                    "interval_min": 30},
         "receptors": {"points": [{"name": "a", "lat": 40.0, "lon": -99.9, "population": 1000}]}}


def test_the_map_names_the_window_of_its_intervals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The intervals are stamped at their ends: the map of the highest 30-min mean of a run from 00:00 to
    02:00 had said "00:30 to 02:00", leaving out the first interval it holds."""
    import plumecast.maps as maps
    from plumecast.cli.global_run import execute

    titles: list[str] = []
    real = maps.plot_concentration_map

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        titles.append(k["title"])
        return real(*a, **k)

    monkeypatch.setattr(maps, "plot_concentration_map", spy)
    execute(scenario_from_dict(SMALL), tmp_path / "out", title="t", map_png=True, quiet=True)
    (title,) = titles
    assert title.endswith("2026-07-01 00:00 to 2026-07-01 02:00 UTC"), title


def test_an_issue_time_after_the_forecast_is_said() -> None:
    late = scenario_from_dict({**SMALL, "issued_at": "2026-07-01T05:00:00Z"})
    assert any(n.startswith("issued_at 2026-07-01T05:00 is at or after the end of the forecast (2026-07-01T02:00)")
               for n in late.notes())
    on_time = scenario_from_dict({**SMALL, "issued_at": "2026-07-01T01:00:00Z"})
    assert not any("end of the forecast" in n for n in on_time.notes())


def test_people_are_rounded_once_and_lives_lost_keep_their_sign() -> None:
    """1.47 deaths had read "2" (1.5 to two figures, then to a whole person) while the CSV said 1.5; a median
    of 0 lives saved with members that cost lives had read "0 (0–3)", as if saving up to 3."""
    assert [numbers.people(x) for x in (1.47, 1.5, 9.6, 10.4, 0.4)] == ["1", "2", "10", "10", "< 1"]
    assert numbers.lives_saved_range(0.0, -3.0, 0.0) == "0 (costs 0–3)"
    assert numbers.lives_saved_range(0.0, 0.0, 3.0) == "0 (0–3)"
    assert numbers.lives_saved_range(-2.0, -3.0, -1.0) == "costs 2 (1–3)"


def test_receptors_csv_holds_the_series_of_the_casualty_table(tmp_path: Path) -> None:
    """A town a plume crosses is assessed part by part of its disc; receptors.csv had kept the disc's mean air,
    lower than its worst part's, so that a countdown read from the file came later than the table's (audit).
    It now holds the series the table is made of, as consequences.nc does."""
    import numpy as np
    import pandas as pd
    import xarray as xr

    from plumecast.cli.global_run import execute

    d = {**SMALL, "duration_h": 3, "time_step_s": 300, "particles": 3000,
         "releases": [{"type": "point", "lat": 40.0, "lon": -100.0, "rate_kg_s": 10.0, "height_m": 1.0,
                       "dense_gas": "off"}],
         "receptors": {"points": [{"name": "town", "lat": 40.01, "lon": -99.85, "population": 50000,
                                   "radius_km": 4}]}}
    out = tmp_path / "out"
    execute(scenario_from_dict(d), out, title="t", map_png=False, quiet=True)
    csv = pd.read_csv(out / "receptors.csv", index_col=0, skiprows=1)
    with xr.open_dataset(out / "consequences.nc") as ds:
        assert int(ds["disc_parts"][0]) > 1  # the case: the town is made of its parts
        np.testing.assert_allclose(csv["town"].to_numpy(), ds["concentration"].values[0], rtol=1e-6, atol=0.0)


def test_a_point_in_the_uncertainty_sector_is_marked_in_the_threat_table(tmp_path: Path, capsys, monkeypatch) -> None:
    """The threat-at-a-point table gives a point at its own place ("< 0.3 ppm") where the receptor table gives it
    the plume's axis (1,900 ppm): a reader saw "harmless" and "2 deaths" for one village (audit). The point is
    marked and the mark explained."""
    from tests.helpers import run_cli

    (tmp_path / "s.yaml").write_text(
        "name: t\nagent: ammonia\nstart: 2026-03-10T23:00:00+01:00\n"
        "releases: [{type: point, name: tanker, lat: 52.02, lon: 5.55, height_m: 1, rate_kg_s: 20, duration_s: 1800}]\n"
        "local_weather: {wind_speed_m_s: 1.5, wind_from_deg: 270, daytime: false, cloud_cover_octas: 2,"
        " air_temperature_c: 8}\n"
        "receptors:\n  points: [{name: village, lat: 52.025, lon: 5.60, population: 800}]\n")
    monkeypatch.setenv("COLUMNS", "200")
    rc, out = run_cli(["zones", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "z")], capsys, monkeypatch)
    assert rc == 0, out
    assert "village †" in out
    assert "† in the wind-direction uncertainty sector: here at its own place in the forecast wind" in " ".join(
        out.split())
