"""pages/jobs.py under AppTest: filters, paging, detail view."""

from __future__ import annotations

from ..conftest import DeskState, run_page


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
