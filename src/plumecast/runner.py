"""Run a scenario: met -> release -> transport -> concentration.

This is orchestration only (time loop, progress, bookkeeping); the physics lives in
the stage modules. :func:`run` never changes its scenario and returns a
:class:`RunResult`; :func:`write_outputs` writes it atomically.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.concentration import (
    OutputGrid,
    concentration_dataarray,
    mean_concentration,
)
from plumecast.errors import ScenarioError
from plumecast.exposure import (
    ExposureSampler,
    ReceptorExposure,
    tag_bins,
)
from plumecast.exposure_rings import calls_of, n_sub
from plumecast.fileio import atomic_path
from plumecast.numbers import round_sig
from plumecast.receptors import Receptors
from plumecast.release import (
    ReleaseSchedule,
    birth_fractions,
    births_groups_sources,
    first_step_decay,
    particles_for_mass,
    schedule,
)
from plumecast.run_near_field import (
    area_plumes,
    beyond_near_field_lines,
    dense_groups,
    near_field_line,
    near_field_sources,
    short_release_lines,
)
from plumecast.run_winds import lowest_level, run_winds, scenario_winds
from plumecast.scenario import PointRelease, Scenario
from plumecast.scenario_deposition import deposited_off_grid, deposition_values
from plumecast.scenario_modes import unused_met_lines
from plumecast.scenario_receptors import (  # noqa: F401 (the API's place)
    receptor_air_changes,
    select_receptors,
    select_receptors_with_extent,
)
from plumecast.transport import kernels_numba, kernels_numpy
from plumecast.transport.kernels_numpy import StepPhysics, interpolate_wind
from plumecast.transport.lagrangian import get_backend
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED, Particles
from plumecast.transport.windgrid import WindGrid


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
    neutralised: float = 0.0
    deposited_dry: float = 0.0
    deposited_wet: float = 0.0

    @property
    def deposited(self) -> float:
        """Mass removed at the ground and by rain. [kg]"""
        return self.deposited_dry + self.deposited_wet

    @property
    def residual(self) -> float:
        """released - (airborne + decayed + deposited + exited + neutralised); zero up to rounding. [kg]"""
        return self.released - (self.airborne + self.decayed + self.deposited + self.exited + self.neutralised)


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
    exposure: ReceptorExposure | None = None
    front_arrival: xr.DataArray | None = None
    concentration_by_tag: xr.DataArray | None = None
    #: mass deposited (dry + wet) in each output cell during each output interval
    #: (time, lat, lon) [kg m-2]; None when the run has no deposition
    deposited: xr.DataArray | None = None

    def consequences(self) -> xr.Dataset:
        """Who is hurt at the receptors: what ``plumecast run`` writes to consequences.csv.

        :func:`plumecast.city_parts.assess_exposure` of the run's exposure with the
        scenario's shelter, start and issue time: the cities a point release's plume
        crosses are assessed part by part of their disc. ``plumecast.assess`` on
        ``receptor_series`` (each city's disc-mean air) understates their deaths: the
        toxic load is convex in the concentration (docs/exposure.md)."""
        if self.exposure is None:
            raise ValueError("this run has no receptors: give receptors in the scenario")
        from plumecast.city_parts import assess_exposure
        from plumecast.shelter import Shelter

        sc = self.scenario
        shelter = None
        if sc.shelter is not None:
            sh = sc.shelter
            shelter = Shelter(air_changes_per_hour=sh.air_changes_per_hour, compliance_fraction=sh.compliance_fraction,
                              start=sh.start_h * 3600.0, end=None if sh.end_h is None else sh.end_h * 3600.0,
                              ventilation_air_changes_per_hour=sh.ventilation_air_changes_per_hour)
        # a point's own building (receptors.points[].air_changes_per_hour), as zones reads it: the two had
        # given the same deaths at 0.5 and 5 air changes/h (audit 43, #2)
        own = receptor_air_changes(sc)
        if own is not None and len(own) == len(self.exposure.receptors):
            shelter = (shelter or Shelter()).model_copy(update={"receptor_air_changes_per_hour": own.tolist()})
        return assess_exposure(self.exposure, self.agent, shelter=shelter, start=sc.start64, issued_at=sc.issued64)


def load_wind(scenario: Scenario) -> xr.Dataset:
    """The normalised (lazy) met dataset a scenario asks for: 3-D when it is read on
    levels, else one level (see :func:`plumecast.run_winds.scenario_winds`)."""
    return scenario_winds(scenario)[0]


def wind_sampler(grid: WindGrid) -> Callable[[Any, Any, float], Any]:
    """``(lon, lat, t_s) -> (u_east, v_north)`` [m s-1] from the kernels' wind grid
    (the same interpolation the particles see): floats for a point, arrays for
    arrays of points (NaN outside the wind domain). The points and records of the last
    call are kept: the same points at the same place between the same records (steady
    met: every step; the area plumes ask at each step) take the winds found then."""
    held: list[Any] = [None]  # (records, lon, lat, winds) of the last call, replaced whole (threads)

    def at(lon: Any, lat: Any, t_s: float) -> Any:
        k, w = grid.time_index(np.array([t_s], np.float64))
        lon_a = np.atleast_1d(np.asarray(lon, np.float64))
        lat_a = np.atleast_1d(np.asarray(lat, np.float64))
        key = (int(k[0]), float(w[0]), grid.times_s.tobytes())
        last = held[0]
        if last is not None and last[0] == key and np.array_equal(last[1], lon_a) and np.array_equal(last[2], lat_a):
            u_e, v_n, inside = last[3]
        else:
            v, inside = interpolate_wind(grid, int(k[0]), float(w[0]), lon_a, lat_a)
            lam, phi = np.deg2rad(lon_a), np.deg2rad(lat_a)
            u_e = -np.sin(lam) * v[0] + np.cos(lam) * v[1]
            v_n = -np.sin(phi) * np.cos(lam) * v[0] - np.sin(phi) * np.sin(lam) * v[1] + np.cos(phi) * v[2]
            held[0] = (key, lon_a.copy(), lat_a.copy(), (u_e, v_n, inside))
        if np.ndim(lon) == 0:
            return float(u_e[0]), float(v_n[0])
        return np.where(inside, u_e, np.nan), np.where(inside, v_n, np.nan)

    return at


def _on_wind_domain(grid: WindGrid, receptors: Receptors) -> NDArray[np.bool_]:
    grid = lowest_level(grid)
    _, inside = interpolate_wind(grid, 0, 0.0, np.asarray(receptors.lon, float), np.asarray(receptors.lat, float))
    return np.asarray(inside & np.isfinite(receptors.lat) & np.isfinite(receptors.lon))


def run(
    scenario: Scenario,
    *,
    wind: xr.Dataset | None = None,
    progress: Callable[[Progress], None] | None = None,
    exposure_tags_h: Sequence[float] | None = None,
    particle_mass_kg: float | None = None,
    front: Any = None,
    grid_tags_h: Sequence[float] | None = None,
    checkpoint: Any = None,
    resume_from: Any = None,
) -> RunResult:
    """Run a scenario and return its concentrations, receptor exposure and mass budget.

    Parameters
    ----------
    scenario : the validated case (never modified).
    wind : a normalised wind dataset to use instead of the scenario's ``met``.
    progress : called after every output interval.
    exposure_tags_h : emission times (hours after start, on step boundaries) at
        which the receptor exposure is split into emission tags (see
        :class:`plumecast.exposure.ReceptorExposure`); a termination at one of
        them is then exact without a rerun.
    particle_mass_kg : fix the mass per particle (the particle count follows from
        the emitted mass) instead of fixing the count (``scenario.particles``).
    front : a neutralisation front (:class:`plumecast.countermeasures.front.Front`),
        advanced on the output grid every output interval; particles in the cells
        it has burnt are removed and counted as neutralised.
    grid_tags_h : emission times (hours after start, on step boundaries) at which
        the gridded concentration is also split into emission tags
        (``RunResult.concentration_by_tag``, same tag layout as the exposure);
        CPU backends only.
    checkpoint : a hook with ``due(step, n_steps)`` and ``save(state)``
        (:class:`plumecast.checkpoint.CheckpointWriter`), asked after every output
        interval.
    resume_from : a :class:`plumecast.checkpoint.RunState` of this scenario: the run
        continues from it (bitwise the same results as without the break on the CPU).
    """
    t_wall = time.perf_counter()
    agent = scenario.resolved_agent()
    phases: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - t0
        return now

    dt = scenario.time_step_s
    n_steps = scenario.n_steps
    if n_steps < 1:
        raise ScenarioError(f"duration ({scenario.run_hours} h) is shorter than one time step ({dt} s)")
    winds = run_winds(scenario, wind)
    wds = winds.dataset
    backend = get_backend(scenario.backend)
    t = lap("met", t_wall)
    sched = schedule(scenario)
    if particle_mass_kg is None:
        n_particles = scenario.particles
    else:
        n_particles = particles_for_mass(sched, particle_mass_kg, scenario.seed)
        if n_particles < 1:
            raise ScenarioError(f"particle mass {particle_mass_kg:g} kg exceeds the emitted mass {sched.total_kg:g} kg")
    host_particles, group, source = births_groups_sources(sched, n_particles, scenario.seed, particle_mass_kg)
    # the kernels decay a particle over the whole step it is born in, though its step's mass is emitted
    # through the step: it starts that much heavier, and the surplus is taken out of the decayed mass
    # (release.first_step_decay; before, continuous emissions lost exp(-k dt/2) too much: 1.5 % of the
    # airborne mass at k = 1e-4 s-1 and 300-s steps, 26 % at 1e-3 and 600 s; audit)
    decay_surplus_kg = 0.0
    first = first_step_decay(sched, dt, n_steps, float(getattr(agent, "decay_rate_s", 0.0)))
    if first is not None:
        born = host_particles.birth_step < n_steps
        mass0 = host_particles.mass[born].copy()
        host_particles.mass[born] = mass0 * first[host_particles.birth_step[born], group[born]]
        decay_surplus_kg = float(np.sum(host_particles.mass[born] - mass0))
    t = lap("release", t)
    # births are sorted by step: how many particles are out at each step, counted once
    born_by_step = np.searchsorted(host_particles.birth_step, np.arange(n_steps, dtype=np.int32), side="right")
    receptors, extent = select_receptors_with_extent(scenario)
    t = lap("receptors", t)
    sampler_x: ExposureSampler | None = None
    wind_at = winds.wind_at()
    if receptors is not None and len(receptors):
        try:
            bins = tag_bins(n_steps, dt, exposure_tags_h)
        except ValueError as exc:
            raise ScenarioError(f"exposure tags: {exc}") from None
        sampler_x = ExposureSampler(
            receptors, start64=scenario.start64, dt_s=dt, n_steps=n_steps, layer_depth_m=scenario.output.layer_depth_m,
            bin_starts=bins, group_of_particle=group, birth_step=host_particles.birth_step,
            group_names=tuple(g.name for g in sched.groups), on_grid=_on_wind_domain(winds.first_grid(), receptors),
            near_field=near_field_sources(scenario, sched, agent, winds.boundary_at()),
            near_field_distance_m=scenario.near_field.distance_km * 1000.0, extent_m=extent,
            birth_frac=birth_fractions(sched, n_particles, scenario.seed, particle_mass_kg, host_particles.birth_step,
                                       group, dt) if n_sub(dt) > 1 else None,
        )
        sampler_x.wind_at = wind_at
    particles = backend.to_device(host_particles)
    t = lap("to device", t)
    out_grid = OutputGrid.from_config(scenario.output.grid)
    layer = scenario.output.layer_depth_m
    grid_tag: NDArray[np.int32] | None = None
    n_gtags = 1
    if grid_tags_h is not None:
        if backend.name not in ("numpy", "numba"):
            raise ScenarioError(f"gridded emission tags need a CPU backend (numba or numpy), not {backend.name!r}")
        try:
            gbins = tag_bins(n_steps, dt, grid_tags_h)
        except ValueError as exc:
            raise ScenarioError(f"grid tags: {exc}") from None
        n_groups = len(sched.groups)
        bin_of_step = np.searchsorted(gbins, np.arange(n_steps), side="right") - 1
        grid_tag = (bin_of_step[np.minimum(host_particles.birth_step, n_steps - 1)] * n_groups + group).astype(np.int32)
        n_gtags = int(gbins.size * n_groups)
    per_out = scenario.steps_per_output
    turb = scenario.turbulence
    resistance = scenario.dry_deposition_resistance()
    dry_v, scav_a, scav_b, deposition_notes = deposition_values(scenario.deposition, scenario.agent, resistance)
    model, resistance_notes = resistance.model, resistance.notes
    if model is not None and winds.first_grid().stomata is not None:
        resistance_notes = [n.replace("solar radiation", "declared solar radiation", 1) for n in resistance_notes]
        resistance_notes.append("dry deposition: the stomatal resistance from the met's solar radiation and surface "
                                "temperature at each particle (the declared ones and the r_c above are not used)")
    deposition_notes = [*resistance_notes, *deposition_notes]
    if model is not None and winds.first_grid().surface is None:
        raise ScenarioError("deposition.land_use: Wesely's resistance model needs the friction velocity and the "
                            "Obukhov length from the met (ERA5 zust and sshf, GFS FRICV and SHTFL); "
                            f"{scenario.met.path or 'the climatological mean winds'} has none (or "
                            "met.boundary_layer is constant): give deposition.dry_velocity_m_s instead")
    if model is not None and resistance.cells is not None:  # v_d of each cell's land uses (land_use: map)
        deposition_notes.append(winds.use_cell_deposition(resistance.cells))
    elif model is not None and model.mosaic:  # the land-water mosaic: where its land fraction comes from
        deposition_notes.append(winds.use_land_mask(scenario.deposition.land_mask))
    if sampler_x is not None:
        # the dry deposition the plumes deplete by: the run's constant velocity (0 with the resistance model)
        sampler_x.use_area_plumes(area_plumes(scenario, sched, agent, source, sampler_x,
                                               dry_v if model is None else 0.0, winds.boundary_at()))
    physics = StepPhysics(dt_s=dt, kh_m2_s=turb.kh_m2_s, kz_m2_s=turb.kz_m2_s, mixing_height_m=turb.mixing_height_m,
                          decay_rate_s=float(getattr(agent, "decay_rate_s", 0.0)), seed=scenario.seed,
                          kz_free_m2_s=turb.kz_free_m2_s, dry_velocity_m_s=dry_v, scavenging_a_s=scav_a,
                          scavenging_b=scav_b, resistance=model, kh_time_scale_s=turb.kh_time_scale_s)
    # [dry, wet] mass removed so far [kg]; the kernels add to it in place
    removed = np.zeros(2, np.float64)
    removal: dict[str, Any] = {"removed": removed} if physics.deposits else {}
    dep_fields: list[np.ndarray] = []
    cell_area = out_grid.cell_area_m2()
    fields: list[np.ndarray] = []
    tag_fields: list[np.ndarray] = []
    times: list[np.datetime64] = []
    decayed = 0.0
    neutralised = 0.0
    particle_steps = 0
    t_kernel = 0.0
    t_exposure = 0.0
    t_met = 0.0
    step = 0
    if (checkpoint is not None or resume_from is not None) and front is not None:
        raise ScenarioError("checkpoints: a run with a neutralisation front cannot be checkpointed or resumed")
    inputs = None
    if checkpoint is not None or resume_from is not None:
        from plumecast.checkpoint import input_record

        # the files the scenario names and the receptors read from them: a resume must find them as they were
        inputs = input_record(scenario, receptors, extent)
    if resume_from is not None:
        # the random numbers depend only on (seed, particle, step): this state is all the loop carries
        resume_from.check_matches(n_particles, n_steps, per_out)
        assert inputs is not None
        resume_from.check_inputs(inputs)
        particles = backend.to_device(resume_from.particles)
        step, decayed, neutralised = resume_from.step, resume_from.decayed, resume_from.neutralised
        particle_steps = resume_from.particle_steps
        fields, tag_fields, times = list(resume_from.fields), list(resume_from.tag_fields), list(resume_from.times)
        resume_from.restore_exposure(sampler_x)
        # the deposited-mass fields so far, and the [dry, wet] totals the kernels keep adding to
        dep_fields = resume_from.restore_deposition(removed if physics.deposits else None)
        if checkpoint is not None:
            checkpoint.start_at(step)
    while step < n_steps:
        n = min(per_out, n_steps - step)
        if grid_tag is None:
            sampler = out_grid.sampler(layer, backend.zeros((out_grid.nlat, out_grid.nlon)))
        else:
            sampler = out_grid.sampler(layer, np.zeros((n_gtags, out_grid.nlat, out_grid.nlon)))
            sampler.particle_tag = grid_tag
        if physics.deposits:
            sampler.deposited = backend.zeros((out_grid.nlat, out_grid.nlon))
        # one kernel call per stretch of steps between two met records (only the
        # records these steps need are held: plumecast.run_winds)
        for s0, m in calls_of(winds.chunks(step, n, dt), None if sampler_x is None else sampler_x.steps_per_call):
            t0 = time.perf_counter()
            grid = winds.grid_for(s0, m, dt)
            t_met += time.perf_counter() - t0
            if sampler_x is None:
                t0 = time.perf_counter()
                decayed += _kernel_call(backend.name, backend.advance, particles, grid, physics, s0, m, sampler,
                                        **removal)
                t_kernel += time.perf_counter() - t0
            elif backend.name in ("numba", "numpy"):
                # the kernel hands the receptors the particles after every step itself
                kernel = kernels_numba.advance if backend.name == "numba" else kernels_numpy.advance
                t0 = time.perf_counter()
                decayed += _kernel_call(backend.name, kernel, particles, grid, physics, s0, m, sampler,
                                        receptors=sampler_x, **removal)
                t_kernel += time.perf_counter() - t0
            else:
                # one kernel call per step: the receptors see every step's particles
                for s in range(s0, s0 + m):
                    if sampler_x.wants_start(s):  # the particles' places before it (their air within the steps)
                        host = backend.to_host(particles)
                        sampler_x.note_start(host.lon, host.lat, s)
                    t0 = time.perf_counter()
                    decayed += backend.advance(particles, grid, physics, s, 1, sampler, **removal)
                    t1 = time.perf_counter()
                    host = backend.to_host(particles)
                    sampler_x.sample(host.lon, host.lat, host.z, host.mass, host.birth_step, host.status, s,
                                     wind_at)
                    t_kernel += t1 - t0
                    t_exposure += time.perf_counter() - t1
        if physics.deposits:
            dep_fields.append((backend.to_numpy(sampler.deposited) / cell_area).astype(np.float32))
        # births are sorted by step (release.births), so counting them is a search
        particle_steps += int(born_by_step[step:step + n].sum())
        field_tags = mean_concentration(backend.to_numpy(sampler.acc), n, out_grid, layer)
        field_now = field_tags if grid_tag is None else field_tags.sum(axis=0, dtype=np.float64).astype(np.float32)
        if grid_tag is not None:
            tag_fields.append(field_tags)
        step += n
        if front is not None:
            host = backend.to_host(particles)
            burnt = front.advance(field_now.astype(np.float64), (step - n) * dt, step * dt)
            neutralised += _neutralise(host, burnt, out_grid, step)
            if sampler_x is not None:  # the near-field plumes of burnt receptors restart from the burn
                sampler_x.burn_s = front.arrival_at(np.asarray(sampler_x.receptors.lat, float),
                                                    np.asarray(sampler_x.receptors.lon, float))
                sampler_x.front_lit_s = float(np.min(front.ignition_s, initial=np.inf))
            particles = backend.to_device(host)
        fields.append(field_now)
        times.append(scenario.start64 + np.timedelta64(int(round(step * dt)), "s"))
        if progress is not None:
            n_alive = backend.count_active(particles, step - 1)
            progress(Progress(step, n_steps, times[-1], n_alive, particle_steps / max(t_kernel, 1e-9)))
        if checkpoint is not None and checkpoint.due(step, n_steps):
            from plumecast.checkpoint import RunState

            checkpoint.save(RunState.capture(step, backend.to_host(particles), fields, tag_fields, times, decayed,
                                             neutralised, particle_steps, sampler_x,
                                             deposited=dep_fields if physics.deposits else None,
                                             removed=removed if physics.deposits else None, inputs=inputs))
    t = lap("transport loop", t)
    phases["receptor exposure (in loop)"] = t_exposure
    phases["met records (in loop)"] = t_met
    particles = backend.to_host(particles)
    t = lap("to host", t)
    conc = concentration_dataarray(np.stack(fields), np.array(times, dtype="datetime64[ns]"), per_out * dt,
                                   out_grid, agent.name, layer)
    conc.attrs["wind_source"] = str(wds.attrs.get("source", ""))
    deposited = None
    if physics.deposits:
        deposited = deposited_dataarray(np.stack(dep_fields), conc, per_out * dt)
    by_tag = None
    if grid_tag is not None:
        dt_h = dt / 3600.0
        starts = np.repeat(gbins * dt_h, len(sched.groups))
        ends = np.repeat(np.append(gbins[1:], n_steps) * dt_h, len(sched.groups))
        by_tag = xr.DataArray(
            np.stack(tag_fields, axis=1), dims=("tag", "time", "lat", "lon"),
            coords={"tag": np.arange(n_gtags), "time": conc["time"].values, "lat": conc["lat"], "lon": conc["lon"],
                    "tag_start_h": ("tag", starts), "tag_end_h": ("tag", ends),
                    "tag_group": ("tag", np.tile(np.arange(len(sched.groups)), gbins.size))},
            name="concentration_by_tag", attrs={**conc.attrs, "long_name": conc.attrs["long_name"]
                                                + ", from the emissions of one tag (release group and window)"})
    exposure = sampler_x.result() if sampler_x is not None else None
    series = exposure.to_dataarray() if exposure is not None else None
    released_mask = particles.birth_step < n_steps
    above_top = _above_the_met(scenario, particles, released_mask, winds.top_m)
    dense = dense_groups(sampler_x)  # each near-field source's cloud at each step's weather: once
    if not winds.has_boundary_layer:
        above_top += above_the_mixed_layer(scenario, dense)
    budget = MassBudget(
        released=float(np.count_nonzero(released_mask)) * sched_mass(sched, n_particles, particle_mass_kg),
        airborne=float(particles.mass[released_mask & (particles.status == STATUS_ACTIVE)].sum()),
        decayed=decayed - decay_surplus_kg,
        exited=float(particles.mass[released_mask & (particles.status == STATUS_EXITED)].sum()),
        neutralised=neutralised,
        deposited_dry=float(removed[0]),
        deposited_wet=float(removed[1]),
    )
    off_grid = deposited_off_grid(deposited, out_grid, budget.deposited)
    front_arrival = None
    if front is not None:
        arrival = np.asarray(front.arrival_s, dtype=float)
        reached = np.isfinite(arrival)
        stamps = np.full(arrival.shape, np.datetime64("NaT", "ns"))
        stamps[reached] = scenario.start64 + (arrival[reached] * 1e9).astype("timedelta64[ns]")
        front_arrival = xr.DataArray(stamps, dims=("lat", "lon"), coords={"lat": out_grid.lat, "lon": out_grid.lon},
                                     name="front_arrival", attrs={"long_name": "time the neutralisation front "
                                                                  "reaches the cell (NaT: never)"})
    return RunResult(
        scenario=scenario, agent=agent, concentration=conc, receptors=receptors, receptor_series=series,
        budget=budget, particles=particles, wall_s=time.perf_counter() - t_wall, particle_steps=particle_steps,
        stats={"phases_s": phases, "kernel_s": t_kernel, "emitted_kg": sched.total_kg,
               "particle_mass_kg": sched_mass(sched, n_particles, particle_mass_kg), "n_particles": n_particles,
               "wind_source": str(wds.attrs.get("source", "")),
               "wind_level": "levels" if winds.levels else str(wds.attrs.get("level", "")),
               "met_provenance": [*winds.provenance, _deposition_line(physics, winds.has_boundary_layer),
                                  *unused_met_lines(scenario, winds.levels, winds.has_boundary_layer),
                                  *deposition_notes, *off_grid, *above_top,
                                  *near_field_line(scenario, sampler_x, winds.has_boundary_layer),
                                  *beyond_near_field_lines(scenario, sampler_x),
                                  *(short_release_lines(scenario, sched) if sampler_x is not None else [])],
               "release_provenance": source_lines(sched),
               "near_field_dense_groups": dense,
               "met_records_read": winds.records_read, "met_window_records": winds.window_records},
        exposure=exposure, front_arrival=front_arrival, concentration_by_tag=by_tag, deposited=deposited,
    )


def _above_the_met(scenario: Scenario, particles: Particles, released: NDArray[np.bool_],
                   top_m: float | None) -> list[str]:
    """Lines saying that releases start, or particles end, above the highest height
    of the met (the kernels hold the top level's winds and w there): a stratospheric
    release, or an updraft lifting the gas out of the met, is moved by winds the
    files do not hold."""
    if top_m is None:
        return []
    out = []
    for i, rel in enumerate(scenario.releases):
        height = float(getattr(rel, "height_m", 0.0) or 0.0)
        if height > top_m:
            name = getattr(rel, "name", None) or f"releases.{i}"
            out.append(f"above the met: {name} starts at {height:,.0f} m, above the met's highest height "
                       f"({top_m:,.0f} m above ground), where the top level's winds and vertical motion are held; "
                       "give met with levels up to the release")
    live = released & (particles.status == STATUS_ACTIVE)
    n_live = int(np.count_nonzero(live))
    n_above = int(np.count_nonzero(live & (particles.z > top_m)))
    if n_above:
        share = round_sig(100.0 * n_above / n_live, 2)
        out.append(f"above the met: {n_above:,} of {n_live:,} airborne particles ({share:g} %) end above the met's "
                   f"highest height ({top_m:,.0f} m above ground), where the top level's winds and vertical motion "
                   "are held")
    return out


def above_the_mixed_layer(scenario: Scenario, dense: list[int] | None = None) -> list[str]:
    """Lines naming the point releases that start at or above a constant mixing height
    (``turbulence.mixing_height_m``, where the met gives no boundary layer): no turbulence
    carries their gas down, so the ground air from them stays zero through the run, which
    the tables would show as plain zeros. For a release whose near field was zones' dense
    cloud (``dense``: release indices, :func:`plumecast.run_near_field.dense_groups`), only
    its particles' air: the cloud is modelled from the ground (its own line says so)."""
    h = float(scenario.turbulence.mixing_height_m)
    out = []
    for i, rel in enumerate(scenario.releases):
        if not isinstance(rel, PointRelease):
            continue
        height = float(rel.height_m)
        if height >= h:
            name = rel.name or f"releases.{i}"
            where = ("the ground air from it stays zero throughout the run" if i not in (dense or ()) else
                     "the ground air from its particles stays zero throughout the run, while within "
                     f"{float(scenario.near_field.distance_km):g} km (near_field.distance_km) its dense cloud is "
                     "modelled from the ground (see the dense release line)")
            out.append(f"above the mixed layer: {name} starts at {height:,.0f} m, at or above the mixing height "
                       f"({h:,.0f} m, turbulence.mixing_height_m, constant: the met gives no boundary layer), so no "
                       f"turbulence brings its gas down and {where}; "
                       "give met with a boundary layer (ERA5 blh, GFS hpbl), which can grow into it, or a mixing "
                       "height above the release if that is what the day holds")
    return out


def source_lines(sched: ReleaseSchedule) -> list[str]:
    """Which source model made the rate of each release given as a tank or an
    amount, what it released during the run, and the model's notes."""
    out = []
    for g, grp in enumerate(sched.groups):
        if grp.source_model is None or grp.rate_edges_s is None or grp.rate_table_kg_s is None:
            continue
        table = float(np.sum(grp.rate_table_kg_s * np.diff(grp.rate_edges_s)))
        span = (grp.rate_edges_s[-1] - grp.rate_edges_s[0]) / 60.0
        out.append(f"source model: {grp.name}: {grp.source_model}; {table:.4g} kg over {span:.4g} min from "
                   f"{grp.start_s / 3600.0:g} h, {float(sched.emitted_kg[:, g].sum()):.4g} kg of it released "
                   "during the run")
        out.extend(f"source model: {grp.name}: {note}" for note in grp.notes)
    return out


def _deposition_line(physics: StepPhysics, rain: bool = True) -> str:
    """One line saying which deposition the run applied; ``rain``: the met's
    precipitation reaches the particles (a boundary layer from the met)."""
    if not physics.deposits:
        return "deposition: none (no dry deposition velocity or scavenging given or known)"
    dry = (f"dry velocity {physics.dry_velocity_m_s:g} m s-1 at the lowest level" if physics.resistance is None
           else "dry velocity 1 / (r_a + r_b + r_c) of Wesely's resistance model")
    if not rain:
        return (f"deposition: {dry}; no wet scavenging (the run reads no precipitation: no boundary layer "
                "from the met)")
    return (f"deposition: {dry}; wet scavenging "
            f"Lambda = {physics.scavenging_a_s:g} s-1 x (P / mm h-1)^{physics.scavenging_b:g}")


def deposited_dataarray(fields: NDArray[np.float32], conc: xr.DataArray, interval_s: float) -> xr.DataArray:
    """Mass deposited (dry + wet) per unit area in each output cell during each
    output interval, on the concentration's (time, lat, lon). [kg m-2]"""
    return xr.DataArray(
        fields, dims=("time", "lat", "lon"), coords={"time": conc["time"], "lat": conc["lat"], "lon": conc["lon"]},
        name="deposited_mass",
        attrs={"units": "kg m-2",
               "long_name": f"mass of {conc.attrs.get('agent', 'gas')} deposited at the ground (dry deposition and "
                            "wet scavenging) during the output interval, per unit area",
               "cell_methods": "time: sum",
               "interval_s": float(interval_s)},
    )


#: hand numba kernel calls to a helper thread so that signals act at once (set by the
#: command line, :func:`plumecast.cli.common.run_app`; library use calls them directly)
interruptible_kernels = False
_kernel_thread: threading.Thread | None = None
_kernel_jobs: Any = None


def _kernel_worker(jobs: Any) -> None:
    while True:
        job = jobs.get()
        if job is None:  # the interpreter is leaving: end the thread (and its OpenMP team) cleanly
            return
        fn, args, kwargs, box, done = job
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc
        finally:
            box["finished"] = True
            done.set()


def _kernel_call(backend_name: str, fn: Callable[..., float], *args: Any, **kwargs: Any) -> float:
    """Call a transport kernel so that Ctrl-C and SIGTERM act within a fraction of a second.

    The numba kernel releases the GIL (``nogil``) and runs a whole output interval per
    call, seconds for a large run; Python runs signal handlers only in the main
    thread between bytecodes. So the main thread hands the call to one long-lived
    helper thread (always the same one: the OpenMP runtime keeps one thread team per
    calling thread, and calls never overlap) and waits in short slices, where a
    signal's ``KeyboardInterrupt``/``SystemExit`` is raised at once; an abandoned call
    finishes on its own (the process is leaving) before the helper takes another.
    The call itself is unchanged: results are bitwise those of a direct call. Other
    backends, and calls outside the main thread, are called directly.
    """
    global _kernel_thread, _kernel_jobs
    if (backend_name != "numba" or not interruptible_kernels
            or threading.current_thread() is not threading.main_thread()):
        return fn(*args, **kwargs)
    if _kernel_thread is None or not _kernel_thread.is_alive():
        import queue

        _kernel_jobs = queue.Queue()
        _kernel_thread = threading.Thread(target=_kernel_worker, args=(_kernel_jobs,), name="plumecast-kernel",
                                          daemon=True)
        _kernel_thread.start()
        atexit.register(_stop_kernel_thread)
    box: dict[str, Any] = {}
    done = threading.Event()
    _kernel_jobs.put((fn, args, kwargs, box, done))
    busy[0] = box
    while not done.wait(0.05):
        pass
    if "error" in box:
        raise box["error"]
    return float(box["value"])


def _stop_kernel_thread() -> None:
    """At exit: let the kernel thread finish (unless a call was abandoned by an interrupt,
    in which case the process leaves without waiting for it)."""
    if _kernel_thread is not None and _kernel_thread.is_alive() and not kernel_busy():
        _kernel_jobs.put(None)
        _kernel_thread.join(timeout=5.0)


#: the job the kernel thread holds (``{"finished": True}`` once done): an interrupted
#: command asks whether a call is still computing (:func:`kernel_busy`)
busy: list[dict[str, Any]] = [{"finished": True}]


def kernel_busy() -> bool:
    """Whether a transport kernel call handed to the helper thread is still computing."""
    return not busy[0].get("finished", False)


def sched_mass(sched: ReleaseSchedule, n_particles: int, particle_mass_kg: float | None) -> float:
    """Mass carried by each particle. [kg]"""
    return sched.total_kg / n_particles if particle_mass_kg is None else float(particle_mass_kg)


def _neutralise(p: Particles, burnt: NDArray[np.bool_], grid: OutputGrid, step: int) -> float:
    """Remove the airborne particles in burnt output cells; returns the mass removed. [kg]"""
    if not np.any(burnt):
        return 0.0
    live = (p.birth_step < step) & (p.status == STATUS_ACTIVE) & (p.mass > 0)
    # the particles' cells as the gridding finds them (a grid across the antimeridian: -175 is 185)
    i = np.floor(kernels_numpy.east_of(p.lon, grid.lon0) / grid.dlon).astype(np.int64)
    j = np.floor((p.lat - grid.lat0) / grid.dlat).astype(np.int64)
    ok = live & (i >= 0) & (i < grid.nlon) & (j >= 0) & (j < grid.nlat)
    hit = np.zeros(p.mass.size, bool)
    hit[ok] = burnt[j[ok], i[ok]]
    removed = float(p.mass[hit].sum())
    p.mass[hit] = 0.0
    return removed


def write_outputs(result: RunResult, outdir: str | Path, receptor_series: Any = None) -> list[Path]:
    """Write ``concentration.nc`` (CF-1.8) and ``receptors.csv`` atomically; ``receptor_series``: the
    receptors' series to write (default the run's own, :attr:`RunResult.receptor_series`)."""
    outdir = Path(outdir)
    written: list[Path] = []
    sc = result.scenario
    ds = result.concentration.to_dataset()
    ds.attrs.update({
        "Conventions": "CF-1.8",
        "title": (f"plumecast run on climatological mean winds (not a forecast): {sc.name}"
                  if sc.met.source == "climatology" else f"plumecast forecast: {sc.name}"),
        "institution": "plumecast",
        "source": f"plumecast Lagrangian particle model, backend {sc.backend}, {sc.particles} particles, seed {sc.seed}",
        "history": f"created by plumecast from scenario '{sc.name}'",
        "wind": str(result.stats.get("wind_source", "")),
        "met_provenance": "\n".join(str(line) for line in result.stats.get("met_provenance", [])),
        "references": "https://github.com/plumecast (docs/architecture.md)",
    })
    if result.stats.get("release_provenance"):  # releases given as a tank or an amount
        ds.attrs["release_provenance"] = "\n".join(str(line) for line in result.stats["release_provenance"])
    b = result.budget
    for key, value in (("released", b.released), ("airborne", b.airborne), ("decayed", b.decayed),
                       ("deposited_dry", b.deposited_dry), ("deposited_wet", b.deposited_wet),
                       ("left_domain", b.exited), ("neutralised", b.neutralised)):
        ds.attrs[f"mass_{key}_kg"] = float(value)
    if result.deposited is not None:
        ds["deposited_mass"] = result.deposited
        ds["deposited_mass"].encoding.update({"zlib": True, "complevel": 1, "shuffle": True})
    # CF cell boundaries: each row is the mean over the steps since the row before (the release start for the
    # first): the last interval of a run that is not a whole number of intervals is shorter, and one interval
    # longer than the run is the run (every row had been given (time - interval, time]: a window starting
    # before the release start, or overlapping the row before; audit)
    t_end = np.asarray(ds["time"].values).astype("datetime64[ns]")
    t_begin = np.concatenate([[sc.start64], t_end[:-1]]).astype("datetime64[ns]")
    ds["time_bnds"] = (("time", "nv"), np.stack([t_begin, t_end], axis=1))
    ds["time"].attrs["bounds"] = "time_bnds"
    widths_min = sorted({float((e - b) / np.timedelta64(1, "s")) / 60.0 for b, e in zip(t_begin, t_end, strict=True)})
    if widths_min:
        first_min = float((t_end[0] - t_begin[0]) / np.timedelta64(1, "s")) / 60.0
        last_min = float((t_end[-1] - t_begin[-1]) / np.timedelta64(1, "s")) / 60.0
        method = f"time: mean (interval: {first_min:g} minutes"
        if len(widths_min) > 1:
            method += f" comment: the last interval {last_min:g} minutes; time_bnds gives each row's"
        ds["concentration"].attrs["cell_methods"] = method + ")"
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
    series = receptor_series if receptor_series is not None else result.receptor_series
    if series is not None:
        written.append(write_receptor_csv(series, outdir))
    return written


#: the first line of receptors.csv (after "# ")
RECEPTOR_CSV_NOTE = ("concentration [kg m-3] of the near-surface air at each receptor, the mean over each transport "
                     "step; time_utc: the step's end (UTC); a city a plume crosses: the air of its casualty table's "
                     "row (consequences.csv); read it skipping this first line (pandas: skiprows=1; comment='#' "
                     "would also cut a name holding '#')")


def write_receptor_csv(series: Any, outdir: Path) -> Path:
    """``receptors.csv`` atomically: a ``#`` line giving the unit (the file had none; first-hour audit,
    session 40), then one row per transport step (``time_utc``, its end), one column per receptor (its
    name), the concentration [kg m-3] of ``series`` (``(time, receptor)`` or ``(receptor, time)``, a
    ``name`` coordinate) to seven significant figures."""
    s = series.transpose("time", "receptor")
    path = Path(outdir) / "receptors.csv"
    with atomic_path(path) as tmp:
        df = s.to_pandas()
        df.columns = [str(n) for n in s["name"].values]
        df.index.name = "time_utc"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(f"# {RECEPTOR_CSV_NOTE}\n")
            df.to_csv(f, float_format="%.6e")
    return path
