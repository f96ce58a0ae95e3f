"""Emission sources and their time profiles, turned into particle births.

Every release in a scenario becomes a *source group*: one or many sources (a stack,
or a disc around each of thousands of cities) sharing one time profile. The emitted
mass per time step is ``rate_s x f(t)`` integrated over the step, zero before
``start_h`` and after the termination time. The run's particles all carry the same
mass (total emitted mass / number of particles) and are allotted to (time step,
source) cells by systematic sampling of the cumulative emission (Kitagawa 1996,
J. Comput. Graph. Stat. 5, 1-25): each cell receives its expected number of
particles to within one, with no random gaps in time. Particles start at the
beginning of their step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumecast.errors import ScenarioError
from plumecast.receptors import Receptors, load_cities
from plumecast.scenario import CityRelease, PointRelease, Scenario
from plumecast.transport.particles import Particles
from plumecast.units import EARTH_RADIUS_M


@dataclass(frozen=True)
class SourceGroup:
    """Sources sharing one time profile.

    Attributes
    ----------
    name : label of the release.
    lat, lon : source positions. [deg]
    rate_kg_s : base emission rate of each source. [kg s-1]
    radius_m : radius of the emitting disc of each source (0 for a point). [m]
    height_m : release height (point) or top of the emitting layer (area). [m]
    area : True for area sources (heights uniform in [0, height_m]).
    start_s, stop_s : emission window after the run start. [s]
    profile_h, profile_f : piecewise-linear profile, hours after start and factor.
    """

    name: str
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    rate_kg_s: NDArray[np.float64]
    radius_m: float
    height_m: float
    area: bool
    start_s: float
    stop_s: float
    profile_h: NDArray[np.float64]
    profile_f: NDArray[np.float64]

    def group_rate(self, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Total emission rate of the group at times ``t_s``. [kg s-1]"""
        f = np.interp(np.asarray(t_s) / 3600.0, self.profile_h, self.profile_f)
        on = (t_s >= self.start_s) & (t_s < self.stop_s)
        return np.where(on, f, 0.0) * float(self.rate_kg_s.sum())


def source_groups(scenario: Scenario) -> list[SourceGroup]:
    """Build the source groups of a scenario (city tables are read here)."""
    run_s = scenario.run_hours * 3600.0
    term = scenario.termination_h * 3600.0 if scenario.termination_h is not None else np.inf
    groups = []
    for i, rel in enumerate(scenario.releases):
        stop = min(rel.stop_h * 3600.0 if rel.stop_h is not None else np.inf, term, run_s)
        if rel.profile is None:
            ph, pf = np.array([0.0]), np.array([1.0])
        else:
            ph = np.array([h for h, _ in rel.profile], float)
            pf = np.array([f for _, f in rel.profile], float)
        name = rel.name or f"release {i}"
        if isinstance(rel, PointRelease):
            lon = ((rel.lon + 180.0) % 360.0) - 180.0
            groups.append(
                SourceGroup(name, np.array([rel.lat]), np.array([lon]), np.array([rel.rate_kg_s]), 0.0,
                            rel.height_m, False, rel.start_h * 3600.0, stop, ph, pf)
            )
        elif isinstance(rel, CityRelease):
            cities = _select_cities(rel, i)
            groups.append(
                SourceGroup(name, cities.lat.astype(float), cities.lon.astype(float),
                            cities.population.astype(float) * rel.rate_kg_s_per_capita, rel.radius_km * 1000.0,
                            rel.height_m, True, rel.start_h * 3600.0, stop, ph, pf)
            )
    return groups


def _select_cities(rel: CityRelease, index: int) -> Receptors:
    cities = load_cities(min_population=rel.min_population, countries=rel.countries, bbox=rel.bbox)
    if rel.names:
        cities = cities.select(rel.names)
    if len(cities) == 0:
        raise ScenarioError(f"releases.{index}: the city selection is empty (min_population, countries, bbox, names)")
    return cities


def emitted_per_step(groups: list[SourceGroup], dt_s: float, n_steps: int, substeps: int = 8) -> NDArray[np.float64]:
    """Mass emitted by each group in each step, ``(step, group)``. [kg]

    The profile is integrated with the midpoint rule on ``substeps`` sub-intervals
    per step (exact for a piecewise-linear profile whose knots fall on sub-interval
    edges, and to second order otherwise).
    """
    out = np.zeros((n_steps, len(groups)))
    frac = (np.arange(substeps) + 0.5) / substeps
    t = (np.arange(n_steps)[:, None] + frac[None, :]) * dt_s
    for g, grp in enumerate(groups):
        out[:, g] = grp.group_rate(t).mean(axis=1) * dt_s
    return out


@dataclass(frozen=True)
class ReleaseSchedule:
    """What the run releases: per-step emission and the particle births."""

    groups: list[SourceGroup]
    emitted_kg: NDArray[np.float64]  # (step, group)
    particle_mass_kg: float

    @property
    def total_kg(self) -> float:
        return float(self.emitted_kg.sum())


def schedule(scenario: Scenario, groups: list[SourceGroup] | None = None) -> ReleaseSchedule:
    """Per-step emissions of a scenario and the mass per particle."""
    groups = source_groups(scenario) if groups is None else groups
    emitted = emitted_per_step(groups, scenario.time_step_s, scenario.n_steps)
    total = float(emitted.sum())
    if total <= 0.0:
        raise ScenarioError(
            "releases: nothing is emitted during the run (check start_h, stop_h, termination_h, profile "
            "factors and the run duration)"
        )
    return ReleaseSchedule(groups, emitted, total / scenario.particles)


def births(sched: ReleaseSchedule, n_particles: int, seed: int) -> Particles:
    """Create the run's particles with their birth step, source position and mass.

    Systematic sampling: particle ``j`` sits at ``(j + u) M / N`` on the cumulative
    emitted mass ``M`` (u uniform, drawn once from the seed), which picks its
    (step, group) cell and then its source inside the group in proportion to the
    sources' rates.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    emitted = sched.emitted_kg
    n_steps, n_groups = emitted.shape
    cum = np.cumsum(emitted.ravel())
    total = cum[-1]
    q = (np.arange(n_particles) + rng.uniform()) * (total / n_particles)
    cell = np.minimum(np.searchsorted(cum, q, side="right"), cum.size - 1)
    prev = np.where(cell > 0, cum[np.maximum(cell - 1, 0)], 0.0)
    within = np.clip((q - prev) / np.maximum(emitted.ravel()[cell], 1e-300), 0.0, 1.0 - 1e-12)
    step = (cell // n_groups).astype(np.int32)
    group = cell % n_groups
    p = Particles.empty(n_particles)
    p.birth_step[:] = step
    p.mass[:] = total / n_particles
    for g, grp in enumerate(sched.groups):
        sel = np.nonzero(group == g)[0]
        if sel.size == 0:
            continue
        w = np.cumsum(grp.rate_kg_s)
        w /= w[-1]
        # position inside the cell picks the source: systematic over the group's rates
        src = np.minimum(np.searchsorted(w, within[sel], side="right"), w.size - 1)
        lat = grp.lat[src]
        lon = grp.lon[src]
        if grp.radius_m > 0.0:
            dist = grp.radius_m * np.sqrt(rng.uniform(size=sel.size))
            bearing = rng.uniform(0.0, 2.0 * np.pi, size=sel.size)
            lat, lon = destination(lat, lon, bearing, dist)
        p.lat[sel] = lat
        p.lon[sel] = lon
        if grp.area:
            p.z[sel] = rng.uniform(0.0, grp.height_m, size=sel.size).astype(np.float32)
        else:
            p.z[sel] = np.float32(grp.height_m)
    return p


def destination(
    lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], bearing_rad: NDArray[np.float64], dist_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point at great-circle distance ``dist_m`` [m] and initial ``bearing_rad``
    (clockwise from north) from a start point [deg] (spherical Earth; e.g. Snyder 1987,
    USGS Prof. Paper 1395, eq. 5-5 and 5-5a)."""
    phi1 = np.deg2rad(lat_deg)
    lam1 = np.deg2rad(lon_deg)
    delta = dist_m / EARTH_RADIUS_M
    sphi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(bearing_rad)
    phi2 = np.arcsin(np.clip(sphi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(np.sin(bearing_rad) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sphi2)
    lon2 = (np.rad2deg(lam2) + 180.0) % 360.0 - 180.0
    return np.rad2deg(phi2), lon2
