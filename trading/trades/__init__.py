"""Trades: strategy recommendations to orders, and what broker events do to them.

``TradeManager`` is the front: it holds a ``TransactionBook`` (active transactions, order
links, fill progress, counters), a ``TradeEventHandler`` that applies the broker's events
to the same book, and a ``TransactionReconciler`` that restores the book after a restart
(``TradeManager.restore(history) -> TradeReconciliation``).
"""

from trading.trades._reconcile import OrderHistory, TradeReconciliation, TransactionRepair
from trading.trades.manager import PassOutcome, RejectedRecommendation, TradeManager, TradeManagerStatistics

__all__ = [
    "OrderHistory",
    "PassOutcome",
    "RejectedRecommendation",
    "TradeManager",
    "TradeManagerStatistics",
    "TradeReconciliation",
    "TransactionRepair",
]
