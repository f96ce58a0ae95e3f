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
* ppm <-> mass conversions use one stated temperature and pressure (default
  25 degC, 1 atm, the AEGL reference state).
* Missing AEGL or probit values never become zeros: the affected figures are
  NaN/NaT and the reason is in ``result.attrs["warnings"]`` (see
  :func:`result_warnings`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.agents import Agent, ProbitSet
from plumecast.concentration import sample_bilinear
from plumecast.errors import DataFileError
from plumecast.shelter import Shelter, indoor_concentration
from plumecast.toxicology import (
    AEGL_DURATIONS_S,
    AEGL_INTERPOLATION_METHOD,
    AEGL_LEVELS,
    aegl_loglog_interpolate,
    lethal_fraction_from_probit,
    power_exponent,
    probit_from_load,
)
from plumecast.units import P_STANDARD_PA, T_STANDARD_K, kg_m3_to_ppm, ppm_to_kg_m3

__all__ = [
    "ReceptorsLike",
    "Shelter",
    "assess",
    "assess_grid",
    "result_warnings",
    "sample_bilinear",
]

_UNITS = {
    "kg m-3": "kg/m3",
    "kg/m3": "kg/m3",
    "kg m^-3": "kg/m3",
    "kg m**-3": "kg/m3",
    "kg/m^3": "kg/m3",
    "mg m-3": "mg/m3",
    "mg/m3": "mg/m3",
    "mg m^-3": "mg/m3",
    "mg m**-3": "mg/m3",
    "mg/m^3": "mg/m3",
    "ppm": "ppm",
    "ppmv": "ppm",
}
_CHUNK_ELEMENTS = 1 << 20  # time x receptor values per block (~8 MB float64 arrays)


class ReceptorsLike(Protocol):
    """What :func:`assess` and :func:`assess_grid` read from a receptor table
    (``plumecast.receptors.Receptors`` satisfies it): arrays of equal length."""

    @property
    def lat(self) -> NDArray[Any]: ...

    @property
    def lon(self) -> NDArray[Any]: ...


# --------------------------------------------------------------------------- inputs


def _concentration_kg_m3(
    concentration: xr.DataArray, mw: float, temperature_k: float, pressure_pa: float
) -> tuple[NDArray[np.float64], list[str]]:
    if not isinstance(concentration, xr.DataArray):
        raise DataFileError(
            f"concentration: expected an xarray.DataArray with dims (time, receptor), got {type(concentration).__name__}"
        )
    if "time" not in concentration.dims:
        raise DataFileError(
            f"concentration: has dims {concentration.dims}; expected (time, receptor)"
        )
    da = concentration
    if da.ndim == 1:
        da = da.expand_dims("receptor", axis=1)
    if set(da.dims) != {"time", "receptor"}:
        raise DataFileError(
            f"concentration: has dims {concentration.dims}; expected (time, receptor) "
            "(use assess_grid for (time, lat, lon) fields)"
        )
    raw_units = da.attrs.get("units")
    if raw_units is None:
        raise DataFileError(
            "concentration: no 'units' attribute; set it to one of 'kg m-3', 'mg m-3' or 'ppm'"
        )
    unit = _UNITS.get(" ".join(str(raw_units).strip().split()).lower())
    if unit is None:
        raise DataFileError(
            f"concentration: units {raw_units!r} not understood; expected one of {sorted(set(_UNITS))}"
        )
    values = np.asarray(da.transpose("time", "receptor").values, dtype=float)
    notes: list[str] = []
    if unit == "mg/m3":
        values = values * 1e-6
    elif unit == "ppm":
        values = ppm_to_kg_m3(values, mw, temperature_k, pressure_pa)
    bad = ~np.isfinite(values)
    if bad.any():
        if np.isinf(values).any():
            cols = np.flatnonzero(np.isinf(values).any(axis=0))
            raise DataFileError(
                f"concentration: infinite values at {cols.size} receptor(s) (first receptor index "
                f"{int(cols[0])}); expected finite concentrations (NaN marks an unknown receptor)"
            )
        cols = np.flatnonzero(bad.any(axis=0))
        notes.append(
            f"concentration unknown (NaN: off the model domain or missing) at {cols.size} receptor(s): "
            "their figures are unknown (NaN), not zero, and are left out of the totals"
        )
    vmin = float(np.nanmin(values)) if values.size and np.isfinite(values).any() else 0.0
    if vmin < 0:
        notes.append(f"concentration had negative values (min {vmin:.3g} kg m-3); set to 0")
        values = np.maximum(values, 0.0)
    return values, notes


@dataclass(frozen=True)
class _TimeAxis:
    stamps: NDArray[Any]  # the time coordinate as given (datetime64[ns] or float s)
    is_datetime: bool
    release_start: Any  # numpy.datetime64 or float seconds
    begin_s: NDArray[np.float64]  # interval starts, seconds since release start
    end_s: NDArray[np.float64]  # interval ends (= timestamps), seconds since release start

    @property
    def dt_s(self) -> NDArray[np.float64]:
        return self.end_s - self.begin_s


def _time_axis(time: xr.DataArray | NDArray[Any], start: Any) -> _TimeAxis:
    t = np.asarray(time)
    if t.size == 0:
        raise DataFileError("concentration: empty time axis")
    is_dt = np.issubdtype(t.dtype, np.datetime64)
    if is_dt:
        t = t.astype("datetime64[ns]")
        if start is None:
            if t.size < 2:
                raise DataFileError(
                    "concentration: one time step only; pass start= (the release start)"
                )
            t0 = t[0] - (t[1] - t[0])
        else:
            t0 = _as_datetime64(start)
        end_s = (t - t0) / np.timedelta64(1, "s")
    else:
        if np.issubdtype(t.dtype, np.timedelta64):
            t = t / np.timedelta64(1, "s")
        t = t.astype(float)
        if start is None:
            if t.size < 2:
                raise DataFileError(
                    "concentration: one time step only; pass start= (the release start)"
                )
            t0 = float(t[0] - (t[1] - t[0]))
        else:
            t0 = float(start)
        end_s = t - t0
    end_s = np.asarray(end_s, dtype=float)
    if end_s[0] <= 0 or np.any(np.diff(end_s) <= 0):
        raise DataFileError(
            "concentration: time must be strictly increasing and after start "
            f"(start={t0}, first stamp={t[0]})"
        )
    begin_s = np.concatenate([[0.0], end_s[:-1]])
    return _TimeAxis(stamps=t, is_datetime=is_dt, release_start=t0, begin_s=begin_s, end_s=end_s)


def _as_datetime64(value: Any) -> np.datetime64:
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return np.datetime64(value, "ns")


def _shelter_weights(axis: _TimeAxis, shelter: Shelter) -> NDArray[np.float64]:
    """Fraction of each interval spent indoors (after ``shelter.start``). [-]"""
    if shelter.start is None:
        return np.ones_like(axis.end_s)
    if isinstance(shelter.start, _dt.datetime):
        if not axis.is_datetime:
            raise DataFileError(
                "shelter.start is a date-time but the concentration time axis is in seconds"
            )
        start_s = float(
            (_as_datetime64(shelter.start) - axis.release_start) / np.timedelta64(1, "s")
        )
    else:
        start_s = float(shelter.start)
    return np.asarray(np.clip((axis.end_s - start_s) / axis.dt_s, 0.0, 1.0), dtype=float)


# --------------------------------------------------------------------------- kernel


@dataclass(frozen=True)
class _Context:
    """Everything the per-block kernel needs, precomputed once (SI inside)."""

    end_s: NDArray[np.float64]
    begin_s: NDArray[np.float64]
    lag_tables: dict[int, NDArray[np.float64] | None]  # AEGL [kg m-3] by lag (uniform steps)
    aegl_tables: dict[int, NDArray[np.float64] | None]  # the 5 tabulated AEGLs [kg m-3]
    uniform: bool
    probit: ProbitSet | None
    conc_factor: float  # kg m-3 -> probit concentration unit
    dt_probit: NDArray[np.float64]  # interval lengths in the probit time unit
    floor: float  # onset floor [kg m-3]
    extra_probits: tuple[ProbitSet, ...] = ()  # every published set, for the range
    extra_factors: tuple[float, ...] = ()  # kg m-3 -> each set's concentration unit


def _aegl_threshold(
    ctx: _Context, level: int, lag: NDArray[np.intp] | None, onset: NDArray[np.intp]
) -> NDArray[np.float64] | None:
    """AEGL [kg m-3] for the exposure duration elapsed at each (time, receptor)."""
    if ctx.uniform:
        table = ctx.lag_tables[level]
        return None if table is None or lag is None else table[lag]
    tab = ctx.aegl_tables[level]
    if tab is None:
        return None
    elapsed = ctx.end_s[:, None] - ctx.begin_s[onset][None, :]
    return aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed)


class _Collector:
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
    dims: tuple[str, ...]
    values: Any
    attrs: dict[str, Any]


def _time_sum(dt: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_t dt[t] values[t, r]`` for each receptor, in a fixed order per receptor."""
    # column-major: each receptor's column is contiguous and summed on its own (the same
    # pairwise summation whatever the number of columns)
    return np.asarray(np.asfortranarray(dt[:, None] * values).sum(axis=0), dtype=np.float64)


def _series_metrics(e: NDArray[np.float64], ctx: _Context) -> dict[str, NDArray[Any]]:
    """Per-receptor figures for one exposure series ``e`` (time, receptor) [kg m-3]."""
    ntime, nrec = e.shape
    pos = e >= ctx.floor if ctx.floor > 0 else e > 0
    onset = np.argmax(pos, axis=0)
    out: dict[str, NDArray[Any]] = {"peak": e.max(axis=0) if ntime else np.zeros(nrec)}
    # sums over time are taken column by column (never a BLAS product, whose blocking
    # depends on how many receptors are in the batch): a receptor's figures are then
    # bit-identical whatever other receptors are assessed with it
    out["exposed_s"] = _time_sum(ctx.end_s - ctx.begin_s, pos.astype(float))
    lag = None
    if ctx.uniform:
        lag = np.arange(ntime, dtype=np.intp)[:, None] - onset[None, :]
        np.maximum(lag, 0, out=lag)  # before onset e == 0, so any positive AEGL is fine
    for level in AEGL_LEVELS:
        thr = _aegl_threshold(ctx, level, lag, onset)
        if thr is None:
            out[f"first{level}"] = np.full(nrec, -2, dtype=np.intp)
            if level == 3:
                out["pct3"] = np.full(nrec, np.nan)
            continue
        if level == 3:
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = e / thr
            exceed = ratio >= 1.0
            out["pct3"] = 100.0 * np.fmax.reduce(ratio, axis=0)
        else:
            exceed = e >= thr
        out[f"first{level}"] = np.where(exceed.any(axis=0), np.argmax(exceed, axis=0), -1)
    if ctx.probit is not None:
        scaled = e * ctx.conc_factor
        out["load"] = _time_sum(ctx.dt_probit, power_exponent(scaled, ctx.probit.n))
    else:
        out["load"] = np.full(nrec, np.nan)
    fracs = []
    for ps, factor in zip(ctx.extra_probits, ctx.extra_factors, strict=True):
        dtp = (ctx.end_s - ctx.begin_s) / ps.seconds_per_time_unit
        load = _time_sum(dtp, power_exponent(e * factor, ps.n))
        fracs.append(lethal_fraction_from_probit(probit_from_load(load, ps.a, ps.b)))
    out["frac_sets"] = np.array(fracs) if fracs else np.zeros((0, nrec))
    return out


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
    values, notes = _concentration_kg_m3(concentration, mw, temperature_k, pressure_pa)
    axis = _time_axis(concentration["time"].values, start)
    shelter = shelter if shelter is not None else Shelter()
    ntime, nrec = values.shape
    unknown = ~np.isfinite(values).all(axis=0)
    if unknown.any():
        values = np.where(np.isfinite(values), values, 0.0)

    pop, rec_coords, pop_notes = _population(concentration, population, nrec)
    notes += pop_notes

    dt = axis.dt_s
    uniform = bool(np.allclose(dt, dt[0], rtol=1e-9, atol=0.0))
    durations = list(AEGL_DURATIONS_S.values())
    aegl_tables: dict[int, NDArray[np.float64] | None] = {}
    lag_tables: dict[int, NDArray[np.float64] | None] = {}
    for level in AEGL_LEVELS:
        tab_ppm = agent.aegl_table_ppm(level)
        if np.all(np.isnan(tab_ppm)):
            aegl_tables[level] = lag_tables[level] = None
            continue
        tab = ppm_to_kg_m3(tab_ppm, mw, temperature_k, pressure_pa)
        aegl_tables[level] = tab
        lag_tables[level] = aegl_loglog_interpolate(durations, tab, dt[0] * np.arange(1, ntime + 1))
    ps = agent.probit_set(probit_set)
    floor = onset_floor(agent, temperature_k, pressure_pa) if onset_floor_kg_m3 is None else float(onset_floor_kg_m3)
    all_sets = tuple(agent.probits.values()) if ps is not None and len(agent.probits) > 1 else ()
    ctx = _Context(
        end_s=axis.end_s,
        begin_s=axis.begin_s,
        lag_tables=lag_tables,
        aegl_tables=aegl_tables,
        uniform=uniform,
        probit=ps,
        conc_factor=ps.concentration_factor(mw, temperature_k, pressure_pa) if ps else 1.0,
        dt_probit=dt / ps.seconds_per_time_unit if ps else dt,
        floor=floor,
        extra_probits=all_sets,
        extra_factors=tuple(q.concentration_factor(mw, temperature_k, pressure_pa) for q in all_sets),
    )

    weights = _shelter_weights(axis, shelter)
    ach = _shelter_rates(axis, shelter, nrec)
    all_inside = bool(np.all(weights == 1.0))
    indoor = np.empty_like(values) if keep_timeseries else None
    block = max(1, _CHUNK_ELEMENTS // max(ntime, 1))
    res_out: dict[str, list[NDArray[Any]]] = {}
    res_in: dict[str, list[NDArray[Any]]] = {}
    for lo in range(0, nrec, block):
        c_out = np.ascontiguousarray(values[:, lo : lo + block])
        c_in, _ = indoor_concentration(c_out, dt, ach if np.ndim(ach) == 0 else ach[:, lo : lo + block])
        if indoor is not None:
            indoor[:, lo : lo + block] = c_in
        exposure_in = (
            c_in if all_inside else (1.0 - weights)[:, None] * c_out + weights[:, None] * c_in
        )
        for store, series in ((res_out, c_out), (res_in, exposure_in)):
            for key, arr in _series_metrics(series, ctx).items():
                store.setdefault(key, []).append(arr)
    outdoor = {k: np.concatenate(v) if v else np.zeros(0) for k, v in res_out.items()}
    sheltered = {k: np.concatenate(v) if v else np.zeros(0) for k, v in res_in.items()}

    warnings = agent.data_warnings(probit_set) + notes
    receptor_ids = concentration["receptor"].values if "receptor" in concentration.coords else np.arange(nrec)
    ds: Any = _Collector()  # the per-receptor figures; one Dataset is built from them at the end
    ds["population"] = ("receptor", pop, {"units": "1", "long_name": "people at the receptor"})
    issued_s = _issued_seconds(axis, issued_at)
    f_out = _add_figures(ds, outdoor, "", axis, agent, ps, temperature_k, pressure_pa, issued_s)
    f_in = _add_figures(ds, sheltered, "_sheltered", axis, agent, ps, temperature_k, pressure_pa, issued_s)
    comp = shelter.compliance_fraction
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
    if unknown.any():
        for name in [str(k) for k in ds.data_vars]:
            if ds[name].dims == ("receptor",) and name not in ("population",):
                v = ds[name].values
                if np.issubdtype(v.dtype, np.floating):
                    v = v.copy()
                    v[unknown] = np.nan
                    ds[name] = ("receptor", v, ds[name].attrs)
                elif np.issubdtype(v.dtype, np.datetime64):
                    v = v.copy()
                    v[unknown] = np.datetime64("NaT")
                    ds[name] = ("receptor", v, ds[name].attrs)
        outdoor["exposed_s"] = np.where(unknown, np.nan, outdoor["exposed_s"])
    ds["concentration_known"] = ("receptor", (~unknown).astype(np.int8), {
        "units": "1", "flag_values": np.array([0, 1], np.int8), "flag_meanings": "unknown known",
        "long_name": "whether the receptor's concentration is known (0: off the model domain or missing)"})
    exposed_h = outdoor["exposed_s"] / 3600.0
    ds["exposure_duration_h"] = ("receptor", exposed_h, {
        "units": "h", "long_name": "time outdoors at or above the onset floor"})
    fit_lo, fit_hi = PROBIT_FITTED_DURATION_MIN
    beyond = exposed_h * 60.0 > fit_hi
    ds["probit_beyond_fitted_range"] = ("receptor", beyond.astype(np.int8), {
        "units": "1", "flag_values": np.array([0, 1], np.int8), "flag_meanings": "within beyond",
        "long_name": f"exposure longer than the {fit_lo:g}-{fit_hi:g} min the probits were fitted for "
        "(the fatality figure is an extrapolation)"})
    ds["note"] = ("receptor", _receptor_notes(ds, exposed_h, beyond, pop), {
        "long_name": "why figures that seem to disagree do"})
    ds = xr.Dataset(ds.vars, coords={"receptor": receptor_ids,
                                     **{name: ("receptor", coord) for name, coord in rec_coords.items()}})
    if keep_timeseries:
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
                "long_name": "outdoor concentration (interval mean ending at time)",
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

    ds.attrs.update(
        {
            "title": f"plumecast consequence assessment: {agent.name}",
            "Conventions": "CF-1.8",
            "agent": agent.name,
            "agent_molecular_weight_g_mol": mw,
            "agent_aegl_check": agent.aegl_check,
            "agent_aegl_note": agent.aegl_note,
            "probit_set": agent.probit_set_name(probit_set) or f"none ({probit_set})",
            "probit_equation": ps.equation if ps else "n/a",
            "probit_source": ps.source if ps else "n/a",
            "lethal_fraction_method": "Phi(Pr - 5), CPR 18E (1999) sec. 5.2.1",
            "aegl_method": AEGL_INTERPOLATION_METHOD,
            "release_start": str(axis.release_start)
            if axis.is_datetime
            else f"{axis.release_start:g} s",
            "time_convention": "each value is the mean over the interval ending at its timestamp",
            "shelter_model": "single zone dC_in/dt = lambda (C_out - C_in), exact per interval (Chan et al. 2007)",
            "shelter_air_changes_per_hour": shelter.air_changes_per_hour,
            "shelter_compliance_fraction": comp,
            "shelter_start": "release start" if shelter.start is None else str(shelter.start),
            "ppm_reference_state": f"T = {temperature_k:g} K, P = {pressure_pa:g} Pa",
            "total_fatalities": _total(ds["fatalities"].values),
            "total_fatalities_sheltered": _total(ds["fatalities_sheltered"].values),
            "warnings": "\n".join(warnings),
        }
    )
    for level in AEGL_LEVELS:
        ds.attrs[f"aegl{level}_available"] = int(aegl_tables[level] is not None)
    return ds


#: Exposure durations the shipped lethality probits were fitted for. [min] Purple
#: Book (CPR 18E 1999, sect. 5.2) probits come from animal data at 10-60 min and are
#: applied in QRA to at most 30 min; ten Berge, Zwart & Appelman (1986), J. Hazard.
#: Mater. 13, 301, fitted C^n t over the same range. Longer exposures are flagged.
PROBIT_FITTED_DURATION_MIN = (10.0, 60.0)
#: The onset floor as a fraction of the agent's lowest 8-h AEGL.
ONSET_FLOOR_FRACTION = 0.01


def onset_floor(agent: Agent, temperature_k: float = T_STANDARD_K, pressure_pa: float = P_STANDARD_PA) -> float:
    """Concentration below which exposure has not begun: 1 % of the agent's
    lowest available 8-h AEGL (AEGL-1, else 2, else 3); 0 without AEGLs. [kg m-3]

    A trace far ahead of the cloud (numerical or real) then cannot start the AEGL
    clock, which would shorten the duration the AEGL is read at for the cloud itself.
    """
    for level in AEGL_LEVELS:
        tab = agent.aegl_table_ppm(level)
        finite = tab[np.isfinite(tab)]
        if finite.size:
            low = float(finite.min())
            return ONSET_FLOOR_FRACTION * float(ppm_to_kg_m3(low, agent.molecular_weight_g_mol, temperature_k,
                                                             pressure_pa))
    return 0.0


def _issued_seconds(axis: _TimeAxis, issued_at: Any) -> float:
    if issued_at is None:
        return 0.0
    if isinstance(issued_at, int | float | np.floating | np.integer):
        return float(issued_at)
    if not axis.is_datetime:
        raise DataFileError("issued_at is a date-time but the concentration time axis is in seconds")
    return float((_as_datetime64(issued_at) - axis.release_start) / np.timedelta64(1, "s"))


def _shelter_rates(axis: _TimeAxis, shelter: Shelter, nrec: int) -> Any:
    """Air changes per hour of the sheltering buildings per interval (and receptor):
    the tight-building rate until ``shelter.end``, the ventilation rate after it."""
    if shelter.end is None:
        return shelter.air_changes_per_hour
    if isinstance(shelter.end, _dt.datetime):
        if not axis.is_datetime:
            raise DataFileError("shelter.end is a date-time but the concentration time axis is in seconds")
        end = np.full(nrec, float((_as_datetime64(shelter.end) - axis.release_start) / np.timedelta64(1, "s")))
    else:
        end = np.broadcast_to(np.asarray(shelter.end, dtype=float), (nrec,))
    mid = 0.5 * (axis.begin_s + axis.end_s)
    return np.where(mid[:, None] < end[None, :], shelter.air_changes_per_hour,
                    shelter.ventilation_air_changes_per_hour)


def _receptor_notes(ds: Any, exposed_h: NDArray[np.float64], beyond: NDArray[np.bool_],
                    pop: NDArray[np.float64]) -> NDArray[np.str_]:
    """A short reason wherever the AEGL countdown, the % of AEGL-3 and the
    fatalities seem to disagree, or the figure is an extrapolation."""
    frac = np.asarray(ds["lethal_fraction"].values, float)
    hit3 = np.isfinite(np.asarray(ds["hours_to_aegl3"].values, float))
    notes = []
    known = np.asarray(ds["concentration_known"].values, bool)
    for i in range(frac.size):
        parts = []
        if not known[i]:
            parts.append("concentration unknown (off the model domain)")
        if not np.isfinite(pop[i]):
            parts.append("population unknown")
        if np.isfinite(frac[i]) and frac[i] >= 1e-4 and not hit3[i]:
            parts.append(f"deaths without AEGL-3: the toxic load adds up over {exposed_h[i]:.2g} h of exposure, "
                         "while AEGL-3 is read for the elapsed duration (tabulated to 8 h)")
        if beyond[i] and np.isfinite(frac[i]) and frac[i] > 0:
            parts.append(f"exposure of {exposed_h[i]:.2g} h is beyond the {PROBIT_FITTED_DURATION_MIN[0]:g}-"
                         f"{PROBIT_FITTED_DURATION_MIN[1]:g} min the probits were fitted for: fatalities extrapolated")
        notes.append("; ".join(parts))
    return np.asarray(notes, dtype=str)


def _total(values: NDArray[np.float64]) -> float:
    """Sum over receptors; NaN if no receptor has a figure."""
    finite = np.isfinite(values)
    return float(values[finite].sum()) if finite.any() else float("nan")


def _add_figures(
    ds: Any,
    m: dict[str, NDArray[Any]],
    suffix: str,
    axis: _TimeAxis,
    agent: Agent,
    ps: ProbitSet | None,
    temperature_k: float,
    pressure_pa: float,
    issued_s: float = 0.0,
) -> NDArray[np.float64]:
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
        hit = idx >= 0
        safe = np.where(hit, idx, 0)
        # the start of the interval in which the level is reached: a countdown errs early
        begin = axis.begin_s[safe]
        if axis.is_datetime:
            when = np.where(hit, axis.release_start + (begin * 1e9).astype("timedelta64[ns]"),
                            np.datetime64("NaT", "ns"))
            tattrs = {
                "long_name": f"first time AEGL-{level} may be reached {where}: start of the interval in "
                "which it is (NaT: never or n/a)"
            }
        else:
            when = np.where(hit, axis.release_start + begin, np.nan)
            tattrs = {
                "units": "s",
                "long_name": f"first time AEGL-{level} may be reached {where}: start of the interval in "
                "which it is (NaN: never or n/a)",
            }
        ds[f"first_exceedance_aegl{level}{suffix}"] = ("receptor", when, tattrs)
        hours = np.where(hit, begin / 3600.0, np.nan)
        ds[f"hours_to_aegl{level}{suffix}"] = (
            "receptor",
            hours,
            {
                "units": "h",
                "long_name": f"hours from release start to AEGL-{level} {where} (start of the interval)",
                "aegl_available": int(np.all(idx != -2)),
            },
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
        {"units": ps.load_units if ps else "n/a", "long_name": f"toxic load sum C^n dt {where}"},
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


def _population(
    concentration: xr.DataArray, population: Any, nrec: int
) -> tuple[NDArray[np.float64], dict[str, NDArray[Any]], list[str]]:
    coords: dict[str, NDArray[Any]] = {}
    notes: list[str] = []
    for name in ("name", "country", "lat", "lon"):
        if name in concentration.coords and concentration[name].dims == ("receptor",):
            coords[name] = concentration[name].values
    pop: NDArray[np.float64] | None = None
    if population is not None and hasattr(population, "lat") and hasattr(population, "lon"):
        for name in ("name", "country", "lat", "lon"):
            if name not in coords and getattr(population, name, None) is not None:
                coords[name] = np.asarray(getattr(population, name))
        population = getattr(population, "population", None)
    if population is None and "population" in concentration.coords:
        population = concentration["population"].values
    if population is None:
        notes.append("no population given: fatalities not computed (NaN, not zero)")
        pop = np.full(nrec, np.nan)
    else:
        pop = np.asarray(population, dtype=float).reshape(-1)
        if pop.shape != (nrec,):
            raise DataFileError(f"population: {pop.size} values for {nrec} receptors")
        if np.any(pop < 0):
            raise DataFileError("population: negative values")
        if np.isnan(pop).any():
            notes.append(
                f"population unknown at {int(np.isnan(pop).sum())} receptor(s): fatalities NaN there"
            )
    for name, arr in coords.items():
        if arr.shape != (nrec,):
            raise DataFileError(f"receptors: {name} has {arr.size} values for {nrec} receptors")
    return pop, coords, notes


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
        As :func:`assess`, for the receptors on the grid; receptors off the grid
        are left out and counted in the warnings.
    """
    lat = np.asarray(receptors.lat, dtype=float)
    lon = np.asarray(receptors.lon, dtype=float)
    values, inside = sample_bilinear(field, lat, lon)
    keep = np.flatnonzero(inside)
    coords: dict[str, Any] = {"time": field["time"].values, "receptor": keep}
    for name in ("name", "country", "lat", "lon", "population"):
        arr = getattr(receptors, name, None)
        if arr is not None:
            coords[name] = ("receptor", np.asarray(arr)[keep])
    da = xr.DataArray(
        values[:, keep],
        dims=("time", "receptor"),
        coords=coords,
        attrs={"units": field.attrs.get("units")},
    )
    if da.attrs["units"] is None:
        del da.attrs["units"]
    result = assess(da, agent, kwargs.pop("population", None), **kwargs)
    dropped = lat.size - keep.size
    if dropped:
        lines = result_warnings(result) + [
            f"{dropped} receptor(s) outside the concentration grid were not assessed"
        ]
        result = result.assign_attrs(warnings="\n".join(lines))
    return result
