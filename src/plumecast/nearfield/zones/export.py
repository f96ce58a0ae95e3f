"""Threat zones as GeoJSON (QGIS), KML (Google Earth) and a PNG map, written atomically."""


from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from shapely.geometry import mapping

from plumecast.fileio import write_bytes_atomic
from plumecast.nearfield.zones.footprint import ThreatZones
from plumecast.nearfield.zones.setup import MAX_DISTANCE_M, at_search_limit
from plumecast.numbers import plain, round_sig

# --------------------------------------------------------------------------- export


def threshold_text(ppm: float) -> str:
    """A threshold as shown in the zone table, the map legend and the KML [ppm]:
    two significant figures (:func:`plumecast.numbers.round_sig`), "n/a" for NaN."""
    return "n/a" if not math.isfinite(ppm) else f"{round_sig(ppm):,.10g}"


def exposure_text(minutes: float, fixed: bool = True) -> str:
    """The AEGL exposure duration a threshold is read at [min]; "fixed level" for a
    level that has none (ppm, mg/m3, LFL: ``fixed``), "not reached" for an AEGL
    whose zone is empty (NaN minutes: no place is exposed to it)."""
    if math.isfinite(minutes):
        return sig_text(minutes)
    return "fixed level" if fixed else "not reached"


def sig_text(value: float, digits: int = 2) -> str:
    """``value`` to ``digits`` significant figures in plain notation (never ``1.07e+03``). ["n/a" for NaN]

    What people read is never more precise than the model: its distances and areas
    carry the errors of the Pasquill-Gifford sigmas (a factor of about 2, Briggs 1973;
    the FAC2 scores of docs/validation.md), so two figures are all it supports.
    Thousands get a separator (``1,100``); small values keep their figures (``0.35``).
    """
    return plain(value, digits)


#: Beyond this distance a zone's tip is the Briggs curves extrapolated (ALOHA draws no zone past it). [m]
EXTRAPOLATED_BEYOND_M = 10_000.0


def distance_text(dist_m: float) -> str:
    """Maximum downwind distance as shown in the table and the legend, 2 significant figures. [km]

    Below :data:`~plumecast.nearfield.zones.near_source.NEAR_RANGE_M` it reads "< 0.01" (a tip of "0.0070 km" had
    been printed for a hose's jet, where the plume says nothing); beyond 10 km "> 10 (extrapolated: 95)", the
    table itself saying what the warning says (zones audit, session 40: a railcar's "95" km AEGL-3 read as a
    plain figure).

    >>> distance_text(4920.0), distance_text(7.0), distance_text(95_400.0), distance_text(0.0)
    ('4.9', '< 0.01', '> 10 (extrapolated: 95)', 'not reached')
    """
    from plumecast.nearfield.zones.near_source import NEAR_RANGE_M

    if dist_m <= 0:
        return "not reached"
    if at_search_limit(dist_m):  # Zone.beyond_search_limit: the search stopped there
        return f"> {MAX_DISTANCE_M / 1000:.0f}"
    if dist_m < NEAR_RANGE_M:
        return f"< {NEAR_RANGE_M / 1000:g}"
    if dist_m > EXTRAPOLATED_BEYOND_M:
        return f"> {EXTRAPOLATED_BEYOND_M / 1000:g} (extrapolated: {sig_text(dist_m / 1000)})"
    return sig_text(dist_m / 1000)


def legend_labels(result: ThreatZones) -> list[str]:
    """One label per zone for the map legend and the KML, from the rows of
    :meth:`ThreatZones.table` (the zone table's threshold at the tip, its exposure
    duration and the distance), so that map and table show the same numbers."""
    out = []
    for row in result.table():
        minutes = row["exposure_duration_min"]
        at = f" at {exposure_text(minutes)} min" if math.isfinite(minutes) else ""
        dist = distance_text(row["max_distance_m"])
        out.append(f"{row['level']} ({threshold_text(row['threshold_ppm'])} ppm{at}): "
                   f"{dist}{'' if dist == 'not reached' else ' km'}")
    return out


def _num(value: Any) -> float | None:
    """A finite float, or None (JSON null) for NaN / ±inf (RFC 8259 has no NaN)."""
    v = float(value)
    return v if math.isfinite(v) else None


def provenance(result: ThreatZones) -> dict[str, Any]:
    """What the zones were computed with, for the files' provenance: the concentration model, the
    class and the mixing lid with where it comes from (:func:`plumecast.nearfield.lid.near_field_lid`:
    ``local_weather.mixing_height_m``, else ``turbulence.mixing_height_m``, as run's near field)."""
    setup = result.setup
    return {"concentration_model": result.model_name, "stability_class": setup.pg_class,
            "mixing_height_m": _num(setup.mixing_height_m), "mixing_height_from": setup.lid_from}


def to_geojson(result: ThreatZones) -> dict[str, Any]:
    """GeoJSON FeatureCollection (RFC 7946, lon/lat WGS84): zones, uncertainty lines, source, receptors;
    ``provenance`` (a foreign member, RFC 7946 §6.1): :func:`provenance`."""
    from shapely.geometry.polygon import orient

    feats: list[dict[str, Any]] = []
    for z, row in zip(result.zones, result.table(), strict=True):
        # a level never reached is a feature with an empty geometry (reached: false), not left out: a reader of the
        # file could not tell "not reached" from "not computed"; exterior rings counterclockwise as RFC 7946
        # section 3.1.6 asks (they had been clockwise; zones audit, session 40)
        reached = not z.polygon.is_empty
        # an empty GeometryCollection rather than null: GEOS (shapely.from_geojson) refuses a file with a null
        # geometry (review of session 40)
        geometry: dict[str, Any] = {"type": "GeometryCollection", "geometries": []}
        if reached:
            geometry = mapping(orient(z.polygon, 1.0) if z.polygon.geom_type == "Polygon" else
                               type(z.polygon)([orient(p, 1.0) for p in z.polygon.geoms]))
        feats.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "kind": "threat_zone",
                    "level": z.level.name,
                    "reached": reached,
                    # the zone table's threshold: at the tip, for the exposure duration there
                    "threshold_ppm": _num(row["threshold_ppm"]),
                    "threshold_mg_m3": _num(row["threshold_mg_m3"]),
                    "exposure_duration_min": _num(row["exposure_duration_min"]),
                    # beyond_search_limit: the zone reaches past the search limit, which
                    # max_distance_m then holds (the real reach is farther, unknown)
                    "max_distance_m": z.max_distance_m,
                    "beyond_search_limit": z.beyond_search_limit,
                    "area_km2": z.area_m2 / 1e6,
                    # null = unknown (no population raster); never 0 for "not counted"
                    "people_inside": None if z.people is None else _num(z.people.people),
                    "people_unknown_area_km2": None if z.people is None else _num(z.people.unknown_area_km2),
                    "people_basis": result.people_basis,
                },
            }
        )
    for i, line in enumerate(result.uncertainty_lines):
        feats.append(
            {
                "type": "Feature",
                "geometry": mapping(line),
                "properties": {
                    "kind": "wind_direction_uncertainty",
                    "side": "left" if i else "right",
                    "half_angle_deg": result.uncertainty_half_angle_deg,
                },
            }
        )
    src = result.scenario.source
    feats.append(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [src.lon, src.lat]},
            "properties": {"kind": "source", "name": result.scenario.name},
        }
    )
    if result.receptors is not None:
        r = result.receptors
        zone_names = [z.level.name for z in result.zones]
        for i in range(r.sizes["receptor"]):
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [float(r.lon[i]), float(r.lat[i])]},
                    "properties": {
                        "kind": "receptor",
                        "name": str(r.receptor.values[i]),
                        "population": _num(r.population[i]),  # null: unknown
                        "plume_axis_assumed": bool(r.plume_axis_assumed[i]),
                        "zone": zone_names[int(r.zone_index[i])] if int(r.zone_index[i]) >= 0 else None,
                        "peak_ppm": _num(r.peak_concentration_ppm[i]),
                        "peak_percent_aegl3": _num(r.peak_percent_aegl3[i]),
                        "toxic_load": _num(r.toxic_load[i]),
                        "toxic_load_units": str(r.toxic_load.attrs.get("units", "")),
                        "probit": _num(r.probit[i]),
                        "fatalities": _num(r.fatalities[i]),
                        "fatalities_sheltered": _num(r.fatalities_sheltered[i]),
                        **{
                            name: _num(r[name][i])
                            for name in ("fatalities_low", "fatalities_high",
                                         "fatalities_sheltered_low", "fatalities_sheltered_high")
                            if name in r
                        },
                    },
                }
            )
    return {"type": "FeatureCollection", "name": result.scenario.name, "provenance": provenance(result),
            "features": feats}


_KML_COLOURS = ["7f00ffff", "7f00a5ff", "7f0000ff", "7f800080", "7f000000"]  # aabbggrr: yellow, orange, red, ...


def provenance_text(result: ThreatZones) -> str:
    """:func:`provenance` in words (the KML document's description)."""
    from plumecast.nearfield.lid import lid_text

    setup = result.setup
    return (f"concentration model: {result.model_name}; PG class {setup.pg_class}; mixing "
            f"{lid_text(setup.mixing_height_m, setup.lid_from)}")


def to_kml(result: ThreatZones) -> str:
    """KML 2.2 document (Google Earth, QGIS): one Placemark per zone, uncertainty lines, source."""

    def coords(seq: Any) -> str:
        return " ".join(f"{x:.6f},{y:.6f},0" for x, y in seq)

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>',
        f"<name>{escape(result.scenario.name)}</name>",
        f"<description>{escape(provenance_text(result))}</description>",
    ]
    for k, colour in enumerate(_KML_COLOURS):
        parts.append(
            f'<Style id="zone{k}"><LineStyle><color>ff{colour[2:]}</color><width>2</width></LineStyle>'
            f"<PolyStyle><color>{colour}</color></PolyStyle></Style>"
        )
    for k, (z, label) in enumerate(zip(result.zones, legend_labels(result), strict=True)):
        if z.polygon.is_empty:
            continue
        polys = list(z.polygon.geoms) if hasattr(z.polygon, "geoms") else [z.polygon]
        geom = "".join(
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords(p.exterior.coords)}"
            "</coordinates></LinearRing></outerBoundaryIs></Polygon>"
            for p in polys
        )
        if len(polys) > 1:
            geom = f"<MultiGeometry>{geom}</MultiGeometry>"
        parts.append(
            f"<Placemark><name>{escape(z.level.name)}</name>"
            f"<description>{escape(label)}</description><styleUrl>#zone{min(k, 4)}</styleUrl>{geom}</Placemark>"
        )
    for line in result.uncertainty_lines:
        parts.append(
            "<Placemark><name>wind direction uncertainty</name>"
            f"<LineString><coordinates>{coords(line.coords)}</coordinates></LineString></Placemark>"
        )
    src = result.scenario.source
    parts.append(
        f"<Placemark><name>source</name><Point><coordinates>{src.lon:.6f},{src.lat:.6f},0"
        "</coordinates></Point></Placemark>"
    )
    parts.append("</Document></kml>")
    return "\n".join(parts)


def zone_map_figure(result: ThreatZones) -> Any:
    """The map of :func:`zone_map_png` as a matplotlib ``Figure``; its legend shows
    :func:`legend_labels` (the zone table's thresholds)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 6.5), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    colours = ["#ffd400", "#ff8c00", "#d40000", "#7a007a", "#000000"]
    for k, (z, label) in enumerate(zip(result.zones, legend_labels(result), strict=True)):
        if z.polygon.is_empty:
            continue
        polys = list(z.polygon.geoms) if hasattr(z.polygon, "geoms") else [z.polygon]
        for j, p in enumerate(polys):
            xs, ys = p.exterior.xy
            # one legend entry per zone, however many parts its polygon has
            ax.fill(xs, ys, color=colours[min(k, 4)], alpha=0.45, lw=1, label=label if j == 0 else "_nolegend_")
    for line in result.uncertainty_lines:
        xs, ys = line.xy
        ax.plot(xs, ys, "k--", lw=0.8)
    src = result.scenario.source
    ax.plot(src.lon, src.lat, "k^", ms=8, label="source")
    if result.receptors is not None:
        r = result.receptors
        ax.scatter(r.lon.values, r.lat.values, s=12, c="k", zorder=5)
        for i in range(min(r.sizes["receptor"], 25)):
            ax.annotate(str(r.receptor.values[i]), (float(r.lon[i]), float(r.lat[i])), fontsize=7)
    ax.set_aspect(1.0 / max(math.cos(math.radians(src.lat)), 0.05))
    ax.set_xlabel("longitude [°E]")
    ax.set_ylabel("latitude [°N]")
    ax.set_title(
        f"{result.scenario.name}: {result.agent.name}, class {result.setup.pg_class}, "
        f"{result.scenario.meteorology.wind_speed_m_s:g} m/s from {result.scenario.meteorology.wind_from_deg:g}°, "
        f"lid {result.setup.mixing_height_m:g} m",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig


def zone_map_png(result: ThreatZones) -> bytes:
    """PNG map of the zones on a local lon/lat axis (aspect corrected), with receptors."""
    buf = io.BytesIO()
    zone_map_figure(result).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def distinct_times(times_s: Any, sig: int = 3) -> list[float]:
    """Times rounded to ``sig`` significant figures, or to more where fewer would make two
    of them equal (the geometric axis of the point series steps by about 0.9 %).

    >>> distinct_times([1.0, 1.00914661110774, 235.80861343101452])
    [1.0, 1.01, 236.0]
    >>> distinct_times([1.1, 1.104, 1.108])
    [1.1, 1.104, 1.108]
    """
    times = [float(t) for t in times_s]
    for digits in range(sig, 18):
        rounded = [round_sig(t, digits) for t in times]
        if len(set(rounded)) == len(set(times)):
            return rounded
    return times


def threat_points_csv(points: Any) -> str:
    """``threat_points.csv``: per time and point, the outdoor and indoor concentration [ppm].

    ``points``: the dataset of :func:`plumecast.nearfield.zones.points.point_threat`.
    Headers carry their units (``time [s]``: seconds after the release start, the end of
    each interval). What is written is never more precise than the model: concentrations
    to two significant figures (:func:`plumecast.numbers.round_sig`, as in
    consequences.csv), times to three (more only where needed to keep them distinct);
    latitude and longitude as given. Points beyond the model's range: ``in_range``
    False and ``NaN`` concentrations (unknown, never 0); ``too_near`` True for those short of it (within
    10 m of the release, or in a dense cloud's gravity spread outside its crosswind profile: upwind of it, a
    puff's slumping beside it).
    """
    import csv

    def unit(name: str) -> str:
        u = str(points[name].attrs.get("units", ""))
        return f"{name} [{u}]" if u and u != "1" else name

    def ppm(x: Any) -> str:
        v = float(x)
        return "NaN" if math.isnan(v) else repr(round_sig(v, 2))

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([unit("time"), "point", unit("outdoor_ppm"), unit("indoor_ppm"), "in_range", "too_near", "lat", "lon"])
    names = [str(n) for n in points["point"].values]
    out, ind = points["outdoor_ppm"].values, points["indoor_ppm"].values
    in_range, lat, lon = points["in_range"].values, points["lat"].values, points["lon"].values
    # too near: within 10 m of the release or in a dense cloud's gravity spread (in_range is False then too)
    near = points["too_near"].values if "too_near" in points else np.zeros(len(names), bool)
    for i, t in enumerate(distinct_times(points["time"].values)):
        for j, name in enumerate(names):
            w.writerow([repr(t), name, ppm(out[i, j]), ppm(ind[i, j]), bool(in_range[j]), bool(near[j]),
                        repr(float(lat[j])), repr(float(lon[j]))])
    return buf.getvalue()


def write_outputs(result: ThreatZones, out_dir: str | Path, stem: str = "zones") -> list[Path]:
    """Write ``<stem>.geojson``, ``<stem>.kml`` and ``<stem>.png`` atomically."""
    out = Path(out_dir)
    return [
        write_bytes_atomic(out / f"{stem}.geojson", json.dumps(to_geojson(result), indent=1).encode()),
        write_bytes_atomic(out / f"{stem}.kml", to_kml(result).encode()),
        write_bytes_atomic(out / f"{stem}.png", zone_map_png(result)),
    ]
