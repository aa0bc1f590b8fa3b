"""The shared machinery of every real venue adapter (the adapter layer).

A venue adapter provides a blocking ``VenueClient`` (REST) and an async ``VenueStream``
(its order stream), both speaking ``facts`` (plain records); ``VenueBroker`` does the rest
behind the ``Broker`` protocol: the account's ``Books`` (journal before events), the
``VenueMirror`` (each change once), ``OrderRouter`` (requests off the loop, retried,
idempotent), ``BrokerSync`` (reconciliation, marks), ``Guard`` (orders placed elsewhere),
``Flattener`` (until flat, audited) and ``Sight`` (blindness). See docs/BROKERS.md.
"""

from trading.broker.venue.broker import VenueBroker, VenueStatistics, stock_instrument
from trading.broker.venue.config import VenueSettings
from trading.broker.venue.errors import VenueError, VenueErrorKind
from trading.broker.venue.facts import (
    OrderRequest,
    VenueAccount,
    VenueExecution,
    VenueOrder,
    VenuePosition,
    VenueStatus,
    VenueUpdate,
    VenueView,
)
from trading.broker.venue.protocols import OrderHistory, VenueClient, VenueStream
from trading.broker.venue.report import Discrepancy, ReconciliationReport

__all__ = [
    "Discrepancy",
    "OrderHistory",
    "OrderRequest",
    "ReconciliationReport",
    "VenueAccount",
    "VenueBroker",
    "VenueClient",
    "VenueError",
    "VenueErrorKind",
    "VenueExecution",
    "VenueOrder",
    "VenuePosition",
    "VenueSettings",
    "VenueStatistics",
    "VenueStatus",
    "VenueStream",
    "VenueUpdate",
    "VenueView",
    "stock_instrument",
]
