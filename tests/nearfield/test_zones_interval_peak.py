"""zones' edges are read from the air's most within each interval, not the interval means (session 51).

The level ratio compares the air with the AEGL for the duration elapsed since the onset; read from the
4-sample interval means it smoothed a passing cloud's peak, and a zone came out shorter than the same
scenario on a 16 times finer axis: 3 t of chlorine over 600 s, class F, 1.5 m/s, AEGL-2 59.0 km against
60.4 km (at 60 km the largest interval mean was 1.8 % below the air's peak), a place inside the zone drawn
outside it. The ratio now takes, per interval, the air's most within it (closed form,
:func:`plumecast.nearfield.zones.window_peaks.air_most`) over the AEGL at the interval's end: no lower than
the air's own ratio at any time of the interval; here no zone shorter than on the 16 times finer axis.
"""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.nearfield.zones import compute_zones
from plumecast.nearfield.zones import plume as zplume
from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate
from tests.nearfield.zone_cases import level_ratio_at, release_case

CASES = {  # before: the zones' AEGL edges [m] against the 16 times finer axis's
    "3 t Cl2 over 600 s, F 1.5 m/s (dense)": release_case("chlorine", 3000.0, 600, 1.5, "F"),  # AEGL-2 59,007.8 / 60,443.5
    "300 kg Cl2 at once, D 3 m/s (dense)": release_case("chlorine", 300.0, 0, 3.0, "D"),  # AEGL-1 7,339.6 / 7,342.7
    "36 t NH3 over 600 s, D 3 m/s (passive)": release_case("ammonia", 36000.0, 600, 3.0, "D"),  # AEGL-1 20,283 / 20,309
    "3 t Cl2 over 1 h, D 3 m/s (dense)": release_case("chlorine", 3000.0, 3600, 3.0, "D"),  # AEGL-3 640.0 / 640.4
    "300 kg Cl2 at once, E 2 m/s (passive)": release_case("chlorine", 300.0, 0, 2.0, "E", "off"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_no_zone_is_shorter_than_on_a_finer_axis(monkeypatch, name):
    sc = CASES[name]
    coarse = compute_zones(sc, consequences=False)
    monkeypatch.setattr(zplume, "N_TIME_INTERVALS", 16 * zplume.N_TIME_INTERVALS)
    fine = compute_zones(sc, consequences=False)
    for a, b in zip(coarse.zones, fine.zones, strict=True):
        assert a.max_distance_m >= b.max_distance_m * (1.0 - 1e-6), (name, a.level.name, a.max_distance_m,
                                                                       b.max_distance_m)
        if b.area_m2 > 0:  # the finer axis's polygon inside this one (but for the boundary bisection's last bracket)
            outside = b.polygon_local.difference(a.polygon_local).area
            assert outside <= 1e-5 * b.area_m2, (name, a.level.name, outside / b.area_m2)


DT = 0.5  # the air's own ratio: samples of the analytic series [s]


def _airs_own_ratio(setup, x: float, table, floor: float, ends) -> float:
    """max_t C(t) / level(t − onset) on the analytic series sampled every DT, the onset its first sample at or
    above the floor (a little late, so a little low: by about DT/elapsed/n)."""
    w = zplume.exposure_windows(setup, np.array([x]), np.zeros(1), ends)
    # from the start of the interval before the means' window (the front may fall within it) to the window's end
    t0 = 0.0 if w.start[0] < 2 else float(ends[w.start[0] - 2])
    t = np.arange(t0, float(ends[w.stop[0] - 1]) + DT, DT)
    c = zplume.concentration_series(setup, np.array([x]), np.zeros(1), t)[:, 0]
    hit = np.nonzero(c >= floor)[0]
    assert hit.size
    after = t[hit[0]:] - t[hit[0]]
    level = aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), table, np.maximum(after, 1e-9))
    return float(np.max(c[hit[0]:] / level))


@pytest.mark.parametrize(("name", "aegl", "xs"), [
    ("3 t Cl2 over 600 s, F 1.5 m/s (dense)", 2, [3000.0, 30000.0, 60000.0, 60450.0]),
    ("300 kg Cl2 at once, D 3 m/s (dense)", 1, [1000.0, 7342.0]),
    ("36 t NH3 over 600 s, D 3 m/s (passive)", 1, [5000.0, 20308.0]),
    ("300 kg Cl2 at once, E 2 m/s (passive)", 2, [500.0, 5000.0]),
])
def test_the_axis_ratio_is_no_lower_than_the_airs_own(name, aegl, xs):
    lr, setup, ends, table, _, floor = level_ratio_at(CASES[name], aegl, xs)
    ratio, _ = lr(np.ones(len(xs)))
    for j, xj in enumerate(xs):
        own = _airs_own_ratio(setup, xj, table, floor, ends)
        assert ratio[j] >= own, (name, xj, ratio[j], own)
