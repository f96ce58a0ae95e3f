"""Build the shipped land-use map from FLEXPART's land-use inventory.

Reads ``IGBP_int1.dat`` of FLEXPART 10.4 (``options/IGBP_int1.dat`` of
flexpart/flexpart, commit 3d7eebf7c4909f59db5ec32c524f88fb846e9fe5, SHA-256
``0931bb9989bf96b2cb4361118d807e7df0d0429fdec19ada4cbd9a15d9e0d124``): the IGBP-DIS
DISCover 1-km land cover (Belward, Estes & Kline 1999, Photogramm. Eng. Remote Sens.
65, 1013-1020; Loveland et al. 2000, Int. J. Remote Sens. 21, 1303-1330) aggregated by
the FLEXPART developers to 0.3 degree cells in 13 classes, Wesely's (1989) 11 land
uses, snow and ice, and rainforest. The file is one Fortran unformatted record of
1200 x 600 x 3 bytes (longitude outer from 180 W, latitude inner from 90 S): for each
cell the three most abundant classes, each byte the class (high half) and its share
in steps of 6.25 % (low half), as FLEXPART's ``readlanduse.f90`` decodes it.

Writes ``src/plumecast/data/geo/landuse_igbp_0p3deg.npz`` with the same numbers,
decoded: ``category`` and ``share16``, both uint8 (600 latitudes, 1200 longitudes,
3), row 0 the cell from 90 S, column 0 the cell from 180 W. Run from the repository
root with the file's path::

    python tools/make_landuse.py path/to/IGBP_int1.dat
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "plumecast" / "data" / "geo" / "landuse_igbp_0p3deg.npz"
SHA256 = "0931bb9989bf96b2cb4361118d807e7df0d0429fdec19ada4cbd9a15d9e0d124"
NLON, NLAT = 1200, 600


def main() -> None:
    src = Path(sys.argv[1])
    data = src.read_bytes()
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise SystemExit(f"{src}: not the FLEXPART 10.4 IGBP_int1.dat (SHA-256 {SHA256} expected)")
    raw = np.frombuffer(data, np.uint8)
    n = NLON * NLAT * 3
    # the record markers of a Fortran sequential record: its length before and after
    if int.from_bytes(data[:4], "little") != n or int.from_bytes(data[-4:], "little") != n:
        raise SystemExit(f"{src}: expected one record of {n} bytes")
    cells = raw[4:4 + n].reshape(NLON, NLAT, 3).transpose(1, 0, 2)
    category = (cells >> 4).astype(np.uint8)
    share16 = (cells & 15).astype(np.uint8)
    np.savez_compressed(OUT, category=np.ascontiguousarray(category), share16=np.ascontiguousarray(share16))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
