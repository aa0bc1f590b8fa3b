import pytest

from trading.model import OrderSide, RuleViolated, Severity


def test_unrealized_profit_target_reached_closes_position(make_desk):
    desk = make_desk({"unrealized_profit": {"target": 500}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 5000.0)
    desk.tick("ES", 4990.0)  # short: +500 open
    [violation] = desk.of(RuleViolated)
    assert violation.severity is Severity.INFO and "unrealized profit 500.00 >= 500.00" in violation.message
    assert [(o.symbol, o.side) for o in desk.broker.open_orders()] == [("ES", OrderSide.BUY)]


def test_unrealized_profit_below_target_does_nothing(make_desk):
    desk = make_desk({"unrealized_profit": {"target": 500}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 5009.0)
    assert desk.of(RuleViolated) == []


@pytest.mark.parametrize(
    ("mark", "fires"),
    [(110.00, True), (109.99, False), (110.01, True)],
    ids=["at the target", "just below", "just above"],
)
def test_unrealized_profit_boundary_fires_at_the_target(make_desk, mark, fires):
    desk = make_desk({"unrealized_profit": {"target": 10}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.tick("GME", mark)
    assert [v.rule for v in desk.of(RuleViolated)] == (["unrealized_profit"] if fires else [])
