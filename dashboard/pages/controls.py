"""Controls: flatten all, close a position, pause, resume, unlock, reload risk config.

Every action asks for confirmation, then writes a row to the commands table; the desk
executes and audits it. The table below shows each command's status.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import tables
from dashboard.data import DeskReader, validate_command
from dashboard.session import page_context, show_banner
from trading.errors import ConfigError

PENDING_KEY = "controls_pending"
RESULT_KEY = "controls_result"
LABELS = {
    "flatten_all": "Flatten all positions and cancel open orders",
    "close_position": "Close position",
    "pause": "Pause new entries",
    "resume": "Resume trading",
    "unlock": "Unlock (end lockouts, back to ACTIVE)",
    "reload_risk_config": "Reload the risk configuration",
}


def ask(kind: str | None, args: dict[str, Any] | None) -> None:
    """Hold a command for confirmation (bad input is refused here, before anything is asked)."""
    st.session_state[PENDING_KEY] = None
    st.session_state[RESULT_KEY] = None
    if kind is None:
        return
    try:
        st.session_state[PENDING_KEY] = (kind, validate_command(kind, args or {}))
    except ConfigError as exc:
        st.session_state[RESULT_KEY] = (False, f"not sent: {exc}")


def confirm(reader: DeskReader) -> None:
    """Runs before the rerun that follows the Confirm click, so the page shows the outcome at once."""
    kind, args = st.session_state[PENDING_KEY]
    st.session_state[PENDING_KEY] = None
    try:
        command_id = reader.submit_command(kind, args, requested_by="dashboard")
    except ConfigError as exc:
        st.session_state[RESULT_KEY] = (False, f"not sent: {exc}")
    else:
        st.session_state[RESULT_KEY] = (True, f"command #{command_id} {kind} sent to the desk")


st.header("Controls")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    if not ctx.reader.has_database():
        st.info("No database yet: start the desk before sending it commands.")
    else:
        symbols = sorted(p.symbol for p in ctx.snapshot.positions) if ctx.snapshot else []
        c1, c2, c3, c4 = st.columns(4)
        if c1.button("Flatten all", type="primary", key="btn_flatten_all"):
            ask("flatten_all", {})
        if c2.button("Pause", key="btn_pause"):
            ask("pause", {})
        if c3.button("Resume", key="btn_resume"):
            ask("resume", {})
        if c4.button("Reload risk config", key="btn_reload"):
            ask("reload_risk_config", {})
        c5, c6 = st.columns(2)
        symbol = c5.selectbox("position", symbols, key="close_symbol", placeholder="no open positions")
        if c5.button("Close position", key="btn_close", disabled=not symbols):
            ask("close_position", {"symbol": symbol})
        reason = c6.text_input("unlock reason", key="unlock_reason")
        if c6.button("Unlock", key="btn_unlock"):
            ask("unlock", {"reason": reason})

        pending = st.session_state.get(PENDING_KEY)
        if pending is not None:
            kind, args = pending
            detail = f" ({', '.join(f'{k}: {v}' for k, v in args.items())})" if args else ""
            st.warning(f"Confirm: {LABELS[kind]}{detail}?")
            ok, cancel = st.columns(2)
            ok.button("Confirm", type="primary", key="btn_confirm", on_click=confirm, args=(ctx.reader,))
            cancel.button("Cancel", key="btn_cancel", on_click=ask, args=(None, None))
        result = st.session_state.get(RESULT_KEY)
        if result is not None:
            ok_result, text = result
            (st.success if ok_result else st.error)(text)

        st.subheader("Commands")
        st.dataframe(tables.rows_frame(ctx.reader.commands(limit=50)), hide_index=True, key="commands_table")
