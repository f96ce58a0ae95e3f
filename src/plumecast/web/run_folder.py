"""Read one run-like folder (the root of a run, or one plan's folder of a
comparison) into what the dashboard shows: the map frames as bytes on a log
scale, the receptors with their figures and series, the AEGL curves and % of
AEGL-3 per frame, and the neutralisation front.

Files (all optional; what is missing or unreadable becomes a *problem*, never a
guess and never a zero): ``concentration.nc`` (time, lat, lon),
``consequences.nc`` (the output of :func:`plumecast.consequence.assess`),
``receptors.csv`` (per-step series only), ``dashboard.json``
(:mod:`plumecast.web.export`) and ``front_arrival.nc``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.concentration import lon_order
from plumecast.web.aegl import AEGL_LEVELS, aegl_curves, aegl_tables_kg_m3
from plumecast.web.cities import city_lookup
from plumecast.web.encode import fold, grid_box, log_bytes, north_up, parse_float

#: The folder's metadata: the agent's AEGL table and the scenario's times (:mod:`plumecast.web.export`).
META_FILE = "dashboard.json"
RUN_FILES = ("concentration.nc", "consequences.nc", "receptors.csv", "front_arrival.nc", META_FILE)
#: Decades of the map's log colour scale below its maximum.
SCALE_DECADES = 4.0
#: The colour scale never spans more decades than this, whatever the AEGL-1.
MAX_SCALE_DECADES = 6.0
#: The scale's top is raised to the 1-h AEGL-3 when that lies at most this many decades above the maximum.
AEGL3_HEADROOM_DECADES = 2.0


def agent_from_meta(meta: dict[str, Any] | None, name: str | None) -> tuple[Any, str | None]:
    """The agent (``plumecast.agents.Agent``) from ``dashboard.json`` or, failing that,
    from the shipped table by name; ``(None, why)`` when neither works."""
    from plumecast.agents import Agent, get_agent

    if meta and isinstance(meta.get("agent"), dict):
        try:
            return Agent.model_validate(meta["agent"]), None
        except Exception as exc:  # pydantic's ValidationError and friends
            return None, f"{META_FILE}: agent: {exc}".splitlines()[0]
    if name:
        try:
            return get_agent(name), None
        except Exception:
            # "no dashboard.json" had contradicted the line saying the folder's one cannot be read (web audit)
            return None, (f"the AEGL values of agent {name!r} are not in the shipped table and no readable "
                          f"{META_FILE} gives them: % of AEGL and AEGL curves are unknown")
    return None, "the agent is not named in the folder: % of AEGL and AEGL curves are unknown"


def seconds_since(t: NDArray[Any], start: np.datetime64) -> NDArray[np.float64]:
    """Seconds from ``start`` to each time of ``t``; NaN for NaT."""
    t = np.asarray(t).astype("datetime64[ns]")
    out = (t - start.astype("datetime64[ns]")).astype("timedelta64[ns]").astype(np.float64) / 1e9
    out[np.isnat(t)] = np.nan
    return out


@dataclass
class RunData:
    """A run-like folder (the root of a run, or one plan's folder of a comparison)."""

    label: str
    path: Path
    problems: list[str] = field(default_factory=list)
    meta: dict[str, Any] | None = None
    start: np.datetime64 | None = None
    issued_s: float = 0.0
    #: why the issue time is unknown (countdowns then run from the release start); None: known
    issued_unknown: str | None = None
    #: consequences.nc's issue time (its ``issued_at``), where dashboard.json gives none
    issued_in_file: str | None = None
    agent: Any = None
    agent_name: str | None = None
    # map
    frame_s: NDArray[np.float64] | None = None  # (frame,) end of each output interval, s after start
    #: (frame,) start of each output interval, s after start (concentration.nc's time_bnds: the last interval of
    #: a run may be shorter than the others); None: each frame is ``interval_s`` long
    frame_begin_s: NDArray[np.float64] | None = None
    interval_s: float | None = None
    grid: dict[str, Any] | None = None
    frames: NDArray[np.float32] | None = None  # (frame, lat north->south, lon) [kg m-3]
    frame_bytes: NDArray[np.uint8] | None = None
    scale: tuple[float, float] | None = None
    #: the map's highest value over every frame [kg m-3] (the scale's top may be raised above it); None: no map
    field_max: float | None = None
    front_h: NDArray[np.float32] | None = None  # (lat north->south, lon) hours after start, NaN never
    front_grid: dict[str, Any] | None = None
    # receptors
    receptors: list[dict[str, Any]] = field(default_factory=list)
    series_end_s: NDArray[np.float64] | None = None
    series_begin_s: NDArray[np.float64] | None = None
    conc: NDArray[np.float64] | None = None  # (step, receptor) outdoors [kg m-3]
    indoor: NDArray[np.float64] | None = None
    curves: dict[int, NDArray[np.float64]] = field(default_factory=dict)
    pct3_frames: NDArray[np.float64] | None = None  # (frame, receptor) highest % of AEGL-3 in the interval
    #: (T [K], P [Pa]) of the ppm <-> kg m-3 conversion of consequences.nc; None: the standard state
    reference_state: tuple[float, float] | None = None
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.frames is not None or bool(self.receptors)


def has_run_files(path: Path) -> bool:
    """Whether ``path`` holds a run's result files (not only its metadata)."""
    return any((path / n).is_file() for n in RUN_FILES[:4])


def load_run(path: Path, label: str) -> RunData:
    """Read one run-like folder; every unreadable part becomes a problem, not an exception."""
    rd = RunData(label=label, path=path)
    meta_path = path / META_FILE
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("expected a JSON object")
            rd.meta = meta
        except (OSError, ValueError) as exc:
            rd.problems.append(f"{META_FILE}: cannot be read ({exc}); the AEGL table and times come from the "
                               "other files where they can")
    scen = meta_scenario(rd)
    if scen.get("start"):
        try:
            rd.start = _meta_time(scen["start"])
        except ValueError:
            rd.problems.append(f"{META_FILE}: scenario.start {scen['start']!r} is not a date")
    cons = _load_consequences(path, rd)
    _load_concentration(path, rd)
    if cons is None:
        _load_receptor_csv(path, rd)
    _load_front(path, rd)
    if rd.start is not None:
        _issue_time(rd, scen)
    agent, why = agent_from_meta(rd.meta, rd.agent_name)
    rd.agent = agent
    if agent is not None:
        rd.agent_name = agent.name
    if rd.conc is not None and rd.series_end_s is not None and rd.series_begin_s is not None:
        if rd.frame_s is None:
            _frames_from_series(rd, scen)
        if agent is None:
            if why:
                rd.problems.append(why)
        else:
            rd.curves = aegl_curves(np.nan_to_num(rd.conc, nan=0.0), rd.series_end_s, rd.series_begin_s, agent,
                                    rd.reference_state)
            if 3 in rd.curves:
                with np.errstate(invalid="ignore", divide="ignore"):
                    # no gas: 0 % whatever the AEGL; gas where the agent's AEGL-3 cannot be read for the
                    # elapsed duration: unknown (NaN), and so is the frame's highest (_per_frame_max)
                    pct = np.where(rd.conc == 0.0, 0.0, 100.0 * rd.conc / rd.curves[3])
                rd.pct3_frames = _per_frame_max(pct, rd.series_end_s, rd.frame_s, rd.interval_s,
                                                rd.frame_begin_s)
    if rd.frames is not None and rd.frame_s is not None:
        _set_scale(rd)
    if not rd.usable and not rd.problems:
        rd.problems.append(f"{path.name or path}: no run results (expected concentration.nc, consequences.nc "
                           "or receptors.csv)")
    return rd


def _issue_time(rd: RunData, scen: dict[str, Any]) -> None:
    """The issue time the countdowns run from: dashboard.json's ``scenario.issued``, else
    consequences.nc's ``issued_at`` (a folder whose dashboard.json is missing or wrong: the
    run wrote it last). Unknown in both: the countdowns run from the release start, later
    than the issue time's would (they err late), so it is listed at the top of the page."""
    assert rd.start is not None
    why = None
    for where, value in ((f"{META_FILE}: scenario.issued", scen.get("issued")),
                         ("consequences.nc: issued_at", rd.issued_in_file)):
        if not value:
            continue
        try:
            issued = _meta_time(value)
        except ValueError:
            why = why or f"{where} {value!r} is not a date"
            continue
        rd.issued_s = float(seconds_since(np.array([issued]), rd.start)[0])
        rd.issued_unknown = None
        return
    rd.issued_unknown = why or f"neither {META_FILE} (scenario.issued) nor consequences.nc (issued_at) gives the issue time"
    rd.problems.append(f"{rd.issued_unknown}: the countdowns run from the release start, and are late by as much as "
                       "the forecast was issued after it")


def meta_scenario(rd: RunData) -> dict[str, Any]:
    """``dashboard.json``'s ``scenario`` object; ``{}`` (and a problem, said once) when it is
    missing or not an object: a wrong type counts as missing, never as a server error."""
    scen = (rd.meta or {}).get("scenario")
    if isinstance(scen, dict):
        return scen
    if scen is not None:
        why = (f"{META_FILE}: 'scenario' is {type(scen).__name__} {str(scen)[:60]!r}, not an object; the "
               "scenario's name and times come from the other files where they can")
        if why not in rd.problems:
            rd.problems.append(why)
    return {}


def _meta_time(value: Any) -> np.datetime64:
    """A UTC time of ``dashboard.json`` as datetime64[ns]; ValueError for anything else."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    try:
        t = np.datetime64(value.strip().replace("Z", "").replace("+00:00", ""), "ns")
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"{value!r} is not a date") from exc
    if np.isnat(t):
        raise ValueError(f"{value!r} is not a date")
    return t


def _frames_from_series(rd: RunData, scen: dict[str, Any]) -> None:
    """Without a map (``concentration.nc`` missing or unreadable), the slider steps through
    the output intervals of the scenario (``dashboard.json``'s ``interval_min`` when it is a
    whole number of the series' steps, else each step) over the receptor series, so that
    levels, % of AEGL-3 and totals at the slider time come from the files, never a zero."""
    end = rd.series_end_s
    if end is None or end.size == 0 or not np.isfinite(end).all():
        return
    step = float(end[0] - rd.series_begin_s[0]) if rd.series_begin_s is not None else float("nan")
    given = scen.get("interval_min")
    interval = math.nan if isinstance(given, bool) else parse_float(given) * 60.0
    if not (math.isfinite(step) and step > 0):
        step = float(np.diff(end)[0]) if end.size > 1 else 3600.0
    ratio = interval / step if math.isfinite(interval) and interval > 0 else math.nan
    if not (math.isfinite(ratio) and ratio >= 1 and abs(ratio - round(ratio)) < 1e-6):
        interval = step
    pick = np.abs((end / interval) - np.round(end / interval)) < 1e-6
    frames = end[pick]
    if frames.size == 0 or frames[-1] < end[-1] - 1e-6:
        frames = np.append(frames, end[-1])
    rd.frame_s = np.asarray(frames, dtype=np.float64)
    rd.frame_begin_s = np.concatenate([[rd.frame_s[0] - interval], rd.frame_s[:-1]])  # a last, shorter frame too
    rd.interval_s = float(interval)


def _per_frame_max(pct: NDArray[np.float64], end_s: NDArray[np.float64], frame_s: NDArray[np.float64] | None,
                   interval_s: float | None, begin_s: NDArray[np.float64] | None = None) -> NDArray[np.float64] | None:
    """Highest value of each receptor within each output interval ``(begin, t]`` (``begin_s``:
    each frame's start, from concentration.nc's time_bnds; None: ``t - interval_s``), unknown
    (NaN) where a step of it is (the highest of the others had shown 230 % where the file's
    peak was n/a, and 263 % without the agent's gaps; situation-room audit); None without
    output intervals (never the per-step rows, which are no frames)."""
    if frame_s is None or interval_s is None or frame_s.size == 0:
        return None
    if begin_s is None or begin_s.shape != frame_s.shape:
        begin_s = frame_s - interval_s
    out = np.full((frame_s.size, pct.shape[1]), np.nan)
    for k, t in enumerate(frame_s):
        sel = (end_s > begin_s[k] + 1e-6) & (end_s <= t + 1e-6)  # the step ending at the begin is the frame before's
        if sel.any():
            out[k] = np.max(pct[sel], axis=0)
    return out


def _set_scale(rd: RunData) -> None:
    assert rd.frames is not None
    finite = rd.frames[np.isfinite(rd.frames)]
    vmax = float(finite.max()) if finite.size else 0.0
    rd.field_max = vmax
    if vmax <= 0:
        rd.scale = None
        rd.frame_bytes = np.zeros(rd.frames.shape, np.uint8)
        return
    vmin = vmax / 10**SCALE_DECADES
    if rd.agent is not None:
        tabs = aegl_tables_kg_m3(rd.agent)
        t3 = tabs.get(3)
        if t3 is not None and np.isfinite(t3[2]) and vmax < t3[2] <= vmax * 10**AEGL3_HEADROOM_DECADES:
            vmax = 1.2 * float(t3[2])  # the 1-h AEGL-3 on the scale: the darkest colours mean lethal air
        t1 = tabs.get(1)
        if t1 is not None and np.isfinite(t1).any():
            lowest = float(np.nanmin(t1))
            if lowest < vmax:
                vmin = min(vmin, 0.1 * lowest)
    vmin = max(vmin, vmax / 10**MAX_SCALE_DECADES)
    rd.scale = (vmin, vmax)
    rd.frame_bytes = log_bytes(rd.frames, vmin, vmax)


def _load_concentration(path: Path, rd: RunData) -> None:
    f = path / "concentration.nc"
    if not f.is_file():
        rd.problems.append("concentration.nc: missing; no concentration map")
        return
    try:
        with xr.open_dataset(f, decode_timedelta=False) as ds:
            if "concentration" not in ds:
                raise ValueError(f"no variable 'concentration' (has {sorted(map(str, ds.data_vars))})")
            da = ds["concentration"]
            if set(da.dims) != {"time", "lat", "lon"}:
                raise ValueError(f"'concentration' has dims {da.dims}, expected (time, lat, lon)")
            da = da.transpose("time", "lat", "lon")
            values = np.asarray(da.values, dtype=np.float32)
            times = np.asarray(ds["time"].values).astype("datetime64[ns]")
            lat = np.asarray(ds["lat"].values, float)
            lon = np.asarray(ds["lon"].values, float)
            begins = None
            if "time_bnds" in ds and ds["time_bnds"].shape == (times.size, 2):
                bnds = np.asarray(ds["time_bnds"].values).astype("datetime64[ns]")
                rd.interval_s = float((bnds[0, 1] - bnds[0, 0]) / np.timedelta64(1, "s"))
                first_begin = bnds[0, 0]
                begins = bnds[:, 0]
            else:
                step = (times[1] - times[0]) if times.size > 1 else np.timedelta64(3600, "s")
                rd.interval_s = float(step / np.timedelta64(1, "s"))
                first_begin = times[0] - step
            if rd.agent_name is None:
                rd.agent_name = str(da.attrs.get("agent", "")) or None
    except Exception as exc:  # netCDF4 raises OSError/RuntimeError/KeyError for damaged files
        rd.problems.append(f"concentration.nc: cannot be read ({type(exc).__name__}: {exc}); "
                           "truncated, being written, or not a plumecast output")
        return
    if times.size == 0 or lat.size == 0 or lon.size == 0:
        rd.problems.append("concentration.nc: holds no time step")
        return
    if rd.start is None:
        rd.start = first_begin
    order = lon_order(lon)[0]  # west to east, in one piece across 180
    rd.frames = north_up(values[:, :, order], lat)
    rd.grid = grid_box(lat, lon)
    rd.frame_s = seconds_since(times, rd.start)
    if begins is not None:
        # each frame's own window; never before the frame before it ends (files written before the bounds were
        # fixed gave every row (time - interval, time], overlapping the row before after a shorter last interval)
        b = seconds_since(begins, rd.start)
        b[1:] = np.fmax(b[1:], rd.frame_s[:-1])
        rd.frame_begin_s = b


def _load_consequences(path: Path, rd: RunData) -> xr.Dataset | None:
    f = path / "consequences.nc"
    if not f.is_file():
        if (path / "concentration.nc").is_file() or (path / "receptors.csv").is_file():
            rd.problems.append("consequences.nc: missing; no population, AEGL arrival or fatality figures on the "
                               "page (consequences.csv, rounded for people to read, is not read back)")
        return None
    try:
        with xr.open_dataset(f) as ds:
            ds = ds.load()
    except Exception as exc:
        rd.problems.append(f"consequences.nc: cannot be read ({type(exc).__name__}: {exc}); truncated, being "
                           "written, or not a plumecast output")
        return None
    try:
        _receptors_from_consequences(ds, rd)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        rd.problems.append(f"consequences.nc: unexpected content ({type(exc).__name__}: {exc}); expected the "
                           "output of plumecast.consequence.assess")
        rd.receptors = []
        rd.conc = None
        return None
    return ds


def _receptors_from_consequences(ds: xr.Dataset, rd: RunData) -> None:
    n = ds.sizes["receptor"]
    if rd.start is None:
        rs = ds.attrs.get("release_start")
        if rs:
            rd.start = np.datetime64(str(rs).replace("Z", ""), "ns")
        else:
            rd.start = np.asarray(ds["time"].values).astype("datetime64[ns]")[0]
    assert rd.start is not None
    rd.issued_in_file = str(ds.attrs.get("issued_at") or "") or None
    rd.agent_name = str(ds.attrs.get("agent", "")) or rd.agent_name
    state = re.fullmatch(r"\s*T = (\S+) K, P = (\S+) Pa\s*", str(ds.attrs.get("ppm_reference_state", "")))
    if state:
        t_k, p_pa = parse_float(state.group(1)), parse_float(state.group(2))
        if math.isfinite(t_k) and t_k > 0 and math.isfinite(p_pa) and p_pa > 0:
            rd.reference_state = (t_k, p_pa)

    def col(name: str, default: float = math.nan) -> NDArray[Any]:
        return np.asarray(ds[name].values) if name in ds else np.full(n, default)

    first = {lv: seconds_since(col(f"first_exceedance_aegl{lv}").astype("datetime64[ns]"), rd.start)
             if f"first_exceedance_aegl{lv}" in ds else np.full(n, np.nan) for lv in AEGL_LEVELS}
    available = {lv: int(ds.attrs.get(f"aegl{lv}_available", 1)) == 1 for lv in AEGL_LEVELS}
    # per receptor: n/a where the agent's AEGL is missing for an exposure duration reached before the level
    # (the page had shown "not reached" above a note saying "n/a, not never"; situation-room audit)
    readable = {lv: col(f"aegl{lv}_known", 1).astype(bool) for lv in AEGL_LEVELS}
    known = col("concentration_known", 1).astype(bool)
    pop = col("population").astype(float)
    fat, lo, hi = (col(k).astype(float) for k in ("fatalities", "fatalities_low", "fatalities_high"))
    fsh, fsh_lo, fsh_hi = (col(k).astype(float) for k in ("fatalities_sheltered", "fatalities_sheltered_low",
                                                          "fatalities_sheltered_high"))
    names = [str(x) for x in col("name", 0)] if "name" in ds.coords or "name" in ds else [str(i) for i in range(n)]
    country = [str(x) for x in col("country", 0)] if "country" in ds.coords or "country" in ds else [""] * n
    lat, lon = col("lat").astype(float), col("lon").astype(float)
    notes = [str(x) for x in col("note", 0)] if "note" in ds else [""] * n
    # rows made of the parts of a city's disc a plume crosses: their level, peak and % of AEGL-3 are the most
    # exposed part's, their fatalities the whole city's (consequences.nc's disc_parts and area_spot)
    worst = (np.nan_to_num(col("disc_parts", 0).astype(float)) > 0) | (np.nan_to_num(col("area_spot", 0).astype(float)) == 1)
    rd.receptors = [{
        "id": i, "name": names[i], "country": country[i], "lat": lat[i], "lon": lon[i],
        "population": pop[i], "known": bool(known[i]),
        "first": {str(lv): (first[lv][i] if available[lv] and readable[lv][i] else None) for lv in AEGL_LEVELS},
        "aegl_available": {str(lv): bool(available[lv] and readable[lv][i]) for lv in AEGL_LEVELS},
        "fatalities": fat[i], "fatalities_low": lo[i], "fatalities_high": hi[i], "fatalities_sheltered": fsh[i],
        "fatalities_sheltered_low": fsh_lo[i], "fatalities_sheltered_high": fsh_hi[i],
        "peak_percent_aegl3": float(col("peak_percent_aegl3")[i]), "note": notes[i],
        "worst_part": bool(worst[i]),
    } for i in range(n)]
    if "concentration" in ds and set(ds["concentration"].dims) == {"time", "receptor"}:
        # files keep (receptor, time) on disk (CF: time varies fastest); read (time, receptor)
        ds = ds.transpose("time", "receptor", ...)
        t = np.asarray(ds["time"].values).astype("datetime64[ns]")
        end = seconds_since(t, rd.start)
        rd.series_end_s = end
        if end.size > 1:
            dt = np.diff(end)
            rd.series_begin_s = end - np.concatenate([[dt[0]], dt])
        else:
            rd.series_begin_s = end - (rd.interval_s or 600.0)
        conc = np.asarray(ds["concentration"].values, dtype=float)
        conc[:, ~known] = np.nan
        rd.conc = conc
        if "concentration_indoor" in ds:
            ind = np.asarray(ds["concentration_indoor"].values, dtype=float)
            ind[:, ~known] = np.nan
            rd.indoor = ind
    total_lo, total_hi, total_lo_exact = _total_range(ds)
    shel_lo, shel_hi, shel_exact = _total_range(ds, "_sheltered")
    rd.totals = {
        "fatalities": parse_float(ds.attrs.get("total_fatalities")),
        "fatalities_sheltered": parse_float(ds.attrs.get("total_fatalities_sheltered")),
        # the range of the totals over the probit sets, as the console gives it (not the sum of each
        # receptor's lowest and highest set; regression audit: 2,100-3,800 against 2,600-3,400)
        "fatalities_low": total_lo,
        "fatalities_high": total_hi,
        "fatalities_sheltered_low": shel_lo,
        "fatalities_sheltered_high": shel_hi,
        "receptors_unknown": int(np.count_nonzero(~np.isfinite(fat))),
        # (and the receptors whose buildings have their own air changes, "Q 5": audit 43, #2)
        "shelter": {k: ds.attrs.get(k) for k in ("shelter_air_changes_per_hour", "shelter_compliance_fraction",
                                                 "shelter_own_air_changes_per_hour") if k in ds.attrs}
        | _shelter_start(ds, rd),
        # the sets the ranges span (the run view had given "1 (1-2)" without saying over what; audit 42, #12)
        "probit_sets": [str(x) for x in ds["probit_set"].values] if "probit_set" in ds.coords else [],
        "ranges_exact": bool(total_lo_exact and shel_exact),
        "warnings": str(ds.attrs.get("warnings", "")),
    }


def _total_range(ds: xr.Dataset, suffix: str = "") -> tuple[float, float, bool]:
    """The lowest and highest total expected fatalities over the probit sets, outdoors
    (``suffix`` ``""``) or sheltered (``"_sheltered"``), and whether they are the totals under the sets (False:
    the sums of each receptor's lowest and highest, wider; :func:`plumecast.report_tables.total_range`)."""
    from plumecast.report_tables import total_range

    return total_range(ds, suffix)


def _shelter_start(ds: xr.Dataset, rd: RunData) -> dict[str, Any]:
    """When the shelter of the "with shelter-in-place" figures begins, as ``shelter_start_s`` (seconds after the
    view's start): consequences.nc's ``shelter_start``, seconds after its ``release_start`` or a date-time, or
    "release start" (0); nothing where the file does not say or the value cannot be read (never a guess)."""
    raw = ds.attrs.get("shelter_start")
    if raw is None or rd.start is None:
        return {}
    text, origin = str(raw).strip(), ds.attrs.get("release_start")
    seconds = 0.0 if text == "release start" else parse_float(text)
    try:
        if math.isfinite(seconds):  # seconds after the file's release start (the scenario's start)
            t0 = np.datetime64(str(origin).replace("Z", ""), "ns") if origin else rd.start
            at = t0 + np.timedelta64(int(round(seconds * 1e9)), "ns")
        else:
            at = np.datetime64(text.replace(" ", "T").replace("Z", ""), "ns")
    except ValueError:
        return {}
    return {"shelter_start_s": float(seconds_since(np.array([at]), rd.start)[0])}


def _load_receptor_csv(path: Path, rd: RunData) -> None:
    f = path / "receptors.csv"
    if not f.is_file():
        return
    try:
        text = f.read_text(encoding="utf-8")
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]  # its unit line
        if len(rows) < 2 or rows[0][0] != "time_utc":
            raise ValueError("expected a header 'time_utc,<receptor>,...' and one line per time step")
        header, body = rows[0], rows[1:]
        if any(len(r) != len(header) for r in body):
            raise ValueError("a line has the wrong number of fields (truncated or being written?)")
        t = np.array([np.datetime64(r[0].replace(" ", "T"), "ns") for r in body])
        conc = np.array([[parse_float(x) for x in r[1:]] for r in body], dtype=float)
    except (OSError, ValueError, IndexError) as exc:
        rd.problems.append(f"receptors.csv: cannot be read ({exc})")
        return
    if rd.start is None:
        rd.start = t[0] - (t[1] - t[0] if t.size > 1 else np.timedelta64(600, "s"))
    end = seconds_since(t, rd.start)
    rd.series_end_s = end
    dt = np.diff(end) if end.size > 1 else np.array([600.0])
    rd.series_begin_s = end - np.concatenate([[dt[0]], dt]) if end.size > 1 else end - dt[0]
    rd.conc = conc
    table = city_lookup()
    rd.receptors = []
    # as plumecast.consequence: a receptor whose series is not finite at every step is unknown
    # (off the met domain or missing data), never "not reached"
    known = np.isfinite(conc).all(axis=0) if conc.size else np.ones(len(header) - 1, bool)
    conc[:, ~known] = np.nan
    for i, name in enumerate(header[1:]):
        hit = table.get(fold(name))
        rd.receptors.append({
            "id": i, "name": name, "country": hit["country"] if hit else "", "lat": hit["lat"] if hit else None,
            "lon": hit["lon"] if hit else None, "population": math.nan, "known": bool(known[i]),
            "first": {str(lv): None for lv in AEGL_LEVELS}, "aegl_available": {str(lv): False for lv in AEGL_LEVELS},
            "fatalities": math.nan, "fatalities_low": math.nan, "fatalities_high": math.nan,
            "fatalities_sheltered": math.nan, "peak_percent_aegl3": math.nan, "note": "",
        })
    rd.totals = {"fatalities": math.nan, "receptors_unknown": len(rd.receptors)}
    rd.problems.append("receptors.csv: each city's air is that of its row in the run's casualty table (where a "
                       "plume crosses it, its most exposed part), but a folder written before 2026-12-03 holds its "
                       "mean over its disc, far lower where a plume crosses part of it (120 % of AEGL-3 against "
                       "7,000 % in an audit): there, % of AEGL-3 and the cities past each level are lower bounds")


def _load_front(path: Path, rd: RunData) -> None:
    f = path / "front_arrival.nc"
    if not f.is_file() or rd.start is None:
        return
    try:
        with xr.open_dataset(f) as ds:
            name = "front_arrival" if "front_arrival" in ds else next(iter(ds.data_vars))
            da = ds[name].transpose("lat", "lon")
            v = np.asarray(da.values)
            if np.issubdtype(v.dtype, np.datetime64):
                hours = seconds_since(v.reshape(-1), rd.start).reshape(v.shape) / 3600.0
            else:
                hours = np.asarray(v, dtype=float)
            lat, lon = np.asarray(da["lat"].values, float), np.asarray(da["lon"].values, float)
    except Exception as exc:
        rd.problems.append(f"front_arrival.nc: cannot be read ({type(exc).__name__}: {exc})")
        return
    order = lon_order(lon)[0]  # west to east, in one piece across 180
    rd.front_h = north_up(hours[:, order], lat).astype(np.float32)
    rd.front_grid = grid_box(lat, lon)

