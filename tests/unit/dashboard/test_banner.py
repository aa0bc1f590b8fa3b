"""banner.py: grey STALE once the heartbeat is old, never a coloured state over old numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from dashboard.banner import degraded_message, desk_banner, freshness
from dashboard.data import DeskHealth, DeskStatus
from dashboard.desk_clock import DeskClock
from dashboard.money import Tone
from trading.state_dir import Heartbeat

from .conftest import build_snapshot

NOW = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
BEAT = Heartbeat(pid=42, ts=NOW.timestamp(), started_at=NOW, sim_time=NOW, trading_state="ACTIVE")


def _banner(health: DeskHealth, age: float | None = 1.0, **snap):  # -> Banner
    snapshot = replace(build_snapshot(NOW), **snap)
    status = DeskStatus(health, BEAT if health is not DeskHealth.NO_STATE else None, age, "")
    return desk_banner(status, snapshot, DeskClock.of(snapshot, wall_now=NOW.timestamp()), state_name="data")


def test_banner_running_desk_shows_state_in_colour_with_reason_and_pause() -> None:
    banner = _banner(DeskHealth.RUNNING, trading_state="HALTED", state_reason="daily loss", paused=True)

    assert banner.markdown() == "**Trading state:** :red[**HALTED**]: daily loss · :orange[PAUSED]"
    assert not banner.warning


def test_banner_stale_heartbeat_is_grey_stale_with_last_known_state() -> None:
    banner = _banner(DeskHealth.STALE, age=12.0)

    assert banner.stale and banner.markdown() == "**Trading state:** :gray[**STALE**]: last known ACTIVE"
    assert banner.warning == (
        "desk not running: last heard from 12 s ago (desk time 09:00:00 CST, pid 42); the numbers below are from then"
    )


def test_banner_no_state_names_the_directory_not_its_path() -> None:
    banner = _banner(DeskHealth.NO_STATE, age=None)

    assert banner.label == "NO DESK" and banner.warning.endswith("state directory 'data' yet")


@pytest.mark.parametrize(
    ("age", "desk_stale", "tone"),
    [(3.0, False, Tone.NEUTRAL), (8.0, False, Tone.WARN), (15.0, False, Tone.BAD), (1.0, True, Tone.BAD)],
)
def test_freshness_amber_past_a_refresh_and_the_limit_then_red(
    age: float, desk_stale: bool, tone: Tone
) -> None:
    snapshot = build_snapshot(NOW)

    fresh = freshness(
        snapshot, wall_now=snapshot.heartbeat + age, refresh=2.0, stale_after=5.0, desk_stale=desk_stale
    )

    assert fresh.tone is tone and fresh.text() == f"updated {age:.0f} s ago"


def test_banner_degraded_heartbeat_says_storage_failing_even_when_the_snapshot_does_not() -> None:
    # Arrange: the disk is full: the heartbeat (written in place) says so, the snapshot could not
    snapshot = build_snapshot(NOW)
    beat = replace(BEAT, degraded=True, degraded_reason="journal write failed: database or disk is full")
    status = DeskStatus(DeskHealth.RUNNING, beat, 1.0, "")
    # Act
    banner = desk_banner(
        status, snapshot, DeskClock.of(snapshot, wall_now=NOW.timestamp()), state_name="data"
    )
    # Assert
    assert banner.degraded == "journal write failed: database or disk is full"
    assert degraded_message(banner.degraded).startswith(
        "Storage failing: journal write failed: database or disk is full. The desk's journal holds"
    )


def test_banner_degraded_snapshot_alone_is_enough_and_a_healthy_desk_is_not_degraded() -> None:
    assert _banner(DeskHealth.RUNNING, storage_problem="disk I/O error").degraded == "disk I/O error"
    assert _banner(DeskHealth.RUNNING).degraded == ""
