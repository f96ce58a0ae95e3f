"""Benchmark: the poison-sky plan comparison (4 plans) on an ensemble, via Dask.

Issue 10 target: 100 members x 4 plans at 1e5 particles per member, <= 10 min end to
end on 2 cores; efficiency from 1 to 2 workers >= 80 %; peak memory reported.

    python benchmarks/bench_ensemble.py --members 100 --particles 100000
    python benchmarks/bench_ensemble.py --members 4 --particles 5000   # a quick look

Efficiency = t(1 worker) / (2 * t(2 workers)). Peak memory: the largest resident set
of this process and of its Dask worker processes (psutil, sampled every 0.5 s).
"""

from __future__ import annotations

import argparse
import threading
import time

import psutil

from plumecast.ensemble.compare import make_setup, run_members
from plumecast.ensemble.members import member_specs
from plumecast.scenario import load_scenario


def _peak_rss(stop: threading.Event, out: list[float]) -> None:
    me = psutil.Process()
    while not stop.is_set():
        rss = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                rss = max(rss, child.memory_info().rss)
            except psutil.Error:
                pass
        out[0] = max(out[0], rss / 2**30)
        time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--particles", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-maps", action="store_true")
    args = ap.parse_args()
    from importlib import resources

    path = resources.files("plumecast") / "data" / "scenarios" / "poison_sky_plans.yaml"
    sc = load_scenario(str(path))
    setup = make_setup(sc, particles=args.particles, maps=not args.no_maps)
    specs = member_specs(setup.scenario, sc.ensemble, args.members)
    times: dict[int, float] = {}
    for w in args.workers:
        peak = [0.0]
        stop = threading.Event()
        th = threading.Thread(target=_peak_rss, args=(stop, peak), daemon=True)
        th.start()
        t0 = time.perf_counter()
        raw = run_members(setup, specs, workers=w)
        times[w] = time.perf_counter() - t0
        stop.set()
        th.join()
        runs = sum(m.runs for m in raw.members)
        print(f"{args.members} members x {len(setup.plans)} plans, {args.particles:,} particles/member, {w} worker(s): "
              f"{times[w]:.1f} s end to end, {runs} transport runs, peak RSS {peak[0]:.2f} GiB per process")
    if 1 in times and 2 in times:
        print(f"efficiency 1 -> 2 workers: {times[1] / (2 * times[2]):.0%}")


if __name__ == "__main__":
    main()
