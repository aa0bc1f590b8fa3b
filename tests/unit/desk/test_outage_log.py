"""A storage outage reads as one ERROR line: the first storage failure passes, rewritten to one
line; the rest are counted and reported at most once a minute; other records pass untouched."""

from __future__ import annotations

import errno
import io
import logging
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError

from trading.desk.outage_log import StorageOutageFilter, is_storage_failure


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def stream(clock: _Clock) -> Iterator[io.StringIO]:
    """A handler with the filter on a logger of its own, writing level and message lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(StorageOutageFilter(quiet_after=30, report_every=60, clock=clock))
    log = logging.getLogger("outage_test")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield out
    log.removeHandler(handler)
    log.propagate = True


def _full() -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database or disk is full"))


def _lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_outage_log_a_flood_of_storage_errors_is_one_error_line(stream, clock):
    # Arrange
    log = logging.getLogger("outage_test")
    # Act: the ways the process's parts say the disk is full, many times over
    for _ in range(200):
        log.error("job records lost %d rows: %s", 4, _full())
        try:
            raise _full()
        except OperationalError:
            log.exception("subscriber X failed on OrderCancelled(...)")
        log.warning("desk publish step cannot write: %s", OSError(errno.ENOSPC, "No space left on device"))
        clock.now += 0.1
    log.info("something else entirely")
    # Assert
    lines = _lines(stream)
    assert len(lines) == 2
    assert lines[0].startswith(
        "ERROR outage_test: storage failing: job records lost 4 rows: (sqlite3.OperationalError) "
        "database or disk is full"
    )
    assert "further storage errors are counted, not logged" in lines[0]
    assert lines[1] == "INFO outage_test: something else entirely"


def test_outage_log_held_back_lines_reported_once_a_minute(stream, clock):
    log = logging.getLogger("outage_test")
    for _ in range(70):
        log.error("journal write failed: %s", "database or disk is full")
        clock.now += 1.0

    lines = _lines(stream)

    assert [line.split(" ")[0] for line in lines] == ["ERROR", "WARNING"]
    assert lines[1].startswith(
        "WARNING outage_test: storage still failing: 60 more storage error(s) held back"
    )


def test_outage_log_quiet_period_ends_the_outage_next_failure_is_an_error_again(stream, clock):
    log = logging.getLogger("outage_test")
    log.error("disk I/O error")
    clock.now += 31
    log.error("disk I/O error")

    assert [line.split(" ")[0] for line in _lines(stream)] == ["ERROR", "ERROR"]


@pytest.mark.parametrize(
    ("msg", "args", "exc", "expected"),
    [
        ("lost rows: %s", (OSError(errno.EIO, "Input/output error"),), None, True),
        ("cannot save: %s", ("No space left on device",), None, True),
        ("failed", (), OSError(errno.EROFS, "Read-only file system"), True),
        ("database is locked", (), None, False),
        ("rule fault: %s", (ValueError("bad value"),), None, False),
        ("failed", (), OSError(errno.ENOENT, "No such file or directory"), False),
    ],
)
def test_outage_log_is_storage_failure(msg, args, exc, expected):
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, None)

    assert is_storage_failure(record) is expected
