"""The situation room as a planner met it, second round (situation-room audit 42, #6-#9): the keyboard, the map key
of a comparison's plans, the whole-forecast P(AEGL-3) column beside the slider's totals, and narrow screens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from tests.web import test_audit42_web as _first  # noqa: E402

# the first round's browser (a module fixture), page opener and chromium mark
browser, _open, needs_chromium = _first.browser, _first._open, _first.needs_chromium


def _view(page: Any, vid: str) -> None:
    page.click(f"#views button[data-view='{vid}']")
    page.wait_for_selector(f"#views button.active[data-view='{vid}']")


def _active(page: Any) -> dict[str, Any]:
    return page.evaluate("""() => { const e = document.activeElement;
        return { tag: e.tagName.toLowerCase(), cls: e.getAttribute('class') || '', id: e.dataset ? e.dataset.id : null,
                 name: e.dataset ? e.dataset.name : null }; }""")


def _playing(page: Any) -> bool:
    return page.get_attribute("#play", "aria-label") == "pause"


@needs_chromium
def test_the_monitors_and_the_city_discs_answer_the_keyboard(browser: Any, run_dir: Path) -> None:
    """The monitor rows and the city discs answered only a click: from the keyboard a city's detail could be opened
    only through the search, and Escape did not close it."""
    server, page, errors = _open(browser, run_dir)
    try:
        # Tab from the search box reaches the first monitor row; Enter opens it, Escape closes it
        page.focus("#search")
        page.keyboard.press("Tab")
        row = _active(page)
        assert row["tag"] == "tr" and "monitor" in row["cls"], row
        page.keyboard.press("Enter")
        page.wait_for_selector("#detail:not([hidden])")
        assert page.inner_text("#detail-name").startswith(row["name"])
        assert _active(page)["id"] == row["id"]  # the focus stays on its row
        page.keyboard.press("Escape")
        page.wait_for_selector("#detail", state="hidden")
        # space on the next row opens it, and does not start playback
        page.keyboard.press("Tab")
        second = _active(page)
        assert second["tag"] == "tr" and second["id"] != row["id"]
        page.keyboard.press(" ")
        page.wait_for_selector("#detail:not([hidden])")
        assert page.inner_text("#detail-name").startswith(second["name"]) and not _playing(page)
        # the rows are redrawn at every frame: the focused one keeps the focus
        page.eval_on_selector("#time-slider", "e => { e.value = '2'; e.dispatchEvent(new Event('input')); }")
        page.wait_for_selector("#field[data-frame='2']")
        assert _active(page)["id"] == second["id"]
        # Escape with the focus on the detail's close button: closed, the focus back on the city's row
        page.focus("#detail-close")
        page.keyboard.press("Escape")
        page.wait_for_selector("#detail", state="hidden")
        assert _active(page)["id"] == second["id"]

        # the city discs: one stop of the Tab order, after the view buttons; the arrows move between them
        assert page.locator("#markers circle[tabindex='0']").count() == 1
        page.focus("#views button:last-child")
        page.keyboard.press("Tab")
        disc = _active(page)
        assert disc["tag"] == "circle" and "marker" in disc["cls"], disc
        page.keyboard.press("ArrowRight")
        other = _active(page)
        assert other["tag"] == "circle" and other["id"] != disc["id"]
        assert page.get_attribute(f"#markers circle[data-id='{other['id']}']", "tabindex") == "0"
        assert page.locator("#markers circle[tabindex='0']").count() == 1
        page.keyboard.press("Enter")
        page.wait_for_selector("#detail:not([hidden])")
        assert page.inner_text("#detail-name").startswith(other["name"])
        page.keyboard.press("Escape")
        page.wait_for_selector("#detail", state="hidden")
        page.keyboard.press(" ")
        page.wait_for_selector("#detail:not([hidden])")
        assert not _playing(page)
        assert not errors
    finally:
        page.close()
        server.stop()


@needs_chromium
def test_space_on_a_control_is_that_controls_not_play(browser: Any, compare_dir: Path) -> None:
    """Space on a plan's "show" button left the view unchanged and started the animation; on the P(AEGL) menu, the
    detail's × or a view button it did the same. On the page itself it still plays and pauses."""
    server, page, errors = _open(browser, compare_dir)
    try:
        label = page.inner_text("#time-label")
        page.focus("#plans-table button.pick-plan[data-view='plan2']")
        page.keyboard.press(" ")
        page.wait_for_selector("#views button.active[data-view='plan2']")
        assert not _playing(page) and page.inner_text("#time-label") == label
        page.focus("#views button[data-view='plan0']")
        page.keyboard.press(" ")
        page.wait_for_selector("#views button.active[data-view='plan0']")
        assert not _playing(page)
        page.focus("#prob-level")
        page.keyboard.press(" ")
        page.keyboard.press("Escape")
        assert not _playing(page)
        page.click("#monitors tr.monitor >> nth=0")
        page.wait_for_selector("#detail:not([hidden])")
        page.focus("#detail-close")
        page.keyboard.press(" ")
        page.wait_for_selector("#detail", state="hidden")
        assert not _playing(page)
        # the play button plays with space (its own action), and so does the page itself
        page.focus("#play")
        page.keyboard.press(" ")
        assert _playing(page)
        page.keyboard.press(" ")
        assert not _playing(page)
        page.evaluate("() => document.activeElement.blur()")
        page.keyboard.press(" ")
        assert _playing(page)
        page.keyboard.press(" ")
        assert not _playing(page)
        assert not errors
    finally:
        page.close()
        server.stop()


def _key(page: Any) -> tuple[str, list[str]]:
    return (" ".join(page.inner_text("#marker-key").split()),
            page.locator("#marker-key .chip").evaluate_all("cs => cs.map((c) => c.dataset.key)"))


@needs_chromium
def test_the_map_key_says_what_the_view_assesses(browser: Any, compare_dir: Path, run_dir: Path) -> None:
    """A comparison's table does not assess AEGL-1, yet the fixed key under the map read "grey: below AEGL-1" in
    every view (DESIGN.md, "unknown is not zero")."""
    server, page, errors = _open(browser, compare_dir)
    try:
        for vid in ("plan0", "plan2"):  # from the table: AEGL-1 not assessed
            _view(page, vid)
            text, chips = _key(page)
            assert "below AEGL-2; AEGL-1 not assessed" in text and "below AEGL-1" not in text, text
            assert chips == ["l0", "l2", "l3", "lu"]
            assert "(a plan: its earliest member)" in text
            # the discs say the same as the key
            titles = page.locator("#markers circle title").evaluate_all("ts => ts.map((t) => t.textContent)")
            assert titles and not any("below AEGL-1" in t for t in titles), titles
        _view(page, "plan1")  # the plan's own run assesses AEGL-1
        text, chips = _key(page)
        assert "below AEGL-1 AEGL-1" in text and "not assessed" not in text and chips == ["l0", "l1", "l2", "l3", "lu"]
        assert not errors
    finally:
        page.close()
        server.stop()
    server, page, errors = _open(browser, run_dir)
    try:
        text, chips = _key(page)
        assert text.startswith("Cities, by the highest AEGL reached by the slider time: below AEGL-1 AEGL-1")
        assert text.endswith("unknown; disc size: population.") and chips == ["l0", "l1", "l2", "l3", "lu"]
    finally:
        page.close()
        server.stop()


@needs_chromium
def test_the_plans_p_aegl3_column_is_labelled_as_the_whole_forecasts(browser: Any, compare_dir: Path) -> None:
    """At the issue time every row read "4 of 4" beside "in cities past AEGL-3 (any member): 0": both right (the share
    is the whole forecast's, the totals the slider time's), but nothing said which was which."""
    server, page, errors = _open(browser, compare_dir)
    try:
        _view(page, "plan0")
        page.eval_on_selector("#time-slider", "e => { e.value = '0'; e.dispatchEvent(new Event('input')); }")
        page.wait_for_function("() => document.querySelector('#totals-time').textContent.includes('(T+')")
        assert page.inner_text("#mon-metric") == "P(AEGL-3), whole forecast"
        note = page.inner_text("#monitors-note")
        assert "reaching AEGL-3 at any time in the whole forecast (not by the slider time" in note
        page.click("#monitors tr.monitor >> nth=0")
        page.wait_for_selector("#detail:not([hidden])")
        assert "P(AEGL-2) / P(AEGL-3), members, whole forecast:" in page.inner_text("#detail-facts")
        assert page.inner_text("#totals-time").startswith("at ")  # the totals: at the slider time
        _view(page, "plan1")  # a plan's own run: its % of AEGL-3 at the slider time, as a run's
        # the header is redrawn after the view's button turns active (read at once, it raced under load)
        page.wait_for_function("() => document.querySelector('#mon-metric').textContent === '% AEGL-3'",
                               timeout=10_000)
        assert page.inner_text("#mon-metric") == "% AEGL-3"
        assert not errors
    finally:
        page.close()
        server.stop()


_TEXT_SIZES = """(sel) => { const s = document.querySelector(sel); if (!s || !s.getScreenCTM()) return null;
    const box = s.getBoundingClientRect(), scale = s.getScreenCTM().a;
    return [...s.querySelectorAll('text')].filter((t) => t.textContent.trim()).map((t) => {
      const r = t.getBoundingClientRect();
      return { text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
               out: r.left < box.left - 2 || r.right > box.right + 2 }; }); }"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@needs_chromium
@pytest.mark.parametrize("width", [360, 1500])
def test_a_narrow_screen_scrolls_no_page_sideways_and_keeps_text_readable(browser: Any, compare_dir: Path,
                                                                           width: int) -> None:
    """At 360 px the plans table made the page 476 px wide (it scrolled sideways), the legend's and the charts' 11 px
    text shrank with their viewBox to 4-6 px, and the map's note covered a third of the map."""
    server, page, errors = _open(browser, compare_dir, width)
    try:
        def twenty(route: Any) -> None:  # 20 members: a block per count in the legend, "20 of 20" at its end
            response = route.fetch()
            route.fulfill(response=response, json=response.json() | {"members": 20})

        page.route("**/api/summary", twenty)
        page.reload()
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        _view(page, "plan0")  # from its table: no map of its own, the note over the map
        assert page.inner_text("#map-note").startswith("This plan has no concentration forecast of its own")
        page.click("#monitors tr.monitor >> nth=0")
        page.wait_for_selector("#detail:not([hidden])")
        _view(page, "plan1")  # its own run: the concentration legend and the detail chart
        page.wait_for_selector("#chart path.series")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        table, box = page.locator("#plans-table").bounding_box(), page.locator("#plans").bounding_box()
        assert box["x"] + box["width"] <= width and table["width"] > 0
        for sel in ("#legend-svg", "#delay-chart", "#chart"):
            sizes = page.evaluate(_TEXT_SIZES, sel)
            assert sizes, sel
            small = [t for t in sizes if t["px"] < 10]
            assert not small, (sel, small)
            assert not [t for t in sizes if t["out"]], (sel, [t for t in sizes if t["out"]])
        # the AEGL marks' labels on the scale: none over another (a text's box is its line's: 3 px spare at each edge)
        boxes = [{**b, "y": b["y"] + 3, "height": b["height"] - 6}
                 for b in (t.bounding_box() for t in page.locator("#legend-svg text").all())]
        assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if _overlap(a, b)]
        _view(page, "plan0")
        sizes = page.evaluate(_TEXT_SIZES, "#legend-svg")  # the probability legend
        assert sizes and min(t["px"] for t in sizes) >= 10 and not any(t["out"] for t in sizes), sizes
        assert {"1 of 20", "20 of 20"} <= {t["text"] for t in sizes}
        note, map_box = page.locator("#map-note").bounding_box(), page.locator("#map").bounding_box()
        if width < 700:
            assert not _overlap(note, map_box), (note, map_box)
        assert not errors
    finally:
        page.close()
        server.stop()
