"""The dashboard's HTTP API through FastAPI's test client: content, read-only,
path traversal, malformed folders."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from plumecast.web.app import create_app, resolve_result_file  # noqa: E402

SECRET = "TOPSECRET-not-for-the-dashboard"


def client_for(folder: Path) -> TestClient:
    return TestClient(create_app(folder), base_url="http://127.0.0.1:8765")


@pytest.fixture()
def run_copy(tmp_path: Path, run_dir: Path) -> Path:
    """A copy of the tiny run, with a secret beside it and links leading out of it."""
    folder = tmp_path / "results"
    shutil.copytree(run_dir, folder)
    (tmp_path / "secret.csv").write_text(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text(SECRET)
    os.symlink(tmp_path / "secret.csv", folder / "link.csv")
    os.symlink(tmp_path / "outside", folder / "linkdir")
    (folder / ".hidden.csv").write_text(SECRET)
    return folder


# ------------------------------------------------------------------ content


def test_summary_and_view_of_a_run(run_dir: Path) -> None:
    c = client_for(run_dir)
    s = c.get("/api/summary").json()
    assert s["usable"] and [v["id"] for v in s["views"]] == ["run"]
    assert s["title"] == "tokyo-bay-test"
    assert s["problems"] == []
    assert {"concentration_animation.gif", "concentration.nc", "dashboard.json"} <= set(s["files"])
    from plumecast.web import app, views

    assert set(views.RESULT_SUFFIXES) == set(app.RESULT_SUFFIXES)  # what is linked is what is served
    v = c.get("/api/view/run").json()
    cons = xr.open_dataset(run_dir / "consequences.nc")
    conc = xr.open_dataset(run_dir / "concentration.nc")
    assert v["n_frames"] == conc.sizes["time"] == 12
    assert [r["name"] for r in v["receptors"]] == [str(n) for n in cons["name"].values]
    # the page's "% of AEGL-3" follows plumecast.consequence: its peak is the file's peak_percent_aegl3
    pct = np.array([[np.nan if x is None else x for x in row] for row in v["pct3"]])
    np.testing.assert_allclose(np.nanmax(pct, axis=0), cons["peak_percent_aegl3"].values, rtol=1e-3)
    # first exceedances in seconds after the start
    tokyo = next(r for r in v["receptors"] if r["name"] == "Tokyo")
    t2 = (cons["first_exceedance_aegl2"].values[0] - np.datetime64("2026-03-01T00:00")) / np.timedelta64(1, "s")
    assert tokyo["first"]["2"] == pytest.approx(float(t2))
    # unknown population stays unknown (JSON null), never 0
    light = next(r for r in v["receptors"] if r["name"] == "Lighthouse")
    assert light["population"] is None and light["fatalities"] is None
    assert v["aegl"]["3"]["60min"] > v["aegl"]["2"]["60min"] > v["aegl"]["1"]["60min"] > 0
    # the scale reaches the data's maximum, and the 1-h AEGL-3 when that is not far above it
    cmax, a3 = float(conc["concentration"].max()), v["aegl"]["3"]["60min"]
    expected = 1.2 * a3 if cmax < a3 <= 100 * cmax else cmax
    assert v["scale"]["vmax"] == pytest.approx(expected, rel=1e-6)
    # the totals' range is the range of the totals over the probit sets, as the console's (regression audit:
    # the page summed each receptor's lowest and highest set)
    per_set = np.nansum(cons["fatalities_by_probit_set"].values, axis=0)
    assert v["totals"]["fatalities_low"] == pytest.approx(float(per_set.min()), rel=1e-9)
    assert v["totals"]["fatalities_high"] == pytest.approx(float(per_set.max()), rel=1e-9)
    # and the sheltered total's range likewise (the page had shown it without one: web audit)
    shel = np.nansum(cons["fatalities_sheltered_by_probit_set"].values, axis=0)
    assert v["totals"]["fatalities_sheltered_low"] == pytest.approx(float(shel.min()), rel=1e-9)
    assert v["totals"]["fatalities_sheltered_high"] == pytest.approx(float(shel.max()), rel=1e-9)
    assert shel.max() > shel.min()  # the tiny run's probit sets differ (a range to show)


def test_frames_are_log_quantised_and_change_with_time(run_dir: Path) -> None:
    c = client_for(run_dir)
    v = c.get("/api/view/run").json()
    n = v["grid"]["nlat"] * v["grid"]["nlon"]
    f2 = np.frombuffer(c.get("/api/view/run/frame/2").content, np.uint8)
    f9 = np.frombuffer(c.get("/api/view/run/frame/9").content, np.uint8)
    assert f2.size == f9.size == n
    assert not np.array_equal(f2, f9)
    # the decoding inverts the coding (to the 1/254 of the log range a byte resolves)
    conc = xr.open_dataset(run_dir / "concentration.nc")["concentration"]
    k = int(np.argmax(conc.max(["lat", "lon"]).values))
    fk = np.frombuffer(c.get(f"/api/view/run/frame/{k}").content, np.uint8)
    vals = np.asarray(conc.isel(time=k).sortby("lat", ascending=False).values, float).ravel()
    s = v["scale"]
    coded = fk > 0
    decoded = s["vmin"] * (s["vmax"] / s["vmin"]) ** ((fk[coded] - 1) / 254.0)
    np.testing.assert_allclose(decoded, vals[coded], rtol=0.03)
    assert np.all(vals[~coded] < s["vmin"])
    assert c.get("/api/view/run/frame/99").status_code == 404


def test_receptor_series_has_aegl_curves(run_dir: Path) -> None:
    c = client_for(run_dir)
    d = c.get("/api/view/run/receptor/0").json()
    assert d["receptor"]["name"] == "Tokyo"
    a1, a2, a3 = (np.array(d["aegl"][k], float) for k in "123")
    assert np.all(a1 < a2) and np.all(a2 < a3)
    # the AEGL for the elapsed exposure falls as the exposure lengthens (never rises)
    assert np.all(np.diff(a3) <= 1e-12 * a3[0])
    assert len(d["conc"]) == len(d["time_s"]) == len(d["indoor"])
    assert c.get("/api/view/run/receptor/99").status_code == 404


def test_search_finds_tokyo_and_accented_names(run_dir: Path) -> None:
    c = client_for(run_dir)
    hits = c.get("/api/search", params={"q": "tokyo"}).json()["results"]
    assert hits[0]["name"] == "Tokyo" and hits[0]["receptor"] == 0
    hits = c.get("/api/search", params={"q": "sao paulo"}).json()["results"]
    assert hits[0]["name"] == "São Paulo" and hits[0]["receptor"] is None
    assert c.get("/api/search", params={"q": ""}).json()["results"] == []


def test_point_series_for_a_city_that_is_not_a_receptor(run_dir: Path) -> None:
    c = client_for(run_dir)
    d = c.get("/api/view/run/point", params={"lat": 35.33, "lon": 139.4, "name": "Fujisawa"}).json()
    assert len(d["conc"]) == 12 and "output cell" in d["source"]
    # outside the domain: an answer about the place (unknown, and why), not a failed request
    r = c.get("/api/view/run/point", params={"lat": 48.85, "lon": 2.35, "name": "Paris"})
    assert r.status_code == 200 and r.json()["known"] is False and r.json()["outside"] is True
    assert "outside the forecast domain" in r.json()["source"] and r.json()["conc"] == []


def test_point_at_a_receptor_is_that_receptor(run_dir: Path) -> None:
    """A point query at a receptor's position (exact, or a few hundred metres off) answers with
    that receptor's own series, not "not a receptor" (longitudes west of 0 given as 0..360: the
    doctest of receptor_at)."""
    c = client_for(run_dir)
    recs = c.get("/api/view/run").json()["receptors"]
    for want in ("Tokyo", "Lighthouse"):  # a city receptor and a point of receptors.points
        r = next(x for x in recs if x["name"] == want)
        own = c.get(f"/api/view/run/receptor/{r['id']}").json()
        for lat, lon in ((r["lat"], r["lon"]), (r["lat"], r["lon"] + 0.003), (r["lat"] + 0.003, r["lon"])):
            d = c.get("/api/view/run/point", params={"lat": lat, "lon": lon, "name": want}).json()
            assert d["receptor"]["id"] == r["id"] and d["receptor"]["name"] == want, (want, lat, lon)
            assert "not a receptor" not in d["source"] and f"receptor {want!r} of this run" in d["source"]
            assert d["conc"] == own["conc"] and d["aegl"] == own["aegl"]
    # 0.1° away (about 10 km) is no longer the receptor: the grid cell, said to be one
    tokyo = next(x for x in recs if x["name"] == "Tokyo")
    d = c.get("/api/view/run/point", params={"lat": tokyo["lat"] + 0.1, "lon": tokyo["lon"]}).json()
    assert "id" not in d["receptor"] and "not a receptor of this run" in d["source"]


def test_point_at_a_receptor_without_series_says_it_is_one(run_copy: Path) -> None:
    with xr.open_dataset(run_copy / "consequences.nc") as ds:
        slim = ds.drop_vars([v for v in ("concentration", "concentration_indoor") if v in ds]).load()
    slim.to_netcdf(run_copy / "consequences.nc")
    (run_copy / "receptors.csv").unlink()
    c = client_for(run_copy)
    tokyo = next(x for x in c.get("/api/view/run").json()["receptors"] if x["name"] == "Tokyo")
    d = c.get("/api/view/run/point", params={"lat": tokyo["lat"], "lon": tokyo["lon"]}).json()
    assert d["receptor"]["id"] == tokyo["id"] and "receptor 'Tokyo' of this run" in d["source"]
    assert "output cell" in d["source"] and "not a receptor" not in d["source"]


def test_geo_is_the_shipped_natural_earth(run_dir: Path) -> None:
    g = client_for(run_dir).get("/api/geo").json()
    assert g["land"].startswith("M") and g["land"].count("Z") > 100
    assert "Natural Earth" in g["credit"]


def test_compare_folder_plans_switch_the_figures(compare_dir: Path) -> None:
    c = client_for(compare_dir)
    s = c.get("/api/summary").json()
    assert [p["name"] for p in s["plans"]] == ["do nothing", "shelter from hour 1", "stop the release at hour 1"]
    assert [v["id"] for v in s["views"]] == ["plan0", "plan1", "plan2"]
    assert s["plans"][1]["has_run"] and not s["plans"][0]["has_run"]
    assert s["delay"] and s["members"] == 4
    v0, v1, v2 = (c.get(f"/api/view/plan{k}").json() for k in range(3))
    assert v0["totals"]["plan_fatalities"] != v2["totals"]["plan_fatalities"]
    # a plan without a run of its own: table and probability map, positions by name
    assert v0["n_frames"] == 0 and v0["layers"]["probability"] == ["AEGL-2", "AEGL-3"]
    tokyo = next(r for r in v0["receptors"] if r["name"] == "Tokyo")
    assert tokyo["lat"] == pytest.approx(35.6895) and tokyo["ensemble"]["p_aegl2"] == 1.0
    # the plan with a folder has the full map
    assert v1["n_frames"] == 12 and v1["pct3"] is not None
    p = np.frombuffer(c.get("/api/view/plan2/layer/AEGL-3").content, np.uint8)
    assert p.size == v1["grid"]["nlat"] * v1["grid"]["nlon"] and p.max() > 0
    assert c.get("/api/view/plan9").status_code == 404


def test_live_events(run_copy: Path) -> None:
    from plumecast.web.live import LiveFeed

    c = client_for(run_copy)
    assert c.get("/api/summary").json()["live"] is None
    feed = LiveFeed(run_copy, title="tiny")

    class P:
        step, n_steps, alive, particle_steps_per_s = 6, 36, 2500, 3.2e6
        sim_time = np.datetime64("2026-03-01T01:00")

    feed.progress(P())
    text = c.get("/api/live", params={"once": 1}).text
    assert text.startswith("event: progress")
    data = json.loads(text.split("data: ", 1)[1].split("\n", 1)[0])
    assert data["state"] == "running" and data["step"] == 6 and data["sim_time"].startswith("2026-03-01T01:00")
    feed.done()
    assert c.get("/api/summary").json()["live"]["state"] == "done"


# ------------------------------------------------------------------ read-only


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_only_get_and_head(run_dir: Path, method: str) -> None:
    c = client_for(run_dir)
    for path in ("/", "/api/summary", "/files/receptors.csv", "/static/app.js"):
        r = c.request(method, path)
        assert r.status_code == 405, (method, path)
        assert r.headers["allow"] == "GET, HEAD"
    assert (run_dir / "receptors.csv").is_file()


def test_head_and_security_headers(run_dir: Path) -> None:
    c = client_for(run_dir)
    r = c.head("/")
    assert r.status_code == 200
    r = c.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/static/app.js">' in r.text
    # nothing in the page comes from another host
    for name in ("index.html", "app.js", "core.js", "monitors.js", "plans.js", "numbers.js", "style.css"):
        body = c.get(f"/static/{name}").text
        assert "http://" not in body.replace("http://www.w3.org/2000/svg", "") and "https://" not in body, name


def test_foreign_host_header_is_refused(run_dir: Path) -> None:
    c = client_for(run_dir)
    r = c.get("/api/summary", headers={"host": "evil.example:8765"})
    assert r.status_code == 421


def test_result_files_are_served(run_copy: Path) -> None:
    c = client_for(run_copy)
    r = c.get("/files/receptors.csv")
    assert r.status_code == 200 and r.text.splitlines()[1].startswith("time_utc,Tokyo")  # after its unit line
    assert r.headers["content-security-policy"] == "sandbox"
    assert c.get("/files/concentration_animation.gif").content[:6] == b"GIF89a"


TRAVERSALS = [
    "/files/../secret.csv",
    "/files/%2e%2e/secret.csv",
    "/files/..%2fsecret.csv",
    "/files/%2e%2e%2fsecret.csv",
    "/files/..%5csecret.csv",
    "/files/%252e%252e%252fsecret.csv",
    "/files/./../secret.csv",
    "/files/plans/../../secret.csv",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    "/files/%2f%2e%2e%2fsecret.csv",
    "/files/link.csv",
    "/files/linkdir/secret.csv",
    "/files/.hidden.csv",
    "/files/receptors.csv%00.png",
    "/files/dashboard.json/../../secret.csv",
    "/static/..%2f..%2fsecret.csv",
    "/static/%2e%2e/app.py",
    "/..%2f..%2fsecret.csv",
    "/api/view/..%2f..%2fsecret.csv",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(run_copy: Path, path: str) -> None:
    c = client_for(run_copy)
    r = c.get(path)
    assert r.status_code in (403, 404), (path, r.status_code)
    assert SECRET not in r.text and "root:" not in r.text


@pytest.mark.parametrize("rel", ["../secret.csv", "/etc/passwd", "link.csv", "linkdir/secret.csv", ".hidden.csv",
                                 "a\\..\\secret.csv", "receptors.csv\x00.png", "", "plans/../../secret.csv",
                                 "concentration.py"])
def test_resolve_result_file_refuses(run_copy: Path, rel: str) -> None:
    from plumecast.web.app import Refused

    with pytest.raises(Refused):
        resolve_result_file(run_copy, rel)


# ------------------------------------------------------------------ malformed folders

ENDPOINTS = ["/", "/api/summary", "/api/view/run", "/api/view/run/frame/0", "/api/view/run/receptor/0",
             "/api/view/run/point?lat=35.6&lon=139.7", "/api/view/plan0", "/api/view/plan0/layer/AEGL-3",
             "/api/search?q=tokyo", "/api/live?once=1", "/files/receptors.csv", "/static/app.js"]


def _all_below_500(folder: Path) -> dict[str, int]:
    c = client_for(folder)
    codes = {}
    for e in ENDPOINTS:
        r = c.get(e)
        assert r.status_code < 500, (e, r.status_code, r.text[:300])
        codes[e] = r.status_code
    return codes


def test_empty_folder_gives_a_clear_page(tmp_path: Path) -> None:
    codes = _all_below_500(tmp_path)
    r = client_for(tmp_path).get("/")
    assert codes["/"] == 200 and "No results to show yet" in r.text and "concentration.nc" in r.text
    s = client_for(tmp_path).get("/api/summary").json()
    assert not s["usable"] and "holds no plumecast results" in s["problems"][0]


def test_half_written_netcdf_is_reported_not_a_500(run_copy: Path) -> None:
    data = (run_copy / "concentration.nc").read_bytes()
    (run_copy / "concentration.nc").write_bytes(data[: len(data) // 3])
    codes = _all_below_500(run_copy)
    assert codes["/"] == 200 and codes["/api/view/run/frame/0"] == 404
    s = client_for(run_copy).get("/api/summary").json()
    assert any(p.startswith("concentration.nc: cannot be read") for p in s["problems"])
    v = client_for(run_copy).get("/api/view/run").json()  # the receptors still show
    assert v["n_frames"] == 0 and len(v["receptors"]) == 6


def test_malformed_files_are_reported(run_copy: Path, compare_dir: Path) -> None:
    (run_copy / "dashboard.json").write_text("{not json")
    xr.Dataset({"x": ("y", np.arange(3.0))}).to_netcdf(run_copy / "consequences.nc")
    (run_copy / "receptors.csv").write_text("time_utc,Tokyo\n2026-03-01 00:10:00\n")
    (run_copy / "decision_table.csv").write_text('plan,members,fatalities_p5\n"do nothing",4\n')
    (run_copy / "cities.csv").write_text("")
    (run_copy / "exceedance_probability.nc").write_bytes(b"CDF\x01garbage")
    _all_below_500(run_copy)
    problems = client_for(run_copy).get("/api/summary").json()["problems"]
    text = "\n".join(problems)
    for name in ("dashboard.json", "consequences.nc", "decision_table.csv", "cities.csv", "exceedance_probability.nc"):
        assert name in text, (name, problems)


def test_folder_that_disappears(tmp_path: Path, run_dir: Path) -> None:
    folder = tmp_path / "gone"
    shutil.copytree(run_dir, folder)
    c = client_for(folder)
    assert c.get("/api/summary").json()["usable"]
    shutil.rmtree(folder)
    import plumecast.web.loader as loader

    c.app.state.folder._checked = -loader.RESTAT_S  # type: ignore[attr-defined]
    r = c.get("/")
    assert r.status_code == 200 and "not a folder" in r.text


def test_create_app_refuses_a_missing_folder(tmp_path: Path) -> None:
    from plumecast.errors import DataFileError

    with pytest.raises(DataFileError, match="not a folder"):
        create_app(tmp_path / "nope")


def test_decision_table_baseline_column_is_used(tmp_path: Path, compare_dir: Path) -> None:
    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    lines = (folder / "decision_table.csv").read_text().splitlines()
    head, rows = lines[0], lines[1:]
    # the current summary writer names the baseline in a column; put it last to be sure it is read
    rows = [r + (",True" if k == 0 else ",False") for k, r in enumerate(rows)]
    (folder / "decision_table.csv").write_text("\n".join([head + ",baseline", *rows[1:], rows[0]]) + "\n")
    plans = client_for(folder).get("/api/summary").json()["plans"]
    assert [p["baseline"] for p in plans] == [False, False, True]
    assert plans[2]["name"] == "do nothing"


def test_live_members_of_a_comparison(run_copy: Path) -> None:
    from plumecast.web.live import LiveFeed

    LiveFeed(run_copy, title="plans").members(3, 20)
    live = client_for(run_copy).get("/api/summary").json()["live"]
    assert live["state"] == "running" and live["step"] == 3 and live["n_steps"] == 20
    assert live["message"] == "3 of 20 ensemble members done"


# ------------------------------------------------------------------ audit: unknown is never "not reached"


def test_plan_table_city_unknown_in_every_member_is_unknown(tmp_path: Path, compare_dir: Path) -> None:
    """A city whose concentration no member knows (off the met domain) has empty p_aegl2/p_aegl3
    in cities.csv: the plan's table view marks it unknown (the page then says 'unknown', not
    '—' = not reached, and draws the open 'unknown' ring)."""
    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    lines = (folder / "cities.csv").read_text().splitlines()
    out = [lines[0]]
    for ln in lines[1:]:
        f = ln.split(",")
        if f[0] == "Lighthouse":
            f[3:6] = ["", "", "4"]  # p_aegl2, p_aegl3 empty, members_unknown = members
            f[6:12] = [""] * 6
        out.append(",".join(f))
    (folder / "cities.csv").write_text("\n".join(out) + "\n")
    v = client_for(folder).get("/api/view/plan0").json()  # the baseline: no run folder of its own
    rec = {r["name"]: r for r in v["receptors"]}
    assert rec["Lighthouse"]["known"] is False
    assert rec["Tokyo"]["known"] is True


def test_receptor_csv_column_without_values_is_unknown(run_copy: Path) -> None:
    """Without consequences.nc, a receptors.csv column that is not finite at every step (off
    the domain) is unknown, as plumecast.consequence says, not a known receptor at zero."""
    (run_copy / "consequences.nc").unlink()
    rows = [r for r in (run_copy / "receptors.csv").read_text().splitlines() if not r.startswith("#")]
    head = rows[0].split(",")
    j = head.index("Lighthouse")
    body = []
    for r in rows[1:]:
        f = r.split(",")
        f[j] = ""
        body.append(",".join(f))
    (run_copy / "receptors.csv").write_text("\n".join([rows[0], *body]) + "\n")
    c = client_for(run_copy)
    v = c.get("/api/view/run").json()
    rec = {r["name"]: r for r in v["receptors"]}
    assert rec["Lighthouse"]["known"] is False and rec["Tokyo"]["known"] is True
    assert all(not a for a in rec["Tokyo"]["aegl_available"].values())  # countdowns: unknown, not "—"
    # disc means in folders written before session 38: the page says its % of AEGL-3 may be lower bounds
    assert any(p.startswith("receptors.csv: each city's air is that of its row in the run's casualty table")
               and "lower bounds" in p for p in c.get("/api/summary").json()["problems"])


def test_unreadable_comparison_page_says_why(tmp_path: Path, compare_dir: Path) -> None:
    """A comparison folder whose decision table is corrupt: the page names the file and the
    reason, not only 'the folder holds no results'."""
    folder = tmp_path / "cmp"
    folder.mkdir()
    (folder / "decision_table.csv").write_text('plan,members,fatalities_p5\n"do nothing",4\n')
    r = client_for(folder).get("/")
    assert r.status_code == 200 and "decision_table.csv: cannot be read" in r.text, r.text
    assert "Traceback" not in r.text


# ------------------------------------------------------------------ audit: countdowns of a comparison never err late


def _tokyo_aegl2_s(folder: Path, plan: str = "do nothing") -> float:
    import csv

    row = next(r for r in csv.DictReader((folder / "cities.csv").open()) if r["city"] == "Tokyo" and r["plan"] == plan)
    return float(row["aegl2_arrival_h_min"]) * 3600.0


def test_comparison_countdowns_run_from_the_issue_time(tmp_path: Path, compare_dir: Path) -> None:
    """Issued 2 h after the release start: a plan shown from its table gets the release start and
    the issue time from comparison.json, so its countdowns run from the issue time, not the start."""
    from tests.web.conftest import write_record

    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    write_record(folder, issued="2026-03-01T02:00:00Z")
    c = client_for(folder)
    v = c.get("/api/view/plan0").json()  # the baseline: no run folder of its own
    assert v["start"] == "2026-03-01T00:00:00Z"
    assert v["issued_s"] == 7200.0 and v["issued_unknown"] is None
    assert v["times_s"][0] == 0.0 and v["times_s"][-1] >= 6 * 3600.0  # the run's 6 h at least
    tokyo = next(r for r in v["receptors"] if r["name"] == "Tokyo")
    assert tokyo["first"]["2"] == pytest.approx(_tokyo_aegl2_s(folder))  # hours after the release start
    assert not [p for p in c.get("/api/summary").json()["problems"] if "comparison.json" in p]
    # the plan with a run folder of its own keeps its dashboard.json's times
    v1 = c.get("/api/view/plan1").json()
    assert v1["start"] == "2026-03-01T00:00:00Z" and v1.get("issued_unknown") is None


def test_comparison_issued_at_the_start_counts_from_the_start(compare_dir: Path) -> None:
    v = client_for(compare_dir).get("/api/view/plan0").json()
    assert v["start"] == "2026-03-01T00:00:00Z" and v["issued_s"] == 0.0 and v["issued_unknown"] is None


def test_comparison_without_record_still_loads_and_says_why(tmp_path: Path, compare_dir: Path) -> None:
    """A comparison written before comparison.json: it loads as before, its table plans count from
    the release start, and the view and the problems say the issue time is unknown."""
    folder = tmp_path / "old"
    shutil.copytree(compare_dir, folder)
    (folder / "comparison.json").unlink()
    c = client_for(folder)
    s = c.get("/api/summary").json()
    assert s["usable"] and [p["name"] for p in s["plans"]][0] == "do nothing"
    assert any(p.startswith("comparison.json: missing") and "release start" in p for p in s["problems"]), s["problems"]
    v = c.get("/api/view/plan0").json()
    assert v["start"] is None and v["issued_s"] == 0.0
    assert "issue time" in v["issued_unknown"] and "decision_table.md" in v["issued_unknown"]
    assert len(v["times_s"]) == 73  # the default 72 h, as before
    assert c.get("/").status_code == 200


@pytest.mark.parametrize("text", ["{not json", '["a list"]', '{"release_start": "yesterday", "issued_at": null}',
                                  '{"release_start": "2026-03-01T00:00:00+05:00", "issued_at": "2026-03-01T02:00:00Z"}'])
def test_unreadable_comparison_record_is_a_problem_not_a_guess(tmp_path: Path, compare_dir: Path, text: str) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(compare_dir, folder)
    (folder / "comparison.json").write_text(text)
    c = client_for(folder)
    problems = c.get("/api/summary").json()["problems"]
    assert any(p.startswith("comparison.json: cannot be read") for p in problems), problems
    v = c.get("/api/view/plan0").json()
    assert v["issued_s"] == 0.0 and "issue time" in v["issued_unknown"]


def test_comparison_record_without_issue_time(tmp_path: Path, compare_dir: Path) -> None:
    """A record with the start but no issue time (a comparison without a scenario): times from the start,
    the issue time unknown, said."""
    from tests.web.conftest import write_record

    folder = tmp_path / "noissue"
    shutil.copytree(compare_dir, folder)
    write_record(folder, issued=None)
    c = client_for(folder)
    v = c.get("/api/view/plan0").json()
    assert v["start"] == "2026-03-01T00:00:00Z" and v["issued_s"] == 0.0 and "no issue time" in v["issued_unknown"]
    assert any(p.startswith("comparison.json: incomplete") for p in c.get("/api/summary").json()["problems"])


def test_a_new_record_reloads_the_folder(tmp_path: Path, compare_dir: Path) -> None:
    import plumecast.web.loader as loader
    from tests.web.conftest import write_record

    folder = tmp_path / "reload"
    shutil.copytree(compare_dir, folder)
    c = client_for(folder)
    assert c.get("/api/view/plan0").json()["issued_s"] == 0.0
    path = write_record(folder, issued="2026-03-01T02:00:00Z")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    c.app.state.folder._checked = -loader.RESTAT_S  # type: ignore[attr-defined]
    assert c.get("/api/view/plan0").json()["issued_s"] == 7200.0


def test_a_run_folder_without_an_issue_time_says_its_countdowns_run_from_the_start(tmp_path: Path,
                                                                                    run_dir: Path) -> None:
    """dashboard.json's issue time first; without it (missing, or not a date) consequences.nc's
    issued_at (the page had counted from the release start, 1 h late for a forecast issued 1 h
    after it: web audit); with neither, the countdowns run from the start and the top of the
    page says so."""
    import json

    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    v = client_for(folder).get("/api/view/run").json()
    assert v["issued_unknown"] is None  # dashboard.json gives the issue time
    with xr.open_dataset(folder / "consequences.nc") as ds:
        cons = ds.load()
    cons.attrs["issued_at"] = "2026-03-01T01:00:00Z"  # the tiny run's start is 00:00 UTC
    cons.to_netcdf(folder / "consequences.nc")
    meta = json.loads((folder / "dashboard.json").read_text())
    del meta["scenario"]["issued"]
    (folder / "dashboard.json").write_text(json.dumps(meta))
    v = client_for(folder).get("/api/view/run").json()
    assert v["issued_unknown"] is None and v["issued_s"] == 3600.0  # from consequences.nc
    meta["scenario"]["issued"] = "tomorrow"
    (folder / "dashboard.json").write_text(json.dumps(meta))
    (folder / "consequences.nc").unlink()
    cons.attrs.pop("issued_at")
    cons.to_netcdf(folder / "consequences.nc")
    c = client_for(folder)
    v = c.get("/api/view/run").json()
    assert v["issued_s"] == 0.0 and "'tomorrow' is not a date" in v["issued_unknown"]
    assert any("countdowns run from the release start" in p for p in c.get("/api/summary").json()["problems"])


# ------------------------------------------------------------------ audit 2: the figures of damaged or partial folders


def test_run_without_map_steps_through_the_series(run_copy: Path) -> None:
    """No concentration.nc: the slider steps through the scenario's output intervals over the
    receptors' series (consequences.nc), one row of % of AEGL-3 per interval, whose peaks are
    the file's; never the per-step rows read as frames with no time (which showed 0.39 % for a
    city at 200 %, every city grey and "0 (0 cities)")."""
    (run_copy / "concentration.nc").unlink()
    v = client_for(run_copy).get("/api/view/run").json()
    assert v["n_frames"] == 0 and v["interval_s"] == 1800.0
    assert v["times_s"] == [1800.0 * k for k in range(1, 13)]  # 6 h of 30-min intervals
    assert len(v["pct3"]) == len(v["times_s"])
    with xr.open_dataset(run_copy / "consequences.nc") as cons:
        peak = cons["peak_percent_aegl3"].values
    pct = np.array([[np.nan if x is None else x for x in row] for row in v["pct3"]])
    np.testing.assert_allclose(np.nanmax(pct, axis=0), peak, rtol=1e-3)
    # a point that is not a receptor: unknown (no map), said, and no failed request
    r = client_for(run_copy).get("/api/view/run/point", params={"lat": 35.33, "lon": 139.4})
    assert r.status_code == 200 and r.json()["known"] is False and "no concentration map" in r.json()["source"]


@pytest.mark.parametrize("scenario", ['"poison-sky"', "[1, 2]", "42", '{"start": 5, "issued": [1], "name": 7}',
                                      '{"start": "2026-03-01T00:00:00Z", "issued": {"a": 1}, "interval_min": "x"}'])
def test_dashboard_json_with_wrong_types_is_a_note_not_a_500(run_copy: Path, scenario: str) -> None:
    """A dashboard.json whose parts have the wrong type (e.g. {"scenario": "poison-sky"}):
    treated as missing, with a note; never a 5xx."""
    meta = json.loads((run_copy / "dashboard.json").read_text())
    (run_copy / "dashboard.json").write_text(json.dumps(meta | {"scenario": json.loads(scenario)}))
    codes = _all_below_500(run_copy)
    assert codes["/"] == 200 and codes["/api/view/run"] == 200
    s = client_for(run_copy).get("/api/summary").json()
    assert s["title"] == "plumecast"
    if not scenario.startswith("{"):
        assert any("dashboard.json: 'scenario' is" in p for p in s["problems"]), s["problems"]
    v = client_for(run_copy).get("/api/view/run").json()
    assert v["label"] == "forecast" and len(v["receptors"]) == 6


def test_percent_of_aegl3_follows_the_consequence_kernel_for_trace_series(tmp_path: Path) -> None:
    """A city whose series never reaches the onset floor (a trace): plumecast.consequence reads
    the AEGL for the time since the series' start; the page does the same, so its peak % of
    AEGL-3 is the file's (it used the 10-min AEGL: 0.0042 % on the page, 0.03 % in the file)."""
    from plumecast.agents import get_agent
    from plumecast.consequence import assess, onset_floor

    agent = get_agent("chlorine")
    floor = onset_floor(agent)
    n = 36
    t = np.datetime64("2026-03-01T00:00") + np.arange(1, n + 1) * np.timedelta64(600, "s")
    ramp = np.linspace(0.0, 1.0, n)
    values = np.stack([0.6 * floor * ramp,  # a trace: never at the floor
                       50 * floor * np.exp(-((ramp - 0.5) ** 2) / 0.01),  # the cloud passes
                       0.2 * floor * np.ones(n)], axis=1)
    conc = xr.DataArray(values, dims=("time", "receptor"), coords={"time": t}, attrs={"units": "kg m-3"})
    cons = assess(conc, agent, [1000.0, 2000.0, 3000.0], start=np.datetime64("2026-03-01T00:00"))
    folder = tmp_path / "trace"
    folder.mkdir()
    cons.to_netcdf(folder / "consequences.nc")
    v = client_for(folder).get("/api/view/run").json()
    pct = np.array([[np.nan if x is None else x for x in row] for row in v["pct3"]])
    np.testing.assert_allclose(np.nanmax(pct, axis=0), cons["peak_percent_aegl3"].values, rtol=1e-3)
    # the curves themselves are the kernel's: every step, not only the peak
    from plumecast.web.aegl import aegl_curves

    end = np.arange(1, n + 1) * 600.0
    curves = aegl_curves(values, end, end - 600.0, agent)
    np.testing.assert_allclose(np.max(100 * values / curves[3], axis=0), cons["peak_percent_aegl3"].values, rtol=1e-12)


def test_point_longitudes_wrap_to_a_regional_grid(run_copy: Path) -> None:
    """-180..360 is accepted on a regional grid too: on a grid west of 0, 359.4 is -0.6 (it
    answered 404 "outside the forecast domain")."""
    with xr.open_dataset(run_copy / "concentration.nc") as ds:
        shifted = ds.assign_coords(lon=ds["lon"] - 140.0).load()  # the grid: -4..4 degrees east
    shifted.to_netcdf(run_copy / "concentration.nc")
    c = client_for(run_copy)
    west = c.get("/api/view/run/point", params={"lat": 35.33, "lon": -0.6})
    wrapped = c.get("/api/view/run/point", params={"lat": 35.33, "lon": 359.4})
    assert west.status_code == wrapped.status_code == 200
    assert west.json()["known"] and wrapped.json()["known"] and wrapped.json()["conc"] == west.json()["conc"]
    assert max(x for x in west.json()["conc"] if x is not None) > 0
    far = c.get("/api/view/run/point", params={"lat": 35.33, "lon": 139.4})  # now outside the grid
    assert far.status_code == 200 and far.json()["known"] is False and far.json()["outside"] is True


def test_links_out_of_the_folder_tell_nothing_and_are_not_listed(run_copy: Path) -> None:
    """Through a link to a folder outside, a file that exists there and one that does not get
    the same answer (403; a 404 told which exist), and the footer lists no link leading out."""
    c = client_for(run_copy)
    there, absent = c.get("/files/linkdir/secret.csv"), c.get("/files/linkdir/no_such_file.csv")
    assert there.status_code == absent.status_code == 403 and there.text == absent.text
    assert c.get("/files/linkdir/sub/no_such_file.csv").status_code == 403
    os.symlink("receptors.csv", run_copy / "alias.csv")  # a link inside the folder is a result file
    os.symlink(run_copy.parent / "nowhere.csv", run_copy / "dangling.csv")
    files = client_for(run_copy).get("/api/summary").json()["files"]
    assert "link.csv" not in files and "dangling.csv" not in files and "alias.csv" in files
    assert c.get("/files/alias.csv").status_code == 200 and c.get("/files/dangling.csv").status_code == 403
    assert c.get("/files/no_such_file.csv").status_code == 404  # inside the folder: 404 as before


def test_comparison_title_is_its_scenario(compare_dir: Path) -> None:
    assert client_for(compare_dir).get("/api/summary").json()["title"] == "tokyo-bay-test"


def _set_city_hours(folder: Path, city: str, plan: str, **hours: str) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO((folder / "cities.csv").read_text())))
    for r in rows:
        if r["city"] == city and r["plan"] == plan:
            for k, v in hours.items():
                r[k] = v
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (folder / "cities.csv").write_text(out.getvalue())


def test_comparison_countdowns_are_those_of_the_decision_table(tmp_path: Path, compare_dir: Path) -> None:
    """cities.csv writes arrival hours rounded down to 0.01 h, and decision_table.md counts from
    the same rounded time (summary_text._stamp): the page's countdowns are the table's, to the
    minute. (The hours had been rounded down to the time step and read back as the step's time;
    the arrivals are now off the step grid and the page read 1-3 min earlier than the table.)"""
    from plumecast import numbers
    from plumecast.ensemble.summary import countdown_text
    from tests.web.conftest import write_record

    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    write_record(folder, issued="2026-03-01T03:00:00Z")
    _set_city_hours(folder, "Tokyo", "do nothing", aegl2_arrival_h_min="0.66", aegl3_arrival_h_min="4.83",
                    front_arrival_h_min="1.16", front_arrival_h_median="1.5")
    v = client_for(folder).get("/api/view/plan0").json()
    tokyo = next(r for r in v["receptors"] if r["name"] == "Tokyo")
    assert tokyo["first"]["2"] == pytest.approx(0.66 * 3600.0) and tokyo["first"]["3"] == pytest.approx(4.83 * 3600)
    # the front's countdown too is the earliest member's, as decision_table.md gives it (not the median's)
    assert tokyo["front_s"] == pytest.approx(1.16 * 3600.0)
    t0, issued = np.datetime64("2026-03-01T00:00"), np.datetime64("2026-03-01T03:00")
    for level, hours in (("2", 0.66), ("3", 4.83)):
        page = numbers.countdown(tokyo["first"][level] - v["issued_s"])
        assert countdown_text(hours, t0, issued).startswith(page), (level, page)
    # 0.66 h is 39 min 36 s: passed 2 h 20 min 24 s before the issue, shown rounded up (erring early)
    assert numbers.countdown(tokyo["first"]["2"] - v["issued_s"]) == "passed 2 h 21 min ago"


def test_truncated_csv_names_the_fields_it_has(tmp_path: Path) -> None:
    """csv.DictReader fills a short line with None: the message counts the real fields ("line 4
    has 2 fields, expected 3", not "3 fields, expected 3"), with the file's own line number."""
    from plumecast.web.compare_folder import read_csv_rows

    f = tmp_path / "t.csv"
    f.write_text("# a comment\na,b,c\n1,2,3\n4,5\n")
    with pytest.raises(ValueError, match=r"line 4 has 2 fields, expected 3"):
        read_csv_rows(f)
    f.write_text("a,b,c\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"line 2 has 4 fields, expected 3"):
        read_csv_rows(f)
    f.write_text("a,b,c\n1,2,3\n")
    assert read_csv_rows(f) == [{"a": "1", "b": "2", "c": "3"}]


# ------------------------------------------------------------------ receptors that share a name


def test_plan_table_tells_receptors_of_one_name_apart(tmp_path: Path, compare_dir: Path) -> None:
    """Two receptors called the same (GeoNames has two 'Annino'): cities.csv gives each row its
    position, and the plan's table view shows each its own figures at its own place; matched by
    name alone, both had shown one row's figures."""
    import csv
    import io

    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    rows = list(csv.DictReader(io.StringIO((folder / "cities.csv").read_text())))
    fields = ["city", "lat", "lon", "country", "population"] + [k for k in rows[0] if k != "city"]
    out = []
    for r in rows:
        if r["city"] == "Lighthouse":  # a second "Tokyo" at the lighthouse's place, people unknown
            r = dict(r, city="Tokyo", lat="35.2", lon="141.5", country="", population="", fatalities_median="7.0")
        elif r["city"] == "Tokyo":
            r = dict(r, lat="35.6895", lon="139.6917", country="JP", population="9000000.0",
                     fatalities_median="900.0")
        out.append(r)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    w.writerows(out)
    (folder / "cities.csv").write_text(buf.getvalue())
    v = client_for(folder).get("/api/view/plan0").json()  # the baseline: shown from its table
    tokyo = sorted((r for r in v["receptors"] if r["name"] == "Tokyo"), key=lambda r: r["lon"])
    assert [(r["lat"], r["lon"]) for r in tokyo] == [(35.6895, 139.6917), (35.2, 141.5)]
    assert [r["ensemble"]["fatalities"][1] for r in tokyo] == [900.0, 7.0]
    # the comparison's own people and country: never the shipped table's by name, never a known 0
    assert tokyo[0]["population"] == 9e6 and tokyo[0]["country"] == "JP"
    assert tokyo[1]["population"] is None or math.isnan(tokyo[1]["population"])
    assert all(r["position_from"] == "comparison" for r in tokyo)


def test_merged_city_rows_follow_position() -> None:
    """The ensemble figures merged into a view's receptors: by name and position, so two
    receptors of one name each get their own row; an older cities.csv without positions gives
    a shared name to neither (it cannot tell which row is which)."""
    from plumecast.web.views import _merge_city_rows

    def row(name: str, lat: str, lon: str, fat: str) -> dict[str, str]:
        return {"city": name, "lat": lat, "lon": lon, "p_aegl2": "0.5", "p_aegl3": "0.25",
                "fatalities_median": fat}

    recs = [{"name": "Annino", "lat": 59.77, "lon": 29.89}, {"name": "Annino", "lat": 55.61, "lon": 37.59},
            {"name": "Kursk", "lat": 51.73, "lon": 36.19}]
    rows = [row("Annino", "55.61", "37.59", "12.0"), row("Annino", "59.77", "29.89", "3.0"),
            row("Kursk", "51.73", "36.19", "1.0")]
    _merge_city_rows(recs, rows, table_only=False)
    assert [r["ensemble"]["fatalities"][1] for r in recs] == [3.0, 12.0, 1.0]
    old = [{"name": r["name"], "lat": r["lat"], "lon": r["lon"]} for r in recs]
    _merge_city_rows(old, [dict(r, lat="", lon="") for r in rows], table_only=False)
    assert ["ensemble" in r for r in old] == [False, False, True]


def test_a_plan_saving_where_deaths_are_unknown_is_not_a_known_0(tmp_path: Path, compare_dir: Path) -> None:
    """decision_table.csv's receptors_saved_unknown_max (a plan that changes the exposure where
    the deaths are unknown) reaches the page's plan list and the plan's totals (the page had
    shown a bare '0' lives saved where the tables say '0 known; unknown at 1 receptor')."""
    import csv
    import io

    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    rows = list(csv.DictReader(io.StringIO((folder / "decision_table.csv").read_text())))
    fields = list(rows[0]) + ["receptors_saved_unknown_max"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    w.writerows([dict(r, receptors_saved_unknown_max=str(k)) for k, r in enumerate(rows)])
    (folder / "decision_table.csv").write_text(buf.getvalue())
    c = client_for(folder)
    plans = c.get("/api/summary").json()["plans"]
    assert [p["saved_unknown"] for p in plans] == [0, 1, 2]
    assert c.get("/api/view/plan1").json()["totals"]["plan_saved_unknown"] == 1


def test_plan_table_aegl3_unknown_in_every_member_has_no_countdown(tmp_path: Path, compare_dir: Path) -> None:
    """A city where AEGL-3 is unknown in every member (the agent's AEGL-3 missing for a duration
    reached there) but AEGL-2 is known: the page marks AEGL-3 unavailable there (its countdown
    'unknown', not '—' = not reached) and keeps AEGL-2."""
    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    lines = (folder / "cities.csv").read_text().splitlines()
    head = lines[0].split(",")
    out = [lines[0]]
    for ln in lines[1:]:
        f = ln.split(",")
        if f[0] == "Tokyo":
            f[head.index("p_aegl3")] = ""
            for k in ("min", "median", "max"):
                f[head.index(f"aegl3_arrival_h_{k}")] = ""
        out.append(",".join(f))
    (folder / "cities.csv").write_text("\n".join(out) + "\n")
    v = client_for(folder).get("/api/view/plan0").json()
    rec = {r["name"]: r for r in v["receptors"]}
    assert rec["Tokyo"]["known"] is True
    assert rec["Tokyo"]["aegl_available"]["3"] is False and rec["Tokyo"]["aegl_available"]["2"] is True


def test_run_receptor_whose_aegl_cannot_be_read_is_not_never(run_copy: Path) -> None:
    """consequences.nc says AEGL-3 is n/a at a receptor (the agent's AEGL-3 missing for a duration
    reached before it): the page had shown "not reached in the forecast" above a note saying
    "n/a, not never" (situation-room audit); the level is now unavailable there, and only there."""
    import xarray as xr

    path = run_copy / "consequences.nc"
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    names = [str(n) for n in ds["name"].values]
    k = names.index("Tokyo")
    known = ds["aegl3_known"].values.copy()
    known[k] = 0
    ds["aegl3_known"] = (ds["aegl3_known"].dims, known, ds["aegl3_known"].attrs)
    first = ds["first_exceedance_aegl3"].values.copy()
    first[k] = np.datetime64("NaT")
    ds["first_exceedance_aegl3"] = (ds["first_exceedance_aegl3"].dims, first, ds["first_exceedance_aegl3"].attrs)
    path.unlink()
    ds.to_netcdf(path)
    rec = {r["name"]: r for r in client_for(run_copy).get("/api/view/run").json()["receptors"]}
    assert rec["Tokyo"]["aegl_available"] == {"1": True, "2": True, "3": False}
    assert rec["Tokyo"]["first"]["3"] is None
    others = [r for n, r in rec.items() if n != "Tokyo"]
    assert others and all(r["aegl_available"]["3"] for r in others)


def test_a_frame_with_a_step_of_unknown_percent_is_unknown() -> None:
    """The highest % of AEGL-3 in an output interval is unknown where a step of it is (the agent's
    AEGL-3 cannot be read there with gas about): the highest of the other steps had read 230 %
    where the file's peak was n/a (and 263 % without the agent's gaps)."""
    from plumecast.web.run_folder import _per_frame_max

    pct = np.array([[10.0, 0.0], [np.nan, 0.0], [230.0, 5.0], [40.0, 7.0]])
    end_s = np.array([600.0, 1200.0, 1800.0, 2400.0])
    out = _per_frame_max(pct, end_s, np.array([1200.0, 2400.0]), 1200.0)
    assert out is not None
    assert np.isnan(out[0, 0]) and out[0, 1] == 0.0
    assert out[1, 0] == 230.0 and out[1, 1] == 7.0


def test_plan_table_totals_count_the_receptors_of_unknown_deaths(tmp_path: Path, compare_dir: Path) -> None:
    """A plan shown from its table: its totals say at how many receptors the deaths are unknown
    (decision_table.csv's receptors_unknown_max), as the plans table does; the totals' note had
    said only "10 receptor cities" (situation-room audit)."""
    import csv
    import io

    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    rows = list(csv.DictReader(io.StringIO((folder / "decision_table.csv").read_text())))
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows([dict(r, receptors_unknown_max="2") for r in rows])
    (folder / "decision_table.csv").write_text(out.getvalue())
    v = client_for(folder).get("/api/view/plan0").json()
    assert v["totals"]["receptors_unknown"] == 2


def test_plan_table_city_with_known_air_and_unknown_aegl_is_known(tmp_path: Path, compare_dir: Path) -> None:
    """P(AEGL-2) and P(AEGL-3) are unknown in every member where the agent's AEGL is missing for a
    duration reached there, while the air is known (cities.csv's members_off_domain 0): the page
    had called such a city "outside the forecast domain" (regression audit); one whose air no member
    knows stays unknown."""
    import csv
    import io

    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    rows = list(csv.DictReader(io.StringIO((folder / "cities.csv").read_text())))
    for r in rows:
        r["members_off_domain"] = r["members"] if r["city"] == "Lighthouse" else "0"
        if r["city"] in ("Tokyo", "Lighthouse"):
            r["p_aegl2"] = r["p_aegl3"] = ""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    (folder / "cities.csv").write_text(out.getvalue())
    rec = {r["name"]: r for r in client_for(folder).get("/api/view/plan0").json()["receptors"]}
    assert rec["Tokyo"]["known"] is True
    assert rec["Tokyo"]["aegl_available"]["2"] is False and rec["Tokyo"]["aegl_available"]["3"] is False
    assert rec["Lighthouse"]["known"] is False
