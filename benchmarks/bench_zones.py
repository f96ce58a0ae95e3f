"""Benchmark: one threat-zone calculation (targets: passive < 50 ms, dense gas < 100 ms).

Run: ``python benchmarks/bench_zones.py [repeat] [--outputs] [--cli]``. Not a test; prints timings
and the machine's load average (``os.getloadavg``), which every figure depends on.

What is timed
-------------
*zones* (the figure the targets refer to): one :func:`plumecast.nearfield.zones.compute_zones`
call in a warm process, ``consequences=False``. It is everything ``plumecast zones`` computes
for the table and the map: the release's source and dense-gas regime, the levels and their
thresholds, the exposure series on the 240-distance grid, each level's axis ratio, the zone
tips bracketed to 0.01 %, the boundary of each polygon (vectorised bisection), the polygons
in lon/lat, the tip thresholds and exposure durations, the uncertainty sector, the
flammable mass and the threat at the scenario's points. Imports, reading the YAML and
writing files are not in it.

*zones + receptors*: the same with the city assessment (``consequences=True``).

``--outputs`` adds the writing of ``zones.geojson``, ``zones.kml`` and ``zones.png``
(:func:`plumecast.nearfield.zones.write_outputs`, matplotlib imported on first use),
timed on its own. ``--cli`` runs ``plumecast zones`` in fresh processes (interpreter
start, imports, YAML, computation, tables, files) and prints the wall time, with
``python -X importtime`` left to the reader for where the import time goes.

The scenario is the Graniteville example in four variants: stability class F (the
example's) and D, each with the dense-gas model (``dense_gas: auto``, Britter-McQuaid)
and as a passive Gaussian plume (``dense_gas: off``).

The dense-gas series (a slumped cloud with σ_x = σ_y of 1–2 km spans most of the 1,200
intervals of the time axis) take one erf per interval side
(:mod:`plumecast.nearfield.zones.palazzi`), not one per sub-sample; a numba kernel was
tried and dropped, since its first call in a fresh process (JIT start, cached or not)
costs more than the whole calculation.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
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


def _load() -> str:
    return "load average " + " / ".join(f"{v:.2f}" for v in os.getloadavg())


def _stats(times: list[float]) -> str:
    times = sorted(times)
    return f"median {1e3 * times[len(times) // 2]:7.1f} ms   best {1e3 * times[0]:7.1f} ms"


def main(repeat: int = 30, outputs: bool = False, cli: bool = False) -> None:
    print(f"scenario: {EXAMPLE.name}; targets: passive < 50 ms, dense gas < 100 ms; {_load()}")
    for stability in ("F", "D"):
        for dense in (False, True):
            scenario = variant(stability, dense)
            compute_zones(scenario)  # warm-up: imports, city table
            result = compute_zones(scenario, consequences=False)
            model = "dense gas (Britter-McQuaid)" if result.setup.dense is not None else "passive Gaussian"
            for label, kwargs in (("zones", {"consequences": False}), ("zones + receptors", {})):
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    compute_zones(scenario, **kwargs)
                    times.append(time.perf_counter() - t0)
                print(f"class {stability} {model:28s} {label:18s} {_stats(times)}", flush=True)
            if outputs:
                from plumecast.nearfield.zones import write_outputs

                with tempfile.TemporaryDirectory() as tmp:
                    write_outputs(result, Path(tmp))  # warm-up: matplotlib
                    times = []
                    for _ in range(max(3, repeat // 5)):
                        t0 = time.perf_counter()
                        write_outputs(result, Path(tmp))
                        times.append(time.perf_counter() - t0)
                print(f"class {stability} {model:28s} {'GeoJSON+KML+PNG':18s} {_stats(times)}", flush=True)
    print(_load())
    if cli:
        for dense in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                sc = Path(tmp) / "scenario.yaml"
                text = EXAMPLE.read_text()
                if not dense:  # the example's one release (`releases: - type: point`), made passive
                    marker = "  - type: point\n"
                    if marker not in text:
                        raise SystemExit(f"{EXAMPLE}: no '{marker.strip()}' release to set dense_gas: off on")
                    text = text.replace(marker, marker + '    dense_gas: "off"\n', 1)
                sc.write_text(text)
                times = []
                for i in range(3):
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "plumecast", "zones", str(sc), "-o", f"{tmp}/out{i}"],
                                   check=True, capture_output=True)
                    times.append(time.perf_counter() - t0)
            print(f"plumecast zones (fresh process, class F, {'dense' if dense else 'passive'}): {_stats(times)}; "
                  f"{_load()}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 30, outputs="--outputs" in sys.argv, cli="--cli" in sys.argv)
