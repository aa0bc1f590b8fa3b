import pytest

from trading.model import Order, OrderSide, OrderStatus, RuleViolated


def test_max_contracts_per_instrument_override_denies_over_symbol_limit(make_desk):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 5, "per_symbol": {"NQ": 1}}})
    desk.tick("NQ", 18000.0)
    assert desk.order("NQ", OrderSide.BUY, 2).status is OrderStatus.DENIED
    assert desk.order("ES", OrderSide.BUY, 5).status is OrderStatus.ACCEPTED


def test_max_contracts_per_instrument_close_position_action_closes(make_desk, broker):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 1, "action": "close_position"}})
    desk.tick("ES", 5000.0)
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=2), check=False)
    desk.tick("ES", 5000.0)
    [violation] = desk.of(RuleViolated)
    assert violation.symbol == "ES" and "holding 2 ES > max_contracts_per_instrument 1" in violation.message
    [exit_order] = broker.open_orders()
    assert exit_order.quantity == 2 and exit_order.side is OrderSide.SELL


def test_max_contracts_per_instrument_reducing_order_always_passes(make_desk, broker):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 1}})
    desk.tick("ES", 5000.0)
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False)
    desk.tick("ES", 5000.0)
    desk.tick("ES", 5000.0)  # the reduce-to-limit order fills: 1 left
    assert desk.rm.pnl.quantity("ES") == 1
    assert desk.order("ES", OrderSide.SELL, 1).status is OrderStatus.ACCEPTED


@pytest.mark.parametrize(
    ("quantity", "status"),
    [(2, OrderStatus.ACCEPTED), (1, OrderStatus.ACCEPTED), (3, OrderStatus.DENIED)],
    ids=["to the limit", "below", "past the limit"],
)
def test_max_contracts_per_instrument_boundary_check_allows_the_limit(make_desk, quantity, status):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 2}})
    desk.tick("ES", 5000.0)
    assert desk.order("ES", OrderSide.BUY, quantity).status is status


@pytest.mark.parametrize(
    ("quantity", "fires"), [(2, False), (1, False), (3, True)], ids=["at", "below", "above"]
)
def test_max_contracts_per_instrument_boundary_more_than_the_limit_fires(make_desk, broker, quantity, fires):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 2}})
    desk.tick("ES", 5000.0)
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=quantity), check=False)
    desk.tick("ES", 5000.0)
    assert [v.rule for v in desk.of(RuleViolated)] == (["max_contracts_per_instrument"] if fires else [])
