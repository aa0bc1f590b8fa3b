"""Risk configuration: frozen pydantic models loaded from YAML, unknown keys refused.

``load_risk_config(path)`` raises ``ConfigError`` naming the file, the rule, the field,
the bad value and what is allowed. Rules are a mapping of instance name -> settings; the
instance's ``kind`` defaults to its name, so ``daily_realized_loss: {limit: 1000}`` works
and two instances of one kind need distinct names and an explicit ``kind``.

The account (its starting balance) is not a risk setting: the desk config owns it
(desk.yaml ``account.starting_balance``) and the ``RiskManager`` reads it from the broker.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    SerializeAsAny,
    ValidationError,
    field_validator,
)

from trading._yaml import read_yaml_mapping
from trading.errors import ConfigError
from trading.risk.rules.base import RuleConfig
from trading.risk.rules.registry import RULES
from trading.risk.rules.session_hours import LocalTime

__all__ = [
    "ConfigWatcher",
    "NotifierConfig",
    "ResetConfig",
    "RiskConfig",
    "config_digest",
    "load_risk_config",
    "parse_risk_config",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ResetConfig(BaseModel):
    """The daily reset: a local wall-clock time in an IANA time zone."""

    model_config = _FROZEN

    time: LocalTime = time(17, 0)
    timezone: str = "America/Chicago"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as exc:  # zoneinfo raises several types for a bad key
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as America/Chicago)") from exc
        return value


class NotifierConfig(BaseModel):
    model_config = _FROZEN

    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    timeout_s: PositiveFloat = 2.0
    min_severity: Literal["INFO", "WARNING", "CRITICAL"] = "WARNING"


class RiskConfig(BaseModel):
    model_config = _FROZEN

    reset: ResetConfig = ResetConfig()
    notifier: NotifierConfig = NotifierConfig()
    warning_threshold: float = Field(default=0.8, gt=0, le=1)
    rules: dict[str, SerializeAsAny[RuleConfig]] = Field(default_factory=dict)

    def enabled_rules(self) -> dict[str, RuleConfig]:
        return {name: rule for name, rule in self.rules.items() if rule.enabled}


class _TopLevel(BaseModel):
    model_config = _FROZEN

    reset: ResetConfig = ResetConfig()
    notifier: NotifierConfig = NotifierConfig()
    warning_threshold: float = Field(default=0.8, gt=0, le=1)
    rules: dict[str, Any] = Field(default_factory=dict)


# Top-level keys that live in the desk config now: the unknown-key error says where.
_MOVED = {
    "account": "the account is the desk's: set the starting balance in the desk config's "
    "account.starting_balance (desk.yaml)",
    "sweep_interval_s": "the risk sweep runs every loop.risk_sweep_interval seconds of the desk config "
    "(desk.yaml)",
}
# pydantic shows a Literal of enum members as <Action.LOCK: 'lock'>; the file spells 'lock'.
_ENUM_REPR = re.compile(r"<\w+\.\w+: ('[^']*')>")


def _allowed(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    bounds = {
        "greater_than": "a number > {gt}",
        "greater_than_equal": "a number >= {ge}",
        "less_than": "a number < {lt}",
        "less_than_equal": "a number <= {le}",
        "too_short": "at least {min_length} item(s)",
        "string_pattern_mismatch": "text matching {pattern}",
    }
    if kind in bounds:
        return bounds[kind].format(**ctx)
    if kind == "literal_error":
        expected = _ENUM_REPR.sub(r"\1", str(ctx.get("expected")))
        return f"one of {expected}"
    if kind == "extra_forbidden":
        return f"the known fields: {', '.join(sorted(model.model_fields))}"
    if kind == "missing":
        return "a value (this field is required)"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return "a number" if kind.startswith("float") else "a whole number"
    if kind in ("bool_parsing", "bool_type"):
        return "true or false"
    return str(error["msg"]).removeprefix("Value error, ")


def _raise_from(exc: ValidationError, path: str, model: type[BaseModel], rule: str | None) -> None:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "(rule)"
    value = "(missing)" if error["type"] == "missing" else error.get("input")
    if error["type"] == "extra_forbidden":
        field = str(error["loc"][-1])
    where = f"rule {rule!r}, " if rule else ""
    allowed = _allowed(error, model)
    if error["type"] == "extra_forbidden" and rule is None and field in _MOVED:
        allowed = f"{allowed}; {_MOVED[field]}"
    more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
    raise ConfigError(
        f"{path}: {where}field {field!r}: bad value {value!r}: allowed {allowed}{more}",
        path=None if path.startswith("<") else path,
        field=f"{rule}.{field}" if rule else field,
        value=value,
        allowed=allowed,
    ) from exc


def parse_risk_config(data: Any, source: str = "<dict>") -> RiskConfig:
    """Validate an already-parsed mapping (``source`` names it in error messages)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}", value=data)
    try:
        top = _TopLevel.model_validate(data)
    except ValidationError as exc:
        _raise_from(exc, source, _TopLevel, None)
        raise  # unreachable: _raise_from always raises
    rules: dict[str, RuleConfig] = {}
    for name, body in top.rules.items():
        body = {} if body is None else body
        if not isinstance(body, Mapping):
            raise ConfigError(
                f"{source}: rule {name!r}, settings must be a mapping, got {body!r}",
                path=None,
                field=str(name),
                value=body,
                allowed="a mapping of fields",
            )
        kind = body.get("kind", name)
        rule_type = RULES.get(kind)
        if rule_type is None:
            known = ", ".join(sorted(RULES))
            raise ConfigError(
                f"{source}: rule {name!r}, field 'kind': bad value {kind!r}: allowed one of {known}",
                field=f"{name}.kind",
                value=kind,
                allowed=known,
            )
        model = rule_type.config_type
        try:
            rules[str(name)] = model.model_validate({**body, "kind": kind})
        except ValidationError as exc:
            _raise_from(exc, source, model, str(name))
    return RiskConfig(
        reset=top.reset, notifier=top.notifier, warning_threshold=top.warning_threshold, rules=rules
    )


def load_risk_config(path: str | Path) -> RiskConfig:
    """Read and validate a risk YAML file; ``ConfigError`` on any problem, nothing half-loaded."""
    file = Path(path)
    data = read_yaml_mapping(file)
    try:
        return parse_risk_config(data, str(file))
    except ConfigError as exc:
        exc.path = file
        raise


def config_digest(path: str | Path) -> str:
    """A hash of the file's bytes, to tell a real change from a touched file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ConfigWatcher:
    """Tells whether a file's content changed: a cheap stat first, a hash only when it moved."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[float, int] | None = None
        self._digest: str | None = None
        self.changed()

    def changed(self) -> bool:
        """True when the content differs from the last call's (False when unreadable)."""
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime, stat.st_size)
            if stamp == self._stamp:
                return False
            digest = config_digest(self.path)
        except OSError:
            return False
        self._stamp, old = stamp, self._digest
        self._digest = digest
        return old is not None and digest != old

    def __repr__(self) -> str:
        return f"ConfigWatcher({str(self.path)!r})"
