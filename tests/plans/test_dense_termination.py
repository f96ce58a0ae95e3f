"""A plan's termination of a release whose near field is zones' dense cloud: the cloud of a shorter
release is another cloud (not linear in the emissions), so compare reruns the plan's transport with the
release cut instead of dropping emission tags, and holds its air to the whole release's (a stopped release
is the longer one's first part; plumecast.ensemble.dense_cuts). Dropping them had kept the whole release's dose per
kilogram: 10 kg/s of chlorine over 2 h cut at 10 min gave 0.62-0.68 of the cut release's dose, 49 deaths
against 120 (dense-cloud audit)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from plumecast.ensemble.compare import make_setup, member_task
from plumecast.ensemble.members import MemberSpec
from plumecast.plans.config import PlanConfig
from plumecast.plans.evaluate import evaluate_plans
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

LAT0, LON0 = 33.5648, -81.8076
M_PER_DEG_LON = 111_195.0 * np.cos(np.radians(LAT0))


def _scenario(stop_h=None, dense_gas="auto", plans=True):
    rel = {"type": "point", "name": "tank car", "lat": LAT0, "lon": LON0, "height_m": 1.0, "rate_kg_s": 10.0,
           "dense_gas": dense_gas}
    if stop_h is None:
        rel["duration_s"] = 7200.0
    else:
        rel["stop_h"] = stop_h
    d = {
        "name": "dense termination", "start": "2005-01-06T07:39:00Z", "duration_h": 3, "time_step_s": 300,
        "particles": 2000, "seed": 1, "backend": "numpy", "agent": "chlorine",
        "met": {"source": "uniform", "u_m_s": 1.5, "v_m_s": 0.0}, "turbulence": {"mixing_height_m": 200},
        "releases": [rel],
        "local_weather": {"wind_speed_m_s": 1.5, "wind_from_deg": 270, "stability": "F", "mixing_height_m": 200,
                          "terrain": "rural", "air_temperature_c": 2},
        "receptors": {"points": [{"name": f"{km:g} km", "lat": LAT0, "lon": LON0 + km * 1000.0 / M_PER_DEG_LON,
                                  "population": 5000} for km in (1.0, 3.0, 8.0)]},
    }
    if plans:
        d["plans"] = [{"name": "stop at 10 min", "measures": [{"type": "termination", "at_h": 1.0 / 6.0}]}]
    return scenario_from_dict(d)


def _held(conc, whole, tags, w):
    """``conc`` (tag, step, receptor) with the sum of the ``tags`` held, step by step and receptor by receptor,
    between ``whole``'s and ``whole``'s weighted by the tags' weights ``w`` (the emission before the stop): its
    tags keep their shares above, take the weighted ones below (by hand, as plumecast.ensemble.dense_cuts)."""
    out = conc.copy()
    low = w[tags][:, None, None] * whole[tags]
    mine, hi, lo = conc[tags].sum(axis=0), whole[tags].sum(axis=0), low.sum(axis=0)
    scaled = conc[tags] * np.divide(hi, mine, out=np.ones_like(mine), where=mine > hi)[None]
    out[tags] = np.where((mine < lo)[None], low, scaled)
    return out


def _cut_weights(exp, at_h):
    from plumecast.plans.evaluate import tag_weights

    return tag_weights(exp.tag_start_h, exp.tag_end_h, exp.tag_group, [(at_h, 1.0, np.array([0]))])


def _do_nothing_deaths(sc, held_to=None):
    """The scenario's deaths without a plan; ``held_to``: its air held, step by step and receptor by receptor,
    to that exposure's (these receptors are points: no city-disc parts)."""
    res = run(sc, exposure_tags_h=None if held_to is None else list(held_to.tag_start_h[1:]))
    exp = res.exposure
    if held_to is not None:
        assert exp.part_receptors is None or exp.part_receptors.size == 0
        exp = replace(exp, conc=_held(exp.conc, held_to.conc, exp.tag_group == 0,
                                      _cut_weights(held_to, float(sc.releases[0].stop_h))))
    names = [r.name for r in sc.releases]
    return evaluate_plans(exp, sc.resolved_agent(), [(PlanConfig(name="do nothing"), None)], names)[0]


@pytest.mark.parametrize("dense_gas", ["auto", "off"])
def test_a_termination_of_a_dense_release_is_the_cut_release(dense_gas):
    sc = _scenario(dense_gas=dense_gas)
    setup = make_setup(sc, maps=False)
    r = member_task(setup, MemberSpec(0, sc.seed))
    plan = r.outcomes["stop at 10 min"]
    cut = _do_nothing_deaths(_scenario(stop_h=1.0 / 6.0, dense_gas=dense_gas, plans=False))
    if dense_gas == "auto":
        # the baseline, then one transport per distinct cut: the plan's own and each delay of its termination
        # after the release's start (before it, nothing of the release is left: the tags' figure, exactly 0
        # here, not a rerun of a millisecond's release); the plan's own cut is also on the delay axis
        assert 1.0 / 6.0 in setup.delay_h
        # (a stop at or after the release's end, 2 h, is the baseline itself: no rerun)
        assert 2.0 in setup.delay_h and r.runs == 1 + sum(0.0 < h < 2.0 for h in setup.delay_h)
        assert r.delay_termination["stop at 10 min"][list(setup.delay_h).index(2.0)] == \
            r.outcomes["do nothing"].total_fatalities
        assert 0.0 in setup.delay_h and r.delay_termination["stop at 10 min"][list(setup.delay_h).index(0.0)] == 0.0
        # the cut release's own cloud, held to the whole release's air (plumecast.ensemble.dense_cuts). zones'
        # cloud of the 10-min release had read more than the 2-h release's at all three places here, and the
        # hold took the plan below the cut release's own run everywhere; since audit D3 (a finite release's peak
        # never above that of the same rate released for longer, the steady plume of the rate included) the
        # cut's own air falls below the tags' figure at 1 and 3 km (the hold from below: no lower than the whole
        # release's air from the emission before the stop) and above the whole release's at 8 km
        whole = run(sc, exposure_tags_h=list(setup.tags_h)).exposure
        held = _do_nothing_deaths(_scenario(stop_h=1.0 / 6.0, dense_gas=dense_gas, plans=False), held_to=whole)
        np.testing.assert_allclose(plan.fatalities, held.fatalities, rtol=1e-9)
        assert np.all(plan.fatalities[:2] > cut.fatalities[:2]) and plan.fatalities[2] < cut.fatalities[2]
        assert np.all(plan.fatalities < r.outcomes["do nothing"].fatalities)
        assert plan.total_fatalities > 10.0
    else:  # the Gaussian plume is linear in the emissions: the tags give the cut release (no rerun)
        assert r.runs == 1
        np.testing.assert_allclose(plan.fatalities, cut.fatalities, rtol=1e-6, atol=1e-9)


def test_the_dense_cloud_lasts_to_the_cut():
    """The cloud is set up for the release as emitted: to its stop_h, or the scenario's termination_h, where
    that comes before the end of its duration (an amount's share then)."""
    from plumecast.near_field_dense import local_scenario

    sc = _scenario(plans=False)
    rel = sc.releases[0]
    assert local_scenario(sc, rel, "rural", 200.0, 1.5, 270.0, "F").release.duration_s == pytest.approx(7200.0)
    cut = sc.replace(termination_h=0.5)
    assert local_scenario(cut, rel, "rural", 200.0, 1.5, 270.0, "F").release.duration_s == pytest.approx(1800.0)
    amount = rel.model_copy(update={"rate_kg_s": None, "amount_kg": 72000.0, "stop_h": 0.25})
    spec = local_scenario(sc, amount, "rural", 200.0, 1.5, 270.0, "F").release
    assert spec.duration_s == pytest.approx(900.0) and spec.amount_kg == pytest.approx(9000.0)


def _two_releases(plans, stop_h=None):
    sc = _scenario(stop_h=stop_h, plans=False)
    vent = {"type": "point", "name": "vent", "lat": LAT0 + 0.001, "lon": LON0, "height_m": 1.0, "rate_kg_s": 5.0,
            "duration_s": 7200.0, "dense_gas": "off"}
    d = sc.model_dump(mode="json", exclude_none=True)
    d["releases"].append(vent)
    d["plans"] = plans
    return scenario_from_dict(d)


def test_a_plan_that_stops_the_dense_release_and_halves_another_reruns_the_stop():
    """The regression audit's mixed plan: a full stop of the dense release and half of a passive one had not been
    rerun (1,825 deaths against 2,249). The full stop is applied to the sources, the half cut by tags."""
    from plumecast.ensemble.compare import CompareSetup, RawComparison, member_warnings  # noqa: F401

    cut_h = 1.0 / 6.0
    plans = [{"name": "stop and halve", "measures": [
        {"type": "termination", "at_h": cut_h, "releases": ["tank car"]},
        {"type": "termination", "at_h": cut_h, "releases": ["vent"], "fraction": 0.5}]}]
    sc = _two_releases(plans)
    setup = make_setup(sc, maps=False)
    r = member_task(setup, MemberSpec(0, sc.seed))
    assert cut_h in setup.delay_h and r.runs == 1 + sum(0.0 < h < 2.0 for h in setup.delay_h)  # one per distinct cut
    # by hand: the tank car cut at the source, the vent halved by its tags after the cut
    direct = _two_releases(plans)
    rel = list(direct.releases)
    rel[0] = rel[0].model_copy(update={"stop_h": cut_h})
    direct = direct.model_copy(update={"releases": rel})
    res = run(direct, exposure_tags_h=list(setup.tags_h))
    # the tank car's air held to the whole release's (plumecast.ensemble.dense_cuts); the vent's not
    whole = run(_two_releases(plans), exposure_tags_h=list(setup.tags_h)).exposure
    conc = _held(res.exposure.conc, whole.conc, res.exposure.tag_group == 0, _cut_weights(whole, cut_h))
    assert (conc < res.exposure.conc).any()
    half = PlanConfig.model_validate({"name": "half", "measures": [plans[0]["measures"][1]]})
    want = evaluate_plans(replace(res.exposure, conc=conc), sc.resolved_agent(), [(half, None)],
                          ["tank car", "vent"])[0]
    np.testing.assert_allclose(r.outcomes["stop and halve"].fatalities, want.fatalities, rtol=1e-9)
    # no fraction note; the hold is said
    assert any(n.startswith("plans: 'stop and halve': the cut release's own dense cloud") for n in r.notes)
    assert not any(n.startswith("plans:") and "still present" not in n and "cut release's own dense cloud"
                   not in n for n in r.notes)
    # a fraction of the dense release itself keeps the linear estimate, and the user is told
    frac = _two_releases([{"name": "halve the tank", "measures": [
        {"type": "termination", "at_h": cut_h, "releases": ["tank car"], "fraction": 0.5}]}])
    fr = member_task(make_setup(frac, maps=False), MemberSpec(0, frac.seed))
    assert fr.runs == 1
    line = [n for n in fr.notes if n.startswith("plans:") and "still present" not in n and "comes earlier" not in n]
    assert len(line) == 1 and "'halve the tank' cuts a release whose near field is zones' dense cloud" in line[0]
    raw = RawComparison(CompareSetup(frac, (), (), ()), [MemberSpec(0, 0)], [fr], None, None, None, 0.0, 0)
    assert line[0] in member_warnings(raw)


def test_a_tank_cut_before_it_is_empty_is_the_mass_it_let_out():
    """zones' tank is the whole tank: a tank stopped after 10 min had kept the uncut tank's cloud (its dose per
    kilogram identical; regression audit). Cut, it is the mass its source model let out by then, released
    evenly over those 10 min."""
    from plumecast.release import schedule
    from plumecast.run_near_field import near_field_sources

    tank = {"volume_m3": 2.0, "fill_fraction": 0.8, "temperature_c": 20.0, "hole_diameter_m": 0.005}
    d = _scenario(plans=False).model_dump(mode="json", exclude_none=True)
    d["releases"] = [{"type": "point", "name": "tank", "lat": LAT0, "lon": LON0, "height_m": 1.0, "tank": tank,
                      "stop_h": 1.0 / 6.0}]
    cut = scenario_from_dict(d)
    sched = schedule(cut)
    src = near_field_sources(cut, sched, cut.resolved_agent())[0]
    spec = src.dense.local.release
    assert spec.tank is None and spec.duration_s == pytest.approx(600.0)
    assert spec.amount_kg == pytest.approx(sched.total_kg, rel=1e-9)
    del d["releases"][0]["stop_h"]
    whole = scenario_from_dict(d)
    assert near_field_sources(whole, schedule(whole), whole.resolved_agent())[0].dense.local.release.tank is not None


def test_a_forecast_that_ends_with_gas_about_says_so() -> None:
    """compare ranked plans over a 1-h forecast of a 1.5-h release without saying that the gas was
    still there at its end (run says so; honest-numbers audit): a "plans:" line now does, and not
    where the air is clean at the end."""
    sc = _scenario(dense_gas="off", plans=False).replace(duration_h=1)
    r = member_task(make_setup(sc, maps=False), MemberSpec(0, sc.seed))
    (line,) = [n for n in r.notes if n.startswith("plans: gas is still present at the end of the forecast (1 h)")]
    assert "(a release still emits then)" in line and "lengthen" not in line  # a longer forecast ends so too
    ended = _scenario(stop_h=0.5, dense_gas="off", plans=False).replace(duration_h=1)
    r = member_task(make_setup(ended, maps=False), MemberSpec(0, ended.seed))
    (line,) = [n for n in r.notes if "still present" in n]
    assert "still emits" not in line and line.endswith("lengthen duration_h before deciding")
    clean = _scenario(stop_h=0.25, dense_gas="off", plans=False).replace(duration_h=3)
    r = member_task(make_setup(clean, maps=False), MemberSpec(0, clean.seed))
    assert not [n for n in r.notes if "still present" in n]


def test_plans_that_stop_the_same_dense_release_share_their_reruns():
    """Each distinct cut of a dense release is one transport, whichever plans and delays ask for it
    (compare had run 16 transports where 5 distinct cuts would do; dense-cloud audit), and a plan's
    figures are those it gets alone."""
    plans = [{"name": "stop at 10 min", "measures": [{"type": "termination", "at_h": 1.0 / 6.0}]},
             {"name": "stop at 30 min", "measures": [{"type": "termination", "at_h": 0.5}]}]
    sc = _scenario().model_copy(update={"plans": [PlanConfig.model_validate(p) for p in plans]})
    setup = make_setup(sc, maps=False)
    both = member_task(setup, MemberSpec(0, sc.seed))
    cuts = {h for h in setup.delay_h if 0.0 < h < 2.0} | {1.0 / 6.0, 0.5}  # at or after its end (2 h): no rerun
    assert both.runs == 1 + len(cuts)  # not 1 + 2 x (1 + the delays)
    for p in plans:
        alone = _scenario().model_copy(update={"plans": [PlanConfig.model_validate(p)]})
        one = member_task(make_setup(alone, maps=False), MemberSpec(0, alone.seed))
        np.testing.assert_allclose(both.outcomes[p["name"]].fatalities, one.outcomes[p["name"]].fatalities,
                                   rtol=1e-12)
        # its cost of delay at the hours both axes hold (each axis holds the plans' own cut times)
        alone_h = list(make_setup(alone, maps=False).delay_h)
        common = [h for h in setup.delay_h if h in alone_h and h > 0.0]
        assert len(common) >= 2
        a = [both.delay_termination[p["name"]][list(setup.delay_h).index(h)] for h in common]
        b = [one.delay_termination[p["name"]][alone_h.index(h)] for h in common]
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_dense_cut_never_brings_the_air_earlier() -> None:
    """Stopping the dense release at 10 min had brought AEGL-2 at 1 km 5 min earlier than doing nothing
    (zones' cloud of the shorter release; plans audit, session 30). Held to the whole release's air, a stop
    never brings a level earlier, and the member says the hold."""
    sc = _scenario()
    r = member_task(make_setup(sc, maps=False), MemberSpec(0, sc.seed))
    base, plan = r.outcomes["do nothing"], r.outcomes["stop at 10 min"]
    direct = _do_nothing_deaths(_scenario(stop_h=1.0 / 6.0, plans=False))
    assert np.nanmin(direct.arrival2_s - base.arrival2_s) < 0  # the cut release's own cloud: earlier
    for level in (2, 3):
        got, ref = getattr(plan, f"arrival{level}_s"), getattr(base, f"arrival{level}_s")
        assert np.all(~np.isfinite(got) | (got >= ref)), level
    assert any(n.startswith("plans: 'stop at 10 min': the cut release's own dense cloud") for n in r.notes)
