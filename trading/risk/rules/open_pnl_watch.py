"""OpenPnLWatch: one latch per position on its open P&L, shared by unrealized_loss and unrealized_profit.

Each rule *holds* a watch (composition): the watch owns the latches and the threshold test,
the rule owns its config, its message and its remedy.
"""

from __future__ import annotations

from trading.risk.pnl import PnLTracker

__all__ = ["OpenPnLWatch"]


class OpenPnLWatch:
    """Fires once per position when ``sign * unrealized`` reaches ``threshold``.

    ``sign`` -1 watches losses (an open loss of 700 is 700 against a threshold of 700), +1
    profits. A latch is re-armed when its position closes (or is found flat). ``symbols``
    non-empty: only those symbols are watched.
    """

    def __init__(self, pnl: PnLTracker, *, threshold: float, sign: float, symbols: frozenset[str]) -> None:
        self.threshold = threshold
        self.sign = sign
        self.symbols = symbols
        self._pnl = pnl
        self._table = pnl.symbols
        self._fired: set[str] = set()

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
            self._fired.discard(symbol)
            return None
        if self.sign * entry.unrealized < self.threshold:
            return None
        self._fired.add(symbol)
        return entry.unrealized

    def closed(self, symbol: str) -> None:
        self._fired.discard(symbol)

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

    def __repr__(self) -> str:
        return f"OpenPnLWatch(sign={self.sign:+g}, threshold={self.threshold:g}, fired={sorted(self._fired)})"
