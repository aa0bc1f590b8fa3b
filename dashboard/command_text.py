"""Commands in words: what a confirmation says will happen, and a sent command's status.

A confirmation names exactly what the desk will do, from the snapshot on screen: the
positions and quantities a flatten closes, the side and quantity that closes one position,
the lockout an unlock ends. ``ClosePosition`` also records the position it was asked for
(``Expectation``), so a confirmation is refused when that position changed since. Pure: no
``st.*`` calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.desk_clock import DeskClock
from dashboard.money import Tone, pnl, quantity
from trading.commands import (
    ARGUMENTS,
    ClosePosition,
    Command,
    CommandKind,
    FlattenAll,
    Pause,
    ReloadRiskConfig,
    Resume,
    Unlock,
)
from trading.snapshot import PositionView, Snapshot

__all__ = [
    "LABELS",
    "Expectation",
    "argument_help",
    "arguments_text",
    "confirm_text",
    "expectation",
    "position_label",
    "recheck",
    "status_line",
]

LABELS = {
    CommandKind.FLATTEN_ALL: "Flatten all",
    CommandKind.CLOSE_POSITION: "Close position",
    CommandKind.PAUSE: "Pause new entries",
    CommandKind.RESUME: "Resume new entries",
    CommandKind.UNLOCK: "Unlock",
    CommandKind.RELOAD_RISK_CONFIG: "Reload the risk configuration",
}


def argument_help(kind: CommandKind, name: str) -> str:
    """The protocol's own description of an argument (``trading.commands.ARGUMENTS``)."""
    return next(a.describe() for a in ARGUMENTS[kind] if a.name == name)


def arguments_text(args: Mapping[str, Any] | None) -> str:
    """A command row's arguments as words: ``symbol: ES · pause: no``; "" when there are none."""
    parts = []
    for name, value in (args or {}).items():
        shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        parts.append(f"{name}: {shown}")
    return " · ".join(parts)


def _side(p: PositionView) -> str:
    return "long" if p.quantity > 0 else "short"


def position_label(p: PositionView) -> str:
    """``ES: long 2 @ 5,000.25 (unrealized +$325.00)``."""
    return (
        f"{p.symbol}: {_side(p)} {quantity(abs(p.quantity))} @ {p.avg_price:,.10g} ({pnl(p.unrealized_pnl)})"
    )


def _closing(p: PositionView) -> str:
    return f"{'sell' if p.quantity > 0 else 'buy'} {quantity(abs(p.quantity))} {p.symbol}"


def _reason(command: Command) -> str:
    reason = getattr(command, "reason", None)
    return f" Reason: {reason}." if reason else ""


def confirm_text(command: Command, snapshot: Snapshot | None, clock: DeskClock) -> str:
    """What the desk will do, in words, as of the snapshot on screen."""
    asof = f"as of {clock.local(clock.now)}"
    positions = {p.symbol: p for p in snapshot.positions} if snapshot else {}
    if isinstance(command, FlattenAll):
        return _flatten_text(command, snapshot, asof)
    if isinstance(command, ClosePosition):
        found = positions.get(command.symbol)
        if found is None:
            return f"Close {command.symbol}: no open position in {command.symbol} {asof}; nothing to close."
        return (
            f"Close {command.symbol}: {_closing(found)} at market, the whole {_side(found)} position "
            f"of {quantity(abs(found.quantity))} @ {found.avg_price:,.10g} "
            f"(unrealized {pnl(found.unrealized_pnl)} {asof})."
        )
    if isinstance(command, Pause):
        return (
            "Pause new entries: the desk accepts no new entry until resumed; exits, stops and "
            f"cancels still work.{_reason(command)}"
        )
    if isinstance(command, Resume):
        note = "" if snapshot is None or snapshot.paused else f" (the desk is not paused {asof})"
        return (
            f"Resume new entries{note}; lockouts still apply until they end or are unlocked."
            f"{_reason(command)}"
        )
    if isinstance(command, Unlock):
        return _unlock_text(command, snapshot, clock, asof)
    assert isinstance(command, ReloadRiskConfig)
    return (
        "Reload the risk configuration from its file: a valid file replaces the rules now; an "
        "invalid one is refused and the running rules stay."
    )


def _flatten_text(command: FlattenAll, snapshot: Snapshot | None, asof: str) -> str:
    positions = snapshot.positions if snapshot else ()
    orders = len(snapshot.open_orders) if snapshot else 0
    if positions:
        each = ", ".join(
            f"{p.symbol} {_side(p)} {quantity(abs(p.quantity))} ({_closing(p)})" for p in positions
        )
        contracts = sum(abs(p.quantity) for p in positions)
        what = (
            f"close every position at market: {each}; {quantity(contracts)} in "
            f"{len(positions)} position{'s' if len(positions) != 1 else ''} {asof}"
        )
    else:
        what = f"no open position {asof}"
    then = "then pause new entries until resumed" if command.pause else "new entries stay allowed"
    cancel = f"cancel all {orders} open order{'s' if orders != 1 else ''}"
    return f"Flatten all: {what}; {cancel}; {then}.{_reason(command)}"


def _unlock_text(command: Unlock, snapshot: Snapshot | None, clock: DeskClock, asof: str) -> str:
    lock = next((lo for lo in snapshot.lockouts if lo.scope == command.scope), None) if snapshot else None
    if lock is None:
        return (
            f"Unlock {command.scope}: no lockout on {command.scope} {asof}; the desk will say so and "
            f"change nothing.{_reason(command)}"
        )
    ends = f"until {clock.local(lock.until)}" if lock.until else "until the daily reset"
    return (
        f"Unlock {command.scope}: end its lockout by {lock.rule} ({lock.reason}; {ends}) so new "
        f"entries are allowed again.{_reason(command)}"
    )


@dataclass(frozen=True, slots=True)
class Expectation:
    """The position a close was asked for: the confirmation is refused when it changed."""

    symbol: str
    quantity: float


def expectation(command: Command, snapshot: Snapshot | None) -> Expectation | None:
    if not isinstance(command, ClosePosition) or snapshot is None:
        return None
    found = next((p for p in snapshot.positions if p.symbol == command.symbol), None)
    return None if found is None else Expectation(found.symbol, found.quantity)


def recheck(expected: Expectation | None, snapshot: Snapshot | None) -> str:
    """Why the command must not be sent now ("" when it may): the position asked for is gone or changed."""
    if expected is None or snapshot is None:
        return ""
    found = next((p for p in snapshot.positions if p.symbol == expected.symbol), None)
    if found is None:
        return f"{expected.symbol} is no longer open: it closed after you asked; nothing was sent"
    if abs(found.quantity - expected.quantity) > 1e-9:
        return (
            f"{expected.symbol} changed after you asked (now {_side(found)} {quantity(abs(found.quantity))}, "
            f"was {'long' if expected.quantity > 0 else 'short'} {quantity(abs(expected.quantity))}); "
            "nothing was sent: ask again"
        )
    return ""


def status_line(row: Mapping[str, Any]) -> tuple[Tone, str]:
    """A sent command's status as words and a tone: sent, running, done or failed with the desk's result."""
    args = arguments_text(row.get("args"))
    head = (
        f"command #{row['id']} {row['kind']}" + (f" ({args})" if args else "") + f" by {row['requested_by']}"
    )
    status = row["status"]
    if status == "pending":
        return Tone.INFO, f"{head}: sent, waiting for the desk"
    if status == "running":
        return Tone.INFO, f"{head}: the desk is running it"
    if status == "done":
        return Tone.GOOD, f"{head}: done: {row['result']}"
    return Tone.BAD, f"{head}: {status}: {row['result']}"
