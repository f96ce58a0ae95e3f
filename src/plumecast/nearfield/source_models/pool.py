"""Evaporating pool: spreading on land and evaporation by mass transfer (volatile
liquid below its boiling point) or by heat from the ground (boiling pool).

References
----------
* Mass transfer coefficient: Mackay, D. & Matsugu, R.S. (1973) Can. J. Chem. Eng.
  51, 434-439, ``k_m = 0.0048 u^(7/9) d^(-1/9) Sc^(-2/3)`` [m s-1] (u at 10 m in
  m s-1, d pool diameter in m), the correlation Kawamura & MacKay (1987,
  J. Hazard. Mater. 15, 343-364) use for non-boiling pools; evaporation
  ``E = k_m A M p_v/(R T)``.
* Diffusivity by Graham's law from water vapour, ``D = D_w sqrt(M_w/M)``,
  ``D_w = 2.4e-5 m² s-1``, as in ALOHA (Jones et al. 2013, NOAA Technical
  Memorandum NOS OR&R 43, sec. on puddle evaporation) — plumecast has not seen
  the value in a stored source; pass ``schmidt_number`` to override.
* Boiling pool on land: heat conducted from a semi-infinite ground,
  ``q = λ_s (T_g - T_b)/sqrt(π a_s t)`` [W m-2] (TNO Yellow Book CPR 14E 2005
  ch. 3; Shaw & Briscoe 1978), evaporation ``q A / h_fg``. The ground's λ_s and
  a_s are inputs (no default: they depend on the surface).
* Spreading: gravity-inertia spreading ``dr/dt = sqrt(2 g h)`` (Shaw & Briscoe
  1980, SRD R 178) until the pool reaches its minimum thickness or a bund.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.source_models.properties import R_GAS

G = 9.80665
#: Kinematic viscosity of air near 15 °C. [m2 s-1]
NU_AIR_M2_S = 1.5e-5
#: Diffusivity of water vapour in air used for Graham's law (ALOHA's choice, see module docstring). [m2 s-1]
D_WATER_M2_S = 2.4e-5
M_WATER_KG_MOL = 0.018015


def schmidt_number_graham(molecular_weight_kg_mol: float) -> float:
    """Schmidt number ``ν_air / D`` with ``D = D_w sqrt(M_w/M)`` (Graham's law). [-]"""
    return NU_AIR_M2_S / (D_WATER_M2_S * math.sqrt(M_WATER_KG_MOL / molecular_weight_kg_mol))


def mackay_matsugu_mass_transfer(wind_speed_m_s: float, pool_diameter_m: float, schmidt_number: float) -> float:
    """Mass-transfer coefficient ``0.0048 u^(7/9) d^(-1/9) Sc^(-2/3)`` (Mackay & Matsugu 1973). [m s-1]"""
    return 0.0048 * wind_speed_m_s ** (7.0 / 9.0) * pool_diameter_m ** (-1.0 / 9.0) * schmidt_number ** (-2.0 / 3.0)


def evaporation_rate_volatile(
    area_m2: float,
    wind_speed_m_s: float,
    vapour_pressure_pa: float,
    temperature_k: float,
    molecular_weight_kg_mol: float,
    schmidt_number: float | None = None,
) -> float:
    """Evaporation of a non-boiling pool ``k_m A M p_v/(R T)`` (Kawamura & MacKay 1987). [kg s-1]"""
    if area_m2 <= 0:
        return 0.0
    sc = schmidt_number if schmidt_number is not None else schmidt_number_graham(molecular_weight_kg_mol)
    d = math.sqrt(4.0 * area_m2 / math.pi)
    km = mackay_matsugu_mass_transfer(wind_speed_m_s, d, sc)
    return km * area_m2 * molecular_weight_kg_mol * vapour_pressure_pa / (R_GAS * temperature_k)


def ground_heat_flux(
    time_since_contact_s: float, ground_temperature_k: float, boiling_point_k: float,
    conductivity_w_m_k: float, diffusivity_m2_s: float,
) -> float:
    """Heat flux into a boiling pool from a semi-infinite ground ``λ ΔT/sqrt(π a t)`` (Yellow Book ch. 3). [W m-2]"""
    if ground_temperature_k <= boiling_point_k:
        return 0.0
    t = max(time_since_contact_s, 1e-3)
    return conductivity_w_m_k * (ground_temperature_k - boiling_point_k) / math.sqrt(math.pi * diffusivity_m2_s * t)


def pool_evaporation(
    spill_time_s: NDArray[np.float64],
    spill_rate_kg_s: NDArray[np.float64],
    liquid_density_kg_m3: float,
    molecular_weight_kg_mol: float,
    boiling_point_k: float,
    hvap_j_kg: float,
    vapour_pressure_pa: float,
    liquid_temperature_k: float,
    wind_speed_m_s: float,
    min_thickness_m: float,
    bund_area_m2: float | None = None,
    ground_temperature_k: float | None = None,
    ground_conductivity_w_m_k: float | None = None,
    ground_diffusivity_m2_s: float | None = None,
    duration_s: float = 3600.0,
    dt_s: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Spread and evaporate a pool fed by a spill (piecewise-constant rate), explicit steps of ``dt_s``.

    Boiling pools (``liquid_temperature_k >= boiling_point_k``) take heat from the
    ground (needs the ground's temperature, conductivity and diffusivity; the
    flux is taken at the mean contact time of the wetted area, a simplification
    of the ring-by-ring sum); others evaporate by mass transfer.
    The radius grows by ``dr/dt = sqrt(2 g h)`` until ``h`` reaches
    ``min_thickness_m`` or the area reaches ``bund_area_m2``.

    Returns
    -------
    time_s, evaporation_kg_s, area_m2 : numpy.ndarray
    """
    boiling = liquid_temperature_k >= boiling_point_k
    if boiling and None in (ground_temperature_k, ground_conductivity_w_m_k, ground_diffusivity_m2_s):
        raise ValueError("a boiling pool needs ground_temperature_k, ground_conductivity_w_m_k and ground_diffusivity_m2_s")
    n = int(math.ceil(duration_s / dt_s))
    t = np.arange(n + 1) * dt_s
    evap = np.zeros(n + 1)
    area = np.zeros(n + 1)
    mass = 0.0
    r = 0.0
    wetted_at = 0.0  # ∫ t dA: when each part of the area was wetted
    a_max = bund_area_m2 if bund_area_m2 is not None else math.inf
    # the spill's mass by time (rate j over [time j, time j+1)): each step takes in exactly what was spilled in it
    # (the rate at the step's start, held over the step, had put 0.17 % more into a pool than was spilled)
    m_spill = min(spill_rate_kg_s.size, spill_time_s.size - 1)
    knots = np.asarray(spill_time_s[:m_spill + 1], dtype=float)
    spilled = np.concatenate([[0.0], np.cumsum(np.asarray(spill_rate_kg_s[:m_spill], dtype=float) * np.diff(knots))])
    inflow = np.diff(np.interp(t, knots, spilled, left=0.0, right=float(spilled[-1])))
    for i in range(n):
        ti = t[i]
        mass += float(inflow[i])
        a = math.pi * r * r
        a_old = a
        if mass > 0 and a == 0:
            r = 0.1  # the pool starts as a 0.1 m disc
            a = math.pi * r * r
        h = mass / liquid_density_kg_m3 / a if a > 0 else 0.0
        if h > min_thickness_m and a < a_max:
            # an explicit step may not spread the pool thinner than min_thickness_m (Shaw & Briscoe's
            # spreading stops there): without this cap one step of sqrt(2 g h) dt overshot it many times
            a_cap = min(a_max, mass / liquid_density_kg_m3 / min_thickness_m)
            r = min(r + math.sqrt(2.0 * G * h) * dt_s, math.sqrt(a_cap / math.pi))
            a = math.pi * r * r
        wetted_at += ti * max(a - a_old, 0.0)
        if boiling:
            mean_contact = max(ti + dt_s - wetted_at / a, dt_s) if a > 0 else dt_s
            assert ground_temperature_k is not None and ground_conductivity_w_m_k is not None
            assert ground_diffusivity_m2_s is not None
            q = ground_heat_flux(mean_contact, ground_temperature_k, boiling_point_k,
                                 ground_conductivity_w_m_k, ground_diffusivity_m2_s)
            e = q * a / hvap_j_kg
        else:
            e = evaporation_rate_volatile(a, wind_speed_m_s, vapour_pressure_pa, liquid_temperature_k,
                                          molecular_weight_kg_mol)
        e = min(e, mass / dt_s)
        mass -= e * dt_s
        evap[i + 1] = e
        area[i + 1] = a if mass > 0 else 0.0
        if mass <= 0 and ti > float(spill_time_s[-1]):
            # the spill is over and the pool gone: nothing more evaporates
            return np.asarray(t[:i + 2], dtype=float), evap[:i + 2], area[:i + 2]
    return np.asarray(t, dtype=float), evap, area
