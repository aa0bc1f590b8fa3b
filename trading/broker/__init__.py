"""Brokers: the ``Broker`` protocol, the ``PaperBroker``, the market data feeds; real venues
behind the same protocol in ``trading.broker.venue`` (the adapter layer), one subpackage per
venue (``alpaca``), chosen by ``trading.broker.registry``."""

from trading.broker.base import AccountState, Broker, DeskBroker, PreTradeCheck
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
    "DeskBroker",
    "FeedStatistics",
    "PaperBroker",
    "PreTradeCheck",
    "SessionConfig",
    "SimulatedFeed",
    "SimulatedFeedConfig",
    "SimulatedSymbolConfig",
]
