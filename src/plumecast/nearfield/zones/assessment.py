"""Consequences at the receptors (cities, a CSV list) inside the zones or the wind-direction
uncertainty sector (:func:`plumecast.consequence.assess` on the zones' exposure series)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Point

from plumecast.consequence import onset_floor
from plumecast.nearfield.zones.plume import exposure_series, exposure_time_axis
from plumecast.nearfield.zones.scenario import (
    LocalScenario,
)
from plumecast.nearfield.zones.setup import to_local
from plumecast.units import EARTH_RADIUS_M

if TYPE_CHECKING:  # xarray is imported where receptors are assessed
    import xarray as xr

    from plumecast.nearfield.zones.footprint import ThreatZones


def _load_receptors(scenario: LocalScenario, reach_m: float) -> Any:
    """The scenario's receptors within ``reach_m`` of the source (box), or None."""
    found = _load_receptor_discs(scenario, reach_m, 0.0)
    return None if found is None else found[0]


def _load_receptor_discs(scenario: LocalScenario, reach_m: float,
                         city_margin_m: float) -> tuple[Any, NDArray[np.float64]] | None:
    """The scenario's receptors within ``reach_m`` of the source (box; cities within
    ``reach_m + city_margin_m``) and the radius of each one's disc [m]: a city's built-up
    disc from its people (:func:`plumecast.exposure.receptor_radius_m`, as ``run`` takes it),
    0 for the rows of a CSV and the named points (zones take them as points); None if the
    scenario names none."""
    from plumecast.exposure import receptor_radius_m
    from plumecast.receptors import Receptors, load_cities, points, read_receptor_csv

    spec = scenario.receptors
    lat0, lon0 = scenario.source.lat, scenario.source.lon

    def box(m: float) -> tuple[float, float, float, float]:
        dlat = math.degrees(m / EARTH_RADIUS_M) + 0.01
        dlon = dlat / max(math.cos(math.radians(lat0)), 0.05)
        return (lon0 - dlon, lat0 - dlat, lon0 + dlon, lat0 + dlat)

    parts, radii = [], []
    if spec.cities:
        cities = load_cities(min_population=spec.min_population, bbox=box(reach_m + city_margin_m))
        parts.append(cities)
        radii.append(receptor_radius_m(np.asarray(cities.population, dtype=float)))
    if spec.csv is not None:
        parts.append(read_receptor_csv(spec.csv).filter(bbox=box(reach_m)))
    if scenario.points:  # the named places are receptors too (population unknown unless given)
        pts = scenario.points
        parts.append(points([p.name for p in pts], [p.lat for p in pts], [p.lon for p in pts],
                            [math.nan if p.population is None else p.population for p in pts]))
    if not parts:
        return None
    radius = np.zeros(sum(len(p) for p in parts))
    if radii:
        radius[:radii[0].size] = radii[0]
    return Receptors.concat(parts), radius


def zone_receptors(result: ThreatZones, receptors: Any | None = None) -> tuple[Any, NDArray[np.float64]] | None:
    """The receptors :func:`~plumecast.nearfield.zones.footprint.compute_zones` counts and
    assesses, and the radius of each one's disc [m]: those handed to it (points), else the
    scenario's within the zones' reach, and its cities whose discs may reach into them
    (:func:`_load_receptor_discs`); None if the scenario names none. Read once for both."""
    if receptors is not None:
        return receptors, np.zeros(len(receptors))
    from plumecast.exposure import MAX_RADIUS_M

    reach = max((z.max_distance_m for z in result.zones), default=0.0)
    return _load_receptor_discs(result.scenario, reach, MAX_RADIUS_M)


def receptor_people_by_zone(result: ThreatZones, rec: Any, radius: NDArray[np.float64]) -> list[tuple[float, int, int]]:
    """For each zone, the people of the receptors ``rec`` (with their discs' ``radius``,
    :func:`zone_receptors`) in it, the receptors in it, and those of them whose people are
    unknown: ``(people, receptors, unknown)``.

    A city's people are spread evenly over its built-up disc (as ``run`` takes them,
    :func:`plumecast.exposure.receptor_radius_m`), and a zone holds the share of them in the
    part of the disc it covers; a CSV row, a named point and a receptor handed to
    :func:`~plumecast.nearfield.zones.footprint.compute_zones` are points, inside or not. A
    city was counted whole or not at all by its centre until session 35: all of a city of
    600,000 (a disc 6 km in radius) for a 2-km-wide zone over its centre, none of it when the centre lay
    100 m outside."""
    scenario, setup = result.scenario, result.setup
    x, y = to_local(scenario.source.lat, scenario.source.lon, setup.downwind_bearing_deg, rec.lon, rec.lat)
    pop = np.asarray(rec.population, dtype=float)
    out = []
    for z in result.zones:
        poly = z.polygon_local
        people, n_in, n_unknown = 0.0, 0, 0
        if not poly.is_empty:
            reach = max(z.max_distance_m, -poly.bounds[0])  # a dense plume's zone reaches upwind too
            for k in np.flatnonzero(np.hypot(x, y) - radius <= reach + 1.0):
                if radius[k] > 0:
                    disc = Point(x[k], y[k]).buffer(radius[k], quad_segs=32)
                    share = disc.intersection(poly).area / disc.area
                else:
                    share = 1.0 if poly.covers(Point(x[k], y[k])) else 0.0
                if share <= 0.0:
                    continue
                n_in += 1
                if math.isfinite(pop[k]):
                    people += pop[k] * share
                else:
                    n_unknown += 1
        out.append((people, n_in, n_unknown))
    return out


def edge_receptors(result: ThreatZones, rec: Any, radius: NDArray[np.float64]) -> list[tuple[str, float, str]]:
    """The receptors whose disc (``radius``, :func:`zone_receptors`) reaches into a zone while its
    centre lies in no zone and outside the wind-direction uncertainty sector: ``(name, people, the
    innermost zone it reaches)``. :func:`assess_receptors` takes a receptor by its centre, so their
    people in the zones are counted (:func:`receptor_people_by_zone`) but not assessed: the totals
    must say so (a town of 61,000 whose disc held 1,700 of the AEGL-3 zone's people had been left out
    of the deaths without a word; audit, session 38)."""
    scenario, setup = result.scenario, result.setup
    x, y = to_local(scenario.source.lat, scenario.source.lon, setup.downwind_bearing_deg, rec.lon, rec.lat)
    sector = result.uncertainty_sector
    out = []
    for k in np.flatnonzero(np.asarray(radius) > 0):
        centre = Point(x[k], y[k])
        if any(z.polygon_local.covers(centre) for z in result.zones if not z.polygon_local.is_empty):
            continue
        if not sector.is_empty and sector.covers(Point(float(rec.lon[k]), float(rec.lat[k]))):
            continue
        disc = centre.buffer(float(radius[k]), quad_segs=32)
        reached = [z.level.name for z in result.zones if not z.polygon_local.is_empty and disc.intersects(z.polygon_local)]
        if reached:
            out.append((str(rec.name[k]), float(rec.population[k]), reached[-1]))
    return out


def assess_receptors(result: ThreatZones, receptors: Any | None = None) -> xr.Dataset | None:
    """Consequences at the receptors inside a zone or the wind-direction uncertainty sector.

    Each receptor's outdoor concentration series (Palazzi finite-duration plume,
    :func:`concentration_series`, averaged over each interval) goes to
    :func:`plumecast.consequence.assess`, which gives peak concentration, peak %
    of the lethal level (AEGL-3 for the elapsed exposure duration), toxic load,
    probit, lethal fraction, fatalities outdoors and sheltered (the scenario's
    ``shelter``, default 0.5 ACH) and first AEGL exceedance times (seconds after
    the release start; read from each interval's exact mean where it is above the
    series' 4-sample mean, :mod:`plumecast.nearfield.zones.arrival`, so that they
    are never later than the air's). Zone geometry is added: ``x_m``, ``y_m``, ``zone_index``
    (innermost zone, -1: none) and ``in_uncertainty_sector``.

    Returns ``None`` when no receptor is inside.
    """
    import xarray as xr

    from plumecast.consequence import assess

    scenario, setup = result.scenario, result.setup
    reach = max((z.max_distance_m for z in result.zones), default=0.0)
    rec = receptors if receptors is not None else _load_receptors(scenario, reach)
    if rec is None or len(rec) == 0:
        return None
    lat0, lon0, bearing = scenario.source.lat, scenario.source.lon, setup.downwind_bearing_deg
    x, y = to_local(lat0, lon0, bearing, rec.lon, rec.lat)
    in_sector = np.array(
        [result.uncertainty_sector.covers(Point(lo, la)) for lo, la in zip(rec.lon, rec.lat, strict=True)],
        dtype=bool,
    ) if not result.uncertainty_sector.is_empty else np.zeros(len(rec), dtype=bool)
    zone_index = np.full(len(rec), -1, dtype=int)
    for k, z in enumerate(result.zones):
        if z.polygon_local.is_empty:
            continue
        inside = np.array([z.polygon_local.covers(Point(a, b)) for a, b in zip(x, y, strict=True)], dtype=bool)
        zone_index[inside] = k
    keep = (zone_index >= 0) | in_sector
    if not keep.any():
        return None
    idx = np.nonzero(keep)[0]
    # Sector receptors get the value on the plume axis at their distance: the wind may swing onto them.
    on_axis = in_sector[idx]
    x_eval = np.where(on_axis, np.hypot(x[idx], y[idx]), x[idx])
    y_eval = np.where(on_axis, 0.0, y[idx])
    ends = exposure_time_axis(setup)
    series = exposure_series(setup, x_eval, y_eval, ends)
    # within NEAR_RANGE_M of the source the model says nothing: unknown, not "no exposure" (zones audit,
    # session 40: a receptor at the release read 0 ppm inside the AEGL-3 zone)
    from plumecast.nearfield.zones.near_source import near_range_unknown, upwind_unknown

    series[:, near_range_unknown(setup, np.hypot(x[idx], y[idx])) | upwind_unknown(result, x[idx], y[idx])] = np.nan
    floor = onset_floor(result.agent)
    shelter = receptor_shelter(scenario.shelter, series, ends, floor)
    conc = xr.DataArray(
        series,
        dims=("time", "receptor"),
        coords={
            "time": ("time", ends, {"units": "s", "long_name": "time since release start (interval end)"}),
            "receptor": ("receptor", rec.name[idx].astype(str)),
            "lat": ("receptor", np.asarray(rec.lat)[idx]),
            "lon": ("receptor", np.asarray(rec.lon)[idx]),
        },
        attrs={"units": "kg m-3", "long_name": "outdoor concentration (interval mean)"},
    )
    # the countdowns from a bound of each interval's true mean (the series' are 4-sample means, which fall
    # short of it on a front's convex rise and dated arrivals up to 13 s late; session 47)
    # and the sheltered ones from a building fed each interval's most of the outdoor air (a bound of the indoor
    # air at every moment; the interval means through the building are not one)
    from plumecast.nearfield.zones.arrival import arrival_bounds

    bound_values, most_values = arrival_bounds(setup, x_eval, y_eval, ends, series)
    bound, most = conc.copy(data=bound_values), conc.copy(data=most_values)
    ds = assess(
        conc,
        result.agent,
        np.asarray(rec.population, dtype=float)[idx],
        shelter=shelter,
        start=0.0,
        keep_timeseries=False,
        onset_floor_kg_m3=floor,
        arrival_series=bound,
        arrival_peak=most,
    )
    ds = ds.assign_coords(
        lat=("receptor", np.asarray(rec.lat, dtype=float)[idx], {"units": "degrees_north"}),
        lon=("receptor", np.asarray(rec.lon, dtype=float)[idx], {"units": "degrees_east"}),
    )
    ds["x_m"] = ("receptor", x[idx], {"units": "m", "long_name": "downwind distance"})
    ds["y_m"] = ("receptor", y[idx], {"units": "m", "long_name": "crosswind offset (left of wind)"})
    ds["zone_index"] = ("receptor", zone_index[idx], {"units": "1", "long_name": "innermost zone (-1: none)"})
    ds["in_uncertainty_sector"] = ("receptor", in_sector[idx])
    ds["plume_axis_assumed"] = (
        "receptor",
        on_axis,
        {"long_name": "figures are those on the plume axis at this distance (receptor in the "
         "wind-direction uncertainty sector: the wind may swing onto it)"},
    )
    end = shelter.end if isinstance(shelter.end, list) else None
    if end is not None:
        ds["shelter_end_s"] = ("receptor", np.asarray(end, dtype=float),
                               {"units": "s", "long_name": "when people ventilate or leave: the cloud has passed"})
    ds.attrs["zone_names"] = json.dumps([z.level.name for z in result.zones])
    ds.attrs["onset_floor_kg_m3"] = floor
    ds.attrs["concentration_model"] = (
        "Gaussian finite-duration plume (Palazzi et al. 1982), Briggs sigmas "
        f"({scenario.meteorology.terrain}, PG class {setup.pg_class} from {scenario.meteorology.stability_route()}), "
        f"lid {setup.mixing_height_m:g} m ({setup.lid_from}); "
        f"{ends.size} geometric intervals from the release start to {ends[-1]:.0f} s (fixed by the scenario)"
    )
    return ds


def receptor_shelter(
    shelter: Any, series: NDArray[np.float64], ends_s: NDArray[np.float64], floor_kg_m3: float
) -> Any:
    """The scenario's shelter (default :class:`plumecast.shelter.Shelter`) with a per-receptor end.

    Unless the scenario sets ``shelter.end``, people at each receptor ventilate
    (or leave) when *their* cloud has passed: at the end of the last interval
    at or above the onset floor (at the release start where it never is). Each
    receptor's sheltered dose then depends only on its own series.
    """
    from plumecast.shelter import Shelter

    base = shelter if shelter is not None else Shelter()
    if base.end is not None:
        return base
    above = series >= floor_kg_m3 if floor_kg_m3 > 0 else series > 0
    nt = series.shape[0]
    last = nt - 1 - np.argmax(above[::-1], axis=0)
    end = np.where(above.any(axis=0), ends_s[last], 0.0)
    return base.model_copy(update={"end": [float(e) for e in end]})
