#!/usr/bin/env python3
"""What-if replay: recorded prices through the desk's strategies and one or two rule sets.

    python scripts/replay.py --prices FILE.csv --risk A.yaml [--compare B.yaml] [--plot out.html]
                             [--config config/desk.yaml] [--events N]

``--prices`` is a CSV in the replay feed's format (``timestamp,symbol,price`` ticks or
``timestamp,symbol,open,high,low,close,volume`` bars) or a desk's journal (``desk.db``: the prices
of its fills). The desk config gives the instruments, the account and the strategies; each rule
set runs on its own desk on a TestClock with the paper broker (``trading.desk.replay``). The
output shows, rule by rule and side by side, when each rule set warned, acted and denied, then
the final equity, and the first ``--events`` of those in time order. ``--plot`` writes a Plotly
page: equity, the drawdown and daily loss floors, and the actions marked.

Exit codes: 0 done, 2 bad input (flags, a file, a config, a CSV line), 1 a crash.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trading.desk.config import load_desk_config  # noqa: E402  (after the path set-up above)
from trading.desk.replay import ReplayEvent, ReplayResult, read_prices, replay  # noqa: E402
from trading.errors import TradingError  # noqa: E402
from trading.risk import load_risk_config  # noqa: E402

__all__ = ["main", "parse_args"]

DEFAULT_CONFIG = ROOT / "config" / "desk.yaml"
_KINDS = ("warned", "acted", "would have", "denied")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"replay.py: error: {message}\n")


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file")
    return path


def _html_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in (".html", ".htm"):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .html")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(path.parent)!r} does not exist")
    return path


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(description="Replay recorded prices through the desk with one or two rule sets.")
    parser.add_argument("--prices", type=_existing_file, required=True, help="prices CSV or a desk.db")
    parser.add_argument("--risk", type=_existing_file, required=True, help="rule set A (risk YAML)")
    parser.add_argument("--compare", type=_existing_file, default=None, help="rule set B (risk YAML)")
    parser.add_argument("--plot", type=_html_path, default=None, help="write a Plotly page here (.html)")
    parser.add_argument("--config", type=_existing_file, default=DEFAULT_CONFIG, help="desk config YAML")
    parser.add_argument("--events", type=_count, default=30, help="events listed in time order (default 30)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_desk_config(args.config)
        sets = [("A", args.risk, load_risk_config(args.risk))]
        if args.compare is not None:
            sets.append(("B", args.compare, load_risk_config(args.compare)))
        prices = read_prices(args.prices, account=config.account.name)
        if not prices:
            raise ValueError(f"{args.prices}: no prices")
    except (TradingError, ValueError) as exc:
        print(f"replay.py: error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = [replay(config, risk, prices, name=f"{label}: {path.name}") for label, path, risk in sets]
    elapsed = time.perf_counter() - started
    print(
        f"replay of {args.prices.name}: {len(prices):,} prices, {prices[0].ts:%Y-%m-%d %H:%M} -> "
        f"{prices[-1].ts:%Y-%m-%d %H:%M} UTC, {len(results)} rule set(s) in {elapsed:.1f} s"
    )
    print()
    print(side_by_side(results))
    if args.events:
        print()
        print(timeline(results, args.events))
    if args.plot is not None:
        write_plot(results, args.plot)
        print(f"\nplot written to {args.plot}")
    return 0


# --- the text ---------------------------------------------------------------------------------


def _cell(events: list[ReplayEvent], kind: str) -> str:
    if not events:
        return ""
    first = events[0]
    action = f", {first.action}" if kind in ("acted", "would have") and first.action else ""
    return f"{kind} {len(events)}x, first {first.ts:%Y-%m-%d %H:%M}{action}"


def side_by_side(results: list[ReplayResult]) -> str:
    """Rule by rule: when each rule set warned, acted and denied; then the final figures. Each
    column is as wide as its longest cell, so a long cell never runs into the next column."""
    rules = sorted({e.rule for r in results for e in r.events})
    body: list[tuple[str, list[str]]] = []
    for rule in rules:
        rows = [[_cell(r.of_rule(rule, kind), kind) for r in results] for kind in _KINDS]
        rows = [row for row in rows if any(row)]
        body.extend((rule if i == 0 else "", row) for i, row in enumerate(rows))
    finals = [
        ("final equity", [f"{r.final_equity:,.2f}" for r in results]),
        ("state at the end", [r.final_state for r in results]),
        ("fills", [f"{r.fills:,}" for r in results]),
        ("bars", [f"{r.bars:,}" for r in results]),
    ]
    names = [r.name for r in results]
    label_width = max(28, *(len(label) + 2 for label, _ in body + finals))
    widths = [
        max(len(names[i]), *(len(cells[i]) for _, cells in body + finals)) + 3 for i in range(len(results))
    ]

    def line(label: str, cells: list[str]) -> str:
        return f"{label:<{label_width}}" + "".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))

    head = line("rule", names)
    rule_line = "-" * len(head.rstrip())
    lines = [head, rule_line]
    lines.extend(line(label, cells) for label, cells in body)
    if not rules:
        lines.append("no rule warned, acted or denied an order")
    lines.append(rule_line)
    lines.extend(line(label, cells) for label, cells in finals)
    return "\n".join(text.rstrip() for text in lines)


def timeline(results: list[ReplayResult], limit: int) -> str:
    merged = sorted(
        ((e.ts, r.name.split(":")[0], e) for r in results for e in r.events), key=lambda item: item[0]
    )
    lines = ["in time order:"]
    for ts, label, event in merged[:limit]:
        action = f" {event.action}" if event.kind in ("acted", "would have") else ""
        lines.append(f"  {ts:%Y-%m-%d %H:%M}  {label}  {event.rule}: {event.kind}{action}: {event.message}")
    if len(merged) > limit:
        lines.append(f"  ... {len(merged) - limit} more")
    return "\n".join(lines)


# --- the plot ---------------------------------------------------------------------------------


def write_plot(results: list[ReplayResult], path: Path) -> None:
    import plotly.graph_objects as go

    fig = go.Figure()
    marks = {"acted": "x", "would have": "circle-open", "denied": "triangle-down", "warned": "diamond"}
    for result in results:
        points = result.equity
        times = [p.ts for p in points]
        fig.add_trace(go.Scatter(x=times, y=[p.equity for p in points], name=f"{result.name} equity"))
        floor = [p.drawdown_floor for p in points]
        if any(v is not None for v in floor):
            fig.add_trace(
                go.Scatter(x=times, y=floor, name=f"{result.name} drawdown floor", line={"dash": "dash"})
            )
        daily = [p.daily_floor for p in points]
        if any(v is not None for v in daily):
            fig.add_trace(
                go.Scatter(x=times, y=daily, name=f"{result.name} daily loss floor", line={"dash": "dot"})
            )
        for kind, symbol in marks.items():
            events = [e for e in result.events if e.kind == kind]
            if not events:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[e.ts for e in events],
                    y=[_equity_at(points, e.ts) for e in events],
                    mode="markers",
                    marker={"symbol": symbol, "size": 10},
                    name=f"{result.name} {kind}",
                    text=[f"{e.rule}: {e.action} {e.message}".strip() for e in events],
                    hoverinfo="text+x",
                )
            )
    fig.update_layout(title="What-if replay", xaxis_title="time (UTC)", yaxis_title="equity", hovermode="x")
    fig.write_html(path, include_plotlyjs=True, full_html=True)


def _equity_at(points: tuple, ts: object) -> float | None:
    """The equity sampled at or before ``ts`` (the first sample when ``ts`` is earlier)."""
    found = points[0].equity if points else None
    for point in points:
        if point.ts > ts:
            break
        found = point.equity
    return found


if __name__ == "__main__":
    sys.exit(main())
