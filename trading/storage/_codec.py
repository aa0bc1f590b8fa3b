"""Conversions between Python values and column values.

Datetimes are stored as ISO-8601 UTC text with microseconds, so text order is time
order, and come back timezone-aware. A naive datetime is refused: its meaning is unknown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["dump_json", "from_iso", "load_json", "to_iso"]


def to_iso(value: datetime | None, *, field: str = "datetime") -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"{field} must be a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"{field} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def dump_json(value: dict[str, Any] | None, *, field: str = "value") -> str:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise TypeError(f"{field} must be a dict, got {type(value).__name__}")
    # default=str: datetimes, enums and numpy scalars are stored readably rather than refused.
    return json.dumps(value, default=_jsonable, separators=(",", ":"))


def load_json(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    loaded = json.loads(value)
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value) if value.tzinfo else value.isoformat()
    enum_value = getattr(value, "value", None)
    if enum_value is not None and isinstance(enum_value, (str, int, float)):
        return enum_value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    return str(value)
