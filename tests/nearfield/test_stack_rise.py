"""A point release's ``stack``: Briggs plume rise in the zones' passive plume (the
effective height h' + Δh(x) wherever the plume height enters), the mixing lid's
note, the scenario's checks, and run listing the stack among the keys it ignores."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

from plumecast.errors import ScenarioError
from plumecast.nearfield.plume_rise import briggs_plume_rise
from plumecast.nearfield.stability import power_law_wind_speed
from plumecast.nearfield.zones import (
    compute_zones,
    concentration_series,
    exposure_series,
    exposure_time_axis,
    peak_concentration,
    plume_setup,
    read_zones_scenario,
    zones_from_dict,
)
from plumecast.nearfield.zones.plume import flammable_mass_kg
from plumecast.nearfield.zones.stack import effective_height, lid_crossing_m
from plumecast.scenario import ignored_keys, ignored_line, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
RHINE = ROOT / "examples" / "rhine_stack_24h.yaml"
STACK = {"diameter_m": 1.5, "exit_velocity_m_s": 10.0, "exit_temperature_c": 120.0}


def _zones(stack: dict | None = None, **weather: float) -> dict:
    rel = {"type": "point", "lat": 51.45, "lon": 6.75, "height_m": 40, "rate_kg_s": 0.5, "duration_s": 3600,
           "dense_gas": "off"}
    if stack is not None:
        rel["stack"] = stack
    lw = {"wind_speed_m_s": 4.0, "wind_from_deg": 240, "stability": "D", "air_temperature_c": 5.0, **weather}
    return {"agent": "chlorine", "releases": [rel], "local_weather": lw}


def _run(stack: dict | None = None, **rel: float) -> dict:
    r = {"type": "point", "lat": 51.45, "lon": 6.75, "height_m": 40, "rate_kg_s": 1.0, "stop_h": 1, **rel}
    if stack is not None:
        r["stack"] = stack
    return {"start": "2026-01-20T06:00:00Z", "duration_h": 2, "releases": [r]}


# --------------------------------------------------------------------------- the plume rises


def test_stack_raises_the_plume_lower_near_source_maximum_farther():
    plain = plume_setup(zones_from_dict(_zones()).scenario)
    raised = plume_setup(zones_from_dict(_zones(STACK)).scenario)
    assert plain.plume_rise is None and raised.plume_rise is not None
    x = np.geomspace(10.0, 30_000.0, 600)
    c0 = peak_concentration(plain, x, np.zeros_like(x))
    c1 = peak_concentration(raised, x, np.zeros_like(x))
    near = x <= 1000.0
    assert np.all(c1[near] <= c0[near])  # lower near the source (both 0 where the plume is still aloft)
    seen = near & (c0 > 1e-3 * c0.max())
    assert seen.sum() > 10 and np.all(c1[seen] < 0.5 * c0[seen])
    assert c1.max() < c0.max()
    assert x[np.argmax(c1)] > 1.5 * x[np.argmax(c0)]  # the maximum farther downwind
    # the same transport wind (at the stack top), the height raised by the Briggs rise
    u = power_law_wind_speed(4.0, 40.0, "D", "rural")
    assert raised.wind_speed_m_s == plain.wind_speed_m_s == pytest.approx(u)
    rise = raised.plume_rise
    # the exhaust: air carrying 0.5 kg/s of chlorine, its density as a virtual temperature
    t_a, t_s, m_cl = 278.15, 393.15, 70.906
    share = 0.5 / (m_cl / 1000.0 * 101325.0 / (8.314462618 * t_s)) / (math.pi / 4 * 1.5**2 * 10.0)
    t_v = t_s * 28.97 / (share * m_cl + (1 - share) * 28.97)
    ref = briggs_plume_rise(40.0, 1.5, 10.0, t_v, t_a, u, "D")
    assert 0.0 < share < 0.05 and t_v < t_s
    assert rise.buoyancy_dominated and rise.final_rise_m == pytest.approx(ref.final_rise_m, rel=1e-12)
    assert rise.distance_to_final_m == pytest.approx(ref.distance_to_final_m, rel=1e-12)
    h = effective_height(raised, np.array([1.0, 50.0, 1e4]))
    assert h[0] < h[1] < h[2] == pytest.approx(40.0 + rise.final_rise_m)
    # the time series and the interval means see the same raised plume
    ends = exposure_time_axis(raised)
    xs = np.array([300.0, 3000.0])
    peak_series = exposure_series(raised, xs, np.zeros(2), ends).max(axis=0)
    assert np.all(peak_series < exposure_series(plain, xs, np.zeros(2), ends).max(axis=0))
    ser = concentration_series(raised, xs, np.zeros(2), np.array([1800.0, 3500.0]))
    assert np.all(ser < concentration_series(plain, xs, np.zeros(2), np.array([1800.0, 3500.0])))


def test_stack_zones_are_shorter_near_the_source_and_say_plume_rise_was_applied():
    plain = compute_zones(zones_from_dict(_zones()).scenario, consequences=False)
    raised = compute_zones(zones_from_dict(_zones(STACK)).scenario, consequences=False)
    rise = raised.setup.plume_rise
    assert "plume rise" in raised.model_name and f"final rise {rise.final_rise_m:.0f} m" in raised.model_name
    assert any(w.startswith("plume rise applied") and f"final rise {rise.final_rise_m:.0f} m" in w
               for w in raised.warnings)
    assert any("dense-gas criterion is not applied" in w for w in raised.warnings)
    assert not any("plume rise" in w for w in plain.warnings)
    for zp, zr in zip(plain.zones, raised.zones, strict=True):
        assert zr.area_m2 <= zp.area_m2
    assert raised.zones[0].min_distance_m > 0.0 or raised.zones[0].max_distance_m < plain.zones[0].max_distance_m


def test_stack_exhaust_heavier_than_air_has_momentum_rise_only_and_says_so():
    cold = {"diameter_m": 0.3, "exit_velocity_m_s": 5.0, "exit_temperature_c": 5.0}  # as cold as the air
    res = compute_zones(zones_from_dict(_zones(cold)).scenario, consequences=False)
    rise = res.setup.plume_rise
    assert not rise.buoyancy_dominated and rise.final_rise_m > 0
    assert any("not lighter than the air" in w for w in res.warnings)
    tiny = {"diameter_m": 0.1, "exit_velocity_m_s": 1.0, "exit_temperature_c": 200.0}  # cannot carry 0.5 kg/s
    res = compute_zones(zones_from_dict(_zones(tiny)).scenario, consequences=False)
    assert any("fills more than the stack's exhaust" in w for w in res.warnings)
    assert any("outweighs its heat" in w for w in res.warnings)


def test_flammable_mass_follows_the_raised_plume():
    base = _zones()
    base["agent"] = "ethylene oxide"
    base["releases"][0]["rate_kg_s"] = 20.0
    base["zones"] = {"levels": [{"aegl": 2}]}
    plain = plume_setup(zones_from_dict(base).scenario)
    st = copy.deepcopy(base)
    st["releases"][0]["stack"] = STACK
    raised = plume_setup(zones_from_dict(st).scenario)
    agent = zones_from_dict(base).scenario.agent
    m0, m1 = flammable_mass_kg(plain, agent), flammable_mass_kg(raised, agent)
    assert math.isfinite(m0) and math.isfinite(m1) and m1 <= m0


# --------------------------------------------------------------------------- no stack: unchanged


def test_no_stack_setup_is_the_plain_height():
    setup = plume_setup(zones_from_dict(_zones()).scenario)
    assert setup.notes == () and effective_height(setup, np.array([1.0, 1e4])) == setup.source_height_m


def test_vertical_term_with_one_height_per_receptor_equals_the_scalar_calls():
    from plumecast.nearfield.gaussian import vertical_term

    sz = np.array([5.0, 40.0, 300.0, 2000.0])
    heights = np.array([10.0, 80.0, 150.0, 400.0])
    for lid in (math.inf, 200.0):
        for z in (0.0, 1.5, 250.0):
            got = vertical_term(z, heights, sz, lid)
            want = [float(vertical_term(z, h, s, lid)) for h, s in zip(heights, sz, strict=True)]
            assert got == pytest.approx(want, rel=1e-14, abs=0.0)


def test_no_stack_peak_is_the_plain_plume_bit_for_bit():
    """Without a stack the plume's height is the release height, the scalar as before
    (Turner 1970 eq. 3.1 with Palazzi's factor), to the last bit."""
    from plumecast.nearfield.gaussian import peak_finite_duration_factor, vertical_term
    from plumecast.nearfield.zones.setup import _sigmas

    setup = plume_setup(zones_from_dict(_zones(mixing_height_m=500.0)).scenario)
    x = np.geomspace(1.0, 50_000.0, 300)
    sy, sz = _sigmas(setup, x)
    q, u = setup.mass_kg / setup.duration_s, setup.wind_speed_m_s
    want = q / (u * np.sqrt(2 * np.pi) * sy) * vertical_term(1.5, 40.0, sz, 500.0) * peak_finite_duration_factor(
        u, setup.duration_s, sy)
    assert np.array_equal(peak_concentration(setup, x, np.zeros_like(x)), want)


# --------------------------------------------------------------------------- the lid


def test_release_above_the_lid_says_why_the_zones_are_empty():
    # a 70 m effective height (40 m stack + ~30 m rise) under a 30 m lid: above it from the source
    res = compute_zones(zones_from_dict(_zones(STACK, mixing_height_m=30.0)).scenario, consequences=False)
    assert all(z.max_distance_m == 0 for z in res.zones)
    assert lid_crossing_m(res.setup) == 0.0
    assert any("above the mixing height (30 m)" in w and "no gas reaches the ground anywhere" in w
               for w in res.warnings)
    assert any(w.startswith("no zone is drawn because the release's effective height is above the mixing height")
               for w in res.warnings)
    # a plain release above the lid says so too
    plain = compute_zones(zones_from_dict(_zones(mixing_height_m=30.0)).scenario, consequences=False)
    assert all(z.max_distance_m == 0 for z in plain.zones)
    assert any(w.startswith("no zone is drawn because") for w in plain.warnings)


def test_plume_that_rises_through_the_lid_downwind_names_where():
    setup = plume_setup(zones_from_dict(_zones(STACK, mixing_height_m=60.0)).scenario)
    x_lid = lid_crossing_m(setup)
    assert x_lid is not None and 0.0 < x_lid < setup.plume_rise.distance_to_final_m
    assert float(effective_height(setup, np.array([x_lid]))[0]) == pytest.approx(60.0, rel=1e-9)
    x = np.array([0.5 * x_lid, 1.01 * x_lid, 5.0 * x_lid])
    c = peak_concentration(setup, x, np.zeros_like(x))
    assert c[0] >= 0.0 and c[1] == 0.0 and c[2] == 0.0  # nothing below the lid once the plume is above it
    res = compute_zones(zones_from_dict(_zones(STACK, mixing_height_m=60.0)).scenario, consequences=False)
    assert any(f"beyond {x_lid:.0f} m downwind" in w for w in res.warnings)
    # under a high lid nothing is said of it
    high = compute_zones(zones_from_dict(_zones(STACK, mixing_height_m=1000.0)).scenario, consequences=False)
    assert lid_crossing_m(high.setup) is None and not any("mixing height" in w for w in high.warnings)


# --------------------------------------------------------------------------- the scenario


@pytest.mark.parametrize(("stack", "words"), [
    ({**STACK, "diameter_m": 0}, "releases.0.stack.diameter_m: 0 is too small; expected more than 0"),
    ({**STACK, "diameter_m": 50}, "releases.0.stack.diameter_m: 50 is too large; expected 30 or less"),
    ({**STACK, "exit_velocity_m_s": -1}, "releases.0.stack.exit_velocity_m_s"),
    ({**STACK, "exit_velocity_m_s": float("nan")}, "releases.0.stack.exit_velocity_m_s: .nan is not a finite"),
    ({**STACK, "exit_temperature_c": float("inf")}, "releases.0.stack.exit_temperature_c"),
    ({**STACK, "exit_temperature_c": -300}, "releases.0.stack.exit_temperature_c"),
    ({**STACK, "diameter_m": True}, "releases.0.stack: diameter_m: true is not a number"),
    ({**STACK, "height_m": 40}, "releases.0.stack.height_m: unknown key"),
    ({"diameter_m": 1.0, "exit_velocity_m_s": 10.0}, "releases.0.stack.exit_temperature_c: required key is missing"),
])
def test_bad_stack_values_are_refused_naming_the_key(stack, words):
    with pytest.raises(ScenarioError) as run_err:
        scenario_from_dict(_run(stack))
    assert words in str(run_err.value)
    with pytest.raises(ScenarioError) as zones_err:
        zones_from_dict(_zones(stack))
    assert words in str(zones_err.value)


def test_stack_needs_a_continuous_release():
    with pytest.raises(ScenarioError, match=r"releases\.0: stack: a stack emits a continuous plume"):
        scenario_from_dict(_run(STACK, rate_kg_s=None, amount_kg=100.0, duration_s=0, stop_h=None))


def test_run_reads_the_stack_for_its_near_field_plume():
    """run and compare raise the near-field plume by the stack's rise (session 25; they had
    listed the stack among the keys they ignored, and the Rhine example's run put 580 deaths
    in Duisburg where zones put none)."""
    sc = scenario_from_dict(_run(STACK))
    assert sc.releases[0].stack is not None and sc.releases[0].stack.diameter_m == 1.5
    assert ignored_keys(sc, "run") == {}
    assert ignored_keys(sc, "compare") == {}
    assert ignored_line(ignored_keys(sc, "run"), "run") is None
    assert ignored_keys(scenario_from_dict(_run()), "run") == {}
    # a copy keeps its stack
    assert sc.replace(particles=1000).releases[0].stack == sc.releases[0].stack


def test_rhine_example_stack_is_read_by_zones_and_by_run():
    sc = load_scenario(RHINE)
    assert "releases.0.stack" not in ignored_keys(sc, "run")
    zin = read_zones_scenario(RHINE)
    assert zin.scenario.release.stack == sc.releases[0].stack
    assert "releases.0.stack" not in zin.ignored
    res = compute_zones(zin.scenario, consequences=False)
    assert res.setup.plume_rise is not None and res.setup.plume_rise.final_rise_m > 0
