"""views/executor.py under AppTest."""

from __future__ import annotations

import numpy as np

from ..conftest import DeskState, chart_figure, run_page


def test_executor_lanes_metrics_and_table(desk_state_dir: DeskState) -> None:
    at = run_page("executor")

    assert not at.exception
    assert [(m.label, m.value) for m in at.metric] == [
        ("strategies: queued / running", "3 / 2"),
        ("risk: queued / running", "0 / 1"),
    ]
    assert list(at.dataframe[0].value["completed"]) == [690, 118]


def test_executor_history_chart_follows_selected_metric(desk_state_dir: DeskState) -> None:
    at = run_page("executor")
    history = desk_state_dir.snapshot.lane_history

    at.selectbox(key="lane_metric").select("completed_per_s").run()

    fig = chart_figure(at.get("plotly_chart")[1])
    risk = next(trace for trace in fig["data"] if trace["name"] == "risk")
    assert np.allclose(risk["y"], history["risk"]["completed_per_s"].values)


def test_executor_failures_by_class_from_jobs(desk_state_dir: DeskState) -> None:
    at = run_page("executor")

    fig = chart_figure(at.get("plotly_chart")[-1])
    assert fig["data"][0]["x"] == ["ZeroDivisionError"] and fig["data"][0]["y"] == [12]
    assert list(at.dataframe[1].value["name"]) == ["ma_fast", "meanrev"]
