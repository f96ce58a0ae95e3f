"""One synthetic 3-D atmosphere written the way ERA5, GFS and WRF-post files hold it.

:func:`atmosphere` makes smooth fields on pressure levels (geopotential height
from the ICAO standard atmosphere plus a wave, hills as orography, winds,
temperature, omega) and boundary-layer fields; the writers store the same numbers
under each producer's names, units, sign conventions, longitude convention and
level/latitude order, so every reader path must give the same WindGrid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from plumecast.met.levels import G0, standard_atmosphere_height_m, standard_atmosphere_temperature_k

LEVELS_HPA = np.array([1000.0, 925.0, 850.0, 700.0, 500.0, 300.0])
LAT = np.arange(40.0, 50.01, 1.0)
LON = np.arange(-10.0, 10.01, 1.0)
T0 = np.datetime64("2026-03-01T00:00", "ns")


@dataclass
class Atmosphere:
    times: np.ndarray
    gh: np.ndarray  # (time, level, lat, lon) m
    u: np.ndarray
    v: np.ndarray
    t: np.ndarray  # K
    omega: np.ndarray  # Pa s-1
    zs: np.ndarray  # (lat, lon) m
    u10: np.ndarray  # (time, lat, lon)
    v10: np.ndarray
    t2m: np.ndarray
    blh: np.ndarray
    ustar: np.ndarray
    shf: np.ndarray  # W m-2 upward
    precip: np.ndarray  # mm h-1
    solar: np.ndarray  # W m-2 downward, written only when a writer is asked to (with_solar)


def atmosphere(n_times: int = 4, step_h: float = 1.0) -> Atmosphere:
    """Smooth fields on LEVELS_HPA x LAT x LON, changing from record to record."""
    t = np.arange(n_times, dtype=float)[:, None, None, None]
    la = np.deg2rad(LAT)[None, None, :, None]
    lo = np.deg2rad(LON)[None, None, None, :]
    z_isa = standard_atmosphere_height_m(LEVELS_HPA)[None, :, None, None]
    gh = z_isa + 40.0 * np.sin(3 * lo + 0.2 * t) * np.cos(2 * la) + 0.02 * z_isa * np.cos(la)
    u = 4.0 + 0.003 * gh + 2.0 * np.sin(2 * lo + 0.3 * t) * np.cos(la)
    v = 1.0 + 3.0 * np.cos(3 * la - 0.2 * t) * (1 + gh / 5000.0) + np.sin(lo)
    temp = standard_atmosphere_temperature_k(LEVELS_HPA)[None, :, None, None] + 3.0 * np.sin(lo - 0.1 * t) * np.ones_like(gh)
    omega = 0.3 * np.sin(2 * la + lo + 0.4 * t) * np.ones_like(gh)
    zs = 300.0 * (1 + np.sin(4 * lo[0, 0]) * np.cos(5 * la[0, 0]))  # 0..600 m hills
    sl = (slice(None), 0)
    u10 = 0.6 * u[sl] - 0.5
    v10 = 0.6 * v[sl] + 0.2
    t2m = temp[sl] + 2.0
    blh = 600.0 + 400.0 * np.sin(lo[sl] + 0.5 * t[sl]) ** 2
    ustar = 0.2 + 0.1 * np.cos(la[sl] + lo[sl])
    shf = 150.0 * np.sin(0.7 * t[sl] + lo[sl])
    precip = np.maximum(0.0, 2.0 * np.sin(la[sl] * 7 + 0.3 * t[sl]))
    solar = np.maximum(0.0, 800.0 * np.sin(0.5 * t[sl] + lo[sl]) * np.cos(la[sl]))
    shape = u10.shape
    blh, ustar, shf, precip, solar = (np.broadcast_to(x, shape).copy() for x in (blh, ustar, shf, precip, solar))
    times = T0 + (np.arange(n_times) * step_h * 3600).astype("timedelta64[s]")
    f = np.float32
    return Atmosphere(times.astype("datetime64[ns]"), gh.astype(f), u.astype(f), v.astype(f), temp.astype(f),
                      omega.astype(f), zs.astype(f), u10.astype(f), v10.astype(f), t2m.astype(f), blh.astype(f),
                      ustar.astype(f), shf.astype(f), precip.astype(f), solar.astype(f))


def _sub(a: Atmosphere, sl: slice) -> Atmosphere:
    return Atmosphere(a.times[sl], a.gh[sl], a.u[sl], a.v[sl], a.t[sl], a.omega[sl], a.zs, a.u10[sl], a.v10[sl],
                      a.t2m[sl], a.blh[sl], a.ustar[sl], a.shf[sl], a.precip[sl], a.solar[sl])


def write_era5(a: Atmosphere, levels_path: Path, single_path: Path | None = None,
               sl: slice = slice(None), with_solar: bool = False) -> list[Path]:
    """ERA5 (CDS netCDF): pressure levels ascending in hPa, latitude descending,
    longitude 0..360; z in m2 s-2, w = omega [Pa s-1]; single levels in a second
    file with sshf accumulated J m-2 downward positive, tp accumulated m per hour."""
    a = _sub(a, sl)
    lev_order = np.argsort(LEVELS_HPA)
    lon360 = LON % 360.0
    lon_order = np.argsort(lon360)

    def pl(x: np.ndarray) -> np.ndarray:
        return x[:, lev_order][:, :, ::-1][..., lon_order]

    def sf(x: np.ndarray) -> np.ndarray:
        return x[:, ::-1][..., lon_order]

    coords = {"valid_time": a.times, "latitude": LAT[::-1], "longitude": lon360[lon_order]}
    pdims = ("valid_time", "pressure_level", "latitude", "longitude")
    ds = xr.Dataset(
        {
            "u": (pdims, pl(a.u), {"units": "m s**-1", "standard_name": "eastward_wind"}),
            "v": (pdims, pl(a.v), {"units": "m s**-1", "standard_name": "northward_wind"}),
            "z": (pdims, pl(a.gh * np.float32(G0)), {"units": "m**2 s**-2", "standard_name": "geopotential"}),
            "t": (pdims, pl(a.t), {"units": "K", "standard_name": "air_temperature"}),
            "w": (pdims, pl(a.omega), {"units": "Pa s**-1", "standard_name": "lagrangian_tendency_of_air_pressure"}),
        },
        coords={**coords, "pressure_level": ("pressure_level", LEVELS_HPA[lev_order], {"units": "hPa"})},
    )
    ds.to_netcdf(levels_path)
    out = [levels_path]
    if single_path is not None:
        sdims = ("valid_time", "latitude", "longitude")
        zs = np.broadcast_to(a.zs, a.u10.shape) * np.float32(G0)
        solar = {"ssrd": (sdims, sf(a.solar * np.float32(3600.0)), {"units": "J m**-2"})} if with_solar else {}
        xr.Dataset(
            {
                **solar,
                "u10": (sdims, sf(a.u10), {"units": "m s**-1"}),
                "v10": (sdims, sf(a.v10), {"units": "m s**-1"}),
                "t2m": (sdims, sf(a.t2m), {"units": "K"}),
                "blh": (sdims, sf(a.blh), {"units": "m"}),
                "zust": (sdims, sf(a.ustar), {"units": "m s**-1"}),
                "sshf": (sdims, sf(-a.shf * np.float32(3600.0)), {"units": "J m**-2"}),
                "tp": (sdims, sf(a.precip / np.float32(1000.0)), {"units": "m"}),
                "z": (sdims, sf(zs.astype(np.float32)), {"units": "m**2 s**-2"}),
            },
            coords=coords,
        ).to_netcdf(single_path)
        out.append(single_path)
    return out


def write_gfs(a: Atmosphere, path: Path, sl: slice = slice(None), with_solar: bool = False) -> Path:
    """GFS via wgrib2 netCDF: one variable per level (UGRD_850mb ...), HGT in gpm,
    VVEL [Pa s-1], latitude ascending, longitude 0..360; surface HPBL, FRICV,
    SHTFL (W m-2 upward), PRATE (kg m-2 s-1), HGT_surface."""
    a = _sub(a, sl)
    lon360 = LON % 360.0
    order = np.argsort(lon360)
    dims = ("time", "latitude", "longitude")
    data: dict[str, tuple] = {}
    for i, p in enumerate(LEVELS_HPA):
        tag = f"{p:g}mb"
        data[f"UGRD_{tag}"] = (dims, a.u[:, i][..., order], {"units": "m/s"})
        data[f"VGRD_{tag}"] = (dims, a.v[:, i][..., order], {"units": "m/s"})
        data[f"HGT_{tag}"] = (dims, a.gh[:, i][..., order], {"units": "gpm"})
        data[f"TMP_{tag}"] = (dims, a.t[:, i][..., order], {"units": "K"})
        data[f"VVEL_{tag}"] = (dims, a.omega[:, i][..., order], {"units": "Pa/s"})
    data["UGRD_10maboveground"] = (dims, a.u10[..., order], {"units": "m/s"})
    data["VGRD_10maboveground"] = (dims, a.v10[..., order], {"units": "m/s"})
    data["TMP_2maboveground"] = (dims, a.t2m[..., order], {"units": "K"})
    data["HPBL_surface"] = (dims, a.blh[..., order], {"units": "m"})
    data["FRICV_surface"] = (dims, a.ustar[..., order], {"units": "m/s"})
    data["SHTFL_surface"] = (dims, a.shf[..., order], {"units": "W/m^2"})
    data["PRATE_surface"] = (dims, a.precip[..., order] / np.float32(3600.0), {"units": "kg/m^2/s"})
    if with_solar:
        data["DSWRF_surface"] = (dims, a.solar[..., order], {"units": "W/m^2"})
    data["HGT_surface"] = (dims, np.broadcast_to(a.zs[..., order], a.u10.shape).copy(), {"units": "gpm"})
    xr.Dataset(data, coords={"time": a.times, "latitude": LAT, "longitude": lon360[order]}).to_netcdf(path)
    return path


def write_wrf(a: Atmosphere, path: Path) -> Path:
    """WRF post-processed onto pressure levels (p_interp style): U, V, GHT [m], TT [K],
    W [m s-1]... here omega is given as w by the caller's choice; XLAT/XLONG 2-D,
    dims Time, num_press_levels, south_north, west_east; RAINNC accumulated mm."""
    dims = ("Time", "num_press_levels", "south_north", "west_east")
    sdims = ("Time", "south_north", "west_east")
    lat2, lon2 = np.meshgrid(LAT, LON, indexing="ij")
    dt_h = np.diff(a.times).astype("timedelta64[s]").astype(float) / 3600.0
    rain = np.concatenate([np.zeros_like(a.precip[:1]), np.cumsum(a.precip[1:] * dt_h[:, None, None], axis=0)])
    ds = xr.Dataset(
        {
            "U": (dims, a.u, {"units": "m s-1"}),
            "V": (dims, a.v, {"units": "m s-1"}),
            "GHT": (dims, a.gh, {"units": "m"}),
            "TT": (dims, a.t, {"units": "K"}),
            "T": (dims, a.t * 0 - 5.0, {"units": "K", "description": "perturbation potential temperature (theta-t0)"}),
            "U10": (sdims, a.u10, {"units": "m s-1"}),
            "V10": (sdims, a.v10, {"units": "m s-1"}),
            "T2": (sdims, a.t2m, {"units": "K"}),
            "PBLH": (sdims, a.blh, {"units": "m"}),
            "UST": (sdims, a.ustar, {"units": "m s-1"}),
            "HFX": (sdims, a.shf, {"units": "W m-2"}),
            "RAINNC": (sdims, rain.astype(np.float32), {"units": "mm"}),
            "HGT": (sdims, np.broadcast_to(a.zs, a.u10.shape).copy(), {"units": "m"}),
            "XLAT": (("south_north", "west_east"), lat2, {"units": "degree_north"}),
            "XLONG": (("south_north", "west_east"), lon2, {"units": "degree_east"}),
        },
        coords={"XTIME": ("Time", a.times), "PRES": ("num_press_levels", LEVELS_HPA * 100.0, {"units": "Pa"})},
    )
    ds.to_netcdf(path)
    return path
