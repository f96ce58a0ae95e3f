"""The wind at a stack's top for the near-field plume of a run (``plumecast run`` and
``compare``).

A Gaussian plume from a stack (ISC3, ALOHA; ``plumecast zones``) is raised and diluted
by the wind at the stack top, not by the wind near the ground. ``run`` had taken the
met's lowest-level wind for both, and read 5-11 times less than ``zones`` at 2-3 km for
the same stack (regression audit; docs/local_scale.md). :class:`SourceWind` is the
near-field plumes' ``wind_at``: called, it gives the lowest-level wind at the source as
before (every plume without a stack, the city discs); its :meth:`SourceWind.at_stack`
gives the wind at a stack's top:

* met on levels (heights above ground, the 10 m wind as its lowest where the files have
  it): the wind the particles see at that height (at 10 m for a stack lower than that,
  as the power law keeps the reference speed below it), from the same functions as the
  transport kernels (:func:`plumecast.transport.kernels_numpy.level_weights` and
  :func:`~plumecast.transport.kernels_numpy.interpolate_wind`: linear in height between
  levels, the neutral log law below the lowest one), with the roughness length of the
  near field's terrain (:data:`plumecast.near_field_plume.TERRAIN_ROUGHNESS_M`, that of
  its stability class);
* met of one level (the climatology, a one-level file, a uniform wind): its wind taken
  as the 10 m wind the plume's class is read with, and raised to the stack top by the
  power law of ``zones`` (:func:`plumecast.nearfield.stability.power_law_wind_speed`,
  Irwin 1979 per class and terrain, as :func:`plumecast.nearfield.zones.setup.passive_at_release_height`),
  the direction kept; the speed floor of 1 m/s applies to the 10 m wind first, as in
  ``zones``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from plumecast.near_field_plume import NEAR_FIELD_MIN_WIND_M_S, TERRAIN_ROUGHNESS_M
from plumecast.nearfield.stability import PG_REFERENCE_HEIGHT_M, power_law_wind_speed
from plumecast.transport.kernels_numpy import interpolate_wind, level_weights
from plumecast.transport.windgrid import WindGrid


def with_roughness(grid: WindGrid, z0_m: float) -> WindGrid:
    """``grid``'s winds with the log law below its lowest level at roughness ``z0_m``
    (the arrays shared; its boundary layer, not needed for the wind, left out); a
    ``z0_m`` not below the lowest level keeps the grid's own."""
    if not 0.0 < z0_m < float(grid.z_m[0]):
        z0_m = grid.roughness_length_m
    if grid.roughness_length_m == z0_m and grid.surface is None and grid.w is None:
        return grid
    return dataclasses.replace(grid, roughness_length_m=float(z0_m), w=None, surface=None, stomata=None, land=None,
                               dry_velocity=None, stream=None)


def wind_at_height(grid: WindGrid, lon: float, lat: float, t_s: float, height_m: float) -> tuple[float, float]:
    """``(u_east, v_north)`` [m s-1] at ``height_m`` above ground at a point of a
    grid on levels, as a particle there sees it (the kernels' level weights and
    interpolation, linear in time)."""
    k, w = grid.time_index(np.array([t_s], np.float64))
    lon_a = np.array([lon], np.float64)
    lat_a = np.array([lat], np.float64)
    levels = level_weights(grid, np.array([height_m], np.float64))
    v, _ = interpolate_wind(grid, int(k[0]), float(w[0]), lon_a, lat_a, levels=levels)
    # the Cartesian wind to east and north, as plumecast.runner.wind_sampler
    lam, phi = math.radians(lon), math.radians(lat)
    x, y, z = float(v[0, 0]), float(v[1, 0]), float(v[2, 0])
    u_e = -math.sin(lam) * x + math.cos(lam) * y
    v_n = -math.sin(phi) * math.cos(lam) * x - math.sin(phi) * math.sin(lam) * y + math.cos(phi) * z
    return u_e, v_n


def power_law_at_stack(u_e: float, v_n: float, height_m: float, pg_class: str,
                       terrain: str) -> tuple[float, float, float]:
    """A one-level wind ``(u_e, v_n)`` taken as the 10 m wind, at a stack's top by
    ``zones``' power law: ``(u_east, v_north, speed)``, the speed from the 10 m speed
    floored at :data:`~plumecast.near_field_plume.NEAR_FIELD_MIN_WIND_M_S` (as ``zones``
    floors it), the direction kept."""
    ref = math.hypot(u_e, v_n)
    speed = power_law_wind_speed(max(ref, NEAR_FIELD_MIN_WIND_M_S), height_m, pg_class, terrain)  # type: ignore[arg-type]
    scale = speed / ref if ref > 0.0 else 0.0
    return u_e * scale, v_n * scale, speed


class SourceWind:
    """The near-field plumes' wind: ``(lon, lat, t_s) -> (u_east, v_north)`` of the
    met's lowest level (``lowest``, unchanged), and :meth:`at_stack`, the wind at a
    stack's top.

    ``grid_now()``: the run's wind grid now (the records it holds); ``one_level``:
    the met has one level (its wind taken as the 10 m wind; the power law above it)."""

    def __init__(self, lowest: Callable[[float, float, float], tuple[float, float]],
                 grid_now: Callable[[], WindGrid], one_level: bool) -> None:
        self.lowest = lowest
        self.grid_now = grid_now
        self.one_level = bool(one_level)
        self._cache: dict[str, Any] = {}

    def __call__(self, lon: float, lat: float, t_s: float) -> tuple[float, float]:
        return self.lowest(lon, lat, t_s)

    def records_within(self, t0_s: float, t1_s: float) -> list[float]:
        """The times [s after the run start] of the met's records strictly within ``(t0_s, t1_s)``, of those the
        run holds now: the wind is linear in time between them (its extremes over a step are at these or the
        step's ends; :meth:`plumecast.near_field_plume.NearFieldSource.step_speeds`)."""
        t = np.asarray(self.grid_now().times_s, dtype=float)
        return [float(v) for v in t[(t > t0_s) & (t < t1_s)]]

    @property
    def words(self) -> str:
        """How :meth:`at_stack` takes the wind, in words (for the run's provenance)."""
        if self.one_level:
            return ("the met's one level taken as the 10 m wind, raised to the stack top by the power law of zones "
                    "(Irwin 1979, per class and terrain)")
        return ("the met's wind at the stack top (its levels interpolated in height as the particles see them, "
                "the log law below the lowest, z0 of near_field.terrain)")

    def at_stack(self, lon: float, lat: float, t_s: float, height_m: float, pg_class: str,
                 terrain: str) -> tuple[float, float, float]:
        """``(u_east, v_north, speed)`` [m s-1] at the top of a stack ``height_m`` high
        at (``lon``, ``lat``) and ``t_s``, for a plume of class ``pg_class`` over
        ``terrain``; the speed floored at
        :data:`~plumecast.near_field_plume.NEAR_FIELD_MIN_WIND_M_S`."""
        if self.one_level:
            u_e, v_n = self.lowest(lon, lat, t_s)
            return power_law_at_stack(u_e, v_n, height_m, pg_class, terrain)
        grid = self.grid_now()
        if grid.nz == 1:
            u_e, v_n = self.lowest(lon, lat, t_s)
            return power_law_at_stack(u_e, v_n, height_m, pg_class, terrain)
        z0 = TERRAIN_ROUGHNESS_M[terrain]
        c = self._cache
        if c.get("grid") is not grid or c.get("times") is not grid.times_s or c.get("z0") != z0:
            # one grid per window (its arrays shared; those of a window shift in place)
            c.update(grid=grid, times=grid.times_s, z0=z0, rough=with_roughness(grid, z0))
        # not below the 10-m reference height, as zones' power law and ISC3 (the classes and the
        # Briggs curves are read with the 10-m wind): a 5-m stack had moved with the log law's
        # slower wind, 1.2-1.4x above a ground release of the same height (regression audit)
        u_e, v_n = wind_at_height(c["rough"], lon, lat, t_s, max(height_m, PG_REFERENCE_HEIGHT_M))
        return u_e, v_n, max(math.hypot(u_e, v_n), NEAR_FIELD_MIN_WIND_M_S)
