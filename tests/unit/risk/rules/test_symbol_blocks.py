import pytest

from trading.model import Order, OrderDenied, OrderSide, OrderStatus, RuleViolated


def test_symbol_blocks_blocked_symbol_denied(make_desk):
    desk = make_desk({"symbol_blocks": {"symbols": ["GME"]}})
    assert desk.order("GME", OrderSide.BUY, 10).status is OrderStatus.DENIED
    assert "GME is blocked" in desk.of(OrderDenied)[0].reason


def test_symbol_blocks_other_symbol_passes(make_desk):
    desk = make_desk({"symbol_blocks": {"symbols": ["GME"]}})
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED


def test_symbol_blocks_close_position_action_closes_unchecked_entry(make_desk, broker):
    desk = make_desk({"symbol_blocks": {"symbols": ["GME"], "action": "close_position"}})
    desk.tick("GME", 20.0)
    broker.submit(Order(symbol="GME", side=OrderSide.BUY, quantity=10), check=False)
    desk.tick("GME", 20.0)
    [violation] = desk.of(RuleViolated)
    assert violation.action == "close_position" and violation.symbol == "GME"
    assert [o.side for o in broker.open_orders()] == [OrderSide.SELL]


@pytest.mark.parametrize(("symbol", "status"), [("GME", OrderStatus.DENIED), ("ES", OrderStatus.ACCEPTED)])
def test_symbol_blocks_boundary_only_the_listed_symbols(make_desk, symbol, status):
    desk = make_desk({"symbol_blocks": {"symbols": ["GME"]}})
    assert desk.order(symbol, OrderSide.BUY, 1).status is status
