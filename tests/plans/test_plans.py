"""Plans: the baseline, termination by emission tags, cohorts, unknowns, paired lives saved."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.agents import get_agent
from plumecast.countermeasures import Cohort
from plumecast.ensemble.compare import CompareSetup, MemberResult, RawComparison
from plumecast.ensemble.members import MemberSpec
from plumecast.ensemble.summary import decision_rows, quantiles, summarise
from plumecast.ensemble.summary_files import html_page, markdown, write_outputs
from plumecast.errors import ScenarioError
from plumecast.exposure import ReceptorExposure
from plumecast.plans.config import BASELINE_NAME, PlanConfig, with_baseline
from plumecast.plans.evaluate import (
    NotOnTagEdge,
    PlanOutcome,
    evaluate_plan,
    evaluate_plans,
    tag_weights,
)
from plumecast.receptors import Receptors
from plumecast.scenario import scenario_from_dict
from plumecast.units import ppm_to_kg_m3

CL2 = get_agent("chlorine")


def _exposure(pop=(1000.0, 2000.0, np.nan), on_grid=(True, True, True), ppm=(300.0, 100.0, 300.0)):
    """Two tags (0-1 h, 1-2 h) of one release, 10-min steps over 2 h, constant per tag."""
    n_steps = 12
    conc = np.zeros((2, n_steps, 3))
    c = ppm_to_kg_m3(np.asarray(ppm), CL2.molecular_weight_g_mol)
    conc[0, :] = c  # the first hour's emissions reach the receptors at every step
    conc[1, 6:] = c  # the second hour's only after 1 h
    rec = Receptors(np.array(["a", "b", "c"], dtype=object), np.zeros(3), np.array([1.0, 2.0, 3.0]), np.asarray(pop))
    time = np.datetime64("2026-01-01T00:00", "ns") + np.arange(1, n_steps + 1) * np.timedelta64(600, "s")
    return ReceptorExposure(time=time, dt_s=600.0, conc=conc, tag_start_h=np.array([0.0, 1.0]),
                            tag_end_h=np.array([1.0, 2.0]), tag_group=np.array([0, 0]),
                            group_names=("r",), on_grid=np.asarray(on_grid), receptors=rec,
                            near_field=np.zeros(3, bool), kernel_radius_m=np.full(3, 1000.0))


STOP = PlanConfig(name="stop at 1 h", measures=[{"type": "termination", "at_h": 1.0}])
BASE = PlanConfig(name=BASELINE_NAME)


def test_baseline_always_present_and_first() -> None:
    plans = with_baseline([STOP])
    assert [p.name for p in plans] == [BASELINE_NAME, "stop at 1 h"]
    mine = PlanConfig(name="nothing at all")
    assert [p.name for p in with_baseline([STOP, mine])] == ["nothing at all", "stop at 1 h"]
    with pytest.raises(ScenarioError, match="used twice"):
        with_baseline([STOP, STOP])


def test_scenario_accepts_plans_and_rejects_bad_measure() -> None:
    base = dict(start="2026-01-01T00:00:00", duration_h=2, releases=[{"type": "point", "lat": 0, "lon": 0,
                                                                        "rate_kg_s": 1}])
    sc = scenario_from_dict({**base, "plans": [{"name": "x", "measures": [{"type": "termination", "at_h": 1}]}]})
    assert sc.plans[0].measures[0].at_h == 1
    with pytest.raises(ScenarioError, match="plans.0.measures.0"):
        scenario_from_dict({**base, "plans": [{"name": "x", "measures": [{"type": "termination", "at_h": -1}]}]})


def test_tag_weights_exact_cut_and_refuse_inside_tag() -> None:
    w = tag_weights(np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([0, 0]), [(1.0, 0.5, np.array([0]))])
    assert w.tolist() == [1.0, 0.5]
    with pytest.raises(NotOnTagEdge, match="0.5 h"):
        tag_weights(np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([0, 0]), [(0.5, 1.0, np.array([0]))])


def test_termination_by_tags_equals_assessing_the_first_tag_alone() -> None:
    exp = _exposure()
    stopped = evaluate_plan(exp, CL2, STOP, ["r"])
    only_first = evaluate_plan(ReceptorExposure(**{**exp.__dict__, "conc": exp.conc[:1],
                                                   "tag_start_h": exp.tag_start_h[:1], "tag_end_h": exp.tag_end_h[:1],
                                                   "tag_group": exp.tag_group[:1]}), CL2, BASE, ["r"])
    np.testing.assert_array_equal(stopped.fatalities, only_first.fatalities)
    full = evaluate_plan(exp, CL2, BASE, ["r"])
    assert full.fatalities[0] > stopped.fatalities[0] > 0


def test_unknown_population_and_off_grid_stay_unknown() -> None:
    o = evaluate_plan(_exposure(on_grid=(True, False, True)), CL2, BASE, ["r"])
    assert np.isfinite(o.fatalities[0]) and np.isnan(o.fatalities[1]) and np.isnan(o.fatalities[2])
    assert np.isnan(o.exceed3[1]) and o.exceed3[0] == 1.0
    assert o.n_unknown == 2
    assert o.total_fatalities == pytest.approx(o.fatalities[0])
    assert o.fatalities_sets is not None  # unknown under every probit set too, and left out of each set's total
    assert np.isnan(o.fatalities_sets[:, 1:]).all() and np.isfinite(o.fatalities_sets[:, 0]).all()
    np.testing.assert_allclose(o.totals_by_set, o.fatalities_sets[:, 0], rtol=1e-12)


def test_fatalities_are_weighted_over_cohorts() -> None:
    exp = _exposure(pop=(1000.0, 2000.0, 500.0))
    half = np.full(3, 0.5)

    def two_cohorts(outdoor, t, dt, rec, measures):  # half the people breathe a tenth of the air
        return [Cohort("out", half, outdoor), Cohort("in", half, 0.1 * outdoor)]

    plan = PlanConfig(name="shelter", measures=[{"type": "shelter", "start_h": 0.0}])
    got = evaluate_plan(exp, CL2, plan, ["r"], cohort_fn=two_cohorts)
    out = evaluate_plan(exp, CL2, BASE, ["r"])
    inside = evaluate_plans(ReceptorExposure(**{**exp.__dict__, "conc": 0.1 * exp.conc}), CL2, [(BASE, None)], ["r"])[0]
    np.testing.assert_allclose(got.fatalities, 0.5 * out.fatalities + 0.5 * inside.fatalities, rtol=1e-12)
    np.testing.assert_array_equal(got.arrival3_s, out.arrival3_s)  # the earliest cohort sets the arrival
    # each probit set's deaths are weighted over the cohorts the same way; the first set's are the figures
    assert got.fatalities_sets is not None and got.fatalities_sets.shape == (2, 3)
    np.testing.assert_allclose(got.fatalities_sets, 0.5 * out.fatalities_sets + 0.5 * inside.fatalities_sets,
                               rtol=1e-12)
    np.testing.assert_allclose(out.fatalities_sets[0], out.fatalities, rtol=1e-12)
    lo, hi = out.total_span
    assert lo <= out.total_fatalities <= hi and hi > 1.2 * lo  # chlorine's sets differ
    np.testing.assert_allclose(sorted(out.totals_by_set), [lo, hi], rtol=1e-12)


def _raw(totals_by_plan: dict[str, list[float]]) -> RawComparison:
    plans = [PlanConfig(name=n) if i == 0 else STOP.model_copy(update={"name": n})
             for i, n in enumerate(totals_by_plan)]
    members = []
    n = len(next(iter(totals_by_plan.values())))
    for m in range(n):
        outs = {}
        for p, vals in totals_by_plan.items():
            f = np.array([vals[m]])
            outs[p] = PlanOutcome(p, np.ones(1), np.ones(1), np.ones(1), np.ones(1), f, np.full(1, np.nan))
        members.append(MemberResult(m, outs, {}, {}, None, 0.0, 1))
    setup = CompareSetup(scenario=None, plans=tuple(plans), tags_h=(), delay_h=(), maps=False)  # type: ignore[arg-type]
    return RawComparison(setup, [MemberSpec(i, i) for i in range(n)], members, None, None, None, 0.0, 0)


def test_lives_saved_are_paired_by_member() -> None:
    base = [100.0 + 50.0 * m for m in range(10)]
    plan = [b - 10.0 for b in base]  # every member saves exactly 10
    s = summarise(_raw({BASELINE_NAME: base, "stop": plan}), ["a"])
    assert quantiles(s.saved["stop"]) == (10.0, 10.0, 10.0)
    lo, _, hi = quantiles(s.totals["stop"])
    assert hi - lo > 300  # while the unpaired spread is large


def test_identical_members_have_zero_spread() -> None:
    s = summarise(_raw({BASELINE_NAME: [7.0] * 5, "stop": [3.0] * 5}), ["a"])
    q = quantiles(s.totals[BASELINE_NAME])
    assert q[0] == q[2] == 7.0
    assert s.per_city[0]["fatalities_p5"] == s.per_city[0]["fatalities_p95"]


FRONT = PlanConfig(name="burn", measures=[{"type": "front", "ignition_h": 1.0, "points": [[0.0, 0.0]],
                                             "speed_m_s": 20.0}])


def _shown_raw(sets: bool = False) -> RawComparison:
    """Two members, two cities (a, b) and three plans, on a real scenario (start 1 Jul 00:00 UTC,
    issued at 01:00 UTC) with figures that test how people read them; ``sets``: the outcomes carry the
    agent's (chlorine's) two probit sets, the second reading twice the first's deaths."""
    sc = scenario_from_dict(dict(name="shown", start="2026-07-01T00:00:00", issued_at="2026-07-01T01:00:00",
                                 duration_h=12, particles=1234, seed=11,
                                 releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1}]))
    plans = (BASE, STOP, FRONT)
    fat = {BASELINE_NAME: [[1_161_095.0, np.nan], [900_000.0, np.nan]],
           "stop at 1 h": [[2.4e-10, np.nan], [4.5e-10, np.nan]],
           "burn": [[0.0, np.nan], [0.0, np.nan]]}
    members = []
    for m in range(2):
        outs = {}
        for p in plans:
            a2 = np.array([[5.0, 7.17][m] * 3600.0, np.nan])
            a3 = np.array([(6.0 + 29.0 / 60 + 59.0 / 3600) * 3600.0 + 1800.0 * m, np.nan])
            fa = np.array([2.5 * 3600.0, np.nan]) if p is FRONT else np.full(2, np.nan)
            f = np.array(fat[p.name][m])
            outs[p.name] = PlanOutcome(p.name, np.array([1.0, 0.0]), np.array([1.0, 0.0]), a2, a3, f, fa,
                                       fatalities_sets=np.stack([f, 2.0 * f]) if sets else None)
        members.append(MemberResult(m, outs, {}, {}, None, 0.5, 1))
    setup = CompareSetup(scenario=sc, plans=plans, tags_h=(), delay_h=(), maps=False)
    specs = [MemberSpec(0, 777), MemberSpec(1, 888, wind_speed_factor=1.1)]
    return RawComparison(setup, specs, members, None, None, None, 1.0, 0)


def test_numbers_people_read_follow_plumecast_numbers() -> None:
    s = summarise(_shown_raw(), ["a", "b"])
    md = markdown(s)
    page = html_page(s)
    import html

    for text in (md, html.unescape(page)):
        assert "1.0 million (900,000 to 1.2 million)" in text  # two significant figures with the range (2 members)
        assert "< 1" in text and "0.00" not in text and "e-10" not in text  # tiny expected counts
        assert "unknown" in text  # city b's population is unknown: never 0
        # AEGL-2 arrival, earliest–latest, as clock time and time from the issue (01:00), like the countdowns
        assert "1 Jul 05:00–07:10 UTC (in 4 h 00 min – 6 h 10 min)" in text
        assert "in 5 h 29 min (1 Jul 06:29 UTC)" in text  # AEGL-3 countdown from the issue time, erring early
        assert "1,234 particles per member" in text and "2 ensemble members" in text
        assert "Baseline: 'do nothing'" in text
    # one cities table per plan; only the plan with a front has the front columns
    sections = md.split("## Cities: ")[1:]
    assert [sec.splitlines()[0] for sec in sections] == [BASELINE_NAME, "stop at 1 h", "burn"]
    assert ["front arrives" in sec for sec in sections] == [False, False, True]
    assert "in 1 h 30 min (1 Jul 02:30 UTC)" in sections[2]
    assert page.count("<table>") == 4 and "<script" not in page and "<style>" in page


def test_arrivals_count_from_the_issue_time_and_say_when_they_have_passed() -> None:
    """An AEGL-2 arrival before the forecast's issue time is shown as passed, counted from
    the issue time like the AEGL-3 countdown beside it (was "(5.0–7.1 h)": hours after the
    release start, unmarked), in the console, decision_table.md and .html."""
    import dataclasses
    import html

    from plumecast.ensemble.summary import console_notes
    from plumecast.ensemble.summary_views import console_tables

    raw = _shown_raw()  # AEGL-2 at 05:00 and 07:10; issued here at 06:00
    sc = raw.setup.scenario.replace(issued_at="2026-07-01T06:00:00")
    raw = dataclasses.replace(raw, setup=dataclasses.replace(raw.setup, scenario=sc))
    s = summarise(raw, ["a", "b"])
    cell = "1 Jul 05:00–07:10 UTC (passed 1 h 00 min ago – in 1 h 10 min)"
    for text in (markdown(s), html.unescape(html_page(s))):
        assert cell in text
        assert "(5.0–7.1 h)" not in text
    # the console: the clock times on the city's line, the time from the issue below them
    lines = _rendered(console_tables(s)).splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("│ a ") and "UTC" in ln)
    assert lines[k].split("│")[2].strip() == "1 Jul 05:00–07:10 UTC"
    assert lines[k + 1].split("│")[2].strip() == "(passed 1 h 00 min ago – in 1 h 10 min)"
    assert "in 29 min (1 Jul 06:29 UTC)" in markdown(s)  # the AEGL-3 countdown, from the same issue time
    assert "issue time (1 Jul 06:00 UTC; release start 1 Jul 00:00 UTC)" in " ".join(console_notes(s))
    # all members before the issue: one "passed ... ago", each end rounded early (passed: up)
    from plumecast.ensemble.summary import arrival_text

    t0 = np.datetime64("2026-07-01T00:00")
    assert arrival_text(1.33, 2.0, t0, np.datetime64("2026-07-01T03:17")) == \
        "1 Jul 01:19–02:00 UTC (passed 1 h 58 min – 1 h 17 min ago)"


def test_csv_files_are_plain_numbers_no_more_precise_than_the_model_with_the_seeds(tmp_path) -> None:
    import csv

    s = summarise(_shown_raw(), ["a", "b"])
    write_outputs(s, tmp_path, pngs=False)
    members = list(csv.DictReader((tmp_path / "members.csv").open(encoding="utf-8")))
    assert "np." not in (tmp_path / "members.csv").read_text(encoding="utf-8")
    assert [int(r["seed"]) for r in members] == [777, 888]
    # people to two significant figures (the model is no more precise), tiny values kept (not 0)
    assert members[0][f"fatalities[{BASELINE_NAME}]"] == "1200000.0"
    assert float(members[1]["fatalities[stop at 1 h]"]) == 4.5e-10
    assert float(members[0][f"lives_saved[{BASELINE_NAME}]"]) == 0.0  # an exact zero stays 0
    rows = list(csv.DictReader((tmp_path / "decision_table.csv").open(encoding="utf-8")))
    assert [r["baseline"] for r in rows] == ["true", "false", "false"]
    assert {r["particles_per_member"] for r in rows} == {"1234"} and {r["members"] for r in rows} == {"2"}
    assert {r["member_seeds"] for r in rows} == {"777;888"} and {r["scenario_seed"] for r in rows} == {"11"}
    # files keep full values: every member's figures as computed, for the lives saved to be recomputed
    import xarray as xr

    with xr.open_dataset(tmp_path / "member_values.nc") as ds:
        assert list(ds["plan"].values) == list(s.plans) and ds["fatalities"].dims == ("member", "plan", "receptor")
        assert [int(v) for v in ds["seed"].values] == [777, 888]
        for p in s.plans:
            np.testing.assert_array_equal(ds["fatalities_total"].sel(plan=p).values, np.asarray(s.totals[p]))
            each = np.stack([np.asarray(m.outcomes[p].fatalities, float) for m in s.raw.members])
            np.testing.assert_array_equal(ds["fatalities"].sel(plan=p).values, each)
        assert float(ds["fatalities_total"].sel(plan=BASELINE_NAME)[0]) != 1200000.0  # not the rounded CSV value
    assert float(rows[0]["fatalities_median"]) == 1_000_000.0  # (1,161,095 + 900,000) / 2 to 2 s.f.
    cities = list(csv.DictReader((tmp_path / "cities.csv").open(encoding="utf-8")))
    a = [r for r in cities if r["city"] == "a" and r["plan"] == BASELINE_NAME][0]
    b = [r for r in cities if r["city"] == "b"][0]
    assert b["fatalities_median"] == ""  # unknown stays empty, never 0
    assert b["aegl2_arrival_h_min"] == ""  # never reached: empty
    # arrivals rounded DOWN to 0.01 h (a countdown never errs late; they are the earliest the air can
    # reach the level, off the step grid): 7.17 h stays; 6 h 29 min 59 s (6.49997 h) -> 6.49
    assert (a["aegl2_arrival_h_min"], a["aegl2_arrival_h_max"]) == ("5.0", "7.17")
    assert a["aegl3_arrival_h_min"] == "6.49"
    assert float(a["fatalities_p5"]) <= float(a["fatalities_median"]) <= float(a["fatalities_p95"])
    for f in ("members.csv", "cities.csv", "decision_table.csv"):
        for cell in (tmp_path / f).read_text(encoding="utf-8").replace("\n", ",").split(","):
            try:
                float(cell)
            except ValueError:
                continue
            assert len(cell.split(".")[-1].split("e")[0]) <= 6, (f, cell)  # no 1.2535772872942124


def test_file_rows_round_people_and_floor_times() -> None:
    from plumecast.ensemble.summary import file_rows, floor_hours

    rows = file_rows([{"fatalities[x]": 1.2535772872942124, "lives_saved_median": -0.0347, "p_aegl2": 1 / 3,
                       "aegl3_arrival_h_min": 1000.0 / 3600, "front_margin_h_median": -0.25, "members": 3,
                       "fatalities_p5": float("nan"), "wall_s": 1.23456, "time_h": 1.0 / 3}])
    r = rows[0]
    assert r["fatalities[x]"] == 1.3 and r["lives_saved_median"] == -0.035
    assert r["p_aegl2"] == 1 / 3  # a fraction of members is exact
    assert r["aegl3_arrival_h_min"] == 0.27  # 1000 s = 0.2777 h -> 0.27 h (down)
    assert r["front_margin_h_median"] == -0.25  # down: the front's lead over AEGL-3 is never overstated
    assert file_rows([{"front_margin_h_median": -0.251}])[0]["front_margin_h_median"] == -0.26
    assert np.isnan(r["fatalities_p5"]) and r["members"] == 3 and r["wall_s"] == 1.23
    # every arrival on the step grid stays on or before itself
    for k in range(0, 200):
        for step in (60.0, 600.0, 900.0, 1200.0, 3600.0):
            h = k * step / 3600.0
            got = floor_hours(h, step)
            assert h - max(step / 3600.0, 0.01) < got <= h + 1e-12


def test_non_finite_concentration_on_the_grid_is_unknown_never_zero() -> None:
    """NaN winds used to give zero concentrations and 0 fatalities; a NaN that reaches the
    exposure series makes that receptor unknown, not an all-clear."""
    exp = _exposure(pop=(1000.0, 2000.0, 500.0))
    conc = exp.conc.copy()
    conc[0, 3, 1] = np.nan
    o = evaluate_plan(ReceptorExposure(**{**exp.__dict__, "conc": conc}), CL2, BASE, ["r"])
    assert np.isnan(o.fatalities[1]) and np.isnan(o.exceed2[1]) and np.isnan(o.arrival2_s[1])
    assert np.isfinite(o.fatalities[0]) and o.n_unknown == 1


def _one_member_raw() -> RawComparison:
    raw = _shown_raw()
    return RawComparison(raw.setup, raw.specs[:1], raw.members[:1], None, None, None, 1.0, 0)


def test_one_member_shows_no_probabilities_or_intervals(tmp_path) -> None:
    """Without an ensemble the tables say so: whether that run reaches a level (not 100 %),
    the run's figure without a 5-95 % interval, and what to add for an ensemble."""
    import csv
    import html

    s = summarise(_one_member_raw(), ["a", "b"])
    assert s.single
    for text in (markdown(s), html.unescape(html_page(s))):
        assert "one member: no ensemble spread" in text and "ensemble: key" in text
        assert "%" not in text.replace("5–95 % intervals", "")  # no probability, no interval
        assert "1.2 million" in text and "(1.2 million–" not in text
        assert "| a | yes | yes |" in markdown(s) and "ensemble members" not in text
    write_outputs(s, tmp_path, pngs=False)
    rows = list(csv.DictReader((tmp_path / "decision_table.csv").open(encoding="utf-8")))
    assert rows[0]["members"] == "1" and rows[0]["fatalities_median"] == "1200000.0"
    assert rows[0]["fatalities_p5"] == rows[0]["fatalities_p95"] == ""  # no interval from one member
    cities = list(csv.DictReader((tmp_path / "cities.csv").open(encoding="utf-8")))
    assert cities[0]["fatalities_p5"] == cities[0]["fatalities_p95"] == "" and cities[0]["members"] == "1"


def test_two_members_still_show_probabilities_and_intervals() -> None:
    s = summarise(_shown_raw(), ["a", "b"])
    md = markdown(s)
    # a share of two members is a count of them, not "100 %" (a precision two members do not give)
    assert not s.single and "one member" not in md and "| a | 2 of 2 | 2 of 2 |" in md


# --------------------------------------------------------------------------- physics of the plans (hand cases)


def _cloud(n_steps: int, ppm: float = 200.0, first: int = 12, last: int = 18, n_rec: int = 1) -> ReceptorExposure:
    """One tag, 10-min steps; outdoor ``ppm`` over steps [first, last) (2-3 h by default), clean otherwise."""
    conc = np.zeros((1, n_steps, n_rec))
    conc[0, first:last] = ppm_to_kg_m3(ppm, CL2.molecular_weight_g_mol)
    rec = Receptors(np.array([f"r{i}" for i in range(n_rec)], dtype=object), np.zeros(n_rec),
                    np.arange(n_rec, dtype=float), np.full(n_rec, 1.0e6))
    time = np.datetime64("2026-01-01T00:00", "ns") + np.arange(1, n_steps + 1) * np.timedelta64(600, "s")
    return ReceptorExposure(time=time, dt_s=600.0, conc=conc, tag_start_h=np.array([0.0]),
                            tag_end_h=np.array([1.0e3]), tag_group=np.array([0]), group_names=("r",),
                            on_grid=np.ones(n_rec, bool), receptors=rec, near_field=np.zeros(n_rec, bool),
                            kernel_radius_m=np.full(n_rec, 1000.0))


def _deaths(exp: ReceptorExposure, *measure_lists: list) -> list[float]:
    plans = [(PlanConfig(name=f"p{i}", measures=m), None) for i, m in enumerate(measure_lists)]
    return [o.total_fatalities for o in evaluate_plans(exp, CL2, plans, ["r"])]


@pytest.mark.parametrize("end_h", [None, 3.5, 12.0])
def test_gas_left_in_buildings_when_the_run_ends_is_still_breathed(end_h) -> None:
    # the same cloud (2-3 h) in a 4-h run and in a 24-h run: people sheltering from it
    # breathe the gas their building took in for hours after it has passed, run or no run
    # (before the fix the 4-h run dropped the indoor air after 4 h: 20 % fewer deaths)
    shelter = [{"type": "shelter", "start_h": 0.0, "end_h": end_h, "air_changes_per_hour": 0.5}]
    short = _deaths(_cloud(24), [], shelter)
    long = _deaths(_cloud(144), [], shelter)
    assert short[0] == pytest.approx(long[0], rel=1e-12)  # outdoors: nothing after the cloud
    assert short[1] == pytest.approx(long[1], rel=1e-6)


def test_the_clean_air_extension_leaves_outdoor_figures_unchanged() -> None:
    rng = np.random.default_rng(5)
    exp = _exposure(ppm=(300.0, 100.0, 300.0))
    exp = ReceptorExposure(**{**exp.__dict__, "conc": exp.conc * rng.uniform(0.2, 1.0, exp.conc.shape)})
    alone = evaluate_plan(exp, CL2, BASE, ["r"])
    with_shelter = evaluate_plans(exp, CL2, [(BASE, None), (PlanConfig(
        name="in", measures=[{"type": "shelter", "region": ["b"], "start_h": 0.5}]), None)], ["r"])
    for got in with_shelter:  # the baseline, and receptors a and c, outside the order
        for f in ("fatalities", "arrival2_s", "arrival3_s", "exceed2", "exceed3"):
            a, b = getattr(alone, f), getattr(got, f)
            np.testing.assert_array_equal(a[[0, 2]], b[[0, 2]])
            if got is with_shelter[0]:
                np.testing.assert_array_equal(a, b)


def test_a_shelter_order_after_the_cloud_has_passed_saves_nobody_and_says_what_it_costs() -> None:
    # cloud 2-3 h; an order at 3 h or later sends people into buildings still holding gas
    # (single-zone air, Chan et al. 2007): it saves nobody, and the extra deaths are
    # reported, never hidden; once the buildings have aired out it changes nothing
    exp = _cloud(288)
    base, at3, at4, at40 = _deaths(exp, [], *([{"type": "shelter", "start_h": h}] for h in (3.0, 4.0, 40.0)))
    assert at3 > base and at4 > base  # indoor air worse than the clean outdoor air
    assert at40 == pytest.approx(base, rel=1e-9)
    # an order before the cloud saves people; later orders save fewer
    saved = [base - d for d in _deaths(exp, *([{"type": "shelter", "start_h": h}] for h in (0.0, 2.0, 2.5, 3.0)))]
    assert saved[0] > 0.5 * base and saved[0] == pytest.approx(saved[1], rel=1e-12)
    assert saved[1] > saved[2] > 0 > saved[3]


def test_evacuation_saves_fewer_the_later_it_is_ordered_and_none_after_the_cloud() -> None:
    exp = _cloud(144)
    base = _deaths(exp, [])[0]
    orders = [0.0, 1.0, 1.5, 2.0, 2.25, 2.5, 2.75, 3.0, 6.0]
    saved = [base - d for d in _deaths(exp, *([{"type": "evacuation", "order_h": h, "clearance_h": 1.0}]
                                             for h in orders))]
    assert all(a >= b - 1e-9 for a, b in zip(saved, saved[1:], strict=False))
    assert saved[0] == pytest.approx(base, rel=1e-12)  # gone before the cloud
    assert saved[-2] == 0.0 and saved[-1] == 0.0


def test_termination_and_shelter_combine_without_double_counting() -> None:
    # six 2-h emission tags, each over the receptor 2 h after it is emitted: a stop at T
    # with a shelter order is the shelter order on the tags emitted before T, exactly
    n = 144
    conc = np.zeros((6, n, 1))
    for k in range(6):
        conc[k, (2 * k + 2) * 6:(2 * k + 4) * 6] = ppm_to_kg_m3(80.0 + 5.0 * k, CL2.molecular_weight_g_mol)
    exp = _cloud(n)
    exp = ReceptorExposure(**{**exp.__dict__, "conc": conc, "tag_start_h": 2.0 * np.arange(6),
                              "tag_end_h": 2.0 * np.arange(6) + 2.0, "tag_group": np.zeros(6, np.int64)})
    shelter = {"type": "shelter", "start_h": 3.0, "end_h": 9.0, "compliance": 0.7}
    prev = 0.0
    for at in (2.0, 4.0, 8.0, 12.0):
        both = _deaths(exp, [{"type": "termination", "at_h": at}, shelter])[0]
        keep = 2.0 * np.arange(6) < at
        cut = ReceptorExposure(**{**exp.__dict__, "conc": conc[keep], "tag_start_h": exp.tag_start_h[keep],
                                  "tag_end_h": exp.tag_end_h[keep], "tag_group": exp.tag_group[keep]})
        assert both == pytest.approx(_deaths(cut, [shelter])[0], rel=1e-12)
        assert both >= prev  # the later the stop, the more deaths
        prev = both


def test_a_release_named_like_an_index_is_cut_by_name_as_termination_does() -> None:
    from plumecast.countermeasures import Termination
    from plumecast.plans.evaluate import release_groups

    names = ["tank", "2", "stack"]
    assert release_groups(["2"], names).tolist() == Termination(1.0, releases=("2",)).groups(names).tolist() == [1]
    assert release_groups([2], names).tolist() == [2]


def test_comparison_record_gives_the_release_start_and_the_issue_time(tmp_path) -> None:
    """comparison.json: the release start and the issue time (UTC, ISO 8601 with Z), written as part
    of the output set, and read by the dashboard so its countdowns run from the issue time."""
    import json

    from plumecast.fileio import MARKER_NAME, OutputSet
    from plumecast.web.compare_folder import load_compare

    s = summarise(_shown_raw(), ["a", "b"])  # start 1 Jul 00:00 UTC, issued 01:00 UTC
    out = tmp_path / "cmp"
    with OutputSet(out, command="compare") as o:
        written = write_outputs(s, o.path, pngs=False)
    assert any(p.name == "comparison.json" for p in written)
    rec = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert rec["release_start"] == "2026-07-01T00:00:00Z" and rec["issued_at"] == "2026-07-01T01:00:00Z"
    assert rec["duration_h"] == 12.0 and rec["members"] == 2 and rec["plans"][0] == BASELINE_NAME
    assert "comparison.json" in json.loads((out / MARKER_NAME).read_text(encoding="utf-8"))["files"]
    cd = load_compare(out)
    assert cd is not None and cd.issued_s == 3600.0 and cd.issued_unknown is None
    # no scenario (as in programs' own comparisons): the times are null, never guessed
    s0 = summarise(_raw({BASELINE_NAME: [1.0, 2.0], "stop": [0.5, 1.0]}), ["a"])
    write_outputs(s0, tmp_path / "none", pngs=False)
    rec0 = json.loads((tmp_path / "none" / "comparison.json").read_text(encoding="utf-8"))
    assert rec0["release_start"] is None and rec0["issued_at"] is None
    cd0 = load_compare(tmp_path / "none")
    assert cd0 is not None and cd0.issued_s is None and "comparison.json gives no release start" in str(cd0.issued_unknown)


def test_comparison_record_names_the_plans_timed_before_the_issue(tmp_path) -> None:
    """comparison.json says which plans act before the forecast's issue time, with decision_table.md's sentence,
    the releases' own start and each plan's own measure time (the page had offered a plan timed before the issue
    as the best option, with nothing but the ranking to go on: situation-room audit 42)."""
    import dataclasses
    import json

    raw = _shown_raw()  # STOP acts at 1 h, FRONT ignites at 1 h
    sc = scenario_from_dict(dict(name="shown", start="2026-07-01T00:00:00", issued_at="2026-07-01T01:30:00",
                                 duration_h=12, particles=1234, seed=11,
                                 releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1, "start_h": 0.25}]))
    raw = dataclasses.replace(raw, setup=dataclasses.replace(raw.setup, scenario=sc))
    s = summarise(raw, ["a", "b"])
    write_outputs(s, tmp_path, pngs=False)
    rec = json.loads((tmp_path / "comparison.json").read_text(encoding="utf-8"))
    assert rec["timed_before_issue"] == ["stop at 1 h", "burn"]
    note = rec["timed_before_issue_note"]
    assert note.startswith("Timed before the forecast's issue (2026-07-01 01:30 UTC): 'stop at 1 h' (termination "
                           "at 2026-07-01 01:00 UTC)") and "not an option" in note
    assert note in (tmp_path / "decision_table.md").read_text(encoding="utf-8")  # the same words
    assert rec["releases_begin_h"] == 0.25
    assert rec["measure_times_h"] == {"stop at 1 h": {"termination": 1.0}, "burn": {"front": 1.0}}
    # the rest is as before
    assert rec["issued_at"] == "2026-07-01T01:30:00Z" and rec["plans"][0] == BASELINE_NAME and rec["ranking"]
    # issued at the measures' time: none is before it
    write_outputs(summarise(_shown_raw(), ["a", "b"]), tmp_path / "on", pngs=False)
    rec1 = json.loads((tmp_path / "on" / "comparison.json").read_text(encoding="utf-8"))
    assert rec1["timed_before_issue"] == [] and rec1["timed_before_issue_note"] is None
    assert rec1["releases_begin_h"] == 0.0


# --------------------------------------------------------------------------- what the tables leave unsaid

CITIES = ["reached", "below", "tiny", "unknown"]


def _marked_raw(setup: CompareSetup | None = None) -> RawComparison:
    """Two members; the baseline reaches AEGL-3 in 'reached' only, yet kills in 'below' too
    (deaths without AEGL-3), 'tiny' has less than one death, 'unknown' is off the grid. On the
    grid, only the baseline reaches AEGL-3: the second plan has no AEGL-3 map, though its table
    has 'reached' at AEGL-3 (a city's own disc, which cell means understate)."""
    if setup is None:
        setup = CompareSetup(scenario=None, plans=(BASE, STOP), tags_h=(), delay_h=(), maps=True)  # type: ignore[arg-type]
    names = [p.name for p in setup.plans]
    nan = np.nan
    members = []
    for m in range(2):
        outs = {}
        for k, p in enumerate(names):
            fat = [5e5, 5e5, 0.2, nan] if k == 0 else [1e3, 10.0 + m, 0.1, nan]
            outs[p] = PlanOutcome(p, np.array([1.0, 1.0, 1.0, nan]), np.array([1.0, 0.0, 0.0, nan]),
                                  np.full(4, 3600.0) * [1, 1, 1, nan], np.array([7200.0, nan, nan, nan]),
                                  np.array(fat), np.full(4, nan))
        members.append(MemberResult(m, outs, {}, {}, None, 0.0, 1))
    counts = {}
    for k, p in enumerate(names):
        c = np.zeros((2, 3, 4), np.uint32)
        c[0, 1, 1:3] = 2  # AEGL-2 in every member
        if k == 0:
            c[1, 1, 1] = 2  # AEGL-3: the baseline only
        counts[p] = c
    lat, lon = np.array([-1.0, 0.0, 1.0]), np.array([-1.0, 0.0, 1.0, 2.0])
    return RawComparison(setup, [MemberSpec(0, 1), MemberSpec(1, 2)], members, counts, lat, lon, 0.0, 0)


def _rendered(tables: list) -> str:
    from rich.console import Console

    con = Console(width=400, record=True, file=__import__("io").StringIO())
    for t in tables:
        con.print(t)
    return con.export_text()


def test_deaths_without_aegl3_are_marked_and_explained() -> None:
    """The console showed 'not reached' next to 500,000 deaths with no word why; the single
    run's table explains it ('deaths without AEGL-3'): so do the comparison's tables."""
    from plumecast.ensemble.summary import (
        NO_AEGL3_MARK,
        console_notes,
        deaths_without_aegl3,
    )
    from plumecast.ensemble.summary_views import console_tables

    s = summarise(_marked_raw(), CITIES)
    marked = {(r["city"], r["plan"]) for r in s.per_city if deaths_without_aegl3(r)}
    # not where AEGL-3 is reached, not below one death, never where the concentration is unknown
    assert marked == {("below", BASELINE_NAME), ("below", STOP.name)}
    text = _rendered(console_tables(s))
    row = next(line for line in text.splitlines() if line.startswith("│ below"))
    assert "not reached" in row and row.count(NO_AEGL3_MARK) == 2 and "500,000" in row
    for name in ("reached", "tiny", "unknown"):
        assert NO_AEGL3_MARK not in next(line for line in text.splitlines() if line.startswith(f"│ {name}"))
    # the ranking first, then what the intervals of two members are (the console had never said it; outputs audit)
    assert "Intervals are 5–95 % over members (with 2 members, the lowest and the highest member)." in console_notes(s)
    notes = [n for n in console_notes(s) if not n.startswith(("Fewest expected deaths", "Intervals are"))]
    assert notes[0].startswith(f"{NO_AEGL3_MARK} deaths without AEGL-3")
    assert "the toxic load adds up over the whole exposure" in notes[0] and "elapsed duration" in notes[0]
    md = markdown(s)  # the same mark and words in decision_table.md
    assert "| below | 2 of 2 | 0 of 2 |" in md and f"500,000 {NO_AEGL3_MARK} |" in md
    assert f"marked {NO_AEGL3_MARK} in the cities tables" in md and "the toxic load adds up" in md
    # no such city shown: no footnote
    assert not any(n.startswith(NO_AEGL3_MARK) for n in console_notes(s, cities=["reached", "tiny"]))


def test_missing_probability_maps_are_explained(tmp_path) -> None:
    """The AEGL-3 maps of plans where no grid cell reaches AEGL-3 are not written (an empty map
    beside a table with AEGL-3 reached would mislead); the console and decision_table.md say so
    and why, naming the cities the table shows reaching it."""
    from plumecast.ensemble.summary import console_notes, missing_maps_text

    s = summarise(_marked_raw(), CITIES)
    written = {p.name for p in write_outputs(s, tmp_path)}
    assert {"probability_aegl2_do_nothing.png", "probability_aegl3_do_nothing.png",
            "probability_aegl2_stop_at_1_h.png"} <= written
    assert "probability_aegl3_stop_at_1_h.png" not in written
    text = missing_maps_text(s)
    assert text is not None and "no AEGL-3 map for 'stop at 1 h'" in text and "AEGL-2 map" not in text
    assert "no grid cell's air reaches AEGL-3 in any member" in text and "AEGL-3 reached in reached" in text
    assert console_notes(s)[-1] == text
    md = (tmp_path / "decision_table.md").read_text(encoding="utf-8")
    assert "no AEGL-3 map for 'stop at 1 h'" in md and "AEGL-3 reached in reached" in md


def test_a_missing_map_of_a_level_the_agent_lacks_is_unknown_not_never() -> None:
    """An agent without AEGL-3 (or with gaps in it): the maps note had said "no grid cell's air
    reaches AEGL-3 in any member", a never where it is unknown (outputs audit, session 35)."""
    import dataclasses

    from plumecast.agents import resolve_agent
    from plumecast.ensemble.summary import missing_maps_text

    class _Scenario:  # what the note reads of the scenario: its agent
        def __init__(self, agent):
            self.agent = agent

        def resolved_agent(self):
            return self.agent

    raw = _marked_raw()
    for table, want in (({3: {"10min": 50.0, "30min": 28.0}}, "no grid cell's air is known to reach AEGL-3"),
                        ({2: {"10min": 2.8}}, "the agent has no AEGL-3, so whether a cell reaches it is unknown, "
                                              "not never")):
        agent = resolve_agent({"name": "my gas", "molecular_weight_g_mol": 70.9, "aegl_ppm": table})
        setup = dataclasses.replace(raw.setup, scenario=_Scenario(agent))
        text = missing_maps_text(summarise(dataclasses.replace(raw, setup=setup), CITIES))
        assert text is not None and want in text, text
        assert "reaches AEGL-3 in any member" not in text


def test_compare_console_prints_the_notes(tmp_path, monkeypatch, capsys) -> None:
    """plumecast compare / demo print the notes below their tables (execute_compare)."""
    import plumecast.ensemble.compare as ec
    from plumecast.cli.common import console
    from plumecast.cli.compare import execute_compare
    from plumecast.ensemble.summary import NO_AEGL3_MARK

    sc = scenario_from_dict(dict(
        name="marks", start="2026-07-01T00:00:00", duration_h=2, particles=100,
        releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1}],
        output={"grid": {"lon_min": -1, "lon_max": 2, "lat_min": -1, "lat_max": 1, "resolution_deg": 1.0}},
        receptors={"points": [{"name": n, "lat": 0.0, "lon": 0.1 * i, "population": 1e6}
                              for i, n in enumerate(CITIES)]},
        plans=[{"name": "stop at 1 h", "measures": [{"type": "termination", "at_h": 1.0}]}]))
    monkeypatch.setattr(ec, "run_members", lambda setup, specs, **kw: _marked_raw(setup))
    monkeypatch.setattr(console, "_width", 300)  # restored to None (auto), not to the width it had
    execute_compare(sc, tmp_path / "out", workers=0, quiet=True)
    out = " ".join(capsys.readouterr().out.split())
    assert f"{NO_AEGL3_MARK} deaths without AEGL-3" in out and "no AEGL-3 map for 'stop at 1 h'" in out
    assert not (tmp_path / "out" / "probability_aegl3_stop_at_1_h.png").exists()


def test_measures_that_can_change_nothing_are_said() -> None:
    """A termination after the run's end, or ignition delays on a plan without a front, ran
    silently and were reported as saving nothing (plans audit)."""
    from plumecast.ensemble.plan_checks import plan_notes

    sc = scenario_from_dict(dict(
        name="late", start="2026-07-01T00:00:00", duration_h=6, particles=100,
        releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1}],
        receptors={"points": [{"name": "A", "lat": 0.0, "lon": 0.1, "population": 1e3}]},
        plans=[{"name": "too late", "measures": [{"type": "termination", "at_h": 50}]},
               {"name": "no front", "measures": [{"type": "termination", "at_h": 2}], "ignition_delays_h": [3]},
               {"name": "fine", "measures": [{"type": "termination", "at_h": 1}]}]))
    notes = plan_notes(sc)
    assert len(notes) == 2
    assert notes[0].startswith("plan 'too late': termination at at_h 50 h, at or after the end of the run (6 h)")
    assert notes[1] == "plan 'no front': ignition_delays_h is ignored: the plan has no front to light later"


@pytest.mark.parametrize("measure, said", [
    ({"type": "termination", "at_h": 1.01}, "measures.0.at_h 1.01 h is not on a time-step boundary"),
    ({"type": "front", "ignition_h": 1, "points": [[40.0, 10.0]], "speed_m_s": 10, "threshold_kg_m3": 1e-9},
     "measures.0.points [40, 10] is outside output.grid"),
])
def test_plan_errors_of_the_run_are_found_before_any_member_runs(measure, said) -> None:
    """They were found inside member 0 after its transport, as 'ensemble member 0: exposure
    tags: emission tag at 1.01 h ...', without the plan or key (plans audit)."""
    from plumecast.ensemble.compare import make_setup
    from plumecast.errors import ScenarioError

    sc = scenario_from_dict(dict(
        name="early", start="2026-07-01T00:00:00", duration_h=3, particles=100,
        releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1}],
        output={"grid": {"lon_min": -1, "lon_max": 2, "lat_min": -1, "lat_max": 1, "resolution_deg": 0.5}},
        receptors={"points": [{"name": "A", "lat": 0.0, "lon": 0.1, "population": 1e3}]},
        plans=[{"name": "bad", "measures": [measure]}]))
    with pytest.raises(ScenarioError, match="plans: 'bad': ") as info:
        make_setup(sc, maps=False)
    assert said in str(info.value) and "\n" not in str(info.value)


def test_the_termination_times_suggested_are_accepted() -> None:
    """600-s steps, at_h 0.25: the suggestion '0.1667' had been refused in turn (plans audit,
    session 30); the suggested values are now accepted as written."""
    import re

    from plumecast.ensemble.compare import make_setup
    from plumecast.errors import ScenarioError

    def setup(at_h: float) -> object:
        return make_setup(scenario_from_dict(dict(
            name="steps", start="2026-07-01T00:00:00", duration_h=3, particles=100, time_step_s=600,
            releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1}],
            receptors={"points": [{"name": "A", "lat": 0.0, "lon": 0.1, "population": 1e3}]},
            plans=[{"name": "stop", "measures": [{"type": "termination", "at_h": at_h}]}])), maps=False)

    with pytest.raises(ScenarioError) as info:
        setup(0.25)
    said = re.search(r"e\.g\. ([0-9.]+) or ([0-9.]+) \(10 or 20 min\)", str(info.value))
    assert said is not None, str(info.value)
    for value in said.groups():
        setup(float(value))


@pytest.mark.parametrize("measures, said", [
    ([{"type": "shelter", "start_h": 0.5, "compliance": 0.8, "region": ["Aa"]}],
     "plans: 'bad': measures.0.region: city 'Aa' is not among the 2 receptors of this run"),
    ([{"type": "termination", "at_h": 1},
      {"type": "evacuation", "order_h": 0.5, "clearance_h": 2, "region": "all"},
      {"type": "evacuation", "order_h": 1, "clearance_h": 2, "region": ["B"]}],
     "plans: 'bad': receptor 'B' is covered by two evacuations (measures.1 and measures.2)"),
])
def test_plan_region_errors_are_found_before_any_member_runs(measures, said) -> None:
    """An unknown city in a region, and a city under two evacuations, were found inside
    member 0 after its transport, as 'ensemble member 0: shelter.region: ...' without the
    plan or the measure's index (plans audit, left in session 23)."""
    from plumecast.ensemble.compare import make_setup
    from plumecast.errors import ScenarioError

    sc = scenario_from_dict(dict(
        name="early", start="2026-07-01T00:00:00", duration_h=3, particles=100,
        releases=[{"type": "point", "lat": 0, "lon": 0, "rate_kg_s": 1}],
        receptors={"points": [{"name": "A", "lat": 0.0, "lon": 0.1, "population": 1e3},
                              {"name": "B", "lat": 0.0, "lon": 0.3, "population": 1e3}]},
        plans=[{"name": "fine", "measures": [{"type": "shelter", "start_h": 0.5, "region": ["a"]}]},
               {"name": "bad", "measures": measures}]))
    with pytest.raises(ScenarioError) as info:
        make_setup(sc, maps=False)
    assert str(info.value).startswith(said) and "\n" not in str(info.value)


def test_the_early_plan_checks_pass_the_shipped_demo_plans() -> None:
    """The early region check built every measure without the agent, and a front whose
    threshold comes from the agent's LFL refused the demo itself ('front: the threshold
    needs the agent'; web audit, session 24)."""
    from plumecast.ensemble.compare import make_setup
    from plumecast.scenario import demo_plans_scenario_path, load_scenario

    sc = load_scenario(demo_plans_scenario_path())
    kinds = {m.type for p in sc.plans for m in p.measures}
    assert {"shelter", "front"} <= kinds
    assert len(make_setup(sc, maps=False).plans) == len(sc.plans) + 1


def test_console_tables_never_drop_a_plan_or_cut_a_figure_in_a_narrow_terminal() -> None:
    """At 80 columns (a log, a narrow terminal) rich dropped the columns beyond the edge: the
    converter plan was gone and Mexico City read '(25,000' (decision audit). The tables are
    split into parts that fit, each with the row names."""
    from rich.console import Console

    from plumecast.ensemble.summary import cities_by_plan_display, decision_display
    from plumecast.ensemble.summary_views import console_tables

    s = summarise(_shown_raw(), ["a", "b"])
    con = Console(width=56, record=True, file=__import__("io").StringIO())
    for t in console_tables(s, width=56):
        con.print(t)
    text = con.export_text()
    assert max(len(line) for line in text.splitlines()) <= 56
    flat = " ".join(text.split())
    for h, b in (decision_display(s), cities_by_plan_display(s, ["a", "b"])):
        for cell in [*h, *(c for row in b for c in row)]:
            for word in cell.split():  # every word of every cell is shown whole
                assert word in flat, word
    assert "(1 of " in text  # split, and said so
    # wide enough: one table each, as before
    assert len(console_tables(s, width=400)) == 2 == len(console_tables(s))


def test_p_front_before_aegl3_counts_only_members_where_both_arrive() -> None:
    """A member where AEGL-3 never reaches the city counted as 'the front first': Tokyo read
    10 % where the front beat the gas in no member (decision audit)."""
    import dataclasses

    from plumecast.ensemble.summary import city_display

    raw = _shown_raw()
    members = []
    for m in raw.members:
        o = m.outcomes["burn"]
        a3 = o.arrival3_s.copy()
        if m.index == 1:
            a3[0] = np.nan  # no AEGL-3 in city a in member 1
        burn = dataclasses.replace(o, arrival3_s=a3, front_arrival_s=np.array([8.0 * 3600.0, np.nan]))
        members.append(dataclasses.replace(m, outcomes={**m.outcomes, "burn": burn}))
    s = summarise(dataclasses.replace(raw, members=members), ["a", "b"])
    row = next(r for r in s.per_city if r["city"] == "a" and r["plan"] == "burn")
    assert row["p_front_before_aegl3"] == 0.0  # member 0: AEGL-3 at 6.5 h, the front at 8 h; member 1 not counted
    assert row["members_front_and_aegl3"] == 1
    _, body = city_display(s, "burn")
    assert next(r for r in body if r[0] == "a")[-1] == "0 of 1"  # a count of the one member with both
    assert "P(front before AEGL-3): among the members in which both" in markdown(s)


def test_the_decision_table_says_which_plan_has_the_fewest_deaths_and_how_clearly() -> None:
    """The table asked which plan saves the most and nothing answered it; two plans read the
    same to two figures (decision audit). A sentence now names the plan with the fewest
    deaths and, member by member, how it stands against the next one."""
    from plumecast.ensemble.summary import console_notes, ranking_text

    clear = summarise(_raw({BASELINE_NAME: [100.0] * 10, "stop": [50.0 + m for m in range(10)],
                            "burn": [60.0 + m for m in range(10)]}), ["a"])
    text = ranking_text(clear)
    assert text is not None and text.startswith("Fewest expected deaths: 'stop' (54).")
    assert "Against the next, 'burn', it saves 10 more" in text and "in 10 of 10 members." in text
    assert text in console_notes(clear) and text in markdown(clear)
    tied = summarise(_raw({BASELINE_NAME: [100.0] * 10, "stop": [50.0 + (m % 2) for m in range(10)],
                           "burn": [50.5] * 10}), ["a"])
    t2 = ranking_text(tied)
    assert t2 is not None and "cannot be told apart" in t2 and "fewer deaths in 5 of 10 members" in t2


def test_the_ranking_says_little_between_tolls_below_one() -> None:
    """At 0.001 kg/s every plan read '< 1' and the sentence still declared a winner (regression audit)."""
    from plumecast.ensemble.summary import ranking_text

    tiny = summarise(_raw({BASELINE_NAME: [1e-3] * 4, "stop": [1e-5] * 4, "burn": [2e-5] * 4}), ["a"])
    assert "both expected tolls are below one death" in (ranking_text(tiny) or "")


def test_console_countdowns_carry_the_probability_within_80_columns() -> None:
    """The compare console gave 'AEGL-3 countdown in 1 h 41 min' with no P(AEGL-3), which was 50 % in
    decision_table.md (cell audit): each countdown and arrival has the members' share reaching the level
    beside it, and the tables still fit 80 columns."""
    import dataclasses

    from rich.console import Console

    from plumecast.ensemble.summary import cities_by_plan_display
    from plumecast.ensemble.summary_views import console_tables
    from plumecast.plans.evaluate import PlanOutcome

    raw = _shown_raw()
    # member 1 reaches neither AEGL-3 nor AEGL-2 at city a: P(AEGL-2) = P(AEGL-3) = 1 of 2
    m1 = raw.members[1]
    nan2 = np.full(2, np.nan)
    outs = {p: PlanOutcome(o.plan, np.array([0.0, 0.0]), np.array([0.0, 0.0]), nan2, nan2, o.fatalities,
                           o.front_arrival_s) for p, o in m1.outcomes.items()}
    raw = dataclasses.replace(raw, members=[raw.members[0], dataclasses.replace(m1, outcomes=outs)])
    s = summarise(raw, ["a", "b"])
    head, body = cities_by_plan_display(s)
    assert head[1].startswith("AEGL-2 arrives; P(AEGL-2)") and head[2].startswith("AEGL-3 countdown; P(AEGL-3)")
    row = next(r for r in body if r[0] == "a")
    assert row[1].endswith("\nP 1 of 2") and row[2].endswith("\nP 1 of 2")
    assert row[2].startswith("in 5 h 29 min")
    b = next(r for r in body if r[0] == "b")
    assert "P(" not in b[1] + b[2]  # unknown there, and not reached: no probability to show
    con = Console(width=80, record=True, file=__import__("io").StringIO())
    for t in console_tables(s, width=80):
        con.print(t)
    text = con.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    # each P on one line in its cell, below the time: "P 1 of 2" twice on the city's rows
    k = next(i for i, ln in enumerate(lines) if ln.startswith("│ a "))
    cells = [c.strip() for ln in lines[k:k + 8] for c in ln.split("│")[2:4]]
    assert cells.count("P 1 of 2") == 2, lines[k:k + 8]
    assert "P(AEGL-2)" in text and "P(AEGL-3)" in text


def test_an_aegl_missing_for_a_duration_reached_is_unknown_not_never() -> None:
    """compare showed 0 % and "not reached" where the agent's AEGL-3 is missing for an exposure
    duration reached before it (run says n/a there; honest-numbers audit): AEGL-3 given to 30 min
    only, a receptor exposed for 2 h (3 then 6 ppm) below it is unknown; one that reaches it within 10 min is known."""
    from plumecast.agents import resolve_agent
    from plumecast.ensemble.summary import city_display

    gaps = resolve_agent({"name": "chlorine", "aegl_ppm": {2: {"10min": 2.8, "30min": 2.8},
                                                          3: {"10min": 50.0, "30min": 28.0}}})
    exp = _exposure(pop=(1000.0, 2000.0, 10.0), ppm=(300.0, 3.0, 0.0))
    o = evaluate_plan(exp, gaps, BASE, ["r"])
    assert o.exceed3[0] == 1.0 and np.isfinite(o.arrival3_s[0])  # reached in the first step: known
    assert np.isnan(o.exceed3[1]) and np.isnan(o.arrival3_s[1])  # 2 h of gas: AEGL-3 after 30 min unknown
    assert o.exceed2[1] == 1.0  # AEGL-2 (2.8 ppm) is reached at once there
    assert o.exceed3[2] == 0.0  # no gas at all: never, known
    # the full table: the same receptor is a known "never" (6 ppm stays below chlorine's 8-h AEGL-3, 7.1)
    assert evaluate_plan(exp, CL2, BASE, ["r"]).exceed3[1] == 0.0
    members = [MemberResult(m, {BASELINE_NAME: o}, {}, {}, None, 0.0, 1) for m in range(2)]
    setup = CompareSetup(scenario=None, plans=(BASE,), tags_h=(), delay_h=(), maps=False)  # type: ignore[arg-type]
    s = summarise(RawComparison(setup, [MemberSpec(i, i) for i in range(2)], members, None, None, None, 0.0, 0),
                  ["a", "b", "c"])
    _, body = city_display(s, BASELINE_NAME)
    row = {r[0]: r for r in body}
    assert row["b"][2] == "unknown" and row["b"][4] == "n/a"  # P(AEGL-3) and its countdown: not 0, not never
    assert [r["members_off_domain"] for r in s.per_city] == [0, 0, 0]  # the air itself is known everywhere
    # nor is an agent without a probit (its lethal fraction unknown) read as off the domain; off the grid it is
    noprobit = resolve_agent({"name": "my gas", "molecular_weight_g_mol": 70.9,
                              "aegl_ppm": {3: {"10min": 50.0, "30min": 28.0, "60min": 20.0, "4h": 10.0, "8h": 7.1}}})
    q = evaluate_plan(_exposure(on_grid=(True, False, True)), noprobit, BASE, ["r"])
    assert np.all(np.isnan(q.lethal_fraction)) and q.air_known is not None
    np.testing.assert_array_equal(q.air_known, [1.0, np.nan, 1.0])
    assert row["c"][2] == "0 of 2" and row["c"][4] == "not reached"


def test_a_probability_over_some_members_says_over_how_many() -> None:
    """A member in which AEGL-3 is unknown is left out of P(AEGL-3), and the cell says so."""
    from plumecast.ensemble.summary import city_display

    def outcome(e3: float) -> PlanOutcome:
        return PlanOutcome(BASELINE_NAME, np.ones(1), np.array([e3]), np.zeros(1), np.full(1, np.nan), np.ones(1),
                           np.full(1, np.nan))

    members = [MemberResult(m, {BASELINE_NAME: outcome(e3)}, {}, {}, None, 0.0, 1)
               for m, e3 in enumerate([0.0, np.nan, 0.0])]
    setup = CompareSetup(scenario=None, plans=(BASE,), tags_h=(), delay_h=(), maps=False)  # type: ignore[arg-type]
    s = summarise(RawComparison(setup, [MemberSpec(i, i) for i in range(3)], members, None, None, None, 0.0, 0), ["a"])
    assert s.per_city[0]["members_unknown_aegl3"] == 1 and s.per_city[0]["members_unknown"] == 0
    _, body = city_display(s, BASELINE_NAME)
    assert body[0][2] == "0 of 2 known"
    assert body[0][4] == "not reached (n/a in 1 of 3 members)"


def test_a_comparison_names_the_agents_missing_aegls() -> None:
    """An agent whose AEGL-2/3 table has gaps, or none: compare says why its P(AEGL) cells and
    countdowns read n/a and what the maps count (regression audit); a full table says nothing."""
    from plumecast.agents import resolve_agent
    from plumecast.ensemble.plan_checks import aegl_gap_note

    gaps = aegl_gap_note(resolve_agent({"name": "chlorine", "aegl_ppm": {3: {"10min": 50.0, "30min": 28.0}}}))
    assert gaps is not None and "AEGL-3 only for 10min, 30min" in gaps and "unknown, not never" in gaps
    assert "AEGL-2" not in gaps  # chlorine's own AEGL-2 table stays whole
    none = aegl_gap_note(resolve_agent({"name": "my gas", "molecular_weight_g_mol": 100.0,
                                        "aegl_ppm": {1: {"60min": 1.0}}}))
    assert none is not None and "no AEGL-2" in none and "no AEGL-3" in none
    assert aegl_gap_note(CL2) is None


@pytest.mark.parametrize(("members", "band"), [(3, "lowest–highest member"), (21, "5–95 %")])
def test_the_cost_of_delay_axis_names_what_its_band_is(tmp_path, monkeypatch, members: int, band: str) -> None:
    """cost_of_delay.png said "(median, 5–95 %)" over three members, whose band is their lowest
    and highest (outputs audit, session 35)."""
    import matplotlib.axes

    from plumecast.ensemble.summary_views import plot_delay

    labels: list[str] = []
    real = matplotlib.axes.Axes.set_ylabel
    monkeypatch.setattr(matplotlib.axes.Axes, "set_ylabel",
                        lambda ax, text, *a, **k: (labels.append(text), real(ax, text, *a, **k))[1])
    s = summarise(_raw({BASELINE_NAME: [100.0 + m for m in range(members)], "stop": [50.0] * members}), ["a"])
    plot_delay(s, tmp_path / "d.png")
    assert labels == [f"expected fatalities (median, {band})"]


def test_every_toll_below_one_ranks_alike_and_below_unknown_deaths() -> None:
    """A toll of 1e-24 ranked a city above one of unknown people reaching AEGL-2 in 1 of 3
    members, and above one with AEGL-2 to come (page audit, session 35): expected deaths rank
    from one up; below one ("< 1" or 0) the rest go by P(AEGL-3), P(AEGL-2), the earlier AEGL-2,
    after the receptors of unknown deaths."""
    import math
    from types import SimpleNamespace

    from plumecast.ensemble.summary import city_order

    def row(p2: float, med: float, arrival2: float = math.nan) -> dict[str, float]:
        return {"p_aegl2": p2, "p_aegl3": 0.0, "fatalities_median": med, "fatalities_p95": med,
                "aegl2_arrival_h_min": arrival2, "members": 3, "members_off_domain": 0}

    rows = [row(0.0, 1e-24), row(1 / 3, math.nan, 0.5), row(2 / 3, 0.4, 2.0), row(1.0, 3.0, 1.0),
            row(2 / 3, 1e-30, 1.0), row(0.0, 0.0)]
    s = SimpleNamespace(plans=["base"], rows_of=lambda plan: rows)
    # 3 deaths; unknown deaths; then "< 1" by P(AEGL-2) and the earlier AEGL-2; 1e-24 and 0 alike
    assert city_order(s) == [3, 1, 4, 2, 0, 5]  # type: ignore[arg-type]


def test_an_agent_without_aegls_ranks_its_deaths_first() -> None:
    """Phosgene has no AEGL-2/3 in the shipped table, so P(AEGL) is n/a in every row: the ranking took every
    receptor for "concentration unknown" and kept population order, the city with all 510 deaths 48th of 54
    (audit, session 39). Off the domain in every member is what puts a receptor last."""
    import math
    from types import SimpleNamespace

    from plumecast.ensemble.summary import city_order

    def row(med: float, off: int = 0) -> dict[str, float]:
        return {"p_aegl2": math.nan, "p_aegl3": math.nan, "fatalities_median": med, "fatalities_p95": med,
                "aegl2_arrival_h_min": math.nan, "members": 2, "members_off_domain": off}

    rows = [row(0.0), row(math.nan, off=2), row(1e-3), row(510.0), row(2.0), row(math.nan)]
    s = SimpleNamespace(plans=["base"], rows_of=lambda plan: rows)
    assert city_order(s) == [3, 4, 5, 0, 2, 1]  # type: ignore[arg-type]


def test_console_notes_say_the_winds_and_the_probit_set() -> None:
    # compare's console had never said that climatological winds are not a forecast, nor that its deaths use
    # the agent's first probit set alone (run gives the range over them; first-hour audit, session 40)
    from plumecast.ensemble.summary import console_notes

    notes = console_notes(summarise(_shown_raw(sets=True), ["a", "b"]))
    assert "Winds: climatological mean winds (the shipped ERA-Interim January/July means), not a forecast." in notes
    assert any(n.startswith("Deaths: the median is under the agent's probit set 'purple_book', the first of its 2")
               and "span all of them, paired by set" in n for n in notes)
    assert not any("probit set" in n for n in console_notes(summarise(_shown_raw(), ["a", "b"])))


def test_compare_ranges_cover_the_probit_sets(tmp_path) -> None:
    """DESIGN.md, "Honest numbers": casualties carry a range over members, seeds and probit sets. compare's
    intervals had been over the members alone, under the agent's first set (chlorine's second reads about twice
    its deaths), where run gives the range over the sets (first-hour audit, session 40, item A1)."""
    import csv

    s = summarise(_shown_raw(sets=True), ["a", "b"])
    base = next(r for r in decision_rows(s) if r["baseline"])
    # median under the first set; 5 % over each member's lowest set, 95 % over its highest (2 x 1,161,095)
    assert (base["fatalities_p5"], base["fatalities_median"], base["fatalities_p95"]) == (
        900_000.0, float(np.median([1_161_095.0, 900_000.0])), 2 * 1_161_095.0)
    stop = next(r for r in decision_rows(s) if r["plan"] == "stop at 1 h")
    # lives saved paired by member and set: baseline minus plan under the same set
    assert stop["lives_saved_p95"] == pytest.approx(2 * (1_161_095.0 - 2.4e-10))
    assert stop["lives_saved_p5"] == pytest.approx(900_000.0 - 4.5e-10)
    city = s.rows_of(BASELINE_NAME)[0]
    assert city["fatalities_p95"] == 2 * 1_161_095.0 and city["fatalities_p5"] == 900_000.0
    assert "2.3 million" in markdown(s)
    # the sets' range alone without members (stripped of the sets, the sheet is as before: no interval)
    one = RawComparison(*(lambda r: (r.setup, r.specs[:1], r.members[:1], None, None, None, 1.0, 0))(
        _shown_raw(sets=True)))
    s1 = summarise(one, ["a", "b"])
    assert s1.fatalities_q(BASELINE_NAME) == (1_161_095.0, 1_161_095.0, 2 * 1_161_095.0)
    md = markdown(s1)
    assert "one member; range over the 2 probit sets" in md and "1.2 million (1.2 million–2.3 million)" in md
    write_outputs(s1, tmp_path, pngs=False)
    rows = list(csv.DictReader((tmp_path / "decision_table.csv").open(encoding="utf-8")))
    assert rows[0]["fatalities_p95"] == "2300000.0"
    import json

    import xarray as xr

    assert json.loads((tmp_path / "comparison.json").read_text())["probit_sets"] == ["purple_book", "lees"]
    with xr.open_dataset(tmp_path / "member_values.nc") as ds:  # full values per set, lives saved recomputable
        per = ds["fatalities_total_by_probit_set"].sel(plan=BASELINE_NAME).values
        np.testing.assert_array_equal(per, [[1_161_095.0, 2 * 1_161_095.0]])
        assert list(ds["probit_set"].values) == ["purple_book", "lees"]


def test_maps_say_which_cities_they_leave_out() -> None:
    """The AEGL-3 maps are grid-cell means: the demo's showed 37 cells while every city of its tables reaches
    AEGL-3, and the console said so only of plans without a map (first-hour audit, session 40, item B2). The
    notes now name the cities that reach a level in the tables whose cell reaches it in no member."""
    from plumecast.ensemble.summary import console_notes, missing_maps_text

    raw = _shown_raw()
    lat, lon = np.array([-1.0, 0.0, 1.0]), np.array([-1.0, 0.0, 1.0])
    cells = np.zeros((2, 3, 3), np.uint32)
    cells[:, 2, 2] = 2  # both levels reached in the cell at (1, 1) in both members, not in city a's at (0, 0)
    counts = {p.name: cells.copy() for p in raw.setup.plans}
    with_maps = RawComparison(raw.setup, raw.specs, raw.members, counts, lat, lon, 1.0, 0)
    places = {"lat": np.array([0.1, 0.9]), "lon": np.array([-0.2, 1.1])}
    s = summarise(with_maps, ["a", "b"], places=places)
    text = missing_maps_text(s)
    assert text is not None and "the AEGL-3 maps of 'do nothing', 'stop at 1 h', 'burn' leave out 1 of the 1 " \
        "cities the tables show reaching AEGL-3 (a)" in text and "in any member" in text
    assert any(n.startswith("Maps:") and "leave out 1 of the 1" in n for n in console_notes(s))
    # city a in the reached cell: nothing left out, nothing said
    s2 = summarise(with_maps, ["a", "b"], places={"lat": np.array([0.9, 0.0]), "lon": np.array([1.1, 0.0])})
    assert missing_maps_text(s2) is None
    # city a beyond a regional map's cells: not one the map leaves out
    s3 = summarise(with_maps, ["a", "b"], places={"lat": np.array([5.0, 0.0]), "lon": np.array([0.0, 0.0])})
    assert missing_maps_text(s3) is None


def _two_set_raw(n: int, vals: dict[str, tuple[list[float], list[float]]] | None = None) -> RawComparison:
    """Plans A and B whose order the probit sets reverse: A 10/11/12 deaths under the first set and 30/31/32
    under the second, B 15/16/17 and 20/21/22 (review of session 41); ``vals`` gives other deaths, each plan's
    (first set, second set) by member."""
    plans = (BASE, PlanConfig(name="A", measures=[{"type": "termination", "at_h": 1}]),
             PlanConfig(name="B", measures=[{"type": "termination", "at_h": 2}]))
    vals = vals or {BASELINE_NAME: ([100, 101, 102], [200, 201, 202]), "A": ([10, 11, 12], [30, 31, 32]),
                    "B": ([15, 16, 17], [20, 21, 22])}
    members = []
    for m in range(n):
        outs = {}
        for p in plans:
            f, g = np.array([float(vals[p.name][0][m])]), np.array([float(vals[p.name][1][m])])
            one = np.ones(1)
            outs[p.name] = PlanOutcome(p.name, one, one, one, one, f, np.full(1, np.nan), fatalities_sets=np.stack([f, g]))
        members.append(MemberResult(m, outs, {}, {}, None, 0.0, 1))
    setup = CompareSetup(scenario=_shown_raw().setup.scenario, plans=plans, tags_h=(), delay_h=(), maps=False)
    return RawComparison(setup, [MemberSpec(i, i) for i in range(n)], members, None, None, None, 1.0, 0)


def test_the_ranking_weighs_every_probit_set() -> None:
    """The ranking's count and verdict used the first probit set alone: a plan that wins in every member under
    it and loses in every member under the other had read as a clear win (review of session 41)."""
    from plumecast.ensemble.summary import member_rows, ranking_text

    text = ranking_text(summarise(_two_set_raw(3), ["a"]))
    assert text is not None
    assert "fewer deaths in 3 of 3 members under 'purple_book'; fewer in 0 of 3 under 'lees'" in text
    assert "under the probit set 'lees' the order is reversed: 'B' 21 against 'A' 31 (medians)" in text
    assert "cannot be told apart on this ensemble" in text and "over the probit sets too" in text
    one = ranking_text(summarise(_two_set_raw(1), ["a"]))
    assert one is not None and "one member, so no ranking beyond this run; under the probit set 'lees' the order " \
        "is reversed: 'B' 20 against 'A' 30" in one
    # one member's sets that agree still give their (collapsed) bounds: a range, never an empty "unknown" cell
    s1 = summarise(_two_set_raw(1), ["a"])
    row = next(r for r in s1.per_city if r["plan"] == "A")
    assert (row["fatalities_p5"], row["fatalities_median"], row["fatalities_p95"]) == (10.0, 10.0, 30.0)
    rows = member_rows(summarise(_two_set_raw(3), ["a"]))
    assert rows[0]["fatalities[A]"] == 10.0 and rows[0]["fatalities[A][lees]"] == 30.0
    assert rows[0]["lives_saved[B][lees]"] == 200.0 - 20.0
