"""PNG maps of gridded concentration with coastlines and city labels.

Maps are plain longitude/latitude (equirectangular) plots made with matplotlib's
object API on the Agg canvas: nothing opens a window and pyplot's global state is
not touched, so maps can be drawn from worker threads and processes. Coastlines
and land come from the shipped Natural Earth 1:110m GeoJSON
(``data/geo/PROVENANCE.md``; "Made with Natural Earth").

Files are written atomically: the PNG goes to a temporary file in the target
directory and is moved into place with :func:`os.replace`, so a reader never
sees a half-written map and a failed plot leaves nothing behind.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, LogNorm, Normalize
from matplotlib.figure import Figure
from numpy.typing import NDArray

from plumecast.concentration import lon_order
from plumecast.errors import DataFileError, PlumecastError
from plumecast.fileio import atomic_path
from plumecast.receptors import Receptors

__all__ = ["animate_concentration", "load_coastlines", "load_land", "plot_concentration_map"]

_GEO = "data/geo"
LonLat = tuple[NDArray[np.float64], NDArray[np.float64]]
Extent = tuple[float, float, float, float]

_HALO = [patheffects.withStroke(linewidth=2.0, foreground="white")]
_HALO_THIN = [patheffects.Stroke(linewidth=1.2, foreground="#ffffffaa"), patheffects.Normal()]

#: Decades shown below the maximum when ``log_scale`` and no ``vmin`` is given.
DEFAULT_LOG_DECADES = 4.0


def _read_geojson(name: str) -> dict[str, Any]:
    ref = resources.files("plumecast").joinpath(f"{_GEO}/{name}")
    try:
        return dict(json.loads(ref.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise DataFileError(
            f"plumecast/{_GEO}/{name}: shipped map data missing; reinstall plumecast"
        ) from None


def _lines(geometry: dict[str, Any]) -> list[list[list[float]]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "LineString":
        return [coords]
    if kind == "MultiLineString":
        return list(coords)
    if kind == "Polygon":
        return [coords[0]]
    if kind == "MultiPolygon":
        return [poly[0] for poly in coords]
    return []


def _as_pairs(name: str) -> tuple[LonLat, ...]:
    out: list[LonLat] = []
    for feature in _read_geojson(name)["features"]:
        for line in _lines(feature["geometry"]):
            xy = np.asarray(line, dtype=np.float64)
            lon, lat = xy[:, 0].copy(), xy[:, 1].copy()
            lon.setflags(write=False)
            lat.setflags(write=False)
            out.append((lon, lat))
    return tuple(out)


@lru_cache(maxsize=1)
def _coastlines() -> tuple[LonLat, ...]:
    return _as_pairs("ne_110m_coastline.geojson")


@lru_cache(maxsize=1)
def _land() -> tuple[LonLat, ...]:
    return _as_pairs("ne_110m_land.geojson")


def load_coastlines() -> list[LonLat]:
    """Natural Earth 1:110m coastlines.

    Returns
    -------
    list of (lon, lat)
        One pair of read-only float64 arrays per polyline. [deg]
    """
    return list(_coastlines())


def load_land() -> list[LonLat]:
    """Exterior rings of the Natural Earth 1:110m land polygons.

    Returns
    -------
    list of (lon, lat)
        One pair of read-only float64 arrays per ring (closed). [deg]
    """
    return list(_land())


def _field_2d(field: xr.DataArray) -> xr.DataArray:
    da = field
    for d in list(da.dims):
        if d not in ("lat", "lon"):
            if da.sizes[d] != 1:
                raise PlumecastError(
                    f"plot_concentration_map: field {field.name!r} has dimension {d!r} of size "
                    f"{da.sizes[d]}; expected a 2-D (lat, lon) field (select one time first)"
                )
            da = da.isel({d: 0})
    if set(da.dims) != {"lat", "lon"}:
        raise PlumecastError(
            f"plot_concentration_map: field {field.name!r} has dims {field.dims}; expected ('lat', 'lon')"
        )
    return _continuous_lon(da.transpose("lat", "lon").sortby("lat"))


def _continuous_lon(da: xr.DataArray) -> xr.DataArray:
    """``da`` in longitude order, in one piece across the antimeridian
    (:func:`plumecast.concentration.lon_order`, as the dashboard draws it): longitudes
    already beyond 180 (170.5 .. 189.5, as ``concentration.nc`` writes a grid across 180)
    are only sorted; a field given in -180..180 across 180 (170.5 .. 179.5, -179.5 ..
    -170.5) has its part past 180 moved 360 degrees east (to 180.5 .. 189.5)."""
    order, lon = lon_order(np.asarray(da["lon"].values, dtype=np.float64))
    return da.isel(lon=order).assign_coords(lon=("lon", lon, da["lon"].attrs))


def _view_pairs(pairs: tuple[LonLat, ...], x0: float, x1: float) -> list[LonLat]:
    """Land or coastline lines for a map window ``x0 .. x1`` [deg E]: the lines as
    shipped (-180..180) and, where the window reaches past 180 or -180, copies 360
    degrees east or west, so that a map across the antimeridian is drawn in one piece."""
    out = list(pairs)
    for k, needed in ((1, x1 > 180.0), (-1, x0 < -180.0)):
        if needed:
            out += [(lo + 360.0 * k, la) for lo, la in pairs]
    return out


def _receptors_in_view(receptors: Receptors, x0: float, y0: float, x1: float, y1: float,
                       n: int) -> tuple[Receptors, NDArray[np.float64]]:
    """The ``n`` most populous receptors inside the window and their longitudes in its
    frame (a city at -175 drawn at 185 on a map of 170 .. 190)."""
    if x1 - x0 >= 360.0:
        box = (-180.0, y0, 180.0, y1)
    else:  # the window's longitudes as -180..180, lon_min > lon_max across the antimeridian
        box = (((x0 + 180.0) % 360.0) - 180.0, y0, ((x1 + 180.0) % 360.0) - 180.0, y1)
        if box[2] == -180.0 and x1 > x0:
            box = (box[0], y0, 180.0, y1)
    inside = receptors.filter(bbox=box).largest(n)
    lon = x0 + np.mod(np.asarray(inside.lon, dtype=np.float64) - x0, 360.0)
    return inside, lon


def _draw(
    field: xr.DataArray,
    *,
    title: str,
    units_label: str,
    receptors: Receptors | None,
    label_n: int,
    log_scale: bool,
    vmin: float | None,
    extent: Extent | None,
    vmax_fixed: float | None = None,
    members: int | None = None,
) -> Figure:
    da = _field_2d(field)
    values = np.asarray(da.values, dtype=np.float64)
    lon = np.asarray(da["lon"].values, dtype=np.float64)
    lat = np.asarray(da["lat"].values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    vmax = float(finite.max()) if finite.size else 0.0

    fig = Figure(figsize=(11.0, 6.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("#dfe9f2")  # sea
    if extent is None:
        x0, x1 = float(lon.min()), float(lon.max())
        y0, y1 = float(lat.min()), float(lat.max())
        if x1 - x0 > 300:  # the whole globe, centred where the field is
            mid = 0.5 * (x0 + x1)
            x0, x1 = mid - 180.0, mid + 180.0
    else:
        x0, x1, y0, y1 = (float(e) for e in extent)
        if not (x0 < x1 and y0 < y1):
            raise PlumecastError(
                f"plot_concentration_map: extent={extent!r}; expected (lon_min, lon_max, lat_min, lat_max) "
                "with min < max [deg] (lon_max beyond 180 for a map across the antimeridian, e.g. 170, 190)"
            )
    for lo, la in _view_pairs(_land(), x0, x1):
        ax.fill(lo, la, color="#f2efe6", lw=0, zorder=0)

    norm: Normalize
    if log_scale:
        if vmax <= 0.0:
            lo_v, hi_v = (vmin if vmin and vmin > 0 else 1e-12), 1.0
            hi_v = max(hi_v, 10.0 * lo_v)
        else:
            lo_v = float(vmin) if vmin is not None and vmin > 0 else vmax / 10**DEFAULT_LOG_DECADES
            hi_v = max(vmax, lo_v * 10.0)
        norm = LogNorm(vmin=lo_v, vmax=hi_v)
        shown = np.ma.masked_where(~np.isfinite(values) | (values < lo_v), values)
    elif members is not None:  # counts of members: a colour per count, bins centred on k/n
        norm = BoundaryNorm((np.arange(members + 1) + 0.5) / members, ncolors=256)
        shown = np.ma.masked_where(~np.isfinite(values) | (values <= 0.5 / members), values)
    else:
        lo_v = float(vmin) if vmin is not None else 0.0
        hi_v = float(vmax_fixed) if vmax_fixed is not None else vmax if vmax > lo_v else lo_v + 1.0
        norm = Normalize(vmin=lo_v, vmax=hi_v)
        shown = np.ma.masked_where(~np.isfinite(values) | (values <= lo_v), values)
    mesh = ax.pcolormesh(
        lon, lat, shown, norm=norm, cmap="inferno_r", shading="nearest", alpha=0.85, zorder=1
    )
    cbar = fig.colorbar(mesh, ax=ax, shrink=0.8, pad=0.02)
    cbar.set_label(units_label)
    if members is not None and not log_scale:
        cbar.set_ticks([k / members for k in range(1, members + 1)],
                       labels=[f"{k} of {members}" for k in range(1, members + 1)])
    if vmax <= 0.0:
        ax.text(
            0.5, 0.02, "field is zero everywhere", transform=ax.transAxes, ha="center", fontsize=9
        )

    for lo, la in _view_pairs(_coastlines(), x0, x1):
        ax.plot(lo, la, color="#333333", lw=0.6, zorder=2, path_effects=_HALO_THIN)

    if receptors is not None and len(receptors) and label_n > 0:
        inside, in_lon = _receptors_in_view(receptors, x0, y0, x1, y1, label_n)
        ax.scatter(
            in_lon, inside.lat, s=10, c="#1f4e9a", edgecolors="white", linewidths=0.5, zorder=3
        )
        for name, lo1, la1 in zip(inside.name, in_lon, inside.lat, strict=True):
            ax.annotate(
                str(name),
                (lo1, la1),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
                color="#10264d",
                zorder=4,
                path_effects=_HALO,
            )

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("longitude [deg E]")
    ax.set_ylabel("latitude [deg N]")
    ax.set_title(title)
    ax.grid(True, lw=0.3, color="#999999", alpha=0.5)
    return fig


def plot_concentration_map(
    field: xr.DataArray,
    path: str | Path,
    *,
    title: str,
    units_label: str,
    receptors: Receptors | None = None,
    label_n: int = 10,
    log_scale: bool = True,
    vmin: float | None = None,
    extent: Extent | None = None,
    vmax: float | None = None,
    members: int | None = None,
) -> Path:
    """Draw a (lat, lon) concentration field as a PNG map.

    Parameters
    ----------
    field : xarray.DataArray
        Concentration on dims ``(lat, lon)`` (size-1 extra dims such as ``time``
        are dropped). NaN and values below ``vmin`` are left transparent.
    path : str or Path
        Output PNG; its directory must exist. Written atomically.
    title : str
        Figure title.
    units_label : str
        Colourbar label, e.g. ``"mg m-3"``.
    receptors : Receptors, optional
        Points to mark; the ``label_n`` most populous inside the map are labelled.
    label_n : int
        How many receptors to label.
    log_scale : bool
        Logarithmic colour scale (default). With no ``vmin`` the scale spans
        ``DEFAULT_LOG_DECADES`` decades below the maximum.
    vmin : float, optional
        Lowest value coloured, in the field's units.
    vmax : float, optional
        Top of a linear colour scale (default: the field's maximum), so that maps of
        probabilities share one scale (0..1).
    members : int, optional
        The field is a share of this many ensemble members (0, 1/n, ..., 1): one colour per
        count, the colourbar reading "1 of 3", "2 of 3", ... (a continuous 0.2-1.0 scale had
        shown three members' shares as if finer ones existed).
    extent : (lon_min, lon_max, lat_min, lat_max), optional
        Map window (matplotlib/cartopy order). [deg] Default: the field's domain
        (the whole globe if it spans more than 300 deg of longitude).

    Returns
    -------
    Path
        The PNG written.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise DataFileError(
            f"{target}: directory {directory} does not exist; expected an existing output directory"
        )
    fig = _draw(
        field,
        title=title,
        units_label=units_label,
        receptors=receptors,
        label_n=label_n,
        log_scale=log_scale,
        vmin=vmin,
        extent=extent,
        vmax_fixed=vmax,
        members=members,
    )
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", bbox_inches="tight")
    return target


def animate_concentration(
    field: xr.DataArray,
    path: str | Path,
    *,
    title: str,
    units_label: str = "kg m-3",
    receptors: Receptors | None = None,
    label_n: int = 8,
    frame_s: float = 0.25,
    dpi: int = 60,
    decades: float = DEFAULT_LOG_DECADES,
) -> Path:
    """Animated GIF of a (time, lat, lon) field: one frame per output time.

    The colour scale is logarithmic and fixed over the whole forecast (from the
    overall maximum down ``decades`` decades), so frames compare. The background
    (land, coastlines, labels, colourbar) is drawn once; each frame changes only
    the field and its time stamp, then Pillow writes the GIF. Cheap by design: a
    72-frame global forecast takes about a second at the default resolution.

    Parameters
    ----------
    field : xarray.DataArray
        Dims ``(time, lat, lon)`` on a regular grid. NaN and values below the
        scale's floor are transparent.
    path : str or Path
        Output GIF; written atomically.
    title : str
        Figure title (the frame's UTC time is added below it).
    units_label : str
        Colourbar label.
    receptors : Receptors, optional
        The ``label_n`` most populous inside the map are marked and labelled.
    frame_s : float
        Display time of one frame. [s]
    dpi : int
        Resolution (the figure is 8 x 4.3 inches).
    decades : float
        Decades of the log colour scale below the maximum.

    Returns
    -------
    Path
        The GIF written.
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from PIL import Image

    if set(field.dims) != {"time", "lat", "lon"}:
        raise PlumecastError(
            f"animate_concentration: field {field.name!r} has dims {field.dims}; expected (time, lat, lon)"
        )
    da = _continuous_lon(field.transpose("time", "lat", "lon").sortby("lat"))
    if da.sizes["time"] == 0:
        raise PlumecastError("animate_concentration: the field has no time step")
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise DataFileError(
            f"{target}: directory {directory} does not exist; expected an existing output directory"
        )
    values = np.asarray(da.values, dtype=np.float32)
    lon = np.asarray(da["lon"].values, dtype=np.float64)
    lat = np.asarray(da["lat"].values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    vmax = float(finite.max()) if finite.size else 0.0
    hi = vmax if vmax > 0 else 1.0
    lo_v = hi / 10**decades
    norm = LogNorm(vmin=lo_v, vmax=hi)
    dlon = float(lon[1] - lon[0]) if lon.size > 1 else 1.0
    dlat = float(lat[1] - lat[0]) if lat.size > 1 else 1.0
    extent = (lon[0] - dlon / 2, lon[-1] + dlon / 2, lat[0] - dlat / 2, lat[-1] + dlat / 2)

    fig = Figure(figsize=(8.0, 4.3), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.08, 0.8, 0.8))
    ax.set_facecolor("#dfe9f2")
    x0, x1, y0, y1 = extent
    if x1 - x0 > 300:  # the whole globe, centred where the field is
        mid = 0.5 * (x0 + x1)
        x0, x1 = mid - 180.0, mid + 180.0
    ax.add_collection(PolyCollection([np.column_stack(p) for p in _view_pairs(_land(), x0, x1)],
                                     facecolors="#f2efe6", edgecolors="none", zorder=0))
    # colours of every frame at once (one vectorised pass, not one normalisation per frame)
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    cmap = colormaps["inferno_r"]
    with np.errstate(invalid="ignore", divide="ignore"):
        shade = np.log(values / lo_v) / np.log(hi / lo_v)
    rgba = cmap(np.clip(np.nan_to_num(shade, nan=0.0), 0.0, 1.0), bytes=True)
    rgba[..., 3] = np.where(values >= lo_v, 217, 0).astype(np.uint8)
    image = ax.imshow(rgba[0], extent=extent, origin="lower", interpolation="nearest", zorder=1, aspect="auto")
    overlay: list[Any] = [image, ax.add_collection(LineCollection(
        [np.column_stack(p) for p in _view_pairs(_coastlines(), x0, x1)], colors="#333333", linewidths=0.5,
        zorder=2))]
    if receptors is not None and len(receptors) and label_n > 0:
        inside, in_lon = _receptors_in_view(receptors, x0, y0, x1, y1, label_n)
        overlay.append(ax.scatter(in_lon, inside.lat, s=6, c="#1f4e9a", zorder=3))
        for name, lo1, la1 in zip(inside.name, in_lon, inside.lat, strict=True):
            overlay.append(ax.annotate(str(name), (lo1, la1), xytext=(2, 2), textcoords="offset points",
                                       fontsize=6, color="#10264d", zorder=4, path_effects=_HALO))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    cax = fig.add_axes((0.86, 0.12, 0.025, 0.72))
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    cbar.set_label(units_label, fontsize=7)
    cbar.ax.tick_params(labelsize=6)
    fig.text(0.04, 0.955, title, fontsize=8, ha="left", va="center")
    stamp = fig.text(0.04, 0.91, "", fontsize=8, ha="left", va="center", weight="bold")
    if vmax <= 0:
        ax.text(0.5, 0.03, "field is zero everywhere", transform=ax.transAxes, ha="center", fontsize=7)

    # blitting: the axes, colourbar and land are drawn once; a frame redraws the
    # field and what lies on top of it (coastlines, city marks, time stamp)
    overlay.append(stamp)
    for artist in overlay:
        artist.set_visible(False)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    for artist in overlay:
        artist.set_visible(True)
    times = da["time"].values
    frames = []
    for k in range(values.shape[0]):
        image.set_data(rgba[k])
        stamp.set_text(str(np.datetime64(times[k], "m")).replace("T", " ") + " UTC")
        canvas.restore_region(background)
        for artist in overlay:
            fig.draw_artist(artist)
        rgb = np.asarray(canvas.buffer_rgba())[..., :3]
        frames.append(Image.fromarray(rgb).quantize(colors=128, method=Image.Quantize.FASTOCTREE))
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        frames[0].save(fh, format="GIF", save_all=True, append_images=frames[1:],
                       duration=int(round(frame_s * 1000)), loop=0)
    return target
