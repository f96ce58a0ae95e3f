"""Benchmark: one threat-zone calculation (targets: passive < 50 ms, dense gas < 100 ms).

Run: ``python benchmarks/bench_zones.py [repeat]``. Not a test; prints timings.

The Graniteville example in four variants: stability class F (the example's) and
D, each with the dense-gas model (``dense_gas: auto``, Britter-McQuaid) and as a
passive Gaussian plume (``dense_gas: off``); zones only, and zones with the
receptor (city) assessment.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from plumecast.nearfield.zones import compute_zones, load_local_scenario
from plumecast.nearfield.zones.scenario import LocalScenario

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "graniteville_2005.yaml"


def variant(stability: str, dense: bool) -> LocalScenario:
    sc = load_local_scenario(EXAMPLE)
    met = sc.meteorology.model_copy(update={"stability": stability})
    rel = sc.release.model_copy(update={"dense_gas": "auto" if dense else "off"})
    return sc.model_copy(update={"meteorology": met, "release": rel})


def main(repeat: int = 30) -> None:
    print(f"scenario: {EXAMPLE.name}; targets: passive < 50 ms, dense gas < 100 ms")
    for stability in ("F", "D"):
        for dense in (False, True):
            scenario = variant(stability, dense)
            compute_zones(scenario)  # warm-up: imports, city table
            model = "dense gas (Britter-McQuaid)" if compute_zones(
                scenario, consequences=False).setup.dense is not None else "passive Gaussian"
            for label, kwargs in (("zones only", {"consequences": False}), ("zones + receptors", {})):
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    compute_zones(scenario, **kwargs)
                    times.append(time.perf_counter() - t0)
                times.sort()
                print(f"class {stability} {model:28s} {label:18s} median {1e3 * times[len(times) // 2]:7.1f} ms"
                      f"   best {1e3 * times[0]:7.1f} ms", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
