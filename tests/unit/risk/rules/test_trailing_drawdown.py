from trading.model import OrderSide, RuleViolated, TradingState


def test_trailing_drawdown_floor_trails_high_water_and_breach_flattens(make_desk):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000, "stop_trailing_at_start": False}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)  # cash 99,998
    desk.tick("ES", 5040.0)  # equity 101,998: floor 100,998
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert rule.floor == 100_998.0
    desk.tick("ES", 5020.0)  # equity 100,998: at the floor
    [violation] = desk.of(RuleViolated)
    assert "trailing floor 100,998.00" in violation.message
    assert desk.rm.state is TradingState.HALTED
    assert [o.side for o in desk.broker.open_orders()] == [OrderSide.SELL]


def test_trailing_drawdown_floor_stops_at_starting_balance(make_desk):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 5100.0)  # equity ~104,998: would trail to 103,998, capped at 100,000
    rule = desk.rm.engine.rules["trailing_drawdown"]
    assert rule.floor == 100_000.0
    desk.tick("ES", 5050.0)  # equity 102,498: above the capped floor
    assert desk.of(RuleViolated) == []


def test_trailing_drawdown_small_dip_does_nothing(make_desk):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4985.0)  # -750 - 2 commission
    assert desk.of(RuleViolated) == []
    [status] = desk.rm.rule_status()
    assert status.status == "ok" and round(status.used, 3) == 0.752
