"""Tests of the PNG concentration maps."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

from plumecast.errors import PlumecastError
from plumecast.maps import load_coastlines, load_land, plot_concentration_map
from plumecast.receptors import load_cities

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _field() -> xr.DataArray:
    lat = np.arange(-90.0, 90.1, 2.0)
    lon = np.arange(-180.0, 180.0, 2.0)
    c = 1e-3 * np.exp(-((lat[:, None] - 35.0) ** 2 + (lon[None, :] - 120.0) ** 2) / 200.0)
    return xr.DataArray(
        c, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="c", attrs={"units": "kg m-3"}
    )


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height


def test_coastlines_load_from_the_package() -> None:
    lines = load_coastlines()
    assert len(lines) >= 134
    lon, lat = lines[0]
    assert lon.shape == lat.shape and lon.size > 2
    allx = np.concatenate([ln[0] for ln in lines])
    ally = np.concatenate([ln[1] for ln in lines])
    assert allx.min() >= -180 and allx.max() <= 180 and ally.min() >= -90 and ally.max() <= 90
    assert len(load_land()) >= 127


def test_map_is_written_as_png(tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    result = plot_concentration_map(
        _field(), out, title="test plume", units_label="kg m-3", receptors=load_cities(), label_n=5
    )
    assert result == out
    width, height = _png_size(out)
    assert 400 < width < 3000 and 200 < height < 2000
    assert 20_000 < out.stat().st_size < 2_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


def test_regional_linear_and_zero_fields(tmp_path: Path) -> None:
    plot_concentration_map(
        _field(),
        tmp_path / "a.png",
        title="t",
        units_label="kg m-3",
        log_scale=False,
        extent=(90, 160, 10, 60),
    )
    zero = xr.zeros_like(_field()).expand_dims(time=1)
    plot_concentration_map(zero, tmp_path / "b.png", title="t", units_label="kg m-3")
    for name in ("a.png", "b.png"):
        _png_size(tmp_path / name)


def test_bad_inputs_raise_and_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(PlumecastError, match="extent"):
        plot_concentration_map(
            _field(), tmp_path / "x.png", title="t", units_label="u", extent=(10, 0, 0, 5)
        )
    two_times = _field().expand_dims(time=2)
    with pytest.raises(PlumecastError, match=r"'time' of size 2"):
        plot_concentration_map(two_times, tmp_path / "x.png", title="t", units_label="u")
    with pytest.raises(PlumecastError, match="does not exist"):
        plot_concentration_map(_field(), tmp_path / "nodir" / "x.png", title="t", units_label="u")
    assert list(tmp_path.iterdir()) == []


def test_no_partial_file_when_saving_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "map.png"
    out.write_bytes(b"old map")

    def broken_savefig(self: Figure, fname: object, **kwargs: object) -> None:
        assert hasattr(fname, "write")
        fname.write(PNG_MAGIC + b"half a map")  # type: ignore[attr-defined]
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_concentration_map(_field(), out, title="t", units_label="u")
    assert out.read_bytes() == b"old map"  # the previous map is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # and no temp file is left


def test_a_share_of_few_members_has_a_colour_per_count() -> None:
    """A probability map of three members had a continuous 0.2-1.0 colour scale, as if shares
    between 1/3, 2/3 and 1 existed (outputs audit, session 35): one colour per count, read
    "1 of 3", "2 of 3", "3 of 3"."""
    from plumecast.maps import _draw

    lat, lon = np.linspace(40.0, 50.0, 21), np.linspace(0.0, 10.0, 21)
    v = np.zeros((21, 21))
    v[5:10, 5:10], v[7:9, 7:9], v[8, 8] = 1 / 3, 2 / 3, 1.0
    da = xr.DataArray(v, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    fig = _draw(da, title="t", units_label="members reaching it", receptors=None, label_n=0, log_scale=False,
                vmin=1e-9, extent=None, vmax_fixed=1.0, members=3)
    cbar_ax = fig.axes[-1]
    assert [t.get_text() for t in cbar_ax.get_yticklabels()] == ["1 of 3", "2 of 3", "3 of 3"]
    mesh = fig.axes[0].collections[0]
    colours = {tuple(np.round(c, 6)) for c in mesh.cmap(mesh.norm(np.array([1 / 3, 2 / 3, 1.0])))}
    assert len(colours) == 3  # each count its own colour
    assert mesh.norm(np.array([0.30, 0.36]))[0] == mesh.norm(np.array([0.30, 0.36]))[1]  # one colour per count
