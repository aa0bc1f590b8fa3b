"""The paper account's orders: the working ones and the most recent closed ones.

A working order is held three ways at once: by id, in its OCO group, and in its symbol's
``SymbolBook`` (the index the matching pops from). ``add`` puts it in all three, ``retire``
takes it out of all three and into a bounded history of closed orders, so the three never
disagree about which orders are working.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from trading.broker._matching import SymbolBook
from trading.broker._state import order_from_dict, order_to_dict
from trading.errors import BrokerStateError
from trading.model import Order

__all__ = ["OrderBook"]


class OrderBook:
    """Working orders of ``symbols`` by id, their OCO groups and matching books; the last
    ``keep_closed`` closed orders stay readable by id."""

    def __init__(self, symbols: Iterable[str], *, keep_closed: int) -> None:
        self._symbols = tuple(symbols)
        self._keep_closed = keep_closed
        self._working: dict[str, Order] = {}
        self._oco: dict[str, dict[str, None]] = {}  # group -> its working order ids, in submission order
        self._closed: OrderedDict[str, Order] = OrderedDict()
        self._books: dict[str, SymbolBook] = {s: SymbolBook(s) for s in self._symbols}

    def __len__(self) -> int:
        return len(self._working)

    # --- queries -------------------------------------------------------------------

    def working(self, order_id: str) -> Order | None:
        """The working order ``order_id``, or None (unknown, or already closed)."""
        return self._working.get(order_id)

    def get(self, order_id: str) -> Order | None:
        """A working order, or a closed one still in the history, or None."""
        return self._working.get(order_id) or self._closed.get(order_id)

    def is_known(self, order_id: str) -> bool:
        return order_id in self._working or order_id in self._closed

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """The working orders (of ``symbol``), in submission order."""
        return [o for o in self._working.values() if symbol is None or o.symbol == symbol]

    def oco_siblings(self, order: Order) -> list[Order]:
        """The other working orders of ``order``'s OCO group."""
        group = self._oco.get(order.oco_group) if order.oco_group is not None else None
        if not group:
            return []
        return [self._working[i] for i in group if i != order.order_id]

    def book(self, symbol: str) -> SymbolBook | None:
        """``symbol``'s matching book (None for a symbol this book does not trade)."""
        return self._books.get(symbol)

    # --- changes -------------------------------------------------------------------

    def add_symbol(self, symbol: str) -> None:
        """Hold orders of ``symbol`` from now on (a venue's symbol first seen)."""
        if symbol not in self._books:
            self._symbols = (*self._symbols, symbol)
            self._books[symbol] = SymbolBook(symbol)

    def add(self, order: Order) -> None:
        """Hold an accepted order as working: by id, in its OCO group and its symbol's book."""
        self._working[order.order_id] = order
        if order.oco_group is not None:
            self._oco.setdefault(order.oco_group, {})[order.order_id] = None
        self._books[order.symbol].add(order)

    def reindex(self, order: Order) -> None:
        """Index a working order again after its quantity, price or stop changed."""
        self._books[order.symbol].add(order)

    def retire(self, order: Order) -> None:
        """Move a closed order out of the working set into the history (oldest dropped first)."""
        self._working.pop(order.order_id, None)
        self._books[order.symbol].remove(order.order_id)
        if order.oco_group is not None:
            group = self._oco.get(order.oco_group)
            if group is not None:
                group.pop(order.order_id, None)
                if not group:
                    del self._oco[order.oco_group]
        self._closed[order.order_id] = order
        while len(self._closed) > self._keep_closed:
            self._closed.popitem(last=False)

    # --- persistence ---------------------------------------------------------------

    def export(self) -> list[dict[str, Any]]:
        """The working orders as JSON-able dicts."""
        return [order_to_dict(o) for o in self._working.values()]

    def read(self, raw: Any) -> list[Order]:
        """Validate saved working orders (from ``export``); ``BrokerStateError`` names the bad entry."""
        if not isinstance(raw, list):
            raise BrokerStateError(f"state.open_orders: expected a list, got {type(raw).__name__}")
        orders = [order_from_dict(item, f"state.open_orders[{i}]") for i, item in enumerate(raw)]
        return self.check_working(orders, "state.open_orders")

    def check_working(self, orders: Iterable[Order], where: str) -> list[Order]:
        """``orders`` if each can be working here: an open status, a symbol this book trades,
        a filled quantity in [0, quantity), an id given once; else ``BrokerStateError``
        naming the entry (``where[i]``)."""
        checked: dict[str, Order] = {}
        for i, order in enumerate(orders):
            at = f"{where}[{i}]"
            if not order.status.is_open:
                raise BrokerStateError(f"{at}: order {order.order_id} is {order.status.value}, not working")
            if order.symbol not in self._books:
                raise BrokerStateError(f"{at}: unknown symbol {order.symbol!r}")
            if order.order_id in checked:
                raise BrokerStateError(f"{at}: order id {order.order_id!r} appears twice")
            if not 0 <= order.filled_quantity < order.quantity:
                raise BrokerStateError(
                    f"{at}: filled_quantity {order.filled_quantity} outside [0, {order.quantity})"
                )
            checked[order.order_id] = order
        return list(checked.values())

    def replace(self, orders: Iterable[Order]) -> None:
        """Make ``orders`` (from ``read``) the working set; the closed history is kept."""
        self._working.clear()
        self._oco.clear()
        self._books = {s: SymbolBook(s) for s in self._symbols}
        for order in orders:
            self.add(order)

    def __repr__(self) -> str:
        return (
            f"OrderBook(working={len(self._working)}, oco_groups={len(self._oco)}, "
            f"closed={len(self._closed)})"
        )
