"""scaling_plan on the paper broker and a TestClock: tiers set at the daily reset from the
end-of-day balance, weighted contracts, the pre-trade check, reductions, restarts.

The paper account starts at 100,000. ES and NQ cost 2.00 a contract a side; GME is free,
multiplier 1 (a price move is the P&L in money)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trading.errors import ConfigError
from trading.model import OrderSide, OrderStatus, OrderType, RuleViolated
from trading.risk import parse_risk_config

from ..conftest import Desk

WED = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # 2026-01-06 (the start) is a Tuesday
THU = datetime(2026, 1, 8, 15, 0, tzinfo=UTC)

TWO_THEN_FOUR = {
    "tiers": [{"min_balance": 0, "max_contracts": 2}, {"min_balance": 101000, "max_contracts": 4}]
}


def plan(**fields):  # -> dict
    return {"scaling_plan": {**TWO_THEN_FOUR, **fields}}


def fired(desk: Desk) -> list[str]:
    return [v.message for v in desk.of(RuleViolated) if v.rule == "scaling_plan"]


def rule(desk: Desk):  # -> ScalingPlan
    return desk.rm.engine.rules["scaling_plan"]


def gain_gme(desk: Desk, amount: float) -> None:
    desk.tick("GME", 10000.0)
    desk.trade("GME", OrderSide.BUY, 1, 10000.0)
    desk.trade("GME", OrderSide.SELL, 1, 10000.0 + amount)


def test_scaling_plan_entry_past_the_tier_limit_is_denied(make_desk):
    desk = make_desk(plan())
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    denied = desk.order("ES", OrderSide.BUY, 1)
    assert denied.status is OrderStatus.DENIED
    assert denied.reason == (
        "would hold 3 weighted contracts, the scaling plan allows 2 today (balance 100,000.00 at the reset)"
    )
    assert fired(desk) == []


def test_scaling_plan_working_entries_of_other_symbols_count(make_desk):
    desk = make_desk(plan())
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    desk.order("ES", OrderSide.BUY, 2, order_type=OrderType.LIMIT, price=4900.0)
    assert desk.order("NQ", OrderSide.SELL, 1).status is OrderStatus.DENIED


@pytest.mark.parametrize(("gme", "allowed"), [(10, True), (11, False)], ids=["exactly the limit", "past it"])
def test_scaling_plan_weights_count_exactly(make_desk, gme, allowed):
    # 1 ES + 10 GME at 0.1 each = 2 exactly (ten floats of 0.1 sum to 0.9999999999999999)
    desk = make_desk(plan(weights={"GME": 0.1}))
    desk.tick("ES", 5000.0)
    desk.tick("GME", 100.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    order = desk.order("GME", OrderSide.BUY, gme)
    assert (order.status is not OrderStatus.DENIED) is allowed


def test_scaling_plan_profit_today_does_not_raise_the_limit_until_the_reset(make_desk):
    desk = make_desk(plan())
    gain_gme(desk, 2000)
    assert rule(desk).limit == 2
    desk.tick("ES", 5000.0)
    assert desk.order("ES", OrderSide.BUY, 3).status is OrderStatus.DENIED
    desk.clock.set_time(WED)
    desk.rm.sweep()
    assert (rule(desk).limit, rule(desk).balance) == (4, Decimal("102000"))
    assert desk.order("ES", OrderSide.BUY, 3).status is not OrderStatus.DENIED


@pytest.mark.parametrize("balance", [101000.0, 100999.99], ids=["at the tier", "a cent below"])
def test_scaling_plan_tier_reached_at_its_exact_balance(make_desk, balance):
    desk = make_desk(plan())
    gain_gme(desk, round(balance - 100000.0, 2))
    desk.clock.set_time(WED)
    desk.rm.sweep()
    assert rule(desk).limit == (4 if balance >= 101000 else 2)


def tier_two_then_a_losing_day(desk: Desk) -> None:
    """Tuesday ends at 101,016 (tier 2 on Wednesday); Wednesday 2 ES and 2 NQ are held and the
    day ends at 100,000 (tier 1 on Thursday)."""
    gain_gme(desk, 1016)
    desk.clock.set_time(WED)
    desk.rm.sweep()
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    desk.trade("NQ", OrderSide.BUY, 2, 18000.0)  # -4 commissions
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)  # -4
    desk.trade("ES", OrderSide.SELL, 2, 4990.0)  # -1,000 - 4
    desk.trade("ES", OrderSide.BUY, 2, 4990.0)  # -4
    assert desk.rm.pnl.cash == 100000


def test_scaling_plan_lower_tier_at_the_reset_reduces_until_within_the_limit(make_desk):
    desk = make_desk(plan())
    tier_two_then_a_losing_day(desk)
    assert fired(desk) == []
    # Act: Thursday's limit is 2; the sweep reduces, the fills bring the count within
    desk.clock.set_time(THU)
    desk.rm.sweep()
    desk.tick("ES", 4990.0)
    desk.tick("NQ", 18000.0)
    desk.rm.sweep()
    # Assert
    assert rule(desk).limit == 2
    assert rule(desk).weighted_open() == 2
    assert fired(desk) == [
        "holding 4 weighted contracts > 2 allowed by the scaling plan today (tier 1, balance 100,000.00 "
        "at the reset)"
    ]


def test_scaling_plan_reduce_over_several_positions_acts_until_within(make_desk):
    tiers = [{"min_balance": 0, "max_contracts": 1}, {"min_balance": 101000, "max_contracts": 4}]
    desk = make_desk({"scaling_plan": {"tiers": tiers}})
    tier_two_then_a_losing_day(desk)
    desk.clock.set_time(THU)
    desk.rm.sweep()
    for _ in range(3):
        desk.tick("ES", 4990.0)
        desk.tick("NQ", 18000.0)
    assert rule(desk).weighted_open() == 1
    assert len(fired(desk)) == 2  # ES reduced by its 2, then NQ by 1


@pytest.mark.parametrize(
    ("moment", "raised"),
    [
        (datetime(2026, 3, 9, 21, 59, tzinfo=UTC), False),  # 16:59 CDT
        (datetime(2026, 3, 9, 22, 0, tzinfo=UTC), True),  # 17:00 CDT: the reset (23:00 UTC in winter)
    ],
    ids=["before the reset", "at the reset"],
)
def test_scaling_plan_tier_changes_at_the_chicago_reset_in_summer_time(make_desk, clock, moment, raised):
    clock.set_time(datetime(2026, 3, 9, 15, 0, tzinfo=UTC))
    desk = make_desk(plan())
    gain_gme(desk, 1000)
    clock.set_time(moment)
    desk.rm.sweep()
    assert rule(desk).limit == (4 if raised else 2)


def test_scaling_plan_headroom_bounds_each_symbol_by_its_weight(make_desk):
    desk = make_desk(plan(weights={"GME": 0.1}))
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    room = {s.symbol: s for s in desk.rm.headroom(["ES", "GME"]).symbols}
    assert room["ES"].contracts_allowed == 1
    assert room["GME"].contracts_allowed == 10
    assert room["GME"].bound_by == "scaling_plan"


def test_scaling_plan_alert_action_fires_once_while_over(make_desk):
    desk = make_desk(plan(action="alert"))
    tier_two_then_a_losing_day(desk)
    desk.clock.set_time(THU)
    desk.rm.sweep()
    desk.rm.sweep()
    desk.tick("ES", 4990.0)
    assert len(fired(desk)) == 1
    assert rule(desk).weighted_open() == 4


def test_scaling_plan_restart_mid_day_keeps_the_day_start_tier(books):
    book = books(plan())
    desk = book.start()
    gain_gme(desk, 2000)
    again = book.restart()
    assert (rule(again).limit, rule(again).balance) == (2, Decimal("100000"))
    crashed = book.crash()
    assert rule(crashed).limit == 2
    crashed.rm.sweep()
    assert fired(crashed) == []


def test_scaling_plan_restart_after_the_reset_takes_the_end_of_day_balance(books):
    book = books(plan())
    desk = book.start()
    gain_gme(desk, 2000)
    desk.clock.set_time(WED)
    again = book.restart()
    assert (rule(again).limit, rule(again).balance) == (4, Decimal("102000"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tiers": []}, "field 'tiers'"),
        (
            {"tiers": [{"min_balance": 5, "max_contracts": 1}, {"min_balance": 5, "max_contracts": 2}]},
            "tiers must be listed by rising min_balance, got 5.00, 5.00",
        ),
        ({"tiers": [{"min_balance": 0, "max_contract": 1}]}, "unknown key 'tiers.0.max_contract'"),
        ({"tiers": [{"min_balance": 0, "max_contracts": 1}], "weights": {"MES": 0}}, "weights"),
    ],
    ids=["no tiers", "not rising", "unknown key", "zero weight"],
)
def test_scaling_plan_config_refuses_bad_fields(body, message):
    with pytest.raises(ConfigError, match=message):
        parse_risk_config({"rules": {"scaling_plan": body}})
