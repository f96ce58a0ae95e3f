"""The zones' release cases of the interval-axis tests (tests/nearfield/test_zones_interval_peak.py,
test_zones_onset_time.py, test_zones_level_most.py): a 2-m source at 45 N 5 E in a west wind, no cities."""

from __future__ import annotations

from typing import Any

import numpy as np

from plumecast.consequence import onset_floor
from plumecast.nearfield.zones import LocalScenario
from plumecast.nearfield.zones import plume as zplume
from plumecast.nearfield.zones.setup import plume_setup
from plumecast.nearfield.zones.windowed import LevelRatio


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


def level_ratio_at(sc: LocalScenario, aegl: int, xs: list[float]) -> tuple[Any, ...]:
    """The zones' level ratio of AEGL-``aegl`` at ``xs`` [m] on the axis of ``sc``
    (:class:`~plumecast.nearfield.zones.windowed.LevelRatio`), with its setup, time axis, level table [kg m-3],
    windows and onset floor [kg m-3]."""
    setup = plume_setup(sc)
    floor = onset_floor(sc.agent)
    ends = zplume.exposure_time_axis(setup)
    table = zplume.level_table_kg_m3(type("Lv", (), {"aegl": aegl})(), sc.agent)
    x = np.asarray(xs, dtype=float)
    w = zplume.exposure_windows(setup, x, np.zeros_like(x), ends)
    return LevelRatio(w, ends, table[None, :], floor), setup, ends, table, w, floor
