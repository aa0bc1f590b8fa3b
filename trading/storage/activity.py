"""``ActivityLog``: an asynchronous, batched, never-blocking activity log.

``log_activity`` builds one tuple and appends it to the database's background writer
queue (see ``trading.storage.writer``); the writer thread turns records into rows and
inserts them in batches. When the writer's queue holds ``max_queue`` items, new records
are dropped: the caller gets ``False``, the drop is counted in ``statistics().dropped``
and a WARNING says how many (at most one line per ``warn_interval`` seconds, and a final
one at close). ``close()``, ``Database.close()`` and interpreter exit write everything
still queued.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from trading.clock import Clock
from trading.storage._codec import from_iso, load_json, to_iso
from trading.storage._schema import activity
from trading.storage._sql import check_limit
from trading.storage.database import Database
from trading.storage.writer import BackgroundWriter

__all__ = ["LEVELS", "ActivityLog", "ActivityLogStatistics"]

logger = logging.getLogger(__name__)

LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_LEVELS = LEVELS  # module-global for the hot path's lookup
_COLUMNS = ("ts", "level", "source", "message", "details")


@dataclass(frozen=True, slots=True)
class ActivityLogStatistics:
    queued: int  # items waiting in the database writer's queue now (every producer's)
    written: int  # records committed to the database
    dropped: int  # records refused because the queue was full or the log closed
    batches: int  # committed batches holding records of this log
    retries: int  # batch attempts repeated because the database was busy
    errors: int  # records lost because their batch failed for good (logged at ERROR)


class ActivityLog:
    """The desk's activity log. Thread-safe; ``log_activity`` never blocks.

    Records go through ``writer`` (default: the database's own, ``db.writer()``)."""

    def __init__(
        self,
        db: Database,
        *,
        max_queue: int = 100_000,
        clock: Clock | None = None,
        warn_interval: float = 5.0,
        writer: BackgroundWriter | None = None,
    ) -> None:
        if not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError(f"max_queue must be an int >= 1, got {max_queue!r}")
        self._db = db
        self._max_queue = max_queue
        self._now = clock.timestamp if clock is not None else time.time
        self._writer = writer if writer is not None else db.writer()
        self._channel = self._writer.channel(
            "activity log",
            activity,
            _COLUMNS,
            self._rows,
            max_queue=max_queue,
            logger=logger,
            warn_interval=warn_interval,
            monotonic=clock.monotonic if clock is not None else time.monotonic,
        )
        self._queue = self._channel.queue
        self._key = self._channel.key
        self._sec = -1  # the last whole second formatted, and its text (the writer thread's cache)
        self._sec_text = ""

    # --- writing -----------------------------------------------------------------

    def start(self) -> ActivityLog:
        """Start the writer thread (records logged before are kept and written)."""
        if self._channel.closed:
            raise RuntimeError(f"{self!r} is closed; create a new ActivityLog")
        self._writer.start()
        return self

    def log_activity(self, level: str, source: str, message: str, **details: Any) -> bool:
        """Queue one record; True if queued, False if dropped (queue full or log closed).

        ``level`` is DEBUG, INFO, WARNING, ERROR or CRITICAL; ``details`` are stored as JSON."""
        if level not in _LEVELS:
            raise ValueError(f"activity level must be one of {sorted(LEVELS)}, got {level!r}")
        queue = self._queue
        if len(queue) >= self._channel.limit:
            self._channel.drop()
            return False
        queue.append((self._key, self._now(), level, source, message, details or None))
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Block until every record queued before the call is written; False on timeout."""
        return self._writer.flush(timeout)

    def close(self, timeout: float = 5.0) -> bool:
        """Refuse new records and write the queued ones (the writer goes on for the database's
        other producers). Idempotent. False if they were not written within ``timeout``."""
        self._channel.close()
        done = self._writer.flush(timeout)
        self._channel.report_drops(force=True)
        return done

    def __enter__(self) -> ActivityLog:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _rows(self, items: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Records as rows, on the writer thread: the timestamp as ISO-8601 UTC text (the
        seconds part formatted once a second), the details as JSON."""
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        dumps = json.dumps
        for _, ts, level, source, message, details in items:
            sec = int(ts)
            if sec != self._sec:
                self._sec = sec
                self._sec_text = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            append(
                (
                    f"{self._sec_text}.{int((ts - sec) * 1e6):06d}+00:00",
                    level,
                    source,
                    message,
                    None if details is None else dumps(details, default=str),
                )
            )
        return rows

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
        c = self._channel
        return ActivityLogStatistics(
            queued=len(self._queue),
            written=c.written,
            dropped=c.dropped,
            batches=c.batches,
            retries=c.retries,
            errors=c.errors,
        )

    def __repr__(self) -> str:
        c = self._channel
        state = "closed" if c.closed else "running" if self._writer.running else "idle"
        return (
            f"ActivityLog({state}, queued={len(self._queue)}/{self._max_queue}, written={c.written}, "
            f"dropped={c.dropped})"
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
