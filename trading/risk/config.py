"""Risk configuration: frozen pydantic models loaded from YAML, unknown keys refused.

``load_risk_config(path)`` raises ``ConfigError`` naming the file, the rule, the field,
the bad value and what is allowed (through the one formatter of ``trading._yaml``, so the
desk and risk files speak alike). Rules are a mapping of instance name -> settings; the
instance's ``kind`` defaults to its name, so ``daily_realized_loss: {limit: 1000}`` works
and two instances of one kind need distinct names and an explicit ``kind``.

A risk *file* with no rule enabled in enforce mode is refused unless it says
``allow_no_enforced_rules: true``: an empty or all-shadow file is no safety device. Every
field declares which change loosens it (``trading.risk.loosening``); the running desk's
tamper lock refuses a loosening edit until the daily reset (``tamper_lock: true``, the default).

A file may start from an account preset (``preset: funded_50k_eod`` or a path; ``trading.risk.presets``):
the preset is validated alone (its errors name the preset's file), then the file's settings override
it field by field and the merged result is validated, held to the "some rule enforced" check and
compared by the tamper lock like any file. An override that loosens one of the preset's enforced
rules is allowed (the trader's choice) and logged as a WARNING naming the field.

The account (its starting balance) is not a risk setting: the desk config owns it
(desk.yaml ``account.starting_balance``) and the ``RiskManager`` reads it from the broker.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time as _time
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

from trading._yaml import (
    PARSE_SECONDS,
    format_validation_error,
    mapping_of,
    parse_yaml,
    read_config_bytes,
    shorten,
    unknown_key_hint,
)
from trading.config_types import Flag, LocalTime, Number, TimeZoneName
from trading.errors import ConfigError
from trading.risk.loosening import Looser, loosenings
from trading.risk.presets import merge_preset, read_preset
from trading.risk.rules.base import RuleConfig
from trading.risk.rules.registry import RULES
from trading.risk.unlock_policy import ManualUnlock

__all__ = [
    "ConfigWatcher",
    "NotifierConfig",
    "ResetConfig",
    "RiskConfig",
    "config_digest",
    "load_risk_config",
    "parse_risk_config",
    "require_enforced_rule",
    "risk_config_from_bytes",
]

logger = logging.getLogger(__name__)

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ResetConfig(BaseModel):
    """The daily reset: a local wall-clock time in an IANA time zone."""

    model_config = _FROZEN

    time: Annotated[LocalTime, Looser.ANY] = time(17, 0)
    timezone: Annotated[TimeZoneName, Looser.ANY] = "America/Chicago"


class NotifierConfig(BaseModel):
    model_config = _FROZEN

    webhook_url: Annotated[str | None, Looser.ANY] = Field(default=None, pattern=r"^https?://\S+$")
    timeout_s: Annotated[Number, Field(gt=0), Looser.ANY] = 2.0
    min_severity: Annotated[Literal["INFO", "WARNING", "CRITICAL"], Looser.ANY] = "WARNING"


class RiskConfig(BaseModel):
    """The whole risk file. ``rules`` are compared rule by rule by the tamper lock
    (``trading.risk.loosening.loosenings``); every other field declares its direction."""

    model_config = _FROZEN

    reset: Annotated[ResetConfig, Looser.SECTION] = ResetConfig()
    notifier: Annotated[NotifierConfig, Looser.SECTION] = NotifierConfig()
    warning_threshold: Annotated[Number, Field(gt=0, le=1), Looser.HIGHER] = 0.8
    tamper_lock: Annotated[Flag, Looser.OFF] = True
    allow_no_enforced_rules: Annotated[Flag, Looser.ON] = False
    # may an operator end a loss rule's lockout early (trading.risk.unlock_policy)
    manual_unlock: Annotated[ManualUnlock, Looser.EASIER_UNLOCK] = "never"
    rules: dict[str, SerializeAsAny[RuleConfig]] = Field(default_factory=dict)

    def enabled_rules(self) -> dict[str, RuleConfig]:
        return {name: rule for name, rule in self.rules.items() if rule.enabled}

    def enforced_rules(self) -> dict[str, RuleConfig]:
        """The rules that act on the account: enabled and in enforce mode."""
        return {name: rule for name, rule in self.rules.items() if rule.enabled and rule.mode == "enforce"}

    def shadow_rules(self) -> dict[str, RuleConfig]:
        """Enabled rules in shadow mode: they record what they would have done, and do nothing."""
        return {name: rule for name, rule in self.rules.items() if rule.enabled and rule.mode == "shadow"}


class _TopLevel(RiskConfig):
    """The file's top level with each rule's settings still raw: a rule validates by its kind."""

    rules: dict[str, Any] = Field(default_factory=dict)


# Top-level keys that live in the desk config now: the unknown-key error says where.
_MOVED = {
    "account": "set the starting balance in the desk config's account.starting_balance (desk.yaml)",
    "sweep_interval_s": "the risk sweep runs every loop.risk_sweep_interval seconds of the desk config "
    "(desk.yaml)",
}


def parse_risk_config(data: Any, source: str = "<dict>", *, deadline: float | None = None) -> RiskConfig:
    """Validate an already-parsed mapping (``source`` names it in error messages). A top-level
    ``preset`` is read (its parse gives up at ``deadline``), validated alone, and the mapping's
    own settings override it field by field (``trading.risk.presets``)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}", value=data)
    if "preset" not in data:
        return _validate(data, source)
    path, raw = read_preset(data["preset"], source, deadline=deadline)
    preset = _validate(raw, str(path))
    config = _validate(merge_preset(raw, data, source), source)
    for change in loosenings(preset, config):
        logger.warning("%s: %s loosens the preset %s (%s)", source, change, path.stem, change.why)
    return config


def _validate(data: Mapping[str, Any], source: str) -> RiskConfig:
    path = None if source.startswith("<") else source
    try:
        top = _TopLevel.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(source, exc, _TopLevel, hints=_MOVED) from None
    rules: dict[str, RuleConfig] = {}
    for key, raw in top.rules.items():
        rules[str(key)] = _rule(str(key), raw, source, path)
    settings = {field: getattr(top, field) for field in RiskConfig.model_fields if field != "rules"}
    return RiskConfig(**settings, rules=rules)


def _rule(name: str, raw: Any, source: str, path: str | None) -> RuleConfig:
    body = {} if raw is None else raw
    if not isinstance(body, Mapping):
        raise ConfigError(
            f"{source}: rule {name!r}: bad value {shorten(body)}: allowed a mapping of the rule's fields",
            path=path,
            field=name,
            value=body,
            allowed="a mapping of fields",
        )
    kind = body.get("kind", name)
    rule_type = RULES.get(kind) if isinstance(kind, str) else None
    if rule_type is None:
        known = ", ".join(sorted(RULES))
        hint = unknown_key_hint(str(kind), sorted(RULES)) if isinstance(kind, str) else ""
        hint = f" ({hint})" if hint.startswith("did you mean") else ""
        shown = shorten(kind)
        raise ConfigError(
            f"{source}: rule {name!r}, field 'kind': bad value {shown}: allowed one of {known}{hint}",
            path=path,
            field=f"{name}.kind",
            value=kind,
            allowed=known,
        )
    model = rule_type.config_type
    try:
        return model.model_validate({**body, "kind": kind})
    except ValidationError as exc:
        raise format_validation_error(source, exc, model, rule=name) from None


def require_enforced_rule(config: RiskConfig, source: str | Path) -> RiskConfig:
    """``config`` when some rule is enabled in enforce mode (or the file allows none);
    ``ConfigError`` otherwise: an empty or all-shadow risk file limits nothing."""
    if config.enforced_rules() or config.allow_no_enforced_rules:
        return config
    listed = ", ".join(
        f"{name} ({'disabled' if not rule.enabled else rule.mode})" for name, rule in config.rules.items()
    )
    raise ConfigError(
        f"{source}: no rule is enabled in enforce mode, so this file limits nothing "
        f"(rules: {_cut(listed) if listed else 'none'}); enable one with mode: enforce, "
        "or set allow_no_enforced_rules: true to run without a risk limit",
        path=None if str(source).startswith("<") else source,
        field="rules",
        value=listed,
        allowed="at least one enabled rule in enforce mode",
    )


def _cut(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def risk_config_from_bytes(data: bytes, source: str | Path, *, deadline: float | None = None) -> RiskConfig:
    """Parse and validate a risk file's bytes; ``deadline`` (``time.monotonic()``, default
    ``PARSE_SECONDS`` from now) bounds the parse."""
    if deadline is None:
        deadline = _time.monotonic() + PARSE_SECONDS
    mapping = mapping_of(parse_yaml(data, source, deadline=deadline), source)
    return require_enforced_rule(parse_risk_config(mapping, str(source), deadline=deadline), source)


def load_risk_config(path: str | Path) -> RiskConfig:
    """Read and validate a risk YAML file; ``ConfigError`` on any problem, nothing half-loaded."""
    file = Path(path)
    return risk_config_from_bytes(read_config_bytes(file), file)


def config_digest(path: str | Path) -> str:
    """A hash of the file's bytes (read as the loader reads them), to tell a real change from a touch."""
    return hashlib.sha256(read_config_bytes(path)).hexdigest()


class ConfigWatcher:
    """Tells whether a file may have changed (``moved``: one ``stat``, cheap enough for the event
    loop) and whether the bytes a reader read are new (``new_content``: a hash, off the loop)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp = self._stat()
        try:
            self._digest: str | None = config_digest(self.path)
        except ConfigError:
            self._digest = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def moved(self) -> bool:
        """True when the file's mtime, size or inode changed since the last call (False when gone)."""
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def new_content(self, data: bytes) -> bool:
        """True when ``data`` differs from the content seen last; remembers it."""
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._digest:
            return False
        self._digest = digest
        return True

    def __repr__(self) -> str:
        return f"ConfigWatcher({str(self.path)!r})"
