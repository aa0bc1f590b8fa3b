"""charts.py: pure figures that carry the snapshot's data."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard import charts
from trading.snapshot import Series

from .conftest import build_snapshot

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_downsample_short_series_returned_unchanged() -> None:
    t = np.arange(10, dtype=np.float64)

    times, values = charts.downsample(t, t * 2, max_points=100)

    assert times is t and np.array_equal(values, t * 2)


def test_downsample_long_series_keeps_extremes_and_ends() -> None:
    n = 200_000
    t = np.arange(n, dtype=np.float64)
    v = np.sin(t / 1000.0)
    v[123_457] = 50.0  # a spike the chart must not lose
    v[77_777] = -50.0

    times, values = charts.downsample(t, v, max_points=4000)

    assert len(times) <= 4000
    assert values.max() == 50.0 and values.min() == -50.0
    assert times[0] == 0 and times[-1] == n - 1
    assert np.all(np.diff(times) > 0)


def test_equity_chart_contains_snapshot_curve() -> None:
    snap = build_snapshot(NOW)

    fig = charts.equity_chart(snap.equity_curve, starting_balance=100_000.0)

    assert isinstance(fig, go.Figure)
    assert np.allclose(np.asarray(fig.data[0].y), snap.equity_curve.values)
    assert fig.layout.title.text == "Equity"


def test_daily_pnl_chart_colors_losses_red_and_gains_green() -> None:
    daily = Series(np.array([0.0, 86400.0]), np.array([100.0, -50.0]))

    fig = charts.daily_pnl_chart(daily)

    assert list(fig.data[0].marker.color) == [charts.GREEN, charts.RED]
    assert list(fig.data[0].y) == [100.0, -50.0]


@pytest.mark.parametrize(
    ("used", "status", "expected"),
    [
        (0.1, "ok", charts.GREEN),
        (0.75, "ok", charts.AMBER),
        (0.5, "warning", charts.AMBER),
        (0.95, "ok", charts.RED),
        (0.2, "breached", charts.RED),
    ],
)
def test_usage_color_thresholds_turn_amber_then_red(used: float, status: str, expected: str) -> None:
    assert charts.usage_color(used, status) == expected


def test_rule_usage_chart_one_bar_per_enabled_rule_in_percent() -> None:
    snap = build_snapshot(NOW)

    fig = charts.rule_usage_chart(snap.rules)

    bar = fig.data[0]
    assert list(bar.x) == [41.0, 80.0, 105.0, 60.0]
    assert list(bar.y) == ["daily_loss", "max_position", "trades_per_day", "drawdown_shadow (shadow)"]
    # a shadow-mode rule only records what it would do: neutral grey, whatever its use (issue 14)
    assert list(bar.marker.color) == [charts.GREEN, charts.AMBER, charts.RED, charts.GREY]


def test_lane_history_chart_one_line_per_lane() -> None:
    snap = build_snapshot(NOW)

    fig = charts.lane_history_chart(snap.lane_history, "queued")

    assert sorted(trace.name for trace in fig.data) == ["risk", "strategies"]
    risk = next(trace for trace in fig.data if trace.name == "risk")
    assert np.allclose(np.asarray(risk.y), snap.lane_history["risk"]["queued"].values)


def test_lane_depth_failures_and_strategy_charts_carry_values() -> None:
    snap = build_snapshot(NOW)

    depth = charts.lane_depth_chart(snap.lanes)
    failures = charts.failures_chart({"ZeroDivisionError": 12, "TimeoutError": 1})
    strategies = charts.strategy_pnl_chart(snap.strategies)

    assert list(depth.data[0].y) == [3, 0] and list(depth.data[1].y) == [2, 1]
    assert list(failures.data[0].x) == ["ZeroDivisionError", "TimeoutError"]
    assert list(strategies.data[0].y) == [880.0, -210.0]


def test_equity_chart_time_axis_in_the_exchange_zone_across_dst() -> None:
    # 2026-03-08 07:00 UTC is 01:00 CST; 09:00 UTC is 04:00 CDT (clocks went forward at 02:00)
    times = np.array([datetime(2026, 3, 8, h, tzinfo=UTC).timestamp() for h in (7, 9)])
    curve = Series(times, np.array([1.0, 2.0]))

    fig = charts.equity_chart(curve, zone="America/Chicago")

    shown = [datetime.fromtimestamp(x / 1000.0, UTC).strftime("%H:%M") for x in fig.data[0].x]
    assert shown == ["01:00", "04:00"]
    assert fig.layout.xaxis.title.text == "time (America/Chicago)"
