"""Jobs: the executor's job records (filtered, paged, a detail view that keeps its selection
across refreshes) and every risk action the desk took, event-driven ones included.

A risk sweep job lists only the actions it took itself; most enforcement happens on a broker
event between sweeps. The risk actions table is the audit trail: every enforcement step and
operator action, newest first, each linked to the sweep job that took it, else marked as
caused by an event or an operator.
"""

from __future__ import annotations

import streamlit as st

from dashboard import tables
from dashboard.desk_clock import DeskClock
from dashboard.money import md
from dashboard.session import page_context, pager, show_banner
from trading.signals.jobs import JobRecord

STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "DROPPED", "ABANDONED"]
ALL = "all"
DETAIL_KEY = "jobs_detail"
SWEEP_JOBS_LINKED = 300  # the newest risk sweep jobs searched for the actions they took


def _label(job: JobRecord) -> str:
    return f"{job.name} · {job.status} · {job.task_id}"


def show_job(job: JobRecord, clock: DeskClock) -> None:
    info, values = st.columns(2)
    duration = "-" if job.duration_ms is None else f"{job.duration_ms:,.2f}"
    info.markdown(
        f"**{job.name}** on lane `{job.lane}` · status **{job.status}**  \n"
        f"created {clock.local(job.created_at)} · attempts {job.attempts} · duration {duration} ms  \n"
        f"result: {md(job.result_summary) or '-'}"
    )
    before, after, change = tables.job_value_change(job)
    if before is not None:
        values.metric("Portfolio value before", f"{before:,.2f}")
    if after is not None:
        values.metric("Portfolio value after", f"{after:,.2f}", None if change is None else f"{change:,.2f}")
    actions = tables.job_actions(job)
    st.markdown("**Actions**")
    if actions:
        st.code("\n".join(actions), language=None)
    else:
        st.caption("no actions taken by this job (see the risk actions below for event-driven ones)")
    for label in ("violations", "warnings"):
        found = job.details.get(label) or []
        if found:
            st.markdown(f"**{label.capitalize()}**")
            st.code("\n".join(map(str, found)), language=None)
    if job.error_class or job.error_message:
        st.error(f"{job.error_class}: {job.error_message}")
    with st.expander("all recorded details"):
        st.json(job.details)


st.header("Jobs")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    if not ctx.reader.has_database():
        st.info("No database yet: the desk has not recorded any job.")
    else:
        reader = ctx.reader
        lanes = sorted({lane.lane for lane in ctx.snapshot.lanes}) if ctx.snapshot else []
        lanes = lanes or ["risk", "strategies"]
        c1, c2, c3 = st.columns(3)
        status = c1.selectbox("status", [ALL, *STATUSES], key="jobs_status")
        lane = c2.selectbox(
            "lane", [ALL, *lanes], index=1 + lanes.index("risk") if "risk" in lanes else 0, key="jobs_lane"
        )
        names = reader.job_names(lane=None if lane == ALL else lane)
        name = c3.selectbox("strategy / job", [ALL, *names], key="jobs_name")
        filters = {
            "status": None if status == ALL else status,
            "lane": None if lane == ALL else lane,
            "name": None if name == ALL else name,
        }
        size = ctx.settings.page_size
        total = reader.job_count(**filters)
        offset = pager("jobs", total, size)
        jobs = reader.jobs(**filters, limit=size, offset=offset)
        st.dataframe(tables.jobs_frame(jobs, ctx.clock), hide_index=True, key="jobs_table")

        st.subheader("Job detail")
        labels = {job.task_id: _label(job) for job in jobs}
        chosen = st.session_state.get(DETAIL_KEY)
        if chosen is not None and chosen not in labels:  # newer jobs pushed it off this page: keep it
            kept = reader.job(chosen)
            labels = {chosen: _label(kept) if kept else f"{chosen} (no longer recorded)", **labels}
        task_id = st.selectbox(
            "job",
            list(labels),
            index=None,
            format_func=lambda t: labels.get(t, t),
            placeholder="choose a job to see what it did",
            key=DETAIL_KEY,
        )
        job = reader.job(task_id) if task_id is not None else None
        if job is not None:
            show_job(job, ctx.clock)

        actions_total = reader.risk_action_count()
        st.subheader(f"Risk actions ({actions_total})")
        st.caption(
            md(
                "every enforcement step and operator action, newest first; 'via' names the risk sweep "
                "job that took it, else the broker event (a fill, a price) or the operator that caused it"
            )
        )
        actions_offset = pager("risk_actions", actions_total, size)
        actions = reader.risk_actions(limit=size, offset=actions_offset)
        sweeps = reader.jobs(name="risk_sweep", lane="risk", limit=SWEEP_JOBS_LINKED) if actions else []
        st.dataframe(
            tables.risk_actions_frame(actions, ctx.clock, tables.sweep_links(actions, sweeps)),
            hide_index=True,
            key="risk_actions_table",
        )
