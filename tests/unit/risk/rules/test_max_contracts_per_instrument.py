import pytest

from trading.model import Order, OrderSide, OrderStatus, OrderType, RuleViolated
from trading.risk import parse_risk_config


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


def _lower_limit(desk, rules):
    desk.rm.apply_config(parse_risk_config({"rules": rules}))


def test_max_contracts_per_instrument_gap_fills_three_entries_reduces_to_the_lowered_limit(make_desk, broker):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 10}})
    desk.tick("NQ", 18000.0)
    for quantity in (3, 2, 2):
        order = desk.order("NQ", OrderSide.BUY, quantity, order_type=OrderType.LIMIT, price=17990.0)
        assert order.status is OrderStatus.ACCEPTED
    _lower_limit(desk, {"max_contracts_per_instrument": {"limit": 4}})
    desk.tick("NQ", 17980.0)  # one gap fills all three: 3, then 5, then 7 held
    [exit_order] = broker.open_orders("NQ")
    assert exit_order.side is OrderSide.SELL and exit_order.quantity == 3  # the excess after every fill
    desk.tick("NQ", 17980.0)
    assert broker.positions()["NQ"].quantity == 4
    assert desk.rm.pnl.quantity("NQ") == 4
    assert broker.open_orders() == []


def test_max_contracts_per_instrument_excess_left_after_a_reduce_is_cut_again(make_desk, broker):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 2}})
    desk.tick("ES", 5000.0)
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False)
    desk.tick("ES", 5000.0)  # 3 held: a reduce of 1 goes out
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=2), check=False)
    desk.tick("ES", 5000.0)  # the reduce and the new buy fill together: 4 held, no latch stops it
    desk.tick("ES", 5000.0)
    assert broker.positions()["ES"].quantity == 2
    assert broker.open_orders() == []


def test_max_contracts_per_instrument_alert_fires_once_per_crossing(make_desk, broker):
    desk = make_desk({"max_contracts_per_instrument": {"limit": 1, "action": "alert"}})
    desk.tick("ES", 5000.0)
    for _ in range(3):
        broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1), check=False)
        desk.tick("ES", 5000.0)
    assert len(desk.of(RuleViolated)) == 1
