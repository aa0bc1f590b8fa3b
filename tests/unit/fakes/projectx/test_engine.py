"""The fake's matching engine on its own (no server): triggers, brackets on short entries, legs
of a cancelled partial entry, waiting market orders, and the money each fill moves."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.projectx import ApiRefusal, ErrorCode, FaultPlan, OrderSide, OrderStatus, OrderType
from tests.fakes.projectx.book import AccountBook, AccountSetup
from tests.fakes.projectx.contracts import ContractDirectory
from tests.fakes.projectx.engine import MatchingEngine
from tests.fakes.projectx.order import BracketSpec
from tests.fakes.projectx.order_requests import PlaceRequest

ES = "CON.F.US.EP.Z25"
ACCOUNT = 1001


@pytest.fixture
def published() -> list[tuple[str, int, dict[str, Any]]]:
    return []


@pytest.fixture
def engine(published: list[tuple[str, int, dict[str, Any]]]) -> MatchingEngine:
    def publish(target: str, account_id: int, payload: dict[str, Any]) -> None:
        published.append((target, account_id, payload))

    return MatchingEngine(
        book=AccountBook([AccountSetup("A", Decimal(50_000))]),
        contracts=ContractDirectory(),
        faults=FaultPlan(),
        publish=publish,
        now=lambda: datetime(2025, 12, 1, 15, 30, tzinfo=UTC),
    )


def _price(engine: MatchingEngine, price: str) -> None:
    engine.set_price(ContractDirectory().resolve(ES), Decimal(price))


def _place(
    engine: MatchingEngine, side: OrderSide, size: int, type_: OrderType = OrderType.MARKET, **fields: Any
) -> int:
    return engine.place(PlaceRequest(ACCOUNT, ES, type_, side, size, **fields))


def _status(engine: MatchingEngine, order_id: int) -> OrderStatus:
    return OrderStatus(engine.order(order_id)["status"])


def test_engine_stop_buy_triggers_at_or_above_the_stop(engine: MatchingEngine) -> None:
    _price(engine, "5000")
    order_id = _place(engine, OrderSide.BID, 1, OrderType.STOP, stop_price=Decimal("5002"))

    _price(engine, "5001.75")
    assert _status(engine, order_id) is OrderStatus.OPEN
    _price(engine, "5002")

    assert _status(engine, order_id) is OrderStatus.FILLED


def test_engine_market_order_waits_for_a_first_price(engine: MatchingEngine) -> None:
    order_id = _place(engine, OrderSide.BID, 1)
    assert _status(engine, order_id) is OrderStatus.OPEN

    _price(engine, "5000")

    assert engine.order(order_id)["filledPrice"] == 5000


def test_engine_short_bracket_stop_above_target_below_and_a_stop_out_books_the_loss(
    engine: MatchingEngine,
) -> None:
    _price(engine, "5000")
    entry = _place(
        engine,
        OrderSide.ASK,
        2,
        stop_loss=BracketSpec(10, OrderType.STOP),
        take_profit=BracketSpec(-20, OrderType.LIMIT),
    )
    stop, target = engine.bracket_legs(entry)
    assert (stop["stopPrice"], stop["side"], target["limitPrice"], target["side"]) == (5002.5, 0, 4995, 0)

    _price(engine, "5002.5")

    assert (_status(engine, stop["id"]), _status(engine, target["id"])) == (
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
    )
    assert engine.positions(ACCOUNT) == []
    assert engine.account(ACCOUNT)["balance"] == 50_000 - 250 - 4 * 1.40


def test_engine_cancelled_partial_entry_gets_legs_for_the_filled_size(engine: MatchingEngine) -> None:
    entry = _place(
        engine,
        OrderSide.BID,
        5,
        OrderType.LIMIT,
        limit_price=Decimal("4990"),
        stop_loss=BracketSpec(-4, OrderType.STOP),
    )
    engine.fill(entry, 2, Decimal("4990"))
    assert engine.bracket_legs(entry) == []

    engine.cancel(ACCOUNT, entry)

    (stop,) = engine.bracket_legs(entry)
    assert (stop["size"], stop["stopPrice"]) == (2, 4989)


def test_engine_legs_stay_working_when_the_position_is_closed_otherwise(engine: MatchingEngine) -> None:
    _price(engine, "5000")
    entry = _place(engine, OrderSide.BID, 1, stop_loss=BracketSpec(-8, OrderType.STOP))

    engine.close_position(ACCOUNT, ES)

    (stop,) = engine.bracket_legs(entry)
    assert _status(engine, stop["id"]) is OrderStatus.OPEN  # a careful client cancels it


def test_engine_close_without_a_market_price_is_refused(engine: MatchingEngine) -> None:
    order_id = _place(engine, OrderSide.BID, 1, OrderType.LIMIT, limit_price=Decimal("5000"))
    engine.fill(order_id, 1, Decimal("5000"))  # filled by hand: ES never had a market price

    with pytest.raises(ApiRefusal) as refused:
        engine.close_position(ACCOUNT, ES)

    assert refused.value.error_code == ErrorCode.CLOSE_ORDER_REJECTED


def test_engine_short_adds_average_and_a_partial_cover_realizes_on_the_average(
    engine: MatchingEngine,
) -> None:
    _price(engine, "5000")
    _place(engine, OrderSide.ASK, 1)
    _price(engine, "5001")
    _place(engine, OrderSide.ASK, 3)
    (position,) = engine.positions(ACCOUNT)
    assert (position["type"], position["size"], position["averagePrice"]) == (2, 4, 5000.75)

    _price(engine, "4999.75")
    _place(engine, OrderSide.BID, 2)

    cover = engine.trades(ACCOUNT)[-1]
    assert cover["profitAndLoss"] == 1 * 2 * 50  # one point on two contracts at $50 a point


def test_engine_publishes_a_fill_as_order_trade_position_account(
    engine: MatchingEngine, published: list[tuple[str, int, dict[str, Any]]]
) -> None:
    _price(engine, "5000")

    _place(engine, OrderSide.BID, 1)

    assert [(target, payload["action"]) for target, _, payload in published] == [
        ("GatewayUserOrder", 0),
        ("GatewayUserOrder", 1),
        ("GatewayUserTrade", 0),
        ("GatewayUserPosition", 0),
        ("GatewayUserAccount", 1),
    ]
    assert {account for _, account, _ in published} == {ACCOUNT}
    assert engine.events()[0].data == published[0][2]["data"]


def test_engine_fill_beyond_what_remains_is_a_test_error(engine: MatchingEngine) -> None:
    order_id = _place(engine, OrderSide.BID, 1, OrderType.LIMIT, limit_price=Decimal("4990"))

    with pytest.raises(ValueError, match="has 1 left to fill, not 2"):
        engine.fill(order_id, 2, Decimal("4990"))
