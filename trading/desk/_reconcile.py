"""``Reconciler``: a restart's step that compares the journal with a broker's view.

At start, after the broker is restored and before anything trades, the desk runs one
reconciliation:

1. the journal's books (account row, positions, working orders) against a ``BrokerSide``'s
   view (positions, working orders, cash). The paper broker is restored from the journal, so
   it should agree; a venue's side (Alpaca's REST view, later) ``wins``: where it differs,
   the journal follows it;
2. the journal against its own fills, recounted independently: each symbol's position is the
   signed sum of its fills, the cash is the starting balance plus the realized P&L minus the
   commissions of every fill (exact, ``Decimal``). A difference means rows were changed
   outside the desk: reported, not repaired (which row is right is for an operator to say);
3. the trade manager's restore (``TradeManager.restore``): every stored active transaction
   reconciled with its orders and fills, each repair with its reason (a transaction OPENED
   without a position is closed ``reconciled: no position``).

The result is one ``ReconciliationReport``: logged (the activity log, source ``reconcile``:
one line per book discrepancy, the trade manager's own line per transaction repair, and a
summary), stored in the key-value table and returned for the snapshot.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from decimal import Decimal

from trading.clock import Clock
from trading.desk._broker_side import BrokerBooks, BrokerSide
from trading.desk._reconciliation import RECONCILIATION_KEY, Discrepancy, ReconciliationReport
from trading.model import AccountRecord, JournalView
from trading.storage import ActivityLog, JournalReader, KeyValueRepository
from trading.trades import TradeReconciliation

__all__ = ["ACTIVITY_SOURCE", "Reconciler"]

logger = logging.getLogger(__name__)

ACTIVITY_SOURCE = "reconcile"
_EPS = 1e-9


class Reconciler:
    """Compares the journal read by ``reader`` with ``side``; see the module docstring."""

    def __init__(
        self,
        reader: JournalReader,
        side: BrokerSide,
        *,
        clock: Clock,
        activity: ActivityLog | None = None,
        kv: KeyValueRepository | None = None,
    ) -> None:
        self._reader = reader
        self._side = side
        self._clock = clock
        self._activity = activity
        self._kv = kv
        self.last: ReconciliationReport | None = None

    def reconcile(
        self, restore_trades: Callable[[], TradeReconciliation], *, risk: str = ""
    ) -> ReconciliationReport:
        """Books first (the trade manager's restore reads the broker's positions), then the
        transactions through ``restore_trades``; return the report, logged and stored."""
        view = self._reader.load()
        broker = self._side.books()
        discrepancies = self._against_broker(_journal_books(view), broker)
        if discrepancies and self._side.wins:
            view = self._reader.load()  # the journal now holds the broker's view
        notes: list[str] = []
        discrepancies += self._against_fills(view, notes)
        trades = restore_trades()
        discrepancies += [
            Discrepancy(
                subject=f"transaction {r.transaction_id} ({r.strategy} {r.symbol})",
                found=f"stored as {r.before.value}",
                repair=f"{r.before.value} -> {r.after.value}",
                reason=r.reason,
            )
            for r in trades.repairs
        ]
        report = ReconciliationReport(
            at=self._clock.now(),
            broker=self._side.name,
            working_orders=len(broker.working_orders),
            positions=len(broker.positions),
            cash=broker.cash if broker.cash is not None else _cash(view.account),
            transactions=len(trades.active),
            risk=risk,
            discrepancies=tuple(discrepancies),
            notes=tuple(notes),
        )
        self._record(report, book_discrepancies=len(discrepancies) - len(trades.repairs))
        self.last = report
        return report

    # --- the journal against the broker's view --------------------------------------

    def _against_broker(self, journal: BrokerBooks, broker: BrokerBooks) -> list[Discrepancy]:
        name = self._side.name
        found: list[tuple[str, str]] = []
        for symbol in sorted(set(journal.positions) | set(broker.positions)):
            ours, theirs = journal.positions.get(symbol, 0.0), broker.positions.get(symbol, 0.0)
            if not _same(ours, theirs):
                found.append((f"position {symbol}", f"journal {ours:g}, {name} {theirs:g}"))
        for order_id in sorted(journal.working_orders ^ broker.working_orders):
            where = "the journal" if order_id in journal.working_orders else f"the {name}"
            found.append((f"working order {order_id}", f"working only in {where}"))
        if journal.cash is not None and broker.cash is not None and journal.cash != broker.cash:
            found.append(("cash", f"journal {journal.cash:,.2f}, {name} {broker.cash:,.2f}"))
        if not found:
            return []
        if self._side.wins:
            problem = self._side.adopt()
            repair = f"the journal follows the {name}" if problem is None else f"not repaired: {problem}"
            reason = f"the {name}'s view is final"
        else:
            repair = "none: the journal's books are kept"
            reason = f"the {name} was restored from the journal, so a difference is a restore fault"
        return [Discrepancy(subject, what, repair, reason) for subject, what in found]

    # --- the journal against its own fills -------------------------------------------

    def _against_fills(self, view: JournalView, notes: list[str]) -> list[Discrepancy]:
        fills = self._reader.fills()
        legacy = sum(1 for f in fills if f.realized_pnl is None)
        if legacy:
            notes.append(
                f"recount from fills skipped: {legacy} fill(s) predate the journal (no exact P&L); "
                "their books were imported"
            )
            return []
        quantities: dict[str, float] = {}
        realized = commissions = Decimal(0)
        for fill in fills:
            quantities[fill.symbol] = quantities.get(fill.symbol, 0.0) + fill.side.sign * fill.quantity
            realized += fill.realized_pnl or Decimal(0)
            commissions += fill.commission
        rows = {p.symbol: p.quantity for p in view.positions}
        repair = "none: reported for an operator"
        reason = (
            "a fill and the rows it moves are written in one transaction: these rows were changed "
            "outside the desk"
        )
        found: list[Discrepancy] = []
        for symbol in sorted(set(rows) | set(quantities)):
            row, counted = rows.get(symbol, 0.0), quantities.get(symbol, 0.0)
            if not _same(row, counted):
                found.append(
                    Discrepancy(
                        f"position {symbol}",
                        f"positions row {row:g}, its fills sum to {counted:g}",
                        repair,
                        reason,
                    )
                )
        account = view.account
        if account is not None:
            counted_cash = account.starting_balance + realized - commissions
            if counted_cash != account.cash:
                found.append(
                    Discrepancy(
                        "cash",
                        f"account row {account.cash:,.2f}, the fills count {counted_cash:,.2f}",
                        repair,
                        reason,
                    )
                )
        return found

    # --- output --------------------------------------------------------------------

    def _record(self, report: ReconciliationReport, *, book_discrepancies: int) -> None:
        # the transactions' repairs are logged by the trade manager itself
        for discrepancy in report.discrepancies[:book_discrepancies]:
            logger.warning("reconcile: %s", discrepancy.describe())
            self._log("WARNING", discrepancy.describe(), subject=discrepancy.subject)
        for note in report.notes:
            logger.info("reconcile: %s", note)
            self._log("INFO", note)
        level = logging.INFO if report.clean else logging.WARNING
        logger.log(level, "%s", report.summary())
        self._log(logging.getLevelName(level), report.summary(), discrepancies=len(report.discrepancies))
        if self._kv is not None:
            self._kv.put(RECONCILIATION_KEY, report.to_json())

    def _log(self, level: str, message: str, **details: object) -> None:
        if self._activity is not None:
            self._activity.log_activity(level, ACTIVITY_SOURCE, message, **details)

    def __repr__(self) -> str:
        return f"Reconciler({self._side!r}, last={'none' if self.last is None else self.last.summary()!r})"


def _journal_books(view: JournalView) -> BrokerBooks:
    return BrokerBooks(
        positions={p.symbol: p.quantity for p in view.positions if abs(p.quantity) > _EPS},
        working_orders=frozenset(o.order_id for o in view.working_orders),
        cash=None if view.account is None else view.account.cash,
    )


def _cash(account: AccountRecord | None) -> Decimal:
    return Decimal(0) if account is None else account.cash


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=_EPS)
