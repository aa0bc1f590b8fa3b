"""Executor: per-lane queue depth, running tasks, throughput, failures and per-strategy figures."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, tables
from dashboard.session import page_context, show_banner

st.header("Executor")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    snap = ctx.snapshot
    if snap is not None:
        cols = st.columns(max(1, len(snap.lanes)))
        for col, lane in zip(cols, snap.lanes, strict=False):
            col.metric(
                f"{lane.lane}: queued / running",
                f"{lane.queued} / {lane.running}",
                help=f"{lane.workers} workers, queue limit {lane.max_queue}",
            )
        st.dataframe(tables.lanes_frame(snap), hide_index=True, key="lanes_table")
        left, right = st.columns(2)
        left.plotly_chart(charts.lane_depth_chart(snap.lanes), key="lane_depth_chart")
        metrics = sorted({m for lane in snap.lane_history.values() for m in lane})
        if metrics:
            default = metrics.index("queued") if "queued" in metrics else 0
            metric = right.selectbox("metric over time", metrics, index=default, key="lane_metric")
            right.plotly_chart(
                charts.lane_history_chart(snap.lane_history, metric, zone=ctx.clock.zone_name),
                key="lane_history_chart",
            )
        st.subheader("Strategies")
        st.dataframe(tables.strategies_frame(snap.strategies), hide_index=True, key="strategies_table")
        if snap.strategies:
            st.plotly_chart(charts.strategy_pnl_chart(snap.strategies), key="strategy_pnl_chart")
    if ctx.reader.has_database():
        failures = ctx.reader.failures_by_class()
        st.subheader(f"Failures by class ({sum(failures.values())} recent)")
        if failures:
            st.plotly_chart(charts.failures_chart(failures), key="failures_chart")
        else:
            st.caption("no failed tasks")
