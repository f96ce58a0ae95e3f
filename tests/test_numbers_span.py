"""A range of people is joined by a dash only where both ends are written in the same scale."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from plumecast import numbers

CASES = [(2_200.0, 44.0, 46_000.0), (73e6, 42e6, 98e6), (3.0, 0.4, 5.0), (25_000.0, 22_000.0, 48_000.0),
         (1_161_095.0, 900_000.0, 1_600_000.0), (4.4e6, 1.0e6, 2.0e7), (12.0, 3.0, 40.0), (2.0e9, 9.0e8, 3.0e9)]


def test_a_dash_never_joins_ends_of_different_scales() -> None:
    got = [numbers.people_range(*c) for c in CASES]
    assert got == ["2,200 (44 to 46,000)", "73 million (42 million–98 million)", "3 (< 1 to 5)",
                   "25,000 (22,000–48,000)", "1.2 million (900,000 to 1.6 million)",
                   "4.4 million (1.0 million–20 million)", "12 (3–40)", "2.0 billion (900 million to 3.0 billion)"]
    # lives lost (a plan worse than the baseline) and a range across zero read the same way
    assert numbers.lives_saved_range(-5_000.0, -46_000.0, -44.0) == "costs 5,000 (44 to 46,000)"


def test_numbers_js_joins_ranges_as_python_does() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    js = Path(numbers.__file__).parent / "web" / "static" / "numbers.js"
    saved = [(-5_000.0, -46_000.0, -44.0), (13.2, 4.1, 45.4), (-5.0, -8.0, -2.0)]
    script = (f"import({json.dumps(js.as_uri())}).then((N) => console.log(JSON.stringify(["
              f"{json.dumps(CASES)}.map(([c, l, h]) => N.peopleRange(c, l, h)), "
              f"{json.dumps(saved)}.map(([c, l, h]) => N.livesSavedRange(c, l, h))])));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True)
    ranges, lives = json.loads(out.stdout)
    assert ranges == [numbers.people_range(*c) for c in CASES]
    assert lives == [numbers.lives_saved_range(*c) for c in saved]


def test_a_count_beyond_any_population_is_written_as_a_power_of_ten():
    from plumecast.numbers import people

    assert people(8.2e9) == "8.2 billion"
    assert people(3.4e30) == "3.4e+30"  # had been 31 digits of billions
    assert people(-1e13) == "-1.0e+13"
