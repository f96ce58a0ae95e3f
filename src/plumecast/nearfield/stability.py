"""Atmospheric stability for local-scale dispersion.

Pasquill–Gifford (PG) stability classes from routine observations (Turner's
method) or from the Obukhov length (Golder 1972), and the Monin–Obukhov
surface-layer profile functions used to extrapolate a measured wind speed to
another height.

References
----------
* Pasquill, F. (1961) The estimation of the dispersion of windborne material.
  Meteorol. Mag. 90, 33–49.
* Turner, D.B. (1970) *Workbook of Atmospheric Dispersion Estimates*, US EPA
  AP-26, Table 1 ("Key to stability categories").
* Golder, D. (1972) Relations among stability parameters in the surface layer.
  Boundary-Layer Meteorol. 3, 47–58 — straight-line fits ``1/L = a + b log10 z0``
  as tabulated by Seinfeld, J.H. & Pandis, S.N. (2006) *Atmospheric Chemistry and
  Physics*, 2nd ed., Table 18.4 (after Myrup & Ranzieri 1976).
* Paulson, C.A. (1970) J. Appl. Meteorol. 9, 857–861 (unstable ψ_m).
* Beljaars, A.C.M. & Holtslag, A.A.M. (1991) J. Appl. Meteorol. 30, 327–341
  (stable ψ_m).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

PGClass = Literal["A", "B", "C", "D", "E", "F"]
Insolation = Literal["strong", "moderate", "slight"]

PG_CLASSES: tuple[PGClass, ...] = ("A", "B", "C", "D", "E", "F")

#: Von Kármán constant (default for profiles; the Prairie Grass validation passes
#: 0.35, the value its compiled u* are consistent with, Businger et al. 1971).
VON_KARMAN = 0.4

# Turner (1970) Table 1. Rows: surface (10 m) wind speed upper bounds [m s-1];
# columns: day strong / moderate / slight insolation, night >= 4/8 low cloud,
# night <= 3/8 cloud. Intermediate classes ("A-B") resolve to the more stable
# letter (higher ground-level concentrations: the conservative choice for
# emergency response). Night with wind < 2 m/s is blank in Pasquill's table;
# like ALOHA we use F.
_TURNER_ROWS: tuple[tuple[float, tuple[PGClass, PGClass, PGClass, PGClass, PGClass]], ...] = (
    (2.0, ("A", "B", "B", "F", "F")),  # A, A-B, B, (F), (F)
    (3.0, ("B", "B", "C", "E", "F")),  # A-B, B, C, E, F
    (5.0, ("B", "C", "C", "D", "E")),  # B, B-C, C, D, E
    (6.0, ("C", "D", "D", "D", "D")),  # C, C-D, D, D, D
    (np.inf, ("C", "D", "D", "D", "D")),  # C, D, D, D, D
)


def turner_wind_limit_m_s(pg_class: PGClass) -> float:
    """The 10-m wind speed from which Turner's (1970) key (:data:`_TURNER_ROWS`, the table
    :func:`pasquill_gifford_class` reads) no longer gives ``pg_class`` in any column:
    3 m/s for F, 5 m/s for E and B, 2 m/s for A; ``inf`` for C and D (any wind). [m s-1]

    A class given with a stronger wind is not one the key defines: the stable classes need
    light winds (strong wind mixes the surface layer towards D), the most unstable ones too.
    """
    if pg_class not in PG_CLASSES:
        raise ValueError(f"Pasquill-Gifford class must be one of A-F, got {pg_class!r}")
    limit = 0.0
    for upper, classes in _TURNER_ROWS:
        if pg_class in classes:
            limit = upper
    return float(limit)


def pasquill_gifford_class(
    wind_speed_10m: float,
    daytime: bool,
    insolation: Insolation | None = None,
    cloud_cover_octas: float | None = None,
) -> PGClass:
    """Pasquill–Gifford stability class by Turner's method.

    Parameters
    ----------
    wind_speed_10m : float
        Mean wind speed at 10 m. [m s-1]
    daytime : bool
        True between sunrise and sunset.
    insolation : {"strong", "moderate", "slight"}, optional
        Incoming solar radiation class (day only). Strong: sun higher than 60°
        in a clear sky; moderate: 35–60°; slight: 15–35° (Turner 1964). If not
        given by day it is derived from ``cloud_cover_octas`` (≤ 4/8: moderate,
        5–7/8: slight).
    cloud_cover_octas : float, optional
        Total cloud cover. [octas, 0–8] 8/8 (overcast) gives class D day and night.
        At night, ≥ 4/8 is the "thinly overcast or ≥ 4/8 low cloud" column.

    Returns
    -------
    str
        One of ``"A"`` … ``"F"``. Intermediate classes (A–B, B–C, C–D) of the
        table resolve to the more stable letter (conservative).

    Notes
    -----
    Pasquill (1961); Turner (1970) Table 1. Night is the period from one hour
    before sunset to one hour after sunrise in Turner's definition.
    """
    if not np.isfinite(wind_speed_10m) or wind_speed_10m < 0:
        raise ValueError(f"wind_speed_10m must be a non-negative number, got {wind_speed_10m!r}")
    if cloud_cover_octas is not None and cloud_cover_octas >= 8:
        return "D"
    if daytime:
        if insolation is None:
            if cloud_cover_octas is None:
                raise ValueError("by day give insolation or cloud_cover_octas")
            insolation = "moderate" if cloud_cover_octas <= 4 else "slight"
        col = {"strong": 0, "moderate": 1, "slight": 2}[insolation]
    else:
        if cloud_cover_octas is None:
            raise ValueError("at night give cloud_cover_octas")
        col = 3 if cloud_cover_octas >= 4 else 4
    for upper, classes in _TURNER_ROWS:
        if wind_speed_10m < upper:
            return classes[col]
    raise AssertionError("unreachable")  # pragma: no cover


# Golder (1972) line fits 1/L = a + b log10(z0) (Seinfeld & Pandis 2006 Table 18.4).
_GOLDER_AB: dict[PGClass, tuple[float, float]] = {
    "A": (-0.096, 0.029),
    "B": (-0.037, 0.029),
    "C": (-0.002, 0.018),
    "D": (0.0, 0.0),
    "E": (0.004, -0.018),
    "F": (0.035, -0.036),
}


#: Largest roughness length the Golder lines are read at. [m] Past 1.29 m the line of class C
#: turns positive (stable) and past 1.67 m that of E negative, so the nearest line gave
#: unstable air (L = -200 m, z0 = 2 m) class E and stable air class C (dense audit);
#: a rougher surface (a city centre, 1.5-3 m) reads its class at 1 m, the roughest the
#: lines keep in order (CITY_ROUGHNESS_M of the city discs' plumes).
GOLDER_MAX_ROUGHNESS_M = 1.0


def inverse_obukhov_golder(pg_class: PGClass, roughness_length_m: float) -> float:
    """Representative inverse Obukhov length of a PG class (Golder 1972). [m-1]

    ``1/L = a + b log10(z0)`` with the line fits tabulated by Seinfeld & Pandis
    (2006), Table 18.4, read at ``z0`` no larger than :data:`GOLDER_MAX_ROUGHNESS_M`.
    """
    a, b = _GOLDER_AB[pg_class]
    return a + b * float(np.log10(min(roughness_length_m, GOLDER_MAX_ROUGHNESS_M)))


def pasquill_gifford_class_from_obukhov(
    obukhov_length_m: float, roughness_length_m: float = 0.1
) -> PGClass:
    """PG class whose Golder (1972) line is nearest to the given 1/L.

    Parameters
    ----------
    obukhov_length_m : float
        Monin–Obukhov length L (negative: unstable). [m] ``inf`` means neutral.
    roughness_length_m : float
        Aerodynamic roughness length z0. [m]

    Returns
    -------
    str
        The class whose representative ``1/L`` (Golder 1972, Seinfeld & Pandis
        2006 Table 18.4) is closest to ``1/L``; boundaries are the midpoints.
    """
    inv_l = 0.0 if not np.isfinite(obukhov_length_m) else 1.0 / obukhov_length_m
    centres = np.array([inverse_obukhov_golder(c, roughness_length_m) for c in PG_CLASSES])
    return PG_CLASSES[int(np.argmin(np.abs(centres - inv_l)))]


def pasquill_gifford_index_from_inverse_obukhov(inv_l_m: ArrayLike, roughness_length_m: float) -> NDArray[np.int64]:
    """:func:`pasquill_gifford_class_from_obukhov` for many inverse Obukhov lengths
    (``1/L`` [m-1], 0 neutral) at once: the index into :data:`PG_CLASSES` of the class
    whose Golder (1972) line is nearest (non-finite ``1/L``: neutral, D)."""
    inv_l = np.asarray(inv_l_m, dtype=float)
    inv_l = np.where(np.isfinite(inv_l), inv_l, 0.0)
    centres = np.array([inverse_obukhov_golder(c, roughness_length_m) for c in PG_CLASSES])
    return np.asarray(np.argmin(np.abs(inv_l[..., None] - centres), axis=-1), dtype=np.int64)


def psi_m(zeta: ArrayLike) -> NDArray[np.float64]:
    """Integrated stability function for momentum ψ_m(z/L). [-]

    Unstable (ζ < 0): Paulson (1970) with Businger–Dyer
    ``x = (1 − 16 ζ)^(1/4)``. Stable (ζ ≥ 0): Beljaars & Holtslag (1991), which
    stays sensible for ζ > 1 where the linear ``−5 ζ`` form does not.
    """
    z = np.asarray(zeta, dtype=float)
    out = np.empty_like(z)
    neg = z < 0
    x = (1.0 - 16.0 * z[neg]) ** 0.25
    out[neg] = (
        2.0 * np.log((1.0 + x) / 2.0)
        + np.log((1.0 + x * x) / 2.0)
        - 2.0 * np.arctan(x)
        + np.pi / 2.0
    )
    zp = z[~neg]
    a, b, c, d = 1.0, 2.0 / 3.0, 5.0, 0.35
    out[~neg] = -(a * zp + b * (zp - c / d) * np.exp(-d * zp) + b * c / d)
    return out


def wind_speed_at_height(
    wind_speed_ref: float,
    z_ref_m: float,
    z_m: ArrayLike,
    friction_velocity_m_s: float,
    obukhov_length_m: float,
    von_karman: float = VON_KARMAN,
) -> NDArray[np.float64]:
    """Extrapolate a measured wind speed with the Monin–Obukhov profile. [m s-1]

    ``u(z) = u(z_r) + (u*/κ) [ln(z/z_r) − ψ_m(z/L) + ψ_m(z_r/L)]``
    (Monin–Obukhov similarity, e.g. Stull 1988 eq. 9.7.5h); no roughness length
    is needed because the profile is anchored on the measured speed.

    Parameters
    ----------
    wind_speed_ref : float
        Measured wind speed at ``z_ref_m``. [m s-1]
    z_ref_m : float
        Measurement height. [m]
    z_m : array_like
        Heights wanted. [m]
    friction_velocity_m_s : float
        u*. [m s-1]
    obukhov_length_m : float
        L. [m] (``inf`` for neutral)
    von_karman : float
        κ consistent with how u* was derived. [-]
    """
    z = np.maximum(np.asarray(z_m, dtype=float), 1e-3)
    inv_l = 0.0 if not np.isfinite(obukhov_length_m) else 1.0 / obukhov_length_m
    du = (friction_velocity_m_s / von_karman) * (
        np.log(z / z_ref_m) - psi_m(z * inv_l) + psi_m(np.asarray(z_ref_m * inv_l))
    )
    return np.maximum(wind_speed_ref + du, 0.1 * wind_speed_ref)


#: Typical standard deviation of the horizontal wind direction per PG class,
#: centre of the class ranges of US EPA (2000) *Meteorological Monitoring
#: Guidance for Regulatory Modeling Applications*, EPA-454/R-99-005, Table 6-8a. [deg]
SIGMA_THETA_DEG: dict[PGClass, float] = {
    "A": 25.0,
    "B": 20.0,
    "C": 15.0,
    "D": 10.0,
    "E": 5.6,
    "F": 3.0,
}


#: Wind-profile power-law exponents p per PG class (Irwin, J.S. 1979, A theoretical
#: variation of the wind profile power-law exponent as a function of surface
#: roughness and stability, Atmos. Environ. 13, 191–194), as used by ISC3 (US EPA
#: 1995, EPA-454/B-95-003b, Vol. II §1.1.5) for rural and urban terrain. [-]
WIND_PROFILE_EXPONENT: dict[str, dict[PGClass, float]] = {
    "rural": {"A": 0.07, "B": 0.07, "C": 0.10, "D": 0.15, "E": 0.35, "F": 0.55},
    "urban": {"A": 0.15, "B": 0.15, "C": 0.20, "D": 0.25, "E": 0.30, "F": 0.30},
}

#: Height of the wind speed the PG classes and the Briggs curves are read with. [m]
PG_REFERENCE_HEIGHT_M = 10.0


def power_law_wind_speed(
    wind_speed_ref: float,
    height_m: float,
    pg_class: PGClass,
    terrain: str = "rural",
    z_ref_m: float = PG_REFERENCE_HEIGHT_M,
) -> float:
    """Wind speed at a release height by the power law ``u = u_ref (z / z_ref)^p``. [m s-1]

    Exponent ``p`` per class and terrain from :data:`WIND_PROFILE_EXPONENT`
    (Irwin 1979; ISC3 §1.1.5). Heights below ``z_ref_m`` keep the reference
    speed: Turner's classes and the Pasquill–Gifford/Briggs curves are defined
    with the 10-m wind, which is what a ground-level release is read with (ISC3
    likewise does not extrapolate below the measurement height).

    Parameters
    ----------
    wind_speed_ref : float
        Wind speed measured at ``z_ref_m``. [m s-1]
    height_m : float
        Release (stack) height. [m]
    pg_class : {"A", ..., "F"}
        Pasquill–Gifford class.
    terrain : {"rural", "urban"}
        Exponent set.
    z_ref_m : float
        Measurement height. [m]
    """
    if terrain not in WIND_PROFILE_EXPONENT:
        raise ValueError(f"terrain must be 'rural' or 'urban', got {terrain!r}")
    p = WIND_PROFILE_EXPONENT[terrain][pg_class]
    return float(wind_speed_ref * (max(height_m, z_ref_m) / z_ref_m) ** p)
