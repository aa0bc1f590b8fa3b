"""Which way a risk setting loosens: the direction each config field declares, and the diff.

Every field of a risk config model says, in its annotation, which change of its value weakens
the safety device::

    limit: Annotated[Number, Field(gt=0), Looser.HIGHER]        # a higher loss limit loosens
    minutes: Annotated[Number, Field(gt=0), Looser.LOWER]       # a shorter cooldown loosens
    symbols: Annotated[tuple[str, ...], Looser.FEWER]           # unblocking a symbol loosens

``loosenings(running, proposed)`` lists every change of ``proposed`` that loosens an *enforced*
rule (enabled, mode enforce) or a file-wide setting; the tamper lock refuses an edit while that
list is not empty. A rule in shadow mode or disabled is not a safety device yet: any change to
it is free, and turning it on is a tightening. ``tests/unit/risk/test_loosening.py`` checks that
every field of every rule config declares a direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from pydantic import BaseModel

from trading.risk.actions import Action
from trading.risk.amounts import show_amount
from trading.risk.unlock_policy import MANUAL_UNLOCK

__all__ = [
    "ACTION_SEVERITY",
    "Each",
    "Loosening",
    "Looser",
    "RiskSettings",
    "direction_of",
    "limit_fields",
    "loosenings",
]


class Looser(Enum):
    """The change of a field's value that loosens the safety device (its text says it)."""

    HIGHER = "a higher value loosens"  # loss limits, targets, grace periods, trade counts
    LOWER = "a lower value loosens"  # cooldowns, rate windows
    OFF = "turning it off loosens"  # enabled, include_commissions, flatten_at_close, tamper_lock
    ON = "turning it on loosens"  # stop_trailing_at_start, allow_no_enforced_rules
    FEWER = "removing an item loosens"  # blocked symbols, holidays
    MORE = "adding an item loosens"  # session days
    NARROWER = "leaving a symbol out loosens (empty: every symbol)"  # a rule's symbol scope
    MILDER = "a milder action loosens"  # by ACTION_SEVERITY
    SHADOW = "enforce -> shadow loosens"  # mode
    SECTION = "removing the section loosens; its fields compare by their own directions"
    WINDOW_OPEN = "a wider session loosens (its open)"  # with WINDOW_CLOSE: the daily window
    WINDOW_CLOSE = "a wider session loosens (its close)"
    ANY = "any change counts as loosening"  # no order (a time zone, the reset time, the webhook)
    NEVER = "not a limit: a change never loosens"  # a description, the rule's kind
    EASIER_UNLOCK = "an easier manual unlock loosens (never -> with_reason -> always)"  # manual_unlock


@dataclass(frozen=True, slots=True)
class Each:
    """A mapping of per-key numbers (per-symbol limits) where a missing key falls back to the
    model's ``fallback`` field: each key's *effective* value compares by ``direction``."""

    direction: Looser
    fallback: str


# Mildest first: an action replaced by one earlier in this order is a loosening.
ACTION_SEVERITY: tuple[Action, ...] = (
    Action.ALERT,
    Action.DENY,
    Action.COOLDOWN,
    Action.LOCK,
    Action.REDUCE_TO_LIMIT,
    Action.CLOSE_POSITION,
    Action.FLATTEN,
    Action.FLATTEN_AND_LOCK,
)
_LIMIT_KINDS = frozenset(
    {
        Looser.HIGHER,
        Looser.LOWER,
        Looser.FEWER,
        Looser.MORE,
        Looser.NARROWER,
        Looser.SECTION,
        Looser.WINDOW_OPEN,
        Looser.WINDOW_CLOSE,
    }
)
_RULE_LEVEL = frozenset({"kind", "enabled", "mode"})  # compared rule by rule, before the fields
_DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class Loosening:
    """One loosening change: ``field`` went from ``before`` to ``after``; ``why`` is its direction."""

    field: str
    before: str
    after: str
    why: str

    def __str__(self) -> str:
        return f"{self.field} {self.before} -> {self.after}"


class RiskSettings(Protocol):
    """What ``loosenings`` reads of a ``RiskConfig`` (which it cannot import: the config module
    imports this one for the markers)."""

    @property
    def rules(self) -> Mapping[str, Any]: ...


def direction_of(model: type[BaseModel], name: str) -> Looser | Each | None:
    """The direction ``model``'s field ``name`` declares, or None when it declares none."""
    for item in model.model_fields[name].metadata:
        if isinstance(item, Looser | Each):
            return item
    return None


def loosenings(running: RiskSettings, proposed: RiskSettings) -> list[Loosening]:
    """Every change from ``running`` to ``proposed`` that loosens an enforced rule or a file-wide
    setting; empty when ``proposed`` is as strict or stricter everywhere."""
    found = _compare(running, proposed, "", skip=frozenset({"rules"}))
    for name, rule in running.rules.items():
        if not (rule.enabled and rule.mode == "enforce"):
            continue  # shadow or disabled: not a safety device yet, any change is free
        new = proposed.rules.get(name)
        where = f"rules.{name}"
        if new is None:
            found.append(Loosening(where, "enforced", "removed", "removing an enforced rule loosens"))
        elif new.kind != rule.kind:
            found.append(Loosening(f"{where}.kind", rule.kind, new.kind, "another rule in its place loosens"))
        elif not new.enabled:
            found.append(Loosening(f"{where}.enabled", "true", "false", Looser.OFF.value))
        elif new.mode != "enforce":
            found.append(Loosening(f"{where}.mode", rule.mode, new.mode, Looser.SHADOW.value))
        else:
            found.extend(_compare(rule, new, f"{where}.", skip=_RULE_LEVEL))
    return found


def limit_fields(model: BaseModel) -> dict[str, Any]:
    """The fields of ``model`` that are limits (a direction other than on/off, any or never),
    for the start-up line listing what is enforced."""
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        direction = direction_of(type(model), name)
        if name == "warning_threshold" or direction is None:
            continue
        if isinstance(direction, Each) or direction in _LIMIT_KINDS:
            value = getattr(model, name)
            if value not in (None, (), {}):
                out[name] = value
    return out


# --- comparing one model's fields --------------------------------------------------------------


def _compare(old: Any, new: Any, prefix: str, *, skip: frozenset[str]) -> list[Loosening]:
    """The loosened fields of the pydantic model ``old`` -> ``new`` (same type)."""
    model = type(old)
    found: list[Loosening] = []
    window: list[str] = []
    for name in model.model_fields:
        if name in skip:
            continue
        direction = direction_of(model, name)
        if direction in (Looser.WINDOW_OPEN, Looser.WINDOW_CLOSE):
            window.append(name)
            continue
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        field = prefix + name
        if isinstance(direction, Each):
            found.extend(_each(direction, before, after, old, new, field))
        elif direction is Looser.SECTION and before is not None and after is not None:
            found.extend(_compare(before, after, f"{field}.", skip=frozenset()))
        elif _looser(direction, before, after):
            why = "no direction declared: any change counts" if direction is None else direction.value
            found.append(Loosening(field, _show(before), _show(after), why))
    if window:
        found.extend(_window(old, new, prefix, window))
    return found


def _looser(direction: Looser | None, before: Any, after: Any) -> bool:
    """True when ``before -> after`` (already known to differ) loosens, by ``direction``.
    ``Looser.ANY``, or no direction declared: every change counts."""
    test = None if direction is None else _TESTS.get(direction)
    return True if test is None else test(before, after)


def _numbers(higher_loosens: bool) -> Callable[[Any, Any], bool]:
    def test(before: Any, after: Any) -> bool:
        if before is None or after is None:
            return True  # an optional number set or cleared: counted as a loosening
        return bool(after > before) if higher_loosens else bool(after < before)

    return test


def _narrower(before: Any, after: Any) -> bool:
    if not after:
        return False  # every symbol: the widest scope
    return not before or bool(set(before) - set(after))


_TESTS: dict[Looser, Callable[[Any, Any], bool]] = {
    Looser.NEVER: lambda before, after: False,
    Looser.HIGHER: _numbers(higher_loosens=True),
    Looser.LOWER: _numbers(higher_loosens=False),
    Looser.OFF: lambda before, after: bool(before) and not after,
    Looser.ON: lambda before, after: not before and bool(after),
    Looser.FEWER: lambda before, after: bool(set(before) - set(after)),
    Looser.MORE: lambda before, after: bool(set(after) - set(before)),
    Looser.NARROWER: _narrower,
    Looser.MILDER: lambda before, after: ACTION_SEVERITY.index(after) < ACTION_SEVERITY.index(before),
    Looser.SHADOW: lambda before, after: before == "enforce" and after != "enforce",
    Looser.SECTION: lambda before, after: after is None,  # removed (a section added is a new limit)
    Looser.EASIER_UNLOCK: lambda before, after: MANUAL_UNLOCK.index(after) > MANUAL_UNLOCK.index(before),
}


def _each(
    direction: Each, before: Mapping[str, Any], after: Mapping[str, Any], old: Any, new: Any, field: str
) -> Iterable[Loosening]:
    default_before, default_after = getattr(old, direction.fallback), getattr(new, direction.fallback)
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key, default_before), after.get(key, default_after)
        if was != now and _looser(direction.direction, was, now):
            yield Loosening(f"{field}.{key}", _show(was), _show(now), direction.direction.value)


def _window(old: Any, new: Any, prefix: str, names: list[str]) -> list[Loosening]:
    """A daily window (open, close; close <= open runs past midnight): looser when the new
    window has a moment outside the old one."""
    model = type(old)
    open_name = next(n for n in names if direction_of(model, n) is Looser.WINDOW_OPEN)
    close_name = next(n for n in names if direction_of(model, n) is Looser.WINDOW_CLOSE)
    old_open, old_close = getattr(old, open_name), getattr(old, close_name)
    new_open, new_close = getattr(new, open_name), getattr(new, close_name)
    if (old_open, old_close) == (new_open, new_close):
        return []
    start = (_seconds(new_open) - _seconds(old_open)) % _DAY
    if start + _length(new_open, new_close) <= _length(old_open, old_close):
        return []
    before = f"{old_open:%H:%M}-{old_close:%H:%M}"
    after = f"{new_open:%H:%M}-{new_close:%H:%M}"
    return [Loosening(f"{prefix}{open_name}/{close_name}", before, after, "a wider session loosens")]


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _length(start: time, end: time) -> int:
    """Seconds from ``start`` to ``end``; ``end`` at or before ``start`` is the next day."""
    return (_seconds(end) - _seconds(start)) % _DAY or _DAY


def _show(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return show_amount(value)  # an exact money limit: 2500, 1000.1
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 2500.0 -> 2500; 9999999.0 -> 9999999 (not 1e+07)
    if isinstance(value, tuple | list | frozenset | set):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, BaseModel):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.model_dump().items()) + "}"
    if value is None:
        return "null"
    return str(value)
