"""The countdowns' onset from the step's peak, not its mean (session 49).

:func:`plumecast.consequence_metrics.peak_first_steps` reads the AEGL for the duration elapsed since the
onset. The air can reach the onset floor anywhere in the first step whose peak does, so the onset is that
step's start: the means' onset (the first step whose *mean* reaches the floor) came a step late where a
cloud's front reached the floor near a step's end, read a shorter duration and a higher AEGL (AEGLs fall with
the duration), and so a later countdown. 50 kg/s of carbon monoxide for 2 h, 3 m/s, class D: 7.7 km
downwind the air holds 52 ppm for two hours, AEGL-2 for 2.0 h; the 600-s steps' mean onset was the step
after the 10-s steps' onset (0.16 ppm against the floor's 0.27 in the step before, whose peak read 8 ppm),
and AEGL-2 came at 160.0 min against 159.5 min at 10-s steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from plumecast.agents import get_agent
from plumecast.consequence_inputs import TimeAxis
from plumecast.consequence_metrics import exposure_context, onset_floor, peak_first_steps
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict
from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate
from plumecast.units import P_STANDARD_PA, T_STANDARD_K, ppm_to_kg_m3

KM_PER_DEG_LON = 111.32 * math.cos(math.radians(52.1))


def _context(agent: Any, step_s: float, n: int) -> Any:
    end = step_s * np.arange(1, n + 1, dtype=float)
    axis = TimeAxis(stamps=end, is_datetime=False, release_start=0.0, begin_s=end - step_s, end_s=end)
    return exposure_context(agent, axis, None, onset_floor(agent), T_STANDARD_K, P_STANDARD_PA)


def test_the_onset_is_the_first_step_whose_peak_reaches_the_floor() -> None:
    # 600-s steps, chlorine (AEGL-3 50 ppm at 10 min, 28 ppm at 30 min). Column 0: the cloud's front reaches
    # the floor at the end of step 0 (its mean below the floor, its peak above it), and step 1 holds 40 ppm: the
    # exposure may have begun at step 0's start, so by step 1's end it may have lasted 20 min, whose AEGL-3
    # (35 ppm) 40 ppm reaches; the means' onset (step 1) had read 10 min, 50 ppm, and "never". Column 1: a cloud
    # whose peak passes AEGL-3 while no step's mean reaches the floor had read "never" too.
    agent = get_agent("chlorine")
    ctx = _context(agent, 600.0, 3)
    mw = agent.molecular_weight_g_mol
    floor = onset_floor(agent)
    mean = np.zeros((3, 2))
    peak = np.zeros((3, 2))
    mean[0, 0], peak[0, 0] = 0.5 * floor, 2.0 * floor
    mean[1, 0] = peak[1, 0] = float(ppm_to_kg_m3(40.0, mw))
    peak[0, 1], peak[1, 1] = 2.0 * floor, float(ppm_to_kg_m3(60.0, mw))
    k, thr = peak_first_steps(mean, peak, ctx, 3)
    assert k.tolist() == [1, 1]
    tab = ppm_to_kg_m3(agent.aegl_table_ppm(3), mw)
    twenty_min = float(aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, 1200.0))
    np.testing.assert_allclose(thr, [twenty_min, twenty_min], rtol=1e-12)
    assert ppm_to_kg_m3(40.0, mw) < float(tab[0])  # below the 10-min AEGL-3 the means' onset had read
    # a step whose peak stays below the floor starts no exposure: the same column without the front's step
    peak[0, 0] = 0.5 * floor
    k, _ = peak_first_steps(mean, peak, ctx, 3)
    assert k[0] == -1


def _co(step_s: float) -> Any:
    return scenario_from_dict({
        "name": "co", "start": "2026-06-05T22:00:00Z", "duration_h": 3, "time_step_s": step_s,
        "particles": 2000, "seed": 11, "agent": "carbon monoxide", "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "leak", "lat": 52.10, "lon": 5.00, "height_m": 1, "rate_kg_s": 50.0,
                      "stop_h": 2.0}],
        "local_weather": {"wind_speed_m_s": 3, "wind_from_deg": 270, "stability": "D", "terrain": "rural"},
        "receptors": {"points": [{"name": "x7.7km", "lat": 52.10, "lon": 5.0 + 7.7 / KM_PER_DEG_LON,
                                  "population": 1000}]}})


@pytest.fixture(scope="module")
def fine() -> Any:
    return run(_co(10.0)).consequences()


@pytest.mark.parametrize("step_s", [300.0, 600.0, 900.0])
def test_a_plume_whose_front_reaches_the_floor_late_in_a_step_is_counted_down_no_later(fine: Any,
                                                                                      step_s: float) -> None:
    ref = float(fine["hours_to_aegl2"].values[0]) * 60.0
    assert 155.0 < ref < 162.0, ref  # AEGL-2 after 2 h of 52 ppm
    got = float(run(_co(step_s)).consequences()["hours_to_aegl2"].values[0]) * 60.0
    assert got <= ref + 1e-6, (step_s, got, ref)  # 600-s steps: 160.0 min against 159.5 (the means' onset)


def test_the_area_plumes_stakes_read_the_same_onset() -> None:
    # area_peak.reached and at_stake (where the area plumes' finer peaks are read) take the onset as
    # peak_first_steps does: a receptor whose air with its peak reaches the floor in step 0 (its mean in step 1)
    # and holds 40 ppm of chlorine in step 1 has reached AEGL-3 by step 1's end (20 min: 35 ppm; the means'
    # onset had read 10 min, 50 ppm, and kept the level at stake)
    from types import SimpleNamespace

    from plumecast.area_peak import at_stake, reached, stake_levels

    agent = get_agent("chlorine")
    stakes = stake_levels(agent)
    assert stakes is not None
    c40 = float(ppm_to_kg_m3(40.0, agent.molecular_weight_g_mol))
    conc = np.zeros((1, 3, 1))
    conc[0, 0, 0], conc[0, 1, 0] = 0.5 * stakes.floor, c40
    peak_extra = np.zeros((3, 1))
    peak_extra[0, 0] = 1.5 * stakes.floor
    area = SimpleNamespace(peak_seen=None, spot_receptors=np.zeros(0, np.int64))
    sampler = SimpleNamespace(area=area, conc=conc, spot_extra=np.zeros((1, 3, 0)), area_part_c=np.zeros((1, 3, 0)),
                              peak_extra=peak_extra, area_spot_peak=np.zeros((3, 0)),
                              area_part_peak=np.zeros((3, 0)), dt_s=600.0)
    seen = reached(sampler, stakes, 2)
    assert seen.onset[0].tolist() == [0]
    assert seen.done[0][2].tolist() == [True]  # AEGL-3
    # step 0 seen only: a bound of 40 ppm in step 1 is at stake for AEGL-3 read at 20 min
    seen = reached(sampler, stakes, 1)
    seen.done[0][:2] = True  # AEGL-1 and 2 reached already: AEGL-3 alone can be at stake
    assert at_stake(stakes, seen, 0, 1, 600.0, np.array([c40]), np.array([c40])).tolist() == [True]
    # a first step whose bound alone reaches the floor starts the onset there (at_stake's own step): with 900-s
    # steps 40 ppm is within STAKE_MARGIN of AEGL-3 read at 15 min (40.4 ppm), not of the 10-min 50 ppm read
    # without an onset
    done = np.array([[True], [True], [False]])
    fresh = SimpleNamespace(upto=0, onset=[np.full(1, -1, np.int64)] * 3, done=[done] * 3)
    assert at_stake(stakes, fresh, 0, 0, 900.0, np.array([0.5 * stakes.floor]), np.array([c40])).tolist() == [True]


def test_assess_takes_the_countdowns_onset_from_the_arrival_peak() -> None:
    # zones' receptors (session 50): assess's arrival_peak, the most of the air within each interval, dates the
    # onset of the outdoor countdowns too. 600-s steps of chlorine: the first step's mean is half the onset floor
    # and its most twice the floor, then 1.9 ppm, AEGL-2 for 66.5 min (2.0 ppm at 60 min, n = 2). From the means'
    # onset (the second step) the level was reached in the eighth step, 3,630 s (the lead of the step before:
    # 0.95 of it); from the most's, the first step, a step earlier, 3,030 s. Doses and peaks are the means'.
    import xarray as xr

    from plumecast.consequence import assess

    agent = get_agent("chlorine")
    mw = agent.molecular_weight_g_mol
    floor = onset_floor(agent)
    c = np.zeros((12, 1))
    c[0, 0] = 0.5 * floor
    c[1:, 0] = float(ppm_to_kg_m3(1.9, mw))
    most = c.copy()
    most[0, 0] = 2.0 * floor
    t = 600.0 * np.arange(1, 13)
    da = xr.DataArray(c, dims=("time", "receptor"), coords={"time": t}, attrs={"units": "kg m-3"})
    plain = assess(da, agent, [10.0], start=0.0, arrival_series=da)
    read = assess(da, agent, [10.0], start=0.0, arrival_series=da, arrival_peak=da.copy(data=most))
    assert float(plain["first_exceedance_aegl2"].values[0]) == pytest.approx(3630.0)
    assert float(read["first_exceedance_aegl2"].values[0]) == pytest.approx(3030.0)
    for var in ("toxic_load", "peak_concentration", "peak_percent_aegl3", "fatalities", "fatalities_sheltered"):
        np.testing.assert_array_equal(read[var].values, plain[var].values)
