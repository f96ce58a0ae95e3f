"""What the dashboard's JSON endpoints return, built from a :class:`~plumecast.web.loader.Snapshot`.

A *view* is what the map and the monitors show: ``run`` (the folder's own run) or
``plan<k>`` (plan ``k`` of a comparison: its own run folder when the comparison
wrote one, else its per-city table and probability maps). Full values travel in
the JSON; the page rounds them for people with the rules of
:mod:`plumecast.numbers` (``static/numbers.js``).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.web.aegl import AEGL_LEVELS, aegl_curves, aegl_tables_kg_m3
from plumecast.web.cities import city_position
from plumecast.web.compare_folder import CompareData, table_seconds
from plumecast.web.encode import clean, compact, fold, iso_utc, parse_float
from plumecast.web.loader import FolderProblem, Snapshot
from plumecast.web.run_folder import RunData

#: Result files linked from the page (the server's /files/ route serves the same suffixes).
RESULT_SUFFIXES = (".png", ".gif", ".csv", ".nc", ".md", ".html", ".json", ".txt", ".mp4")
#: Hours shown on the slider of a plan view that has no run of its own and no times.
DEFAULT_HOURS = 72


def summary(snap: Snapshot, live: dict[str, Any] | None) -> dict[str, Any]:
    """The folder at a glance: views, plans, cost of delay, problems, live state."""
    views = []
    if snap.run is not None:
        views.append({"id": "run", "label": "forecast (this run)", "has_map": snap.run.frames is not None})
    plans = []
    delay: list[dict[str, Any]] = []
    members = None
    if snap.compare is not None:
        cd = snap.compare
        members = cd.members
        delay = cd.delay
        for k, p in enumerate(cd.plans):
            run = cd.plan_runs.get(p["name"])
            views.append({"id": f"plan{k}", "label": p["name"], "has_map": bool(run is not None and run.frames is not None)})
            plans.append(p | {"view": f"plan{k}", "has_run": run is not None})
    problems = list(snap.problems)
    if snap.run is not None:
        problems += snap.run.problems
    if snap.compare is not None:
        problems += snap.compare.problems
        for name, rd in snap.compare.plan_runs.items():
            problems += [f"plan {name!r}: {p}" for p in rd.problems]
    title = "plumecast"
    meta = snap.run.meta if snap.run is not None else None
    if meta and isinstance(meta.get("scenario"), dict) and isinstance(meta["scenario"].get("name"), str) \
            and meta["scenario"]["name"].strip():
        title = meta["scenario"]["name"].strip()
    elif snap.compare is not None and snap.compare.scenario:
        title = snap.compare.scenario  # comparison.json's scenario name
    return clean({
        "title": title, "folder": snap.root.name, "files": result_files(snap.root), "usable": snap.usable,
        "views": views, "plans": plans,
        "members": members, "delay": delay, "problems": problems, "live": live,
        "ranking": snap.compare.ranking if snap.compare is not None else None,
        "probit_sets": snap.compare.probit_sets if snap.compare is not None else [],
        # decision_table.md's sentence on the plans timed before the issue (each such plan has before_issue)
        "timed_before_issue_note": snap.compare.past_note if snap.compare is not None else None,
        # what the cost of delay's hours count from: the release start, the issue time, the releases' own start
        "delay_axis": _delay_axis(snap.compare) if snap.compare is not None else None,
        "signature": _sig_hash(snap), "loaded_at": snap.loaded_at,
    })


def _delay_axis(cd: CompareData) -> dict[str, Any]:
    """The origin of the cost of delay's hours (``comparison.json``'s release start, UTC ISO 8601 with ``Z``),
    the issue time in hours after it and the hours at which the first release begins (None: not recorded)."""
    issued = cd.issued_s
    return {"start": iso_utc(cd.start), "issued_h": None if issued is None else issued / 3600.0,
            "releases_begin_h": cd.releases_begin_h}


def result_files(root: Path) -> list[str]:
    """The result files the footer links to: plain names in ``root`` with a served suffix
    that resolve (following links) to a file inside ``root``; a link that leads out of the
    folder is not listed (the server refuses it)."""
    try:
        base = root.resolve()
        out = []
        for p in root.iterdir():
            if p.name.startswith(".") or p.suffix not in RESULT_SUFFIXES:
                continue
            try:
                real = p.resolve(strict=True)
            except (OSError, RuntimeError):
                continue
            if real.is_relative_to(base) and real.is_file():
                out.append(p.name)
        return sorted(out)
    except OSError:
        return []


def _sig_hash(snap: Snapshot) -> str:
    return format(abs(hash(snap.signature)) % (1 << 48), "x")


def get_view(snap: Snapshot, vid: str) -> RunData | None:
    if vid not in snap.views:
        raise FolderProblem(f"no view {vid!r} in this folder (it has {sorted(snap.views) or 'none'})")
    return snap.views[vid]


def _plan_of(snap: Snapshot, vid: str) -> dict[str, Any] | None:
    if not vid.startswith("plan") or snap.compare is None:
        return None
    k = int(vid[4:])
    return snap.compare.plans[k] | {"view": vid}


def view_json(snap: Snapshot, vid: str) -> dict[str, Any]:
    """Everything the map and monitors need for one view (except the map frames)."""
    rd = get_view(snap, vid)
    plan = _plan_of(snap, vid)
    out: dict[str, Any] = {"id": vid, "kind": "plan" if plan else "run", "plan": plan,
                           "label": plan["name"] if plan else "forecast"}
    if rd is not None:
        out |= _run_part(rd)
    else:
        out |= _table_part(snap, plan)
    if plan is not None and snap.compare is not None:
        _merge_city_rows(out["receptors"], snap.compare.cities.get(plan["name"], []), table_only=rd is None)
        out["totals"] = (out.get("totals") or {}) | {
            "plan_fatalities": plan["fatalities"], "plan_lives_saved": plan["lives_saved"],
            "plan_saved_unknown": plan.get("saved_unknown"),
            "members": snap.compare.members}
        if rd is None:  # from the table: the receptors of unknown deaths (the most in a member), as it says
            out["totals"]["receptors_unknown"] = plan.get("receptors_unknown")
        probs = snap.compare.probability.get(plan["name"], {})
        out["layers"]["probability"] = sorted(probs)
        if probs and snap.compare.prob_grid is not None:
            out["prob_grid"] = snap.compare.prob_grid
    return clean(out)


def _run_part(rd: RunData) -> dict[str, Any]:
    frames_n = 0 if rd.frames is None else int(rd.frames.shape[0])
    agent = None
    aegl = None
    if rd.agent is not None:
        agent = {"name": rd.agent.name, "check": rd.agent.aegl_check, "note": rd.agent.aegl_note}
        tabs = aegl_tables_kg_m3(rd.agent)
        aegl = {str(lv): (None if t is None else {"10min": t[0], "60min": t[2], "8h": t[4]}) for lv, t in tabs.items()}
    elif rd.agent_name:
        agent = {"name": rd.agent_name, "check": "unknown", "note": ""}
    scen = (rd.meta or {}).get("scenario")
    name = scen.get("name") if isinstance(scen, dict) else None
    return {
        "label": rd.label if rd.label != "this run" else (name if isinstance(name, str) and name else "forecast"),
        "start": iso_utc(rd.start), "issued_s": rd.issued_s, "issued_unknown": rd.issued_unknown,
        "times_s": [] if rd.frame_s is None else list(rd.frame_s),
        "interval_s": rd.interval_s, "n_frames": frames_n, "grid": rd.grid,
        "scale": None if rd.scale is None else {"vmin": rd.scale[0], "vmax": rd.scale[1], "units": "kg m-3"},
        # the map's own highest value (the scale's top may be raised above it): the page says when cities reach a
        # level no cell of the map ever does (audit 42, #14)
        "field_max": rd.field_max,
        "agent": agent, "aegl": aegl, "receptors": rd.receptors,
        "pct3": None if rd.pct3_frames is None else compact(rd.pct3_frames),
        "layers": {"concentration": frames_n > 0, "front": rd.front_h is not None, "probability": []},
        "front_grid": rd.front_grid, "totals": rd.totals, "problems": rd.problems,
        "has_series": rd.conc is not None,
    }


def _named(receptors: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Receptors by folded name (several where they share it)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in receptors:
        out.setdefault(fold(str(r.get("name", ""))), []).append(r)
    return out


def _matching(named: dict[str, list[dict[str, Any]]], name: str, lat: float, lon: float) -> dict[str, Any] | None:
    """The receptor called ``name`` at (lat, lon): the nearest of that name within 0.01 degrees
    where both sides have positions, else the only one of that name (none when several: an
    older folder's ``cities.csv`` without positions cannot tell them apart)."""
    cands = named.get(fold(name), [])
    placed = [(parse_float(r.get("lat")), parse_float(r.get("lon")), r) for r in cands]
    placed = [(a, b, r) for a, b, r in placed if math.isfinite(a) and math.isfinite(b)]
    if not (math.isfinite(lat) and math.isfinite(lon) and placed):
        return cands[0] if len(cands) == 1 else None
    best, dist = None, 0.01
    for a, b, r in placed:
        d = max(abs(a - lat), abs(b - lon))
        if d <= dist:
            best, dist = r, d
    return best


def _table_part(snap: Snapshot, plan: dict[str, Any] | None) -> dict[str, Any]:
    """A plan without a run of its own: its per-city table, positioned by the rows' lat/lon
    (``cities.csv`` since it has them: two receptors may share a name), else by name."""
    assert plan is not None and snap.compare is not None
    rows = snap.compare.cities.get(plan["name"], [])
    base = snap.run
    named = _named(base.receptors if base is not None else [])
    receptors = []
    for i, row in enumerate(rows):
        name = row.get("city", "")
        lat, lon = parse_float(row.get("lat")), parse_float(row.get("lon"))
        hit = _matching(named, name, lat, lon)
        pos: dict[str, Any] | None
        source: str | None
        if math.isfinite(lat) and math.isfinite(lon):
            # the comparison's own receptor (cities.csv gives its place and people; an empty
            # population cell is unknown, never 0)
            pos = hit or {"lat": lat, "lon": lon, "country": row.get("country", ""),
                          "population": parse_float(row.get("population"))}
            source = "run" if hit else "comparison"
        else:  # a folder written before cities.csv had positions
            pos = hit or city_position(name)
            source = "run" if hit else ("shipped cities table" if pos else None)
        receptors.append({
            "id": i, "name": name, "country": (pos or {}).get("country", ""),
            "lat": (pos or {}).get("lat"), "lon": (pos or {}).get("lon"),
            "population": (pos or {}).get("population", math.nan) if pos else math.nan,
            "position_from": source,
            "known": True, "first": {"1": None}, "aegl_available": {"1": False, "2": True, "3": True},
        })
    hours = [h for r in rows
             for h in (parse_float(r.get("aegl2_arrival_h_max")), parse_float(r.get("aegl3_arrival_h_max")))
             if math.isfinite(h)]
    hours += [d["time_h"] for d in snap.compare.delay if math.isfinite(d["time_h"])]
    cd = snap.compare
    # the comparison's own times (comparison.json); an older folder has none: the folder's run's start, if any
    start = cd.start
    interval = 3600.0
    if base is not None and base.frame_s is not None and base.frame_s.size and (start is None or start == base.start):
        times = list(base.frame_s)
        start = base.start
        interval = base.interval_s or interval
    else:
        length = int(math.ceil(cd.duration_h)) if cd.duration_h is not None else DEFAULT_HOURS
        top = max([length] + [int(math.ceil(h)) for h in hours])
        times = [3600.0 * h for h in range(0, top + 1)]
    # countdowns run from the issue time (never from the release start when the forecast is issued
    # later: that would err late); without it, from the release start, and the page says why
    issued_s = cd.issued_s
    return {"start": iso_utc(start), "issued_s": 0.0 if issued_s is None else issued_s,
            "issued_unknown": cd.issued_unknown if issued_s is None else None,
            "times_s": times, "interval_s": interval, "n_frames": 0,
            "grid": None, "scale": None, "agent": None, "aegl": None, "receptors": receptors, "pct3": None,
            "layers": {"concentration": False, "front": False, "probability": []}, "totals": {},
            "problems": [], "has_series": False}


def _merge_city_rows(receptors: list[dict[str, Any]], rows: list[dict[str, str]], *, table_only: bool) -> None:
    """Add a plan's ensemble figures (cities.csv) to the receptors of a view, by name and,
    where the rows have them, position (two receptors may share a name).

    The table's hours are rounded down to 0.01 h, the time ``decision_table.md`` counts from
    (:func:`~plumecast.web.compare_folder.table_seconds`): the countdowns are the table's."""
    named = _named([{"name": r.get("city", ""), "lat": r.get("lat"), "lon": r.get("lon"), "row": r} for r in rows])
    for rec in receptors:
        hit = _matching(named, rec["name"], parse_float(rec.get("lat")), parse_float(rec.get("lon")))
        if hit is None:
            continue
        row = hit["row"]
        arr2 = table_seconds(parse_float(row.get("aegl2_arrival_h_min")))  # [s]
        arr3 = table_seconds(parse_float(row.get("aegl3_arrival_h_min")))
        rec["ensemble"] = {
            "p_aegl2": parse_float(row.get("p_aegl2")), "p_aegl3": parse_float(row.get("p_aegl3")),
            "members": parse_float(row.get("members")),
            "members_unknown": parse_float(row.get("members_unknown")),
            "members_unknown_aegl3": parse_float(row.get("members_unknown_aegl3")),
            "aegl2_arrival_h": [parse_float(row.get(f"aegl2_arrival_h_{k}")) for k in ("min", "median", "max")],
            "aegl3_arrival_h": [parse_float(row.get(f"aegl3_arrival_h_{k}")) for k in ("min", "median", "max")],
            "fatalities": [parse_float(row.get(f"fatalities_{k}")) for k in ("p5", "median", "p95")],
            "front_arrival_h": [parse_float(row.get(f"front_arrival_h_{k}")) for k in ("min", "median", "max")],
            "p_front_before_aegl3": parse_float(row.get("p_front_before_aegl3")),
        }
        off = parse_float(row.get("members_off_domain"))
        members = parse_float(row.get("members"))
        # no member knows the concentration there (off the met domain, missing data): unknown, never "not
        # reached". cities.csv counts such members since session 29; an older one has only the P columns,
        # which are unknown too where the agent's AEGL is missing for a duration reached (the air known)
        blind = (off >= members if math.isfinite(off) and math.isfinite(members)
                 else not (math.isfinite(rec["ensemble"]["p_aegl2"]) or math.isfinite(rec["ensemble"]["p_aegl3"])))
        if table_only and blind:
            rec["known"] = False
        if table_only:
            # the earliest member's arrival: countdowns err early (DESIGN.md, "Honest numbers")
            rec["first"] = dict(rec.get("first") or {}) | {
                "2": arr2 if math.isfinite(arr2) else None,
                "3": arr3 if math.isfinite(arr3) else None}
            # a level unknown in every member (the agent's AEGL missing for a duration reached there):
            # its countdown is unknown, not "not reached"
            rec["aegl_available"] = dict(rec.get("aegl_available") or {}) | {
                lv: math.isfinite(rec["ensemble"][f"p_aegl{lv}"]) for lv in ("2", "3")}
        # the front's too is the earliest member's, as decision_table.md gives it (until session 35 the
        # page counted down to the median member's: later than the table's, which is the earliest member's)
        front = table_seconds(rec["ensemble"]["front_arrival_h"][0])
        if math.isfinite(front):
            rec["front_s"] = front


# --------------------------------------------------------------------------- binary layers


def frame_bytes(snap: Snapshot, vid: str, k: int) -> bytes:
    rd = get_view(snap, vid)
    if rd is None or rd.frame_bytes is None:
        raise FolderProblem(f"view {vid!r} has no concentration map (concentration.nc missing or unreadable)")
    if not 0 <= k < rd.frame_bytes.shape[0]:
        raise FolderProblem(f"frame {k} does not exist: the view has frames 0 to {rd.frame_bytes.shape[0] - 1}")
    return bytes(np.ascontiguousarray(rd.frame_bytes[k]).data)


def layer_bytes(snap: Snapshot, vid: str, name: str) -> bytes:
    """``front``: float32 hours after start (NaN never); ``AEGL-2``/``AEGL-3``: probability bytes."""
    rd = get_view(snap, vid)
    if name == "front":
        if rd is None or rd.front_h is None:
            raise FolderProblem(f"view {vid!r} has no neutralisation front (no front_arrival.nc)")
        return bytes(np.ascontiguousarray(rd.front_h.astype("<f4")).data)
    plan = _plan_of(snap, vid)
    probs = snap.compare.probability.get(plan["name"], {}) if plan and snap.compare else {}
    if name not in probs:
        raise FolderProblem(f"view {vid!r} has no layer {name!r} (has {['front'] if rd and rd.front_h is not None else []}"
                            f" + {sorted(probs)})")
    return bytes(np.ascontiguousarray(probs[name]).data)


# --------------------------------------------------------------------------- series


def receptor_series(snap: Snapshot, vid: str, i: int) -> dict[str, Any]:
    """One receptor's per-step outdoor (and indoor) concentration with its AEGL-1/2/3 curves."""
    rd = get_view(snap, vid)
    if rd is None or rd.conc is None or rd.series_end_s is None:
        raise FolderProblem(f"view {vid!r} has no receptor time series (consequences.nc/receptors.csv missing)")
    if not 0 <= i < rd.conc.shape[1]:
        raise FolderProblem(f"receptor {i} does not exist: the view has receptors 0 to {rd.conc.shape[1] - 1}")
    return clean({
        "receptor": rd.receptors[i], "time_s": list(rd.series_end_s), "start": iso_utc(rd.start),
        "conc": compact(rd.conc[:, i]), "indoor": None if rd.indoor is None else compact(rd.indoor[:, i]),
        "aegl": {str(lv): compact(c[:, i]) for lv, c in rd.curves.items()},
        "source": "receptor exposure at every transport step (plumecast.exposure)",
    })


#: A point at most this far from a receptor of the view is that receptor [km] (a position
#: typed or rounded to about 0.01°; receptors closer to each other than this are rare).
RECEPTOR_MATCH_KM = 1.0


def receptor_at(receptors: list[dict[str, Any]], lat: float, lon: float,
                max_km: float = RECEPTOR_MATCH_KM) -> int | None:
    """The id of the receptor nearest to (``lat``, ``lon``) within ``max_km`` (great-circle
    distance, so -81.8° and 278.2° east are the same longitude), or None.

    >>> receptor_at([{"id": 0, "lat": 33.5635, "lon": -81.8087}], 33.5635, 278.1913)
    0
    >>> receptor_at([{"id": 0, "lat": 33.5635, "lon": -81.8087}], 33.60, -81.80) is None
    True
    """
    from plumecast.countermeasures.front import great_circle_m

    best, best_km = None, max_km
    for r in receptors:
        rlat, rlon = parse_float(r.get("lat")), parse_float(r.get("lon"))
        if not (math.isfinite(rlat) and math.isfinite(rlon)):
            continue  # a receptor without a position (receptors.csv name not in the cities table)
        km = float(great_circle_m(lat, lon, rlat, rlon)) / 1000.0
        if km <= best_km:
            best, best_km = int(r["id"]), km
    return best


def point_series(snap: Snapshot, vid: str, lat: float, lon: float, name: str = "") -> dict[str, Any]:
    """A point's series through time: a receptor's own series when the point lies within
    :data:`RECEPTOR_MATCH_KM` of a receptor of the view (with ``receptor.id``, so that the
    page opens its monitor); else the map's grid-cell value there (no consequence figures),
    the longitude taken to the grid's own range (-4.5 and 355.5 are one place); outside the
    domain, or without a map, ``known: false`` with the reason (:func:`unknown_point`)."""
    rd = get_view(snap, vid)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 360):
        raise FolderProblem(f"lat={lat}, lon={lon}: expected -90..90 and -180..360 degrees")
    hit = None if rd is None else receptor_at(rd.receptors, lat, lon)
    if rd is not None and hit is not None:
        rec = rd.receptors[hit]
        at = f"receptor {rec['name']!r} of this run (within {RECEPTOR_MATCH_KM:g} km of the point)"
        if rd.conc is not None and rd.series_end_s is not None:
            out = receptor_series(snap, vid, hit)
            return out | {"source": f"{at}: {out['source']}"}
    else:
        at = ""
    place = {"name": name or f"{lat:.2f}, {lon:.2f}", "lat": lat, "lon": lon, "population": None}
    if rd is None or rd.frames is None or rd.grid is None or rd.frame_s is None:
        return unknown_point(rd, place, f"view {vid!r} has no concentration map (concentration.nc missing or "
                                        "unreadable): the concentration there is unknown", outside=False)
    g = rd.grid
    # to the grid's own longitude range (a regional grid west of 0 takes 355.5 as -4.5)
    glon = ((lon - g["lon0"]) % 360.0) + g["lon0"]
    if not (g["lat0"] <= lat <= g["lat1"] and g["lon0"] <= glon <= g["lon1"]):
        return unknown_point(rd, place, f"{name or 'the point'} ({lat:.2f}, {lon:.2f}) lies outside the forecast "
                                        "domain: its concentration is unknown", outside=True)
    j = min(int((g["lat1"] - lat) / (g["lat1"] - g["lat0"]) * g["nlat"]), g["nlat"] - 1)
    i = min(int((glon - g["lon0"]) / (g["lon1"] - g["lon0"]) * g["nlon"]), g["nlon"] - 1)
    series = np.asarray(rd.frames[:, j, i], dtype=float)
    end = np.asarray(rd.frame_s, dtype=float)
    interval = rd.interval_s or 3600.0
    curves: dict[int, NDArray[np.float64]] = {}
    if rd.agent is not None:
        curves = aegl_curves(series[:, None], end, end - interval, rd.agent)
    cell = (f"mean over the {(g['lat1'] - g['lat0']) / g['nlat']:.3g}° output cell and the "
            f"{interval / 60:.3g}-min output interval: it understates the exposure in a city")
    if hit is not None:  # a receptor without per-step series: its figures are in its monitor
        receptor = rd.receptors[hit]
        source = f"{at}; no per-step series in the folder, so the {cell}"
    else:
        receptor = place
        source = f"{cell} (not a receptor of this run: no consequence figures)"
    return clean({
        "receptor": receptor, "known": True, "outside": False,
        "time_s": list(end), "start": iso_utc(rd.start), "conc": compact(series), "indoor": None,
        "aegl": {str(lv): compact(c[:, 0]) for lv, c in curves.items()},
        "source": source,
    })


def unknown_point(rd: RunData | None, place: dict[str, Any], why: str, *, outside: bool) -> dict[str, Any]:
    """The answer for a point whose concentration the view does not know (outside the
    forecast domain, or no map): 200 with ``known: false`` and the reason, no series. It is
    an answer about the place, not a failed request (the page shows "unknown")."""
    return clean({"receptor": place, "known": False, "outside": outside, "time_s": [],
                  "start": iso_utc(rd.start) if rd is not None else None, "conc": [], "indoor": None,
                  "aegl": {}, "source": why})


@lru_cache(maxsize=1)
def geo_paths() -> dict[str, str]:
    """Land and coastlines (Natural Earth 1:110m, shipped) as SVG path data in map
    units: x = lon + 180, y = 90 - lat (0..360 x 0..180)."""
    from plumecast.maps import load_coastlines, load_land

    def path(lines: list[tuple[NDArray[np.float64], NDArray[np.float64]]], close: bool) -> str:
        parts = []
        for lo, la in lines:
            x = np.round(np.asarray(lo) + 180.0, 2)
            y = np.round(90.0 - np.asarray(la), 2)
            pts = " ".join(f"{a:g} {b:g}" for a, b in zip(x, y, strict=True))
            parts.append(f"M{pts}{'Z' if close else ''}")
        return "".join(parts)

    return {"land": path(load_land(), True), "coast": path(load_coastlines(), False),
            "credit": "Made with Natural Earth (1:110m land and coastlines, public domain)"}


__all__ = ["AEGL_LEVELS", "RECEPTOR_MATCH_KM", "frame_bytes", "geo_paths", "get_view", "layer_bytes",
           "point_series", "receptor_at", "receptor_series", "summary", "view_json"]
