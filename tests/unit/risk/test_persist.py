"""Risk state across a restart: a restart never resets a daily loss or a drawdown floor.

Today's counters are recounted from the journal's fills; latches and marks come back from the
``rule_state`` table; the key-value blob is a view, and a version-1 blob is imported once."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from trading.errors import StateError
from trading.model import OrderSide, RuleViolated
from trading.storage import Database, RuleStateRepository

from .conftest import Desk

RULES = {
    "daily_realized_loss": {"limit": 2_000, "action": "flatten_and_lock"},
    "trailing_drawdown": {"max_drawdown": 3_000},
    "trade_frequency_limit": {
        "per_hour": {"max_trades": 50, "cooldown_s": 60},
        "per_session": {"max_trades": 99},
    },
}


def _lose_then_win(desk: Desk) -> None:
    desk.trade("ES", OrderSide.BUY, 2, fill_at=5_000.0)
    desk.tick("ES", 5_030.0)  # equity high-water: +3,000 less 4 of commission
    desk.trade("ES", OrderSide.SELL, 2, fill_at=4_990.0)  # realized -1,000 and commissions


def test_risk_state_same_day_restart_keeps_daily_counters_and_marks(books):
    book = books(RULES)
    desk = book.start()
    _lose_then_win(desk)
    before = desk.rm.pnl
    net, trades = before.daily_net, before.daily_closed_trades

    again = book.restart()

    assert again.rm.pnl.daily_net == net == Decimal("-1008")  # recounted from the journal's fills
    assert again.rm.pnl.daily_closed_trades == trades == 1
    status = {s.rule: s for s in again.rm.rule_status()}
    assert status["daily_realized_loss"].value == pytest.approx(1_008.0)
    assert status["trade_frequency_limit"].value == 2  # both orders were entries for the rule
    drawdown = again.rm.engine.rules["trailing_drawdown"]
    assert drawdown.high_water == Decimal("102996")
    assert drawdown.floor == Decimal("99996")  # the high-water mark less 3,000


def test_risk_state_counters_come_from_the_journal_not_from_a_lagging_blob(books):
    # Arrange: the rule states are saved (a sweep), then two more losing trades reach only the journal
    book = books(RULES)
    desk = book.start()
    desk.trade("ES", OrderSide.BUY, 1, fill_at=5_000.0)
    desk.rm.sweep()
    blob = json.loads(json.dumps(desk.rm.export_state()))
    desk.trade("ES", OrderSide.SELL, 1, fill_at=4_990.0)
    desk.trade("ES", OrderSide.BUY, 1, fill_at=4_990.0)
    desk.trade("ES", OrderSide.SELL, 1, fill_at=4_980.0)

    again = book.crash()

    assert blob["daily_realized"] == "0"  # the view was behind
    assert again.rm.pnl.daily_realized == Decimal("-1000")
    assert again.rm.pnl.daily_commissions == Decimal("8")
    assert again.rm.pnl.daily_closed_trades == 2
    assert {s.rule: s.value for s in again.rm.rule_status()}[
        "trade_frequency_limit"
    ] == 4  # every order an entry


def test_risk_state_restart_after_the_daily_reset_starts_the_day_at_zero_but_keeps_the_floor(books, clock):
    book = books(RULES)
    desk = book.start()
    _lose_then_win(desk)

    clock.advance(timedelta(days=1))  # past 17:00 Chicago: a new trading day
    again = book.restart()

    assert again.rm.pnl.daily_net == 0
    assert [d.net for d in again.rm.pnl.history()[:-1]] == [Decimal("-1008")]
    assert again.rm.engine.rules["trailing_drawdown"].high_water == Decimal("102996")
    assert {s.rule: s.value for s in again.rm.rule_status()}["trade_frequency_limit"] == 0
    assert again.rm.state.value == "ACTIVE"  # yesterday's latch and lockout are gone


def test_risk_state_version_1_blob_is_imported_once(books):
    # Arrange: a version-1 saved state, as a desk before the rule_state table wrote it
    book = books(RULES)
    desk = book.start()
    today = desk.rm.pnl.trading_day.isoformat()
    blob = {
        "version": 1,
        "pnl": {"trading_day": today, "daily_realized": -5.0},
        "rules": {"trailing_drawdown": {"high_water": 104_000.0}, "daily_realized_loss": {}},
    }
    # Act
    same_day = desk.rm.restore_state(blob)
    assert desk.rm.flush()
    # Assert: the mark is taken and written to the rule_state table; the counters are not taken
    assert same_day is True
    assert desk.rm.engine.rules["trailing_drawdown"].high_water == Decimal("104000.0")
    assert desk.rm.pnl.daily_realized == 0
    db = Database(book.path)
    saved = RuleStateRepository(db).load()
    db.close()
    assert Decimal(saved["trailing_drawdown"].state["high_water"]) == Decimal("104000.0")


def test_risk_state_unknown_version_is_ignored_with_a_warning(make_desk, caplog):
    desk = make_desk(RULES)

    assert desk.rm.restore_state({"version": 99}) is False

    assert "risk state version 99 is not 1" in caplog.text


def test_risk_state_damaged_version_1_blob_raises_state_error(make_desk):
    desk = make_desk(RULES)

    with pytest.raises(
        StateError, match=r"the saved risk state \(version 1: rule latches and marks\) cannot"
    ):
        desk.rm.restore_state({"version": 1, "pnl": 5})


def test_risk_state_restart_does_not_fire_the_days_breach_again(books):
    book = books(RULES)
    desk = book.start()
    _lose_then_win(desk)  # the trailing floor is breached: flatten and lock
    assert [v.rule for v in desk.of(RuleViolated)] == ["trailing_drawdown"]

    again = book.restart()
    again.rm.sweep()
    again.tick("ES", 4_990.0)

    assert again.of(RuleViolated) == []
    assert again.rm.state.value == "HALTED"
    assert [r["rule"] for r in book.violation_rows()] == ["trailing_drawdown"]
