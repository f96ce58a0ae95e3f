"""End-to-end time and peak memory of ``plumecast demo``.

Runs ``plumecast demo`` in a fresh process and prints its wall time and peak
resident memory (VmHWM): of the demo process itself, of its largest Dask worker,
and the sum of the two over all worker processes (the parent's peak plus every
worker's peak: an upper bound on what the run held at once, since the peaks need not
coincide). The parent reports its own peak (``getrusage(RUSAGE_SELF)`` as it
finishes); the workers' peaks are read from ``/proc/<pid>/status`` every 0.1 s while
they run (Linux; a peak is a high-water mark, so polling only misses growth in a
worker's last 0.1 s). ``RUSAGE_CHILDREN`` is not used: on Linux it gives the largest
single process of the tree, which with workers is a worker, not the demo process.

Two modes:

* ``--plans`` (what ``plumecast demo`` does by default): the four plans of the
  story compared over the 20-member ensemble (imports, Dask workers, every member's
  transports, assessments, tables and maps included); target <= 60 s on 2 cores
  with warm caches.
* default (``plumecast demo --single``): one forecast with 1e6 particles (release,
  72 h of transport, consequence table, netCDF/CSV outputs and the PNG map).

    python benchmarks/bench_demo.py --plans              # the decision demo
    python benchmarks/bench_demo.py --plans --repeat 0   # one run (no warm-up run)
    python benchmarks/bench_demo.py                      # 1e6 particles, numba
    python benchmarks/bench_demo.py --particles 1e7      # the memory check (<= 2 GB)
    python benchmarks/bench_demo.py --backend cuda --particles 1e7
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: runs the command line as the ``plumecast`` script does, then writes this process's
#: own peak resident memory [KiB] to the file named by the first argument
_WRAPPER = """
import resource, sys
from plumecast.cli import app
from plumecast.cli.common import run_app
out = sys.argv.pop(1)
try:
    code = run_app(app)
finally:  # typer ends with SystemExit
    with open(out, "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


def _children() -> dict[int, set[int]]:
    kids: dict[int, set[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, set()).add(int(d.name))
    return kids


def _descendants(pid: int) -> set[int]:
    kids, out, todo = _children(), set(), [pid]
    while todo:
        for c in kids.get(todo.pop(), ()):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _hwm_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _is_worker(pid: int) -> bool:
    """A process started by multiprocessing for a Dask worker (not its resource tracker)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class PeakWatcher(threading.Thread):
    """Polls the peak resident memory (VmHWM) of every worker process below ``pid``."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peaks, self.stop = pid, {}, threading.Event()  # type: ignore[var-annotated]

    def run(self) -> None:
        while not self.stop.is_set():
            for p in _descendants(self.pid):
                hwm = _hwm_kib(p)
                if hwm is not None and _is_worker(p):
                    self.peaks[p] = max(hwm, self.peaks.get(p, 0))
            self.stop.wait(0.1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--particles", default="1e6")
    ap.add_argument("--backend", default="numba")
    ap.add_argument("--plans", action="store_true", help="the plan comparison (plumecast demo's default)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs after one warm-up run (JIT caches); 0: time the single run")
    args = ap.parse_args()
    n = int(float(args.particles))
    if args.plans:
        cli = ["demo", "--backend", args.backend, "-q"]
    else:
        cli = ["demo", "--single", "--particles", str(n), "--backend", args.backend, "-q"]
    walls = []
    parent_gb, worker_gb, total_gb, n_workers = 0.0, 0.0, 0.0, 0
    for i in range(args.repeat + 1):
        load0 = os.getloadavg()[0]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with tempfile.TemporaryDirectory() as out:
            peak_file = os.path.join(out, "parent_peak_kib")
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, peak_file, *cli, "-o", os.path.join(out, "demo")],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            watcher = PeakWatcher(proc.pid)
            watcher.start()
            stdout, stderr = proc.communicate()
            wall = time.perf_counter() - t0
            watcher.stop.set()
            watcher.join()
            parent_kib = int(Path(peak_file).read_text()) if os.path.exists(peak_file) else 0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            print(stdout[-2000:], stderr[-2000:])
            return 1
        label = "warm-up (JIT compile if not cached)" if i == 0 else f"run {i}"
        what = "4 plans x 20 members" if args.plans else f"{n:,} particles"
        workers = sorted(watcher.peaks.values())
        p_gb, w_gb = parent_kib * 1024 / 1e9, (workers[-1] if workers else 0) * 1024 / 1e9
        t_gb = (parent_kib + sum(workers)) * 1024 / 1e9
        # CPU of the demo and its (Dask worker) processes: tells a loaded machine from a slow run
        print(f"plumecast demo, {what}, backend {args.backend}, {label}: {wall:.1f} s end to end; CPU "
              f"{ru1.ru_utime - ru0.ru_utime:.1f} s user + {ru1.ru_stime - ru0.ru_stime:.1f} s system; "
              f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}; peak RSS: demo process {p_gb:.2f} GB, "
              f"largest of {len(workers)} worker processes {w_gb:.2f} GB, all together {t_gb:.2f} GB")
        if i > 0 or args.repeat == 0:
            walls.append(wall)
        parent_gb, worker_gb, total_gb = max(parent_gb, p_gb), max(worker_gb, w_gb), max(total_gb, t_gb)
        n_workers = max(n_workers, len(workers))
    print(f"best end-to-end time: {min(walls):.1f} s (target <= 60 s on 2 cores)")
    print(f"peak resident memory (VmHWM): demo process {parent_gb:.2f} GB; largest worker {worker_gb:.2f} GB "
          f"({n_workers} worker processes); demo process + all workers {total_gb:.2f} GB "
          "(target <= 2 GB at 1e7 particles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
