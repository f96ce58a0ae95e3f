"""The ``plans:`` key of a scenario: named sets of countermeasures with times.

This module must not import :mod:`plumecast.scenario` (the scenario model imports
it). The countermeasure models come from :mod:`plumecast.countermeasures.config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from plumecast.config_model import NoBoolForNumbers
from plumecast.countermeasures.config import MeasureConfig

BASELINE_NAME = "do nothing"


class PlanConfig(NoBoolForNumbers):
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

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a plan name must have more than spaces; expected a name the tables can show")
        return v

    @field_validator("ignition_delays_h")
    @classmethod
    def _delays(cls, v: list[float]) -> list[float]:
        if any(h < 0 for h in v):
            raise ValueError(f"ignition_delays_h must be >= 0 hours after start, got {v}")
        return sorted(set(v))


# plan names are told apart as people read them: without case, surrounding spaces or repeated spaces
#: ("Stop" and "stop " read as one plan in a table; audit 26)
def name_key(name: str) -> str:
    """The name of a plan as the tables' readers tell plans apart: case folded, spaces
    collapsed and stripped.

    >>> name_key("  Do  Nothing ") == name_key("do nothing")
    True
    """
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class PlanKeys:
    """Where a scenario's plans are written, so that a problem found while a comparison is
    set up (:func:`with_baseline`, :func:`plumecast.ensemble.compare.make_setup`) names the
    file, line and key path as the schema's own errors do
    (``"plans.yaml, line 32: plans.0.measures.0.region: plan 'shelter': ..."``).

    ``source``: the scenario file (None: plans not read from a file; the messages then
    start ``"plans: 'shelter': measures.0.region"``, as they did); ``lines``: its key-path
    -> line index (:func:`plumecast.scenario_yaml.parse_yaml`); ``names``: the plans' names
    in the order of the file's ``plans:`` list (a plan's index there)."""

    source: str | None = None
    lines: Mapping[tuple[str | int, ...], int] = field(default_factory=dict)
    names: tuple[str, ...] = ()

    def key(self, index: int, *key: str | int) -> str:
        """``"file, line N: plans.I.<key>"`` (``"plans.I.<key>"`` without a file)."""
        if self.source is None:
            return ".".join(str(k) for k in ("plans", index, *key))
        from plumecast.scenario_yaml import where

        return where(self.source, dict(self.lines), "plans", index, *key)

    def line(self, index: int, *key: str | int) -> int | None:
        """The line of ``plans.I.<key>`` in the file (None: unknown)."""
        return self.lines.get(("plans", index, *key)) if self.source is not None else None

    def message(self, plan: str, key: tuple[str | int, ...], text: str, sep: str = ": ") -> str:
        """A message about ``key`` (a path under the plan: ``("measures", 0, "region")``) of the
        plan named ``plan``: ``"file, line N: plans.I.measures.0.region: plan 'P': <text>"``;
        without a file (or for a plan not in ``names``) ``"plans: 'P': measures.0.region<sep><text>"``,
        as these messages read before they named the file."""
        dotted = ".".join(str(k) for k in key)
        if self.source is None or plan not in self.names:
            return f"plans: {plan!r}" + (f": {dotted}{sep}" if dotted else ": ") + text
        return f"{self.key(self.names.index(plan), *key)}: plan {plan!r}: {text}"


def with_baseline(plans: list[PlanConfig], keys: PlanKeys | None = None) -> list[PlanConfig]:
    """The plans with the do-nothing baseline first (added when no plan is empty).

    A plan without measures *is* the baseline and is moved to the front. Refused, in one
    message naming the file, line and key (``keys``) and both names: two plans whose names
    read alike (:func:`name_key`: the same but for case or spaces, "stop" and "Stop "),
    and a plan with measures named like the built-in baseline ("Do Nothing" beside
    :data:`BASELINE_NAME`) when that baseline is added.
    """
    from plumecast.errors import ScenarioError

    keys = keys or PlanKeys()
    names = [p.name for p in plans]
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        i = seen.setdefault(name_key(name), j)
        if i == j:
            continue
        line = keys.line(i, "name")
        first = f"plans.{i}.name" + (f", line {line}" if line else "")
        if name == names[i]:
            raise ScenarioError(f"{keys.key(j, 'name')}: the plan name {name!r} is used twice (also {first}); "
                                "expected unique names")
        raise ScenarioError(f"{keys.key(j, 'name')}: the plan names {names[i]!r} ({first}) and {name!r} differ only "
                            "in case or spaces, and would read as one plan in the tables; expected names that tell "
                            "the plans apart")
    empty = [p for p in plans if not p.measures]
    if empty:
        base = empty[0]
        return [base] + [p for p in plans if p is not base]
    for j, name in enumerate(names):
        if name == BASELINE_NAME:
            raise ScenarioError(f"{keys.key(j, 'name')}: a plan named {BASELINE_NAME!r} must have no measures (it is "
                                "the baseline, added to every comparison); expected another name for this plan")
        if name_key(name) == name_key(BASELINE_NAME):
            raise ScenarioError(f"{keys.key(j, 'name')}: the plan name {name!r} differs from the built-in baseline's "
                                f"{BASELINE_NAME!r} (no measures, added to every comparison) only in case or spaces, "
                                "and would read as the baseline in the tables; expected another name for this plan")
    return [PlanConfig(name=BASELINE_NAME, description="no countermeasures")] + list(plans)


def measure_kind(measure: Any) -> str:
    """'termination', 'shelter', 'evacuation' or 'front' for a measure model."""
    kind = getattr(measure, "type", None) or type(measure).__name__.lower()
    return str(kind)
