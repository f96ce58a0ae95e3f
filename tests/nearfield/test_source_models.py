"""Source-strength models (plumecast.nearfield.source_models) against their defining equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast.errors import DataFileError
from plumecast.nearfield.source_models import (
    critical_pressure_ratio,
    flash_fraction,
    flashing_mass_flux,
    gas_orifice_mass_rate,
    gas_tank,
    gas_tank_blowdown,
    ground_heat_flux,
    liquefied_gas_tank,
    liquid_orifice_mass_rate,
    load_thermo,
    pool_evaporation,
)
from plumecast.nearfield.source_models.properties import P_ATM_PA, R_GAS


def test_critical_pressure_ratio_textbook_value() -> None:
    # Crowl & Louvar (2011) below eq. 4-49: 0.528 for air (k = 1.4)
    assert round(critical_pressure_ratio(1.4), 3) == 0.528


def test_choked_rate_formula_and_continuity_at_the_critical_ratio() -> None:
    k, m, t, a = 1.4, 0.028, 300.0, 1e-4
    p = 10e5
    expect = 0.85 * a * p * math.sqrt(k * m / (R_GAS * t) * (2 / (k + 1)) ** ((k + 1) / (k - 1)))
    assert gas_orifice_mass_rate(p, t, m, k, a) == pytest.approx(expect, rel=1e-12)
    p_crit = P_ATM_PA / critical_pressure_ratio(k)
    below = gas_orifice_mass_rate(p_crit * (1 - 1e-9), t, m, k, a)
    above = gas_orifice_mass_rate(p_crit * (1 + 1e-9), t, m, k, a)
    assert below == pytest.approx(above, rel=1e-6)
    assert gas_orifice_mass_rate(P_ATM_PA, t, m, k, a) == 0.0


def test_isothermal_choked_blowdown_is_exponential() -> None:
    # isothermal tank, choked: dm/dt = -m/τ with τ = m0/ṁ0, so m = m0 exp(-t/τ)
    v, p0, t0, m, k, a = 2.0, 50e5, 300.0, 0.028, 1.4, 2e-5
    time, rate, mass = gas_tank_blowdown(v, p0, t0, m, k, a, adiabatic=False)
    m0 = mass[0]
    tau = m0 / rate[0]
    choked = mass * R_GAS * t0 / (m * v) > P_ATM_PA / critical_pressure_ratio(k)
    assert np.allclose(mass[choked], m0 * np.exp(-time[choked] / tau), rtol=1e-5)


def test_adiabatic_blowdown_conserves_mass() -> None:
    prof = gas_tank(1.0, 10e5, 293.15, 0.028, 1.4, 0.01)
    assert prof.mass_kg == pytest.approx(prof.released_kg, rel=2e-3)
    assert np.all(np.diff(prof.rate_kg_s) <= 1e-12)


def test_flash_fraction_heat_balance() -> None:
    # f = 1 - exp(-cp dT / h) (Crowl & Louvar eq. 4-90); its first-order form cp dT / h for small dT
    assert flash_fraction(240.0, 239.0, 1000.0, 3e5) == pytest.approx(1000.0 / 3e5, rel=2e-3)
    assert flash_fraction(230.0, 239.0, 1000.0, 3e5) == 0.0


def test_two_phase_flux_limits() -> None:
    th = load_thermo("chlorine", 70.906)
    t = 293.15
    p = th.vapour_pressure_pa(t)
    rho_l = th.liquid_density_kg_m3(t)
    rho_v = p * th.molecular_weight_kg_mol / (R_GAS * t)
    h, cp = th.heat_of_vaporisation_j_kg(t), th.liquid_heat_capacity_j_kg_k(th.boiling_point_k)
    # a hole (L = 0): Fauske's non-equilibrium flux is the liquid orifice flow
    g0 = flashing_mass_flux(p, t, rho_l, rho_v, h, cp, 0.0)
    assert g0 == pytest.approx(liquid_orifice_mass_rate(p, rho_l, 1.0), rel=1e-12)
    # beyond the equilibration length the flux is below the orifice flow and above zero
    g_long = flashing_mass_flux(p, t, rho_l, rho_v, h, cp, 1.0)
    assert 0 < g_long < g0


def test_properties_two_sources_agree_at_the_boiling_point() -> None:
    for name, mw in (("chlorine", 70.906), ("ammonia", 17.031)):
        th = load_thermo(name, mw)
        tb = th.boiling_point_k
        assert th.vapour_pressure_pa(tb) == pytest.approx(P_ATM_PA, rel=0.01)  # Perry's DIPPR-101
        assert th.antoine_pa(tb) == pytest.approx(P_ATM_PA, rel=0.01)  # Poling's Antoine


def test_missing_property_is_an_error_not_a_guess() -> None:
    th = load_thermo("phosgene", 98.92)
    with pytest.raises(DataFileError, match="liquid_heat_capacity_j_kg_k"):
        th.liquid_heat_capacity_j_kg_k(280.0)


def test_ammonia_liquid_heat_capacity_from_perrys_dippr_114() -> None:
    # Perry's Table 2-153 gives ammonia's in DIPPR eq. 114 form, which had been left out: an ammonia tank then
    # needed the user to give it (zones audit, session 40). NIST's saturated liquid reads about 4.7 kJ/kg/K at
    # 15-20 C (Tillner-Roth et al. 1993 equation of state): within 3 %
    th = load_thermo("ammonia", 17.031)
    assert th.liquid_heat_capacity_j_kg_k(288.15) == pytest.approx(4700.0, rel=0.03)
    assert th.liquid_heat_capacity_j_kg_k(240.0) < th.liquid_heat_capacity_j_kg_k(320.0)  # rises towards Tc
    with pytest.raises(DataFileError, match="no thermodynamic properties"):
        load_thermo("unobtainium", 100.0)


def test_liquefied_tank_mass_balance() -> None:
    th = load_thermo("chlorine", 70.906)
    prof = liquefied_gas_tank(th, 20.0, 0.8, 293.15, 0.03, 0.2)
    liquid = 20.0 * 0.8 * th.liquid_density_kg_m3(293.15)
    # the inventory (the liquid and the vapour above it) but the vapour that stays in the tank at 1 atm once
    # the rest has blown down (adiabatic)
    p_sat = th.vapour_pressure_pa(293.15)
    rho_v = p_sat * 0.070906 / (8.314462618 * 293.15)
    stays = 20.0 * rho_v * (P_ATM_PA / p_sat) ** (1.0 / th.heat_capacity_ratio(293.15))
    assert prof.released_kg == pytest.approx(liquid + 20.0 * 0.2 * rho_v - stays, rel=2e-3)
    # airborne + rain-out = released (vapour-space outflow is all airborne)
    assert prof.mass_kg + prof.rainout_kg == pytest.approx(prof.released_kg, rel=1e-3)
    rate, dur = prof.equivalent_constant_release()
    assert rate * dur == pytest.approx(prof.mass_kg, rel=1e-9)
    assert rate >= prof.rate_kg_s.mean()


def test_boiling_pool_heat_flux_and_mass() -> None:
    q1 = ground_heat_flux(10.0, 290.0, 240.0, 1.0, 5e-7)
    q4 = ground_heat_flux(40.0, 290.0, 240.0, 1.0, 5e-7)
    assert q1 / q4 == pytest.approx(2.0, rel=1e-12)  # q ∝ t^-1/2
    th = load_thermo("chlorine", 70.906)
    tb = th.boiling_point_k
    t, ev, area = pool_evaporation(
        np.array([0.0, 60.0]), np.array([10.0, 0.0]), th.liquid_density_kg_m3(tb), th.molecular_weight_kg_mol,
        tb, th.heat_of_vaporisation_j_kg(tb), P_ATM_PA, tb, 2.0, min_thickness_m=0.01,
        ground_temperature_k=283.15, ground_conductivity_w_m_k=1.0, ground_diffusivity_m2_s=5e-7, duration_s=1800.0,
    )
    evaporated = float(np.sum(ev[1:] * np.diff(t)))
    assert 0 < evaporated <= 600.0 + 1e-6
    assert area.max() > 0


# --------------------------------------------------------------------------- worked examples
# CCPS (1999) *Guidelines for Consequence Analysis of Chemical Releases*, AIChE, examples on
# pp. 40 (liquid through a hole) and 47 (gas through a hole). The printed pages were not opened
# here: inputs and answers are those of the transcription in A.E. Farrell's GasDispersion.jl
# (test/source_models/jet_source_tests.jl @ 1c8fe1e, "known answer" of each example), which
# evaluates the same CCPS equations (2.1.8 liquid, 2.1.17 gas) and keeps every digit.


def test_ccps_1999_p40_liquid_jet() -> None:
    # 10 mm hole, C_d 0.63, liquid 490 kg/m3 at 120,935.0368 Pa abs into 101,325 Pa:
    # 0.21691154763598 kg/s at 5.636333880812954 m/s
    area = math.pi * 0.01**2 / 4.0
    rate = liquid_orifice_mass_rate(120_935.0368, 490.0, area, discharge_coefficient=0.63)
    assert rate == pytest.approx(0.21691154763598, rel=1e-9)
    assert rate / (490.0 * area) == pytest.approx(5.636333880812954, rel=1e-9)


def test_ccps_1999_p47_gas_jet_choked() -> None:
    # 10 mm hole, C_d 0.85, gas at 501 kPa abs and 298 K with density 8.90 kg/m3, k = 1.15:
    # choked, 0.09002799947040846 kg/s; throat pressure 287,766.01316878956 Pa
    p, t, k = 501e3, 298.0, 1.15
    m = 8.90 * R_GAS * t / p  # molecular weight that gives the example's density
    area = math.pi * 0.01**2 / 4.0
    assert gas_orifice_mass_rate(p, t, m, k, area, discharge_coefficient=0.85) == pytest.approx(
        0.09002799947040846, rel=1e-9)
    assert critical_pressure_ratio(k) * p == pytest.approx(287_766.01316878956, rel=1e-12)


def test_adiabatic_choked_blowdown_has_the_closed_form_solution() -> None:
    # not a printed example: the exact solution of the model's own mass balance. Isentropic tank
    # (p ∝ m^k, T ∝ m^(k-1)) through a choked orifice (mdot ∝ p/sqrt(T) ∝ m^((k+1)/2)) gives
    # p/p0 = (1 + (k-1)/2 t/tau)^(-2k/(k-1)), tau = m0/mdot0; checked while the flow stays choked
    v, p0, t0, m, k, a = 2.0, 50e5, 300.0, 0.028, 1.4, 2e-5
    time, rate, mass = gas_tank_blowdown(v, p0, t0, m, k, a, adiabatic=True)
    tau = mass[0] / rate[0]
    p = p0 * (mass / mass[0]) ** k
    choked = p > P_ATM_PA / critical_pressure_ratio(k)
    expect = p0 * (1.0 + 0.5 * (k - 1.0) * time / tau) ** (-2.0 * k / (k - 1.0))
    assert choked.sum() > 10
    assert np.allclose(p[choked], expect[choked], rtol=1e-5)


# --------------------------------------------------------------------------- physical bounds (audit)


def test_pool_spreading_stops_at_the_minimum_thickness_whatever_the_time_step() -> None:
    # 100 kg of a hexane-like liquid (655 kg/m3, 16.2 kPa at 20 °C) spilled over 100 s, 5 mm minimum
    # thickness: the pool can cover at most 100/655/0.005 = 30.5 m2 (Shaw & Briscoe 1980: spreading stops
    # at the minimum thickness). One explicit step of dr = sqrt(2 g h) dt used to overshoot that area
    # many times, so the pool evaporated its whole inflow each step (1 kg/s at dt = 5 s, 8x the rate).
    spill_t, spill_q = np.array([0.0, 100.0]), np.array([1.0, 0.0])
    runs = {}
    for dt in (5.0, 1.0, 0.2):
        t, ev, area = pool_evaporation(spill_t, spill_q, 655.0, 0.08618, 341.9, 3.35e5, 16.2e3, 293.15, 3.0,
                                       min_thickness_m=0.005, duration_s=3000.0, dt_s=dt)
        assert np.all(ev >= 0)
        assert area.max() <= 100.0 / 655.0 / 0.005 + 1e-9
        assert float(np.sum(ev[1:] * np.diff(t))) == pytest.approx(100.0, rel=1e-9)  # all of it, no more
        runs[dt] = ev.max()
    assert runs[5.0] == pytest.approx(runs[0.2], rel=0.02)
    assert runs[1.0] == pytest.approx(runs[0.2], rel=0.01)


def test_rates_grow_with_hole_and_pressure_and_never_go_negative() -> None:
    k, m, t = 1.33, 0.0709, 293.15
    pressures = np.linspace(0.5e5, 30e5, 200)
    q = np.array([gas_orifice_mass_rate(p, t, m, k, 5e-4) for p in pressures])
    assert np.all(q >= 0) and np.all(np.diff(q) >= 0) and q[pressures <= P_ATM_PA].max() == 0.0
    liquid = [liquid_orifice_mass_rate(p, 1400.0, 5e-4) for p in pressures]
    assert np.all(np.diff(liquid) >= 0) and min(liquid) == 0.0
    th = load_thermo("chlorine", 70.906)
    peaks = []
    for d in (0.005, 0.01, 0.02, 0.05):
        prof = liquefied_gas_tank(th, 2.0, 0.8, 293.15, d, 0.0)
        assert np.all(prof.rate_kg_s >= 0)
        # at most the inventory: the liquid and the vapour above it
        vapour = 2.0 * 0.2 * th.vapour_pressure_pa(293.15) * 0.070906 / (8.314462618 * 293.15)
        assert prof.released_kg <= (2.0 * 0.8 * th.liquid_density_kg_m3(293.15) + vapour) * (1 + 1e-9)
        peaks.append(prof.rate_kg_s[0])
        gas = gas_tank(1.0, 5e5, 293.15, m, k, d)
        inventory = 5e5 * m / (R_GAS * 293.15)
        assert 0 < gas.released_kg <= inventory and np.all(gas.rate_kg_s >= 0)
    assert np.all(np.diff(peaks) > 0)


def test_rainout_pool_returns_no_more_than_rained_out() -> None:
    th = load_thermo("chlorine", 70.906)
    pool = {"min_thickness_m": 0.01, "ground_temperature_k": 288.15, "ground_conductivity_w_m_k": 1.0,
            "ground_diffusivity_m2_s": 5e-7}
    dry = liquefied_gas_tank(th, 2.0, 0.8, 293.15, 0.02, 0.0)
    wet = liquefied_gas_tank(th, 2.0, 0.8, 293.15, 0.02, 0.0, pool=pool, wind_speed_m_s=2.0)
    from_pool = wet.mass_kg - dry.mass_kg
    assert 0 < from_pool <= wet.rainout_kg * (1 + 1e-6)
    # the whole pool evaporates now (followed until it is gone): equal to the outflow to rounding
    assert wet.mass_kg <= wet.released_kg * (1 + 1e-12) and np.all(wet.rate_kg_s >= 0)
    assert wet.mass_kg == pytest.approx(wet.released_kg, rel=1e-9)


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"hole_diameter_m": 3.0}, "hole_diameter_m", "larger than the tank"),
    ({"hole_height_m": 5.0}, "hole_height_m", "above the top"),
    ({"pressure_bar": 0.9}, "pressure_bar", "not above the ambient"),
    ({"pressure_bar": 10.0}, "pressure_bar", "would be liquid"),
    ({"pressure_bar": 3.0, "temperature_c": -120.0}, "temperature_c", "triple point"),
    ({"temperature_c": -110.0}, "temperature_c", "triple point"),
    ({"temperature_c": 150.0}, "temperature_c", "critical temperature"),
    ({"fill_fraction": 0.0}, "fill_fraction", "without liquid"),
])
def test_an_impossible_tank_is_refused_naming_its_key(change: dict, key: str, words: str) -> None:
    from plumecast.nearfield.source_models import tank_release_profile
    from plumecast.nearfield.spec import TankSpec

    tank = {"volume_m3": 2.0, "fill_fraction": 0.8, "temperature_c": 20.0, "hole_diameter_m": 0.02, **change}
    with pytest.raises(ValueError, match=rf"^{key}: .*{words}") as err:
        tank_release_profile(TankSpec(**tank), "chlorine", 70.906)
    assert "\n" not in str(err.value)


def test_tanks_just_inside_the_limits_run() -> None:
    from plumecast.nearfield.source_models import tank_release_profile
    from plumecast.nearfield.spec import TankSpec

    tank = {"volume_m3": 2.0, "fill_fraction": 0.8, "temperature_c": 20.0, "hole_diameter_m": 0.02}
    # gas at 5 bar, below chlorine's 6.8-bar vapour pressure at 20 °C; liquid at 140 °C, below T_c = 144 °C
    assert tank_release_profile(TankSpec(**tank, pressure_bar=5.0), "chlorine", 70.906).mass_kg > 0
    assert tank_release_profile(TankSpec(**{**tank, "temperature_c": 140.0}), "chlorine", 70.906).mass_kg > 0
