from decimal import Decimal

import pytest

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
    assert (
        order.reason
        == "account HALTED (daily_realized_loss: daily realized loss -754.00 <= -500.00): no new orders"
    )
    assert desk.rm.state is TradingState.HALTED


def test_daily_realized_loss_gross_mode_ignores_commissions(make_desk):
    desk = make_desk({"daily_realized_loss": {"limit": 1000, "include_commissions": False}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    desk.trade("ES", OrderSide.SELL, 2, 4990.25)  # -975 gross, -983 net
    assert desk.of(RuleViolated) == []


# Boundaries: GME has multiplier 1 and no commission, so a price is the loss in money.
@pytest.mark.parametrize(
    ("exit_price", "fires"),
    [(90.00, True), (90.01, False), (89.99, True)],
    ids=["at the limit", "just below", "just above"],
)
def test_daily_realized_loss_boundary_fires_at_the_limit(make_desk, exit_price, fires):
    desk = make_desk({"daily_realized_loss": {"limit": 10}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, exit_price)
    assert [v.rule for v in desk.of(RuleViolated)] == (["daily_realized_loss"] if fires else [])
    assert desk.rm.state is (TradingState.HALTED if fires else TradingState.ACTIVE)


def test_daily_realized_loss_three_round_trips_netting_exactly_the_limit_fire(make_desk):
    # Arrange: losses of 397.64, 372.46 and 229.90: exactly 1,000.00, but -999.9999999999999 in floats
    assert -397.64 - 372.46 - 229.90 > -1000.0
    desk = make_desk({"daily_realized_loss": {"limit": 1000}})
    desk.tick("GME", 1000.0)
    # Act
    for exit_price in (602.36, 627.54, 770.10):
        desk.trade("GME", OrderSide.BUY, 1, 1000.0)
        desk.trade("GME", OrderSide.SELL, 1, exit_price)
    # Assert: exact money reaches the limit
    assert desk.rm.pnl.daily_net == Decimal("-1000")
    [violation] = desk.of(RuleViolated)
    assert violation.message == "daily realized loss -1,000.00 <= -1,000.00"
    assert desk.rm.state is TradingState.HALTED


def test_daily_realized_loss_limit_is_exact_money_from_the_config(make_desk):
    desk = make_desk({"daily_realized_loss": {"limit": 1000.10}})
    assert desk.rm.engine.rules["daily_realized_loss"].config.limit == Decimal("1000.1")
