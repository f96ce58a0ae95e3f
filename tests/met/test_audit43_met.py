"""Met fields whose units label was wrong or missing, read silently before (met audit 42b, D7), and an
ensemble's surface file lacking a member of the levels, refused as NaN "inside the domain" (D8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, wind_grid_3d
from plumecast.met.levels import G0

from .test_audit42_met import _levels, _single

#: the ICAO standard atmosphere's pressure at 100 m [Pa]
SP_100M = 101325.0 * (1.0 - 0.0065 * 100.0 / 288.15) ** 5.25588


def _grid(*paths: Path, member: int | None = None) -> object:
    return wind_grid_3d(open_met_3d([str(p) for p in paths], member=member), records=(1, 2))


def test_a_mixing_height_in_km_without_units_is_refused(tmp_path: Path) -> None:
    lev = _levels(tmp_path / "pl.nc")
    sl = _single(tmp_path / "sl.nc", {"blh": (0.8, {})})
    with pytest.raises(MetDataError) as e:
        _grid(lev, sl)
    msg = str(e.value)
    assert "sl.nc" in msg and "'blh'" in msg and "no units" in msg and "km" in msg


@pytest.mark.parametrize(("value", "attrs", "metres"), [(800.0, {}, 800.0), (0.8, {"units": "km"}, 800.0),
                                                        (12.0, {"units": "m"}, 12.0)])
def test_mixing_heights_with_units_or_of_plausible_size_are_read(tmp_path: Path, value: float,
                                                                  attrs: dict[str, str], metres: float) -> None:
    lev = _levels(tmp_path / "pl.nc")
    sl = _single(tmp_path / "sl.nc", {"blh": (value, attrs)})
    g = _grid(lev, sl)
    assert np.allclose(np.asarray(g.surface)[0, 0], metres, rtol=1e-5)  # type: ignore[attr-defined]


def _ground(tmp_path: Path, zs: float, units: str) -> object:
    lev = _levels(tmp_path / "pl.nc")
    sl = _single(tmp_path / "sl.nc", {"z": (zs, {"units": units}), "sp": (SP_100M, {"units": "Pa"})})
    return _grid(lev, sl)


def test_surface_geopotential_labelled_metres_is_refused_against_the_surface_pressure(tmp_path: Path) -> None:
    with pytest.raises(MetDataError) as e:
        _ground(tmp_path, 100.0 * G0, "m")
    msg = str(e.value)
    assert "sl.nc" in msg and "'z'" in msg and "surface pressure" in msg and "units" in msg
    assert "981 m" in msg  # the ground as read, beside the one the pressure gives


@pytest.mark.parametrize(("zs", "units"), [(100.0 * G0, "m**2 s**-2"), (100.0, "m"), (350.0, "m")])
def test_a_ground_that_agrees_with_the_surface_pressure_is_read(tmp_path: Path, zs: float, units: str) -> None:
    g = _ground(tmp_path, zs, units)  # 350 m: within the 300 m the check allows of 100 m plus the reading's error
    assert g is not None


def _members(path: Path, src: Path, numbers: list[int]) -> Path:
    with xr.open_dataset(src) as ds:
        one = ds.load()
    out = xr.concat([one] * len(numbers), dim="number").assign_coords(number=numbers)
    for v in one.data_vars:
        out[v].attrs = one[v].attrs
    out.to_netcdf(path)
    return path


def test_a_surface_file_lacking_the_chosen_member_is_refused_naming_the_members(tmp_path: Path) -> None:
    lev = _members(tmp_path / "pl_ens.nc", _levels(tmp_path / "pl.nc"), [0, 1, 2])
    sl = _members(tmp_path / "sl_ens.nc", _single(tmp_path / "sl.nc", {"blh": (800.0, {"units": "m"})}), [0, 1])
    with pytest.raises(MetDataError) as e:
        _grid(lev, sl, member=2)
    msg = str(e.value)
    assert "sl_ens.nc" in msg and "member 2" in msg and "0, 1, 2" in msg and "NaN" not in msg
    g = _grid(lev, sl, member=1)  # a member both files hold is read
    assert np.allclose(np.asarray(g.surface)[0, 0], 800.0)  # type: ignore[attr-defined]
