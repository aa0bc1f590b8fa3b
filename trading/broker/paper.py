"""``PaperBroker``: a simulated venue that matches working orders against every price.

The broker holds the account's ``Books`` (trading/broker/books.py: an ``OrderBook`` of
working orders, their OCO groups and per-symbol matching books, and a ``Ledger`` of
positions, cash and P&L, with the journal they are committed to); a venue adapter holds
the same books. The paper broker does order entry, exits and matching itself.

Orders are matched on the *next* price after they are submitted (see ``_matching`` for the
fill prices). Within one step markets fill first, then triggered stops, then limits, each
in submission order; a fill cancels its OCO siblings in the same step, so when one bar
reaches both legs of a bracket the stop (worst case) wins. The events of a step are
published after the matching is done, then the ``MarketDataUpdated`` itself, so a
subscriber sees positions that already include the fills of that price and may submit
or cancel orders from its handler safely. Partial fills happen only when a reduce-only
order is larger than the position it reduces (the rest is cancelled); volume is not
modelled.

Every request is validated completely before anything changes; a refused request changes
nothing but the refused order's own status (DENIED or REJECTED) and publishes one event
that says why. Every change is applied first and its events collected; ``_publish`` then
sends them out (the one place events leave the broker).

With a journal (``BrokerJournal``), every step (one submit, one OCO submit with all its
legs, a cancel, a modify, an exit, a DAY expiry, one price's fills) is committed as one
``JournalStep`` before its events are published: the orders it changed, the fills, the
positions they moved and the account. When the journal cannot write, it holds the steps
in memory, in order, and the broker goes on trading: it publishes ``StorageDegraded`` once
when the first write fails and ``StorageRecovered`` once the held steps are written
(before the next step, on ``flush_journal``, or on a price at most every
``journal_retry_interval`` seconds). Without a journal the broker keeps its books in memory only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.broker._checks import acceptance_problem, check_modify, pre_trade_verdict, require_new
from trading.broker._matching import Reached, limit_fill_price, stop_fill_price
from trading.broker._state import STATE_VERSION, last_prices_from_dict
from trading.broker.base import AccountState, BrokerJournal, PreTradeCheck
from trading.broker.books import Books
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import BrokerStateError, OrderError, UnknownInstrumentError
from trading.model import (
    Event,
    Instrument,
    JournalView,
    MarketDataUpdated,
    Order,
    OrderFilled,
    OrderRole,
    OrderType,
    Position,
    TimeInForce,
    to_money,
)
from trading.model.orders import finite_positive

__all__ = ["BrokerStatistics", "PaperBroker"]

logger = logging.getLogger(__name__)

_EPS = 1e-9
_INF = math.inf


@dataclass(frozen=True, slots=True)
class BrokerStatistics:
    ticks: int
    bad_ticks: int
    submitted: int
    accepted: int
    denied: int
    rejected: int
    fills: int
    cancelled: int
    expired: int
    modified: int
    check_errors: int
    open_orders: int
    open_positions: int
    journal_steps: int  # steps given to the journal
    journal_pending: int  # steps the journal holds, not yet written


class PaperBroker:
    """A paper account over ``instruments``; implements the ``Broker`` protocol.

    ``buying_power`` is ``equity * buying_power_multiple`` minus the gross exposure of the
    open positions at their last prices, floored at zero. ``starting_balance`` is money
    (converted exactly, see ``to_money``); ``journal`` makes every step durable before it
    is published.
    """

    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        instruments: Iterable[Instrument],
        *,
        starting_balance: float | Decimal | int | str = 100_000.0,
        slippage_ticks: int = 0,
        buying_power_multiple: float = 4.0,
        keep_closed_orders: int = 10_000,
        journal: BrokerJournal | None = None,
        journal_retry_interval: float = 1.0,
    ) -> None:
        instruments = tuple(instruments)
        if not instruments:
            raise ValueError("PaperBroker needs at least one instrument")
        try:
            balance = to_money(starting_balance)
        except (TypeError, ValueError):
            balance = Decimal(0)
        if not balance > 0:
            raise ValueError(f"starting_balance must be a finite number > 0, got {starting_balance!r}")
        if not (math.isfinite(journal_retry_interval) and journal_retry_interval > 0):
            raise ValueError(f"journal_retry_interval must be > 0 seconds, got {journal_retry_interval!r}")
        if isinstance(slippage_ticks, bool) or not isinstance(slippage_ticks, int) or slippage_ticks < 0:
            raise ValueError(f"slippage_ticks must be an int >= 0, got {slippage_ticks!r}")
        if not (math.isfinite(buying_power_multiple) and buying_power_multiple > 0):
            raise ValueError(f"buying_power_multiple must be > 0, got {buying_power_multiple!r}")
        by_symbol: dict[str, Instrument] = {}
        for inst in instruments:
            if inst.symbol in by_symbol:
                raise ValueError(f"instrument {inst.symbol!r} is given twice")
            by_symbol[inst.symbol] = inst
        self._bus = bus
        self._clock = clock
        self._instruments = by_symbol
        self._slippage_ticks = slippage_ticks
        self._books = Books(
            bus,
            clock,
            by_symbol,
            starting_balance=balance,
            buying_power_multiple=buying_power_multiple,
            keep_closed_orders=keep_closed_orders,
            journal=journal,
            journal_retry_interval=journal_retry_interval,
        )
        self._orders = self._books.orders
        self._ledger = self._books.ledger
        self._checks: list[PreTradeCheck] = []
        self._last: dict[str, float] = {}
        self._unknown_symbols: set[str] = set()
        self._ticks = 0
        self._bad_ticks = 0
        self._check_errors = 0

    # --- queries -------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise UnknownInstrumentError(symbol) from None

    def get_order(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self._orders.open_orders(symbol)

    def positions(self) -> dict[str, Position]:
        return self._ledger.open_positions()

    def account(self) -> AccountState:
        return self._ledger.account()

    def last_price(self, symbol: str) -> float | None:
        return self._last.get(symbol)

    def add_pre_trade_check(self, check: PreTradeCheck) -> None:
        if not callable(check):
            raise TypeError(f"a pre-trade check must be callable, got {check!r}")
        self._checks.append(check)

    # --- submit --------------------------------------------------------------------

    def submit(self, order: Order, *, check: bool = True) -> Order:
        """Check, validate and accept ``order``; it rests until the next price. Returns ``order``.

        A denial ends it DENIED (``OrderDenied``), a malformed order REJECTED (``OrderRejected``).
        ``OrderError`` only for an order that is not NEW (a programming error).
        """
        require_new([order])
        now = self._stamp([order])
        events: list[Event] = []
        verdict = self._run_checks(order) if check else None
        if verdict is not None:
            self._deny(order, verdict[0], verdict[1], now, events)
        else:
            reason = self._invalid(order)
            if reason is not None:
                self._reject(order, reason, now, events)
            else:
                self._accept(order, now, events)
        self._publish(events)
        return order

    def submit_oco(self, orders: Sequence[Order], *, check: bool = True) -> list[Order]:
        """Submit ``orders`` as one OCO group, all or nothing: if one leg is denied or
        rejected, every leg is, with a reason naming the leg that failed.

        Every leg is decided first; the legs are one step (one journal commit), and their
        events are then published leg by leg, in submission order.
        """
        orders = list(orders)
        if not orders:
            raise OrderError("submit_oco needs at least one order")
        require_new(orders)
        now = self._stamp(orders)
        group = orders[0].oco_group or f"OCO-{orders[0].order_id}"
        for order in orders:
            order.oco_group = group
        events: list[Event] = []
        if check:
            for order in orders:
                verdict = self._run_checks(order)
                if verdict is not None:
                    rule, reason = verdict
                    for other in orders:
                        why = reason if other is order else f"OCO sibling {order.order_id} denied: {reason}"
                        self._deny(other, rule, why, now, events)
                    self._publish(events)
                    return orders
        symbols = sorted({o.symbol for o in orders})
        for order in orders:
            problem = self._invalid(order)
            if problem is None and order is orders[-1] and len(symbols) > 1:
                order, problem = orders[0], f"OCO legs must share one symbol, got {symbols}"
            if problem is not None:
                for other in orders:
                    why = problem if other is order else f"OCO sibling {order.order_id} rejected: {problem}"
                    self._reject(other, why, now, events)
                self._publish(events)
                return orders
        for order in orders:
            self._accept(order, now, events)
        self._publish(events)
        return orders

    def _stamp(self, orders: Sequence[Order]) -> datetime:
        now = self._clock.now()
        for order in orders:
            if order.created_at is None:
                order.created_at = now
        self._books.counts["submitted"] += len(orders)
        return now

    def _run_checks(self, order: Order) -> tuple[str, str] | None:
        verdict, failed = pre_trade_verdict(self._checks, order)
        self._check_errors += failed
        return verdict

    def _invalid(self, order: Order) -> str | None:
        """Why ``order`` cannot be accepted, or None."""
        if self._orders.is_known(order.order_id):
            return f"duplicate order id {order.order_id!r}"
        return acceptance_problem(order, self._instruments, self._ledger.positions.get(order.symbol))

    def _accept(self, order: Order, now: datetime, events: list[Event]) -> None:
        self._books.accept(order, now, events)

    def _deny(self, order: Order, rule: str, reason: str, now: datetime, events: list[Event]) -> None:
        self._books.deny(order, rule, reason, now, events)

    def _reject(self, order: Order, reason: str, now: datetime, events: list[Event]) -> None:
        self._books.reject(order, reason, now, events)

    # --- cancel / modify -----------------------------------------------------------

    def cancel(self, order_id: str, reason: str = "") -> bool:
        """Cancel a working order. False if it is already done; ``OrderError`` if the id is unknown."""
        order = self._orders.working(order_id)
        if order is None:
            if self._orders.is_known(order_id):
                return False
            raise OrderError(f"cannot cancel: unknown order id {order_id!r}")
        events: list[Event] = []
        self._cancel(order, reason, self._clock.now(), events)
        self._publish(events)
        return True

    def _cancel(self, order: Order, reason: str, now: datetime, events: list[Event]) -> None:
        self._books.cancel(order, reason, now, events)

    def modify(
        self,
        order_id: str,
        *,
        quantity: float | None = None,
        price: float | None = None,
        stop_price: float | None = None,
    ) -> Order:
        """Change a working order's quantity, limit or stop; all checked before any is applied."""
        order = self._orders.working(order_id)
        if order is None:
            done = self._orders.get(order_id)
            if done is not None:
                raise OrderError(
                    f"cannot modify order {order_id}: it is {done.status.value}; only working orders change"
                )
            raise OrderError(f"cannot modify: unknown order id {order_id!r}")
        new_qty = order.quantity if quantity is None else quantity
        check_modify(order, new_qty, price, stop_price)
        inst = self._instruments[order.symbol]
        now = self._clock.now()
        order.quantity = new_qty
        if price is not None:
            order.price = inst.round_price(price)
        if stop_price is not None:
            order.stop_price = inst.round_price(stop_price)
        events: list[Event] = []
        self._books.modified(order, now, events)
        self._publish(events)
        return order

    # --- exits (market, reduce-only, never pre-trade checked) ---------------------
    # Reducing exposure is always allowed, even in a HALTED account.

    def flatten_all(self, reason: str = "") -> list[Order]:
        """Cancel every working order, then close every position at market."""
        reason = reason or "flatten all"
        self._cancel_all(self._orders.open_orders(), reason)
        return [self._exit(s, abs(p.quantity), reason) for s, p in self._ledger.open_positions().items()]

    def close_position(self, symbol: str, reason: str = "") -> Order | None:
        """Cancel ``symbol``'s working orders and close its position at market (None if flat)."""
        if symbol not in self._instruments:
            raise UnknownInstrumentError(symbol)
        reason = reason or f"close {symbol}"
        self._cancel_all(self._orders.open_orders(symbol), reason)
        pos = self._ledger.positions.get(symbol)
        if pos is None or pos.is_flat:
            return None
        return self._exit(symbol, abs(pos.quantity), reason)

    def _cancel_all(self, orders: list[Order], reason: str) -> None:
        now = self._clock.now()
        events: list[Event] = []
        for order in orders:
            self._cancel(order, reason, now, events)
        self._publish(events)

    def reduce_position(self, symbol: str, quantity: float, reason: str = "") -> Order | None:
        """Reduce the absolute position by ``quantity`` (at most all of it) at market; None if flat."""
        if symbol not in self._instruments:
            raise UnknownInstrumentError(symbol)
        if not finite_positive(quantity):
            raise OrderError(f"reduce_position quantity must be a finite number > 0, got {quantity!r}")
        pos = self._ledger.positions.get(symbol)
        if pos is None or pos.is_flat:
            return None
        return self._exit(symbol, min(quantity, abs(pos.quantity)), reason or f"reduce {symbol}")

    def _exit(self, symbol: str, quantity: float, reason: str) -> Order:
        pos = self._ledger.positions[symbol]
        side = pos.side
        assert side is not None
        owners = sorted(pos.strategies)
        order = Order(
            symbol=symbol,
            side=side.opposite,
            quantity=quantity,
            order_type=OrderType.MARKET,
            role=OrderRole.EXIT,
            reduce_only=True,
            strategy=owners[0] if len(owners) == 1 else "manual",
            reason=reason,
        )
        return self.submit(order, check=False)

    def expire_day_orders(self) -> list[Order]:
        """End every working DAY order EXPIRED (call at the session end)."""
        now = self._clock.now()
        expired = [o for o in self._orders.open_orders() if o.time_in_force is TimeInForce.DAY]
        events: list[Event] = []
        for order in expired:
            self._books.expire(order, now, events)
        self._publish(events)
        return expired

    # --- market data ---------------------------------------------------------------

    def on_market_data(self, event: MarketDataUpdated) -> None:
        """Match working orders against ``event``, publish the resulting events, then ``event``."""
        symbol = event.symbol
        book = self._orders.book(symbol)
        price = event.price
        if book is None or not 0.0 < price < _INF:
            self._skip_tick(event, book is None)
            return
        self._ticks += 1
        if self._books.retry_due():
            self.flush_journal()
        self._last[symbol] = price
        pos = self._ledger.positions.get(symbol)
        if pos is not None:
            pos.last_price = price
        low = price if event.low is None else event.low
        high = price if event.high is None else event.high
        reached = book.collect(low, high)
        if reached is not None:
            events = self._match(event, low, high, reached)  # applied to the orders and the ledger
            self._publish(events)
        self._bus.publish(event)

    def _skip_tick(self, event: MarketDataUpdated, unknown: bool) -> None:
        if unknown:
            if event.symbol not in self._unknown_symbols:
                self._unknown_symbols.add(event.symbol)
                logger.warning(
                    "market data for %r, which is not an instrument of this broker: not matched", event.symbol
                )
            self._bus.publish(event)
            return
        self._bad_ticks += 1
        logger.warning("dropped market data with an invalid price: %r", event)

    def _match(self, tick: MarketDataUpdated, low: float, high: float, reached: Reached) -> list[Event]:
        """Fill the orders ``tick`` reached; return the step's events, all of them already applied."""
        markets, stops, limits, fresh = reached
        inst = self._instruments[tick.symbol]
        slip = self._slippage_ticks * inst.tick_size
        now = self._clock.now()
        events: list[Event] = []
        start = tick.price if tick.open is None else tick.open
        for order in markets:
            if order.is_open:
                self._apply_fill(order, start + order.side.sign * slip, inst, now, events)
        for order in stops:
            if order.is_open:
                price = stop_fill_price(order, tick, low, high) + order.side.sign * slip
                self._apply_fill(order, price, inst, now, events)
        for order in limits:
            if order.is_open:
                just = order.order_id in fresh
                price = limit_fill_price(order, tick, low, high, just_triggered=just)
                self._apply_fill(order, price, inst, now, events)
        if any(type(e) is OrderFilled for e in events):
            events.append(self._ledger.account_updated(now))
        return events

    def _apply_fill(
        self, order: Order, price: float, inst: Instrument, now: datetime, events: list[Event]
    ) -> None:
        """The one place a fill is applied: to the ledger, to the order, to its OCO siblings.

        Appends the fill's events (``OrderFilled``, the position events, the cancels it causes)
        to ``events``; nothing is published here.
        """
        price = max(inst.round_price(price), inst.tick_size)
        qty = order.remaining
        if order.reduce_only:
            pos = self._ledger.positions.get(order.symbol)
            reducible = abs(pos.quantity) if pos is not None and pos.side is order.side.opposite else 0.0
            if reducible <= _EPS:
                self._cancel(
                    order, "reduce-only order: the position is already flat or on the same side", now, events
                )
                return
            qty = min(qty, reducible)
        complete = self._books.fill(order, qty, price, now, events)
        if not complete:
            self._cancel(
                order, "reduce-only order clipped to the position; the rest is cancelled", now, events
            )
        for sibling in self._orders.oco_siblings(order):
            self._cancel(sibling, f"OCO sibling {order.order_id} filled", now, events)

    def _publish(self, events: list[Event]) -> None:
        """Send out events whose changes are already applied to the orders and the ledger.

        Every event the broker emits about its orders and account leaves through here, after the
        change it reports is complete (a step's fills, their position events and the cancels they
        cause arrive in one call). With a journal, the books commit the step before anyone hears
        of it. ``events`` is cleared, so a caller may reuse the list.
        """
        self._books.publish(events)

    # --- journal -------------------------------------------------------------------

    @property
    def storage_problem(self) -> str | None:
        """Why the journal holds unwritten steps (None: every step is written, or no journal)."""
        return self._books.storage_problem

    def flush_journal(self) -> bool:
        """Write the steps the journal holds; True when none is left (or there is no journal).
        Publishes ``StorageRecovered`` when this ends an outage. A desk calls it on a timer;
        the broker also tries on a price at most every ``journal_retry_interval`` seconds."""
        return self._books.flush_journal()

    def commit_books(self) -> str | None:
        """Commit the whole account as one journal step: the account row, every position the
        books keep and every working order. This starts a journal (a fresh account, or one
        imported from a v1 saved state). Returns the journal's problem (None: written)."""
        return self._books.commit_books()

    def restore_from_journal(self, view: JournalView) -> None:
        """Replace the books with the journal's: the account totals, the positions (exact
        money) and the working orders; all or nothing (``BrokerStateError`` names what cannot
        be restored). Only orders the journal holds as open come back working: an order
        that filled, was cancelled or expired never works again. The positions' last prices
        become the broker's. No events are published."""
        self._books.restore_from_journal(view)
        positions = self._ledger.positions
        self._last = {s: p.last_price for s, p in positions.items() if p.last_price is not None}
        account = self._ledger.account()
        logger.info(
            "paper account restored from the journal: cash %s, %d open positions, %d working orders",
            account.cash,
            len(self.positions()),
            len(self._orders),
        )

    def last_prices(self) -> dict[str, float]:
        """The last price of every symbol that has had one."""
        return dict(self._last)

    def restore_last_prices(self, prices: Any) -> None:
        """Take back saved last prices (symbol -> price), e.g. what a desk published: they
        become the broker's and the marks of its positions. ``BrokerStateError`` for a bad map."""
        last = last_prices_from_dict(prices, self._instruments)
        self._last.update(last)
        for symbol, price in last.items():
            pos = self._ledger.positions.get(symbol)
            if pos is not None:
                pos.last_price = price

    # --- persistence (the v1 saved state) ------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """The account as JSON-able data: cash, P&L, commissions, positions, open orders, last prices."""
        state = {"version": STATE_VERSION, **self._ledger.export()}
        state["open_orders"] = self._orders.export()
        state["last_prices"] = dict(self._last)
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        """Replace the account with ``state`` (from ``export_state``); all or nothing.

        No events are published: subscribers read ``positions()``/``open_orders()`` after a restore.
        """
        if not isinstance(state, dict):
            raise BrokerStateError(f"state must be an object, got {type(state).__name__}")
        if state.get("version") != STATE_VERSION:
            raise BrokerStateError(
                f"state.version is {state.get('version')!r}; this broker reads {STATE_VERSION}"
            )
        starting, realized, commissions, positions = self._ledger.read(state)
        orders = self._orders.read(state.get("open_orders", []))
        last = last_prices_from_dict(state.get("last_prices", {}), self._instruments)
        self._ledger.replace(starting, realized, commissions, positions)
        self._orders.replace(orders)
        self._last = last
        logger.info(
            "restored paper account: %d positions, %d open orders", len(self.positions()), len(orders)
        )

    # --- observability -------------------------------------------------------------

    def statistics(self) -> BrokerStatistics:
        return BrokerStatistics(
            ticks=self._ticks,
            bad_ticks=self._bad_ticks,
            check_errors=self._check_errors,
            open_orders=len(self._orders),
            open_positions=len(self._ledger.open_positions()),
            journal_steps=self._books.journal_steps,
            journal_pending=self._books.journal_pending,
            **self._books.counts,
        )

    def __repr__(self) -> str:
        acct = self._ledger.account()
        return (
            f"PaperBroker(instruments={len(self._instruments)}, open_orders={len(self._orders)}, "
            f"positions={len(self.positions())}, equity={acct.equity:.2f}, ticks={self._ticks})"
        )
