"""The text of a comparison's figures: quantiles over members with their interval, arrival
ranges and countdowns from the issue time (erring early), receptor labels that tell
same-named receptors apart (:mod:`plumecast.ensemble.summary` builds the tables from
them)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.numbers import (
    FEW_MEMBERS,
    UNKNOWN,
    clock,
    countdown,
    floor_hours,
    lives_saved_range,
    members_share,
    people_range,
    same_day_range,
)

#: what arrival hours are rounded down to in the comparison's files and tables (0.01 h) [s]
ARRIVAL_RESOLUTION_S = 36.0

Q = (5.0, 50.0, 95.0)
#: below this many members the 5 % and 95 % figures of :func:`quantiles` are the lowest and highest member
#: (and a share of the members is a count, "1 of 6": :data:`plumecast.numbers.FEW_MEMBERS`)
SPREAD_MEMBERS = FEW_MEMBERS


def quantiles(x: NDArray[np.float64], sets: NDArray[np.float64] | None = None) -> tuple[float, float, float]:
    """(5 %, median, 95 %) of the finite values; NaN if there are none, and NaN
    for the 5 % and 95 % figures of a single value (one member has no spread).

    The 5 % and 95 % figures are members' own values, rounded outward (numpy's
    ``lower`` and ``higher`` methods): with fewer than 21 members they are the lowest
    and the highest member. Interpolated between order statistics they had been
    figures no member gave, inside the members' range (3 members of 2,500, 1,600 and
    2,400 deaths read "2,400 (1,700–2,500)"; outputs audit, session 30).

    ``sets`` (member, probit set): each member's figure under each of the agent's
    published probit sets, ``x`` being the first set's. The median stays ``x``'s; the 5 %
    figure is taken over each member's lowest set, the 95 % over its highest (DESIGN.md,
    "Honest numbers": the range covers members and probit sets), and one member has the
    range of its sets.

    >>> quantiles(np.array([3.0]))
    (nan, 3.0, nan)
    >>> quantiles(np.array([2500.0, 1600.0, 2400.0]))
    (1600.0, 2400.0, 2500.0)
    >>> quantiles(np.array([3.0]), np.array([[3.0, 7.0]]))
    (3.0, 3.0, 7.0)
    >>> quantiles(np.array([0.0]), np.array([[0.0, 0.0]]))
    (0.0, 0.0, 0.0)
    >>> quantiles(np.array([2500.0, 1600.0, 2400.0]), np.array([[2500.0, 5100], [1600, 3300], [2400, 4900]]))
    (1600.0, 2400.0, 5100.0)
    """
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    low = high = x[ok]
    if sets is not None:
        per = np.asarray(sets, dtype=float).reshape(x.size, -1)[ok]
        with np.errstate(invalid="ignore"):  # a set that is NaN where the first is not: the first alone
            low, high = np.fmin(low, np.nanmin(per, axis=1, initial=np.inf)), np.fmax(high, np.nanmax(
                per, axis=1, initial=-np.inf))
    x = x[ok]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    if x.size == 1:  # the range of its sets (filled even where they agree: a bound, not "unknown")
        return (math.nan, float(x[0]), math.nan) if sets is None else (float(low[0]), float(x[0]), float(high[0]))
    lo = np.percentile(low, Q[0], method="lower")
    hi = np.percentile(high, Q[2], method="higher")
    return (float(lo), float(np.median(x)), float(hi))


def probit_sets(s: Any) -> list[str]:
    """The names of the probit sets a comparison's deaths range over: the agent's, where its members' outcomes
    carry them (none: the agent has one set or none)."""
    sc = s.raw.setup.scenario
    if sc is None or not any(v is not None for v in (getattr(s, "totals_sets", None) or {}).values()):
        return []
    sets = list(getattr(sc.resolved_agent(), "probits", {}) or {})
    return sets if len(sets) > 1 else []


#: what a comparison of one member says instead of probabilities and intervals
ONE_MEMBER = "one member: no ensemble spread"


def deaths_spread(s: Any) -> str:
    """What a comparison's intervals of people span, for the tables' heads: ``median (5–95 %)`` over members
    (and the probit sets), else :data:`ONE_MEMBER`, or that one member's range over the agent's probit sets."""
    if not s.single:
        return "median (5–95 %)"
    n = len(probit_sets(s))
    return f"one member; range over the {n} probit sets" if n else ONE_MEMBER


#: what a plan's P(AEGL) and arrivals in the cities tables are (plans audit: "not reached" under a full evacuation
#: where the outdoor air reached AEGL-2 in 3 of 4 members)
PEOPLE_THERE = ("a plan's P(AEGL) and arrivals are those of the people who are there under it: a city its evacuation "
                "has emptied before the gas comes reads 'not reached' though its outdoor air may reach the level")


def releases_begin_h(scenario: Any) -> float:
    """When the first release begins, hours after the scenario's start (0: then)."""
    return min((float(getattr(r, "start_h", 0.0) or 0.0) for r in scenario.releases), default=0.0)


def later_releases_text(scenario: Any) -> str:
    """``, the scenario's start: the releases begin 30 min after it``: what the comparison's
    "release start" (the scenario's ``start``, which its hours count from) is where no
    release begins then (plans audit, session 30: "release start 06:00" where the gas
    left at 06:30); '' where one does."""
    first = releases_begin_h(scenario)
    if first <= 0.0:
        return ""
    from plumecast.numbers import _hm

    return f", the scenario's start: the releases begin {_hm(int(round(first * 60.0)))} after it"


def intervals_text(n_members: int, sets: list[str] | None = None) -> str:
    """The notes' sentence on the intervals of a comparison of ``n_members`` (> 1), whose deaths range over
    the agent's probit ``sets`` too (where it has more than one)."""
    text = "Intervals are 5–95 % over members" + (
        f" (with {n_members} members, the lowest and the highest member)" if n_members < SPREAD_MEMBERS
        else ", each bound a member's own figure")
    if sets:
        text += (f"; those of people also span the agent's {len(sets)} probit sets (the 5 % bound under each "
                 "member's lowest set, the 95 % under its highest; the median under the first set)")
    return text + ". "


def with_interval(q: tuple[float, float, float]) -> str:
    """A count of people as 'median (5 %–95 %)', two significant figures
    (:func:`plumecast.numbers.people_range`); 'unknown' when there is no median.

    >>> with_interval((0.2, 3.4e-10, 0.9)), with_interval((4.1, 25.0, 45.4))
    ('< 1', '25 (4–45)')
    """
    if not math.isfinite(q[1]):
        return UNKNOWN
    return people_range(q[1], q[0], q[2])


def receptor_labels(names: list[str], lat: Any, lon: Any, country: Any = None) -> list[str]:
    """The names of the receptors as the tables show them: a name that two or more
    receptors share gets the country code where that tells them apart, else the position
    (two "Annino" near Moscow read as one city, each row with the other's figures).

    >>> receptor_labels(["school", "school", "hall"], [50.0, 50.0, 51.0], [0.07, 0.28, 1.0])
    ['school (50.00 N, 0.07 E)', 'school (50.00 N, 0.28 E)', 'hall']
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    codes = ([""] * len(names) if country is None or len(country) != len(names)
             else ["" if c is None else str(c).strip() for c in country])
    out = list(names)
    for name in {n for n in names if names.count(n) > 1}:
        idx = [i for i, n in enumerate(names) if n == name]
        by_code = [codes[i] for i in idx]
        if all(by_code) and len(set(by_code)) == len(idx):
            for i in idx:
                out[i] = f"{name}, {codes[i]}"
            continue
        for i in idx:
            ns, ew = ("N" if lat[i] >= 0 else "S"), ("E" if lon[i] >= 0 else "W")
            out[i] = f"{name} ({abs(lat[i]):.2f} {ns}, {abs(lon[i]):.2f} {ew})"
    return out


def _yes_no(p: float) -> str:
    """Whether the one member reaches it: 'yes', 'no' or 'unknown' (not a probability)."""
    return UNKNOWN if not math.isfinite(p) else ("yes" if p > 0 else "no")


def _hours(h: float) -> str:
    """Hours after the start, rounded down to 0.1 h (a time people act on errs early)."""
    return f"{math.floor(h * 10.0 + 1e-9) / 10.0:.1f}"


def _stamp(start: np.datetime64 | None, h: float) -> np.datetime64:
    """The clock time ``h`` hours after ``start``, rounded down to 0.01 h as the files'
    hours are (``summary.file_rows``), so the tables and the page count from one time."""
    if start is None or not math.isfinite(h):
        return np.datetime64("NaT")
    return start + np.timedelta64(round(floor_hours(h, ARRIVAL_RESOLUTION_S) * 3600.0), "s")


def _relative_range(lo_s: float, hi_s: float) -> str:
    """Seconds from the issue time to the earliest and the latest arrival as one phrase,
    each end erring early (:func:`plumecast.numbers.countdown`): ``"in 1 h 20 min – 2 h
    00 min"``, ``"passed 1 h 57 min – 1 h 17 min ago"``, ``"passed 37 min ago – in 3 min"``."""
    a, b = countdown(lo_s), countdown(hi_s)
    if a == b:
        return a
    if a.startswith("in ") and b.startswith("in "):
        return f"in {a.removeprefix('in ')} – {b.removeprefix('in ')}"
    if a.startswith("passed ") and b.startswith("passed "):
        return f"passed {a.removeprefix('passed ').removesuffix(' ago')} – {b.removeprefix('passed ')}"
    return f"{a} – {b}"


def arrival_text(lo_h: float, hi_h: float, start: np.datetime64 | None,
                 issued: np.datetime64 | None = None) -> str:
    """An arrival-time range over members, earliest–latest, as UTC clock time and as time
    from the forecast's issue time ``issued``, like the countdowns (erring early: clock
    times and time left rounded down, time passed rounded up); 'not reached' for NaN.
    Without an issue time the hours count from the release start, and say so.

    >>> t0 = np.datetime64("2026-07-01T00:00")
    >>> arrival_text(5.0, 7.17, t0, t0 + np.timedelta64(1, "h"))
    '1 Jul 05:00–07:10 UTC (in 4 h 00 min – 6 h 10 min)'
    >>> arrival_text(1.33, 2.0, t0, np.datetime64("2026-07-01T03:17"))
    '1 Jul 01:19–02:00 UTC (passed 1 h 58 min – 1 h 17 min ago)'
    >>> arrival_text(2.5, 3.5, t0, np.datetime64("2026-07-01T03:17"))
    '1 Jul 02:30–03:30 UTC (passed 47 min ago – in 13 min)'
    >>> arrival_text(20.0, 30.0, t0)
    '1 Jul 20:00–2 Jul 06:00 UTC (20.0–30.0 h after release start)'
    >>> arrival_text(5.0, 5.0, t0, t0), arrival_text(float("nan"), float("nan"), None)
    ('1 Jul 05:00 UTC (in 5 h 00 min)', 'not reached')
    """
    if not math.isfinite(lo_h):
        return "not reached"
    hours = _hours(lo_h) if _hours(lo_h) == _hours(hi_h) else f"{_hours(lo_h)}–{_hours(hi_h)}"
    if start is None:
        return f"{hours} h after release start"
    text = same_day_range(clock(_stamp(start, lo_h)), clock(_stamp(start, hi_h)))
    if issued is None or np.isnat(issued):
        return f"{text} ({hours} h after release start)"
    lo_s, hi_s = ((_stamp(start, h) - issued) / np.timedelta64(1, "s") for h in (lo_h, hi_h))
    return f"{text} ({_relative_range(float(lo_s), float(hi_s))})"


def countdown_text(h: float, start: np.datetime64 | None, issued: np.datetime64 | None) -> str:
    """Countdown from the issue time to the earliest member's arrival (erring early)."""
    if not math.isfinite(h):
        return "not reached"
    if start is None or issued is None:
        return f"{_hours(h)} h after release start"
    left = float((_stamp(start, h) - issued) / np.timedelta64(1, "s"))
    return f"{countdown(left)} ({clock(_stamp(start, h))})"


def _members_unknown(row: dict[str, Any], level: int) -> int:
    """The members of a cities row in which whether AEGL-``level`` is reached is unknown."""
    return int(row["members_unknown" if level == 2 else "members_unknown_aegl3"])


def _share(row: dict[str, Any], level: int) -> str:
    """A P(AEGL-``level``) cell: the share of the members in which it is known there
    (:func:`plumecast.numbers.members_share`: "1 of 6", "2 of 3 known" where it is unknown in
    some, "34 %" from 21 members on). Until session 35 a percentage whatever the members:
    "50 %" of two members."""
    n = int(row["members"])
    return members_share(row[f"p_aegl{level}"], n - _members_unknown(row, level), n)


def front_share(row: dict[str, Any]) -> str:
    """The P(front before AEGL-3) cell: the share of the members in which both reach the
    city (:func:`plumecast.numbers.members_share`); "—" where no member has both."""
    p = row["p_front_before_aegl3"]
    return members_share(p, int(row["members_front_and_aegl3"])) if math.isfinite(p) else "—"


def _unread(row: dict[str, Any], level: int, text: str) -> str:
    """An arrival cell where no known member reaches AEGL-``level``: "n/a" where it is unknown in
    every member (the agent's AEGL missing for a duration reached there, the concentration off the
    domain: not never), "not reached" with the members where it is unknown named; else ``text``."""
    if text != "not reached":
        return text
    if not math.isfinite(row[f"p_aegl{level}"]):
        return "n/a"
    unknown = _members_unknown(row, level)
    return f"not reached (n/a in {unknown} of {row['members']} members)" if unknown else text


def saved_unknown_text(n: int) -> str:
    """What a lives-saved figure leaves out: ``"; unknown at 2 receptors"`` ('' for none)."""
    return f"; unknown at {n} receptor{'s' if n != 1 else ''}" if n > 0 else ""


def saved_cell(median: float, p5: float, p95: float, n_unknown: int) -> str:
    """A lives-saved cell: :func:`plumecast.numbers.lives_saved_range`, and where the plan
    changes the exposure at receptors whose deaths are unknown, ``"0 known; unknown at 1
    receptor"`` (never a bare 0: unknown is not zero).

    >>> saved_cell(0.0, 0.0, 0.0, 1), saved_cell(15.0, 10.0, 20.0, 0)
    ('0 known; unknown at 1 receptor', '15 (10–20)')
    >>> saved_cell(float("nan"), float("nan"), float("nan"), 2)
    'unknown (deaths unknown at 2 receptors)'
    """
    text = lives_saved_range(median, p5, p95)
    if n_unknown > 0 and text == UNKNOWN:  # not "unknown known; unknown at 2 receptors" (web audit)
        return f"{UNKNOWN} (deaths unknown at {n_unknown} receptor{'s' if n_unknown != 1 else ''})"
    return f"{text} known{saved_unknown_text(n_unknown)}" if n_unknown > 0 else text


def times_range(x: NDArray[np.float64], known: NDArray[np.bool_] | None = None) -> tuple[float, float, float]:
    """First, median and last time over the members; the median over the members where it is known
    (``known``; default all), a member that never gets there counting as later than any (NaN where half or
    more never do): over the reaching ones alone, a plan that spares most members read an earlier median
    (audit, session 39). A member whose figure is unknown (off the domain, its AEGL unread) is left out of
    the median, not counted as never (review, session 39)."""
    reach = x[np.isfinite(x)]
    if reach.size == 0:
        return (math.nan, math.nan, math.nan)
    kept = x if known is None else x[np.asarray(known, bool) | np.isfinite(x)]
    med = float(np.median(np.where(np.isfinite(kept), kept, np.inf)))
    return (float(reach.min()), med if math.isfinite(med) else math.nan, float(reach.max()))


def winds_and_probit_notes(s: Any) -> list[str]:
    """What the winds are (climatological mean winds are not a forecast) and which probit sets the deaths
    use: the median under the agent's first set, the ranges over all of them, as ``run`` gives them (the
    comparison had read the first alone, about half chlorine's deaths under the second; first-hour audit,
    session 40)."""
    sc = s.raw.setup.scenario
    if sc is None:
        return []
    out = []
    if sc.met.source == "climatology":
        out.append("Winds: climatological mean winds (the shipped ERA-Interim January/July means), not a forecast.")
    elif sc.met.source == "file":
        from plumecast.ensemble.members import file_members_text

        out.append(f"Winds: the met files of met.path{file_members_text(sc, len(s.raw.specs))}.")
    sets = probit_sets(s)
    if sets:
        # the deaths had used the first set alone, where run gives the range over them (first-hour audit,
        # session 40: chlorine's first set reads about half the second's deaths)
        out.append(f"Deaths: the median is under the agent's probit set {sets[0]!r}, the first of its {len(sets)} "
                   f"({', '.join(repr(n) for n in sets)}); the ranges of deaths and lives saved span all of them, "
                   + ("paired by set (each plan under the same set)." if len(s.plans) > 1 else "as run's do."))
    return out
