"""Exposure at the transport's resolution (issue: numbers an emergency manager can act on)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from plumecast.agents import get_agent
from plumecast.consequence import assess, onset_floor
from plumecast.exposure import ReceptorExposure, kernel_estimate, ring_radii
from plumecast.met import uniform_wind
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from plumecast.units import EARTH_RADIUS_M, ppm_to_kg_m3

LAT0, LON0 = 50.0, 10.0


def _east(km: float) -> float:
    """Longitude ``km`` east of the source along its parallel. [deg]"""
    return LON0 + math.degrees(km * 1000.0 / (EARTH_RADIUS_M * math.cos(math.radians(LAT0))))


def _scenario(**changes: object) -> object:
    data: dict[str, object] = {
        "name": "steady chlorine release",
        "start": "2026-03-02T12:00:00Z",
        "duration_h": 4,
        "time_step_s": 300,
        "particles": 20000,
        "seed": 3,
        "backend": "numpy",
        "agent": "chlorine",
        "met": {"source": "uniform", "u_m_s": 5.0, "v_m_s": 0.0},
        "turbulence": {"kh_m2_s": 50.0, "kz_m2_s": 10.0, "mixing_height_m": 800.0},
        "releases": [{"type": "point", "name": "tank", "lat": LAT0, "lon": LON0, "height_m": 2.0,
                      "rate_kg_s": 20.0, "stop_h": 3}],
        "output": {"grid": {"lon_min": 5, "lon_max": 20, "lat_min": 45, "lat_max": 55, "resolution_deg": 0.5},
                   "interval_min": 60},
        "receptors": {"points": [
            {"name": "A 2 km", "lat": LAT0, "lon": _east(2), "population": 5000},
            {"name": "B 5 km", "lat": LAT0, "lon": _east(5), "population": 5000},
            {"name": "C 10 km", "lat": LAT0, "lon": _east(10), "population": 5000},
            {"name": "D 20 km", "lat": LAT0, "lon": _east(20), "population": 5000},
            {"name": "E 60 km", "lat": LAT0, "lon": _east(60), "population": 20000},
        ]},
    }
    data.update(changes)
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def steady():
    return run(_scenario())


def test_receptor_exposure_is_kept_at_every_transport_step(steady):
    x = steady.exposure
    assert isinstance(x, ReceptorExposure)
    assert x.conc.shape == (1, steady.scenario.n_steps, 5)
    assert steady.receptor_series.sizes["time"] == steady.scenario.n_steps
    # the far receptor (60 km, beyond the near field): its particles' air (K_h 50 m2/s) is above the faded plume's
    assert not x.near_field[4] and x.near_field[:4].all()
    assert np.nanmax(x.conc[0, :, 4]) > 0


def test_output_interval_does_not_change_casualties(steady):
    fine = run(_scenario(output={"grid": {"lon_min": 5, "lon_max": 20, "lat_min": 45, "lat_max": 55,
                                          "resolution_deg": 0.5}, "interval_min": 10}))
    cl = get_agent("chlorine")
    a = assess(steady.receptor_series, cl, start=steady.scenario.start64)
    b = assess(fine.receptor_series, cl, start=fine.scenario.start64)
    total_a = float(a["fatalities"].sum())
    total_b = float(b["fatalities"].sum())
    assert total_a > 1.0  # the case is not trivially zero
    assert abs(total_a - total_b) <= 0.05 * total_a
    np.testing.assert_allclose(a["hours_to_aegl3"].values, b["hours_to_aegl3"].values)


def test_run_and_zones_agree_between_2_and_20_km(steady):
    """The particle run and the passive Gaussian of zones give the same peak from 2 to
    20 km (within a factor 2). The run follows the gas as passive, so zones does too
    here: with `dense_gas: auto` it would use the Britter-McQuaid model for this 20 kg/s
    of chlorine, whose wide, shallow cloud is several times more concentrated at 2 km."""
    from plumecast.nearfield.zones.footprint import peak_concentration, plume_setup
    from plumecast.nearfield.zones.scenario import LocalScenario

    local = LocalScenario.model_validate({
        "name": "same release, zones",
        "source": {"lat": LAT0, "lon": LON0, "height_m": 2.0},
        "release": {"rate_kg_s": 20.0, "duration_s": 3 * 3600.0, "dense_gas": "off"},
        "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": 5.0, "wind_from_deg": 270.0, "stability": "D",
                        "stability_from": "stability", "terrain": "rural", "mixing_height_m": 800.0},
    })
    setup = plume_setup(local)
    peak_run = steady.exposure.total().max(axis=0)
    for i, km in enumerate((2, 5, 10, 20)):
        c_zones = float(peak_concentration(setup, np.array([km * 1000.0]), np.array([0.0]))[0])
        ratio = peak_run[i] / c_zones
        assert 0.5 <= ratio <= 2.0, (km, ratio)


def test_a_receptor_does_not_depend_on_the_others(steady):
    alone = run(_scenario(receptors={"points": [
        {"name": "B 5 km", "lat": LAT0, "lon": _east(5), "population": 5000}]}))
    np.testing.assert_array_equal(alone.exposure.conc[:, :, 0], steady.exposure.conc[:, :, 1])
    cl = get_agent("chlorine")
    a = assess(alone.receptor_series, cl, start=alone.scenario.start64)
    b = assess(steady.receptor_series, cl, start=steady.scenario.start64)
    assert float(a["fatalities"][0]) == float(b["fatalities"][1])


def test_unknown_population_and_off_domain_receptor_are_unknown_not_zero():
    regional = uniform_wind(5.0, 0.0).sel(lat=slice(40, 60), lon=slice(0, 30))
    regional.attrs["global_lon"] = 0
    sc = _scenario(receptors={"points": [
        {"name": "no census", "lat": LAT0, "lon": _east(5)},
        {"name": "counted", "lat": LAT0, "lon": _east(10), "population": 1000},
        {"name": "far away", "lat": -30.0, "lon": 140.0, "population": 1000},
    ]})
    r = run(sc, wind=regional)
    assert r.exposure is not None
    assert r.exposure.on_grid.tolist() == [True, True, False]
    res = assess(r.receptor_series, get_agent("chlorine"), start=sc.start64)
    fat = res["fatalities"].values
    assert np.isnan(fat[0]) and np.isnan(fat[2])  # unknown, not 0
    assert np.isfinite(fat[1]) and fat[1] > 0  # the others are still assessed
    assert "population unknown" in str(res["note"].values[0])


def test_a_trace_before_the_cloud_does_not_move_aegl_times():
    cl = get_agent("chlorine")
    t = np.arange(1, 49) * 600.0  # 8 h of 10-min values
    cloud = np.where((t > 4 * 3600) & (t <= 5 * 3600), 25.0, 0.0)
    traced = np.where(t <= 4 * 3600, 1e-6, cloud)  # a 1e-6 ppm trace for 4 h ahead of the cloud
    assert 1e-6 < 0.01 * 0.5  # the trace is below the onset floor (1 % of the 8-h AEGL-1, 0.5 ppm)
    da = xr.DataArray(np.stack([cloud, traced], axis=1), dims=("time", "receptor"), coords={"time": t},
                      attrs={"units": "ppm"})
    res = assess(da, cl, [100.0, 100.0], start=0.0)
    for level in (1, 2, 3):
        h = res[f"hours_to_aegl{level}"].values
        # the trace's mean before the cloud moves the earliest-air bound by 10 min x 1e-6 / AEGL: < 1 s
        assert h[1] == pytest.approx(h[0], abs=1 / 3600), level
    assert np.isfinite(res["hours_to_aegl3"].values[0])
    assert onset_floor(cl) == pytest.approx(0.01 * float(ppm_to_kg_m3(0.5, cl.molecular_weight_g_mol)), rel=1e-9)


def test_countdowns_start_at_the_interval_and_count_from_issue():
    cl = get_agent("chlorine")
    t = np.arange(1, 13) * 600.0
    da = xr.DataArray(np.full((12, 1), 25.0), dims=("time", "receptor"), coords={"time": t},
                      attrs={"units": "ppm"})
    res = assess(da, cl, [10.0], start=0.0, issued_at=600.0)
    # AEGL-3 reached in (30, 40] min: reported at 30 min less 10 min x 25/28 (the interval
    # before, 25 ppm against its 28-ppm AEGL-3, consequence_metrics._lead_s); issued at 10 min
    first_s = 1800.0 - 600.0 * 25 / 28
    assert float(res["hours_to_aegl3"][0]) == pytest.approx(first_s / 3600)
    assert float(res["lead_time_aegl3"][0]) == pytest.approx((first_s - 600.0) / 3600)


def test_probit_sets_give_a_range():
    cl = get_agent("chlorine")
    t = np.arange(1, 4) * 600.0
    da = xr.DataArray(np.full((3, 1), 300.0), dims=("time", "receptor"), coords={"time": t},
                      attrs={"units": "ppm"})
    res = assess(da, cl, [1e6], start=0.0)
    lo, mid, hi = (float(res[k][0]) for k in ("fatalities_low", "fatalities", "fatalities_high"))
    assert len(cl.probits) >= 2
    assert lo <= mid <= hi and lo < hi


def test_kernel_estimate_picks_the_smallest_disc_with_enough_particles():
    radii = ring_radii(np.array([1000.0]))
    shell_mass = np.zeros((radii.shape[1], 1, 1))
    shell_count = np.zeros((radii.shape[1], 1, 1), np.int64)
    shell_mass[0, 0, 0], shell_count[0, 0, 0] = 5.0, 5  # 5 particles in the first 1 km
    shell_mass[2, 0, 0], shell_count[2, 0, 0] = 20.0, 20  # 20 more between 2 and 4 km
    conc, used = kernel_estimate(shell_mass, shell_count, radii, 100.0)
    assert used[0] == pytest.approx(4000.0)
    assert conc[0, 0] == pytest.approx(25.0 / (math.pi * 4000.0**2 * 100.0))


def test_the_tags_cuts_do_not_change_the_sum_of_the_tags():
    """The do-nothing baseline of a comparison is the sum of its emission tags, cut at the
    plans' termination times: it is the run without tags whatever the cuts (plans audit,
    session 30: with a disc per tag, eight tags against one had moved a city's dose by 8 %
    and its AEGL-3 arrival by 50 min). Particles alone here (no near field)."""
    sc = _scenario(particles=4000, near_field={"distance_km": 0})
    one = run(sc)
    many = run(sc, exposure_tags_h=[0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    assert many.exposure.n_tags > one.exposure.n_tags
    assert one.exposure.total()[:, 3:].max() > 0  # the particles reach the far receptors
    np.testing.assert_allclose(many.exposure.total(), one.exposure.total(), rtol=1e-12, atol=1e-300)


def test_the_tags_cuts_do_not_change_the_baseline_where_the_plume_reaches():
    """The same with the near-field plume, out to the 100 km it reaches: a place breathes the larger of the
    plume's air and its release's particles', and the larger had been taken cut by cut, so that a sum of
    larger-ofs grew as the plans' cut times made the tags finer (compare audit, session 42: a city 35 km out,
    0.33 deaths in the baseline beside one shelter plan, 1.52 beside four terminations more). It is now taken
    over all the release's tags, and a kept set of tags reads the same whatever other cuts there are."""
    sc = _scenario(particles=4000)
    one = run(sc)
    many = run(sc, exposure_tags_h=[0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    some = run(sc, exposure_tags_h=[1.0])
    x = many.exposure
    assert x.near_field.any() and x.n_tags > one.exposure.n_tags
    assert one.exposure.total()[:, 3:].max() > 0
    np.testing.assert_allclose(x.total(), one.exposure.total(), rtol=1e-12, atol=1e-300)
    # the air of the first hour's emission, from six cuts or from one (to 1e-12 of the peak: the plume's far
    # tails, 1e-156 against 0, take its windows' shares by bin edges the two sets of cuts place differently)
    first = (x.tag_start_h < 1.0).astype(float)
    want = some.exposure.total((some.exposure.tag_start_h < 1.0).astype(float))
    assert want.max() > 0
    np.testing.assert_allclose(x.total(first), want, rtol=1e-9, atol=1e-12 * want.max())


def test_termination_by_tags_equals_a_direct_rerun():
    # the Gaussian plume (linear in the emissions); zones' dense cloud of a cut release is another cloud, and
    # compare reruns its terminations (tests/plans/test_dense_termination.py)
    sc = _scenario(duration_h=3, releases=[{"type": "point", "name": "tank", "lat": LAT0, "lon": LON0,
                                            "height_m": 2.0, "rate_kg_s": 20.0, "dense_gas": "off"}])
    full = run(sc, exposure_tags_h=[1.0], particle_mass_kg=2.0)
    cut = run(sc.replace(termination_h=1.0), exposure_tags_h=[1.0], particle_mass_kg=2.0)
    x = full.exposure
    keep = (x.tag_start_h < 1.0).astype(float)
    np.testing.assert_allclose(x.total(keep), cut.exposure.total(), rtol=1e-9, atol=0.0)
    # nothing is born after the termination in the rerun
    born = cut.particles.birth_step[cut.particles.birth_step < sc.n_steps]
    assert born.max() * sc.time_step_s < 3600.0


@pytest.mark.parametrize("deposition", [None, {"dry_velocity_m_s": 0.01}], ids=["single-level", "3-D kernel"])
def test_numba_kernel_sampling_matches_the_numpy_reference(deposition):
    # with deposition on, the numba backend runs its 3-D kernel (a batch of particles
    # stage by stage) and samples the receptors there
    sc = _scenario(duration_h=2, particles=4000)
    if deposition is not None:
        sc = sc.replace(deposition=deposition)
    ref = run(sc)  # numpy backend: receptors sampled on the host after every step
    fast = run(sc.replace(backend="numba"))  # sampled inside the compiled kernel
    if deposition is not None:
        assert ref.budget.deposited_dry > 0.0
    np.testing.assert_allclose(fast.exposure.conc, ref.exposure.conc, rtol=1e-9, atol=1e-300)
    assert np.count_nonzero(ref.exposure.conc) > 0
    # and the particles' air within the steps, for the countdowns (exposure_rings.path_add), the same way (the near
    # field off: the particles reach the receptors within the run)
    sc = sc.replace(near_field={"distance_km": 0.0})
    ref, fast = run(sc), run(sc.replace(backend="numba"))
    assert fast.exposure.particle_peak is not None and ref.exposure.particle_peak is not None
    np.testing.assert_allclose(fast.exposure.particle_peak, ref.exposure.particle_peak, rtol=1e-9, atol=1e-300)
    # (8 values above the end samples since session 50: each particle is read where its emission within the step
    # puts it, and a steady release's steps are no longer lumps that pass a receptor within the step; 11 or more
    # before)
    assert np.count_nonzero(ref.exposure.particle_peak) > 5
    np.testing.assert_allclose(fast.exposure.peak_extra, ref.exposure.peak_extra, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("backend", ["numpy", "numba", "numba-3d"])
def test_gridded_emission_tags_add_up_and_equal_a_rerun(backend):
    # "numba-3d": deposition on, so numba runs its 3-D kernel (a batch stage by stage)
    sc = _scenario(duration_h=2, particles=3000, backend=backend.removesuffix("-3d"),
                   releases=[{"type": "point", "name": "tank", "lat": LAT0, "lon": LON0, "height_m": 2.0,
                              "rate_kg_s": 20.0}])
    if backend.endswith("-3d"):
        sc = sc.replace(deposition={"dry_velocity_m_s": 0.01})
    full = run(sc, grid_tags_h=[1.0], particle_mass_kg=20.0)
    by_tag = full.concentration_by_tag
    assert by_tag is not None and by_tag.sizes["tag"] == 2
    np.testing.assert_allclose(by_tag.sum("tag").values, full.concentration.values, rtol=1e-5, atol=1e-30)
    cut = run(sc.replace(termination_h=1.0), particle_mass_kg=20.0)
    early = by_tag.isel(tag=0).values
    np.testing.assert_allclose(early, cut.concentration.values, rtol=1e-6, atol=1e-30)
    assert float(by_tag.isel(tag=1).sum()) > 0


def test_a_town_beside_the_plume_is_exposed_over_its_area_not_at_its_centre():
    # a town whose centre is 3 km crosswind of the plume axis, 5 km downwind: the plume
    # (sigma_y ~ 0.4 km) misses the centre but crosses the town's 4 km disc
    north = LAT0 + math.degrees(3000.0 / EARTH_RADIUS_M)
    pts = [{"name": "town", "lat": north, "lon": _east(5), "population": 50000, "radius_km": 4.0},
           {"name": "centre only", "lat": north, "lon": _east(5), "population": 50000}]
    r = run(_scenario(duration_h=2, receptors={"points": pts}))
    peak = r.exposure.total().max(axis=0)
    assert r.exposure.near_field[0]
    assert peak[0] > 100 * max(peak[1], 1e-30)
    # the disc mean is of the order of the crosswind-integrated plume spread over the disc
    axis = _scenario().model_copy()
    assert peak[0] < 0.5 * float(run(axis).exposure.total().max(axis=0)[1])  # below the 5-km axis value
