import logging
import os

from trading.model import OrderSide, OrderStatus
from trading.risk import RiskManager, load_risk_config

GOOD = "tamper_lock: false\nrules:\n  max_contracts: {limit: 2}\n"
BETTER = "tamper_lock: false\nrules:\n  max_contracts: {limit: 5}\n"  # looser: allowed, no tamper lock
BAD = "rules:\n  max_contracts: {limit: -1}\n"


def _manager(bus, broker, clock, path):
    rm = RiskManager(bus, broker, clock, load_risk_config(path), config_path=path)
    rm.start()
    return rm


def _bump(path, text):
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_reload_config_valid_file_replaces_rules_in_place(bus, broker, clock, tmp_path):
    path = tmp_path / "risk.yaml"
    path.write_text(GOOD)
    rm = _manager(bus, broker, clock, path)
    try:
        _bump(path, BETTER)
        assert rm.check_config_changed() is True
        assert rm.engine.rules["max_contracts"].config.limit == 5
        assert not rm.check_config_changed()  # unchanged file: no reload
    finally:
        rm.stop()


def test_reload_config_invalid_file_refused_and_running_rules_stay(bus, broker, clock, tmp_path, caplog):
    path = tmp_path / "risk.yaml"
    path.write_text(GOOD)
    rm = _manager(bus, broker, clock, path)
    try:
        _bump(path, BAD)
        with caplog.at_level(logging.ERROR, logger="trading.risk.manager"):
            assert rm.check_config_changed() is False
        assert "risk config reload refused, the running rules stay" in caplog.text
        assert "field 'limit': bad value -1" in caplog.text
        assert rm.engine.rules["max_contracts"].config.limit == 2
        order = broker.submit(_order(3))
        assert order.status is OrderStatus.DENIED  # the old limit of 2 still applies
        assert rm.statistics().reload_failures == 1
    finally:
        rm.stop()


def test_reload_config_unchanged_rule_keeps_its_state(bus, broker, clock, tmp_path):
    path = tmp_path / "risk.yaml"
    path.write_text(GOOD + "  daily_realized_loss: {limit: 100}\n")
    rm = _manager(bus, broker, clock, path)
    try:
        before = rm.engine.rules["daily_realized_loss"]
        assert rm.reload_config(path) is True
        assert rm.engine.rules["daily_realized_loss"] is before
    finally:
        rm.stop()


def _order(quantity):
    from trading.model import Order

    return Order(symbol="ES", side=OrderSide.BUY, quantity=quantity)
