"""The boundary layer of one met record: mixing height, u*, 1/L, w* and rain.

:func:`surface_fields` gives the :data:`~plumecast.transport.windgrid.SURFACE_FIELDS`
of one record (a block of rows) from what the files hold, diagnosing what they lack
from the profile on the levels; the rules and their references are in the
docstring of :func:`plumecast.met.levels.wind_grid_3d`, which calls it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.met.atmosphere import _ISA_T0, CP, G0, KAPPA_AIR, R_D
from plumecast.met.intervals import check_negative
from plumecast.met.plausible import check_field

__all__ = [
    "MIXING_HEIGHT_BOUNDS_M",
    "RI_CRITICAL",
    "RI_USTAR_WEIGHT",
    "USTAR_FLOOR_M_S",
    "VON_KARMAN",
    "surface_fields",
]

#: von Kármán constant.
VON_KARMAN = 0.4
#: Critical bulk Richardson number of the mixing-height diagnosis (Vogelezang &
#: Holtslag 1996, Boundary-Layer Meteorol. 81, 245, doi:10.1007/BF02430331; FLEXPART).
RI_CRITICAL = 0.25
#: Weight b of the u*^2 term of the bulk Richardson number (Vogelezang & Holtslag 1996).
RI_USTAR_WEIGHT = 100.0
#: Bounds of a diagnosed mixing height [m] (FLEXPART's hmixmin, hmixmax; Stohl et
#: al. 2005, Atmos. Chem. Phys. 5, 2461, doi:10.5194/acp-5-2461-2005).
MIXING_HEIGHT_BOUNDS_M = (100.0, 4500.0)
#: Smallest u* [m s-1] used when forming 1/L (keeps 1/L finite in calm air).
USTAR_FLOOR_M_S = 0.01


def surface_fields(
    rec: xr.Dataset, has: set[str], h: NDArray[np.float64], kb: NDArray[np.int64], hb: NDArray[np.float64],
    ub: NDArray[np.float64], vb: NDArray[np.float64], T: NDArray[np.float64] | None,
    p_pa: NDArray[np.float64] | None, levels: NDArray[np.float64], z0: float, mixing_height_m: float | None,
    u10: NDArray[np.float64] | None, v10: NDArray[np.float64] | None, where: str | Mapping[str, str], tk: str,
    lat: NDArray[np.float64], lon: NDArray[np.float64],
) -> NDArray[np.float32]:
    """The SURFACE_FIELDS of one record (see :func:`plumecast.met.levels.wind_grid_3d`),
    then, where the files have the solar radiation, it [W m-2] and the surface air
    temperature [degC] (``WindGrid.stomata``). ``where``: the file (or the file of each
    field) named in messages; a field read is refused if NaN or outside
    :data:`~plumecast.met.plausible.PLAUSIBLE_RANGES`."""
    from plumecast.met.columns import take_level  # numba: when first needed

    ny, nx = hb.shape

    def get(name: str) -> NDArray[np.float64]:
        a = np.asarray(rec[name].values, dtype=np.float64)
        file = where if isinstance(where, str) else where[name]
        check_negative(a, name, rec[name], file, tk, lat, lon)  # a differenced accumulation that decreases
        check_field(a, name, rec[name], file, tk, lat, lon)
        return a

    def at_kb(a: NDArray[np.float64]) -> NDArray[np.float64]:
        return take_level(a, kb)

    # reference (surface-layer) temperature, pressure, density
    if T is not None:
        t_b = at_kb(T)
        p_b = at_kb(np.broadcast_to(p_pa, h.shape)) if p_pa is not None else 1e5 * np.exp(-G0 * hb / (R_D * t_b))
        p_s = p_b * np.exp(G0 * hb / (R_D * t_b))  # hypsometric, from the lowest level to the ground
        if "t2m" in has:
            t_s = get("t2m")
            theta_s = t_s * (1e5 / p_s) ** KAPPA_AIR
            z_ref = np.full((ny, nx), 2.0)
        else:
            t_s = t_b
            theta_s = t_b * (1e5 / p_b) ** KAPPA_AIR
            z_ref = hb
        rho = p_s / (R_D * t_s)
        theta = T * (1e5 / np.broadcast_to(p_pa, h.shape)) ** KAPPA_AIR if p_pa is not None else T + G0 / CP * h
    else:
        t_s = np.full((ny, nx), _ISA_T0)
        theta_s, rho, theta, z_ref = t_s, np.full((ny, nx), 1.225), None, hb

    # u*
    if "ustar" in has:
        ustar = get("ustar")
    elif u10 is not None and v10 is not None:
        ustar = VON_KARMAN * np.hypot(u10, v10) / np.log(10.0 / z0)
    else:
        ustar = VON_KARMAN * np.hypot(ub, vb) / np.log(np.maximum(hb, 1.001 * z0) / z0)
    us = np.maximum(ustar, USTAR_FLOOR_M_S)

    # heat flux and 1/L
    if "shf" in has:
        H = get("shf")
        inv_l = -VON_KARMAN * G0 * H / (us**3 * theta_s * rho * CP)
    elif theta is not None:
        # bulk Ri of the lowest layer: reference (2 m or lowest level) to the next level up
        k2 = np.minimum(kb + (0 if "t2m" in has else 1), h.shape[0] - 1)
        z2 = take_level(h, k2)
        th2 = take_level(theta, k2)
        u2 = take_level(np.asarray(rec["u"].values, np.float64), k2)
        v2 = take_level(np.asarray(rec["v"].values, np.float64), k2)
        if "t2m" in has:  # from the ground (no wind) to the lowest level
            du2 = u2**2 + v2**2
        else:  # between the two lowest levels above ground
            du2 = (u2 - ub) ** 2 + (v2 - vb) ** 2
        dz = np.maximum(z2 - z_ref, 1.0)
        ri = G0 / theta_s * (th2 - theta_s) * dz / np.maximum(du2, 0.01)
        ri = np.clip(ri, -10.0, 0.19)
        zeta = np.where(ri < 0.0, ri, ri / (1.0 - 5.0 * ri))
        inv_l = zeta / (0.5 * (z2 + z_ref))
        H = -inv_l * us**3 * theta_s * rho * CP / (VON_KARMAN * G0)
    else:
        H = np.zeros((ny, nx))
        inv_l = np.zeros((ny, nx))

    # mixing height
    if "blh" in has:
        hmix = get("blh")
    elif theta is not None:
        u_all = np.asarray(rec["u"].values, np.float64)
        v_all = np.asarray(rec["v"].values, np.float64)
        hmix = np.full((ny, nx), np.nan)
        ri_prev = np.zeros((ny, nx))
        z_prev = z_ref.copy()
        for lv in range(h.shape[0]):
            above = (h[lv] > z_ref) & (lv >= kb)
            ri = G0 / theta_s * (theta[lv] - theta_s) * (h[lv] - z_ref) / (
                u_all[lv] ** 2 + v_all[lv] ** 2 + RI_USTAR_WEIGHT * us**2)
            hit = above & np.isnan(hmix) & (ri >= RI_CRITICAL)
            f = np.clip((RI_CRITICAL - ri_prev) / np.where(ri > ri_prev, ri - ri_prev, 1.0), 0.0, 1.0)
            hmix = np.where(hit, z_prev + f * (h[lv] - z_prev), hmix)
            ri_prev = np.where(above, ri, ri_prev)
            z_prev = np.where(above, h[lv], z_prev)
        hmix = np.where(np.isnan(hmix), h[-1], hmix)
        hmix = np.clip(hmix, *MIXING_HEIGHT_BOUNDS_M)
    else:
        assert mixing_height_m is not None
        hmix = np.full((ny, nx), float(mixing_height_m))

    wstar = np.where(H > 0.0, np.cbrt(np.maximum(G0 * H * hmix / (rho * CP * theta_s), 0.0)), 0.0)
    precip = get("precip") if "precip" in has else np.zeros((ny, nx))
    rows = [hmix, ustar, inv_l, wstar, np.maximum(precip, 0.0)]
    if "solar" in has:  # and, for the stomata, the surface air temperature [degC]
        rows += [np.maximum(get("solar"), 0.0), t_s - 273.15]
    return np.stack(rows).astype(np.float32)
