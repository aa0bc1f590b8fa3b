"""Every rule across a same-day restart: its latches, in-force states, timers and marks come back,
so nothing fires again, no alert repeats and no violation row repeats.

Each test breaches a rule on a desk whose books are in a real ``desk.db``, then starts a new
desk from the file: after a clean stop (``restart``) and after a crash that kept only what the
risk record of the violation committed (``crash``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trading.model import AlertRaised, Order, OrderSide, RuleViolated, TradingState

from .conftest import Books, Desk

HOW = ["restart", "crash"]


def _again(book: Books, how: str) -> Desk:
    return book.restart() if how == "restart" else book.crash()


def _quiet(desk: Desk) -> None:
    """Nothing fired and nothing was alerted on ``desk`` (since it started)."""
    assert desk.of(RuleViolated) == []
    assert desk.of(AlertRaised) == []


def _rows(book: Books, rule: str) -> int:
    return len([row for row in book.violation_rows() if row["rule"] == rule])


@pytest.mark.parametrize("how", HOW)
def test_restart_daily_realized_loss_tripped_stays_tripped(books, how):
    book = books({"daily_realized_loss": {"limit": 10}})
    desk = book.start()
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, 90.0)
    assert desk.rm.state is TradingState.HALTED

    again = _again(book, how)
    again.rm.sweep()
    again.tick("GME", 90.0)

    _quiet(again)
    assert again.rm.state is TradingState.HALTED
    assert _rows(book, "daily_realized_loss") == 1


@pytest.mark.parametrize("how", HOW)
def test_restart_daily_realized_profit_target_reached_stays_reached(books, how):
    book = books({"daily_realized_profit_target": {"target": 10}})
    desk = book.start()
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, 110.0)
    assert desk.rm.state is TradingState.REDUCING

    again = _again(book, how)
    again.rm.sweep()

    _quiet(again)
    assert again.rm.state is TradingState.REDUCING
    assert _rows(book, "daily_realized_profit_target") == 1


@pytest.mark.parametrize("how", HOW)
def test_restart_trailing_drawdown_keeps_its_mark_and_its_latch(books, how):
    book = books({"trailing_drawdown": {"max_drawdown": 10, "stop_trailing_at_start": False}})
    desk = book.start()
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.tick("GME", 110.0)
    desk.tick("GME", 100.0)  # at the floor: flatten and lock
    desk.tick("GME", 100.0)  # the flatten fills

    again = _again(book, how)
    again.rm.sweep()
    again.tick("GME", 100.0)

    _quiet(again)
    rule = again.rm.engine.rules["trailing_drawdown"]
    assert rule.high_water == Decimal("100010")
    assert again.rm.state is TradingState.HALTED
    assert _rows(book, "trailing_drawdown") == 1


@pytest.mark.parametrize("kind", ["unrealized_loss", "unrealized_profit"])
@pytest.mark.parametrize("how", HOW)
def test_restart_open_pnl_latch_of_a_still_open_position_stays(books, how, kind):
    field = "limit" if kind == "unrealized_loss" else "target"
    mark, further = (90.0, 89.0) if kind == "unrealized_loss" else (110.0, 111.0)
    book = books({kind: {field: 10, "action": "alert"}})
    desk = book.start()
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.tick("GME", mark)
    assert [v.rule for v in desk.of(RuleViolated)] == [kind]

    again = _again(book, how)
    again.tick("GME", further)
    again.rm.sweep()

    _quiet(again)
    assert _rows(book, kind) == 1


@pytest.mark.parametrize("kind", ["max_contracts", "max_contracts_per_instrument"])
@pytest.mark.parametrize("how", HOW)
def test_restart_contract_limit_in_force_stays_in_force(books, how, kind):
    book = books({kind: {"limit": 2, "action": "alert"}})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3), check=False)
    desk.tick("ES", 5000.0)
    assert [v.rule for v in desk.of(RuleViolated)] == [kind]

    again = _again(book, how)
    again.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=1), check=False)
    again.tick("ES", 5000.0)  # still over the limit: a position event the rule sees

    _quiet(again)
    assert _rows(book, kind) == 1


@pytest.mark.parametrize("how", HOW)
def test_restart_trade_frequency_session_latch_stays(books, how):
    book = books({"trade_frequency_limit": {"per_session": {"max_trades": 2}}})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    assert desk.rm.state is TradingState.REDUCING

    again = _again(book, how)
    again.rm.sweep()  # the journal recounts 2 trades: the latch must say it fired already

    _quiet(again)
    assert {s.rule: s.value for s in again.rm.rule_status()}["trade_frequency_limit"] == 2
    assert _rows(book, "trade_frequency_limit") == 1


@pytest.mark.parametrize("how", HOW)
def test_restart_trade_frequency_window_starts_afresh_after_its_cooldown(books, how):
    book = books({"trade_frequency_limit": {"per_minute": {"max_trades": 2, "cooldown_s": 5}}})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)  # 2 in a minute: a 5 s cooldown, the window starts afresh
    assert [v.values["window"] for v in desk.of(RuleViolated)] == ["minute"]

    again = _again(book, how)
    again.tick("ES", 5000.0, seconds=6)  # the cooldown is over
    again.trade("ES", OrderSide.BUY, 1, 5000.0)  # one trade in the fresh window

    _quiet(again)
    assert _rows(book, "trade_frequency_limit") == 1


@pytest.mark.parametrize("how", HOW)
def test_restart_cooldown_after_loss_keeps_its_timer_and_lockout(books, how):
    book = books({"cooldown_after_loss": {"minutes": 1}})
    desk = book.start()
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, 99.0)
    assert desk.rm.state is TradingState.REDUCING

    again = _again(book, how)
    again.rm.sweep()

    _quiet(again)
    assert again.rm.state is TradingState.REDUCING
    [status] = again.rm.rule_status()
    assert 0 < status.value <= 60  # seconds of cooldown left, from the saved timer
    assert _rows(book, "cooldown_after_loss") == 1


@pytest.mark.parametrize("how", HOW)
def test_restart_no_stop_loss_grace_checked_position_is_not_checked_again(books, clock, how):
    book = books({"no_stop_loss_grace": {"grace_s": 10, "action": "alert"}})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 5000.0, seconds=10)
    assert [v.rule for v in desk.of(RuleViolated)] == ["no_stop_loss_grace"]
    desk.rm.sweep()  # its warning (100% of the grace) is out, and is not repeated after the restart

    again = _again(book, how)
    clock.advance(30)
    again.rm.sweep()

    _quiet(again)
    assert _rows(book, "no_stop_loss_grace") == 1


def test_restart_no_stop_loss_grace_timer_runs_on_from_where_it_was(books, clock):
    book = books({"no_stop_loss_grace": {"grace_s": 10, "action": "alert"}})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 5000.0, seconds=6)

    again = book.restart()
    clock.advance(3.9)
    again.rm.sweep()
    assert again.of(RuleViolated) == []
    clock.advance(0.1)  # 10 s after the position opened, not 10 s after the restart
    again.rm.sweep()

    assert [v.rule for v in again.of(RuleViolated)] == ["no_stop_loss_grace"]


SESSION = {"open": "08:30", "close": "15:00", "timezone": "America/Chicago", "flatten_at_close": True}
CLOSE = datetime(2026, 1, 6, 21, 0, tzinfo=UTC)  # 15:00 CST


@pytest.mark.parametrize("how", HOW)
def test_restart_session_hours_close_flattened_once(books, clock, how):
    book = books({"session_hours": SESSION})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    clock.set_time(CLOSE)
    desk.tick("ES", 5000.0)  # the session closed: flatten
    assert [v.rule for v in desk.of(RuleViolated)] == ["session_hours"]

    again = _again(book, how)
    again.rm.sweep()
    again.tick("ES", 5000.0)

    _quiet(again)
    assert _rows(book, "session_hours") == 1


def test_restart_session_hours_close_missed_while_down_is_flattened_once(books, clock):
    book = books({"session_hours": SESSION})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    book.close()  # the desk is down across the close

    clock.set_time(CLOSE + timedelta(minutes=5))
    again = book.start()
    again.rm.sweep()
    assert [v.rule for v in again.of(RuleViolated)] == ["session_hours"]
    again.tick("ES", 5000.0)  # the flatten fills
    third = book.restart()
    third.rm.sweep()

    _quiet(third)
    assert third.broker.positions() == {}
    assert _rows(book, "session_hours") == 1


@pytest.mark.parametrize("how", HOW)
def test_restart_max_order_rate_window_comes_back(books, how):
    book = books({"max_order_rate": {"max_orders": 1, "interval_s": 10.0}})
    desk = book.start()
    desk.tick("ES", 5000.0)
    desk.order("ES", OrderSide.BUY, 1)
    desk.rm.sweep()  # the rule states are saved (the rate window moves without a violation)

    again = _again(book, how)
    refused = again.order("ES", OrderSide.BUY, 1)

    assert refused.status.value == "DENIED" and "order rate exceeded" in refused.reason


@pytest.mark.parametrize("how", HOW)
def test_restart_symbol_blocks_has_nothing_to_fire_again(books, how):
    book = books({"symbol_blocks": {"symbols": ["GME"], "action": "close_position"}})
    desk = book.start()
    desk.tick("GME", 100.0)
    desk.broker.submit(Order(symbol="GME", side=OrderSide.BUY, quantity=1), check=False)
    desk.tick("GME", 100.0)
    assert [v.rule for v in desk.of(RuleViolated)] == ["symbol_blocks"]

    again = _again(book, how)
    again.rm.sweep()
    again.tick("GME", 100.0)

    _quiet(again)
    assert _rows(book, "symbol_blocks") == 1


def test_restart_lost_risk_record_fires_the_breach_again_exactly_once(books):
    # Arrange: the breach's record never reached the database (a crash before the writer wrote it)
    book = books({"daily_realized_loss": {"limit": 10}})
    desk = book.start(store=False)
    desk.tick("GME", 100.0)
    desk.trade("GME", OrderSide.BUY, 1, 100.0)
    desk.trade("GME", OrderSide.SELL, 1, 90.0)
    assert desk.rm.state is TradingState.HALTED
    # Act: the next desk recounts the loss from the journal: the breach fires, once
    again = book.restart()
    again.rm.sweep()
    third = book.restart()
    third.rm.sweep()
    # Assert
    assert [v.rule for v in again.of(RuleViolated)] == ["daily_realized_loss"]
    _quiet(third)
    assert third.rm.state is TradingState.HALTED
    assert _rows(book, "daily_realized_loss") == 1
