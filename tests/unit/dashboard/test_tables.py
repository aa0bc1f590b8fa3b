"""tables.py: snapshot views and job records as display tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboard import tables
from trading.signals.jobs import JobRecord
from trading.snapshot import LockoutView, RuleView

from .conftest import build_snapshot

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_positions_frame_one_row_per_position() -> None:
    snap = build_snapshot(NOW)

    frame = tables.positions_frame(snap.positions)

    assert list(frame["symbol"]) == ["ESZ6", "NQZ6"]
    assert list(frame["strategies"]) == ["ma_fast", "meanrev"]


def test_positions_frame_empty_keeps_columns() -> None:
    frame = tables.positions_frame(())

    assert frame.empty and "unrealized_pnl" in frame.columns


def test_rules_frame_distance_and_percent() -> None:
    snap = build_snapshot(NOW)

    frame = tables.rules_frame(snap.rules)

    row = frame.set_index("rule").loc["daily_loss"]
    assert row["used_pct"] == 41.0 and row["distance"] == 590.0


def test_countdown_to_end_or_to_daily_reset() -> None:
    timed = LockoutView(scope="a", rule="r", reason="x", started_at=NOW, until=NOW + timedelta(minutes=50))
    to_reset = LockoutView(scope="a", rule="r", reason="x", started_at=NOW, until=None)

    assert tables.countdown(timed, NOW, None) == "ends in 50m 00s"
    assert tables.countdown(to_reset, NOW, NOW + timedelta(hours=3, seconds=5)) == "daily reset in 3h 00m 05s"
    assert tables.countdown(to_reset, NOW, None) == "until the daily reset"
    assert tables.countdown(timed, NOW + timedelta(hours=1), None) == "ending now"


def test_job_value_change_and_actions_from_details() -> None:
    job = JobRecord(
        task_id="t1",
        name="risk_sweep",
        lane="risk",
        status="COMPLETED",
        created_at=NOW,
        details={
            "actions": ["halt", {"flatten": "ESZ6"}],
            "portfolio_value_before": 100.0,
            "portfolio_value_after": 90.5,
        },
    )

    assert tables.job_value_change(job) == (100.0, 90.5, -9.5)
    assert tables.job_actions(job) == ["halt", "flatten=ESZ6"]
    assert tables.jobs_frame([job]).loc[0, "actions"] == 2


def test_job_value_change_missing_values_are_none() -> None:
    job = JobRecord(
        task_id="t1",
        name="x",
        lane="risk",
        status="FAILED",
        created_at=NOW,
        error_class="KeyError",
        error_message="'ESZ6'",
    )

    assert tables.job_value_change(job) == (None, None, None)
    assert tables.jobs_frame([job]).loc[0, "error"] == "KeyError: 'ESZ6'"


def test_rows_frame_flattens_nested_values() -> None:
    frame = tables.rows_frame([{"id": 1, "args": {"symbol": "ESZ6"}}])

    assert frame.loc[0, "args"] == "symbol: ESZ6"  # readable, not Python dict text (issue 14)


def _error_row() -> RuleView:
    return RuleView(
        rule="max_contracts",
        kind="max_contracts",
        enabled=True,
        mode="enforce",
        action="reduce_to_limit",
        value=0.0,
        limit=0.0,
        used=0.0,
        status="error",
        detail="measure failed: ZeroDivisionError: division by zero",
    )


def test_rules_frame_error_row_shows_message_and_no_numbers() -> None:
    snap = build_snapshot(NOW)

    frame = tables.rules_frame((*snap.rules, _error_row()))

    row = frame.set_index("rule").loc["max_contracts"]
    assert row["status"] == "error"
    assert row["detail"] == "measure failed: ZeroDivisionError: division by zero"
    assert all(pd.isna(row[c]) for c in ("value", "limit", "used_pct", "distance"))
    assert frame.set_index("rule").loc["daily_loss", "used_pct"] == 41.0


def test_rule_errors_lists_failed_rules_with_message() -> None:
    snap = build_snapshot(NOW)

    assert tables.rule_errors(snap.rules) == []
    assert tables.rule_errors((*snap.rules, _error_row())) == [
        "max_contracts: measure failed: ZeroDivisionError: division by zero"
    ]
