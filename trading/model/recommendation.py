"""What a strategy asks the ``TradeManager`` for: enter a trade, with optional TP and SL."""

from __future__ import annotations

from dataclasses import dataclass

from trading.errors import OrderError
from trading.model.enums import OrderSide, OrderType
from trading.model.orders import finite_positive

__all__ = ["Recommendation"]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One trade idea. Validated on construction: an ``OrderError`` (a ``ValueError``) names
    the field, the bad value and what is allowed.

    ``entry_price`` is the limit price of a LIMIT entry, the trigger of a STOP entry, and
    both of a STOP_LIMIT entry; a MARKET entry may give it as the expected price, against
    which TP and SL are checked. ``strategy``, when given, must match the strategy that
    passes the recommendation to ``TradeManager.process``.
    """

    symbol: str
    side: OrderSide
    quantity: float
    entry_type: OrderType = OrderType.MARKET
    entry_price: float | None = None
    take_profit: float | None = None
    stop_loss: float | None = None
    strategy: str | None = None
    use_case: str = "default"
    reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol:
            raise OrderError(f"recommendation symbol must be a non-empty string, got {self.symbol!r}")
        object.__setattr__(self, "side", _enum(OrderSide, self.side, "side"))
        object.__setattr__(self, "entry_type", _enum(OrderType, self.entry_type, "entry_type"))
        if not finite_positive(self.quantity):
            raise OrderError(f"{self.symbol}: quantity must be a finite number > 0, got {self.quantity!r}")
        for name in ("entry_price", "take_profit", "stop_loss"):
            value = getattr(self, name)
            if value is not None and not finite_positive(value):
                raise OrderError(f"{self.symbol}: {name} must be a finite number > 0 or None, got {value!r}")
        if self.entry_type is not OrderType.MARKET and self.entry_price is None:
            raise OrderError(f"{self.symbol}: a {self.entry_type.value} entry needs an entry_price")
        if self.entry_price is not None:
            self.check_exits(self.entry_price)
        elif self.take_profit is not None and self.stop_loss is not None:
            self._check_pair()

    def check_exits(
        self, reference: float, *, take_profit: float | None = None, stop_loss: float | None = None
    ) -> None:
        """Refuse a TP or SL on the wrong side of ``reference`` (the entry price)."""
        tp = self.take_profit if take_profit is None else take_profit
        sl = self.stop_loss if stop_loss is None else stop_loss
        check_exit_side(self.symbol, self.side, reference, take_profit=tp, stop_loss=sl)

    def _check_pair(self) -> None:
        assert self.take_profit is not None and self.stop_loss is not None
        if self.side.sign * (self.take_profit - self.stop_loss) <= 0:
            relation = "above" if self.side is OrderSide.BUY else "below"
            raise OrderError(
                f"{self.symbol}: for a {self.side.value} the take_profit ({self.take_profit:g}) must be "
                f"{relation} the stop_loss ({self.stop_loss:g})"
            )


def check_exit_side(
    symbol: str, side: OrderSide, reference: float, *, take_profit: float | None, stop_loss: float | None
) -> None:
    """``OrderError`` when a take-profit or stop-loss is on the wrong side of ``reference``."""
    above, below = ("above", "below") if side is OrderSide.BUY else ("below", "above")
    if take_profit is not None and side.sign * (take_profit - reference) <= 0:
        raise OrderError(
            f"{symbol}: the take_profit of a {side.value} must be {above} the entry price "
            f"{reference:g}, got {take_profit:g}"
        )
    if stop_loss is not None and side.sign * (reference - stop_loss) <= 0:
        raise OrderError(
            f"{symbol}: the stop_loss of a {side.value} must be {below} the entry price "
            f"{reference:g}, got {stop_loss:g}"
        )


def _enum(kind: type[OrderSide] | type[OrderType], value: object, name: str) -> OrderSide | OrderType:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.upper())
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in kind)
    raise OrderError(f"recommendation {name} must be one of {allowed}, got {value!r}")
