"""The shipped land-use inventory (IGBP-DIS land cover as FLEXPART ships it) and
``deposition.land_use: map``, which takes a run's land use from it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast.errors import ScenarioError
from plumecast.met.landmask import land_fraction
from plumecast.scenario import scenario_from_dict
from plumecast.scenario_deposition import wesely_resistance
from plumecast.transport import drydep
from plumecast.transport.drydep import LAND_USES, SEASONS, WeselyGas, surface_resistance
from plumecast.transport.landuse import CELL_DEG, cell_shares, inventory, release_land_use

SO2 = WeselyGas(henry_m_atm=1.0e5, f0=0.0, diffusivity_ratio=2.0)
O3 = WeselyGas(henry_m_atm=1.0e-2, f0=1.0, diffusivity_ratio=1.6)


def _land_share() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of the classes other than water in each inventory cell, and the cells' centres."""
    category, share = inventory()
    total = share.sum(-1)
    water = ((category == LAND_USES.index("water")) * share).sum(-1) / np.where(total > 0, total, 1.0)
    lat = -90.0 + CELL_DEG * (np.arange(category.shape[0]) + 0.5)
    lon = -180.0 + CELL_DEG * (np.arange(category.shape[1]) + 0.5)
    return 1.0 - water, lon, lat


def test_inventory_places_land_where_the_map_has_it():
    """Decoded in the right order: between 60 S and 60 N (away from sea ice, which the
    inventory counts as snow and ice) the inventory's land and the Natural Earth land
    agree in more than 99 % of the cells that the map has wholly land or wholly water;
    land, sea ice and ice sheets together cover about 31 % of the globe."""
    land, lon, lat = _land_share()
    ne = land_fraction(np.arange(-180.0, 180.0, 1.0), np.arange(-90.0, 90.01, 1.0), 1.0, 1.0)
    jj = np.clip(np.round(lat + 90.0).astype(int), 0, 180)
    ii = np.round(lon + 180.0).astype(int) % 360
    ne_cells = ne[jj][:, ii]
    sure = ((ne_cells > 0.99) | (ne_cells < 0.01)) & (np.abs(lat) < 60.0)[:, None]
    assert float(np.mean((land[sure] > 0.5) == (ne_cells[sure] > 0.5))) > 0.99
    w = np.cos(np.deg2rad(lat))[:, None] * np.ones_like(land)
    assert 0.29 < float((land * w).sum() / w.sum()) < 0.33


@pytest.mark.parametrize(("lon", "lat", "first"), [
    (10.0, 23.0, "barren"),  # the Sahara
    (-60.0, -3.0, "rainforest"),  # the Amazon
    (0.0, -80.0, "snow_ice"),  # Antarctica
    (-93.5, 42.0, "agricultural"),  # Iowa
    (2.35, 48.85, "urban"),  # Paris
    (-30.0, 30.0, "water"),  # the Atlantic
])
def test_cell_shares_at_known_places(lon, lat, first):
    shares = cell_shares(lon, lat)
    assert next(iter(shares)) == first
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert list(shares.values()) == sorted(shares.values(), reverse=True)
    # the same cell whichever way the longitude is written
    assert cell_shares(lon + 360.0, lat) == shares


def test_release_land_use_takes_the_land_of_the_cell_or_round_it():
    """Paris is urban (half its cell, the rest fields); a release in a sea cell of the
    Bay of Biscay takes the land of the coast within a degree; the open ocean is water;
    a place outside the globe is refused."""
    paris = release_land_use(2.35, 48.85)
    assert paris.land_use == "urban" and 0.4 < paris.land_share < 0.6
    assert "urban 50 %" in paris.how and "agricultural" in paris.how
    biscay = release_land_use(-1.5, 45.5)
    assert cell_shares(-1.5, 45.5) == {"water": 1.0}
    assert biscay.land_use == "agricultural" and "its own holds no land" in biscay.how
    ocean = release_land_use(-30.0, 30.0)
    assert ocean.land_use == "water" and ocean.how.startswith("water: no land within 1 degree")
    with pytest.raises(ValueError, match="not a place"):
        release_land_use(0.0, 91.0)
    with pytest.raises(ValueError, match="not a place"):
        release_land_use(math.nan, 0.0)


def test_flexpart_classes_beyond_wesely():
    """Snow and ice and rainforest take FLEXPART's surfdepo.t columns 12 and 13, the same
    in every season; over snow SO2 meets the ground's 100 s m-1 and ozone its 10,000."""
    lu = LAND_USES.index
    assert LAND_USES[-2:] == ("snow_ice", "rainforest")
    want = {"snow_ice": (9999, 9999, 0, 100, 10000, 9999, 9999), "rainforest": (200, 1000, 2000, 200, 200, 9999, 9999)}
    for name, values in want.items():
        for table, v in zip((drydep.R_I, drydep.R_LU, drydep.R_AC, drydep.R_GSS, drydep.R_GSO, drydep.R_CLS,
                             drydep.R_CLO), values, strict=True):
            assert np.all(table[lu(name)] == v), (name, v)
    for season in SEASONS:
        cold = 1000.0 * math.exp(-15.0 - 4.0)
        # only the ground path is open: r_c = r_ac + r_gsx, r_gsx = 1 / (1e-5 H*/r_gsS + f0/r_gsO)
        assert surface_resistance(SO2, "snow_ice", season, 300.0, 15.0) == pytest.approx(100.0 + cold, rel=1e-12)
        assert surface_resistance(O3, "snow_ice", season, 300.0, 15.0) == pytest.approx(
            1.0 / (1e-7 / 100.0 + 1.0 / 10000.0) + cold, rel=1e-12)
    # rainforest keeps its leaves all year: the same r_c in every season; by hand (Wesely's
    # pathways at G = 300 W m-2, 15 degC): stomata and mesophyll, cuticles, no lower
    # canopy, r_ac + ground
    cold = 1000.0 * math.exp(-15.0 - 4.0)
    r_s = 200.0 * (1.0 + (200.0 / 300.1) ** 2) * (400.0 / (15.0 * 25.0)) * SO2.diffusivity_ratio
    r_m = 1.0 / (1.0e5 / 3000.0)
    by_hand = 1.0 / (1.0 / (r_s + r_m) + 1.0 / (1000.0 / 1.0 + cold) + 1.0 / (2000.0 + 200.0 + cold))
    r = {s: surface_resistance(SO2, "rainforest", s, 300.0, 15.0) for s in SEASONS}
    assert len(set(r.values())) == 1 and r["midsummer"] == pytest.approx(by_hand, rel=1e-12)


def _scenario(lat, lon, **deposition):
    return scenario_from_dict({
        "start": "2026-07-01T00:00:00Z", "duration_h": 1, "backend": "numpy", "particles": 200, "agent": "ammonia",
        "deposition": deposition, "releases": [{"type": "point", "lat": lat, "lon": lon, "rate_kg_s": 1}]})


def test_land_use_map_in_a_scenario():
    """``land_use: map`` deposits by each met cell's mix of land uses (the run's
    ``cells``), its notes giving the values of the land use round the first point
    release (a city release: its most populous city), with a line saying so; with no
    place at all it stops in one line naming the land uses."""
    mapped = _scenario(-3.0, -60.0, land_use="Map").dry_deposition_resistance()
    declared = _scenario(-3.0, -60.0, land_use="rainforest", land_mask="off").dry_deposition_resistance()
    assert mapped.model is not None and mapped.model.per_cell and not mapped.model.mosaic
    assert mapped.model.table == declared.model.table
    assert mapped.cells is not None and declared.cells is None
    assert mapped.cells.seasons == ("midsummer", "midsummer", "late_autumn")
    assert mapped.surface_resistance_s_m == declared.surface_resistance_s_m
    assert "land use rainforest" in mapped.notes[0]
    line = mapped.notes[1]
    assert "deposition.land_use: map: each met cell deposits by its own mix of land uses" in line
    assert "(3.00 S, 60.00 W): rainforest, 100 %" in line
    sea = _scenario(30.0, -30.0, land_use="map").dry_deposition_resistance()
    assert sea.model is not None and sea.model.per_cell and "land use water" in sea.notes[0]
    cities = scenario_from_dict({"start": "2026-07-01T00:00:00Z", "duration_h": 1, "agent": "ammonia",
                                 "deposition": {"land_use": "map"},
                                 "releases": [{"type": "cities", "names": ["Lyon", "Paris"],
                                               "rate_kg_s_per_capita": 1e-6}]}).dry_deposition_resistance()
    assert cities.model is not None and cities.model.per_cell and cities.cells is not None
    assert "land use urban" in cities.notes[0]
    assert "the land use round Paris, the most populous city of release 0 (48.8" in cities.notes[1]
    sea_sc = _scenario(0.0, 0.0, land_use="map")
    with pytest.raises(ScenarioError, match="land_use: map reports the land use round the release, and this "
                                            "scenario has no release"):
        wesely_resistance(sea_sc.deposition, sea_sc.agent, 7, [])
    with pytest.raises(ScenarioError, match="expected one of urban, .*rainforest, map"):
        _scenario(0.0, 0.0, land_use="moon")
