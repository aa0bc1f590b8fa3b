"""symbol_groups: weighted exposure per group of instruments that move together, and no hedging."""

import pytest

from tests.unit.risk.conftest import INSTRUMENTS
from trading.broker import PaperBroker
from trading.errors import ConfigError
from trading.model import Instrument, Order, OrderDenied, OrderSide, OrderStatus, OrderType, RuleViolated
from trading.risk import parse_risk_config

MICROS = (
    Instrument(symbol="MES", tick_size=0.25, multiplier=5.0, commission=0.5),
    Instrument(symbol="MNQ", tick_size=0.25, multiplier=2.0, commission=0.5),
)
GROUPS = {
    "sp": {"members": {"ES": 1, "MES": 0.1}, "limit": 2},
    "nasdaq": {"members": {"NQ": 1, "MNQ": 0.1}},
}


@pytest.fixture
def broker(bus, clock):
    return PaperBroker(bus, clock, (*INSTRUMENTS, *MICROS), starting_balance=100_000.0)


def _desk(make_desk, **fields):
    desk = make_desk({"symbol_groups": {"groups": GROUPS, **fields}})
    for symbol, price in (("ES", 5000.0), ("MES", 5000.0), ("NQ", 18000.0), ("MNQ", 18000.0)):
        desk.tick(symbol, price)
    return desk


@pytest.mark.parametrize(
    ("micros", "status"),
    [(10, OrderStatus.ACCEPTED), (9, OrderStatus.ACCEPTED), (11, OrderStatus.DENIED)],
    ids=["exactly the limit", "below", "past the limit"],
)
def test_symbol_groups_weighted_exposure_boundary_allows_holding_the_limit(make_desk, micros, status):
    desk = _desk(make_desk)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    order = desk.order("MES", OrderSide.BUY, micros)  # 1 ES + 10 x 0.1 MES = exactly 2
    assert order.status is status
    if status is OrderStatus.DENIED:
        [denied] = desk.of(OrderDenied)
        assert denied.rule == "symbol_groups"
        assert denied.reason == "group sp would hold 2.1 weighted contracts, limit 2"


def test_symbol_groups_working_entries_count_as_filled(make_desk):
    desk = _desk(make_desk)
    resting = desk.order("ES", OrderSide.BUY, 2, order_type=OrderType.LIMIT, price=4990.0)
    assert resting.status is OrderStatus.ACCEPTED
    assert desk.order("MES", OrderSide.BUY, 1).status is OrderStatus.DENIED


def test_symbol_groups_other_group_is_not_counted(make_desk):
    desk = _desk(make_desk)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    assert desk.order("NQ", OrderSide.BUY, 5).status is OrderStatus.ACCEPTED


def test_symbol_groups_hedge_in_a_group_is_denied(make_desk):
    desk = _desk(make_desk)
    desk.trade("NQ", OrderSide.BUY, 1, 18000.0)
    order = desk.order("MNQ", OrderSide.SELL, 3)
    assert order.status is OrderStatus.DENIED
    [denied] = desk.of(OrderDenied)
    assert denied.reason == (
        "would leave long NQ and short MNQ open in group nasdaq: hedging within a group is not allowed"
    )


def test_symbol_groups_hedge_against_a_working_entry_is_denied(make_desk):
    desk = _desk(make_desk)
    desk.order("MES", OrderSide.SELL, 1, order_type=OrderType.LIMIT, price=5010.0)
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED


def test_symbol_groups_same_direction_and_closing_pass(make_desk):
    desk = _desk(make_desk)
    desk.trade("NQ", OrderSide.BUY, 1, 18000.0)
    assert desk.order("MNQ", OrderSide.BUY, 3).status is OrderStatus.ACCEPTED
    desk.tick("MNQ", 18000.0)
    assert desk.order("NQ", OrderSide.SELL, 1).status is OrderStatus.ACCEPTED  # reduces: always passes
    desk.tick("NQ", 18001.0)
    assert desk.of(RuleViolated) == []


def test_symbol_groups_hedging_allowed_when_turned_off(make_desk):
    desk = _desk(make_desk, no_hedging=False)
    desk.trade("NQ", OrderSide.BUY, 1, 18000.0)
    assert desk.order("MNQ", OrderSide.SELL, 3).status is OrderStatus.ACCEPTED


def test_symbol_groups_fill_past_the_limit_fires_once_then_rearms(make_desk, broker):
    desk = _desk(make_desk, action="flatten")
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False)
    desk.tick("ES", 5000.0)
    [violation] = desk.of(RuleViolated)
    assert violation.action == "flatten" and violation.values["group"] == "sp"
    assert "group sp holds 3 weighted contracts > limit 2" in violation.message
    desk.tick("ES", 5000.0)  # the flatten fills: flat, re-armed
    assert broker.positions() == {} and len(desk.of(RuleViolated)) == 1
    broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False)
    desk.tick("ES", 5000.0)
    assert len(desk.of(RuleViolated)) == 2


def test_symbol_groups_hedge_that_got_through_alerts(make_desk, broker):
    desk = _desk(make_desk)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    broker.submit(Order(symbol="MES", side=OrderSide.SELL, quantity=2), check=False)
    desk.tick("MES", 5000.0)
    [violation] = desk.of(RuleViolated)
    assert violation.action == "alert" and violation.message == "group sp is hedged: long ES, short MES"


def test_symbol_groups_headroom_shows_contracts_left_in_the_group(make_desk):
    desk = _desk(make_desk)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    rows = {row.symbol: row for row in desk.rm.headroom(["ES", "MES", "NQ"]).symbols}
    assert rows["ES"].contracts_allowed == 1 and rows["ES"].bound_by == "symbol_groups"
    assert rows["MES"].contracts_allowed == 10
    assert rows["NQ"].contracts_allowed is None  # its group has no limit


def test_symbol_groups_restart_keeps_the_latch_nothing_refires(books, clock):
    run = books({"symbol_groups": {"groups": GROUPS}})
    desk = run.start()
    desk.tick("ES", 5000.0)
    desk.tick("MES", 5000.0)
    desk.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False)
    desk.tick("ES", 5000.0)
    assert len(desk.of(RuleViolated)) == 1  # alert: the position stays
    desk = run.restart()
    desk.tick("ES", 5001.0)
    desk.broker.submit(Order(symbol="MES", side=OrderSide.BUY, quantity=1), check=False)
    desk.tick("MES", 5001.0)
    assert desk.of(RuleViolated) == []
    assert desk.rm.engine.rules["symbol_groups"].export_state() == {"in_force": ["sp:limit"]}


def test_symbol_groups_config_strict():
    with pytest.raises(ConfigError, match=r"unknown key 'groups\.sp\.weight' \(known: limit, members\)"):
        parse_risk_config(
            {"rules": {"symbol_groups": {"groups": {"sp": {"members": {"ES": 1}, "weight": 2}}}}}
        )
    with pytest.raises(ConfigError, match="would do nothing"):
        parse_risk_config(
            {"rules": {"symbol_groups": {"no_hedging": False, "groups": {"sp": {"members": {"ES": 1}}}}}}
        )
