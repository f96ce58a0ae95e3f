"""A tank with a hole, as a release-rate time profile: liquefied gas under its
own vapour pressure (liquid/two-phase outflow below the liquid level, vapour
above it), flash fraction and rain-out, the rain-out pool's evaporation, or a
gas-filled tank's blowdown. Orchestration of the pure functions in
:mod:`plumecast.nearfield.source_models.gas`, :mod:`.two_phase` and :mod:`.pool`.

Simplifications (stated in every profile's ``notes``): the liquid stays at the
storage temperature while the tank drains (no auto-refrigeration, which lowers
the pressure of a large breach: a conservative, too-fast release); the tank is
a vertical cylinder unless its height is given; the hole is a sharp orifice
(C_d 0.61 liquid, 0.85 gas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.source_models.gas import blowdown
from plumecast.nearfield.source_models.orifice import G, Orifice
from plumecast.nearfield.source_models.pool import pool_evaporation
from plumecast.nearfield.source_models.properties import P_ATM_PA, R_GAS, AgentThermo, load_thermo
from plumecast.nearfield.source_models.two_phase import (
    airborne_fraction_twice_flash,
    flash_fraction,
)

if TYPE_CHECKING:
    from plumecast.nearfield.spec import TankSpec


@dataclass
class ReleaseProfile:
    """Airborne release rate over time (piecewise constant between ``time_s`` edges). SI.

    ``rate_kg_s[i]`` holds on ``[time_s[i], time_s[i+1])``; the last edge is the end.
    """

    time_s: NDArray[np.float64]
    rate_kg_s: NDArray[np.float64]
    method: str
    released_kg: float = math.nan  # left the tank
    airborne_kg: float = math.nan  # vapour + aerosol carried by the wind (incl. pool evaporation)
    flash_fraction: float = math.nan
    rainout_kg: float = math.nan
    release_temperature_k: float = math.nan  # temperature of the airborne vapour (for its density)
    notes: list[str] = field(default_factory=list)

    @property
    def mass_kg(self) -> float:
        """Airborne mass in the profile. [kg]"""
        return float(np.sum(self.rate_kg_s * np.diff(self.time_s)))

    def max_average_rate(self, window_s: float = 60.0) -> float:
        """Largest rate averaged over ``window_s`` (ALOHA's "maximum average sustained release rate"). [kg s-1]"""
        t = self.time_s
        cum = np.concatenate([[0.0], np.cumsum(self.rate_kg_s * np.diff(t))])
        if t[-1] - t[0] <= window_s:
            return float(cum[-1] / window_s) if window_s > 0 else float(self.rate_kg_s.max())
        starts = np.linspace(t[0], t[-1] - window_s, 2000)
        m = np.interp(starts + window_s, t, cum) - np.interp(starts, t, cum)
        return float(m.max() / window_s)

    def equivalent_constant_release(self, window_s: float = 60.0) -> tuple[float, float]:
        """(rate, duration) of the constant release ``zones`` runs: the maximum
        ``window_s`` average rate for as long as it takes to release the airborne mass. [kg s-1], [s]"""
        q = self.max_average_rate(window_s)
        return q, self.mass_kg / q if q > 0 else 0.0


def _edges(t: NDArray[np.float64], rate_at_t: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point rates at times -> piecewise-constant interval means (trapezoid)."""
    return t, 0.5 * (rate_at_t[:-1] + rate_at_t[1:])


def liquefied_gas_tank(
    thermo: AgentThermo,
    volume_m3: float,
    fill_fraction: float,
    temperature_k: float,
    hole_diameter_m: float,
    hole_height_m: float,
    tank_height_m: float | None = None,
    pipe_length_m: float = 0.0,
    liquid_discharge_coefficient: float = 0.61,
    gas_discharge_coefficient: float = 0.85,
    ambient_pressure_pa: float = P_ATM_PA,
    cp_liquid_j_kg_k: float | None = None,
    pool: dict[str, float] | None = None,
    wind_speed_m_s: float = 2.0,
    n_steps: int = 300,
) -> ReleaseProfile:
    """Release-rate profile of a tank of liquefied gas held at its vapour pressure.

    Below the liquid level the outflow is Fauske's (1985) non-equilibrium
    two-phase flux (the liquid orifice flow through a hole, L = 0), of which
    ``min(2 f_v, 1)`` stays airborne (flash fraction ``f_v``, CCPS twice-flash
    rule) and the rest rains out; once the level is below the hole, and for a
    hole in the vapour space, vapour flows out choked at the vapour pressure
    (the liquid boiling inside keeps it up) until the liquid is gone. Rain-out
    forms a pool that evaporates when ``pool`` gives the ground
    (``min_thickness_m``, ``ground_temperature_k``, ``ground_conductivity_w_m_k``,
    ``ground_diffusivity_m2_s``, optional ``bund_area_m2``); without it the
    rain-out is reported and not added to the airborne rate (a note says so).
    """
    m_kg = thermo.molecular_weight_kg_mol
    tb = thermo.boiling_point_k
    p_sat = thermo.vapour_pressure_pa(temperature_k)
    rho_l = thermo.liquid_density_kg_m3(temperature_k)
    rho_v = p_sat * m_kg / (R_GAS * temperature_k)
    hvap_tb = thermo.heat_of_vaporisation_j_kg(tb)
    cp_l = cp_liquid_j_kg_k if cp_liquid_j_kg_k is not None else thermo.liquid_heat_capacity_j_kg_k(tb)
    hvap_t = thermo.heat_of_vaporisation_j_kg(temperature_k)
    liquid_hole = Orifice.round(hole_diameter_m, liquid_discharge_coefficient, ambient_pressure_pa)
    vapour_hole = Orifice.round(hole_diameter_m, gas_discharge_coefficient, ambient_pressure_pa)
    height = tank_height_m if tank_height_m is not None else (4.0 * volume_m3 / math.pi) ** (1.0 / 3.0)
    section = volume_m3 / height
    liquid_kg = fill_fraction * volume_m3 * rho_l
    f_v = flash_fraction(temperature_k, tb, cp_l, hvap_tb)
    f_air = airborne_fraction_twice_flash(f_v)
    notes = [
        f"tank at {temperature_k - 273.15:.1f} °C, vapour pressure {p_sat / 1e5:.3g} bar (thermo.csv), "
        f"liquid {rho_l:.4g} kg/m3; flash fraction {f_v:.3g}, airborne fraction min(2 f_v, 1) = {f_air:.3g} "
        "(CCPS twice-flash rule)",
        "liquid kept at storage temperature while draining (no auto-refrigeration): the release is too fast "
        "for a large breach, on the safe side for the first minutes",
    ]
    if tank_height_m is None:
        notes.append(f"tank taken as a vertical cylinder as high as wide ({height:.3g} m)")
    if p_sat <= ambient_pressure_pa:
        raise ValueError(
            f"{thermo.agent} at {temperature_k:.1f} K is below its boiling point: not a pressurised liquefied gas"
        )
    vapour_rate = vapour_hole.gas_rate(p_sat, temperature_k, m_kg, thermo.heat_capacity_ratio(temperature_k))
    # liquid phase below the hole: drains through the hole while the level is above it
    level = liquid_kg / rho_l / section
    t_pts = [0.0]
    out_pts: list[float] = []
    air_pts: list[float] = []
    liquid_out = 0.0
    rain = 0.0
    m_liq = liquid_kg
    if level > hole_height_m:
        # head-driven non-equilibrium flux: add the liquid head to Δp
        def liquid_rate(lev: float) -> float:
            dp_head = rho_l * G * max(lev - hole_height_m, 0.0)
            return liquid_hole.two_phase_rate(p_sat + dp_head, temperature_k, rho_l, rho_v, hvap_t, cp_l,
                                              pipe_length_m)
        m_stop = (hole_height_m * section) * rho_l
        q0 = liquid_rate(level)
        t_end = 2.0 * (m_liq - m_stop) / max(q0, 1e-12)
        dt = t_end / n_steps
        t = 0.0
        while m_liq > m_stop + 1e-9 and len(t_pts) < 20 * n_steps:
            q = liquid_rate(m_liq / rho_l / section)
            step = min(dt, (m_liq - m_stop) / max(q, 1e-12))
            out_pts.append(q)
            air_pts.append(q * f_air)
            m_liq -= q * step
            liquid_out += q * step
            rain += q * step * (1.0 - f_air)
            t += step
            t_pts.append(t)
    # vapour from the vapour space until the liquid left in the tank has boiled off
    if m_liq > 0 and vapour_rate > 0:
        t_vap = m_liq / vapour_rate
        t_pts.append(t_pts[-1] + t_vap)
        out_pts.append(vapour_rate)
        air_pts.append(vapour_rate)
        liquid_out += m_liq
        notes.append(
            f"vapour space: {vapour_rate:.3g} kg/s choked vapour for {t_vap / 60:.3g} min until the remaining "
            f"{m_liq:.3g} kg have boiled off (heat to boil it assumed available)"
        )
    time = np.array(t_pts)
    air = np.array(air_pts)
    airborne = float(np.sum(air * np.diff(time)))
    if rain > 0:
        if pool is None:
            notes.append(f"rain-out {rain:.3g} kg forms a pool whose evaporation is not included (give pool: ground data)")
        else:
            spill_rate = np.array(out_pts) * (1.0 - f_air) * (np.array(out_pts) != vapour_rate)
            tp, ev, _ = pool_evaporation(
                time, spill_rate, thermo.liquid_density_kg_m3(tb), m_kg, tb, hvap_tb,
                ambient_pressure_pa, tb, wind_speed_m_s,
                min_thickness_m=pool["min_thickness_m"], bund_area_m2=pool.get("bund_area_m2"),
                ground_temperature_k=pool["ground_temperature_k"],
                ground_conductivity_w_m_k=pool["ground_conductivity_w_m_k"],
                ground_diffusivity_m2_s=pool["ground_diffusivity_m2_s"],
                duration_s=max(3600.0, float(time[-1]) * 2), dt_s=1.0,
            )
            grid = np.union1d(time, tp)
            mid = 0.5 * (grid[:-1] + grid[1:])
            idx = np.clip(np.searchsorted(time, mid, side="right") - 1, 0, air.size - 1)
            base = np.where(mid < time[-1], air[idx], 0.0)
            ev_mid = np.interp(mid, tp, ev)
            time, air = grid, base + ev_mid
            airborne = float(np.sum(air * np.diff(time)))
            notes.append(f"pool: rain-out {rain:.3g} kg, evaporated {airborne - float(np.sum(base * np.diff(time))):.3g} kg "
                         f"within {tp[-1] / 60:.0f} min (boiling pool, heat from the ground)")
    return ReleaseProfile(
        time_s=time, rate_kg_s=air, method="liquefied gas tank (Fauske 1985 two-phase / choked vapour)",
        released_kg=liquid_out, airborne_kg=airborne, flash_fraction=f_v, rainout_kg=rain,
        release_temperature_k=tb, notes=notes,
    )


def gas_tank(
    volume_m3: float,
    pressure_pa: float,
    temperature_k: float,
    molecular_weight_kg_mol: float,
    k: float,
    hole_diameter_m: float,
    discharge_coefficient: float = 0.85,
    ambient_pressure_pa: float = P_ATM_PA,
) -> ReleaseProfile:
    """Release-rate profile of a gas-filled tank blowing down (adiabatic; :func:`gas_tank_blowdown`)."""
    hole = Orifice.round(hole_diameter_m, discharge_coefficient, ambient_pressure_pa)
    t, q, m = blowdown(hole, volume_m3, pressure_pa, temperature_k, molecular_weight_kg_mol, k)
    time, rate = _edges(t, q)
    released = float(m[0] - m[-1])
    t_gas = temperature_k * (ambient_pressure_pa / pressure_pa) ** ((k - 1.0) / k)
    return ReleaseProfile(time, rate, "gas tank blowdown (adiabatic, choked/unchoked orifice)", released, released,
                          0.0, 0.0, t_gas, [f"gas at {pressure_pa / 1e5:.3g} bar, {temperature_k - 273.15:.1f} °C; "
                                            "adiabatic expansion in the tank"])


def tank_release_profile(
    tank: TankSpec, agent_name: str, molecular_weight_g_mol: float, wind_speed_m_s: float | None = None
) -> ReleaseProfile:
    """The release-rate profile of a scenario's ``tank`` (``releases[i].tank``), the
    one source model of every mode: ``plumecast zones`` and ``plumecast run`` both
    call it.

    A tank with ``pressure_bar`` blows down as a gas (:func:`gas_tank`); otherwise
    it holds the agent liquefied under its vapour pressure (:func:`liquefied_gas_tank`),
    with the rain-out pool's evaporation when ``tank.pool`` gives the ground, at the
    wind ``wind_speed_m_s`` [m s-1] (read only for the pool, and needed then). Properties come from
    ``thermo.csv`` (:func:`load_thermo`).

    Raises
    ------
    ValueError, plumecast.errors.DataFileError
        The tank or the agent cannot make a profile (e.g. a liquefied-gas tank
        colder than the agent's boiling point, an agent without thermodynamic
        data); the message names the tank key when one is to blame, as
        ``key: problem``, for the caller to prefix with the tank's path.
    """
    thermo = load_thermo(agent_name, molecular_weight_g_mol)
    t_k = tank.temperature_c + 273.15
    if tank.pressure_bar is not None:
        return gas_tank(tank.volume_m3, tank.pressure_bar * 1e5, t_k, thermo.molecular_weight_kg_mol,
                        thermo.heat_capacity_ratio(t_k), tank.hole_diameter_m)
    if thermo.vapour_pressure_pa(t_k) <= P_ATM_PA:
        raise ValueError(
            f"temperature_c: {agent_name} at {tank.temperature_c:g} °C is at or below its normal boiling point "
            f"({thermo.boiling_point_k - 273.15:.1f} °C): not a pressurised liquefied gas; expected a warmer "
            "tank, or pressure_bar for a gas-filled tank"
        )
    pool = None
    if tank.pool is not None:
        if wind_speed_m_s is None:
            raise ValueError("pool: the rain-out pool evaporates at the wind at the release; expected its speed")
        pool = {"min_thickness_m": tank.pool.min_thickness_m,
                "ground_temperature_k": tank.pool.ground_temperature_c + 273.15,
                "ground_conductivity_w_m_k": tank.pool.ground_conductivity_w_m_k,
                "ground_diffusivity_m2_s": tank.pool.ground_diffusivity_m2_s}
        if tank.pool.bund_area_m2 is not None:
            pool["bund_area_m2"] = tank.pool.bund_area_m2
    return liquefied_gas_tank(
        thermo, tank.volume_m3, tank.fill_fraction, t_k, tank.hole_diameter_m, tank.hole_height_m,
        tank.height_m, tank.pipe_length_m, cp_liquid_j_kg_k=tank.liquid_heat_capacity_j_kg_k, pool=pool,
        wind_speed_m_s=math.nan if wind_speed_m_s is None else wind_speed_m_s,  # NaN: no pool, never read
    )
