"""Benchmark: one threat-zone calculation for one scenario (target < 50 ms).

Run: ``python benchmarks/bench_zones.py``. Not a test; prints timings.
"""

from __future__ import annotations

import time
from pathlib import Path

from plumecast.zones import compute_zones, load_local_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "graniteville_2005.yaml"


def main(repeat: int = 50) -> None:
    scenario = load_local_scenario(EXAMPLE)
    compute_zones(scenario)  # warm-up: imports, city table
    dense = scenario.release.dense_gas == "auto" and compute_zones(scenario, consequences=False).setup.dense is not None
    print(f"scenario: {EXAMPLE.name} ({'dense gas, Britter-McQuaid' if dense else 'passive Gaussian'}); target < 100 ms")
    for label, kwargs in (("zones only", {"consequences": False}), ("zones + receptors", {})):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            compute_zones(scenario, **kwargs)
            times.append(time.perf_counter() - t0)
        times.sort()
        print(f"{label:18s} median {1e3 * times[len(times) // 2]:7.2f} ms   best {1e3 * times[0]:7.2f} ms")


if __name__ == "__main__":
    main()
