import pytest

from trading.model import OrderSide, RuleViolated


def test_no_stop_loss_grace_naked_position_closed_after_grace(make_desk, clock):
    desk = make_desk({"no_stop_loss_grace": {"grace_s": 30}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    clock.advance(29)
    desk.rm.sweep()
    assert desk.of(RuleViolated) == []
    clock.advance(1)
    desk.rm.sweep()
    [violation] = desk.of(RuleViolated)
    assert "ES position 1 has no stop loss after 30s" in violation.message
    assert [(o.symbol, o.side, o.reduce_only) for o in desk.broker.open_orders()] == [
        ("ES", OrderSide.SELL, True)
    ]


def test_no_stop_loss_grace_position_with_resting_stop_is_kept(make_desk, clock):
    desk = make_desk({"no_stop_loss_grace": {"grace_s": 30}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.stop("ES", OrderSide.SELL, 1, 4990.0)
    desk.tick("ES", 5001.0, seconds=45)  # the tick polls the timer
    assert desk.of(RuleViolated) == []


def test_no_stop_loss_grace_tick_after_deadline_fires_without_sweep(make_desk):
    desk = make_desk({"no_stop_loss_grace": {"grace_s": 10}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 5000.0, seconds=11)
    assert [v.rule for v in desk.of(RuleViolated)] == ["no_stop_loss_grace"]


@pytest.mark.parametrize(
    ("after", "fires"),
    [(10.0, True), (9.999, False), (10.001, True)],
    ids=["at", "just before", "just after"],
)
def test_no_stop_loss_grace_boundary_fires_when_the_grace_runs_out(make_desk, after, fires):
    desk = make_desk({"no_stop_loss_grace": {"grace_s": 10}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)  # the grace starts at this fill
    desk.tick("ES", 5000.0, seconds=after)
    assert [v.rule for v in desk.of(RuleViolated)] == (["no_stop_loss_grace"] if fires else [])
