"""The local scenario file of ``plumecast zones``: one point release, one set of
weather observations and the levels of concern (see ``docs/local_scale.md``)."""


from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from plumecast.agents import AgentSpec
from plumecast.errors import ScenarioError
from plumecast.nearfield.stability import (
    PGClass,
    pasquill_gifford_class,
    pasquill_gifford_class_from_obukhov,
)
from plumecast.shelter import Shelter

# --------------------------------------------------------------------------- scenario

#: Order in which ``stability_from: auto`` picks the class route among those given:
#: best validated on Project Prairie Grass first (``docs/validation.md``:
#: briggs-rural-golder before briggs-rural-turner; a given letter cannot be tested).
AUTO_STABILITY_ORDER: tuple[str, ...] = ("obukhov_length", "observations", "stability")


class SourceSpec(BaseModel):
    """Where the release is. ``lat``/``lon`` in degrees, ``height_m`` above ground [m]."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    lat: float = Field(ge=-89.0, le=89.0)
    lon: float = Field(ge=-180.0, le=180.0)
    height_m: float = Field(default=0.0, ge=0.0)


class PoolSpec(BaseModel):
    """The ground a rain-out pool lies on (boiling pool: heat conducted from the ground).

    No defaults: the values depend on the surface (concrete, soil, gravel).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    min_thickness_m: float = Field(gt=0, description="thickness where spreading stops [m]")
    ground_temperature_c: float = Field(ge=-80, le=80)
    ground_conductivity_w_m_k: float = Field(gt=0)
    ground_diffusivity_m2_s: float = Field(gt=0)
    bund_area_m2: float | None = Field(default=None, gt=0)


class TankSpec(BaseModel):
    """A tank with a hole (``plumecast.nearfield.source_models``): liquefied gas under its own
    vapour pressure, or a gas-filled tank when ``pressure_bar`` is given.

    ``hole_height_m`` is measured from the tank bottom; ``height_m`` defaults to a
    vertical cylinder as high as wide.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    volume_m3: float = Field(gt=0)
    fill_fraction: float = Field(default=0.85, ge=0, le=1)
    temperature_c: float = Field(ge=-200, le=200)
    hole_diameter_m: float = Field(gt=0, le=5)
    hole_height_m: float = Field(default=0.0, ge=0)
    height_m: float | None = Field(default=None, gt=0)
    pipe_length_m: float = Field(default=0.0, ge=0)
    pressure_bar: float | None = Field(default=None, gt=0, description="gas tank: absolute pressure [bar]")
    liquid_heat_capacity_j_kg_k: float | None = Field(default=None, gt=0)
    pool: PoolSpec | None = None

    @model_validator(mode="after")
    def _hole_in_tank(self) -> TankSpec:
        if self.height_m is not None and self.hole_height_m > self.height_m:
            raise ValueError(f"hole_height_m {self.hole_height_m} is above the tank height {self.height_m}")
        return self


class ReleaseSpec(BaseModel):
    """How much is released: ``rate_kg_s`` [kg s-1] or ``amount_kg`` [kg] with
    ``duration_s`` [s], or a ``tank`` (the source model gives the rate).

    ``duration_s: 0`` with ``amount_kg`` is an instantaneous (puff) release.
    ``temperature_c``: temperature of the released vapour (for its density; default:
    the agent's boiling point when that is below the air temperature, i.e. a
    liquefied gas flashing to 1 atm, else the air temperature). ``dense_gas``:
    ``auto`` (Britter-McQuaid criterion decides) or ``off`` (passive Gaussian).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    rate_kg_s: float | None = Field(default=None, gt=0)
    amount_kg: float | None = Field(default=None, gt=0)
    duration_s: float = Field(default=600.0, ge=0)
    tank: TankSpec | None = None
    temperature_c: float | None = Field(default=None, ge=-273.15, le=2000)
    dense_gas: Literal["auto", "off"] = "auto"

    @model_validator(mode="after")
    def _one_of(self) -> ReleaseSpec:
        if sum(v is not None for v in (self.rate_kg_s, self.amount_kg, self.tank)) != 1:
            raise ValueError("give exactly one of rate_kg_s, amount_kg or tank")
        if self.rate_kg_s is not None and self.duration_s <= 0:
            raise ValueError("a release rate needs duration_s > 0")
        return self

    @property
    def mass_kg(self) -> float:
        """Total mass released (rate or amount; a tank's comes from its source model). [kg]"""
        if self.amount_kg is not None:
            return self.amount_kg
        if self.rate_kg_s is None:
            raise ValueError("a tank release has no fixed mass: use plumecast.nearfield.zones.release_profile")
        return self.rate_kg_s * self.duration_s


class MeteorologySpec(BaseModel):
    """One set of weather observations at the release.

    Stability: give ``stability`` (PG class A–F) directly, or ``obukhov_length_m``
    (Golder 1972), or ``daytime`` with ``insolation`` and/or ``cloud_cover_octas``
    (Turner 1970). Exactly one route is used: ``stability_from`` names it, or
    ``"auto"`` (default) takes, of the routes the inputs allow, the best validated
    on Project Prairie Grass (:data:`AUTO_STABILITY_ORDER`, ``docs/validation.md``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    wind_speed_m_s: float = Field(gt=0, description="wind speed at 10 m [m s-1]")
    wind_from_deg: float = Field(ge=0, le=360, description="direction the wind blows from [deg]")
    stability: Literal["A", "B", "C", "D", "E", "F"] | None = None
    obukhov_length_m: float | None = None
    roughness_length_m: float = Field(default=0.1, gt=0)
    daytime: bool | None = None
    insolation: Literal["strong", "moderate", "slight"] | None = None
    cloud_cover_octas: float | None = Field(default=None, ge=0, le=8)
    mixing_height_m: float | None = Field(default=None, gt=0)
    terrain: Literal["rural", "urban"] = "rural"
    averaging_time_s: float = Field(default=600.0, gt=0)
    direction_uncertainty_deg: float | None = Field(default=None, ge=0, le=180)
    stability_from: Literal["auto", "stability", "obukhov_length", "observations"] = "auto"
    air_temperature_c: float = Field(default=15.0, ge=-80, le=60, description="air temperature [°C] (dense gas)")

    @model_validator(mode="after")
    def _has_stability(self) -> MeteorologySpec:
        if self.stability is None and self.obukhov_length_m is None and self.daytime is None:
            raise ValueError(
                "give stability (A-F), obukhov_length_m, or daytime with insolation/cloud_cover_octas"
            )
        if self.stability is None and self.obukhov_length_m is None:
            if self.daytime and self.insolation is None and self.cloud_cover_octas is None:
                raise ValueError("by day give insolation or cloud_cover_octas")
            if self.daytime is False and self.cloud_cover_octas is None:
                raise ValueError("at night give cloud_cover_octas")
        if self.stability_from != "auto" and self.stability_from not in self._routes():
            raise ValueError(
                f"stability_from: {self.stability_from} needs "
                + {"stability": "stability (A-F)", "obukhov_length": "obukhov_length_m",
                   "observations": "daytime with insolation (day) or cloud_cover_octas (night)"}[self.stability_from]
            )
        return self

    def _routes(self) -> list[str]:
        out = []
        if self.stability is not None:
            out.append("stability")
        if self.obukhov_length_m is not None:
            out.append("obukhov_length")
        if self.daytime is not None and (
            (self.daytime and (self.insolation is not None or self.cloud_cover_octas is not None))
            or (not self.daytime and self.cloud_cover_octas is not None)
        ):
            out.append("observations")
        return out

    def stability_route(self) -> str:
        """Which route gives the class: ``stability``, ``obukhov_length`` or ``observations``."""
        if self.stability_from != "auto":
            return self.stability_from
        given = self._routes()
        return next(r for r in AUTO_STABILITY_ORDER if r in given)

    def pg_class(self) -> PGClass:
        """The Pasquill–Gifford class this meteorology implies (by :meth:`stability_route`)."""
        route = self.stability_route()
        if route == "stability":
            assert self.stability is not None
            return self.stability
        if route == "obukhov_length":
            assert self.obukhov_length_m is not None
            return pasquill_gifford_class_from_obukhov(self.obukhov_length_m, self.roughness_length_m)
        return pasquill_gifford_class(
            self.wind_speed_m_s, bool(self.daytime), self.insolation, self.cloud_cover_octas
        )


class LevelSpec(BaseModel):
    """A level of concern: an AEGL level (1–3) or a user threshold in ppm or mg/m3."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str | None = None
    aegl: Literal[1, 2, 3] | None = None
    ppm: float | None = Field(default=None, gt=0)
    mg_m3: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_of(self) -> LevelSpec:
        if sum(v is not None for v in (self.aegl, self.ppm, self.mg_m3)) != 1:
            raise ValueError("give exactly one of aegl, ppm or mg_m3")
        return self


class ReceptorSpec(BaseModel):
    """Who may be inside: GeoNames cities near the source and/or a receptor CSV."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    cities: bool = True
    min_population: float = Field(default=0.0, ge=0)
    csv: Path | None = None


class PopulationSpec(BaseModel):
    """A population raster of persons per cell on an EPSG:4326 lon/lat grid
    (WorldPop, GHS-POP, LandScan; GeoTIFF needs ``plumecast[raster]``, or netCDF).

    ``raster`` is relative to the scenario file; ``variable`` names the netCDF
    variable when the file holds several.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    raster: Path
    variable: str | None = None


class PointSpec(BaseModel):
    """A named place for "threat at a point": outdoor and indoor concentration over time there."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1)
    lat: float = Field(ge=-89.0, le=89.0)
    lon: float = Field(ge=-180.0, le=180.0)
    air_changes_per_hour: float | None = Field(default=None, gt=0, description="default: the shelter's, else 0.5 h-1")


class LocalScenario(BaseModel):
    """A local-scale release for ``plumecast zones`` (see ``docs/local_scale.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = "local release"
    description: str = ""
    source: SourceSpec
    release: ReleaseSpec
    agent: AgentSpec
    meteorology: MeteorologySpec
    levels: list[LevelSpec] = Field(
        default_factory=lambda: [LevelSpec(aegl=1), LevelSpec(aegl=2), LevelSpec(aegl=3)]
    )
    exposure_duration_s: float | None = Field(default=None, gt=0)
    receptor_height_m: float = Field(default=1.5, ge=0)
    receptors: ReceptorSpec = Field(default_factory=ReceptorSpec)
    population: PopulationSpec | None = None
    shelter: Shelter | None = None
    flammable_levels: bool = True  # add LFL and 1/2 LFL zones for an agent with an LFL
    points: list[PointSpec] = Field(default_factory=list)
    reference: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_fixed_duration(self) -> LocalScenario:
        if self.exposure_duration_s is not None:
            raise ValueError(
                "exposure_duration_s is no longer used: zones and receptors read each AEGL at the "
                "exposure elapsed since the concentration first reached the onset floor "
                "(docs/local_scale.md); remove the key"
            )
        return self


def load_local_scenario(path: str | Path) -> LocalScenario:
    """Read and validate a local scenario YAML file.

    Raises
    ------
    ScenarioError
        The file is missing, not YAML, or a key is wrong (message names the file,
        the key path, the value and what was expected).
    """
    from plumecast.scenario import MAX_YAML_BYTES, _format_errors, _parse_yaml

    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_YAML_BYTES:
            raise ScenarioError(f"{path}: the file has {path.stat().st_size:,} bytes; expected a scenario of at "
                                f"most {MAX_YAML_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({getattr(exc, 'strerror', None) or exc})") from None
    data, lines = _parse_yaml(text, str(path))
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    if "source" not in data and ("releases" in data or "start" in data):
        raise ScenarioError(
            f"{path}: this is a scenario for `plumecast run` (it has {', '.join(k for k in ('start', 'releases') if k in data)}"
            f" and no source/release/meteorology); run it with `plumecast run {path}`. `plumecast zones` reads a "
            "local scenario with source, release, agent and meteorology (see docs/local_scale.md)"
        )
    try:
        scenario = LocalScenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, str(path), lines, reference="docs/local_scale.md")) from None
    if scenario.population is not None and not scenario.population.raster.is_absolute():
        pop = scenario.population.model_copy(update={"raster": path.parent / scenario.population.raster})
        scenario = scenario.model_copy(update={"population": pop})
    if scenario.receptors.csv is not None and not scenario.receptors.csv.is_absolute():
        rec = scenario.receptors.model_copy(update={"csv": path.parent / scenario.receptors.csv})
        scenario = scenario.model_copy(update={"receptors": rec})
    return scenario
