"""Population rasters: reading GeoTIFF / netCDF, counting in polygons, cells and circles.

Every expected value is computed here independently of plumecast (1-D interval
overlaps, shoelace areas, closed-form circle areas), on small synthetic rasters.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import shapely
import xarray as xr

from plumecast.errors import DataFileError
from plumecast.population import PopulationRaster, circle_lonlat
from plumecast.units import EARTH_RADIUS_M

# a 20 x 30 grid of 0.01° cells, SW corner at (lon 5.0, lat 45.0), random people per cell
NY, NX, D = 20, 30, 0.01
LON0, LAT0 = 5.0, 45.0


def _values(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 500.0, (NY, NX))  # rows south -> north


def _edges():
    return LON0 + D * np.arange(NX + 1), LAT0 + D * np.arange(NY + 1)


def _overlap_1d(edges: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fraction of each cell [e_i, e_i+1] inside [lo, hi]."""
    a = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
    return a / np.diff(edges)


def _rect_answer(values, lon_e, lat_e, box):
    fx = _overlap_1d(lon_e, box[0], box[2])
    fy = _overlap_1d(lat_e, box[1], box[3])
    return float(fy @ values @ fx)


def _write_geotiff(path, values_south_up, lon_e, lat_e, crs="EPSG:4326", nodata=None):
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    transform = Affine(lon_e[1] - lon_e[0], 0.0, lon_e[0], 0.0, -(lat_e[1] - lat_e[0]), lat_e[-1])
    data = np.asarray(values_south_up[::-1], dtype=np.float32)  # GeoTIFF rows run north -> south
    with rasterio.open(
        path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
        dtype="float32", crs=crs, transform=transform, nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    return path


def _write_netcdf(path, values_south_up, lon_e, lat_e, *, descending_lat=True, units="1", fill=-99999.0):
    lat_c = 0.5 * (lat_e[1:] + lat_e[:-1])
    lon_c = 0.5 * (lon_e[1:] + lon_e[:-1])
    v = np.asarray(values_south_up, dtype=float)
    if descending_lat:  # as many files store it: north first
        lat_c, v = lat_c[::-1], v[::-1]
    v = np.where(np.isnan(v), fill, v)
    ds = xr.Dataset(
        {"population": (("lat", "lon"), v, {"units": units, "_FillValue": fill})},
        coords={
            "lat": ("lat", lat_c, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", lon_c, {"units": "degrees_east", "standard_name": "longitude"}),
        },
    )
    ds["population"].encoding["_FillValue"] = fill
    ds["population"].attrs.pop("_FillValue")
    ds.to_netcdf(path)
    return path


# --------------------------------------------------------------------------- polygons


def test_rectangle_sum_matches_interval_overlaps():
    v = _values()
    lon_e, lat_e = _edges()
    r = PopulationRaster(v, lon_e, lat_e)
    for box in [(5.0033, 45.0071, 5.2217, 45.1519), (5.05, 45.05, 5.06, 45.06), (5.0, 45.0, 5.3, 45.2)]:
        got = r.people_in_polygon(shapely.box(*box))
        assert got == pytest.approx(_rect_answer(v, lon_e, lat_e, box), rel=1e-10)
    assert r.people_in_polygon(shapely.box(5.0, 45.0, 5.3, 45.2)) == pytest.approx(v.sum(), rel=1e-12)


def test_rotated_triangle_and_hole_on_uniform_raster():
    """On a uniform raster the count is density x area (shoelace), for any shape."""
    lon_e, lat_e = _edges()
    per_cell = 37.0
    r = PopulationRaster(np.full((NY, NX), per_cell), lon_e, lat_e)
    tri = [(5.013, 45.021), (5.271, 45.047), (5.094, 45.188)]
    x, y = np.array(tri).T
    shoelace = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    assert r.people_in_polygon(shapely.Polygon(tri)) == pytest.approx(per_cell * shoelace / D**2, rel=1e-9)
    outer = shapely.box(5.02, 45.02, 5.25, 45.17)
    hole = shapely.box(5.101, 45.061, 5.149, 45.093)
    donut = shapely.Polygon(outer.exterior.coords, [hole.exterior.coords])
    expect = per_cell * (0.23 * 0.15 - 0.048 * 0.032) / D**2
    assert r.people_in_polygon(donut) == pytest.approx(expect, rel=1e-9)


def test_nodata_is_unknown_not_zero():
    v = _values()
    v[3:6, 10:14] = np.nan  # 12 unknown cells
    lon_e, lat_e = _edges()
    r = PopulationRaster(v, lon_e, lat_e)
    box = (5.105, 45.0, 5.3, 45.2)  # cuts column 10 in half
    c = r.count_in_polygon(shapely.box(*box))
    fx = _overlap_1d(lon_e, box[0], box[2])
    fy = _overlap_1d(lat_e, box[1], box[3])
    w = np.outer(fy, fx)
    known = np.isfinite(v)
    assert c.people == pytest.approx(float((w * np.where(known, v, 0)).sum()), rel=1e-10)
    assert c.unknown_cells == pytest.approx(float(w[~known].sum()), rel=1e-10)
    assert c.unknown_cells == pytest.approx(3 * 0.5 + 9.0)
    assert c.unknown_area_km2 > 0 and not c.complete
    # all-unknown area: NaN, never 0
    inside_hole = shapely.box(5.1005, 45.031, 5.139, 45.059)
    assert math.isnan(r.people_in_polygon(inside_hole))
    # beyond the raster: unknown area, people NaN
    off = r.count_in_polygon(shapely.box(6.0, 46.0, 6.1, 46.1))
    assert math.isnan(off.people) and off.unknown_area_km2 == pytest.approx(off.area_km2)
    # half outside: the known half is counted, the rest is unknown area
    half = r.count_in_polygon(shapely.box(5.2, 45.0, 5.4, 45.2))
    assert half.people == pytest.approx(float(v[:, 20:].sum()), rel=1e-10)
    assert half.unknown_area_km2 == pytest.approx(0.5 * half.area_km2, rel=0.01)


# --------------------------------------------------------------------------- cells and circles


def test_people_in_cells_conserves_and_matches_block_sums():
    v = _values()
    lon_e, lat_e = _edges()
    r = PopulationRaster(v, lon_e, lat_e)
    # aligned 5x5-cell blocks: exact block sums
    agg = r.people_in_cells(lon_e[::5], lat_e[::5])
    blocks = v.reshape(NY // 5, 5, NX // 5, 5).sum(axis=(1, 3))
    np.testing.assert_allclose(agg, blocks, rtol=1e-10)
    # non-aligned coarse grid covering everything: total conserved; descending lat is honoured
    lon_c = np.linspace(4.99, 5.31, 5)
    lat_c = np.linspace(45.21, 44.99, 4)
    people, unknown = r.count_in_cells(lon_c, lat_c)
    assert np.nansum(people) == pytest.approx(v.sum(), rel=1e-10)
    assert people.shape == (3, 4)
    edge = np.ones((3, 4), dtype=bool)
    edge[1, 1:3] = False  # the two middle cells lie inside the raster; all others stick out
    assert np.all(unknown[edge] > 0) and np.all(unknown[~edge] == 0)
    # a coarse cell entirely beyond the raster is NaN (unknown), not 0
    far = r.people_in_cells([6.0, 6.1], [46.0, 46.1])
    assert far.shape == (1, 1) and math.isnan(far[0, 0])


def test_people_near_matches_circle_area():
    lon_e, lat_e = _edges()
    per_cell = 100.0
    r = PopulationRaster(np.full((NY, NX), per_cell), lon_e, lat_e)
    lat, lon, radius = 45.1, 5.15, 3000.0
    # people per km² on this cell row (sphere): per_cell / cell area
    cell_km2 = (EARTH_RADIUS_M / 1e3) ** 2 * math.radians(D) * (
        math.sin(math.radians(45.1 + D / 2)) - math.sin(math.radians(45.1 - D / 2))
    )
    expect = per_cell / cell_km2 * math.pi * (radius / 1e3) ** 2
    got = r.people_near([lat, lat], [lon, lon], [radius, 0.0])
    assert got[0] == pytest.approx(expect, rel=0.01)
    assert got[1] == 0.0
    assert circle_lonlat(lat, lon, radius).is_valid


# --------------------------------------------------------------------------- files


def test_geotiff_roundtrip_and_window(tmp_path):
    v = _values()
    v[0, 0] = np.nan
    lon_e, lat_e = _edges()
    path = _write_geotiff(tmp_path / "pop.tif", np.where(np.isnan(v), -99999.0, v), lon_e, lat_e, nodata=-99999.0)
    r = PopulationRaster.load(path)
    np.testing.assert_allclose(r.lon_edges, lon_e, atol=1e-9)
    np.testing.assert_allclose(r.lat_edges, lat_e, atol=1e-9)
    np.testing.assert_allclose(r.values, v.astype(np.float32), rtol=1e-6, equal_nan=True)
    assert r.unknown_cells == 1
    box = (5.0033, 45.0071, 5.2217, 45.1519)
    v32 = np.where(np.isnan(v), 0.0, v.astype(np.float32).astype(float))
    assert r.people_in_polygon(shapely.box(*box)) == pytest.approx(_rect_answer(v32, lon_e, lat_e, box), rel=1e-6)
    win = PopulationRaster.load(path, bbox=(5.101, 45.051, 5.149, 45.079))
    assert win.values.shape == (3, 5)
    np.testing.assert_allclose(win.values, v[5:8, 10:15].astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(win.lon_edges, lon_e[10:16], atol=1e-9)


def test_geotiff_other_crs_rejected(tmp_path):
    lon_e = np.arange(31) * 100.0
    lat_e = 5_000_000 + np.arange(21) * 100.0
    path = _write_geotiff(tmp_path / "mercator.tif", _values(), lon_e, lat_e, crs="EPSG:3857")
    with pytest.raises(DataFileError, match=r"mercator\.tif.*EPSG:3857.*expected EPSG:4326"):
        PopulationRaster.load(path)


def test_geotiff_without_rasterio_gives_install_hint(tmp_path, monkeypatch):
    (tmp_path / "pop.tif").write_bytes(b"II*\x00")
    monkeypatch.setitem(sys.modules, "rasterio", None)  # import rasterio -> ImportError
    with pytest.raises(DataFileError, match=r"pop\.tif.*rasterio.*pip install 'plumecast\[raster\]'"):
        PopulationRaster.load(tmp_path / "pop.tif")


def test_netcdf_roundtrip_fill_and_polygon(tmp_path):
    v = _values()
    v[4, 7] = np.nan
    lon_e, lat_e = _edges()
    path = _write_netcdf(tmp_path / "pop.nc", v, lon_e, lat_e)
    r = PopulationRaster.load(path)
    np.testing.assert_allclose(r.lat_edges, lat_e, atol=1e-9)
    np.testing.assert_allclose(r.values, v, equal_nan=True)
    box = (5.0033, 45.0071, 5.2217, 45.1519)
    c = r.count_in_polygon(shapely.box(*box))
    assert c.people == pytest.approx(_rect_answer(np.nan_to_num(v), lon_e, lat_e, box), rel=1e-10)
    assert c.unknown_cells == pytest.approx(1.0)
    win = PopulationRaster.load(path, bbox=(5.071, 45.041, 5.089, 45.049))
    assert win.values.shape == (1, 2)
    np.testing.assert_allclose(win.values, v[4:5, 7:9], equal_nan=True)


def test_netcdf_projected_and_density_rejected(tmp_path):
    ds = xr.Dataset(
        {"pop": (("y", "x"), np.ones((3, 4)))},
        coords={"y": ("y", np.arange(3) * 1000.0, {"units": "m"}), "x": ("x", np.arange(4) * 1000.0, {"units": "m"})},
    )
    ds.to_netcdf(tmp_path / "moll.nc")
    with pytest.raises(DataFileError, match=r"moll\.nc.*EPSG:4326"):
        PopulationRaster.load(tmp_path / "moll.nc")
    lon_e, lat_e = _edges()
    _write_netcdf(tmp_path / "dens.nc", _values(), lon_e, lat_e, units="people km-2")
    with pytest.raises(DataFileError, match=r"dens\.nc.*density.*persons per cell"):
        PopulationRaster.load(tmp_path / "dens.nc")
    with pytest.raises(DataFileError, match=r"missing\.tif.*not found"):
        PopulationRaster.load(tmp_path / "missing.tif")


# --------------------------------------------------------------------------- real products (audit)


def _tif(path, data_north_first, transform, *, crs="EPSG:4326", dtype="float32", nodata=None, count=1,
         units=None, tags=None, **kw):
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(path, "w", driver="GTiff", height=data_north_first.shape[0], width=data_north_first.shape[1],
                       count=count, dtype=dtype, crs=crs, transform=transform, nodata=nodata, **kw) as dst:
        for b in range(1, count + 1):
            dst.write(np.asarray(data_north_first, dtype=dtype), b)
        if units is not None:
            dst.units = (units,) * count
        if tags is not None:
            dst.update_tags(**tags)
    return path


def test_worldpop_and_landscan_sums_match_the_file(tmp_path):
    from affine import Affine

    d = 3.0 / 3600.0  # WorldPop 3 arc-s, float32, nodata -99999
    a = np.random.default_rng(2).uniform(0.0, 20.0, (60, 80)).astype(np.float32)
    a[:5, :5] = -99999.0
    r = PopulationRaster.load(_tif(tmp_path / "wp.tif", a, Affine(d, 0, 10.0, 0, -d, 50.0), nodata=-99999.0))
    assert r.total == pytest.approx(float(a[a > -1].astype(float).sum()), rel=1e-9)
    assert r.unknown_cells == 25 and not r.notes
    # a polygon over the nodata corner: the unknown part is area, never 0 people
    c = r.count_in_polygon(shapely.box(10.0, 50.0 - 10 * d, 10.0 + 10 * d, 50.0))
    assert c.unknown_cells == pytest.approx(25.0) and c.unknown_area_km2 > 0
    assert c.people == pytest.approx(float(a[:10, :10][a[:10, :10] > -1].astype(float).sum()), rel=1e-9)
    d30 = 30.0 / 3600.0  # LandScan 30 arc-s, int32, nodata -2147483647
    ls = np.random.default_rng(3).integers(0, 1000, (40, 40)).astype(np.int32)
    ls[0, :] = -2147483647
    r = PopulationRaster.load(_tif(tmp_path / "ls.tif", ls, Affine(d30, 0, 10.0, 0, -d30, 50.0), dtype="int32",
                                   nodata=-2147483647))
    assert r.total == float(ls[ls >= 0].sum()) and r.unknown_cells == 40
    # aggregated onto a coarser grid: people conserved, the nodata row is unknown area
    people, unknown = r.count_in_cells(np.linspace(10.0, 10.0 + 40 * d30, 5), np.linspace(50.0 - 40 * d30, 50.0, 5))
    assert np.nansum(people) == pytest.approx(r.total, rel=1e-9)
    assert np.all(unknown[-1] > 0) and np.all(unknown[:-1] == 0)


def test_bottom_up_geotiff_is_read_south_to_north(tmp_path):
    from affine import Affine

    v = _values()  # rows south -> north, as a bottom-up GeoTIFF stores them
    lon_e, lat_e = _edges()
    path = _tif(tmp_path / "bu.tif", v, Affine(D, 0, LON0, 0, D, LAT0))
    r = PopulationRaster.load(path)
    np.testing.assert_allclose(r.lat_edges, lat_e, atol=1e-9)
    np.testing.assert_allclose(r.values, v.astype(np.float32), rtol=1e-6)
    win = PopulationRaster.load(path, bbox=(5.101, 45.051, 5.149, 45.079))
    np.testing.assert_allclose(win.values, v[5:8, 10:15].astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(win.lat_edges, lat_e[5:9], atol=1e-9)


@pytest.mark.parametrize("units", ["people/km2", "Persons per square kilometer", "inhabitants per sq km"])
def test_geotiff_density_units_rejected(tmp_path, units):
    from affine import Affine

    path = _tif(tmp_path / "dens.tif", np.full((10, 10), 100.0), Affine(0.01, 0, 10, 0, -0.01, 50), units=units)
    with pytest.raises(DataFileError, match=r"dens\.tif.*density.*persons per cell"):
        PopulationRaster.load(path)
    tagged = _tif(tmp_path / "tag.tif", np.full((10, 10), 100.0), Affine(0.01, 0, 10, 0, -0.01, 50),
                  tags={"units": units})
    with pytest.raises(DataFileError, match=r"tag\.tif.*density"):
        PopulationRaster.load(tagged)


@pytest.mark.parametrize("units", ["Persons per square kilometer", "inhabitants/sq km", "persons km-2"])
def test_netcdf_density_units_as_real_products_write_them(tmp_path, units):
    lon_e, lat_e = _edges()
    _write_netcdf(tmp_path / "gpw.nc", _values(), lon_e, lat_e, units=units)  # GPW v4: "Persons per square kilometer"
    with pytest.raises(DataFileError, match=r"gpw\.nc.*density"):
        PopulationRaster.load(tmp_path / "gpw.nc")


def test_multiband_geotiff_rejected(tmp_path):
    from affine import Affine

    path = _tif(tmp_path / "mb.tif", np.ones((10, 10)), Affine(0.01, 0, 10, 0, -0.01, 50), count=2)
    with pytest.raises(DataFileError, match=r"mb\.tif: 2 bands; expected one band"):
        PopulationRaster.load(path)


def test_scale_offset_and_compressed_tiled_window(tmp_path):
    from affine import Affine

    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(tmp_path / "so.tif", "w", driver="GTiff", height=10, width=10, count=1, dtype="int16",
                       crs="EPSG:4326", transform=Affine(0.01, 0, 10, 0, -0.01, 50), nodata=-1) as dst:
        arr = np.full((10, 10), 100, np.int16)
        arr[0, 0] = -1
        dst.write(arr, 1)
        dst.scales, dst.offsets = (0.5,), (1.0,)
    r = PopulationRaster.load(tmp_path / "so.tif")
    assert r.unknown_cells == 1 and r.total == pytest.approx(99 * 51.0)  # nodata masked before scaling
    big = np.random.default_rng(4).uniform(0.0, 5.0, (512, 512)).astype(np.float32)
    d = 3.0 / 3600.0
    path = _tif(tmp_path / "tiled.tif", big, Affine(d, 0, 10, 0, -d, 50), nodata=-99999.0, compress="deflate",
                tiled=True, blockxsize=256, blockysize=256)
    win = PopulationRaster.load(path, bbox=(10.1, 49.9, 10.12, 49.92))
    rows = slice(int(round(0.08 / d)), int(round(0.1 / d)))
    cols = slice(int(round(0.1 / d)), int(round(0.12 / d)))
    assert win.total == pytest.approx(float(big[rows, cols].astype(float).sum()), rel=1e-9)


def test_huge_window_refused_before_reading(tmp_path, monkeypatch):
    from affine import Affine

    import plumecast.population as pop

    path = _tif(tmp_path / "big.tif", np.ones((100, 100)), Affine(0.01, 0, 10, 0, -0.01, 50))
    monkeypatch.setattr(pop, "MAX_CELLS", 5000)
    with pytest.raises(DataFileError, match=r"big\.tif: .*10,000 cells.*more than 5,000.*crop"):
        PopulationRaster.load(path)
    assert PopulationRaster.load(path, bbox=(10.0, 49.5, 10.5, 50.0)).values.shape == (50, 50)


def test_longitudes_0_360_and_across_the_dateline(tmp_path):
    from affine import Affine

    # a global CF netCDF on 0..360: a window west of Greenwich is read in the caller's frame
    lon_c = np.arange(0.05, 360.0, 0.1)
    lat_c = np.arange(-0.95, 1.0, 0.1)
    vals = np.tile(np.arange(lon_c.size, dtype=float), (lat_c.size, 1))
    ds = xr.Dataset({"pop": (("lat", "lon"), vals)},
                    coords={"lat": ("lat", lat_c, {"units": "degrees_north"}),
                            "lon": ("lon", lon_c, {"units": "degrees_east"})})
    ds.to_netcdf(tmp_path / "g360.nc")
    r = PopulationRaster.load(tmp_path / "g360.nc", bbox=(-9.96, -0.46, -9.04, 0.46))
    np.testing.assert_allclose(r.lon_edges, np.linspace(-10.0, -9.0, 11), atol=1e-9)
    np.testing.assert_allclose(r.values[0], np.arange(3500, 3510), atol=1e-9)
    # a box across 180 on a global -180..180 GeoTIFF: both sides are read, nothing twice
    g = np.tile(np.arange(3600, dtype=np.float32), (20, 1))
    path = _tif(tmp_path / "g180.tif", g, Affine(0.1, 0, -180.0, 0, -0.1, 1.0))
    r = PopulationRaster.load(path, bbox=(179.54, -0.46, 180.46, 0.46))
    np.testing.assert_allclose(r.lon_edges, np.linspace(179.5, 180.5, 11), atol=1e-9)
    np.testing.assert_allclose(r.values[0], [3595, 3596, 3597, 3598, 3599, 0, 1, 2, 3, 4])
    c = r.count_in_polygon(shapely.box(179.5, -0.5, 180.5, 0.5))
    assert c.complete and c.people == pytest.approx(10 * (5 * 3597 + 10))
    # a box west of -180 (same place): the same cells
    r2 = PopulationRaster.load(path, bbox=(-180.46, -0.46, -179.54, 0.46))
    np.testing.assert_allclose(r2.values, r.values)
    np.testing.assert_allclose(r2.lon_edges, r.lon_edges - 360.0, atol=1e-9)
