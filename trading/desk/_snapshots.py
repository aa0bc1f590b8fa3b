"""Views: the desk's live objects as the snapshot's plain-data records (``trading.snapshot``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from decimal import Decimal
from typing import Any, TypeVar

from trading.broker import AccountState
from trading.model import Order, Position, Transaction
from trading.risk import Headroom
from trading.snapshot import (
    AccountView,
    HeadroomView,
    LaneView,
    LockoutView,
    OrderView,
    PositionView,
    RuleView,
    SymbolHeadroomView,
    TransactionView,
    ViolationView,
)

V = TypeVar("V")

__all__ = [
    "account_view",
    "headroom_view",
    "lane_views",
    "lockout_views",
    "order_view",
    "position_view",
    "rule_views",
    "transaction_view",
    "violation_views",
]


def position_view(p: Position, strategies: Iterable[str] = ()) -> PositionView:
    return PositionView(
        symbol=p.symbol,
        quantity=float(p.quantity),
        avg_price=float(p.avg_price),
        last_price=None if p.last_price is None else float(p.last_price),
        unrealized_pnl=float(p.unrealized_pnl()),
        realized_pnl=float(p.realized_pnl),
        strategies=tuple(sorted(set(strategies) | p.strategies)),
    )


def account_view(
    acct: AccountState,
    *,
    daily_realized_pnl: float | Decimal,
    daily_pnl: float | Decimal,
    daily_realized_gross: float | Decimal = 0.0,
    daily_commissions: float | Decimal = 0.0,
    gross_exposure: float = 0.0,
) -> AccountView:
    """The account for display: its exact money as floats."""
    return AccountView(
        cash=float(acct.cash),
        equity=acct.equity,
        buying_power=acct.buying_power,
        realized_pnl=float(acct.realized_pnl),
        unrealized_pnl=acct.unrealized_pnl,
        commissions=float(acct.commissions),
        starting_balance=float(acct.starting_balance),
        daily_realized_pnl=float(daily_realized_pnl),
        daily_pnl=float(daily_pnl),
        daily_realized_gross=float(daily_realized_gross),
        daily_commissions=float(daily_commissions),
        gross_exposure=float(gross_exposure),
    )


def _plain(value: Any) -> Any:
    """Enums become their value and exact money a float, so the snapshot holds only plain data."""
    if isinstance(value, Decimal):
        return float(value)
    return getattr(value, "value", value)


def _view(view_cls: type[V], source: Any) -> V:
    """Build a view from an object that carries (at least) the view's field names."""
    return view_cls(**{f.name: _plain(getattr(source, f.name)) for f in fields(view_cls)})  # type: ignore[arg-type]


def order_view(order: Order) -> OrderView:
    return _view(OrderView, order)


def transaction_view(txn: Transaction) -> TransactionView:
    return _view(TransactionView, txn)


def rule_views(statuses: Iterable[Any]) -> tuple[RuleView, ...]:
    """The risk manager's ``RuleStatus`` objects (same field names) as ``RuleView``s."""
    return tuple(_view(RuleView, s) for s in statuses)


def lockout_views(lockouts: Iterable[Any], unlock_note: Callable[[Any], str]) -> tuple[LockoutView, ...]:
    """The risk manager's ``Lockout``s, each with what an operator may do about it."""
    return tuple(
        LockoutView(
            scope=lk.scope,
            rule=lk.rule,
            reason=lk.reason,
            started_at=lk.started_at,
            until=lk.until,
            unlock=unlock_note(lk),
        )
        for lk in lockouts
    )


def violation_views(violations: Iterable[Any]) -> tuple[ViolationView, ...]:
    return tuple(_view(ViolationView, v) for v in violations)


def lane_views(stats: Any) -> tuple[LaneView, ...]:
    """``ExecutorStatistics`` to one ``LaneView`` per lane (``LaneStatistics`` has every field)."""
    return tuple(_view(LaneView, lane) for lane in stats.lanes)


def headroom_view(headroom: Headroom) -> HeadroomView:
    """The risk manager's ``Headroom`` (same field names) as a ``HeadroomView``."""
    fields_ = {f.name: _plain(getattr(headroom, f.name)) for f in fields(HeadroomView) if f.name != "symbols"}
    return HeadroomView(**fields_, symbols=tuple(_view(SymbolHeadroomView, s) for s in headroom.symbols))
