"""Market data feeds: seeded simulation, sessions, CSV replay and its errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.unit.broker.conftest import ES
from trading.broker import (
    CsvReplayConfig,
    CsvReplayFeed,
    PaperBroker,
    SessionConfig,
    SimulatedFeed,
    SimulatedFeedConfig,
    SimulatedSymbolConfig,
)
from trading.clock import TestClock
from trading.errors import FeedDataError
from trading.model import Order, OrderSide, OrderStatus, OrderType

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples"
MONDAY_OPEN = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)  # 08:30 Chicago


def _config(seed: int = 7, **kw) -> SimulatedFeedConfig:
    symbols = (
        SimulatedSymbolConfig(symbol="ES", start_price=5000.0, volatility=0.0005, tick_size=0.25),
        SimulatedSymbolConfig(symbol="AAPL", start_price=190.0, volatility=0.0005, tick_size=0.01),
    )
    return SimulatedFeedConfig(seed=seed, ticks_per_second=4, symbols=symbols, **kw)


def test_simulated_feed_same_seed_same_prices_different_seed_differs() -> None:
    a = SimulatedFeed(_config(), TestClock()).next_ticks(200)
    b = SimulatedFeed(_config(), TestClock()).next_ticks(200)
    c = SimulatedFeed(_config(seed=8), TestClock()).next_ticks(200)
    assert [t.price for t in a] == [t.price for t in b]
    assert [t.price for t in a] != [t.price for t in c]
    assert [t.symbol for t in a[:4]] == ["ES", "AAPL", "ES", "AAPL"]


def test_simulated_feed_prices_are_on_the_tick_grid_and_positive() -> None:
    ticks = SimulatedFeed(_config(), TestClock()).next_ticks(2000)
    for t in ticks:
        size = 0.25 if t.symbol == "ES" else 0.01
        assert t.price > 0
        assert abs(t.price / size - round(t.price / size)) < 1e-6
    assert len({t.price for t in ticks if t.symbol == "ES"}) > 5  # it moves


def test_simulated_feed_step_follows_schedule_and_matches_next_ticks_path() -> None:
    clock = TestClock(MONDAY_OPEN)
    feed = SimulatedFeed(_config(), clock)
    first = feed.step()
    clock.advance(1.0)
    later = feed.step()
    assert len(first) == 2 and len(later) == 8  # 4 per second per symbol
    assert later[-1].ts == MONDAY_OPEN + timedelta(seconds=1)
    pulled = SimulatedFeed(_config(), TestClock()).next_ticks(10)
    assert [t.price for t in first + later] == [t.price for t in pulled]


def test_simulated_feed_closed_session_gives_no_ticks() -> None:
    session = SessionConfig(timezone="America/Chicago", open=time(8, 30), close=time(15, 0))
    clock = TestClock(datetime(2026, 1, 3, 15, 0, tzinfo=UTC))  # a Saturday
    feed = SimulatedFeed(_config(session=session), clock)
    assert feed.next_ticks(10) == []
    clock.set_time(MONDAY_OPEN)
    assert len(feed.next_ticks(10)) == 10
    assert feed.statistics().skipped == 10


def test_session_overnight_spans_midnight() -> None:
    futures = SessionConfig(open=time(17, 0), close=time(16, 0), weekdays=(6, 0, 1, 2, 3))
    chicago_sunday_18h = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # Sunday 18:00 Chicago
    friday_16_30 = datetime(2026, 1, 9, 22, 30, tzinfo=UTC)
    assert futures.is_open(chicago_sunday_18h)
    assert futures.is_open(MONDAY_OPEN)
    assert not futures.is_open(friday_16_30)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"symbols": ()}, "symbols"),
        ({"ticks_per_second": 0}, "ticks_per_second"),
        ({"surprise": 1}, "surprise"),
        ({"session": {"timezone": "Mars/Olympus"}}, "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_simulated_feed_config_rejects_bad_values(data: dict, field: str) -> None:
    base = {
        "ticks_per_second": 4,
        "symbols": [{"symbol": "ES", "start_price": 1, "volatility": 0, "tick_size": 0.25}],
    }
    with pytest.raises(ValidationError, match=field):
        SimulatedFeedConfig.model_validate({**base, **data})


async def test_simulated_feed_stream_yields_as_clock_moves() -> None:
    clock = TestClock(MONDAY_OPEN)
    feed = SimulatedFeed(_config(), clock)
    got = [t async for t in feed.stream(poll_interval=0, limit=2)]
    assert [t.symbol for t in got] == ["ES", "AAPL"]


def test_csv_replay_bars_feed_the_broker_and_fill_inside_the_bar() -> None:
    from trading.bus import EventBus

    clock = TestClock(MONDAY_OPEN)
    broker = PaperBroker(EventBus(), clock, [ES])
    feed = CsvReplayFeed(SAMPLES / "es_1min.csv")
    bars = list(feed)
    low = min(b.low for b in bars[1:20] if b.low is not None)
    order = broker.submit(
        Order(symbol="ES", side=OrderSide.BUY, quantity=1, order_type=OrderType.LIMIT, price=low)
    )
    for bar in bars[1:20]:
        broker.on_market_data(bar)
    assert len(bars) == 390 and bars[0].open == 5000.0
    assert order.status is OrderStatus.FILLED and order.avg_fill_price == low


def test_csv_replay_ticks_next_ticks_until_exhausted() -> None:
    with CsvReplayFeed(SAMPLES / "es_ticks.csv") as feed:
        first = feed.next_ticks(500)
        rest = feed.next_ticks(500)
        assert (len(first), len(rest), feed.next_ticks(5)) == (500, 100, [])
        assert feed.statistics().exhausted and first[1].ts - first[0].ts == timedelta(seconds=0.25)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "timestamp,symbol,price\n2026-01-05T14:30:00Z,ES,5000\n2026-01-05T14:30:01Z,ES,abc\n",
            "line 3: price 'abc'",
        ),
        ("timestamp,symbol,price\n2026-01-05T14:30:00Z,ES\n", "line 2: expected 3 fields"),
        ("timestamp,symbol,price\nyesterday,ES,1\n", "line 2: timestamp 'yesterday' is neither"),
        ("timestamp,symbol,price\n1767623401,ES,1\n1767623400,ES,1\n", "line 3: timestamp .* goes back"),
        ("timestamp,symbol,price\n1767623400,ES,-1\n", "line 2: price '-1' must be a finite number > 0"),
        (
            "timestamp,symbol,open,high,low,close,volume\n1767623400,ES,10,9,8,9,1\n",
            "line 2: bar is inconsistent",
        ),
        ("time,sym,px\n", "line 1: header"),
        ("", "line 1: empty file"),
    ],
)
def test_csv_replay_malformed_row_names_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    feed = CsvReplayFeed(path)
    with pytest.raises(FeedDataError, match=message) as caught:
        feed.validate()
    assert str(caught.value).startswith(str(path))


def test_csv_replay_rows_before_a_bad_row_are_delivered(tmp_path: Path) -> None:
    path = tmp_path / "half.csv"
    path.write_text("timestamp,symbol,price\n1767623400,ES,1\n1767623401,ES,x\n")
    got = []
    with pytest.raises(FeedDataError, match="line 3"):
        got.extend(CsvReplayFeed(path))
    assert [t.price for t in got] == [1.0]


async def test_csv_replay_stream_paces_by_speed(tmp_path: Path) -> None:
    path = tmp_path / "paced.csv"
    path.write_text("timestamp,symbol,price\n" + "".join(f"{1767623400 + i},ES,1\n" for i in range(4)))
    loop = asyncio.get_running_loop()
    feed = CsvReplayFeed(path, speed=50.0)  # 1 s apart -> 20 ms apart
    start = loop.time()
    got = [t async for t in feed.stream()]
    assert len(got) == 4 and loop.time() - start >= 0.059  # three gaps of 20 ms, never faster
    assert [t async for t in CsvReplayFeed(path).stream()] == got


def test_csv_replay_config_and_bad_speed() -> None:
    feed = CsvReplayFeed.from_config(CsvReplayConfig(path=SAMPLES / "es_ticks.csv", speed=60))
    assert "speed=60x" in repr(feed)
    with pytest.raises(ValueError, match="speed must be None"):
        CsvReplayFeed(SAMPLES / "es_ticks.csv", speed=0)
    with pytest.raises(ValidationError, match="speed"):
        CsvReplayConfig(path=SAMPLES / "es_ticks.csv", speed=-1)


def test_csv_replay_missing_file_raises_feed_error(tmp_path: Path) -> None:
    with pytest.raises(FeedDataError, match="cannot open"):
        CsvReplayFeed(tmp_path / "nope.csv").validate()
