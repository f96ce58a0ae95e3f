"""One dask chunk per record of a netCDF met file stored without chunking.

``xarray.open_dataset(path, chunks={})`` takes the chunks the file stores. A variable
stored contiguously (netCDF's default for fixed-size dimensions, as ``to_netcdf`` writes
without ``chunksizes``, and as many post-processors write) has none, and becomes one dask
chunk holding every record: reading the record a step needs then reads the whole file
(a 3-record global 0.25° file on 37 levels read about 3 times the data and 2 times the
memory of a 1-record one per record; met audit, session 44). Such files are opened again
with one chunk per record along their time dimensions, so that a run holds only the
records it needs (issue 11). Files chunked on disk keep their chunks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import xarray as xr

#: Names of time dimensions that may carry no datetime coordinate (WRF's ``Time``).
TIME_NAMES = ("time", "Time", "valid_time", "step", "t")


def _time_dims(ds: xr.Dataset) -> list[str]:
    out = []
    for d in ds.dims:
        coord = ds.coords.get(d)
        timelike = d in TIME_NAMES or (coord is not None and coord.dtype.kind in "Mm")
        if timelike and ds.sizes[d] > 1:
            out.append(str(d))
    return out


def per_record(ds: xr.Dataset, path: Path) -> xr.Dataset:
    """``ds`` (opened from ``path`` with ``chunks={}``), opened again with one chunk per
    record along each time dimension on which a contiguously stored variable is held in
    one chunk; ``ds`` itself where there is none."""
    dims = _time_dims(ds)
    spans = sorted({d for v in ds.data_vars.values() if v.encoding.get("contiguous") and v.chunks
                    for d in dims if d in v.dims and max(v.chunksizes[d]) > 1})
    if not spans:
        return ds
    with warnings.catch_warnings():  # variables chunked on disk in the same file are split along time: read right
        warnings.filterwarnings("ignore", message=".*separate the stored chunks.*")
        again = xr.open_dataset(path, chunks=dict.fromkeys(spans, 1))
    ds.close()
    return again
