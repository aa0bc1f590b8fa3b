"""Streamlit glue shared by the pages: the cached reader, the desk banner, a pager.

Pages call ``page_context()`` first; it works whether the page runs under the
``st.navigation`` entry point (``app.py``) or alone (``AppTest.from_file(page)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from dashboard.data import DeskHealth, DeskReader, DeskStatus
from dashboard.settings import DashboardSettings
from trading.clock import LiveClock
from trading.errors import ConfigError
from trading.snapshot import Snapshot

__all__ = ["PageContext", "get_reader", "page_context", "pager", "show_banner"]

_STATE_COLORS = {"ACTIVE": "green", "REDUCING": "orange", "HALTED": "red"}


def _close_reader(reader: DeskReader) -> None:
    reader.close()


@st.cache_resource(show_spinner=False, on_release=_close_reader)
def get_reader(state_dir: str, stale_after: float) -> DeskReader:
    """One reader per state directory per server process, shared by every session."""
    return DeskReader(state_dir, clock=LiveClock(), stale_after=stale_after)


@dataclass(frozen=True, slots=True)
class PageContext:
    settings: DashboardSettings
    reader: DeskReader
    status: DeskStatus
    snapshot: Snapshot | None

    @property
    def now(self) -> datetime:
        return datetime.now(UTC)


def page_context() -> PageContext | None:
    """Settings, reader, desk status and snapshot for this run; None (after saying why) when unusable."""
    try:
        settings = DashboardSettings.from_env()
    except ConfigError as exc:
        st.error(f"Dashboard misconfigured: {exc}")
        return None
    reader = get_reader(str(settings.state_dir.resolve()), settings.stale_after)
    status = reader.status()
    snapshot = reader.snapshot()
    return PageContext(settings, reader, status, snapshot)


def show_banner(ctx: PageContext) -> None:
    """The desk's liveness and trading state, in plain words, at the top of every page."""
    if not ctx.status.running:
        st.warning(ctx.status.message, icon=":material/warning:")
    if ctx.snapshot is None:
        reason = ctx.reader.snapshot_error or "the desk has not published a snapshot yet"
        if ctx.status.health is not DeskHealth.NO_STATE:
            st.info(f"No snapshot to show: {reason}")
        return
    snap = ctx.snapshot
    color = _STATE_COLORS.get(snap.trading_state, "gray")
    paused = " · :orange[PAUSED]" if snap.paused else ""
    reason = f": {snap.state_reason}" if snap.state_reason else ""
    st.markdown(f"**Trading state:** :{color}[**{snap.trading_state}**]{reason}{paused}")
    st.caption(f"snapshot taken {snap.taken_at:%Y-%m-%d %H:%M:%S} UTC · desk pid {snap.desk_pid}")


def pager(key: str, total: int, page_size: int) -> int:
    """A page selector under a table; returns the row offset of the chosen page."""
    pages = max(1, -(-total // page_size))
    if pages == 1:
        st.caption(f"{total} rows")
        return 0
    page = st.number_input(
        f"page (of {pages}, {total} rows)", min_value=1, max_value=pages, value=1, step=1, key=f"{key}_page"
    )
    return (int(page) - 1) * page_size
