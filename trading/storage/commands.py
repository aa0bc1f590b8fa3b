"""Operator commands from the dashboard to the desk, and a small JSON key-value store.

A command row records who sent it: ``requested_by`` (their name), ``requester_role`` and
``requester_address`` (both None when not known, e.g. in rows written before schema version 3).

A command goes ``pending -> running -> done | failed``. ``claim`` is one conditional
UPDATE, so exactly one claimer wins, across threads and processes.

Rows are read defensively (``_rows``): a command whose arguments are not a JSON object comes
back with its raw text as ``args`` and a WARNING naming the row, so the desk fails that one
command with a reason (the argument check refuses text) and carries on; a key-value document
that does not parse raises ``StateError`` naming its key (the desk's saved state: guessing
would silently reset a daily loss or a pause).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from trading.errors import StateError
from trading.storage._codec import dump_json, to_iso
from trading.storage._rows import json_object, time_column, where
from trading.storage._schema import commands, key_values
from trading.storage._sql import check_limit, upsert
from trading.storage.database import Database

__all__ = ["CommandRepository", "KeyValueRepository"]

logger = logging.getLogger(__name__)

_FINAL = frozenset({"done", "failed"})
_TIMES = ("created_at", "claimed_at", "finished_at")


class CommandRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def submit(
        self,
        kind: str,
        args: dict[str, Any],
        requested_by: str,
        *,
        role: str | None = None,
        address: str | None = None,
    ) -> int:
        """Queue a command; returns its id. ``requested_by`` names who sent it; ``role`` and
        ``address`` (None: not known) record the role the sender had and where they were."""
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"command kind must be a non-empty string, got {kind!r}")
        row = {
            "kind": kind,
            "args": dump_json(args, field="command args"),
            "requested_by": requested_by,
            "requester_role": role,
            "requester_address": address,
            "status": "pending",
            "result": "",
            "created_at": to_iso(self._db.clock.now()),
        }
        stmt = insert(commands).values(**row).returning(commands.c.id)
        return int(self._db.write(lambda conn: conn.execute(stmt).scalar_one()))

    def pending(self) -> list[dict[str, Any]]:
        """Pending commands, oldest first."""
        query = select(commands).where(commands.c.status == "pending").order_by(commands.c.id)
        return self._fetch(query)

    def claim(self, command_id: int) -> bool:
        """Move a pending command to running; True for exactly one caller, False for the others."""
        stmt = (
            update(commands)
            .where(commands.c.id == command_id, commands.c.status == "pending")
            .values(status="running", claimed_at=to_iso(self._db.clock.now()))
        )
        return bool(self._db.write(lambda conn: conn.execute(stmt).rowcount) == 1)

    def finish(self, command_id: int, status: str, result: str) -> None:
        """Record the outcome of a pending or running command.

        ``ValueError`` for a status other than "done"/"failed"; ``KeyError`` if the command
        does not exist or has already finished."""
        if status not in _FINAL:
            raise ValueError(f"command status must be one of {sorted(_FINAL)}, got {status!r}")
        stmt = (
            update(commands)
            .where(commands.c.id == command_id, commands.c.status.in_(("pending", "running")))
            .values(status=status, result=str(result), finished_at=to_iso(self._db.clock.now()))
        )
        if self._db.write(lambda conn: conn.execute(stmt).rowcount) != 1:
            current = self.get(command_id)
            state = "does not exist" if current is None else f"is already {current['status']}"
            raise KeyError(f"command {command_id} {state}: cannot finish it as {status}")

    def get(self, command_id: int) -> dict[str, Any] | None:
        found = self._fetch(select(commands).where(commands.c.id == command_id))
        return found[0] if found else None

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first."""
        check_limit(limit)
        return self._fetch(select(commands).order_by(commands.c.id.desc()).limit(limit))

    def _fetch(self, query: Any) -> list[dict[str, Any]]:
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [self._command(row) for row in rows]

    def _command(self, row: RowMapping) -> dict[str, Any]:
        data = dict(row)
        place = where(self._db, "commands", f"id {row['id']}")
        for name in _TIMES:
            try:
                data[name] = time_column(data[name], name)
            except ValueError as exc:
                logger.warning("%s: %s: read as empty", place, exc)
                data[name] = None
        try:
            data["args"] = json_object(data["args"], "args")
        except ValueError as exc:
            logger.warning("%s: %s: the command will fail", place, exc)
            data["args"] = str(data["args"])[:200]  # not a mapping: the argument check refuses it
        return data

    def __repr__(self) -> str:
        return f"CommandRepository({self._db!r})"


class KeyValueRepository:
    """JSON documents by key (e.g. the paper account's cash and positions for restart recovery)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, key: str, value: dict[str, Any]) -> None:
        if not isinstance(key, str) or not key:
            raise ValueError(f"key must be a non-empty string, got {key!r}")
        if not isinstance(value, dict):
            raise TypeError(f"value for key {key!r} must be a dict, got {type(value).__name__}")
        row = {"key": key, "value": dump_json(value, field=key), "updated_at": to_iso(self._db.clock.now())}
        self._db.write(lambda conn: upsert(conn, key_values, row, ["key"]))

    def get(self, key: str) -> dict[str, Any] | None:
        """The document stored under ``key``, or None. A value that is not a JSON object raises
        ``StateError`` naming the database, the table and the key."""
        query = select(key_values.c.value).where(key_values.c.key == key)
        value = self._db.read(lambda conn: conn.execute(query).scalar())
        if value is None:
            return None
        try:
            return json_object(value, "value")
        except ValueError as exc:
            raise StateError(
                f"{where(self._db, 'key_values', f'key {key!r}')}: {exc}: the saved state cannot be "
                "read; fix the row, or delete it to start without it",
                path=self._db.path,
            ) from None

    def __repr__(self) -> str:
        return f"KeyValueRepository({self._db!r})"
