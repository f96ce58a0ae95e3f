"""The plume setup of a zones scenario: wind, stability, source model, dense-gas regime
(Britter & McQuaid 1988 hand-over to the passive plume), the dispersion coefficients and
the levels of concern with their thresholds (see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from plumecast.agents import Agent
from plumecast.errors import DataFileError, ScenarioError
from plumecast.nearfield.gaussian import (
    averaging_time_factor,
    briggs_sigma_y,
    briggs_sigma_z,
    cloud_passage_time,
    vertical_term,
)
from plumecast.nearfield.stability import (
    PGClass,
)
from plumecast.nearfield.zones.scenario import (
    LocalScenario,
)
from plumecast.units import EARTH_RADIUS_M, kg_m3_to_ppm, ppm_to_kg_m3

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
