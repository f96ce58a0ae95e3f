"""Threat at a point: outdoor and indoor concentration over time at named places
(ALOHA's "threat at a point"), from the same concentration model as the zones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from plumecast.units import kg_m3_to_ppm

if TYPE_CHECKING:  # imported where a dataset is built
    import xarray as xr


def point_threat(result: Any) -> xr.Dataset | None:
    """Concentration over time at the scenario's ``points``, outdoors and indoors.

    Outdoors: the zones' concentration model at the place's own position
    (:func:`plumecast.nearfield.zones.plume.exposure_series`, interval means on the
    scenario's time axis). Indoors: a single-zone building
    (:func:`plumecast.shelter.indoor_concentration`) at the point's
    ``air_changes_per_hour``, else the scenario shelter's, else 0.5 h-1, closed
    for the whole series (no ventilation after the cloud: the worst case for the
    late hours, shown as such). Returns None when the scenario has no points.
    """
    from plumecast.nearfield.zones.plume import exposure_series, exposure_time_axis
    from plumecast.nearfield.zones.setup import to_local
    from plumecast.shelter import indoor_concentration

    sc, setup = result.scenario, result.setup
    if not sc.points:
        return None
    import xarray as xr
    lat = np.array([p.lat for p in sc.points])
    lon = np.array([p.lon for p in sc.points])
    x, y = to_local(sc.source.lat, sc.source.lon, setup.downwind_bearing_deg, lon, lat)
    ends = exposure_time_axis(setup)
    out = exposure_series(setup, x, y, ends)
    default_ach = sc.shelter.air_changes_per_hour if sc.shelter is not None else 0.5
    ach = np.array([p.air_changes_per_hour or default_ach for p in sc.points])
    dt = np.diff(np.concatenate([[0.0], ends]))
    indoor, _ = indoor_concentration(out, dt, ach[None, :])
    mw = result.agent.molecular_weight_g_mol
    ds = xr.Dataset(
        {
            "outdoor_kg_m3": (("time", "point"), out, {"units": "kg m-3", "long_name": "outdoor concentration (interval mean)"}),
            "indoor_kg_m3": (("time", "point"), indoor, {"units": "kg m-3", "long_name": "indoor concentration (single zone)"}),
            "outdoor_ppm": (("time", "point"), kg_m3_to_ppm(out, mw), {"units": "ppm"}),
            "indoor_ppm": (("time", "point"), kg_m3_to_ppm(indoor, mw), {"units": "ppm"}),
            "x_m": ("point", x, {"units": "m", "long_name": "downwind distance"}),
            "y_m": ("point", y, {"units": "m", "long_name": "crosswind offset (left of wind)"}),
            "air_changes_per_hour": ("point", ach, {"units": "h-1"}),
        },
        coords={
            "time": ("time", ends, {"units": "s", "long_name": "time since release start (interval end)"}),
            "point": ("point", [p.name for p in sc.points]),
            "lat": ("point", lat, {"units": "degrees_north"}),
            "lon": ("point", lon, {"units": "degrees_east"}),
        },
    )
    return ds


def point_summary(ds: xr.Dataset) -> list[dict[str, float | str]]:
    """Per point: peak outdoor/indoor ppm and the times they occur (s after release start)."""
    rows: list[dict[str, float | str]] = []
    t = ds["time"].values
    for i, name in enumerate(ds["point"].values):
        o = ds["outdoor_ppm"].values[:, i]
        n = ds["indoor_ppm"].values[:, i]
        rows.append({
            "point": str(name), "x_m": float(ds["x_m"].values[i]), "y_m": float(ds["y_m"].values[i]),
            "peak_outdoor_ppm": float(o.max()), "time_peak_outdoor_s": float(t[int(o.argmax())]),
            "peak_indoor_ppm": float(n.max()), "time_peak_indoor_s": float(t[int(n.argmax())]),
        })
    return rows
