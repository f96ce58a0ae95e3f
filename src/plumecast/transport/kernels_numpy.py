"""NumPy reference kernel: the oracle the compiled backends are tested against.

One time step for all particles at once (vectorised over particles, a Python loop
over steps). The physics, shared by every backend:

* advection: explicit midpoint (RK2) step on the unit sphere in 3-D Cartesian
  coordinates, ``p' = N(p + V(p_mid, t + dt/2) dt / R)`` with ``N`` the normalisation
  onto the sphere and ``V`` the pole-safe interpolated wind (see
  :mod:`plumecast.transport.windgrid`); the midpoint ``p_mid`` is taken in the local
  tangent plane away from the poles and on the sphere near them (:func:`midpoint`),
  so ``1 / cos φ`` never exceeds ~5.8.
* horizontal turbulence: random displacement ``sqrt(2 K_h dt) (ξ1 e + ξ2 n)`` in the
  local tangent plane, added to the final step (Fickian random walk; e.g. Stohl et al.
  2005, sect. 4).
* vertical mixing: random walk ``sqrt(2 K_z dt) ξ3`` for particles inside the mixed
  layer, reflected at the ground and at the mixing height ``h`` as often as the step
  needs (:func:`fold_into_layer`: the position folded into [0, h], the method of
  images for two reflecting walls; Wilson & Flesch 1993, Boundary-Layer Meteorol. 65,
  323, reflection for a homogeneous K). A step longer than ``h`` therefore keeps a
  well-mixed layer well mixed (Thomson 1987, J. Fluid Mech. 180, 529) instead of
  piling particles up at a wall; particles released above ``h`` are not mixed.
* decay: first order, ``m <- m exp(-k dt)``; the removed mass is counted.
* sampling: after each step, the mass of particles below ``layer_depth`` is added to
  their output-grid cell.

Winds on levels, vertical motion, a boundary layer from the met and deposition (the
"3-D path", taken when the WindGrid has more than one level, ``w`` or ``surface``, or
when deposition is on; a single-level grid without them runs the physics above,
bit for bit):

* winds in height: a particle at height ``z`` above ground takes the wind of the two
  levels of ``z_m`` that bracket it, linearly in ``z`` (at each grid corner, then
  bilinear in lon/lat, then linear in time); above the top level the top level's wind; below the
  lowest level ``z_1`` the lowest level's wind scaled by the neutral log law,
  ``u(z) = u(z_1) ln(max(z, z0) / z0) / ln(z_1 / z0)`` (Stull 1988, An Introduction to
  Boundary Layer Meteorology, Kluwer, sect. 9.7.1). The levels are fixed heights above
  ground, so the pair is found from ``z`` alone (:func:`level_weights`; the compiled
  kernels use a lookup table, :meth:`WindGrid.level_params`). Both wind lookups of the
  midpoint step use the height at the start of the step.
* vertical advection: ``z <- |z + w dt|`` with ``w`` interpolated like the wind, at the
  horizontal midpoint and the middle of the step (an explicit step in the vertical;
  the absolute value reflects at the ground). It comes before the turbulence.
* vertical turbulence from the met: with ``surface`` fields, the mixing height,
  ``u*``, ``1/L`` and ``w*`` are interpolated at the start of the step (bilinear, linear
  in time) and the step is :func:`plumecast.transport.boundary_layer.vertical_step`
  (stability- and height-dependent turbulence inside the boundary layer, a small
  free-troposphere K above it; that module gives the physics and its sources). The
  normal deviate is the step's ``xi3``; further uniforms come from the particle-step
  counter. Without ``surface``, the constant K_z and mixing height above.
* deposition: after the decay, the mass is multiplied by the dry-deposition and
  wet-scavenging factors of :func:`plumecast.transport.boundary_layer.removal_factors`
  (deposition velocity ``v_d`` acting on particles in the boundary layer; scavenging
  ``Lambda = a P^b`` with the met's precipitation rate ``P`` [mm h-1]), evaluated at
  the height after the vertical step. The masses removed each way are added to the
  ``removed`` argument, and their sum to the sampler's ``deposited`` grid at the
  particle's end point, so that per call: mass before = mass after + decayed + dry +
  wet + mass of the particles that left the domain.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.transport import boundary_layer as bl
from plumecast.transport import rng
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED, Particles
from plumecast.transport.windgrid import WindGrid
from plumecast.units import EARTH_RADIUS_M


def fold_into_layer(z: NDArray[np.float64], h: float) -> NDArray[np.float64]:
    """Height ``z`` [m] after reflections at 0 and ``h`` [m], as many as it takes.

    Reflecting walls at 0 and ``h`` map a free displacement to ``r = z mod 2h``,
    folded back (``2h - r``) where ``r > h`` (the method of images; e.g. Wilson &
    Flesch 1993, Boundary-Layer Meteorol. 65, 323). The compiled kernels do the
    same arithmetic: ``r = z - 2h floor(z / 2h)``, then the fold, then a clip to
    [0, h] against rounding.
    """
    two_h = 2.0 * h
    r = z - two_h * np.floor(z / two_h)
    r = np.where(r > h, two_h - r, r)
    return np.clip(r, 0.0, h)


#: the largest table of :func:`horizontal_gain` [entries]
HORIZONTAL_GAIN_MAX = 1 << 21
#: where :func:`horizontal_gain` ends: the factor left out beyond is 1 within this
HORIZONTAL_GAIN_TOLERANCE = 1e-9


@functools.lru_cache(maxsize=8)
def horizontal_gain(dt_s: float, time_scale_s: float) -> NDArray[np.float64]:
    """The factor ``g[j]`` on the horizontal random walk's deviates in the step that a
    particle makes ``j`` steps after its birth, for a Lagrangian time scale ``T``:
    ``g[j]^2 = 1 - c q^j`` with ``q = exp(-dt/T)``, ``c = (T/dt)(1 - q)``.

    With ``sigma_h = sqrt(2 K dt)`` per step, the variance of a particle's position
    after ``J`` steps (``t = J dt``) is then exactly Taylor's (1921) spread for an
    exponential velocity autocorrelation of time scale ``T`` and variance
    ``sigma_v^2 = K / T``::

        sum_j 2 K dt (1 - c q^j) = 2 K [t - T (1 - exp(-t / T))]

    which grows as ``sigma_v t`` while ``t << T`` and as the random walk ``2 K t`` once
    ``t >> T`` (Taylor 1921, Proc. London Math. Soc. 20, 196; the form of HYSPLIT's
    horizontal turbulence, whose default time scale is 10800 s: HYSPLIT's ``HSCALE``,
    Draxler & Hess 1998, Aust. Met. Mag. 47, 295). Each step's deviates stay independent,
    so the one-particle statistics (the mean concentration) are Taylor's, not the
    velocity memory of a Langevin model. The table ends where ``1 - g`` falls below
    :data:`HORIZONTAL_GAIN_TOLERANCE` (at most :data:`HORIZONTAL_GAIN_MAX` entries);
    older particles take its last entry. ``T = 0``: ``[1.0]``, the plain random walk.
    The table is cached by (dt, T) and read-only."""
    if not time_scale_s > 0.0:
        one = np.ones(1)
        one.setflags(write=False)
        return one
    r = dt_s / time_scale_s
    c = -np.expm1(-r) / r  # (T/dt)(1 - q), in (0, 1); q^j = exp(-r j)
    # c q^j < 2 tol <=> 1 - g < tol (to first order)
    n = int(np.ceil(np.log(2.0 * HORIZONTAL_GAIN_TOLERANCE / c) / -r)) + 1 if c > 2.0 * HORIZONTAL_GAIN_TOLERANCE else 1
    n = min(max(n, 1), HORIZONTAL_GAIN_MAX)
    j = np.arange(n, dtype=np.float64)
    gain = np.sqrt(-np.expm1(np.log(c) - r * j))
    gain.setflags(write=False)
    return gain


@dataclass
class StepPhysics:
    """Constants of one kernel call (SI units)."""

    dt_s: float
    kh_m2_s: float = 0.0
    kz_m2_s: float = 0.0
    mixing_height_m: float = 1000.0
    decay_rate_s: float = 0.0
    seed: int = 0
    #: vertical K above the boundary layer when the met carries one [m2 s-1]
    kz_free_m2_s: float = 0.1
    #: dry deposition velocity [m s-1]
    dry_velocity_m_s: float = 0.0
    #: wet scavenging coefficient Lambda = a P^b [s-1] (P in mm h-1): a [s-1] and b
    scavenging_a_s: float = 0.0
    scavenging_b: float = 0.0
    #: dry deposition by Wesely's resistance model from the met's u* and 1/L (instead of
    #: ``dry_velocity_m_s``); None: off
    resistance: ResistanceModel | None = None
    #: horizontal Lagrangian time scale T_L [s]: a particle's horizontal random walk grows
    #: as Taylor's (1921) spread for an exponential autocorrelation (see
    #: :func:`horizontal_gain`); 0: the plain random walk with ``kh_m2_s`` from birth
    kh_time_scale_s: float = 0.0

    def horizontal_gain(self) -> NDArray[np.float64]:
        """The factor on the horizontal random walk's deviates by a particle's age in
        steps (:func:`horizontal_gain`; ``[1.0]`` for the plain random walk)."""
        return horizontal_gain(self.dt_s, self.kh_time_scale_s)

    @property
    def deposits(self) -> bool:
        """Dry deposition or wet scavenging is on."""
        return self.dry_velocity_m_s > 0.0 or self.scavenging_a_s > 0.0 or self.resistance is not None

    def resistance_args(self, wind: WindGrid) -> tuple[int, float, bool, NDArray[np.float64]]:
        """What the compiled kernels take of :attr:`resistance` on ``wind``: whether the
        model is on (1; 2: v_d from the grid's ``dry_velocity``, in the packed surface
        fields' irradiance slot), its ``u* r_b``, whether r_c comes from the met's
        radiation and temperature, and its (3, 14) table; 0, 0, False and zeros without it."""
        res = self.resistance
        if res is None:
            return 0, 0.0, False, np.zeros((bl.SEASON_BANDS, bl.BAND_WIDTH))
        if res.per_cell:
            if wind.dry_velocity is None and wind.surface is not None:
                raise ValueError("the resistance model of the cells needs WindGrid.dry_velocity "
                                 "(RunWinds.use_cell_deposition)")
            return 2, res.laminar_factor, False, res.array()
        return 1, res.laminar_factor, res.uses_met_stomata(wind), res.array()


@dataclass(frozen=True)
class ResistanceModel:
    """Wesely's (1989) resistance model as the kernels apply it: the dry deposition
    velocity ``1 / (r_a + r_b + r_c)`` with r_a from the met's u* and 1/L at the particle
    (:func:`plumecast.transport.boundary_layer.dry_velocity`), on the land-water mosaic
    where the table has a water r_c (:func:`~plumecast.transport.boundary_layer.dry_velocity_mosaic`,
    with the met's or the map's ``WindGrid.land``)."""

    #: :data:`~plumecast.transport.boundary_layer.BAND_WIDTH` (14) floats for each latitude
    #: band of the seasons (north of the tropics, the tropics, south of them:
    #: :func:`plumecast.transport.boundary_layer.season_band`): r_c of the land use at the
    #: declared radiation and temperature [s m-1], its six terms
    #: (:func:`plumecast.transport.drydep.resistance_terms`), r_c of water (0 in every band:
    #: no mosaic, the land use everywhere), its six terms
    table: tuple[float, ...]
    #: ``u* r_b`` of the gas (:func:`plumecast.transport.drydep.laminar_factor`) [-]
    laminar_factor: float
    #: r_c from the met's radiation and surface temperature at each particle (the terms)
    #: where the met carries both (``WindGrid.stomata``); False: the declared r_c
    met_stomata: bool = False
    #: v_d from each cell's mix of land uses on the met grid (``WindGrid.dry_velocity``,
    #: :mod:`plumecast.transport.deposition_cells`) instead of the table; the table then
    #: serves the notes only
    per_cell: bool = False

    def __post_init__(self) -> None:
        width = bl.SEASON_BANDS * bl.BAND_WIDTH
        if len(self.table) != width:
            raise ValueError(f"a resistance table holds {width} values (3 bands x 14), not {len(self.table)}")
        t = self.array()
        # the terms may be infinite (a path closed: drydep.resistance_terms), the two r_c may not
        if np.isnan(t).any() or not (np.all(np.isfinite(t[:, 0])) and np.all(t[:, 0] > 0.0)):
            raise ValueError(f"the resistance table needs a finite, positive land r_c in every band and no NaN: {t[:, 0]}")
        if not np.all(np.isfinite(t[:, 7])):
            raise ValueError(f"the water r_c of the mosaic is finite: {t[:, 7]}")
        if not (np.all(t[:, 7] > 0.0) or np.all(t[:, 7] == 0.0)):
            raise ValueError(f"the water r_c of the mosaic is positive in every band or in none: {t[:, 7]}")

    @classmethod
    def uniform(cls, surface_resistance_s_m: float, laminar_factor: float, terms: tuple[float, ...] = (0.0,) * 6,
                water_resistance_s_m: float = 0.0, water_terms: tuple[float, ...] = (0.0,) * 6,
                met_stomata: bool = False) -> ResistanceModel:
        """The same values in every band (one season everywhere)."""
        row = (surface_resistance_s_m, *terms, water_resistance_s_m, *water_terms)
        return cls(tuple(float(x) for x in row) * bl.SEASON_BANDS, laminar_factor, met_stomata)

    def array(self) -> NDArray[np.float64]:
        """:attr:`table` as a (3, 14) array."""
        return np.array(self.table, np.float64).reshape(bl.SEASON_BANDS, bl.BAND_WIDTH)

    @property
    def mosaic(self) -> bool:
        """The land-water mosaic is on (a water r_c)."""
        return self.table[7] > 0.0

    def uses_met_stomata(self, wind: WindGrid) -> bool:
        """r_c comes from ``wind``'s radiation and temperature at each particle."""
        return self.met_stomata and wind.stomata is not None


@dataclass
class OutputSampler:
    """Accumulates particle mass below ``layer_depth_m`` in output-grid cells.

    ``acc`` (lat, lon) float64 holds the sum over sampled steps of the mass in each
    cell [kg]; the orchestrator divides by the number of samples, the cell area and
    the layer depth to obtain a mean concentration.
    """

    lon0: float
    dlon: float
    nlon: int
    lat0: float
    dlat: float
    nlat: int
    layer_depth_m: float
    acc: NDArray[np.float64]
    #: per-particle emission tag (see plumecast.exposure) when ``acc`` is
    #: ``(tag, lat, lon)``: each tag's mass is accumulated apart (CPU backends only)
    particle_tag: NDArray[np.int32] | None = None
    #: (lat, lon) float64: mass removed by dry deposition and wet scavenging [kg],
    #: added in the cell of the particle's position at the end of the step (any height)
    deposited: NDArray[np.float64] | None = None

    @property
    def n_tags(self) -> int:
        return 1 if self.particle_tag is None else int(self.acc.shape[0])

    @property
    def float_params(self) -> NDArray[np.float64]:
        return np.array([self.lon0, self.dlon, self.lat0, self.dlat, self.layer_depth_m], np.float64)

    @property
    def int_params(self) -> NDArray[np.int64]:
        return np.array([self.nlon, self.nlat], np.int64)


def lonlat_to_xyz(lon_deg: NDArray[np.float64], lat_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    lam = np.deg2rad(lon_deg)
    phi = np.deg2rad(lat_deg)
    c = np.cos(phi)
    return np.stack([c * np.cos(lam), c * np.sin(lam), np.sin(phi)])


def xyz_to_lonlat(p: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon = np.rad2deg(np.arctan2(p[1], p[0]))
    lat = np.rad2deg(np.arcsin(np.clip(p[2], -1.0, 1.0)))
    return lon, lat


def _normalise(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return p / np.sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2])


def _corners(
    wind: WindGrid, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[tuple[Any, ...], NDArray[np.bool_]]:
    """Grid corners ``(j0, j1, i0, i1)`` and weights ``(a, b)`` of the bilinear
    interpolation at (lon, lat), and a mask of points inside the domain."""
    fi = (lon - wind.lon0) / wind.dlon
    inside = np.ones(lon.shape, bool)
    if wind.global_lon:
        fi = fi - np.floor(fi / wind.nlon) * wind.nlon
    else:
        inside &= (fi >= 0.0) & (fi <= wind.nlon - 1)
        fi = np.clip(fi, 0.0, wind.nlon - 1)
    i0 = np.minimum(np.floor(fi).astype(np.int64), wind.nlon - 1)
    a = fi - i0
    i1 = i0 + 1
    i1 = np.where(i1 >= wind.nlon, 0 if wind.global_lon else wind.nlon - 1, i1)
    fj = (lat - wind.lat0) / wind.dlat
    if not wind.polar_south:
        inside &= fj >= 0.0
    if not wind.polar_north:
        inside &= fj <= wind.nlat - 1
    fj = np.clip(fj, 0.0, wind.nlat - 1)
    j0 = np.minimum(np.floor(fj).astype(np.int64), wind.nlat - 1)
    b = fj - j0
    j1 = np.minimum(j0 + 1, wind.nlat - 1)
    return (j0, j1, i0, i1, a, b), inside


def _bilinear(g: NDArray[np.float32], lev: Any, cn: tuple[Any, ...]) -> NDArray[np.float64]:
    """Bilinear interpolation of the (level, lat, lon) field ``g`` on level(s) ``lev``."""
    j0, j1, i0, i1, a, b = cn
    return (1 - b) * ((1 - a) * g[lev, j0, i0] + a * g[lev, j0, i1]) + b * ((1 - a) * g[lev, j1, i0] + a * g[lev, j1, i1])


def _bilinear_levels(g: NDArray[np.float32], lev: NDArray[np.int64], upper: NDArray[np.int64],
                     c_up: NDArray[np.float64], cn: tuple[Any, ...]) -> NDArray[np.float64]:
    """Bilinear interpolation of the (level, lat, lon) field ``g`` between levels ``lev``
    and ``upper`` (weight ``c_up`` of the upper one): each corner's two levels blended
    first, ``(1 - c) g_l + c g_u`` (where ``c`` > 0), then the corners."""
    j0, j1, i0, i1, a, b = cn

    def at(j: NDArray[np.int64], i: NDArray[np.int64]) -> NDArray[np.float64]:
        lo = g[lev, j, i].astype(np.float64)
        return np.where(c_up > 0.0, (1.0 - c_up) * lo + c_up * g[upper, j, i], lo)

    return (1 - b) * ((1 - a) * at(j0, i0) + a * at(j0, i1)) + b * ((1 - a) * at(j1, i0) + a * at(j1, i1))


def level_weights(
    wind: WindGrid, z: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Where a height ``z`` [m] takes its wind from: the lower level ``l``, the weight
    ``c`` of the level above it (linear in height) and the log-law factor ``f``.

    Between levels ``l`` and ``l + 1``: ``c = (z - z_l) / (z_{l+1} - z_l)``, ``f = 1``.
    Above the top level: the top level (``c = 0``). Below the lowest level: the lowest
    level scaled by the neutral surface-layer log law, ``f = ln(max(z, z0) / z0) /
    ln(z_0m / z0)`` (Stull 1988, An Introduction to Boundary Layer Meteorology, sect.
    9.7.1, eq. 9.7.1d; zero at and below the roughness length). With one level (``nz
    == 1``) its wind applies at every height: ``l = 0``, ``c = 0``, ``f = 1``.
    """
    n = z.size
    if wind.nz == 1:
        return np.zeros(n, np.int64), np.zeros(n), np.ones(n)
    zm, inv_dz, _, fpar = wind.level_params()
    nz = zm.size
    lev = np.clip(np.searchsorted(zm, z, side="right") - 1, 0, nz - 2)
    c = (z - zm[lev]) * inv_dz[lev]
    top = z >= zm[-1]
    below = z < zm[0]
    lev = np.where(top, nz - 1, lev)
    c = np.where(top | below, 0.0, c)
    z0 = fpar[2]
    f = np.where(below, np.log(np.maximum(z, z0) / z0) * fpar[1], 1.0)
    return lev, c, f


def interpolate_wind(
    wind: WindGrid, k: int, w: float, lon: NDArray[np.float64], lat: NDArray[np.float64],
    levels: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]] | None = None,
    vertical: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Bilinear, linear-in-time interpolation of the Cartesian wind. Returns the
    (3, n) velocity [m s-1] (with ``vertical``, (4, n): the vertical velocity
    ``wind.w`` last) and a mask of points inside the domain.

    ``levels``: the particles' ``(l, c, f)`` of :func:`level_weights` (None: level 0,
    the single-level case). On each record the wind of each grid corner is combined
    from levels ``l`` and ``l + 1``, ``(1 - c) v_l + c v_{l+1}``, then interpolated
    bilinearly, then the two records linearly in time, then scaled by ``f`` (the order of
    the compiled kernels, whose midpoint reuses the start's corner values: see
    ``kernels_numba_batch._mid_wind_slots``)."""
    cn, inside = _corners(wind, lon, lat)
    k1 = min(k + 1, wind.vec.shape[0] - 1)
    fields = [wind.vec[:, :, c] for c in range(3)]
    if vertical:
        if wind.w is None:
            raise ValueError("interpolate_wind(vertical=True) needs a WindGrid with w")
        fields.append(wind.w)
    lev: Any = 0
    c_up: Any = None
    upper: Any = None
    if levels is not None and wind.nz > 1:
        lev, c_up, _ = levels
        upper = np.minimum(lev + 1, wind.nz - 1)
    out = np.empty((len(fields), lon.size))
    for q, f in enumerate(fields):
        v = []
        for kk in (k, k1):
            g = f[kk]
            if upper is None:
                v.append(_bilinear(g, lev, cn))
            else:  # each corner's two levels first
                v.append(_bilinear_levels(g, lev, upper, c_up, cn))
        out[q] = (1.0 - w) * v[0] + w * v[1]
    if upper is not None:
        assert levels is not None
        out *= levels[2]
    return out, inside


def interpolate_surface(
    wind: WindGrid, k: int, w: float, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The boundary-layer fields of ``wind.surface`` (:data:`SURFACE_FIELDS` order)
    at the points, bilinear in space and linear in time: (5, n)."""
    assert wind.surface is not None
    return _fields_at(wind, wind.surface, k, w, lon, lat)


def surface_inside(
    wind: WindGrid, k: int, w: float, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """:func:`interpolate_surface` and a mask of the points inside the domain."""
    assert wind.surface is not None
    cn, inside = _corners(wind, lon, lat)
    return _fields_at(wind, wind.surface, k, w, lon, lat, cn), inside


def interpolate_stomata(
    wind: WindGrid, k: int, w: float, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``wind.stomata`` (solar irradiance, surface temperature) at the points, as
    :func:`interpolate_surface`: (2, n)."""
    assert wind.stomata is not None
    return _fields_at(wind, wind.stomata, k, w, lon, lat)


def _fields_at(wind: WindGrid, fields: NDArray[np.float32], k: int, w: float, lon: NDArray[np.float64],
               lat: NDArray[np.float64], cn: tuple[Any, ...] | None = None) -> NDArray[np.float64]:
    """(time, field, lat, lon) ``fields`` on the grid of ``wind`` at the points, bilinear
    in space and linear in time between records ``k`` and ``k + 1`` (weight ``w``);
    ``cn``: the points' corners (:func:`_corners`), when the caller has them."""
    if cn is None:
        cn, _ = _corners(wind, lon, lat)
    k1 = min(k + 1, fields.shape[0] - 1)
    out = np.empty((fields.shape[1], lon.size))
    for q in range(out.shape[0]):
        v0 = _bilinear(fields[k], q, cn)
        v1 = _bilinear(fields[k1], q, cn)
        out[q] = (1.0 - w) * v0 + w * v1
    return out


#: Below this latitude the midpoint of a step is found in the local tangent plane. [deg]
TANGENT_MIDPOINT_MAX_LAT = 80.0


def midpoint(
    p: NDArray[np.float64], lon: NDArray[np.float64], lat: NDArray[np.float64], v: NDArray[np.float64], half: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Where the midpoint rule samples the wind, and the point whose tangent plane
    the midpoint velocity is projected on. ``half = dt / 2R``. [rad per (m s-1)]

    Away from the poles (|lat| < 80 deg) the midpoint is a step of the eastward and
    northward velocity components in the local tangent plane,
    ``lon_m = lon + u dt / (2 R cos lat)``, ``lat_m = lat + v dt / (2 R)``, and the
    projection uses the start point: both differ from the great-circle midpoint by
    O(dt^2), which keeps the scheme second order and avoids the atan2/asin of the
    exact midpoint (a quarter of the cost of a step on the CPU). Near the poles,
    where 1/cos(lat) is large, the midpoint is the exact one on the sphere,
    ``N(p + V dt / 2R)``, with its own tangent plane.
    """
    rh = np.sqrt(p[0] * p[0] + p[1] * p[1])
    near = (lat >= TANGENT_MIDPOINT_MAX_LAT) | (lat <= -TANGENT_MIDPOINT_MAX_LAT)
    inv = 1.0 / np.where(near, 1.0, rh)
    ue = (p[0] * v[1] - p[1] * v[0]) * inv
    vn = v[2] * rh - (v[0] * p[0] + v[1] * p[1]) * p[2] * inv
    lon_t = lon + ue * half * inv * (180.0 / np.pi)
    lat_t = lat + vn * half * (180.0 / np.pi)
    if not np.any(near):
        return p, lon_t, lat_t
    pm = _normalise(p + _tangent(v, p) * half)
    lon_e, lat_e = xyz_to_lonlat(pm)
    return np.where(near, pm, p), np.where(near, lon_e, lon_t), np.where(near, lat_e, lat_t)


#: Below this latitude the lon/lat of a step's end point are found by expansion. [deg]
EXPANSION_MAX_LAT = 60.0


def end_lonlat(
    p: NDArray[np.float64], lon: NDArray[np.float64], lat: NDArray[np.float64], d: NDArray[np.float64],
    pn: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lon/lat of the end point ``pn = N(p + d)`` of a step, for the next wind lookup.

    ``d`` is the step's displacement on the unit sphere, tangent at ``p``. Below
    |lat| = 60 deg the second-order expansion of the great-circle destination,
    ``lat' = lat + d_n - d_e^2 tan(lat) / 2``, ``lon' = lon + (d_e + d_e d_n tan(lat)) /
    cos(lat)`` (d_e, d_n the eastward and northward components), replaces atan2 and
    asin; its O(d^3) error keeps the lookup point within metres of the particle over a
    call (the particle's position itself, ``pn``, is exact and is converted exactly
    when the call ends). Elsewhere the exact conversion.
    """
    rh = np.sqrt(p[0] * p[0] + p[1] * p[1])
    far = (lat >= EXPANSION_MAX_LAT) | (lat <= -EXPANSION_MAX_LAT)
    inv = 1.0 / np.where(far, 1.0, rh)
    tphi = p[2] * inv
    de = (p[0] * d[1] - p[1] * d[0]) * inv
    dn = d[2] * rh - (d[0] * p[0] + d[1] * p[1]) * p[2] * inv
    lon_t = lon + (de + de * dn * tphi) * inv * (180.0 / np.pi)
    lat_t = lat + (dn - 0.5 * de * de * tphi) * (180.0 / np.pi)
    lon_t = np.where(lon_t >= 180.0, lon_t - 360.0, np.where(lon_t < -180.0, lon_t + 360.0, lon_t))
    if not np.any(far):
        return lon_t, lat_t
    lon_e, lat_e = xyz_to_lonlat(pn)
    return np.where(far, lon_e, lon_t), np.where(far, lat_e, lat_t)


def inside_domain(wind: WindGrid, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Mask of points inside the wind grid (always true on a global grid)."""
    inside = np.ones(np.shape(lon), bool)
    if not wind.global_lon:
        fi = (lon - wind.lon0) / wind.dlon
        inside &= (fi >= 0.0) & (fi <= wind.nlon - 1)
    fj = (lat - wind.lat0) / wind.dlat
    if not wind.polar_south:
        inside &= fj >= 0.0
    if not wind.polar_north:
        inside &= fj <= wind.nlat - 1
    return inside


def _tangent(v: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    d = v[0] * p[0] + v[1] * p[1] + v[2] * p[2]
    return v - d * p


def advance(
    particles: Particles,
    wind: WindGrid,
    physics: StepPhysics,
    step0: int,
    nsteps: int,
    sampler: OutputSampler | None = None,
    receptors: Any = None,
    removed: NDArray[np.float64] | None = None,
) -> float:
    """Advance ``particles`` in place through steps ``step0 .. step0 + nsteps - 1``.

    Returns the mass removed by decay during these steps. [kg] ``receptors``: an
    :class:`plumecast.exposure.ExposureSampler` given the exact particle positions
    after every step. ``removed``: a (2,) float64 array to which the mass removed by
    dry deposition and by wet scavenging [kg] is added.
    """
    dt = physics.dt_s
    k0, w0, km, wm = wind.step_weights(dt, step0, nsteps)
    decay_factor = np.exp(-physics.decay_rate_s * dt)
    sig_h = np.sqrt(2.0 * physics.kh_m2_s * dt)
    gain = physics.horizontal_gain() if physics.kh_m2_s > 0.0 else np.ones(1)
    sig_z = np.sqrt(2.0 * physics.kz_m2_s * dt)
    h = physics.mixing_height_m
    three_d = wind.three_d or physics.deposits
    has_w = wind.w is not None
    has_sfc = wind.surface is not None
    keys_all = rng.particle_keys(physics.seed, np.arange(len(particles), dtype=np.int64))
    decayed = 0.0
    # the state within a call: exact positions P on the sphere, and the lon/lat used
    # for the wind lookups (LON, LAT; see end_lonlat); stored lon/lat are converted
    # exactly from P at the end of the call
    touched = (particles.birth_step < step0 + nsteps) & (particles.status == STATUS_ACTIVE)
    P = lonlat_to_xyz(particles.lon, particles.lat)
    LON = particles.lon.copy()
    LAT = particles.lat.copy()
    start = (particles.lon, particles.lat)  # the particles' places at each step's start (the receptors' ways)
    for s in range(nsteps):
        step = step0 + s
        idx = np.nonzero((particles.birth_step <= step) & (particles.status == STATUS_ACTIVE))[0]
        if idx.size == 0:
            continue
        lon = LON[idx]
        lat = LAT[idx]
        p = P[:, idx]
        z = particles.z[idx].astype(np.float64)
        levels = level_weights(wind, z) if wind.nz > 1 else None
        v1, ok1 = interpolate_wind(wind, int(k0[s]), float(w0[s]), lon, lat, levels)
        if has_sfc:
            sfc = interpolate_surface(wind, int(k0[s]), float(w0[s]), lon, lat)
        pm, lonm, latm = midpoint(p, lon, lat, v1, 0.5 * dt / EARTH_RADIUS_M)
        v2, ok2 = interpolate_wind(wind, int(km[s]), float(wm[s]), lonm, latm, levels, vertical=has_w)
        w_up = v2[3] if has_w else None
        v2 = _tangent(v2[:3], pm)
        disp = v2 * dt
        keys = keys_all[idx]
        if physics.kh_m2_s > 0.0 or physics.kz_m2_s > 0.0 or has_sfc:
            xi1, xi2, xi3 = rng.normals3(keys, step)
            if gain.size > 1:  # the horizontal pair by the particles' ages (horizontal_gain)
                g = gain[np.clip(step - particles.birth_step[idx], 0, gain.size - 1)]
                xi1 = xi1 * g
                xi2 = xi2 * g
        if physics.kh_m2_s > 0.0:
            rh = np.sqrt(p[0] * p[0] + p[1] * p[1])
            safe = rh > 1e-12
            rh_s = np.where(safe, rh, 1.0)
            e = np.where(safe, np.stack([-p[1] / rh_s, p[0] / rh_s, np.zeros_like(rh)]), np.array([[0.0], [1.0], [0.0]]))
            n = np.where(safe, np.stack([-p[2] * p[0] / rh_s, -p[2] * p[1] / rh_s, rh]), np.array([[-1.0], [0.0], [0.0]]))
            disp = disp + sig_h * (xi1 * e + xi2 * n)
        pn = _normalise(p + disp / EARTH_RADIUS_M)
        lon_n, lat_n = end_lonlat(p, lon, lat, disp / EARTH_RADIUS_M, pn)
        ok = ok1 & ok2 & inside_domain(wind, lon_n, lat_n)
        if w_up is not None:
            z = np.abs(z + w_up * dt)  # vertical advection, reflected at the ground
        if has_sfc:
            with np.errstate(over="ignore"):
                base = keys + np.uint64(step) * rng.STEP_MULT
            z = bl.vertical_step_array(z, sfc[0], sfc[1], sfc[2], sfc[3], physics.kz_m2_s, physics.kz_free_m2_s,
                                       dt, xi3, base)
        elif physics.kz_m2_s > 0.0:
            mixed = z <= h
            z = np.where(mixed, fold_into_layer(z + sig_z * xi3, h), z)
        if three_d:
            z = z.astype(np.float32).astype(np.float64)  # the state is float32
        m = particles.mass[idx]
        mn = m * decay_factor
        decayed += float(np.sum(np.where(ok, m - mn, 0.0)))
        if physics.deposits:
            vd: Any = physics.dry_velocity_m_s
            res = physics.resistance
            if res is not None and res.per_cell and has_sfc:
                if wind.dry_velocity is None:
                    raise ValueError("the resistance model of the cells needs WindGrid.dry_velocity")
                vd = _fields_at(wind, wind.dry_velocity[:, None], int(k0[s]), float(w0[s]), lon, lat)[0]
            elif res is not None and has_sfc:
                tab = res.array()[bl.season_band_array(lat)]  # the band's row per particle
                rc: Any = tab[:, 0]
                rcw: Any = tab[:, 7]
                met_rc = res.uses_met_stomata(wind)
                if met_rc:
                    g, t_s = interpolate_stomata(wind, int(k0[s]), float(w0[s]), lon, lat)
                    rc = bl.surface_resistance_met_array(g, t_s, *tab[:, 1:7].T)
                if res.mosaic:
                    if met_rc:
                        rcw = bl.surface_resistance_met_array(g, t_s, *tab[:, 8:14].T)
                    land = (np.ones(lon.size) if wind.land is None else
                            _fields_at(wind, wind.land[None, None], 0, float(w0[s]), lon, lat)[0])
                    vd = bl.dry_velocity_mosaic_array(sfc[1], sfc[2], wind.roughness_length_m, rc, rcw, land,
                                                      res.laminar_factor)
                else:
                    vd = bl.dry_velocity_array(sfc[1], sfc[2], wind.roughness_length_m, rc, res.laminar_factor)
            f_dry, f_wet = bl.removal_factors_array(
                z, sfc[0] if has_sfc else np.full(z.shape, h), vd,
                sfc[4] if has_sfc else np.zeros(z.shape), physics.scavenging_a_s, physics.scavenging_b, dt)
            md = mn * f_dry
            mw = md * f_wet
            if removed is not None:
                removed[0] += float(np.sum(np.where(ok, mn - md, 0.0)))
                removed[1] += float(np.sum(np.where(ok, md - mw, 0.0)))
            if sampler is not None and sampler.deposited is not None:
                _add_to_grid(sampler, sampler.deposited, lon_n[ok], lat_n[ok], (mn - mw)[ok])
            mn = mw
        # particles that left the domain stop at their last position inside it
        P[:, idx] = np.where(ok, pn, p)
        LON[idx] = np.where(ok, lon_n, lon)
        LAT[idx] = np.where(ok, lat_n, lat)
        particles.z[idx] = np.where(ok, z, particles.z[idx]).astype(np.float32)
        particles.mass[idx] = np.where(ok, mn, m)
        particles.status[idx] = np.where(ok, STATUS_ACTIVE, STATUS_EXITED).astype(np.int8)
        if sampler is not None:
            sel = ok & (z < sampler.layer_depth_m)
            tags = None if sampler.particle_tag is None else sampler.particle_tag[idx][sel]
            _sample(sampler, lon_n[sel], lat_n[sel], mn[sel], tags)
        if receptors is not None:
            lon_e, lat_e = particles.lon.copy(), particles.lat.copy()
            lon_e[idx], lat_e[idx] = xyz_to_lonlat(P[:, idx])
            receptors.sample(lon_e, lat_e, particles.z, particles.mass, particles.birth_step, particles.status, step,
                             receptors.wind_at, lon0=start[0], lat0=start[1])
            start = (lon_e, lat_e)
    lon_x, lat_x = xyz_to_lonlat(P[:, touched])
    particles.lon[touched] = lon_x
    particles.lat[touched] = lat_x
    return decayed


def east_of(lon: NDArray[np.float64], lon0: float) -> NDArray[np.float64]:
    """Degrees east of ``lon0`` of longitudes in -180..180, in 0..360: a point west of
    ``lon0`` is 360 degrees less that far east (so that a particle at -175 lands in a
    grid from 170 across the antimeridian; on a grid that does not cross it, such a point
    stays off the grid). Points 0..360 east are unchanged, bit for bit."""
    x = lon - lon0
    return np.where(x < 0.0, x + 360.0, np.where(x >= 360.0, x - 360.0, x))


def _add_to_grid(sampler: OutputSampler, grid: NDArray[np.float64], lon: NDArray[np.float64],
                 lat: NDArray[np.float64], mass: NDArray[np.float64]) -> None:
    """Add ``mass`` to the (lat, lon) cells of the sampler's grid ``grid``."""
    i = np.floor(east_of(lon, sampler.lon0) / sampler.dlon).astype(np.int64)
    j = np.floor((lat - sampler.lat0) / sampler.dlat).astype(np.int64)
    keep = (i >= 0) & (i < sampler.nlon) & (j >= 0) & (j < sampler.nlat)
    grid += np.bincount(j[keep] * sampler.nlon + i[keep], weights=mass[keep],
                        minlength=sampler.nlat * sampler.nlon).reshape(sampler.nlat, sampler.nlon)


def _sample(sampler: OutputSampler, lon: NDArray[np.float64], lat: NDArray[np.float64], mass: NDArray[np.float64],
            tags: NDArray[np.int32] | None = None) -> None:
    fi = east_of(lon, sampler.lon0) / sampler.dlon
    fj = (lat - sampler.lat0) / sampler.dlat
    i = np.floor(fi).astype(np.int64)
    j = np.floor(fj).astype(np.int64)
    keep = (i >= 0) & (i < sampler.nlon) & (j >= 0) & (j < sampler.nlat)
    flat = j[keep] * sampler.nlon + i[keep]
    if tags is None:
        sampler.acc += np.bincount(flat, weights=mass[keep], minlength=sampler.nlat * sampler.nlon).reshape(
            sampler.nlat, sampler.nlon
        )
        return
    cells = sampler.nlat * sampler.nlon
    flat = flat + tags[keep].astype(np.int64) * cells
    sampler.acc += np.bincount(flat, weights=mass[keep], minlength=sampler.n_tags * cells).reshape(
        sampler.n_tags, sampler.nlat, sampler.nlon
    )
