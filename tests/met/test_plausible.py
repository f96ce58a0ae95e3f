"""Met read on levels: implausible values (undeclared fill values), a lone 10 m wind
component, a single record of another date, the file named for each field, and rain
under ``met.boundary_layer: constant``.

The files are the synthetic atmosphere of ``tests/met/style_files.py`` written as
ERA5 holds it (``pl.nc`` pressure levels, ``sl.nc`` single levels).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import open_met_3d, wind_grid_3d
from plumecast.met.check import check_met
from plumecast.run_winds import RunWinds
from tests.met.style_files import LEVELS_HPA, atmosphere, write_era5

FILL = np.float32(1e20)
K850 = int(np.flatnonzero(LEVELS_HPA == 850.0)[0])  # LEVELS_HPA is ground first


def _era5(tmp_path: Path, n: int = 3, **changes: tuple[tuple[int, ...], float]) -> list[Path]:
    """ERA5-style pl.nc and sl.nc; ``changes``: atmosphere field -> (index, value)."""
    a = atmosphere(n)
    for name, (index, value) in changes.items():
        getattr(a, name)[index] = value
    return write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")


# (field of the atmosphere, index (record 1), file, file variable, what the message says)
FILLED = [
    ("u", (1, K850, 5, 3), "pl.nc", r"wind speed from 'u'/'v' is 1e\+20 m s-1 .*\(u = 1e\+20, v = -?[0-9.]+ m s-1\); "
                                    r"expected winds below 200 m s-1"),
    ("u10", (1, 5, 3), "sl.nc", r"wind speed from 'u10'/'v10' is 1e\+20 m s-1"),
    ("precip", (1, 5, 3), "sl.nc", r"'tp' \(precipitation\) is 1e\+20 mm h-1 \(accumulated m over the hour"),
    ("blh", (1, 5, 3), "sl.nc", r"'blh' \(mixing height\) is 1e\+20 m at .*; expected 0 to 20,000 m, a generous"),
    ("ustar", (1, 5, 3), "sl.nc", r"'zust' \(friction velocity\) is 1e\+20 m s-1 at"),
    ("shf", (1, 5, 3), "sl.nc", r"'sshf' \(sensible heat flux\) is 1e\+20 W m-2 \(accumulated J m-2"),
    ("t", (1, K850, 5, 3), "pl.nc", r"'t' \(air temperature\) is 1e\+20 K at"),
    ("t2m", (1, 5, 3), "sl.nc", r"'t2m' \(2 m temperature\) is 1e\+20 K at"),
    ("omega", (1, K850, 5, 3), "pl.nc", r"'w' \(vertical velocity \(omega\)\) is 1e\+20 Pa s-1 \(omega\) at"),
    ("gh", (1, K850, 5, 3), "pl.nc", r"'z' \(geopotential height\) is 1e\+20 m \(geopotential / g0\) at"),
]


@pytest.mark.parametrize(("field", "index", "file", "says"), FILLED, ids=[f[0] for f in FILLED])
def test_an_undeclared_fill_value_is_refused_naming_file_variable_time_and_value(
        tmp_path, field, index, file, says):
    """1e20 at one point of record 1: records 0 read as before; record 1 refused in
    one line naming the file that holds the variable, the variable, the time, the
    point and the value."""
    paths = _era5(tmp_path, **{field: (index, FILL)})
    ds = open_met_3d(paths)
    wind_grid_3d(ds, records=(0, 1))  # record 0 is fine
    with pytest.raises(MetDataError) as err:
        wind_grid_3d(ds, records=(1, 2))
    msg = str(err.value)
    assert msg.startswith(f"{file} (of 2 met files "), msg
    assert "at 2026-03-01T01:00:00" in msg and "lat=45, lon=-7" in msg, msg
    assert "\n" not in msg and "Traceback" not in msg
    assert re.search(says, msg), msg
    assert "undeclared fill value" in msg
    if field in ("u", "t", "omega", "gh"):
        assert "850 hPa" in msg, msg


def test_a_run_refuses_the_record_when_it_reads_it(tmp_path):
    """The run reads records lazily: a fill value in record 2 stops it when it reaches
    that record (not silently, and not earlier)."""
    paths = _era5(tmp_path, n=4, precip=((2, 5, 3), FILL))
    ds = open_met_3d(paths)
    winds = RunWinds(ds, np.datetime64("2026-03-01T00:00", "ns"), levels=True)
    winds.grid_for(0, 6, 600.0)  # records 0 and 1
    with pytest.raises(MetDataError, match=r"sl\.nc \(of .*\): 'tp' \(precipitation\) is 1e\+20 mm h-1 .* at 2026-03-01T02:00:00"):
        winds.grid_for(6, 6, 600.0)


def test_met_check_refuses_a_fill_value_in_the_record_it_reads(tmp_path):
    paths = _era5(tmp_path, blh=((0, 5, 3), FILL))
    with pytest.raises(MetDataError, match=r"sl\.nc \(of .*\): 'blh' \(mixing height\) is 1e\+20 m at 2026-03-01T00:00:00"):
        check_met(paths)


def test_plausible_extremes_and_fill_values_under_the_ground_are_read(tmp_path):
    """Real extremes pass: a 150 m s-1 jet, a 4 km mixing height, 300 mm h-1 of rain,
    800 W m-2 of heat flux, 200 K aloft. Under the ground the values are never used
    (ERA5 extrapolates there; other products leave anything): a fill value there
    is not an error, as a NaN there is not."""
    a = atmosphere(2)
    a.u[:, -1] = 150.0
    a.blh[:] = 4000.0
    a.precip[:, 3, 3] = 300.0
    a.shf[:, 4, 4] = 800.0
    a.t[:, -1] = 200.0
    a.zs[:] = 900.0  # 1000 and 925 hPa lie under the ground everywhere
    a.u[:, :2] = FILL
    a.omega[:, :2] = -FILL
    paths = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    grid = wind_grid_3d(open_met_3d(paths))
    assert np.isfinite(grid.vec).all() and grid.surface is not None and np.isfinite(grid.surface).all()
    assert float(np.abs(grid.vec).max()) < 200.0


# ---- a lone 10 m wind component --------------------------------------------------------


@pytest.mark.parametrize(("drop", "kept"), [("v10", "u10"), ("u10", "v10")])
def test_a_10m_wind_component_without_the_other_is_refused(tmp_path, drop, kept):
    paths = _era5(tmp_path)
    with xr.open_dataset(paths[1]) as ds:
        ds.drop_vars(drop).load().to_netcdf(tmp_path / "sl_one.nc")
    with pytest.raises(MetDataError, match=rf"sl_one\.nc: '{kept}' \(10 m wind\) without its other component"):
        open_met_3d([paths[0], tmp_path / "sl_one.nc"])


def test_10m_wind_components_in_two_files_are_read(tmp_path):
    """u10 and v10 in files of their own (as the CDS delivers a file per variable)."""
    paths = _era5(tmp_path)
    with xr.open_dataset(paths[1]) as ds:
        ds = ds.load()
    ds.drop_vars("v10").to_netcdf(tmp_path / "sl_u.nc")
    ds[["v10"]].to_netcdf(tmp_path / "sl_v.nc")
    grid = wind_grid_3d(open_met_3d([paths[0], tmp_path / "sl_u.nc", tmp_path / "sl_v.nc"]), records=(0, 1))
    assert any("10 m wind 'u10'" in line and "'v10'" in line for line in grid.provenance)


# ---- one record for the whole run ------------------------------------------------------


def _one_record(tmp_path: Path) -> xr.Dataset:
    a = atmosphere(2)
    return open_met_3d(write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc", sl=slice(0, 1)))


def test_one_record_names_its_valid_time_and_warns_of_another_date(tmp_path):
    ds = _one_record(tmp_path)  # valid 2026-03-01T00:00
    far = RunWinds(ds, np.datetime64("2026-03-05T00:00", "ns"), levels=True,
                   end=np.datetime64("2026-03-05T06:00", "ns"))
    far.grid_for(0, 6, 600.0)
    prov = far.provenance
    line = next(p for p in prov if p.startswith("met: "))
    assert "one record, valid 2026-03-01T00:00:00 UTC, held for the whole run (steady)" in line, line
    warn = [p for p in prov if p.startswith("WARNING")]
    assert len(warn) == 1 and "4 days before the run starts (2026-03-05T00:00:00 UTC)" in warn[0], prov
    assert "winds of another date" in warn[0]
    # within a day of the run: the time named, no warning
    near = RunWinds(ds, np.datetime64("2026-03-01T06:00", "ns"), levels=True,
                    end=np.datetime64("2026-03-01T12:00", "ns"))
    near.grid_for(0, 6, 600.0)
    assert not [p for p in near.provenance if p.startswith("WARNING")]
    assert any("one record, valid 2026-03-01T00:00:00 UTC" in p for p in near.provenance)


# ---- the file that holds the field, the level in hPa ------------------------------------


@pytest.mark.parametrize(("field", "index", "name", "file"), [
    ("blh", (1, 5, 3), "blh", "sl.nc"), ("u10", (1, 5, 3), "u10", "sl.nc"),
    ("u", (1, int(np.flatnonzero(LEVELS_HPA == 300.0)[0]), 5, 3), "u", "pl.nc")])
def test_a_nan_names_the_file_of_its_field_and_the_pressure_level(tmp_path, field, index, name, file):
    ds = open_met_3d(_era5(tmp_path, **{field: (index, np.nan)}))
    with pytest.raises(MetDataError) as err:
        wind_grid_3d(ds)
    msg = str(err.value)
    assert msg.startswith(f"{file} (of 2 met files"), msg
    assert f"NaN value(s) of {name!r}" in msg
    if field == "u":
        assert "300 hPa" in msg and "level index" not in msg, msg


def test_a_set_of_hourly_files_names_the_record_s_surface_file(tmp_path):
    a = atmosphere(3)
    a.blh[2, 5, 3] = FILL
    paths = []
    for k in range(3):
        paths += write_era5(a, tmp_path / f"pl_{k}.nc", tmp_path / f"sl_{k}.nc", sl=slice(k, k + 1))
    ds = open_met_3d(paths)
    with pytest.raises(MetDataError, match=r"^sl_2\.nc \(of 6 met files .*\): 'blh' \(mixing height\) is 1e\+20 m at 2026-03-01T02:00:00"):
        wind_grid_3d(ds)
    assert "met_file" in ds.coords and "met_file_blh" in ds.coords and "met_file_u" not in ds.coords


# ---- rain under met.boundary_layer: constant ------------------------------------------


def test_constant_boundary_layer_says_rain_is_not_used(tmp_path):
    ds = open_met_3d(_era5(tmp_path))
    winds = RunWinds(ds, np.datetime64("2026-03-01T00:00", "ns"), levels=True, boundary_layer="constant")
    prov = winds.provenance
    assert not [p for p in prov if p.startswith(("precipitation: 'tp'", "mixing height: 'blh'"))], prov
    rain = [p for p in prov if p.startswith("precipitation:")]
    assert len(rain) == 1 and "not used with met.boundary_layer: constant" in rain[0], prov
    assert "no wet scavenging" in rain[0]
    # from the met, rain is read and said
    met = RunWinds(ds, np.datetime64("2026-03-01T00:00", "ns"), levels=True, boundary_layer="met")
    assert any(p.startswith("precipitation: 'tp' [m] of sl.nc") for p in met.provenance)
