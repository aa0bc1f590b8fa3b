"""Enforcement actions: the ``Action`` enum and the typed remedy a violation carries.

``Action`` is what a rule's ``action:`` in risk.yaml may say (the YAML spells the values);
each member carries its description, the verb of its shadow-mode "would have" record and the
trading state its lockout imposes. A ``Remedy`` is one action with its parameters as typed
fields: a ``Cooldown`` cannot exist without its ``seconds``, a ``ReduceToLimit`` without its
``symbol`` and ``excess``. The ``Enforcer`` dispatches on ``remedy.action`` through one table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple

from trading.model import TradingState

__all__ = [
    "REMEDY_TYPES",
    "Action",
    "Alert",
    "ClosePosition",
    "Cooldown",
    "Deny",
    "Flatten",
    "FlattenAndLock",
    "Lock",
    "ReduceToLimit",
    "Remedy",
    "lockout_state",
    "plain_remedy",
    "remedy_parameters",
]


class Action(StrEnum):
    """Every enforcement action a rule may ask for (the values are risk.yaml's spellings)."""

    ALERT = "alert"
    DENY = "deny"
    CLOSE_POSITION = "close_position"
    REDUCE_TO_LIMIT = "reduce_to_limit"
    FLATTEN = "flatten"
    FLATTEN_AND_LOCK = "flatten_and_lock"
    LOCK = "lock"
    COOLDOWN = "cooldown"

    @property
    def description(self) -> str:
        return _INFO[self].description

    @property
    def verb(self) -> str:
        """What was done, in the past tense: "flattened and locked the account"."""
        return _INFO[self].verb

    @property
    def lockout(self) -> TradingState | None:
        """The trading state this action's lockout imposes; None when it locks nothing."""
        return _INFO[self].lockout

    @property
    def would_have(self) -> str:
        """The shadow-mode record's opening: "would have flattened and locked the account"."""
        return "would have " + _INFO[self].verb


class _Info(NamedTuple):
    description: str
    verb: str
    lockout: TradingState | None = None


_INFO: dict[Action, _Info] = {
    Action.ALERT: _Info("raise an alert only", "alerted"),
    Action.DENY: _Info("refuse orders in the pre-trade check (no action on the account)", "denied the order"),
    Action.CLOSE_POSITION: _Info("close the offending position", "closed the position"),
    Action.REDUCE_TO_LIMIT: _Info("reduce the offending position by the excess", "reduced the position"),
    Action.FLATTEN: _Info("cancel every open order, then close every position", "flattened"),
    Action.FLATTEN_AND_LOCK: _Info(
        "flatten, then halt the account until the daily reset",
        "flattened and locked the account",
        TradingState.HALTED,
    ),
    Action.LOCK: _Info(
        "no new entries until the daily reset (REDUCING)", "stopped new entries", TradingState.REDUCING
    ),
    Action.COOLDOWN: _Info(
        "no new entries for the rule's cooldown (REDUCING)", "paused new entries", TradingState.REDUCING
    ),
}


def lockout_state(action: Action) -> TradingState:
    """The state ``action``'s lockout imposes; ``ValueError`` for an action that locks nothing."""
    state = action.lockout
    if state is None:
        raise ValueError(f"action {action.value!r} takes no lockout")
    return state


# --- remedies: one action with its typed parameters -----------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    action: ClassVar[Action] = Action.ALERT


@dataclass(frozen=True, slots=True)
class Deny:
    action: ClassVar[Action] = Action.DENY


@dataclass(frozen=True, slots=True)
class ClosePosition:
    action: ClassVar[Action] = Action.CLOSE_POSITION
    symbol: str


@dataclass(frozen=True, slots=True)
class ReduceToLimit:
    action: ClassVar[Action] = Action.REDUCE_TO_LIMIT
    symbol: str
    excess: float  # the quantity to take off the position


@dataclass(frozen=True, slots=True)
class Flatten:
    action: ClassVar[Action] = Action.FLATTEN


@dataclass(frozen=True, slots=True)
class FlattenAndLock:
    action: ClassVar[Action] = Action.FLATTEN_AND_LOCK


@dataclass(frozen=True, slots=True)
class Lock:
    action: ClassVar[Action] = Action.LOCK


@dataclass(frozen=True, slots=True)
class Cooldown:
    action: ClassVar[Action] = Action.COOLDOWN
    seconds: float  # how long new entries stay paused


Remedy = Alert | Deny | ClosePosition | ReduceToLimit | Flatten | FlattenAndLock | Lock | Cooldown

REMEDY_TYPES: dict[Action, type[Remedy]] = {
    cls.action: cls
    for cls in (Alert, Deny, ClosePosition, ReduceToLimit, Flatten, FlattenAndLock, Lock, Cooldown)
}

_PLAIN: dict[Action, Remedy] = {
    Action.ALERT: Alert(),
    Action.DENY: Deny(),
    Action.FLATTEN: Flatten(),
    Action.FLATTEN_AND_LOCK: FlattenAndLock(),
    Action.LOCK: Lock(),
}


def plain_remedy(action: Action) -> Remedy:
    """The remedy of an action that takes no parameters; ``ValueError`` names what the others need."""
    remedy = _PLAIN.get(action)
    if remedy is None:
        cls = REMEDY_TYPES[action]
        needs = ", ".join(f.name for f in fields(cls))
        raise ValueError(f"action {action.value!r} needs its parameters: build {cls.__name__}({needs})")
    return remedy


# Each remedy type's parameters as recorded with a violation (the symbol has a column of its own).
_RECORDED: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls) if f.name != "symbol") for cls in REMEDY_TYPES.values()
}


def remedy_parameters(remedy: Remedy) -> dict[str, Any]:
    """The remedy's parameters for a violation's record: ``{"seconds": 120.0}`` for a cooldown."""
    return {name: getattr(remedy, name) for name in _RECORDED[type(remedy)]}
