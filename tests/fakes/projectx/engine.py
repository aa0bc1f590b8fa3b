"""The fake platform's orders and matching: orders in, fills, positions, trades and hub events out.

Prices come only from the test (``set_price``, the last traded price, with the book's best
bid and ask when the test gives them); a working order fills when the price reaches it:

* market (2): at once, a buy at the best ask and a sell at the best bid when the book is known,
  else at the current price (it waits while the contract has no price yet);
* limit (1): buy at or below the limit, sell at or above it (equality fills);
* stop (4): buy when the price is at or above the stop, sell at or below; filled at the price
  (limit and stop orders look at the last price only, not at the book).

``fill`` makes partial fills on demand and ``set_price(..., max_fill=n)`` caps what each
reached order fills at that price. An order stays ``Open`` (1) while partly filled; its
``fillVolume`` grows and ``filledPrice`` is the average.

Brackets (``stopLossBracket`` / ``takeProfitBracket`` on place): ``ticks`` is signed from the
entry's average fill price (positive above), so a buy's stop loss has negative ticks and its
take profit positive ones, a sell's the reverse; the wrong sign is refused (topstep-sdk 0.1.4
``PlaceOrderBracket``, which says the gateway rejects it; project-x-py 4.4.1 sends unsigned
ticks and falls back to separate orders when refused). The legs are orders of their own
(``Stop`` / ``Limit`` as the bracket's ``type`` says), created for the filled size once the
entry is done (filled, or cancelled after a partial fill); the place answer names only the
entry. The first fill of either leg cancels the other. Legs are not cancelled when the
position is closed by other orders (not documented either way; a careful client cancels them).

Every change is published through ``publish(target, account_id, payload)`` in the order it
happened. A fill publishes, in this order (inferred; the docs give no order):
``GatewayUserOrder`` (new ``fillVolume``/status), ``GatewayUserTrade``, ``GatewayUserPosition``
(one event per position changed: a fill that crosses zero closes one and opens another) and
``GatewayUserAccount`` (new balance).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from tests.fakes.projectx.book import AccountBook, FakeAccount, FakePosition
from tests.fakes.projectx.contracts import ContractDirectory, ContractSpec
from tests.fakes.projectx.enums import OrderSide, OrderStatus, OrderType
from tests.fakes.projectx.errors import ApiRefusal, ErrorCode
from tests.fakes.projectx.faults import FaultPlan
from tests.fakes.projectx.order import BracketSpec, FakeOrder, OrderSource
from tests.fakes.projectx.order_requests import ModifyRequest, PlaceRequest
from tests.fakes.projectx.trade import FakeTrade
from tests.fakes.projectx.wire import (
    ACTION_CREATED,
    ACTION_UPDATED,
    account_json,
    order_json,
    position_json,
    trade_json,
)

__all__ = ["HubEvent", "MatchingEngine", "Publish"]

FIRST_ORDER_ID = 90001
FIRST_TRADE_ID = 70001
SIMULATED_TYPES = (OrderType.LIMIT, OrderType.MARKET, OrderType.STOP)
BRACKET_TYPES = (OrderType.LIMIT, OrderType.STOP)

Publish = Callable[[str, int, dict[str, Any]], None]


class HubEvent(NamedTuple):
    target: str
    account_id: int
    action: int
    data: dict[str, Any]


def _rejected(message: str) -> ApiRefusal:
    return ApiRefusal.failure(ErrorCode.PLACE_ORDER_REJECTED, message, orderId=None)


class MatchingEngine:
    """Owns every order; all public methods take one re-entrant lock, so the REST handlers
    (server thread) and the test's helpers (test thread) see one consistent platform."""

    def __init__(
        self,
        *,
        book: AccountBook,
        contracts: ContractDirectory,
        faults: FaultPlan,
        publish: Publish,
        now: Callable[[], datetime],
    ) -> None:
        self._lock = threading.RLock()
        self._book = book
        self._contracts = contracts
        self._faults = faults
        self._publish = publish
        self._now = now
        self._orders: dict[int, FakeOrder] = {}
        self._trades: list[FakeTrade] = []
        self._prices: dict[str, Decimal] = {}
        self._books: dict[str, tuple[Decimal | None, Decimal | None]] = {}  # contract id -> bid, ask
        self._events: list[HubEvent] = []
        self._announced_positions: set[int] = set()
        self._next_order_id = FIRST_ORDER_ID
        self._next_trade_id = FIRST_TRADE_ID

    def __repr__(self) -> str:
        with self._lock:
            working = sum(1 for o in self._orders.values() if o.is_open)
            return (
                f"MatchingEngine(orders={len(self._orders)}, working={working}, "
                f"trades={len(self._trades)}, events={len(self._events)})"
            )

    # -- reads -------------------------------------------------------------------------

    def accounts(self, *, only_active: bool) -> list[dict[str, Any]]:
        with self._lock:
            return [account_json(a) for a in self._book.accounts(only_active=only_active)]

    def account(self, account_id: int) -> dict[str, Any]:
        with self._lock:
            return account_json(self._account(account_id, ErrorCode.ACCOUNT_NOT_FOUND))

    def orders(
        self,
        account_id: int,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        open_only: bool = False,
    ) -> list[dict[str, Any]]:
        with self._lock:
            self._account(account_id, ErrorCode.ACCOUNT_NOT_FOUND)
            return [
                order_json(o)
                for o in self._orders.values()
                if o.account_id == account_id
                and (not open_only or o.is_open)
                and (start is None or o.created_at >= start)
                and (end is None or o.created_at <= end)
            ]

    def order(self, order_id: int) -> dict[str, Any]:
        with self._lock:
            return order_json(self._orders[order_id])

    def positions(self, account_id: int) -> list[dict[str, Any]]:
        with self._lock:
            self._account(account_id, ErrorCode.ACCOUNT_NOT_FOUND)
            return [position_json(p) for p in self._book.positions(account_id)]

    def trades(
        self, account_id: int, *, start: datetime | None = None, end: datetime | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            self._account(account_id, ErrorCode.ACCOUNT_NOT_FOUND)
            return [
                trade_json(t)
                for t in self._trades
                if t.account_id == account_id
                and (start is None or t.created_at >= start)
                and (end is None or t.created_at <= end)
            ]

    def bracket_legs(self, order_id: int) -> list[dict[str, Any]]:
        """The stop-loss and take-profit orders the platform made for an entry (none before it is done)."""
        with self._lock:
            return [order_json(self._orders[leg]) for leg in self._orders[order_id].leg_ids]

    def last_price(self, contract_id: str) -> Decimal | None:
        with self._lock:
            return self._prices.get(contract_id)

    def events(self) -> list[HubEvent]:
        """Every hub event published so far, oldest first."""
        with self._lock:
            return list(self._events)

    # -- the market and the account ----------------------------------------------------

    def set_price(
        self,
        contract: ContractSpec,
        price: Decimal | None,
        *,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
        max_fill: int | None = None,
    ) -> None:
        """The contract last traded at ``price`` (None: unchanged) with ``bid``/``ask`` the book's
        best prices (None: not known); working orders the market reaches fill."""
        with self._lock:
            if price is not None:
                self._prices[contract.id] = price
            self._books[contract.id] = (bid, ask)
            self._match(contract, max_fill=max_fill)

    def set_can_trade(self, account_id: int, can_trade: bool) -> None:
        with self._lock:
            account = self._account(account_id, ErrorCode.ACCOUNT_NOT_FOUND)
            account.can_trade = can_trade
            self._emit("GatewayUserAccount", account.id, ACTION_UPDATED, account_json(account))

    # -- orders ------------------------------------------------------------------------

    def place(self, request: PlaceRequest, *, source: OrderSource = "api") -> int:
        """``/api/Order/place``: the new order's id; what follows goes to the hub."""
        with self._lock:
            account = self._account(request.account_id, ErrorCode.ACCOUNT_NOT_FOUND, orderId=None)
            contract = self._contracts.get(request.contract_id)
            if contract is None:
                raise ApiRefusal.failure(ErrorCode.PLACE_CONTRACT_NOT_FOUND, None, orderId=None)
            if not contract.active:
                raise ApiRefusal.failure(ErrorCode.PLACE_CONTRACT_NOT_ACTIVE, None, orderId=None)
            if not account.can_trade:
                raise ApiRefusal.failure(ErrorCode.PLACE_ACCOUNT_VIOLATION, None, orderId=None)
            self._check_place(request, contract)
            rejection = self._faults.take_rejection()
            if rejection is not None and rejection.via == "rest":
                raise ApiRefusal.failure(rejection.error_code, rejection.message, orderId=None)
            order = self._new_order(
                account.id,
                contract,
                request.type,
                request.side,
                request.size,
                limit_price=request.limit_price,
                stop_price=request.stop_price,
                custom_tag=request.custom_tag,
                source=source,
            )
            order.stop_loss, order.take_profit = request.stop_loss, request.take_profit
            if rejection is not None:
                order.status = OrderStatus.REJECTED
            self._emit_order(order, ACTION_CREATED)
            if order.is_open:
                self._match(contract)
            return order.id

    def modify(self, request: ModifyRequest) -> None:
        """``/api/Order/modify``: the same order with a new size or price, published as an update."""
        with self._lock:
            order = self._working_order(request.account_id, request.order_id)
            size = order.size if request.size is None else request.size
            limit = order.limit_price if request.limit_price is None else request.limit_price
            stop = order.stop_price if request.stop_price is None else request.stop_price
            for price in (limit, stop):
                if price is not None and (price <= 0 or not order.contract.on_tick(price)):
                    raise ApiRefusal.failure(ErrorCode.ORDER_CHANGE_REJECTED, "Invalid price.")
            if size <= order.fill_volume:
                raise ApiRefusal.failure(ErrorCode.ORDER_CHANGE_REJECTED, "Invalid size.")
            order.size, order.limit_price, order.stop_price = size, limit, stop
            order.touch(self._now())
            self._emit_order(order, ACTION_UPDATED)
            self._match(order.contract)

    def cancel(self, account_id: int, order_id: int) -> None:
        """``/api/Order/cancel``: status 3 on the hub; refused once the order is done."""
        with self._lock:
            order = self._working_order(account_id, order_id)
            self._cancel(order)

    def close_position(self, account_id: int, contract_id: str, size: int | None = None) -> int:
        """``/api/Position/closeContract`` (all) or ``partialCloseContract`` (``size``): a market
        order against the position, filled at the current price. Returns its id."""
        partial = size is not None
        with self._lock:
            self._account(account_id, ErrorCode.ACCOUNT_NOT_FOUND)
            contract = self._contracts.get(contract_id)
            if contract is None:
                raise ApiRefusal.failure(ErrorCode.CLOSE_CONTRACT_NOT_FOUND, None)
            position = self._book.position(account_id, contract_id)
            if position is None:
                raise ApiRefusal.failure(ErrorCode.POSITION_NOT_FOUND, None)
            if partial and (size is None or not 0 < size <= abs(position.size)):
                raise ApiRefusal.failure(ErrorCode.INVALID_CLOSE_SIZE, None)
            rejected = ErrorCode.PARTIAL_CLOSE_ORDER_REJECTED if partial else ErrorCode.CLOSE_ORDER_REJECTED
            if contract.id not in self._prices:
                raise ApiRefusal.failure(rejected, "No market price.")
            rejection = self._faults.take_rejection()
            if rejection is not None and rejection.via == "rest":
                raise ApiRefusal.failure(rejected, rejection.message)
            side = OrderSide.ASK if position.size > 0 else OrderSide.BID
            order = self._new_order(
                account_id, contract, OrderType.MARKET, side, size or abs(position.size), source="close"
            )
            if rejection is not None:
                order.status = OrderStatus.REJECTED
            self._emit_order(order, ACTION_CREATED)
            self._match(contract)
            return order.id

    def fill(self, order_id: int, qty: int, price: Decimal) -> None:
        """Fill ``qty`` of a working order at ``price`` now, whatever the market."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None or not order.is_open:
                raise ValueError(f"order {order_id} is not working")
            if not 0 < qty <= order.remaining:
                raise ValueError(f"order {order_id} has {order.remaining} left to fill, not {qty}")
            self._fill(order, qty, price)

    # -- internals ---------------------------------------------------------------------

    def _account(self, account_id: int, error_code: int, **fields: Any) -> FakeAccount:
        account = self._book.account(account_id)
        if account is None:
            raise ApiRefusal.failure(error_code, None, **fields)
        return account

    def _working_order(self, account_id: int, order_id: int) -> FakeOrder:
        self._account(account_id, ErrorCode.ACCOUNT_NOT_FOUND)
        order = self._orders.get(order_id)
        if order is None or order.account_id != account_id:
            raise ApiRefusal.failure(ErrorCode.ORDER_NOT_FOUND, None)
        if not order.is_open:
            raise ApiRefusal.failure(ErrorCode.ORDER_CHANGE_REJECTED, "The order is not working.")
        return order

    def _check_place(self, request: PlaceRequest, contract: ContractSpec) -> None:
        if request.size <= 0:
            raise _rejected("Invalid order size.")
        if request.type not in SIMULATED_TYPES:
            raise _rejected(f"Order type {request.type.name} is not simulated by the fake.")
        if request.type is OrderType.LIMIT and request.limit_price is None:
            raise _rejected("A limit order needs a limit price.")
        if request.type is OrderType.STOP and request.stop_price is None:
            raise _rejected("A stop order needs a stop price.")
        for price in (request.limit_price, request.stop_price):
            if price is not None and (price <= 0 or not contract.on_tick(price)):
                raise _rejected(f"Invalid price {price}: tick size is {contract.tick_size}.")
        if request.custom_tag is not None and any(
            o.account_id == request.account_id and o.custom_tag == request.custom_tag
            for o in self._orders.values()
        ):
            raise _rejected("customTag must be unique across the account.")
        self._check_bracket(request.stop_loss, request.side, stop_loss=True)
        self._check_bracket(request.take_profit, request.side, stop_loss=False)

    @staticmethod
    def _check_bracket(bracket: BracketSpec | None, side: OrderSide, *, stop_loss: bool) -> None:
        if bracket is None:
            return
        name = "stop loss" if stop_loss else "take profit"
        if bracket.type not in BRACKET_TYPES:
            raise _rejected(f"Invalid {name} bracket type {int(bracket.type)}.")
        # A buy's stop loss sits below the entry (negative ticks), its take profit above.
        below = (side is OrderSide.BID) == stop_loss
        if bracket.ticks == 0 or (bracket.ticks < 0) != below:
            raise _rejected(f"Invalid {name} bracket ticks {bracket.ticks} for a {side.name} order.")

    def _new_order(
        self,
        account_id: int,
        contract: ContractSpec,
        type_: OrderType,
        side: OrderSide,
        size: int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        custom_tag: str | None = None,
        source: OrderSource,
    ) -> FakeOrder:
        now = self._now()
        order = FakeOrder(
            self._next_order_id,
            account_id,
            contract,
            type_,
            side,
            size,
            limit_price,
            stop_price,
            custom_tag,
            now,
            now,
            source,
        )
        self._next_order_id += 1
        self._orders[order.id] = order
        return order

    def _match(self, contract: ContractSpec, *, max_fill: int | None = None) -> None:
        """Fill every working order the current price reaches, oldest first, until none is left
        (a fill can create bracket legs the same price reaches)."""
        price = self._prices.get(contract.id)
        if price is None:
            return
        done: set[int] = set()
        while True:
            reached = [
                o
                for o in self._orders.values()
                if o.is_open and o.contract.id == contract.id and o.id not in done and self._reaches(o, price)
            ]
            if not reached:
                return
            order = reached[0]
            done.add(order.id)
            qty = order.remaining if max_fill is None else min(order.remaining, max_fill)
            self._fill(order, qty, self._fill_price(order, price))

    def _fill_price(self, order: FakeOrder, price: Decimal) -> Decimal:
        """A market order takes the book's side when it is known (a buy the ask, a sell the bid)."""
        if order.type is not OrderType.MARKET:
            return price
        bid, ask = self._books.get(order.contract.id, (None, None))
        side = ask if order.side is OrderSide.BID else bid
        return price if side is None else side

    @staticmethod
    def _reaches(order: FakeOrder, price: Decimal) -> bool:
        if order.type is OrderType.MARKET:
            return True
        buy = order.side is OrderSide.BID
        if order.type is OrderType.LIMIT:
            assert order.limit_price is not None
            return price <= order.limit_price if buy else price >= order.limit_price
        assert order.stop_price is not None
        return price >= order.stop_price if buy else price <= order.stop_price

    def _fill(self, order: FakeOrder, qty: int, price: Decimal) -> None:
        now = self._now()
        order.fill_volume += qty
        order.filled_value += qty * price
        if order.remaining == 0:
            order.status = OrderStatus.FILLED
        order.touch(now)
        outcome = self._book.apply_fill(order.account_id, order.contract, order.side.sign * qty, price, now)
        trade = FakeTrade(
            self._next_trade_id,
            order.account_id,
            order.contract,
            now,
            price,
            outcome.realized,
            outcome.fees,
            order.side,
            qty,
            order.id,
        )
        self._next_trade_id += 1
        self._trades.append(trade)
        self._emit_order(order, ACTION_UPDATED)
        self._emit("GatewayUserTrade", order.account_id, ACTION_CREATED, trade_json(trade))
        for position in outcome.changed:
            self._emit_position(position)
        account = self._book.account(order.account_id)
        assert account is not None
        self._emit("GatewayUserAccount", account.id, ACTION_UPDATED, account_json(account))
        if order.sibling_id is not None:
            sibling = self._orders[order.sibling_id]
            if sibling.is_open:
                self._cancel(sibling)
        if not order.is_open and order.has_brackets:
            self._attach_legs(order)

    def _cancel(self, order: FakeOrder) -> None:
        order.status = OrderStatus.CANCELLED
        order.touch(self._now())
        self._emit_order(order, ACTION_UPDATED)
        if order.has_brackets and order.fill_volume:
            self._attach_legs(order)

    def _attach_legs(self, entry: FakeOrder) -> None:
        base = entry.filled_price
        if base is None or entry.leg_ids:
            return
        legs: list[FakeOrder] = []
        for bracket in (entry.stop_loss, entry.take_profit):
            if bracket is None:
                continue
            price = base + bracket.ticks * entry.contract.tick_size
            leg = self._new_order(
                entry.account_id,
                entry.contract,
                bracket.type,
                entry.side.opposite,
                entry.fill_volume,
                limit_price=price if bracket.type is OrderType.LIMIT else None,
                stop_price=price if bracket.type is OrderType.STOP else None,
                source="bracket",
            )
            leg.parent_id = entry.id
            legs.append(leg)
        if len(legs) == 2:
            legs[0].sibling_id, legs[1].sibling_id = legs[1].id, legs[0].id
        entry.leg_ids = [leg.id for leg in legs]
        for leg in legs:
            self._emit_order(leg, ACTION_CREATED)

    def _emit_order(self, order: FakeOrder, action: int) -> None:
        self._emit("GatewayUserOrder", order.account_id, action, order_json(order))

    def _emit_position(self, position: FakePosition) -> None:
        action = ACTION_UPDATED if position.id in self._announced_positions else ACTION_CREATED
        self._announced_positions.add(position.id)
        self._emit("GatewayUserPosition", position.account_id, action, position_json(position))

    def _emit(self, target: str, account_id: int, action: int, data: dict[str, Any]) -> None:
        self._events.append(HubEvent(target, account_id, action, data))
        self._publish(target, account_id, {"action": action, "data": data})
