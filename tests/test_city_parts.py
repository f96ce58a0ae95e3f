"""A city crossed by a point release's plume is assessed part by part of its disc
(plumecast.city_parts, exposure_parts.by_part): the disc's mean air understated the deaths."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.city_parts import assess_exposure
from plumecast.consequence import assess
from plumecast.disc_samples import SECTOR_DEG
from plumecast.exposure_parts import by_part
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict


def _scenario(**extra):
    d = dict(
        name="rail car in town", start="2026-01-20T06:00:00Z", duration_h=3, time_step_s=300, particles=3000,
        seed=5, backend="numpy", agent="chlorine",
        met={"source": "uniform", "u_m_s": 2.0, "v_m_s": 0.0},
        turbulence={"kh_m2_s": 2000.0, "mixing_height_m": 400.0},
        releases=[{"type": "point", "name": "rail car", "lat": 51.43, "lon": 6.76, "height_m": 1, "rate_kg_s": 10.0,
                   "stop_h": 2, "dense_gas": "off"}],  # the narrow Gaussian plume (zones' dense cloud is wider)
        receptors={"points": [
            # a city whose disc (5.6 km) holds the release 1 km west of its centre
            {"name": "Town", "lat": 51.43, "lon": 6.76 + 1.0 / 69.4, "population": 500_000, "radius_km": 5.6},
            {"name": "Far", "lat": 51.43, "lon": 6.76 + 210.0 / 69.4, "population": 100_000, "radius_km": 3.0},
            {"name": "Spot", "lat": 51.43, "lon": 6.76 + 2.0 / 69.4, "population": 100}]},
        near_field={"stability": "F"},
    )
    d.update(extra)
    return scenario_from_dict(d)


@pytest.fixture(scope="module")
def result():
    return run(_scenario())


def test_only_the_discs_the_plume_can_cross_are_split(result):
    from plumecast.exposure_parts import by_part_shares

    exp = result.exposure
    assert exp.part_receptors.tolist() == [0]  # Town; Far is beyond the plume's reach (200 km), Spot is a point
    expanded, parent, share = by_part_shares(exp)
    n = int(np.count_nonzero(parent == 0))
    # the parts the plume reaches, one each, and the rest of the disc as one (they breathe the same air)
    hit = n - 1  # the parts the plume reaches (above a thousandth of their air), and the rest of the disc
    n_parts = int(exp.part_ptr[1] - exp.part_ptr[0])
    assert 1 <= hit < int(np.count_nonzero(exp.part_c.any(axis=(0, 1)))) <= n_parts
    assert parent.tolist() == [0] * n + [1, 2]
    assert share[:n].sum() == pytest.approx(1.0) and share[n - 1] == pytest.approx(1.0 - share[:hit].sum())
    assert set(np.round(share[:hit], 15)) <= set(np.round(exp.part_weight, 15))  # each part its own share
    assert expanded.receptors.population[:n].sum() == pytest.approx(500_000)
    # the people-weighted mean of the parts' air is the city's
    np.testing.assert_allclose(expanded.total()[:, :n] @ share[:n], exp.total()[:, 0], rtol=1e-9, atol=1e-15)
    assert by_part(exp)[1].tolist() == parent.tolist()


def test_a_narrow_plume_across_a_city_kills_the_people_it_crosses(result):
    """The disc's mean air gave '< 1' death for 108 t of chlorine released in Duisburg (decision
    audit): the deaths are summed over the parts, the place figures are the worst part's."""
    exp = result.exposure
    # (the disc's mean with its near-field air's front, as run counts it down: test_arrival_floor.py)
    mean_only = assess(exp.to_dataarray(), result.agent, exp.receptors, start=result.scenario.start64,
                       arrival_floor=exp.arrival_floor())
    ds = assess_exposure(exp, result.agent, start=result.scenario.start64)
    assert int(ds["disc_parts"][0]) > 1 and int(ds["disc_parts"][1]) == 0
    town_mean, town = float(mean_only["fatalities"][0]), float(ds["fatalities"][0])
    assert town > 100.0 * max(town_mean, 1e-6) and town > 1.0
    assert float(ds["peak_percent_aegl3"][0]) > 10.0 * float(mean_only["peak_percent_aegl3"][0])
    assert float(ds["lethal_fraction"][0]) == pytest.approx(town / 500_000, rel=1e-9)
    # the earliest part, never later than the mean's arrival, or than the parts' own front where the mean's front
    # is a part's whose air is too little to be split off (7.2 s against 11.8 s here)
    from plumecast.exposure_parts import by_part_kinds

    expanded, parent, _, _ = by_part_kinds(exp)
    fronts = expanded.arrival_floor().front_s[-1][parent == 0]
    first_part = result.scenario.start64 + np.timedelta64(int(np.min(fronts) * 1e9), "ns")
    t_parts, t_mean = ds["first_exceedance_aegl2"].values[0], mean_only["first_exceedance_aegl2"].values[0]
    assert not np.isnat(t_parts) and (np.isnat(t_mean) or t_parts <= max(t_mean, first_part))
    # the rows of the receptors not split are unchanged; the total follows
    for name in ("fatalities", "peak_percent_aegl3", "toxic_load"):
        np.testing.assert_array_equal(ds[name].values[1:], mean_only[name].values[1:])
    assert ds.attrs["total_fatalities"] == pytest.approx(np.nansum(ds["fatalities"].values))
    assert ds["concentration"].shape == mean_only["concentration"].shape[:1] + ds["concentration"].shape[1:]


def test_compare_gathers_the_parts_as_run_does(result):
    """The plans' outcomes are made of the same parts: the baseline's deaths are run's."""
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plans

    exp = result.exposure
    base = evaluate_plans(exp, result.agent, [(PlanConfig(name="do nothing"), None)], ["rail car"])[0]
    ds = assess_exposure(exp, result.agent, start=result.scenario.start64)
    assert base.fatalities.shape == (3,)
    assert base.fatalities[0] == pytest.approx(float(ds["fatalities"][0]), rel=1e-9)
    assert base.exceed2[0] == 1.0


@pytest.mark.parametrize(("stability", "offset_km", "rate", "terrain"), [
    ("D", 1.0, 10.0, "rural"), ("F", 0.0, 10.0, "rural"), ("F", 4.0, 10.0, "rural"), ("D", 4.6, 100.0, "urban"),
    ("D", 12.0, 100.0, "rural")])
def test_the_parts_resolve_a_narrow_plume(stability, offset_km, rate, terrain):
    """The people under a plume tens of metres wide are counted as a fine grid over the disc
    counts them: the parts are cells of a polar grid round the release (plumecast.disc_samples).
    Sixty-four equal-area parts, 1.4 km apart in a city of 600,000, read AEGL-3 'never' and < 1
    death for 100 kg/s of chlorine released 4.6 km from Essen's centre (consequence audit); in
    these cases they were 0.67, 0.002, 0.08, 2.2 and 1.3 times the fine grid's figure."""
    from scipy.special import ndtr

    from plumecast.disc_samples import disc_samples
    from plumecast.near_field_plume import NearFieldSource

    lat0, lon0, radius = 51.45, 6.95, 6000.0
    m_per_deg_lon = 111_195.0 * np.cos(np.radians(lat0))
    src = NearFieldSource(group=0, lat=lat0, lon=lon0 - offset_km * 1000.0 / m_per_deg_lon, height_m=2.0,
                          pg_class=stability, terrain=terrain, mixing_height_m=800.0, decay_rate_s=0.0,
                          rate_at=lambda t: np.full(np.shape(t), rate))

    def wind(lon, lat, t):
        return 3.0, 0.4  # a little north of east: the plume crosses no cell's axis by design

    def lethal(c):  # a probit in ln C over 30 min (chlorine-like: 50 % at about 430 mg/m3)
        return ndtr((np.log(np.maximum(c, 1e-30) * 1e6) - np.log(430.0)) * 2.75 * 0.5)

    samples = disc_samples(np.array([lat0]), np.array([lon0]), np.array([radius]), np.array([0]),
                           [(src.lat, src.lon)], 30_000.0)
    c, _ = src.concentration_at(samples.lat, samples.lon, 3600.0, 30_000.0, wind)
    by_parts = float(np.sum(samples.weight * lethal(c)))
    # a 10-m grid over the disc
    g = np.arange(-radius + 5.0, radius, 10.0)
    x, y = np.meshgrid(g, g)
    inside = x * x + y * y <= radius * radius
    c_fine, _ = src.concentration_at(lat0 + y[inside] / 111_195.0, lon0 + x[inside] / m_per_deg_lon, 3600.0,
                                     30_000.0, wind)
    fine = float(np.mean(lethal(c_fine)))
    assert fine > 5e-4  # the plume kills people in this disc
    assert by_parts == pytest.approx(fine, rel=0.05)
    # the parts' people are the disc's, but for the few metres round the release
    assert samples.weight.sum() == pytest.approx(1.0, abs=1e-4)


def test_a_split_city_keeps_its_deaths_per_probit_set(result):
    """The totals' range is the range of the totals over the probit sets: a split city's
    per-set deaths are its parts' sums, and its low and high are their extremes."""
    ds = assess_exposure(result.exposure, result.agent, start=result.scenario.start64)
    per_set = np.asarray(ds["fatalities_by_probit_set"].values[0], dtype=float)
    assert per_set.size >= 2
    assert per_set.min() == pytest.approx(float(ds["fatalities_low"][0]), rel=1e-9)
    assert per_set.max() == pytest.approx(float(ds["fatalities_high"][0]), rel=1e-9)


def test_the_tables_say_which_figures_are_the_worst_parts(result, tmp_path):
    """consequences.csv gave a split city's probit and toxic load (its worst part's) beside its lethal fraction
    and deaths (the whole city's) with no word on it: a probit of 6 beside 3 % dead reads as an error (first-hour
    audit, session 40, item B3). The CSV now says so in a '# note:' line, the netCDF in each such figure's
    comment; a result without split rows says nothing."""
    from plumecast.city_parts import PLACE_COMMENT, parts_note
    from plumecast.report_tables import write_consequence_table

    ds = assess_exposure(result.exposure, result.agent, start=result.scenario.start64)
    assert int(ds["disc_parts"][0]) > 0 and float(ds["probit"][0]) > 0
    # the worst part's probit against the city's lethal fraction: not the same people
    from plumecast.consequence_metrics import lethal_fraction_from_probit

    assert float(lethal_fraction_from_probit(ds["probit"].values[0])) > 1.5 * float(ds["lethal_fraction"][0])
    write_consequence_table(ds, tmp_path)
    lines = (tmp_path / "consequences.csv").read_text().splitlines()
    notes = [ln for ln in lines if ln.startswith("# note: ")]
    assert len(notes) == 1 and "1 row is made of the parts" in notes[0] and "whole city's" in notes[0]
    assert lines.index(notes[0]) < next(i for i, ln in enumerate(lines) if ln.startswith("name"))
    import xarray as xr

    with xr.open_dataset(tmp_path / "consequences.nc") as nc:
        assert nc["probit"].attrs["comment"] == PLACE_COMMENT == nc["toxic_load"].attrs["comment"]
        assert "comment" not in nc["fatalities"].attrs
    plain = assess(result.exposure.to_dataarray(), result.agent, result.exposure.receptors,
                   start=result.scenario.start64)
    assert parts_note(plain) is None


def test_a_city_is_reached_no_later_than_its_edge():
    """A part breathes the air at the centre of its area, up to half a ring inside the disc's
    edge: the city's AEGL countdown was 5-14 min later than a point 10 m inside its upwind edge
    (regression audit). The edge is sampled too (parts of no people)."""
    lat0, lon0 = 51.0, 7.0
    km = 111.195 * np.cos(np.radians(lat0))
    d = dict(
        name="edge", start="2026-01-20T06:00:00Z", duration_h=2, time_step_s=60, particles=2000, seed=5,
        backend="numpy", agent="chlorine", met={"source": "uniform", "u_m_s": 2.0, "v_m_s": 0.0},
        turbulence={"kh_m2_s": 2000.0, "mixing_height_m": 400.0},
        releases=[{"type": "point", "name": "B", "lat": lat0, "lon": lon0 - 12.0 / km, "height_m": 1.0,
                   "rate_kg_s": 5.0, "stop_h": 1.0}],
        receptors={"points": [
            {"name": "City", "lat": lat0, "lon": lon0, "population": 565_000, "radius_km": 6.0},
            {"name": "Edge", "lat": lat0, "lon": lon0 - 5.99 / km, "population": 100}]},
        near_field={"stability": "F"},
    )
    ds = run(scenario_from_dict(d)).consequences()
    for level in (1, 2, 3):
        city, edge = ds[f"first_exceedance_aegl{level}"].values[:2]
        assert not np.isnat(edge)
        assert city <= edge, (level, city, edge)


@pytest.mark.parametrize("second_km", [(3.0, -2.0), (3.0, -1.88), (1.0, 0.0)])
def test_two_releases_near_one_city_are_both_resolved(second_km):
    """With two point releases near a city, each one's grid covers the part of the disc nearer
    to it: the cells had centred on the nearest release only, and two releases of 30 kg/s read
    1.55 times a fine grid's deaths, 0.71 times after moving one by 60 m (regression audit)."""
    from scipy.special import ndtr

    from plumecast.disc_samples import disc_samples
    from plumecast.near_field_plume import NearFieldSource

    lat0, lon0, radius = 51.45, 6.95, 6000.0
    m_lon = 111_195.0 * np.cos(np.radians(lat0))

    def source(g, east_km, north_km, rate):
        return NearFieldSource(group=g, lat=lat0 + north_km / 111.195, lon=lon0 + east_km * 1000.0 / m_lon,
                               height_m=2.0, pg_class="D", terrain="rural", mixing_height_m=800.0, decay_rate_s=0.0,
                               rate_at=lambda t: np.full(np.shape(t), rate))

    srcs = [source(0, -3.0, 2.0, 30.0), source(1, *second_km, 30.0)]

    def wind(lon, lat, t):
        return 3.0, 0.4

    def lethal(c):
        return ndtr((np.log(np.maximum(c, 1e-30) * 1e6) - np.log(430.0)) * 2.75 * 0.5)

    def air(la, lo):
        return sum(s.concentration_at(la, lo, 3600.0, 30_000.0, wind)[0] for s in srcs)

    samples = disc_samples(np.array([lat0]), np.array([lon0]), np.array([radius]), np.array([0]),
                           [(s.lat, s.lon) for s in srcs], 30_000.0)
    assert samples.weight.sum() == pytest.approx(1.0, abs=2e-3)
    by_parts = float(np.sum(samples.weight * lethal(air(samples.lat, samples.lon))))
    g = np.arange(-radius + 5.0, radius, 10.0)
    x, y = np.meshgrid(g, g)
    inside = x * x + y * y <= radius * radius
    fine = float(np.mean(lethal(air(lat0 + y[inside] / 111_195.0, lon0 + x[inside] / m_lon))))
    assert fine > 5e-4
    assert by_parts == pytest.approx(fine, rel=0.05)


def test_an_agent_without_a_probit_keeps_the_worst_part_by_its_peak() -> None:
    """The worst part is the largest toxic load; an agent without a probit has none (NaN), and the
    first part had been taken, the farthest from the plume where the release lies outside the
    disc: Essen read 1.6e-6 ppm beside AEGL-1 reached (outputs audit, session 35). Its place
    figures are now the part of the highest peak, here the same part as chlorine's largest toxic
    load."""
    from plumecast.agents import resolve_agent

    # the release 8 km west of Town's centre, outside its 5.6-km disc; the wind carries the plume across it
    res = run(_scenario(releases=[{"type": "point", "name": "rail car", "lat": 51.43, "lon": 6.76 - 7.0 / 69.4,
                                   "height_m": 1, "rate_kg_s": 10.0, "stop_h": 2, "dense_gas": "off"}]))
    exp = res.exposure
    cl2 = res.agent
    noprobit = resolve_agent({"name": "no probit gas", "molecular_weight_g_mol": cl2.molecular_weight_g_mol,
                              "aegl_ppm": {int(k): dict(v) for k, v in cl2.aegl_ppm.items()}})
    with_probit = assess_exposure(exp, cl2, start=res.scenario.start64)
    without = assess_exposure(exp, noprobit, start=res.scenario.start64)
    assert int(without["disc_parts"][0]) > 1
    assert np.isnan(without["toxic_load"].values[0]) and np.isnan(without["fatalities"].values[0])
    expanded, parent = by_part(exp)
    parts = assess(expanded.to_dataarray(), noprobit, expanded.receptors, start=res.scenario.start64)
    town = np.asarray(parts["peak_concentration"].values, float)[parent == 0]
    assert float(without["peak_concentration"][0]) == float(np.nanmax(town)) > 10.0 * float(town[0])
    for name in ("peak_concentration", "peak_percent_aegl3", "exposure_duration_h"):
        np.testing.assert_array_equal(without[name].values, with_probit[name].values)


@pytest.mark.parametrize("distance_km, radius_m", [(10.0, 1000.0), (60.0, 6000.0), (85.0, 3000.0)])
def test_only_the_edge_a_release_sees_is_sampled(distance_km, radius_m):
    """The edge's points (parts of no people, for the arrival) lie on the arc between the
    tangents from the release (a ray enters the disc there first): the far arc's had been 45 %
    of all samples among the Ruhr's towns; a disc holding the release keeps its whole edge."""
    from plumecast.countermeasures.front import great_circle_m
    from plumecast.disc_samples import disc_samples, edge_step_deg

    lat, lon = np.array([51.45]), np.array([6.75 + distance_km / 69.4])
    s = disc_samples(lat, lon, np.array([radius_m]), np.array([0]), [(51.45, 6.75)], 90e3)
    edge = s.weight == 0.0
    d_centre = float(great_circle_m(51.45, 6.75, lat, lon)[0])
    to_edge = great_circle_m(51.45, 6.75, s.lat[edge], s.lon[edge])
    tangent = np.sqrt(d_centre ** 2 - radius_m ** 2)
    step = edge_step_deg(radius_m, d_centre)
    assert (to_edge <= tangent + radius_m * np.radians(step) + 1.0).all()
    # the arc seen is under half the circle, sampled every step of it
    assert 0.3 * 360.0 / step - 1 < edge.sum() <= 0.5 * 360.0 / step + 2
    assert to_edge.min() == pytest.approx(d_centre - radius_m, rel=2e-3)
    holding = disc_samples(np.array([51.45]), np.array([6.75 + 1.0 / 69.4]), np.array([5600.0]), np.array([0]),
                           [(51.45, 6.75)], 30e3)
    assert int((holding.weight == 0.0).sum()) == round(360.0 / SECTOR_DEG)


def test_edge_points_are_a_quarter_of_the_narrowest_plume_apart_or_closer():
    """1.5 degrees about the disc's centre, or a quarter of class F's sigma_y at its nearest edge
    where that is wider (a small town far away had 120 points 26 m apart), at most 45 degrees."""
    from plumecast.disc_samples import edge_step_deg
    from plumecast.nearfield.gaussian import briggs_sigma_y

    assert edge_step_deg(6000.0, 8000.0) == SECTOR_DEG  # a city near the release: as before
    for radius, centre in ((1000.0, 30e3), (1000.0, 150e3), (6000.0, 60e3)):
        spacing = radius * np.radians(edge_step_deg(radius, centre))
        assert spacing == pytest.approx(0.25 * float(briggs_sigma_y(centre - radius, "F", "rural")), rel=1e-9)
    assert edge_step_deg(200.0, 190e3) == 45.0
