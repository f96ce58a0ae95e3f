"""An output grid across the antimeridian (``output.grid`` with lon_min > lon_max, or
lon_max beyond 180): the grid, the gridding of particles, concentration.nc, the
receptors and the consequences on it, the map and the dashboard's grid box.

The physics on a uniform wind is invariant under a shift in longitude, so a release at
179.5 E on the grid 170 .. -170 must give the field of a release at -0.5 E on the grid
-10 .. 10, cell for cell. The tolerance is 1e-6 of the peak (the transport's rounding
differs in the last bits between the two longitudes; a particle exactly on a cell edge
could change cell); the runs agree exactly today."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from plumecast.concentration import OutputGrid, sample_bilinear
from plumecast.population import PopulationRaster
from plumecast.runner import RunResult, run, write_outputs
from plumecast.scenario import scenario_from_dict
from plumecast.scenario_grid import GridConfig

ACROSS = {"lon_min": 170, "lon_max": -170, "lat_min": 45, "lat_max": 55, "resolution_deg": 0.5}
AT_ZERO = {"lon_min": -10, "lon_max": 10, "lat_min": 45, "lat_max": 55, "resolution_deg": 0.5}


def scenario(lon_src: float, grid: dict[str, float], rec_lon: float, backend: str = "numpy", **over: Any) -> Any:
    """3 h on a uniform 10 m s-1 westerly: 1 h of chlorine from 50 N ``lon_src``; a receptor
    at 50 N ``rec_lon`` (1 deg east of the release: across 180 from 179.5)."""
    data: dict[str, Any] = {
        "name": "dateline", "start": "2026-01-15T00:00:00Z", "duration_h": 3, "time_step_s": 600,
        "particles": 4000, "seed": 4, "backend": backend, "agent": {"name": "chlorine"},
        "met": {"source": "uniform", "u_m_s": 10.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "ship", "lat": 50.0, "lon": lon_src, "height_m": 10,
                      "rate_kg_s": 50.0, "stop_h": 1}],
        "output": {"grid": grid},
        "receptors": {"points": [{"name": "East", "lat": 50.0, "lon": rec_lon, "population": 10000}]},
    }
    data.update(over)
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def pair() -> tuple[RunResult, RunResult]:
    """The run across the line and the same run shifted to 0 E."""
    return run(scenario(179.5, ACROSS, -179.5)), run(scenario(-0.5, AT_ZERO, 0.5))


# ------------------------------------------------------------------ the grid


def test_both_spellings_are_the_same_grid_across_the_line() -> None:
    a = GridConfig(**ACROSS)
    b = GridConfig(**(ACROSS | {"lon_max": 190}))
    for g in (a, b):
        assert g.crosses_antimeridian and g.lon_span == 20.0 and g.lon_east == 190.0
        assert g.n_cells == 40 * 20
        assert g.contains(50, 175) and g.contains(50, -175) and g.contains(50, 180) and g.contains(50, -170)
        assert not g.contains(50, 0) and not g.contains(50, -169.5) and not g.contains(50, 169.5)
        og = OutputGrid.from_config(g)
        assert og.nlon == 40 and og.lon[0] == 170.25 and og.lon[-1] == 189.75
        assert np.all(np.diff(og.lon) > 0) and og.lon_edges[-1] == 190.0
        assert og.wrap_lon(-175.0) == 185.0
    plain = GridConfig(**AT_ZERO)
    assert not plain.crosses_antimeridian and plain.lon_span == 20.0 and not plain.contains(50, 175)
    assert GridConfig().lon_span == 360.0 and GridConfig().contains(0, 180) and GridConfig().contains(0, -180)


@pytest.mark.parametrize("grid, said", [
    (ACROSS | {"lon_max": 170}, "equals lon_min"),
    ({"lon_min": -170, "lon_max": 200}, "more than 360 deg east of lon_min"),
    (ACROSS | {"lon_max": -169.7}, "the span lon_min..lon_max across 180 deg (20.3 deg)"),
])
def test_grids_that_cannot_be_are_refused(grid: dict[str, float], said: str) -> None:
    with pytest.raises(ValueError) as err:
        GridConfig(**grid)
    assert said in str(err.value)
    if "20.3" in said:  # the bound suggested is written as the user wrote the box
        assert "lon_max: -169.5 (41 cells)" in str(err.value)


def test_release_across_the_line_is_on_the_grid_no_note() -> None:
    assert not [n for n in scenario(179.5, ACROSS, -179.5).notes() if "outside output.grid" in n]
    assert [n for n in scenario(160.0, ACROSS, -179.5).notes() if "outside output.grid" in n]


def test_bilinear_reads_a_receptor_west_of_the_line_in_the_grid_frame() -> None:
    g = OutputGrid.from_config(GridConfig(**ACROSS))
    field = xr.DataArray(np.broadcast_to(g.lon, (1, g.nlat, g.nlon)).copy(), dims=("time", "lat", "lon"),
                         coords={"time": [np.datetime64("2026-01-01T00:00", "ns")], "lat": g.lat, "lon": g.lon})
    values, inside = sample_bilinear(field, [50.0, 50.0, 50.0, 50.0], [-179.0, 175.0, 170.1, -160.0])
    assert inside.tolist() == [True, True, True, False]
    np.testing.assert_allclose(values[0, :3], [181.0, 175.0, 170.25])


# ------------------------------------------------------------------ the run


def test_field_across_the_line_is_the_shifted_field_at_zero(pair: tuple[RunResult, RunResult]) -> None:
    a, b = pair
    ca, cb = a.concentration, b.concentration
    np.testing.assert_allclose(ca["lon"].values, cb["lon"].values + 180.0)
    assert np.all(np.diff(ca["lon"].values) > 0)
    peak = float(cb.max())
    assert peak > 0
    east = ca.values[..., 20:]  # cells east of 180
    assert east.sum() > 0.3 * ca.values.sum(), "the gas that crossed 180 must be on the grid"
    np.testing.assert_allclose(ca.values, cb.values, rtol=0, atol=1e-6 * peak)
    assert a.budget.released == b.budget.released and a.budget.exited == b.budget.exited == 0


def test_consequences_at_a_receptor_across_the_line(pair: tuple[RunResult, RunResult]) -> None:
    a, b = pair
    sa, sb = a.receptor_series, b.receptor_series
    assert sa is not None and sb is not None
    peak = float(np.nanmax(sb.values))
    assert peak > 0
    np.testing.assert_allclose(sa.values, sb.values, rtol=0, atol=1e-6 * peak)
    qa, qb = a.consequences(), b.consequences()
    for name in ("fatalities", "concentration"):
        np.testing.assert_allclose(np.nan_to_num(qa[name].values), np.nan_to_num(qb[name].values), rtol=1e-6,
                                   atol=1e-30)


@pytest.mark.parametrize("backend", ["numba"])
def test_numba_grids_the_particles_across_the_line(backend: str) -> None:
    a = run(scenario(179.5, ACROSS, -179.5, backend=backend))
    b = run(scenario(-0.5, AT_ZERO, 0.5, backend=backend))
    peak = float(b.concentration.max())
    assert float(a.concentration[..., 20:].sum()) > 0
    np.testing.assert_allclose(a.concentration.values, b.concentration.values, rtol=0, atol=1e-6 * peak)


def test_cuda_kernels_built_for_the_cpu_grid_across_the_line(pair: tuple[RunResult, RunResult],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The CUDA C's gridding (``add_to_cell``), compiled for the CPU (tests/transport/cuda_host.py),
    against the NumPy run across the line; on a GPU, tests/test_gpu.py's comparisons cover it."""
    from plumecast.transport import kernels_cuda
    from tests.transport.cuda_host import HostArrays, compiler

    if compiler() is None:
        pytest.skip("no C++ compiler to build the CUDA kernels for the CPU")
    monkeypatch.setitem(kernels_cuda._BACKENDS, "float64", kernels_cuda.CudaBackend("float64", array_module=HostArrays))
    b = run(scenario(179.5, ACROSS, -179.5, backend="cuda"))
    a = pair[0].concentration
    assert float(b.concentration[..., 20:].sum()) > 0.3 * float(b.concentration.sum())
    np.testing.assert_allclose(b.concentration.values, a.values, rtol=1e-6, atol=1e-9 * float(a.max()))


def test_concentration_nc_has_increasing_longitudes_beyond_180(pair: tuple[RunResult, RunResult],
                                                                 tmp_path: Path) -> None:
    write_outputs(pair[0], tmp_path)
    with xr.open_dataset(tmp_path / "concentration.nc") as ds:
        lon = ds["lon"].values
        assert ds["lon"].attrs["units"] == "degrees_east"
        assert lon[0] == 170.25 and lon[-1] == 189.75 and np.all(np.diff(lon) > 0)
        np.testing.assert_allclose(ds["lon_bnds"].values[[0, -1]], [[170.0, 170.5], [189.5, 190.0]])
        # xarray selects across the line by the file's own longitudes
        assert ds["concentration"].sel(lon=slice(180, 190)).sizes["lon"] == 20


# ------------------------------------------------------------------ people on the grid


def test_population_raster_counts_cells_east_of_the_line() -> None:
    # a -180..180 raster, 100 people in each 0.25 deg cell; the grid's cells at 180..190 are its -180..-170 cells
    raster = PopulationRaster(np.full((4, 1440), 100.0), np.arange(-180.0, 180.01, 0.25), np.arange(49.0, 50.01, 0.25))
    g = OutputGrid.from_config(GridConfig(**ACROSS))
    people, unknown = raster.count_in_cells(g.lon_edges, [49.0, 50.0])
    np.testing.assert_allclose(people, 4 * 2 * 100.0)
    np.testing.assert_allclose(unknown, 0.0)


def test_run_across_the_line_end_to_end(tmp_path: Path) -> None:
    """``plumecast run``'s outputs: people counted from a -180..180 raster on both sides of
    the line as in the shifted run, the map and animation written, the dashboard's grid box
    in one piece and a point across the line read from its cell."""
    from plumecast.cli.global_run import execute

    pop = tmp_path / "pop.nc"
    lon_c = np.arange(-180.0, 180.0, 0.25) + 0.125
    lat_c = np.arange(44.0, 56.0, 0.25) + 0.125
    xr.Dataset({"population": (("lat", "lon"), np.full((lat_c.size, lon_c.size), 100.0))},
               coords={"lat": ("lat", lat_c, {"units": "degrees_north"}),
                       "lon": ("lon", lon_c, {"units": "degrees_east"})}).to_netcdf(pop)
    rows = {}
    for key, lon_src, grid, rec in (("across", 179.5, ACROSS, -179.5), ("zero", -0.5, AT_ZERO, 0.5)):
        sc = scenario(lon_src, grid, rec, receptors={"points": [{"name": "East", "lat": 50.0, "lon": rec,
                                                                  "population": 10000}],
                                                       "population_raster": str(pop)},
                      releases=[{"type": "point", "name": "ship", "lat": 50.0, "lon": lon_src, "height_m": 10,
                                 "rate_kg_s": 3000.0, "stop_h": 1}])
        out = tmp_path / key
        out.mkdir()
        execute(sc, out, title=key, map_png=True, quiet=True)
        assert (out / "concentration_map.png").stat().st_size > 1000
        assert (out / "concentration_animation.gif").stat().st_size > 1000
        rows[key] = list(csv.DictReader((out / "people_above_aegl.csv").open()))
    assert rows["across"] == rows["zero"]
    for r in rows["across"]:
        assert float(r["people"]) == pytest.approx(400.0 * int(r["cells"]))
    assert int(rows["across"][0]["cells"]) >= 1

    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from plumecast.web.app import create_app

    c = TestClient(create_app(tmp_path / "across"), base_url="http://127.0.0.1:8765")
    v = c.get("/api/view/run").json()
    g = v["grid"]
    assert (g["lon0"], g["lon1"], g["nlon"], g["lat0"], g["lat1"]) == (170.0, 190.0, 40, 45.0, 55.0)
    frames = []
    for lon in (-179.75, 180.25):  # one cell, written both ways
        p = c.get("/api/view/run/point", params={"lat": 50.1, "lon": lon, "name": "x"}).json()
        assert p["known"] is True, p
        frames.append(p)
    assert frames[0]["conc"] == frames[1]["conc"]
    assert max(v for v in frames[0]["conc"] if v is not None) > 0
    far = c.get("/api/view/run/point", params={"lat": 50.1, "lon": 0.0, "name": "y"}).json()
    assert far["known"] is False


# ------------------------------------------------------------------ maps and the dashboard's grid


def _field(lon: np.ndarray) -> xr.DataArray:
    vals = np.zeros((1, 4, lon.size))
    vals[0, 1, :] = 1.0 + np.arange(lon.size)
    return xr.DataArray(vals, dims=("time", "lat", "lon"),
                        coords={"time": [np.datetime64("2026-01-01T00:00", "ns")], "lat": [49.0, 50.0, 51.0, 52.0],
                                "lon": lon})


@pytest.mark.parametrize("lon", [np.arange(170.5, 190.0, 1.0),  # as plumecast writes it
                                 (np.arange(170.5, 190.0, 1.0) + 180.0) % 360.0 - 180.0])  # as -180..180
def test_map_is_continuous_across_the_line(lon: np.ndarray, tmp_path: Path) -> None:
    from plumecast.maps import _draw, animate_concentration, plot_concentration_map
    from plumecast.receptors import Receptors

    da = _field(lon)
    fig = _draw(da, title="t", units_label="u", receptors=None, label_n=0, log_scale=True, vmin=None, extent=None)
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((170.5, 189.5))
    # land copied east of 180: something is drawn in the window beyond the line (Chukotka, Alaska)
    rec = Receptors(name=np.array(["West", "Far"]), lat=np.array([50.0, 50.0]), lon=np.array([-175.0, 0.0]),
                    population=np.array([1000.0, 5.0e6]), country=np.array(["", ""]))
    fig = _draw(da, title="t", units_label="u", receptors=rec, label_n=5, log_scale=True, vmin=None,
                extent=(170.0, 190.0, 40.0, 75.0))
    ax = fig.axes[0]
    labels = {t.get_text(): t.xy for t in ax.texts if t.get_text() in ("West", "Far")}
    assert set(labels) == {"West"} and labels["West"][0] == pytest.approx(185.0)
    xs = np.concatenate([np.asarray(p.get_xy())[:, 0] for p in ax.patches if hasattr(p, "get_xy")])
    assert np.any((xs > 180.0) & (xs < 190.0))
    assert plot_concentration_map(da, tmp_path / "m.png", title="t", units_label="u").stat().st_size > 1000
    assert animate_concentration(da, tmp_path / "m.gif", title="t").stat().st_size > 100


def test_dashboard_grid_box_is_one_piece_across_the_line() -> None:
    from plumecast.web.encode import grid_box, lon_order

    lat = np.array([49.5, 50.5])
    for lon in (np.arange(170.25, 190.0, 0.5), (np.arange(170.25, 190.0, 0.5) + 180.0) % 360.0 - 180.0):
        g = grid_box(lat, lon)
        assert (g["lon0"], g["lon1"], g["nlon"]) == (170.0, 190.0, 40)
        order, ordered = lon_order(lon)
        assert np.all(np.diff(ordered) > 0) and ordered[0] == 170.25 and ordered[-1] == 189.75
        np.testing.assert_allclose((lon[order] - 170.25) % 360.0, np.arange(40) * 0.5)
    g = grid_box(lat, np.arange(-179.5, 180.0, 1.0))  # a global grid stays as it is
    assert (g["lon0"], g["lon1"], g["nlon"]) == (-180.0, 180.0, 360)
