"""Flow through a hole: the one place where a hole's area, its discharge
coefficient and the pressure outside meet the orifice equations.

Every source model that lets gas, liquid or a flashing two-phase mixture out of a
tank or pipe (:mod:`.gas`, :mod:`.two_phase`, :mod:`.tank`) asks an
:class:`Orifice` for the mass flow.

References
----------
* Gas: Crowl, D.A. & Louvar, J.F. (2011) *Chemical Process Safety*, 3rd ed., sec.
  4-5, eqs. 4-48 (unchoked), 4-49 (choked pressure ratio) and 4-50 (choked mass
  flow); CCPS (1999) *Guidelines for Consequence Analysis of Chemical Releases*
  sec. 2.1.2 (C_d = 0.85 for a sharp hole in gas service, eq. 2.1.17 and text).
* Liquid (no flashing in the hole, the Yellow Book's advice for holes in the
  vessel wall, CPR 14E 2005 sec. 2.5.2.3): ``ṁ = C_d A sqrt(2 ρ_l (p - p_a + ρ_l g h))``
  with C_d = 0.61 for a sharp hole (Crowl & Louvar 2011 eq. 4-7; CCPS 1999 eq. 2.1.8).
* Flashing two-phase flow: equilibrium rate model ``G_ERM = h_fg / v_fg ·
  sqrt(1/(c_p T))`` (Fauske & Epstein 1988, J. Loss Prev. Process Ind. 1, 75-83;
  Crowl & Louvar 2011 eq. 4-96) and Fauske's (1985, Plant/Oper. Prog. 4, 132-134;
  Crowl & Louvar 2011 eqs. 4-98, 4-99) non-equilibrium flux ``G = G_ERM / sqrt(N)``,
  ``N = h_fg² / (2 Δp ρ_l C_d² v_fg² T c_p) + L/L_e``, ``L_e = 0.1 m``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from plumecast.nearfield.source_models.properties import P_ATM_PA, R_GAS

#: Standard acceleration of gravity. [m s-2]
G = 9.80665
#: Equilibration length of a flashing flow (Fauske 1985). [m]
L_EQUILIBRIUM_M = 0.1


def critical_pressure_ratio(k: float) -> float:
    """Downstream/upstream pressure ratio below which the flow is choked. [-]

    ``p*/p0 = (2/(k+1))^(k/(k-1))`` (Crowl & Louvar 2011 eq. 4-49): 0.528 for k = 1.4.

    >>> round(critical_pressure_ratio(1.4), 3)
    0.528
    """
    return float((2.0 / (k + 1.0)) ** (k / (k - 1.0)))


def erm_mass_flux(hvap_j_kg: float, v_fg_m3_kg: float, temperature_k: float, cp_liquid_j_kg_k: float) -> float:
    """Equilibrium-rate-model flashing mass flux ``h_fg/v_fg sqrt(1/(c_p T))`` (Fauske & Epstein 1988). [kg m-2 s-1]"""
    return hvap_j_kg / v_fg_m3_kg * math.sqrt(1.0 / (cp_liquid_j_kg_k * temperature_k))


@dataclass(frozen=True)
class Orifice:
    """A sharp hole: flow area [m2], discharge coefficient [-] and the pressure outside [Pa].

    >>> hole = Orifice.round(0.01, 0.63)
    >>> round(hole.area_m2 * 1e6, 4)
    78.5398
    """

    area_m2: float
    discharge_coefficient: float
    ambient_pressure_pa: float = P_ATM_PA

    @classmethod
    def round(cls, diameter_m: float, discharge_coefficient: float, ambient_pressure_pa: float = P_ATM_PA) -> Orifice:
        """A circular hole of ``diameter_m``."""
        return cls(math.pi * diameter_m**2 / 4.0, discharge_coefficient, ambient_pressure_pa)

    def gas_rate(self, pressure_pa: float, temperature_k: float, molecular_weight_kg_mol: float, k: float) -> float:
        """Mass flow of an ideal gas from a reservoir at (p, T). [kg s-1]

        Choked (``p_a/p <= p*/p``): ``ṁ = C_d A p sqrt(k M/(R T) (2/(k+1))^((k+1)/(k-1)))``
        (Crowl & Louvar 2011 eq. 4-50). Otherwise
        ``ṁ = C_d A p sqrt(2 M/(R T) k/(k-1) [(p_a/p)^(2/k) - (p_a/p)^((k+1)/k)])`` (eq. 4-48).
        Zero when ``p <= p_a``.
        """
        if pressure_pa <= self.ambient_pressure_pa:
            return 0.0
        ratio = self.ambient_pressure_pa / pressure_pa
        m_rt = molecular_weight_kg_mol / (R_GAS * temperature_k)
        if ratio <= critical_pressure_ratio(k):
            psi = k * (2.0 / (k + 1.0)) ** ((k + 1.0) / (k - 1.0))
        else:
            psi = 2.0 * k / (k - 1.0) * (ratio ** (2.0 / k) - ratio ** ((k + 1.0) / k))
        return self.discharge_coefficient * self.area_m2 * pressure_pa * math.sqrt(m_rt * psi)

    def liquid_rate(self, pressure_pa: float, liquid_density_kg_m3: float, liquid_head_m: float = 0.0) -> float:
        """Liquid that does not flash in the hole: ``C_d A sqrt(2 ρ (p - p_a + ρ g h))`` (eq. 4-7). [kg s-1]"""
        dp = pressure_pa - self.ambient_pressure_pa + liquid_density_kg_m3 * G * max(liquid_head_m, 0.0)
        if dp <= 0:
            return 0.0
        return self.discharge_coefficient * self.area_m2 * math.sqrt(2.0 * liquid_density_kg_m3 * dp)

    def two_phase_rate(
        self, pressure_pa: float, temperature_k: float, liquid_density_kg_m3: float, vapour_density_kg_m3: float,
        hvap_j_kg: float, cp_liquid_j_kg_k: float, pipe_length_m: float = 0.0,
    ) -> float:
        """Non-equilibrium flashing flow through the hole and a pipe of ``pipe_length_m`` (Fauske 1985). [kg s-1]

        ``A G`` with ``G = G_ERM / sqrt(N)``, ``N = G_ERM²/(2 Δp ρ_l C_d²) + L/L_e``,
        which is Fauske's ``N = h_fg²/(2 Δp ρ_l C_d² v_fg² T c_p) + L/L_e``; Δp = p - p_a,
        and ``L/L_e`` capped at 1 (beyond the equilibration length ``G = G_ERM/sqrt(1 + first term)``,
        continuous in L and slightly below the bare ERM; :mod:`.two_phase`).
        """
        dp = pressure_pa - self.ambient_pressure_pa
        if dp <= 0:
            return 0.0
        v_fg = 1.0 / vapour_density_kg_m3 - 1.0 / liquid_density_kg_m3
        g_erm = erm_mass_flux(hvap_j_kg, v_fg, temperature_k, cp_liquid_j_kg_k)
        cd = self.discharge_coefficient
        n = g_erm**2 / (2.0 * dp * liquid_density_kg_m3 * cd**2) + min(pipe_length_m / L_EQUILIBRIUM_M, 1.0)
        return self.area_m2 * (g_erm / math.sqrt(n))
