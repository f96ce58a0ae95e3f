"""A dense release of seconds in the zones (session 41): its crosswind and upwind spread are bounded by the whole
mass released at once, and a puff's spread against the wind is drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from plumecast.nearfield.zones import compute_zones, read_zones_scenario
from plumecast.nearfield.zones.setup import lateral_sigma_y

SCENARIO = """\
name: short
start: 2026-03-10T14:00:00Z
agent: chlorine
releases:
  - {{type: point, lat: 49.49, lon: 8.40, height_m: 1, amount_kg: {amount}, duration_s: {duration}}}
local_weather: {{wind_speed_m_s: 1.5, wind_from_deg: 270, stability: F, terrain: urban, air_temperature_c: 15}}
"""


def _zones(tmp_path: Path, amount: float, duration: float):  # type: ignore[no-untyped-def]
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(amount=amount, duration=duration))
    return compute_zones(read_zones_scenario(path, None).scenario, consequences=False)


def test_a_release_of_seconds_is_no_wider_than_its_whole_mass_at_once(tmp_path: Path) -> None:
    """5 t of chlorine over 10 s: the steady plume of its 500 kg/s, a release lasting for ever, had made the
    AEGL-3 zone 12.6 km wide within 6 m of the source and 1.6 km upwind (17 km2), where the whole mass at once
    spreads about 60 m across. The crosswind sigma is now never above the whole puff's when the release's last
    gas passes (u T + x of travel), and the upwind reach never beyond the puff's."""
    res = _zones(tmp_path, 5000.0, 10.0)
    setup = res.setup
    assert setup.dense is not None and setup.instantaneous is not None
    u, t_d = setup.wind_speed_m_s, setup.duration_s
    x = np.array([0.5, 1.0, 3.0, 6.0, 10.0, 30.0, 100.0, 1000.0])
    from plumecast.nearfield.zones.setup import _sigmas

    bound = np.maximum(_sigmas(setup.instantaneous, x + u * t_d)[0], _sigmas(setup.instantaneous, x)[0])
    assert np.all(lateral_sigma_y(setup, x) <= bound * (1 + 1e-12))
    z3 = next(z for z in res.zones if z.level.name == "AEGL-3")
    minx, miny, maxx, maxy = z3.polygon_local.bounds
    assert maxx > 2000.0  # its reach downwind is the puff's, as before (2.6 km)
    near = z3.polygon_local.intersection(shapely.box(0.0, -1e5, 10.0, 1e5))
    assert near.bounds[3] - near.bounds[1] < 1000.0  # not 12.6 km
    assert -minx < 50.0 and z3.polygon_local.area < 3e6
    assert any("whole release at once" in w for w in res.warnings)


def test_a_puffs_spread_against_the_wind_is_drawn(tmp_path: Path) -> None:
    """A puff's slumping (R^2 = R0^2 + c t, its centre carried at u) reaches upwind to max_t R(t) - u t; it had
    not been drawn (left item of session 40)."""
    res = _zones(tmp_path, 5000.0, 0.0)
    d = res.setup.dense
    assert d is not None and d.kind == "instantaneous"
    u = res.setup.wind_speed_m_s
    r0, c = d.puff_slumping()
    t = np.linspace(0.0, 3600.0, 720001)
    reach = float(np.max(np.sqrt(r0**2 + c * t) - u * t))
    assert d.upwind_extent_m(u) == pytest.approx(reach, rel=1e-6) and reach > r0
    for z in res.zones:
        assert z.polygon_local.bounds[0] == pytest.approx(-reach, rel=1e-6) and z.polygon.is_valid
    assert any("the slumping against the wind of the puff" in w for w in res.warnings), res.warnings
    # a puff too light to outrun the wind's carriage reaches upwind by its initial radius alone
    calm = d.upwind_extent_m(1e3)
    assert calm == pytest.approx(r0)


@pytest.mark.parametrize(("amount", "duration"), [(5000.0, 1.0), (20000.0, 5.0), (40000.0, 10.0)])
def test_a_release_of_seconds_is_not_refused_for_its_steady_plumes_width(tmp_path: Path, amount: float,
                                                                         duration: float) -> None:
    """The range check measured the steady plume of a release lasting for ever: 5 t of chlorine over 1 s was
    refused as "already 160 km wide" while the same mass at once ran, and run then took such a release passive,
    35x too high at 300 m (review of session 41). The check now reads the cloud the zones draw; the release
    reads as its whole mass at once, within a few per cent."""
    res = _zones(tmp_path, amount, duration)
    # run's near-field plume of the same release (plume_setup, as run calls it) is dense, not the passive fallback
    from plumecast.nearfield.zones import plume_setup

    assert plume_setup(read_zones_scenario(tmp_path / "s.yaml", None).scenario).dense is not None
    at_once = _zones(tmp_path, amount, 0.0)
    z, z0 = (next(z for z in r.zones if z.level.name == "AEGL-3").polygon_local for r in (res, at_once))
    assert z.bounds[2] == pytest.approx(z0.bounds[2], rel=0.05)
    assert z.area == pytest.approx(z0.area, rel=0.05)


def test_a_puffs_zones_take_in_the_ground_its_slumping_discs_cover(tmp_path: Path) -> None:
    """The crosswind profile takes a puff when its centre passes a place, and drew 50 t of chlorine at once in
    1.5 m/s 23 m to each side at the source, while the cloud (R^2 = R0^2 + c t, centre carried at u) slumps
    there to sqrt(R0^2 + c^2/4u^2) = 206 m before the wind carries it off (review of session 41). The zones now
    take in the union of its discs while their centres lie in the zone; the places they add have an unknown
    concentration, as upwind; the zone's reach downwind is unchanged."""
    from shapely.geometry import Point

    from plumecast.nearfield.zones.near_source import puff_envelope

    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(amount=50000.0, duration=0.0)
                    + "receptors:\n  points:\n    - {name: beside, lat: 49.491618, lon: 8.400277, population: 5}\n")
    # 20 m downwind, 180 m to the left
    res = compute_zones(read_zones_scenario(path, None).scenario, consequences=False)
    d, u = res.setup.dense, res.setup.wind_speed_m_s
    assert d is not None and d.kind == "instantaneous"
    r0, c = d.puff_slumping()
    half = np.sqrt(r0**2 + c**2 / (4 * u**2))
    assert 150.0 < half < 300.0
    z3 = next(z for z in res.zones if z.level.name == "AEGL-3")
    at_source = z3.polygon_local.intersection(shapely.box(-0.01, -1e5, 0.01, 1e5))
    assert at_source.bounds[3] == pytest.approx(half, rel=2e-3) and at_source.bounds[1] == pytest.approx(-half, rel=2e-3)
    # the envelope is the union of the discs: against shapely's union of 4000 of them
    t_end = min(z3.max_distance_m, d.curves_end_m) / u
    discs = shapely.union_all([Point(u * t, 0.0).buffer(float(np.sqrt(r0**2 + c * t)), 64)
                               for t in np.linspace(0.0, t_end, 4000)])
    discs = discs.intersection(shapely.box(-1e6, -1e6, z3.max_distance_m, 1e6))
    env = puff_envelope(res.setup, min(z3.max_distance_m, d.curves_end_m), z3.max_distance_m)
    assert env.symmetric_difference(discs).area < 2e-3 * discs.area
    assert z3.polygon_local.covers(env.buffer(-0.5))
    # the reach downwind is the axis model's: the discs add nothing past its tip
    assert env.bounds[2] <= z3.max_distance_m and z3.polygon_local.bounds[2] > z3.max_distance_m
    # a place the discs add, outside the profile of the cloud as its centre passes: unknown, never a value
    pts = res.points
    assert pts is not None
    k = list(pts["point"].values).index("beside")
    x, y = float(pts["x_m"][k]), float(pts["y_m"][k])
    assert 15.0 < x < 25.0 and 170.0 < abs(y) < 190.0
    assert z3.spread_local.covers(Point(x, y)) and bool(pts["too_near"][k])
    assert np.isnan(pts["outdoor_ppm"].values[:, k]).all()
    assert any("slumping cloud covers" in w and "to each side at the source" in w for w in res.warnings)
