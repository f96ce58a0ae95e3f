"""The shipped ERA-Interim January/July mean winds (steady global default).

The package carries ``data/met/eraint_uv_climatology.nc``: ERA-Interim monthly
mean ``u``/``v`` for **January and July only**, at 850, 500 and 200 hPa on a
0.75 deg global grid (made by ``tools/make_climatology.py``; origin, checksum and
attribution in ``data/met/PROVENANCE.md``). Attribution: "Contains modified ECMWF
ERA-Interim data (monthly means prepared by F. Maussion for pydata/xarray-data).
(c) ECMWF, CC BY 4.0."

Because only those two means exist, :func:`climatology` maps a calendar month to
the nearer season: **January for months 10, 11, 12, 1, 2, 3 and July for months
4 to 9**. The field is steady (one record, ``steady=1``); its time stamp is the
placeholder :data:`plumecast.met.reader.STEADY_TIME` and carries no meaning.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib import resources

import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met.reader import normalise_wind

__all__ = ["CLIMATOLOGY_FILE", "CLIMATOLOGY_LEVELS_HPA", "climatology", "climatology_month"]

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
    """ERA-Interim mean winds for a season, as a steady normalised wind dataset.

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
    one = raw.sel(month=use)
    out = normalise_wind(
        one,
        source=f"plumecast climatology: ERA-Interim {'January' if use == 1 else 'July'} mean",
        level_hpa=level_hpa,
    )
    out.attrs["month"] = use
    out.attrs["attribution"] = raw.attrs.get("attribution", "")
    return out
