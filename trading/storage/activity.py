"""``ActivityLog``: an asynchronous, batched, never-blocking activity log on SQLite.

``log_activity`` builds one tuple and appends it to an in-memory queue; a background
thread writes the queue in batches (see ``_activity_writer``). When the queue holds
``max_queue`` records, new ones are dropped: the caller gets ``False``, the drop is
counted in ``statistics().dropped`` and a WARNING says how many (at most one line per
``warn_interval`` seconds, and a final one at close). ``close()`` and interpreter exit
write everything still queued.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from trading.clock import Clock
from trading.storage._activity_writer import ActivityWriter, close_at_exit
from trading.storage._codec import from_iso, load_json, to_iso
from trading.storage._schema import activity
from trading.storage._sql import check_limit
from trading.storage.database import Database

__all__ = ["LEVELS", "ActivityLog", "ActivityLogStatistics"]

LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_LEVELS = LEVELS  # module-global for the hot path's lookup


@dataclass(frozen=True, slots=True)
class ActivityLogStatistics:
    queued: int  # records waiting in memory now
    written: int  # records committed to the database
    dropped: int  # records refused because the queue was full or the log closed
    batches: int  # committed batches
    retries: int  # batch attempts repeated because the database was busy
    errors: int  # records lost because their batch failed for good (logged at ERROR)


class ActivityLog:
    """The desk's activity log. Thread-safe; ``log_activity`` never blocks."""

    def __init__(
        self,
        db: Database,
        *,
        max_queue: int = 100_000,
        batch_size: int = 1000,
        flush_interval: float = 0.05,
        clock: Clock | None = None,
        warn_interval: float = 5.0,
        exit_timeout: float = 5.0,
    ) -> None:
        if not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError(f"max_queue must be an int >= 1, got {max_queue!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval!r}")
        self._db = db
        self._max_queue = max_queue
        self._now = clock.timestamp if clock is not None else time.time
        self._writer = ActivityWriter(
            db,
            max_queue=max_queue,
            batch_size=batch_size,
            flush_interval=flush_interval,
            monotonic=clock.monotonic if clock is not None else time.monotonic,
            warn_interval=warn_interval,
        )
        self._queue = self._writer.queue
        # Flushes at interpreter exit, or when the log is garbage-collected unclosed.
        self._finalizer = weakref.finalize(self, close_at_exit, self._writer, exit_timeout)

    # --- writing -----------------------------------------------------------------

    def start(self) -> ActivityLog:
        """Start the writer thread (records logged before are kept and written)."""
        if self._writer.limit == 0:
            raise RuntimeError(f"{self!r} is closed; create a new ActivityLog")
        self._writer.start()
        return self

    def log_activity(self, level: str, source: str, message: str, **details: Any) -> bool:
        """Queue one record; True if queued, False if dropped (queue full or log closed).

        ``level`` is DEBUG, INFO, WARNING, ERROR or CRITICAL; ``details`` are stored as JSON."""
        if level not in _LEVELS:
            raise ValueError(f"activity level must be one of {sorted(LEVELS)}, got {level!r}")
        queue = self._queue
        if len(queue) >= self._writer.limit:
            self._writer.drop()
            return False
        queue.append((self._now(), level, source, message, details or None))
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Block until every record queued before the call is written; False on timeout."""
        return self._writer.flush(timeout)

    def close(self, timeout: float = 5.0) -> bool:
        """Refuse new records, write the queued ones and stop the writer. Idempotent.
        False if the writer did not finish within ``timeout``."""
        done = self._writer.close(timeout)
        if done:
            self._finalizer.detach()
        return done

    def __enter__(self) -> ActivityLog:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- reading -----------------------------------------------------------------

    def recent(
        self,
        limit: int = 100,
        offset: int = 0,
        search: str | None = None,
        level: str | None = None,
        *,
        sources: Collection[str] | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Written records, newest first: dicts with id, ts (aware datetime), level, source,
        message and details (a dict). ``search`` matches message or source (case-insensitive
        for ASCII), ``level`` one level exactly, ``sources`` any of these sources exactly,
        ``since`` records stamped at or after it."""
        check_limit(limit, offset)
        query = _filtered(select(activity), search, level, sources, since)
        query = query.order_by(activity.c.id.desc()).limit(limit).offset(offset)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [{**row, "ts": from_iso(row["ts"]), "details": load_json(row["details"])} for row in rows]

    def count(
        self,
        search: str | None = None,
        level: str | None = None,
        *,
        sources: Collection[str] | None = None,
        since: datetime | None = None,
    ) -> int:
        query = _filtered(select(func.count()).select_from(activity), search, level, sources, since)
        return int(self._db.read(lambda conn: conn.execute(query).scalar_one()))

    # --- observability -----------------------------------------------------------

    def statistics(self) -> ActivityLogStatistics:
        w = self._writer
        return ActivityLogStatistics(
            queued=len(w.queue),
            written=w.written,
            dropped=w.dropped,
            batches=w.batches,
            retries=w.retries,
            errors=w.errors,
        )

    def __repr__(self) -> str:
        w = self._writer
        thread = w.thread
        state = (
            "closed" if w.limit == 0 else "running" if thread is not None and thread.is_alive() else "idle"
        )
        return (
            f"ActivityLog({state}, queued={len(w.queue)}/{self._max_queue}, written={w.written}, "
            f"dropped={w.dropped})"
        )


def _filtered(
    query: Select[Any],
    search: str | None,
    level: str | None,
    sources: Collection[str] | None = None,
    since: datetime | None = None,
) -> Select[Any]:
    if sources is not None:
        query = query.where(activity.c.source.in_(list(sources)))
    if since is not None:
        query = query.where(activity.c.ts >= to_iso(since, field="since"))
    if level is not None:
        if level not in LEVELS:
            raise ValueError(f"activity level must be one of {sorted(LEVELS)}, got {level!r}")
        query = query.where(activity.c.level == level)
    if search:
        query = query.where(
            or_(
                activity.c.message.contains(search, autoescape=True),
                activity.c.source.contains(search, autoescape=True),
            )
        )
    return query
