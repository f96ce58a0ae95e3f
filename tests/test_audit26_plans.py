"""Audit 26 (plumecast compare): the ranking sentence's paired difference keeps its sign
(F1), members where two plans' deaths are the same are ties (F2), plan names that read
alike are refused (F3), what compare refuses in the plans names the file, line and key
(F4), and a plan that changes the exposure only where the deaths are unknown does not
read as saving a known 0 (F5). Fast: one comparison of 3 members x 1,000 particles."""

from __future__ import annotations

import csv
import html
import math
from pathlib import Path

import numpy as np
import pytest

from plumecast.ensemble.compare import CompareSetup, MemberResult, RawComparison
from plumecast.ensemble.members import MemberSpec
from plumecast.ensemble.summary import decision_display, decision_rows, ranking_text, summarise
from plumecast.ensemble.summary_files import html_page, markdown
from plumecast.plans.config import BASELINE_NAME, PlanConfig
from plumecast.plans.evaluate import PlanOutcome
from tests.helpers import run_cli
from tests.test_audit25_inputs import _raw as _raw_receptors

nan = math.nan


def _raw(totals: dict[str, list[float]]) -> RawComparison:
    """A comparison without transport: per plan, one receptor's deaths in each member."""
    return _raw_receptors({p: [[v] for v in values] for p, values in totals.items()})


# --------------------------------------------------------------------------- F1: the sign of the paired difference


@pytest.mark.parametrize("best, nxt, said", [
    # the audit's close_big.yaml: 'saves 1 (-5–6) more'
    ([60.0, 70.0, 66.0, 62.0], [65.0, 64.0, 67.0, 66.0], "it saves 2 (costs 6 – saves 5) more"),
    # close_0.70.yaml: 'saves < 1 more', the straddle hidden
    ([7.0, 7.4, 6.9, 7.2], [7.3, 7.0, 7.1, 7.5], "it saves < 1 (costs < 1 – saves < 1) more"),
])
def test_the_ranking_sentence_keeps_the_sign_of_the_paired_difference(best: list[float], nxt: list[float],
                                                                       said: str) -> None:
    s = summarise(_raw({BASELINE_NAME: [100.0] * 4, "shelter part": best, "stop at 0.5h": nxt}), ["a"])
    text = ranking_text(s)
    assert text is not None and said in text, text
    assert "(-" not in text and "–-" not in text
    assert text in markdown(s) and text in html.unescape(html_page(s))


def test_a_plan_that_costs_more_lives_than_the_next_reads_costs() -> None:
    """The lowest median toll can still lose the paired median: 'it costs 1 ... more', not
    'saves costs'."""
    s = summarise(_raw({BASELINE_NAME: [100.0] * 5, "a": [1.0, 2.0, 3.0, 20.0, 21.0],
                        "b": [5.0, 6.0, 2.5, 19.0, 20.0]}), ["x"])
    text = ranking_text(s) or ""
    assert "Fewest expected deaths: 'a' (3)" in text
    assert "it costs < 1 (costs 1 – saves 4) more" in text and "saves costs" not in text, text


# --------------------------------------------------------------------------- F2: ties


def test_members_whose_deaths_are_the_same_are_ties_not_losses() -> None:
    """metfile.yaml + ens3.nc: a member where both tolls are ~1e-31 decided the verdict
    ('fewer deaths in 2 of 3 members: cannot be told apart') though the plan won by 3 and
    11 deaths in every member where anyone dies."""
    totals = {BASELINE_NAME: [30.0, 1.3e-30, 73.0], "shelter early": [6.2, 2.6e-31, 16.0],
              "stop at 0.5h": [9.5, 3.2e-35, 27.0]}
    s = summarise(_raw(totals), ["a"])
    text = ranking_text(s) or ""
    assert "has fewer deaths in 2 of 3 members, the same in 1." in text, text
    assert "cannot be told apart" not in text
    # the lives-saved quantiles are unchanged: every member's paired difference, ties too
    row = next(r for r in decision_rows(s) if r["plan"] == "stop at 0.5h")
    d = np.array(totals[BASELINE_NAME]) - np.array(totals["stop at 0.5h"])
    q = [d.min(), np.median(d), d.max()]  # 3 members: the 5-95 % interval is their range
    assert [row["lives_saved_p5"], row["lives_saved_median"], row["lives_saved_p95"]] == pytest.approx(q)


def test_a_tie_everywhere_cannot_be_told_apart_and_a_lost_member_still_counts() -> None:
    from plumecast.ensemble.summary import TIE_DEATHS, member_tally

    same = summarise(_raw({BASELINE_NAME: [50.0] * 3, "a": [20.0, 30.0, 40.0],
                           "b": [20.0 + TIE_DEATHS / 2, 30.0, 40.0]}), ["x"])
    text = ranking_text(same) or ""
    assert "has the same deaths in all 3 members: the two cannot be told apart" in text, text
    # two wins, one loss and a tie: 2 of the 3 members in which they differ (67 % < 80 %)
    mixed = summarise(_raw({BASELINE_NAME: [50.0] * 4, "a": [20.0, 30.0, 40.0, 10.0],
                            "b": [25.0, 35.0, 40.0, 9.0]}), ["x"])
    text = ranking_text(mixed) or ""
    assert "fewer deaths in 2 of 4 members, the same in 1: the two cannot be told apart" in text, text
    assert member_tally(np.array([5.0, 5.0, 0.0, -1.0, nan])) == (2, 1, 1)


# --------------------------------------------------------------------------- F3, F4: messages with file and line

_SCENARIO = """\
name: audit 26
agent: chlorine
start: 2026-01-20T06:00:00Z
duration_h: 2
time_step_s: 600
particles: 1000
seed: 11
met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}
turbulence: {kh_m2_s: 500, kz_m2_s: 10, mixing_height_m: 500}
releases:
  - {type: point, name: tank, lat: 51.0, lon: 7.0, height_m: 2, rate_kg_s: 200, stop_h: 1}
output:
  grid: {lon_min: 6, lon_max: 10, lat_min: 50, lat_max: 52, resolution_deg: 0.1}
  interval_min: 30
receptors:
  points:
    - {name: nearA, lat: 51.0, lon: 7.15, population: 20000, radius_km: 2}
    - {name: unknownpop, lat: 51.0, lon: 7.3, radius_km: 1}
    - {name: zeropop, lat: 51.0, lon: 7.45, population: 0}
ensemble:
  members: 3
  wind_direction_deg: {dist: normal, mean: 0, sd: 5}
plans:
"""
#: the line of the first plan's name in a file of _SCENARIO + plans
_FIRST = _SCENARIO.count("\n") + 1


def _compare(tmp_path: Path, plans: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
             *extra: str) -> tuple[int, str, Path]:
    path = tmp_path / "plans.yaml"
    path.write_text(_SCENARIO + plans, encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "250")
    rc, out = run_cli(["compare", str(path), "-o", str(tmp_path / "out"), "--workers", "0", "--no-maps", "-q",
                       *extra], capsys, monkeypatch)
    return rc, " ".join(out.split()), path


@pytest.mark.parametrize("plans, key, said", [
    ('  - name: stop\n    measures: [{type: termination, at_h: 0.5}]\n'
     '  - name: "stop "\n    measures: [{type: termination, at_h: 1}]\n',
     "plans.1.name", "the plan names 'stop' (plans.0.name, line {first}) and 'stop ' differ only in case or spaces"),
    ('  - name: Stop\n    measures: [{type: termination, at_h: 0.5}]\n'
     '  - name: stop\n    measures: [{type: termination, at_h: 1}]\n',
     "plans.1.name", "the plan names 'Stop' (plans.0.name, line {first}) and 'stop' differ only in case or spaces"),
    ('  - name: stop\n    measures: [{type: termination, at_h: 0.5}]\n'
     '  - name: stop\n    measures: [{type: termination, at_h: 1}]\n',
     "plans.1.name", "the plan name 'stop' is used twice (also plans.0.name, line {first})"),
    ('  - name: Do Nothing\n    measures: [{type: termination, at_h: 0.5}]\n',
     "plans.0.name", "the plan name 'Do Nothing' differs from the built-in baseline's 'do nothing'"),
])
def test_plan_names_that_read_alike_are_refused_naming_file_line_and_both(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        plans: str, key: str, said: str) -> None:
    """'stop' beside 'stop ', 'Stop', and 'Do Nothing' beside the baseline were accepted and
    gave two table rows that read alike (F3)."""
    rc, out, path = _compare(tmp_path, plans, capsys, monkeypatch)
    assert rc != 0
    line = _FIRST if key == "plans.0.name" else _FIRST + 2
    assert f"error: {path}, line {line}: {key}: {said.format(first=_FIRST)}" in out, out


@pytest.mark.parametrize("plans, head, said", [
    # the names of the releases
    ("  - name: stop other\n    measures:\n      - {type: termination, at_h: 0.5, releases: [tanker]}\n",
     "line {m0}: plans.0.measures.0.releases: plan 'stop other'",
     "no release named 'tanker'; the releases are ['tank']"),
    # a termination between time steps
    ("  - name: stop\n    measures:\n      - type: termination\n        at_h: 0.55\n",
     "line {m0k}: plans.0.measures.0.at_h: plan 'stop'", "0.55 h is not on a time-step boundary"),
    # a box without receptors
    ("  - name: empty box\n    measures:\n      - {type: evacuation, region: [8, 50.2, 8.5, 50.6], order_h: 0.1, "
     "clearance_h: 0.3}\n",
     "line {m0}: plans.0.measures.0.region: plan 'empty box'", "the box [8, 50.2, 8.5, 50.6]"),
    # a city that is not a receptor
    ("  - name: shelter\n    measures:\n      - {type: shelter, region: [Nowhere], start_h: 0.2}\n",
     "line {m0}: plans.0.measures.0.region: plan 'shelter'", "city 'Nowhere' is not among the 3 receptors"),
    # two shelters over one city: the second, where the clash is found
    ("  - name: two shelters\n    measures:\n      - {type: shelter, region: all, start_h: 0.2}\n"
     "      - {type: shelter, region: [nearA], start_h: 0.5}\n",
     "line {m1}: plans.0.measures.1.region: plan 'two shelters'",
     "receptor 'nearA' is covered by two shelter orders (measures.0 and measures.1)"),
    # the baseline's name on a plan with measures
    ("  - name: do nothing\n    measures: [{type: termination, at_h: 0.5}]\n",
     "line {first}: plans.0.name", "a plan named 'do nothing' must have no measures"),
    # a front lit off the grid
    ("  - name: burn\n    measures:\n      - {type: front, ignition_h: 1, points: [[40.0, 7.0]], speed_m_s: 30, "
     "threshold_kg_m3: 1.0e-6}\n",
     "line {m0}: plans.0.measures.0.points: plan 'burn'", "[40, 7] is outside output.grid"),
    # a partial cut with a front
    ("  - name: cut and burn\n    measures:\n      - {type: termination, at_h: 0.5, fraction: 0.5}\n"
     "      - {type: front, ignition_h: 1, points: [[51.0, 7.5]], speed_m_s: 30, threshold_kg_m3: 1.0e-6}\n",
     "line {m0}: plans.0.measures.0.fraction: plan 'cut and burn'", "0.5: an emission cut (fraction < 1)"),
])
def test_what_compare_refuses_in_the_plans_names_the_file_line_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        plans: str, head: str, said: str) -> None:
    """They named plan and measure but not file and line, and the release name neither
    plan nor key ('error: plans: no release named 'tanker'; ...'; F4)."""
    rc, out, path = _compare(tmp_path, plans, capsys, monkeypatch)
    assert rc != 0
    lines = {"first": _FIRST, "m0": _FIRST + 2, "m0k": _FIRST + 3, "m1": _FIRST + 3}
    assert f"error: {path}, {head.format(**lines)}: {said}" in out, out


def test_a_clock_time_as_a_plan_time_is_shown_as_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An unquoted ISO date printed 'got datetime.datetime(2026, 1, 20, 6, 30, tzinfo=...)'."""
    rc, out, path = _compare(tmp_path, "  - name: shelter\n    measures:\n"
                             "      - {type: shelter, start_h: 2026-01-20T06:30:00Z}\n", capsys, monkeypatch)
    assert rc != 0
    assert "datetime" not in out
    assert (f"{path}, line {_FIRST + 2}: plans.0.measures.0.start_h: got a date and time, "
            "2026-01-20T06:30:00Z; expected a number of hours after the scenario's start") in out, out
    rc, out, _ = _compare(tmp_path, "  - name: shelter\n    measures:\n"
                          "      - {type: shelter, start_h: '06:30'}\n", capsys, monkeypatch)
    assert rc != 0 and "(got '06:30'); expected a number of hours after the scenario's start (e.g. 0.5)" in out


def test_plan_names_are_compared_without_case_and_spaces() -> None:
    from plumecast.errors import ScenarioError
    from plumecast.plans.config import name_key, with_baseline

    assert name_key(" Shelter  Now ") == name_key("shelter now")
    stop = [{"type": "termination", "at_h": 1.0}]
    with pytest.raises(ScenarioError, match="differ only in case or spaces"):
        with_baseline([PlanConfig(name="go", measures=stop), PlanConfig(name="Go", measures=stop)])
    # a plan without measures is the baseline, whatever its name
    assert with_baseline([PlanConfig(name="Do Nothing"), PlanConfig(name="go", measures=stop)])[0].name == "Do Nothing"
    with pytest.raises(ValueError, match="more than spaces"):
        PlanConfig(name="   ")


# --------------------------------------------------------------------------- F5: unknown is never a known 0


def test_a_plan_acting_only_where_deaths_are_unknown_does_not_read_a_known_zero(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """unknown_box.yaml: evacuating a town of unknown population read lives saved '0', as
    evacuating a town of no one does."""
    plans = ("  - name: evacuate unknown town\n    measures:\n"
             "      - {type: evacuation, region: [7.25, 50.9, 7.35, 51.1], order_h: 0.1, clearance_h: 0.3}\n"
             "  - name: evacuate zero town\n    measures:\n"
             "      - {type: evacuation, region: [7.4, 50.9, 7.5, 51.1], order_h: 0.1, clearance_h: 0.3}\n")
    rc, out, _ = _compare(tmp_path, plans, capsys, monkeypatch)
    assert rc == 0, out
    assert "0 known; unknown at 1 receptor" in out
    assert "the two also differ at 1 receptor whose deaths are unknown (unknownpop)" in out
    outdir = tmp_path / "out"
    md = (outdir / "decision_table.md").read_text(encoding="utf-8")
    page = (outdir / "decision_table.html").read_text(encoding="utf-8")
    for text in (md, page):
        assert "0 known; unknown at 1 receptor" in text
        assert text.count("unknown at 1 receptor") == 1  # not for the town of no one
    with open(outdir / "decision_table.csv", encoding="utf-8", newline="") as fh:
        rows = {r["plan"]: r for r in csv.DictReader(fh)}
    assert rows["evacuate unknown town"]["lives_saved_median"] == "0.0"  # the number stays, for programs
    assert rows["evacuate unknown town"]["receptors_saved_unknown_max"] == "1"
    assert rows["evacuate zero town"]["receptors_saved_unknown_max"] == "0"
    assert rows[BASELINE_NAME]["receptors_saved_unknown_max"] == "0"


def test_unknown_population_under_a_changed_lethal_fraction_is_counted() -> None:
    """From the outcomes: a receptor of unknown population whose lethal fraction the plan
    changes, or of unknown concentration that its evacuation covers, is counted; one the
    plan leaves alone is not."""
    one, f = np.ones(3), np.array([5.0, nan, nan])
    base = PlanOutcome(BASELINE_NAME, one, one, one, one, f, np.full(3, nan), np.array([0.1, 0.2, nan]),
                       np.zeros(3))
    alone = PlanOutcome("alone", one, one, one, one, f, np.full(3, nan), np.array([0.05, 0.2, nan]), np.zeros(3))
    acts = PlanOutcome("acts", one, one, one, one, f, np.full(3, nan), np.array([0.1, 0.1, nan]),
                       np.array([0.0, 0.0, 1.0]))
    members = [MemberResult(m, {p.plan: p for p in (base, alone, acts)}, {}, {}, None, 0.0, 1) for m in range(2)]
    plans = (PlanConfig(name=BASELINE_NAME), PlanConfig(name="alone", measures=[{"type": "termination", "at_h": 1}]),
             PlanConfig(name="acts", measures=[{"type": "termination", "at_h": 1}]))
    setup = CompareSetup(scenario=None, plans=plans, tags_h=(), delay_h=(), maps=False)  # type: ignore[arg-type]
    s = summarise(RawComparison(setup, [MemberSpec(0, 1), MemberSpec(1, 2)], members, None, None, None, 0.0, 0),
                  ["a", "b", "c"])
    cells = {row[0]: row[2] for row in decision_display(s)[1]}
    assert cells["alone"] == "0"  # it changes the air where the deaths are known only
    assert cells["acts"] == "0 known; unknown at 2 receptors"


def test_negligible_fractions_where_the_population_is_unknown_are_no_change() -> None:
    """Lethal fractions of 4.4e-53 against 1.2e-66 at a receptor of unknown population had marked
    both plans' lives saved 'unknown at 1 receptor' (regression audit): no population makes so
    small a difference a thousandth of a death (the tie rule's), so they read as the same."""
    one, f = np.ones(2), np.array([5.0, nan])
    base = PlanOutcome(BASELINE_NAME, one, one, one, one, f, np.full(2, nan), np.array([0.1, 4.4e-53]), np.zeros(2))
    tiny = PlanOutcome("tiny", one, one, one, one, f * 0.5, np.full(2, nan), np.array([0.05, 1.2e-66]), np.zeros(2))
    real = PlanOutcome("real", one, one, one, one, f * 0.5, np.full(2, nan), np.array([0.05, 1e-6]), np.zeros(2))
    members = [MemberResult(m, {p.plan: p for p in (base, tiny, real)}, {}, {}, None, 0.0, 1) for m in range(2)]
    plans = (PlanConfig(name=BASELINE_NAME), PlanConfig(name="tiny", measures=[{"type": "termination", "at_h": 1}]),
             PlanConfig(name="real", measures=[{"type": "termination", "at_h": 1}]))
    setup = CompareSetup(scenario=None, plans=plans, tags_h=(), delay_h=(), maps=False)  # type: ignore[arg-type]
    s = summarise(RawComparison(setup, [MemberSpec(0, 1), MemberSpec(1, 2)], members, None, None, None, 0.0, 0),
                  ["a", "b"])
    cells = {row[0]: row[2] for row in decision_display(s)[1]}
    assert "unknown" not in cells["tiny"]
    assert cells["real"].endswith(" known; unknown at 1 receptor")
