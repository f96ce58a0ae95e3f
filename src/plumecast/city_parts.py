"""A city's figures from the parts of its disc that a plume crosses.

A receptor city is a disc (its built-up area, :func:`plumecast.exposure.receptor_radius_m`).
Where a point release's near-field plume can cross it, the exposure keeps the plume's air
at each of the disc's parts, the cells of a polar grid round the release
(:mod:`plumecast.disc_samples`, :func:`plumecast.exposure_parts.by_part`), each holding its
share of the city's people. Where an area source's plume (a city's own emission) reaches
the disc, its parts are the disc's sample points of that plume (4, 16 or 64 equal-area
points, an equal share of the people each), and the disc's most exposed point of that plume
is one more part, of no people (its *spot*, :mod:`plumecast.exposure_parts`).
The toxic load is convex in the concentration, so a narrow plume averaged over a wide
disc before the load understates the deaths (DESIGN "Honest numbers"): 10 kg/s of
chlorine for 3 h released inside Duisburg read "< 1" death from the disc mean, while the
people under the plume breathe thousands of ppm (decision audit, session 24).

The city's row is then made of its parts (:func:`assess_exposure`):

* people: the deaths (outdoors, sheltered, and the probit sets' range) are the sums over
  the parts, the lethal fractions their means weighted by the parts' shares of the people;
* arrival: the first time any part reaches a level (hours to it, lead time): the
  earliest, so a countdown errs early;
* place: the peak, % of AEGL-3, toxic load, probit, exposure duration, the concentration
  timelines and the note are those of the city's worst part (the largest toxic load; for
  an agent without a probit, whose toxic load is unknown, the highest peak), the air the
  most exposed of its people breathe.

The parts the plume never reaches breathe the same air and are assessed as one, with their
share of the people. ``disc_parts`` in the result says how many such receptors a row was
made of (0: the city's disc mean, or a point), ``area_spot`` whether a spot was one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.consequence_result import total
from plumecast.exposure import ReceptorExposure
from plumecast.exposure_parts import KIND_SPOT, by_part_kinds, part_starts

#: variables summed over the parts (people)
_SUMMED = ("fatalities", "fatalities_sheltered", "fatalities_low", "fatalities_high", "fatalities_sheltered_low",
           "fatalities_sheltered_high")
#: ... and those per probit set (receptor, probit_set)
_SUMMED_PER_SET = ("fatalities_by_probit_set", "fatalities_sheltered_by_probit_set")
#: variables averaged over the parts (weighted by their shares of the people)
_MEAN = ("lethal_fraction", "lethal_fraction_sheltered")
#: the earliest over the parts
_EARLIEST = tuple(f"{kind}_aegl{level}{suffix}" for kind in ("first_exceedance", "hours_to", "lead_time")
                  for level in (1, 2, 3) for suffix in ("", "_sheltered"))
#: the city's people and what is known of it: the city's own (its note, like its exposure duration and probit
#: flag, is its worst part's)
_CITY = ("population", "concentration_known")


def assess_exposure(exposure: ReceptorExposure, agent: Any, **kwargs: Any) -> xr.Dataset:
    """:func:`plumecast.consequence.assess` of a run's receptor exposure, with the rows of
    the cities a point release's plume can cross made of their parts (module docstring).
    ``kwargs`` go to ``assess`` (``shelter``, ``start``, ``issued_at`` ...)."""
    from plumecast.consequence import assess

    ds = assess(exposure.to_dataarray(), agent, exposure.receptors, arrival_floor=exposure.arrival_floor(), **kwargs)
    expanded, parent, share, kind = by_part_kinds(exposure)
    part_shelter = kwargs.get("shelter")  # the shelter of expanded's columns
    if expanded is not exposure:
        shelter = kwargs.get("shelter")
        own = None if shelter is None else shelter.receptor_air_changes_per_hour
        # each part is in its city's (or point's) buildings: their own air changes, if any
        part_kwargs = kwargs if own is None or shelter is None else {
            **kwargs, "shelter": shelter.model_copy(update={"receptor_air_changes_per_hour": [
                float(own[int(p)]) for p in parent]})}
        part_shelter = part_kwargs.get("shelter")
        parts = assess(expanded.to_dataarray(), agent, expanded.receptors, arrival_floor=expanded.arrival_floor(),
                       **part_kwargs)
        ds = _made_of_parts(ds, parts, parent, share, kind)
    else:
        ds["disc_parts"] = ("receptor", np.zeros(ds.sizes["receptor"], np.int16))
        ds["area_spot"] = ("receptor", np.zeros(ds.sizes["receptor"], np.int8))
    _arrivals_of_peaks(ds, expanded, parent, agent, kwargs.get("start"), kwargs.get("issued_at"), part_shelter)
    ds["disc_parts"].attrs["long_name"] = (
        "receptors its row is made of: the parts of the city's disc a point release's plume (cells of a polar grid "
        "round it) or an area source's plume (equal-area sample points) reaches, one each, and the rest of the disc "
        "as one (0: the disc's mean air, or a point); deaths summed over them, arrivals the earliest, the place "
        "figures, timelines and note its worst part's")
    ds["area_spot"].attrs["long_name"] = (
        "1: an area source's plume reaches the city's disc, and its row is made with the disc's most exposed sample "
        "point of that plume too (no people): its arrivals are the earliest of that point and the disc, its place "
        "figures, timelines and note the worse's; deaths from its parts' people (disc_parts)")
    if parts_note(ds):  # the place figures of such rows are a part's: say so on each of them
        for name in PLACE_FIGURES:
            if name in ds.data_vars:
                ds[name].attrs["comment"] = PLACE_COMMENT
    return ds


#: the figures of a city's row made of parts that are its worst part's, not the whole city's (module docstring)
PLACE_FIGURES = ("concentration", "concentration_indoor", "note", "peak_concentration", "peak_concentration_ppm",
                 "peak_percent_aegl3", "toxic_load", "probit",
                 "exposure_duration_h", "probit_beyond_fitted_range", "peak_concentration_sheltered",
                 "peak_concentration_ppm_sheltered",
                 "peak_percent_aegl3_sheltered", "toxic_load_sheltered", "probit_sheltered")
PLACE_COMMENT = ("where disc_parts > 0 or area_spot = 1, the city's most exposed part's (the air its most exposed "
                 "people breathe), not the whole city's; lethal_fraction and fatalities are the whole city's")


def parts_note(ds: xr.Dataset) -> str | None:
    """What a table of ``ds`` must say when some of its rows are made of parts: their peak, % of AEGL-3, toxic
    load and probit are the worst part's, while the lethal fraction and deaths are the city's (the CSV had
    said it nowhere; a probit of 6 beside a lethal fraction of 3 %: first-hour audit, session 40, item B3).
    None when no row is."""
    made = [np.asarray(ds[v].values) > 0 for v in ("disc_parts", "area_spot") if v in ds.data_vars]
    n = int(np.count_nonzero(np.any(made, axis=0))) if made else 0
    if not n:
        return None
    return (f"{n} row{'s are' if n > 1 else ' is'} made of the parts of a city's disc that a plume crosses "
            "(disc_parts > 0 or area_spot = 1): there the peak concentration, % of AEGL-3, toxic load, probit, "
            "exposure duration and note are the city's most exposed part's (the air its most exposed people breathe), "
            "while lethal_fraction and fatalities are the whole city's (its parts' people-weighted mean and sum; "
            "docs/exposure.md)")


def _made_of_parts(city: xr.Dataset, parts: xr.Dataset, parent: NDArray[np.int64],
                   share: NDArray[np.float64], kind: NDArray[np.int8]) -> xr.Dataset:
    """``parts`` (the assessment of every part, ``parent``: each part's city) gathered to
    the rows of ``city`` (the cities' own assessment, whose attributes and warnings are
    kept): each city's worst part's row, with its people figures summed or averaged over
    its parts and its arrivals the earliest (module docstring)."""
    load = np.asarray(parts["toxic_load"].values, dtype=float)
    peak = np.asarray(parts["peak_concentration"].values, dtype=float)
    first = part_starts(parent)
    counts = np.diff(np.append(first, parent.size))
    rows = first.copy()
    for r in np.flatnonzero(counts > 1):
        cols = np.arange(first[r], first[r] + counts[r])
        # the largest toxic load; an agent without a probit has none (its exponent n unknown): the highest
        # peak then (the first part had been taken, Essen's farthest from the plume: 1.6e-6 ppm beside
        # AEGL-1 reached there, and AEGL-2 "not reached" where it was unknown; outputs audit, session 35)
        rank = load[cols] if np.isfinite(load[cols]).any() else peak[cols]
        rows[r] = int(cols[np.argmax(np.where(np.isfinite(rank), rank, -np.inf))])
    out = parts.isel(receptor=rows).copy(deep=True)
    out = out.assign_coords(receptor=city["receptor"].values)
    for name in _CITY:
        if name in city.data_vars:
            out[name] = city[name]
    for r in np.flatnonzero(counts > 1):
        span = slice(first[r], first[r] + counts[r])
        for name in _SUMMED:
            v = np.asarray(parts[name].values[span], dtype=float)
            out[name].values[r] = np.nan if np.isnan(v).any() else float(v.sum())
        for name in _SUMMED_PER_SET:  # (receptor, probit_set): each set's deaths summed over the parts
            if name in parts.data_vars:
                v = np.asarray(parts[name].values[span], dtype=float)
                per_set = np.where(np.isnan(v).any(axis=0), np.nan, v.sum(axis=0))
                out[name].values[r] = per_set
                # the city's range is over the sets' totals, not the sum of each part's lowest and highest
                if np.isfinite(per_set).all():
                    stem = name.removesuffix("_by_probit_set")
                    out[f"{stem}_low"].values[r] = float(per_set.min())
                    out[f"{stem}_high"].values[r] = float(per_set.max())
        for name in _MEAN:  # weighted by the parts' shares of the people
            out[name].values[r] = float(np.sum(np.asarray(parts[name].values[span], dtype=float) * share[span]))
        for name in _EARLIEST:
            if name in out.data_vars:
                out[name].values[r] = _earliest(np.asarray(parts[name].values[span]))
    spots = np.add.reduceat((kind == KIND_SPOT).astype(np.int64), first)
    people_cols = counts - spots
    out["disc_parts"] = ("receptor", np.where(people_cols > 1, people_cols, 0).astype(np.int16))
    # (a city off the wind domain has unknown figures, from no spot)
    known = np.asarray(city["concentration_known"].values, bool) if "concentration_known" in city else True
    out["area_spot"] = ("receptor", ((spots > 0) & known).astype(np.int8))
    out.attrs = dict(city.attrs)
    out.attrs["total_fatalities"] = total(np.asarray(out["fatalities"].values, dtype=float))
    out.attrs["total_fatalities_sheltered"] = total(np.asarray(out["fatalities_sheltered"].values, dtype=float))
    return out


def _arrivals_of_peaks(ds: xr.Dataset, expanded: ReceptorExposure, parent: NDArray[np.int64], agent: Any,
                       start: Any, issued_at: Any, shelter: Any = None) -> None:
    """Bring the outdoor arrivals (``first_exceedance_aeglN``, ``hours_to_aeglN``, ``lead_time_aeglN``) of
    ``ds`` forward to the start of the first step in which the near-field air's peak within the step
    (:attr:`plumecast.exposure.ReceptorExposure.peak_extra`) reaches the level, each column's earliest for
    its receptor: a cloud that passes within a step or two reaches a level its steps' means never reach
    (audit 39: an ammonia tank's 10 min at 306 ppm read 159 and 181 ppm in 600-s means, below AEGL-2's 220,
    and a city's AEGL-2 countdown came 4.5 min late at 600-s steps, never at 900 s). The air reaches the
    level within that step, at the earliest at its start: early, never late, at any step. The level is read
    for the duration elapsed at the step's end, the lowest the step can meet
    (:func:`plumecast.consequence_metrics.peak_first_steps`),
    and the time is never before the front of the near-field air that lifts the air to it
    (:meth:`plumecast.exposure.ReceptorExposure.arrival_floor`). The exposure, the peaks and the loads stay
    the steps' means.

    The sheltered arrivals (``…_sheltered``) move too where ``shelter`` (of ``expanded``'s columns) begins after
    that step's start: until then the people who will shelter breathe the outdoor air itself (they had kept the
    means' late time; a shelter within the step, review of session 40: AEGL-2 never at 600-s steps against 64 min
    at 10 s); and indoors, to the start of the first step in which the building's air can reach the level, the
    passing cloud's dose let in as fast as its peak allows (:func:`plumecast.shelter.indoor_peak_bound`; the
    steps' means had let a 300-kg puff's dose in over a 600-s step: AEGL-1 indoors "never" 1 km away, 9 min at
    10-s steps)."""
    from plumecast.consequence_inputs import (
        issued_seconds,
        shelter_rates,
        shelter_weights,
        time_axis,
    )
    from plumecast.consequence_metrics import peak_arrivals_s
    from plumecast.shelter import Shelter, indoor_concentration, indoor_peak_bound
    from plumecast.shelter_lag import step_flags

    extra = expanded.peak_extra
    if extra is None:
        return
    cols = np.flatnonzero((extra > 0.0).any(axis=0))
    if cols.size == 0:
        return
    mean = expanded.total()[:, cols]
    mean = np.where(np.isfinite(mean), mean, 0.0)  # off the domain: unknown in ds already
    axis = time_axis(expanded.time, start)
    issued_s = issued_seconds(axis, issued_at)
    indoors = shelter_weights(axis, shelter if shelter is not None else Shelter())  # per step: 0 all outdoors
    levels = tuple(level for level in (1, 2, 3) if f"hours_to_aegl{level}" in ds.data_vars)
    floor = expanded.arrival_floor()
    floor_cols = None if floor is None else floor.columns(cols)
    peaked = mean + extra[:, cols]
    for level, firsts in peak_arrivals_s(mean, peaked, axis, agent, levels, floor_cols).items():
        for col, t_s in zip(cols, firsts, strict=True):
            r = int(parent[col])
            if not np.isfinite(t_s) or not bool(np.asarray(ds["concentration_known"].values[r])):
                continue
            # the step holding the time (the front's may come within it)
            k = min(max(int(np.searchsorted(axis.begin_s, t_s, side="right")) - 1, 0), indoors.size - 1)
            # some of the step outdoors (the shelter begins within it or later): the peak may be breathed there
            for suffix in ("", "_sheltered") if indoors[k] < 1.0 else ("",):
                if f"hours_to_aegl{level}{suffix}" in ds.data_vars:
                    _move_arrival(ds, f"aegl{level}{suffix}", r, float(t_s), issued_s, axis)
    # indoors: the building's air after a cloud that passes within a step
    sheltered = shelter if shelter is not None else Shelter()
    rates = shelter_rates(axis, sheltered, int(parent.size))
    rates = rates if np.ndim(rates) == 0 else np.asarray(rates)[:, cols]
    inside, _ = indoor_concentration(mean, axis.dt_s, rates)
    breathed = (1.0 - indoors[:, None]) * mean + indoors[:, None] * inside  # assess's sheltered series (its onset)
    # where a plume whose wind has changed has air, the steps' means (taken with each step's middle wind) can lag
    # the finer steps' air, and so the dose let in: the step's peak, which bounds its air at every moment, held over
    # it (per column and step: plumecast.shelter_lag)
    changed = step_flags(expanded.wind_changed, int(expanded.conc.shape[2]))
    dose = mean if changed is None else np.where(changed[:, cols], peaked, mean)
    most = indoor_peak_bound(dose, peaked, axis.dt_s, rates)
    most = np.where(indoors[:, None] >= 1.0, most, np.maximum(most, peaked))  # some of the step outdoors
    for level, firsts in peak_arrivals_s(breathed, most, axis, agent, levels, floor_cols).items():
        if f"hours_to_aegl{level}_sheltered" not in ds.data_vars:
            continue
        for col, t_s in zip(cols, firsts, strict=True):
            r = int(parent[col])
            if np.isfinite(t_s) and bool(np.asarray(ds["concentration_known"].values[r])):
                _move_arrival(ds, f"aegl{level}_sheltered", r, float(t_s), issued_s, axis)


def _move_arrival(ds: xr.Dataset, name: str, r: int, t_s: float, issued_s: float, axis: Any) -> None:
    """Set receptor ``r``'s arrival ``name`` (``aegl2``, ``aegl2_sheltered`` ...) to ``t_s`` [s after the
    release start] where it is later or missing: its hours, lead time and date-time."""
    now_h = float(ds[f"hours_to_{name}"].values[r])
    if np.isfinite(now_h) and now_h <= t_s / 3600.0:
        return
    ds[f"hours_to_{name}"].values[r] = t_s / 3600.0
    ds[f"lead_time_{name}"].values[r] = (t_s - issued_s) / 3600.0
    when = ds[f"first_exceedance_{name}"]
    if np.issubdtype(when.dtype, np.datetime64):
        when.values[r] = axis.release_start + np.timedelta64(int(round(t_s * 1e9)), "ns")
    else:
        when.values[r] = axis.release_start + t_s


def _earliest(values: NDArray[Any]) -> Any:
    """The earliest of ``values`` (datetimes or hours), missing ones left out; missing if all are."""
    if np.issubdtype(values.dtype, np.datetime64):
        known = values[~np.isnat(values)]
        return known.min() if known.size else np.datetime64("NaT", "ns")
    v = values.astype(float)
    return float(np.nanmin(v)) if np.isfinite(v).any() else np.nan
