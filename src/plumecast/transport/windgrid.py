"""Wind on a regular lon/lat grid, in the form the particle kernels read.

The kernels interpolate the wind as a 3-D Cartesian vector rather than as
eastward/northward components. At every grid node the local east and north unit
vectors are ``e = (-sin λ, cos λ, 0)`` and ``n = (-sin φ cos λ, -sin φ sin λ, cos φ)``;
the node velocity ``V = u e + v n`` is a plain 3-vector that varies smoothly across the
poles, where ``u`` and ``v`` themselves are singular. Bilinear interpolation of ``V``
followed by removal of its radial component is therefore pole-safe (the same idea as
FLEXPART's polar-stereographic wind components near the poles; Stohl et al. 2005,
Atmos. Chem. Phys. 5, 2461, doi:10.5194/acp-5-2461-2005).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.errors import MetDataError


@dataclass(frozen=True)
class WindGrid:
    """Wind velocity as Cartesian vectors on a regular lon/lat grid.

    Attributes
    ----------
    vec : (time, nz, 3, lat, lon) float32 array of node velocities. [m s-1]
    times_s : (time,) seconds of each record after the run start. [s]
    lon0, dlon, lat0, dlat : first node and spacing. [deg]
    nlon, nlat : grid size.
    global_lon : the longitudes wrap round the globe.
    polar_south, polar_north : the grid reaches within one spacing of that pole,
        so particles beyond the last row take the last row's wind instead of leaving.
    z_m : (nz,) heights above ground of the wind levels, ascending. [m] The met's
        levels (pressure, model or height levels) are interpolated onto these fixed
        heights above ground column by column when the file is read (as FLEXPART
        does onto its terrain-following grid), so a kernel finds a particle's pair
        of levels from its height alone. With ``nz == 1`` the one level's wind
        applies at every height (a single-level met file; the value of ``z_m`` is
        then only a label).
    w : (time, nz, lat, lon) float32 vertical velocity on the same levels, upward
        positive [m s-1], or None (no vertical advection).
    surface : (time, len(SURFACE_FIELDS), lat, lon) float32 boundary-layer fields in
        the order of :data:`SURFACE_FIELDS`, or None: the run's constant K_z and
        mixing height apply everywhere (the single-level behaviour).
    stomata : (time, 2, lat, lon) float32 solar irradiance at the ground [W m-2] and
        surface air temperature [degC], for the stomatal resistance of dry deposition
        (:func:`plumecast.transport.boundary_layer.surface_resistance_met`), or None;
        only with ``surface``.
    land : (lat, lon) float32 fraction of each node's cell that is land, 0 (water) to 1,
        for the land-water mosaic of dry deposition
        (:func:`plumecast.transport.boundary_layer.dry_velocity_mosaic`), or None (all land);
        only with ``surface``. The same for every record.
    dry_velocity : (time, lat, lon) float32 dry deposition velocity of the run's gas at
        each node [m s-1], from each cell's mix of land uses
        (:mod:`plumecast.transport.deposition_cells`, ``deposition.land_use: map``), or
        None; only with ``surface``. The kernels then read it in place of the solar
        irradiance (:func:`pack_surface`).
    roughness_length_m : z0 of the log-law below the lowest level. [m]
    provenance : one line per field saying where it came from (read from the file,
        diagnosed, by which method), for the run's output attributes.
    stream : ``(token, k)``: the window of a streamed run
        (:class:`plumecast.run_winds.RunWinds`) whose first record is the stream's
        record ``k``, or None. Two grids with the same token (compared by identity)
        and first records ``k`` and ``k + 1`` share a record, with the same values: the
        numba kernel then packs only the new one (``kernels_numba_3d._packed``). A
        stream gets a new token whenever its window is made afresh.
    """

    vec: NDArray[np.float32]
    times_s: NDArray[np.float64]
    lon0: float
    dlon: float
    nlon: int
    lat0: float
    dlat: float
    nlat: int
    global_lon: bool
    polar_south: bool
    polar_north: bool
    z_m: NDArray[np.float64] = field(default_factory=lambda: np.array([0.0]))
    w: NDArray[np.float32] | None = None
    surface: NDArray[np.float32] | None = None
    roughness_length_m: float = 0.1
    provenance: tuple[str, ...] = ()
    stomata: NDArray[np.float32] | None = None
    land: NDArray[np.float32] | None = None
    dry_velocity: NDArray[np.float32] | None = None
    stream: tuple[object, int] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        src = self.provenance[0] if self.provenance else "WindGrid"
        if self.vec.ndim != 5 or self.vec.shape[2] != 3 or self.vec.shape[3:] != (self.nlat, self.nlon):
            raise MetDataError(f"{src}: wind vectors have shape {self.vec.shape}; expected (time, nz, 3, "
                               f"{self.nlat}, {self.nlon})")
        nt, nz = self.vec.shape[:2]
        if self.times_s.shape != (nt,):
            raise MetDataError(f"{src}: {self.times_s.size} record times for {nt} wind records")
        z = np.asarray(self.z_m, dtype=np.float64)
        if z.shape != (nz,):
            raise MetDataError(f"{src}: {z.size} level heights (z_m) for {nz} wind levels")
        if nz > 1:
            if not np.all(np.diff(z) > 0.0):
                raise MetDataError(f"{src}: level heights z_m {z.tolist()} m are not strictly ascending")
            if not 0.0 < self.roughness_length_m < z[0]:
                raise MetDataError(
                    f"{src}: roughness length {self.roughness_length_m:g} m must be above 0 and below the "
                    f"lowest level ({z[0]:g} m) for the log law below it")
        if self.w is not None and self.w.shape != (nt, nz, self.nlat, self.nlon):
            raise MetDataError(f"{src}: vertical velocity has shape {self.w.shape}; expected "
                               f"{(nt, nz, self.nlat, self.nlon)}")
        if self.surface is not None and self.surface.shape != (nt, len(SURFACE_FIELDS), self.nlat, self.nlon):
            raise MetDataError(f"{src}: boundary-layer fields have shape {self.surface.shape}; expected "
                               f"{(nt, len(SURFACE_FIELDS), self.nlat, self.nlon)} ({', '.join(SURFACE_FIELDS)})")
        if self.stomata is not None and (self.surface is None or self.stomata.shape != (nt, 2, self.nlat, self.nlon)):
            raise MetDataError(f"{src}: solar irradiance and surface temperature have shape {self.stomata.shape}; "
                               f"expected {(nt, 2, self.nlat, self.nlon)} beside the boundary-layer fields")
        if self.land is not None:
            if self.surface is None or self.land.shape != (self.nlat, self.nlon):
                raise MetDataError(f"{src}: land fraction has shape {self.land.shape}; expected "
                                   f"{(self.nlat, self.nlon)} beside the boundary-layer fields")
            if not np.all((self.land >= 0.0) & (self.land <= 1.0)):
                raise MetDataError(f"{src}: land fraction outside [0, 1] (or NaN); expected 0 (water) to 1 (land)")
        if self.dry_velocity is not None:
            if self.surface is None or self.dry_velocity.shape != (nt, self.nlat, self.nlon):
                raise MetDataError(f"{src}: dry deposition velocity has shape {self.dry_velocity.shape}; expected "
                                   f"{(nt, self.nlat, self.nlon)} beside the boundary-layer fields")
            if not np.all(self.dry_velocity >= 0.0):
                raise MetDataError(f"{src}: dry deposition velocity negative (or NaN); expected >= 0 m s-1")

    @property
    def nz(self) -> int:
        """Number of wind levels."""
        return int(self.vec.shape[1])

    @property
    def three_d(self) -> bool:
        """The wind varies with height, moves particles vertically or carries a
        boundary layer: the kernels' 3-D path (see :mod:`kernels_numpy`)."""
        return self.nz > 1 or self.w is not None or self.surface is not None

    def level_params(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """What the kernels need to find a particle's pair of levels from its height alone.

        Returns ``z_m``; ``1 / (z_m[l + 1] - z_m[l])`` per layer; a lookup table
        ``table[i]`` = the highest level ``l`` with ``z_m[l] <= i * dz`` for heights
        ``i * dz`` from 0 to the top level, with ``dz`` the thinnest layer (so that a
        height ``z`` lies in layer ``table[int(z / dz)]`` or the one above it: no search
        in the kernel; a table of at most 65538 entries, beyond which ``dz`` grows and
        the kernel steps up more than one layer); and the floats
        ``(1 / dz, 1 / ln(z_m[0] / z0), z0)``.
        """
        z = np.asarray(self.z_m, dtype=np.float64)
        if z.size == 1:
            return z, np.ones(1), np.zeros(1, np.int64), np.array([1.0, 0.0, self.roughness_length_m])
        dz = max(float(np.min(np.diff(z))), float(z[-1]) / 65536.0)
        n = int(np.floor(z[-1] / dz)) + 2
        table = np.clip(np.searchsorted(z, np.arange(n) * dz, side="right") - 1, 0, z.size - 2).astype(np.int64)
        z0 = float(self.roughness_length_m)
        return z, 1.0 / np.diff(z), table, np.array([1.0 / dz, 1.0 / np.log(z[0] / z0), z0])

    @property
    def int_params(self) -> NDArray[np.int64]:
        """Integer grid parameters packed for the kernels."""
        return np.array(
            [self.nlon, self.nlat, int(self.global_lon), int(self.polar_south), int(self.polar_north)],
            dtype=np.int64,
        )

    @property
    def float_params(self) -> NDArray[np.float64]:
        """Float grid parameters packed for the kernels."""
        return np.array([self.lon0, self.dlon, self.lat0, self.dlat], dtype=np.float64)

    def time_index(self, t_s: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Record index ``k`` and weight ``w`` so that the wind at ``t`` is
        ``(1 - w) * vec[k] + w * vec[k + 1]`` (linear in time; constant outside)."""
        t = np.asarray(t_s, dtype=np.float64)
        nt = self.times_s.size
        if nt == 1:
            return np.zeros(t.shape, np.int64), np.zeros(t.shape, np.float64)
        k = np.clip(np.searchsorted(self.times_s, t, side="right") - 1, 0, nt - 2)
        t0 = self.times_s[k]
        t1 = self.times_s[k + 1]
        w = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
        return k.astype(np.int64), w

    def step_weights(
        self, dt_s: float, step0: int, nsteps: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """Record index and weight (see :meth:`time_index`) at the start and at the
        middle of each of ``nsteps`` steps of ``dt_s`` from step ``step0``."""
        t_start = (np.arange(step0, step0 + nsteps) * dt_s).astype(np.float64)
        k0, w0 = self.time_index(t_start)
        km, wm = self.time_index(t_start + 0.5 * dt_s)
        return k0, w0, km, wm


#: Boundary-layer fields of :attr:`WindGrid.surface`, in this order (all per
#: column and record): mixing height [m]; friction velocity u* [m s-1]; inverse
#: Obukhov length 1/L [m-1] (negative unstable, 0 neutral); convective velocity
#: scale w* [m s-1] (0 when not convective); precipitation rate [mm h-1].
SURFACE_FIELDS = (
    "mixing_height_m",
    "friction_velocity_m_s",
    "inverse_obukhov_length_m",
    "convective_velocity_m_s",
    "precipitation_mm_h",
)


def across_dateline(lon: NDArray[np.float64]) -> str:
    """If the longitudes (wrapped to [-180, 180) and sorted) are a regular regional
    grid split by the 180th meridian, a sentence saying so and what to do; else ''.
    The kernels read a regional grid from its western edge eastward without
    wrapping, so such a grid cannot be read."""
    steps = np.diff(lon)
    if steps.size < 3:
        return ""
    k = int(np.argmax(steps))
    rest = np.delete(steps, k)
    step = float(np.median(rest))
    if step <= 0 or np.max(np.abs(rest - step)) > 1e-3 * step or steps[k] < 2.0 * step:
        return ""
    return (f"; the grid is regional and crosses the 180th meridian ({lon[k + 1]:g}..{lon[k] + 360.0:g} deg east): "
            "plumecast reads global grids and regional grids on one side of it: use a global file or a "
            "domain that does not cross 180 deg")


def _regular_spacing(values: NDArray[np.float64], name: str, source: str) -> float:
    if values.size < 2:
        raise MetDataError(f"{source}: coordinate '{name}' has {values.size} value(s); need at least 2")
    steps = np.diff(values)
    step = float(np.median(steps))
    if step <= 0 or np.max(np.abs(steps - step)) > 1e-3 * abs(step):
        raise MetDataError(
            f"{source}: coordinate '{name}' is not regularly spaced and ascending "
            f"(steps from {steps.min():g} to {steps.max():g} deg); plumecast needs a regular lon/lat grid"
            + (across_dateline(values) if name == "lon" else "")
        )
    return step


def wind_grid(ds: xr.Dataset, start: np.datetime64 | None = None) -> WindGrid:
    """Convert a normalised wind dataset (see ``docs/architecture.md``) to a WindGrid.

    Parameters
    ----------
    ds : normalised wind dataset with ``u``, ``v`` on ``(time, lat, lon)``. [m s-1]
    start : the run's start time; record times are measured from it. If None, from
        the first record.
    """
    source = str(ds.attrs.get("source", "wind dataset"))
    lon = np.asarray(ds["lon"].values, dtype=np.float64)
    lat = np.asarray(ds["lat"].values, dtype=np.float64)
    dlon = _regular_spacing(lon, "lon", source)
    dlat = _regular_spacing(lat, "lat", source)
    u_da = ds["u"].transpose("time", "lat", "lon")
    v_da = ds["v"].transpose("time", "lat", "lon")
    times = ds["time"].values
    steady = bool(ds.attrs.get("steady", 0)) or times.size == 1
    n_rec = 1 if steady else int(times.size)
    lam = np.deg2rad(lon)[None, :]
    phi = np.deg2rad(lat)[:, None]
    vec = np.empty((n_rec, 1, 3, lat.size, lon.size), dtype=np.float32)
    # one record at a time: float64 temporaries of one record only (and, for a lazy
    # dataset, one record read at a time)
    for k in range(n_rec):
        u = np.asarray(u_da[k].values, dtype=np.float64)
        v = np.asarray(v_da[k].values, dtype=np.float64)
        vec[k, 0, 0] = -u * np.sin(lam) - v * np.sin(phi) * np.cos(lam)
        vec[k, 0, 1] = u * np.cos(lam) - v * np.sin(phi) * np.sin(lam)
        vec[k, 0, 2] = v * np.cos(phi)
    if steady:
        times_s = np.zeros(1)
    else:
        ref = times[0] if start is None else start
        times_s = (times - ref) / np.timedelta64(1, "s")
        times_s = np.asarray(times_s, dtype=np.float64)
    return WindGrid(vec=np.ascontiguousarray(vec), times_s=times_s, **grid_geometry(ds, lon, lat, dlon, dlat))


def grid_geometry(ds: xr.Dataset, lon: NDArray[np.float64], lat: NDArray[np.float64], dlon: float,
                  dlat: float) -> dict[str, Any]:
    """The horizontal-grid fields of a :class:`WindGrid` (first node, spacing, size,
    wrap-round and polar rows) for a dataset's regular ``lon``/``lat`` axes."""
    return {
        "lon0": float(lon[0]),
        "dlon": dlon,
        "nlon": int(lon.size),
        "lat0": float(lat[0]),
        "dlat": dlat,
        "nlat": int(lat.size),
        "global_lon": bool(ds.attrs.get("global_lon", 0)) or abs(lon.size * dlon - 360.0) < 1e-6 * 360,
        "polar_south": bool(lat[0] - dlat <= -90.0 + 1e-9),
        "polar_north": bool(lat[-1] + dlat >= 90.0 - 1e-9),
    }


def pack_wind(wind: WindGrid, records_inner: bool = False, min_records: int = 1,
              pad: int = 0, out: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
    """The wind and ``w`` as float32 (vx, vy, vz, w) per node, level and record (w = 0
    without it), the node-interleaved layouts of the 3-D kernels:

    * ``records_inner`` False (CUDA): (time, lat, lon, nz, 4), a corner's wind and w on
      two adjacent levels in 32 contiguous bytes;
    * ``records_inner`` True (numba): (lat, lon, nz, time, 4), a corner's records side by
      side on each level (:func:`plumecast.transport.kernels_numba_3d._read3`).

    At least ``min_records`` records: the last one is repeated to fill them. ``pad`` > 0:
    the array flattened, followed by ``pad`` zeros (one allocation; the numba kernel's
    form), written into ``out`` where it is a float32 array of that size (the memory of
    the last window: fresh pages cost a page fault each, up to 0.4 s for a 0.25 degree
    global window). Filled by compiled loops (:mod:`plumecast.transport.packing`)."""
    from plumecast.transport.packing import fill_wind

    nt, nz, _, nlat, nlon = wind.vec.shape
    ntp = max(nt, min_records)
    shape = (nlat, nlon, nz, ntp, 4) if records_inner else (ntp, nlat, nlon, nz, 4)
    size = nlat * nlon * nz * ntp * 4
    reuse = out is not None and pad > 0 and out.dtype == np.float32 and out.shape == (size + pad,)
    flat = out if reuse and out is not None else np.empty(size + pad, np.float32)
    flat[size:] = 0.0
    v = flat[:size].reshape(shape)
    # indexed (time, lat, lon, nz, 4) in both layouts
    fill_wind(v.transpose(3, 0, 1, 2, 4) if records_inner else v, wind.vec, wind.w)
    return flat if pad > 0 else v


def pack_surface(wind: WindGrid, records_inner: bool = False, min_records: int = 1,
                 out: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
    """The boundary-layer fields as float32, the fields of :data:`SURFACE_FIELDS`, then
    the solar irradiance and surface temperature (``WindGrid.stomata``, zeros without
    them; ``WindGrid.dry_velocity`` in place of the irradiance where the grid has it),
    then the land fraction (``WindGrid.land``, 1 without it), 8 per node and record:
    (time, lat, lon, 8), or (lat, lon, time, 8) with
    ``records_inner`` (a corner's records side by side); at least ``min_records``
    records (the last one repeated). A dummy node of zeros without them. Filled by
    compiled loops (:mod:`plumecast.transport.packing`), into ``out`` where it is a
    float32 array of the same shape (as in :func:`pack_wind`)."""
    from plumecast.transport.packing import fill_surface

    if wind.surface is None:
        return np.zeros((1, 1, min_records, 8) if records_inner else (min_records, 1, 1, 8), np.float32)
    nt, nf, nlat, nlon = wind.surface.shape
    ntp = max(nt, min_records)
    shape = (nlat, nlon, ntp, 8) if records_inner else (ntp, nlat, nlon, 8)
    s = out if out is not None and out.dtype == np.float32 and out.shape == shape else np.empty(shape, np.float32)
    fill_surface(s.transpose(2, 0, 1, 3) if records_inner else s, wind.surface, wind.stomata, wind.dry_velocity,
                 wind.land)
    return s
