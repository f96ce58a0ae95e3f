"""A dense release of finite duration follows Britter & McQuaid's (1988) continuous/instantaneous regimes
(``dense_finite.dense_finite_parts``): the steady plume where u T/x >= 2.5, the whole mass spread over u T where
u T/x <= 0.6, geometric in u T/x between, never above the whole mass at once; the peak and the time series
agree; the peak never steps up with distance, and a longer release of the same mass is never the higher."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from plumecast.nearfield.gaussian import briggs_sigma_y, peak_finite_duration_factor
from plumecast.nearfield.zones.dense_finite import (
    _finite_peak_envelope,
    dense_finite_parts,
    longer_durations,
)
from plumecast.nearfield.zones.plume import (
    concentration_series,
    dense_axis_concentration,
    peak_concentration,
)
from plumecast.nearfield.zones.scenario import LocalScenario
from plumecast.nearfield.zones.setup import plume_setup


def _setup(stability: str, amount: float = 54_915.0, duration: float = 600.0, wind: float = 1.5):  # type: ignore[no-untyped-def]
    return plume_setup(LocalScenario.model_validate({
        "source": {"lat": 33.56, "lon": -81.81, "height_m": 1.0},
        "release": {"amount_kg": amount, "duration_s": duration}, "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 300.0, "stability": stability,
                        "averaging_time_s": 600.0},
        "receptors": {"cities": False}}))


@pytest.mark.parametrize("stability", ["D", "F"])
def test_regimes(stability: str) -> None:
    s = _setup(stability)
    assert s.dense is not None and s.instantaneous is not None
    u = s.wind_speed_m_s
    x = np.geomspace(50.0, 60_000.0, 80)
    amb = briggs_sigma_y(x, s.pg_class, s.terrain) * s.sigma_y_factor
    steady = dense_axis_concentration(s, x)

    def rule(t_d: float, twin):  # type: ignore[no-untyped-def]
        cont = steady * peak_finite_duration_factor(u, t_d, amb)
        puff = peak_concentration(twin, x, np.zeros_like(x))
        sx = dense_finite_parts(twin, x)[2]  # the puff's radius (its own sigma_x = sigma_y)
        inst = puff * erf(u * t_d / (2.0 * np.sqrt(2.0) * sx)) * np.sqrt(2.0 * np.pi) * sx / (u * t_d)
        w = np.clip(np.log(u * t_d / x / 0.6) / np.log(2.5 / 0.6), 0.0, 1.0)
        # never above the whole mass at once nor the steady plume of the rate (the release lasting for ever)
        return np.minimum(np.minimum(cont**w * inst ** (1.0 - w), puff), steady)

    got = peak_concentration(s, x, np.zeros_like(x))
    # and never above the same rate released over any longer duration of the grid (it contains the release)
    assert [t for t, _ in s.longer] == pytest.approx(longer_durations(s.duration_s, u))
    want = np.min([rule(s.duration_s, s.instantaneous)] + [rule(t, p) for t, p in s.longer], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    r = u * s.duration_s / x
    assert np.any(r >= 2.5) and np.any(r <= 0.6) and np.any((r > 0.6) & (r < 2.5))
    assert np.all(got <= peak_concentration(s.instantaneous, x, np.zeros_like(x)) * (1.0 + 1e-12))
    assert np.all(got <= steady * (1.0 + 1e-12))


@pytest.mark.parametrize("stability", ["D", "F"])
def test_short_release_is_the_puff_far_away(stability: str) -> None:
    # 55 t of chlorine over 30 s is released at once for anything 1 km away (u T = 45 m). The lower of the
    # steady 1,830 kg/s plume (widened by gravity as no 30-s release is) and the puff had been taken: AEGL-3
    # reached 7 km in class F, against > 100 km for the same mass at once and 62 km over 600 s
    short, once = _setup(stability, duration=30.0), _setup(stability, duration=0.0)
    x = np.geomspace(1_000.0, 90_000.0, 30)
    np.testing.assert_allclose(peak_concentration(short, x, np.zeros_like(x)),
                               peak_concentration(once, x, np.zeros_like(x)), rtol=0.01)


@pytest.mark.parametrize(("stability", "amount", "wind"), [("F", 54_915.0, 1.5), ("D", 54_915.0, 1.5),
                                                           ("F", 3_600.0, 3.0), ("D", 500.0, 2.0)])
def test_longer_release_of_the_same_mass_is_never_higher(stability: str, amount: float, wind: float) -> None:
    x = np.geomspace(1_000.0, 90_000.0, 60)
    rows = [peak_concentration(_setup(stability, amount=amount, duration=t, wind=wind), x, np.zeros_like(x))
            for t in (0.0, 30.0, 120.0, 600.0, 1_800.0, 3_600.0, 14_400.0)]
    for a, b in zip(rows, rows[1:], strict=False):
        assert np.all(b <= a * (1.0 + 1e-9))


@pytest.mark.parametrize("stability", ["D", "F"])
def test_series_peak_is_the_peak(stability: str) -> None:
    s = _setup(stability)
    x = np.array([300.0, 1_200.0, 5_000.0, 20_000.0])
    t = np.linspace(1.0, s.duration_s + 3.0 * x.max() / s.wind_speed_m_s, 40_000)
    series = concentration_series(s, x, np.zeros_like(x), t)
    np.testing.assert_allclose(series.max(axis=0), peak_concentration(s, x, np.zeros_like(x)), rtol=2e-3)
    _, sx, _ = dense_finite_parts(s, x)
    assert np.all(sx > 0)


@pytest.mark.parametrize("stability", ["A", "D", "F"])
@pytest.mark.parametrize(("amount", "duration", "wind", "tol"), [
    (3600.0, 1800.0, 3.0, 1e-12), (54_915.0, 1800.0, 1.5, 1e-12), (3600.0, 3600.0, 3.0, 1e-12),
    # where the blend from plume to puff rises (class A: up to 23 %, an island in the zones; regression audit)
    # the peak is held to its running minimum on a log grid of 200 points a decade: below 0.5 % between them
    (133.0, 1800.0, 3.0, 5e-3), (237.0, 3600.0, 3.0, 5e-3)])
def test_peak_never_steps_up_downwind(stability: str, amount: float, duration: float, wind: float,
                                      tol: float) -> None:
    # 2 kg/s for 30 min at 3 m/s (tests/nearfield/test_zones.py): the BM puff exceeded the steady plume beyond
    # u T/0.6 = 9 km in class F, and the peak jumped up about 5x there before the lower was taken below 2.5;
    # the workbook's own rule (the puff below 0.6, the lower between) steps up 1.1-1.9x at u T/x = 0.6 in the
    # other two (class D)
    s = _setup(stability, amount=amount, duration=duration, wind=wind)
    x = np.geomspace(200.0, 90_000.0, 400)
    c = peak_concentration(s, x, np.zeros_like(x))
    if np.any(_finite_peak_envelope(s, x) < 1.0):
        # the envelope holds a rising blend (its 200-a-decade grid: below 0.5 % between points). Since the
        # passive far field beyond the curves (session of the dense far field) the steady plume of 55 t over
        # 30 min in class A falls beyond its curves' end (0.67 km) while the whole-mass puff is still within
        # its own (1.5 km), and the blend rose 1.3 % a step at 1.2-1.5 km: now held, to 4e-5
        tol = max(tol, 5e-3)
    assert np.all(np.diff(c) <= tol * c[:-1])
    assert max(c[j:].max() / c[j] for j in range(c.size)) <= 1.0 + tol
