"""The met files of ``met.path``: finding them, opening them lazily, joining them
along time, and their grid and members read without the winds.

The path may be one file, a list of files, a glob pattern or a folder (every
netCDF/GRIB file in it); see :mod:`plumecast.met.reader`, whose :func:`open_wind`
turns what is opened here into the normalised wind dataset, and from which all
the public names here are importable too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.errors import MetDataError
from plumecast.met.grib_layout import quiet_eccodes, replay, select_level_types
from plumecast.met.record_chunks import per_record
from plumecast.met.variables import (
    _LAT_NAMES,
    _LON_NAMES,
    _TIME_NAMES,
    _U_NAMES,
    _V_NAMES,
    MEMBER_DIMS,
    NoWindsError,
    _destagger,
    _err,
    _find_coord,
    _find_wind_vars,
    _horizontal_axes,
    _lower,
    _stack_mb_variables,
    _when,
    _wind_components,
    _wind_variables,
    axis_text,
    decoded_times,
    find_time_coord,
)

#: File name endings read with the cfgrib engine.
GRIB_SUFFIXES = (".grib", ".grib2", ".grb", ".grb2")

#: File name endings taken from a met folder (netCDF and GRIB).
MET_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf") + GRIB_SUFFIXES


def is_grib(path: Path) -> bool:
    """True for a GRIB file: a GRIB name ending, or a file that starts with the
    GRIB indicator section ``GRIB`` (NCEP names such as ``gfs.t00z.pgrb2.0p25.f003``
    have no ending; WMO Manual on Codes, FM 92 GRIB, section 0)."""
    if path.suffix.lower() in GRIB_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"GRIB"
    except OSError:
        return False


MetPath = str | Path | Sequence[str | Path]
"""What ``met.path`` may be: a file, a folder, a glob pattern, or a list of them."""

_GLOB_CHARS = re.compile(r"[*?\[]")


def describe_paths(paths: Sequence[Path]) -> str:
    """Met files as messages and the ``source`` attribute name them: a file, or how many and the first and last."""
    if len(paths) == 1:
        return str(paths[0])
    return f"{len(paths)} met files {paths[0]} .. {paths[-1].name}"


def met_paths(path: MetPath) -> list[Path]:
    """The met files a ``met.path`` names, in sorted order.

    Parameters
    ----------
    path : str, Path or list of them
        A file; a folder (its netCDF and GRIB files, :data:`MET_SUFFIXES`); a glob
        pattern such as ``era5/*.nc``; or a list of any of these.

    Raises
    ------
    MetDataError
        Naming the entry that matches no file.
    """
    items = [path] if isinstance(path, (str, Path)) else list(path)
    if not items:
        raise MetDataError("met.path: empty list; expected a file, a folder, a glob pattern or a list of files")
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            found = _folder_files(p)
            if not found:
                held = "; ".join(text for text, _ in folder_notes(p))
                raise _err(str(p), "folder holds no met file; expected netCDF or GRIB files (ending in "
                                   f"{', '.join(MET_SUFFIXES)}, or beginning as those formats do)"
                                   + (f"; {held}" if held else ""))
            out.extend(found)
        elif _GLOB_CHARS.search(str(item)):
            anchor = Path(p.anchor) if p.is_absolute() else Path(".")
            pattern = str(p.relative_to(p.anchor)) if p.is_absolute() else str(p)
            found = sorted(f for f in anchor.glob(pattern) if f.is_file())
            if not found:
                raise _err(str(p), "the pattern matches no file; expected netCDF or GRIB met files")
            out.extend(found)
        else:
            raise _err(str(p), "file not found; expected a netCDF or GRIB wind file, a folder or a glob pattern")
    unique: dict[Path, None] = dict.fromkeys(q.resolve() for q in out)
    return sorted(unique)


#: How the formats' files begin: netCDF classic and 64-bit offset, netCDF-4 (HDF5), GRIB.
_SIGNATURES = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n", b"GRIB")
#: How a ZIP archive begins (a local file header, or the end record of an empty one).
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")


def _head(path: Path) -> bytes | None:
    """The first 8 bytes of a file (None where it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError:
        return None


def _folder_files(folder: Path) -> list[Path]:
    """The met files of a folder (not of its subfolders): netCDF and GRIB files by their
    name ending (:data:`MET_SUFFIXES`), or by how they begin (WRF's ``wrfout_d01_2026-03-01_00:00:00``
    and NCEP's ``gfs.t00z.pgrb2.0p25.f003`` have no ending)."""
    def met(f: Path) -> bool:
        if f.suffix.lower() in MET_SUFFIXES:
            return True
        head = _head(f)
        return head is not None and any(head.startswith(sig) for sig in _SIGNATURES)

    return sorted(f for f in folder.iterdir() if f.is_file() and met(f))


def folder_notes(path: MetPath) -> list[tuple[str, Path]]:
    """What the folders of ``path`` hold beside their met files that is not read, in
    words, with the folder: subfolders holding met files (folders are not searched
    recursively) and ZIP archives (the CDS's ``data.zip``: unzip it)."""
    items = [path] if isinstance(path, (str, Path)) else list(path)
    out: list[tuple[str, Path]] = []
    for item in items:
        p = Path(item)
        if not p.is_dir():
            continue
        subs = sorted(f"{d.name}/" for d in p.iterdir() if d.is_dir() and not d.name.startswith(".")
                      and _folder_files(d))
        if subs:
            out.append((f"subfolder(s) {', '.join(subs)} of {p} hold met files, which are not read (folders are not "
                        f"searched recursively: give them in a list, or a glob pattern such as {p / '*' / '*.nc'})",
                        p))
        zips = sorted(f.name for f in p.iterdir() if f.is_file() and (_head(f) or b"").startswith(_ZIP_SIGNATURES))
        if zips:
            out.append((f"ZIP archive(s) {', '.join(zips)} in {p}, which are not read: unzip them into the folder "
                        "(the CDS delivers ERA5's single levels in one)", p))
    return out


def _zip_text(path: Path) -> str:
    """A ZIP archive given as a met file, in words: what it holds and to unzip it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError):
        names = []
    inside = (f"it holds {', '.join(names[:4])}{' ..' if len(names) > 4 else ''}; " if names else "")
    return (f"is a ZIP archive, not a netCDF or GRIB file ({inside}the CDS delivers ERA5's single levels as a zip, "
            "data.zip or under the name asked for, of data_stream-oper_stepType-instant.nc (u10, v10, blh ...) and "
            "data_stream-oper_stepType-accum.nc (tp, sshf ...)); unzip it (unzip FILE -d FOLDER) and give the "
            "files inside, or their folder")


def _read_error(path: Path, exc: Exception) -> MetDataError:
    expected = "expected a readable GRIB file" if is_grib(path) else "expected a CF netCDF file"
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        head = None
    if head == b"":
        return _err(str(path), f"is empty (0 bytes: a download or copy that did not finish?); {expected}")
    if head is not None and head.startswith(_ZIP_SIGNATURES):
        return _err(str(path), _zip_text(path))
    if head is not None and not any(head.startswith(sig) for sig in _SIGNATURES):
        shown = repr(head)[1:]  # the bytes as Python writes them, escaped once: 'garbage\n'
        return _err(str(path), f"is not a netCDF or GRIB file (it begins with {shown}: a web page or a text "
                               f"file?); {expected}")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    # the library's I/O error (netCDF's "HDF error"): the bytes themselves are bad; another error (a time
    # unit xarray cannot decode, GRIB pieces that do not merge) is about what the file holds
    damaged = ": truncated or damaged (a download or copy that did not finish?)" if isinstance(exc, OSError) else ""
    return _err(str(path), f"begins as a netCDF or GRIB file but cannot be read ({type(exc).__name__}: {first})"
                           f"{damaged}; {expected}")


#: GRIB grids the readers take: rows of constant latitude, columns of constant longitude.
GRIB_GRIDS = ("regular_ll", "regular_gg")

_GRIB_GRID_WORDS = {
    "reduced_gg": "a reduced Gaussian grid (rows of different lengths)",
    "reduced_ll": "a reduced lat/lon grid (rows of different lengths)",
    "reduced_rotated_gg": "a rotated reduced Gaussian grid",
    "rotated_ll": "a rotated lat/lon grid (winds along the rotated axes)",
    "rotated_gg": "a rotated Gaussian grid (winds along the rotated axes)",
    "lambert": "a Lambert conformal grid (winds along the grid axes)",
    "lambert_azimuthal_equal_area": "a Lambert azimuthal equal-area grid",
    "mercator": "a Mercator grid",
    "polar_stereographic": "a polar stereographic grid (winds along the grid axes)",
    "sh": "spherical harmonics (spectral coefficients, not a grid)",
    "unstructured_grid": "an unstructured grid (ICON-type)",
    "healpix": "a HEALPix grid",
    "space_view": "a satellite view",
}


def _grib_grid_check(parts: list[xr.Dataset], path: Path) -> list[xr.Dataset]:
    """The hypercubes on grids the readers take (:data:`GRIB_GRIDS`); a clear error
    when the winds, or all fields, are on another grid (reduced Gaussian, rotated,
    Lambert, spectral...), which the readers would otherwise refuse with a puzzling
    message or not at all (WMO FM 92 GRIB, grid definition templates)."""
    grid_of = {str(n): str(d[n].attrs.get("GRIB_gridType", "regular_ll")) for d in parts for n in d.data_vars}
    bad = {n: g for n, g in grid_of.items() if g not in GRIB_GRIDS}
    if not bad:
        return parts
    wind_names = set(_U_NAMES) | set(_V_NAMES)
    winds = [n for n in bad if n.lower() in wind_names]
    if winds or len(bad) == len(grid_of):
        names = winds or list(bad)
        g = bad[names[0]]
        words = _GRIB_GRID_WORDS.get(g, "a grid other than regular lat/lon")
        raise _err(str(path), f"{', '.join(names)} on {words}, GRIB gridType {g!r}: not supported; expected a "
                              "regular lat/lon or regular Gaussian grid (regrid first, e.g. cdo remapbil or "
                              "ECMWF MIR/earthkit-regrid)")
    return [d for d in parts
            if all(str(d[n].attrs.get("GRIB_gridType", "regular_ll")) in GRIB_GRIDS for n in d.data_vars)]


def open_grib_parts(path: Path, **backend_kwargs: object) -> list[xr.Dataset]:
    """A GRIB file as cfgrib's hypercubes, lazily (``chunks={}``), on the grids the
    readers take (see :func:`_grib_grid_check`).

    No ``.idx`` file is written next to the data (folders may be read-only). cfgrib's
    log records are kept off the console: a message cfgrib skips as corrupted (it
    logs a traceback and reads on) refuses the file, since its records would be
    missing silently.

    Raises
    ------
    MetDataError
        Naming the file: cfgrib not installed, unreadable, a corrupted message, no
        message, or fields on an unsupported grid.
    """
    try:
        import cfgrib
    except ImportError as exc:
        raise _err(
            str(path),
            'GRIB files need the optional cfgrib reader: pip install "plumecast[grib]" '
            "(or convert the file to netCDF)",
        ) from exc
    import logging
    import warnings

    class _Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    log = logging.getLogger("cfgrib")
    keep, propagate = _Keep(), log.propagate
    log.addHandler(keep)
    log.propagate = False
    try:
        with warnings.catch_warnings(), quiet_eccodes() as held:
            warnings.simplefilter("ignore", FutureWarning)
            parts = list(cfgrib.open_datasets(str(path), backend_kwargs={"indexpath": "", **backend_kwargs},
                                              chunks={}))
    except MetDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise _read_error(path, exc) from exc
    finally:
        log.removeHandler(keep)
        log.propagate = propagate
    corrupted = [r for r in keep.records if "corrupted" in r.getMessage()]
    if corrupted:
        exc_info = corrupted[0].exc_info
        why = f" ({type(exc_info[1]).__name__}: {exc_info[1]})" if exc_info and exc_info[1] is not None else ""
        raise _err(str(path), f"{len(corrupted)} corrupted GRIB message(s){why}: the file is damaged or cut short "
                              "(an incomplete download?); expected whole GRIB messages")
    if not parts:
        raise _err(str(path), "no GRIB message could be read; expected a GRIB file of winds")
    parts = select_level_types(_grib_grid_check(parts, path))
    replay(held)  # ecCodes' complaints about a file read after all
    return parts


def _open_grib(path: Path, winds: bool) -> xr.Dataset:
    """A GRIB file, lazily, through cfgrib; the hypercubes that hold the winds merged
    on their common coordinates (u and v are often on different level sets).

    A file of several forecasts each with several steps (an ERA5 or MARS forecast
    retrieval: reference times x steps, which cfgrib gives as dims ``time`` and
    ``step``) is read again with the valid time as its one time dimension (cfgrib
    ``time_dims``), as the level reader reads it: a series of records."""
    parts = open_grib_parts(path)
    if any(d.sizes.get("time", 1) > 1 and d.sizes.get("step", 1) > 1 for d in parts):
        parts = open_grib_parts(path, time_dims=["valid_time"])
    if len(parts) == 1:
        return parts[0]
    keep = parts
    if winds:
        names = set(_U_NAMES) | set(_V_NAMES)
        keep = [d for d in parts if any(str(n).lower() in names for n in d.data_vars)] or parts
    drop = [c for c in ("heightAboveGround", "surface", "meanSea") if len(keep) > 1]
    keep = [d.drop_vars([c for c in drop if c in d.coords and d[c].ndim == 0]) for d in keep]
    try:
        return xr.merge(keep, join="inner", compat="override", combine_attrs="drop_conflicts")
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise _read_error(path, exc) from exc


#: Attribute set on a netCDF file of forecast steps read as one series of valid times
#: (:func:`_forecast_steps_to_valid_times`).
FORECAST_STEPS = "plumecast_forecast_steps"


def _open_lazy(path: Path, winds: bool = True) -> xr.Dataset:
    """One met file, opened lazily (dask-backed; nothing read but the metadata)."""
    try:
        if is_grib(path):
            return _open_grib(path, winds)
        ds = per_record(xr.open_dataset(path, chunks={}), path)
    except MetDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise _read_error(path, exc) from exc
    return _forecast_steps_to_valid_times(ds, path)


def _forecast_steps_to_valid_times(ds: xr.Dataset, path: Path) -> xr.Dataset:
    """A netCDF copy of cfgrib's forecast layout (dims reference ``time`` x ``step``,
    ``valid_time`` on both, as ``xarray.open_dataset(engine="cfgrib").to_netcdf()``
    writes a MARS or ERA5 forecast retrieval) as one series of valid times, lazily: the
    two dimensions stacked, ordered by valid time (valid_time = time + step), the
    reference time and the step kept as ``forecast_reference_time`` and
    ``forecast_period``. Other files are returned as they are.

    Raises
    ------
    MetDataError
        Two forecasts with the same valid time (overlapping runs), naming both.
    """
    vt = ds.variables.get("valid_time")
    if vt is None or vt.ndim != 2 or not all(d in ds.dims for d in vt.dims):
        return ds
    ref_dim, step_dim = (str(d) for d in vt.dims)
    stacked = ds.stack(_record=(ref_dim, step_dim)).reset_index("_record")
    stacked = stacked.rename({c: n for c, n in ((ref_dim, "forecast_reference_time"), (step_dim, "forecast_period"))
                              if c in stacked.variables})
    times = np.asarray(stacked["valid_time"].values)
    keep = np.flatnonzero(~np.isnat(times))
    order = keep[np.argsort(times[keep], kind="stable")]
    sorted_t = times[order]
    same = np.flatnonzero(sorted_t[1:] == sorted_t[:-1])
    if same.size:
        i, j = order[same[0]], order[same[0] + 1]
        refs = np.asarray(stacked["forecast_reference_time"].values)
        steps = np.asarray(stacked["forecast_period"].values).astype("timedelta64[m]")
        raise _err(str(path), f"valid time {_when(sorted_t[same[0]])} comes from two forecasts ({_when(refs[i])} + "
                              f"{steps[i]} and {_when(refs[j])} + {steps[j]}); expected each valid time once (select "
                              "the steps of each forecast that the next one does not cover)")
    out = stacked.isel(_record=order).swap_dims({"_record": "valid_time"})
    out = out.transpose("valid_time", ...)
    out.attrs[FORECAST_STEPS] = 1
    return out


def _open_dataset(path: Path) -> xr.Dataset:
    """One met file, read into memory (kept for callers that need it whole)."""
    return _open_lazy(path).load()


#: CF calendars whose dates are the standard (Gregorian) calendar's since 1582
_STANDARD_CALENDARS = ("standard", "gregorian", "proleptic_gregorian", "")


def undecoded_time_text(tc: xr.DataArray) -> str:
    """What to do about a time coordinate that could not be decoded: a climate model's calendar (``noleap``,
    ``360_day`` ...) named as such (it had been blamed on the units; met audit, session 40), else the units."""
    calendar = str(tc.attrs.get("calendar", tc.encoding.get("calendar", ""))).lower()
    if calendar not in _STANDARD_CALENDARS:
        return (f"its calendar is {calendar!r}, a climate model's; expected the standard (Gregorian) calendar of "
                "weather analyses and forecasts (convert the times first, e.g. cdo setcalendar,standard)")
    return "expected CF time units such as 'hours since 1970-01-01'"


def _on_time(ds: xr.Dataset, path: Path, winds: bool) -> tuple[xr.Dataset, np.ndarray]:
    """One file of a set: its winds with the (valid) time as dimension ``time``."""
    where = str(path)
    if winds:
        u_name, v_name = _find_wind_vars(ds, where)
        keep = [u_name, v_name]
    else:
        keep = [str(n) for n in ds.data_vars]
    ref = ds[keep[0]]
    time_name = find_time_coord(ds)
    if time_name is None:
        raise _err(
            where,
            "no time coordinate; the files of a set are joined along time, so each needs one "
            f"(CF 'time' or 'valid_time'); found {[str(n) for n in ds.variables]}",
        )
    tc = ds[time_name]
    decoded = decoded_times(tc.values)
    if decoded is None:
        raise _err(where, f"time {time_name!r} could not be decoded to dates; " + undecoded_time_text(tc))
    times = decoded.reshape(-1)
    tdims = tc.dims[:decoded.ndim]  # a char array (WRF 'Times') loses its string dimension
    if len(tdims) == 1 and tdims[0] in ref.dims:
        tdim: str | None = str(tdims[0])
    elif tc.size == 1:
        tdim = None
    else:
        raise _err(where, f"time {time_name!r} has dims {tc.dims}, not a dimension of {keep[0]!r} {ref.dims}")
    lat_lon = [n for n in (_find_coord(ds, _LAT_NAMES, "latitude", ()), _find_coord(ds, _LON_NAMES, "longitude", ()))
               if n is not None and n in ds.data_vars]
    sub = ds[keep + [n for n in lat_lon if n not in keep]]
    time_like = [str(c) for c in sub.coords if _lower(c) in _TIME_NAMES or _lower(c) == "step"]
    sub = sub.drop_vars(time_like)
    if tdim is None:
        sub = sub.expand_dims(time=times.size)
    elif tdim != "time":
        sub = sub.rename_dims({tdim: "time"})
    sub = sub.assign_coords(
        time=("time", times, {"standard_name": "time", "long_name": "valid time"}),
        met_file=("time", np.full(times.size, path.name)),
    )
    for n in keep:
        sub[n].attrs = ds[n].attrs
    return sub, times


def _check_same_grid(first: xr.Dataset, first_path: Path, other: xr.Dataset, path: Path) -> None:
    a_vars, b_vars = list(first.data_vars), list(other.data_vars)
    if set(a_vars) != set(b_vars):  # in any order: files merged per quantity list them in their files' order
        raise _err(
            str(path),
            f"has variables {b_vars} but {first_path.name} has {a_vars}; expected the same variables in every file",
        )
    for d, n in first[a_vars[0]].sizes.items():
        if d == "time":
            continue
        m = other[a_vars[0]].sizes.get(d)
        same = m == n and (d not in first.coords or d not in other.coords
                           or np.array_equal(np.asarray(first[d].values), np.asarray(other[d].values)))
        if not same:
            ranges = (f": {axis_text(other[d].values, False)} vs {axis_text(first[d].values, False)}"
                      if d in first.coords and d in other.coords else "")
            raise _err(str(path), f"dimension {str(d)!r} differs from {first_path.name}'s ({m} vs {n} values"
                                  f"{ranges}); expected every file on the same grid, levels and members")


def open_met_dataset(path: MetPath, *, winds: bool = True) -> xr.Dataset:
    """Open the met file(s) of ``path`` lazily and join them along time.

    Parameters
    ----------
    path : file, folder, glob pattern or list (see :func:`met_paths`).
    winds : require wind components in every file (``False``: any variables).

    Returns
    -------
    xarray.Dataset
        One file: the file as xarray decodes it (dask-backed). Several files: the
        wind variables with the valid time as dimension ``time`` (a coordinate
        ``met_file`` names each record's file), the member dimension kept. Nothing
        but metadata has been read. Files that hold different quantities for the
        same times (a file per variable: ``u10.nc`` and ``v10.nc``) are merged
        first, then joined along time (:func:`_join_by_quantity`).

    Raises
    ------
    MetDataError
        Naming the file: unreadable, no winds or no time, another grid, levels
        or members than the first file, a time overlap with another file, or a gap
        (a step between files more than 1.5 times the steps around it); for files
        of the same times, a quantity in two of them, another grid, or one wind
        component in none of them.
    """
    paths = met_paths(path)
    if len(paths) == 1:
        return _open_lazy(paths[0], winds)
    files: list[xr.Dataset] = []

    def close_all() -> None:
        for ds in files:
            ds.close()

    try:
        opened = []
        for p in paths:
            files.append(_open_lazy(p, winds))
            opened.append((p, files[-1]))
        if winds:  # wgrib2's UGRD_850mb, UGRD_500mb ...: UGRD on 'level', as the 3-D reader reads them
            opened = [(p, _stack_mb_variables(ds)) for p, ds in opened]
        joined = None
        if winds and all(_has_winds(ds) for _, ds in opened):
            items = [(p, *_on_time(ds, p, winds)) for p, ds in opened]
            if len({_times_key(t) for _, _, t in items}) == len(items):
                joined = join_on_time(items)
            # files of the same times with winds each (ERA5's pressure-level and single-level
            # files): merged per time as files per quantity are
        if joined is None:
            joined = _join_by_quantity(opened, winds)
    except BaseException:
        close_all()  # a refused set closes its files (the next read of them had failed: NetCDF HDF error)
        raise
    joined.set_close(close_all)  # closing the set closes its files (a join does not on its own)
    return joined


def _has_winds(ds: xr.Dataset) -> bool:
    try:
        _find_wind_vars(ds, "")
    except NoWindsError:
        return False
    return True


def _fields(ds: xr.Dataset) -> xr.Dataset:
    """A file's gridded fields as data variables, for merging with other files of the
    same times: latitudes, longitudes and times written as variables (WRF ``XLAT``,
    ``Times``) made coordinates, and CF cell bounds (``lat_bnds``..) and variables
    of fewer than two dimensions dropped."""
    named = [_find_coord(ds, _LAT_NAMES, "latitude", ()), _find_coord(ds, _LON_NAMES, "longitude", ()),
             find_time_coord(ds)]
    ds = ds.set_coords([n for n in named if n is not None and n in ds.data_vars])
    bounds = {str(ds[n].attrs["bounds"]) for n in ds.variables if "bounds" in ds[n].attrs}
    drop = [str(n) for n in ds.data_vars if ds[n].ndim < 2 or str(n) in bounds]
    return ds.drop_vars(drop) if len(drop) < len(ds.data_vars) else ds


def _times_key(times: np.ndarray) -> bytes:
    return np.asarray(times).astype("datetime64[ns]").tobytes()


def _join_by_quantity(opened: Sequence[tuple[Path, xr.Dataset]], winds: bool) -> xr.Dataset:
    """Files of a set that hold different quantities for the same times (a file per
    variable: CDS requests of ``u10`` and ``v10``, the NOMADS filter, ECMWF open data
    or MARS GRIB per parameter; ERA5's pressure-level and single-level files) merged
    into one per time (:func:`plumecast.met.levels_join._merge_same_times`: the same
    grid, each quantity in one file), then joined along time (:func:`join_on_time`).
    With ``winds``, only the files' wind variables are merged where the files of a
    time have any (their other fields are the 3-D reader's: ERA5's two files both
    hold a ``z``), and every merged file holds both wind components (kept alone, as
    by :func:`_on_time`; of pressure-level and 10 m winds, those on levels, as in one
    file that holds both), or a MetDataError names its files and what they hold."""
    from plumecast.met.levels_join import _merge_same_times

    items = [(p, *_on_time(_fields(ds), p, winds=False)) for p, ds in opened]
    files_of: dict[bytes, list[Path]] = {}
    for p, _sub, t in items:
        files_of.setdefault(_times_key(t), []).append(p)
    found = {p: [str(n) for n in sub.data_vars] for p, sub, _ in items}
    if winds:
        items = _wind_items(items)
    joined: list[tuple[Path, xr.Dataset, np.ndarray]] = []
    for base, ds, times in _merge_same_times(items, one_sided=winds):
        group = files_of[_times_key(times)]
        if winds:
            ds = _winds_of(ds, group, dict(opened), found, times)
            held = [p for p in group if any(str(n) in found[p] for n in ds.data_vars)]
            if len(group) > 1 and held and held != [base]:
                # the files of the winds read (not ERA5's single-level file beside its pressure levels)
                ds = ds.assign_coords(met_file=("time", np.full(times.size, " + ".join(p.name for p in held))))
        elif len(group) > 1:
            ds = ds.assign_coords(met_file=("time", np.full(times.size, " + ".join(p.name for p in group))))
        joined.append((base, ds, times))
    out = join_on_time(joined) if len(joined) > 1 else joined[0][1]
    out.attrs["source"] = describe_paths([p for p, _ in opened])
    return out


def _wind_items(items: list[tuple[Path, xr.Dataset, np.ndarray]]) -> list[tuple[Path, xr.Dataset, np.ndarray]]:
    """``items`` (path, dataset on time, times) with each file's wind variables only,
    where the files of its times hold any (:func:`plumecast.met.variables._wind_variables`;
    a file of those times without any left out); the files of times without winds as
    they are, for the message that says so."""
    with_winds = {_times_key(t) for _, ds, t in items if _wind_variables(ds)}
    out = []
    for p, ds, t in items:
        if _times_key(t) not in with_winds:
            out.append((p, ds, t))
        elif names := _wind_variables(ds):
            out.append((p, ds[names], t))
    return out


def _winds_of(ds: xr.Dataset, group: list[Path], opened: dict[Path, xr.Dataset], found: dict[Path, list[str]],
              times: np.ndarray) -> xr.Dataset:
    """The wind components of the merged files ``group`` of the same ``times``
    (with the latitudes and longitudes written as variables), or a MetDataError
    naming the files: the existing message when none holds a wind component, else
    which component is in which file and that the other is in none."""
    u_name, v_name = _wind_components(ds)
    if u_name is None or v_name is None:
        if u_name is None and v_name is None:
            # the message of a file without winds, naming the file(s) and their variables
            _find_wind_vars(opened[group[0]] if len(group) == 1 else ds, _group_text(group))
        has, lacks = ("eastward", "northward") if v_name is None else ("northward", "eastward")
        name = u_name if v_name is None else v_name
        assert name is not None
        holder = next(p for p in group if name in found[p])
        names = ("v, v10, VGRD, vgrd10m, V, V10" if v_name is None else "u, u10, UGRD, ugrd10m, U, U10")
        when = _when(times[0]) + (f" .. {_when(times[-1])}" if times.size > 1 else "")
        what = "; ".join(f"{p.name}: {found[p]}" for p in group)
        raise NoWindsError(
            f"{_group_text(group)}: no recognisable wind components; the {has} wind {name!r} (in {holder.name}) but "
            f"no {lacks} wind in {'the file' if len(group) == 1 else 'these files'} or in any other file of the same "
            f"times ({when}); "
            f"found {what}; expected the {lacks} component too, with standard_name '{lacks}_wind' or named "
            f"{names} (a file of its own at the same times is merged)")
    lat_lon = [n for n in (_find_coord(ds, _LAT_NAMES, "latitude", ()), _find_coord(ds, _LON_NAMES, "longitude", ()))
               if n is not None and n in ds.data_vars]
    out = ds[[u_name, v_name] + [n for n in lat_lon if n not in (u_name, v_name)]]
    for n in (u_name, v_name):
        out[n].attrs = ds[n].attrs
    return out


def _group_text(group: Sequence[Path]) -> str:
    """Files in a message: the first with its folder, the others by name."""
    return str(group[0]) if len(group) == 1 else f"{group[0]} and {', '.join(p.name for p in group[1:])}"


def join_on_time(files: Sequence[tuple[Path, xr.Dataset, np.ndarray]]) -> xr.Dataset:
    """Join per-file datasets along ``time``, checking grids, overlaps and gaps.

    Parameters
    ----------
    files : (path, dataset, times) per file; each dataset has the dimension
        ``time`` (valid times ``times``) and the coordinate ``met_file``.

    Returns
    -------
    xarray.Dataset
        The datasets concatenated in time order (lazily), attr ``source`` naming
        the files.

    Raises
    ------
    MetDataError
        Naming the file: other variables, grid, levels or members than the first
        file, a time overlap with another file, or a gap (a step between files
        more than 1.5 times the steps around it).
    """
    parts = sorted(((np.min(t), p, sub, np.sort(t)) for p, sub, t in files), key=lambda x: x[0])
    first_path, first = parts[0][1], parts[0][2]
    for _, p, sub, _ in parts[1:]:
        _check_same_grid(first, first_path, sub, p)
    for (_, pa, _, ta), (_, pb, _, tb) in zip(parts, parts[1:], strict=False):
        if tb[0] <= ta[-1]:
            raise _err(
                str(pb),
                f"times {_when(tb[0])} .. {_when(tb[-1])} overlap those of {pa} ({_when(ta[0])} .. {_when(ta[-1])}); expected "
                "each time in one file only",
            )
    all_t = np.concatenate([x[3] for x in parts])
    steps = np.diff(all_t).astype("timedelta64[s]").astype(np.float64)
    edge = np.cumsum([x[3].size for x in parts])[:-1] - 1  # index in steps of each file-to-file step
    for k, i in enumerate(edge):
        around = [steps[j] for j in (i - 1, i + 1) if 0 <= j < steps.size]
        if around and steps[i] > 1.5 * max(around):
            pa, pb = parts[k][1], parts[k + 1][1]
            raise _err(
                str(pb),
                f"starts at {_when(all_t[i + 1])}, {steps[i] / 3600:g} h after {pa.name} ends ({_when(all_t[i])}), while the "
                f"records around are {max(around) / 3600:g} h apart: a gap in the met (a missing file?); "
                "expected consecutive records without gaps",
            )
    ds = xr.concat([x[2] for x in parts], dim="time", data_vars="minimal", coords="minimal",
                   compat="override", join="override", combine_attrs="override")
    ds.attrs["source"] = describe_paths([x[1] for x in parts])
    return ds


def met_members(path: MetPath) -> NDArray[np.int64] | None:
    """Member numbers of the met file(s) (the ``number`` coordinate of ERA5/ENS/GEFS
    files, or 0..n-1), or None without a member dimension. Reads metadata only (the
    files joined as the winds are: ERA5's pressure-level and single-level files both
    hold a ``z``)."""
    ds = open_met_dataset(path)
    dim = next((str(d) for d in ds.dims if _lower(d) in MEMBER_DIMS), None)
    if dim is None:
        return None
    if dim in ds.coords:
        return np.asarray(ds[dim].values).astype(np.int64)
    return np.arange(ds.sizes[dim], dtype=np.int64)


def wind_file_domain(path: MetPath, *, level_hpa: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The grid of a wind file, read without loading the winds.

    Parameters
    ----------
    path : file, folder, glob pattern or list (see :func:`met_paths`); for several
        files, the grid of the first one that holds winds (every file's grid is
        checked when the winds are opened), or, when no file holds both components
        (a file per quantity), that of the files merged as :func:`open_met_dataset`
        merges them.
    level_hpa : float, optional
        Unused for the grid; accepted for symmetry with :func:`open_wind`.

    Returns
    -------
    lat, lon : numpy.ndarray
        Latitudes ascending [deg N]; longitudes wrapped to [-180, 180), sorted and
        without repeats [deg E] (as in the normalised dataset).

    Raises
    ------
    MetDataError
        File missing or unreadable, no recognisable winds or coordinates.
    """
    del level_hpa
    paths = met_paths(path)
    first_error: NoWindsError | None = None
    for p in paths:  # the first file with winds: a set may hold surface-only files too
        try:
            with _open_lazy(p) as ds:
                return _grid_of(ds, str(p))
        except NoWindsError as exc:
            first_error = first_error or exc
    assert first_error is not None
    if len(paths) > 1:
        # a file per quantity (u10.nc, v10.nc): the grid of the files merged as open_wind merges them
        with open_met_dataset(paths) as ds:
            return _grid_of(ds, str(ds.attrs.get("source", paths[0])))
    raise first_error


def _grid_of(ds: xr.Dataset, path: str) -> tuple[np.ndarray, np.ndarray]:
    u_name, _ = _find_wind_vars(ds, path)
    _, lat, _, lon = _horizontal_axes(ds, _destagger(ds[u_name]), path)
    from plumecast.met.reader import wrapped_lon

    lon_w = np.unique(wrapped_lon(np.asarray(lon, float)))
    return np.sort(np.asarray(lat, float)), lon_w


def inside_wind_domain(lat: np.ndarray, lon: np.ndarray, at_lat: float, at_lon: float) -> bool:
    """True if (``at_lat``, ``at_lon``) [deg] lies within a wind grid.

    ``lat`` ascending, ``lon`` sorted in [-180, 180) (see :func:`wind_file_domain`).
    A point is inside if it is within the latitude range and between two longitude
    nodes no further apart than 1.5 times the median spacing (so the gap of a
    regional grid, including the wrap-around of a non-global one, is outside).
    """
    if lat.size == 0 or lon.size == 0 or not (lat[0] - 1e-9 <= at_lat <= lat[-1] + 1e-9):
        return False
    # a point at 180 E is -180 for the transport (particles are in [-180, 180)): off a regional grid that ends
    # at +180 (reader.wrapped_lon), as the transport finds it (it had been let in and every kilogram had
    # "exited" at once; review of session 40)
    x = (float(at_lon) + 180.0) % 360.0 - 180.0
    if lon.size == 1:
        return bool(abs(x - lon[0]) < 1e-9)
    gaps = np.diff(lon)
    limit = 1.5 * float(np.median(gaps)) + 1e-9
    i = int(np.searchsorted(lon, x))
    if i < lon.size and abs(lon[i] - x) < 1e-9:
        return True
    if 0 < i < lon.size:
        return bool(lon[i] - lon[i - 1] <= limit)
    return bool(lon[0] + 360.0 - lon[-1] <= limit)  # across the wrap: only a global grid
