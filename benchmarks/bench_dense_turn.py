"""Benchmark: a release that can be dense in a wind turning 90 degrees within a step (session 52).

Run: ``python benchmarks/bench_dense_turn.py TREE_A TREE_B [--repeat N] [--dump DIR]``. Not a test. Each run is a
fresh process with ``PYTHONPATH=TREE/src`` (two checkouts side by side: main's and a branch's), the two trees
alternated ``N`` times (the machine is shared; compare the ratios measured in one call). Prints each run's wall
time of ``plumecast.runner.run`` (imports, the scenario and the wind built outside it; numba's compiled kernels
cached) and the load average. ``--dump DIR``: the last repeat of each tree writes its receptors' series and
consequences (concentrations, peaks, countdowns, doses) to ``DIR/<tree name>_<case>_<step>.npz``, and the
script then compares the two trees' files array by array (bit-identical or the largest relative change, and the
countdowns that moved later).

The case (docs/exposure.md, "A release that can be dense pays more"): 30 t of chlorine over 30 min from a 1-m
source at 52 N 5 E (``dense_gas: auto``, class D, rural), the uniform 3 m/s wind of ``tests/puff_reference.py``
east until the record at 3,500 s and north from the one at 3,600 s (a 90-degree turn), 12 places 1-5 km out at 0,
45 and 90 degrees north of east, 3 h, at 600- and 300-s steps; and the same with ``dense_gas: off`` (passive).

``--one TREE CASE STEP [DUMP]`` runs one case in this process (used by the above).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PLACES = [(d, b) for d in (1.0, 2.0, 3.5, 5.0) for b in (0, 45, 90)]
CASES = [("dense", 600.0), ("dense", 300.0), ("passive", 600.0), ("passive", 300.0)]


def one(case: str, step: float, dump: str | None) -> float:
    """Run the case in this process; its wall time [s] (and its arrays to ``dump``)."""
    from tests.puff_reference import RECORDS, scenario, wind

    from plumecast.runner import run
    from plumecast.scenario import scenario_from_dict

    north = RECORDS >= 3600.0
    met = wind(np.where(north, 0.0, 3.0), np.where(north, 3.0, 0.0), "turn")
    data = scenario("denseturn", step, PLACES, amount_kg=30000.0, duration_s=1800.0)
    data["releases"][0]["dense_gas"] = "auto" if case == "dense" else "off"
    sc = scenario_from_dict(data)
    t = time.perf_counter()
    res = run(sc, wind=met)
    wall = time.perf_counter() - t
    if dump:
        ds = res.consequences()
        out = {f"cons_{k}": np.asarray(v.values) for k, v in ds.data_vars.items()
               if np.asarray(v.values).dtype.kind in "fiub"}
        out.update({f"cons_{k}": np.asarray(v.values).astype("datetime64[ns]").astype(np.int64)
                    for k, v in ds.data_vars.items() if np.asarray(v.values).dtype.kind == "M"})
        if res.receptor_series is not None:
            out["series"] = np.asarray(res.receptor_series.values)
        exp = res.exposure
        if exp is not None:
            for k, v in vars(exp).items():
                if isinstance(v, np.ndarray) and v.dtype.kind in "fiub":
                    out[f"exposure_{k}"] = v
        np.savez(dump, **out)
    return wall


def compare(a: Path, b: Path) -> None:
    """Print, per array, whether ``a``'s and ``b``'s agree to the bit, else the largest relative change."""
    fa, fb = np.load(a), np.load(b)
    same, diff = 0, []
    for k in sorted(set(fa.files) | set(fb.files)):
        if k not in fa.files or k not in fb.files:
            diff.append(f"  {k}: only in {'b' if k not in fa.files else 'a'}")
            continue
        x, y = fa[k], fb[k]
        if x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            same += 1
            continue
        if x.shape != y.shape or x.dtype.kind not in "fi":
            diff.append(f"  {k}: shapes/dtypes {x.shape}/{y.shape} {x.dtype}/{y.dtype}")
            continue
        xf, yf = x.astype(float), y.astype(float)
        both = np.isfinite(xf) & np.isfinite(yf)
        rel = np.abs(yf - xf)[both] / np.maximum(np.abs(xf[both]), 1e-300)
        top = float(np.abs(xf[both]).max()) if both.any() else 0.0
        scaled = float(np.abs(yf - xf)[both].max() / top) if top > 0.0 else 0.0
        line = f"  {k}: max rel change {rel.max() if rel.size else 0.0:.3g} (of the largest value {scaled:.3g}), " \
               f"over 1e-3 at {int((rel > 1e-3).sum())} of {rel.size}, finite differs " \
               f"{int((np.isfinite(xf) != np.isfinite(yf)).sum())}"
        if k.startswith("cons_hours_to") or k.startswith("cons_first_exceedance"):
            later = both & (yf > xf)
            line += f", later at {int(later.sum())} (most {float((yf - xf)[later].max()) if later.any() else 0.0:.3g})"
            line += f", earlier at {int((both & (yf < xf)).sum())}"
            line += f", now never where known {int((np.isfinite(xf) & ~np.isfinite(yf)).sum())}"
        diff.append(line)
    print(f"{a.name} vs {b.name}: {same} arrays identical to the bit, {len(diff)} differ")
    for line in diff:
        print(line)


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--one":
        tree, case, step = args[1], args[2], float(args[3])
        # the tree's plumecast; the scenario helpers (tests/puff_reference.py) this script's own
        sys.path[:0] = [str(Path(tree) / "src"), str(Path(__file__).resolve().parents[1])]
        print(f"{one(case, step, args[4] if len(args) > 4 else None):.3f}")
        return
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 2
    dump = args[args.index("--dump") + 1] if "--dump" in args else None
    cases = [c for c in CASES if "--dense-only" not in args or c[0] == "dense"]
    if dump:
        os.makedirs(dump, exist_ok=True)
    trees = [a for a in args if not a.startswith("--") and Path(a).is_dir() and a != dump]
    times: dict[tuple[str, str, float], list[float]] = {}
    for r in range(repeat):
        for case, step in cases:
            for tree in trees:
                name = Path(tree).name
                out = None if dump is None or r < repeat - 1 else str(Path(dump) / f"{name}_{case}_{int(step)}.npz")
                env = dict(os.environ, PYTHONPATH=str(Path(tree) / "src"))
                got = subprocess.run([sys.executable, __file__, "--one", tree, case, str(step), *([out] if out else [])],
                                     env=env, capture_output=True, text=True)
                if got.returncode:
                    sys.exit(got.stderr)
                times.setdefault((name, case, step), []).append(float(got.stdout.split()[-1]))
                print(f"{name} {case} {step:.0f} s: {times[(name, case, step)][-1]:.2f} s  load {os.getloadavg()[0]:.2f}",
                      flush=True)
    for case, step in cases:
        got = [(Path(t).name, times[(Path(t).name, case, step)]) for t in trees]
        text = ", ".join(f"{n} {min(v):.2f} s (runs {' '.join(f'{x:.2f}' for x in v)})" for n, v in got)
        ratio = "" if len(got) < 2 else f"; ratio of the alternated runs {np.median(np.array(got[1][1]) / np.array(got[0][1])):.3f}"
        print(f"{case} {step:.0f}-s steps: {text}{ratio}")
    if dump and len(trees) == 2:
        a, b = (Path(t).name for t in trees)
        for case, step in cases:
            compare(Path(dump) / f"{a}_{case}_{int(step)}.npz", Path(dump) / f"{b}_{case}_{int(step)}.npz")


if __name__ == "__main__":
    main()
