"""Load a YAML file into a frozen pydantic model, turning every failure into a
``ConfigError`` that names the file, the field, the bad value and what is allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from trading.errors import ConfigError

__all__ = ["format_validation_error", "load_yaml_model", "read_yaml_mapping"]

M = TypeVar("M", bound=BaseModel)


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found", path=path) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}", path=path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: invalid YAML: {problem}", path=path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of settings, got {type(data).__name__}", path=path
        )
    return data


def format_validation_error(path: Path, exc: ValidationError) -> ConfigError:
    """The first error, in words: file, dotted field, bad value, what is allowed."""
    err = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in err["loc"]) or "<top level>"
    value = err.get("input")
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        message = f"{path}: unknown field {field!r} (not a setting this file accepts)"
        allowed = "remove it or fix its spelling"
    elif kind == "value_error" or isinstance(value, (dict, list)):
        # A cross-field check: the input is a whole section, so say the rule, not the value.
        allowed = str(err["msg"]).removeprefix("Value error, ")
        where = "" if field == "<top level>" else f"field {field!r}: "
        message = f"{path}: {where}{allowed}"
    else:
        expected = ctx.get("expected")
        msg = str(err["msg"])
        allowed = f"allowed: {expected}" if expected else msg[:1].lower() + msg[1:]
        message = f"{path}: field {field!r}: bad value {value!r} ({allowed})"
    more = len(exc.errors()) - 1
    if more:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return ConfigError(message, path=path, field=field, value=value, allowed=allowed)


def load_yaml_model(path: str | Path, model: type[M], **context: Any) -> M:
    path = Path(path)
    data = read_yaml_mapping(path)
    try:
        return model.model_validate(data, context=context or None)
    except ValidationError as exc:
        raise format_validation_error(path, exc) from None
