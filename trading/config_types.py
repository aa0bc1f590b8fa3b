"""Strict field types shared by every config model: a typo must never pass as a value.

pydantic's lax mode turns ``true`` into ``1.0``, ``"2500"`` into ``2500.0``, ``1`` into ``True``
and ``20260101`` into a date; in a risk file each of those silently changes a limit. These
types accept only what their name says:

- ``Number``: an int or a float, finite; not a bool, not text (``limit: yes`` is refused).
- ``Whole``: an int; not a bool, not a float, not text.
- ``Flag``: ``true`` or ``false``; not ``1``, not ``"yes"``.
- ``IsoDate``: text ``YYYY-MM-DD`` (the strict YAML reader keeps dates as text).
- ``Timestamp``: text ISO 8601 date and time *with* a UTC offset, between 1971 and 2199.
- ``TimeZoneName``: an IANA zone name that ``zoneinfo`` knows.
- ``LocalTime``: a wall-clock time ``"HH:MM"`` (or ``"H:MM"``, ``"HH:MM:SS"``) without an offset.

Bounds (``gt=0``, ``le=1``...) stay on the fields, with ``Field``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AllowInfNan, BeforeValidator, Strict

__all__ = [
    "EARLIEST_TIMESTAMP",
    "LATEST_TIMESTAMP",
    "Flag",
    "IsoDate",
    "LocalTime",
    "Number",
    "TimeZoneName",
    "Timestamp",
    "Whole",
    "known_time_zone",
    "parse_iso_date",
    "parse_local_time",
    "parse_timestamp",
]

EARLIEST_TIMESTAMP = datetime(1971, 1, 1, tzinfo=UTC)
LATEST_TIMESTAMP = datetime(2200, 1, 1, tzinfo=UTC)

Number = Annotated[float, Strict(), AllowInfNan(False)]
Whole = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]


def parse_iso_date(value: Any) -> Any:
    """``'2026-01-05'`` -> ``date``; a ``date`` passes; anything else: ``ValueError`` saying the format."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a date written YYYY-MM-DD, got {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"a date written YYYY-MM-DD ({exc})") from None


def parse_timestamp(value: Any) -> Any:
    """ISO 8601 text with a UTC offset -> aware ``datetime`` (an aware ``datetime`` passes)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "an ISO 8601 date and time with a UTC offset, e.g. 2026-01-05T14:30:00+00:00"
            ) from None
    else:
        raise ValueError(f"an ISO 8601 date and time as text, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("a UTC offset (add +00:00 or Z): without one the time is ambiguous")
    if not EARLIEST_TIMESTAMP <= parsed < LATEST_TIMESTAMP:
        raise ValueError(f"a time from {EARLIEST_TIMESTAMP:%Y} to {LATEST_TIMESTAMP.year - 1}")
    return parsed


def known_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:  # zoneinfo raises several types for a bad key (ValueError, KeyError, OSError)
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as America/Chicago)") from None
    return value


def parse_local_time(value: Any) -> Any:
    """``'HH:MM'``, ``'H:MM'`` or ``'HH:MM:SS'`` (a ``time`` passes). A number is refused: a YAML 1.1
    reader turned an unquoted 17:00 into 1020, and ``open: 830`` must not become 13:50."""
    if isinstance(value, str) and len(value) in (4, 7) and value[1] == ":":
        return f"0{value}"  # '8:30' -> '08:30' (the strict loader keeps an unquoted 8:30 as text)
    if not isinstance(value, str | time):
        raise ValueError("a time written 'HH:MM'")
    return value


def _no_offset(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local time without a UTC offset (the time zone is its own field)")
    return value


LocalTime = Annotated[time, BeforeValidator(parse_local_time), AfterValidator(_no_offset)]
IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp)]
TimeZoneName = Annotated[str, Strict(), AfterValidator(known_time_zone)]
