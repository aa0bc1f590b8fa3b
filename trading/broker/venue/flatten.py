"""``Flattener``: cancel every working order, close every position, until the venue confirms flat.

The enforcer's flatten must never be lost to a rate limit or a server error, so it is a job
that runs until the venue itself says the account (or the symbols asked for) holds no
position, each attempt audited:

1. cancel the working orders at the venue (all of them, or the symbols' one by one) and wait
   until the venue shows none open: a venue refuses to close quantity its own exit orders
   (bracket legs) still hold;
2. read the venue's positions; none left: done;
3. send one closing market order per position, sized to the venue's quantity, on the
   enforcement lane, idempotent by client id;
4. read the orders and positions back until the position is gone or ``settle`` seconds pass.

Every attempt, failed or not, is one audit row and one ``EnforcementExecuted``; a failed one
is retried after a backoff (``RetryPolicy`` with no attempt limit). While a flatten runs, a
second request joins it (a wider one widens it) and gets the closing orders already made.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from trading.broker.books import Books
from trading.broker.venue.audit import AuditTrail
from trading.broker.venue.errors import VenueError
from trading.broker.venue.facts import OrderRequest, VenueOrder, VenuePosition
from trading.broker.venue.lane import RequestLane, RetryPolicy
from trading.broker.venue.mirror import VenueMirror
from trading.broker.venue.protocols import VenueClient
from trading.broker.venue.router import OrderRouter
from trading.broker.venue.tasks import TaskChains
from trading.model import Order, OrderSide, OrderStatus

__all__ = ["Flattener"]

logger = logging.getLogger(__name__)

_EPS = 1e-9
_CHECK_EVERY = 0.05  # seconds between reads while waiting for the venue to settle

# Makes a closing market order in the books (not sent): (symbol, side, quantity, reason).
MakeExit = Callable[[str, OrderSide, float, str], Order]


class Flattener:
    def __init__(
        self,
        client: VenueClient,
        mirror: VenueMirror,
        router: OrderRouter,
        tasks: TaskChains,
        lane: RequestLane,
        audit: AuditTrail,
        *,
        make_exit: MakeExit,
        request_of: Callable[[Order], OrderRequest],
        settle: float = 3.0,
        backoff: RetryPolicy | None = None,
        call_policy: RetryPolicy | None = None,
    ) -> None:
        self._client = client
        self._mirror = mirror
        self._books: Books = mirror.books
        self._router = router
        self._tasks = tasks
        self._lane = lane
        self._audit = audit
        self._make_exit = make_exit
        self._request_of = request_of
        self.settle = settle
        self._backoff = backoff or RetryPolicy(attempts=0, initial=0.25, maximum=5.0)
        self._call = call_policy or RetryPolicy(attempts=3, initial=0.1, maximum=1.0)
        self._scope: set[str] | None = set()  # symbols of the running job (None: all); empty: no job
        self._running = False
        self._reason = ""
        self._rule = ""
        self._exits: dict[str, Order] = {}  # symbol -> the closing order made for it
        self.jobs = self.attempts = self.confirmed = 0

    @property
    def running(self) -> bool:
        return self._running

    def request(self, symbols: set[str] | None, reason: str) -> list[Order]:
        """Flatten ``symbols`` (None: the whole account); returns the closing orders made for
        the positions the books hold. Joins (and widens) a flatten already running."""
        if self._running:
            if symbols is None or self._scope is None:
                self._scope = None
            else:
                self._scope |= symbols
        else:
            self._scope = None if symbols is None else set(symbols)
            self._reason = reason
            self._rule = reason.split(":", 1)[0] if ":" in reason else "flatten"
            self._exits = {}
        for symbol, pos in self._books.ledger.open_positions().items():
            if self._in_scope(symbol) and symbol not in self._exits:
                assert pos.side is not None
                self._exits[symbol] = self._make_exit(symbol, pos.side.opposite, abs(pos.quantity), reason)
        if not self._running:
            self._running = True
            self.jobs += 1
            self._tasks.run("flatten", self._job, f"flatten ({reason})")
        return [o for s, o in self._exits.items() if self._in_scope(s) and o.is_open]

    def _in_scope(self, symbol: str) -> bool:
        return self._scope is None or symbol in self._scope

    async def _job(self) -> None:
        attempt = 0
        try:
            while True:
                attempt += 1
                self.attempts += 1
                try:
                    result = await self._attempt()
                except VenueError as exc:
                    result = f"failed: {exc}"
                    left = True
                else:
                    left = result is not None
                scope = "all symbols" if self._scope is None else ", ".join(sorted(self._scope))
                if not left:
                    self.confirmed += 1
                    self._audit.record(
                        "flatten",
                        self._rule,
                        self._reason,
                        f"attempt {attempt}: flat confirmed by the broker ({scope})",
                    )
                    return
                delay = self._backoff.delay(attempt)
                self._audit.record(
                    "flatten",
                    self._rule,
                    self._reason,
                    f"attempt {attempt}: {result}; retrying in {delay:.2f} s ({scope})",
                )
                await asyncio.sleep(delay)
        finally:
            self._running = False
            self._scope = set()

    async def _attempt(self) -> str | None:
        """One round; None when the venue confirms flat, else what is left."""
        await self._cancel_working()
        positions = await self._positions()
        if not positions:
            return None
        for pos in positions:
            exit_order = self._exit_for(pos)
            if exit_order.status is OrderStatus.NEW and self._mirror.venue_id(exit_order.order_id) is None:
                await self._router.send(exit_order, self._request_of(exit_order), urgent=True)
        return await self._settle_flat()

    async def _cancel_working(self) -> None:
        client = self._client
        if self._scope is None:
            await self._lane.call(client.cancel_all, what="cancel all orders", policy=self._call)
        else:
            for venue in await self._open_orders():
                if venue.symbol in self._scope:
                    await self._lane.call(
                        functools.partial(client.cancel, venue.venue_id),
                        what=f"cancel {venue.venue_id}",
                        policy=self._call,
                    )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle
        while True:
            still = [v for v in await self._open_orders() if self._in_scope(v.symbol)]
            exits = {self._mirror.venue_id(o.order_id) for o in self._exits.values()}
            still = [v for v in still if v.venue_id not in exits]
            if not still or loop.time() >= deadline:
                break
            await asyncio.sleep(_CHECK_EVERY)
        await self._read_exits()

    async def _open_orders(self) -> list[VenueOrder]:
        orders = await self._lane.call(self._client.open_orders, what="read open orders", policy=self._call)
        self._mirror.apply_orders(orders)
        return orders

    async def _positions(self) -> list[VenuePosition]:
        held = await self._lane.call(self._client.positions, what="read positions", policy=self._call)
        return [p for p in held if self._in_scope(p.symbol) and abs(p.quantity) > _EPS]

    def _exit_for(self, pos: VenuePosition) -> Order:
        """The closing order for the venue's position: the one made already when it still
        fits (same side and size, not sent or still working), else a new one."""
        side = OrderSide.SELL if pos.quantity > 0 else OrderSide.BUY
        quantity = abs(pos.quantity)
        current = self._exits.get(pos.symbol)
        if current is not None and current.is_open:
            fits = current.side is side and abs(current.remaining - quantity) <= _EPS
            if fits:
                return current
            if self._mirror.venue_id(current.order_id) is None:
                self._mirror.cancel_locally(
                    current, "replaced by a closing order sized to the broker's position"
                )
        fresh = self._make_exit(pos.symbol, side, quantity, self._reason)
        self._exits[pos.symbol] = fresh
        return fresh

    async def _settle_flat(self) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle
        while True:
            await self._read_exits()
            positions = await self._positions()
            if not positions:
                return None
            if loop.time() >= deadline:
                held = ", ".join(f"{p.symbol} {p.quantity:g}" for p in positions)
                return f"still held: {held}"
            await asyncio.sleep(_CHECK_EVERY)

    async def _read_exits(self) -> None:
        """Read the closing orders back: their fills reach the books even when the stream is down."""
        for order in list(self._exits.values()):
            venue_id = self._mirror.venue_id(order.order_id)
            if venue_id is None or not order.is_open:
                continue
            venue = await self._lane.call(
                functools.partial(self._client.get, venue_id),
                what=f"read {order.order_id}",
                policy=self._call,
            )
            self._mirror.apply_orders([venue])

    def __repr__(self) -> str:
        return (
            f"Flattener(running={self._running}, jobs={self.jobs}, attempts={self.attempts}, "
            f"confirmed={self.confirmed})"
        )
