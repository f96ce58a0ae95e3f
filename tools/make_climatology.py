"""Build the shipped ERA-Interim climatological mean winds (not a forecast) from the shared data file.

Reads ``eraint_uvz.nc`` (ERA-Interim January/July means, pydata/xarray-data),
keeps ``u``, ``v`` and the geopotential ``z`` at 850, 500 and 200 hPa, packs
the winds as int16 with a 0.01 m s-1 step (the source carries two significant
digits) and the geopotential as int16 with a 10 m2 s-2 step (1 m of height) and
writes a zlib-compressed netCDF4 file into the package, plus its
PROVENANCE.md. Run from the repository root::

    python tools/make_climatology.py [--source ../shared/data/met/eraint_uvz.nc]
"""

from __future__ import annotations

import argparse
import hashlib
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "met" / "eraint_uvz.nc"
OUT_DIR = ROOT / "src" / "plumecast" / "data" / "met"
OUT_FILE = OUT_DIR / "eraint_uv_climatology.nc"
SOURCE_SHA256 = "8f4cd0f75418a8e8f8f957c3b007f49e68a58d1bdd0e028adeeb057889f635d2"
SCALE_M_S = 0.01  # int16 step [m s-1]
SCALE_Z = 10.0  # int16 step of the geopotential [m2 s-2] (1 m of height)
OFFSET_Z = 66000.0  # int16 offset of the geopotential [m2 s-2]: covers -261 000 .. 393 000
LEVELS_HPA = [850, 500, 200]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    return h.hexdigest()


def build(source: Path) -> xr.Dataset:
    digest = sha256(source)
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{source}: SHA-256 {digest} differs from the documented {SOURCE_SHA256}")
    with warnings.catch_warnings():
        # the source declares _FillValue = NaN on int16 variables; xarray drops it (no missing values)
        warnings.simplefilter("ignore")
        with xr.open_dataset(source) as src:
            ds = src[["u", "v", "z"]].sel(level=LEVELS_HPA).load()
    for name in ("u", "v", "z"):
        if not np.isfinite(ds[name].values).all():
            raise SystemExit(f"{source}: {name} has missing values")
        if name == "z":
            ds[name].attrs = {"standard_name": "geopotential", "long_name": "geopotential, monthly mean",
                              "units": "m2 s-2"}
            continue
        ds[name].attrs = {
            "standard_name": "eastward_wind" if name == "u" else "northward_wind",
            "long_name": ("U" if name == "u" else "V") + " component of wind, monthly mean",
            "units": "m s-1",
        }
    ds["level"].attrs = {
        "units": "hPa",
        "long_name": "pressure level",
        "standard_name": "air_pressure",
    }
    ds["month"].attrs = {"long_name": "calendar month of the mean (1 = January, 7 = July)"}
    ds.attrs = {
        "Conventions": "CF-1.8",
        "title": "ERA-Interim January and July mean winds and geopotential at 850, 500, 200 hPa "
                 "(climatological mean winds, not a forecast)",
        "source": "ERA-Interim reanalysis monthly means, pydata/xarray-data eraint_uvz.nc",
        "attribution": (
            "Contains modified ECMWF ERA-Interim data (monthly means prepared by F. Maussion "
            "for pydata/xarray-data). (c) ECMWF, CC BY 4.0."
        ),
        "history": (
            f"tools/make_climatology.py: u, v, z at {LEVELS_HPA} hPa from eraint_uvz.nc "
            f"(SHA-256 {SOURCE_SHA256}); repacked as int16, step {SCALE_M_S} m s-1 (u, v) and "
            f"{SCALE_Z} m2 s-2 (z)"
        ),
    }
    return ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    ds = build(args.source)
    enc = {
        name: {
            "dtype": "int16",
            "scale_factor": SCALE_M_S,
            "add_offset": 0.0,
            "_FillValue": np.int16(-32767),
            "zlib": True,
            "complevel": 9,
            "shuffle": True,
        }
        for name in ("u", "v")
    }
    enc["z"] = {**enc["u"], "scale_factor": SCALE_Z, "add_offset": OFFSET_Z}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = OUT_FILE.with_suffix(".tmp")
    ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=enc)
    tmp.replace(OUT_FILE)
    # check the round trip
    with xr.open_dataset(OUT_FILE) as back:
        for name, step in (("u", SCALE_M_S), ("v", SCALE_M_S), ("z", SCALE_Z)):
            err = float(np.abs(back[name].values - ds[name].values).max())
            if err > step / 2 + 1e-6:
                raise SystemExit(f"{OUT_FILE}: {name} round-trip error {err} (step {step})")
    print(f"wrote {OUT_FILE} ({OUT_FILE.stat().st_size} bytes), SHA-256 {sha256(OUT_FILE)}")


if __name__ == "__main__":
    main()
