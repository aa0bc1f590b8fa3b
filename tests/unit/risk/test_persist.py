"""Risk state across a restart: a restart never resets a daily loss or a drawdown floor."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import OrderSide
from trading.risk import RiskManager, parse_risk_config

from .conftest import INSTRUMENTS, Desk

RULES = {
    "daily_realized_loss": {"limit": 2_000, "action": "flatten_and_lock"},
    "trailing_drawdown": {"max_drawdown": 3_000},
    "trade_frequency_limit": {
        "per_hour": {"max_trades": 50, "cooldown_s": 60},
        "per_session": {"max_trades": 99},
    },
}


def _restarted(clock: TestClock, account: dict) -> Desk:
    """A new bus, broker and manager, as a restarted desk builds them."""
    bus = EventBus()
    broker = PaperBroker(bus, clock, INSTRUMENTS, starting_balance=100_000.0)
    broker.restore_state(account)
    rm = RiskManager(bus, broker, clock, parse_risk_config({"rules": RULES}))
    rm.start()
    return Desk(bus, clock, broker, rm)


def _lose_then_win(desk: Desk) -> None:
    desk.trade("ES", OrderSide.BUY, 2, fill_at=5_000.0)
    desk.tick("ES", 5_030.0)  # equity high-water: +3,000 less 4 of commission
    desk.trade("ES", OrderSide.SELL, 2, fill_at=4_990.0)  # realized -1,000 and commissions


def test_risk_state_same_day_restart_keeps_daily_counters_and_marks(make_desk, clock, broker):
    desk = make_desk(RULES)
    _lose_then_win(desk)
    saved = json.loads(json.dumps(desk.rm.export_state()))  # it goes through a JSON column
    before = desk.rm.pnl

    again = _restarted(clock, broker.export_state())
    assert again.rm.pnl.daily_net == 0.0  # what a restart would have forgotten
    restored = again.rm.restore_state(saved)

    assert restored is True
    assert again.rm.pnl.daily_net == pytest.approx(before.daily_net) == pytest.approx(-1_008.0)
    assert again.rm.pnl.daily_closed_trades == before.daily_closed_trades == 1
    status = {s.rule: s for s in again.rm.rule_status()}
    assert status["daily_realized_loss"].value == pytest.approx(1_008.0)
    assert status["trade_frequency_limit"].value == 2  # both orders were entries for the rule
    drawdown = again.rm.engine.rules["trailing_drawdown"]
    assert drawdown.high_water == pytest.approx(102_996.0)
    assert drawdown.floor == pytest.approx(99_996.0)  # the high-water mark less 3,000


def test_risk_state_restart_after_the_daily_reset_starts_the_day_at_zero_but_keeps_the_floor(
    make_desk, clock, broker
):
    desk = make_desk(RULES)
    _lose_then_win(desk)
    saved = desk.rm.export_state()

    clock.advance(timedelta(days=1))  # past 17:00 Chicago: a new trading day
    again = _restarted(clock, broker.export_state())
    restored = again.rm.restore_state(saved)

    assert restored is False
    assert again.rm.pnl.daily_net == 0.0
    assert [d.net for d in again.rm.pnl.history()[:-1]] == [pytest.approx(-1_008.0)]
    assert again.rm.engine.rules["trailing_drawdown"].high_water == pytest.approx(102_996.0)
    assert {s.rule: s.value for s in again.rm.rule_status()}["trade_frequency_limit"] == 0


def test_risk_state_unknown_version_is_ignored_with_a_warning(make_desk, caplog):
    desk = make_desk(RULES)

    assert desk.rm.restore_state({"version": 99}) is False

    assert "risk state version 99 is not 1" in caplog.text
