"""Analytic wind fields in the normalised form, for tests and benchmarks.

All fields are steady (``steady=1``, one time record) on a global grid with
``lat`` from -90 to 90 inclusive and ``lon`` from -180 to 180 - resolution, both in
steps of ``resolution_deg``. Solid-body rotation is the classical test of
advection schemes on the sphere (Williamson et al. 1992, J. Comput. Phys. 102,
211-224, test case 1, :doi:`10.1016/S0021-9991(05)80016-6`): its trajectories
are great or small circles whose period is known exactly.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met.reader import STEADY_TIME, build_wind_dataset
from plumecast.units import EARTH_RADIUS_M

__all__ = [
    "benchmark_wind",
    "global_grid",
    "solid_body_rotation",
    "uniform_wind",
    "zonal_jet",
]


def global_grid(resolution_deg: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of the global analytic grid.

    Parameters
    ----------
    resolution_deg : float
        Grid spacing; must divide 180 exactly. [deg]

    Returns
    -------
    lat, lon : numpy.ndarray
        ``lat`` -90..90 inclusive, ``lon`` -180..180-res. [deg]
    """
    res = float(resolution_deg)
    n_lat = 180.0 / res if res > 0 else np.nan
    if not (res > 0 and np.isclose(n_lat, round(n_lat), rtol=0, atol=1e-9)):
        raise MetDataError(
            f"analytic wind: resolution_deg={resolution_deg!r}; expected a positive spacing "
            "that divides 180 exactly (e.g. 0.5, 1, 2.5)"
        )
    n = round(n_lat)
    lat = np.linspace(-90.0, 90.0, n + 1)
    lon = -180.0 + res * np.arange(2 * n)
    return lat, lon


def _steady(
    u: np.ndarray, v: np.ndarray, lat: np.ndarray, lon: np.ndarray, source: str
) -> xr.Dataset:
    return build_wind_dataset(
        u[None],
        v[None],
        np.array([STEADY_TIME]),
        lat,
        lon,
        source=source,
        level="analytic",
        steady=True,
    )


def uniform_wind(u_m_s: float, v_m_s: float, resolution_deg: float = 1.0) -> xr.Dataset:
    """The same eastward and northward wind at every node.

    Parameters
    ----------
    u_m_s, v_m_s : float
        Eastward and northward wind. [m s-1]
    resolution_deg : float
        Grid spacing. [deg]

    Returns
    -------
    xarray.Dataset
        Normalised, steady wind dataset.
    """
    lat, lon = global_grid(resolution_deg)
    shape = (lat.size, lon.size)
    return _steady(
        np.full(shape, u_m_s),
        np.full(shape, v_m_s),
        lat,
        lon,
        f"analytic: uniform_wind(u={u_m_s:g} m/s, v={v_m_s:g} m/s)",
    )


def solid_body_rotation(
    axis_lat_deg: float, axis_lon_deg: float, period_s: float, resolution_deg: float = 1.0
) -> xr.Dataset:
    """Rigid rotation of the atmosphere about an arbitrary axis.

    The velocity at each node is ``Omega x r`` with ``Omega = 2 pi / period_s``
    along the unit axis through (``axis_lat_deg``, ``axis_lon_deg``) and ``r`` the
    position on a sphere of radius ``EARTH_RADIUS_M``, projected on the local east
    ``(-sin lon, cos lon, 0)`` and north ``(-sin lat cos lon, -sin lat sin lon,
    cos lat)`` unit vectors. With the axis in the equatorial plane
    (``axis_lat_deg=0``) particles cross both poles (Williamson et al. 1992, test 1
    with alpha = 90 deg). At the poles the east/north basis follows the node's
    longitude, so the same 3-D vector has different (u, v) at each pole node.

    Parameters
    ----------
    axis_lat_deg, axis_lon_deg : float
        Where the rotation axis pierces the sphere (right-hand rule). [deg]
    period_s : float
        Time for one full revolution; must be non-zero. [s]
    resolution_deg : float
        Grid spacing. [deg]

    Returns
    -------
    xarray.Dataset
        Normalised, steady wind dataset.
    """
    if not np.isfinite(period_s) or period_s == 0:
        raise MetDataError(
            f"analytic wind: period_s={period_s!r}; expected a finite non-zero period [s]"
        )
    lat, lon = global_grid(resolution_deg)
    phi = np.deg2rad(lat)[:, None]
    lam = np.deg2rad(lon)[None, :]
    omega = 2.0 * np.pi / period_s
    pa, la = np.deg2rad(axis_lat_deg), np.deg2rad(axis_lon_deg)
    ax = omega * np.array([np.cos(pa) * np.cos(la), np.cos(pa) * np.sin(la), np.sin(pa)])
    x = EARTH_RADIUS_M * np.cos(phi) * np.cos(lam)
    y = EARTH_RADIUS_M * np.cos(phi) * np.sin(lam)
    z = EARTH_RADIUS_M * np.sin(phi) * np.ones_like(lam)
    vx = ax[1] * z - ax[2] * y
    vy = ax[2] * x - ax[0] * z
    vz = ax[0] * y - ax[1] * x
    u = -np.sin(lam) * vx + np.cos(lam) * vy
    v = -np.sin(phi) * np.cos(lam) * vx - np.sin(phi) * np.sin(lam) * vy + np.cos(phi) * vz
    return _steady(
        u,
        v,
        lat,
        lon,
        f"analytic: solid_body_rotation(axis=({axis_lat_deg:g}N, {axis_lon_deg:g}E), period={period_s:g} s)",
    )


def zonal_jet(
    u_max_m_s: float,
    lat_centre_deg: float = 45.0,
    width_deg: float = 10.0,
    resolution_deg: float = 1.0,
) -> xr.Dataset:
    """A Gaussian zonal jet: ``u = u_max exp(-((lat - lat_centre) / width)**2 / 2)``, ``v = 0``.

    Parameters
    ----------
    u_max_m_s : float
        Eastward wind on the jet axis. [m s-1]
    lat_centre_deg : float
        Latitude of the jet axis. [deg N]
    width_deg : float
        Standard deviation of the Gaussian profile in latitude; positive. [deg]
    resolution_deg : float
        Grid spacing. [deg]

    Returns
    -------
    xarray.Dataset
        Normalised, steady wind dataset.
    """
    if not width_deg > 0:
        raise MetDataError(
            f"analytic wind: width_deg={width_deg!r}; expected a positive width [deg]"
        )
    lat, lon = global_grid(resolution_deg)
    profile = u_max_m_s * np.exp(-0.5 * ((lat - lat_centre_deg) / width_deg) ** 2)
    u = np.broadcast_to(profile[:, None], (lat.size, lon.size))
    return _steady(
        u,
        np.zeros_like(u),
        lat,
        lon,
        f"analytic: zonal_jet(u_max={u_max_m_s:g} m/s, centre={lat_centre_deg:g}N, width={width_deg:g} deg)",
    )


def benchmark_wind(resolution_deg: float = 1.0) -> xr.Dataset:
    """The benchmark field ``u = 20 cos(lat)``, ``v = 5 sin(2 lon) cos(lat)``. [m s-1]

    A smooth, divergent, pole-safe field (both components vanish at the poles)
    used for kernel benchmarks and backend cross-checks; 181 x 360 nodes at the
    default 1 deg resolution.

    Parameters
    ----------
    resolution_deg : float
        Grid spacing. [deg]

    Returns
    -------
    xarray.Dataset
        Normalised, steady wind dataset.
    """
    lat, lon = global_grid(resolution_deg)
    phi = np.deg2rad(lat)[:, None]
    lam = np.deg2rad(lon)[None, :]
    u = 20.0 * np.cos(phi) * np.ones_like(lam)
    v = 5.0 * np.sin(2.0 * lam) * np.cos(phi)
    return _steady(
        u, v, lat, lon, "analytic: benchmark_wind (u=20 cos(lat), v=5 sin(2 lon) cos(lat) m/s)"
    )
