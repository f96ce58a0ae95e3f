"""Once per file: which records' orography the ground check has still to see.

:func:`plumecast.met.plausible.ground_check` compares the orography with the ground
that the surface pressure puts on the levels' geopotential
(:func:`plumecast.met.levels.ground_from_surface_pressure`), to catch a units label
that is wrong (a surface geopotential labelled m). A label belongs to a file, and the
comparison costs more than the rest of a record's read on a global grid, so
:func:`plumecast.met.levels.wind_grid_3d` makes it on the first record it reads of
each combination of files that the orography, the surface pressure, the geopotential
and the temperature come from, and not again for the other records of those files.

The files are told apart by the names the normalised dataset gives each record's
fields (``met_file``, ``met_file_<field>``). That holds only for a dataset that
:func:`plumecast.met.levels_read.normalise_met_3d` made from files whose names all
differ (two ``sl.nc`` in two folders would share a name): such a dataset is
registered here (:func:`remember_files`), and only for it, while the very object
lives, are checks skipped. Any other dataset (one built or changed by hand, a copy
of a registered one, a set with two files of one name) has the check made on every
record, as a record whose files cannot be told apart must. A file refused is not
remembered: each read of it is refused again.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from plumecast.met.levels_join import FIELD_FILE

__all__ = ["ground_files", "ground_passed", "ground_seen", "remember_files"]

#: id of a registered dataset -> (a weak reference to it, the file combinations whose ground passed)
_CHECKED: dict[int, tuple[weakref.ref[xr.Dataset], set[tuple[str, ...]]]] = {}


def remember_files(ds: xr.Dataset, paths: Sequence[Any]) -> None:
    """Register ``ds``, normalised from the files ``paths``, where their names all differ
    (else each record is checked, see the module docstring)."""
    names = [str(getattr(p, "name", p)) for p in paths]
    if len(set(names)) != len(names):
        return
    key = id(ds)

    def gone(ref: weakref.ref[xr.Dataset], key: int = key) -> None:
        if _CHECKED.get(key, (None,))[0] is ref:
            del _CHECKED[key]

    _CHECKED[key] = (weakref.ref(ds, gone), set())


def _passed(ds: xr.Dataset) -> set[tuple[str, ...]] | None:
    entry = _CHECKED.get(id(ds))
    return entry[1] if entry is not None and entry[0]() is ds else None


def _file_name(ds: xr.Dataset, name: str, k: int) -> str | None:
    """The name of the file of field ``name`` at record ``k``, or None where the dataset
    does not say it per record."""
    for coord in (f"{FIELD_FILE}{name}", "met_file"):
        if coord in ds.coords:
            files = np.asarray(ds[coord].values)
            if files.ndim == 0:
                return str(files.item())
            return str(files[k]) if files.ndim == 1 and files.size == ds.sizes["time"] else None
    return None


def ground_files(ds: xr.Dataset, k: int, names: Sequence[str]) -> tuple[str, ...] | None:
    """The files of the fields ``names`` at record ``k`` of a registered dataset, the key
    of :func:`ground_seen` and :func:`ground_passed`; None (checked every time) for a
    dataset not registered, or a field whose file is not known per record."""
    if _passed(ds) is None:
        return None
    files = tuple(_file_name(ds, n, k) for n in names)
    return None if any(f is None for f in files) else tuple(map(str, files))


def ground_seen(ds: xr.Dataset, key: tuple[str, ...] | None) -> bool:
    """Whether the ground of the files ``key`` (:func:`ground_files`) has passed the check."""
    passed = _passed(ds)
    return key is not None and passed is not None and key in passed


def ground_passed(ds: xr.Dataset, key: tuple[str, ...] | None) -> None:
    """Remember that the ground of the files ``key`` has passed the check (on every
    block of a record)."""
    passed = _passed(ds)
    if key is not None and passed is not None:
        passed.add(key)
