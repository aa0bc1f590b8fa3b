"""What a strategy is: a small object that reads bars and returns recommendations.

A strategy never talks to the broker. The desk calls ``evaluate(market)`` in the
executor's ``strategies`` lane; the recommendations go through the TradeManager and
the risk pre-trade check like anyone else's.

Signals are read from bar closes, but exits are set around ``MarketView.last_prices``:
the broker's last price when the strategy runs, which is the price the TradeManager
checks a market entry's TP and SL against. Set from the bar close instead, a stop the
price has passed since the bar closed would get the recommendation rejected.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trading.model import Instrument, OrderSide
from trading.model.recommendation import Recommendation

__all__ = ["MarketView", "Strategy", "bracket"]


@dataclass(frozen=True, slots=True)
class MarketView:
    """What a strategy sees: recent bar closes per symbol (oldest first), its own open
    symbols, and the broker's last price per symbol (absent where it has none yet)."""

    closes: Mapping[str, Sequence[float]]
    instruments: Mapping[str, Instrument]
    open_symbols: frozenset[str] = frozenset()
    last_prices: Mapping[str, float] = field(default_factory=dict)


class Strategy(ABC):
    """A named strategy trading ``symbols`` with a fixed ``quantity`` per entry."""

    kind: str = ""

    def __init__(self, name: str, symbols: Sequence[str], quantity: float) -> None:
        self.name = name
        self.symbols = tuple(symbols)
        self.quantity = quantity
        self.evaluations = 0

    @property
    @abstractmethod
    def warmup(self) -> int:
        """Bars needed before the first signal."""

    @abstractmethod
    def signal(
        self, symbol: str, closes: Sequence[float], instrument: Instrument, price: float
    ) -> Recommendation | None:
        """A recommendation for ``symbol`` from its closes, or None. ``price`` is what the
        entry will be checked against (the last price, else the last close): set exits around it."""

    def evaluate(self, market: MarketView) -> list[Recommendation]:
        self.evaluations += 1
        out: list[Recommendation] = []
        for symbol in self.symbols:
            closes = market.closes.get(symbol, ())
            if len(closes) < self.warmup or symbol in market.open_symbols:
                continue
            price = market.last_prices.get(symbol, closes[-1])
            rec = self.signal(symbol, closes, market.instruments[symbol], price)
            if rec is not None:
                out.append(rec)
        return out

    def __repr__(self) -> str:
        kind = type(self).__name__
        return f"{kind}(name={self.name!r}, symbols={list(self.symbols)}, evaluations={self.evaluations})"


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def stdev(values: Sequence[float]) -> float:
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / max(len(values) - 1, 1))


def bracket(
    strategy: Strategy,
    symbol: str,
    side: OrderSide,
    price: float,
    instrument: Instrument,
    *,
    take_profit_distance: float,
    stop_loss_distance: float,
    reason: str,
) -> Recommendation:
    """A market entry with TP and SL on the right sides of ``price``, each on a tick.

    Both exits are rounded to the tick on the entry's side of them (the broker refuses a price
    between ticks): the stop never lies further than ``stop_loss_distance`` (the loss at the
    stop stays within what the strategy chose) and the take-profit never asks for more than
    ``take_profit_distance``. A distance of at least one tick keeps each strictly on its side."""
    tick = instrument.tick_size
    tp_dist = max(take_profit_distance, tick)
    sl_dist = max(stop_loss_distance, tick)
    if side is OrderSide.BUY:
        take_profit = instrument.tick_below(price + tp_dist)
        stop_loss = instrument.tick_above(price - sl_dist)
    else:
        take_profit = instrument.tick_above(price - tp_dist)
        stop_loss = instrument.tick_below(price + sl_dist)
    return Recommendation(
        symbol=symbol,
        side=side,
        quantity=strategy.quantity,
        take_profit=take_profit,
        stop_loss=stop_loss,
        strategy=strategy.name,
        reason=reason,
    )
