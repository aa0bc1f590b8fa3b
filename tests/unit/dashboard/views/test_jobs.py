"""views/jobs.py under AppTest: filters, paging, detail view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trading.signals.jobs import JobRecord
from trading.state_dir import StateDir
from trading.storage import Database, JobRepository

from ..conftest import DeskState, frame, run_page


def test_jobs_default_risk_lane_newest_first_one_page(desk_state_dir: DeskState) -> None:
    at = run_page("jobs")

    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 50
    assert list(table["task_id"][:3]) == ["task-0119", "task-0117", "task-0115"]
    assert set(table["lane"]) == {"risk"}


def test_jobs_second_page_continues_the_list(desk_state_dir: DeskState) -> None:
    at = run_page("jobs")

    at.number_input(key="jobs_page").set_value(2).run()

    table = at.dataframe[0].value
    assert len(table) == 10 and table["task_id"].iloc[-1] == "task-0001"


def test_jobs_filter_by_status_and_name(desk_state_dir: DeskState) -> None:
    at = run_page("jobs")

    at.selectbox(key="jobs_lane").select("all")
    at.selectbox(key="jobs_status").select("FAILED")
    at.selectbox(key="jobs_name").select("risk_sweep").run()
    failed = at.dataframe[0].value
    at.selectbox(key="jobs_name").select("strategy:ma_fast").run()
    none = at.dataframe[0].value

    assert set(failed["status"]) == {"FAILED"} and set(failed["name"]) == {"risk_sweep"} and len(failed) == 12
    assert none.empty


def test_jobs_detail_shows_values_actions_and_errors(desk_state_dir: DeskState) -> None:
    at = run_page("jobs")

    at.selectbox(key="jobs_detail").select("task-0113").run()

    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert metrics["Portfolio value before"][0] == "100,113.00"
    assert metrics["Portfolio value after"] == ("100,063.00", "-50.00")
    assert at.code[0].value == "checked rule daily_loss #113\nflatten=ESZ6, qty=2"
    assert at.error[0].value == "ZeroDivisionError: division by zero"


def _add_jobs(state: DeskState, count: int) -> None:
    """Newer risk sweep jobs, as the desk records them between two refreshes."""
    now = datetime.now(UTC)
    with Database(StateDir(state.state_dir).database) as db:
        jobs = JobRepository(db)
        for i in range(count):
            jobs.record(
                JobRecord(
                    task_id=f"task-new-{i:03d}",
                    name="risk_sweep",
                    lane="risk",
                    status="COMPLETED",
                    created_at=now + timedelta(seconds=i),
                    attempts=1,
                )
            )


def test_jobs_no_detail_until_a_job_is_chosen(desk_state_dir: DeskState) -> None:
    at = run_page("jobs")

    assert at.selectbox(key="jobs_detail").value is None and not at.metric


def test_jobs_detail_selection_kept_when_newer_jobs_arrive(desk_state_dir: DeskState) -> None:
    at = run_page("jobs")
    at.selectbox(key="jobs_detail").select("task-0113").run()

    _add_jobs(desk_state_dir, 60)  # task-0113 is now off the first page
    at.run()

    assert at.selectbox(key="jobs_detail").value == "task-0113"
    assert {m.label: m.value for m in at.metric}["Portfolio value before"] == "100,113.00"
    assert frame(at, "task_id")["task_id"].iloc[0] == "task-new-059"


def test_jobs_risk_actions_list_event_driven_sweep_and_operator_actions(desk_state_dir: DeskState) -> None:
    at = run_page("jobs")

    actions = frame(at, "action", "via")
    assert at.subheader[-1].value == "Risk actions (3)"
    assert list(zip(actions["action"], actions["via"], strict=True)) == [
        ("pause", "operator"),
        ("close_position", "risk sweep task-0119"),
        ("lock", "event"),
    ]
    assert actions["time"].iloc[0].endswith((" CST", " CDT")) and actions["UTC"].iloc[0].endswith(" UTC")
