"""A dense release's axis peak against its duration, amount and distance (audit D3).

A release at rate q over T is the first T of the release at q over any longer time, so in the same weather
its peak is never the lower: at one rate the peak does not fall as the release lengthens, and it never
exceeds the steady plume of that rate (the release lasting for ever). Britter & McQuaid's (1988) puff of the
whole mass, spread over u T, widens with that mass, and session 25's blend towards it had let a longer
release read lower (5 kg/s of chlorine, class F, 1.5 m/s, 1 km: 370 ppm over 300 s, 220 over 30 min).
The peak is now held to the lowest of the same rate released for longer (``dense_finite.longer_durations``):
it only ever lowers the blend. At a fixed mass a shorter release is never the lower beyond ``u T/0.6`` of the
longer one; nearer, the workbook's plume and puff correlations differ by up to 10 %, which is left
(docs/dense_gas.md)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumecast.nearfield.zones import dense_finite
from plumecast.nearfield.zones.dense_finite import longer_durations
from plumecast.nearfield.zones.plume import dense_axis_concentration, peak_concentration
from plumecast.nearfield.zones.scenario import LocalScenario
from plumecast.nearfield.zones.setup import PlumeSetup, plume_setup

#: distances on the axis [m]
X = np.geomspace(100.0, 50_000.0, 60)
#: durations [s]: off the grid of longer releases (dense_finite.longer_durations) as well as on it
DURATIONS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1_200.0, 1_800.0, 3_600.0, 10_800.0)
#: the longer durations are a grid of 20 a decade: between its points a peak may fall by this much (0.19 %
#: at most over 100 durations from 10 s to 5.6 h, these weathers and rates; 1.5 % with 10 a decade) [-]
GRID_TOLERANCE = 5e-3
WEATHER = [("F", 1.5), ("F", 3.0), ("D", 3.0), ("D", 1.5)]


def _setup(stability: str, wind: float, amount: float, duration: float) -> PlumeSetup:
    return plume_setup(LocalScenario.model_validate({
        "source": {"lat": 52.0, "lon": 5.0, "height_m": 1.0},
        "release": {"amount_kg": amount, "duration_s": duration}, "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270.0, "stability": stability},
        "receptors": {"cities": False}}))


def _peak(stability: str, wind: float, amount: float, duration: float) -> np.ndarray:  # type: ignore[type-arg]
    s = _setup(stability, wind, amount, duration)
    return peak_concentration(s, X, np.zeros_like(X))  # dense, or passive where the criterion is not met


def _worst_fall(rows: list[np.ndarray]) -> float:  # type: ignore[type-arg]
    """The largest factor by which a row is below the one before it, over all distances. [-]"""
    return max(float(np.max(a / np.maximum(b, 1e-300))) for a, b in zip(rows, rows[1:], strict=False))


@pytest.mark.parametrize(("stability", "wind"), WEATHER)
@pytest.mark.parametrize("rate", [0.3, 5.0, 200.0])
def test_peak_non_decreasing_with_duration_at_one_rate(stability: str, wind: float, rate: float) -> None:
    # before: up to 2.9x lower for the longer release (200 kg/s, class D, 1.5 m/s, 30 min against 1 h, 2.4 km)
    rows = [_peak(stability, wind, rate * t, t) for t in DURATIONS]
    assert _worst_fall(rows) <= 1.0 + GRID_TOLERANCE


@pytest.mark.parametrize(("stability", "wind"), WEATHER)
@pytest.mark.parametrize("rate", [0.3, 5.0, 200.0])
def test_peak_never_above_the_steady_plume_of_its_rate(stability: str, wind: float, rate: float) -> None:
    for t in (60.0, 300.0, 1_800.0):
        s = _setup(stability, wind, rate * t, t)
        steady = dense_axis_concentration(s, X)
        assert np.all(peak_concentration(s, X, np.zeros_like(X)) <= steady * (1.0 + 1e-9))


@pytest.mark.parametrize(("stability", "wind"), WEATHER)
@pytest.mark.parametrize("duration", [30.0, 600.0, 3_600.0])
def test_peak_non_decreasing_with_amount(stability: str, wind: float, duration: float) -> None:
    rows = [_peak(stability, wind, q * duration, duration) for q in (0.3, 1.0, 5.0, 30.0, 200.0)]
    assert _worst_fall(rows) <= 1.0 + 1e-9


@pytest.mark.parametrize(("stability", "wind"), WEATHER)
@pytest.mark.parametrize("mass", [300.0, 30_000.0, 300_000.0])
def test_shorter_release_of_one_mass_is_not_lower(stability: str, wind: float, mass: float) -> None:
    # exactly so beyond u T/0.6 of the longer release (Britter & McQuaid's instantaneous regime for both);
    # nearer, the workbook's near-field puff and plume correlations differ (up to 9 % measured), left as is
    durations = (0.0, *DURATIONS)
    rows = [_peak(stability, wind, mass, t) for t in durations]
    for (t_short, a), (t_long, b) in zip(zip(durations, rows, strict=True), zip(durations[1:], rows[1:], strict=True),
                                         strict=False):
        far = wind * t_long / X <= 0.6
        assert np.all(b[far] <= a[far] * (1.0 + 1e-9)), (t_short, t_long)
        assert np.all(b <= a * 1.10), (t_short, t_long)


@pytest.mark.parametrize(("stability", "wind"), WEATHER)
@pytest.mark.parametrize(("rate", "duration"), [(0.3, 60.0), (5.0, 300.0), (5.0, 10_800.0), (200.0, 1_800.0)])
def test_peak_non_increasing_downwind(stability: str, wind: float, rate: float, duration: float) -> None:
    c = _peak(stability, wind, rate * duration, duration)
    assert np.all(np.diff(c) <= 5e-3 * c[:-1])  # the running minimum's grid (test_dense_duration_rule.py)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rate=st.floats(min_value=0.2, max_value=300.0), short=st.floats(min_value=5.0, max_value=3_000.0),
       factor=st.floats(min_value=1.05, max_value=20.0), weather=st.sampled_from(WEATHER))
def test_longer_release_at_one_rate_is_not_lower_property(rate: float, short: float, factor: float,
                                                          weather: tuple[str, float]) -> None:
    stability, wind = weather
    lo = _peak(stability, wind, rate * short, short)
    hi = _peak(stability, wind, rate * short * factor, short * factor)
    assert np.all(hi >= lo * (1.0 - GRID_TOLERANCE))


def test_audit_d3_figures() -> None:
    # 5 kg/s of chlorine, class F, 1.5 m/s: at 1 km 370, 310, 240 ppm over 300, 600, 1,200 s and 220 from 30 min
    # (3 km: 100 over 600 s, 67 over 3 h); now the steady plume's 220 (67) for all of them (the shorter ones held
    # to the longer ones'). Class D, 3 m/s: 50 ppm over 10 min, 45 from 30 min; now 45
    x = np.array([1_000.0, 3_000.0])
    f = {t: peak_concentration(s := _setup("F", 1.5, 5.0 * t, t), x, np.zeros(2)) for t in (300.0, 600.0, 1_200.0,
                                                                                          1_800.0, 10_800.0)}
    steady = dense_axis_concentration(s, x)
    for t, c in f.items():
        np.testing.assert_allclose(c, steady, rtol=1e-6, err_msg=str(t))
    d = [peak_concentration(_setup("D", 3.0, 5.0 * t, t), x[:1], np.zeros(1))[0] for t in (600.0, 1_800.0)]
    assert d[0] == pytest.approx(d[1], rel=1e-6)


@pytest.mark.parametrize(("stability", "wind", "rate", "duration"),
                         [("F", 1.5, 200.0, 3_600.0), ("F", 3.0, 0.3, 30.0), ("D", 3.0, 5.0, 600.0),
                          ("F", 3.0, 200.0, 1_800.0)])
def test_the_bound_only_lowers_the_blend_and_its_grid_end_changes_nothing(
        stability: str, wind: float, rate: float, duration: float, monkeypatch: pytest.MonkeyPatch) -> None:
    # the release at its rate over longer times contains it: held to theirs, never raised (the other rule, the
    # highest of shorter releases, had raised Maplin Sands 27 at 58 m from 29 to 39 % against 17 % measured)
    x = np.geomspace(10.0, 100_000.0, 200)
    s = _setup(stability, wind, rate * duration, duration)
    assert s.longer
    got = peak_concentration(s, x, np.zeros_like(x))
    raw = peak_concentration(replace(s, longer=()), x, np.zeros_like(x))
    assert np.all(got <= raw * (1.0 + 1e-12)) and np.any(got < raw * (1.0 - 1e-3))
    # the grid ends where the release is continuous (u T/x >= 2.5) out to 100 km: going on to 1,000 or
    # 10,000 km changes nothing
    for top in (1e6, 1e7):
        monkeypatch.setattr(dense_finite, "longer_durations", partial(longer_durations, top_m=top))
        far = _setup(stability, wind, rate * duration, duration)
        assert len(far.longer) > len(s.longer)
        np.testing.assert_allclose(peak_concentration(far, x, np.zeros_like(x)), got, rtol=1e-12)
