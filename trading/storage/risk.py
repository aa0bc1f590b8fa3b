"""What the risk engine records: violations, lockouts, the enforcement audit trail and the
rules' state (latches, in-force states, timers, high-water marks).

``RiskRepository`` writes the rows of one risk decision (a violation, the lockouts and audit
rows its enforcement made, every rule's state after it) as one ``RiskRecord`` in one
transaction: ``put`` queues it on the database's background writer (the event loop never
waits; enforcement has already acted), ``write`` commits it before returning (an operator's
unlock, pause or resume is durable before the command is reported done). After a crash a
record is therefore all there or not there at all.

Rows are read defensively (``_rows``): a damaged violation or audit row is skipped with a
WARNING naming it (they are history); a damaged lockout or rule-state row stops the start
with a ``StateError`` naming it, because dropping it would quietly let a locked account
trade or re-fire a breach.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Dialect, RowMapping, bindparam, delete, func, insert, select

from trading.errors import StateError, StorageError
from trading.storage._codec import dump_json, to_iso
from trading.storage._rows import json_object, time_column, where
from trading.storage._schema import audit, lockouts, rule_state, violations
from trading.storage._sql import Params, check_limit, compile_insert, upsert
from trading.storage.database import Database
from trading.storage.writer import BackgroundWriter

__all__ = [
    "AuditRepository",
    "LockoutRepository",
    "RiskRecord",
    "RiskRepository",
    "RuleStateRepository",
    "SavedRuleState",
    "ViolationRepository",
]

logger = logging.getLogger(__name__)

_SEVERITIES = frozenset({"INFO", "WARNING", "CRITICAL"})


class ViolationRepository:
    """Every rule violation, enforced or shadow."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        *,
        ts: datetime,
        rule: str,
        message: str,
        action: str,
        severity: str,
        shadow: bool,
        symbol: str | None,
        values: dict[str, Any],
        event: str,
    ) -> int:
        """Store one violation and return its id."""
        row = _violation_row(
            ts=ts,
            rule=rule,
            message=message,
            action=action,
            severity=severity,
            shadow=shadow,
            symbol=symbol,
            values=values,
            event=event,
        )
        stmt = insert(violations).values(**row).returning(violations.c.id)
        return int(self._db.write(lambda conn: conn.execute(stmt).scalar_one()))

    def recent(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Newest first."""
        check_limit(limit, offset)
        query = select(violations).order_by(violations.c.id.desc()).limit(limit).offset(offset)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        out = []
        for row in rows:
            try:
                out.append(_violation(row))
            except ValueError as exc:
                logger.warning("%s: %s: row skipped", where(self._db, "violations", f"id {row['id']}"), exc)
        return out

    def count(self) -> int:
        query = select(func.count()).select_from(violations)
        return int(self._db.read(lambda conn: conn.execute(query).scalar_one()))

    def __repr__(self) -> str:
        return f"ViolationRepository({self._db!r})"


class LockoutRepository:
    """Active lockouts by scope ("account", a symbol, a strategy...), so they survive a restart."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(
        self, *, scope: str, rule: str, reason: str, started_at: datetime, until: datetime | None
    ) -> None:
        values = _lockout_row(scope=scope, rule=rule, reason=reason, started_at=started_at, until=until)
        self._db.write(lambda conn: upsert(conn, lockouts, values, ["scope"]))

    def remove(self, scope: str) -> None:
        stmt = delete(lockouts).where(lockouts.c.scope == scope)
        self._db.write(lambda conn: conn.execute(stmt))

    def all(self) -> list[dict[str, Any]]:
        """Every stored lockout. A row that does not parse raises ``StateError`` naming it: a
        lockout cannot be skipped without unlocking what it locks."""
        query = select(lockouts).order_by(lockouts.c.started_at, lockouts.c.scope)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [self._lockout(row) for row in rows]

    def _lockout(self, row: RowMapping) -> dict[str, Any]:
        try:
            started = time_column(row["started_at"], "started_at")
            if started is None:
                raise ValueError("column started_at is empty")
            if not isinstance(row["scope"], str) or not row["scope"]:
                raise ValueError(f"column scope must be text, got {row['scope']!r}")
            return {**row, "started_at": started, "until": time_column(row["until"], "until")}
        except ValueError as exc:
            place = where(self._db, "lockouts", f"scope {row['scope']!r}")
            raise StateError(
                f"{place}: {exc}: the lockout cannot be restored; fix the row, or delete it to "
                "lift the lockout",
                path=self._db.path,
            ) from None

    def __repr__(self) -> str:
        return f"LockoutRepository({self._db!r})"


class AuditRepository:
    """What enforcement did and what came of it (and operator commands)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self, *, ts: datetime, action: str, rule: str, reason: str, result: str, symbol: str | None = None
    ) -> int:
        row = _audit_row(ts=ts, action=action, rule=rule, reason=reason, result=result, symbol=symbol)
        stmt = insert(audit).values(**row).returning(audit.c.id)
        return int(self._db.write(lambda conn: conn.execute(stmt).scalar_one()))

    def recent(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Newest first."""
        check_limit(limit, offset)
        query = select(audit).order_by(audit.c.id.desc()).limit(limit).offset(offset)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        out = []
        for row in rows:
            try:
                out.append({**row, "ts": time_column(row["ts"], "ts")})
            except ValueError as exc:
                logger.warning("%s: %s: row skipped", where(self._db, "audit", f"id {row['id']}"), exc)
        return out

    def count(self) -> int:
        query = select(func.count()).select_from(audit)
        return int(self._db.read(lambda conn: conn.execute(query).scalar_one()))

    def __repr__(self) -> str:
        return f"AuditRepository({self._db!r})"


@dataclass(frozen=True, slots=True)
class SavedRuleState:
    """One rule's saved state: the trading day it was saved in (None: unknown) and the state."""

    trading_day: date | None
    state: dict[str, Any]
    updated_at: datetime | None = None


class RuleStateRepository:
    """Every rule's exported state (``Rule.export_state``), one row per rule instance name."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, states: Mapping[str, Mapping[str, Any]], *, trading_day: date, at: datetime) -> None:
        """Replace the rows of ``states`` in one transaction."""
        rows = _rule_state_rows(states, trading_day, at)
        self._db.write(lambda conn: _upsert_rule_states(conn, rows))

    def load(self) -> dict[str, SavedRuleState]:
        """Every saved rule state. A row that does not parse raises ``StateError`` naming it:
        a latch cannot be skipped without letting its breach fire again."""
        rows = self._db.read(lambda conn: conn.execute(select(rule_state)).mappings().all())
        return {row["rule"]: self._saved(row) for row in rows}

    def _saved(self, row: RowMapping) -> SavedRuleState:
        try:
            day = row["trading_day"]
            trading_day = None if day is None else date.fromisoformat(day)
            return SavedRuleState(
                trading_day=trading_day,
                state=json_object(row["state"], "state"),
                updated_at=time_column(row["updated_at"], "updated_at"),
            )
        except (TypeError, ValueError) as exc:
            place = where(self._db, "rule_state", f"rule {row['rule']!r}")
            raise StateError(
                f"{place}: {exc}: the rule's state (its latches) cannot be restored; fix the row, or "
                "delete it to start the rule afresh (a breach of today may then fire again)",
                path=self._db.path,
            ) from None

    def __repr__(self) -> str:
        return f"RuleStateRepository({self._db!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskRecord:
    """The rows of one risk decision, written in one transaction (plain values, made on the
    event loop; turned into rows on the writer thread)."""

    violations: tuple[Mapping[str, Any], ...] = ()
    lockouts: tuple[tuple[str, Mapping[str, Any] | None], ...] = ()  # scope -> row, None: ended
    audits: tuple[Mapping[str, Any], ...] = ()
    rule_states: Mapping[str, Mapping[str, Any]] | None = None
    trading_day: date | None = None
    at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.violations or self.lockouts or self.audits or self.rule_states)


class RiskRepository:
    """The risk engine's store: the violation, lockout, audit and rule-state repositories, and
    the one way its decisions are written (``put`` off the loop, ``write`` durable now).

    ``writer`` defaults to the database's background writer, started here."""

    def __init__(self, db: Database, *, writer: BackgroundWriter | None = None) -> None:
        self._db = db
        self.violations = ViolationRepository(db)
        self.lockouts = LockoutRepository(db)
        self.audit = AuditRepository(db)
        self.rule_states = RuleStateRepository(db)
        self._writer = writer if writer is not None else db.writer()
        self._statements = _RecordStatements(db.engine.dialect)
        self._channel = self._writer.unit_channel(
            "risk records",
            RiskRecord,
            self._statements.write,
            prepare=self._statements.prepare,
            logger=logger,
        )
        self._writer.start()

    # --- writing -------------------------------------------------------------------

    def put(
        self,
        *,
        violations: Sequence[Mapping[str, Any]] = (),
        lockouts: Mapping[str, Mapping[str, Any] | None] | None = None,
        audits: Sequence[Mapping[str, Any]] = (),
        rule_states: Mapping[str, Mapping[str, Any]] | None = None,
        trading_day: date | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Queue one record on the background writer (one transaction); False if refused
        (the writer is closed)."""
        record = _record(violations, lockouts, audits, rule_states, trading_day, at)
        if record.empty:
            return True
        return self._channel.put(record)

    def write(
        self,
        *,
        violations: Sequence[Mapping[str, Any]] = (),
        lockouts: Mapping[str, Mapping[str, Any] | None] | None = None,
        audits: Sequence[Mapping[str, Any]] = (),
        rule_states: Mapping[str, Mapping[str, Any]] | None = None,
        trading_day: date | None = None,
        at: datetime | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Commit one record before returning, after everything queued before it (so an older
        queued record never lands on top of it). ``StorageError`` when it cannot be written."""
        record = _record(violations, lockouts, audits, rule_states, trading_day, at)
        if not self._writer.flush(timeout):
            raise StorageError(f"{self._db}: the background writer did not drain within {timeout:g}s")
        if not record.empty:
            prepared = self._statements.prepare(record)
            self._db.write(lambda conn: self._statements.write(conn, prepared))

    def flush(self, timeout: float = 10.0) -> bool:
        """True once every record queued before the call has been written (or given up)."""
        return self._writer.flush(timeout)

    # --- reading -------------------------------------------------------------------

    def lockout_rows(self) -> list[dict[str, Any]]:
        return self.lockouts.all()

    def remove_lockout(self, scope: str) -> None:
        self.lockouts.remove(scope)

    def recent_violations(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.violations.recent(limit)

    def saved_rule_states(self) -> dict[str, SavedRuleState]:
        return self.rule_states.load()

    def statistics(self) -> tuple[int, int]:
        """(records written, records lost) by the background writer."""
        return self._channel.written, self._channel.errors

    def __repr__(self) -> str:
        return f"RiskRepository({self._db!r}, written={self._channel.written}, errors={self._channel.errors})"


def _record(
    violation_rows: Sequence[Mapping[str, Any]],
    lockout_changes: Mapping[str, Mapping[str, Any] | None] | None,
    audit_rows: Sequence[Mapping[str, Any]],
    rule_states: Mapping[str, Mapping[str, Any]] | None,
    trading_day: date | None,
    at: datetime | None,
) -> RiskRecord:
    if rule_states and (trading_day is None or at is None):
        raise ValueError("rule states need the trading day and the time they were taken")
    return RiskRecord(
        violations=tuple(violation_rows),
        lockouts=tuple((lockout_changes or {}).items()),
        audits=tuple(audit_rows),
        rule_states=rule_states or None,
        trading_day=trading_day,
        at=at,
    )


_VIOLATION_COLUMNS = ("ts", "rule", "message", "action", "severity", "shadow", "symbol", "values", "event")
_LOCKOUT_COLUMNS = ("scope", "rule", "reason", "started_at", "until")
_AUDIT_COLUMNS = ("ts", "action", "rule", "reason", "result", "symbol")
_RULE_STATE_COLUMNS = ("rule", "trading_day", "state", "updated_at")


class _RecordStatements:
    """The statements a risk record needs, compiled once for the database's dialect (a record is
    written on the writer thread while the journal may wait for it: no statement is compiled then)."""

    def __init__(self, dialect: Dialect) -> None:
        self._violations = compile_insert(dialect, violations, _VIOLATION_COLUMNS)
        self._lockouts = compile_insert(dialect, lockouts, _LOCKOUT_COLUMNS, ["scope"])
        self._audit = compile_insert(dialect, audit, _AUDIT_COLUMNS)
        self._rule_states = compile_insert(dialect, rule_state, _RULE_STATE_COLUMNS, ["rule"])
        ended = delete(lockouts).where(lockouts.c.scope == bindparam("scope")).compile(dialect=dialect)
        self._ended_sql: str = ended.string
        self._ended_positional = bool(ended.positional)

    def prepare(self, record: RiskRecord) -> list[tuple[tuple[str, Params | None], list[Any]]]:
        """``record`` as (statement, rows) pairs, made before the transaction begins. A row that
        cannot be stored raises here (the writer logs it, and the record is lost whole)."""

        def rows(made: list[dict[str, Any]], columns: tuple[str, ...]) -> list[Any]:
            return [tuple(r[c] for c in columns) for r in made]

        ended = [scope for scope, lock in record.lockouts if lock is None]
        states: list[dict[str, Any]] = []
        if record.rule_states:
            assert record.trading_day is not None and record.at is not None  # checked by _record
            states = _rule_state_rows(record.rule_states, record.trading_day, record.at)
        work = [
            (self._violations, rows([_violation_row(**r) for r in record.violations], _VIOLATION_COLUMNS)),
            (
                self._lockouts,
                rows(
                    [_lockout_row(**lock) for _, lock in record.lockouts if lock is not None],
                    _LOCKOUT_COLUMNS,
                ),
            ),
            (
                (self._ended_sql, None),
                [(s,) for s in ended] if self._ended_positional else [{"scope": s} for s in ended],
            ),
            (self._audit, rows([_audit_row(**r) for r in record.audits], _AUDIT_COLUMNS)),
            (self._rule_states, rows(states, _RULE_STATE_COLUMNS)),
        ]
        return [(statement, made) for statement, made in work if made]

    @staticmethod
    def write(conn: Connection, prepared: list[tuple[tuple[str, Params | None], list[Any]]]) -> None:
        """A prepared record's rows on ``conn``, inside the caller's transaction."""
        for (sql, params), made in prepared:
            conn.exec_driver_sql(sql, made if params is None else params(made))


def _violation_row(
    *,
    ts: datetime,
    rule: str,
    message: str,
    action: str,
    severity: Any,
    shadow: bool,
    symbol: str | None,
    values: dict[str, Any],
    event: str,
) -> dict[str, Any]:
    severity = getattr(severity, "value", severity)
    if severity not in _SEVERITIES:
        raise ValueError(f"violation severity must be one of {sorted(_SEVERITIES)}, got {severity!r}")
    return {
        "ts": to_iso(ts, field="violation ts"),
        "rule": rule,
        "message": message,
        "action": action,
        "severity": severity,
        "shadow": bool(shadow),
        "symbol": symbol,
        "values": dump_json(values, field="violation values"),
        "event": event,
    }


def _lockout_row(
    *, scope: str, rule: str, reason: str, started_at: datetime, until: datetime | None
) -> dict[str, Any]:
    if not scope:
        raise ValueError("lockout scope must not be empty")
    return {
        "scope": scope,
        "rule": rule,
        "reason": reason,
        "started_at": to_iso(started_at, field="lockout started_at"),
        "until": to_iso(until, field="lockout until"),
    }


def _audit_row(
    *, ts: datetime, action: str, rule: str, reason: str, result: str, symbol: str | None = None
) -> dict[str, Any]:
    return {
        "ts": to_iso(ts, field="audit ts"),
        "action": action,
        "rule": rule,
        "reason": reason,
        "result": result,
        "symbol": symbol,
    }


def _rule_state_rows(
    states: Mapping[str, Mapping[str, Any]], trading_day: date, at: datetime
) -> list[dict[str, Any]]:
    day = trading_day.isoformat()
    stamp = to_iso(at, field="rule state time")
    return [
        {
            "rule": name,
            "trading_day": day,
            "state": dump_json(dict(state), field="rule state"),
            "updated_at": stamp,
        }
        for name, state in states.items()
    ]


def _upsert_rule_states(conn: Connection, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        upsert(conn, rule_state, row, ["rule"])


def _violation(row: RowMapping) -> dict[str, Any]:
    """One violation row; ``ValueError`` naming the column when it does not parse."""
    ts = time_column(row["ts"], "ts")
    if ts is None:
        raise ValueError("column ts is empty")
    if row["severity"] not in _SEVERITIES:
        raise ValueError(f"column severity: {row['severity']!r} is not one of {sorted(_SEVERITIES)}")
    return {**row, "ts": ts, "shadow": bool(row["shadow"]), "values": json_object(row["values"], "values")}
