"""How numbers are shown to people (DESIGN.md, "Honest numbers").

A figure people act on is never more precise than the model: casualties and
people are shown to two significant figures, with a range where one exists;
unknown is shown as "unknown", never as 0; countdowns err early, never late.
The netCDF files keep full values (for further computation); the CSV tables,
which people open, are written to what the model supports as well: people and
concentrations to two significant figures, times rounded down
(:func:`plumecast.report_tables.write_consequence_table`, the comparison's tables).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

UNKNOWN = "unknown"


def round_sig(x: float, sig: int = 2) -> float:
    """``x`` rounded to ``sig`` significant figures (NaN and 0 unchanged).

    >>> round_sig(1_161_095), round_sig(0.0347), round_sig(7)
    (1200000.0, 0.035, 7.0)
    """
    if not math.isfinite(x) or x == 0:
        return x
    digits = sig - 1 - int(math.floor(math.log10(abs(x))))
    return float(round(x, digits))


def plain(value: float, sig: int = 2, trim: bool = False) -> str:
    """``value`` to ``sig`` significant figures in plain notation, never ``1.07e+03``
    (``"1,070"``; small values keep their figures, ``0.00012``); "n/a" for NaN.
    ``trim``: without trailing zeros after the point (``"5"``, not ``"5.00"``)."""
    if not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    rounded = float(f"{value:.{sig}g}")
    decimals = max(sig - 1 - math.floor(math.log10(abs(rounded))), 0)
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if trim and "." in text else text


def people(x: float, sig: int = 2) -> str:
    """A count of people to two significant figures: ``"1.2 million"``, ``"35,000"``,
    ``"< 1"`` for an expected value below one, ``"0"`` only for an exact zero,
    ``"unknown"`` for NaN.

    >>> people(1_161_095), people(34_567), people(0.3), people(0.0), people(float("nan"))
    ('1.2 million', '35,000', '< 1', '0', 'unknown')
    >>> people(1.47), people(2.5), people(9.6), people(14.6)
    ('1', '2', '10', '15')
    >>> people(8.2e9), people(3.4e30)
    ('8.2 billion', '3.4e+30')
    """
    if x is None or not math.isfinite(x):
        return UNKNOWN
    if x == 0:
        return "0"
    if 0 < abs(x) < 1:
        return "< 1"
    if abs(x) < 10.0:  # whole people, rounded once (1.47 had read "2": 1.5 to two figures, then to a whole one)
        return f"{x:,.0f}"
    r = round_sig(x, sig)
    if abs(r) >= 1e12:  # beyond any population: written as a power of ten ("1.0e+30"), not 31 digits of billions
        return f"{r:.{sig - 1}e}"
    if abs(r) >= 1e9:
        return f"{r / 1e9:.{_decimals(r / 1e9, sig)}f} billion"
    if abs(r) >= 1e6:
        return f"{r / 1e6:.{_decimals(r / 1e6, sig)}f} million"
    return f"{r:,.0f}"


def _decimals(v: float, sig: int) -> int:
    return max(0, sig - 1 - int(math.floor(math.log10(abs(v))))) if v else 0


def _scale(text: str) -> tuple[str, bool]:
    """The scale a count of :func:`people` is written in: its word (million, billion) or
    none, and whether it is grouped in thousands."""
    word = text.rsplit(" ", 1)[-1] if text.endswith(("million", "billion")) else ""
    return word, "," in text


def span(lo: str, hi: str) -> str:
    """Two counts of :func:`people` as a range: ``"42 million–98 million"``, ``"22,000–930,000"``
    with a dash where both are written in the same scale, ``"44 to 46,000"`` where not: a
    dash there reads as a range of the larger scale (``"44–46,000"`` as 44,000 to 46,000,
    ``"3–6.0 million"`` as 3 to 6 million), which the decision table had printed for a range
    of 44 to 46,000 lives.

    >>> span("42 million", "98 million"), span("44", "46,000"), span("900,000", "1.6 million"), span("< 1", "5")
    ('42 million–98 million', '44 to 46,000', '900,000 to 1.6 million', '< 1 to 5')
    """
    same = _scale(lo) == _scale(hi) and not lo.startswith("<") and not hi.startswith("<")
    return f"{lo}–{hi}" if same else f"{lo} to {hi}"


def people_range(central: float, low: float, high: float) -> str:
    """``"1.2 million (1.1 million–1.6 million)"``; the range is left out where it collapses
    (its ends joined by :func:`span`).

    >>> people_range(1_161_095, 900_000, 1_600_000)
    '1.2 million (900,000 to 1.6 million)'
    >>> people_range(2_200, 44, 46_000), people_range(35_000, 35_000, 35_000)
    ('2,200 (44 to 46,000)', '35,000')
    """
    text = people(central)
    if not (math.isfinite(low) and math.isfinite(high)):
        return text
    lo, hi = people(low), people(high)
    if lo == hi == text:
        return text
    return f"{text} ({span(lo, hi)})"


def lives_saved(x: float) -> str:
    """Lives a plan saves (baseline − plan), as :func:`people` shows them, with the sign
    kept: a plan with more deaths than the baseline ``"costs 5"``, ``"costs < 1"`` (people
    says ``"< 1"`` for either sign, and a plan that cost lives read as saving some).

    >>> lives_saved(13.2), lives_saved(0.3), lives_saved(-0.0022), lives_saved(-5.0), lives_saved(0.0)
    ('13', '< 1', 'costs < 1', 'costs 5', '0')
    """
    if x is not None and math.isfinite(x) and x < 0:
        return f"costs {people(-x)}"
    return people(x)


def lives_saved_range(central: float, low: float, high: float) -> str:
    """:func:`lives_saved` with its range (5–95 %), as :func:`people_range` does: a range
    that straddles zero names both ends (``"costs 2 – saves 3"``), one wholly below zero
    reads as lives lost (``"costs 5 (2–8)"``); left out where it collapses.

    >>> lives_saved_range(25.0, 4.1, 45.4), lives_saved_range(-0.0022, -0.003, -0.001)
    ('25 (4–45)', 'costs < 1')
    >>> lives_saved_range(-5.0, -8.0, -2.0), lives_saved_range(0.4, -2.0, 3.0)
    ('costs 5 (2–8)', '< 1 (costs 2 – saves 3)')
    >>> lives_saved_range(0.0, -3.0, 0.0)
    '0 (costs 0–3)'
    """
    if not (math.isfinite(low) and math.isfinite(high)) or not math.isfinite(central):
        return lives_saved(central)
    if low >= 0:
        return people_range(central, low, high)
    if high <= 0 and central <= 0:
        if central < 0 and people_range(-central, -high, -low) == people(-central):
            return lives_saved(central)
        # a median of 0 has no sign of its own: the range says they are lives lost ("0 (0–3)" had read as saved)
        return f"{lives_saved(central)} ({'' if central < 0 else 'costs '}{span(people(-high), people(-low))})"
    text = lives_saved(central)
    return f"{text} (costs {people(-low)} – saves {people(high)})" if high > 0 else \
        f"{text} (costs {people(-low)} – {people(-high)})"


#: the smallest percentage shown as a number: below it a known positive value reads
#: ``"< 0.01 %"``. A % of AEGL-3 that small is a trace (below the consequence stage's
#: onset floor, 1 % of the agent's lowest AEGL, for every published agent) whose digits
#: the model does not resolve, and an exceedance probability over members is at least
#: 1/10000 = 0.01 % (ensemble.members is at most 10000).
PERCENT_FLOOR = 0.01


def percent(x: float) -> str:
    """A percentage to two significant figures (``"46 %"``, ``"0.31 %"``), ``"< 0.01 %"``
    for a known positive value below :data:`PERCENT_FLOOR` (not forty digits, nor 0),
    ``"unknown"`` for NaN.

    >>> percent(46.2), percent(0.0031), percent(4.9e-48), percent(0.0), percent(float("nan"))
    ('46 %', '< 0.01 %', '< 0.01 %', '0 %', 'unknown')
    """
    if not math.isfinite(x):
        return UNKNOWN
    if x == 0:
        return "0 %"
    if 0 < x < PERCENT_FLOOR:
        return f"< {PERCENT_FLOOR:g} %"
    r = round_sig(x, 2)
    return f"{r:,.{_decimals(r, 2)}f} %" if abs(r) < 10 else f"{r:,.0f} %"


#: Below this many members a share of them reads as a count ("1 of 6"): a percentage of a
#: handful ("17 %") reads as a probability known to two figures, which so few members do not
#: give; the intervals of so few members are their lowest and highest member for the same
#: reason (``plumecast.ensemble.summary_text.SPREAD_MEMBERS``).
FEW_MEMBERS = 21


def members_share(p: float, n_known: int, n_members: int | None = None) -> str:
    """The share ``p`` (0 to 1) of ``n_known`` ensemble members, as people read it: below
    :data:`FEW_MEMBERS` members the count, ``"1 of 6"``, from then on the percentage
    (:func:`percent`); ``" known"`` after the members counted where ``n_members`` is larger
    (it is unknown in the rest); ``"unknown"`` for NaN or no member known.

    >>> members_share(1 / 6, 6), members_share(0.5, 4, 6), members_share(0.34, 50), members_share(0.25, 40, 44)
    ('1 of 6', '2 of 4 known', '34 %', '25 % of 40 known')
    """
    if not math.isfinite(p) or n_known < 1:
        return UNKNOWN
    known = " known" if n_members is not None and n_members > n_known else ""
    if n_known < FEW_MEMBERS:
        return f"{round(p * n_known)} of {n_known}{known}"
    return percent(100.0 * p) + (f" of {n_known}{known}" if known else "")


def countdown(seconds: float | None) -> str:
    """Time left until an event, erring early: ``"in 5 h 20 min"`` (rounded down
    to the minute), ``"passed 40 min ago"`` (rounded up), ``"now"``, ``"—"`` never.

    >>> countdown(5 * 3600 + 29 * 60 + 59), countdown(-39 * 60 - 1), countdown(None)
    ('in 5 h 29 min', 'passed 40 min ago', '—')
    """
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds >= 0:
        minutes = int(math.floor(seconds / 60.0))
        if minutes == 0:
            return "now"
        return f"in {_hm(minutes)}"
    return f"passed {_hm(int(math.ceil(-seconds / 60.0)))} ago"


def _hm(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


#: English month abbreviations of :func:`clock` (not the locale's: the same text on every machine)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clock(stamp: Any) -> str:
    """A UTC clock time ``"1 Jul 14:30 UTC"`` (rounded down to the minute), ``"—"`` for NaT. The day comes
    before the month's name: "03-10 14:25 UTC" reads 3 October in most of Europe (situation-room audit,
    session 40).

    >>> clock(np.datetime64("2026-03-10T14:25:59")), clock(np.datetime64("NaT"))
    ('10 Mar 14:25 UTC', '—')
    """
    t = np.datetime64(stamp, "m") if stamp is not None else np.datetime64("NaT")
    if np.isnat(t):
        return "—"
    text = str(t)  # YYYY-MM-DDTHH:MM
    return f"{int(text[8:10])} {MONTHS[int(text[5:7]) - 1]} {text[11:16]} UTC"


def same_day_range(a: str, b: str) -> str:
    """Two :func:`clock` times as one range: ``"1 Jul 05:00–07:10 UTC"`` on one day, else
    ``"1 Jul 20:00–2 Jul 06:00 UTC"``; ``a`` alone where they are equal."""
    if a == b:
        return a
    day_a, day_b = a.rsplit(" ", 2)[0], b.rsplit(" ", 2)[0]
    if day_a == day_b:
        return f"{a.removesuffix(' UTC')}–{b.removeprefix(day_b + ' ')}"
    return f"{a.removesuffix(' UTC')}–{b}"


def floor_hours(h: float, step_s: float) -> float:
    """Hours ``h`` rounded down to the model's time step ``step_s`` and then down to a
    decimal that resolves it (at least 0.01 h): a time people act on errs early, never late.

    >>> floor_hours(1000.0 / 3600, 600.0), floor_hours(1.3, 600.0), floor_hours(5.0, 600.0)
    (0.16, 1.16, 5.0)
    >>> floor_hours(0.3, 60.0), floor_hours(-0.25, 600.0), floor_hours(float("nan"), 600.0)
    (0.3, -0.34, nan)
    """
    if not math.isfinite(h):
        return h
    # steps, with a tolerance of a millionth of a step for the float noise of k * step / 3600
    t_s = math.floor(h * 3600.0 / step_s + 1e-6) * step_s
    decimals = max(2, math.ceil(-math.log10(step_s / 3600.0)) + 1)
    scale = 10 ** decimals
    return float(round(t_s * scale, 6) // 3600.0) / scale
