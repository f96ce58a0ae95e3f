"""Read a plumecast output folder into what the dashboard shows.

Nothing here imports FastAPI: the loader is plain numpy/xarray and is tested on
its own. A folder is read once and kept in memory until one of its result files
changes (size or modification time), so hundreds of polling clients cost a few
``stat`` calls per second, not a re-read.

What a folder may hold (every file is optional; what is missing is reported as a
*problem*, never guessed and never shown as zero):

``run`` / ``demo`` (:func:`plumecast.runner.write_outputs`, ``consequence``)
    ``concentration.nc`` (time, lat, lon), ``consequences.nc`` (per receptor:
    population, first exceedance of each AEGL, fatalities, the per-step outdoor
    and indoor series), ``receptors.csv`` (per-step series only),
    ``dashboard.json`` (:mod:`plumecast.web.export`: the agent's AEGL table and
    the scenario's times), ``front_arrival.nc`` (neutralisation front).
``compare`` (:mod:`plumecast.ensemble.summary`)
    ``decision_table.csv`` (one row per plan), ``cities.csv`` (one row per city
    and plan), ``cost_of_delay.csv``, ``exceedance_probability.nc``
    (plan, level, lat, lon) and, optionally, one run-like folder per plan
    (``<root>/<plan>/`` or ``<root>/plans/<plan>/``, matched by name).

The "% of AEGL-3" of a city follows :mod:`plumecast.consequence`: the AEGL is read
for the exposure duration elapsed since the onset (first value at or above
:func:`plumecast.consequence.onset_floor`), log-log interpolated between the
tabulated durations (:func:`plumecast.toxicology.aegl_loglog_interpolate`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

LIVE_FILE = "live.json"
META_FILE = "dashboard.json"
RUN_FILES = ("concentration.nc", "consequences.nc", "receptors.csv", "front_arrival.nc", META_FILE)
COMPARE_FILES = ("decision_table.csv", "cities.csv", "cost_of_delay.csv", "exceedance_probability.nc")
#: Seconds a folder's signature is trusted before its files are stat'ed again.
RESTAT_S = 1.0
#: Decades of the map's log colour scale below its maximum.
SCALE_DECADES = 4.0
#: The colour scale never spans more decades than this, whatever the AEGL-1.
MAX_SCALE_DECADES = 6.0
#: The scale's top is raised to the 1-h AEGL-3 when that lies at most this many decades above the maximum.
AEGL3_HEADROOM_DECADES = 2.0
AEGL_LEVELS = (1, 2, 3)


class FolderProblem(Exception):
    """A request cannot be answered from the folder as it is (missing or unreadable file)."""


# --------------------------------------------------------------------------- helpers


def clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars/arrays -> Python."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, np.generic):
        return clean(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def compact(values: NDArray[Any], sig: int = 4) -> list[Any]:
    """A float array as a (nested) list with ``sig`` significant figures, NaN -> None."""
    a = np.asarray(values, dtype=np.float64)
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a)
    if ok.any():
        v = a[ok]
        mag = np.floor(np.log10(np.where(v == 0, 1.0, np.abs(v))))
        scale = 10.0 ** (sig - 1 - mag)
        out[ok] = np.round(v * scale) / scale
    return list(clean(out))


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name, for search ("São Paulo" -> "sao paulo")."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in norm if not unicodedata.combining(ch)).casefold().strip()


def safe_name(plan: str) -> str:
    """The folder name a plan's files would use (as ``ensemble.summary`` names its maps)."""
    return "".join(ch if ch.isalnum() else "_" for ch in plan).strip("_")


def _float(text: Any) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _read_csv_rows(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    if not lines:
        raise ValueError("the file is empty")
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if not reader.fieldnames:
        raise ValueError("no header line")
    rows = list(reader)
    for k, row in enumerate(rows):
        if None in row or any(v is None for v in row.values()):
            raise ValueError(f"line {k + 2} has {len(row) - (1 if None in row else 0)} fields, "
                             f"expected {len(reader.fieldnames)} (truncated or being written?)")
    return rows


def _seconds(t: NDArray[Any], start: np.datetime64) -> NDArray[np.float64]:
    t = np.asarray(t).astype("datetime64[ns]")
    out = (t - start.astype("datetime64[ns]")).astype("timedelta64[ns]").astype(np.float64) / 1e9
    out[np.isnat(t)] = np.nan
    return out


def _iso(t: np.datetime64 | None) -> str | None:
    if t is None or np.isnat(t):
        return None
    return str(np.asarray(t).astype("datetime64[s]")) + "Z"


def north_up(values: NDArray[Any], lat: NDArray[np.float64]) -> NDArray[Any]:
    """Rows ordered north to south (image order) whatever the file's latitude order."""
    order = np.argsort(-np.asarray(lat, dtype=float), kind="stable")
    return np.asarray(values)[..., order, :]


def grid_box(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> dict[str, float | int]:
    """Outer cell edges of a regular lat/lon grid of cell centres. [deg]"""
    lat = np.sort(np.asarray(lat, dtype=float))
    lon = np.sort(np.asarray(lon, dtype=float))
    dlat = float(np.median(np.diff(lat))) if lat.size > 1 else 1.0
    dlon = float(np.median(np.diff(lon))) if lon.size > 1 else 1.0
    return {"lat0": float(lat[0] - dlat / 2), "lat1": float(lat[-1] + dlat / 2),
            "lon0": float(lon[0] - dlon / 2), "lon1": float(lon[-1] + dlon / 2),
            "nlat": int(lat.size), "nlon": int(lon.size)}


def log_bytes(values: NDArray[Any], vmin: float, vmax: float) -> NDArray[np.uint8]:
    """Log-scale quantisation for the map: 0 below ``vmin`` (or NaN), else
    ``1 + round(254 log(c/vmin) / log(vmax/vmin))`` clipped to 1..255."""
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros(v.shape, dtype=np.uint8)
    ok = np.isfinite(v) & (v >= vmin)
    if vmax > vmin > 0:
        q = 1.0 + np.round(254.0 * np.log(v[ok] / vmin) / math.log(vmax / vmin))
        out[ok] = np.clip(q, 1, 255).astype(np.uint8)
    return out


def fraction_bytes(p: NDArray[Any]) -> NDArray[np.uint8]:
    """A probability grid as bytes: 0 for 0 (or NaN), else ``ceil(255 p)`` (any p > 0 shows)."""
    v = np.nan_to_num(np.asarray(p, dtype=np.float64), nan=0.0)
    return np.clip(np.ceil(np.clip(v, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- AEGL


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
            return None, (f"the AEGL values of agent {name!r} are not in the shipped table and the folder has "
                          f"no {META_FILE}: % of AEGL and AEGL curves are unknown")
    return None, "the agent is not named in the folder: % of AEGL and AEGL curves are unknown"


def aegl_tables_kg_m3(agent: Any) -> dict[int, NDArray[np.float64] | None]:
    """The five tabulated AEGL values per level [kg m-3]; None where the level is absent."""
    from plumecast.units import ppm_to_kg_m3

    out: dict[int, NDArray[np.float64] | None] = {}
    for level in AEGL_LEVELS:
        tab = np.asarray(agent.aegl_table_ppm(level), dtype=float)
        out[level] = None if not np.isfinite(tab).any() else np.asarray(
            ppm_to_kg_m3(tab, agent.molecular_weight_g_mol), dtype=float)
    return out


def aegl_curves(conc: NDArray[np.float64], end_s: NDArray[np.float64], begin_s: NDArray[np.float64],
                agent: Any) -> dict[int, NDArray[np.float64]]:
    """AEGL of each level [kg m-3] for the exposure duration elapsed at each (time, receptor).

    As :mod:`plumecast.consequence`: the duration counts from the start of the first
    interval at or above the onset floor; before the onset (and for a series that
    never reaches it) the 10-min value applies (the shortest tabulated duration).
    """
    from plumecast.consequence import onset_floor
    from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

    floor = onset_floor(agent)
    pos: NDArray[np.bool_] = np.asarray(conc >= floor if floor > 0 else conc > 0)
    has: NDArray[np.bool_] = np.asarray(pos.any(axis=0))
    onset = np.argmax(pos, axis=0)
    elapsed = end_s[:, None] - begin_s[onset][None, :]
    elapsed = np.where(has[None, :], np.maximum(elapsed, 1.0), 1.0)
    out: dict[int, NDArray[np.float64]] = {}
    for level, tab in aegl_tables_kg_m3(agent).items():
        if tab is not None:
            out[level] = np.asarray(aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed), float)
    return out


# --------------------------------------------------------------------------- data classes


@dataclass
class RunData:
    """A run-like folder (the root of a run, or one plan's folder of a comparison)."""

    label: str
    path: Path
    problems: list[str] = field(default_factory=list)
    meta: dict[str, Any] | None = None
    start: np.datetime64 | None = None
    issued_s: float = 0.0
    agent: Any = None
    agent_name: str | None = None
    # map
    frame_s: NDArray[np.float64] | None = None  # (frame,) end of each output interval, s after start
    interval_s: float | None = None
    grid: dict[str, Any] | None = None
    frames: NDArray[np.float32] | None = None  # (frame, lat north->south, lon) [kg m-3]
    frame_bytes: NDArray[np.uint8] | None = None
    scale: tuple[float, float] | None = None
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
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.frames is not None or bool(self.receptors)


@dataclass
class CompareData:
    plans: list[dict[str, Any]] = field(default_factory=list)
    cities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    delay: list[dict[str, Any]] = field(default_factory=list)
    probability: dict[str, dict[str, NDArray[np.uint8]]] = field(default_factory=dict)
    prob_grid: dict[str, Any] | None = None
    members: int | None = None
    plan_runs: dict[str, RunData] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.plans)


@dataclass
class Snapshot:
    root: Path
    signature: tuple[Any, ...]
    run: RunData | None
    compare: CompareData | None
    problems: list[str]
    loaded_at: float
    views: dict[str, RunData | None] = field(default_factory=dict)  # view id -> run data (None: table only)
    cache: dict[str, Any] = field(default_factory=dict)  # answers built from this snapshot (JSON bytes...)

    def cached(self, key: str, make: Any) -> Any:
        """``make()`` once per snapshot (a changed folder is a new snapshot)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    @property
    def usable(self) -> bool:
        return bool((self.run and self.run.usable) or (self.compare and self.compare.usable))


# --------------------------------------------------------------------------- run folders


def _has_run_files(path: Path) -> bool:
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
    scen = (rd.meta or {}).get("scenario") or {}
    if scen.get("start"):
        try:
            rd.start = np.datetime64(str(scen["start"]).replace("Z", "").replace("+00:00", ""), "ns")
        except ValueError:
            rd.problems.append(f"{META_FILE}: scenario.start {scen['start']!r} is not a date")
    cons = _load_consequences(path, rd)
    _load_concentration(path, rd)
    if cons is None:
        _load_receptor_csv(path, rd)
    _load_front(path, rd)
    if rd.start is not None and scen.get("issued"):
        try:
            issued = np.datetime64(str(scen["issued"]).replace("Z", "").replace("+00:00", ""), "ns")
            rd.issued_s = float(_seconds(np.array([issued]), rd.start)[0])
        except ValueError:
            pass
    agent, why = agent_from_meta(rd.meta, rd.agent_name)
    rd.agent = agent
    if agent is not None:
        rd.agent_name = agent.name
    if rd.conc is not None and rd.series_end_s is not None and rd.series_begin_s is not None:
        if agent is None:
            if why:
                rd.problems.append(why)
        else:
            rd.curves = aegl_curves(np.nan_to_num(rd.conc, nan=0.0), rd.series_end_s, rd.series_begin_s, agent)
            if 3 in rd.curves:
                with np.errstate(invalid="ignore", divide="ignore"):
                    pct = 100.0 * rd.conc / rd.curves[3]
                rd.pct3_frames = _per_frame_max(pct, rd.series_end_s, rd.frame_s, rd.interval_s)
    if rd.frames is not None and rd.frame_s is not None:
        _set_scale(rd)
    if not rd.usable and not rd.problems:
        rd.problems.append(f"{path.name or path}: no run results (expected concentration.nc, consequences.nc "
                           "or receptors.csv)")
    return rd


def _per_frame_max(pct: NDArray[np.float64], end_s: NDArray[np.float64], frame_s: NDArray[np.float64] | None,
                   interval_s: float | None) -> NDArray[np.float64]:
    """Highest value of each receptor within each output interval ``(t - interval, t]``."""
    if frame_s is None or interval_s is None or frame_s.size == 0:
        return pct
    out = np.full((frame_s.size, pct.shape[1]), np.nan)
    for k, t in enumerate(frame_s):
        sel = (end_s > t - interval_s - 1e-6) & (end_s <= t + 1e-6)
        if sel.any():
            out[k] = np.fmax.reduce(pct[sel], axis=0)
    return out


def _set_scale(rd: RunData) -> None:
    assert rd.frames is not None
    finite = rd.frames[np.isfinite(rd.frames)]
    vmax = float(finite.max()) if finite.size else 0.0
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
            if "time_bnds" in ds and ds["time_bnds"].shape == (times.size, 2):
                bnds = np.asarray(ds["time_bnds"].values).astype("datetime64[ns]")
                rd.interval_s = float((bnds[0, 1] - bnds[0, 0]) / np.timedelta64(1, "s"))
                first_begin = bnds[0, 0]
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
    order = np.argsort(lon)
    rd.frames = north_up(values[:, :, order], lat)
    rd.grid = grid_box(lat, lon)
    rd.frame_s = _seconds(times, rd.start)


def _load_consequences(path: Path, rd: RunData) -> xr.Dataset | None:
    f = path / "consequences.nc"
    if not f.is_file():
        if (path / "concentration.nc").is_file() or (path / "receptors.csv").is_file():
            rd.problems.append("consequences.nc: missing; no population, AEGL arrival or fatality figures")
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
    rd.agent_name = str(ds.attrs.get("agent", "")) or rd.agent_name

    def col(name: str, default: float = math.nan) -> NDArray[Any]:
        return np.asarray(ds[name].values) if name in ds else np.full(n, default)

    first = {lv: _seconds(col(f"first_exceedance_aegl{lv}").astype("datetime64[ns]"), rd.start)
             if f"first_exceedance_aegl{lv}" in ds else np.full(n, np.nan) for lv in AEGL_LEVELS}
    available = {lv: int(ds.attrs.get(f"aegl{lv}_available", 1)) == 1 for lv in AEGL_LEVELS}
    known = col("concentration_known", 1).astype(bool)
    pop = col("population").astype(float)
    fat, lo, hi = (col(k).astype(float) for k in ("fatalities", "fatalities_low", "fatalities_high"))
    fsh = col("fatalities_sheltered").astype(float)
    names = [str(x) for x in col("name", 0)] if "name" in ds.coords or "name" in ds else [str(i) for i in range(n)]
    country = [str(x) for x in col("country", 0)] if "country" in ds.coords or "country" in ds else [""] * n
    lat, lon = col("lat").astype(float), col("lon").astype(float)
    notes = [str(x) for x in col("note", 0)] if "note" in ds else [""] * n
    rd.receptors = [{
        "id": i, "name": names[i], "country": country[i], "lat": lat[i], "lon": lon[i],
        "population": pop[i], "known": bool(known[i]),
        "first": {str(lv): (first[lv][i] if available[lv] else None) for lv in AEGL_LEVELS},
        "aegl_available": {str(lv): available[lv] for lv in AEGL_LEVELS},
        "fatalities": fat[i], "fatalities_low": lo[i], "fatalities_high": hi[i], "fatalities_sheltered": fsh[i],
        "peak_percent_aegl3": float(col("peak_percent_aegl3")[i]), "note": notes[i],
    } for i in range(n)]
    if "concentration" in ds and set(ds["concentration"].dims) == {"time", "receptor"}:
        # files keep (receptor, time) on disk (CF: time varies fastest); read (time, receptor)
        ds = ds.transpose("time", "receptor", ...)
        t = np.asarray(ds["time"].values).astype("datetime64[ns]")
        end = _seconds(t, rd.start)
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
    rd.totals = {
        "fatalities": _float(ds.attrs.get("total_fatalities")),
        "fatalities_sheltered": _float(ds.attrs.get("total_fatalities_sheltered")),
        "fatalities_low": float(np.nansum(lo)) if np.isfinite(lo).any() else math.nan,
        "fatalities_high": float(np.nansum(hi)) if np.isfinite(hi).any() else math.nan,
        "receptors_unknown": int(np.count_nonzero(~np.isfinite(fat))),
        "shelter": {k: ds.attrs.get(k) for k in ("shelter_air_changes_per_hour", "shelter_compliance_fraction")
                    if k in ds.attrs},
        "warnings": str(ds.attrs.get("warnings", "")),
    }


def _load_receptor_csv(path: Path, rd: RunData) -> None:
    f = path / "receptors.csv"
    if not f.is_file():
        return
    try:
        text = f.read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        if len(rows) < 2 or rows[0][0] != "time_utc":
            raise ValueError("expected a header 'time_utc,<receptor>,...' and one line per time step")
        header, body = rows[0], rows[1:]
        if any(len(r) != len(header) for r in body):
            raise ValueError("a line has the wrong number of fields (truncated or being written?)")
        t = np.array([np.datetime64(r[0].replace(" ", "T"), "ns") for r in body])
        conc = np.array([[_float(x) for x in r[1:]] for r in body], dtype=float)
    except (OSError, ValueError, IndexError) as exc:
        rd.problems.append(f"receptors.csv: cannot be read ({exc})")
        return
    if rd.start is None:
        rd.start = t[0] - (t[1] - t[0] if t.size > 1 else np.timedelta64(600, "s"))
    end = _seconds(t, rd.start)
    rd.series_end_s = end
    dt = np.diff(end) if end.size > 1 else np.array([600.0])
    rd.series_begin_s = end - np.concatenate([[dt[0]], dt]) if end.size > 1 else end - dt[0]
    rd.conc = conc
    table = _city_lookup()
    rd.receptors = []
    for i, name in enumerate(header[1:]):
        hit = table.get(fold(name))
        rd.receptors.append({
            "id": i, "name": name, "country": hit["country"] if hit else "", "lat": hit["lat"] if hit else None,
            "lon": hit["lon"] if hit else None, "population": math.nan, "known": True,
            "first": {str(lv): None for lv in AEGL_LEVELS}, "aegl_available": {str(lv): False for lv in AEGL_LEVELS},
            "fatalities": math.nan, "fatalities_low": math.nan, "fatalities_high": math.nan,
            "fatalities_sheltered": math.nan, "peak_percent_aegl3": math.nan, "note": "",
        })
    rd.totals = {"fatalities": math.nan, "receptors_unknown": len(rd.receptors)}


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
                hours = _seconds(v.reshape(-1), rd.start).reshape(v.shape) / 3600.0
            else:
                hours = np.asarray(v, dtype=float)
            lat, lon = np.asarray(da["lat"].values, float), np.asarray(da["lon"].values, float)
    except Exception as exc:
        rd.problems.append(f"front_arrival.nc: cannot be read ({type(exc).__name__}: {exc})")
        return
    order = np.argsort(lon)
    rd.front_h = north_up(hours[:, order], lat).astype(np.float32)
    rd.front_grid = grid_box(lat, lon)


# --------------------------------------------------------------------------- comparisons


def load_compare(root: Path) -> CompareData | None:
    if not any((root / n).is_file() for n in COMPARE_FILES):
        return None
    cd = CompareData()
    f = root / "decision_table.csv"
    if f.is_file():
        try:
            for r in _read_csv_rows(f):
                if not r.get("plan"):
                    raise ValueError("a row has no 'plan'")
                cd.plans.append({
                    "name": r["plan"], "members": _float(r.get("members")),
                    "fatalities": [_float(r.get(f"fatalities_{k}")) for k in ("p5", "median", "p95")],
                    "lives_saved": [_float(r.get(f"lives_saved_{k}")) for k in ("p5", "median", "p95")],
                    "receptors_unknown": _float(r.get("receptors_unknown_max")),
                    "baseline": (str(r["baseline"]).strip().lower() in ("true", "1", "yes")) if "baseline" in r
                    else not cd.plans,  # older tables: the baseline is the first row
                    "particles_per_member": _float(r.get("particles_per_member")),
                })
            if cd.plans and math.isfinite(cd.plans[0]["members"]):
                cd.members = int(cd.plans[0]["members"])
        except (OSError, ValueError, KeyError) as exc:
            cd.problems.append(f"decision_table.csv: cannot be read ({exc}); no plan comparison")
            cd.plans = []
    else:
        cd.problems.append("decision_table.csv: missing; the plans cannot be compared")
    f = root / "cities.csv"
    if f.is_file():
        try:
            for r in _read_csv_rows(f):
                cd.cities.setdefault(r.get("plan", ""), []).append(r)
        except (OSError, ValueError) as exc:
            cd.problems.append(f"cities.csv: cannot be read ({exc}); no per-city figures for the plans")
    elif cd.plans:
        cd.problems.append("cities.csv: missing; no per-city figures for the plans")
    f = root / "cost_of_delay.csv"
    if f.is_file():
        try:
            cd.delay = [{"plan": r.get("plan", ""), "varied": r.get("varied", ""), "time_h": _float(r.get("time_h")),
                         "p5": _float(r.get("fatalities_p5")), "median": _float(r.get("fatalities_median")),
                         "p95": _float(r.get("fatalities_p95"))} for r in _read_csv_rows(f)]
        except (OSError, ValueError) as exc:
            cd.problems.append(f"cost_of_delay.csv: cannot be read ({exc})")
    f = root / "exceedance_probability.nc"
    if f.is_file():
        try:
            with xr.open_dataset(f) as ds:
                da = ds["probability"].transpose("plan", "level", "lat", "lon")
                lat, lon = np.asarray(ds["lat"].values, float), np.asarray(ds["lon"].values, float)
                order = np.argsort(lon)
                for i, plan in enumerate(np.asarray(ds["plan"].values)):
                    for j, level in enumerate(np.asarray(ds["level"].values)):
                        grid = north_up(np.asarray(da.values[i, j], float)[:, order], lat)
                        cd.probability.setdefault(str(plan), {})[str(level)] = fraction_bytes(grid)
                cd.prob_grid = grid_box(lat, lon)
                if cd.members is None and "members" in ds.attrs:
                    cd.members = int(ds.attrs["members"])
        except Exception as exc:
            cd.problems.append(f"exceedance_probability.nc: cannot be read ({type(exc).__name__}: {exc})")
    for plan in cd.plans:
        d = _plan_dir(root, plan["name"])
        if d is not None:
            cd.plan_runs[plan["name"]] = load_run(d, plan["name"])
    return cd


def _plan_dir(root: Path, plan: str) -> Path | None:
    """A plan's own run-like folder, if the comparison wrote one (optional)."""
    for base in (root / "plans", root):
        for name in (plan, safe_name(plan)):
            if not name or name.startswith(".") or "/" in name or name in (".", ".."):
                continue
            d = base / name
            try:
                if d.is_dir() and not d.is_symlink() and d.resolve().is_relative_to(root.resolve()) \
                        and _has_run_files(d):
                    return d
            except OSError:
                continue
    return None


# --------------------------------------------------------------------------- shipped cities


_CITY_LOCK = threading.Lock()
_CITY_CACHE: dict[str, Any] = {}


def _city_table() -> list[dict[str, Any]]:
    with _CITY_LOCK:
        if "rows" not in _CITY_CACHE:
            from plumecast.receptors import load_cities

            c = load_cities(min_population=None)
            _CITY_CACHE["rows"] = [
                {"name": str(n), "country": str(k), "lat": float(la), "lon": float(lo), "population": float(p),
                 "key": fold(str(n))}
                for n, k, la, lo, p in zip(c.name, c.country, c.lat, c.lon, c.population, strict=True)]
        return list(_CITY_CACHE["rows"])


def _city_lookup() -> dict[str, dict[str, Any]]:
    """Folded name -> the most populous shipped city of that name."""
    with _CITY_LOCK:
        cached = _CITY_CACHE.get("lookup")
    if cached is not None:
        return dict(cached)
    out: dict[str, dict[str, Any]] = {}
    for row in _city_table():  # sorted by descending population
        out.setdefault(row["key"], row)
    with _CITY_LOCK:
        _CITY_CACHE["lookup"] = out
    return out


def search_cities(query: str, receptors: list[dict[str, Any]], limit: int = 12) -> list[dict[str, Any]]:
    """Cities whose name matches ``query`` (case/accent-insensitive): the view's
    receptors first, then the shipped GeoNames table (exact, prefix, substring;
    larger first)."""
    q = fold(query)
    if not q:
        return []
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def rank(key: str) -> int:
        return 0 if key == q else 1 if key.startswith(q) else 2 if q in key else 3

    recs = sorted((rank(fold(r["name"])), -_nan0(r.get("population")), r["id"]) for r in receptors)
    for rk, _, i in recs:
        if rk == 3 or len(out) >= limit:
            break
        r = receptors[i]
        out.append({"name": r["name"], "country": r.get("country", ""), "lat": r.get("lat"), "lon": r.get("lon"),
                    "population": r.get("population"), "receptor": i})
        seen.add((fold(r["name"]), str(r.get("country", ""))))
    table = [(rank(row["key"]), row) for row in _city_table()]
    for rk in (0, 1, 2):
        for r_k, row in table:
            if len(out) >= limit:
                break
            if r_k == rk and (row["key"], row["country"]) not in seen:
                seen.add((row["key"], row["country"]))
                out.append({k: row[k] for k in ("name", "country", "lat", "lon", "population")} | {"receptor": None})
    return clean(out)  # type: ignore[no-any-return]


def _nan0(x: Any) -> float:
    v = _float(x)
    return 0.0 if math.isnan(v) else v


def city_position(name: str) -> dict[str, Any] | None:
    return _city_lookup().get(fold(name))


# --------------------------------------------------------------------------- the folder


class Folder:
    """A result folder, re-read when its files change; thread-safe."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._checked = 0.0

    def signature(self) -> tuple[Any, ...]:
        names = list(RUN_FILES) + list(COMPARE_FILES)
        sig: list[Any] = []
        for base in self._run_dirs():
            for n in names:
                try:
                    st = (base / n).stat()
                    sig.append((str(base), n, st.st_size, st.st_mtime_ns))
                except OSError:
                    continue
        return tuple(sig)

    def _run_dirs(self) -> list[Path]:
        out = [self.root]
        try:
            for base in (self.root, self.root / "plans"):
                if base.is_dir():
                    out += sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")
                                  and not d.is_symlink())
        except OSError:
            pass
        return out

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        snap = self._snap
        if snap is not None and now - self._checked < RESTAT_S:
            return snap
        with self._lock:
            if self._snap is not None and time.monotonic() - self._checked < RESTAT_S:
                return self._snap
            sig = self.signature()
            if self._snap is None or self._snap.signature != sig:
                self._snap = self._load(sig)
            self._checked = time.monotonic()
            return self._snap

    def _load(self, sig: tuple[Any, ...]) -> Snapshot:
        problems: list[str] = []
        if not self.root.is_dir():
            problems.append(f"{self.root}: is not a folder (moved or deleted?)")
            return Snapshot(self.root, sig, None, None, problems, time.time())
        run = load_run(self.root, "this run") if _has_run_files(self.root) else None
        try:
            compare = load_compare(self.root)
        except OSError as exc:
            compare = None
            problems.append(f"comparison files cannot be read ({exc})")
        if run is None and compare is None:
            problems.append(
                f"{self.root}: holds no plumecast results yet: expected the files of 'plumecast run'/'demo' "
                "(concentration.nc, consequences.nc, receptors.csv) or of 'plumecast compare' "
                "(decision_table.csv, cities.csv, exceedance_probability.nc)")
        snap = Snapshot(self.root, sig, run, compare, problems, time.time())
        if run is not None:
            snap.views["run"] = run
        if compare is not None:
            for k, plan in enumerate(compare.plans):
                snap.views[f"plan{k}"] = compare.plan_runs.get(plan["name"])
        return snap
