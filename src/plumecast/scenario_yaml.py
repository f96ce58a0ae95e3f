"""Reading scenario files: YAML parsing with a line for every key, and the one
formatting of validation errors that every mode (``run``, ``compare``, ``zones``)
prints.

Nothing here knows the scenario models (:mod:`plumecast.scenario`,
:mod:`plumecast.nearfield.zones.scenario` use it): a file is read
(:func:`read_scenario_text`), parsed with its key-path -> line index
(:func:`parse_yaml`), and a pydantic :class:`~pydantic.ValidationError` becomes one
:class:`~plumecast.errors.ScenarioError` naming the file, key path, line and what
was expected (:func:`format_errors`).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from plumecast.errors import ScenarioError

Lines = dict[tuple[str | int, ...], int]


def read_scenario_text(path: Path) -> str:
    """The text of scenario file ``path``; a ScenarioError naming the file if it is
    missing, unreadable, not UTF-8 or larger than :data:`MAX_YAML_BYTES`."""
    try:
        if path.is_file() and path.stat().st_size > MAX_YAML_BYTES:
            raise ScenarioError(f"{path}: the file has {path.stat().st_size:,} bytes; expected a scenario of at "
                                f"most {MAX_YAML_BYTES:,}")
        raw = path.read_bytes()
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ScenarioError(f"{path}, line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; expected a file "
                            "saved as UTF-8 (an editor's 'save with encoding', or iconv -f latin1 -t utf-8)") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file ({exc})") from None


def where(source: str, lines: Lines, *key: str | int) -> str:
    """``"file, line N: a.b.c"``: the file, the line of ``key`` (or of the nearest
    enclosing key that has one) and the dotted key path, to start a message."""
    line = next((lines[key[:n]] for n in range(len(key), 0, -1) if key[:n] in lines), None)
    return f"{source}{f', line {line}' if line else ''}: {'.'.join(str(k) for k in key)}"



def located_error(exc: ScenarioError, source: str, lines: Lines) -> ScenarioError:
    """``exc`` ("key.path: message", or "key.path (a file): message") with the scenario file ``source``
    and the key's line (or its nearest enclosing key's) put before the key, as :func:`where` writes it."""
    key, _, msg = str(exc).partition(": ")
    dotted, _, file = key.partition(" ")  # "receptors.csv (its path)"
    path = tuple(int(k) if k.isdigit() else k for k in dotted.split("."))
    return ScenarioError(f"{where(source, lines, *path)}{' ' + file if file else ''}: {msg}")

#: Largest scenario file read [bytes] and largest document once aliases are expanded
#: [nodes]: a YAML "alias bomb" of a few hundred bytes can otherwise stand for
#: billions of nodes and exhaust the memory before validation starts.
MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_YAML_NODES = 200_000
#: Most validation problems listed in one message (the rest are counted).
MAX_ERRORS_SHOWN = 20


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves an impossible date (2026-02-30) as text for the model to
    reject with its key and line, instead of raising ValueError from the parser."""


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


def check_yaml_tree(root: yaml.Node, source: str) -> None:
    """Refuse duplicate keys, recursive aliases and documents that expand (through
    aliases) to more than :data:`MAX_YAML_NODES` nodes."""
    size: dict[int, int] = {}
    active: set[int] = set()

    def expanded(node: yaml.Node) -> int:
        nid = id(node)
        if nid in size:
            return size[nid]
        if nid in active:
            raise ScenarioError(f"{source}, line {node.start_mark.line + 1}: a YAML alias refers to itself "
                                "(recursive anchor); expected plain values")
        active.add(nid)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in seen:
                        raise ScenarioError(
                            f"{source}, line {k.start_mark.line + 1}: duplicate key {k.value!r} (first given on "
                            f"line {seen[k.value]}); expected each key once"
                        )
                    seen[k.value] = k.start_mark.line + 1
                total += expanded(k) + expanded(v)
                if total > MAX_YAML_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                total += expanded(v)
                if total > MAX_YAML_NODES:
                    break
        active.discard(nid)
        if total > MAX_YAML_NODES:
            raise ScenarioError(
                f"{source}: the document expands to more than {MAX_YAML_NODES:,} values (through YAML aliases "
                f"near line {node.start_mark.line + 1}); expected a scenario of ordinary size"
            )
        size[nid] = total
        return total

    expanded(root)


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
#: YAML 1.1 numbers PyYAML reads that YAML 1.2 (and most people) read otherwise: ``1:30`` is 90
#: (base 60), ``024`` is 20 (octal).
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")


def check_yaml_numbers(root: yaml.Node, source: str) -> None:
    """Refuse the plain numbers YAML 1.1 reads in a way nobody writing a scenario means: ``1:30`` as
    90 (base 60; a duration of 1 h 30 min had run 90 h) and ``024`` as 20 (octal), naming the line
    and the key and what to write instead (audit 43e)."""
    seen: set[int] = set()

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                walk(v, (*path, str(k.value) if isinstance(k, yaml.ScalarNode) else "?"))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, i))
        elif isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in (_INT, _FLOAT):
            text = str(node.value)
            key = ".".join(str(k) for k in path) or "the document"
            at = f"{source}, line {node.start_mark.line + 1}: {key}"
            if _SEXAGESIMAL.match(text):
                value = yaml.SafeLoader.construct_yaml_int if node.tag == _INT else yaml.SafeLoader.construct_yaml_float
                read = value(yaml.SafeLoader(""), node)  # type: ignore[arg-type]
                parts = [float(x.replace("_", "")) for x in text.lstrip("+-").split(":")]
                hours = parts[0] + sum(p / 60.0 ** (i + 1) for i, p in enumerate(parts[1:]))
                raise ScenarioError(f"{at}: {text} is read by YAML as {read:g} (a base-60 number); expected a "
                                    f"decimal number: {hours:g} if {text} means hours and minutes, or the value "
                                    f"quoted ('{text}') where a clock time is meant")
            if _OCTAL.match(text):
                raise ScenarioError(f"{at}: {text} is read by YAML as {int(text.replace('_', ''), 8):d} (an octal "
                                    f"number, for its leading 0); expected {text.lstrip('+-').lstrip('0_') or '0'} "
                                    "written without the leading zero")

    walk(root, ())


def parse_yaml(text: str, source: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """The document of ``text`` and its key-path -> line index; ScenarioError if the
    text is empty (no document), not YAML, too large, has duplicate keys or expands
    through aliases."""
    if len(text) > MAX_YAML_BYTES:
        raise ScenarioError(f"{source}: the file has {len(text):,} characters; expected a scenario of at most "
                            f"{MAX_YAML_BYTES:,}")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            what = "0 bytes" if not text else "only blank lines or comments"
            raise ScenarioError(f"{source}: the file is empty ({what}); expected a scenario: a mapping of keys "
                                "(name, agent, releases, ...), see docs/scenario.md")
        check_yaml_tree(root, source)
        check_yaml_numbers(root, source)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f", line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{source}{at}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    except RecursionError:
        raise ScenarioError(f"{source}: the document is nested too deeply; expected a scenario of ordinary "
                            "structure") from None
    finally:
        loader.dispose()
    return data, line_index(root)


def top_level_got(data: Any) -> str:
    """What a scenario file holds instead of a mapping, for a message: ``the text 'garbage'``."""
    if isinstance(data, list):
        return f"a list of {len(data)} item(s)"
    shown = repr(data) if len(repr(data)) <= 40 else repr(data)[:37] + "..."
    return f"the text {shown}" if isinstance(data, str) else f"the single value {shown}"


def shown(value: Any, most: int = 60) -> str:
    """A value of the file as a message shows it: its repr cut to ``most`` characters,
    ``null``, ``true`` and ``false`` as YAML writes them, a date or time as written
    (:func:`_written`).

    >>> shown(1.5), shown([1]), shown(None), shown(True), len(shown("x" * 70))
    ('1.5', '[1]', 'null', 'true', 60)
    """
    import datetime as dt

    if value is None or isinstance(value, bool):
        return str(value).lower() if value is not None else "null"
    if isinstance(value, dt.date | dt.time):
        return _written(value)
    text = repr(value)
    return text if len(text) <= most else text[: most - 3] + "..."


#: what a date-time of the file is expected to be, for messages
DATE_EXPECTED = ("expected an ISO 8601 date-time such as 2026-01-20T06:00:00Z (Z or an offset such as +01:00 "
                 "gives the time zone; without one it is read as UTC)")


def date_problem(value: Any) -> str | None:
    """Why ``value`` (a date-time key as the file gives it: ``start``, ``issued_at``) is no
    date-time, in a message that shows it (None when it may be one: a date-time, or a text
    for the parser to read). A number, or a text of digits only, had been read as seconds
    since 1970 (``start: 20260120`` ran in August 1970, and so did ``start: '20260120'``;
    badinput audits).

    >>> date_problem([1]).split(";")[0], date_problem("20260120").split(";")[0], date_problem("2026-01-20")
    ('[1] is a list, not a date', "'20260120' is digits only, not a date", None)
    """
    import datetime as dt

    if isinstance(value, dt.date) or (isinstance(value, str) and not value.strip().isdigit()):
        return None
    if value is None:
        return f"the value is empty; {DATE_EXPECTED}"
    what = ("a clock time without a date" if isinstance(value, dt.time) else
            {bool: "a yes/no value", list: "a list", dict: "a mapping", str: "digits only"}.get(type(value), "a number"))
    return f"{shown(value)} is {what}, not a date; {DATE_EXPECTED}"


def line_index(root: yaml.Node | None) -> dict[tuple[str | int, ...], int]:
    """Map each key path of a composed YAML document to its 1-based line number."""
    index: dict[tuple[str | int, ...], int] = {}

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


#: pydantic's error types for a value that is not a number
_NUMBER_ERRORS = ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float")
#: keys of a time in hours after the scenario's start (``termination_h`` had been told "expected a number"
#: alone; docs audit 44)
HOURS_AFTER_START = ("at_h", "start_h", "end_h", "stop_h", "order_h", "ignition_h", "ignition_delays_h",
                     "termination_h")


def _written(value: Any) -> str:
    """A date or time as the file gives it (ISO 8601, ``Z`` for UTC), not as Python's repr.

    >>> import datetime as dt
    >>> _written(dt.datetime(2026, 1, 20, 6, 30, tzinfo=dt.timezone.utc)), _written(dt.date(2026, 1, 20))
    ('2026-01-20T06:30:00Z', '2026-01-20')
    """
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _number_message(loc: tuple[Any, ...], msg: str, got: Any, got_txt: str, kind: str = "float_parsing",
                    branch: bool = False) -> tuple[str, str]:
    """The message and ``(got ...)`` of a value that is not a number (pydantic's error type
    ``kind``): "not a number" or "not a whole number" in our words (pydantic's stay for a
    ``branch`` of a union, which :func:`_merge_branches` joins); a time of a plan or
    release (``at_h``, ``start_h`` ...) says hours after the scenario's start are expected;
    a date or clock time (YAML reads ``2026-01-20T06:30:00Z`` as a timestamp) is shown as
    written, not as ``datetime.datetime(2026, ...)``."""
    import datetime as dt

    if not branch:
        msg = "not a whole number" if kind.startswith("int") else "not a number"
        got_txt = got_txt or f" (got {shown(got)})"

    hours = any(isinstance(k, str) and k in HOURS_AFTER_START for k in loc[-2:])
    if isinstance(got, dt.date | dt.time):
        what = "a date and time" if isinstance(got, dt.datetime) else ("a time" if isinstance(got, dt.time)
                                                                        else "a date")
        expected = ("a number of hours after the scenario's start (e.g. 0.5), not a clock time" if hours
                    else "a number")
        return f"got {what}, {_written(got)}; expected {expected}", ""
    if hours:
        got_txt += "; expected a number of hours after the scenario's start (e.g. 0.5)"
    return msg, got_txt


#: a step of pydantic's error path that names a branch of a union or a validator, not a key
#: (``lax-or-strict[...]``, ``list[...]``, ``function-after[...]``, ``str``, ``float``)
_BRANCH = re.compile(r"[\[\](),<>]|^(str|int|float|bool|list|dict|Path|none|function-\w+|lax-or-strict)$")


def _no_class(msg: str) -> str:
    """pydantic's messages without the model's class names: 'Input is not a valid path for
    <class 'pathlib.Path'>' -> 'expected a file path', 'a valid dictionary or instance of
    Agent' -> 'a valid dictionary'."""
    msg = re.sub(r" or instance of [A-Z]\w*", "", msg)
    return re.sub(r"^Input is not a valid path for <class '[\w.]+'>$", "expected a file path", msg)


def _plain_msg(msg: str) -> str:
    """pydantic's wording of a union branch's error without its class names (:func:`_no_class`),
    'Input should be X' -> 'expected X'."""
    msg = _no_class(msg)
    if msg == "Input should be a valid list":
        return "expected a list of them"
    return re.sub(r"^Input should be ", "expected ", msg)


def _merge_branches(entries: list[tuple[str, str, str, str, bool]]) -> list[str]:
    """One line per key: the errors of a union's branches at one key (``branch`` True)
    joined as 'expected X or Y'."""
    out: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    nested = {key.rsplit(".", 1)[0] for _, key, _, _, _ in entries if "." in key}
    for where, key, msg, got_txt, branch in entries:
        if branch and key in nested:
            continue  # a list branch's own errors at key.0, key.1 ... say what is wrong in it
        if branch and (key, got_txt) in seen:
            i = seen[(key, got_txt)]
            out[i] = out[i].removesuffix(got_txt) + " or " + _plain_msg(msg).removeprefix("expected ") + got_txt
            continue
        if branch:
            seen[(key, got_txt)] = len(out)
            msg = _plain_msg(msg)
        out.append(f"{where}: {key}: {msg}{got_txt}")
    return out


def _without_tags(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """``loc`` as the file writes the path: without the step pydantic puts in for the kind of
    an item told apart by its ``type`` (``plans.0.measures.1.shelter.start_h`` ->
    ``plans.0.measures.1.start_h``), found by following ``loc`` through the file's ``data``:
    a step that is no key of its mapping but that mapping's ``type``."""
    out = []
    node = data
    for p in loc:
        if isinstance(node, dict):
            if p not in node and isinstance(p, str) and node.get("type") == p:
                continue  # the tag: the mapping itself is the item
            node = node.get(p)
        elif isinstance(node, list) and isinstance(p, int) and 0 <= p < len(node):
            node = node[p]
        else:
            node = None
        out.append(p)
    return tuple(out)


def _shows(msg: str, got: Any) -> bool:
    """Whether ``msg`` already shows the value ``got`` (then ``(got ...)`` would say it twice)."""
    for text in {repr(got), shown(got)}:
        at = re.search(rf"(?<![\w.]){re.escape(text)}(?![\w])", msg)
        if at and (len(text) > 2 or at.start() == 0):
            return True
    return False


#: pydantic's error types of a value that is not a mapping, a list, a date-time
_MAPPING_ERRORS = ("dict_type", "model_type", "model_attributes_type")


def _type_message(kind: str, got: Any, ctx: dict[str, Any]) -> str | None:
    """Our words for a value of the wrong type (a mapping, a list or a date-time expected),
    showing the value; None for other errors."""
    if kind in _MAPPING_ERRORS:
        return f"{shown(got)} is not a mapping; expected a mapping of keys (key: value on lines of their own, or {{key: value, ...}})"
    if kind == "string_type" and isinstance(got, bool):
        return (f"{str(got).lower()} is not text; expected text (YAML reads yes, no, on, off, true and false "
                "unquoted as true or false: quote it, e.g. 'no')")
    if kind == "list_type":
        return f"{shown(got)} is not a list; expected a list (items on lines starting with '- ', or [a, b, ...])"
    if kind.startswith(("datetime_", "date_")):
        problem = date_problem(got)
        if problem:
            return problem
        why = ("names a day, month or time of day that does not exist" if "range" in str(ctx.get("error", ""))
               else "is not a date-time as written")
        return f"{shown(got)} {why}; {DATE_EXPECTED}"
    return None


def _bound(value: Any) -> str:
    """A bound of a range as a message writes it: ``90``, ``0.2``, ``1e+12`` (not 1000000000000).

    >>> _bound(90), _bound(0.2), _bound(1e12), _bound(10_000.0)
    ('90', '0.2', '1e+12', '10000')
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):.12g}" if abs(value) >= 1e12 or isinstance(value, float) else str(value)
    return shown(value)


def _yaml_word(choice: Any) -> str:
    """A choice as a user writes it in YAML: a plain word bare (``numba``, ``A``), a word that YAML
    would read as something else quoted (``'off'``, ``'1'``), ``true``, ``null`` and numbers as YAML
    writes them.

    >>> _yaml_word("cuda-mixed"), _yaml_word("off"), _yaml_word("1"), _yaml_word(2), _yaml_word(None)
    ('cuda-mixed', "'off'", "'1'", '2', 'null')
    """
    if not isinstance(choice, str):
        return shown(choice)
    try:
        plain = bool(re.fullmatch(r"[A-Za-z_][\w.+/-]*", choice)) and yaml.safe_load(choice) == choice
    except yaml.YAMLError:
        plain = False
    return choice if plain else "'" + choice.replace("'", "''") + "'"


def _choices(expected: str) -> str:
    """pydantic's list of the choices of a ``Literal`` or enum (``'numba', 'numpy' or 'cuda'``) as a
    message names them, each as written in YAML (:func:`_yaml_word`): ``numba, numpy or cuda``.

    >>> _choices("'rural' or 'urban'"), _choices("'auto', 'off' or 1")
    ('rural or urban', "auto, 'off' or 1")
    """
    import ast

    head, _, last = expected.rpartition(" or ")
    try:
        values = ast.literal_eval(f"[{head}, {last}]" if head else f"[{last}]")
    except (ValueError, SyntaxError):
        return expected
    words = [_yaml_word(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _count(n: Any, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _limit_message(kind: str, got: Any, ctx: dict[str, Any]) -> tuple[str, str] | None:
    """Our words for a value out of its range (pydantic's ``less_than_equal`` ...), of a list or text
    too short or too long, not one of the choices (``literal_error``, ``enum``), not true or false
    (``bool_type``, ``bool_parsing``) or not finite: what is wrong with the value (shown once) and
    what was expected, naming the bound or all the choices; None for other errors.

    >>> _limit_message("less_than_equal", 95.0, {"le": 90})
    ('95.0 is too large', '90 or less')
    >>> _limit_message("literal_error", "Q", {"expected": "'A', 'B' or 'C'"})
    ("'Q' is not one of the choices", 'A, B or C')
    """
    value = shown(got)
    bounds = {"greater_than": ("gt", "too small", "more than {}"), "greater_than_equal": ("ge", "too small", "{} or more"),
              "less_than": ("lt", "too large", "less than {}"), "less_than_equal": ("le", "too large", "{} or less"),
              "multiple_of": ("multiple_of", "not a multiple of {}", "a multiple of {}")}
    if kind in bounds and bounds[kind][0] in ctx:
        name, problem, expected = bounds[kind]
        bound = _bound(ctx[name])
        return f"{value} is {problem.format(bound)}", expected.format(bound)
    if kind in ("too_short", "too_long") and isinstance(got, list | tuple | dict):
        noun = "key" if isinstance(got, dict) else "item"
        what = ("an empty mapping" if isinstance(got, dict) else "an empty list") if not got else None
        n = ctx.get("actual_length", len(got))
        most = (f"at least {_count(ctx.get('min_length'), noun)}" if kind == "too_short"
                else f"at most {_count(ctx.get('max_length'), noun)}")
        return f"{value} {f'is {what}' if what else f'has {_count(n, noun)}'}", most
    if kind in ("string_too_short", "string_too_long") and isinstance(got, str):
        length = "an empty text" if not got else _count(len(got), "character") + " long"
        if kind == "string_too_long":
            return f"{value} is {length}", f"a text of at most {_count(ctx.get('max_length'), 'character')}"
        least = ctx.get("min_length", 1)
        return f"{value} is {length}", ("a text that is not empty" if least == 1
                                        else f"a text of at least {_count(least, 'character')}")
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return f"{value} is not one of the choices", _choices(str(ctx["expected"]))
    if kind in ("bool_type", "bool_parsing"):
        return f"{value} is not a yes/no value", "true or false"
    if kind == "finite_number":  # .nan, .inf as the file writes them, not Python's nan, inf
        written = {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}.get(value, value) if isinstance(got, float) else value
        return f"{written} is not a finite number", "an ordinary number (not .nan, .inf or -.inf)"
    return None


def format_errors(exc: ValidationError, source: str, lines: dict[tuple[str | int, ...], int],
                  reference: str = "docs/scenario.md", data: Any = None, model: Any = None) -> str:
    """One message for all of ``exc``'s problems, a line each (:func:`error_lines`)."""
    return "invalid scenario:\n  " + "\n  ".join(error_lines(exc, source, lines, reference, data, model))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (through Optional, unions, lists, dicts, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _keys_at(model: Any, loc: tuple[Any, ...]) -> set[str]:
    """The keys the models at ``loc`` (the path to a mapping, as pydantic gives it: field names,
    list indices, union tags) accept, by name and alias; empty where they cannot be told."""
    found: list[type[BaseModel]] = _models_in(model)
    for part in loc:
        step = [m for c in found if isinstance(part, str) and part in c.model_fields
                for m in _models_in(c.model_fields[part].annotation)]
        found = step or found  # an index or a union's tag: the same models
    return {k for c in found for name, f in c.model_fields.items() for k in (name, f.alias) if k}


def did_you_mean(word: Any, choices: Any) -> str:
    """``did you mean 'x'?`` for the closest of ``choices`` to ``word`` (difflib), or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.7)
    return f"did you mean {close[0]!r}?" if close else ""


def error_lines(exc: ValidationError, source: str, lines: dict[tuple[str | int, ...], int],
                reference: str = "docs/scenario.md", data: Any = None, model: Any = None) -> list[str]:
    """``exc``'s problems, one line each: the file, the line, the key path as the file writes it
    (``data``, the file's document: the kind of a list item told apart by its ``type`` left
    out, :func:`_without_tags`) and what was expected, in our words; an unknown key gets the
    closest key ``model`` accepts there (:func:`did_you_mean`)."""
    entries: list[tuple[str, str, str, str, bool]] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        hint = did_you_mean(loc[-1], _keys_at(model, loc[:-1])) if err["type"] == "extra_forbidden" and loc else ""
        # the union's branch: met.path.list[...] -> met.path
        branch = any(isinstance(p, str) and _BRANCH.search(p) for p in loc)
        loc = tuple(p for p in loc if not (isinstance(p, str) and _BRANCH.search(p)))
        if data is not None:
            loc = _without_tags(loc, data)
        else:  # without the document: the release type tag, releases.0.point.lat -> releases.0.lat
            loc = tuple(p for i, p in enumerate(loc) if not (i == 2 and loc[0] == "releases" and p in ("point", "cities")))
        msg = err["msg"]
        if err["type"] == "value_error":
            msg = str(err.get("ctx", {}).get("error", msg))
            named = re.match(r"^([A-Za-z_][\w.]*): (.*)$", msg, re.S)
            if named:  # a check across keys that names the key to change first
                parts = tuple(int(p) if p.isdigit() else p for p in named.group(1).split("."))
                if loc[-len(parts):] == parts:  # the key is the one named already: said once (not "region: region:")
                    msg = named.group(2)
                elif not loc or (*loc, *parts) in lines:
                    loc, msg = (*loc, *parts), named.group(2)
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = None
        for n in range(len(loc), 0, -1):
            if loc[:n] in lines:
                line = lines[loc[:n]]
                break
        where = f"{source}" + (f", line {line}" if line else "")
        if err["type"] == "extra_forbidden":
            msg = (f"unknown key; {hint} (see the scenario reference in {reference})" if hint else
                   f"unknown key (check its spelling; see the scenario reference in {reference})")
        elif err["type"] == "missing":
            msg = "required key is missing"
        got = err.get("input")
        got_txt = "" if err["type"] in ("missing", "extra_forbidden") or isinstance(got, dict | list) else f" (got {got!r})"
        if err["type"] in _NUMBER_ERRORS:
            msg, got_txt = _number_message(loc, msg, got, got_txt, err["type"], branch)
        elif not branch and (ours := _type_message(err["type"], got, dict(err.get("ctx") or {}))):
            msg, got_txt = ours, ""
        elif limit := _limit_message(err["type"], got, dict(err.get("ctx") or {})):
            # a union's branch says what it expects alone, joined with the others' (_merge_branches)
            msg, got_txt = (f"expected {limit[1]}", got_txt) if branch else (f"{limit[0]}; expected {limit[1]}", "")
        elif got_txt and _shows(msg, got):
            got_txt = ""
        if len(got_txt) > 200:
            got_txt = got_txt[:190] + "...)"
        entries.append((where, key, _no_class(msg), got_txt, branch))
    msgs = _merge_branches(entries)
    if len(msgs) > MAX_ERRORS_SHOWN:
        msgs = [*msgs[:MAX_ERRORS_SHOWN], f"... and {len(msgs) - MAX_ERRORS_SHOWN:,} more problem(s) not shown"]
    return msgs


def existing_path(
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
