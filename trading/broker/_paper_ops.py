"""The order-entry half of ``PaperBroker``: submit, OCO, cancel, modify, exits and expiry.

Every request is validated completely before anything changes; a refused request
changes nothing but the refused order's own status (DENIED or REJECTED) and publishes
one event that says why.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trading.broker._checks import check_modify as _check_modify
from trading.broker._ledger import Ledger
from trading.broker.base import PreTradeCheck
from trading.bus import EventBus
from trading.clock import Clock
from trading.errors import OrderError
from trading.model import (
    Event,
    Instrument,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderDenied,
    OrderIdFactory,
    OrderModified,
    OrderRejected,
    OrderStatus,
    OrderSubmitted,
    TimeInForce,
)

__all__ = ["BrokerStatistics", "PaperOps"]

logger = logging.getLogger(__name__)


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


class PaperOps(ABC):
    """Order entry; the subclass supplies the order book hooks and the matching."""

    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        instruments: dict[str, Instrument],
        starting_balance: float,
        buying_power_multiple: float,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._instruments = instruments
        self._ledger = Ledger(
            instruments, starting_balance=starting_balance, buying_power_multiple=buying_power_multiple
        )
        self._checks: list[PreTradeCheck] = []
        self._open: dict[str, Order] = {}
        self._oco: dict[str, set[str]] = {}
        self._fill_ids = OrderIdFactory("F")
        self._ticks = 0
        self._bad_ticks = 0
        self._counts = dict.fromkeys(
            ("submitted", "accepted", "denied", "rejected", "cancelled", "expired", "modified"), 0
        )
        self._check_errors = 0
        self._fills = 0

    # hooks the subclass implements ------------------------------------------------------
    @abstractmethod
    def _index(self, order: Order) -> None: ...

    @abstractmethod
    def _unindex(self, order: Order) -> None: ...

    @abstractmethod
    def _retire(self, order: Order) -> None: ...

    @abstractmethod
    def _known_order(self, order_id: str) -> bool: ...

    @abstractmethod
    def get_order(self, order_id: str) -> Order | None: ...

    # --- submit ------------------------------------------------------------------------

    def submit(self, order: Order, *, check: bool = True) -> Order:
        """Check, validate and accept ``order``; it rests until the next price. Returns ``order``.

        A denial ends it DENIED (``OrderDenied``), a malformed order REJECTED (``OrderRejected``).
        ``OrderError`` only for an order that is not NEW (a programming error).
        """
        self._require_new([order])
        now = self._stamp([order])
        if check:
            verdict = self._run_checks(order)
            if verdict is not None:
                self._deny(order, verdict[0], verdict[1], now)
                return order
        reason = self._invalid(order)
        if reason is not None:
            self._reject(order, reason, now)
        else:
            self._accept(order, now)
        return order

    def submit_oco(self, orders: Sequence[Order], *, check: bool = True) -> list[Order]:
        """Submit ``orders`` as one OCO group, all or nothing: if one leg is denied or
        rejected, every leg is, with a reason naming the leg that failed."""
        orders = list(orders)
        if not orders:
            raise OrderError("submit_oco needs at least one order")
        self._require_new(orders)
        now = self._stamp(orders)
        group = orders[0].oco_group or f"OCO-{orders[0].order_id}"
        for order in orders:
            order.oco_group = group
        if check:
            for order in orders:
                verdict = self._run_checks(order)
                if verdict is not None:
                    rule, reason = verdict
                    for other in orders:
                        why = reason if other is order else f"OCO sibling {order.order_id} denied: {reason}"
                        self._deny(other, rule, why, now)
                    return orders
        symbols = sorted({o.symbol for o in orders})
        for order in orders:
            problem = self._invalid(order)
            if problem is None and order is orders[-1] and len(symbols) > 1:
                order, problem = orders[0], f"OCO legs must share one symbol, got {symbols}"
            if problem is not None:
                for other in orders:
                    self._reject(
                        other,
                        problem if other is order else f"OCO sibling {order.order_id} rejected: {problem}",
                        now,
                    )
                return orders
        for order in orders:
            self._accept(order, now)
        return orders

    def _require_new(self, orders: Sequence[Order]) -> None:
        for order in orders:
            if not isinstance(order, Order):
                raise OrderError(f"expected an Order, got {order!r}")
            if order.status is not OrderStatus.NEW:
                raise OrderError(
                    f"order {order.order_id} is {order.status.value}; only a NEW order can be submitted"
                )

    def _stamp(self, orders: Sequence[Order]) -> datetime:
        now = self._clock.now()
        for order in orders:
            if order.created_at is None:
                order.created_at = now
        self._counts["submitted"] += len(orders)
        return now

    def _run_checks(self, order: Order) -> tuple[str, str] | None:
        for check in self._checks:
            try:
                verdict = check(order)
            except Exception:
                # Fail closed: a check that cannot decide must not let the order through.
                self._check_errors += 1
                name = getattr(check, "__qualname__", repr(check))
                logger.exception("pre-trade check %s raised on %r; the order is denied", name, order)
                return name, f"pre-trade check {name} failed; order denied"
            if verdict is not None:
                return verdict
        return None

    def _invalid(self, order: Order) -> str | None:
        """Why ``order`` cannot be accepted, or None."""
        if self._known_order(order.order_id):
            return f"duplicate order id {order.order_id!r}"
        inst = self._instruments.get(order.symbol)
        if inst is None:
            return f"unknown symbol {order.symbol!r} (known: {', '.join(sorted(self._instruments))})"
        try:
            order.validate()
        except OrderError as exc:
            return str(exc)
        if not isinstance(order.time_in_force, TimeInForce):
            return f"time_in_force must be a TimeInForce, got {order.time_in_force!r}"
        if order.reduce_only:
            pos = self._ledger.positions.get(order.symbol)
            if pos is None or pos.side is not order.side.opposite:
                held = "flat" if pos is None or pos.is_flat else f"{pos.quantity:g}"
                return f"reduce-only {order.side.value} would not reduce the {order.symbol} position ({held})"
        return None

    def _accept(self, order: Order, now: datetime) -> None:
        inst = self._instruments[order.symbol]
        if order.price is not None:
            order.price = inst.round_price(order.price)
        if order.stop_price is not None:
            order.stop_price = inst.round_price(order.stop_price)
        order.transition(OrderStatus.ACCEPTED, now)
        self._open[order.order_id] = order
        if order.oco_group is not None:
            self._oco.setdefault(order.oco_group, set()).add(order.order_id)
        self._index(order)
        self._counts["accepted"] += 1
        ids: dict[str, Any] = {
            "ts": now,
            "order_id": order.order_id,
            "symbol": order.symbol,
            "strategy": order.strategy,
        }
        self._bus.publish(
            OrderSubmitted(
                **ids,
                side=order.side,
                quantity=order.quantity,
                order_type=order.order_type,
                price=order.price,
                stop_price=order.stop_price,
                role=order.role,
                reduce_only=order.reduce_only,
            )
        )
        self._bus.publish(OrderAccepted(**ids))

    def _deny(self, order: Order, rule: str, reason: str, now: datetime) -> None:
        order.transition(OrderStatus.DENIED, now)
        order.reason = reason
        self._counts["denied"] += 1
        logger.info("order %s denied by %s: %s", order.order_id, rule, reason)
        self._bus.publish(
            OrderDenied(
                ts=now,
                order_id=order.order_id,
                symbol=order.symbol,
                strategy=order.strategy,
                reason=reason,
                rule=rule,
            )
        )

    def _reject(self, order: Order, reason: str, now: datetime) -> None:
        order.transition(OrderStatus.REJECTED, now)
        order.reason = reason
        self._counts["rejected"] += 1
        logger.warning("order %s rejected: %s", order.order_id, reason)
        self._bus.publish(
            OrderRejected(
                ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy, reason=reason
            )
        )

    # --- cancel / modify ---------------------------------------------------------------------

    def cancel(self, order_id: str, reason: str = "") -> bool:
        """Cancel a working order. False if it is already done; ``OrderError`` if the id is unknown."""
        order = self._open.get(order_id)
        if order is None:
            if self._known_order(order_id):
                return False
            raise OrderError(f"cannot cancel: unknown order id {order_id!r}")
        events: list[Event] = []
        self._cancel(order, reason, self._clock.now(), events)
        self._publish(events)
        return True

    def _cancel(self, order: Order, reason: str, now: datetime, events: list[Event]) -> None:
        order.transition(OrderStatus.CANCELLED, now)
        order.reason = reason
        self._retire(order)
        self._counts["cancelled"] += 1
        events.append(
            OrderCancelled(
                ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy, reason=reason
            )
        )

    def modify(
        self,
        order_id: str,
        *,
        quantity: float | None = None,
        price: float | None = None,
        stop_price: float | None = None,
    ) -> Order:
        """Change a working order's quantity, limit or stop; all checked before any is applied."""
        order = self._open.get(order_id)
        if order is None:
            done = self.get_order(order_id)
            if done is not None:
                raise OrderError(
                    f"cannot modify order {order_id}: it is {done.status.value}; only working orders change"
                )
            raise OrderError(f"cannot modify: unknown order id {order_id!r}")
        new_qty = order.quantity if quantity is None else quantity
        _check_modify(order, new_qty, price, stop_price)
        inst = self._instruments[order.symbol]
        now = self._clock.now()
        order.quantity = new_qty
        if price is not None:
            order.price = inst.round_price(price)
        if stop_price is not None:
            order.stop_price = inst.round_price(stop_price)
        order.updated_at = now
        self._index(order)
        self._counts["modified"] += 1
        self._bus.publish(
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
        return order

    def _publish(self, events: list[Event]) -> None:
        for event in events:
            self._bus.publish(event)

    def statistics(self) -> BrokerStatistics:
        return BrokerStatistics(
            ticks=self._ticks,
            bad_ticks=self._bad_ticks,
            fills=self._fills,
            check_errors=self._check_errors,
            open_orders=len(self._open),
            open_positions=len(self._ledger.open_positions()),
            **self._counts,
        )
