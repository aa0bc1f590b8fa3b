"""trading/state_dir.py: the state directory's layout and the heartbeat format."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trading.errors import StateError
from trading.state_dir import Heartbeat, StateDir

STARTED = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _beat(**changes: object) -> Heartbeat:
    fields: dict = {
        "pid": 4242,
        "ts": 1_800_000_000.5,
        "started_at": STARTED,
        "sim_time": datetime(2026, 11, 24, 16, 30, tzinfo=UTC),
        "trading_state": "REDUCING",
    }
    fields.update(changes)
    return Heartbeat(**fields)


def test_state_dir_layout_names_every_file(tmp_path: Path) -> None:
    layout = StateDir(tmp_path)

    assert [
        p.relative_to(tmp_path).as_posix()
        for p in (
            layout.state_file,
            layout.database,
            layout.heartbeat,
            layout.lock_file,
            layout.logs,
            layout.log_file("desk"),
            layout.run_dir,
        )
    ] == ["state.pkl", "desk.db", "heartbeat.json", "desk.lock", "logs", "logs/desk.log", "run"]


def test_state_dir_prepare_creates_missing_directory(tmp_path: Path) -> None:
    layout = StateDir(tmp_path / "a" / "b")

    layout.prepare()

    assert layout.root.is_dir() and not list(layout.root.iterdir())


def test_state_dir_prepare_file_in_the_way_raises_state_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")

    with pytest.raises(StateError, match=r"state directory .*taken cannot be written"):
        StateDir(tmp_path / "taken").prepare()


def test_heartbeat_write_then_read_same_value(tmp_path: Path) -> None:
    path = StateDir(tmp_path).heartbeat
    beat = _beat()

    beat.write(path)

    assert Heartbeat.read(path) == beat
    assert [p.name for p in tmp_path.iterdir()] == ["heartbeat.json"]  # no temp file left behind


def test_heartbeat_file_format_is_the_documented_json(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat.json"

    _beat().write(path)

    assert json.loads(path.read_text()) == {
        "pid": 4242,
        "ts": 1_800_000_000.5,
        "started_at": "2026-11-24T15:00:00+00:00",
        "sim_time": "2026-11-24T16:30:00+00:00",
        "trading_state": "REDUCING",
    }


def test_heartbeat_write_replaces_previous(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat.json"
    _beat().write(path)

    _beat(pid=7, trading_state="HALTED").write(path)

    beat = Heartbeat.read(path)
    assert beat is not None and (beat.pid, beat.trading_state) == (7, "HALTED")


def test_heartbeat_stamped_uses_wall_clock_now() -> None:
    before = datetime.now(UTC).timestamp()

    beat = Heartbeat.stamped(pid=1, started_at=STARTED, sim_time=STARTED, trading_state="ACTIVE")

    assert before <= beat.ts <= datetime.now(UTC).timestamp()


def test_heartbeat_read_missing_none_and_silent(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="trading.state_dir"):
        assert Heartbeat.read(tmp_path / "heartbeat.json") is None

    assert caplog.records == []


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "Expecting property name enclosed in double quotes"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"pid": 1, "ts": 2.0}', "missing started_at, sim_time, trading_state"),
        (
            '{"pid": "1", "ts": 2.0, "started_at": "2026-01-01T00:00:00+00:00", '
            '"sim_time": "2026-01-01T00:00:00+00:00", "trading_state": "ACTIVE"}',
            "pid must be an integer, got '1'",
        ),
        (
            '{"pid": 1, "ts": true, "started_at": "2026-01-01T00:00:00+00:00", '
            '"sim_time": "2026-01-01T00:00:00+00:00", "trading_state": "ACTIVE"}',
            "ts must be epoch seconds, got True",
        ),
        (
            '{"pid": 1, "ts": 2.0, "started_at": "yesterday", '
            '"sim_time": "2026-01-01T00:00:00+00:00", "trading_state": "ACTIVE"}',
            "started_at must be an ISO 8601 timestamp, got 'yesterday'",
        ),
        (
            '{"pid": 1, "ts": 2.0, "started_at": "2026-01-01T00:00:00+00:00", '
            '"sim_time": "2026-01-01T00:00:00+00:00", "trading_state": 3}',
            "trading_state must be text, got 3",
        ),
    ],
)
def test_heartbeat_read_garbage_none_with_warning_naming_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str, why: str
) -> None:
    path = tmp_path / "heartbeat.json"
    path.write_text(content)

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        beat = Heartbeat.read(path)

    assert beat is None
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].getMessage().startswith(f"unreadable heartbeat file {path}: {why}")


def test_heartbeat_read_binary_garbage_none_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "heartbeat.json"
    path.write_bytes(b"\xff\xfe\x00garbage")

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        assert Heartbeat.read(path) is None

    assert f"unreadable heartbeat file {path}" in caplog.text


def test_heartbeat_read_directory_none_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "heartbeat.json"
    path.mkdir()

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        assert Heartbeat.read(path) is None

    assert f"unreadable heartbeat file {path}" in caplog.text


# --- issue 12: a restart resumes the clock from the heartbeat, never back, never absurdly ahead ------

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def test_heartbeat_resume_time_is_the_sim_time(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat.json"
    _beat(sim_time=datetime(2026, 12, 1, tzinfo=UTC)).write(path)

    assert Heartbeat.resume_time(path, now=NOW) == datetime(2026, 12, 1, tzinfo=UTC)


def test_heartbeat_resume_time_missing_file_is_none(tmp_path: Path) -> None:
    assert Heartbeat.resume_time(tmp_path / "heartbeat.json", now=NOW) is None


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("garbage{", "Expecting value"),
        ('{"pid": 1, "ts": NaN, "started_at": "2026-01-01T00:00:00+00:00", "sim_time": "2026-01-01T00:00:00+00:00", "trading_state": "ACTIVE"}', "ts must be epoch seconds, got nan"),
        ('{"pid": 0, "ts": 1.0, "started_at": "2026-01-01T00:00:00+00:00", "sim_time": "2026-01-01T00:00:00+00:00", "trading_state": "ACTIVE"}', "pid must be a positive integer, got 0"),
        ('{"pid": 1, "ts": 1.0, "started_at": "2026-01-01T00:00:00", "sim_time": "2026-01-01T00:00:00", "trading_state": "ACTIVE"}', "started_at must carry a UTC offset"),
        ('{"pid": 1, "ts": 1.0, "started_at": "2026-01-01T00:00:00+00:00", "sim_time": "10000-01-01T00:00:00+00:00", "trading_state": "ACTIVE"}', "sim_time must be an ISO 8601 timestamp"),
    ],
)
def test_heartbeat_resume_time_unreadable_file_refuses_naming_it(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "heartbeat.json"
    path.write_text(content)

    with pytest.raises(StateError, match=r"unreadable heartbeat \(") as info:
        Heartbeat.resume_time(path, now=NOW)

    message = str(info.value)
    assert message.startswith(f"{path}: unreadable heartbeat ({why}")
    assert message.endswith(
        "the desk's last simulated time is unknown and starting could move its clock back; restore the file, "
        "or delete it to start the clock at clock.start (or now)"
    )


def test_heartbeat_resume_time_far_future_ignored_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "heartbeat.json"
    _beat(sim_time=datetime(9999, 12, 31, 23, 59, tzinfo=UTC)).write(path)

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        assert Heartbeat.resume_time(path, now=NOW) is None

    assert caplog.messages == [
        f"heartbeat {path}: sim_time 9999-12-31T23:59:00+00:00 is more than 3660 days ahead of "
        "2026-11-24T18:00:00+00:00: ignored, the clock starts at 2026-11-24T18:00:00+00:00"
    ]


def test_heartbeat_read_huge_file_none_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "heartbeat.json"
    path.write_text(" " * 100_000)

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        assert Heartbeat.read(path) is None

    assert "is not a heartbeat (about 200 bytes)" in caplog.text


# --- issue 11: the heartbeat says when the desk is degraded, even on a full disk -----------------


def test_heartbeat_degraded_round_trips_and_is_in_the_file_only_while_degraded(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat.json"
    beat = Heartbeat.stamped(
        pid=1, started_at=STARTED, sim_time=STARTED, trading_state="HALTED", degraded_reason="disk is full"
    )

    beat.write(path)

    assert Heartbeat.read(path) == beat
    assert (beat.degraded, beat.degraded_reason) == (True, "disk is full")
    data = json.loads(path.read_text())
    assert (data["degraded"], data["degraded_reason"]) == (True, "disk is full")
    Heartbeat.stamped(pid=1, started_at=STARTED, sim_time=STARTED, trading_state="ACTIVE").write(path)
    assert "degraded" not in json.loads(path.read_text())
    assert Heartbeat.read(path).degraded is False


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ('"degraded": "yes"', "degraded must be true or false, got 'yes'"),
        ('"degraded": true, "degraded_reason": 5', "degraded_reason must be text, got '5'"),
    ],
)
def test_heartbeat_read_bad_degraded_field_none_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, extra: str, why: str
) -> None:
    path = tmp_path / "heartbeat.json"
    path.write_text(
        '{"pid": 1, "ts": 2.0, "started_at": "2026-01-01T00:00:00+00:00", '
        f'"sim_time": "2026-01-01T00:00:00+00:00", "trading_state": "ACTIVE", {extra}}}'
    )

    with caplog.at_level(logging.WARNING, logger="trading.state_dir"):
        assert Heartbeat.read(path) is None

    assert f"unreadable heartbeat file {path}: {why}" in caplog.text


def test_heartbeat_long_reason_is_capped() -> None:
    beat = Heartbeat.stamped(
        pid=1, started_at=STARTED, sim_time=STARTED, trading_state="HALTED", degraded_reason="x" * 5000
    )

    assert len(beat.degraded_reason) == 300


def test_heartbeat_on_a_full_disk_is_rewritten_in_place(tmp_path: Path) -> None:
    # Arrange: a tiny tmpfs (root only) holding a healthy heartbeat, then filled up
    disk = tmp_path / "disk"
    disk.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        path = disk / "heartbeat.json"
        _beat().write(path)
        with (disk / "filler").open("wb", buffering=0) as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 4096)
        with pytest.raises(OSError, match="No space left"):
            (disk / "probe").write_bytes(b"x" * 4096)
        degraded = _beat(pid=9, trading_state="HALTED", degraded=True, degraded_reason="database or disk is full")
        # Act
        degraded.write(path)
        # Assert: the new heartbeat is there, and no temp file was left behind
        assert Heartbeat.read(path) == degraded
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "heartbeat.json", "probe"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
