"""Threat zones: geometry, nesting, exports, scenario validation."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely
import xarray as xr
import yaml
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
        assert c_tip == pytest.approx(z.threshold_at_tip_kg_m3, rel=0.02)


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
    """Receptor figures come from plumecast.consequence.assess (one implementation)."""
    from scipy.stats import norm

    from plumecast.receptors import Receptors

    s = _scenario()
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [500.0, 3000.0, 2000.0], [0.0, 0.0, 5000.0])
    rec = Receptors(name=["near", "far", "aside"], lat=lat, lon=lon, population=[1000.0, 1000.0, 1000.0])
    res = compute_zones(s, receptors=rec)
    ds = res.receptors
    assert ds is not None and list(ds.receptor.values) == ["near", "far"]
    assert ds["peak_concentration"].attrs["units"] == "kg m-3"
    assert ds["peak_concentration_ppm"].values[0] > ds["peak_concentration_ppm"].values[1]
    assert ds["zone_index"].values[0] == 2  # inside AEGL-3
    assert ds["peak_percent_lethal_level"].values[0] > 100.0
    assert ds.attrs["probit_set"] != "" and "toxic_load" in ds and "probit" in ds
    # fatalities = population x Phi(Pr - 5), outdoors; sheltering (0.5 ACH default) lowers them
    frac = norm.cdf(ds["probit"].values - 5.0)
    np.testing.assert_allclose(ds["fatalities"].values, 1000.0 * frac, rtol=1e-9, atol=1e-12)
    assert 0 < ds["fatalities"].values[0] <= 1000
    assert np.all(ds["fatalities_sheltered"].values <= ds["fatalities"].values + 1e-12)
    assert ds["fatalities_sheltered"].values[0] < ds["fatalities"].values[0]
    assert np.isfinite(ds["hours_to_aegl3"].values[0])
    # the zone table counts the people inside each zone
    rows = res.table()
    assert rows[0]["population_inside"] == 2000.0 and rows[2]["population_inside"] == 1000.0


def test_zone_series_matches_direct_assess():
    """compute_zones passes the Palazzi series to consequence.assess unchanged in meaning."""
    from plumecast.consequence import assess
    from plumecast.receptors import Receptors
    from plumecast.zones import concentration_series

    s = _scenario()
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [800.0], [0.0])
    res = compute_zones(s, receptors=Receptors(name=["r"], lat=lat, lon=lon, population=[100.0]))
    setup = plume_setup(s)
    t = np.arange(1.0, 6001.0, 1.0)
    c = concentration_series(setup, np.array([800.0]), np.array([0.0]), t - 0.5)
    da = xr.DataArray(c, dims=("time", "receptor"), coords={"time": t}, attrs={"units": "kg m-3"})
    direct = assess(da, s.agent, [100.0], start=0.0, keep_timeseries=False)
    assert float(res.receptors["toxic_load"][0]) == pytest.approx(float(direct["toxic_load"][0]), rel=0.02)
    assert float(res.receptors["fatalities"][0]) == pytest.approx(float(direct["fatalities"][0]), rel=0.05, abs=1e-6)


def test_receptor_csv_inside_zone_and_shelter(tmp_path):
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [600.0, 1500.0], [0.0, 30.0])
    (tmp_path / "people.csv").write_text(
        f"name,lat,lon,population\nschool,{lat[0]:.6f},{lon[0]:.6f},400\nfarm,{lat[1]:.6f},{lon[1]:.6f},12\n"
    )
    data = _scenario().model_dump(mode="json")
    data["receptors"] = {"cities": False, "csv": "people.csv"}
    data["shelter"] = {"air_changes_per_hour": 0.3, "compliance_fraction": 0.8}
    (tmp_path / "sc.yaml").write_text(yaml.safe_dump(data))
    s = load_local_scenario(tmp_path / "sc.yaml")
    res = compute_zones(s)
    ds = res.receptors
    assert ds is not None and list(ds.receptor.values) == ["school", "farm"]
    assert list(ds["population"].values) == [400.0, 12.0]
    assert ds.attrs["shelter_air_changes_per_hour"] == 0.3
    assert ds.attrs["shelter_compliance_fraction"] == 0.8
    assert list(ds["zone_index"].values) == [2, 1]  # school in AEGL-3, farm in AEGL-2
    assert np.all(ds["fatalities_sheltered"].values <= ds["fatalities"].values)
    assert ds["fatalities_sheltered"].values[0] < ds["fatalities"].values[0]
    rows = res.table()
    assert rows[2]["population_inside"] == 400.0 and rows[1]["population_inside"] == 412.0
    gj = to_geojson(res)
    pts = [f["properties"] for f in gj["features"] if f["properties"]["kind"] == "receptor"]
    assert pts[0]["name"] == "school" and pts[0]["zone"] == "AEGL-3"
    assert pts[0]["fatalities"] > pts[0]["fatalities_sheltered"] >= 0
    json.dumps(gj, allow_nan=False)  # valid JSON: no NaN


def test_aegl_read_at_cloud_passage_time():
    """A 10-min release is compared with AEGLs for its ~10-min exposure, not a fixed 30 min."""
    from plumecast.agents import get_agent
    from plumecast.zones import exposure_duration, level_threshold

    data = _scenario().model_dump()
    data["release"] = {"rate_kg_s": 5.0, "duration_s": 600}
    s = LocalScenario.model_validate(data)
    setup = plume_setup(s)
    d = exposure_duration(setup, np.array([100.0, 1000.0, 50_000.0]))
    assert d[0] == pytest.approx(600.0, rel=1e-6) and d[0] <= d[1] < d[2]
    res = compute_zones(s, consequences=False)
    agent = get_agent("chlorine")
    z3 = res.zones[2]
    assert z3.threshold_at_tip_kg_m3 == pytest.approx(
        agent.aegl_kg_m3(3, z3.exposure_duration_at_tip_s), rel=1e-3
    )
    lv = z3.level
    assert level_threshold(lv, agent, setup, np.array([100.0]))[0] == pytest.approx(agent.aegl_kg_m3(3, 600.0))
    fixed = compute_zones(LocalScenario.model_validate({**data, "exposure_duration_s": 1800}), consequences=False)
    assert fixed.zones[2].exposure_duration_at_tip_s == 1800.0
    assert fixed.zones[2].max_distance_m > z3.max_distance_m  # 30-min AEGL-3 (28 ppm) < 10-min (50 ppm)


def test_graniteville_example_loads():
    s = load_local_scenario(EXAMPLE)
    res = compute_zones(s, consequences=False)
    assert res.setup.pg_class == "F"
    assert res.zones[-1].max_distance_m > 1000.0


# --------------------------------------------------------------------------- CLI (installed app)


def _write_scenario(tmp_path, receptors):
    data = _scenario().model_dump(mode="json")
    data["receptors"] = receptors
    path = tmp_path / "sc.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _invoke(args):
    from typer.testing import CliRunner

    from plumecast.cli import app

    return CliRunner().invoke(app, args, env={"COLUMNS": "250"})


def test_cli_zones_units_people_and_files(tmp_path):
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [600.0], [0.0])
    (tmp_path / "people.csv").write_text(f"name,lat,lon,population\nschool,{lat[0]:.6f},{lon[0]:.6f},400\n")
    sc = _write_scenario(tmp_path, {"cities": False, "csv": "people.csv"})
    r = _invoke(["zones", str(sc), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    for header in ("threshold at tip [ppm]", "AEGL exposure [min]", "max downwind distance [km]", "area [km²]",
                   "people inside [people]", "peak [ppm]", "peak % of lethal level", "deaths outdoors [people]",
                   "deaths sheltered [people]", "toxic load ["):
        assert header in r.output, header
    assert "school" in r.output and "expected deaths, all receptors" in r.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["zones.geojson", "zones.kml", "zones.png"]


def test_cli_zones_people_zero_vs_not_searched(tmp_path):
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [-5000.0], [0.0])  # upwind: never inside
    (tmp_path / "people.csv").write_text(f"name,lat,lon,population\nupwind,{lat[0]:.6f},{lon[0]:.6f},50\n")
    searched = _invoke(["zones", str(_write_scenario(tmp_path, {"cities": False, "csv": "people.csv"})),
                        "-o", str(tmp_path / "a")])
    assert searched.exit_code == 0, searched.output
    rows = [ln for ln in searched.output.splitlines() if ln.startswith("│ AEGL-")]
    assert len(rows) == 3 and all(ln.rstrip(" │|").split()[-1] == "0" for ln in rows), rows
    assert "—" not in searched.output and "0 people" in searched.output
    skipped = _invoke(["zones", str(_write_scenario(tmp_path, {"cities": False, "csv": "people.csv"})),
                       "-o", str(tmp_path / "b"), "--no-receptors"])
    assert skipped.exit_code == 0, skipped.output
    rows = [ln for ln in skipped.output.splitlines() if ln.startswith("│ AEGL-")]
    assert len(rows) == 3 and all("—" in ln for ln in rows)
    assert "not searched" in skipped.output


BAD = {
    "unknown_key": ("meteorology: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D, gustiness: 2}",
                    "meteorology.gustiness"),
    "wrong_type": ("meteorology: {wind_speed_m_s: fast, wind_from_deg: 270, stability: D}",
                   "meteorology.wind_speed_m_s"),
    "negative_rate": ("meteorology: {wind_speed_m_s: 3, wind_from_deg: 270, stability: D}\n"
                      "release: {rate_kg_s: -2, duration_s: 600}", "release.rate_kg_s"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_cli_bad_scenario_exit_2(tmp_path, case):
    import subprocess
    import sys

    text, key = BAD[case]
    body = "source: {lat: 45, lon: 5}\nagent: chlorine\n" + text + "\n"
    if "release:" not in text:
        body += "release: {rate_kg_s: 2, duration_s: 600}\n"
    bad = tmp_path / f"bad_{case}.yaml"
    bad.write_text(body)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "plumecast", "zones", str(bad), "-o", str(out)],
        capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "COLUMNS": "250"},
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert bad.name in r.stderr and key in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not out.exists() or not any(out.iterdir())
