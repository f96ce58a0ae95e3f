"""``plumecast met check``: what a run would read from met files, without a run."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
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
                   "first record read and converted: winds, vertical motion, boundary layer, solar radiation",
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
