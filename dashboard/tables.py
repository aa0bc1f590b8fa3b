"""Pure conversions from snapshot views and database rows to display tables (pandas)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import pandas as pd

from trading.signals.jobs import JobRecord
from trading.snapshot import LaneView, LockoutView, OrderView, PositionView, RuleView, Snapshot, StrategyView

__all__ = [
    "RULE_ERROR",
    "countdown",
    "format_duration",
    "job_actions",
    "job_value_change",
    "jobs_frame",
    "lanes_frame",
    "lockouts_frame",
    "orders_frame",
    "positions_frame",
    "rows_frame",
    "rule_errors",
    "rules_frame",
    "strategies_frame",
]


def _columns(view: type) -> list[str]:
    """A view's fields, in declaration order: the table shows every one of them."""
    return [f.name for f in fields(view)]


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(columns))


def positions_frame(positions: Iterable[PositionView]) -> pd.DataFrame:
    cols = ["symbol", "quantity", "avg_price", "last_price", "unrealized_pnl", "realized_pnl", "strategies"]
    rows = [{**asdict(p), "strategies": ", ".join(p.strategies)} for p in positions]
    return _frame(rows, cols)


def orders_frame(orders: Iterable[OrderView]) -> pd.DataFrame:
    return _frame([asdict(o) for o in orders], _columns(OrderView))


RULE_ERROR = "error"  # a rule whose measurement raised: its row has no numbers, the message in detail


def rules_frame(rules: Iterable[RuleView]) -> pd.DataFrame:
    """One row per rule; an error row (status "error") shows no numbers, only its message."""
    cols = [
        "rule",
        "kind",
        "mode",
        "action",
        "value",
        "limit",
        "used_pct",
        "distance",
        "status",
        "unit",
        "detail",
    ]
    rows = [_rule_row(r) for r in rules]
    return _frame(rows, cols)


def _rule_row(rule: RuleView) -> dict[str, Any]:
    mode = rule.mode if rule.enabled else "disabled"
    if rule.status == RULE_ERROR:
        blank = {"value": None, "limit": None, "used_pct": None, "distance": None}
        return {**asdict(rule), **blank, "mode": mode}
    return {
        **asdict(rule),
        "used_pct": round(rule.used * 100.0, 1),
        "distance": rule.limit - rule.value,
        "mode": mode,
    }


def rule_errors(rules: Iterable[RuleView]) -> list[str]:
    """Every rule whose measurement failed (status "error"), as "rule: message"."""
    return [f"{r.rule}: {r.detail}" for r in rules if r.status == RULE_ERROR]


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def countdown(lockout: LockoutView, now: datetime, next_reset: datetime | None) -> str:
    """Time left on a lockout: to its end, or to the daily reset when it has none."""
    end = lockout.until or next_reset
    if end is None:
        return "until the daily reset"
    left = (end - now).total_seconds()
    label = "ends in" if lockout.until else "daily reset in"
    return f"{label} {format_duration(left)}" if left > 0 else "ending now"


def lockouts_frame(
    lockouts: Iterable[LockoutView], now: datetime, next_reset: datetime | None
) -> pd.DataFrame:
    cols = ["scope", "rule", "reason", "started_at", "until", "remaining"]
    rows = [{**asdict(lo), "remaining": countdown(lo, now, next_reset)} for lo in lockouts]
    return _frame(rows, cols)


def strategies_frame(strategies: Iterable[StrategyView]) -> pd.DataFrame:
    cols = [
        "name",
        "trades",
        "wins",
        "losses",
        "win_rate",
        "realized_pnl",
        "open_transactions",
        "runs",
        "failures",
        "mean_run_ms",
    ]
    rows = [
        {**asdict(s), "win_rate": round(s.wins / s.trades * 100, 1) if s.trades else None} for s in strategies
    ]
    return _frame(rows, cols)


def lanes_frame(snapshot: Snapshot) -> pd.DataFrame:
    return _frame([asdict(lane) for lane in snapshot.lanes], _columns(LaneView))


def job_actions(job: JobRecord) -> list[str]:
    """A risk job's actions, as lines (``details["actions"]``: strings or mappings)."""
    actions = job.details.get("actions") or []
    if isinstance(actions, str | Mapping):
        actions = [actions]
    lines = []
    for action in actions:
        if isinstance(action, Mapping):
            lines.append(", ".join(f"{k}={v}" for k, v in action.items()))
        else:
            lines.append(str(action))
    return lines


def job_value_change(job: JobRecord) -> tuple[float | None, float | None, float | None]:
    """Portfolio value (before, after, change) from ``details``; None where not recorded."""
    details = job.details
    before = details.get("value_before", details.get("portfolio_value_before"))
    after = details.get("value_after", details.get("portfolio_value_after"))
    before = float(before) if isinstance(before, int | float) else None
    after = float(after) if isinstance(after, int | float) else None
    change = after - before if before is not None and after is not None else None
    return before, after, change


def jobs_frame(jobs: Iterable[JobRecord]) -> pd.DataFrame:
    cols = [
        "task_id",
        "name",
        "lane",
        "status",
        "run_at",
        "duration_ms",
        "attempts",
        "actions",
        "result",
        "error",
    ]
    rows = [
        {
            "task_id": j.task_id,
            "name": j.name,
            "lane": j.lane,
            "status": j.status,
            "run_at": j.started_at or j.created_at,
            "duration_ms": j.duration_ms,
            "attempts": j.attempts,
            "actions": len(job_actions(j)),
            "result": j.result_summary,
            "error": f"{j.error_class}: {j.error_message}" if j.error_class else "",
        }
        for j in jobs
    ]
    return _frame(rows, cols)


def rows_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Database rows (dicts) as a table; nested values shown as JSON-ish text."""
    flat = [
        {k: (str(v) if isinstance(v, dict | list | tuple) else v) for k, v in row.items()} for row in rows
    ]
    frame = pd.DataFrame(flat)
    if columns is not None:
        frame = frame.reindex(columns=[c for c in columns if c in frame.columns or not flat])
    return frame
