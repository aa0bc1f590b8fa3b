"""Moving-average crossover: buy when the fast average crosses above the slow one, sell below.

TP and SL are multiples of the recent volatility of closes, so the bracket adapts to
the instrument (an index future and a currency pair move on very different scales);
they are set around the last price, the one the entry is checked against.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from trading.model import Instrument, OrderSide
from trading.model.recommendation import Recommendation
from trading.signals.strategies.base import Strategy, bracket, mean, stdev


class MovingAverageCrossover(Strategy):
    kind = "ma_crossover"

    def __init__(
        self,
        name: str,
        symbols: Sequence[str],
        *,
        quantity: float = 1,
        fast: int = 5,
        slow: int = 20,
        take_profit_sigma: float = 3.0,
        stop_loss_sigma: float = 2.0,
    ) -> None:
        if not 1 <= fast < slow:
            raise ValueError(f"{name}: need 1 <= fast < slow, got fast={fast} slow={slow}")
        super().__init__(name, symbols, quantity)
        self.fast, self.slow = fast, slow
        self.take_profit_sigma, self.stop_loss_sigma = take_profit_sigma, stop_loss_sigma

    @property
    def warmup(self) -> int:
        return self.slow + 1

    def signal(
        self, symbol: str, closes: Sequence[float], instrument: Instrument, price: float
    ) -> Recommendation | None:
        window = list(closes[-(self.slow + 1) :])
        fast_now, slow_now = mean(window[-self.fast :]), mean(window[1:])
        fast_before, slow_before = mean(window[-self.fast - 1 : -1]), mean(window[:-1])
        if fast_before <= slow_before and fast_now > slow_now:
            side = OrderSide.BUY
        elif fast_before >= slow_before and fast_now < slow_now:
            side = OrderSide.SELL
        else:
            return None
        moves = [b - a for a, b in pairwise(window)]
        sigma = stdev(moves) * self.slow**0.5
        return bracket(
            self,
            symbol,
            side,
            price,
            instrument,
            take_profit_distance=self.take_profit_sigma * sigma,
            stop_loss_distance=self.stop_loss_sigma * sigma,
            reason=f"SMA{self.fast} crossed {'above' if side is OrderSide.BUY else 'below'} SMA{self.slow}",
        )
