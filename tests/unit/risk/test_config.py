from pathlib import Path
from typing import Literal, get_args, get_origin

import pytest
from pydantic import ValidationError

from trading.errors import ConfigError
from trading.risk import RULES, Action, RiskConfig, load_risk_config, parse_risk_config
from trading.risk.rules import CooldownAfterLossConfig, DailyRealizedLossConfig, SessionHoursConfig

REPO = Path(__file__).resolve().parents[3]


def _write(tmp_path, text):
    path = tmp_path / "risk.yaml"
    path.write_text(text)
    return path


def test_load_risk_config_shipped_file_is_valid():
    cfg = load_risk_config(REPO / "config" / "risk.yaml")
    assert "account" not in RiskConfig.model_fields  # the desk config owns the account
    assert isinstance(cfg.rules["daily_realized_loss"], DailyRealizedLossConfig)
    assert cfg.rules["session_hours"].mode == "shadow"


def test_load_risk_config_negative_limit_names_file_rule_field_value_allowed(tmp_path):
    path = _write(tmp_path, "rules:\n  daily_realized_loss:\n    limit: -5\n")
    with pytest.raises(
        ConfigError,
        match=r"risk\.yaml: rule 'daily_realized_loss', field 'limit': bad value -5: allowed a number > 0",
    ) as info:
        load_risk_config(path)
    assert (
        info.value.path == path and info.value.field == "daily_realized_loss.limit" and info.value.value == -5
    )


def test_load_risk_config_bad_action_lists_allowed_actions(tmp_path):
    path = _write(tmp_path, "rules:\n  daily_realized_loss: {limit: 100, action: nuke}\n")
    with pytest.raises(
        ConfigError,
        match=r"field 'action': bad value 'nuke': allowed one of 'flatten_and_lock', 'flatten', 'lock' or 'alert'",
    ):
        load_risk_config(path)


def test_load_risk_config_actions_are_action_members():
    cfg = load_risk_config(REPO / "config" / "risk.yaml")
    assert cfg.rules["daily_realized_loss"].action is Action.FLATTEN_AND_LOCK
    assert cfg.rules["trade_frequency_limit"].action is Action.COOLDOWN
    assert {type(rule.action) for rule in cfg.rules.values()} == {Action}


def test_load_risk_config_unknown_action_names_file_rule_field_value_and_allowed_list(tmp_path):
    path = _write(tmp_path, "rules:\n  cooldown_after_loss: {minutes: 2, action: nap}\n")
    with pytest.raises(
        ConfigError,
        match=r"risk\.yaml: rule 'cooldown_after_loss', field 'action': bad value 'nap': "
        r"allowed one of 'cooldown' or 'alert'$",
    ) as info:
        load_risk_config(path)
    error = info.value
    assert (error.path, error.field, error.value) == (path, "cooldown_after_loss.action", "nap")
    assert error.allowed == "one of 'cooldown' or 'alert'"


def test_load_risk_config_action_of_another_rule_is_refused(tmp_path):
    path = _write(tmp_path, "rules:\n  symbol_blocks: {symbols: [GME], action: cooldown}\n")
    with pytest.raises(ConfigError, match=r"bad value 'cooldown': allowed one of 'deny' or 'close_position'"):
        load_risk_config(path)


def test_load_risk_config_account_is_refused_pointing_to_desk_config(tmp_path):
    path = _write(tmp_path, "account: {starting_balance: 100000}\nrules: {}\n")
    with pytest.raises(
        ConfigError,
        match=r"risk\.yaml: unknown key 'account' \(known: .*; .*starting balance in the desk config's "
        r"account\.starting_balance \(desk\.yaml\)\)$",
    ) as info:
        load_risk_config(path)
    assert info.value.path == path and info.value.field == "account"


def test_load_risk_config_sweep_interval_is_refused_pointing_to_desk_loop(tmp_path):
    path = _write(tmp_path, "sweep_interval_s: 1.0\n")
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'sweep_interval_s' \(known: allow_no_enforced_rules, manual_unlock, notifier, reset, "
        r"rules, tamper_lock, warning_threshold; .*loop\.risk_sweep_interval .*\(desk\.yaml\)\)$",
    ):
        load_risk_config(path)


def test_rule_configs_every_allowed_action_builds_its_rule(make_desk):
    # Arrange: the shipped file has every rule kind; each allowed action of each rule is built
    shipped = load_risk_config(REPO / "config" / "risk.yaml")
    assert {rule.kind for rule in shipped.rules.values()} == set(RULES)
    for name, rule_cfg in shipped.rules.items():
        annotation = type(rule_cfg).model_fields["action"].annotation
        assert get_origin(annotation) is Literal, f"{name}: action must be narrowed to a Literal of Action"
        allowed = get_args(annotation)
        for action in allowed:
            # Act: a rule with this action, built by a started manager
            cfg = RiskConfig(rules={name: rule_cfg.model_copy(update={"action": action})})
            rule = make_desk(cfg).rm.engine.rules[name]
            # Assert
            assert rule.config.action is action


def test_rule_config_action_is_typed_not_text():
    cfg = CooldownAfterLossConfig.model_validate({"minutes": 1, "action": "alert"})
    assert cfg.action is Action.ALERT and cfg.model_dump(mode="json")["action"] == "alert"


def test_load_risk_config_unknown_field_lists_known_fields(tmp_path):
    path = _write(tmp_path, "rules:\n  max_order_rate: {max_orders: 5, max_ordres: 3}\n")
    with pytest.raises(
        ConfigError, match=r"rule 'max_order_rate', unknown key 'max_ordres' \(did you mean 'max_orders'\?\)$"
    ):
        load_risk_config(path)


def test_load_risk_config_unknown_kind_lists_rule_kinds(tmp_path):
    path = _write(tmp_path, "rules:\n  monthly_loss: {limit: 100}\n")  # (daily_loss is a kind since issue 13)
    with pytest.raises(
        ConfigError,
        match=r"rule 'monthly_loss', field 'kind': bad value 'monthly_loss': "
        r"allowed one of (\w+, )*daily_loss, daily_realized_loss, ",
    ):
        load_risk_config(path)


def test_load_risk_config_bad_timezone_is_refused(tmp_path):
    path = _write(tmp_path, "reset: {timezone: Mars/Olympus}\n")
    with pytest.raises(
        ConfigError, match=r"field 'reset.timezone': bad value 'Mars/Olympus': allowed unknown time zone"
    ):
        load_risk_config(path)


def test_load_risk_config_bad_mode_is_refused(tmp_path):
    path = _write(tmp_path, "rules:\n  symbol_blocks: {symbols: [GME], mode: maybe}\n")
    with pytest.raises(
        ConfigError, match=r"field 'mode': bad value 'maybe': allowed one of 'enforce' or 'shadow'"
    ):
        load_risk_config(path)


def test_load_risk_config_missing_required_field_says_required(tmp_path):
    path = _write(tmp_path, "rules:\n  unrealized_loss: {action: alert}\n")
    with pytest.raises(
        ConfigError,
        match=r"field 'limit': bad value '\(missing\)': allowed a value \(this field is required\)",
    ):
        load_risk_config(path)


def test_load_risk_config_invalid_yaml_names_line(tmp_path):
    path = _write(tmp_path, "rules:\n  daily_realized_loss: {limit: 100\n")
    with pytest.raises(ConfigError, match=r"risk\.yaml: line 3, column 1: invalid YAML"):
        load_risk_config(path)


def test_load_risk_config_missing_file_names_it(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: config file not found"):
        load_risk_config(tmp_path / "nope.yaml")


def test_load_risk_config_trade_frequency_without_window_is_refused(tmp_path):
    path = _write(tmp_path, "rules:\n  trade_frequency_limit: {action: cooldown}\n")
    with pytest.raises(ConfigError, match=r"set at least one of per_minute, per_hour, per_session"):
        load_risk_config(path)


def test_parse_risk_config_unquoted_yaml_time_becomes_time(tmp_path):
    path = _write(tmp_path, "rules:\n  session_hours: {open: 8:30, close: 15:00}\n")
    cfg = load_risk_config(path)
    rule = cfg.rules["session_hours"]
    assert isinstance(rule, SessionHoursConfig)
    assert (rule.open.hour, rule.open.minute, rule.close.hour) == (8, 30, 15)


def test_parse_risk_config_second_instance_needs_kind():
    cfg = parse_risk_config(
        {
            "rules": {
                "es_loss": {"kind": "unrealized_loss", "limit": 100, "symbols": ["ES"]},
                "unrealized_loss": {"limit": 300},
            }
        }
    )
    assert [r.kind for r in cfg.rules.values()] == ["unrealized_loss", "unrealized_loss"]


def test_parse_risk_config_top_level_list_is_refused():
    with pytest.raises(ConfigError, match=r"<dict>: the top level must be a mapping, got list"):
        parse_risk_config([1, 2])


def test_risk_config_is_frozen():
    cfg = parse_risk_config({"rules": {"daily_realized_loss": {"limit": 100}}})
    with pytest.raises(ValidationError, match=r"limit\n  Instance is frozen \[type=frozen_instance"):
        cfg.rules["daily_realized_loss"].limit = 5
    assert cfg.rules["daily_realized_loss"].limit == 100


# --- issue 12: a typo never weakens the risk file; every failure is one ConfigError line -----------

SHIPPED_RISK = (REPO / "config" / "risk.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "rules:\n",
            "rules:\n  daily_realized_loss:\n    limit: 9999999\n    action: alert\n",
            r"duplicate key 'daily_realized_loss' at lines \d+ and \d+: YAML would keep only the second",
        ),
        ("limit: 2500 ", "limit: .inf ", r"line \d+: '\.inf' is not a finite number$"),
        ("limit: 2500 ", "limit: 1e400 ", r"line \d+: '1e400' is not a finite number$"),
        (
            "limit: 2500 ",
            "limit: true ",
            r"rule 'daily_realized_loss', field 'limit': bad value True: allowed a number$",
        ),
        (
            "limit: 2500 ",
            "limit: '2500' ",
            r"rule 'daily_realized_loss', field 'limit': bad value '2500': allowed a number$",
        ),
        (
            "limit: 2500 ",
            "limit: 2500\n    enabled: 1 ",
            r"rule 'daily_realized_loss', field 'enabled': bad value 1: allowed true or false$",
        ),
        (
            "limit: 2500 ",
            "limt: 2500 ",
            r"rule 'daily_realized_loss', unknown key 'limt' \(did you mean 'limit'\?\)$",
        ),
        (
            "max_trades: 6,",
            "max_trades: true,",
            r"field 'per_minute\.max_trades': bad value True: allowed a whole number$",
        ),
        (
            "holidays: [2026-01-01",
            "holidays: [2026-13-01",
            r"rule 'session_hours', field 'holidays\.0': bad value '2026-13-01': "
            r"allowed a date written YYYY-MM-DD \(month must be in 1\.\.12\)$",
        ),
        (
            "timeout_s: 2.0",
            "timeout_s: yes",
            r"field 'notifier\.timeout_s': bad value 'yes': allowed a number$",
        ),
        (
            "rules:\n",
            "lolz: [&a [lol, lol], *a, *a]\nrules:\n",
            r"anchor &a at line \d+: YAML anchors and aliases are not allowed",
        ),
    ],
)
def test_load_risk_config_loosening_typo_refused_in_one_line(tmp_path, old, new, match):
    assert old in SHIPPED_RISK
    path = _write(tmp_path, SHIPPED_RISK.replace(old, new, 1))

    with pytest.raises(ConfigError, match=match) as info:
        load_risk_config(path)

    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# nothing here yet\n",
        "rules: {}\n",
        "rules:\n  daily_realized_loss: {limit: 100, mode: shadow}\n  max_contracts: {limit: 2, enabled: false}\n",
    ],
)
def test_load_risk_config_no_enforced_rule_is_refused(tmp_path, text):
    path = _write(tmp_path, text)

    with pytest.raises(
        ConfigError, match=r"no rule is enabled in enforce mode, so this file limits nothing"
    ) as info:
        load_risk_config(path)

    assert info.value.field == "rules" and "allow_no_enforced_rules: true" in str(info.value)


def test_load_risk_config_no_enforced_rule_allowed_when_said(tmp_path):
    path = _write(
        tmp_path, "allow_no_enforced_rules: true\nrules:\n  daily_realized_loss: {limit: 100, mode: shadow}\n"
    )

    cfg = load_risk_config(path)

    assert cfg.enforced_rules() == {} and list(cfg.shadow_rules()) == ["daily_realized_loss"]


def test_load_risk_config_long_value_is_shortened(tmp_path):
    path = _write(tmp_path, f"rules:\n  symbol_blocks: {{symbols: [GME], action: '{'x' * 5000}'}}\n")

    with pytest.raises(ConfigError, match=r"field 'action': bad value 'x+\.\.\.x': allowed one of") as info:
        load_risk_config(path)

    assert len(str(info.value)) < 300


def test_load_risk_config_shipped_file_defaults_tamper_lock_on():
    cfg = load_risk_config(REPO / "config" / "risk.yaml")

    assert cfg.tamper_lock is True and cfg.allow_no_enforced_rules is False
    assert len(cfg.enforced_rules()) == 11 and set(cfg.shadow_rules()) == {
        "daily_realized_profit_target",
        "session_hours",
    }
