"""The comparison's output files, from its :class:`~plumecast.ensemble.summary.Summary`.

:func:`write_outputs` writes them all, atomically: ``decision_table.csv``, ``.md``
(:func:`markdown`) and ``.html`` (:func:`html_page`), ``cities.csv``, ``members.csv``,
``cost_of_delay.csv``, ``exceedance_probability.nc`` (:func:`write_probability`) and
``comparison.json`` (:func:`comparison_record`), with the PNGs of
:mod:`plumecast.ensemble.summary_views`. The CSV files hold plain numbers, rounded by
:func:`plumecast.ensemble.summary.file_rows`, empty for unknown.
"""

from __future__ import annotations

import csv
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from plumecast.ensemble.summary import (
    Summary,
    _notes,
    city_display,
    decision_display,
    decision_rows,
    file_rows,
    member_rows,
)
from plumecast.ensemble.summary_text import probit_sets, releases_begin_h
from plumecast.fileio import atomic_path, write_bytes_atomic


def _step_s(s: Summary) -> float:
    """The model's time resolution: the transport step (the exposure series' step)."""
    sc = s.raw.setup.scenario
    return 60.0 if sc is None else float(sc.time_step_s)  # no scenario (tests): to the minute


def _cell(v: Any) -> str:
    """A CSV cell: a plain number (``repr`` of a Python float, after :func:`file_rows`),
    empty for NaN/None."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    return str(v)


def _csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = list(rows[0])
    w.writerow(cols)
    for r in rows:
        w.writerow([_cell(r[c]) for c in cols])
    return buf.getvalue()


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def markdown(s: Summary, cities: list[str] | None = None) -> str:
    """decision_table.md: the decision table, then one cities table per plan."""

    def table(h: list[str], b: list[list[str]]) -> str:
        lines = ["| " + " | ".join(h) + " |", "|" + "|".join("---" if i == 0 else "--:" for i in range(len(h))) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in b]
        return "\n".join(lines)

    sc = s.raw.setup.scenario
    name = "comparison" if sc is None else sc.name
    out = [f"# {name}: which plan saves the most people", "", " ".join(_notes(s)), "",
           table(*decision_display(s)), ""]
    for p in s.plans:
        out += [f"## Cities: {p}", "", table(*city_display(s, p, cities)), ""]
    return "\n".join(out)


_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right;vertical-align:top}"
        "td:first-child,th:first-child{text-align:left}th{background:#eee}"
        "tr:nth-child(even) td{background:#f8f8f8}p.note{font-size:.9em;color:#444}")


def html_page(s: Summary, cities: list[str] | None = None) -> str:
    """decision_table.html: a self-contained page (inline CSS, no scripts)."""

    def table(h: list[str], b: list[list[str]]) -> str:
        th = "".join(f"<th>{html.escape(c)}</th>" for c in h)
        trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in b)
        return f"<table><thead><tr>{th}</tr></thead><tbody>\n{trs}</tbody></table>\n"

    sc = s.raw.setup.scenario
    name = html.escape("comparison" if sc is None else sc.name)
    notes = "".join(f"<p class=note>{html.escape(t)}</p>" for t in _notes(s))
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{name}: plans</title>"
             f"<style>{_CSS}</style></head><body>\n<h1>{name}: which plan saves the most people</h1>\n{notes}\n",
             table(*decision_display(s))]
    for p in s.plans:
        parts.append(f"<h2>Cities: {html.escape(p)}</h2>\n" + table(*city_display(s, p, cities)))
    parts.append("</body></html>\n")
    return "".join(parts)


# --------------------------------------------------------------------------- files


#: The comparison's times for programs (the dashboard): release start and issue time.
RECORD_FILE = "comparison.json"
RECORD_FORMAT = "plumecast-comparison/1"


def _iso_z(t: np.datetime64 | None) -> str | None:
    """A datetime64 as UTC ISO 8601 with ``Z``, to the second; None for None/NaT."""
    if t is None or np.isnat(t):
        return None
    return str(np.asarray(t).astype("datetime64[s]")) + "Z"


def comparison_record(s: Summary) -> dict[str, Any]:
    """What ``comparison.json`` holds: the release start and the forecast's issue time
    (UTC, ISO 8601 with ``Z``; null when the comparison has no scenario), the run's
    length, the members and the plans. The hours of ``cities.csv`` and
    ``cost_of_delay.csv`` count from ``release_start``; countdowns run from ``issued_at``
    (the scenario's ``issued_at``, default its start); ``ranking``: decision_table.md's sentence on the plan
    with the fewest expected deaths against the next (None with fewer than two plans); ``probit_sets``: the
    agent's probit sets whose range the intervals of people cover besides the members ([]: one set);
    ``timed_before_issue``: the plans with a measure timed before the issue time, and
    ``timed_before_issue_note`` decision_table.md's sentence on them (null where none), so that a reader of this
    file alone is not offered one as an option; ``releases_begin_h``: the hours after ``release_start`` at which
    the first release begins (0: then); ``measure_times_h``: each plan's own termination / front ignition time,
    hours after ``release_start`` (the star of cost_of_delay.png)."""
    from plumecast.ensemble.plan_checks import (
        own_measure_times,
        past_measures_note,
        plans_timed_before_issue,
    )

    sc = s.raw.setup.scenario
    plans = s.raw.setup.plans
    return {
        "format": RECORD_FORMAT,
        "scenario": None if sc is None else sc.name,
        "release_start": None if sc is None else _iso_z(sc.start64),
        "issued_at": None if sc is None else _iso_z(sc.issued64),
        "duration_h": None if sc is None else float(sc.run_hours),
        "time_step_s": _step_s(s),
        "members": s.n_members,
        "plans": list(s.plans),
        "baseline": s.plans[0] if s.plans else None,
        # decision_table.md's first line (the page had listed the plans in file order without it, two of them
        # reading "2,300": situation-room audit, session 40)
        "ranking": _ranking(s),
        # the agent's probit sets the ranges of people span besides the members (none: one set)
        "probit_sets": probit_sets(s),
        # the console and decision_table.md say it beside the ranking; the page had shown the ranking alone,
        # a plan timed before the issue winning it as an option (situation-room audit 42)
        "timed_before_issue": [] if sc is None else plans_timed_before_issue(sc, plans),
        "timed_before_issue_note": None if sc is None else past_measures_note(sc, plans),
        "releases_begin_h": None if sc is None else releases_begin_h(sc),
        "measure_times_h": own_measure_times(plans),
    }


def _ranking(s: Summary) -> str | None:
    from plumecast.ensemble.summary import ranking_text

    return ranking_text(s)


def write_record(s: Summary, path: Path) -> Path:
    """Write ``comparison.json`` (:func:`comparison_record`) atomically."""
    import json

    return write_bytes_atomic(path, (json.dumps(comparison_record(s), indent=1) + "\n").encode("utf-8"))


def write_outputs(s: Summary, outdir: str | Path, *, cities: list[str] | None = None, pngs: bool = True) -> list[Path]:
    """decision_table.csv/.md/.html, cities.csv, members.csv, cost_of_delay.csv/.png,
    exceedance_probability.nc, one PNG map per plan and level, and comparison.json (the
    release start and the issue time, for programs such as the dashboard)."""
    from plumecast.ensemble.summary_views import plot_delay, plot_maps

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = [
        write_record(s, outdir / RECORD_FILE),
        _write_text(outdir / "decision_table.csv", _csv(file_rows(decision_rows(s)))),
        _write_text(outdir / "decision_table.md", markdown(s, cities)),
        _write_text(outdir / "decision_table.html", html_page(s, cities)),
        _write_text(outdir / "cities.csv", _csv(file_rows(s.per_city))),
        _write_text(outdir / "members.csv", _csv(file_rows(member_rows(s)))),
    ]
    written.append(write_member_values(s, outdir / MEMBER_VALUES_FILE))
    if s.delay_rows:
        written.append(_write_text(outdir / "cost_of_delay.csv", _csv(file_rows(s.delay_rows))))
        if pngs:
            written.append(plot_delay(s, outdir / "cost_of_delay.png"))
    if s.probability is not None:
        written.append(write_probability(s.probability, outdir / "exceedance_probability.nc"))
        if pngs:
            written += plot_maps(s, outdir)
    return written


#: the comparison's full values, member by member (the tables and CSV files keep two significant figures)
MEMBER_VALUES_FILE = "member_values.nc"

#: PlanOutcome fields written to :data:`MEMBER_VALUES_FILE`: (name in the file, field, scale, units, long name)
_MEMBER_FIELDS = (
    ("fatalities", "fatalities", 1.0, "1", "expected fatalities at the receptor (NaN: unknown)"),
    ("aegl2_arrival_h", "arrival2_s", 1 / 3600.0, "h", "first time AEGL-2 is reached, hours after the release start "
     "(NaN: never or unknown)"),
    ("aegl3_arrival_h", "arrival3_s", 1 / 3600.0, "h", "first time AEGL-3 is reached, hours after the release start "
     "(NaN: never or unknown)"),
    ("reaches_aegl2", "exceed2", 1.0, "1", "1: AEGL-2 reached at the receptor, 0: not, NaN: unknown"),
    ("reaches_aegl3", "exceed3", 1.0, "1", "1: AEGL-3 reached at the receptor, 0: not, NaN: unknown"),
    ("front_arrival_h", "front_arrival_s", 1 / 3600.0, "h", "the neutralisation front's arrival, hours after the "
     "release start (NaN: no front, or it never arrives)"),
)


def write_member_values(s: Summary, path: Path) -> Path:
    """Every member's and plan's figures at full precision, as netCDF (CF-1.8), atomically: the tables and
    CSV files round people to two significant figures, so lives saved could not be recomputed from any
    file (planner audit, session 39; the project's rule: files keep full values). Dimensions member, plan,
    receptor; each member's total over the receptors with known deaths, and its seed."""
    import datetime

    raw = s.raw
    plans = list(s.plans)
    data: dict[str, Any] = {}
    for name, field, scale, units, long_name in _MEMBER_FIELDS:
        arr = np.stack([np.stack([np.asarray(getattr(m.outcomes[p], field), dtype=float) for p in plans])
                        for m in raw.members]) * scale
        data[name] = (("member", "plan", "receptor"), arr, {"units": units, "long_name": long_name})
    totals = np.array([[float(s.totals[p][k]) for p in plans] for k in range(len(raw.members))])
    data["fatalities_total"] = (("member", "plan"), totals, {
        "units": "1", "long_name": "expected fatalities over the receptors whose deaths are known"})
    sets = {p: s.sets_of(p) for p in plans}
    coords: dict[str, Any] = {}
    if all(v is not None for v in sets.values()):  # each probit set's, where the deaths range over them
        names = probit_sets(s)
        per_set = np.stack([np.asarray(sets[p], dtype=float) for p in plans], axis=1)  # (member, plan, set)
        if len(names) == per_set.shape[2]:
            data["fatalities_total_by_probit_set"] = (("member", "plan", "probit_set"), per_set, {
                "units": "1", "long_name": "expected fatalities over the receptors whose deaths are known, under "
                "each of the agent's published probit sets (fatalities_total: the first's)"})
            coords["probit_set"] = ("probit_set", np.array(names), {"long_name": "the agent's published probit sets"})
    data["seed"] = (("member",), np.array([str(int(spec.seed)) for spec in raw.specs]),
                    {"long_name": "the member's random seed (as text: a 64-bit value)"})
    ds = xr.Dataset(data, coords={
        "member": ("member", np.arange(len(raw.members), dtype=np.int32), {"long_name": "ensemble member"}),
        "plan": ("plan", np.array(plans), {"long_name": "response plan (the first: the baseline)"}),
        "receptor": ("receptor", np.array([str(n) for n in s.receptor_names]), {"long_name": "receptor name"}),
        **coords,
    })
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    ds.attrs.update({"Conventions": "CF-1.8", "title": "plumecast compare: every member's figures, full values",
                     "history": f"{now} plumecast compare", "baseline": plans[0]})
    for name in ("member", "plan", "receptor", "seed", *coords):
        ds[name].encoding["_FillValue"] = None
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4")
    return path


def write_probability(prob: xr.Dataset, path: Path) -> Path:
    """Write the exceedance probabilities as CF-1.8 netCDF, atomically: plan and level
    as described string coordinates, no 64-bit integer attributes, ``history`` set."""
    import datetime

    ds = prob.copy()
    ds["plan"].attrs.setdefault("long_name", "response plan (baseline: do nothing)")
    ds["level"].attrs.setdefault("long_name", "level of concern")
    for name in ("lat", "lon", "plan", "level"):
        ds[name].encoding["_FillValue"] = None
    for k, a in list(ds.attrs.items()):
        if isinstance(a, (int, np.integer)) and not isinstance(a, bool):
            ds.attrs[k] = np.int32(a)
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    ds.attrs["Conventions"] = "CF-1.8"
    ds.attrs.setdefault("history", f"{now} plumecast compare: exceedance probabilities written")
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4")
    return path
