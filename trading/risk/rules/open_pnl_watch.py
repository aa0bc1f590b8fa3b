"""OpenPnLWatch: one latch per position on its open P&L, shared by unrealized_loss and unrealized_profit.

Each rule *holds* a watch (composition): the watch owns the latches and the threshold test,
the rule owns its config, its message and its remedy.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from trading.risk.amounts import at_least, band
from trading.risk.pnl import PnLTracker, SymbolPnL

__all__ = ["OpenPnLWatch"]


class OpenPnLWatch:
    """Fires once per position when ``sign * unrealized`` reaches ``threshold`` (exact money).

    ``sign`` -1 watches losses (an open loss of 700 is 700 against a threshold of 700), +1
    profits. The float mark decides away from the threshold; within the guard band the exact
    open P&L decides (``trading.risk.amounts``), so a loss of exactly the limit fires. A latch
    is re-armed when its position closes (or is found flat). ``symbols`` non-empty: only those
    symbols are watched.
    """

    def __init__(self, pnl: PnLTracker, *, threshold: Decimal, sign: int, symbols: frozenset[str]) -> None:
        self.threshold = threshold
        self.sign = sign
        self.symbols = symbols
        self._pnl = pnl
        self._table = pnl.symbols
        self._threshold_f = float(threshold)
        self.width = band(threshold)
        # A tick can reach the threshold only when sign * unrealized >= this (the band's low side).
        self.trigger = self._threshold_f - self.width
        self._fired: dict[str, float] = {}  # symbol -> the position's average price when it fired

    @property
    def latched(self) -> bool:
        """True while some position has fired and not closed yet."""
        return bool(self._fired)

    def evaluate(self, symbol: str) -> float | None:
        """The position's unrealized P&L when it has just reached the threshold (now latched), else None."""
        if symbol in self._fired or (self.symbols and symbol not in self.symbols):
            return None
        entry = self._table.get(symbol)
        if entry is None or entry.is_flat:
            self._fired.pop(symbol, None)
            return None
        if not self._reached(entry):
            return None
        self._fired[symbol] = entry.avg_price
        return entry.unrealized

    def _reached(self, entry: SymbolPnL) -> bool:
        sign = self.sign
        return at_least(
            sign * entry.unrealized,
            self._threshold_f,
            self.width,
            lambda: sign * entry.exact_unrealized(),
            self.threshold,
        )

    def closed(self, symbol: str) -> None:
        self._fired.pop(symbol, None)

    def held(self) -> list[str]:
        """Every symbol the P&L tracker knows (flat ones re-arm on ``evaluate``)."""
        return list(self._table)

    def worst(self) -> tuple[float, str]:
        """(largest ``sign * unrealized`` among watched open positions, its symbol); (0.0, "") if none."""
        worst, where = 0.0, ""
        for entry in self._pnl.open_positions():
            if self.symbols and entry.symbol not in self.symbols:
                continue
            amount = self.sign * entry.unrealized
            if amount > worst:
                worst, where = amount, entry.symbol
        return worst, where

    def export_state(self) -> dict[str, Any]:
        return {"fired": dict(self._fired)}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Latches of positions that are still the ones that fired (same side, same average
        price); a position closed and opened again since is watched afresh."""
        for symbol, avg_price in dict(state.get("fired", {})).items():
            entry = self._table.get(symbol)
            if entry is not None and not entry.is_flat and entry.avg_price == float(avg_price):
                self._fired[symbol] = float(avg_price)

    def __repr__(self) -> str:
        return f"OpenPnLWatch(sign={self.sign:+d}, threshold={self.threshold}, fired={sorted(self._fired)})"
