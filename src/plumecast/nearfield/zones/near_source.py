"""What the zones' models say close to the source: nothing within :data:`NEAR_RANGE_M` of a ground-level
release (a plume is zero at its source, the workbook's cloud has no value upwind of x = 0), and a dense
plume's gravity spread against the wind, whose extent the workbook gives but not its concentration (a puff's
slumping discs beside the source as well). Places
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


def puff_envelope(setup: PlumeSetup, centre_end_m: float, x_max_m: float) -> Polygon:
    """The ground a slumping puff covers while its centre travels from the source to ``centre_end_m``: the
    union of its discs, radius ``R(t)`` with ``R² = R0² + c t`` (:meth:`~plumecast.nearfield.dense_gas.
    DenseSetup.puff_slumping`), centre carried to ``u t``, cut at ``x_max_m`` downwind. [m, x downwind]

    At ``x`` the widest disc is that of ``t* = x/u + c/(2u²)`` (within ``[0, T]``, ``f(t) = R² - (x - u t)²``
    being concave), so the half-width is ``sqrt(R0² + c t* - (x - u t*)²)``: ``sqrt(R(x/u)² + c²/(4u²))`` near
    the source. The zones' crosswind profile takes the cloud at the time its centre passes a place, and drew
    50 t of chlorine at once in 1.5 m/s 23 m to each side at the source, while the cloud slumps there to 206 m
    before the wind has carried it off (review of session 41). The workbook's top-hat cloud has its centre's
    concentration across the disc, so a disc whose centre lies in a zone lies in it whole."""
    assert setup.dense is not None
    u = max(setup.wind_speed_m_s, 1e-6)
    r0, c = setup.dense.puff_slumping()
    t_end = max(centre_end_m, 0.0) / u
    # the farthest upwind: min over [0, T] of u t - R(t), at R = c/(2u) where that lies within it
    t_m = min(max((c * c / (4.0 * u * u) - r0 * r0) / c, 0.0), t_end)
    x_lo = u * t_m - np.sqrt(r0 * r0 + c * t_m)
    x_hi = min(u * t_end + np.sqrt(r0 * r0 + c * t_end), x_max_m)
    if not x_hi > x_lo:
        return Polygon()
    xs = np.linspace(x_lo, x_hi, 257)
    t = np.clip(xs / u + c / (2.0 * u * u), 0.0, t_end)
    w = np.sqrt(np.maximum(r0 * r0 + c * t - (xs - u * t) ** 2, 0.0))
    return Polygon(np.column_stack([np.concatenate([xs, xs[::-1]]), np.concatenate([w, -w[::-1]])])).buffer(0)


def upwind_unknown(result: ThreatZones, x_m: NDArray[np.float64], y_m: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Places in a zone's gravity spread outside its crosswind profile (a dense plume's upwind lobe,
    :func:`upwind_lobe`; a puff's slumping discs, :func:`puff_envelope`; ``Zone.spread_local``), whose
    concentration the model does not give (it reads 0 or less than the zone's level there): unknown, never
    "no exposure"."""
    out = np.zeros(np.shape(x_m), dtype=bool)
    spreads = [z.spread_local for z in result.zones if not z.spread_local.is_empty]
    if not spreads:
        return out
    for k in range(out.size):
        p = Point(float(x_m[k]), float(y_m[k]))
        out[k] = any(z.covers(p) for z in spreads)
    return out
