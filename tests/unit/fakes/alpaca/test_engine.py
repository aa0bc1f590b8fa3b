"""The fake's matching engine and position arithmetic on their own (no server, no SDK)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.alpaca import ApiRefusal, FaultPlan
from tests.fakes.alpaca.assets import AssetDirectory
from tests.fakes.alpaca.book import AccountBook
from tests.fakes.alpaca.engine import MatchingEngine
from tests.fakes.alpaca.position import FakePosition

NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def published() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def engine(published: list[dict[str, Any]]) -> MatchingEngine:
    assets = AssetDirectory()
    book = AccountBook(cash=Decimal(100_000), multiplier=Decimal(2), asset_id=assets.id_for)
    return MatchingEngine(
        book=book, assets=assets, faults=FaultPlan(), publish=published.append, now=lambda: NOW
    )


def bracket_body(**extra: Any) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "qty": "10",
        "side": "buy",
        "type": "limit",
        "limit_price": "100",
        "time_in_force": "gtc",
        "order_class": "bracket",
        "take_profit": {"limit_price": "110"},
        "stop_loss": {"stop_price": "95"},
        **extra,
    }


def test_position_fill_through_flat_restarts_the_average_at_the_fill_price() -> None:
    position = FakePosition("AAPL", "id", Decimal(10), Decimal(100))

    realized = position.apply_fill(Decimal(-15), Decimal(104))

    assert (position.qty, position.side, position.avg_entry_price, realized) == (
        Decimal(-5),
        "short",
        Decimal(104),
        Decimal(40),
    )


def test_events_are_published_in_the_order_they_happen(
    engine: MatchingEngine, published: list[dict[str, Any]]
) -> None:
    engine.set_price("AAPL", Decimal(100))
    engine.submit(bracket_body())
    engine.set_price("AAPL", Decimal(111))

    assert [m["data"] for m in published] == engine.events()
    assert [e["event"] for e in engine.events()] == ["new", "fill", "new", "new", "fill", "canceled"]
    assert {m["stream"] for m in published} == {"trade_updates"}


def test_bracket_entry_canceled_after_a_partial_fill_activates_its_legs_for_the_filled_qty(
    engine: MatchingEngine,
) -> None:
    entry = engine.submit(bracket_body())
    engine.fill(entry["id"], Decimal(4), Decimal(100))

    engine.cancel(entry["id"])

    legs = [engine.order(leg["id"]) for leg in entry["legs"]]
    assert [(leg["status"], leg["qty"]) for leg in legs] == [("new", "4"), ("new", "4")]
    assert engine.position("AAPL")["qty_available"] == "0"


def test_bracket_entry_canceled_unfilled_cancels_its_held_legs(engine: MatchingEngine) -> None:
    entry = engine.submit(bracket_body())

    engine.cancel(entry["id"])

    assert {engine.order(leg["id"])["status"] for leg in entry["legs"]} == {"canceled"}


def test_replacing_a_bracket_stop_leg_keeps_it_one_cancels_other(engine: MatchingEngine) -> None:
    engine.set_price("AAPL", Decimal(100))
    entry = engine.submit(bracket_body())
    take_profit, stop_loss = (leg["id"] for leg in entry["legs"])

    moved = engine.replace(stop_loss, {"stop_price": "99"})
    engine.set_price("AAPL", Decimal(110))

    assert engine.order(take_profit)["status"] == "filled"
    assert engine.order(moved["id"])["status"] == "canceled"
    assert [leg["id"] for leg in engine.order(entry["id"], nested=True)["legs"]] == [take_profit, moved["id"]]


def test_first_partial_fill_of_one_leg_cancels_its_sibling(engine: MatchingEngine) -> None:
    engine.set_price("AAPL", Decimal(100))
    entry = engine.submit(bracket_body())
    take_profit, stop_loss = (leg["id"] for leg in entry["legs"])

    engine.fill(take_profit, Decimal(3), Decimal(108))

    assert engine.order(stop_loss)["status"] == "canceled"
    assert engine.order(take_profit)["status"] == "partially_filled"


def test_fill_helper_refuses_more_than_the_order_has_left(engine: MatchingEngine) -> None:
    order = engine.submit(bracket_body(order_class="simple"))

    with pytest.raises(ValueError, match=r"fill qty 11 outside \(0, 10\]"):
        engine.fill(order["id"], Decimal(11), Decimal(100))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"type": "trailing_stop", "trail_percent": "1"},
            "trailing_stop orders are not supported by the fake",
        ),
        ({"notional": "100", "qty": None}, "notional orders are not supported by the fake"),
        ({"qty": "0"}, "qty must be > 0"),
        ({"side": "hold"}, "invalid side: hold"),
        ({"order_class": "bracket", "time_in_force": "ioc"}, "bracket orders must be day or gtc"),
        ({"client_order_id": "x" * 129}, "client_order_id must be no more than 128 characters"),
    ],
)
def test_malformed_order_bodies_are_refused_422(
    engine: MatchingEngine, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiRefusal, match=message) as raised:
        engine.submit({**bracket_body(), **change})

    assert raised.value.status == 422
    assert raised.value.body == {"code": 40010001, "message": message}
