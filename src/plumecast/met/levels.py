"""Three-dimensional met: winds on levels, vertical motion and the boundary layer.

:func:`open_met_3d` reads pressure-level (or height-level) met files, lazily, into
one normalised 3-D dataset (:mod:`plumecast.met.levels_read`, whose docstring
describes that dataset and the variables found in each producer's files);
:func:`wind_grid_3d` (here) turns chosen records of it into a
:class:`~plumecast.transport.windgrid.WindGrid` on fixed heights above ground, with
vertical velocity and the boundary-layer fields of
:data:`~plumecast.transport.windgrid.SURFACE_FIELDS`
(:mod:`plumecast.met.boundary_layer`). The constants and the ICAO standard
atmosphere are in :mod:`plumecast.met.atmosphere`; all of these names are
importable from this module too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.errors import MetDataError
from plumecast.met.atmosphere import (
    CP,
    G0,
    KAPPA_AIR,
    R_D,
    standard_atmosphere_height_m,
    standard_atmosphere_temperature_k,
)
from plumecast.met.boundary_layer import (
    MIXING_HEIGHT_BOUNDS_M,
    RI_CRITICAL,
    RI_USTAR_WEIGHT,
    USTAR_FLOOR_M_S,
    VON_KARMAN,
    surface_fields,
)
from plumecast.met.ground_once import ground_files, ground_passed, ground_seen
from plumecast.met.intervals import INTERVAL, INTERVAL_FIELDS
from plumecast.met.levels_join import FIELD_FILE
from plumecast.met.levels_read import (
    _err,
    normalise_met_3d,
    open_met_3d,
)
from plumecast.met.plausible import (
    PLAUSIBLE_RANGES,
    check_field,
    check_winds,
    ground_check,
    nan_check,
)
from plumecast.transport.windgrid import SURFACE_FIELDS, WindGrid, across_dateline, grid_geometry

__all__ = [
    "BLOCK_VALUES",
    "CP",
    "DEFAULT_HEIGHTS_M",
    "G0",
    "KAPPA_AIR",
    "MIXING_HEIGHT_BOUNDS_M",
    "PLAUSIBLE_RANGES",
    "RI_CRITICAL",
    "RI_USTAR_WEIGHT",
    "R_D",
    "USTAR_FLOOR_M_S",
    "VON_KARMAN",
    "normalise_met_3d",
    "open_met_3d",
    "standard_atmosphere_height_m",
    "standard_atmosphere_temperature_k",
    "wind_grid_3d",
]

#: Values per 3-D field handled at once by :func:`wind_grid_3d` (rows of the grid
#: are processed in blocks so that float64 temporaries stay small on global grids).
BLOCK_VALUES = 250_000

#: Default heights above ground of the WindGrid levels [m]: dense in the boundary
#: layer, coarser aloft, like FLEXPART's output/terrain-following levels. 10 m is
#: used only when the files have 10 m winds; heights above the files' top level are
#: cut (see :func:`wind_grid_3d`). The kernels interpolate linearly in height between
#: them; in the surface layer, where the wind follows ln z, consecutive heights are at
#: most 1.5 times apart up to 200 m, so that the linear interpolation stays within 3 %
#: of the log profile (10 m wind 2 m/s, 10 m/s at 111 m: 2.6 % at 12 m; with 10, 50 and
#: 100 m alone it had read 22 % slow at 19 m, physics audit).
DEFAULT_HEIGHTS_M = (10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 200.0, 350.0, 500.0, 750.0, 1000.0, 1500.0,
                     2000.0, 3000.0, 4000.0, 5000.0, 6500.0, 8000.0, 10000.0, 12000.0)


def _records(n: int, records: slice | tuple[int, int] | None, where: str) -> tuple[int, int]:
    if records is None:
        return 0, n
    if isinstance(records, slice):
        if records.step not in (None, 1):
            raise _err(where, f"records={records}; expected a contiguous range (step 1)")
        i0, i1, _ = records.indices(n)
    else:
        i0, i1 = int(records[0]), int(records[1])
    if not 0 <= i0 < i1 <= n:
        raise _err(where, f"records {i0}..{i1} (end excluded) outside the {n} record(s) of the met; "
                          f"expected 0 <= start < end <= {n}")
    return i0, i1


def _regular(values: NDArray[np.float64], name: str, where: str) -> float:
    if values.size < 2:
        raise _err(where, f"coordinate {name!r} has {values.size} value(s); need at least 2")
    steps = np.diff(values)
    step = float(np.median(steps))
    if step <= 0 or np.max(np.abs(steps - step)) > 1e-3 * abs(step):
        raise _err(where, f"coordinate {name!r} is not regularly spaced (steps {steps.min():g}..{steps.max():g} "
                          "deg); plumecast needs a regular lon/lat grid"
                          + (across_dateline(values) if name == "lon" else ""))
    return step


def _record_file(ds: xr.Dataset, k: int) -> str:
    """The file of record ``k`` (of the winds on levels), for messages."""
    if "met_file" in ds.coords and ds["met_file"].ndim == 1:
        return f"{ds['met_file'].values[k]} (of {ds.attrs.get('source', '')})"
    return str(ds.attrs.get("first_file", ds.attrs.get("source", "met dataset")))


def _field_file(ds: xr.Dataset, name: str, k: int) -> str:
    """The file that holds field ``name`` at record ``k`` (its ``met_file_<name>``
    coordinate where it is another file than the winds', e.g. the single-level file of
    ERA5), for messages."""
    coord = f"{FIELD_FILE}{name}"
    if coord in ds.coords:
        files = np.asarray(ds[coord].values)
        return f"{files.item() if files.ndim == 0 else files[k]} (of {ds.attrs.get('source', '')})"
    return _record_file(ds, k)


def _interp_columns(h: NDArray[np.float64], val: NDArray[np.float64], z: float, kb: NDArray[np.int64],
                    near: NDArray[np.float64]) -> NDArray[np.float64]:
    """Linear interpolation in height of ``val`` (nlev, ny, nx) at height ``z``;
    ``near`` is used below the lowest level above ground (index ``kb``), the top
    level's value above the top."""
    nlev = h.shape[0]
    count = np.sum(h <= z, axis=0)
    k = np.clip(count - 1, 0, nlev - 2) if nlev > 1 else np.zeros_like(count)
    if nlev == 1:
        return np.where(count <= kb, near, val[0])
    h0 = np.take_along_axis(h, k[None], 0)[0]
    h1 = np.take_along_axis(h, (k + 1)[None], 0)[0]
    v0 = np.take_along_axis(val, k[None], 0)[0]
    v1 = np.take_along_axis(val, (k + 1)[None], 0)[0]
    f = np.clip((z - h0) / np.where(h1 > h0, h1 - h0, 1.0), 0.0, 1.0)
    out = v0 + f * (v1 - v0)
    out = np.where(count >= nlev, val[-1], out)
    return np.where(count <= kb, near, out)


def _columns_to_heights_numpy(
    h: NDArray[np.float64], vals: NDArray[np.float64], z_t: NDArray[np.float64], modes: NDArray[np.int64],
    z0: float, ref10: NDArray[np.float64] | None = None,
) -> NDArray[np.float32]:
    """NumPy reference of :func:`plumecast.met.columns.columns_to_heights` (same
    arguments and rules; one full-array search per height)."""
    nlev = h.shape[0]
    kb = np.minimum(np.sum(h <= 0.0, axis=0), nlev - 1)
    hb = np.take_along_axis(h, kb[None], 0)[0]
    out = np.empty((vals.shape[0], z_t.size) + h.shape[1:], dtype=np.float32)
    for m in range(vals.shape[0]):
        vb = np.take_along_axis(vals[m], kb[None], 0)[0]
        for iz, z in enumerate(z_t):
            if modes[m] == 1:
                near = vb * np.clip(z / hb, 0.0, 1.0)
            elif ref10 is not None:
                v10 = ref10[m]
                fz = np.log(max(z, z0) / 10.0) / np.log(np.maximum(hb, 10.0 + 1e-3) / 10.0)
                near = v10 + fz * (vb - v10) if z >= 10.0 else v10 * np.log(max(z, z0) / z0) / np.log(10.0 / z0)
            else:
                near = vb * np.log(max(z, z0) / z0) / np.log(np.maximum(hb, 1.001 * z0) / z0)
            out[m, iz] = _interp_columns(h, vals[m], z, kb, near)
    return out


def _masked_below(gh: NDArray[np.float64]) -> NDArray[np.bool_] | None:
    """Levels whose geopotential is missing from the lowest level of a column up
    (levels under the ground, masked as ``wrf-python``'s ``vinterp(extrapolate=False)``
    or a GFS/WRF post-processor leaves them): read as below ground. None if every
    value is there. A missing value above a present one is not masked: it stays
    an error."""
    missing = ~np.isfinite(gh)
    if not missing.any():
        return None
    return np.cumprod(missing, axis=0).astype(bool)


#: a level whose geopotential is missing is taken as under the ground where its pressure exceeds this share
#: of the surface pressure (about 80 m above the ground near sea level), or where its height, from the lowest
#: level with a value by the hypsometric equation, lies less than MASKED_HEIGHT_MARGIN_M above the orography
MASKED_PRESSURE_MARGIN = 0.99
MASKED_HEIGHT_MARGIN_M = 100.0


def _masked_above_ground(masked: NDArray[np.bool_], gh: NDArray[np.float64], t: NDArray[np.float64] | None,
                         levels_hpa: NDArray[np.float64], zs: NDArray[np.float64], sp: NDArray[np.float64] | None,
                         where: str, tk: str, lat: NDArray[Any], lon: NDArray[Any]) -> None:
    """Refuse a missing geopotential (:func:`_masked_below`) at a level that the file's own
    ground puts above the ground: its surface pressure ``sp`` [Pa] is higher than the
    level's (by :data:`MASKED_PRESSURE_MARGIN`), or, with the orography ``zs`` [m] alone,
    the level's height from the lowest level with a value (hypsometric, with the dry
    adiabat's temperature from that level's, else the standard atmosphere's: the height
    errs low) is more than
    :data:`MASKED_HEIGHT_MARGIN_M` above it. Such a level is not under the ground but a
    gap in the file (met audit, session 30: u, v and z missing at 1000 hPa everywhere
    under a surface pressure of 1013 hPa had been read as under the ground, and the
    1000 hPa wind dropped)."""
    p = levels_hpa[:, None, None] * 100.0
    if sp is not None:
        bad = masked & (p < MASKED_PRESSURE_MARGIN * sp[None])
    else:
        present = ~masked
        k0 = np.clip(np.argmax(present, axis=0), 0, levels_hpa.size - 1)  # the lowest level with a value
        z0 = np.take_along_axis(gh, k0[None], 0)[0]
        p0 = np.take_along_axis(p * np.ones_like(gh), k0[None], 0)[0]
        t0 = (standard_atmosphere_temperature_k(levels_hpa)[k0] if t is None
              else np.take_along_axis(t, k0[None], 0)[0])
        t0 = np.where(np.isfinite(t0), t0, standard_atmosphere_temperature_k(levels_hpa)[k0])
        # the layer's temperature taken as the dry adiabat's at the masked level, the warmest a layer under
        # it holds outside a superadiabatic surface layer: its thickness is then the largest and the level's
        # height errs low (taken at the level above, it had put a level 5 m under a plateau 120 m above it;
        # regression audit, session 30)
        t_layer = t0[None] * (p / p0[None]) ** KAPPA_AIR
        z_est = z0[None] + R_D * np.maximum(t_layer, t0[None]) / G0 * np.log(p0[None] / p)
        some: NDArray[np.bool_] = np.asarray(present.any(axis=0), dtype=bool)
        bad = masked & some[None] & (z_est - zs[None] > MASKED_HEIGHT_MARGIN_M)
    if not bad.any():
        return
    k, j, i = (int(x[0]) for x in np.nonzero(bad))
    ground = (f"the surface pressure there is {sp[j, i] / 100.0:.0f} hPa" if sp is not None
              else f"the ground there is at {zs[j, i]:.0f} m and the level at least at {z_est[k, j, i]:.0f} m "
                   "(hypsometric from the level above, along a dry adiabat)")
    raise MetDataError(f"{where}: geopotential missing (NaN) at {levels_hpa[k]:g} hPa at {tk}, lat {float(lat[j]):g}, "
                       f"lon {float(lon[i]):g} ({int(bad.sum())} value{'s' if int(bad.sum()) != 1 else ''} of that record), where {ground}: that level is "
                       "above the ground, not under it; expected a value at every level above the ground (a file "
                       "masks only the levels under the ground)")


def ground_from_surface_pressure(gh: NDArray[np.float64], t: NDArray[np.float64] | None, sp: NDArray[np.float64],
                                 levels_hpa: NDArray[np.float64]) -> NDArray[np.float64]:
    """Height of the ground [m above sea level] from the surface pressure ``sp`` [Pa]
    and the geopotential height ``gh`` [m] (and temperature ``t`` [K], else the ICAO
    standard atmosphere's) on pressure levels (ground first), for files without
    orography: linear in ln p between the two levels around ``sp`` (the hypsometric
    equation for a layer of uniform temperature); below the lowest level with a value
    and above the highest, the hypsometric equation with that level's temperature,
    z_s = z_k + R_d T_k ln(p_k / p_s) / g0 (Wallace & Hobbs 2006, Atmospheric Science,
    2nd ed., eq. 3.24), as ``plumecast met fetch`` diagnoses ECMWF's ground
    (:func:`plumecast.met.fetch.surface_geopotential`). A level without a value (NaN,
    masked under the ground) is never used."""
    nlev = levels_hpa.size
    p = levels_hpa[:, None, None] * 100.0
    lnp = np.log(levels_hpa * 100.0)
    lnsp = np.log(np.maximum(sp, 1.0))
    t_std = standard_atmosphere_temperature_k(levels_hpa)
    ok = np.isfinite(gh)
    # the highest level at or under the ground (p >= sp) with a value, and the lowest above it
    under = (p >= sp[None]) & ok
    k_lo = np.where(under.any(axis=0), nlev - 1 - np.argmax(under[::-1], axis=0), -1)
    above = (p < sp[None]) & ok
    k_hi = np.where(above.any(axis=0), np.argmax(above, axis=0), -1)

    def at(a: NDArray[np.float64], k: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.take_along_axis(a, np.maximum(k, 0)[None], 0)[0]

    def t_at(k: NDArray[np.int64]) -> NDArray[np.float64]:  # the temperature at level k (the standard's if none)
        std = t_std[np.maximum(k, 0)]
        if t is None:
            return std
        tk = at(t, k)
        return np.where(np.isfinite(tk), tk, std)

    # (only the values at k_lo and k_hi are taken: no whole 3-D temporaries but the masks)
    z_lo, z_hi = at(gh, k_lo), at(gh, k_hi)
    l_lo, l_hi = lnp[np.maximum(k_lo, 0)], lnp[np.maximum(k_hi, 0)]
    hyps_hi = z_hi + R_D * t_at(k_hi) / G0 * (l_hi - lnsp)  # from the level above, downward
    hyps_lo = z_lo + R_D * t_at(k_lo) / G0 * (l_lo - lnsp)  # from the level under, upward
    frac = (l_lo - lnsp) / np.where(l_lo > l_hi, l_lo - l_hi, 1.0)
    between = z_lo + frac * (z_hi - z_lo)
    return np.where((k_lo >= 0) & (k_hi >= 0), between, np.where(k_hi >= 0, hyps_hi, hyps_lo))


def _check_geo_scale(gh: NDArray[np.float64], levels_hpa: NDArray[np.float64], where: str, tk: str) -> None:
    """Refuse geopotential heights far from the standard atmosphere's at the
    highest level (a geopotential in m2 s-2 labelled m is g0 = 9.8 times too high).
    Levels below 1000 m in the standard atmosphere are not checked: the ground's
    height dominates there."""
    std = standard_atmosphere_height_m(levels_hpa)
    k = int(np.argmax(std))
    if std[k] < 1000.0:
        return
    top = gh[k][np.isfinite(gh[k])]
    if top.size == 0:
        return
    mean = float(top.mean())
    if not 0.5 * std[k] <= mean <= 2.0 * std[k]:
        raise _err(where, f"geopotential height at {levels_hpa[k]:g} hPa averages {mean:,.0f} m at {tk}, where the "
                          f"standard atmosphere puts that level at {std[k]:,.0f} m; expected geopotential height in m "
                          "(a geopotential in m2 s-2 needs those units to be divided by g0)")


def wind_grid_3d(
    ds: xr.Dataset,
    start: np.datetime64 | None = None,
    records: slice | tuple[int, int] | None = None,
    z_levels_m: Sequence[float] | NDArray[np.float64] | None = None,
    roughness_length_m: float = 0.1,
    *,
    mixing_height_m: float | None = None,
    standard_atmosphere: bool = False,
    out: WindGrid | None = None,
    interval_starts: dict[int, NDArray[np.float32] | MetDataError] | None = None,
) -> WindGrid:
    """Interpolate records of a normalised 3-D dataset onto fixed heights above ground.

    Parameters
    ----------
    ds : the normalised 3-D dataset (:func:`open_met_3d`, :func:`normalise_met_3d`,
        :func:`plumecast.met.climatology.climatology_3d`), one member.
    start : the run's start; record times are measured from it (default: the
        first record read).
    records : time indices ``(i0, i1)`` (end excluded) or a slice; only these
        records are read from disk. Default: all.
    z_levels_m : heights above ground of the WindGrid levels [m], ascending.
        Default :data:`DEFAULT_HEIGHTS_M` without 10 m when the files have no 10 m
        wind, cut above the files' top level: above the ICAO standard-atmosphere
        height of the top pressure level less the highest ground (the same for
        every record range, so rolling windows share their levels).
    roughness_length_m : z0 for the log law below the lowest level and for u*
        when the files have no friction velocity. [m]
    mixing_height_m : constant mixing height [m] used where the files have neither
        a mixing height nor temperature to diagnose one; without it such files
        give ``surface=None`` (the run's constant K_z and mixing height apply).
    standard_atmosphere : for pressure levels without geopotential, take the
        heights of the ICAO standard atmosphere instead of raising an error.
    out : a WindGrid of the same records' shape whose arrays (``vec``, ``w``,
        ``surface``, ``stomata``; those that are not None) the records are written
        into, and which the result then holds, instead of new ones: a streamed run
        reads every record into the same memory (:class:`plumecast.run_winds.RunWinds`;
        fresh memory costs a page fault and the zeroing of each page).
    interval_starts : a dict that, where the dataset has quantities over intervals
        (precipitation, heat flux, solar radiation whose value at a record is the mean
        over the interval ending there; :mod:`plumecast.met.intervals`), receives for
        each record ``k`` read its boundary-layer fields (``surface``, then ``stomata``
        where there are, stacked: (fields, lat, lon) float32) with the quantities of the
        interval that *begins* at ``k`` (record ``k + 1``'s; the last record's own):
        what the start of a run's window from ``k`` holds, so that a run keeps them
        constant over each interval (:class:`plumecast.run_winds.RunWinds`). Where record
        ``k + 1``'s values are refused, the error is stored in their place, for the run
        to raise when it reaches that interval (not one window early).

    Returns
    -------
    WindGrid
        ``vec`` (time, nz, 3, lat, lon), ``w`` (or None), ``surface`` (or None),
        ``provenance`` saying where each field came from.

    Notes
    -----
    Height of a pressure level above ground: ``(Φ - Φ_s) / g0`` (geopotential
    heights ``gh - zs``); without surface geopotential or orography, the ground is
    diagnosed from the surface pressure ``sp`` where the files have it
    (:func:`ground_from_surface_pressure`), else the height above sea level is used
    (both said in the provenance). Levels below ground are skipped. Between the ground
    and the lowest level above ground: linear in ln z from the 10 m wind when the
    files have it, else the neutral log law ``u(z) = u_1 ln(z/z0) / ln(z_1/z0)``;
    ``w`` goes linearly to 0 at the ground. Above a column's top level the top
    level's values hold.

    Vertical velocity from omega, hydrostatic: ``w = -ω R_d T / (p g0)`` (Holton &
    Hakim 2013, An Introduction to Dynamic Meteorology, 5th ed., eq. 3.44 with
    ρ = p / (R_d T)); T from the files, else the ICAO standard atmosphere; the
    virtual-temperature correction (< 1 %) is neglected.

    Boundary layer (:data:`~plumecast.transport.windgrid.SURFACE_FIELDS`):

    * mixing height: ``blh``/``hpbl``/``PBLH`` as read; else the bulk Richardson
      number ``Ri_b(z) = g (θ(z) − θ_s)(z − z_s) / (θ_s (u² + v² + b u*²))``,
      ``b = 100``, first reaching 0.25 (Vogelezang & Holtslag 1996, Boundary-Layer
      Meteorol. 81, 245, doi:10.1007/BF02430331, as in FLEXPART), with θ_s from the
      2 m temperature (or the lowest level), bounded to 100..4500 m (FLEXPART);
    * u*: from the files; else the neutral log law ``κ U(z_1) / ln(z_1/z0)`` from
      the 10 m (or lowest) wind;
    * 1/L: ``-κ g H / (u*³ θ ρ c_p)`` from the heat flux H (Obukhov 1946); without
      H, from the bulk Richardson number of the lowest layer through the
      Businger–Dyer relations ``ζ = Ri`` (unstable), ``ζ = Ri / (1 − 5 Ri)``
      (stable; Businger et al. 1971, J. Atmos. Sci. 28, 181; Dyer 1974,
      Boundary-Layer Meteorol. 7, 363), and H back from L; without temperature, 0;
    * w* = ``(g H h / (ρ c_p θ))^(1/3)`` for H > 0, else 0 (Deardorff 1970,
      J. Atmos. Sci. 27, 1211);
    * precipitation [mm h-1] as normalised (0 when the files have none).

    Raises
    ------
    MetDataError
        Naming the file that holds the field: no geopotential (unless
        ``standard_atmosphere``), NaN inside the domain or a value outside
        :data:`~plumecast.met.plausible.PLAUSIBLE_RANGES` (a wind speed above
        :data:`~plumecast.met.reader.MAX_WIND_M_S`; below-ground levels excepted),
        levels not ascending in height, records out of range.
    """
    from plumecast.met.columns import (  # numba: when first needed
        columns_to_heights,
        east_north_to_vectors,
        take_level,
    )

    where = str(ds.attrs.get("first_file", ds.attrs.get("source", "met dataset")))
    if "number" in ds.dims and ds.sizes["number"] > 1:
        raise _err(where, f"{ds.sizes['number']} members on 'number'; choose one (open_met_3d(member=k))")
    level_type = str(ds.attrs.get("level_type", "pressure"))
    n_all = int(ds.sizes["time"])
    steady = bool(ds.attrs.get("steady", 0))
    i0, i1 = _records(n_all, records, where)
    lat = np.asarray(ds["lat"].values, dtype=np.float64)
    lon = np.asarray(ds["lon"].values, dtype=np.float64)
    dlat = _regular(lat, "lat", where)
    dlon = _regular(lon, "lon", where)
    levels = np.asarray(ds["level"].values, dtype=np.float64)
    nlev = levels.size
    has = set(map(str, ds.data_vars))
    prov: list[str] = []

    def frm(name: str) -> str:
        return str(ds[name].attrs.get("plumecast_from", name))

    # --- heights of the levels -------------------------------------------------------
    has_zs = "zs" in has
    has_sp = level_type == "pressure" and not has_zs and "sp" in has and "gh" in has
    if level_type == "pressure" and "gh" not in has:
        if not standard_atmosphere:
            raise _err(where, "no geopotential (or geopotential height) on the pressure levels; expected z, gh, "
                              "HGT or GHT (or ask for the ICAO standard atmosphere: standard_atmosphere=True / "
                              "met.standard_atmosphere: true)")
        prov.append("level heights: ICAO standard atmosphere (no geopotential in the files)")
    elif level_type == "pressure":
        prov.append(f"level heights: geopotential height from {frm('gh')}")
    elif level_type == "altitude":
        if not has_zs:
            raise _err(where, "winds on heights above sea level (altitude) and no ground height in the files; "
                              "expected the orography (surface geopotential z, orog, HGT or hgtsfc) beside them, "
                              "or winds on heights above ground (standard_name height) or on pressure levels")
        prov.append(f"level heights: the files' heights above sea level less the ground {frm('zs')}")
    else:
        prov.append("level heights: the files' heights above ground")
    zs_static: NDArray[np.float64] | None = None
    if has_zs and level_type in ("pressure", "altitude") and "time" not in ds["zs"].dims:
        zs_static = np.asarray(ds["zs"].values, dtype=np.float64)
    if level_type == "pressure":
        if has_zs:
            prov.append(f"ground: {frm('zs')}; heights above ground = (Φ − Φ_s) / g0")
        elif has_sp:
            prov.append(f"ground: diagnosed from the surface pressure {frm('sp')} and the geopotential on the levels "
                        "(linear in ln p between levels, hypsometric below the lowest; no orography in the files); "
                        "heights above ground = (Φ − Φ_s) / g0")
        else:
            prov.append("ground: no surface geopotential or orography (nor surface pressure) in the files; heights "
                        "above sea level are used as heights above ground, and levels without geopotential from the "
                        "bottom up (masked) are taken as under the ground, which the files cannot confirm")

    # --- target heights (fixed for the dataset) ------------------------------------------
    has_10m = "u10" in has and "v10" in has
    if z_levels_m is None:
        # (not when given: a streamed run passes the first record's, and the ground of
        # record 0 would be read again from the files for every record)
        ground = 0.0  # the highest ground of the first record, for levels above sea level (pressure, altitude)
        if has_zs and level_type in ("pressure", "altitude"):
            zmax = zs_static if zs_static is not None else np.asarray(ds["zs"].isel(time=0).values, np.float64)
            ground = max(float(np.nanmax(zmax)), 0.0)
        if level_type == "pressure":
            top = float(standard_atmosphere_height_m(levels[-1]))
            if has_zs:
                top -= ground
            elif has_sp:  # the highest ground from the lowest surface pressure, in the standard atmosphere
                sp0 = np.asarray(ds["sp"].isel(time=0).values, np.float64)
                top -= max(float(standard_atmosphere_height_m(np.nanmin(sp0) / 100.0)), 0.0)
        elif level_type == "altitude":  # above the highest ground
            top = float(levels[-1]) - ground
        else:
            top = float(levels[-1])
        z_t = np.array([z for z in DEFAULT_HEIGHTS_M if (z != 10.0 or has_10m) and z <= top], dtype=np.float64)
        if z_t.size == 0:
            z_t = np.array([max(top, 10.0)])
    else:
        z_t = np.asarray(z_levels_m, dtype=np.float64).ravel()
        if z_t.size == 0 or np.any(z_t <= 0) or np.any(np.diff(z_t) <= 0):
            raise _err(where, f"z_levels_m={z_t.tolist()}; expected heights above ground > 0 m, ascending")
    nz = z_t.size
    prov.append(f"winds: {frm('u')} / {frm('v')} on {nlev} {level_type} level(s), interpolated linearly in height "
                f"onto {nz} heights {z_t[0]:g}..{z_t[-1]:g} m above ground"
                + (f"; 10 m wind {frm('u10')} / {frm('v10')}, ln z between it and the lowest level" if has_10m
                   else f"; below the lowest level the neutral log law with z0 = {roughness_length_m:g} m"))
    if ds.attrs.get("unread"):  # level types left out, fields that cannot be identified
        prov.append(f"not read from the files: {ds.attrs['unread']}")
    z0 = float(roughness_length_m)
    if not z0 > 0:
        raise _err(where, f"roughness_length_m={roughness_length_m!r}; expected > 0 m")

    vert = "w" if "w" in has else "omega" if "omega" in has else None
    temp = "t" if "t" in has else "theta" if "theta" in has else None
    if vert == "omega":
        prov.append(f"w: from omega {frm('omega')}, w = −ω R_d T / (p g0) (hydrostatic), T from "
                    + (frm("t") if temp == "t" else "the ICAO standard atmosphere"))
    elif vert == "w":
        prov.append(f"w: {frm('w')}")
    else:
        prov.append("w: none in the files (no vertical advection by the mean wind)")

    have_blh = "blh" in has
    diag_blh = not have_blh and temp is not None
    with_surface = have_blh or diag_blh or mixing_height_m is not None
    if have_blh:
        prov.append(f"mixing height: {frm('blh')}")
    elif diag_blh:
        prov.append(f"mixing height: diagnosed, bulk Richardson number {RI_CRITICAL:g} (Vogelezang & Holtslag "
                    f"1996) from {frm(str(temp))}, bounded to {MIXING_HEIGHT_BOUNDS_M[0]:g}.."
                    f"{MIXING_HEIGHT_BOUNDS_M[1]:g} m")
    elif mixing_height_m is not None:
        prov.append(f"mixing height: the scenario's constant {mixing_height_m:g} m (no mixing height and no "
                    "temperature in the files)")
    else:
        prov.append("boundary layer: none in the files (no mixing height, no temperature): surface fields absent, "
                    "the run's constant K_z and mixing height apply")
    if with_surface:
        prov.append("u*: " + (frm("ustar") if "ustar" in has else
                              f"neutral log law from the {'10 m' if has_10m else 'lowest level'} wind, "
                              f"z0 = {z0:g} m"))
        if "shf" in has:
            prov.append(f"1/L, w*: from the sensible heat flux {frm('shf')}")
        elif temp is not None:
            prov.append("1/L, w*: from the bulk Richardson number of the lowest layer (Businger–Dyer); "
                        "no heat flux in the files")
        else:
            prov.append("1/L, w*: 0 (neutral; no heat flux and no temperature in the files)")
        prov.append("precipitation: " + (frm("precip") if "precip" in has else
                                         f"none read, 0: the files hold precipitation that is not read "
                                         f"({ds.attrs['unread_precip']}; see 'not read from the files')"
                                         if ds.attrs.get("unread_precip")
                                         else "none in the files: 0"))
        if "solar" in has:
            prov.append(f"solar radiation at the ground: {frm('solar')}; surface temperature: "
                        + (frm("t2m") if "t2m" in has else "the lowest level's" if temp is not None
                           else "none in the files: 15 degC (standard atmosphere)"))

    land: NDArray[np.float32] | None = None
    if with_surface and "land" in has:
        prov.append(f"land fraction: {frm('land')}")
        land = _land_fraction(ds, i0, lat, lon)

    n_rec = i1 - i0
    vec = _out_array(out, "vec", (n_rec, nz, 3, lat.size, lon.size))
    w_out = _out_array(out, "w", (n_rec, nz, lat.size, lon.size)) if vert else None
    surf = _out_array(out, "surface", (n_rec, len(SURFACE_FIELDS), lat.size, lon.size)) if with_surface else None
    stomata = _out_array(out, "stomata", (n_rec, 2, lat.size, lon.size)) if with_surface and "solar" in has else None
    # the blocks' largest temporaries, made once for all blocks and records (see _scratch)
    scratch: dict[str, NDArray[Any]] = {}
    times = np.asarray(ds["time"].values).astype("datetime64[ns]")
    p_pa = levels[:, None, None] * 100.0 if level_type == "pressure" else None

    lv_unit = {"pressure": "hPa", "altitude": "m above sea level"}.get(level_type, "m above ground")

    def _block(rec: xr.Dataset, js: slice, r: int, files: dict[str, str], tk: str, nxt: xr.Dataset | None = None,
               start_out: NDArray[np.float32] | None = None, nxt_files: dict[str, str] | None = None,
               tk_next: str = "") -> None:
        """Rows ``js`` of record ``r``: heights, interpolation, boundary layer; ``files``:
        the file of each field at this record, for messages."""
        latb = lat[js]
        nyb = latb.size
        file_k = files["u"]

        def check(name: str, a: NDArray[np.float64], allowed: NDArray[np.bool_] | None = None,
                  nan_name: str | None = None) -> None:
            """NaN, then a value outside PLAUSIBLE_RANGES (an undeclared fill value)."""
            lv = levels if a.ndim == 3 else None
            check_field(a, name, rec[name], files[name], tk, latb, lon, allowed, lv, lv_unit, nan_name)

        def get(name: str, rec: xr.Dataset = rec) -> NDArray[np.float64]:
            return np.asarray(rec[name].values, dtype=np.float64)

        T_read = get(temp) if temp is not None else None
        # heights above ground (nlev, ny, nx)
        if level_type == "pressure":
            gh = get("gh") if "gh" in has else np.broadcast_to(
                standard_atmosphere_height_m(levels)[:, None, None], (nlev, nyb, lon.size)).copy()
            masked = None
            if "gh" in has:
                masked = _masked_below(gh)
                check("gh", gh, masked, "geopotential")
                _check_geo_scale(gh, levels, files["gh"], tk)
            if has_zs:
                zs = zs_static[js] if zs_static is not None else get("zs")
                check("zs", zs, None, "surface height")
                if check_ground:  # the orography against the ground the surface pressure gives, once per file
                    ground_check(zs, ground_from_surface_pressure(gh, T_read if temp == "t" else None, get("sp"),
                                                                  levels), rec["zs"], files["zs"], tk, latb, lon)
            elif has_sp:
                sp = get("sp")
                check("sp", sp, None, "surface pressure")
                t_k = None if T_read is None else (T_read * (p_pa / 1e5) ** KAPPA_AIR if temp == "theta"
                                                   and p_pa is not None else T_read)
                zs = ground_from_surface_pressure(gh, t_k, sp, levels)
            else:
                zs = np.zeros((nyb, lon.size))
            if masked is not None and (has_zs or has_sp):
                # the surface pressure where the files give it (a direct test), else the orography's height
                sp_m = sp if has_sp else (get("sp") if "sp" in has and level_type == "pressure" else None)
                _masked_above_ground(masked, gh, T_read if temp != "theta" else None, levels, zs, sp_m,
                                     files["gh"], tk, latb, lon)
            h = gh - zs[None]
            if masked is not None:  # below ground and below the column's lowest level, rising upward
                base = np.minimum(np.where(masked, np.inf, h).min(axis=0), 0.0)
                h = np.where(masked, base[None] + (np.arange(nlev) - nlev)[:, None, None], h)
        elif level_type == "altitude":
            zs = zs_static[js] if zs_static is not None else get("zs")
            check("zs", zs, None, "surface height")
            h = levels[:, None, None] - zs[None]
        else:
            h = np.broadcast_to(levels[:, None, None], (nlev, nyb, lon.size)).copy()
        file_h = files.get("gh", file_k)  # the heights' file
        if nlev > 1 and np.any(np.diff(h, axis=0) <= 0):
            raise _err(file_h, f"level heights do not increase upward at {tk}; expected geopotential rising "
                               "with decreasing pressure")
        below = h <= 0.0
        kb = np.sum(below, axis=0)
        if np.any(kb >= nlev):
            raise _err(file_h, f"every level is below ground somewhere at {tk}; expected levels above the ground")
        hb = take_level(h, kb)  # lowest level above ground

        u = get("u")
        v = get("v")
        check_winds(u, v, ("u", "v"), (rec["u"], rec["v"]), (files["u"], files["v"]), tk, latb, lon, below, levels,
                     lv_unit)
        ub = take_level(u, kb)
        vb = take_level(v, kb)
        if has_10m:
            u10, v10 = get("u10"), get("v10")
            check_winds(u10, v10, ("u10", "v10"), (rec["u10"], rec["v10"]), (files["u10"], files["v10"]), tk, latb,
                         lon)
        T: NDArray[np.float64] | None = None
        if temp is not None and T_read is not None:
            T = T_read
            check(temp, T, below)
            if temp == "theta":  # theta -> T where pressure known
                if p_pa is not None:
                    T = T * (p_pa / 1e5) ** KAPPA_AIR
                else:
                    T = T - G0 / CP * h
        fields, modes, ref10 = [u, v], [0, 0], [u10, v10] if has_10m else None
        if vert is not None and w_out is not None:
            wv = get(vert)
            check(vert, wv, below)
            if vert == "omega":
                if p_pa is None:
                    raise _err(file_k, "omega [Pa s-1] on height levels; expected w [m s-1]")
                t_use = T if T is not None else standard_atmosphere_temperature_k(levels)[:, None, None]
                wv = -wv * R_D * t_use / (p_pa * G0)
            fields.append(wv)
            modes.append(1)
            if ref10 is not None:
                ref10.append(np.zeros_like(u10))
        stacked = _scratch(scratch, "vals", (len(fields),) + h.shape, np.float64)
        for m, f in enumerate(fields):
            np.copyto(stacked[m], f)
            np.copyto(stacked[m], 0.0, where=below)  # below-ground values are never used
        on_z = columns_to_heights(h, stacked, z_t, np.array(modes), z0, None if ref10 is None else np.stack(ref10),
                                  out=_scratch(scratch, "on_z", (len(fields), nz) + h.shape[1:], np.float32))
        east_north_to_vectors(on_z, lon, latb, vec[r, :, :, js])
        if w_out is not None:
            w_out[r, :, js] = on_z[2]
        if surf is not None:
            vals = surface_fields(rec, has, h, kb, hb, ub, vb, T, p_pa, levels, z0, mixing_height_m,
                                  u10 if has_10m else None, v10 if has_10m else None, files, tk, latb, lon)
            surf[r, :, js] = vals[:len(SURFACE_FIELDS)]
            if stomata is not None:
                stomata[r, :, js] = vals[len(SURFACE_FIELDS):]
            if nxt is not None and start_out is not None and nxt_files is not None and not start_error:
                # the same record with the next interval's quantities: the start of a window from it
                rec_s = rec.copy()
                for n in interval_names:
                    rec_s[n] = (rec[n].dims, np.asarray(nxt[n].values), rec[n].attrs)
                try:
                    start_out[:, js] = surface_fields(rec_s, has, h, kb, hb, ub, vb, T, p_pa, levels, z0,
                                                      mixing_height_m, u10 if has_10m else None,
                                                      v10 if has_10m else None, nxt_files, tk_next, latb, lon)
                except MetDataError as exc:  # the next record's values: raised when the run gets there
                    start_error.append(exc)

    # rows per block: float64 temporaries stay near BLOCK_VALUES values per 3-D field
    rows = max(1, min(lat.size, BLOCK_VALUES // max(1, nlev * lon.size)))
    interval_names = [n for n in INTERVAL_FIELDS if n in has and ds[n].attrs.get(INTERVAL) == "1"]
    # the fields of plausible.ground_check; the files of each record whose ground passed are not checked again
    ground_names: tuple[str, ...] = ()
    if level_type == "pressure" and has_zs and "sp" in has and "gh" in has:
        ground_names = ("zs", "sp", "gh") + (("t",) if temp == "t" else ())
    for r, k in enumerate(range(i0, i1)):
        ground_key = ground_files(ds, k, ground_names) if ground_names else None
        check_ground = bool(ground_names) and not ground_seen(ds, ground_key)
        rec_all = ds.isel(time=k).load()  # the only read from disk: one record, as stored (float32)
        files = {name: _field_file(ds, name, k) for name in has}
        tk = np.datetime_as_string(times[k], unit="s")
        nxt = start_arr = nxt_files = None
        tk_next = tk
        start_error: list[MetDataError] = []
        if interval_starts is not None and interval_names and surf is not None:
            kn = min(k + 1, n_all - 1)  # the interval after record k: record k + 1's (2-D fields only)
            nxt = ds[interval_names].isel(time=kn).load()
            nxt_files = {**files, **{n: _field_file(ds, n, kn) for n in interval_names}}
            tk_next = np.datetime_as_string(times[kn], unit="s")
            start_arr = np.empty((surf.shape[1] + (0 if stomata is None else stomata.shape[1]), lat.size, lon.size),
                             np.float32)
        for j0 in range(0, lat.size, rows):
            js = slice(j0, min(j0 + rows, lat.size))
            _block(rec_all.isel(lat=js), js, r, files, tk, None if nxt is None else nxt.isel(lat=js), start_arr,
                   nxt_files, tk_next)
        if check_ground:
            ground_passed(ds, ground_key)
        if interval_starts is not None and start_arr is not None:
            interval_starts[k] = start_error[0] if start_error else start_arr

    if steady or n_all == 1:
        times_s = np.zeros(n_rec)
    else:
        ref = times[i0] if start is None else np.asarray(start).astype("datetime64[ns]")
        times_s = np.asarray((times[i0:i1] - ref) / np.timedelta64(1, "s"), dtype=np.float64)
    prov.insert(0, f"met: {ds.attrs.get('source', where)}, records {i0}..{i1 - 1} of {n_all}")
    return WindGrid(
        vec=np.ascontiguousarray(vec),
        times_s=times_s,
        **grid_geometry(ds, lon, lat, dlon, dlat),
        z_m=z_t,
        w=None if w_out is None else np.ascontiguousarray(w_out),
        surface=None if surf is None else np.ascontiguousarray(surf),
        stomata=stomata,
        land=land,
        roughness_length_m=z0,
        provenance=tuple(prov),
    )


def _out_array(out: WindGrid | None, name: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """``out``'s array ``name`` to write records into (a float32 array of ``shape``),
    or a new one where ``out`` has none."""
    a = None if out is None else getattr(out, name)
    if a is None:
        return np.empty(shape, dtype=np.float32)
    if a.shape != shape or a.dtype != np.float32 or not a.flags.c_contiguous:
        raise ValueError(f"wind_grid_3d: out.{name} is {a.dtype}{a.shape}; expected contiguous float32{shape}")
    return a  # type: ignore[no-any-return]


def _scratch(bufs: dict[str, NDArray[Any]], name: str, shape: tuple[int, ...], dtype: Any) -> NDArray[Any]:
    """A contiguous array of ``shape`` for a block's temporary ``name``: the start of one
    buffer that all blocks share (the last block has fewer rows), so that its memory is
    touched once, not once per block. Its values are those of the last use."""
    size = math.prod(shape)
    buf = bufs.get(name)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = bufs[name] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def _land_fraction(ds: xr.Dataset, k: int, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float32]:
    """The dataset's land fraction (``land``, 0..1) at record ``k`` (or its only one)."""
    da = ds["land"].isel(time=k) if "time" in ds["land"].dims else ds["land"]
    file_k = _field_file(ds, "land", k)
    tk = np.datetime_as_string(np.asarray(ds["time"].values)[k], unit="s")
    vals = np.asarray(da.values, dtype=np.float64)
    nan_check(vals, "land-sea mask", file_k, tk, lat, lon)
    bad = (vals < -1e-3) | (vals > 1.0 + 1e-3)
    if np.any(bad):
        j, i = np.argwhere(bad)[0]
        raise _err(file_k, f"land-sea mask {ds['land'].attrs.get('plumecast_from', 'land')} is {vals[j, i]:g} at "
                           f"{lat[j]:g} N, {lon[i]:g} E; expected a land fraction from 0 (water) to 1 (land)")
    return np.clip(vals, 0.0, 1.0).astype(np.float32)
