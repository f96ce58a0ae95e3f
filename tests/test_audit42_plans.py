"""The comparison as an emergency planner reads it (audit 42c): the ranking's tally under each probit set,
float noise read as lives lost, booleans taken for numbers, and front delays after the forecast's end."""

from __future__ import annotations

from plumecast.ensemble.summary import ranking_text, summarise
from plumecast.plans.config import BASELINE_NAME
from tests.plans.test_plans import _two_set_raw


def test_each_probit_sets_tally_reads_as_the_firsts() -> None:
    # ", 0 of 3 under 'lees'" after "the same deaths in all 3 members" read as "the same in 0 of 3": the two
    # plans were identical under both sets (audit 42c, D2)
    same = {BASELINE_NAME: ([100, 101, 102], [200, 201, 202]), "A": ([10, 11, 12], [30, 31, 32]),
            "B": ([10, 11, 12], [30, 31, 32])}
    text = ranking_text(summarise(_two_set_raw(3, same), ["a"]))
    assert text is not None and "has the same deaths in all 3 members under both sets" in text, text
    assert "0 of 3" not in text
    # A ahead under the first set, the same under the second (a difference below TIE_DEATHS)
    tied = {BASELINE_NAME: ([100, 101, 102], [200, 201, 202]), "A": ([10, 11, 12], [30, 31, 32]),
            "B": ([15, 16, 17], [30.0002, 31.0002, 32.0002])}
    text = ranking_text(summarise(_two_set_raw(3, tied), ["a"]))
    assert text is not None
    assert "fewer deaths in 3 of 3 members under 'purple_book'; the same in all 3 under 'lees'" in text, text
    # a mixed tally keeps its ties under the later set too
    mixed = {BASELINE_NAME: ([100, 101, 102], [200, 201, 202]), "A": ([10, 11, 12], [30, 31, 32]),
             "B": ([15, 16, 17], [30, 31, 40])}
    text = ranking_text(summarise(_two_set_raw(3, mixed), ["a"]))
    assert text is not None
    assert "fewer deaths in 3 of 3 members under 'purple_book'; fewer in 1 of 3, the same in 2 under 'lees'" in text
