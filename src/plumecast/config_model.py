"""The base of plumecast's configuration models (scenario, deposition).

Unknown keys, NaN and infinity are refused, and so are ``true``/``false`` where a
number is expected: pydantic's lax mode would read ``particles: true`` as one
particle and ``rate_kg_s: true`` as 1 kg s-1, a YAML slip that would run silently.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def _takes_bool(annotation: Any) -> bool:
    """True if a field of this annotation may hold a bool (or anything)."""
    if annotation is bool or annotation is Any or annotation is object:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _takes_bool(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_takes_bool(a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return any(isinstance(a, bool) for a in typing.get_args(annotation))
    return annotation not in (int, float, type(None))


class StrictModel(BaseModel):
    # allow_inf_nan=False: .nan / .inf anywhere in a scenario is refused (a NaN wind or
    # diffusivity would otherwise run to an all-clear of zero concentrations)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                field = cls.model_fields.get(key) if isinstance(key, str) else None
                if isinstance(value, bool) and field is not None and not _takes_bool(field.annotation):
                    raise ValueError(f"{key}: {str(value).lower()} is not a number; expected a number")
        return data
