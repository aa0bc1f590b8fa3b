"""``TradeEventHandler``: what broker events do to the transactions of a ``TransactionBook``.

- entry filled (completely) -> OPENED, the stored TP and SL go out as one OCO pair;
- entry denied / rejected / cancelled / expired without a fill -> CANCELLED with the reason;
- a TP, SL or EXIT fill that exits the whole quantity -> CLOSED with exit price and P&L;
- a protective leg cancelled by someone else (a risk flatten) -> the leg is forgotten, and
  the ``PositionClosed`` that follows closes the transaction at the closing price.

It also owns the protective legs (submit, cancel, resize, replace), which the
``TradeManager`` asks for when a transaction changes on request. Broker calls are made
outside the book's lock where the flow allows, so a broker that publishes from another
thread cannot deadlock with us.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.clock import Clock
from trading.model import (
    Event,
    Order,
    OrderCancelled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderRole,
    OrderType,
    PositionClosed,
    Transaction,
    TransactionClosed,
    TransactionOpened,
    TransactionStatus,
)
from trading.trades._book import Link, Progress, TransactionBook

__all__ = ["TradeEventHandler"]

logger = logging.getLogger(__name__)

_EPS = 1e-9
_PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)


class TradeEventHandler:
    """Subscribes to the broker's order and position events on ``bus`` and moves the book's
    transactions through their lifecycle."""

    def __init__(self, book: TransactionBook, broker: Broker, bus: EventBus, clock: Clock) -> None:
        self._book = book
        self._broker = broker
        self._bus = bus
        self._clock = clock
        self._subscriptions: tuple[tuple[type[Event], Callable[[Any], None]], ...] = (
            (OrderFilled, self._on_filled),
            (OrderDenied, self._on_refused),
            (OrderRejected, self._on_refused),
            (OrderCancelled, self._on_ended),
            (OrderExpired, self._on_ended),
            (PositionClosed, self._on_position_closed),
        )
        for event_type, handler in self._subscriptions:
            bus.subscribe(event_type, handler)

    def unsubscribe(self) -> None:
        """Stop handling broker events."""
        for event_type, handler in self._subscriptions:
            self._bus.unsubscribe(event_type, handler)

    # --- helpers -----------------------------------------------------------------

    def _note(self, level: int, message: str, *args: Any, **details: Any) -> None:
        logger.log(level, message, *args)
        self._book.record(level, message % args, **details)

    def _multiplier(self, symbol: str) -> float:
        return self._broker.instrument(symbol).multiplier

    def is_working(self, order_id: str | None) -> bool:
        """True when the broker still works ``order_id``."""
        if order_id is None:
            return False
        order = self._broker.get_order(order_id)
        return order is not None and order.is_open

    # --- fills -------------------------------------------------------------------

    def _on_filled(self, event: OrderFilled) -> None:
        book = self._book
        with book.lock:
            link = book.link_of(event.order_id)
            book.note_fill(event.symbol, opened_ours=link is not None and link.role is OrderRole.ENTRY)
            if link is None:
                return
            txn = book.get(link.transaction_id)
            if txn is None:
                return
            txn.commissions += float(event.commission)
            progress = book.progress(txn.transaction_id)
            if link.purpose == "entry":
                self._entry_filled(txn, progress, event)
            elif link.purpose == "add":
                self._add_filled(txn, event)
            else:
                self._exit_filled(txn, progress, link, event)
            if event.is_complete:
                book.unlink(event.order_id)

    def _entry_filled(self, txn: Transaction, progress: Progress, event: OrderFilled) -> None:
        progress.entry_qty += event.quantity
        progress.entry_value += event.quantity * event.price
        txn.entry_price = progress.entry_value / progress.entry_qty
        if not event.is_complete:
            self._book.save(txn)
            return
        self.open_transaction(txn, progress.entry_qty)

    def open_transaction(
        self, txn: Transaction, quantity: float, *, when: datetime | None = None, protect: bool = True
    ) -> None:
        """Move a WAITING transaction to OPENED with ``quantity`` at its ``entry_price`` (set by
        the caller), publish ``TransactionOpened`` and, with ``protect``, send its TP/SL."""
        txn.quantity = quantity
        txn.transition(TransactionStatus.OPENED, when or self._clock.now())
        self._book.save(txn)
        self._book.bump("opened")
        self._note(
            logging.INFO,
            "transaction %s OPENED: %s %s %g %s at %g",
            txn.transaction_id,
            txn.strategy,
            txn.side.value,
            txn.quantity,
            txn.symbol,
            txn.entry_price,
            transaction_id=txn.transaction_id,
        )
        self._bus.publish(
            TransactionOpened(
                ts=self._clock.now(),
                transaction_id=txn.transaction_id,
                strategy=txn.strategy,
                symbol=txn.symbol,
                side=txn.side,
                quantity=txn.quantity,
                entry_price=txn.entry_price or 0.0,
            )
        )
        if protect:
            self.protect(txn)

    def _add_filled(self, txn: Transaction, event: OrderFilled) -> None:
        entry = txn.entry_price or event.price
        txn.entry_price = (entry * txn.quantity + event.price * event.quantity) / (
            txn.quantity + event.quantity
        )
        txn.quantity += event.quantity
        self._book.save(txn)
        if event.is_complete:
            self.resize_legs(txn)

    def _exit_filled(self, txn: Transaction, progress: Progress, link: Link, event: OrderFilled) -> None:
        entry = txn.entry_price or event.price
        txn.realized_pnl += (
            (event.price - entry) * event.quantity * txn.side.sign * self._multiplier(txn.symbol)
        )
        progress.exit_qty += event.quantity
        progress.exit_value += event.quantity * event.price
        if link.purpose == "reduce":
            txn.quantity -= event.quantity
            if txn.quantity > _EPS:
                self._book.save(txn)
                if event.is_complete:
                    self.resize_legs(txn)
                return
        else:
            progress.closing_qty += event.quantity
            if progress.closing_qty < txn.quantity - _EPS:
                self._book.save(txn)  # a partial exit: wait for the rest
                return
        self.close_transaction(txn, progress.exit_value / progress.exit_qty, f"{link.role.value} filled")

    def close_transaction(
        self, txn: Transaction, exit_price: float, reason: str, *, when: datetime | None = None
    ) -> None:
        """Move an OPENED transaction to CLOSED at ``exit_price`` (its ``realized_pnl`` already
        booked by the caller), retire it, cancel its legs and publish ``TransactionClosed``."""
        txn.exit_price = exit_price
        txn.reason = reason
        txn.transition(TransactionStatus.CLOSED, when or self._clock.now())
        self._book.retire(txn, still_working=self.is_working)
        self._book.bump("closed")
        self._note(
            logging.INFO,
            "transaction %s CLOSED (%s): %s %s exit %g, realized P&L %.2f",
            txn.transaction_id,
            reason,
            txn.strategy,
            txn.symbol,
            exit_price,
            txn.realized_pnl,
            transaction_id=txn.transaction_id,
            realized_pnl=txn.realized_pnl,
        )
        self.cancel_legs(txn, f"transaction {txn.transaction_id} closed")
        self._bus.publish(
            TransactionClosed(
                ts=self._clock.now(),
                transaction_id=txn.transaction_id,
                strategy=txn.strategy,
                symbol=txn.symbol,
                realized_pnl=txn.realized_pnl,
                exit_price=exit_price,
            )
        )

    def cancel_transaction(self, txn: Transaction, reason: str) -> None:
        """Move a WAITING transaction to CANCELLED with ``reason`` and retire it."""
        txn.reason = reason
        txn.transition(TransactionStatus.CANCELLED, self._clock.now())
        self._book.retire(txn, still_working=self.is_working)
        self._book.bump("cancelled")
        self._note(
            logging.INFO,
            "transaction %s CANCELLED: %s %s: %s",
            txn.transaction_id,
            txn.strategy,
            txn.symbol,
            reason,
            transaction_id=txn.transaction_id,
        )

    # --- refusals and cancellations ---------------------------------------------

    def _on_refused(self, event: OrderDenied | OrderRejected) -> None:
        book = self._book
        with book.lock:
            link = book.unlink(event.order_id)
            txn = None if link is None else book.get(link.transaction_id)
            if link is None or txn is None:
                return
            verb = "denied" if isinstance(event, OrderDenied) else "rejected"
            rule = f" by {event.rule}" if isinstance(event, OrderDenied) and event.rule else ""
            why = f"{link.role.value} order {event.order_id} {verb}{rule}: {event.reason}"
            if link.purpose == "entry" and txn.status is TransactionStatus.WAITING:
                self.cancel_transaction(txn, why)
            else:
                self._forget_leg(txn, event.order_id)
                book.bump("errors")
                self._note(logging.ERROR, "transaction %s: %s", txn.transaction_id, why)

    def _on_ended(self, event: OrderCancelled | OrderExpired) -> None:
        book = self._book
        with book.lock:
            expected = book.cancel_was_expected(event.order_id)
            link = book.unlink(event.order_id)
            txn = None if link is None else book.get(link.transaction_id)
            if link is None or txn is None:
                return
            reason = getattr(event, "reason", "") or (
                "expired" if isinstance(event, OrderExpired) else "cancelled"
            )
            if link.purpose == "entry" and txn.status is TransactionStatus.WAITING:
                progress = book.progress_of(txn.transaction_id)
                if progress is not None and progress.entry_qty > _EPS:
                    # partly filled, then ended: keep what we hold
                    self.open_transaction(txn, progress.entry_qty)
                else:
                    ended = type(event).__name__[5:].lower()
                    self.cancel_transaction(txn, f"entry order {event.order_id} {ended}: {reason}")
                return
            self._forget_leg(txn, event.order_id)
            if not expected and link.role in _PROTECTIVE:
                self._note(
                    logging.WARNING,
                    "transaction %s: its %s leg %s was cancelled outside the trade manager (%s)",
                    txn.transaction_id,
                    link.role.value,
                    event.order_id,
                    reason,
                )

    def _forget_leg(self, txn: Transaction, order_id: str) -> None:
        if txn.tp_order_id == order_id:
            txn.tp_order_id = None
        elif txn.sl_order_id == order_id:
            txn.sl_order_id = None
        else:
            return
        self._book.save(txn)

    def _on_position_closed(self, event: PositionClosed) -> None:
        """A position closed by someone else (a risk flatten): close our unprotected transactions on it.

        Skipped when the fill that flattened the position opened one of ours (two strategies
        netting out), and for transactions whose legs still work (they will close them)."""
        book = self._book
        with book.lock:
            if book.last_fill_opened_ours(event.symbol):
                return
            for txn in book.transactions(symbol=event.symbol):
                if txn.status is not TransactionStatus.OPENED:
                    continue
                if self.is_working(txn.tp_order_id) or self.is_working(txn.sl_order_id):
                    continue
                if book.working_order(txn.transaction_id, ("close", "reduce")) is not None:
                    continue  # our own exit is on its way and will close it
                exit_price = event.last_price or self._broker.last_price(txn.symbol) or txn.entry_price or 0.0
                entry = txn.entry_price or exit_price
                txn.realized_pnl += (
                    (exit_price - entry) * txn.quantity * txn.side.sign * self._multiplier(txn.symbol)
                )
                self.close_transaction(txn, exit_price, "position closed outside the trade manager")

    # --- protective legs ---------------------------------------------------------

    def protect(self, txn: Transaction) -> None:
        """Submit the stored TP and SL (one OCO pair when both are set)."""
        legs: list[Order] = []
        common: dict[str, Any] = {
            "symbol": txn.symbol,
            "side": txn.side.opposite,
            "quantity": txn.quantity,
            "strategy": txn.strategy,
            "reduce_only": True,
            "transaction_id": txn.transaction_id,
        }
        if txn.take_profit is not None:
            tp = Order(
                **common, order_type=OrderType.LIMIT, price=txn.take_profit, role=OrderRole.TAKE_PROFIT
            )
            txn.tp_order_id = tp.order_id
            self._book.link(tp, txn, "protect")
            legs.append(tp)
        if txn.stop_loss is not None:
            sl = Order(
                **common, order_type=OrderType.STOP, stop_price=txn.stop_loss, role=OrderRole.STOP_LOSS
            )
            txn.sl_order_id = sl.order_id
            self._book.link(sl, txn, "protect")
            legs.append(sl)
        if not legs:
            return
        self._book.save(txn)
        # Protective exits only reduce exposure: they are never held back by pre-trade checks.
        if len(legs) == 2:
            self._broker.submit_oco(legs, check=False)
        else:
            self._broker.submit(legs[0], check=False)

    def cancel_legs(self, txn: Transaction, reason: str) -> None:
        """Cancel the transaction's working TP and SL; their cancel events are expected."""
        for order_id in (txn.tp_order_id, txn.sl_order_id):
            if self.is_working(order_id):
                assert order_id is not None
                self._book.expect_cancel(order_id)
                self._broker.cancel(order_id, reason)

    def resize_legs(self, txn: Transaction) -> None:
        for order_id in (txn.tp_order_id, txn.sl_order_id):
            if self.is_working(order_id):
                assert order_id is not None
                self._broker.modify(order_id, quantity=txn.quantity)

    def replace_protection(self, txn: Transaction) -> None:
        """Cancel whatever leg still works and submit the stored TP/SL afresh as one group."""
        self.cancel_legs(txn, f"transaction {txn.transaction_id}: protection replaced")
        txn.tp_order_id = txn.sl_order_id = None
        self.protect(txn)
        self._book.save(txn)

    def __repr__(self) -> str:
        return f"TradeEventHandler(book={self._book!r})"
