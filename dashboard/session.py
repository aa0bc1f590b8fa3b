"""Streamlit glue shared by the views: the cached reader, the page context, the banner, a pager.

Views call ``page_context()`` first; it works whether the view runs under the
``st.navigation`` entry point (``app.py``) or alone (``AppTest.from_file(view)``).
``show_banner`` draws the desk's state and the numbers' freshness in a fragment that reruns
every second on its own (so STALE and "updated N s ago" are live whatever the page's
refresh), then the desk's clock of the numbers on screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from dashboard.banner import degraded_message, desk_banner, freshness
from dashboard.broker_line import broker_line
from dashboard.data import DeskReader, DeskStatus
from dashboard.desk_clock import DeskClock
from dashboard.identity import Identity, current_identity
from dashboard.money import md
from dashboard.settings import DashboardSettings
from trading.clock import LiveClock
from trading.errors import ConfigError
from trading.snapshot import Snapshot

__all__ = [
    "LIVE_STATUS_EVERY",
    "REFRESH_SLIDER_KEY",
    "PageContext",
    "get_reader",
    "page_context",
    "pager",
    "show_banner",
]

LIVE_STATUS_EVERY = 1.0  # seconds between two redraws of the banner's live part
REFRESH_SLIDER_KEY = "refresh_seconds"  # the sidebar's refresh slider (app.py): this session's refresh


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
    clock: DeskClock  # the desk's clock of ``snapshot``: every countdown and time on the page
    identity: Identity  # who is here, with which role (dashboard.identity)
    wall_now: float  # when this run read the desk (epoch seconds)

    @property
    def now(self) -> datetime:
        """The desk's time of the numbers on screen (the snapshot's), not the wall clock."""
        return self.clock.now


def page_context() -> PageContext | None:
    """Settings, reader, desk status, snapshot, clock and identity for this run; None (after
    saying why) when the settings are unusable or a login is required and nobody logged in."""
    try:
        settings = DashboardSettings.from_env()
        identity = current_identity(settings)
    except (ConfigError, OSError) as exc:
        st.error(f"Dashboard misconfigured: {exc}")
        return None
    if identity is None:  # a view run without the entry point's login (app.py draws the form)
        st.warning("Log in first: this dashboard requires a login.")
        return None
    reader = get_reader(str(settings.state_dir.resolve()), settings.stale_after)
    status = reader.status()
    snapshot = reader.snapshot()
    wall_now = time.time()
    clock = DeskClock.of(snapshot, wall_now=wall_now)
    return PageContext(settings, reader, status, snapshot, clock, identity, wall_now)


def show_banner(ctx: PageContext) -> None:
    """The desk's state (grey STALE once its heartbeat is old), how fresh the numbers are, and
    the desk's time of those numbers, at the top of every page."""
    _live_status(ctx)
    snap = ctx.snapshot
    if snap is None:
        if ctx.status.running or ctx.reader.snapshot_error:
            reason = ctx.reader.snapshot_error or "the desk has not published a snapshot yet"
            st.info(f"No snapshot to show: {_short(reason, ctx)}")
        return
    broker = broker_line(snap.extra)
    st.markdown(broker.markdown())
    if broker.warning:
        st.error(broker.warning, icon=":material/visibility_off:")
    clock = ctx.clock
    st.caption(
        f"desk time {clock.local(snap.taken_at)} · times in {clock.zone_name} · desk pid {snap.desk_pid}",
        help=f"the desk's clock of the numbers below: {clock.utc(snap.taken_at)}"
        + (f"; the desk runs {snap.clock_speed:g}x real time" if snap.clock_speed != 1 else ""),
    )


@st.fragment(run_every=LIVE_STATUS_EVERY)
def _live_status(ctx: PageContext) -> None:
    status = ctx.reader.status()  # read again on every redraw: a hung desk shows within a second
    banner = desk_banner(status, ctx.snapshot, ctx.clock, state_name=ctx.settings.state_name)
    fresh = freshness(
        ctx.snapshot,
        wall_now=time.time(),
        refresh=float(st.session_state.get(REFRESH_SLIDER_KEY, ctx.settings.refresh_seconds)),
        stale_after=ctx.settings.stale_after,
        desk_stale=not status.running,
    )
    st.markdown(banner.markdown())
    st.markdown(f":{fresh.tone.value}[{fresh.text()}]", help="wall time since the desk built these numbers")
    if banner.warning:
        st.warning(banner.warning, icon=":material/warning:")
    if banner.degraded:
        st.error(md(degraded_message(banner.degraded)), icon=":material/database:")


def _short(message: str, ctx: PageContext) -> str:
    """``message`` with the state directory's path replaced by its short name."""
    return message.replace(str(ctx.reader.state_dir), repr(ctx.settings.state_name))


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
