"""Gaussian plume and puff for local-scale releases (first hour, first ~20 km).

Pure NumPy functions of (release, meteorology, receptor position); SI units.
Coordinates are source-centred: ``x`` downwind, ``y`` crosswind (left of the
wind positive), ``z`` height above ground, all in metres.

Dispersion coefficients come from two families:

* Briggs (1973) curves per Pasquill–Gifford class, for open country and for
  urban terrain — what responders' tools (ALOHA, ISC) use when only routine
  observations are available;
* surface-layer similarity driven by measured turbulence: σ_y from the measured
  standard deviation of wind direction (AERMOD form, Cimorelli et al. 2005; or
  Draxler 1976) and σ_z from u* and L (Venkatram 1992; AERMOD). These are used
  for the Prairie Grass validation and whenever σ_θ, u* and L are known.

References
----------
* Turner, D.B. (1970) *Workbook of Atmospheric Dispersion Estimates*, US EPA
  AP-26, eq. 3.1 (plume) and eq. 5.8 (reflection from a lid).
* Briggs, G.A. (1973) *Diffusion estimation for small emissions*, ATDL-106,
  NOAA; as tabulated in Hanna, S.R., Briggs, G.A. & Hosker, R.P. (1982)
  *Handbook on Atmospheric Diffusion*, DOE/TIC-11223, Table 4.5, and in
  Seinfeld & Pandis (2006) Table 18.5.
* Draxler, R.R. (1976) Determination of atmospheric diffusion parameters.
  Atmos. Environ. 10, 99–105.
* Venkatram, A. (1992) Vertical dispersion of ground-level releases in the
  surface boundary layer. Atmos. Environ. 26A, 947–949.
* Cimorelli, A.J. et al. (2005) AERMOD: a dispersion model for industrial source
  applications. Part I. J. Appl. Meteorol. 44, 682–693 (surface-layer σ_z).
* Palazzi, E., De Faveri, M., Fumarola, G. & Ferraiolo, G. (1982) Diffusion from
  a steady source of short duration. Atmos. Environ. 16, 2785–2790.
* Hanna, Briggs & Hosker (1982) §4.4: averaging-time power law ``(t_a/t_0)^0.2``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erf

from plumecast.nearfield.stability import PGClass

Terrain = Literal["rural", "urban"]
FloatArray = NDArray[np.float64]

#: Averaging time the Briggs / Pasquill–Gifford curves represent. [s]
BRIGGS_REFERENCE_AVERAGING_S = 600.0
#: Molar gas constant [J mol-1 K-1] and the pressure of the pure-vapour cap [Pa] (1 atm; the
#: ground-level pressure the plumes and the dense-gas workbook take).
_R_GAS = 8.314462618
PURE_VAPOUR_PRESSURE_PA = 101_325.0


def pure_vapour_kg_m3(molecular_weight_g_mol: float, temperature_k: float,
                      pressure_pa: float = PURE_VAPOUR_PRESSURE_PA) -> float:
    """Density of the pure vapour, ``ρ = P M / (R T)``: the most a concentration in air can be. [kg m-3]

    A mole fraction of 1 (10⁶ ppm by volume) at the ambient temperature and pressure
    (ideal gas). Chlorine at 2 °C and 1 atm: 3.14 kg m-3.
    """
    return float(pressure_pa * molecular_weight_g_mol * 1e-3 / (_R_GAS * temperature_k))


def cap_at_pure_vapour(c_kg_m3: ArrayLike, cap_kg_m3: float = math.inf) -> FloatArray:
    """Concentrations held at or below the pure vapour's density ``cap_kg_m3``
    (:func:`pure_vapour_kg_m3`; ``inf``: no cap). [kg m-3]

    The one place every modelled air concentration of the Gaussian plumes and puffs (and
    the zones' dense cloud) is capped: a Gaussian plume grows as ``1/(σ_y σ_z)`` towards
    its source without bound, and near a large release it gave more agent per cubic
    metre than the pure gas holds (54 t of chlorine over 600 s, class F, 30 m downwind:
    9.6 kg m-3, 3,300,000 ppm, against 3.14 kg m-3 for pure chlorine at 2 °C; cell audit).
    """
    c = np.asarray(c_kg_m3, dtype=float)
    if not math.isfinite(cap_kg_m3):
        return c
    return np.asarray(np.minimum(c, cap_kg_m3), dtype=float)


def at_pure_vapour(c_kg_m3: ArrayLike, cap_kg_m3: float) -> NDArray[np.bool_]:
    """Where :func:`cap_at_pure_vapour` has held a concentration at its cap (to rounding)."""
    c = np.asarray(c_kg_m3, dtype=float)
    if not math.isfinite(cap_kg_m3):
        return np.zeros(c.shape, dtype=bool)
    return np.asarray(c >= cap_kg_m3 * (1.0 - 1e-12), dtype=bool)

# Briggs (1973) open-country: sigma_y = ay x (1 + 1e-4 x)^-1/2;
# sigma_z = az x (1 + bz x)^cz.
_BRIGGS_RURAL: dict[str, tuple[float, float, float, float]] = {
    #      ay     az     bz      cz
    "A": (0.22, 0.20, 0.0, 0.0),
    "B": (0.16, 0.12, 0.0, 0.0),
    "C": (0.11, 0.08, 2e-4, -0.5),
    "D": (0.08, 0.06, 1.5e-3, -0.5),
    "E": (0.06, 0.03, 3e-4, -1.0),
    "F": (0.04, 0.016, 3e-4, -1.0),
}
# Briggs (1973) urban (McElroy–Pooler St Louis data): sigma_y = ay x (1 + 4e-4 x)^-1/2;
# sigma_z = az x (1 + bz x)^cz. Classes A and B share A-B, E and F share E-F.
_BRIGGS_URBAN: dict[str, tuple[float, float, float, float]] = {
    "A": (0.32, 0.24, 1e-3, 0.5),
    "B": (0.32, 0.24, 1e-3, 0.5),
    "C": (0.22, 0.20, 0.0, 0.0),
    "D": (0.16, 0.14, 3e-4, -0.5),
    "E": (0.11, 0.08, 1.5e-3, -0.5),
    "F": (0.11, 0.08, 1.5e-3, -0.5),
}


def _briggs(x_m: ArrayLike, pg_class: PGClass, terrain: Terrain) -> tuple[FloatArray, tuple[float, float, float, float]]:
    """Distances (negative ones as 0) and the Briggs coefficients ``(ay, az, bz, cz)`` of a class and terrain."""
    if terrain == "rural":
        table = _BRIGGS_RURAL
    elif terrain == "urban":
        table = _BRIGGS_URBAN
    else:
        raise ValueError(f"terrain must be 'rural' or 'urban', got {terrain!r}")
    if pg_class not in table:
        raise ValueError(f"Pasquill-Gifford class must be one of A-F, got {pg_class!r}")
    return np.maximum(np.asarray(x_m, dtype=float), 0.0), table[pg_class]


def briggs_sigma_y(x_m: ArrayLike, pg_class: PGClass, terrain: Terrain = "rural") -> FloatArray:
    """Briggs (1973) lateral dispersion coefficient σ_y. [m]

    Open country ``σ_y = a x (1 + 0.0001 x)^(-1/2)``; urban
    ``σ_y = a x (1 + 0.0004 x)^(-1/2)`` (Hanna et al. 1982, Table 4.5). Valid
    for about 100 m – 10 km and ~10-min averages (see
    :func:`averaging_time_factor`).

    Parameters
    ----------
    x_m : array_like
        Downwind distance. [m]
    pg_class : {"A", ..., "F"}
        Pasquill–Gifford class.
    terrain : {"rural", "urban"}
        Open-country or urban coefficients.
    """
    x, (ay, _, _, _) = _briggs(x_m, pg_class, terrain)
    b = 1e-4 if terrain == "rural" else 4e-4
    return ay * x / np.sqrt(1.0 + b * x)


def briggs_sigma_z(x_m: ArrayLike, pg_class: PGClass, terrain: Terrain = "rural") -> FloatArray:
    """Briggs (1973) vertical dispersion coefficient σ_z. [m]

    ``σ_z = a x (1 + b x)^c`` with the class coefficients of Hanna et al. (1982),
    Table 4.5 (open country: A 0.20x; B 0.12x; C 0.08x(1+0.0002x)^-1/2;
    D 0.06x(1+0.0015x)^-1/2; E 0.03x(1+0.0003x)^-1; F 0.016x(1+0.0003x)^-1;
    urban: A–B 0.24x(1+0.001x)^1/2; C 0.20x; D 0.14x(1+0.0003x)^-1/2;
    E–F 0.08x(1+0.0015x)^-1/2).

    Parameters
    ----------
    x_m : array_like
        Downwind distance. [m]
    pg_class : {"A", ..., "F"}
        Pasquill–Gifford class.
    terrain : {"rural", "urban"}
        Open-country or urban coefficients.
    """
    x, (_, az, bz, cz) = _briggs(x_m, pg_class, terrain)
    return az * x * (1.0 + bz * x) ** cz


def averaging_time_factor(
    averaging_time_s: float,
    reference_time_s: float = BRIGGS_REFERENCE_AVERAGING_S,
    exponent: float = 0.2,
) -> float:
    """Multiplier of σ_y for an averaging time other than the curves' own. [-]

    ``σ_y(t_a) = σ_y(t_0) (t_a / t_0)^p`` with ``p = 0.2`` (Turner 1970 §3;
    Hanna, Briggs & Hosker 1982 eq. 4.25), so a centreline concentration scales
    as ``(t_0/t_a)^0.2``. Meaningful from about 3 min to a few hours.

    Parameters
    ----------
    averaging_time_s : float
        Averaging time wanted. [s]
    reference_time_s : float
        Averaging time of the σ_y curves (600 s for Briggs/PG). [s]
    exponent : float
        Power-law exponent p. [-]
    """
    if averaging_time_s <= 0:
        raise ValueError(f"averaging_time_s must be positive, got {averaging_time_s!r}")
    return float((averaging_time_s / reference_time_s) ** exponent)


def draxler_sigma_y(
    x_m: ArrayLike,
    sigma_theta_rad: float,
    wind_speed_m_s: float,
    lagrangian_time_scale_s: float = 1000.0,
) -> FloatArray:
    """Lateral spread from the measured wind-direction fluctuation. [m]

    ``σ_y = σ_θ x f_y(t)``, ``f_y = 1 / (1 + 0.9 (t / T_i)^(1/2))``, ``t = x/u``,
    with ``T_i = 1000 s`` (Draxler 1976; Hanna, Briggs & Hosker 1982 eq. 4.29;
    Irwin 1983 recommends the same form for surface and low releases).

    Parameters
    ----------
    x_m : array_like
        Downwind distance. [m]
    sigma_theta_rad : float
        Standard deviation of the horizontal wind direction over the averaging
        time. [rad]
    wind_speed_m_s : float
        Transport wind speed. [m s-1]
    lagrangian_time_scale_s : float
        Normalising time T_i of Draxler's function. [s]
    """
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    t = x / wind_speed_m_s
    fy = 1.0 / (1.0 + 0.9 * np.sqrt(t / lagrangian_time_scale_s))
    return sigma_theta_rad * x * fy


def mechanical_mixing_height(friction_velocity_m_s: float) -> float:
    """Mechanical (shear-driven) mixing height ``z_im = 2300 u*^(3/2)``. [m]

    Venkatram, A. (1980) Estimating the Monin–Obukhov length in the stable
    boundary layer for dispersion calculations. Boundary-Layer Meteorol. 19,
    481–485; the form AERMET uses (Cimorelli et al. 2005). ``u*`` in m s-1.
    """
    return 2300.0 * friction_velocity_m_s**1.5


def aermod_sigma_y(
    x_m: ArrayLike,
    sigma_v_over_u: float,
    wind_speed_m_s: float,
    friction_velocity_m_s: float,
    obukhov_length_m: float,
    mixing_height_m: float = np.inf,
    source_height_m: float = 0.46,
) -> FloatArray:
    """Lateral spread of a low release from measured turbulence, AERMOD form. [m]

    Cimorelli et al. (2005), section on lateral dispersion; as coded in
    AERMOD's ``SIGY``:

    * convective (``L < 0``, release below ``z_i``)::

        σ_y = (σ_v/u) x / (1 + β X)^0.3,   X = (σ_v/u) x / z_i,
        β = max(78 · 0.46 / max(h_s, 0.46), 0.7)

    * stable (``L > 0``)::

        σ_y = (σ_v/u) x / (1 + x / (2 u T_Ly))^0.3,
        T_Ly = z_im / (156 σ_v) · max(h_s, 0.46) / 0.46

    with ``z_im`` the mechanical mixing height (:func:`mechanical_mixing_height`)
    and ``σ_v/u`` not below 0.05. ``σ_v/u`` is approximated by the measured σ_θ
    in radians. Note that AERMOD's near-surface constants (the 0.46 m
    reference height) were set with help of the Prairie Grass data.

    Parameters
    ----------
    x_m : array_like
        Downwind distance. [m]
    sigma_v_over_u : float
        Turbulence intensity of the lateral wind, ≈ σ_θ. [rad]
    wind_speed_m_s : float
        Transport wind speed. [m s-1]
    friction_velocity_m_s : float
        u*. [m s-1]
    obukhov_length_m : float
        L. [m]
    mixing_height_m : float
        Convective mixing height z_i (unstable); if not finite, ``z_im`` is used. [m]
    source_height_m : float
        Release height h_s. [m]
    """
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    svu = max(0.05, sigma_v_over_u)
    z_im = mechanical_mixing_height(friction_velocity_m_s)
    if np.isfinite(obukhov_length_m) and obukhov_length_m < 0:
        z_i = mixing_height_m if np.isfinite(mixing_height_m) else z_im
        beta = max(78.0 * 0.46 / max(source_height_m, 0.46), 0.7)
        return svu * x / (1.0 + beta * svu * x / z_i) ** 0.3
    sigma_v = svu * wind_speed_m_s
    t_ly = z_im / (156.0 * sigma_v) * max(source_height_m, 0.46) / 0.46
    return svu * x / (1.0 + x / (2.0 * wind_speed_m_s * t_ly)) ** 0.3


def surface_layer_sigma_z(
    x_m: ArrayLike,
    wind_speed_m_s: ArrayLike,
    friction_velocity_m_s: float,
    obukhov_length_m: float,
) -> FloatArray:
    """Vertical spread of a near-surface release from surface-layer similarity. [m]

    Stable and neutral (``L > 0``), Venkatram (1992), the form used in AERMOD
    (Cimorelli et al. 2005)::

        σ_z = sqrt(2/π) (u* x / u) (1 + 0.7 x / L)^(-1/3)

    Unstable (``L < 0``): the neutral term combined in quadrature with AERMOD's
    convective surface-layer term ``σ_zes = b_c (u*/u)^2 x^2 / |L|``,
    ``b_c = 0.5`` (Cimorelli et al. 2005, for source heights well below
    0.1 z_i)::

        σ_z^2 = [sqrt(2/π) u* x / u]^2 + [0.5 (u*/u)^2 x^2 / |L|]^2

    Parameters
    ----------
    x_m : array_like
        Downwind distance. [m]
    wind_speed_m_s : array_like
        Transport wind speed (at the plume's mean height). [m s-1]
    friction_velocity_m_s : float
        u*. [m s-1]
    obukhov_length_m : float
        Monin–Obukhov length L; ``inf`` for neutral. [m]
    """
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    u = np.asarray(wind_speed_m_s, dtype=float)
    neutral = np.sqrt(2.0 / np.pi) * friction_velocity_m_s * x / u
    if not np.isfinite(obukhov_length_m) or obukhov_length_m > 0:
        inv_l = 0.0 if not np.isfinite(obukhov_length_m) else 1.0 / obukhov_length_m
        return neutral * (1.0 + 0.7 * x * inv_l) ** (-1.0 / 3.0)
    convective = 0.5 * (friction_velocity_m_s / u) ** 2 * x**2 / abs(obukhov_length_m)
    return np.sqrt(neutral**2 + convective**2)


def vertical_term(
    z_m: ArrayLike,
    source_height_m: float | ArrayLike,
    sigma_z_m: ArrayLike,
    mixing_height_m: float = np.inf,
    n_images: int = 3,
) -> FloatArray:
    """Vertical factor of the Gaussian plume with reflections. [m-1]

    ``V = 1/(sqrt(2π) σ_z) Σ_n { exp[-(z - h + 2nH)²/2σ_z²] + exp[-(z + h + 2nH)²/2σ_z²] }``
    for ``n = -N..N``: total reflection at the ground and at the mixing lid H
    (Turner 1970 eq. 5.8). Once ``σ_z > 1.6 H`` the material is well mixed and
    ``V = 1/H`` (Turner 1970 §5). Without a lid (H = inf) only the ground image
    is kept. The crosswind-integrated concentration is ``Q V / u``.

    The lid is a boundary the material does not cross, from either side:

    * a release in the mixed layer (``h <= H``) puts nothing above the lid:
      ``V = 0`` for receptors at ``z > H`` (the image sum alone would leak
      material there);
    * a release above the lid (``h > H``) fully penetrates the capping
      inversion and nothing reaches the mixed layer: ``V = 0`` for ``z <= H``
      (US EPA 1995, *User's Guide for the ISC3 Dispersion Models* Vol. II,
      EPA-454/B-95-003b, §1.1.6: ground-level concentration set to zero when
      the effective release height exceeds the mixing height); above the lid
      the plume is reflected by it from above, ``exp[-(z-h)²/2σ_z²] +
      exp[-(z+h-2H)²/2σ_z²]``, and the well-mixed limit does not apply.

    Parameters
    ----------
    z_m : array_like
        Receptor height above ground. [m]
    source_height_m : float or array_like
        Effective release height h; an array (broadcast with ``z_m`` and
        ``sigma_z_m``) gives one height per receptor, e.g. a rising plume's
        ``h(x)`` (:mod:`plumecast.nearfield.plume_rise`), each treated as above. [m]
    sigma_z_m : array_like
        Vertical dispersion coefficient. [m]
    mixing_height_m : float
        Height of the capping inversion H (``inf``: none). [m]
    n_images : int
        Number N of image pairs each side when a lid is present.
    """
    if np.ndim(source_height_m) > 0:
        return _vertical_term_heights(z_m, np.asarray(source_height_m, dtype=float), sigma_z_m, mixing_height_m,
                                      n_images)
    z = np.asarray(z_m, dtype=float)
    sz = np.maximum(np.asarray(sigma_z_m, dtype=float), 1e-9)
    h = float(source_height_m)  # type: ignore[arg-type]
    norm = 1.0 / (np.sqrt(2.0 * np.pi) * sz)
    if not np.isfinite(mixing_height_m):
        return norm * (np.exp(-((z - h) ** 2) / (2 * sz**2)) + np.exp(-((z + h) ** 2) / (2 * sz**2)))
    big_h = mixing_height_m
    if h > big_h:
        # above the lid: penetrates the inversion, nothing below it (ISC3 §1.1.6); reflected by the lid from above
        above = norm * (np.exp(-((z - h) ** 2) / (2 * sz**2)) + np.exp(-((z + h - 2 * big_h) ** 2) / (2 * sz**2)))
        return np.asarray(np.where(z > big_h, above, 0.0), dtype=float)
    total = np.zeros(np.broadcast(z, sz).shape)
    if z.ndim == 0:  # the images' terms in one call (the zones ask for it with one height many times), summed as below
        zf = float(z)  # (IEEE doubles both: the same offsets as the array's scalar)
        offsets = [o for n in range(-n_images, n_images + 1)
                   for o in ((zf - h + 2 * n * big_h) ** 2, (zf + h + 2 * n * big_h) ** 2)]
        # each distinct offset's term once (at the ground from a ground source, 4 of the 14: the image pairs and
        # the two sides repeat), summed in the images' order: the same values to the bit
        row: dict[float, int] = {}
        for o in offsets:
            row.setdefault(o, len(row))
        terms = np.exp(-np.array(list(row)).reshape(-1, *([1] * total.ndim)) / (2 * sz**2))
        for o in offsets:
            total = total + terms[row[o]]
    else:
        for n in range(-n_images, n_images + 1):
            total = total + np.exp(-((z - h + 2 * n * big_h) ** 2) / (2 * sz**2))
            total = total + np.exp(-((z + h + 2 * n * big_h) ** 2) / (2 * sz**2))
    v = np.where(sz > 1.6 * big_h, 1.0 / big_h, norm * total)
    return np.asarray(np.where(z > big_h, 0.0, v), dtype=float)


def _vertical_term_heights(
    z_m: ArrayLike, h: FloatArray, sigma_z_m: ArrayLike, mixing_height_m: float, n_images: int
) -> FloatArray:
    """:func:`vertical_term` with one source height per receptor (broadcast). [m-1]"""
    z = np.asarray(z_m, dtype=float)
    sz = np.maximum(np.asarray(sigma_z_m, dtype=float), 1e-9)
    norm = 1.0 / (np.sqrt(2.0 * np.pi) * sz)
    if not np.isfinite(mixing_height_m):
        return np.asarray(norm * (np.exp(-((z - h) ** 2) / (2 * sz**2)) + np.exp(-((z + h) ** 2) / (2 * sz**2))),
                          dtype=float)
    big_h = mixing_height_m
    above = norm * (np.exp(-((z - h) ** 2) / (2 * sz**2)) + np.exp(-((z + h - 2 * big_h) ** 2) / (2 * sz**2)))
    above = np.where(z > big_h, above, 0.0)
    total = np.zeros(np.broadcast(z, h, sz).shape)
    for n in range(-n_images, n_images + 1):
        total = total + np.exp(-((z - h + 2 * n * big_h) ** 2) / (2 * sz**2))
        total = total + np.exp(-((z + h + 2 * n * big_h) ** 2) / (2 * sz**2))
    below = np.where(z > big_h, 0.0, np.where(sz > 1.6 * big_h, 1.0 / big_h, norm * total))
    return np.asarray(np.where(h > big_h, above, below), dtype=float)


def plume_concentration(
    release_rate_kg_s: ArrayLike,
    wind_speed_m_s: float,
    x_m: ArrayLike,
    y_m: ArrayLike,
    z_m: ArrayLike,
    source_height_m: float,
    sigma_y_m: ArrayLike,
    sigma_z_m: ArrayLike,
    mixing_height_m: float = np.inf,
    cap_kg_m3: float = math.inf,
) -> FloatArray:
    """Steady Gaussian plume concentration from a continuous point source. [kg m-3]

    ``C = Q / (sqrt(2π) σ_y u) exp(-y²/2σ_y²) V(z; h, σ_z, H)``, i.e. Turner
    (1970) eq. 3.1 with ground and lid reflection (:func:`vertical_term`),
    at most ``cap_kg_m3`` (:func:`cap_at_pure_vapour`: the pure vapour's density).
    Zero upwind (``x <= 0``).

    Parameters
    ----------
    release_rate_kg_s : float or array_like
        Emission rate Q (one per receptor: the rate that reaches it). [kg s-1]
    wind_speed_m_s : float
        Transport wind speed u. [m s-1]
    x_m, y_m, z_m : array_like
        Receptor position downwind, crosswind and height. [m]
    source_height_m : float
        Effective release height h. [m]
    sigma_y_m, sigma_z_m : array_like
        Dispersion coefficients at ``x_m``. [m]
    mixing_height_m : float
        Mixing height H. [m]
    cap_kg_m3 : float
        The pure vapour's density (:func:`pure_vapour_kg_m3`); ``inf``: no cap. [kg m-3]
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    sy = np.maximum(np.asarray(sigma_y_m, dtype=float), 1e-9)
    lateral = np.exp(-(y**2) / (2 * sy**2)) / (np.sqrt(2 * np.pi) * sy)
    v = vertical_term(z_m, source_height_m, sigma_z_m, mixing_height_m)
    c = np.asarray(release_rate_kg_s, dtype=float) / wind_speed_m_s * lateral * v
    return np.where(x > 0, cap_at_pure_vapour(c, cap_kg_m3), 0.0)


def crosswind_integrated_concentration(
    release_rate_kg_s: float,
    wind_speed_m_s: ArrayLike,
    z_m: float,
    source_height_m: float,
    sigma_z_m: ArrayLike,
    mixing_height_m: float = np.inf,
) -> FloatArray:
    """Crosswind-integrated concentration ``C_y = Q V / u``. [kg m-2]

    For ``z, h ≪ σ_z`` this is ``Q sqrt(2/π) / (u σ_z)`` (Turner 1970 eq. 3.1
    integrated over y).
    """
    v = vertical_term(z_m, source_height_m, sigma_z_m, mixing_height_m)
    return release_rate_kg_s * v / np.asarray(wind_speed_m_s, dtype=float)


def puff_concentration(
    mass_kg: float,
    wind_speed_m_s: float,
    x_m: ArrayLike,
    y_m: ArrayLike,
    z_m: ArrayLike,
    time_s: ArrayLike,
    source_height_m: float,
    sigma_x_m: ArrayLike,
    sigma_y_m: ArrayLike,
    sigma_z_m: ArrayLike,
    mixing_height_m: float = np.inf,
    cap_kg_m3: float = math.inf,
) -> FloatArray:
    """Instantaneous Gaussian puff concentration. [kg m-3]

    ``C = M / ((2π) σ_x σ_y) exp[-(x - u t)²/2σ_x²] exp[-y²/2σ_y²] V(z)``
    (Turner 1970 eq. 3.2 / Seinfeld & Pandis 2006 eq. 18.45 with reflections),
    at most ``cap_kg_m3`` (:func:`cap_at_pure_vapour`).
    The sigmas are those at the puff's travel distance ``u t``; pass
    ``sigma_x = sigma_y`` if nothing better is known (the usual assumption).

    Parameters
    ----------
    mass_kg : float
        Mass released. [kg]
    wind_speed_m_s : float
        Transport wind speed. [m s-1]
    x_m, y_m, z_m : array_like
        Receptor position. [m]
    time_s : array_like
        Time since release. [s]
    source_height_m : float
        Release height. [m]
    sigma_x_m, sigma_y_m, sigma_z_m : array_like
        Puff dispersion coefficients. [m]
    mixing_height_m : float
        Mixing height H. [m]
    cap_kg_m3 : float
        The pure vapour's density; ``inf``: no cap. [kg m-3]
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    t = np.asarray(time_s, dtype=float)
    sx = np.maximum(np.asarray(sigma_x_m, dtype=float), 1e-9)
    sy = np.maximum(np.asarray(sigma_y_m, dtype=float), 1e-9)
    along = np.exp(-((x - wind_speed_m_s * t) ** 2) / (2 * sx**2)) / (np.sqrt(2 * np.pi) * sx)
    across = np.exp(-(y**2) / (2 * sy**2)) / (np.sqrt(2 * np.pi) * sy)
    v = vertical_term(z_m, source_height_m, sigma_z_m, mixing_height_m)
    c = mass_kg * along * across * v
    return np.where(t > 0, cap_at_pure_vapour(c, cap_kg_m3), 0.0)


def finite_duration_factor(
    x_m: ArrayLike,
    time_s: ArrayLike,
    wind_speed_m_s: float,
    duration_s: float,
    sigma_x_m: ArrayLike,
) -> FloatArray:
    """Fraction of the steady plume concentration reached by a release of finite duration. [-]

    Palazzi et al. (1982)::

        F = ½ [erf((x - u (t - T)) / (sqrt(2) σ_x)) - erf((x - u t) / (sqrt(2) σ_x))]

    for ``t > T`` and the first erf replaced by ``erf(x/(sqrt 2 σ_x))`` for
    ``t ≤ T``. ``C(x,y,z,t) = F · C_plume(x,y,z)``.
    """
    x = np.asarray(x_m, dtype=float)
    t = np.asarray(time_s, dtype=float)
    sx = np.maximum(np.asarray(sigma_x_m, dtype=float), 1e-9)
    u = wind_speed_m_s
    s2 = np.sqrt(2) * sx
    lead = erf((x - u * np.maximum(t - duration_s, 0.0)) / s2)
    trail = erf((x - u * np.maximum(t, 0.0)) / s2)
    return np.clip(0.5 * (lead - trail), 0.0, 1.0)


def peak_finite_duration_factor(
    wind_speed_m_s: float, duration_s: float | FloatArray, sigma_x_m: ArrayLike
) -> FloatArray:
    """Largest value over time of :func:`finite_duration_factor` at one place. [-]

    Reached at ``t = x/u + T/2``: ``F_max = erf(u T / (2 sqrt(2) σ_x))``
    (Palazzi et al. 1982, with ``x ≫ σ_x``).
    """
    sx = np.maximum(np.asarray(sigma_x_m, dtype=float), 1e-9)
    return erf(wind_speed_m_s * duration_s / (2.0 * np.sqrt(2.0) * sx))


def cloud_passage_time(wind_speed_m_s: float, duration_s: float, sigma_x_m: ArrayLike) -> FloatArray:
    """Effective exposure duration at a place: time-integrated over peak concentration. [s]

    ``T_exp = ∫ C dt / C_peak``. For a release of duration ``T`` (Palazzi et al.
    1982) the dose is ``C_steady T`` and the peak ``C_steady erf(u T / (2√2 σ_x))``,
    so ``T_exp = T / erf(u T / (2√2 σ_x))``: about ``T`` while the along-wind
    spread is small, growing as the cloud stretches downwind. For an
    instantaneous puff (``T = 0``, the limit of the same expression)
    ``T_exp = √(2π) σ_x / u``. This is the duration an AEGL should be read at for
    a receptor the cloud passes over (AEGLs are defined for a constant
    concentration over a stated exposure duration).

    Parameters
    ----------
    wind_speed_m_s : float
        Transport wind speed (> 0). [m s-1]
    duration_s : float
        Release duration (0: instantaneous). [s]
    sigma_x_m : array_like
        Along-wind spread at the place. [m]
    """
    sx = np.maximum(np.asarray(sigma_x_m, dtype=float), 1e-9)
    u = float(wind_speed_m_s)
    if duration_s <= 0:
        return np.asarray(np.sqrt(2.0 * np.pi) * sx / u, dtype=float)
    f = erf(u * duration_s / (2.0 * np.sqrt(2.0) * sx))
    return np.asarray(duration_s / np.maximum(f, 1e-300), dtype=float)
