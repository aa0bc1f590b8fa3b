"""Positions (/api/Position/*: search, close, partial close) and trades (/api/Trade/search):
average prices, realized P&L with fees, and the balance that follows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes.projectx import ErrorCode, FakeProjectX
from tests.unit.fakes.projectx.conftest import Gateway

BUY, SELL = 0, 1
SINCE = "2020-01-01T00:00:00Z"


async def _positions(gateway: Gateway, account: int) -> list[dict[str, object]]:
    return (await gateway.ok("/api/Position/searchOpen", {"accountId": account}))["positions"]


async def _trades(gateway: Gateway, account: int) -> list[dict[str, object]]:
    return (await gateway.ok("/api/Trade/search", {"accountId": account, "startTimestamp": SINCE}))["trades"]


async def test_two_buys_make_one_position_at_the_weighted_average(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    await gateway.place(account, "ES", BUY, 1)
    fake.set_price("ES", 5003)
    await gateway.place(account, "ES", BUY, 2)

    (position,) = await _positions(gateway, account)

    assert (position["type"], position["size"], position["averagePrice"]) == (1, 3, 5002)
    assert set(position) == {
        "id",
        "accountId",
        "contractId",
        "creationTimestamp",
        "type",
        "size",
        "averagePrice",
    }


async def test_close_contract_flattens_at_market_and_books_pnl_and_fees(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    await gateway.place(account, "ES", BUY, 2)
    fake.set_price("ES", 4990)

    await gateway.ok(
        "/api/Position/closeContract", {"accountId": account, "contractId": fake.contract("ES").id}
    )

    assert await _positions(gateway, account) == []
    opening, closing = await _trades(gateway, account)
    assert (opening["profitAndLoss"], opening["fees"], opening["side"]) == (None, 2.8, BUY)
    assert (closing["profitAndLoss"], closing["fees"], closing["side"], closing["size"]) == (
        -1000,
        2.8,
        SELL,
        2,
    )
    assert fake.account(account)["balance"] == 50000 - 1000 - 5.6


async def test_partial_close_reduces_the_position(fake: FakeProjectX, gateway: Gateway, account: int) -> None:
    fake.set_price("MNQ", 21000)
    await gateway.place(account, "MNQ", SELL, 5)
    fake.set_price("MNQ", 20990)

    await gateway.ok(
        "/api/Position/partialCloseContract",
        {"accountId": account, "contractId": fake.contract("MNQ").id, "size": 2},
    )

    (position,) = await _positions(gateway, account)
    assert (position["type"], position["size"]) == (2, 3)
    assert (await _trades(gateway, account))[-1][
        "profitAndLoss"
    ] == 10 * 2 * 2  # 10 points, 2 contracts, $2/point


async def test_partial_close_larger_than_the_position_is_refused_code_5(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    await gateway.place(account, "ES", BUY, 1)

    answer = await gateway.refused(
        "/api/Position/partialCloseContract",
        {"accountId": account, "contractId": fake.contract("ES").id, "size": 2},
    )

    assert answer["errorCode"] == ErrorCode.INVALID_CLOSE_SIZE


async def test_close_without_a_position_is_refused_code_2(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    answer = await gateway.refused(
        "/api/Position/closeContract", {"accountId": account, "contractId": fake.contract("NQ").id}
    )

    assert answer["errorCode"] == ErrorCode.POSITION_NOT_FOUND


async def test_a_fill_through_zero_closes_one_position_and_opens_another(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    await gateway.place(account, "ES", BUY, 1)
    (long,) = await _positions(gateway, account)
    fake.set_price("ES", 5001)

    await gateway.place(account, "ES", SELL, 3)

    (short,) = await _positions(gateway, account)
    assert (short["type"], short["size"], short["averagePrice"]) == (2, 2, 5001)
    assert short["id"] != long["id"]
    flip = (await _trades(gateway, account))[-1]
    assert (flip["size"], flip["profitAndLoss"]) == (3, 50)  # one point on the one contract closed
    closed = [
        e.data for e in fake.events() if e.target == "GatewayUserPosition" and e.data["id"] == long["id"]
    ][-1]
    assert (closed["size"], closed["type"]) == (0, 1)


async def test_trade_search_answers_the_window_and_documented_fields(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("NQ", 21000)
    order_id = await gateway.place(account, "NQ", BUY, 1)
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()

    (trade,) = await _trades(gateway, account)
    later = (await gateway.ok("/api/Trade/search", {"accountId": account, "startTimestamp": future}))[
        "trades"
    ]

    assert later == []
    assert trade["orderId"] == order_id and trade["voided"] is False
    assert set(trade) == {
        "id",
        "accountId",
        "contractId",
        "creationTimestamp",
        "price",
        "profitAndLoss",
        "fees",
        "side",
        "size",
        "voided",
        "orderId",
    }


async def test_trade_search_without_start_answers_400(gateway: Gateway, account: int) -> None:
    status, answer = await gateway.call("/api/Trade/search", {"accountId": account})

    assert status == 400 and "startTimestamp" in answer["errors"]


async def test_close_by_hand_flattens_like_the_platform_ui(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("MES", 5000)
    fake.place_hand_order(account, "MES", "buy", 4)

    fake.close_by_hand(account, "MES")

    assert await _positions(gateway, account) == []
    assert [t["size"] for t in await _trades(gateway, account)] == [4, 4]
