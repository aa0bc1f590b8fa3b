"""pages/controls.py under AppTest: every action asks first, then writes a command row."""

from __future__ import annotations

from trading.storage import CommandRepository, Database

from ..conftest import DeskState, run_page


def _commands(state: DeskState) -> list[dict]:
    with Database(state.state_dir / "desk.db") as db:
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
