"""Risk: lockouts and cooldowns first (countdowns on the desk's clock), then every rule against its
limit coloured by meaning (a rule that failed to measure as an error row), shadow-mode hits and
the violations log."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, tables
from dashboard.money import md, money
from dashboard.rule_meaning import in_usage_chart
from dashboard.session import page_context, pager, show_banner

st.header("Risk")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    snap = ctx.snapshot
    clock = ctx.clock
    if snap is not None:
        if snap.config_status:  # a risk file edit refused (invalid, or held by the tamper lock)
            st.warning(md(snap.config_status), icon="🔒")
        st.subheader(f"Lockouts and cooldowns ({len(snap.lockouts)})")
        if snap.lockouts:
            st.dataframe(
                tables.lockouts_frame(snap.lockouts, clock, snap.next_reset),
                hide_index=True,
                key="lockouts_table",
            )
        else:
            st.caption("no lockout, no cooldown: new entries allowed")
        if snap.next_reset is not None:
            st.caption(
                f"daily reset at {clock.local(snap.next_reset, seconds=False)} "
                f"(in {clock.countdown(snap.next_reset)})",
                help=clock.utc(snap.next_reset),
            )

        room = snap.headroom
        if room is not None and room.max_compliant_profit_today is not None:
            st.metric(
                "Largest profit still compliant today (consistency)",
                money(room.max_compliant_profit_today),
                help="The most realized profit today that keeps the best day within the consistency "
                "rule's share of the total profit: p x (profit before today) / (1 - p). $0.00 while "
                "there is no profit before today (the rule leaves such a day alone).",
            )

        st.subheader(f"Rules ({len(snap.rules)})")
        for failure in tables.rule_errors(snap.rules):
            st.error(f"rule error: {failure}")
        if any(in_usage_chart(r) for r in snap.rules):
            st.plotly_chart(charts.rule_usage_chart(snap.rules), key="rule_usage_chart")
        st.dataframe(tables.rules_frame(snap.rules), hide_index=True, key="rules_table")
        st.caption(
            "Enforced limits: green, amber near the limit, red at it. Shadow-mode rules only record "
            "what they would have done and profit targets mark a good day: both stay grey."
        )

        shadow = snap.shadow_hits
        st.subheader(f"Shadow-mode hits ({len(shadow)} recent)")
        if shadow:
            st.dataframe(
                tables.rows_frame(
                    [
                        {
                            "time": clock.local(v.ts),
                            "rule": v.rule,
                            "message": v.message,
                            "would": v.action,
                            "symbol": v.symbol or "",
                            "UTC": clock.utc(v.ts),
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
        st.dataframe(tables.violations_frame(rows, clock), hide_index=True, key="violations_table")
    else:
        st.caption("no database yet")
