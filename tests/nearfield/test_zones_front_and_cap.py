"""zones: no air before the advective front, and none above the pure vapour (cell audit)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast.nearfield.zones import compute_zones
from plumecast.nearfield.zones.dense_finite import dense_finite_parts
from plumecast.nearfield.zones.plume import (
    concentration_series,
    exposure_series,
    exposure_time_axis,
    peak_concentration,
)
from plumecast.nearfield.zones.scenario import zones_from_dict
from plumecast.nearfield.zones.setup import _sigmas, plume_setup

LAT0, LON0 = 33.5648, -81.8076
M_PER_DEG_LON = 111_195.0 * math.cos(math.radians(LAT0))
#: pure chlorine vapour at 2 °C and 1 atm, P M / (R T) [kg m-3]
CHLORINE_2C = 101_325.0 * 70.906e-3 / (8.314462618 * 275.15)
#: the advective front's lead, in along-wind spreads (plumecast.nearfield.zones.windowed.FRONT_LEAD_SIGMAS)
LEAD = math.sqrt(2.0)


def _graniteville(points_m=(30.0, 100.0), stability="F", **release):
    """54 t of chlorine over 600 s in 1.5 m/s from 270°, class F, 2 °C (gv.yaml of the cell audit)."""
    rel = {"type": "point", "name": "tank car", "lat": LAT0, "lon": LON0, "height_m": 1.0, "amount_kg": 54000.0,
           "duration_s": 600.0, **release}
    return zones_from_dict({
        "name": "gv", "agent": "chlorine", "releases": [rel],
        "local_weather": {"wind_speed_m_s": 1.5, "wind_from_deg": 270, "stability": stability,
                          "mixing_height_m": 200, "air_temperature_c": 2},
        "receptors": {"points": [{"name": f"fence {x:g} m", "lat": LAT0, "lon": LON0 + x / M_PER_DEG_LON}
                                 for x in points_m]},
    }).scenario


def test_a_passive_plume_never_exceeds_the_pure_gas_and_zones_say_where():
    """zones with dense_gas off gave 3,300,000 ppm outdoors and 270,000 ppm indoors 30 m from 54 t of
    chlorine (pure chlorine: 3.14 kg m-3 at 2 °C); the dense path gave 780,000 ppm there."""
    sc = _graniteville(dense_gas="off")
    setup = plume_setup(sc)
    x = np.geomspace(1.0, 1e5, 400)
    axis = peak_concentration(setup, x, np.zeros_like(x))
    assert axis.max() == pytest.approx(CHLORINE_2C, rel=1e-12)  # held from about 10 to 68 m
    ends = exposure_time_axis(setup)
    assert exposure_series(setup, x, np.zeros_like(x), ends).max() <= CHLORINE_2C * (1 + 1e-12)
    res = compute_zones(sc, consequences=False)
    out = res.points["outdoor_kg_m3"].values
    assert np.nanmax(out[:, 0]) == pytest.approx(CHLORINE_2C, rel=1e-12)  # 30 m: the pure gas
    assert 0.3 * CHLORINE_2C < np.nanmax(out[:, 1]) < CHLORINE_2C  # 100 m: 650,000 ppm, below it
    assert np.nanmax(res.points["indoor_kg_m3"].values) < 0.1 * CHLORINE_2C
    notes = [w for w in res.warnings if w.startswith("pure vapour:")]
    assert len(notes) == 1 and "3.14 kg m-3" in notes[0] and "(fence 30 m)" in notes[0]
    # the dense path: never above it either, and no note where it does not reach it
    dense = compute_zones(_graniteville(), consequences=False)
    assert np.nanmax(dense.points["outdoor_kg_m3"].values) < CHLORINE_2C
    assert not [w for w in dense.warnings if w.startswith("pure vapour:")]
    assert setup.pure_vapour_kg_m3 == pytest.approx(CHLORINE_2C, rel=1e-12)


def test_nothing_arrives_before_the_advective_front():
    """zones had gas at 2 km 1 s after the release started (0.0009 ppm) and the onset floor at 25 s: a
    front at 6.5 m/s in a 1.5 m/s wind, from Palazzi's factor holding the cloud at its spread at the place
    (sigma_x 560 m for the slumped cloud) at every time. Nothing is counted before the first air is within
    sqrt(2) sigma_x of the place, and the dose dropped is the small tail's."""
    sc = _graniteville(points_m=(2000.0,))
    setup = plume_setup(sc)
    x = np.array([500.0, 1000.0, 2000.0, 5000.0, 10_000.0])
    ends = exposure_time_axis(setup)
    series = exposure_series(setup, x, np.zeros_like(x), ends)
    amp, sx, _ = dense_finite_parts(setup, x)
    u = setup.wind_speed_m_s
    front = (x - LEAD * sx) / u
    first = ends[np.argmax(series > 0, axis=0)]
    assert (first >= front).all()
    assert first[2] > 600.0  # 2 km: 806 s (the slumped puff's gravity front, R^2 = R0^2 + 1.2 sqrt(g0' V0) t: 880 s)
    assert (x / first).max() < 3.0 * u  # no front faster than 2.2 times the wind (was 2,000 m / 1 s)
    # the instantaneous series too, sample by sample
    t = np.array([1.0, 0.5 * front[2], 0.999 * front[2], 1.001 * front[2], x[2] / u])
    c = concentration_series(setup, x[2:3], np.zeros(1), t)[:, 0]
    assert (c[:3] == 0.0).all() and (c[3:] > 0).all()
    # the dose kept: Palazzi's time integral is amplitude x duration; the tail ahead of the front held 2 %
    dt = np.diff(np.concatenate([[0.0], ends]))
    dose = (series * dt[:, None]).sum(axis=0)
    assert (dose >= 0.95 * amp * setup.duration_s).all()
    # the threat-at-a-point series start there too
    res = compute_zones(sc, consequences=False)
    out = res.points["outdoor_kg_m3"].values[:, 0]
    assert res.points["time"].values[np.argmax(out > 0)] >= front[2]


def test_a_passive_puff_arrives_with_its_front():
    """A passive puff (all at once) has the same rule: at 5 km in class D nothing before (x - sqrt(2) sigma_x)/u,
    and at most 1 - Phi(sqrt 2) = 7.9 % of its dose dropped."""
    sc = _graniteville(points_m=(5000.0,), stability="D", dense_gas="off", amount_kg=100.0, duration_s=0.0)
    setup = plume_setup(sc)
    assert setup.dense is None and setup.duration_s == 0.0
    x = np.array([5000.0])
    ends = exposure_time_axis(setup)
    c = exposure_series(setup, x, np.zeros(1), ends)[:, 0]
    sy, _ = _sigmas(setup, x)
    front = float((x[0] - LEAD * sy[0]) / setup.wind_speed_m_s)
    assert ends[np.argmax(c > 0)] >= front > 0.8 * 5000.0 / setup.wind_speed_m_s
    dt = np.diff(np.concatenate([[0.0], ends]))
    full = float(peak_concentration(setup, x, np.zeros(1))[0]) * math.sqrt(2.0 * math.pi) * float(sy[0]) \
        / setup.wind_speed_m_s  # the puff's dose at the place, sqrt(2 pi) sigma_x / u times its peak
    assert 0.9 * full <= float((c * dt).sum()) <= 0.93 * full  # 8 % dropped (the tail, and the sampling)
