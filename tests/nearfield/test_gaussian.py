"""Gaussian plume / puff, dispersion coefficients and stability classes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from plumecast.nearfield.gaussian import (
    averaging_time_factor,
    briggs_sigma_y,
    briggs_sigma_z,
    finite_duration_factor,
    peak_finite_duration_factor,
    plume_concentration,
    puff_concentration,
    surface_layer_sigma_z,
    vertical_term,
)
from plumecast.nearfield.stability import (
    pasquill_gifford_class,
    pasquill_gifford_class_from_obukhov,
    psi_m,
    wind_speed_at_height,
)


@pytest.mark.parametrize(
    ("cls", "x", "sy", "sz"),
    [
        # hand-computed from Briggs (1973) open-country formulas
        ("A", 1000.0, 0.22 * 1000 / math.sqrt(1.1), 200.0),
        ("C", 500.0, 0.11 * 500 / math.sqrt(1.05), 0.08 * 500 / math.sqrt(1.1)),
        ("D", 1000.0, 0.08 * 1000 / math.sqrt(1.1), 0.06 * 1000 / math.sqrt(2.5)),
        ("F", 2000.0, 0.04 * 2000 / math.sqrt(1.2), 0.016 * 2000 / 1.6),
    ],
)
def test_briggs_rural_values(cls, x, sy, sz):
    assert briggs_sigma_y(x, cls) == pytest.approx(sy, rel=1e-12)
    assert briggs_sigma_z(x, cls) == pytest.approx(sz, rel=1e-12)


def test_briggs_urban_values():
    assert briggs_sigma_y(1000.0, "D", "urban") == pytest.approx(160 / math.sqrt(1.4))
    assert briggs_sigma_z(1000.0, "B", "urban") == pytest.approx(240 * math.sqrt(2.0))


@pytest.mark.parametrize(("cls", "x"), [("B", 300.0), ("D", 1000.0), ("F", 3000.0)])
def test_plume_formula_hand_computed(cls, x):
    """C(x, 0, 0) for a ground release = Q / (π u σy σz)."""
    q, u = 2.0, 3.0
    sy, sz = briggs_sigma_y(x, cls), briggs_sigma_z(x, cls)
    c = plume_concentration(q, u, x, 0.0, 0.0, 0.0, sy, sz)
    assert c == pytest.approx(q / (math.pi * u * sy * sz), rel=1e-12)
    # elevated source, receptor at ground: Q/(π u σy σz) exp(-h²/2σz²) exp(-y²/2σy²)
    h, y = 20.0, 15.0
    c = plume_concentration(q, u, x, y, 0.0, h, sy, sz)
    expect = q / (math.pi * u * sy * sz) * math.exp(-(h**2) / (2 * sz**2)) * math.exp(-(y**2) / (2 * sy**2))
    assert c == pytest.approx(expect, rel=1e-12)


def test_upwind_is_zero():
    assert plume_concentration(1.0, 2.0, -10.0, 0.0, 0.0, 0.0, 1.0, 1.0) == 0.0


@pytest.mark.parametrize("cls", ["A", "C", "D", "F"])
def test_centreline_decreases_beyond_maximum(cls):
    h = 30.0
    x = np.geomspace(10, 20000, 400)
    c = plume_concentration(1.0, 4.0, x, 0.0, 0.0, h, briggs_sigma_y(x, cls), briggs_sigma_z(x, cls))
    imax = int(np.argmax(c))
    assert 0 < imax < x.size - 1
    assert np.all(np.diff(c[imax:]) < 0)


@pytest.mark.parametrize(("cls", "mix"), [("D", np.inf), ("B", 300.0), ("F", np.inf)])
def test_mass_flux_through_crosswind_plane(cls, mix):
    """∫∫ u C dy dz = Q within 1 % (ground and lid reflection conserve mass)."""
    q, u, x, h = 3.0, 5.0, 1500.0, 10.0
    sy, sz = float(briggs_sigma_y(x, cls)), float(briggs_sigma_z(x, cls))
    ztop = mix if np.isfinite(mix) else 12 * sz + h
    vz, _ = quad(lambda z: float(vertical_term(z, h, sz, mix)), 0.0, ztop, limit=200)
    yy = np.linspace(-8 * sy, 8 * sy, 4001)
    cy = plume_concentration(q, u, x, yy, 0.0, h, sy, sz, mix) / float(vertical_term(0.0, h, sz, mix))
    flux = u * np.trapezoid(cy, yy) * vz
    assert flux == pytest.approx(q, rel=0.01)


def test_well_mixed_limit():
    assert vertical_term(1.0, 10.0, 2000.0, 500.0) == pytest.approx(1 / 500.0)


def test_puff_mass_conservation():
    m, u, t = 100.0, 3.0, 200.0
    s = 40.0
    x = np.linspace(u * t - 8 * s, u * t + 8 * s, 801)
    y = np.linspace(-8 * s, 8 * s, 801)
    X, Y = np.meshgrid(x, y)
    c0 = puff_concentration(m, u, X, Y, 0.0, t, 0.0, s, s, 20.0)
    col = np.trapezoid(np.trapezoid(c0, x, axis=1), y) / float(vertical_term(0.0, 0.0, 20.0))
    assert col == pytest.approx(m, rel=1e-3)


def test_finite_duration_factor_limits():
    # long release: the steady plume is reached; peak factor formula agrees with the time series
    assert peak_finite_duration_factor(3.0, 1e6, 50.0) == pytest.approx(1.0)
    t = np.linspace(0, 2000, 20001)
    f = finite_duration_factor(900.0, t, 3.0, 60.0, 40.0)
    assert f.max() == pytest.approx(float(peak_finite_duration_factor(3.0, 60.0, 40.0)), rel=1e-3)


def test_averaging_time_factor():
    assert averaging_time_factor(600.0) == 1.0
    assert averaging_time_factor(3600.0) == pytest.approx(6**0.2)


def test_surface_layer_sigma_z_neutral_and_stable():
    # neutral: sqrt(2/pi) u* x / u
    assert surface_layer_sigma_z(100.0, 5.0, 0.4, np.inf) == pytest.approx(math.sqrt(2 / math.pi) * 8.0)
    stable = surface_layer_sigma_z(100.0, 5.0, 0.4, 10.0)
    assert stable == pytest.approx(math.sqrt(2 / math.pi) * 8.0 * 8.0 ** (-1 / 3))
    assert surface_layer_sigma_z(100.0, 5.0, 0.4, -10.0) > surface_layer_sigma_z(100.0, 5.0, 0.4, np.inf)


# Turner (1970) Table 1, with intermediate classes resolved to the more stable letter.
TURNER = [
    (1.5, True, "strong", None, "A"),
    (1.5, True, "moderate", None, "B"),  # A-B
    (2.5, True, "strong", None, "B"),  # A-B
    (2.5, True, "moderate", None, "B"),
    (2.5, True, "slight", None, "C"),
    (4.0, True, "strong", None, "B"),
    (4.0, True, "moderate", None, "C"),  # B-C
    (5.5, True, "strong", None, "C"),
    (5.5, True, "moderate", None, "D"),  # C-D
    (7.0, True, "slight", None, "D"),
    (2.5, False, None, 5, "E"),
    (2.5, False, None, 2, "F"),
    (4.0, False, None, 5, "D"),
    (4.0, False, None, 2, "E"),
    (7.0, False, None, 2, "D"),
    (4.0, True, "strong", 8, "D"),  # overcast
]


@pytest.mark.parametrize(("u", "day", "ins", "cloud", "expected"), TURNER)
def test_turner_table(u, day, ins, cloud, expected):
    assert pasquill_gifford_class(u, day, ins, cloud) == expected


def test_turner_strong_sun_light_wind_is_unstable():
    assert pasquill_gifford_class(1.0, True, "slight") == "B"
    assert pasquill_gifford_class(6.5, True, "strong") == "C"


def test_class_from_obukhov():
    assert pasquill_gifford_class_from_obukhov(np.inf, 0.1) == "D"
    assert pasquill_gifford_class_from_obukhov(-5.0, 0.1) == "A"
    assert pasquill_gifford_class_from_obukhov(-1000.0, 0.1) == "D"
    assert pasquill_gifford_class_from_obukhov(15.0, 0.1) == "F"


def test_wind_profile_neutral_log():
    u = wind_speed_at_height(5.0, 2.0, 20.0, 0.4, np.inf, von_karman=0.4)
    assert u == pytest.approx(5.0 + math.log(10.0))
    assert psi_m(np.array([0.0]))[0] == pytest.approx(0.0, abs=1e-12)


def test_cloud_passage_time_limits():
    from plumecast.nearfield.gaussian import cloud_passage_time

    # narrow cloud: the release duration; puff: sqrt(2 pi) sigma_x / u; continuous from both sides
    assert float(cloud_passage_time(2.0, 600.0, 5.0)) == pytest.approx(600.0, rel=1e-9)
    assert float(cloud_passage_time(2.0, 0.0, 50.0)) == pytest.approx(math.sqrt(2 * math.pi) * 25.0)
    assert float(cloud_passage_time(2.0, 1e-3, 50.0)) == pytest.approx(math.sqrt(2 * math.pi) * 25.0, rel=1e-4)
    d = cloud_passage_time(2.0, 600.0, np.array([10.0, 300.0, 3000.0]))
    assert np.all(np.diff(d) > 0) and d[0] == pytest.approx(600.0)


# --------------------------------------------------------------------------- audit (mixing lid, wind, plume rise)


def test_turner_workbook_style_elevated_source_hand_check():
    """Q = 100 g/s, class D (Briggs open country), u = 5 m/s, H = 30 m, x = 1 km: ground centreline
    Q/(π u σy σz) exp(-H²/2σz²) with σy = 80/√1.1, σz = 60/√2.5 (hand value 1.609e-3 g/m3)."""
    sy, sz = briggs_sigma_y(1000.0, "D"), briggs_sigma_z(1000.0, "D")
    assert float(sy) == pytest.approx(76.277, rel=1e-4) and float(sz) == pytest.approx(37.947, rel=1e-4)
    c = float(plume_concentration(100.0, 5.0, 1000.0, 0.0, 0.0, 30.0, sy, sz))
    assert c == pytest.approx(1.6091e-3, rel=1e-4)
    # receptor at the release height: Q/(2π u σy σz) [1 + exp(-(2H)²/2σz²)]
    c30 = float(plume_concentration(100.0, 5.0, 1000.0, 0.0, 30.0, 30.0, sy, sz))
    assert c30 == pytest.approx(1.4148e-3, rel=1e-4)


@pytest.mark.parametrize("sz", [20.0, 80.0, 150.0, 400.0])
def test_release_above_mixing_lid_does_not_reach_the_ground(sz):
    """A release above the lid penetrates the inversion: zero below it (ISC3 §1.1.6). Before the fix the
    image sum (and the well-mixed 1/H limit) put it in the mixed layer as if it had been released there."""
    big_h = 100.0
    assert float(vertical_term(0.0, 150.0, sz, big_h)) == 0.0
    assert float(vertical_term(1.5, 150.0, sz, big_h)) == 0.0
    # above the lid the mass is conserved (reflection by the lid from above)
    total, _ = quad(lambda z: float(vertical_term(z, 150.0, sz, big_h)), big_h, big_h + 150.0 + 12 * sz, limit=200)
    assert total == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("sz", [10.0, 60.0, 150.0, 170.0])
def test_release_below_lid_stays_below_it(sz):
    """Nothing above the lid for a release in the mixed layer; ∫_0^H V dz = 1 (mass conserved)."""
    big_h = 100.0
    assert float(vertical_term(150.0, 30.0, sz, big_h)) == 0.0
    total, _ = quad(lambda z: float(vertical_term(z, 30.0, sz, big_h, n_images=6)), 0.0, big_h, limit=200)
    assert total == pytest.approx(1.0, rel=1e-4)


def test_well_mixed_limit_is_continuous():
    big_h = 100.0
    below = float(vertical_term(0.0, 30.0, 159.9, big_h)) * big_h
    assert below == pytest.approx(1.0, rel=1e-5)
    assert float(vertical_term(0.0, 30.0, 200.0, big_h)) == pytest.approx(1.0 / big_h)


def test_power_law_wind_irwin_exponents():
    from plumecast.nearfield.stability import power_law_wind_speed

    # Irwin (1979) / ISC3: rural F 0.55, D 0.15; urban F 0.30
    assert power_law_wind_speed(2.0, 50.0, "F") == pytest.approx(2.0 * 5.0**0.55)
    assert power_law_wind_speed(5.0, 100.0, "D") == pytest.approx(5.0 * 10.0**0.15)
    assert power_law_wind_speed(2.0, 50.0, "F", "urban") == pytest.approx(2.0 * 5.0**0.30)
    assert power_law_wind_speed(3.0, 2.0, "A") == 3.0  # below 10 m: the 10-m wind


def test_zones_passive_elevated_release_uses_wind_at_release_height():
    """``zones`` used the 10-m wind for a 50-m release: C ∝ 1/u was 5^0.55 = 2.4x too high in class F."""
    from plumecast.nearfield.zones import LocalScenario, plume_setup

    def scen(height: float) -> LocalScenario:
        return LocalScenario.model_validate({
            "name": "elevated", "source": {"lat": 45.0, "lon": 5.0, "height_m": height},
            "release": {"rate_kg_s": 0.1, "duration_s": 1800, "dense_gas": "off"}, "agent": "chlorine",
            "meteorology": {"wind_speed_m_s": 2.0, "wind_from_deg": 270.0, "stability": "F"},
            "receptors": {"cities": False},
        })

    assert plume_setup(scen(50.0)).wind_speed_m_s == pytest.approx(2.0 * 5.0**0.55)
    assert plume_setup(scen(1.0)).wind_speed_m_s == pytest.approx(2.0)


def test_briggs_plume_rise_hand_values():
    """d = 2 m, v_s = 15 m/s, T_s = 400 K, T_a = 293 K, u = 5 m/s (ISC3 §1.1.4 equations, by hand)."""
    from plumecast.nearfield.plume_rise import briggs_plume_rise

    r = briggs_plume_rise(50.0, 2.0, 15.0, 400.0, 293.0, 5.0, "D")
    assert r.buoyancy_flux == pytest.approx(39.35, rel=1e-3)  # g v d² ΔT/(4 T_s)
    assert r.buoyancy_dominated
    assert r.final_rise_m == pytest.approx(67.32, rel=2e-3)  # 21.425 F^(3/4)/u
    assert r.distance_to_final_m == pytest.approx(486.5, rel=2e-3)  # 49 F^(5/8)
    assert float(r.rise_at(100.0, 5.0)) == pytest.approx(23.44, rel=2e-3)  # 1.6 F^(1/3) x^(2/3)/u
    assert float(r.rise_at(5000.0, 5.0)) == pytest.approx(r.final_rise_m)
    assert r.stack_height_m == 50.0  # v_s > 1.5 u: no downwash
    s = briggs_plume_rise(50.0, 2.0, 15.0, 400.0, 293.0, 5.0, "F")
    assert s.final_rise_m == pytest.approx(49.07, rel=2e-3)  # 2.6 (F/(u s))^(1/3), s = g/T_a 0.035
    # F >= 55 branch: 38.71 F^(3/5)/u
    big = briggs_plume_rise(100.0, 5.0, 20.0, 420.0, 290.0, 8.0, "C")
    fb = 9.80665 * 20.0 * 25.0 * 130.0 / (4 * 420.0)
    assert big.final_rise_m == pytest.approx(38.71 * fb**0.6 / 8.0)
    assert big.distance_to_final_m == pytest.approx(119.0 * fb**0.4)


def test_plume_rise_momentum_downwash_and_limits():
    from plumecast.nearfield.plume_rise import briggs_plume_rise, stack_tip_downwash_height

    # stack-tip downwash when v_s < 1.5 u: h' = h + 2 d (v_s/u - 1.5)
    assert stack_tip_downwash_height(30.0, 2.0, 3.0, 5.0) == pytest.approx(30.0 - 3.6)
    # ambient-temperature jet: momentum rise 3 d v_s / u
    jet = briggs_plume_rise(30.0, 0.5, 20.0, 293.0, 293.0, 4.0, "D")
    assert not jet.buoyancy_dominated and jet.final_rise_m == pytest.approx(3 * 0.5 * 20.0 / 4.0)
    # stable rise stays finite as u -> 0 (calm limit 5 F^(1/4) s^(-3/8))
    calm = briggs_plume_rise(50.0, 2.0, 15.0, 400.0, 293.0, 1e-4, "F", downwash=False)
    s = 9.80665 / 293.0 * 0.035
    assert calm.final_rise_m == pytest.approx(5.0 * calm.buoyancy_flux**0.25 * s**-0.375)
