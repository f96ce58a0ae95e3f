"""``plumecast met check``: what a run would read from met files, without a run."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from plumecast.cli import app
from plumecast.met import uniform_wind, write_era5_style
from tests.met.style_files import atmosphere, write_era5


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point (user errors become one line and exit status 2 there)."""
    return subprocess.run([sys.executable, "-m", "plumecast", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "250"})


def _check(*args: str):
    return CliRunner().invoke(app, ["met", "check", *args], env={"COLUMNS": "250"})


def test_check_says_what_a_run_reads_from_3d_files(tmp_path):
    """ERA5-style files: the times, grid and levels found, the run's provenance lines
    for each field, and what the files lack (here the land-sea mask), with what a run
    does instead."""
    paths = write_era5(atmosphere(n_times=4), tmp_path / "pl.nc", tmp_path / "sl.nc", with_solar=True)
    r = _check(*map(str, paths))
    assert r.exit_code == 0, r.output
    out = r.output
    assert "times: 4 records, 2026-03-01 00:00 UTC to 2026-03-01 03:00 UTC, every 1 h" in out
    assert "grid: 21 x 11 points, 1 x 1 deg, lon -10 to 10, lat 40 to 50 (regional)" in out
    assert "levels: 6 pressure levels, 1000, 925, 850, 700, 500, 300 hPa" in out
    for needle in ("mixing height: 'blh'", "solar radiation at the ground: 'ssrd'", "w: from omega 'w'",
                   "records read and converted as a run reads them, each checked (NaN, plausible values): all 4\n",
                   "in the records: winds, vertical motion, boundary layer, solar radiation",
                   "not in the files: land-sea mask (dry deposition takes the shipped Natural Earth land)"):
        assert needle in out, needle


def test_check_of_a_single_level_file_says_why(tmp_path):
    """A file with winds on one level: read as a run reads it, and why not on levels."""
    path = write_era5_style(uniform_wind(5.0, 2.0, resolution_deg=10.0), tmp_path / "one.nc")
    r = _check(str(path))
    assert r.exit_code == 0, r.output
    assert "levels: one (850 hPa): a run moves every particle with it" in r.output
    assert "not read on levels:" in r.output
    assert "not in the files: boundary layer (the scenario's constant K_z and mixing height serve)" in r.output


def test_check_refuses_what_a_run_refuses_in_one_line(tmp_path):
    """A NaN inside the domain of the first record: exit status 2 and one line naming the
    file, as a run would say; a missing file likewise."""
    paths = write_era5(atmosphere(n_times=2), tmp_path / "pl.nc", tmp_path / "sl.nc")
    with xr.open_dataset(paths[0]) as ds:
        ds = ds.load()
    u = ds["u"].values.copy()
    u[0, 2, 5, 7] = np.nan  # 700 hPa (above the ground everywhere), first record
    ds["u"] = (ds["u"].dims, u, ds["u"].attrs)
    bad = tmp_path / "bad_pl.nc"
    ds.to_netcdf(bad)
    r = _main("met", "check", str(bad), str(paths[1]))
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad_pl.nc" in lines[0] and "NaN" in lines[0]
    r = _main("met", "check", str(tmp_path / "missing.nc"))
    assert r.returncode == 2 and "missing.nc: file not found" in r.stderr


def _bad_copy(src, dest, name, record, value, index=(2, 5, 7)):
    """``src`` with ``name`` set to ``value`` at ``record`` (and ``index``)."""
    with xr.open_dataset(src) as ds:
        ds = ds.load()
    a = ds[name].values.copy()
    a[(record, *index[-(a.ndim - 1):])] = value
    ds[name] = (ds[name].dims, a, ds[name].attrs)
    ds.to_netcdf(dest)
    return dest


def test_check_refuses_a_bad_value_in_a_later_record_as_a_run_does(tmp_path):
    """Was: only the first record was converted, so a NaN or an undeclared fill value in
    a later record passed the check (exit 0) while a run reading it refused it."""
    pl, sl = write_era5(atmosphere(n_times=5), tmp_path / "pl.nc", tmp_path / "sl.nc")
    bad_pl = _bad_copy(pl, tmp_path / "bad_pl.nc", "u", 3, np.nan)  # 700 hPa, above the ground
    r = _main("met", "check", str(bad_pl), str(sl))
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: bad_pl.nc (of 2 met files"), lines
    assert "NaN value(s) of 'u' inside the domain at 2026-03-01T03:00:00" in lines[0]
    bad_sl = _bad_copy(sl, tmp_path / "bad_sl.nc", "blh", 4, 9.999e20, index=(5, 7))
    r = _main("met", "check", str(pl), str(bad_sl))
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "bad_sl.nc" in lines[0] and "'blh' (mixing height) is 1e+21 m" in lines[0]
    assert "2026-03-01T04:00:00" in lines[0]


def test_check_of_a_large_set_names_the_records_it_checked(tmp_path):
    """Beyond max_bytes (CHECK_BYTES by default) records spread evenly over the set are
    checked, the first and the last among them, and the output names them: a bad record
    among them is refused, one between them is not, and the line says so."""
    from plumecast.errors import MetDataError
    from plumecast.met.check import _record_bytes, check_met
    from plumecast.met.levels import open_met_3d

    pl, sl = write_era5(atmosphere(n_times=13), tmp_path / "pl.nc", tmp_path / "sl.nc")
    per = _record_bytes(open_met_3d([pl, sl]))
    lines = check_met([pl, sl], max_bytes=7 * per)
    line = next(x for x in lines if x.startswith("records read and converted"))
    assert line.endswith("each checked (NaN, plausible values): 7 of 13: 0, 2, 4, ..., 10 (step 2) and 12 (counting "
                         "from 0; the 13 records hold 0.435 MiB, beyond the 0.234 MiB a check reads; a run checks each "
                         "record it reads)"), line
    assert "all 13" in "\n".join(check_met([pl, sl]))
    bad = _bad_copy(pl, tmp_path / "bad_pl.nc", "u", 6, np.nan)
    with pytest.raises(MetDataError, match=r"bad_pl\.nc .*NaN value\(s\) of 'u' .* at 2026-03-01T06:00:00"):
        check_met([bad, sl], max_bytes=7 * per)
    between = _bad_copy(pl, tmp_path / "between_pl.nc", "u", 5, np.nan)
    assert any("7 of 13: 0, 2, 4" in x for x in check_met([between, sl], max_bytes=7 * per))
    with pytest.raises(MetDataError, match=r"between_pl\.nc .* at 2026-03-01T05:00:00"):
        check_met([between, sl])
