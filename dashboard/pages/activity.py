"""Activity log: searchable and paged."""

from __future__ import annotations

import streamlit as st

from dashboard import tables
from dashboard.session import page_context, pager, show_banner

LEVELS = ["all", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

st.header("Activity log")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    if not ctx.reader.has_database():
        st.info("No database yet: the desk has not logged any activity.")
    else:
        c1, c2 = st.columns([3, 1])
        search = c1.text_input("search", key="activity_search").strip() or None
        level_choice = c2.selectbox("level", LEVELS, key="activity_level")
        level = None if level_choice == "all" else level_choice
        size = ctx.settings.page_size
        total = ctx.reader.activity_count(search=search, level=level)
        offset = pager("activity", total, size)
        rows = ctx.reader.activity(search=search, level=level, limit=size, offset=offset)
        st.dataframe(tables.rows_frame(rows), hide_index=True, key="activity_table")
