"""Briggs plume rise of buoyant and momentum (jet) stack releases.

The effective release height of a hot or fast stack plume is the stack height,
lowered by stack-tip downwash, plus the Briggs rise: the transitional
("2/3 law") rise close to the stack and the final rise beyond the distance to
final rise, for unstable/neutral (PG A–D) and stable (E–F) conditions. All
inputs SI; the wind is the speed at the stack top.

References
----------
* Briggs, G.A. (1969) *Plume Rise*, USAEC Critical Review Series, TID-25075.
* Briggs, G.A. (1974) Diffusion estimation for small emissions, ATDL annual
  report 1973 (stack-tip downwash).
* Briggs, G.A. (1975) Plume rise predictions. In *Lectures on Air Pollution and
  Environmental Impact Analyses*, AMS, 59–111.
* Briggs, G.A. (1984) Plume rise and buoyancy effects. In *Atmospheric Science
  and Power Production*, DOE/TIC-27601, ch. 8.
* US EPA (1995) *User's Guide for the ISC3 Dispersion Models*, Vol. II,
  EPA-454/B-95-003b, §1.1.4 (the same equations with their constants:
  21.425, 38.71, 49, 119, 2.6, 2.0715, 0.0297, 0.00575, 0.019582).
* Hanna, S.R., Briggs, G.A. & Hosker, R.P. (1982) *Handbook on Atmospheric
  Diffusion*, DOE/TIC-11223, §3 (calm stable rise ``5 F^(1/4) s^(-3/8)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.nearfield.stability import PGClass

G = 9.80665
#: Potential-temperature gradients of stable classes E and F (ISC3 §1.1.4.3). [K m-1]
STABLE_DTHETA_DZ: dict[PGClass, float] = {"E": 0.020, "F": 0.035}


def buoyancy_flux(exit_velocity_m_s: float, diameter_m: float, stack_temp_k: float, air_temp_k: float) -> float:
    """Briggs buoyancy flux ``F_b = g v_s d² (T_s − T_a) / (4 T_s)``. [m4 s-3] (0 if not warmer)"""
    return max(G * exit_velocity_m_s * diameter_m**2 * (stack_temp_k - air_temp_k) / (4.0 * stack_temp_k), 0.0)


def momentum_flux(exit_velocity_m_s: float, diameter_m: float, stack_temp_k: float, air_temp_k: float) -> float:
    """Briggs momentum flux ``F_m = v_s² d² T_a / (4 T_s)``. [m4 s-2]"""
    return exit_velocity_m_s**2 * diameter_m**2 * air_temp_k / (4.0 * stack_temp_k)


def stability_parameter(pg_class: PGClass, air_temp_k: float, dtheta_dz_k_m: float | None = None) -> float:
    """Stability parameter ``s = (g/T_a) ∂θ/∂z`` of a stable class. [s-2] (0 for A–D)"""
    if dtheta_dz_k_m is None:
        dtheta_dz_k_m = STABLE_DTHETA_DZ.get(pg_class, 0.0)
    return G / air_temp_k * dtheta_dz_k_m


def stack_tip_downwash_height(
    stack_height_m: float, diameter_m: float, exit_velocity_m_s: float, wind_speed_m_s: float
) -> float:
    """Stack height lowered by stack-tip downwash (Briggs 1974). [m]

    ``h' = h_s + 2 d (v_s/u − 1.5)`` when ``v_s < 1.5 u``, else ``h_s``
    (ISC3 eq. 1-7); never below ground.
    """
    if exit_velocity_m_s >= 1.5 * wind_speed_m_s:
        return stack_height_m
    return max(stack_height_m + 2.0 * diameter_m * (exit_velocity_m_s / wind_speed_m_s - 1.5), 0.0)


@dataclass(frozen=True)
class PlumeRise:
    """Result of :func:`briggs_plume_rise`."""

    final_rise_m: float  # Δh beyond the distance to final rise [m]
    distance_to_final_m: float  # x_f [m] (0 for momentum-dominated rise)
    buoyancy_dominated: bool
    stack_height_m: float  # after stack-tip downwash [m]
    buoyancy_flux: float  # F_b [m4 s-3]
    momentum_flux: float  # F_m [m4 s-2]

    def rise_at(self, x_m: ArrayLike, wind_speed_m_s: float) -> NDArray[np.float64]:
        """Rise at downwind distance x: transitional ``1.6 F^(1/3) x^(2/3)/u`` up to the final rise. [m]

        Buoyant plumes follow Briggs' "2/3 law" (Briggs 1975; ISC3 eq. 1-24)
        until ``x_f``; momentum-dominated plumes take the final rise at once
        (ISC3 default, no gradual momentum rise).
        """
        x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
        if not self.buoyancy_dominated:
            return np.full(x.shape, self.final_rise_m)
        gradual = 1.6 * self.buoyancy_flux ** (1.0 / 3.0) * x ** (2.0 / 3.0) / wind_speed_m_s
        return np.asarray(np.minimum(gradual, self.final_rise_m), dtype=float)

    def effective_height(self, x_m: ArrayLike, wind_speed_m_s: float) -> NDArray[np.float64]:
        """Effective release height ``h' + Δh(x)``. [m]"""
        return self.stack_height_m + self.rise_at(x_m, wind_speed_m_s)


def briggs_plume_rise(
    stack_height_m: float,
    diameter_m: float,
    exit_velocity_m_s: float,
    stack_temp_k: float,
    air_temp_k: float,
    wind_speed_m_s: float,
    pg_class: PGClass,
    dtheta_dz_k_m: float | None = None,
    downwash: bool = True,
) -> PlumeRise:
    """Briggs (1975, 1984) final plume rise with the ISC3 buoyancy/momentum choice.

    Unstable/neutral (A–D), buoyancy dominated (``ΔT ≥ ΔT_c``)::

        F < 55:  Δh = 21.425 F^(3/4) / u,  x_f = 49 F^(5/8)
        F ≥ 55:  Δh = 38.71 F^(3/5) / u,   x_f = 119 F^(2/5)
        ΔT_c = 0.0297 T_s v_s^(1/3) / d^(2/3)  (F < 55),  0.00575 T_s v_s^(2/3) / d^(1/3)  (F ≥ 55)

    momentum dominated: ``Δh = 3 d v_s / u``.

    Stable (E–F, ``s = g/T_a ∂θ/∂z``), buoyancy dominated
    (``ΔT ≥ ΔT_c = 0.019582 T_s v_s sqrt(s)``)::

        Δh = 2.6 (F / (u s))^(1/3),  x_f = 2.0715 u / sqrt(s)

    and not more than the calm-stable rise ``5 F^(1/4) s^(-3/8)`` (Briggs 1975;
    Hanna et al. 1982), which keeps the rise finite as ``u → 0``;
    momentum dominated: ``Δh = min(1.5 (F_m / (u sqrt(s)))^(1/3), 3 d v_s / u)``.

    Parameters
    ----------
    stack_height_m, diameter_m : float
        Physical stack height and inner diameter at the top. [m]
    exit_velocity_m_s : float
        Exit velocity v_s. [m s-1]
    stack_temp_k, air_temp_k : float
        Exit gas and ambient temperature. [K]
    wind_speed_m_s : float
        Wind speed at the stack top (e.g.
        :func:`plumecast.nearfield.stability.power_law_wind_speed`). [m s-1]
    pg_class : {"A", ..., "F"}
        Pasquill–Gifford class.
    dtheta_dz_k_m : float, optional
        Potential-temperature gradient for E/F; default 0.020 / 0.035 K/m. [K m-1]
    downwash : bool
        Apply stack-tip downwash (:func:`stack_tip_downwash_height`).
    """
    if wind_speed_m_s <= 0:
        raise ValueError(f"wind_speed_m_s must be positive, got {wind_speed_m_s!r}")
    if diameter_m <= 0 or exit_velocity_m_s < 0 or stack_temp_k <= 0 or air_temp_k <= 0:
        raise ValueError("expected diameter_m > 0, exit_velocity_m_s >= 0 and positive temperatures")
    u = wind_speed_m_s
    ts, vs, d = stack_temp_k, exit_velocity_m_s, diameter_m
    hs = stack_tip_downwash_height(stack_height_m, d, vs, u) if downwash else stack_height_m
    fb = buoyancy_flux(vs, d, ts, air_temp_k)
    fm = momentum_flux(vs, d, ts, air_temp_k)
    dt = ts - air_temp_k
    momentum_neutral = 3.0 * d * vs / u
    if pg_class in ("E", "F"):
        s = stability_parameter(pg_class, air_temp_k, dtheta_dz_k_m)
        dt_c = 0.019582 * ts * vs * math.sqrt(s)
        if fb > 0 and dt >= dt_c:
            rise = min(2.6 * (fb / (u * s)) ** (1.0 / 3.0), 5.0 * fb**0.25 * s ** (-0.375))
            return PlumeRise(rise, 2.0715 * u / math.sqrt(s), True, hs, fb, fm)
        rise = min(1.5 * (fm / (u * math.sqrt(s))) ** (1.0 / 3.0), momentum_neutral)
        return PlumeRise(rise, 0.0, False, hs, fb, fm)
    if fb < 55.0:
        dt_c = 0.0297 * ts * vs ** (1.0 / 3.0) / d ** (2.0 / 3.0)
        rise_b, x_f = 21.425 * fb**0.75 / u, 49.0 * fb ** (5.0 / 8.0)
    else:
        dt_c = 0.00575 * ts * vs ** (2.0 / 3.0) / d ** (1.0 / 3.0)
        rise_b, x_f = 38.71 * fb**0.6 / u, 119.0 * fb**0.4
    if fb > 0 and dt >= dt_c:
        return PlumeRise(rise_b, x_f, True, hs, fb, fm)
    return PlumeRise(momentum_neutral, 0.0, False, hs, fb, fm)
