"""Pure chart builders: data in, ``plotly.graph_objects.Figure`` out, no ``st.*`` calls.

Long series are reduced to at most ``max_points`` by keeping each bucket's first, min,
max and last point, so the browser never receives 200,000 points and spikes stay visible.
Time axes read in the exchange time zone (``zone``), like every other time on the pages:
Plotly has no time zones, so the epoch milliseconds are shifted by the zone's offset at each
point (daylight saving included) and the axis is titled with the zone's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.money import Tone
from dashboard.rule_meaning import in_usage_chart, rule_tone
from trading.snapshot import LaneView, RuleView, Series, StrategyView

__all__ = [
    "AMBER",
    "GREEN",
    "GREY",
    "RED",
    "daily_pnl_chart",
    "downsample",
    "equity_chart",
    "failures_chart",
    "lane_depth_chart",
    "lane_history_chart",
    "rule_usage_chart",
    "strategy_pnl_chart",
    "tone_color",
    "usage_color",
]

GREEN = "#2e7d32"
AMBER = "#f9a825"
RED = "#c62828"
GREY = "#9e9e9e"
BLUE = "#1565c0"
_TONE_COLORS = {Tone.GOOD: GREEN, Tone.WARN: AMBER, Tone.BAD: RED, Tone.NEUTRAL: GREY, Tone.INFO: BLUE}

_LAYOUT = {"margin": {"l": 40, "r": 20, "t": 40, "b": 30}, "height": 320, "template": "plotly_white"}
_DATE_AXIS = {"type": "date"}  # x values are epoch milliseconds (of a wall clock, see _local_ms)


def downsample(
    times: np.ndarray, values: np.ndarray, max_points: int = 4000
) -> tuple[np.ndarray, np.ndarray]:
    """At most ~``max_points`` points: per bucket the first, lowest, highest and last, in time order."""
    n = int(times.shape[0])
    if n <= max_points:
        return times, values
    buckets = max(1, max_points // 4)
    size = -(-n // buckets)
    rows = -(-n // size)
    padded = np.empty(rows * size, dtype=values.dtype)
    padded[:n] = values
    padded[n:] = values[-1]
    grid = padded.reshape(rows, size)
    starts = np.arange(rows) * size
    index = np.concatenate(
        [
            starts,
            starts + np.argmin(grid, axis=1),
            starts + np.argmax(grid, axis=1),
            np.minimum(starts + size - 1, n - 1),
        ]
    )
    index = np.unique(np.minimum(index, n - 1))
    return times[index], values[index]


def _epoch_ms(times: np.ndarray) -> np.ndarray:
    """Epoch seconds to the epoch milliseconds a Plotly date axis reads (sent as compact binary)."""
    return np.asarray(times, dtype=np.float64) * 1000.0


def _local_ms(times: np.ndarray, zone: str) -> np.ndarray:
    """Epoch seconds to milliseconds of the wall clock in ``zone`` (what a date axis should show)."""
    ms = _epoch_ms(times)
    if zone == "UTC" or ms.shape[0] == 0:
        return ms
    stamps = pd.to_datetime(np.asarray(times, dtype=np.float64), unit="s", utc=True)
    offsets = stamps.tz_convert(zone).tz_localize(None) - stamps.tz_localize(None)
    return ms + offsets.total_seconds().to_numpy(dtype=np.float64) * 1000.0


def _time_axis(zone: str) -> dict[str, object]:
    return {**_DATE_AXIS, "title": {"text": f"time ({zone})"}}


def equity_chart(
    curve: Series, *, starting_balance: float | None = None, max_points: int = 4000, zone: str = "UTC"
) -> go.Figure:
    times, values = downsample(curve.times, curve.values, max_points)
    fig = go.Figure(
        go.Scatter(
            x=_local_ms(times, zone),
            y=values,
            mode="lines",
            name="equity",
            line={"color": "#1565c0", "width": 2},
        )
    )
    if starting_balance is not None:
        fig.add_hline(
            y=starting_balance, line={"dash": "dot", "color": GREY}, annotation_text="starting balance"
        )
    fig.update_layout(title="Equity", yaxis_title="equity", xaxis=_time_axis(zone), **_LAYOUT)
    return fig


def daily_pnl_chart(daily: Series) -> go.Figure:
    colors = [GREEN if v >= 0 else RED for v in daily.values]
    fig = go.Figure(go.Bar(x=_epoch_ms(daily.times), y=daily.values, marker_color=colors, name="daily P&L"))
    fig.update_layout(title="Daily P&L", yaxis_title="P&L", xaxis=_DATE_AXIS, **_LAYOUT)
    fig.update_xaxes(tickformat="%b %d", dtick=86_400_000)
    return fig


def usage_color(used: float, status: str = "ok", *, warn_at: float = 0.7, danger_at: float = 0.9) -> str:
    """Green, then amber from ``warn_at`` of the limit, then red from ``danger_at`` or when breached."""
    if status == "breached" or used >= danger_at:
        return RED
    if status == "warning" or used >= warn_at:
        return AMBER
    return GREEN


def tone_color(tone: Tone) -> str:
    return _TONE_COLORS[tone]


def rule_usage_chart(rules: Iterable[RuleView]) -> go.Figure:
    """One horizontal bar per limit rule (``rule_meaning.in_usage_chart``): the share of its limit
    in use (100 % is the limit), coloured by meaning: an enforced limit green, amber, red; a
    shadow-mode or profit rule grey."""
    rules = [r for r in rules if in_usage_chart(r)]
    labels = [f"{r.rule} ({r.mode})" if r.mode == "shadow" else r.rule for r in rules]
    used = [round(r.used * 100.0, 1) for r in rules]
    text = [_usage_text(r) for r in rules]
    fig = go.Figure(
        go.Bar(
            x=used,
            y=labels,
            orientation="h",
            text=text,
            textposition="auto",
            marker_color=[tone_color(rule_tone(r)) for r in rules],
            name="used %",
        )
    )
    fig.add_vline(x=100, line={"color": RED, "dash": "dash"})
    fig.update_layout(
        title="Limit used (%)",
        xaxis_title="% of limit",
        xaxis_range=[0, max([110.0, *used])],
        yaxis_autorange="reversed",
        **{**_LAYOUT, "height": max(200, 40 * len(rules) + 80)},
    )
    return fig


def _usage_text(rule: RuleView) -> str:
    """ "410 / 1,000 $", "29.27 / 60 s": rounded to the cent, no trailing zeros."""
    return f"{round(rule.value, 2):,.10g} / {round(rule.limit, 2):,.10g} {rule.unit}".strip()


def lane_depth_chart(lanes: Iterable[LaneView]) -> go.Figure:
    lanes = list(lanes)
    names = [lane.lane for lane in lanes]
    fig = go.Figure(
        [
            go.Bar(x=names, y=[lane.queued for lane in lanes], name="queued"),
            go.Bar(x=names, y=[lane.running for lane in lanes], name="running"),
            go.Bar(x=names, y=[lane.workers for lane in lanes], name="workers"),
        ]
    )
    fig.update_layout(title="Lanes now", barmode="group", **_LAYOUT)
    return fig


def lane_history_chart(
    history: Mapping[str, Mapping[str, Series]],
    metric: str,
    *,
    title: str | None = None,
    max_points: int = 2000,
    zone: str = "UTC",
) -> go.Figure:
    """One line per lane for ``metric`` (e.g. "queued", "completed_per_s") over time."""
    fig = go.Figure()
    for lane, metrics in sorted(history.items()):
        series = metrics.get(metric)
        if series is None or len(series) == 0:
            continue
        times, values = downsample(series.times, series.values, max_points)
        fig.add_trace(go.Scatter(x=_local_ms(times, zone), y=values, mode="lines", name=lane))
    fig.update_layout(title=title or metric, xaxis=_time_axis(zone), **_LAYOUT)
    return fig


def failures_chart(counts: Mapping[str, int]) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(counts), y=list(counts.values()), marker_color=RED, name="failures"))
    fig.update_layout(title="Failures by class", **_LAYOUT)
    return fig


def strategy_pnl_chart(strategies: Iterable[StrategyView]) -> go.Figure:
    strategies = list(strategies)
    pnl = [s.realized_pnl for s in strategies]
    fig = go.Figure(
        go.Bar(
            x=[s.name for s in strategies],
            y=pnl,
            name="realized P&L",
            marker_color=[GREEN if v >= 0 else RED for v in pnl],
        )
    )
    fig.update_layout(title="Realized P&L by strategy", **_LAYOUT)
    return fig
