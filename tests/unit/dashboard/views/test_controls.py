"""views/controls.py under AppTest: every action asks first in words that name what will happen,
then writes a command row with the operator's name; its status follows through."""

from __future__ import annotations

import getpass
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from trading.clock import TestClock
from trading.desk import Desk
from trading.model import TradingState
from trading.snapshot import PositionView
from trading.state_dir import StateDir
from trading.storage import CommandRepository, Database
from trading.users import Role, load_users, save_users

from ..conftest import APP, PASSWORDS, ROOT, DeskState, frame, run_page, write_snapshot

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _commands(state: DeskState) -> list[dict]:
    with Database(StateDir(state.state_dir).database) as db:
        return CommandRepository(db).recent(limit=50)


def _finish(state: DeskState, command_id: int, status: str, result: str) -> None:
    """What the desk does with a command: claim it, run it, record the outcome."""
    with Database(StateDir(state.state_dir).database) as db:
        repo = CommandRepository(db)
        assert repo.claim(command_id)
        repo.finish(command_id, status, result)


def _without(state: DeskState, symbol: str) -> None:
    snap = state.snapshot
    write_snapshot(
        state.state_dir, replace(snap, positions=tuple(p for p in snap.positions if p.symbol != symbol))
    )


def test_controls_flatten_confirm_names_positions_and_quantities(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.button(key="btn_flatten_all").click().run()

    text = at.warning[0].value
    assert text.startswith(
        "Confirm: Flatten all: close every position at market: ESZ6 long 2 (sell 2 ESZ6), "
        "NQZ6 short 1 (buy 1 NQZ6); 3 in 2 positions as of "
    )
    assert re.search(r" C[SD]T; cancel all 2 open orders; then pause new entries until resumed\.$", text)
    assert len(_commands(desk_state_dir)) == 1  # nothing written before confirmation


def test_controls_flatten_confirmed_writes_command_as_the_os_user(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.button(key="btn_flatten_all").click().run()
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"], newest["status"], newest["requested_by"]) == (
        "flatten_all",
        {},
        "pending",
        getpass.getuser(),
    )
    assert (
        at.info[0].value
        == f"command #{newest['id']} flatten_all by {getpass.getuser()}: sent, waiting for the desk"
    )
    assert not at.warning
    assert frame(at, "kind", "arguments")["kind"].iloc[0] == "flatten_all"


def test_controls_operator_from_launcher_recorded_with_the_command(
    desk_state_dir: DeskState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHBOARD_OPERATOR", "alice")
    at = run_page("controls")

    at.button(key="btn_pause").click().run()
    at.button(key="btn_confirm").click().run()

    assert _commands(desk_state_dir)[0]["requested_by"] == "alice"
    assert "recorded as requested by **alice** (launcher --operator)" in at.caption[1].value


def test_controls_status_follows_through_to_done_with_the_desk_result(desk_state_dir: DeskState) -> None:
    at = run_page("controls")
    at.text_input(key="pause_reason").input("news at 10")
    at.button(key="btn_pause").click().run()
    at.button(key="btn_confirm").click().run()
    sent = _commands(desk_state_dir)[0]

    _finish(desk_state_dir, sent["id"], "done", "new entries paused")
    at.run()

    assert [s.value for s in at.success] == [
        f"command #{sent['id']} pause (reason: news at 10) by {getpass.getuser()}: done: new entries paused"
    ]
    row = frame(at, "kind", "arguments").iloc[0]
    assert (row["arguments"], row["status"], row["result"]) == (
        "reason: news at 10",
        "done",
        "new entries paused",
    )


def test_controls_status_failed_shows_the_desk_reason(desk_state_dir: DeskState) -> None:
    at = run_page("controls")
    at.button(key="btn_reload").click().run()
    at.button(key="btn_confirm").click().run()
    sent = _commands(desk_state_dir)[0]

    _finish(desk_state_dir, sent["id"], "failed", "risk config refused; the running rules stay")
    at.run()

    assert at.error[0].value.endswith(": failed: risk config refused; the running rules stay")


def test_controls_cancel_writes_nothing(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.button(key="btn_pause").click().run()
    at.button(key="btn_cancel").click().run()

    assert len(_commands(desk_state_dir)) == 1 and not at.warning


def test_controls_position_picker_has_no_default_and_close_disabled(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    picker = at.selectbox(key="close_symbol")

    assert picker.value is None and list(picker.options) == ["ESZ6", "NQZ6"]
    assert at.button(key="btn_close").disabled


def test_controls_chosen_position_shown_live_under_the_picker(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.selectbox(key="close_symbol").select("NQZ6").run()

    assert "NQZ6: short 1 @ 21,050 (-\\$412.25)" in [c.value for c in at.caption]


def test_controls_close_position_confirms_side_and_quantity_and_sends_it(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.selectbox(key="close_symbol").select("NQZ6").run()
    at.button(key="btn_close").click().run()
    assert at.warning[0].value.startswith(
        "Confirm: Close NQZ6: buy 1 NQZ6 at market, the whole short position of 1 @ 21,050 (unrealized -\\$412.25"
    )
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"]) == ("close_position", {"symbol": "NQZ6"})
    assert at.selectbox(key="close_symbol").value is None  # not chosen again by accident


def test_controls_chosen_position_closed_since_says_so_and_disables_close(desk_state_dir: DeskState) -> None:
    at = run_page("controls")
    at.selectbox(key="close_symbol").select("NQZ6").run()

    _without(desk_state_dir, "NQZ6")  # NQZ6 hit its stop
    at.run()

    picker = at.selectbox(key="close_symbol")
    assert picker.value == "NQZ6"  # never moved to ESZ6
    assert at.warning[0].value == "NQZ6 is no longer open: it closed after you chose it. Nothing to close."
    assert at.button(key="btn_close").disabled


def test_controls_position_opened_after_load_is_offered(desk_state_dir: DeskState) -> None:
    at = run_page("controls")
    snap = desk_state_dir.snapshot
    opened = PositionView(
        symbol="YMZ6",
        quantity=3.0,
        avg_price=44_000.0,
        last_price=44_010.0,
        unrealized_pnl=150.0,
        realized_pnl=0.0,
    )

    write_snapshot(desk_state_dir.state_dir, replace(snap, positions=(*snap.positions, opened)))
    at.run()

    assert at.selectbox(key="close_symbol").options[-1] == "YMZ6"


def test_controls_close_refused_when_the_position_changed_before_confirm(desk_state_dir: DeskState) -> None:
    at = run_page("controls")
    at.selectbox(key="close_symbol").select("ESZ6").run()
    at.button(key="btn_close").click().run()

    snap = desk_state_dir.snapshot
    smaller = tuple(replace(p, quantity=1.0) if p.symbol == "ESZ6" else p for p in snap.positions)
    write_snapshot(desk_state_dir.state_dir, replace(snap, positions=smaller))
    at.button(key="btn_confirm").click().run()

    assert len(_commands(desk_state_dir)) == 1  # nothing sent
    assert (
        at.error[0].value
        == "not sent: ESZ6 changed after you asked (now long 1, was long 2); nothing was sent: ask again"
    )


def test_controls_unlock_without_reason_refused(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.button(key="btn_unlock").click().run()

    assert at.error[0].value == "not sent: command 'unlock' needs a non-empty 'reason'"
    assert not at.warning and len(_commands(desk_state_dir)) == 1


def test_controls_unlock_with_reason_written(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.text_input(key="unlock_reason").input("reviewed with the risk officer")
    at.button(key="btn_unlock").click().run()
    assert at.warning[0].value == (
        "Confirm: Unlock account: end its lockout by daily_loss (test lockout to the reset; until the daily "
        "reset) so new entries are allowed again. Reason: reviewed with the risk officer."
    )
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"]) == ("unlock", {"reason": "reviewed with the risk officer"})


def test_controls_flatten_reason_and_no_pause_written(desk_state_dir: DeskState) -> None:
    at = run_page("controls")

    at.text_input(key="flatten_reason").input("end of day")
    at.checkbox(key="flatten_pause").uncheck()
    at.button(key="btn_flatten_all").click().run()
    assert at.warning[0].value.endswith("; new entries stay allowed. Reason: end of day.")
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"]) == ("flatten_all", {"reason": "end of day", "pause": False})
    assert frame(at, "kind", "arguments")["arguments"].iloc[0] == "reason: end of day · pause: no"


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
        at.run()

        newest = CommandRepository(desk.parts.db).recent(limit=1)[0]
        assert (newest["requested_by"], newest["status"], newest["result"]) == (
            getpass.getuser(),
            "done",
            "ES unlocked",
        )
        assert "ES" not in [lock.scope for lock in desk.risk.lockouts()]
        assert at.success[0].value.endswith(": done: ES unlocked")
    finally:
        await desk.shutdown()


async def test_controls_unlock_says_up_front_that_manual_unlock_keeps_a_loss_lockout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped risk.yaml says manual_unlock: never: a daily loss lockout is shown as kept
    before anybody presses Unlock, while an operator's own lock is shown as unlockable."""
    desk = Desk.from_files(ROOT / "config" / "desk.yaml", state_dir=tmp_path, clock=TestClock(START))
    try:
        await desk.run_simulated(30)
        enforcer = desk.risk.enforcer
        enforcer.lock("account", "daily_realized_loss", "loss 2,600", until=None, state=TradingState.HALTED)
        enforcer.lock("ES", "operator:test", "news", until=None, state=TradingState.REDUCING)
        await desk.publish()
        monkeypatch.setenv("DESK_STATE_DIR", str(tmp_path))
        at = run_page("controls")

        assert at.caption[-1].value == (
            "account lockout by daily_realized_loss: kept until it ends: no manual unlock (manual_unlock: never)"
        )
        at.selectbox(key="unlock_scope").select("ES").run()
        assert at.caption[-1].value == "ES lockout by operator:test: an operator may unlock (with a reason)"
    finally:
        await desk.shutdown()


# --- roles: a viewer sees every control disabled, and cannot send a command anyway ----------


def _logged_in_controls(username: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORDS[username])
    at.button[0].click().run()
    return at.switch_page("views/controls.py").run()


def test_controls_viewer_sees_every_control_disabled(desk_state_dir: DeskState, users_file: Path) -> None:
    at = _logged_in_controls("bob")

    assert not at.exception
    assert at.header[0].value == "Controls"
    main = [b for b in at.main.button]
    assert main and all(b.disabled for b in main), [(b.key, b.disabled) for b in main]
    assert all(t.disabled for t in at.main.text_input)
    assert all(s.disabled for s in at.main.selectbox)
    assert all(c.disabled for c in at.main.checkbox)
    assert "read-only: **Bob** is a viewer; only an operator sends commands" in [c.value for c in at.caption]


def _lower_to_viewer(users_file: Path, username: str) -> None:
    users = load_users(users_file)
    save_users(
        users_file,
        users.with_user(username, users.users[username].model_copy(update={"roles": (Role.VIEWER,)})),
    )


def test_controls_role_lowered_before_a_click_sends_nothing(
    desk_state_dir: DeskState, users_file: Path
) -> None:
    at = _logged_in_controls("alice")  # the page drawn for an operator: Flatten all enabled
    _lower_to_viewer(users_file, "alice")
    before = len(_commands(desk_state_dir))

    at.button(key="btn_flatten_all").click().run()  # the click reaches a server that now knows a viewer

    assert len(_commands(desk_state_dir)) == before
    assert not at.warning  # no confirmation was asked
    assert at.button(key="btn_flatten_all").disabled


def test_controls_role_lowered_between_ask_and_confirm_sends_nothing(
    desk_state_dir: DeskState, users_file: Path
) -> None:
    at = _logged_in_controls("alice")
    at.button(key="btn_pause").click().run()
    users = load_users(users_file)
    save_users(
        users_file,
        users.with_user("alice", users.users["alice"].model_copy(update={"roles": (Role.VIEWER,)})),
    )
    before = len(_commands(desk_state_dir))

    at.button(key="btn_confirm").click().run()

    assert len(_commands(desk_state_dir)) == before
    assert at.error[0].value == "not sent: alice is a viewer; only an operator sends commands"


def test_controls_operator_login_recorded_with_name_and_role(
    desk_state_dir: DeskState, users_file: Path
) -> None:
    at = _logged_in_controls("alice")
    at.text_input(key="flatten_reason").input("risk off")

    at.button(key="btn_flatten_all").click().run()
    at.button(key="btn_confirm").click().run()

    newest = _commands(desk_state_dir)[0]
    assert (newest["kind"], newest["args"], newest["requested_by"], newest["requester_role"]) == (
        "flatten_all",
        {"reason": "risk off"},
        "alice",
        "operator",
    )
    assert "recorded as requested by **alice** (login)" in [c.value for c in at.caption][1]
