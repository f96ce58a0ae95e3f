"""The situation room as a planner met it (situation-room audit 42): a plan timed before the forecast's issue
offered as the best option, the cost of delay's origin, past and floor, the monitors dropping the cities already
hit, a city's most exposed part counted as the whole city, the whole-forecast probability layer, the keyboard, and
the comparison's map key."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from tests.web.conftest import PLANS  # noqa: E402
from tests.web.test_api import client_for  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing")
PAST = PLANS[2]  # "stop the release at hour 1"
NOTE = (f"Timed before the forecast's issue (2026-03-01 01:30 UTC): '{PAST}' (termination at 2026-03-01 01:00 UTC); "
        "these figures assume the measure was carried out then, so read such a plan as an account of one already "
        "under way, not an option")


def _past_compare(folder: Path, record: bool = True) -> Path:
    """The test comparison issued at 01:30, its plan stopping the release at hour 1 ranked first; ``record``:
    comparison.json names it (as plumecast now writes it), else only decision_table.md does (as before)."""
    rec = json.loads((folder / "comparison.json").read_text())
    rec["issued_at"] = "2026-03-01T01:30:00Z"
    rec["ranking"] = f"Fewest expected deaths: '{PAST}' (50). Against the next, '{PLANS[1]}', it saves 350 more."
    if record:
        rec |= {"timed_before_issue": [PAST], "timed_before_issue_note": NOTE, "releases_begin_h": 0.5,
                "measure_times_h": {PAST: {"termination": 1.0}}}
    (folder / "comparison.json").write_text(json.dumps(rec))
    (folder / "decision_table.md").write_text(f"# plans\n\n{rec['ranking']} 4 ensemble members. {NOTE}. More.\n")
    return folder


@pytest.fixture()
def past_dir(tmp_path: Path, compare_dir: Path) -> Path:
    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    return _past_compare(folder)


@pytest.mark.parametrize("record", [True, False])
def test_the_plans_timed_before_the_issue_are_marked(tmp_path: Path, compare_dir: Path, record: bool) -> None:
    folder = tmp_path / "cmp"
    shutil.copytree(compare_dir, folder)
    _past_compare(folder, record)
    sm = client_for(folder).get("/api/summary").json()
    assert sm["timed_before_issue_note"] == NOTE
    assert [p["before_issue"] for p in sm["plans"]] == [False, False, True]
    # the axis of the cost of delay: its origin, the issue time and (recorded) the releases' own start
    axis = sm["delay_axis"]
    assert axis["start"] == "2026-03-01T00:00:00Z" and axis["issued_h"] == 1.5
    assert axis["releases_begin_h"] == (0.5 if record else None)
    assert sm["plans"][2]["own_times_h"] == ({"termination": 1.0} if record else {})
    # a comparison issued at its start has none
    plain = client_for(compare_dir).get("/api/summary").json()
    assert plain["timed_before_issue_note"] is None and not any(p["before_issue"] for p in plain["plans"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"],
                              headless=True)
        yield b
        b.close()


def _open(browser: Any, folder: Path, width: int = 1500, edit: Any = None,
          route: str = "**/api/view/run") -> tuple[Any, Any, list[str]]:
    """Serve ``folder`` and open its page (``edit``: change the JSON of ``route``, /api/view/run, first,
    :func:`_route_view`)."""
    pytest.importorskip("uvicorn")
    from plumecast.web.server import DashboardServer

    server = DashboardServer(folder, "127.0.0.1", 0).start()
    page = browser.new_page(viewport={"width": width, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    if edit is not None:
        _route_view(page, edit, route)
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    return server, page, errors


@needs_chromium
def test_a_plan_timed_before_the_issue_is_not_offered_as_an_option(browser: Any, past_dir: Path) -> None:
    server, page, errors = _open(browser, past_dir)
    try:
        past = page.locator("#plans-past")
        assert past.is_visible() and past.inner_text() == NOTE + "."
        ranking = page.inner_text("#plans-ranking")
        assert ranking.startswith(f"Not an option: '{PAST}' is timed before the forecast's issue")
        assert f"Fewest expected deaths: '{PAST}'" in ranking  # the file's sentence is kept whole
        row = page.locator("#plans-table tr.plan-row[data-view='plan2']")
        assert "before-issue" in row.get_attribute("class")
        assert "timed before the forecast's issue: already under way, not an option" in row.inner_text()
        assert page.locator("#plans-table tr.before-issue").count() == 1
        assert not errors
    finally:
        page.close()
        server.stop()


@needs_chromium
def test_the_cost_of_delay_names_its_origin_and_marks_the_past(browser: Any, past_dir: Path) -> None:
    # values of 0 and below one, drawn on the bottom line: it reads "< 1", never "1"
    lines = (past_dir / "cost_of_delay.csv").read_text().splitlines()
    lines[1] = f"{PAST},termination,0.0,0.0,0.0,0.019"
    (past_dir / "cost_of_delay.csv").write_text("\n".join(lines) + "\n")
    server, page, errors = _open(browser, past_dir)
    try:
        chart = page.locator("#delay-chart")
        text = chart.text_content()
        assert "hours after 1 Mar 00:00 UTC, the scenario's start; the releases begin 30 min after it" in text
        assert "release start at which" not in text
        # the past at the issue (01:30) shaded from the axis' origin, and the issue line there
        shade, line = page.locator("#delay-chart .past-shade"), page.locator("#delay-chart .issue-line")
        assert shade.count() == 1 and line.count() == 1
        x_issue = float(line.get_attribute("x1"))
        x0 = float(shade.get_attribute("x"))
        assert float(shade.get_attribute("width")) == pytest.approx(x_issue - x0)
        x_tick = {t.text_content(): float(t.get_attribute("x")) for t in page.locator("#delay-chart .x-tick").all()}
        assert x0 == pytest.approx(x_tick["0"]) and x_issue == pytest.approx((x_tick["1"] + x_tick["2"]) / 2)
        assert "forecast issued (1 Mar 01:30 UTC)" in text and "already past at the forecast's issue" in text
        # the plan's own time: a star on its curve, named in the legend, not an extra tick over the others
        star = page.locator("#delay-chart .own-time")
        assert star.count() == 1 and star.get_attribute("data-hour") == "1"
        assert f"{PAST}: its own termination time (1 h, 1 Mar 01:00 UTC)" in text
        boxes = sorted((b["x"], b["x"] + b["width"]) for b in
                       (t.bounding_box() for t in page.locator("#delay-chart .x-tick").all()))
        assert all(a[1] < b[0] for a, b in zip(boxes, boxes[1:], strict=False))  # no tick label over another
        ys = [t.text_content() for t in page.locator("#delay-chart .y-tick").all()]
        assert ys[0] == "< 1" and "1" not in ys
        note = page.inner_text("#delay-note")
        assert "as cost_of_delay.png)" not in note and "below one are drawn on the “< 1” line" in note
        assert not errors
    finally:
        page.close()
        server.stop()


def _route_view(page: Any, edit: Any, url: str = "**/api/view/run") -> None:
    """Serve ``url`` (/api/view/run) edited by ``edit(view)`` (the page's own JSON, changed before it reaches the
    page)."""
    def handle(route: Any) -> None:
        response = route.fetch()
        view = response.json()
        edit(view)
        route.fulfill(response=response, body=json.dumps(view), headers={**response.headers,
                                                                         "content-type": "application/json"})

    page.route(url, handle)


def _slide(page: Any, k: int) -> None:
    page.eval_on_selector("#time-slider", "(e, k) => { e.value = String(k); e.dispatchEvent(new Event('input')); }", k)
    page.wait_for_selector(f"#field[data-frame='{k}']", timeout=10_000)


@needs_chromium
def test_the_monitors_keep_the_cities_hit_and_about_to_be_hit(browser: Any, run_dir: Path) -> None:
    """Ranked by the % of AEGL-3 now alone, the wall had dropped Duisburg (AEGL-3, every death) once the plume had
    passed, behind capitals at "0 %", and hidden cities reaching AEGL-1 within minutes among "151 more"."""
    pytest.importorskip("uvicorn")

    state: dict[str, Any] = {}

    def edit(view: dict[str, Any]) -> None:
        ts, n = view["times_s"], len(view["times_s"])
        mid = n // 2
        hit, soon = view["receptors"][0], view["receptors"][1]
        state.update(hit=hit["name"], soon=soon["name"], mid=mid)
        for r in view["receptors"]:
            r["first"] = {"1": None, "2": None, "3": None}
        hit["first"] = {"1": ts[0], "2": ts[0], "3": ts[0]}  # AEGL-3 at the first interval, gone by the slider's
        soon["first"] = {"1": ts[-1], "2": None, "3": None}  # AEGL-1 at the last interval
        rows = [[0.0] * len(view["receptors"]) for _ in range(n)]
        rows[0][hit["id"]] = 250.0
        # 16 unaffected cities with a trace of gas at every interval (more than the 15 rows)
        for j in range(16):
            fake = dict(view["receptors"][2], id=len(view["receptors"]), name=f"Capital {j}", population=9e6,
                        first={"1": None, "2": None, "3": None}, fatalities=0.0)
            view["receptors"].append(fake)
            for row in rows:
                row.append(0.5)
        view["pct3"] = rows

    server, page, _ = _open(browser, run_dir, edit=edit)
    try:
        _slide(page, state["mid"])
        names = page.locator("#monitors tr.monitor").evaluate_all("rows => rows.map((r) => r.dataset.name)")
        assert len(names) == 15
        assert names[:2] == [state["hit"], state["soon"]], names  # reached AEGL-3, then the next to be reached
        first = page.locator("#monitors tr.monitor").first
        assert "l3" in first.locator(".chip").get_attribute("class")
        assert first.locator(".metric").inner_text().replace("\n", " ") == "0 % (peak so far 250 %)"
        note = page.inner_text("#monitors-note")
        assert "Ranked by the highest level reached by the slider time" in note and "nearest arrival" in note
    finally:
        page.close()
        server.stop()


def test_a_city_whose_level_is_its_most_exposed_parts_is_marked(tmp_path: Path, run_dir: Path) -> None:
    import numpy as np
    import xarray as xr

    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    with xr.open_dataset(folder / "consequences.nc") as ds:
        ds = ds.load()
    n = ds.sizes["receptor"]
    ds["disc_parts"] = ("receptor", np.array([12] + [0] * (n - 1)))
    ds["area_spot"] = ("receptor", np.array([0, 1] + [0] * (n - 2)))
    ds.to_netcdf(folder / "consequences.nc")
    (folder / ".plumecast-results.json").unlink(missing_ok=True)
    view = client_for(folder).get("/api/view/run").json()
    assert [r["worst_part"] for r in view["receptors"]] == [True, True] + [False] * (n - 2)
    # a file without the variables (written before them): no part, as before
    ds.drop_vars(["disc_parts", "area_spot"]).to_netcdf(folder / "consequences.nc")
    old = client_for(folder).get("/api/view/run").json()
    assert not any(r["worst_part"] for r in old["receptors"])


@needs_chromium
def test_people_past_a_level_say_when_it_is_a_citys_most_exposed_parts(browser: Any, run_dir: Path) -> None:
    """"in cities past AEGL-3: 500,000 (1 city)" beside "1 expected death": Duisburg's level was its most exposed
    part's, and nothing on the page said so."""
    pytest.importorskip("uvicorn")

    def edit(view: dict[str, Any]) -> None:
        ts = view["times_s"]
        for r in view["receptors"]:
            r["first"] = {"1": None, "2": None, "3": None}
            r["worst_part"] = False
        hit = view["receptors"][0]
        hit.update(first={"1": ts[0], "2": ts[0], "3": ts[0]}, worst_part=True, population=500_000.0)

    server, page, _ = _open(browser, run_dir, edit=edit)
    try:
        _slide(page, 0)
        row = page.inner_text("#total-aegl3")
        assert "500,000 (1 city; its level is its most exposed part's: not all these people are past it)" in row
        assert "most exposed part's level" in page.inner_text("#totals-note")
        page.locator("#monitors tr.monitor").first.click()
        page.wait_for_selector("#detail:not([hidden])")
        assert "its level, peak and % of AEGL-3 are its most exposed part's" in page.inner_text("#detail-facts")
    finally:
        page.close()
        server.stop()


@needs_chromium
def test_the_probability_layer_is_labelled_as_the_whole_forecasts(browser: Any, compare_dir: Path) -> None:
    """The blue layer is the whole forecast's but sat under the time slider with nothing saying so: at T+0 the
    demo's continents were blue beside grey city discs."""
    server, page, errors = _open(browser, compare_dir)
    try:
        for vid in ("plan0", "plan1"):  # from its table (no concentration), and a plan with its own run
            page.click(f"#views button[data-view='{vid}']")
            page.wait_for_selector(f"#views button.active[data-view='{vid}']")
            note = page.inner_text("#legend-note")
            assert "at any time in the whole forecast, not at the slider time" in note, (vid, note)
            options = page.locator("#prob-level option").all_inner_texts()
            assert options and all(o.endswith(", whole forecast") for o in options), options
        assert not errors
    finally:
        page.close()
        server.stop()
