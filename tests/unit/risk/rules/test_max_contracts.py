import pytest

from trading.model import Order, OrderDenied, OrderSide, OrderStatus, OrderType, RuleViolated


def test_max_contracts_order_that_would_exceed_is_denied(make_desk):
    desk = make_desk({"max_contracts": {"limit": 3}})
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    order = desk.order("NQ", OrderSide.SELL, 2)
    assert order.status is OrderStatus.DENIED
    [denied] = desk.of(OrderDenied)
    assert denied.rule == "max_contracts" and "would hold 4 contracts, max_contracts 3" in denied.reason


def test_max_contracts_within_limit_passes_and_counts_working_orders(make_desk):
    desk = make_desk({"max_contracts": {"limit": 3}})
    desk.tick("ES", 5000.0)
    assert (
        desk.order("ES", OrderSide.BUY, 2, order_type=OrderType.LIMIT, price=4990.0).status
        is OrderStatus.ACCEPTED
    )
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED  # 2 working + 1 + 1 > 3


def test_max_contracts_exceeded_by_fills_reduces_to_limit(make_desk, broker):
    desk = make_desk({"max_contracts": {"limit": 2}})
    desk.tick("ES", 5000.0)
    broker.submit(
        Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False
    )  # bypasses the check, as a manual fill would
    desk.tick("ES", 5000.0)
    [violation] = desk.of(RuleViolated)
    assert violation.action == "reduce_to_limit" and violation.values["excess"] == 1
    [exit_order] = broker.open_orders()
    assert exit_order.side is OrderSide.SELL and exit_order.quantity == 1


@pytest.mark.parametrize(
    ("quantity", "status"),
    [(2, OrderStatus.ACCEPTED), (1, OrderStatus.ACCEPTED), (3, OrderStatus.DENIED)],
    ids=["to the limit", "below", "past the limit"],
)
def test_max_contracts_boundary_check_allows_holding_the_limit(make_desk, quantity, status):
    desk = make_desk({"max_contracts": {"limit": 2}})
    desk.tick("ES", 5000.0)
    assert desk.order("ES", OrderSide.BUY, quantity).status is status


@pytest.mark.parametrize(
    ("quantity", "fires"), [(2, False), (1, False), (3, True)], ids=["at", "below", "above"]
)
def test_max_contracts_boundary_holding_more_than_the_limit_fires(make_desk, broker, quantity, fires):
    desk = make_desk({"max_contracts": {"limit": 2}})
    desk.tick("ES", 5000.0)
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=quantity), check=False)
    desk.tick("ES", 5000.0)
    assert [v.rule for v in desk.of(RuleViolated)] == (["max_contracts"] if fires else [])
