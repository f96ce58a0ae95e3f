"""Golder's (1972) lines read past the roughness where they cross (dense audit): unstable
air must stay unstable and stable air stable however rough the surface given."""

from __future__ import annotations

import pytest

from plumecast.nearfield.stability import (
    GOLDER_MAX_ROUGHNESS_M,
    pasquill_gifford_class_from_obukhov,
)


@pytest.mark.parametrize("z0", [0.01, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0])
def test_the_sign_of_the_obukhov_length_keeps_its_side_of_neutral(z0):
    for length in (-10.0, -50.0, -200.0, -1000.0):
        assert pasquill_gifford_class_from_obukhov(length, z0) in ("A", "B", "C", "D"), (length, z0)
    for length in (10.0, 50.0, 200.0, 1000.0):
        assert pasquill_gifford_class_from_obukhov(length, z0) in ("D", "E", "F"), (length, z0)
    assert pasquill_gifford_class_from_obukhov(float("inf"), z0) == "D"
    # strongly unstable and stable air are off neutral at every roughness
    assert pasquill_gifford_class_from_obukhov(-10.0, z0) in ("A", "B")
    assert pasquill_gifford_class_from_obukhov(10.0, z0) == "F"


def test_a_rougher_surface_reads_the_class_at_the_largest_roughness_and_says_so(tmp_path):
    from plumecast.nearfield.zones import compute_zones
    from plumecast.nearfield.zones.scenario import load_local_scenario

    def zones(z0):
        path = tmp_path / f"z0_{z0}.yaml"
        path.write_text(
            "name: golder\nagent: chlorine\nreleases:\n"
            "  - {type: point, lat: 51.45, lon: 6.75, height_m: 1, rate_kg_s: 5, duration_s: 1800}\n"
            "local_weather: {wind_speed_m_s: 3, wind_from_deg: 270, obukhov_length_m: -200, "
            f"roughness_length_m: {z0}, terrain: urban}}\n")
        return compute_zones(load_local_scenario(path), consequences=False)

    rough, at_limit = zones(2.0), zones(GOLDER_MAX_ROUGHNESS_M)
    # unstable air over a city centre (it had read class E, stable, and AEGL-1 at 33 km)
    assert rough.setup.pg_class == at_limit.setup.pg_class == "C"
    assert any("Golder" in w and "2 m given" in w for w in rough.warnings)
    assert not any("Golder" in w for w in at_limit.warnings)
