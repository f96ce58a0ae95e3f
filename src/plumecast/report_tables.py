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
from rich.table import Table

from plumecast.consequence import result_warnings
from plumecast.fileio import atomic_path

__all__ = ["format_countdown", "print_casualty_table", "write_consequence_table"]

CSV_NAME = "consequences.csv"
NETCDF_NAME = "consequences.nc"


def format_countdown(seconds: float | None, *, relative: bool = True) -> str:
    """Human countdown: ``"in 5 h 20 min"``, ``"passed 40 min ago"``, ``"+5 h 20 min"``.

    Parameters
    ----------
    seconds : float or None
        Time from the reference (now, or the release start) to the event. [s]
        ``None``/NaN gives ``"—"`` (never).
    relative : bool
        ``True``: relative to now ("in ..." / "passed ... ago"); ``False``: time
        after release start ("+...").
    """
    if seconds is None or not math.isfinite(seconds):
        return "—"
    minutes = int(round(abs(seconds) / 60.0))
    h, m = divmod(minutes, 60)
    text = f"{h} h {m:02d} min" if h else f"{m} min"
    if not relative:
        return f"+{text}"
    if seconds < 0:
        return f"passed {text} ago"
    return f"in {text}" if minutes else "now"


def _column(result: xr.Dataset, name: str, n: int, fill: Any = "") -> np.ndarray:
    if name in result.coords or name in result.data_vars:
        return np.asarray(result[name].values)
    return np.full(n, fill, dtype=object)


def _fmt_people(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:,.0f}"


def print_casualty_table(
    result: xr.Dataset,
    console: Console,
    top: int = 20,
    now: Any = None,
) -> None:
    """Print cities ranked by expected fatalities, the totals and the warnings.

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`plumecast.consequence.assess`.
    console : rich.console.Console
        Where to print.
    top : int
        Number of receptors listed.
    now : datetime-like, optional
        Reference time for the countdowns ("in 5 h 20 min"). Default: countdowns
        are given as time after the release start ("+5 h 20 min").
    """
    n = int(result.sizes.get("receptor", 0))
    fat = np.asarray(result["fatalities"].values, dtype=float)
    fat_sh = np.asarray(result["fatalities_sheltered"].values, dtype=float)
    order = np.argsort(-np.nan_to_num(fat, nan=-1.0), kind="stable")[: max(top, 0)]
    names = _column(result, "name", n)
    if not any(str(x) for x in names):
        names = np.asarray([str(r) for r in result["receptor"].values], dtype=object)
    countries = _column(result, "country", n)
    pop = np.asarray(result["population"].values, dtype=float)
    pct = np.asarray(result["peak_percent_lethal_level"].values, dtype=float)

    def countdowns(level: int) -> list[str]:
        if not int(result.attrs.get(f"aegl{level}_available", 1)):
            return ["n/a"] * n
        hours = np.asarray(result[f"hours_to_aegl{level}"].values, dtype=float)
        if now is None:
            return [format_countdown(h * 3600.0, relative=False) for h in hours]
        stamps = result[f"first_exceedance_aegl{level}"].values
        if np.issubdtype(stamps.dtype, np.datetime64):
            ref = np.datetime64(now, "ns")
            secs = (stamps - ref) / np.timedelta64(1, "s")
        else:
            secs = stamps - float(now)
        return [format_countdown(float(s)) for s in secs]

    to2, to3 = countdowns(2), countdowns(3)
    agent = result.attrs.get("agent", "?")
    table = Table(title=f"Expected casualties — {agent} (ranked by fatalities outdoors)")
    for col, just in (
        ("city", "left"),
        ("country", "left"),
        ("population", "right"),
        ("peak % of lethal level", "right"),
        ("to AEGL-2", "right"),
        ("to AEGL-3", "right"),
        ("fatalities outdoors", "right"),
        ("with shelter", "right"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for i in order:
        table.add_row(
            str(names[i]),
            str(countries[i]),
            _fmt_people(pop[i]),
            "n/a" if not math.isfinite(pct[i]) else f"{pct[i]:.0f} %",
            to2[i],
            to3[i],
            _fmt_people(fat[i]),
            _fmt_people(fat_sh[i]),
        )
    console.print(table)
    total = float(result.attrs.get("total_fatalities", np.nan))
    total_sh = float(result.attrs.get("total_fatalities_sheltered", np.nan))
    comp = result.attrs.get("shelter_compliance_fraction", "?")
    ach = result.attrs.get("shelter_air_changes_per_hour", "?")
    console.print(
        f"Total expected fatalities: [bold]{_fmt_people(total)}[/bold] without shelter-in-place, "
        f"[bold]{_fmt_people(total_sh)}[/bold] with shelter-in-place "
        f"({ach} air changes/h, {comp} compliance)."
    )
    if now is None:
        console.print("Countdowns are times after the release start; '—' = never reached.")
    warnings = result_warnings(result)
    if warnings:
        console.print("[yellow]Warnings:[/yellow]")
        for line in warnings:
            console.print(f"  [yellow]•[/yellow] {line}", markup=True, highlight=False)


_CSV_COLUMNS = (
    "name",
    "country",
    "lat",
    "lon",
    "population",
    "peak_concentration",
    "peak_concentration_ppm",
    "peak_percent_lethal_level",
    "first_exceedance_aegl1",
    "first_exceedance_aegl2",
    "first_exceedance_aegl3",
    "hours_to_aegl1",
    "hours_to_aegl2",
    "hours_to_aegl3",
    "toxic_load",
    "probit",
    "lethal_fraction",
    "fatalities",
    "peak_concentration_sheltered",
    "peak_percent_lethal_level_sheltered",
    "hours_to_aegl2_sheltered",
    "hours_to_aegl3_sheltered",
    "toxic_load_sheltered",
    "lethal_fraction_sheltered",
    "fatalities_sheltered",
)


def _csv_cell(value: Any) -> str:
    if isinstance(value, np.datetime64):
        return "" if np.isnat(value) else str(np.datetime_as_string(value, unit="s"))
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    return str(value)


def _csv_text(result: xr.Dataset) -> str:
    cols = [c for c in _CSV_COLUMNS if c in result.coords or c in result.data_vars]
    header = []
    for c in cols:
        units = result[c].attrs.get("units", "")
        header.append(f"{c} [{units}]" if units and units != "1" else c)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for line in result_warnings(result):
        writer.writerow([f"# warning: {line}"])
    writer.writerow(header)
    arrays = [np.asarray(result[c].values) for c in cols]
    for i in range(int(result.sizes.get("receptor", 0))):
        writer.writerow([_csv_cell(a[i]) for a in arrays])
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
    ds = result.copy()
    for name in ds.variables:
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    with atomic_path(nc_path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4")
    return [csv_path, nc_path]
