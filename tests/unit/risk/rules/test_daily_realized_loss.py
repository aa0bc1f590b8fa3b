from trading.model import OrderSide, OrderStatus, RuleViolated, TradingState


def test_daily_realized_loss_loss_at_limit_flattens_and_halts(make_desk):
    # Arrange: a 1,000 limit; long 2 ES and 1 NQ
    desk = make_desk({"daily_realized_loss": {"limit": 1000}})
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    desk.trade("NQ", OrderSide.BUY, 1, 18000.0)
    # Act: ES closed 10 points lower: -1,000 gross, -1,010 with today's commissions (ES 8, NQ 2)
    desk.trade("ES", OrderSide.SELL, 2, 4990.0)
    # Assert
    violations = desk.of(RuleViolated)
    assert [v.rule for v in violations] == ["daily_realized_loss"]
    assert "daily realized loss -1,010.00 <= -1,000.00" in violations[0].message
    assert desk.rm.state is TradingState.HALTED
    exits = [o for o in desk.broker.open_orders() if o.symbol == "NQ"]
    assert len(exits) == 1 and exits[0].side is OrderSide.SELL and exits[0].reduce_only


def test_daily_realized_loss_below_limit_does_nothing(make_desk):
    desk = make_desk({"daily_realized_loss": {"limit": 1000}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    desk.trade("ES", OrderSide.SELL, 2, 4995.0)  # -500 - 8 commissions
    assert desk.of(RuleViolated) == []
    assert desk.rm.state is TradingState.ACTIVE
    assert desk.rm.pnl.daily_net == -508.0


def test_daily_realized_loss_next_order_after_breach_is_denied(make_desk):
    desk = make_desk({"daily_realized_loss": {"limit": 500}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4985.0)  # -750
    order = desk.order("ES", OrderSide.BUY, 1)
    assert order.status is OrderStatus.DENIED
    assert "HALTED" in order.reason or desk.rm.state is TradingState.HALTED


def test_daily_realized_loss_gross_mode_ignores_commissions(make_desk):
    desk = make_desk({"daily_realized_loss": {"limit": 1000, "include_commissions": False}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    desk.trade("ES", OrderSide.SELL, 2, 4990.25)  # -975 gross, -983 net
    assert desk.of(RuleViolated) == []
