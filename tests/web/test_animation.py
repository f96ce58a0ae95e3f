"""The animated forecast map (plumecast.maps.animate_concentration)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from PIL import Image

from plumecast.errors import PlumecastError
from plumecast.maps import animate_concentration


def _field(n_time: int = 6) -> xr.DataArray:
    lat = np.arange(-89.5, 90, 1.0)
    lon = np.arange(-179.5, 180, 1.0)
    t = np.datetime64("2026-07-01T01:00") + np.arange(n_time) * np.timedelta64(1, "h")
    data = np.zeros((n_time, lat.size, lon.size), np.float32)
    for k in range(n_time):  # a blob moving east
        data[k, 100:110, 180 + 10 * k:190 + 10 * k] = 1e-6 * (k + 1)
    return xr.DataArray(data, dims=("time", "lat", "lon"), coords={"time": t, "lat": lat, "lon": lon},
                        name="concentration")


def test_one_frame_per_output_time_and_the_gas_moves(tmp_path: Path) -> None:
    path = animate_concentration(_field(), tmp_path / "a.gif", title="test")
    im = Image.open(path)
    assert im.n_frames == 6
    frames = []
    for k in (0, 5):
        im.seek(k)
        frames.append(np.asarray(im.convert("RGB"), dtype=int))
    assert np.abs(frames[0] - frames[1]).sum() > 0
    assert not list(tmp_path.glob(".*part"))


def test_rejects_a_2d_field(tmp_path: Path) -> None:
    with pytest.raises(PlumecastError, match=r"expected \(time, lat, lon\)"):
        animate_concentration(_field().isel(time=0), tmp_path / "a.gif", title="t")


def test_zero_field_still_animates(tmp_path: Path) -> None:
    path = animate_concentration(_field() * 0, tmp_path / "z.gif", title="t")
    assert Image.open(path).n_frames == 6


def test_run_writes_the_animation(run_dir: Path) -> None:
    im = Image.open(run_dir / "concentration_animation.gif")
    assert im.n_frames == xr.open_dataset(run_dir / "concentration.nc").sizes["time"]
