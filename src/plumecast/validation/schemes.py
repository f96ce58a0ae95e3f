"""The dispersion schemes scored on Project Prairie Grass, and what drives each.

Each scheme predicts, for one run and one arc, the arc-maximum concentration and
the crosswind-integrated concentration at the sampler height. Every scheme is
driven only by what a user of that scheme would have:

``similarity``
    σ_θ / u* / L surface-layer scheme (AERMOD-form σ_y, Venkatram / AERMOD σ_z;
    :func:`plumecast.validation.prairie_grass.predict_arc`): needs measured σ_θ,
    u* and L (a sonic or a fast-response vane). ``plumecast zones`` cannot run
    it: its scenario has no σ_θ or u*.
``briggs-rural-golder``, ``briggs-urban-golder``
    exactly the ``plumecast zones`` code path (:func:`plumecast.nearfield.zones.plume_setup`
    and :func:`plumecast.nearfield.zones.peak_concentration`) with Briggs (1973) curves; the
    Pasquill–Gifford class comes from the run's measured Obukhov length with
    Golder (1972) (``meteorology.obukhov_length_m`` plus the site's roughness
    length, ``roughness_length_m``).
``briggs-rural-turner``, ``briggs-urban-turner``
    the same zones path with the class from Turner's (1970) key: the 10-m wind
    speed, day or night, and the insolation class from the sun's elevation
    (``meteorology.daytime`` / ``insolation`` / ``cloud_cover_octas``).

Inputs derived from the archive for the zones path (none is fitted):

* 10-m wind: the measured 2-m wind extrapolated with the run's Monin–Obukhov
  profile (what a 10-m anemometer would have read; κ = 0.35 as for the
  compiled u*). ``zones`` uses it as the transport speed, as it does for a user.
* roughness length 0.006 m (short-grass prairie; 0.006–0.008 m in the data
  README, after Barad 1958), for Golder's lines.
* day/night and insolation (Turner): sun elevation at the run's start, computed
  for the site (42.49° N, 98.6° W) with clock times taken as Central Standard
  Time (UTC−6). Night is from one hour before sunset to one hour after sunrise
  (Turner 1970). Insolation: strong above 60°, moderate 35–60°, slight below 35°
  (Turner 1964), assuming clear skies by day. Cloud cover is not in the shipped
  archive: nights are taken as clear (≤ 3/8, the more stable column) unless
  ``night_cloud_octas`` says otherwise.

References
----------
* Turner, D.B. (1964) A diffusion model for an urban area. J. Appl. Meteorol. 3,
  83–91 (insolation classes from solar elevation).
* Turner, D.B. (1970) Workbook of Atmospheric Dispersion Estimates, AP-26.
* Golder, D. (1972) Boundary-Layer Meteorol. 3, 47–58.
* Spencer, J.W. (1971) Fourier series representation of the position of the
  sun. Search 2(5), 172 (declination and equation of time).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as Date
from typing import Any, Literal

import numpy as np

from plumecast.errors import DataFileError

#: Prairie Grass site (O'Neill, Nebraska): latitude from the data README, longitude approximate. [deg]
SITE_LAT_DEG = 42.49
SITE_LON_DEG = -98.6
#: Offset of the archive's clock times from UTC (Central Standard Time). [h]
SITE_UTC_OFFSET_H = -6.0
#: Roughness length of the short-grass site (data README: 0.006–0.008 m). [m]
SITE_ROUGHNESS_M = 0.006
#: Release duration of every Prairie Grass run (10 min). [s]
RELEASE_DURATION_S = 600.0

Terrain = Literal["rural", "urban"]
ClassRoute = Literal["golder", "turner"]


def solar_elevation_deg(day: Date, clock_hours: float, lat_deg: float, lon_deg: float, utc_offset_h: float) -> float:
    """Elevation of the sun's centre above the horizon (no refraction). [deg]

    Declination and equation of time from Spencer (1971); hour angle from the
    local clock time, its UTC offset and the longitude (east positive).
    """
    gamma = 2.0 * math.pi * (day.timetuple().tm_yday - 1 + (clock_hours - 12.0) / 24.0) / 365.0
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    eot_min = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    solar_hours = clock_hours - utc_offset_h + lon_deg / 15.0 + eot_min / 60.0
    hour_angle = math.radians(15.0 * (solar_hours - 12.0))
    lat = math.radians(lat_deg)
    sin_el = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_el))))


def turner_day_and_insolation(
    day: Date, clock_hours: float, lat_deg: float, lon_deg: float, utc_offset_h: float
) -> tuple[bool, Literal["strong", "moderate", "slight"] | None]:
    """Turner's day/night and clear-sky insolation class at a time and place.

    Day: at least one hour after sunrise and one hour before sunset (Turner 1970),
    i.e. the sun's elevation is above its elevation one hour (15° of hour angle)
    from sunrise or sunset. Insolation (Turner 1964): strong > 60°, moderate
    35–60°, slight below.
    """
    el = solar_elevation_deg(day, clock_hours, lat_deg, lon_deg, utc_offset_h)
    # elevation one hour after sunrise: compare with the elevations 1 h earlier and later
    before = solar_elevation_deg(day, clock_hours - 1.0, lat_deg, lon_deg, utc_offset_h)
    after = solar_elevation_deg(day, clock_hours + 1.0, lat_deg, lon_deg, utc_offset_h)
    if min(before, after) <= 0.0 or el <= 0.0:
        return False, None
    if el > 60.0:
        return True, "strong"
    if el > 35.0:
        return True, "moderate"
    return True, "slight"


@dataclass(frozen=True)
class Scheme:
    """One dispersion scheme as scored on Prairie Grass."""

    name: str
    description: str
    inputs: str  # what a user has to give
    zones_usable: bool
    terrain: Terrain | None = None
    class_route: ClassRoute | None = None


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme(
            "similarity",
            "σ_θ/u*/L surface-layer similarity (AERMOD-form σ_y, Venkatram/AERMOD σ_z)",
            "measured σ_θ, u*, L (and z_i when unstable)",
            zones_usable=False,
        ),
        Scheme(
            "briggs-rural-golder",
            "Briggs open-country σ, PG class from L (Golder 1972) — zones code path",
            "10-m wind, Obukhov length L, roughness length z0",
            zones_usable=True,
            terrain="rural",
            class_route="golder",
        ),
        Scheme(
            "briggs-rural-turner",
            "Briggs open-country σ, PG class from wind + sun (Turner 1970) — zones code path",
            "10-m wind, day/night, insolation (day) or cloud cover (night)",
            zones_usable=True,
            terrain="rural",
            class_route="turner",
        ),
        Scheme(
            "briggs-urban-golder",
            "Briggs urban σ, PG class from L (Golder 1972) — zones code path",
            "as briggs-rural-golder with terrain: urban",
            zones_usable=True,
            terrain="urban",
            class_route="golder",
        ),
        Scheme(
            "briggs-urban-turner",
            "Briggs urban σ, PG class from wind + sun (Turner 1970) — zones code path",
            "as briggs-rural-turner with terrain: urban",
            zones_usable=True,
            terrain="urban",
            class_route="turner",
        ),
    )
}


def scheme(name: str) -> Scheme:
    """The scheme called ``name``; a :class:`ValueError` lists the known ones."""
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown scheme {name!r}; expected one of {', '.join(SCHEMES)} or 'all'") from None


def _clock_hours(text: str, where: str) -> float:
    try:
        hh, mm = text.strip().split(":")
        return int(hh) + int(mm) / 60.0
    except ValueError:
        raise DataFileError(f"{where}: start_time_local {text!r} is not hh:mm") from None


def zones_meteorology(
    run_id: int,
    wind_speed_10m_m_s: float,
    wind_from_deg: float,
    obukhov_length_m: float,
    mixing_height_m: float,
    run_date: str,
    start_time_local: str,
    sch: Scheme,
    night_cloud_octas: float = 0.0,
) -> dict[str, object]:
    """The ``meteorology`` mapping a zones user would write for this run and scheme."""
    met: dict[str, object] = {
        "wind_speed_m_s": wind_speed_10m_m_s,
        "wind_from_deg": wind_from_deg % 360.0 if np.isfinite(wind_from_deg) else 0.0,
        "terrain": sch.terrain,
        "averaging_time_s": 600.0,
    }
    if np.isfinite(mixing_height_m):
        met["mixing_height_m"] = mixing_height_m
    if sch.class_route == "golder":
        met["obukhov_length_m"] = obukhov_length_m
        met["roughness_length_m"] = SITE_ROUGHNESS_M
    elif sch.class_route == "turner":
        where = f"runs.csv: run {run_id}"
        try:
            day = Date.fromisoformat(run_date.strip())
        except ValueError:
            raise DataFileError(f"{where}: date {run_date!r} is not YYYY-MM-DD (needed for Turner's key)") from None
        daytime, insolation = turner_day_and_insolation(
            day, _clock_hours(start_time_local, where), SITE_LAT_DEG, SITE_LON_DEG, SITE_UTC_OFFSET_H
        )
        met["daytime"] = daytime
        if daytime:
            met["insolation"] = insolation
        else:
            met["cloud_cover_octas"] = night_cloud_octas
    else:
        raise ValueError(f"scheme {sch.name!r} does not run through zones")
    return met


def zones_predictor(
    scenario_dict: dict[str, object],
) -> tuple[Callable[[float], tuple[float, float]], str]:
    """Arc maximum [kg m-3] and crosswind integral [kg m-2] at distance x from the zones code.

    ``scenario_dict`` is a local-scenario mapping (as in a YAML file). The arc
    maximum is :func:`plumecast.nearfield.zones.peak_concentration` on the plume axis; the
    crosswind integral is its trapezoidal integral over ``|y| ≤ 2x`` (beyond
    6 σ_y for every Briggs class). Also returns the Pasquill–Gifford class zones used.
    """
    from plumecast.nearfield.zones import LocalScenario, peak_concentration, plume_setup

    setup = plume_setup(LocalScenario.model_validate(scenario_dict))

    def predict(x_m: float) -> tuple[float, float]:
        y = np.linspace(-2.0 * x_m, 2.0 * x_m, 2001)
        c = peak_concentration(setup, np.full(y.shape, x_m), y)
        cy = float(np.sum(0.5 * (c[1:] + c[:-1]) * np.diff(y)))
        return float(peak_concentration(setup, np.array([x_m]), np.array([0.0]))[0]), cy

    return predict, str(setup.pg_class)


#: Overall arc-maximum (FAC2, FB) of each scheme on the shipped Prairie Grass runs,
#: as stated in ``docs/validation.md`` and printed by ``plumecast zones``;
#: ``tests/test_prairie_grass.py`` recomputes them from the measurements.
#: The Golder route's arc-maximum scores with the zones' default roughness (0.1 m) for the class from
#: L instead of the site's 0.006 m (docs/validation.md)
GOLDER_SCORES_AT_0_1_M: dict[str, tuple[float, float]] = {"briggs-rural-golder": (0.58, 0.50)}

DOCUMENTED_ARC_MAX_SCORES: dict[str, tuple[float, float]] = {
    "similarity": (0.93, 0.09),
    "briggs-rural-golder": (0.65, 0.46),
    "briggs-rural-turner": (0.58, 0.38),
    "briggs-urban-golder": (0.03, 1.47),
    "briggs-urban-turner": (0.07, 1.44),
}


def zones_scheme_name(terrain: str, stability_route: str) -> str | None:
    """The Prairie Grass scheme a zones setup corresponds to (``None``: a class given directly)."""
    route = {"obukhov_length": "golder", "observations": "turner"}.get(stability_route)
    return None if route is None else f"briggs-{terrain}-{route}"


def zones_scheme_note(met: Any) -> str:
    """One paragraph for ``plumecast zones``: the scheme used, its Prairie Grass scores, why not a better one.

    ``met`` is a :class:`plumecast.nearfield.zones.MeteorologySpec`.
    """
    route = met.stability_route()
    if route == "obukhov_length":
        how = (
            f"from obukhov_length_m = {met.obukhov_length_m:.2g} m with roughness_length_m = "
            f"{met.roughness_length_m:.2g} m (Golder 1972)"
        )
    elif route == "observations":
        how = "from wind speed, day/night and insolation or cloud cover (Turner 1970)"
    else:
        how = "given in the scenario"
    name = zones_scheme_name(met.terrain, route)
    terrain = "open-country" if met.terrain == "rural" else "urban"
    text = f"dispersion: Briggs (1973) {terrain} sigmas, PG class {met.pg_class()} {how}. "
    if name is None:
        text += (
            "Prairie Grass cannot test a class given directly (its runs have no class letters); "
            "obukhov_length_m (or Turner observations) gives a tested route. "
        )
    else:
        fac2, fb = DOCUMENTED_ARC_MAX_SCORES[name]
        text += f"On Project Prairie Grass this scheme ({name}) scores FAC2 {fac2:.2f}, FB {fb:+.2f} on arc maxima"
        if route == "obukhov_length":
            # the class from L depends on z0: the scores are those at the site's own roughness
            text += f" with the site's roughness, {SITE_ROUGHNESS_M:g} m"
            if name in GOLDER_SCORES_AT_0_1_M and abs(met.roughness_length_m - SITE_ROUGHNESS_M) > 1e-9:
                f01, b01 = GOLDER_SCORES_AT_0_1_M[name]
                text += f" (FAC2 {f01:.2f}, FB {b01:+.2f} with 0.1 m, the zones default; docs/validation.md)"
        text += " (FB > 0.3: it under-predicts on average). " if fb > 0.3 else ". "
        if met.terrain == "urban":
            text += "(Prairie Grass is open country: a poor test of the urban curves.) "
    sim_fac2, sim_fb = DOCUMENTED_ARC_MAX_SCORES["similarity"]
    text += (
        f"The best-validated scheme (sigma_theta/u*/L similarity: FAC2 {sim_fac2:.2f}, FB {sim_fb:+.2f}) "
        "is not used: it needs measured sigma_theta and u*, which a zones scenario does not take "
        "(docs/validation.md)."
    )
    return text
