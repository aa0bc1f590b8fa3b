"""``OrderRouter``: our orders to the venue and the venue's answers back to the books.

Each request runs on a ``RequestLane`` (off the loop, retried with backoff) inside the
order's own chain of ``TaskChains``, so an order's cancel or replace always follows its
submit. Orders go out with their own id as the client order id, which makes a submit
idempotent: after an attempt that got no answer (a timeout, a dropped connection) the next
attempt first looks the order up by its client id and only submits when the venue does not
have it; a "client order id already used" answer is resolved the same way. The venue's
answer is applied to the books through the ``VenueMirror`` (the stream may have told the
same thing already: the mirror books each change once). A refusal ends the order REJECTED
with the venue's reason. Enforcement requests (flatten, the guard's cancels) use their own
lane, so a slow desk order never delays them.
"""

from __future__ import annotations

import logging

from trading.broker.venue.errors import VenueError, VenueErrorKind
from trading.broker.venue.facts import OrderRequest, VenueOrder
from trading.broker.venue.lane import RequestLane, RetryNotice, RetryPolicy
from trading.broker.venue.mirror import VenueMirror
from trading.broker.venue.protocols import VenueClient
from trading.broker.venue.tasks import TaskChains
from trading.model import Order

__all__ = ["OrderRouter"]

logger = logging.getLogger(__name__)


class OrderRouter:
    def __init__(
        self,
        client: VenueClient,
        mirror: VenueMirror,
        tasks: TaskChains,
        *,
        orders: RequestLane,
        enforcement: RequestLane,
        policy: RetryPolicy,
    ) -> None:
        self._client = client
        self._mirror = mirror
        self._tasks = tasks
        self._orders = orders
        self._enforcement = enforcement
        self._policy = policy
        self.sent = self.refused = self.unreachable = 0

    def lane(self, urgent: bool) -> RequestLane:
        return self._enforcement if urgent else self._orders

    # --- submit ------------------------------------------------------------------------

    def submit(self, order: Order, request: OrderRequest, *, urgent: bool = False) -> None:
        """Send ``request`` (for ``order``, already in the books as NEW) in the order's chain."""

        async def work() -> None:
            await self.send(order, request, urgent=urgent)

        self._tasks.run(order.order_id, work, f"submit {order.order_id}")

    async def send(self, order: Order, request: OrderRequest, *, urgent: bool = False) -> VenueOrder | None:
        """Submit now (idempotent by client id); the answer applied to the books. None when the
        venue refused it or could not be reached (the order then ends REJECTED)."""
        client, cid = self._client, request.client_id
        ambiguous = False

        def note(notice: RetryNotice) -> None:
            nonlocal ambiguous
            ambiguous = ambiguous or notice.error.kind is VenueErrorKind.AMBIGUOUS

        def retry() -> VenueOrder:
            found = client.find(cid) if ambiguous else None
            return found if found is not None else client.submit(request)

        self.sent += 1
        answer: VenueOrder | None
        try:
            answer = await self.lane(urgent).call(
                lambda: client.submit(request),
                what=f"submit {order.order_id}",
                policy=self._policy,
                retry_fn=retry,
                on_retry=note,
            )
        except VenueError as exc:
            answer = await self._after_failed_submit(order, cid, exc, urgent)
            if answer is None:
                return None
        self._mirror.apply_orders([answer])
        return answer

    async def _after_failed_submit(
        self, order: Order, cid: str, exc: VenueError, urgent: bool
    ) -> VenueOrder | None:
        if exc.kind is VenueErrorKind.REFUSED:
            self.refused += 1
            self._mirror.fail(order, f"refused by the broker: {exc}")
            return None
        try:  # did an attempt get through after all? (DUPLICATE says so; no answer may hide it)
            found = await self.lane(urgent).call(
                lambda: self._client.find(cid), what=f"look up {cid}", policy=self._policy
            )
        except VenueError as lookup:
            found = None
            logger.error("order %s: could not look it up after %r: %r", order.order_id, exc, lookup)
        if found is not None:
            return found
        self.unreachable += 1
        self._mirror.fail(order, f"not placed: {exc}")
        return None

    # --- cancel ------------------------------------------------------------------------

    def cancel(self, order: Order, reason: str, *, urgent: bool = False) -> None:
        self._mirror.note_cancel(order, reason)

        async def work() -> None:
            await self.send_cancel(order, urgent=urgent)

        self._tasks.run(order.order_id, work, f"cancel {order.order_id}")

    async def send_cancel(self, order: Order, *, urgent: bool = False) -> None:
        """Ask the venue to cancel ``order``; the stream (or the answer read back when the venue
        says it already ended) tells the books how it ended."""
        if not order.is_open:
            return
        venue_id = self._mirror.venue_id(order.order_id)
        lane = self.lane(urgent)
        if venue_id is None:
            found = await lane.call(
                lambda: self._client.find(self._mirror.client_id(order)),
                what=f"look up {order.order_id}",
                policy=self._policy,
            )
            if found is None:
                self._mirror.cancel_locally(order, "cancelled before it reached the broker")
                return
            self._mirror.apply_orders([found])
            venue_id = found.venue_id
            if not order.is_open:
                return
        try:
            await lane.call(
                lambda: self._client.cancel(venue_id), what=f"cancel {order.order_id}", policy=self._policy
            )
        except VenueError as exc:
            if exc.kind not in (VenueErrorKind.NOT_OPEN, VenueErrorKind.NOT_FOUND):
                raise
            final = await lane.call(
                lambda: self._client.get(venue_id), what=f"read {order.order_id}", policy=self._policy
            )
            self._mirror.apply_orders([final])

    # --- replace -----------------------------------------------------------------------

    def replace(
        self, order: Order, *, quantity: float | None, price: float | None, stop_price: float | None
    ) -> None:
        async def work() -> None:
            await self._send_replace(order, quantity, price, stop_price)

        self._tasks.run(order.order_id, work, f"replace {order.order_id}")

    async def _send_replace(
        self, order: Order, quantity: float | None, price: float | None, stop_price: float | None
    ) -> None:
        venue_id = self._mirror.venue_id(order.order_id)
        if not order.is_open or venue_id is None:
            logger.warning("modify of %s not sent: the order is not working at the broker", order.order_id)
            return
        cid = self._mirror.next_replacement(order)
        rest = None if quantity is None else quantity - order.filled_quantity
        client = self._client

        def replace() -> VenueOrder:
            return client.replace(venue_id, client_id=cid, quantity=rest, price=price, stop_price=stop_price)

        def retry() -> VenueOrder:
            found = client.find(cid)
            return found if found is not None else replace()

        try:
            venue = await self._orders.call(
                replace, what=f"replace {order.order_id}", policy=self._policy, retry_fn=retry
            )
        except VenueError as exc:
            if exc.retryable:
                raise
            logger.warning(
                "modify of %s refused by the broker: %s (the order is unchanged)", order.order_id, exc
            )
            return
        self._mirror.apply_orders([venue])

    def __repr__(self) -> str:
        return f"OrderRouter(sent={self.sent}, refused={self.refused}, unreachable={self.unreachable})"
