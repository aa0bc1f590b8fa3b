"""trading/risk/tamper_lock.py through the RiskManager: while the desk runs, a loosening edit of the
risk file waits for the daily reset; a tightening applies at once."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest

from trading.model import AlertRaised, Order, OrderSide, OrderStatus
from trading.risk import RiskManager, load_risk_config

# conftest START: Tuesday 2026-01-06 09:00 in Chicago; the reset is 17:00 Chicago = 23:00 UTC.
RULES = "rules:\n  max_contracts: {{limit: {contracts}}}\n  daily_realized_loss: {{limit: {loss}, action: {action}}}\n"
HELD_UNTIL = (
    "It will be accepted at the daily reset, 2026-01-06 17:00 America/Chicago, if the file still says it"
)


def _text(contracts: float = 2, loss: float = 1000, action: str = "flatten_and_lock", top: str = "") -> str:
    return top + RULES.format(contracts=contracts, loss=loss, action=action)


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a visible change


@pytest.fixture
def risk_file(tmp_path: Path) -> Path:
    path = tmp_path / "risk.yaml"
    path.write_text(_text())
    return path


@pytest.fixture
def manager(bus, broker, clock, risk_file):
    rm = RiskManager(bus, broker, clock, load_risk_config(risk_file), config_path=risk_file)
    rm.start()
    yield rm
    rm.stop()


def _limit(rm: RiskManager, rule: str) -> float:
    return rm.engine.rules[rule].config.limit


def test_tamper_lock_higher_limit_refused_until_the_reset_then_accepted(
    manager, risk_file, clock, broker, bus
):
    alerts: list[AlertRaised] = []
    bus.subscribe(AlertRaised, alerts.append)
    _write(risk_file, _text(contracts=5))

    assert manager.check_config_changed() is False

    assert _limit(manager, "max_contracts") == 2
    assert broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=3)).status is OrderStatus.DENIED
    assert manager.config_status == (
        "risk config change refused by the tamper lock: it loosens rules.max_contracts.limit 2 -> 5 "
        f"(a higher value loosens). {HELD_UNTIL}; a change that only tightens applies at once"
    )
    assert [(a.rule, a.message) for a in alerts] == [("config", manager.config_status)]
    # Act: a minute before the reset nothing changes; at the reset the held edit is read again
    clock.set_time(clock.now().replace(hour=22, minute=59))
    assert manager.check_config_changed() is False and _limit(manager, "max_contracts") == 2
    clock.advance(timedelta(minutes=1))
    assert manager.check_config_changed() is True
    assert _limit(manager, "max_contracts") == 5 and manager.config_status == ""
    assert manager.check_config_changed() is False  # applied once


def test_tamper_lock_tighter_limit_applies_at_once(manager, risk_file):
    _write(risk_file, _text(contracts=1, loss=500))

    assert manager.check_config_changed() is True

    assert _limit(manager, "max_contracts") == 1 and _limit(manager, "daily_realized_loss") == 500
    assert manager.config_status == ""


def test_tamper_lock_mixed_edit_refused_whole_naming_the_looser_fields(manager, risk_file, caplog):
    _write(risk_file, _text(contracts=1, loss=1000, action="alert"))

    with caplog.at_level(logging.WARNING, logger="trading.risk.manager"):
        assert manager.check_config_changed() is False

    assert _limit(manager, "max_contracts") == 2  # its tightening waits with the rest
    assert (
        "it loosens rules.daily_realized_loss.action flatten_and_lock -> alert (a milder action loosens)."
        in (manager.config_status)
    )
    assert "max_contracts" not in manager.config_status
    assert f"{manager.config_status} (the running rules stay)" in caplog.messages


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("rules:\n  max_contracts: {limit: 2}\n", "rules.daily_realized_loss enforced -> removed"),
        (
            _text().replace("action: flatten_and_lock", "action: flatten_and_lock, enabled: false"),
            "rules.daily_realized_loss.enabled true -> false",
        ),
        (
            _text().replace("action: flatten_and_lock", "action: flatten_and_lock, mode: shadow"),
            "rules.daily_realized_loss.mode enforce -> shadow",
        ),
        (_text(top="tamper_lock: false\n"), "tamper_lock true -> false"),
    ],
)
def test_tamper_lock_weakening_edit_refused(manager, risk_file, text, named):
    _write(risk_file, text)

    assert manager.check_config_changed() is False

    assert f"it loosens {named} (" in manager.config_status
    assert set(manager.engine.rules) == {"max_contracts", "daily_realized_loss"}


def test_tamper_lock_held_edit_replaced_by_a_tightening_is_forgotten(manager, risk_file, clock):
    _write(risk_file, _text(contracts=5))
    assert manager.check_config_changed() is False
    _write(risk_file, _text(contracts=1))

    assert manager.check_config_changed() is True

    clock.advance(timedelta(hours=9))  # past the reset: nothing held, nothing read again
    assert manager.tamper_lock.held_until is None
    assert manager.check_config_changed() is False and _limit(manager, "max_contracts") == 1


def test_tamper_lock_reset_reads_the_file_as_it_is_then(manager, risk_file, clock):
    _write(risk_file, _text(contracts=5))
    assert manager.check_config_changed() is False
    risk_file.write_text(_text(contracts=4))  # edited again while held, not polled before the reset

    clock.advance(timedelta(hours=8))

    assert manager.check_config_changed() is True and _limit(manager, "max_contracts") == 4


def test_tamper_lock_off_in_the_running_file_lets_a_loosening_through(bus, broker, clock, risk_file):
    risk_file.write_text(_text(top="tamper_lock: false\n"))
    rm = RiskManager(bus, broker, clock, load_risk_config(risk_file), config_path=risk_file)
    rm.start()
    try:
        _write(risk_file, _text(contracts=5, top="tamper_lock: false\n"))
        assert rm.check_config_changed() is True and _limit(rm, "max_contracts") == 5
    finally:
        rm.stop()


def test_tamper_lock_not_armed_before_start(bus, broker, clock, risk_file):
    rm = RiskManager(bus, broker, clock, load_risk_config(risk_file), config_path=risk_file)
    _write(risk_file, _text(contracts=5))

    assert rm.check_config_changed() is True and _limit(rm, "max_contracts") == 5
    rm.stop()


def test_tamper_lock_explicit_reload_is_held_too(manager, risk_file):
    risk_file.write_text(_text(loss=5000))

    assert manager.reload_config() is False

    assert "rules.daily_realized_loss.limit 1000 -> 5000" in manager.config_status


def test_risk_manager_start_warns_what_is_enforced_and_what_shadows(bus, broker, clock, tmp_path, caplog):
    path = tmp_path / "risk.yaml"
    path.write_text(_text() + "  session_hours: {mode: shadow}\n")
    rm = RiskManager(bus, broker, clock, load_risk_config(path), config_path=path)

    with caplog.at_level(logging.WARNING, logger="trading.risk.manager"):
        rm.start()
    rm.stop()

    assert caplog.messages == [
        "risk for default: 2 rule(s) enforced: max_contracts (limit 2 -> reduce_to_limit); "
        "daily_realized_loss (limit 1000 -> flatten_and_lock); shadow (record only): session_hours; tamper lock on"
    ]


def test_risk_manager_start_with_nothing_enforced_says_so(bus, broker, clock, tmp_path, caplog):
    path = tmp_path / "risk.yaml"
    path.write_text("allow_no_enforced_rules: true\nrules:\n  max_contracts: {limit: 2, mode: shadow}\n")
    rm = RiskManager(bus, broker, clock, load_risk_config(path), config_path=path)

    with caplog.at_level(logging.WARNING, logger="trading.risk.manager"):
        rm.start()
    rm.stop()

    assert caplog.messages == [
        "risk for default: NO rule is enforced (allow_no_enforced_rules): the desk trades without a risk limit; "
        "shadow: max_contracts"
    ]
