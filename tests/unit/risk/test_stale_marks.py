"""Stale marks (a venue's quote feed down while positions are held): REDUCING until fresh, under
a pause or an account lockout, and with one alert each way."""

from __future__ import annotations

from trading.model import AlertRaised, MarksFresh, MarksStale, OrderSide, OrderStatus, TradingState

from .conftest import Desk


def _stale(desk: Desk, *symbols: str) -> None:
    desk.bus.publish(MarksStale(ts=desk.clock.now(), broker="venue", symbols=symbols, reason="market hub down"))


def test_stale_marks_hold_entries_and_let_exits_pass_until_fresh(make_desk):
    desk: Desk = make_desk({"daily_loss": {"limit": 1000, "basis": "net"}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)

    _stale(desk, "ES")

    assert desk.rm.state is TradingState.REDUCING
    assert desk.rm.state_reason == "open P&L unmeasured: ES not marked (market hub down)"
    assert desk.order("GME", OrderSide.BUY, 1).status is OrderStatus.DENIED
    assert desk.order("ES", OrderSide.SELL, 1).status is not OrderStatus.DENIED  # the exit passes
    desk.bus.publish(MarksFresh(ts=desk.clock.now(), broker="venue"))
    assert desk.rm.state is TradingState.ACTIVE
    alerts = [a.message for a in desk.of(AlertRaised) if a.rule == "broker"]
    assert alerts == [
        "venue: open P&L of ES unmeasured (market hub down): no new entries until marked",
        "venue: held positions marked again",
    ]


def test_stale_marks_under_a_halting_lockout_keep_it_halted_and_fresh_marks_do_not_lift_it(make_desk):
    desk: Desk = make_desk({"daily_loss": {"limit": 1000, "basis": "net"}})
    desk.rm.enforcer.lock("account", "operator:test", "news", until=None, state=TradingState.HALTED)
    desk.rm.engine.refresh_state()

    _stale(desk, "ES")
    assert desk.rm.state is TradingState.HALTED
    desk.bus.publish(MarksFresh(ts=desk.clock.now(), broker="venue"))
    assert desk.rm.state is TradingState.HALTED and desk.rm.state_reason == "operator:test: news"
