"""pages/overview.py under AppTest against a real state directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ..conftest import DeskState, build_snapshot, chart_figure, run_page, write_heartbeat, write_snapshot


def test_overview_running_desk_shows_state_metrics_and_tables(desk_state_dir: DeskState) -> None:
    at = run_page("overview")

    assert not at.exception
    assert at.markdown[0].value.startswith("**Trading state:** :green[**ACTIVE**]")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cash"] == "98,765.43" and metrics["Daily P&L"] == "125.50"
    assert metrics["Equity"] == f"{desk_state_dir.snapshot.account.equity:,.2f}"
    positions = at.dataframe[0].value
    assert list(positions["symbol"]) == ["ESZ6", "NQZ6"]
    assert list(at.dataframe[1].value["order_id"]) == ["O-17", "O-18"]
    assert not at.warning


def test_overview_equity_and_daily_charts_contain_snapshot_data(desk_state_dir: DeskState) -> None:
    at = run_page("overview")

    charts = at.get("plotly_chart")
    equity, daily = chart_figure(charts[0]), chart_figure(charts[1])
    assert np.allclose(equity["data"][0]["y"], desk_state_dir.snapshot.equity_curve.values)
    assert np.allclose(daily["data"][0]["y"], desk_state_dir.snapshot.daily_pnl.values)


def test_overview_new_snapshot_shown_on_rerun(desk_state_dir: DeskState) -> None:
    at = run_page("overview")
    newer = build_snapshot(
        datetime.now(UTC), equity_shift=12_345.0, trading_state="HALTED", state_reason="daily loss limit hit"
    )

    write_snapshot(desk_state_dir.state_dir, newer)
    at.run()

    assert {m.label: m.value for m in at.metric}["Equity"] == f"{newer.account.equity:,.2f}"
    assert at.markdown[0].value.startswith("**Trading state:** :red[**HALTED**]: daily loss limit hit")


def test_overview_stale_heartbeat_says_desk_not_running(desk_state_dir: DeskState) -> None:
    write_heartbeat(
        desk_state_dir.state_dir, (datetime.now(UTC) - timedelta(minutes=5)).timestamp(), pid=4242
    )

    at = run_page("overview")

    assert not at.exception
    assert "desk not running: last seen at" in at.warning[0].value and "pid 4242" in at.warning[0].value
    assert at.get("plotly_chart")  # the last snapshot is still shown


def test_overview_missing_state_says_desk_not_running(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DESK_STATE_DIR", str(tmp_path))

    at = run_page("overview")

    assert not at.exception
    assert at.warning[0].value == f"desk not running: no state file in {tmp_path}"
    assert not at.get("plotly_chart") and not at.metric
