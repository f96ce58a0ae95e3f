"""The dry deposition velocity on the met grid from each cell's mix of land uses
(FLEXPART's getvdep; ``deposition.land_use: map``)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.errors import MetDataError
from plumecast.transport import boundary_layer as bl
from plumecast.transport import drydep
from plumecast.transport.deposition_cells import (
    ROUGHNESS_LENGTH_M,
    CellDeposition,
    class_fractions_on_grid,
)
from plumecast.transport.drydep import LAND_USES
from plumecast.transport.landuse import cell_shares
from plumecast.transport.windgrid import SURFACE_FIELDS, WindGrid, pack_surface

NH3 = drydep.gas_constants("ammonia")


def _grid(surface: np.ndarray, stomata: np.ndarray | None = None, lon0=-2.0, lat0=43.0, d=1.0) -> WindGrid:
    nt, _, nlat, nlon = surface.shape
    return WindGrid(vec=np.zeros((nt, 2, 3, nlat, nlon), np.float32), times_s=np.arange(nt) * 3600.0, lon0=lon0,
                    dlon=d, nlon=nlon, lat0=lat0, dlat=d, nlat=nlat, global_lon=False, polar_south=False,
                    polar_north=False, z_m=np.array([10.0, 500.0]), surface=surface, stomata=stomata)


def _surface(nt=2, nlat=4, nlon=5, ustar=0.3, inv_l=-0.01) -> np.ndarray:
    s = np.zeros((nt, len(SURFACE_FIELDS), nlat, nlon), np.float32)
    s[:, 0], s[:, 1], s[:, 2], s[:, 3] = 800.0, ustar, inv_l, 1.0
    return s


def test_class_fractions_of_the_cells():
    """Each node's shares sum to one; water covers about 69 % of the globe (the Earth's
    oceans and seas 71 %; the inventory counts sea ice as snow and ice); the node of a
    cell inside one inventory cell takes that cell's shares; a regional grid gives the
    global grid's values."""
    f = class_fractions_on_grid(-180.0, 1.0, 360, -90.0, 1.0, 181)
    assert f.shape == (len(LAND_USES), 181, 360) and not f.flags.writeable
    np.testing.assert_allclose(f.sum(axis=0), 1.0, atol=1e-12)
    lat = np.arange(-90.0, 90.01, 1.0)
    w = np.cos(np.deg2rad(lat))[:, None]
    assert 0.66 < float((f[LAND_USES.index("water")] * w).sum() / (w.sum() * 360)) < 0.72
    small = class_fractions_on_grid(2.25, 0.1, 2, 48.75, 0.1, 2)  # 0.1 degree, inside one 0.3 degree cell
    shares = cell_shares(2.25, 48.75)
    for name, share in shares.items():
        assert small[LAND_USES.index(name), 0, 0] == pytest.approx(share, abs=1e-12)
    region = class_fractions_on_grid(-10.0, 1.0, 21, 40.0, 1.0, 11)
    np.testing.assert_allclose(region, f[:, 130:141, 170:191], atol=1e-12)


def test_velocity_of_a_node_by_hand():
    """v_d of a node is the sum over its land uses of share x 1 / (r_a + r_b + r_c) with
    each land use's own roughness length; with the met's radiation and temperature r_c
    follows them."""
    surface = _surface()
    grid = _grid(surface)
    cells = CellDeposition(NH3, ("spring", "midsummer", "autumn"))
    vd = cells.velocity(grid)
    assert vd.shape == (2, 4, 5) and vd.dtype == np.float32
    frac = cells.fractions(grid)
    rb_u = drydep.laminar_factor(NH3.diffusivity_ratio)
    j, i = 2, 3
    want = sum(frac[c, j, i] * bl.dry_velocity(0.3, -0.01, ROUGHNESS_LENGTH_M[name],
                                               drydep.surface_resistance(NH3, name, "spring"), rb_u)
               for c, name in enumerate(LAND_USES) if frac[c, j, i] > 0.0)
    assert float(vd[0, j, i]) == pytest.approx(float(np.float32(want)), rel=1e-6)
    # the sun opens the stomata: more deposition by day
    stomata = np.zeros((2, 2, 4, 5), np.float32)
    stomata[:, 0], stomata[:, 1] = 600.0, 20.0
    day = cells.velocity(_grid(surface, stomata))
    assert np.all(day >= vd) and np.any(day > 1.05 * vd)
    by_hand = sum(frac[c, j, i] * bl.dry_velocity(
        0.3, -0.01, ROUGHNESS_LENGTH_M[name], drydep.surface_resistance(NH3, name, "spring", solar_w_m2=600.0,
                                                                      surface_temperature_c=20.0), rb_u)
        for c, name in enumerate(LAND_USES) if frac[c, j, i] > 0.0)
    assert float(day[0, j, i]) == pytest.approx(float(np.float32(by_hand)), rel=1e-6)


def test_velocity_is_packed_where_the_kernels_read_it():
    """The grid carries v_d beside the boundary-layer fields and packs it in the solar
    irradiance's slot; a bad shape or a negative value is refused."""
    surface = _surface()
    grid = _grid(surface)
    vd = CellDeposition(NH3, ("spring",) * 3).velocity(grid)
    import dataclasses

    with_vd = dataclasses.replace(grid, dry_velocity=vd)
    packed = pack_surface(with_vd)
    np.testing.assert_array_equal(packed[..., len(SURFACE_FIELDS)], vd)
    with pytest.raises(MetDataError, match="dry deposition velocity has shape"):
        dataclasses.replace(grid, dry_velocity=vd[:1])
    with pytest.raises(MetDataError, match="dry deposition velocity negative"):
        dataclasses.replace(grid, dry_velocity=-vd)
