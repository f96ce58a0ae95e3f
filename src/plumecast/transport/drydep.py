"""Surface resistance of gases to dry deposition after Wesely (1989), per agent.

Host-side NumPy / pure Python; nothing here is compiled. A dry deposition velocity is
``v_d = 1 / (r_a + r_b + r_c)`` [m s-1]: ``r_a`` from the surface layer (``u*``,
``L``), the quasi-laminar resistance ``r_b = laminar_factor(D_H2O/D_x) / u*`` and the
bulk surface resistance ``r_c`` of :func:`surface_resistance`.

Surface resistance
    Wesely, M. L. (1989), Parameterization of surface resistances to gaseous dry
    deposition in regional-scale numerical models, Atmos. Environ. 23, 1293-1304,
    doi:10.1016/0004-6981(89)90153-4, with the corrections of Walmsley, J. L. &
    Wesely, M. L. (1996), Modification of coded parametrizations of surface
    resistances to gaseous dry deposition, Atmos. Environ. 30, 1181-1188,
    doi:10.1016/1352-2310(95)00403-3. Four pathways in parallel::

        1/r_c = 1/(r_s + r_m) + 1/r_lu + 1/(r_dc + r_clx) + 1/(r_ac + r_gsx)

        r_s   = r_i (1 + (200/(G + 0.1))^2) (400/(T_s (40 - T_s))) D_H2O/D_x
                (infinite unless 0 < T_s < 40 degC)         stomata
        r_m   = 1 / (H*/3000 + 100 f0)                      mesophyll
        r_lu  = r_lu0 / (1e-5 H* + f0)                      upper canopy, cuticles
        r_dc  = 100 (1 + 1000/(G + 10)) / (1 + 1000 theta)  buoyant mixing, theta = 0
        r_clx = 1 / (1e-5 H*/r_clS + f0/r_clO)              lower canopy
        r_gsx = 1 / (1e-5 H*/r_gsS + f0/r_gsO)              ground or water

    with the solar irradiance ``G`` [W m-2], the surface temperature ``T_s`` [degC],
    the effective Henry's law constant ``H*`` [M atm-1], the reactivity ``f0`` [-] and
    the land-use and season tables below (a table value 9999 is "no such pathway",
    an infinite resistance). The formulas were read in FLEXPART 10.4 ``src/getrc.f90``,
    ``src/readdepo.f90`` and ``src/readreleases.f90`` (flexpart/flexpart, commit
    3d7eebf7c4909f59db5ec32c524f88fb846e9fe5) and WRF-Chem ``chem/module_dep_simple.F``
    (wrf-model/WRF, commit f15568ccc1447780e3bd664b9f0196edd784bf33, subroutine
    ``rc``); GEOS-Chem ``GeosCore/drydep_mod.F90`` (geoschem/geos-chem, commit
    df4592e84561d3400950250e6fb57cd5b4bc90e7) has the same network. WRF-Chem and
    GEOS-Chem scale the ground and lower-canopy terms by ``H*/1e5`` as above; FLEXPART
    divides by 1e6 there (``10.e5`` in ``readdepo.f90``), which is not followed.

    Three details taken from those implementations, each beyond the bare equations:

    * Cold surfaces: ``1000 exp(-T_s - 4)`` [s m-1] is added to ``r_lu``, ``r_clx`` and
      ``r_gsx`` (Wesely's low-temperature correction; FLEXPART ``getrc.f90`` and
      WRF-Chem add it at every temperature, as here: it is below 0.2 s m-1 above
      5 degC). It is needed to reproduce Wesely's computed resistances at 0 degC
      (``tests/transport/test_drydep.py``).
    * The ground resistances ``r_gsS`` and ``r_gsO`` are at least
      :data:`MIN_GROUND_RESISTANCE_S_M` (1 s m-1; GEOS-Chem ``drydep_mod.F90``
      ``MAX(..., 1)``; WRF-Chem's table has 1 where Wesely's has 0). Wesely's
      ``r_gsS = 0`` over water and wetland would otherwise give every gas with
      ``H* > 0`` a zero ground resistance there, however insoluble.
    * ``r_c`` is at least :data:`MIN_SURFACE_RESISTANCE_S_M` (10 s m-1; FLEXPART
      ``getrc.f90`` "avoid possible excessively high vdep"; EarthSciML
      AtmosphericDeposition.jl ``src/wesley1989.jl``, commit
      75a0b5de3994775bfc625d64a67c523639a4721f, cites Wesely's "Results and
      conclusions" for it). This caps ``v_d`` below ``1 / (r_a + r_b + 10 s m-1)``.

    Not modelled: dew and rain on the leaves (Wesely's eqs. 10-14), snow other than
    through the ``winter_snow`` season, and the temperature dependence of ``H*``.

Quasi-laminar resistance
    ``r_b = 2 / (kappa u*) (Sc/Pr)^(2/3)`` with ``Sc = nu / D_x``, ``Pr = 0.72`` and
    ``kappa = 0.4`` (FLEXPART ``src/getrb.f90``, which rounds the exponent to 0.67;
    ``karman`` in ``src/par_mod.f90``). ``nu`` and ``D_H2O`` are FLEXPART's
    (``src/getvdep.f90``) evaluated at 15 degC and 1013.25 hPa: ``D_H2O = 2.11e-5
    (T/273.15)^1.94 (101325/p)`` and ``nu = mu / rho`` with ``mu = (1.718 + 0.0049
    T_c) 1e-5`` [kg m-1 s-1] and ``rho = p / (287 T)``. The ratio ``nu / D_H2O`` (0.625)
    changes by less than 1 % between 0 and 30 degC.

Land use and season
    Wesely's 11 land-use types and FLEXPART's snow and ice and rainforest
    (:data:`LAND_USES`), and 5 seasonal categories (:data:`SEASONS`); :func:`season_for`
    gives a default season from the month and the latitude. The land use at a place,
    from the IGBP-DIS land cover that FLEXPART ships, is
    :func:`plumecast.transport.landuse.release_land_use`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumecast.agents import Agent, get_agent
from plumecast.errors import ScenarioError
from plumecast.transport import boundary_layer as bl

__all__ = [
    "LAND_USES",
    "SEASONS",
    "WeselyGas",
    "gas_constants",
    "laminar_factor",
    "season_for",
    "surface_resistance",
]

# --- categories --------------------------------------------------------------

#: Wesely's (1989) land-use types, in his order (the first index of the tables):
#: urban land; agricultural land; range land; deciduous forest; coniferous forest;
#: mixed forest including wetland; water, both salt and fresh; barren land, mostly
#: desert; nonforested wetland; mixed agricultural and range land; rocky open areas
#: with low-growing shrubs; then FLEXPART's two further classes (its ``surfdepo.t``):
#: snow and ice; rainforest.
LAND_USES: tuple[str, ...] = (
    "urban",
    "agricultural",
    "range",
    "deciduous_forest",
    "coniferous_forest",
    "mixed_forest",
    "water",
    "barren",
    "wetland",
    "mixed_agricultural_range",
    "rocky_open_shrubs",
    "snow_ice",
    "rainforest",
)
#: Wesely's (1989) seasonal categories, in his order (the second index of the tables):
#: midsummer with lush vegetation; autumn with unharvested cropland; late autumn
#: after frost, no snow; winter, snow on ground and subfreezing; transitional spring
#: with partially green short annuals.
SEASONS: tuple[str, ...] = ("midsummer", "autumn", "late_autumn", "winter_snow", "spring")

# --- constants ---------------------------------------------------------------

#: Table value meaning "no such pathway" (an infinite resistance). [s m-1]
NO_PATHWAY = 9999.0
#: Smallest ground resistance r_gsS, r_gsO used (GEOS-Chem drydep_mod.F90). [s m-1]
MIN_GROUND_RESISTANCE_S_M = 1.0
#: Smallest bulk surface resistance returned (FLEXPART getrc.f90). [s m-1]
MIN_SURFACE_RESISTANCE_S_M = bl.MIN_SURFACE_RESISTANCE_S_M
#: Prandtl number of air (FLEXPART getrb.f90 ``pr``). [-]
PRANDTL = 0.72
#: Reference state of the molecular properties of r_b. [K], [Pa]
REFERENCE_TEMPERATURE_K = 288.15
REFERENCE_PRESSURE_PA = 101325.0
#: Molecular diffusivity of water vapour in air at the reference state (FLEXPART
#: getvdep.f90: ``2.11e-5 (T/273.15)^1.94 (101325/p)``). [m2 s-1]
D_H2O_M2_S = 2.11e-5 * (REFERENCE_TEMPERATURE_K / 273.15) ** 1.94 * (101325.0 / REFERENCE_PRESSURE_PA)
#: Kinematic viscosity of air at the reference state (FLEXPART getvdep.f90: dynamic
#: viscosity ``(1.718 + 0.0049 T_c) 1e-5`` over the density ``p / (287 T)``). [m2 s-1]
NU_AIR_M2_S = (1.718 + 0.0049 * (REFERENCE_TEMPERATURE_K - 273.15)) * 1e-5 / (
    REFERENCE_PRESSURE_PA / (287.0 * REFERENCE_TEMPERATURE_K)
)

# --- Wesely (1989) Table 3: resistances [s m-1], indexed [land_use, season] ---------
# Transcribed from CESM's seq_drydep_mod.F90 (ESMCI/cime, src/drivers/mct/shr/
# seq_drydep_mod.F90, commit 19c689b3a8a554f9892862a323ee140e41a794f0; the Fortran
# arrays are (season, land use), transposed here; its 1.e36 is written 9999) and
# checked cell by cell against FLEXPART 10.4 options/surfdepo.t (flexpart/flexpart,
# commit 3d7eebf7c4909f59db5ec32c524f88fb846e9fe5, columns 1-11): all 385 agree.
# The last two rows, snow and ice and rainforest, are not Wesely's: they are FLEXPART's
# classes 12 and 13 (surfdepo.t columns 12 and 13, the same values in every season), the
# classes of its land-use inventory (plumecast.transport.landuse) beyond his eleven.
# Columns: midsummer, autumn, late_autumn, winter_snow, spring.

# r_i: minimum bulk canopy (stomatal) resistance for water vapour.
R_I: NDArray[np.float64] = np.array([
    [9999, 9999, 9999, 9999, 9999],
    [60, 9999, 9999, 9999, 120],
    [120, 9999, 9999, 9999, 240],
    [70, 9999, 9999, 9999, 140],
    [130, 250, 250, 400, 250],
    [100, 500, 500, 800, 190],
    [9999, 9999, 9999, 9999, 9999],
    [9999, 9999, 9999, 9999, 9999],
    [80, 9999, 9999, 9999, 160],
    [100, 9999, 9999, 9999, 200],
    [150, 9999, 9999, 9999, 300],
    [9999, 9999, 9999, 9999, 9999],
    [200, 200, 200, 200, 200],
], dtype=np.float64)

# r_lu: leaf cuticles and other outer surfaces of the upper canopy.
R_LU: NDArray[np.float64] = np.array([
    [9999, 9999, 9999, 9999, 9999],
    [2000, 9000, 9999, 9999, 4000],
    [2000, 9000, 9000, 9999, 4000],
    [2000, 9000, 9000, 9999, 4000],
    [2000, 4000, 4000, 6000, 2000],
    [2000, 8000, 8000, 9000, 3000],
    [9999, 9999, 9999, 9999, 9999],
    [9999, 9999, 9999, 9999, 9999],
    [2500, 9000, 9000, 9000, 4000],
    [2000, 9000, 9000, 9000, 4000],
    [4000, 9000, 9000, 9000, 8000],
    [9999, 9999, 9999, 9999, 9999],
    [1000, 1000, 1000, 1000, 1000],
], dtype=np.float64)

# r_ac: transfer into the lower canopy (canopy height and density).
R_AC: NDArray[np.float64] = np.array([
    [100, 100, 100, 100, 100],
    [200, 150, 10, 10, 50],
    [100, 100, 100, 10, 80],
    [2000, 1500, 1000, 1000, 1200],
    [2000, 2000, 2000, 2000, 2000],
    [2000, 1700, 1500, 1500, 1500],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [300, 200, 100, 50, 200],
    [150, 120, 50, 10, 60],
    [200, 140, 120, 50, 120],
    [0, 0, 0, 0, 0],
    [2000, 2000, 2000, 2000, 2000],
], dtype=np.float64)

# r_gsS: ground (soil, litter, snow, water) resistance for SO2.
R_GSS: NDArray[np.float64] = np.array([
    [400, 400, 400, 100, 500],
    [150, 200, 150, 100, 150],
    [350, 350, 350, 100, 350],
    [500, 500, 500, 100, 500],
    [500, 500, 500, 100, 500],
    [100, 100, 200, 100, 200],
    [0, 0, 0, 0, 0],
    [1000, 1000, 1000, 1000, 1000],
    [0, 0, 0, 100, 0],
    [220, 300, 200, 100, 250],
    [400, 400, 400, 50, 400],
    [100, 100, 100, 100, 100],
    [200, 200, 200, 200, 200],
], dtype=np.float64)

# r_gsO: ground resistance for O3.
R_GSO: NDArray[np.float64] = np.array([
    [300, 300, 300, 600, 300],
    [150, 150, 150, 3500, 150],
    [200, 200, 200, 3500, 200],
    [200, 200, 200, 3500, 200],
    [200, 200, 200, 3500, 200],
    [300, 300, 300, 3500, 300],
    [2000, 2000, 2000, 2000, 2000],
    [400, 400, 400, 400, 400],
    [1000, 800, 1000, 3500, 1000],
    [180, 180, 180, 3500, 180],
    [200, 200, 200, 3500, 200],
    [10000, 10000, 10000, 10000, 10000],
    [200, 200, 200, 200, 200],
], dtype=np.float64)

# r_clS: exposed surfaces of the lower canopy (leaves, bark, structures) for SO2.
R_CLS: NDArray[np.float64] = np.array([
    [9999, 9999, 9999, 9999, 9999],
    [2000, 9000, 9999, 9999, 4000],
    [2000, 9000, 9000, 9999, 4000],
    [2000, 9000, 9000, 9000, 4000],
    [2000, 2000, 3000, 200, 2000],
    [2000, 4000, 6000, 400, 3000],
    [9999, 9999, 9999, 9999, 9999],
    [9999, 9999, 9999, 9999, 9999],
    [2500, 9000, 9000, 9000, 4000],
    [2000, 9000, 9000, 9999, 4000],
    [4000, 9000, 9000, 9000, 8000],
    [9999, 9999, 9999, 9999, 9999],
    [9999, 9999, 9999, 9999, 9999],
], dtype=np.float64)

# r_clO: lower-canopy resistance for O3.
R_CLO: NDArray[np.float64] = np.array([
    [9999, 9999, 9999, 9999, 9999],
    [1000, 400, 1000, 1000, 1000],
    [1000, 400, 400, 1000, 500],
    [1000, 400, 400, 400, 500],
    [1000, 1000, 1000, 1500, 1500],
    [1000, 600, 600, 600, 700],
    [9999, 9999, 9999, 9999, 9999],
    [9999, 9999, 9999, 9999, 9999],
    [1000, 400, 800, 800, 600],
    [1000, 400, 600, 1000, 800],
    [1000, 400, 600, 800, 800],
    [9999, 9999, 9999, 9999, 9999],
    [9999, 9999, 9999, 9999, 9999],
], dtype=np.float64)

for _table in (R_I, R_LU, R_AC, R_GSS, R_GSO, R_CLS, R_CLO):
    _table.setflags(write=False)
del _table



# --- gas constants -------------------------------------------------------------


@dataclass(frozen=True)
class WeselyGas:
    """The three constants of a gas in Wesely's (1989) model.

    Attributes
    ----------
    henry_m_atm : float
        Effective Henry's law constant ``H*`` (>= 0). [M atm-1]
    f0 : float
        Reactivity factor, 0 (not reactive) to 1 (as reactive as ozone). [-]
    diffusivity_ratio : float
        Molecular diffusivity of water vapour over that of the gas, ``D_H2O / D_x``
        (> 0). [-]
    """

    henry_m_atm: float
    f0: float
    diffusivity_ratio: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.henry_m_atm) and self.henry_m_atm >= 0.0):
            raise ValueError(
                f"effective Henry's law constant H* = {self.henry_m_atm!r} M atm-1: "
                "expected a finite number >= 0"
            )
        if not (math.isfinite(self.f0) and 0.0 <= self.f0 <= 1.0):
            raise ValueError(f"reactivity factor f0 = {self.f0!r}: expected a number in [0, 1]")
        if not (math.isfinite(self.diffusivity_ratio) and self.diffusivity_ratio > 0.0):
            raise ValueError(
                f"diffusivity ratio D_H2O/D_x = {self.diffusivity_ratio!r}: "
                "expected a finite number > 0"
            )


def gas_of(agent: Agent) -> WeselyGas | None:
    """The Wesely (1989) constants an agent carries (``henry_m_atm``, ``reactivity_f0``,
    ``diffusivity_ratio``: the shipped ones from ``data/agents/deposition.csv``, an
    inline agent's as given); ``None`` where it has none."""
    if agent.henry_m_atm is None or agent.reactivity_f0 is None or agent.diffusivity_ratio is None:
        return None
    return WeselyGas(agent.henry_m_atm, agent.reactivity_f0, agent.diffusivity_ratio)


def gas_constants(agent_name: str) -> WeselyGas | None:
    """Wesely (1989) constants of a shipped agent (:func:`gas_of` of
    :func:`plumecast.agents.get_agent`; case and surrounding blanks ignored); ``None``
    where the table has no verified constants for it, or no such agent (a user-defined
    one: see :func:`gas_of`)."""
    try:
        agent = get_agent(agent_name)
    except ScenarioError:
        return None
    return gas_of(agent)


# --- resistances -----------------------------------------------------------------


def _index(value: str, names: tuple[str, ...], what: str) -> int:
    try:
        return names.index(value)
    except ValueError:
        raise ValueError(f"unknown {what} {value!r}: expected one of {', '.join(names)}") from None


def _table_value(table: NDArray[np.float64], lu: int, season: int) -> float:
    """A table resistance [s m-1]; 9999 (no pathway) becomes infinity, a larger value
    (FLEXPART's 10,000 s m-1 for ozone on snow) stays (FLEXPART readdepo.f90)."""
    value = float(table[lu, season])
    return math.inf if value == NO_PATHWAY else value


def _reciprocal(x: float) -> float:
    """1/x with 1/0 = inf and 1/inf = 0 (a missing conductance is a missing path)."""
    if x == 0.0:
        return math.inf
    return 1.0 / x


def _uptake(coefficient: float, resistance: float) -> float:
    """The conductance ``coefficient / resistance`` [m s-1], 0 where the coefficient is
    0 (the gas does not use the path), infinite where the resistance is 0."""
    if coefficient == 0.0:
        return 0.0
    return coefficient * _reciprocal(resistance)


def surface_resistance(
    gas: WeselyGas,
    land_use: str,
    season: str,
    solar_w_m2: float = 0.0,
    surface_temperature_c: float = 15.0,
) -> float:
    """Bulk surface resistance ``r_c`` of a gas to dry deposition (Wesely 1989, eq. 2).

    Parameters
    ----------
    gas : WeselyGas
        The gas's ``H*``, ``f0`` and ``D_H2O / D_x``.
    land_use : str
        One of :data:`LAND_USES`.
    season : str
        One of :data:`SEASONS` (see :func:`season_for`).
    solar_w_m2 : float
        Solar irradiance at the surface ``G`` (>= 0; 0 at night: stomata closed).
        [W m-2]
    surface_temperature_c : float
        Surface (or 2-m air) temperature ``T_s``; stomata are shut outside
        ``0 < T_s < 40``. [degC]

    Returns
    -------
    float
        ``r_c``, at least :data:`MIN_SURFACE_RESISTANCE_S_M`; ``inf`` where the gas has
        no pathway (``H* = f0 = 0`` with the stomata shut). [s m-1]

    Raises
    ------
    ValueError
        Unknown land use or season, negative or non-finite irradiance, non-finite
        temperature, or a gas that is not a :class:`WeselyGas`.
    """
    if not isinstance(gas, WeselyGas):
        raise ValueError(f"gas = {gas!r}: expected a WeselyGas (see gas_constants)")
    _index(land_use, LAND_USES, "land use")
    _index(season, SEASONS, "season")
    g = float(solar_w_m2)
    t = float(surface_temperature_c)
    if not (math.isfinite(g) and g >= 0.0):
        raise ValueError(f"solar irradiance G = {solar_w_m2!r} W m-2: expected a finite number >= 0")
    if not math.isfinite(t):
        raise ValueError(f"surface temperature = {surface_temperature_c!r} degC: expected a finite number")
    return float(bl.surface_resistance_met(g, t, *resistance_terms(gas, land_use, season)))


def resistance_terms(gas: WeselyGas, land_use: str, season: str) -> tuple[float, float, float, float, float, float]:
    """The parts of :func:`surface_resistance` that depend on neither the radiation nor
    the temperature: ``(r_i D_H2O/D_x, r_m, r_lu, r_clx, r_gsx, r_ac)`` [s m-1] before the
    cold-surface term (``inf``: no such pathway), for
    :func:`plumecast.transport.boundary_layer.surface_resistance_met`, which the kernels
    evaluate with the met's radiation and temperature at each particle."""
    lu = _index(land_use, LAND_USES, "land use")
    se = _index(season, SEASONS, "season")
    h_star, f0 = gas.henry_m_atm, gas.f0
    # stomata (times the diffusivity ratio) and mesophyll
    ri_d = _table_value(R_I, lu, se) * gas.diffusivity_ratio
    r_m = _reciprocal(h_star / 3000.0 + 100.0 * f0)
    # upper canopy; lower canopy; ground
    r_lu = _table_value(R_LU, lu, se) * _reciprocal(1e-5 * h_star + f0)
    r_clx = _reciprocal(_uptake(1e-5 * h_star, _table_value(R_CLS, lu, se)) + _uptake(f0, _table_value(R_CLO, lu, se)))
    r_gss = max(_table_value(R_GSS, lu, se), MIN_GROUND_RESISTANCE_S_M)
    r_gso = max(_table_value(R_GSO, lu, se), MIN_GROUND_RESISTANCE_S_M)
    r_gsx = _reciprocal(_uptake(1e-5 * h_star, r_gss) + _uptake(f0, r_gso))
    return ri_d, r_m, r_lu, r_clx, r_gsx, _table_value(R_AC, lu, se)


def laminar_factor(diffusivity_ratio: float) -> float:
    """``u* r_b``: the quasi-laminar resistance is ``r_b = laminar_factor / u*``.

    ``u* r_b = 2 / kappa (Sc / Pr)^(2/3)``, ``Sc = nu / D_x``, ``D_x = D_H2O /
    diffusivity_ratio`` (FLEXPART ``getrb.f90``; constants in the module docstring).

    Parameters
    ----------
    diffusivity_ratio : float
        ``D_H2O / D_x`` of the gas (> 0). [-]

    Returns
    -------
    float
        ``u* r_b``. [-]
    """
    ratio = float(diffusivity_ratio)
    if not (math.isfinite(ratio) and ratio > 0.0):
        raise ValueError(
            f"diffusivity ratio D_H2O/D_x = {diffusivity_ratio!r}: expected a finite number > 0"
        )
    schmidt = NU_AIR_M2_S / (D_H2O_M2_S / ratio)
    return 2.0 / bl.VON_KARMAN * (schmidt / PRANDTL) ** (2.0 / 3.0)


# --- season ---------------------------------------------------------------------

#: Northern-hemisphere season of each month (January first), no snow assumed.
_NORTHERN_SEASON = (
    "late_autumn", "late_autumn", "spring", "spring", "spring", "midsummer",
    "midsummer", "midsummer", "autumn", "autumn", "late_autumn", "late_autumn",
)
#: Latitude below which (in magnitude) every month is midsummer (the kernels' latitude
#: bands of the seasons, :func:`plumecast.transport.boundary_layer.season_band`). [deg]
TROPICS_LATITUDE_DEG = bl.TROPICS_EDGE_DEG


def season_for(month: int, latitude_deg: float) -> str:
    """A default Wesely season from the month and the latitude.

    The rule (a plumecast default, not Wesely's): within the tropics
    (``|latitude| < 23.5``) midsummer all year; in the northern hemisphere June-August
    midsummer, September-October autumn, November-February late autumn, March-May
    spring; in the southern hemisphere the same six months later (December-February
    midsummer ...). Snow is never assumed: ``winter_snow`` must be declared.

    Parameters
    ----------
    month : int
        1 (January) to 12.
    latitude_deg : float
        -90 to 90. [deg]

    Returns
    -------
    str
        One of :data:`SEASONS`.
    """
    if isinstance(month, bool) or not isinstance(month, int | np.integer) or not 1 <= month <= 12:
        raise ValueError(f"month = {month!r}: expected an integer from 1 (January) to 12")
    lat = float(latitude_deg)
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"latitude = {latitude_deg!r} deg: expected a number in [-90, 90]")
    if abs(lat) < TROPICS_LATITUDE_DEG:
        return "midsummer"
    index = int(month) - 1 if lat >= 0.0 else (int(month) + 5) % 12
    return _NORTHERN_SEASON[index]
