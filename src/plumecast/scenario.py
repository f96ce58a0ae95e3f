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
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from plumecast.agents import Agent, AgentSpec
from plumecast.ensemble.config import EnsembleConfig
from plumecast.errors import ScenarioError
from plumecast.plans.config import PlanConfig


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ProfileTable = list[tuple[float, float]]


def _check_profile(profile: ProfileTable | None) -> ProfileTable | None:
    if profile is None:
        return None
    if len(profile) < 1:
        raise ValueError("a time profile needs at least one [hour, factor] pair")
    hours = [h for h, _ in profile]
    if any(b <= a for a, b in zip(hours, hours[1:], strict=False)):
        raise ValueError(f"profile hours must increase strictly, got {hours}")
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
            raise ValueError(f"stop_h ({self.stop_h}) must be after start_h ({self.start_h})")
        return self


class PointRelease(_ReleaseBase):
    """A point source (stack, vent, rail car)."""

    type: Literal["point"]
    lat: float = Field(ge=-90, le=90, description="[deg north]")
    lon: float = Field(ge=-180, le=360, description="[deg east]")
    height_m: float = Field(0.0, ge=0, le=20000, description="release height above ground [m]")
    rate_kg_s: float = Field(gt=0, description="emission rate before the profile is applied [kg s-1]")


class CityRelease(_ReleaseBase):
    """Area sources on cities (e.g. a vehicle fleet): a disc around each selected city
    emitting in proportion to its population."""

    type: Literal["cities"]
    min_population: int = Field(15000, ge=0)
    countries: list[str] | None = Field(None, description="ISO 3166 alpha-2 codes")
    names: list[str] | None = None
    bbox: tuple[float, float, float, float] | None = Field(None, description="lon_min, lat_min, lon_max, lat_max [deg]")
    rate_kg_s_per_capita: float = Field(gt=0, description="emission per inhabitant [kg s-1]")
    radius_km: float = Field(10.0, gt=0, le=200, description="radius of the emitting disc [km]")
    height_m: float = Field(10.0, ge=0, le=5000, description="particles start uniformly between 0 and this height [m]")


Release = Annotated[PointRelease | CityRelease, Field(discriminator="type")]


class MetConfig(_Model):
    """Where the winds come from."""

    source: Literal["climatology", "file", "uniform"] = "climatology"
    path: Path | None = Field(None, description="netCDF/GRIB file (source: file), relative to the scenario file")
    level_hpa: float | None = Field(None, gt=0, le=1100)
    month: int | None = Field(None, ge=1, le=12, description="climatology month; default from the start date")
    u_m_s: float = 0.0
    v_m_s: float = 0.0

    @model_validator(mode="after")
    def _path_for_file(self) -> MetConfig:
        if self.source == "file" and self.path is None:
            raise ValueError("met.source is 'file' but no met.path is given")
        if self.source != "file" and self.path is not None:
            raise ValueError(f"met.path is given but met.source is {self.source!r}; set source: file")
        return self


class TurbulenceConfig(_Model):
    kh_m2_s: float = Field(1.0e4, ge=0, description="horizontal eddy diffusivity [m2 s-1]")
    kz_m2_s: float = Field(50.0, ge=0, description="vertical eddy diffusivity in the mixed layer [m2 s-1]")
    mixing_height_m: float = Field(1000.0, gt=0, le=10000, description="boundary-layer (mixing) height [m]")


class NearFieldConfig(_Model):
    """Gaussian plume near point releases, for the receptors' exposure (see
    :mod:`plumecast.exposure`): the same Briggs (1973) curves as ``plumecast zones``."""

    distance_km: float = Field(30.0, ge=0, le=100,
                               description="radius round each point release modelled as a plume (0: off) [km]")
    stability: Literal["A", "B", "C", "D", "E", "F"] = Field(
        "D", description="Pasquill-Gifford class of the near-field plume (D: neutral, overcast or windy)")
    terrain: Literal["rural", "urban"] = "rural"


class GridConfig(_Model):
    lon_min: float = Field(-180.0, ge=-180, le=180)
    lon_max: float = Field(180.0, ge=-180, le=180)
    lat_min: float = Field(-90.0, ge=-90, le=90)
    lat_max: float = Field(90.0, ge=-90, le=90)
    resolution_deg: float = Field(1.0, gt=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> GridConfig:
        if self.lon_max <= self.lon_min:
            raise ValueError(f"lon_max ({self.lon_max}) must exceed lon_min ({self.lon_min})")
        if self.lat_max <= self.lat_min:
            raise ValueError(f"lat_max ({self.lat_max}) must exceed lat_min ({self.lat_min})")
        return self


class OutputConfig(_Model):
    grid: GridConfig = GridConfig()
    interval_min: float = Field(60.0, gt=0, description="averaging interval of the output [min]")
    layer_depth_m: float = Field(100.0, gt=0, le=5000, description="depth of the near-surface output layer [m]")


class ReceptorPoint(_Model):
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=360)
    population: float = Field(0.0, ge=0)


class CitySelection(_Model):
    largest: int | None = Field(None, gt=0, description="the N most populous selected cities")
    names: list[str] | None = None
    min_population: int = Field(15000, ge=0)
    countries: list[str] | None = None
    bbox: tuple[float, float, float, float] | None = None


class ReceptorConfig(_Model):
    cities: CitySelection | None = None
    points: list[ReceptorPoint] = []
    csv: Path | None = Field(None, description="CSV with columns name, lat, lon[, population]")


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
            raise ValueError(f"end_h ({self.end_h}) must be after start_h ({self.start_h})")
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
    seed: int = Field(0, ge=0)
    backend: Literal["numba", "numpy", "cuda", "cuda-mixed"] = "numba"
    agent: AgentSpec = Field("chlorine", validate_default=True, description="table name or inline definition")
    met: MetConfig = MetConfig()
    turbulence: TurbulenceConfig = TurbulenceConfig()
    near_field: NearFieldConfig = NearFieldConfig()
    releases: list[Release] = Field(min_length=1)
    termination_h: float | None = Field(None, gt=0, description="all sources stop at this time [h after start]")
    output: OutputConfig = OutputConfig()
    receptors: ReceptorConfig = ReceptorConfig()
    shelter: ShelterConfig | None = None
    plans: list[PlanConfig] = Field(default_factory=list, description="response plans to compare (plumecast compare)")
    ensemble: EnsembleConfig | None = Field(None, description="ensemble members for plumecast compare")

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
        if self.duration_h is None and self.end is None:
            raise ValueError("give either duration_h or end")
        if self.duration_h is not None and self.end is not None:
            raise ValueError("give duration_h or end, not both")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) must be after start ({self.start.isoformat()})")
        if self.output.interval_min * 60.0 < self.time_step_s:
            raise ValueError(
                f"output.interval_min ({self.output.interval_min} min) is shorter than time_step_s ({self.time_step_s} s)"
            )
        return self

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

    def replace(self, **changes: Any) -> Scenario:
        """A validated copy with some top-level keys changed (this one is unchanged).

        >>> sc = load_scenario(demo_scenario_path()).replace(particles=1000)
        >>> sc.particles
        1000
        """
        data = self.model_dump(mode="python")
        data.update(changes)
        return scenario_from_dict(data, source=f"{self.name} (changed: {', '.join(changes)})")


# ---------------------------------------------------------------------------
# loading with file / key / line in every message


def _line_index(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path of a YAML document to its 1-based line number."""
    index: dict[tuple[str | int, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return index

    def walk(node: yaml.Node | None, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*path, str(k.value))
                index[key] = k.start_mark.line + 1
                walk(v, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                key = (*path, i)
                index[key] = v.start_mark.line + 1
                walk(v, key)

    walk(root, ())
    return index


def _format_errors(exc: ValidationError, source: str, lines: dict[tuple[str | int, ...], int]) -> str:
    msgs = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("point", "cities")))
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = None
        for n in range(len(loc), 0, -1):
            if loc[:n] in lines:
                line = lines[loc[:n]]
                break
        where = f"{source}" + (f", line {line}" if line else "")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling; see the scenario reference in docs/scenario.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        got = err.get("input")
        got_txt = "" if err["type"] in ("missing", "extra_forbidden") or isinstance(got, dict | list) else f" (got {got!r})"
        msgs.append(f"{where}: {key}: {msg}{got_txt}")
    return "invalid scenario:\n  " + "\n  ".join(msgs)


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Validate a mapping as a Scenario. Relative paths are taken from ``base_dir``."""
    return _validate(data, source, {}, base_dir)


def _existing_path(
    path: Path, key: tuple[str, str], expected: str, source: str, lines: dict[tuple[str | int, ...], int],
    base_dir: Path | None,
) -> Path:
    """``path`` made absolute (relative paths start at the scenario file's folder);
    a ScenarioError naming the key and line if it does not exist."""
    full = path if path.is_absolute() or base_dir is None else base_dir / path
    if not full.exists():
        line = lines.get(key)
        raise ScenarioError(
            f"{source}{f', line {line}' if line else ''}: {'.'.join(key)}: file not found: {full} "
            f"(expected {expected}; relative paths start at the scenario file's folder)"
        )
    return full.resolve()


def _validate(
    data: Any, source: str, lines: dict[tuple[str | int, ...], int], base_dir: Path | None
) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping of keys (name, start, releases, ...) at the top level")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, source, lines)) from None
    # resolve and check paths relative to the scenario file
    updates: dict[str, Any] = {}
    if sc.met.path is not None:
        path = _existing_path(sc.met.path, ("met", "path"), "an existing netCDF or GRIB file", source, lines, base_dir)
        updates["met"] = sc.met.model_copy(update={"path": path})
    if sc.receptors.csv is not None:
        path = _existing_path(sc.receptors.csv, ("receptors", "csv"), "a CSV with columns name, lat, lon, population",
                              source, lines, base_dir)
        updates["receptors"] = sc.receptors.model_copy(update={"csv": path})
    return sc.model_copy(update=updates) if updates else sc


def demo_scenario_path() -> Path:
    """Path of the shipped "poison sky" demo scenario."""
    from importlib import resources

    return Path(str(resources.files("plumecast") / "data" / "scenarios" / "poison_sky.yaml"))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML or JSON).

    Raises
    ------
    ScenarioError
        with the file, key path, line and the expected value for every problem found.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return _validate(data, str(path), _line_index(text), path.parent)
