"""Values beyond float32's range in a met file are refused as infinite, not called NaN (session 46)."""

from __future__ import annotations

import warnings
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_wind
from plumecast.met.plausible import nan_check


def _wind(path: Path, scale: float) -> Path:
    lat, lon = np.linspace(40, 60, 5), np.linspace(0, 20, 5)
    ds = xr.Dataset({"u": (("lat", "lon"), np.full((5, 5), 5.0), {"units": "m s-1"}),
                     "v": (("lat", "lon"), np.full((5, 5), 1.0), {"units": "m s-1"})},
                    coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                            "lon": ("lon", lon, {"units": "degrees_east"})})
    ds.to_netcdf(path, encoding={"u": {"dtype": "int16", "scale_factor": 1.0, "_FillValue": -32768}})
    with netCDF4.Dataset(path, "a") as nc:  # packed 5, unpacked 5 * scale
        nc["u"].scale_factor = scale
    return path


def test_a_wind_beyond_float32_is_refused_as_infinite_without_numpy_warnings(tmp_path: Path) -> None:
    path = _wind(tmp_path / "w.nc", 1e38)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in cast" had been printed first
        with pytest.raises(MetDataError) as err:
            open_wind(path)
    msg = str(err.value)
    assert str(path) in msg and "25 infinite value(s)" in msg and "scale_factor" in msg and "of 'u'" in msg
    assert "NaN" not in msg


def test_nan_and_infinite_values_are_counted_apart() -> None:
    arr = np.zeros((1, 2, 3))
    arr[0, 0, 0], arr[0, 1, 2], arr[0, 1, 1] = np.nan, np.inf, -np.inf
    with pytest.raises(MetDataError) as err:
        nan_check(arr, "t", "f.nc", "2026-03-01T00:00", np.array([1.0, 2.0]), np.array([0.0, 1.0, 2.0]))
    assert "1 NaN and 2 infinite value(s)" in str(err.value) and "f.nc" in str(err.value)
    arr[0, 1] = 0.0
    with pytest.raises(MetDataError, match=r"1 NaN value\(s\) of 't'"):
        nan_check(arr, "t", "f.nc", "2026-03-01T00:00", np.array([1.0, 2.0]), np.array([0.0, 1.0, 2.0]))
