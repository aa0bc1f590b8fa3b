"""Sample strategies, registered by kind."""

from trading.signals.strategies.base import MarketView, Strategy
from trading.signals.strategies.ma_crossover import MovingAverageCrossover
from trading.signals.strategies.mean_reversion import MeanReversion

STRATEGY_KINDS: dict[str, type[Strategy]] = {
    MovingAverageCrossover.kind: MovingAverageCrossover,
    MeanReversion.kind: MeanReversion,
}

__all__ = ["STRATEGY_KINDS", "MarketView", "MeanReversion", "MovingAverageCrossover", "Strategy"]
