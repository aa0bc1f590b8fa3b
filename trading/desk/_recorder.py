"""Writes orders and fills to the database off the event loop.

The bus handlers only copy the order and put it on the database's background writer (a
few microseconds); the writer thread turns them into rows and writes them in batches
(see ``trading.storage.writer``). Order rows and fills are never dropped while the
recorder is open; ``close()`` stops recording and writes everything still queued.
"""

from __future__ import annotations

import copy

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.model import OrderEvent, OrderFilled
from trading.storage import FillRepository, OrderRepository

__all__ = ["OrderRecorder"]


class OrderRecorder:
    def __init__(self, bus: EventBus, broker: Broker, orders: OrderRepository, fills: FillRepository) -> None:
        if fills.database is not orders.database:
            raise ValueError(f"orders and fills must share a database, got {orders!r} and {fills!r}")
        self._bus = bus
        self._broker = broker
        self._writer = orders.database.writer()
        self._orders = orders.channel(self._writer)
        self._fills = fills.channel(self._writer)
        self._closed = False
        bus.subscribe(OrderEvent, self._on_order_event)

    def start(self) -> None:
        self._writer.start()

    def _on_order_event(self, event: OrderEvent) -> None:
        order = self._broker.get_order(event.order_id)
        if order is not None:
            self._orders.put(copy.copy(order))
        if isinstance(event, OrderFilled):
            self._fills.put(event)

    @property
    def written(self) -> int:
        return self._orders.written + self._fills.written

    @property
    def errors(self) -> int:
        return self._orders.errors + self._fills.errors

    def close(self, timeout: float = 10.0) -> None:
        """Stop recording (later order events are not recorded) and write what is queued."""
        if not self._closed:
            self._closed = True
            self._bus.unsubscribe(OrderEvent, self._on_order_event)
        self._writer.flush(timeout)

    def __repr__(self) -> str:
        return (
            f"OrderRecorder(written={self.written}, errors={self.errors}, queued~{len(self._orders.queue)})"
        )
