"""Pure conversions from snapshot views and database rows to display tables (pandas).

Times are shown on the desk's clock (``DeskClock``): a ``time`` column in the exchange zone
with its name and a ``UTC`` column beside it. Numbers are rounded for reading; nested
values (command arguments, details) are readable text, never Python dict text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard.desk_clock import DeskClock, format_duration
from dashboard.rule_meaning import RULE_ERROR, rule_status_text
from trading.signals.jobs import JobRecord
from trading.snapshot import LaneView, LockoutView, OrderView, PositionView, RuleView, Snapshot, StrategyView

__all__ = [
    "RULE_ERROR",
    "activity_frame",
    "commands_frame",
    "countdown",
    "details_text",
    "job_actions",
    "job_value_change",
    "jobs_frame",
    "lanes_frame",
    "lockouts_frame",
    "orders_frame",
    "positions_frame",
    "risk_actions_frame",
    "rows_frame",
    "rule_errors",
    "rules_frame",
    "strategies_frame",
    "sweep_links",
    "violations_frame",
]


def _columns(view: type) -> list[str]:
    """A view's fields, in declaration order: the table shows every one of them."""
    return [f.name for f in fields(view)]


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(columns))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.10g}"
    if isinstance(value, Mapping):
        return details_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    return str(value)


def details_text(details: Mapping[str, Any] | None) -> str:
    """``{"symbol": "ES", "pause": False}`` -> ``symbol: ES · pause: no``."""
    if not details:
        return ""
    return " · ".join(f"{key}: {_value(value)}" for key, value in details.items())


def positions_frame(positions: Iterable[PositionView]) -> pd.DataFrame:
    cols = ["symbol", "quantity", "avg_price", "last_price", "unrealized_pnl", "realized_pnl", "strategies"]
    rows = [
        {
            **asdict(p),
            "unrealized_pnl": round(p.unrealized_pnl, 2),
            "realized_pnl": round(p.realized_pnl, 2),
            "strategies": ", ".join(p.strategies),
        }
        for p in positions
    ]
    return _frame(rows, cols)


def orders_frame(orders: Iterable[OrderView], clock: DeskClock) -> pd.DataFrame:
    """Open orders, the time they were created first (on the desk's clock)."""
    cols = ["created", *(c for c in _columns(OrderView) if c != "created_at")]
    rows = [{**asdict(o), "created": clock.local(o.created_at)} for o in orders]
    return _frame(rows, cols)


def rules_frame(rules: Iterable[RuleView]) -> pd.DataFrame:
    """One row per rule, rounded; ``status`` in words by meaning (``rule_meaning``); an error row
    (status "error") shows no numbers, only its message. ``kind`` only when a rule's differs
    from its name."""
    rules = list(rules)
    cols = ["rule", "mode", "action", "value", "limit", "unit", "used_pct", "distance", "status", "detail"]
    if any(r.kind != r.rule for r in rules):
        cols.insert(1, "kind")
    return _frame([_rule_row(r) for r in rules], cols)


def _round(value: float, unit: str) -> float:
    return round(value, 0 if unit == "s" else 2)


def _rule_row(rule: RuleView) -> dict[str, Any]:
    row = {
        "rule": rule.rule,
        "kind": rule.kind,
        "mode": rule.mode if rule.enabled else "disabled",
        "action": rule.action,
        "unit": rule.unit,
        "status": rule_status_text(rule),
        "detail": rule.detail,
    }
    if rule.status == RULE_ERROR:
        return {**row, "value": None, "limit": None, "used_pct": None, "distance": None}
    return {
        **row,
        "value": _round(rule.value, rule.unit),
        "limit": _round(rule.limit, rule.unit),
        "used_pct": round(rule.used * 100.0, 1),
        "distance": _round(rule.limit - rule.value, rule.unit),
    }


def rule_errors(rules: Iterable[RuleView]) -> list[str]:
    """Every rule whose measurement failed (status "error"), as "rule: message"."""
    return [f"{r.rule}: {r.detail}" for r in rules if r.status == RULE_ERROR]


def countdown(lockout: LockoutView, now: datetime, next_reset: datetime | None) -> str:
    """Time left on a lockout from ``now`` (the desk's): to its end, or to the daily reset."""
    end = lockout.until or next_reset
    if end is None:
        return "until the daily reset"
    left = (end - now).total_seconds()
    label = "ends in" if lockout.until else "daily reset in"
    return f"{label} {format_duration(left)}" if left > 0 else "ending now"


def lockouts_frame(
    lockouts: Iterable[LockoutView], clock: DeskClock, next_reset: datetime | None
) -> pd.DataFrame:
    """Lockouts, the one ending soonest first and those lasting to the reset last; every time
    and countdown on the desk's clock."""
    cols = ["scope", "remaining", "ends", "rule", "reason", "unlock", "started", "ends UTC"]
    far = datetime.max.replace(tzinfo=clock.now.tzinfo)
    ordered = sorted(lockouts, key=lambda lo: lo.until or next_reset or far)
    rows = [
        {
            "scope": lo.scope,
            "remaining": countdown(lo, clock.now, next_reset),
            "ends": clock.local(lo.until) if lo.until else f"daily reset {clock.local(next_reset)}".strip(),
            "rule": lo.rule,
            "reason": lo.reason,
            "unlock": lo.unlock,
            "started": clock.local(lo.started_at),
            "ends UTC": clock.utc(lo.until or next_reset),
        }
        for lo in ordered
    ]
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
        {
            **asdict(s),
            "realized_pnl": round(s.realized_pnl, 2),
            "mean_run_ms": round(s.mean_run_ms, 2),
            "win_rate": round(s.wins / s.trades * 100, 1) if s.trades else None,
        }
        for s in strategies
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


def jobs_frame(jobs: Iterable[JobRecord], clock: DeskClock | None = None) -> pd.DataFrame:
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
            "run_at": clock.local(j.started_at or j.created_at) if clock else j.started_at or j.created_at,
            "duration_ms": None if j.duration_ms is None else round(j.duration_ms, 2),
            "attempts": j.attempts,
            "actions": len(job_actions(j)),
            "result": j.result_summary,
            "error": f"{j.error_class}: {j.error_message}" if j.error_class else "",
        }
        for j in jobs
    ]
    return _frame(rows, cols)


def sweep_links(actions: Sequence[Mapping[str, Any]], jobs: Iterable[JobRecord]) -> dict[int, str]:
    """Audit id -> "risk sweep <task id>" for the actions a risk sweep job recorded taking
    (matched on time, action and rule); the others came from a broker event or an operator."""
    taken: dict[tuple[datetime, str, str], str] = {}
    for job in jobs:
        for entry in job.details.get("actions") or ():
            if isinstance(entry, Mapping) and isinstance(entry.get("ts"), str):
                try:
                    when = datetime.fromisoformat(entry["ts"])
                except ValueError:
                    continue  # not a sweep's action record
                taken[(when, str(entry.get("action")), str(entry.get("rule")))] = f"risk sweep {job.task_id}"
    links = {}
    for row in actions:
        found = taken.get((row["ts"], str(row["action"]), str(row["rule"])))
        if found is not None:
            links[int(row["id"])] = found
    return links


def risk_actions_frame(
    rows: Sequence[Mapping[str, Any]], clock: DeskClock, via: Mapping[int, str] | None = None
) -> pd.DataFrame:
    """The audit trail: every enforcement step and operator action, with what caused it (``via``:
    audit id -> the risk sweep job that took it; else a broker event, or an operator)."""
    cols = ["time", "action", "symbol", "rule", "result", "reason", "via", "UTC"]
    out = []
    for row in rows:
        rule = str(row["rule"])
        cause = (via or {}).get(int(row["id"]))
        if cause is None:
            cause = "operator" if rule.startswith("operator:") else "event"
        out.append(
            {
                "time": clock.local(row["ts"]),
                "action": row["action"],
                "symbol": row.get("symbol") or "",
                "rule": rule,
                "result": row["result"],
                "reason": row["reason"],
                "via": cause,
                "UTC": clock.utc(row["ts"]),
            }
        )
    return _frame(out, cols)


def violations_frame(rows: Sequence[Mapping[str, Any]], clock: DeskClock) -> pd.DataFrame:
    cols = ["time", "rule", "message", "action", "severity", "shadow", "symbol", "values", "UTC"]
    out = [
        {
            "time": clock.local(row["ts"]),
            "rule": row["rule"],
            "message": row["message"],
            "action": row["action"],
            "severity": row["severity"],
            "shadow": "yes" if row["shadow"] else "",
            "symbol": row.get("symbol") or "",
            "values": details_text(row.get("values")),
            "UTC": clock.utc(row["ts"]),
        }
        for row in rows
    ]
    return _frame(out, cols)


def activity_frame(rows: Sequence[Mapping[str, Any]], clock: DeskClock) -> pd.DataFrame:
    cols = ["time", "level", "source", "message", "details", "UTC"]
    out = [
        {
            "time": clock.local(row["ts"]),
            "level": row["level"],
            "source": row["source"],
            "message": row["message"],
            "details": details_text(row.get("details")),
            "UTC": clock.utc(row["ts"]),
        }
        for row in rows
    ]
    return _frame(out, cols)


def commands_frame(rows: Sequence[Mapping[str, Any]], clock: DeskClock) -> pd.DataFrame:
    """Commands, newest first; their wall-clock stamps moved onto the desk's clock."""
    cols = ["id", "requested", "kind", "arguments", "by", "status", "result", "finished", "requested UTC"]
    out = []
    for row in rows:
        requested = clock.from_wall(row["created_at"])
        out.append(
            {
                "id": row["id"],
                "requested": clock.local(requested),
                "kind": row["kind"],
                "arguments": details_text(row.get("args")),
                "by": row["requested_by"],
                "status": row["status"],
                "result": row["result"],
                "finished": clock.local(clock.from_wall(row.get("finished_at"))),
                "requested UTC": clock.utc(requested),
            }
        )
    return _frame(out, cols)


def rows_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Database rows (dicts) as a table; nested values as readable text (``details_text``)."""
    flat = [
        {k: (_value(v) if isinstance(v, dict | list | tuple) else v) for k, v in row.items()} for row in rows
    ]
    frame = pd.DataFrame(flat)
    if columns is not None:
        frame = frame.reindex(columns=[c for c in columns if c in frame.columns or not flat])
    return frame
