"""Jobs: the executor's job records, newest first, filtered and paged, with a detail view."""

from __future__ import annotations

import streamlit as st

from dashboard import tables
from dashboard.session import page_context, pager, show_banner

STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "DROPPED", "ABANDONED"]
ALL = "all"

st.header("Jobs")
ctx = page_context()
if ctx is not None:
    show_banner(ctx)
    if not ctx.reader.has_database():
        st.info("No database yet: the desk has not recorded any job.")
    else:
        lanes = sorted({lane.lane for lane in ctx.snapshot.lanes}) if ctx.snapshot else []
        lanes = lanes or ["risk", "strategies"]
        c1, c2, c3 = st.columns(3)
        status = c1.selectbox("status", [ALL, *STATUSES], key="jobs_status")
        lane = c2.selectbox(
            "lane", [ALL, *lanes], index=1 + lanes.index("risk") if "risk" in lanes else 0, key="jobs_lane"
        )
        names = ctx.reader.job_names(lane=None if lane == ALL else lane)
        name = c3.selectbox("strategy / job", [ALL, *names], key="jobs_name")
        filters = {
            "status": None if status == ALL else status,
            "lane": None if lane == ALL else lane,
            "name": None if name == ALL else name,
        }
        size = ctx.settings.page_size
        total = ctx.reader.job_count(**filters)
        offset = pager("jobs", total, size)
        jobs = ctx.reader.jobs(**filters, limit=size, offset=offset)
        st.dataframe(tables.jobs_frame(jobs), hide_index=True, key="jobs_table")
        if jobs:
            st.subheader("Job detail")
            task_id = st.selectbox(
                "job",
                [j.task_id for j in jobs],
                format_func=lambda t: next(f"{j.name} · {j.status} · {t}" for j in jobs if j.task_id == t),
                key="jobs_detail",
            )
            job = ctx.reader.job(task_id)
            if job is not None:
                info, values = st.columns(2)
                info.markdown(
                    f"**{job.name}** on lane `{job.lane}` · status **{job.status}**  \n"
                    f"created {job.created_at:%Y-%m-%d %H:%M:%S} · attempts {job.attempts} · "
                    f"duration {'-' if job.duration_ms is None else f'{job.duration_ms:,.2f}'} ms  \n"
                    f"result: {job.result_summary or '-'}"
                )
                before, after, change = tables.job_value_change(job)
                if before is not None:
                    values.metric("Portfolio value before", f"{before:,.2f}")
                if after is not None:
                    values.metric(
                        "Portfolio value after", f"{after:,.2f}", None if change is None else f"{change:,.2f}"
                    )
                actions = tables.job_actions(job)
                st.markdown("**Actions**")
                if actions:
                    st.code("\n".join(actions), language=None)
                else:
                    st.caption("no actions taken")
                for label in ("violations", "warnings"):
                    found = job.details.get(label) or []
                    if found:
                        st.markdown(f"**{label.capitalize()}**")
                        st.code("\n".join(map(str, found)), language=None)
                if job.error_class or job.error_message:
                    st.error(f"{job.error_class}: {job.error_message}")
                with st.expander("all recorded details"):
                    st.json(job.details)
