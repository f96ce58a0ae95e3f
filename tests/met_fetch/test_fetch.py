"""``plumecast met fetch`` offline: the download layer is replaced by one that serves
the GRIB2 files of tests/data/fetch (see tests/data/README.md), the way each service
would (ECMWF: the ecmwf-opendata client's ``retrieve``; GFS: HTTP range requests
against the ``.idx`` inventories)."""

from __future__ import annotations

import datetime as dt
import socket
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

eccodes = pytest.importorskip("eccodes")
requests = pytest.importorskip("requests")
opendata = pytest.importorskip("ecmwf.opendata")

from plumecast.errors import OutputPathError  # noqa: E402
from plumecast.met import fetch as mf  # noqa: E402
from tests.helpers import run_cli  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "fetch"
ECMWF_FILE = DATA / "ecmwf" / "20240101000000-oper-fc.grib2"
AREA = "60,-10,35,30"
LEVELS = (1000, 850, 500)
G0 = 9.80665

# ECMWF shortName (as ecCodes names it) -> (output name, factor)
_OUT = {"u": ("u", 1.0), "v": ("v", 1.0), "w": ("w", 1.0), "gh": ("z", G0), "t": ("t", 1.0),
        "10u": ("u10", 1.0), "10v": ("v10", 1.0), "2t": ("t2m", 1.0), "sp": ("sp", 1.0)}
# GFS: (discipline, category, number, level type) -> output name (ecCodes has no short
# name for NCEP's HPBL without NCEP's local tables)
_GFS_OUT = {(0, 2, 2, 100): "u", (0, 2, 3, 100): "v", (0, 2, 8, 100): "w", (0, 3, 5, 100): "z",
            (0, 0, 0, 100): "t", (0, 2, 2, 103): "u10", (0, 2, 3, 103): "v10", (0, 0, 0, 103): "t2m",
            (0, 3, 0, 1): "sp", (0, 3, 196, 1): "blh", (0, 3, 5, 1): "orog", (0, 1, 7, 1): "prate"}


# --------------------------------------------------------------------------- recorded services

def _messages(path: Path) -> list[dict[str, Any]]:
    """Every message of a fixture, decoded by ecCodes alone (its own coordinates)."""
    out = []
    with open(path, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            try:
                out.append({
                    "short": eccodes.codes_get(h, "shortName"),
                    "codes": tuple(int(eccodes.codes_get(h, k, ktype=int)) for k in
                                   ("discipline", "parameterCategory", "parameterNumber",
                                    "typeOfFirstFixedSurface")),
                    "level_type": eccodes.codes_get(h, "typeOfLevel"),
                    "level": int(eccodes.codes_get(h, "level")),
                    "step": int(eccodes.codes_get(h, "endStep")),
                    "date": int(eccodes.codes_get(h, "dataDate")),
                    "time": int(eccodes.codes_get(h, "dataTime")),
                    "lat": eccodes.codes_get_array(h, "latitudes"),
                    "lon": eccodes.codes_get_array(h, "longitudes"),
                    "values": eccodes.codes_get_values(h),
                    "bytes": bytes(eccodes.codes_get_message(h)),
                })
            finally:
                eccodes.codes_release(h)
    return out


def _http_error(url: str, code: int = 404) -> Exception:
    resp = requests.Response()
    resp.status_code = code
    resp.url = url
    resp.reason = "Not Found"
    return requests.HTTPError(f"{code} Client Error: Not Found for url: {url}", response=resp)


class FakeECMWF:
    """Stands in for ``ecmwf.opendata.Client.retrieve``: writes the fixture's messages
    that match the request (date, time, step, levtype, levelist, param) to the target,
    in the file's order, as the client does from the service's byte ranges; a step the
    recording lacks is a 404 for that step's index file, as on the service."""

    def __init__(self, drop: set[tuple[str, int]] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.messages = _messages(ECMWF_FILE)
        self.drop = drop or set()

    def __call__(self, client: Any, request: Any = None, target: Any = None, **kw: Any) -> Any:
        req = dict(request or {}, **kw)
        self.calls.append(dict(req, source=client.source.name, target=target))
        steps = [int(s) for s in req["step"]]
        base = f"{client.source.url}/{req['date']}/{int(req['time']):02d}z/ifs/0p25/oper"
        for s in steps:
            if req["date"] != 20240101 or int(req["time"]) != 0 or s not in (0, 3):
                raise _http_error(f"{base}/{req['date']}{int(req['time']):02d}0000-{s}h-oper-fc.index")
        pl = req["levtype"] == "pl"
        chosen = [m for m in self.messages
                  if m["step"] in steps and m["short"] in req["param"]
                  and (m["level_type"] == "isobaricInhPa") == pl
                  and (not pl or m["level"] in req["levelist"])
                  and (m["short"], m["level"]) not in self.drop]
        Path(target).write_bytes(b"".join(m["bytes"] for m in chosen))
        return None


class FakeResponse:
    def __init__(self, url: str, status: int, content: bytes = b"") -> None:
        self.url, self.status_code, self.content = url, status, content
        self.reason = "Partial Content" if status == 206 else "OK" if status == 200 else "Not Found"

    @property
    def text(self) -> str:
        return self.content.decode("ascii")

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise _http_error(self.url, self.status_code)


class FakeGFS:
    """Stands in for the HTTP session of the GFS download: serves the fixture files
    under their archive addresses and answers range requests with 206."""

    def __init__(self) -> None:
        self.gets: list[tuple[str, str | None]] = []
        self.drop = ""  # a variable left out of the .idx inventories

    def get(self, url: str, headers: dict[str, str] | None = None, timeout: Any = None) -> FakeResponse:
        rng = (headers or {}).get("Range")
        self.gets.append((url, rng))
        prefix = f"{mf.GFS_MIRRORS['aws']}/gfs.20240101/00/atmos/"
        path = DATA / "gfs" / url[len(prefix):]
        if path.suffix == ".idx":  # stored as .idx.txt (the repository ignores *.idx)
            path = path.with_name(path.name + ".txt")
        if not url.startswith(prefix) or not path.is_file():
            return FakeResponse(url, 404)
        data = path.read_bytes()
        if self.drop and path.suffix == ".txt":
            data = b"".join(line for line in data.splitlines(keepends=True) if f":{self.drop}:".encode() not in line)
        if rng is None:
            return FakeResponse(url, 200, data)
        a, b = rng.removeprefix("bytes=").split("-")
        return FakeResponse(url, 206, data[int(a): int(b) + 1 if b else None])


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Host names resolve (the services are replaced, so nothing goes out)."""
    monkeypatch.setattr(mf, "_reachable", lambda host: None)


@pytest.fixture
def ecmwf_service(monkeypatch: pytest.MonkeyPatch, online: None) -> FakeECMWF:
    return _install(monkeypatch, FakeECMWF())


def _install(monkeypatch: pytest.MonkeyPatch, fake: FakeECMWF) -> FakeECMWF:
    """Put ``fake`` in place of the client's retrieve method."""

    def retrieve(self: Any, request: Any = None, target: Any = None, **kw: Any) -> Any:
        return fake(self, request, target, **kw)

    monkeypatch.setattr(opendata.Client, "retrieve", retrieve)
    return fake


@pytest.fixture
def gfs_service(monkeypatch: pytest.MonkeyPatch, online: None) -> FakeGFS:
    fake = FakeGFS()
    monkeypatch.setattr(mf, "_http_session", lambda: fake)
    return fake


def _request(source: str = "ecmwf", steps: tuple[int, ...] = (0, 3), area: str = AREA) -> mf.FetchRequest:
    return mf.FetchRequest(source=source, date=dt.date(2024, 1, 1), cycle=0, steps=steps,
                           area=mf.parse_area(area), levels=LEVELS)


def _expected(messages: list[dict[str, Any]], name_of: Any) -> dict[tuple[str, int, int], dict[tuple[float, float], float]]:
    """{(output name, level, step): {(lat, lon): value}} inside AREA, by ecCodes' coordinates."""
    area = mf.parse_area(AREA)
    out: dict[tuple[str, int, int], dict[tuple[float, float], float]] = {}
    for m in messages:
        name, factor = name_of(m)
        if name is None:
            continue
        lon = (m["lon"] + 180.0) % 360.0 - 180.0
        inside = (m["lat"] >= area.south) & (m["lat"] <= area.north) & (lon >= area.west) & (lon <= area.east)
        level = m["level"] if m["level_type"] == "isobaricInhPa" else 0
        out[(name, level, m["step"])] = {(float(a), float(o)): float(v) * factor
                                         for a, o, v in zip(m["lat"][inside], lon[inside], m["values"][inside], strict=True)}
    return out


def _check_against(ds: xr.Dataset, expected: dict[tuple[str, int, int], dict[tuple[float, float], float]]) -> None:
    lat, lon = ds.latitude.values, ds.longitude.values
    for (name, level, step), points in expected.items():
        da = ds[name].sel(time=np.datetime64("2024-01-01T00") + np.timedelta64(step, "h"))
        if "level" in da.dims:
            da = da.sel(level=level)
        assert da.shape == (lat.size, lon.size)
        assert len(points) == lat.size * lon.size, (name, level, step)
        got = np.array([da.values[np.searchsorted(lat, a), np.searchsorted(lon, o)] for a, o in points])
        want = np.array(list(points.values()), dtype=np.float32)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=f"{name} {level} {step}")


def _check_form(ds: xr.Dataset) -> None:
    """The normalised form: ERA5 names and units, level from the ground up, lat
    ascending, lon ascending in [-180, 180), time = valid time."""
    assert list(ds.level.values) == [1000.0, 850.0, 500.0]
    assert ds.level.attrs["units"] == "hPa"
    assert np.all(np.diff(ds.latitude.values) > 0) and np.all(np.diff(ds.longitude.values) > 0)
    assert ds.longitude.values.min() >= -180.0 and ds.longitude.values.max() < 180.0
    np.testing.assert_allclose(ds.latitude.values, np.arange(35.0, 60.1, 5.0))
    np.testing.assert_allclose(ds.longitude.values, np.arange(-10.0, 30.1, 5.0))
    np.testing.assert_array_equal(ds.time.values, np.array(["2024-01-01T00", "2024-01-01T03"], "datetime64[ns]"))
    np.testing.assert_array_equal(ds.forecast_period.values, [0.0, 3.0])
    assert ds.forecast_reference_time.values == np.datetime64("2024-01-01T00", "ns")
    units = {"u": "m s-1", "v": "m s-1", "w": "Pa s-1", "z": "m2 s-2", "t": "K",
             "u10": "m s-1", "v10": "m s-1", "t2m": "K", "sp": "Pa"}
    for name, unit in units.items():
        assert ds[name].attrs["units"] == unit, name
        assert ds[name].dtype == np.float32
    for name in ("u", "v", "w", "z", "t"):
        assert ds[name].dims == ("time", "level", "latitude", "longitude")
    assert ds.u10.dims == ("time", "latitude", "longitude")
    assert ds.z.attrs["standard_name"] == "geopotential"
    assert ds.w.attrs["standard_name"] == "lagrangian_tendency_of_air_pressure"
    # geopotential, not geopotential height: about g0 x 1460 m at 850 hPa
    z850 = float(ds.z.sel(level=850.0).mean())
    assert 1200 * G0 < z850 < 1700 * G0


def _check_solar_and_mask(ds: xr.Dataset) -> None:
    """rsds and lsm: names, units, dims, the mean convention said in the comment."""
    assert ds.rsds.dims == ("time", "latitude", "longitude") and ds.rsds.dtype == np.float32
    assert ds.rsds.attrs["units"] == "W m-2"
    assert ds.rsds.attrs["standard_name"] == "surface_downwelling_shortwave_flux_in_air"
    assert "mean over the interval" in ds.rsds.attrs["comment"]
    assert float(ds.rsds.min()) >= 0.0 and float(ds.rsds.max()) > 100.0
    assert ds.lsm.dims == ("latitude", "longitude") and ds.lsm.dtype == np.float32
    assert ds.lsm.attrs["units"] == "1" and ds.lsm.attrs["standard_name"] == "land_area_fraction"
    assert float(ds.lsm.min()) >= 0.0 and float(ds.lsm.max()) <= 1.0


def _check_mask_against(ds: xr.Dataset, message: dict[str, Any]) -> None:
    """The file's lsm equals the message's values (ecCodes' coordinates) in the area."""
    assert message["codes"] == (2, 0, 0, 1)
    want = _expected([message], lambda m: ("lsm", 1.0))[("lsm", 0, message["step"])]
    lat, lon = ds.latitude.values, ds.longitude.values
    assert len(want) == lat.size * lon.size
    got = np.array([ds.lsm.values[np.searchsorted(lat, a), np.searchsorted(lon, o)] for a, o in want])
    np.testing.assert_allclose(got, np.array(list(want.values()), dtype=np.float32), rtol=0, atol=1e-7)
    assert 0.0 < float(ds.lsm.mean()) < 1.0  # land and sea in the area


# --------------------------------------------------------------------------- ECMWF

def test_ecmwf_fetch_writes_normalised_file(tmp_path: Path, ecmwf_service: FakeECMWF) -> None:
    lines: list[str] = []
    out = mf.fetch(_request("ecmwf"), tmp_path / "fc.nc", say=lines.append)
    assert out == tmp_path / "fc.nc" and out.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name != "fc.nc"]  # no .part left
    with xr.open_dataset(out) as ds:
        _check_form(ds)
        assert set(ds.data_vars) == {"u", "v", "w", "z", "t", "u10", "v10", "t2m", "sp", "zs", "prate", "rsds",
                                     "lsm"}
        # precipitation: tp accumulated over 0-3 h [m] -> mean rate [kg m-2 s-1], also used at step 0
        (tp3,) = [m for m in ecmwf_service.messages if m["short"] == "tp" and m["step"] == 3]
        tp_rate = {k: v * 1000.0 / (3 * 3600.0) for k, v in _expected([dict(tp3, short="tp")],
                                                                     lambda m: ("prate", 1.0))[("prate", 0, 3)].items()}
        _check_against(ds, {("prate", 0, 3): tp_rate, ("prate", 0, 0): tp_rate})
        assert ds.prate.attrs["units"] == "kg m-2 s-1" and float(ds.prate.max()) > 0
        # solar radiation: ssrd accumulated over 0-3 h [J m-2] / 10800 s, the 0-3 h mean, also at step 0
        (ssrd3,) = [m for m in ecmwf_service.messages if m["short"] == "ssrd" and m["step"] == 3]
        assert ssrd3["codes"] == (0, 4, 7, 1)
        rsds = _expected([ssrd3], lambda m: ("rsds", 1.0 / (3 * 3600.0)))[("rsds", 0, 3)]
        _check_against(ds, {("rsds", 0, 3): rsds, ("rsds", 0, 0): rsds})
        _check_solar_and_mask(ds)
        (lsm,) = [m for m in ecmwf_service.messages if m["short"] == "lsm"]
        _check_mask_against(ds, lsm)
        assert ds.zs.attrs["units"] == "m2 s-2" and "diagnosed" in ds.zs.attrs["long_name"]
        # the fixture's surface pressure (993 to 1008 hPa) lies near the 1000 hPa surface
        np.testing.assert_allclose(ds.zs.values / G0, 0.0, atol=250.0)
        expected = _expected(ecmwf_service.messages,
                             lambda m: _OUT.get(m["short"], (None, 1.0)))
        assert len(expected) == 2 * (5 * 3 + 4)
        _check_against(ds, expected)
        assert "ECMWF" in ds.attrs["source"] and "CC BY 4.0" in ds.attrs["licence"]
    assert "data.ecmwf.int" in lines[0] and lines[-1].startswith("written:")
    # what was asked of the client: one pressure-level and one surface request for the run
    pl, sfc, tp, ssrd, lsm_call = ecmwf_service.calls
    assert tp["param"] == ["tp"] and tp["step"] == [3] and tp["levtype"] == "sfc"
    assert ssrd["param"] == ["ssrd"] and ssrd["step"] == [3] and ssrd["levtype"] == "sfc"
    assert lsm_call["param"] == ["lsm"] and lsm_call["step"] == [0] and lsm_call["levtype"] == "sfc"
    assert pl["levtype"] == "pl" and pl["levelist"] == [1000, 850, 500]
    assert sorted(pl["param"]) == ["gh", "t", "u", "v", "w"]
    assert sfc["levtype"] == "sfc" and sorted(sfc["param"]) == ["10u", "10v", "2t", "sp"]
    for call in (pl, sfc):
        assert call["date"] == 20240101 and call["time"] == 0 and call["step"] == [0, 3]
        assert call["type"] == "fc" and call["source"] == "ecmwf"


def test_ecmwf_request_is_one_the_real_client_accepts() -> None:
    """The real ecmwf-opendata client turns plumecast's request into the service's
    file addresses (no network: use_index=False builds the URLs only)."""
    client = opendata.Client(source="aws")
    req = _request("ecmwf")
    result = client._get_urls(use_index=False, date=20240101, time=0, step=[0, 3], type="fc",
                              stream="oper", levtype="pl", levelist=list(req.levels),
                              param=["u", "v", "w", "gh", "t"])
    assert result.urls == [f"{client.url}/20240101/00z/ifs/0p25/oper/20240101000000-{s}h-oper-fc.grib2"
                           for s in (0, 3)]
    for name, host in mf.ECMWF_MIRRORS.items():  # the hosts plumecast names in its messages
        assert opendata.Client(source=name, use_sas_token=False).url.split("/")[2] == host


def test_mirror_goes_to_the_client(tmp_path: Path, ecmwf_service: FakeECMWF) -> None:
    req = mf.FetchRequest(source="ecmwf", date=dt.date(2024, 1, 1), cycle=0, steps=(3,),
                          area=mf.parse_area(AREA), levels=(1000, 850), mirror="aws")
    mf.fetch(req, tmp_path / "a.nc")
    assert {c["source"] for c in ecmwf_service.calls} == {"aws"}
    with xr.open_dataset(tmp_path / "a.nc") as ds:
        assert ds.sizes["time"] == 1 and sorted(ds.level.values) == [850.0, 1000.0]


# --------------------------------------------------------------------------- GFS

def test_gfs_fetch_writes_normalised_file(tmp_path: Path, gfs_service: FakeGFS) -> None:
    out = mf.fetch(_request("gfs"), tmp_path / "gfs.nc")
    with xr.open_dataset(out) as ds:
        _check_form(ds)
        assert set(ds.data_vars) == {"u", "v", "w", "z", "t", "u10", "v10", "t2m", "sp", "blh", "orog", "prate",
                                     "rsds", "lsm"}
        assert ds.blh.attrs["units"] == "m" and ds.orog.attrs["units"] == "m"
        messages = [m for s in (0, 3) for m in _messages(DATA / "gfs" / f"gfs.t00z.pgrb2.0p25.f{s:03d}")]
        expected = _expected(messages, lambda m: (_GFS_OUT.get(m["codes"]),
                                                  G0 if m["codes"] == (0, 3, 5, 100) else 1.0))
        assert expected.pop(("prate", 0, 3))  # PRATE 0-3 h mean, as sent; step 0 takes it too
        assert len(expected) == 2 * (5 * 3 + 6)
        _check_against(ds, expected)
        prate = _expected(messages, lambda m: ("prate", 1.0) if m["codes"] == (0, 1, 7, 1) else (None, 1.0))
        _check_against(ds, {("prate", 0, 0): prate[("prate", 0, 3)], **prate})
        # solar radiation: DSWRF averaged over 0-3 h as sent (the window starts at the previous
        # lead time, 0); step 0 takes the first interval's mean
        dswrf = _expected(messages, lambda m: ("rsds", 1.0) if m["codes"] == (0, 4, 7, 1) else (None, 1.0))
        assert list(dswrf) == [("rsds", 0, 3)]
        _check_against(ds, {("rsds", 0, 0): dswrf[("rsds", 0, 3)], **dswrf})
        _check_solar_and_mask(ds)
        (land,) = [m for m in messages if m["codes"] == (2, 0, 0, 1) and m["step"] == 0]
        _check_mask_against(ds, land)
        assert set(np.unique(ds.lsm.values)) == {0.0, 1.0}
        # the GFS grid starts at 0 E: the area across Greenwich is joined in order
        assert 0.0 in ds.longitude.values and -10.0 in ds.longitude.values
    # only the wanted messages travelled: not RH nor PRMSL
    for step in (0, 3):
        name = f"gfs.t00z.pgrb2.0p25.f{step:03d}"
        idx = (DATA / "gfs" / f"{name}.idx.txt").read_text().splitlines()
        offsets = [int(line.split(":")[1]) for line in idx]
        skipped = [o for o, line in zip(offsets, idx, strict=True) if ":RH:" in line or ":PRMSL:" in line]
        ranges = [r for u, r in gfs_service.gets if u.endswith(name) and r]
        assert ranges
        for rng in ranges:
            a, b = rng.removeprefix("bytes=").split("-")
            end = int(b) if b else 1 << 40
            assert not any(int(a) <= o <= end for o in skipped), rng
        got = sum((int(r.split("-")[1]) if r.split("-")[1] else (DATA / "gfs" / name).stat().st_size - 1)
                  - int(r.removeprefix("bytes=").split("-")[0]) + 1 for r in ranges)
        assert got < (DATA / "gfs" / name).stat().st_size


def test_precipitation_of_a_first_step_after_0(tmp_path: Path, ecmwf_service: FakeECMWF) -> None:
    """A run fetched from step 3 on: its rate is the 0-3 h mean (tp(0) = 0); step 0 alone
    has no interval, so no precipitation is written."""
    req = _request("ecmwf", steps=(3,))
    assert mf.precipitation_steps(req) == (3,)
    with xr.open_dataset(mf.fetch(req, tmp_path / "a.nc")) as ds:
        (tp3,) = [m for m in ecmwf_service.messages if m["short"] == "tp" and m["step"] == 3]
        want = _expected([tp3], lambda m: ("prate", 1000.0 / (3 * 3600.0)))
        _check_against(ds, want)
        # the solar radiation of the first step: its interval is 0-3 h too (ssrd(0) = 0)
        (ssrd3,) = [m for m in ecmwf_service.messages if m["short"] == "ssrd" and m["step"] == 3]
        _check_against(ds, _expected([ssrd3], lambda m: ("rsds", 1.0 / (3 * 3600.0))))
        assert "lsm" in ds  # the mask comes from step 0, which was not asked for
    with xr.open_dataset(mf.fetch(_request("ecmwf", steps=(0,)), tmp_path / "b.nc")) as ds:
        assert "prate" not in ds and "rsds" not in ds and "lsm" in ds
    assert mf.precipitation_steps(_request("ecmwf", steps=(6, 12))) == (3, 6, 12)
    # GFS PRATE is averaged as DSWRF: the first interval reaches back to the published step before
    assert mf.precipitation_steps(_request("gfs", steps=(6, 12))) == mf.solar_steps(_request("gfs", steps=(6, 12)))
    assert mf.precipitation_steps(_request("gfs", steps=(6, 12))) == (5, 6, 12)
    for steps in ((3,), (0, 3), (6, 12), (0, 6, 9, 24)):  # ECMWF: ssrd on the steps of tp
        assert mf.solar_steps(_request("ecmwf", steps=steps)) == mf.precipitation_steps(_request("ecmwf", steps=steps))


def test_gfs_solar_radiation_undoes_the_6_hour_averages() -> None:
    """GFS DSWRF is a mean from the last 6 h boundary (0-3, 0-6, 6-9, 6-12 h ...): the
    mean between two lead times comes from the integrals, e.g. 3-6 h = (6 A06 - 3 A03) / 3."""
    one = np.ones((1, 2))
    a03, a06, a09, a12 = 100.0 * one, 200.0 * one, 50.0 * one, 80.0 * one
    req = _request("gfs", steps=(0, 3, 6, 9, 12))
    assert mf.solar_steps(req) == (3, 6, 9, 12)
    got = mf.solar_radiation(req, {3: (0, a03), 6: (0, a06), 9: (6, a09), 12: (6, a12)})
    want = np.stack([a03, a03, (6 * a06 - 3 * a03) / 3, a09, (6 * a12 - 3 * a09) / 3])
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(got[2], 300.0)
    # an interval across a 6 h boundary needs that boundary's 0-6 h mean: 4-8 h
    req = _request("gfs", steps=(0, 4, 8))
    assert mf.solar_steps(req) == (4, 6, 8)
    a04, a08 = 120.0 * one, 60.0 * one
    got = mf.solar_radiation(req, {4: (0, a04), 6: (0, a06), 8: (6, a08)})
    np.testing.assert_allclose(got[2], (2 * a08 + (6 * a06 - 4 * a04)) / 4)
    np.testing.assert_allclose(got[0], a04)
    # a first step after 0 starts at the published step before it (hourly GFS: 2 h)
    assert mf.solar_steps(_request("gfs", steps=(3,))) == (2, 3)
    assert mf.solar_steps(_request("gfs", steps=(0,))) == ()
    with pytest.raises(mf.MetFetchError, match="lacks the solar radiation of step 6 h"):
        mf.solar_radiation(_request("gfs", steps=(0, 3, 6, 9)), {3: (0, a03), 9: (6, a09)})


def test_gfs_precipitation_rate_undoes_the_6_hour_averages() -> None:
    """GFS PRATE is averaged over the same 6-hourly windows as DSWRF: the rate at 6 h is
    the 3-6 h mean (6 A06 - 3 A03) / 3, not the 0-6 h mean the f006 file holds."""
    one = np.ones((1, 2))
    a03, a06, a09, a12 = 1e-4 * one, 2e-4 * one, 0.5e-4 * one, 0.8e-4 * one
    req = _request("gfs", steps=(0, 3, 6, 9, 12))
    assert mf.precipitation_steps(req) == (3, 6, 9, 12)
    got = mf.precipitation_rate(req, {3: (0, a03), 6: (0, a06), 9: (6, a09), 12: (6, a12)})
    np.testing.assert_allclose(got, np.stack([a03, a03, 3e-4 * one, a09, 1.1e-4 * one]), rtol=1e-12)
    with pytest.raises(mf.MetFetchError, match="lacks the precipitation of step 6 h"):
        mf.precipitation_rate(req, {3: (0, a03), 9: (6, a09), 12: (6, a12)})


def test_ecmwf_solar_radiation_differences_the_accumulation() -> None:
    one = np.ones((2, 1))
    acc = {3: 3 * 3600.0 * 150.0 * one, 6: (3 * 3600.0 * 150.0 + 3 * 3600.0 * 90.0) * one}
    req = _request("ecmwf", steps=(0, 3, 6))
    got = mf.solar_radiation(req, {s: (0, a / (3600.0 * s)) for s, a in acc.items()})
    np.testing.assert_allclose(got[:, 0, 0], [150.0, 150.0, 90.0])


def test_idx_ranges_merge_neighbours_and_name_missing_fields() -> None:
    idx = ("1:0:d=2024010100:PRMSL:mean sea level:anl:\n2:100:d=2024010100:UGRD:850 mb:anl:\n"
           "3:250:d=2024010100:VGRD:850 mb:anl:\n4:400:d=2024010100:RH:850 mb:anl:\n"
           "5:480:d=2024010100:HPBL:surface:anl:\n")
    req = _request("gfs")
    ranges = mf._idx_ranges(idx, {("UGRD", "850 mb"), ("VGRD", "850 mb"), ("HPBL", "surface")}, "u", req)
    assert ranges == [(100, 399), (480, None)]
    with pytest.raises(mf.MetFetchError, match="lists no TMP at 850 mb"):
        mf._idx_ranges(idx, {("TMP", "850 mb")}, "u", req)
    with pytest.raises(mf.MetFetchError, match="holds the run 2024010112"):
        mf._idx_ranges(idx.replace("2024010100", "2024010112"), {("UGRD", "850 mb")}, "u", req)


# --------------------------------------------------------------------------- readers

def test_output_is_read_by_open_wind(tmp_path: Path, ecmwf_service: FakeECMWF) -> None:
    from plumecast.met import open_wind

    out = mf.fetch(_request("ecmwf"), tmp_path / "fc.nc")
    w = open_wind(out, level_hpa=850)
    with xr.open_dataset(out) as ds:
        np.testing.assert_allclose(w.u.values, ds.u.sel(level=850.0).values, rtol=1e-6)
        np.testing.assert_allclose(w.v.values, ds.v.sel(level=850.0).values, rtol=1e-6)
        np.testing.assert_array_equal(w.time.values, ds.time.values)
        np.testing.assert_allclose(w.lat.values, ds.latitude.values)
        np.testing.assert_allclose(w.lon.values, ds.longitude.values)


@pytest.mark.parametrize(("source", "ground"), [("gfs", "'orog'"), ("ecmwf", "'zs'")])
def test_output_is_read_by_the_3d_reader(tmp_path: Path, gfs_service: FakeGFS, ecmwf_service: FakeECMWF,
                                         source: str, ground: str) -> None:
    import plumecast.met as met

    out = mf.fetch(_request(source), tmp_path / "fc.nc")
    ds3 = met.open_met_3d(out)
    with xr.open_dataset(out) as ds:
        assert ds3.sizes["time"] == 2 and ds3.sizes["level"] == 3
        got = ds3.u.sel(level=850.0).isel(time=1).values
        np.testing.assert_allclose(got, ds.u.sel(level=850.0).isel(time=1).values, rtol=1e-6)
    if hasattr(met, "wind_grid_3d"):  # every field is taken up: ground, omega, 10 m wind
        text = " ".join(met.wind_grid_3d(ds3, records=slice(0, 2)).provenance)
        for needle in (ground, "omega 'w' [Pa s-1]", "'u10'", "'prate'", "'rsds'") + (
                ("'blh'",) if source == "gfs" else ()):
            assert needle in text, text


@pytest.mark.parametrize("source", ["ecmwf", "gfs"])
def test_rsds_is_the_stomata_solar_radiation(tmp_path: Path, gfs_service: FakeGFS, ecmwf_service: FakeECMWF,
                                             source: str) -> None:
    """The 3-D reader takes rsds as the solar radiation at the ground (its 'solar'
    field, W m-2 as it is): the first stomata slot of the WindGrid is rsds; and lsm
    as its land fraction (WindGrid.land, for the land-water mosaic of dry deposition)."""
    import plumecast.met as met

    out = mf.fetch(_request(source), tmp_path / "fc.nc")
    ds3 = met.open_met_3d(out)
    assert "solar" in ds3 and "'rsds'" in ds3["solar"].attrs["plumecast_from"]
    grid = met.wind_grid_3d(ds3, records=slice(0, 2))
    assert grid.stomata is not None and grid.stomata.shape[:2] == (2, 2)
    with xr.open_dataset(out) as ds:
        assert grid.stomata.shape[2:] == ds.rsds.shape[1:]
        np.testing.assert_allclose(ds3["lat"].values, ds.latitude.values)
        np.testing.assert_allclose(ds3["lon"].values, ds.longitude.values)
        np.testing.assert_allclose(grid.stomata[:, 0], ds.rsds.values, rtol=1e-6)
        assert grid.land is not None and "'lsm'" in ds3["land"].attrs["plumecast_from"]
        np.testing.assert_allclose(grid.land, ds.lsm.values, atol=1e-6)
        assert 0.0 < float(grid.land.mean()) < 1.0


@pytest.mark.parametrize("source", ["ecmwf", "gfs"])
def test_output_passes_the_cf_checker(tmp_path: Path, gfs_service: FakeGFS, ecmwf_service: FakeECMWF,
                                      source: str) -> None:
    pytest.importorskip("compliance_checker")
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    out = mf.fetch(_request(source), tmp_path / "fc.nc")
    CheckSuite.load_all_available_checkers()
    report = tmp_path / "cf.txt"
    passed, _ = ComplianceChecker.run_checker(str(out), ["cf:1.8"], 0, "normal",
                                              output_filename=str(report), output_format="text")
    assert passed, report.read_text()


# --------------------------------------------------------------------------- failures

def test_missing_field_is_named_and_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    online: None) -> None:
    _install(monkeypatch, FakeECMWF(drop={("t", 500)}))
    with pytest.raises(mf.MetFetchError, match="lacks t at 500 hPa, step 0 h"):
        mf.fetch(_request("ecmwf"), tmp_path / "fc.nc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("drop", "needle"), [
    (("ssrd", 0), "lacks the solar radiation of step 3 h; expected it for every lead time after 0"),
    (("lsm", 0), "lacks the land-sea mask (lsm, step 0 h); expected it once for the area"),
])
def test_missing_solar_or_mask_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, online: None,
                                        drop: tuple[str, int], needle: str) -> None:
    _install(monkeypatch, FakeECMWF(drop={drop}))
    with pytest.raises(mf.MetFetchError) as info:
        mf.fetch(_request("ecmwf"), tmp_path / "fc.nc")
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("missing", "comment"), [
    (("lsm",), "data.ecmwf.int offered no land-sea mask (lsm) for this run: the file has none, and plumecast "
               "runs take the shipped Natural Earth land for dry deposition"),
    (("ssrd",), "data.ecmwf.int offered no solar radiation (ssrd) for this run: the file has none, and plumecast "
                "runs take the declared solar radiation for the stomata"),
    (("lsm", "ssrd"), "data.ecmwf.int offered no land-sea mask (lsm) and no solar radiation (ssrd) for this run: "
                      "the file has none, and plumecast runs take the shipped Natural Earth land for dry "
                      "deposition and the declared solar radiation for the stomata"),
])
def test_ecmwf_service_without_lsm_or_ssrd_gives_a_file_without_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, online: None, missing: tuple[str, ...], comment: str) -> None:
    """A service whose index lists no lsm (or no ssrd): ecmwf-opendata raises
    ValueError('Cannot find index entries ...') for a request of that field alone; the
    file goes without it and says so (runs then take the Natural Earth land, the declared
    radiation), with the precipitation still there; another failure of that request still
    stops the download."""
    fake = FakeECMWF()

    def retrieve(self: Any, request: Any = None, target: Any = None, **kw: Any) -> Any:
        if kw.get("param") in [[m] for m in missing]:
            raise ValueError(f"Cannot find index entries matching {kw!r}")
        return fake(self, request, target, **kw)

    monkeypatch.setattr(opendata.Client, "retrieve", retrieve)
    with xr.open_dataset(mf.fetch(_request("ecmwf"), tmp_path / "fc.nc")) as ds:
        assert ("lsm" in ds) is ("lsm" not in missing) and ("rsds" in ds) is ("ssrd" not in missing)
        assert "prate" in ds
        assert ds.attrs["comment"] == comment

    def refused(self: Any, request: Any = None, target: Any = None, **kw: Any) -> Any:
        if kw.get("param") == ["lsm"]:
            raise ConnectionError("connection reset by peer")
        return fake(self, request, target, **kw)

    monkeypatch.setattr(opendata.Client, "retrieve", refused)
    with pytest.raises(mf.MetFetchError, match="cannot reach data.ecmwf.int"):
        mf.fetch(_request("ecmwf"), tmp_path / "fc2.nc")
    assert not (tmp_path / "fc2.nc").exists()


@pytest.mark.parametrize("var", ["DSWRF", "LAND"])
def test_gfs_missing_solar_or_mask_is_named(tmp_path: Path, gfs_service: FakeGFS, var: str) -> None:
    gfs_service.drop = var
    with pytest.raises(mf.MetFetchError) as info:
        mf.fetch(_request("gfs"), tmp_path / "gfs.nc")
    step = 3 if var == "DSWRF" else 0
    assert str(info.value) == (f"{mf.GFS_MIRRORS['aws']}/gfs.20240101/00/atmos/gfs.t00z.pgrb2.0p25.f{step:03d}.idx: "
                               f"lists no {var} at surface; expected every requested field in the GFS file")
    assert list(tmp_path.iterdir()) == []


def _std_height(p_hpa: np.ndarray) -> np.ndarray:
    """ICAO standard atmosphere height [m] of pressure p (troposphere; ICAO Doc 7488)."""
    return 288.15 / 0.0065 * (1.0 - (p_hpa / 1013.25) ** (287.05 * 0.0065 / G0))


def test_surface_geopotential_in_the_standard_atmosphere() -> None:
    """Ground heights diagnosed from sp in a standard atmosphere are the standard
    heights of sp: between levels, below the lowest level and above the highest."""
    levels = (1000, 925, 850, 700)
    p = np.asarray(levels, dtype=float)
    z = (_std_height(p) * G0)[None, :, None, None] * np.ones((2, 4, 1, 3))
    t = (288.15 - 0.0065 * _std_height(p))[None, :, None, None] * np.ones((2, 4, 1, 3))
    sp_hpa = np.array([[[1030.0, 960.0, 780.0]], [[1000.0, 850.0, 650.0]]])
    zs = mf.surface_geopotential(z, t, sp_hpa * 100.0, levels)
    assert zs.shape == (2, 1, 3)
    np.testing.assert_allclose(zs / G0, _std_height(sp_hpa), atol=12.0)
    np.testing.assert_allclose(zs[1, 0, :2] / G0, _std_height(np.array([1000.0, 850.0])), atol=1e-6)


def test_parse_steps_levels() -> None:
    assert mf.parse_steps("0-12/3,24, 6") == (0, 3, 6, 9, 12, 24)
    assert mf.parse_levels("500,1000,850") == (1000, 850, 500)
    for bad in ("3-0", "a", "0-6/0", "1.5"):
        with pytest.raises(mf.MetFetchError, match="--steps"):
            mf.parse_steps(bad)
    with pytest.raises(mf.MetFetchError, match="--levels"):
        mf.parse_levels("850,x")


def test_request_checks() -> None:
    with pytest.raises(mf.MetFetchError, match="--levels: 975 hPa not in the ECMWF files"):
        mf.FetchRequest("ecmwf", dt.date(2024, 1, 1), 0, (0,), mf.parse_area(AREA), (975,)).check()
    mf.FetchRequest("gfs", dt.date(2024, 1, 1), 0, (1, 2), mf.parse_area(AREA), (975, 850)).check()
    # refused before any download (met audit, session 30): one level; an area of fewer than 2 x 2 grid points
    with pytest.raises(mf.MetFetchError, match="--levels 850: one pressure level; expected at least two"):
        mf.FetchRequest("gfs", dt.date(2024, 1, 1), 0, (1,), mf.parse_area(AREA), (850,)).check()
    with pytest.raises(mf.MetFetchError, match=r"--area 50.1,5,50,5.1: holds 1 x 1 points of the 0.25 degree grid"):
        mf.FetchRequest("gfs", dt.date(2024, 1, 1), 0, (1,), mf.parse_area("50.1,5,50,5.1")).check()
    mf.FetchRequest("gfs", dt.date(2024, 1, 1), 0, (1,), mf.parse_area("50.25,5,50,5.25")).check()  # 2 x 2
    with pytest.raises(mf.MetFetchError, match=r"holds 2 x 1 points"):  # 180 is -180 to the decoder
        mf.FetchRequest("gfs", dt.date(2024, 1, 1), 0, (1,), mf.parse_area("50.25,179.75,50,180")).check()
    with pytest.raises(mf.MetFetchError, match="93 h not produced"):
        mf.FetchRequest("ecmwf", dt.date(2024, 1, 1), 6, (93,), mf.parse_area(AREA)).check()
    with pytest.raises(mf.MetFetchError, match="--cycle 3"):
        mf.FetchRequest("gfs", dt.date(2024, 1, 1), 3, (0,), mf.parse_area(AREA)).check()
    with pytest.raises(mf.MetFetchError, match="--mirror 'nomads'"):
        mf.FetchRequest("ecmwf", dt.date(2024, 1, 1), 0, (0,), mf.parse_area(AREA), mirror="nomads").check()
    with pytest.raises(mf.MetFetchError, match="starts in the future"):
        mf.FetchRequest("ecmwf", dt.date(2024, 1, 1), 12, (0,), mf.parse_area(AREA)).check(
            now=dt.datetime(2024, 1, 1, 11))


# --------------------------------------------------------------------------- command line

_cli = run_cli


def _args(out: Path, *extra: str) -> list[str]:
    return ["met", "fetch", "--source", "ecmwf", "--date", "2024-01-01", "--cycle", "0", "--steps", "0,3",
            "--levels", "1000,850,500", "--area", AREA, "-o", str(out), *extra]


def _error_lines(text: str) -> list[str]:
    assert "Traceback" not in text
    return [line for line in text.splitlines() if line.startswith("error:")]


def test_cli_fetch(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                   ecmwf_service: FakeECMWF) -> None:
    rc, text = _cli(_args(tmp_path / "fc.nc"), capsys, monkeypatch)
    assert rc == 0, text
    assert "written:" in text and "CC BY 4.0" in text
    with xr.open_dataset(tmp_path / "fc.nc") as ds:
        _check_form(ds)


def test_cli_no_network(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*a: Any, **k: Any) -> Any:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr("urllib.request.getproxies", lambda: {})
    for source, host in (("ecmwf", "data.ecmwf.int"), ("gfs", "noaa-gfs-bdp-pds.s3.amazonaws.com")):
        args = _args(tmp_path / "fc.nc")
        args[args.index("ecmwf")] = source
        rc, text = _cli(args, capsys, monkeypatch)
        assert rc == 2
        errors = _error_lines(text)
        assert len(errors) == 1 and f"cannot reach {host}" in errors[0] and "(no network?)" in errors[0], text
        assert not (tmp_path / "fc.nc").exists()
    # the folders the output would have gone into are not left behind, empty
    rc, text = _cli(_args(tmp_path / "new" / "deeper" / "fc.nc"), capsys, monkeypatch)
    assert rc == 2 and not (tmp_path / "new").exists(), text


def test_cli_connection_lost_during_download(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch, online: None) -> None:
    def refused(self: Any, *a: Any, **k: Any) -> None:
        raise requests.ConnectionError("HTTPSConnectionPool(host='data.ecmwf.int', port=443): Max retries "
                                       "exceeded (Caused by NewConnectionError('Connection refused'))")

    monkeypatch.setattr(opendata.Client, "retrieve", refused)
    rc, text = _cli(_args(tmp_path / "fc.nc"), capsys, monkeypatch)
    assert rc == 2
    assert _error_lines(text) == ["error: cannot reach data.ecmwf.int: connection refused (no network?)"]
    assert list(tmp_path.iterdir()) == []


def test_cli_run_not_on_the_server(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch, ecmwf_service: FakeECMWF) -> None:
    args = _args(tmp_path / "fc.nc")
    args[args.index("0,3")] = "0,3,6"
    rc, text = _cli(args, capsys, monkeypatch)
    assert rc == 2
    (line,) = _error_lines(text)
    assert "data.ecmwf.int has no forecast of ECMWF IFS open data 2024-01-01 00 UTC (HTTP 404" in line
    assert "--mirror aws" in line
    assert list(tmp_path.iterdir()) == []


def test_gfs_step_not_on_the_server(tmp_path: Path, gfs_service: FakeGFS) -> None:
    with pytest.raises(mf.MetFetchError) as info:
        mf.fetch(_request("gfs", steps=(0, 6)), tmp_path / "gfs.nc")
    assert str(info.value) == ("noaa-gfs-bdp-pds.s3.amazonaws.com has no GFS file of NOAA GFS 2024-01-01 00 UTC "
                               f"(HTTP 404 for {mf.GFS_MIRRORS['aws']}/gfs.20240101/00/atmos/"
                               "gfs.t00z.pgrb2.0p25.f006.idx)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--date", "2024-02-30", "--date '2024-02-30': expected a date as YYYY-MM-DD"),
    ("--date", "yesterday", "--date 'yesterday'"),
    ("--area", "60,-10,35", "--area '60,-10,35': expected four numbers N,W,S,E"),
    ("--area", "35,-10,60,30", "expected latitudes -90 <= S < N <= 90"),
    ("--area", "60,30,35,-10", "expected longitudes -180 <= W < E <= 180"),
    ("--area", "60,-10,35,200", "expected longitudes -180 <= W < E <= 180"),
    ("--area", "50.2,0.1,50.1,0.2", "holds 0 x 0 points of the 0.25 degree grid of ECMWF IFS open data 2024-01-01 00 UTC; expected at least 2 x 2"),
    ("--steps", "0,4", "--steps: 4 h not produced"),
    ("--source", "icon", "--source 'icon': expected one of ecmwf, gfs"),
])
def test_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                       ecmwf_service: FakeECMWF, option: str, value: str, needle: str) -> None:
    args = _args(tmp_path / "fc.nc")
    args[args.index(option) + 1] = value
    rc, text = _cli(args, capsys, monkeypatch)
    assert rc == 2
    (line,) = _error_lines(text)
    assert needle in line, line
    assert list(tmp_path.iterdir()) == []


def test_cli_existing_output_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch, ecmwf_service: FakeECMWF) -> None:
    out = tmp_path / "fc.nc"
    out.write_text("keep me")
    rc, text = _cli(_args(out), capsys, monkeypatch)
    assert rc == 2
    (line,) = _error_lines(text)
    assert f"{out}: exists; pass --force to replace it" in line
    assert out.read_text() == "keep me" and ecmwf_service.calls == []  # refused before downloading
    rc, text = _cli(_args(out, "--force"), capsys, monkeypatch)
    assert rc == 0, text
    with xr.open_dataset(out) as ds:
        assert ds.sizes["level"] == 3


def test_missing_optional_package_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch, online: None) -> None:
    monkeypatch.setitem(sys.modules, "ecmwf.opendata", None)  # import fails as if not installed
    rc, text = _cli(_args(tmp_path / "fc.nc"), capsys, monkeypatch)
    assert rc == 2
    (line,) = _error_lines(text)
    assert "'ecmwf'" in line and 'pip install "plumecast[fetch]"' in line
    assert "downloading" not in text  # said before announcing a download it cannot make
    assert not (tmp_path / "fc.nc").exists()
    with pytest.raises(OutputPathError):
        mf.check_output_file(tmp_path, force=False)  # a folder is not an output file
