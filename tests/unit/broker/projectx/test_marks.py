"""Marks from the market hub, against the fake (pysignalr for real): a position opened by hand is
marked by the quotes of its contract (a contract the desk never traded included), unrealized P&L
follows the quotes on the books and in the risk manager, a rule on open P&L acts on a quote, the
market hub is subscribed again after a drop, and a market hub that falls silent makes the held
marks stale (reported, logged, the account REDUCING until marked again) without making the desk
blind."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.unit.broker.projectx.conftest import Harness
from trading.model import BrokerBlind, MarketDataUpdated, MarksFresh, MarksStale, TradingState


async def _quotes_subscribed(harness: Harness, contract: str, count: int = 1) -> None:
    assert await asyncio.to_thread(harness.fake.wait_for_quote_subscription, contract, count=count), (
        harness.fake.market_hub_invocations()
    )


async def _hold(harness: Harness, symbol: str, quantity: int) -> None:
    side = "buy" if quantity > 0 else "sell"
    harness.fake.place_hand_order(harness.account_id, symbol, side, abs(quantity))
    await harness.wait_for(lambda: symbol in harness.broker.positions(), what=f"the hand {symbol} position")


async def test_hand_position_is_marked_by_its_contracts_quotes(harness: Harness) -> None:
    fake = harness.fake
    fake.set_price("MES", 5000)
    await harness.start()
    await _quotes_subscribed(harness, "MES")  # a configured contract: subscribed from the start
    await _hold(harness, "MES", 2)

    fake.set_quote("MES", last=4990.25, bid=4990, ask=4990.25)

    await harness.wait_for(lambda: harness.broker.last_price("MES") == 4990.25, what="the mark")
    assert harness.broker.positions()["MES"].last_price == 4990.25
    assert harness.broker.account().unrealized_pnl == pytest.approx(2 * (4990.25 - 5000) * 5)
    marks = [e for e in harness.recorder.of(MarketDataUpdated) if e.symbol == "MES"]
    assert (marks[-1].price, marks[-1].bid, marks[-1].ask) == (4990.25, 4990, 4990.25)
    status = harness.broker.status()
    assert status["market_hub"]["connected"] is True and status["stale_marks"] == []
    assert status["marks"]["MES"]["price"] == 4990.25 and status["marks"]["MES"]["age"] < 5


async def test_hand_trade_in_a_contract_the_desk_never_traded_is_subscribed_and_marked(
    harness: Harness,
) -> None:
    fake = harness.fake
    fake.set_price("NQ", 21000)  # NQ is not among the desk's instruments
    await harness.start()
    assert fake.quote_subscribers("NQ") == 0

    await _hold(harness, "NQ", -1)
    await _quotes_subscribed(harness, "NQ")
    fake.set_price("NQ", 21010)

    await harness.wait_for(lambda: harness.broker.last_price("NQ") == 21010, what="the NQ mark")
    assert harness.broker.account().unrealized_pnl == pytest.approx(-10 * 20)  # short 1, 20 $ a point


async def test_unrealized_pnl_follows_quotes_in_the_books_and_the_risk_manager(harness: Harness) -> None:
    fake = harness.fake
    fake.set_price("ES", 5000)
    await harness.start()
    risk = harness.with_risk({"unrealized_loss": {"limit": 100_000}})
    await _quotes_subscribed(harness, "ES")
    await _hold(harness, "ES", 2)

    for price in (5004.5, 4998.25, 5001):
        fake.set_price("ES", price)
        expected = 2 * (price - 5000) * 50
        await harness.wait_for(
            lambda e=expected: harness.broker.account().unrealized_pnl == pytest.approx(e),  # type: ignore[misc]
            what=f"unrealized at {price}",
        )
        assert risk.pnl.unrealized == pytest.approx(expected)


async def test_open_loss_rule_closes_a_hand_position_on_the_breaching_quote(harness: Harness) -> None:
    fake, account = harness.fake, harness.account_id
    fake.set_price("ES", 5000)
    await harness.start()
    risk = harness.with_risk({"unrealized_loss": {"limit": 500, "action": "close_position"}})
    await _quotes_subscribed(harness, "ES")
    await _hold(harness, "ES", 2)

    fake.set_quote("ES", last=4996, bid=4995.75, ask=4996)  # -400: inside the limit
    await harness.wait_for(lambda: harness.broker.last_price("ES") == 4996, what="the first mark")
    assert fake.positions(account)
    fake.set_quote("ES", last=4994.75, bid=4994.5, ask=4994.75)  # -525: the breach

    await harness.wait_for(lambda: not fake.positions(account), what="the platform flat")
    [close] = [t for t in fake.trades(account) if t["side"] == 1]
    assert close["price"] == 4994.5  # closed at the bid of the breaching quote
    assert risk.state is TradingState.ACTIVE  # the rule closes the position, nothing more


async def test_market_hub_dropped_is_subscribed_again_and_marks_go_on(harness: Harness) -> None:
    fake = harness.fake
    fake.set_price("ES", 5000)
    await harness.start()
    await _quotes_subscribed(harness, "ES")
    first = len(fake.market_hub_connections())

    assert fake.drop_market_hub() == 1
    await harness.wait_for(lambda: len(fake.market_hub_connections()) > first, what="a new connection")
    await _quotes_subscribed(harness, "ES")
    fake.set_price("ES", 5002)

    await harness.wait_for(lambda: harness.broker.last_price("ES") == 5002, what="the mark after the drop")
    subscribed = [
        i.arguments[0] for i in fake.market_hub_invocations() if i.target == "SubscribeContractQuotes"
    ]
    assert subscribed.count(fake.contract("ES").id) == 2
    assert harness.broker.statistics().reconnects == 1  # the user hub never dropped
    assert harness.recorder.of(BrokerBlind) == []


async def test_silent_market_hub_makes_held_marks_stale_and_the_account_reducing_not_blind(
    make_harness,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness: Harness = make_harness(mark_stale_after=0.5, blind_after=0.5)
    risk = harness.with_risk({"daily_loss": {"limit": 1000, "basis": "net"}})
    fake = harness.fake
    fake.set_price("MES", 5000)
    await harness.start()
    await _quotes_subscribed(harness, "MES")
    await _hold(harness, "MES", 1)
    fake.set_price("MES", 5001)
    await harness.wait_for(lambda: harness.broker.last_price("MES") == 5001, what="the mark")

    with caplog.at_level(logging.WARNING, logger="trading.broker.projectx.market"):
        fake.pause_market_hub()  # quotes and pings held: our watchdog ends it, no new one listens
        await harness.wait_for(lambda: harness.broker.status()["stale_marks"] == ["MES"], what="stale")
    status = harness.broker.status()
    assert status["connected"] is True and status["blind"] is False  # the account is still observed
    assert status["marks"]["MES"]["age"] >= 0.5
    assert any("MES mark is stale while held" in r.getMessage() for r in caplog.records)
    # open P&L measured on an old price: no new entries until marked again, exits still pass
    (stale,) = harness.recorder.of(MarksStale)
    assert (stale.broker, stale.symbols) == ("projectx", ("MES",))
    assert risk.state is TradingState.REDUCING and "open P&L unmeasured: MES" in risk.state_reason
    await asyncio.sleep(0.6)  # past blind_after: the user hub listens, nothing turns blind
    assert harness.recorder.of(BrokerBlind) == []

    fake.resume_market_hub()
    await harness.wait_for(lambda: harness.broker.status()["market_hub"]["connected"], timeout=10)
    fake.set_price("MES", 5003)
    await harness.wait_for(lambda: harness.broker.status()["stale_marks"] == [], what="fresh again")
    assert harness.broker.last_price("MES") == 5003
    assert len(harness.recorder.of(MarksFresh)) == 1 and risk.state is TradingState.ACTIVE


async def test_market_hub_refused_leaves_the_account_observed_and_says_why(harness: Harness) -> None:
    fake = harness.fake
    fake.market_faults.refuse_hub(count=10_000, status=503)  # every market hub negotiation refused

    await harness.start()  # the user hub listens and the books are reconciled all the same
    await harness.wait_for(lambda: fake.market_hub_statistics().refused >= 2, what="refused twice")

    hub = harness.broker.status()["market_hub"]
    assert hub["connected"] is False and "503" in hub["reason"]
    assert harness.broker.status()["connected"] is True and harness.recorder.of(BrokerBlind) == []
