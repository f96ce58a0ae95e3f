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

from plumecast.errors import DataFileError
from plumecast.nearfield.source_models.gas import blowdown
from plumecast.nearfield.source_models.orifice import G, Orifice
from plumecast.nearfield.source_models.pool import pool_evaporation
from plumecast.nearfield.source_models.properties import P_ATM_PA, R_GAS, AgentThermo, load_thermo
from plumecast.nearfield.source_models.two_phase import (
    airborne_fraction_twice_flash,
    flash_fraction,
)
from plumecast.numbers import plain

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


#: how long the rain-out pool is followed at most [s]: until it is gone, or this (it had been 1 h, or twice the
#: outflow: 18.7 t of a 60.5-t chlorine tank's 42.8-t pool were never released, without a word; scenario audit)
POOL_MAX_DURATION_S = 48 * 3600.0
#: the pool's evaporation is kept at 1-s resolution until this long after the outflow ends, then ... [s]
POOL_FINE_S = 600.0
#: ... as means over blocks of this length (the mass kept exactly) [s]
POOL_COARSE_S = 60.0


def _coarser_after(t: NDArray[np.float64], rate: NDArray[np.float64], after_s: float,
                   block_s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A rate series sampled at the times ``t`` (the rate over ``[t[i-1], t[i]]`` at ``t[i]``,
    as :func:`plumecast.nearfield.source_models.pool.pool_evaporation` gives it) with the
    part after ``after_s`` as means over blocks of ``block_s``: the same mass on far fewer
    points."""
    if t.size < 3 or t[-1] <= after_s + block_s:
        return t, rate
    k = int(np.searchsorted(t, after_s, side="right"))
    edges = np.arange(t[k - 1], t[-1], block_s)
    edges = np.append(edges, t[-1]) if edges[-1] < t[-1] else edges
    # mass per original interval (t[i-1], t[i]] at rate[i], summed into the blocks
    mass = rate[k:] * np.diff(t[k - 1:])
    cum = np.concatenate([[0.0], np.cumsum(mass)])
    at = np.interp(edges, t[k - 1:], cum)
    block_rate = np.diff(at) / np.diff(edges)
    return np.concatenate([t[:k], edges[1:]]), np.concatenate([rate[:k], block_rate])


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
        f"tank at {temperature_k - 273.15:.1f} °C, vapour pressure {plain(p_sat / 1e5, 3)} bar (thermo.csv), "
        f"liquid {rho_l:.4g} kg/m3; flash fraction {plain(f_v, 3)}, airborne fraction min(2 f_v, 1) = {plain(f_air, 3)} "
        "(CCPS twice-flash rule)",
        "liquid kept at storage temperature while draining (no auto-refrigeration): the release is too fast "
        "for a large breach, on the safe side for the first minutes",
    ]
    if tank_height_m is None:
        notes.append(f"tank taken as a vertical cylinder as high as wide ({plain(height, 3)} m)")
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
    liquid_pts: list[bool] = []  # whether each interval's outflow is the liquid (part of it rains out)
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
            liquid_pts.append(True)
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
        liquid_pts.append(False)
        liquid_out += m_liq
        notes.append(
            f"vapour space: {plain(vapour_rate, 3)} kg/s choked vapour for {plain(t_vap / 60, 3, trim=True)} min until the remaining "
            f"{plain(m_liq, 3)} kg have boiled off (heat to boil it assumed available)"
        )
    # then the saturated vapour filling the tank blows down to 1 atm (adiabatic, gas.blowdown): it had never left
    # (dense audit: 349 kg of chlorine at 15 °C in a 20-m3 tank, a third of a 2 %-full tank's inventory)
    if vapour_rate > 0:
        b_t, b_q, b_m = blowdown(vapour_hole, volume_m3, p_sat, temperature_k, m_kg,
                                 thermo.heat_capacity_ratio(temperature_k))
        b_rate = 0.5 * (b_q[:-1] + b_q[1:])  # interval means, as gas_tank's _edges
        # what is left of the inventory (the liquid and the vapour above it) but the vapour that stays at 1 atm:
        # the vapour filling the space the liquid left had boiled from the liquid, which the outflow counted
        inventory = liquid_kg + max(volume_m3 - liquid_kg / rho_l, 0.0) * rho_v
        left = inventory - liquid_out - float(b_m[-1])
        raw = float(np.sum(b_rate * np.diff(b_t)))
        if left > 0 and raw > 0:
            b_rate = b_rate * (left / raw)
            blown = float(np.sum(b_rate * np.diff(b_t)))
            t_pts.extend((t_pts[-1] + b_t[1:]).tolist())
            out_pts.extend(b_rate.tolist())
            air_pts.extend(b_rate.tolist())
            liquid_pts.extend([False] * b_rate.size)
            liquid_out += blown
            notes.append(f"then the vapour left in the tank blows down to 1 atm: {plain(blown, 3)} kg "
                         f"(adiabatic; what stays in the tank at 1 atm is not released)")
    time = np.array(t_pts)
    air = np.array(air_pts)
    airborne = float(np.sum(air * np.diff(time)))
    if rain > 0:
        if pool is None:
            notes.append(f"rain-out {plain(rain, 3)} kg forms a pool whose evaporation is not included (give pool: ground data)")
        else:
            spill_rate = np.array(out_pts) * (1.0 - f_air) * np.array(liquid_pts)
            tp, ev, _ = pool_evaporation(
                time, spill_rate, thermo.liquid_density_kg_m3(tb), m_kg, tb, hvap_tb,
                ambient_pressure_pa, tb, wind_speed_m_s,
                min_thickness_m=pool["min_thickness_m"], bund_area_m2=pool.get("bund_area_m2"),
                ground_temperature_k=pool["ground_temperature_k"],
                ground_conductivity_w_m_k=pool["ground_conductivity_w_m_k"],
                ground_diffusivity_m2_s=pool["ground_diffusivity_m2_s"],
                duration_s=max(POOL_MAX_DURATION_S, float(time[-1]) * 2), dt_s=1.0,
            )
            tp, ev = _coarser_after(tp, ev, float(time[-1]) + POOL_FINE_S, POOL_COARSE_S)
            grid = np.union1d(time, tp)
            mid = 0.5 * (grid[:-1] + grid[1:])
            idx = np.clip(np.searchsorted(time, mid, side="right") - 1, 0, air.size - 1)
            base = np.where(mid < time[-1], air[idx], 0.0)
            # ev[i] is the rate over (tp[i-1], tp[i]]: piecewise constant, so the grid (holding every tp) keeps the
            # evaporated mass exactly (interpolating between the samples had not: 0.5 % more than the rain-out)
            ev_mid = np.where(mid < tp[-1], ev[np.clip(np.searchsorted(tp, mid, side="left"), 0, ev.size - 1)], 0.0)
            time, air = grid, base + ev_mid
            airborne = float(np.sum(air * np.diff(time)))
            evaporated = airborne - float(np.sum(base * np.diff(time)))
            notes.append(f"pool: rain-out {plain(rain, 3)} kg, evaporated {plain(evaporated, 3)} kg "
                         f"within {tp[-1] / 60:.0f} min (boiling pool, heat from the ground)")
            if rain - evaporated > 1e-6 * rain:
                notes.append(f"pool: {plain(rain - evaporated, 3)} kg still in the pool after {plain(tp[-1] / 3600, 3, trim=True)} h (the "
                             "longest the source model follows it): not released")
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
                          0.0, 0.0, t_gas, [f"gas at {plain(pressure_pa / 1e5, 3, trim=True)} bar, {temperature_k - 273.15:.1f} °C; "
                                            "adiabatic expansion in the tank"])


def _phase_limits_k(thermo: AgentThermo) -> tuple[float | None, float | None]:
    """(triple point, critical temperature) of the agent as far as ``thermo.csv`` knows them. [K]

    The triple point is the lower limit of Perry's (2008) Table 2-8 vapour-pressure
    correlation (DIPPR eq. 101; Table 2-8 states its range from the triple point to the
    critical point), the critical temperature DIPPR eq. 106's T_c (Perry's Table 2-150).
    ``None`` where the table has no value.
    """
    row = thermo.row

    def num(key: str) -> float | None:
        v = row.get(key, "").strip()
        return float(v) if v else None

    return num("psat101_tmin_k"), num("hvap106_tc_k") or num("psat101_tmax_k")


def check_tank_inputs(tank: TankSpec, thermo: AgentThermo) -> None:
    """Refuse a tank the source models cannot describe, naming the key to blame.

    Raises ``ValueError("key: problem; expected ...")`` for: a hole larger than the tank
    (wider than both the diameter and the height of a vertical cylinder of ``volume_m3``
    and ``height_m``, default as high as wide), or a hole above its top; a gas tank
    (``pressure_bar``) not above the ambient 1 atm (nothing flows out; the pressure is
    absolute), or above the agent's vapour pressure at ``temperature_c`` (the agent would
    be liquid there: a liquefied gas, not a gas), or below the triple point at more than
    the triple-point pressure (solid); a liquefied-gas tank below the triple point (the
    liquid would be frozen), at or above the critical temperature (no liquid phase
    exists), or without liquid (``fill_fraction`` 0).
    """
    t_k = tank.temperature_c + 273.15
    name = thermo.agent
    height = tank.height_m if tank.height_m is not None else (4.0 * tank.volume_m3 / math.pi) ** (1.0 / 3.0)
    diameter = math.sqrt(4.0 * tank.volume_m3 / (math.pi * height))
    shape = (f"a vertical cylinder {plain(diameter, 3, trim=True)} m wide and {plain(height, 3, trim=True)} m high"
             + ("" if tank.height_m is not None else " (height_m not given: as high as wide)"))
    if tank.hole_diameter_m > max(diameter, height):
        raise ValueError(f"hole_diameter_m: a {tank.hole_diameter_m:g} m hole is larger than the tank, {shape}; "
                         "expected a hole smaller than the tank (the orifice models need one; a tank torn open "
                         "is a catastrophic rupture, an instantaneous release: give amount_kg)")
    if tank.hole_height_m > height:
        raise ValueError(f"hole_height_m: {tank.hole_height_m:g} m is above the top of the tank, {shape}; "
                         "expected a hole in the tank (give height_m for a taller tank)")
    t_triple, t_crit = _phase_limits_k(thermo)
    if t_triple is not None and t_k < t_triple and (
            tank.pressure_bar is None or tank.pressure_bar * 1e5 > thermo.vapour_pressure_pa(t_triple)):
        raise ValueError(f"temperature_c: {tank.temperature_c:g} °C is below the triple point of {name} "
                         f"({t_triple - 273.15:.1f} °C, Perry's Table 2-8): it would be solid; expected a warmer tank")
    if tank.pressure_bar is not None:
        p_pa = tank.pressure_bar * 1e5
        if p_pa <= P_ATM_PA:
            raise ValueError(f"pressure_bar: {tank.pressure_bar:g} bar is not above the ambient "
                             f"{P_ATM_PA / 1e5:.6g} bar, so nothing flows out; pressure_bar is absolute (gauge + 1.013)")
        if t_crit is not None and t_k < t_crit:
            try:
                p_sat = thermo.vapour_pressure_pa(t_k)
            except DataFileError:
                p_sat = math.inf  # no vapour pressure at this temperature: cannot tell, trust the input
            if p_pa > p_sat:
                raise ValueError(
                    f"pressure_bar: {tank.pressure_bar:g} bar is above the vapour pressure of {name} at "
                    f"{tank.temperature_c:g} °C ({plain(p_sat / 1e5, 3)} bar): the agent would be liquid there, and the "
                    "gas-tank blowdown would understate the inventory; expected a pressure below the vapour "
                    "pressure, or a liquefied-gas tank (leave out pressure_bar, give fill_fraction)")
        return
    if t_crit is not None and t_k >= t_crit:
        raise ValueError(f"temperature_c: {tank.temperature_c:g} °C is at or above the critical temperature of "
                         f"{name} ({t_crit - 273.15:.1f} °C, Perry's Table 2-150): no liquid can exist; expected a "
                         "colder liquefied-gas tank, or pressure_bar for a gas-filled tank")
    if tank.fill_fraction <= 0.0:
        raise ValueError("fill_fraction: 0 leaves the liquefied-gas tank without liquid, so it releases nothing; "
                         "expected a fill above 0, or pressure_bar for a gas-filled tank")


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
    check_tank_inputs(tank, thermo)
    if tank.pressure_bar is not None:
        prof = gas_tank(tank.volume_m3, tank.pressure_bar * 1e5, t_k, thermo.molecular_weight_kg_mol,
                        thermo.heat_capacity_ratio(t_k), tank.hole_diameter_m)
        try:
            tb = thermo.boiling_point_k
        except DataFileError:  # no boiling point in thermo.csv: the ideal gas's end state stands
            return prof
        if prof.release_temperature_k < tb:
            # colder than its boiling point the vapour at 1 atm condenses: the gas that leaves is no colder than
            # that (dense audit: chlorine at 5 bar and 20 °C read 'vapour at -75 °C', 41 K below it)
            prof.notes.append(f"the ideal gas's adiabatic end state, {prof.release_temperature_k - 273.15:.0f} °C, "
                              f"lies below the boiling point: the vapour is taken at {tb - 273.15:.0f} °C")
            prof.release_temperature_k = tb
        return prof
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
