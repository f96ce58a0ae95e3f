"""Threat zones: geometry, nesting, exports, scenario validation."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from plumecast.errors import ScenarioError
from plumecast.zones import (
    LocalScenario,
    compute_zones,
    load_local_scenario,
    peak_concentration,
    plume_setup,
    to_geojson,
    to_kml,
    to_local,
    to_lonlat,
    write_outputs,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "graniteville_2005.yaml"


def _scenario(**met) -> LocalScenario:
    base = {"wind_speed_m_s": 3.0, "wind_from_deg": 270.0, "stability": "D"}
    base.update(met)
    return LocalScenario.model_validate(
        {
            "name": "test",
            "source": {"lat": 45.0, "lon": 5.0, "height_m": 2.0},
            "release": {"rate_kg_s": 2.0, "duration_s": 1800},
            "agent": "chlorine",
            "meteorology": base,
            "receptors": {"cities": False},
        }
    )


@pytest.mark.parametrize("cls", ["A", "D", "F"])
def test_zones_valid_and_nested(cls):
    res = compute_zones(_scenario(stability=cls), consequences=False)
    assert [z.level.name for z in res.zones] == ["AEGL-1", "AEGL-2", "AEGL-3"]
    for z in res.zones:
        assert z.polygon.is_valid and z.polygon_local.is_valid and not z.polygon.is_empty
    for outer, inner in zip(res.zones[:-1], res.zones[1:], strict=True):
        assert outer.polygon_local.covers(inner.polygon_local)
        assert inner.polygon.difference(outer.polygon).area <= 1e-9 * inner.polygon.area
        assert outer.max_distance_m > inner.max_distance_m > 0


def test_zone_edge_is_at_threshold():
    res = compute_zones(_scenario(), consequences=False)
    setup = plume_setup(res.scenario)
    for z in res.zones:
        c_tip = peak_concentration(setup, np.array([z.max_distance_m]), np.array([0.0]))[0]
        assert c_tip == pytest.approx(z.level.threshold_kg_m3, rel=0.02)


def test_zone_points_downwind():
    res = compute_zones(_scenario(wind_from_deg=270.0), consequences=False)  # blows to the east
    c = res.zones[0].polygon.centroid
    assert c.x > 5.0 and c.y == pytest.approx(45.0, abs=1e-3)


def test_lonlat_roundtrip():
    x = np.array([100.0, 5000.0, 12000.0])
    y = np.array([-50.0, 300.0, 0.0])
    lon, lat = to_lonlat(33.0, -81.0, 123.0, x, y)
    x2, y2 = to_local(33.0, -81.0, 123.0, lon, lat)
    assert np.allclose(x2, x) and np.allclose(y2, y)


def test_geojson_and_kml_parse(tmp_path):
    res = compute_zones(_scenario(), consequences=False)
    gj = json.loads(json.dumps(to_geojson(res)))
    zones = [f for f in gj["features"] if f["properties"]["kind"] == "threat_zone"]
    assert len(zones) == 3
    assert all(shape(f["geometry"]).is_valid for f in zones)
    root = ET.fromstring(to_kml(res).encode())
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Polygon", ns)) == 3
    coords = root.find(".//k:Polygon//k:coordinates", ns).text.split()
    lon, lat, _ = map(float, coords[0].split(","))
    assert 4.9 < lon < 6.0 and 44.9 < lat < 45.1
    paths = write_outputs(res, tmp_path)
    assert [p.suffix for p in paths] == [".geojson", ".kml", ".png"]
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shapely.from_geojson(paths[0].read_text()).is_valid


def test_uncertainty_lines_and_low_wind():
    res = compute_zones(_scenario(), consequences=False)
    assert len(res.uncertainty_lines) == 2 and res.uncertainty_half_angle_deg == 20.0
    calm = compute_zones(_scenario(wind_speed_m_s=0.5), consequences=False)
    assert calm.uncertainty_half_angle_deg == 180.0 and calm.uncertainty_lines == []
    assert any("below 1.5 m/s" in w for w in calm.warnings)


def test_stability_routes():
    assert plume_setup(_scenario(stability=None, obukhov_length_m=-5.0)).pg_class == "A"
    s = _scenario(stability=None, daytime=False, cloud_cover_octas=1, wind_speed_m_s=2.5)
    assert plume_setup(s).pg_class == "F"


def test_instantaneous_release_zones():
    data = _scenario().model_dump()
    data["release"] = {"amount_kg": 500.0, "duration_s": 0}
    s = LocalScenario.model_validate(data)
    res = compute_zones(s, consequences=False)
    assert res.zones[2].max_distance_m > 0


def test_scenario_errors_name_key(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "source: {lat: 45, lon: 5}\nrelease: {rate_kg_s: -1}\nagent: chlorine\n"
        "meteorology: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}\n"
    )
    with pytest.raises(ScenarioError, match=r"bad.yaml: release.rate_kg_s"):
        load_local_scenario(p)
    p.write_text("source: {lat: 45, lon: 5}\nrelease: {rate_kg_s: 1}\nagent: chlorine\nmeteorology: {wind_speed_m_s: 3, wind_from_deg: 270}\n")
    with pytest.raises(ScenarioError, match="meteorology"):
        load_local_scenario(p)


def test_receptors_and_consequences():
    from plumecast.receptors import Receptors

    s = _scenario()
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [500.0, 3000.0, 2000.0], [0.0, 0.0, 5000.0])
    rec = Receptors(name=["near", "far", "aside"], lat=lat, lon=lon, population=[1000.0, 1000.0, 1000.0])
    res = compute_zones(s, receptors=rec)
    ds = res.receptors
    assert ds is not None and list(ds.receptor.values) == ["near", "far"]
    assert ds["peak_concentration"].attrs["units"] == "kg m-3"
    assert ds["peak_ppm"].values[0] > ds["peak_ppm"].values[1]
    assert ds["zone_index"].values[0] == 2  # inside AEGL-3
    assert 0 < ds["expected_fatalities"].values[0] <= 1000


def test_graniteville_example_loads():
    s = load_local_scenario(EXAMPLE)
    res = compute_zones(s, consequences=False)
    assert res.setup.pg_class == "F"
    assert res.zones[-1].max_distance_m > 1000.0
