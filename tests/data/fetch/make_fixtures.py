"""Write the small GRIB2 files that stand in for forecast downloads in tests/met_fetch.

Run from the repository root (needs ecCodes, the ``grib`` extra)::

    python tests/data/fetch/make_fixtures.py

The files are not recordings: this machine cannot reach the services. They copy
the message layout the services return (GRIB2 edition, centre, parameter and level
codes, level types, reference time and steps, scanning and the longitude origin of
the grid: ECMWF open data start at 180 E = -180, GFS at 0 E) on a 5 degree global
grid instead of 0.25 degree, so that they stay small. The values are smooth
analytic fields of plausible size, defined below; tests compare the normalised file
with these messages as ecCodes decodes them. See tests/data/README.md.
"""

from __future__ import annotations

from pathlib import Path

import eccodes as ec
import numpy as np

HERE = Path(__file__).resolve().parent
DATE = 20240101
CYCLE = 0
STEPS = (0, 3)
LEVELS = (1000, 850, 500)  # hPa
STEP_DEG = 5.0
G0 = 9.80665

# (name in the GFS .idx, discipline, category, number, level type code, level value)
# level type codes (GRIB2 code table 4.5): 100 isobaric [Pa], 103 height above ground [m],
# 1 ground or water surface, 101 mean sea level.
PL = {"u": (0, 2, 2), "v": (0, 2, 3), "w": (0, 2, 8), "gh": (0, 3, 5), "t": (0, 0, 0)}
GFS_PL_NAMES = {"u": "UGRD", "v": "VGRD", "w": "VVEL", "gh": "HGT", "t": "TMP"}
ECMWF_PARAM_ID = {"tp": 228, "u": 131, "v": 132, "w": 135, "gh": 156, "t": 130,
                  "10u": 165, "10v": 166, "2t": 167, "sp": 134, "msl": 151, "ssrd": 169, "lsm": 172}
# GRIB2 codes (WMO code table 4.2) of the solar radiation at the ground (ECMWF ssrd,
# GFS DSWRF: downward short-wave radiation flux) and of the land-sea mask (ECMWF lsm,
# GFS LAND: land cover, 1 = land, 0 = sea); level type 1 (ground or water surface).
SOLAR = (0, 4, 7)
LAND = (2, 0, 0)


def _grid(first_lon: float) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes (90 to -90) and longitudes (first_lon eastwards) of the 5 degree grid
    in the order of the GRIB values (rows north to south, west to east)."""
    lat = np.arange(90.0, -90.0 - 1e-9, -STEP_DEG)
    lon = (first_lon + np.arange(int(round(360 / STEP_DEG))) * STEP_DEG + 180.0) % 360.0 - 180.0
    return np.repeat(lat, lon.size), np.tile(lon, lat.size)


def _height_std(p_hpa: float) -> float:
    """ICAO standard atmosphere height of a pressure level [m] (troposphere formula)."""
    return 44330.8 * (1.0 - (p_hpa / 1013.25) ** 0.190263)


def field(name: str, lat: np.ndarray, lon: np.ndarray, step: int, level: float, k: float) -> np.ndarray:
    """The analytic value of one field; ``k`` differs between the two sources."""
    phi, lam = np.radians(lat), np.radians(lon)
    if name == "u":
        return (5.0 + 25.0 * (1.0 - level / 1000.0)) * np.cos(phi) ** 2 + 3.0 * np.sin(2 * lam) + 0.1 * step + k
    if name == "v":
        return 4.0 * np.sin(lam) * np.cos(phi) - 0.05 * step - k
    if name == "w":
        return 0.3 * np.sin(2 * phi) * np.cos(3 * lam) * (level / 1000.0)
    if name == "gh":
        return _height_std(level) + 80.0 * np.cos(2 * phi) * np.cos(lam) + 5.0 * step
    if name == "t":
        return 288.15 - 0.0065 * _height_std(level) + 10.0 * np.cos(phi) - 5.0 + 0.2 * step
    if name == "10u":
        return 0.6 * field("u", lat, lon, step, 1000.0, k)
    if name == "10v":
        return 0.6 * field("v", lat, lon, step, 1000.0, k)
    if name == "2t":
        return 280.0 + 15.0 * np.cos(phi) + np.sin(lam) + 0.3 * step
    if name in ("sp", "msl"):
        return 101325.0 - 1500.0 * np.sin(phi) ** 2 + 200.0 * np.cos(lam) - (700.0 if name == "sp" else 0.0)
    if name == "hpbl":
        return 800.0 + 400.0 * np.cos(lam + step * np.pi / 12.0) * np.cos(phi)
    if name == "orog":
        return np.maximum(0.0, 1500.0 * np.sin(2 * phi) * np.sin(lam))
    if name == "tp":  # accumulated since the start [m]: about 0.7 mm per 3 h at most
        return step * 1e-3 / 3.0 * (1.0 + np.sin(lam)) * np.cos(phi) ** 2 * 0.35
    if name == "prate":  # [kg m-2 s-1]: up to about 0.7 mm per hour
        return 1e-4 * (1.0 + np.sin(lam)) * np.cos(phi) ** 2
    if name == "r":
        return 60.0 + 30.0 * np.sin(lam)
    if name == "dswrf":  # [W m-2]: mean downward solar flux, up to 400 W m-2
        return 250.0 * np.cos(phi) ** 2 * (1.0 + 0.6 * np.sin(lam)) + 5.0 * step
    if name == "ssrd":  # [J m-2] accumulated since the start: the mean flux x 3600 s h-1 x step
        return 3600.0 * step * field("dswrf", lat, lon, step, 0.0, k)
    if name == "lsm":  # land fraction of the grid box, 0 to 1, fractional near "coasts"
        return np.clip(0.5 + 1.5 * np.sin(2 * lam) * np.cos(phi), 0.0, 1.0)
    if name == "land":  # GFS land cover: 1 land, 0 sea
        return (np.sin(2 * lam) * np.cos(phi) > 0.0).astype(np.float64)
    raise KeyError(name)


def _set_grid(h: int, first_lon: float) -> None:
    ni, nj = int(round(360 / STEP_DEG)), int(round(180 / STEP_DEG)) + 1
    for key, val in (("Ni", ni), ("Nj", nj)):
        ec.codes_set(h, key, val)
    ec.codes_set(h, "latitudeOfFirstGridPointInDegrees", 90.0)
    ec.codes_set(h, "latitudeOfLastGridPointInDegrees", -90.0)
    ec.codes_set(h, "longitudeOfFirstGridPointInDegrees", first_lon % 360.0)
    ec.codes_set(h, "longitudeOfLastGridPointInDegrees", (first_lon + 360.0 - STEP_DEG) % 360.0)
    ec.codes_set(h, "iDirectionIncrementInDegrees", STEP_DEG)
    ec.codes_set(h, "jDirectionIncrementInDegrees", STEP_DEG)


def _message(sample: str, first_lon: float, centre: str, step: int, codes: tuple[int, int, int],
             level_type: int, level: float, values: np.ndarray, packing: str,
             param_id: int | None = None, stat: int | None = None) -> bytes:
    """One GRIB2 message; ``stat`` (code table 4.10: 0 average, 1 accumulation) makes
    it a statistic over the lead times 0 to ``step`` (product template 4.8)."""
    h = ec.codes_grib_new_from_samples(sample)
    try:
        if stat is not None:
            ec.codes_set(h, "productDefinitionTemplateNumber", 8)
        ec.codes_set(h, "centre", centre)
        if centre == "kwbc":
            ec.codes_set(h, "localTablesVersion", 1)
        _set_grid(h, first_lon)
        ec.codes_set(h, "dataDate", DATE)
        ec.codes_set(h, "dataTime", CYCLE * 100)
        ec.codes_set(h, "significanceOfReferenceTime", 1)  # start of forecast
        ec.codes_set(h, "typeOfGeneratingProcess", 2)  # forecast
        ec.codes_set(h, "stepUnits", 1)
        if stat is None:
            ec.codes_set(h, "forecastTime", step)
        if param_id is not None:
            ec.codes_set(h, "paramId", param_id)
        ec.codes_set(h, "discipline", codes[0])
        ec.codes_set(h, "parameterCategory", codes[1])
        ec.codes_set(h, "parameterNumber", codes[2])
        ec.codes_set(h, "typeOfFirstFixedSurface", level_type)
        if level_type == 100:
            ec.codes_set(h, "scaleFactorOfFirstFixedSurface", 0)
            ec.codes_set(h, "scaledValueOfFirstFixedSurface", int(level * 100))
        elif level_type == 103:
            ec.codes_set(h, "scaleFactorOfFirstFixedSurface", 0)
            ec.codes_set(h, "scaledValueOfFirstFixedSurface", int(level))
        else:
            ec.codes_set_missing(h, "scaleFactorOfFirstFixedSurface")
            ec.codes_set_missing(h, "scaledValueOfFirstFixedSurface")
        ec.codes_set(h, "typeOfSecondFixedSurface", 255)
        if stat is not None:
            ec.codes_set(h, "typeOfStatisticalProcessing", stat)
            ec.codes_set(h, "stepRange", f"0-{step}")
        ec.codes_set(h, "packingType", packing)
        ec.codes_set(h, "bitsPerValue", 16)
        ec.codes_set_values(h, values.astype(np.float64))
        return bytes(ec.codes_get_message(h))
    finally:
        ec.codes_release(h)


def ecmwf_messages() -> list[bytes]:
    """One file as ecmwf-opendata writes it for a request of every field and step:
    per step, the pressure-level fields, then the single-level fields."""
    lat, lon = _grid(-180.0)
    out = []
    for step in STEPS:
        for name in PL:
            for level in LEVELS:
                out.append(_message("regular_ll_pl_grib2", -180.0, "ecmf", step, PL[name], 100, level,
                                    field(name, lat, lon, step, level, 0.0), "grid_ccsds",
                                    ECMWF_PARAM_ID[name]))
        for name, codes, ltype, lev in (("10u", (0, 2, 2), 103, 10), ("10v", (0, 2, 3), 103, 10),
                                        ("2t", (0, 0, 0), 103, 2), ("sp", (0, 3, 0), 1, 0),
                                        ("msl", (0, 3, 0), 101, 0)):
            out.append(_message("GRIB2", -180.0, "ecmf", step, codes, ltype, lev,
                                field(name, lat, lon, step, 0.0, 0.0), "grid_ccsds", ECMWF_PARAM_ID[name]))
        if step > 0:  # total precipitation, accumulated from the start (none at step 0)
            out.append(_message("GRIB2", -180.0, "ecmf", step, (0, 1, 193), 1, 0,
                                field("tp", lat, lon, step, 0.0, 0.0), "grid_ccsds", 228, stat=1))
            # surface solar radiation downwards, accumulated from the start [J m-2]
            out.append(_message("GRIB2", -180.0, "ecmf", step, SOLAR, 1, 0,
                                field("ssrd", lat, lon, step, 0.0, 0.0), "grid_ccsds", 169, stat=1))
        if step == 0:  # land-sea mask (time-invariant), at step 0
            out.append(_message("GRIB2", -180.0, "ecmf", step, LAND, 1, 0,
                                field("lsm", lat, lon, step, 0.0, 0.0), "grid_ccsds", 172))
    return out


def gfs_file(step: int) -> tuple[bytes, str]:
    """A GFS pgrb2 file of one step and its wgrib2-style .idx inventory."""
    lat, lon = _grid(0.0)
    inst = "anl" if step == 0 else f"{step} hour fcst"  # an instantaneous field's entry
    ave = f"0-{step} hour ave fcst"  # an average from the start of the 6 h window (steps 1 to 6)
    msgs: list[tuple[str, str, bytes]] = []
    msgs.append(("PRMSL", "mean sea level", _message("GRIB2", 0.0, "kwbc", step, (0, 3, 1), 101, 0,
                                                    field("msl", lat, lon, step, 0, 1.0),
                                                    "grid_complex_spatial_differencing")))
    for name in ("gh", "t", "r", "u", "v", "w"):
        for level in LEVELS:
            codes = (0, 1, 1) if name == "r" else PL[name]
            msgs.append((GFS_PL_NAMES.get(name, "RH"), f"{level} mb",
                         _message("GRIB2", 0.0, "kwbc", step, codes, 100, level,
                                  field(name, lat, lon, step, level, 1.0), "grid_complex_spatial_differencing")))
    for var, lev_text, name, codes, ltype, lev in (
            ("PRES", "surface", "sp", (0, 3, 0), 1, 0), ("HGT", "surface", "orog", (0, 3, 5), 1, 0),
            ("HPBL", "surface", "hpbl", (0, 3, 196), 1, 0),
            ("TMP", "2 m above ground", "2t", (0, 0, 0), 103, 2),
            ("UGRD", "10 m above ground", "10u", (0, 2, 2), 103, 10),
            ("VGRD", "10 m above ground", "10v", (0, 2, 3), 103, 10)):
        msgs.append((var, lev_text, _message("GRIB2", 0.0, "kwbc", step, codes, ltype, lev,
                                             field(name, lat, lon, step, 0, 1.0),
                                             "grid_complex_spatial_differencing")))
    if step > 0:  # precipitation rate, averaged from the start of the 6 h window
        msgs.append(("PRATE", "surface", _message("GRIB2", 0.0, "kwbc", step, (0, 1, 7), 1, 0,
                                                  field("prate", lat, lon, step, 0, 1.0),
                                                  "grid_complex_spatial_differencing", stat=0)))
    # land cover (land-sea mask), in every file
    msgs.append(("LAND", "surface", _message("GRIB2", 0.0, "kwbc", step, LAND, 1, 0,
                                             field("land", lat, lon, step, 0, 1.0),
                                             "grid_complex_spatial_differencing")))
    if step > 0:  # downward short-wave radiation at the surface, averaged like PRATE
        msgs.append(("DSWRF", "surface", _message("GRIB2", 0.0, "kwbc", step, SOLAR, 1, 0,
                                                  field("dswrf", lat, lon, step, 0, 1.0),
                                                  "grid_complex_spatial_differencing", stat=0)))
    data = b""
    lines = []
    for i, (var, lev_text, msg) in enumerate(msgs, start=1):
        when = ave if var in ("PRATE", "DSWRF") else inst
        lines.append(f"{i}:{len(data)}:d={DATE}{CYCLE:02d}:{var}:{lev_text}:{when}:")
        data += msg
    return data, "\n".join(lines) + "\n"


def main() -> None:
    ecmwf_dir = HERE / "ecmwf"
    ecmwf_dir.mkdir(exist_ok=True)
    (ecmwf_dir / f"{DATE}{CYCLE:02d}0000-oper-fc.grib2").write_bytes(b"".join(ecmwf_messages()))
    gfs_dir = HERE / "gfs"
    gfs_dir.mkdir(exist_ok=True)
    for step in STEPS:
        data, idx = gfs_file(step)
        name = f"gfs.t{CYCLE:02d}z.pgrb2.0p25.f{step:03d}"
        (gfs_dir / name).write_bytes(data)
        # stored as .idx.txt: the repository ignores *.idx (cfgrib's index files)
        (gfs_dir / f"{name}.idx.txt").write_text(idx, encoding="ascii")
    for p in sorted(HERE.rglob("*")):
        if p.is_file() and p.suffix != ".py":
            print(f"{p.relative_to(HERE)}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
