import logging

from trading.model import AlertRaised, EnforcementExecuted, OrderSide, PositionClosed, RuleViolated, Severity
from trading.risk.actions import ClosePosition
from trading.storage import AuditRepository

from .conftest import repositories


def test_enforcer_flood_of_violating_events_flattens_once(make_desk, db):
    # Arrange: a daily loss breached; the rule is re-armed by hand each time to simulate a flood
    desk = make_desk(
        {"daily_realized_loss": {"limit": 100}, "unrealized_loss": {"limit": 50}}, **repositories(db)
    )
    desk.tick("ES", 5000.0)
    desk.tick("NQ", 18000.0)
    desk.trade("NQ", OrderSide.BUY, 1, 18000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4990.0)  # -500: flatten (NQ) goes out
    rule = desk.rm.engine.rules["daily_realized_loss"]
    closed = desk.of(PositionClosed)[-1]
    # Act: 200 more violating events before the flatten fills
    for _ in range(200):
        rule.reset_daily()
        desk.rm.engine.on_event(closed)
    # Assert: one flatten reached the broker; the repeats were suppressed
    flattens = [e for e in desk.of(EnforcementExecuted) if e.action == "flatten"]
    assert len(flattens) == 1
    assert len([o for o in desk.broker.open_orders() if o.symbol == "NQ"]) == 1
    assert desk.rm.enforcer.suppressed == 400  # 200 flattens and 200 locks
    assert desk.rm.flush()
    audit = [row["action"] for row in AuditRepository(db).recent()]
    assert sorted(audit) == ["flatten", "lock"]
    assert len([e for e in desk.of(AlertRaised) if e.rule == "daily_realized_loss"]) == 1


def test_enforcer_every_action_audited_with_what_why_rule_result(make_desk, db):
    desk = make_desk({"unrealized_loss": {"limit": 100}}, **repositories(db))
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4997.0)
    assert desk.rm.flush()
    [row] = AuditRepository(db).recent()
    assert row["action"] == "close_position" and row["rule"] == "unrealized_loss" and row["symbol"] == "ES"
    assert "unrealized loss -150.00" in row["reason"] and row["result"].startswith("closing order ")


def test_enforcer_close_released_when_position_closes(make_desk):
    desk = make_desk({"unrealized_loss": {"limit": 100}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4997.0)  # close goes out
    desk.tick("ES", 4997.0)  # and fills
    assert desk.rm.enforcer.statistics().in_flight == 0
    desk.trade("ES", OrderSide.BUY, 1, 4997.0)
    desk.tick("ES", 4994.0)  # a new position, a new breach: closed again
    assert [e.action for e in desk.of(EnforcementExecuted)] == ["close_position", "close_position"]


def test_enforcer_actions_since_returns_only_the_newer_actions(make_desk):
    desk = make_desk({"unrealized_loss": {"limit": 100}})
    enforcer = desk.rm.enforcer
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    before = enforcer.actions
    assert enforcer.actions_since(before) == []
    desk.tick("ES", 4997.0)  # -150: closed
    [action] = enforcer.actions_since(before)
    assert (action["action"], action["rule"], action["symbol"]) == ("close_position", "unrealized_loss", "ES")
    assert action["result"].startswith("closing order ")


def test_enforcer_routine_action_alert_is_logged_at_warning_not_error(make_desk, caplog):
    # Arrange: the default notifier (the log); a daily loss breach, flattened and locked as configured
    desk = make_desk({"daily_realized_loss": {"limit": 100}})
    desk.tick("ES", 5000.0)
    caplog.set_level(logging.INFO)
    # Act
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4990.0)
    # Assert: the violation is CRITICAL for the record; its alert is routine: WARNING, no ERROR line
    [violation] = desk.of(RuleViolated)
    assert violation.severity is Severity.CRITICAL
    [alert] = [a for a in desk.of(AlertRaised) if a.rule == "daily_realized_loss"]
    assert alert.severity is Severity.WARNING
    alerts = [r for r in caplog.records if r.name == "trading.risk.notifier"]
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in alerts] == [
        ("WARNING", "ALERT [WARNING] daily_realized_loss")
    ]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_enforcer_failed_action_alert_is_critical_and_logged_at_error(make_desk, caplog):
    # Arrange: a remedy the broker cannot carry out (it knows no instrument ZZZ)
    desk = make_desk({"unrealized_loss": {"limit": 100}})
    violation = desk.rm.engine.rules["unrealized_loss"].violation(
        "ZZZ unrealized loss", remedy=ClosePosition(symbol="ZZZ"), symbol="ZZZ"
    )
    caplog.set_level(logging.INFO)
    # Act
    [result] = desk.rm.enforcer.enforce(violation)
    # Assert: the step failed; the alert says a person must act, and the log says ERROR
    assert result.startswith("failed: UnknownInstrumentError")
    [alert] = desk.of(AlertRaised)
    assert alert.severity is Severity.CRITICAL
    errors = [(r.name, r.getMessage()[:40]) for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        ("trading.risk.enforcement", "enforcement close_position by unrealized"),
        ("trading.risk.notifier", "ALERT [CRITICAL] unrealized_loss: ZZZ un"),
    ]
