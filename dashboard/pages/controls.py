"""Controls: flatten all, close a position, pause, resume, unlock, reload risk config.

Every argument the desk takes (``trading.commands.ARGUMENTS``) has a field here: a reason
for flatten, pause, resume and unlock (required for unlock), whether a flatten also
pauses new entries, the position to close and the scope to unlock. Every action is
validated by ``trading.commands`` and asks for confirmation, then writes a row to the
commands table; the desk executes and audits it. The table below shows each command's status.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import tables
from dashboard.data import DeskReader
from dashboard.session import page_context, show_banner
from trading.commands import Command, CommandKind, command_args, parse_command
from trading.errors import ConfigError

PENDING_KEY = "controls_pending"
RESULT_KEY = "controls_result"
LABELS = {
    CommandKind.FLATTEN_ALL: "Flatten all positions and cancel open orders",
    CommandKind.CLOSE_POSITION: "Close position",
    CommandKind.PAUSE: "Pause new entries",
    CommandKind.RESUME: "Resume trading",
    CommandKind.UNLOCK: "Unlock (end lockouts, back to ACTIVE)",
    CommandKind.RELOAD_RISK_CONFIG: "Reload the risk configuration",
}


def ask(kind: CommandKind | None, args: dict[str, Any] | None) -> None:
    """Hold a command for confirmation (bad input is refused here, before anything is asked)."""
    st.session_state[PENDING_KEY] = None
    st.session_state[RESULT_KEY] = None
    if kind is None:
        return
    try:
        st.session_state[PENDING_KEY] = parse_command(kind, args)
    except ConfigError as exc:
        st.session_state[RESULT_KEY] = (False, f"not sent: {exc}")


def confirm(reader: DeskReader) -> None:
    """Runs before the rerun that follows the Confirm click, so the page shows the outcome at once."""
    command: Command = st.session_state[PENDING_KEY]
    st.session_state[PENDING_KEY] = None
    try:
        command_id = reader.submit_command(command.kind, command_args(command), requested_by="dashboard")
    except ConfigError as exc:
        st.session_state[RESULT_KEY] = (False, f"not sent: {exc}")
    else:
        st.session_state[RESULT_KEY] = (True, f"command #{command_id} {command.kind.value} sent to the desk")


def unlock_scopes(locked: list[str]) -> list[str]:
    """The scope choices: "account" first, then every other scope the snapshot shows locked
    (another can be typed in: the snapshot may be a moment old)."""
    return ["account", *sorted(set(locked) - {"account"})]


st.header("Controls")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    if not ctx.reader.has_database():
        st.info("No database yet: start the desk before sending it commands.")
    else:
        snap = ctx.snapshot
        symbols = sorted(p.symbol for p in snap.positions) if snap else []
        scopes = unlock_scopes([lock.scope for lock in snap.lockouts] if snap else [])

        c1, c2, c3 = st.columns(3)
        flatten_reason = c1.text_input("flatten reason (optional)", key="flatten_reason")
        flatten_pause = c1.checkbox("then pause new entries until resumed", value=True, key="flatten_pause")
        if c1.button("Flatten all", type="primary", key="btn_flatten_all"):
            ask(CommandKind.FLATTEN_ALL, {"reason": flatten_reason, "pause": flatten_pause})
        entries_reason = c2.text_input("pause / resume reason (optional)", key="pause_reason")
        p1, p2 = c2.columns(2)
        if p1.button("Pause", key="btn_pause"):
            ask(CommandKind.PAUSE, {"reason": entries_reason})
        if p2.button("Resume", key="btn_resume"):
            ask(CommandKind.RESUME, {"reason": entries_reason})
        if c3.button("Reload risk config", key="btn_reload"):
            ask(CommandKind.RELOAD_RISK_CONFIG, {})

        c5, c6 = st.columns(2)
        symbol = c5.selectbox("position", symbols, key="close_symbol", placeholder="no open positions")
        if c5.button("Close position", key="btn_close", disabled=not symbols):
            ask(CommandKind.CLOSE_POSITION, {"symbol": symbol})
        scope = c6.selectbox("unlock scope", scopes, key="unlock_scope", accept_new_options=True)
        unlock_reason = c6.text_input("unlock reason", key="unlock_reason")
        if c6.button("Unlock", key="btn_unlock"):
            ask(CommandKind.UNLOCK, {"reason": unlock_reason, "scope": scope})

        pending: Command | None = st.session_state.get(PENDING_KEY)
        if pending is not None:
            args = command_args(pending)
            detail = f" ({', '.join(f'{k}: {v}' for k, v in args.items())})" if args else ""
            st.warning(f"Confirm: {LABELS[pending.kind]}{detail}?")
            ok, cancel = st.columns(2)
            ok.button("Confirm", type="primary", key="btn_confirm", on_click=confirm, args=(ctx.reader,))
            cancel.button("Cancel", key="btn_cancel", on_click=ask, args=(None, None))
        result = st.session_state.get(RESULT_KEY)
        if result is not None:
            ok_result, text = result
            (st.success if ok_result else st.error)(text)

        st.subheader("Commands")
        st.dataframe(tables.rows_frame(ctx.reader.commands(limit=50)), hide_index=True, key="commands_table")
