"""Threat at a point: outdoor and indoor concentration over time at named places
(ALOHA's "threat at a point"), from the same concentration model as the zones."""

from __future__ import annotations

import math
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

    A point farther from the source than the zones search
    (:data:`~plumecast.nearfield.zones.setup.MAX_DISTANCE_M`) is beyond the local
    model's range (its plane projection and its Gaussian and dense-gas plume are local
    models), and one within :data:`~plumecast.nearfield.zones.near_source.NEAR_RANGE_M` of
    the source is short of it: their series are NaN (unknown, never 0) and
    ``in_range`` is False (``too_near`` True for the second).
    """
    from plumecast.nearfield.zones.near_source import (
        NEAR_RANGE_M,
        near_range_unknown,
        upwind_unknown,
    )
    from plumecast.nearfield.zones.plume import exposure_series, exposure_time_axis
    from plumecast.nearfield.zones.setup import MAX_DISTANCE_M, to_local
    from plumecast.shelter import indoor_concentration

    sc, setup = result.scenario, result.setup
    if not sc.points:
        return None
    import xarray as xr
    lat = np.array([p.lat for p in sc.points])
    lon = np.array([p.lon for p in sc.points])
    x, y = to_local(sc.source.lat, sc.source.lon, setup.downwind_bearing_deg, lon, lat)
    ends = exposure_time_axis(setup)
    # within NEAR_RANGE_M of a ground-level source, or in a dense cloud's gravity spread outside its crosswind
    # profile (upwind; a puff's slumping beside the source): no value given
    r = np.hypot(x, y)
    too_near = near_range_unknown(setup, r) | upwind_unknown(result, x, y)
    in_range = (r <= MAX_DISTANCE_M) & ~too_near
    out = np.full((ends.size, x.size), np.nan)
    if in_range.any():
        out[:, in_range] = exposure_series(setup, x[in_range], y[in_range], ends)
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
            "in_range": ("point", in_range, {"long_name": "within the local model's range (else the series are NaN)",
                                            "max_distance_m": MAX_DISTANCE_M, "min_distance_m": NEAR_RANGE_M}),
            "too_near": ("point", too_near, {"long_name": "closer to the source than the model's range, or in a "
                                                          "dense cloud's gravity spread outside its crosswind profile (unknown)",
                                            "min_distance_m": NEAR_RANGE_M}),
        },
        coords={
            "time": ("time", ends, {"units": "s", "long_name": "time since release start (interval end)"}),
            "point": ("point", [p.name for p in sc.points]),
            "lat": ("point", lat, {"units": "degrees_north"}),
            "lon": ("point", lon, {"units": "degrees_east"}),
        },
    )
    return ds


def point_summary(ds: xr.Dataset) -> list[dict[str, float | str | bool]]:
    """Per point: peak outdoor/indoor ppm and the times they occur (s after release start).

    A point beyond the local model's range (``in_range`` False) gets NaN peaks and
    times (unknown), never 0. A point the cloud never reaches within the series gets
    a peak of 0 and a NaN time (there is no time of a peak that did not happen).
    """
    rows: list[dict[str, float | str | bool]] = []
    t = ds["time"].values
    in_range = ds["in_range"].values if "in_range" in ds else np.ones(ds.sizes["point"], dtype=bool)
    for i, name in enumerate(ds["point"].values):
        row: dict[str, float | str | bool] = {
            "point": str(name), "x_m": float(ds["x_m"].values[i]), "y_m": float(ds["y_m"].values[i]),
            "in_range": bool(in_range[i]), "too_near": bool(ds["too_near"].values[i]) if "too_near" in ds else False,
        }
        for where in ("outdoor", "indoor"):
            c = ds[f"{where}_ppm"].values[:, i]
            if not in_range[i] or not np.isfinite(c).any():
                peak, when = math.nan, math.nan
            else:
                k = int(np.nanargmax(c))
                peak = float(c[k])
                when = float(t[k]) if peak > 0 else math.nan
            row[f"peak_{where}_ppm"] = peak
            row[f"time_peak_{where}_s"] = when
        rows.append(row)
    return rows
