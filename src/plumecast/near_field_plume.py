"""The Gaussian plume of a point release over its first kilometres, as the receptors see it.

:class:`NearFieldSource` gives the steady plume of a point release (Briggs σ curves, the
same as ``plumecast zones``; raised by a stack's plume rise) at breathing height, over a
transport step as the step's mean of the mass that left the source in the step's
emission window (:meth:`NearFieldSource.step_mean_at`); a release zones' criterion calls
dense at a step's weather gets zones' dense cloud there instead
(:mod:`plumecast.near_field_dense`). :mod:`plumecast.exposure` samples
it at point receptors and at the parts of city discs (:mod:`plumecast.disc_samples`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.disc_samples import INNER_RADIUS_M
from plumecast.near_field_window import emission_window, grown, step_times, thicker
from plumecast.nearfield.gaussian import (
    briggs_sigma_y,
    briggs_sigma_z,
    cap_at_pure_vapour,
    plume_concentration,
)
from plumecast.nearfield.stability import PG_CLASSES, pasquill_gifford_index_from_inverse_obukhov
from plumecast.units import EARTH_RADIUS_M

#: Wind speed floor of the near-field plume (ALOHA's own floor is 1 m/s). [m s-1]
NEAR_FIELD_MIN_WIND_M_S = 1.0
#: How many crosswind spreads σ_y of its plume a stretch of a source's streak line reaches across,
#: for :meth:`plumecast.near_field_track.Track.locate` (3: 1 % of the axis's air)
COVER_SIGMAS = 3.0
#: Height at which people breathe, for the near-field plume. [m]
BREATHING_HEIGHT_M = 1.5
#: How far a point release's plume counts whole beyond the near field (plumecast.exposure's module docstring). [m]
PLUME_REACH_M = 100_000.0
#: Where the plume's weight, falling linearly from :data:`PLUME_REACH_M`, reaches 0. [m]
PLUME_FADE_END_M = 200_000.0


def plume_weight(r_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """The near-field plume's weight at distances ``r_m`` from its release: 1 out to
    :data:`PLUME_REACH_M`, then falling linearly to 0 at :data:`PLUME_FADE_END_M`
    (:mod:`plumecast.exposure`'s module docstring)."""
    r = np.asarray(r_m, dtype=float)
    return np.clip((PLUME_FADE_END_M - r) / (PLUME_FADE_END_M - PLUME_REACH_M), 0.0, 1.0)


@dataclass(frozen=True)
class NearFieldSource:
    """A point release whose first ``distance`` is modelled as a Gaussian plume.

    ``rate_at(t_s)`` gives the emission rate [kg s-1] at ``t_s`` seconds after the
    run start; ``pg_class``/``terrain`` choose the Briggs (1973) σ curves (the ones
    ``plumecast zones`` uses); ``decay_rate_s`` is applied over the travel time.
    With ``boundary_at`` (``(lon, lat, t_s) -> (h, 1/L)``, the met's boundary layer)
    the class is that of the met's Obukhov length at the source and time (Golder 1972,
    roughness :data:`TERRAIN_ROUGHNESS_M` of ``terrain``) and the lid the met's mixing
    height, in place of ``pg_class`` and ``mixing_height_m``.
    """

    group: int
    lat: float
    lon: float
    height_m: float
    pg_class: str
    terrain: str
    mixing_height_m: float
    decay_rate_s: float
    rate_at: Any  # Callable[[NDArray], NDArray]
    boundary_at: Any = None
    #: ``emitted_by(t_s)``: mass emitted until ``t_s`` [kg] (:meth:`plumecast.release.SourceGroup.emitted_by`),
    #: for the step means of :meth:`step_mean_at`; None: the rate at one emission time per step
    emitted_by: Any = None
    #: a stack's plume rise: (diameter [m], exit velocity [m s-1], the exhaust's virtual temperature [K], the
    #: air's [K]); the plume's height is then ``height_m`` raised by Briggs's rise with the step's class and
    #: its wind at the stack top (:meth:`source_wind`; :func:`plumecast.nearfield.plume_rise.briggs_plume_rise`,
    #: as ``plumecast zones``), which also carries and dilutes it; None: no stack
    stack: tuple[float, float, float, float] | None = None
    #: the pure agent's vapour density at the ambient temperature and 1 atm
    #: (:func:`plumecast.nearfield.gaussian.pure_vapour_kg_m3`): the plume is held at or below it
    #: (:func:`~plumecast.nearfield.gaussian.cap_at_pure_vapour`); inf: no cap [kg m-3]
    pure_vapour_kg_m3: float = math.inf
    #: a release zones' criterion calls dense: its cloud as zones model it, at each step's weather
    #: (:class:`plumecast.near_field_dense.DenseCloud`; a step whose weather makes it passive takes the
    #: Gaussian plume); None: the Gaussian plume always (a stack, ``dense_gas: off``, a lighter gas)
    dense: Any = None
    #: the knots of the emitted mass and the mass emitted by each, ``(t [s], E [kg])``, thinned
    #: (:func:`plumecast.near_field_smear.thin_knots`), for the dense cloud's spread of arrivals; None: the
    #: cloud's air arrives as a top hat at its front
    emitted_knots: Any = None
    #: the times where the release's rate may change (:attr:`plumecast.release.SourceGroup._emitted_knots`'s
    #: knots: rate-table edges, profile hours, start, stop) [s]; between them the rate is linear, so its
    #: largest value over an emission window is at the window's ends or at these (:meth:`_max_rate`); None:
    #: the window's ends only
    rate_knots: Any = None
    #: when the release begins [s after the run start] (:attr:`plumecast.release.SourceGroup.start_s`): none of
    #: its air is anywhere before its front has run from the source (:meth:`step_mean_at`'s ``front``); -inf:
    #: not known
    start_s: float = -math.inf

    def plume_height(self, x_m: NDArray[np.float64], speed_m_s: float, pg_class: str) -> Any:
        """Height of the plume's centre line at downwind distance ``x_m`` [m]: ``height_m``,
        or for a stack the stack height after downwash plus Briggs's rise at ``x_m``."""
        if self.stack is None:
            return self.height_m
        from plumecast.nearfield.plume_rise import briggs_plume_rise

        d, v_s, t_v, t_a = self.stack
        rise = briggs_plume_rise(self.height_m, d, v_s, t_v, t_a, speed_m_s, pg_class)  # type: ignore[arg-type]
        return rise.effective_height(x_m, speed_m_s)

    def source_wind(self, wind_at: Any, t_s: float) -> tuple[float, float, float]:
        """The wind that carries, dilutes (and for a stack raises) the plume at ``t_s``:
        ``(u_east, v_north, speed)`` [m s-1], the speed at least
        :data:`NEAR_FIELD_MIN_WIND_M_S`. Without a stack, ``wind_at``'s wind at the
        source (the met's lowest level); for a stack, the wind at its top where
        ``wind_at`` gives it (:meth:`plumecast.stack_wind.SourceWind.at_stack`: the met's
        profile, or ``zones``' power law from a met of one level), as ISC3 and ``zones``
        take it. (Before, the lowest level's wind: 5-11 times less air than ``zones`` at
        2-3 km for the same 40 m stack in a 4 m/s wind; regression audit.)"""
        at_stack = getattr(wind_at, "at_stack", None) if self.stack is not None else None
        if at_stack is not None:
            pg_class = self.class_and_lid(t_s)[0]  # the power law's exponent is the plume's class's
            u_e, v_n, speed = at_stack(self.lon, self.lat, t_s, self.height_m, pg_class, self.terrain)
            return float(u_e), float(v_n), float(speed)
        u_e, v_n = wind_at(self.lon, self.lat, t_s)
        return u_e, v_n, max(math.hypot(u_e, v_n), NEAR_FIELD_MIN_WIND_M_S)

    def class_and_lid(self, t_s: float) -> tuple[str, float]:
        """The plume's Pasquill-Gifford class and mixing height [m] at ``t_s``."""
        if self.boundary_at is not None:
            h, inv_l = self.boundary_at(np.array([self.lon]), np.array([self.lat]), t_s)
            if np.isfinite(h[0]) and h[0] > 0.0:
                i = int(pasquill_gifford_index_from_inverse_obukhov(inv_l, TERRAIN_ROUGHNESS_M[self.terrain])[0])
                return PG_CLASSES[i], float(h[0])
        return self.pg_class, self.mixing_height_m

    def concentration_at(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], t_s: float, distance_m: float, wind_at: Any,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Plume concentration at the points (``lat``, ``lon`` [deg]) at time ``t_s``,
        at breathing height [kg m-3] (0 outside the near field or upwind), and the time
        the air there left the source [s after start] (its travel time that of zones'
        front, :meth:`_per_rate`)."""
        n = int(np.asarray(lat).size)
        c = np.zeros(n)
        emitted = np.full(n, t_s)
        if n == 0:
            return c, emitted
        u_e, v_n, speed = self.source_wind(wind_at, t_s)
        x, y = local_xy(lat, lon, self.lat, self.lon, u_e, v_n)
        ok = (x > 0) & (np.hypot(x, y) < distance_m)
        if not ok.any():
            return c, emitted
        xs, ys = x[ok], y[ok]
        travel = xs / speed
        pg_class, lid_m = self.class_and_lid(t_s)
        per_rate, arrive, _ = self._per_rate(xs, ys, speed, pg_class, lid_m)
        q = self.rate_at(t_s - arrive) * np.exp(-self.decay_rate_s * travel)  # the air of the front's time
        c[ok] = cap_at_pure_vapour(per_rate * q, self.pure_vapour_kg_m3)
        emitted[ok] = t_s - arrive
        return c, emitted

    def _per_rate(self, xs: NDArray[np.float64], ys: NDArray[np.float64], speed: float, pg_class: str,
                  lid_m: float) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The concentration at breathing height per unit emission rate [s m-3] at downwind
        ``xs``, crosswind ``ys`` [m] in this wind, class and lid, and when its air arrives
        there [s after it left the source]: with zones' front, which the along-wind spread
        σ_x puts ahead of the wind's air (:func:`plumecast.nearfield.zones.windowed.front_time_s`:
        the countdowns err early, never late). Where the release is dense at this weather: the
        dense cloud's dose per kilogram released
        (:meth:`plumecast.near_field_dense.DenseCloud.dose_per_kg`; times a window's rate it is
        the step's mean), σ_x the cloud's; else the Gaussian plume's (raised by a stack), σ_x =
        σ_y (Palazzi et al. 1982, as zones). Third: the spread of its air's arrival times [s],
        σ_x/u (:meth:`step_mean_at` spreads each window's mass over it; the Gaussian plume's too
        since session 42)."""
        from plumecast.nearfield.zones.windowed import front_time_s

        if self.dense is not None:
            cloud = self.dense.dose_per_kg(xs, ys, speed, pg_class, lid_m)
            if cloud is not None:
                per_kg, sigma_x = cloud
                return np.asarray(per_kg, dtype=float), front_time_s(xs, sigma_x, speed), sigma_x / speed
        sy = briggs_sigma_y(xs, pg_class, self.terrain)  # type: ignore[arg-type]
        sz = briggs_sigma_z(xs, pg_class, self.terrain)  # type: ignore[arg-type]
        height = self.plume_height(xs, speed, pg_class)
        return np.asarray(plume_concentration(1.0, speed, xs, ys, BREATHING_HEIGHT_M, height, sy, sz, lid_m),
                          dtype=float), front_time_s(xs, sy, speed), sy / speed

    def step_mean_at(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], t0_s: float, t1_s: float, distance_m: float,
        wind_at: Any, edges_s: NDArray[np.float64], since_s: NDArray[np.float64] | None = None,
        delivered: NDArray[np.float64] | None = None, track: Any = None, heading: Any = None, branch: int = 0,
        peak: NDArray[np.float64] | None = None, front: NDArray[np.float64] | None = None,
        speed_span: tuple[float, float] | None = None, edge: NDArray[np.float64] | None = None,
        carried: Any = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """Mean plume concentration over the step ``[t0_s, t1_s]`` at the points (``lat``,
        ``lon`` [deg]), at breathing height [kg m-3], with the emission-time bin of the air
        (index into ``edges_s``, the bins' starts [s]) and the share of it from the bin
        before (``early``).

        The steady plume of the wind at the step's middle carries, at downwind distance x,
        the mass that left the source in the window ``[t0 - tau, t1 - tau]`` (from
        :attr:`emitted_by`, exactly) spread over the step: a release shorter than a step,
        or one starting within a step, reaches every place it passes, and its dose (the
        integral of the concentration over time) is exact. The rate at one emission time
        per step, held over the step, had missed places or doubled their dose (5 t over
        300 s with 600-s steps: "not reached" at 6.5-7.5 km between 17 % and 12 % of
        AEGL-3; scenario audit). A window straddles at most one bin edge (bins are whole
        steps). ``since_s``: per point, the earliest emission time that counts (a front
        burnt the air emitted before). Within :data:`plumecast.disc_samples.INNER_RADIUS_M`
        of the source a point gets the plume's axis value at that distance: the model does
        not reach closer, and a place at the source itself had read "not reached". The step's
        mean is held at or below :attr:`pure_vapour_kg_m3` (the pure gas: 3,300,000 ppm of
        chlorine had been given 30 m from 54 t released over 600 s; cell audit). ``tau`` is
        the travel time of zones' front, ``max(x - sqrt(2) sigma_x, 0) / u``
        (:meth:`_per_rate`; sigma_x = sigma_y for the Gaussian plume): along-wind spread
        brings the first air ahead of the wind's, and the countdowns err early (``x/u`` had
        come after zones' plume reached the onset floor: 21 min at 20 km, class B, 2 m/s).
        A release zones' criterion calls dense at the step's weather gets zones' dense cloud
        (:meth:`_per_rate`), each kilogram's arrival spread over the cloud's passage
        (:mod:`plumecast.near_field_smear`, from :attr:`emitted_knots`): the tag of the air is
        then that of the window ``[t0 - x/u, t1 - x/u]``'s end, with all that left before that
        bin counted as the bin before's.

        ``delivered`` (per point, updated in place; NaN: nothing yet): the emission time up to
        which the point's air has come, the last step's window end. A step's window starts
        there, not at ``t0 - tau``: the travel time changes with the wind and the class from
        step to step, and windows ``[t0 - tau, t1 - tau]`` of consecutive steps had overlapped or
        left gaps (a 20-min release, class A then E: 1.40 of its mass at 10 km, E then A 0.60;
        regression audit). A point the plume does not reach in a step starts afresh.

        ``carried`` (with no ``track``): the source's streak line at ``t1_s``, whose run of the carried wind gives the
        steady plume's travel times in place of ``x/u`` (and ``tau`` at the step's start, where a window starts
        afresh, :meth:`plumecast.near_field_track.Track.start_travel_s`): its window end then runs at ``u(t)/u(t_e)``
        and its air is the density ``Q/u(t_e)`` the air left with; ``x/u(t)`` had run at ``1 + x u'/u^2`` and
        squeezed the air held back in a lull into a spike (240 for 25 mg/m3 3 km out; session 50).

        ``track``: the source's streak line at ``t1_s`` (:func:`plumecast.near_field_track.track_at`,
        where its wind has changed): ``x`` and ``y`` are then taken along it and ``tau`` is the
        time the wind took to run the front's distance, the window ``[t0 - tau(t0), t1 - tau(t1)]`` the air that
        passed it within the step (module :mod:`plumecast.near_field_track`);
        None: the steady plume of the step's wind; ``branch`` 1: along the next older stretch of the line
        that passes the point (:meth:`plumecast.near_field_track.Track.locate`). ``heading``: the way the plume goes where that wind is
        an exact calm (the last step's, :func:`plumecast.near_field_track.carrying_vector`; it had gone
        east, 136 ppm 5 km east of 10 kg/s of ammonia released into a calm wind after a northward one).

        ``peak`` (per point, filled in place): the highest air at the point within the step [kg m-3], for the
        countdowns only (the step's mean stays the exposure): the window's air passes the point in the
        step's order, so its peak is the mean times the window's largest emission rate over its mean rate
        (:meth:`_max_rate`). A cloud shorter than a step or two passes between the steps' means: 306 ppm of
        ammonia for 10 min read 159 and 181 ppm in 600-s means, below AEGL-2's 220 ppm, and the city's
        AEGL-2 countdown came 4.5 min late at 600-s steps and never at 900 s (audit 39). Where each kilogram's
        arrival is spread (the Gaussian plume's and the dense cloud's), :meth:`_spread_max_rate`'s bound; the
        mean where the step's air has no order (the rate at one time). Where the wind changes speed or the class
        changes within the step, the largest of the plumes of the weathers within it (at its ends, middle and
        the met's records within it: :meth:`_step_weathers`, :meth:`_changed_wind_peak`). Where the speed rises
        within the step, the steady plume's window (``delivered``, no ``track`` nor ``carried``) grows fastest
        within it, not at its mean over the step, and the peak takes that growth (:meth:`_squeeze`; session 49).

        ``front`` (per point, filled in place): for the countdowns only, the earliest time [s after the run
        start] the step's air can be at the point, inf where it has none: the release's first air
        (:attr:`start_s`, or ``since_s`` where later) with the travel time of the front this step's plume
        carries it with, ``x/u - min(sqrt 2 sigma_x / u, x/u)`` where the arrivals are spread (zones'
        :func:`~plumecast.nearfield.zones.windowed.front_time_s`), ``tau`` for the top hat. No kilogram of
        the step's air arrives before it (module :mod:`plumecast.near_field_smear`: the spread is truncated
        there), so a level the near field's air reaches is not reached earlier (the step's mean alone
        dates it only to the step: "now" at 1 km, 9 min before the front, with 600-s steps; audit 42d, D4).
        ``speed_span``: the lowest and highest speed that has carried the plume since the release began
        (sampled at the steps' starts, middles, ends and the met's records; None: this step's alone). Where the
        wind has changed, the speed at the step's middle dates neither the air's travel nor its spread: no air runs
        ``x`` faster than at the highest speed, and the spread puts the front at most ``sqrt 2 sigma_x`` over
        the lowest ahead of the wind's air, so the front is taken no later than ``max(x / u_high - sqrt 2
        sigma_x / u_low, 0)`` after the first air (the top hat's, its front's distance over ``u_high``). A
        wind slowing from 4 to 1 m/s within a 300-s step had put the front 5 km out, and AEGL-1 there with
        it, at 19.6 min, where 10-s steps reach AEGL-1 at 18.5 min (session 44). In a steady wind both speeds
        are the step's and the front is as before, to the bit. Where the class changes within the step, sigma_x
        is the widest of its classes' (:meth:`_step_weathers`; the top hat's front distance the nearest): F
        turning to D within a 600-s step had put the front, and AEGL-1, 3 km out 20 s after 10-s steps'.

        ``edge`` (per point, filled in place; with ``peak``): for the plans only, the highest the air emitted
        before the bin edge of the step's air (the part ``early`` tags with the bin before) reaches at the point
        within the step [kg m-3], 0 where the step has none of it: the same bound as ``peak``'s over the emission
        before the edge alone. A plan that stops the release at that edge keeps that air, which passes the point
        as a cloud's trailing edge where the whole release's air is a plateau: 5 kg/s of chlorine cut at 10 min
        of 20 (class D, 3 m/s) read AEGL-2 7 km out "never" with 600-s steps, 41.3 min with 10-s steps, the cut's
        peak read as the plateau's (its mean) times the largest weight the plan keeps (session 46; ``compare``,
        :func:`plumecast.plans.evaluate.evaluate_plans`)."""
        n = int(np.asarray(lat).size)
        c = np.zeros(n)
        bins = np.zeros(n, np.int64)
        early = np.zeros(n)
        if peak is not None:
            peak[:] = 0.0
        if edge is not None:
            edge[:] = 0.0
        if front is not None:
            front[:] = np.inf
        if n == 0:
            return c, bins, early
        t_mid = 0.5 * (t0_s + t1_s)
        u_e, v_n, speed = self.source_wind(wind_at, t_mid)
        pg_class, lid_m = self.class_and_lid(t_mid)
        if track is None:
            if u_e == 0.0 and v_n == 0.0 and heading is not None and math.hypot(*heading) > 0.0:
                u_e, v_n = float(heading[0]), float(heading[1])
            x, y = local_xy(lat, lon, self.lat, self.lon, u_e, v_n)
            dist = np.hypot(x, y)
        else:  # along the streak line (the air's path), its distance from the source as the crow flies
            east, north = local_xy(lat, lon, self.lat, self.lon, 1.0, 0.0)
            sy_line = briggs_sigma_y(np.maximum(track.path, 1.0), pg_class, self.terrain)  # type: ignore[arg-type]
            cover = COVER_SIGMAS * sy_line
            x, y = track.locate(east, north, cover, branch)
            dist = np.hypot(east, north)
        at_source = dist < INNER_RADIUS_M
        x = np.where(at_source, INNER_RADIUS_M, x)
        y = np.where(at_source, 0.0, y)
        ok = (x > 0) & (dist < distance_m)
        if not ok.any():
            if delivered is not None:
                delivered[:] = np.nan  # the plume reaches none of them: each starts afresh when it does
            return c, bins, early
        xs, ys = x[ok], y[ok]
        line = track if track is not None else carried  # whose run of the wind carries the air (None: u's)
        travel = xs / speed if line is None else line.travel_s(xs)
        per_rate, arrive, spread_s = self._per_rate(xs, ys, speed, pg_class, lid_m)
        reach = arrive * speed  # the front's distance
        travel0, arrive0 = travel, arrive  # the travel times at the step's start of the air then at x
        if line is not None:  # the front's distance (arrive = its distance / u) run by the wind's history
            arrive = line.travel_s(reach)
            travel0, arrive0 = line.start_travel_s(xs), line.start_travel_s(reach)
        if spread_s is not None and self.emitted_knots is not None:
            # the dense cloud: each kilogram's arrival spread over its passage (module near_field_smear), the
            # window the wind's; its tag that of the window's end, with all that left before that bin's start
            # counted as the bin before's
            from plumecast.near_field_dilution import diluted_per_rate
            from plumecast.near_field_fold import fold_mass, fold_window

            knots, cum = self.emitted_knots  # (near_field_fold: a folded line's window and smear, mirrored)
            w_end, w_start = (travel, travel0) if line is None else fold_window(line, xs, xs, travel, travel0)
            a, b = emission_window(t0_s - w_start, t1_s - w_end, ok, delivered)
            since = None if since_s is None else np.asarray(since_s, dtype=float)[ok]
            # the bin of the latest emission that can arrive in the step (the front leads the wind's air by
            # min(sqrt 2 sigma_t, x/u)): a window ending before a bin edge had tagged air emitted after it,
            # which a termination there then kept
            latest = b + np.minimum(math.sqrt(2.0) * spread_s, travel)
            k = np.clip(np.searchsorted(edges_s, latest, side="right") - 1, 0, edges_s.size - 1)
            some = b > a
            mass = np.zeros(xs.size)
            if some.any():  # no air arrives before it left: the front leads the wind's air by at most x/u
                mass[some] = fold_mass(line, xs[some], knots, cum, a[some], b[some], spread_s[some],
                                       None if since is None else since[some], travel[some])
            # the step's air diluted by the wind it arrives in, where that changes within the step (near_field_dilution)
            per_dose = diluted_per_rate(self, wind_at, t0_s, t1_s, xs, ys, (speed, pg_class, lid_m), per_rate,
                                        spread_s, (a, b, travel0, travel), since, (knots, cum), line)
            first = np.full(xs.size, -np.inf) if since is None else since
            split = some & (k > 0) & (edges_s[k] > first)
            before = np.zeros(xs.size)
            if split.any():
                before[split] = fold_mass(line, xs[split], knots, cum, a[split], b[split], spread_s[split],
                                          None if since is None else since[split], travel[split], edges_s[k][split])
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(mass > 0.0, np.clip(before / mass, 0.0, 1.0), 0.0)
            ahead = travel - np.minimum(math.sqrt(2.0) * spread_s, travel)  # the smear's front (window_mass's lead)
        else:
            from plumecast.near_field_fold import fold_window
            w_end, w_start = (arrive, arrive0) if line is None else fold_window(line, xs, reach, arrive, arrive0)
            a, b = emission_window(t0_s - w_start, t1_s - w_end, ok, delivered)  # (near_field_fold: a folded line's)
            if since_s is not None:
                a = np.minimum(np.maximum(a, np.asarray(since_s, dtype=float)[ok]), b)
            k = np.clip(np.searchsorted(edges_s, b, side="right") - 1, 0, edges_s.size - 1)
            if self.emitted_by is not None:
                m_a, m_b = self.emitted_by(a), self.emitted_by(b)
                e = edges_s[k]
                split = (k > 0) & (e > a)
                m_e = np.where(split, self.emitted_by(np.clip(e, a, b)), m_a)
                mass = np.maximum(m_b - m_a, 0.0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    share = np.where(mass > 0.0, np.clip((m_e - m_a) / mass, 0.0, 1.0), 0.0)
            else:
                mass = self.rate_at(b) * (t1_s - t0_s) * (b > a)
                share = np.zeros(xs.size)
            ahead, per_dose = arrive, per_rate  # the top hat's air arrives with the front
        if track is not None:  # a folded line's air diluted at the paths it ran (near_field_fold)
            from plumecast.near_field_fold import fold_per_rate
            per_dose = fold_per_rate(self, track, xs, ys, dist[ok], (a, b), per_dose, per_rate,
                                     (speed, pg_class, lid_m), None if since_s is None else np.asarray(since_s)[ok],
                                     spread_s if self.emitted_knots is not None else None)
        q = mass / (t1_s - t0_s) * np.exp(-self.decay_rate_s * travel)
        c[ok] = cap_at_pure_vapour(per_dose * q, self.pure_vapour_kg_m3)
        tip = None  # about a fold's tip: the air there as puffs (near_field_tip), set below
        if track is not None and not track.straight:
            from plumecast.near_field_tip import tip_air
            x0 = xs if branch == 0 else track.locate(east, north, cover, 0)[0][ok]  # the youngest branch's
            tip = tip_air(self, track, east[ok], north[ok], x0, t1_s, (speed, pg_class, lid_m),
                          None if since_s is None else np.asarray(since_s, dtype=float)[ok])
        bins[ok] = k
        early[ok] = share
        # the weathers within the step other than its middle's (where the wind or the class changes within it)
        others = self._step_weathers(wind_at, t0_s, t1_s, speed, pg_class, lid_m, speed_span) \
            if front is not None or (peak is not None and self.emitted_by is not None) else []
        plumes = [(u, cls, self._per_rate(xs, ys, u, cls, lid)) for u, cls, lid in others]
        if front is not None:
            first = np.full(xs.size, self.start_s) if since_s is None else np.maximum(
                self.start_s, np.asarray(since_s, dtype=float)[ok])
            classed = [(u, got) for u, cls, got in plumes if cls != pg_class]
            if (speed_span is not None and (speed_span[0] < speed or speed_span[1] > speed)) or classed:
                span = speed_span if speed_span is not None else (speed, speed)
                slow = min(span[0], speed, *(u for u, _ in classed))
                fast = max(span[1], speed, *(u for u, _ in classed))
                if self.emitted_knots is not None:  # the spread's lead, sqrt 2 sigma_x, sigma_x = spread_s u
                    lead = math.sqrt(2.0) * spread_s * speed / slow
                    for u, (_, _, spread_c) in classed:  # another class within the step: its sigma_x too
                        lead = np.maximum(lead, math.sqrt(2.0) * spread_c * u / slow)
                    bound = np.maximum(xs / fast - lead, 0.0)
                else:
                    for u, (_, arrive_c, _) in classed:  # the nearest front's distance of the classes
                        reach = np.minimum(reach, arrive_c * u)
                    bound = reach / fast
                ahead = np.minimum(ahead, bound)
            front[ok] = np.where(c[ok] > 0.0, first + ahead, np.inf)
        if peak is not None:
            peak[:] = c
            # (the dense cloud too, since session 46: its step mean had stood for its peak, and 3 t of chlorine at
            # once read AEGL-3 "never" at 2 km with 300- and 600-s steps, 13 min at 10-s steps; compare holds a
            # dense cut's rerun peaks below the baseline's, ensemble.dense_cuts)
            if self.emitted_by is not None:
                top_hat = spread_s is None or self.emitted_knots is None
                # where the wind picks up within the step, the steady plume's window grows fastest within it
                # (module near_field_squeeze; None where it does not, and the peak is as before, to the bit); along a
                # line, the air thicker than the line takes it where the wind was slower within a step (near_field_window.thicker)
                squeeze = None if line is not None or delivered is None else self._squeeze(
                    wind_at, t0_s, t1_s, speed_span, speed, reach if top_hat else xs, a, b, since_s, ok)
                growth: NDArray[np.float64] | None
                if squeeze is not None:
                    a_p, b_p, growth = squeeze
                    mass = np.where(growth > 1.0, np.maximum(self.emitted_by(b_p) - self.emitted_by(a_p), 0.0), mass)
                else:
                    a_p, b_p, growth = a, b, None if line is None else thicker(line, a, b, t1_s, t1_s - t0_s,
                                                                                travel, spread_s, self.emitted_by)
                if top_hat:  # the top hat: the window's air in its order
                    rate = self._max_rate(a_p, b_p) * grown((b - a) / (t1_s - t0_s), growth)
                else:  # spread arrivals: no faster than the emission, nor than the density's peak times the mass
                    # (in emission time: a window longer than the step, as the travel time shrinks, comes faster)
                    rate = self._spread_rate_bound(a_p, b_p, spread_s, travel, since_s, ok, t1_s - t0_s, fast=growth)
                rate = np.where(mass > 0.0, rate, 0.0)
                per_top = per_rate
                if plumes:  # the weather changes within the step: the plumes of its other winds and classes too
                    per_top, rate = self._changed_wind_peak(plumes, per_rate, rate, a_p, b_p, travel, since_s, ok,
                                                            t1_s - t0_s, (speed, pg_class), fast=growth)
                top = per_top * rate * np.exp(-self.decay_rate_s * travel)
                peak[ok] = np.maximum(cap_at_pure_vapour(top, self.pure_vapour_kg_m3), c[ok])
                if edge is not None:
                    self._edge_peak(edge, ok, c, share, edges_s[k], (a_p, b_p, growth), spread_s, travel, since_s,
                                    per_rate, plumes, (speed, pg_class), t1_s - t0_s)
        if tip is not None and tip[0].any():  # the youngest branch reads both's air there, the older none
            at = np.flatnonzero(ok)[tip[0]]
            c[at] = cap_at_pure_vapour(tip[1][tip[0]], self.pure_vapour_kg_m3) if branch == 0 else 0.0
            if peak is not None:  # (the peak and front as read, and no less than the puffs' at the step's end)
                peak[at] = np.maximum(peak[at], np.maximum(tip[2][tip[0]], c[at]))
            if front is not None:
                front[at] = np.where(c[at] > 0.0, np.minimum(front[at], t0_s), front[at])
        return c, bins, early

    def _edge_peak(self, edge: NDArray[np.float64], ok: NDArray[np.bool_], c: NDArray[np.float64],
                   share: NDArray[np.float64], e: NDArray[np.float64], window: tuple[Any, Any, Any],
                   spread_s: NDArray[np.float64] | None, travel: NDArray[np.float64],
                   since_s: NDArray[np.float64] | None, per_rate: NDArray[np.float64],
                   plumes: list[tuple[float, str, Any]], middle: tuple[float, str], dt_s: float) -> None:
        """:meth:`step_mean_at`'s ``edge``: the peak bound of ``peak`` over the emission before each point's bin
        edge ``e`` (where the step's air has some of it, ``share`` > 0), at least that air's mean; with the other
        weathers within the step (``plumes``, :meth:`_step_weathers`) as the step's peak takes them; ``window``: the
        step's emission window ``(a, b)`` and its growth within the step where the wind picks up (None where it
        does not; :meth:`_squeeze`), as the step's peak takes them."""
        a, b, fast = window
        cut = share > 0.0
        if not cut.any():
            return
        sub = np.zeros(ok.size, bool)  # the points of ``ok`` with air from before the edge
        sub[np.flatnonzero(ok)[cut]] = True
        until = e[cut]
        a_c, b_c, tr_c = a[cut], b[cut], travel[cut]
        fast_c = None if fast is None else fast[cut]
        if spread_s is None or self.emitted_knots is None:  # the top hat: the window's air before the edge in order
            rate = self._max_rate(a_c, np.clip(until, a_c, b_c)) * grown((b_c - a_c) / dt_s, fast_c)
        else:
            rate = self._spread_rate_bound(a_c, b_c, spread_s[cut], tr_c, since_s, sub, dt_s, until, fast=fast_c)
        per = per_rate[cut]
        if plumes:
            mine = [(u, cls, tuple(None if part is None else np.asarray(part)[cut] for part in got))
                    for u, cls, got in plumes]
            per, rate = self._changed_wind_peak(mine, per, rate, a_c, b_c, tr_c, since_s, sub, dt_s, middle, until,
                                                fast=fast_c)
        top = cap_at_pure_vapour(per * rate * np.exp(-self.decay_rate_s * tr_c), self.pure_vapour_kg_m3)
        edge[sub] = np.maximum(top, share[cut] * c[sub])

    def _squeeze(self, wind_at: Any, t0_s: float, t1_s: float, speed_span: tuple[float, float] | None,
                 speed: float, d_m: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64],
                 since_s: NDArray[np.float64] | None, ok: NDArray[np.bool_],
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
        """Where the carrying speed rises within the step (between its ends, middle and the met's records within it,
        :meth:`step_speeds`): the emission window its peak takes, ``[a, b]`` widened to the emission times the
        windows of finer steps within it can take, and how fast the steady plume's window (its end ``t - d/u``,
        ``d_m`` the distance its travel time is taken over) grows at its fastest within the step where it brings
        new emission, at least 1 (:func:`plumecast.near_field_squeeze.window_squeeze`); the window stays ``[a, b]``
        where that is 1. None where the speed does not rise within the step (its peak is then as before, to the
        bit). The windows of finer steps had reached, when the step began, at least ``B`` at its start and at the
        last step's middle (this window's start ``a`` less half a step, where the window goes on from the last).
        The step's mean growth, ``(b - a)/dt``, had stood for it: after a lull (1 m/s at a record, 4 m/s
        at the next) 10-s steps read AEGL-3 3 and 5 km out at 23.0 and 23.2 min, 300- and 600-s steps never
        (session 49)."""
        from plumecast.near_field_squeeze import rising, window_squeeze

        if wind_at is None or (speed_span is not None and speed_span[0] >= speed and speed_span[1] <= speed):
            return None
        times, speeds = self.speed_knots(wind_at, t0_s, t1_s)
        if not rising(times, speeds):
            return None
        # the finer steps' windows had reached at least the last step's middle's: this window's start less half a step
        fast, low, high = window_squeeze(times, speeds, d_m, a - 0.5 * (t1_s - t0_s))
        lo, hi = np.minimum(a, low), np.maximum(b, high)
        if since_s is not None:
            first = np.asarray(since_s, dtype=float)[ok]
            lo, hi = np.maximum(lo, first), np.maximum(hi, first)
        grows = fast > 1.0
        return np.where(grows, lo, a), np.where(grows, hi, b), fast

    def speed_knots(self, wind_at: Any, t0_s: float, t1_s: float, middle: tuple[float, float, float] | None = None,
                    ) -> tuple[list[float], list[float]]:
        """The times [s] of the step's knots (:meth:`knot_winds`) and the carrying speeds there [m s-1]."""
        times, winds = self.knot_winds(wind_at, t0_s, t1_s, middle)
        return times, [w[2] for w in winds]

    def knot_winds(self, wind_at: Any, t0_s: float, t1_s: float, middle: tuple[float, float, float] | None = None,
                   ) -> tuple[list[float], list[tuple[float, float, float]]]:
        """The times [s] of the step's ends, middle and the met's records within it, and the carrying winds there
        (:meth:`source_wind`'s three; ``middle``: its value at the step's middle where known): the speed is linear
        between them. Where the wind turns between two of them its vector is linear, not its speed, which dips
        between them: the time of the dip's bottom is a knot too (a 90-degree turn at 3 m/s between records 100 s
        apart, 2.1 m/s half way, a reversal through the calm; the 600- and 300-s steps' slowest had read 3 m/s,
        session 50 audit). Read once a step by the near field (:meth:`plumecast.exposure.ExposureSampler._plume_step`:
        the speeds, the wind's shift and the turn's directions, session 53)."""
        mid = 0.5 * (t0_s + t1_s)
        times = sorted({mid, *step_times(wind_at, t0_s, t1_s)})
        winds = [middle if t == mid and middle is not None else self.source_wind(wind_at, t) for t in times]
        for i in range(len(times) - 1, 0, -1):  # from the last, so the inserts leave the earlier pairs in place
            (ua, va, _), (ub, vb, _) = winds[i - 1], winds[i]
            du, dv = ub - ua, vb - va  # a wind that only grows or slows has its slowest at an end (s outside 0-1)
            if du * du + dv * dv > 0.0 and 0.0 < (s := -(ua * du + va * dv) / (du * du + dv * dv)) < 1.0:
                t = times[i - 1] + s * (times[i] - times[i - 1])
                times.insert(i, t)
                winds.insert(i, self.source_wind(wind_at, t))
        return times, winds

    def speed_rises(self, wind_at: Any, t0_s: float, t1_s: float) -> bool:
        """Whether the carrying speed rises anywhere within the step (:meth:`speed_knots`)."""
        from plumecast.near_field_squeeze import rising

        return wind_at is not None and rising(*self.speed_knots(wind_at, t0_s, t1_s))

    def step_speeds(self, wind_at: Any, t0_s: float, t1_s: float) -> list[float]:
        """The source's carrying speeds [m s-1] (:meth:`source_wind`) at the step's two ends and at the met's
        records within it (``wind_at.records_within``, :meth:`plumecast.stack_wind.SourceWind.records_within`,
        where it has one): the wind is linear in time between records, so its slowest and fastest within the
        step are among these and the middle's. The ends alone had missed a record off the step's middle: the
        wind dipping from 4 to 1 m/s at a record 100 s into a 600-s step and back 100 s later (3 t of chlorine
        over 600 s, class D) read AEGL-3 1 km out "never" with 600-s steps, at 10 min with 10-s steps."""
        return [self.source_wind(wind_at, t)[2] for t in step_times(wind_at, t0_s, t1_s)]

    def _changed_speeds(self, wind_at: Any, t0_s: float, t1_s: float, speed: float,
                        speed_span: tuple[float, float] | None) -> list[float]:
        """The source's carrying speeds within the step [m s-1] (:meth:`step_speeds`) where they differ from the
        middle's ``speed``; none where no wind since the release began has differed from it (``speed_span``: a
        steady wind reads no more winds, and its peak is as before, to the bit) or no wind is known."""
        if wind_at is None or (speed_span is not None and speed_span[0] >= speed and speed_span[1] <= speed):
            return []
        return [end for end in self.step_speeds(wind_at, t0_s, t1_s) if end != speed]

    def class_span(self, wind_at: Any, t0_s: float, t1_s: float) -> tuple[float, float]:
        """The lowest and highest index into :data:`PG_CLASSES` of the plume's class within the step (at its ends,
        middle and the met's records within it, :meth:`_step_classes`); NaN without the met's boundary layer."""
        if self.boundary_at is None:
            return math.nan, math.nan
        mid = self.class_and_lid(0.5 * (t0_s + t1_s))
        got = [PG_CLASSES.index(c) for c, _ in (mid, *self._step_classes(wind_at, t0_s, t1_s, *mid))]  # type: ignore[arg-type]
        return float(min(got)), float(max(got))

    def _step_classes(self, wind_at: Any, t0_s: float, t1_s: float, pg_class: str,
                      lid_m: float) -> list[tuple[str, float]]:
        """The plume's classes within the step other than its middle's (``pg_class``), each with the lowest lid [m]
        it is seen with, from the met's boundary layer (:attr:`boundary_at`) at the step's ends, middle and the
        met's records within it (``wind_at.records_within``): ``1/L`` is linear in time between records and the
        class is the nearest Golder line's, so a class between two of these is passed too (with the lower of
        their lids); none without a boundary layer or where the class holds over the step. (A lid that changes
        in the middle's class is not followed: each lid of a dense-capable release is one more dense cloud to
        set up, and a run on the met's boundary layer, whose lid changes in every step, took twice as long.)"""
        if self.boundary_at is None:
            return []
        within = getattr(wind_at, "records_within", None)
        mid = 0.5 * (t0_s + t1_s)
        times = sorted({t0_s, mid, t1_s, *(() if within is None else within(t0_s, t1_s))})
        seen = [self.class_and_lid(t) if t != mid else (pg_class, lid_m) for t in times]
        low: dict[str, float] = {}  # each class seen and its lowest lid (the lower the lid, the thicker the air)
        for (c0, h0), (c1, h1) in zip(seen[:-1], seen[1:], strict=True):
            i0, i1 = sorted((PG_CLASSES.index(c0), PG_CLASSES.index(c1)))  # type: ignore[arg-type]
            for cls, lid in ((c0, h0), (c1, h1), *((PG_CLASSES[i], min(h0, h1)) for i in range(i0 + 1, i1))):
                low[cls] = min(low.get(cls, math.inf), lid)
        return [(cls, lid) for cls, lid in low.items() if cls != pg_class]

    def _step_weathers(self, wind_at: Any, t0_s: float, t1_s: float, speed: float, pg_class: str, lid_m: float,
                       speed_span: tuple[float, float] | None) -> list[tuple[float, str, float]]:
        """The carrying speeds [m s-1], classes and lids [m] within the step other than its middle's: the speeds
        that differ (:meth:`_changed_speeds`) in the middle's class, and where the class changes
        within the step (:meth:`_step_classes`) each such class with the middle's speed and those. None in a
        steady wind and class: the step's peak and front are then as before, to the bit."""
        speeds = self._changed_speeds(wind_at, t0_s, t1_s, speed, speed_span)
        out = [(u, pg_class, lid_m) for u in speeds]
        for cls, lid in self._step_classes(wind_at, t0_s, t1_s, pg_class, lid_m):
            out += [(u, cls, lid) for u in (speed, *speeds)]
        return out

    def _changed_wind_peak(self, plumes: list[tuple[float, str, Any]], per_rate: NDArray[np.float64],
                           rate: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64],
                           travel: NDArray[np.float64], since_s: NDArray[np.float64] | None, ok: NDArray[np.bool_],
                           dt_s: float, middle: tuple[float, str], until: NDArray[np.float64] | None = None,
                           fast: NDArray[np.float64] | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The peak's air per unit rate [s m-3] and rate bound [kg s-1] where the weather changes within the step
        (``plumes``: each other speed and class within it with :meth:`_per_rate` of them and its lid,
        :meth:`_step_weathers`; ``per_rate`` and ``rate``: the middle's, of speed and class ``middle``). The near field dilutes its air with the
        wind of the moment, and finer steps read it so: the steady plume's ``1/u`` (sigma_y and sigma_z are
        Briggs's of the distance alone: they do not change with the speed), and each kilogram's arrival spread
        over ``sigma_t = sigma_x / u`` (wider, so its lead brings more of the window's air, in a slower wind).
        Where the wind slows within a step, the air late in it is thicker, and comes sooner, than the middle's
        wind gives: slowing from 4 to 1 m/s over 15-20 min, AEGL-2 5 km out had read 19.85 and 19.99 min with
        600- and 300-s steps, 19.5 with 10-s steps (session 47; the 300-s step's mean there was 1/70 of the 10-s
        steps'). A class that changes within the step changes sigma_y, sigma_z and sigma_x alike: the met's
        class going from D to F 100 s into a 600-s step (3 t of chlorine over 600 s, 3 m/s) read AEGL-3 2 km out
        at 20 min with 600-s steps, 16.0 min with 10-s steps (session 48). The bound: the largest air per unit
        rate of the weathers (the middle's and the others') times the largest of their rate bounds
        (:meth:`_spread_max_rate` with each one's sigma_t, where the spread window brings any air; the top hat's
        arrivals are not spread and keep the middle's). It is above each of their peaks; the wind and ``1/L``
        are linear between met records, so with the records within the step among the weathers (their extremes
        are at those or the step's ends) the speeds span the step's and the classes are those it passes. The
        travel time stays the middle's streak line's (the front is bounded apart), and the step's mean, the
        dose, the middle's weather. ``until``: the emission before it alone (:meth:`step_mean_at`'s ``edge``);
        ``fast``: the window's fastest growth within the step (:meth:`_spread_rate_bound`)."""
        from plumecast.near_field_smear import window_mass

        top_per, top_rate = per_rate, rate
        some = b > a
        since = None if since_s is None else np.asarray(since_s, dtype=float)[ok]
        done: set[tuple[Any, ...]] = {middle}  # the (speed, class) whose rate bound is taken
        for u, cls, (per_end, _, spread_end) in plumes:
            top_per = np.maximum(top_per, per_end)
            # the spread, sigma_x / u, is the speed's and the class's alone: a lid of its own adds no rate bound
            key = (u, cls) if self.dense is None else (u, cls, len(done))
            if spread_end is None or self.emitted_knots is None or not some.any() or key in done:
                continue
            done.add(key)
            knots, cum = self.emitted_knots
            mass = np.zeros(a.size)
            mass[some] = window_mass(knots, cum, a[some], b[some], spread_end[some],
                                     None if since is None else since[some], lead_s=travel[some])
            bound = self._spread_rate_bound(a, b, spread_end, travel, since_s, ok, dt_s, until, fast=fast)
            top_rate = np.maximum(top_rate, np.where(mass > 0.0, bound, 0.0))
        return top_per, top_rate

    def _spread_rate_bound(self, a: NDArray[np.float64], b: NDArray[np.float64], spread_s: NDArray[np.float64],
                           travel: NDArray[np.float64], since_s: NDArray[np.float64] | None, ok: NDArray[np.bool_],
                           dt_s: float, until: NDArray[np.float64] | None = None,
                           fast: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """The rate bound of a step's peak where arrivals are spread (``spread_s`` each kilogram's sigma_t): no
        faster than the emission, nor than the density's peak times the mass (:meth:`_spread_max_rate`), and
        in emission time: a window ``[a, b]`` longer than the step ``dt_s`` (the travel time shrinking) comes
        faster (``until``: of the emission before it alone), and where the wind picks up within the step as
        fast as the window grows at its fastest within it (``fast``, :meth:`_squeeze`; None: not known to grow
        faster than its mean). [kg s-1]"""
        grown = np.maximum((b - a) / dt_s, 1.0)
        if fast is not None:
            grown = np.maximum(grown, fast)
        return np.asarray(self._spread_max_rate(a, b, spread_s, travel, since_s, ok, until) * grown, dtype=float)

    def _spread_max_rate(self, a: NDArray[np.float64], b: NDArray[np.float64], spread_s: NDArray[np.float64],
                         travel: NDArray[np.float64], since_s: NDArray[np.float64] | None,
                         ok: NDArray[np.bool_], until: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """An upper bound of the rate [kg s-1] at which the air of the window ``[a, b]`` arrives when each
        kilogram's arrival is spread (:mod:`plumecast.near_field_smear`, ``sigma_t = spread_s``, truncated
        at ``-min(sqrt 2 sigma_t, travel)``): a convolution of the emission rate with the arrival density
        is at most the largest emission rate over the emissions that can arrive in the step, and at most the
        density's peak times their mass. The step's mean had stood for the peak within it, below it where
        the cloud passes within a step (the countdowns of audit 39); a bound errs early, never late. ``until``
        (per point): the air emitted before it alone (the emissions the bound takes end there)."""
        from scipy.special import ndtr

        sig = np.maximum(np.asarray(spread_s, dtype=float), 1e-9)
        lead = np.minimum(math.sqrt(2.0) * sig, np.asarray(travel, dtype=float))
        norm = ndtr(lead / sig)  # the truncated density's mass before renormalising
        # air that arrives more than LAG_SIGMAS sigma_t behind the wind's: a share below ndtr(-LAG) / norm of any
        # rate (2.9e-7 / 0.5 at most), bounded by the release's largest rate; the rest is bounded by the rates and
        # the mass emitted within [a - LAG sigma_t, b + lead]
        lo, hi = a - _LAG_SIGMAS * sig, b + lead
        if since_s is not None:
            first = np.asarray(since_s, dtype=float)[ok]
            lo, hi = np.maximum(lo, first), np.maximum(hi, first)
        if until is not None:
            lo, hi = np.minimum(lo, until), np.minimum(hi, until)
        assert self.emitted_by is not None
        mass = np.maximum(self.emitted_by(hi) - self.emitted_by(lo), 0.0)
        density = 1.0 / (math.sqrt(2.0 * math.pi) * sig * norm)  # the truncated density's peak
        knots = None if self.rate_knots is None else np.asarray(self.rate_knots, dtype=float)
        # the release's largest rate: one value (over its knots), or each window's where it has none
        most = self._max_rate(lo, hi) if knots is None or knots.size == 0 else self._max_rate(knots[:1], knots[-1:])
        tail = ndtr(-_LAG_SIGMAS) / norm * most
        edges = lo[None, :] + (hi - lo)[None, :] * np.linspace(0.0, 1.0, _BANDS + 1)[:, None]
        # the largest rates over the whole window and over each band, in one call
        rates = self._max_rate(np.concatenate([lo, edges[:-1].ravel()]), np.concatenate([hi, edges[1:].ravel()]))
        whole = np.minimum(rates[:lo.size], density * mass)
        band_rates = rates[lo.size:].reshape(_BANDS, lo.size)
        # and band by band of emission time: a band's air arrives in the step no faster than its largest rate times
        # the density's mass over the lags its emissions can arrive in the step with, nor than the density's peak
        # times its mass. Where the step lies on the cloud's trailing edge (the release has stopped, or a plan's
        # termination keeps only the air emitted before a bin), the air emitted ``LAG`` sigma before is on the
        # density's tail, and the whole window's largest rate had read the plateau there for ``LAG`` sigma after
        # the cloud's end (session 46)
        emitted = self.emitted_by(edges.ravel()).reshape(edges.shape)
        banded = np.zeros_like(whole)
        for j in range(_BANDS):
            e0, e1 = edges[j], edges[j + 1]
            # lags t - tau - s of its emissions s in [e0, e1] at the step's times t: [a - e1, b - e0], none before -lead
            lag0, lag1 = np.maximum(a - e1, -lead), np.maximum(b - e0, -lead)
            share = (ndtr(lag1 / sig) - ndtr(lag0 / sig)) / norm
            banded += np.minimum(band_rates[j] * share, density * np.maximum(emitted[j + 1] - emitted[j], 0.0))
        return np.asarray(np.minimum(whole, banded) + tail, dtype=float)

    def _max_rate(self, a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        """The largest emission rate over each window ``[a, b]`` [kg s-1]: the rate is linear between
        :attr:`rate_knots` (:meth:`plumecast.release.SourceGroup.group_rate`), so at the window's ends or at
        a knot inside it (each side of the knot)."""
        eps = 1e-6
        top = np.maximum(self.rate_at(a), self.rate_at(np.maximum(b - eps, a)))
        knots = None if self.rate_knots is None else np.asarray(self.rate_knots, dtype=float)
        if knots is None or knots.size == 0:
            return np.asarray(top, dtype=float)
        at = np.append(np.maximum(self.rate_at(knots), self.rate_at(knots - eps)), 0.0)
        lo = np.searchsorted(knots, a, side="right")
        hi = np.searchsorted(knots, b, side="left")
        inside = hi > lo
        if inside.any():
            idx = np.empty(2 * int(inside.sum()), np.int64)
            idx[0::2], idx[1::2] = lo[inside], hi[inside]
            top[inside] = np.maximum(top[inside], np.maximum.reduceat(at, idx)[0::2])
        return np.asarray(top, dtype=float)


#: How far behind the wind's air [sigma_t] the bound of the spread arrivals' peak takes the emissions into account
#: in full (:meth:`NearFieldSource._spread_max_rate`); the later air, ``ndtr(-5) = 2.9e-7`` of the mass, is
#: bounded by the release's largest rate.
_LAG_SIGMAS = 5.0
#: How many bands of emission time the bound of the spread arrivals' peak also takes band by band
#: (:meth:`NearFieldSource._spread_max_rate`)
_BANDS = 12


#: Roughness length [m] of the point releases' ``near_field.terrain`` for their stability
#: class from the met's Obukhov length (Golder 1972): open country 0.1 m (the ``zones``
#: default), built-up land 1 m (:data:`plumecast.exposure_area.CITY_ROUGHNESS_M`).
TERRAIN_ROUGHNESS_M = {"rural": 0.1, "urban": 1.0}

def local_xy(
    lat: NDArray[np.float64], lon: NDArray[np.float64], lat0: float, lon0: float, u_e: float, v_n: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Downwind ``x`` and crosswind ``y`` (left of the wind) of points from a source,
    in the source's tangent plane (equirectangular; fine within ~50 km). [m]"""
    dx = np.deg2rad(((np.asarray(lon, float) - lon0 + 180.0) % 360.0) - 180.0) * EARTH_RADIUS_M * math.cos(
        math.radians(lat0))
    dy = np.deg2rad(np.asarray(lat, float) - lat0) * EARTH_RADIUS_M
    speed = math.hypot(u_e, v_n)
    if speed == 0.0:
        ex, ey = 1.0, 0.0
    else:
        ex, ey = u_e / speed, v_n / speed
    return dx * ex + dy * ey, -dx * ey + dy * ex


def local_latlon(east: NDArray[np.float64], north: NDArray[np.float64], lat0: float,
                 lon0: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The points ``east``, ``north`` [m] of a source at ``lat0``, ``lon0`` in its tangent plane as latitude and
    longitude [deg]: the inverse of :func:`local_xy` with an east wind."""
    lat = lat0 + np.degrees(north / EARTH_RADIUS_M)
    lon = lon0 + np.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    return lat, lon
