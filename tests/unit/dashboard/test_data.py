"""data.py: DeskReader over a real state directory (state file, SQLite database, heartbeat)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from dashboard.data import DeskHealth, DeskReader
from trading.clock import TestClock
from trading.commands import ARGUMENTS, CommandKind
from trading.errors import ConfigError
from trading.state_dir import StateDir

from .conftest import DeskState, build_snapshot, write_heartbeat, write_snapshot


@pytest.fixture
def clock() -> TestClock:
    return TestClock(datetime.now(UTC))


@pytest.fixture
def reader(desk_state_dir: DeskState, clock: TestClock) -> Iterator[DeskReader]:
    with DeskReader(desk_state_dir.state_dir, clock=clock, stale_after=5.0) as r:
        yield r


def test_status_fresh_heartbeat_running(reader: DeskReader) -> None:
    status = reader.status()

    assert status.health is DeskHealth.RUNNING and status.running
    assert status.message.startswith("desk running")


def test_status_old_heartbeat_stale_with_last_seen(reader: DeskReader, clock: TestClock) -> None:
    beat = reader.heartbeat()
    assert beat is not None
    clock.set_time(
        datetime.fromtimestamp(beat.ts, UTC) + timedelta(seconds=90)
    )  # not the fixture's write time

    status = reader.status()

    assert status.health is DeskHealth.STALE and not status.running
    assert "desk not running: last seen at" in status.message and "(90 s ago" in status.message


def test_status_missing_state_says_desk_not_running(tmp_path: Path, clock: TestClock) -> None:
    with DeskReader(tmp_path, clock=clock) as reader:
        status = reader.status()
        snapshot = reader.snapshot()

    assert status.health is DeskHealth.NO_STATE
    assert status.message == f"desk not running: no state file in {tmp_path}"
    assert snapshot is None


def test_status_missing_heartbeat_no_heartbeat(reader: DeskReader, desk_state_dir: DeskState) -> None:
    StateDir(desk_state_dir.state_dir).heartbeat.unlink()

    assert reader.status().health is DeskHealth.NO_HEARTBEAT


def test_status_garbage_heartbeat_logged_and_not_running(
    reader: DeskReader, desk_state_dir: DeskState, caplog: pytest.LogCaptureFixture
) -> None:
    StateDir(desk_state_dir.state_dir).heartbeat.write_text("{not json")

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        status = reader.status()

    assert status.health is DeskHealth.NO_HEARTBEAT
    assert "unreadable heartbeat file" in caplog.text


def test_snapshot_same_token_served_from_cache(reader: DeskReader, desk_state_dir: DeskState) -> None:
    first = reader.snapshot()

    second = reader.snapshot()

    assert first is second
    assert first is not None and np.array_equal(
        first.equity_curve.values, desk_state_dir.snapshot.equity_curve.values
    )
    stats = reader.statistics()
    assert stats.snapshot_loads == 1 and stats.token_checks == 2


def test_snapshot_new_file_reloaded(reader: DeskReader, desk_state_dir: DeskState) -> None:
    first = reader.snapshot()
    newer = build_snapshot(
        datetime.now(UTC), equity_shift=5_000.0, trading_state="HALTED", state_reason="test"
    )

    write_snapshot(desk_state_dir.state_dir, newer)
    second = reader.snapshot()

    assert second is not first and second is not None
    assert second.trading_state == "HALTED"
    assert reader.statistics().snapshot_loads == 2


def test_jobs_newest_first_paged_and_filtered(reader: DeskReader, desk_state_dir: DeskState) -> None:
    page1 = reader.jobs(lane="risk", limit=10)
    page2 = reader.jobs(lane="risk", limit=10, offset=10)

    assert reader.job_count(lane="risk") == 60
    assert [j.task_id for j in page1][:2] == ["task-0119", "task-0117"]
    assert not {j.task_id for j in page1} & {j.task_id for j in page2}
    assert reader.job_count(status="FAILED") == 12
    assert reader.job("task-0001") is not None


def test_failures_by_class_counts_failed_jobs(reader: DeskReader) -> None:
    assert reader.failures_by_class() == {"ZeroDivisionError": 12}


def test_activity_search_and_count(reader: DeskReader) -> None:
    rows = reader.activity(search="fill 12", limit=10)

    assert [r["message"] for r in rows] == [
        "fill 129 ESZ6 @ 6129",
        "fill 127 ESZ6 @ 6127",
        "fill 125 ESZ6 @ 6125",
        "fill 123 ESZ6 @ 6123",
        "fill 121 ESZ6 @ 6121",
    ]
    assert reader.activity_count() == 130
    assert reader.activity_count(level="WARNING") == 10


def test_submit_command_written_and_listed(reader: DeskReader) -> None:
    command_id = reader.submit_command("close_position", {"symbol": " ESZ6 "}, requested_by="test")

    newest = reader.commands(limit=5)[0]
    assert newest["id"] == command_id and newest["kind"] == "close_position"
    assert newest["args"] == {"symbol": "ESZ6"} and newest["status"] == "pending"


def test_submit_command_bad_input_refused_nothing_written(reader: DeskReader) -> None:
    before = len(reader.commands(limit=50))

    with pytest.raises(ConfigError, match=r"command 'unlock' needs a non-empty 'reason'"):
        reader.submit_command("unlock", {"reason": "  "}, requested_by="test")

    assert len(reader.commands(limit=50)) == before


def test_submit_command_every_argument_reaches_the_row(reader: DeskReader) -> None:
    flatten = reader.submit_command(
        "flatten_all", {"reason": " end of day ", "pause": False}, requested_by="test"
    )
    unlock = reader.submit_command("unlock", {"reason": "reviewed", "scope": "ESZ6"}, requested_by="test")
    pause = reader.submit_command("pause", {"reason": "news"}, requested_by="test")
    resume = reader.submit_command("resume", {"reason": "news over"}, requested_by="test")

    rows = {row["id"]: row["args"] for row in reader.commands(limit=10)}
    assert rows[flatten] == {"reason": "end of day", "pause": False}
    assert rows[unlock] == {"reason": "reviewed", "scope": "ESZ6"}
    assert (rows[pause], rows[resume]) == ({"reason": "news"}, {"reason": "news over"})


@pytest.mark.parametrize("kind", list(CommandKind))
def test_submit_command_any_protocol_argument_reaches_the_row(reader: DeskReader, kind: CommandKind) -> None:
    args = {a.name: (not a.default) if a.type is bool else f"{a.name} value" for a in ARGUMENTS[kind]}

    command_id = reader.submit_command(kind, args, requested_by="test")

    newest = reader.commands(limit=1)[0]
    assert (newest["id"], newest["kind"], newest["args"]) == (command_id, kind.value, args)


def test_submit_command_defaults_left_out_of_the_row(reader: DeskReader) -> None:
    command_id = reader.submit_command("unlock", {"reason": "ok", "scope": "account"}, requested_by="test")

    assert reader.commands(limit=1)[0]["id"] == command_id
    assert reader.commands(limit=1)[0]["args"] == {"reason": "ok"}


def test_database_missing_raises_state_error(tmp_path: Path, clock: TestClock) -> None:
    write_snapshot(tmp_path, build_snapshot(datetime.now(UTC)))
    write_heartbeat(tmp_path, clock.timestamp())

    with DeskReader(tmp_path, clock=clock) as reader:
        assert not reader.has_database()
        with pytest.raises(Exception, match="no database yet"):
            reader.jobs()
        assert reader.snapshot() is not None


def test_reader_repr_and_bad_stale_after(tmp_path: Path, clock: TestClock) -> None:
    with pytest.raises(ConfigError, match="stale_after must be > 0"):
        DeskReader(tmp_path, clock=clock, stale_after=0)
    with DeskReader(tmp_path, clock=clock) as reader:
        assert repr(reader).startswith(f"DeskReader(state_dir={str(tmp_path)!r}")


def test_status_heartbeat_written_later_turns_running(tmp_path: Path, clock: TestClock) -> None:
    write_snapshot(tmp_path, build_snapshot(clock.now()))
    write_heartbeat(tmp_path, (clock.now() - timedelta(hours=1)).timestamp())
    with DeskReader(tmp_path, clock=clock) as reader:
        assert reader.status().health is DeskHealth.STALE

        write_heartbeat(tmp_path, clock.timestamp())

        assert reader.status().health is DeskHealth.RUNNING


def test_risk_actions_newest_first_paged_and_counted(reader: DeskReader) -> None:
    first = reader.risk_actions(limit=2)
    second = reader.risk_actions(limit=2, offset=2)

    assert [a["action"] for a in first + second] == ["pause", "close_position", "lock"]
    assert reader.risk_action_count() == 3


def test_command_by_id_has_status_and_result(reader: DeskReader) -> None:
    command_id = reader.submit_command("pause", {"reason": "news"}, requested_by="alice")

    row = reader.command(command_id)

    assert row is not None and (row["status"], row["requested_by"]) == ("pending", "alice")
    assert reader.command(10_000) is None


def test_activity_filtered_by_sources(reader: DeskReader) -> None:
    assert reader.activity_count(sources=["feed"]) == 65
    assert {r["source"] for r in reader.activity(sources=["broker"], limit=5)} == {"broker"}
