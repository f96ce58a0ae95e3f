"""Pressurised liquefied gas released through a hole: liquid or flashing
two-phase outflow, the flash fraction and the rain-out.

References
----------
* Flash fraction, adiabatic: ``f_v = 1 - exp(-c_p (T - T_b)/h_fg)`` and its
  first-order form ``c_p (T - T_b)/h_fg`` (Crowl & Louvar 2011 eqs. 4-90, 4-91;
  CCPS 1999 eq. 2.1.22).
* Liquid through a hole (no flashing in the hole, the Yellow Book's advice for
  holes in the vessel wall, CPR 14E 2005 sec. 2.5.2.3):
  ``ṁ = C_d A sqrt(2 ρ_l (p - p_a + ρ_l g h))`` with C_d = 0.61 (sharp hole)
  (Crowl & Louvar 2011 eq. 4-7; CCPS 1999 eq. 2.1.8).
* Equilibrium rate model for flashing flow through pipes longer than ~0.1 m
  (Fauske & Epstein 1988, J. Loss Prev. Process Ind. 1, 75-83; Crowl & Louvar
  2011 eq. 4-96): ``G_ERM = h_fg / v_fg · sqrt(1/(c_p T))``.
* Non-equilibrium (Fauske 1985, Plant/Oper. Prog. 4, 132-134; Crowl & Louvar
  2011 eqs. 4-98, 4-99): ``G = G_ERM / sqrt(N)``,
  ``N = h_fg² / (2 Δp ρ_l C_d² v_fg² T c_p) + L/L_e``, ``L_e = 0.1 m``:
  for ``L = 0`` this is the liquid orifice flow. ``L/L_e`` is capped at 1, so for
  ``L >= L_e`` the flux is ``G_ERM/sqrt(1 + G_ERM²/(2 Δp ρ_l C_d²))``: continuous in L and
  below the ERM by the first term (a few to ~10 % for a saturated liquefied gas at
  5-10 bar), not the bare ERM that Crowl & Louvar (2011) advise beyond 0.1 m. The
  orifice equations are in :mod:`.orifice`.
* Rain-out: the CCPS rule of thumb that the airborne fraction is twice the
  flash fraction (the rest rains out to a pool), ``f_air = min(2 f_v, 1)``
  (CCPS 1999 sec. 2.2.1, after Kletz), a screening rule, named as such.
"""

from __future__ import annotations

import math

from plumecast.nearfield.source_models.orifice import L_EQUILIBRIUM_M, G, Orifice, erm_mass_flux
from plumecast.nearfield.source_models.properties import P_ATM_PA

__all__ = ["G", "L_EQUILIBRIUM_M", "airborne_fraction_twice_flash", "erm_mass_flux", "flash_fraction",
           "flashing_mass_flux", "liquid_orifice_mass_rate"]


def flash_fraction(temperature_k: float, boiling_point_k: float, cp_liquid_j_kg_k: float, hvap_j_kg: float) -> float:
    """Mass fraction of a superheated liquid that flashes to vapour on release to 1 atm. [-]

    ``f_v = 1 - exp(-c_p (T - T_b)/h_fg)`` (Crowl & Louvar 2011 eq. 4-90; the
    integral of the heat balance with constant c_p and h_fg); 0 below T_b.
    """
    if temperature_k <= boiling_point_k:
        return 0.0
    return 1.0 - math.exp(-cp_liquid_j_kg_k * (temperature_k - boiling_point_k) / hvap_j_kg)


def airborne_fraction_twice_flash(flash: float) -> float:
    """Fraction of the release that stays airborne (vapour + fine aerosol): ``min(2 f_v, 1)``. [-]

    CCPS (1999) rule of thumb; the remainder rains out and forms a pool.
    """
    return min(2.0 * flash, 1.0)


def liquid_orifice_mass_rate(
    pressure_pa: float,
    liquid_density_kg_m3: float,
    area_m2: float,
    liquid_head_m: float = 0.0,
    discharge_coefficient: float = 0.61,
    ambient_pressure_pa: float = P_ATM_PA,
) -> float:
    """Liquid through a hole: ``C_d A sqrt(2 ρ (p - p_a + ρ g h))`` (Crowl & Louvar eq. 4-7;
    :meth:`Orifice.liquid_rate`). [kg s-1]"""
    return Orifice(area_m2, discharge_coefficient, ambient_pressure_pa).liquid_rate(
        pressure_pa, liquid_density_kg_m3, liquid_head_m)


def flashing_mass_flux(
    pressure_pa: float,
    temperature_k: float,
    liquid_density_kg_m3: float,
    vapour_density_kg_m3: float,
    hvap_j_kg: float,
    cp_liquid_j_kg_k: float,
    pipe_length_m: float = 0.0,
    discharge_coefficient: float = 0.61,
    ambient_pressure_pa: float = P_ATM_PA,
) -> float:
    """Non-equilibrium two-phase mass flux through a hole or short pipe (Fauske 1985). [kg m-2 s-1]

    ``G = G_ERM / sqrt(N)`` with ``N = G_ERM²/(2 Δp ρ_l C_d²) + L/L_e``, which is
    Fauske's ``N = h_fg²/(2 Δp ρ_l C_d² v_fg² T c_p) + L/L_e``; Δp = p - p_a, and
    ``L/L_e`` capped at 1 (beyond the equilibration length the flux is ``G_ERM/sqrt(1 + first
    term)``, continuous in L, within the first term of the bare ERM; see the module docstring).
    """
    unit_hole = Orifice(1.0, discharge_coefficient, ambient_pressure_pa)  # 1 m2: the rate is the flux
    return unit_hole.two_phase_rate(pressure_pa, temperature_k, liquid_density_kg_m3, vapour_density_kg_m3,
                                    hvap_j_kg, cp_liquid_j_kg_k, pipe_length_m)
