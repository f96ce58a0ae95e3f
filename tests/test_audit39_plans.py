"""A plan timed before the forecast's issue is said to be one (planner audit, session 39): a plug at 14:20
ranked first by a forecast issued at 14:40, without a word."""

from __future__ import annotations

from pathlib import Path

from plumecast.ensemble.plan_checks import past_measures_note, plan_notes
from plumecast.scenario import load_scenario
from tests.test_scenario import GOOD, write

PLANS = """\
plans:
  - name: plug early
    measures:
      - {type: termination, at_h: 0.5}
  - name: shelter later
    measures:
      - {type: shelter, start_h: 2.0}
"""


def test_measures_before_the_issue_time_are_named(tmp_path: Path) -> None:
    text = GOOD.replace("start: 2026-01-15T06:00:00Z\n", "start: 2026-01-15T06:00:00Z\nissued_at: 2026-01-15T07:00:00Z\n")
    assert text != GOOD
    sc = load_scenario(write(tmp_path, text + PLANS))
    note = past_measures_note(sc)
    assert note is not None and note.startswith("Timed before the forecast's issue (2026-01-15 07:00 UTC): ")
    assert "'plug early' (termination at 2026-01-15 06:30 UTC)" in note and "shelter later" not in note
    assert any(line.startswith("timed before the forecast's issue") for line in plan_notes(sc))
    # issued at the start (or without issued_at), nothing is past
    assert past_measures_note(load_scenario(write(tmp_path, GOOD + PLANS, "b.yaml"))) is None
    # a measure exactly at the issue time is not before it
    at_issue = text + PLANS.replace("at_h: 0.5", "at_h: 1.0")
    assert past_measures_note(load_scenario(write(tmp_path, at_issue, "c.yaml"))) is None


def test_run_totals_say_when_the_shelter_begins() -> None:
    # "710 with shelter-in-place (0.5 air changes/h, 0.8 compliance)" beside 520 outdoors, with nothing saying
    # the shelter began 30 min after the release (planner audit, session 39)
    from types import SimpleNamespace

    from plumecast.report_tables import _shelter_from

    # seconds count from the scenario's start (the result's release_start), which a later release does not move
    assert _shelter_from(SimpleNamespace(attrs={"shelter_start": "1800.0", "release_start": "2026-03-10T12:00:00"})
                         ) == "from 10 Mar 12:30 UTC, "
    assert _shelter_from(SimpleNamespace(attrs={"shelter_start": "1800.0", "release_start": "0 s"})
                         ) == "from 30 min after the start of the run, "
    assert _shelter_from(SimpleNamespace(attrs={"shelter_start": "2026-03-10 14:30:00"})) == "from 10 Mar 14:30 UTC, "
    assert _shelter_from(SimpleNamespace(attrs={"shelter_start": "release start"})) == ""
    assert _shelter_from(SimpleNamespace(attrs={})) == ""
    assert _shelter_from(SimpleNamespace(attrs={"shelter_start": "0.0"})) == ""  # not "from 0 min after"


def test_a_median_arrival_counts_the_members_that_never_get_there() -> None:
    # the median over the reaching members alone read 8.7 h under a plan that spares most members against 13.5 h
    # doing nothing: the plan looked as if it brought AEGL-3 sooner (planner audit, session 39)
    import math

    import numpy as np

    from plumecast.ensemble.summary_text import times_range

    nan = math.nan
    assert times_range(np.array([8.0, 9.0, 10.0, 11.0, 12.0])) == (8.0, 10.0, 12.0)
    assert times_range(np.array([8.0, 9.0, nan, nan, 12.0])) == (8.0, 12.0, 12.0)  # 2 of 5 never: the 3rd time
    lo, med, hi = times_range(np.array([8.0, nan, nan, nan, 12.0]))  # 3 of 5 never: no median time
    assert (lo, hi) == (8.0, 12.0) and math.isnan(med)
    assert all(math.isnan(v) for v in times_range(np.array([nan, nan])))


def test_a_median_arrival_leaves_out_the_members_whose_figure_is_unknown() -> None:
    # an unknown member (off the domain, its AEGL unread) had counted as never: six members reaching at 1-3.5 h
    # and four unknown read a median of 3.25 h, 2.25 h over the known ones (review, session 39)
    import numpy as np

    from plumecast.ensemble.summary_text import times_range

    x = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, np.nan, np.nan, np.nan, np.nan])
    known = np.array([True] * 6 + [False] * 4)
    assert times_range(x, known) == (1.0, 2.25, 3.5)
    assert times_range(x)[1] == 3.25  # all taken as known: the four count as never
