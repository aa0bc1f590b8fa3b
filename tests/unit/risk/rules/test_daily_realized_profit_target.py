import pytest

from trading.model import OrderSide, OrderStatus, RuleViolated, TradingState


def test_daily_realized_profit_target_reached_stops_new_entries(make_desk):
    desk = make_desk({"daily_realized_profit_target": {"target": 500}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 5012.0)  # +600 - 4
    assert [v.rule for v in desk.of(RuleViolated)] == ["daily_realized_profit_target"]
    assert desk.rm.state is TradingState.REDUCING
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED


def test_daily_realized_profit_target_below_target_keeps_trading(make_desk):
    desk = make_desk({"daily_realized_profit_target": {"target": 500}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 5010.0)  # +500 - 4 = 496
    assert desk.of(RuleViolated) == []
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED


def test_daily_realized_profit_target_reducing_lets_exits_through(make_desk):
    desk = make_desk({"daily_realized_profit_target": {"target": 100}})
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    desk.trade("NQ", OrderSide.BUY, 2, 18000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 5010.0)
    assert desk.rm.state is TradingState.REDUCING
    assert desk.order("NQ", OrderSide.SELL, 1).status is OrderStatus.ACCEPTED  # reduces
    assert desk.order("NQ", OrderSide.SELL, 3).status is OrderStatus.DENIED  # would flip short


@pytest.mark.parametrize(
    ("exit_price", "fires"),
    [(110.00, True), (109.99, False), (110.01, True)],
    ids=["at the target", "just below", "just above"],
)
def test_daily_realized_profit_target_boundary_fires_at_the_target(make_desk, exit_price, fires):
    desk = make_desk({"daily_realized_profit_target": {"target": 10}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, exit_price)
    assert [v.rule for v in desk.of(RuleViolated)] == (["daily_realized_profit_target"] if fires else [])
