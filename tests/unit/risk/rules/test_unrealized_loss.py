import pytest

from trading.model import OrderSide, RuleViolated


def test_unrealized_loss_open_loss_at_limit_closes_that_position(make_desk):
    desk = make_desk({"unrealized_loss": {"limit": 400}})
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("NQ", OrderSide.BUY, 1, 18000.0)
    desk.tick("ES", 4992.0)  # -400 open
    violations = desk.of(RuleViolated)
    assert [(v.rule, v.symbol) for v in violations] == [("unrealized_loss", "ES")]
    assert "ES unrealized loss -400.00 <= -400.00" in violations[0].message
    exits = desk.broker.open_orders()
    assert [(o.symbol, o.side) for o in exits] == [("ES", OrderSide.SELL)]


def test_unrealized_loss_smaller_loss_does_nothing(make_desk):
    desk = make_desk({"unrealized_loss": {"limit": 400}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4992.25)  # -387.50
    assert desk.of(RuleViolated) == []


def test_unrealized_loss_flood_of_ticks_closes_once(make_desk):
    desk = make_desk({"unrealized_loss": {"limit": 400}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4990.0)  # breach: a close goes out, fills on the next tick
    for _ in range(50):
        desk.rm.engine.on_event(desk.of(type(desk.events[-1]))[-1])
    assert len(desk.of(RuleViolated)) == 1


def test_unrealized_loss_symbol_filter_ignores_other_symbols(make_desk):
    desk = make_desk({"unrealized_loss": {"limit": 100, "symbols": ["NQ"]}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4980.0)
    assert desk.of(RuleViolated) == []


@pytest.mark.parametrize(
    ("mark", "fires"),
    [(90.00, True), (90.01, False), (89.99, True)],
    ids=["at the limit", "just below", "just above"],
)
def test_unrealized_loss_boundary_fires_at_the_limit(make_desk, mark, fires):
    desk = make_desk({"unrealized_loss": {"limit": 10}})
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.tick("GME", mark)
    assert [v.rule for v in desk.of(RuleViolated)] == (["unrealized_loss"] if fires else [])


def test_unrealized_loss_exactly_at_the_limit_fires_where_floats_fall_short(make_desk):
    # (0.10 - 0.30) x 1000 is -199.99999999999997 in floats; the open loss is exactly 200.00
    assert (0.10 - 0.30) * 1000 > -200.0
    desk = make_desk({"unrealized_loss": {"limit": 200}})
    desk.tick("GME", 0.30)
    desk.trade("GME", OrderSide.BUY, 1000, 0.30)
    desk.tick("GME", 0.10)
    [violation] = desk.of(RuleViolated)
    assert violation.message == "GME unrealized loss -200.00 <= -200.00"
