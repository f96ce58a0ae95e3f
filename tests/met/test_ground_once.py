"""The check of the orography against the surface pressure (plausible.ground_check) is made once per file,
on the first record read of it, not on every record: on a global grid it had cost more than the rest of a
record's read. A file that fails it is still refused on its first record, and so is a second file after a
first that passed, also where the two files have one name."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

import plumecast.met.levels as levels
from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, wind_grid_3d
from plumecast.met.levels import G0

from .test_audit42_met import _levels, _single
from .test_audit43_met import SP_100M

GOOD = (100.0 * G0, "m**2 s**-2")  # a ground of 100 m, as the surface pressure gives it
BAD = (100.0 * G0, "m")  # a surface geopotential labelled m: a ground of 981 m


def _sl_pair(a: Path, b: Path, second: tuple[float, str]) -> None:
    """Two single-level files of two records each (records 0, 1 and 2, 3 of the levels), the first with a good
    surface geopotential, the second with ``second`` (value, units)."""
    a.parent.mkdir(exist_ok=True)
    b.parent.mkdir(exist_ok=True)
    whole = _single(a.parent / "whole.nc", {"z": (GOOD[0], {"units": GOOD[1]}), "sp": (SP_100M, {"units": "Pa"})})
    with xr.open_dataset(whole) as ds:
        four = ds.load()
    whole.unlink()
    four.isel(valid_time=slice(0, 2)).to_netcdf(a)
    late = four.isel(valid_time=slice(2, 4))
    late["z"] = late["z"] * 0.0 + second[0]
    late["z"].attrs["units"] = second[1]
    late.to_netcdf(b)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    check = levels.ground_check

    def counted(*args: object, **kwargs: object) -> None:
        calls[0] += 1
        check(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(levels, "ground_check", counted)
    return calls


def test_the_ground_is_checked_on_the_first_record_of_each_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lev = _levels(tmp_path / "pl.nc")
    _sl_pair(tmp_path / "sl_a.nc", tmp_path / "sl_b.nc", GOOD)
    calls = _counting(monkeypatch)
    ds = open_met_3d([lev, tmp_path / "sl_a.nc", tmp_path / "sl_b.nc"])
    seen = []
    for k in range(4):  # one record at a time, as a run reads them
        wind_grid_3d(ds, records=(k, k + 1))
        seen.append(calls[0])
    assert seen[0] >= 1 and seen[1] == seen[0]  # sl_a.nc: on record 0 only
    assert seen[2] > seen[1] and seen[3] == seen[2]  # sl_b.nc: on record 2 only
    wind_grid_3d(open_met_3d([lev, tmp_path / "sl_a.nc", tmp_path / "sl_b.nc"]), records=(0, 4))
    assert calls[0] == 2 * seen[3]  # the same files opened again are checked again, once each


def test_a_bad_second_file_is_refused_after_a_good_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lev = _levels(tmp_path / "pl.nc")
    _sl_pair(tmp_path / "sl_a.nc", tmp_path / "sl_b.nc", BAD)
    calls = _counting(monkeypatch)
    ds = open_met_3d([lev, tmp_path / "sl_a.nc", tmp_path / "sl_b.nc"])
    wind_grid_3d(ds, records=(0, 1))
    first = calls[0]
    wind_grid_3d(ds, records=(1, 2))
    assert calls[0] == first  # sl_a.nc passed on record 0
    for _ in range(2):  # refused on its first record read, and again on the next try
        with pytest.raises(MetDataError) as e:
            wind_grid_3d(ds, records=(2, 3))
        msg = str(e.value)
        assert "sl_b.nc" in msg and "'z'" in msg and "981 m" in msg and "units" in msg


def test_two_files_of_one_name_are_each_checked(tmp_path: Path) -> None:
    """Files are told apart by name in the dataset: two sl.nc (two folders) cannot be, so every record is
    checked."""
    lev = _levels(tmp_path / "pl.nc")
    _sl_pair(tmp_path / "a" / "sl.nc", tmp_path / "b" / "sl.nc", BAD)
    ds = open_met_3d([lev, tmp_path / "a" / "sl.nc", tmp_path / "b" / "sl.nc"])
    wind_grid_3d(ds, records=(0, 2))
    with pytest.raises(MetDataError) as e:
        wind_grid_3d(ds, records=(3, 4))
    assert "'z'" in str(e.value) and "981 m" in str(e.value)
