"""A met file stored without chunking is read one record at a time (issue 11: only the
records a step needs are resident): ``open_dataset(chunks={})`` had made every
contiguous variable one dask chunk of all its records, so reading one record read the
whole file (met audit, session 44)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from plumecast.met import open_met_3d
from plumecast.met.levels import wind_grid_3d
from tests.met.style_files import atmosphere, write_era5


def test_a_contiguous_file_is_one_chunk_per_record_and_reads_as_a_file_chunked_on_disk(tmp_path: Path) -> None:
    a = atmosphere(4)
    paths = write_era5(a, tmp_path / "pl.nc", tmp_path / "sl.nc")
    with xr.open_dataset(paths[0]) as raw:
        assert raw["u"].encoding.get("contiguous")  # as to_netcdf writes it without chunksizes
    ds = open_met_3d(paths)
    for name in ("u", "v", "gh"):
        assert ds[name].chunks is not None
        assert set(ds[name].chunksizes["time"]) == {1}, (name, ds[name].chunksizes["time"])
    # the same numbers as from files stored in chunks of two records
    chunked = []
    for p in paths:
        with xr.open_dataset(p) as src:
            enc = {v: {"chunksizes": (2, *src[v].shape[1:])} for v in src.data_vars if src[v].ndim >= 3}
            out = tmp_path / f"chunked_{p.name}"
            src.load().to_netcdf(out, encoding=enc)
            chunked.append(out)
    one, two = wind_grid_3d(ds), wind_grid_3d(open_met_3d(chunked))
    np.testing.assert_array_equal(one.z_m, two.z_m)
    np.testing.assert_array_equal(one.vec, two.vec)
    assert one.surface is not None and two.surface is not None
    np.testing.assert_array_equal(one.surface, two.surface)
