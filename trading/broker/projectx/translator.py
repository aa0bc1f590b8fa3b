"""``HubTranslator``: the user hub's events for one account as ``VenueUpdate``s, in order.

Each hub payload is ``{"action": 0|1, "data": {...}}`` (``data`` is the entity):

* ``GatewayUserOrder``: the order after the change, with its cumulative fill (``fillVolume``
  at ``filledPrice``, an average rounded by the platform): one update. A fill the message
  shows is held back (the update goes on with the fill handed on so far, still open) for the
  trade that follows it, so each execution is booked at its own price with its own id.
* ``GatewayUserTrade``: one execution of ``orderId``: an update of the order as last seen,
  with the execution. The ``VenueMirror`` books from the cumulative figure, so a message seen
  twice, or after a reconnect, books nothing twice; a fill whose trade never came (the hub
  dropped between the two) is booked by the reconciliation at the platform's average. A voided
  trade is skipped. A bracket exit the platform made carries its entry as parent
  (``BracketLegs``).
* ``GatewayUserPosition`` and ``GatewayUserAccount`` carry nothing the books take from the
  stream (positions and cash are reconciled from REST); they keep the hub alive.

Payloads of other accounts (the hub sends ``SubscribeAccounts`` for all of the user's) are
skipped. The contract of every order of the account becomes of interest (``ContractInterest``:
the market hub subscribes its quotes), a hand-placed order in a new contract included.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.legs import BracketLegs
from trading.broker.projectx.wire import Symbols, execution_from_json, order_from_json
from trading.broker.venue.facts import VenueOrder, VenueStatus, VenueUpdate

__all__ = ["HubTranslator"]

logger = logging.getLogger(__name__)

_KEEP = 5_000  # orders remembered (the last snapshot of each)
_EPS = 1e-9


class HubTranslator:
    def __init__(
        self,
        account_id: int,
        symbol_of: Symbols,
        legs: BracketLegs,
        interest: ContractInterest | None = None,
    ) -> None:
        self.account_id = account_id
        self._symbol_of = symbol_of
        self._legs = legs
        self._interest = interest
        self._orders: OrderedDict[str, VenueOrder] = OrderedDict()
        self._traded: dict[str, tuple[float, float]] = {}  # order id -> (quantity, value) of its trades seen
        self._handed: dict[str, tuple[float, float | None]] = {}  # order id -> (fill, average) handed on
        self.orders = self.trades = self.skipped = 0

    def order(self, payload: Any) -> VenueUpdate | None:
        data = _data(payload)
        if data is None or data.get("accountId") != self.account_id:
            self.skipped += 1
            return None
        if self._interest is not None:
            self._interest.add(str(data["contractId"]))
        order = order_from_json(data, self._symbol_of, self._legs.parent_of(data))
        self._orders[order.venue_id] = order
        self._orders.move_to_end(order.venue_id)
        while len(self._orders) > _KEEP:
            gone, _ = self._orders.popitem(last=False)
            self._traded.pop(gone, None)
            self._handed.pop(gone, None)
        self.orders += 1
        handed, average = self._handed.get(order.venue_id, (0.0, None))
        if order.filled_quantity > handed + _EPS:  # its trade follows: booked from there
            status = VenueStatus.PARTIALLY_FILLED if handed > _EPS else VenueStatus.WORKING
            order = replace(order, filled_quantity=handed, avg_fill_price=average, status=status)
        return VenueUpdate(event="order", order=order, ts=order.updated_at)

    def trade(self, payload: Any) -> VenueUpdate | None:
        data = _data(payload)
        if data is None or data.get("accountId") != self.account_id or data.get("voided"):
            self.skipped += 1
            return None
        order_id = str(data["orderId"])
        last = self._orders.get(order_id)
        if last is None:  # an order we never saw on this hub: the reconciliation books it
            self.skipped += 1
            logger.debug(
                "ProjectX trade %s of unknown order %s: left to the reconciliation", data.get("id"), order_id
            )
            return None
        execution = execution_from_json(data)
        quantity, value = self._traded.get(order_id, (0.0, 0.0))
        quantity += execution.quantity
        value += execution.quantity * execution.price
        self._traded[order_id] = (quantity, value)
        if quantity > last.filled_quantity + _EPS:  # the trade came before its order update
            status = VenueStatus.FILLED if quantity >= last.quantity - _EPS else VenueStatus.PARTIALLY_FILLED
            last = replace(last, filled_quantity=quantity, avg_fill_price=value / quantity, status=status)
            self._orders[order_id] = last
        self._handed[order_id] = (last.filled_quantity, last.avg_fill_price)
        self.trades += 1
        return VenueUpdate(event="trade", order=last, execution=execution, ts=execution.ts)

    def __repr__(self) -> str:
        return f"HubTranslator(account={self.account_id}, orders={self.orders}, trades={self.trades})"


def _data(payload: Any) -> dict[str, Any] | None:
    """The entity of one hub payload (wrapped in ``{"action", "data"}``, or bare)."""
    if isinstance(payload, dict):
        inner = payload.get("data")
        return inner if isinstance(inner, dict) else payload
    return None
