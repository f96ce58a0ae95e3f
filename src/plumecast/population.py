"""Where people are, from a gridded population raster (WorldPop, GHS-POP, LandScan).

A :class:`PopulationRaster` holds a regular longitude/latitude grid of **persons per
cell** (the unit WorldPop "ppp", GHS-POP and LandScan count products use). It reads

* GeoTIFF through ``rasterio`` (``pip install 'plumecast[raster]'``), and
* CF netCDF through ``xarray`` (1-D ``lat``/``lon`` coordinates, regularly spaced).

Only EPSG:4326 lon/lat grids are accepted; a raster in another CRS (e.g. the
Mollweide GHS-POP tiles, ESRI:54009) is rejected with a message naming the file:
reproject it first (``gdalwarp -t_srs EPSG:4326 -r sum ...`` keeps persons per cell).

Counting (:meth:`PopulationRaster.people_in_polygon`, :meth:`people_in_cells`,
:meth:`people_near`) assumes people spread uniformly over each cell's area, so a
cell partly inside a polygon contributes ``persons x (area inside / cell area)``.
Nodata cells are **unknown, not zero**: they are left out of the people sum and
counted separately (:class:`PopulationCount`), together with any part of the
polygon beyond the raster's extent. A polygon with no known cell at all has
``people = NaN``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from plumecast.errors import DataFileError
from plumecast.units import EARTH_RADIUS_M

__all__ = ["PopulationCount", "PopulationRaster", "circle_lonlat"]

BBox = tuple[float, float, float, float]

_INSTALL_HINT = "pip install 'plumecast[raster]'"
_NETCDF_SUFFIXES = {".nc", ".nc4", ".netcdf", ".cdf"}
_TIFF_SUFFIXES = {".tif", ".tiff", ".gtif", ".geotiff"}
_DENSITY_UNITS = (
    "km-2", "km^-2", "km2", "km²", "km⁻²", "/km", "m-2", "m^-2", "/m2", "m²", "per km", "per m2", "/ha", "ha-1",
    "per ha", "hectare", "square", "sq km", "sq. km", "sqkm", "sq mi", "density",
)

#: Most cells :meth:`PopulationRaster.load` reads at once (8 bytes each in memory, about
#: twice that while reading); a larger window is refused before anything is read.
MAX_CELLS = 200_000_000


@dataclass(frozen=True)
class PopulationCount:
    """People counted in an area, with what the raster could not say.

    Attributes
    ----------
    people : float
        People in the known cells (fraction-weighted). NaN when no known cell
        covers any part of the area. [persons]
    unknown_cells : float
        Nodata cells inside, fraction-weighted (a half-covered nodata cell counts
        0.5). Parts beyond the raster's extent are not cells and count only in
        ``unknown_area_km2``. [cells]
    unknown_area_km2 : float
        Area inside without a known population: nodata cells plus any part
        beyond the raster's extent. [km²]
    area_km2 : float
        The whole area. [km²]
    """

    people: float
    unknown_cells: float
    unknown_area_km2: float
    area_km2: float

    @property
    def complete(self) -> bool:
        """True when every part of the area has a known population."""
        return self.unknown_area_km2 <= 1e-9 * max(self.area_km2, 1e-30)


def _spherical_cell_area_km2(lon_edges: NDArray[np.float64], lat_edges: NDArray[np.float64]) -> NDArray[np.float64]:
    """Area of lon/lat cells on a sphere, ``R² Δλ (sin φ2 − sin φ1)``. [km²] shape (lat, lon)"""
    dlam = np.radians(np.diff(lon_edges))
    dsin = np.diff(np.sin(np.radians(lat_edges)))
    return np.asarray((EARTH_RADIUS_M / 1000.0) ** 2 * np.outer(dsin, dlam), dtype=float)


def _km2_per_deg2(lat: float) -> float:
    """Area of one square degree at latitude ``lat`` (local approximation). [km² deg-2]"""
    k = math.radians(1.0) * EARTH_RADIUS_M / 1000.0
    return k * k * max(math.cos(math.radians(lat)), 1e-6)


def _overlap_matrix(coarse: NDArray[np.float64], fine: NDArray[np.float64]) -> NDArray[np.float64]:
    """Length of overlap of each coarse interval with each fine interval, shape (coarse, fine)."""
    lo = np.maximum(coarse[:-1, None], fine[None, :-1])
    hi = np.minimum(coarse[1:, None], fine[None, 1:])
    return np.asarray(np.maximum(hi - lo, 0.0), dtype=float)


def circle_lonlat(lat: float, lon: float, radius_m: float, n_vertices: int = 128) -> shapely.Polygon:
    """A circle of ``radius_m`` about (lat, lon) as a lon/lat polygon.

    Local equirectangular projection about the centre (error < 0.1 % for radii
    under ~20 km at mid-latitudes). The vertex radius is enlarged by
    ``sqrt(2π / (n sin(2π/n)))`` so that the polygon has the circle's area.
    """
    n = int(n_vertices)
    r = float(radius_m) * math.sqrt(2.0 * math.pi / (n * math.sin(2.0 * math.pi / n)))
    theta = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    dlat = np.degrees(r * np.sin(theta) / EARTH_RADIUS_M)
    dlon = np.degrees(r * np.cos(theta) / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6)))
    return shapely.Polygon(np.column_stack([lon + dlon, lat + dlat]))


@dataclass(frozen=True, eq=False)
class PopulationRaster:
    """A regular lon/lat grid of persons per cell.

    Parameters
    ----------
    values : numpy.ndarray, shape (lat, lon)
        Persons per cell, rows from south to north; NaN where unknown (nodata).
    lon_edges : numpy.ndarray, shape (lon + 1,)
        Cell edges, increasing. [deg E]
    lat_edges : numpy.ndarray, shape (lat + 1,)
        Cell edges, increasing. [deg N]
    source : str
        Where the values came from (file name), for messages and outputs.
    notes : tuple of str
        What was done on reading (e.g. negative values taken as nodata).
    """

    values: NDArray[np.float64]
    lon_edges: NDArray[np.float64]
    lat_edges: NDArray[np.float64]
    source: str = "in-memory raster"
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        v = np.array(self.values, dtype=np.float64, copy=True)
        lon = np.array(self.lon_edges, dtype=np.float64, copy=True)
        lat = np.array(self.lat_edges, dtype=np.float64, copy=True)
        if v.ndim != 2 or lon.shape != (v.shape[1] + 1,) or lat.shape != (v.shape[0] + 1,):
            raise DataFileError(
                f"{self.source}: population grid of shape {v.shape} with {lon.size} lon and "
                f"{lat.size} lat edges; expected (lat, lon) values and lat+1, lon+1 edges"
            )
        if v.size == 0:
            raise DataFileError(f"{self.source}: population raster has no cells in the area asked for")
        if np.any(np.diff(lon) <= 0) or np.any(np.diff(lat) <= 0):
            raise DataFileError(f"{self.source}: cell edges must increase strictly")
        if lat[0] < -90.0 - 1e-6 or lat[-1] > 90.0 + 1e-6:
            raise DataFileError(
                f"{self.source}: latitudes {lat[0]:g}..{lat[-1]:g} outside -90..90; expected an EPSG:4326 lon/lat grid"
            )
        v[~np.isfinite(v)] = np.nan
        for arr in (v, lon, lat):
            arr.setflags(write=False)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "lon_edges", lon)
        object.__setattr__(self, "lat_edges", lat)

    # ------------------------------------------------------------------ reading

    @classmethod
    def load(cls, path: str | Path, *, bbox: BBox | None = None, variable: str | None = None) -> PopulationRaster:
        """Read a population raster (GeoTIFF or CF netCDF), optionally only a window.

        Parameters
        ----------
        path : str or Path
            ``.tif``/``.tiff`` (needs rasterio) or ``.nc`` file of persons per cell
            on an EPSG:4326 lon/lat grid.
        bbox : (lon_min, lat_min, lon_max, lat_max), optional
            Read only the cells overlapping this box (a global 100 m raster does
            not fit in memory). [deg]
        variable : str, optional
            netCDF variable; default: the only 2-D variable on lat/lon.

        Raises
        ------
        DataFileError
            Missing or unreadable file, another CRS, a rotated or irregular grid,
            a density unit instead of persons per cell, no cell in ``bbox``, or
            rasterio missing for a GeoTIFF (the message gives the install command).
        """
        p = Path(path)
        if not p.exists():
            raise DataFileError(f"{p}: population raster not found; expected a GeoTIFF or netCDF file")
        suffix = p.suffix.lower()
        if suffix in _NETCDF_SUFFIXES:
            return _load_netcdf(p, bbox, variable)
        if suffix in _TIFF_SUFFIXES:
            return _load_geotiff(p, bbox)
        raise DataFileError(
            f"{p}: unknown population raster type {suffix!r}; expected .tif/.tiff (GeoTIFF) or .nc (netCDF)"
        )

    # ------------------------------------------------------------------ properties

    @property
    def bounds(self) -> BBox:
        """(lon_min, lat_min, lon_max, lat_max) of the grid. [deg]"""
        return (float(self.lon_edges[0]), float(self.lat_edges[0]), float(self.lon_edges[-1]), float(self.lat_edges[-1]))

    @property
    def total(self) -> float:
        """People in all known cells. [persons]"""
        return float(np.nansum(self.values))

    @property
    def unknown_cells(self) -> int:
        """Number of nodata cells in the grid."""
        return int(np.isnan(self.values).sum())

    def describe(self) -> str:
        """One line: source, grid and nodata cells."""
        ny, nx = self.values.shape
        dx = float(self.lon_edges[1] - self.lon_edges[0])
        return (
            f"{self.source}: {nx} x {ny} cells of {dx * 3600:.3g} arc-s, {self.total:,.0f} people, "
            f"{self.unknown_cells} nodata cell(s)"
        )

    # ------------------------------------------------------------------ counting

    def count_in_polygon(self, polygon: Any) -> PopulationCount:
        """People inside a lon/lat (multi)polygon, with the unknown part.

        Cells wholly inside count fully; cells cut by the boundary count by the
        fraction of their (lon/lat) area inside, computed by exact polygon
        intersection (shapely, vectorised; only boundary cells are intersected).
        """
        geom = shapely.make_valid(polygon) if not polygon.is_valid else polygon
        if geom.is_empty or geom.area == 0.0:
            return PopulationCount(0.0, 0.0, 0.0, 0.0)
        minx, miny, maxx, maxy = geom.bounds
        area_km2 = geom.area * _km2_per_deg2(0.5 * (miny + maxy))
        lon, lat = self.lon_edges, self.lat_edges
        i0 = max(int(np.searchsorted(lon, minx, side="right")) - 1, 0)
        i1 = min(int(np.searchsorted(lon, maxx, side="left")), lon.size - 1)
        j0 = max(int(np.searchsorted(lat, miny, side="right")) - 1, 0)
        j1 = min(int(np.searchsorted(lat, maxy, side="left")), lat.size - 1)
        extent = shapely.box(lon[0], lat[0], lon[-1], lat[-1])
        outside_km2 = shapely.difference(geom, extent).area * _km2_per_deg2(0.5 * (miny + maxy))
        if i1 <= i0 or j1 <= j0:
            return PopulationCount(math.nan, 0.0, area_km2, area_km2)
        x0, y0 = np.meshgrid(lon[i0:i1], lat[j0:j1])
        x1, y1 = np.meshgrid(lon[i0 + 1 : i1 + 1], lat[j0 + 1 : j1 + 1])
        boxes = shapely.box(x0, y0, x1, y1)
        shapely.prepare(geom)
        whole = shapely.contains_properly(geom, boxes)
        cut = shapely.intersects(geom, boxes) & ~whole
        frac = whole.astype(float)
        if cut.any():
            cell_area = (x1 - x0) * (y1 - y0)
            frac[cut] = shapely.area(shapely.intersection(boxes[cut], geom)) / cell_area[cut]
        frac = np.clip(frac, 0.0, 1.0)
        v = self.values[j0:j1, i0:i1]
        known = np.isfinite(v)
        cell_km2 = _spherical_cell_area_km2(lon[i0 : i1 + 1], lat[j0 : j1 + 1])
        unknown_cells = float(frac[~known].sum())
        unknown_km2 = float((frac * cell_km2)[~known].sum()) + outside_km2
        known_weight = float(frac[known].sum())
        people = float((frac[known] * v[known]).sum()) if known_weight > 0 else math.nan
        return PopulationCount(people, unknown_cells, unknown_km2, area_km2)

    def people_in_polygon(self, polygon: Any) -> float:
        """People inside a lon/lat polygon (known cells, fraction-weighted). [persons]

        NaN when no known cell covers any part of it; 0 for an empty polygon.
        :meth:`count_in_polygon` also says how much of it was unknown.

        Examples
        --------
        >>> import numpy as np, shapely
        >>> from plumecast.population import PopulationRaster
        >>> r = PopulationRaster(np.full((2, 2), 100.0), [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
        >>> r.people_in_polygon(shapely.box(0.5, 0.5, 1.5, 1.0))
        50.0
        """
        return self.count_in_polygon(polygon).people

    def count_in_cells(
        self, lon_edges: ArrayLike, lat_edges: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """People aggregated onto a coarser lon/lat grid, with the unknown fraction.

        Each raster cell is split between target cells in proportion to the
        overlapping area (longitude overlap times overlap in sin(latitude), exact
        on a sphere for people spread uniformly over a cell).

        Returns
        -------
        people : numpy.ndarray, shape (lat, lon)
            People in the known part of each target cell; NaN where no known raster
            cell overlaps it. [persons]
        unknown_fraction : numpy.ndarray, shape (lat, lon)
            Fraction of each target cell's area that is nodata or beyond the
            raster. [-]
        """
        lon_t = np.asarray(lon_edges, dtype=float)
        lat_t = np.asarray(lat_edges, dtype=float)
        if lon_t.ndim != 1 or lat_t.ndim != 1 or lon_t.size < 2 or lat_t.size < 2:
            raise DataFileError("people_in_cells: lon_edges and lat_edges must be 1-D with at least 2 edges")
        flip_x = bool(lon_t[-1] < lon_t[0])
        flip_y = bool(lat_t[-1] < lat_t[0])
        lon_s = lon_t[::-1] if flip_x else lon_t
        lat_s = lat_t[::-1] if flip_y else lat_t
        if np.any(np.diff(lon_s) <= 0) or np.any(np.diff(lat_s) <= 0):
            raise DataFileError("people_in_cells: cell edges must be strictly monotonic")
        lam_f = np.radians(self.lon_edges)
        sin_f = np.sin(np.radians(self.lat_edges))
        # longitudes modulo 360: a target grid at 170..190 (across the antimeridian) overlaps a
        # -180..180 raster's columns at -180..-170 too (the raster spans at most 360 deg: no cell twice)
        lam_t = np.radians(lon_s)
        ax = (_overlap_matrix(lam_t, lam_f - 2.0 * np.pi) + _overlap_matrix(lam_t, lam_f)
              + _overlap_matrix(lam_t, lam_f + 2.0 * np.pi))  # (tx, fx) [rad]
        ay = _overlap_matrix(np.sin(np.radians(lat_s)), sin_f)  # (ty, fy) [-]
        wx = ax / np.diff(lam_f)[None, :]
        wy = ay / np.diff(sin_f)[None, :]
        known = np.isfinite(self.values)
        people = wy @ np.where(known, self.values, 0.0) @ wx.T
        known_area = ay @ known.astype(float) @ ax.T
        total_area = np.outer(np.diff(np.sin(np.radians(lat_s))), np.diff(np.radians(lon_s)))
        unknown = np.clip(1.0 - known_area / total_area, 0.0, 1.0)
        unknown[unknown < 1e-9] = 0.0  # rounding of the overlap sums, not missing data
        people = np.where(known_area > 0, people, np.nan)
        if flip_y:
            people, unknown = people[::-1], unknown[::-1]
        if flip_x:
            people, unknown = people[:, ::-1], unknown[:, ::-1]
        return np.ascontiguousarray(people), np.ascontiguousarray(unknown)

    def people_in_cells(self, lon_edges: ArrayLike, lat_edges: ArrayLike) -> NDArray[np.float64]:
        """People in each cell of a coarser lon/lat grid, shape (lat, lon). [persons]

        NaN where no known raster cell overlaps; see :meth:`count_in_cells` for
        the unknown fraction of each cell.
        """
        return self.count_in_cells(lon_edges, lat_edges)[0]

    def count_near(self, lat: ArrayLike, lon: ArrayLike, radius_m: ArrayLike) -> list[PopulationCount]:
        """:class:`PopulationCount` within ``radius_m`` of each point (lat, lon)."""
        la, lo, r = np.broadcast_arrays(
            np.asarray(lat, dtype=float), np.asarray(lon, dtype=float), np.asarray(radius_m, dtype=float)
        )
        if np.any(~np.isfinite(r) | (r < 0)):
            raise DataFileError(f"people_near: radius_m must be finite and >= 0 (got {np.asarray(radius_m)!r})")
        return [
            self.count_in_polygon(circle_lonlat(float(a), float(b), float(c)))
            if c > 0
            else PopulationCount(0.0, 0.0, 0.0, 0.0)
            for a, b, c in zip(la.ravel(), lo.ravel(), r.ravel(), strict=True)
        ]

    def people_near(self, lat: ArrayLike, lon: ArrayLike, radius_m: ArrayLike) -> NDArray[np.float64]:
        """People within ``radius_m`` of each point (lat, lon). [persons]

        ``lat``, ``lon`` and ``radius_m`` broadcast together [deg, deg, m]; NaN
        where no known cell lies within the circle.
        """
        shape = np.broadcast_shapes(np.shape(lat), np.shape(lon), np.shape(radius_m))
        counts = self.count_near(lat, lon, radius_m)
        return np.array([c.people for c in counts], dtype=float).reshape(shape)


# --------------------------------------------------------------------------- readers


def _finish(
    values: NDArray[np.float64],
    lon_edges: NDArray[np.float64],
    lat_edges: NDArray[np.float64],
    source: str,
) -> PopulationRaster:
    notes: list[str] = []
    neg = np.isfinite(values) & (values < 0)
    if neg.any():
        values = np.where(neg, np.nan, values)
        notes.append(f"{int(neg.sum())} negative cell value(s) without a nodata flag taken as nodata (unknown)")
    return PopulationRaster(values, lon_edges, lat_edges, source=source, notes=tuple(notes))


def _window(edges: NDArray[np.float64], lo: float, hi: float) -> tuple[int, int]:
    """Indices [i0, i1) of the cells of increasing ``edges`` overlapping [lo, hi]."""
    i0 = max(int(np.searchsorted(edges, lo, side="right")) - 1, 0)
    i1 = min(int(np.searchsorted(edges, hi, side="left")), edges.size - 1)
    return i0, i1


def _lon_pieces(
    path: Path, edges: NDArray[np.float64], lo: float | None, hi: float | None
) -> tuple[list[tuple[int, int]], NDArray[np.float64]]:
    """Column ranges of increasing ``edges`` covering [lo, hi], and their edges in the frame of lo/hi.

    Longitudes are taken modulo 360°: a 0..360 raster serves a window at -10..-9, and a
    window across the raster's seam (179.5..180.5 on a -180..180 raster) is read as two
    pieces side by side. Without a window: all columns, as stored.
    """
    if lo is None or hi is None:
        return [(0, edges.size - 1)], edges
    pieces: list[tuple[int, int]] = []
    out: list[NDArray[np.float64]] = []
    for k in (-1, 0, 1):
        e = edges + 360.0 * k
        if hi <= e[0] or lo >= e[-1]:
            continue
        i0, i1 = _window(e, lo, hi)
        if i1 <= i0:
            continue
        if out and abs(e[i0] - out[-1][-1]) > 1e-6 * max(abs(float(edges[1] - edges[0])), 1e-12) + 1e-9:
            raise DataFileError(
                f"{path}: longitudes {edges[0]:g}..{edges[-1]:g} do not join up across 360° at "
                f"{out[-1][-1]:g}; expected a grid spanning at most 360° (crop the extra columns)"
            )
        pieces.append((i0, i1))
        out.append(e[i0 : i1 + 1] if not out else e[i0 + 1 : i1 + 1])
    if not pieces:
        return [], edges[:1]
    return pieces, np.concatenate(out)


def _check_size(path: Path, ny: int, nx: int, box: BBox | None) -> None:
    n = ny * nx
    if n > MAX_CELLS:
        where = "the whole raster" if box is None else f"the window {box}"
        raise DataFileError(
            f"{path}: {where} holds {n:,} cells ({ny:,} x {nx:,}, ~{8 * n / 1e9:.1f} GB), more than {MAX_CELLS:,} "
            "read at once; crop the raster to the area of interest (gdal_translate -projwin) or aggregate it "
            "(gdalwarp -tr ... -r sum)"
        )


def _check_bbox(path: Path, bbox: BBox | None) -> BBox | None:
    if bbox is None:
        return None
    lon_min, lat_min, lon_max, lat_max = (float(b) for b in bbox)
    if not (lon_min < lon_max and lat_min < lat_max):
        raise DataFileError(f"{path}: bbox {tuple(bbox)}; expected (lon_min, lat_min, lon_max, lat_max)")
    return lon_min, lat_min, lon_max, lat_max


def _density_error(path: Path, what: str, value: str) -> DataFileError:
    return DataFileError(
        f"{path}: {what} is {value!r}, a density; expected persons per cell (WorldPop 'ppp', GHS-POP, LandScan "
        "counts). Convert it to counts first (density x cell area), or use the count product"
    )


def _is_density(text: str) -> bool:
    t = " ".join(str(text).lower().split())
    return any(u in t for u in _DENSITY_UNITS)


def _load_geotiff(path: Path, bbox: BBox | None) -> PopulationRaster:
    try:
        import rasterio
        from rasterio.windows import Window
    except ImportError:
        raise DataFileError(
            f"{path}: reading a GeoTIFF population raster needs rasterio, which is not installed: "
            f"{_INSTALL_HINT} (or convert the raster to netCDF)"
        ) from None
    box = _check_bbox(path, bbox)
    try:
        src_ctx = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError and others
        raise DataFileError(f"{path}: cannot read as a GeoTIFF ({exc})") from None
    with src_ctx as src:
        crs = src.crs
        epsg = crs.to_epsg() if crs is not None else None
        if crs is None or (epsg != 4326 and "CRS84" not in crs.to_string().upper()):
            shown = "none" if crs is None else crs.to_string()
            raise DataFileError(
                f"{path}: population raster CRS is {shown}; expected EPSG:4326 (WGS 84 lon/lat). "
                "Reproject it first, e.g. gdalwarp -t_srs EPSG:4326 -r sum IN.tif OUT.tif"
            )
        t = src.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e == 0:
            raise DataFileError(
                f"{path}: rotated or flipped geotransform {tuple(t)[:6]}; expected a north-up lon/lat grid"
            )
        if src.count != 1:
            raise DataFileError(f"{path}: {src.count} bands; expected one band of persons per cell")
        units = src.units[0] if src.units else None
        if units and _is_density(units):
            raise _density_error(path, "the band's unit", units)
        for scope, tags in (("band tag", src.tags(1)), ("tag", src.tags())):
            for key, val in tags.items():
                if key.lower() in ("units", "unit") and _is_density(val):
                    raise _density_error(path, f"{scope} {key}", val)
        bottom_up = t.e > 0  # row 0 is the southernmost
        dx, dy = float(t.a), abs(float(t.e))
        lon_all = float(t.c) + dx * np.arange(src.width + 1)
        lat_asc = float(t.f) + dy * np.arange(src.height + 1) if bottom_up else \
            (float(t.f) - dy * np.arange(src.height + 1))[::-1]
        pieces, lon_e = _lon_pieces(path, lon_all, None if box is None else box[0], None if box is None else box[2])
        j0, j1 = (0, src.height) if box is None else _window(lat_asc, box[1], box[3])
        if box is not None and (not pieces or j1 <= j0):
            raise DataFileError(
                f"{path}: no population cell in bbox {box}; the raster covers "
                f"lon {lon_all[0]:g}..{lon_all[-1]:g}, lat {lat_asc[0]:g}..{lat_asc[-1]:g}"
            )
        _check_size(path, j1 - j0, sum(i1 - i0 for i0, i1 in pieces), box)
        r0 = j0 if bottom_up else src.height - j1
        parts = []
        for i0, i1 in pieces:
            data = src.read(1, window=Window(i0, r0, i1 - i0, j1 - j0), masked=True, out_dtype="float64")
            parts.append(np.ma.filled(data, np.nan))
            del data
        values = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        del parts
        scale = float(src.scales[0]) if src.scales else 1.0
        offset = float(src.offsets[0]) if src.offsets else 0.0
    if scale != 1.0:
        values *= scale
    if offset != 0.0:
        values += offset
    if not bottom_up:
        values = values[::-1]
    return _finish(values, lon_e, lat_asc[j0 : j1 + 1], str(path))


def _coord_name(ds: Any, kind: str) -> str | None:
    units = ("degrees_north", "degree_north", "degrees_n", "degree_n") if kind == "lat" else (
        "degrees_east", "degree_east", "degrees_e", "degree_e")
    std = "latitude" if kind == "lat" else "longitude"
    for name in ds.coords:
        c = ds[name]
        if c.ndim != 1:
            continue
        if str(c.attrs.get("standard_name", "")).lower() == std or str(c.attrs.get("units", "")).lower() in units:
            return str(name)
    for name in (("lat", "latitude") if kind == "lat" else ("lon", "longitude")):
        if name in ds.coords and ds[name].ndim == 1:
            return name
    return None


def _load_netcdf(path: Path, bbox: BBox | None, variable: str | None) -> PopulationRaster:
    import xarray as xr

    box = _check_bbox(path, bbox)
    try:
        ds = xr.open_dataset(path, mask_and_scale=True, decode_times=False)
    except Exception as exc:
        raise DataFileError(f"{path}: cannot read as netCDF ({exc})") from None
    with ds:
        lat_name, lon_name = _coord_name(ds, "lat"), _coord_name(ds, "lon")
        if lat_name is None or lon_name is None:
            xy = [str(n) for n in ds.coords if str(ds[n].attrs.get("units", "")).lower() in ("m", "metre", "meter", "km")]
            extra = f" (it has projected coordinates {xy})" if xy else ""
            raise DataFileError(
                f"{path}: no 1-D latitude/longitude coordinates{extra}; expected an EPSG:4326 lon/lat grid "
                "(coordinates with units degrees_north / degrees_east). Reproject it first, e.g. "
                "gdalwarp -t_srs EPSG:4326 -r sum IN OUT.nc"
            )
        if variable is None:
            cands = [str(n) for n, v in ds.data_vars.items() if lat_name in v.dims and lon_name in v.dims]
            if len(cands) != 1:
                raise DataFileError(
                    f"{path}: {len(cands)} variables on ({lat_name}, {lon_name}) {cands}; expected the "
                    "population alone (zones: name it with population.variable; run and compare read a "
                    "file with one such variable: extract it, e.g. cdo selname,NAME IN OUT.nc)"
                )
            variable = cands[0]
        if variable not in ds.data_vars:
            raise DataFileError(f"{path}: no variable {variable!r}; found {sorted(map(str, ds.data_vars))}")
        da = ds[variable]
        gm = da.attrs.get("grid_mapping")
        if gm is not None and gm in ds.variables:
            name = str(ds[gm].attrs.get("grid_mapping_name", "latitude_longitude"))
            if name != "latitude_longitude":
                raise DataFileError(
                    f"{path}: variable {variable!r} uses grid mapping {name!r}; expected EPSG:4326 "
                    "lon/lat ('latitude_longitude'). Reproject it first"
                )
        units = str(da.attrs.get("units", ""))
        if _is_density(units):
            raise _density_error(path, f"the unit of variable {variable!r}", units)
        extra_dims = [d for d in da.dims if d not in (lat_name, lon_name)]
        for dim in extra_dims:
            if da.sizes[dim] != 1:
                raise DataFileError(
                    f"{path}: variable {variable!r} has dimension {dim!r} of size {da.sizes[dim]}; "
                    "expected a single 2-D (lat, lon) field"
                )
        da = da.isel({dim: 0 for dim in extra_dims}).transpose(lat_name, lon_name)
        lat_c = np.asarray(da[lat_name].values, dtype=float)
        lon_c = np.asarray(da[lon_name].values, dtype=float)
        edges = []
        for label, c in (("latitude", lat_c), ("longitude", lon_c)):
            if c.size < 2:
                raise DataFileError(f"{path}: {label} has {c.size} value(s); expected at least 2")
            d = np.diff(c)
            if not np.allclose(d, d[0], rtol=1e-6, atol=0.0) or d[0] == 0:
                raise DataFileError(f"{path}: {label} is not regularly spaced; expected a regular lon/lat grid")
            edges.append(np.concatenate([c - d[0] / 2.0, [c[-1] + d[0] / 2.0]]))
        lat_e, lon_e = edges
        flip_y, flip_x = bool(lat_e[-1] < lat_e[0]), bool(lon_e[-1] < lon_e[0])
        lat_e = lat_e[::-1] if flip_y else lat_e
        lon_e = lon_e[::-1] if flip_x else lon_e
        ny, nx = lat_e.size - 1, lon_e.size - 1
        pieces, lon_out = _lon_pieces(path, lon_e, None if box is None else box[0], None if box is None else box[2])
        j0, j1 = (0, ny) if box is None else _window(lat_e, box[1], box[3])
        if box is not None and (not pieces or j1 <= j0):
            raise DataFileError(
                f"{path}: no population cell in bbox {box}; the raster covers "
                f"lon {lon_e[0]:g}..{lon_e[-1]:g}, lat {lat_e[0]:g}..{lat_e[-1]:g}"
            )
        _check_size(path, j1 - j0, sum(i1 - i0 for i0, i1 in pieces), box)
        # read only the window (indices in the file's own order)
        rows = slice(ny - j1, ny - j0) if flip_y else slice(j0, j1)
        parts = []
        for i0, i1 in pieces:
            cols = slice(nx - i1, nx - i0) if flip_x else slice(i0, i1)
            part = np.asarray(da.isel({lat_name: rows, lon_name: cols}).values, dtype=np.float64)
            parts.append(part[:, ::-1] if flip_x else part)
        values = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        if flip_y:
            values = values[::-1]
    return _finish(values, lon_out, lat_e[j0 : j1 + 1], str(path))
