"""``TransactionReconciler``: a restart's step from the stored transactions to live ones.

After a crash the ``transactions`` table may lag what happened: the broker's step (and, with
the journal, its order rows and fills) is committed before the trade manager hears of it.
Each active transaction is compared with its orders and fills in the ``OrderHistory`` (by
transaction id) and with the broker's view (already restored: positions and working orders):

- WAITING, entry still working at the broker -> stays WAITING, its entry linked again;
- WAITING, entry filled (completely, or partly and then ended) -> OPENED at the fills'
  average with the filled quantity, as if the fill had been seen, then checked as OPENED;
- WAITING, entry ended unfilled -> CANCELLED with the entry's status and reason; unknown to
  both the broker and the history -> CANCELLED ``reconciled: entry order unknown``;
- OPENED, exit fills cover the entry fills -> CLOSED at the exit fills' average, with the
  realized P&L replayed from the fills (the live formula, see ``_tally``);
- OPENED, no position in its symbol -> CLOSED ``reconciled: no position`` (P&L of what was
  left at the broker's last price, as a position closed outside the trade manager), every
  working order of the transaction cancelled;
- OPENED, exit fills cover part of it -> quantity, entry price, P&L and commissions taken
  from the fills (the row may lag them), the working legs resized to the quantity left;
- OPENED, position there -> its working orders linked again (legs, a close, a reduction, an
  addition); a missing TP/SL leg (and no close working) -> the pair sent again, unless exit
  orders of no transaction (a risk flatten sent before the crash) close the whole position:
  their fill closes it as it would have live.

Every change is one ``TransactionRepair`` (before -> after, reason), logged at WARNING and
written to the activity log with source ``reconcile``.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from trading.broker.base import Broker
from trading.errors import UnknownInstrumentError
from trading.model import Order, OrderRole, Transaction, TransactionStatus
from trading.storage import FillRecord, OrderRecord
from trading.trades._book import TransactionBook
from trading.trades._events import TradeEventHandler
from trading.trades._tally import FillTally, tally_fills

__all__ = ["OrderHistory", "TradeReconciliation", "TransactionReconciler", "TransactionRepair"]

logger = logging.getLogger(__name__)

ACTIVITY_SOURCE = "reconcile"
_EPS = 1e-9
_PROTECTIVE = (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)
_WAITING, _OPENED = TransactionStatus.WAITING, TransactionStatus.OPENED


@runtime_checkable
class OrderHistory(Protocol):
    """The stored orders and fills of one transaction (``trading.storage.OrderHistoryRepository``,
    or the journal's reader)."""

    def orders_for(self, transaction_id: str) -> Sequence[OrderRecord]:
        """The transaction's orders, in their latest stored state."""
        ...

    def fills_for(self, transaction_id: str) -> Sequence[FillRecord]:
        """The fills of the transaction's orders, in the order they happened."""
        ...


@dataclass(frozen=True, slots=True)
class TransactionRepair:
    """One transaction a restart changed, and why."""

    transaction_id: str
    strategy: str
    symbol: str
    before: TransactionStatus
    after: TransactionStatus
    reason: str  # "reconciled: ..."

    def describe(self) -> str:
        return (
            f"transaction {self.transaction_id} ({self.strategy} {self.symbol}) "
            f"{self.before.value} -> {self.after.value}: {self.reason}"
        )


@dataclass(frozen=True, slots=True)
class TradeReconciliation:
    """What a restart did to the stored active transactions: every one of them (copies, in
    their state after reconciliation, oldest first) and the repairs among them."""

    restored: tuple[Transaction, ...] = ()
    repairs: tuple[TransactionRepair, ...] = ()

    @property
    def active(self) -> tuple[Transaction, ...]:
        """The restored transactions that are still WAITING or OPENED."""
        return tuple(t for t in self.restored if t.status.is_active)


class TransactionReconciler:
    """Reads the stored active transactions into the book, reconciled with an ``OrderHistory``
    and the broker. Uses the event handler for every lifecycle move, so a repaired
    transaction goes through the same transitions, events and legs as a live one."""

    def __init__(self, book: TransactionBook, events: TradeEventHandler, broker: Broker) -> None:
        self._book = book
        self._events = events
        self._broker = broker

    def restore(self, history: OrderHistory) -> TradeReconciliation:
        """Reconcile every stored active transaction the book does not hold yet."""
        restored: list[Transaction] = []
        repairs: list[TransactionRepair] = []
        with self._book.lock:
            for txn in self._book.stored_active():
                if txn.transaction_id in self._book:
                    continue
                self._book.add(txn)
                before = txn.status
                notes = self._reconcile(txn, history)
                restored.append(copy.copy(txn))
                if notes:
                    repair = TransactionRepair(
                        txn.transaction_id,
                        txn.strategy,
                        txn.symbol,
                        before,
                        txn.status,
                        "reconciled: " + "; ".join(notes),
                    )
                    repairs.append(repair)
                    self._report(repair)
        logger.info("restored %d active transactions, %d repaired", len(restored), len(repairs))
        return TradeReconciliation(tuple(restored), tuple(repairs))

    def _report(self, repair: TransactionRepair) -> None:
        message = repair.describe()
        logger.warning("%s", message)
        self._book.record(
            logging.WARNING,
            message,
            source=ACTIVITY_SOURCE,
            transaction_id=repair.transaction_id,
            before=repair.before.value,
            after=repair.after.value,
        )

    def _reconcile(self, txn: Transaction, history: OrderHistory) -> list[str]:
        """Bring ``txn`` in line with its history and the broker; the notes say what changed."""
        notes: list[str] = []
        multiplier = self._multiplier(txn.symbol)
        fills = history.fills_for(txn.transaction_id) if multiplier is not None else ()
        tally = tally_fills(fills, side=txn.side, multiplier=multiplier or 1.0)
        waiting = txn.status is _WAITING
        if waiting and not self._restore_waiting(txn, history, tally, notes):
            return notes
        self._restore_opened(txn, tally, notes, fresh=waiting)
        return notes

    def _multiplier(self, symbol: str) -> float | None:
        try:
            return self._broker.instrument(symbol).multiplier
        except UnknownInstrumentError:  # not traded any more: the broker holds nothing of it
            return None

    # --- WAITING -----------------------------------------------------------------

    def _restore_waiting(
        self, txn: Transaction, history: OrderHistory, tally: FillTally, notes: list[str]
    ) -> bool:
        """True when the entry filled and ``txn`` is now OPENED."""
        entry_id = txn.entry_order_id
        at_broker = self._broker.get_order(entry_id) if entry_id is not None else None
        if entry_id is not None and at_broker is not None and at_broker.is_open:
            self._book.relink(entry_id, txn, OrderRole.ENTRY, "entry")
            if tally.entry_quantity > _EPS and tally.entry_price is not None:  # partly filled, still working
                progress = self._book.progress(txn.transaction_id)
                progress.entry_qty = tally.entry_quantity
                progress.entry_value = tally.entry_quantity * tally.entry_price
                txn.entry_price, txn.commissions = tally.entry_price, tally.commissions
                self._book.save(txn)
            return False
        stored: Order | OrderRecord | None = at_broker
        if stored is None and entry_id is not None:
            stored = next((o for o in history.orders_for(txn.transaction_id) if o.order_id == entry_id), None)
        filled, price = tally.entry_quantity, tally.entry_price
        if filled <= _EPS and stored is not None and stored.avg_fill_price is not None:
            filled, price = stored.filled_quantity, stored.avg_fill_price  # its fill rows are missing
        status = "ended" if stored is None else stored.status.value
        if filled > _EPS and price is not None:
            progress = self._book.progress(txn.transaction_id)
            progress.entry_qty, progress.entry_value = filled, filled * price
            txn.entry_price = price
            txn.commissions = tally.commissions
            if filled >= txn.quantity - _EPS:
                notes.append(f"entry order {entry_id} FILLED")
            else:
                notes.append(f"entry order {entry_id} {status} after {filled:g} of {txn.quantity:g} filled")
            self._events.open_transaction(txn, filled, when=tally.last_entry_at, protect=False)
            return True
        if stored is None:
            why = "entry order unknown"
        elif stored.status.is_open:
            why = f"entry order {entry_id} not working at the broker (stored as {status})"
        else:
            why = f"entry order {entry_id} {status}" + (f": {stored.reason}" if stored.reason else "")
        notes.append(why)
        self._events.cancel_transaction(txn, f"reconciled: {why}")
        return False

    # --- OPENED ------------------------------------------------------------------

    def _restore_opened(self, txn: Transaction, tally: FillTally, notes: list[str], *, fresh: bool) -> None:
        if tally.is_closed:
            self._close_from_fills(txn, tally, notes)
            return
        resized = tally.entry_quantity > _EPS and self._follow_fills(txn, tally, notes)
        working = [o for o in self._broker.open_orders(txn.symbol) if o.transaction_id == txn.transaction_id]
        if txn.symbol not in self._broker.positions():
            self._close_without_position(txn, working, notes)
            return
        closing = self._relink(txn, working)
        if resized:
            self._events.resize_legs(txn)  # the working legs follow the quantity the fills left
        held = {o.role for o in working if o.role in _PROTECTIVE}
        exits = ((OrderRole.TAKE_PROFIT, txn.take_profit), (OrderRole.STOP_LOSS, txn.stop_loss))
        wanted = {role for role, price in exits if price is not None}
        if closing or wanted <= held or self._closed_by_another_exit(txn):
            return
        self._events.replace_protection(txn)
        notes.append("protection sent" if fresh else "protection sent again")

    def _closed_by_another_exit(self, txn: Transaction) -> bool:
        """True when exit orders of no transaction (a risk flatten or close sent before the
        restart) cover the symbol's whole position. Their fill closes ``txn`` through the
        ``PositionClosed`` that follows, as it would have without the restart; legs sent now
        would still work when that fill comes, so the transaction would be left OPENED
        without a position (its legs, reduce-only on a flat position, can never fill)."""
        position = self._broker.positions().get(txn.symbol)
        if position is None or position.side is None:
            return False
        covered = sum(
            o.remaining
            for o in self._broker.open_orders(txn.symbol)
            if o.transaction_id is None and o.role is OrderRole.EXIT and o.side is position.side.opposite
        )
        if covered < abs(position.quantity) - _EPS:
            return False
        logger.info(
            "transaction %s: no protection sent: exit orders for %g %s already close the position",
            txn.transaction_id,
            covered,
            txn.symbol,
        )
        return True

    def _close_from_fills(self, txn: Transaction, tally: FillTally, notes: list[str]) -> None:
        assert tally.exit_price is not None and tally.last_exit_role is not None  # is_closed: exits exist
        self._cancel_working(txn, "reconciled: its exits filled")
        txn.realized_pnl = tally.realized_pnl
        txn.commissions = tally.commissions
        if tally.entry_price is not None:
            txn.entry_price = tally.entry_price
        why = f"{tally.last_exit_role.value} filled"
        notes.append(why)
        self._events.close_transaction(txn, tally.exit_price, f"reconciled: {why}", when=tally.last_exit_at)

    def _follow_fills(self, txn: Transaction, tally: FillTally, notes: list[str]) -> bool:
        """Take quantity, entry price, P&L and commissions of a still-open transaction from its
        fills (the row may lag them), and seed the exit progress the live path continues.
        True when the quantity changed."""
        resized = abs(tally.open_quantity - txn.quantity) > _EPS
        if resized:
            notes.append(f"quantity {txn.quantity:g} -> {tally.open_quantity:g} from the fills")
            txn.quantity = tally.open_quantity
        changed = resized
        for name, value in (
            ("entry_price", tally.entry_price),
            ("realized_pnl", tally.realized_pnl),
            ("commissions", tally.commissions),
        ):
            current = getattr(txn, name)
            if value is not None and (current is None or not math.isclose(current, value, abs_tol=1e-9)):
                setattr(txn, name, value)
                changed = True
        progress = self._book.progress(txn.transaction_id)
        progress.exit_qty, progress.exit_value = tally.exit_quantity, tally.exit_value
        if changed:
            self._book.save(txn)
        return resized

    def _close_without_position(self, txn: Transaction, working: list[Order], notes: list[str]) -> None:
        for order in working:
            self._broker.cancel(order.order_id, "reconciled: no position")
        multiplier = self._multiplier(txn.symbol)
        exit_price = self._broker.last_price(txn.symbol) if multiplier is not None else None
        entry = txn.entry_price
        if exit_price is None or entry is None or multiplier is None:
            exit_price = entry or 0.0  # nothing to price the rest with: no P&L booked for it
        else:
            txn.realized_pnl += (exit_price - entry) * txn.quantity * txn.side.sign * multiplier
        notes.append("no position")
        self._events.close_transaction(txn, exit_price, "reconciled: no position")

    def _cancel_working(self, txn: Transaction, reason: str) -> None:
        for order in self._broker.open_orders(txn.symbol):
            if order.transaction_id == txn.transaction_id:
                self._broker.cancel(order.order_id, reason)

    def _relink(self, txn: Transaction, working: list[Order]) -> bool:
        """Link the transaction's working orders again; True when a close is among them."""
        closing = False
        changed = False
        for order in working:
            if order.role in _PROTECTIVE:
                self._book.relink(order.order_id, txn, order.role, "protect")
                name = "tp_order_id" if order.role is OrderRole.TAKE_PROFIT else "sl_order_id"
                if getattr(txn, name) != order.order_id:
                    setattr(txn, name, order.order_id)
                    changed = True
            elif order.role is OrderRole.ENTRY:
                self._book.relink(order.order_id, txn, order.role, "add")
            elif order.role is OrderRole.EXIT:
                purpose = "close" if order.remaining >= txn.quantity - _EPS else "reduce"
                closing = closing or purpose == "close"
                self._book.relink(order.order_id, txn, order.role, purpose)
        if changed:
            self._book.save(txn)
        return closing

    def __repr__(self) -> str:
        return f"TransactionReconciler(book={self._book!r})"
