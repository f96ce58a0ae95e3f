"""Scenario models of the countermeasures, for the ``plans:`` key.

Each model is frozen and refuses unknown keys (as the models of
:mod:`plumecast.scenario`); ``type`` tells them apart, so a plan holds a list of
:data:`MeasureConfig`. Times are hours after the scenario start. Example::

    plans:
      - name: stay inside, stop the source, burn it out
        measures:
          - {type: shelter, region: all, start_h: 6, end_h: 30, compliance: 0.8}
          - {type: evacuation, region: [Tokyo], order_h: 8, clearance_h: 6, compliance: 0.6}
          - {type: termination, at_h: 12}
          - {type: front, ignition_h: 14, points: [[35.7, 139.7]], speed_m_s: 300}

:func:`build_measure` turns a model into the runtime object
(:class:`Termination`, :class:`ShelterOrder`, :class:`Evacuation` or
:class:`FrontSpec`). This module must not import :mod:`plumecast.scenario`
(the scenario imports the plans, which import these models).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from plumecast.config_model import NoBoolForNumbers, typed_item
from plumecast.countermeasures.evacuation import DEFAULT_COHORTS, Evacuation
from plumecast.countermeasures.front import FrontSpec, agent_lfl_kg_m3
from plumecast.countermeasures.region import check_region
from plumecast.countermeasures.shelter_order import DEFAULT_VENTILATION_ACH, ShelterOrder
from plumecast.countermeasures.termination import Termination
from plumecast.errors import PlumecastError, ScenarioError
from plumecast.units import SECONDS_PER_HOUR, ppm_to_kg_m3

__all__ = [
    "EvacuationConfig",
    "FrontConfig",
    "MeasureConfig",
    "ShelterOrderConfig",
    "TerminationConfig",
    "build_measure",
    "build_measures",
]


class _Model(NoBoolForNumbers):
    # allow_inf_nan=False: .nan / .inf in a measure (a time, a compliance, a point) is
    # refused with the key, as in plumecast.scenario
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


RegionSpec = Literal["all"] | tuple[float, float, float, float] | list[str]


def _region(v: Any) -> Any:
    try:
        out = check_region(v)
    except PlumecastError as exc:
        raise ValueError(str(exc)) from None
    return list(out) if isinstance(out, tuple) and out and isinstance(out[0], str) else out


class TerminationConfig(_Model):
    """Stop (``fraction: 1``) or cut the emissions from ``at_h``."""

    type: Literal["termination"]
    at_h: float = Field(ge=0, description="time of the cut, hours after start [h]")
    fraction: float = Field(1.0, gt=0, le=1, description="fraction of the emission removed (1: stop) [-]")
    releases: list[str | int] | None = Field(
        None, min_length=1, description="release names or indices in `releases` (default: all)"
    )


class ShelterOrderConfig(_Model):
    """Stay inside from ``start_h``; ventilate from ``end_h``."""

    type: Literal["shelter"]
    region: RegionSpec = Field("all", description="all, a list of city names, or [lon_min, lat_min, lon_max, lat_max]")
    start_h: float = Field(ge=0, description="people go inside, hours after start [h]")
    end_h: float | None = Field(None, ge=0, description="people ventilate or leave (default: never) [h]")
    compliance: float = Field(1.0, ge=0, le=1, description="fraction of people who shelter [-]")
    air_changes_per_hour: float = Field(0.5, gt=0, le=50, description="building air exchange while sheltering [h-1]")
    ventilation_air_changes_per_hour: float = Field(
        DEFAULT_VENTILATION_ACH, gt=0, le=100, description="air exchange after the end (windows open) [h-1]"
    )
    pre_air_changes_per_hour: float | None = Field(
        None, gt=0, le=100, description="building air exchange before the order (default: the shelter rate) [h-1]"
    )

    @field_validator("region", mode="before")
    @classmethod
    def _check_region(cls, v: Any) -> Any:
        return _region(v)

    @model_validator(mode="after")
    def _order(self) -> ShelterOrderConfig:
        if self.end_h is not None and self.end_h < self.start_h:
            raise ValueError(f"end_h ({self.end_h}) is before start_h ({self.start_h})")
        return self


class EvacuationConfig(_Model):
    """Leave the region from ``order_h`` over ``clearance_h`` (or at ``rate_per_h``)."""

    type: Literal["evacuation"]
    region: RegionSpec = Field("all", description="all, a list of city names, or [lon_min, lat_min, lon_max, lat_max]")
    order_h: float = Field(ge=0, description="the order is given, hours after start [h]")
    clearance_h: float | None = Field(None, gt=0, description="time to clear the region [h]")
    rate_per_h: float | None = Field(None, gt=0, description="fraction of the complying people leaving per hour [h-1]")
    compliance: float = Field(1.0, ge=0, le=1, description="fraction of people who leave [-]")
    cohorts: int = Field(DEFAULT_COHORTS, ge=1, le=1000, description="departure groups the clearance is split into")

    @field_validator("region", mode="before")
    @classmethod
    def _check_region(cls, v: Any) -> Any:
        return _region(v)

    @model_validator(mode="after")
    def _one_of(self) -> EvacuationConfig:
        if (self.clearance_h is None) == (self.rate_per_h is None):
            raise ValueError("give clearance_h (hours to clear the region) or rate_per_h, exactly one of them")
        return self

    @property
    def clearance(self) -> float:
        """Clearance time. [h]"""
        return float(self.clearance_h if self.clearance_h is not None else 1.0 / float(self.rate_per_h or 1.0))


class FrontConfig(_Model):
    """A neutralisation front lit at ``ignition_h`` at ``points``."""

    type: Literal["front"]
    ignition_h: float = Field(ge=0, description="ignition, hours after start [h]")
    points: list[tuple[float, float]] = Field(min_length=1, description="ignition points [[lat, lon], ...] [deg]")
    speed_m_s: float = Field(gt=0, le=1.0e5, description="front speed [m s-1]")
    threshold_kg_m3: float | None = Field(None, gt=0, description="lowest concentration that burns [kg m-3]")
    threshold_ppm: float | None = Field(None, gt=0, description="the same in ppm (v/v) [ppm]")

    @field_validator("points")
    @classmethod
    def _points(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for lat, lon in v:
            if not (-90 <= lat <= 90 and -180 <= lon <= 360):
                raise ValueError(f"ignition point [{lat}, {lon}]: expected [lat, lon] with -90<=lat<=90, -180<=lon<=360")
        return v

    @model_validator(mode="after")
    def _threshold(self) -> FrontConfig:
        if self.threshold_kg_m3 is not None and self.threshold_ppm is not None:
            raise ValueError("give threshold_kg_m3 or threshold_ppm, not both (default: the agent's LFL)")
        return self

    def threshold(self, agent: Any = None) -> float:
        """The threshold in kg m-3: the one given, else the agent's LFL. [kg m-3]"""
        if self.threshold_kg_m3 is not None:
            return float(self.threshold_kg_m3)
        if agent is None:
            raise ScenarioError("front: the threshold needs the agent (its LFL or molecular weight); none was given")
        if self.threshold_ppm is not None:
            return float(ppm_to_kg_m3(self.threshold_ppm, float(agent.molecular_weight_g_mol)))
        return agent_lfl_kg_m3(agent)


MeasureConfig = Annotated[
    TerminationConfig | ShelterOrderConfig | EvacuationConfig | FrontConfig, Field(discriminator="type"),
    typed_item("measure", TerminationConfig, ShelterOrderConfig, EvacuationConfig, FrontConfig,
               reference="docs/plans.md"),
]

Measure = Termination | ShelterOrder | Evacuation | FrontSpec


def build_measure(cfg: Any, agent: Any = None) -> Measure:
    """The runtime object for one countermeasure model.

    ``agent`` (a :class:`plumecast.agents.Agent`) is needed only for a front
    without ``threshold_kg_m3``.
    """
    if isinstance(cfg, TerminationConfig):
        return Termination(cfg.at_h, cfg.fraction, None if cfg.releases is None else tuple(cfg.releases))
    if isinstance(cfg, ShelterOrderConfig):
        return ShelterOrder(
            region=cfg.region if isinstance(cfg.region, str | tuple) else tuple(cfg.region),
            start_h=cfg.start_h, end_h=cfg.end_h, compliance=cfg.compliance,
            air_changes_per_hour=cfg.air_changes_per_hour,
            ventilation_air_changes_per_hour=cfg.ventilation_air_changes_per_hour,
            pre_air_changes_per_hour=cfg.pre_air_changes_per_hour,
        )
    if isinstance(cfg, EvacuationConfig):
        return Evacuation(
            region=cfg.region if isinstance(cfg.region, str | tuple) else tuple(cfg.region),
            order_h=cfg.order_h, clearance_h=cfg.clearance, compliance=cfg.compliance, cohorts=cfg.cohorts,
        )
    if isinstance(cfg, FrontConfig):
        return FrontSpec(tuple(cfg.points), cfg.ignition_h * SECONDS_PER_HOUR, cfg.speed_m_s, cfg.threshold(agent))
    raise ScenarioError(f"countermeasure {cfg!r}: expected a termination, shelter, evacuation or front model")


def build_measures(cfgs: Any, agent: Any = None) -> list[Measure]:
    """:func:`build_measure` for each model of a plan, in order."""
    return [build_measure(c, agent) for c in cfgs]
