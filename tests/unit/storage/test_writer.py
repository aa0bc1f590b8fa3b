"""BackgroundWriter: one queue and one thread per database, shared by every producer."""

from __future__ import annotations

import gc
import logging
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from trading.clock import TestClock
from trading.signals.jobs import JobRecord
from trading.storage import (
    ActivityLog,
    BackgroundJobStore,
    BackgroundWriter,
    BackgroundWriterStatistics,
    Database,
    JobRepository,
)
from trading.storage._schema import activity

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
COLUMNS = ("ts", "level", "source", "message", "details")
LOGGER = "trading.storage.writer"


def _job(task_id: str) -> JobRecord:
    return JobRecord(task_id=task_id, name="risk_sweep", lane="risk", status="PENDING", created_at=T0)


def _plain_rows(items: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Tuples put as (ts, level, source, message, details) become rows as they are."""
    return [item[1:] for item in items]  # each queued item is the channel's key, then the values


def _row(message: str, level: str | None = "INFO") -> tuple[Any, ...]:
    return ("2026-01-05T15:00:00.000000+00:00", level, "test", message, None)


def _messages(db: Database) -> list[str]:
    """Activity messages in id order (read directly: an ActivityLog would open a channel)."""
    query = select(activity.c.message).order_by(activity.c.id)
    return list(db.read(lambda conn: conn.execute(query).scalars().all()))


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("writer-")]


def test_background_writer_is_one_per_database_shared_by_every_producer(db: Database) -> None:
    # Arrange: the three producers of the desk, before the writer starts
    log = ActivityLog(db)
    log.log_activity("INFO", "test", "first")
    store = BackgroundJobStore(JobRepository(db))  # starts the writer
    log.start()
    before = len(_writer_threads())
    # Act
    for i in range(3):
        store.record(_job(f"t{i}"))
        log.log_activity("INFO", "test", f"after job {i}")
    assert log.flush()
    # Assert
    assert db.writer() is db.writer()
    assert len(_writer_threads()) == before  # no thread of its own for either producer
    assert JobRepository(db).count() == 3
    assert _messages(db) == ["first", "after job 0", "after job 1", "after job 2"]
    stats = db.writer().statistics()
    assert (stats.written, stats.channels, stats.errors, stats.dropped) == (7, 2, 0, 0)
    store.close()
    log.close()


def test_background_writer_one_batch_is_one_transaction_with_every_channel(db: Database) -> None:
    # Arrange: rows of two producers queued before the writer runs
    writer = db.writer()
    log = ActivityLog(db)
    jobs = JobRepository(db).channel(writer)
    for i in range(50):
        log.log_activity("INFO", "test", f"r{i}")
        jobs.put(_job(f"t{i}"))
    # Act
    writer.start()
    assert writer.flush()
    # Assert
    assert writer.statistics().batches == 1
    assert (log.statistics().batches, jobs.batches, jobs.written) == (1, 1, 50)
    assert log.count() == 50


def test_background_writer_bounded_channel_drops_while_unbounded_never_does(
    db: Database, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: the activity log may drop above 5 queued items; job records never
    log = ActivityLog(db, max_queue=5, clock=clock)
    writer = db.writer()
    jobs = JobRepository(db).channel(writer)
    caplog.set_level(logging.WARNING)
    # Act: the queue fills with job records, which push the log over its bound
    accepted_jobs = [jobs.put(_job(f"t{i}")) for i in range(10)]
    accepted_log = log.log_activity("INFO", "test", "under overload")
    # Assert
    assert accepted_jobs == [True] * 10
    assert accepted_log is False
    assert (log.statistics().dropped, jobs.dropped) == (1, 0)
    assert caplog.messages == [
        "activity log dropped 1 records because its queue is full (10 records) (1 dropped in total)"
    ]
    assert writer.flush()
    assert JobRepository(db).count() == 10


def test_background_writer_bad_row_is_lost_alone_and_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: the middle row breaks NOT NULL, which fails its whole batch
    writer = db.writer()
    channel = writer.channel("test rows", activity, COLUMNS, _plain_rows)
    for row in (_row("good 1"), _row("bad", level=None), _row("good 2")):
        channel.put(row)
    # Act
    flushed = writer.flush()
    # Assert
    assert flushed
    assert _messages(db) == ["good 1", "good 2"]
    assert (channel.written, channel.errors) == (2, 1)
    assert [r.getMessage().split(";")[0] for r in caplog.records if r.levelno == logging.ERROR] == [
        "test rows lost 1 of 3 rows"
    ]


def test_background_writer_item_that_cannot_become_a_row_is_lost_alone(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    def build(items: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [_row(f"message {1 / divisor:.2f}") for _, divisor in items]

    writer = db.writer()
    channel = writer.channel("test rows", activity, COLUMNS, build)
    # Act
    for divisor in (1, 0, 4):
        channel.put((divisor,))
    writer.flush()
    # Assert
    assert _messages(db) == ["message 1.00", "message 0.25"]
    assert (channel.written, channel.errors, writer.statistics().errors) == (2, 1, 1)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "test rows cannot store (0,)"
    ]


def test_background_writer_flush_without_thread_writes_in_the_caller(db: Database) -> None:
    # Arrange
    writer = db.writer()
    channel = writer.channel("test rows", activity, COLUMNS, _plain_rows)
    channel.put(_row("one"))
    # Act
    flushed = writer.flush()
    # Assert
    assert flushed and not writer.running
    assert _messages(db) == ["one"]


def test_background_writer_close_writes_queue_then_refuses_counted(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: two batches queued for a running writer
    writer = db.writer()
    channel = writer.channel("test rows", activity, COLUMNS, _plain_rows)
    for i in range(2000):
        channel.put(_row(f"r{i}"))
    writer.start()
    # Act
    done = writer.close()
    late = channel.put(_row("late"))
    # Assert
    assert done and late is False
    assert not writer.running
    assert len(_messages(db)) == 2000
    assert writer.statistics() == BackgroundWriterStatistics(
        queued=0, written=2000, batches=2, retries=0, errors=0, dropped=1, channels=1
    )
    assert caplog.messages == ["test rows dropped 1 records because it is closed (1 dropped in total)"]
    with pytest.raises(RuntimeError, match="is closed"):
        writer.start()


def test_background_writer_database_close_writes_what_is_queued(db_path: Any) -> None:
    # Arrange
    db = Database(db_path)
    log = ActivityLog(db)  # never started
    log.log_activity("INFO", "test", "queued at close")
    # Act
    db.close()
    # Assert
    with Database(db_path) as reopened:
        assert _messages(reopened) == ["queued at close"]


def test_background_writer_memory_database_shares_its_one_connection() -> None:
    # Arrange
    with Database("sqlite://") as db:
        log = ActivityLog(db).start()
        store = BackgroundJobStore(JobRepository(db))
        # Act
        threads = [
            threading.Thread(target=lambda n=n: [store.record(_job(f"{n}-{i}")) for i in range(200)])
            for n in range(4)
        ]
        for t in threads:
            t.start()
        for i in range(500):
            log.log_activity("INFO", "test", f"r{i}")
        for t in threads:
            t.join()
        # Assert
        assert log.flush()
        assert (JobRepository(db).count(), log.count()) == (800, 500)


def test_background_writer_bad_settings_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        BackgroundWriter(db.engine, batch_size=0)
    with pytest.raises(ValueError, match="flush_interval must be > 0 seconds, got 0"):
        BackgroundWriter(db.engine, flush_interval=0)
    with pytest.raises(ValueError, match="max_queue must be None or an int >= 1, got 0"):
        db.writer().channel("test rows", activity, COLUMNS, _plain_rows, max_queue=0)


def test_background_writer_repr_shows_state_and_channels(db: Database, db_path: Any) -> None:
    writer = db.writer()
    writer.channel("test rows", activity, COLUMNS, _plain_rows).put(_row("one"))
    assert repr(writer) == (
        f"BackgroundWriter({db_path.name!r}, idle, queued=1, written=0, errors=0, channels=[test rows])"
    )
    writer.close()
    assert repr(writer) == (
        f"BackgroundWriter({db_path.name!r}, closed, queued=0, written=1, errors=0, channels=[test rows])"
    )


def test_background_writer_typed_channel_is_one_per_payload_type(db: Database) -> None:
    # Arrange
    writer = db.writer()
    # Act
    first = JobRepository(db).channel(writer)
    again = JobRepository(db).channel(writer)
    # Assert
    assert again is first
    with pytest.raises(ValueError, match="has a channel for JobRecord items already \\('job records'\\)"):
        writer.channel("other", activity, COLUMNS, _plain_rows, payload=JobRecord)


def test_background_writer_typed_channel_refuses_another_type(db: Database) -> None:
    channel = JobRepository(db).channel(db.writer())
    with pytest.raises(TypeError, match="job records takes JobRecord items, got dict"):
        channel.put({"task_id": "x"})
    assert db.writer().statistics().queued == 0


def test_background_writer_queued_tuples_stay_out_of_the_garbage_collector(db: Database) -> None:
    # Arrange: a long queue of tracked objects would slow every collection of the process
    log = ActivityLog(db)
    log.log_activity("INFO", "test", "plain values")  # details would be a dict: tracked
    channel = db.writer().channel("test rows", activity, COLUMNS, _plain_rows)
    channel.put(_row("plain values"))
    # Act
    gc.collect()
    # Assert
    assert not any(gc.is_tracked(item) for item in list(channel.queue))
