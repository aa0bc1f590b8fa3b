"""Activity log: filtered by time (on the desk's clock), source, level and text, and paged."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import tables
from dashboard.data import ActivityFilters
from dashboard.session import page_context, pager, show_banner

LEVELS = ["all", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SOURCES = ["broker", "commands", "desk", "risk", "trades"]  # what the desk writes (trading.desk)
RANGES = {
    "all": None,
    "last 5 min": timedelta(minutes=5),
    "last 15 min": timedelta(minutes=15),
    "last hour": timedelta(hours=1),
    "last 4 hours": timedelta(hours=4),
    "last 24 hours": timedelta(hours=24),
}

st.header("Activity log")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    if not ctx.reader.has_database():
        st.info("No database yet: the desk has not logged any activity.")
    else:
        c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
        search = c1.text_input("search", key="activity_search").strip() or None
        sources = c2.multiselect("sources", SOURCES, key="activity_sources", placeholder="every source")
        level_choice = c3.selectbox("level", LEVELS, key="activity_level")
        span = c4.selectbox(
            "time", list(RANGES), key="activity_range", help=f"up to the desk time {ctx.clock.local(ctx.now)}"
        )
        window = RANGES[span]
        filters = ActivityFilters(
            search=search,
            level=None if level_choice == "all" else level_choice,
            sources=sources or None,
            since=None if window is None else ctx.now - window,
        )
        size = ctx.settings.page_size
        total = ctx.reader.activity_count(**filters)
        offset = pager("activity", total, size)
        rows = ctx.reader.activity(**filters, limit=size, offset=offset)
        st.dataframe(tables.activity_frame(rows, ctx.clock), hide_index=True, key="activity_table")
