"""Orders through /api/Order/*: place (market, limit, stop, brackets), modify, cancel, search,
partial fills, and what the platform refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.projectx import ErrorCode, FakeProjectX, OrderStatus
from tests.unit.fakes.projectx.conftest import LIVE, Gateway

BUY, SELL = 0, 1
LIMIT, MARKET, STOP = 1, 2, 4
ORDER_FIELDS = (
    "id accountId contractId symbolId creationTimestamp updateTimestamp status type side size "
    "limitPrice stopPrice fillVolume filledPrice customTag"
)


async def _open(gateway: Gateway, account: int) -> list[dict[str, object]]:
    return (await gateway.ok("/api/Order/searchOpen", {"accountId": account}))["orders"]


async def test_place_market_fills_at_the_current_price(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)

    order_id = await gateway.place(account, "ES", BUY, 2, type=MARKET)

    order = next(o for o in fake.orders(account) if o["id"] == order_id)
    assert (order["status"], order["fillVolume"], order["filledPrice"]) == (OrderStatus.FILLED, 2, 5000)
    assert await _open(gateway, account) == []


async def test_place_answers_only_the_order_id(fake: FakeProjectX, gateway: Gateway, account: int) -> None:
    answer = await gateway.ok(
        "/api/Order/place",
        {
            "accountId": account,
            "contractId": fake.contract("MNQ").id,
            "type": LIMIT,
            "side": BUY,
            "size": 1,
            "limitPrice": 21000,
        },
    )

    assert set(answer) == {"orderId", "success", "errorCode", "errorMessage"}


async def test_limit_waits_then_fills_when_the_price_reaches_it(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    order_id = await gateway.place(account, "NQ", BUY, 1, type=LIMIT, limitPrice=21000.25)
    fake.set_price("NQ", 21001)

    (working,) = await _open(gateway, account)
    assert (working["id"], working["status"], working["limitPrice"], working["type"]) == (
        order_id,
        1,
        21000.25,
        LIMIT,
    )

    fake.set_price("NQ", 21000.25)  # equality fills
    assert await _open(gateway, account) == []
    assert fake.positions(account)[0]["averagePrice"] == 21000.25


async def test_stop_sell_triggers_at_or_below_the_stop(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    await gateway.place(account, "ES", SELL, 1, type=STOP, stopPrice=4990)

    fake.set_price("ES", 4990.25)
    assert len(await _open(gateway, account)) == 1
    fake.set_price("ES", 4989.5)

    assert await _open(gateway, account) == []
    assert fake.positions(account)[0]["type"] == 2  # short


async def test_modify_keeps_the_order_id_and_applies_the_new_price(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    order_id = await gateway.place(account, "ES", BUY, 3, type=LIMIT, limitPrice=4990)
    fake.set_price("ES", 4995)

    await gateway.ok(
        "/api/Order/modify", {"accountId": account, "orderId": order_id, "limitPrice": 4994.75, "size": 2}
    )
    (working,) = await _open(gateway, account)
    assert (working["id"], working["limitPrice"], working["size"]) == (order_id, 4994.75, 2)

    fake.set_price("ES", 4994.75)
    assert fake.positions(account)[0]["size"] == 2


async def test_modify_to_a_size_already_filled_is_refused_code_3(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    order_id = await gateway.place(account, "ES", BUY, 3, type=LIMIT, limitPrice=4990)
    fake.fill(order_id, 2, 4990)

    answer = await gateway.refused(
        "/api/Order/modify", {"accountId": account, "orderId": order_id, "size": 2}
    )

    assert answer["errorCode"] == ErrorCode.ORDER_CHANGE_REJECTED


async def test_cancel_then_cancel_again_is_refused_code_3(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    order_id = await gateway.place(account, "ES", BUY, 1, type=LIMIT, limitPrice=4990)

    await gateway.ok("/api/Order/cancel", {"accountId": account, "orderId": order_id})
    answer = await gateway.refused("/api/Order/cancel", {"accountId": account, "orderId": order_id})

    assert answer["errorCode"] == ErrorCode.ORDER_CHANGE_REJECTED
    assert fake.orders(account)[0]["status"] == OrderStatus.CANCELLED


async def test_cancel_of_another_accounts_order_is_not_found_code_2(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    order_id = await gateway.place(account, "ES", BUY, 1, type=LIMIT, limitPrice=4990)

    answer = await gateway.refused(
        "/api/Order/cancel", {"accountId": fake.account_id(LIVE), "orderId": order_id}
    )

    assert answer["errorCode"] == ErrorCode.ORDER_NOT_FOUND


async def test_partial_fills_keep_the_order_open_with_an_average_price(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    order_id = await gateway.place(account, "MES", BUY, 4, type=LIMIT, limitPrice=5000)

    fake.fill(order_id, 1, 5000)
    fake.fill(order_id, 2, 4999.5)
    (working,) = await _open(gateway, account)

    assert (working["status"], working["fillVolume"], working["filledPrice"]) == (
        OrderStatus.OPEN,
        3,
        4999.666666667,
    )
    fake.fill(order_id, 1, 4999)
    assert await _open(gateway, account) == []


async def test_set_price_with_max_fill_fills_part_of_each_reached_order(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    await gateway.place(account, "ES", BUY, 5, type=LIMIT, limitPrice=5000)

    fake.set_price("ES", 5000, max_fill=2)

    (working,) = await _open(gateway, account)
    assert working["fillVolume"] == 2


async def test_order_search_answers_orders_created_in_the_window(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    first = await gateway.place(account, "ES", BUY, 1)
    second = await gateway.place(account, "ES", SELL, 1, type=LIMIT, limitPrice=5010)
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()

    found = (await gateway.ok("/api/Order/search", {"accountId": account, "startTimestamp": since}))["orders"]
    later = (
        await gateway.ok(
            "/api/Order/search",
            {"accountId": account, "startTimestamp": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()},
        )
    )["orders"]

    assert [o["id"] for o in found] == [first, second] and later == []
    assert set(found[0]) == set(ORDER_FIELDS.split())


async def test_bracket_legs_appear_after_the_entry_fills_with_signed_ticks(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)

    entry = await gateway.place(
        account,
        "ES",
        BUY,
        2,
        type=MARKET,
        stopLossBracket={"ticks": -8, "type": STOP},
        takeProfitBracket={"ticks": 12, "type": LIMIT},
    )

    legs = sorted(await _open(gateway, account), key=lambda o: o["type"])
    assert [(o["type"], o["side"], o["size"], o["limitPrice"], o["stopPrice"]) for o in legs] == [
        (LIMIT, SELL, 2, 5003.0, None),
        (STOP, SELL, 2, None, 4998.0),
    ]
    assert [leg["id"] for leg in fake.bracket_legs(entry)] == sorted(o["id"] for o in legs)


async def test_bracket_take_profit_fill_cancels_the_stop_and_books_the_gain(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    await gateway.place(
        account,
        "ES",
        BUY,
        1,
        type=MARKET,
        stopLossBracket={"ticks": -8, "type": STOP},
        takeProfitBracket={"ticks": 12, "type": LIMIT},
    )

    fake.set_price("ES", 5003)

    assert await _open(gateway, account) == []
    assert [o["status"] for o in fake.orders(account)] == [
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.FILLED,
    ]
    assert fake.account(account)["balance"] == 50000 + 150 - 2 * 1.40


@pytest.mark.parametrize(
    ("side", "stop_loss", "take_profit"),
    [(BUY, 8, 12), (BUY, -8, -12), (SELL, -8, 12), (BUY, 0, 12)],
)
async def test_bracket_ticks_of_the_wrong_sign_are_refused(
    fake: FakeProjectX, gateway: Gateway, account: int, side: int, stop_loss: int, take_profit: int
) -> None:
    body = {
        "accountId": account,
        "contractId": fake.contract("ES").id,
        "type": MARKET,
        "side": side,
        "size": 1,
    }
    body["stopLossBracket"] = {"ticks": stop_loss, "type": STOP}
    body["takeProfitBracket"] = {"ticks": take_profit, "type": LIMIT}

    answer = await gateway.refused("/api/Order/place", body)

    assert (answer["errorCode"], answer["orderId"]) == (ErrorCode.PLACE_ORDER_REJECTED, None)
    assert "bracket ticks" in answer["errorMessage"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"contractId": "CON.F.US.EP.H26"}, ErrorCode.PLACE_CONTRACT_NOT_ACTIVE),
        ({"contractId": "CON.F.US.ZZ.Z25"}, ErrorCode.PLACE_CONTRACT_NOT_FOUND),
        ({"accountId": 4242}, ErrorCode.ACCOUNT_NOT_FOUND),
        ({"type": LIMIT, "limitPrice": 5000.1}, ErrorCode.PLACE_ORDER_REJECTED),  # off the 0.25 tick
        ({"type": LIMIT}, ErrorCode.PLACE_ORDER_REJECTED),  # no limit price
        ({"type": 5, "trailPrice": 4}, ErrorCode.PLACE_ORDER_REJECTED),  # trailing stop: not simulated
        ({"size": 0}, ErrorCode.PLACE_ORDER_REJECTED),
    ],
)
async def test_place_refusals_answer_success_false_with_the_code(
    fake: FakeProjectX, gateway: Gateway, account: int, fields: dict[str, object], code: int
) -> None:
    body = {
        "accountId": account,
        "contractId": fake.contract("ES").id,
        "type": MARKET,
        "side": BUY,
        "size": 1,
        **fields,
    }

    answer = await gateway.refused("/api/Order/place", body)

    assert answer["errorCode"] == code
    assert fake.events() == []


async def test_custom_tag_must_be_unique_across_the_account(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    await gateway.place(account, "ES", BUY, 1, type=LIMIT, limitPrice=4990, customTag="desk-1")

    answer = await gateway.refused(
        "/api/Order/place",
        {
            "accountId": account,
            "contractId": fake.contract("ES").id,
            "type": LIMIT,
            "side": BUY,
            "size": 1,
            "limitPrice": 4990,
            "customTag": "desk-1",
        },
    )

    assert "customTag" in answer["errorMessage"]
    assert fake.orders(account)[0]["customTag"] == "desk-1"


async def test_account_that_cannot_trade_refuses_orders_code_4(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_can_trade(account, False)

    answer = await gateway.refused(
        "/api/Order/place",
        {"accountId": account, "contractId": fake.contract("ES").id, "type": MARKET, "side": BUY, "size": 1},
    )

    assert answer["errorCode"] == ErrorCode.PLACE_ACCOUNT_VIOLATION
    assert (await gateway.ok("/api/Account/search", {"onlyActiveAccounts": True}))["accounts"][0][
        "canTrade"
    ] is False


async def test_place_with_a_wrong_enum_value_answers_400(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    status, answer = await gateway.call(
        "/api/Order/place",
        {"accountId": account, "contractId": fake.contract("ES").id, "type": 2, "side": 7, "size": 1},
    )

    assert status == 400 and "side" in answer["errors"]


async def test_hand_order_is_seen_by_rest_reads_and_not_in_the_request_log(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("MNQ", 21000)
    before = len(fake.requests)

    fake.place_hand_order(account, "MNQ", "sell", 3)

    assert len(fake.requests) == before
    (position,) = (await gateway.ok("/api/Position/searchOpen", {"accountId": account}))["positions"]
    assert (position["contractId"], position["type"], position["size"]) == ("CON.F.US.MNQ.Z25", 2, 3)
