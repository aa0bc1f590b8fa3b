"""``MarketFeed`` without a hub: quotes handed to ``on_quote`` as pysignalr hands them, marks
coalesced by symbol until the loop's next turn, a bad quote skipped, and staleness of the held
symbols timed on an injected monotonic clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from trading.broker.projectx.contracts import ContractMap
from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.market import MarketFeed
from trading.broker.projectx.quotes import QuoteTranslator
from trading.broker.projectx.session import GatewaySession
from trading.clock import TestClock
from trading.model import MarketDataUpdated

ES = "CON.F.US.EP.Z25"
NQ = "CON.F.US.ENQ.Z25"


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def session() -> Iterator[GatewaySession]:
    made = GatewaySession("http://127.0.0.1:9", "user", "key")  # never called: no hub is run
    yield made
    made.close()


@pytest.fixture
def ticking() -> Ticking:
    return Ticking()


@pytest.fixture
def feed(session: GatewaySession, ticking: Ticking) -> MarketFeed:
    interest = ContractInterest([ES, NQ])
    clock = TestClock()
    translator = QuoteTranslator(ContractMap().symbol, clock, interest)
    return MarketFeed(
        session,
        "http://127.0.0.1:9/hubs/market",
        translator,
        interest,
        clock,
        stale_after=30,
        monotonic=ticking,
    )


async def test_burst_of_quotes_is_coalesced_to_the_latest_mark_per_symbol_at_the_next_turn(
    feed: MarketFeed,
) -> None:
    marks: list[MarketDataUpdated] = []
    feed.on_mark = marks.append

    for price in (5000, 5000.25, 4999.75):
        await feed.on_quote([ES, {"lastPrice": price}])
    await feed.on_quote([NQ, {"lastPrice": 21000}])
    handed_before_the_turn = list(marks)
    await _next_turn()

    assert handed_before_the_turn == []
    assert [(m.symbol, m.price) for m in marks] == [("ES", 4999.75), ("NQ", 21000)]
    assert (feed.messages, feed.coalesced) == (4, 2)


async def test_quote_alone_in_a_turn_is_handed_on_at_once(feed: MarketFeed) -> None:
    marks: list[MarketDataUpdated] = []
    feed.on_mark = marks.append

    await feed.on_quote([ES, {"lastPrice": 5000}])
    await _next_turn()
    await feed.on_quote([ES, {"lastPrice": 5001}])
    await _next_turn()

    assert [m.price for m in marks] == [5000, 5001] and feed.coalesced == 0


async def test_quote_not_understood_is_skipped_and_the_next_one_marks(
    feed: MarketFeed, caplog: pytest.LogCaptureFixture
) -> None:
    marks: list[MarketDataUpdated] = []
    feed.on_mark = marks.append

    await feed.on_quote([ES])
    await feed.on_quote([ES, {"lastPrice": "5000"}])
    await feed.on_quote([ES, {"lastPrice": 5000}])
    await _next_turn()

    assert [m.price for m in marks] == [5000] and feed.not_understood == 2
    assert sum("quote not understood" in r.getMessage() for r in caplog.records) == 2


async def test_held_symbol_without_a_quote_for_stale_after_is_stale_until_a_quote_comes(
    feed: MarketFeed, ticking: Ticking, caplog: pytest.LogCaptureFixture
) -> None:
    feed.held = lambda: ["ES"]
    await feed.on_quote([ES, {"lastPrice": 5000}])
    assert feed.check_stale() == []

    ticking.now += 29
    fresh = feed.check_stale()
    ticking.now += 2
    with caplog.at_level(logging.WARNING, logger="trading.broker.projectx.market"):
        stale = feed.check_stale()
        again = feed.check_stale()
    status = feed.status()
    await feed.on_quote([ES, {"lastPrice": 5000}])  # the same price: no new mark, but a quote
    after_quote = feed.check_stale()

    assert (fresh, stale, again, after_quote) == ([], ["ES"], ["ES"], [])
    assert status["stale_marks"] == ["ES"] and status["marks"]["ES"] == {
        "price": 5000,
        "contract": ES,
        "age": 31.0,
    }
    assert [r.getMessage() for r in caplog.records] == [
        "ProjectX ES mark is stale while held: last quote 31 s ago, market hub down (not connected); "
        "open P&L is measured on the last mark"
    ]


async def test_symbol_held_without_any_quote_turns_stale_after_stale_after(
    feed: MarketFeed, ticking: Ticking
) -> None:
    held = ["NQ"]
    feed.held = lambda: held
    assert feed.check_stale() == []  # held from now

    ticking.now += 31
    stale = feed.check_stale()
    held.clear()
    flat = feed.check_stale()

    assert (stale, flat) == (["NQ"], [])
    assert feed.status()["stale_marks"] == []


async def _next_turn() -> None:
    """Let the loop run what was scheduled with ``call_soon`` (the flush)."""
    await asyncio.sleep(0)
