from datetime import UTC, datetime

import pytest

from trading.model import OrderDenied, OrderSide, OrderStatus, RuleViolated

SESSION = {"open": "08:30", "close": "15:00", "timezone": "America/Chicago"}


def test_session_hours_order_outside_hours_denied(make_desk, clock):
    desk = make_desk({"session_hours": SESSION})
    clock.set_time(datetime(2026, 1, 6, 22, 0, tzinfo=UTC))  # 16:00 CST
    order = desk.order("ES", OrderSide.BUY, 1)
    assert order.status is OrderStatus.DENIED
    assert "outside session hours 08:30-15:00 America/Chicago" in desk.of(OrderDenied)[0].reason


def test_session_hours_inside_hours_passes(make_desk):
    desk = make_desk({"session_hours": SESSION})  # START is 09:00 CST on a Tuesday
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED


def test_session_hours_holiday_and_weekend_denied(make_desk, clock):
    desk = make_desk({"session_hours": {**SESSION, "holidays": ["2026-01-07"]}})
    clock.set_time(datetime(2026, 1, 7, 16, 0, tzinfo=UTC))  # Wednesday 10:00 CST, a holiday
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED
    clock.set_time(datetime(2026, 1, 10, 16, 0, tzinfo=UTC))  # Saturday
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED


def test_session_hours_flatten_at_close_flattens_once(make_desk, clock):
    desk = make_desk({"session_hours": {**SESSION, "flatten_at_close": True}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    clock.set_time(datetime(2026, 1, 6, 20, 59, tzinfo=UTC))  # 14:59 CST
    desk.tick("ES", 5000.0)
    assert desk.of(RuleViolated) == []
    desk.tick("ES", 5000.0, seconds=60)  # 15:00:01 CST
    desk.tick("ES", 5000.0)
    [violation] = desk.of(RuleViolated)
    assert violation.action == "flatten" and "session ended at 15:00" in violation.message


def test_session_hours_overnight_session_wraps_midnight(make_desk, clock):
    desk = make_desk({"session_hours": {"open": "17:00", "close": "16:00", "days": ["sun", "mon", "tue"]}})
    clock.set_time(datetime(2026, 1, 7, 5, 0, tzinfo=UTC))  # Tuesday 23:00 CST: Tuesday's session
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED
    clock.set_time(datetime(2026, 1, 7, 23, 30, tzinfo=UTC))  # Wednesday 17:30: not a session day
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED


@pytest.mark.parametrize(
    ("local", "status"),
    [
        ("08:30:00", OrderStatus.ACCEPTED),
        ("08:29:59.999", OrderStatus.DENIED),
        ("08:30:00.001", OrderStatus.ACCEPTED),
        ("15:00:00", OrderStatus.DENIED),
        ("14:59:59.999", OrderStatus.ACCEPTED),
        ("15:00:00.001", OrderStatus.DENIED),
    ],
    ids=[
        "at the open",
        "just before the open",
        "just after the open",
        "at the close",
        "just before the close",
        "just after the close",
    ],
)
def test_session_hours_boundary_open_included_close_excluded(make_desk, clock, local, status):
    desk = make_desk({"session_hours": SESSION})
    clock.set_time(datetime.fromisoformat(f"2026-01-07T{local}-06:00").astimezone(UTC))  # Wednesday, CST
    assert desk.order("ES", OrderSide.BUY, 1).status is status
