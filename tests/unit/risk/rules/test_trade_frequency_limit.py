import pytest

from trading.model import Order, OrderSide, OrderStatus, RuleViolated, TradingState


def _round_trips(desk, n):
    for _ in range(n):
        desk.trade("ES", OrderSide.BUY, 1, 5000.0)
        desk.trade("ES", OrderSide.SELL, 1, 5000.0)


def test_trade_frequency_limit_per_minute_starts_its_cooldown(make_desk, clock):
    desk = make_desk({"trade_frequency_limit": {"per_minute": {"max_trades": 4, "cooldown_s": 120}}})
    desk.tick("ES", 5000.0)
    _round_trips(desk, 2)  # 4 trades in 4 seconds
    [violation] = desk.of(RuleViolated)
    assert violation.action == "cooldown" and "4 trades in the last minute, max 4" in violation.message
    assert desk.rm.state is TradingState.REDUCING
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED
    clock.advance(121)
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED
    assert desk.rm.state is TradingState.ACTIVE


def test_trade_frequency_limit_spread_out_trades_pass(make_desk):
    desk = make_desk({"trade_frequency_limit": {"per_minute": {"max_trades": 3, "cooldown_s": 60}}})
    desk.tick("ES", 5000.0)
    for _ in range(6):
        desk.trade("ES", OrderSide.BUY, 1, 5000.0)
        desk.tick("ES", 5000.0, seconds=30)
    assert desk.of(RuleViolated) == []


def test_trade_frequency_limit_per_session_locks_until_reset(make_desk, clock):
    desk = make_desk({"trade_frequency_limit": {"per_session": {"max_trades": 3}}})
    desk.tick("ES", 5000.0)
    _round_trips(desk, 1)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    [violation] = desk.of(RuleViolated)
    assert violation.action == "lock" and violation.values["window"] == "session"
    lock = desk.rm.lockouts()[0]
    assert lock.until is None and lock.rule == "trade_frequency_limit"
    assert desk.order("ES", OrderSide.SELL, 1).status is OrderStatus.ACCEPTED  # exits still pass


def test_trade_frequency_limit_per_hour_window_counts_an_hour(make_desk):
    desk = make_desk({"trade_frequency_limit": {"per_hour": {"max_trades": 5, "cooldown_s": 600}}})
    desk.tick("ES", 5000.0)
    for _ in range(5):
        desk.trade("ES", OrderSide.BUY, 1, 5000.0)
        desk.tick("ES", 5000.0, seconds=600)
    [violation] = desk.of(RuleViolated)
    assert violation.values["window"] == "hour" and violation.values["seconds"] == 600


def test_trade_frequency_limit_exits_do_not_count(make_desk):
    desk = make_desk({"trade_frequency_limit": {"per_minute": {"max_trades": 2, "cooldown_s": 60}}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 3, 5000.0)  # one entry
    for _ in range(3):
        desk.broker.reduce_position("ES", 1, reason="scale out")  # exits (role EXIT)
        desk.tick("ES", 5000.0)
    assert desk.of(RuleViolated) == []


@pytest.mark.parametrize(
    ("trades", "fires"), [(3, True), (2, False), (4, True)], ids=["at", "below", "above"]
)
def test_trade_frequency_limit_boundary_fires_when_the_count_reaches_max(make_desk, trades, fires):
    desk = make_desk({"trade_frequency_limit": {"per_minute": {"max_trades": 3, "cooldown_s": 60}}})
    desk.tick("ES", 5000.0)
    for _ in range(trades):
        desk.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1), check=False)
        desk.tick("ES", 5000.0)
    assert [v.values["window"] for v in desk.of(RuleViolated)][:1] == (["minute"] if fires else [])


@pytest.mark.parametrize(
    ("gap", "fires"),
    [(60.0, False), (59.999, True), (60.001, False)],
    ids=["at", "just inside", "just outside"],
)
def test_trade_frequency_limit_boundary_a_trade_a_minute_old_has_left_the_window(make_desk, gap, fires):
    desk = make_desk({"trade_frequency_limit": {"per_minute": {"max_trades": 2, "cooldown_s": 60}}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)  # the first trade at t
    desk.order("ES", OrderSide.BUY, 1)
    desk.tick("ES", 5000.0, seconds=gap)  # the second fills at t + gap
    assert bool(desk.of(RuleViolated)) is fires
