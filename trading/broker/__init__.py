"""Brokers: the ``Broker`` protocol, the ``PaperBroker`` and the market data feeds."""

from trading.broker.base import AccountState, Broker, PreTradeCheck
from trading.broker.feeds import (
    CsvReplayConfig,
    CsvReplayFeed,
    FeedStatistics,
    SessionConfig,
    SimulatedFeed,
    SimulatedFeedConfig,
    SimulatedSymbolConfig,
)
from trading.broker.paper import BrokerStatistics, PaperBroker

__all__ = [
    "AccountState",
    "Broker",
    "BrokerStatistics",
    "CsvReplayConfig",
    "CsvReplayFeed",
    "FeedStatistics",
    "PaperBroker",
    "PreTradeCheck",
    "SessionConfig",
    "SimulatedFeed",
    "SimulatedFeedConfig",
    "SimulatedSymbolConfig",
]
