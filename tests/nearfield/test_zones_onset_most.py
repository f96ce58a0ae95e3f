"""zones' onset of exposure is never later than the air's (session 50).

The zones read the AEGL for the duration elapsed since the onset, the first interval of the geometric
time axis in which the air reaches the onset floor. Taken from the 4-sample interval means it came an
interval late where the air reached the floor in an interval's last part (the interval's mean below the
floor): 3 t of chlorine over 600 s, class F, 1.5 m/s, 62 km downwind, the air reaches the floor at
40,425 s and the means' onset was the interval from 40,463 s, which read AEGL-2 for 25.6 min instead of
31.9 min, a ratio 3 % lower. The onset is now read from the air's most up to each interval's end, in
closed form (:mod:`plumecast.nearfield.zones.window_peaks`); the means, the zones' doses, are unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.consequence import onset_floor
from plumecast.nearfield.zones import LocalScenario
from plumecast.nearfield.zones import plume as zplume
from plumecast.nearfield.zones.setup import plume_setup
from plumecast.nearfield.zones.windowed import LevelRatio
from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

DT = 0.1  # the air's own onset: samples of the analytic series [s]


def _scenario(agent: str, kg: float, duration_s: float, wind: float, cls: str) -> LocalScenario:
    return LocalScenario.model_validate({
        "name": "onset", "source": {"lat": 45.0, "lon": 5.0, "height_m": 2.0},
        "release": {"amount_kg": kg, "duration_s": duration_s}, "agent": agent,
        "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270.0, "stability": cls},
        "receptors": {"cities": False}})


CASES = {  # each with a distance where the means' onset was late (in the comment: how late)
    "3 t Cl2 over 600 s, F 1.5 m/s": (_scenario("chlorine", 3000.0, 600, 1.5, "F"), [3000.0, 62000.0]),  # 0.5, 38 s
    "300 kg Cl2 at once, D 3 m/s": (_scenario("chlorine", 300.0, 0, 3.0, "D"), [20000.0]),  # 3.2 s
    "360 t CO over 2 h, D 3 m/s": (_scenario("carbon monoxide", 360000.0, 7200, 3.0, "D"),
                                   [7000.0, 10000.0, 62000.0]),  # 2.2, 1.1, 53 s
}


def _air_onset(setup, x: float, fl: float, t0: float, t1: float) -> float:
    t = np.arange(max(t0, 0.0) + 0.5 * DT, t1, DT)
    c = zplume.concentration_series(setup, np.array([x]), np.array([0.0]), t)[:, 0]
    assert (c >= fl).any()
    return float(t[np.argmax(c >= fl)])  # the first sample at or above the floor: the air's onset is no later


@pytest.mark.parametrize("name", list(CASES))
def test_the_zones_onset_is_never_later_than_the_airs(name):
    sc, xs = CASES[name]
    setup = plume_setup(sc)
    fl = onset_floor(sc.agent)
    ends = zplume.exposure_time_axis(setup)
    begins = np.concatenate([[0.0], ends[:-1]])
    x = np.asarray(xs)
    w = zplume.exposure_windows(setup, x, 0.0 * x, ends)
    tab = zplume.level_table_kg_m3(type("Lv", (), {"aegl": 2})(), sc.agent)
    ratio = LevelRatio(w, ends, tab[None, :], fl)
    onset, found = ratio.onset(np.ones(x.size))
    assert found.all()
    got, _ = ratio(np.ones(x.size))
    t_on, _, _ = ratio.onset_time(np.ones(x.size))
    for j in range(x.size):
        own = _air_onset(setup, float(x[j]), fl, begins[onset[j]] - 3000.0, ends[onset[j]] + 3000.0)
        assert begins[onset[j]] <= own, (name, x[j], begins[onset[j]], own)
        # the onset time within the interval (session 52): the air's, never later (DT: the samples' step)
        assert begins[onset[j]] <= t_on[j] <= own and t_on[j] > own - DT - 1e-6, (name, x[j], t_on[j], own)
        # the air itself read from its own onset: the zones' ratio is no lower (before session 52's level ratio the interval
        # means over the level at each interval's end, which the zones' most of C(t)/level(t - onset) can be
        # below where the level falls within an interval: 360 t CO, 7 km, 1.0736 against 1.0759)
        t = np.arange(own, float(ends[w.stop[j] - 1]), DT)
        c = zplume.concentration_series(setup, np.array([float(x[j])]), np.zeros(1), t)[:, 0]
        level = aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, np.maximum(t - own, 1e-9))
        from_own = float(np.max(c / level))
        assert got[j] >= from_own * (1.0 - 1e-12), (name, x[j], got[j], from_own)


@pytest.mark.parametrize("ratio_only", [False, True])
def test_level_ratio_onset_from_the_most_against_brute_force(ratio_only):
    """The onset from the air's most (the interval before the window included), and the air's most within each
    interval (session 51), as :meth:`LevelRatio.__call__` and :meth:`LevelRatio.restricted` read them, against a
    plain evaluation; never below the means' ratio."""
    from plumecast.nearfield.zones.windowed import WindowSeries

    sc = CASES["3 t Cl2 over 600 s, F 1.5 m/s"][0]
    setup = plume_setup(sc)
    fl = onset_floor(sc.agent)
    ends = zplume.exposure_time_axis(setup)
    begins = np.concatenate([[0.0], ends[:-1]])
    x = np.geomspace(300.0, 8e4, 40)
    w = zplume.exposure_windows(setup, x, 0.0 * x, ends)
    assert w.most is not None and w.most_before is not None
    assert (w.most_before > 0).any()  # some fronts fall after the last sub-sample of the interval before a window
    tab = zplume.level_table_kg_m3(type("Lv", (), {"aegl": 2})(), sc.agent)
    # what the level ratio reads (session 51): the air's most within each interval, from the interval the front
    # falls in, with the air's most up to each interval's end
    lv = w.for_levels()
    assert lv.most is not None
    dense, most = lv.dense(), np.zeros((ends.size, x.size))
    owner, interval = lv.owner_interval()
    most[interval, owner] = lv.most
    assert np.all(dense >= w.dense())
    assert np.all(lv.start <= w.start) and np.any(lv.start < w.start)
    rng = np.random.default_rng(5)
    f = rng.uniform(0.02, 1.0, x.size)

    def air_onset(fv, onset):
        """The first time in interval ``onset`` at which ``fv`` times the air reaches the floor (session 52),
        bisected on the model's own series (70 halvings), or the interval's start where it is there already;
        per place."""
        def reached(t):
            c = np.diagonal(zplume.concentration_series(setup, x, np.zeros(x.size), t))
            return fv * c >= fl
        lo, hi = begins[onset].copy(), ends[onset].copy()
        start = reached(lo) | ~reached(hi)
        for _ in range(70):
            mid = 0.5 * (lo + hi)
            up = reached(mid)
            lo, hi = np.where(up, lo, mid), np.where(up, mid, hi)
        return np.where(start, begins[onset], hi)

    def brute(fv):
        out = np.zeros(x.size)
        reach = fv * np.maximum.accumulate(most, axis=0) >= fl
        t_air = air_onset(fv, np.argmax(reach, axis=0))  # within the first interval whose most reaches the floor
        for j in range(x.size):
            t_on = t_air[j] if reach[:, j].any() else 0.0
            level = aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, ends - t_on)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = fv[j] * dense[:, j] / level
            out[j] = max(float(np.nanmax(np.where(np.isnan(r), -np.inf, r))), 0.0)
        return out

    lr = LevelRatio(w, ends, tab[None, :], fl, ratio_only=ratio_only)
    # the onset time within its interval: the air's own to the bisection's bracket (1e-9 of the time), never later
    np.testing.assert_allclose(lr(f)[0], brute(f), rtol=1e-7)
    assert np.all(lr(f)[0] >= brute(f) * (1.0 - 1e-12))
    low = lr.restricted(0.5 * f, np.minimum(1.5 * f, 1.0))
    np.testing.assert_allclose(low(0.8 * f)[0], brute(0.8 * f), rtol=1e-7)
    # the means read from the same onset times: the air's most within each interval reads no lower
    means = LevelRatio(WindowSeries.from_dense(w.dense()), ends, tab[None, :], fl, ratio_only=ratio_only)
    means.series.air = lv.air
    assert np.all(lr(f)[0] >= means(f)[0] * (1.0 - 1e-12))
