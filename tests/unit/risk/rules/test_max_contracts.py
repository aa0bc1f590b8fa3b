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


def test_max_contracts_gap_fills_in_two_symbols_reduce_exactly_the_excess(make_desk, broker):
    desk = make_desk({"max_contracts": {"limit": 4}})
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False)
    for quantity in (2, 2):
        broker.submit(
            Order(
                symbol="NQ", side=OrderSide.BUY, quantity=quantity, order_type=OrderType.LIMIT, price=17990.0
            ),
            check=False,
        )
    desk.tick("ES", 5000.0)  # 3 ES: within
    desk.tick("NQ", 17980.0)  # both NQ fill in one step: 7 held, 3 over
    assert sum(o.quantity for o in broker.open_orders()) == 3
    desk.tick("NQ", 17980.0)
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 17980.0)
    assert sum(abs(p.quantity) for p in broker.positions().values()) == 4
    assert broker.open_orders() == []


def test_max_contracts_check_counts_working_entries_in_other_symbols(make_desk):
    desk = make_desk({"max_contracts": {"limit": 6}})
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    working = desk.order("ES", OrderSide.BUY, 4, order_type=OrderType.LIMIT, price=4990.0)
    assert working.status is OrderStatus.ACCEPTED
    order = desk.order("NQ", OrderSide.SELL, 3)
    assert order.status is OrderStatus.DENIED
    assert "would hold 7 contracts, max_contracts 6" in order.reason
    assert desk.order("NQ", OrderSide.SELL, 2).status is OrderStatus.ACCEPTED  # 4 + 2: the limit itself


def test_max_contracts_check_ignores_working_entries_of_uncounted_symbols(make_desk):
    desk = make_desk({"max_contracts": {"limit": 3, "symbols": ["NQ"]}})
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    assert (
        desk.order("ES", OrderSide.BUY, 4, order_type=OrderType.LIMIT, price=4990.0).status
        is OrderStatus.ACCEPTED
    )
    assert desk.order("NQ", OrderSide.SELL, 3).status is OrderStatus.ACCEPTED
