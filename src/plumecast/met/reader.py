"""Read meteorological files into plumecast's normalised wind dataset.

Every met source in plumecast produces one :class:`xarray.Dataset` of the same
shape (see ``docs/architecture.md``):

* dims ``(time, lat, lon)``; ``lat`` ascending; ``lon`` ascending in [-180, 180);
  ``time`` datetime64[ns];
* ``u``, ``v`` float32 eastward / northward wind [m s-1] with CF attributes;
* attrs ``source`` (file or description), ``level`` (text such as ``"850 hPa"`` or
  ``"10 m"``), ``global_lon`` (1 if the longitudes cover the whole circle, else 0),
  ``steady`` (1 if the field has one time record that applies to all times) and
  ``history`` (what the reader changed to get there); :func:`normalise_wind` adds
  ``levels_in_files`` (the number of levels the files hold the winds on, one of
  which was taken).

:func:`open_wind` reads CF-convention netCDF written by the usual producers:

* ERA5 / ERA-Interim: ``u``/``v`` (or ``u10``/``v10``) on ``latitude``/``longitude``,
  ``time`` or ``valid_time``, optional ``level``/``pressure_level`` [hPa];
* GFS (NOMADS, wgrib2 netCDF): ``UGRD``/``VGRD``, ``ugrd10m``/``vgrd10m``,
  ``UGRD_850mb`` ... on ``lat``/``lon`` with lon 0..360;
* WRF post-processed onto a regular grid: ``U``/``V`` or ``U10``/``V10`` with
  ``XLAT``/``XLONG`` given 1-D or as regular 2-D arrays.

The wind variables are found by their CF ``standard_name`` first
(``eastward_wind``/``northward_wind``), then by the known names above (the same
order of preference as OpenDrift's CF-keyed environment variables).

GRIB files (``.grib``, ``.grib2``, ``.grb``, ``.grb2``) are read through ``cfgrib``
when it is installed (``pip install "plumecast[grib]"``); without it a
:class:`~plumecast.errors.MetDataError` says so. There is no silent fallback.

Many files: the path may be one file, a list of files, a glob pattern
(``era5/*.nc``) or a folder (every netCDF/GRIB file in it). The files are opened
lazily (xarray + dask) and joined along time (:func:`open_met_dataset`); a gap
(between files or inside one, as the 3-D reader finds it),
an overlap, a file on another grid or a file without winds is an error naming the
file. Files that hold different variables for the same times (a file per
variable, as CDS, NOMADS-filter and ECMWF open-data downloads often are: ``u10.nc``,
``v10.nc``) are merged before the winds are looked for, then joined along time;
the same variable in two of them, grids that differ, or a wind component in none
of them is an error naming the files. Only the records of the run's time window (and the two that bracket it) are
read from disk. A member dimension (``number`` in ERA5/ENS/GEFS files) is kept
in the joined dataset; :func:`open_wind` takes one member with ``member=``.

The parts: finding the variables and coordinates of a dataset is in
:mod:`plumecast.met.variables`; finding, opening and joining the files in
:mod:`plumecast.met.files`; building, checking and normalising the wind dataset
here. Every public name is importable from this module.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from plumecast.met.files import (
    GRIB_SUFFIXES,
    MET_SUFFIXES,
    MetPath,
    inside_wind_domain,
    is_grib,
    join_on_time,
    met_members,
    met_paths,
    open_met_dataset,
    wind_file_domain,
)
from plumecast.met.files import _on_time as _on_time
from plumecast.met.files import _open_lazy as _open_lazy
from plumecast.met.files import _read_error as _read_error
from plumecast.met.levels_join import _check_steps
from plumecast.met.variables import (
    _HEIGHT_NAMES,
    _LEVEL_NAMES,
    _MB_IN_NAME,
    _TEN_METRE,
    _TIME_NAMES,
    MEMBER_DIMS,
    _destagger,
    _err,
    _find_coord,
    _find_wind_vars,
    _horizontal_axes,
    _level_hpa_values,
    _lower,
    _stack_mb_variables,
    _when,
    _wind_units_factor,
    decoded_times,
    find_time_coord,
    nonfinite_count,
)

__all__ = [
    "GRIB_SUFFIXES",
    "MEMBER_DIMS",
    "MET_SUFFIXES",
    "met_members",
    "met_paths",
    "join_on_time",
    "open_met_dataset",
    "STEADY_TIME",
    "build_wind_dataset",
    "inside_wind_domain",
    "is_grib",
    "check_wind_dataset",
    "normalise_wind",
    "open_wind",
    "wind_file_domain",
]

log = logging.getLogger(__name__)

#: Largest wind speed accepted in a met file [m s-1]: above any observed on Earth
#: (113 m s-1 surface gust, Barrow Island 1996; jet cores about 110 m s-1; WMO
#: Archive of Weather and Climate Extremes). Larger values are fill values or errors.
MAX_WIND_M_S = 200.0

#: Time stamp given to a steady field that comes without one (the time of a
#: ``steady=1`` dataset has no meaning: the single record applies to all times).
STEADY_TIME = np.datetime64("1970-01-01T00:00:00", "ns")


# ---------------------------------------------------------------------------
# building and checking the normalised form
# ---------------------------------------------------------------------------


#: The largest difference between a latitude step and the median step, as a fraction of it, of rows read as
#: a regular Gaussian grid's (its steps differ by up to 0.84 % at every resolution; met audit, session 40);
#: steps within 1e-3 of each other are a regular grid's.
GAUSSIAN_STEP_SPREAD = 0.02

#: attribute of a normalised wind dataset whose winds had no units attribute (read as m s-1), in words
NO_WIND_UNITS = "plumecast_wind_units_note"


def gaussian_rows(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, str] | None:
    """For the ascending latitudes of a regular Gaussian grid (steps that differ by more than 1e-3 and at most
    :data:`GAUSSIAN_STEP_SPREAD` of the median step), the evenly spaced latitudes between its outer rows, the
    row below each, the weight of the row above, and the history's words; None for other latitudes. The
    fields are then interpolated linearly between rows (:func:`blend_rows`): the transport needs evenly
    spaced rows, and a Gaussian grid, which docs/met.md and the GRIB reader accept, had been refused as "not
    regularly spaced" once its records were read."""
    lat = np.asarray(lat, dtype=np.float64)
    if lat.size < 3:
        return None
    steps = np.diff(lat)
    step = float(np.median(steps))
    if step <= 0:
        return None
    spread = float(np.max(np.abs(steps - step))) / step
    if spread <= 1e-3 or spread > GAUSSIAN_STEP_SPREAD:
        return None
    even = np.linspace(lat[0], lat[-1], lat.size)
    below = np.clip(np.searchsorted(lat, even, side="right") - 1, 0, lat.size - 2)
    weight = np.clip((even - lat[below]) / (lat[below + 1] - lat[below]), 0.0, 1.0)
    moved = float(np.max(np.abs(lat - even)))
    text = (f"regular Gaussian latitudes (steps {steps.min():.5g}..{steps.max():.5g} deg) interpolated linearly "
            f"onto {lat.size} evenly spaced latitudes {lat[0]:.5g}..{lat[-1]:.5g} (rows moved up to {moved:.3g} deg)")
    return even, below, weight, text


def blend_rows(values: np.ndarray, below: np.ndarray, weight: np.ndarray, axis: int) -> np.ndarray:
    """``values`` interpolated linearly between rows along ``axis`` (:func:`gaussian_rows`), in its dtype."""
    shape = [1] * values.ndim
    shape[axis] = weight.size
    w = weight.reshape(shape)
    lo = np.take(values, below, axis=axis)
    hi = np.take(values, below + 1, axis=axis)
    return np.asarray(lo * (1.0 - w) + hi * w, dtype=values.dtype)


def wrapped_lon(lon: np.ndarray) -> np.ndarray:
    """Longitudes [deg] wrapped to [-180, 180), except the eastern edge of a regional grid that ends at
    180 E (100..180, an ERA5 area or a NOMADS subset with rightlon=180), kept as +180 so that the grid stays
    in one piece: wrapped to -180 it had been refused as crossing the 180th meridian (met audit, session 40).

    >>> wrapped_lon(np.array([100.0, 140.0, 180.0])).tolist(), wrapped_lon(np.array([0.0, 180.0, 270.0])).tolist()
    ([100.0, 140.0, 180.0], [0.0, -180.0, -90.0])
    """
    w = (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
    edge = w == -180.0
    if edge.any() and (~edge).any() and np.all(w[~edge] >= 0.0):
        w = np.where(edge, 180.0, w)
    return w


def _global_lon(lon: np.ndarray) -> bool:
    """True if ascending longitudes [deg] cover the whole circle.

    The wrap-around gap (from the last longitude back to the first plus 360) must
    be no larger than 1.5 times the median spacing.
    """
    if lon.size < 3:
        return False
    gaps = np.diff(lon)
    wrap = lon[0] + 360.0 - lon[-1]
    return bool(wrap <= 1.5 * float(np.median(gaps)) + 1e-9)


def build_wind_dataset(
    u: ArrayLike,
    v: ArrayLike,
    time: ArrayLike,
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    source: str,
    level: str,
    steady: bool,
    history: str = "",
) -> xr.Dataset:
    """Assemble the normalised wind dataset from plain arrays.

    Parameters
    ----------
    u, v : array_like, shape (time, lat, lon)
        Eastward and northward wind. [m s-1]
    time : array_like of datetime64
        Time of each record.
    lat : array_like
        Latitudes, ascending. [deg N]
    lon : array_like
        Longitudes, ascending in [-180, 180). [deg E]
    source : str
        File name or description of where the winds came from.
    level : str
        Vertical level as text, e.g. ``"850 hPa"`` or ``"10 m"``.
    steady : bool
        True if the single record applies to all times.
    history : str, optional
        What was changed to reach the normalised form.

    Returns
    -------
    xarray.Dataset
        The normalised wind dataset (see the module docstring).
    """
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    time_a = np.asarray(time).astype("datetime64[ns]")
    u_a = np.asarray(u, dtype=np.float32)
    v_a = np.asarray(v, dtype=np.float32)
    ds = xr.Dataset(
        {
            "u": (("time", "lat", "lon"), u_a),
            "v": (("time", "lat", "lon"), v_a),
        },
        coords={"time": time_a, "lat": lat_a, "lon": lon_a},
    )
    ds["u"].attrs = {
        "standard_name": "eastward_wind",
        "long_name": "eastward wind",
        "units": "m s-1",
    }
    ds["v"].attrs = {
        "standard_name": "northward_wind",
        "long_name": "northward wind",
        "units": "m s-1",
    }
    ds["lat"].attrs = {
        "standard_name": "latitude",
        "long_name": "latitude",
        "units": "degrees_north",
    }
    ds["lon"].attrs = {
        "standard_name": "longitude",
        "long_name": "longitude",
        "units": "degrees_east",
    }
    ds["time"].attrs = {"standard_name": "time", "long_name": "time"}
    ds.attrs = {
        "source": str(source),
        "level": str(level),
        "global_lon": int(_global_lon(lon_a)),
        "steady": int(bool(steady)),
        "history": history,
    }
    return ds


def check_wind_dataset(ds: xr.Dataset, name: str = "wind dataset") -> None:
    """Raise :class:`MetDataError` unless ``ds`` has the normalised wind form.

    Parameters
    ----------
    ds : xarray.Dataset
        Dataset to check.
    name : str, optional
        How to call the dataset in the error message.
    """
    for var in ("u", "v"):
        if var not in ds:
            raise _err(name, f"no variable {var!r}; expected 'u' and 'v' [m s-1]")
        if ds[var].dims != ("time", "lat", "lon"):
            raise _err(name, f"{var!r} has dims {ds[var].dims}; expected ('time', 'lat', 'lon')")
        if ds[var].dtype != np.float32:
            raise _err(name, f"{var!r} has dtype {ds[var].dtype}; expected float32")
        if ds[var].attrs.get("units") != "m s-1":
            raise _err(name, f"{var!r} units {ds[var].attrs.get('units')!r}; expected 'm s-1'")
    lat = ds["lat"].values
    lon = ds["lon"].values
    if lat.size > 1 and not np.all(np.diff(lat) > 0):
        raise _err(name, "lat is not strictly ascending")
    if lon.size > 1 and not np.all(np.diff(lon) > 0):
        raise _err(name, "lon is not strictly ascending")
    # [-180, 180), or a regional grid that ends at +180 (wrapped_lon keeps that edge)
    if lon.size and (lon.min() < -180.0 or lon.max() > 180.0 or (lon.max() == 180.0 and lon.min() < 0.0)):
        raise _err(name, f"lon spans {lon.min()}..{lon.max()}; expected [-180, 180) (or 0..180 for a regional grid "
                         "ending at 180 E)")
    if not np.issubdtype(ds["time"].dtype, np.datetime64):
        raise _err(name, f"time has dtype {ds['time'].dtype}; expected datetime64[ns]")
    for key in ("source", "level", "global_lon", "steady"):
        if key not in ds.attrs:
            raise _err(name, f"missing attribute {key!r}")


def _describe_nans(
    mask: np.ndarray, time: np.ndarray, lat: np.ndarray, lon: np.ndarray, var: str, arr: np.ndarray
) -> str:
    idx = np.argwhere(mask)
    shown = ", ".join(
        f"(time={np.datetime_as_string(time[i], unit='s')}, lat={lat[j]:g}, lon={lon[k]:g})"
        for i, j, k in idx[:3]
    )
    lat_hit, lon_hit = lat[idx[:, 1]], lon[idx[:, 2]]
    return (
        f"{nonfinite_count(arr, mask)} of {var!r} inside the domain (of {mask.size}), in lat "
        f"{lat_hit.min():g}..{lat_hit.max():g}, lon {lon_hit.min():g}..{lon_hit.max():g}; "
        f"first at {shown}; expected complete winds (fill or crop the gaps)"
    )


# ---------------------------------------------------------------------------
# the normaliser
# ---------------------------------------------------------------------------


def normalise_wind(
    ds: xr.Dataset,
    *,
    source: str,
    level_hpa: float | None = None,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
    member: int | None = None,
) -> xr.Dataset:
    """Turn a CF dataset of winds (in memory or lazy) into the normalised wind dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Decoded dataset as opened by xarray (not modified).
    source : str
        Name of the file or description, used in messages and the ``source`` attr.
    level_hpa : float, optional
        Pressure level to take. [hPa] If not given and the winds are on several
        pressure levels, the level with the highest pressure (the one closest to the
        ground) is taken. An error lists the available levels if ``level_hpa`` is
        not among them.
    time_window : (datetime64, datetime64), optional
        Period the winds must cover. For a file with several time records, an error
        is raised if its times do not cover the window, and only the records that
        bracket the window are kept. A steady field (one record) applies to all
        times and is not checked. Only the kept records are read from a lazy dataset.
    member : int, optional
        Index of the ensemble member to take along the member dimension (one of
        :data:`MEMBER_DIMS`, e.g. ``number``). Required when the winds have more
        than one member.

    Returns
    -------
    xarray.Dataset
        Normalised wind dataset (see the module docstring).

    Raises
    ------
    MetDataError
        No recognisable winds, level not present, NaNs, time window not covered,
        member missing or not chosen.
    """
    path = source
    history: list[str] = []
    ds_in = ds
    ds = _stack_mb_variables(ds)  # wgrib2's UGRD_850mb, UGRD_500mb ...: UGRD on 'level' [hPa]
    u_name, v_name = _find_wind_vars(ds, path)
    u = _destagger(ds[u_name])
    v = _destagger(ds[v_name])
    if u.dims != v.dims:
        raise _err(
            path,
            f"{u_name!r} has dims {u.dims} but {v_name!r} has dims {v.dims}; expected the same grid",
        )
    history.append(f"winds from {u_name!r}/{v_name!r}")

    lat_dim, lat, lon_dim, lon = _horizontal_axes(ds, u, path)
    if lat_dim not in u.dims or lon_dim not in u.dims:
        raise _err(
            path,
            f"{u_name!r} has dims {u.dims}; expected it on the latitude/longitude dims ({lat_dim}, {lon_dim})",
        )

    # --- vertical level -----------------------------------------------------
    level_text = "10 m" if _TEN_METRE.search(u_name) else "unspecified"
    mb = _MB_IN_NAME.search(u_name)
    if mb:
        level_text = f"{float(mb.group(1)):g} hPa"
    kind, levels, level_dim = _wind_levels(ds, u, {lat_dim, lon_dim}, path)
    n_levels = int(levels.size) if levels is not None and kind in ("pressure", "height") else 1
    if kind == "pressure":
        assert levels is not None
        if level_hpa is None:
            pick = int(np.argmax(levels))
        else:
            matches = np.flatnonzero(np.isclose(levels, level_hpa, atol=1e-3))
            if matches.size == 0:
                raise _err(
                    path,
                    f"pressure level {level_hpa:g} hPa not in the file; available levels "
                    f"{sorted(levels.tolist())} hPa",
                )
            pick = int(matches[0])
        if level_dim is not None:
            u = u.isel({level_dim: pick})
            v = v.isel({level_dim: pick})
        level_text = f"{levels[pick]:g} hPa"
        one_var = f"{u_name}_{levels[pick]:g}mb"  # wgrib2's one variable per level (UGRD_850mb)
        if u_name not in ds_in and one_var in ds_in:
            history[-1] = f"winds from {one_var!r}/{f'{v_name}_{levels[pick]:g}mb'!r}"
        if levels.size > 1:
            history.append(f"took level {level_text} of {sorted(levels.tolist())} hPa")
    elif level_hpa is not None:
        if kind == "height":
            assert levels is not None
            where_now = f"on height levels ({', '.join(f'{h:g}' for h in sorted(levels.tolist()))} m)"
        elif kind == "other":
            where_now = f"on the dimension {level_dim!r}, which has no pressure coordinate"
        else:
            where_now = f"at one level ({level_text}), not on pressure levels"
        raise _err(
            path,
            f"level_hpa={level_hpa:g} asked for but the winds {u_name!r} are {where_now}; expected winds on "
            "pressure levels (a coordinate in hPa or Pa), or leave level_hpa unset for this file",
        )
    elif kind == "height":
        assert levels is not None
        pick = int(np.argmin(levels))  # the level nearest the ground
        if level_dim is not None:
            u = u.isel({level_dim: pick})
            v = v.isel({level_dim: pick})
        level_text = f"{levels[pick]:g} m"
        if levels.size > 1:
            history.append(f"took the lowest level, {level_text}, of {sorted(levels.tolist())} m")
    else:
        h_name = _find_coord(ds, _HEIGHT_NAMES, "height", ())
        if h_name is not None and ds[h_name].size == 1 and level_text == "unspecified":
            level_text = f"{float(ds[h_name].values.ravel()[0]):g} m"

    # --- time ---------------------------------------------------------------
    time_name = find_time_coord(ds)
    time_dim: str | None = None
    if time_name is not None and ds[time_name].ndim == 1 and ds[time_name].dims[0] in u.dims:
        time_dim = str(ds[time_name].dims[0])
    else:
        # a WRF-style "Time" dim without a usable coordinate
        for d in u.dims:
            if _lower(d) in _TIME_NAMES:
                time_dim = str(d)
    if time_dim is not None:
        tc = ds[time_name] if time_name is not None else None
        chars = tc is not None and tc.ndim == 2 and tc.dims[0] == time_dim and tc.dtype.kind == "S" \
            and tc.dtype.itemsize == 1  # WRF's 'Times'
        raw = (np.asarray(tc.values) if tc is not None and (tc.dims == (time_dim,) or chars)
               else np.asarray(ds[time_dim].values) if time_dim in ds.coords
               else np.full(u.sizes[time_dim], STEADY_TIME))
        decoded = decoded_times(raw)
        if decoded is None:
            from plumecast.met.files import undecoded_time_text

            raise _err(path, f"time {time_name!r} could not be decoded to dates; "
                             + (undecoded_time_text(tc) if tc is not None else "expected CF time units such as "
                                "'hours since 1970-01-01'"))
        times = decoded
    elif (
        time_name is not None
        and ds[time_name].size == 1
        and np.issubdtype(ds[time_name].dtype, np.datetime64)
    ):
        times = np.asarray(ds[time_name].values).reshape(1).astype("datetime64[ns]")
    else:
        times = np.array([STEADY_TIME])

    # --- ensemble member -----------------------------------------------------
    member_dim = next((str(d) for d in u.dims if _lower(d) in MEMBER_DIMS), None)
    if member is not None:
        if member_dim is None:
            raise _err(
                path,
                f"member {member} asked for but the winds {u_name!r} have no member dimension "
                f"(expected one of {MEMBER_DIMS}); their dims are {dict(u.sizes)}",
            )
        n_members = int(u.sizes[member_dim])
        if not 0 <= member < n_members:
            raise _err(
                path,
                f"member {member} asked for but the {member_dim!r} dimension has {n_members} members; "
                f"ask for at most {n_members} members (0..{n_members - 1})",
            )
        u = u.isel({member_dim: member})
        v = v.isel({member_dim: member})
        history.append(f"member {member} of {n_members} ({member_dim!r})")
    elif member_dim is not None and u.sizes[member_dim] > 1:
        raise _err(
            path,
            f"the winds have {u.sizes[member_dim]} ensemble members along {member_dim!r}; choose one "
            "(member=k, or ensemble.met_members: file to run every member)",
        )

    # --- time window: select before reading ---------------------------------
    if times.size > 1 and np.unique(times).size != times.size:
        raise _err(path, "repeated time stamps; expected each time once")
    if times.size > 2:  # a gap inside the records (between files: join_on_time), as the 3-D reader refuses it
        order_t = np.argsort(times)
        probe = xr.Dataset(coords={"time": times[order_t]})
        if "met_file" in ds.coords and time_dim is not None and ds["met_file"].dims == (time_dim,):
            probe = probe.assign_coords(met_file=("time", np.asarray(ds["met_file"].values)[order_t]))
        _check_steps(probe, path)
    steady = times.size == 1
    if time_window is not None and not steady:
        start = np.asarray(time_window[0]).astype("datetime64[ns]")
        end = np.asarray(time_window[1]).astype("datetime64[ns]")
        if end < start:
            raise _err(path, f"time window ends ({_when(end)}) before it starts ({_when(start)})")
        t_sorted = np.sort(times)
        if start < t_sorted[0] or end > t_sorted[-1]:
            raise _err(
                path,
                f"times {_when(t_sorted[0])} .. {_when(t_sorted[-1])} do not cover the requested window "
                f"{_when(start)} .. {_when(end)}; expected met data that span the whole run",
            )
        i0 = int(np.searchsorted(t_sorted, start, side="right")) - 1
        i1 = int(np.searchsorted(t_sorted, end, side="left"))
        keep_t = np.flatnonzero((times >= t_sorted[i0]) & (times <= t_sorted[i1]))
        if keep_t.size < times.size:
            assert time_dim is not None
            u = u.isel({time_dim: keep_t})
            v = v.isel({time_dim: keep_t})
            history.append(f"read {keep_t.size} of {times.size} time records (the run's window)")
            times = times[keep_t]

    # --- remaining dims: squeeze size-1, refuse others ----------------------
    keep = {lat_dim, lon_dim} | ({time_dim} if time_dim else set())
    for d in list(u.dims):
        if d in keep:
            continue
        if u.sizes[d] == 1:
            u = u.isel({d: 0})
            v = v.isel({d: 0})
        else:
            raise _err(
                path,
                f"{u_name!r} has an extra dimension {d!r} of size {u.sizes[d]}; expected only time, level, lat, lon",
            )
    order = ([time_dim] if time_dim else []) + [lat_dim, lon_dim]
    factor_u = _wind_units_factor(ds[u_name], path)
    factor_v = _wind_units_factor(ds[v_name], path)
    # the only read from disk: the kept records, as float32 (the normalised dtype)
    try:
        u_arr = _as_float32(u.transpose(*order).values, factor_u)
        v_arr = _as_float32(v.transpose(*order).values, factor_v)
    except (TypeError, ValueError) as exc:  # packing attributes that cannot be applied (e.g. a text scale_factor)
        packing = {k: ds[n].encoding.get(k, ds[n].attrs.get(k)) for n in (u_name, v_name)
                   for k in ("scale_factor", "add_offset", "_FillValue", "missing_value")
                   if k in ds[n].encoding or k in ds[n].attrs}
        raise _err(path, f"the winds {u_name!r}/{v_name!r} cannot be decoded ({type(exc).__name__}: {exc}); "
                         f"expected numeric packing attributes (scale_factor, add_offset, _FillValue), got {packing}"
                   ) from None
    if factor_u != 1.0:
        history.append("converted knots to m s-1")
    if time_dim is None:
        u_arr, v_arr = u_arr[None], v_arr[None]

    # --- time order ---------------------------------------------------------
    if times.size > 1 and np.any(np.diff(times) <= np.timedelta64(0, "ns")):
        t_order = np.argsort(times)
        times, u_arr, v_arr = times[t_order], u_arr[t_order], v_arr[t_order]

    # --- horizontal order ---------------------------------------------------
    if np.any(np.abs(lat) > 90.0 + 1e-6):
        raise _err(path, f"latitudes {lat.min():g}..{lat.max():g} outside -90..90 deg")
    if lat.size > 1 and lat[0] > lat[-1]:
        history.append("flipped latitude to ascending")
    lat_order = np.argsort(lat, kind="stable")
    lat = lat[lat_order]
    lon_wrapped = wrapped_lon(lon)
    if np.any(lon_wrapped != lon):
        history.append(f"wrapped longitudes {lon.min():g}..{lon.max():g} to [-180, 180)")
    lon_order = np.argsort(lon_wrapped, kind="stable")
    lon_sorted = lon_wrapped[lon_order]
    unique = (
        np.concatenate([[True], np.diff(lon_sorted) > 1e-9])
        if lon_sorted.size
        else np.array([], bool)
    )
    if not unique.all():
        history.append("dropped repeated longitude column(s)")
    lon_order, lon_sorted = lon_order[unique], lon_sorted[unique]
    if np.unique(lat).size != lat.size:
        raise _err(path, "repeated latitudes; expected each latitude once")
    if not (np.array_equal(lat_order, np.arange(lat.size)) and np.array_equal(lon_order, np.arange(lon.size))):
        u_arr = u_arr[:, lat_order[:, None], lon_order[None, :]]
        v_arr = v_arr[:, lat_order[:, None], lon_order[None, :]]
    rows = gaussian_rows(lat)
    if rows is not None:
        lat, below, weight, text = rows
        u_arr, v_arr = blend_rows(u_arr, below, weight, 1), blend_rows(v_arr, below, weight, 1)
        history.append(text)

    # --- completeness and plausibility --------------------------------------
    for name, arr in ((u_name, u_arr), (v_name, v_arr)):
        mask = ~np.isfinite(arr)
        if mask.any():
            where = path
            if "met_file" in ds.coords and "time" in ds.coords:  # a set of files: name the one
                t_bad = times[int(np.argwhere(mask)[0][0])]
                hit = np.flatnonzero(np.asarray(ds["time"].values).astype("datetime64[ns]") == t_bad)
                if hit.size:
                    where = f"{ds['met_file'].values[hit[0]]} (of {path})"
            raise _err(where, _describe_nans(mask, times, lat, lon_sorted, name, arr))
    too_fast = [t for t in range(u_arr.shape[0]) if float(np.hypot(u_arr[t], v_arr[t]).max(initial=0.0)) > MAX_WIND_M_S]
    if too_fast:
        i = too_fast[0]
        speed = np.hypot(u_arr[i], v_arr[i])
        j, k = np.unravel_index(int(np.argmax(speed)), speed.shape)
        n_bad = sum(int(np.count_nonzero(np.hypot(u_arr[t], v_arr[t]) > MAX_WIND_M_S)) for t in too_fast)
        raise _err(
            path,
            f"wind speed from {u_name!r}/{v_name!r} reaches {float(speed[j, k]):.3g} m s-1 at "
            f"(time={np.datetime_as_string(times[i], unit='s')}, lat={lat[j]:g}, lon={lon_sorted[k]:g}) and exceeds "
            f"{MAX_WIND_M_S:g} m s-1 at {n_bad:,} point(s); expected winds below {MAX_WIND_M_S:g} m s-1 "
            "(an undeclared fill value such as 1e30? set _FillValue or missing_value on the variable)",
        )

    out = build_wind_dataset(
        u_arr,
        v_arr,
        times,
        lat,
        lon_sorted,
        source=source,
        level=level_text,
        steady=steady,
        history="; ".join(history),
    )
    out.attrs["levels_in_files"] = n_levels
    bare = [repr(str(n)) for n in (u_name, v_name) if ds[n].attrs.get("units") is None]
    if bare:  # taken as m s-1, as the 3-D reader takes them ("[no units]" in its provenance); audit 43, #4
        out.attrs[NO_WIND_UNITS] = (f"{' and '.join(bare)} without a units attribute: read as m s-1 (if they are "
                                    "knots or km/h, give the variables a CF units attribute)")
    log.info("%s: normalised winds (%s)", source, out.attrs["history"])
    return out


def _wind_levels(
    ds: xr.Dataset, u: xr.DataArray, hdims: set[str], path: str
) -> tuple[str, np.ndarray | None, str | None]:
    """The vertical coordinate of the winds ``u``: ``(kind, values, dim)`` with kind
    ``"pressure"`` (values in hPa), ``"height"`` (several heights, m), ``"other"`` (a
    dimension without a vertical coordinate) or ``""`` (none: one level); ``dim`` is
    the winds' dimension to select along (None for a scalar coordinate). A level
    coordinate by name or ``standard_name`` first; else the 3-D reader's discovery
    (:func:`plumecast.met.levels_variables._vertical_of`: WRF post's ``PRES`` [Pa] on
    ``num_press_levels``, a coordinate in Pa or hPa, height levels)."""
    level_name = _find_coord(ds, _LEVEL_NAMES, "air_pressure", ())
    if level_name is not None and (level_name in u.dims or level_name in u.coords):
        coord = ds[level_name]
        dim = level_name if level_name in u.dims else (
            str(coord.dims[0]) if coord.ndim == 1 and coord.dims[0] in u.dims else None)
        return "pressure", np.atleast_1d(_level_hpa_values(coord, path)), dim
    from plumecast.met.levels_variables import _vertical_of  # (it imports this module)

    vert = _vertical_of(ds, u, hdims, path)
    if vert.kind in ("pressure", "height") and vert.values is not None:
        return vert.kind, np.atleast_1d(vert.values), vert.dim
    if vert.kind == "other":
        return "other", None, vert.dim
    return "", None, None


def _as_float32(values: Any, factor: float) -> np.ndarray:
    """``values * factor`` as float32 (the product in float64 when ``factor != 1``).

    A value beyond float32's range becomes inf without numpy's overflow warning: the met's checks
    refuse non-finite values inside the domain naming the file and variable, and the warning would
    only have printed a line of numpy's before that message."""
    with np.errstate(over="ignore"):
        if factor == 1.0:
            return np.asarray(values, dtype=np.float32)
        return (np.asarray(values, dtype=np.float64) * factor).astype(np.float32)


def open_wind(
    path: MetPath,
    *,
    level_hpa: float | None = None,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
    member: int | None = None,
) -> xr.Dataset:
    """Read CF netCDF (or GRIB) wind file(s) into the normalised wind dataset.

    Parameters
    ----------
    path : str, Path or list
        A netCDF file (ERA5, GFS, WRF-post naming) or GRIB with cfgrib installed;
        or several (a list, a folder, a glob pattern: :func:`met_paths`), joined
        along time (:func:`open_met_dataset`).
    level_hpa : float, optional
        Pressure level to read. [hPa] Default: the level with the highest pressure,
        i.e. the one closest to the ground. 10 m winds are used as they are.
    time_window : (datetime64, datetime64), optional
        Period the run needs; the files' times must cover it, and only the records
        that bracket it are read from disk.
    member : int, optional
        Index along the member dimension (``number``) to read; needed when the
        files hold more than one member.

    Returns
    -------
    xarray.Dataset
        Normalised wind dataset: ``u``, ``v`` float32 [m s-1] on
        ``(time, lat, lon)``, lat ascending, lon in [-180, 180); several time records
        are kept (the transport interpolates linearly in time); a single record
        gives ``steady=1``.

    Notes
    -----
    A regional grid that crosses the antimeridian in 0..360 longitudes (say
    170..190 E) comes out sorted in [-180, 180), i.e. split into two blocks with a
    gap in the middle of the array; ``global_lon`` is 0 for it. A file whose
    winds have any other dimension of size > 1 (climatological month) is refused.

    Raises
    ------
    MetDataError
        File missing or unreadable, GRIB without cfgrib, no recognisable winds,
        level not present, NaNs inside the domain, time window not covered, a gap
        or an overlap between files, a gap inside the records, member missing or not chosen.
    """
    ds = open_met_dataset(path)
    source = str(ds.attrs.get("source", "")) if "met_file" in ds.coords else str(met_paths(path)[0])
    with ds:
        return normalise_wind(ds, source=source, level_hpa=level_hpa, time_window=time_window, member=member)
