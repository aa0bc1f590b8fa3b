"""Controls: flatten, close one position, pause/resume entries, unlock, reload the risk config.

Nothing can misfire: the position picker has no default, keeps a choice that has since closed
(saying so, with its button disabled) and lists positions opened after the page loaded on the
next refresh. Every action is validated by ``trading.commands`` and asks for confirmation in
words that name what the desk will do (``dashboard.command_text``); a close is refused at
confirmation when its position changed since. The command row records who sent it, their role
and address (``dashboard.identity``); its status follows through, sent -> done or failed with
the desk's result, polled from the commands table every second while it is open.

A viewer sees the page with every control disabled. The role is checked again on the server
when a command is asked for and when it is confirmed (a disabled button is a display: a crafted
websocket message can still click it), with the role the users file gives at that moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboard import command_text, tables
from dashboard.command_text import LABELS, Expectation, argument_help
from dashboard.data import DeskReader
from dashboard.identity import Identity, current_identity
from dashboard.money import md
from dashboard.session import PageContext, page_context, show_banner
from dashboard.settings import DashboardSettings
from trading.commands import Command, CommandKind, command_args, parse_command
from trading.errors import ConfigError
from trading.snapshot import LockoutView

PENDING_KEY = "controls_pending"
RESULT_KEY = "controls_result"
SENT_KEY = "controls_sent"  # ids of the commands this session sent, newest first
DONE_KEY = "controls_done"  # ids whose final status this session has already refreshed the page for
CLOSE_KEY = "close_symbol"
SENT_SHOWN = 5
STATUS_EVERY = 1.0  # seconds between two polls of the sent commands' status


@dataclass(frozen=True, slots=True)
class Pending:
    command: Command
    text: str  # what the confirmation says will happen
    expected: Expectation | None  # the position a close was asked for


def ask(kind: CommandKind | None, args: dict[str, Any] | None, ctx: PageContext | None = None) -> None:
    """Hold a command for confirmation (bad input is refused here, before anything is asked)."""
    st.session_state[PENDING_KEY] = None
    st.session_state[RESULT_KEY] = None
    if kind is None or ctx is None:
        return
    refused = not_an_operator(ctx.identity)
    if refused:
        st.session_state[RESULT_KEY] = refused
        return
    try:
        command = parse_command(kind, args)
    except ConfigError as exc:
        st.session_state[RESULT_KEY] = f"not sent: {exc}"
        return
    st.session_state[PENDING_KEY] = Pending(
        command,
        command_text.confirm_text(command, ctx.snapshot, ctx.clock),
        command_text.expectation(command, ctx.snapshot),
    )


def not_an_operator(identity: Identity | None) -> str | None:
    """Why ``identity`` may not send a command (None: it may)."""
    if identity is None:
        return "not sent: log in first"
    if not identity.is_operator:
        return f"not sent: {identity.name} is a {identity.role.value}; only an operator sends commands"
    return None


def confirm(reader: DeskReader) -> None:
    """Runs before the rerun that follows the Confirm click: checks who is confirming (their role
    as the users file says now) and the position again, then sends."""
    pending: Pending | None = st.session_state.get(PENDING_KEY)
    st.session_state[PENDING_KEY] = None
    if pending is None:
        return
    try:
        identity = current_identity(DashboardSettings.from_env())
    except (ConfigError, OSError) as exc:
        st.session_state[RESULT_KEY] = f"not sent: {exc}"
        return
    refused = not_an_operator(identity)
    if refused or identity is None:
        st.session_state[RESULT_KEY] = refused
        return
    changed = command_text.recheck(pending.expected, reader.snapshot())
    if changed:
        st.session_state[RESULT_KEY] = f"not sent: {changed}"
        return
    command = pending.command
    try:
        command_id = reader.submit_command(
            command.kind, command_args(command), requested_by=identity.requester()
        )
    except ConfigError as exc:
        st.session_state[RESULT_KEY] = f"not sent: {exc}"
        return
    st.session_state[SENT_KEY] = [command_id, *st.session_state.get(SENT_KEY, [])][:SENT_SHOWN]
    if command.kind is CommandKind.CLOSE_POSITION:
        st.session_state[CLOSE_KEY] = None  # a closed position is not chosen again by accident


def unlock_note(lockouts: Iterable[LockoutView], scope: str | None) -> str:
    """What an operator may do about the lockout on ``scope`` (risk.yaml's ``manual_unlock``),
    shown before they press Unlock; "" when that scope has no lockout."""
    for lock in lockouts:
        if lock.scope == scope:
            return f"{scope} lockout by {lock.rule}: {lock.unlock}" if lock.unlock else ""
    return ""


def unlock_scopes(locked: list[str]) -> list[str]:
    """The scope choices: "account" first, then every other scope the snapshot shows locked
    (another can be typed in: the snapshot may be a moment old)."""
    return ["account", *sorted(set(locked) - {"account"})]


@st.fragment(run_every=STATUS_EVERY)
def sent_status(reader: DeskReader) -> None:
    """The status of the commands this session sent; the page refreshes once when one finishes."""
    finished_now = False
    done: set[int] = st.session_state.setdefault(DONE_KEY, set())
    for command_id in st.session_state.get(SENT_KEY, []):
        row = reader.command(command_id)
        if row is None:
            continue
        tone, text = command_text.status_line(row)
        show = {"green": st.success, "red": st.error}.get(tone.value, st.info)
        show(md(text))
        if row["status"] in ("done", "failed") and command_id not in done:
            done.add(command_id)
            finished_now = True
    if finished_now:
        st.rerun(scope="app")  # the desk acted: show its new positions and state at once


def position_picker(ctx: PageContext, column: Any, *, disabled: bool) -> None:
    snap = ctx.snapshot
    positions = {p.symbol: p for p in snap.positions} if snap else {}
    chosen = st.session_state.get(CLOSE_KEY)
    options = sorted(positions)
    if chosen is not None and chosen not in positions:
        options.append(chosen)  # keep the choice visible: the picker never moves to another position
    symbol = column.selectbox(
        "position",
        options,
        index=None,
        placeholder="choose a position" if positions else "no open positions",
        key=CLOSE_KEY,
        help="the symbol only: what it holds now is shown under the box, from the latest snapshot",
        disabled=disabled,
    )
    vanished = symbol is not None and symbol not in positions
    if vanished:
        column.warning(f"{symbol} is no longer open: it closed after you chose it. Nothing to close.")
    elif symbol is not None:
        column.caption(md(command_text.position_label(positions[symbol])))
    if column.button("Close position", key="btn_close", disabled=disabled or symbol is None or vanished):
        ask(CommandKind.CLOSE_POSITION, {"symbol": symbol}, ctx)


def confirmation(ctx: PageContext) -> None:
    pending: Pending | None = st.session_state.get(PENDING_KEY)
    if pending is None:
        return
    st.warning(md(f"Confirm: {pending.text}"))
    changed = command_text.recheck(pending.expected, ctx.snapshot)
    if changed:
        st.error(md(changed.replace("nothing was sent", "confirming will send nothing")))
    ok, cancel = st.columns(2)
    ok.button(
        f"Confirm: {LABELS[pending.command.kind].lower()}",
        type="primary",
        key="btn_confirm",
        on_click=confirm,
        args=(ctx.reader,),
        disabled=not ctx.identity.is_operator,
    )
    cancel.button("Cancel", key="btn_cancel", on_click=ask, args=(None, None))


st.header("Controls")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    if not ctx.reader.has_database():
        st.info("No database yet: start the desk before sending it commands.")
    else:
        snap = ctx.snapshot
        scopes = unlock_scopes([lock.scope for lock in snap.lockouts] if snap else [])
        who = ctx.identity
        read_only = not who.is_operator
        if read_only:
            st.caption(f"read-only: **{who.display}** is a {who.role.value}; only an operator sends commands")
        else:
            st.caption(
                f"commands are recorded as requested by **{who.name}** ({who.source})"
                + ("" if ctx.status.running else "; the desk is not running: they wait until it starts")
            )

        c1, c2, c3 = st.columns(3)
        flatten_reason = c1.text_input(
            "flatten reason (optional)",
            key="flatten_reason",
            help=argument_help(CommandKind.FLATTEN_ALL, "reason"),
            disabled=read_only,
        )
        flatten_pause = c1.checkbox(
            "then pause new entries until resumed", value=True, key="flatten_pause", disabled=read_only
        )
        if c1.button("Flatten all", type="primary", key="btn_flatten_all", disabled=read_only):
            ask(CommandKind.FLATTEN_ALL, {"reason": flatten_reason, "pause": flatten_pause}, ctx)
        entries_reason = c2.text_input(
            "pause / resume reason (optional)",
            key="pause_reason",
            help=argument_help(CommandKind.PAUSE, "reason"),
            disabled=read_only,
        )
        p1, p2 = c2.columns(2)
        if p1.button("Pause", key="btn_pause", disabled=read_only):
            ask(CommandKind.PAUSE, {"reason": entries_reason}, ctx)
        if p2.button("Resume", key="btn_resume", disabled=read_only):
            ask(CommandKind.RESUME, {"reason": entries_reason}, ctx)
        if c3.button("Reload risk config", key="btn_reload", disabled=read_only):
            ask(CommandKind.RELOAD_RISK_CONFIG, {}, ctx)

        c5, c6 = st.columns(2)
        position_picker(ctx, c5, disabled=read_only)
        scope = c6.selectbox(
            "unlock scope",
            scopes,
            key="unlock_scope",
            accept_new_options=True,
            help=argument_help(CommandKind.UNLOCK, "scope"),
            disabled=read_only,
        )
        unlock_reason = c6.text_input(
            "unlock reason",
            key="unlock_reason",
            help=argument_help(CommandKind.UNLOCK, "reason"),
            disabled=read_only,
        )
        if c6.button("Unlock", key="btn_unlock", disabled=read_only):
            ask(CommandKind.UNLOCK, {"reason": unlock_reason, "scope": scope}, ctx)
        # Always there, below the button (empty without a lockout on the scope): a lockout that
        # comes or goes between two runs changes a text, never which element sits where.
        c6.caption(md(unlock_note(snap.lockouts if snap else (), scope)))

        confirmation(ctx)
        result = st.session_state.get(RESULT_KEY)
        if result is not None:
            st.error(md(result))
        sent_status(ctx.reader)

        st.subheader("Commands")
        st.dataframe(
            tables.commands_frame(ctx.reader.commands(limit=50), ctx.clock),
            hide_index=True,
            key="commands_table",
        )
