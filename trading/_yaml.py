"""The one way config files are read: strict YAML into frozen pydantic models.

A config file is a safety device, so the reader refuses anything that could silently change
what it says, and turns every failure into a ``ConfigError`` naming the file, the line or
field, the (shortened) value and what is allowed:

- **Text only**: at most ``MAX_BYTES``, UTF-8, no NUL bytes (a binary file is refused).
- **Duplicate keys** are refused, naming the key and both lines (PyYAML keeps the last one
  without a word, which can replace a whole risk rule).
- **Anchors and aliases** (``&a`` / ``*a``) are refused: a config needs neither, and nested
  aliases expand exponentially (the "billion laughs" file).
- **Nesting** deeper than ``MAX_DEPTH`` is refused before it can exhaust the stack.
- **YAML 1.2 scalars**: only ``true``/``false`` are booleans (``yes``, ``on``, ``y`` stay text),
  numbers are decimal (or ``0x``/``0o``), ``.inf`` and ``.nan`` are refused, ``17:00`` is text,
  not a base-60 number, and dates stay text for the model to parse with a clear error.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode

from trading.errors import ConfigError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "PARSE_SECONDS",
    "format_validation_error",
    "load_yaml_model",
    "parse_yaml",
    "read_config_bytes",
    "read_yaml_mapping",
    "shorten",
    "unknown_key_hint",
]

M = TypeVar("M", bound=BaseModel)

MAX_BYTES = 1 << 20  # 1 MiB: the shipped files are about 4 kB
MAX_DEPTH = 32
PARSE_SECONDS = 5.0  # the parser gives up after this long (4 kB take milliseconds; 1 MiB about 6 s)
_SHORT = 60
_LONG = 200  # the most of one explanation an error line carries


def shorten(value: Any, limit: int = _SHORT) -> str:
    """``repr(value)`` cut to ``limit`` characters, so an error line stays one line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


class _Refused(yaml.YAMLError):
    """A construct the strict loader does not accept; carries the node's position."""

    def __init__(self, message: str, node: Node | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = None if node is None else node.start_mark.line + 1


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars, no aliases, bounded depth, unique keys."""

    def __init__(self, stream: str, deadline: float | None = None) -> None:
        super().__init__(stream)
        self._depth = 0
        self._deadline = deadline
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._nodes += 1
        if self._deadline is not None and self._nodes % 256 == 0 and time.monotonic() > self._deadline:
            raise _Refused(f"still parsing after {self._nodes:,} nodes: too slow for a config file")
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                f"alias *{event.anchor} at line {event.start_mark.line + 1}: YAML anchors and aliases "
                "are not allowed in config files (write the value out)"
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _Refused(
                f"anchor &{event.anchor} at line {event.start_mark.line + 1}: YAML anchors and aliases "
                "are not allowed in config files (write the value out)"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nesting deeper than {MAX_DEPTH} levels at line {event.start_mark.line + 1}: "
                    "not a config file"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:
                raise _Refused(f"line {line}: a mapping key must be text or a number", key_node) from None
            if first != line:
                raise _Refused(
                    f"duplicate key {key!r} at lines {first} and {line}: YAML would keep only the "
                    "second; remove one",
                    key_node,
                )
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if value != value or value in (float("inf"), float("-inf")):
            raise _Refused(f"line {node.start_mark.line + 1}: {node.value!r} is not a finite number", node)
        return value

    def construct_undefined(self, node: Node) -> Any:
        raise _Refused(f"line {node.start_mark.line + 1}: tag {node.tag!r} is not allowed", node)


# YAML 1.2 core schema resolvers instead of PyYAML's YAML 1.1 ones.
_StrictLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
):
    _StrictLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor(None, _StrictLoader.construct_undefined)
for _tag in (
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:set",
    "tag:yaml.org,2002:omap",
    "tag:yaml.org,2002:pairs",
    "tag:yaml.org,2002:merge",
):
    _StrictLoader.yaml_constructors.pop(_tag, None)


def _int_0o(loader: _StrictLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int_0o)


def parse_yaml(data: bytes, source: str | Path, *, deadline: float | None = None) -> Any:
    """Parse ``data`` (the file's bytes) strictly; ``ConfigError`` naming ``source`` on any problem.

    ``deadline`` (a ``time.monotonic()`` value): past it the parser gives up with a ``ConfigError``,
    so a reader on a worker thread stops soon after its caller stopped waiting."""
    where = str(source)
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"{where}: {len(data):,} bytes is too large for a config file (at most {MAX_BYTES:,})",
            path=source,
        )
    if b"\x00" in data:
        raise ConfigError(f"{where}: not a text file (it contains NUL bytes)", path=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{where}: line {line}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})",
            path=source,
        ) from None
    try:
        loader = _StrictLoader(text, deadline)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as exc:
        raise ConfigError(f"{where}: {exc.message}", path=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}:{at} invalid YAML: {problem[:_LONG]}", path=source) from None
    except RecursionError:  # pragma: no cover  (MAX_DEPTH stops nesting long before)
        raise ConfigError(f"{where}: nesting too deep: not a config file", path=source) from None


def read_config_bytes(path: str | Path) -> bytes:
    """The bytes of the regular file ``path`` (at most ``MAX_BYTES + 1``: more is refused by the
    parser). A FIFO, a device or a directory is refused before it is read, so a reader never
    blocks on a pipe nor reads ``/dev/zero`` forever."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found", path=path) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file", path=path) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}", path=path) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{path}: is a directory, not a config file", path=path)
        if not stat.S_ISREG(mode):
            raise ConfigError(
                f"{path}: not a regular file (a pipe, socket or device): not a config file", path=path
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}", path=path) from None
    finally:
        os.close(fd)


def mapping_of(parsed: Any, path: str | Path) -> dict[str, Any]:
    """The parsed top level as a mapping (an empty file is ``{}``); ``ConfigError`` otherwise."""
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of settings, got {type(parsed).__name__}", path=path
        )
    return parsed


def read_yaml_mapping(path: str | Path, *, deadline: float | None = None) -> dict[str, Any]:
    """Read ``path`` strictly; the top level must be a mapping (an empty file is ``{}``). The parse
    gives up at ``deadline`` (``time.monotonic()``; default ``PARSE_SECONDS`` from now)."""
    data = read_config_bytes(path)
    if deadline is None:
        deadline = time.monotonic() + PARSE_SECONDS
    return mapping_of(parse_yaml(data, path, deadline=deadline), path)


# --- validation errors: one line, the same words for every config file ------------------------

# pydantic shows a Literal of enum members as <Action.LOCK: 'lock'>; the file spells 'lock'.
_ENUM_REPR = re.compile(r"<\w+\.\w+: ('[^']*')>")
_BOUNDS = {
    "greater_than": "a number > {gt}",
    "greater_than_equal": "a number >= {ge}",
    "less_than": "a number < {lt}",
    "less_than_equal": "a number <= {le}",
    "too_short": "at least {min_length} item(s)",
    "too_long": "at most {max_length} item(s)",
    "string_too_short": "text of at least {min_length} character(s)",
    "string_pattern_mismatch": "text matching {pattern}",
}
_KINDS = {
    "missing": "a value (this field is required)",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping of settings",
    "model_attributes_type": "a mapping of settings",
    "time_type": "a time written 'HH:MM'",
    "time_parsing": "a time written 'HH:MM'",
}


def allowed_text(error: Mapping[str, Any]) -> str:
    """What a field allows, from one pydantic error: "a number > 0", "one of 'enforce' or 'shadow'"."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**ctx)
    if kind == "literal_error":
        expected = _ENUM_REPR.sub(r"\1", str(ctx.get("expected")))
        return f"one of {expected}"
    if kind in _KINDS:
        return _KINDS[kind]
    return str(error["msg"]).removeprefix("Value error, ")


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names the model accepts at ``loc`` (the location of an unknown key), best effort."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = None if field is None else field.annotation
        else:
            args = getattr(current, "__args__", ())
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            current = models[0] if len(models) == 1 else None
            if current is not None and str(part) in current.model_fields:
                current = current.model_fields[str(part)].annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def unknown_key_hint(key: str, known: list[str]) -> str:
    """The hint for an unknown key: "did you mean 'limit'?" for a near miss, else the known keys."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known: {', '.join(known)}" if known else "remove it or fix its spelling"


def format_validation_error(
    path: str | Path,
    exc: ValidationError,
    model: type[BaseModel] | None = None,
    *,
    rule: str | None = None,
    hints: Mapping[str, str] | None = None,
) -> ConfigError:
    """One line for every config file: ``<file>: [rule 'r', ]field 'f': bad value V: allowed A``.

    An unknown key is named first, as ``unknown key 'limt' (did you mean 'limit'?)``: a misspelt
    required key also shows up as 'missing', which would hide the typo. ``hints`` adds a sentence
    to an unknown top-level key (a setting that moved to another file). A cross-field check, whose
    input is a whole section, says its rule without the section's value."""
    errors = exc.errors(include_url=False)
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    err = unknown[0] if unknown else errors[0]
    loc = tuple(err["loc"])
    field = ".".join(str(p) for p in loc)
    where = f"{path}: " + (f"rule {rule!r}, " if rule else "")
    value = err.get("input")
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = unknown_key_hint(key, _fields_at(model, loc) if model is not None else [])
        if hints and len(loc) == 1 and key in hints:
            allowed = f"{allowed}; {hints[key]}"
        message = f"{where}unknown key {field!r} ({allowed[:_LONG]})"
    elif kind == "missing":
        value = "(missing)"
        allowed = allowed_text(err)
        message = f"{where}field {field!r}: bad value {shorten(value)}: allowed {allowed}"
    elif isinstance(value, dict | list) and kind not in _KINDS and kind not in _BOUNDS:
        allowed = allowed_text(err)
        at = f"field {field!r}: " if field else ""
        message = f"{where}{at}{allowed[:_LONG]}"
    else:
        allowed = allowed_text(err)
        if kind != "value_error":  # pydantic's own sentence ("Input should be ...") reads on after "allowed"
            allowed = allowed[:1].lower() + allowed[1:]
        shown = shorten(value)
        message = f"{where}field {field or '<top level>'!r}: bad value {shown}: allowed {allowed[:_LONG]}"
    others = [e for e in errors if e is not err]
    if kind == "extra_forbidden":  # a misspelt required key is also missing: that is the same mistake
        others = [e for e in others if e["type"] != "missing"]
    more = len(others)
    if more:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return ConfigError(
        message,
        path=None if str(path).startswith("<") else path,
        field=f"{rule}.{field}" if rule and field else (rule or field or None),
        value=value,
        allowed=allowed,
    )


def load_yaml_model(path: str | Path, model: type[M], **context: Any) -> M:
    path = Path(path)
    data = read_yaml_mapping(path)
    try:
        return model.model_validate(data, context=context or None)
    except ValidationError as exc:
        raise format_validation_error(path, exc, model) from None
