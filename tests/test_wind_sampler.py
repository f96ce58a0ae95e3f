"""The near-field wind sampler (runner.wind_sampler) keeps its last call's winds only for
the same points between the same records."""

from __future__ import annotations

import dataclasses

import numpy as np

from plumecast.met import benchmark_wind
from plumecast.runner import wind_sampler
from plumecast.transport.windgrid import wind_grid


def _two_records():  # type: ignore[no-untyped-def]
    grid = wind_grid(benchmark_wind(2.0))
    vec = np.stack([grid.vec[0], 0.5 * grid.vec[0] + 0.5 * grid.vec[0, :, :, :, ::-1]])
    return dataclasses.replace(grid, vec=vec, times_s=np.array([0.0, 86400.0]))


def test_the_kept_winds_are_those_of_the_same_points_and_time() -> None:
    grid = _two_records()
    at = wind_sampler(grid)
    lon, lat = np.array([10.0, 120.0, -60.0]), np.array([45.0, 30.0, -20.0])
    u1, v1 = at(lon, lat, 3600.0)
    u2, v2 = at(lon, lat, 7200.0)  # another time between the records: other winds
    assert not np.array_equal(u1, u2)
    u3, v3 = at(lon + 1.0, lat, 7200.0)  # other points
    assert not np.array_equal(u2, u3)
    again = at(lon, lat, 3600.0)
    np.testing.assert_array_equal(again[0], u1)
    np.testing.assert_array_equal(again[1], v1)
    # the winds it gives are the grid's at that time, whatever was asked before
    fresh = wind_sampler(grid)(lon + 1.0, lat, 7200.0)
    np.testing.assert_array_equal(fresh[0], u3)


def test_records_replaced_in_place_are_read_again() -> None:
    grid = _two_records()
    at = wind_sampler(grid)
    lon, lat = np.array([10.0, 120.0]), np.array([45.0, 30.0])
    before = at(lon, lat, 3600.0)
    # a streamed window moves on: its records shift in place and so do their times
    grid.vec[0] = grid.vec[1]
    grid.times_s[:] = [86400.0, 2 * 86400.0]
    after = at(lon, lat, 86400.0 + 3600.0)  # the same place between the records (k 0, same w)
    assert not np.array_equal(before[0], after[0])
    np.testing.assert_array_equal(after[0], wind_sampler(grid)(lon, lat, 86400.0 + 3600.0)[0])
