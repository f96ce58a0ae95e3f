"""The per-receptor figures of :func:`plumecast.consequence.assess` as CF variables.

From the kernel's arrays (:mod:`plumecast.consequence_metrics`) to named, unit-
carrying variables: peak concentration, first exceedance / hours / lead time to
each AEGL, % of AEGL-3, toxic load, probit, lethal fraction, expected fatalities
outdoors and sheltered with their range over the published probit sets, and the
flags and notes that say where a figure is unknown or an extrapolation. Unknown
stays NaN/NaT, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.agents import Agent, ProbitSet
from plumecast.consequence_inputs import TimeAxis
from plumecast.toxicology import AEGL_LEVELS, lethal_fraction_from_probit, probit_from_load
from plumecast.units import kg_m3_to_ppm

#: Exposure durations the shipped lethality probits were fitted for. [min] Purple
#: Book (CPR 18E 1999, sect. 5.2) probits come from animal data at 10-60 min and are
#: applied in QRA to at most 30 min; ten Berge, Zwart & Appelman (1986), J. Hazard.
#: Mater. 13, 301, fitted C^n t over the same range. Longer exposures are flagged.
PROBIT_FITTED_DURATION_MIN = (10.0, 60.0)


class Figures:
    """Collects ``name -> (dims, values, attrs)`` with the item syntax of a Dataset
    (building a Dataset variable by variable costs milliseconds each)."""

    def __init__(self) -> None:
        self.vars: dict[str, tuple[Any, Any, dict[str, Any]]] = {}

    def __setitem__(self, name: str, value: tuple[Any, ...]) -> None:
        dims, data = value[0], value[1]
        attrs = value[2] if len(value) > 2 else {}
        self.vars[name] = ((dims,) if isinstance(dims, str) else tuple(dims), data, dict(attrs))

    def __getitem__(self, name: str) -> Any:
        dims, data, attrs = self.vars[name]
        return _Var(dims, np.asarray(data), attrs)

    @property
    def data_vars(self) -> list[str]:
        return list(self.vars)


@dataclass(frozen=True)
class _Var:
    """One collected variable, read back with the attribute names of an xarray variable."""

    dims: tuple[str, ...]
    values: Any
    attrs: dict[str, Any]



def receptor_notes(ds: Any, exposed_h: NDArray[np.float64], beyond: NDArray[np.bool_],
                    pop: NDArray[np.float64], still_present: NDArray[np.bool_] | None = None) -> NDArray[np.str_]:
    """A short reason wherever the AEGL countdown, the % of AEGL-3 and the
    fatalities seem to disagree, an AEGL is n/a, the figure is an extrapolation, or
    the series ends while the gas is still there (``still_present``: the figures are a
    lower bound). Parts are joined by ``"; "`` and hold no ``";"`` themselves."""
    frac = np.asarray(ds["lethal_fraction"].values, float)
    hit3 = np.isfinite(np.asarray(ds["hours_to_aegl3"].values, float))
    known = np.asarray(ds["concentration_known"].values, bool)
    # per level: whether the agent has it at all, and where it could not be read here
    has = {lv: bool(ds[f"hours_to_aegl{lv}"].attrs.get("aegl_in_table", 1)) for lv in AEGL_LEVELS}
    unread = {lv: has[lv] & known & ~np.asarray(ds[f"aegl{lv}_known"].values, bool) for lv in AEGL_LEVELS}
    fit_lo, fit_hi = PROBIT_FITTED_DURATION_MIN
    with np.errstate(invalid="ignore"):
        deadly = np.isfinite(frac) & (frac >= 1e-4) & ~hit3
        extrapolated = beyond & np.isfinite(frac) & (frac > 0)
    present = still_present & known if still_present is not None else np.zeros(frac.size, bool)
    pop_unknown = ~np.isfinite(pop)
    anything = ~known | pop_unknown | deadly | extrapolated | present
    for lv in AEGL_LEVELS:
        anything |= unread[lv]
    notes = np.full(frac.size, "", dtype=object)
    for i in np.flatnonzero(anything):  # a Python loop over the receptors with something to say only
        parts = []
        if not known[i]:
            parts.append("concentration unknown (off the model domain)")
        if pop_unknown[i]:
            parts.append("population unknown")
        gaps = [lv for lv in AEGL_LEVELS if unread[lv][i]]
        if gaps:
            names = ", ".join(f"AEGL-{lv}" for lv in gaps)
            parts.append(f"{names} n/a, not never: the agent's table lacks {names} for an exposure duration reached "
                         "here" + (", so the % of AEGL-3 is n/a too" if 3 in gaps else ""))
        if deadly[i]:
            if not has[3]:
                parts.append("deaths, no AEGL-3 time: the agent has no AEGL-3 in the table (n/a, not never), "
                             "the deaths come from the probit")
            elif 3 not in gaps:
                parts.append(f"deaths without AEGL-3: the toxic load adds up over {exposed_h[i]:.2g} h of exposure, "
                             "while AEGL-3 is read for the elapsed duration (tabulated to 8 h)")
        if extrapolated[i]:
            if exposed_h[i] * 60.0 < fit_lo:
                parts.append(f"exposure of {exposed_h[i] * 60.0:.2g} min is shorter than the {fit_lo:g}-{fit_hi:g} "
                             "min the probits were fitted for: fatalities extrapolated")
            else:
                parts.append(f"exposure of {exposed_h[i]:.2g} h is beyond the {fit_lo:g}-{fit_hi:g} min the probits "
                             "were fitted for: fatalities extrapolated")
        if present[i]:
            parts.append("gas still present at the end of the series: figures cover the series only "
                         "(fatalities a lower bound, 'not reached' = not reached within it)")
        notes[i] = "; ".join(parts)
    return np.asarray(notes, dtype=str)


def total(values: NDArray[np.float64]) -> float:
    """Sum over receptors; NaN if no receptor has a figure."""
    finite = np.isfinite(values)
    return float(values[finite].sum()) if finite.any() else float("nan")


def first_reached_s(m: dict[str, NDArray[Any]], level: int, axis: TimeAxis
                    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Whether AEGL-``level`` is reached in the figures ``m`` of one series
    (:func:`~plumecast.consequence_metrics.series_metrics`), and when: the earliest the air
    can reach it given the means of the step that reaches it and the one before
    (``consequence_metrics._lead_s``; a countdown errs early, never late), or where later the
    earliest the air that reaches it can be there (``floor{level}``: the near-field air's front,
    :class:`~plumecast.consequence_metrics.ArrivalFloor`). [s after the release start; any value
    where not reached]"""
    idx = m[f"first{level}"]
    hit = idx >= 0
    at = axis.begin_s[np.where(hit, idx, 0)] - m[f"lead{level}"]
    floor = m.get(f"floor{level}")
    return hit, at if floor is None else np.fmax(at, floor)


def add_figures(
    ds: Any,
    m: dict[str, NDArray[Any]],
    suffix: str,
    axis: TimeAxis,
    agent: Agent,
    ps: ProbitSet | None,
    temperature_k: float,
    pressure_pa: float,
    issued_s: float = 0.0,
) -> NDArray[np.float64]:
    """Add the figures of one exposure series ``m`` (:func:`~plumecast.consequence_metrics.series_metrics`)
    under names ending in ``suffix`` (``""`` outdoors, ``"_sheltered"``); returns the lethal fraction."""
    where = "outdoors" if not suffix else "for people sheltering indoors"
    mw = agent.molecular_weight_g_mol
    ds[f"peak_concentration{suffix}"] = (
        "receptor",
        m["peak"],
        {"units": "kg m-3", "long_name": f"peak interval-mean concentration {where}"},
    )
    ds[f"peak_concentration_ppm{suffix}"] = (
        "receptor",
        kg_m3_to_ppm(m["peak"], mw, temperature_k, pressure_pa),
        {"units": "ppm", "long_name": f"peak concentration {where}"},
    )
    for level in AEGL_LEVELS:
        idx = m[f"first{level}"]
        hit, begin = first_reached_s(m, level, axis)
        if axis.is_datetime:
            when = np.where(hit, axis.release_start + (begin * 1e9).astype("timedelta64[ns]"),
                            np.datetime64("NaT", "ns"))
            tattrs = {
                "long_name": f"first time AEGL-{level} may be reached {where}: the earliest the air can "
                "reach it, from a bound of the air within each interval (docs/consequence.md, countdowns), or the front "
                "of the near-field air that reaches it where later (NaT: never or n/a)"
            }
        else:
            when = np.where(hit, axis.release_start + begin, np.nan)
            tattrs = {
                "units": "s",
                "long_name": f"first time AEGL-{level} may be reached {where}: the earliest the air can "
                "reach it, from a bound of the air within each interval (docs/consequence.md, countdowns), or the front "
                "of the near-field air that reaches it where later (NaN: never or n/a)",
            }
        ds[f"first_exceedance_aegl{level}{suffix}"] = ("receptor", when, tattrs)
        hours = np.where(hit, begin / 3600.0, np.nan)
        ds[f"hours_to_aegl{level}{suffix}"] = (
            "receptor",
            hours,
            {
                "units": "h",
                "long_name": f"hours from release start to AEGL-{level} {where} (the earliest the air can reach it)",
                "aegl_available": int(np.all(idx != -2)),
                "aegl_in_table": int(np.isfinite(agent.aegl_table_ppm(level)).any()),
            },
        )
        ds[f"aegl{level}_known{suffix}"] = (
            "receptor",
            (idx != -2).astype(np.int8),
            {"units": "1", "flag_values": np.array([0, 1], np.int8), "flag_meanings": "not_available known",
             "long_name": f"whether the first exceedance of AEGL-{level} {where} is known, as a time or as never "
             "(0: n/a, the agent's AEGL is missing for an exposure duration reached before it)"},
        )
        ds[f"lead_time_aegl{level}{suffix}"] = (
            "receptor",
            np.where(hit, (begin - issued_s) / 3600.0, np.nan),
            {"units": "h", "long_name": f"hours from the forecast's issue to AEGL-{level} {where} "
             "(negative: already reached when issued)"},
        )
    ds[f"peak_percent_aegl3{suffix}"] = (
        "receptor",
        m["pct3"],
        {
            "units": "%",
            "long_name": f"peak concentration as % of AEGL-3 for the elapsed exposure duration, {where}",
        },
    )
    load = m["load"]
    ds[f"toxic_load{suffix}"] = (
        "receptor",
        load,
        {"units": ps.load_units if ps else "n/a", "long_name": f"toxic load sum C^n dt {where}"
         + (" (with the gas breathed indoors after the series while the building airs out)" if suffix else "")},
    )
    if ps is None:
        pr = np.full_like(load, np.nan)
        frac = np.full_like(load, np.nan)
    else:
        pr = probit_from_load(load, ps.a, ps.b)
        frac = lethal_fraction_from_probit(pr)
    ds[f"probit{suffix}"] = (
        "receptor",
        pr,
        {"units": "1", "long_name": f"lethality probit {where} (-inf: no exposure)"},
    )
    ds[f"lethal_fraction{suffix}"] = (
        "receptor",
        frac,
        {"units": "1", "long_name": f"expected lethal fraction {where}"},
    )
    return frac


def add_fatalities(
    ds: Any,
    pop: NDArray[np.float64],
    f_out: NDArray[np.float64],
    f_in: NDArray[np.float64],
    outdoor: dict[str, NDArray[Any]],
    sheltered: dict[str, NDArray[Any]],
    comp: float,
    agent: Agent,
) -> None:
    """Expected fatalities outdoors and with shelter-in-place at compliance ``comp``
    [-], and their range over the agent's published probit sets."""
    ds["fatalities"] = (
        "receptor",
        pop * f_out,
        {"units": "1", "long_name": "expected fatalities, outdoors (no shelter)"},
    )
    ds["fatalities_sheltered"] = (
        "receptor",
        pop * (comp * f_in + (1.0 - comp) * f_out),
        {
            "units": "1",
            "long_name": f"expected fatalities with shelter-in-place ({comp:g} compliance)",
        },
    )
    # the range over the agent's published probit sets (where it has more than one)
    for suffix, m in (("", outdoor), ("_sheltered", sheltered)):
        sets = m["frac_sets"]
        if sets.shape[0] > 1:
            if suffix:
                sets = comp * sets + (1.0 - comp) * outdoor["frac_sets"]
            lo_f, hi_f = sets.min(axis=0), sets.max(axis=0)
            # each set's own figures, so that a total can be given per set (the range of the
            # totals over the sets is not the sum of each receptor's lowest and highest)
            ds[f"fatalities{suffix}_by_probit_set"] = (
                ("receptor", "probit_set"), (pop * sets).T,
                {"units": "1", "long_name": f"expected fatalities{' with shelter-in-place' if suffix else ''} "
                 "under each of the agent's published probit sets"})
        else:
            base = f_out if not suffix else comp * f_in + (1.0 - comp) * f_out
            lo_f = hi_f = base
        for bound, vals in (("low", lo_f), ("high", hi_f)):
            ds[f"fatalities{suffix}_{bound}"] = (
                "receptor", pop * vals,
                {"units": "1", "long_name": f"expected fatalities{' with shelter-in-place' if suffix else ''}, "
                 f"{'lowest' if bound == 'low' else 'highest'} over the agent's published probit sets "
                 f"({', '.join(agent.probits) or 'none'})"},
            )


def mask_unknown(ds: Any, unknown: NDArray[np.bool_]) -> None:
    """Per-receptor figures of receptors whose concentration is unknown become NaN/NaT
    (the population stays)."""
    for name in [str(k) for k in ds.data_vars]:
        if ds[name].dims[:1] == ("receptor",) and name not in ("population",):
            v = ds[name].values
            if np.issubdtype(v.dtype, np.floating):
                v = v.copy()
                v[unknown] = np.nan
                ds[name] = (ds[name].dims, v, ds[name].attrs)
            elif np.issubdtype(v.dtype, np.datetime64):
                v = v.copy()
                v[unknown] = np.datetime64("NaT")
                ds[name] = ("receptor", v, ds[name].attrs)


def add_receptor_flags(
    ds: Any, unknown: NDArray[np.bool_], exposed_s: NDArray[np.float64], pop: NDArray[np.float64],
    still_present: NDArray[np.bool_] | None = None,
) -> None:
    """Whether the concentration is known, the exposure duration, whether it is longer
    than the probits were fitted for, and a note where figures seem to disagree or
    the gas is still there at the end of the series (``still_present``)."""
    ds["concentration_known"] = ("receptor", (~unknown).astype(np.int8), {
        "units": "1", "flag_values": np.array([0, 1], np.int8), "flag_meanings": "unknown known",
        "long_name": "whether the receptor's concentration is known (0: off the model domain or missing)"})
    exposed_h = exposed_s / 3600.0
    ds["exposure_duration_h"] = ("receptor", exposed_h, {
        "units": "h", "long_name": "time outdoors at or above the onset floor"})
    fit_lo, fit_hi = PROBIT_FITTED_DURATION_MIN
    with np.errstate(invalid="ignore"):
        minutes = exposed_h * 60.0
        beyond = (minutes > fit_hi) | ((minutes > 0) & (minutes < fit_lo))
    ds["probit_beyond_fitted_range"] = ("receptor", beyond.astype(np.int8), {
        "units": "1", "flag_values": np.array([0, 1], np.int8), "flag_meanings": "within beyond",
        "long_name": f"exposure shorter or longer than the {fit_lo:g}-{fit_hi:g} min the probits were fitted for "
        "(the fatality figure is an extrapolation)"})
    ds["note"] = ("receptor", receptor_notes(ds, exposed_h, beyond, pop, still_present), {
        "long_name": "why figures that seem to disagree do"})


def add_timeseries(
    ds: xr.Dataset,
    axis: TimeAxis,
    values: NDArray[np.float64],
    indoor: NDArray[np.float64] | None,
    unknown: NDArray[np.bool_],
) -> xr.Dataset:
    """``ds`` with the outdoor and indoor (time, receptor) series [kg m-3] (NaN where unknown)."""
    ds = ds.assign_coords(time=("time", axis.stamps))
    if unknown.any():
        values = values.copy()
        values[:, unknown] = np.nan
        if indoor is not None:
            indoor[:, unknown] = np.nan
    ds["concentration"] = (
        ("time", "receptor"),
        values,
        {
            "units": "kg m-3",
            "long_name": "outdoor concentration over the interval ending at time (see time_convention)",
            "standard_name": "mass_concentration_in_air",
        },
    )
    ds["concentration_indoor"] = (
        ("time", "receptor"),
        indoor,
        {
            "units": "kg m-3",
            "long_name": "indoor concentration, single-zone model (interval mean)",
        },
    )
    return ds
