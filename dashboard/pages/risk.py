"""Risk: every rule against its limit (a rule that failed to measure as an error row), lockouts with
countdowns, violations, shadow-mode hits."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, tables
from dashboard.session import page_context, pager, show_banner

st.header("Risk")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    snap = ctx.snapshot
    if snap is not None:
        if snap.config_status:  # a risk file edit refused (invalid, or held by the tamper lock)
            st.warning(snap.config_status, icon="🔒")
        measured = [r for r in snap.rules if r.status != tables.RULE_ERROR]
        if measured:
            st.plotly_chart(charts.rule_usage_chart(measured), key="rule_usage_chart")
        st.subheader(f"Rules ({len(snap.rules)})")
        for failure in tables.rule_errors(snap.rules):
            st.error(f"rule error: {failure}")
        st.dataframe(tables.rules_frame(snap.rules), hide_index=True, key="rules_table")
        st.subheader(f"Lockouts ({len(snap.lockouts)})")
        if snap.lockouts:
            st.dataframe(
                tables.lockouts_frame(snap.lockouts, ctx.now, snap.next_reset),
                hide_index=True,
                key="lockouts_table",
            )
        else:
            st.caption("no lockouts")
        if snap.next_reset is not None:
            left = (snap.next_reset - ctx.now).total_seconds()
            st.caption(
                f"daily reset at {snap.next_reset:%Y-%m-%d %H:%M} UTC (in {tables.format_duration(left)})"
            )
        shadow = snap.shadow_hits
        st.subheader(f"Shadow-mode hits ({len(shadow)} recent)")
        if shadow:
            st.dataframe(
                tables.rows_frame(
                    [
                        {
                            "ts": v.ts,
                            "rule": v.rule,
                            "message": v.message,
                            "would": v.action,
                            "symbol": v.symbol,
                        }
                        for v in shadow
                    ]
                ),
                hide_index=True,
                key="shadow_table",
            )
        else:
            st.caption("no shadow-mode hits")
    st.subheader("Violations log")
    if ctx.reader.has_database():
        size = ctx.settings.page_size
        total = ctx.reader.violation_count()
        offset = pager("violations", total, size)
        rows = ctx.reader.violations(limit=size, offset=offset)
        st.dataframe(tables.rows_frame(rows), hide_index=True, key="violations_table")
    else:
        st.caption("no database yet")
