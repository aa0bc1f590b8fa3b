"""weekly_loss_limit on the paper broker and a TestClock: the week's realized loss over days,
the week boundary in the exchange time zone across DST changes, exact money, restarts.

GME has multiplier 1 and no commission: a price move is the P&L in money."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trading.errors import ConfigError
from trading.model import OrderSide, OrderStatus, RuleViolated, TradingState
from trading.risk import parse_risk_config

from ..conftest import Desk

# 2026-01-06 is a Tuesday; its week (trading days named by the 17:00 CT reset) starts Monday 01-05.
WED = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
THU = datetime(2026, 1, 8, 15, 0, tzinfo=UTC)
NEXT_MON = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)


def lose(desk: Desk, amount: float, at: datetime | None = None) -> None:
    """A round trip of one GME losing ``amount`` (at ``at``, else now)."""
    if at is not None:
        desk.clock.set_time(at)
        desk.rm.sweep()
    desk.tick("GME", 2000.0)
    desk.trade("GME", OrderSide.BUY, 1, 2000.0)
    desk.trade("GME", OrderSide.SELL, 1, round(2000.0 - amount, 2))


def fired(desk: Desk) -> list[str]:
    return [v.message for v in desk.of(RuleViolated) if v.rule == "weekly_loss_limit"]


def test_weekly_loss_limit_losses_of_two_days_reaching_the_limit_flatten_and_halt(make_desk):
    desk = make_desk({"weekly_loss_limit": {"limit": 1000}})
    lose(desk, 600)
    assert fired(desk) == []
    desk.clock.set_time(WED)
    desk.tick("NQ", 18000.0)
    desk.trade("NQ", OrderSide.BUY, 1, 18000.0)
    lose(desk, 398)  # with NQ's 2.00 commission: -1,000.00 this week
    assert fired(desk) == ["weekly realized loss -1,000.00 <= -1,000.00: until the week ends (2026-01-11)"]
    assert desk.rm.state is TradingState.HALTED
    [exit_order] = [o for o in desk.broker.open_orders() if o.symbol == "NQ"]
    assert exit_order.side is OrderSide.SELL and exit_order.reduce_only


def test_weekly_loss_limit_a_cent_below_the_limit_does_nothing(make_desk):
    desk = make_desk({"weekly_loss_limit": {"limit": 1000}})
    lose(desk, 600)
    lose(desk, 399.99, at=WED)
    assert fired(desk) == []
    assert desk.rm.state is TradingState.ACTIVE
    status = {s.rule: s for s in desk.rm.rule_status()}["weekly_loss_limit"]
    assert status.value == pytest.approx(999.99)
    assert status.detail == "realized this week -999.99 (since 2026-01-05)"


def test_weekly_loss_limit_three_round_trips_netting_exactly_the_limit_fire(make_desk):
    assert -397.64 - 372.46 - 229.90 > -1000.0  # float sums miss the limit; exact money reaches it
    desk = make_desk({"weekly_loss_limit": {"limit": 1000}})
    lose(desk, 397.64)
    lose(desk, 372.46, at=WED)
    lose(desk, 229.90, at=THU)
    assert len(fired(desk)) == 1
    assert desk.rm.state is TradingState.HALTED


def test_weekly_loss_limit_lock_holds_on_the_next_day_of_the_week_and_ends_with_it(make_desk):
    desk = make_desk({"weekly_loss_limit": {"limit": 1000}})
    lose(desk, 1000)
    assert desk.rm.state is TradingState.HALTED
    # Wednesday: the daily reset ended the day's lockout; the rule's check denies until the sweep
    desk.clock.set_time(WED)
    desk.tick("GME", 1000.0)
    denied = desk.order("GME", OrderSide.BUY, 1)
    assert denied.status is OrderStatus.DENIED
    assert "weekly loss limit reached on 2026-01-06" in denied.reason
    desk.rm.sweep()
    assert desk.rm.state is TradingState.HALTED
    assert fired(desk)[-1].endswith("reached on 2026-01-06, still in force, until the week ends (2026-01-11)")
    desk.rm.sweep()
    assert len(fired(desk)) == 2  # once a day
    # the next week starts afresh
    desk.clock.set_time(NEXT_MON)
    desk.rm.sweep()
    assert desk.rm.state is TradingState.ACTIVE
    assert desk.order("GME", OrderSide.BUY, 1).status is not OrderStatus.DENIED
    assert len(fired(desk)) == 2


def test_weekly_loss_limit_loss_of_last_week_does_not_count(make_desk, clock):
    clock.set_time(datetime(2026, 1, 9, 15, 0, tzinfo=UTC))  # Friday
    desk = make_desk({"weekly_loss_limit": {"limit": 1000}})
    lose(desk, 600)
    lose(desk, 600, at=NEXT_MON)
    assert fired(desk) == []


# The week starts with Monday's trading day, opened by the reset at 17:00 Chicago on Sunday:
# 22:00 UTC in summer time (from 2026-03-08), 23:00 UTC in winter time (from 2026-11-01).
@pytest.mark.parametrize(
    ("friday", "sunday", "new_week"),
    [
        (datetime(2026, 3, 6, 15, 0, tzinfo=UTC), datetime(2026, 3, 8, 22, 30, tzinfo=UTC), True),
        (datetime(2026, 3, 6, 15, 0, tzinfo=UTC), datetime(2026, 3, 8, 21, 30, tzinfo=UTC), False),
        (datetime(2026, 10, 30, 15, 0, tzinfo=UTC), datetime(2026, 11, 1, 22, 30, tzinfo=UTC), False),
        (datetime(2026, 10, 30, 15, 0, tzinfo=UTC), datetime(2026, 11, 1, 23, 30, tzinfo=UTC), True),
    ],
    ids=[
        "spring 17:30 CDT new week",
        "spring 16:30 CDT same week",
        "fall 16:30 CST same week",
        "fall 17:30 CST new week",
    ],
)
def test_weekly_loss_limit_week_boundary_follows_chicago_across_dst(
    make_desk, clock, friday, sunday, new_week
):
    clock.set_time(friday)
    desk = make_desk({"weekly_loss_limit": {"limit": 1000}})
    lose(desk, 600)
    lose(desk, 400, at=sunday)
    assert (fired(desk) == []) is new_week


def test_weekly_loss_limit_gross_mode_ignores_commissions(make_desk):
    desk = make_desk({"weekly_loss_limit": {"limit": 1000, "include_commissions": False}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    desk.trade("ES", OrderSide.SELL, 2, 4990.25)  # -975 gross, -983 net
    assert fired(desk) == []


def test_weekly_loss_limit_alert_only_neither_locks_nor_denies(make_desk):
    desk = make_desk({"weekly_loss_limit": {"limit": 100, "action": "alert"}})
    lose(desk, 100)
    assert len(fired(desk)) == 1
    assert desk.rm.state is TradingState.ACTIVE
    desk.clock.set_time(WED)
    desk.rm.sweep()
    assert len(fired(desk)) == 1
    assert desk.order("GME", OrderSide.BUY, 1).status is not OrderStatus.DENIED


def test_weekly_loss_limit_limit_is_exact_money_and_marks_a_loss_lockout(make_desk):
    desk = make_desk({"weekly_loss_limit": {"limit": 1000.10}})
    rule = desk.rm.engine.rules["weekly_loss_limit"]
    assert rule.config.limit == Decimal("1000.1")
    assert type(rule).loss_lockout is True


# --- restarts: the week's P&L from the journal, the latch from the saved state ----------------


def test_weekly_loss_limit_restart_mid_week_counts_the_earlier_days_from_the_journal(books):
    book = books({"weekly_loss_limit": {"limit": 1000}})
    desk = book.start()
    lose(desk, 600)
    lose(desk, 300, at=WED)
    again = book.restart()
    again.clock.set_time(THU)
    lose(again, 99.99)
    assert fired(again) == []
    lose(again, 0.01)
    assert len(fired(again)) == 1
    assert again.rm.state is TradingState.HALTED


@pytest.mark.parametrize("how", ["restart", "crash"])
def test_weekly_loss_limit_restart_same_day_fires_nothing_again(books, how):
    book = books({"weekly_loss_limit": {"limit": 1000}})
    desk = book.start()
    lose(desk, 1000)
    again = book.restart() if how == "restart" else book.crash()
    again.rm.sweep()
    again.tick("GME", 1000.0)
    assert fired(again) == []
    assert again.rm.state is TradingState.HALTED
    assert len([r for r in book.violation_rows() if r["rule"] == "weekly_loss_limit"]) == 1


def test_weekly_loss_limit_restart_on_a_later_day_of_the_week_locks_again_once(books):
    book = books({"weekly_loss_limit": {"limit": 1000}})
    desk = book.start()
    lose(desk, 1000)
    desk.rm.sweep()
    desk.clock.set_time(WED)
    again = book.restart()
    assert again.order("GME", OrderSide.BUY, 1).status is OrderStatus.DENIED
    again.rm.sweep()
    assert again.rm.state is TradingState.HALTED
    third = book.restart()
    third.rm.sweep()
    assert fired(third) == []
    assert third.rm.state is TradingState.HALTED
    assert len([r for r in book.violation_rows() if r["rule"] == "weekly_loss_limit"]) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"limit": 1000, "week_starts": "mon"},
            "field 'week_starts': bad value 'mon': allowed one of 'monday'",
        ),
        ({"limit": 1000, "limt": 3}, "unknown key 'limt' \\(did you mean 'limit'\\?\\)"),
        ({"limit": 1000, "action": "cooldown"}, "field 'action': bad value 'cooldown': allowed one of"),
        ({"limit": 0}, "field 'limit'"),
    ],
    ids=["week_starts", "unknown key", "action", "limit"],
)
def test_weekly_loss_limit_config_refuses_bad_fields_naming_them(body, message):
    with pytest.raises(ConfigError, match=message):
        parse_risk_config({"rules": {"weekly_loss_limit": body}})
