"""A dense release of finite duration follows Britter & McQuaid's (1988) continuous/instantaneous rule
(``setup.dense_finite_parts``): continuous where u T/x >= 2.5, else the lower of the steady plume and the
puff of the whole mass; the peak and the time series agree; the peak never steps up with distance."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.nearfield.gaussian import briggs_sigma_y, peak_finite_duration_factor
from plumecast.nearfield.zones.plume import (
    concentration_series,
    dense_axis_concentration,
    peak_concentration,
)
from plumecast.nearfield.zones.scenario import LocalScenario
from plumecast.nearfield.zones.setup import dense_finite_parts, plume_setup


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
    u, t_d = s.wind_speed_m_s, s.duration_s
    x = np.geomspace(50.0, 60_000.0, 80)
    amb = briggs_sigma_y(x, s.pg_class, s.terrain) * s.sigma_y_factor
    cont = dense_axis_concentration(s, x) * peak_finite_duration_factor(u, t_d, amb)
    inst = peak_concentration(s.instantaneous, x, np.zeros_like(x))
    got = peak_concentration(s, x, np.zeros_like(x))
    r = u * t_d / x
    np.testing.assert_allclose(got[r >= 2.5], cont[r >= 2.5], rtol=1e-12)
    np.testing.assert_allclose(got[r < 2.5], np.minimum(cont, inst)[r < 2.5], rtol=1e-12)
    # the puff is the lower somewhere (else the rule would not be exercised)
    assert np.any((r < 2.5) & (inst < cont))


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
def test_peak_never_steps_up_downwind(stability: str) -> None:
    # 2 kg/s for 30 min at 3 m/s (tests/nearfield/test_zones.py): the BM puff exceeded the steady plume beyond
    # u T/0.6 = 9 km in class F, and the peak jumped up about 5x there before the lower was taken below 2.5
    s = _setup(stability, amount=3600.0, duration=1800.0, wind=3.0)
    x = np.geomspace(200.0, 90_000.0, 400)
    c = peak_concentration(s, x, np.zeros_like(x))
    assert np.all(np.diff(c) <= 1e-12 * c[:-1])
