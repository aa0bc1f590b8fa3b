import logging
from datetime import UTC, datetime

from trading.broker import PaperBroker
from trading.model import (
    AlertRaised,
    MarketDataUpdated,
    OrderDenied,
    OrderSide,
    OrderStatus,
    RuleViolated,
    TradingState,
)
from trading.risk import RiskManager, parse_risk_config
from trading.risk._building import rule_state
from trading.storage import AuditRepository, ViolationRepository

from .conftest import INSTRUMENTS, repositories

LOSS = {"daily_realized_loss": {"limit": 500}}


def _lose(desk, points=15.0):
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 5000.0 - points)


def test_risk_manager_shadow_mode_records_would_have_and_does_not_act(make_desk, db):
    desk = make_desk({"daily_realized_loss": {"limit": 500, "mode": "shadow"}}, **repositories(db))
    _lose(desk)
    [violation] = desk.of(RuleViolated)
    assert violation.shadow
    assert (
        violation.message
        == "would have flattened and locked the account at 09:00:03, daily realized loss -754.00 <= -500.00"
    )
    assert desk.rm.state is TradingState.ACTIVE and desk.rm.lockouts() == []
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED
    assert desk.rm.flush()
    [row] = ViolationRepository(db).recent()
    assert row["shadow"] and row["message"].startswith("would have flattened")


def test_risk_manager_shadow_pre_trade_check_records_would_have_denied(make_desk):
    desk = make_desk({"symbol_blocks": {"symbols": ["GME"], "mode": "shadow"}})
    assert desk.order("GME", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED
    [violation] = desk.of(RuleViolated)
    assert violation.shadow and violation.message.startswith(
        "would have denied the order at 09:00:00, BUY 1 GME"
    )


def test_risk_manager_violation_recorded_with_its_event(make_desk, db):
    desk = make_desk(LOSS, **repositories(db))
    _lose(desk)
    assert desk.rm.flush()
    [row] = ViolationRepository(db).recent()
    assert row["rule"] == "daily_realized_loss" and row["severity"] == "CRITICAL" and not row["shadow"]
    assert (
        row["event"].startswith("PositionClosed(")
        and "realized_delta=Decimal('-750.00000000')" in row["event"]
    )
    assert row["values"] == {"daily_realized": -754.0, "limit": -500.0}
    assert [v.rule for v in desk.rm.recent_violations()] == ["daily_realized_loss"]


def test_risk_manager_lockout_survives_restart(bus, broker, clock, db, make_desk):
    desk = make_desk(LOSS, **repositories(db))
    _lose(desk)
    desk.rm.stop()
    # Act: a new manager (a restarted desk) on the same database
    cfg = parse_risk_config({"rules": LOSS})
    restarted = RiskManager(bus, broker, clock, cfg, **repositories(db))
    restarted.start()
    try:
        assert restarted.state is TradingState.HALTED
        assert [lock.rule for lock in restarted.lockouts()] == ["daily_realized_loss"]
        assert restarted.engine.check(desk.order("NQ", OrderSide.BUY, 1)) is not None
    finally:
        restarted.stop()


def test_risk_manager_daily_reset_returns_halted_account_to_active(make_desk, clock):
    desk = make_desk(LOSS)
    _lose(desk)
    assert desk.rm.state is TradingState.HALTED
    clock.set_time(datetime(2026, 1, 6, 22, 59, 59, tzinfo=UTC))
    desk.rm.sweep()
    assert desk.rm.state is TradingState.HALTED
    clock.set_time(datetime(2026, 1, 6, 23, 0, tzinfo=UTC))  # 17:00 CST
    desk.rm.sweep()
    assert desk.rm.state is TradingState.ACTIVE and desk.rm.lockouts() == []
    assert desk.rm.pnl.daily_net == 0.0 and desk.rm.next_reset == datetime(2026, 1, 7, 23, 0, tzinfo=UTC)


def test_risk_manager_daily_reset_after_spring_forward_is_at_17_cdt(bus, broker, make_desk, clock):
    clock.set_time(datetime(2026, 3, 9, 15, 0, tzinfo=UTC))  # Monday after the DST change
    desk = make_desk(LOSS)
    _lose(desk)
    clock.set_time(datetime(2026, 3, 9, 21, 59, tzinfo=UTC))
    desk.rm.sweep()
    assert desk.rm.state is TradingState.HALTED
    clock.set_time(datetime(2026, 3, 9, 22, 0, tzinfo=UTC))  # 17:00 CDT
    desk.rm.sweep()
    assert desk.rm.state is TradingState.ACTIVE


def test_risk_manager_unlock_by_operator_is_audited(make_desk, db):
    cfg = parse_risk_config({"manual_unlock": "always", "rules": LOSS})  # a loss lockout: by policy
    desk = make_desk(cfg, **repositories(db))
    _lose(desk)
    assert desk.rm.unlock("account", reason="reviewed", who="alice")
    assert desk.rm.state is TradingState.ACTIVE
    row = AuditRepository(db).recent()[0]
    assert (row["action"], row["rule"], row["reason"], row["result"]) == (
        "unlock",
        "operator:alice",
        "reviewed",
        "account unlocked",
    )
    assert not desk.rm.unlock("account", reason="again")


def test_risk_manager_warning_threshold_logs_once_and_alerts(make_desk, caplog):
    desk = make_desk({"daily_realized_loss": {"limit": 1000}})
    desk.tick("ES", 5000.0)
    with caplog.at_level(logging.WARNING, logger="trading.risk.engine"):
        for _ in range(4):  # 4 x -204: 20%, 41%, 61%, then 82%
            desk.trade("ES", OrderSide.BUY, 1, 5000.0)
            desk.trade("ES", OrderSide.SELL, 1, 4996.0)
        desk.rm.sweep()
        desk.rm.sweep()
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("risk warning")]
    assert warnings == ["risk warning: daily_realized_loss at 82% of its limit (realized today -816.00)"]
    assert len([a for a in desk.of(AlertRaised) if "of its limit" in a.message]) == 1


def test_risk_manager_rule_status_reports_distance_to_every_limit(make_desk):
    desk = make_desk(
        {
            "daily_realized_loss": {"limit": 1000},
            "max_contracts": {"limit": 4},
            "symbol_blocks": {"symbols": ["GME"], "enabled": False},
        }
    )
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    status = {s.rule: s for s in desk.rm.rule_status()}
    assert (status["max_contracts"].value, status["max_contracts"].used, status["max_contracts"].unit) == (
        2.0,
        0.5,
        "contracts",
    )
    assert status["daily_realized_loss"].status == "ok" and status["daily_realized_loss"].used == 0.004
    assert status["symbol_blocks"].enabled is False


def test_risk_manager_pause_halts_and_resume_restores(make_desk):
    desk = make_desk({})
    desk.rm.pause("maintenance", who="ops")
    assert desk.rm.paused and desk.rm.state is TradingState.HALTED
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED
    desk.rm.resume("done", who="ops")
    assert desk.order("ES", OrderSide.BUY, 1).status is OrderStatus.ACCEPTED
    assert "state=ACTIVE" in repr(desk.rm) and desk.rm.statistics().denials == 1


async def test_risk_manager_sweep_job_reports_actions_and_values(make_desk, clock):
    desk = make_desk({"no_stop_loss_grace": {"grace_s": 10}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    clock.advance(10)
    result = await desk.rm.sweep_job()
    details = result["details"]
    assert result["summary"].startswith("1 rules evaluated, 1 violation(s), 1 action(s), state ACTIVE")
    assert [(a["action"], a["rule"], a["symbol"]) for a in details["actions"]] == [
        ("close_position", "no_stop_loss_grace", "ES")
    ]
    assert details["value_before"] == details["value_after"] == desk.rm.pnl.equity
    assert details["rules_evaluated"] == 1 and details["config_reloaded"] is False


def test_risk_manager_failing_order_check_fails_closed(make_desk, monkeypatch, caplog):
    desk = make_desk({"max_order_rate": {"max_orders": 5}})
    rule = desk.rm.engine.rules["max_order_rate"]

    def broken(order, reducing, now):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(rule, "check", broken)
    with caplog.at_level(logging.ERROR, logger="trading.risk.engine"):
        order = desk.order("ES", OrderSide.BUY, 1)
    assert order.status is OrderStatus.DENIED
    assert desk.of(OrderDenied)[0].reason == "rule max_order_rate failed while checking; order denied"
    assert rule.faults == 1


def test_rule_state_unknown_rule_restores_as_halted():
    cfg = parse_risk_config({"rules": {"cooldown_after_loss": {"minutes": 1}}})
    assert rule_state(cfg, "cooldown_after_loss") is TradingState.REDUCING
    assert rule_state(cfg, "removed_rule") is TradingState.HALTED


def test_risk_manager_starting_balance_comes_from_the_broker(bus, clock):
    # Arrange: a 50,000 account (desk.yaml account.starting_balance); nothing in the risk config
    broker = PaperBroker(bus, clock, INSTRUMENTS, starting_balance=50_000.0)
    cfg = parse_risk_config({"rules": {"trailing_drawdown": {"max_drawdown": 2_000}}})
    rm = RiskManager(bus, broker, clock, cfg)
    rm.start()
    try:
        # Act: a first tick (a 100,000 floor would halt a 50,000 account here)
        clock.advance(1)
        broker.on_market_data(MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0))
        # Assert
        [status] = rm.rule_status()
        assert status.detail == "floor 48,000.00, high-water 50,000.00"
        assert rm.state is TradingState.ACTIVE and rm.recent_violations() == []
    finally:
        rm.stop()
