"""Cash, positions and marks of the fake account, and the account figures Alpaca derives from them.

Figures follow the field descriptions in alpaca-py's ``TradeAccount`` and ``Position`` models:
equity = cash + long_market_value + short_market_value (short values are negative);
buying power is cash for a cash account (multiplier 1) and, simplified, max(0, multiplier x
equity - gross position value) for a margin account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tests.fakes.alpaca.position import FakePosition

__all__ = ["AccountBook", "AccountFigures"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class AccountFigures:
    cash: Decimal
    equity: Decimal
    last_equity: Decimal
    long_market_value: Decimal
    short_market_value: Decimal
    buying_power: Decimal
    regt_buying_power: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    multiplier: Decimal
    realized_pl: Decimal


class AccountBook:
    """Owns cash, positions and the last price of each symbol. Not thread-safe: the engine locks."""

    def __init__(self, *, cash: Decimal, multiplier: Decimal, asset_id: Callable[[str], str]) -> None:
        self._cash = cash
        self._last_equity = cash
        self._multiplier = multiplier
        self._asset_id = asset_id
        self._positions: dict[str, FakePosition] = {}
        self._prices: dict[str, Decimal] = {}
        # Each symbol's previous close; until the first ``roll_day`` the first price seen stands in.
        self._lastday: dict[str, Decimal] = {}
        self._realized = ZERO

    def __repr__(self) -> str:
        return f"AccountBook(cash={self._cash}, positions={len(self._positions)})"

    def mark(self, symbol: str, price: Decimal) -> None:
        self._prices[symbol] = price
        self._lastday.setdefault(symbol, price)

    def price(self, symbol: str) -> Decimal | None:
        return self._prices.get(symbol)

    def position(self, symbol: str) -> FakePosition | None:
        return self._positions.get(symbol)

    def positions(self) -> list[FakePosition]:
        return sorted(self._positions.values(), key=lambda p: p.symbol)

    def position_qty(self, symbol: str) -> Decimal:
        position = self._positions.get(symbol)
        return position.qty if position else ZERO

    def current_price(self, position: FakePosition) -> Decimal:
        return self._prices.get(position.symbol, position.avg_entry_price)

    def lastday_price(self, symbol: str) -> Decimal | None:
        return self._lastday.get(symbol)

    def apply_fill(self, symbol: str, side: str, qty: Decimal, price: Decimal) -> Decimal:
        """Book one execution; returns the signed position quantity after it."""
        signed = qty if side == "buy" else -qty
        self._cash -= signed * price
        position = self._positions.get(symbol)
        if position is None:
            position = FakePosition(symbol, self._asset_id(symbol), ZERO, price)
            self._positions[symbol] = position
        self._realized += position.apply_fill(signed, price)
        if position.qty == 0:
            del self._positions[symbol]
            return ZERO
        return position.qty

    def roll_day(self) -> None:
        """Start a new session: today's equity and prices become yesterday's."""
        self._last_equity = self.figures().equity
        self._lastday.update(self._prices)
        for position in self._positions.values():
            position.lastday_price = self.current_price(position)

    def figures(self) -> AccountFigures:
        long_mv = ZERO
        short_mv = ZERO
        for position in self._positions.values():
            value = position.qty * self.current_price(position)
            if value > 0:
                long_mv += value
            else:
                short_mv += value
        equity = self._cash + long_mv + short_mv
        gross = long_mv - short_mv
        regt = max(ZERO, 2 * equity - gross)
        if self._multiplier == 1:
            buying_power = max(ZERO, self._cash)
        else:
            buying_power = max(ZERO, self._multiplier * equity - gross)
        return AccountFigures(
            cash=self._cash,
            equity=equity,
            last_equity=self._last_equity,
            long_market_value=long_mv,
            short_market_value=short_mv,
            buying_power=buying_power,
            regt_buying_power=regt,
            initial_margin=gross / 2,
            maintenance_margin=gross * Decimal("0.3"),
            multiplier=self._multiplier,
            realized_pl=self._realized,
        )
