from trading.model import OrderSide, OrderStatus, RuleViolated, TradingState


def test_cooldown_after_loss_losing_trade_pauses_entries_for_minutes(make_desk, clock):
    desk = make_desk({"cooldown_after_loss": {"minutes": 5}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4998.0)  # -100 - 2
    [violation] = desk.of(RuleViolated)
    assert "losing trade -102.00 on ES: no new entries for 5 min" in violation.message
    assert desk.rm.state is TradingState.REDUCING
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED
    clock.advance(299)
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED
    clock.advance(2)
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED


def test_cooldown_after_loss_winning_or_small_loss_does_nothing(make_desk):
    desk = make_desk({"cooldown_after_loss": {"minutes": 5, "min_loss": 200}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 5004.0)  # win
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4997.0)  # -150 - 2: smaller than min_loss
    assert desk.of(RuleViolated) == []
    assert desk.rm.state is TradingState.ACTIVE
