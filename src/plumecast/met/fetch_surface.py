"""Solar radiation at the ground and the land-sea mask for ``plumecast met fetch``.

Two surface fields that the dry-deposition resistance model uses (the stomatal
resistance depends on the solar radiation; land and sea take different surface
resistances):

* ``rsds``, the downward short-wave (solar) radiation at the ground [W m-2], on
  ``(time, latitude, longitude)``: like ``prate``, the **mean over the interval
  that ends at each lead time** (from the previous lead time, or from the
  published step before the first one), the first interval's mean at lead time 0,
  and none when only lead time 0 is fetched (:func:`solar_radiation`).

  - ECMWF open data send ``ssrd``, "surface solar radiation downwards" (paramId
    169, GRIB2 discipline 0, category 4, number 7, typeOfStatisticalProcessing 1
    = accumulation), in J m-2 accumulated from the start of the forecast (ECMWF
    parameter database, https://codes.ecmwf.int/grib/param-db/169). The mean over
    (s_k-1, s_k] is (ssrd(s_k) - ssrd(s_k-1)) / (3600 s h-1 (s_k - s_k-1)), with
    ssrd(0) = 0, as ``tp`` for ``prate``.
  - GFS sends ``DSWRF`` at the surface (GRIB2 0/4/7, typeOfStatisticalProcessing
    0 = average) in W m-2, averaged over a window that restarts every 6 h: the
    f003 file holds the 0-3 h mean ("0-3 hour ave fcst"), f006 the 0-6 h mean,
    f009 the 6-9 h mean, f012 the 6-12 h mean, and so on (NCEP GFS product
    inventory of ``gfs.tCCz.pgrb2.0p25.fFFF``,
    https://www.nco.ncep.noaa.gov/pmb/products/gfs/; the normalisation of such
    averages: wgrib2 ``-ncep_norm``,
    https://www.cpc.ncep.noaa.gov/products/wesley/wgrib2/ncep_norm.html). The
    average is taken back to the interval between two lead times through the
    integral over each window: the 3-6 h mean is (6 A(0-6) - 3 A(0-3)) / 3. The
    window of each message is read from the message itself (its startStep); the
    steps downloaded are planned with the 6 h rule (:func:`solar_steps`).

* ``lsm``, the land-sea mask (land area fraction, 0 sea to 1 land), on
  ``(latitude, longitude)``: a time-invariant field, so it is stored once and
  not repeated per lead time. ECMWF open data: ``lsm`` (paramId 172, GRIB2 2/0/0,
  "the proportion of land in the grid box", ECMWF parameter database,
  https://codes.ecmwf.int/grib/param-db/172), requested at step 0. GFS: ``LAND``
  at the surface (GRIB2 2/0/0, "Land cover (1 = land, 0 = sea)", NCEP GFS
  product inventory), taken from the file of the first lead time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from plumecast.met.fetch_common import FetchRequest, MetFetchError, _allowed_steps

__all__ = ["interval_means", "solar_radiation", "solar_steps"]

#: GRIB2 (discipline, category, number, type of first fixed surface) of the downward
#: short-wave radiation flux at the ground (WMO GRIB2 code table 4.2, 0/4/7).
SOLAR_CODES = (0, 4, 7, 1)
#: ... and of land cover, the land-sea mask (code table 4.2, 2/0/0).
MASK_CODES = (2, 0, 0, 1)
#: GFS averages restart every this many hours (NCEP GFS product inventory).
GFS_AVERAGE_RESET_H = 6
#: wgrib2 .idx entries of the two GFS messages.
GFS_SOLAR = ("DSWRF", "surface")
GFS_MASK = ("LAND", "surface")


def _window_start(source: str, step: int) -> int:
    """Start [h] of the window a solar-radiation message of lead time ``step`` covers,
    by the services' rules: ECMWF accumulates from the start, GFS averages from the
    last multiple of 6 h before the step."""
    if source == "ecmwf":
        return 0
    return GFS_AVERAGE_RESET_H * ((step - 1) // GFS_AVERAGE_RESET_H)


def _integral(a: int, b: int, start_of: Callable[[int], int], mean_of: Callable[[int], Any]) -> Any:
    """Integral of the flux over (a, b] [W m-2 h], from window means: a message at
    lead time b gives the mean over (start(b), b]. With st = start(b):
    I(a, b) = (b - st) M(b) + I(a, st) when st >= a, and (b - st) M(b) - I(st, a)
    when the window begins before a. Each pass lowers b, so this ends."""
    total: Any = 0.0
    sign = 1.0
    while a != b:
        st = start_of(b)
        if not 0 <= st < b:
            raise MetFetchError(f"the solar radiation of step {b} h covers {st}-{b} h; expected a window "
                                "that ends at its step")
        total = total + sign * (b - st) * mean_of(b)
        if st >= a:
            b = st
        else:
            sign = -sign
            a, b = st, a
    return total


def _intervals(req: FetchRequest) -> list[tuple[int, int]]:
    """(start, end) [h] of the interval whose mean each requested lead time takes, as
    for the precipitation rate: from the previous lead time (the published step
    before the first one); at lead time 0 the first interval."""
    steps = list(req.steps)
    if not any(s > 0 for s in steps):
        return []
    out = []
    for k, s in enumerate(steps):
        if s == 0:
            out.append((0, steps[k + 1]))
        elif k > 0:
            out.append((steps[k - 1], s))
        else:
            out.append((max(p for p in _allowed_steps(req.source, req.cycle) if p < s), s))
    return out


def solar_steps(req: FetchRequest) -> tuple[int, ...]:
    """Lead times [h] whose solar-radiation message is downloaded: those the
    intervals of :func:`solar_radiation` need by the services' window rules. For
    ECMWF, the precipitation steps (every requested one after 0 and the published
    step before the first); for GFS the requested ones after 0, plus the 6 h
    boundaries and the step before the first where an interval crosses a window.
    None when only lead time 0 is asked for."""
    need: set[int] = set()

    def record(step: int) -> float:
        need.add(step)
        return 0.0

    for a, b in _intervals(req):
        _integral(a, b, lambda s: _window_start(req.source, s), record)
    return tuple(sorted(need))


def interval_means(req: FetchRequest, means: dict[int, tuple[int, np.ndarray]], what: str) -> np.ndarray:
    """The mean of a flux over the interval that ends at each requested lead time, from
    the means over the services' windows (``means``: lead time [h] -> (window start
    [h], mean over the window)), through the integrals of :func:`_integral`; ``what``
    names the field in the error for a missing message. Small negative values left by
    GRIB packing are set to 0."""
    def start_of(step: int) -> int:
        if step not in means:
            raise MetFetchError(f"the download of {req.describe()} lacks the {what} of step {step} h; "
                                "expected it for every lead time after 0")
        return means[step][0]

    out = [_integral(a, b, start_of, lambda s: means[s][1]) / float(b - a) for a, b in _intervals(req)]
    if not out:
        raise MetFetchError(f"{what} needs a lead time after 0")
    return np.maximum(np.stack(out), 0.0)


def solar_radiation(req: FetchRequest, means: dict[int, tuple[int, np.ndarray]]) -> np.ndarray:
    """Solar radiation at the ground [W m-2] at each requested lead time: the mean
    over the interval that ends there (module docstring).

    Parameters
    ----------
    req : FetchRequest
        Its source, cycle and lead times.
    means : dict
        Lead time [h] -> (window start [h], mean flux over the window [W m-2], an
        array), one per downloaded message (ECMWF ssrd / (3600 s h-1 x the step),
        GFS DSWRF as sent).

    Returns
    -------
    ndarray (time, ...)
        Small negative values left by GRIB packing are set to 0.

    Raises
    ------
    MetFetchError
        A message an interval needs is not in ``means`` (naming its step).
    """
    return interval_means(req, means, "solar radiation")


# --------------------------------------------------------------------------- decoding

def surface_kind(ec: Any, h: Any, source: str, codes: tuple[int, ...]) -> str:
    """'solar' (ECMWF ssrd, accumulated; GFS DSWRF, averaged), 'mask' (land cover)
    or '' for a message of another field."""
    if codes == MASK_CODES:
        return "mask"
    if codes != SOLAR_CODES or not ec.codes_is_defined(h, "typeOfStatisticalProcessing"):
        return ""
    stat = int(ec.codes_get(h, "typeOfStatisticalProcessing", ktype=int))
    return "solar" if stat == (1 if source == "ecmwf" else 0) else ""


class SurfaceFields:
    """Collects the solar-radiation and land-sea-mask messages of a download."""

    def __init__(self, req: FetchRequest) -> None:
        self.req = req
        self.solar_steps = set(solar_steps(req))
        self.mask_step = 0 if req.source == "ecmwf" else req.steps[0]
        self.solar: dict[int, tuple[int, np.ndarray]] = {}
        self.mask: np.ndarray | None = None
        #: the service offered no land-sea mask / no solar radiation (ECMWF open data without
        #: lsm / ssrd): none is written
        self.mask_unoffered = False
        self.solar_unoffered = False

    def wanted(self, ec: Any, h: Any, kind: str) -> bool:
        ec.codes_set(h, "stepUnits", 1)
        end = int(ec.codes_get(h, "endStep", ktype=int))
        if kind == "solar":
            return end in self.solar_steps and end not in self.solar
        return end == self.mask_step and self.mask is None

    def add(self, ec: Any, h: Any, kind: str, path: Any, values: np.ndarray) -> None:
        """Keep a wanted message's values (inside the area): the solar radiation as
        the mean flux over its window, the mask checked to lie in [0, 1]."""
        ref = (int(ec.codes_get(h, "dataDate")), int(ec.codes_get(h, "dataTime")))
        if ref != (int(self.req.date.strftime("%Y%m%d")), self.req.cycle * 100):
            raise MetFetchError(f"{path}: holds the run of {ref[0]} {ref[1]:04d} UTC; expected {self.req.describe()}")
        end = int(ec.codes_get(h, "endStep", ktype=int))
        if kind == "mask":
            finite = values[np.isfinite(values)]
            if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
                raise MetFetchError(f"{path}: the land-sea mask has values {finite.min():g} to {finite.max():g} "
                                    "in the area; expected 0 (sea) to 1 (land)")
            self.mask = values
            return
        start = int(ec.codes_get(h, "startStep", ktype=int))
        if end <= start:
            raise MetFetchError(f"{path}: the solar radiation of step {end} h covers {start}-{end} h; expected "
                                "an accumulation or average over an interval ending at the step")
        if self.req.source == "ecmwf":
            units = str(ec.codes_get(h, "units"))
            if units not in ("J m**-2", "J m-2"):
                raise MetFetchError(f"{path}: ssrd of step {end} h is in {units!r}; expected J m**-2 accumulated")
            values = values / (3600.0 * (end - start))  # J m-2 over the window -> mean W m-2
        self.solar[end] = (start, values)

    def arrays(self) -> dict[str, np.ndarray]:
        """``rsds`` (time, lat, lon) and ``lsm`` (lat, lon); a missing message is a
        :class:`MetFetchError` naming it."""
        out: dict[str, np.ndarray] = {}
        if self.mask is None and not self.mask_unoffered:
            name = "lsm" if self.req.source == "ecmwf" else "LAND at the surface"
            raise MetFetchError(f"the download of {self.req.describe()} lacks the land-sea mask ({name}, step "
                                f"{self.mask_step} h); expected it once for the area")
        if self.mask is not None:
            out["lsm"] = self.mask.astype(np.float32)
        if self.solar_steps and not self.solar_unoffered:
            out["rsds"] = solar_radiation(self.req, self.solar).astype(np.float32)
        return out


def data_vars(arrays: dict[str, np.ndarray], req: FetchRequest) -> dict[str, Any]:
    """The netCDF variables ``rsds`` and ``lsm`` (those in ``arrays``)."""
    out: dict[str, Any] = {}
    if "rsds" in arrays:
        how = ("from ssrd, accumulated since the start [J m-2], differenced between lead times (the published "
               "step before the first one) / 3600 s per hour" if req.source == "ecmwf" else
               "from GFS DSWRF at the surface, averaged over windows restarting every 6 h, taken back to the "
               "interval through the integral over each window (e.g. 3-6 h: (6 A(0-6) - 3 A(0-3)) / 3)")
        out["rsds"] = (("time", "latitude", "longitude"), arrays["rsds"],
                       {"units": "W m-2", "standard_name": "surface_downwelling_shortwave_flux_in_air",
                        "long_name": "Surface solar radiation downwards",
                        "comment": "mean over the interval from the previous lead time to this one, " + how
                                   + "; at lead time 0, the mean of the first interval"})
    if "lsm" in arrays:
        frm = ("ECMWF lsm (land fraction of the grid box), step 0" if req.source == "ecmwf" else
               f"GFS LAND at the surface (1 = land, 0 = sea), step {req.steps[0]} h")
        out["lsm"] = (("latitude", "longitude"), arrays["lsm"],
                      {"units": "1", "standard_name": "land_area_fraction", "long_name": "Land-sea mask",
                       "comment": f"time-invariant, stored once: {frm}"})
    return out
