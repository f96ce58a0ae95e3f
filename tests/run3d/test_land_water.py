"""The land-water mosaic of dry deposition: the land fraction read from the met
(ERA5 ``lsm``, WRF ``XLAND``) or made from the shipped Natural Earth land, and the
runs that use it (``deposition.land_mask``)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError, ScenarioError
from plumecast.met.landmask import land_fraction, land_fraction_on_grid
from plumecast.met.levels import open_met_3d, wind_grid_3d
from plumecast.runner import run
from tests.met.style_files import LAT, LON, atmosphere, write_era5
from tests.run3d.test_run3d import scenario

N_TIMES = 4


def _land(lon, lat):
    """A land fraction on the style files' grid: water west of -4 E, land east of 2 E."""
    return np.clip((lon[None, :] + 4.0) / 6.0, 0.0, 1.0) * np.ones((lat.size, 1))


def _with_mask(paths, tmp_path, name="lsm", values=None, units="(0 - 1)", tag="a"):
    """The ERA5 style files with a land-sea mask added to the single-level file (on its
    descending latitudes and 0..360 longitudes)."""
    pl, sl = paths
    with xr.open_dataset(sl) as ds:
        ds = ds.load()
    lon = (ds["longitude"].values + 180.0) % 360.0 - 180.0
    land = _land(lon, ds["latitude"].values) if values is None else values
    field = np.broadcast_to(land, (ds.sizes["valid_time"], *land.shape)).astype(np.float32)
    ds[name] = (("valid_time", "latitude", "longitude"), field, {"units": units})
    out = tmp_path / f"sl_{tag}.nc"
    ds.to_netcdf(out)
    return [pl, out]


@pytest.fixture(scope="module")
def era5(tmp_path_factory):
    d = tmp_path_factory.mktemp("landwater")
    return write_era5(atmosphere(n_times=N_TIMES), d / "pl.nc", d / "sl.nc")


def test_natural_earth_land_fraction():
    """The shipped land covers about 29 % of the globe (Natural Earth 1:110m: 28.9 %;
    the Earth's land is 29 % of its surface); Paris is land, the mid-Atlantic water,
    a cell on the Bay of Biscay's coast partly both; a regional grid gives the global
    grid's values away from its edges."""
    lon = np.arange(-180.0, 180.0, 1.0)
    lat = np.arange(-90.0, 90.01, 1.0)
    f = land_fraction(lon, lat, 1.0, 1.0)
    assert f.shape == (lat.size, lon.size) and f.dtype == np.float32
    w = np.cos(np.deg2rad(lat))[:, None]
    assert 0.27 < float((f * w).sum() / (w.sum() * lon.size)) < 0.31
    at = {(lo, la): float(f[int(la + 90), int(lo + 180)]) for lo, la in ((2, 49), (-30, 40), (-1, 46))}
    assert at[(2, 49)] == 1.0 and at[(-30, 40)] == 0.0 and 0.05 < at[(-1, 46)] < 0.95
    sub = land_fraction(lon[170:200], lat[120:150], 1.0, 1.0)
    np.testing.assert_array_equal(sub[1:-1, 1:-1], f[121:149, 171:199])
    kept = land_fraction_on_grid(-180.0, 1.0, 360, -90.0, 1.0, 181)
    np.testing.assert_array_equal(kept, f)
    assert land_fraction_on_grid(-180.0, 1.0, 360, -90.0, 1.0, 181) is kept and not kept.flags.writeable


def test_the_met_land_sea_mask_is_read(era5, tmp_path):
    """ERA5's lsm becomes WindGrid.land (with its provenance); WRF's XLAND (1 land,
    2 water) and a static mask file read the same; values outside 0..1 are refused
    naming the file; files without a mask give none."""
    want = _land(LON, LAT)
    grid = wind_grid_3d(open_met_3d([str(p) for p in _with_mask(era5, tmp_path)]))
    assert grid.land is not None
    np.testing.assert_allclose(grid.land, want, atol=1e-6)
    assert any(line.startswith("land fraction: 'lsm'") for line in grid.provenance)
    xland = _with_mask(era5, tmp_path, "XLAND", values=2.0 - _land(
        (np.sort(LON % 360.0) + 180.0) % 360.0 - 180.0, LAT), units="", tag="x")
    np.testing.assert_allclose(wind_grid_3d(open_met_3d([str(p) for p in xland])).land, want, atol=1e-6)
    # a file of the mask alone, one record for all times
    static = tmp_path / "lsm_static.nc"
    with xr.open_dataset(era5[1]) as ds:
        lon = (ds["longitude"].values + 180.0) % 360.0 - 180.0
        xr.Dataset({"lsm": (("valid_time", "latitude", "longitude"),
                            _land(lon, ds["latitude"].values)[None].astype(np.float32), {"units": "(0 - 1)"})},
                   coords={"valid_time": ds["valid_time"].values[:1], "latitude": ds["latitude"].values,
                           "longitude": ds["longitude"].values}).to_netcdf(static)
    grid = wind_grid_3d(open_met_3d([str(p) for p in [*era5, static]]), records=slice(2, 3))
    np.testing.assert_allclose(grid.land, want, atol=1e-6)
    bad = _with_mask(era5, tmp_path, values=np.full((LAT.size, LON.size), 5.0), tag="bad")
    with pytest.raises(MetDataError, match=r"sl_bad\.nc.*land-sea mask 'lsm'.* is 5 at .*expected a land fraction"):
        wind_grid_3d(open_met_3d([str(p) for p in bad]))
    assert wind_grid_3d(open_met_3d([str(p) for p in era5])).land is None


def test_runs_deposit_on_the_water_fraction_at_waters_resistance(era5, tmp_path):
    """A town's ammonia run over a mask of water everywhere deposits exactly what the
    water run deposits, and over land everywhere what the run without the mosaic does;
    the mask of the met is said in the run's notes, and without one the Natural Earth
    land stands in (auto) or the run stops (met)."""
    dep = {"land_use": "urban", "season": "spring", "scavenging_a_s": 1.0e-4}
    zeros = np.zeros((LAT.size, LON.size))
    water = run(scenario(_with_mask(era5, tmp_path, values=zeros, tag="w"), backend="numba", deposition=dep))
    as_water = run(scenario(era5, backend="numba", deposition={**dep, "land_use": "water"}))
    assert water.budget.deposited_dry == pytest.approx(as_water.budget.deposited_dry, rel=1e-12)
    land = run(scenario(_with_mask(era5, tmp_path, values=zeros + 1.0, tag="l"), backend="numba", deposition=dep))
    off = run(scenario(era5, backend="numba", deposition={**dep, "land_mask": "off"}))
    assert land.budget.deposited_dry == pytest.approx(off.budget.deposited_dry, rel=1e-12)
    assert as_water.budget.deposited_dry > 1.2 * off.budget.deposited_dry
    notes = [x for x in land.stats["met_provenance"] if x.startswith("land and water for dry deposition")]
    assert notes == ["land and water for dry deposition: 'lsm' [(0 - 1)] of sl_l.nc"]
    assert not any("land and water" in x for x in off.stats["met_provenance"])
    auto = run(scenario(era5, deposition=dep))
    assert any("Natural Earth 1:110m land polygons on the met grid (the met has no land-sea mask"
               in x for x in auto.stats["met_provenance"])
    assert abs(auto.budget.residual) < 1e-9 * auto.budget.released
    with pytest.raises(ScenarioError, match="deposition.land_mask: met, but .* has no land-sea mask"):
        run(scenario(era5, deposition={**dep, "land_mask": "met"}))
    with pytest.raises(ScenarioError, match="'sea' is not a land mask; expected one of auto, met, map, off"):
        scenario(era5, deposition={**dep, "land_mask": "sea"})
    for other in ({"land_use": "water"}, {"land_use": None}):
        with pytest.raises(ScenarioError, match="land_mask: map splits land .* expected a land_use other than water"):
            scenario(era5, deposition={**dep, **other, "land_mask": "map"})


def test_land_use_from_the_map_deposits_by_each_cells_land_uses(era5, tmp_path):
    """``deposition.land_use: map``: v_d on the met grid from each cell's mix of land uses
    (the sea of the Bay of Biscay water, the land fields and forests), the same on both
    CPU backends, the budget closed, the notes saying so; the met's land-sea mask does
    not enter."""
    dep = {"season": "spring", "scavenging_a_s": 1.0e-4, "land_use": "map"}
    r = {b: run(scenario(era5, backend=b, deposition=dep, particles=1500)) for b in ("numpy", "numba")}
    assert r["numpy"].budget.deposited_dry > 0.0
    assert r["numba"].budget.deposited_dry == pytest.approx(r["numpy"].budget.deposited_dry, rel=1e-9)
    for x in r.values():
        assert abs(x.budget.residual) < 1e-9 * x.budget.released
    notes = r["numpy"].stats["met_provenance"]
    assert any("deposition.land_use: map: each met cell deposits by its own mix" in x
               and "(45.00 N, 0.00 E): agricultural, 87 %" in x for x in notes)
    assert any(x.startswith("dry deposition: v_d on the met grid from each cell's mix of the 13 land uses") for x in notes)
    assert not any(x.startswith("land and water for dry deposition") for x in notes)
    masked = run(scenario(_with_mask(era5, tmp_path, values=np.zeros((LAT.size, LON.size)), tag="m"),
                          deposition=dep, particles=1500))
    assert masked.budget.deposited_dry == pytest.approx(r["numpy"].budget.deposited_dry, rel=1e-12)
    # water (ammonia dissolves) and the land between: more than the fields alone, less than all water
    fields = run(scenario(era5, deposition={**dep, "land_use": "agricultural", "land_mask": "off"}, particles=1500))
    water = run(scenario(era5, deposition={**dep, "land_use": "water"}, particles=1500))
    assert fields.budget.deposited_dry < r["numpy"].budget.deposited_dry < water.budget.deposited_dry


def test_numpy_and_numba_agree_with_the_mosaic(era5, tmp_path):
    """The same run on both CPU backends with the met's mask (a coast across the domain)."""
    paths = _with_mask(era5, tmp_path, tag="c")
    dep = {"land_use": "deciduous_forest", "season": "spring"}
    r = {b: run(scenario(paths, backend=b, deposition=dep, particles=1500)) for b in ("numpy", "numba")}
    assert r["numpy"].budget.deposited_dry > 0.0
    assert r["numba"].budget.deposited_dry == pytest.approx(r["numpy"].budget.deposited_dry, rel=1e-9)


def test_each_latitude_band_takes_its_season():
    """Without a declared season, each latitude band takes its own from the start month
    (January: late autumn north of the tropics, midsummer in them and south of them); the
    notes say which, with r_c per band; a city release takes its summary values at its most
    populous city; a declared season serves everywhere."""
    from plumecast.scenario import scenario_from_dict
    from plumecast.transport import drydep

    base = {"start": "2026-01-15T00:00:00Z", "duration_h": 1, "agent": "sulfur dioxide",
            "deposition": {"land_use": "deciduous_forest"},
            "releases": [{"type": "point", "lat": -34.0, "lon": 151.0, "rate_kg_s": 1}]}
    res = scenario_from_dict(base).dry_deposition_resistance()
    gas = drydep.gas_constants("sulfur dioxide")
    want = [drydep.surface_resistance(gas, "deciduous_forest", season) for season in
            ("late_autumn", "midsummer", "midsummer")]
    assert res.model is not None
    table = res.model.array()
    np.testing.assert_allclose(table[:, 0], want, rtol=1e-12)
    assert res.surface_resistance_s_m == want[2]  # the release's band: south of the tropics
    assert "season midsummer (from the start month 1 at latitude -34.0, the first point release)" in res.notes[0]
    assert any("late_autumn north of 23.5 N" in n and "midsummer south of 23.5 S" in n for n in res.notes)
    assert table[0, 0] != table[2, 0]
    city = scenario_from_dict({**base, "releases": [{"type": "cities", "names": ["Sydney"], "rate_kg_s_per_capita": 1e-6}]})
    city_res = city.dry_deposition_resistance()
    assert city_res.surface_resistance_s_m == want[2]  # Sydney: south of the tropics
    assert "season midsummer (from the start month 1 at latitude -33.9, Sydney, the most populous city of release 0)" \
        in city_res.notes[0]
    fixed = scenario_from_dict({**base, "deposition": {"land_use": "deciduous_forest", "season": "autumn"}})
    fixed_model = fixed.dry_deposition_resistance().model
    assert fixed_model is not None
    table = fixed_model.array()
    assert np.all(table == table[0])


def test_land_use_from_the_map_with_a_city_release(era5):
    """``land_use: map`` runs a city release too (area sources, no point): the cells' land
    uses deposit, the budget closes, and the notes' reference land use is that round the
    most populous city of the release."""
    dep = {"season": "spring", "land_use": "map"}
    cities = [{"type": "cities", "names": ["Bordeaux", "Toulouse"], "rate_kg_s_per_capita": 1e-6, "radius_km": 20}]
    r = run(scenario(era5, deposition=dep, releases=cities, particles=1500))
    assert r.budget.deposited_dry > 0.0
    assert abs(r.budget.residual) < 1e-9 * r.budget.released
    notes = r.stats["met_provenance"]
    assert any("the land use round Toulouse, the most populous city of release 0 (43.6" in x for x in notes)
