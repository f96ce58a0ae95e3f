"""Joining the canonical datasets of a set of 3-D met files: the hypercubes of one
GRIB file, files that hold the same times (different quantities), the files of a
set along time, and a forecast's step 0 that lacks the interval fields.

Used by :func:`plumecast.met.levels_read.normalise_met_3d`; the merge of files of
the same times also by the single-level reader (:mod:`plumecast.met.files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.met.files import _on_time
from plumecast.met.intervals import INSTANT, TIMING, WINDOW
from plumecast.met.variables import _err, _when


def _merge_kind(pieces: list[xr.Dataset], where: str) -> xr.Dataset:
    """Merge the canonical datasets of one file's GRIB hypercubes. A quantity on two
    sets of levels (GFS: ``isobaricInhPa`` and, above 1 hPa, ``isobaricInPa``) is
    joined along ``level``; the quantities are then aligned on their common levels."""
    if len(pieces) == 1:
        return pieces[0]
    by_var: dict[str, list[xr.DataArray]] = {}
    for p in pieces:
        for n in p.data_vars:
            by_var.setdefault(str(n), []).append(p[n])
    merged: list[xr.DataArray] = []
    for n, das in by_var.items():
        members = [set(np.asarray(d["number"].values).tolist()) for d in das if "number" in d.dims]
        if len(das) > 1 and len(members) == len(das) and len(set().union(*members)) == sum(map(len, members)):
            # an ensemble's members in several hypercubes (ECMWF ENS: control and perturbed): joined by number
            attrs = das[0].attrs
            merged.append(xr.concat(das, dim="number", coords="minimal", compat="override", join="inner")
                          .sortby("number").assign_attrs(attrs).rename(n))
            continue
        if len(das) > 1:
            sets = [set(np.asarray(d["level"].values).tolist()) if "level" in d.dims else set() for d in das]
            shared = next((sets[i] & sets[j] for i in range(len(sets)) for j in range(i + 1, len(sets))
                           if sets[i] & sets[j]), set())
            if any(not s for s in sets) or shared:
                said = (f"on the same levels ({', '.join(f'{x:g}' for x in sorted(shared, reverse=True))})" if shared
                        else "once on levels and once without")
                raise _err(where, f"variable {n!r} found twice (in two GRIB hypercubes) {said}; expected each "
                                  "quantity once")
            attrs = das[0].attrs
            merged.append(xr.concat(das, dim="level", coords="minimal", compat="override").assign_attrs(attrs)
                          .rename(n))
        else:
            merged.append(das[0].rename(n))
    out = xr.merge(merged, join="inner", compat="override", combine_attrs="drop_conflicts")
    for da in merged:
        out[str(da.name)].attrs = da.attrs
    return out


def _pad_step_zero(parts: list[xr.Dataset], where: str) -> list[xr.Dataset]:
    """The surface hypercubes of one GRIB file, those of quantities over intervals
    (:mod:`plumecast.met.intervals`) that lack the file's first valid times (a
    forecast's step 0, where no interval ends: GFS, ECMWF open data) given them, with an
    empty window (an amount of 0 over no time). A valid time lacking after the first
    one is refused, naming the file and the fields."""
    def times(d: xr.Dataset) -> NDArray[Any]:
        return np.atleast_1d(np.asarray(d["valid_time"].values)) if "valid_time" in d.coords else np.array([])

    every = np.unique(np.concatenate([times(d) for d in parts])) if parts else np.array([])
    out = []
    for d in parts:
        have = times(d)
        windowed = bool(d.data_vars) and all(d[n].attrs.get(TIMING, INSTANT) != INSTANT for n in d.data_vars)
        lacking = np.setdiff1d(every, have)
        if not windowed or have.size == 0 or lacking.size == 0:
            out.append(d)
            continue
        if np.any(lacking > have.min()):
            raise _err(where, f"{', '.join(repr(str(d[n].attrs.get('plumecast_var', n))) for n in d.data_vars)} "
                              f"lack(s) a message at {_when(lacking[lacking > have.min()][0])}, which the file's other "
                              "fields have; expected every field at every step (but step 0)")
        out.append(_with_empty_windows(d, lacking, "valid_time"))
    return out


def _with_empty_windows(d: xr.Dataset, lacking: NDArray[Any], dim: str) -> xr.Dataset:
    """``d`` (quantities over intervals on ``dim``) with records at the earlier times
    ``lacking`` put first: an empty window (an amount of 0 over no time), as a forecast's
    step 0 has."""
    if dim not in d.dims:
        d = d.expand_dims(dim)
        d = d.assign_coords({c: (dim, np.atleast_1d(np.asarray(d[c].values)))
                             for c in d.coords if str(c).startswith(WINDOW) and d[c].ndim == 0})
    zero = (d.isel({dim: [0] * lacking.size}) * np.float32(0.0)).assign_coords({dim: lacking})
    zero = zero.assign_coords({c: (dim, np.zeros(lacking.size)) for c in d.coords if str(c).startswith(WINDOW)})
    padded = xr.concat([zero, d], dim=dim, coords="minimal", compat="override", combine_attrs="override")
    for n in d.data_vars:
        padded[n].attrs = d[n].attrs
    return padded


def _pad_interval_files(surfs: list[tuple[Path, xr.Dataset, NDArray[Any]]],
                        others: list[tuple[Path, xr.Dataset, NDArray[Any]]]
                        ) -> list[tuple[Path, xr.Dataset, NDArray[Any]]]:
    """The files of a set that hold quantities over intervals only and lack the first
    times of another file of the set (a netCDF copy of the hypercube of GFS's averages,
    ``step`` 1..n h beside the others' 0..n h: a forecast's step 0 has none) given those
    times with an empty window, as :func:`_pad_step_zero` does for the hypercubes of one
    GRIB file, so that they merge with the files of the same times. Only the first file
    of those that hold its quantities is: in a set of a file per record (hourly files of
    ``tp`` alone) the later files lack the earlier times because other files hold them
    (each had been given them, and the set refused as overlapping)."""
    out = []
    for path, d, t in surfs:
        windowed = bool(d.data_vars) and all(d[n].attrs.get(TIMING, INSTANT) != INSTANT for n in d.data_vars)
        lacking = None
        later = any(p != path and o_t.size and t.size and o_t.min() < t.min() and set(o.data_vars) & set(d.data_vars)
                    for p, o, o_t in surfs)
        if windowed and t.size and not later:
            for p, _o, other in [*surfs, *others]:
                extra = np.setdiff1d(other, t)
                if p != path and extra.size and np.all(extra < t.min()) and np.isin(t, other).all():
                    lacking = extra
                    break
        if lacking is None:
            out.append((path, d, t))
            continue
        padded = _with_empty_windows(d, lacking, "time")  # its records name this file (met_file..)
        out.append((path, padded, np.asarray(padded["time"].values)))
    return out


#: Prefix of the coordinate that names, per record, the file a field came from
#: (``met_file_blh``); the normalised dataset keeps those that differ from ``met_file``.
FIELD_FILE = "met_file_"


def _with_time(ds: xr.Dataset, path: Path) -> tuple[xr.Dataset, NDArray[Any]]:
    """One file's canonical dataset on ``time``, with ``met_file`` and, for each field,
    ``met_file_<field>`` naming the file per record (kept through the merges and joins,
    so that a message names the file that holds the field)."""
    sub, times = _on_time(ds, path, winds=False)
    sub = sub.drop_vars([c for c in sub.coords if str(c) not in sub.dims and str(c) != "met_file"
                         and not str(c).startswith(WINDOW)])
    sub = sub.assign_coords({f"{FIELD_FILE}{n}": sub["met_file"] for n in sub.data_vars})
    return sub, times


def _check_steps(ds: xr.Dataset, where: str) -> None:
    """A gap inside the records: a step more than 1.5 times the steps on either side
    (as between files, :func:`plumecast.met.reader.join_on_time`; a forecast going
    from hourly to 3-hourly steps is not a gap)."""
    t = np.asarray(ds["time"].values)
    if t.size < 2:
        return
    steps = np.diff(t).astype("timedelta64[s]").astype(np.float64)
    back = np.flatnonzero(steps <= 0)
    if back.size:  # a repeated or unsorted time (had been called a gap of 3 or of -3 h; met audit, session 30)
        i = int(back[0])
        name = str(ds["met_file"].values[i + 1]) if "met_file" in ds.coords else where
        what = "a time given twice" if steps[i] == 0 else "times out of order"
        raise _err(name, f"record {_when(t[i + 1])} follows record {_when(t[i])}: {what}; expected times that "
                         "increase from record to record")
    if t.size < 3:
        return
    for i in range(steps.size):
        around = [steps[j] for j in (i - 1, i + 1) if 0 <= j < steps.size]
        if steps[i] > 1.5 * max(around):
            name = str(ds["met_file"].values[i + 1]) if "met_file" in ds.coords else where
            raise _err(name, f"records {_when(t[i])} and {_when(t[i + 1])} are {steps[i] / 3600:g} h apart while the records "
                             f"around are {max(around) / 3600:g} h apart: a gap in the met; expected consecutive "
                             "records without gaps")


def _merge_same_times(
    items: list[tuple[Path, xr.Dataset, NDArray[Any]]], *, one_sided: bool = False
) -> list[tuple[Path, xr.Dataset, NDArray[Any]]]:
    """Files that hold the same records but different quantities, as one: the new
    CDS delivers ERA5's single levels as a zip of an ``instant`` file (u10, blh ..)
    and an ``accum`` file (precipitation, fluxes) with the same times; a set may
    also have a file per quantity. Their grids must match (:func:`_other_axis`); a
    quantity in two of them is an error. Files with other times are left to be
    joined in time. The single-level reader merges a set's files per quantity with
    it too (:func:`plumecast.met.files._join_by_quantity`), on the files' own
    dimension names, with ``one_sided``: an axis that only one file has (the levels
    of ERA5's pressure-level file beside its single-level file) is not refused."""
    groups: dict[bytes, list[int]] = {}
    for i, (_p, _ds, t) in enumerate(items):
        groups.setdefault(np.asarray(t).astype("datetime64[ns]").tobytes(), []).append(i)
    if all(len(g) == 1 for g in groups.values()):
        return items
    out: list[tuple[Path, xr.Dataset, NDArray[Any]]] = []
    for idx in groups.values():
        base_path, base, times = items[idx[0]]
        owner = {str(n): base_path for n in base.data_vars}
        parts = [base]
        for i in idx[1:]:
            path, ds, _t = items[i]
            for n in ds.data_vars:
                if str(n) in owner:
                    raise _err(str(path), f"{str(n)!r} at the same times as in {owner[str(n)].name}; expected each "
                                          "quantity in one file")
                owner[str(n)] = path
            ax = _other_axis(base, ds, one_sided)
            if ax is not None:
                raise _err(str(path), f"holds the same times as {base_path.name} but on another {ax} axis "
                                      f"({_axis_text(ds, ax)} against {_axis_text(base, ax)}); expected the files "
                                      "of one time on one grid")
            parts.append(ds.drop_vars("met_file", errors="ignore"))
        merged = xr.merge(parts, join="override", compat="override", combine_attrs="override")
        for part in parts:
            for n in part.data_vars:
                merged[n].attrs = part[n].attrs
        out.append((base_path, merged, times))
    return out


#: Axes every file of one time must have alike (those of the canonical 3-D datasets).
_SAME_AXES = ("lat", "lon", "level", "number")


def _other_axis(base: xr.Dataset, ds: xr.Dataset, one_sided: bool = False) -> str | None:
    """The first axis (dimension but time) on which two datasets of the same times
    differ, or None: one of :data:`_SAME_AXES` that only one has (unless
    ``one_sided``), or a dimension both have with other values (the files' own names:
    ``latitude``, ``isobaricInhPa``, .. when they are read as they are, for the
    single-level reader)."""
    for ax in [*_SAME_AXES, *(str(d) for d in base.dims if str(d) not in _SAME_AXES)]:
        if ax == "time" or (ax not in base.dims and ax not in ds.dims):
            continue
        if (ax in base.dims) != (ax in ds.dims):
            if ax in _SAME_AXES and not one_sided:
                return ax
            continue
        if base.sizes[ax] != ds.sizes[ax]:
            return ax
        if ax in base.coords and ax in ds.coords:
            a, b = np.asarray(base[ax].values), np.asarray(ds[ax].values)
            same = (np.allclose(a, b, rtol=0.0, atol=1e-6) if a.dtype.kind == "f" and b.dtype.kind == "f"
                    else np.array_equal(a, b))
            if not same:
                return ax
    return None


def _axis_text(ds: xr.Dataset, ax: str) -> str:
    """An axis in words: ``9 values 80..-80 step -20``."""
    if ax not in ds.dims:
        return f"no {ax}"
    n = int(ds.sizes[ax])
    x = np.asarray(ds[ax].values) if ax in ds.coords else np.array([])
    if x.size == 0 or x.dtype.kind not in "fiu":
        return f"{n} values"
    if n == 1:
        return f"1 value {x[0]:g}"
    step = np.diff(x.astype(np.float64))
    regular = np.allclose(step, step[0], rtol=1e-6, atol=0.0)
    return f"{n} values {x[0]:g}..{x[-1]:g}" + (f" step {step[0]:g}" if regular else "")


#: Fields of a file that may hold one record for all times (orography, land-sea mask).
_STATIC_FIELDS = {"zs", "land"}


def timeless_static(surf: xr.Dataset) -> bool:
    """Whether a file's surface fields are all static (:data:`_STATIC_FIELDS`: orography, land-sea mask) and
    none has a time dimension: a CMIP ``orog`` file, a regridded elevation model, or an invariant field
    merged into a file of the levels (``cdo merge``). They hold for every time; they had been refused for
    lacking a time coordinate, or with a message about plumecast's own name ``zs`` (met audit, session 40)."""
    from plumecast.met.levels_variables import _TIME_LIKE

    names = [str(n) for n in surf.data_vars]
    return bool(names) and set(names) <= _STATIC_FIELDS and not any(
        str(d).lower() in _TIME_LIKE for n in names for d in surf[n].dims)


def static_on_time(surf: xr.Dataset, path: Path, t0: np.datetime64) -> tuple[Path, xr.Dataset, NDArray[Any]]:
    """A :func:`timeless_static` file's fields as one record at ``t0`` (the levels' first time), in the form
    :func:`_with_time` gives a file: one record of static fields holds for every time of the levels."""
    # its times, steps ...: the fields' own dimensions are lat and lon alone (timeless_static)
    used = {d for n in surf.data_vars for d in surf[n].dims}
    sub = surf.drop_vars([c for c in surf.coords if c not in used])
    times = np.array([t0]).astype("datetime64[ns]")
    sub = sub.expand_dims(time=times).assign_coords(met_file=("time", [path.name]))
    sub = sub.assign_coords({f"{FIELD_FILE}{n}": sub["met_file"] for n in sub.data_vars})
    return path, sub, times


def conform_grid(part: xr.Dataset, lev: xr.Dataset) -> xr.Dataset:
    """``part`` (a file's surface fields) in the latitude and longitude order of the levels ``lev`` where both
    hold the same rows and columns in other conventions (longitudes 0..360 against -180..180, latitudes north
    to south against south to north: a file passed through ``cdo sellonlatbox`` or ``invertlat``); as it is
    otherwise (the grid check then names what differs). Such files had been refused as "on another lon grid
    (360 values) than ... (360)" (met audit, session 40)."""
    from plumecast.met.reader import wrapped_lon

    for ax in ("lat", "lon"):
        a, b = (np.asarray(d[ax].values, np.float64) for d in (part, lev))
        if a.size != b.size or a.size == 0 or np.allclose(a, b, atol=1e-4):
            continue
        ka, kb = (wrapped_lon(a), wrapped_lon(b)) if ax == "lon" else (a, b)
        order = np.argsort(ka, kind="stable")
        at = order[np.clip(np.searchsorted(ka[order], kb - 1e-4), 0, a.size - 1)]
        if np.allclose(ka[at], kb, atol=1e-4):
            part = part.isel({ax: at}).assign_coords({ax: (ax, b, part[ax].attrs)})
    return part


def check_members(surf: xr.Dataset, lev: xr.Dataset, member: int | None, surf_path: Path, lev_path: Path) -> None:
    """Refuse surface fields that lack a member of the levels a run reads (member index ``member``, or all of
    them): the merge beside the levels would fill it with NaN, refused later as NaN "inside the domain", which
    names the symptom, not the cause (met audit, session 42, D8). Surface fields without members serve all."""
    if "number" not in surf.dims or "number" not in lev.dims:
        return
    have = np.asarray(lev["number"].values).tolist()
    wanted = have if member is None or not 0 <= member < len(have) else [have[member]]
    held = set(np.asarray(surf["number"].values).tolist())
    lacking = [m for m in wanted if m not in held]
    if lacking:
        said = "member" if member is not None else f"{len(lacking)} of the {len(have)} members"
        raise _err(str(surf_path), f"the surface fields lack {said} {', '.join(map(str, lacking[:5]))}"
                                   f"{' ..' if len(lacking) > 5 else ''} of the level files ({lev_path.name}: "
                                   f"members {_members_text(have)}; here {_members_text(sorted(held))}); "
                                   "expected the same members, or surface fields without a member dimension")


def _members_text(numbers: list[Any]) -> str:
    return ", ".join(map(str, numbers)) if len(numbers) <= 6 else f"{numbers[0]}..{numbers[-1]} ({len(numbers)})"


#: Fields a forecast's first step lacks (rates and fluxes over the step before).
_INTERVAL_FIELDS = ("precip", "shf", "solar")


def _fill_step_zero(
    surfs: list[tuple[Path, xr.Dataset, NDArray[Any]]], history: list[str]
) -> list[tuple[Path, xr.Dataset, NDArray[Any]]]:
    """A forecast's step 0 (GFS ``f000``) has no precipitation rate or flux (they
    are means over the step before): the earliest file may lack them. A quantity over
    intervals (GRIB step ranges, :mod:`plumecast.met.intervals`) gets an empty window
    there (an amount of 0 over no time: the first record then takes the first
    interval's mean); an instantaneous one takes the next file's first values (said in
    ``plumecast_from``)."""
    if len(surfs) < 2:
        return surfs
    order = sorted(range(len(surfs)), key=lambda i: np.min(surfs[i][2]))
    first, second = surfs[order[0]], surfs[order[1]]
    missing = [n for n in _INTERVAL_FIELDS if n not in first[1] and n in second[1]
               and all(n in surfs[i][1] for i in order[1:])]
    if not missing:
        return surfs
    ds = first[1].copy()
    n_t = ds.sizes["time"]
    for n in missing:
        src = second[1][n]
        # its own coordinates only (a field of a dataset carries those of the others on time too)
        src = src.drop_vars([c for c in src.coords if str(c) not in src.dims
                             and str(c) not in (f"{WINDOW}{n}", f"{FIELD_FILE}{n}")])
        nxt = src.isel(time=[0] * n_t)
        frm = str(second[1][n].attrs.get("plumecast_from", n))
        if second[1][n].attrs.get(TIMING, INSTANT) != INSTANT:
            nxt = (nxt * np.float32(0.0)).assign_coords({f"{WINDOW}{n}": ("time", np.zeros(n_t)),
                                                         f"{FIELD_FILE}{n}": ("time", np.full(n_t, first[0].name))})
            frm += (f"; {first[0].name} has none (forecast step 0: no interval ends there; the first record takes "
                    "the first interval's mean)")
        else:
            frm += f"; {first[0].name} has none (forecast step 0): its records take the next record's value"
        ds[n] = nxt.assign_coords(time=ds["time"]).assign_attrs(plumecast_from=frm)
        history.append(f"{n} of {first[0].name} from {second[0].name} (forecast step 0 has none)")
    ds = ds[[v for v in second[1].data_vars]]
    out = list(surfs)
    out[order[0]] = (first[0], ds, first[2])
    return out
