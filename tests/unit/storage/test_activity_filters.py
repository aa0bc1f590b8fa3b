"""Activity log filters by source and time, the audit trail paged: what the dashboard's filters use."""

from __future__ import annotations

from datetime import timedelta

from trading.clock import TestClock
from trading.storage import ActivityLog, AuditRepository, Database


def _log_three(db: Database, clock: TestClock) -> ActivityLog:
    log = ActivityLog(db, clock=clock).start()
    log.log_activity("INFO", "broker", "fill 1")
    clock.advance(60)
    log.log_activity("WARNING", "risk", "cooldown")
    clock.advance(60)
    log.log_activity("INFO", "commands", "pause by alice: done")
    log.flush()
    return log


def test_activity_recent_and_count_filter_by_sources(db: Database, clock: TestClock) -> None:
    log = _log_three(db, clock)

    rows = log.recent(sources=("risk", "commands"))

    assert [r["message"] for r in rows] == ["pause by alice: done", "cooldown"]
    assert log.count(sources=("risk", "commands")) == 2 and log.count(sources=()) == 0
    log.close()


def test_activity_recent_and_count_filter_since_inclusive(db: Database, clock: TestClock) -> None:
    log = _log_three(db, clock)

    since = clock.now() - timedelta(seconds=60)

    assert [r["message"] for r in log.recent(since=since)] == ["pause by alice: done", "cooldown"]
    assert log.count(since=since, level="WARNING") == 1
    log.close()


def test_audit_recent_pages_newest_first_and_counts(db: Database, clock: TestClock) -> None:
    audit = AuditRepository(db)
    for i in range(5):
        audit.add(ts=clock.advance(1), action="lock", rule=f"r{i}", reason="why", result="ok")

    second_page = audit.recent(limit=2, offset=2)

    assert [row["rule"] for row in second_page] == ["r2", "r1"]
    assert audit.count() == 5
