"""``VenueBroker``: a real venue's account behind the ``Broker`` protocol.

The desk talks to every venue through the ``Broker`` protocol: synchronous methods that
return at once, results arriving as events on the bus. A venue answers over the network, so
this broker keeps a local mirror of the account (the same ``Books`` the ``PaperBroker``
holds: orders, positions, cash, exact P&L, each step committed to the journal before its
events are published) and does the network work in the background:

* **requests** (submit, cancel, replace; flatten) go out on ``RequestLane`` threads, never on
  the loop, retried with backoff, idempotent by client order id (``OrderRouter``);
* **the order stream** (``VenueStream``) is turned into our events in order, each change once
  even after a reconnect (``VenueMirror``);
* **reconciliation** (``BrokerSync``) at start, after every reconnect and every
  ``poll_interval``: the venue's positions, orders and cash are the truth; the books are
  repaired and the repairs reported; marks come from the positions' current prices;
* **guard mode** (``Guard``): orders placed outside the desk are booked (strategy "manual")
  and meet the pre-trade checks; denied ones are cancelled (their fills closed again);
* **flatten until flat** (``Flattener``): the enforcer's flatten cancels and closes until the
  venue confirms, every attempt audited;
* **blindness** (``Sight``): a stream down for ``blind_after`` seconds publishes
  ``BrokerBlind`` (the risk manager holds the account REDUCING); ``BrokerSighted`` after the
  resync that follows the reconnect.

Submitting returns the order NEW (``OrderSubmitted``); ``OrderAccepted``, fills, cancels and
``OrderRejected`` (with the venue's reason) follow as the venue answers. ``cancel`` and
``modify`` ask; the venue's answer changes the books. Lifecycle: ``open`` (blocking, while
the desk is built: books from the journal, first reconciliation), ``start`` (on the loop:
stream, polling), ``stop``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from trading.broker._checks import acceptance_problem, check_modify, pre_trade_verdict, require_new
from trading.broker.base import AccountState, BrokerJournal, PreTradeCheck
from trading.broker.books import Books
from trading.broker.venue.audit import AuditSink, AuditTrail
from trading.broker.venue.config import VenueSettings
from trading.broker.venue.errors import VenueError, VenueErrorKind
from trading.broker.venue.facts import OrderRequest, VenueUpdate
from trading.broker.venue.flatten import Flattener
from trading.broker.venue.guard import Guard
from trading.broker.venue.lane import RequestLane, RetryPolicy
from trading.broker.venue.mirror import FOREIGN_PREFIX, VenueMirror
from trading.broker.venue.protocols import OrderHistory, VenueClient, VenueStream
from trading.broker.venue.report import ReconciliationReport
from trading.broker.venue.router import OrderRouter
from trading.broker.venue.sight import Sight
from trading.broker.venue.sync import BrokerSync
from trading.broker.venue.tasks import STOP_WAIT, TaskChains
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import ConfigError, OrderError, TradingError, UnknownInstrumentError
from trading.model import (
    Event,
    Instrument,
    JournalView,
    MarketDataUpdated,
    MarksFresh,
    MarksStale,
    Order,
    OrderRole,
    OrderSide,
    OrderType,
    Position,
    TimeInForce,
)

__all__ = ["VenueBroker", "VenueStatistics", "stock_instrument"]

logger = logging.getLogger(__name__)

_TICK = 0.05  # seconds between the watch loop's checks (blindness, resync, poll due)


def stock_instrument(symbol: str) -> Instrument:
    """The instrument a venue's symbol gets when it is first seen in the account: a stock
    (cent ticks, multiplier 1, no commission)."""
    return Instrument(symbol=symbol, tick_size=0.01, multiplier=1.0, commission=0.0, asset_class="STOCK")


@dataclass(frozen=True, slots=True)
class VenueStatistics:
    source: str
    connected: bool
    blind: bool
    reconnects: int
    outages: int
    reconciliations: int
    repairs: int
    updates: int
    duplicates: int
    fills: int
    missed_fills: int
    foreign_orders: int
    guard_cancels: int
    flatten_jobs: int
    flatten_attempts: int
    requests: int
    retries: int
    journal_steps: int
    journal_pending: int


class VenueBroker:
    """``source`` names the venue ("alpaca"). ``history`` (the journal's orders) tells a
    reconciliation which venue orders the books already hold; ``audit`` takes the guard's
    and the flatten's audit rows; ``account`` names the venue account (its status shows it)."""

    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        instruments: Iterable[Instrument],
        *,
        client: VenueClient,
        stream: VenueStream,
        settings: VenueSettings,
        source: str,
        starting_balance: Decimal = Decimal(1),
        journal: BrokerJournal | None = None,
        history: OrderHistory | None = None,
        audit: AuditSink | None = None,
        default_instrument: Callable[[str], Instrument] = stock_instrument,
        keep_closed_orders: int = 10_000,
        account: str = "",
    ) -> None:
        self._bus = bus
        self.account_label = account  # the venue account guarded, as the dashboard names it
        self._clock = clock
        self.source = source
        self.settings = settings
        self._client = client
        self._stream = stream
        self._books = Books(
            bus,
            clock,
            {i.symbol: i for i in instruments},
            starting_balance=starting_balance,
            buying_power_multiple=1.0,
            keep_closed_orders=keep_closed_orders,
            journal=journal,
            journal_retry_interval=1.0,
            default_instrument=default_instrument,
        )
        self._checks: list[PreTradeCheck] = []
        self._tasks = TaskChains(source)
        policy = RetryPolicy(
            attempts=settings.request_attempts, initial=settings.retry_initial, maximum=settings.retry_max
        )
        self._policy = policy
        self._lanes = {name: RequestLane(f"{source}-{name}") for name in ("orders", "enforcement", "reads")}
        self._mirror = VenueMirror(self._books, clock, history=history)
        self._router = OrderRouter(
            client,
            self._mirror,
            self._tasks,
            orders=self._lanes["orders"],
            enforcement=self._lanes["enforcement"],
            policy=policy,
        )
        self._audit = AuditTrail(bus, clock, audit)
        self._guard = Guard(self._checks, self._books, self._router, self._audit, self._close_exposure)
        self._mirror.on_foreign = self._guard.on_foreign
        self._mirror.on_fill = self._guard.on_fill
        self._flattener = Flattener(
            client,
            self._mirror,
            self._router,
            self._tasks,
            self._lanes["enforcement"],
            self._audit,
            make_exit=self._make_exit,
            request_of=self._request,
            settle=settings.flatten_settle,
            backoff=RetryPolicy(attempts=0, initial=settings.retry_initial, maximum=settings.retry_max),
        )
        self._sync = BrokerSync(
            client,
            self._mirror,
            self._lanes["reads"],
            bus,
            clock,
            self._tasks,
            source=source,
            policy=policy,
            lookback=timedelta(seconds=settings.lookback),
            on_mark=self._mark,
        )
        self._sight = Sight(bus, clock, broker=source, blind_after=settings.blind_after)
        self._marks: dict[str, float] = {}
        self._stale_marks: tuple[str, ...] = ()  # held symbols a data feed reports unmarked
        self._watch: asyncio.Task[None] | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._resync: str | None = None  # why a reconciliation is due now ("start", "reconnect")
        self._next_poll = 0.0
        self._poll_failures = 0
        self._updates = 0

    # --- queries -----------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        return self._books.instrument(symbol)

    def get_order(self, order_id: str) -> Order | None:
        return self._books.orders.get(order_id)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self._books.orders.open_orders(symbol)

    def positions(self) -> dict[str, Position]:
        return self._books.ledger.open_positions()

    def account(self) -> AccountState:
        state = self._books.ledger.account()
        view = self._sync.last_view
        if view is None:
            return state
        return replace(state, buying_power=float(view.account.buying_power))

    def last_price(self, symbol: str) -> float | None:
        return self._marks.get(symbol)

    def last_prices(self) -> dict[str, float]:
        return dict(self._marks)

    def add_pre_trade_check(self, check: PreTradeCheck) -> None:
        if not callable(check):
            raise TypeError(f"a pre-trade check must be callable, got {check!r}")
        self._checks.append(check)

    @property
    def storage_problem(self) -> str | None:
        return self._books.storage_problem

    def flush_journal(self) -> bool:
        return self._books.flush_journal()

    def commit_books(self) -> str | None:
        """Commit the whole account as the books hold it (after ``open``: the venue's view) as
        one journal step; the journal's problem, or None when written."""
        return self._books.commit_books()

    @property
    def reconciliation(self) -> ReconciliationReport | None:
        """The last reconciliation's report (start, reconnect or poll)."""
        return self._sync.last_report

    def reconciliations(self) -> list[ReconciliationReport]:
        """The reports kept (oldest first): every start and reconnect, every poll that repaired."""
        return list(self._sync.reports)

    @property
    def blind(self) -> bool:
        return self._sight.blind

    # --- order entry -------------------------------------------------------------------

    def submit(self, order: Order, *, check: bool = True) -> Order:
        """Check and validate ``order``, book it NEW (``OrderSubmitted``) and send it; the venue's
        answer follows as events. A denial ends it DENIED, a malformed order REJECTED, at once."""
        require_new([order])
        if not self._admit([order], check):
            return order
        self._router.submit(order, self._request(order))
        return order

    def submit_oco(self, orders: Sequence[Order], *, check: bool = True) -> list[Order]:
        """Two exits as one OCO group at the venue: a take-profit limit and a stop (or
        stop-limit) of one symbol, side and quantity; when one fills the venue cancels the
        other. One order is a plain submit; any other shape is rejected, every leg."""
        orders = list(orders)
        if not orders:
            raise OrderError("submit_oco needs at least one order")
        if len(orders) == 1:
            return [self.submit(orders[0], check=check)]
        require_new(orders)
        group = orders[0].oco_group or f"OCO-{orders[0].order_id}"
        for order in orders:
            order.oco_group = group
        limits = [o for o in orders if o.order_type is OrderType.LIMIT]
        stops = [o for o in orders if o.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)]
        shape = len(orders) == 2 and len(limits) == 1 and len(stops) == 1
        same = len({(o.symbol, o.side, o.quantity) for o in orders}) == 1
        problem = (
            None
            if shape and same
            else (f"an OCO at {self.source} is one limit and one stop of the same symbol, side and quantity")
        )
        if not self._admit(orders, check, problem=problem):
            return orders
        parent, stop = limits[0], stops[0]
        self._mirror.set_parent(stop, parent)
        self._submit_exits(parent, "oco", parent, stop)
        return orders

    def submit_bracket(
        self, entry: Order, take_profit: Order, stop_loss: Order, *, check: bool = True
    ) -> list[Order]:
        """An entry with its take-profit (limit) and stop-loss (stop) as one venue bracket: the
        exits work once the entry fills, one-cancels-other. Only the entry is pre-trade
        checked (the exits reduce). Returns [entry, take_profit, stop_loss]."""
        legs = [take_profit, stop_loss]
        orders = [entry, *legs]
        require_new(orders)
        group = f"OCO-{entry.order_id}"
        for leg in legs:
            leg.parent_id = entry.order_id
            leg.oco_group = group
        problem = _bracket_problem(entry, take_profit, stop_loss)
        if not self._admit(orders, check, problem=problem, checked=(entry,)):
            return orders
        for leg in legs:
            self._mirror.set_parent(leg, entry)
        self._submit_exits(entry, "bracket", take_profit, stop_loss)
        return orders

    def _submit_exits(self, parent: Order, order_class: str, take_profit: Order, stop: Order) -> None:
        """Send ``parent`` as one venue order of ``order_class`` carrying the take-profit's limit
        and the stop's stop (and limit) prices."""
        request = replace(
            self._request(parent),
            order_class=order_class,
            take_profit=take_profit.price,
            stop_loss=stop.stop_price,
            stop_loss_limit=stop.price,
        )
        self._router.submit(parent, request)

    def _admit(
        self,
        orders: list[Order],
        check: bool,
        *,
        problem: str | None = None,
        checked: Sequence[Order] | None = None,
    ) -> bool:
        """Deny (pre-trade checks), reject (validation) or book NEW every order, all or
        nothing, as one step; True when booked."""
        now = self._clock.now()
        for order in orders:
            if order.created_at is None:
                order.created_at = now
        self._books.counts["submitted"] += len(orders)
        events: list[Event] = []
        books = self._books
        to_check = (orders if checked is None else checked) if check else ()
        for order in to_check:
            verdict, _ = pre_trade_verdict(self._checks, order)
            if verdict is not None:
                rule, reason = verdict
                for other in orders:
                    denial = reason if other is order else f"sibling {order.order_id} denied: {reason}"
                    books.deny(other, rule, denial, now, events)
                books.publish(events)
                return False
        for order in orders:
            why = problem or self._invalid(order)
            if why is not None:
                for other in orders:
                    books.reject(
                        other, why if other is order else f"sibling {order.order_id}: {why}", now, events
                    )
                books.publish(events)
                return False
        for order in orders:
            inst = books.instruments[order.symbol]
            if order.price is not None:
                order.price = inst.round_price(order.price)
            if order.stop_price is not None:
                order.stop_price = inst.round_price(order.stop_price)
            books.submitted(order, now, events)
        books.publish(events)
        return True

    def _invalid(self, order: Order) -> str | None:
        if self._books.orders.is_known(order.order_id):
            return f"duplicate order id {order.order_id!r}"
        position = self._books.ledger.positions.get(order.symbol)
        return acceptance_problem(order, self._books.instruments, position)

    def _request(self, order: Order) -> OrderRequest:
        return OrderRequest(
            client_id=self._mirror.client_id(order),
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            order_type=order.order_type,
            time_in_force=order.time_in_force,
            price=order.price,
            stop_price=order.stop_price,
        )

    # --- cancel / modify ---------------------------------------------------------------

    def cancel(self, order_id: str, reason: str = "") -> bool:
        """Ask the venue to cancel a working order; its ``OrderCancelled`` follows. False if
        the order has already ended; ``OrderError`` if the id is unknown."""
        order = self._books.orders.working(order_id)
        if order is None:
            if self._books.orders.is_known(order_id):
                return False
            raise OrderError(f"cannot cancel: unknown order id {order_id!r}")
        self._router.cancel(order, reason or "cancelled on request")
        return True

    def modify(
        self,
        order_id: str,
        *,
        quantity: float | None = None,
        price: float | None = None,
        stop_price: float | None = None,
    ) -> Order:
        """Ask the venue to replace a working order's quantity, limit or stop (checked here
        first); ``OrderModified`` follows when the venue has replaced it."""
        order = self._books.orders.working(order_id)
        if order is None:
            done = self._books.orders.get(order_id)
            if done is not None:
                raise OrderError(
                    f"cannot modify order {order_id}: it is {done.status.value}; only working orders change"
                )
            raise OrderError(f"cannot modify: unknown order id {order_id!r}")
        check_modify(order, order.quantity if quantity is None else quantity, price, stop_price)
        inst = self._books.instruments[order.symbol]
        self._router.replace(
            order,
            quantity=quantity,
            price=None if price is None else inst.round_price(price),
            stop_price=None if stop_price is None else inst.round_price(stop_price),
        )
        return order

    # --- exits (market, never pre-trade checked) ------------------------------------------

    def flatten_all(self, reason: str = "") -> list[Order]:
        """Cancel every working order and close every position, until the venue confirms
        flat (``Flattener``); returns the closing orders made for the positions held."""
        return self._flattener.request(None, reason or "flatten all")

    def close_position(self, symbol: str, reason: str = "") -> Order | None:
        """Cancel ``symbol``'s working orders and close its position, until the venue confirms."""
        if symbol not in self._books.instruments:
            raise UnknownInstrumentError(symbol)
        exits = self._flattener.request({symbol}, reason or f"close {symbol}")
        return next((o for o in exits if o.symbol == symbol), None)

    def reduce_position(self, symbol: str, quantity: float, reason: str = "") -> Order | None:
        if symbol not in self._books.instruments:
            raise UnknownInstrumentError(symbol)
        if not (isinstance(quantity, int | float) and quantity > 0):
            raise OrderError(f"reduce_position quantity must be a finite number > 0, got {quantity!r}")
        return self._close_exposure(symbol, quantity, reason or f"reduce {symbol}")

    def _close_exposure(self, symbol: str, quantity: float, reason: str) -> Order | None:
        pos = self._books.ledger.positions.get(symbol)
        if pos is None or pos.side is None:
            return None
        order = self._make_exit(symbol, pos.side.opposite, min(quantity, abs(pos.quantity)), reason)
        self._router.submit(order, self._request(order), urgent=True)
        return order

    def _make_exit(self, symbol: str, side: OrderSide, quantity: float, reason: str) -> Order:
        """A closing market order in the books (NEW, ``OrderSubmitted``), not sent yet."""
        pos = self._books.ledger.positions.get(symbol)
        owners = sorted(pos.strategies) if pos is not None else []
        order = Order(
            symbol=symbol,
            side=side,
            quantity=quantity,
            order_type=OrderType.MARKET,
            time_in_force=TimeInForce.DAY,
            role=OrderRole.EXIT,
            reduce_only=True,
            strategy=owners[0] if len(owners) == 1 else "manual",
            reason=reason,
        )
        now = self._clock.now()
        order.created_at = now
        self._books.counts["submitted"] += 1
        events: list[Event] = []
        self._books.submitted(order, now, events)
        self._books.publish(events)
        return order

    # --- marks from a data feed (optional: polling sets them from the venue's positions) ----

    def on_market_data(self, event: MarketDataUpdated) -> None:
        """A price from a data feed: the symbol's mark, then the event."""
        self._mark(event.symbol, event.price)
        self._bus.publish(event)

    def on_stale_marks(self, symbols: Sequence[str], reason: str) -> None:
        """A data feed says which held symbols' marks are stale now (empty: none is): the bus
        hears ``MarksStale`` when the set changes, ``MarksFresh`` when it empties."""
        stale = tuple(symbols)
        if stale == self._stale_marks:
            return
        self._stale_marks = stale
        now = self._clock.now()
        if stale:
            self._bus.publish(MarksStale(ts=now, broker=self.source, symbols=stale, reason=reason))
        else:
            self._bus.publish(MarksFresh(ts=now, broker=self.source))

    def _mark(self, symbol: str, price: float) -> None:
        self._marks[symbol] = price
        pos = self._books.ledger.positions.get(symbol)
        if pos is not None:
            pos.last_price = price

    # --- lifecycle ---------------------------------------------------------------------

    def open(self, view: JournalView | None) -> ReconciliationReport | None:
        """Build time (blocking): the books from the journal's ``view`` (none: a new journal,
        started from the venue's account), then the first reconciliation. Refused keys raise
        ``ConfigError``; a venue that cannot be reached leaves the journal's books and a
        reconciliation due as soon as it answers (the desk starts blind)."""
        fresh = view is None or view.account is None
        if view is not None and view.account is not None:
            self._books.restore_from_journal(view)
            for order in self._books.orders.open_orders():
                if order.order_id.startswith(FOREIGN_PREFIX):
                    self._mirror.bind(order, order.order_id[len(FOREIGN_PREFIX) :])
        report: ReconciliationReport | None = None
        try:
            report = self._sync.run_sync("start", fresh=fresh)
        except VenueError as exc:
            if exc.kind is VenueErrorKind.AUTH:
                raise ConfigError(f"{self.source} refused the API keys: {exc}") from None
            logger.error(
                "%s cannot be reached at start (%s): the journal's books stand until it answers",
                self.source,
                exc,
            )
            self._resync = "start"
        if fresh:
            problem = self._books.commit_books()
            if problem is not None:
                raise TradingError(f"the journal cannot start the {self.source} account's books: {problem}")
        logger.info("%s account: %s", self.source, self.account())
        return report

    async def start(self) -> None:
        """On the loop: queued requests go out, the stream connects, the watch loop runs."""
        if self._watch is not None:
            return
        loop = asyncio.get_running_loop()
        self._tasks.start(loop)
        self._stream_task = loop.create_task(
            self._stream.run(self.apply_update, self._on_connected), name=f"{self.source}-stream"
        )
        self._next_poll = loop.time() + self.settings.poll_interval
        self._watch = loop.create_task(self._watch_loop(), name=f"{self.source}-watch")

    async def stop(self) -> None:
        """Stream and polling stopped, requests still running cancelled, lanes closed."""
        tasks = [t for t in (self._watch, self._stream_task) if t is not None]
        for task in tasks:
            task.cancel()
        await _ended(tasks, self.source)
        self._watch = self._stream_task = None
        await self._tasks.stop()
        self.close()

    def close(self) -> None:
        """Close the request lanes (idempotent; ``stop`` does it too). For a desk whose build
        failed before the loop ran. A client or stream with a ``close`` of its own (an HTTP
        session, a thread) is closed too."""
        for lane in self._lanes.values():
            lane.close()
        for part in (self._client, self._stream):
            closer = getattr(part, "close", None)
            if callable(closer):
                closer()

    async def idle(self) -> None:
        """Wait until no request is running (tests, a clean stop)."""
        await self._tasks.idle()

    def apply_update(self, update: VenueUpdate) -> None:
        """One message of the venue's stream (the stream's callback): applied to the books,
        published. A message the books cannot take schedules a reconciliation instead."""
        self._updates += 1
        try:
            self._mirror.apply(update)
        except Exception:  # a message the books cannot take must not stop the stream: resync instead
            logger.exception("%s update could not be applied (%r); reconciling", self.source, update.event)
            self._resync = self._resync or "repair"

    def _on_connected(self, up: bool) -> None:
        if up:
            self._sight.stream_up()
            self._resync = "reconnect" if self._sight.reconnects > 1 else (self._resync or "start")
        else:
            self._sight.stream_down("stream connection lost")

    async def _watch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._sight.check()
            if self._books.retry_due():
                self._books.flush_journal()
            now = loop.time()
            trigger = self._resync or ("poll" if now >= self._next_poll else None)
            if trigger is not None:
                await self._reconcile(trigger, loop)
            await asyncio.sleep(_TICK)

    async def _reconcile(self, trigger: str, loop: asyncio.AbstractEventLoop) -> None:
        self._next_poll = loop.time() + self.settings.poll_interval
        try:
            await self._sync.run(trigger)
        except VenueError as exc:
            self._poll_failures += 1
            level = logging.WARNING if self._poll_failures == 1 else logging.DEBUG
            logger.log(level, "%s reconciliation (%s) failed: %s; retrying", self.source, trigger, exc)
            return
        self._poll_failures = 0
        if trigger == self._resync:
            self._resync = None
        if self._sight.connected:
            self._sight.sighted()

    # --- observability -----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Plain data for the dashboard: connection, blindness, the last reconciliation; and
        what a stream with a ``status()`` of its own adds (a market-data hub and its marks)."""
        sight = self._sight.status()
        report = self._sync.last_report
        own = getattr(self._stream, "status", None)
        return {
            **(own() if callable(own) else {}),
            "kind": self.source,
            "account": self.account_label,
            "connected": sight.connected,
            "blind": sight.blind,
            "down_since": None if sight.since is None else sight.since.isoformat(),
            "reason": "" if sight.connected else sight.reason,
            "reconciliation": None if report is None else report.summary(),
            "resync_due": self._resync is not None,
            "flattening": self._flattener.running,
        }

    def statistics(self) -> VenueStatistics:
        sight = self._sight
        mirror = self._mirror.stats
        lanes = [lane.statistics() for lane in self._lanes.values()]
        return VenueStatistics(
            source=self.source,
            connected=sight.connected,
            blind=sight.blind,
            reconnects=sight.reconnects,
            outages=sight.outages,
            reconciliations=self._sync.rounds,
            repairs=self._sync.repairs,
            updates=self._updates,
            duplicates=mirror.duplicates,
            fills=mirror.fills,
            missed_fills=mirror.missed_fills,
            foreign_orders=mirror.foreign,
            guard_cancels=self._guard.cancelled,
            flatten_jobs=self._flattener.jobs,
            flatten_attempts=self._flattener.attempts,
            requests=sum(s.calls for s in lanes),
            retries=sum(s.retries for s in lanes),
            journal_steps=self._books.journal_steps,
            journal_pending=self._books.journal_pending,
        )

    def __repr__(self) -> str:
        acct = self._books.ledger.account()
        return (
            f"VenueBroker({self.source}, {self._sight!r}, open_orders={len(self._books.orders)}, "
            f"positions={len(self.positions())}, cash={acct.cash})"
        )


def _bracket_problem(entry: Order, take_profit: Order, stop_loss: Order) -> str | None:
    if entry.order_type not in (OrderType.MARKET, OrderType.LIMIT):
        return "a bracket's entry is a market or limit order"
    if take_profit.order_type is not OrderType.LIMIT:
        return "a bracket's take-profit is a limit order"
    if stop_loss.order_type not in (OrderType.STOP, OrderType.STOP_LIMIT):
        return "a bracket's stop-loss is a stop or stop-limit order"
    for leg in (take_profit, stop_loss):
        if leg.symbol != entry.symbol or leg.side is entry.side or leg.quantity != entry.quantity:
            return "a bracket's exits close the entry: same symbol and quantity, the other side"
    return None


async def _ended(tasks: list[asyncio.Task[None]], source: str) -> None:
    """Wait for cancelled ``tasks`` to end, at most ``STOP_WAIT`` seconds: a stop must not hang
    on one that takes its time (an SDK's websocket close handshake waiting on a silent peer)."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=STOP_WAIT)
    for task in pending:
        logger.warning(
            "%s: %s did not end within %.0f s of its cancel; stopping without it",
            source,
            task.get_name(),
            STOP_WAIT,
        )
