"""Consequences at receptors: AEGL countdowns, % of lethal level, toxic load,
probit lethality, expected fatalities, outdoors and under shelter-in-place.

:func:`assess` works on any ``(time, receptor)`` concentration DataArray (a
plumecast run or another model's output); :func:`assess_grid` first samples a
gridded ``(time, lat, lon)`` field at receptor locations.

Conventions
-----------
* Each value is the **mean over the interval that ends at its timestamp**. The
  first interval starts at ``start`` (default: one time step before the first
  timestamp); ``start`` is the release start for all "hours since release" figures.
* Exposure at a receptor begins with the first interval of non-zero
  concentration; the AEGL a value is compared with is the one for the exposure
  duration elapsed by the end of that interval (interpolated, see
  :mod:`plumecast.toxicology`). A first-exceedance time is the timestamp (end) of
  the first interval whose mean reaches the level: the resolution is one interval.
* Toxic load ``TL = sum C_i^n dt_i`` in the units of the probit set; ``Pr = a +
  b ln TL``; lethal fraction ``Phi(Pr - 5)`` (CPR 18E 1999, sec. 5.2.1). Zero load
  gives ``Pr = -inf`` and exactly zero fatalities.
* Shelter-in-place: single-zone indoor model (:mod:`plumecast.shelter`). Before
  ``Shelter.start`` people breathe outdoor air (intervals are split pro rata);
  ``fatalities_sheltered = population (c f_indoor + (1 - c) f_outdoor)`` with
  compliance ``c``. For ``n > 1`` the load uses interval-mean indoor
  concentrations (a slight underestimate while the indoor level is rising fast).
  People inside at the end of the series go on breathing the indoor air while it
  decays (outdoor air clean afterwards): ``C_end^n / (n lambda)`` is added to the
  sheltered load, so it does not depend on where the series is cut.
* ppm <-> mass conversions use one stated temperature and pressure (default
  25 degC, 1 atm, the AEGL reference state).
* Missing AEGL or probit values never become zeros: the affected figures are
  NaN/NaT and the reason is in ``result.attrs["warnings"]`` (see
  :func:`result_warnings`).

The steps live in their own modules: :mod:`plumecast.consequence_inputs` (the
arguments checked and put in SI), :mod:`plumecast.consequence_metrics` (the kernel
on bare ``(time, receptor)`` arrays) and :mod:`plumecast.consequence_result` (the
figures as CF variables); this module puts them together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.agents import Agent
from plumecast.concentration import sample_bilinear
from plumecast.consequence_inputs import (
    concentration_kg_m3,
    issued_seconds,
    receptor_population,
    shelter_rates,
    shelter_weights,
    time_axis,
)
from plumecast.consequence_metrics import (
    ONSET_FLOOR_FRACTION,
    ArrivalFloor,
    block_metrics,
    exposure_context,
    onset_floor,
)
from plumecast.consequence_result import (
    PROBIT_FITTED_DURATION_MIN,
    Figures,
    add_fatalities,
    add_figures,
    add_receptor_flags,
    add_timeseries,
    first_reached_s,
    mask_unknown,
    total,
)
from plumecast.shelter import Shelter
from plumecast.toxicology import (
    AEGL_INTERPOLATION_METHOD,
    AEGL_LEVELS,
    lethal_fraction_from_probit,
    probit_from_load,
)
from plumecast.units import P_STANDARD_PA, T_STANDARD_K

__all__ = [
    "ONSET_FLOOR_FRACTION",
    "PROBIT_FITTED_DURATION_MIN",
    "ReceptorsLike",
    "Shelter",
    "assess",
    "assess_grid",
    "onset_floor",
    "outdoor_outcomes",
    "result_warnings",
    "sample_bilinear",
]


class ReceptorsLike(Protocol):
    """What :func:`assess` and :func:`assess_grid` read from a receptor table
    (``plumecast.receptors.Receptors`` satisfies it): arrays of equal length."""

    @property
    def lat(self) -> NDArray[Any]: ...

    @property
    def lon(self) -> NDArray[Any]: ...


# --------------------------------------------------------------------------- public


def assess(
    concentration: xr.DataArray,
    agent: Agent,
    population: ReceptorsLike | Sequence[float] | NDArray[Any] | None = None,
    *,
    shelter: Shelter | None = None,
    probit_set: str = "auto",
    start: Any = None,
    temperature_k: float = T_STANDARD_K,
    pressure_pa: float = P_STANDARD_PA,
    keep_timeseries: bool = True,
    onset_floor_kg_m3: float | None = None,
    issued_at: Any = None,
    arrival_floor: ArrivalFloor | None = None,
    arrival_series: xr.DataArray | None = None,
    arrival_peak: xr.DataArray | None = None,
) -> xr.Dataset:
    """Consequences of a concentration series at each receptor.

    Parameters
    ----------
    concentration : xarray.DataArray, dims (time, receptor)
        Interval-mean concentration ending at each timestamp. ``units`` attribute
        required: ``'kg m-3'`` (also ``'kg/m3'``), ``'mg m-3'`` (``'mg/m3'``) or
        ``'ppm'``. ``time`` is datetime64 or seconds. Receptor coordinates
        (``name``, ``country``, ``lat``, ``lon``, ``population``) are carried over.
    agent : plumecast.agents.Agent
        The toxic agent.
    population : Receptors, array_like or None
        People at each receptor. [persons] A ``Receptors`` table also supplies
        name, country, lat and lon. ``None``: the ``population`` coordinate of
        ``concentration`` if any, else fatalities are not computed (NaN + warning).
    shelter : plumecast.shelter.Shelter, optional
        Shelter-in-place assumptions; default ``Shelter()`` (0.5 ACH, full
        compliance, from the release start).
    probit_set : str
        Name of the agent's probit set (``"purple_book"``, ``"lees"``, ...) or
        ``"auto"`` (the agent's first set).
    start : datetime-like or float, optional
        Release start = start of the first interval (seconds if ``time`` is in
        seconds). Default: one time step before the first timestamp.
    temperature_k, pressure_pa : float
        State for ppm <-> mass conversions. [K], [Pa]
    keep_timeseries : bool
        Include the outdoor and indoor concentration timelines (time, receptor).
    onset_floor_kg_m3 : float, optional
        Exposure at a receptor begins with the first value at or above this
        floor (a trace below it cannot start the AEGL clock). Default
        :func:`onset_floor`: 1 % of the agent's lowest 8-h AEGL. [kg m-3]
    issued_at : datetime-like or float, optional
        When the forecast is issued (seconds after ``start`` if ``time`` is in
        seconds); ``lead_time_to_aeglN`` counts from it. Default: ``start``.
    arrival_floor : plumecast.consequence_metrics.ArrivalFloor, optional
        The earliest each receptor can reach a level, (time, receptor) on the series' steps in seconds
        after ``start`` (a run's :meth:`plumecast.exposure.ReceptorExposure.arrival_floor`: the front of
        the near-field air); an arrival is never given before it where it is known. None: the means alone.
    arrival_series : xarray.DataArray, optional
        What the first exceedances (the countdowns) are read from, as ``concentration`` (dims, shape,
        units), in place of it: each interval's value at least ``concentration``'s and at least the
        interval's true mean where ``concentration``'s are approximate (zones: the sampled means,
        :func:`plumecast.nearfield.zones.arrival.arrival_bounds`), the sheltered ones through the same
        building. Every other figure is read from ``concentration``. None: the countdowns from it too.
    arrival_peak : xarray.DataArray, optional
        The most of the outdoor air within each interval, as ``concentration`` (zones:
        :func:`plumecast.nearfield.zones.arrival.arrival_bounds`): the sheltered countdowns are then read
        from the building fed with it, which bounds the indoor air from above at every moment, at the moment
        that bound reaches the level (:func:`plumecast.consequence_metrics.sheltered_bound`), so they are
        never later than the indoor air's own. Taken as at least ``arrival_series`` and ``concentration``.
        None: the sheltered countdowns from the interval means through the building.

    Returns
    -------
    xarray.Dataset
        Per-receptor figures (dim ``receptor``); see ``docs/consequence.md`` for
        the list. ``attrs["warnings"]`` lists missing AEGL/probit values and data
        quality flags, one per line.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from plumecast.agents import get_agent
    >>> from plumecast.consequence import assess
    >>> c = xr.DataArray(np.full((6, 1), 250.0), dims=("time", "receptor"),
    ...                  coords={"time": np.arange(1, 7) * 300.0}, attrs={"units": "ppm"})
    >>> r = assess(c, get_agent("chlorine"), [1000.0], probit_set="lees")
    >>> round(float(r.lethal_fraction[0]), 2)  # Withers & Lees LC50: 250 ppm, 30 min
    0.5
    """
    mw = agent.molecular_weight_g_mol
    values, notes = concentration_kg_m3(concentration, mw, temperature_k, pressure_pa)
    axis = time_axis(concentration["time"].values, start)
    shelter = shelter if shelter is not None else Shelter()
    nrec = values.shape[1]
    unknown: NDArray[np.bool_] = np.asarray(~np.isfinite(values).all(axis=0))
    if unknown.any():
        values = np.where(np.isfinite(values), values, 0.0)

    pop, rec_coords, pop_notes = receptor_population(concentration, population, nrec)
    notes += pop_notes

    ps = agent.probit_set(probit_set)
    floor = onset_floor(agent, temperature_k, pressure_pa) if onset_floor_kg_m3 is None else float(onset_floor_kg_m3)
    ctx = exposure_context(agent, axis, ps, floor, temperature_k, pressure_pa)
    weights = shelter_weights(axis, shelter)
    ach = shelter_rates(axis, shelter, nrec)
    if arrival_floor is not None and arrival_floor.front_s.shape != values.shape:
        raise ValueError(f"arrival_floor has shape {arrival_floor.front_s.shape}, the concentration {values.shape}; "
                         "expected the same (time, receptor)")
    def at_least(name: str, series: xr.DataArray | None, low: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """``series`` in kg m-3, at least ``low`` (where finite; ``low`` elsewhere); None without it."""
        if series is None:
            return None
        got, _ = concentration_kg_m3(series, mw, temperature_k, pressure_pa)
        if got.shape != values.shape:
            raise ValueError(f"{name} has shape {got.shape}, the concentration {values.shape}; "
                             "expected the same (time, receptor)")
        return np.asarray(np.where(np.isfinite(got), np.fmax(got, low), low), dtype=float)

    arrival = at_least("arrival_series", arrival_series, values)
    peak = at_least("arrival_peak", arrival_peak, values if arrival is None else arrival)
    outdoor, sheltered, indoor = block_metrics(values, ctx, weights, ach, keep_timeseries, floor=arrival_floor,
                                               arrival=arrival, arrival_peak=peak)

    warnings = agent.data_warnings(probit_set) + notes
    receptor_ids = concentration["receptor"].values if "receptor" in concentration.coords else np.arange(nrec)
    ds: Any = Figures()  # the per-receptor figures; one Dataset is built from them at the end
    ds["population"] = ("receptor", pop, {"units": "1", "long_name": "people at the receptor"})
    issued_s = issued_seconds(axis, issued_at)
    f_out = add_figures(ds, outdoor, "", axis, agent, ps, temperature_k, pressure_pa, issued_s)
    f_in = add_figures(ds, sheltered, "_sheltered", axis, agent, ps, temperature_k, pressure_pa, issued_s)
    comp = shelter.compliance_fraction
    add_fatalities(ds, pop, f_out, f_in, outdoor, sheltered, comp, agent)
    if unknown.any():
        mask_unknown(ds, unknown)
        outdoor["exposed_s"] = np.where(unknown, np.nan, outdoor["exposed_s"])
    last = values[-1] if values.shape[0] else np.zeros(nrec)
    still_present = (last >= floor if floor > 0 else last > 0) & ~unknown
    add_receptor_flags(ds, unknown, outdoor["exposed_s"], pop, still_present)
    if ctx.aegl_tables[3] is not None:
        _note_unread_percent(ds)

    set_coord = {"probit_set": ("probit_set", np.asarray(list(agent.probits), dtype=str),
                                {"long_name": "the agent's published probit sets"})} if ctx.extra_probits else {}
    ds = xr.Dataset(ds.vars, coords={"receptor": receptor_ids, **set_coord,
                                     **{name: ("receptor", coord) for name, coord in rec_coords.items()}})
    if keep_timeseries:
        ds = add_timeseries(ds, axis, values, indoor, unknown)

    ds.attrs.update(
        {
            "title": f"plumecast consequence assessment: {agent.name}",
            "Conventions": "CF-1.8",
            "agent": agent.name,
            "agent_molecular_weight_g_mol": mw,
            "agent_aegl_check": agent.aegl_check,
            "agent_aegl_note": agent.aegl_note,
            # a shipped agent's values that the scenario replaced (not verified)
            "agent_values_from_scenario": ", ".join(agent.from_scenario) or "none",
            "probit_set": agent.probit_set_name(probit_set) or f"none ({probit_set})",
            "probit_equation": ps.equation if ps else "n/a",
            "probit_source": ps.source if ps else "n/a",
            "lethal_fraction_method": "Phi(Pr - 5), CPR 18E (1999) sec. 5.2.1",
            "aegl_method": AEGL_INTERPOLATION_METHOD,
            "release_start": str(axis.release_start)
            if axis.is_datetime
            else f"{axis.release_start:g} s",
            # when the forecast was issued: what lead_time_to_aeglN counts from
            "issued_at": ("the release start (no issue time given)" if issued_at is None else
                          f"{str(axis.release_start + np.timedelta64(int(round(issued_s * 1e9)), 'ns'))[:19]}Z"
                          if axis.is_datetime else f"{issued_s:g} s after the release start"),
            "time_zone": "UTC (every date-time of this file, written without a zone)" if axis.is_datetime else "n/a",
            "time_convention": ("each value holds through the interval ending at its timestamp (plumecast run: "
                                "the transport step, the particles as they stand at its end and the near-field "
                                "plumes of that step's emissions, docs/exposure.md; zones: the interval's mean)"),
            "shelter_model": "single zone dC_in/dt = lambda (C_out - C_in), exact per interval (Chan et al. 2007)",
            "shelter_air_changes_per_hour": shelter.air_changes_per_hour,
            "shelter_compliance_fraction": comp,
            "shelter_start": "release start" if shelter.start is None else str(shelter.start),
            "shelter_after_series": "people inside at the end of the series go on breathing the indoor air "
            "while it decays at the air-exchange rate then in effect (outdoor air clean afterwards): "
            "toxic load C_end^n / (n lambda) added to the sheltered load",
            "ppm_reference_state": f"T = {temperature_k:g} K, P = {pressure_pa:g} Pa",
            "total_fatalities": total(ds["fatalities"].values),
            "total_fatalities_sheltered": total(ds["fatalities_sheltered"].values),
            "warnings": "\n".join(warnings),
        }
    )
    for level in AEGL_LEVELS:
        ds.attrs[f"aegl{level}_available"] = int(ctx.aegl_tables[level] is not None)
    own = own_rates_text(shelter, rec_coords.get("name", receptor_ids))
    if own:
        ds.attrs["shelter_own_air_changes_per_hour"] = own
    return ds


def own_rates_text(shelter: Shelter, names: Any) -> str | None:
    """The receptors whose buildings have their own air-exchange rate while people shelter
    (``receptors.points[].air_changes_per_hour``), as ``"P 5, Q 2"`` [h-1]; None when none has."""
    own = shelter.receptor_air_changes_per_hour
    if own is None:
        return None
    said = [f"{names[i]} {float(x):.2g}" for i, x in enumerate(own) if np.isfinite(x)]
    return ", ".join(said) or None


def outdoor_outcomes(values: NDArray[np.float64], time: NDArray[Any], start: Any, agent: Agent,
                     levels: tuple[int, ...] = (2, 3), probit_sets: bool = False,
                     floor: ArrivalFloor | None = None) -> dict[str, NDArray[np.float64]]:
    """What a response plan's evaluation reads of :func:`assess` at each column of
    ``values`` (time, column) [kg m-3]: ``lethal_fraction`` outdoors, and per AEGL level in
    ``levels`` ``first{level}_s``, its first exceedance (s after ``start``, as assess's
    ``first_exceedance_aegl{level}`` to the nanosecond; NaN: never or n/a), ``known{level}``
    (1: a time or never, 0: n/a) and ``available{level}`` (the agent has that AEGL at all).

    The same arithmetic, value for value, as :func:`assess` with its defaults (the agent's
    first probit set, the standard state, the onset floor), without what a plan's figures do
    not read: the sheltered figures and the indoor series, the other levels, the range over
    the agent's probit sets, the peak and the time exposed, and the Dataset. A column that is
    not finite is unknown (NaN). With ``probit_sets`` and an agent with more than one
    published set, ``lethal_fraction_sets`` (set, column) holds the outdoor lethal fraction
    under each of them, in the agent's order, as assess's range over the sets reads them
    (DESIGN.md, "Honest numbers": a plan's deaths carry that range too). ``floor``: as assess's
    ``arrival_floor`` (a step past its steps, a plan's clean tail, takes its last). (The evaluation of one member of the demo's comparison, 39
    plan and delay variants over 1,182 columns: 3.0-3.3 s, against 7.0-8.9 s through assess;
    benchmarks/README.md.)"""
    axis = time_axis(time, start)
    ps = agent.probit_set("auto")
    ctx = dataclasses.replace(exposure_context(agent, axis, ps, onset_floor(agent), T_STANDARD_K, P_STANDARD_PA),
                              levels=tuple(levels), lean=True)
    if not probit_sets:
        ctx = dataclasses.replace(ctx, extra_probits=(), extra_factors=())
    unknown = np.asarray(~np.isfinite(values).all(axis=0), dtype=bool)
    if unknown.any():
        values = np.where(np.isfinite(values), values, 0.0)
    m, _, _ = block_metrics(values, ctx, np.zeros(axis.end_s.size), 0.0, False, sheltered=False, floor=floor)
    frac = (lethal_fraction_from_probit(probit_from_load(m["load"], ps.a, ps.b)) if ps is not None
            else np.full(values.shape[1], np.nan))
    out = {"lethal_fraction": np.where(unknown, np.nan, frac)}
    if ctx.extra_probits:
        out["lethal_fraction_sets"] = np.where(unknown[None, :], np.nan, m["frac_sets"])
    for level in levels:
        hit, begin = first_reached_s(m, level, axis)
        begin_ns = (begin * 1e9).astype("timedelta64[ns]")  # assess's datetime, to the nanosecond
        out[f"first{level}_s"] = np.where(hit & ~unknown, begin_ns / np.timedelta64(1, "s"), np.nan)
        out[f"known{level}"] = (m[f"first{level}"] != -2).astype(float)
        out[f"available{level}"] = np.asarray(float(ctx.aegl_tables[level] is not None))
    return out


#: the note of a receptor whose peak % of AEGL-3 is n/a though no AEGL time is (a trace
#: below the onset floor where the agent's table has gaps: consequence_metrics.series_metrics)
UNREAD_PERCENT_NOTE = ("% of AEGL-3 n/a, not 0: the agent's table lacks AEGL-3 for an exposure duration the gas "
                       "reached here (below the onset floor too)")


def _note_unread_percent(ds: Any) -> None:
    """Say why the peak % of AEGL-3 is n/a at a receptor whose concentration is known and
    whose note does not already say so (receptor_notes speaks of the AEGL times only)."""
    notes = np.asarray(ds["note"].values, dtype=object)
    dims, _, attrs = ds.vars["note"]
    known = np.asarray(ds["concentration_known"].values, bool)
    changed = False
    for suffix in ("", "_sheltered"):
        pct = np.asarray(ds[f"peak_percent_aegl3{suffix}"].values, float)
        for i in np.flatnonzero(known & np.isnan(pct)):
            if "% of AEGL-3" not in str(notes[i]):
                notes[i] = f"{notes[i]}; {UNREAD_PERCENT_NOTE}" if notes[i] else UNREAD_PERCENT_NOTE
                changed = True
    if changed:
        ds["note"] = (dims, np.asarray(notes, dtype=str), attrs)


def result_warnings(result: xr.Dataset) -> list[str]:
    """The warnings of an :func:`assess` result, one string each."""
    text = str(result.attrs.get("warnings", ""))
    return [line for line in text.splitlines() if line.strip()]


# --------------------------------------------------------------------------- grids


def assess_grid(
    field: xr.DataArray,
    receptors: ReceptorsLike,
    agent: Agent,
    **kwargs: Any,
) -> xr.Dataset:
    """Sample a gridded concentration at receptors and :func:`assess` it.

    Parameters
    ----------
    field : xarray.DataArray, dims (time, lat, lon)
        Concentration with a ``units`` attribute (as for :func:`assess`).
    receptors : Receptors
        Receptor table: ``lat``, ``lon`` [degrees], and optionally ``name``,
        ``country``, ``population`` arrays.
    agent : plumecast.agents.Agent
        The toxic agent.
    **kwargs
        Passed to :func:`assess` (``shelter``, ``probit_set``, ``start`` ...).

    Returns
    -------
    xarray.Dataset
        As :func:`assess`, one row per receptor: a receptor off the grid (more than
        half a cell beyond its outermost centres) has an unknown concentration (NaN,
        ``concentration_known = 0``) and every figure unknown, so the totals leave it
        out and say so; the warnings name it.
    """
    lat = np.asarray(receptors.lat, dtype=float)
    lon = np.asarray(receptors.lon, dtype=float)
    values, inside = sample_bilinear(field, lat, lon)
    values = np.where(inside[None, :], values, np.nan)  # unknown, never zero
    coords: dict[str, Any] = {"time": field["time"].values, "receptor": np.arange(lat.size)}
    for name in ("name", "country", "lat", "lon", "population"):
        arr = getattr(receptors, name, None)
        if arr is not None:
            coords[name] = ("receptor", np.asarray(arr))
    da = xr.DataArray(
        values,
        dims=("time", "receptor"),
        coords=coords,
        attrs={"units": field.attrs.get("units")},
    )
    if da.attrs["units"] is None:
        del da.attrs["units"]
    result = assess(da, agent, kwargs.pop("population", None), **kwargs)
    off = np.flatnonzero(~inside)
    if off.size:
        names = getattr(receptors, "name", None)
        label = [str(np.asarray(names)[i]) if names is not None else str(i) for i in off]
        shown = ", ".join(label[:5]) + (f" and {len(label) - 5} more" if len(label) > 5 else "")
        lines = result_warnings(result) + [
            f"{off.size} receptor(s) outside the concentration grid ({shown}): concentration unknown, "
            "their figures unknown and left out of the totals"
        ]
        result = result.assign_attrs(warnings="\n".join(lines))
    return result
