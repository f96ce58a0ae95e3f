"""A dense release's zones off the axis and between levels (monotonicity audit, session 46).

What holds in Pasquill-consistent weather (class A and B to 3 m/s, C and D to 10 m/s, E 3 m/s, F to 2 m/s),
chlorine, where the peak is above 1 mg/m3 (docs/dense_gas.md, "Monotonicity audit"):

* more mass over the same time never gives a lower peak at a place to the side of the axis, from 300 m
  out (nearer, the hand-over to the passive puff can read lower for a larger mass; the dense/passive
  switch itself is not monotone, documented, not tested here);
* the same rate released for longer never gives a lower peak to the side of the axis either, where
  both releases are dense (rule B holds off the axis too: the longer release's width is never the
  narrower where its peak is held to the same value);
* the AEGL-1 zone holds the AEGL-2 zone, and that the AEGL-3 zone (reach and polygon).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumecast.errors import ScenarioError
from plumecast.nearfield.zones import compute_zones
from plumecast.nearfield.zones.plume import peak_concentration
from plumecast.nearfield.zones.scenario import LocalScenario
from plumecast.nearfield.zones.setup import PlumeSetup, plume_setup

#: distances downwind and to the side [m]
X = np.geomspace(300.0, 50_000.0, 40)
Y = (0.0, 30.0, 100.0, 300.0, 1_000.0)
#: below this a relative change is not a zone's (1 mg/m3, 0.3 ppm of chlorine) [kg m-3]
SIGNIFICANT = 1e-6
#: the grid of longer durations (dense_finite.longer_durations) lets a peak fall this much between its points [-]
GRID_TOLERANCE = 5e-3
WEATHER = [("A", 2.0), ("B", 3.0), ("C", 5.0), ("D", 2.0), ("D", 5.0), ("D", 10.0), ("E", 3.0), ("F", 1.0),
           ("F", 2.0)]


def _scenario(stability: str, wind: float, **release: object) -> LocalScenario:
    return LocalScenario.model_validate({
        "source": {"lat": 52.0, "lon": 5.0, "height_m": 1.0}, "release": release, "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270.0, "stability": stability},
        "receptors": {"cities": False}})


def _setup(stability: str, wind: float, **release: object) -> PlumeSetup | None:
    try:
        return plume_setup(_scenario(stability, wind, **release))
    except ScenarioError:  # beyond the model's range
        return None


def _field(s: PlumeSetup) -> np.ndarray:  # type: ignore[type-arg]
    return np.array([peak_concentration(s, X, np.full_like(X, y)) for y in Y])


def _worst_fall(lo: np.ndarray, hi: np.ndarray) -> float:  # type: ignore[type-arg]
    """The largest factor by which ``hi`` is below ``lo`` where ``lo`` is significant. [-]"""
    r = np.where(lo > SIGNIFICANT, lo / np.maximum(hi, 1e-300), 0.0)
    return float(np.max(r))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weather=st.sampled_from(WEATHER), amount=st.floats(min_value=50.0, max_value=200_000.0),
       factor=st.floats(min_value=1.1, max_value=10.0), duration=st.sampled_from([0.0, 60.0, 600.0, 3_600.0]))
def test_more_mass_is_not_lower_off_the_axis(weather: tuple[str, float], amount: float, factor: float,
                                             duration: float) -> None:
    stability, wind = weather
    lo = _setup(stability, wind, amount_kg=amount, duration_s=duration)
    hi = _setup(stability, wind, amount_kg=amount * factor, duration_s=duration)
    if lo is None or hi is None or lo.dense is None or hi.dense is None:
        return  # beyond the range, or across the dense/passive switch (not monotone: docs/dense_gas.md)
    assert _worst_fall(_field(lo), _field(hi)) <= 1.0 + 1e-9


@pytest.mark.parametrize(("stability", "wind"), [("D", 2.0), ("D", 10.0), ("F", 1.0), ("F", 2.0), ("B", 3.0)])
@pytest.mark.parametrize("rate", [1.0, 20.0, 300.0])
def test_longer_release_at_one_rate_is_not_lower_off_the_axis(stability: str, wind: float, rate: float) -> None:
    rows = []
    for duration in (30.0, 120.0, 600.0, 1_800.0, 3_600.0):
        s = _setup(stability, wind, rate_kg_s=rate, duration_s=duration)
        if s is None:
            break
        rows.append((s.dense is not None, _field(s)))
    assert len(rows) >= 3
    for (dense_a, a), (dense_b, b) in zip(rows, rows[1:], strict=False):
        if dense_a and dense_b:
            assert _worst_fall(a, b) <= 1.0 + GRID_TOLERANCE


@pytest.mark.parametrize(("agent", "stability", "wind", "amount", "duration"), [
    ("chlorine", "F", 1.5, 2_000.0, 600.0), ("chlorine", "D", 5.0, 50_000.0, 600.0),
    ("chlorine", "D", 3.0, 5_000.0, 0.0), ("chlorine", "B", 3.0, 200.0, 60.0), ("ammonia", "D", 3.0, 2_000.0, 600.0)])
def test_aegl_zones_nest(agent: str, stability: str, wind: float, amount: float, duration: float) -> None:
    sc = LocalScenario.model_validate({
        "source": {"lat": 52.0, "lon": 5.0, "height_m": 1.0},
        "release": {"amount_kg": amount, "duration_s": duration}, "agent": agent,
        "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270.0, "stability": stability},
        "receptors": {"cities": False}})
    zones = {z.level.name: z for z in compute_zones(sc, consequences=False).zones}
    names = [n for n in ("AEGL-1", "AEGL-2", "AEGL-3") if n in zones]
    assert len(names) == 3
    for outer, inner in zip(names, names[1:], strict=False):
        a, b = zones[outer], zones[inner]
        assert b.max_distance_m <= a.max_distance_m * (1.0 + 1e-9), (outer, inner)
        assert not b.polygon_local.is_empty
        assert b.polygon_local.difference(a.polygon_local).area <= 1e-3 * b.area_m2, (outer, inner)
