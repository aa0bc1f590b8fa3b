"""Mean reversion on the z-score of the close against its rolling mean (a Bollinger band).

Buy when the close is ``entry_z`` standard deviations below the mean, sell when above;
take profit back at the mean, stop out ``stop_z`` deviations beyond the last price (the
price the entry is checked against).
"""

from __future__ import annotations

from collections.abc import Sequence

from trading.model import Instrument, OrderSide
from trading.model.recommendation import Recommendation
from trading.signals.strategies.base import Strategy, bracket, mean, stdev


class MeanReversion(Strategy):
    kind = "mean_reversion"

    def __init__(
        self,
        name: str,
        symbols: Sequence[str],
        *,
        quantity: float = 1,
        lookback: int = 30,
        entry_z: float = 2.0,
        stop_z: float = 1.5,
    ) -> None:
        if lookback < 3:
            raise ValueError(f"{name}: lookback must be >= 3, got {lookback}")
        if entry_z <= 0 or stop_z <= 0:
            raise ValueError(f"{name}: entry_z and stop_z must be > 0, got {entry_z}, {stop_z}")
        super().__init__(name, symbols, quantity)
        self.lookback, self.entry_z, self.stop_z = lookback, entry_z, stop_z

    @property
    def warmup(self) -> int:
        return self.lookback

    def signal(
        self, symbol: str, closes: Sequence[float], instrument: Instrument, price: float
    ) -> Recommendation | None:
        window = list(closes[-self.lookback :])
        mu, sigma = mean(window), stdev(window)
        if sigma <= 0:
            return None
        z = (window[-1] - mu) / sigma
        if abs(z) < self.entry_z:
            return None
        side = OrderSide.BUY if z < 0 else OrderSide.SELL
        return bracket(
            self,
            symbol,
            side,
            price,
            instrument,
            take_profit_distance=abs(price - mu),
            stop_loss_distance=self.stop_z * sigma,
            reason=f"z-score {z:+.2f} beyond ±{self.entry_z:g}",
        )
