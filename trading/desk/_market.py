"""Bars for the strategies: the last close of every ``bar_seconds`` of simulated time."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from trading.model import MarketDataUpdated

__all__ = ["BarHistory"]


class BarHistory:
    """Per-symbol closes of completed bars, oldest first, ``maxlen`` deep."""

    def __init__(self, symbols: Iterable[str], *, bar_seconds: float, maxlen: int = 500) -> None:
        self.bar_seconds = bar_seconds
        self._closes: dict[str, deque[float]] = {s: deque(maxlen=maxlen) for s in symbols}
        self._bar_index: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self.bars_closed = 0

    def on_market_data(self, event: MarketDataUpdated) -> bool:
        """Record a tick; True when it closed a bar (the previous bar's last price is its close)."""
        index = int(event.ts.timestamp() // self.bar_seconds)
        previous = self._bar_index.get(event.symbol)
        closed = False
        if previous is not None and index != previous and event.symbol in self._last:
            self._closes[event.symbol].append(self._last[event.symbol])
            self.bars_closed += 1
            closed = True
        self._bar_index[event.symbol] = index
        self._last[event.symbol] = event.price
        return closed

    def closes(self) -> dict[str, tuple[float, ...]]:
        return {s: tuple(c) for s, c in self._closes.items()}

    def __repr__(self) -> str:
        depth = {s: len(c) for s, c in self._closes.items()}
        return f"BarHistory(bar_seconds={self.bar_seconds:g}, bars={depth})"
