"""The dashboard's data layer: read-only loaders over the desk's state directory.

``DeskReader`` reads the three things a desk leaves in its state directory (its layout
is ``trading.state_dir.StateDir``):

- the heartbeat (``trading.state_dir.Heartbeat``): is the desk alive, and since when;
- the state file through ``trading.memory.StateManager``: the latest ``Snapshot``,
  reloaded only when the state's version token changed;
- the database through ``trading.storage``: jobs, activity log, violations, the risk
  actions audit trail (every enforcement step and operator action), commands.

It never imports broker, risk or desk code. Its one write is ``submit_command``: a row in
the ``commands`` table, validated by ``trading.commands`` (the desk validates it again),
which the desk polls, audits and executes.
No ``st.*`` call here: Streamlit caching lives in ``dashboard.session``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypedDict

from trading.clock import Clock
from trading.commands import CommandKind, Requester, command_args, parse_command
from trading.errors import ConfigError, StateError, TradingError
from trading.memory import StateManager
from trading.signals.jobs import JobRecord
from trading.snapshot import SNAPSHOT_KEY, SNAPSHOT_VERSION, Snapshot
from trading.state_dir import Heartbeat, StateDir
from trading.storage import (
    ActivityLog,
    AuditRepository,
    CommandRepository,
    Database,
    JobRepository,
    ViolationRepository,
)

__all__ = [
    "ActivityFilters",
    "DeskHealth",
    "DeskReader",
    "DeskStatus",
    "ReaderStatistics",
]

logger = logging.getLogger(__name__)


class ActivityFilters(TypedDict):
    """The Activity page's filters, as ``DeskReader.activity`` and ``activity_count`` take them."""

    search: str | None
    level: str | None
    sources: Collection[str] | None
    since: datetime | None


class DeskHealth(Enum):
    RUNNING = "RUNNING"
    STALE = "STALE"  # a heartbeat exists but is older than the stale limit
    NO_HEARTBEAT = "NO_HEARTBEAT"  # state exists, heartbeat file missing or unreadable
    NO_STATE = "NO_STATE"  # no state file: the desk never ran on this directory


@dataclass(frozen=True, slots=True)
class DeskStatus:
    health: DeskHealth
    heartbeat: Heartbeat | None
    age_seconds: float | None
    message: str

    @property
    def running(self) -> bool:
        return self.health is DeskHealth.RUNNING


@dataclass(frozen=True, slots=True)
class ReaderStatistics:
    token_checks: int
    snapshot_loads: int
    snapshot_errors: int
    db_queries: int
    commands_submitted: int


class DeskReader:
    """Read-only view of one state directory; thread-safe (Streamlit sessions share it)."""

    def __init__(self, state_dir: str | Path, *, clock: Clock, stale_after: float = 5.0) -> None:
        if stale_after <= 0:
            raise ConfigError(f"stale_after must be > 0 seconds, got {stale_after}", field="stale_after")
        self.state_dir = Path(state_dir)
        self.layout = StateDir(self.state_dir)
        self._clock = clock
        self._stale_after = float(stale_after)
        self._lock = threading.RLock()
        self._state: StateManager | None = None
        self._token: object = None
        self._snapshot: Snapshot | None = None
        self._snapshot_error = ""
        self._db: Database | None = None
        self._jobs: JobRepository | None = None
        self._activity: ActivityLog | None = None
        self._violations: ViolationRepository | None = None
        self._commands: CommandRepository | None = None
        self._audit: AuditRepository | None = None
        self._token_checks = 0
        self._loads = 0
        self._load_errors = 0
        self._queries = 0
        self._submitted = 0

    # --- paths -------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.layout.state_file

    @property
    def db_path(self) -> Path:
        return self.layout.database

    @property
    def heartbeat_path(self) -> Path:
        return self.layout.heartbeat

    @property
    def snapshot_error(self) -> str:
        """Why the last snapshot load failed ("" when it did not)."""
        return self._snapshot_error

    # --- liveness ----------------------------------------------------------------

    def heartbeat(self) -> Heartbeat | None:
        """The desk's last heartbeat; None when missing or unreadable (the latter logged)."""
        return Heartbeat.read(self.heartbeat_path)

    def status(self) -> DeskStatus:
        beat = self.heartbeat()
        if not self.state_path.exists():
            return DeskStatus(
                DeskHealth.NO_STATE, beat, None, f"desk not running: no state file in {self.state_dir}"
            )
        if beat is None:
            return DeskStatus(
                DeskHealth.NO_HEARTBEAT, None, None, f"desk not running: no heartbeat in {self.state_dir}"
            )
        age = max(0.0, self._clock.timestamp() - beat.ts)
        seen = datetime.fromtimestamp(beat.ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if age > self._stale_after:
            return DeskStatus(
                DeskHealth.STALE,
                beat,
                age,
                f"desk not running: last seen at {seen} ({age:,.0f} s ago, pid {beat.pid})",
            )
        return DeskStatus(
            DeskHealth.RUNNING, beat, age, f"desk running (pid {beat.pid}, heartbeat {age:.1f} s ago)"
        )

    # --- snapshot ----------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        """The latest snapshot; the state file is read only when its version token changed."""
        with self._lock:
            if not self.state_path.exists():
                return self._snapshot  # keep showing the last one we had, if any
            try:
                if self._state is None:
                    self._state = StateManager(self.state_path)
                self._token_checks += 1
                token = self._state.version_token()
                if token == self._token and self._snapshot is not None:
                    return self._snapshot
                self._state.load()
                snap = self._state.get(SNAPSHOT_KEY)
            except (TradingError, OSError) as exc:
                self._load_errors += 1
                self._snapshot_error = f"cannot read {self.state_path}: {exc}"
                logger.warning("%s", self._snapshot_error)
                return self._snapshot
            self._loads += 1
            if snap is None:
                self._snapshot_error = f"{self.state_path} holds no snapshot under {SNAPSHOT_KEY!r} yet"
                return None
            if not isinstance(snap, Snapshot) or snap.version != SNAPSHOT_VERSION:
                found = getattr(snap, "version", type(snap).__name__)
                self._snapshot_error = f"snapshot version {found} is not the supported {SNAPSHOT_VERSION}"
                logger.warning("%s in %s", self._snapshot_error, self.state_path)
                return None
            self._token, self._snapshot, self._snapshot_error = token, snap, ""
            return snap

    # --- database ----------------------------------------------------------------

    def has_database(self) -> bool:
        return self.db_path.exists()

    def _database(self) -> Database:
        with self._lock:
            if self._db is None:
                if not self.db_path.exists():
                    raise StateError(f"no database yet: {self.db_path} does not exist", path=self.db_path)
                self._db = Database(self.db_path)
                self._jobs = JobRepository(self._db)
                self._activity = ActivityLog(self._db)
                self._violations = ViolationRepository(self._db)
                self._commands = CommandRepository(self._db)
                self._audit = AuditRepository(self._db)
            self._queries += 1
            return self._db

    def jobs(
        self,
        *,
        status: str | None = None,
        name: str | None = None,
        lane: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[JobRecord]:
        self._database()
        assert self._jobs is not None
        return self._jobs.list(status=status, name=name, lane=lane, limit=limit, offset=offset)

    def job_count(
        self, *, status: str | None = None, name: str | None = None, lane: str | None = None
    ) -> int:
        self._database()
        assert self._jobs is not None
        return self._jobs.count(status=status, name=name, lane=lane)

    def job(self, task_id: str) -> JobRecord | None:
        self._database()
        assert self._jobs is not None
        return self._jobs.get(task_id)

    def job_names(self, *, lane: str | None = None, limit: int = 500) -> list[str]:
        """The distinct job names among the newest ``limit`` jobs (for a filter)."""
        return sorted({job.name for job in self.jobs(lane=lane, limit=limit)})

    def failures_by_class(self, *, lane: str | None = None, limit: int = 1000) -> dict[str, int]:
        """Counts of the most recent ``limit`` failed jobs by exception class."""
        counts: dict[str, int] = {}
        for status in ("FAILED", "TIMEOUT"):
            for job in self.jobs(status=status, lane=lane, limit=limit):
                cls = job.error_class or status
                counts[cls] = counts.get(cls, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def activity(
        self,
        *,
        search: str | None = None,
        level: str | None = None,
        sources: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Newest first; ``sources`` any of these exactly, ``since`` stamped at or after it (desk time)."""
        self._database()
        assert self._activity is not None
        return self._activity.recent(
            limit=limit,
            offset=offset,
            search=search or None,
            level=level or None,
            sources=sources,
            since=since,
        )

    def activity_count(
        self,
        *,
        search: str | None = None,
        level: str | None = None,
        sources: Collection[str] | None = None,
        since: datetime | None = None,
    ) -> int:
        self._database()
        assert self._activity is not None
        return self._activity.count(search=search or None, level=level or None, sources=sources, since=since)

    def risk_actions(self, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Every enforcement step and operator action (the audit trail), newest first: rule-driven
        ones whether a broker event or the risk sweep caused them."""
        self._database()
        assert self._audit is not None
        return self._audit.recent(limit=limit, offset=offset)

    def risk_action_count(self) -> int:
        self._database()
        assert self._audit is not None
        return self._audit.count()

    def violations(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        self._database()
        assert self._violations is not None
        return self._violations.recent(limit=limit, offset=offset)

    def violation_count(self) -> int:
        self._database()
        assert self._violations is not None
        return self._violations.count()

    def commands(self, *, limit: int = 50) -> list[dict[str, Any]]:
        self._database()
        assert self._commands is not None
        return self._commands.recent(limit=limit)

    def command(self, command_id: int) -> dict[str, Any] | None:
        """One command row (its status and the desk's result), None when there is no such id."""
        self._database()
        assert self._commands is not None
        return self._commands.get(command_id)

    def submit_command(
        self,
        kind: str | CommandKind,
        args: Mapping[str, Any] | None = None,
        *,
        requested_by: str | Requester,
    ) -> int:
        """Validate (``trading.commands.parse_command``) and queue a control command for the
        desk; returns its id. ``ConfigError`` naming the command and argument, nothing written,
        when it is not valid. The row holds the arguments that differ from their defaults, and
        the requester: a ``Requester`` (name, role, address), or a bare name."""
        command = parse_command(kind, args)
        cleaned = command_args(command)
        who = requested_by if isinstance(requested_by, Requester) else Requester(name=requested_by)
        self._database()
        assert self._commands is not None
        command_id = self._commands.submit(
            command.kind.value,
            cleaned,
            who.name,
            role=None if who.role is None else who.role.value,
            address=who.address,
        )
        self._submitted += 1
        logger.info("queued command %s #%s %s by %s", command.kind.value, command_id, cleaned, who.describe())
        return command_id

    # --- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
            self._db = self._jobs = self._activity = self._violations = self._commands = None
            self._audit = None
            if self._state is not None:
                self._state.close()
            self._state = None

    def __enter__(self) -> DeskReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def statistics(self) -> ReaderStatistics:
        return ReaderStatistics(
            self._token_checks, self._loads, self._load_errors, self._queries, self._submitted
        )

    def __repr__(self) -> str:
        return (
            f"DeskReader(state_dir={str(self.state_dir)!r}, loads={self._loads}, "
            f"db={'open' if self._db is not None else 'closed'})"
        )
