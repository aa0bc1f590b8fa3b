"""The hub and the session over time: token expiry mid-session, the hub dropping mid-fill (and
the reconciliation after it), a silent hub caught by our watchdog (blind -> REDUCING)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.fakes.projectx import FakeProjectX
from tests.unit.broker.projectx.conftest import Harness
from trading.model import BrokerBlind, BrokerSighted, Order, OrderFilled, OrderSide, OrderStatus, OrderType


def _buy(quantity: float, price: float) -> Order:
    return Order(symbol="ES", side=OrderSide.BUY, quantity=quantity, order_type=OrderType.LIMIT, price=price)


async def test_token_expiry_mid_session_logs_in_again_for_rest_and_the_hub(harness: Harness) -> None:
    fake = harness.fake
    fake.set_price("ES", 5000)
    await harness.start()
    assert fake.logins() == 1

    fake.expire_tokens()  # REST answers 401; the open hub stays, a new hub connection is refused
    order = _buy(1, 5000)
    harness.broker.submit(order)
    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the order placed and filled")
    assert fake.logins() == 2
    fake.drop_hub()

    await harness.wait_for(lambda: harness.broker.statistics().reconnects >= 2, what="the hub back")
    assert fake.logins() == 2  # the hub reconnected with the fresh token
    tokens = [c.token_id for c in fake.hub_connections()]
    assert tokens[0] != tokens[-1]  # the new connection presented the new token


async def test_token_renewed_before_it_expires(fake: FakeProjectX, make_harness) -> None:  # type: ignore[no-untyped-def]
    fake.token_ttl = timedelta(hours=1)
    harness: Harness = make_harness(token_renew_before=3599)  # due a second after the login
    await harness.start()
    await asyncio.sleep(1.1)

    harness.broker.submit(_buy(1, 4000))

    await harness.wait_for(lambda: harness.fake.requests.matching("/api/Auth/validate") or None, timeout=15)
    assert harness.fake.logins() == 1


async def test_hub_dropping_mid_fill_is_caught_up_by_the_reconciliation(harness: Harness) -> None:
    fake, account = harness.fake, harness.account_id
    await harness.start()
    order = _buy(3, 5000)
    harness.broker.submit(order)
    await harness.wait_for(lambda: order.status is OrderStatus.ACCEPTED)
    [venue_id] = [o["id"] for o in fake.orders(account) if o["customTag"] == order.order_id]
    fake.pause_hub()  # what happens now never reaches this connection
    fake.fill(venue_id, 1, 5000)
    fake.fill(venue_id, 2, 5001)
    fake.drop_hub()
    fake.resume_hub()

    await harness.wait_for(lambda: order.status is OrderStatus.FILLED, what="the missed fills booked")
    await harness.wait_for(lambda: any(r.trigger == "reconnect" for r in harness.broker.reconciliations()))
    fills = harness.recorder.of(OrderFilled)
    assert sum(f.quantity for f in fills) == 3 and harness.broker.positions()["ES"].quantity == 3
    assert order.avg_fill_price == pytest.approx((5000 + 2 * 5001) / 3)  # the platform's rounded average
    assert harness.broker.statistics().missed_fills >= 1


async def test_silent_hub_is_caught_by_the_watchdog_and_the_desk_goes_blind_then_sighted(
    make_harness,  # type: ignore[no-untyped-def]
) -> None:
    harness: Harness = make_harness(hub_silence=0.6, blind_after=0.3)
    await harness.start()
    connections = len(harness.fake.hub_connections())

    harness.fake.pause_hub()  # the socket stays open, nothing comes: pysignalr alone never notices
    await harness.wait_for(lambda: harness.recorder.of(BrokerBlind), what="blind")
    harness.fake.resume_hub()

    await harness.wait_for(lambda: harness.recorder.of(BrokerSighted), what="sighted again")
    assert len(harness.fake.hub_connections()) > connections
    assert harness.broker.statistics().reconnects >= 2
