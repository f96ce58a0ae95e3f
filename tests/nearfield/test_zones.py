"""Threat zones: geometry, nesting, exports, scenario validation."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely
import xarray as xr
import yaml
from shapely.geometry import shape

from plumecast.errors import ScenarioError
from plumecast.nearfield.zones import (
    LocalScenario,
    compute_zones,
    legend_labels,
    load_local_scenario,
    peak_concentration,
    plume_setup,
    to_geojson,
    to_kml,
    to_local,
    to_lonlat,
    write_outputs,
)
from plumecast.nearfield.zones.export import distance_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "graniteville_2005.yaml"


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
    """At each zone's tip the axis series just reaches the level (onset convention: the onset from the air's
    most, which the windows of exposure_windows carry; session 50)."""
    from plumecast.consequence import onset_floor
    from plumecast.nearfield.zones import (
        exposure_time_axis,
        level_ratio,
        level_table_kg_m3,
    )
    from plumecast.nearfield.zones.plume import exposure_windows

    res = compute_zones(_scenario(), consequences=False)
    setup = plume_setup(res.scenario)
    ends = exposure_time_axis(setup)
    floor = onset_floor(res.agent)
    for z in res.zones:
        tab = level_table_kg_m3(z.level, res.agent)
        c = exposure_windows(setup, np.array([z.max_distance_m, 1.01 * z.max_distance_m]), np.zeros(2), ends)
        ratio, elapsed = level_ratio(c, ends, tab, floor)
        assert ratio[0] >= 1.0 > ratio[1]
        assert elapsed[0] == pytest.approx(z.exposure_duration_at_tip_s)
        c_tip = peak_concentration(setup, np.array([z.max_distance_m]), np.array([0.0]))[0]
        assert c_tip >= z.threshold_at_tip_kg_m3  # the analytic peak exceeds the interval means


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
    # exterior rings counterclockwise, as RFC 7946 section 3.1.6 asks (zones audit, session 40)
    assert all(shapely.geometry.LinearRing(shape(f["geometry"]).exterior.coords).is_ccw for f in zones)
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
    with pytest.raises(ScenarioError, match=r"bad.yaml, line 2: release.rate_kg_s"):
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
    assert ds["peak_percent_aegl3"].values[0] > 100.0
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
    assert rows[0]["receptor_people_inside"] == 2000.0 and rows[2]["receptor_people_inside"] == 1000.0
    assert all(np.isnan(r["people_inside"]) for r in rows)  # no raster: unknown, not 0
    assert all("only the receptors given are counted" in r["people_basis"] for r in rows)


def test_zone_series_matches_direct_assess():
    """compute_zones passes the Palazzi series to consequence.assess unchanged in meaning."""
    from plumecast.consequence import assess
    from plumecast.nearfield.zones import concentration_series
    from plumecast.receptors import Receptors

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
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [600.0, 3000.0], [0.0, 30.0])
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
    assert rows[2]["receptor_people_inside"] == 400.0 and rows[1]["receptor_people_inside"] == 412.0
    gj = to_geojson(res)
    pts = [f["properties"] for f in gj["features"] if f["properties"]["kind"] == "receptor"]
    assert pts[0]["name"] == "school" and pts[0]["zone"] == "AEGL-3"
    assert pts[0]["fatalities"] > pts[0]["fatalities_sheltered"] >= 0
    json.dumps(gj, allow_nan=False)  # valid JSON: no NaN


def test_aegl_read_from_onset_floor_and_fixed_duration_rejected():
    """Each place's AEGL is read at the exposure elapsed since the onset floor was reached."""
    from plumecast.agents import get_agent

    data = _scenario().model_dump()
    data["release"] = {"rate_kg_s": 5.0, "duration_s": 600}
    s = LocalScenario.model_validate(data)
    res = compute_zones(s, consequences=False)
    agent = get_agent("chlorine")
    from plumecast.nearfield.zones.setup import _sigmas, plume_setup
    from plumecast.nearfield.zones.windowed import FRONT_LEAD_SIGMAS

    setup = plume_setup(s)
    for z in res.zones:
        # from the onset (at the advective front, FRONT_LEAD_SIGMAS sigma_x ahead of the release's first air: the
        # Gaussian tail further ahead is not air, windowed.front_time_s) to at least the first air's arrival, where
        # the concentration nears its peak (the duration had been at least the release's while that tail, far
        # ahead of the cloud, started the clock; cell audit)
        sx = float(_sigmas(setup, np.array([z.max_distance_m]))[0][0])
        assert z.exposure_duration_at_tip_s >= 0.99 * FRONT_LEAD_SIGMAS * sx / setup.wind_speed_m_s
        assert z.threshold_at_tip_kg_m3 == pytest.approx(agent.aegl_kg_m3(z.level.aegl, z.exposure_duration_at_tip_s),
                                                         rel=1e-3)
    with pytest.raises(ValueError, match="exposure_duration_s is no longer used"):
        LocalScenario.model_validate({**data, "exposure_duration_s": 1800})


def _ring_receptors(res, n_r=14, n_a=31):
    """Receptors on a polar grid around the AEGL-3 zone, in and out of the polygon."""
    from plumecast.receptors import Receptors

    z3 = res.zones[2]
    r = np.geomspace(0.05, 1.6, n_r) * z3.max_distance_m
    a = np.radians(np.linspace(-40.0, 40.0, n_a))
    rr, aa = np.meshgrid(r, a)
    x, y = (rr * np.cos(aa)).ravel(), (rr * np.sin(aa)).ravel()
    lon, lat = to_lonlat(45.0, 5.0, 90.0, x, y)
    names = [f"r{i}" for i in range(x.size)]
    return Receptors(name=names, lat=lat, lon=lon, population=np.full(x.size, 10.0)), x, y


@pytest.mark.parametrize("cls", ["D", "F"])
def test_receptors_outside_aegl3_polygon_never_reach_it(cls):
    """Polygons and receptor rows share one convention (issue 9): a receptor assessed at its own
    position outside the AEGL-3 polygon never reports >= 100 % of AEGL-3; one given the plume-axis
    value (uncertainty sector) reports >= 100 % only within the AEGL-3 distance."""
    from shapely.geometry import Point

    res0 = compute_zones(_scenario(stability=cls), consequences=False)
    rec, x, y = _ring_receptors(res0)
    # a zero-width uncertainty sector: every receptor is assessed at its own position
    res = compute_zones(_scenario(stability=cls, direction_uncertainty_deg=0.0), receptors=rec)
    ds = res.receptors
    z3 = res.zones[2]
    pct = ds["peak_percent_aegl3"].values
    own = ~ds["plume_axis_assumed"].values
    assert own.sum() > 40
    outside = np.array([not z3.polygon_local.covers(Point(a, b)) for a, b in zip(ds.x_m.values, ds.y_m.values,
                                                                                  strict=True)])
    assert np.all(pct[own & outside] < 100.0), pct[own & outside].max()
    assert np.sum(pct[own & ~outside] >= 100.0) > 10
    # the AEGL-3 countdown agrees with the % column
    np.testing.assert_array_equal(np.isfinite(ds["hours_to_aegl3"].values), pct >= 100.0)
    # default sector: receptors in it get the plume-axis value at their distance
    sec = compute_zones(_scenario(stability=cls), receptors=rec).receptors
    axis = sec["plume_axis_assumed"].values
    assert axis.sum() > 10
    pct = sec["peak_percent_aegl3"].values
    r = np.hypot(sec.x_m.values, sec.y_m.values)
    assert np.all(pct[axis & (r > z3.max_distance_m * 1.001)] < 100.0)
    assert np.all(pct[axis & (r < z3.max_distance_m * 0.98)] >= 100.0)


def test_trace_ahead_of_cloud_does_not_change_aegl_times():
    """A 1e-6 ppm trace hours ahead of the cloud cannot start the AEGL clock (onset floor)."""
    from plumecast.consequence import assess, onset_floor
    from plumecast.nearfield.zones import (
        exposure_series,
        exposure_time_axis,
        level_ratio,
        level_table_kg_m3,
    )
    from plumecast.units import ppm_to_kg_m3

    s = _scenario(wind_speed_m_s=1.0, stability="F")
    setup = plume_setup(s)
    ends = exposure_time_axis(setup)
    x = np.array([9000.0, 15000.0, 30000.0])
    clean = exposure_series(setup, x, np.zeros(3), ends)
    trace = float(ppm_to_kg_m3(1e-6, s.agent.molecular_weight_g_mol))
    arrival = x / setup.wind_speed_m_s
    early = ends[:, None] < arrival[None, :] - 7200.0  # hours ahead of the cloud
    assert early.any(axis=0).all()
    traced = np.where(early, np.maximum(clean, trace), clean)
    floor = onset_floor(s.agent)

    def times(series, fl):
        da = xr.DataArray(series, dims=("time", "receptor"), coords={"time": ends}, attrs={"units": "kg m-3"})
        ds = assess(da, s.agent, [1.0] * 3, start=0.0, keep_timeseries=False, onset_floor_kg_m3=fl)
        return np.array([ds[f"hours_to_aegl{k}"].values for k in (1, 2, 3)])

    np.testing.assert_array_equal(times(clean, floor), times(traced, floor))
    for lv in compute_zones(s, consequences=False).zones:
        tab = level_table_kg_m3(lv.level, s.agent)
        np.testing.assert_array_equal(level_ratio(clean, ends, tab, floor)[0], level_ratio(traced, ends, tab, floor)[0])
    # without the floor the same trace would start the clock early and change the answer
    assert not np.array_equal(times(clean, 0.0), times(traced, 0.0), equal_nan=True)


def test_receptor_results_do_not_depend_on_other_receptors():
    from plumecast.receptors import Receptors

    s = _scenario()
    reach = compute_zones(s, consequences=False).zones[0].max_distance_m
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [900.0, 2500.0, 0.9 * reach], [40.0, -300.0, 0.0])

    def run(ix):
        rec = Receptors(name=np.array(["a", "b", "far"])[ix], lat=lat[ix], lon=lon[ix], population=[100.0] * len(ix))
        return compute_zones(s, receptors=rec).receptors

    alone, pair, three = run([0]), run([0, 1]), run([0, 1, 2])
    assert pair.sizes["receptor"] == 2 and three.sizes["receptor"] == 3
    for name in ("peak_concentration", "peak_percent_aegl3", "toxic_load", "fatalities", "fatalities_sheltered",
                 "hours_to_aegl1", "hours_to_aegl2", "hours_to_aegl3", "hours_to_aegl3_sheltered", "shelter_end_s"):
        a = alone[name].values[0]
        np.testing.assert_array_equal(pair[name].values[0], a, err_msg=name)
        np.testing.assert_array_equal(three[name].values[0], a, err_msg=name)
    assert float(alone["fatalities_sheltered"][0]) < float(alone["fatalities"][0])


def test_receptor_table_fits_a_narrow_terminal():
    """At 80 columns the receptor table's 13 columns had been folded a few characters wide, each name cut into
    pieces ("Gel/sen/kir/che/n"; first-hour audit, session 40): it is now split into parts whose columns fit,
    each led by the receptor's name, every figure whole."""
    from rich.console import Console

    from plumecast.cli.zones import _receptor_rows, _receptor_tables
    from plumecast.receptors import Receptors

    lon, lat = to_lonlat(45.0, 5.0, 90.0, [900.0, 2500.0], [40.0, -300.0])
    rec = compute_zones(_scenario(), receptors=Receptors(name=["Gelsenkirchen-Buer", "Oberhausen"], lat=lat,
                                                         lon=lon, population=[270_000.0, 220_000.0])).receptors
    head, body = _receptor_rows(rec, ["AEGL-1", "AEGL-2", "AEGL-3"])
    tables = _receptor_tables(rec, ["AEGL-1", "AEGL-2", "AEGL-3"], width=80)
    assert len(tables) > 1 and len(_receptor_tables(rec, ["AEGL-1", "AEGL-2", "AEGL-3"], width=400)) == 1
    shown = []
    for t in tables:
        console = Console(width=80, record=True, color_system=None)
        console.print(t)
        text = console.export_text()
        assert max(len(ln.rstrip()) for ln in text.splitlines()) <= 80
        assert "Gelsenkirchen-Buer" in text and "Oberhausen" in text  # every part led by the whole name
        shown.append(text)
    for row in body:  # every figure whole, in some part
        for cell in row[1:]:
            assert all(word in "\n".join(shown) for word in cell.split()), cell
    assert sum(len(t.columns) - 1 for t in tables) == len(head) - 1  # no column lost or repeated


def test_point_receptor_without_population_is_unknown(tmp_path):
    from plumecast.receptors import Receptors

    lon, lat = to_lonlat(45.0, 5.0, 90.0, [700.0, 1200.0], [0.0, 0.0])
    rec = Receptors(name=["unknown-people", "farm"], lat=lat, lon=lon, population=[np.nan, 12.0])
    res = compute_zones(_scenario(), receptors=rec)
    ds = res.receptors
    assert np.isnan(ds["population"].values[0]) and np.isnan(ds["fatalities"].values[0])
    assert ds["fatalities"].values[1] > 0
    rows = res.table()
    assert rows[0]["receptors_unknown_population"] == 1 and rows[0]["receptor_people_inside"] == 12.0
    pts = [f["properties"] for f in to_geojson(res)["features"] if f["properties"]["kind"] == "receptor"]
    assert pts[0]["population"] is None and pts[0]["fatalities"] is None
    from rich.console import Console

    from plumecast.cli.zones import _receptor_table

    console = Console(width=250, record=True)
    console.print(_receptor_table(ds, [z.level.name for z in res.zones]))
    line = next(ln for ln in console.export_text().splitlines() if "unknown-people" in ln)
    assert "unknown" in line.replace("unknown-people", "") and " 0 " not in line


def test_population_raster_counts_people_in_zones(tmp_path):
    """People in each zone from a netCDF raster = the analytic sum of the cells inside it."""
    base = compute_zones(_scenario(), consequences=False)
    z3 = base.zones[2].polygon
    minx, miny, maxx, maxy = z3.bounds
    d = (maxy - miny) / 6.0  # cells a sixth of the AEGL-3 zone's width
    lon_e = np.arange(minx - 3 * d, maxx + 3 * d, d)
    lat_e = np.arange(miny - 3 * d, maxy + 3 * d, d)
    ny, nx = lat_e.size - 1, lon_e.size - 1
    x0, y0 = np.meshgrid(lon_e[:-1], lat_e[:-1])
    boxes = shapely.box(x0, y0, x0 + d, y0 + d)
    in3 = shapely.contains(z3, boxes)
    apart = ~shapely.intersects(z3, boxes)
    values = np.zeros((ny, nx))
    values[in3] = np.random.default_rng(3).uniform(10, 100, in3.sum())
    values[apart] = 1000.0  # people outside the AEGL-3 zone: not counted in it
    assert in3.sum() >= 5 and apart.sum() >= 5
    lat_c = 0.5 * (lat_e[1:] + lat_e[:-1])
    lon_c = 0.5 * (lon_e[1:] + lon_e[:-1])
    xr.Dataset(
        {"pop": (("lat", "lon"), values, {"units": "1"})},
        coords={"lat": ("lat", lat_c, {"units": "degrees_north"}), "lon": ("lon", lon_c, {"units": "degrees_east"})},
    ).to_netcdf(tmp_path / "pop.nc")
    data = _scenario().model_dump(mode="json")
    data["population"] = {"raster": "pop.nc"}
    (tmp_path / "sc.yaml").write_text(yaml.safe_dump(data))
    res = compute_zones(load_local_scenario(tmp_path / "sc.yaml"), consequences=False)
    rows = res.table()
    assert rows[2]["people_inside"] == pytest.approx(values[in3].sum(), rel=1e-9)
    assert rows[2]["people_unknown_area_km2"] == 0.0 and "pop.nc" in rows[2]["people_basis"]
    # the AEGL-1 zone reaches beyond this small raster: a lower bound with the unknown area stated
    assert rows[0]["people_inside"] > rows[2]["people_inside"]
    assert rows[0]["people_unknown_area_km2"] > 0
    assert any("AEGL-1: population unknown" in w for w in res.warnings)
    gj = to_geojson(res)
    z = [f["properties"] for f in gj["features"] if f["properties"]["kind"] == "threat_zone"]
    assert z[2]["people_inside"] == pytest.approx(values[in3].sum(), rel=1e-9)


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

    return CliRunner().invoke(app, args, env={"COLUMNS": "330"})


def test_cli_zones_units_people_and_files(tmp_path):
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [600.0], [0.0])
    (tmp_path / "people.csv").write_text(f"name,lat,lon,population\nschool,{lat[0]:.6f},{lon[0]:.6f},400\n")
    sc = _write_scenario(tmp_path, {"cities": False, "csv": "people.csv"})
    r = _invoke(["zones", str(sc), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    for header in ("threshold at tip [ppm]", "AEGL exposure [min]", "max downwind distance [km]", "area [km²]",
                   "people inside [people]", "peak [ppm]", "peak % of AEGL-3", "deaths outdoors [people]",
                   "deaths sheltered [people]", "toxic load ["):
        assert header in r.output, header
    assert "school" in r.output and "expected deaths at 1 of the 1 receptor(s) in the zones" in r.output
    listed = sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith("."))  # .plumecast-results.json
    assert listed == ["zones.geojson", "zones.kml", "zones.png"]


RAILCAR = """\
name: railcar
agent: chlorine
start: 2026-01-20T06:00:00Z
releases:
  - {type: point, name: tank car, lat: 51.45, lon: 6.75, height_m: 1, rate_kg_s: 90, duration_s: 600}
local_weather: {wind_speed_m_s: 3, wind_from_deg: 240, stability: D, terrain: urban}
receptors:
  points:
    - {name: NearKnown, lat: 51.455, lon: 6.77, population: 12345}
    - {name: NearUnknown, lat: 51.47, lon: 6.78}
    - {name: OffGrid, lat: 48.0, lon: 2.0, population: 50000}
"""


def test_cli_zones_totals_give_the_range_and_the_receptors_left_out(tmp_path):
    """The totals line gives the probit-set range the receptor cells show ("1,300 (1,300–1,500)",
    was "1,300") and names the receptors whose figures are unknown: a population not given,
    a point beyond the model's range (was left out of "all receptors" without a word)."""
    path = tmp_path / "railcar.yaml"
    path.write_text(RAILCAR)
    r = _invoke(["zones", str(path), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    known = next(ln for ln in lines if ln.startswith("│ NearKnown") and ln.count("│") > 9).split("│")
    outdoors, sheltered = known[-3].strip(), known[-2].strip()
    assert "(" in outdoors  # the cell carries a range: the totals must too
    assert "(" in sheltered or sheltered == "< 1"
    total = " ".join(r.output[r.output.index("expected deaths"):].split("warning:")[0].split())
    assert f": {outdoors} outdoors; {sheltered} with shelter-in-place" in total, total
    assert "at 1 of the 2 receptor(s) in the zones or the uncertainty sector" in total
    assert "1 with population unknown (NearUnknown)" in total
    assert "1 beyond the local model's 100 km range, concentration unknown (OffGrid)" in total


def test_cli_zones_people_unknown_without_raster(tmp_path):
    """Without a raster the zone table never prints people inside as a known 0."""
    lon, lat = to_lonlat(45.0, 5.0, 90.0, [-5000.0], [0.0])  # upwind: never inside
    (tmp_path / "people.csv").write_text(f"name,lat,lon,population\nupwind,{lat[0]:.6f},{lon[0]:.6f},50\n")
    searched = _invoke(["zones", str(_write_scenario(tmp_path, {"cities": False, "csv": "people.csv"})),
                        "-o", str(tmp_path / "a")])
    assert searched.exit_code == 0, searched.output
    rows = [ln for ln in searched.output.splitlines() if ln.startswith("│ AEGL-")]
    assert len(rows) == 3 and all("unknown (no raster)" in ln for ln in rows), rows
    assert "only the receptors of people.csv are counted" in searched.output  # what this scenario searched
    assert "this is not a count of people" in searched.output
    skipped = _invoke(["zones", str(_write_scenario(tmp_path, {"cities": False, "csv": "people.csv"})),
                       "-o", str(tmp_path / "b"), "--no-receptors"])
    assert skipped.exit_code == 0, skipped.output
    rows = [ln for ln in skipped.output.splitlines() if ln.startswith("│ AEGL-")]
    assert len(rows) == 3 and all("—" in ln for ln in rows)
    assert "not searched" in skipped.output


def test_people_and_deaths_shown_to_two_significant_figures():
    """As run and compare show them: an expected count below one is "< 1" (zones had written
    "0.034" and "< 0.01" deaths; outputs audit, session 35), only an exact zero "0"."""
    from plumecast.cli.zones import _with_range
    from plumecast.numbers import people

    assert [people(v) for v in (512_027.0, 1234.0, 12.34, 1.234, 0.0341, 0.0, 0.001, float("nan"))] == [
        "510,000", "1,200", "12", "1", "< 1", "0", "< 1", "unknown"]
    assert _with_range(0.042, 0.001, 0.042) == "< 1" and _with_range(610.0, 580.0, 610.0) == "610 (580–610)"
    assert _with_range(2_200.0, 44.0, 46_000.0) == "2,200 (44 to 46,000)"


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


def test_tip_refinement_brackets_each_crossing_and_reuses_exact_series():
    """_refine_crossings: ratio >= 1 at lo, < 1 at hi, hi/lo <= TIP_BRACKET; returned series = fresh ones."""
    from plumecast.consequence import onset_floor
    from plumecast.nearfield.zones.footprint import (
        TIP_BRACKET,
        _refine_crossings,
        exposure_time_axis,
        exposure_windows,
        level_table_kg_m3,
        resolve_levels,
    )
    from plumecast.nearfield.zones.windowed import LevelRatio

    sc = _scenario()
    setup = plume_setup(sc)
    levels = resolve_levels(sc, sc.agent, setup)
    tab = np.array([level_table_kg_m3(lv, sc.agent) for lv in levels])
    ends, floor = exposure_time_axis(setup), onset_floor(sc.agent)
    x = np.geomspace(1.0, 1e5, 240)
    w = exposure_windows(setup, x, np.zeros_like(x), ends)
    g = np.log(np.maximum(LevelRatio(w, ends, tab, floor, ratio_only=True)(np.ones(len(levels) * x.size))[0], 1e-300))
    g = g.reshape(len(levels), -1)
    lv, i = np.nonzero(np.sign(g[:, :-1]) * np.sign(g[:, 1:]) < 0)
    assert lv.size >= len(levels)
    lo, hi, x_eval, w_eval = _refine_crossings(setup, x[i], x[i + 1], g[lv, i], g[lv, i + 1], lv.astype(np.intp),
                                               ends, tab, floor)
    assert np.all(hi / lo <= TIP_BRACKET) and np.all(hi > lo)
    pts = np.concatenate([lo, hi])
    cols = np.concatenate([lv, lv])
    o = np.argsort(cols, kind="stable")
    r, _ = LevelRatio(exposure_windows(setup, pts[o], np.zeros(o.size), ends), ends, tab, floor,
                      np.arange(o.size), cols[o])(np.ones(o.size))
    ratio = np.empty(o.size)
    ratio[o] = r
    inner_in = g[lv, i] >= 0  # which end of the grid bracket was inside
    inside_lo = ratio[: lv.size] >= 1.0
    inside_hi = ratio[lv.size :] >= 1.0
    assert np.all(inside_lo == inner_in) and np.all(inside_hi != inner_in)
    fresh = exposure_windows(setup, x_eval, np.zeros_like(x_eval), ends)
    np.testing.assert_array_equal(fresh.values, w_eval.values)
    np.testing.assert_array_equal(fresh.offsets, w_eval.offsets)


def test_an_aegl_never_reached_is_not_called_a_fixed_level():
    """An AEGL whose zone is empty has no exposure duration: the table and the legend
    say "not reached" (the table said "fixed level", which is for ppm/LFL levels)."""
    from rich.console import Console

    from plumecast.cli.zones import _zone_table
    from plumecast.nearfield.zones.export import exposure_text

    data = _scenario().model_dump()
    data["release"] = {"rate_kg_s": 2e-4, "duration_s": 1800}
    res = compute_zones(LocalScenario.model_validate(data), consequences=False)
    row = res.table()[-1]
    assert row["level"] == "AEGL-3" and row["max_distance_m"] == 0.0 and not row["fixed_level"]
    assert exposure_text(row["exposure_duration_min"], row["fixed_level"]) == "not reached"
    assert exposure_text(float("nan")) == "fixed level"
    console = Console(width=250, record=True)
    console.print(_zone_table(res))
    line = next(ln for ln in console.export_text().splitlines() if "AEGL-3" in ln)
    assert "fixed level" not in line and line.count("not reached") == 2, line
    assert legend_labels(res)[-1] == "AEGL-3 (28 ppm): not reached"  # was "...: not reached km"


def test_geojson_says_when_a_zone_reaches_beyond_the_search_limit():
    """A zone cut at the 100 km search limit carries beyond_search_limit: true in the
    GeoJSON (max_distance_m alone read as if the zone ended at 100 km)."""
    from plumecast.nearfield.zones import MAX_DISTANCE_M

    res = compute_zones(_scenario(), consequences=False)
    res.zones[0].max_distance_m = MAX_DISTANCE_M  # as compute_zones leaves a zone cut at the limit
    props = [f["properties"] for f in to_geojson(res)["features"] if f["properties"]["kind"] == "threat_zone"]
    assert [p["beyond_search_limit"] for p in props] == [True, False, False]
    assert props[0]["max_distance_m"] == MAX_DISTANCE_M
    assert legend_labels(res)[0].endswith(": > 100 km")


def _variant(release, agent="chlorine", **top):
    data = _scenario().model_dump()
    data.update(release=release, agent=agent, **top)
    return LocalScenario.model_validate(data)


def test_the_passive_model_says_why_it_is_passive():
    """The regime line names the reason that applies (was "criterion not met, or ..., or
    dense_gas: off" for every passive release)."""
    from plumecast.nearfield.zones.footprint import ThreatZones, passive_reason

    cases = {
        "dense_gas: off in the scenario": _variant({"rate_kg_s": 2.0, "duration_s": 1800, "dense_gas": "off"}),
        "lighter than air: the vapour (M = 17.031 g/mol at -33 °C) is no denser than the air at 15 °C, reduced "
        "gravity g0' = -2.9 m/s² <= 0": _variant({"rate_kg_s": 2.0, "duration_s": 1800}, "ammonia"),
        "Britter-McQuaid criterion 0.093 is below the 0.15 a dense continuous release needs": _variant(
            {"rate_kg_s": 0.01, "duration_s": 1800, "temperature_c": 15}, "hydrogen sulfide",
            meteorology={"wind_speed_m_s": 8.0, "wind_from_deg": 270.0, "stability": "D"}),
        "Britter-McQuaid criterion 0.40 met (>= 0.15), but the cloud turns passive within the workbook's near "
        "field": _variant({"rate_kg_s": 0.01, "duration_s": 1800}),
    }
    for said, sc in cases.items():
        setup = plume_setup(sc)
        assert setup.dense is None
        assert passive_reason(sc, setup).startswith(said), passive_reason(sc, setup)
        name = ThreatZones(sc, sc.agent, setup, [], 0.0, [], None).model_name  # type: ignore[arg-type]
        assert name.startswith(f"passive Gaussian ({said}") and " or " not in name, name


def test_dense_model_line_and_reach_warnings_keep_two_figures():
    """The dense model's distances and a zone's reach in the warnings are shown to two
    significant figures, as in the table (were "passive Gaussian from 26552 m" and
    "reaches 12.0 km" beside a table's 12)."""
    sc = _variant({"amount_kg": 1000.0, "duration_s": 600})
    res = compute_zones(sc, consequences=False)
    assert res.setup.dense is not None
    # (the source's passive plume need not take over: beyond the curves the passive far field from virtual
    # sources is the higher, so the hand-over figure is shown only where there is one)
    handover = re.search(r"passive Gaussian from ([\d,.]+) m", res.model_name)
    curves = re.search(r"workbook curves to ([\d,.]+) m", res.model_name)
    assert curves and "passive Gaussian plume from virtual sources" in res.model_name, res.model_name
    for text in ([handover.group(1)] if handover else []) + [curves.group(1)]:
        digits = text.replace(",", "").replace(".", "").strip("0")
        assert len(digits) <= 2, res.model_name
    reach = [w for w in res.warnings if " reaches " in w and "search limit" not in w]
    assert reach and all(re.search(r"reaches \d+(\.\d)? km", w) for w in reach), reach
    table = {row["level"]: distance_text(row["max_distance_m"]) for row in res.table()}
    for w in reach:
        level, km = re.match(r"(\S+) reaches (\S+) km", w).groups()
        assert table[level] == f"> 10 (extrapolated: {km})", (w, table)  # the table says it too (zones audit 40)


def test_assumptions_are_said():
    """A liquefied gas given by its rate is taken at its boiling point, and a receptor
    height is not read by the dense-gas model: both are said (were silent)."""
    flash = "release temperature_c not given: the vapour is assumed to leave at chlorine's boiling point, -34 °C"
    height = "receptor height: 10 m is not used by the dense-gas model"
    res = compute_zones(_variant({"rate_kg_s": 2.0, "duration_s": 1800}, receptor_height_m=10.0), consequences=False)
    assert res.setup.dense is not None
    assert any(w.startswith(flash) for w in res.warnings), res.warnings
    assert any(w.startswith(height) for w in res.warnings), res.warnings
    given = compute_zones(_variant({"rate_kg_s": 2.0, "duration_s": 1800, "temperature_c": -34.0}),
                          consequences=False)
    assert given.setup.dense is not None
    assert not any("temperature_c not given" in w or "receptor height" in w for w in given.warnings)
