"""Footprints of the levels of concern: Gaussian peak concentrations downwind,
the threshold of each level at the exposure a receptor sees, the zone polygons and
who is inside (see the package docstring)."""


from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point, Polygon

from plumecast.agents import Agent
from plumecast.consequence import onset_floor
from plumecast.errors import DataFileError, ScenarioError
from plumecast.nearfield.gaussian import (
    averaging_time_factor,
    briggs_sigma_y,
    briggs_sigma_z,
    cloud_passage_time,
    peak_finite_duration_factor,
    vertical_term,
)
from plumecast.nearfield.stability import (
    SIGMA_THETA_DEG,
    PGClass,
)
from plumecast.nearfield.zones.scenario import (
    LocalScenario,
)
from plumecast.nearfield.zones.windowed import (
    LevelRatio,
    WindowSeries,
    as_windows,
    subsample_times,
    windowed_interval_means,
)
from plumecast.units import EARTH_RADIUS_M, kg_m3_to_ppm, ppm_to_kg_m3

if TYPE_CHECKING:  # xarray is imported where receptors are assessed
    import xarray as xr

#: Smallest wind speed the Gaussian model is run with (ALOHA's own floor is 1 m/s). [m s-1]
MIN_WIND_SPEED_M_S = 1.0
#: Farthest distance searched for a footprint. [m]
MAX_DISTANCE_M = 100_000.0



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
    base = PlumeSetup(
        pg_class=met.pg_class(),
        wind_speed_m_s=max(met.wind_speed_m_s, MIN_WIND_SPEED_M_S),
        downwind_bearing_deg=(met.wind_from_deg + 180.0) % 360.0,
        source_height_m=scenario.source.height_m,
        receptor_height_m=scenario.receptor_height_m,
        mixing_height_m=met.mixing_height_m if met.mixing_height_m is not None else math.inf,
        terrain=met.terrain,
        sigma_y_factor=averaging_time_factor(met.averaging_time_s),
        mass_kg=mass,
        duration_s=duration,
        exposure_duration_s=scenario.exposure_duration_s,
        release_profile=profile,
    )
    if scenario.release.dense_gas == "off":
        return base
    from dataclasses import replace

    return replace(base, dense=dense_setup(scenario, base))


def release_profile(scenario: LocalScenario) -> Any:
    """The release-rate profile of the scenario's ``tank`` (:mod:`plumecast.nearfield.source_models`)."""
    from plumecast.nearfield.source_models import gas_tank, liquefied_gas_tank, load_thermo

    tank = scenario.release.tank
    assert tank is not None
    agent = scenario.agent
    thermo = load_thermo(agent.name, agent.molecular_weight_g_mol)
    t_k = tank.temperature_c + 273.15
    try:
        if tank.pressure_bar is not None:
            return gas_tank(tank.volume_m3, tank.pressure_bar * 1e5, t_k, thermo.molecular_weight_kg_mol,
                            thermo.heat_capacity_ratio(t_k), tank.hole_diameter_m)
        pool = None
        if tank.pool is not None:
            pool = {"min_thickness_m": tank.pool.min_thickness_m,
                    "ground_temperature_k": tank.pool.ground_temperature_c + 273.15,
                    "ground_conductivity_w_m_k": tank.pool.ground_conductivity_w_m_k,
                    "ground_diffusivity_m2_s": tank.pool.ground_diffusivity_m2_s}
            if tank.pool.bund_area_m2 is not None:
                pool["bund_area_m2"] = tank.pool.bund_area_m2
        return liquefied_gas_tank(
            thermo, tank.volume_m3, tank.fill_fraction, t_k, tank.hole_diameter_m, tank.hole_height_m,
            tank.height_m, tank.pipe_length_m, cp_liquid_j_kg_k=tank.liquid_heat_capacity_j_kg_k, pool=pool,
            wind_speed_m_s=max(scenario.meteorology.wind_speed_m_s, MIN_WIND_SPEED_M_S),
        )
    except (ValueError, DataFileError) as exc:
        raise ScenarioError(f"release.tank: {exc}") from None


def release_temperature_k(scenario: LocalScenario, setup: PlumeSetup) -> float:
    """Temperature of the released vapour. [K]

    ``release.temperature_c`` when given; a tank's source-model temperature; else
    the agent's normal boiling point when it is below the air temperature (a
    liquefied gas flashing to 1 atm leaves at its boiling point), else the air.
    """
    air = scenario.meteorology.air_temperature_c + 273.15
    if scenario.release.temperature_c is not None:
        return scenario.release.temperature_c + 273.15
    prof = setup.release_profile
    if prof is not None and math.isfinite(prof.release_temperature_k):
        return float(prof.release_temperature_k)
    try:
        from plumecast.nearfield.source_models import load_thermo

        tb = load_thermo(scenario.agent.name, scenario.agent.molecular_weight_g_mol).boiling_point_k
    except Exception:  # an inline agent or one without a boiling point: take the air temperature
        return air
    return tb if tb < air else air


def dense_setup(scenario: LocalScenario, setup: PlumeSetup) -> Any:
    """The Britter-McQuaid regime of a release, or None when it is not dense.

    Continuous (``duration_s > 0``) or instantaneous; criterion, α, length
    scale, the hand-over distance (end of the last published curve) and the
    virtual sources that make the passive plume continuous there in
    concentration and in σ_y (:mod:`plumecast.nearfield.dense_gas`).
    """
    from dataclasses import replace

    from plumecast.nearfield import dense_gas as dg

    m = scenario.agent.molecular_weight_g_mol / 1000.0
    t0 = release_temperature_k(scenario, setup)
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
    probe = dg.DenseSetup(kind, crit, alpha, length, vol, g0p, t0, ta, m, x_curves, 0.0, 1.0, 1.0)
    x_p = passive_transition_distance(setup, probe)
    if x_p <= length * 10.0 ** float(beta.min()):
        # passive before the first published curve (C_m/C_0 = 0.1): the dense phase lies within the source's
        # own dilution zone, short against any distance of interest -> dense effects ignored (Britter & McQuaid 1988)
        return None
    x_h = min(x_p, x_curves)
    if x_p < x_curves:
        notes.append(
            f"the dense phase ends at {x_p:.2g} m, where the cloud's own Richardson number (workbook criterion "
            f"with the cloud's {'width' if kind == 'continuous' else 'plan area'}) falls below the threshold; "
            f"passive Gaussian beyond (the workbook curves would run to {x_curves:.2g} m)"
        )
    probe = replace(probe, handover_m=x_h)
    c_h = float(probe.concentration_kg_m3(np.array([x_h]))[0])
    sy_h = float(probe.sigma_y_equivalent(np.array([x_h]), u)[0])
    xs = np.geomspace(1e-3, 1e7, 2001)
    sy = briggs_sigma_y(xs, setup.pg_class, setup.terrain) * setup.sigma_y_factor
    x_vy = float(np.interp(math.log(sy_h), np.log(sy), xs)) if sy_h > sy[0] else xs[0]
    sy_v = float(np.interp(x_vy, xs, sy))
    sz = briggs_sigma_z(xs, setup.pg_class, setup.terrain)
    # the slumped cloud is a ground-level cloud: ground-level concentration (the workbook's quantity) of a
    # ground-level source on both sides of the hand-over
    v = vertical_term(0.0, 0.0, np.maximum(sz, 1e-3), setup.mixing_height_m)
    if kind == "continuous":
        c_gauss = setup.mass_kg / setup.duration_s / (u * math.sqrt(2 * math.pi) * sy_v) * v
    else:
        c_gauss = setup.mass_kg * v / (2 * math.pi * sy_v * sy_v)
    # c_gauss falls with x once σ_z exceeds the source/receptor heights: take the farthest x where it still
    # reaches c_h (the branch a growing cloud is on), interpolated in log-log with the next point
    above = np.nonzero(c_gauss >= c_h)[0]
    if above.size == 0:
        x_vz = float(xs[0])
        notes.append("the dense cloud at hand-over is more concentrated than any passive plume of this class: "
                     "the concentration drops at the hand-over point")
    elif above[-1] == xs.size - 1:
        x_vz = float(xs[-1])
    else:
        i = int(above[-1])
        lc0, lc1 = math.log(c_gauss[i]), math.log(max(c_gauss[i + 1], 1e-300))
        f = (lc0 - math.log(c_h)) / (lc0 - lc1) if lc0 != lc1 else 0.0
        x_vz = math.exp(math.log(xs[i]) + f * (math.log(xs[i + 1]) - math.log(xs[i])))
    notes.insert(0, (
        f"dense gas ({kind}, Britter & McQuaid 1988): criterion {crit:.2g} "
        f"(dense ≥ {dg.CRITERION_CONTINUOUS if kind == 'continuous' else dg.CRITERION_INSTANTANEOUS:g}), "
        f"α = {alpha:.2f}, vapour at {t0 - 273.15:.0f} °C, g0' = {g0p:.2g} m/s²; passive Gaussian beyond "
        f"{x_h:.0f} m (virtual sources {x_vy:.0f} m for σ_y and {x_vz:.0f} m for the concentration)"
    ))
    return replace(probe, c_handover_kg_m3=c_h, x_virtual_y_m=x_vy, x_virtual_z_m=x_vz, notes=tuple(notes))


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

    lo, hi = 1e-3, float(MAX_DISTANCE_M)
    if size(lo) >= sigma_p:
        return lo
    if size(hi) < sigma_p:
        return math.inf
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if size(mid) >= sigma_p:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1.0 + 1e-6:
            break
    return hi


def exposure_duration(setup: PlumeSetup, x_m: Any) -> NDArray[np.float64]:
    """Exposure duration an AEGL is read at, at downwind distance ``x_m``. [s]

    The scenario's ``exposure_duration_s`` when given; otherwise the cloud
    passage time ``∫C dt / C_peak`` (:func:`cloud_passage_time`, σ_x = σ_y).
    """
    x = np.asarray(x_m, dtype=float)
    if setup.exposure_duration_s is not None:
        return np.full(x.shape, setup.exposure_duration_s)
    sy, _ = _sigmas(setup, np.maximum(x, 1e-3))
    return cloud_passage_time(setup.wind_speed_m_s, setup.duration_s, sy)


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


def resolve_levels(scenario: LocalScenario, agent: Agent, setup: PlumeSetup) -> list[Level]:
    """The scenario's levels; AEGLs read at the near-source exposure duration.

    That duration is the scenario's ``exposure_duration_s`` when given, else the
    release duration (the passage time close to the source; the 10-min value for
    an instantaneous release). The zones use :func:`level_threshold`, which
    follows the exposure duration downwind.
    """
    mw = agent.molecular_weight_g_mol
    exposure_duration_s = setup.exposure_duration_s or float(exposure_duration(setup, 1.0))
    out = []
    for i, spec in enumerate(scenario.levels):
        if spec.aegl is not None:
            kg = agent.aegl_kg_m3(spec.aegl, exposure_duration_s)
            if kg is None:
                raise ScenarioError(
                    f"levels.{i}.aegl: agent {agent.name!r} has no AEGL-{spec.aegl} for "
                    f"{exposure_duration_s:g} s; give a threshold with ppm or mg_m3 instead"
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


def flammable_mass_kg(setup: PlumeSetup, agent: Agent, n_x: int = 160, n_y: int = 48, n_z: int = 48) -> float:
    """Mass of agent between the LFL and the UFL in the steady plume. [kg] (NaN: no LFL, or a puff)

    ``∫ dx/u ∫∫ C dy dz`` over the points where ``LFL <= C <= UFL`` (UFL: the
    agent's, else no upper bound), on a grid in x (log), y and z (linear, to 5σ
    and the source height + 5σ_z), for the peak (Palazzi) plume; a dense
    release uses its ground-level cloud (:func:`dense_axis_concentration`) with
    a ground-level vertical profile. ALOHA reports the same quantity for
    vapour cloud explosion screening.
    """
    lfl = getattr(agent, "lfl_vol_pct", None)
    if lfl is None or setup.duration_s <= 0:
        return math.nan
    from plumecast.countermeasures.front import lfl_kg_m3

    c_lfl = lfl_kg_m3(lfl, agent.molecular_weight_g_mol)
    ufl = getattr(agent, "ufl_vol_pct", None)
    c_ufl = lfl_kg_m3(ufl, agent.molecular_weight_g_mol) if ufl is not None else math.inf
    u = setup.wind_speed_m_s
    xs = np.geomspace(0.1, MAX_DISTANCE_M, 400)
    axis = peak_concentration(setup, xs, np.zeros_like(xs))
    if not np.any(axis >= c_lfl):
        return 0.0
    x_end = float(xs[np.nonzero(axis >= c_lfl)[0][-1]]) * 1.2
    x = np.geomspace(0.1, x_end, n_x)
    sy, sz = _sigmas(setup, x)
    dense = setup.dense is not None
    h = 0.0 if dense else setup.source_height_m
    q = setup.mass_kg / setup.duration_s
    ff = peak_finite_duration_factor(u, setup.duration_s, sy)
    per_m = np.zeros(n_x)  # flammable mass per metre of plume [kg m-1]
    for i in range(n_x):
        y = np.linspace(0.0, 5.0 * sy[i], n_y)
        z = np.linspace(0.0, h + 5.0 * sz[i], n_z)
        vz = vertical_term(z, h, sz[i], setup.mixing_height_m)
        if dense:
            v0 = float(vertical_term(0.0, 0.0, sz[i], setup.mixing_height_m))
            base = float(dense_axis_concentration(setup, x[i : i + 1])[0]) * ff[i] * vz / max(v0, 1e-300)
        else:
            base = q / (u * math.sqrt(2 * math.pi) * sy[i]) * vz * ff[i]
        c = base[None, :] * np.exp(-(y[:, None] ** 2) / (2 * sy[i] ** 2))
        c = np.where((c >= c_lfl) & (c <= c_ufl), c, 0.0)
        per_m[i] = 2.0 * np.trapezoid(np.trapezoid(c, z, axis=1), y)
    return float(np.trapezoid(per_m, x))


def _sigmas(setup: PlumeSetup, x_m: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """σ_y, σ_z at ``x_m``: Briggs, or for a dense release the dense cloud's
    Gaussian-equivalent σ_y before the hand-over and the virtual-source Briggs
    σ's after it. [m]"""
    d = setup.dense
    if d is None:
        sy = briggs_sigma_y(x_m, setup.pg_class, setup.terrain) * setup.sigma_y_factor
        sz = briggs_sigma_z(x_m, setup.pg_class, setup.terrain)
        return np.maximum(sy, 1e-3), np.maximum(sz, 1e-3)
    x = np.asarray(x_m, dtype=float)
    after = x - d.handover_m
    sy_p = briggs_sigma_y(np.maximum(after + d.x_virtual_y_m, 1e-3), setup.pg_class, setup.terrain) * setup.sigma_y_factor
    sz_p = briggs_sigma_z(np.maximum(after + d.x_virtual_z_m, 1e-3), setup.pg_class, setup.terrain)
    sy_d = d.sigma_y_equivalent(x, setup.wind_speed_m_s)
    sz_d = briggs_sigma_z(np.maximum(x, 1e-3), setup.pg_class, setup.terrain)
    near = x < d.handover_m
    return np.maximum(np.where(near, sy_d, sy_p), 1e-3), np.maximum(np.where(near, sz_d, sz_p), 1e-3)


def dense_axis_concentration(setup: PlumeSetup, x_m: Any) -> NDArray[np.float64]:
    """Steady plume (or puff-peak) concentration on the axis at the receptor height, dense release. [kg m-3]

    Before the hand-over: the Britter-McQuaid maximum ground concentration;
    after it: the passive Gaussian plume (puff) of a ground-level source at
    ground level (the slumped cloud lies on the ground; the receptor and
    source heights no longer matter) with the virtual-source σ's
    (:func:`_sigmas`), equal to the workbook value at the hand-over point.
    The ground-level value is kept at the receptor height: a mass-consistent
    top-hat depth (``L_V = q0 C0/(2 u L_H C)``) is a few decimetres for most
    releases and would put breathing height above the cloud, which the
    workbook does not support (it correlates ground-level maxima only).
    """
    d = setup.dense
    x = np.asarray(x_m, dtype=float)
    sy, sz = _sigmas(setup, x)
    v = vertical_term(0.0, 0.0, sz, setup.mixing_height_m)
    u = setup.wind_speed_m_s
    if d.kind == "continuous":
        passive = setup.mass_kg / setup.duration_s / (u * np.sqrt(2 * np.pi) * sy) * v
    else:
        passive = setup.mass_kg * v / (2 * np.pi * sy * sy)
    return np.asarray(np.where(x < d.handover_m, d.concentration_kg_m3(x), passive), dtype=float)


def peak_concentration(setup: PlumeSetup, x_m: Any, y_m: Any) -> NDArray[np.float64]:
    """Peak concentration over time at (x, y) at the receptor height. [kg m-3]

    Continuous release of duration T: steady plume times Palazzi's peak factor
    ``erf(u T / (2√2 σ_x))`` with ``σ_x = σ_y``; instantaneous release (T = 0):
    puff peak ``M V(z) / (2π σ_x σ_y)``.
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    xp = np.maximum(x, 1e-3)
    sy, sz = _sigmas(setup, xp)
    v = vertical_term(setup.receptor_height_m, setup.source_height_m, sz, setup.mixing_height_m)
    lateral = np.exp(-(y**2) / (2 * sy**2))
    u = setup.wind_speed_m_s
    if setup.dense is not None:
        c = dense_axis_concentration(setup, xp)
        if setup.duration_s > 0:
            c = c * peak_finite_duration_factor(u, setup.duration_s, sy)
        return np.where(x > 0, c * lateral, 0.0)
    if setup.duration_s > 0:
        q = setup.mass_kg / setup.duration_s
        c = q / (u * np.sqrt(2 * np.pi) * sy) * v * peak_finite_duration_factor(u, setup.duration_s, sy)
    else:
        c = setup.mass_kg * v / (2 * np.pi * sy * sy)
    return np.where(x > 0, c * lateral, 0.0)


def concentration_series(
    setup: PlumeSetup, x_m: Any, y_m: Any, times_s: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Concentration at (x, y) over time, shape (time, receptor). [kg m-3]

    Palazzi et al. (1982) finite-duration plume (or a puff for T = 0), using the
    sigmas at the receptor's downwind distance.
    """
    from plumecast.nearfield.gaussian import finite_duration_factor, puff_concentration

    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    xp = np.maximum(x, 1e-3)
    sy, sz = _sigmas(setup, xp)
    t = times_s[:, None]
    u = setup.wind_speed_m_s
    if setup.dense is not None:
        axis = dense_axis_concentration(setup, xp) * np.exp(-(y**2) / (2 * sy**2))
        if setup.duration_s > 0:
            c = axis[None, :] * finite_duration_factor(xp[None, :], t, u, setup.duration_s, sy[None, :])
        else:
            c = axis[None, :] * np.exp(-((xp[None, :] - u * t) ** 2) / (2 * sy[None, :] ** 2))
        return np.where(x[None, :] > 0, c, 0.0)
    if setup.duration_s > 0:
        q = setup.mass_kg / setup.duration_s
        v = vertical_term(setup.receptor_height_m, setup.source_height_m, sz, setup.mixing_height_m)
        steady = q / (u * np.sqrt(2 * np.pi) * sy) * v * np.exp(-(y**2) / (2 * sy**2))
        c = steady[None, :] * finite_duration_factor(xp[None, :], t, u, setup.duration_s, sy[None, :])
    else:
        c = puff_concentration(
            setup.mass_kg, u, xp[None, :], y[None, :], setup.receptor_height_m, t,
            setup.source_height_m, sy[None, :], sy[None, :], sz[None, :], setup.mixing_height_m,
        )
    return np.where(x[None, :] > 0, c, 0.0)


def footprint_halfwidth(
    setup: PlumeSetup, x_m: NDArray[np.float64], threshold_kg_m3: float | NDArray[np.float64]
) -> NDArray[np.float64]:
    """Crosswind half-width where the peak exceeds a threshold. [m] (0 where it does not)

    ``y = σ_y sqrt(2 ln(C_cl / C_L))`` from the Gaussian crosswind profile;
    ``threshold_kg_m3`` is a scalar or one value per ``x_m``.
    """
    c_cl = peak_concentration(setup, x_m, np.zeros_like(x_m))
    sy, _ = _sigmas(setup, np.maximum(x_m, 1e-3))
    with np.errstate(divide="ignore"):
        ratio = np.log(np.maximum(c_cl, 1e-300) / threshold_kg_m3)
    return np.where(ratio > 0, sy * np.sqrt(2.0 * np.maximum(ratio, 0.0)), 0.0)


#: Zone tips are bracketed to this ratio of the outer to the inner distance (0.01 %).
TIP_BRACKET = 1.0001
#: Equally spaced distances evaluated per crossing and round of the tip refinement.
_TIP_POINTS = 8


def _refine_crossings(
    setup: PlumeSetup,
    x_in: NDArray[np.float64],
    x_out: NDArray[np.float64],
    g_in: NDArray[np.float64],
    g_out: NDArray[np.float64],
    level: NDArray[np.intp],
    ends: NDArray[np.float64],
    tables: NDArray[np.float64],
    floor: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], WindowSeries]:
    """Bracket each place where the axis ratio to level ``level[k]`` crosses 1 to :data:`TIP_BRACKET`.

    ``x_in[k] < x_out[k]`` are neighbouring grid distances on either side of the
    crossing and ``g_in``/``g_out`` the log of the ratio there (``g >= 0``: the
    level is reached). Each round evaluates, for every unfinished crossing at once
    (one series evaluation per round), a pair of distances :data:`TIP_BRACKET`
    apart about the secant (regula falsi) estimate in ``ln x``, which ends the
    search when ``ln ratio`` is close to linear, and :data:`_TIP_POINTS` distances
    equally spaced in ``ln x``, which shrink the bracket at least nine-fold when
    it is not (the ratio is jagged at the percent level where the onset moves
    from one interval of the time axis to the next). When the bracket holds
    several sign changes, the one that makes the zone larger is kept (the farthest
    for an outer edge, the nearest for an inner one: safe side); the last distance
    inside and the first outside come back, 0.01 % apart.

    Returns
    -------
    lo, hi : numpy.ndarray
        Per crossing, the smaller and the larger distance of the final bracket. [m]
    x_eval : numpy.ndarray
        Every distance evaluated here, and ``w_eval`` their series (to be reused).
    """
    lo, hi = np.asarray(x_in, dtype=float).copy(), np.asarray(x_out, dtype=float).copy()
    glo, ghi = np.asarray(g_in, dtype=float).copy(), np.asarray(g_out, dtype=float).copy()
    xs_done: list[NDArray[np.float64]] = []
    ws_done: list[WindowSeries] = []
    half = 0.4 * math.log(TIP_BRACKET)
    frac = np.arange(1, _TIP_POINTS + 1) / (_TIP_POINTS + 1.0)
    for _ in range(100):
        act = np.nonzero(hi / lo > TIP_BRACKET)[0]
        if act.size == 0:
            break
        llo, lhi = np.log(lo[act]), np.log(hi[act])
        fl, fh = glo[act], ghi[act]
        with np.errstate(invalid="ignore", divide="ignore"):
            est = llo + (lhi - llo) * fl / (fl - fh)
        est = np.where(np.isfinite(est), est, 0.5 * (llo + lhi))
        pts = np.concatenate(
            [np.clip(est - half, llo, lhi)[:, None], np.clip(est + half, llo, lhi)[:, None],
             llo[:, None] + (lhi - llo)[:, None] * frac[None, :]], axis=1)
        pts.sort(axis=1)
        xp = np.exp(pts)
        n_p = pts.shape[1]
        cols = np.repeat(act, n_p)
        # columns grouped by level, as LevelRatio wants
        o = np.argsort(level[cols], kind="stable")
        flat = xp.reshape(-1)[o]
        w = exposure_windows(setup, flat, np.zeros(o.size), ends)
        r, _ = LevelRatio(w, ends, tables, floor, np.arange(o.size), level[cols][o], ratio_only=True)(np.ones(o.size))
        xs_done.append(flat)
        ws_done.append(w)
        g = np.empty(o.size)
        g[o] = np.log(np.maximum(r, 1e-300))
        seq_x = np.concatenate([lo[act, None], xp, hi[act, None]], axis=1)
        seq_g = np.concatenate([glo[act, None], g.reshape(act.size, n_p), ghi[act, None]], axis=1)
        inside = seq_g >= 0
        change = inside[:, :-1] != inside[:, 1:]  # the ends differ, so every row has one
        # a zone's outer edge (inside at the smaller distance): the farthest change; its inner
        # edge (outside at the smaller distance): the nearest; both make the zone larger
        outer = inside[:, 0]
        last = np.where(outer, change.shape[1] - 1 - np.argmax(change[:, ::-1], axis=1), np.argmax(change, axis=1))
        rows = np.arange(act.size)
        lo[act], glo[act] = seq_x[rows, last], seq_g[rows, last]
        hi[act], ghi[act] = seq_x[rows, last + 1], seq_g[rows, last + 1]
    if not ws_done:
        return lo, hi, np.zeros(0), exposure_windows(setup, np.zeros(0), np.zeros(0), ends)
    return lo, hi, np.concatenate(xs_done), WindowSeries.concat(ws_done)


# --------------------------------------------------------------------------- exposure convention

#: Intervals of the exposure time axis (geometric: each interval ~0.9 % longer than the last).
N_TIME_INTERVALS = 1200
#: End of the first interval of the exposure time axis. [s]
FIRST_INTERVAL_S = 1.0
#: Sub-samples averaged into each interval mean.
N_SUBSAMPLES = 4


def exposure_time_axis(setup: PlumeSetup) -> NDArray[np.float64]:
    """Interval ends of the exposure series, seconds after the release start. [s]

    Fixed by the scenario alone (never by which receptors are assessed), geometric
    from :data:`FIRST_INTERVAL_S` to the time the cloud has passed the
    :data:`MAX_DISTANCE_M` search limit, so that the relative resolution (about
    0.9 % of the time since release) suits a puff at 10 m and a plume at 50 km alike.
    """
    sy, _ = _sigmas(setup, np.array([MAX_DISTANCE_M]))
    t_end = setup.duration_s + (MAX_DISTANCE_M + 5.0 * float(sy[0])) / setup.wind_speed_m_s
    return np.geomspace(FIRST_INTERVAL_S, t_end, N_TIME_INTERVALS)


def exposure_windows(setup: PlumeSetup, x_m: Any, y_m: Any, ends_s: NDArray[np.float64]) -> WindowSeries:
    """:func:`exposure_series` stored only over the intervals where it can be non-zero.

    Same values (same operations per value); the cloud passes a place within a short
    stretch of the geometric time axis and the series is exactly zero elsewhere
    (:mod:`plumecast.nearfield.zones.windowed`). ``ends_s`` must increase.
    """
    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    xp = np.maximum(x, 1e-3)
    sy, sz = _sigmas(setup, xp)
    u = setup.wind_speed_m_s
    ends = np.asarray(ends_s, dtype=float)
    alive = x > 0
    if setup.dense is not None:
        axis = dense_axis_concentration(setup, xp) * np.exp(-(y**2) / (2 * sy**2))
        kind = "palazzi" if setup.duration_s > 0 else "gauss"
        return windowed_interval_means(kind, axis, xp, sy, u, setup.duration_s, ends, N_SUBSAMPLES, alive)
    if setup.duration_s > 0:
        q = setup.mass_kg / setup.duration_s
        v = vertical_term(setup.receptor_height_m, setup.source_height_m, sz, setup.mixing_height_m)
        steady = q / (u * np.sqrt(2 * np.pi) * sy) * v * np.exp(-(y**2) / (2 * sy**2))
        return windowed_interval_means("palazzi", steady, xp, sy, u, setup.duration_s, ends, N_SUBSAMPLES, alive)
    # puff: M along(x, t) across(y) V(z), as plumecast.nearfield.gaussian.puff_concentration
    s = np.maximum(sy, 1e-9)
    across = np.exp(-(y**2) / (2 * s**2)) / (np.sqrt(2 * np.pi) * s)
    v = vertical_term(setup.receptor_height_m, setup.source_height_m, sz, setup.mixing_height_m)
    return windowed_interval_means(
        "puff", np.full(x.size, setup.mass_kg), xp, sy, u, 0.0, ends, N_SUBSAMPLES, alive, factors=(across, v)
    )


def exposure_series(setup: PlumeSetup, x_m: Any, y_m: Any, ends_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """Interval-mean concentration at (x, y), shape (time, place). [kg m-3]

    Mean of :data:`N_SUBSAMPLES` mid-point samples of :func:`concentration_series`
    per interval; the intervals run from the release start to each of ``ends_s``.
    Evaluated only where the cloud can be (:func:`exposure_windows`) when ``ends_s``
    increases, which the scenario's axis (:func:`exposure_time_axis`) does.
    """
    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    ends = np.asarray(ends_s, dtype=float)
    if ends.size and ends[0] > 0 and np.all(np.diff(ends) > 0):
        return exposure_windows(setup, x, y, ends).dense()
    sub = subsample_times(ends, N_SUBSAMPLES)
    c = concentration_series(setup, x, y, sub)
    return np.asarray(c.reshape(ends.size, N_SUBSAMPLES, x.size).mean(axis=1), dtype=float)


def level_table_kg_m3(level: Level, agent: Agent) -> NDArray[np.float64]:
    """A level's threshold at the five AEGL durations (constant for a fixed level). [kg m-3]"""
    from plumecast.toxicology import AEGL_DURATIONS_S
    from plumecast.units import P_STANDARD_PA, T_STANDARD_K

    if level.aegl is None:
        return np.full(len(AEGL_DURATIONS_S), level.threshold_kg_m3)
    tab = agent.aegl_table_ppm(level.aegl)
    return np.asarray(ppm_to_kg_m3(tab, agent.molecular_weight_g_mol, T_STANDARD_K, P_STANDARD_PA), dtype=float)


def level_ratio(
    series: NDArray[np.float64], ends_s: NDArray[np.float64], table_kg_m3: NDArray[np.float64], floor_kg_m3: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Peak ratio of the concentration to a level under the onset convention.

    The convention of :func:`plumecast.consequence.assess`: exposure begins with
    the first interval at or above ``floor_kg_m3`` (a trace below it cannot start
    the clock); each interval mean is compared with the level for the exposure
    duration elapsed from that onset to the interval's end (log-log scaling
    between the tabulated AEGL durations, NRC 2001 sec. 2.7).

    Parameters
    ----------
    series : numpy.ndarray, shape (time, place)
        Interval-mean concentration. [kg m-3]
    ends_s : numpy.ndarray, shape (time,)
        Interval ends after the release start (the first interval starts at 0). [s]
    table_kg_m3 : numpy.ndarray, shape (5,)
        The level at 10 min, 30 min, 1 h, 4 h, 8 h (:func:`level_table_kg_m3`). [kg m-3]
    floor_kg_m3 : float
        Onset floor (:func:`plumecast.consequence.onset_floor`). [kg m-3]

    Returns
    -------
    ratio : numpy.ndarray, shape (place,)
        ``max_t C / level(t - onset)`` (>= 1: the level is reached). [-]
    elapsed_s : numpy.ndarray, shape (place,)
        Exposure duration at that maximum (NaN: no exposure). [s]
    """
    w = as_windows(series)
    r, e = LevelRatio(w, ends_s, np.asarray(table_kg_m3, dtype=float)[None, :], floor_kg_m3)(np.ones(w.n))
    return r, e


def boundary_factor(
    centreline: NDArray[np.float64],
    ends_s: NDArray[np.float64],
    table_kg_m3: NDArray[np.float64],
    floor_kg_m3: float,
    iterations: int = 12,
) -> NDArray[np.float64]:
    """Smallest lateral factor ``f = exp(-y²/2σ_y²)`` at which a level is still reached.

    At each downwind distance the series off the axis is ``f`` times the
    centreline series (Gaussian crosswind profile), and :func:`level_ratio`
    grows with ``f``. Returns ``f*`` with ``ratio(f*) <= 1 <= ratio(f*+)``
    (the boundary errs outward, the safe side); NaN where even the axis does
    not reach the level. Bracketed from ``1/ratio(1)`` (the ratio at most
    scales with ``f``), then a secant-like step and bisection in ``ln f``.
    """
    w = as_windows(centreline)
    tab = np.asarray(table_kg_m3, dtype=float)[None, :]
    r1, _ = LevelRatio(w, ends_s, tab, floor_kg_m3)(np.ones(w.n))
    out = np.full(w.n, np.nan)
    inside = np.nonzero(r1 >= 1.0)[0]
    if inside.size == 0:
        return out
    zeros = np.zeros(inside.size, dtype=np.intp)
    out[inside] = _bisect_boundary(LevelRatio(w, ends_s, tab, floor_kg_m3, inside, zeros), r1[inside], iterations)
    return out


def _bisect_boundary(ratio: LevelRatio, r1: NDArray[np.float64], iterations: int = 12) -> NDArray[np.float64]:
    """The bisection of :func:`boundary_factor` on the columns of ``ratio`` (axis ratios ``r1 >= 1``)."""
    lo = 1.0 / r1  # ratio(lo) <= 1
    hi = np.ones_like(lo)  # ratio(hi) >= 1
    ratio = ratio.restricted(lo, hi)  # every trial lies in [lo, hi]
    r_lo, _ = ratio(lo)
    for k in range(iterations):
        if k < 3:
            trial = np.minimum(np.where(r_lo > 0, lo / np.maximum(r_lo, 1e-300), hi), hi)
            trial = np.where((trial > lo) & (trial < hi), trial, np.sqrt(lo * hi))
        else:
            trial = np.sqrt(lo * hi)
        rt, _ = ratio(trial)
        up = rt >= 1.0
        hi = np.where(up, trial, hi)
        lo = np.where(up, lo, trial)
        r_lo = np.where(up, r_lo, rt)
    return lo


# --------------------------------------------------------------------------- result


@dataclass
class Zone:
    """Footprint of one level: polygon in lon/lat and its extent."""

    level: Level
    polygon: Polygon  # lon/lat, degrees (empty when the level is never reached)
    polygon_local: Polygon  # metres, x downwind, y left of the wind
    max_distance_m: float
    min_distance_m: float
    area_m2: float
    threshold_at_tip_kg_m3: float = math.nan  # threshold at the farthest point [kg m-3]
    exposure_duration_at_tip_s: float = math.nan  # AEGL exposure duration there [s] (NaN: fixed level)
    people: Any = None  # plumecast.population.PopulationCount from a raster; None: no raster


@dataclass
class ThreatZones:
    """Result of :func:`compute_zones` (no file I/O)."""

    scenario: LocalScenario
    agent: Agent
    setup: PlumeSetup
    zones: list[Zone]
    uncertainty_half_angle_deg: float
    uncertainty_lines: list[LineString]  # lon/lat
    uncertainty_sector: Polygon  # lon/lat
    receptors: xr.Dataset | None = None
    warnings: list[str] = field(default_factory=list)
    receptors_searched: bool = False  # True when receptors were looked for (even if none found)
    population_source: str | None = None  # the raster people were counted from (None: no raster)
    flammable_mass_kg: float = math.nan  # between LFL and UFL in the steady plume (NaN: not flammable / a puff)
    points: xr.Dataset | None = None  # threat at the scenario's points (plumecast.nearfield.zones.points)

    @property
    def model_name(self) -> str:
        """The concentration model, in words (printed by the CLI)."""
        d = self.setup.dense
        if d is None:
            return ("passive Gaussian (neutrally buoyant: Britter-McQuaid criterion not met, or the cloud passive "
                    "before the first workbook curve, or dense_gas: off)")
        return (f"dense gas: Britter & McQuaid (1988) {d.kind} release to {d.handover_m:.0f} m, then passive "
                "Gaussian from virtual sources")

    @property
    def people_basis(self) -> str:
        """What ``people inside`` counts, in words."""
        if self.population_source is not None:
            return f"population raster {self.population_source} (persons per cell, area-weighted)"
        return (
            "no population raster: only GeoNames cities of >= 15,000 people (and listed receptors) "
            "are counted; people elsewhere are unknown"
        )

    def table(self) -> list[dict[str, Any]]:
        """One row per level: threshold, maximum downwind distance, area, people inside.

        ``threshold_ppm`` / ``threshold_mg_m3`` are the threshold at the zone's
        tip, for an AEGL read at the exposure duration there
        (``exposure_duration_min``, elapsed since the onset floor was reached).
        People inside the zone's polygon (inner zones included):

        * ``people_inside``: from the population raster; NaN (unknown) without one.
          ``people_unknown_area_km2`` / ``people_unknown_cells``: the part of the
          zone the raster could not say (nodata or beyond its extent).
        * ``receptor_people_inside``: people at the receptor points inside (cities
          of >= 15,000 and listed receptors), with ``receptors_inside`` and
          ``receptors_unknown_population``; absent when receptors were not searched.
        * ``people_basis``: what was counted, in words.
        """
        mw = self.agent.molecular_weight_g_mol
        rows = []
        for k, z in enumerate(self.zones):
            thr = z.threshold_at_tip_kg_m3 if math.isfinite(z.threshold_at_tip_kg_m3) else z.level.threshold_kg_m3
            row: dict[str, Any] = {
                "level": z.level.name,
                "threshold_ppm": float(kg_m3_to_ppm(thr, mw)),
                "threshold_mg_m3": thr * 1e6,
                "exposure_duration_min": z.exposure_duration_at_tip_s / 60.0,
                "max_distance_m": z.max_distance_m,
                "area_km2": z.area_m2 / 1e6,
                "people_inside": math.nan if z.people is None else float(z.people.people),
                "people_unknown_area_km2": math.nan if z.people is None else float(z.people.unknown_area_km2),
                "people_unknown_cells": math.nan if z.people is None else float(z.people.unknown_cells),
                "people_basis": self.people_basis,
            }
            if self.receptors is not None:
                inside = self.receptors["zone_index"].values >= k
                pop = self.receptors["population"].values[inside]
                row["receptor_people_inside"] = float(np.nansum(pop))
                row["receptors_inside"] = int(inside.sum())
                row["receptors_unknown_population"] = int(np.isnan(pop).sum())
            elif self.receptors_searched:
                row["receptor_people_inside"] = 0.0
                row["receptors_inside"] = 0
                row["receptors_unknown_population"] = 0
            rows.append(row)
        return rows


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


def default_direction_uncertainty_deg(pg_class: PGClass, wind_speed_m_s: float) -> float:
    """Half-angle of the wind-direction uncertainty lines. [deg]

    Twice the typical σ_θ of the stability class (US EPA 2000, Table 6-8a;
    about 95 % of 10-min directions for a normal distribution), at least 10°;
    a full circle (180°) below 1 m/s, where the direction is not meaningful.
    A plumecast convention, documented in ``docs/local_scale.md``.
    """
    if wind_speed_m_s < 1.0:
        return 180.0
    return float(min(180.0, max(10.0, 2.0 * SIGMA_THETA_DEG[pg_class])))


def compute_zones(
    scenario: LocalScenario,
    n_points: int = 240,
    receptors: Any | None = None,
    consequences: bool = True,
    population: Any | None = None,
) -> ThreatZones:
    """Threat zones of a local scenario.

    Parameters
    ----------
    scenario : LocalScenario
        The release (not modified).
    n_points : int
        Downwind distances sampled (log-spaced 1 m – 100 km) for the footprints.
    receptors : plumecast.receptors.Receptors, optional
        Receptors to assess; by default from ``scenario.receptors``.
    consequences : bool
        Assess receptors (cities / CSV) inside the zones.
    population : plumecast.population.PopulationRaster, optional
        Count people inside each zone from it; by default the scenario's
        ``population.raster`` (read only around the zones), else none.

    Returns
    -------
    ThreatZones
    """
    agent = scenario.agent
    setup = plume_setup(scenario)
    levels = resolve_levels(scenario, agent, setup)
    order = np.argsort([lv.threshold_kg_m3 for lv in levels])  # low threshold (largest zone) first
    levels = [levels[i] for i in order]
    lat0, lon0, bearing = scenario.source.lat, scenario.source.lon, setup.downwind_bearing_deg

    x = np.geomspace(1.0, MAX_DISTANCE_M, n_points)
    ends = exposure_time_axis(setup)
    floor = onset_floor(agent)
    tables = [level_table_kg_m3(lv, agent) for lv in levels]
    for lv, tab in zip(levels, tables, strict=True):
        if not np.all(np.isfinite(tab)):
            raise ScenarioError(
                f"level {lv.name}: agent {agent.name!r} lacks some of the 10 min - 8 h AEGL values the "
                "onset convention reads; give a threshold with ppm or mg_m3 instead"
            )
    n_lv = len(levels)
    tab_arr = np.array(tables) if tables else np.zeros((0, 5))
    w_cl = exposure_windows(setup, x, np.zeros_like(x), ends)
    r_cl = np.zeros((n_lv, x.size))
    if n_lv:
        r_cl = LevelRatio(w_cl, ends, tab_arr, floor, ratio_only=True)(np.ones(n_lv * x.size))[0].reshape(n_lv, -1)
    # insert every level's crossing points so that all polygons share the x grid (nested by construction)
    g_cl = np.log(np.maximum(r_cl, 1e-300))
    sgn = np.sign(g_cl)
    c_lv, c_i = np.nonzero(sgn[:, :-1] * sgn[:, 1:] < 0)
    lo, hi, x_eval, w_eval = _refine_crossings(
        setup, x[c_i], x[c_i + 1], g_cl[c_lv, c_i], g_cl[c_lv, c_i + 1], c_lv.astype(np.intp), ends, tab_arr, floor
    )
    xg = np.unique(np.concatenate([x, lo, hi]))
    # the series at a place depends on that place alone: reuse the grid's and the refinement's
    j = np.minimum(np.searchsorted(x, xg), x.size - 1)
    on_grid = x[j] == xg
    new_x = xg[~on_grid]
    first_eval = {float(v): i for i, v in reversed(list(enumerate(x_eval.tolist())))}
    w_new = w_eval.take(np.array([first_eval[float(v)] for v in new_x.tolist()], dtype=np.intp))
    src = np.where(on_grid, j, x.size + np.cumsum(~on_grid) - 1)
    w_g = WindowSeries.concat([w_cl, w_new])  # place src[i] is the refined grid's i-th distance
    r_g = np.zeros((n_lv, xg.size))
    r_g[:, on_grid] = r_cl[:, j[on_grid]]
    if n_lv and new_x.size:
        r_n, _ = LevelRatio(w_new, ends, tab_arr, floor, ratio_only=True)(np.ones(n_lv * new_x.size))
        r_g[:, ~on_grid] = r_n.reshape(n_lv, -1)
    sy_g, _ = _sigmas(setup, xg)
    # boundary factors of all levels in one bisection (boundary_factor, column by column)
    f_star = np.full((n_lv, xg.size), np.nan)
    inside_lv, inside_pl = np.nonzero(r_g >= 1.0)
    if inside_lv.size:
        ratio = LevelRatio(w_g, ends, tab_arr, floor, src[inside_pl], inside_lv, ratio_only=True)
        f_star[inside_lv, inside_pl] = _bisect_boundary(ratio, r_g[inside_lv, inside_pl])
    from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

    # the exposure duration at each zone's tip: level_ratio on the axis there (first maximum)
    tips = np.array([int(np.nonzero(np.isfinite(f_star[k]))[0][-1]) if np.isfinite(f_star[k]).any() else 0
                     for k in range(n_lv)], dtype=np.intp)
    e_tip = np.full(n_lv, np.nan)
    if n_lv:
        e_tip = LevelRatio(w_g, ends, tab_arr, floor, src[tips], np.arange(n_lv, dtype=np.intp))(np.ones(n_lv))[1]
    zones = []
    for k, (lv, tab) in enumerate(zip(levels, tables, strict=True)):
        fk = f_star[k]
        hw = np.where(np.isfinite(fk), sy_g * np.sqrt(2.0 * np.log(1.0 / np.where(np.isfinite(fk), fk, 1.0))), 0.0)
        inside = np.nonzero(np.isfinite(fk))[0]
        if inside.size == 0:
            zones.append(Zone(lv, Polygon(), Polygon(), 0.0, 0.0, 0.0))
            continue
        i0, i1 = inside[0], inside[-1]
        i0 = max(i0 - 1, 0)
        i1 = min(i1 + 1, xg.size - 1)
        xs = xg[i0 : i1 + 1]
        ys = hw[i0 : i1 + 1]
        if i0 == 0:  # reaches the source
            xs = np.concatenate([[0.0], xs])
            ys = np.concatenate([[0.0], ys])
        px = np.concatenate([xs, xs[::-1]])
        py = np.concatenate([ys, -ys[::-1]])
        local = Polygon(np.column_stack([px, py])).buffer(0)
        geo = shapely.transform(
            local, lambda xy: np.column_stack(to_lonlat(lat0, lon0, bearing, xy[:, 0], xy[:, 1]))
        )
        tip = int(inside[-1])
        elapsed_tip = e_tip[k : k + 1]
        thr_tip = float(aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed_tip)[0])
        zones.append(
            Zone(
                level=lv,
                polygon=geo,
                polygon_local=local,
                max_distance_m=float(xg[tip]),
                min_distance_m=float(xg[inside[0]]) if i0 > 0 else 0.0,
                area_m2=float(local.area),
                threshold_at_tip_kg_m3=thr_tip,
                exposure_duration_at_tip_s=float(elapsed_tip[0]) if lv.aegl is not None else math.nan,
            )
        )

    met = scenario.meteorology
    half = (
        met.direction_uncertainty_deg
        if met.direction_uncertainty_deg is not None
        else default_direction_uncertainty_deg(setup.pg_class, met.wind_speed_m_s)
    )
    reach = max((z.max_distance_m for z in zones), default=0.0)
    lines, sector = _uncertainty(lat0, lon0, bearing, half, reach)

    warnings = _warnings(scenario, setup)
    for z in zones:
        if z.max_distance_m >= 0.99 * MAX_DISTANCE_M:
            warnings.append(
                f"{z.level.name} reaches the {MAX_DISTANCE_M / 1000:g} km search limit: report it as "
                "'beyond'; the steady local model is not meant for such distances"
            )
        elif z.max_distance_m > 10_000:
            warnings.append(
                f"{z.level.name} reaches {z.max_distance_m / 1000:.1f} km: beyond 10 km the Briggs "
                "curves are extrapolated and a steady, straight wind is unlikely"
            )
    result = ThreatZones(scenario, agent, setup, zones, half, lines, sector, None, warnings)
    result.flammable_mass_kg = flammable_mass_kg(setup, agent) if flammable_levels(scenario, agent) else math.nan
    from plumecast.nearfield.zones.points import point_threat

    result.points = point_threat(result)
    _count_people(result, population)
    spec = scenario.receptors
    result.receptors_searched = consequences and (
        receptors is not None or spec.cities or spec.csv is not None
    )
    if result.receptors_searched and reach > 0:
        result.receptors = assess_receptors(result, receptors)
        if result.receptors is not None:
            result.warnings.extend(
                f"consequences: {w}" for w in str(result.receptors.attrs.get("warnings", "")).splitlines() if w
            )
    return result


def _count_people(result: ThreatZones, population: Any | None) -> None:
    """Fill ``zone.people`` from a population raster (given, or the scenario's)."""
    spec = result.scenario.population
    if population is None and spec is None:
        return
    from plumecast.population import PopulationCount, PopulationRaster
    shapes = [z.polygon for z in result.zones if not z.polygon.is_empty]
    if population is None:
        assert spec is not None
        if not shapes:
            result.population_source = str(spec.raster)
            for z in result.zones:
                z.people = PopulationCount(0.0, 0.0, 0.0, 0.0)
            return
        minx, miny, maxx, maxy = shapely.union_all(shapes).bounds
        pad = 0.01
        population = PopulationRaster.load(
            spec.raster, bbox=(minx - pad, miny - pad, maxx + pad, maxy + pad), variable=spec.variable
        )
    result.population_source = str(getattr(population, "source", "population raster"))
    for note in getattr(population, "notes", ()):
        result.warnings.append(f"population raster: {note}")
    for z in result.zones:
        z.people = PopulationCount(0.0, 0.0, 0.0, 0.0) if z.polygon.is_empty else population.count_in_polygon(z.polygon)
        if z.people.unknown_area_km2 > 0:
            result.warnings.append(
                f"{z.level.name}: population unknown on {z.people.unknown_area_km2:.2g} km² of "
                f"{z.people.area_km2:.2g} km² ({z.people.unknown_cells:.3g} nodata cells, or beyond the raster); "
                "people inside is a lower bound"
            )


def _uncertainty(
    lat0: float, lon0: float, bearing: float, half_deg: float, reach_m: float
) -> tuple[list[LineString], Polygon]:
    if reach_m <= 0:
        return [], Polygon()
    angles = np.radians(np.linspace(-half_deg, half_deg, 73))
    ax = reach_m * np.cos(angles)
    ay = reach_m * np.sin(angles)
    if half_deg >= 180:
        px, py = ax, ay
    else:
        px = np.concatenate([[0.0], ax])
        py = np.concatenate([[0.0], ay])
    lon, lat = to_lonlat(lat0, lon0, bearing, px, py)
    sector = Polygon(np.column_stack([lon, lat])).buffer(0)
    lines = []
    if half_deg < 180:
        for sgn in (-1.0, 1.0):
            ex, ey = reach_m * math.cos(math.radians(half_deg)), sgn * reach_m * math.sin(math.radians(half_deg))
            lo, la = to_lonlat(lat0, lon0, bearing, [0.0, ex], [0.0, ey])
            lines.append(LineString(np.column_stack([lo, la])))
    return lines, sector


def _warnings(scenario: LocalScenario, setup: PlumeSetup) -> list[str]:
    w = []
    met = scenario.meteorology
    if met.wind_speed_m_s < 1.5:
        w.append(
            f"wind {met.wind_speed_m_s:g} m/s is below 1.5 m/s: Gaussian models (and ALOHA) are "
            "unreliable in near-calm air; the model used 1 m/s at least"
        )
    if setup.pg_class in ("E", "F"):
        w.append(f"stable class {setup.pg_class}: meander and terrain channelling are not modelled")
    prof = setup.release_profile
    if prof is not None:
        w.append(
            f"source model: {prof.method}; airborne {prof.airborne_kg:.3g} kg of {prof.released_kg:.3g} kg released; "
            f"zones use the maximum 60-s average rate {setup.mass_kg / max(setup.duration_s, 1e-9):.3g} kg/s "
            f"for {setup.duration_s / 60:.3g} min"
        )
        w.extend(f"source model: {n}" for n in prof.notes)
    if setup.dense is not None:
        w.extend(setup.dense.notes)
        w.append("dense gas: slumping is modelled with the Britter-McQuaid workbook correlations (flat terrain); "
                 "pooling in low ground and flow down slopes are not")
    elif scenario.release.dense_gas == "off" and scenario.agent.molecular_weight_g_mol > 34 and setup.mass_kg > 1000:
        w.append(
            f"{scenario.agent.name} (M = {scenario.agent.molecular_weight_g_mol:g} g/mol) released in "
            "bulk may behave as a dense gas: near-source spreading, slumping and pooling in low "
            "ground are not modelled (see docs/local_scale.md)"
        )
    return w


# --------------------------------------------------------------------------- consequences


def _load_receptors(scenario: LocalScenario, reach_m: float) -> Any:
    from plumecast.receptors import Receptors, load_cities, read_receptor_csv

    spec = scenario.receptors
    lat0, lon0 = scenario.source.lat, scenario.source.lon
    dlat = math.degrees(reach_m / EARTH_RADIUS_M) + 0.01
    dlon = dlat / max(math.cos(math.radians(lat0)), 0.05)
    bbox = (lon0 - dlon, lat0 - dlat, lon0 + dlon, lat0 + dlat)
    parts = []
    if spec.cities:
        parts.append(load_cities(min_population=spec.min_population, bbox=bbox))
    if spec.csv is not None:
        parts.append(read_receptor_csv(spec.csv).filter(bbox=bbox))
    if not parts:
        return None
    return Receptors.concat(parts)


def assess_receptors(result: ThreatZones, receptors: Any | None = None) -> xr.Dataset | None:
    """Consequences at the receptors inside a zone or the wind-direction uncertainty sector.

    Each receptor's outdoor concentration series (Palazzi finite-duration plume,
    :func:`concentration_series`, averaged over each interval) goes to
    :func:`plumecast.consequence.assess`, which gives peak concentration, peak %
    of the lethal level (AEGL-3 for the elapsed exposure duration), toxic load,
    probit, lethal fraction, fatalities outdoors and sheltered (the scenario's
    ``shelter``, default 0.5 ACH) and first AEGL exceedance times (seconds after
    the release start). Zone geometry is added: ``x_m``, ``y_m``, ``zone_index``
    (innermost zone, -1: none) and ``in_uncertainty_sector``.

    Returns ``None`` when no receptor is inside.
    """
    import xarray as xr

    from plumecast.consequence import assess

    scenario, setup = result.scenario, result.setup
    reach = max((z.max_distance_m for z in result.zones), default=0.0)
    rec = receptors if receptors is not None else _load_receptors(scenario, reach)
    if rec is None or len(rec) == 0:
        return None
    lat0, lon0, bearing = scenario.source.lat, scenario.source.lon, setup.downwind_bearing_deg
    x, y = to_local(lat0, lon0, bearing, rec.lon, rec.lat)
    in_sector = np.array(
        [result.uncertainty_sector.covers(Point(lo, la)) for lo, la in zip(rec.lon, rec.lat, strict=True)],
        dtype=bool,
    ) if not result.uncertainty_sector.is_empty else np.zeros(len(rec), dtype=bool)
    zone_index = np.full(len(rec), -1, dtype=int)
    for k, z in enumerate(result.zones):
        if z.polygon_local.is_empty:
            continue
        inside = np.array([z.polygon_local.covers(Point(a, b)) for a, b in zip(x, y, strict=True)], dtype=bool)
        zone_index[inside] = k
    keep = (zone_index >= 0) | in_sector
    if not keep.any():
        return None
    idx = np.nonzero(keep)[0]
    # Sector receptors get the value on the plume axis at their distance: the wind may swing onto them.
    on_axis = in_sector[idx]
    x_eval = np.where(on_axis, np.hypot(x[idx], y[idx]), x[idx])
    y_eval = np.where(on_axis, 0.0, y[idx])
    ends = exposure_time_axis(setup)
    series = exposure_series(setup, x_eval, y_eval, ends)
    floor = onset_floor(result.agent)
    shelter = receptor_shelter(scenario.shelter, series, ends, floor)
    conc = xr.DataArray(
        series,
        dims=("time", "receptor"),
        coords={
            "time": ("time", ends, {"units": "s", "long_name": "time since release start (interval end)"}),
            "receptor": ("receptor", rec.name[idx].astype(str)),
            "lat": ("receptor", np.asarray(rec.lat)[idx]),
            "lon": ("receptor", np.asarray(rec.lon)[idx]),
        },
        attrs={"units": "kg m-3", "long_name": "outdoor concentration (interval mean)"},
    )
    ds = assess(
        conc,
        result.agent,
        np.asarray(rec.population, dtype=float)[idx],
        shelter=shelter,
        start=0.0,
        keep_timeseries=False,
        onset_floor_kg_m3=floor,
    )
    ds = ds.assign_coords(
        lat=("receptor", np.asarray(rec.lat, dtype=float)[idx], {"units": "degrees_north"}),
        lon=("receptor", np.asarray(rec.lon, dtype=float)[idx], {"units": "degrees_east"}),
    )
    ds["x_m"] = ("receptor", x[idx], {"units": "m", "long_name": "downwind distance"})
    ds["y_m"] = ("receptor", y[idx], {"units": "m", "long_name": "crosswind offset (left of wind)"})
    ds["zone_index"] = ("receptor", zone_index[idx], {"units": "1", "long_name": "innermost zone (-1: none)"})
    ds["in_uncertainty_sector"] = ("receptor", in_sector[idx])
    ds["plume_axis_assumed"] = (
        "receptor",
        on_axis,
        {"long_name": "figures are those on the plume axis at this distance (receptor in the "
         "wind-direction uncertainty sector: the wind may swing onto it)"},
    )
    end = shelter.end if isinstance(shelter.end, list) else None
    if end is not None:
        ds["shelter_end_s"] = ("receptor", np.asarray(end, dtype=float),
                               {"units": "s", "long_name": "when people ventilate or leave: the cloud has passed"})
    ds.attrs["zone_names"] = json.dumps([z.level.name for z in result.zones])
    ds.attrs["onset_floor_kg_m3"] = floor
    ds.attrs["concentration_model"] = (
        "Gaussian finite-duration plume (Palazzi et al. 1982), Briggs sigmas "
        f"({scenario.meteorology.terrain}, PG class {setup.pg_class} from {scenario.meteorology.stability_route()}); "
        f"{ends.size} geometric intervals from the release start to {ends[-1]:.0f} s (fixed by the scenario)"
    )
    return ds


def receptor_shelter(
    shelter: Any, series: NDArray[np.float64], ends_s: NDArray[np.float64], floor_kg_m3: float
) -> Any:
    """The scenario's shelter (default :class:`plumecast.shelter.Shelter`) with a per-receptor end.

    Unless the scenario sets ``shelter.end``, people at each receptor ventilate
    (or leave) when *their* cloud has passed: at the end of the last interval
    at or above the onset floor (at the release start where it never is). Each
    receptor's sheltered dose then depends only on its own series.
    """
    from plumecast.shelter import Shelter

    base = shelter if shelter is not None else Shelter()
    if base.end is not None:
        return base
    above = series >= floor_kg_m3 if floor_kg_m3 > 0 else series > 0
    nt = series.shape[0]
    last = nt - 1 - np.argmax(above[::-1], axis=0)
    end = np.where(above.any(axis=0), ends_s[last], 0.0)
    return base.model_copy(update={"end": [float(e) for e in end]})
