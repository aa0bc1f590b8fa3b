"""The fake broker's order book and matching: orders in, fills and trade updates out.

Prices come only from the test (``set_price``); a working order fills when the price reaches
it, at that price (never worse than its limit):

* market: at once at the current price (it waits while the symbol has no price yet);
* limit: buy at or below the limit, sell at or above it (equality fills);
* stop / stop_limit: triggered when the price reaches the stop (buy at or above, sell at or
  below), then filled as a market / limit order.

Bracket and OTO legs are ``held`` until the parent fills completely, then become ``new``; the
take-profit and stop-loss of a bracket, and both orders of an OCO pair, cancel each other on
the first fill of either. ``fill`` makes partial fills on demand. Every change is published
as a trade update, in the order it happened, through the ``publish`` callback.

Lifecycle of a submitted order as the stream reports it: the POST answers the order as
``accepted``, then ``new``, then ``partial_fill`` / ``fill`` (or ``canceled``, ``expired``,
``replaced``, ``rejected``). A replace answers the new order (new id) and publishes
``replaced`` for the old order, then ``new`` for the new one, as Alpaca users describe it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace as copy_with
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from tests.fakes.alpaca.assets import AssetDirectory
from tests.fakes.alpaca.book import AccountBook, AccountFigures
from tests.fakes.alpaca.errors import ApiRefusal
from tests.fakes.alpaca.faults import FaultPlan
from tests.fakes.alpaca.order import FakeOrder
from tests.fakes.alpaca.order_requests import OrderSpec, check_exit_prices, parse_order, parse_replace
from tests.fakes.alpaca.wire import order_json, plain, position_json, trade_update_message

__all__ = ["MatchingEngine"]

ZERO = Decimal(0)
MAX_LIST_LIMIT = 500
DEFAULT_LIST_LIMIT = 50


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


class MatchingEngine:
    """Owns every order; all public methods take one re-entrant lock, so the REST handlers
    (server thread) and the test's helpers (test thread) see one consistent book."""

    def __init__(
        self,
        *,
        book: AccountBook,
        assets: AssetDirectory,
        faults: FaultPlan,
        publish: Callable[[dict[str, Any]], None],
        now: Callable[[], datetime],
    ) -> None:
        self._lock = threading.RLock()
        self._book = book
        self._assets = assets
        self._faults = faults
        self._publish = publish
        self._now = now
        self._orders: dict[str, FakeOrder] = {}  # in submission order
        self._client_ids: dict[str, str] = {}
        self._events: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        with self._lock:
            open_count = sum(1 for o in self._orders.values() if o.is_open)
            return (
                f"MatchingEngine(orders={len(self._orders)}, open={open_count}, events={len(self._events)})"
            )

    # -- reads -------------------------------------------------------------------------

    def order(self, order_id: str, *, nested: bool = False) -> dict[str, Any]:
        with self._lock:
            return self._json(self._get(order_id), nested=nested)

    def order_by_client_id(self, client_order_id: str) -> dict[str, Any]:
        with self._lock:
            order_id = self._client_ids.get(client_order_id)
            if order_id is None:
                raise ApiRefusal.order_not_found()
            return self._json(self._orders[order_id], nested=False)

    def orders(
        self,
        *,
        status: str = "open",
        limit: int = DEFAULT_LIST_LIMIT,
        direction: str = "desc",
        nested: bool = False,
        symbols: set[str] | None = None,
        side: str | None = None,
        after: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """GET /v2/orders: ``status`` open / closed / all, newest first unless ``direction=asc``."""
        with self._lock:
            selected = [
                o
                for o in self._orders.values()
                if (status == "all" or o.is_open == (status == "open"))
                and not (nested and o.parent_id is not None)
                and (symbols is None or o.symbol in symbols)
                and (side is None or o.side == side)
                and (after is None or o.created_at > after)
                and (until is None or o.created_at < until)
            ]
            if direction != "asc":
                selected.reverse()
            return [self._json(o, nested=nested) for o in selected[: min(limit, MAX_LIST_LIMIT)]]

    def positions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._position_json(p.symbol) for p in self._book.positions()]

    def position(self, symbol_or_asset_id: str) -> dict[str, Any]:
        with self._lock:
            return self._position_json(self._assets.symbol_for(symbol_or_asset_id))

    def figures(self) -> AccountFigures:
        with self._lock:
            return self._book.figures()

    def asset_id(self, symbol: str) -> str:
        return self._assets.id_for(symbol)

    def last_price(self, symbol: str) -> Decimal | None:
        with self._lock:
            return self._book.price(symbol.upper())

    def events(self) -> list[dict[str, Any]]:
        """Every trade update published so far (the ``data`` part), oldest first."""
        with self._lock:
            return [message["data"] for message in self._events]

    # -- orders ------------------------------------------------------------------------

    def submit(self, body: Any, *, source: str = "api") -> dict[str, Any]:
        """POST /v2/orders. Answers the order as accepted; what follows goes to the stream."""
        spec = parse_order(body)
        with self._lock:
            return self._submit(spec, source)

    def replace(self, order_id: str, body: Any) -> dict[str, Any]:
        """PATCH /v2/orders/{id}: a new order takes the old one's place; the old one ends ``replaced``."""
        spec = parse_replace(body)
        with self._lock:
            old = self._get(order_id)
            if not old.is_open:
                raise ApiRefusal.not_open(old.status)
            client_order_id = spec.client_order_id or str(uuid4())
            if client_order_id in self._client_ids:
                raise ApiRefusal.duplicate_client_order_id()
            now = self._now()
            was_held = old.status == "held"
            new = copy_with(
                old,
                id=str(uuid4()),
                client_order_id=client_order_id,
                qty=spec.qty if spec.qty is not None else old.remaining,
                time_in_force=spec.time_in_force or old.time_in_force,
                limit_price=spec.limit_price if spec.limit_price is not None else old.limit_price,
                stop_price=spec.stop_price if spec.stop_price is not None else old.stop_price,
                status="accepted",
                created_at=now,
                updated_at=now,
                filled_qty=ZERO,
                filled_value=ZERO,
                stop_triggered=False,
                replaces=old.id,
                leg_ids=list(old.leg_ids),
            )
            self._register(new)
            self._relink(old, new)
            old.status, old.replaced_at, old.replaced_by = "replaced", now, new.id
            old.touch(now)
            answer = self._json(new, nested=bool(new.leg_ids))
            self._emit("replaced", old)
            new.status = "held" if was_held else "new"
            if not was_held:
                self._emit("new", new)
            self._match(new.symbol)
            return answer

    def cancel(self, order_id: str) -> None:
        """DELETE /v2/orders/{id}: 204 and a ``canceled`` update; 422 once the order is closed."""
        with self._lock:
            order = self._get(order_id)
            if not order.is_open:
                raise ApiRefusal.not_open(order.status)
            self._cancel(order)

    def cancel_all(self) -> list[dict[str, Any]]:
        """DELETE /v2/orders: every open order, answered per order (HTTP 207 multi-status)."""
        with self._lock:
            were_open = [o for o in self._orders.values() if o.is_open]
            for order in were_open:
                if order.is_open:  # a parent's cancel may already have closed its legs
                    self._cancel(order)
            return [{"id": o.id, "status": 200, "body": None} for o in were_open]

    def close_position(
        self, symbol_or_asset_id: str, *, qty: Decimal | None = None, percentage: Decimal | None = None
    ) -> dict[str, Any]:
        """DELETE /v2/positions/{symbol}: a market order for the position (or part of it)."""
        with self._lock:
            return self._close(self._assets.symbol_for(symbol_or_asset_id), qty, percentage)

    def close_all_positions(self, *, cancel_orders: bool) -> list[dict[str, Any]]:
        """DELETE /v2/positions: one closing order per position, answered per symbol (HTTP 207)."""
        with self._lock:
            if cancel_orders:
                self.cancel_all()
            answers = []
            for position in self._book.positions():
                try:
                    body = self._close(position.symbol, None, None)
                    answers.append({"symbol": position.symbol, "status": 200, "body": body})
                except ApiRefusal as refusal:
                    answers.append(
                        {"symbol": position.symbol, "status": refusal.status, "body": refusal.body}
                    )
            return answers

    # -- driven by the test ------------------------------------------------------------

    def set_price(self, symbol: str, price: Decimal) -> None:
        with self._lock:
            self._book.mark(symbol.upper(), price)
            self._match(symbol.upper())

    def fill(self, order_id: str, qty: Decimal, price: Decimal) -> dict[str, Any]:
        """Fill ``qty`` of a working order at ``price`` now, whatever the market price."""
        with self._lock:
            order = self._get(order_id)
            if not order.is_working:
                raise ValueError(f"order {order_id} is {order.status}, not working")
            if not ZERO < qty <= order.remaining:
                raise ValueError(f"fill qty {qty} outside (0, {order.remaining}]")
            self._execute(order, qty, price)
            self._match(order.symbol)
            return self._json(order, nested=False)

    def expire_day_orders(self) -> None:
        """The session ends: every open ``day`` order expires."""
        with self._lock:
            now = self._now()
            for order in list(self._orders.values()):
                if order.is_open and order.time_in_force == "day":
                    order.status, order.expired_at = "expired", now
                    order.touch(now)
                    self._emit("expired", order)

    def roll_day(self) -> None:
        with self._lock:
            self._book.roll_day()

    # -- internals: submission ---------------------------------------------------------

    def _submit(self, spec: OrderSpec, source: str) -> dict[str, Any]:
        client_order_id = spec.client_order_id or str(uuid4())
        if client_order_id in self._client_ids:
            raise ApiRefusal.duplicate_client_order_id()
        rejection = self._faults.take_rejection()
        if rejection is not None and rejection.via == "http":
            raise ApiRefusal.rejected(rejection.reason)
        market = self._book.price(spec.symbol)
        base = spec.limit_price if spec.type in ("limit", "stop_limit") else spec.stop_price or market
        check_exit_prices(spec, base)
        self._check_quantity(spec)
        self._check_buying_power(spec, market)
        parent = self._create(spec, client_order_id, source)
        legs = self._create_legs(parent, spec)
        answer = self._json(parent, nested=bool(legs))
        if rejection is not None:
            self._reject(parent, legs)
            return answer
        for order in [parent, *legs]:
            if order.status == "accepted":
                order.status = "new"
                self._emit("new", order)
        self._match(spec.symbol)
        self._apply_time_in_force(parent)
        return answer

    def _create(self, spec: OrderSpec, client_order_id: str, source: str) -> FakeOrder:
        order_type, limit = spec.type, spec.limit_price
        if spec.order_class == "oco":  # the pair's take-profit is the parent limit order
            order_type, limit = "limit", spec.take_profit_limit
        order = FakeOrder(
            id=str(uuid4()),
            client_order_id=client_order_id,
            symbol=spec.symbol,
            asset_id=self._assets.id_for(spec.symbol),
            side=spec.side,
            type=order_type,
            qty=spec.qty,
            time_in_force=spec.time_in_force,
            order_class=spec.order_class,
            position_intent=self._intent(spec.symbol, spec.side),
            created_at=self._now(),
            limit_price=limit,
            stop_price=spec.stop_price if order_type in ("stop", "stop_limit") else None,
            extended_hours=spec.extended_hours,
            source=source,
        )
        self._register(order)
        return order

    def _create_legs(self, parent: FakeOrder, spec: OrderSpec) -> list[FakeOrder]:
        if spec.order_class == "simple":
            return []
        held = spec.order_class != "oco"
        specs: list[tuple[str, Decimal | None, Decimal | None]] = []
        if spec.take_profit_limit is not None and spec.order_class != "oco":
            specs.append(("limit", spec.take_profit_limit, None))
        if spec.stop_loss_stop is not None:
            stop_type = "stop" if spec.stop_loss_limit is None else "stop_limit"
            specs.append((stop_type, spec.stop_loss_limit, spec.stop_loss_stop))
        side = parent.side if spec.order_class == "oco" else _opposite(parent.side)
        legs = []
        for order_type, limit, stop in specs:
            leg = copy_with(
                parent,
                id=str(uuid4()),
                client_order_id=str(uuid4()),
                side=side,
                type=order_type,
                limit_price=limit,
                stop_price=stop,
                position_intent=_closing_intent(side),
                status="held" if held else "accepted",
                parent_id=parent.id,
                leg_ids=[],
            )
            self._register(leg)
            parent.leg_ids.append(leg.id)
            legs.append(leg)
        if spec.order_class in ("bracket", "oco"):
            group = parent.id
            for leg in legs:
                leg.oco_group = group
            if spec.order_class == "oco":
                parent.oco_group = group
        return legs

    def _register(self, order: FakeOrder) -> None:
        self._orders[order.id] = order
        self._client_ids[order.client_order_id] = order.id

    def _relink(self, old: FakeOrder, new: FakeOrder) -> None:
        if old.parent_id is not None:
            parent = self._orders[old.parent_id]
            parent.leg_ids = [new.id if leg_id == old.id else leg_id for leg_id in parent.leg_ids]
        for leg_id in old.leg_ids:
            self._orders[leg_id].parent_id = new.id
            if new.qty != old.qty:
                self._orders[leg_id].qty = new.qty
        old.leg_ids = []

    def _reject(self, parent: FakeOrder, legs: list[FakeOrder]) -> None:
        now = self._now()
        parent.status, parent.failed_at = "rejected", now
        parent.touch(now)
        for leg in legs:
            leg.status, leg.canceled_at = "canceled", now
        self._emit("rejected", parent)

    def _intent(self, symbol: str, side: str) -> str:
        held = self._book.position_qty(symbol)
        if side == "buy":
            return "buy_to_close" if held < 0 else "buy_to_open"
        return "sell_to_close" if held > 0 else "sell_to_open"

    def _held_for_orders(self, symbol: str, side: str) -> Decimal:
        """Quantity tied up by working orders on one side; an OCO group counts once."""
        by_group: dict[str, Decimal] = {}
        for order in self._orders.values():
            if order.symbol == symbol and order.side == side and order.is_working:
                key = order.oco_group or order.id
                by_group[key] = max(by_group.get(key, ZERO), order.remaining)
        return sum(by_group.values(), ZERO)

    def _check_quantity(self, spec: OrderSpec) -> None:
        """Alpaca refuses an order that would sell more of a long (or buy more of a short)
        than is not already held for other orders, or flip the position in one order."""
        held_qty = self._book.position_qty(spec.symbol)
        closing = (spec.side == "sell" and held_qty > 0) or (spec.side == "buy" and held_qty < 0)
        if not closing:
            return
        held = self._held_for_orders(spec.symbol, spec.side)
        available = abs(held_qty) - held
        if spec.qty > available:
            raise ApiRefusal.insufficient_qty(spec.symbol, spec.qty, available, abs(held_qty), held)

    def _check_buying_power(self, spec: OrderSpec, market: Decimal | None) -> None:
        held_qty = self._book.position_qty(spec.symbol)
        opening = (spec.side == "buy" and held_qty >= 0) or (spec.side == "sell" and held_qty <= 0)
        price = spec.limit_price or spec.stop_price or market
        if not opening or price is None:
            return
        cost = spec.qty * price
        buying_power = self._book.figures().buying_power
        if cost > buying_power:
            raise ApiRefusal.insufficient_buying_power(plain(buying_power), plain(cost))

    def _close(self, symbol: str, qty: Decimal | None, percentage: Decimal | None) -> dict[str, Any]:
        position = self._book.position(symbol)
        if position is None:
            raise ApiRefusal.position_not_found()
        amount = abs(position.qty)
        if qty is not None:
            amount = qty
        elif percentage is not None:
            amount = amount * percentage / 100
        spec = OrderSpec(
            symbol=symbol,
            qty=amount,
            side="sell" if position.qty > 0 else "buy",
            type="market",
            time_in_force="day",
        )
        return self._submit(spec, "api")

    # -- internals: matching -----------------------------------------------------------

    def _match(self, symbol: str) -> None:
        """Fill every working order the current price reaches, until nothing more fills
        (a fill may activate legs that the same price reaches)."""
        price = self._book.price(symbol)
        if price is None:
            return
        progressed = True
        while progressed:
            progressed = False
            for order in list(self._orders.values()):
                if order.symbol == symbol and order.is_working and self._reached(order, price):
                    self._execute(order, order.remaining, price)
                    progressed = True

    @staticmethod
    def _reached(order: FakeOrder, price: Decimal) -> bool:
        buy = order.side == "buy"
        if order.type in ("stop", "stop_limit") and not order.stop_triggered:
            assert order.stop_price is not None
            if not (price >= order.stop_price if buy else price <= order.stop_price):
                return False
            order.stop_triggered = True
        if order.type in ("limit", "stop_limit"):
            assert order.limit_price is not None
            return price <= order.limit_price if buy else price >= order.limit_price
        return True

    def _execute(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        now = self._now()
        order.filled_qty += qty
        order.filled_value += qty * price
        order.status = "filled" if order.remaining == 0 else "partially_filled"
        if order.status == "filled":
            order.filled_at = now
        order.touch(now)
        position_qty = self._book.apply_fill(order.symbol, order.side, qty, price)
        event = "fill" if order.status == "filled" else "partial_fill"
        self._emit(event, order, execution=(str(uuid4()), price, qty, position_qty))
        self._cancel_group_siblings(order)
        if order.status == "filled":
            self._activate_legs(order, order.qty)

    def _cancel_group_siblings(self, order: FakeOrder) -> None:
        if order.oco_group is None:
            return
        for other in list(self._orders.values()):
            if other is not order and other.oco_group == order.oco_group and other.is_open:
                self._finish(other, "canceled")

    def _activate_legs(self, parent: FakeOrder, qty: Decimal) -> None:
        for leg_id in parent.leg_ids:
            leg = self._orders[leg_id]
            if leg.status == "held":
                leg.qty = qty
                leg.status = "new"
                leg.touch(self._now())
                self._emit("new", leg)

    def _apply_time_in_force(self, order: FakeOrder) -> None:
        """IOC keeps what filled at once and cancels the rest; FOK fills completely or not at all
        (the fake fills whole, so an unfilled FOK is canceled)."""
        if order.time_in_force in ("ioc", "fok") and order.is_working:
            self._finish(order, "canceled")

    def _cancel(self, order: FakeOrder) -> None:
        self._finish(order, "canceled")
        self._cancel_group_siblings(order)
        if order.leg_ids and order.filled_qty > 0:
            self._activate_legs(order, order.filled_qty)
        for leg_id in order.leg_ids:
            leg = self._orders[leg_id]
            if leg.status == "held":
                self._finish(leg, "canceled")

    def _finish(self, order: FakeOrder, status: str) -> None:
        now = self._now()
        order.status = status
        if status == "canceled":
            order.canceled_at = now
        order.touch(now)
        self._emit(status, order)

    # -- internals: output -------------------------------------------------------------

    def _get(self, order_id: str) -> FakeOrder:
        order = self._orders.get(order_id)
        if order is None:
            raise ApiRefusal.order_not_found()
        return order

    def _json(self, order: FakeOrder, *, nested: bool) -> dict[str, Any]:
        legs = [self._orders[leg_id] for leg_id in order.leg_ids] if nested and order.leg_ids else None
        return order_json(order, legs)

    def _position_json(self, symbol: str) -> dict[str, Any]:
        position = self._book.position(symbol)
        if position is None:
            raise ApiRefusal.position_not_found()
        closing_side = "sell" if position.qty > 0 else "buy"
        held = self._held_for_orders(symbol, closing_side)
        available = position.qty - held if position.qty > 0 else position.qty + held
        return position_json(
            position, self._book.current_price(position), available, self._book.lastday_price(symbol)
        )

    def _emit(
        self, event: str, order: FakeOrder, *, execution: tuple[str, Decimal, Decimal, Decimal] | None = None
    ) -> None:
        execution_id, price, qty, position_qty = execution or (None, None, None, None)
        message = trade_update_message(
            event,
            self._json(order, nested=True),
            self._now(),
            execution_id=execution_id,
            price=price,
            qty=qty,
            position_qty=position_qty,
        )
        self._events.append(message)
        self._publish(message)


def _closing_intent(side: str) -> str:
    return "sell_to_close" if side == "sell" else "buy_to_close"
