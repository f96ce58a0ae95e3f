"""``plumecast met``: meteorological data (``plumecast met fetch``: open forecast downloads;
``plumecast met check``: what a run would read from met files)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plumecast.cli.common import console, output_file

met_app = typer.Typer(
    name="met",
    help="Meteorological data for plumecast runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@met_app.command("fetch")
def fetch_command(
    output: Annotated[Path, typer.Option("--output", "-o", parser=output_file, metavar="PATH",
                                          help="netCDF file to write (e.g. forecast.nc)")],
    date: Annotated[str, typer.Option(help="date of the forecast run, YYYY-MM-DD (UTC)")],
    area: Annotated[str, typer.Option(help="N,W,S,E in degrees, e.g. 60,-10,35,30 (longitudes -180..180)")],
    source: Annotated[str, typer.Option(help="ecmwf (IFS open data, CC BY 4.0) or gfs (NOAA GFS)")] = "ecmwf",
    cycle: Annotated[int, typer.Option(help="start of the run: 0, 6, 12 or 18 UTC")] = 0,
    steps: Annotated[str, typer.Option(help="lead times in hours: 0,3,6 or a range 0-72/3")] = "0-72/3",
    levels: Annotated[str | None, typer.Option(help="pressure levels in hPa, e.g. 1000,925,850,700,500 "
                                                    "(default: 1000 to 200 hPa, 10 levels)")] = None,
    mirror: Annotated[str | None, typer.Option(help="where from: ecmwf (default), aws, azure or google for "
                                                    "--source ecmwf; aws (default), nomads or google for gfs")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace OUTPUT if it exists")] = False,
) -> None:
    """Download an open forecast (ECMWF or GFS, 0.25 degree, no account needed) for a run,
    lead times and an area into ONE normalised netCDF file: u, v, w, z, t on pressure
    levels and the 10 m winds and surface fields, on ERA5 names, ready for met.path."""
    from plumecast.met.fetch import (
        DEFAULT_LEVELS,
        FetchRequest,
        fetch,
        parse_area,
        parse_date,
        parse_levels,
        parse_steps,
    )

    req = FetchRequest(source=source.strip().lower(), date=parse_date(date), cycle=cycle,
                       steps=parse_steps(steps), area=parse_area(area),
                       levels=DEFAULT_LEVELS if levels is None else parse_levels(levels),
                       mirror=None if mirror is None else mirror.strip().lower())

    def say(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True)

    fetch(req, output, force=force, say=say)
    if req.source == "ecmwf":
        say("data: ECMWF open data, CC BY 4.0 (attribute ECMWF)")


@met_app.command("check")
def check_command(
    paths: Annotated[list[str], typer.Argument(help="met file(s), a folder or a glob pattern, as met.path takes")],
    member: Annotated[int | None, typer.Option(help="member to read where the files hold several (0 ...)")] = None,
) -> None:
    """Read met files as a run would, without running: what was found (times, grid,
    levels, members), how each field was read or diagnosed (the run's provenance
    lines), and every record converted for the kernels as a run converts it (evenly
    spaced records of a set over 4 GiB, named), so that a file a run would refuse is
    refused here, in one line naming it."""
    from plumecast.met.check import check_met

    for line in check_met(paths[0] if len(paths) == 1 else paths, member=member):
        console.print(line, highlight=False, soft_wrap=True, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(met_app, name="met")
