"""The exits half of ``PaperBroker``'s order entry: flatten, close, reduce, and DAY expiry.

Exits are market orders with role EXIT and ``reduce_only``, submitted without the pre-trade
checks: reducing exposure is always allowed, even in a HALTED account.
"""

from __future__ import annotations

from trading.broker._paper_ops import PaperOps
from trading.errors import OrderError, UnknownInstrumentError
from trading.model import Event, Order, OrderExpired, OrderRole, OrderStatus, OrderType, TimeInForce
from trading.model.orders import finite_positive

__all__ = ["PaperExits"]


class PaperExits(PaperOps):
    # --- exits (never pre-trade checked) ---------------------------------------------------

    def flatten_all(self, reason: str = "") -> list[Order]:
        """Cancel every working order, then close every position at market."""
        now = self._clock.now()
        events: list[Event] = []
        for order in list(self._open.values()):
            self._cancel(order, reason or "flatten all", now, events)
        self._publish(events)
        return [
            self._exit(s, abs(p.quantity), reason or "flatten all")
            for s, p in self._ledger.open_positions().items()
        ]

    def close_position(self, symbol: str, reason: str = "") -> Order | None:
        """Cancel ``symbol``'s working orders and close its position at market (None if flat)."""
        if symbol not in self._instruments:
            raise UnknownInstrumentError(symbol)
        now = self._clock.now()
        events: list[Event] = []
        for order in [o for o in self._open.values() if o.symbol == symbol]:
            self._cancel(order, reason or f"close {symbol}", now, events)
        self._publish(events)
        pos = self._ledger.positions.get(symbol)
        if pos is None or pos.is_flat:
            return None
        return self._exit(symbol, abs(pos.quantity), reason or f"close {symbol}")

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
        expired = [o for o in self._open.values() if o.time_in_force is TimeInForce.DAY]
        events: list[Event] = []
        for order in expired:
            order.transition(OrderStatus.EXPIRED, now)
            self._retire(order)
            self._counts["expired"] += 1
            events.append(
                OrderExpired(ts=now, order_id=order.order_id, symbol=order.symbol, strategy=order.strategy)
            )
        self._publish(events)
        return expired
