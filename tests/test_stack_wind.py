"""The near-field plume of a stack in ``run`` takes the wind at the stack top
(:mod:`plumecast.stack_wind`): on a met with levels, the met's profile at the stack
height as the particles see it; on a met of one level, ``zones``' power law from it taken
as the 10 m wind. ``run`` had taken the met's lowest-level wind for the rise and the
dilution, and read 5-17 times less than ``zones`` at 2-3 km for the same 40 m stack in
the same 4 m/s wind (regression audit; docs/local_scale.md). Plumes without a stack keep
the lowest-level wind, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast.near_field_plume import (
    BREATHING_HEIGHT_M,
    TERRAIN_ROUGHNESS_M,
    NearFieldSource,
    local_xy,
)
from plumecast.nearfield.gaussian import briggs_sigma_y, briggs_sigma_z, plume_concentration
from plumecast.nearfield.plume_rise import briggs_plume_rise
from plumecast.nearfield.stability import power_law_wind_speed
from plumecast.nearfield.zones import peak_concentration, plume_setup, zones_from_dict
from plumecast.run_near_field import stack_exhaust
from plumecast.run_winds import run_winds
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from plumecast.units import EARTH_RADIUS_M
from tests.met.style_files import atmosphere, write_era5

LAT0, LON0 = 45.0, 0.0  # a node of the synthetic met's 1-degree grid
STACK_H = 40.0
STACK = {"diameter_m": 1.5, "exit_velocity_m_s": 10.0, "exit_temperature_c": 120.0}
RATE = 10.0
DT = 600.0
LID = 800.0
R_EARTH = EARTH_RADIUS_M  # the near field's tangent plane (near_field_plume.local_xy)


@pytest.fixture(scope="module")
def met_paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("stack_met3d")
    return write_era5(atmosphere(n_times=4), d / "era5_pl.nc", d / "era5_sl.nc")


def _scenario(met: dict, receptors: list | None = None, stack: dict | None = STACK, **extra):  # type: ignore[no-untyped-def]
    rel = {"type": "point", "name": "stack", "lat": LAT0, "lon": LON0, "height_m": STACK_H, "rate_kg_s": RATE,
           "stop_h": 2}
    if stack is not None:
        rel["stack"] = stack
    d = {"name": "stack wind", "start": "2026-03-01T00:00:00Z", "duration_h": 2, "time_step_s": DT, "particles": 1000,
         "seed": 5, "backend": "numpy", "agent": "chlorine", "met": met,
         "turbulence": {"kh_m2_s": 2000.0, "mixing_height_m": LID}, "releases": [rel],
         "near_field": {"stability": "D", "terrain": "rural"},
         "output": {"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 50, "resolution_deg": 0.5}}}
    if receptors is not None:
        d["receptors"] = {"points": receptors}
    d.update(extra)
    return scenario_from_dict(d)


def _file_met(paths) -> dict:  # type: ignore[no-untyped-def]
    return {"source": "file", "path": [str(p) for p in paths]}


def _east_north(vec: np.ndarray, lon: float, lat: float) -> tuple[np.ndarray, np.ndarray]:
    """The Cartesian wind (..., 3) at a point to east and north components."""
    lam, phi = math.radians(lon), math.radians(lat)
    x, y, z = vec[..., 0], vec[..., 1], vec[..., 2]
    u_e = -math.sin(lam) * x + math.cos(lam) * y
    v_n = -math.sin(phi) * math.cos(lam) * x - math.sin(phi) * math.sin(lam) * y + math.cos(phi) * z
    return u_e, v_n


def _profile_by_hand(grid, t_s: float, height_m: float, z0_m: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(u_east, v_north) at the node (LON0, LAT0) and ``height_m`` by hand: each record's
    column linear in height between its levels (the neutral log law from the lowest one
    below it), linear in time between the records."""
    i = int(round((LON0 - grid.lon0) / grid.dlon))
    j = int(round((LAT0 - grid.lat0) / grid.dlat))
    z = np.asarray(grid.z_m, float)
    per_record = []
    for r in range(grid.times_s.size):
        u_e, v_n = _east_north(np.asarray(grid.vec[r, :, :, j, i], float), LON0, LAT0)
        if height_m < z[0]:
            f = math.log(max(height_m, z0_m) / z0_m) / math.log(z[0] / z0_m)
            per_record.append((u_e[0] * f, v_n[0] * f))
        else:
            per_record.append((float(np.interp(height_m, z, u_e)), float(np.interp(height_m, z, v_n))))
    if grid.times_s.size == 1:
        return per_record[0]
    r = int(np.clip(np.searchsorted(grid.times_s, t_s, side="right") - 1, 0, grid.times_s.size - 2))
    w = (t_s - grid.times_s[r]) / (grid.times_s[r + 1] - grid.times_s[r])
    return tuple((1 - w) * a + w * b for a, b in zip(per_record[r], per_record[r + 1], strict=True))  # type: ignore[return-value]


# --------------------------------------------------------------------------- the wind at the stack top


@pytest.mark.parametrize("height_m", [5.0, 40.0, 75.0, 400.0])
@pytest.mark.parametrize("terrain", ["rural", "urban"])
def test_on_levels_the_stack_wind_is_the_mets_profile_at_the_stack_height(met_paths, height_m, terrain):
    winds = run_winds(_scenario(_file_met(met_paths)))
    assert winds.levels and winds.first_grid().nz > 2
    wind_at = winds.wind_at()
    for t_s in (0.0, 1500.0, 5400.0):
        grid = winds.grid_for(int(t_s // DT), 1, DT)
        u_e, v_n, speed = wind_at.at_stack(LON0, LAT0, t_s, height_m, "D", terrain)
        # not below the 10-m reference height (zones' power law, ISC3): a stack lower than that takes
        # the 10-m wind, as a ground release does (regression audit: 5 m had read the log law's slower wind)
        want = _profile_by_hand(grid, t_s, max(height_m, 10.0), TERRAIN_ROUGHNESS_M[terrain])
        np.testing.assert_allclose((u_e, v_n), want, rtol=1e-6, atol=1e-9)
        assert speed == pytest.approx(max(math.hypot(*want), 1.0), rel=1e-6)
    # the lowest level (10 m) is what the plume had taken: far slower than at a 40 m stack top
    lowest = math.hypot(*wind_at(LON0, LAT0, 0.0))
    if height_m == 40.0:
        assert wind_at.at_stack(LON0, LAT0, 0.0, height_m, "D", terrain)[2] > 1.4 * lowest
    if height_m == 5.0:
        assert wind_at.at_stack(LON0, LAT0, 0.0, height_m, "D", terrain)[2] == pytest.approx(lowest, rel=1e-9)


@pytest.mark.parametrize("met", [{"source": "uniform", "u_m_s": 3.0, "v_m_s": -2.0}, {"source": "climatology"}])
@pytest.mark.parametrize("pg_class", ["A", "D", "F"])
def test_on_one_level_the_stack_wind_is_zones_power_law_from_it(met, pg_class):
    winds = run_winds(_scenario(met))
    assert not winds.levels
    wind_at = winds.wind_at()
    u10, v10 = wind_at(LON0, LAT0, 0.0)
    for terrain in ("rural", "urban"):
        u_e, v_n, speed = wind_at.at_stack(LON0, LAT0, 0.0, STACK_H, pg_class, terrain)
        want = power_law_wind_speed(max(math.hypot(u10, v10), 1.0), STACK_H, pg_class, terrain)  # type: ignore[arg-type]
        assert speed == pytest.approx(want, rel=1e-12) and speed > math.hypot(u10, v10)
        assert math.hypot(u_e, v_n) == pytest.approx(want, rel=1e-12)
        assert math.atan2(v_n, u_e) == pytest.approx(math.atan2(v10, u10), abs=1e-12)  # the direction kept


# --------------------------------------------------------------------------- run's plume of a stack


def _along(km: float, u_e: float, v_n: float) -> tuple[float, float]:
    s = math.hypot(u_e, v_n)
    x, y = km * 1000.0 * u_e / s, km * 1000.0 * v_n / s
    return LAT0 + math.degrees(y / R_EARTH), LON0 + math.degrees(x / (R_EARTH * math.cos(math.radians(LAT0))))


def test_run_carries_dilutes_and_raises_a_stack_plume_with_the_profile_wind_at_its_top(met_paths):
    """On a 3-D met, the step mean of run's stack plume is the plume of the met's wind at
    the stack top (by hand: the column interpolated in height, then in time), not that of
    the 10 m wind (before: 1.6 times slower here, and a higher rise)."""
    step = 4
    t_mid = (step + 0.5) * DT
    winds = run_winds(_scenario(_file_met(met_paths)))
    u_e, v_n = _profile_by_hand(winds.grid_for(step, 1, DT), t_mid, STACK_H, TERRAIN_ROUGHNESS_M["rural"])
    km = (1.5, 2.0, 3.0, 4.0)
    pts = [{"name": f"r{k:g}", "lat": _along(k, u_e, v_n)[0], "lon": _along(k, u_e, v_n)[1], "population": 10}
           for k in km]
    res = run(_scenario(_file_met(met_paths), pts))
    got = res.exposure.total()[step]
    sc = res.scenario
    d, v_s, t_v, t_a = stack_exhaust(sc, sc.releases[0], res.agent, RATE)
    u = math.hypot(u_e, v_n)
    lat = np.array([p["lat"] for p in pts])
    lon = np.array([p["lon"] for p in pts])
    x, y = local_xy(lat, lon, LAT0, LON0, u_e, v_n)
    h = briggs_plume_rise(STACK_H, d, v_s, t_v, t_a, u, "D").effective_height(x, u)
    want = plume_concentration(RATE, u, x, y, BREATHING_HEIGHT_M, h, briggs_sigma_y(x, "D", "rural"),
                               briggs_sigma_z(x, "D", "rural"), LID)
    assert (want > 0).all()
    # to 2 %: the step's emission window starts where the last step's ended, and the wind's travel time
    # changed between them (the 10 m wind's plume differs 1.6-fold)
    np.testing.assert_allclose(got, want, rtol=0.02)
    lines = res.stats["met_provenance"]
    assert any("near-field plume of stack:" in ln and "its wind at the stack top (the met's wind at the stack top"
               in ln for ln in lines), lines


def _audit_dict(u: float = 4.0, **over) -> dict:  # type: ignore[no-untyped-def]
    """The audit's case: the Rhine example's stack (40 m, 4 m wide, 20 m/s at 150 °C, 50 kg/s
    of chlorine) in a 4 m/s south-westerly, class D over open country; the source on a node
    of the uniform wind's 1-degree grid (between nodes its Cartesian interpolation is a few
    1e-5 slower, which the elevated plume's far edge at 1 km turns into 0.1 %)."""
    rad = math.radians(240.0)
    d = {"name": "audit", "start": "2026-01-20T06:00:00Z", "duration_h": 2, "time_step_s": 300, "particles": 1000,
         "seed": 3, "backend": "numpy", "agent": "chlorine",
         "met": {"source": "uniform", "u_m_s": -u * math.sin(rad), "v_m_s": -u * math.cos(rad)},
         "turbulence": {"kh_m2_s": 2000.0, "mixing_height_m": 1000.0},
         "releases": [{"type": "point", "name": "stack", "lat": 51.0, "lon": 7.0, "height_m": STACK_H,
                       "rate_kg_s": 50.0, "stop_h": 1,
                       "stack": {"diameter_m": 4.0, "exit_velocity_m_s": 20.0, "exit_temperature_c": 150.0}}],
         "local_weather": {"wind_speed_m_s": u, "wind_from_deg": 240, "stability": "D", "air_temperature_c": 3.0,
                           "terrain": "rural", "mixing_height_m": 1000.0},
         "near_field": {"terrain": "rural"}}
    d.update(over)
    return d


AUDIT_KM = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0)


def test_run_and_zones_agree_for_the_same_stack_in_the_same_wind():
    """One scenario, one 4 m/s wind: run's near-field plume of the stack and zones' plume
    agree to 1e-5 at 1-5 km (the steady plume during the release; zones' finite-duration
    factor is 1 there). Before, run took the 4 m/s at the stack top where zones takes
    4.9 m/s (the power law): 17, 8.2 and 5.2 times less air than zones at 2, 2.5 and 3 km."""
    rad = math.radians(60.0)  # downwind of a wind from 240 degrees
    pts = []
    for k in AUDIT_KM:
        x, y = k * 1000.0 * math.sin(rad), k * 1000.0 * math.cos(rad)
        pts.append({"name": f"r{k:g}", "lat": 51.0 + math.degrees(y / R_EARTH),
                    "lon": 7.0 + math.degrees(x / (R_EARTH * math.cos(math.radians(51.0)))), "population": 10})
    d = _audit_dict(receptors={"points": pts})
    res = run(scenario_from_dict(d))
    c_run = res.exposure.total()[9]  # 45-50 min into the hour-long release: steady beyond 5 km
    zd = {"agent": d["agent"], "local_weather": d["local_weather"],
          "releases": [{**{k: v for k, v in d["releases"][0].items() if k != "stop_h"}, "duration_s": 3600,
                        "dense_gas": "off"}]}
    setup = plume_setup(zones_from_dict(zd).scenario)
    assert setup.wind_speed_m_s == pytest.approx(power_law_wind_speed(4.0, STACK_H, "D", "rural"))
    x = np.array(AUDIT_KM) * 1000.0
    c_zones = peak_concentration(setup, x, np.zeros_like(x))
    assert (c_zones > 0).all()
    np.testing.assert_allclose(c_run, c_zones, rtol=1e-5)


# --------------------------------------------------------------------------- no stack: unchanged


def test_a_plume_without_a_stack_keeps_the_lowest_level_wind_bit_for_bit(met_paths):
    winds = run_winds(_scenario(_file_met(met_paths)))
    wind_at = winds.wind_at()
    plain = wind_at.lowest  # the lowest level's wind, as the plume took it before

    def source(stack: tuple | None) -> NearFieldSource:  # type: ignore[type-arg]
        return NearFieldSource(group=0, lat=LAT0, lon=LON0, height_m=STACK_H, pg_class="D", terrain="rural",
                               mixing_height_m=LID, decay_rate_s=0.0, rate_at=lambda t: np.full(np.shape(t), RATE),
                               stack=stack)

    lat = LAT0 + np.linspace(-0.02, 0.02, 9)
    lon = LON0 + np.linspace(0.005, 0.06, 9)
    edges = np.array([0.0])
    no_stack = source(None)
    a = no_stack.step_mean_at(lat, lon, 2400.0, 3000.0, 30e3, wind_at, edges)[0]
    b = no_stack.step_mean_at(lat, lon, 2400.0, 3000.0, 30e3, plain, edges)[0]
    assert (a > 0).any()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(no_stack.concentration_at(lat, lon, 2700.0, 30e3, wind_at)[0],
                                  no_stack.concentration_at(lat, lon, 2700.0, 30e3, plain)[0])
    # with a stack, the wind at its top (here faster than the 10 m wind): not the same plume
    stacked = source((1.5, 10.0, 400.0, 278.0))
    assert not np.array_equal(stacked.step_mean_at(lat, lon, 2400.0, 3000.0, 30e3, wind_at, edges)[0],
                              stacked.step_mean_at(lat, lon, 2400.0, 3000.0, 30e3, plain, edges)[0])
