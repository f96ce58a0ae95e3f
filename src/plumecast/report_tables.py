"""Per-receptor consequence tables: the CLI casualty table and CSV/netCDF files.

Input is the Dataset returned by :func:`plumecast.consequence.assess`. Files are
written atomically (temporary file in the same directory, then ``os.replace``):
a failure never leaves a partial file.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from plumecast.consequence import result_warnings
from plumecast.fileio import atomic_path
from plumecast.numbers import (
    clock,
    countdown,
    floor_hours,
    people,
    people_range,
    percent,
    round_sig,
)

__all__ = ["casualty_order", "format_countdown", "print_casualty_table", "unknown_receptors_text",
           "write_consequence_table"]

CSV_NAME = "consequences.csv"
NETCDF_NAME = "consequences.nc"


def format_countdown(seconds: float | None, *, relative: bool = True) -> str:
    """Human countdown that errs early: ``"in 5 h 20 min"`` (rounded down),
    ``"passed 40 min ago"``, ``"+5 h 20 min"`` (time after the release start,
    rounded down); ``None``/NaN gives ``"—"`` (never)."""
    if relative:
        return countdown(seconds)
    if seconds is None or not math.isfinite(seconds):
        return "—"
    minutes = int(math.floor(seconds / 60.0))
    h, m = divmod(minutes, 60)
    return "+" + (f"{h} h {m:02d} min" if h else f"{m} min")


def _name_cities(console: Any, result: Any, names: Any, column: str, title: str, text: str) -> None:
    """One line naming the receptors (five, then how many more) whose ``column`` of the
    consequences is positive, then ``text``; nothing where none is."""
    n = len(names)
    flag = _column(result, column, n, 0).astype(int)
    named = [str(names[i]) for i in range(n) if flag[i] > 0]
    if named:
        shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
        console.print(f"[bold]{title}:[/bold] {escape(shown)}: {text}", highlight=False)


def _column(result: xr.Dataset, name: str, n: int, fill: Any = "") -> np.ndarray:
    if name in result.coords or name in result.data_vars:
        return np.asarray(result[name].values)
    return np.full(n, fill, dtype=object)


#: The lethal fraction from which a receptor of unknown population is ranked first: one in
#: a million, one death in a city of a million (below it its deaths are negligible
#: whatever its population, and it ranks with the receptors without deaths).
LETHAL_FRACTION_MAY_KILL = 1e-6

#: How :func:`casualty_order` ranks the receptors, as the table's title says it.
RANK_RULE = (f"ranked: unknown population with a lethal fraction of {LETHAL_FRACTION_MAY_KILL:g} or more first, "
             "then fatalities outdoors of one or more, then peak % of AEGL-3; unknown concentration last")


def casualty_order(result: xr.Dataset) -> np.ndarray:
    """Receptor indices in the order the casualty table lists them (:data:`RANK_RULE`):
    unknown is never ranked behind a known "< 1".

    1. population unknown, concentration known and a lethal fraction of at least
       :data:`LETHAL_FRACTION_MAY_KILL`: their deaths are unknown and may be many (by
       lethal fraction, highest first);
    2. known expected fatalities of one or more, highest first;
    3. the rest (below one death, "< 1" or 0 alike, or unknown population with a negligible
       lethal fraction) by peak % of AEGL-3, highest first (a toll of 1e-24 had ranked a city
       above a more exposed one of none; session 35);
    4. concentration unknown (off the model domain): nothing is known to rank them by.
    """
    n = int(result.sizes.get("receptor", 0))
    fat = np.asarray(result["fatalities"].values, dtype=float)
    pop = np.asarray(result["population"].values, dtype=float)
    pct = np.asarray(result["peak_percent_aegl3"].values, dtype=float)
    frac = _column(result, "lethal_fraction", n, np.nan).astype(float)
    known_c = _concentration_known(result, n)
    group = np.full(n, 2, dtype=int)
    key = np.where(np.isfinite(pct), pct, -np.inf)
    lethal_unknown = known_c & ~np.isfinite(pop) & np.isfinite(frac) & (frac >= LETHAL_FRACTION_MAY_KILL)
    group[lethal_unknown] = 0
    key = np.where(lethal_unknown, frac, key)
    killed = np.isfinite(fat) & (fat >= 1.0) & ~lethal_unknown
    group[killed] = 1
    key = np.where(killed, fat, key)
    group[~known_c] = 3
    key = np.where(known_c, key, 0.0)
    return np.lexsort((-key, group))  # stable: ties keep the receptors' order


def _concentration_known(result: xr.Dataset, n: int) -> np.ndarray:
    """Whether each receptor's concentration is known (not off the model domain)."""
    if "concentration_known" in result:
        return np.asarray(result["concentration_known"].values).astype(bool)
    if "peak_concentration" in result:
        return np.isfinite(np.asarray(result["peak_concentration"].values, dtype=float))
    return np.isfinite(np.asarray(result["peak_percent_aegl3"].values, dtype=float))


def _some(names: list[str], most: int = 3) -> str:
    """Up to ``most`` names, then how many more: ``"A, B, C and 4 more"``."""
    text = ", ".join(names[:most])
    return text + (f" and {len(names) - most} more" if len(names) > most else "")


def unknown_receptors_text(result: xr.Dataset, names: Any = None) -> str:
    """Which receptors have unknown fatalities and why, naming up to three of each kind:
    ``"population unknown at NearUnknown; concentration unknown (off the model domain)
    at OffDomain"``; ``""`` when every receptor's fatalities are known."""
    n = int(result.sizes.get("receptor", 0))
    if names is None:
        names = _column(result, "name", n)
        if not any(str(x) for x in names):
            names = np.asarray([str(r) for r in result["receptor"].values], dtype=object)
    fat = np.asarray(result["fatalities"].values, dtype=float)
    pop = np.asarray(result["population"].values, dtype=float)
    unknown = ~np.isfinite(fat)
    known_c = _concentration_known(result, n)
    kinds = (("concentration unknown (off the model domain)", unknown & ~known_c),
             ("population unknown", unknown & known_c & ~np.isfinite(pop)),
             ("lethal fraction unknown (no probit)", unknown & known_c & np.isfinite(pop)))
    parts = [f"{what} at {_some([str(names[i]) for i in np.flatnonzero(mask)])}"
             for what, mask in kinds if mask.any()]
    return "; ".join(parts)


def _own_rates(result: Any) -> str:
    """The words ", at their own rate at P 5" when receptors of the table have their own buildings' air changes (the
    ``shelter_own_air_changes_per_hour`` attribute, from ``receptors.points[].air_changes_per_hour``), else ""."""
    own = result.attrs.get("shelter_own_air_changes_per_hour")
    return f", at their own rate at {escape(str(own))}" if own else ""


def _shelter_from(result: Any) -> str:
    """When the shelter of a casualty table begins, for its totals line ("from 14:30 UTC, "), from the
    result's ``shelter_start`` attribute; "" where it is the series' start or not recorded.

    Seconds count from the result's ``release_start`` attribute, which is the scenario's ``start`` (what
    ``shelter.start_h`` counts from), not the first release's: where that is a date the line gives the
    clock time (a release 2 h into the run had read "from 30 min after the release start" for a shelter
    30 min into the run, 90 min before the gas left; review of session 39)."""
    start = str(result.attrs.get("shelter_start", "release start"))
    if start == "release start":
        return ""
    from plumecast.numbers import _hm, clock

    try:
        seconds = float(start)
    except ValueError:  # a date-time
        return f"from {clock(np.datetime64(start.replace(' ', 'T')))}, "
    if seconds <= 30.0:  # rounds to 0 min: from the series' start
        return ""
    try:
        t0 = np.datetime64(str(result.attrs.get("release_start", "")).replace(" ", "T"))
    except ValueError:  # "3600 s": no date to count from
        t0 = np.datetime64("NaT")
    if np.isnat(t0):  # (absent: NaT)
        return f"from {_hm(round(seconds / 60.0))} after the start of the run, "
    # rounded down, as every clock time of the tables: a shelter never reads as beginning later than it does
    return f"from {clock(t0 + np.timedelta64(int(seconds), 's'))}, "


def print_casualty_table(
    result: xr.Dataset,
    console: Console,
    top: int = 20,
    now: Any = None,
) -> None:
    """Print the receptors in :func:`casualty_order` (unknown never behind a known "< 1"), the
    totals (naming the receptors left out of them) and the warnings.

    People and fatalities are shown to two significant figures with the range
    over the agent's published probit sets; countdowns as a UTC clock time and as
    time left from ``now`` (the forecast's issue time), rounded early.

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`plumecast.consequence.assess`.
    console : rich.console.Console
        Where to print.
    top : int
        Number of receptors listed.
    now : datetime-like, optional
        When the forecast is issued: countdowns are time left from it. Default:
        the release start.
    """
    n = int(result.sizes.get("receptor", 0))
    fat = np.asarray(result["fatalities"].values, dtype=float)
    fat_sh = np.asarray(result["fatalities_sheltered"].values, dtype=float)
    order = casualty_order(result)[: max(top, 0)]
    names = _column(result, "name", n)
    if not any(str(x) for x in names):
        names = np.asarray([str(r) for r in result["receptor"].values], dtype=object)
    countries = _column(result, "country", n)
    pop = np.asarray(result["population"].values, dtype=float)
    pct = np.asarray(result["peak_percent_aegl3"].values, dtype=float)
    lo = _column(result, "fatalities_low", n, np.nan).astype(float)
    hi = _column(result, "fatalities_high", n, np.nan).astype(float)
    lo_sh = _column(result, "fatalities_sheltered_low", n, np.nan).astype(float)
    hi_sh = _column(result, "fatalities_sheltered_high", n, np.nan).astype(float)
    notes = _column(result, "note", n, "")

    def countdowns(level: int) -> list[str]:
        if not int(result.attrs.get(f"aegl{level}_available", 1)):
            return ["n/a"] * n
        # n/a where the agent's AEGL could not be read for a duration reached there
        readable = _column(result, f"aegl{level}_known", n, 1).astype(int)
        return [("n/a" if not readable[i] else t) for i, t in enumerate(_arrivals(level))]

    def _arrivals(level: int) -> list[str]:
        stamps = result[f"first_exceedance_aegl{level}"].values
        if np.issubdtype(stamps.dtype, np.datetime64):
            ref = np.datetime64(now if now is not None else result.attrs.get("release_start"), "ns")
            secs = (stamps - ref) / np.timedelta64(1, "s")
            return [("—" if np.isnat(t) else f"{clock(t)} ({countdown(float(s))})") for t, s in zip(stamps, secs,
                                                                                                   strict=True)]
        ref_s = float(now) if now is not None else 0.0
        return [countdown(float(s) - ref_s) for s in stamps]

    # a receptor whose concentration is unknown (off the domain): its arrival is unknown too, not "never"
    unknown_c = ~_concentration_known(result, n)
    to2, to3 = ([("unknown" if unknown_c[i] and t == "—" else t) for i, t in enumerate(col)]
                for col in (countdowns(2), countdowns(3)))
    agent = result.attrs.get("agent", "?")
    shown = f"; the first {len(order):,} of {n:,} receptors" if len(order) < n else ""
    n_sets = int(result.sizes.get("probit_set", 0))
    sets = ("ranges over the published probit sets" if n_sets > 1 else
            "no probit: deaths unknown" if result.attrs.get("probit_equation", "n/a") == "n/a" else
            "the agent's one probit set: no range over sets")
    head = ["city", "country", "population", "peak % of AEGL-3", "AEGL-2 from", "AEGL-3 from", "fatalities outdoors",
            "with shelter"]
    body = [[escape(str(names[i])), escape(str(countries[i])), people(pop[i]),
             # NaN with a known concentration: the agent's AEGL-3 cannot be read (n/a, as the
             # legend below says), not an unknown concentration
             "n/a" if np.isnan(pct[i]) and not unknown_c[i] else percent(pct[i]),
             to2[i], to3[i], people_range(fat[i], lo[i], hi[i]), people_range(fat_sh[i], lo_sh[i], hi_sh[i])]
            for i in order]
    from plumecast.table_parts import split_table

    # in parts whose columns fit the terminal, each led by the city's name, every word whole (at 80 columns the
    # names and figures had been folded into pieces: "Duisbur/g", "populat/ion"; session 41)
    for table in split_table(f"Expected casualties — {agent} ({RANK_RULE}{shown}; {sets})", head, body,
                             console.width, left=(0, 1)):
        console.print(table)
    total = float(result.attrs.get("total_fatalities", np.nan))
    total_sh = float(result.attrs.get("total_fatalities_sheltered", np.nan))
    comp = result.attrs.get("shelter_compliance_fraction", "?")
    ach = result.attrs.get("shelter_air_changes_per_hour", "?")
    n_unknown = int(np.count_nonzero(~np.isfinite(fat)))
    out_lo, out_hi, exact = total_range(result, "")
    sh_lo, sh_hi, exact_sh = total_range(result, "_sheltered")
    console.print(
        f"Total expected fatalities: [bold]{people_range(total, out_lo, out_hi)}"
        f"[/bold] without shelter-in-place, [bold]"
        f"{people_range(total_sh, sh_lo, sh_hi)}[/bold] "
        f"with shelter-in-place ({_shelter_from(result)}{ach} air changes/h{_own_rates(result)}, {comp} "
        "compliance), at "
        f"{n - n_unknown:,} of {n:,} receptors"
        + (f"; [bold]{n_unknown}[/bold] receptor(s) with unknown figures are not in the totals: "
           + escape(unknown_receptors_text(result, names)) if n_unknown else "") + ".", highlight=False,
    )
    if total_sh > total:
        # a late shelter: people go inside after the gas came and breathe what the buildings took in while the
        # outdoor air clears (a phosgene run read 690 deaths sheltered against 510 outdoors without a word; audit)
        console.print("Shelter-in-place reads more deaths than staying outdoors here: people who go inside after "
                      "the gas has come breathe the air the buildings took in, which clears more slowly than the "
                      "outdoor air (docs/countermeasures.md); shelter before the gas arrives, or ventilate and "
                      "leave once the outdoor air is clean (shelter.end_h).", highlight=False)
    if not (exact and exact_sh):
        console.print("The totals' ranges add up each receptor's lowest and highest probit set (the per-set "
                      "figures of some receptors are not in this result), so they are wider than the range of the "
                      "totals over the sets.", highlight=False)
    present = [str(names[i]) for i in order if _STILL_PRESENT in str(notes[i])]
    na = any("n/a" in (to2[i], to3[i]) for i in order)
    # a step's mean reaches a level after the air can: the times are the earliest the air can reach it given
    # the means of that step and the one before (consequence_metrics._lead_s; the start of the step alone had
    # been 5-6 min late against the air at 600-s steps, e2e audit of session 30)
    # (and never before the front of the near-field air that lifts a place to it: consequence_metrics.ArrivalFloor)
    console.print("Times are the earliest the air can reach the level, given the mean air of the first time step "
                  "that reaches it and of the step before, and never before the front of the near-field plume's air "
                  "that reaches it (early, never late, for air rising through the level); "
                  "'—' = not reached within the forecast; "
                  + ("'n/a' = the agent's AEGL is missing (for the exposure duration reached there); " if na else "")
                  + "'unknown' = the concentration there is not known.", highlight=False)
    if present:
        console.print(f"[bold]Gas still present at the end of the forecast[/bold] at {escape(_some(present, 5))}: "
                      "their figures cover the forecast only (fatalities a lower bound; '—' there = not reached "
                      "yet, it may still be).", highlight=False)
    beyond = _column(result, "probit_beyond_fitted_range", n, 0).astype(int)
    exposed_min = _column(result, "exposure_duration_h", n, np.nan).astype(float) * 60.0
    listed_beyond = [i for i in order if beyond[i] and np.nan_to_num(fat[i]) > 0]
    if listed_beyond:
        short = sum(1 for i in listed_beyond if exposed_min[i] < 10.0)
        how = ("shorter" if short == len(listed_beyond) else "longer" if not short else "shorter or longer")
        console.print(f"[bold]Extrapolated:[/bold] {len(listed_beyond)} of the listed receptors were exposed "
                      f"{how} than the 10-60 min the lethality probits were fitted for; their fatalities are "
                      "extrapolations (probit_beyond_fitted_range in consequences.csv).", highlight=False)
    _name_cities(console, result, names, "disc_parts", "Cities a plume crosses",
                 "their deaths are summed over the parts of each city's disc that a plume reaches, each with its "
                 "share of the people (cells of a polar grid round a point release; equal-area points of the disc "
                 "under an emitting city's plume), and the rest of the disc, their arrivals are the earliest part's, "
                 "their peak and % of AEGL-3 the worst part's (averaged over the disc first, a plume reads far lower "
                 "than the air its people breathe; docs/exposure.md).")
    _name_cities(console, result, names, "area_spot", "Cities in an emitting city's plume",
                 "their arrivals, peak and % of AEGL-3 are those of the most exposed point of their disc (an area "
                 "source's plume grows across the disc; its mean is reached later; with several emitting cities near, "
                 "each one's most exposed point summed, no less than any one point's); their deaths are their "
                 "people's, at the points of the line above (docs/exposure.md).")
    # the notes the lines above do not already say (unknowns: the totals line; extrapolated,
    # gas still present: their own lines)
    noted = [(names[i], "; ".join(p for p in str(notes[i]).split("; ") if p.startswith(_NOTE_SHOWN)))
             for i in order]
    noted = [(name, text) for name, text in noted if text]
    if noted:
        console.print("[bold]Notes:[/bold]")
        for name, note in noted:
            console.print(f"  {name}: {note}", markup=False, highlight=False)
    warnings = result_warnings(result)
    if warnings:
        console.print("[yellow]Warnings:[/yellow]")
        for line in warnings:
            console.print(f"  [yellow]•[/yellow] {line}", markup=True, highlight=False)


#: The start of the receptor note of a series that ends with the gas still there.
_STILL_PRESENT = "gas still present at the end of the series"
#: The receptor notes (:func:`plumecast.consequence_result.receptor_notes`) the table lists
#: under "Notes": why a countdown and the deaths seem to disagree, an AEGL that is n/a.
_NOTE_SHOWN = ("deaths without AEGL-3", "deaths, no AEGL-3", "AEGL-1", "AEGL-2", "AEGL-3", "% of AEGL-3")


def total_range(result: xr.Dataset, suffix: str = "") -> tuple[float, float, bool]:
    """The range of the total expected fatalities (``suffix`` ``""`` outdoors,
    ``"_sheltered"``) over the agent's published probit sets: the total under each set,
    lowest and highest, over the receptors whose fatalities are known. Where the result
    lacks the per-set figures (one set only, or rows made of parts) and the receptors'
    ranges are not all single values, the sum of each receptor's lowest and highest is
    returned instead, with ``False`` (then the range is wider than the one over the sets).
    """
    n = int(result.sizes.get("receptor", 0))
    fat = _column(result, f"fatalities{suffix}", n, np.nan).astype(float)
    lo = _column(result, f"fatalities{suffix}_low", n, np.nan).astype(float)
    hi = _column(result, f"fatalities{suffix}_high", n, np.nan).astype(float)
    counted = np.isfinite(fat)
    if not counted.any():
        return float("nan"), float("nan"), True
    name = f"fatalities{suffix}_by_probit_set"
    if name in result.data_vars and result[name].dims == ("receptor", "probit_set"):
        sets = np.asarray(result[name].values, dtype=float)[counted]
        # the per-set figures must be the ones the receptors' ranges come from (a row
        # summed over a city's parts later keeps one part's per-set figures)
        if (np.isfinite(sets).all() and np.allclose(sets.min(axis=1), lo[counted], rtol=1e-9, atol=0.0)
                and np.allclose(sets.max(axis=1), hi[counted], rtol=1e-9, atol=0.0)):
            totals = sets.sum(axis=0)
            return float(totals.min()), float(totals.max()), True
    lo_sum, hi_sum = float(np.nansum(lo[counted])), float(np.nansum(hi[counted]))
    return lo_sum, hi_sum, bool(np.allclose(lo[counted], hi[counted], rtol=1e-12, atol=0.0, equal_nan=True))


_CSV_COLUMNS = (
    "name",
    "country",
    "lat",
    "lon",
    "population",
    "peak_concentration",
    "peak_concentration_ppm",
    "peak_percent_aegl3",
    "first_exceedance_aegl1",
    "first_exceedance_aegl2",
    "first_exceedance_aegl3",
    "hours_to_aegl1",
    "hours_to_aegl2",
    "hours_to_aegl3",
    # 1: the time to the level is known (a time, or empty for never); 0: n/a, the agent's AEGL is missing for a
    # duration reached (an empty cell meant never, n/a and unknown alike; outputs audit, session 30)
    "aegl1_known",
    "aegl2_known",
    "aegl3_known",
    "concentration_known",
    "toxic_load",
    "probit",
    "lethal_fraction",
    "lead_time_aegl2",
    "lead_time_aegl3",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "exposure_duration_h",
    "probit_beyond_fitted_range",
    "disc_parts",
    "area_spot",
    "note",
    "peak_concentration_sheltered",
    "peak_percent_aegl3_sheltered",
    "hours_to_aegl2_sheltered",
    "hours_to_aegl3_sheltered",
    "toxic_load_sheltered",
    "lethal_fraction_sheltered",
    "fatalities_sheltered",
    "fatalities_sheltered_low",
    "fatalities_sheltered_high",
)


#: Columns written as they are (positions and the population of the data); every
#: other number is a model result, written to what the model supports.
_CSV_EXACT = ("lat", "lon", "population")
#: Times from the release or the issue [h]: rounded down to 0.01 h (36 s), so that a
#: file read as a countdown is never late.
_CSV_HOURS = ("hours_to_", "lead_time_")


def _csv_cell(value: Any, column: str = "") -> str:
    if isinstance(value, np.datetime64):
        return "" if np.isnat(value) else f"{np.datetime_as_string(value, unit='s')}Z"
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return ""
        if column.startswith(_CSV_HOURS):
            return repr(floor_hours(x, 36.0))  # down to 0.01 h
        return repr(x if column in _CSV_EXACT else round_sig(x, 2))
    return str(value)


def _csv_text(result: xr.Dataset) -> str:
    cols = [c for c in _CSV_COLUMNS if c in result.coords or c in result.data_vars]
    header = []
    for c in cols:
        units = "UTC" if np.issubdtype(result[c].dtype, np.datetime64) else result[c].attrs.get("units", "")
        header.append(f"{c} [{units}]" if units and units != "1" else c)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for line in result_warnings(result):
        # written as is, never quoted (a quote before the '#' would hide it from comment='#' readers);
        # one line each
        buf.write("# warning: " + " ".join(str(line).split()) + "\n")
    from plumecast.city_parts import parts_note

    note = parts_note(result)
    if note:
        buf.write(f"# note: {note}\n")
    writer.writerow(header)
    arrays = [np.asarray(result[c].values) for c in cols]
    for i in range(int(result.sizes.get("receptor", 0))):
        writer.writerow([_csv_cell(a[i], c) for a, c in zip(arrays, cols, strict=True)])
    return buf.getvalue()


def write_consequence_table(result: xr.Dataset, outdir: str | Path) -> list[Path]:
    """Write ``consequences.csv`` and ``consequences.nc`` atomically.

    The CSV has one row per receptor (units in the header, warnings as leading
    ``# warning:`` lines, empty cells for never/n/a); the netCDF file holds the
    whole result Dataset including the concentration timelines if present.

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`plumecast.consequence.assess`.
    outdir : str or pathlib.Path
        Output directory (created if needed).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    csv_path = outdir / CSV_NAME
    nc_path = outdir / NETCDF_NAME
    text = _csv_text(result)
    with atomic_path(csv_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    ds = cf_consequences(result)
    with atomic_path(nc_path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4")
    return [csv_path, nc_path]


#: Standard names of the CF table (v93) that the consequence file may carry; any
#: other ``standard_name`` is moved into ``long_name`` (CF 3.3 allows only table names).
_CF_STANDARD_NAMES = {"latitude", "longitude", "time"}


def cf_consequences(result: xr.Dataset) -> xr.Dataset:
    """The consequence Dataset made CF-1.8 compliant for ``consequences.nc``: times as
    float64 seconds since the release start (NaN for never), no 64-bit integers
    (netCDF classic types only), text as strings, standard names from the CF table
    only, coordinates described, ``history`` set. Values are unchanged."""
    import datetime

    ds = result.copy()
    start = str(ds.attrs.get("release_start", ""))[:19] or "1970-01-01T00:00:00"
    units = f"seconds since {start.replace('T', ' ')}"
    for name in list(ds.variables):
        v = ds[name]
        if v.dtype == object or v.dtype.kind == "U":
            ds[name] = v.astype(str)
        elif np.issubdtype(v.dtype, np.datetime64):
            vals = np.asarray(v.values, dtype="datetime64[ns]")
            secs = (vals - np.datetime64(start, "ns")) / np.timedelta64(1, "s")  # NaT -> NaN
            ds[name] = (v.dims, np.where(np.isnat(vals), np.nan, secs))
            ds[name].attrs = {**v.attrs, "units": units, "calendar": "standard"}
            ds[name].encoding = {"_FillValue": np.nan} if np.isnat(vals).any() else {}
            v = ds[name]
        elif v.dtype.kind in "iu" and v.dtype.itemsize > 4:
            ds[name] = v.astype(np.int32)
        elif v.dtype == bool:
            ds[name] = v.astype(np.int8)
        ds[name].attrs = dict(v.attrs)
        sn = ds[name].attrs.get("standard_name")
        if sn is not None and sn not in _CF_STANDARD_NAMES:
            del ds[name].attrs["standard_name"]
            ds[name].attrs.setdefault("long_name", str(sn).replace("_", " "))
        for k, a in list(ds[name].attrs.items()):  # netCDF has no 64-bit integer attributes in CF's types
            if isinstance(a, np.integer):
                ds[name].attrs[k] = int(np.int32(a))
    described = {"lat": ("latitude", "degrees_north", "receptor latitude"),
                 "lon": ("longitude", "degrees_east", "receptor longitude"),
                 "time": ("time", None, "end of the transport step (the series' interval)")}
    for name, (sn, unit, long_name) in described.items():
        if name in ds.variables:
            ds[name].attrs.update({"standard_name": sn, "long_name": long_name})
            if unit:
                ds[name].attrs["units"] = unit
            ds[name].encoding["_FillValue"] = None
    if "receptor" in ds.variables:
        ds["receptor"].attrs["long_name"] = "receptor index"
    for k, a in list(ds.attrs.items()):
        if isinstance(a, np.integer):
            ds.attrs[k] = int(np.int32(a))
    # CF 2.4: dimensions other than T, Z, Y, X go to the left of them
    for name in list(ds.data_vars):
        if ds[name].dims == ("time", "receptor"):
            ds[name] = ds[name].transpose("receptor", "time")
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    ds.attrs["Conventions"] = "CF-1.8"
    ds.attrs["history"] = (str(ds.attrs.get("history", "")) + "\n" if ds.attrs.get("history") else "") \
        + f"{now} plumecast: consequence assessment written"
    return ds


# --------------------------------------------------------------------------- people in cells


def people_lower_bound(x: float, sig: int = 2) -> str:
    """A count that is a lower bound (part of the area has no population data), as
    :func:`plumecast.numbers.people` shows counts but rounded **down** to ``sig``
    significant figures, after ``"≥ "``: rounding 1,051 to "1,100" would claim more
    than was counted. ``"unknown"`` for NaN.

    >>> people_lower_bound(1051.0), people_lower_bound(1000.0), people_lower_bound(0.3), people_lower_bound(0.0)
    ('≥ 1,000', '≥ 1,000', '≥ 0', '≥ 0')
    """
    if x is None or not math.isfinite(x):
        return "unknown"
    if x < 1:
        return "≥ 0"
    step = 10.0 ** (int(math.floor(math.log10(x))) - sig + 1)
    down = math.floor(x / step + 1e-9) * step
    return f"≥ {people(down, sig)}"


def people_above_cells(row: dict[str, Any]) -> str:
    """The ``people`` cell of a row of :meth:`plumecast.grid_consequence.PeopleAbove.rows`:
    :func:`people`, or :func:`people_lower_bound` where part of the cells' area has no
    raster data (``unknown_area_fraction`` > 0; the docs call the count a lower bound)."""
    p = float(row["people"])
    return people_lower_bound(p) if float(row["unknown_area_fraction"]) > 0 else people(p)


def people_above_warnings(rows: list[dict[str, Any]]) -> list[str]:
    """One line when the population raster leaves part of the cells reaching an AEGL
    without data (nodata cells, or the raster ends): the counts there are lower bounds."""
    part = [(r["level"], float(r["unknown_area_fraction"])) for r in rows if float(r["unknown_area_fraction"]) > 0]
    if not part:
        return []
    shares = ", ".join(f"{100 * u:.2g} % for {level}" for level, u in part)
    return [f"the population raster has no data on part of the area of the cells that reach the AEGLs ({shares}; "
            "nodata cells or beyond the raster's extent): the people counted there are a lower bound (≥), not the "
            "number living there; give a raster that covers the plume"]


def cells_below_receptors(rows: list[dict[str, Any]], consequences: Any, grid_words: str) -> list[str]:
    """A line for each level that no output cell reaches while the casualty table has it
    reached at receptors (``consequences``: the run's :func:`plumecast.consequence.assess`
    dataset), naming them: the table's "0 people" at that level is the cells', not the
    people's (outputs audit, session 35: AEGL-3 "0" beside 720 deaths in Duisburg).
    ``grid_words``: what the cells are ("15-min means over 0.05 deg cells")."""
    if consequences is None:
        return []
    out = []
    names = [str(n) for n in consequences["name"].values]
    for row in rows:
        level = str(row["level"])
        var = f"first_exceedance_{level.lower().replace('-', '')}"
        if int(row["cells"]) > 0 or var not in consequences:
            continue
        reached = [n for n, t in zip(names, consequences[var].values, strict=True) if not np.isnat(t)]
        if not reached:
            continue
        shown = ", ".join(reached[:3]) + (f" and {len(reached) - 3} more" if len(reached) > 3 else "")
        out.append(f"{level}: no output cell reaches it ({grid_words}), though the casualty table has it reached at "
                   f"{shown}: a receptor's figures come from the air at the parts of its own disc and the near-field "
                   "plumes, which the cells' means understate; the table's 0 people is the cells' count, not the "
                   "people exposed")
    return out


def print_people_above(rows: list[dict[str, Any]], console: Console, title: str) -> None:
    """The run's table of people living in the output cells that reach each AEGL (rows of
    :meth:`plumecast.grid_consequence.PeopleAbove.rows`), with a lower-bound count ("≥
    1,000") where part of the cells' area has no raster data, and then the warning that
    says so (:func:`people_above_warnings`)."""
    table = Table(title=title)
    for col in ("level", "cells", "people", "area without raster data"):
        table.add_column(col, justify="right")
    for row in rows:
        u = float(row["unknown_area_fraction"])
        table.add_row(row["level"], f"{row['cells']:,}", people_above_cells(row),
                      "< 1 %" if 0 < u < 0.005 else f"{100 * u:.0f} %")
    console.print(table)
    warnings = people_above_warnings(rows)
    if warnings:
        console.print("[yellow]Warnings:[/yellow]")
        for line in warnings:
            console.print(f"  [yellow]•[/yellow] {escape(line)}", markup=True, highlight=False)
