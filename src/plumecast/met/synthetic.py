"""Write a normalised wind dataset in the layouts of real producers (for tests).

These writers let tests check that two files holding the same winds in different
producer layouts read back to the same normalised dataset, and let users make
small example files. They write the layouts the reader must undo:

* :func:`write_era5_style`: ECMWF CDS netCDF (2024 onwards): ``u``/``v`` on
  ``(valid_time, pressure_level, latitude, longitude)``, latitude 90 -> -90,
  longitude 0..360, int16 packed with ``scale_factor``/``add_offset``;
* :func:`write_gfs_style`: NOMADS/wgrib2-like: ``UGRD``/``VGRD`` on
  ``(time, lat, lon)``, longitude 0..360, float32, no ``standard_name``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from plumecast.met.reader import check_wind_dataset

__all__ = ["write_era5_style", "write_gfs_style"]

_TIME_ENCODING: dict[str, object] = {
    "units": "hours since 1900-01-01 00:00:00",
    "calendar": "gregorian",
    "dtype": "float64",
}


def _to_0_360(ds: xr.Dataset) -> xr.Dataset:
    lon360 = np.mod(ds["lon"].values, 360.0)
    return ds.assign_coords(lon=lon360).sortby("lon")


def _packing(a: np.ndarray) -> tuple[float, float]:
    """ERA5-style int16 packing for values ``a``: (scale_factor, add_offset)."""
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    span = max(hi - lo, 1e-6)
    scale = span / (2**16 - 4)  # keeps -32767 free for _FillValue
    return scale, lo + span / 2.0


def _level_hpa(ds: xr.Dataset, level_hpa: float | None) -> float:
    if level_hpa is not None:
        return float(level_hpa)
    m = re.match(r"\s*([0-9.]+)\s*hPa", str(ds.attrs.get("level", "")))
    return float(m.group(1)) if m else 850.0


def write_era5_style(ds: xr.Dataset, path: str | Path, *, level_hpa: float | None = None) -> Path:
    """Write a normalised wind dataset as an ERA5 (CDS) pressure-level netCDF.

    Parameters
    ----------
    ds : xarray.Dataset
        Normalised wind dataset (not modified).
    path : str or Path
        Output netCDF file.
    level_hpa : float, optional
        Value of the single ``pressure_level``. [hPa] Default: parsed from
        ``ds.attrs["level"]`` (e.g. ``"850 hPa"``), else 850.

    Returns
    -------
    Path
        The file written.
    """
    check_wind_dataset(ds)
    src = _to_0_360(ds).isel(lat=slice(None, None, -1))
    level = _level_hpa(ds, level_hpa)
    out = xr.Dataset(
        coords={
            "valid_time": ("valid_time", src["time"].values),
            "pressure_level": ("pressure_level", np.array([level])),
            "latitude": ("latitude", src["lat"].values),
            "longitude": ("longitude", src["lon"].values),
        },
        attrs={
            "GRIB_centre": "ecmf",
            "GRIB_centreDescription": "European Centre for Medium-Range Weather Forecasts",
            "institution": "European Centre for Medium-Range Weather Forecasts",
            "Conventions": "CF-1.7",
            "history": "written by plumecast.met.synthetic.write_era5_style",
        },
    )
    meta = {
        "u": ("U component of wind", "eastward_wind", 131),
        "v": ("V component of wind", "northward_wind", 132),
    }
    encoding: dict[str, dict[str, object]] = {"valid_time": _TIME_ENCODING}
    for name, (long_name, std, param) in meta.items():
        values = src[name].values[:, None, :, :].astype(np.float32)
        out[name] = (("valid_time", "pressure_level", "latitude", "longitude"), values)
        out[name].attrs = {
            "GRIB_paramId": param,
            "GRIB_shortName": name,
            "GRIB_units": "m s**-1",
            "long_name": long_name,
            "units": "m s**-1",
            "standard_name": std,
        }
        scale, offset = _packing(values)
        encoding[name] = {
            "dtype": "int16",
            "scale_factor": scale,
            "add_offset": offset,
            "_FillValue": np.int16(-32767),
            "zlib": True,
        }
    out["latitude"].attrs = {
        "units": "degrees_north",
        "standard_name": "latitude",
        "long_name": "latitude",
        "stored_direction": "decreasing",
    }
    out["longitude"].attrs = {
        "units": "degrees_east",
        "standard_name": "longitude",
        "long_name": "longitude",
    }
    out["pressure_level"].attrs = {
        "units": "hPa",
        "long_name": "pressure",
        "standard_name": "air_pressure",
        "positive": "down",
        "stored_direction": "decreasing",
    }
    out["valid_time"].attrs = {"long_name": "time", "standard_name": "time"}
    p = Path(path)
    out.to_netcdf(p, engine="netcdf4", encoding=encoding)
    return p


def write_gfs_style(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a normalised wind dataset with GFS (NOMADS / wgrib2) names and layout.

    Parameters
    ----------
    ds : xarray.Dataset
        Normalised wind dataset (not modified).
    path : str or Path
        Output netCDF file.

    Returns
    -------
    Path
        The file written.
    """
    check_wind_dataset(ds)
    src = _to_0_360(ds)
    out = xr.Dataset(
        {
            "UGRD": (
                ("time", "lat", "lon"),
                src["u"].values.astype(np.float32),
                {"long_name": "u-component of wind [m/s]", "units": "m/s"},
            ),
            "VGRD": (
                ("time", "lat", "lon"),
                src["v"].values.astype(np.float32),
                {"long_name": "v-component of wind [m/s]", "units": "m/s"},
            ),
        },
        coords={
            "time": (
                "time",
                src["time"].values,
                {"long_name": "verification time generated by wgrib2"},
            ),
            "lat": ("lat", src["lat"].values, {"units": "degrees_north", "long_name": "latitude"}),
            "lon": ("lon", src["lon"].values, {"units": "degrees_east", "long_name": "longitude"}),
        },
        attrs={
            "Conventions": "COARDS",
            "GRIB2_grid_template": 0,
            "history": "written by plumecast.met.synthetic.write_gfs_style",
        },
    )
    p = Path(path)
    out.to_netcdf(
        p,
        engine="netcdf4",
        encoding={"time": {"units": "seconds since 1970-01-01 00:00:00.0", "dtype": "float64"}},
    )
    return p
