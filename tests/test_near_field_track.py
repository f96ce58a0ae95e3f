"""The near-field plume follows its streak line when the wind at its source changes
(plumecast.near_field_track): the air now x metres down the plume left the source when the
wind was another, and x / u of the step's wind had been neither its travel time nor its
place. A wind slowing from 3 to 1.5 m/s held a receptor 20 km downwind, in a steady stream
of gas, at nothing for 1.5 h, and brought the plume 2.4-2.7 h after the air 45-95 km
downwind; a wind reversing swung the whole plume upwind at once, 1.3-6.3 h early and at 32
times the steady peak at 20 km (session 37)."""

from __future__ import annotations

import numpy as np
import pytest

import plumecast.near_field_plume as nfp
from plumecast.met import build_wind_dataset
from plumecast.near_field_track import Track, carrying_vector, track_at
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

DT = 300.0
KM_PER_DEG_LON_AT_40 = 85.1  # at 40 N, as the receptors are placed


def test_a_steady_wind_has_no_streak_line_and_a_changing_one_has():
    w = np.tile([3.0, 1.0], (40, 1))
    assert track_at(w, DT, 100e3) is None  # the steady plume is the air's path
    w[5] = [3.0, 1.5]
    assert isinstance(track_at(w, DT, 100e3), Track)
    assert track_at(w[:1], DT, 100e3) is None  # the first step: the wind before it is taken as its own
    assert carrying_vector(0.0, 0.0, 1.0) == (1.0, 0.0)  # calm: east at the floor, as local_xy
    assert carrying_vector(3.0, 4.0, 5.0) == (3.0, 4.0)
    assert carrying_vector(0.3, 0.4, 1.0) == pytest.approx((0.6, 0.8))


def test_the_travel_time_is_the_time_the_wind_took_to_run_the_distance():
    # 3 m/s for the last 10 steps, 1.5 m/s before: the air 9 km down left 1000 s ago, the air 20 km
    # down had run 9 km in 3000 s and the 11 km before at 1.5 m/s
    w = np.array([[1.5, 0.0]] * 100 + [[3.0, 0.0]] * 10)
    tr = track_at(w, DT, 100e3)
    assert tr is not None
    np.testing.assert_allclose(tr.travel_s(np.array([0.0, 9e3, 20e3])), [0.0, 3000.0, 3000.0 + 11e3 / 1.5])
    x, y = tr.locate(np.array([20e3, 20e3, -5e3]), np.array([0.0, 300.0, 0.0]), np.full(tr.path.size, 1e3))
    np.testing.assert_allclose(x, [20e3, 20e3, -5e3])  # behind the source: negative (the plume not there)
    np.testing.assert_allclose(y[:2], [0.0, 300.0], atol=1e-9)
    assert tr.path[-1] >= 100e3 > tr.path[-2]  # knots out to the reach, no further


def test_on_a_folded_line_a_point_takes_the_youngest_air_that_reaches_it():
    # east at 3 m/s for 6 h, then west: the line runs from the source west to the turn's air, then back
    # east over it; a point 10 km west lies on both branches and takes the younger (its travel ~1 h)
    w = np.array([[3.0, 0.0]] * 72 + [[-3.0, 0.0]] * 24)
    tr = track_at(w, DT, 100e3)
    assert tr is not None
    for north in (0.0, 1e-9, -1e-9, 5.0):  # whichever branch the rounding puts nearer
        x, y = tr.locate(np.array([-10e3]), np.array([north]), np.full(tr.path.size, 500.0))
        assert x[0] == pytest.approx(10e3) and y[0] == pytest.approx(abs(north), abs=1e-6)
        assert tr.travel_s(x)[0] == pytest.approx(10e3 / 3.0)


def test_the_older_stretch_of_a_folded_line_is_found_after_the_line_has_left_the_point():
    # east at 3 m/s for 6 h, then west for 2 h: 10 km west the young stretch (air that left ~0.9 h ago) and,
    # further along the line, the older air coming back (it left the source 10 km east of here... and turned)
    w = np.array([[3.0, 0.0]] * 72 + [[-3.0, 0.0]] * 24)
    tr = track_at(w, DT, 100e3)
    assert tr is not None
    cover = np.full(tr.path.size, 500.0)
    x0, _ = tr.locate(np.array([-10e3]), np.array([0.0]), cover)
    x1, y1 = tr.locate(np.array([-10e3]), np.array([0.0]), cover, branch=1)
    assert x0[0] == pytest.approx(10e3) and np.isfinite(x1[0]) and x1[0] > x0[0] + 2 * 500.0
    assert y1[0] == pytest.approx(0.0, abs=1e-6)
    # the old air there left the source when the wind still blew east: its travel is longer than the young air's
    assert tr.travel_s(x1)[0] > 2 * 3600.0
    straight = track_at(np.array([[1.5, 0.0]] * 100 + [[3.0, 0.0]] * 10), DT, 100e3)
    assert straight is not None
    xs, _ = straight.locate(np.array([20e3, -5e3]), np.array([0.0, 0.0]), np.full(straight.path.size, 1e3), branch=1)
    assert np.isnan(xs).all()  # a line that never comes back has no older stretch


def test_a_straight_line_gives_the_steady_plume():
    # the streak line of a steady wind, built by hand, against the steady plume: the same air
    src = nfp.NearFieldSource(group=0, lat=40.0, lon=-100.0, height_m=1.0, pg_class="D", terrain="rural",
                              mixing_height_m=800.0, decay_rate_s=0.0, rate_at=lambda t: np.full(np.shape(t), 5.0))
    n = 400
    tr = Track(ago=DT * np.arange(n + 1), east=2.0 * DT * np.arange(n + 1), north=np.zeros(n + 1),
               path=2.0 * DT * np.arange(n + 1))
    lon = -100.0 + np.array([0.5, 3.0, 12.0, 40.0, 70.0, 12.0]) / KM_PER_DEG_LON_AT_40
    lat = 40.0 + np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.4]) / 111.2
    edges = np.arange(0.0, 48 * 3600.0, 3600.0)

    def wind(lon_, lat_, t):
        return 2.0, 0.0

    for t0 in (7200.0, 30 * 3600.0):
        a = src.step_mean_at(lat, lon, t0, t0 + DT, 100e3, wind, edges)
        b = src.step_mean_at(lat, lon, t0, t0 + DT, 100e3, wind, edges, track=tr)
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-300)
    assert (a[0] > 0).all()


def _turning_run(u_e, v_n, points, monkeypatch, hours=20):
    """10 kg/s of ammonia for 8 h at (40 N, 100 W), class D, hourly winds ``u_e[h]``, ``v_n[h]``
    everywhere; the near-field air at the points, recorded per step (steps, points)."""
    lat = np.arange(35.0, 45.001, 0.25)
    lon = np.arange(-105.0, -95.0 + 1e-9, 0.25)
    times = (np.datetime64("2026-03-01T00") + np.arange(len(u_e)).astype("timedelta64[h]")).astype("datetime64[ns]")
    ones = np.ones((1, lat.size, lon.size), np.float32)
    wind = build_wind_dataset(np.asarray(u_e, np.float32)[:, None, None] * ones,
                              np.asarray(v_n, np.float32)[:, None, None] * ones, times, lat, lon,
                              source="turning", level="10 m", steady=False)
    import plumecast.exposure as ex

    seen = []
    plume_step = ex.ExposureSampler._plume_step

    def record(self, *args, **kw):  # type: ignore[no-untyped-def]
        out = plume_step(self, *args, **kw)
        seen.append(out[0][:len(points)].copy())
        return out

    monkeypatch.setattr(ex.ExposureSampler, "_plume_step", record)
    sc = scenario_from_dict({
        "name": "turning wind", "start": "2026-03-01T00:00:00Z", "duration_h": hours, "time_step_s": DT,
        "particles": 4000, "seed": 3, "backend": "numba", "agent": "ammonia",
        "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "lat": 40.0, "lon": -100.0, "height_m": 1, "rate_kg_s": 10.0,
                      "stop_h": 8.0, "dense_gas": "off"}],
        "receptors": {"points": [{"name": n, "lat": la, "lon": lo, "population": 1000} for n, la, lo in points]},
        "near_field": {"stability": "D"}})
    res = run(sc, wind=wind)
    return np.array(seen), res


def _first_h(series, frac=1e-3):
    on = np.flatnonzero(series > frac * series.max())
    return (on[0] + 1) * DT / 3600.0


def test_a_slowing_wind_keeps_the_air_coming_and_its_arrivals_not_late(monkeypatch):
    # 3 m/s east until 3 h, 1.5 m/s from 4 h (hourly records, linear between)
    u = [3.0] * 4 + [1.5] * 17
    km = (20.0, 45.0, 60.0, 80.0)
    pts = [(f"E{k:g}", 40.0, -100.0 + k / KM_PER_DEG_LON_AT_40) for k in km]
    plume, res = _turning_run(u, [0.0] * len(u), pts, monkeypatch)
    steps_h = (np.arange(plume.shape[0]) + 1) * DT / 3600.0
    e20 = plume[:, 0]
    # in the stream of gas from its first air until the release's last: never nothing (was 0 from 3.1 to 4.6 h)
    stream = (steps_h >= 2.0) & (steps_h <= 8.0)
    assert (e20[stream] > 0.4 * e20[stream].max()).all()  # Q/u: 3 m/s, then twice that at 1.5 m/s
    assert (res.exposure.total()[stream[:res.exposure.total().shape[0]], 0] > 0).all()
    # the air's own arrival: it ran 32.4 km by 3 h, 8.1 km more by 4 h (2.25 m/s on average), then 1.5 m/s
    for i, k in enumerate(km[1:], start=1):
        wind_h = 4.0 + (k - 40.5) / (1.5 * 3.6)
        assert wind_h - 1.0 < _first_h(plume[:, i]) <= wind_h  # never late (was 2.4-2.7 h late), not hours early


def test_a_reversing_wind_reads_never_below_the_steady_plume(monkeypatch):
    # 3 m/s east until 6 h, 3 m/s west from 7 h: where the wind has changed a place breathes the larger of the
    # steady plume of the step's wind and the plume along its streak line, which reads low where the line folds
    # (its younger branch only) and where it sweeps sideways (audit): never below the steady plume (of the air
    # that went its way since session 51: plumecast.near_field_cut; the older air is the line's)
    # Except about the fold's tip (session 53, revtip: plumecast.near_field_tip), where the steady plume lays the
    # air of the turn's calm as if it had come the wind's way at its speed: 20 km west at 8.0-8.5 h, where the line's
    # tip (the calm's air at 6.5 h, 2.7 km west by 7 h) reaches it at 8.6 h; there the line's, the air about the tip
    u = [3.0] * 7 + [-3.0] * 14
    pts = [(f"W{k:g}", 40.0, -100.0 - k / KM_PER_DEG_LON_AT_40) for k in (5.0, 20.0, 45.0)]
    import plumecast.exposure as ex
    from plumecast.near_field_tip import near_tip

    older, tips = ex.with_older, []

    def noted(out, along, branch, at=None):  # type: ignore[no-untyped-def]
        if branch == 0:
            tip = None if at is None else near_tip(*at)
            tips.append(np.zeros(len(pts), bool) if tip is None else tip[:len(pts)])
        return older(out, along, branch, at)

    monkeypatch.setattr(ex, "with_older", noted)
    both, _ = _turning_run(u, [0.0] * len(u), pts, monkeypatch)
    monkeypatch.setattr(ex, "with_older", older)
    steps = len(both) - len(tips)  # the steps before the wind changed have no line
    about = np.concatenate((np.zeros((steps, len(pts)), bool), np.array(tips)))
    assert about.any() and not about[:, 0].all()

    line, cut, kept = ex.track_at, ex.steady_air, {}

    def no_line(*a):  # type: ignore[no-untyped-def]
        kept["track"] = line(*a)  # for the steady plume's cut
        return None

    monkeypatch.setattr(ex, "track_at", no_line)
    monkeypatch.setattr(ex, "steady_air", lambda since, track, *a: cut(since, kept["track"], *a))
    steady, _ = _turning_run(u, [0.0] * len(u), pts, monkeypatch)
    assert both.shape == steady.shape and (steady > 0).any()
    assert ((both >= steady) | about).all()


def _ray(deg, km):
    a = np.radians(deg)
    return (f"{deg:g}/{km:g}", 40.0 + km * np.sin(a) / 111.2, -100.0 + km * np.cos(a) / KM_PER_DEG_LON_AT_40)


def test_air_that_comes_back_or_sweeps_past_a_place_is_breathed_there(monkeypatch):
    """The streak line's plume takes each step's own emission window from its travel times, not the emission a
    place has already breathed: air can pass a place twice, or side-on (audit, session 38, against 30-s puffs in
    the same winds). With the windows a place had breathed, 5 km east read 0 from 6.6 h after a reversal while
    the puffs gave it 45, 41 and 36 ppm of ammonia, and the sector a 90-degree turn swept read 0.04-0.16 of the
    puffs' air (0.76 against 12 ppm at 45 degrees, 10 km)."""
    east = _ray(0.0, 5.0)
    rev, _ = _turning_run([3.0] * 7 + [-3.0] * 14, [0.0] * 21, [east], monkeypatch, hours=12)
    steps_h = (np.arange(rev.shape[0]) + 1) * DT / 3600.0
    axis = rev[(steps_h > 1.0) & (steps_h <= 6.0), 0].max()  # the steady stream's air there
    after = rev[(steps_h > 6.5) & (steps_h <= 6.75), 0]  # the stalled air still east of the source
    assert after.min() > 0.5 * axis
    sector = [_ray(0.0, 10.0), _ray(45.0, 10.0), _ray(60.0, 20.0)]
    turn, _ = _turning_run([3.0] * 4 + [0.0] * 17, [0.0] * 4 + [3.0] * 17, sector, monkeypatch, hours=10)
    at10 = turn[:, 0].max()  # the plume's axis at 10 km before the turn
    assert turn[:, 1].max() > 0.5 * at10  # the puffs: 12 against 18 ppm on the axis (0.67)
    assert turn[:, 2].max() > 0.15 * at10  # 20 km: the puffs 5.4 ppm (0.30)


def test_older_air_that_comes_back_over_a_place_is_breathed_there(monkeypatch):
    """After a reversal the streak line folds: a place west of the source lies on its young stretch (the air
    emitted since) and then on its older one (the air that had gone east and comes back). Taking the young
    stretch alone, 10 km west and 1 km off the axis read nothing once the release had ended (8 h) and its last
    young air had passed, at 8.8 h, while the 30-s puffs gave it 2.0-2.9 ppm to 10.6 h (audit, session 38)."""
    name, lat, lon = _ray(180.0, 10.0)
    west = (name, lat + 1.0 / 111.2, lon)
    rev, _ = _turning_run([3.0] * 7 + [-3.0] * 14, [0.0] * 21, [west], monkeypatch, hours=12)
    steps_h = (np.arange(rev.shape[0]) + 1) * DT / 3600.0
    late = rev[(steps_h > 9.25) & (steps_h <= 10.25), 0]
    one_ppm = 17.031 / 24.45 * 1e-6  # ammonia [kg m-3]
    assert late.min() > one_ppm  # the puffs: 2.0-2.9 ppm; the young stretch alone read about 0.001 ppm


def test_a_calm_keeps_the_steady_plume_where_the_wind_last_went(monkeypatch):
    """An exact calm between northerly winds: the steady plume had pointed east (local_xy's fallback), 136 ppm 5 km
    east where no air goes; it now keeps the last step's way."""
    pts = [_ray(0.0, 5.0), _ray(90.0, 5.0)]
    v = [3.0] * 3 + [0.0] * 3 + [3.0] * 15
    calm, _ = _turning_run([0.0] * 21, v, pts, monkeypatch, hours=9)
    assert calm[:, 1].max() > 0.0
    assert calm[:, 0].max() < 1e-6 * calm[:, 1].max()


def test_steps_not_recorded_take_the_next_recorded_wind():
    # a run resumed from a checkpoint written before the carrying winds were kept: the steps before the
    # resume are NaN and taken as the first recorded one's (a steady wind then, no line)
    w = np.full((30, 2), np.nan)
    w[20:] = [2.0, 1.0]
    assert track_at(w, DT, 50e3) is None
    w[25:] = [1.0, 2.0]
    tr = track_at(w, DT, 50e3)
    assert tr is not None and np.isfinite(tr.east).all() and np.isfinite(tr.path).all()
    assert track_at(np.full((5, 2), np.nan), DT, 50e3) is None  # nothing recorded: the steady plume


def test_a_run_resumed_in_a_turning_wind_is_the_uninterrupted_one(tmp_path):
    from tests.test_checkpoint import _stop_at_first_checkpoint

    lat = np.arange(48.0, 52.001, 0.25)
    lon = np.arange(6.0, 10.001, 0.25)
    times = (np.datetime64("2026-01-10T00") + np.arange(7).astype("timedelta64[h]")).astype("datetime64[ns]")
    ones = np.ones((1, lat.size, lon.size), np.float32)
    ang = np.deg2rad(40.0 * np.arange(7))
    wind = build_wind_dataset((3 * np.cos(ang)).astype(np.float32)[:, None, None] * ones,
                              (3 * np.sin(ang)).astype(np.float32)[:, None, None] * ones, times, lat, lon,
                              source="veering", level="10 m", steady=False)
    sc = scenario_from_dict({
        "name": "veering", "start": "2026-01-10T00:00:00Z", "duration_h": 6, "time_step_s": 600, "particles": 800,
        "seed": 11, "backend": "numpy", "agent": "ammonia", "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "lat": 50.0, "lon": 8.0, "rate_kg_s": 5.0, "stop_h": 4, "dense_gas": "off"}],
        "receptors": {"points": [{"name": f"r{i}", "lat": 50.0 + 0.1 * np.sin(a), "lon": 8.0 + 0.15 * np.cos(a),
                                  "population": 1000} for i, a in enumerate(np.linspace(0, 6, 8))]}})
    whole = run(sc, wind=wind)

    state = _stop_at_first_checkpoint(sc, tmp_path, 3.0, wind=wind)
    assert "nf_track" in state.exposure and np.isfinite(state.exposure["nf_track"][0, :18]).all()
    again = run(sc, wind=wind, resume_from=state)
    assert whole.receptor_series is not None and again.receptor_series is not None
    assert (whole.receptor_series.values > 0).any()
    np.testing.assert_array_equal(whole.receptor_series.values, again.receptor_series.values)


def test_the_line_s_windows_are_the_air_that_passed_and_follow_one_another():
    from plumecast.near_field_track import track_at

    # 4 m/s, a 1 m/s lull over two 60-s steps, 4 m/s again (east): the air 3 km out left at 4 m/s throughout
    dt, x = 60.0, np.array([3000.0])
    speeds = np.array([4.0] * 20 + [1.0] * 2 + [4.0] * 10)
    winds = np.stack([speeds, np.zeros_like(speeds)], axis=1)
    last_b = None
    for k in range(20, speeds.size):  # from the lull
        line = track_at(winds[:k + 1], dt, 10e3)
        assert line is not None and line.straight
        t1 = (k + 1) * dt
        a, b = t1 - dt - line.start_travel_s(x), t1 - line.travel_s(x)
        if last_b is not None:
            np.testing.assert_allclose(a, last_b, atol=1e-9)  # each kilogram passes once
        # the air's density Q/u(t_e) over the moment's u(t): its emission time runs at u(t)/u(t_e) = u(t)/4
        np.testing.assert_allclose((b - a) / dt, speeds[k] / 4.0, rtol=1e-9)
        last_b = b
