"""Thermodynamic properties of the shipped agents (boiling point, vapour pressure,
liquid density, heat of vaporisation, heat capacities) from the cited table
``plumecast/data/agents/thermo.csv`` (sources per column in ``THERMO_SOURCES.md``).

Each correlation is used only inside the temperature range its source states; a
property the table lacks is *unknown* and asking for it raises
:class:`plumecast.errors.DataFileError` naming the agent and the column, so a
caller can ask the user for the value instead of guessing.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources

from plumecast.errors import DataFileError

#: Molar gas constant (CODATA 2018, exact). [J mol-1 K-1]
R_GAS = 8.314462618
#: Standard atmosphere. [Pa]
P_ATM_PA = 101_325.0

_TABLE = "thermo.csv"


#: What a tank's source model is to do where the table lacks a property no tank key can give: the
#: release's rate or amount in place of its tank (``releases.N.`` is written ``release.`` by ``zones``'
#: old format and given its index by ``run``: :func:`plumecast.release.tank_profile`)
NO_TANK_KEY = ("no key of the tank can give it; expected the release's rate in place of its tank: "
               "releases.N.rate_kg_s [kg/s] (with stop_h), or releases.N.amount_kg [kg] with duration_s [s]")
#: The correlations of the table by column prefix: what they give, and the tank key that can stand in for
#: them (None: none can)
_CORRELATIONS = {"psat101": ("vapour pressure", None), "antoine": ("vapour pressure", None),
                 "rhol105": ("liquid density", None), "hvap106": ("heat of vaporisation", None),
                 "cpl100": ("liquid heat capacity", "liquid_heat_capacity_j_kg_k"),
                 "cpl114": ("liquid heat capacity", "liquid_heat_capacity_j_kg_k"),
                 "cpg": ("ideal-gas heat capacity", None)}


def _f(row: dict[str, str], key: str) -> float | None:
    v = row.get(key, "").strip()
    return float(v) if v else None


@dataclass(frozen=True)
class AgentThermo:
    """One agent's row of ``thermo.csv`` (SI; ``None`` = not in the table)."""

    agent: str
    molecular_weight_kg_mol: float
    row: dict[str, str]

    def _need(self, key: str) -> float:
        v = _f(self.row, key)
        if v is None:
            what = "normal boiling point" if key == "tb_k" else key
            raise DataFileError(f"{_TABLE}: agent {self.agent!r} has no {what} ({key}: left blank, no cited source "
                                f"was found), and {NO_TANK_KEY}")
        return v

    def _check_range(self, prefix: str, t_k: float) -> None:
        if _f(self.row, f"{prefix}_tmin_k") is None:
            # the key to give, by name ("give the property in the scenario" had named none; badinput audit,
            # session 43): the tank key where one stands in (the message then starts with it, for the caller
            # to prefix with the tank's path), else the release's rate in place of the tank
            what, key = _CORRELATIONS.get(prefix, (prefix, None))
            lacks = f"{_TABLE}: agent {self.agent!r} has no {what} correlation ({prefix}: left blank, no cited source was found)"
            if key is not None:
                raise DataFileError(f"{key}: {lacks}; expected the tank's {what} here [J/kg/K]")
            raise DataFileError(f"{lacks}, and {NO_TANK_KEY}")
        lo, hi = self._need(f"{prefix}_tmin_k"), self._need(f"{prefix}_tmax_k")
        if not (lo - 1e-9 <= t_k <= hi + 1e-9):
            raise DataFileError(
                f"{_TABLE}: {self.agent!r} {prefix} correlation is valid for {lo:g}-{hi:g} K; asked at {t_k:.2f} K"
            )

    @property
    def boiling_point_k(self) -> float:
        """Normal boiling point. [K]"""
        return self._need("tb_k")

    def vapour_pressure_pa(self, t_k: float) -> float:
        """Saturation pressure. [Pa]

        DIPPR eq. 101 (Perry's 8th ed. Table 2-8) where the table has it, else
        the Antoine equation (Poling et al. 2001) inside its range.
        """
        if _f(self.row, "psat101_c1") is not None:
            self._check_range("psat101", t_k)
            c = [self._need(f"psat101_c{i}") for i in range(1, 6)]
            return math.exp(c[0] + c[1] / t_k + c[2] * math.log(t_k) + c[3] * t_k ** c[4])
        return self.antoine_pa(t_k)

    def antoine_pa(self, t_k: float) -> float:
        """Antoine vapour pressure ``log10 P[Pa] = A - B/(T + C)`` (Poling et al. 2001). [Pa]"""
        self._check_range("antoine", t_k)
        a, b, c = (self._need(k) for k in ("antoine_a_log10_pa", "antoine_b_k", "antoine_c_k"))
        return float(10.0 ** (a - b / (t_k + c)))

    def liquid_density_kg_m3(self, t_k: float) -> float:
        """Saturated liquid density, DIPPR eq. 105 (Perry's Table 2-32). [kg m-3]"""
        self._check_range("rhol105", t_k)
        c1, c2, c3, c4 = (self._need(k) for k in ("rhol105_c1_mol_m3", "rhol105_c2", "rhol105_c3_k", "rhol105_c4"))
        return c1 / c2 ** (1.0 + (1.0 - t_k / c3) ** c4) * self.molecular_weight_kg_mol

    def heat_of_vaporisation_j_kg(self, t_k: float) -> float:
        """Latent heat, DIPPR eq. 106 (Perry's Table 2-150). [J kg-1]"""
        self._check_range("hvap106", t_k)
        tc = self._need("hvap106_tc_k")
        c1, c2, c3, c4 = (self._need(k) for k in ("hvap106_c1_j_mol", "hvap106_c2", "hvap106_c3", "hvap106_c4"))
        tr = t_k / tc
        return c1 * (1.0 - tr) ** (c2 + c3 * tr + c4 * tr * tr) / self.molecular_weight_kg_mol

    def liquid_heat_capacity_j_kg_k(self, t_k: float) -> float:
        """Liquid heat capacity, DIPPR eq. 100 (Perry's Table 2-153), or where the table gives it in DIPPR
        eq. 114 form (ammonia, hydrogen sulfide, carbon monoxide): ``A²/τ + B - 2ACτ - ADτ² - C²τ³/3 -
        CDτ⁴/2 - D²τ⁵/5``, ``τ = 1 - T/Tc`` (an ammonia tank had needed the user to give it in the first
        hour; zones audit, session 40: 4.6 kJ/kg/K at 15 °C). [J kg-1 K-1]"""
        if _f(self.row, "cpl100_tmin_k") is None and _f(self.row, "cpl114_tmin_k") is not None:
            self._check_range("cpl114", t_k)
            a, b, c, d = (self._need(f"cpl114_{k}") for k in "abcd")
            tau = 1.0 - t_k / self._need("hvap106_tc_k")
            cp_kmol = (a * a / tau + b - 2.0 * a * c * tau - a * d * tau**2 - c * c * tau**3 / 3.0
                       - c * d * tau**4 / 2.0 - d * d * tau**5 / 5.0)
            return cp_kmol / 1000.0 / self.molecular_weight_kg_mol
        self._check_range("cpl100", t_k)
        k = [self._need(f"cpl100_c{i}") for i in range(1, 6)]
        cp_kmol = k[0] + k[1] * t_k + k[2] * t_k**2 + k[3] * t_k**3 + k[4] * t_k**4
        return cp_kmol / 1000.0 / self.molecular_weight_kg_mol

    def gas_heat_capacity_j_kg_k(self, t_k: float) -> float:
        """Ideal-gas heat capacity ``Cp/R = a0 + a1 T + ... + a4 T^4`` (Poling et al. 2001). [J kg-1 K-1]"""
        self._check_range("cpg", t_k)
        a = [self._need(f"cpg_a{i}") for i in range(5)]
        return R_GAS * sum(a[i] * t_k**i for i in range(5)) / self.molecular_weight_kg_mol

    def heat_capacity_ratio(self, t_k: float) -> float:
        """Ideal-gas ``k = Cp/Cv = Cp/(Cp - R/M)``. [-]"""
        cp = self.gas_heat_capacity_j_kg_k(t_k)
        return cp / (cp - R_GAS / self.molecular_weight_kg_mol)


def load_thermo(agent_name: str, molecular_weight_g_mol: float) -> AgentThermo:
    """The row of ``thermo.csv`` for an agent (by its name in ``agents.csv``).

    Raises
    ------
    DataFileError
        The agent is not in the table.
    """
    text = resources.files("plumecast").joinpath("data/agents", _TABLE).read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        if row["agent"].strip().lower() == agent_name.strip().lower():
            return AgentThermo(row["agent"], molecular_weight_g_mol / 1000.0, row)
    raise DataFileError(f"{_TABLE}: no thermodynamic properties for agent {agent_name!r}; give them in the scenario")
