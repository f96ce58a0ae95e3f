"""The near-field plumes take their stability and lid from the met's boundary layer
(``near_field.stability: auto``): the city discs' area-source plumes
(plumecast.exposure_area) and the point releases' Gaussian plumes (plumecast.exposure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast.exposure_area import CITY_ROUGHNESS_M, LID_TABLE_M, AreaNearField
from plumecast.near_field_plume import NearFieldSource
from plumecast.nearfield.stability import inverse_obukhov_golder
from plumecast.release import SourceGroup
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from tests.met.style_files import atmosphere, write_era5

DT = 600.0
N_STEPS = 12


def _city(height_m: float = 10.0) -> SourceGroup:
    return SourceGroup(name="city", lat=np.array([52.0]), lon=np.array([5.0]), rate_kg_s=np.array([1.0]),
                       radius_m=6000.0, height_m=height_m, area=True, start_s=0.0, stop_s=1e9,
                       profile_h=np.array([0.0]), profile_f=np.array([1.0]))


def _field(stability: str, mixing_height_m: float, boundary_at=None) -> AreaNearField:
    # receptors: the centre, 5 km and 20 km downwind (east) of a city 6 km across
    lat = np.array([52.0, 52.0, 52.0])
    lon = 5.0 + np.array([0.0, 5e3, 20e3]) / (6371e3 * math.cos(math.radians(52.0))) * 180.0 / math.pi
    nf = AreaNearField.build(
        [_city()], np.full((N_STEPS, 1), DT), DT, np.zeros(10, np.int32), lat, lon, np.zeros(3),
        np.zeros(N_STEPS, np.int64), distance_m=30e3, stability=stability, mixing_height_m=mixing_height_m,
        min_wind_m_s=1.0, breathing_height_m=1.5, decay_rate_s=0.0, boundary_at=boundary_at)
    assert nf is not None
    return nf


def _conc(nf: AreaNearField, step: int = N_STEPS - 1) -> np.ndarray:
    conc = np.zeros((1, 3))
    nf.add_step(step, conc, np.zeros(3, bool), lambda lon, lat, t: (np.full(np.size(lon), 3.0),
                                                                    np.zeros(np.size(lon))))
    return conc[0]


def _met(h_m: float, inv_l: float):
    def at(lon, lat, t_s):
        return np.full(np.size(lon), h_m), np.full(np.size(lon), inv_l)
    return at


@pytest.mark.parametrize("pg_class", ["B", "D", "F"])
def test_the_met_boundary_layer_gives_the_plume_of_its_class_and_lid(pg_class):
    # a met whose Obukhov length sits on the Golder line of the class, and whose mixing
    # height is one of the tables': the plume of that class under that lid
    h = float(LID_TABLE_M[17])  # about 260 m: the lid matters at 20 km
    inv_l = inverse_obukhov_golder(pg_class, CITY_ROUGHNESS_M)
    from_met = _conc(_field("auto", 1000.0, _met(h, inv_l)))
    fixed = _conc(_field(pg_class, h))
    np.testing.assert_allclose(from_met, fixed, rtol=1e-9)
    assert (fixed > 0).all()


def test_a_mixing_height_between_the_tables_is_interpolated_within_one_percent():
    inv_l = inverse_obukhov_golder("E", CITY_ROUGHNESS_M)
    for h in (55.0, 140.0, 333.0, 870.0):
        np.testing.assert_allclose(_conc(_field("auto", 1000.0, _met(h, inv_l))), _conc(_field("E", h)), rtol=0.01)


def test_stable_night_air_under_a_low_lid_concentrates_the_citys_air():
    night = _conc(_field("auto", 1000.0, _met(80.0, inverse_obukhov_golder("F", CITY_ROUGHNESS_M))))
    day = _conc(_field("auto", 1000.0, _met(1500.0, inverse_obukhov_golder("B", CITY_ROUGHNESS_M))))
    assert (night > 3.0 * day).all(), (night, day)


def test_without_a_met_boundary_layer_auto_is_class_d_under_the_scenarios_lid():
    np.testing.assert_array_equal(_conc(_field("auto", 700.0)), _conc(_field("D", 700.0)))


def test_the_point_plume_takes_the_class_and_lid_of_the_met():
    src = NearFieldSource(group=0, lat=45.0, lon=0.0, height_m=20.0, pg_class="D", terrain="rural",
                          mixing_height_m=1000.0, decay_rate_s=0.0, rate_at=lambda t: np.ones_like(t),
                          boundary_at=_met(150.0, inverse_obukhov_golder("F", 0.1)))
    assert src.class_and_lid(0.0) == ("F", 150.0)
    off = NearFieldSource(group=0, lat=45.0, lon=0.0, height_m=20.0, pg_class="D", terrain="rural",
                          mixing_height_m=1000.0, decay_rate_s=0.0, rate_at=lambda t: np.ones_like(t),
                          boundary_at=_met(math.nan, math.nan))  # off the met's domain: the scenario's
    assert off.class_and_lid(0.0) == ("D", 1000.0)


@pytest.fixture(scope="module")
def era5(tmp_path_factory):
    d = tmp_path_factory.mktemp("nf_met")
    return write_era5(atmosphere(n_times=4), d / "pl.nc", d / "sl.nc")


def _run(paths, **near_field):
    return run(scenario_from_dict({
        "name": "near field on met", "start": "2026-03-01T00:00:00Z", "duration_h": 3, "time_step_s": 600,
        "particles": 2000, "seed": 3, "backend": "numba", "agent": "chlorine",
        "met": {"source": "file", "path": [str(p) for p in paths]},
        "turbulence": {"mixing_height_m": 1000.0},
        "releases": [{"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 20, "rate_kg_s": 2.0},
                     {"type": "cities", "name": "fleets", "names": ["Bordeaux"], "rate_kg_s_per_capita": 1e-6,
                      "radius_km": 6, "height_m": 10}],
        "receptors": {"points": [{"name": "5 km E", "lat": 45.0, "lon": 0.064, "population": 1000},
                                 {"name": "Bordeaux", "lat": 44.8378, "lon": -0.5792, "population": 250000}]},
        "near_field": near_field,
        "output": {"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 50, "resolution_deg": 0.5},
                   "interval_min": 60},
    }))


def test_a_run_on_met_with_a_boundary_layer_says_where_its_plumes_took_their_stability(era5):
    auto = _run(era5)
    fixed = _run(era5, stability="D")
    line = [p for p in auto.stats["met_provenance"] if p.startswith("near-field plumes")]
    assert line and "Obukhov length" in line[0] and "mixing height" in line[0], auto.stats["met_provenance"]
    assert any("class D (near_field.stability), lid 1000 m" in p for p in fixed.stats["met_provenance"])
    a, b = auto.exposure.total(), fixed.exposure.total()
    assert auto.exposure.near_field.all() and np.isfinite(a).all()
    # the synthetic met's afternoon-to-evening boundary layer (600-1000 m, stable and unstable
    # columns) is not a neutral one under 1 km: the plumes differ
    assert not np.allclose(a, b, rtol=0.05)


def _uniform_run(local_weather=None, receptors_km=(1, 3, 10), **near_field):
    d = {
        "name": "one file for zones and run", "start": "2026-03-01T00:00:00Z", "duration_h": 2, "time_step_s": 300,
        "particles": 500, "seed": 3, "backend": "numpy", "agent": "ammonia",
        "met": {"source": "uniform", "u_m_s": 2.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "lat": 40.0, "lon": -100.0, "height_m": 1, "rate_kg_s": 50.0, "stop_h": 0.5,
                      "dense_gas": "off"}],
        "receptors": {"points": [{"name": f"{k} km", "lat": 40.0, "lon": -100.0 + k / 85.1, "population": 1000}
                                 for k in receptors_km]},
        "near_field": near_field,
    }
    if local_weather is not None:
        d["local_weather"] = local_weather
    return run(scenario_from_dict(d))


def test_without_a_met_boundary_layer_the_point_plume_takes_the_local_weather_of_zones():
    """A file driving zones and run with local_weather class F on a uniform met: zones used F,
    run class D, 6-7 times less air at 1-10 km and 988 against 87 deaths at 1 km (cross-model
    audit). Now run takes local_weather's class and lid there, as if given in near_field."""
    weather = {"wind_speed_m_s": 2.0, "wind_from_deg": 270, "stability": "F", "mixing_height_m": 400.0}
    auto = _uniform_run(weather)
    given = _uniform_run(stability="F")
    plain = _uniform_run()
    a = auto.exposure.total()
    assert np.isfinite(a).all() and a.max() > 0
    # local_weather's lid (400 m) is not the scenario's 1000 m, but a ground release's plume within 10 km
    # of class F (sigma_z under 60 m) does not reach it
    np.testing.assert_allclose(a, given.exposure.total(), rtol=1e-9)
    assert a.max(axis=0)[0] > 3.0 * plain.exposure.total().max(axis=0)[0]
    line = [p for p in auto.stats["met_provenance"] if p.startswith("near-field plumes")][0]
    assert ("class F from local_weather (the met gives no boundary layer), lid 400 m "
            "(local_weather.mixing_height_m), Briggs rural sigmas (local_weather.terrain); wind at the source: "
            "releases.0 2.0 m/s from 270° at the release start" in line)


def test_receptors_just_beyond_the_near_field_are_named():
    """The particles' spread (K_h 1e4 m2/s) is far wider than a plume at 30 km: a city at 31 km
    read 170 times less than one at 29 km (cross-model audit). The plume now meets the
    particles from 30 to 100 km (tests/test_near_field_fade.py); a run names the receptors there."""
    res = _uniform_run(receptors_km=(10, 40, 95, 105))
    lines = [p for p in res.stats["met_provenance"] if p.startswith("beyond the near field")]
    assert len(lines) == 1
    assert lines[0].startswith("beyond the near field: 40 km (40 km), 95 km (95 km) lie between 30 km "
                               "(near_field.distance_km) and 100 km of releases.0: their air is the larger of the "
                               "particles' and the plume's")
    assert "105 km" not in lines[0] and "10 km (" not in lines[0]
    assert not [p for p in _uniform_run().stats["met_provenance"] if p.startswith("beyond the near field")]


def test_a_city_whose_disc_reaches_into_the_near_field_is_not_called_beyond_it():
    """Bochum (32 km) was named 'beyond the near field' while the plume reached the parts of its
    disc inside 30 km (regression audit)."""
    sc = scenario_from_dict({
        "name": "edge", "start": "2026-03-01T00:00:00Z", "duration_h": 1, "time_step_s": 600, "particles": 200,
        "seed": 3, "backend": "numpy", "agent": "ammonia", "met": {"source": "uniform", "u_m_s": 2.0},
        "releases": [{"type": "point", "lat": 40.0, "lon": -100.0, "rate_kg_s": 1.0, "dense_gas": "off"}],
        "receptors": {"points": [
            {"name": "edge city", "lat": 40.0, "lon": -100.0 + 32 / 85.1, "population": 1e5, "radius_km": 5},
            {"name": "small town", "lat": 40.0, "lon": -100.0 + 33 / 85.1, "population": 1e3}]},
    })
    lines = [p for p in run(sc).stats["met_provenance"] if p.startswith("beyond the near field")]
    assert len(lines) == 1 and "small town" in lines[0] and "edge city" not in lines[0]


def test_a_release_above_a_constant_mixing_height_is_said():
    """A release at 800 m under a constant 500-m mixing height (the met gives no boundary
    layer): nothing brings it down, and the run's tables read plain zeros; the run says why,
    and says nothing for a release inside the layer."""
    def run_at(height_m: float) -> list[str]:
        sc = scenario_from_dict({
            "name": "aloft", "start": "2026-03-01T00:00:00Z", "duration_h": 2, "time_step_s": 600, "particles": 300,
            "seed": 3, "backend": "numpy", "agent": "chlorine", "met": {"source": "uniform", "u_m_s": 5.0},
            "turbulence": {"mixing_height_m": 500},
            "releases": [{"type": "point", "name": "flare", "lat": 50.0, "lon": 8.0, "height_m": height_m,
                          "rate_kg_s": 50.0, "stop_h": 1}],
            "receptors": {"points": [{"name": "A", "lat": 50.0, "lon": 8.1, "population": 1e4}]},
            "output": {"grid": {"lon_min": 7, "lon_max": 10, "lat_min": 49, "lat_max": 51, "resolution_deg": 0.1}}})
        res = run(sc)
        if height_m >= 500:
            assert float(res.concentration.max()) == 0.0  # what the note explains
        return [p for p in res.stats["met_provenance"] if p.startswith("above the mixed layer")]

    (line,) = run_at(800.0)
    assert line.startswith("above the mixed layer: flare starts at 800 m, at or above the mixing height (500 m, "
                           "turbulence.mixing_height_m, constant")
    assert run_at(400.0) == []


def test_a_raised_dense_release_says_its_cloud_starts_on_the_ground() -> None:
    """A dense release at 1,000 m above a 500-m lid: the near field gives zones' dense cloud,
    which starts on the ground (as zones says); the run had said its ground air "stays zero"
    beside a city at 1,500,000 % of AEGL-3 (docs audit, session 30). The lines now say which
    air is which; a release at 1 m gets no such words."""
    def run_at(height_m: float) -> tuple[list[str], float]:
        sc = scenario_from_dict({
            "name": "aloft", "start": "2026-03-02T14:00:00Z", "duration_h": 2, "time_step_s": 600, "particles": 300,
            "seed": 3, "backend": "numpy", "agent": "chlorine", "met": {"source": "uniform", "u_m_s": 3.0},
            "turbulence": {"mixing_height_m": 500},
            "local_weather": {"wind_speed_m_s": 3, "wind_from_deg": 270, "stability": "D"},
            "releases": [{"type": "point", "name": "valve", "lat": 50.0, "lon": 8.0, "height_m": height_m,
                          "rate_kg_s": 3.0, "stop_h": 1}],
            "receptors": {"points": [{"name": "A", "lat": 50.0, "lon": 8.05, "population": 1e4}]},
            "output": {"grid": {"lon_min": 7, "lon_max": 10, "lat_min": 49, "lat_max": 51, "resolution_deg": 0.1}}})
        res = run(sc)
        lines = [p for p in res.stats["met_provenance"] if p.startswith(("above the mixed layer", "dense release"))]
        return lines, float(res.receptor_series.max())

    lines, peak = run_at(1000.0)
    assert peak > 0.0  # the dense cloud's air, from the ground
    above = next(x for x in lines if x.startswith("above the mixed layer"))
    dense = next(x for x in lines if x.startswith("dense release"))
    assert "ground air from its particles stays zero" in above and "dense cloud is modelled from the ground" in above
    assert "the workbook's cloud starts on the ground: the release height (1,000 m, above the 500 m" in dense
    assert "particles, which carry the air beyond 30 km, start at 1,000 m" in dense
    lines, _ = run_at(1.0)
    assert not any("starts on the ground" in x or x.startswith("above the mixed layer") for x in lines)
