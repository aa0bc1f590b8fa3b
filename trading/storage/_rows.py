"""Reading stored values defensively: a damaged row is named by its place, never a traceback.

The desk writes every row through the repositories, so a row that does not parse was written
around them (by hand, by another program) or damaged. Each parser here raises ``ValueError``
saying which column holds what; ``where(db, table, key)`` names the row for the message. The
repository decides what a bad row means: a history row is skipped with a WARNING, a row the
desk's safety depends on (a lockout, the saved risk state) stops the start with a
``StateError`` naming it, because skipping it would silently weaken the risk limits.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from trading.storage._codec import from_iso
from trading.storage.database import Database

__all__ = ["json_object", "time_column", "where"]

_SHOWN = 80  # characters of a bad value quoted in a message


def where(db: Database, table: str, key: str) -> str:
    """``/path/desk.db: table lockouts, scope 'account'``: the place of one row."""
    place = db.path if db.path is not None else "the database"
    return f"{place}: table {table}, {key}"


def time_column(value: Any, column: str) -> datetime | None:
    """An ISO 8601 column value as an aware datetime (None stays None); ``ValueError`` otherwise."""
    if value is None:
        return None
    try:
        return from_iso(value)
    except (TypeError, ValueError):
        raise ValueError(f"column {column}: {_show(value)} is not an ISO 8601 time") from None


def json_object(value: Any, column: str) -> dict[str, Any]:
    """A JSON-object column value as a dict (empty or NULL is ``{}``); ``ValueError`` otherwise."""
    if value is None or value == "":
        return {}
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {column}: not valid JSON ({exc}): {_show(value)}") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"column {column}: a JSON object expected, got {type(loaded).__name__}")
    return loaded


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}..."
