"""``Books``: one account's books (orders, positions, money) and the journal they are committed to.

Every broker holds one: the ``PaperBroker``, which matches its orders itself, and a venue
adapter (``VenueBroker``), which mirrors what its venue reports. ``Books`` holds two parts
that own their state, an ``OrderBook`` (working orders, OCO groups, recent closed orders)
and a ``Ledger`` (positions, cash, exact P&L), and makes *steps*: each change (an order
submitted, accepted, denied, rejected, filled, cancelled, expired or modified; a position
or the balance set from a venue's view) is applied at once and its events collected in a
list the caller passes along; ``publish`` then commits the step to the journal as one
``JournalStep`` (the orders it changed, the fills, the positions they moved, the account)
and only then hands the events to the bus. That is the one place a broker's events leave.

When the journal cannot write, it holds the steps in memory, in order, and the books go
on: ``StorageDegraded`` is published once when the first write fails and
``StorageRecovered`` once the held steps are written (before the next step, or on
``flush_journal``). Without a journal the books live in memory only.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from trading.broker._ledger import Ledger
from trading.broker._order_book import OrderBook
from trading.broker.base import BrokerJournal
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import BrokerStateError, UnknownInstrumentError
from trading.model import (
    Event,
    FillRecord,
    Instrument,
    JournalStep,
    JournalView,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderIdFactory,
    OrderModified,
    OrderRejected,
    OrderStatus,
    OrderSubmitted,
    Position,
    StorageDegraded,
    StorageRecovered,
)

__all__ = ["COUNTERS", "Books"]

logger = logging.getLogger(__name__)

_EPS = 1e-9
COUNTERS = ("submitted", "accepted", "denied", "rejected", "cancelled", "expired", "modified", "fills")


class Books:
    """The books of one account over ``instruments``.

    ``default_instrument`` (a venue's) makes an instrument for a symbol first seen in the
    account (an order placed by hand in the venue's own screen); without it an unknown
    symbol is refused (``UnknownInstrumentError``), as the paper broker trades only its own.
    """

    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        *,
        starting_balance: Decimal,
        buying_power_multiple: float,
        keep_closed_orders: int,
        journal: BrokerJournal | None,
        journal_retry_interval: float,
        default_instrument: Callable[[str], Instrument] | None = None,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self.instruments: dict[str, Instrument] = dict(instruments)
        self._default_instrument = default_instrument
        self.orders = OrderBook(self.instruments, keep_closed=keep_closed_orders)
        self.ledger = Ledger(
            self.instruments, starting_balance=starting_balance, buying_power_multiple=buying_power_multiple
        )
        self._fill_ids = OrderIdFactory("F")
        self.counts = dict.fromkeys(COUNTERS, 0)
        # The step being made: what changed since the last publish (for the journal).
        self._journal = journal
        self._step_orders: dict[str, Order] = {}
        self._step_fills: list[FillRecord] = []
        self._step_symbols: dict[str, None] = {}
        self._step_account = False
        self.journal_steps = 0
        self._degraded: str | None = None  # why the journal holds steps (None: all written)
        self._outage_step = 0  # the number of the first step an outage held
        self._retry_interval = journal_retry_interval
        self._next_retry = 0.0

    # --- instruments -----------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        """The instrument for ``symbol``; a venue's books make one for a symbol first seen."""
        inst = self.instruments.get(symbol)
        if inst is not None:
            return inst
        if self._default_instrument is None:
            raise UnknownInstrumentError(symbol)
        inst = self._default_instrument(symbol)
        self.add_instrument(inst)
        logger.warning("instrument %s first seen in the account: booked as %r", symbol, inst)
        return inst

    def add_instrument(self, inst: Instrument) -> None:
        """Trade ``inst`` from now on (its orders, its position, its commission)."""
        if inst.symbol in self.instruments:
            raise ValueError(f"instrument {inst.symbol!r} is already in the books")
        self.instruments[inst.symbol] = inst
        self.orders.add_symbol(inst.symbol)
        self.ledger.add_instrument(inst)

    # --- order changes (applied at once, events appended to ``events``) ---------------

    def touch(self, order: Order) -> None:
        """``order`` changed in this step (the journal writes its new state)."""
        self._step_orders[order.order_id] = order

    def submitted(self, order: Order, now: datetime, events: list[Event]) -> None:
        """Hold ``order`` as working in its current (open) status: ``OrderSubmitted``."""
        self.orders.add(order)
        self.touch(order)
        events.append(
            OrderSubmitted(
                ts=now,
                order_id=order.order_id,
                symbol=order.symbol,
                strategy=order.strategy,
                side=order.side,
                quantity=order.quantity,
                order_type=order.order_type,
                price=order.price,
                stop_price=order.stop_price,
                role=order.role,
                reduce_only=order.reduce_only,
            )
        )

    def accepted(self, order: Order, now: datetime, events: list[Event]) -> None:
        """A submitted (NEW) order is now ACCEPTED: ``OrderAccepted``."""
        order.transition(OrderStatus.ACCEPTED, now)
        self.touch(order)
        self.counts["accepted"] += 1
        events.append(
            OrderAccepted(ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy)
        )

    def accept(self, order: Order, now: datetime, events: list[Event]) -> None:
        """Hold a NEW order working and ACCEPTED at once (the paper broker's acceptance):
        ``OrderSubmitted`` then ``OrderAccepted``; prices rounded to the tick first."""
        inst = self.instruments[order.symbol]
        if order.price is not None:
            order.price = inst.round_price(order.price)
        if order.stop_price is not None:
            order.stop_price = inst.round_price(order.stop_price)
        order.transition(OrderStatus.ACCEPTED, now)
        self.counts["accepted"] += 1
        self.submitted(order, now, events)
        events.append(
            OrderAccepted(ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy)
        )

    def deny(self, order: Order, rule: str, reason: str, now: datetime, events: list[Event]) -> None:
        order.transition(OrderStatus.DENIED, now)
        order.reason = reason
        self.touch(order)
        self.counts["denied"] += 1
        logger.info("order %s denied by %s: %s", order.order_id, rule, reason)
        events.append(
            OrderDenied(
                ts=now,
                order_id=order.order_id,
                symbol=order.symbol,
                strategy=order.strategy,
                reason=reason,
                rule=rule,
            )
        )

    def reject(self, order: Order, reason: str, now: datetime, events: list[Event]) -> None:
        """The venue (or the broker's own validation) refused ``order``: REJECTED."""
        order.transition(OrderStatus.REJECTED, now)
        order.reason = reason
        if self.orders.working(order.order_id) is not None:
            self.orders.retire(order)
        self.touch(order)
        self.counts["rejected"] += 1
        logger.warning("order %s rejected: %s", order.order_id, reason)
        events.append(
            OrderRejected(
                ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy, reason=reason
            )
        )

    def cancel(self, order: Order, reason: str, now: datetime, events: list[Event]) -> None:
        order.transition(OrderStatus.CANCELLED, now)
        order.reason = reason
        self.orders.retire(order)
        self.touch(order)
        self.counts["cancelled"] += 1
        events.append(
            OrderCancelled(
                ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy, reason=reason
            )
        )

    def expire(self, order: Order, now: datetime, events: list[Event]) -> None:
        order.transition(OrderStatus.EXPIRED, now)
        self.orders.retire(order)
        self.touch(order)
        self.counts["expired"] += 1
        events.append(
            OrderExpired(ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy)
        )

    def modified(self, order: Order, now: datetime, events: list[Event]) -> None:
        """``order``'s quantity, price or stop were changed by the caller: ``OrderModified``."""
        order.updated_at = now
        self.orders.reindex(order)
        self.touch(order)
        self.counts["modified"] += 1
        events.append(
            OrderModified(
                ts=now,
                order_id=order.order_id,
                symbol=order.symbol,
                strategy=order.strategy,
                quantity=order.quantity,
                price=order.price,
                stop_price=order.stop_price,
            )
        )

    def fill(
        self,
        order: Order,
        quantity: float,
        price: float,
        now: datetime,
        events: list[Event],
        *,
        fill_id: str | None = None,
    ) -> bool:
        """The one place a fill is booked: to the ledger (exact P&L and commission), to the
        order (FILLED or PARTIALLY_FILLED; a filled order leaves the working set) and to the
        journal. Appends ``OrderFilled`` and the position events; True when the order is
        complete. ``fill_id``: the venue's execution id (default: a new id of our own)."""
        realized, commission, position_events = self.ledger.apply_fill(
            order.symbol, order.side, quantity, price, strategy=order.strategy, now=now
        )
        filled_before = order.filled_quantity
        order.filled_quantity = filled_before + quantity
        order.avg_fill_price = (
            (order.avg_fill_price or 0.0) * filled_before + price * quantity
        ) / order.filled_quantity
        complete = order.remaining <= _EPS
        order.transition(OrderStatus.FILLED if complete else OrderStatus.PARTIALLY_FILLED, now)
        self.counts["fills"] += 1
        fill_id = fill_id or self._fill_ids()
        self.ledger.last_fill_id = fill_id
        self.touch(order)
        self._step_symbols[order.symbol] = None
        events.append(
            OrderFilled(
                ts=now,
                order_id=order.order_id,
                symbol=order.symbol,
                strategy=order.strategy,
                side=order.side,
                quantity=quantity,
                price=price,
                commission=commission,
                filled_quantity=order.filled_quantity,
                order_quantity=order.quantity,
                role=order.role,
                fill_id=fill_id,
                transaction_id=order.transaction_id,
            )
        )
        if self._journal is not None:
            self._step_fills.append(
                FillRecord(
                    fill_id=fill_id,
                    order_id=order.order_id,
                    symbol=order.symbol,
                    side=order.side,
                    quantity=quantity,
                    price=price,
                    commission=commission,
                    realized_pnl=realized,
                    position_quantity=self.ledger.positions[order.symbol].quantity,
                    role=order.role,
                    strategy=order.strategy,
                    transaction_id=order.transaction_id,
                    ts=now,
                )
            )
        events.extend(position_events)
        logger.debug("filled %r at %s (realized %s)", order, price, realized)
        if complete:
            self.orders.retire(order)
        return complete

    # --- a venue's view taken as the truth ---------------------------------------------

    def set_position(
        self,
        symbol: str,
        quantity: float,
        avg_price: float,
        cost_basis: Decimal,
        now: datetime,
        events: list[Event],
        *,
        strategy: str = "manual",
    ) -> bool:
        """Make ``symbol``'s position the venue's (no fill: no realized P&L, no commission);
        appends its position event. False when it already was."""
        self.instrument(symbol)
        event = self.ledger.set_position(symbol, quantity, avg_price, cost_basis, now, strategy=strategy)
        if event is None:
            return False
        self._step_symbols[symbol] = None
        events.append(event)
        return True

    def adjust_balance(self, delta: Decimal, now: datetime, events: list[Event]) -> None:
        """Move the starting balance by ``delta`` (a deposit, a withdrawal, a fee the venue
        charged outside any fill): cash follows, realized P&L does not."""
        self.ledger.starting_balance += delta
        self._step_account = True
        events.append(self.ledger.account_updated(now))

    # --- publishing ----------------------------------------------------------------------

    def publish(self, events: list[Event]) -> None:
        """Commit the step, then send out its events, whose changes are all applied.

        ``events`` is cleared, so a caller may reuse the list."""
        if self._step_orders or self._step_symbols or self._step_account:
            self._end_step(events, with_account=bool(self._step_fills) or self._step_account)
        publish = self._bus.publish
        for event in events:
            publish(event)
        events.clear()

    def _end_step(self, events: list[Event], *, with_account: bool) -> None:
        """Close the step being made: commit it to the journal (if any) and forget it. A change
        in the journal's health puts ``StorageDegraded``/``StorageRecovered`` first in ``events``."""
        journal = self._journal
        if journal is None:
            self._forget_step()
            return
        now = self._clock.now()
        ledger = self.ledger
        step = JournalStep(
            ts=now,
            orders=tuple(copy.copy(o) for o in self._step_orders.values()),
            fills=tuple(self._step_fills),
            positions=tuple(ledger.position_record(s) for s in self._step_symbols),
            account=ledger.account_record(now) if with_account else None,
        )
        self._forget_step()
        self.journal_steps += 1
        self._note_journal(journal.commit(step), now, events)

    def _forget_step(self) -> None:
        self._step_orders.clear()
        self._step_fills.clear()
        self._step_symbols.clear()
        self._step_account = False

    def _note_journal(self, problem: str | None, now: datetime, events: list[Event]) -> None:
        if problem is not None:
            self._next_retry = time.monotonic() + self._retry_interval
            if self._degraded is None:
                self._degraded = problem
                self._outage_step = self.journal_steps
                events.insert(0, StorageDegraded(ts=now, reason=problem))
        elif self._degraded is not None:
            self._degraded = None
            written = self.journal_steps - self._outage_step + 1
            events.insert(0, StorageRecovered(ts=now, steps_written=written))

    # --- the journal ---------------------------------------------------------------------

    @property
    def storage_problem(self) -> str | None:
        """Why the journal holds unwritten steps (None: every step is written, or no journal)."""
        return self._degraded

    @property
    def journal_pending(self) -> int:
        return 0 if self._journal is None else self._journal.pending

    def retry_due(self) -> bool:
        """The journal holds steps and the retry interval has passed."""
        return self._degraded is not None and time.monotonic() >= self._next_retry

    def flush_journal(self) -> bool:
        """Write the steps the journal holds; True when none is left (or there is no journal).
        Publishes ``StorageRecovered`` when this ends an outage."""
        journal = self._journal
        if journal is None or (self._degraded is None and not journal.pending):
            return True
        events: list[Event] = []
        self._note_journal(journal.flush(), self._clock.now(), events)
        self.publish(events)
        return self._degraded is None

    def commit_books(self) -> str | None:
        """Commit the whole account as one journal step: the account row, every position the
        books keep and every working order. This starts a journal. Returns the journal's
        problem (None: written)."""
        if self._journal is None:
            raise BrokerStateError("commit_books needs a broker with a journal")
        for order in self.orders.open_orders():
            self.touch(order)
        for symbol in self.ledger.kept_symbols():
            self._step_symbols[symbol] = None
        self._step_account = True
        self.publish([])
        return self._degraded

    def restore_from_journal(self, view: JournalView) -> None:
        """Replace the books with the journal's: the account totals, the positions (exact
        money) and the working orders; all or nothing (``BrokerStateError`` names what cannot
        be restored). Only orders the journal holds as open come back working. No events."""
        account = view.account
        if account is None:
            raise BrokerStateError("the journal has no account row: there are no books to restore")
        if not account.starting_balance > 0:
            raise BrokerStateError(
                f"journal account: starting_balance must be > 0, got {account.starting_balance}"
            )
        if self._default_instrument is not None:
            for symbol in [r.symbol for r in view.positions] + [o.symbol for o in view.working_orders]:
                self.instrument(symbol)
        positions: dict[str, Position] = {}
        for record in view.positions:
            if record.symbol in positions:
                raise BrokerStateError(f"journal position {record.symbol!r} appears twice")
            positions[record.symbol] = self.ledger.position_from_record(record)
        orders = self.orders.check_working(view.working_orders, "journal")
        self.ledger.replace(
            account.starting_balance,
            account.realized_pnl,
            account.commissions,
            positions,
            account.last_fill_id,
        )
        self.orders.replace(orders)

    def __repr__(self) -> str:
        return (
            f"Books(instruments={len(self.instruments)}, {self.orders!r}, "
            f"positions={len(self.ledger.open_positions())}, steps={self.journal_steps}, "
            f"degraded={self._degraded is not None})"
        )
