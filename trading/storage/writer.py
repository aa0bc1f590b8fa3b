"""``BackgroundWriter``: the one way rows are written off the event loop.

One writer per database (``Database.writer()``), shared by every producer of rows that
nobody restores from in the middle of a run: the activity log, the executor's job records,
the order recorder. A producer opens a ``WriterChannel`` (what to write: a table, its
columns, an insert or an upsert, how its items become rows) and puts items on it; putting
is a ``deque.append`` (atomic in CPython), so a producer never waits on the database.
Items carry no wrapper: the writer tells their channel from their type (see ``_channel``).

A *unit* channel (``unit_channel``) takes items that each need rows in several tables (the
risk engine's violation, lockout, audit and rule-state rows of one decision): each item is
written by its own function, in the batch's transaction, and is never split: when a batch
fails, its items are retried one transaction each.

One daemon thread takes up to ``batch_size`` items at a time off the single queue, in the
order they were put, groups them by channel, turns each group into rows, and writes the
whole batch in one transaction (``BEGIN IMMEDIATE`` on SQLite) with one executemany per
channel, through SQLAlchemy Core: each channel's statement is compiled once for the
engine's dialect and run with ``Connection.exec_driver_sql``, so the same code runs on
PostgreSQL. When idle the thread waits until ``WriterChannel.put`` or a flush wakes it,
or ``flush_interval`` seconds pass (the activity log appends without waking it).

Failures: a busy database is retried with backoff for up to ``retry_deadline`` seconds,
after which the batch is lost (logged at ERROR, counted in ``errors``). Any other error
rolls the batch back, and its rows are written one transaction each, so only the bad rows
are lost. An item that cannot become a row is logged and counted alone.

``flush(timeout)`` returns once everything queued before it is committed (a flush marker,
a ``threading.Event``, travels through the same queue). ``close(timeout)`` closes every
channel, writes what is queued and stops the thread; ``Database.close`` calls it, and so
does interpreter exit for a database left open. What is queued when the process is killed
is lost; that is accepted for these rows (rows a restart rebuilds from belong in a
synchronous journal, committed before the event that depends on them is published).
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table

from trading.storage._channel import Build, WriterChannel, WriteUnit
from trading.storage._gate import WriteGate
from trading.storage._sql import compile_insert, is_busy_error

__all__ = ["BackgroundWriter", "BackgroundWriterStatistics"]

logger = logging.getLogger(__name__)

Work = list[tuple[WriterChannel, list[Any]]]


@dataclass(frozen=True, slots=True)
class BackgroundWriterStatistics:
    queued: int  # items waiting now, every channel's
    written: int  # rows committed
    batches: int  # committed transactions
    retries: int  # transactions repeated because the database was busy
    errors: int  # items or rows lost for good (each logged at ERROR)
    dropped: int  # items refused by a full or closed channel
    channels: int


class BackgroundWriter:
    """One queue and one writer thread for one database. Thread-safe."""

    def __init__(
        self,
        engine: Engine,
        *,
        name: str = "database",
        serial_lock: threading.RLock | None = None,
        batch_size: int = 1000,
        flush_interval: float = 0.05,
        retry_deadline: float = 30.0,
        gate: WriteGate | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval!r}")
        if not retry_deadline > 0:
            raise ValueError(f"retry_deadline must be > 0 seconds, got {retry_deadline!r}")
        self.engine = engine
        self.name = name
        self._serial = serial_lock  # a memory database's one shared connection: serialise its use
        self._gate = gate if gate is not None else WriteGate()  # the database's: the journal goes first
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_deadline = retry_deadline
        self._queue: deque[Any] = deque()
        self._channels: tuple[WriterChannel, ...] = ()  # copied on write: readers need no lock
        self._typed: dict[type, int] = {}  # payload type -> channel key, copied on write
        self._lock = threading.Lock()  # channels, start and close
        self._write_lock = threading.Lock()  # one writer at a time: the thread, or a caller without it
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._closed = False
        self._written = self._batches = self._retries = self._errors = 0

    # --- producers ---------------------------------------------------------------

    def channel(
        self,
        name: str,
        table: Table,
        columns: Sequence[str],
        build: Build,
        *,
        keys: Sequence[str] = (),
        payload: type | None = None,
        max_queue: int | None = None,
        logger: logging.Logger = logger,
        warn_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> WriterChannel:
        """A channel that inserts rows of ``columns`` into ``table`` (upserts on ``keys`` when
        given); ``build`` turns its queued items into rows on the writer thread.

        With ``payload`` the channel takes instances of that type, and there is one such
        channel per type: asking again with the same name returns it. Without, it takes
        tuples of values. With ``max_queue`` it refuses items while the queue holds that many
        (a log that may drop); without, it refuses nothing until the writer closes."""
        if max_queue is not None and (not isinstance(max_queue, int) or max_queue < 1):
            raise ValueError(f"max_queue must be None or an int >= 1, got {max_queue!r}")
        if payload in (tuple, threading.Event):
            raise ValueError(f"payload cannot be {payload.__name__}: the writer uses that type itself")
        sql, params = compile_insert(self.engine.dialect, table, columns, keys)
        return self._add(
            name,
            sql,
            params,
            build,
            payload=payload,
            max_queue=max_queue,
            logger=logger,
            warn_interval=warn_interval,
            monotonic=monotonic,
        )

    def unit_channel(
        self,
        name: str,
        payload: type,
        write: WriteUnit,
        *,
        prepare: Callable[[Any], Any] | None = None,
        logger: logging.Logger = logger,
        warn_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> WriterChannel:
        """A channel for ``payload`` items that each need several statements: ``write(conn,
        item)`` runs them, on the writer thread, inside the batch's transaction. An item is
        written whole or not at all (a failed batch is retried item by item). Never refuses
        while the writer is open; one channel per payload type (asking again returns it)."""
        if payload in (tuple, threading.Event):
            raise ValueError(f"payload cannot be {payload.__name__}: the writer uses that type itself")
        return self._add(
            name,
            f"-- unit channel {name}",
            None,
            list if prepare is None else (lambda items: [prepare(item) for item in items]),
            payload=payload,
            max_queue=None,
            logger=logger,
            warn_interval=warn_interval,
            monotonic=monotonic,
            write_unit=write,
        )

    def _add(
        self,
        name: str,
        sql: str,
        params: Any,
        build: Build,
        *,
        payload: type | None,
        max_queue: int | None,
        logger: logging.Logger,
        warn_interval: float,
        monotonic: Callable[[], float],
        write_unit: WriteUnit | None = None,
    ) -> WriterChannel:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            if payload is not None and payload in self._typed:
                existing = self._channels[self._typed[payload]]
                if existing.name != name or existing.sql != sql:
                    raise ValueError(
                        f"{self!r} has a channel for {payload.__name__} items already "
                        f"({existing.name!r}); one channel per payload type"
                    )
                return existing
            channel = WriterChannel(
                name,
                len(self._channels),
                self._queue,
                self._wake,
                payload=payload,
                sql=sql,
                params=params,
                build=build,
                max_queue=max_queue,
                logger=logger,
                warn_interval=warn_interval,
                monotonic=monotonic,
                write_unit=write_unit,
            )
            self._channels = (*self._channels, channel)
            if payload is not None:
                self._typed = {**self._typed, payload: channel.key}
        return channel

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> BackgroundWriter:
        """Start the writer thread (items queued before are kept and written). Idempotent."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"writer-{self.name}", daemon=True)
                self._thread.start()
        return self

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def closed(self) -> bool:
        return self._closed

    def flush(self, timeout: float = 10.0) -> bool:
        """True once everything queued before the call is committed, False on timeout.
        Without a running thread the queue is written in the calling thread."""
        if not self.running:
            self._drain_here()
            return True
        marker = threading.Event()
        self._queue.append(marker)
        self._wake.set()
        return marker.wait(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Close every channel, write what is queued and stop the thread. Idempotent.
        False if the thread did not finish within ``timeout`` (it goes on writing)."""
        with self._lock:
            self._closed = True
            channels = self._channels
        for channel in channels:
            channel.close()
        self._stopping = True
        thread = self._thread
        done = True
        if thread is not None and thread.is_alive():
            self._wake.set()
            thread.join(timeout)
            done = not thread.is_alive()
            if not done:
                logger.warning(
                    "%r did not finish within %.1fs; %d items still queued", self, timeout, len(self._queue)
                )
        if done and self._queue:  # never started, or an item put while the thread stopped
            self._drain_here()
        for channel in channels:
            channel.report_drops(force=True)
        return done

    # --- the writer thread -------------------------------------------------------

    def _run(self) -> None:
        try:
            conn = self._connect()
        except Exception:  # the thread has no caller to tell: log it (items stay queued, flush times out)
            logger.exception("%r could not connect; nothing will be written in the background", self)
            return
        try:
            while True:
                self._wake.clear()
                with self._write_lock:
                    progressed = self._drain_once(conn)
                for channel in self._channels:
                    if channel.dropped != channel.reported_drops:
                        channel.report_drops()
                if not progressed:
                    if self._stopping:
                        return
                    self._wake.wait(self._flush_interval)
        except Exception:  # the writer must never die silently: log and stop (items stay queued)
            logger.exception("%r stopped by an unexpected error", self)
        finally:
            self._disconnect(conn)

    def _drain_here(self) -> None:
        """Write everything queued, in the calling thread (used when no writer thread runs)."""
        if not self._queue:
            return
        conn = self._connect()
        try:
            with self._write_lock:
                while self._drain_once(conn):
                    pass
        finally:
            self._disconnect(conn)

    def _connect(self) -> Connection:
        with self._serialised():
            conn = self.engine.connect()
        return conn.execution_options(sqlite_begin="IMMEDIATE")

    def _disconnect(self, conn: Connection) -> None:
        with self._serialised():
            conn.close()

    @contextlib.contextmanager
    def _serialised(self) -> Iterator[None]:
        if self._serial is None:
            yield
        else:
            with self._serial:
                yield

    def _drain_once(self, conn: Connection) -> bool:
        """Write one batch (up to the next flush marker); True if anything was taken off the queue."""
        queue = self._queue
        if not queue:
            return False
        count = min(len(queue), self._batch_size)
        typed = self._typed  # read after the count: a channel is made before its first item
        groups: dict[int, list[Any]] = {}
        current = -1
        bucket: list[Any] = []
        marker: threading.Event | None = None
        popleft = queue.popleft
        for _ in range(count):
            item = popleft()
            kind = type(item)
            if kind is tuple:
                key = item[0]
            elif kind is threading.Event:
                marker = item
                break
            else:
                key = typed[kind]
            if key != current:  # items come in runs of one channel: one dict lookup a run
                current = key
                bucket = groups.setdefault(key, [])
            bucket.append(item)
        if groups:
            channels = self._channels
            self._write(conn, [(channels[key], items) for key, items in groups.items()])
        if marker is not None:
            marker.set()
        return True

    def _write(self, conn: Connection, groups: Work) -> None:
        work: Work = []
        for channel, items in groups:
            rows = self._rows(channel, items)
            if rows:
                work.append((channel, rows))
        if not work:
            return
        error = self._commit(conn, work)
        if error is None:
            self._count_written(work)
            return
        if is_busy_error(error) or sum(len(rows) for _, rows in work) == 1:
            for channel, rows in work:
                channel.errors += len(rows)
                self._errors += len(rows)
                channel.logger.error("%s lost %d rows: %s", channel.name, len(rows), error)
            return
        # Not a lock: a bad row (or a broken statement). Write row by row to lose only the bad ones.
        logger.debug("%r batch failed (%s); writing its rows one at a time", self, error)
        for channel, rows in work:
            self._write_one_by_one(conn, channel, rows)

    def _write_one_by_one(
        self, conn: Connection, channel: WriterChannel, rows: list[tuple[Any, ...]]
    ) -> None:
        lost: list[BaseException] = []
        for row in rows:
            error = self._commit(conn, [(channel, [row])])
            if error is None:
                self._count_written([(channel, [row])])
            else:
                lost.append(error)
        if lost:
            channel.errors += len(lost)
            self._errors += len(lost)
            channel.logger.error(
                "%s lost %d of %d rows; the first error: %s", channel.name, len(lost), len(rows), lost[0]
            )

    def _rows(self, channel: WriterChannel, items: list[Any]) -> list[tuple[Any, ...]]:
        try:
            return channel.build(items)
        except Exception:  # a bad item must not cost the others: build one by one, log and count the bad
            rows: list[tuple[Any, ...]] = []
            for item in items:
                try:
                    rows.extend(channel.build([item]))
                except Exception:  # logged with its traceback and counted; the writer goes on
                    channel.errors += 1
                    self._errors += 1
                    shown = item if channel.payload is not None else item[1:]
                    channel.logger.exception("%s cannot store %r", channel.name, shown)
            return rows

    def _commit(self, conn: Connection, work: Work) -> Exception | None:
        """Write ``work`` in one transaction, retrying while the database is busy.
        None once committed, else the error that rolled it back for good."""
        deadline: float | None = None
        delay = 0.002
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._serialised(), self._gate.background(), conn.begin():
                    for channel, rows in work:
                        channel.run(conn, rows)
                return None
            except Exception as exc:  # returned to the caller, which logs and counts what it cost
                if not is_busy_error(exc):
                    return exc
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self._retry_deadline
                if now + delay > deadline:
                    return exc
                self._retries += 1
                for channel, _ in work:
                    channel.retries += 1
                logger.debug("%r busy (attempt %d), retrying in %.3fs", self, attempt, delay)
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)

    def _count_written(self, work: Work) -> None:
        for channel, rows in work:
            channel.written += len(rows)
            channel.batches += 1
            self._written += len(rows)
        self._batches += 1

    # --- observability -----------------------------------------------------------

    def statistics(self) -> BackgroundWriterStatistics:
        channels = self._channels
        return BackgroundWriterStatistics(
            queued=len(self._queue),
            written=self._written,
            batches=self._batches,
            retries=self._retries,
            errors=self._errors,
            dropped=sum(channel.dropped for channel in channels),
            channels=len(channels),
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self.running else "idle"
        names = ", ".join(channel.name for channel in self._channels)
        return (
            f"BackgroundWriter({self.name!r}, {state}, queued={len(self._queue)}, written={self._written}, "
            f"errors={self._errors}, channels=[{names}])"
        )
