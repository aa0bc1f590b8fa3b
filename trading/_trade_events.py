"""The event-driven half of ``TradeManager``: what broker events do to transactions.

- entry filled (completely) -> OPENED, the stored TP and SL go out as one OCO pair;
- entry denied / rejected / cancelled / expired without a fill -> CANCELLED with the reason;
- a TP, SL or EXIT fill that exits the whole quantity -> CLOSED with exit price and P&L;
- a protective leg cancelled by someone else (a risk flatten) -> the leg is forgotten, and
  the ``PositionClosed`` that follows closes the transaction at the closing price.

State lives in a few dicts guarded by one ``RLock``; broker calls are made outside it where
the flow allows, so a broker that publishes from another thread cannot deadlock with us.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.clock import Clock
from trading.model import (
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
from trading.storage import ActivityLog, TransactionRepository

__all__ = ["Link", "Progress", "TradeEvents"]

logger = logging.getLogger("trading.trade_manager")

_EPS = 1e-9
_PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)


@dataclass(slots=True)
class Link:
    """What one of our orders is for."""

    transaction_id: str
    role: OrderRole
    purpose: str  # "entry", "add", "protect", "reduce" or "close"


@dataclass(slots=True)
class Progress:
    """Fills accumulated for one transaction."""

    entry_qty: float = 0.0
    entry_value: float = 0.0
    exit_qty: float = 0.0
    exit_value: float = 0.0
    closing_qty: float = 0.0  # exited by TP, SL or a close (not by reductions)


class TradeEvents:
    def __init__(
        self,
        broker: Broker,
        bus: EventBus,
        clock: Clock,
        transactions: TransactionRepository,
        activity: ActivityLog | None,
    ) -> None:
        self._broker = broker
        self._bus = bus
        self._clock = clock
        self._repo = transactions
        self._activity = activity
        self._lock = threading.RLock()
        self._txns: dict[str, Transaction] = {}  # active transactions by id
        self._links: dict[str, Link] = {}  # our working (or just submitted) orders by order id
        self._progress: dict[str, Progress] = {}
        self._own_cancels: set[str] = set()  # order ids we cancel ourselves: their OrderCancelled is expected
        self._last_fill_was_entry: dict[str, bool] = {}  # by symbol: did the latest fill open one of ours?
        self._counts: Counter[str] = Counter()
        bus.subscribe(OrderFilled, self._on_filled)
        bus.subscribe(OrderDenied, self._on_refused)
        bus.subscribe(OrderRejected, self._on_refused)
        bus.subscribe(OrderCancelled, self._on_ended)
        bus.subscribe(OrderExpired, self._on_ended)
        bus.subscribe(PositionClosed, self._on_position_closed)

    # --- helpers -----------------------------------------------------------------

    def _note(self, level: int, message: str, *args: Any, **details: Any) -> None:
        logger.log(level, message, *args)
        if self._activity is not None:
            self._activity.log_activity(
                logging.getLevelName(level), "trade_manager", message % args, **details
            )

    def _bump(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _save(self, txn: Transaction) -> None:
        self._repo.update(txn)

    def _multiplier(self, symbol: str) -> float:
        return self._broker.instrument(symbol).multiplier

    def _link(self, order: Order, txn: Transaction, purpose: str) -> None:
        self._links[order.order_id] = Link(txn.transaction_id, order.role, purpose)

    def _leg_is_live(self, order_id: str | None) -> bool:
        if order_id is None:
            return False
        order = self._broker.get_order(order_id)
        return order is not None and order.is_open

    # --- fills -------------------------------------------------------------------

    def _on_filled(self, event: OrderFilled) -> None:
        with self._lock:
            link = self._links.get(event.order_id)
            self._last_fill_was_entry[event.symbol] = link is not None and link.role is OrderRole.ENTRY
            if link is None:
                return
            txn = self._txns.get(link.transaction_id)
            if txn is None:
                return
            txn.commissions += event.commission
            progress = self._progress.setdefault(txn.transaction_id, Progress())
            if link.purpose == "entry":
                self._entry_filled(txn, progress, event)
            elif link.purpose == "add":
                self._add_filled(txn, event)
            else:
                self._exit_filled(txn, progress, link, event)
            if event.is_complete:
                self._links.pop(event.order_id, None)

    def _entry_filled(self, txn: Transaction, progress: Progress, event: OrderFilled) -> None:
        progress.entry_qty += event.quantity
        progress.entry_value += event.quantity * event.price
        txn.entry_price = progress.entry_value / progress.entry_qty
        if not event.is_complete:
            self._save(txn)
            return
        self._open(txn, progress.entry_qty)

    def _open(self, txn: Transaction, quantity: float) -> None:
        txn.quantity = quantity
        txn.transition(TransactionStatus.OPENED, self._clock.now())
        self._save(txn)
        self._bump("opened")
        self._note(
            logging.INFO,
            "transaction %s OPENED: %s %s %g %s at %g",
            txn.transaction_id, txn.strategy, txn.side.value, txn.quantity, txn.symbol, txn.entry_price,
            transaction_id=txn.transaction_id,
        )  # fmt: skip
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
        self._protect(txn)

    def _add_filled(self, txn: Transaction, event: OrderFilled) -> None:
        entry = txn.entry_price or event.price
        txn.entry_price = (entry * txn.quantity + event.price * event.quantity) / (
            txn.quantity + event.quantity
        )
        txn.quantity += event.quantity
        self._save(txn)
        if event.is_complete:
            self._resize_legs(txn)

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
                self._save(txn)
                if event.is_complete:
                    self._resize_legs(txn)
                return
        else:
            progress.closing_qty += event.quantity
            if progress.closing_qty < txn.quantity - _EPS:
                self._save(txn)  # a partial exit: wait for the rest
                return
        self._close(txn, progress.exit_value / progress.exit_qty, f"{link.role.value} filled")

    def _close(self, txn: Transaction, exit_price: float, reason: str) -> None:
        txn.exit_price = exit_price
        txn.reason = reason
        txn.transition(TransactionStatus.CLOSED, self._clock.now())
        self._retire(txn)
        self._bump("closed")
        self._note(
            logging.INFO,
            "transaction %s CLOSED (%s): %s %s exit %g, realized P&L %.2f",
            txn.transaction_id, reason, txn.strategy, txn.symbol, exit_price, txn.realized_pnl,
            transaction_id=txn.transaction_id, realized_pnl=txn.realized_pnl,
        )  # fmt: skip
        self._cancel_legs(txn, f"transaction {txn.transaction_id} closed")
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

    def _cancel_txn(self, txn: Transaction, reason: str) -> None:
        txn.reason = reason
        txn.transition(TransactionStatus.CANCELLED, self._clock.now())
        self._retire(txn)
        self._bump("cancelled")
        self._note(
            logging.INFO,
            "transaction %s CANCELLED: %s %s: %s",
            txn.transaction_id, txn.strategy, txn.symbol, reason,
            transaction_id=txn.transaction_id,
        )  # fmt: skip

    def _retire(self, txn: Transaction) -> None:
        self._save(txn)
        self._txns.pop(txn.transaction_id, None)
        self._progress.pop(txn.transaction_id, None)
        for order_id in [
            oid for oid, link in self._links.items() if link.transaction_id == txn.transaction_id
        ]:
            if not self._leg_is_live(order_id):
                del self._links[order_id]

    # --- refusals and cancellations ---------------------------------------------

    def _on_refused(self, event: OrderDenied | OrderRejected) -> None:
        with self._lock:
            link = self._links.pop(event.order_id, None)
            txn = None if link is None else self._txns.get(link.transaction_id)
            if link is None or txn is None:
                return
            verb = "denied" if isinstance(event, OrderDenied) else "rejected"
            rule = f" by {event.rule}" if isinstance(event, OrderDenied) and event.rule else ""
            why = f"{link.role.value} order {event.order_id} {verb}{rule}: {event.reason}"
            if link.purpose == "entry" and txn.status is TransactionStatus.WAITING:
                self._cancel_txn(txn, why)
            else:
                self._forget_leg(txn, event.order_id)
                self._bump("errors")
                self._note(logging.ERROR, "transaction %s: %s", txn.transaction_id, why)

    def _on_ended(self, event: OrderCancelled | OrderExpired) -> None:
        with self._lock:
            expected = event.order_id in self._own_cancels
            self._own_cancels.discard(event.order_id)
            link = self._links.pop(event.order_id, None)
            txn = None if link is None else self._txns.get(link.transaction_id)
            if link is None or txn is None:
                return
            reason = getattr(event, "reason", "") or (
                "expired" if isinstance(event, OrderExpired) else "cancelled"
            )
            if link.purpose == "entry" and txn.status is TransactionStatus.WAITING:
                progress = self._progress.get(txn.transaction_id)
                if progress is not None and progress.entry_qty > _EPS:
                    self._open(txn, progress.entry_qty)  # partly filled, then ended: keep what we hold
                else:
                    self._cancel_txn(
                        txn, f"entry order {event.order_id} {type(event).__name__[5:].lower()}: {reason}"
                    )
                return
            self._forget_leg(txn, event.order_id)
            if not expected and link.role in _PROTECTIVE:
                self._note(
                    logging.WARNING,
                    "transaction %s: its %s leg %s was cancelled outside the trade manager (%s)",
                    txn.transaction_id, link.role.value, event.order_id, reason,
                )  # fmt: skip

    def _forget_leg(self, txn: Transaction, order_id: str) -> None:
        if txn.tp_order_id == order_id:
            txn.tp_order_id = None
        elif txn.sl_order_id == order_id:
            txn.sl_order_id = None
        else:
            return
        self._save(txn)

    def _on_position_closed(self, event: PositionClosed) -> None:
        """A position closed by someone else (a risk flatten): close our unprotected transactions on it.

        Skipped when the fill that flattened the position opened one of ours (two strategies
        netting out), and for transactions whose legs still work (they will close them)."""
        with self._lock:
            if self._last_fill_was_entry.get(event.symbol, False):
                return
            for txn in [t for t in self._txns.values() if t.symbol == event.symbol]:
                if txn.status is not TransactionStatus.OPENED:
                    continue
                if self._leg_is_live(txn.tp_order_id) or self._leg_is_live(txn.sl_order_id):
                    continue
                if any(
                    link.transaction_id == txn.transaction_id and link.purpose in ("close", "reduce")
                    for link in self._links.values()
                ):
                    continue  # our own exit is on its way and will close it
                exit_price = event.last_price or self._broker.last_price(txn.symbol) or txn.entry_price or 0.0
                entry = txn.entry_price or exit_price
                txn.realized_pnl += (
                    (exit_price - entry) * txn.quantity * txn.side.sign * self._multiplier(txn.symbol)
                )
                self._close(txn, exit_price, "position closed outside the trade manager")

    # --- protective legs ---------------------------------------------------------

    def _protect(self, txn: Transaction) -> None:
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
            self._link(tp, txn, "protect")
            legs.append(tp)
        if txn.stop_loss is not None:
            sl = Order(
                **common, order_type=OrderType.STOP, stop_price=txn.stop_loss, role=OrderRole.STOP_LOSS
            )
            txn.sl_order_id = sl.order_id
            self._link(sl, txn, "protect")
            legs.append(sl)
        if not legs:
            return
        self._save(txn)
        # Protective exits only reduce exposure: they are never held back by pre-trade checks.
        if len(legs) == 2:
            self._broker.submit_oco(legs, check=False)
        else:
            self._broker.submit(legs[0], check=False)

    def _cancel_legs(self, txn: Transaction, reason: str) -> None:
        for order_id in (txn.tp_order_id, txn.sl_order_id):
            if self._leg_is_live(order_id):
                assert order_id is not None
                self._own_cancels.add(order_id)
                self._broker.cancel(order_id, reason)

    def _resize_legs(self, txn: Transaction) -> None:
        for order_id in (txn.tp_order_id, txn.sl_order_id):
            if self._leg_is_live(order_id):
                assert order_id is not None
                self._broker.modify(order_id, quantity=txn.quantity)

    def _replace_protection(self, txn: Transaction) -> None:
        """Cancel whatever leg still works and submit the stored TP/SL afresh as one group."""
        self._cancel_legs(txn, f"transaction {txn.transaction_id}: protection replaced")
        txn.tp_order_id = txn.sl_order_id = None
        self._protect(txn)
        self._save(txn)
