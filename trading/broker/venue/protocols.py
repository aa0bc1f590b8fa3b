"""What a venue adapter provides: a blocking ``VenueClient`` and an async ``VenueStream``.

These two protocols are the whole seam between the shared venue machinery
(``VenueBroker``: books, journal, events, reconciliation, guard, flatten, blindness) and one
venue's SDK. Everything crossing it is a plain record of ``trading.broker.venue.facts``.

The client's methods block (an SDK's HTTP calls); the ``VenueBroker`` only calls them on its
request lanes' worker threads, never on the event loop. Each raises ``VenueError`` with a
kind that says whether to retry. The stream runs on the event loop, reconnects by itself,
and reports every message and every change of its connection through the two callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from trading.broker.venue.facts import OrderRequest, VenueAccount, VenueOrder, VenuePosition, VenueUpdate
from trading.model import Order

__all__ = ["OrderHistory", "VenueClient", "VenueStream"]


@runtime_checkable
class VenueClient(Protocol):
    """One account at a venue, over its request API (blocking calls)."""

    def submit(self, request: OrderRequest) -> VenueOrder:
        """Send an order; the answer holds its legs (bracket, OCO). A client id the venue
        already knows raises ``VenueError`` of kind DUPLICATE."""
        ...

    def find(self, client_id: str) -> VenueOrder | None:
        """The order sent with ``client_id`` (with its legs), or None if the venue has none."""
        ...

    def get(self, venue_id: str) -> VenueOrder:
        """The order ``venue_id`` with its legs; NOT_FOUND if there is none."""
        ...

    def cancel(self, venue_id: str) -> None:
        """Ask the venue to cancel; NOT_OPEN if it has already ended."""
        ...

    def cancel_all(self) -> None:
        """Ask the venue to cancel every open order of the account."""
        ...

    def replace(
        self,
        venue_id: str,
        *,
        client_id: str,
        quantity: float | None,
        price: float | None,
        stop_price: float | None,
    ) -> VenueOrder:
        """Change a working order; the answer is the order now working in its place."""
        ...

    def open_orders(self) -> list[VenueOrder]:
        """Every open order, top-level orders with their legs."""
        ...

    def orders_since(self, since: datetime) -> list[VenueOrder]:
        """Orders (open or closed) created after ``since``, oldest first, with their legs."""
        ...

    def positions(self) -> list[VenuePosition]: ...

    def account(self) -> VenueAccount: ...


class VenueStream(Protocol):
    """The venue's order stream, run as one task on the event loop until cancelled."""

    async def run(
        self, on_update: Callable[[VenueUpdate], None], on_connected: Callable[[bool], None]
    ) -> None:
        """Connect, listen, and reconnect with backoff when the connection drops; hand every
        order message to ``on_update`` in the order received; call ``on_connected(True)`` once
        listening and ``on_connected(False)`` when the connection is lost."""
        ...


class OrderHistory(Protocol):
    """Orders the journal holds (any status), by id: how a reconciliation tells an order the
    books already booked from one they never saw (``trading.storage.JournalReader`` has it)."""

    def orders(self, *, ids: Iterable[str] | None = None) -> list[Order]: ...
