"""ECMWF open data for ``plumecast met fetch --source ecmwf``: the IFS forecast
on the 0.25 degree grid (CC BY 4.0), downloaded with ECMWF's ``ecmwf-opendata``
client from data.ecmwf.int or one of its cloud mirrors (see
:mod:`plumecast.met.fetch`)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from plumecast.met.fetch_common import (
    FetchRequest,
    _fields,
    _network_errors,
    _require,
    precipitation_steps,
)
from plumecast.met.fetch_surface import solar_steps


@contextlib.contextmanager
def _quiet_library() -> Iterator[None]:
    """Keep ecmwf-opendata and multiurl from printing (attribution line, retry
    warnings, progress bars): plumecast says what happens in its own words."""
    names = ("ecmwf.opendata", "ecmwf", "multiurl", "urllib3")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for n, lev in levels.items():
            logging.getLogger(n).setLevel(lev)


def download_ecmwf(req: FetchRequest, folder: Path) -> list[Path]:
    """Download the request's fields from ECMWF open data with ``ecmwf-opendata``
    into GRIB2 files in ``folder`` (requests for the pressure levels, the surface
    fields, the fields accumulated since the start (precipitation ``tp`` and solar
    radiation ``ssrd``, each its own request) and the land-sea mask ``lsm`` at step 0; the
    last two are left out where the service has none)."""
    # looked up there at call time: the tests replace it in plumecast.met.fetch
    from plumecast.met.fetch import _reachable

    client_class = _require("ecmwf.opendata", "--source ecmwf (ECMWF open data)").Client
    pl_fields, sfc_fields = _fields("ecmwf")
    _reachable(req.host)
    common: dict[str, Any] = dict(date=int(req.date.strftime("%Y%m%d")), time=req.cycle,
                                  step=list(req.steps), type="fc", stream="oper")
    out = []
    with _network_errors(req, "forecast"), _quiet_library():
        client = client_class(source=req.mirror or "ecmwf", maximum_retries=3, retry_after=2)
        target = folder / "ecmwf-pl.grib2"
        client.retrieve(**common, levtype="pl", levelist=list(req.levels),
                        param=[f.ecmwf for f in pl_fields], target=str(target))
        out.append(target)
        target = folder / "ecmwf-sfc.grib2"
        client.retrieve(**common, levtype="sfc", param=[f.ecmwf for f in sfc_fields], target=str(target))
        out.append(target)
        acc_steps = sorted(set(precipitation_steps(req)) | set(solar_steps(req)))  # the same steps
        if acc_steps:  # accumulated since the start: precipitation tp and solar radiation ssrd
            target = folder / "ecmwf-tp.grib2"
            client.retrieve(**dict(common, step=acc_steps), levtype="sfc", param=["tp"], target=str(target))
            out.append(target)
            target = folder / SSRD_FILE
            if _optional_field(client, dict(common, step=acc_steps), "ssrd", target):
                out.append(target)
        target = folder / LSM_FILE  # time-invariant: once, at step 0
        with _network_errors(dataclasses.replace(req, steps=(0,)), "land-sea mask (lsm)"):
            if _optional_field(client, dict(common, step=[0]), "lsm", target):
                out.append(target)
    return out


def _optional_field(client: Any, request: dict[str, Any], param: str, target: Path) -> bool:
    """Download one surface field a run can do without (the solar radiation ``ssrd``,
    the land-sea mask ``lsm``); False where the service's index lists none (the file then
    goes without it and says so; runs take the declared radiation, the shipped Natural
    Earth land). Any other failure is raised."""
    try:
        client.retrieve(**request, levtype="sfc", param=[param], target=str(target))
    except ValueError as exc:
        if "index entries" not in str(exc):
            raise
        return False
    return True


#: the files of the solar radiation and the land-sea mask in the download folder (absent
#: where the service has none)
SSRD_FILE = "ecmwf-ssrd.grib2"
LSM_FILE = "ecmwf-lsm.grib2"
