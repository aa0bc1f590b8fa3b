"""trading/risk/loosening.py: every risk field declares which way loosens; the diff names them."""

from typing import Any

import pytest
from pydantic import BaseModel

from trading.risk import RULES, Action, NotifierConfig, ResetConfig, RiskConfig, parse_risk_config
from trading.risk.loosening import ACTION_SEVERITY, Each, Looser, direction_of, loosenings
from trading.risk.rules.trade_frequency_limit import SessionLimit, WindowLimit

BASE: dict[str, Any] = {
    "daily_realized_loss": {"limit": 2500, "action": "flatten_and_lock"},
    "max_contracts": {"limit": 6, "symbols": ["ES"]},
    "max_contracts_per_instrument": {"limit": 4, "per_symbol": {"AAPL": 600, "EURUSD": 3}},
    "trade_frequency_limit": {
        "per_minute": {"max_trades": 6, "cooldown_s": 120},
        "per_session": {"max_trades": 300},
    },
    "cooldown_after_loss": {"minutes": 2, "min_loss": 300},
    "session_hours": {"open": "08:30", "close": "15:00", "holidays": ["2026-01-01", "2026-12-25"]},
    "symbol_blocks": {"symbols": ["GME", "AMC"]},
    "unrealized_loss": {"limit": 700},
    "daily_realized_profit_target": {"target": 3000, "mode": "shadow"},
}


def _config(rules: dict[str, Any] | None = None, **top: Any) -> RiskConfig:
    return parse_risk_config({**top, "rules": BASE if rules is None else rules})


def _edit(rule: str, **fields: Any) -> RiskConfig:
    return _config({**BASE, rule: {**BASE[rule], **fields}})


def _fields(found: list) -> list[str]:
    return [item.field for item in found]


def test_loosening_every_risk_config_field_declares_a_direction():
    models: list[type[BaseModel]] = [
        *(rule.config_type for rule in RULES.values()),
        ResetConfig,
        NotifierConfig,
        WindowLimit,
        SessionLimit,
        RiskConfig,
    ]
    missing = [
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if direction_of(model, name) is None and name not in ("kind", "rules")  # compared rule by rule
    ]
    assert missing == []


def test_loosening_action_severity_orders_every_action():
    assert set(ACTION_SEVERITY) == set(Action)


@pytest.mark.parametrize(
    ("rule", "fields", "field"),
    [
        ("daily_realized_loss", {"limit": 2600}, "rules.daily_realized_loss.limit"),
        ("daily_realized_loss", {"action": "alert"}, "rules.daily_realized_loss.action"),
        ("daily_realized_loss", {"action": "flatten"}, "rules.daily_realized_loss.action"),
        ("daily_realized_loss", {"enabled": False}, "rules.daily_realized_loss.enabled"),
        ("daily_realized_loss", {"mode": "shadow"}, "rules.daily_realized_loss.mode"),
        (
            "daily_realized_loss",
            {"include_commissions": False},
            "rules.daily_realized_loss.include_commissions",
        ),
        ("daily_realized_loss", {"warning_threshold": 0.9}, "rules.daily_realized_loss.warning_threshold"),
        ("max_contracts", {"symbols": ["NQ"]}, "rules.max_contracts.symbols"),
        ("unrealized_loss", {"symbols": ["ES"]}, "rules.unrealized_loss.symbols"),  # every symbol -> ES only
        (
            "max_contracts_per_instrument",
            {"per_symbol": {"AAPL": 600, "EURUSD": 5}},
            "rules.max_contracts_per_instrument.per_symbol.EURUSD",
        ),
        (
            "max_contracts_per_instrument",
            {"per_symbol": {"AAPL": 600, "EURUSD": 3, "NQ": 9}},
            "rules.max_contracts_per_instrument.per_symbol.NQ",
        ),
        ("trade_frequency_limit", {"per_minute": None}, "rules.trade_frequency_limit.per_minute"),
        (
            "trade_frequency_limit",
            {"per_minute": {"max_trades": 7, "cooldown_s": 120}},
            "rules.trade_frequency_limit.per_minute.max_trades",
        ),
        (
            "trade_frequency_limit",
            {"per_minute": {"max_trades": 6, "cooldown_s": 60}},
            "rules.trade_frequency_limit.per_minute.cooldown_s",
        ),
        ("cooldown_after_loss", {"minutes": 1}, "rules.cooldown_after_loss.minutes"),
        ("cooldown_after_loss", {"min_loss": 500}, "rules.cooldown_after_loss.min_loss"),
        ("session_hours", {"open": "08:00"}, "rules.session_hours.open/close"),
        ("session_hours", {"close": "02:00"}, "rules.session_hours.open/close"),  # now runs past midnight
        ("session_hours", {"holidays": ["2026-01-01"]}, "rules.session_hours.holidays"),
        ("session_hours", {"days": ["mon", "tue", "wed", "thu", "fri", "sat"]}, "rules.session_hours.days"),
        ("session_hours", {"timezone": "Europe/London"}, "rules.session_hours.timezone"),
        ("symbol_blocks", {"symbols": ["GME"]}, "rules.symbol_blocks.symbols"),
    ],
)
def test_loosenings_looser_field_is_named(rule, fields, field):
    found = loosenings(_config(), _edit(rule, **fields))

    assert _fields(found) == [field]


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("daily_realized_loss", {"limit": 1000}),
        ("max_contracts", {"symbols": []}),  # every symbol: wider scope
        ("max_contracts", {"symbols": ["ES", "NQ"]}),
        ("max_contracts_per_instrument", {"per_symbol": {"EURUSD": 3}}),  # AAPL falls back to 4 from 600
        ("max_contracts_per_instrument", {"per_symbol": {"AAPL": 600, "EURUSD": 3, "NQ": 2}}),
        ("trade_frequency_limit", {"per_hour": {"max_trades": 60}}),  # a new window
        ("trade_frequency_limit", {"per_minute": {"max_trades": 3, "cooldown_s": 600}}),
        ("cooldown_after_loss", {"minutes": 5}),
        ("session_hours", {"open": "09:00", "close": "14:00"}),
        ("session_hours", {"holidays": ["2026-01-01", "2026-12-25", "2026-07-03"]}),
        ("session_hours", {"description": "anything"}),
        ("symbol_blocks", {"symbols": ["GME", "AMC", "BBBY"]}),
        (
            "daily_realized_profit_target",
            {"target": 99999, "action": "alert"},
        ),  # shadow: not a safety device yet
    ],
)
def test_loosenings_tighter_or_free_change_is_empty(rule, fields):
    assert loosenings(_config(), _edit(rule, **fields)) == []


def test_loosenings_overnight_session_narrowed_to_the_day_is_tighter():
    overnight = _edit("session_hours", open="17:00", close="16:00")

    assert loosenings(overnight, _config()) == []
    assert _fields(loosenings(_config(), overnight)) == ["rules.session_hours.open/close"]


def test_loosenings_removed_enforced_rule_is_looser_and_new_rule_is_not():
    without = {name: body for name, body in BASE.items() if name != "unrealized_loss"}

    assert [(i.field, i.after) for i in loosenings(_config(), _config(without))] == [
        ("rules.unrealized_loss", "removed")
    ]
    assert loosenings(_config(without), _config()) == []


def test_loosenings_file_wide_settings():
    base = _config()

    assert _fields(loosenings(base, _config(tamper_lock=False))) == ["tamper_lock"]
    assert _fields(loosenings(base, _config(allow_no_enforced_rules=True))) == ["allow_no_enforced_rules"]
    assert _fields(loosenings(base, _config(warning_threshold=0.95))) == ["warning_threshold"]
    assert _fields(loosenings(base, _config(reset={"time": "18:00"}))) == ["reset.time"]
    assert loosenings(base, _config(warning_threshold=0.5)) == []


def test_loosenings_mixed_edit_names_only_the_looser_fields():
    mixed = _config(
        {**BASE, "daily_realized_loss": {"limit": 1000, "action": "alert"}, "unrealized_loss": {"limit": 900}}
    )

    found = loosenings(_config(), mixed)

    assert [str(item) for item in found] == [
        "rules.daily_realized_loss.action flatten_and_lock -> alert",
        "rules.unrealized_loss.limit 700 -> 900",
    ]


def test_loosening_per_symbol_declares_its_fallback():
    from trading.risk.rules import MaxContractsPerInstrumentConfig

    assert direction_of(MaxContractsPerInstrumentConfig, "per_symbol") == Each(
        Looser.HIGHER, fallback="limit"
    )


def test_looser_every_direction_is_its_own_member():
    assert len(Looser.__members__) == len(Looser)  # equal values would make two names one member
