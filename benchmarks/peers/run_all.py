"""Side-by-side speed comparison: plumecast vs OpenDrift vs Parcels 4 vs Parcels 3.

One command (from the repository root, with the plumecast environment's Python)::

    benchmarks/peers/setup_envs.sh            # once: .peers/{opendrift,parcels4,parcels3}
    /work/venv/bin/python benchmarks/peers/run_all.py            # everything
    /work/venv/bin/python benchmarks/peers/run_all.py --quick    # N = 1e5 only

1. writes the workload (``workload.py``): the analytic wind as CF netCDF, seeded
   initial positions;
2. agreement check at ``--agree-n`` particles (default 1e5), one run per tool and
   diffusion setting, against each other and an independent NumPy reference; it
   stops (exit 2) if the tools disagree beyond the tolerances:
   * no diffusion: mean great-circle displacement after one day within 1 %
     (max/min - 1 over all tools);
   * K_h = 1e4 m2/s: spread of the displacements (their standard deviation) within
     3 %, and the diffusive spread (RMS distance between each tool's run with and
     without diffusion) within 3 % of each other;
3. speed: for each N and diffusion setting, each tool in its own environment (a
   subprocess, one after the other, never two at once), median of ``--reps``
   repetitions of the timed integration; prints million particle-steps per second
   and the ratio plumecast / peer; writes ``RESULTS.md`` beside this file after every
   measurement (so an interrupted run keeps what it measured).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import workload as W  # noqa: E402

PEERS = Path(os.environ.get("PEERS_ENVS", ROOT / ".peers"))

# tool key -> (label, runner script, python)
TOOLS: dict[str, tuple[str, str, Path]] = {
    "plumecast": ("plumecast (numba)", "run_plumecast.py", Path(sys.executable)),
    "opendrift": ("OpenDrift", "run_opendrift.py", PEERS / "opendrift/bin/python"),
    "parcels4": ("Parcels 4", "run_parcels4.py", PEERS / "parcels4/bin/python"),
    "parcels3": ("Parcels 3 (JIT)", "run_parcels3.py", PEERS / "parcels3/bin/python"),
}
PEER_KEYS = ["opendrift", "parcels4", "parcels3"]
RUN_ORDER = ["plumecast", "parcels3", "parcels4", "opendrift"]  # fastest first
TOL_MEAN = 0.01
TOL_SPREAD = 0.03


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def _cpu_idle_fraction(window_s: float = 2.0) -> float:
    """Fraction of all cores idle over a short window (from /proc/stat)."""
    import time

    def snap() -> tuple[int, int]:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return f[3] + f[4], sum(f)

    try:
        i0, t0 = snap()
        time.sleep(window_s)
        i1, t1 = snap()
        return (i1 - i0) / max(t1 - t0, 1)
    except (OSError, ValueError, IndexError):
        return float("nan")


def wait_for_quiet(need: float, max_wait_s: float) -> float:
    """Wait (up to max_wait_s) until the machine is at least `need` idle; the machine
    is shared, and other people's jobs would otherwise be timed with ours."""
    import time

    t_end = time.monotonic() + max_wait_s
    idle = _cpu_idle_fraction()
    while idle < need and time.monotonic() < t_end:
        idle = _cpu_idle_fraction()
    return idle


QUIET = {"need": 0.85, "max_wait_s": 120.0}


def run_tool(key: str, n: int, kh: float, reps: int, seed: int, tag: str) -> dict:
    label, script, py = TOOLS[key]
    if not py.exists():
        raise SystemExit(
            f"{label}: no environment at {py.parent.parent}; run benchmarks/peers/setup_envs.sh"
        )
    out = W.WORK / f"{tag}_{key}_n{n}_kh{kh:g}"
    cmd = [str(py), str(HERE / script), "--n", str(n), "--kh", str(kh),
           "--reps", str(reps), "--seed", str(seed), "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=str(HERE), PEERS_WORK=str(W.WORK),
               PYTHONWARNINGS="ignore")
    idle0 = wait_for_quiet(QUIET["need"], QUIET["max_wait_s"]) if QUIET["need"] > 0 else float("nan")
    load0 = os.getloadavg()[0]
    t0 = _dt.datetime.now()
    print(f"  {label:18s} N={n:>8d} K_h={kh:>6g} reps={reps} ...", end="", flush=True)
    proc = subprocess.run(cmd, cwd=HERE, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(" FAILED")
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"{label} failed (exit {proc.returncode})")
    info = json.loads(out.with_suffix(".json").read_text())
    info.update(key=key, n=n, kh=kh, reps=reps, started=t0.isoformat(timespec="seconds"),
                idle_before=round(idle0, 2),
                loadavg_before=round(load0, 2), loadavg_after=round(os.getloadavg()[0], 2))
    info["psteps_per_s"] = n * W.N_STEPS / info["median_s"]
    out.with_suffix(".json").write_text(json.dumps(info, indent=2))
    with np.load(out.with_suffix(".npz")) as f:
        info["lon"], info["lat"] = f["lon"], f["lat"]
    print(f" median {info['median_s']:8.2f} s  {info['psteps_per_s'] / 1e6:7.2f} M particle-steps/s")
    return info


def agreement(tools: list[str], n: int, seed: int) -> dict:
    """Run every tool once with and without diffusion at N = n and compare."""
    print(f"Agreement check, N = {n}, one day ({W.N_STEPS} x {W.DT_S:g} s)")
    lon0, lat0 = W.load_positions(n, seed)
    res: dict[str, dict] = {}
    env = dict(os.environ, PYTHONPATH=str(HERE), PEERS_WORK=str(W.WORK))
    for kh in (0.0, W.KH_M2_S):
        out = W.WORK / f"agree_reference_n{n}_kh{kh:g}"
        subprocess.run([sys.executable, str(HERE / "run_reference.py"), "--n", str(n),
                        "--kh", str(kh), "--reps", "1", "--seed", str(seed), "--out", str(out)],
                       cwd=HERE, env=env, check=True)
    keys = ["reference", *tools]
    for key in keys:
        row: dict[str, float] = {}
        fin = {}
        for kh in (0.0, W.KH_M2_S):
            if key == "reference":
                with np.load(W.WORK / f"agree_reference_n{n}_kh{kh:g}.npz") as f:
                    fin[kh] = (f["lon"], f["lat"])
            else:
                info = run_tool(key, n, kh, 1, seed, "agree")
                fin[kh] = (info["lon"], info["lat"])
        s0 = W.displacement_stats(lon0, lat0, *fin[0.0])
        s1 = W.displacement_stats(lon0, lat0, *fin[W.KH_M2_S])
        if s0["n_valid"] != n or s1["n_valid"] != n:
            raise SystemExit(f"{key}: lost particles ({s0['n_valid']}, {s1['n_valid']} of {n})")
        diff = W.great_circle_m(*fin[0.0], *fin[W.KH_M2_S]) / 1e3
        row["mean_km"] = s0["mean_km"]
        row["mean_km_diff"] = s1["mean_km"]
        row["std_km_diff"] = s1["std_km"]
        row["rms_diffusive_km"] = float(np.sqrt(np.mean(diff**2)))
        res[key] = {"stats": row, "final_nodiff": fin[0.0]}
    ref = res["reference"]["final_nodiff"]
    for key in keys:
        d = W.great_circle_m(*ref, *res[key]["final_nodiff"]) / 1e3
        res[key]["stats"]["vs_reference_mean_km"] = float(d.mean())
        res[key]["stats"]["vs_reference_max_km"] = float(d.max())

    def rel(name: str) -> float:
        v = [res[k]["stats"][name] for k in keys]
        return max(v) / min(v) - 1.0

    verdict = {
        "n": n,
        "theory_rms_diffusive_km": float(np.sqrt(4 * W.KH_M2_S * W.N_STEPS * W.DT_S)) / 1e3,
        "rel_mean": rel("mean_km"),
        "rel_std_diff": rel("std_km_diff"),
        "rel_rms_diffusive": rel("rms_diffusive_km"),
        "rows": {k: res[k]["stats"] for k in keys},
    }
    print(f"  {'tool':18s} {'mean disp km':>12s} {'vs ref km':>10s} {'mean (K) km':>12s}"
          f" {'std (K) km':>11s} {'diffusive rms km':>17s}")
    for k in keys:
        s = res[k]["stats"]
        print(f"  {k:18s} {s['mean_km']:12.2f} {s['vs_reference_mean_km']:10.2f}"
              f" {s['mean_km_diff']:12.2f} {s['std_km_diff']:11.2f} {s['rms_diffusive_km']:17.2f}")
    print(f"  spread over tools: mean displacement {100 * verdict['rel_mean']:.2f} % (tol 1 %),"
          f" std with diffusion {100 * verdict['rel_std_diff']:.2f} % (tol 3 %),"
          f" diffusive RMS {100 * verdict['rel_rms_diffusive']:.2f} % (tol 3 %;"
          f" theory sqrt(4 K t) = {verdict['theory_rms_diffusive_km']:.2f} km)")
    ok = (verdict["rel_mean"] <= TOL_MEAN and verdict["rel_std_diff"] <= TOL_SPREAD
          and verdict["rel_rms_diffusive"] <= TOL_SPREAD)
    verdict["ok"] = ok
    (W.WORK / "agreement.json").write_text(json.dumps(verdict, indent=2))
    if not ok:
        raise SystemExit("Tools DISAGREE beyond tolerance: a speed comparison would be meaningless.")
    print("  agreement OK\n")
    return verdict


def write_results(path: Path, mach: dict, verdict: dict | None, speed: dict, args) -> None:
    lines = ["# Peer benchmark results", "",
             f"Written by `benchmarks/peers/run_all.py` on {_dt.datetime.now():%Y-%m-%d %H:%M}"
             f" (`{' '.join(sys.argv[1:]) or 'no options'}`).", "",
             "## Machine", ""]
    for k, v in mach.items():
        lines.append(f"- {k}: {v}")
    versions = {}
    for info in speed.values():
        versions[info["key"]] = (info["version"], info["scheme"], info["threads"], info["timing_covers"])
    if versions:
        lines += ["", "## Tools", "", "| tool | version | scheme | threads | timing covers |",
                  "| --- | --- | --- | --- | --- |"]
        for k in TOOLS:
            if k in versions:
                v = versions[k]
                lines.append(f"| {TOOLS[k][0]} | {v[0]} | {v[1]} | {v[2]} | {v[3]} |")
    if verdict:
        lines += ["", f"## Agreement (N = {verdict['n']}, one day)", "",
                  "| tool | mean displacement, no diffusion [km] | mean distance to NumPy reference [km] |"
                  " std of displacement, K_h=1e4 [km] | diffusive RMS [km] |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for k, s in verdict["rows"].items():
            lines.append(f"| {k} | {s['mean_km']:.2f} | {s['vs_reference_mean_km']:.2f} |"
                         f" {s['std_km_diff']:.2f} | {s['rms_diffusive_km']:.2f} |")
        lines += ["",
                  f"Spread over tools: mean displacement {100 * verdict['rel_mean']:.2f} % (tolerance 1 %);"
                  f" std of displacement with diffusion {100 * verdict['rel_std_diff']:.2f} % (3 %);"
                  f" diffusive RMS {100 * verdict['rel_rms_diffusive']:.2f} % (3 %)."
                  f" Theory for the diffusive RMS, sqrt(4 K_h t): {verdict['theory_rms_diffusive_km']:.2f} km.",
                  f"Verdict: {'agree' if verdict['ok'] else 'DISAGREE'}."]
    if speed:
        lines += ["", "## Speed (million particle-steps per second, median of the repetitions)", "",
                  "| N | K_h [m2/s] | " + " | ".join(TOOLS[k][0] for k in TOOLS) + " | "
                  + " | ".join(f"plumecast / {TOOLS[k][0]}" for k in PEER_KEYS) + " |",
                  "| ---: | ---: | " + " | ".join("---:" for _ in TOOLS) + " | "
                  + " | ".join("---:" for _ in PEER_KEYS) + " |"]
        combos = sorted({(i["n"], i["kh"]) for i in speed.values()})
        for n, kh in combos:
            cells, ratios = [], []
            pc = speed.get(("plumecast", n, kh))
            for k in TOOLS:
                i = speed.get((k, n, kh))
                cells.append(f"{i['psteps_per_s'] / 1e6:.3g}" if i else "—")
            for k in PEER_KEYS:
                i = speed.get((k, n, kh))
                ratios.append(f"{pc['psteps_per_s'] / i['psteps_per_s']:.1f}×" if (i and pc) else "—")
            lines.append(f"| {n:.0e} | {kh:g} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        lines += ["", "### The same, per CPU-second (process CPU time, all threads; median)", "",
                  "Less sensitive to other jobs on a shared machine; it removes plumecast's"
                  " second thread from the comparison (the others use one).", "",
                  "| N | K_h [m2/s] | " + " | ".join(TOOLS[k][0] for k in TOOLS) + " |",
                  "| ---: | ---: | " + " | ".join("---:" for _ in TOOLS) + " |"]
        for n, kh in combos:
            cells = []
            for k in TOOLS:
                i = speed.get((k, n, kh))
                cpu = i.get("cpu_seconds") if i else None
                cells.append(f"{n * W.N_STEPS / float(np.median(cpu)) / 1e6:.3g}" if cpu else "—")
            lines.append(f"| {n:.0e} | {kh:g} | " + " | ".join(cells) + " |")
        lines += ["", "### Raw timings [s]", "",
                  "| tool | N | K_h | repetitions [s] | median [s] | CPU time of the repetitions [s] |"
                  " idle before | load avg before/after | started |",
                  "| --- | ---: | ---: | --- | ---: | --- | ---: | --- | --- |"]
        for (k, n, kh), i in sorted(speed.items(), key=lambda t: (t[0][1], t[0][2], t[0][0])):
            reps = ", ".join(f"{s:.2f}" for s in i["seconds"])
            cpu = ", ".join(f"{s:.2f}" for s in i.get("cpu_seconds", [])) or "—"
            lines.append(f"| {TOOLS[k][0]} | {n:.0e} | {kh:g} | {reps} | {i['median_s']:.2f} |"
                         f" {cpu} | {i.get('idle_before', '—')} | {i['loadavg_before']}/{i['loadavg_after']}"
                         f" | {i['started']} |")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="only N = 1e5")
    p.add_argument("--sizes", type=float, nargs="+", default=[1e5, 1e6])
    p.add_argument("--reps", type=int, default=3, help="timed repetitions (median), >= 3")
    p.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    p.add_argument("--skip", nargs="*", default=[], metavar="TOOL@N",
                   help="leave out a tool at a size, e.g. opendrift@1e6")
    p.add_argument("--kh", type=float, nargs="+", default=[0.0, W.KH_M2_S],
                   help="diffusivities to time [m2/s] (default 0 and 1e4)")
    p.add_argument("--resume", action="store_true",
                   help="also tabulate speed results of earlier invocations found in _work/"
                        " (their start times are listed; ratios then mix invocations)")
    p.add_argument("--table-only", action="store_true",
                   help="only rewrite RESULTS.md from the stored results (implies --resume"
                        " and --skip-agreement; runs nothing)")
    p.add_argument("--quiet", type=float, default=0.85,
                   help="before each measurement wait (up to 2 min) until this fraction of the"
                        " CPU is idle (0: don't wait); the idle fraction is recorded")
    p.add_argument("--agree-n", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--skip-agreement", action="store_true",
                   help="reuse the verdict of an earlier run (_work/agreement.json)")
    p.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = p.parse_args()
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes]
    skip = {(s.split("@")[0], int(float(s.split("@")[1]))) for s in args.skip}
    if args.table_only:
        args.resume = args.skip_agreement = True
        sizes = []

    QUIET["need"] = args.quiet
    mach = machine()
    print("Machine:", ", ".join(f"{k} {v}" for k, v in mach.items()))
    W.WORK.mkdir(parents=True, exist_ok=True)
    W.write_wind_file(W.WORK / "wind.nc")
    W.write_wind_file(W.WORK / "wind_halo2.nc", halo=2)
    for n in {*sizes, args.agree_n}:
        W.positions_file(n, args.seed)

    peers = [t for t in args.tools if t != "plumecast"]
    tools = [t for t in RUN_ORDER if t in args.tools]
    if args.skip_agreement:
        verdict = json.loads((W.WORK / "agreement.json").read_text())
        if not verdict.get("ok"):
            raise SystemExit("the stored agreement check failed; rerun without --skip-agreement")
        print("Agreement: reusing", W.WORK / "agreement.json")
    else:
        verdict = agreement(tools, args.agree_n, args.seed)
    speed: dict = {}
    if args.resume:
        for f in sorted(W.WORK.glob("speed_*.json")):
            info = json.loads(f.read_text())
            if "key" in info:
                speed[(info["key"], info["n"], info["kh"])] = info
    write_results(args.results, mach, verdict, speed, args)
    print(f"Speed, median of {args.reps} repetitions")
    for n in sizes:
        for kh in args.kh:
            for key in tools:
                if (key, n) in skip:
                    continue
                speed[(key, n, kh)] = run_tool(key, n, kh, args.reps, args.seed, "speed")
                write_results(args.results, mach, verdict, speed, args)
            pc = speed.get(("plumecast", n, kh))
            if pc:
                for k in peers:
                    if (k, n, kh) in speed:
                        r = pc["psteps_per_s"] / speed[(k, n, kh)]["psteps_per_s"]
                        print(f"    plumecast / {TOOLS[k][0]}: {r:.1f}x")
    print(f"\nwrote {args.results}")


if __name__ == "__main__":
    main()
