"""How ``plumecast zones`` reads a scenario: one point release, one set of weather
observations and the levels of concern (:class:`LocalScenario`).

Files are in the one scenario language of every mode (``docs/scenario.md``,
:mod:`plumecast.scenario`): zones reads ``releases`` (one point release),
``local_weather``, ``zones``, ``receptors``, ``shelter``, ``agent``, and lists the
keys it ignored (start, met, output, plans, ...). The old local format (``source``,
``release``, ``meteorology``, ...) is still read as before, with a deprecation note.
"""


from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, model_validator

from plumecast.agents import AgentSpec
from plumecast.config_model import NoBoolForNumbers, StrictModel
from plumecast.errors import ScenarioError
from plumecast.nearfield.spec import (
    AUTO_STABILITY_ORDER,
    LevelSpec,
    LocalWeather,
    MeteorologySpec,
    PoolSpec,
    StackSpec,
    TankSpec,
    ZonesConfig,
)
from plumecast.scenario import (
    ZONES_KEYS,
    PointRelease,
    ReceptorConfig,
    Release,
    Scenario,
    ShelterConfig,
    TurbulenceConfig,
    ignored_line,
    readers,
)
from plumecast.scenario_yaml import (
    DATE_EXPECTED,
    date_problem,
    existing_path,
    format_errors,
    parse_yaml,
    read_scenario_text,
    shown,
    top_level_got,
)
from plumecast.scenario_yaml import where as _where
from plumecast.shelter import Shelter

__all__ = [
    "AUTO_STABILITY_ORDER", "LOCAL_WEATHER_NEEDS", "OLD_FORMAT_KEYS", "LevelSpec", "LocalScenario", "LocalWeather",
    "MeteorologySpec", "PointSpec", "PopulationSpec", "PoolSpec", "ReceptorSpec", "ReleaseSpec", "SourceSpec",
    "StackSpec", "TankSpec", "ZonesConfig", "ZonesInput", "load_local_scenario", "read_zones_scenario", "zones_from_dict",
]

# --------------------------------------------------------------------------- scenario

class SourceSpec(NoBoolForNumbers):
    """Where the release is. ``lat``/``lon`` in degrees, ``height_m`` above ground [m]."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    lat: float = Field(ge=-89.0, le=89.0)
    lon: float = Field(ge=-180.0, le=180.0)
    height_m: float = Field(default=0.0, ge=0.0)


class ReleaseSpec(StrictModel):
    """How much is released: ``rate_kg_s`` [kg s-1] or ``amount_kg`` [kg] with
    ``duration_s`` [s], or a ``tank`` (the source model gives the rate).

    ``duration_s: 0`` with ``amount_kg`` is an instantaneous (puff) release.
    ``temperature_c``: temperature of the released vapour (for its density; default:
    the agent's boiling point when that is below the air temperature, i.e. a
    liquefied gas flashing to 1 atm, else the air temperature). ``dense_gas``:
    ``auto`` (Britter-McQuaid criterion decides) or ``off`` (passive Gaussian).
    ``stack``: the stack the gas leaves from (its height is the source's
    ``height_m``): the passive plume is raised by Briggs's plume rise
    (:mod:`plumecast.nearfield.plume_rise`) and the dense-gas criterion is not applied.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    rate_kg_s: float | None = Field(default=None, gt=0)
    amount_kg: float | None = Field(default=None, gt=0)
    duration_s: float = Field(default=600.0, ge=0)
    tank: TankSpec | None = None
    temperature_c: float | None = Field(default=None, ge=-273.15, le=2000)
    dense_gas: Literal["auto", "off"] = "auto"
    stack: StackSpec | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ReleaseSpec:
        if sum(v is not None for v in (self.rate_kg_s, self.amount_kg, self.tank)) != 1:
            raise ValueError("give exactly one of rate_kg_s, amount_kg or tank")
        if self.rate_kg_s is not None and self.duration_s <= 0:
            raise ValueError("a release rate needs duration_s > 0")
        if self.stack is not None and self.tank is None and self.duration_s <= 0:
            raise ValueError("stack: a stack emits a continuous plume, but duration_s: 0 is an instantaneous "
                             "release; expected duration_s > 0, or no stack")
        return self

    @property
    def mass_kg(self) -> float:
        """Total mass released (rate or amount; a tank's comes from its source model). [kg]"""
        if self.amount_kg is not None:
            return self.amount_kg
        if self.rate_kg_s is None:
            raise ValueError("a tank release has no fixed mass: use plumecast.nearfield.source_models.tank_release_profile")
        return self.rate_kg_s * self.duration_s


class ReceptorSpec(NoBoolForNumbers):
    """Who may be inside: GeoNames cities near the source and/or a receptor CSV."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    cities: bool = True
    min_population: float = Field(default=0.0, ge=0)
    csv: Path | None = None


class PopulationSpec(NoBoolForNumbers):
    """A population raster of persons per cell on an EPSG:4326 lon/lat grid
    (WorldPop, GHS-POP, LandScan; GeoTIFF needs ``plumecast[raster]``, or netCDF).

    ``raster`` is relative to the scenario file; ``variable`` names the netCDF
    variable when the file holds several.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    raster: Path
    variable: str | None = None


class PointSpec(NoBoolForNumbers):
    """A named place for "threat at a point": outdoor and indoor concentration over time there."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1)
    lat: float = Field(ge=-89.0, le=89.0)
    lon: float = Field(ge=-180.0, le=180.0)
    air_changes_per_hour: float | None = Field(default=None, gt=0, description="default: the shelter's, else 0.5 h-1")
    population: float | None = Field(default=None, ge=0, description="people there (counted among the receptors "
                                     "inside the zones); None: unknown")


class LocalScenario(NoBoolForNumbers):
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
    # the scenario language's turbulence.mixing_height_m: the lid where meteorology (local_weather) gives no
    # mixing_height_m (plumecast.nearfield.lid; None: not given, its default); a dumped LocalScenario keeps it
    turbulence_mixing_height_m: float | None = Field(default=None, ge=10, le=10000)

    @model_validator(mode="after")
    def _no_fixed_duration(self) -> LocalScenario:
        if self.exposure_duration_s is not None:
            raise ValueError(
                "exposure_duration_s is no longer used: zones and receptors read each AEGL at the "
                "exposure elapsed since the concentration first reached the onset floor "
                "(docs/local_scale.md); remove the key"
            )
        return self


#: Top-level keys of the old local format (read by ``plumecast zones`` only, deprecated).
OLD_FORMAT_KEYS: tuple[str, ...] = ("source", "release", "meteorology")

#: What ``plumecast zones`` needs from the local weather, in words (for messages).
LOCAL_WEATHER_NEEDS = (
    "local_weather with wind_speed_m_s, wind_from_deg and the stability: stability (A-F), or obukhov_length_m, "
    "or daytime with insolation / cloud_cover_octas (e.g. local_weather: {wind_speed_m_s: 3, wind_from_deg: 270, "
    "stability: D})"
)


class _ZonesSections(NoBoolForNumbers):
    """The sections of the scenario language that ``plumecast zones`` reads (the
    same models as :class:`plumecast.scenario.Scenario`; run's keys are left out
    before validation and reported as ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str | None = None
    description: str = ""
    agent: AgentSpec = Field("chlorine", validate_default=True)
    releases: list[Release] = Field(min_length=1)
    local_weather: LocalWeather
    zones: ZonesConfig = Field(default_factory=ZonesConfig)
    receptors: ReceptorConfig = Field(default_factory=ReceptorConfig)
    shelter: ShelterConfig | None = None
    reference: dict[str, Any] | None = None
    turbulence: TurbulenceConfig | None = None  # mixing_height_m alone is read (the lid, plumecast.nearfield.lid)


@dataclass(frozen=True)
class ZonesInput:
    """A scenario file as ``plumecast zones`` reads it.

    ``scenario``: the validated local case; ``ignored``: each key of the file
    zones did not read, with the modes that read it; ``old_format``: the file uses
    the deprecated local keys (source, release, meteorology); ``release_index``:
    which of ``releases`` was modelled (None for the old format); ``derived``: a
    line for each value zones took from another section (``local_weather.daytime``
    from ``start`` when only cloud cover or insolation is given, the default agent);
    ``source`` and ``lines``: the file and the line of each key, for :meth:`locate`.
    """

    scenario: LocalScenario
    ignored: dict[str, str] = field(default_factory=dict)
    old_format: bool = False
    release_index: int | None = None
    derived: list[str] = field(default_factory=list)
    source: str = "<scenario>"
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)
    #: the modelled release's start (``start`` + its ``start_h``) and the forecast's issue time
    #: (``issued_at``, else None), UTC, for the receptors' countdowns (:func:`zones_clock`)
    release_start: np.datetime64 | None = None
    issued: np.datetime64 | None = None
    #: the file gives no ``issued_at``: :attr:`issued` is ``start``, as run and compare take it (said beside
    #: the receptors' countdowns, the only figures it changes; it had been a note even where zones assessed none)
    issued_from_start: bool = False

    def locate(self, message: str) -> str:
        """A message of the zones model about the release (``release.tank.temperature_c:
        ...``, ``releases.amount_kg: ...``, raised once the source model or the dense-gas
        model has run) started with the file, the line and the key path as the file spells
        it (``releases.0.tank.temperature_c`` in the scenario language); any other
        message unchanged (it names its own file, a receptor CSV or a raster)."""
        key, sep, rest = message.partition(": ")
        parts = key.split(".")
        if sep and parts == ["levels"]:  # the default levels, which the file does not spell
            return f"{self.source}: zones.levels (not given: AEGL-1, 2 and 3): {rest}"
        if sep and len(parts) == 2 and parts[0] == "levels" and parts[1].isdigit():
            # a level the agent's table cannot give (levels.1.aegl): under zones in the scenario language
            # (the message had named neither the file nor zones.; zones audit)
            at: tuple[str | int, ...] = ("levels", int(parts[1])) if self.old_format else ("zones", "levels",
                                                                                          int(parts[1]))
            return f"{_where(self.source, self.lines, *at)}: {rest}"
        if sep and len(parts) == 3 and parts[0] == "levels" and parts[1].isdigit():
            at = (("levels",) if self.old_format else ("zones", "levels")) + (int(parts[1]), parts[2])
            return f"{_where(self.source, self.lines, *at)}: {rest}"
        if not sep or parts[0] not in ("release", "releases") or not all(p.isidentifier() for p in parts):
            return message
        head: tuple[str | int, ...] = ("release",) if self.release_index is None else ("releases", self.release_index)
        rest = rest.replace("releases.N.", ".".join(str(k) for k in head) + ".")  # source_models' NO_TANK_KEY
        return f"{_where(self.source, self.lines, *head, *parts[1:])}: {rest}"

    def notes(self) -> list[str]:
        """Lines to show the user: the deprecation note and what zones ignored."""
        out = []
        if self.old_format:
            out.append(
                "note: this file uses the old local format (source, release, meteorology); zones still reads it, "
                "but the scenario language describes the release under releases and the weather under "
                "local_weather, so that one file drives zones, run and compare (docs/scenario.md)"
            )
        line = ignored_line(self.ignored, "zones")
        if line is not None:
            out.append(line)
        return out + self.derived


def load_local_scenario(path: str | Path, release: str | None = None) -> LocalScenario:
    """Read a scenario file for ``plumecast zones`` (see :func:`read_zones_scenario`)."""
    return read_zones_scenario(path, release).scenario


def read_zones_scenario(path: str | Path, release: str | None = None) -> ZonesInput:
    """Read and validate a scenario file for ``plumecast zones``.

    The file is in the scenario language (``docs/scenario.md``: releases,
    local_weather, zones, receptors, shelter; run's keys are ignored and listed),
    or in the old local format (source, release, meteorology), which is read as
    before with a deprecation note. ``release``: the name or index of the point
    release to model when ``releases`` has several.

    Raises
    ------
    ScenarioError
        The file is missing, not YAML, lacks what zones needs, or a key is wrong
        (message names the file, the key path, the value and what was expected).
    """
    path = Path(path)
    data, lines = parse_yaml(read_scenario_text(path), str(path))
    return zones_from_dict(data, str(path), lines, path.parent, release)


def zones_from_dict(
    data: Any, source: str = "<scenario>", lines: dict[tuple[str | int, ...], int] | None = None,
    base_dir: Path | None = None, release: str | None = None,
) -> ZonesInput:
    """Validate a mapping (either format) for ``plumecast zones``; relative paths
    start at ``base_dir``. See :func:`read_zones_scenario`."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping of keys (name, agent, releases, local_weather, ...) at "
                            f"the top level, got {top_level_got(data)}")
    old = [k for k in OLD_FORMAT_KEYS if k in data]
    if old and "releases" in data:
        line = lines.get((old[0],))
        raise ScenarioError(
            f"{source}{f', line {line}' if line else ''}: {', '.join(old)} (the old local format) and releases "
            "describe the release twice; expected it once, under releases, with the weather under local_weather "
            "(docs/scenario.md)"
        )
    if old:
        if release is not None:
            raise ScenarioError(f"{source}: --release {release!r} picks one of releases, but this file is in the old "
                                "local format (one release, under release); leave --release out")
        return ZonesInput(_old_format(data, source, lines, base_dir), old_format=True, source=source, lines=lines)
    return _from_language(data, source, lines, base_dir, release)


def _old_format(data: dict[str, Any], source: str, lines: dict[tuple[str | int, ...], int],
                base_dir: Path | None) -> LocalScenario:
    """The deprecated local format (source, release, meteorology), read as before."""
    try:
        scenario = LocalScenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, source, lines, reference="docs/local_scale.md", data=data,
                                          model=LocalScenario)) from None
    if base_dir is not None and scenario.population is not None and not scenario.population.raster.is_absolute():
        pop = scenario.population.model_copy(update={"raster": base_dir / scenario.population.raster})
        scenario = scenario.model_copy(update={"population": pop})
    if base_dir is not None and scenario.receptors.csv is not None and not scenario.receptors.csv.is_absolute():
        rec = scenario.receptors.model_copy(update={"csv": base_dir / scenario.receptors.csv})
        scenario = scenario.model_copy(update={"receptors": rec})
    return scenario


def _pick_release(data: dict[str, Any], source: str, release: str | None) -> int | None:
    """Index of the point release zones models (from the raw ``releases``), or None
    when it cannot tell yet (validation then names the problem)."""
    rels = data.get("releases")
    if not isinstance(rels, list):
        return None
    points = [i for i, r in enumerate(rels) if isinstance(r, dict) and r.get("type") == "point"]
    names = {str(rels[i].get("name")): i for i in points if rels[i].get("name") is not None}
    if release is not None:
        if release in names:
            return names[release]
        if release.isdigit() and int(release) in points:
            return int(release)
        listed = ", ".join(f"{i} ({rels[i].get('name')})" if rels[i].get("name") else str(i) for i in points)
        raise ScenarioError(f"{source}: --release {release!r} is not a point release of releases; expected one of "
                            f"{listed or '(none)'} (a name or an index)")
    if len(points) > 1:
        listed = ", ".join(f"{i} ({rels[i].get('name')})" if rels[i].get("name") else str(i) for i in points)
        raise ScenarioError(f"{source}: releases has {len(points)} point releases ({listed}); plumecast zones "
                            "models one: choose it with --release NAME or --release INDEX")
    return points[0] if points else None


def _from_language(data: dict[str, Any], source: str, lines: dict[tuple[str | int, ...], int],
                   base_dir: Path | None, release: str | None) -> ZonesInput:
    """The scenario language read for zones: run's keys dropped and listed, the
    chosen point release and the local weather turned into a :class:`LocalScenario`."""
    language = set(Scenario.model_fields)
    ignored = {k: readers(k) for k in data if k in language and k not in ZONES_KEYS}
    index = _pick_release(data, source, release)
    needs = []
    if "local_weather" not in data:
        needs.append(LOCAL_WEATHER_NEEDS)
    rels = data.get("releases")
    # an item that is no release (releases: [1.5]) is named by the validation below, not taken for "no point release"
    if rels is None or (isinstance(rels, list) and rels and index is None and all(isinstance(r, dict) for r in rels)):
        needs.append(("a point release under releases" if rels is None else "a point release in releases (it has "
                      "none)") + " (type: point, lat, lon, height_m, and rate_kg_s with duration_s or stop_h, "
                     "amount_kg with duration_s, or a tank)")
    elif index is not None:
        raw = data["releases"][index]
        if raw.get("tank") is None and raw.get("duration_s") is None and raw.get("stop_h") is None:
            # a misspelt duration (duration_min) is the likely cause: name the keys no release has
            unknown = [(k, lines.get(("releases", index, k))) for k in raw
                       if isinstance(k, str) and k not in PointRelease.model_fields]
            needs.append(f"how long releases.{index} lasts: duration_s [s] or stop_h [h after start] (run takes a "
                         "release without them as lasting the whole run; zones needs the duration)"
                         + "".join(f"; releases.{index}.{k}{f' (line {ln})' if ln else ''}: unknown key (check its "
                                   "spelling)" for k, ln in unknown))
    if needs:
        forecast = [k for k in ("start", "met") if k in data]
        raise ScenarioError(
            f"{source}: plumecast zones needs " + "; and ".join(needs) + " (docs/scenario.md)"
            + (f"; as it is, the file (with {' and '.join(forecast)}) is a forecast for `plumecast run {source}`"
               if forecast else "")
        )
    derived = []
    if "agent" not in data:
        default = _ZonesSections.model_fields["agent"].default
        derived.append(f"zones: no agent given: {default} is assumed (the default); give agent: NAME (e.g. agent: "
                       "ammonia) or an inline agent (docs/scenario.md)")
    lw = data.get("local_weather")
    if (isinstance(lw, dict) and lw.get("daytime") is None and lw.get("stability") is None
            and lw.get("obukhov_length_m") is None and index is not None and "start" in data
            and (lw.get("cloud_cover_octas") is not None or lw.get("insolation") is not None)):
        day = _daytime_at_release(data, index)
        if day is not None:
            data = {**data, "local_weather": {**lw, "daytime": day[0]}}
            derived.append(day[1])
            ignored.pop("start", None)  # read after all
    try:
        sec = _ZonesSections.model_validate({k: v for k, v in data.items() if k in ZONES_KEYS or k not in language})
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, source, lines, data=data, model=_ZonesSections)) from None
    assert index is not None
    rel = sec.releases[index]
    assert isinstance(rel, PointRelease)

    def where(*key: str | int) -> str:
        return _where(source, lines, *key)

    for j in range(len(sec.releases)):
        if j != index:
            ignored[f"releases.{j}"] = "run and compare"
    if rel.profile is not None:
        ignored[f"releases.{index}.profile"] = "run and compare"
    if abs(rel.lat) > 89.0:
        raise ScenarioError(f"{where('releases', index, 'lat')}: {rel.lat:g}; expected |lat| <= 89 (zones work on "
                            "a local plane that the pole breaks)")
    duration = rel.duration_known_s
    rc = sec.receptors
    cities = rc.cities
    if cities is not None:
        for key in ("largest", "names", "countries", "bbox"):
            if getattr(cities, key) is not None:
                ignored[f"receptors.cities.{key}"] = "run and compare"
    points = []
    for k, pt in enumerate(rc.points):
        if abs(pt.lat) > 89.0:
            raise ScenarioError(f"{where('receptors', 'points', k, 'lat')}: {pt.lat:g}; expected |lat| <= 89")
        if pt.radius_km is not None:
            ignored[f"receptors.points.{k}.radius_km"] = "run and compare"
        points.append(PointSpec(name=pt.name, lat=pt.lat, lon=_lon180(pt.lon),
                                air_changes_per_hour=pt.air_changes_per_hour, population=pt.population))
    csv = None if rc.csv is None else existing_path(
        rc.csv, ("receptors", "csv"), "a CSV with columns name, lat, lon, population", source, lines, base_dir)
    population = None if rc.population_raster is None else PopulationSpec(raster=existing_path(
        rc.population_raster, ("receptors", "population_raster"), "a population raster (GeoTIFF or netCDF)",
        source, lines, base_dir))
    shelter = None
    if sec.shelter is not None:
        s = sec.shelter
        t0 = s.start_h - rel.start_h
        shelter = Shelter(
            air_changes_per_hour=s.air_changes_per_hour, compliance_fraction=s.compliance_fraction,
            start=t0 * 3600.0 if t0 > 0 else None,
            end=None if s.end_h is None else max(0.0, (s.end_h - rel.start_h) * 3600.0),
            ventilation_air_changes_per_hour=s.ventilation_air_changes_per_hour,
        )
    lw = sec.local_weather
    if lw is not None and lw.stability is not None:
        from plumecast.nearfield.stability import turner_wind_limit_m_s

        limit = turner_wind_limit_m_s(lw.stability)
        if lw.wind_speed_m_s >= limit:  # as run warns (run_near_field.class_wind_lines); zones had said nothing
            stable = lw.stability in ("E", "F")
            derived.append(
                f"warning: local_weather.stability {lw.stability} does not go with local_weather.wind_speed_m_s "
                f"{lw.wind_speed_m_s:g} m/s: Turner's (1970) key (plumecast.nearfield.stability) has class "
                f"{lw.stability} only below {limit:g} m/s; "
                + ("a stable plume in a strong wind is diluted far too little: the zones are too large"
                   if stable else "an unstable plume in a strong wind is diluted far too much: the zones are too "
                   "small") + ". Give the class of the observed weather, or let zones derive it (cloud cover, "
                "daytime)")
    turb = data.get("turbulence")
    lid_given = isinstance(turb, dict) and "mixing_height_m" in turb
    if isinstance(turb, dict):  # zones reads its mixing_height_m alone (the lid where local_weather gives none)
        ignored.update({f"turbulence.{k}": "run and compare" for k in turb if k != "mixing_height_m"})
    zc = sec.zones
    local = LocalScenario(
        name=sec.name if sec.name is not None else "local release",
        description=sec.description,
        source=SourceSpec(lat=rel.lat, lon=_lon180(rel.lon), height_m=rel.height_m),
        release=release_spec(rel, duration),
        agent=sec.agent,
        meteorology=sec.local_weather,
        # the default levels are not the user's: an AEGL the agent lacks is then left out, not refused
        **({"levels": list(zc.levels)} if "levels" in zc.model_fields_set else {}),
        receptor_height_m=zc.receptor_height_m,
        flammable_levels=zc.flammable_levels,
        receptors=ReceptorSpec(cities=cities is not None,
                               min_population=cities.min_population if cities is not None else 0.0, csv=csv),
        population=population,
        shelter=shelter,
        points=points,
        reference=dict(sec.reference or {}),
        turbulence_mixing_height_m=sec.turbulence.mixing_height_m if lid_given and sec.turbulence else None,
    )
    release_start, issued = zones_clock(data, index, derived, start_said="start" not in ignored, source=source,
                                        lines=lines)
    issued_from_start = issued is not None and data.get("issued_at") is None
    for key, used in (("start", release_start), ("issued_at", issued)):
        if used is not None:
            ignored.pop(key, None)  # read for the countdowns
    return ZonesInput(local, ignored=ignored, release_index=index, derived=derived, source=source, lines=lines,
                      release_start=release_start, issued=issued, issued_from_start=issued_from_start)


def zones_clock(data: dict[str, Any], index: int | None, derived: list[str], start_said: bool = False,
                source: str = "<scenario>", lines: dict[tuple[str | int, ...], int] | None = None,
                ) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    """The modelled release's start (``start`` + its ``start_h``) and ``issued_at``, UTC, for the
    receptors' countdowns (zones had read neither and gave no countdown; zones audit); None where
    the file does not give them, except that without ``issued_at`` the forecast is issued at ``start``,
    as run's and compare's are (the CLI says so beside the countdowns). A time without a zone is read as UTC and ``derived`` says so
    (for ``start`` not where ``start_said``: the daytime line taken from it says so already).
    A value that is no date-time is refused naming ``source``, its line (``lines``) and the key
    (``issued_at: 5`` had been read as 5 s after 1970, ``issued_at: [1]`` left out unsaid)."""
    import datetime as _dt

    from pydantic import TypeAdapter

    def utc(key: str) -> np.datetime64 | None:
        raw = data.get(key)
        if raw is None:
            return None
        problem = date_problem(raw)  # a number had been read as seconds since 1970, and a list left out unsaid
        try:
            t = TypeAdapter(_dt.datetime).validate_python(raw) if problem is None else None
        except ValidationError:
            t = None
        if t is None:
            problem = problem or f"{shown(raw)} is not a date-time as written; {DATE_EXPECTED}"
            raise ScenarioError(f"{_where(source, lines or {}, key)}: {problem} (zones read it for the receptors' "
                                "countdowns)")
        from plumecast.scenario_modes import time_written

        if time_written(raw) == "date":  # a date alone had been read as midnight without a word (audit 43, #3)
            derived.append(f"zones: {key} {raw} has no time of day and is read as 00:00 UTC for the countdowns; "
                           f"write the time and its zone (e.g. {raw}T06:00:00Z)")
        elif t.tzinfo is None:
            if not (key == "start" and start_said):
                derived.append(f"zones: {key} {raw} has no time zone and is read as UTC for the countdowns; write "
                               "it with Z or an offset (e.g. +01:00)")
        else:
            t = t.astimezone(_dt.UTC).replace(tzinfo=None)
        return np.datetime64(t, "s")

    start, issued = utc("start"), utc("issued_at")
    if issued is None and start is not None:
        # as run and compare take it (Scenario.issued64): the scenario's start, so that the receptors have their
        # time left as well as the clock time (DESIGN.md, "Honest numbers"; zones had given clock times alone
        # without issued_at: first-hour audit, session 40, item B6)
        issued = start
    if start is not None and index is not None:
        try:
            start_h = float(data["releases"][index].get("start_h", 0.0) or 0.0)
        except (TypeError, ValueError, AttributeError):
            start_h = 0.0
        start = start + np.timedelta64(int(round(start_h * 3600.0)), "s")
    return start, issued


def release_spec(rel: PointRelease, duration_s: float | None) -> ReleaseSpec:
    """A point release of the scenario language as the zones' :class:`ReleaseSpec` (its duration
    ``duration_s``, None: the zones' default); ``plumecast run`` asks the zones' dense-gas
    criterion of its point releases with it (:mod:`plumecast.run_near_field`)."""
    return ReleaseSpec(
        rate_kg_s=rel.rate_kg_s, amount_kg=rel.amount_kg, tank=rel.tank,
        duration_s=duration_s if duration_s is not None else ReleaseSpec.model_fields["duration_s"].default,
        temperature_c=rel.temperature_c, dense_gas=rel.dense_gas, stack=rel.stack,
    )


def _daytime_at_release(data: dict[str, Any], index: int) -> tuple[bool, str] | None:
    """Turner's (1970) day or night at the release, from ``start`` (+ the release's
    ``start_h``) and its position, and a line saying so; None when the raw values
    cannot tell (validation then names the problem).

    Day: from one hour after sunrise to one hour before sunset, with the sun's
    position after Spencer (1971) (:func:`plumecast.validation.schemes.turner_day_and_insolation`).
    """
    import datetime as _dt

    from pydantic import TypeAdapter

    from plumecast.validation.schemes import solar_elevation_deg, turner_day_and_insolation

    rel = data["releases"][index]
    try:
        t = TypeAdapter(_dt.datetime).validate_python(data["start"])
        lat, lon = float(rel["lat"]), float(rel["lon"])
        start_h = float(rel.get("start_h", 0.0) or 0.0)
    except (ValidationError, KeyError, TypeError, ValueError):
        return None
    naive = t.tzinfo is None
    if not naive:
        t = t.astimezone(_dt.UTC).replace(tzinfo=None)
    try:
        t = t + _dt.timedelta(hours=start_h)
    except OverflowError:
        return None
    hours = t.hour + t.minute / 60.0 + t.second / 3600.0
    day, _ = turner_day_and_insolation(t.date(), hours, lat, _lon180(lon), 0.0)
    el = solar_elevation_deg(t.date(), hours, lat, _lon180(lon), 0.0)
    # a start without its offset is read as UTC: 22:30 in Osaka read so is 07:30 there, day instead of night,
    # class B instead of F and zones 5-40 times smaller (zones audit); run says so in a note, and so does zones
    zone = (f"; start {data['start']} has no time zone and is read as UTC: if it is local time, write it with its "
            "offset (e.g. +09:00) or give local_weather.daytime, since day or night sets the stability class and "
            "the zones") if naive else ""
    return day, (f"zones: local_weather.daytime taken as {str(day).lower()} from start ({t.isoformat()} UTC at the "
                 f"release: sun {el:.0f}° above the horizon; Turner 1970: day from 1 h after sunrise to 1 h before "
                 f"sunset){zone}")


def _lon180(lon: float) -> float:
    """Longitude in [-180, 180] (unchanged when it already is, so no rounding). [deg]"""
    return lon if -180.0 <= lon <= 180.0 else ((lon + 180.0) % 360.0) - 180.0
