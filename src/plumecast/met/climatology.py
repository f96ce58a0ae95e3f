"""The shipped ERA-Interim January/July climatological mean winds (steady global default).

These are climatological mean winds, not a forecast: a release is carried by the
average January or July circulation, not by the weather of its day.

The package carries ``data/met/eraint_uv_climatology.nc``: ERA-Interim monthly
mean ``u``/``v`` and geopotential ``z`` for **January and July only**, at 850, 500
and 200 hPa on a 0.75 deg global grid (made by ``tools/make_climatology.py``; origin, checksum and
attribution in ``data/met/PROVENANCE.md``). Attribution: "Contains modified ECMWF
ERA-Interim data (monthly means prepared by F. Maussion for pydata/xarray-data).
(c) ECMWF, CC BY 4.0."

Because only those two means exist, :func:`climatology` maps a calendar month to
the nearer season: **January for months 10, 11, 12, 1, 2, 3 and July for months
4 to 9**. The field is steady (one record, ``steady=1``); its time stamp is the
placeholder :data:`plumecast.met.reader.STEADY_TIME` and carries no meaning.

:func:`climatology` gives one level (the single-level wind dataset);
:func:`climatology_3d` gives the three levels with their geopotential as a
normalised 3-D dataset for :func:`plumecast.met.levels.wind_grid_3d`. The file has
no orography, so the heights of the levels are heights above sea level, and no
10 m wind: below 850 hPa the winds follow the log law from the 850 hPa wind.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met.levels import normalise_met_3d
from plumecast.met.reader import STEADY_TIME, normalise_wind

__all__ = ["CLIMATOLOGY_FILE", "CLIMATOLOGY_LEVELS_HPA", "climatology", "climatology_3d", "climatology_month"]

#: Package resource holding the climatology (relative to ``plumecast``).
CLIMATOLOGY_FILE = "data/met/eraint_uv_climatology.nc"
#: Pressure levels available in the shipped file. [hPa]
CLIMATOLOGY_LEVELS_HPA = (200.0, 500.0, 850.0)


def climatology_month(month: int) -> int:
    """The month of the shipped mean used for calendar month ``month``.

    Parameters
    ----------
    month : int
        Calendar month, 1..12.

    Returns
    -------
    int
        1 (January mean) for months 10-3, 7 (July mean) for months 4-9.
    """
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise MetDataError(f"climatology: month={month!r}; expected an integer 1..12")
    return 7 if 4 <= month <= 9 else 1


@lru_cache(maxsize=1)
def _load_raw() -> xr.Dataset:
    ref = resources.files("plumecast").joinpath(CLIMATOLOGY_FILE)
    with resources.as_file(ref) as path:
        if not path.is_file():
            raise MetDataError(f"{path}: shipped climatology missing; reinstall plumecast")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=xr.SerializationWarning)
            with xr.open_dataset(path) as ds:
                return ds.load()


def climatology(month: int, level_hpa: float = 850.0) -> xr.Dataset:
    """ERA-Interim climatological mean winds for a season, as a steady normalised
    wind dataset on one level (climatological mean winds, not a forecast).

    Parameters
    ----------
    month : int
        Calendar month, 1..12; months 10-3 use the January mean, 4-9 the July mean.
    level_hpa : float
        Pressure level, one of 850, 500, 200. [hPa]

    Returns
    -------
    xarray.Dataset
        Normalised wind dataset (``u``, ``v`` [m s-1], 241 x 480 nodes,
        ``steady=1``, ``global_lon=1``), with extra attrs ``month`` (the mean used)
        and ``attribution``.

    Examples
    --------
    >>> ds = climatology(12, 850.0)
    >>> ds.attrs["month"], ds.attrs["level"], ds.sizes["lat"], ds.sizes["lon"]
    (1, '850 hPa', 241, 480)
    """
    use = climatology_month(month)
    raw = _load_raw()
    if not any(abs(float(level_hpa) - lev) < 1e-6 for lev in CLIMATOLOGY_LEVELS_HPA):
        raise MetDataError(
            f"climatology: level_hpa={level_hpa!r} not available; expected one of "
            f"{list(CLIMATOLOGY_LEVELS_HPA)} hPa"
        )
    one = raw[["u", "v"]].sel(month=use)
    out = normalise_wind(
        one,
        source=f"plumecast climatology: ERA-Interim {'January' if use == 1 else 'July'} mean",
        level_hpa=level_hpa,
    )
    out.attrs["month"] = use
    out.attrs["attribution"] = raw.attrs.get("attribution", "")
    return out


def climatology_3d(month: int) -> xr.Dataset:
    """ERA-Interim climatological mean winds on 850, 500 and 200 hPa with their
    geopotential, as a steady normalised 3-D dataset (climatological mean winds,
    not a forecast).

    Parameters
    ----------
    month : int
        Calendar month, 1..12; months 10-3 use the January mean, 4-9 the July mean.

    Returns
    -------
    xarray.Dataset
        The normalised 3-D dataset (:mod:`plumecast.met.levels`): ``u``, ``v``,
        ``gh`` on ``(time, level, lat, lon)``, one record (``steady=1``), levels
        850, 500, 200 hPa; no orography (heights above sea level stand for heights
        above ground), no 10 m wind, no temperature or boundary layer. Extra attrs
        ``month`` (the mean used), ``attribution`` and ``description``. Give it to
        :func:`plumecast.met.levels.wind_grid_3d`.

    Examples
    --------
    >>> ds = climatology_3d(12)
    >>> ds.attrs["month"], ds["level"].values.tolist(), ds.sizes["lat"], ds.sizes["lon"]
    (1, [850.0, 500.0, 200.0], 241, 480)
    """
    use = climatology_month(month)
    raw = _load_raw()
    one = raw.sel(month=use, drop=True).assign_coords(time=STEADY_TIME)
    season = "January" if use == 1 else "July"
    path = Path(CLIMATOLOGY_FILE)
    out = normalise_met_3d([(path, one)], source=f"plumecast climatology: ERA-Interim {season} mean "
                                                 "(climatological mean winds, not a forecast)")
    out.attrs["month"] = use
    out.attrs["attribution"] = raw.attrs.get("attribution", "")
    out.attrs["description"] = (f"ERA-Interim {season} climatological mean winds on 850, 500, 200 hPa; no "
                                "orography in the file (heights above sea level); no 10 m wind")
    return out
