"""Audit 25 (inputs and the comparison's tables): receptors that share a name, the ranked
console cities table, lives lost shown as such, the output time bounds, booleans in an
agent, fast decay and the mass budget, messages that name the file, the release and the
key before anything runs, a partial cut with a front, tolls that leave out unknown
populations. Fast: the few transports run 2,000-20,000 particles for 2-3 h."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from plumecast.ensemble.compare import (
    CompareSetup,
    MemberResult,
    RawComparison,
    make_setup,
)
from plumecast.ensemble.members import MemberSpec
from plumecast.ensemble.plan_checks import plan_notes
from plumecast.ensemble.summary import (
    cities_by_plan_display,
    console_notes,
    decision_display,
    ranking_text,
    summarise,
)
from plumecast.ensemble.summary_files import html_page, markdown
from plumecast.errors import ScenarioError
from plumecast.plans.config import BASELINE_NAME, PlanConfig
from plumecast.plans.evaluate import PlanOutcome
from plumecast.scenario import load_scenario, scenario_from_dict
from tests.helpers import run_cli

nan = math.nan


def _raw(fatalities: dict[str, list[list[float]]], exceed3: dict[str, list[list[float]]] | None = None,
         exceed2: dict[str, list[list[float]]] | None = None) -> RawComparison:
    """A comparison without transport: per plan, per member, per receptor fatalities (and
    AEGL-3 / AEGL-2 indicators, default 1 where the fatalities are known, NaN elsewhere)."""
    names = list(fatalities)
    plans = tuple(PlanConfig(name=n) if i == 0 else
                  PlanConfig(name=n, measures=[{"type": "termination", "at_h": 1.0}]) for i, n in enumerate(names))
    n_members = len(next(iter(fatalities.values())))
    members = []
    for m in range(n_members):
        outs = {}
        for p in names:
            f = np.array(fatalities[p][m], dtype=float)
            e3 = np.array(exceed3[p][m], float) if exceed3 else np.where(np.isfinite(f), 1.0, nan)
            e2 = np.array(exceed2[p][m], float) if exceed2 else e3
            a = np.where(e3 > 0, 3600.0, nan)
            outs[p] = PlanOutcome(p, e2, e3, np.where(e2 > 0, 1800.0, nan), a, f, np.full(f.size, nan))
        members.append(MemberResult(m, outs, {}, {}, None, 0.0, 1))
    setup = CompareSetup(scenario=None, plans=plans, tags_h=(), delay_h=(), maps=False)  # type: ignore[arg-type]
    return RawComparison(setup, [MemberSpec(i, i + 1) for i in range(n_members)], members, None, None, None, 0.0, 0)


def _fatalities_column(body: list[list[str]], plan_col: int) -> dict[str, str]:
    return {row[0]: row[plan_col] for row in body}


# --------------------------------------------------------------------------- 1. receptors sharing a name


def test_receptors_that_share_a_name_keep_their_own_figures() -> None:
    """compare's console table keyed rows by (city, plan): of two 'school' receptors the last
    won, and the row of the school with 13 deaths showed the other's '< 1' (c18, two 'Annino')."""
    from plumecast.ensemble.summary_text import receptor_labels

    raw = _raw({BASELINE_NAME: [[13.0, 0.2]] * 3, "evacuate": [[0.4, 0.0]] * 3})
    names = ["school", "school"]
    labels = receptor_labels(names, [50.0, 50.0], [0.07, 0.28])
    assert labels == ["school (50.00 N, 0.07 E)", "school (50.00 N, 0.28 E)"]
    s = summarise(raw, names, labels)
    head, body = cities_by_plan_display(s)
    col = head.index(BASELINE_NAME)
    got = _fatalities_column(body, col)
    assert got == {"school (50.00 N, 0.07 E)": "13", "school (50.00 N, 0.28 E)": "< 1"}
    assert _fatalities_column(body, head.index("evacuate"))["school (50.00 N, 0.28 E)"] == "0"
    md = markdown(s)
    assert "| school (50.00 N, 0.07 E) |" in md and "| school (50.00 N, 0.28 E) |" in md
    # a country code tells them apart where it differs
    assert receptor_labels(["Annino", "Annino"], [55.6, 55.7], [37.1, 37.2], ["RU", "UA"]) == \
        ["Annino, RU", "Annino, UA"]


# --------------------------------------------------------------------------- 2. ranked console table


def test_the_console_cities_table_is_ranked_and_says_how_many_more() -> None:
    """~175 rows in population order, the one city with deaths at row 75 (s02): rank like
    run's table, unknown never behind a known zero, the first 20 shown."""
    from plumecast.ensemble.summary import city_order

    n = 30
    fat = [0.0] * n
    e3 = [0.0] * n
    fat[25] = 40.0                   # deaths, far down the list
    fat[27], e3[27] = nan, 1.0       # unknown population where AEGL-3 is reached: first
    fat[3] = nan                     # unknown population, no AEGL-3: before the known zeros
    e3[10] = 1.0                     # AEGL-3 reached but no deaths: first of the known zeros
    fat[0], e3[0] = nan, nan         # off the grid (concentration unknown): last
    e2 = [1.0] * n
    e2[0] = nan
    raw = _raw({BASELINE_NAME: [fat] * 2, "stop": [[0.0 if math.isfinite(f) else f for f in fat]] * 2},
               exceed3={BASELINE_NAME: [e3] * 2, "stop": [e3] * 2}, exceed2={BASELINE_NAME: [e2] * 2, "stop": [e2] * 2})
    names = [f"c{i}" for i in range(n)]
    s = summarise(raw, names)
    order = city_order(s)
    assert order[:4] == [27, 25, 3, 10] and order[-1] == 0
    head, body = cities_by_plan_display(s, top=20)
    assert len(body) == 20 and [r[0] for r in body[:4]] == ["c27", "c25", "c3", "c10"]
    notes = console_notes(s)
    assert any(t.startswith("Cities: the first 20 of 30 receptors (ranked") and "the other 10 are in cities.csv "
               "and decision_table.md" in t for t in notes)
    # decision_table.md keeps every receptor, in the same order
    md_rows = [line.split(" | ")[0].removeprefix("| ") for line in markdown(s).splitlines()
               if re.match(r"^\| c\d+ \|", line)]
    assert md_rows[:n] == [f"c{k}" for k in order]


def test_compare_prints_the_ranked_table_first_20(tmp_path, monkeypatch, capsys) -> None:
    """plumecast compare passes the ranking and the cut through to the console."""
    import plumecast.ensemble.compare as ec

    n = 25
    fat = [0.0] * n
    fat[22] = 9.0
    pts = [{"name": f"p{i}", "lat": 50.0, "lon": 0.1 + 0.01 * i, "population": 1000} for i in range(n)]
    text = yaml.safe_dump(dict(
        name="rank", start="2026-01-15T00:00:00Z", duration_h=2, particles=100,
        met={"source": "uniform", "u_m_s": 5, "v_m_s": 0},
        releases=[{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}],
        output={"grid": {"lon_min": -1, "lon_max": 2, "lat_min": 49, "lat_max": 51, "resolution_deg": 0.5}},
        receptors={"points": pts}, plans=[{"name": "stop", "measures": [{"type": "termination", "at_h": 1.0}]}]))
    path = tmp_path / "rank.yaml"
    path.write_text(text, encoding="utf-8")

    def fake(setup: Any, specs: Any, **kw: Any) -> RawComparison:
        raw = _raw({BASELINE_NAME: [fat] * 2, "stop": [[0.0] * n] * 2})
        return RawComparison(setup, raw.specs, [MemberResult(m.index, {p.name: o for p, o in
                                                                     zip(setup.plans, m.outcomes.values(), strict=True)},
                                                             {}, {}, None, 0.0, 1) for m in raw.members],
                             None, None, None, 0.0, 0)

    monkeypatch.setattr(ec, "run_members", fake)
    rc, out = run_cli(["compare", str(path), "-o", str(tmp_path / "out"), "--workers", "0", "-q", "--no-maps"],
                      capsys, monkeypatch)
    assert rc == 0, out
    rows = [line for line in out.splitlines() if re.match(r"^│ p\d+ ", line)]
    assert len(rows) == 20 and rows[0].startswith("│ p22 ")
    assert "the first 20 of 25" in out and "the other 5 are in cities.csv" in " ".join(out.split())
    # cities.csv gives each receptor's position (receptors may share a name; the dashboard matches on it)
    import csv

    got = [(r["city"], float(r["lat"]), float(r["lon"]), float(r["population"])) for r in
           csv.DictReader((tmp_path / "out" / "cities.csv").open(encoding="utf-8")) if r["plan"] == "stop"]
    assert got == [(p["name"], 50.0, p["lon"], 1000.0) for p in pts]


# --------------------------------------------------------------------------- 3. lives lost


def test_a_plan_that_costs_lives_never_reads_as_saving_them() -> None:
    """p14: a shelter after the run cost 0.0022 lives, shown as '< 1' lives saved beside
    the note 'it changes nothing'."""
    from plumecast.numbers import lives_saved, lives_saved_range

    raw = _raw({BASELINE_NAME: [[0.5]] * 3, "late": [[0.5022]] * 3})
    s = summarise(raw, ["r5km"])
    head, body = decision_display(s)
    row = next(r for r in body if r[0] == "late")
    assert row[2] == "costs < 1"
    assert "| late | < 1 | costs < 1 |" in markdown(s)
    assert "<td>costs &lt; 1</td>" in html_page(s)
    assert lives_saved(-5.0) == "costs 5" and lives_saved(13.0) == "13"
    assert lives_saved_range(0.4, -2.0, 3.0) == "< 1 (costs 2 – saves 3)"
    sc = scenario_from_dict(dict(
        name="late", start="2026-01-15T00:00:00Z", duration_h=3, particles=100,
        releases=[{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}],
        receptors={"points": [{"name": "A", "lat": 50.0, "lon": 0.07, "population": 1e3}]},
        plans=[{"name": "late", "measures": [{"type": "shelter", "start_h": 5}]}]))
    note = plan_notes(sc)[0]
    assert "changes nothing" not in note and "can cost lives" in note


# --------------------------------------------------------------------------- 4. output time bounds


@pytest.mark.parametrize("duration_h, interval_min, want_h, method", [
    (2.5, 60, [(0, 1), (1, 2), (2, 2.5)], "time: mean (interval: 60 minutes comment: the last interval 30 minutes"),
    (2.0, 180, [(0, 2)], "time: mean (interval: 120 minutes)"),
])
def test_concentration_time_bounds_are_each_rows_own_window(tmp_path, duration_h, interval_min, want_h,
                                                           method) -> None:
    """Every row had (time - interval, time]: a last, shorter interval overlapped the row
    before, and an interval longer than the run began before the release (d04, d10)."""
    import xarray as xr

    from plumecast.runner import run, write_outputs
    from plumecast.web.run_folder import load_run

    sc = scenario_from_dict(dict(
        name="bnds", start="2026-01-15T00:00:00Z", duration_h=duration_h, particles=2000,
        met={"source": "uniform", "u_m_s": 5, "v_m_s": 0},
        releases=[{"type": "point", "lat": 50, "lon": 0, "height_m": 2, "rate_kg_s": 10}],
        output={"grid": {"lon_min": -2, "lon_max": 4, "lat_min": 48, "lat_max": 52, "resolution_deg": 0.5},
                "interval_min": interval_min}))
    write_outputs(run(sc), tmp_path)
    with xr.open_dataset(tmp_path / "concentration.nc") as ds:
        b = (ds["time_bnds"].values - np.datetime64("2026-01-15T00:00")) / np.timedelta64(1, "h")
        assert b.tolist() == [list(map(float, w)) for w in want_h]
        assert ds["concentration"].attrs["cell_methods"].startswith(method)
    rd = load_run(tmp_path, "run")
    assert rd.frame_begin_s is not None
    assert (rd.frame_begin_s / 3600.0).tolist() == [float(w[0]) for w in want_h]


# --------------------------------------------------------------------------- 5. booleans in an agent


@pytest.mark.parametrize("agent, key", [
    ({"name": "chlorine", "molecular_weight_g_mol": True}, "agent.molecular_weight_g_mol"),
    ({"name": "chlorine", "decay_rate_s": True}, "agent.decay_rate_s"),
    ({"name": "agent Z", "molecular_weight_g_mol": True, "aegl_ppm": {3: {"60min": 10}}},
     "agent.molecular_weight_g_mol"),
    ({"name": "agent Z", "molecular_weight_g_mol": 100, "aegl_ppm": {3: {"60min": True}}}, "agent.aegl_ppm"),
    ({"name": "agent Z", "molecular_weight_g_mol": 100, "aegl_ppm": {3: {"60min": 10}},
      "probit": {"a": True, "b": 1, "n": 2, "conc_unit": "ppm", "time_unit": "min"}}, "agent.probits"),
    ({"name": "agent Z", "molecular_weight_g_mol": 100, "aegl_ppm": {3: {"60min": 10}}, "lfl_vol_pct": False},
     "agent.lfl_vol_pct"),
])
def test_true_or_false_is_not_a_number_in_an_agent(tmp_path, agent, key) -> None:
    """molecular_weight_g_mol: true ran as 1 g/mol (a23); decay_rate_s, an AEGL or a probit
    constant true as 1: refused like a release's rate_kg_s: true, with the key and line."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(dict(
        name="b", start="2026-01-15T00:00:00Z", duration_h=2, particles=100, agent=agent,
        releases=[{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}])), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "s.yaml, line " in text and key in text
    assert re.search(r"(true|false) is not a number", text), text


# --------------------------------------------------------------------------- 6. fast decay


@pytest.mark.parametrize("k", [1e-6, 1e-3, 5e-3, 1.0 / 60.0])
def test_first_step_decay_is_exact_for_any_rate(k) -> None:
    """The 5-point Gauss-Legendre rule was accurate for k dt <= 1 only; the closed form of a
    linear rate times an exponential holds for any k (checked against adaptive quadrature,
    a ramped profile, a start and a stop inside steps)."""
    from scipy.integrate import quad

    from plumecast.release import SourceGroup

    g = SourceGroup("g", np.array([0.0]), np.array([0.0]), np.array([2.0]), 0.0, 10.0, False, 130.0, 2950.0,
                    np.array([0.0, 0.3, 0.8]), np.array([0.2, 1.0, 0.5]))
    dt, n = 600.0, 6
    got = g.first_step_decay(dt, n, k)
    for s in range(n):
        t0 = s * dt
        knots = [x for x in (130.0, 2950.0, 0.3 * 3600, 0.8 * 3600) if t0 < x < t0 + dt]

        def rate(t: float) -> float:
            return float(g.group_rate(np.array([t]))[0])

        def weighted(t: float, t0: float = t0) -> float:
            return rate(t) * math.exp(k * (t - t0))

        num = quad(weighted, t0, t0 + dt, points=knots, limit=200, epsrel=1e-13)[0]
        den = quad(rate, t0, t0 + dt, points=knots, limit=200, epsrel=1e-13)[0]
        want = num / den if den > 0 else 1.0
        assert got[s] == pytest.approx(want, rel=1e-11), s


def _decay_scenario(k: float, dt: float = 600.0, release: dict[str, Any] | None = None) -> dict[str, Any]:
    rel = {"type": "point", "lat": 50, "lon": 0, "height_m": 2, **(release or {"rate_kg_s": 10, "stop_h": 1})}
    return dict(name="decay", start="2026-01-15T00:00:00Z", duration_h=2, time_step_s=dt, particles=20000,
                agent={"name": "chlorine", "decay_rate_s": k}, met={"source": "uniform", "u_m_s": 5, "v_m_s": 0},
                releases=[rel],
                output={"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 60, "resolution_deg": 0.5}})


def test_a_decay_faster_than_the_step_is_refused_with_the_key_and_the_step_that_follows_it(tmp_path) -> None:
    """decay_rate_s 0.1 with 600-s steps printed -7.78e5 Mt decayed and a 40-digit % of
    AEGL-3; 1 s-1 1.55e229 Mt (a21). Refused before the run, naming the key and the limit."""
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(_decay_scenario(0.1)), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "d.yaml, line " in text and "agent.decay_rate_s: 0.1 s-1 with time_step_s 600 s" in text
    assert "decay_rate_s x time_step_s = 10" in text and "time_step_s of at most 100 s" in text


@pytest.mark.parametrize("release", [None, {"amount_kg": 1000, "duration_s": 0, "start_h": 0.05}])
def test_the_mass_budget_closes_at_the_fastest_decay_accepted(release) -> None:
    """At k dt = 10 (the limit) the budget closes to 1e-9 of the released mass and every
    figure of it is a mass between zero and the released mass (a constant rate, and an
    instantaneous release inside a step)."""
    from plumecast.runner import run

    b = run(scenario_from_dict(_decay_scenario(10.0 / 600.0, release=release))).budget
    assert abs(b.residual) <= 1e-9 * b.released
    for v in (b.airborne, b.decayed):
        assert -1e-9 * b.released <= v <= b.released * (1 + 1e-9)


# --------------------------------------------------------------------------- 7. messages


def _yaml_file(tmp_path: Path, data: dict[str, Any], name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


_BASE = dict(name="m", start="2026-01-15T00:00:00Z", duration_h=3, particles=2000,
             met={"source": "uniform", "u_m_s": 5, "v_m_s": 0},
             output={"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 60, "resolution_deg": 0.5}},
             receptors={"points": [{"name": "r5km", "lat": 50.0, "lon": 0.07, "population": 1000},
                                   {"name": "r20km", "lat": 50.0, "lon": 0.28, "population": 1000}]})


@pytest.mark.parametrize("extra, release, said", [
    ({}, {"start_h": 5}, "releases.0.start_h: 5 h is at or after the end of the run (duration_h: 3 h), "
                         "so release 'tank' emits nothing"),
    ({"termination_h": 0.5}, {"start_h": 1, "stop_h": 2},
     "termination_h: 0.5 h stops every release before release 'tank' starts (releases.0.start_h 1 h)"),
])
def test_nothing_emitted_is_refused_with_file_release_and_key_before_any_progress(
        tmp_path, capsys, monkeypatch, extra, release, said) -> None:
    """e11 / t01: 'error: releases: nothing is emitted during the run ...' without file, line
    or release, after a stray 'alive 0' progress line."""
    rel = {"type": "point", "name": "tank", "lat": 50, "lon": 0, "height_m": 2, "rate_kg_s": 10, **release}
    path = _yaml_file(tmp_path, {**_BASE, **extra, "releases": [rel]})
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "out")], capsys, monkeypatch)
    assert rc == 2, out
    assert "m.yaml, line " in out and said in " ".join(out.split()), out
    assert "nothing is emitted during the run" in out and "alive" not in out


def test_issued_at_without_a_time_zone_gets_the_same_note_as_start() -> None:
    """i02: issued_at without a zone was read as UTC with no note, while start gets one."""
    sc = scenario_from_dict({**_BASE, "issued_at": "2026-01-15T00:05:00",
                             "releases": [{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}]})
    notes = sc.notes()
    assert any(n.startswith("issued_at 2026-01-15T00:05 has no time zone and is read as UTC") for n in notes)
    assert any("issued_at" in n for n in sc.replace(particles=100).notes())
    zoned = scenario_from_dict({**_BASE, "issued_at": "2026-01-15T00:05:00Z",
                                "releases": [{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}]})
    assert not any("issued_at" in n for n in zoned.notes())


def test_a_shelter_after_the_run_is_said_in_run() -> None:
    """sh02: shelter.start_h after the run's end gave 'with shelter' figures equal to the
    outdoor ones without a word."""
    sc = scenario_from_dict({**_BASE, "duration_h": 2, "shelter": {"start_h": 5},
                             "releases": [{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}]})
    assert any(n.startswith("shelter.start_h 5 h is at or after the end of the run (2 h)") for n in sc.notes())
    assert not any("shelter.start_h" in n for n in sc.notes("compare"))  # compare ignores the key, and says so


def test_an_evacuation_box_holding_no_receptor_is_refused_before_any_member_runs() -> None:
    """p06: an evacuation box over another continent was accepted, and the plan read as
    saving nothing, while an unknown city name is refused."""
    sc = scenario_from_dict({**_BASE, "releases": [{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}],
                             "plans": [{"name": "evac box", "measures": [
                                 {"type": "evacuation", "region": [100, 10, 110, 20], "order_h": 0,
                                  "clearance_h": 1}]}]})
    with pytest.raises(ScenarioError) as info:
        make_setup(sc, maps=False)
    assert str(info.value).startswith("plans: 'evac box': measures.0.region: the box [100, 10, 110, 20]")
    assert "holds none of the 2 receptors of this run" in str(info.value)
    fine = sc.model_copy(update={"plans": [PlanConfig(name="evac box", measures=[
        {"type": "evacuation", "region": [-1, 49, 1, 51], "order_h": 0, "clearance_h": 1}])]})
    make_setup(fine, maps=False)


# --------------------------------------------------------------------------- 8. a partial cut with a front


def test_a_partial_cut_with_a_front_is_refused_before_any_member_runs() -> None:
    """docs/countermeasures.md's own example failed after a minute of transport, inside
    member 0: 'an emission cut (fraction 0.5 < 1) combined with a front is not supported'."""
    sc = scenario_from_dict({**_BASE, "releases": [{"type": "point", "lat": 50, "lon": 0, "rate_kg_s": 1}],
                             "plans": [{"name": "cut and burn", "measures": [
                                 {"type": "termination", "at_h": 1},
                                 {"type": "termination", "at_h": 1, "fraction": 0.5},
                                 {"type": "front", "ignition_h": 2, "points": [[50.0, 0.5]], "speed_m_s": 30,
                                  "threshold_kg_m3": 1e-6}]}]})
    with pytest.raises(ScenarioError) as info:
        make_setup(sc, maps=False)
    assert str(info.value).startswith("plans: 'cut and burn': measures.1.fraction 0.5: an emission cut")


def test_the_plan_example_of_docs_countermeasures_passes_the_early_checks() -> None:
    """The example's plans, on the demo's release, receptors Tokyo and Osaka, pass every check
    made before the members run (the same file ran end to end in the audit's session)."""
    from plumecast.scenario import demo_plans_scenario_path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "countermeasures.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(plans:.*?)```", doc, re.S)
    assert block is not None
    plans = yaml.safe_load(block.group(1))["plans"]
    data = yaml.safe_load(demo_plans_scenario_path().read_text(encoding="utf-8"))
    data.update(plans=plans, ensemble=None, particles=1000,
                receptors={"cities": {"names": ["Tokyo", "Osaka"], "countries": ["JP"]}})
    setup = make_setup(scenario_from_dict(data), maps=False)
    assert [p.name for p in setup.plans][1:] == [p["name"] for p in plans]


# --------------------------------------------------------------------------- 9. unknown populations in the ranking


def test_the_ranking_sentence_names_receptors_of_unknown_population_under_aegl3() -> None:
    """p17: a city of unknown population reaches AEGL-3, yet the sentence said 'both expected
    tolls are below one death'."""
    raw = _raw({BASELINE_NAME: [[nan, 0.3]] * 3, "stop early": [[nan, 0.0]] * 3},
               exceed3={BASELINE_NAME: [[1.0, 0.0]] * 3, "stop early": [[0.0, 0.0]] * 3})
    s = summarise(raw, ["r5km", "r20km"])
    text = ranking_text(s)
    assert text is not None
    assert "the tolls leave out 1 receptor of unknown population where AEGL-3 is reached (r5km)" in text
    assert "both expected tolls are below one death, but" in text
    assert "leave out 1 receptor of unknown population" in markdown(s)
    # with none, the sentence is as it was
    plain = summarise(_raw({BASELINE_NAME: [[0.3, 0.3]] * 3, "stop early": [[0.0, 0.0]] * 3}), ["a", "b"])
    assert (ranking_text(plain) or "").endswith("both expected tolls are below one death, so the ranking between "
                                                "them says little.")
