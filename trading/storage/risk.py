"""What the risk engine records: violations, lockouts and the enforcement audit trail.

Rows are read defensively (``_rows``): a damaged violation or audit row is skipped with a
WARNING naming it (they are history); a damaged lockout row stops the start with a
``StateError`` naming it, because dropping a lockout would quietly let a locked account trade.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select

from trading.errors import StateError
from trading.storage._codec import dump_json, to_iso
from trading.storage._rows import json_object, time_column, where
from trading.storage._schema import audit, lockouts, violations
from trading.storage._sql import check_limit, upsert
from trading.storage.database import Database

__all__ = ["AuditRepository", "LockoutRepository", "ViolationRepository"]

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
        severity = getattr(severity, "value", severity)
        if severity not in _SEVERITIES:
            raise ValueError(f"violation severity must be one of {sorted(_SEVERITIES)}, got {severity!r}")
        row = {
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
        if not scope:
            raise ValueError("lockout scope must not be empty")
        values = {
            "scope": scope,
            "rule": rule,
            "reason": reason,
            "started_at": to_iso(started_at, field="lockout started_at"),
            "until": to_iso(until, field="lockout until"),
        }
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
        row = {
            "ts": to_iso(ts, field="audit ts"),
            "action": action,
            "rule": rule,
            "reason": reason,
            "result": result,
            "symbol": symbol,
        }
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


def _violation(row: RowMapping) -> dict[str, Any]:
    """One violation row; ``ValueError`` naming the column when it does not parse."""
    ts = time_column(row["ts"], "ts")
    if ts is None:
        raise ValueError("column ts is empty")
    if row["severity"] not in _SEVERITIES:
        raise ValueError(f"column severity: {row['severity']!r} is not one of {sorted(_SEVERITIES)}")
    return {**row, "ts": ts, "shadow": bool(row["shadow"]), "values": json_object(row["values"], "values")}
