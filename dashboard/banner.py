"""What the top of every page says: the desk's trading state, or STALE, and how old the numbers are.

The state is shown in colour only while the desk's heartbeat is fresh: once it is older than
the limit the banner turns grey "STALE" (never a green ACTIVE over old numbers). While the
desk's storage fails (its heartbeat or snapshot says degraded) the banner says so. The numbers
on screen are "updated N s ago" (wall time since the desk built the snapshot shown): plain
while that is within a refresh and the stale limit, amber past it, red past twice that or
while the desk is stale. Pure: no ``st.*`` calls; ``dashboard.session`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.data import DeskHealth, DeskStatus
from dashboard.desk_clock import DeskClock, format_duration
from dashboard.money import Tone
from trading.snapshot import Snapshot

__all__ = ["Banner", "Freshness", "degraded_message", "desk_banner", "freshness"]

_STATE_TONES = {"ACTIVE": Tone.GOOD, "REDUCING": Tone.WARN, "HALTED": Tone.BAD}


@dataclass(frozen=True, slots=True)
class Banner:
    label: str  # "ACTIVE", "REDUCING", "HALTED", "STALE", "NO DESK"
    tone: Tone
    reason: str = ""
    paused: bool = False
    warning: str = ""  # a sentence for an operator when the desk is not running
    degraded: str = ""  # why the desk's storage is failing (its journal holds unwritten steps); "" if not

    @property
    def stale(self) -> bool:
        return self.label == "STALE"

    def markdown(self) -> str:
        reason = f": {self.reason}" if self.reason else ""
        paused = " · :orange[PAUSED]" if self.paused else ""
        return f"**Trading state:** :{self.tone.value}[**{self.label}**]{reason}{paused}"


@dataclass(frozen=True, slots=True)
class Freshness:
    age: float | None  # seconds since the desk built the numbers on screen
    tone: Tone

    def text(self) -> str:
        if self.age is None:
            return "no numbers from the desk yet"
        return f"updated {_age(self.age)} ago"


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else format_duration(seconds)


def freshness(
    snapshot: Snapshot | None, *, wall_now: float, refresh: float, stale_after: float, desk_stale: bool
) -> Freshness:
    if snapshot is None:
        return Freshness(None, Tone.NEUTRAL)
    age = max(0.0, wall_now - snapshot.heartbeat)
    expected = refresh + stale_after
    if desk_stale or age > 2 * expected:
        return Freshness(age, Tone.BAD)
    return Freshness(age, Tone.WARN if age > expected else Tone.NEUTRAL)


def desk_banner(
    status: DeskStatus, snapshot: Snapshot | None, clock: DeskClock, *, state_name: str
) -> Banner:
    """The banner for ``status`` (read now) over ``snapshot`` (the numbers on screen)."""
    if status.health is DeskHealth.NO_STATE:
        return Banner(
            "NO DESK",
            Tone.NEUTRAL,
            warning=f"desk not running: no desk has written state directory {state_name!r} yet",
        )
    if snapshot is not None:
        last = snapshot.trading_state
    else:
        last = status.heartbeat.trading_state if status.heartbeat is not None else "unknown"
    if status.health is DeskHealth.RUNNING:
        degraded = _degraded(status, snapshot)
        if snapshot is None:
            return Banner(last, _STATE_TONES.get(last, Tone.NEUTRAL), degraded=degraded)
        return Banner(
            snapshot.trading_state,
            _STATE_TONES.get(snapshot.trading_state, Tone.NEUTRAL),
            snapshot.state_reason,
            snapshot.paused,
            degraded=degraded,
        )
    return Banner("STALE", Tone.NEUTRAL, f"last known {last}", warning=_not_running(status, clock))


def _degraded(status: DeskStatus, snapshot: Snapshot | None) -> str:
    """The heartbeat's word first (it is written in place when the disk is full, the snapshot
    cannot be), then the snapshot's."""
    beat = status.heartbeat
    if beat is not None and beat.degraded:
        return beat.degraded_reason or "storage failing"
    return snapshot.storage_problem if snapshot is not None else ""


def degraded_message(reason: str) -> str:
    """What the banner says while the desk's storage fails."""
    return (
        f"Storage failing: {reason}. The desk's journal holds what it could not write and retries; "
        "the account stays HALTED (no new entries) until it can write again."
    )


def _not_running(status: DeskStatus, clock: DeskClock) -> str:
    beat = status.heartbeat
    if beat is None or status.age_seconds is None:
        return "desk not running: no heartbeat from the desk; the numbers below may be old"
    return (
        f"desk not running: last heard from {_age(status.age_seconds)} ago "
        f"(desk time {clock.local(beat.sim_time)}, pid {beat.pid}); the numbers below are from then"
    )
