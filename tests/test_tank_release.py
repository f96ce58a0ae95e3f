"""`plumecast run` with a release given as a tank or an amount: the source model's
rate profile (the function `plumecast zones` runs) becomes the particle release,
with its mass conserved exactly; rate releases are unchanged; a bad tank is one
clear message naming the key."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import ScenarioError
from plumecast.nearfield.source_models import tank_release_profile
from plumecast.nearfield.spec import TankSpec
from plumecast.release import births_and_groups, emitted_per_step, schedule
from plumecast.scenario import ignored_keys, load_scenario, scenario_from_dict
from tests.helpers import run_cli, small_scenario

#: chlorine liquefied at 20 °C in a 2 m3 tank, 2 cm hole at the bottom: empties in
#: about 5 min (the vapour-space tail included).
TANK = {"volume_m3": 2.0, "fill_fraction": 0.8, "temperature_c": 20.0, "hole_diameter_m": 0.02}
#: a smaller hole: the same tank takes over an hour, several 10-min steps
SLOW_TANK = {**TANK, "hole_diameter_m": 0.005}
CHLORINE_MW = 70.906


def _tank_yaml(tank: dict[str, float], extra: str = "") -> str:
    flow = ", ".join(f"{k}: {v}" for k, v in tank.items())
    text = small_scenario("tank run", 300, "backend: numpy", "agent: chlorine")
    return text.replace("rate_kg_s: 1}", f"start_h: 0.1{extra}, tank: {{{flow}}}}}")


def _scenario(release: dict, **top: object) -> dict:
    # 3 h: the slow tank's profile (its liquid, then its vapour blown down to 1 atm) lasts 1 h 48 min, shifted
    # by up to 0.5 h
    return {"name": "t", "start": "2026-01-10T00:00:00Z", "duration_h": 3, "time_step_s": 600, "particles": 500,
            "backend": "numpy", "agent": "chlorine", "met": {"source": "uniform", "u_m_s": 5, "v_m_s": 0},
            "releases": [{"type": "point", "name": "tank", "lat": 50, "lon": 8, **release}],
            "output": {"grid": {"lon_min": 0, "lon_max": 20, "lat_min": 40, "lat_max": 60,
                                "resolution_deg": 0.5}}, **top}


def _profile(tank: dict[str, float]) -> object:
    return tank_release_profile(TankSpec(**tank), "chlorine", CHLORINE_MW)


def _write(tmp_path: Path, text: str, name: str = "tank.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_tank_scenario_runs_through_plumecast_run(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path, _tank_yaml(TANK))
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "out"), "-q"], capsys, monkeypatch)
    assert rc == 0, out
    prof = _profile(TANK)
    # the output says which source model made the profile, under its own heading, and so does the file
    text = " ".join(out.split())
    heading = "release (also in concentration.nc, attribute release_provenance):"
    assert f"{heading} source model: tank: {prof.method}" in text
    assert text.index("met and removal") < text.index(heading)  # not among the met lines
    with xr.open_dataset(tmp_path / "out" / "concentration.nc") as ds:
        assert prof.method in ds.attrs["release_provenance"]
        assert "source model" not in ds.attrs["met_provenance"]
        # the whole profile (7 min, from 0.1 h) falls in the run: all of it is released
        assert ds.attrs["mass_released_kg"] == pytest.approx(prof.mass_kg, rel=1e-9)


@pytest.mark.parametrize("start_h", [0.0, 0.1, 0.25])
def test_released_particle_mass_equals_the_profile_integral(start_h):
    sc = scenario_from_dict(_scenario({"tank": SLOW_TANK, "start_h": start_h}))
    prof = _profile(SLOW_TANK)
    assert prof.time_s[-1] > 3 * 600.0  # spans several steps, with knots off the step edges
    sched = schedule(sc)
    particles, _ = births_and_groups(sched, sc.particles, sc.seed)
    assert sched.total_kg == pytest.approx(prof.mass_kg, rel=1e-12)
    assert float(particles.mass.sum()) == pytest.approx(prof.mass_kg, rel=1e-9)
    # each step holds what the profile releases in it, from start_h on
    edges = np.arange(sc.n_steps + 1) * sc.time_step_s - start_h * 3600.0
    cum = np.concatenate([[0.0], np.cumsum(prof.rate_kg_s * np.diff(prof.time_s))])
    expect = np.diff(np.interp(edges, prof.time_s, cum))
    assert np.allclose(sched.emitted_kg[:, 0], expect, rtol=1e-12, atol=1e-12 * prof.mass_kg)
    assert sched.emitted_kg[: int(start_h * 3600 // 600), 0].sum() == 0.0


def test_stop_h_and_the_run_end_cut_the_profile_exactly():
    prof = _profile(SLOW_TANK)
    cum = np.concatenate([[0.0], np.cumsum(prof.rate_kg_s * np.diff(prof.time_s))])
    stopped = schedule(scenario_from_dict(_scenario({"tank": SLOW_TANK, "stop_h": 0.4})))
    assert stopped.total_kg == pytest.approx(float(np.interp(0.4 * 3600.0, prof.time_s, cum)), rel=1e-12)
    short = scenario_from_dict({**_scenario({"tank": SLOW_TANK}), "duration_h": 0.5})
    assert schedule(short).total_kg == pytest.approx(float(np.interp(1800.0, prof.time_s, cum)), rel=1e-12)
    assert schedule(short).total_kg < prof.mass_kg


def test_amount_is_a_constant_rate_over_its_duration():
    sc = scenario_from_dict(_scenario({"amount_kg": 900.0, "start_h": 0.25, "duration_s": 1500}))
    sched = schedule(sc)
    assert sched.total_kg == pytest.approx(900.0, rel=1e-12)
    # 0.25 h = 900 s: 300 s in step 1, all of steps 2 and 3, 0 s of step 4 (ends at 2400 s)
    assert np.allclose(sched.emitted_kg[:5, 0], [0.0, 180.0, 360.0, 360.0, 0.0], rtol=1e-12)
    # a copy stopped early (a plan's termination) keeps the rate and releases less
    cut = sc.releases[0].model_dump()
    cut["stop_h"] = 0.5
    assert schedule(sc.replace(releases=[cut])).total_kg == pytest.approx(900.0 * 900.0 / 1500.0, rel=1e-12)
    # all at once: the whole amount in the step that holds start_h
    puff = schedule(scenario_from_dict(_scenario({"amount_kg": 50.0, "start_h": 0.25, "duration_s": 0})))
    assert puff.emitted_kg[1, 0] == pytest.approx(50.0, rel=1e-12)
    assert puff.total_kg == pytest.approx(50.0, rel=1e-12)


def test_rate_release_is_integrated_exactly_and_an_equal_amount_runs_the_same():
    """A rate release emits exactly its rate x profile over each step, also where its
    start, stop or a profile knot falls inside a step (the 8-mid-point rule it used to
    have rounded those to a sub-step: 30 kg/s stopped at 0.1 h with 600-s steps gave
    11.2 t instead of 10.8 t); an amount that releases the same rate over whole steps
    gives the same run, bit for bit."""
    from plumecast.runner import run

    rate = scenario_from_dict(_scenario({"rate_kg_s": 0.5, "stop_h": 1.0, "profile": [[0, 1.0], [2, 0.2]]}))
    grp = schedule(rate).groups[0]
    assert grp.rate_edges_s is None and grp.source_model is None
    dt = rate.time_step_s
    # the profile is linear within each step: its mean is its value at the middle
    mid = (np.arange(rate.n_steps) + 0.5) * dt
    expect = np.where(mid < 3600.0, np.interp(mid / 3600.0, [0.0, 2.0], [1.0, 0.2]), 0.0) * 0.5 * dt
    np.testing.assert_allclose(emitted_per_step(schedule(rate).groups, dt, rate.n_steps)[:, 0], expect, rtol=1e-12)
    for release, step_s, kg in (({"rate_kg_s": 30.0, "stop_h": 0.1}, 600, 30.0 * 360.0),
                                ({"rate_kg_s": 30.0, "stop_h": 0.1}, 3600, 30.0 * 360.0),
                                ({"rate_kg_s": 30.0, "duration_s": 180}, 3600, 30.0 * 180.0),
                                ({"rate_kg_s": 30.0, "start_h": 0.05, "stop_h": 0.5}, 600, 30.0 * 1620.0),
                                # a ramp from 0 to 1 over the first 0.3 h, then 1: 0.15 h at full rate lost
                                ({"rate_kg_s": 1.0, "profile": [[0, 0.0], [0.3, 1.0]], "stop_h": 1.0}, 3600,
                                 3600.0 - 540.0)):
        sc = scenario_from_dict(_scenario({**release, "height_m": 2.0}, time_step_s=step_s))
        assert schedule(sc).total_kg == pytest.approx(kg, rel=1e-12), release
    a = run(scenario_from_dict(_scenario({"rate_kg_s": 0.5, "stop_h": 1.0})))
    b = run(scenario_from_dict(_scenario({"amount_kg": 1800.0, "duration_s": 3600})))
    assert np.array_equal(a.concentration.values, b.concentration.values)
    assert a.budget.released == b.budget.released
    assert b.stats["release_provenance"] and not a.stats["release_provenance"]


@pytest.mark.parametrize(("tank", "agent", "key", "words"), [
    ({**TANK, "temperature_c": -50.0}, "chlorine", "releases.0.tank.temperature_c", "boiling point"),
    ({**TANK, "height_m": 1.0, "hole_height_m": 1.5}, "chlorine", "releases.0.tank.hole_height_m", "height_m"),
    ({k: v for k, v in TANK.items() if k != "hole_diameter_m"}, "chlorine", "releases.0.tank.hole_diameter_m",
     "required key is missing"),
    ({**TANK, "fill_fraction": 1.5}, "chlorine", "releases.0.tank.fill_fraction", "1.5 is too large; expected 1 or less"),
    ({**TANK, "volume": 2.0}, "chlorine", "releases.0.tank.volume", "unknown key"),
    (TANK, "{name: gas, molecular_weight_g_mol: 70, decay_rate_s: 0}", "releases.0.tank", "thermodynamic"),
    # physically impossible tanks (source-model audit): each refused naming its key, not run
    ({**TANK, "hole_diameter_m": 3.0}, "chlorine", "releases.0.tank.hole_diameter_m", "larger than the tank"),
    ({**TANK, "hole_height_m": 5.0}, "chlorine", "releases.0.tank.hole_height_m", "above the top of the tank"),
    ({**TANK, "pressure_bar": 1.0}, "chlorine", "releases.0.tank.pressure_bar", "not above the ambient"),
    ({**TANK, "pressure_bar": 10.0}, "chlorine", "releases.0.tank.pressure_bar", "would be liquid"),
    ({**TANK, "temperature_c": -110.0}, "chlorine", "releases.0.tank.temperature_c", "triple point"),
    ({**TANK, "temperature_c": 160.0}, "chlorine", "releases.0.tank.temperature_c", "critical temperature"),
    ({**TANK, "fill_fraction": 0.0}, "chlorine", "releases.0.tank.fill_fraction", "without liquid"),
])
def test_a_bad_tank_is_one_message_naming_the_key(tmp_path, capsys, monkeypatch, tank, agent, key, words):
    path = _write(tmp_path, _tank_yaml(tank).replace("agent: chlorine", f"agent: {agent}"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert re.search(rf"tank.yaml, line \d+: {re.escape(key)}: ", msg), msg
    assert words in msg and msg.count("releases.0.tank") == 1 and len(msg.splitlines()) <= 2
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "out"), "-q"], capsys, monkeypatch)
    assert rc == 2 and "Traceback" not in out and key in out


def test_what_run_needs_of_a_tank_or_amount_is_named():
    with pytest.raises(ScenarioError, match=r"releases.0.duration_s: amount_kg needs how long"):
        scenario_from_dict(_scenario({"amount_kg": 10.0}))
    pool = {**TANK, "pool": {"min_thickness_m": 0.01, "ground_temperature_c": 10, "ground_conductivity_w_m_k": 1.0,
                             "ground_diffusivity_m2_s": 5e-7}}
    climatology = _scenario({"tank": pool}, met={"source": "climatology"})
    with pytest.raises(ScenarioError, match=r"releases.0.tank.pool: .*local_weather with wind_speed_m_s"):
        scenario_from_dict(climatology)
    weather = {"wind_speed_m_s": 3.0, "wind_from_deg": 270, "stability": "D"}
    sc = scenario_from_dict({**climatology, "local_weather": weather})
    assert schedule(sc).groups[0].source_model.startswith("liquefied gas tank")
    assert "local_weather" not in ignored_keys(sc, "run")  # its wind is read for the pool


def test_gas_tank_blowdown_feeds_the_run_too():
    # 5 bar: below chlorine's 6.8-bar vapour pressure at 20 °C (at 10 bar it would be liquid, refused above)
    gas = {"volume_m3": 1.0, "temperature_c": 20.0, "hole_diameter_m": 0.01, "pressure_bar": 5.0}
    sched = schedule(scenario_from_dict(_scenario({"tank": gas})))
    prof = _profile(gas)
    assert sched.groups[0].source_model == prof.method == "gas tank blowdown (adiabatic, choked/unchoked orifice)"
    assert sched.total_kg == pytest.approx(prof.mass_kg, rel=1e-12)
    assert math.isclose(prof.mass_kg, prof.released_kg, rel_tol=2e-3)



def test_ensembles_and_plans_move_and_cut_a_tank_release():
    """compare shares the release path: a member's timing shift moves the whole
    profile, a plan's termination cuts it (full stop) or scales it (partial cut)."""
    from plumecast.countermeasures.termination import Termination
    from plumecast.ensemble.members import MemberSpec, member_scenario

    sc = scenario_from_dict(_scenario({"tank": SLOW_TANK}))
    base = schedule(sc)
    shifted = schedule(member_scenario(sc, MemberSpec(1, 7, source_timing_shift_h=0.5)))
    assert shifted.total_kg == pytest.approx(base.total_kg, rel=1e-12)
    assert np.allclose(shifted.emitted_kg[3:, 0], base.emitted_kg[:-3, 0], rtol=1e-12, atol=1e-12 * base.total_kg)
    assert shifted.emitted_kg[:3, 0].sum() == 0.0
    prof = _profile(SLOW_TANK)
    cum = np.concatenate([[0.0], np.cumsum(prof.rate_kg_s * np.diff(prof.time_s))])
    stopped = schedule(Termination(0.5, 1.0).apply_to_scenario(sc))
    assert stopped.total_kg == pytest.approx(float(np.interp(1800.0, prof.time_s, cum)), rel=1e-12)
    halved = schedule(Termination(0.5, 0.5).apply_to_scenario(sc))
    after = prof.mass_kg - float(np.interp(1800.0, prof.time_s, cum))
    # the cut is written as a 3.6-ms ramp before at_h, integrated exactly here
    assert halved.total_kg == pytest.approx(prof.mass_kg - 0.5 * after, rel=1e-6)


@pytest.mark.parametrize("release", [
    {"tank": SLOW_TANK},
    {"tank": SLOW_TANK, "start_h": 0.1, "profile": [[0.0, 1.0], [0.5, 0.4], [1.0, 1.5]]},
    {"amount_kg": 900.0, "start_h": 0.25, "duration_s": 1500},
    {"amount_kg": 50.0, "start_h": 0.25, "duration_s": 0},
    {"rate_kg_s": 0.5, "stop_h": 1.0, "profile": [[0.0, 1.0], [2.0, 0.2]]},  # as before: the rate is scaled
])
@pytest.mark.parametrize("shift", [None, {"dist": "fixed", "value": 0.3}])
def test_source_rate_factor_scales_what_a_tank_or_an_amount_releases(release, shift):
    """An ensemble member's source_rate_factor multiplies a tank's source-model rate
    (through its profile), an amount or a rate: the member releases factor x the mass
    of the same member without the factor, with its timing shift, if any, applied alike."""
    import dataclasses

    from plumecast.ensemble.members import member_scenario, member_specs

    ens = {"members": 4, "source_rate_factor": {"dist": "lognormal", "median": 1.0, "sigma": 0.5}}
    if shift is not None:
        ens["source_timing_shift_h"] = shift
    sc = scenario_from_dict(_scenario(release, ensemble=ens))
    specs = member_specs(sc, sc.ensemble)
    factors = [s.source_rate_factor for s in specs]  # member 0 is the unperturbed control
    assert factors[0] == 1.0 and len(set(factors)) == 4 and all(abs(f - 1.0) > 1e-3 for f in factors[1:])
    for spec in specs:
        scaled = schedule(member_scenario(sc, spec))
        unit = schedule(member_scenario(sc, dataclasses.replace(spec, source_rate_factor=1.0)))
        assert unit.total_kg > 0.0
        assert scaled.total_kg == pytest.approx(spec.source_rate_factor * unit.total_kg, rel=1e-9)
        # step by step too: the factor scales the rate, it does not move or reshape it
        assert np.allclose(scaled.emitted_kg, spec.source_rate_factor * unit.emitted_kg, rtol=1e-9,
                           atol=1e-12 * scaled.total_kg)
    if shift is None:  # without a shift the unit member is the scenario itself
        assert unit.total_kg == pytest.approx(schedule(sc).total_kg, rel=1e-12)


def test_an_ensemble_member_of_a_tank_release_runs_its_scaled_mass():
    """The run of a member (what ``plumecast compare`` runs) releases factor x the
    tank's mass: the whole slow tank falls inside the 2-h run."""
    from plumecast.ensemble.members import member_scenario, member_specs
    from plumecast.runner import run

    ens = {"members": 2, "source_rate_factor": {"dist": "lognormal", "median": 1.0, "sigma": 0.5}}
    sc = scenario_from_dict({**_scenario({"tank": SLOW_TANK}, ensemble=ens), "particles": 200})
    prof = _profile(SLOW_TANK)
    specs = member_specs(sc, sc.ensemble)
    assert abs(specs[1].source_rate_factor - 1.0) > 1e-3
    for spec in specs:
        res = run(member_scenario(sc, spec))
        assert res.budget.released == pytest.approx(spec.source_rate_factor * prof.mass_kg, rel=1e-9)


def test_the_rain_out_pool_is_followed_until_it_is_gone():
    """The pool's evaporation had been followed for at most 1 h (or twice the outflow): 18.7 t
    of a 60.5-t chlorine tank's 42.8-t pool were never released, without a word (scenario
    audit). Now until the pool is gone: everything that left the tank becomes airborne."""
    from plumecast.nearfield.source_models import tank_release_profile
    from plumecast.nearfield.spec import TankSpec

    tank = TankSpec.model_validate({"volume_m3": 50, "temperature_c": 15, "hole_diameter_m": 0.05,
                                    "pool": {"min_thickness_m": 0.01, "ground_temperature_c": 10,
                                             "ground_conductivity_w_m_k": 1.0, "ground_diffusivity_m2_s": 5.0e-7}})
    p = tank_release_profile(tank, "chlorine", 70.906, 5.0)
    assert p.rainout_kg > 40_000.0
    airborne = float(np.sum(p.rate_kg_s * np.diff(p.time_s)))
    assert airborne == pytest.approx(p.airborne_kg, rel=1e-12)
    assert airborne == pytest.approx(p.released_kg, rel=1e-3)  # flash + the whole pool
    assert p.time_s[-1] > 3600.0
    assert p.time_s.size < 20_000  # 1-s steps only near the outflow, minute means after
