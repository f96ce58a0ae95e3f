"""What the zones' models say close to the source: nothing within :data:`NEAR_RANGE_M` of a ground-level
release (a plume is zero at its source, the workbook's cloud has no value upwind of x = 0), and a dense
plume's gravity spread against the wind, whose extent the workbook gives but not its concentration. Places
there are inside the zones with an unknown concentration, never "no exposure" (zones audit, session 40)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Point, Polygon

from plumecast.nearfield.zones.setup import PlumeSetup

if TYPE_CHECKING:
    from plumecast.nearfield.zones.footprint import ThreatZones

#: Nearest distance from the source at which a place's concentration is given: closer, a Gaussian plume (zero
#: at the source itself) or the workbook's cloud (nothing upwind of x = 0) says nothing, and a place there is
#: unknown, not "no exposure" (ALOHA does not report below 10 m either; zones audit, session 40: a point at the
#: release read 0 ppm inside the AEGL-3 zone). [m]
NEAR_RANGE_M = 10.0


def near_range_unknown(setup: PlumeSetup, r_m: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Places ``r_m`` from the source whose concentration the model does not give (:data:`NEAR_RANGE_M`): for a
    ground-level or dense release only; at the foot of a stack or a release above 10 m the ground's near-zero
    air is the model's answer (a point 5 m from a 60-m stack had been told to take itself as inside the
    innermost zone; review of session 40)."""
    ground = setup.dense is not None or (setup.plume_rise is None and setup.source_height_m <= NEAR_RANGE_M)
    return np.asarray(r_m, dtype=float) < NEAR_RANGE_M if ground else np.zeros(np.shape(r_m), dtype=bool)


def upwind_extent_m(setup: PlumeSetup) -> float:
    """How far a dense cloud's gravity spread reaches upwind of the source
    (:meth:`~plumecast.nearfield.dense_gas.DenseSetup.upwind_extent_m`), for a release of finite duration
    never farther than the whole mass released at once reaches (``setup.instantaneous``): a source that
    gives its volume over T spreads no faster than that volume at once under the model's slumping law (the
    steady plume's ``L_U`` of a 10-s release of 5 t of chlorine in 1.5 m/s had been 1.6 km, against 32 m
    for the whole puff). 0 for a passive release. [m]"""
    if setup.dense is None:
        return 0.0
    u = setup.wind_speed_m_s
    up = setup.dense.upwind_extent_m(u)
    twin = setup.instantaneous
    if twin is not None and twin.dense is not None and setup.duration_s > 0:
        up = min(up, twin.dense.upwind_extent_m(u))
    return float(up)


def upwind_lobe(setup: PlumeSetup, half_width_m: float) -> Polygon:
    """The part of a dense plume's zone upwind of the source: a half ellipse reaching
    :func:`upwind_extent_m` against the wind, as wide as the zone at the source. The workbook gives
    its extent, not a concentration in it: a place there is inside the zone, its concentration
    unknown (:func:`upwind_unknown`). [m, x downwind]"""
    up = upwind_extent_m(setup)
    if not (up > 0.0 and half_width_m > 0.0):
        return Polygon()
    theta = np.linspace(-0.5 * np.pi, 0.5 * np.pi, 33)
    x = -up * np.cos(theta)
    x[[0, -1]] = 0.0
    # closed half a metre downwind of the source, so that it overlaps the zone there and the union is one piece
    return Polygon(np.column_stack([np.concatenate([[0.5], x, [0.5]]),
                                    half_width_m * np.concatenate([[-1.0], np.sin(theta), [1.0]])]))


def upwind_unknown(result: ThreatZones, x_m: NDArray[np.float64], y_m: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Places upwind of the source inside a zone (a dense plume's upwind spread, :func:`upwind_lobe`), whose
    concentration the model does not give (it reads 0 there): unknown, never "no exposure"."""
    out = np.zeros(np.shape(x_m), dtype=bool)
    zones = [z.polygon_local for z in result.zones if not z.polygon_local.is_empty]
    for k in np.flatnonzero(np.asarray(x_m) < 0.0):
        p = Point(float(x_m[k]), float(y_m[k]))
        out[k] = any(z.covers(p) for z in zones)
    return out
