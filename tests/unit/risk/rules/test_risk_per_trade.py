"""risk_per_trade: the loss at an entry's stop must stay below the room the loss limits leave.

ES: multiplier 50, commission 2.00 a fill, so one contract with a stop 10 points away risks
10 x 50 + 2 x 2 = 504.00. The room is a limit that fires when reached: a loss at the stop
exactly equal to the room is denied."""

import pytest

from trading.errors import ConfigError
from trading.model import Order, OrderDenied, OrderSide, OrderStatus, OrderType, Recommendation, RuleViolated
from trading.risk import parse_risk_config
from trading.storage import TransactionRepository
from trading.trades import TradeManager


def _limit_buy(desk, quantity, stop, price=5000.0):
    return desk.order(
        "ES", OrderSide.BUY, quantity, order_type=OrderType.LIMIT, price=price, bracket_stop=stop
    )


@pytest.mark.parametrize(
    ("cap", "status"),
    [(1008, OrderStatus.DENIED), (1008.01, OrderStatus.ACCEPTED), (1007.99, OrderStatus.DENIED)],
    ids=["loss equals the cap", "a cent below the cap", "a cent above the cap"],
)
def test_risk_per_trade_cap_boundary_equality_is_denied(make_desk, cap, status):
    desk = make_desk({"risk_per_trade": {"max_loss": cap}})
    desk.tick("ES", 5001.0)
    order = _limit_buy(desk, 2, 4990.0)  # 2 x (10 x 50 + 4) = 1,008.00
    assert order.status is status
    if status is OrderStatus.DENIED:
        [denied] = desk.of(OrderDenied)
        assert denied.rule == "risk_per_trade"
        assert denied.reason == f"loss at the stop 1,008.00 (2 ES, stop 4990) >= max_loss {cap:,.2f}"


@pytest.mark.parametrize(
    ("stop", "status"),
    [(4980.0, OrderStatus.DENIED), (4980.25, OrderStatus.ACCEPTED)],
    ids=["equal", "below"],
)
def test_risk_per_trade_daily_loss_left_boundary(make_desk, stop, status):
    # Arrange: a 1,512 daily limit and a realized loss of 504.00 net leave exactly 1,008.00
    desk = make_desk({"daily_realized_loss": {"limit": 1512}, "risk_per_trade": {}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4990.0)  # -500 - 4 commission
    assert desk.rm.pnl.daily_net == -504
    # Act
    order = _limit_buy(desk, 2, stop, price=4990.0)
    # Assert: 2 x (10 x 50 + 4) = 1,008.00 reaches the room; 9.75 points = 983.00 does not
    assert order.status is status
    if status is OrderStatus.DENIED:
        [denied] = desk.of(OrderDenied)
        assert denied.reason.endswith(">= daily loss left under daily_realized_loss 1,008.00")


@pytest.mark.parametrize(
    ("stop", "status"),
    [(4978.0, OrderStatus.DENIED), (4978.25, OrderStatus.ACCEPTED)],
    ids=["equal", "below"],
)
def test_risk_per_trade_net_daily_loss_room_counts_the_open_loss(make_desk, stop, status):
    # daily_loss on the net basis: 1,106 less an open loss of 300 and 2.00 commission leaves 804.00
    desk = make_desk({"daily_loss": {"limit": 1106, "basis": "net"}, "risk_per_trade": {}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4994.0)

    order = _limit_buy(desk, 1, stop, price=4994.0)

    # a stop 16 points away risks 16 x 50 + 4 = 804.00: the room, denied; 15.75 points passes
    assert order.status is status
    if status is OrderStatus.DENIED:
        [denied] = desk.of(OrderDenied)
        assert denied.reason.endswith(">= daily loss left under daily_loss 804.00")


def test_risk_per_trade_drawdown_distance_counts_open_loss(make_desk):
    desk = make_desk({"trailing_drawdown": {"max_drawdown": 1000}, "risk_per_trade": {}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4996.0)  # equity 100,000 - 2 - 200 = 99,798: 798.00 above the 99,000 floor
    assert _limit_buy(desk, 1, 4980.25, price=4996.0).status is OrderStatus.ACCEPTED  # 791.50
    denied = _limit_buy(desk, 1, 4980.0, price=4996.0)  # 804.00
    assert denied.status is OrderStatus.DENIED
    assert desk.of(OrderDenied)[-1].reason.endswith(">= distance to the trailing_drawdown floor 798.00")


def test_risk_per_trade_market_order_measured_from_the_last_price(make_desk):
    desk = make_desk({"risk_per_trade": {"max_loss": 554}})
    desk.tick("ES", 5000.0)
    assert (
        desk.order("ES", OrderSide.SELL, 1, bracket_stop=5011.0).status is OrderStatus.DENIED
    )  # 11 x 50 + 4
    assert desk.of(OrderDenied)[-1].reason == "loss at the stop 554.00 (1 ES, stop 5011) >= max_loss 554.00"
    assert desk.order("ES", OrderSide.SELL, 1, bracket_stop=5010.75).status is OrderStatus.ACCEPTED


def test_risk_per_trade_order_without_stop_passes_unless_required(make_desk):
    desk = make_desk({"risk_per_trade": {"max_loss": 100}})
    desk.tick("ES", 5000.0)
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED
    strict = make_desk({"strict": {"kind": "risk_per_trade", "max_loss": 100, "require_stop": True}})
    assert strict.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED
    assert strict.of(OrderDenied)[-1].reason == (
        "the order carries no stop: risk_per_trade needs one to measure its loss"
    )


def test_risk_per_trade_reducing_order_passes(make_desk):
    desk = make_desk({"risk_per_trade": {"max_loss": 100}})
    desk.tick("ES", 5000.0)
    desk.broker.submit(desk_order := Order(symbol="ES", side=OrderSide.BUY, quantity=2), check=False)
    desk.tick("ES", 5000.0)
    assert desk_order.status is OrderStatus.FILLED
    assert desk.order("ES", OrderSide.SELL, 1, bracket_stop=5100.0).status is OrderStatus.ACCEPTED


def test_risk_per_trade_shadow_records_and_lets_through(make_desk):
    desk = make_desk({"risk_per_trade": {"max_loss": 100, "mode": "shadow"}})
    desk.tick("ES", 5000.0)
    assert _limit_buy(desk, 1, 4990.0).status is OrderStatus.ACCEPTED
    [record] = desk.of(RuleViolated)
    assert record.shadow and "would have denied the order" in record.message


def test_risk_per_trade_trade_manager_entry_carries_the_bracket_stop(make_desk, bus, clock, broker, db):
    desk = make_desk({"risk_per_trade": {"max_loss": 1000}})
    desk.tick("ES", 5000.0)
    manager = TradeManager(broker, bus, clock, TransactionRepository(db))
    try:
        wide = Recommendation(
            symbol="ES", side=OrderSide.BUY, quantity=2, stop_loss=4990.0, take_profit=5020.0
        )
        tight = Recommendation(
            symbol="ES", side=OrderSide.BUY, quantity=1, stop_loss=4990.0, take_profit=5020.0
        )
        manager.process("a", [wide])
        manager.process("b", [tight])
    finally:
        manager.close()
    denied = desk.of(OrderDenied)
    assert [d.rule for d in denied] == ["risk_per_trade"] and "2 ES, stop 4990" in denied[0].reason
    assert [o.quantity for o in broker.open_orders("ES")] == [1]


@pytest.mark.parametrize(("cap", "allowed"), [(1008, 1), (1008.01, 2), (503.99, 0)])
def test_risk_per_trade_headroom_contracts_allowed_matches_the_check(make_desk, cap, allowed):
    desk = make_desk({"risk_per_trade": {"max_loss": cap}})
    desk.tick("ES", 5000.0)
    [row] = desk.rm.headroom(["ES"], stops={"ES": 10.0}).symbols
    assert row.risk_per_contract == 504.0
    assert row.contracts_allowed == allowed and row.bound_by == "risk_per_trade"
    assert _limit_buy(desk, allowed + 1, 4990.0).status is OrderStatus.DENIED
    if allowed:
        assert _limit_buy(desk, allowed, 4990.0).status is OrderStatus.ACCEPTED


def test_risk_per_trade_measure_names_the_bounds(make_desk):
    desk = make_desk({"daily_realized_loss": {"limit": 2000}, "risk_per_trade": {"max_loss": 750}})
    [status] = [s for s in desk.rm.rule_status() if s.rule == "risk_per_trade"]
    assert status.limit == 750.0 and status.status == "ok"
    assert status.detail == (
        "a trade may risk < 750.00 (daily loss left under daily_realized_loss 2,000.00, max_loss 750.00)"
    )


def test_risk_per_trade_config_needs_a_bound():
    with pytest.raises(ConfigError, match="nothing to bound"):
        parse_risk_config(
            {"rules": {"risk_per_trade": {"within_daily_loss": False, "within_drawdown": False}}}
        )
    with pytest.raises(ConfigError, match="bad value 'alert'"):
        parse_risk_config({"rules": {"risk_per_trade": {"max_loss": 10, "action": "alert"}}})


def test_risk_per_trade_restart_recounts_the_room_from_the_journal(books):
    # The rule keeps no state: after a restart the daily loss left comes from the journal's fills.
    run = books({"daily_realized_loss": {"limit": 1512}, "risk_per_trade": {}})
    desk = run.start()
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4990.0)
    desk = run.restart()
    desk.tick("ES", 4990.0)
    assert desk.rm.engine.rules["risk_per_trade"].export_state() == {}
    assert _limit_buy(desk, 2, 4980.0, price=4990.0).status is OrderStatus.DENIED
    assert _limit_buy(desk, 2, 4980.25, price=4990.0).status is OrderStatus.ACCEPTED
