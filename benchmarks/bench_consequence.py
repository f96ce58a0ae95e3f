"""Benchmark: consequences for 34,000 cities x 432 time steps (target < 2 s).

Run: ``python benchmarks/bench_consequence.py``. Prints the best of a few
repeats for a Purple Book agent (chlorine, n = 2.75: a real power per value) and
for a Lees-style agent with n = 2, both with shelter-in-place and the
concentration timelines kept; and the ratio to the 2 s target. Not a test.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import xarray as xr

from plumecast.agents import get_agent
from plumecast.consequence import assess
from plumecast.shelter import Shelter

N_RECEPTORS = 34_000
N_TIMES = 432  # 72 h of 10-min means
TARGET_S = 2.0


def workload(seed: int = 0) -> tuple[xr.DataArray, np.ndarray]:
    """A plume-like field: each city gets gas from a random arrival time on."""
    rng = np.random.default_rng(seed)
    arrival = rng.integers(0, N_TIMES, N_RECEPTORS)
    peak_kg_m3 = 10 ** rng.uniform(-9, -4.5, N_RECEPTORS)
    k = np.arange(N_TIMES)[:, None]
    shape = np.clip(k - arrival[None, :], 0, None) / 36.0
    conc = peak_kg_m3[None, :] * shape * np.exp(1.0 - shape)
    time_ = np.datetime64("2024-01-01T00:00", "ns") + np.arange(1, N_TIMES + 1) * np.timedelta64(
        600, "s"
    )
    da = xr.DataArray(
        conc, dims=("time", "receptor"), coords={"time": time_}, attrs={"units": "kg m-3"}
    )
    pop = rng.integers(15_000, 5_000_000, N_RECEPTORS).astype(float)
    return da, pop


def main() -> None:
    da, pop = workload()
    shelter = Shelter(air_changes_per_hour=0.5, compliance_fraction=0.8, start=None)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numpy {np.__version__}"
    )
    for agent_name, probit_set in (("chlorine", "purple_book"), ("chlorine", "lees")):
        agent = get_agent(agent_name)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            res = assess(da, agent, pop, shelter=shelter, probit_set=probit_set)
            best = min(best, time.perf_counter() - t0)
        print(
            f"assess {N_RECEPTORS:,} receptors x {N_TIMES} steps, {agent_name}/{probit_set}: "
            f"{best:.3f} s (best of 3) = {best / TARGET_S:.2f} x the {TARGET_S:g} s target; "
            f"total fatalities {res.attrs['total_fatalities']:,.0f} / sheltered "
            f"{res.attrs['total_fatalities_sheltered']:,.0f}"
        )


if __name__ == "__main__":
    main()
