"""The activity log's levels: routine enforcement WARNING, flatten and halt CRITICAL, shadow INFO."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trading.bus import EventBus
from trading.desk._activity import subscribe_activity
from trading.model import EnforcementExecuted, RuleViolated, Severity, TradingState, TradingStateChanged
from trading.storage import ActivityLog, Database

TS = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[EventBus, ActivityLog]]:
    db = Database(tmp_path / "desk.db")
    log = ActivityLog(db).start()
    bus = EventBus()
    subscribe_activity(bus, log)
    yield bus, log
    log.close()
    db.close()


def _levels(log: ActivityLog) -> list[tuple[str, str]]:
    log.flush()
    return [(row["level"], row["message"]) for row in reversed(log.recent())]


def _violation(action: str, *, shadow: bool = False) -> RuleViolated:
    return RuleViolated(
        ts=TS, rule="r", message=f"{action} it", action=action, severity=Severity.CRITICAL, shadow=shadow
    )


def test_activity_routine_enforcement_warning_flatten_critical_shadow_info(logged) -> None:
    bus, log = logged

    for action in ("cooldown", "close_position", "reduce_to_limit", "flatten", "flatten_and_lock"):
        bus.publish(_violation(action))
    bus.publish(_violation("flatten_and_lock", shadow=True))

    assert [level for level, _ in _levels(log)] == [
        "WARNING",
        "WARNING",
        "WARNING",
        "CRITICAL",
        "CRITICAL",
        "INFO",
    ]


def test_activity_enforcement_steps_flatten_critical_others_warning(logged) -> None:
    bus, log = logged

    for action in ("close_position", "reduce_to_limit", "lock", "flatten"):
        bus.publish(
            EnforcementExecuted(ts=TS, action=action, rule="r", reason="why", result="ok", symbol=None)
        )

    assert [level for level, _ in _levels(log)] == ["WARNING", "WARNING", "WARNING", "CRITICAL"]


def test_activity_state_changes_halt_critical_reducing_warning_active_info(logged) -> None:
    bus, log = logged
    a, r, h = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED

    for previous, state in ((a, r), (r, h), (h, a)):
        bus.publish(TradingStateChanged(ts=TS, previous=previous, state=state, reason="x"))

    assert _levels(log) == [
        ("WARNING", "trading state ACTIVE -> REDUCING: x"),
        ("CRITICAL", "trading state REDUCING -> HALTED: x"),
        ("INFO", "trading state HALTED -> ACTIVE: x"),
    ]
