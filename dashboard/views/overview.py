"""Overview: state, the at-a-glance strip (equity, daily P&L, risk headroom), today's P&L adding up,
the account, equity curve, daily P&L, positions and open orders, and what the desk's last start
restored and repaired.

On a phone the strip wraps two tiles a row right under the state banner, so the first
screen holds state, equity, daily P&L and headroom.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, glance, restart_report, tables
from dashboard.money import Tone, coloured, md, money, pnl, pnl_tone
from dashboard.session import page_context, show_banner

ORDERS_SHOWN = 500

st.header("Overview")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    snap = ctx.snapshot
    if snap is not None:
        acct = snap.account
        st.html(glance.strip_html(glance.strip_tiles(snap, ctx.clock)))

        day = glance.daily_breakdown(acct)
        st.markdown(
            f"**Today:** realized {coloured(pnl(day.realized), pnl_tone(day.realized))} "
            f"- commissions {md(money(day.commissions))} "
            f"+ unrealized {coloured(pnl(day.unrealized), pnl_tone(day.unrealized))} "
            f"= **{coloured(pnl(day.total), pnl_tone(day.total))}**",
            help="realized P&L of today's closed trades before commissions, minus today's commissions, "
            "plus the open positions' unrealized P&L: today's P&L (the daily loss rule counts the "
            "realized part net of commissions)",
        )
        cols = st.columns(4)
        cols[0].metric("Cash", md(money(acct.cash)), help="starting balance + realized P&L - commissions")
        cols[1].metric(
            "Buying power",
            md(money(acct.buying_power)),
            help=md(
                "equity x the broker's buying-power multiple - the gross exposure of the open positions "
                f"(quantity x last price x multiplier: {money(acct.gross_exposure)} now), never below "
                f"{money(0)}"
                + (": it is 0 because the exposure uses all of it" if acct.buying_power <= 0 else "")
            ),
        )
        cols[2].metric(
            "Realized since start",
            coloured(pnl(acct.realized_pnl), pnl_tone(acct.realized_pnl)),
            help="gross of commissions, since the account was opened",
        )
        cols[3].metric(
            "Commissions since start",
            coloured(money(acct.commissions), Tone.NEUTRAL),
            help="paid since the account was opened",
        )

        left, right = st.columns([2, 1])
        left.plotly_chart(
            charts.equity_chart(
                snap.equity_curve, starting_balance=acct.starting_balance, zone=ctx.clock.zone_name
            ),
            key="equity_chart",
        )
        right.plotly_chart(charts.daily_pnl_chart(snap.daily_pnl), key="daily_pnl_chart")
        st.subheader(f"Positions ({len(snap.positions)})")
        st.dataframe(tables.positions_frame(snap.positions), hide_index=True, key="positions_table")
        st.subheader(f"Open orders ({len(snap.open_orders)})")
        st.dataframe(
            tables.orders_frame(snap.open_orders[:ORDERS_SHOWN], ctx.clock),
            hide_index=True,
            key="orders_table",
            column_config={"created": st.column_config.TextColumn("created", width="medium")},
        )
        if len(snap.open_orders) > ORDERS_SHOWN:
            st.caption(f"showing {ORDERS_SHOWN} of {len(snap.open_orders)} open orders")

        restart = snap.reconciliation
        if restart is not None:
            with st.expander(restart_report.restart_title(restart), expanded=bool(restart.discrepancies)):
                st.markdown(md(restart_report.restart_summary(restart, ctx.clock)))
                if restart.discrepancies:
                    st.dataframe(
                        restart_report.discrepancies_frame(restart), hide_index=True, key="restart_table"
                    )
                for line in (*restart.notes, restart.risk):
                    if line:
                        st.caption(md(line))
