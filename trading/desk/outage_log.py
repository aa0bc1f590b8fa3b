"""``StorageOutageFilter``: a storage outage reads as one ERROR line in the desk's log.

When the disk fills up (or fails), every writer of the process fails at once and on every
event: the journal, the activity log and job records, the risk manager's rows, the state
file. Each says so in its own words, often with a traceback: thousands of lines a minute,
in which the one thing an operator must know is lost (issue 11).

The desk process (``scripts/run_executor.py``) puts this filter on its log handler. A record
is about the storage failing when its message, its exception (with the exceptions behind it)
or an exception among its arguments says the disk is full, out of quota, read-only or
failing (I/O error). The first such record of an outage passes as one ERROR line, without a
traceback: ``storage failing: <what happened>; ...``. The following ones are counted, not
written, and one WARNING line every ``report_every`` seconds says how many were held back.
An outage ends when no such record came for ``quiet_after`` seconds; the journal's own
WARNING says when its held steps are written.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterator

__all__ = ["StorageOutageFilter", "is_storage_failure"]

_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})
_TEXTS = (
    "database or disk is full",  # SQLite: SQLITE_FULL
    "disk i/o error",  # SQLite: SQLITE_IOERR
    "no space left on device",  # ENOSPC
    "disk quota exceeded",  # EDQUOT
    "input/output error",  # EIO
    "read-only file system",  # EROFS
)


def _exceptions(record: logging.LogRecord) -> Iterator[BaseException]:
    """The record's exception and its arguments that are exceptions, each with the chain
    behind it (``__cause__``, ``__context__``, SQLAlchemy's ``orig``)."""
    roots: list[BaseException] = []
    if record.exc_info and record.exc_info[1] is not None:
        roots.append(record.exc_info[1])
    args = record.args if isinstance(record.args, tuple) else ()
    roots.extend(a for a in args if isinstance(a, BaseException))
    seen: set[int] = set()
    while roots:
        exc = roots.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        for nxt in (exc.__cause__, exc.__context__, getattr(exc, "orig", None)):
            if isinstance(nxt, BaseException):
                roots.append(nxt)


def is_storage_failure(record: logging.LogRecord) -> bool:
    """True when ``record`` is about the disk or the database file failing to be written."""
    texts: list[str] = []
    for exc in _exceptions(record):
        if isinstance(exc, OSError) and exc.errno in _ERRNOS:
            return True
        texts.append(str(exc))
    try:
        texts.append(record.getMessage())
    except (TypeError, ValueError):  # a record whose arguments do not fit its message
        texts.append(str(record.msg))
    text = " ".join(texts).lower()
    return any(t in text for t in _TEXTS)


class StorageOutageFilter(logging.Filter):
    """See the module docstring. ``clock`` is a monotonic clock in seconds (injectable)."""

    def __init__(
        self,
        *,
        quiet_after: float = 30.0,
        report_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._quiet_after = quiet_after
        self._report_every = report_every
        self._clock = clock
        self._last_seen: float | None = None  # the last storage-failure record
        self._last_report = 0.0
        self.held = 0  # storage-failure records not written since the last report
        self.outages = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not is_storage_failure(record):
            return True
        now = self._clock()
        ongoing = self._last_seen is not None and now - self._last_seen < self._quiet_after
        self._last_seen = now
        if not ongoing:
            self.outages += 1
            self.held = 0
            self._last_report = now
            _rewrite(
                record,
                logging.ERROR,
                f"storage failing: {_message(record)}; the desk is degraded (the journal holds its "
                "steps in memory and retries them); further storage errors are counted, not logged",
            )
            return True
        self.held += 1
        if now - self._last_report < self._report_every:
            return False
        _rewrite(
            record,
            logging.WARNING,
            f"storage still failing: {self.held} more storage error(s) held back in the last "
            f"{now - self._last_report:.0f} s; the latest: {_message(record)}",
        )
        self.held = 0
        self._last_report = now
        return True

    def __repr__(self) -> str:
        return f"StorageOutageFilter(outages={self.outages}, held={self.held})"


def _message(record: logging.LogRecord) -> str:
    """The record's first line (and its exception's, when it has one), at most 300 characters."""
    try:
        text = record.getMessage()
    except (TypeError, ValueError):
        text = str(record.msg)
    if record.exc_info and record.exc_info[1] is not None:
        text = f"{text} ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
    first = text.splitlines()[0] if text else ""
    return first[:300]


def _rewrite(record: logging.LogRecord, level: int, message: str) -> None:
    """One line, no traceback: the record says ``message`` at ``level``."""
    record.levelno = level
    record.levelname = logging.getLevelName(level)
    record.msg = message
    record.args = None
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None
