"""What run's near-field plumes say of themselves (cell audit): the pure-vapour cap, a
release zones calls dense, the terrain local_weather gives, and a class the wind at the
source does not allow."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.nearfield.gaussian import briggs_sigma_y, briggs_sigma_z, plume_concentration
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

#: pure chlorine vapour at 2 °C and 1 atm [kg m-3]
CHLORINE_2C = 101_325.0 * 0.070906 / (8.314462618 * 275.15)
LAT0, LON0 = 33.5648, -81.8076
M_PER_DEG_LON = 111_195.0 * np.cos(np.radians(LAT0))


def _chlorine(points_m=(30.0, 100.0, 2000.0), met=None, local_weather=None, near_field=None, **release):
    """54 t of chlorine over 600 s (Graniteville), the receptors ``points_m`` downwind in a wind from 270°."""
    rel = {"type": "point", "name": "tank car", "lat": LAT0, "lon": LON0, "height_m": 1.0, "amount_kg": 54000.0,
           "duration_s": 600.0, **release}
    d = {
        "name": "cap", "start": "2005-01-06T07:39:00Z", "duration_h": 1, "time_step_s": 60, "particles": 400,
        "seed": 1, "backend": "numpy", "agent": "chlorine",
        "met": met or {"source": "uniform", "u_m_s": 1.5, "v_m_s": 0.0},
        "turbulence": {"mixing_height_m": 200},
        "releases": [rel],
        "local_weather": {"wind_speed_m_s": 1.5, "wind_from_deg": 270, "stability": "F", "mixing_height_m": 200,
                          "terrain": "rural", "air_temperature_c": 2, **(local_weather or {})},
        "receptors": {"points": [{"name": f"{x:g} m", "lat": LAT0, "lon": LON0 + x / M_PER_DEG_LON, "population": 20}
                                 for x in points_m]},
    }
    if near_field is not None:
        d["near_field"] = near_field
    return scenario_from_dict(d)


def _lines(res, prefix):
    return [p for p in res.stats["met_provenance"] if p.startswith(prefix)]


def test_pure_vapour_density_and_the_plume_cap():
    """rho = P M / (R T): 3.14 kg m-3 of chlorine at 2 °C; a Gaussian plume of 90 kg/s at 30 m in class
    F gives three times that uncapped, and the cap holds it there (and leaves a dilute plume as it is)."""
    from plumecast.nearfield.gaussian import pure_vapour_kg_m3

    cap = pure_vapour_kg_m3(70.906, 275.15)
    assert cap == pytest.approx(CHLORINE_2C, rel=1e-4) and cap == pytest.approx(3.14, abs=0.01)
    x = np.array([30.0, 100.0, 2000.0])
    sy, sz = briggs_sigma_y(x, "F"), briggs_sigma_z(x, "F")
    free = plume_concentration(90.0, 1.5, x, 0.0 * x, 1.5, 1.0, sy, sz, 200.0)
    held = plume_concentration(90.0, 1.5, x, 0.0 * x, 1.5, 1.0, sy, sz, 200.0, cap_kg_m3=cap)
    assert free[0] > 2.5 * cap
    assert held[0] == cap and held.max() <= cap
    np.testing.assert_array_equal(held[1:], np.minimum(free[1:], cap))


def test_run_never_gives_more_than_the_pure_gas_and_says_where():
    """54 t of chlorine in class F: 9.6 kg m-3 (3,300,000 ppm) 30 m downwind (cell audit). The receptor's
    air is at most the pure vapour's, its figures (consequences) follow, and the provenance says so once,
    naming it. (The Gaussian plume: ``dense_gas: off``; zones' dense cloud is 2.2 kg m-3 there.)"""
    res = run(_chlorine(dense_gas="off"))
    c = res.exposure.total()
    assert np.nanmax(c) <= CHLORINE_2C * (1 + 1e-9)
    assert np.nanmax(c[:, 0]) == pytest.approx(CHLORINE_2C, rel=1e-4)  # 30 m: at the cap
    assert 0.3 * CHLORINE_2C < np.nanmax(c[:, 1]) < CHLORINE_2C  # 100 m: below it, untouched
    lines = _lines(res, "pure vapour:")
    assert len(lines) == 1
    assert "at 1 receptor (30 m)" in lines[0] and "3.14 kg m-3" in lines[0] and "2 °C" in lines[0]
    assert "100 m" not in lines[0].split("receptor")[1].split(")")[0]
    cons = res.consequences()  # what consequences.csv holds
    peak = np.asarray(cons["peak_concentration"].values, dtype=float)
    assert peak[0] == pytest.approx(CHLORINE_2C, rel=1e-4) and np.nanmax(peak) <= CHLORINE_2C * (1 + 1e-9)


def _zones_cloud(points_m, duration_s, agent):
    """zones' setup of the 54 t release over ``duration_s`` in run's weather (1.5 m/s from 270°, F, lid 200 m,
    2 °C), its peak, its dose (the integral over its time axis) and when it first reaches the onset floor
    [s after the release start] on the axis at ``points_m``."""
    from plumecast.consequence_metrics import onset_floor
    from plumecast.nearfield.zones.plume import (
        exposure_series,
        exposure_time_axis,
        peak_concentration,
    )
    from plumecast.nearfield.zones.scenario import LocalScenario
    from plumecast.nearfield.zones.setup import plume_setup

    local = LocalScenario.model_validate({
        "source": {"lat": LAT0, "lon": LON0, "height_m": 1.0},
        "release": {"amount_kg": 54000.0, "duration_s": duration_s},
        "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": 1.5, "wind_from_deg": 270, "stability": "F", "mixing_height_m": 200,
                        "terrain": "rural", "air_temperature_c": 2}})
    setup = plume_setup(local)
    x = np.asarray(points_m, float)
    ends = exposure_time_axis(setup)
    series = exposure_series(setup, x, 0 * x, ends)
    dose = (series * np.diff(np.concatenate([[0.0], ends]))[:, None]).sum(axis=0)
    first = ends[np.argmax(series >= onset_floor(agent), axis=0)]
    return setup, peak_concentration(setup, x, 0 * x), dose, first


@pytest.mark.parametrize("duration_s", [600.0, 7200.0])
def test_run_breathes_zones_dense_cloud(duration_s):
    """run and compare modelled 54 t of chlorine, dense by zones' criterion (3.2 >= 0.15), as a passive plume
    (cell audit: 4,500 ppm at 2 km against zones' 570 ppm). Its near field is now zones' dense cloud at each
    step's weather, zones' dose per kilogram released spread over the steps: a receptor's dose is zones'
    (zones leave out the tail ahead of their front, at most 8 % of a puff's), and over a release longer than
    a step its step mean is zones' steady peak. ``dense_gas: off`` keeps the Gaussian plume."""
    pts = (300.0, 2000.0, 5000.0, 20000.0)
    step = 600.0
    sc = _chlorine(points_m=pts, duration_s=duration_s)
    sc = sc.model_copy(update={"time_step_s": step, "duration_h": 6})
    dense = run(sc).exposure.total()
    passive = run(sc.model_copy(update={"releases": [sc.releases[0].model_copy(update={"dense_gas": "off"})]}))
    passive_c = passive.exposure.total()
    setup, peak, dose, t_zones = _zones_cloud(pts, duration_s, sc.resolved_agent())
    assert setup.dense is not None
    # its air arrives with zones' front, in the step in which zones' cloud first reaches the onset floor (the
    # wind's air, x/u, was 9 min later at 5 km): the countdown errs early
    from plumecast.consequence_metrics import onset_floor

    t_run = np.argmax(dense >= onset_floor(sc.resolved_agent()), axis=0) * step
    assert np.all(t_run <= t_zones) and np.all(t_zones < t_run + step)
    assert t_zones[2] < 5000.0 / 1.5 - 60.0
    run_dose = dense.sum(axis=0) * step
    assert np.all(run_dose >= dose * (1 - 1e-6)) and np.all(run_dose <= dose * 1.08)
    # the passive plume gives 1.3-5 times the dose at these distances: not what runs now (2-6 times before the
    # far field's stratification, session 39, kept the dense cloud shallower beyond the curves' end)
    assert np.all(passive_c.sum(axis=0) * step > 1.2 * run_dose)
    if duration_s > step:  # full steps inside the release: the step mean is the steady cloud's peak
        np.testing.assert_allclose(dense.max(axis=0), peak, rtol=1e-4)  # receptors placed in lon: x to 1e-6


def test_run_says_its_near_field_is_zones_dense_cloud():
    """The provenance names the criterion at the release start and the model."""
    auto = run(_chlorine(points_m=(2000.0, 5000.0)))
    off = run(_chlorine(points_m=(2000.0, 5000.0), dense_gas="off"))
    lines = _lines(auto, "dense release:")
    assert len(lines) == 1
    line = lines[0]
    assert "tank car is dense by zones' criterion (Britter & McQuaid 1988, continuous: 3.2 >= 0.15 with the " \
           "1.5 m/s wind and class F this run has at the source at the release start)" in line
    assert "run's near field gives its receptors zones' dense cloud at each step's wind and class" in line
    assert "arriving with zones' front" in line
    assert "made it passive" not in line and "could not be applied" not in line  # one weather, dense throughout
    assert not _lines(off, "dense release:")


def test_a_steps_weather_can_make_the_release_passive():
    """The criterion is zones' at each step's weather: 1 kg/s of chlorine is dense in a 1.5 m/s wind and
    passive in a 12 m/s one (the Gaussian plume then: no setup)."""
    sc = _chlorine(points_m=(2000.0,), amount_kg=600.0)
    from plumecast.near_field_dense import DenseCloud, local_scenario

    cloud = DenseCloud(local_scenario(sc, sc.releases[0], "rural", 200.0, 1.5, 270.0, "D"))
    assert cloud.setup_at(1.5, "F", 200.0) is not None
    assert cloud.setup_at(12.0, "D", 200.0) is None
    per_kg = cloud.dose_per_kg(np.array([2000.0]), np.array([0.0]), 1.5, "F", 200.0)
    assert per_kg is not None and per_kg[0] > 0
    assert cloud.dose_per_kg(np.array([2000.0]), np.array([0.0]), 12.0, "D", 200.0) is None


def test_run_takes_local_weathers_terrain_when_near_field_gives_none():
    """local_weather terrain: urban was ignored: run used the rural curves, 3.7-5.8 times zones' urban plume
    (nh3.yaml; cell audit). Now the terrain follows local_weather as the class does, and is named."""
    lw = {"stability": "D", "wind_speed_m_s": 3.0, "terrain": "urban"}
    met = {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0}
    follows = run(_chlorine(points_m=(1000.0, 3000.0), met=met, local_weather=lw, dense_gas="off"))
    given = run(_chlorine(points_m=(1000.0, 3000.0), met=met, local_weather=lw, dense_gas="off",
                          near_field={"terrain": "urban"}))
    rural = run(_chlorine(points_m=(1000.0, 3000.0), met=met, local_weather=lw, dense_gas="off",
                          near_field={"terrain": "rural"}))
    np.testing.assert_array_equal(follows.exposure.total(), given.exposure.total())
    assert np.nanmax(rural.exposure.total()[:, 0]) > 2.0 * np.nanmax(follows.exposure.total()[:, 0])
    line = _lines(follows, "near-field plumes")[0]
    assert "Briggs urban sigmas (local_weather.terrain)" in line
    assert "Briggs urban sigmas (near_field.terrain)" in _lines(given, "near-field plumes")[0]


def test_turner_key_bounds():
    """The wind bounds of the classes are those of the code's own Turner (1970) table."""
    from plumecast.nearfield.stability import turner_wind_limit_m_s

    assert turner_wind_limit_m_s("F") == 3.0 and turner_wind_limit_m_s("E") == 5.0
    assert turner_wind_limit_m_s("A") == 2.0 and turner_wind_limit_m_s("B") == 5.0
    assert turner_wind_limit_m_s("C") == np.inf and turner_wind_limit_m_s("D") == np.inf


def test_a_class_the_wind_at_the_source_does_not_allow_is_warned_and_the_wind_is_named():
    """On the climatology run paired local_weather's class F with the 8.2 m/s mean wind at the source, with
    no word, and printed that wind nowhere (cell audit)."""
    strong = run(_chlorine(points_m=(2000.0,), met={"source": "uniform", "u_m_s": 8.16, "v_m_s": 0.95},
                           dense_gas="off"))
    warn = _lines(strong, "warning: near-field class")
    assert len(warn) == 1
    assert "class F (local_weather)" in warn[0] and "8.2 m/s from 263°" in warn[0]
    assert "only below 3 m/s" in warn[0] and "1.5 m/s from 270°" in warn[0]  # both winds named
    assert "wind at the source: tank car 8.2 m/s from 263° at the release start" in _lines(
        strong, "near-field plumes")[0]
    light = run(_chlorine(points_m=(2000.0,), dense_gas="off"))
    assert not _lines(light, "warning: near-field class")
    assert "wind at the source: tank car 1.5 m/s from 270° at the release start" in _lines(
        light, "near-field plumes")[0]


def test_compare_shows_the_members_near_field_warnings():
    """compare runs the members as run does; their near-field warnings reach its notes."""
    from plumecast.ensemble.compare import (
        CompareSetup,
        MemberResult,
        RawComparison,
        member_warnings,
    )
    from plumecast.ensemble.members import MemberSpec

    sc = _chlorine()
    line = "dense release: tank car is dense by zones' criterion"
    members = [MemberResult(k, {}, {}, {}, None, 0.0, 1, notes=[line] if k else [line, "pure vapour: x"])
               for k in range(3)]
    raw = RawComparison(CompareSetup(sc, (), (), ()), [MemberSpec(k, k) for k in range(3)], members, None, None,
                        None, 0.0, 0)
    out = member_warnings(raw)
    assert out == [line, "pure vapour: x [member 0; 1 of 3 members have such a line]"]


@pytest.mark.parametrize(("stability", "wind"), [("F", 1.5), ("D", 3.0), ("B", 2.0)])
def test_the_gaussian_plumes_air_arrives_with_zones_front(stability, wind):
    """The countdowns err early: run's near-field air had arrived at x/u, after zones' plume (the same
    Briggs curves, Palazzi's along-wind spread) had reached the onset floor (class B, 2 m/s: 21 min later at
    20 km). Its travel time is now zones' front's: its first step above the floor is the one in which zones'
    plume first reaches it, or the one before."""
    from plumecast.consequence_metrics import onset_floor
    from plumecast.nearfield.zones.plume import exposure_series, exposure_time_axis
    from plumecast.nearfield.zones.scenario import LocalScenario
    from plumecast.nearfield.zones.setup import plume_setup

    pts = np.array([300.0, 2000.0, 5000.0, 20000.0])
    step = 60.0
    sc = _chlorine(points_m=tuple(pts), duration_s=7200.0, dense_gas="off",
                   met={"source": "uniform", "u_m_s": wind, "v_m_s": 0.0},
                   local_weather={"stability": stability, "wind_speed_m_s": wind})
    c = run(sc.model_copy(update={"time_step_s": step, "duration_h": 6})).exposure.total()
    floor = onset_floor(sc.resolved_agent())
    local = LocalScenario.model_validate({
        "source": {"lat": LAT0, "lon": LON0, "height_m": 1.0},
        "release": {"amount_kg": 54000.0, "duration_s": 7200.0, "dense_gas": "off"}, "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270, "stability": stability, "mixing_height_m": 200,
                        "terrain": "rural", "air_temperature_c": 2, "averaging_time_s": 600}})
    setup = plume_setup(local)
    ends = exposure_time_axis(setup)
    series = exposure_series(setup, pts, 0 * pts, ends)
    t_zones = ends[np.argmax(series >= floor, axis=0)]
    t_run = np.argmax(c >= floor, axis=0) * step
    assert np.all(t_run <= t_zones) and np.all(t_zones < t_run + 2 * step)
    assert t_zones[-1] < pts[-1] / wind - 60.0  # the wind's air, x/u, a minute or more after zones' plume


def test_run_reads_the_keys_of_its_dense_cloud():
    """run listed releases.0.dense_gas, releases.0.temperature_c and local_weather's averaging_time_s as
    ignored, while each changes its near-field doses now (dense-cloud audit: dense_gas: off 2.0-4.8x)."""
    from plumecast.scenario_modes import ignored_keys, ignored_line

    line = ignored_line(ignored_keys(_chlorine(dense_gas="off", temperature_c=-60.0), "run"), "run") or ""
    assert "releases.0.dense_gas" not in line
    # with dense_gas: off there is no cloud: the vapour's temperature and the averaging time change nothing
    assert "releases.0.temperature_c" in line
    assert "averaging_time_s" not in line.split("(all but")[1].split(")")[0]
    auto = ignored_line(ignored_keys(_chlorine(temperature_c=-60.0), "run"), "run") or ""
    assert "averaging_time_s, read for the near-field dense clouds' width" in auto
    assert "releases.0.temperature_c" not in auto
    # a far-field-only run (no near field) does not read them
    far = _chlorine(dense_gas="off", temperature_c=-60.0, near_field={"distance_km": 0})
    assert "releases.0.dense_gas" in (ignored_line(ignored_keys(far, "run"), "run") or "")


def test_the_line_counts_the_steps_zones_refused():
    """5e5 kg/s of chlorine for 1 h: zones refuse the cloud (wider than their range) at every step's
    weather, and the run takes the passive plume there. The line had counted the distinct weathers (1 step)
    instead of the steps (dense-cloud audit)."""
    sc = _chlorine(points_m=(2000.0,), amount_kg=5e5 * 3600.0, duration_s=3600.0)
    res = run(sc.model_copy(update={"time_step_s": 600, "duration_h": 2}))
    line = _lines(res, "dense release:")
    assert len(line) == 1
    # the 6 steps it emits and the 6 after, while its air crosses the 30-km near field at 1.5 m/s
    assert "run's near-field plume is the passive Gaussian plume; zones' dense-gas model could not be applied at " \
           "the weather of 12 of the 12 steps its near-field air was out (releases.amount_kg:" in line[0]


def test_a_short_dense_release_is_spread_over_the_clouds_passage():
    """The top hat put a window's whole mass into one step: a 20-t puff of chlorine with 60-s steps read 3.9-14
    times zones' peak and 14-147 times its toxic load (dense-cloud audit). Each kilogram's arrival is now
    spread over the cloud's passage as zones spread it: peaks within 8 % (the part ahead of zones' front,
    renormalised) and toxic loads within 30 % of zones' on the axis."""
    from plumecast.nearfield.zones.plume import (
        exposure_series,
        exposure_time_axis,
        peak_concentration,
    )
    from plumecast.nearfield.zones.scenario import LocalScenario
    from plumecast.nearfield.zones.setup import plume_setup

    pts = np.array([2000.0, 5000.0, 20000.0])
    step = 60.0
    sc = _chlorine(points_m=tuple(pts), amount_kg=20000.0, duration_s=0.0)
    c = run(sc.model_copy(update={"time_step_s": step, "duration_h": 6})).exposure.total()
    local = LocalScenario.model_validate({
        "source": {"lat": LAT0, "lon": LON0, "height_m": 1.0}, "release": {"amount_kg": 20000.0, "duration_s": 0.0},
        "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": 1.5, "wind_from_deg": 270, "stability": "F", "mixing_height_m": 200,
                        "terrain": "rural", "air_temperature_c": 2}})
    setup = plume_setup(local)
    assert setup.dense is not None and setup.duration_s == 0
    ends = exposure_time_axis(setup)
    series = exposure_series(setup, pts, 0 * pts, ends)
    toxic = (series**2.75 * np.diff(np.concatenate([[0.0], ends]))[:, None]).sum(axis=0)
    peak = c.max(axis=0) / peak_concentration(setup, pts, 0 * pts)
    assert np.all((peak > 0.95) & (peak < 1.1))
    ratio = (c**2.75).sum(axis=0) * step / toxic
    assert np.all((ratio > 0.9) & (ratio < 1.3))


def test_the_dense_line_looks_at_every_step_the_near_field_air_is_out():
    """A release passive while it emits may be dense while its air crosses the near field in a lull; the line and
    compare's dense groups had looked only at the steps it emitted (regression audit). The steps after each
    emitting stretch count until its last air has travelled the near field's distance."""
    from types import SimpleNamespace

    from plumecast.near_field_plume import NearFieldSource
    from plumecast.run_near_field import _near_field_winds

    def emitted(t):  # type: ignore[no-untyped-def]
        return np.clip(np.asarray(t, float), 0.0, 1200.0)  # 1 kg/s over the first two steps

    src = NearFieldSource(group=0, lat=0.0, lon=0.0, height_m=1.0, pg_class="D", terrain="rural",
                          mixing_height_m=800.0, decay_rate_s=0.0, rate_at=lambda t: (np.asarray(t) < 1200.0) * 1.0,
                          emitted_by=emitted)
    rec = np.full((1, 10, 5), np.nan)
    rec[0, :, 0], rec[0, :, 1], rec[0, :, 2], rec[0, :, 3] = 2.0, 0.0, 2.0, 3.0
    rec[0, :, 2] += np.arange(10) * 1e-3  # tell the steps apart
    sampler = SimpleNamespace(source_wind=rec, near=[src], n_steps=10, dt_s=600.0)
    w = _near_field_winds(sampler, 0, 3000.0)  # type: ignore[arg-type]
    # the two emitting steps, then three while the last air travels 1.2, 2.4 and 3.6 km
    np.testing.assert_allclose(w[:, 2], 2.0 + np.arange(5) * 1e-3)
