"""Dashboard commands: executed exactly once each, audited, never stopping the desk."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from typing import Any

import pytest

from dashboard.data import DeskReader
from tests.unit.test_commands import COMMAND_CASES
from trading.clock import TestClock
from trading.errors import ConfigError
from trading.model import Order, OrderRole, OrderSide, TradingState
from trading.storage import AuditRepository, CommandRepository, Database

from .conftest import START


def _commands(desk) -> CommandRepository:
    return CommandRepository(desk.parts.db)


async def test_commands_each_kind_runs_once_and_is_recorded(make_desk):
    desk = make_desk()
    await desk.run_simulated(600)
    repo = _commands(desk)
    ids = {
        "pause": repo.submit("pause", {"reason": "lunch"}, "alice"),
        "resume": repo.submit("resume", {"reason": "back"}, "alice"),
        "reload": repo.submit("reload_risk_config", {}, "bob"),
        "flatten": repo.submit("flatten_all", {"reason": "end of test"}, "carol"),
    }

    ran = desk.parts.commands.poll()
    again = desk.parts.commands.poll()
    await desk.parts.commands.join()  # the reload reads the risk file off the loop

    assert (ran, again) == (4, 0)
    results = {name: repo.get(cid) for name, cid in ids.items()}
    assert all(r["status"] == "done" for r in results.values()), results
    assert results["flatten"]["requested_by"] == "carol"
    assert "paused" in results["flatten"]["result"]
    assert desk.risk.paused
    assert desk.risk.state is TradingState.HALTED
    assert not desk.broker.open_orders() or all(o.role.value == "EXIT" for o in desk.broker.open_orders())
    await desk.shutdown()


async def test_commands_bad_ones_fail_with_reason_and_desk_goes_on(make_desk):
    desk = make_desk()
    await desk.run_simulated(30)
    repo = _commands(desk)
    unknown = repo.submit("launch_rockets", {}, "mallory")
    no_position = repo.submit("close_position", {"symbol": "ZZZ"}, "alice")
    missing_arg = repo.submit("close_position", {}, "alice")
    no_reason = repo.submit("unlock", {"reason": "  "}, "alice")

    desk.parts.commands.poll()
    await desk.run_simulated(30)

    assert "unknown command 'launch_rockets'" in repo.get(unknown)["result"]
    assert "no open position in 'ZZZ'" in repo.get(no_position)["result"]
    assert repo.get(missing_arg)["result"] == "command 'close_position' needs a non-empty 'symbol'"
    assert repo.get(no_reason)["result"] == "command 'unlock' needs a non-empty 'reason'"
    assert {repo.get(c)["status"] for c in (unknown, no_position, missing_arg, no_reason)} == {"failed"}
    assert desk.cycles > 30  # still running after the bad commands
    await desk.shutdown()


async def test_commands_written_while_desk_is_down_run_once_after_restart(make_desk):
    clock = TestClock(START)
    desk = make_desk(clock=clock)
    await desk.run_simulated(30)
    await desk.shutdown()
    db = Database(desk.state_dir.database)
    repo = CommandRepository(db)
    pending = repo.submit("pause", {"reason": "while down"}, "alice")
    interrupted = repo.submit("resume", {"reason": "claimed then crash"}, "alice")
    assert repo.claim(interrupted)  # as if a desk had claimed it and died before finishing
    db.close()

    again = make_desk(clock=TestClock(clock.now()))
    await again.run_simulated(5)

    repo = _commands(again)
    assert repo.get(pending)["status"] == "done"
    assert again.risk.paused
    assert repo.get(interrupted)["status"] == "failed"
    assert "desk stopped while executing" in repo.get(interrupted)["result"]
    assert again.parts.commands.poll() == 0
    await again.shutdown()


async def test_commands_pause_survives_a_restart_until_resume(make_desk):
    clock = TestClock(START)
    desk = make_desk(clock=clock)
    CommandRepository(desk.parts.db).submit("pause", {"reason": "news at 10"}, "alice")
    await desk.run_simulated(5)
    assert desk.risk.paused
    await desk.shutdown()

    again = make_desk(clock=TestClock(clock.now()))
    assert again.risk.paused
    assert "news at 10" in again.risk.state_reason
    CommandRepository(again.parts.db).submit("resume", {"reason": "done"}, "alice")
    await again.run_simulated(5)
    await again.shutdown()

    third = make_desk(clock=TestClock(clock.now()))
    assert not third.risk.paused


def _reader(desk) -> DeskReader:
    return DeskReader(desk.state_dir.root, clock=desk.clock)


async def test_commands_table_same_verdict_from_dashboard_and_desk(make_desk):
    desk = make_desk()
    await desk.run_simulated(30)
    repo = _commands(desk)
    dashboard: list[Any] = []
    written: list[int] = []

    with _reader(desk) as reader:
        for kind, args, _ in COMMAND_CASES:
            try:
                reader.submit_command(kind, args, requested_by="dashboard")
            except ConfigError as exc:
                dashboard.append(str(exc))
            else:
                dashboard.append("accepted")
            written.append(repo.submit(kind, args, "around the dashboard"))  # as a script would
    desk.parts.commands.poll()
    await desk.parts.commands.join()  # a reload reads the risk file off the loop

    rows = [repo.get(command_id) for command_id in written]
    desk_verdicts = ["accepted" if row["status"] == "done" else row["result"] for row in rows]
    expected = [e if isinstance(e, str) else "accepted" for _, _, e in COMMAND_CASES]
    assert dashboard == expected
    assert desk_verdicts == expected
    await desk.shutdown()


async def test_commands_flatten_reason_from_dashboard_reaches_audit(make_desk):
    desk = make_desk()
    await desk.run_simulated(600)
    with _reader(desk) as reader:
        command_id = reader.submit_command(
            "flatten_all", {"reason": " end of day "}, requested_by="dashboard"
        )

    desk.parts.commands.poll()

    assert _commands(desk).get(command_id)["status"] == "done"
    audit = {row["action"]: row for row in AuditRepository(desk.parts.db).recent(limit=20)}
    assert (audit["flatten"]["rule"], audit["flatten"]["reason"]) == ("operator:dashboard", "end of day")
    assert audit["pause"]["reason"] == "after flatten: end of day"
    assert desk.risk.paused
    await desk.shutdown()


async def test_commands_flatten_pause_false_from_dashboard_leaves_entries_open(make_desk):
    desk = make_desk()
    await desk.run_simulated(30)
    with _reader(desk) as reader:
        command_id = reader.submit_command(
            "flatten_all", {"reason": "rebalance", "pause": False}, requested_by="dashboard"
        )

    desk.parts.commands.poll()

    assert _commands(desk).get(command_id)["status"] == "done"
    assert "paused" not in _commands(desk).get(command_id)["result"]
    assert not desk.risk.paused
    await desk.shutdown()


async def test_commands_unlock_scope_from_dashboard_ends_that_lockout_only(make_desk):
    desk = make_desk()
    await desk.run_simulated(30)
    desk.risk.enforcer.lock("ES", "operator:test", "news", until=None, state=TradingState.REDUCING)
    desk.risk.enforcer.lock("NQ", "operator:test", "news", until=None, state=TradingState.REDUCING)
    with _reader(desk) as reader:
        command_id = reader.submit_command(
            "unlock", {"reason": "news over", "scope": "ES"}, requested_by="dashboard"
        )

    desk.parts.commands.poll()

    row = _commands(desk).get(command_id)
    assert (row["args"], row["status"], row["result"]) == (
        {"reason": "news over", "scope": "ES"},
        "done",
        "ES unlocked",
    )
    assert [lock.scope for lock in desk.risk.lockouts()] == ["NQ"]
    unlock = next(r for r in AuditRepository(desk.parts.db).recent(limit=20) if r["action"] == "unlock")
    assert (unlock["rule"], unlock["reason"], unlock["result"]) == (
        "operator:dashboard",
        "news over",
        "ES unlocked",
    )
    await desk.shutdown()


@pytest.mark.parametrize("args", [{"reason": "x", "scope": 3}, {"reason": "x", "scope": "ES", "force": True}])
async def test_commands_unlock_bad_args_around_dashboard_fail_and_lockout_stays(make_desk, args):
    desk = make_desk()
    await desk.run_simulated(5)
    desk.risk.enforcer.lock("ES", "operator:test", "news", until=None, state=TradingState.REDUCING)
    command_id = _commands(desk).submit("unlock", args, "script")

    desk.parts.commands.poll()

    assert _commands(desk).get(command_id)["status"] == "failed"
    assert [lock.scope for lock in desk.risk.lockouts()] == ["ES"]
    await desk.shutdown()


def _rows(desk, sql: str) -> list[tuple[Any, ...]]:
    """Rows read on a connection of their own, as another process would see them."""
    with closing(sqlite3.connect(desk.state_dir.database)) as raw:
        return raw.execute(sql).fetchall()


async def test_commands_unlock_is_durable_when_done_and_a_restart_keeps_the_new_position(make_desk):
    # Arrange: no strategies; round trips in ES until a small daily loss limit flattens and locks
    clock = TestClock(START)
    rules = {"daily_realized_loss": {"limit": 20}}
    desk = make_desk(clock=clock, rules=rules, risk={"manual_unlock": "always"}, desk={"strategies": []})
    await desk.run_simulated(5)
    for _ in range(200):
        for side in (OrderSide.BUY, OrderSide.SELL):
            desk.broker.submit(Order(symbol="ES", side=side, quantity=1, strategy="manual"))
            await desk.run_simulated(1)
        if desk.risk.state is TradingState.HALTED:
            break
    assert desk.risk.state is TradingState.HALTED and "daily_realized_loss" in desk.risk.state_reason
    # Act: the operator unlocks the account
    command_id = _commands(desk).submit("unlock", {"reason": "reviewed the loss"}, "alice")
    desk.parts.commands.poll()
    # Assert: reported done only once the database says so (no flush, another connection)
    assert _commands(desk).get(command_id)["status"] == "done"
    assert _rows(desk, "SELECT scope FROM lockouts WHERE scope = 'account'") == []
    assert _rows(desk, "SELECT action, result FROM audit WHERE action = 'unlock'") == [
        ("unlock", "account unlocked")
    ]
    [(state,)] = _rows(desk, "SELECT state FROM rule_state WHERE rule = 'daily_realized_loss'")
    assert json.loads(state)["tripped"] is True
    # Act: a new position after the unlock, then the desk dies (no shutdown) and starts again
    assert desk.risk.state is TradingState.ACTIVE
    desk.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1, strategy="manual"))
    desk.pump(clock.now() + timedelta(seconds=1))
    held = desk.broker.positions()["ES"].quantity
    desk.parts.lock.release()  # what the OS does when the process dies
    again = make_desk(clock=TestClock(clock.now()), rules=rules)
    # Assert: nothing re-fired: the position is kept, the account ACTIVE, one violation row
    assert again.risk.state is TradingState.ACTIVE
    assert again.broker.positions()["ES"].quantity == held
    await again.run_simulated(5)
    assert again.risk.state is TradingState.ACTIVE
    assert not [o for o in again.broker.open_orders("ES") if o.role is OrderRole.EXIT and "daily" in o.reason]
    assert again.risk.flush()
    assert _rows(again, "SELECT COUNT(*) FROM violations WHERE rule = 'daily_realized_loss'") == [(1,)]
    await again.shutdown()


async def test_commands_reload_is_read_off_the_loop_and_later_commands_wait_their_turn(make_desk):
    desk = make_desk()
    await desk.run_simulated(5)
    repo = _commands(desk)
    reload_id = repo.submit("reload_risk_config", {}, "bob")
    pause_id = repo.submit("pause", {"reason": "after the reload"}, "alice")

    assert desk.parts.commands.poll() == 2
    # the reload is being read on a worker thread; the pause waits behind it, in order
    assert (repo.get(reload_id)["status"], repo.get(pause_id)["status"]) == ("running", "running")
    assert not desk.risk.paused
    await desk.parts.commands.join()

    assert (repo.get(reload_id)["status"], repo.get(pause_id)["status"]) == ("done", "done")
    assert repo.get(reload_id)["finished_at"] <= repo.get(pause_id)["finished_at"]
    assert desk.risk.paused
    await desk.shutdown()
