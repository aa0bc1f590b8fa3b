"""``WriterChannel``: one kind of row a ``BackgroundWriter`` writes, and its producers' handle.

A channel says *what* to write: the compiled statement (an insert or an upsert of one
table), how queued items become rows (``build``, run on the writer thread), and its
admission policy. The writer decides *how*: batching, transactions, retries. A *unit*
channel has no statement of its own: its ``write(conn, item)`` runs every statement one
item needs (rows of several tables), and an item is written whole or not at all.

Items go on the writer's one queue without a wrapper object, because a queue of objects
the garbage collector tracks slows every collection of the process (measured: one
wrapper tuple per job record cost the executor a fifth of its throughput). So the
writer recognises each item's channel from the item itself:
- a *typed* channel (``payload`` given, e.g. ``JobRecord``) takes instances of exactly that
  type, queued as they are; a writer has one channel per payload type, shared by every
  producer of that type;
- a *tuple* channel (no ``payload``) takes tuples of plain values, queued as one flat
  tuple whose first element is the channel's ``key`` (a small int). Tuples of untracked
  values leave the collector's lists, so a long queue of them costs collections nothing.
  A hot producer may append such tuples itself after the same
  ``len(queue) >= channel.limit`` check (see ``ActivityLog.log_activity``).

``put`` wakes the writer if it is idle (one ``Event.set`` a writer cycle at most), so
objects the collector tracks (orders, job records) leave memory soon; a producer that
appends itself leaves the writer to pick its items up within ``flush_interval``.

Admission: a channel with ``max_queue`` refuses an item while the writer's queue (every
channel's items) holds ``max_queue`` or more, so a log drops under overload; a channel
without it never refuses while open. A closed channel refuses everything. Each refusal
is counted in ``dropped`` and reported by a WARNING at most once per ``warn_interval``
seconds (and once more at close), so an overload cannot flood the log.

The counters ``written``, ``batches``, ``retries`` and ``errors`` are changed only by the
thread that writes (the writer's, or a caller's while it holds the writer's write lock);
``dropped`` only under the channel's own lock.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from trading.storage._sql import Params

__all__ = ["Build", "WriterChannel"]

# Turns a batch of queued items (payload objects, or flat tuples with the key first) into
# rows in the statement's column order. Items that cannot become rows make it raise; the
# writer then builds the batch item by item, and logs and counts the bad ones.
Build = Callable[[list[Any]], list[tuple[Any, ...]]]
# Writes one item of a unit channel: every statement it needs, on the writer's connection,
# inside the writer's transaction.
WriteUnit = Callable[[Connection, Any], None]

UNBOUNDED = sys.maxsize


class WriterChannel:
    """A producer's handle on a ``BackgroundWriter`` (made by ``BackgroundWriter.channel``)."""

    def __init__(
        self,
        name: str,
        key: int,
        queue: deque[Any],
        wake: threading.Event,
        *,
        payload: type | None,
        sql: str,
        params: Params | None,
        build: Build,
        max_queue: int | None,
        logger: logging.Logger,
        warn_interval: float,
        monotonic: Callable[[], float],
        write_unit: WriteUnit | None = None,
    ) -> None:
        self.name = name
        self.key = key  # the first element of this channel's items on the queue
        self.queue = queue  # the writer's queue, shared by every channel of the database
        self._wake = wake  # the writer waits on it when its queue is empty
        self.payload = payload  # the type of this channel's items; None: flat tuples
        self.sql = sql
        self.params = params
        self.build = build
        self.write_unit = write_unit  # set: a unit channel (its "rows" are its items)
        self.max_queue = max_queue
        # Read by producers before each append: the queue length at which items are refused.
        self.limit = UNBOUNDED if max_queue is None else max_queue
        self.logger = logger
        self._warn_interval = warn_interval
        self._monotonic = monotonic
        self._drop_lock = threading.Lock()
        self._last_warning = float("-inf")
        self.written = self.batches = self.retries = self.errors = 0
        self.dropped = self.reported_drops = 0

    # --- producers ---------------------------------------------------------------

    def put(self, item: Any) -> bool:
        """Queue one item (an instance of ``payload``, or a tuple of values for a tuple
        channel) and wake the writer; False (counted and reported) if the channel refuses it."""
        payload = self.payload
        if payload is not None and type(item) is not payload:
            raise TypeError(f"{self.name} takes {payload.__name__} items, got {type(item).__name__}")
        queue = self.queue
        if len(queue) >= self.limit:
            self.drop()
            return False
        queue.append(item if payload is not None else (self.key, *item))
        if not self._wake.is_set():
            self._wake.set()
        return True

    def drop(self) -> None:
        """Count one refused item (the producer did not queue it)."""
        with self._drop_lock:
            self.dropped += 1
            self._report(force=False)

    @property
    def closed(self) -> bool:
        return self.limit == 0

    def close(self) -> None:
        """Refuse every later item. What is already queued is still written."""
        self.limit = 0

    # --- the writer thread ---------------------------------------------------------

    def run(self, conn: Connection, rows: list[Any]) -> None:
        """Write ``rows`` (items, for a unit channel) on ``conn``, inside the caller's transaction."""
        write_unit = self.write_unit
        if write_unit is not None:
            for item in rows:
                write_unit(conn, item)
            return
        params = self.params
        conn.exec_driver_sql(self.sql, rows if params is None else params(rows))

    # --- reporting ---------------------------------------------------------------

    def report_drops(self, *, force: bool = False) -> None:
        """Log the drops not yet reported: at most once per ``warn_interval``, unless ``force``."""
        if self.dropped == self.reported_drops:
            return
        with self._drop_lock:
            self._report(force=force)

    def _report(self, *, force: bool) -> None:
        unreported = self.dropped - self.reported_drops
        if unreported <= 0:
            return
        now = self._monotonic()
        if not force and now - self._last_warning < self._warn_interval:
            return
        why = "it is closed" if self.limit == 0 else f"its queue is full ({len(self.queue)} records)"
        self.logger.warning(
            "%s dropped %d records because %s (%d dropped in total)", self.name, unreported, why, self.dropped
        )
        self.reported_drops = self.dropped
        self._last_warning = now

    def __repr__(self) -> str:
        bound = "unbounded" if self.max_queue is None else f"max_queue={self.max_queue}"
        state = "closed" if self.closed else bound
        kind = "tuples" if self.payload is None else self.payload.__name__
        return (
            f"WriterChannel({self.name!r}, {kind}, {state}, written={self.written}, dropped={self.dropped}, "
            f"errors={self.errors})"
        )
