"""Benchmark: the poison-sky plan comparison (4 plans) on an ensemble, via Dask.

Issue 10 target: 100 members x 4 plans at 1e5 particles per member, <= 10 min end to
end on 2 cores (2 workers); efficiency from 1 to 2 workers >= 80 %; peak memory reported.

    python benchmarks/bench_ensemble.py --members 100 --particles 100000   # the target (about 20 min)
    python benchmarks/bench_ensemble.py --members 10 --particles 100000    # a quick look

Both worker counts run in this one invocation, one after the other, on the same
members (2 workers first: the target). Each worker is a process running one member
at a time with ONE numba thread (``--threads``), so "1 worker" uses one core and
"2 workers" two: efficiency = t(1 worker) / (2 * t(2 workers)). The time of each
is end to end of ``run_members``: cluster start-up, every member, the reduction of
the maps and the shutdown (the decision tables written afterwards are not included;
they take seconds, see bench_demo.py).

Also printed, so that a loaded machine can be told apart from a slow program: the
load average before and after, and the CPU time (user and system) the members took
inside the workers, summed. Peak memory: the largest resident set of this process
and of each Dask worker process, and the largest sum over all of them (psutil,
sampled every 0.2 s).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from importlib import resources
from typing import Any

import psutil

from plumecast.ensemble.compare import make_setup, run_members
from plumecast.ensemble.members import member_specs
from plumecast.scenario import load_scenario


class PeakMemory:
    """Largest resident set of this process, of any child, and of their sum. [GiB]"""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.parent = self.child = self.total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            parent = me.memory_info().rss
            kids = []
            for child in me.children(recursive=True):
                try:
                    kids.append(child.memory_info().rss)
                except psutil.Error:
                    pass
            self.parent = max(self.parent, parent / 2**30)
            self.child = max(self.child, max(kids, default=0) / 2**30)
            self.total = max(self.total, (parent + sum(kids)) / 2**30)
            time.sleep(self.every_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--particles", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 1], help="worker counts, run in this order")
    ap.add_argument("--threads", type=int, default=1, help="numba threads per worker")
    ap.add_argument("--no-maps", action="store_true")
    args = ap.parse_args()
    path = resources.files("plumecast") / "data" / "scenarios" / "poison_sky_plans.yaml"
    sc = load_scenario(str(path))
    setup = make_setup(sc, particles=args.particles, maps=not args.no_maps)
    specs = member_specs(setup.scenario, sc.ensemble, args.members)
    print(f"{os.cpu_count()} cores; {args.members} members x {len(setup.plans)} plans, "
          f"{args.particles:,} particles per member, {args.threads} numba thread(s) per worker", flush=True)
    times: dict[int, float] = {}
    for w in args.workers:
        load0 = os.getloadavg()[0]
        with PeakMemory() as peak:
            t0 = time.perf_counter()
            raw = run_members(setup, specs, workers=w, worker_threads=args.threads)
            times[w] = time.perf_counter() - t0
        runs = sum(m.runs for m in raw.members)
        user = sum(m.cpu_s[0] for m in raw.members)
        system = sum(m.cpu_s[1] for m in raw.members)
        slowest = max(m.wall_s for m in raw.members)
        print(f"{w} worker(s): {times[w]:.1f} s end to end ({times[w] / 60:.1f} min; members "
              f"{raw.wall_s:.1f} s), {runs} transport runs; member CPU {user:.0f} s user + {system:.0f} s system, "
              f"slowest member {slowest:.1f} s; load {load0:.1f} -> {os.getloadavg()[0]:.1f}; "
              f"peak RSS {peak.parent:.2f} GiB (this process), {peak.child:.2f} GiB (largest worker), "
              f"{peak.total:.2f} GiB (all together)", flush=True)
    if 1 in times and 2 in times:
        print(f"speed-up 1 -> 2 workers: {times[1] / times[2]:.2f}x; efficiency {times[1] / (2 * times[2]):.0%} "
              "(target >= 80 %)")
    if 2 in times:
        print(f"2 workers: {times[2] / 60:.1f} min (target <= 10 min at 100 members x 1e5 particles)")


if __name__ == "__main__":
    main()
