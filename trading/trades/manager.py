"""``TradeManager``: strategy recommendations to orders, with the safety checks.

- One pass per (strategy, use case) at a time: a per-key lock taken with a short timeout;
  a pass that cannot take it is skipped (INFO) and returns ``[]``. The lock is always released.
- No duplicate position: the database refuses a second WAITING/OPENED transaction for the
  same strategy and symbol (a unique partial index), across threads and processes; the
  recommendation is skipped with a WARNING naming the existing transaction.
- A market entry whose TP or SL is on the wrong side of the broker's last price (the price
  moved past it since the strategy looked) is rejected with a WARNING and a reason, counted
  and written to the activity log; the pass goes on with the other recommendations.
- TP/SL may change while WAITING (stored, sent as one OCO pair when the entry fills) or
  OPENED (the live legs are modified).
- Bad input (not a ``Recommendation``, another strategy's recommendation, an unknown
  symbol) raises before anything of the pass is submitted or stored.
- On desk start, ``restore`` reads the active transactions back and reconciles them with
  the order history and the broker (a ``TradeReconciliation`` says what it repaired).

The manager holds a ``TransactionBook`` (the state), a ``TradeEventHandler`` that
applies broker events to the same book, and a ``TransactionReconciler`` for the restart.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trading.broker.base import Broker
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import OrderError
from trading.model import (
    Order,
    OrderRole,
    OrderType,
    Recommendation,
    Transaction,
    TransactionStatus,
)
from trading.model.orders import finite_positive
from trading.model.recommendation import check_exit_side
from trading.storage import ActivityLog, DuplicatePositionError, TransactionRepository
from trading.trades._book import TransactionBook
from trading.trades._events import TradeEventHandler
from trading.trades._reconcile import OrderHistory, TradeReconciliation, TransactionReconciler

__all__ = ["PassOutcome", "RejectedRecommendation", "TradeManager", "TradeManagerStatistics"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TradeManagerStatistics:
    passes: int  # passes that ran
    skipped_passes: int  # passes skipped because another pass of the same key held the lock
    recommendations: int  # recommendations of passes that ran (entered, duplicates and rejected)
    submitted: int  # entry orders sent to the broker
    duplicates: int  # recommendations skipped by the duplicate-position guard
    rejected: int  # recommendations whose TP or SL the price had already passed (see ``PassOutcome``)
    opened: int
    closed: int
    cancelled: int
    errors: int  # protective legs refused by the broker
    active: int


@dataclass(frozen=True, slots=True)
class RejectedRecommendation:
    """A recommendation a pass refused, and why."""

    recommendation: Recommendation
    reason: str

    def describe(self) -> str:
        rec = self.recommendation
        return f"{rec.side.value} {rec.quantity:g} {rec.symbol}: {self.reason}"


@dataclass(frozen=True, slots=True)
class PassOutcome:
    """What one pass did: the transactions it created (copies, in their state after
    submission: a denied entry is already CANCELLED), the recommendations it rejected, and
    whether it was skipped because another pass of the same key held the lock."""

    created: tuple[Transaction, ...] = ()
    rejected: tuple[RejectedRecommendation, ...] = ()
    skipped: bool = False


class TradeManager:
    def __init__(
        self,
        broker: Broker,
        bus: EventBus,
        clock: Clock,
        transactions: TransactionRepository,
        *,
        lock_timeout: float = 0.5,
        activity: ActivityLog | None = None,
    ) -> None:
        if not (isinstance(lock_timeout, (int, float)) and math.isfinite(lock_timeout) and lock_timeout >= 0):
            raise ValueError(f"lock_timeout must be a finite number of seconds >= 0, got {lock_timeout!r}")
        self._broker = broker
        self._clock = clock
        self._book = TransactionBook(transactions, activity)
        self._events = TradeEventHandler(self._book, broker, bus, clock)
        self._reconciler = TransactionReconciler(self._book, self._events, broker)
        self._lock_timeout = float(lock_timeout)
        self._pass_locks: dict[tuple[str, str], threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def close(self) -> None:
        """Stop handling broker events (another manager takes over the same bus)."""
        self._events.unsubscribe()

    def _note(self, level: int, message: str, *args: Any, **details: Any) -> None:
        logger.log(level, message, *args)
        self._book.record(level, message % args, **details)

    # --- passes ------------------------------------------------------------------

    def process(
        self, strategy: str, recommendations: Sequence[Recommendation], *, use_case: str = "default"
    ) -> list[Transaction]:
        """Turn ``recommendations`` into WAITING transactions and entry orders.

        Returns the transactions created (copies, in their state after submission: a denied
        entry is already CANCELLED). ``[]`` when another pass of the same (strategy, use_case)
        holds the lock for longer than ``lock_timeout``. ``run_pass`` returns the rejected
        recommendations too."""
        return list(self.run_pass(strategy, recommendations, use_case=use_case).created)

    def run_pass(
        self, strategy: str, recommendations: Sequence[Recommendation], *, use_case: str = "default"
    ) -> PassOutcome:
        """``process``, returning what the pass created and what it rejected (with reasons)."""
        if not isinstance(strategy, str) or not strategy:
            raise ValueError(f"strategy must be a non-empty string, got {strategy!r}")
        lock = self._pass_lock(strategy, use_case)
        if not lock.acquire(timeout=self._lock_timeout):
            self._book.bump("skipped_passes")
            logger.info(
                "pass of strategy %r (use case %r) skipped: another pass still holds its lock after %.2fs",
                strategy,
                use_case,
                self._lock_timeout,
            )
            return PassOutcome(skipped=True)
        try:
            self._book.bump("passes")
            recs = list(recommendations)
            refusals = [self._validate(strategy, rec) for rec in recs]
            self._book.bump("recommendations", len(recs))
            rejected = []
            created = []
            for rec, refusal in zip(recs, refusals, strict=True):
                if refusal is not None:
                    rejected.append(self._reject(strategy, rec, refusal))
                    continue
                txn = self._enter(strategy, use_case, rec)
                if txn is not None:
                    created.append(txn)
            return PassOutcome(created=tuple(created), rejected=tuple(rejected))
        finally:
            lock.release()

    def _pass_lock(self, strategy: str, use_case: str) -> threading.Lock:
        with self._registry_lock:
            return self._pass_locks.setdefault((strategy, use_case), threading.Lock())

    def _validate(self, strategy: str, rec: Recommendation) -> str | None:
        """Raise for bad input; return why the market refuses ``rec`` (None when it is fine)."""
        if not isinstance(rec, Recommendation):
            raise TypeError(f"recommendations must be Recommendation objects, got {type(rec).__name__}")
        if rec.strategy is not None and rec.strategy != strategy:
            raise OrderError(
                f"{rec.symbol}: recommendation of strategy {rec.strategy!r} passed by {strategy!r}"
            )
        self._broker.instrument(rec.symbol)  # UnknownInstrumentError names the symbol
        if rec.entry_price is None:
            last = self._broker.last_price(rec.symbol)
            if last is not None:
                try:
                    rec.check_exits(last)
                except OrderError as exc:  # the price moved past an exit since the signal: a refusal
                    return str(exc)
        return None

    def _reject(self, strategy: str, rec: Recommendation, reason: str) -> RejectedRecommendation:
        self._book.bump("rejected")
        self._note(
            logging.WARNING,
            "rejected %s %g %s for strategy %r: %s",
            rec.side.value,
            rec.quantity,
            rec.symbol,
            strategy,
            reason,
            strategy=strategy,
            symbol=rec.symbol,
        )
        return RejectedRecommendation(rec, reason)

    def _enter(self, strategy: str, use_case: str, rec: Recommendation) -> Transaction | None:
        order = _entry_order(strategy, rec)
        txn = Transaction(
            transaction_id=f"T-{uuid.uuid4().hex[:16]}",
            strategy=strategy,
            symbol=rec.symbol,
            side=rec.side,
            quantity=float(rec.quantity),
            entry_order_id=order.order_id,
            take_profit=rec.take_profit,
            stop_loss=rec.stop_loss,
            created_at=self._clock.now(),
            use_case=use_case,
            reason=rec.reason,
        )
        order.transaction_id = txn.transaction_id
        try:
            self._book.create(txn)
        except DuplicatePositionError as exc:
            self._book.bump("duplicates")
            self._note(
                logging.WARNING,
                "skipped %s %g %s for strategy %r: it already has %s transaction %s on %s",
                rec.side.value,
                rec.quantity,
                rec.symbol,
                strategy,
                exc.existing_status,
                exc.existing_id,
                rec.symbol,
                existing_transaction=exc.existing_id,
            )
            return None
        with self._book.lock:
            self._book.add(txn)
            self._book.link(order, txn, "entry")
        self._book.bump("submitted")
        logger.debug("transaction %s WAITING: submitting %r", txn.transaction_id, order)
        self._broker.submit(order)  # the broker runs the pre-trade checks; a denial cancels the transaction
        with self._book.lock:
            return copy.copy(txn)

    # --- changes to one transaction ----------------------------------------------

    def update_stop_loss(self, transaction_id: str, price: float) -> Transaction:
        """Change the stop-loss of a WAITING (stored) or OPENED (live leg modified) transaction."""
        return self._update_exit(transaction_id, price, stop=True)

    def update_take_profit(self, transaction_id: str, price: float) -> Transaction:
        """Change the take-profit of a WAITING (stored) or OPENED (live leg modified) transaction."""
        return self._update_exit(transaction_id, price, stop=False)

    def _update_exit(self, transaction_id: str, price: float, *, stop: bool) -> Transaction:
        name = "stop_loss" if stop else "take_profit"
        if not finite_positive(price):
            raise OrderError(f"{name} must be a finite number > 0, got {price!r}")
        with self._book.lock:
            txn = self._require(
                transaction_id, (TransactionStatus.WAITING, TransactionStatus.OPENED), f"set {name}"
            )
            reference = self._reference_price(txn)
            if reference is not None:
                check_exit_side(
                    txn.symbol,
                    txn.side,
                    reference,
                    take_profit=None if stop else price,
                    stop_loss=price if stop else None,
                )
            leg_id = txn.sl_order_id if stop else txn.tp_order_id
            if txn.status is TransactionStatus.OPENED and self._events.is_working(leg_id):
                assert leg_id is not None
                if stop:
                    self._broker.modify(leg_id, stop_price=price)  # OrderError if it cannot: nothing changed
                else:
                    self._broker.modify(leg_id, price=price)
                setattr(txn, name, price)
                self._book.save(txn)
            else:
                setattr(txn, name, price)
                self._book.save(txn)
                if txn.status is TransactionStatus.OPENED:
                    self._events.replace_protection(txn)  # no live leg for it: send the pair afresh
            logger.info(
                "transaction %s: %s set to %g (%s)", txn.transaction_id, name, price, txn.status.value
            )
            return copy.copy(txn)

    def close_position(self, transaction_id: str, reason: str = "") -> Order:
        """Close an OPENED transaction at market: cancel its legs, send an EXIT order."""
        with self._book.lock:
            txn = self._require(transaction_id, (TransactionStatus.OPENED,), "close it")
            self._require_no_exit(txn)
            self._events.cancel_legs(txn, reason or f"transaction {transaction_id} closed on request")
            order = self._exit_order(txn, txn.quantity, reason or "closed on request")
            self._book.link(order, txn, "close")
        self._broker.submit(order, check=False)
        return order

    def adjust_quantity(self, transaction_id: str, quantity: float) -> Order | None:
        """Resize an OPENED transaction to ``quantity``: an EXIT order for a decrease, a
        pre-trade-checked ENTRY order for an increase; the legs follow the new size once it
        fills. None if the size is unchanged."""
        if not finite_positive(quantity):
            raise OrderError(f"quantity must be a finite number > 0, got {quantity!r}")
        with self._book.lock:
            txn = self._require(transaction_id, (TransactionStatus.OPENED,), "adjust its quantity")
            self._require_no_exit(txn)
            delta = quantity - txn.quantity
            if abs(delta) < 1e-9:
                return None
            if delta < 0:
                order = self._exit_order(txn, -delta, f"reduce to {quantity:g}")
                self._book.link(order, txn, "reduce")
            else:
                order = Order(
                    symbol=txn.symbol,
                    side=txn.side,
                    quantity=delta,
                    strategy=txn.strategy,
                    role=OrderRole.ENTRY,
                    transaction_id=txn.transaction_id,
                    bracket_stop=txn.stop_loss,
                )
                self._book.link(order, txn, "add")
        self._broker.submit(order, check=delta > 0)
        return order

    def cancel(self, transaction_id: str, reason: str = "") -> bool:
        """Cancel a WAITING transaction's entry order; True if it was cancelled."""
        with self._book.lock:
            txn = self._require(transaction_id, (TransactionStatus.WAITING,), "cancel it")
            entry_id = txn.entry_order_id
            reason = reason or "cancelled on request"
            if entry_id is None or not self._events.is_working(entry_id):
                if entry_id is not None and self._broker.get_order(entry_id) is not None:
                    return False  # the entry has just filled or ended: its event decides
                self._events.cancel_transaction(txn, reason)
                return True
        return self._broker.cancel(entry_id, reason)

    def _require(
        self, transaction_id: str, allowed: tuple[TransactionStatus, ...], action: str
    ) -> Transaction:
        txn = self._book.get(transaction_id)
        if txn is not None and txn.status in allowed:
            return txn
        states = " or ".join(s.value for s in allowed)
        if txn is None:
            stored = self._book.stored(transaction_id)
            if stored is None:
                raise OrderError(f"cannot {action}: unknown transaction {transaction_id!r}")
            status = stored.status.value
        else:
            status = txn.status.value
        raise OrderError(f"cannot {action}: transaction {transaction_id} is {status}; only {states} allowed")

    def _require_no_exit(self, txn: Transaction) -> None:
        working = self._book.working_order(txn.transaction_id, ("close", "reduce", "add"))
        if working is not None:
            order_id, link = working
            raise OrderError(
                f"transaction {txn.transaction_id} already has {link.purpose} order {order_id} working"
            )

    def _reference_price(self, txn: Transaction) -> float | None:
        if txn.entry_price is not None:
            return txn.entry_price
        entry = self._broker.get_order(txn.entry_order_id) if txn.entry_order_id else None
        if entry is not None and entry.order_type is not OrderType.MARKET:
            return entry.price if entry.price is not None else entry.stop_price
        return self._broker.last_price(txn.symbol)

    def _exit_order(self, txn: Transaction, quantity: float, reason: str) -> Order:
        return Order(
            symbol=txn.symbol,
            side=txn.side.opposite,
            quantity=quantity,
            strategy=txn.strategy,
            role=OrderRole.EXIT,
            reduce_only=True,
            transaction_id=txn.transaction_id,
            reason=reason,
        )

    # --- queries and recovery ----------------------------------------------------

    def active(self, strategy: str | None = None) -> list[Transaction]:
        """Copies of the WAITING and OPENED transactions this manager tracks."""
        with self._book.lock:
            return [copy.copy(t) for t in self._book.transactions(strategy=strategy)]

    def restore(self, history: OrderHistory) -> TradeReconciliation:
        """Reload the active transactions from the repository (on desk start, the broker already
        restored) and reconcile each with its orders and fills in ``history`` and with the
        broker's positions and working orders: what happened while no manager was listening is
        applied as if it had been seen (see ``trading.trades._reconcile``). Every change is a
        ``TransactionRepair`` in the result, logged at WARNING and in the activity log (source
        ``reconcile``). Transactions this manager already holds are left alone, so a second
        call changes nothing."""
        if not isinstance(history, OrderHistory):
            raise TypeError(f"history must be an OrderHistory, got {type(history).__name__}")
        return self._reconciler.restore(history)

    def statistics(self) -> TradeManagerStatistics:
        book = self._book
        with book.lock:
            return TradeManagerStatistics(
                passes=book.count("passes"),
                skipped_passes=book.count("skipped_passes"),
                recommendations=book.count("recommendations"),
                submitted=book.count("submitted"),
                duplicates=book.count("duplicates"),
                rejected=book.count("rejected"),
                opened=book.count("opened"),
                closed=book.count("closed"),
                cancelled=book.count("cancelled"),
                errors=book.count("errors"),
                active=len(book),
            )

    def __repr__(self) -> str:
        s = self.statistics()
        return (
            f"TradeManager(active={s.active}, opened={s.opened}, closed={s.closed}, "
            f"duplicates={s.duplicates}, skipped_passes={s.skipped_passes})"
        )


def _entry_order(strategy: str, rec: Recommendation) -> Order:
    price = stop = None
    if rec.entry_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        price = rec.entry_price
    if rec.entry_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        stop = rec.entry_price
    return Order(
        symbol=rec.symbol,
        side=rec.side,
        quantity=float(rec.quantity),
        order_type=rec.entry_type,
        price=price,
        stop_price=stop,
        strategy=strategy,
        role=OrderRole.ENTRY,
        bracket_stop=rec.stop_loss,
        reason=rec.reason,
    )
