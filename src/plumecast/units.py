"""Unit conversions used at the edges of plumecast (SI inside).

Gas concentrations: ppm (volume mixing ratio x 1e6) <-> mg/m3 <-> kg/m3 via the
ideal-gas molar volume ``V_m = R T / P``. At 25 degC and 1 atm ``V_m`` is
24.465 L/mol, the 24.45 used by the US EPA / NIOSH conversion
``mg/m3 = ppm * MW / 24.45`` (e.g. NIOSH Pocket Guide, introduction).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

R_GAS = 8.314462618  # J mol-1 K-1 (CODATA 2018)
T_STANDARD_K = 298.15  # 25 degC, the reference temperature of AEGL/NIOSH ppm values
P_STANDARD_PA = 101325.0  # 1 atm
EARTH_RADIUS_M = 6371000.0  # mean Earth radius (IUGG), used for all spherical geometry
SECONDS_PER_HOUR = 3600.0
#: People on Earth, the most one receptor can hold: 8.2 billion in mid-2024 (United Nations, Department of
#: Economic and Social Affairs, Population Division (2024), World Population Prospects 2024: Summary of Results,
#: UN DESA/POP/2024/TR/NO. 9). A receptor's population above it is a typing error (1e30 had been read; audit 43).
WORLD_POPULATION = 8.2e9


def molar_volume_m3(temperature_k: float = T_STANDARD_K, pressure_pa: float = P_STANDARD_PA) -> float:
    """Ideal-gas molar volume ``R T / P``. [m3 mol-1]"""
    return R_GAS * temperature_k / pressure_pa


def ppm_to_kg_m3(
    ppm: ArrayLike,
    molecular_weight_g_mol: float,
    temperature_k: float = T_STANDARD_K,
    pressure_pa: float = P_STANDARD_PA,
) -> NDArray[np.float64]:
    """Volume mixing ratio [ppm] to mass concentration [kg m-3]."""
    vm = molar_volume_m3(temperature_k, pressure_pa)
    return np.asarray(ppm, dtype=float) * 1e-6 * (molecular_weight_g_mol * 1e-3) / vm


def kg_m3_to_ppm(
    kg_m3: ArrayLike,
    molecular_weight_g_mol: float,
    temperature_k: float = T_STANDARD_K,
    pressure_pa: float = P_STANDARD_PA,
) -> NDArray[np.float64]:
    """Mass concentration [kg m-3] to volume mixing ratio [ppm]."""
    vm = molar_volume_m3(temperature_k, pressure_pa)
    return np.asarray(kg_m3, dtype=float) * vm / (molecular_weight_g_mol * 1e-3) * 1e6


def ppm_to_mg_m3(
    ppm: ArrayLike,
    molecular_weight_g_mol: float,
    temperature_k: float = T_STANDARD_K,
    pressure_pa: float = P_STANDARD_PA,
) -> NDArray[np.float64]:
    """Volume mixing ratio [ppm] to mass concentration [mg m-3]."""
    return ppm_to_kg_m3(ppm, molecular_weight_g_mol, temperature_k, pressure_pa) * 1e6


def mg_m3_to_ppm(
    mg_m3: ArrayLike,
    molecular_weight_g_mol: float,
    temperature_k: float = T_STANDARD_K,
    pressure_pa: float = P_STANDARD_PA,
) -> NDArray[np.float64]:
    """Mass concentration [mg m-3] to volume mixing ratio [ppm]."""
    return kg_m3_to_ppm(np.asarray(mg_m3, dtype=float) * 1e-6, molecular_weight_g_mol, temperature_k, pressure_pa)
