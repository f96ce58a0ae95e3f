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

A point release that gives ``amount_kg`` or a ``tank`` instead of ``rate_kg_s``
emits a piecewise-constant rate table: ``amount_kg / duration_s`` over the release
(an instantaneous one, ``duration_s: 0``, within the step that holds ``start_h``),
or the tank's source-model profile
(:func:`plumecast.nearfield.source_models.tank_release_profile`, the function
``plumecast zones`` runs), from ``start_h`` until the tank is empty or ``stop_h``.
Its mass per step is integrated exactly (the rate is constant and the profile
factor linear between the union of their knots and the step edges), so the
particles carry exactly the mass the table releases during the run.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numba
import numpy as np
from numpy.typing import NDArray

from plumecast.errors import DataFileError, ScenarioError
from plumecast.nearfield.spec import TankSpec
from plumecast.receptors import Receptors, load_cities
from plumecast.scenario import CityRelease, PointRelease, Scenario
from plumecast.transport import rng
from plumecast.transport.particles import Particles
from plumecast.units import EARTH_RADIUS_M

if TYPE_CHECKING:
    from plumecast.nearfield.source_models import ReleaseProfile


#: How long the near field takes an instantaneous release (``duration_s: 0``) to be let go (:meth:`SourceGroup.as_puff`):
#: far shorter than any cloud's passage (its along-wind spread over the wind, seconds 100 m from the source), so
#: that the spread of arrivals (:mod:`plumecast.near_field_smear`) makes the puff. [s]
PUFF_S = 1.0


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
    rate_edges_s, rate_table_kg_s : a piecewise-constant rate (``amount_kg`` or a
        tank): ``rate_table_kg_s[i]`` on ``[rate_edges_s[i], rate_edges_s[i+1])``
        after the run start, zero outside; None for ``rate_kg_s`` (then the rate is
        ``rate_kg_s``). [s], [kg s-1]
    source_model : what made the rate table, in words (None with ``rate_kg_s``).
    notes : the source model's simplifications and figures.
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
    rate_edges_s: NDArray[np.float64] | None = None
    rate_table_kg_s: NDArray[np.float64] | None = None
    source_model: str | None = None
    notes: tuple[str, ...] = ()
    #: an instantaneous release (``amount_kg`` with ``duration_s: 0``): the moment it is let go, after the run
    #: start (its rate table spreads the mass over the rest of that step) [s]; None otherwise
    instant_s: float | None = None

    def as_puff(self) -> SourceGroup:
        """An instantaneous release (:attr:`instant_s`) as the near field lets it go: all its mass within
        :data:`PUFF_S` of the moment it is let go, not spread over the rest of its time step as its particles
        are (:func:`plumecast.run_near_field.near_field_sources`). Spread over the step, a 300-kg puff of
        chlorine's air at 1 km, class D, 600-s steps, came at the step's mean rate, and AEGL-3, which 10-s
        steps reach there at 8 min, was never reached (its peak read the step's mean). Any other group: itself."""
        if self.instant_s is None:
            return self
        mass = float(self._emitted_knots[1][-1])
        t0 = float(self.instant_s)
        rate = np.array([mass / PUFF_S])
        return replace(self, rate_kg_s=rate, start_s=t0, stop_s=t0 + PUFF_S, profile_h=np.array([0.0]),
                       profile_f=np.array([1.0]), rate_edges_s=np.array([t0, t0 + PUFF_S]), rate_table_kg_s=rate)

    def group_rate(self, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Total emission rate of the group at times ``t_s``. [kg s-1]"""
        f = np.interp(np.asarray(t_s) / 3600.0, self.profile_h, self.profile_f)
        on = (t_s >= self.start_s) & (t_s < self.stop_s)
        if self.rate_edges_s is None or self.rate_table_kg_s is None:
            return np.where(on, f, 0.0) * float(self.rate_kg_s.sum())
        q = self.rate_table_kg_s
        i = np.searchsorted(self.rate_edges_s, t_s, side="right") - 1
        table = np.where((i >= 0) & (i < q.size), q[np.clip(i, 0, q.size - 1)], 0.0)
        return np.where(on, f, 0.0) * table

    @functools.cached_property
    def _emitted_knots(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The knots of the rate (rate-table edges, profile hours, start, stop) and the mass
        emitted up to each, for :meth:`emitted_by` (made once: the near field asks every step)."""
        table = np.zeros(0) if self.rate_edges_s is None else self.rate_edges_s
        knots = np.concatenate([table, self.profile_h * 3600.0, [self.start_s, self.stop_s, 0.0]])
        knots = np.unique(knots[np.isfinite(knots)])
        cum = np.concatenate([[0.0], np.cumsum(self.group_rate(0.5 * (knots[:-1] + knots[1:])) * np.diff(knots))])
        return knots, cum

    def emitted_by(self, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Mass the group has emitted from the run start (or its start, if earlier) until
        ``t_s`` [kg], exactly: between the knots of the rate (rate-table edges, profile
        hours, start, stop) the rate is constant and the profile factor linear, so the
        rate at the mid-point times the length is the integral of any part."""
        knots, cum = self._emitted_knots
        t = np.asarray(t_s, dtype=float)
        k = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, knots.size - 1)
        before = t <= knots[0]
        tail = np.where(before, 0.0, self.group_rate(0.5 * (knots[k] + t)) * (t - knots[k]))
        return np.asarray(np.where(before, 0.0, cum[k] + tail), dtype=float)

    def _knots(self, dt_s: float, n_steps: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The step edges, and every time within the run at which the rate or the profile's
        slope may change (rate-table edges, profile hours, start, stop, step edges). [s]"""
        edges = np.arange(n_steps + 1, dtype=np.float64) * dt_s
        table = np.zeros(0) if self.rate_edges_s is None else self.rate_edges_s
        knots = np.concatenate([edges, table, self.profile_h * 3600.0, [self.start_s, self.stop_s]])
        return edges, np.asarray(np.unique(knots[np.isfinite(knots) & (knots >= 0.0) & (knots <= edges[-1])]),
                                 dtype=np.float64)

    def exact_per_step(self, dt_s: float, n_steps: int) -> NDArray[np.float64]:
        """Mass the group emits in each step [kg], integrated exactly: between
        consecutive knots (rate-table edges, profile hours, start, stop, step edges)
        the rate is constant and the profile factor linear, so rate x factor at the
        mid-point times the length is the integral."""
        edges, knots = self._knots(dt_s, n_steps)
        mass = self.group_rate(0.5 * (knots[:-1] + knots[1:])) * np.diff(knots)
        cum = np.concatenate([[0.0], np.cumsum(mass)])
        return np.diff(cum[np.searchsorted(knots, edges)])

    def first_step_decay(self, dt_s: float, n_steps: int, decay_rate_s: float) -> NDArray[np.float64]:
        """Per step, the factor by which the particles born in it start heavier than the mass
        they carry, so that the step's decay, which the kernels apply to them over the whole
        step, leaves what the emissions keep of it: ``∫ q(t) exp(k (t - t_s)) dt / ∫ q dt``
        over the step ``[t_s, t_s + Δt]``, i.e. ``(exp(k Δt) - 1)/(k Δt)`` for a constant
        rate and ``exp(k (t0 - t_s))`` for an instantaneous release at ``t0``; 1 where the
        step emits nothing or ``k`` is 0.

        The integral is exact for any ``k`` (:func:`linear_exp_moment`): between the knots
        of :meth:`exact_per_step` the rate is linear in time, and a linear function times an
        exponential has a closed-form integral (the 5-point Gauss-Legendre rule used before
        was accurate for ``k Δt <= 1`` only). How large ``k Δt`` may be is the scenario's
        check (:data:`plumecast.scenario.MAX_DECAY_PER_STEP`): the factor grows as
        ``exp(k Δt) / (k Δt)``, and the mass budget subtracts it again."""
        out = np.ones(n_steps)
        if decay_rate_s <= 0.0:
            return out
        k = float(decay_rate_s)
        step_mass = self.exact_per_step(dt_s, n_steps)
        if self.instant_s is not None:
            s0 = min(int(math.floor(self.instant_s / dt_s + 1e-9)), n_steps - 1)
            if step_mass[s0] > 0.0:
                out[s0] = math.exp(k * (self.instant_s - s0 * dt_s))
            return out
        edges, knots = self._knots(dt_s, n_steps)
        a, b = knots[:-1], knots[1:]
        h = b - a
        m = 0.5 * (a + b)
        step = np.minimum(np.searchsorted(edges, m, side="right") - 1, n_steps - 1)
        # the rate is linear within (a, b): its mid value and slope from two inner points (never the knots,
        # where a rate table, a start or a stop may jump)
        q1, qm, q2 = (self.group_rate(m + f * h) for f in (-0.25, 0.0, 0.25))
        slope = (q2 - q1) / np.where(h > 0, 0.5 * h, 1.0)
        moment = linear_exp_moment(qm, slope, m - edges[step], h, k)
        per_step = np.bincount(step, weights=moment, minlength=n_steps)
        on = step_mass > 0.0
        out[on] = per_step[on] / step_mass[on]
        return out


def linear_exp_moment(q_mid: NDArray[np.float64], slope: NDArray[np.float64], mid_s: NDArray[np.float64],
                      length_s: NDArray[np.float64], k: float) -> NDArray[np.float64]:
    """``∫ (q_mid + slope (t - mid)) exp(k t) dt`` over ``[mid - L/2, mid + L/2]``, exactly,
    with ``t`` counted from the step's start (``mid_s``: the interval's middle, ``L``:
    ``length_s``). With ``x = k L / 2``: ``exp(k mid) L (q_mid sinh(x)/x + slope L φ(x)/2)``,
    ``φ(x) = (x cosh x - sinh x) / x²`` (its series ``x/3 + x³/30 + x⁵/840 + x⁷/45360``
    below ``x = 0.1``, where the difference loses digits). [rate unit x s]

    >>> round(float(linear_exp_moment(np.array([2.0]), np.array([0.0]), np.array([0.5]), np.array([1.0]), 1e-12)[0]), 9)
    2.0
    >>> k = 3.0; exact = (math.exp(k) - 1) / k
    >>> abs(float(linear_exp_moment(np.array([1.0]), np.array([0.0]), np.array([0.5]), np.array([1.0]), k)[0]) - exact) < 1e-12
    True
    """
    x = 0.5 * k * np.asarray(length_s, dtype=float)
    small = np.abs(x) < 0.1
    xs = np.where(small, 1.0, x)  # no division by zero where the series is used
    x2 = x * x
    sinhc = np.where(small, 1.0 + x2 / 6.0 * (1.0 + x2 / 20.0 * (1.0 + x2 / 42.0)), np.sinh(xs) / xs)
    phi = np.where(small, x * (1.0 / 3.0 + x2 * (1.0 / 30.0 + x2 * (1.0 / 840.0 + x2 / 45360.0))),
                   (xs * np.cosh(xs) - np.sinh(xs)) / (xs * xs))
    length = np.asarray(length_s, dtype=float)
    return np.asarray(np.exp(k * np.asarray(mid_s, dtype=float)) * length
                      * (np.asarray(q_mid, dtype=float) * sinhc + np.asarray(slope, dtype=float) * length * phi * 0.5),
                      dtype=np.float64)


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
        if isinstance(rel, PointRelease) and rel.rate_kg_s is None:
            groups.append(_table_group(scenario, i, name, stop, ph, pf))
        elif isinstance(rel, PointRelease):
            lon = ((rel.lon + 180.0) % 360.0) - 180.0
            groups.append(
                SourceGroup(name, np.array([rel.lat]), np.array([lon]), np.array([rel.rate_kg_s]), 0.0,
                            rel.height_m, False, rel.start_h * 3600.0, stop, ph, pf)
            )
        elif isinstance(rel, CityRelease):
            cities = select_cities(rel, i)
            groups.append(
                SourceGroup(name, cities.lat.astype(float), cities.lon.astype(float),
                            cities.population.astype(float) * rel.rate_kg_s_per_capita, rel.radius_km * 1000.0,
                            rel.height_m, True, rel.start_h * 3600.0, stop, ph, pf)
            )
    return groups


def select_cities(rel: CityRelease, index: int) -> Receptors:
    """The cities of city release ``index`` (its selection from the shipped table)."""
    cities = load_cities(min_population=rel.min_population, countries=rel.countries, bbox=rel.bbox)
    if len(cities) == 0:
        from plumecast.scenario_receptors import empty_selection_text

        raise ScenarioError(f"releases.{index}: {empty_selection_text(rel.min_population, rel.countries, rel.bbox)}")
    if rel.names:
        cities = cities.select(rel.names)
    return cities


def emitted_per_step(groups: list[SourceGroup], dt_s: float, n_steps: int) -> NDArray[np.float64]:
    """Mass emitted by each group in each step, ``(step, group)``, integrated exactly
    (:meth:`SourceGroup.exact_per_step`: a start, a stop or a profile knot inside a
    step counts the part of the step on its side). [kg]"""
    out = np.zeros((n_steps, len(groups)))
    for g, grp in enumerate(groups):
        out[:, g] = grp.exact_per_step(dt_s, n_steps)
    return out


def _table_group(
    scenario: Scenario, index: int, name: str, stop_s: float, ph: NDArray[np.float64], pf: NDArray[np.float64]
) -> SourceGroup:
    """The source group of point release ``index`` given as ``amount_kg`` or a ``tank``."""
    rel = scenario.releases[index]
    assert isinstance(rel, PointRelease)
    start = rel.start_h * 3600.0
    notes: tuple[str, ...] = ()
    if rel.tank is not None:
        prof = tank_profile(scenario, index)
        edges, rates, model, notes = start + prof.time_s, prof.rate_kg_s, prof.method, tuple(prof.notes)
    else:
        assert rel.amount_kg is not None and rel.duration_known_s is not None
        dur = rel.duration_known_s
        if dur > 0:
            end, model = start + dur, f"amount_kg {rel.amount_kg:g} kg at a constant rate over {dur:g} s"
        else:  # all at once: within the step that holds start_h (particles start at the beginning of a step)
            dt = scenario.time_step_s
            end = (math.floor(start / dt + 1e-9) + 1) * dt
            end = min(end, stop_s) if stop_s > start else end
            model = f"amount_kg {rel.amount_kg:g} kg at once (emitted within the time step that holds start_h)"
        edges, rates = np.array([start, end]), np.array([rel.amount_kg / (end - start)])
    mass = float(np.sum(rates * np.diff(edges)))
    if not mass > 0.0:
        raise ScenarioError(f"releases.{index}.tank: its source model ({model}) releases nothing; expected a tank "
                            "with liquid or gas above ambient pressure (fill_fraction, pressure_bar)")
    lon = ((rel.lon + 180.0) % 360.0) - 180.0
    instant = start if rel.tank is None and not (rel.duration_known_s or 0.0) > 0 else None
    return SourceGroup(name, np.array([rel.lat]), np.array([lon]), np.array([mass / (edges[-1] - edges[0])]), 0.0,
                       rel.height_m, False, start, stop_s, ph, pf, np.asarray(edges, float), np.asarray(rates, float),
                       model, notes, instant)


def tank_profile(scenario: Scenario, index: int) -> ReleaseProfile:
    """The release profile of the ``tank`` of point release ``index``
    (:func:`plumecast.nearfield.source_models.tank_release_profile`, cached).

    The rain-out pool evaporates at the wind of ``local_weather`` (else of a uniform
    met), floored as ``plumecast zones`` floors it, so both modes run one profile.

    Raises
    ------
    ScenarioError
        naming the key (``releases.0.tank.temperature_c: ...``) when the source
        model cannot make a profile of the tank.
    """
    rel = scenario.releases[index]
    assert isinstance(rel, PointRelease) and rel.tank is not None
    wind = None
    if rel.tank.pool is not None:
        met = scenario.met
        if scenario.local_weather is not None:
            wind = scenario.local_weather.wind_speed_m_s
        elif met.source == "uniform":
            wind = math.hypot(met.u_m_s, met.v_m_s)
        else:
            raise ScenarioError(f"releases.{index}.tank.pool: the rain-out pool evaporates at the wind at the "
                                "release; expected local_weather with wind_speed_m_s [m s-1]")
        from plumecast.nearfield.zones import MIN_WIND_SPEED_M_S

        wind = max(wind, MIN_WIND_SPEED_M_S)
    agent = scenario.agent
    try:
        return _cached_tank_profile(rel.tank, agent.name, agent.molecular_weight_g_mol, wind)
    except (ValueError, DataFileError) as exc:
        msg = str(exc).replace("releases.N.", f"releases.{index}.")  # properties.NO_TANK_KEY
        named = re.match(r"^([a-z_]+): (.*)$", msg, re.S)
        if named and named.group(1) in TankSpec.model_fields:
            raise ScenarioError(f"releases.{index}.tank.{named.group(1)}: {named.group(2)}") from None
        raise ScenarioError(f"releases.{index}.tank: {msg}") from None


@functools.lru_cache(maxsize=64)
def _cached_tank_profile(tank: TankSpec, agent: str, molecular_weight_g_mol: float,
                         wind_speed_m_s: float | None) -> ReleaseProfile:
    """One source-model run per tank, agent and wind (scenarios are frozen; validation,
    the run and each plan or member ask for the same profile). Read-only."""
    from plumecast.nearfield.source_models import tank_release_profile

    return tank_release_profile(tank, agent, molecular_weight_g_mol, wind_speed_m_s)


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


def first_step_decay(sched: ReleaseSchedule, dt_s: float, n_steps: int,
                     decay_rate_s: float) -> NDArray[np.float64] | None:
    """(step, group) factors of :meth:`SourceGroup.first_step_decay`; None when ``k`` is 0.

    Raises
    ------
    ScenarioError
        ``k dt`` above :data:`plumecast.scenario.MAX_DECAY_PER_STEP` (a scenario read from a
        file is refused before, with its file and line)."""
    if decay_rate_s <= 0.0:
        return None
    from plumecast.scenario import MAX_DECAY_PER_STEP

    if decay_rate_s * dt_s > MAX_DECAY_PER_STEP:
        raise ScenarioError(
            f"agent.decay_rate_s: {decay_rate_s:g} s-1 with time_step_s {dt_s:g} s decays the gas by "
            f"exp(-{decay_rate_s * dt_s:.3g}) within one time step; expected decay_rate_s x time_step_s <= "
            f"{MAX_DECAY_PER_STEP:g}, a time_step_s of at most {MAX_DECAY_PER_STEP / decay_rate_s:.3g} s")
    return np.stack([g.first_step_decay(dt_s, n_steps, decay_rate_s) for g in sched.groups], axis=1)


def births(sched: ReleaseSchedule, n_particles: int, seed: int) -> Particles:
    """Create the run's particles with their birth step, source position and mass
    (see :func:`births_and_groups`, which also says which release each came from)."""
    return births_and_groups(sched, n_particles, seed)[0]


def _sampling_offset(seed: int) -> tuple[np.uint64, float]:
    """The births' key and the systematic sampling's offset ``u`` (:func:`births_groups_sources`), from the seed."""
    key = rng.seed_key(seed ^ 0x5EED5EED5EED)
    return key, float(rng.uniforms(np.array([key], np.uint64), 0, 1)[0][0])


def _spacing(total_kg: float, n_particles: int, particle_mass_kg: float | None) -> float:
    """The emitted mass between two particles of the systematic sampling (:func:`births_groups_sources`). [kg]"""
    return total_kg / n_particles if particle_mass_kg is None else float(particle_mass_kg)


def particles_for_mass(sched: ReleaseSchedule, particle_mass_kg: float, seed: int) -> int:
    """How many particles of ``particle_mass_kg`` the systematic sampling of
    :func:`births_and_groups` places on the schedule's emitted mass."""
    _, u0 = _sampling_offset(seed)
    return max(0, int(math.ceil(sched.total_kg / particle_mass_kg - u0)))


def births_and_groups(
    sched: ReleaseSchedule, n_particles: int, seed: int, particle_mass_kg: float | None = None
) -> tuple[Particles, NDArray[np.int32]]:
    """Create the run's particles with their birth step, source position and mass,
    and the index of the release group (``scenario.releases``) of each (see
    :func:`births_groups_sources`)."""
    p, group, _ = births_groups_sources(sched, n_particles, seed, particle_mass_kg)
    return p, group


def births_groups_sources(
    sched: ReleaseSchedule, n_particles: int, seed: int, particle_mass_kg: float | None = None
) -> tuple[Particles, NDArray[np.int32], NDArray[np.int32]]:
    """Create the run's particles with their birth step, source position and mass,
    the index of the release group (``scenario.releases``) of each, and of its
    source among all the groups' sources in order (a city of a ``cities`` release).

    Systematic sampling: particle ``j`` sits at ``(j + u) M / N`` on the cumulative
    emitted mass ``M`` (``u`` uniform, drawn once from the seed), which picks its
    (step, group) cell and then its source inside the group in proportion to the
    sources' rates. Area sources place the particle uniformly in the source disc
    (distance ``r sqrt(u1)``, bearing ``2 pi u2``) and uniformly in height. The
    random numbers of particle ``j`` depend only on ``(seed, j)``, so the births do
    not depend on the number of threads. Particles come out sorted by birth step.

    With ``particle_mass_kg`` given, every particle carries that mass and
    ``n_particles`` must be :func:`particles_for_mass`: particle ``j`` then sits at
    ``(j + u) m`` whatever is emitted after it, so a run whose emissions stop at
    ``T`` has exactly the particles (positions, masses, random streams) that the
    full run emitted before ``T`` (the linearity the plan comparison relies on).
    """
    emitted = sched.emitted_kg
    n_groups = emitted.shape[1]
    cum = np.cumsum(emitted.ravel())
    total = float(cum[-1])
    cell_mass = emitted.ravel().copy()
    offsets = np.zeros(n_groups + 1, np.int64)
    for g, grp in enumerate(sched.groups):
        offsets[g + 1] = offsets[g] + grp.rate_kg_s.size
    src_lat = np.concatenate([grp.lat for grp in sched.groups]).astype(np.float64)
    src_lon = np.concatenate([grp.lon for grp in sched.groups]).astype(np.float64)
    cumw = np.concatenate([np.cumsum(grp.rate_kg_s) / grp.rate_kg_s.sum() for grp in sched.groups])
    radius = np.array([grp.radius_m for grp in sched.groups], np.float64)
    height = np.array([grp.height_m for grp in sched.groups], np.float64)
    area = np.array([grp.area for grp in sched.groups], np.bool_)
    key, u0 = _sampling_offset(seed)
    p = Particles.empty(n_particles)
    spacing = _spacing(total, n_particles, particle_mass_kg)
    p.mass[:] = spacing
    group = np.zeros(n_particles, np.int32)
    source = np.zeros(n_particles, np.int32)
    _place(n_particles, u0, spacing, cum, cell_mass, n_groups, offsets, src_lat, src_lon, cumw, radius, height, area,
           key, EARTH_RADIUS_M, p.birth_step, p.lat, p.lon, p.z, group, source)
    return p, group, source


def birth_fractions(sched: ReleaseSchedule, n_particles: int, seed: int, particle_mass_kg: float | None,
                    birth_step: NDArray[np.int32], group: NDArray[np.int32], dt_s: float) -> NDArray[np.float64]:
    """Per particle, the part of its birth step before the moment it was emitted (0 to 1): where on the
    cumulative emission of its (step, group) cell :func:`births_groups_sources` put it (``(j + u) M / N``),
    turned into a time by the group's emission within the step (:meth:`SourceGroup.emitted_by`, read at 65
    times of the step); an instantaneous release's particles all its moment's. The transport lets every
    particle go at its birth step's start; the countdowns read each particle this much of a step behind on its
    way (:func:`plumecast.exposure_rings.path_add`)."""
    emitted = sched.emitted_kg
    cum = np.cumsum(emitted.ravel())
    _, u0 = _sampling_offset(seed)
    spacing = _spacing(float(cum[-1]), n_particles, particle_mass_kg)
    q = (np.arange(n_particles, dtype=np.float64) + u0) * spacing
    c = np.minimum(np.searchsorted(cum, q, side="right"), cum.size - 1)
    prev = np.where(c > 0, cum[np.maximum(c - 1, 0)], 0.0)
    within = np.clip((q - prev) / np.maximum(emitted.ravel()[c], 1e-300), 0.0, 1.0)
    out = np.zeros(n_particles)
    grid = np.linspace(0.0, 1.0, 65)
    step = np.asarray(birth_step, dtype=np.int64)
    grp = np.asarray(group, dtype=np.int64)
    for g, src in enumerate(sched.groups):
        mine = grp == g
        if not mine.any():
            continue
        if src.instant_s is not None:
            out[mine] = np.clip(float(src.instant_s) / dt_s - step[mine], 0.0, 1.0)
            continue
        for k in np.unique(step[mine]):
            sel = mine & (step == k)
            e = src.emitted_by((k + grid) * dt_s)
            if e[-1] <= e[0]:
                continue
            # the first time the step's cumulative emission reaches the particle's share of it
            share = e[0] + within[sel] * (e[-1] - e[0])
            i = np.clip(np.searchsorted(e, share, side="left"), 1, grid.size - 1)
            lo, hi = e[i - 1], e[i]
            w = np.where(hi > lo, (share - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
            out[sel] = np.clip(grid[i - 1] + w * (grid[i] - grid[i - 1]), 0.0, 1.0)
    return out


@numba.njit(parallel=True, cache=True)
def _place(n, u0, spacing, cum, cell_mass, n_groups, offsets, src_lat, src_lon, cumw, radius, height, area,
           key, r_earth, birth, lat, lon, z, group, source):  # type: ignore[no-untyped-def]
    deg = math.pi / 180.0
    for j in numba.prange(n):
        q = (j + u0) * spacing
        c = min(np.searchsorted(cum, q, side="right"), cum.size - 1)
        prev = cum[c - 1] if c > 0 else 0.0
        within = (q - prev) / max(cell_mass[c], 1e-300)
        within = min(max(within, 0.0), 1.0 - 1e-12)
        g = c % n_groups
        group[j] = g
        birth[j] = c // n_groups
        lo = offsets[g]
        hi = offsets[g + 1]
        s = lo + min(np.searchsorted(cumw[lo:hi], within, side="right"), hi - lo - 1)
        source[j] = s
        la = src_lat[s]
        ln = src_lon[s]
        base = rng.mix64_scalar(key ^ (np.uint64(j) * rng.GOLDEN))
        if radius[g] > 0.0:
            dist = radius[g] * math.sqrt(rng.uniform_scalar(base, 1)) / r_earth
            brg = 2.0 * math.pi * rng.uniform_scalar(base, 2)
            phi1 = la * deg
            sphi2 = math.sin(phi1) * math.cos(dist) + math.cos(phi1) * math.sin(dist) * math.cos(brg)
            phi2 = math.asin(min(max(sphi2, -1.0), 1.0))
            dlam = math.atan2(math.sin(brg) * math.sin(dist) * math.cos(phi1), math.cos(dist) - math.sin(phi1) * sphi2)
            la = phi2 / deg
            ln = (ln + dlam / deg + 180.0) % 360.0 - 180.0
        lat[j] = la
        lon[j] = ln
        z[j] = height[g] * rng.uniform_scalar(base, 3) if area[g] else height[g]
