"""VenueMirror without a network: venue facts applied to real Books, each change once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.broker.conftest import Recorder
from trading.broker.books import Books
from trading.broker.venue.broker import stock_instrument
from trading.broker.venue.facts import VenueExecution, VenueOrder, VenueStatus, VenueUpdate
from trading.broker.venue.mirror import VenueMirror
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    Event,
    Order,
    OrderFilled,
    OrderModified,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionOpened,
)

BUY = OrderSide.BUY


@pytest.fixture
def books(bus: EventBus, clock: TestClock) -> Books:
    return Books(
        bus,
        clock,
        {"AAPL": stock_instrument("AAPL")},
        starting_balance=Decimal(10_000),
        buying_power_multiple=1.0,
        keep_closed_orders=100,
        journal=None,
        journal_retry_interval=1.0,
        default_instrument=stock_instrument,
    )


@pytest.fixture
def mirror(books: Books, clock: TestClock) -> VenueMirror:
    return VenueMirror(books, clock)


def _ours(books: Books, clock: TestClock, qty: float = 10) -> Order:
    order = Order(symbol="AAPL", side=BUY, quantity=qty, order_type=OrderType.LIMIT, price=100, strategy="s")
    events: list[Event] = []
    books.submitted(order, clock.now(), events)
    books.publish(events)
    return order


def _venue(order_id: str, status: VenueStatus, filled: float, avg: float | None, **kw: object) -> VenueOrder:
    fields: dict[str, object] = {
        "venue_id": "v-1",
        "client_id": order_id,
        "symbol": "AAPL",
        "side": BUY,
        "quantity": 10,
        "order_type": OrderType.LIMIT,
        "status": status,
        "filled_quantity": filled,
        "avg_fill_price": avg,
        "price": 100,
        **kw,
    }
    return VenueOrder(**fields)  # type: ignore[arg-type]


def _fill(order_id: str, filled: float, avg: float, exec_id: str, qty: float, price: float) -> VenueUpdate:
    status = VenueStatus.FILLED if filled >= 10 else VenueStatus.PARTIALLY_FILLED
    execution = VenueExecution(execution_id=exec_id, quantity=qty, price=price, ts=TestClock().now())
    return VenueUpdate(event="fill", order=_venue(order_id, status, filled, avg), execution=execution)


def test_mirror_same_fill_message_twice_books_it_once(books, mirror, clock, recorder: Recorder) -> None:
    order = _ours(books, clock)
    update = _fill(order.order_id, 4, 99.0, "e-1", 4, 99.0)

    mirror.apply(update)
    mirror.apply(update)

    assert [(f.quantity, f.price) for f in recorder.of(OrderFilled)] == [(4, 99.0)]
    assert order.filled_quantity == 4 and mirror.stats.duplicates == 1


def test_mirror_stale_snapshot_after_a_newer_fill_books_nothing(
    books, mirror, clock, recorder: Recorder
) -> None:
    order = _ours(books, clock)
    mirror.apply(_fill(order.order_id, 6, 99.0, "e-1", 6, 99.0))

    mirror.apply_orders([_venue(order.order_id, VenueStatus.PARTIALLY_FILLED, 4, 99.0)])

    assert order.filled_quantity == 6 and len(recorder.of(OrderFilled)) == 1


def test_mirror_missed_fills_are_booked_at_the_price_that_makes_the_venue_average(
    books, mirror, clock, recorder: Recorder
) -> None:
    order = _ours(books, clock)
    mirror.apply(_fill(order.order_id, 2, 99.0, "e-1", 2, 99.0))

    # 3 more filled unseen at 99.5, then this execution of 5 at 100: cumulative 10 at 99.65
    mirror.apply(_fill(order.order_id, 10, 99.65, "e-3", 5, 100.0))

    fills = recorder.of(OrderFilled)
    assert [(f.quantity, f.price, f.fill_id) for f in fills] == [
        (2, 99.0, "e-1"),
        (3, 99.5, "v-1:10"),
        (5, 100.0, "e-3"),
    ]
    assert order.status is OrderStatus.FILLED and order.avg_fill_price == pytest.approx(99.65)


def test_mirror_ended_order_never_works_again(books, mirror, clock) -> None:
    order = _ours(books, clock)
    mirror.apply_orders([_venue(order.order_id, VenueStatus.CANCELLED, 0, None)])

    mirror.apply_orders([_venue(order.order_id, VenueStatus.WORKING, 0, None)])

    assert order.status is OrderStatus.CANCELLED and books.orders.open_orders() == []


def test_mirror_replacement_keeps_our_order_and_its_earlier_fills(
    books, mirror, clock, recorder: Recorder
) -> None:
    order = _ours(books, clock)
    mirror.apply(_fill(order.order_id, 4, 99.0, "e-1", 4, 99.0))
    new = _venue(
        f"{order.order_id}~1",
        VenueStatus.WORKING,
        0,
        None,
        venue_id="v-2",
        replaces="v-1",
        quantity=6,
        price=98,
    )

    mirror.apply(VenueUpdate(event="new", order=new))
    done = _venue(
        f"{order.order_id}~1", VenueStatus.FILLED, 6, 98.0, venue_id="v-2", replaces="v-1", quantity=6
    )
    mirror.apply(VenueUpdate(event="fill", order=done))

    modified = recorder.of(OrderModified)
    assert [(m.order_id, m.quantity, m.price) for m in modified] == [(order.order_id, 10, 98)]
    assert [(f.order_id, f.quantity, f.price) for f in recorder.of(OrderFilled)] == [
        (order.order_id, 4, 99.0),
        (order.order_id, 6, 98.0),
    ]
    assert order.status is OrderStatus.FILLED


def test_mirror_foreign_order_is_booked_manual_and_told_to_the_guard(books, mirror, clock, recorder) -> None:
    told: list[tuple[str, bool]] = []
    mirror.on_foreign = lambda order, still_open: told.append((order.order_id, still_open))
    hand = _venue("hand-1", VenueStatus.FILLED, 10, 50.0, venue_id="h-1", symbol="MSFT", closing=False)

    mirror.apply(VenueUpdate(event="fill", order=hand))

    assert told == [("X-h-1", False)]
    opened = recorder.of(PositionOpened)[0]
    assert (opened.symbol, opened.quantity, opened.strategy) == ("MSFT", 10, "manual")
    assert books.instruments["MSFT"].asset_class == "STOCK"


class _History:
    def __init__(self, orders: list[Order]) -> None:
        self._orders = orders

    def orders(self, *, ids: object = None) -> list[Order]:
        wanted = set(ids or ())  # type: ignore[call-overload]
        return [o for o in self._orders if o.order_id in wanted]


def test_mirror_order_the_journal_already_holds_is_not_booked_again(books, clock, recorder: Recorder) -> None:
    held = Order(order_id="X-h-1", symbol="MSFT", side=BUY, quantity=10, status=OrderStatus.FILLED)
    mirror = VenueMirror(books, clock, history=_History([held]))

    mirror.apply_orders([_venue("hand-1", VenueStatus.FILLED, 10, 50.0, venue_id="h-1", symbol="MSFT")])

    assert recorder.of(OrderFilled) == [] and books.ledger.open_positions() == {}
