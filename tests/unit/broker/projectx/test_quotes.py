"""``QuoteTranslator`` and ``ContractInterest`` alone: a ``GatewayQuote`` as a mark (the last traded
price; the middle of the book before a trade; nothing when the mark did not move), partial
quotes, one symbol quoted from two months."""

from __future__ import annotations

import pytest

from trading.broker.projectx.contracts import ContractMap
from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.quotes import QuoteTranslator
from trading.clock import TestClock
from trading.model import MarketDataUpdated

ES_Z25 = "CON.F.US.EP.Z25"
ES_H26 = "CON.F.US.EP.H26"


@pytest.fixture
def interest() -> ContractInterest:
    return ContractInterest([ES_Z25])


@pytest.fixture
def translator(interest: ContractInterest) -> QuoteTranslator:
    return QuoteTranslator(ContractMap().symbol, TestClock(), interest)


def _quote(**prices: float) -> dict[str, object]:
    return {"symbol": "F.US.EP", "symbolName": "/ES", "timestamp": "2026-01-05T14:30:00+00:00", **prices}


def test_quote_last_price_is_the_mark_of_our_symbol(translator: QuoteTranslator) -> None:
    event = translator.quote(ES_Z25, _quote(lastPrice=5000.25, bestBid=5000, bestAsk=5000.25, volume=9))

    assert isinstance(event, MarketDataUpdated)
    assert (event.symbol, event.price, event.bid, event.ask, event.volume) == (
        "ES",
        5000.25,
        5000,
        5000.25,
        0,
    )
    assert event.ts == TestClock().now()


def test_quote_that_leaves_the_mark_publishes_nothing(translator: QuoteTranslator) -> None:
    translator.quote(ES_Z25, _quote(lastPrice=5000, bestBid=4999.75, bestAsk=5000))

    book_only = translator.quote(ES_Z25, _quote(lastPrice=5000, bestBid=5000, bestAsk=5000.25))
    moved = translator.quote(ES_Z25, _quote(lastPrice=4999.75))

    assert book_only is None
    assert moved is not None and (moved.price, moved.bid, moved.ask) == (4999.75, 5000, 5000.25)
    assert (translator.quotes, translator.marks) == (3, 2)


def test_partial_quote_keeps_the_fields_it_does_not_carry(translator: QuoteTranslator) -> None:
    translator.quote(ES_Z25, _quote(lastPrice=5000, bestBid=4999.75, bestAsk=5000))

    bid_only = translator.quote(ES_Z25, _quote(bestBid=4999.5))
    null_last = translator.quote(ES_Z25, {"symbol": "F.US.EP", "lastPrice": None, "bestAsk": 5001})

    assert bid_only is None and null_last is None
    assert translator.mark_of("ES") == (ES_Z25, 5000)


def test_mark_before_any_trade_is_the_middle_of_the_book(translator: QuoteTranslator) -> None:
    one_side = translator.quote(ES_Z25, _quote(bestBid=4999.75))
    both = translator.quote(ES_Z25, _quote(bestAsk=5000.25))
    traded = translator.quote(ES_Z25, _quote(lastPrice=5000.25))

    assert one_side is None
    assert both is not None and both.price == 5000
    assert traded is not None and traded.price == 5000.25


def test_quote_without_a_positive_price_is_no_mark(translator: QuoteTranslator) -> None:
    assert translator.quote(ES_Z25, _quote(lastPrice=0, bestBid=-1)) is None
    assert translator.mark_of("ES") is None


def test_malformed_price_raises_for_the_feed_to_skip(translator: QuoteTranslator) -> None:
    with pytest.raises(TypeError):
        translator.quote(ES_Z25, _quote(lastPrice="5000"))  # type: ignore[arg-type]


def test_symbol_quoted_from_two_months_takes_its_mark_from_the_held_one(
    translator: QuoteTranslator, interest: ContractInterest
) -> None:
    translator.quote(ES_H26, _quote(lastPrice=5050))  # the first quoted owns the symbol's mark
    old_month = translator.quote(ES_Z25, _quote(lastPrice=5000))
    interest.hold([ES_Z25])  # the REST read shows the position in the December contract

    held = translator.quote(ES_Z25, _quote(lastPrice=5000.25))
    front = translator.quote(ES_H26, _quote(lastPrice=5051))

    assert old_month is None
    assert held is not None and held.price == 5000.25
    assert front is None and translator.mark_of("ES") == (ES_Z25, 5000.25)
    assert translator.skipped == 2


def test_interest_counts_versions_and_holds_what_is_held() -> None:
    interest = ContractInterest(["A"])

    interest.add("A")
    before = interest.version
    interest.hold(["B"])

    assert interest.version == before + 1 and interest.held == {"B"}
    assert interest.snapshot() == (before + 1, frozenset({"A", "B"}))
    assert "B" in interest and len(interest) == 2
