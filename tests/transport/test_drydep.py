"""Wesely (1989) surface resistance of gases (plumecast.transport.drydep).

Hand computations use the table entries of Wesely's Table 3 as transcribed in the
module (from CESM seq_drydep_mod.F90, checked against FLEXPART options/surfdepo.t),
written out as numbers here, not read from the module.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast import agents
from plumecast.transport import drydep
from plumecast.transport.drydep import (
    LAND_USES,
    SEASONS,
    WeselyGas,
    gas_constants,
    laminar_factor,
    season_for,
    surface_resistance,
)

SO2 = WeselyGas(henry_m_atm=1.0e5, f0=0.0, diffusivity_ratio=2.0)  # deposition.csv values
NO2 = WeselyGas(henry_m_atm=1.0e-2, f0=0.1, diffusivity_ratio=1.6)
HCL = WeselyGas(henry_m_atm=2.0e13, f0=0.0, diffusivity_ratio=1.423)
CL2 = WeselyGas(henry_m_atm=9.2e-2, f0=0.0, diffusivity_ratio=1.984)


def _cold(t_c: float) -> float:
    return 1000.0 * math.exp(-t_c - 4.0)


# --- tables ------------------------------------------------------------------


def test_tables_are_land_use_by_season() -> None:
    for table in (drydep.R_I, drydep.R_LU, drydep.R_AC, drydep.R_GSS, drydep.R_GSO,
                  drydep.R_CLS, drydep.R_CLO):
        assert table.shape == (len(LAND_USES), len(SEASONS)) == (13, 5)
        assert not table.flags.writeable
    lu, se = LAND_USES.index, SEASONS.index
    # CESM ri(4, 5) (season 4, land use 5) = 400: coniferous forest in winter
    assert drydep.R_I[lu("coniferous_forest"), se("winter_snow")] == 400.0
    assert drydep.R_I[lu("agricultural"), se("midsummer")] == 60.0
    assert drydep.R_I[lu("agricultural"), se("spring")] == 120.0
    # CESM rac(3, 2) = 10: agricultural land in late autumn
    assert drydep.R_AC[lu("agricultural"), se("late_autumn")] == 10.0
    assert drydep.R_GSS[lu("mixed_agricultural_range"), se("midsummer")] == 220.0
    assert drydep.R_CLS[lu("coniferous_forest"), se("winter_snow")] == 200.0
    assert drydep.R_CLO[lu("agricultural"), se("late_autumn")] == 1000.0
    assert drydep.R_GSO[lu("wetland"), se("autumn")] == 800.0
    assert np.all(drydep.R_GSS[lu("water")] == 0.0)
    assert np.all(drydep.R_I[lu("urban")] == 9999.0)


# --- formulas against hand computations ---------------------------------------


def test_so2_agricultural_midsummer_by_hand() -> None:
    g, t = 400.0, 20.0
    # Table 3, agricultural land, midsummer: r_i 60, r_lu 2000, r_ac 200,
    # r_gsS 150, r_gsO 150, r_clS 2000, r_clO 1000
    r_s = 60.0 * (1.0 + (200.0 / (400.0 + 0.1)) ** 2) * (400.0 / (20.0 * (40.0 - 20.0))) * 2.0
    r_m = 1.0 / (1.0e5 / 3000.0 + 100.0 * 0.0)  # 0.03
    cold = 1000.0 * math.exp(-20.0 - 4.0)  # 3.8e-8
    r_lu = 2000.0 / (1e-5 * 1.0e5 + 0.0) + cold  # 2000
    r_dc = 100.0 * (1.0 + 1000.0 / (400.0 + 10.0))  # 343.9
    r_clx = 1.0 / (1e-5 * 1.0e5 / 2000.0) + cold  # f0 = 0: no O3-like term; 2000
    r_gsx = 1.0 / (1e-5 * 1.0e5 / 150.0) + cold  # 150
    r_ac = 200.0
    r_c = 1.0 / (1.0 / (r_s + r_m) + 1.0 / r_lu + 1.0 / (r_dc + r_clx) + 1.0 / (r_ac + r_gsx))
    # conductances 6.67e-3 (stomata, r_s = 150) + 5.0e-4 + 4.27e-4 + 2.86e-3 (ground): 95.7
    assert 95.6 < r_c < 95.8
    assert surface_resistance(SO2, "agricultural", "midsummer", g, t) == pytest.approx(r_c, rel=1e-12)


def test_no2_coniferous_autumn_by_hand() -> None:
    """A gas with f0 > 0 and a small H*: every term of r_lu, r_clx and r_gsx counts."""
    g, t = 200.0, 10.0
    # coniferous forest, autumn: r_i 250, r_lu 4000, r_ac 2000, r_gsS 500, r_gsO 200,
    # r_clS 2000, r_clO 1000
    r_s = 250.0 * (1.0 + (200.0 / 200.1) ** 2) * (400.0 / (10.0 * 30.0)) * 1.6
    r_m = 1.0 / (0.01 / 3000.0 + 100.0 * 0.1)
    cold = 1000.0 * math.exp(-14.0)
    r_lu = 4000.0 / (1e-5 * 0.01 + 0.1) + cold
    r_dc = 100.0 * (1.0 + 1000.0 / 210.0)
    r_clx = 1.0 / (1e-5 * 0.01 / 2000.0 + 0.1 / 1000.0) + cold
    r_gsx = 1.0 / (1e-5 * 0.01 / 500.0 + 0.1 / 200.0) + cold
    r_ac = 2000.0
    r_c = 1.0 / (1.0 / (r_s + r_m) + 1.0 / r_lu + 1.0 / (r_dc + r_clx) + 1.0 / (r_ac + r_gsx))
    assert surface_resistance(NO2, "coniferous_forest", "autumn", g, t) == pytest.approx(r_c, rel=1e-12)


# Wesely's computed bulk surface resistances [s m-1] for deciduous forest, as updated
# by Walmsley & Wesely (1996, Table 1), read in EarthSciML AtmosphericDeposition.jl
# test/wesely1989_test.jl (commit 75a0b5de3994775bfc625d64a67c523639a4721f), dry
# surfaces only. Rows: the five seasons with T_s = 25, 10, 2, 0, 10 degC; columns:
# G = 800, 500, 300, 100, 0 W m-2. Gas constants of Wesely's Table 2 (the same file's
# src/wesley1989.jl; FLEXPART SPECIES_002 has the same for O3).
_PUBLISHED_T = (25.0, 10.0, 2.0, 0.0, 10.0)
_PUBLISHED_G = (800.0, 500.0, 300.0, 100.0, 0.0)
_PUBLISHED = {
    "SO2": (WeselyGas(1.0e5, 0.0, 1.9), (
        (130, 140, 160, 380, 1000),
        (1400, 1400, 1400, 1400, 1500),
        (1100, 1100, 1100, 1100, 1200),
        (1000, 1000, 1000, 1000, 1100),
        (270, 290, 330, 620, 1100),
    )),
    "O3": (WeselyGas(1.0e-2, 1.0, 1.6), (
        (100, 110, 130, 320, 960),
        (430, 470, 520, 710, 1300),
        (390, 420, 460, 610, 960),
        (560, 620, 710, 1100, 3200),
        (180, 200, 230, 440, 950),
    )),
}
# Two values fall within 0.5 s m-1 of a rounding boundary (134.9 for 140; 944.6 for 950).
_AT_ROUNDING_BOUNDARY = {("SO2", 0, 1): 135.0, ("O3", 4, 4): 945.0}


@pytest.mark.parametrize("gas_name", sorted(_PUBLISHED))
def test_published_resistances_deciduous_forest(gas_name: str) -> None:
    gas, table = _PUBLISHED[gas_name]
    for s, season in enumerate(SEASONS):
        for j, g in enumerate(_PUBLISHED_G):
            r_c = surface_resistance(gas, "deciduous_forest", season, g, _PUBLISHED_T[s])
            published = table[s][j]
            boundary = _AT_ROUNDING_BOUNDARY.get((gas_name, s, j))
            if boundary is None:
                assert float(f"{r_c:.2g}") == published, (gas_name, season, g, r_c)
            else:
                assert abs(r_c - boundary) < 0.5, (gas_name, season, g, r_c)


# --- limiting behaviour --------------------------------------------------------


def test_very_soluble_gas_is_limited_by_transfer_not_uptake() -> None:
    for lu in LAND_USES:
        for season in SEASONS:
            r_hcl = surface_resistance(HCL, lu, season, 300.0, 15.0)
            r_cl2 = surface_resistance(CL2, lu, season, 300.0, 15.0)
            r_ac = float(drydep.R_AC[LAND_USES.index(lu), SEASONS.index(season)])
            # the ground path is r_ac + r_gsx with r_gsx ~ r_gsS / 2e8 ~ 0
            assert r_hcl <= max(r_ac, drydep.MIN_SURFACE_RESISTANCE_S_M) + 1e-3, (lu, season)
            assert r_hcl < 0.1 * r_cl2, (lu, season)
    # urban land has neither leaves nor a lower canopy: r_c = r_ac exactly
    assert surface_resistance(HCL, "urban", "midsummer", 800.0, 25.0) == pytest.approx(100.0, abs=1e-4)
    # where leaves exist the cuticles (r_lu / (1e-5 H*)) take it up at once: the floor
    assert surface_resistance(HCL, "deciduous_forest", "midsummer", 800.0, 25.0) == (
        drydep.MIN_SURFACE_RESISTANCE_S_M
    )


def test_so2_over_water_is_small() -> None:
    for season in SEASONS:
        for g in (0.0, 800.0):
            r_c = surface_resistance(SO2, "water", season, g, 15.0)
            # r_gsS = 0 over water (floored at 1 s m-1), r_ac = 0: only the r_c floor
            assert r_c == drydep.MIN_SURFACE_RESISTANCE_S_M
    # an insoluble gas over water keeps a large ground resistance (the r_gsS floor)
    assert surface_resistance(CL2, "water", "midsummer", 0.0, 15.0) > 1e5


@pytest.mark.parametrize("gas", [SO2, NO2, CL2], ids=["SO2", "NO2", "Cl2"])
@pytest.mark.parametrize("land_use", ["agricultural", "deciduous_forest", "coniferous_forest",
                                      "range", "wetland"])
def test_night_resistance_exceeds_noon(gas: WeselyGas, land_use: str) -> None:
    night = surface_resistance(gas, land_use, "midsummer", 0.0, 20.0)
    noon = surface_resistance(gas, land_use, "midsummer", 800.0, 20.0)
    assert night > 1.2 * noon


def test_closed_stomata_make_temperature_irrelevant() -> None:
    for gas in (SO2, NO2):
        for lu in ("agricultural", "deciduous_forest", "mixed_forest"):
            values = [surface_resistance(gas, lu, "midsummer", 0.0, t) for t in (10.0, 20.0, 30.0, 39.9)]
            assert values == pytest.approx([values[0]] * 4, rel=1e-4)
    # whereas by day the stomata respond to temperature
    warm = surface_resistance(SO2, "agricultural", "midsummer", 800.0, 20.0)
    hot = surface_resistance(SO2, "agricultural", "midsummer", 800.0, 39.0)
    assert hot > 1.5 * warm


def test_stomata_shut_outside_zero_to_forty() -> None:
    # at 45 degC r_s is infinite: same as at night, less the (negligible) cold term
    night = surface_resistance(SO2, "agricultural", "midsummer", 0.0, 45.0)
    hot_day = surface_resistance(SO2, "agricultural", "midsummer", 800.0, 45.0)
    # r_dc depends on G, so compare with the stomatal path removed by hand
    r_dc = 100.0 * (1.0 + 1000.0 / 810.0)
    expected = 1.0 / (1.0 / 2000.0 + 1.0 / (r_dc + 2000.0) + 1.0 / (200.0 + 150.0))
    assert hot_day == pytest.approx(expected, rel=1e-9)
    assert night > hot_day


def test_cold_surface_raises_non_stomatal_resistances() -> None:
    r_warm = surface_resistance(SO2, "urban", "winter_snow", 0.0, 5.0)
    r_cold = surface_resistance(SO2, "urban", "winter_snow", 0.0, -10.0)
    # urban: only the ground path, r_ac 100 + r_gsS 100 (+ cold term)
    assert r_warm == pytest.approx(200.0 + _cold(5.0), rel=1e-12)
    assert r_cold == pytest.approx(200.0 + _cold(-10.0), rel=1e-12)


# --- gas constants -------------------------------------------------------------


def test_gas_constants_from_csv() -> None:
    assert gas_constants("chlorine") == WeselyGas(henry_m_atm=0.092, f0=0.0, diffusivity_ratio=1.984)
    assert gas_constants(" Sulfur Dioxide ") == WeselyGas(1.0e5, 0.0, 2.0)
    assert gas_constants("nitrogen dioxide") == WeselyGas(1.0e-2, 0.1, 1.6)
    assert gas_constants("hydrogen chloride") == WeselyGas(2.0e13, 0.0, 1.423)
    assert gas_constants("ammonia") == WeselyGas(2.0e4, 0.0, 0.972)
    assert gas_constants("hydrogen cyanide") == WeselyGas(9.02, 0.0, 1.225)
    for name in ("phosgene", "hydrogen sulfide", "hydrogen fluoride", "carbon monoxide"):
        assert gas_constants(name) is None
    assert gas_constants("my own agent") is None  # user-defined: no constants


def test_graham_ratios_match_agent_molecular_weights() -> None:
    for name in ("chlorine", "ammonia", "hydrogen cyanide", "hydrogen chloride"):
        gas = gas_constants(name)
        assert gas is not None
        mw = agents.get_agent(name).molecular_weight_g_mol
        assert gas.diffusivity_ratio == pytest.approx(math.sqrt(mw / 18.016), abs=5e-4), name


def test_agents_module_still_reads_the_csv() -> None:
    chlorine = agents.get_agent("chlorine")
    assert chlorine.dry_velocity_m_s is None and chlorine.scavenging_a_s is None
    assert "GEOS-Chem" in chlorine.deposition_source
    ammonia = agents.get_agent("ammonia")
    assert ammonia.scavenging_a_s == 9.9e-5 and ammonia.scavenging_b == 0.62


# --- bad arguments ---------------------------------------------------------------


def test_bad_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError, match=r"'forest'.*urban, agricultural.*rocky_open_shrubs"):
        surface_resistance(SO2, "forest", "midsummer")
    with pytest.raises(ValueError, match=r"'summer'.*midsummer, autumn, late_autumn, winter_snow, spring"):
        surface_resistance(SO2, "urban", "summer")
    with pytest.raises(ValueError, match=r"-5.0.*>= 0"):
        surface_resistance(SO2, "urban", "midsummer", solar_w_m2=-5.0)
    with pytest.raises(ValueError, match=r"nan"):
        surface_resistance(SO2, "urban", "midsummer", surface_temperature_c=float("nan"))
    with pytest.raises(ValueError, match=r"H\* = -1.0"):
        WeselyGas(henry_m_atm=-1.0, f0=0.0, diffusivity_ratio=1.0)
    with pytest.raises(ValueError, match=r"f0 = 2.0"):
        WeselyGas(henry_m_atm=1.0, f0=2.0, diffusivity_ratio=1.0)
    with pytest.raises(ValueError, match=r"D_H2O/D_x = 0.0"):
        WeselyGas(henry_m_atm=1.0, f0=0.0, diffusivity_ratio=0.0)
    with pytest.raises(ValueError, match=r"D_H2O/D_x = -1"):
        laminar_factor(-1.0)


def test_gas_without_any_pathway_has_infinite_resistance() -> None:
    inert = WeselyGas(henry_m_atm=0.0, f0=0.0, diffusivity_ratio=1.0)
    # H* = f0 = 0: r_m = 1/0 closes even open stomata, every other path is 1/0 too
    for g, t in ((0.0, 15.0), (800.0, 25.0), (800.0, 45.0)):
        assert surface_resistance(inert, "deciduous_forest", "midsummer", g, t) == math.inf


# --- laminar factor ------------------------------------------------------------


def test_laminar_factor_by_hand() -> None:
    t_k = 288.15
    d_h2o = 2.11e-5 * (t_k / 273.15) ** 1.94  # FLEXPART getvdep.f90 at 1013.25 hPa
    mu = (1.718 + 0.0049 * 15.0) * 1e-5  # dynamic viscosity [kg m-1 s-1]
    rho = 101325.0 / (287.0 * t_k)  # [kg m-3]
    nu = mu / rho  # 1.46e-5 m2 s-1
    schmidt_so2 = nu / (d_h2o / 2.0)  # D_SO2 = D_H2O / 2.0
    expected = 2.0 / 0.4 * (schmidt_so2 / 0.72) ** (2.0 / 3.0)
    assert laminar_factor(2.0) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(7.22, abs=0.01)
    # water vapour itself: Sc = 0.62, the textbook value of about 0.6
    assert nu / d_h2o == pytest.approx(0.625, abs=0.005)
    # r_b scales with (D_H2O/D_x)^(2/3)
    assert laminar_factor(2.0) / laminar_factor(1.0) == pytest.approx(2.0 ** (2.0 / 3.0), rel=1e-12)


# --- season ---------------------------------------------------------------------


def test_season_northern_hemisphere() -> None:
    expected = {1: "late_autumn", 2: "late_autumn", 3: "spring", 4: "spring", 5: "spring",
                6: "midsummer", 7: "midsummer", 8: "midsummer", 9: "autumn", 10: "autumn",
                11: "late_autumn", 12: "late_autumn"}
    for month, season in expected.items():
        assert season_for(month, 51.5) == season, month
        assert season_for(month, 23.5) == season, month  # the edge is outside the tropics


def test_season_southern_hemisphere() -> None:
    expected = {1: "midsummer", 2: "midsummer", 3: "autumn", 4: "autumn", 5: "late_autumn",
                6: "late_autumn", 7: "late_autumn", 8: "late_autumn", 9: "spring", 10: "spring",
                11: "spring", 12: "midsummer"}
    for month, season in expected.items():
        assert season_for(month, -33.9) == season, month
        assert season_for(month, -90.0) == season, month


def test_season_tropics_and_bad_arguments() -> None:
    for month in range(1, 13):
        for lat in (0.0, 10.0, -23.4, 23.4):
            assert season_for(month, lat) == "midsummer"
    assert "winter_snow" not in {season_for(m, lat) for m in range(1, 13) for lat in (-60.0, 60.0)}
    with pytest.raises(ValueError, match="month = 13"):
        season_for(13, 45.0)
    with pytest.raises(ValueError, match="month = 0"):
        season_for(0, 45.0)
    with pytest.raises(ValueError, match="latitude = 91"):
        season_for(6, 91.0)
