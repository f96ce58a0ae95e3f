"""Constants of dry air and the ICAO standard atmosphere, shared by the 3-D met
reader (:mod:`plumecast.met.levels_read`), the WindGrid builder
(:mod:`plumecast.met.levels`) and the boundary-layer diagnosis
(:mod:`plumecast.met.boundary_layer`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CP",
    "G0",
    "KAPPA_AIR",
    "R_D",
    "standard_atmosphere_height_m",
    "standard_atmosphere_temperature_k",
]

#: Standard gravity [m s-2] (CGPM 1901; WMO's g0 for geopotential height).
G0 = 9.80665
#: Gas constant of dry air [J kg-1 K-1] (ICAO Doc 7488, 1993).
R_D = 287.05287
#: Specific heat of dry air at constant pressure [J kg-1 K-1].
CP = 1004.7
#: Poisson constant R_d / c_p of dry air.
KAPPA_AIR = R_D / CP

_ISA_T0, _ISA_P0, _ISA_LAPSE = 288.15, 1013.25, 0.0065
_ISA_T11, _ISA_P11, _ISA_P20 = 216.65, 226.3206, 54.74889


def standard_atmosphere_height_m(p_hpa: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Geopotential height [m] of pressure ``p_hpa`` [hPa] in the ICAO standard
    atmosphere (ICAO 1993, Doc 7488/3): 6.5 K/km lapse to 11 km, isothermal to
    20 km, +1 K/km above."""
    p = np.asarray(p_hpa, dtype=np.float64)
    g_rl = G0 / (R_D * _ISA_LAPSE)
    h_trop = _ISA_T0 / _ISA_LAPSE * (1.0 - (p / _ISA_P0) ** (1.0 / g_rl))
    h_iso = 11000.0 + R_D * _ISA_T11 / G0 * np.log(_ISA_P11 / np.maximum(p, 1e-9))
    g_r1 = G0 / (R_D * 0.001)
    h_up = 20000.0 + _ISA_T11 / 0.001 * ((np.maximum(p, 1e-9) / _ISA_P20) ** (-1.0 / g_r1) - 1.0)
    return np.asarray(np.where(p >= _ISA_P11, h_trop, np.where(p >= _ISA_P20, h_iso, h_up)))


def standard_atmosphere_temperature_k(p_hpa: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Temperature [K] at pressure ``p_hpa`` [hPa] in the ICAO standard atmosphere."""
    h = standard_atmosphere_height_m(p_hpa)
    return np.asarray(np.where(h <= 11000.0, _ISA_T0 - _ISA_LAPSE * h,
                               np.where(h <= 20000.0, _ISA_T11, _ISA_T11 + 0.001 * (h - 20000.0))))
