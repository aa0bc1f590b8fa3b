"""Dashboard commands: executed exactly once each, audited, never stopping the desk."""

from __future__ import annotations

from trading.clock import TestClock
from trading.model import TradingState
from trading.storage import CommandRepository, Database

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
    assert "KeyError" in repo.get(missing_arg)["result"]
    assert "unlock needs a reason" in repo.get(no_reason)["result"]
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
