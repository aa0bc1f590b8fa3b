"""``Guard``: orders placed outside the desk meet the desk's pre-trade checks, after the fact.

A venue does not ask the desk before it takes an order typed into its own screen. The mirror
books such an order when it first sees it (strategy "manual") and hands it to the guard,
which runs the same pre-trade checks the desk's own orders pass (the risk engine's: a
HALTED account takes no new order, a REDUCING one only orders that reduce, symbol blocks,
size limits...). A denied order still working is cancelled at the venue at once, on the
enforcement lane, and audited. When it filled before the cancel arrived (a market order
fills in milliseconds), the exposure that fill added is closed with a market order. The
fills of hand orders that pass are booked like any other, so the risk rules (daily loss,
drawdown) see them and enforce on them.

What the guard cannot do: stop an order before the venue executes it. Between the fill and
the desk's reaction (one stream message, one REST round trip) the position exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from trading.broker._checks import pre_trade_verdict
from trading.broker.base import PreTradeCheck
from trading.broker.books import Books
from trading.broker.venue.audit import AuditTrail
from trading.broker.venue.router import OrderRouter
from trading.model import Order

__all__ = ["Guard"]

_EPS = 1e-9

# Closes ``quantity`` of ``symbol``'s position at market on the enforcement lane: (symbol, quantity, reason).
CloseExposure = Callable[[str, float, str], Order | None]


class Guard:
    def __init__(
        self,
        checks: Sequence[PreTradeCheck],
        books: Books,
        router: OrderRouter,
        audit: AuditTrail,
        close_exposure: CloseExposure,
    ) -> None:
        self._checks = checks  # the broker's list: checks added later apply too
        self._books = books
        self._router = router
        self._audit = audit
        self._close_exposure = close_exposure
        self._denied: dict[str, tuple[str, str]] = {}  # order id -> (rule, reason)
        self.checked = self.cancelled = self.undone = self.check_errors = 0

    def on_foreign(self, order: Order, still_open: bool) -> None:
        """A foreign order was booked: check it; cancel it if denied and still working."""
        self.checked += 1
        verdict = self._verdict(order)
        if verdict is None:
            return
        rule, reason = verdict
        self._denied[order.order_id] = verdict
        if not still_open:
            return
        self.cancelled += 1
        self._router.cancel(order, f"guard: {reason}", urgent=True)
        self._audit.record(
            "cancel_foreign_order",
            rule,
            reason,
            f"cancelling {order.side.value} {order.quantity:g} {order.symbol} ({order.order_id}), "
            "placed outside the desk",
            order.symbol,
        )

    def on_fill(self, order: Order, quantity: float) -> None:
        """A fill was booked; one on a denied order that added exposure is closed again."""
        verdict = self._denied.get(order.order_id)
        if verdict is None:
            return
        if not order.is_open:
            del self._denied[order.order_id]
        pos = self._books.ledger.positions.get(order.symbol)
        if pos is None or pos.is_flat or pos.side is not order.side:
            return  # the fill reduced or closed the position: nothing added
        undo = min(quantity, abs(pos.quantity))
        if undo <= _EPS:
            return
        rule, reason = verdict
        self.undone += 1
        exit_order = self._close_exposure(order.symbol, undo, f"guard: {reason}")
        result = (
            f"closing {undo:g} {order.symbol} with {exit_order.order_id}: the denied order "
            f"{order.order_id} filled before its cancel"
            if exit_order is not None
            else f"nothing to close on {order.symbol}"
        )
        self._audit.record("close_foreign_fill", rule, reason, result, order.symbol)

    def _verdict(self, order: Order) -> tuple[str, str] | None:
        verdict, failed = pre_trade_verdict(self._checks, order)
        self.check_errors += failed
        return verdict

    def __repr__(self) -> str:
        return (
            f"Guard(checked={self.checked}, cancelled={self.cancelled}, undone={self.undone}, "
            f"denied_open={len(self._denied)})"
        )
