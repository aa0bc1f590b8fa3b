"""``BrokerSync``: read the venue's account and make the books agree with it; report the repairs.

It runs at start, after every reconnect of the stream and on a timer (the periodic poll that
sees what the stream missed). One round reads, on the reads lane (off the loop): the
account, the positions, the open orders with their legs, the orders created since the last
round (fills of orders that opened and closed unseen), and, for each of our working orders
the venue no longer shows open, its final state (by venue id, or by client id through its
parent for a leg). Then, on the loop, in one go:

1. every order read is applied through the ``VenueMirror`` (fills booked once, orders ended,
   foreign orders booked and handed to the guard);
2. an order of ours the venue does not know at all ends CANCELLED ("reconciled: not at the
   broker");
3. each position is compared with the venue's: a different quantity is set to the venue's
   (no fill, no P&L) and reported;
4. cash is compared: the venue's cash plus the signed cost basis of its positions is what
   our books call cash (starting balance + realized P&L - commissions); a difference of a
   cent or more moves our starting balance (a deposit, a fee charged outside a fill) and is
   reported;
5. marks: each position's ``current_price`` becomes its last price and is published as a
   ``MarketDataUpdated`` (the unrealized P&L the risk rules watch is the venue's price,
   refreshed every poll).

Steps 3 and 4 are skipped for a round during which the stream moved the books (the reads may
predate a fill the books already hold); the next round compares. The venue is the truth;
the report (``ReconciliationReport``) lists every repair with both values.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from trading.broker.books import Books
from trading.broker.venue.errors import VenueError, VenueErrorKind
from trading.broker.venue.facts import VenueOrder, VenueView
from trading.broker.venue.lane import RequestLane, RetryPolicy
from trading.broker.venue.mirror import FOREIGN_PREFIX, VenueMirror
from trading.broker.venue.protocols import VenueClient
from trading.broker.venue.report import Discrepancy, ReconciliationReport
from trading.broker.venue.tasks import TaskChains
from trading.bus import EventBus
from trading.clock import Clock
from trading.model import Event, MarketDataUpdated

__all__ = ["BrokerSync"]

logger = logging.getLogger(__name__)

_EPS = 1e-9
_CENT = Decimal("0.01")
_MAX_REPLACEMENTS = 20


@dataclass(frozen=True, slots=True)
class _Ref:
    """One of our working orders as the reads look for it: by venue id when known, else by
    client id (for a leg: its venue parent's)."""

    order_id: str
    venue_id: str | None
    client_id: str


@dataclass(frozen=True, slots=True)
class _Reading:
    view: VenueView
    finals: tuple[VenueOrder, ...]  # our working orders the venue no longer shows open, as it holds them
    missing: tuple[str, ...]  # our working orders the venue does not know


class BrokerSync:
    def __init__(
        self,
        client: VenueClient,
        mirror: VenueMirror,
        lane: RequestLane,
        bus: EventBus,
        clock: Clock,
        tasks: TaskChains,
        *,
        source: str,
        policy: RetryPolicy,
        lookback: timedelta = timedelta(minutes=5),
        on_mark: Callable[[str, float], None] | None = None,
    ) -> None:
        self._client = client
        self._mirror = mirror
        self._books: Books = mirror.books
        self._lane = lane
        self._bus = bus
        self._clock = clock
        self._tasks = tasks
        self._source = source
        self._policy = policy
        self._lookback = lookback
        self._on_mark = on_mark  # the broker's last prices follow the venue's marks
        self.cursor: datetime | None = None  # orders created after it are read each round
        self.last_report: ReconciliationReport | None = None
        # Reports worth keeping: every start and reconnect, and every poll that repaired something.
        self.reports: deque[ReconciliationReport] = deque(maxlen=100)
        self.last_view: VenueView | None = None
        self.rounds = self.repairs = 0

    # --- running ---------------------------------------------------------------------

    async def run(self, trigger: str) -> ReconciliationReport:
        """One round on the reads lane; raises ``VenueError`` when the venue cannot be read."""
        refs = self._refs()
        since = self._since()
        before = self._mirror.changes
        started = self._clock.now()
        reading = await self._lane.call(
            lambda: self._read(refs, since), what=f"{self._source} reconciliation", policy=self._policy
        )
        return self._apply(reading, trigger, started, moved=self._mirror.changes != before)

    def run_sync(self, trigger: str, *, fresh: bool = False) -> ReconciliationReport:
        """``run`` before the loop runs (a desk being built); ``fresh``: the books start from
        the venue's account (a new journal), so its holdings are restored, not repaired."""
        started = self._clock.now()
        reading = self._lane.call_sync(
            lambda: self._read(self._refs(), self._since()),
            what=f"{self._source} reconciliation",
            policy=self._policy,
        )
        return self._apply(reading, trigger, started, moved=False, fresh=fresh)

    def _since(self) -> datetime:
        if self.cursor is not None:
            return self.cursor
        updated = self._books.ledger.account_record(None).updated_at
        return (updated or self._clock.now() - timedelta(days=1)) - self._lookback

    def _refs(self) -> list[_Ref]:
        mirror, books = self._mirror, self._books
        refs = []
        for order in books.orders.open_orders():
            if self._tasks.busy(order.order_id):
                continue  # its submit (or cancel) is in flight: its answer tells
            target = order
            parent_id = mirror.parent_of(order)
            if parent_id is not None:
                parent = books.orders.get(parent_id)
                if parent is None:
                    refs.append(_Ref(order.order_id, _venue_id_of(mirror, parent_id), parent_id))
                    continue
                target = parent
            refs.append(_Ref(order.order_id, _venue_id_of(mirror, target.order_id), mirror.client_id(target)))
        return refs

    # --- reading (on the lane's thread: no books here) -------------------------------------

    def _read(self, refs: list[_Ref], since: datetime) -> _Reading:
        client = self._client
        account = client.account()
        positions = tuple(client.positions())
        open_orders = tuple(client.open_orders())
        closed = tuple(o for o in client.orders_since(since) if not o.status.is_open)
        seen_ids: set[str] = set()
        seen_clients: set[str] = set()
        for order in (*open_orders, *closed):
            for one in (order, *order.legs):
                seen_ids.add(one.venue_id)
                seen_clients.add(VenueMirror.own_id(one.client_id))
        finals: list[VenueOrder] = []
        missing: list[str] = []
        for ref in refs:
            if ref.venue_id in seen_ids or (ref.venue_id is None and ref.client_id in seen_clients):
                continue
            final = self._final(ref)
            if final is None:
                missing.append(ref.order_id)
            else:
                finals.append(final)
                seen_ids.update(o.venue_id for o in (final, *final.legs))
        view = VenueView(
            account=account,
            positions=positions,
            open_orders=open_orders,
            closed_orders=closed,
            taken_at=self._clock.now(),
        )
        return _Reading(view, tuple(finals), tuple(missing))

    def _final(self, ref: _Ref) -> VenueOrder | None:
        client = self._client
        try:
            found = client.get(ref.venue_id) if ref.venue_id is not None else client.find(ref.client_id)
        except VenueError as exc:
            if exc.kind is not VenueErrorKind.NOT_FOUND:
                raise
            return None
        for _ in range(_MAX_REPLACEMENTS):  # follow replacements to the order working now
            if found is None or found.replaced_by is None:
                break
            found = client.get(found.replaced_by)
        return found

    # --- applying (on the loop) ----------------------------------------------------------

    def _apply(
        self, reading: _Reading, trigger: str, started: datetime, *, moved: bool, fresh: bool = False
    ) -> ReconciliationReport:
        view = reading.view
        mirror, books = self._mirror, self._books
        fills_before = mirror.stats.fills
        foreign_before = mirror.stats.foreign
        orders = sorted(
            (*view.closed_orders, *reading.finals, *view.open_orders),
            key=lambda o: (o.created_at or started, o.venue_id),
        )
        mirror.apply_orders(orders)
        found: list[Discrepancy] = []
        for order_id in reading.missing:
            order = books.orders.working(order_id)
            if order is not None:
                mirror.cancel_locally(order, "reconciled: not at the broker")
                found.append(
                    Discrepancy(
                        kind="order",
                        subject=order_id,
                        journal=order.status.value,
                        broker="unknown",
                        repair="cancelled",
                        reason="reconciled: not at the broker",
                    )
                )
        skipped = ""
        if moved:
            skipped = "the stream moved the books during the reads"
        else:
            found.extend(self._positions(view, fresh))
            found.extend(self._cash(view, fresh))
        self._marks(view)
        self.cursor = started - self._lookback
        self.last_view = view
        self.rounds += 1
        self.repairs += len(found)
        report = ReconciliationReport(
            source=self._source,
            trigger=trigger,
            taken_at=started,
            restored={
                "positions": len(view.positions),
                "open orders": len(view.open_orders),
                "fills booked": mirror.stats.fills - fills_before,
                "orders placed elsewhere": mirror.stats.foreign - foreign_before,
            },
            discrepancies=tuple(found),
            skipped=skipped,
        )
        self.last_report = report
        if trigger != "poll" or not report.clean:
            self.reports.append(report)
        if report.clean:
            logger.log(logging.DEBUG if trigger == "poll" else logging.INFO, "%s", report.summary())
        else:
            logger.warning("%s", report.summary())
        return report

    def _positions(self, view: VenueView, fresh: bool) -> list[Discrepancy]:
        books = self._books
        now = self._clock.now()
        venue = {p.symbol: p for p in view.positions if abs(p.quantity) > _EPS}
        held = books.ledger.open_positions()
        found: list[Discrepancy] = []
        events: list[Event] = []
        for symbol in sorted(set(venue) | set(held)):
            theirs = venue.get(symbol)
            ours = held.get(symbol)
            quantity = 0.0 if theirs is None else theirs.quantity
            mine = 0.0 if ours is None else ours.quantity
            if abs(quantity - mine) <= _EPS:
                continue
            avg = 0.0 if theirs is None else theirs.avg_price
            basis = Decimal(0) if theirs is None else theirs.cost_basis
            books.set_position(symbol, quantity, avg, basis, now, events)
            if not fresh:
                was = "flat" if ours is None else f"{mine:g} @ {ours.avg_price:g}"
                now_held = "flat" if theirs is None else f"{quantity:g} @ {avg:g}"
                found.append(
                    Discrepancy(
                        kind="position",
                        subject=symbol,
                        journal=was,
                        broker=now_held,
                        repair="set to the broker's",
                        reason="fills the desk did not see",
                    )
                )
        books.publish(events)
        return found

    def _cash(self, view: VenueView, fresh: bool) -> list[Discrepancy]:
        books = self._books
        ours = books.ledger.account().cash
        theirs = view.account.cash + sum(
            (p.cost_basis if p.quantity > 0 else -p.cost_basis for p in view.positions), Decimal(0)
        )
        delta = theirs - ours
        if abs(delta) < _CENT:
            return []
        events: list[Event] = []
        books.adjust_balance(delta, self._clock.now(), events)
        books.publish(events)
        if fresh:
            return []
        return [
            Discrepancy(
                kind="cash",
                subject="account",
                journal=f"{ours:.2f}",
                broker=f"{theirs:.2f}",
                repair=f"starting balance moved by {delta:+.2f}",
                reason="cash moved outside the fills the desk booked (a transfer, a fee, missed fills)",
            )
        ]

    def _marks(self, view: VenueView) -> None:
        now = self._clock.now()
        positions = self._books.ledger.positions
        for held in view.positions:
            price = held.current_price
            if price is None or not price > 0:
                continue
            pos = positions.get(held.symbol)
            if pos is not None:
                pos.last_price = price
            if self._on_mark is not None:
                self._on_mark(held.symbol, price)
            self._bus.publish(MarketDataUpdated(ts=now, symbol=held.symbol, price=price))

    def __repr__(self) -> str:
        return f"BrokerSync({self._source}, rounds={self.rounds}, repairs={self.repairs})"


def _venue_id_of(mirror: VenueMirror, order_id: str) -> str | None:
    known = mirror.venue_id(order_id)
    if known is None and order_id.startswith(FOREIGN_PREFIX):
        return order_id[len(FOREIGN_PREFIX) :]
    return known
