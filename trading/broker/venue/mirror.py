"""``VenueMirror``: a venue's orders and fills applied to our ``Books``, each change once.

Every message of the venue's stream and every order a reconciliation reads is one *order
snapshot* (the order's status and cumulative fill) with, for a fill, the execution. The
mirror applies a snapshot to the order it belongs to:

* **whose order**: ours when its client id is one of our order ids (``O-...``, or
  ``O-...~2`` for the second replacement), a leg of ours when its parent is ours (matched by
  type: a limit leg is the take-profit, a stop leg the stop-loss), else *foreign*: placed
  outside the desk (the venue's own screen, another program). A foreign order is booked
  under the id ``X-<venue id>`` with strategy "manual" and reported to ``on_foreign`` (the
  guard), so the risk rules see it like any other.
* **each fill once**: what to book is the venue's cumulative filled quantity minus what the
  books already hold for that order, never the message itself. A message seen twice, a
  stale REST read after a stream fill, or a fill seen first by a poll and then by the stream
  books nothing the second time; an execution id already booked is skipped; fills a dropped
  stream missed are booked from the next snapshot at the price that makes the order's
  average the venue's (fill id ``<venue id>:<cumulative qty>``).
* **never backwards**: an order that ended (filled, cancelled, expired, rejected) is never
  working again; a pending order the venue shows working or filled is accepted first.

Each applied message is one step of the books (one journal commit) before its events are
published. ``changes`` counts applied changes, so a reconciliation can tell whether the
stream moved the books while it was reading the venue.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from trading.broker.books import Books
from trading.broker.venue.facts import VenueExecution, VenueOrder, VenueStatus, VenueUpdate
from trading.broker.venue.protocols import OrderHistory
from trading.clock import Clock
from trading.model import Event, Order, OrderRole, OrderStatus, OrderType

__all__ = ["FOREIGN_PREFIX", "MirrorStatistics", "VenueMirror"]

logger = logging.getLogger(__name__)

FOREIGN_PREFIX = "X-"
REPLACE_MARK = "~"
_EPS = 1e-9
_KEEP = 50_000  # venue ids and execution ids remembered
_NOT_ACCEPTED = (VenueStatus.PENDING, VenueStatus.REJECTED, VenueStatus.CANCELLED)

Hook = Callable[[], None]


class MirrorStatistics:
    __slots__ = ("applied", "duplicates", "fills", "foreign", "missed_fills", "unmatched")

    def __init__(self) -> None:
        self.applied = self.duplicates = self.fills = self.missed_fills = self.foreign = self.unmatched = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class VenueMirror:
    """Our books as the venue's mirror. ``on_foreign(order, still_open)`` hears of every
    foreign order when first booked; ``on_fill(order, quantity)`` of every fill booked;
    ``history`` tells orders the journal already holds (closed ones) from new ones."""

    def __init__(
        self,
        books: Books,
        clock: Clock,
        *,
        history: OrderHistory | None = None,
        on_foreign: Callable[[Order, bool], None] | None = None,
        on_fill: Callable[[Order, float], None] | None = None,
    ) -> None:
        self.books = books
        self._clock = clock
        self._history = history
        self.on_foreign = on_foreign
        self.on_fill = on_fill
        self._order_of: OrderedDict[str, str] = OrderedDict()  # venue id -> our order id
        self._venue_of: dict[str, str] = {}  # our order id -> the venue id working for it now
        self._replacements: dict[str, int] = {}  # our order id -> replacements sent
        self._base: dict[str, float] = {}  # our order id -> quantity filled by earlier venue orders
        self._value: dict[str, float] = {}  # our order id -> qty x price booked on its current venue order
        self._seen: OrderedDict[str, None] = OrderedDict()  # execution ids booked
        self._cancel_reasons: dict[str, str] = {}  # our order id -> why the desk asked to cancel it
        self._parents: dict[str, str] = {}  # our leg's id -> our order the venue holds it under
        self.changes = 0
        self.stats = MirrorStatistics()

    # --- ids ---------------------------------------------------------------------------

    def client_id(self, order: Order) -> str:
        """The client id for ``order``'s next request: its id, then ``<id>~<n>`` for the n-th
        replacement (a venue refuses a client id twice)."""
        n = self._replacements.get(order.order_id, 0)
        return order.order_id if n == 0 else f"{order.order_id}{REPLACE_MARK}{n}"

    def next_replacement(self, order: Order) -> str:
        self._replacements[order.order_id] = self._replacements.get(order.order_id, 0) + 1
        return self.client_id(order)

    def venue_id(self, order_id: str) -> str | None:
        return self._venue_of.get(order_id)

    def bind(self, order: Order, venue_id: str) -> None:
        """``order`` is known at the venue as ``venue_id`` (the latest of its venue orders)."""
        previous = self._venue_of.get(order.order_id)
        if previous == venue_id:
            return
        self._venue_of[order.order_id] = venue_id
        self._order_of[venue_id] = order.order_id
        while len(self._order_of) > _KEEP:
            self._order_of.popitem(last=False)

    def set_parent(self, leg: Order, parent: Order) -> None:
        """The venue holds ``leg`` as a leg of ``parent`` (an OCO's stop, a bracket's exits)."""
        self._parents[leg.order_id] = parent.order_id

    def parent_of(self, order: Order) -> str | None:
        """Our order the venue holds ``order`` under as a leg, or None for a top-level order.
        After a restart: a bracket child's ``parent_id``, an OCO stop's limit sibling."""
        parent = self._parents.get(order.order_id) or order.parent_id
        if parent is not None or order.oco_group is None or order.order_type is OrderType.LIMIT:
            return parent
        for other in self.books.orders.open_orders(order.symbol):
            if other.oco_group == order.oco_group and other.order_type is OrderType.LIMIT:
                return other.order_id
        return None

    @staticmethod
    def own_id(client_id: str) -> str:
        """Our order id in a client id (``O-1~2`` -> ``O-1``)."""
        return client_id.split(REPLACE_MARK, 1)[0]

    def resolve(self, venue: VenueOrder, parent: Order | None = None) -> Order | None:
        """Our order for ``venue``, or None (foreign, or ours but ended and forgotten)."""
        orders = self.books.orders
        order_id = self._order_of.get(venue.venue_id)
        if order_id is None and venue.replaces is not None:
            order_id = self._order_of.get(venue.replaces)
        if order_id is None:
            order_id = self.own_id(venue.client_id)
        order = orders.get(order_id) or orders.get(FOREIGN_PREFIX + venue.venue_id)
        if order is None and venue.parent_id is not None:
            parent = parent or self._by_venue_id(venue.parent_id)
            order = self._leg_of(parent, venue) if parent is not None else None
        return order

    def _by_venue_id(self, venue_id: str) -> Order | None:
        order_id = self._order_of.get(venue_id)
        return None if order_id is None else self.books.orders.get(order_id)

    def _leg_of(self, parent: Order, venue: VenueOrder) -> Order | None:
        """The working order of ours that ``venue`` (a leg of ``parent``'s venue order) is:
        one of parent's bracket children or OCO siblings, of the same kind (limit or stop)."""
        stop_leg = venue.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        for order in self.books.orders.open_orders(parent.symbol):
            if order is parent or order.order_id in self._venue_of:
                continue
            related = order.parent_id == parent.order_id or (
                parent.oco_group is not None and order.oco_group == parent.oco_group
            )
            if related and (order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)) == stop_leg:
                return order
        return None

    # --- applying ----------------------------------------------------------------------

    def apply(self, update: VenueUpdate) -> Order | None:
        """One stream message: apply it (one step of the books), then tell the hooks."""
        self.stats.applied += 1
        if update.execution is not None and update.execution.execution_id in self._seen:
            self.stats.duplicates += 1
            return self.resolve(update.order)
        events: list[Event] = []
        hooks: list[Hook] = []
        order = self._apply(update.order, update.execution, None, events, hooks)
        self._finish(events, hooks)
        return order

    def apply_orders(self, snapshots: list[VenueOrder]) -> None:
        """Orders read from the venue (a reconciliation): each applied as its own step."""
        for venue in snapshots:
            events: list[Event] = []
            hooks: list[Hook] = []
            self._apply(venue, None, None, events, hooks)
            self._finish(events, hooks)

    def _finish(self, events: list[Event], hooks: list[Hook]) -> None:
        if events:
            self.changes += 1
        self.books.publish(events)
        for hook in hooks:
            hook()

    def _apply(
        self,
        venue: VenueOrder,
        execution: VenueExecution | None,
        parent: Order | None,
        events: list[Event],
        hooks: list[Hook],
    ) -> Order | None:
        order = self.resolve(venue, parent)
        now = self._clock.now()
        if order is None:
            order = self._foreign(venue, parent, now, events, hooks)
        if order is not None:
            self._apply_to(order, venue, execution, now, events, hooks)
        for leg in venue.legs:
            self._apply(leg, None, order, events, hooks)
        return order

    def _foreign(
        self, venue: VenueOrder, parent: Order | None, now: datetime, events: list[Event], hooks: list[Hook]
    ) -> Order | None:
        """Book an order we did not place, or None when there is nothing to book (it ended
        without a fill, or the journal already holds it)."""
        if not venue.status.is_open and venue.filled_quantity <= _EPS:
            return None
        order_id = FOREIGN_PREFIX + venue.venue_id
        if self._history is not None:
            own = self.own_id(venue.client_id)
            held = self._history.orders(ids=[order_id, own])
            if held:
                logger.debug("venue order %s is %r in the journal: not booked again", venue.venue_id, held[0])
                return None
        self.books.instrument(venue.symbol)
        order = Order(
            order_id=order_id,
            symbol=venue.symbol,
            side=venue.side,
            quantity=venue.quantity,
            order_type=venue.order_type,
            price=venue.price,
            stop_price=venue.stop_price,
            time_in_force=venue.time_in_force,
            strategy="manual",
            role=OrderRole.EXIT if venue.closing else OrderRole.ENTRY,
            reduce_only=False,
            parent_id=None if parent is None else parent.order_id,
            oco_group=None if parent is None else f"OCO-{parent.order_id}",
            created_at=venue.created_at or now,
            reason="placed outside the desk",
        )
        self.books.submitted(order, now, events)
        self.stats.foreign += 1
        logger.warning(
            "order placed outside the desk: %s %g %s %s (venue id %s), booked as %s",
            venue.side.value,
            venue.quantity,
            venue.symbol,
            venue.order_type.value,
            venue.venue_id,
            order_id,
        )
        if self.on_foreign is not None:
            hooks.append(functools.partial(self._tell_foreign, self.on_foreign, order))
        return order

    @staticmethod
    def _tell_foreign(hook: Callable[[Order, bool], None], order: Order) -> None:
        hook(order, order.is_open)

    def _apply_to(
        self,
        order: Order,
        venue: VenueOrder,
        execution: VenueExecution | None,
        now: datetime,
        events: list[Event],
        hooks: list[Hook],
    ) -> None:
        current = self._venue_of.get(order.order_id)
        superseded = venue.replaced_by is not None or venue.status is VenueStatus.REPLACED
        if superseded and current is not None and current != venue.venue_id:
            return  # a replaced venue order, read late: the one that replaced it carries on
        if venue.replaces is not None and current == venue.replaces:
            self._replaced(order, venue, now, events)
        self.bind(order, venue.venue_id)
        if not order.is_open:
            return
        filled = venue.filled_quantity > self._known(order) + _EPS
        if order.status is OrderStatus.NEW and (filled or venue.status not in _NOT_ACCEPTED):
            self.books.accepted(order, now, events)
        if filled:
            self._book_fills(order, venue, execution, now, events, hooks)
        self._end(order, venue, now, events)

    def _replaced(self, order: Order, venue: VenueOrder, now: datetime, events: list[Event]) -> None:
        """A replacement is working for ``order``: what the old venue order filled stays booked."""
        self._base[order.order_id] = order.filled_quantity
        self._value[order.order_id] = 0.0
        quantity = order.filled_quantity + venue.quantity
        if (quantity, venue.price, venue.stop_price) != (order.quantity, order.price, order.stop_price):
            order.quantity = quantity
            order.price = venue.price if order.price is not None or venue.price is not None else None
            order.stop_price = venue.stop_price
            self.books.modified(order, now, events)

    def _known(self, order: Order) -> float:
        """What the books hold filled on ``order``'s current venue order."""
        return order.filled_quantity - self._base.get(order.order_id, 0.0)

    def _book_fills(
        self,
        order: Order,
        venue: VenueOrder,
        execution: VenueExecution | None,
        now: datetime,
        events: list[Event],
        hooks: list[Hook],
    ) -> None:
        missing = venue.filled_quantity - self._known(order)
        parts: list[tuple[float, float, str]] = []
        if execution is not None and execution.quantity <= missing + _EPS:
            rest = missing - execution.quantity
            if rest > _EPS:
                parts.append((rest, self._price_of(order, venue, rest, execution), self._fill_id(venue)))
            parts.append((execution.quantity, execution.price, execution.execution_id))
        else:
            parts.append((missing, self._price_of(order, venue, missing, None), self._fill_id(venue)))
        if len(parts) > 1 or execution is None:
            self.stats.missed_fills += 1
        for quantity, price, fill_id in parts:
            quantity = min(quantity, order.remaining)
            if quantity <= _EPS:
                continue
            self._value[order.order_id] = self._value.get(order.order_id, 0.0) + quantity * price
            self.books.fill(order, quantity, price, now, events, fill_id=fill_id)
            self._remember(fill_id)
            self.stats.fills += 1
            if self.on_fill is not None:
                hooks.append(functools.partial(self.on_fill, order, quantity))
            if not order.is_open:
                break

    def _price_of(
        self, order: Order, venue: VenueOrder, quantity: float, execution: VenueExecution | None
    ) -> float:
        """The price of fills the books missed: what makes the order's average the venue's."""
        if venue.avg_fill_price is None:
            return execution.price if execution is not None else (order.price or order.stop_price or 0.0)
        total = venue.avg_fill_price * venue.filled_quantity
        booked = self._value.get(order.order_id, 0.0)
        if execution is not None:
            booked += execution.quantity * execution.price
        return round((total - booked) / quantity, 9)

    @staticmethod
    def _fill_id(venue: VenueOrder) -> str:
        return f"{venue.venue_id}:{venue.filled_quantity:g}"

    def _remember(self, fill_id: str) -> None:
        self._seen[fill_id] = None
        while len(self._seen) > _KEEP:
            self._seen.popitem(last=False)

    def _end(self, order: Order, venue: VenueOrder, now: datetime, events: list[Event]) -> None:
        if not order.is_open or venue.status.is_open or venue.status is VenueStatus.REPLACED:
            return
        status = venue.status
        if status is VenueStatus.FILLED:
            self.books.cancel(
                order,
                f"the venue reports the order filled at {venue.filled_quantity:g} of {order.quantity:g}",
                now,
                events,
            )
        elif status is VenueStatus.EXPIRED:
            self.books.expire(order, now, events)
        elif status is VenueStatus.REJECTED:
            self.books.reject(order, venue.reason or "rejected by the venue", now, events)
        else:
            reason = self._cancel_reasons.pop(order.order_id, "") or venue.reason or "cancelled at the venue"
            self.books.cancel(order, reason, now, events)

    # --- local decisions ---------------------------------------------------------------

    def note_cancel(self, order: Order, reason: str) -> None:
        """The desk asked the venue to cancel ``order`` because of ``reason`` (its cancel event says it)."""
        self._cancel_reasons[order.order_id] = reason

    def cancel_locally(self, order: Order, reason: str) -> None:
        """End ``order`` CANCELLED without the venue (it never reached it, or the venue no
        longer has it): one step."""
        if not order.is_open:
            return
        events: list[Event] = []
        self.books.cancel(order, reason, self._clock.now(), events)
        self._finish(events, [])

    def fail(self, order: Order, reason: str) -> None:
        """The venue refused ``order`` (or never got it): REJECTED, one step."""
        if not order.is_open:
            return
        events: list[Event] = []
        self.books.reject(order, reason, self._clock.now(), events)
        self._finish(events, [])

    def statistics(self) -> dict[str, int]:
        return {**self.stats.as_dict(), "changes": self.changes, "known_venue_ids": len(self._order_of)}

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"VenueMirror(applied={s.applied}, fills={s.fills}, foreign={s.foreign}, "
            f"duplicates={s.duplicates}, missed_fills={s.missed_fills})"
        )
