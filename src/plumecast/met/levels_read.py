"""Reading 3-D met files: finding their variables and normalising them.

:func:`open_met_3d` reads pressure-level (or height-level) met files, lazily, into
one normalised 3-D dataset (below); :func:`plumecast.met.levels.wind_grid_3d`
turns chosen records of it into a WindGrid on heights above ground. Both are
importable from :mod:`plumecast.met.levels` (and :mod:`plumecast.met`).

The normalised 3-D dataset
--------------------------
* dims ``time`` (valid times, ascending), ``number`` (members; only when the files
  hold several and none was chosen), ``level``, ``lat`` (ascending), ``lon``
  (ascending in [-180, 180));
* on ``(time, level, lat, lon)``: ``u``, ``v`` [m s-1]; ``gh`` geopotential height
  above mean sea level [m] (geopotential / g0); ``w`` [m s-1] or ``omega`` [Pa s-1];
  ``t`` air temperature [K] or ``theta`` potential temperature [K] — each when the
  files have it;
* on ``(time, lat, lon)``, when present: ``u10``, ``v10`` [m s-1]; ``t2m`` [K];
  ``blh`` mixing height [m]; ``ustar`` friction velocity [m s-1]; ``shf`` surface
  sensible heat flux, upward positive [W m-2]; ``solar`` solar (short-wave)
  radiation at the ground, downward [W m-2]; ``precip`` [mm h-1] (these three, where
  they are quantities over intervals, the mean over the interval from the previous
  record: attr ``plumecast_interval``); ``sp`` surface pressure [Pa]; ``zs`` surface
  height (surface geopotential / g0, or orography) [m]; ``land`` land fraction,
  0 water to 1 land (ERA5 ``lsm``, GFS ``LAND``, WRF ``LANDMASK`` or ``XLAND``;
  CF ``land_area_fraction``, ``land_binary_mask``), or on ``(lat, lon)``;
* ``level`` is pressure [hPa] (ground first: descending) when ``attrs["level_type"]
  == "pressure"``, height above ground [m] (ascending) when ``"height"``, or height above
  sea level [m] (ascending) when ``"altitude"`` (then taken above the ground ``zs``);
* attrs ``source``, ``first_file``, ``level_type``, ``global_lon``, ``steady``,
  ``history`` and, where the files hold what is not read (GRIB level types left out,
  fields that cannot be identified, a folder's subfolders), ``unread`` saying so (in
  the provenance of :func:`plumecast.met.levels.wind_grid_3d`); each variable's attr
  ``plumecast_from`` says which file variable it came from and how it was converted
  (``plumecast_var``, ``plumecast_conversion``: the same apart);
* coordinates ``met_file`` (on ``time``: the file of each record's winds on levels)
  and ``met_file_<field>`` (on ``time``, or scalar for an orography file) for each
  field held in another file (ERA5's single-level file, a file per quantity), so that
  messages name the file that holds the field.

Values outside :data:`plumecast.met.plausible.PLAUSIBLE_RANGES` (undeclared fill values, wrong units) are
refused when a record is read (:func:`plumecast.met.levels.wind_grid_3d`), as are
NaN inside the domain; a 10 m wind component without the other is refused here.

Variables are found by CF ``standard_name`` first, then by the names the producers
use: ERA5 (``u v w z t``, ``u10 v10 t2m blh zust sshf ssrd tp sp``, surface ``z``), GFS
(``UGRD VGRD VVEL HGT TMP``, the wgrib2 per-level form ``UGRD_850mb``, ``HPBL FRICV
SHTFL DSWRF PRATE APCP``, surface ``HGT`` and ``PRES``) and WRF post-processed onto pressure levels
(``U V W GHT TT``, ``U10 V10 T2 PBLH UST HFX SWDOWN RAINNC HGT``). GRIB files come
through cfgrib: each file's hypercubes (pressure levels, surface, 10 m) are read
separately and merged. Files of a set are joined along time as for the
single-level reader (:func:`plumecast.met.reader.join_on_time`): pressure-level
files and single-level files (ERA5's two CDS data sets) may be given together and
are joined separately, then matched record by record.

Conversions, said in ``plumecast_from``: geopotential [m2 s-2] / g0; a sensible heat
flux positive downward (ECMWF's ``sshf``, ``ishf``; by the GRIB centre ``ecmf``, or by
those names) has its sign flipped, NCEP's SHTFL (centre ``kwbc``, which ecCodes also
names ``ishf``, averaged ``avg_ishf``) is positive upward; GFS ``PRATE`` [kg m-2 s-1]
times 3600; precipitation amounts in m x 1000. Precipitation, heat flux and solar
radiation over intervals (accumulated since a forecast's start, in GFS's 6-h buckets
or averages, over ERA5's hour, since WRF's start) are taken to the mean over the
interval between records through their GRIB step ranges or their producers'
conventions: :mod:`plumecast.met.intervals`. (ERA5 hourly accumulations: Hersbach et
al. 2020, Q. J. R. Meteorol. Soc. 146, 1999, doi:10.1002/qj.3803, and the ERA5 data
documentation.)

The conversions are made in :mod:`plumecast.met.levels_units`; the variables and their
vertical coordinates are found in :mod:`plumecast.met.levels_variables`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.errors import MetDataError
from plumecast.met.files import FORECAST_STEPS, _group_text, folder_notes, open_grib_parts
from plumecast.met.grib_layout import UNREAD, unread_text
from plumecast.met.ground_once import remember_files
from plumecast.met.intervals import (
    BY_NAME,
    ERA5_HOUR,
    GRIB_WINDOW,
    INSTANT,
    INTERVAL_FIELDS,
    SUM,
    TIMING,
    WINDOW,
    accumulated_since_start,
    attach_copy_windows,
    attach_grib_windows,
    check_not_since_start,
    interval_means,
    timing,
    window_coords,
)
from plumecast.met.levels_join import (
    _STATIC_FIELDS,
    FIELD_FILE,
    _check_steps,
    _fill_step_zero,
    _merge_kind,
    _merge_same_times,
    _pad_interval_files,
    _pad_step_zero,
    _with_time,
    check_members,
    conform_grid,
    static_on_time,
    timeless_static,
)
from plumecast.met.levels_precip import PRECIP_UNREAD, field_file, precipitation_parts
from plumecast.met.levels_units import _ACC_MM, _FLUX_J, _factor, _units
from plumecast.met.levels_variables import (
    _LEVEL_SPECS,
    _SURFACE_SPECS,
    _TIME_LIKE,
    _match,
    _Vertical,
    _vertical_of,
    identify_unknown,
    other_levels_text,
)
from plumecast.met.reader import (
    MEMBER_DIMS,
    MetPath,
    _destagger,
    _find_coord,
    _global_lon,
    _horizontal_axes,
    _open_lazy,
    gaussian_rows,
    is_grib,
    join_on_time,
    met_paths,
    wrapped_lon,
)
from plumecast.met.time_bounds import at_interval_ends, attach_bounds_windows
from plumecast.met.variables import (
    NoLevelsError,
    _err,
    _stack_mb_variables,
    _when,
    axis_text,
    find_time_coord,
)

__all__ = ["normalise_met_3d", "open_met_3d"]


# ---------------------------------------------------------------------------
# one file (or GRIB hypercube) -> canonical level / surface datasets
# ---------------------------------------------------------------------------


def _extra_dim(where: str, name: str, dim: str, size: int) -> MetDataError:
    hint = (" (ERA5 with final and preliminary ERA5T records: combine them first, e.g. with xarray "
            "ds.sel(expver=1).combine_first(ds.sel(expver=5)))" if dim.lower() == "expver" else
            f" (select one first, e.g. with xarray ds.isel({dim}=0))")
    return _err(where, f"{name!r} has the dimension {dim!r} ({size} values) besides time, level, member, latitude "
                       f"and longitude; expected none other{hint}")


def _canonical(ds: xr.Dataset, path: Path, is_grib_piece: bool = False,
               unread: list[tuple[str, Path]] | None = None
               ) -> tuple[xr.Dataset | None, xr.Dataset | None, str]:
    """One opened file or GRIB hypercube -> (level dataset, surface dataset, level type).
    ``is_grib_piece``: one of several hypercubes of a GRIB file (a scalar member
    number is then kept as a member dimension, so that an ensemble's control and
    perturbed members join). ``unread`` gets the fields plumecast cannot identify (a
    GRIB field ecCodes could not name and the file gives no codes for), in words, with
    the file."""
    where = str(path)
    ds = _stack_mb_variables(ds)
    lat_name = _find_coord(ds, ("lat", "latitude", "xlat", "xlat_m", "nav_lat"), "latitude", ())
    lon_name = _find_coord(ds, ("lon", "longitude", "xlong", "xlong_m", "nav_lon"), "longitude", ())
    time_name = find_time_coord(ds, ("valid_time", "time", "times", "xtime"))
    ds = attach_bounds_windows(ds, time_name)  # CF time bounds: each record's window (met/time_bounds.py)
    skip = {n for n in (lat_name, lon_name, time_name) if n is not None}
    data = {str(n): _destagger(ds[n]) for n in ds.data_vars if str(n) not in skip and ds[n].ndim >= 2}
    for text in identify_unknown(data):  # GRIB fields without a name in ecCodes' tables
        if unread is not None:
            unread.append((text, path))
    if not data:
        raise _err(where, f"no gridded variables; found {[str(n) for n in ds.variables]}")
    ref = next(iter(data.values()))
    lat_dim, lat, lon_dim, lon = _horizontal_axes(ds, ref, where)
    hdims = {lat_dim, lon_dim}
    level_vars: dict[str, tuple[xr.DataArray, _Vertical]] = {}
    surf_vars: dict[str, xr.DataArray] = {}
    others: dict[str, str] = {}
    for name, da in data.items():
        if lat_dim not in da.dims or lon_dim not in da.dims:
            continue
        vert = _vertical_of(ds, da, hdims, where)
        if vert.kind == "other":
            others[name] = vert.dim or ""
        elif vert.kind == "surface":
            surf_vars[name] = da
        else:
            level_vars[name] = (da, vert)
    kinds = {v.kind for _, v in level_vars.values()}
    if len(kinds) > 1:
        raise _err(where, "variables on both pressure and height levels; expected one kind of level per file")
    level_type = kinds.pop() if kinds else ""
    lev_match = _match({n: da for n, (da, _) in level_vars.items()}, _LEVEL_SPECS)
    if "u" not in lev_match:
        winds = _match({n: data[n] for n in others}, {"u": _LEVEL_SPECS["u"]})
        if winds:
            n = winds["u"]
            raise _err(where, other_levels_text(ds, data[n], n, others[n]))
    surf_match = _match(surf_vars, _SURFACE_SPECS)
    for name, dim in others.items():
        if dim.lower() == "expver":
            raise _extra_dim(where, name, dim, int(data[name].sizes[dim]))

    # winds on more than one level: a field of the file refused for its units drops them if the file is read
    # at one level instead (run_winds.open_one_level); a file of one level of winds loses nothing
    wind_levels = 0
    if "u" in lev_match:
        u_da, u_vert = level_vars[lev_match["u"]]
        wind_levels = int(u_da.sizes.get(u_vert.dim, 1)) if u_vert.dim else 1
    centre = str(ds.attrs.get("GRIB_centre", "")).strip().lower()
    forecast_steps = bool(ds.attrs.get(FORECAST_STEPS, 0))

    def prepare(da: xr.DataArray, key: str, fname: str, vert: _Vertical | None) -> xr.DataArray:
        try:
            scale, offset, note = _factor(key, da, fname, where, str(da.attrs.get("GRIB_centre", centre)).lower())
        except MetDataError as exc:
            # a field on levels in units that cannot be read (none, as NOMADS' OpenDAP gives): the files do
            # hold fields on levels, which a read at one level would drop (run_winds.open_one_level)
            exc.on_levels = vert is not None and wind_levels > 1  # type: ignore[attr-defined]
            raise
        when, window, when_note = INSTANT, None, ""
        if key in INTERVAL_FIELDS:
            amount = _units(da) in _FLUX_J | _ACC_MM | {"m"}
            when, window, when_note = timing(key, da, fname, amount, where, forecast_steps,
                                             str(da.attrs.get("GRIB_centre", centre)).lower())
            if when == SUM:
                shown = ("J m-2" if _units(da) in _FLUX_J else "m" if _units(da) == "m" else
                         "mm" if _units(da) == "mm" else "kg m-2")
                era5_m = _units(da) == "m" and isinstance(window, float) and window == 3600.0
                note = f"accumulated {shown} {when_note}" + (" to mm h-1" if era5_m else f", {note}" if note else "")
            elif when_note:
                note = f"{note}; {when_note}" if note else when_note
        own_window = f"{GRIB_WINDOW}{fname}"
        da = da.drop_vars([c for c in da.coords if str(c).startswith(GRIB_WINDOW)
                           and (str(c) != own_window or when == INSTANT)])
        if when != INSTANT and own_window not in da.coords:
            tdim = next((str(d) for d in da.dims if str(d).lower() in _TIME_LIKE), None)
            win = np.full(da.sizes[tdim], window, np.float64) if tdim is not None else np.float64(window)
            da = da.assign_coords({own_window: ((tdim,), win) if tdim is not None else ((), win)})
        out = da
        if vert is not None:
            if vert.dim is None:
                assert vert.coord is not None and vert.values is not None
                out = out.drop_vars(vert.coord, errors="ignore").expand_dims(level=vert.values.size)
                vdim = "level"
            else:
                vdim = vert.dim
                out = out.drop_vars([c for c in out.coords if str(c) == vdim or
                                     (out[c].ndim == 1 and out[c].dims[0] == vdim)], errors="ignore")
                out = out.rename({vdim: "level"}) if vdim != "level" else out
            assert vert.values is not None
            out = out.assign_coords(level=("level", vert.values))
            for d in [str(d) for d in out.dims if str(d) not in hdims and str(d) != "level"
                      and str(d).lower() not in MEMBER_DIMS and str(d).lower() not in _TIME_LIKE]:
                if out.sizes[d] > 1:
                    raise _extra_dim(where, fname, d, out.sizes[d])
                out = out.isel({d: 0}, drop=True)
        else:
            for d in [str(d) for d in out.dims if str(d) not in hdims and str(d).lower() not in MEMBER_DIMS
                      and str(d).lower() not in _TIME_LIKE]:
                out = out.isel({d: 0}, drop=True)
        scalar_member = next((str(c) for c in out.coords if str(c).lower() in MEMBER_DIMS and out[c].ndim == 0
                              and not any(str(d).lower() in MEMBER_DIMS for d in out.dims)), None)
        if scalar_member is not None and is_grib_piece:
            # one member of an ensemble file (ECMWF ENS: the control, number 0, is a hypercube of its own
            # beside the perturbed members): kept as a member so that the pieces join along it
            out = out.expand_dims({"number": [int(out[scalar_member].values)]})
        drop = [c for c in out.coords if str(c) not in out.dims and str(c).lower() not in _TIME_LIKE
                and not str(c).startswith(GRIB_WINDOW)]
        out = out.drop_vars(drop + [c for c in (lat_dim, lon_dim) if c in out.coords])
        if own_window in out.coords:
            out = out.rename({own_window: f"{WINDOW}{key}"})
        out = out.rename({d: n for d, n in ((lat_dim, "lat"), (lon_dim, "lon")) if d != n})
        mdim = next((str(d) for d in out.dims if str(d).lower() in MEMBER_DIMS), None)
        if mdim is not None and mdim != "number":
            out = out.rename({mdim: "number"})
        if scale != 1.0 or offset != 0.0:
            out = out * scale + offset
        units = {"u": "m s-1", "v": "m s-1", "geo": "m", "vert": "Pa s-1" if note.startswith("omega") else "m s-1",
                 "t": "K", "theta": "K", "u10": "m s-1", "v10": "m s-1", "t2m": "K", "blh": "m",
                 "ustar": "m s-1", "shf": "J m-2" if when == SUM else "W m-2",
                 "solar": "J m-2" if when == SUM else "W m-2", "precip": "mm" if when == SUM else "mm h-1",
                 "zs": "m", "land": "1", "sp": "Pa"}[key]
        what = f"{fname!r} [{da.attrs.get('units', 'no units')}] of {path.name}" + (f" ({note})" if note else "")
        out.attrs = {"units": units, "plumecast_from": what, "plumecast_var": fname, "plumecast_conversion": note,
                     "plumecast_units": str(da.attrs.get("units", "no units"))}
        if when != INSTANT:
            out.attrs[TIMING] = when
        if key == "precip" and when_note == ERA5_HOUR:  # by its name: tested against the data
            out.attrs[BY_NAME] = "1"
        return out.astype(np.float32) if out.dtype != np.float32 else out

    levels: dict[str, xr.DataArray] = {}
    for key, fname in lev_match.items():
        da, vert = level_vars[fname]
        name = {"geo": "gh", "vert": "vert"}.get(key, key)
        levels[name] = prepare(da, key, fname, vert)
    if "vert" in levels:
        vert_da = levels.pop("vert")
        levels["omega" if vert_da.attrs["units"] == "Pa s-1" else "w"] = vert_da
    surface: dict[str, xr.DataArray] = {}
    for key, fname in surf_match.items():
        surface[key] = prepare(surf_vars[fname], key, fname, None)
    for text in precipitation_parts(surface, surf_vars, set(surf_match.values()),
                                    lambda da, n: prepare(da, "precip", n, None)):
        if unread is not None:
            unread.append((text, path))
    coords = {"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})}
    lev_ds = None
    if levels:
        lev_ds = xr.merge([d.rename(n) for n, d in levels.items()], join="inner", compat="override",
                          combine_attrs="drop_conflicts").assign_coords(coords)
        for n, d in levels.items():
            lev_ds[n].attrs = d.attrs
        if lev_ds.sizes["level"] == 0:
            raise _err(where, "the variables on levels share no level; expected u, v and geopotential on the "
                              "same levels")
    surf_ds = None
    if surface:
        surf_ds = xr.merge([d.rename(n) for n, d in surface.items()], compat="override",
                           combine_attrs="drop_conflicts").assign_coords(coords)
        for n, d in surface.items():
            surf_ds[n].attrs = d.attrs
    for part in (lev_ds, surf_ds):
        if part is not None and time_name is not None and time_name not in part.variables and time_name in ds:
            part.coords[time_name] = ds[time_name]
    return lev_ds, at_interval_ends(ds, surf_ds, time_name, where), level_type


def _pressure_over_heights(pieces: list[tuple[xr.Dataset | None, xr.Dataset | None, str]],
                           parts: list[xr.Dataset], path: Path, unread: list[tuple[str, Path]]
                           ) -> list[tuple[xr.Dataset | None, xr.Dataset | None, str]]:
    """The canonical pieces of one GRIB file, those on heights above ground left out
    where others are on pressure levels (not both: the winds on several heights above
    ground of a whole GFS file beside its pressure levels, where
    :func:`plumecast.met.grib_layout.select_level_types` has not left them out already),
    said in ``unread``."""
    kinds = {kind for lev, _s, kind in pieces if lev is not None}
    if "pressure" not in kinds or not kinds & {"height", "altitude"}:
        return pieces
    out: list[tuple[xr.Dataset | None, xr.Dataset | None, str]] = []
    for (lev, surf, kind), part in zip(pieces, parts, strict=True):
        if lev is None or kind not in ("height", "altitude"):
            out.append((lev, surf, kind))
            continue
        x = np.asarray(lev["level"].values, np.float64)
        grib = next((str(part[n].attrs.get("GRIB_typeOfLevel", "")) for n in part.data_vars), "")
        above = "ground" if kind == "height" else "sea level"
        unread.append((f"heights above {above} left out, the winds being read on pressure levels: "
                       f"{', '.join(sorted(map(str, lev.data_vars)))} on {x.min():g}..{x.max():g} m"
                       + (f" (GRIB {grib})" if grib else ""), path))
        out.append((None, surf, ""))
    return out


def _one_10m_component(merged: list[tuple[Path, xr.Dataset, NDArray[Any]]],
                       files: list[tuple[Path, xr.Dataset, NDArray[Any]]]) -> None:
    """Refuse a 10 m wind component without the other in the surface files of the same
    times (``merged``; ``files`` before the merge): it would be dropped silently, the
    log law from the lowest level taking its place."""
    for path, part, times in merged:
        have = [n for n in ("u10", "v10") if n in part]
        if len(have) != 1:
            continue
        n = have[0]
        other = "v10" if n == "u10" else "u10"
        where = next((str(p) for p, d, t in files if n in d and np.array_equal(np.asarray(t), np.asarray(times))),
                     str(path))
        var = str(part[n].attrs.get("plumecast_var", n))
        names = ", ".join(_SURFACE_SPECS[other].names)
        raise _err(where, f"{var!r} (10 m wind) without its other component ({other}: a variable named {names}); "
                          "expected both 10 m wind components, or neither (the log law from the lowest level then "
                          "gives the wind near the ground)")


#: The normalised fields a read at one level does not use (the boundary layer, the rain,
#: the radiation), in words.
BOUNDARY_FIELDS = {"blh": "mixing height", "ustar": "friction velocity", "shf": "heat flux",
                   "precip": "precipitation", "solar": "solar radiation"}


def boundary_field_text(name: str, var: str, file: str) -> str:
    """One such field in words: ``'blh' (mixing height) of sl.nc``."""
    return f"{var!r} ({BOUNDARY_FIELDS[name]}) of {file}"


def _boundary_fields(items: list[tuple[Path, xr.Dataset, NDArray[Any]]]) -> tuple[str, ...]:
    """The boundary-layer fields, precipitation and radiation that files hold, in words
    (:func:`boundary_field_text`), each once."""
    out: dict[str, str] = {}
    for p, d, _ in items:
        for n in BOUNDARY_FIELDS:
            if n in d and n not in out:
                out[n] = boundary_field_text(n, str(d[n].attrs.get("plumecast_var", n)), p.name)
    return tuple(out[n] for n in BOUNDARY_FIELDS if n in out)


def _one_vertical_form(levs: list[tuple[Path, xr.Dataset, NDArray[Any]]]) -> None:
    """Refuse a set whose files give the vertical motion in different forms: omega
    [Pa s-1] in some, w [m s-1] in others (the units decide the form, so this is a
    question of units, not of a missing variable)."""
    forms = [(p, d, "omega" if "omega" in d else "w") for p, d, _ in levs if "omega" in d or "w" in d]
    if len({f for _, _, f in forms}) < 2:
        return
    first = forms[0]
    odd = next(x for x in forms if x[2] != first[2])

    def said(p: Path, d: xr.Dataset, form: str) -> str:
        a = d[form].attrs
        unit = "Pa s-1" if form == "omega" else "m s-1"
        return (f"{a.get('plumecast_var', form)!r} in {a.get('plumecast_units', unit)} (read as {form}, {unit})"
                if p is odd[0] else f"{p.name} has {a.get('plumecast_var', form)!r} in "
                f"{a.get('plumecast_units', unit)} ({form}, {unit})")

    raise _err(str(odd[0]), f"vertical motion {said(*odd)}, while {said(*first)}: the units decide whether it is "
                            "omega or w; expected the same units in every file of the set (check this file's units: "
                            "omega = -rho g w)")


def _one_timing(surfs: list[tuple[Path, xr.Dataset, NDArray[Any]]]) -> None:
    """Refuse a set whose files give a quantity over intervals at an instant in some
    and over intervals in others (:mod:`plumecast.met.intervals`)."""
    seen: dict[str, tuple[Path, str, str]] = {}
    for p, d, _ in surfs:
        for n in INTERVAL_FIELDS:
            if n not in d:
                continue
            kind = "instantaneous" if d[n].attrs.get(TIMING, INSTANT) == INSTANT else "over intervals"
            var = str(d[n].attrs.get("plumecast_var", n))
            first = seen.setdefault(n, (p, kind, var))
            if first[1] != kind:
                raise _err(str(p), f"{var!r} is {kind} while {first[2]!r} of {first[0].name} is {first[1]}; "
                                   "expected each quantity in one form in every file of the set")


def _from_per_file(items: list[tuple[Path, xr.Dataset, NDArray[Any]]]) -> dict[str, str]:
    """The ``plumecast_from`` of each field that the files of a set hold in different
    units or forms, naming each file's (``'tp' [mm] of sl_0.nc; 'tp' [m] of sl_1.nc ..``);
    fields alike in every file are left out."""
    groups: dict[str, dict[tuple[str, str, str], list[Path]]] = {}
    for p, d, _t in sorted(items, key=lambda x: np.min(np.asarray(x[2]))):
        for n in d.data_vars:
            a = d[n].attrs
            sig = (str(a.get("plumecast_var", n)), str(a.get("plumecast_units", "")),
                   str(a.get("plumecast_conversion", "")))
            groups.setdefault(str(n), {}).setdefault(sig, []).append(p)
    out: dict[str, str] = {}
    for n, by in groups.items():
        if len(by) < 2:
            continue
        parts = []
        for (var, units, conv), paths in by.items():
            names = [q.name for q in dict.fromkeys(paths)]
            shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} .. {names[-1]} ({len(names)} files)"
            parts.append(f"{var!r} [{units}] of {shown}" + (f" ({conv})" if conv else ""))
        out[n] = "; ".join(parts)
    return out


def _field_files(ds: xr.Dataset) -> xr.Dataset:
    """Keep the ``met_file_<field>`` coordinates of the fields there are, where they
    differ from ``met_file`` (the file of the winds on levels): a surface file, a file
    per quantity, an orography file (scalar)."""
    base = np.asarray(ds["met_file"].values) if "met_file" in ds.coords else None
    drop = []
    for c in [str(c) for c in ds.coords if str(c).startswith(FIELD_FILE)]:
        if c[len(FIELD_FILE):] not in ds.data_vars:
            drop.append(c)
        elif base is not None and ds[c].shape == base.shape and np.array_equal(np.asarray(ds[c].values), base):
            drop.append(c)
    return ds.drop_vars(drop)


def _open_parts(path: Path, opened: xr.Dataset | None = None, since_start: frozenset[int] = frozenset()
                ) -> list[xr.Dataset]:
    """One file as datasets: a netCDF file whole (``opened``, where it is); a GRIB file
    as cfgrib's hypercubes. ``since_start``: ECMWF forecasts whose accumulations the
    set's netCDF copies show to be since the start (:func:`accumulated_since_start`)."""
    if not is_grib(path):
        # a netCDF copy of cfgrib's forecast layout: the windows rebuilt from its steps
        ds = opened if opened is not None else _open_lazy(path, winds=False)
        return [attach_copy_windows(path, ds, since_start)]
    # read_keys: the GRIB 2 codes of fields that ecCodes cannot name (see _GRIB2_CODES)
    keys = ["discipline", "parameterCategory", "parameterNumber"]
    # time_dims valid_time: ERA5 accumulations (base 06/18 UTC + steps 1..12 h) and
    # forecast steps come on one time axis of valid times
    return attach_grib_windows(path, open_grib_parts(path, read_keys=keys, time_dims=["valid_time"]))


# ---------------------------------------------------------------------------
# the joined, normalised dataset
# ---------------------------------------------------------------------------


def normalise_met_3d(
    files: Sequence[tuple[Path, xr.Dataset | list[xr.Dataset]]],
    *,
    source: str,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
    member: int | None = None,
    notes: Sequence[tuple[str, Path]] = (),
) -> xr.Dataset:
    """Normalise opened met datasets (one per file) into the 3-D dataset.

    Parameters
    ----------
    files : (path, dataset) per file, as xarray opened them; a GRIB file as the
        list of its cfgrib hypercubes. The path names the file in messages.
    source : description for the ``source`` attribute.
    time_window, member : as for :func:`open_met_3d`.
    notes : what the files hold that is not read, in words, each with its file (a
        folder's subfolders): joined, with the fields that cannot be identified and the
        GRIB level types left out, into the attribute ``unread``
        (:func:`plumecast.met.grib_layout.unread_text`) that the provenance gives.

    Returns
    -------
    xarray.Dataset
        The normalised 3-D dataset (see the module docstring), lazy where the
        inputs are.
    """
    levs: list[tuple[Path, xr.Dataset, NDArray[Any]]] = []
    surfs: list[tuple[Path, xr.Dataset, NDArray[Any]]] = []
    timeless: list[tuple[Path, xr.Dataset]] = []  # static fields without a time (levels_join.timeless_static)
    level_types: dict[str, Path] = {}
    unread: list[tuple[str, Path]] = [(str(n), Path(str(p))) for n, p in notes]
    for path, opened in files:
        for part in opened if isinstance(opened, list) else [opened]:
            if part.attrs.get(UNREAD):  # GRIB level types left out (plumecast.met.grib_layout)
                unread.append((str(part.attrs[UNREAD]), path))
        if isinstance(opened, list):
            pieces = [_canonical(p, path, is_grib_piece=True, unread=unread) for p in opened]
            pieces = _pressure_over_heights(pieces, opened, path, unread)
            lev = _merge_kind([p[0] for p in pieces if p[0] is not None], str(path)) if any(
                p[0] is not None for p in pieces) else None
            surf = _merge_kind(_pad_step_zero([p[1] for p in pieces if p[1] is not None], str(path)),
                               str(path)) if any(p[1] is not None for p in pieces) else None
            lt = next((p[2] for p in pieces if p[2]), "")
        else:
            lev, surf, lt = _canonical(opened, path, unread=unread)
        if lev is not None:
            level_types.setdefault(lt, path)
            levs.append((path, *_with_time(lev, path)))
        if surf is not None and timeless_static(surf):
            timeless.append((path, surf))  # on the levels' first time once it is known
        elif surf is not None:
            sub, sub_t = _with_time(surf, path)
            surfs.append((path, window_coords(sub), sub_t))
    first = files[0][0]
    if not levs:
        raise NoLevelsError(f"{first}: no winds on pressure or height levels; expected u, v on levels (a single-level "
                               "file is read with plumecast.met.open_wind)", _boundary_fields(surfs))
    if len(level_types) > 1:
        a, b = list(level_types.items())[:2]
        raise _err(str(b[1]), f"on {b[0]} levels while {a[1].name} is on {a[0]} levels; expected one kind")
    level_type = next(iter(level_types))
    _one_vertical_form(levs)
    _one_timing(surfs)
    from_of = {**_from_per_file(levs), **_from_per_file(surfs)}
    unmerged = levs
    levs = _merge_same_times(levs)
    lev_ds = join_on_time(levs) if len(levs) > 1 else levs[0][1]
    lev_path = levs[0][0]
    for need in ("u", "v"):
        if need not in lev_ds:
            # the files merged into the first record(s), each with what it holds (a file per quantity)
            first_t = np.asarray(levs[0][2]).astype("datetime64[ns]")
            group = [(p, d) for p, d, t in unmerged if np.array_equal(np.asarray(t).astype("datetime64[ns]"), first_t)]
            where, found = str(lev_path), f"{sorted(str(n) for n in lev_ds.data_vars)}"
            if len(group) > 1:
                where = _group_text([p for p, _ in group])
                found = "; ".join(f"{p.name}: {sorted(str(n) for n in d.data_vars)}" for p, d in group)
            raise _err(where, f"no {'eastward' if need == 'u' else 'northward'} wind on levels; expected "
                              f"a variable with standard_name {'eastward_wind' if need == 'u' else 'northward_wind'}"
                              f" or named {need}, {need.upper()}GRD, {need.upper()}; found {found}")
    if lev_ds["u"].dims != lev_ds["v"].dims:
        raise _err(str(lev_path), f"u has dims {lev_ds['u'].dims} but v has {lev_ds['v'].dims}; expected the same")
    _check_steps(lev_ds, str(lev_path))
    history: list[str] = []
    l_t = np.asarray(lev_ds["time"].values)
    surfs += [static_on_time(d, p, l_t[0]) for p, d in timeless]
    surfs = [(p, conform_grid(d, lev_ds), t) for p, d, t in surfs]
    # orography and land-sea mask files: one record for all times
    statics = [s for s in surfs if l_t.size > 1 and s[1].sizes.get("time", 1) == 1
               and set(s[1].data_vars) <= _STATIC_FIELDS]
    surfs = [s for s in surfs if not any(s is t for t in statics)] or statics[:1]
    statics = [s for s in statics if not any(s is t for t in surfs)]
    if surfs:
        merged = _merge_same_times(_pad_interval_files(surfs, levs))
        _one_10m_component(merged, surfs)
        surfs = _fill_step_zero(merged, history)
        surf_ds = join_on_time(surfs) if len(surfs) > 1 else surfs[0][1]
        surf_path = surfs[0][0]
        for ax in ("lat", "lon"):
            for path, part in [(surf_path, surf_ds), *((p, d) for p, d, _ in statics)]:
                if part.sizes[ax] != lev_ds.sizes[ax] or not np.allclose(part[ax].values, lev_ds[ax].values,
                                                                           atol=1e-4):
                    raise _err(str(path), f"surface fields on another {ax} grid ({axis_text(part[ax].values)}) than "
                                          f"the level fields of {lev_path.name} ({axis_text(lev_ds[ax].values)}); "
                                          "expected one grid")
        s_t = np.asarray(surf_ds["time"].values)
        static = s_t.size == 1 and l_t.size > 1 and set(surf_ds.data_vars) <= _STATIC_FIELDS
        if static:
            surf_ds = surf_ds.isel(time=0, drop=True).drop_vars("met_file", errors="ignore")
        else:
            missing = np.setdiff1d(l_t, s_t)
            if missing.size:
                raise _err(str(surf_path), f"the surface fields have no record at {_when(missing[0])} ({missing.size} of "
                                           f"{l_t.size} level times missing); expected the same times as the level "
                                           f"files ({lev_path.name} ..)")
            # quantities over intervals: the mean over the interval between level records, from
            # every surface record (their windows may begin at records the levels lack)
            means = {}
            for field in INTERVAL_FIELDS:
                if field in surf_ds and surf_ds[field].attrs.get(BY_NAME) == "1":
                    check_not_since_start(surf_ds[field], field_file(surf_ds, field, surf_path))
                if field in surf_ds and surf_ds[field].attrs.get(TIMING, INSTANT) != INSTANT:
                    da, note = interval_means(surf_ds[field], field, l_t, str(surf_path))
                    frm = from_of.get(field, str(da.attrs.get("plumecast_from", field)))
                    means[field] = da.assign_attrs(plumecast_from=f"{frm}; {note}")
            surf_ds = surf_ds.sel(time=l_t).drop_vars("met_file", errors="ignore")
            surf_ds = surf_ds.drop_vars([c for c in surf_ds.coords if str(c).startswith(WINDOW)])
            for field, da in means.items():
                surf_ds[field] = da.drop_vars([c for c in da.coords if str(c) not in da.dims
                                               and not str(c).startswith(FIELD_FILE)])
        for _p, part, _t in statics:
            part = part.isel(time=0, drop=True).drop_vars("met_file", errors="ignore")
            surf_ds = surf_ds.merge(part[[v for v in part.data_vars if v not in surf_ds]].assign_coords(
                lat=surf_ds["lat"], lon=surf_ds["lon"]))
        surf_ds = surf_ds.assign_coords(lat=lev_ds["lat"], lon=lev_ds["lon"])
        check_members(surf_ds, lev_ds, member, surf_path, lev_path)
        lev_ds = xr.merge([lev_ds, surf_ds], join="left", compat="override", combine_attrs="override")
    ds = lev_ds
    ds = ds.drop_vars([c for c in ds.coords if str(c) not in ("time", "level", "lat", "lon", "number", "met_file")
                       and not str(c).startswith(FIELD_FILE)])
    ds = _field_files(ds)
    for field, frm in from_of.items():  # fields converted differently in different files: each named
        if field in ds and field not in INTERVAL_FIELDS:
            ds[field].attrs["plumecast_from"] = frm

    # members
    if "number" in ds.dims and ds.sizes["number"] == 1 and member in (None, 0):
        ds = ds.isel(number=0, drop=True)
    elif "number" in ds.dims:
        n = int(ds.sizes["number"])
        if member is not None:
            if not 0 <= member < n:
                raise _err(str(lev_path), f"member {member} asked for but the files have {n} members (0..{n - 1})")
            ds = ds.isel(number=member, drop=True)
            history.append(f"member {member} of {n}")
    elif member is not None and member != 0:
        raise _err(str(lev_path), f"member {member} asked for but the files have no member dimension")

    # time window: select before reading
    times = np.asarray(ds["time"].values).astype("datetime64[ns]")
    steady = times.size == 1
    if time_window is not None and not steady:
        start = np.asarray(time_window[0]).astype("datetime64[ns]")
        end = np.asarray(time_window[1]).astype("datetime64[ns]")
        if end < start:
            raise _err(str(lev_path), f"time window ends ({_when(end)}) before it starts ({_when(start)})")
        if start < times[0] or end > times[-1]:
            raise _err(str(lev_path), f"times {_when(times[0])} .. {_when(times[-1])} do not cover the requested window "
                                      f"{_when(start)} .. {_when(end)}; expected met data that span the whole run")
        i0 = int(np.searchsorted(times, start, side="right")) - 1
        i1 = int(np.searchsorted(times, end, side="left"))
        if i1 - i0 + 1 < times.size:
            ds = ds.isel(time=slice(i0, i1 + 1))
            history.append(f"kept {i1 - i0 + 1} of {times.size} records (the run's window)")

    # horizontal order: lat ascending, lon wrapped to [-180, 180) and sorted (lazy)
    lat = np.asarray(ds["lat"].values, dtype=np.float64)
    lon = np.asarray(ds["lon"].values, dtype=np.float64)
    lon_w = wrapped_lon(lon)
    lon_order = np.argsort(lon_w, kind="stable")
    keep = np.concatenate([[True], np.diff(lon_w[lon_order]) > 1e-9])
    lon_order = lon_order[keep]
    lat_order = np.argsort(lat, kind="stable")
    if not np.array_equal(lat_order, np.arange(lat.size)):
        ds = ds.isel(lat=lat_order)
        history.append("flipped latitude to ascending")
    rows = gaussian_rows(lat[lat_order])
    if rows is not None:  # a regular Gaussian grid: its fields between evenly spaced rows (lazy)
        even, below, weight, text = rows
        lo, hi = ds.isel(lat=below).drop_vars("lat"), ds.isel(lat=below + 1).drop_vars("lat")
        w = xr.DataArray(weight, dims="lat")
        blended = {str(n): (lo[n] * (1.0 - w) + hi[n] * w).astype(lo[n].dtype).assign_attrs(lo[n].attrs)
                   for n in ds.data_vars if "lat" in ds[n].dims}
        ds = lo.assign(blended).assign_coords(lat=("lat", even, ds["lat"].attrs))
        history.append(text)
    if not np.array_equal(lon_order, np.arange(lon.size)) or np.any(lon_w != lon):
        ds = ds.isel(lon=lon_order).assign_coords(lon=("lon", lon_w[lon_order]))
        history.append(f"wrapped longitudes {lon.min():g}..{lon.max():g} to [-180, 180)")
    # levels: ground first
    lv = np.asarray(ds["level"].values, dtype=np.float64)
    order = np.argsort(-lv if level_type == "pressure" else lv, kind="stable")
    if not np.array_equal(order, np.arange(lv.size)):
        ds = ds.isel(level=order)
    ds["level"].attrs = {"units": "hPa" if level_type == "pressure" else "m",
                         "long_name": {"pressure": "pressure level", "altitude": "height above sea level"}.get(
                             level_type, "height above ground")}
    ds.attrs = {
        "source": source,
        "first_file": str(lev_path),
        "level_type": level_type,
        "global_lon": int(_global_lon(np.asarray(ds["lon"].values))),
        "steady": int(steady),
        "history": "; ".join(history),
    }
    if unread:
        ds.attrs[UNREAD] = unread_text(unread)
    if any(PRECIP_UNREAD in t for t, _ in unread):  # the provenance's precipitation line names them
        ds.attrs["unread_precip"] = unread_text([(t.split(" ")[0], p) for t, p in unread if PRECIP_UNREAD in t])
    remember_files(ds, [p for p, _ in files])  # the ground check once per file (plumecast.met.ground_once)
    return ds


def open_met_3d(
    path: MetPath,
    *,
    time_window: tuple[np.datetime64, np.datetime64] | None = None,
    member: int | None = None,
) -> xr.Dataset:
    """Open 3-D met file(s) lazily as the normalised 3-D dataset.

    Parameters
    ----------
    path : a file, folder, glob pattern or list (:func:`plumecast.met.reader.met_paths`):
        netCDF (ERA5, GFS, WRF-post naming) or GRIB (cfgrib).
    time_window : (datetime64, datetime64), optional
        Period the run needs; the records must cover it; only the records that
        bracket it are kept.
    member : int, optional
        Index along the member dimension (``number``) to keep; without it, all
        members are kept on the ``number`` dim.

    Returns
    -------
    xarray.Dataset
        The normalised 3-D dataset (module docstring), dask-backed: nothing but
        metadata has been read. :func:`plumecast.met.levels.wind_grid_3d` reads the records it is asked for.

    Raises
    ------
    MetDataError
        Naming the file: unreadable; no u or v on levels; another grid, other
        levels or other variables than the first file of its kind; a gap or an
        overlap in time; surface fields missing at a level time; window not
        covered; member missing.
    """
    paths = met_paths(path)
    opened: list[xr.Dataset] = []
    try:
        plain: dict[Path, xr.Dataset] = {}
        for p in paths:
            if not is_grib(p):
                plain[p] = _open_lazy(p, winds=False)
                opened.append(plain[p])
        since_start = accumulated_since_start(list(plain.values()))  # ECMWF forecasts copied a file per step
        files: list[tuple[Path, xr.Dataset | list[xr.Dataset]]] = []
        for p in paths:
            parts = _open_parts(p, plain.get(p), since_start)
            opened += parts
            files.append((p, parts if len(parts) > 1 else parts[0]))
        source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} met files {paths[0]} .. {paths[-1].name}"
        return normalise_met_3d(files, source=source, time_window=time_window, member=member,
                                notes=folder_notes(path))
    except BaseException:
        # a refused set closes what it opened: left to the garbage collector (the exception's frames hold them),
        # the next read of the same files in the process had failed with "NetCDF: HDF error", and the message
        # called a sound file unreadable (met audit, session 40: a run refused for a short met, rerun corrected)
        for ds in opened:
            ds.close()
        raise
