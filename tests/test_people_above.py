"""People in the output cells that reach each AEGL, from a population raster (run side)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
import yaml

from plumecast.agents import get_agent
from plumecast.grid_consequence import cells_reaching_aegl, people_above
from plumecast.population import PopulationRaster


def test_people_above_counts_the_flagged_cells_from_the_raster():
    # a 2 x 3 output grid of 1 deg cells; raster of 0.5 deg cells with 10 people each
    lon_e = np.array([0.0, 1.0, 2.0, 3.0])
    lat_e = np.array([40.0, 41.0, 42.0])
    raster = PopulationRaster(np.full((4, 6), 10.0), np.arange(0.0, 3.01, 0.5), np.arange(40.0, 42.01, 0.5))
    flags = np.zeros((3, 2, 3), np.uint32)
    flags[0, :, :] = 1  # AEGL-1 everywhere
    flags[1, 0, :2] = 1  # AEGL-2 in two cells
    got = people_above(flags, lon_e, lat_e, raster)
    assert got.people == pytest.approx((240.0, 80.0, 0.0))
    assert got.cells == (6, 2, 0)


def test_unknown_raster_cells_are_not_counted_as_zero():
    lon_e = np.array([0.0, 1.0])
    lat_e = np.array([40.0, 41.0])
    raster = PopulationRaster(np.full((1, 1), np.nan), lon_e, lat_e)
    got = people_above(np.ones((3, 1, 1), np.uint32), lon_e, lat_e, raster)
    assert all(np.isnan(p) for p in got.people)


def test_a_cell_follows_the_receptor_convention():
    cl = get_agent("chlorine")
    t = np.arange(1, 13) * np.timedelta64(600, "s") + np.datetime64("2026-01-01T00:00", "ns")
    c = np.zeros((12, 1, 2))
    c[:, 0, 0] = 25.0 * 3.17e-6 / 1.08  # about 25 ppm of chlorine [kg m-3]: above AEGL-3 after ~40 min
    da = xr.DataArray(c, dims=("time", "lat", "lon"), coords={"time": t, "lat": [0.5], "lon": [0.5, 1.5]})
    flags = cells_reaching_aegl(da, cl, np.datetime64("2026-01-01T00:00", "ns"))
    assert flags[:, 0, 0].tolist() == [1, 1, 1] and flags[:, 0, 1].tolist() == [0, 0, 0]


def _raster_scenario(name: str) -> dict:
    """A 3-h chlorine release at 50.1 N 10.1 E on a uniform 5 m/s wind, counting people from pop.tif."""
    return {
        "name": name, "start": "2026-03-02T12:00:00Z", "duration_h": 3, "time_step_s": 300,
        "particles": 5000, "seed": 1, "backend": "numpy", "agent": "chlorine",
        "met": {"source": "uniform", "u_m_s": 5.0, "v_m_s": 0.0},
        "turbulence": {"kh_m2_s": 50.0, "kz_m2_s": 10.0, "mixing_height_m": 800.0},
        "releases": [{"type": "point", "lat": 50.1, "lon": 10.1, "height_m": 2.0, "rate_kg_s": 3000.0}],
        "output": {"grid": {"lon_min": 5, "lon_max": 20, "lat_min": 45, "lat_max": 55, "resolution_deg": 0.1},
                   "interval_min": 30},
        "receptors": {"points": [{"name": "x", "lat": 50.1, "lon": 10.5, "population": 100}],
                      "population_raster": "pop.tif"},
    }


def test_run_counts_people_from_a_population_raster(tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    tif = tmp_path / "pop.tif"
    data = np.full((200, 300), 100.0, np.float32)  # 0.05 deg cells, 100 people each, over 5..20 E, 45..55 N
    with rasterio.open(tif, "w", driver="GTiff", height=200, width=300, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(0.05, 0.0, 5.0, 0.0, -0.05, 55.0)) as dst:
        dst.write(data, 1)
    scenario = _raster_scenario("raster count")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "plumecast", "run", str(path), "-o", str(out), "-q", "--no-map"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((out / "people_above_aegl.csv").open()))
    by_level = {r["level"]: r for r in rows}
    # each 0.1 deg output cell holds 4 raster cells of 100 people
    for r in rows:
        assert float(r["people"]) == pytest.approx(400.0 * int(r["cells"]))
    assert int(by_level["AEGL-1"]["cells"]) >= int(by_level["AEGL-3"]["cells"]) >= 1


def test_run_says_a_count_from_a_raster_covering_part_of_the_cells_is_a_lower_bound(tmp_path):
    """The raster covers the release's west only: the cells the plume reaches eastward have no
    data, and the run's table reads '≥ ...' with a warning (it had read a plain count; audit)."""
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    tif = tmp_path / "pop.tif"
    with rasterio.open(tif, "w", driver="GTiff", height=200, width=104, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(0.05, 0.0, 5.0, 0.0, -0.05, 55.0)) as dst:  # 5 .. 10.2 E
        dst.write(np.full((200, 104), 100.0, np.float32), 1)
    scenario = _raster_scenario("raster part")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    proc = subprocess.run([sys.executable, "-m", "plumecast", "run", str(path), "-o", str(tmp_path / "out"),
                           "--no-map"], capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout[proc.stdout.index("People living in output cells"):]
    assert "│ AEGL-1 │" in table and "≥ " in table.split("│ AEGL-1 │", 1)[1].splitlines()[0], table
    assert "the population raster has no data on part of the area" in " ".join(proc.stdout.split())


def test_people_above_with_a_raster_covering_part_of_the_cells():
    # flagged: a cell at the equator (raster covers its west half, one nodata raster cell there)
    # and a cell at 60 N beyond the raster; hand sums
    lon_e = np.array([0.0, 1.0])
    lat_e = np.array([0.0, 1.0, 59.0, 60.0, 61.0])
    v = np.full((2, 1), 50.0)
    v[1, 0] = np.nan  # nodata
    raster = PopulationRaster(v, np.array([0.0, 0.5]), np.array([0.0, 0.5, 1.0]))
    flags = np.zeros((3, 4, 1), np.uint32)
    flags[0, 0, 0] = 1
    flags[0, 3, 0] = 1
    got = people_above(flags, lon_e, lat_e, raster)
    assert got.people[0] == pytest.approx(50.0) and got.cells[0] == 2
    # area without data: ~3/4 of the equator cell + the whole 60 N cell, by area (sin-lat weights)
    a0 = np.sin(np.radians(1.0))
    a1 = np.sin(np.radians(61.0)) - np.sin(np.radians(60.0))
    u0 = 1.0 - 0.5 * np.sin(np.radians(0.5)) / a0  # known: west half, south half (in sin-lat)
    assert got.unknown_fraction[0] == pytest.approx((u0 * a0 + a1) / (a0 + a1), rel=1e-9)
    assert got.people[1] == 0.0 and got.unknown_fraction[1] == 0.0  # no cell reached: 0 people, known


def test_a_level_no_cell_reaches_while_receptors_do_is_named() -> None:
    """run's raster table read AEGL-3 "0" people beside 720 deaths in Duisburg (outputs audit,
    session 35): a level that no output cell reaches while the casualty table has it reached at
    receptors gets a line naming them, saying the 0 is the cells' count."""
    import numpy as np
    import xarray as xr

    from plumecast.report_tables import cells_below_receptors

    t = np.datetime64("2026-01-20T06:10", "ns")
    nat = np.datetime64("NaT", "ns")
    ds = xr.Dataset({f"first_exceedance_aegl{k}": ("receptor", np.array(v, "datetime64[ns]"))
                     for k, v in ((1, [t, t, t, t, t]), (2, [t, t, nat, nat, nat]), (3, [nat] * 5))},
                    coords={"name": ("receptor", ["Duisburg", "Essen", "Oberhausen", "Mülheim", "Bottrop"])})
    rows = [{"level": "AEGL-1", "cells": 12, "people": 5000.0, "unknown_area_fraction": 0.0},
            {"level": "AEGL-2", "cells": 0, "people": 0.0, "unknown_area_fraction": 0.0},
            {"level": "AEGL-3", "cells": 0, "people": 0.0, "unknown_area_fraction": 0.0}]
    lines = cells_below_receptors(rows, ds, "15-min means over 0.05 deg cells")
    # AEGL-1: cells reach it; AEGL-3: no receptor either (a true 0 of both)
    assert len(lines) == 1 and lines[0].startswith("AEGL-2: no output cell reaches it (15-min means over 0.05 deg")
    assert "reached at Duisburg, Essen:" in lines[0] and "the cells' count, not the people exposed" in lines[0]
    ds["first_exceedance_aegl2"] = ("receptor", np.array([t] * 5, "datetime64[ns]"))
    assert "reached at Duisburg, Essen, Oberhausen and 2 more:" in cells_below_receptors(rows, ds, "x")[0]
    assert cells_below_receptors(rows, None, "x") == []  # no casualty table: nothing to compare
