import pytest

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


# min_loss is a filter: a loss *larger* than it starts the cooldown (GME: price = money).
@pytest.mark.parametrize(
    ("exit_price", "fires"),
    [(90.00, False), (90.01, False), (89.99, True)],
    ids=["a loss of exactly min_loss", "smaller", "larger"],
)
def test_cooldown_after_loss_boundary_only_losses_larger_than_min_loss(make_desk, exit_price, fires):
    desk = make_desk({"cooldown_after_loss": {"minutes": 1, "min_loss": 10}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, exit_price)
    assert [v.rule for v in desk.of(RuleViolated)] == (["cooldown_after_loss"] if fires else [])


@pytest.mark.parametrize(
    ("after", "status"),
    [(60.0, OrderStatus.ACCEPTED), (59.999, OrderStatus.DENIED), (60.001, OrderStatus.ACCEPTED)],
    ids=["at its end", "just before", "just after"],
)
def test_cooldown_after_loss_boundary_ends_at_its_end(make_desk, clock, after, status):
    desk = make_desk({"cooldown_after_loss": {"minutes": 1}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, 99.0)  # the cooldown starts at this fill
    clock.advance(after)
    assert desk.order("GME", OrderSide.BUY, 1).status is status
