"""EventBus: order, breadth-first nesting, error isolation, coroutine subscribers, statistics."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from trading.bus import EventBus
from trading.model import Event, MarketDataUpdated, OrderAccepted, OrderEvent, OrderFilled, OrderSide

TS = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _tick(price: float = 100.0) -> MarketDataUpdated:
    return MarketDataUpdated(ts=TS, symbol="ES", price=price)


def _accepted(order_id: str = "O1") -> OrderAccepted:
    return OrderAccepted(ts=TS, order_id=order_id, symbol="ES")


def test_bus_subscribers_called_in_subscription_order_across_base_types() -> None:
    bus = EventBus()
    calls: list[str] = []
    bus.subscribe(OrderAccepted, lambda e: calls.append("specific-1"))
    bus.subscribe(Event, lambda e: calls.append("all"))
    bus.subscribe(OrderEvent, lambda e: calls.append("orders"))
    bus.subscribe(OrderAccepted, lambda e: calls.append("specific-2"))
    bus.subscribe(MarketDataUpdated, lambda e: calls.append("prices"))

    bus.publish(_accepted())

    assert calls == ["specific-1", "all", "orders", "specific-2"]


def test_bus_nested_publish_is_delivered_breadth_first() -> None:
    bus = EventBus()
    seen: list[tuple[str, str]] = []

    def first(e: Event) -> None:
        seen.append(("first", type(e).__name__))
        if isinstance(e, MarketDataUpdated):
            bus.publish(_accepted())

    bus.subscribe(Event, first)
    bus.subscribe(Event, lambda e: seen.append(("second", type(e).__name__)))

    bus.publish(_tick())

    assert seen == [
        ("first", "MarketDataUpdated"),
        ("second", "MarketDataUpdated"),
        ("first", "OrderAccepted"),
        ("second", "OrderAccepted"),
    ]


def test_bus_failing_subscriber_is_logged_and_others_still_receive(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    got: list[Event] = []

    def broken(e: Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe(MarketDataUpdated, broken)
    bus.subscribe(MarketDataUpdated, got.append)
    event = _tick(101.0)

    with caplog.at_level(logging.ERROR, logger="trading.bus"):
        bus.publish(event)

    assert got == [event]
    [record] = caplog.records
    assert record.getMessage() == f"subscriber {broken.__qualname__} failed on {event!r}"
    assert record.exc_info is not None and str(record.exc_info[1]) == "boom"
    stats = bus.statistics()
    assert stats.subscriber_errors == 1
    assert stats.errors_by_subscriber == {broken.__qualname__: 1}


async def test_bus_coroutine_subscriber_runs_as_task_and_drain_waits() -> None:
    bus = EventBus()
    done: list[float] = []

    async def slow(e: MarketDataUpdated) -> None:
        await asyncio.sleep(0)
        done.append(e.price)

    bus.subscribe(MarketDataUpdated, slow)
    bus.publish(_tick(1.0))
    bus.publish(_tick(2.0))
    assert bus.statistics().pending_tasks == 2

    await bus.drain()

    assert done == [1.0, 2.0]
    assert bus.statistics().pending_tasks == 0


async def test_bus_coroutine_subscriber_error_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()

    async def broken(e: Event) -> None:
        raise ValueError("async boom")

    bus.subscribe(Event, broken)
    with caplog.at_level(logging.ERROR, logger="trading.bus"):
        bus.publish(_tick())
        await bus.drain()

    assert bus.statistics().subscriber_errors == 1
    assert "failed on" in caplog.records[0].getMessage()


async def test_bus_callable_object_returning_coroutine_is_awaited() -> None:
    bus = EventBus()
    got: list[Event] = []

    class Handler:
        async def __call__(self, e: Event) -> None:
            got.append(e)

    bus.subscribe(Event, Handler())
    bus.publish(_tick())
    await bus.drain()

    assert len(got) == 1


def test_bus_coroutine_subscriber_without_loop_is_an_error_not_a_leak(caplog: pytest.LogCaptureFixture) -> None:
    # Arrange: filterwarnings=error turns a leaked "never awaited" coroutine into a failure.
    bus = EventBus()

    async def handler(e: Event) -> None:
        pass

    bus.subscribe(Event, handler)
    with caplog.at_level(logging.ERROR, logger="trading.bus"):
        bus.publish(_tick())

    assert bus.statistics().subscriber_errors == 1
    assert "needs a running event loop" in caplog.text


def test_bus_statistics_count_published_delivered_and_types() -> None:
    bus = EventBus()
    bus.subscribe(Event, lambda e: None)
    bus.subscribe(MarketDataUpdated, lambda e: None)
    bus.publish(_tick())
    bus.publish(_tick())
    bus.publish(_accepted())
    bus.publish(OrderFilled(ts=TS, order_id="O1", symbol="ES", side=OrderSide.BUY, quantity=1, price=1.0))

    stats = bus.statistics()

    assert stats.published == 4
    assert stats.delivered == 2 * 2 + 1 + 1
    assert stats.events_by_type == {"MarketDataUpdated": 2, "OrderAccepted": 1, "OrderFilled": 1}
    assert "published=4" in repr(bus)


def test_bus_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    got: list[Event] = []
    bus.subscribe(Event, got.append)
    bus.unsubscribe(Event, got.append)
    bus.publish(_tick())
    assert got == []


def test_bus_subscribe_rejects_non_event_types() -> None:
    bus = EventBus()
    with pytest.raises(TypeError, match="event_type must be an Event subclass"):
        bus.subscribe(int, print)  # type: ignore[arg-type]
