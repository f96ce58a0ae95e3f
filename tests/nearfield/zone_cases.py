"""The zones' release cases of the interval-axis tests (tests/nearfield/test_zones_interval_peak.py,
test_zones_onset_time.py, test_zones_level_most.py): a 2-m source at 45 N 5 E in a west wind, no cities."""

from __future__ import annotations

from plumecast.nearfield.zones import LocalScenario


def release_case(agent: str, kg: float, duration_s: float, wind: float, cls: str, dense: str = "auto",
                 name: str = "zone case") -> LocalScenario:
    """``kg`` of ``agent`` over ``duration_s`` (0: at once) in a ``wind`` [m/s] of class ``cls``."""
    return LocalScenario.model_validate({
        "name": name, "source": {"lat": 45.0, "lon": 5.0, "height_m": 2.0},
        "release": {"amount_kg": kg, "duration_s": duration_s, "dense_gas": dense}, "agent": agent,
        "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270.0, "stability": cls},
        "receptors": {"cities": False}})


#: 3 t of chlorine over 600 s, class F at 1.5 m/s (dense)
CL2_F = release_case("chlorine", 3000.0, 600, 1.5, "F")
