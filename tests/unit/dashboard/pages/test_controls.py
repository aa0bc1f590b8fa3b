"""pages/controls.py under AppTest: every action asks first, then writes a command row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from trading.clock import TestClock
from trading.desk import Desk
from trading.model import TradingState
from trading.state_dir import StateDir
from trading.storage import CommandRepository, Database

from ..conftest import ROOT, DeskState, run_page

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _commands(state: DeskState) -> list[dict]:
    with Database(StateDir(state.state_dir).database) as db:
        return CommandRepository(db).recent(limit=50)


def test_controls_flatten_confirmed_writes_command(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.button(key="btn_flatten_all").click().run()
    assert at.warning[0].value == "Confirm: Flatten all positions and cancel open orders?"
    assert len(_commands(desk_state_dir)) == 1  # nothing written before confirmation
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"], newest["status"], newest["requested_by"]) == (
        "flatten_all",
        {},
        "pending",
        "dashboard",
    )
    assert at.success[0].value == f"command #{newest['id']} flatten_all sent to the desk"
    assert not at.warning
    assert at.dataframe[0].value["kind"].iloc[0] == "flatten_all"


def test_controls_cancel_writes_nothing(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.button(key="btn_pause").click().run()
    at.button(key="btn_cancel").click().run()

    assert len(_commands(desk_state_dir)) == 1 and not at.warning


def test_controls_close_position_sends_selected_symbol(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.selectbox(key="close_symbol").select("NQZ6")
    at.button(key="btn_close").click().run()
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"]) == ("close_position", {"symbol": "NQZ6"})


def test_controls_unlock_without_reason_refused(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.button(key="btn_unlock").click().run()

    assert at.error[0].value == "not sent: command 'unlock' needs a non-empty 'reason'"
    assert not at.warning and len(_commands(desk_state_dir)) == 1


def test_controls_unlock_with_reason_written(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.text_input(key="unlock_reason").input("reviewed with the risk officer")
    at.button(key="btn_unlock").click().run()
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"]) == ("unlock", {"reason": "reviewed with the risk officer"})


def test_controls_flatten_reason_and_no_pause_written(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.text_input(key="flatten_reason").input("end of day")
    at.checkbox(key="flatten_pause").uncheck()
    at.button(key="btn_flatten_all").click().run()
    assert at.warning[0].value == (
        "Confirm: Flatten all positions and cancel open orders (reason: end of day, pause: False)?"
    )
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"]) == ("flatten_all", {"reason": "end of day", "pause": False})


def test_controls_pause_and_resume_carry_reason(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.text_input(key="pause_reason").input("news at 10")
    at.button(key="btn_pause").click().run()
    at.button(key="btn_confirm").click().run()
    at.button(key="btn_resume").click().run()
    at.button(key="btn_confirm").click().run()

    newest, before = _commands(desk_state_dir)[:2]
    assert (before["kind"], before["args"]) == ("pause", {"reason": "news at 10"})
    assert (newest["kind"], newest["args"]) == ("resume", {"reason": "news at 10"})


def test_controls_unlock_scope_offers_account_then_locked_scopes(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    scope = at.selectbox(key="unlock_scope")

    assert list(scope.options) == ["account", "strategy:meanrev"] and scope.value == "account"


def test_controls_unlock_with_scope_written(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.selectbox(key="unlock_scope").select("strategy:meanrev")
    at.text_input(key="unlock_reason").input("checked")
    at.button(key="btn_unlock").click().run()
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"]) == ("unlock", {"reason": "checked", "scope": "strategy:meanrev"})


async def test_controls_unlock_scope_on_a_real_desk_ends_that_lockout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk.from_files(ROOT / "config" / "desk.yaml", state_dir=tmp_path, clock=TestClock(START))
    try:
        await desk.run_simulated(30)
        desk.risk.enforcer.lock("ES", "operator:test", "news", until=None, state=TradingState.REDUCING)
        await desk.publish()
        monkeypatch.setenv("DESK_STATE_DIR", str(tmp_path))
        at = run_page("controls")

        at.selectbox(key="unlock_scope").select("ES")
        at.text_input(key="unlock_reason").input("news over")
        at.button(key="btn_unlock").click().run()
        at.button(key="btn_confirm").click().run()
        desk.parts.commands.poll()

        newest = CommandRepository(desk.parts.db).recent(limit=1)[0]
        assert (newest["requested_by"], newest["status"], newest["result"]) == (
            "dashboard",
            "done",
            "ES unlocked",
        )
        assert "ES" not in [lock.scope for lock in desk.risk.lockouts()]
    finally:
        await desk.shutdown()
