"""The comparison's tables (its output files: :mod:`plumecast.ensemble.summary_files`),
made from the statistics over members of :mod:`plumecast.ensemble.summary_stats`
(:class:`Summary`, :func:`summarise`, both importable from here).

Intervals are empirical 5-95 % quantiles over members, each a member's own value
rounded outward (:func:`plumecast.ensemble.summary_text.quantiles`: the lowest and
highest member below 21 members), spanning the agent's probit sets where it has
several; lives saved are paired by member and set, so the spread that both plans
share cancels.

With one member (no ``ensemble:``) there is no ensemble spread: no interval is given
(the 5 % and 95 % figures are NaN, empty in the files) but the probit sets' range, and
the tables say so instead of showing probabilities of 0 or 100 %.

The Markdown and HTML tables show two significant figures with their interval
(DESIGN.md, "Honest numbers"). The CSV files (:func:`file_rows`) are plain numbers, empty
for unknown, no more precise than the model: people to two significant figures, arrival
times rounded down to 0.01 h.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.ensemble.summary_stats import Summary as Summary
from plumecast.ensemble.summary_stats import summarise as summarise
from plumecast.ensemble.summary_text import (
    ARRIVAL_RESOLUTION_S,
    PEOPLE_THERE,
    SPREAD_MEMBERS,
    _share,
    _unread,
    _yes_no,
    arrival_text,
    countdown_text,
    deaths_spread,
    front_share,
    intervals_text,
    later_releases_text,
    probit_sets,
    quantiles,
    saved_cell,
    winds_and_probit_notes,
    with_interval,
)
from plumecast.numbers import (
    clock,
    floor_hours,
    lives_saved_range,
    people,
    round_sig,
)
from plumecast.plans.config import measure_kind


def _seeds(s: Summary) -> list[int]:
    return [int(spec.seed) for spec in s.raw.specs]


def _particles(s: Summary) -> int | None:
    sc = s.raw.setup.scenario
    return None if sc is None else int(sc.particles)


def decision_rows(s: Summary) -> list[dict[str, Any]]:
    """One row per plan (full values; :func:`file_rows` rounds them for the file), with how the ensemble was made (members,
    particles per member, scenario and member seeds) and which plan is the baseline."""
    sc = s.raw.setup.scenario
    seeds = ";".join(str(x) for x in _seeds(s))
    rows = []
    for p in s.plans:
        f, sv = s.fatalities_q(p), s.saved_q(p)
        changed = unknown_changes(s, p)
        rows.append({"plan": p, "baseline": p == s.plans[0], "members": s.n_members,
                     "particles_per_member": _particles(s),
                     "fatalities_p5": f[0], "fatalities_median": f[1], "fatalities_p95": f[2],
                     "lives_saved_p5": sv[0], "lives_saved_median": sv[1], "lives_saved_p95": sv[2],
                     "receptors_unknown_max": int(s.unknown[p].max()) if s.unknown[p].size else 0,
                     "receptors_saved_unknown_max": int(changed.max()) if changed.size else 0,
                     "scenario_seed": None if sc is None else int(sc.seed), "member_seeds": seeds})
    return rows


#: a lethal fraction this close to another's (relative) is the same: float noise of the tags' sums
SAME_FRACTION_RTOL = 1e-9
#: lethal fractions closer than this are the same where the population is unknown: no city's people
#: (fewer than 1e8) make so small a difference a thousandth of a death (:data:`TIE_DEATHS`); fractions of
#: 4.4e-53 against 1.2e-66 had marked a plan's lives saved "unknown at 1 receptor" (regression audit)
SAME_FRACTION_ATOL = 1e-11


def _changed_where_unknown(a: Any, b: Any) -> NDArray[np.bool_]:
    """Receptors whose deaths are unknown under plan outcome ``a`` or ``b`` (population or
    concentration unknown) where the two plans differ: the lethal fraction (known without
    the population) differs, or, where the concentration is unknown, a shelter or
    evacuation of either covers the receptor. Outcomes without lethal fractions (older
    or hand-made ones) compare their AEGL figures instead."""
    fa, fb = np.asarray(a.fatalities, dtype=float), np.asarray(b.fatalities, dtype=float)
    unknown = ~np.isfinite(fa) | ~np.isfinite(fb)
    if a.lethal_fraction is None or b.lethal_fraction is None:
        differ = np.zeros(fa.shape, bool)
        for attr in ("exceed2", "exceed3", "arrival2_s", "arrival3_s"):
            x, y = np.asarray(getattr(a, attr), dtype=float), np.asarray(getattr(b, attr), dtype=float)
            differ |= ~((x == y) | (np.isnan(x) & np.isnan(y)))
        return unknown & differ
    la, lb = np.asarray(a.lethal_fraction, dtype=float), np.asarray(b.lethal_fraction, dtype=float)
    both = np.isfinite(la) & np.isfinite(lb)
    with np.errstate(invalid="ignore"):
        differ = both & ~np.isclose(la, lb, rtol=SAME_FRACTION_RTOL, atol=SAME_FRACTION_ATOL)
    differ |= np.isfinite(la) != np.isfinite(lb)
    covered = np.zeros(fa.shape, bool)
    for o in (a, b):
        if o.covered is not None:
            covered |= np.asarray(o.covered, dtype=float) > 0
    differ |= ~np.isfinite(la) & ~np.isfinite(lb) & covered
    return unknown & differ


def unknown_changes(s: Summary, plan: str, other: str | None = None) -> NDArray[np.int64]:
    """Per member, the receptors where ``plan`` changes the exposure against ``other``
    (default: the baseline) while the deaths there are unknown (population unknown, or
    concentration unknown under a shelter or evacuation of either plan): its lives saved
    leave them out, and a known figure of 0 would read as "changes nothing" (DESIGN.md:
    unknown is never zero; audit 26: an evacuation of a town of unknown population read
    "0")."""
    other = s.plans[0] if other is None else other
    if plan == other:
        return np.zeros(s.n_members, dtype=np.int64)
    return np.array([int(np.count_nonzero(_changed_where_unknown(m.outcomes[plan], m.outcomes[other])))
                     for m in s.raw.members], dtype=np.int64)


def unknown_receptors(s: Summary, plan: str, other: str | None = None) -> list[int]:
    """The receptors of :func:`unknown_changes` in any member, in receptor order."""
    other = s.plans[0] if other is None else other
    if plan == other:
        return []
    hit = np.zeros(len(s.receptor_names), bool)
    for m in s.raw.members:
        hit |= _changed_where_unknown(m.outcomes[plan], m.outcomes[other])
    return [int(k) for k in np.flatnonzero(hit)]


def member_rows(s: Summary) -> list[dict[str, Any]]:
    """One row per member: its seed and perturbation, its runs and totals per plan (full values;
    :func:`file_rows` rounds them for the file): ``fatalities[plan]`` and ``lives_saved[plan]`` under the
    agent's first probit set, and where it has several, ``...[plan][set]`` under each of the others (they had
    been the first set's alone without saying so; review of session 41)."""
    out = []
    sets = probit_sets(s)
    for k, m in enumerate(s.raw.members):
        spec = s.raw.specs[k]
        row: dict[str, Any] = {"member": m.index, "seed": int(spec.seed), "spec": spec.describe(),
                               "runs": m.runs, "wall_s": m.wall_s, "cpu_user_s": m.cpu_s[0], "cpu_system_s": m.cpu_s[1]}
        for p in s.plans:
            row[f"fatalities[{p}]"] = s.totals[p][k]
            row[f"lives_saved[{p}]"] = s.saved[p][k]
            per_set, saved = s.sets_of(p), s.sets_of(p, s.plans[0])
            for j, name in enumerate(sets[1:], start=1):
                if per_set is not None and saved is not None:
                    row[f"fatalities[{p}][{name}]"] = per_set[k, j]
                    row[f"lives_saved[{p}][{name}]"] = saved[k, j]
        out.append(row)
    return out


#: columns of people (expected fatalities, lives saved): two significant figures in files
_PEOPLE_PREFIXES = ("fatalities", "lives_saved")
#: columns of times people act on (arrivals, the front's margin): rounded down in files
_TIME_MARKS = ("arrival_h", "margin_h")
#: columns of measured run times [s]
_SECONDS = ("wall_s", "cpu_user_s", "cpu_system_s")


def file_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a CSV file, no more precise than the model: people (``fatalities*``,
    ``lives_saved*``) to two significant figures (:func:`plumecast.numbers.round_sig`),
    arrival times and margins (``*arrival_h*``, ``*margin_h*``) rounded down to 0.01 h
    (:data:`ARRIVAL_RESOLUTION_S`, as run's ``consequences.csv``; the arrivals are the
    earliest the air can reach a level, no longer on the step grid: rounded down to the step
    they had been up to a step earlier than ``decision_table.md``), run times to 0.01 s; the
    rest as it is (fractions of members are exact). Unknown stays NaN (an empty cell), never 0."""
    out = []
    for r in rows:
        row = dict(r)
        for k, v in r.items():
            if isinstance(v, bool) or not isinstance(v, float | np.floating):
                continue
            v = float(v)
            if k.startswith(_PEOPLE_PREFIXES):
                row[k] = round_sig(v, 2)
            elif any(m in k for m in _TIME_MARKS):
                row[k] = floor_hours(v, ARRIVAL_RESOLUTION_S)
            elif k in _SECONDS and math.isfinite(v):
                row[k] = round(v, 2)
        out.append(row)
    return out


#: marks a city's expected fatalities under a plan in which no member reaches AEGL-3 there
NO_AEGL3_MARK = "†"
#: why people can die where AEGL-3 is not reached (as the single run's table says it:
#: plumecast.consequence_result.receptor_notes)
DEATHS_WITHOUT_AEGL3 = ("the toxic load adds up over the whole exposure, while AEGL-3 is read for the elapsed "
                        "duration (tabulated to 8 h), so a long exposure below AEGL-3 can still kill "
                        "(docs/consequence.md)")


def deaths_without_aegl3(row: dict[str, Any]) -> bool:
    """Whether a row of :attr:`Summary.per_city` has expected deaths (one or more: median or
    95 %) while AEGL-3 is reached there in no member whose concentration is known."""
    if math.isfinite(row["aegl3_arrival_h_min"]) or not math.isfinite(row["p_aegl3"]):
        return False
    top = [v for v in (row["fatalities_median"], row["fatalities_p95"]) if math.isfinite(v)]
    return bool(top) and max(top) >= 1.0


def _fatalities_cell(row: dict[str, Any]) -> str:
    """A city's expected fatalities, marked with :data:`NO_AEGL3_MARK` where they come
    without AEGL-3 being reached."""
    text = with_interval((row["fatalities_p5"], row["fatalities_median"], row["fatalities_p95"]))
    return f"{text} {NO_AEGL3_MARK}" if deaths_without_aegl3(row) else text


_CITY_HEAD = ["city", "P(AEGL-2)", "P(AEGL-3)", "AEGL-2 arrives, earliest–latest",
              "AEGL-3 countdown (earliest member)", "expected fatalities, median (5–95 %)"]
_FRONT_HEAD = ["front arrives (earliest member)", "P(front before AEGL-3)"]
# one member: whether that run reaches a level, never a probability; no intervals
_CITY_HEAD_ONE = ["city", "AEGL-2 reached (one member)", "AEGL-3 reached (one member)", "AEGL-2 arrives",
                  "AEGL-3 countdown"]
_FRONT_HEAD_ONE = ["front arrives", "front before AEGL-3 (one member)"]


def _fatalities_head(s: Summary) -> str:
    return f"expected fatalities ({deaths_spread(s)})" if s.single else "expected fatalities, median (5–95 %)"


def _clock_base(s: Summary) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    sc = s.raw.setup.scenario
    return (None, None) if sc is None else (sc.start64, sc.issued64)


def _plan_has_front(s: Summary, plan: str) -> bool:
    rows = [r for r in s.per_city if r["plan"] == plan]
    return any(math.isfinite(r["front_arrival_h_min"]) for r in rows) or any(
        measure_kind(m) == "front" for p in s.raw.setup.plans if p.name == plan for m in p.measures)


def decision_display(s: Summary) -> tuple[list[str], list[list[str]]]:
    """The decision table as people read it (two significant figures)."""
    saved = f"lives saved vs {s.plans[0]!r}, " + deaths_spread(s).replace(": no ensemble spread", "")
    head = ["plan", _fatalities_head(s), saved,
            "receptors with unknown figures" + ("" if s.single else " (most in a member)")]
    body = []
    for r in decision_rows(s):
        body.append([r["plan"] + (" (baseline)" if r["baseline"] else ""),
                     with_interval((r["fatalities_p5"], r["fatalities_median"], r["fatalities_p95"])),
                     "— (baseline)" if r["baseline"] else
                     saved_cell(r["lives_saved_median"], r["lives_saved_p5"], r["lives_saved_p95"],
                                r["receptors_saved_unknown_max"]),
                     str(r["receptors_unknown_max"])])
    return head, body


def city_display(s: Summary, plan: str, cities: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """The cities table of one plan as people read it, every receptor, in :func:`city_order`."""
    start, issued = _clock_base(s)
    front = _plan_has_front(s, plan)
    if s.single:
        head = [*_CITY_HEAD_ONE, _fatalities_head(s)] + (_FRONT_HEAD_ONE if front else [])
    else:
        head = _CITY_HEAD + (_FRONT_HEAD if front else [])
    body = []
    rows = s.rows_of(plan)
    for k in city_order(s):
        r = rows[k]
        if cities is not None and r["city"] not in cities:
            continue
        shares = (_yes_no(r["p_aegl2"]), _yes_no(r["p_aegl3"])) if s.single else (_share(r, 2), _share(r, 3))
        row = [s.label(k), *shares,
               _unread(r, 2, arrival_text(r["aegl2_arrival_h_min"], r["aegl2_arrival_h_max"], start, issued)),
               _unread(r, 3, countdown_text(r["aegl3_arrival_h_min"], start, issued)), _fatalities_cell(r)]
        if front:
            row += [countdown_text(r["front_arrival_h_min"], start, issued).replace("not reached", "never"),
                    (_yes_no(r["p_front_before_aegl3"]) if math.isfinite(r["p_front_before_aegl3"]) else "—")
                    if s.single else front_share(r)]
        body.append(row)
    return head, body


#: How :func:`city_order` ranks the receptors of the cities tables, as the tables say it
#: (the run's casualty table ranks alike: plumecast.report_tables.RANK_RULE).
CITY_RANK_RULE = ("ranked by the baseline: unknown deaths (population unknown) where AEGL-3 is reached first, "
                  "then expected deaths of one or more, then P(AEGL-3), then P(AEGL-2), unknown deaths before a "
                  "known '< 1'; unknown concentration last")

#: Rows of the console's cities table; the rest are in cities.csv and decision_table.md.
CONSOLE_CITIES = 20


def _finite_or(x: float, default: float) -> float:
    return float(x) if math.isfinite(x) else default


def city_order(s: Summary) -> list[int]:
    """Receptor indices in the order the cities tables list them (:data:`CITY_RANK_RULE`),
    from the baseline's figures; unknown is never ranked behind a known "< 1":

    0. deaths unknown (population unknown) where AEGL-3 is reached in some member:
       they may be many (by P(AEGL-3), then P(AEGL-2));
    1. expected deaths (median or 95 %) of one or more, most first (median, then 95 %);
    2. the other receptors whose deaths are unknown while their concentration is known;
    3. known deaths below one ("< 1" or 0, alike), by P(AEGL-3), P(AEGL-2), then the earliest AEGL-2 arrival;
    4. concentration unknown (off the model domain in every member).

    Ties keep the receptors' order. The console showed some 175 cities in population order,
    the one city with deaths at row 75 (audit).
    """
    rows = s.rows_of(s.plans[0])
    keys = []
    for k, r in enumerate(rows):
        p2, p3 = r["p_aegl2"], r["p_aegl3"]
        med, hi = r["fatalities_median"], r["fatalities_p95"]
        deaths = max(_finite_or(med, 0.0), _finite_or(hi, 0.0))
        probs = (-_finite_or(p3, -1.0), -_finite_or(p2, -1.0))
        if r["members_off_domain"] >= r["members"]:  # not P(AEGL) n/a: also so without AEGLs (phosgene, audit)
            keys.append((4, 0.0, 0.0, 0.0, k))
        elif not math.isfinite(med) and _finite_or(p3, 0.0) > 0:
            keys.append((0, *probs, 0.0, k))
        elif math.isfinite(med) and deaths >= 1.0:
            keys.append((1, -_finite_or(med, 0.0), -_finite_or(hi, 0.0), 0.0, k))
        elif not math.isfinite(med):
            keys.append((2, *probs, 0.0, k))
        else:
            keys.append((3, *probs, _finite_or(r["aegl2_arrival_h_min"], math.inf), k))
    return [int(key[-1]) for key in sorted(keys)]


def cities_by_plan_display(s: Summary, cities: list[str] | None = None,
                           top: int | None = None) -> tuple[list[str], list[list[str]]]:
    """A compact table for the console: cities as rows in :func:`city_order` (the first
    ``top`` of them; None: all), each plan's expected fatalities as a column, with the
    baseline's AEGL-2 arrival and AEGL-3 countdown, each with the share of the members
    that reach the level below it (``P 3 of 4``, the head naming ``P(AEGL-2)``; not with one
    member, whose times say it, nor where no member reaches it). Rows are taken by receptor, never by
    name: two receptors that share a name had each shown the other's figures (audit).
    (The countdowns had stood without P(AEGL-2/3), which only decision_table.md and
    cities.csv gave: "in 1 h 41 min" read as certain where half the members reach AEGL-3;
    cell audit.)"""
    start, issued = _clock_base(s)
    base = s.plans[0]
    p2, p3 = ("", "") if s.single else ("; P(AEGL-2)", "; P(AEGL-3)")
    head = ["city", f"AEGL-2 arrives{p2} ({base})", f"AEGL-3 countdown{p3} ({base})"] + list(s.plans)
    rows = {p: s.rows_of(p) for p in s.plans}
    body = []
    for k in _shown(s, cities, top):
        b = rows[base][k]
        body.append([s.label(k),
                     _unread(b, 2, arrival_text(b["aegl2_arrival_h_min"], b["aegl2_arrival_h_max"], start, issued))
                     + _p_beside(s, b, 2),
                     _unread(b, 3, countdown_text(b["aegl3_arrival_h_min"], start, issued)) + _p_beside(s, b, 3)]
                    + [_fatalities_cell(rows[p][k]) for p in s.plans])
    return head, body


def _p_beside(s: Summary, row: dict[str, Any], level: int) -> str:
    """``"\\nP 1 of 2"``: the share of the members reaching the level (the column's head names
    it; "2 of 3 known" where it is unknown in some, a percentage from 21 members on), for the line
    below its arrival or countdown in the console's cities table (short, so that a narrow column does
    not break it); "" with
    one member (no probability) and where no member reaches it (the cell says "not reached")."""
    p, arrival_h = row[f"p_aegl{level}"], row[f"aegl{level}_arrival_h_min"]
    if s.single or not math.isfinite(p) or not math.isfinite(arrival_h):
        return ""
    return f"\nP {_share(row, level)}"


def _shown(s: Summary, cities: list[str] | None, top: int | None) -> list[int]:
    """The receptors a cities table shows: those named in ``cities`` (None: all), in
    :func:`city_order`, the first ``top`` of them (None: all)."""
    order = [k for k in city_order(s) if cities is None or s.receptor_names[k] in cities]
    return order if top is None else order[:max(top, 0)]


def cities_left_out_text(s: Summary, cities: list[str] | None = None, top: int | None = CONSOLE_CITIES) -> str | None:
    """What the console's cities table leaves out: ``"Cities: the first 20 of 175 receptors
    (ranked ...); all of them in cities.csv and decision_table.md."``; None when it shows all."""
    every = _shown(s, cities, None)
    if top is None or len(every) <= top:
        return None
    return (f"Cities: the first {top:,} of {len(every):,} receptors ({CITY_RANK_RULE}); the other {len(every) - top:,} "
            "are in cities.csv and decision_table.md.")


def _missing_maps(s: Summary) -> dict[str, list[str]]:
    """Level -> the plans that have no map of it (no grid cell reaches it in any member)."""
    if s.probability is None:
        return {}
    peak = s.probability["probability"].max(dim=("lat", "lon"))
    out: dict[str, list[str]] = {}
    for lv in s.probability["level"].values:
        plans = [p for p in s.plans if float(peak.sel(plan=p, level=lv)) <= 0]
        if plans:
            out[str(lv)] = plans
    return out


def missing_maps_text(s: Summary) -> str | None:
    """Which maps are not written and why, naming the cities the tables still show reaching
    the level (a city's own disc and near-field plumes, which grid-cell means understate),
    and which cities that reach a level in the tables the maps written leave out
    (:func:`_maps_leaving_out`); None when there is nothing to say (or no maps were made)."""
    from plumecast.ensemble.plan_checks import aegl_durations_given

    parts = []
    for lv, plans in _missing_maps(s).items():
        key = "p_aegl3" if lv == "AEGL-3" else "p_aegl2"
        reach = list(dict.fromkeys(s.label(k) for p in s.plans if p in plans for k, r in enumerate(s.rows_of(p))
                                   if math.isfinite(r[key]) and r[key] > 0))
        names = ", ".join(reach[:3]) + (f" and {len(reach) - 3} more" if len(reach) > 3 else "")
        given = aegl_durations_given(s.raw.setup.scenario, int(lv[-1]))
        if given == "none":  # unknown everywhere, not never (outputs audit, session 35)
            parts.append(f"no {lv} map: the agent has no {lv}, so whether a cell reaches it is unknown, not never")
            continue
        text = (f"no {lv} map for {', '.join(repr(p) for p in plans)}: no grid cell's air "
                + ("is known to reach" if given == "some" else "reaches") + f" {lv} "
                + ("in that run" if s.single else "in any member"))
        if reach:
            text += (f", though the cities tables show {lv} reached in {names}: a city's figures come from its "
                     "own disc and the near-field plumes of nearby sources, which the grid-cell means over "
                     "the output interval understate")
        parts.append(text)
    for lv, plans, names, n, m in _maps_leaving_out(s):
        parts.append(f"the {lv} map{'s' if len(plans) > 1 else ''} of {', '.join(repr(p) for p in plans)} "
                     f"leave{'' if len(plans) > 1 else 's'} out {n} of the {m} cities the tables show reaching {lv} "
                     f"({names}): their grid cells' air does not reach it "
                     + ("in that run" if s.single else "in any member") + ", as the cell means over the output "
                     "interval understate a city's own disc and the near-field plumes")
    return ("Maps: " + "; ".join(parts) + ".") if parts else None


def _maps_leaving_out(s: Summary) -> list[tuple[str, list[str], str, int, int]]:
    """For each level and the plans that have its map: the cities the tables show reaching the level in some
    member whose grid cell reaches it in none, as (level, plans, their names, how many, of how many that reach
    it). The demo's AEGL-3 maps showed 37 cells while every one of its 21 cities reaches AEGL-3 in the tables,
    and the console said so only of plans without a map (first-hour audit, session 40, item B2)."""
    if s.probability is None:
        return []
    missing = _missing_maps(s)
    grid = s.probability["probability"]
    glat, glon = np.asarray(grid["lat"].values, float), np.asarray(grid["lon"].values, float)
    # half a cell, and a little more for rounding (one cell: any distance)
    half_lat = 0.5 * float(np.abs(np.diff(glat)).max()) * (1 + 1e-9) if glat.size > 1 else np.inf
    half_lon = 0.5 * float(np.abs(np.diff(glon)).max()) * (1 + 1e-9) if glon.size > 1 else np.inf
    found: dict[tuple[str, tuple[int, ...], int], list[str]] = {}
    for lv in (str(v) for v in grid["level"].values):
        key = "p_aegl3" if lv == "AEGL-3" else "p_aegl2"
        for p in s.plans:
            if p in missing.get(lv, []):
                continue
            cells = np.asarray(grid.sel(plan=p, level=lv).values, float)
            reach, out = [], []
            for k, r in enumerate(s.rows_of(p)):
                lat, lon = r.get("lat"), r.get("lon")
                if not (math.isfinite(r[key]) and r[key] > 0 and isinstance(lat, float) and isinstance(lon, float)
                        and math.isfinite(lat) and math.isfinite(lon)):
                    continue
                i = int(np.argmin(np.abs(glat - lat)))  # the cell whose centre is nearest: the one holding it
                dlon = np.abs((glon - lon + 180.0) % 360.0 - 180.0)
                j = int(np.argmin(dlon))
                if abs(glat[i] - lat) > half_lat or dlon[j] > half_lon:
                    continue  # beyond the map (a regional grid): not a city the map leaves out
                reach.append(k)
                if not cells[i, j] > 0:
                    out.append(k)
            if out:
                found.setdefault((lv, tuple(out), len(reach)), []).append(p)
    rows = []
    for (lv, left, m), plans in found.items():
        labels = [s.label(k) for k in left]
        names = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
        rows.append((lv, plans, names, len(left), m))
    return rows


def times_note(s: Summary) -> str | None:
    """What the cities tables' arrivals and countdowns count from (None without a scenario)."""
    start, issued = _clock_base(s)
    if start is None or issued is None:
        return None
    return (f"Times: UTC clock times, rounded down; 'in …' and 'passed … ago' count from the forecast's issue time "
            f"({clock(issued)}; release start {clock(start)}{later_releases_text(s.raw.setup.scenario)}), erring early.")


#: the share of the members in which the two differ (not a tie, :data:`TIE_DEATHS`) that must favour the plan
#: with the fewest deaths for the ranking to call it better (below it: the two cannot be told apart on this
#: ensemble)
CLEAR_SHARE = 0.8
#: a member in which two plans' expected deaths differ by less than this is a tie: a thousandth of an expected
#: death is below anything the tables show ('< 1') or anyone can act on, and a member in which nobody dies
#: under either plan (tolls of 1e-31 and 3e-35) had decided the verdict (audit 26)
TIE_DEATHS = 1e-3


def member_tally(d: NDArray[np.float64]) -> tuple[int, int, int]:
    """(members the first plan wins, ties, members it loses) from the paired differences
    ``d`` (the other plan's deaths − its own; NaN left out): a difference below
    :data:`TIE_DEATHS` in size is a tie.

    >>> member_tally(np.array([3.0, 1e-31, 11.0, -0.5, np.nan]))
    (2, 1, 1)
    """
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    tie = np.abs(d) < TIE_DEATHS
    return int(np.count_nonzero(~tie & (d > 0))), int(np.count_nonzero(tie)), int(np.count_nonzero(~tie & (d < 0)))


def _more_text(mid: float, lo: float, hi: float) -> str:
    """How many more lives one plan saves than another (:func:`lives_saved_range`, sign
    kept): ``"saves 10 (4–12) more"``, ``"saves 1 (costs 5 – saves 6) more"``, ``"costs 2
    (1–3) more"``."""
    text = lives_saved_range(mid, lo, hi)
    return f"{text} more" if text.startswith("costs ") else f"saves {text} more"


def _tally_text(wins: int, ties: int, losses: int, short: bool = False) -> str:
    """``"fewer deaths in 2 of 3 members, the same in 1"``, ``"the same deaths in all 3 members"``; ``short``
    leaves out "deaths" and "members" (a later probit set's tally: ``"fewer in 2 of 3, the same in 1"``).

    >>> _tally_text(0, 3, 0, short=True)
    'the same in all 3'
    """
    n = wins + ties + losses
    what, who = ("", "") if short else (" deaths", " members")
    if ties == n:
        return f"the same{what} in all {n}{who}"
    return f"fewer{what} in {wins} of {n}{who}" + (f", the same in {ties}" if ties else "")


def _sets_tally_text(tallies: list[tuple[int, int, int]], sets: list[str]) -> str:
    """Each probit set's :func:`_tally_text`, in the same form: ``"the same deaths in all 3 members under both
    sets"`` when the sets agree, else ``"fewer deaths in 3 of 3 members under 'purple_book'; the same in all 3
    under 'lees'"``. Until session 42 the later sets gave their wins alone (", 0 of 3 under 'lees'"), which after
    "the same deaths in all 3 members" read as a count of ties (audit 42c)."""
    if len(sets) > 1 and all(t == tallies[0] for t in tallies):
        return _tally_text(*tallies[0]) + (" under both sets" if len(sets) == 2 else f" under all {len(sets)} sets")
    return "; ".join(f"{_tally_text(*t, short=j > 0)} under {name!r}" for j, (t, name) in enumerate(zip(tallies, sets, strict=True)))


def ranking_text(s: Summary) -> str | None:
    """One sentence for the decision maker: the plan with the fewest expected deaths (median
    over the members), and, member by member, how it stands against the next one: how many
    more it saves (median, 5-95 %, sign kept: :func:`plumecast.numbers.lives_saved_range`)
    and in how many members it has fewer deaths, and in how many the same
    (:func:`member_tally`); when fewer than :data:`CLEAR_SHARE` of the members in which they
    differ favour it, the two cannot be told apart. Where the two differ at receptors whose
    deaths are unknown (:func:`unknown_changes`) it says so. None without two plans. The
    table's title asked which plan saves the most and nothing answered it, while two plans
    read the same to two figures (decision audit)."""
    if len(s.plans) < 2:
        return None
    known = [p for p in s.plans if np.isfinite(quantiles(s.totals[p])[1])]
    if len(known) < 2:
        return None
    order = sorted(known, key=lambda p: (quantiles(s.totals[p])[1], s.plans.index(p)))
    best, nxt = order[0], order[1]
    med = quantiles(s.totals[best])[1]
    changed = unknown_receptors(s, nxt, best)
    where_unknown = ""
    if changed:
        names = [s.label(k) for k in changed]
        some = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        where_unknown = (f"; the two also differ at {len(changed)} receptor{'s' if len(changed) > 1 else ''} whose "
                         f"deaths are unknown ({some}), which these figures leave out")
    paired = s.sets_of(best, nxt)  # nxt's minus best's, set by set
    sets = probit_sets(s) if paired is not None else []
    reversed_text = _reversed_under_sets(s, best, nxt, sets)
    if s.single:
        left = unknown_deaths_text(s, (best, nxt))
        return (f"Fewest expected deaths: {best!r} ({people(med)}), then {nxt!r} "
                f"({people(quantiles(s.totals[nxt])[1])})" + (f" under the probit set {sets[0]!r}" if sets else "")
                + "; one member, so no ranking beyond this run" + reversed_text
                + where_unknown + (f"; {left}." if left else "."))
    d = np.asarray(s.totals[nxt], dtype=float) - np.asarray(s.totals[best], dtype=float)
    ok = np.isfinite(d)
    wins, ties, losses = member_tally(d)
    lo, mid, hi = quantiles(d[ok], None if paired is None else paired[ok])
    tally = _tally_text(wins, ties, losses)
    if paired is not None and sets:
        # the verdict over every member under every probit set: a plan that wins under the first set and loses
        # under the other had read as a clear win (review of session 41)
        tally = _sets_tally_text([member_tally(paired[ok, j]) for j in range(len(sets))], sets)
        wins, ties, losses = member_tally(paired[ok].ravel())
    text = (f"Fewest expected deaths: {best!r} ({people(med)}). Against the next, {nxt!r}, it "
            f"{_more_text(mid, lo, hi)} (median, 5–95 % over the members" + (" and probit sets" if paired is not None
                                                                               else "") + f", paired) and has {tally}"
            + reversed_text)
    left = unknown_deaths_text(s, (best, nxt))
    # the next plan's toll under its highest probit set, member by member (below one under the first set alone
    # had said "both below one death" beside "< 1 (< 1 to 1)"; review of session 41)
    nxt_sets = s.sets_of(nxt)
    top = s.totals[nxt] if nxt_sets is None else np.fmax(s.totals[nxt], np.nanmax(nxt_sets, axis=1))
    if not quantiles(top)[1] >= 1.0:
        if left:
            return (text + f": both expected tolls are below one death, but {left}, so the ranking says little"
                    + where_unknown + ".")
        return (text + ": both expected tolls are below one death, so the ranking between them says little"
                + where_unknown + ".")
    differ = wins + losses
    if differ and wins >= CLEAR_SHARE * differ:
        return text + where_unknown + (f"; {left}." if left else ".")
    why = "" if not differ else (f" (fewer than {CLEAR_SHARE:.0%} of the members in which they differ favour either"
                                 + (", over the probit sets too)" if sets else ")"))
    return text + (f": the two cannot be told apart on this ensemble{why}; weigh what else sets them apart"
                   + where_unknown + (f"; {left}." if left else "."))


def _reversed_under_sets(s: Summary, best: str, nxt: str, sets: list[str]) -> str:
    """``"; under the probit set 'lees' the order is reversed: 'B' 20 against 'A' 30 (median)"`` where some
    set other than the first has ``nxt`` with fewer deaths than ``best`` (medians over the members, beyond a
    tie); '' otherwise."""
    a, b = s.sets_of(best), s.sets_of(nxt)
    out = []
    for j, name in enumerate(sets):
        if j == 0 or a is None or b is None:
            continue
        ma, mb = float(np.nanmedian(a[:, j])), float(np.nanmedian(b[:, j]))
        if mb < ma - TIE_DEATHS:
            out.append(f"under the probit set {name!r} the order is reversed: {nxt!r} {people(mb)} against "
                       f"{best!r} {people(ma)}" + ("" if s.single else " (medians)"))
    return "".join(f"; {t}" for t in out)


def unknown_deaths_at_aegl3(s: Summary, plans: tuple[str, ...] | list[str] | None = None) -> list[int]:
    """Receptors whose deaths are unknown (population unknown) while AEGL-3 is reached there
    in some member under one of ``plans`` (None: any plan): the expected tolls leave them out."""
    out = []
    for plan in (s.plans if plans is None else plans):
        for k, r in enumerate(s.rows_of(plan)):
            if not math.isfinite(r["fatalities_median"]) and _finite_or(r["p_aegl3"], 0.0) > 0 and k not in out:
                out.append(k)
    return sorted(out)


def unknown_deaths_text(s: Summary, plans: tuple[str, ...] | list[str] | None = None) -> str | None:
    """``"the tolls leave out 1 receptor of unknown population where AEGL-3 is reached
    (r5km), whose deaths are unknown"``; None when there is none. The ranking sentence had
    called both tolls below one death beside a city of unknown population under AEGL-3."""
    ks = unknown_deaths_at_aegl3(s, plans)
    if not ks:
        return None
    names = [s.label(k) for k in ks]
    some = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"the tolls leave out {len(ks)} receptor{'s' if len(ks) > 1 else ''} of unknown population where "
            f"AEGL-3 is reached ({some}), whose deaths are unknown")


def console_notes(s: Summary, cities: list[str] | None = None, top: int | None = CONSOLE_CITIES) -> list[str]:
    """What the console tables leave to decision_table.md: the ranking of the plans, what
    the intervals of fewer than 21 members are, how many cities the cities table leaves out (it shows the first ``top``,
    :func:`cities_left_out_text`), the meaning of :data:`NO_AEGL3_MARK` (when a shown city
    has it), what the times count from (:func:`times_note`) and the maps that are not written."""
    out = []
    rank = ranking_text(s)
    if rank:
        out.append(rank)
    if not s.single and s.n_members < SPREAD_MEMBERS:  # "(5–95 %)" of 3 members: their lowest and highest
        out.append(intervals_text(s.n_members, probit_sets(s)).strip())
    left_out = cities_left_out_text(s, cities, top)
    if left_out:
        out.append(left_out)
    ks = set(_shown(s, cities, top))
    shown = [r for p in s.plans for k, r in enumerate(s.rows_of(p)) if k in ks]
    if any(deaths_without_aegl3(r) for r in shown):
        out.append(f"{NO_AEGL3_MARK} deaths without AEGL-3: under that plan no member reaches AEGL-3 in the city "
                   f"(the AEGL-3 column is the baseline's), yet people die: {DEATHS_WITHOUT_AEGL3}.")
    times = times_note(s)
    if times:
        out.append(times)
    out.extend(winds_and_probit_notes(s))  # (only decision_table.md had said them; first-hour audit, session 40)
    maps = missing_maps_text(s)
    if maps:
        out.append(maps)
    return out


def _notes(s: Summary) -> list[str]:
    """What the reader must know to trust the table: the ensemble, the seeds, the baseline."""
    sc = s.raw.setup.scenario
    parts = []
    rank = ranking_text(s)
    if rank:
        parts.append(rank)
    particles = _particles(s)
    pp = f"{particles:,} particles per member" if particles is not None else "particles per member not recorded"
    seed = "" if sc is None else f"; scenario seed {sc.seed}, each member's seed in decision_table.csv and members.csv"
    if s.single:
        parts.append(f"One member, so no ensemble spread: a single run of the scenario, {pp}{seed}. The figures "
                     "are that run's, not probabilities or intervals" + (" (the ranges of people are over the "
                     "agent's probit sets)" if probit_sets(s) else "") + ": 'reached' says whether that run reaches "
                     "the level. Add an ensemble: key (docs/plans.md) for probabilities and 5–95 % intervals.")
    else:
        parts.append(f"{s.n_members} ensemble members, {pp}{seed}.")
    base_plan = s.raw.setup.plans[0] if s.raw.setup.plans else None
    desc = "no countermeasures" if base_plan is None or not base_plan.measures else "see the scenario"
    if len(s.plans) == 1:
        parts.append(f"No response plans: only the baseline {s.plans[0]!r} ({desc}); add a plans: list "
                     "(docs/plans.md) to compare plans.")
    else:
        parts.append(f"Baseline: {s.plans[0]!r} ({desc}); lives saved = baseline − plan"
                     + ("" if s.single else ", paired member by member, so the spread both share cancels")
                     + "; a plan with more deaths than the baseline reads 'costs …' (lives lost, not saved).")
    if sc is not None:
        from plumecast.ensemble.members import timing_shift_note
        from plumecast.receptors import nested_note
        from plumecast.runner import select_receptors_with_extent

        rec, extent = select_receptors_with_extent(sc)
        nested = None if rec is None else nested_note(rec, extent)
        if nested:
            parts.append(nested[0].upper() + nested[1:] + ".")

        shift = timing_shift_note(sc, s.raw.specs)
        if shift:
            parts.append(shift[0].upper() + shift[1:] + ".")
        from plumecast.ensemble.plan_checks import aegl_gap_note, past_measures_note

        for note in (aegl_gap_note(sc.resolved_agent()), past_measures_note(sc, s.raw.setup.plans)):
            parts.extend([note[0].upper() + note[1:] + "."] if note else [])
        parts.extend(winds_and_probit_notes(s))
    from plumecast.ensemble.compare import member_warnings

    parts.extend(line[0].upper() + line[1:] + ("" if line.endswith(".") else ".") for line in member_warnings(s.raw))
    parts.append(f"The cities tables are {CITY_RANK_RULE}; {PEOPLE_THERE}.")
    left = unknown_deaths_text(s)
    if left:
        parts.append(left[0].upper() + left[1:] + ": no expected toll counts them.")
    parts.append(f"{pp.capitalize()}: a city's figures come from the plumes of the sources within the near field "
                 "(near_field.distance_km) and from the particles beyond it (docs/exposure.md); where the particles "
                 "are sparse their part is spread over a wider disc, so rerun with more particles (--particles) "
                 "before acting on a figure that matters. Deaths can occur where AEGL-3 is not reached "
                 f"(marked {NO_AEGL3_MARK} in the cities tables: no member reaches AEGL-3 there under that "
                 f"plan): {DEATHS_WITHOUT_AEGL3}.")
    if s.delay_rows:
        varied = sorted({r["plan"] for r in s.delay_rows})
        parts.append("Cost of delay (cost_of_delay.csv and .png, for " + ", ".join(repr(v) for v in varied) + "): the "
                     "expected fatalities had the plan's termination been taken at each time on the axis (all its "
                     "terminations at that one time), or its front lit then (ignition_delays_h); hours after the "
                     "release start, times before the forecast's issue already past. A plan with a front is not "
                     "varied in its termination (each variant would need a transport of its own).")
    if any(m.type == "front" for p in s.raw.setup.plans for m in p.measures):
        parts.append("P(front before AEGL-3): among the members in which both the front and AEGL-3 reach the city, "
                     "the share in which the front comes first ('—': no member in which both do; a member without "
                     "AEGL-3 there does not need the front and is not counted).")
    if s.probability is not None:
        missing = missing_maps_text(s)
        parts.append("Maps: the outdoor air of grid cells (cell means understate what a city's own disc sees, so a "
                     "city in the tables can reach a level its cell does not)"
                     + (f"; {missing.removeprefix('Maps: ')}" if missing else "."))
    parts.append(("" if s.single else intervals_text(len(s.raw.members), probit_sets(s)))
                 + "People are rounded to two significant figures "
                 "(an expected count below one is '< 1'); times are UTC, rounded down (erring early); "
                 "arrivals and countdowns ('in …', 'passed … ago') run from the forecast's issue time"
                 + ("" if sc is None else f" ({clock(sc.issued64)})") + ". The CSV files hold the same figures "
                 "as plain numbers (people to two significant figures, times in hours after the release start, "
                 "rounded down to 0.01 h).")
    return parts
