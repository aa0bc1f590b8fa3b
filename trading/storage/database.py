"""``Database``: one SQLAlchemy engine on an SQLite file (WAL) or any SQLAlchemy URL.

How ``database is locked`` is kept from callers:
- every connection sets ``busy_timeout``, so SQLite itself waits for a lock;
- write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken up front, so
  a reader never has to upgrade to a writer mid-transaction (which in WAL mode fails at
  once, whatever the busy timeout);
- write transactions are short (one repository call each) and are retried with
  exponential backoff when SQLite still reports busy; only after ``retry_deadline``
  seconds does a ``StorageError`` reach the caller;
- every writer in this process (these repositories, the background writer, the journal)
  passes one ``WriteGate`` first, so they queue for each other in memory instead of in
  SQLite's busy handler (which sleeps a millisecond or more), the journal first.

The schema is created and migrated on open, inside one ``BEGIN IMMEDIATE`` transaction,
so two processes opening a fresh file at once migrate it exactly once.

``writer()`` is the database's one ``BackgroundWriter`` (a queue and a thread), shared by
every producer of background rows; ``close()`` writes what it holds before disposing of
the engine, and so does interpreter exit for a database left open.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from trading.clock import Clock, LiveClock
from trading.errors import StorageError
from trading.storage import _schema
from trading.storage._codec import to_iso
from trading.storage._gate import WriteGate
from trading.storage._sql import is_busy_error
from trading.storage.writer import BackgroundWriter

__all__ = ["Database", "DatabaseStatistics"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_EXIT_TIMEOUT = 5.0  # seconds the writer gets to write its queue at interpreter exit


@dataclass(frozen=True, slots=True)
class DatabaseStatistics:
    reads: int
    writes: int
    retries: int  # write attempts repeated because SQLite reported busy
    failures: int  # operations that gave up and raised StorageError


class Database:
    """An engine, its connection settings and the schema version.

    ``path_or_url`` is a file path (``data/desk.db``) or an SQLAlchemy URL
    (``sqlite:///data/desk.db``, ``sqlite://`` for memory, ``postgresql+psycopg://...``).
    Thread-safe: each thread gets its own pooled connection.
    """

    def __init__(
        self,
        path_or_url: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        clock: Clock | None = None,
        retry_deadline: float = 30.0,
        pool_size: int = 8,
    ) -> None:
        if not isinstance(busy_timeout_ms, int) or busy_timeout_ms < 0:
            raise ValueError(f"busy_timeout_ms must be an int >= 0, got {busy_timeout_ms!r}")
        if retry_deadline <= 0:
            raise ValueError(f"retry_deadline must be > 0 seconds, got {retry_deadline!r}")
        self.clock: Clock = clock or LiveClock()
        self.busy_timeout_ms = busy_timeout_ms
        self._retry_deadline = retry_deadline
        self.url, self.path = _resolve(path_or_url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._memory = self.is_sqlite and self.path is None
        # A memory database is one connection shared by every thread: serialise its use.
        self._serial: threading.RLock | None = threading.RLock() if self._memory else None
        self.gate = WriteGate()  # one write transaction at a time in this process, the journal first
        self.engine: Engine = self._create_engine(pool_size)
        self._stats_lock = threading.Lock()
        self._reads = self._writes = self._retries = self._failures = 0
        self._closed = False
        self._writer: BackgroundWriter | None = None
        self._writer_lock = threading.Lock()
        self._writer_finalizer: weakref.finalize[Any, Any] | None = None
        self._migrate()

    # --- engine ------------------------------------------------------------------

    def _create_engine(self, pool_size: int) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True, pool_size=pool_size)
        connect_args = {"check_same_thread": False, "timeout": self.busy_timeout_ms / 1000}
        if self._memory:
            engine = create_engine(self.url, connect_args=connect_args, poolclass=StaticPool)
        else:
            engine = create_engine(
                self.url, connect_args=connect_args, pool_size=pool_size, max_overflow=4 * pool_size
            )
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "begin", _on_begin)
        return engine

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: we issue BEGIN ourselves (see _on_begin), so
        # pysqlite's own implicit transaction handling never defers or hides a lock.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms:d}")
            if not self._memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    # --- running statements ------------------------------------------------------

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in one write transaction (``BEGIN IMMEDIATE`` on SQLite), commit,
        and return its result. Busy errors are retried with backoff; any other error rolls
        back and propagates unchanged. ``work`` must be safe to run again."""
        return self._run(work, immediate=True)

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in one read transaction (a consistent snapshot) and return its result."""
        return self._run(work, immediate=False)

    def _run(self, work: Callable[[Connection], T], *, immediate: bool) -> T:
        self._check_open()
        deadline = time.monotonic() + self._retry_deadline
        delay = 0.002
        attempt = 0
        while True:
            attempt += 1
            gate = self.gate.background() if immediate else contextlib.nullcontext()
            try:
                with self._serialised(), gate, self.engine.connect() as conn:
                    if immediate:
                        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        result = work(conn)
                self._count(writes=immediate)
                return result
            except OperationalError as exc:
                if not is_busy_error(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    self._count(failures=True)
                    raise StorageError(
                        f"{self}: database still busy after {attempt} attempts over "
                        f"{self._retry_deadline:g}s (busy_timeout {self.busy_timeout_ms} ms each)"
                    ) from exc
                self._count(retries=True)
                logger.debug("%s busy (attempt %d), retrying in %.3fs", self, attempt, delay)
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)

    @contextlib.contextmanager
    def _serialised(self) -> Iterator[None]:
        if self._serial is None:
            yield
        else:
            with self._serial:
                yield

    def writer(self) -> BackgroundWriter:
        """This database's background writer, made on first use and not started: a producer
        starts it (``BackgroundWriter.start``) when its rows should flow."""
        with self._writer_lock:
            self._check_open()
            if self._writer is None:
                name = self.path.name if self.path is not None else make_url(self.url).get_backend_name()
                self._writer = BackgroundWriter(
                    self.engine,
                    name=name,
                    serial_lock=self._serial,
                    retry_deadline=self._retry_deadline,
                    gate=self.gate,
                )
                # Writes what is queued at interpreter exit, or when the database is collected unclosed.
                self._writer_finalizer = weakref.finalize(self, _close_at_exit, self._writer)
            return self._writer

    def _count(self, *, writes: bool = False, retries: bool = False, failures: bool = False) -> None:
        with self._stats_lock:
            if retries:
                self._retries += 1
            elif failures:
                self._failures += 1
            elif writes:
                self._writes += 1
            else:
                self._reads += 1

    # --- schema ------------------------------------------------------------------

    def _migrate(self) -> None:
        version_table = _schema.schema_version

        def migrate(conn: Connection) -> int:
            version_table.create(conn, checkfirst=True)
            current = conn.execute(select(func.max(version_table.c.version))).scalar() or 0
            if current > _schema.SCHEMA_VERSION:
                raise StorageError(
                    f"{self.url}: schema version {current} is newer than this code understands "
                    f"(at most {_schema.SCHEMA_VERSION}); upgrade the code"
                )
            for version, description, step in _schema.MIGRATIONS:
                if version > current:
                    logger.info("%s: migrating schema to version %d (%s)", self.url, version, description)
                    step(conn)
                    conn.execute(
                        insert(version_table).values(version=version, applied_at=to_iso(self.clock.now()))
                    )
            return current

        try:
            self.write(migrate)
        except BaseException:
            self.engine.dispose()
            self._closed = True
            raise

    def schema_version(self) -> int:
        table = _schema.schema_version
        return int(self.read(lambda conn: conn.execute(select(func.max(table.c.version))).scalar() or 0))

    # --- lifecycle ---------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"{self!r} is closed")

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: float = 10.0) -> None:
        """Write what the background writer holds (waiting up to ``timeout`` seconds), then
        close every pooled connection. Idempotent."""
        with self._writer_lock:
            if self._closed:
                return
            self._closed = True
            writer, finalizer = self._writer, self._writer_finalizer
        if writer is not None and finalizer is not None:
            writer.close(timeout)
            finalizer.detach()
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def statistics(self) -> DatabaseStatistics:
        with self._stats_lock:
            return DatabaseStatistics(self._reads, self._writes, self._retries, self._failures)

    def __repr__(self) -> str:
        where = (
            self.path if self.path is not None else make_url(self.url).render_as_string(hide_password=True)
        )
        state = "closed" if self._closed else "open"
        return f"Database({str(where)!r}, {state}, busy_timeout_ms={self.busy_timeout_ms})"


def _close_at_exit(writer: BackgroundWriter) -> None:
    try:
        writer.close(_EXIT_TIMEOUT)
    except Exception:  # at interpreter exit there is no caller left to tell; log and go on
        logger.exception("%r could not write its queue at exit", writer)


def _on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _resolve(path_or_url: str | Path) -> tuple[str, Path | None]:
    """(SQLAlchemy URL, file path or None). Creates the file's directory."""
    if isinstance(path_or_url, Path) or "://" not in str(path_or_url):
        raw = str(path_or_url)
        if raw in ("", ":memory:"):
            return "sqlite://", None
        path = Path(raw).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}", path
    url = make_url(str(path_or_url))
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            return "sqlite://", None
        path = Path(database).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return url.set(database=str(path)).render_as_string(hide_password=False), path
    return url.render_as_string(hide_password=False), None
