"""The dense cloud of a point release in a run's near field: the model of ``plumecast zones``
(Britter & McQuaid 1988 with its near and far fields, the workbook's rule on finite
durations, the slumped cloud's flat crosswind core; :mod:`plumecast.nearfield.zones`), at
each step's wind, class and lid, as the receptors breathe it.

A passive Gaussian plume overstates how far a dense gas goes (docs/dense_gas.md). Until
session 28 ``run`` and ``compare`` modelled every point release so, and only said where
zones' criterion called it dense: 54 t of chlorine gave 4,500 ppm at 2 km where zones gave
570 ppm (cell audit).

How a step's air is made (:meth:`DenseCloud.dose_per_kg`): the near field of a run gives a
receptor, over a step, the mass that left the source in the step's emission window
(:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`). For a passive plume the
step's mean is the steady plume of that mass spread over the step. For a dense cloud the
concentration is not proportional to the rate, so the receptor is given zones' *dose* of the
whole release per kilogram released, times the mass that reaches it in the step: its dose
over the release is then zones' dose at the same weather (and its mean over a step within a
long release zones' steady axis value). Each kilogram's arrival is spread over the cloud's
passage as zones spread it, Gaussian in time with sigma_x/u and nothing ahead of zones'
front (:mod:`plumecast.near_field_smear`), so that the countdowns are zones', early by less
than a step, and a short release is not a top hat over one step. The cloud is zones' for the whole
release (its mass, its duration; a tank's maximum 60-s average rate over its airborne time,
ALOHA's convention, as zones: a rate profile, or an ensemble's rate factor on a tank, scales
the dose per kilogram of that cloud, not the cloud), set up at the step's weather: a step in which the criterion is
not met (a stronger wind) gets the passive plume, as zones would.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.errors import ScenarioError

#: the wind speed of a step's setup is taken to this many m/s (setups are cached by it) [m s-1]
SPEED_RESOLUTION_M_S = 0.01
#: and the lid to this many metres [m]
LID_RESOLUTION_M = 1.0
#: a shared cloud's table (:meth:`DenseCloud.shared`): this many distances a decade, from :data:`TABLE_FROM_M` to
#: :data:`TABLE_TO_M` [m] (read in ``ln x``; beyond them the cloud itself is read)
TABLE_PER_DECADE = 1000
#: and between a step's knots' speeds, the clouds of the speeds ``10^(k/24)`` too (a ratio of 1.10 apart at most)
SHARED_PER_DECADE = 24
TABLE_FROM_M, TABLE_TO_M = 1.0, 200_000.0


def local_scenario(scenario: Any, rel: Any, terrain: str, mixing_height_m: float, speed_m_s: float,
                   from_deg: float, pg_class: str) -> Any:
    """The zones' scenario (:class:`plumecast.nearfield.zones.scenario.LocalScenario`) of a
    run's point release ``rel`` at the given wind, class, lid and terrain, with the air
    temperature of ``local_weather`` (15 °C without it) and the release's duration (to its
    ``stop_h`` or the scenario's ``termination_h`` where that comes first, an amount's share
    then; a release without one lasts to the run's end)."""
    from plumecast.nearfield.spec import MeteorologySpec
    from plumecast.nearfield.zones.scenario import LocalScenario, SourceSpec, release_spec
    from plumecast.run_near_field import DEFAULT_AIR_TEMPERATURE_C

    update = {"wind_speed_m_s": speed_m_s, "wind_from_deg": from_deg, "stability": pg_class,
              "stability_from": "stability", "mixing_height_m": mixing_height_m, "terrain": terrain}
    lw = scenario.local_weather
    weather = (lw.model_copy(update=update) if lw is not None
               else MeteorologySpec(air_temperature_c=DEFAULT_AIR_TEMPERATURE_C, **update))
    # how long it emits: a stop_h before the end of duration_s stops it early (a plan's termination, rerun
    # by compare), and an amount then emits its share
    term = scenario.termination_h
    lasts = [d for d in (rel.duration_known_s,
                         None if rel.stop_h is None else max(rel.stop_h - rel.start_h, 0.0) * 3600.0,
                         None if term is None else max(term - rel.start_h, 0.0) * 3600.0) if d is not None]
    duration = min(lasts) if lasts else max(scenario.run_hours - rel.start_h, 0.0) * 3600.0
    spec = release_spec(rel, duration)
    if rel.amount_kg is not None and rel.duration_s is not None and 0.0 < duration < rel.duration_s:
        spec = spec.model_copy(update={"amount_kg": rel.amount_kg * duration / rel.duration_s})
    lon = ((float(rel.lon) + 180.0) % 360.0) - 180.0
    return LocalScenario(source=SourceSpec(lat=rel.lat, lon=lon, height_m=rel.height_m),
                         release=spec, agent=scenario.agent, meteorology=weather)


@dataclass
class DenseCloud:
    """A point release modelled as zones' dense cloud in a run's near field.

    ``local``: the release as zones' scenario (:func:`local_scenario`); ``base``: its
    zones setup (:func:`plumecast.nearfield.zones.setup.plume_setup`, made at the first
    step: a tank's source model runs once), whose wind, class and lid each step replaces."""

    local: Any
    base: Any = None
    _setups: dict[tuple[float, str, float], Any] = field(default_factory=dict, repr=False)
    #: zones' refusals (a cloud wider than zones' range) by the weather they were met at (the key of
    #: :meth:`setup_at`): those steps took the passive plume
    refused: dict[tuple[float, str, float], str] = field(default_factory=dict, repr=False)
    #: how many setups have been made (:meth:`setup_at`; each is zones' cloud at one weather, the costly part)
    made: int = 0
    #: the weathers (keys of :meth:`setup_at`) whose clouds a step's sub-steps share (:meth:`shared`), and the
    #: tables of those clouds over the distance, by key
    _knots: frozenset[tuple[float, str, float]] | None = field(default=None, repr=False)
    #: within :meth:`shared`: a bound (the larger of the two clouds around a speed), not their geometric mean
    _bound: bool = field(default=False, repr=False)
    _tables: dict[tuple[float, str, float], Any] = field(default_factory=dict, repr=False)

    def setup_at(self, speed_m_s: float, pg_class: str, lid_m: float) -> Any:
        """zones' setup of the release at this weather (the speed at least zones' floor, to
        :data:`SPEED_RESOLUTION_M_S`; the lid to :data:`LID_RESOLUTION_M`), or None where the
        release is not dense there (or zones refuse its cloud: :attr:`refused`)."""
        from plumecast.nearfield.zones.setup import with_dense_regime

        key = self._key(speed_m_s, pg_class, lid_m)
        if key not in self._setups:
            if self.base is None:  # made at the first step (a tank's source model runs then, once)
                from plumecast.nearfield.zones.setup import plume_setup

                off = self.local.model_copy(update={"release": self.local.release.model_copy(
                    update={"dense_gas": "off"})})  # the setup without its regime, which each step's weather sets
                self.base = replace(plume_setup(off), dense=None, instantaneous=None)
            step = replace(self.base, wind_speed_m_s=key[0], pg_class=pg_class, mixing_height_m=key[2])
            self.made += 1
            try:
                made = with_dense_regime(self.local, step)
            except (ScenarioError, ValueError) as exc:  # zones refuse a cloud wider than their range
                self.refused[key] = " ".join(str(exc).split())
                made = None
            self._setups[key] = made if made is not None and made.dense is not None else None
        return self._setups[key]

    @staticmethod
    def _key(speed_m_s: float, pg_class: str, lid_m: float) -> tuple[float, str, float]:
        """The weather a setup is made at and cached by (:meth:`setup_at`)."""
        from plumecast.nearfield.zones.setup import MIN_WIND_SPEED_M_S

        speed = round(max(float(speed_m_s), MIN_WIND_SPEED_M_S) / SPEED_RESOLUTION_M_S) * SPEED_RESOLUTION_M_S
        lid = float(lid_m) if not math.isfinite(lid_m) else round(float(lid_m) / LID_RESOLUTION_M) * LID_RESOLUTION_M
        return speed, str(pg_class), lid

    def kind_at(self, speed_m_s: float, pg_class: str, lid_m: float) -> str:
        """What the release is at this weather: ``"dense"`` (zones' cloud), ``"passive"`` (the
        criterion is not met: the Gaussian plume) or ``"refused"`` (zones refuse the cloud, wider
        than their range: the Gaussian plume too)."""
        if self.setup_at(speed_m_s, pg_class, lid_m) is not None:
            return "dense"
        return "refused" if self._key(speed_m_s, pg_class, lid_m) in self.refused else "passive"

    def dose_per_kg(self, x_m: NDArray[np.float64], y_m: NDArray[np.float64], speed_m_s: float, pg_class: str,
                    lid_m: float) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """zones' dose at the receptor height (the time integral of its concentration
        [kg s m-3]) at downwind ``x_m``, crosswind ``y_m`` [m], per kilogram released
        [s m-3], at this weather; None where the release is not dense there (the caller's
        passive plume then). A release of duration T: the amplitude of the workbook's
        finite release times the crosswind profile, times T (the integral of Palazzi's time
        factor), over the mass; at once: the puff's axis peak times the profile times its
        passage, ``√(2π) σ_x / u``, over the mass. Second: the cloud's along-wind spread σ_x
        there [m] (zones' front runs :data:`~plumecast.nearfield.zones.windowed.FRONT_LEAD_SIGMAS`
        of them ahead of the wind's air)."""
        if self._knots is not None:  # a step's sub-steps: the clouds of its knots, shared (:meth:`shared`)
            got = self._between_knots(x_m, y_m, speed_m_s, pg_class, lid_m)
            if got is not None:
                return got
        setup = self.setup_at(speed_m_s, pg_class, lid_m)
        return None if setup is None else self._exact(setup, x_m, y_m)

    @staticmethod
    def _exact(setup: Any, x_m: Any, y_m: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`dose_per_kg` of the cloud ``setup`` (dense) itself."""
        xp = np.maximum(np.asarray(x_m, dtype=float), 1e-3)
        if xp.size == 0:
            return np.zeros(0), np.zeros(0)
        dose, sigma_x, _ = DenseCloud._cloud(setup, xp, np.asarray(y_m, dtype=float))
        return np.asarray(dose, dtype=float), sigma_x

    @staticmethod
    def _cloud(setup: Any, x: NDArray[np.float64], y: NDArray[np.float64] | None) -> tuple[Any, Any, Any]:
        """The cloud ``setup`` (dense) at downwind ``x`` [m, > 0]: its dose per kilogram [s m-3] at crosswind ``y``
        [m] (None: on its axis), its sigma_x [m] and its crosswind profile's width (lateral_sigma_y's) [m]; for
        :meth:`_exact` and :meth:`_table` (each product in the order each had, to the bit). A release of duration
        T: the amplitude of the workbook's finite release times the crosswind profile, times T, over the mass; at
        once: the puff's axis peak times the profile times its passage, ``√(2π) σ_x / u``, over the mass."""
        from plumecast.nearfield.zones.dense_finite import dense_finite_parts
        from plumecast.nearfield.zones.plume import dense_axis_concentration
        from plumecast.nearfield.zones.setup import _sigmas, lateral_factor

        if setup.duration_s > 0:  # its width is the profile's (lateral_sigma_y's: one call for both)
            amplitude, sigma_x, width = dense_finite_parts(setup, x)
            across = 1.0 if y is None else lateral_factor(setup, x, y, width)
            return amplitude * across * setup.duration_s / setup.mass_kg, sigma_x, width
        sigmas = _sigmas(setup, x)  # at once: the profile's width (lateral_sigma_y's) and sigma_x are its sigma_y
        sigma_x = sigmas[0]  # (x >= 1 m on the tables: the sigmas of dense_axis_concentration's max(x, 1e-3))
        axis = dense_axis_concentration(setup, x, sigmas)
        if y is None:
            return axis * math.sqrt(2.0 * math.pi) * sigma_x / setup.wind_speed_m_s / setup.mass_kg, sigma_x, sigma_x
        passage = math.sqrt(2.0 * math.pi) * sigma_x / setup.wind_speed_m_s
        return axis * lateral_factor(setup, x, y, sigma_x) * passage / setup.mass_kg, sigma_x, sigma_x

    @contextmanager
    def shared(self, weathers: list[tuple[float, str, float]], bound: bool = False) -> Iterator[None]:
        """Within it, :meth:`dose_per_kg` at a weather between two of ``weathers`` (speed [m s-1], class, lid [m]:
        a step's knots, :meth:`plumecast.near_field_plume.NearFieldSource.speed_knots`, between which the speed is
        monotonic) in the same class and lid reads the clouds set up at the two speeds around it of those and of
        the grid ``10^(k/24)`` between them (:data:`SHARED_PER_DECADE`), each once (and tabled over the distance
        once), not one more cloud at its own speed: its dose per kilogram and sigma_x are the two's, geometric in
        the speed (``ln`` of each linear in ``ln u``: a passive plume's ``1/u`` exactly), each read in ``ln x`` on
        its table, and its crosswind core and edge geometric too. At one of those speeds, or where either of the
        two is not dense, the cloud itself, as outside. (The two knots' clouds alone, 3 and 2.12 m/s, had read
        up to 42 % off the cloud at the speed itself one to two edge-sigma beyond its core 100-400 m out, where the
        core's edge falls over 8-30 m; with the grid 3 %, 0.05 % on the axis and across the core.) A dense cloud had been set up at each sub-step's speed of a turn's dip (session 52:
        30 t of chlorine in the 90-degree turn, 42 clouds at 600-s steps).

        ``bound``: for a peak and a front (the countdowns err early, never late), the larger of the two clouds'
        axis value, crosswind core half-width, edge sigma and sigma_x (the earlier front) at each distance, not
        their geometric mean (which reads up to 0.06 % below the cloud at the speed itself on the axis, 3.5 % at its
        edges); each of those is monotonic in the speed between two clouds 1.10 apart, so the bound is at or above
        the cloud itself (the larger of the two clouds' own profiles is not: its core's edge 100 m out had read
        0.8 % below it). Within a metre of the source (off the tables) the larger of the two clouds themselves.
        (Session 52: the peaks of a turn's stretches and of a drifting line's sub-steps had each set up a cloud at
        their own speed.) Between two knots no more than a step of the grid apart, no grid speed is added."""
        before = self._knots, self._bound
        keys = {self._key(*w) for w in weathers}
        for rest in {k[1:] for k in keys}:  # each class and lid: the grid's speeds between two of its knots' speeds
            speeds = sorted({k[0] for k in keys if k[1:] == rest})  # that are more than a step of the grid apart
            for lo, hi in ((SHARED_PER_DECADE * math.log10(u) for u in pair) for pair in zip(speeds, speeds[1:], strict=False)):
                if hi - lo > 1.0:
                    keys |= {self._key(10.0 ** (k / SHARED_PER_DECADE), *rest)
                             for k in range(math.floor(lo) + 1, math.ceil(hi))}
        self._knots, self._bound = frozenset(keys), bound
        try:
            yield
        finally:
            self._knots, self._bound = before

    def _between_knots(self, x_m: Any, y_m: Any, speed_m_s: float, pg_class: str,
                       lid_m: float) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """:meth:`dose_per_kg` between the two knots of :meth:`shared` around ``speed_m_s`` (None: the cloud itself
        is read, at a knot's speed, outside the knots, off their class or lid, beyond the tables, or where either
        knot's cloud is not dense)."""
        assert self._knots is not None
        key = self._key(speed_m_s, pg_class, lid_m)
        if key in self._knots:
            return None
        near = sorted(k[0] for k in self._knots if k[1:] == key[1:])
        lower = [u for u in near if u < key[0]]
        upper = [u for u in near if u > key[0]]
        x = np.maximum(np.asarray(x_m, dtype=float), 1e-3)
        if not lower or not upper or x.size == 0 or x.max() > TABLE_TO_M:
            return None
        lo, hi = (self._table(u, pg_class, lid_m) for u in (lower[-1], upper[0]))
        if lo is None or hi is None:
            return None
        w = math.log(key[0] / lower[-1]) / math.log(upper[0] / lower[-1])
        y = np.abs(np.asarray(y_m, dtype=float))
        on = x >= TABLE_FROM_M  # on the tables; nearer the source (a place off a line's first metre), the two clouds
        if on.all() and not self._bound:
            return self._geometric(lo, hi, w, np.log(x), y)
        dose, sigma_x = np.zeros(x.size), np.zeros(x.size)
        if self._bound:  # the larger of the two clouds' axis, core, edge and sigma_x (:meth:`shared`)
            lx = np.log(x[on])
            axis, sigma_x[on], core, edge = (np.maximum(*(np.interp(lx, t[0], t[k]) for t in (lo, hi)))
                                             for k in (1, 2, 3, 4))
            dose[on] = np.exp(axis) * np.exp(-np.maximum(y[on] - core, 0.0) ** 2 / (2.0 * np.exp(edge) ** 2))
            sigma_x[on] = np.exp(sigma_x[on])
        else:
            dose[on], sigma_x[on] = self._geometric(lo, hi, w, np.log(x[on]), y[on])
        if not on.all():  # themselves there, each set up already (its table is)
            a, b = (self._exact(self.setup_at(u, pg_class, lid_m), x[~on], y[~on]) for u in (lower[-1], upper[0]))
            if self._bound:
                dose[~on], sigma_x[~on] = np.maximum(a[0], b[0]), np.maximum(a[1], b[1])
            else:
                dose[~on], sigma_x[~on] = a[0] ** (1.0 - w) * b[0] ** w, a[1] ** (1.0 - w) * b[1] ** w
        return dose, sigma_x

    @staticmethod
    def _geometric(lo: Any, hi: Any, w: float, lx: NDArray[np.float64], y: NDArray[np.float64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The cloud between the tables ``lo`` and ``hi`` (:meth:`_table`) at ``ln x`` ``lx``, crosswind ``|y|``
        [m], geometric in the speed with the weight ``w`` on ``hi`` (:meth:`shared`): its dose per kilogram and
        sigma_x."""
        out = []
        for part in range(2):  # the dose per kilogram on the axis and sigma_x: geometric in the speed
            a, b = (np.interp(lx, t[0], t[1 + part]) for t in (lo, hi))
            out.append(np.exp(a + w * (b - a)))
        # the crosswind profile (:func:`plumecast.nearfield.zones.setup.lateral_shape`) of the two's shape: its flat
        # core's half-width and its edges' sigma geometric in the speed too (the core linear where either has none)
        core = [np.interp(lx, t[0], t[3]) for t in (lo, hi)]
        edge = [np.interp(lx, t[0], t[4]) for t in (lo, hi)]
        both = (core[0] > 0.0) & (core[1] > 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(both, core[0] * (core[1] / core[0]) ** w, core[0] + w * (core[1] - core[0]))
        s = np.exp(edge[0] + w * (edge[1] - edge[0]))
        dose = out[0] * np.exp(-np.maximum(y - b, 0.0) ** 2 / (2.0 * s ** 2))
        return np.asarray(dose, dtype=float), np.asarray(out[1], dtype=float)

    def _table(self, speed_m_s: float, pg_class: str, lid_m: float) -> Any:
        """The cloud at this weather over ``ln x`` (:data:`TABLE_PER_DECADE`): ``ln x``, ``ln`` of its dose per
        kilogram on the axis and of sigma_x, its crosswind profile's core half-width and ``ln`` of its edges'
        sigma (:func:`plumecast.nearfield.zones.setup.lateral_shape`); None where it is not dense there."""
        from plumecast.nearfield.zones.setup import lateral_shape

        key = self._key(speed_m_s, pg_class, lid_m)
        if key not in self._tables:
            setup = self.setup_at(speed_m_s, pg_class, lid_m)
            if setup is None:
                self._tables[key] = None
                return None
            n = int(math.ceil(math.log10(TABLE_TO_M / TABLE_FROM_M) * TABLE_PER_DECADE)) + 1
            x = np.geomspace(TABLE_FROM_M, TABLE_TO_M, n)
            axis, sigma_x, width = self._cloud(setup, x, None)
            core, edge = lateral_shape(setup, x, width)
            axis = np.where(np.asarray(axis, dtype=float) > 0.0, axis, 0.0)
            with np.errstate(divide="ignore"):  # (no air: ln 0, -inf, read as none)
                self._tables[key] = (np.log(x), np.log(np.maximum(axis, 1e-300)) - 1e3 * (axis <= 0.0),
                                     np.log(np.asarray(sigma_x, dtype=float)), np.asarray(core, dtype=float),
                                     np.log(np.asarray(edge, dtype=float)))
        return self._tables[key]
