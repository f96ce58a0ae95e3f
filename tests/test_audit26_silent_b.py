"""Audit 26 (silent behaviours, part b): ensemble perturbations clipped without a word
(F2), a peak % of AEGL-3 of 4.9e-48 % from a gap in the agent's AEGL table and forty
digits of it on the screen (F4), a population count that is a lower bound shown as a
count (F7), and an inline dense agent's vapour taken at the air's temperature without
a word (F8)."""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from rich.console import Console

from plumecast.errors import ScenarioError

# --------------------------------------------------------------------------- F2


_HEAD = ("start: 2026-01-10T00:00:00Z\nduration_h: 2\nagent: chlorine\n"
         "releases:\n  - {type: point, lat: 50, lon: 8, rate_kg_s: 50}\n"
         "ensemble:\n  members: 4\n")


def _load(tmp_path: Path, lines: str):
    from plumecast.scenario import load_scenario

    f = tmp_path / "ens.yaml"
    f.write_text(_HEAD + lines, encoding="utf-8")
    return f, load_scenario(f)


@pytest.mark.parametrize("key, value, allowed", [
    ("wind_speed_factor", -1.0, "0 to 10"),
    ("kh_m2_s", -500.0, "0 m2/s or more"),
    ("mixing_height_m", 50000.0, "10 to 10000 m"),
    ("source_rate_factor", -2.0, "above 0"),
    ("source_rate_factor", 0.0, "above 0"),
])
def test_an_impossible_fixed_perturbation_is_refused_with_file_line_key_and_range(tmp_path: Path, key: str,
                                                                                   value: float, allowed: str) -> None:
    """They ran as 0, 0, 10000 and 1e-6 (members.csv showing only those) without a word."""
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, f"  {key}: {{dist: fixed, value: {value}}}\n")
    msg = str(info.value)
    assert f"ens.yaml, line 8: ensemble.{key}.value: fixed value {value:g} is impossible" in msg, msg
    assert f"the allowed range of ensemble.{key} is {allowed}" in msg and "docs/plans.md" in msg
    assert msg.count("ens.yaml") == 1


@pytest.mark.parametrize("spec, where", [
    ("mixing_height_m: {dist: uniform, low: 1, high: 30000}", "mixing_height_m.low: a uniform from 1 to 30000 "
                                                              "reaches outside the allowed range (low 1, high 30000)"),
    ("kh_m2_s: {dist: uniform, low: -20, high: -10}", "kh_m2_s.low: a uniform from -20 to -10 reaches outside the "
                                                      "allowed range (low -20, high -10) (all of it"),
    ("kh_m2_s: {dist: normal, mean: -500, sd: 10}", "kh_m2_s.mean: a normal with mean -500 is centred outside"),
    ("wind_speed_factor: {dist: lognormal, median: 1.0e+36, sigma: 0.2}", "wind_speed_factor.median: a lognormal "
                                                                         "with median 1e+36 is centred outside"),
    ("source_rate_factor: {dist: normal, mean: -1, sd: 0}", "source_rate_factor.mean: a normal with mean -1 and no "
                                                            "spread gives every member -1, impossible"),
])
def test_a_distribution_mostly_or_wholly_outside_its_range_is_refused(tmp_path: Path, spec: str, where: str) -> None:
    """A uniform 1-30000 m mixing height ran at 10000 m in 3 of 4 members."""
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, f"  {spec}\n")
    assert f"ens.yaml, line 8: ensemble.{where}" in str(info.value), str(info.value)


def test_draws_outside_the_range_are_clipped_with_a_note_and_the_draw_kept(tmp_path: Path) -> None:
    """A normal K_h draw of -614 ran as 0 (members.csv said kh_m2_s=0): now the member's
    spec keeps the draw beside the value used, and the members' note says how many were
    clipped, to what, and how the clipping moves the mean."""
    from plumecast.ensemble.members import clip_notes, member_notes, member_specs, timing_shift_note

    _, sc = _load(tmp_path, "  control: false\n  kh_m2_s: {dist: normal, mean: 100.0, sd: 1000.0}\n"
                            "  mixing_height_m: {dist: lognormal, median: 1000, sigma: 0.3}\n")
    specs = member_specs(sc, sc.ensemble, members=40)
    drawn = [dict(s.drawn)["kh_m2_s"] for s in specs]
    clipped = [(s, x) for s, x in zip(specs, drawn, strict=True) if x < 0]
    assert 5 < len(clipped) < 35
    for s, x in clipped:
        assert s.kh_m2_s == 0.0
        assert f"kh_m2_s=0 (drawn {x:.4g})" in s.describe()
    kept = next(s for s, x in zip(specs, drawn, strict=True) if x >= 0)
    assert "drawn" not in kept.describe()
    notes = clip_notes(specs)
    assert len(notes) == 1  # the lognormal mixing height stays within 10-10000 m
    mean_drawn, mean_run = float(np.mean(drawn)), float(np.mean([s.kh_m2_s for s in specs]))
    assert notes[0].startswith(f"in {len(clipped)} of 40 perturbed members ensemble.kh_m2_s drew outside its "
                               f"allowed range (0 m2/s or more) and ran clipped: {len(clipped)} below it (lowest "
                               f"draw {min(drawn):.4g}) with 0; this moves the members' mean from {mean_drawn:.4g} "
                               f"(drawn) to {mean_run:.4g} (run)")
    assert "a lognormal keeps it above 0 unclipped" in notes[0] and mean_run > mean_drawn
    # compare shows it (console and decision_table.md) through the members' note
    assert member_notes(sc, specs) == notes
    assert timing_shift_note(sc, specs) == notes[0]


def test_a_source_rate_factor_draw_at_or_below_zero_says_what_it_ran_with(tmp_path: Path) -> None:
    from plumecast.ensemble.members import clip_notes, member_specs

    _, sc = _load(tmp_path, "  control: true\n  source_rate_factor: {dist: normal, mean: 1, sd: 1}\n")
    specs = member_specs(sc, sc.ensemble, members=30)
    assert specs[0].drawn == () and specs[0].source_rate_factor == 1.0  # the control draws nothing
    low = [s for s in specs if dict(s.drawn).get("source_rate_factor", 1.0) <= 0]
    assert low and all(s.source_rate_factor == 1e-6 for s in low)
    (note,) = clip_notes(specs)
    assert f"in {len(low)} of 29 perturbed members ensemble.source_rate_factor" in note
    assert "with 1e-06 (practically no release)" in note


def test_the_shipped_plans_demo_draws_nothing_outside_the_ranges() -> None:
    from importlib import resources

    from plumecast.ensemble.members import clip_notes, member_specs
    from plumecast.scenario import load_scenario

    path = resources.files("plumecast").joinpath("data/scenarios/poison_sky_plans.yaml")
    with resources.as_file(path) as p:
        sc = load_scenario(p)
    assert clip_notes(member_specs(sc, sc.ensemble)) == []


# --------------------------------------------------------------------------- F4


def _gap_agent():
    from plumecast.agents import resolve_agent

    return resolve_agent({"name": "my gas", "molecular_weight_g_mol": 140.0,
                          "aegl_ppm": {3: {"60min": 5.0}, 2: {"60min": 1.0}}})


def _series(agent, scale_of_floor: list[float], n: int = 24, step_s: float = 300.0) -> xr.DataArray:
    """Receptors whose series peak at ``scale * floor`` at 20 min and are gone by 45 min."""
    from plumecast.consequence import onset_floor

    floor = onset_floor(agent)
    t_min = np.arange(1, n + 1) * step_s / 60.0
    shape = np.exp(-(((t_min - 20.0) / 6.0) ** 2))
    values = np.stack([s * floor * shape for s in scale_of_floor], axis=1)
    times = np.datetime64("2026-03-01T00:00") + (np.arange(1, n + 1) * step_s).astype("timedelta64[s]")
    return xr.DataArray(values, dims=("time", "receptor"), coords={"time": times}, attrs={"units": "kg m-3"})


def test_a_trace_with_a_gap_in_the_aegl_table_has_no_made_up_percent() -> None:
    """The trace's one readable step (exactly 60 min after the series' start) came after the
    cloud had passed: its peak % of AEGL-3 was reported as about 1e-40 % instead of n/a."""
    from plumecast.consequence import UNREAD_PERCENT_NOTE, assess

    agent = _gap_agent()
    conc = _series(agent, [0.5, 0.0])
    res = assess(conc, agent, [1000.0, 500.0], start=np.datetime64("2026-03-01T00:00"))
    pct = res["peak_percent_aegl3"].values
    assert math.isnan(pct[0]), pct  # was ~1e-40 %
    assert UNREAD_PERCENT_NOTE in str(res["note"].values[0])
    assert pct[1] == 0.0 and UNREAD_PERCENT_NOTE not in str(res["note"].values[1])  # no gas: 0, not n/a
    # never before the onset floor: no AEGL time is made n/a (e stays far below every AEGL)
    assert int(res["aegl3_known"].values[0]) == 1
    # the console shows n/a (the agent's AEGL cannot be read), not "unknown" nor 40 digits
    from plumecast.report_tables import print_casualty_table

    buf = io.StringIO()
    print_casualty_table(res, Console(file=buf, width=200), top=5)
    text = buf.getvalue()
    row = next(line for line in text.splitlines() if line.startswith("│ 0 "))
    assert "n/a" in row and "0.000" not in text
    assert "0: % of AEGL-3 n/a, not 0" in text


def test_a_full_aegl_table_keeps_the_trace_percent() -> None:
    """Chlorine (no gaps): the trace's % is read as before, and shown as '< 0.01 %'."""
    from plumecast.agents import get_agent
    from plumecast.consequence import assess
    from plumecast.numbers import percent

    agent = get_agent("chlorine")
    res = assess(_series(agent, [0.5]), agent, [1000.0], start=np.datetime64("2026-03-01T00:00"))
    pct = float(res["peak_percent_aegl3"].values[0])
    assert 0 < pct < 0.01 and percent(pct) == "< 0.01 %"


@pytest.mark.parametrize("x, text", [(4.9e-48, "< 0.01 %"), (9.8e-11, "< 0.01 %"), (0.0099, "< 0.01 %"),
                                     (0.01, "0.010 %"), (0.028, "0.028 %"), (46.2, "46 %"), (0.0, "0 %"),
                                     (float("nan"), "unknown")])
def test_a_tiny_percentage_is_not_forty_digits(x: float, text: str) -> None:
    from plumecast.numbers import percent

    assert percent(x) == text


def test_numbers_js_percent_follows_python() -> None:
    """numbers.js is a port of plumecast.numbers (the browser test needs Chromium; node
    imports the module directly)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    from plumecast import numbers

    js = Path(numbers.__file__).parent / "web" / "static" / "numbers.js"
    values = [4.9e-48, 9.8e-11, 0.0031, 0.0099, 0.00999, 0.01, 0.0104, 0.0347, 0.31, 9.95, 46.2, 1234.5, 0.0]
    script = (f"import({json.dumps(js.as_uri())}).then((N) => console.log(JSON.stringify("
              f"{json.dumps(values)}.map((x) => N.percent(x)))));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(out.stdout) == [numbers.percent(v) for v in values]


# --------------------------------------------------------------------------- F7


def test_people_in_cells_partly_without_raster_data_are_a_lower_bound() -> None:
    """'people 1,000' with 99 % of the area without raster data, and no warning; the docs
    call it a lower bound."""
    from plumecast.report_tables import people_lower_bound, print_people_above

    rows = [{"level": "AEGL-1", "cells": 30, "people": 1051.0, "unknown_area_fraction": 0.987},
            {"level": "AEGL-2", "cells": 26, "people": 1000.0, "unknown_area_fraction": 0.003},
            {"level": "AEGL-3", "cells": 0, "people": 0.0, "unknown_area_fraction": 0.0}]
    buf = io.StringIO()
    print_people_above(rows, Console(file=buf, width=200), "People living in output cells that reach each AEGL")
    text = buf.getvalue()
    lines = text.splitlines()
    aegl1 = next(line for line in lines if "AEGL-1" in line and "│" in line)
    aegl2 = next(line for line in lines if "AEGL-2" in line and "│" in line)
    aegl3 = next(line for line in lines if "AEGL-3" in line and "│" in line)
    assert "≥ 1,000" in aegl1 and "99 %" in aegl1  # rounded down: 1,051 is not "≥ 1,100"
    assert "≥ 1,000" in aegl2 and "< 1 %" in aegl2
    assert "≥" not in aegl3
    assert "Warnings:" in text and "99 % for AEGL-1, 0.3 % for AEGL-2" in text and "lower bound" in text
    assert people_lower_bound(1_260_000.0) == "≥ 1.2 million" and people_lower_bound(float("nan")) == "unknown"


# --------------------------------------------------------------------------- F8


def _inline_dense():
    from plumecast.nearfield.zones import LocalScenario

    return LocalScenario.model_validate({
        "name": "inline dense", "source": {"lat": 51.45, "lon": 6.75, "height_m": 1.0},
        "release": {"rate_kg_s": 50.0, "duration_s": 1800},
        "agent": {"name": "my heavy gas", "molecular_weight_g_mol": 140.0,
                  "aegl_ppm": {3: {"60min": 50.0}}},
        "meteorology": {"wind_speed_m_s": 2.0, "wind_from_deg": 240.0, "stability": "F", "air_temperature_c": 15.0},
        "receptors": {"cities": False}, "levels": [{"ppm": 10.0}, {"ppm": 100.0}],
    })


def test_an_inline_agents_vapour_temperature_default_is_said() -> None:
    from plumecast.nearfield.zones import compute_zones

    res = compute_zones(_inline_dense(), consequences=False)
    notes = [w for w in res.warnings if "temperature_c not given" in w]
    assert len(notes) == 1, res.warnings
    assert ("my heavy gas's boiling point is unknown (no thermodynamic properties for agent 'my heavy gas'): the "
            "vapour is assumed to leave at the air's 15 °C") in notes[0]


def test_an_unexpected_error_reading_the_boiling_point_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    import plumecast.nearfield.source_models as sm
    from plumecast.nearfield.zones.setup import plume_setup, release_temperature

    sc = _inline_dense()
    setup = plume_setup(sc)

    def broken(*args, **kwargs):
        raise RuntimeError("thermo.csv unreadable")

    monkeypatch.setattr(sm, "load_thermo", broken)
    with pytest.raises(RuntimeError, match="thermo.csv unreadable"):
        release_temperature(sc, setup)
