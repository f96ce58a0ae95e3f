"""The base of plumecast's configuration models (scenario, deposition).

Unknown keys, NaN and infinity are refused, and so are ``true``/``false`` where a
number is expected, a list's items included: pydantic's lax mode would read ``particles:
true`` as one particle, ``rate_kg_s: true`` as 1 kg s-1 and a plan's ``at_h: true`` as a cut
at 1 h, a YAML slip that would run silently (the plans' and measures' models, the
ensemble's and the near field's take this base too since audit 42c).
Where one of a few words is expected, YAML's reading of an unquoted ``off``, ``no``
(false) or ``on``, ``yes`` (true) is taken back as the word when exactly one of the
choices is such a word (``dense_gas: off``), and refused naming the choices otherwise.
An item of a list of several kinds told apart by ``type`` (``releases``, a plan's
``measures``) that is no mapping, or has no or an unknown ``type``, is refused in our
words naming the kinds and their keys (:func:`typed_item`), not pydantic's.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from plumecast.scenario_yaml import HOURS_AFTER_START, shown


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


def _words(annotation: Any) -> tuple[str, ...]:
    """The strings a field of this annotation accepts as ``Literal`` choices (empty if none)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _words(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return tuple(w for a in typing.get_args(annotation) for w in _words(a))
    if origin is typing.Literal:
        return tuple(a for a in typing.get_args(annotation) if isinstance(a, str))
    return ()


def _items(annotation: Any) -> list[Any]:
    """The annotations of the items of a list or tuple field (``list[float]`` -> ``[float]``,
    ``tuple[float, float]`` -> ``[float, float]``, over every branch of a union); empty for
    a field that holds no list."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _items(args[0])
    if origin in (typing.Union, types.UnionType):
        return [a for b in args for a in _items(b)]
    if origin in (list, tuple, set, frozenset):
        return [a for a in args if a is not Ellipsis]
    return []


def _item_takes_bool(annotation: Any) -> bool:
    """True if a list item of this annotation may hold a bool: as :func:`_takes_bool`, but
    a string refuses it too (pydantic reads no bool as a string) and a list item is looked into."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _item_takes_bool(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_item_takes_bool(a) for a in typing.get_args(annotation))
    if annotation is str or _items(annotation):
        return False
    return _takes_bool(annotation)


def _bool_item(annotation: Any, value: Any) -> tuple[tuple[int, ...], bool] | None:
    """Where a list ``value`` of a field of this annotation holds a bool that none of its item
    annotations takes (``ignition_delays_h: [2, true]`` -> ``((1,), False)``, ``points: [[true,
    7]]`` -> ``((0, 0), False)``), with whether a name (a string) could stand there; None if
    nowhere."""
    if not isinstance(value, list | tuple):
        return None
    items = _items(annotation)
    if not items or any(_item_takes_bool(a) for a in items):
        return None
    for i, v in enumerate(value):
        if isinstance(v, bool):
            return (i,), any(a is str or str in typing.get_args(a) for a in items)
        inner = [a for a in items if _items(a)]
        if isinstance(v, list | tuple) and inner:
            deeper = _bool_item(typing.Union[tuple(inner)] if len(inner) > 1 else inner[0], v)  # noqa: UP007
            if deeper is not None:
                return (i, *deeper[0]), deeper[1]
    return None


def _number_expected(key: str) -> str:
    """What a number key expects, in the words of :mod:`plumecast.scenario_yaml`'s messages:
    hours after the scenario's start for a time (``at_h``, ``start_h`` ...)."""
    return ("a number of hours after the scenario's start (e.g. 0.5)" if key in HOURS_AFTER_START
            else "a number")


#: The words PyYAML (YAML 1.1) reads as true / false when unquoted.
_YAML_BOOL_WORDS = {True: ("on", "yes", "true"), False: ("off", "no", "false")}


class NoBoolForNumbers(BaseModel):
    """A model whose number fields refuse ``true``/``false`` (``rate_kg_s: true`` is not
    1 kg s-1), with no other change to its configuration: :class:`StrictModel`, and the
    toxic agents (:class:`plumecast.agents.Agent`, whose ``molecular_weight_g_mol: true``
    had run as 1 g/mol)."""

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = data
        for key, value in data.items():
            field = cls.model_fields.get(key) if isinstance(key, str) else None
            if field is not None and (at := _bool_item(field.annotation, value)) is not None:
                # an item of a list of numbers (ignition_delays_h: [true], a region's box, a point)
                where, named = at
                item: Any = value
                for i in where:
                    item = item[i]
                expected = ("a number or a name (YAML reads yes, no, on and off unquoted as true or false: "
                            "quote such a name, e.g. 'NO')" if named else _number_expected(key))
                raise ValueError(f"{'.'.join([key, *map(str, where)])}: {str(item).lower()} is not a number; "
                                 f"expected {expected}")
            if not isinstance(value, bool) or field is None or _takes_bool(field.annotation):
                continue
            words = _words(field.annotation)
            if not words:
                raise ValueError(f"{key}: {str(value).lower()} is not a number; expected {_number_expected(key)}")
            back = [w for w in words if w.lower() in _YAML_BOOL_WORDS[value]]
            if len(back) != 1:
                choices = " or ".join(words) if len(words) < 3 else "one of " + ", ".join(words)
                raise ValueError(
                    f"{key}: {str(value).lower()} is not one of the choices; expected {choices} (YAML reads an "
                    f"unquoted {', '.join(_YAML_BOOL_WORDS[value][:2])} or {_YAML_BOOL_WORDS[value][2]} as {str(value).lower()}; quote the word)")
            out = {**out, key: back[0]}  # the word YAML turned into a bool
        return out


class StrictModel(NoBoolForNumbers):
    # allow_inf_nan=False: .nan / .inf anywhere in a scenario is refused (a NaN wind or
    # diffusivity would otherwise run to an all-clear of zero concentrations)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def typed_item(noun: str, *models: type[BaseModel], reference: str = "docs/scenario.md") -> BeforeValidator:
    """A check of one item of a list of ``models`` told apart by their ``type`` (put it
    after ``Field(discriminator="type")`` in the item's ``Annotated``), before pydantic
    picks the model: an item that is no mapping, has no ``type`` or one that is none of
    the models' is refused naming the value and each kind with its required keys
    (``releases.0: 1.5 is not a release; expected a mapping with type: point (keys lat, lon
    ...) or type: cities (keys rate_kg_s_per_capita ...)``), where pydantic had said "Input should be a
    valid dictionary or object to extract fields from" or "Unable to extract tag using
    discriminator 'type'" (badinput audit, session 34)."""
    tags = [str(typing.get_args(m.model_fields["type"].annotation)[0]) for m in models]
    kinds = [f"type: {tag} (keys {', '.join(k for k, f in m.model_fields.items() if f.is_required() and k != 'type')} "
             "...)" for tag, m in zip(tags, models, strict=True)]
    expected = f"expected a mapping with {', '.join(kinds[:-1])} or {kinds[-1]} ({reference})"

    def check(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"{shown(value)} is not a {noun}; {expected}")
        if "type" not in value:
            raise ValueError(f"the {noun} has no type; {expected}")
        if not any(value["type"] == tag for tag in tags):
            # "type: ...": the message is put at the item's type key (plumecast.scenario_yaml.format_errors)
            raise ValueError(f"type: {shown(value['type'])} is not a {noun} type; expected "
                             f"{', '.join(tags[:-1])} or {tags[-1]} ({reference})")
        return value

    return BeforeValidator(check)
