"""Real GRIB samples (tests/data/README.md: cfgrib and earthkit-data sdists): read
right (winds against ecCodes' own decoding, point by point) or refused with one
clear line naming the file and what is unsupported, never a traceback."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest

from plumecast.errors import MetDataError
from plumecast.met.check import check_met
from plumecast.met.levels import open_met_3d
from plumecast.met.reader import open_wind

pytestmark = pytest.mark.skipif(importlib.util.find_spec("cfgrib") is None, reason="cfgrib not installed")

DATA = Path(__file__).resolve().parents[1] / "data"


def _ecc(path: Path, short: str, level: int | None = None) -> dict[np.datetime64, tuple[np.ndarray, ...]]:
    """(lat, lon, values) of every message of ``short`` [at ``level``], by valid time,
    decoded by ecCodes alone."""
    import eccodes

    out: dict[np.datetime64, tuple[np.ndarray, ...]] = {}
    with open(path, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            try:
                if eccodes.codes_get(h, "shortName") != short or (
                        level is not None and eccodes.codes_get(h, "level") != level):
                    continue
                nj, ni = eccodes.codes_get(h, "Nj"), eccodes.codes_get(h, "Ni")
                d, t = str(eccodes.codes_get(h, "validityDate")), eccodes.codes_get(h, "validityTime")
                when = np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}T{t // 100:02d}:{t % 100:02d}")
                out[when] = tuple(eccodes.codes_get_array(h, k).reshape(nj, ni)
                                  for k in ("latitudes", "longitudes", "values"))
            finally:
                eccodes.codes_release(h)
    return out


def _same_as_ecc(ds, path: Path, u: str, v: str, level: int | None, sel: dict) -> int:
    ru, rv = _ecc(path, u, level), _ecc(path, v, level)
    assert sorted(ru) == [np.datetime64(t, "m") for t in ds["time"].values]
    n = 0
    for when in ru:
        lat, lon, uu = ru[when]
        vv = rv[when][2]
        rec = ds.sel(time=when, **sel)
        for j, i in ((1, 2), (lat.shape[0] // 2, lat.shape[1] // 3), (lat.shape[0] - 2, lat.shape[1] - 1)):
            x = (lon[j, i] + 180.0) % 360.0 - 180.0
            assert float(rec["u"].sel(lat=lat[j, i], lon=x)) == pytest.approx(uu[j, i], abs=1e-4)
            assert float(rec["v"].sel(lat=lat[j, i], lon=x)) == pytest.approx(vv[j, i], abs=1e-4)
            n += 1
    return n


def test_forecasts_times_steps_read_as_one_series_on_one_level() -> None:
    """pl_regular_ll.grib: 4 forecasts x 2 steps (cfgrib dims time and step). The
    one-level reader had refused it ('extra dimension step'); now 8 valid times,
    each the ecCodes values."""
    path = DATA / "pl_regular_ll.grib"
    ds = open_wind(path, level_hpa=850)
    assert ds.sizes["time"] == 8
    assert _same_as_ecc(ds, path, "u", "v", 850, {}) == 24
    ds3 = open_met_3d(path).load()  # the level reader agrees
    assert _same_as_ecc(ds3, path, "u", "v", 850, {"level": 850.0}) == 24


def test_ten_metre_winds_of_a_real_file_match_eccodes() -> None:
    path = DATA / "wind_20x20.grib"
    ds = open_wind(path)
    assert _same_as_ecc(ds, path, "10u", "10v", None, {}) == 3


@pytest.mark.parametrize(("name", "words"), [
    ("rotated_wind_20x20.grib", ["u10, v10", "rotated lat/lon", "'rotated_ll'", "not supported"]),
    ("reduced_gg.grib", ["u10", "reduced Gaussian", "'reduced_gg'", "not supported"]),
])
def test_unsupported_grids_are_named(name: str, words: list[str]) -> None:
    path = DATA / name
    for read in (open_wind, open_met_3d, check_met):
        with pytest.raises(MetDataError) as err:
            read(path)
        msg = str(err.value)
        assert msg.startswith(str(path)) and "\n" not in msg
        for w in words:
            assert w in msg


def test_corrupted_grib_is_refused_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """cfgrib logs 'skipping corrupted Message' with a traceback (printed on the
    console of a CLI run) and reads on; the file is refused in one line instead,
    and no log record leaves the reader."""
    path = DATA / "era5-levels-corrupted.grib"
    with caplog.at_level(logging.DEBUG):
        for read in (open_wind, open_met_3d):
            with pytest.raises(MetDataError, match="2 corrupted GRIB message") as err:
                read(path)
            assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
    assert not [r for r in caplog.records if r.name.startswith("cfgrib")]
