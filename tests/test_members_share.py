"""A share of ensemble members reads as a count of them below 21 members ("1 of 6"), as a
percentage from then on: "17 %" of six members is a precision they do not give."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from plumecast import numbers

CASES = [(1 / 6, 6, None), (0.5, 2, 2), (0.0, 2, None), (1.0, 20, None), (0.5, 4, 6), (0.34, 50, None),
         (0.25, 40, 44), (0.0, 21, None), (float("nan"), 3, None), (0.5, 0, 3), (2 / 3, 3, 5)]


def test_few_members_are_counted_many_are_a_percentage() -> None:
    got = [numbers.members_share(p, n, m) for p, n, m in CASES]
    assert got == ["1 of 6", "1 of 2", "0 of 2", "20 of 20", "2 of 4 known", "34 %", "25 % of 40 known", "0 %",
                   "unknown", "unknown", "2 of 3 known"]
    # the bound: 20 members are counted, 21 are a percentage
    assert numbers.members_share(0.5, numbers.FEW_MEMBERS - 1) == "10 of 20"
    assert numbers.members_share(10 / 21, numbers.FEW_MEMBERS) == "48 %"
    # unknown is not zero: no member known, or no share
    assert numbers.members_share(float("nan"), 3) == numbers.members_share(0.5, 0, 3) == numbers.UNKNOWN


def test_numbers_js_counts_members_as_python_does() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    js = Path(numbers.__file__).parent / "web" / "static" / "numbers.js"
    cases = [[None if p != p else p, n, m] for p, n, m in CASES]
    script = (f"import({json.dumps(js.as_uri())}).then((N) => console.log(JSON.stringify("
              f"{json.dumps(cases)}.map(([p, n, m]) => N.membersShare(p, n, m)))));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(out.stdout) == [numbers.members_share(p, n, m) for p, n, m in CASES]
