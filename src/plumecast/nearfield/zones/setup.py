"""The plume setup of a zones scenario: wind, stability, source model, dense-gas regime
(Britter & McQuaid 1988 hand-over to the passive plume), the dispersion coefficients and
the levels of concern with their thresholds (see the package docstring). A stack's plume
rise is in :mod:`~plumecast.nearfield.zones.stack`, a finite dense release's parts in
:mod:`~plumecast.nearfield.zones.dense_finite`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from plumecast.agents import Agent
from plumecast.errors import DataFileError, ScenarioError
from plumecast.nearfield.gaussian import (
    averaging_time_factor,
    briggs_sigma_y,
    briggs_sigma_z,
    cloud_passage_time,
    pure_vapour_kg_m3,
    vertical_term,
)
from plumecast.nearfield.lid import near_field_lid
from plumecast.nearfield.stability import (
    PGClass,
    power_law_wind_speed,
)
from plumecast.nearfield.zones.far_field import (  # noqa: F401  (setup's names before session 53)
    FAR_LAG_POINTS,
    FAR_LAG_SPAN,
    far_field_match,
    far_field_matches,
    far_sigma_z,
)
from plumecast.nearfield.zones.scenario import (
    LocalScenario,
)
from plumecast.nearfield.zones.stack import (
    stack_plume,
)
from plumecast.units import EARTH_RADIUS_M, kg_m3_to_ppm, ppm_to_kg_m3

if TYPE_CHECKING:
    from plumecast.nearfield.zones.dense_twins import TwinStack

#: Smallest wind speed the Gaussian model is run with (ALOHA's own floor is 1 m/s). [m s-1]
MIN_WIND_SPEED_M_S = 1.0
#: Farthest distance searched for a footprint. [m]
MAX_DISTANCE_M = 100_000.0


def at_search_limit(distance_m: float) -> bool:
    """Whether a zone's farthest place inside is the :data:`MAX_DISTANCE_M` search limit itself (the
    zone extends beyond it); a last place short of it (99.05 km: the zone ends before the next, at
    100 km) is not (a 1 % margin had flagged it, dense audit)."""
    return distance_m >= MAX_DISTANCE_M * (1.0 - 1e-9)


# --------------------------------------------------------------------------- physics


@dataclass(frozen=True)
class Level:
    """A resolved level of concern."""

    name: str
    threshold_kg_m3: float  # at the near-source exposure duration (see resolve_levels)
    threshold_ppm: float
    aegl: int | None = None  # AEGL level, read at each place's exposure duration
    exposure_duration_s: float | None = None  # duration threshold_kg_m3 is read at [s]


@dataclass(frozen=True)
class PlumeSetup:
    """Everything the footprint needs, resolved from a scenario (SI)."""

    pg_class: PGClass
    wind_speed_m_s: float
    downwind_bearing_deg: float
    source_height_m: float
    receptor_height_m: float
    mixing_height_m: float
    terrain: Literal["rural", "urban"]
    sigma_y_factor: float
    mass_kg: float
    duration_s: float
    exposure_duration_s: float | None  # fixed by the scenario; None: cloud passage time
    dense: Any = None  # plumecast.nearfield.dense_gas.DenseSetup when the release is dense, else None
    release_profile: Any = None  # plumecast.nearfield.source_models.ReleaseProfile of a tank release, else None
    # a dense release of finite duration: the same mass released at once (duration 0; its own regime, dense or
    # passive), for Britter & McQuaid's continuous/instantaneous rule (``dense_finite.dense_finite_parts``); else None
    instantaneous: Any = None
    # ... and the same rate released over longer durations (``(duration [s], the puff of its mass)``, on the grid of
    # ``dense_finite.longer_durations``): every longer release at its rate contains the release over T, so its peak
    # is never above theirs (``dense_finite.dense_finite_parts``); () where ``instantaneous`` is None
    longer: tuple[tuple[float, Any], ...] = ()
    # plumecast.nearfield.plume_rise.PlumeRise of a release from a stack (its effective height rises with x,
    # :func:`~plumecast.nearfield.zones.stack.effective_height`); None: the plume stays at source_height_m
    plume_rise: Any = None
    notes: tuple[str, ...] = ()  # what the zones output says of the setup (the plume rise, its inputs)
    # the pure agent's vapour density at the air's temperature and 1 atm: no concentration is above it
    # (plumecast.nearfield.gaussian.cap_at_pure_vapour); inf: no cap [kg m-3]
    pure_vapour_kg_m3: float = math.inf
    # where the lid comes from, in words (plumecast.nearfield.lid.near_field_lid), for the outputs
    lid_from: str = ""


def plume_setup(scenario: LocalScenario) -> PlumeSetup:
    """Resolve stability, wind, durations, the source model and the dense-gas regime from a scenario.

    A ``tank`` release runs its source model (:func:`release_profile`) and the
    zones use its maximum 60-s average rate for as long as the airborne mass
    lasts (ALOHA's convention). A dense release (Britter & McQuaid 1988
    criterion, :func:`plumecast.nearfield.dense_gas.continuous_criterion`) gets a
    :class:`~plumecast.nearfield.dense_gas.DenseSetup`; otherwise ``dense`` is None and
    the model is the passive Gaussian unchanged.
    """
    met = scenario.meteorology
    duration = scenario.release.duration_s
    profile = None
    if scenario.release.tank is not None:
        profile = release_profile(scenario)
        rate, duration = profile.equivalent_constant_release(60.0)
        mass = rate * duration
    else:
        mass = scenario.release.mass_kg
    # one rule with run's near-field plumes: local_weather's lid, else turbulence.mixing_height_m (default 1000 m)
    lid, lid_from = near_field_lid(met.mixing_height_m, scenario.turbulence_mixing_height_m)
    base = PlumeSetup(
        pg_class=met.pg_class(),
        wind_speed_m_s=max(met.wind_speed_m_s, MIN_WIND_SPEED_M_S),
        downwind_bearing_deg=(met.wind_from_deg + 180.0) % 360.0,
        source_height_m=scenario.source.height_m,
        receptor_height_m=scenario.receptor_height_m,
        mixing_height_m=lid,
        lid_from=lid_from,
        terrain=met.terrain,
        sigma_y_factor=averaging_time_factor(met.averaging_time_s),
        mass_kg=mass,
        duration_s=duration,
        exposure_duration_s=scenario.exposure_duration_s,
        release_profile=profile,
        pure_vapour_kg_m3=pure_vapour_kg_m3(scenario.agent.molecular_weight_g_mol, met.air_temperature_c + 273.15),
    )
    if scenario.release.stack is not None:
        return stack_plume(scenario, passive_at_release_height(base))
    if scenario.release.dense_gas == "off":
        return passive_at_release_height(base)
    return with_dense_regime(scenario, base)


def with_dense_regime(scenario: LocalScenario, base: PlumeSetup) -> PlumeSetup:
    """``base`` (a setup without a stack, its ``dense`` and ``instantaneous`` unset) with the
    Britter-McQuaid regime of its release at its wind, class and lid (:func:`dense_setup`), and
    for a dense release of finite duration the whole mass at once beside it (the workbook's
    rule on finite durations, :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts`);
    the passive setup (:func:`passive_at_release_height`) where the release is not dense. ``run``
    calls it at each step's weather (:mod:`plumecast.near_field_dense`)."""
    from dataclasses import replace

    dense = dense_setup(scenario, base)
    if dense is None:
        return passive_at_release_height(base)
    twin, longer = None, []
    if dense.kind == "continuous":
        # the whole release at once, for the workbook's rule on finite durations (dense_finite_parts), and the
        # puffs of the same rate over longer durations (they contain the release over T: its peak is not higher).
        # A longer release whose whole mass at once is beyond the model's range (dense_range) bounds nothing, nor
        # do the ones longer still: the grid stops there, at a duration set by the rate and the weather alone, so
        # a shorter release's bounds still include a longer one's
        # (all of them set up together: one release temperature, the same for every twin, none having a tank's
        # profile, and their far fields matched at once, far_field_matches; the same values as one by one)
        from plumecast.nearfield import dense_gas as dg
        from plumecast.nearfield.zones.dense_finite import longer_durations
        from plumecast.nearfield.zones.far_field import puff_transitions

        puff = replace(base, duration_s=0.0, release_profile=None)
        t0 = release_temperature_k(scenario, puff)
        durations = longer_durations(base.duration_s, base.wind_speed_m_s)
        # the puffs' passive transition distances bisected together (dense_probe reads them by g0' and V0)
        m, ta = scenario.agent.molecular_weight_g_mol / 1000.0, scenario.meteorology.air_temperature_c + 273.15
        g0p = dg.reduced_gravity(m, t0, ta)
        known = puff_transitions(puff, [
            dg.DenseSetup("instantaneous", 0.0, 0.0, 0.0, dg.release_volume(mass, m, t0), g0p, t0, ta, m, 0.0)
            for mass in [puff.mass_kg] + [base.mass_kg * t_s / base.duration_s for t_s in durations]] if g0p > 0 else [])
        parts, found = [(0.0, puff)], [dense_probe(scenario, puff, t0, known)]
        for t_s in durations:
            part = replace(puff, mass_kg=base.mass_kg * t_s / base.duration_s)
            try:
                found.append(dense_probe(scenario, part, t0, known))
            except ScenarioError:
                break
            parts.append((t_s, part))
        dense_of = [None] * len(parts)
        ok = [i for i, f in enumerate(found) if f is not None]
        matched = far_field_matches([(parts[i][1], found[i][0], found[i][1]) for i in ok])
        # and their hand-overs to the passive plume found together (dense_twins.passive_takeovers)
        from plumecast.nearfield.zones.dense_twins import passive_takeovers

        takeovers = passive_takeovers([(replace(parts[i][1], dense=probe), found[i][3])
                                       for i, probe in zip(ok, matched, strict=True)])
        for i, probe, took in zip(ok, matched, takeovers, strict=True):
            dense_of[i] = dense_finish(parts[i][1], probe, found[i], took)
        twin = replace(puff, dense=dense_of[0])
        longer = [(t_s, replace(part, dense=d)) for (t_s, part), d in zip(parts[1:], dense_of[1:], strict=True)]
    return replace(base, dense=dense, instantaneous=twin, longer=tuple(longer))


def passive_at_release_height(setup: PlumeSetup) -> PlumeSetup:
    """A passive plume's setup with the transport wind at the release height.

    The scenario's wind is the 10-m wind the stability class is read with; an
    elevated passive release is carried (and diluted, ``C ∝ 1/u``) by the wind
    at its own height, the power law ``u (h/10 m)^p`` with Irwin's (1979)
    exponents per class and terrain (:func:`~plumecast.nearfield.stability.power_law_wind_speed`;
    ISC3 §1.1.5). Releases at or below 10 m keep the 10-m wind. The dense-gas
    path (ground-level clouds) is not changed.
    """
    from dataclasses import replace

    u = power_law_wind_speed(setup.wind_speed_m_s, setup.source_height_m, setup.pg_class, setup.terrain)
    return setup if u == setup.wind_speed_m_s else replace(setup, wind_speed_m_s=u)


def release_profile(scenario: LocalScenario) -> Any:
    """The release-rate profile of the scenario's ``tank``: a thin wrapper of
    :func:`plumecast.nearfield.source_models.tank_release_profile` (the one source model
    of ``zones`` and ``run``), at the zones wind (at least :data:`MIN_WIND_SPEED_M_S`).

    Raises
    ------
    ScenarioError
        The tank cannot make a profile; the message starts with the key to blame
        (``release.tank.temperature_c: ...``, or ``release.tank: ...``).
    """
    from plumecast.nearfield.source_models import tank_release_profile

    tank = scenario.release.tank
    assert tank is not None
    try:
        return tank_release_profile(tank, scenario.agent.name, scenario.agent.molecular_weight_g_mol,
                                    max(scenario.meteorology.wind_speed_m_s, MIN_WIND_SPEED_M_S))
    except (ValueError, DataFileError) as exc:
        key, sep, rest = str(exc).partition(": ")
        if sep and key.isidentifier():
            raise ScenarioError(f"release.tank.{key}: {rest}") from None
        raise ScenarioError(f"release.tank: {exc}") from None


def release_temperature_k(scenario: LocalScenario, setup: PlumeSetup) -> float:
    """Temperature of the released vapour (:func:`release_temperature`). [K]"""
    return release_temperature(scenario, setup)[0]


#: how :func:`release_temperature` found the vapour's temperature: given, from a tank's
#: source model, the agent's boiling point, the air above the boiling point, or the air
#: for want of a boiling point (an inline agent, or one the thermo table has none for)
TemperatureSource = Literal["release", "tank", "boiling point", "air", "air, boiling point unknown"]


def release_temperature(scenario: LocalScenario, setup: PlumeSetup) -> tuple[float, TemperatureSource, str]:
    """Temperature of the released vapour [K], how it was found, and why (the reason the
    boiling point is unknown, for a note; else "").

    ``release.temperature_c`` when given; a tank's source-model temperature; else
    the agent's normal boiling point when it is below the air temperature (a
    liquefied gas flashing to 1 atm leaves at its boiling point), else the air. An
    agent without a boiling point in the shipped thermo table (an inline agent, or a
    blank cell) takes the air's temperature: the zones say so
    (:func:`plumecast.nearfield.zones.footprint`), since a liquefied gas would leave
    colder and denser.
    """
    air = scenario.meteorology.air_temperature_c + 273.15
    if scenario.release.temperature_c is not None:
        return scenario.release.temperature_c + 273.15, "release", ""
    prof = setup.release_profile
    if prof is not None and math.isfinite(prof.release_temperature_k):
        return float(prof.release_temperature_k), "tank", ""
    from plumecast.nearfield.source_models import load_thermo

    try:
        tb = load_thermo(scenario.agent.name, scenario.agent.molecular_weight_g_mol).boiling_point_k
    except DataFileError as exc:  # not in thermo.csv, or its boiling point left blank there
        return air, "air, boiling point unknown", str(exc)
    return (tb, "boiling point", "") if tb < air else (air, "air", "")


def dense_setup(scenario: LocalScenario, setup: PlumeSetup) -> Any:
    """The Britter-McQuaid regime of a release, or None when it is not dense.

    Continuous (``duration_s > 0``) or instantaneous; criterion, α, length
    scale, the end of the published curves, and the hand-over: the first
    distance beyond the first curve where the passive plume of the release
    reaches the workbook value (with its far-field extension), so that the
    concentration is continuous there and its decay only slows
    (:mod:`plumecast.nearfield.dense_gas`, "Choices, and why"). None when the
    criterion is not met or the cloud is passive before the first curve.
    """
    found = dense_probe(scenario, setup)
    return None if found is None else dense_finish(setup, far_field_match(setup, found[0], found[1]), found)


def dense_probe(scenario: LocalScenario, setup: PlumeSetup, t0: float | None = None,
                known: dict[tuple[float, float], float] | None = None) -> Any:
    """:func:`dense_setup` up to its far field: None where the release is not dense, else the workbook
    regime without it, ``u*`` for :func:`far_field_match`, the notes so far, the first curve's start and the
    passive transition distance, for :func:`dense_finish`. ``t0``: :func:`release_temperature_k` where known;
    ``known``: a puff's passive transition distance by ``(g0', V0)`` where known (``far_field.puff_transitions``)."""
    from dataclasses import replace

    from plumecast.nearfield import dense_gas as dg

    m = scenario.agent.molecular_weight_g_mol / 1000.0
    t0 = release_temperature_k(scenario, setup) if t0 is None else t0
    ta = scenario.meteorology.air_temperature_c + 273.15
    g0p = dg.reduced_gravity(m, t0, ta)
    u = setup.wind_speed_m_s
    if g0p <= 0:
        return None
    notes: list[str] = []
    kind: Literal["continuous", "instantaneous"]
    if setup.duration_s > 0:
        kind = "continuous"
        q0 = dg.release_volume(setup.mass_kg / setup.duration_s, m, t0)
        crit = dg.continuous_criterion(g0p, q0, u)
        if crit < dg.CRITERION_CONTINUOUS:
            return None
        length = math.sqrt(q0 / u)
        alpha = 0.2 * math.log10(g0p**2 * q0 / u**5)
        vol = q0
    else:
        kind = "instantaneous"
        vol = dg.release_volume(setup.mass_kg, m, t0)
        crit = dg.instantaneous_criterion(g0p, vol, u)
        if crit < dg.CRITERION_INSTANTANEOUS:
            return None
        length = vol ** (1.0 / 3.0)
        alpha = 0.5 * math.log10(g0p * length / u**2)
    if alpha > 1.0:
        notes.append(f"Britter-McQuaid α = {alpha:.2f} is beyond the published curves (≤ 1): the α = 1 curve is used")
        alpha = 1.0
    conc, beta = dg.bm_curve(alpha, kind)
    x_curves = length * 10.0 ** float(beta.max())
    probe = dg.DenseSetup(kind, crit, alpha, length, vol, g0p, t0, ta, m, x_curves)
    x_p = (known or {}).get((g0p, vol)) if kind == "instantaneous" else None
    x_p = passive_transition_distance(setup, probe) if x_p is None else x_p
    x_first = length * 10.0 ** float(beta.min())
    if x_p <= x_first:
        # passive (its own Richardson number below the criterion) before the first published curve (C_m/C_0 =
        # 0.1): the dense phase lies within the workbook's near field, short against any distance of interest
        # -> dense effects ignored (this keeps Project Prairie Grass's small SO2 releases passive)
        return None
    x_check = x_curves
    sy_c = float(probe.sigma_y_equivalent(np.array([x_curves]), u)[0])
    if kind == "continuous" and math.isfinite(setup.duration_s):
        # a release of finite duration is the steady plume only within u T/0.6 of the source, and never wider
        # than its whole mass at once when its last gas passes (dense_finite.dense_finite_parts): the range is
        # checked on that cloud. The steady plume's width, that of a release lasting for ever, had refused 5 t of
        # chlorine over 1 s as "already 160 km wide", and run had then taken it passive, 35x too high at 300 m
        # (review of session 41); the whole mass at once is checked by its own setup (with_dense_regime)
        from plumecast.nearfield.zones.dense_finite import BM_INSTANTANEOUS_MAX

        x_check = min(x_curves, u * setup.duration_s / BM_INSTANTANEOUS_MAX)
        whole = replace(probe, kind="instantaneous", source_volume=q0 * setup.duration_s)
        sy_c = min(float(probe.sigma_y_equivalent(np.array([x_check]), u)[0]),
                   float(whole.sigma_y_equivalent(np.array([x_check + u * setup.duration_s]), u)[0]))
    from plumecast.nearfield.zones.dense_range import check_dense_scale

    check_dense_scale(scenario, kind, x_check, sy_c)
    # beyond the curves: the passive Gaussian plume (puff) of the release from virtual sources matched to the
    # cloud's width and (by mass) depth where the curves end (far_field_match)
    met = scenario.meteorology
    obukhov = met.obukhov_length_m if met.stability_route() == "obukhov_length" else None
    ustar = (dg.far_field_friction_velocity(setup.pg_class, u, met.roughness_length_m, obukhov)
             if STRATIFIED_FAR_FIELD else math.nan)
    return probe, ustar, notes, x_first, x_p


def dense_finish(setup: PlumeSetup, probe: Any, found: tuple[Any, ...],
                 takeover: tuple[float, str | None] | None = None) -> Any:
    """:func:`dense_setup` from its far field on: ``probe`` the regime of :func:`dense_probe` (``found``)
    with :func:`far_field_match`'s far field; the hand-over to the passive plume and the notes (``takeover``:
    :func:`_passive_takeover`'s distance and note where the caller has them, ``dense_twins.passive_takeovers``)."""
    from dataclasses import replace

    from plumecast.nearfield import dense_gas as dg
    from plumecast.nearfield.zones.export import sig_text

    notes, x_first, x_p = list(found[2]), found[3], found[4]
    kind, crit, alpha, x_curves = probe.kind, probe.criterion, probe.alpha, probe.curves_end_m
    t0, g0p = probe.release_temperature_k, probe.g0p
    if takeover is None:
        x_pass = _passive_takeover(replace(setup, dense=probe), x_first, notes)
    else:
        x_pass = takeover[0]
        notes.extend([takeover[1]] if takeover[1] is not None else [])
    probe = replace(probe, handover_m=x_pass)
    c_h = float(probe.concentration_kg_m3(np.array([x_pass]))[0]) if math.isfinite(x_pass) else 0.0
    if x_p < x_curves:
        notes.append(
            f"the cloud's own Richardson number (workbook criterion with the cloud's "
            f"{'width' if kind == 'continuous' else 'plan area'}) falls below the threshold at {sig_text(x_p)} m; the "
            f"workbook curves, fitted to whole field trials, are followed to their end ({sig_text(x_curves)} m)"
        )
    passive_text = (f"the source's passive Gaussian from {sig_text(x_pass)} m, where it is the higher"
                    if math.isfinite(x_pass) else "the source's passive Gaussian is nowhere the higher")
    notes.insert(0, (
        f"dense gas ({kind}, Britter & McQuaid 1988): criterion {crit:.2g} "
        f"(dense ≥ {dg.CRITERION_CONTINUOUS if kind == 'continuous' else dg.CRITERION_INSTANTANEOUS:g}), "
        f"α = {alpha:.2f}, vapour at {t0 - 273.15:.0f} °C, g0' = {g0p:.2g} m/s²; workbook curves to "
        f"{sig_text(x_curves)} m, beyond them the passive Gaussian {'plume' if kind == 'continuous' else 'puff'} "
        f"from virtual sources matched there (σ_z {probe.far_sigma_z_m:.2g} m, the cloud's mass-consistent depth"
        f"{dg.stratified_far_field_text(probe)}); {passive_text}"
    ))
    return replace(probe, c_handover_kg_m3=c_h, notes=tuple(notes))


def _inverse_increasing(f: Any, target: float, lo: float, hi: float, rtol: float = 1e-14) -> float:
    """The smallest ``x`` in ``[lo, hi]`` with ``f(x) >= target`` for an increasing ``f``, by bisection in
    ``ln x`` to ``rtol`` (``lo`` if ``f(lo) >= target``, ``inf`` if ``f(hi) < target``). [m]"""
    if f(lo) >= target:
        return lo
    if f(hi) < target:
        return math.inf
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1.0 + rtol:
            break
    return hi


#: Whether the far field's vertical growth is damped by the cloud's stratification (DEGADIS 2.1's phi(Ri*),
#: :func:`far_field_match`); False: the ambient rate throughout (the far field before this change).
STRATIFIED_FAR_FIELD = True


def _passive_takeover(setup: PlumeSetup, x_first: float, notes: list[str]) -> float:
    """First distance beyond the first published curve where the passive plume reaches the dense one. [m]

    Found on a log grid to :data:`MAX_DISTANCE_M` and refined by bisection in
    ``ln x`` (the two candidates of :func:`dense_axis_parts` are equal there to
    ~1e-12); ``inf`` when the passive plume stays below.
    """
    xs = np.geomspace(x_first, MAX_DISTANCE_M, 400)
    dense_c, passive_c = dense_axis_parts(setup, xs)
    over = np.nonzero(passive_c >= dense_c)[0]
    if over.size == 0:
        return math.inf
    return _takeover_refined(setup, x_first, xs, int(over[0]), notes)


def _takeover_refined(setup: PlumeSetup, x_first: float, xs: NDArray[np.float64], k: int, notes: list[str]) -> float:
    """:func:`_passive_takeover` from the first place ``k`` of its grid ``xs`` where the passive plume reaches
    the dense one. [m]"""
    if k == 0:
        notes.append(f"the passive plume of the release is above the workbook curve from its start ({x_first:.0f} m):"
                     " the concentration steps up to the passive plume there")
        return float(x_first)
    lo, hi = float(xs[k - 1]), float(xs[k])
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        dc, pc = dense_axis_parts(setup, np.array([mid]))
        if pc[0] >= dc[0]:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1.0 + 1e-13:
            break
    return hi


def dense_axis_parts(setup: PlumeSetup | TwinStack, x_m: Any, sigmas: Any = None,
                     v_passive: Any = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The two candidates of a dense release's axis concentration at ground level. [kg m-3]

    ``(dense, passive)``: the workbook curve with its near-field extension
    (:meth:`~plumecast.nearfield.dense_gas.DenseSetup.concentration_kg_m3`) to the end of
    the curves and beyond it the passive Gaussian plume (puff) of the release from the
    virtual sources of :func:`far_field_match` (continuous there); and the passive
    Gaussian plume (puff) of a ground-level source with the σ's of :func:`_sigmas`. The
    zones take the larger beyond the hand-over (see the module docstring of
    :mod:`plumecast.nearfield.dense_gas`). ``sigmas``: :func:`_sigmas` at ``max(x_m, 1e-3)`` where the caller has it;
    ``v_passive``: the passive candidate's vertical term there, ``vertical_term(0, 0, σ_z)`` (the same for every
    setup with this class, terrain and lid: :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts`).
    A release's puffs stacked (:class:`~plumecast.nearfield.zones.dense_twins.TwinStack`: their masses and
    curves one a row) give one row each, the values of each one read alone.
    """
    d = setup.dense
    x = np.maximum(np.asarray(x_m, dtype=float), 1e-3)
    sy, sz = _sigmas(setup, x) if sigmas is None else sigmas
    u = setup.wind_speed_m_s

    def ground(sigma_z: NDArray[np.float64], s: NDArray[np.float64], v: Any = None,
               where: Any = None) -> NDArray[np.float64]:
        v = vertical_term(0.0, 0.0, sigma_z, setup.mixing_height_m) if v is None else v
        if d.kind == "continuous":
            return np.asarray(setup.mass_kg / setup.duration_s / (u * np.sqrt(2 * np.pi) * s) * v, dtype=float)
        mass = setup.mass_kg if where is None or np.ndim(setup.mass_kg) == 0 else np.broadcast_to(
            setup.mass_kg, where.shape)[where]  # stacked puffs: each place's own
        return np.asarray(mass * v / (2 * np.pi * s * s), dtype=float)

    beyond = x > d.curves_end_m
    workbook = d.concentration_kg_m3(np.where(beyond, d.curves_end_m, x))
    if not np.any(beyond):
        dense = workbook
    elif np.ndim(d.curves_end_m) == 0 and (x.ndim == 0 or np.all(beyond)):
        dense = np.where(beyond, ground(far_sigma_z(setup, x), sy), workbook)
    else:  # the far field's terms at the places beyond the curves only (the same values there; stacked puffs: always)
        dense = np.array(workbook, dtype=float)
        dense[beyond] = ground(far_sigma_z(setup, x, beyond), sy[beyond], None, beyond)
    return np.asarray(dense, dtype=float), ground(sz, sy, v_passive)


def passive_transition_distance(setup: PlumeSetup, dense: Any) -> float:
    """Distance at which a dense cloud stops being dense by the workbook's own criterion. [m]

    The cloud's crosswind size is the larger of its gravity spreading (the
    workbook's ``L_H`` or ``R``, as the Gaussian-equivalent σ_y of
    :meth:`~plumecast.nearfield.dense_gas.DenseSetup.sigma_y_equivalent`) and the
    ambient (Briggs) σ_y; the cloud is passive once that size reaches the width
    (plume) or plan area (puff) at which the Richardson-number criterion is no
    longer met (:func:`plumecast.nearfield.dense_gas.passive_transition_width_m`,
    :func:`~plumecast.nearfield.dense_gas.passive_transition_area_m2`). Both sizes
    grow with distance, so the first crossing is found by bisection in log x.
    Returns ``inf`` when the criterion holds out to :data:`MAX_DISTANCE_M`.
    """
    from plumecast.nearfield import dense_gas as dg

    u = setup.wind_speed_m_s
    if dense.kind == "continuous":
        sigma_p = dg.passive_transition_width_m(dense.g0p, dense.source_volume, u) / math.sqrt(2.0 * math.pi)
    else:
        sigma_p = math.sqrt(dg.passive_transition_area_m2(dense.g0p, dense.source_volume, u) / (2.0 * math.pi))

    def size(x: float) -> float:
        xa = np.array([x])
        s_dense = float(dense.sigma_y_equivalent(xa, u)[0])
        s_amb = float(briggs_sigma_y(xa, setup.pg_class, setup.terrain)[0]) * setup.sigma_y_factor
        return max(s_dense, s_amb)

    return _inverse_increasing(size, sigma_p, 1e-3, float(MAX_DISTANCE_M), rtol=1e-6)


def exposure_duration(setup: PlumeSetup, x_m: Any) -> NDArray[np.float64]:
    """Exposure duration an AEGL is read at, at downwind distance ``x_m``. [s]

    The scenario's ``exposure_duration_s`` when given; otherwise the cloud
    passage time ``∫C dt / C_peak`` (:func:`cloud_passage_time`, with the
    along-wind σ_x of :func:`_sigma_x`).
    """
    x = np.asarray(x_m, dtype=float)
    if setup.exposure_duration_s is not None:
        return np.full(x.shape, setup.exposure_duration_s)
    sx = _sigma_x(setup, np.maximum(x, 1e-3))
    return cloud_passage_time(setup.wind_speed_m_s, setup.duration_s, sx)


def level_threshold(level: Level, agent: Agent, setup: PlumeSetup, x_m: Any) -> NDArray[np.float64]:
    """Threshold of a level at downwind distance ``x_m``. [kg m-3]

    AEGLs follow the exposure duration there (:func:`exposure_duration`), read with
    :meth:`Agent.aegl_kg_m3` (log-log time scaling, NRC 2001); fixed ppm / mg/m3
    levels are constant.
    """
    x = np.asarray(x_m, dtype=float)
    if level.aegl is None:
        return np.full(x.shape, level.threshold_kg_m3)
    durations = exposure_duration(setup, x)
    out = np.empty(x.shape)
    flat = out.reshape(-1)
    # few distinct durations in practice; cache the scalar lookups
    cache: dict[float, float] = {}
    for i, d in enumerate(durations.reshape(-1)):
        key = float(round(float(d), 1))
        if key not in cache:
            v = agent.aegl_kg_m3(level.aegl, key)
            cache[key] = math.nan if v is None else v
        flat[i] = cache[key]
    return out


def resolve_levels(scenario: LocalScenario, agent: Agent, setup: PlumeSetup,
                   skipped: list[str] | None = None) -> list[Level]:
    """The scenario's levels; AEGLs read at the near-source exposure duration.

    That duration is the scenario's ``exposure_duration_s`` when given, else the
    release duration (the passage time close to the source; the 10-min value for
    an instantaneous release). The zones use :func:`level_threshold`, which
    follows the exposure duration downwind.

    Where the scenario gives no levels (the default AEGL-1, 2 and 3) and ``skipped`` is a list, an AEGL the
    agent's table lacks for some of the 10 min - 8 h durations is left out and named in ``skipped``: carbon
    monoxide's AEGL-1 is "not recommended" by the NRC, and seven of the thirteen shipped agents had been
    refused outright (zones audit, session 40). A level the scenario names is refused, as before.
    """
    mw = agent.molecular_weight_g_mol
    exposure_duration_s = setup.exposure_duration_s or float(exposure_duration(setup, 1.0))
    default = "levels" not in scenario.model_fields_set and skipped is not None
    out = []
    for i, spec in enumerate(scenario.levels):
        if spec.aegl is not None:
            kg = agent.aegl_kg_m3(spec.aegl, exposure_duration_s)
            if default and (kg is None or not np.all(np.isfinite(agent.aegl_table_ppm(spec.aegl)))):
                assert skipped is not None
                skipped.append(f"AEGL-{spec.aegl}: n/a, agent {agent.name!r} has no AEGL-{spec.aegl} for some of "
                               "the 10 min - 8 h exposures (its zone is not drawn; give a threshold with ppm or mg_m3 "
                               "under zones.levels to draw one)")
                if len(skipped) == len(scenario.levels):  # none left: refused, not an empty table (review 40)
                    raise ScenarioError(
                        f"levels: agent {agent.name!r} has none of the AEGL-1, 2 and 3 values for every 10 min - 8 h "
                        "exposure that the default levels need; give the levels as thresholds with ppm or mg_m3 "
                        "under zones.levels")
                continue
            if kg is None:
                raise ScenarioError(
                    f"levels.{i}.aegl: agent {agent.name!r} has no AEGL-{spec.aegl} for an exposure of "
                    f"{exposure_duration_s / 60.0:.3g} min (the release's passage near the source); give a threshold "
                    "with ppm or mg_m3 instead, or the agent's AEGL for that duration"
                )
            name = spec.name or f"AEGL-{spec.aegl}"
        elif spec.ppm is not None:
            kg = float(ppm_to_kg_m3(spec.ppm, mw))
            name = spec.name or f"{spec.ppm:g} ppm"
        else:
            assert spec.mg_m3 is not None
            kg = spec.mg_m3 * 1e-6
            name = spec.name or f"{spec.mg_m3:g} mg/m3"
        out.append(
            Level(
                name=name,
                threshold_kg_m3=kg,
                threshold_ppm=float(kg_m3_to_ppm(kg, mw)),
                aegl=spec.aegl,
                exposure_duration_s=exposure_duration_s if spec.aegl is not None else None,
            )
        )
    out.extend(flammable_levels(scenario, agent))
    return out


def flammable_levels(scenario: LocalScenario, agent: Agent) -> list[Level]:
    """LFL and ½ LFL levels for an agent with a lower flammability limit (none otherwise).

    The threshold is :func:`plumecast.countermeasures.front.lfl_kg_m3` (ideal gas at
    the standard conditions the AEGL conversions use); compared with the peak
    (interval-mean) concentration, as ALOHA draws its flammable-area zones.
    """
    lfl = getattr(agent, "lfl_vol_pct", None)
    if not scenario.flammable_levels or lfl is None:
        return []
    from plumecast.countermeasures.front import lfl_kg_m3

    kg = lfl_kg_m3(lfl, agent.molecular_weight_g_mol)
    mw = agent.molecular_weight_g_mol
    return [
        Level(name="LFL", threshold_kg_m3=kg, threshold_ppm=float(kg_m3_to_ppm(kg, mw))),
        Level(name="1/2 LFL", threshold_kg_m3=0.5 * kg, threshold_ppm=float(kg_m3_to_ppm(0.5 * kg, mw))),
    ]



def _sigmas(setup: PlumeSetup | TwinStack, x_m: NDArray[np.float64],
            ambient: Any = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """σ_y, σ_z at ``x_m``: Briggs, σ_y as :func:`_sigma_y` (a dense cloud's). ``ambient``: the Briggs
    ``(σ_y · sigma_y_factor, σ_z)`` at ``x_m`` where the caller has them (a setup of the same class, terrain and
    factor read them). [m]"""
    if ambient is None:
        ambient = (briggs_sigma_y(x_m, setup.pg_class, setup.terrain) * setup.sigma_y_factor,
                   briggs_sigma_z(x_m, setup.pg_class, setup.terrain))
    return _sigma_y(setup, x_m, ambient[0]), np.maximum(ambient[1], 1e-3)


def _sigma_y(setup: PlumeSetup | TwinStack, x_m: NDArray[np.float64], sy_ambient: Any = None) -> NDArray[np.float64]:
    """σ_y at ``x_m``: Briggs; for a dense release, within the workbook curves, the larger of the dense
    cloud's Gaussian-equivalent width and the Briggs σ_y, and beyond them the Briggs σ_y from the virtual source
    of :func:`far_field_match`, ``σ_B(x + x_vy)``, continuous at the curves' end (a release's puffs stacked,
    :class:`~plumecast.nearfield.zones.dense_twins.TwinStack`: one row a puff). ``sy_ambient``: the Briggs
    ``σ_y · sigma_y_factor`` at ``x_m`` where the caller has it. [m]"""
    d = setup.dense
    sy = briggs_sigma_y(x_m, setup.pg_class, setup.terrain) * setup.sigma_y_factor if sy_ambient is None else sy_ambient
    if d is not None:
        # within the curves the cloud is as wide as its gravity spreading or the ambient spread, whichever is
        # wider; beyond them it spreads at the ambient rate from a virtual source (far_field_match; until this
        # change its variance grew at the ambient rate). It lies on the ground, so σ_z is that of a
        # ground-level source (used by the passive candidate only)
        x = np.asarray(x_m, dtype=float)
        within = np.maximum(sy, d.sigma_y_equivalent(np.minimum(x, d.curves_end_m), setup.wind_speed_m_s))
        far = briggs_sigma_y(np.maximum(x, d.curves_end_m) + d.far_shift_y_m, setup.pg_class, setup.terrain)
        sy = np.where(x <= d.curves_end_m, within, far * setup.sigma_y_factor)
    return np.maximum(sy, 1e-3)


def lateral_sigma_y(setup: PlumeSetup, x_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Crosswind σ_y of the peak's profile at ``x_m`` (a Gaussian's; for a dense cloud that of
    the Gaussian with the same crosswind integral, see :func:`lateral_shape`): :func:`_sigmas`,
    or for a dense release of finite duration that of
    :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts`. [m]"""
    from plumecast.nearfield.zones.dense_finite import dense_finite_parts

    if setup.instantaneous is None or setup.dense is None or setup.duration_s <= 0:
        sy, _ = _sigmas(setup, x_m)
        return sy
    return dense_finite_parts(setup, x_m)[2]


def lateral_shape(setup: PlumeSetup, x_m: NDArray[np.float64], sigma_y_m: Any = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The crosswind profile at ``x_m`` as ``(b, s)``: the concentration is the axis value over
    ``|y| <= b`` and falls as ``exp(-(|y| - b)^2 / 2 s^2)`` beyond (:func:`lateral_factor`). [m]

    A passive plume is Gaussian: ``b = 0``, ``s = σ_y``. A dense cloud has a flat core of
    half-width ``b`` with edges smeared by the ambient turbulence, ``s`` the ambient (Briggs)
    σ_y, as in HEGADAS (Colenbrander 1980; Witlox 1994, J. Loss Prev. Process Ind. 7, 499)
    and SLAB (Ermak 1990, UCRL-MA-105607): the workbook's cloud is a top-hat of half-width
    ``L_H`` (or radius ``R``), which a Gaussian of the same crosswind integral had widened
    to 3.4 L_H where the centre is 10⁴ times a threshold (Graniteville, class F: AEGL-3
    4.1 km to the side 14 m from the source, the cloud's L_H 1.2 km; zones audit). The
    core keeps the integral of :func:`lateral_sigma_y`'s Gaussian, ``σ_eq``: ``2 b + √(2π) s
    = √(2π) σ_eq``, i.e. ``b = √(π/2) (σ_eq - s)``, 0 (a Gaussian of σ_eq) where the
    ambient spread is the wider. ``sigma_y_m``: :func:`lateral_sigma_y` at ``x_m`` where the caller has it.
    """
    x = np.asarray(x_m, dtype=float)
    sy = lateral_sigma_y(setup, x) if sigma_y_m is None else sigma_y_m
    if setup.dense is None:
        return np.zeros_like(sy), sy
    amb = np.maximum(briggs_sigma_y(np.maximum(x, 1e-3), setup.pg_class, setup.terrain) * setup.sigma_y_factor,
                     1e-3)
    s = np.minimum(amb, sy)
    return np.sqrt(0.5 * np.pi) * (sy - s), s


def lateral_factor(setup: PlumeSetup, x_m: Any, y_m: Any, sigma_y_m: Any = None) -> NDArray[np.float64]:
    """The crosswind profile of :func:`lateral_shape` at (x, y): 1 on the axis. [-] (``sigma_y_m`` as there.)"""
    b, s = lateral_shape(setup, np.asarray(x_m, dtype=float), sigma_y_m)
    off = np.maximum(np.abs(np.asarray(y_m, dtype=float)) - b, 0.0)
    return np.asarray(np.exp(-(off**2) / (2 * s**2)), dtype=float)


def lateral_halfwidth(b: NDArray[np.float64], s: NDArray[np.float64], factor: NDArray[np.float64]) -> NDArray[np.float64]:
    """Where the profile ``(b, s)`` of :func:`lateral_shape` falls to ``factor`` (in (0, 1]). [m]"""
    return np.asarray(b + s * np.sqrt(2.0 * np.log(1.0 / factor)), dtype=float)


def _sigma_x(setup: PlumeSetup, x_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Along-wind σ_x at ``x_m`` for the time dependence (Palazzi factor, puff passage). [m]

    Palazzi et al. (1982): ``σ_x = σ_y``. A dense release of finite duration takes
    the σ_x of :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts` (the
    ambient σ_y where it is continuous, the slumped puff's where it is instantaneous); a
    dense puff slumps radially, so its along-wind σ is its Gaussian-equivalent radius, the
    σ_y of :func:`_sigmas`.
    """
    from plumecast.nearfield.zones.dense_finite import dense_finite_parts

    d = setup.dense
    if d is None or d.kind == "instantaneous" or setup.duration_s <= 0:
        sy, _ = _sigmas(setup, x_m)
        return sy
    return dense_finite_parts(setup, x_m)[1]


def to_lonlat(
    lat0: float, lon0: float, bearing_deg: float, x_m: Any, y_m: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Local plume coordinates (x downwind, y left of the wind) to lon/lat. [deg]

    Local equirectangular projection about the source (error < 0.1 % within
    20 km at mid-latitudes); Earth radius from :mod:`plumecast.units`.
    """
    b = math.radians(bearing_deg)
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    east = x * math.sin(b) - y * math.cos(b)
    north = x * math.cos(b) + y * math.sin(b)
    lat = lat0 + np.degrees(north / EARTH_RADIUS_M)
    lon = lon0 + np.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    return lon, lat


def to_local(
    lat0: float, lon0: float, bearing_deg: float, lon: Any, lat: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inverse of :func:`to_lonlat`: lon/lat to (x downwind, y left). [m]"""
    b = math.radians(bearing_deg)
    north = np.radians(np.asarray(lat, dtype=float) - lat0) * EARTH_RADIUS_M
    dlon = (np.asarray(lon, dtype=float) - lon0 + 180.0) % 360.0 - 180.0
    east = np.radians(dlon) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    x = east * math.sin(b) + north * math.cos(b)
    y = -east * math.cos(b) + north * math.sin(b)
    return x, y
