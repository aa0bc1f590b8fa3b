"""Planned REST faults: rate limits, server errors, stalls and rejected orders."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.fakes.projectx import ApiRefusal, FakeProjectX, OrderStatus
from tests.unit.fakes.projectx.conftest import Gateway

BUY = 0


async def test_rate_limit_answers_429_with_an_empty_body_then_recovers(
    gateway: Gateway, account: int
) -> None:
    gateway.fake.faults.rate_limit(2, path_prefix="/api/Order")

    first = await gateway.call("/api/Order/searchOpen", {"accountId": account})
    other = await gateway.call("/api/Position/searchOpen", {"accountId": account})
    second = await gateway.call("/api/Order/searchOpen", {"accountId": account})
    third = await gateway.call("/api/Order/searchOpen", {"accountId": account})

    assert (first, second) == ((429, None), (429, None))
    assert other[0] == 200 and third[0] == 200
    assert gateway.fake.faults.statistics().rest_faults_fired == 2


async def test_rate_limit_can_say_retry_after(gateway: Gateway, account: int) -> None:
    gateway.fake.faults.rate_limit(retry_after=7)

    async with gateway.session.post(
        "/api/Order/searchOpen",
        json={"accountId": account},
        headers={"Authorization": f"Bearer {gateway.token}"},
    ) as response:
        assert (response.status, response.headers["Retry-After"]) == (429, "7")


async def test_fail_rest_answers_the_planned_status(gateway: Gateway, account: int) -> None:
    gateway.fake.faults.fail_rest(1, 503, {"message": "maintenance"})

    assert await gateway.call("/api/Account/search", {"onlyActiveAccounts": True}) == (
        503,
        {"message": "maintenance"},
    )
    assert (await gateway.call("/api/Account/search", {"onlyActiveAccounts": True}))[0] == 200


async def test_stalled_call_outlives_a_client_timeout(gateway: Gateway, account: int) -> None:
    gateway.fake.faults.stall_rest(5.0, path_prefix="/api/Position/closeContract")

    with pytest.raises(asyncio.TimeoutError):
        async with gateway.session.post(
            "/api/Position/closeContract",
            json={"accountId": account, "contractId": gateway.fake.contract("ES").id},
            headers={"Authorization": f"Bearer {gateway.token}"},
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass

    assert gateway.fake.faults.statistics().stalls_fired == 1


async def test_reject_orders_via_rest_refuses_the_place(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.faults.reject_orders(error_code=3, message="Insufficient funds.")

    answer = await gateway.refused(
        "/api/Order/place",
        {"accountId": account, "contractId": fake.contract("ES").id, "type": 2, "side": BUY, "size": 1},
    )

    assert (answer["errorCode"], answer["errorMessage"]) == (3, "Insufficient funds.")
    assert fake.orders(account) == []


async def test_reject_orders_via_hub_accepts_then_publishes_status_5(
    fake: FakeProjectX, gateway: Gateway, account: int
) -> None:
    fake.set_price("ES", 5000)
    fake.faults.reject_orders(via="hub")

    order_id = await gateway.place(account, "ES", BUY, 1)

    (event,) = fake.events()
    assert (event.target, event.data["id"], event.data["status"]) == (
        "GatewayUserOrder",
        order_id,
        OrderStatus.REJECTED,
    )
    assert fake.positions(account) == []


async def test_hand_orders_are_rejected_too(fake: FakeProjectX, account: int) -> None:
    fake.faults.reject_orders()

    with pytest.raises(ApiRefusal, match="Order rejected by the risk system"):
        fake.place_hand_order(account, "ES", "buy", 1)
