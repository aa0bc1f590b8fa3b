"""Overview: trading state, account figures, equity curve, daily P&L, positions, open orders."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, tables
from dashboard.session import page_context, show_banner

st.header("Overview")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    snap = ctx.snapshot
    if snap is not None:
        acct = snap.account
        top, bottom = st.columns(3), st.columns(3)
        top[0].metric("Equity", f"{acct.equity:,.2f}", f"{acct.equity - acct.starting_balance:,.2f}")
        top[1].metric("Daily P&L", f"{acct.daily_pnl:,.2f}")
        top[2].metric("Cash", f"{acct.cash:,.2f}")
        bottom[0].metric("Realized P&L", f"{acct.realized_pnl:,.2f}")
        bottom[1].metric("Unrealized P&L", f"{acct.unrealized_pnl:,.2f}")
        bottom[2].metric("Buying power", f"{acct.buying_power:,.2f}")
        left, right = st.columns([2, 1])
        left.plotly_chart(
            charts.equity_chart(snap.equity_curve, starting_balance=acct.starting_balance), key="equity_chart"
        )
        right.plotly_chart(charts.daily_pnl_chart(snap.daily_pnl), key="daily_pnl_chart")
        st.subheader(f"Positions ({len(snap.positions)})")
        st.dataframe(tables.positions_frame(snap.positions), hide_index=True, key="positions_table")
        st.subheader(f"Open orders ({len(snap.open_orders)})")
        st.dataframe(tables.orders_frame(snap.open_orders[:500]), hide_index=True, key="orders_table")
        if len(snap.open_orders) > 500:
            st.caption(f"showing 500 of {len(snap.open_orders)} open orders")
