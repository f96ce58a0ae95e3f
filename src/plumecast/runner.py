"""Run a scenario: met -> release -> transport -> concentration.

This is orchestration only (time loop, progress, bookkeeping); the physics lives in
the stage modules. :func:`run` never changes its scenario and returns a
:class:`RunResult`; :func:`write_outputs` writes it atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from plumecast import met
from plumecast.concentration import (
    OutputGrid,
    concentration_dataarray,
    mean_concentration,
    receptor_series,
)
from plumecast.errors import ScenarioError
from plumecast.fileio import atomic_path
from plumecast.receptors import Receptors, load_cities, points, read_receptor_csv
from plumecast.release import births, schedule
from plumecast.scenario import Scenario
from plumecast.transport.kernels_numpy import StepPhysics
from plumecast.transport.lagrangian import get_backend
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED, Particles
from plumecast.transport.windgrid import WindGrid, wind_grid


@dataclass(frozen=True)
class Progress:
    """What a progress display needs after each output interval."""

    step: int
    n_steps: int
    sim_time: np.datetime64
    alive: int
    particle_steps_per_s: float


@dataclass(frozen=True)
class MassBudget:
    """Where the released mass is at the end of the run. [kg]"""

    released: float
    airborne: float
    decayed: float
    exited: float

    @property
    def residual(self) -> float:
        """released - (airborne + decayed + exited); zero up to rounding. [kg]"""
        return self.released - (self.airborne + self.decayed + self.exited)


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    agent: Any
    concentration: xr.DataArray
    receptors: Receptors | None
    receptor_series: xr.DataArray | None
    budget: MassBudget
    particles: Particles
    wall_s: float
    particle_steps: int
    stats: dict[str, Any] = field(default_factory=dict)


def load_wind(scenario: Scenario) -> xr.Dataset:
    """The normalised wind dataset a scenario asks for."""
    cfg = scenario.met
    if cfg.source == "climatology":
        month = cfg.month if cfg.month is not None else scenario.start.month
        return met.climatology(month, level_hpa=cfg.level_hpa if cfg.level_hpa is not None else 850.0)
    if cfg.source == "uniform":
        return met.uniform_wind(cfg.u_m_s, cfg.v_m_s)
    assert cfg.path is not None
    end = scenario.start64 + np.timedelta64(int(round(scenario.run_hours * 3600)), "s")
    return met.open_wind(cfg.path, level_hpa=cfg.level_hpa, time_window=(scenario.start64, end))


def select_receptors(scenario: Scenario) -> Receptors | None:
    """The receptors a scenario names (cities, points, a CSV), or None."""
    cfg = scenario.receptors
    parts: list[Receptors] = []
    if cfg.cities is not None:
        c = cfg.cities
        cities = load_cities(min_population=c.min_population, countries=c.countries, bbox=c.bbox)
        if c.names:
            cities = cities.select(c.names)
        if c.largest is not None:
            cities = cities.largest(c.largest)
        parts.append(cities)
    if cfg.points:
        parts.append(points([p.name for p in cfg.points], [p.lat for p in cfg.points], [p.lon for p in cfg.points],
                            [p.population for p in cfg.points]))
    if cfg.csv is not None:
        parts.append(read_receptor_csv(cfg.csv))
    if not parts:
        return None
    return Receptors.concat(parts)


def run(
    scenario: Scenario,
    *,
    wind: xr.Dataset | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Run a scenario and return its concentrations, receptor series and mass budget.

    Parameters
    ----------
    scenario : the validated case (never modified).
    wind : a normalised wind dataset to use instead of the scenario's ``met``.
    progress : called after every output interval.
    """
    t_wall = time.perf_counter()
    agent = scenario.resolved_agent()
    phases: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - t0
        return now

    wds = load_wind(scenario) if wind is None else wind
    grid: WindGrid = wind_grid(wds, start=scenario.start64)
    backend = get_backend(scenario.backend)
    t = lap("met", t_wall)
    sched = schedule(scenario)
    host_particles = births(sched, scenario.particles, scenario.seed)
    t = lap("release", t)
    # births are sorted by step: how many particles are out at each step, counted once
    born_by_step = np.searchsorted(host_particles.birth_step, np.arange(scenario.n_steps, dtype=np.int32),
                                   side="right")
    particles = backend.to_device(host_particles)
    t = lap("to device", t)
    receptors = select_receptors(scenario)
    t = lap("receptors", t)
    out_grid = OutputGrid.from_config(scenario.output.grid)
    layer = scenario.output.layer_depth_m
    dt = scenario.time_step_s
    n_steps = scenario.n_steps
    if n_steps < 1:
        raise ScenarioError(f"duration ({scenario.run_hours} h) is shorter than one time step ({dt} s)")
    per_out = scenario.steps_per_output
    turb = scenario.turbulence
    physics = StepPhysics(dt_s=dt, kh_m2_s=turb.kh_m2_s, kz_m2_s=turb.kz_m2_s, mixing_height_m=turb.mixing_height_m,
                          decay_rate_s=float(getattr(agent, "decay_rate_s", 0.0)), seed=scenario.seed)
    fields: list[np.ndarray] = []
    times: list[np.datetime64] = []
    decayed = 0.0
    particle_steps = 0
    t_kernel = 0.0
    step = 0
    while step < n_steps:
        n = min(per_out, n_steps - step)
        sampler = out_grid.sampler(layer, backend.zeros((out_grid.nlat, out_grid.nlon)))
        t0 = time.perf_counter()
        decayed += backend.advance(particles, grid, physics, step, n, sampler)
        t_kernel += time.perf_counter() - t0
        # births are sorted by step (release.births), so counting them is a search
        particle_steps += int(born_by_step[step:step + n].sum())
        fields.append(mean_concentration(backend.to_numpy(sampler.acc), n, out_grid, layer))
        step += n
        times.append(scenario.start64 + np.timedelta64(int(round(step * dt)), "s"))
        if progress is not None:
            n_alive = backend.count_active(particles, step - 1)
            progress(Progress(step, n_steps, times[-1], n_alive, particle_steps / max(t_kernel, 1e-9)))
    t = lap("transport loop", t)
    particles = backend.to_host(particles)
    t = lap("to host", t)
    conc = concentration_dataarray(np.stack(fields), np.array(times, dtype="datetime64[ns]"), per_out * dt,
                                   out_grid, agent.name, layer)
    conc.attrs["wind_source"] = str(wds.attrs.get("source", ""))
    series = receptor_series(conc, receptors) if receptors is not None else None
    released_mask = particles.birth_step < n_steps
    budget = MassBudget(
        released=float(np.count_nonzero(released_mask)) * sched.particle_mass_kg,
        airborne=float(particles.mass[released_mask & (particles.status == STATUS_ACTIVE)].sum()),
        decayed=decayed,
        exited=float(particles.mass[released_mask & (particles.status == STATUS_EXITED)].sum()),
    )
    return RunResult(
        scenario=scenario, agent=agent, concentration=conc, receptors=receptors, receptor_series=series,
        budget=budget, particles=particles, wall_s=time.perf_counter() - t_wall, particle_steps=particle_steps,
        stats={"phases_s": phases, "kernel_s": t_kernel, "emitted_kg": sched.total_kg, "particle_mass_kg": sched.particle_mass_kg,
               "wind_source": str(wds.attrs.get("source", "")), "wind_level": str(wds.attrs.get("level", ""))},
    )


def write_outputs(result: RunResult, outdir: str | Path) -> list[Path]:
    """Write ``concentration.nc`` (CF-1.8) and ``receptors.csv`` atomically."""
    outdir = Path(outdir)
    written: list[Path] = []
    sc = result.scenario
    ds = result.concentration.to_dataset()
    ds.attrs.update({
        "Conventions": "CF-1.8",
        "title": f"plumecast forecast: {sc.name}",
        "institution": "plumecast",
        "source": f"plumecast Lagrangian particle model, backend {sc.backend}, {sc.particles} particles, seed {sc.seed}",
        "history": f"created by plumecast from scenario '{sc.name}'",
        "wind": str(result.stats.get("wind_source", "")),
        "references": "https://github.com/plumecast (docs/architecture.md)",
    })
    # CF cell boundaries: each value is the mean over (time - interval, time] on its cell
    interval = np.timedelta64(int(round(sc.steps_per_output * sc.time_step_s)), "s")
    t_end = ds["time"].values
    ds["time_bnds"] = (("time", "nv"), np.stack([t_end - interval, t_end], axis=1))
    ds["time"].attrs["bounds"] = "time_bnds"
    half_lon = 0.5 * float(sc.output.grid.resolution_deg)
    ds["lat_bnds"] = (("lat", "nv"), np.stack([ds["lat"].values - half_lon, ds["lat"].values + half_lon], axis=1))
    ds["lon_bnds"] = (("lon", "nv"), np.stack([ds["lon"].values - half_lon, ds["lon"].values + half_lon], axis=1))
    ds["lat"].attrs["bounds"] = "lat_bnds"
    ds["lon"].attrs["bounds"] = "lon_bnds"
    units = f"hours since {sc.start.isoformat()}"
    ds["time"].encoding.update({"units": units, "dtype": "float64"})
    ds["time_bnds"].encoding.update({"units": units, "dtype": "float64"})
    for name in ("time", "time_bnds", "lat", "lon", "lat_bnds", "lon_bnds"):
        ds[name].encoding["_FillValue"] = None  # CF: coordinates and bounds have no fill value
    ds["concentration"].encoding.update({"zlib": True, "complevel": 1, "shuffle": True})
    path = outdir / "concentration.nc"
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4")
    written.append(path)
    if result.receptor_series is not None:
        s = result.receptor_series
        path = outdir / "receptors.csv"
        with atomic_path(path) as tmp:
            df = s.to_pandas()
            df.columns = [str(n) for n in s["name"].values]
            df.index.name = "time_utc"
            df.to_csv(tmp, float_format="%.6e")
        written.append(path)
    return written
