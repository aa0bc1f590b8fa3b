import pytest

from trading.model import OrderDenied, OrderSide, OrderStatus, OrderType


def _limit(desk, price):
    return desk.order("ES", OrderSide.BUY, 1, order_type=OrderType.LIMIT, price=price)


def test_max_order_rate_burst_over_rate_denied(make_desk):
    desk = make_desk({"max_order_rate": {"max_orders": 3, "interval_s": 1.0}})
    statuses = [_limit(desk, 4900.0 - i).status for i in range(4)]
    assert statuses == [OrderStatus.ACCEPTED] * 3 + [OrderStatus.DENIED]
    assert "order rate exceeded: 3 orders per 1s" in desk.of(OrderDenied)[0].reason


def test_max_order_rate_next_interval_passes(make_desk, clock):
    desk = make_desk({"max_order_rate": {"max_orders": 2, "interval_s": 1.0}})
    _limit(desk, 4900.0)
    _limit(desk, 4899.0)
    clock.advance(1.0)
    assert _limit(desk, 4898.0).status is OrderStatus.ACCEPTED


@pytest.mark.parametrize(("orders", "denied"), [(3, 0), (2, 0), (4, 1)], ids=["at", "below", "above"])
def test_max_order_rate_boundary_max_orders_pass(make_desk, orders, denied):
    desk = make_desk({"max_order_rate": {"max_orders": 3, "interval_s": 1.0}})
    statuses = [_limit(desk, 4900.0 - i).status for i in range(orders)]
    assert statuses.count(OrderStatus.DENIED) == denied


@pytest.mark.parametrize(
    ("after", "status"),
    [(1.0, OrderStatus.ACCEPTED), (0.999, OrderStatus.DENIED), (1.001, OrderStatus.ACCEPTED)],
    ids=["at", "just inside", "just after"],
)
def test_max_order_rate_boundary_an_order_leaves_the_window_after_interval(make_desk, clock, after, status):
    desk = make_desk({"max_order_rate": {"max_orders": 1, "interval_s": 1.0}})
    _limit(desk, 4900.0)
    clock.advance(after)
    assert _limit(desk, 4899.0).status is status
