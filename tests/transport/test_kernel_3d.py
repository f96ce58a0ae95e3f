"""The transport kernels with winds on levels, vertical motion, a boundary layer from
the met and deposition: analytic cases on synthetic WindGrids, NumPy/Numba agreement,
and the mass budget."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from plumecast.errors import MetDataError
from plumecast.met import benchmark_wind, uniform_wind
from plumecast.transport.kernels_numpy import (
    OutputSampler,
    ResistanceModel,
    StepPhysics,
    lonlat_to_xyz,
)
from plumecast.transport.lagrangian import get_kernel
from plumecast.transport.particles import STATUS_ACTIVE, STATUS_EXITED, Particles
from plumecast.transport.windgrid import SURFACE_FIELDS, WindGrid, wind_grid
from plumecast.units import EARTH_RADIUS_M
from tests.conftest import CPU_BACKENDS
from tests.helpers import assert_matches_oracle


def _great_circle_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(a, float) for a in (lon1, lat1, lon2, lat2)))
    p = lonlat_to_xyz(lon1, lat1)
    q = lonlat_to_xyz(lon2, lat2)
    cross = np.linalg.norm(np.cross(p.T, q.T), axis=1)
    return EARTH_RADIUS_M * np.arctan2(cross, np.sum(p * q, axis=0))


def _grid(u, v, z_m, *, w=None, surface=None, times_s=(0.0,), res=2.0, z0=0.1, region=None):
    """A WindGrid from eastward/northward winds ``u``, ``v`` of shape (time, nz, lat,
    lon) (or broadcastable to it) on heights ``z_m``; ``region`` = (lon0, lon1, lat0,
    lat1) for a regional grid, else global."""
    if region is None:
        lon = np.arange(-180.0, 180.0, res)
        lat = np.arange(-90.0, 90.0 + res / 2, res)
    else:
        lon = np.arange(region[0], region[1] + res / 2, res)
        lat = np.arange(region[2], region[3] + res / 2, res)
    nt, nz = len(times_s), len(z_m)
    shape = (nt, nz, lat.size, lon.size)
    u = np.broadcast_to(np.asarray(u, float), shape)
    v = np.broadcast_to(np.asarray(v, float), shape)
    lam = np.deg2rad(lon)[None, None, None, :]
    phi = np.deg2rad(lat)[None, None, :, None]
    vec = np.empty((nt, nz, 3, lat.size, lon.size), np.float32)
    vec[:, :, 0] = -u * np.sin(lam) - v * np.sin(phi) * np.cos(lam)
    vec[:, :, 1] = u * np.cos(lam) - v * np.sin(phi) * np.sin(lam)
    vec[:, :, 2] = v * np.cos(phi)
    if w is not None:
        w = np.ascontiguousarray(np.broadcast_to(np.asarray(w, float), shape), np.float32)
    if surface is not None:
        surface = np.ascontiguousarray(
            np.broadcast_to(np.asarray(surface, float), (nt, len(SURFACE_FIELDS), lat.size, lon.size)), np.float32)
    global_lon = region is None
    return WindGrid(vec=vec, times_s=np.asarray(times_s, float), lon0=float(lon[0]), dlon=res, nlon=lon.size,
                    lat0=float(lat[0]), dlat=res, nlat=lat.size, global_lon=global_lon,
                    polar_south=global_lon, polar_north=global_lon, z_m=np.asarray(z_m, float), w=w,
                    surface=surface, roughness_length_m=z0)


def _particles(lon, lat, z, mass=1.0, birth=0):
    lon = np.atleast_1d(np.asarray(lon, float))
    p = Particles.empty(lon.size)
    p.lon[:] = lon
    p.lat[:] = np.broadcast_to(lat, lon.shape)
    p.z[:] = np.broadcast_to(z, lon.shape)
    p.mass[:] = np.broadcast_to(mass, lon.shape)
    p.birth_step[:] = np.broadcast_to(birth, lon.shape)
    return p


def _column(shape_levels, values):
    """Per-level values as a (1, nz, 1, 1) array, broadcast over time and space."""
    return np.asarray(values, float).reshape(1, shape_levels, 1, 1)


Z_LEVELS = [10.0, 100.0, 500.0, 1000.0, 2000.0, 4000.0]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_vertical_shear_separates_particles_at_delta_u_t(backend):
    """u grows linearly with height (u = z / 100 m s-1 between the levels, where linear
    interpolation is exact): particles at 300 m and 1500 m drift apart at
    du = 12 m s-1, each at its own u."""
    z = np.asarray(Z_LEVELS)
    grid = _grid(_column(z.size, z / 100.0), 0.0, z)
    lon0 = np.array([-40.0, -40.0, 20.0, 20.0])
    heights = np.array([300.0, 1500.0, 300.0, 1500.0])
    p = _particles(lon0, 0.0, heights)
    dt, n = 600.0, 144
    get_kernel(backend)(p, grid, StepPhysics(dt_s=dt), 0, n)
    t = dt * n
    moved = _great_circle_m(lon0, 0.0, p.lon, p.lat)
    # (1e-3: bilinear interpolation of the Cartesian node vectors shortens them by up to
    # 1 - cos(1 deg) between 2 deg nodes, as in tests/test_transport.py)
    np.testing.assert_allclose(moved, heights / 100.0 * t, rtol=1e-3)
    apart = _great_circle_m(p.lon[0::2], p.lat[0::2], p.lon[1::2], p.lat[1::2])
    np.testing.assert_allclose(apart, (1500.0 - 300.0) / 100.0 * t, rtol=1e-3)
    np.testing.assert_array_equal(p.z, heights.astype(np.float32))  # no vertical motion without w or K_z


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_uniform_updraft_lifts_particles_by_w_t(backend):
    z = np.asarray(Z_LEVELS)
    grid = _grid(3.0, 0.0, z, w=0.02)
    p = _particles(np.linspace(-100, 100, 9), 10.0, 150.0)
    dt, n = 300.0, 96
    get_kernel(backend)(p, grid, StepPhysics(dt_s=dt), 0, n)
    # above the lowest level, where w is not reduced by the log law
    np.testing.assert_allclose(p.z, 150.0 + 0.02 * dt * n, rtol=1e-5)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_subsidence_reflects_at_the_ground(backend):
    """Sinking air carries particles down to the ground, where they are reflected,
    never below it."""
    grid = _grid(0.0, 0.0, [50.0, 1000.0], w=-0.5)
    p = _particles(np.zeros(3), 0.0, np.array([60.0, 200.0, 400.0]))
    get_kernel(backend)(p, grid, StepPhysics(dt_s=60.0), 0, 60)
    assert np.all(p.z >= 0.0)
    assert np.all(p.z < 60.0)  # all reached the surface layer, where w fades by the log law


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_log_law_below_the_lowest_level(backend):
    """Below z_m[0] the wind is the lowest level's scaled by ln(z / z0) / ln(z_m[0] / z0)
    (Stull 1988, eq. 9.7.1d); above the top level, the top level's wind."""
    z0, zl = 0.1, 50.0
    grid = _grid(_column(3, [8.0, 14.0, 20.0]), 0.0, [zl, 500.0, 1500.0], z0=z0)
    heights = np.array([2.0, 10.0, 30.0, 0.05, 0.0, 3000.0])
    lon0 = np.linspace(-150.0, 150.0, heights.size)
    p = _particles(lon0, 0.0, heights)
    dt, n = 600.0, 72
    get_kernel(backend)(p, grid, StepPhysics(dt_s=dt), 0, n)
    u = 8.0 * np.log(np.maximum(heights, z0) / z0) / np.log(zl / z0)
    u[-1] = 20.0
    moved = _great_circle_m(lon0, 0.0, p.lon, p.lat)
    np.testing.assert_allclose(moved, u * dt * n, rtol=1e-3, atol=1e-3)
    assert moved[3] < 1e-6 and moved[4] < 1e-6  # at and below the roughness length: still air (to rounding)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_levels_with_one_wind_match_a_single_level(backend):
    """Levels that all carry the same (time-varying) wind move particles as the one
    level does, with K_h, K_z and decay on: the 3-D path reduces to the 1-level one
    (the lowest level at 1 mm, so that the log law below it never acts here)."""
    g1 = wind_grid(benchmark_wind(2.0))
    vec1 = np.concatenate([g1.vec, 0.7 * g1.vec[:, :, :, :, ::-1]])
    g1 = dataclasses.replace(g1, vec=np.ascontiguousarray(vec1), times_s=np.array([0.0, 36000.0]))
    g3 = dataclasses.replace(g1, vec=np.ascontiguousarray(np.repeat(vec1, 3, axis=1)),
                             z_m=np.array([1e-3, 300.0, 1500.0]), roughness_length_m=1e-4)
    assert g3.three_d
    rng = np.random.default_rng(4)
    lon0 = rng.uniform(-180, 180, 400)
    lat0 = rng.uniform(-70, 70, 400)
    z = rng.uniform(1.0, 2000, 400)
    z[:50] = 1e4  # above the top level
    physics = StepPhysics(dt_s=600.0, kh_m2_s=1e3, kz_m2_s=10.0, mixing_height_m=800.0, decay_rate_s=1e-5, seed=9)
    a = _particles(lon0, lat0, z)
    b = _particles(lon0, lat0, z)
    kernel = get_kernel(backend)
    da = kernel(a, g1, physics, 0, 48)
    db = kernel(b, g3, physics, 0, 48)
    np.testing.assert_array_equal(a.z, b.z)
    assert np.abs(a.lat - b.lat).max() < 1e-9
    assert np.abs((a.lon - b.lon + 180) % 360 - 180).max() < 1e-9
    np.testing.assert_allclose(db, da, rtol=1e-12)
    assert np.count_nonzero(a.z != z.astype(np.float32)) > 100  # K_z did move them (those below h)


def _surface_fields(shape_t, lat, lon):
    """Boundary-layer fields varying in space and time: mixing height 300-1500 m,
    u* 0.1-0.5, 1/L from -0.02 (unstable) to 0.01 (stable), w*, rain in a band."""
    lam = np.deg2rad(lon)[None, :]
    phi = np.deg2rad(lat)[:, None]
    out = np.empty((shape_t, len(SURFACE_FIELDS), lat.size, lon.size))
    for k in range(shape_t):
        c = np.cos(lam + 0.5 * k) * np.cos(phi)
        out[k, 0] = 900.0 + 600.0 * c
        out[k, 1] = 0.3 + 0.2 * np.sin(lam - 0.3 * k) * np.cos(phi)
        out[k, 2] = -0.005 - 0.015 * c
        out[k, 3] = np.maximum(2.0 * c, 0.0)
        out[k, 4] = np.where(np.abs(np.rad2deg(phi) - 5.0 * k) < 15.0, 4.0 * (1.0 + np.cos(lam)), 0.0)
    return out


def _met_3d(region=None):
    """A time-varying 3-D met on 8 levels with w and surface fields (2 deg grid)."""
    z = np.array([10.0, 50.0, 150.0, 400.0, 900.0, 1600.0, 3000.0, 6000.0])
    base = wind_grid(benchmark_wind(2.0))
    lon = base.lon0 + base.dlon * np.arange(base.nlon)
    lat = base.lat0 + base.dlat * np.arange(base.nlat)
    nt = 3
    times = np.array([0.0, 21600.0, 43200.0])
    # benchmark wind scaled with height, turned a little record by record
    vec = np.empty((nt, z.size, 3, base.nlat, base.nlon), np.float32)
    for k in range(nt):
        for lev in range(z.size):
            vec[k, lev] = base.vec[0, 0] * (0.4 + 0.15 * lev) * (1.0 + 0.1 * k) + (0.3 * k) * base.vec[0, 0, ::-1]
    w = (0.01 * np.sin(np.deg2rad(lon))[None, None, None, :] * np.cos(np.deg2rad(lat))[None, None, :, None]
         * (1.0 + np.arange(z.size))[None, :, None, None] * np.array([1.0, -0.5, 0.8])[:, None, None, None])
    grid = WindGrid(vec=vec, times_s=times, lon0=base.lon0, dlon=base.dlon, nlon=base.nlon, lat0=base.lat0,
                    dlat=base.dlat, nlat=base.nlat, global_lon=True, polar_south=True, polar_north=True, z_m=z,
                    w=w.astype(np.float32), surface=_surface_fields(nt, lat, lon).astype(np.float32),
                    roughness_length_m=0.05)
    if region is None:
        return grid
    # a regional cut of it, so that particles leave the domain
    i0, i1 = np.searchsorted(lon, region[0]), np.searchsorted(lon, region[1]) + 1
    j0, j1 = np.searchsorted(lat, region[2]), np.searchsorted(lat, region[3]) + 1
    return dataclasses.replace(
        grid, vec=np.ascontiguousarray(grid.vec[..., j0:j1, i0:i1]), lon0=float(lon[i0]), nlon=i1 - i0,
        lat0=float(lat[j0]), nlat=j1 - j0, global_lon=False, polar_south=False, polar_north=False,
        w=np.ascontiguousarray(w[..., j0:j1, i0:i1], np.float32),
        surface=np.ascontiguousarray(grid.surface[..., j0:j1, i0:i1]))


DEPOSITION = dict(kz_m2_s=30.0, kz_free_m2_s=0.5, dry_velocity_m_s=0.01, scavenging_a_s=1e-4, scavenging_b=0.8)


def _release(n, seed, lon=(-180.0, 180.0), lat=(-70.0, 70.0)):
    rng = np.random.default_rng(seed)
    p = _particles(rng.uniform(*lon, n), rng.uniform(*lat, n), rng.uniform(0.0, 2500.0, n),
                   mass=rng.uniform(0.5, 2.0, n), birth=rng.integers(0, 12, n))
    p.z[:20] = rng.uniform(0.0, 10.0, 20)  # in the log-law layer
    return p


def _sampler(lon0=-180.0, nlon=180, lat0=-90.0, nlat=90):
    return OutputSampler(lon0, 2.0, nlon, lat0, 2.0, nlat, 100.0, np.zeros((nlat, nlon)),
                         deposited=np.zeros((nlat, nlon)))


def test_numba_matches_numpy_with_levels_boundary_layer_and_deposition():
    grid = _met_3d()
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, decay_rate_s=2e-5, seed=5, **DEPOSITION)
    out = {}
    for backend in CPU_BACKENDS:
        p = _release(3000, seed=2)
        sampler = _sampler()
        removed = np.zeros(2)
        decayed = get_kernel(backend)(p, grid, physics, 0, 30, sampler, removed=removed)
        decayed += get_kernel(backend)(p, grid, physics, 30, 42, sampler, removed=removed)  # into the last record
        out[backend] = (p, sampler, removed, decayed)
    (a, sa, ra, _), (_, sb, _, _) = out["numpy"], out["numba"]
    assert np.all(ra > 0.0)  # both removal processes act
    assert_matches_oracle(out["numpy"], out["numba"])
    np.testing.assert_allclose(sb.deposited.sum(), sa.deposited.sum(), rtol=1e-9)
    # the particles do move in the vertical and spread through the boundary layer
    assert np.abs(a.z - _release(3000, seed=2).z).mean() > 50.0


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_mass_budget_with_deposition_decay_and_exits(backend):
    """Per call: mass before = mass airborne after + decayed + deposited + carried out
    of the domain, to 1e-9; the deposited-mass grid holds what was deposited."""
    grid = _met_3d(region=(-40.0, 40.0, -30.0, 30.0))
    physics = StepPhysics(dt_s=900.0, kh_m2_s=2e4, decay_rate_s=3e-5, seed=8, **DEPOSITION)
    p = _release(4000, seed=3, lon=(-38.0, 38.0), lat=(-28.0, 28.0))
    kernel = get_kernel(backend)
    sampler = _sampler(-40.0, 40, -30.0, 30)
    deposited_total = np.zeros(2)
    for step0, n in ((0, 10), (10, 30), (40, 8)):
        born = p.birth_step < step0 + n
        before = float(p.mass[born & (p.status == STATUS_ACTIVE)].sum())
        exited_before = float(p.mass[p.status == STATUS_EXITED].sum())
        removed = np.zeros(2)
        decayed = kernel(p, grid, physics, step0, n, sampler, removed=removed)
        airborne = float(p.mass[born & (p.status == STATUS_ACTIVE)].sum())
        exited = float(p.mass[p.status == STATUS_EXITED].sum()) - exited_before
        assert removed.min() > 0.0 and decayed > 0.0
        np.testing.assert_allclose(airborne + decayed + removed.sum() + exited, before, rtol=1e-9)
        deposited_total += removed
    assert np.count_nonzero(p.status == STATUS_EXITED) > 100
    np.testing.assert_allclose(sampler.deposited.sum(), deposited_total.sum(), rtol=1e-9)


#: the resistance model of dry deposition instead of a constant velocity
RESISTANCE = ResistanceModel.uniform(120.0, 6.5)
#: the rest of the physics of the runs with the resistance model: turbulence and wet scavenging
REMOVAL = dict(kz_m2_s=30.0, kz_free_m2_s=0.5, scavenging_a_s=1e-4, scavenging_b=0.8)


def test_resistance_model_refuses_a_table_it_cannot_apply():
    """The kernels' resistance table: 3 bands x 14, a positive land r_c in every band, a
    water r_c in every band or none; one season everywhere repeats the row."""
    row = RESISTANCE.array()
    assert row.shape == (3, 14) and np.all(row == row[0]) and row[0, 0] == 120.0 and not RESISTANCE.mosaic
    with pytest.raises(ValueError, match="holds 42 values"):
        ResistanceModel((120.0,) * 14, 6.5)
    for bad in (0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive land r_c"):
            ResistanceModel.uniform(bad, 6.5)
    partial = list(ResistanceModel.uniform(120.0, 6.5, water_resistance_s_m=40.0).table)
    partial[14 + 7] = 0.0  # no water in the tropics only
    with pytest.raises(ValueError, match="in every band or in none"):
        ResistanceModel(tuple(partial), 6.5)


def _with_stomata(grid):
    """``grid`` with a solar irradiance (day on one side of the globe, night on the
    other, turning from record to record) and a surface temperature (-10 to 35 degC)."""
    nt = grid.vec.shape[0]
    lon = grid.lon0 + grid.dlon * np.arange(grid.nlon)
    lat = grid.lat0 + grid.dlat * np.arange(grid.nlat)
    st = np.empty((nt, 2, grid.nlat, grid.nlon), np.float32)
    for k in range(nt):
        sun = np.cos(np.deg2rad(lon - 90.0 * k))[None, :] * np.cos(np.deg2rad(lat))[:, None]
        st[k, 0] = np.maximum(900.0 * sun, 0.0)
        st[k, 1] = 35.0 * np.cos(np.deg2rad(lat))[:, None] - 10.0 + 5.0 * sun
    return dataclasses.replace(grid, stomata=st)


def _so2_terms(land_use="agricultural", season="midsummer"):
    from plumecast.transport import drydep

    return drydep.resistance_terms(drydep.gas_constants("sulfur dioxide"), land_use, season)


def test_surface_resistance_from_the_met_is_the_hosts():
    """The kernels' r_c at a radiation and temperature (boundary_layer.surface_resistance_met
    and its NumPy twin) is drydep.surface_resistance's, exactly."""
    from plumecast.transport import boundary_layer as bl
    from plumecast.transport import drydep

    gas = drydep.gas_constants("sulfur dioxide")
    g = np.array([0.0, 0.0, 50.0, 400.0, 900.0, 900.0, 300.0])
    t = np.array([15.0, -5.0, 2.0, 25.0, 39.5, 45.0, 0.0])
    for land in drydep.LAND_USES:
        terms = drydep.resistance_terms(gas, land, "midsummer")
        host = [drydep.surface_resistance(gas, land, "midsummer", gi, ti) for gi, ti in zip(g, t, strict=True)]
        scalar = [bl.surface_resistance_met(gi, ti, *terms) for gi, ti in zip(g, t, strict=True)]
        assert scalar == host
        np.testing.assert_allclose(bl.surface_resistance_met_array(g, t, *terms), host, rtol=1e-14)
    day, night = (drydep.surface_resistance(gas, "agricultural", "midsummer", gi, 20.0) for gi in (600.0, 0.0))
    assert day < 0.5 * night  # the stomata open by day


def _near_ground_on_both_backends(grid, physics):
    """3000 particles below 40 m, born at once, 12 steps on both CPU backends: they agree."""
    out = {}
    for backend in CPU_BACKENDS:
        p = _release(3000, seed=3, lat=(-50.0, 50.0))
        p.z[:] = np.minimum(p.z, 40.0)
        p.birth_step[:] = 0
        sampler = _sampler()
        removed = np.zeros(2)
        decayed = get_kernel(backend)(p, grid, physics, 0, 12, sampler, removed=removed)
        out[backend] = (p, sampler, removed, decayed)
    assert_matches_oracle(out["numpy"], out["numba"])


def test_numba_matches_numpy_with_the_met_radiation_for_the_stomata():
    """r_c from the met's solar irradiance and temperature at each particle: both CPU
    backends agree, and SO2 deposits more under the sun (open stomata) than at night."""
    grid = _with_stomata(_met_3d())
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=6,
                          resistance=ResistanceModel.uniform(120.0, 8.6, _so2_terms(), met_stomata=True), **REMOVAL)
    _near_ground_on_both_backends(grid, physics)
    # the same particles under a sun everywhere and a night everywhere (20 degC)
    dry = []
    for sun in (600.0, 0.0):
        st = np.zeros_like(grid.stomata)
        st[:, 0], st[:, 1] = sun, 20.0
        p = _release(3000, seed=3, lat=(-50.0, 50.0))
        p.z[:] = np.minimum(p.z, 40.0)
        removed = np.zeros(2)
        get_kernel("numba")(p, dataclasses.replace(grid, stomata=st), physics, 0, 12, removed=removed)
        dry.append(removed[0])
    assert dry[0] > 1.2 * dry[1] > 0.0


def _with_land(grid):
    """``grid`` with a land fraction: land west of 0 E, water east of 60 E, a ramp between."""
    lon = grid.lon0 + grid.dlon * np.arange(grid.nlon)
    land = np.clip(1.0 - lon / 60.0, 0.0, 1.0)
    return dataclasses.replace(grid, land=np.ascontiguousarray(np.broadcast_to(
        land[None, :], (grid.nlat, grid.nlon))).astype(np.float32))


def _water_terms():
    from plumecast.transport import drydep

    gas = drydep.gas_constants("sulfur dioxide")
    return drydep.surface_resistance(gas, "water", "midsummer", 0.0, 15.0), _so2_terms("water")


@pytest.mark.parametrize("met_stomata", [False, True], ids=["declared-radiation", "met-radiation"])
def test_numba_matches_numpy_with_the_land_water_mosaic(met_stomata):
    """The water fraction of each cell deposits at water's surface resistance: both CPU
    backends agree; SO2, which water takes up fast, deposits more over water than over
    the land at night; a land fraction of 1 everywhere gives the run without the mosaic,
    bit for bit."""
    rc_w, w_terms = _water_terms()
    grid = _with_land(_with_stomata(_met_3d()) if met_stomata else _met_3d())
    model = ResistanceModel.uniform(120.0, 6.5, _so2_terms(), rc_w, w_terms, met_stomata=met_stomata)
    assert model.mosaic and not RESISTANCE.mosaic
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=6, resistance=model, **REMOVAL)
    _near_ground_on_both_backends(grid, physics)
    if met_stomata:
        return
    # all land, all water, and no mosaic (numba)
    runs = {}
    for name, land, phys in (("land", 1.0, physics), ("water", 0.0, physics),
                             ("none", 1.0, dataclasses.replace(physics, resistance=RESISTANCE))):
        p = _release(3000, seed=3, lat=(-50.0, 50.0))
        p.z[:] = np.minimum(p.z, 40.0)
        removed = np.zeros(2)
        get_kernel("numba")(p, dataclasses.replace(grid, land=np.full_like(grid.land, land)), phys, 0, 12,
                            removed=removed)
        runs[name] = (p.mass.copy(), removed)
    assert rc_w < 0.5 * RESISTANCE.table[0]
    assert runs["water"][1][0] > 1.5 * runs["land"][1][0] > 0.0
    np.testing.assert_array_equal(runs["land"][0], runs["none"][0])


def _with_cells(grid):
    """``grid`` with SO2's dry deposition velocity from each cell's land uses
    (:mod:`plumecast.transport.deposition_cells`)."""
    from plumecast.transport import drydep
    from plumecast.transport.deposition_cells import CellDeposition

    cells = CellDeposition(drydep.gas_constants("sulfur dioxide"), ("midsummer", "midsummer", "late_autumn"))
    return dataclasses.replace(grid, dry_velocity=cells.velocity(grid))


#: the resistance model of the cells: v_d from the grid (the table serves the notes only)
CELLS = dataclasses.replace(RESISTANCE, per_cell=True)


def test_numba_matches_numpy_with_the_velocity_of_the_cells():
    """v_d read from the grid (``deposition.land_use: map``): both CPU backends agree, and
    a grid v_d of one value everywhere deposits what that value given as the run's
    dry_velocity_m_s does (numba)."""
    grid = _with_cells(_met_3d())
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=6, resistance=CELLS, **REMOVAL)
    _near_ground_on_both_backends(grid, physics)
    vd = 2.0 ** -7  # exact in float32
    runs = []
    for g, phys in ((dataclasses.replace(grid, dry_velocity=np.full_like(grid.dry_velocity, vd)), physics),
                    (_met_3d(), dataclasses.replace(physics, resistance=None, dry_velocity_m_s=vd))):
        p = _release(3000, seed=3, lat=(-50.0, 50.0))
        p.z[:] = np.minimum(p.z, 40.0)
        removed = np.zeros(2)
        get_kernel("numba")(p, g, phys, 0, 12, removed=removed)
        runs.append((p.mass.copy(), removed))
    assert runs[0][1][0] > 0.0
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12)
    with pytest.raises(ValueError, match="needs WindGrid.dry_velocity"):
        get_kernel("numba")(_release(3000, seed=3), _met_3d(), physics, 0, 1, removed=np.zeros(2))


def _bands(rc=(900.0, 300.0, 40.0), mosaic=True):
    """A resistance table whose three latitude bands differ (SO2 on farmland: late
    autumn north, midsummer in the tropics, spring south; water beside each)."""
    from plumecast.transport import drydep

    gas = drydep.gas_constants("sulfur dioxide")
    out = []
    for r, season in zip(rc, ("late_autumn", "midsummer", "spring"), strict=True):
        out += [r, *drydep.resistance_terms(gas, "agricultural", season), 0.5 * r if mosaic else 0.0,
                *drydep.resistance_terms(gas, "water", season)]
    return tuple(out)


@pytest.mark.parametrize("met_stomata", [False, True], ids=["declared-radiation", "met-radiation"])
def test_each_latitude_band_deposits_with_its_own_season(met_stomata):
    """The resistance table has a row per latitude band (its season): both CPU backends
    agree; lowering one band's surface resistance (900 s/m elsewhere) makes the particles
    that start in that band lose more mass and leaves the others' exactly as they were."""
    from plumecast.transport import boundary_layer as bl
    from plumecast.transport import drydep

    assert bl.TROPICS_EDGE_DEG == drydep.TROPICS_LATITUDE_DEG
    assert [bl.season_band(x) for x in (60.0, 23.5, 23.49, -23.49, -23.5, -60.0)] == [0, 0, 1, 1, 2, 2]
    np.testing.assert_array_equal(bl.season_band_array([60.0, 23.5, 0.0, -23.5]), [0, 0, 1, 2])
    grid = _with_land(_with_stomata(_met_3d()) if met_stomata else _met_3d())
    bands = _bands()
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=6, resistance=ResistanceModel(bands, 6.5, met_stomata),
                          **REMOVAL)
    assert physics.resistance is not None and physics.resistance.mosaic
    _near_ground_on_both_backends(grid, physics)
    if met_stomata:
        return
    lat0 = _release(3000, seed=3, lat=(-50.0, 50.0)).lat
    inside = [lat0 > 30.0, np.abs(lat0) < 17.0, lat0 < -30.0]  # away from the edges: no band change in 6 steps

    def mass(rc):
        p = _release(3000, seed=3, lat=(-50.0, 50.0))
        p.z[:] = np.minimum(p.z, 40.0)
        phys = dataclasses.replace(physics, resistance=ResistanceModel(_bands(rc, mosaic=False), 6.5))
        get_kernel("numba")(p, grid, phys, 0, 6, removed=np.zeros(2))
        return p.mass

    base = mass((900.0, 900.0, 900.0))
    for band in range(3):
        rc = [900.0] * 3
        rc[band] = 40.0
        m = mass(tuple(rc))
        for other in range(3):
            if other == band:
                assert np.all(m[inside[band]] <= base[inside[band]])
                assert m[inside[band]].sum() < 0.99 * base[inside[band]].sum()
            else:
                np.testing.assert_array_equal(m[inside[other]], base[inside[other]])


def test_dry_velocity_of_the_mosaic():
    """Land fraction 1 and 0 give the land's and the water's 1 / (r_a + r_b + r_c); a
    fraction between weighs the two velocities (FLEXPART's sum over land uses); the
    NumPy twin agrees; fractions outside [0, 1] are clipped."""
    from plumecast.transport import boundary_layer as bl

    us, il, z0, rc, rcw, rbu = 0.35, -1.0 / 80.0, 0.1, 150.0, 12.0, 6.5
    v_land, v_water = bl.dry_velocity(us, il, z0, rc, rbu), bl.dry_velocity(us, il, z0, rcw, rbu)
    assert bl.dry_velocity_mosaic(us, il, z0, rc, rcw, 1.0, rbu) == v_land
    assert bl.dry_velocity_mosaic(us, il, z0, rc, rcw, 0.0, rbu) == pytest.approx(v_water, rel=1e-15)
    assert bl.dry_velocity_mosaic(us, il, z0, rc, rcw, 0.3, rbu) == pytest.approx(0.3 * v_land + 0.7 * v_water,
                                                                                  rel=1e-14)
    assert bl.dry_velocity_mosaic(us, il, z0, rc, rcw, 1.2, rbu) == v_land
    assert bl.dry_velocity_mosaic(us, il, z0, rc, math.inf, 0.5, rbu) == pytest.approx(0.5 * v_land, rel=1e-15)
    f = np.array([0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(bl.dry_velocity_mosaic_array(us, il, z0, rc, rcw, f, rbu),
                               [bl.dry_velocity_mosaic(us, il, z0, rc, rcw, x, rbu) for x in f], rtol=1e-14)


def test_land_fraction_is_checked():
    grid = _met_3d()
    with pytest.raises(MetDataError, match="land fraction outside"):
        dataclasses.replace(grid, land=np.full((grid.nlat, grid.nlon), 1.5, np.float32))
    with pytest.raises(MetDataError, match="land fraction has shape"):
        dataclasses.replace(grid, land=np.ones((3, 3), np.float32))


def test_numba_matches_numpy_with_the_resistance_model_of_dry_deposition():
    """v_d from the met's u* and 1/L at each particle (boundary_layer.dry_velocity):
    the same particles, removed masses and deposition grid from both CPU backends."""
    grid = _met_3d()
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, seed=6, resistance=RESISTANCE, **REMOVAL)
    assert physics.deposits
    out = {}
    for backend in CPU_BACKENDS:
        p = _release(3000, seed=3)
        p.z[:] = np.minimum(p.z, 40.0)  # near the ground, where dry deposition acts
        sampler = _sampler()
        removed = np.zeros(2)
        decayed = get_kernel(backend)(p, grid, physics, 0, 24, sampler, removed=removed)
        out[backend] = (p, sampler, removed, decayed)
    a, _, ra, _ = out["numpy"]
    assert np.all(ra > 0.0)
    assert_matches_oracle(out["numpy"], out["numba"])
    lost = 1.0 - a.mass / _release(3000, seed=3).mass
    assert np.count_nonzero(lost > 1e-3) > 1000  # dry deposition reached most of them


def test_dry_velocity_of_the_resistance_model():
    """1 / (r_a + r_b + r_c) with r_a = (ln(z_r/z0) - psi_h(z_r/L) + psi_h(z0/L)) / (k u*):
    by hand for neutral, stable and unstable air; the numba function and its NumPy twin
    agree."""
    from plumecast.transport import boundary_layer as bl

    ustar, z0, rc, rb_u = 0.3, 0.1, 80.0, 6.0
    neutral = 1.0 / (math.log(15.0 / 0.1) / (0.4 * 0.3) + 6.0 / 0.3 + 80.0)
    assert bl.dry_velocity(ustar, 0.0, z0, rc, rb_u) == pytest.approx(neutral, rel=1e-12)
    # stable, L = 50 m: psi_h = -5 z/L
    stable = 1.0 / ((math.log(150.0) + 5.0 * (15.0 - 0.1) / 50.0) / (0.4 * 0.3) + 20.0 + 80.0)
    assert bl.dry_velocity(ustar, 1.0 / 50.0, z0, rc, rb_u) == pytest.approx(stable, rel=1e-12)
    # unstable, L = -20 m: psi_h = 2 ln((1 + sqrt(1 - 16 z/L)) / 2)
    psi = [2.0 * math.log((1.0 + math.sqrt(1.0 + 16.0 * z / 20.0)) / 2.0) for z in (15.0, 0.1)]
    unstable = 1.0 / ((math.log(150.0) - psi[0] + psi[1]) / (0.4 * 0.3) + 20.0 + 80.0)
    assert bl.dry_velocity(ustar, -1.0 / 20.0, z0, rc, rb_u) == pytest.approx(unstable, rel=1e-12)
    assert stable < neutral < unstable < 1.0 / (rb_u / ustar + rc)
    us = np.linspace(0.01, 1.0, 7)[:, None] * np.ones((1, 9))
    il = np.linspace(-0.2, 0.2, 9)[None, :] * np.ones((7, 1))
    scalar = np.array([[bl.dry_velocity(u, i, 0.03, 300.0, 9.0) for u, i in zip(ru, ri, strict=True)]
                       for ru, ri in zip(us, il, strict=True)])
    np.testing.assert_allclose(bl.dry_velocity_array(us, il, 0.03, 300.0, 9.0), scalar, rtol=1e-14)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_resistance_model_column_decays_as_exp_vd_t_over_h(backend):
    """A well-mixed neutral layer in still air with the resistance model: the column
    keeps exp(-v_d t / h) of its mass after 24 h (within 3 %), v_d by hand."""
    h, ustar, rc, rb_u = 500.0, 0.4, 400.0, 7.0
    surface = np.array([h, ustar, 0.0, 0.0, 0.0]).reshape(1, 5, 1, 1)
    grid = _grid(0.0, 0.0, [10.0, 1000.0], surface=surface, res=10.0, z0=0.1)
    n = 40_000
    p = _particles(np.zeros(n), 0.0, (np.arange(n) + 0.5) / n * h)
    physics = StepPhysics(dt_s=600.0, kz_free_m2_s=0.1, seed=2, resistance=ResistanceModel.uniform(rc, rb_u))
    removed = np.zeros(2)
    get_kernel(backend)(p, grid, physics, 0, 144, removed=removed)
    vd = 1.0 / (math.log(15.0 / 0.1) / (0.4 * ustar) + rb_u / ustar + rc)
    assert p.mass.mean() == pytest.approx(math.exp(-vd * 86400.0 / h), rel=0.03)
    assert removed[0] + p.mass.sum() == pytest.approx(n, rel=1e-10) and removed[1] == 0.0


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_no_deposition_without_removal_physics(backend):
    """Deposition velocity and scavenging off: nothing is removed, even in rain."""
    grid = _met_3d()
    p = _release(500, seed=4)
    m0 = p.mass.copy()
    removed = np.zeros(2)
    sampler = _sampler()
    get_kernel(backend)(p, grid, StepPhysics(dt_s=600.0, kz_m2_s=10.0, seed=1), 0, 20, sampler, removed=removed)
    assert np.all(removed == 0.0)
    assert np.all(sampler.deposited == 0.0)
    np.testing.assert_array_equal(p.mass, m0)


def test_level_lookup_table_finds_every_layer():
    """The kernels' table lookup gives the layer searchsorted gives, at and between
    the levels, for uneven spacings (including one far finer than the rest)."""
    from plumecast.transport.kernels_numba_3d import _level
    from plumecast.transport.kernels_numpy import level_weights

    z_m = np.array([10.0, 10.5, 60.0, 333.3, 1000.0, 1000.25, 7777.0])
    grid = _grid(0.0, 0.0, z_m, z0=0.2)
    zm, zinv, ztab, zpar = grid.level_params()
    z = np.concatenate([z_m, np.nextafter(z_m, 0), np.nextafter(z_m, 1e9), np.linspace(0.0, 9000.0, 20001)])
    lev, c, f = level_weights(grid, z)
    for k in range(z.size):
        lk, ck, fk = _level(z[k], zm, zinv, ztab, zpar, z_m.size)
        assert (lk, ck, fk) == (lev[k], c[k], f[k]), z[k]
    inside = (z >= z_m[0]) & (z < z_m[-1])
    assert np.all(z_m[lev[inside]] <= z[inside]) and np.all(z[inside] < z_m[lev[inside] + 1])
    assert np.all((c >= 0.0) & (c < 1.0))


def test_vector_corner_read_is_the_scalar_bilinear_form():
    """``_wind3``, ``_surface8`` and ``_surface4`` (a vector load per corner and level, two
    joined for ``_surface4``, the blends in the vector registers) give, value by value, the
    scalar form: ``(1 - c) a + c b`` of each corner's floats on the two levels, then ``w00
    f00 + w01 f01 + w10 f10 + w11 f11`` of the corners, then ``(1 - wt) r0 + wt r1`` of the
    two records;
    ``_surface4`` the first four fields of ``_surface8``'s records, bit for bit; also at the
    last floats of the array; with ``swap`` the records the other way round (the second
    first), bit for bit the unswapped blend of the exchanged records; only contiguous
    float32 arrays are accepted."""
    import numba

    from plumecast.transport.kernels_numba_3d import _surface4, _surface8, _wind3

    @numba.njit
    def wind(f, b, s, w, c, wt, swap=False):  # type: ignore[no-untyped-def]
        return _wind3(f, b[0], b[1], b[2], b[3], s, w[0], w[1], w[2], w[3], c, wt, swap)

    @numba.njit
    def surface(f, b, w, wt, swap=False):  # type: ignore[no-untyped-def]
        return _surface8(f, b[0], b[1], b[2], b[3], np.uint64(0), w[0], w[1], w[2], w[3], 0.0, wt, swap)

    @numba.njit
    def surface4(f, b, w, wt, swap=False):  # type: ignore[no-untyped-def]
        return _surface4(f, b[0], b[1], b[2], b[3], np.uint64(0), w[0], w[1], w[2], w[3], 0.0, wt, swap)

    def exchanged(f, b, n, gap=0):  # type: ignore[no-untyped-def]
        """``f`` with the two records of ``n`` floats (``gap`` apart) at each offset of ``b`` exchanged."""
        g = f.copy()
        for k in b:
            r0, r1 = f[k:k + n].copy(), f[k + (gap or n):k + (gap or n) + n].copy()
            g[k:k + n], g[k + (gap or n):k + (gap or n) + n] = r1, r0
        return g

    def bilinear(f, b, w, n):  # type: ignore[no-untyped-def]
        rows = np.array([f[k:k + n] for k in b], np.float64)
        return ((w[0] * rows[0] + w[1] * rows[1]) + w[2] * rows[2]) + w[3] * rows[3]

    rng = np.random.default_rng(5)
    f = rng.normal(size=64).astype(np.float32)
    for b, c, wt in (([0, 16, 24, 32], 0.3, 0.0), ([3, 40, 11, 48], 0.0, 0.7), ([48, 48, 0, 1], 0.9, 1.0)):
        bu = np.array(b, np.uint64)
        w = rng.dirichlet(np.ones(4))
        corners = np.array([(1.0 - c) * f[k:k + 8].astype(float) + c * f[k + 8:k + 16].astype(float) for k in b])
        lev = ((w[0] * corners[0] + w[1] * corners[1]) + w[2] * corners[2]) + w[3] * corners[3]
        want = (1.0 - wt) * lev[:4] + wt * lev[4:]
        np.testing.assert_allclose(wind(f, bu, np.uint64(8), w, c, wt), want, rtol=1e-14, atol=1e-15)
        both = bilinear(f, b, w, 16)
        np.testing.assert_allclose(surface(f, bu, w, wt), (1.0 - wt) * both[:8] + wt * both[8:], rtol=1e-14,
                                   atol=1e-15)
        assert surface4(f, bu, w, wt) == surface(f, bu, w, wt)[:4]
    # records exchanged in the array and read with swap: the same numbers (corners 16 floats apart)
    b = [0, 32, 16, 48]
    bu = np.array(b, np.uint64)
    w = rng.dirichlet(np.ones(4))
    for c, wt in ((0.3, 0.25), (0.0, 1.0)):
        assert surface(exchanged(f, b, 8), bu, w, wt, True) == surface(f, bu, w, wt)
        assert surface4(exchanged(f, b, 4, gap=8), bu, w, wt, True) == surface4(f, bu, w, wt)
        lev_x = exchanged(exchanged(f, b, 4), [k + 8 for k in b], 4)
        assert wind(lev_x, bu, np.uint64(8), w, c, wt, True) == wind(f, bu, np.uint64(8), w, c, wt)
        assert wind(lev_x, bu, np.uint64(8), w, c, wt, True) != wind(lev_x, bu, np.uint64(8), w, c, wt)
    with pytest.raises(numba.core.errors.TypingError):
        wind(f[::2], np.zeros(4, np.uint64), np.uint64(8), np.ones(4) / 4, 0.5, 0.5)
    with pytest.raises(numba.core.errors.TypingError):
        surface(f.astype(np.float64), np.zeros(4, np.uint64), np.ones(4) / 4, 0.5)
    with pytest.raises(numba.core.errors.TypingError):
        surface4(f[::2], np.zeros(4, np.uint64), np.ones(4) / 4, 0.5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(z_m=np.array([100.0, 50.0, 900.0])), "not strictly ascending"),
        (dict(z_m=np.array([10.0, 100.0])), "2 level heights"),
        (dict(roughness_length_m=20.0), "roughness length 20 m"),
        (dict(w=np.zeros((1, 2, 3, 4), np.float32)), "vertical velocity has shape"),
        (dict(surface=np.zeros((1, 4, 91, 180), np.float32)), "boundary-layer fields have shape"),
    ],
)
def test_bad_wind_grid_is_one_clear_error(change, message):
    grid = _grid(1.0, 0.0, [10.0, 100.0, 1000.0])
    with pytest.raises(MetDataError, match=message):
        dataclasses.replace(grid, **change)


def test_single_level_grid_is_not_three_d():
    assert not wind_grid(uniform_wind(1.0, 0.0, resolution_deg=5.0)).three_d
    assert _grid(1.0, 0.0, [10.0, 100.0]).three_d


def test_locality_order_is_a_permutation_by_grid_tile():
    """``_locality_order``: every particle once, ordered by their tile of the grid (rows
    of tiles from the first latitude, then longitude, wrapped on a global grid), in index
    order within a tile, particles no longer active last; on a regional grid the points
    outside fall in the edge tiles."""
    from plumecast.transport.kernels_numba import _locality_order

    rng = np.random.default_rng(11)
    n, tile = 5000, 4
    for grid in (_met_3d(), _met_3d(region=(-40.0, 40.0, -30.0, 30.0))):
        lon = rng.uniform(-200.0, 200.0, n)  # also beyond [-180, 180) and the regional edges
        lat = rng.uniform(-89.0, 89.0, n)
        status = np.where(rng.uniform(size=n) < 0.1, STATUS_EXITED, STATUS_ACTIVE).astype(np.int8)
        order = _locality_order(lon, lat, status, grid.float_params, grid.int_params, tile)
        assert np.array_equal(np.sort(order), np.arange(n))
        fi = (lon - grid.lon0) / grid.dlon
        if grid.global_lon:
            fi = np.mod(fi, grid.nlon)
        i = np.clip(fi.astype(np.int64), 0, grid.nlon - 1)
        j = np.clip(((lat - grid.lat0) / grid.dlat).astype(np.int64), 0, grid.nlat - 1)
        ntx = -(-grid.nlon // tile)
        key = np.where(status == STATUS_ACTIVE, (j // tile) * ntx + i // tile, np.iinfo(np.int64).max)
        assert np.array_equal(order, np.lexsort((np.arange(n), key)))


def test_particles_in_grid_order_move_as_in_array_order(monkeypatch):
    """The numba kernel takes the particles in the order of their place on the grid where
    its wind is large (``LOCALITY_MIN_BYTES``): each particle moves exactly as in the
    array's order (its random numbers are keyed by its index); only the order of the
    blocks' sums differs."""
    from plumecast.transport import kernels_numba

    grid = _met_3d()
    physics = StepPhysics(dt_s=600.0, kh_m2_s=5e3, decay_rate_s=2e-5, seed=5, **DEPOSITION)
    out = []
    for min_bytes in (1 << 62, 0):
        monkeypatch.setattr(kernels_numba, "LOCALITY_MIN_BYTES", min_bytes)
        p = _release(3000, seed=4)
        sampler = _sampler()
        removed = np.zeros(2)
        decayed = kernels_numba.advance(p, grid, physics, 0, 20, sampler, removed=removed)
        out.append((p, sampler, removed, decayed))
    (a, sa, ra, da), (b, sb, rb, db) = out
    for name in ("lon", "lat", "z", "mass", "status"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_allclose(sb.acc, sa.acc, rtol=1e-12, atol=1e-12 * sa.acc.max())
    np.testing.assert_allclose(sb.deposited, sa.deposited, rtol=1e-12, atol=1e-12 * sa.deposited.max())
    np.testing.assert_allclose(rb, ra, rtol=1e-12)
    np.testing.assert_allclose(db, da, rtol=1e-12)


def test_batch_corner_lookup_is_the_scalar_one():
    """The 3-D kernel's vectorised corner lookup and inside test (``_corners_v``,
    ``_inside_v``: the grid's parameters as scalars, branches as selects) give, bit for
    bit, the single-level kernel's ``_corners`` and ``_inside`` on a periodic global
    grid and on a regional one, inside, on the edges, outside and far outside."""
    import numba

    from plumecast.transport.kernels_numba_3d import _corners, _corners_v, _grid_scalars, _inside_v
    from plumecast.transport.kernels_numba_step import _inside

    @numba.njit
    def both(lon, lat, fpar, ipar):  # type: ignore[no-untyped-def]
        gs = _grid_scalars(fpar, ipar)
        return _corners(lon, lat, fpar, ipar), _corners_v(lon, lat, gs), _inside(lon, lat, fpar, ipar), \
            _inside_v(lon, lat, gs)

    rng = np.random.default_rng(11)
    for lon0, dlon, nlon, periodic, lat0, dlat, nlat, south, north in (
        (-180.0, 1.0, 360, 1, -90.0, 1.0, 181, 1, 1),
        (-10.0, 0.25, 81, 0, 35.0, 0.25, 61, 0, 0),
    ):
        fpar = np.array([lon0, dlon, lat0, dlat, 1.0 / dlon, 1.0 / dlat])
        ipar = np.array([nlon, nlat, periodic, south, north, 2, 12], np.int64)
        lon_hi = lon0 + dlon * (nlon - 1)
        lat_hi = lat0 + dlat * (nlat - 1)
        lons = np.concatenate([rng.uniform(-400.0, 400.0, 2000), [lon0, lon_hi, np.nextafter(lon0, -1e9),
                                                                   np.nextafter(lon_hi, 1e9), 180.0, -180.0, 540.0]])
        lats = np.concatenate([rng.uniform(-95.0, 95.0, 2000), [lat0, lat_hi, np.nextafter(lat0, -1e9),
                                                                np.nextafter(lat_hi, 1e9), 0.0, 90.0, -90.0]])
        inside = 0
        for lo, la in zip(lons, lats, strict=True):
            c, cv, ins, ins_v = both(lo, la, fpar, ipar)
            assert c == cv, (lo, la)
            assert ins == ins_v, (lo, la)
            inside += ins
        # the global grid holds every point; the regional one points on both sides of its edges
        assert inside == lons.size if periodic else 0 < inside < lons.size
