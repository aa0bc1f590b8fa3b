"""command_text.py: confirmations that name what will happen, a sent command's status in words."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.command_text import (
    Expectation,
    arguments_text,
    confirm_text,
    expectation,
    recheck,
    status_line,
)
from dashboard.desk_clock import DeskClock
from dashboard.money import Tone
from trading.commands import parse_command

from .conftest import build_snapshot

NOW = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
SNAP = build_snapshot(NOW)
CLOCK = DeskClock.of(SNAP, wall_now=SNAP.heartbeat)


def test_confirm_close_names_side_quantity_and_price() -> None:
    text = confirm_text(parse_command("close_position", {"symbol": "ESZ6"}), SNAP, CLOCK)

    assert text == (
        "Close ESZ6: sell 2 ESZ6 at market, the whole long position of 2 @ 6,012.25 "
        "(unrealized +$325.00 as of 09:00:00 CST)."
    )


def test_confirm_flatten_without_positions_says_so() -> None:
    empty = build_snapshot(NOW)
    empty = type(empty)(**{**{f: getattr(empty, f) for f in empty.__dataclass_fields__}, "positions": ()})

    text = confirm_text(parse_command("flatten_all", {"reason": "eod"}), empty, CLOCK)

    assert text == (
        "Flatten all: no open position as of 09:00:00 CST; cancel all 2 open orders; then pause new "
        "entries until resumed. Reason: eod."
    )


def test_confirm_unlock_of_scope_without_lockout_says_nothing_changes() -> None:
    text = confirm_text(parse_command("unlock", {"reason": "ok", "scope": "ESZ6"}), SNAP, CLOCK)

    assert text.startswith("Unlock ESZ6: no lockout on ESZ6 as of 09:00:00 CST; the desk will say so")


def test_recheck_refuses_a_close_whose_position_closed_or_changed() -> None:
    close = parse_command("close_position", {"symbol": "NQZ6"})

    expected = expectation(close, SNAP)

    assert expected == Expectation("NQZ6", -1.0)
    assert recheck(expected, SNAP) == ""
    assert recheck(Expectation("YMZ6", 1.0), SNAP).startswith("YMZ6 is no longer open")
    assert recheck(Expectation("NQZ6", -3.0), SNAP).startswith(
        "NQZ6 changed after you asked (now short 1, was short 3)"
    )


def test_arguments_text_reads_as_words() -> None:
    assert arguments_text({"reason": "eod", "pause": False}) == "reason: eod · pause: no"
    assert arguments_text({}) == ""


def test_status_line_sent_running_done_failed() -> None:
    row = {"id": 7, "kind": "pause", "args": {"reason": "news"}, "requested_by": "alice", "result": ""}

    assert status_line({**row, "status": "pending"}) == (
        Tone.INFO,
        "command #7 pause (reason: news) by alice: sent, waiting for the desk",
    )
    assert status_line({**row, "status": "running"})[1].endswith(": the desk is running it")
    assert status_line({**row, "status": "done", "result": "new entries paused"}) == (
        Tone.GOOD,
        "command #7 pause (reason: news) by alice: done: new entries paused",
    )
    assert status_line({**row, "status": "failed", "result": "boom"})[0] is Tone.BAD
