"""Docs audit 44: what docs/scenario.md promises of the scenario's keys holds for every one.

"A clock time where hours are expected" is refused saying that hours after ``start`` are
expected (docs/scenario.md, "What is refused before a run"): ``termination_h`` (every source
stops at that hour after ``start``) had been told only "expected a number", unlike
``stop_h``, ``start_h``, ``at_h`` and the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumecast.errors import ScenarioError
from plumecast.scenario import load_scenario

_HEAD = """name: cut
start: 2026-01-20T06:00:00Z
duration_h: 2
releases:
  - {type: point, lat: 51.45, lon: 6.75, rate_kg_s: 1.0}
"""
_HOURS = "expected a number of hours after the scenario's start (e.g. 0.5)"


@pytest.mark.parametrize("value, said", [
    ("2026-01-20T06:30:00Z", f"termination_h: got a date and time, 2026-01-20T06:30:00Z; {_HOURS}, not a clock time"),
    ("'06:30'", f"termination_h: not a number (got '06:30'); {_HOURS}"),
    ("true", f"termination_h: true is not a number; {_HOURS}"),
])
def test_a_clock_time_or_true_as_termination_h_asks_for_hours_after_start(tmp_path: Path, value: str,
                                                                          said: str) -> None:
    path = tmp_path / "cut.yaml"
    path.write_text(_HEAD + f"termination_h: {value}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"{path}, line 6: {said}" in str(err.value), str(err.value)
