"""Trades: strategy recommendations to orders, and what broker events do to them.

``TradeManager`` is the front: it holds a ``TransactionBook`` (active transactions, order
links, fill progress, counters) and a ``TradeEventHandler`` that applies the broker's
events to the same book.
"""

from trading.trades.manager import PassOutcome, RejectedRecommendation, TradeManager, TradeManagerStatistics

__all__ = ["PassOutcome", "RejectedRecommendation", "TradeManager", "TradeManagerStatistics"]
