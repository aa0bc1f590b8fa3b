"""desk_clock.py: the desk's clock, shown in the exchange time zone with UTC beside it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dashboard.desk_clock import DeskClock, format_duration

from .conftest import build_snapshot

# Tuesday 2026-01-06 15:00 UTC is 09:00 CST in Chicago
DESK_NOW = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)


def _clock(speed: float = 1.0, wall: float = 1_000_000.0) -> DeskClock:
    snap = replace(build_snapshot(DESK_NOW), heartbeat=wall, clock_speed=speed)
    return DeskClock.of(snap, wall_now=wall + 3.0)


def test_desk_clock_now_is_the_snapshot_time_not_the_wall_clock() -> None:
    clock = _clock()

    assert clock.now == DESK_NOW and clock.zone_name == "America/Chicago"


def test_desk_clock_local_names_the_zone_and_dates_other_days() -> None:
    clock = _clock()

    assert clock.local(DESK_NOW + timedelta(minutes=5)) == "09:05:00 CST"
    assert clock.local(DESK_NOW - timedelta(days=1), seconds=False) == "2026-01-05 09:00 CST"
    assert clock.utc(DESK_NOW) == "2026-01-06 15:00:00 UTC"
    assert clock.local(datetime(2026, 7, 6, 15, 0, tzinfo=UTC)) == "2026-07-06 10:00:00 CDT"


def test_desk_clock_wall_stamps_move_onto_the_desk_clock_at_its_speed() -> None:
    clock = _clock(speed=10.0, wall=1_000_000.0)

    moved = clock.from_wall(datetime.fromtimestamp(1_000_000.0 - 6.0, UTC))

    assert moved == DESK_NOW - timedelta(seconds=60)


def test_desk_clock_countdown_from_desk_now() -> None:
    clock = _clock()

    assert clock.countdown(DESK_NOW + timedelta(seconds=112)) == "1m 52s"
    assert clock.countdown(DESK_NOW - timedelta(seconds=1)) == "ended"
    assert clock.countdown(None) == "until the daily reset"


def test_desk_clock_without_snapshot_is_the_wall_clock_in_utc() -> None:
    clock = DeskClock.of(None, wall_now=DESK_NOW.timestamp())

    assert clock.now == DESK_NOW and clock.local(DESK_NOW) == "15:00:00 UTC"


def test_format_duration_hours_minutes_seconds() -> None:
    assert (format_duration(3725), format_duration(65), format_duration(-3)) == (
        "1h 02m 05s",
        "1m 05s",
        "0m 00s",
    )
