"""Gas discharge through a hole in a tank or pipe: choked and unchoked orifice
flow, and the blowdown of a gas-filled tank.

References
----------
* Crowl, D.A. & Louvar, J.F. (2011) *Chemical Process Safety*, 3rd ed., sec. 4-5
  ("Flow of gases or vapors through holes"), eqs. 4-48 (unchoked), 4-49
  (choked pressure) and 4-50 (choked mass flow).
* CCPS (1999) *Guidelines for Consequence Analysis of Chemical Releases*, sec.
  2.1.2 (gas discharges), with C_d = 0.85 recommended for a sharp hole in
  gas service where nothing better is known (eq. 2.1.17 and its text);
  Bakkum & van den Bosch / TNO Yellow Book CPR 14E (2005) ch. 2.
* Tank blowdown: mass balance dm/dt = -ṁ(p, T) of an ideal gas that expands
  isentropically (adiabatic tank, ``p ∝ ρ^k``) or isothermally.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.source_models.orifice import Orifice, critical_pressure_ratio
from plumecast.nearfield.source_models.properties import P_ATM_PA, R_GAS

__all__ = ["blowdown", "critical_pressure_ratio", "gas_orifice_mass_rate", "gas_tank_blowdown"]


def gas_orifice_mass_rate(
    pressure_pa: float,
    temperature_k: float,
    molecular_weight_kg_mol: float,
    k: float,
    area_m2: float,
    discharge_coefficient: float = 0.85,
    ambient_pressure_pa: float = P_ATM_PA,
) -> float:
    """Mass flow of an ideal gas through a hole from a reservoir at (p, T) (:meth:`Orifice.gas_rate`). [kg s-1]

    Choked (``p_a/p <= p*/p``): ``ṁ = C_d A p sqrt(k M/(R T) (2/(k+1))^((k+1)/(k-1)))``
    (Crowl & Louvar 2011 eq. 4-50). Otherwise
    ``ṁ = C_d A p sqrt(2 M/(R T) k/(k-1) [(p_a/p)^(2/k) - (p_a/p)^((k+1)/k)])`` (eq. 4-48).
    Zero when ``p <= p_a``.
    """
    hole = Orifice(area_m2, discharge_coefficient, ambient_pressure_pa)
    return hole.gas_rate(pressure_pa, temperature_k, molecular_weight_kg_mol, k)


def gas_tank_blowdown(
    volume_m3: float,
    pressure_pa: float,
    temperature_k: float,
    molecular_weight_kg_mol: float,
    k: float,
    area_m2: float,
    discharge_coefficient: float = 0.85,
    ambient_pressure_pa: float = P_ATM_PA,
    adiabatic: bool = True,
    n_steps: int = 400,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Release rate of a gas-filled tank emptying through a hole.

    The gas in the tank expands isentropically (``adiabatic=True``: ``p/p0 =
    (ρ/ρ0)^k``, ``T/T0 = (ρ/ρ0)^(k-1)``, no heat from the walls, the faster
    decay) or isothermally; the outflow is :func:`gas_orifice_mass_rate` at the
    tank's state. Integrated with classical RK4 in the tank's mass on a
    geometric time grid until the tank pressure is within 0.1 % of ambient.

    Returns
    -------
    time_s, rate_kg_s, mass_in_tank_kg : numpy.ndarray
        Times (first 0), release rate and the mass still in the tank.
    """
    hole = Orifice(area_m2, discharge_coefficient, ambient_pressure_pa)
    return blowdown(hole, volume_m3, pressure_pa, temperature_k, molecular_weight_kg_mol, k, adiabatic, n_steps)


def blowdown(
    hole: Orifice, volume_m3: float, pressure_pa: float, temperature_k: float, molecular_weight_kg_mol: float,
    k: float, adiabatic: bool = True, n_steps: int = 400,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`gas_tank_blowdown` through ``hole``: (time_s, rate_kg_s, mass_in_tank_kg)."""
    ambient_pressure_pa = hole.ambient_pressure_pa
    rho0 = pressure_pa * molecular_weight_kg_mol / (R_GAS * temperature_k)
    m0 = rho0 * volume_m3
    m_end = m0 * (ambient_pressure_pa * 1.001 / pressure_pa) ** (1.0 / k if adiabatic else 1.0)

    def rate(m: float) -> float:
        r = max(m, 0.0) / m0
        if adiabatic:
            p, t = pressure_pa * r**k, temperature_k * r ** (k - 1.0)
        else:
            p, t = pressure_pa * r, temperature_k
        return hole.gas_rate(p, t, molecular_weight_kg_mol, k)

    q0 = rate(m0)
    if q0 <= 0:
        return np.array([0.0]), np.array([0.0]), np.array([m0])
    tau = m0 / q0
    # choked adiabatic blowdown empties on the scale tau; the unchoked tail is slower
    times = np.concatenate([[0.0], np.geomspace(1e-4 * tau, 200.0 * tau, n_steps)])
    masses = [m0]
    m = m0
    for t0, t1 in zip(times[:-1], times[1:], strict=True):
        h = t1 - t0
        k1 = -rate(m)
        k2 = -rate(m + 0.5 * h * k1)
        k3 = -rate(m + 0.5 * h * k2)
        k4 = -rate(m + h * k3)
        m = max(m + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0)
        masses.append(m)
        if m <= m_end:
            break
    mass = np.array(masses)
    t = times[: mass.size]
    return t, np.array([rate(x) for x in mass]), mass
