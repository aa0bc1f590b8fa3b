"""OrderBook: working orders by id, OCO groups, matching books and the closed history agree."""

from __future__ import annotations

import pytest

from trading.broker._order_book import OrderBook
from trading.errors import BrokerStateError
from trading.model import Order, OrderSide, OrderType


def _limit(price: float, symbol: str = "ES", **kw) -> Order:
    return Order(symbol=symbol, side=OrderSide.BUY, quantity=1, order_type=OrderType.LIMIT, price=price, **kw)


@pytest.fixture
def book() -> OrderBook:
    return OrderBook(["ES", "NQ"], keep_closed=2)


def test_order_book_add_holds_order_by_id_symbol_and_matching_book(book) -> None:
    order = _limit(5000.0)
    book.add(order)
    assert book.working(order.order_id) is order and book.get(order.order_id) is order
    assert book.open_orders("ES") == [order] and book.open_orders("NQ") == []
    es = book.book("ES")
    assert es is not None and len(es) == 1 and len(book) == 1


def test_order_book_unknown_symbol_has_no_matching_book(book) -> None:
    assert book.book("CL") is None


def test_order_book_retire_moves_order_to_history_dropping_oldest(book) -> None:
    orders = [_limit(5000.0 - i) for i in range(3)]
    for order in orders:
        book.add(order)
    for order in orders:
        book.retire(order)
    assert len(book) == 0 and len(book.book("ES") or ()) == 0
    assert book.working(orders[2].order_id) is None and book.get(orders[2].order_id) is orders[2]
    assert not book.is_known(orders[0].order_id) and book.is_known(orders[1].order_id)


def test_order_book_oco_siblings_are_other_working_legs_in_submission_order(book) -> None:
    legs = [_limit(5000.0 - i, oco_group="G") for i in range(3)]
    for leg in legs:
        book.add(leg)
    book.retire(legs[1])
    assert book.oco_siblings(legs[1]) == [legs[0], legs[2]]
    assert book.oco_siblings(legs[0]) == [legs[2]]
    assert book.oco_siblings(_limit(4000.0)) == []


def test_order_book_retiring_last_leg_drops_the_group(book) -> None:
    leg = _limit(5000.0, oco_group="G")
    book.add(leg)
    book.retire(leg)
    assert repr(book) == "OrderBook(working=0, oco_groups=0, closed=1)"


def test_order_book_replace_swaps_working_set_and_keeps_history(book) -> None:
    old, closed = _limit(5000.0), _limit(4999.0)
    book.add(old)
    book.add(closed)
    book.retire(closed)
    saved = book.export()
    fresh = OrderBook(["ES", "NQ"], keep_closed=2)
    fresh.add(_limit(1.0, symbol="NQ"))
    fresh.retire(fresh.open_orders()[0])

    fresh.replace(fresh.read(saved))

    assert [o.order_id for o in fresh.open_orders()] == [old.order_id]
    assert len(fresh.book("ES") or ()) == 1 and len(fresh.book("NQ") or ()) == 0
    assert repr(fresh) == "OrderBook(working=1, oco_groups=0, closed=1)"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.append(dict(s[0])), r"state.open_orders\[1\]: order id '.+' appears twice"),
        (lambda s: s[0].update(symbol="CL"), r"state.open_orders\[0\]: unknown symbol 'CL'"),
    ],
)
def test_order_book_read_bad_orders_raises_naming_entry(book, mutate, message) -> None:
    book.add(_limit(5000.0))
    saved = book.export()
    mutate(saved)
    with pytest.raises(BrokerStateError, match=message):
        book.read(saved)


def test_order_book_read_non_list_raises(book) -> None:
    with pytest.raises(BrokerStateError, match=r"state\.open_orders: expected a list, got dict"):
        book.read({})
