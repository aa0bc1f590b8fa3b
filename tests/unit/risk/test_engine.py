import logging

import pytest

from trading.model import MarketDataUpdated, OrderSide, PositionChanged, TradingState, TradingStateChanged
from trading.risk import STATE_TABLE
from trading.risk.actions import Alert


def test_risk_engine_dispatch_calls_only_rules_listening_to_the_event(make_desk, clock):
    desk = make_desk({"daily_realized_loss": {"limit": 1000}, "unrealized_loss": {"limit": 1000}})
    engine = desk.rm.engine
    tick = MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0)
    change = PositionChanged(ts=clock.now(), symbol="ES", quantity=1, avg_price=5000.0, realized_pnl=0.0)
    assert engine.handlers_for(tick) == (engine.rules["unrealized_loss"].on_market,)
    assert len(engine.handlers_for(change)) == 2


def test_risk_engine_symbol_filtered_rule_skips_other_symbols(make_desk, clock):
    desk = make_desk(
        {
            "es_loss": {"kind": "unrealized_loss", "limit": 100, "symbols": ["ES"]},
            "unrealized_loss": {"limit": 1000},
        }
    )
    engine = desk.rm.engine
    es = MarketDataUpdated(ts=clock.now(), symbol="ES", price=5000.0)
    nq = MarketDataUpdated(ts=clock.now(), symbol="NQ", price=18000.0)
    assert len(engine.handlers_for(es)) == 2
    assert engine.handlers_for(nq) == (engine.rules["unrealized_loss"].on_market,)


def test_risk_engine_rule_exception_is_isolated_and_counted(make_desk, monkeypatch, caplog):
    desk = make_desk({"unrealized_loss": {"limit": 100}, "trailing_drawdown": {"max_drawdown": 100}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    broken = desk.rm.engine.rules["unrealized_loss"]

    def explode(event):
        raise RuntimeError("boom")

    monkeypatch.setattr(broken, "on_market", explode)
    desk.rm.engine.set_rules(desk.rm.engine.rules.values())
    with caplog.at_level(logging.ERROR, logger="trading.risk.engine"):
        desk.tick("ES", 4990.0)  # trailing drawdown must still see this tick
    assert broken.faults == 1 and desk.rm.statistics().rule_faults == 1
    assert "rule UnrealizedLoss('unrealized_loss'" in caplog.text and "fault 1" in caplog.text
    assert desk.rm.state is TradingState.HALTED  # the trailing drawdown breached and acted


def test_risk_engine_state_changes_publish_reason(make_desk):
    desk = make_desk({})
    desk.rm.pause("news at 10:00", who="ops")
    desk.rm.resume("news passed", who="ops")
    changes = desk.of(TradingStateChanged)
    assert [(c.previous, c.state) for c in changes] == [
        (TradingState.ACTIVE, TradingState.HALTED),
        (TradingState.HALTED, TradingState.ACTIVE),
    ]
    assert changes[0].reason == "paused by ops: news at 10:00"


def test_risk_engine_state_table_allows_every_other_state():
    assert all(state not in targets and len(targets) == 2 for state, targets in STATE_TABLE.items())


def test_risk_engine_halted_denies_even_reducing_orders(make_desk):
    desk = make_desk({})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    desk.rm.pause("test")
    verdict = desk.rm.engine.check(desk.order("ES", OrderSide.SELL, 1))
    assert verdict is not None and verdict[0] == "trading_state" and "HALTED" in verdict[1]
    assert len(desk.broker.flatten_all("operator")) == 1  # flattening is never checked


def test_risk_engine_reduces_exposure_recognises_exits(make_desk):
    desk = make_desk({})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    from trading.model import Order

    engine = desk.rm.engine
    assert engine.reduces_exposure(Order(symbol="ES", side=OrderSide.SELL, quantity=2))
    assert not engine.reduces_exposure(Order(symbol="ES", side=OrderSide.SELL, quantity=3))
    assert not engine.reduces_exposure(Order(symbol="ES", side=OrderSide.BUY, quantity=1))
    assert not engine.reduces_exposure(Order(symbol="NQ", side=OrderSide.SELL, quantity=1))  # nothing held


def test_risk_components_statistics_count_what_happened(make_desk, clock):
    desk = make_desk({"unrealized_loss": {"limit": 100}, "no_stop_loss_grace": {"grace_s": 5}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.tick("ES", 4997.0)  # -150: closed
    rm = desk.rm
    engine = rm.engine.statistics()
    assert engine.violations == 1 and engine.checks == 1 and engine.denials == 0 and engine.events > 0
    assert rm.timers.statistics().started == 1
    assert rm.pnl.statistics().open_positions == 1
    assert rm.reset.statistics().resets == 0
    assert rm.enforcer.statistics().actions == 1
    assert rm.statistics().violations == 1 and "violations=1" in repr(rm.engine)


def test_risk_engine_rule_status_measure_error_becomes_error_row_with_message(make_desk, monkeypatch, caplog):
    # Arrange: max_contracts' measure() is broken
    desk = make_desk({"daily_realized_loss": {"limit": 1000}, "max_contracts": {"limit": 4}})
    broken = desk.rm.engine.rules["max_contracts"]

    def explode():
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(broken, "measure", explode)
    # Act
    with caplog.at_level(logging.ERROR, logger="trading.risk.engine"):
        status = {s.rule: s for s in desk.rm.rule_status()}
    # Assert: the rule is still listed, as an error with the message; the others as before
    assert list(status) == ["daily_realized_loss", "max_contracts"]
    row = status["max_contracts"]
    assert (row.status, row.detail) == ("error", "measure failed: ZeroDivisionError: division by zero")
    assert (row.kind, row.action, row.enabled, row.value, row.limit, row.used) == (
        "max_contracts",
        "reduce_to_limit",
        True,
        0.0,
        0.0,
        0.0,
    )
    assert status["daily_realized_loss"].status == "ok"
    assert broken.faults == 1 and "measuring its limit" in caplog.text


def test_risk_engine_error_row_raises_no_limit_warning(make_desk, monkeypatch):
    desk = make_desk({"max_contracts": {"limit": 4}})
    monkeypatch.setattr(desk.rm.engine.rules["max_contracts"], "measure", lambda: 1 / 0)
    assert desk.rm.engine.check_warnings() == []


def test_risk_engine_violation_recorded_in_history_even_when_sink_fails(make_desk, clock):
    desk = make_desk({"max_contracts": {"limit": 4}})
    engine = desk.rm.engine
    rule = engine.rules["max_contracts"]

    def failing_sink(violation, event):
        raise RuntimeError("sink down")

    engine.sink = failing_sink
    violation = rule.violation("by hand", remedy=Alert(), ts=clock.now(), contracts=5.0)
    with pytest.raises(RuntimeError, match="sink down"):
        engine.emit(violation, None)
    [record] = desk.rm.recent_violations()
    assert (record.rule, record.action, record.values) == ("max_contracts", "alert", {"contracts": 5.0})
