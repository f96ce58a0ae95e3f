"""Scenario files: a validated, immutable description of one case.

A scenario is a YAML (or JSON) mapping validated by the pydantic models below.
Unknown keys, wrong types and impossible values are rejected with a single
:class:`~plumecast.errors.ScenarioError` that names the file, the key path, the line
and what was expected. Models are frozen: a run never changes its scenario, and a
scenario run twice with the same seed gives identical results.

Times: ``start`` is an ISO 8601 date-time (UTC if no zone is given); every other time
in the file is in hours after ``start`` (keys ending in ``_h``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from plumecast.agents import Agent, AgentSpec
from plumecast.config_model import StrictModel, typed_item
from plumecast.ensemble.config import EnsembleConfig
from plumecast.errors import ScenarioError
from plumecast.nearfield.lid import DEFAULT_MIXING_HEIGHT_M
from plumecast.nearfield.spec import LocalWeather, StackSpec, TankSpec, ZonesConfig
from plumecast.plans.config import PlanConfig
from plumecast.scenario_checks import (
    _check_decay_per_step,
    _check_emission_in_run,
    _check_memory,
    _check_receptors,
    _check_releases_in_met_domain,
    _check_tanks,
    missing_run_keys,
)
from plumecast.scenario_deposition import (
    DEFAULT_SCAVENGING_B,
    DepositionConfig,
    Resistance,
    deposition_values,
    wesely_resistance,
)
from plumecast.scenario_grid import GridConfig
from plumecast.scenario_modes import (
    COMPARE_ONLY_KEYS,
    ZONES_KEYS,
    Mode,
    ignored_keys,
    ignored_line,
    readers,
    run_notes,
    time_written,
)
from plumecast.scenario_yaml import (
    MAX_ERRORS_SHOWN,
    MAX_YAML_BYTES,
    MAX_YAML_NODES,
    date_problem,
    read_scenario_text,
    top_level_got,
)
from plumecast.scenario_yaml import existing_path as _existing_path
from plumecast.scenario_yaml import format_errors as _format_errors
from plumecast.scenario_yaml import parse_yaml as _parse_yaml
from plumecast.units import WORLD_POPULATION

__all__ = [
    "COMPARE_ONLY_KEYS", "DEFAULT_SCAVENGING_B", "MAX_ERRORS_SHOWN", "MAX_WIND_M_S",
    "MAX_YAML_BYTES", "MAX_YAML_NODES", "ZONES_KEYS", "CityRelease", "CitySelection", "DepositionConfig", "GridConfig",
    "MetConfig", "Mode", "NearFieldConfig", "OutputConfig", "PointRelease", "ProfileTable", "ReceptorConfig",
    "ReceptorPoint", "Release", "Scenario", "ShelterConfig", "TurbulenceConfig",
    "demo_plans_scenario_path", "demo_scenario_path", "ignored_keys", "ignored_line", "load_scenario",
    "readers", "scenario_from_dict",
]

#: Largest wind speed accepted anywhere [m s-1]: above any measured on Earth (the
#: strongest surface gust measured, 113 m/s at Barrow Island in 1996, and jet-stream
#: cores, about 110 m/s; WMO Archive of Weather and Climate Extremes) with a margin.
MAX_WIND_M_S = 200.0


#: Largest decay within one time step, ``agent.decay_rate_s x time_step_s``, a run accepts. Particles
#: born in a step start heavier by ``(exp(k dt) - 1) / (k dt)`` (release.SourceGroup.first_step_decay) and the
#: mass budget subtracts that surplus again: at 10 the budget closes to 4e-12 of the released mass, at 20 to
#: 2e-7 only, and at 60 it read -7.8e5 Mt decayed (audit). Beyond it the gas is gone within the step it is
#: emitted in (exp(-10) = 4.5e-5); a shorter time step follows it.
MAX_DECAY_PER_STEP = 10.0


#: Earliest and latest times plumecast can hold (datetime64[ns], with a day's margin).
_NS_MIN = _dt.datetime(1677, 9, 22)
_NS_MAX = _dt.datetime(2262, 4, 10)


def _whole(x: float) -> bool:
    """True if ``x`` is a whole number to rounding error."""
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


class _Model(StrictModel):
    """Unknown keys, NaN, infinity and true/false for a number refused
    (:mod:`plumecast.config_model`)."""


ProfileTable = list[tuple[float, float]]


def _check_profile(profile: ProfileTable | None) -> ProfileTable | None:
    if profile is None:
        return None
    if len(profile) < 1:
        raise ValueError("a time profile needs at least one [hour, factor] pair")
    hours = [h for h, _ in profile]
    if any(b < a for a, b in zip(hours, hours[1:], strict=False)) or any(
            a == c for a, c in zip(hours, hours[2:], strict=False)):
        raise ValueError(f"profile hours must increase (an hour given twice in a row is a step in the rate, "
                         f"three times is not allowed), got {hours}")
    if any(f < 0 for _, f in profile):
        raise ValueError("profile factors must be >= 0")
    return profile


class _ReleaseBase(_Model):
    name: str | None = None
    start_h: float = Field(0.0, ge=0, description="emission starts, hours after the scenario start [h]")
    stop_h: float | None = Field(None, gt=0, description="termination time: nothing is emitted after it [h]")
    profile: ProfileTable | None = Field(
        None,
        description="piecewise-linear time profile: [[hour, factor], ...], hours after scenario start; "
        "the rate is multiplied by the interpolated factor (constant beyond the ends)",
    )

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: ProfileTable | None) -> ProfileTable | None:
        return _check_profile(v)

    @model_validator(mode="after")
    def _stop_after_start(self) -> _ReleaseBase:
        if self.stop_h is not None and self.stop_h <= self.start_h:
            raise ValueError(f"stop_h: {self.stop_h:g} h must be after start_h ({self.start_h:g} h)")
        return self


class PointRelease(_ReleaseBase):
    """A point source (stack, vent, rail car, tank).

    How much, in every mode: ``rate_kg_s``, ``amount_kg`` (released evenly over
    ``duration_s``; ``duration_s: 0``: all at once) or a ``tank`` whose source model
    (:func:`plumecast.nearfield.source_models.tank_release_profile`) gives the rate
    over time. How long: ``stop_h`` [h after the scenario start] or ``duration_s`` [s
    after ``start_h``], one of them (both only if they agree); a tank's profile
    ends when it is empty, and ``stop_h`` then only cuts it short. With
    ``amount_kg``, a ``stop_h`` before the end of ``duration_s`` stops the release
    early (a termination: less than the amount is emitted). ``temperature_c`` and
    ``dense_gas`` set the dense-gas model of ``plumecast zones``, and of the near field of
    ``run`` and ``compare`` (zones' dense cloud where the criterion calls the release
    dense). A ``stack`` (diameter, exit velocity and temperature; its height is
    ``height_m``) raises the plume by Briggs's plume rise, in every mode.
    """

    type: Literal["point"]
    lat: float = Field(ge=-90, le=90, description="[deg north]")
    lon: float = Field(ge=-180, le=360, description="[deg east]")
    height_m: float = Field(0.0, ge=0, le=20000, description="release height above ground [m]")
    rate_kg_s: float | None = Field(None, gt=0, le=1e12,
                                    description="emission rate before the profile is applied [kg s-1]")
    amount_kg: float | None = Field(None, gt=0, le=1e15, description="mass released evenly over duration_s [kg]")
    # exclude: a copy (Scenario.replace, a plan that stops the release, an ensemble
    # member) carries stop_h alone, which may then move without contradicting it
    duration_s: float | None = Field(
        None, ge=0, le=366 * 86400, exclude=True,
        description="how long the release lasts after start_h [s] (sets stop_h); 0 with amount_kg: instantaneous")
    tank: TankSpec | None = Field(None, description="tank with a hole: its source model gives the rate over time")
    temperature_c: float | None = Field(
        None, ge=-273.15, le=2000, description="temperature of the released vapour (zones, dense gas) [degC]")
    dense_gas: Literal["auto", "off"] = Field(
        "auto", description="auto: the Britter-McQuaid criterion decides; off: passive Gaussian (zones)")
    stack: StackSpec | None = Field(
        None, description="the stack the gas leaves from (its height is height_m): diameter_m, exit_velocity_m_s, "
        "exit_temperature_c; the passive plume is raised by Briggs's plume rise (zones, and run and compare's "
        "near field)")

    @model_validator(mode="before")
    @classmethod
    def _duration_sets_stop(cls, data: Any) -> Any:
        """``duration_s`` without ``stop_h`` sets ``stop_h = start_h + duration_s / 3600``."""
        if not isinstance(data, dict) or data.get("stop_h") is not None:
            return data
        dur, start = data.get("duration_s"), data.get("start_h", 0.0)
        if (isinstance(dur, int | float) and not isinstance(dur, bool) and math.isfinite(dur) and dur > 0
                and isinstance(start, int | float) and not isinstance(start, bool) and math.isfinite(start)):
            return {**data, "stop_h": start + dur / 3600.0}
        return data

    @model_validator(mode="after")
    def _how_much(self) -> PointRelease:
        given = [k for k in ("rate_kg_s", "amount_kg", "tank") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of rate_kg_s, amount_kg or tank" + (f" (got {', '.join(given)})" if given else ""))
        if self.duration_s is not None and self.stop_h is not None:
            expected = self.start_h + self.duration_s / 3600.0
            early = self.amount_kg is not None and self.stop_h < expected  # an amount stopped early
            if abs(self.stop_h - expected) > 1e-9 * max(1.0, abs(expected)) and not early:
                raise ValueError(
                    f"stop_h: {self.stop_h:g} h disagrees with start_h + duration_s / 3600 = {expected:.6g} h; "
                    "expected one of stop_h or duration_s")
        if self.rate_kg_s is not None and self.duration_s == 0:
            raise ValueError("duration_s: a release rate needs duration_s > 0 (amount_kg with duration_s: 0 is "
                             "an instantaneous release)")
        if self.stack is not None and self.duration_s == 0:
            raise ValueError("stack: a stack emits a continuous plume (Briggs's plume rise is that of a steady "
                             "plume), but duration_s: 0 is an instantaneous release; expected duration_s > 0, or "
                             "no stack")
        return self

    @model_serializer(mode="wrap")
    def _keep_amount_duration(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``duration_s`` is left out of a copy (it may move ``stop_h``), except with
        ``amount_kg``, whose rate it sets: a copy stopped early keeps that rate."""
        data: dict[str, Any] = handler(self)
        if self.amount_kg is not None and self.duration_s is not None:
            data["duration_s"] = self.duration_s
        return data

    @property
    def duration_known_s(self) -> float | None:
        """How long the release lasts [s]: ``duration_s``, else ``stop_h - start_h``; None if neither is given."""
        if self.duration_s is not None:
            return float(self.duration_s)
        if self.stop_h is not None:
            return (self.stop_h - self.start_h) * 3600.0
        return None


class CityRelease(_ReleaseBase):
    """Area sources on cities (e.g. a vehicle fleet): a disc around each selected city
    emitting in proportion to its population."""

    type: Literal["cities"]
    min_population: int = Field(15000, ge=0)
    countries: list[str] | None = Field(None, min_length=1, description="ISO 3166 alpha-2 codes")
    names: list[str] | None = Field(None, min_length=1)
    bbox: tuple[float, float, float, float] | None = Field(None, description="lon_min, lat_min, lon_max, lat_max [deg]")

    @field_validator("countries")
    @classmethod
    def _countries(cls, codes: list[str] | None) -> list[str] | None:
        return _known_countries(codes)

    rate_kg_s_per_capita: float = Field(gt=0, le=1e3, description="emission per inhabitant [kg s-1]")
    radius_km: float = Field(10.0, gt=0, le=200, description="radius of the emitting disc [km]")
    height_m: float = Field(10.0, ge=0, le=5000, description="particles start uniformly between 0 and this height [m]")


Release = Annotated[PointRelease | CityRelease, Field(discriminator="type"), typed_item("release", PointRelease, CityRelease)]


class MetConfig(_Model):
    """Where the winds come from."""

    source: Literal["climatology", "file", "uniform"] = "climatology"
    path: Path | list[Path] | None = Field(
        None, description="netCDF/GRIB file, folder, glob pattern (era5/*.nc) or list of files, joined along time "
        "(source: file); relative to the scenario file")
    level_hpa: float | None = Field(None, gt=0, le=1100)
    month: int | None = Field(None, ge=1, le=12, description="climatology month; default from the start date")
    u_m_s: float = Field(0.0, ge=-MAX_WIND_M_S, le=MAX_WIND_M_S, description="uniform eastward wind [m s-1]")
    v_m_s: float = Field(0.0, ge=-MAX_WIND_M_S, le=MAX_WIND_M_S, description="uniform northward wind [m s-1]")
    vertical: Literal["levels", "single"] | None = Field(
        None, description="levels: winds interpolated in height between the file's levels (needs several levels "
        "with geopotential); single: one level's wind at every height (met.level_hpa, the old behaviour); "
        "default: levels when a met file has them and no level_hpa is given, else single; the built-in "
        "climatology is read on its three levels when a release starts above turbulence.mixing_height_m, else at "
        "one level (850 hPa)")
    boundary_layer: Literal["met", "constant"] | None = Field(
        None, description="met: mixing height, stability and turbulence from the met (read or diagnosed from the "
        "profile); constant: turbulence.mixing_height_m and kz_m2_s everywhere; default: met when the met file "
        "gives or lets plumecast diagnose it, else constant")
    roughness_length_m: float = Field(0.1, gt=0, le=5,
                                      description="z0 of the log-law wind profile below the lowest level [m]")

    @model_validator(mode="after")
    def _path_for_file(self) -> MetConfig:
        if math.hypot(self.u_m_s, self.v_m_s) > MAX_WIND_M_S:
            raise ValueError(f"wind speed hypot(u_m_s, v_m_s) = {math.hypot(self.u_m_s, self.v_m_s):.3g} m/s exceeds "
                             f"{MAX_WIND_M_S:g} m/s, beyond any wind observed on Earth")
        if self.source == "file" and self.path is None:
            raise ValueError("met.source is 'file' but no met.path is given")
        # a uniform wind is given, never assumed calm; its components are read with source: uniform alone (they had
        # been dropped without a word with the default climatology, and source: uniform alone ran in calm air;
        # badinput audit)
        if self.source == "uniform" and not {"u_m_s", "v_m_s"} & self.model_fields_set:
            raise ValueError("met.source is 'uniform' but neither u_m_s nor v_m_s is given; expected the wind's "
                             "eastward u_m_s and northward v_m_s [m s-1]")
        # by value: a scenario changed with Scenario.replace is validated again with every field set
        given = [k for k in ("u_m_s", "v_m_s") if getattr(self, k) != 0.0]
        if self.source != "uniform" and given:
            raise ValueError(f"{' and '.join(given)} given but source is {self.source!r}: they are read "
                             "only with source: uniform; set source: uniform or remove them")
        if self.source != "file" and self.path is not None:
            raise ValueError(f"met.path is given but met.source is {self.source!r}; set source: file")
        if self.vertical == "levels" and self.level_hpa is not None:
            raise ValueError(f"vertical: 'levels' uses every level of the met, but level_hpa ({self.level_hpa:g}) "
                             "picks one; remove level_hpa or set vertical: single")
        if self.vertical == "levels" and self.source == "uniform":
            raise ValueError("vertical: a uniform wind has one level; expected vertical: single (or leave it out)")
        if self.boundary_layer == "met":
            if self.source != "file":
                raise ValueError(f"boundary_layer: 'met' needs a met file (source: file); the {self.source} winds "
                                 "carry no boundary layer; expected boundary_layer: constant (or leave it out)")
            if self.vertical == "single" or self.level_hpa is not None:
                raise ValueError("boundary_layer: 'met' needs the met's levels (vertical: levels, no level_hpa); "
                                 "expected boundary_layer: constant with one wind level")
        return self


class TurbulenceConfig(_Model):
    kh_m2_s: float = Field(1.0e4, ge=0, description="horizontal eddy diffusivity [m2 s-1]")
    kh_time_scale_s: float = Field(
        10800.0, ge=0, le=86400, description="horizontal Lagrangian time scale [s]: a particle younger than it "
        "spreads as sigma_v t (sigma_v^2 = kh_m2_s / kh_time_scale_s), an older one as the random walk with kh_m2_s "
        "(Taylor 1921; 10800 s is HYSPLIT's default); 0: the random walk with kh_m2_s from the release")
    kz_m2_s: float = Field(50.0, ge=0, description="vertical eddy diffusivity in the mixed layer [m2 s-1]")
    mixing_height_m: float = Field(DEFAULT_MIXING_HEIGHT_M, ge=10, le=10000, description="mixing height [m] where the "
                                   "met gives none (and zones' lid without local_weather's); under 10 m not modelled")
    kz_free_m2_s: float = Field(0.1, ge=0, le=100, description="vertical eddy diffusivity above the boundary "
                                "layer (free troposphere) [m2 s-1]")


class NearFieldConfig(_Model):
    """Plumes near the releases, for the receptors' exposure (see :mod:`plumecast.exposure`,
    docs/exposure.md): a Gaussian plume round each point release (the same Briggs (1973)
    curves as ``plumecast zones``) and an area-source plume round each city disc of a
    ``cities`` release (:mod:`plumecast.nearfield.area_source`, Briggs's urban curves)."""

    distance_km: float = Field(30.0, ge=0, le=100, description="reach of the plumes: round each point release (out "
                               "to 100 km its air counts where above the particles'), and beyond the edge of "
                               "each city disc (0: off, the particles alone) [km]")
    stability: Literal["auto", "A", "B", "C", "D", "E", "F"] = Field(
        "auto", description="Pasquill-Gifford class of the near-field plumes; auto: where the run has a boundary "
        "layer from the met, each plume's class from the met's Obukhov length at its source and step (Golder 1972) "
        "under a lid at the met's mixing height, else for the point releases local_weather's class (and "
        "mixing_height_m) when given, else D (neutral) under turbulence.mixing_height_m; a class A-F: "
        "that class everywhere, under turbulence.mixing_height_m")
    terrain: Literal["rural", "urban"] | None = Field(
        None, description="sigma curves of the point releases' plumes (city discs always use the urban ones); "
        "default: local_weather.terrain when local_weather is given (as zones), else rural")


class OutputConfig(_Model):
    grid: GridConfig = GridConfig()
    interval_min: float = Field(60.0, gt=0, description="averaging interval of the output [min]")
    layer_depth_m: float = Field(100.0, gt=0, le=5000, description="depth of the near-surface output layer [m]")


class ReceptorPoint(_Model):
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=360)
    population: float | None = Field(None, ge=0, le=WORLD_POPULATION, description="people there; leave out when "
                                     "unknown (figures then say unknown, never 0); at most the world's 8.2 billion")
    radius_km: float | None = Field(None, ge=0, le=100, description="radius of the place's area; its exposure "
                                    "is the mean over the disc (default: a point)")
    air_changes_per_hour: float | None = Field(
        None, gt=0, le=50, description="of the building there, for the indoor concentration of plumecast zones' "
        "threat at a point (default: the shelter's, else 0.5) [h-1]")


def _names_once(names: list[str] | None) -> list[str] | None:
    """A list of city names in which each city is named once (e2e audit, session 30: a city named three
    times was three receptors, its deaths counted three times in the totals)."""
    from collections import Counter

    counts = Counter(" ".join(str(n).split()).lower() for n in names or ())
    for n in names or ():
        times = counts[" ".join(str(n).split()).lower()]
        if times > 1:
            raise ValueError(f"{n!r} is named {times} times; expected each city once (a city named twice is counted "
                             "twice)")
    return names


@functools.cache
def _country_codes() -> frozenset[str]:
    """The shipped cities table's country codes, upper case (made once: every member is validated)."""
    from plumecast.receptors import load_cities
    return frozenset(np.char.upper(load_cities(min_population=None).country.astype(str)).tolist())


def _known_countries(codes: list[str] | None) -> list[str] | None:
    """Country codes the cities table holds: an unknown one (``XX``, ``Germany``) had selected no city and run
    without a word (badinput audit)."""
    if codes is None:
        return None
    bad = [c for c in codes if c.strip().upper() not in _country_codes()]
    if bad:
        raise ValueError(f"{', '.join(repr(c) for c in bad)} not a country code of the cities table; expected ISO "
                         "3166 alpha-2 codes such as DE, FR, JP (not country names)")
    return codes


class CitySelection(_Model):
    largest: int | None = Field(None, gt=0, description="the N most populous selected cities")
    names: list[str] | None = Field(None, min_length=1)
    min_population: int = Field(15000, ge=0)
    countries: list[str] | None = Field(None, min_length=1)
    bbox: tuple[float, float, float, float] | None = None

    _names = field_validator("names")(_names_once)
    _countries = field_validator("countries")(_known_countries)


class ReceptorConfig(_Model):
    cities: CitySelection | None = None
    points: list[ReceptorPoint] = []
    csv: Path | None = Field(None, description="CSV with columns name, lat, lon[, population]")
    population_raster: Path | None = Field(
        None, description="population raster (GeoTIFF or netCDF, persons per cell, lon/lat): people in the "
        "output cells that reach each AEGL are counted from it")


class ShelterConfig(_Model):
    air_changes_per_hour: float = Field(0.5, gt=0, le=50, description="[h-1]")
    compliance_fraction: float = Field(1.0, ge=0, le=1)
    start_h: float = Field(0.0, ge=0, description="shelter-in-place begins, hours after start [h]")
    end_h: float | None = Field(
        None, gt=0, description="people are told to ventilate or leave, hours after start (default: never) [h]")
    ventilation_air_changes_per_hour: float = Field(
        4.0, gt=0, le=50, description="air changes once people ventilate after end_h [h-1]")

    @model_validator(mode="after")
    def _end_after_start(self) -> ShelterConfig:
        if self.end_h is not None and self.end_h <= self.start_h:
            raise ValueError(f"end_h: {self.end_h:g} h must be after start_h ({self.start_h:g} h)")
        return self


class Scenario(_Model):
    """One case: what is released, where, on which winds, and what to report."""

    name: str = "scenario"
    description: str = ""
    start: _dt.datetime
    issued_at: _dt.datetime | None = Field(
        None, description="when the forecast is issued; countdowns are given from it (default: start)")
    duration_h: float | None = Field(None, gt=0, le=24 * 366)
    end: _dt.datetime | None = None
    time_step_s: float = Field(600.0, gt=0, le=6 * 3600)
    particles: int = Field(100_000, gt=0, le=2_000_000_000)
    seed: int = Field(0, ge=0, le=2**64 - 1)
    backend: Literal["numba", "numpy", "cuda", "cuda-mixed"] = "numba"
    agent: AgentSpec = Field("chlorine", validate_default=True, description="table name or inline definition")
    met: MetConfig = MetConfig()
    turbulence: TurbulenceConfig = TurbulenceConfig()
    deposition: DepositionConfig = Field(
        DepositionConfig(), description="dry deposition and wet scavenging (off, or values; default: the agent's)")
    near_field: NearFieldConfig = NearFieldConfig()
    releases: list[Release] = Field(min_length=1)
    termination_h: float | None = Field(None, gt=0, description="all sources stop at this time [h after start]")
    output: OutputConfig = OutputConfig()
    receptors: ReceptorConfig = ReceptorConfig()
    shelter: ShelterConfig | None = None
    plans: list[PlanConfig] = Field(default_factory=list, description="response plans to compare (plumecast compare)")
    ensemble: EnsembleConfig | None = Field(None, description="ensemble members for plumecast compare")
    local_weather: LocalWeather | None = Field(
        None, description="the weather observed at the release (plumecast zones; run and compare read its wind for "
        "a tank's pool, and its stability and mixing height for the point releases' near-field plumes where the met "
        "gives no boundary layer)")
    zones: ZonesConfig | None = Field(None, description="levels of concern of plumecast zones (run ignores it)")
    reference: dict[str, Any] | None = Field(
        None, description="what was observed in a real case, kept with the scenario (no mode reads it)")

    #: how the file wrote ``start``, ``end`` and ``issued_at`` (:func:`plumecast.scenario_modes.time_written`:
    #: "zone", "no zone" or "date"; a key not given is absent); set on validation, for the notes
    _written: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _note_start_zone(cls, data: Any, handler: Any) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, Scenario):
            model._written = {k: time_written(data[k]) for k in ("start", "end", "issued_at")
                              if data.get(k) is not None}
        return model

    @field_validator("releases")
    @classmethod
    def _release_names_once(cls, releases: list[Any]) -> list[Any]:
        # plans (releases: [tank]) and zones --release pick a release by its name: two of one name had been
        # taken one for the other without a word (badinput audit)
        where: dict[str, list[int]] = {}
        for k, rel in enumerate(releases):
            if rel.name is not None:
                where.setdefault(rel.name.strip().casefold(), []).append(k)
        twice = [(releases[ks[0]].name, ks) for ks in where.values() if len(ks) > 1]
        if twice:
            name, ks = twice[0]
            raise ValueError(f"the name {name!r} is given to releases {', '.join(str(k) for k in ks)}; expected "
                             "each release's name once (plans and zones --release pick a release by its name)")
        return releases

    @field_validator("start", "end", "issued_at", mode="before")
    @classmethod
    def _a_date(cls, v: Any) -> Any:
        # a number had been read as seconds since 1970 (start: 20260120 ran in August 1970; badinput audit)
        if v is not None and (problem := date_problem(v)):
            raise ValueError(problem)
        return v

    @field_validator("start", "end", "issued_at")
    @classmethod
    def _utc(cls, v: _dt.datetime | None) -> _dt.datetime | None:
        if v is None:
            return None
        if v.tzinfo is not None:
            v = v.astimezone(_dt.UTC).replace(tzinfo=None)
        return v

    @model_validator(mode="after")
    def _times(self) -> Scenario:
        self._sources_for_run()
        if self.duration_h is None and self.end is None:
            raise ValueError("give either duration_h or end")
        if self.duration_h is not None and self.end is not None:
            raise ValueError("give duration_h or end, not both")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end: {self.end.isoformat()} must be after start ({self.start.isoformat()})")
        if self.output.interval_min * 60.0 < self.time_step_s:
            raise ValueError(
                f"output.interval_min ({self.output.interval_min} min) is shorter than time_step_s ({self.time_step_s} s)"
            )
        dt = self.time_step_s
        run_s = self.run_hours * 3600.0
        key = "duration_h" if self.duration_h is not None else "end"
        if run_s < dt:
            raise ValueError(
                f"{key}: the run ({self.run_hours:g} h = {run_s:g} s) is shorter than one time step "
                f"(time_step_s = {dt:g} s); expected a run of at least one step"
            )
        if not _whole(run_s / dt):
            lo, hi = math.floor(run_s / dt) * dt / 3600.0, math.ceil(run_s / dt) * dt / 3600.0
            raise ValueError(
                f"{key}: the run ({self.run_hours:g} h = {run_s:g} s) is not a whole number of time steps "
                f"(time_step_s = {dt:g} s: {run_s / dt:.6g} steps); expected a whole number, e.g. a run of "
                f"{lo:.6g} h or {hi:.6g} h, or a time step that divides the run"
            )
        interval_s = self.output.interval_min * 60.0
        if not _whole(interval_s / dt):
            raise ValueError(
                f"output.interval_min: {self.output.interval_min:g} min = {interval_s:g} s is not a whole number of "
                f"time steps (time_step_s = {dt:g} s); expected a multiple of the step, e.g. "
                f"{max(1, round(interval_s / dt)) * dt / 60.0:.6g} min"
            )
        # times are held as datetime64[ns], which spans 1677-09-21 .. 2262-04-11
        end = self.start + _dt.timedelta(seconds=run_s) if _NS_MIN <= self.start <= _NS_MAX else self.start
        for name, what, t in (("start", "start", self.start), ("issued_at", "issued_at", self.issued_at),
                               (key, "the end of the run", end)):
            if t is not None and not (_NS_MIN <= t <= _NS_MAX):
                raise ValueError(
                    f"{name}: {what} ({t.isoformat()}) is outside the time range plumecast can represent, "
                    f"{_NS_MIN.date().isoformat()} .. {_NS_MAX.date().isoformat()}"
                )
        return self

    def _sources_for_run(self) -> None:
        """What the particle forecast needs of an ``amount_kg`` or ``tank`` release."""
        for i, rel in enumerate(self.releases):
            if not isinstance(rel, PointRelease) or rel.rate_kg_s is not None:
                continue
            if rel.amount_kg is not None and rel.duration_known_s is None:
                raise ValueError(f"releases.{i}.duration_s: amount_kg needs how long the release lasts; expected "
                                 "duration_s [s] (0: all at once) or stop_h [h after start]")
            if (rel.tank is not None and rel.tank.pool is not None and self.local_weather is None
                    and self.met.source != "uniform"):
                raise ValueError(f"releases.{i}.tank.pool: the rain-out pool evaporates at the wind at the release; "
                                 "expected local_weather with wind_speed_m_s [m s-1] (or met.source: uniform)")

    # ---- derived quantities (never stored back into the model) ----
    @property
    def run_hours(self) -> float:
        if self.duration_h is not None:
            return float(self.duration_h)
        assert self.end is not None
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def start64(self) -> np.datetime64:
        return np.datetime64(self.start.replace(tzinfo=None), "ns")

    @property
    def issued64(self) -> np.datetime64:
        """When the forecast is issued (``issued_at``, default ``start``)."""
        t = self.issued_at if self.issued_at is not None else self.start
        return np.datetime64(t.replace(tzinfo=None), "ns")

    @property
    def n_steps(self) -> int:
        return int(round(self.run_hours * 3600.0 / self.time_step_s))

    @property
    def steps_per_output(self) -> int:
        return max(1, int(round(self.output.interval_min * 60.0 / self.time_step_s)))

    def resolved_agent(self) -> Agent:
        return self.agent

    def deposition_values(self) -> tuple[float, float, float, list[str]]:
        """Dry deposition velocity [m s-1], scavenging factor a [s-1] and exponent b [-]
        of the run, and one line per removal left off
        (:func:`plumecast.scenario_deposition.deposition_values`)."""
        return deposition_values(self.deposition, self.agent, self.dry_deposition_resistance())

    def dry_deposition_resistance(self) -> Resistance:
        """Wesely's (1989) resistance model for this run's agent, land use and season
        (:func:`plumecast.scenario_deposition.wesely_resistance`; unless given, the season
        of each latitude band from the start month, the first point release's band in the
        summary values; ``land_use: map``, the land use round the release's reference
        place, :meth:`reference_place`)."""
        d = self.deposition
        # the place only serves the model's notes: the city table is not read where it does not apply
        points, place = (self.reference_place() if d.land_use is not None and d.dry_velocity_m_s is None
                         else ([], "the first point release"))
        return wesely_resistance(d, self.agent, self.start.month, points, place)

    def reference_place(self) -> tuple[list[tuple[float, float]], str]:
        """Where the run's summary values of deposition are taken: the point releases'
        (lon, lat) [deg], else the most populous city of the first city release (its
        selection read from the shipped city table), and a phrase naming the first."""
        points = [(r.lon, r.lat) for r in self.releases if isinstance(r, PointRelease)]
        if points:
            return points, "the first point release"
        from plumecast.release import select_cities

        for i, r in enumerate(self.releases):
            if isinstance(r, CityRelease):
                cities = select_cities(r, i)
                k = int(np.argmax(cities.population))
                return ([(float(cities.lon[k]), float(cities.lat[k]))],
                        f"{cities.name[k]}, the most populous city of {r.name or f'release {i}'}")
        return [], "the first point release"

    def replace(self, **changes: Any) -> Scenario:
        """A validated copy with some top-level keys changed (this one is unchanged).

        >>> sc = load_scenario(demo_scenario_path()).replace(particles=1000)
        >>> sc.particles
        1000
        """
        data = self.model_dump(mode="python")
        data.update(changes)
        out = scenario_from_dict(data, source=f"{self.name} (changed: {', '.join(changes)})")
        # the keys not changed are as the file wrote them (a dump holds them in UTC without a zone)
        out._written |= {k: v for k, v in self._written.items() if k not in changes and k in out._written}
        return out

    def checkpoint_dict(self) -> dict[str, Any]:
        """The scenario as JSON values, as a checkpoint keeps it (``plumecast run --resume``):
        ``start``, ``end`` and ``issued_at`` (held in UTC) end in ``Z`` where the file gave them a
        time zone, and are a date alone where it gave no time of day, so that the scenario read back
        gives the notes the run gave (not "no time zone")."""
        data = self.model_dump(mode="json")
        for key in ("start", "end", "issued_at"):
            how = self._written.get(key, "zone")
            if isinstance(data.get(key), str) and how != "no zone":
                data[key] = data[key][:10] if how == "date" else data[key] + "Z"
        return data

    def notes(self, mode: Mode = "run") -> list[str]:
        """What a person running this scenario (``mode``: run or compare) should know that is
        not an error (:func:`plumecast.scenario_modes.run_notes`: ``start``, ``end`` and ``issued_at``
        read as UTC for want of a time zone or as midnight for want of a time of day among them), a
        top-level shelter that begins at or after the end of the run (``run`` only: compare ignores it)."""
        out = run_notes(self, self._written)
        if mode == "run" and self.shelter is not None and self.shelter.start_h >= self.run_hours:
            out.append(f"shelter.start_h {self.shelter.start_h:g} h is at or after the end of the run "
                       f"({self.run_hours:g} h): nobody is indoors within the forecast, so the 'with shelter' "
                       "figures are those outdoors; give a start_h within the run to see what sheltering saves")
        return out


# ---------------------------------------------------------------------------
# loading with file / key / line in every message (the YAML side: plumecast.scenario_yaml)


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Validate a mapping as a Scenario. Relative paths are taken from ``base_dir``."""
    return _validate(data, source, {}, base_dir)


def _met_path(
    path: Path | list[Path], source: str, lines: dict[tuple[str | int, ...], int], base_dir: Path | None
) -> Path | list[Path]:
    """``met.path`` (a file, folder, glob pattern or list) made absolute; a ScenarioError
    naming the key and line if it names no met file."""
    from plumecast.errors import MetDataError
    from plumecast.met.reader import met_paths

    def absolute(p: Path) -> Path:
        return p if p.is_absolute() or base_dir is None else base_dir / p

    full: Path | list[Path] = [absolute(p) for p in path] if isinstance(path, list) else absolute(path)
    try:
        met_paths(full)
    except MetDataError as exc:
        line = lines.get(("met", "path"))
        raise ScenarioError(
            f"{source}{f', line {line}' if line else ''}: met.path: {exc} (relative paths start at the scenario "
            "file's folder)"
        ) from None
    return full


def _validate(data: Any, source: str, lines: dict[tuple[str | int, ...], int], base_dir: Path | None) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping of keys (name, start, releases, ...) at the top level, "
                            f"got {top_level_got(data)}")
    if "releases" not in data and "source" in data and "meteorology" in data:
        raise ScenarioError(
            f"{source}: this is a local scenario in the old format of `plumecast zones` (source, release, "
            f"meteorology; no releases); run it with `plumecast zones {source}`. For `plumecast run` describe the "
            "release under releases (type: point, lat, lon, rate_kg_s, stop_h) and add start, duration_h and met; "
            "the weather goes under local_weather, and the same file then drives zones too (docs/scenario.md)"
        )
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, source, lines, data=data, model=Scenario)
                            + missing_run_keys(data, source)) from None
    # resolve and check paths relative to the scenario file
    updates: dict[str, Any] = {}
    if sc.met.path is not None:
        updates["met"] = sc.met.model_copy(update={"path": _met_path(sc.met.path, source, lines, base_dir)})
    if sc.receptors.csv is not None:
        path = _existing_path(sc.receptors.csv, ("receptors", "csv"), "a CSV with columns name, lat, lon, population",
                              source, lines, base_dir)
        updates["receptors"] = sc.receptors.model_copy(update={"csv": path})
    if sc.receptors.population_raster is not None:
        path = _existing_path(sc.receptors.population_raster, ("receptors", "population_raster"),
                              "a population raster (GeoTIFF or netCDF)", source, lines, base_dir)
        rec = updates.get("receptors", sc.receptors)
        updates["receptors"] = rec.model_copy(update={"population_raster": path})
    sc = sc.model_copy(update=updates) if updates else sc
    _check_memory(sc, source, lines)
    _check_emission_in_run(sc, source, lines)
    _check_decay_per_step(sc, source, lines)
    _check_tanks(sc, source, lines)
    _check_receptors(sc, source, lines)
    if sc.met.source == "file":
        _check_releases_in_met_domain(sc, source, lines)
    return sc


def demo_plans_scenario_path() -> Path:
    """Path of the shipped "poison sky" plan comparison (four plans, 20 members)."""
    return Path(str(resources.files("plumecast") / "data" / "scenarios" / "poison_sky_plans.yaml"))


def demo_scenario_path() -> Path:
    """Path of the shipped "poison sky" demo scenario."""
    return Path(str(resources.files("plumecast") / "data" / "scenarios" / "poison_sky.yaml"))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML or JSON).

    Raises
    ------
    ScenarioError
        with the file, key path, line and the expected value for every problem found.
    """
    path = Path(path)
    text = read_scenario_text(path)
    data, lines = _parse_yaml(text, str(path))
    return _validate(data, str(path), lines, path.parent)
