"""Writes orders and fills to SQLite on a background thread, off the event loop.

The bus handlers only copy the order and put it on a queue (a few microseconds); one
writer thread does the database work. ``close()`` writes everything still queued.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from typing import Any

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.model import OrderEvent, OrderFilled
from trading.storage import FillRepository, OrderRepository

__all__ = ["OrderRecorder"]

logger = logging.getLogger(__name__)

_STOP = object()


class OrderRecorder:
    def __init__(self, bus: EventBus, broker: Broker, orders: OrderRepository, fills: FillRepository) -> None:
        self._broker = broker
        self._orders = orders
        self._fills = fills
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="order-recorder", daemon=True)
        self.written = 0
        self.errors = 0
        bus.subscribe(OrderEvent, self._on_order_event)

    def start(self) -> None:
        self._thread.start()

    def _on_order_event(self, event: OrderEvent) -> None:
        order = self._broker.get_order(event.order_id)
        if order is not None:
            self._queue.put(copy.copy(order))
        if isinstance(event, OrderFilled):
            self._queue.put(event)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                if isinstance(item, OrderFilled):
                    self._fills.add(item)
                else:
                    self._orders.upsert(item)
                self.written += 1
            except Exception:  # one bad row must not stop the recorder; it is logged and counted
                self.errors += 1
                logger.exception("could not record %r", item)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def __repr__(self) -> str:
        return f"OrderRecorder(written={self.written}, errors={self.errors}, queued~{self._queue.qsize()})"
