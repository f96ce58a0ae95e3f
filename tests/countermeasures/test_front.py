"""The neutralisation front: speed, threshold, gaps, ignition, grid geometry."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.agents import Agent
from plumecast.countermeasures.front import (
    Front,
    FrontSpec,
    agent_lfl_kg_m3,
    great_circle_m,
    lfl_kg_m3,
)
from plumecast.errors import ScenarioError

V = 200.0  # front speed [m s-1]
THR = 1.0e-3  # threshold [kg m-3]
T_IGN = 7200.0  # ignition [s]
CELL_S = great_circle_m(0.0, 0.0, 0.0, 1.0) / V  # one 1-degree cell's travel time at the equator [s]


def regional(lon0: float = -30.0, lon1: float = 30.0, lat0: float = -20.0, lat1: float = 20.0) -> tuple:
    lon_e = np.arange(lon0, lon1 + 0.5, 1.0)
    lat_e = np.arange(lat0, lat1 + 0.5, 1.0)
    return 0.5 * (lon_e[1:] + lon_e[:-1]), 0.5 * (lat_e[1:] + lat_e[:-1]), lon_e, lat_e


def run_front(front: Front, conc: np.ndarray, hours: int, interval_s: float = 3600.0) -> list[np.ndarray]:
    return [front.advance(conc, k * interval_s, (k + 1) * interval_s) for k in range(hours)]


@pytest.mark.parametrize("target", [(0.5, 20.5), (15.5, 0.5), (10.5, 10.5), (5.5, 10.5), (-8.5, -17.5), (12.5, -4.5)])
def test_front_reaches_distance_d_at_t0_plus_d_over_v(target: tuple[float, float]) -> None:
    lon, lat, lon_e, lat_e = regional()
    front = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], T_IGN, V, THR)
    conc = np.full((lat.size, lon.size), 2 * THR)
    run_front(front, conc, 12)
    d = float(great_circle_m(0.5, 0.5, *target))
    got = float(front.arrival_at(*target)[0])
    expected = T_IGN + d / V
    # never early (a path on the grid is never shorter than the great circle) and
    # late by less than one cell's travel time
    assert expected - 1e-6 <= got < expected + CELL_S
    assert front.ignition_s.tolist() == [T_IGN]


def test_interval_edges_cost_no_time() -> None:
    lon, lat, lon_e, lat_e = regional()
    conc = np.full((lat.size, lon.size), 2 * THR)
    a = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], T_IGN, V, THR)
    run_front(a, conc, 48, interval_s=900.0)  # 15-min intervals
    b = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], T_IGN, V, THR)
    b.advance(conc, 0.0, 12 * 3600.0)  # one long interval
    reached = np.isfinite(b.arrival_s) & (b.arrival_s <= 12 * 3600.0)
    assert reached.sum() > 100
    np.testing.assert_allclose(a.arrival_s[reached], b.arrival_s[reached], rtol=0, atol=1e-6)


def test_front_crosses_the_dateline_on_a_global_grid() -> None:
    lon = np.arange(-179.5, 180.0, 1.0)
    lat = np.arange(-89.5, 90.0, 1.0)
    front = Front(lon, lat, None, None, [(0.5, 179.5)], 0.0, V, THR)
    assert front.periodic
    conc = np.zeros((lat.size, lon.size))
    conc[80:100, :5] = conc[80:100, -5:] = 2 * THR  # gas on both sides of 180 degrees only
    front.advance(conc, 0.0, 6 * 3600.0)
    d = float(great_circle_m(0.5, 179.5, 0.5, -176.5))
    got = float(front.arrival_at(0.5, -176.5)[0])
    assert d / V - 1e-6 <= got < d / V + CELL_S
    assert np.isinf(front.arrival_at(0.5, 0.5)[0])  # no gas there: never reached


def test_front_removes_nothing_below_the_threshold() -> None:
    lon, lat, lon_e, lat_e = regional()
    rng = np.random.default_rng(3)
    conc = rng.uniform(0.0, 2.0 * THR, size=(lat.size, lon.size))
    conc[20, 30] = 1.5 * THR  # the ignition cell burns
    conc[:, 10] = 0.999 * THR  # just below: a wall
    front = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], 0.0, V, THR)
    burnt_any = np.zeros(conc.shape, dtype=bool)
    for mask in run_front(front, conc, 48):
        assert not np.any(mask & (conc < THR)), "a cell below the threshold was burnt"
        assert not np.any(mask & burnt_any), "a cell burnt twice"
        burnt_any |= mask
    assert burnt_any.any()
    np.testing.assert_array_equal(burnt_any, front.burnt)
    assert not front.burnt[:, 10].any()
    assert not front.burnt[:, :10].any()  # behind the wall


def test_front_does_not_cross_a_gap_of_clean_air() -> None:
    lon, lat, lon_e, lat_e = regional()
    conc = np.full((lat.size, lon.size), 5 * THR)
    conc[:, 40] = 0.0  # a one-cell column of clean air at lon 10.5
    front = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], 0.0, V, THR)
    run_front(front, conc, 72)
    assert front.burnt[:, :40].all()  # everything on the near side burns ...
    assert not front.burnt[:, 40:].any()  # ... nothing beyond the gap


def test_front_does_not_leak_through_a_diagonal_line_of_clean_air() -> None:
    lon, lat, lon_e, lat_e = regional()
    ii, jj = np.indices((lat.size, lon.size))
    conc = np.full((lat.size, lon.size), 5 * THR)
    line = (ii + jj) == 40  # a diagonal line one cell thick: corners touch
    conc[line] = 0.0
    front = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], 0.0, V, THR)  # cell (20, 30): i + j = 50
    run_front(front, conc, 72)
    assert front.burnt[(ii + jj) > 40].all()
    assert not front.burnt[(ii + jj) <= 40].any()


def test_igniter_waits_for_flammable_air_and_the_front_burns_once() -> None:
    lon, lat, lon_e, lat_e = regional()
    clean = np.zeros((lat.size, lon.size))
    gas = np.full_like(clean, 2 * THR)
    front = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], 1800.0, V, THR)
    assert not front.advance(gas, 0.0, 1000.0).any()  # before ignition
    assert not front.advance(clean, 1000.0, 3600.0).any()  # ignited in clean air: nothing
    assert np.isinf(front.ignition_s[0])
    new = front.advance(gas, 3600.0, 7200.0)  # gas arrives: the pilot flame lights it
    assert front.ignition_s[0] == 3600.0
    assert new[20, 30] and new.sum() > 1
    again = front.advance(gas, 7200.0, 7300.0)
    assert not np.any(again & new)


def test_arrival_at_points_off_grid_and_unreached() -> None:
    lon, lat, lon_e, lat_e = regional()
    front = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], 0.0, V, THR)
    front.advance(np.full((lat.size, lon.size), 2 * THR), 0.0, 600.0)
    got = front.arrival_at([0.5, 50.0, 0.2, 19.5], [0.5, 0.0, 0.7, 29.5])
    assert got[0] == 0.0 and got[2] == 0.0  # same cell as the igniter
    assert np.isnan(got[1])  # off the grid: unknown
    assert np.isinf(got[3])  # not reached yet


def test_bad_input_is_refused_with_a_clear_error() -> None:
    lon, lat, lon_e, lat_e = regional()
    with pytest.raises(ScenarioError, match="outside the output grid"):
        Front(lon, lat, lon_e, lat_e, [(60.0, 0.0)], 0.0, V, THR)
    with pytest.raises(ScenarioError, match="speed"):
        FrontSpec(((0.0, 0.0),), 0.0, -1.0, THR)
    front = Front(lon, lat, lon_e, lat_e, [(0.5, 0.5)], 0.0, V, THR)
    with pytest.raises(ValueError, match="shape"):
        front.advance(np.zeros((3, 3)), 0.0, 1.0)
    front.advance(np.zeros((lat.size, lon.size)), 0.0, 3600.0)
    with pytest.raises(ValueError, match="before the end of the last"):
        front.advance(np.zeros((lat.size, lon.size)), 0.0, 3600.0)


def test_lfl_threshold_from_the_agent() -> None:
    agent = Agent(name="x", molecular_weight_g_mol=140.0, lfl_vol_pct=1.0, ufl_vol_pct=12.0)
    # ideal gas at 25 degC, 1 atm: x P M / (R T)
    expected = 0.01 * 101325.0 * 0.140 / (8.314462618 * 298.15)
    assert agent_lfl_kg_m3(agent) == pytest.approx(expected, rel=1e-12)
    assert lfl_kg_m3(1.0, 140.0) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ScenarioError, match="no lower flammability limit"):
        agent_lfl_kg_m3(Agent(name="y", molecular_weight_g_mol=70.9))


def test_spec_on_an_output_grid_matches_explicit_grid() -> None:
    from plumecast.concentration import OutputGrid

    grid = OutputGrid(lon0=-180.0, lat0=-90.0, dlon=2.0, dlat=2.0, nlon=180, nlat=90)
    spec = FrontSpec(((10.0, 20.0),), 0.0, V, THR)
    front = spec.on_output_grid(grid)
    assert front.periodic and front.shape == (90, 180)
    conc = np.full(front.shape, 2 * THR)
    front.advance(conc, 0.0, 24 * 3600.0)
    d = float(great_circle_m(11.0, 21.0, 11.0, 41.0))  # cell centres, 10 cells east
    assert d / V - 1e-6 <= front.arrival_at(11.0, 41.0)[0] < d / V + 2 * great_circle_m(0, 0, 0, 2) / V
