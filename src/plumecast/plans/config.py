"""The ``plans:`` key of a scenario: named sets of countermeasures with times.

This module must not import :mod:`plumecast.scenario` (the scenario model imports
it). The countermeasure models come from :mod:`plumecast.countermeasures.config`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from plumecast.countermeasures.config import MeasureConfig

BASELINE_NAME = "do nothing"


class PlanConfig(BaseModel):
    """A named response plan: a set of countermeasures, each with its own time."""

    # allow_inf_nan=False: .nan / .inf (in ignition_delays_h) is refused with the key
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    measures: list[MeasureConfig] = Field(default_factory=list)
    ignition_delays_h: list[float] = Field(
        default_factory=list,
        description="cost of delay for a plan with a front: ignition times to rerun the plan with [h after start]",
    )

    @field_validator("ignition_delays_h")
    @classmethod
    def _delays(cls, v: list[float]) -> list[float]:
        if any(h < 0 for h in v):
            raise ValueError(f"ignition_delays_h must be >= 0 hours after start, got {v}")
        return sorted(set(v))


def with_baseline(plans: list[PlanConfig]) -> list[PlanConfig]:
    """The plans with the do-nothing baseline first (added when no plan is empty).

    A plan without measures *is* the baseline and is moved to the front; two plans
    with the same name are refused.
    """
    names = [p.name for p in plans]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        from plumecast.errors import ScenarioError

        raise ScenarioError(f"plans: the plan name(s) {dup} are used twice; expected unique names")
    empty = [p for p in plans if not p.measures]
    if empty:
        base = empty[0]
        return [base] + [p for p in plans if p is not base]
    if BASELINE_NAME in names:
        from plumecast.errors import ScenarioError

        raise ScenarioError(f"plans: a plan named {BASELINE_NAME!r} must have no measures (it is the baseline)")
    return [PlanConfig(name=BASELINE_NAME, description="no countermeasures")] + list(plans)


def measure_kind(measure: Any) -> str:
    """'termination', 'shelter', 'evacuation' or 'front' for a measure model."""
    kind = getattr(measure, "type", None) or type(measure).__name__.lower()
    return str(kind)
