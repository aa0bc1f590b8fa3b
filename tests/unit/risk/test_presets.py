"""Account presets: the shipped rule sets load, and a risk file starts from one and overrides it."""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from pathlib import Path

import pytest

from trading.errors import ConfigError
from trading.risk import RiskManager, load_risk_config
from trading.risk.loosening import loosenings
from trading.risk.presets import PRESETS_DIR, preset_names

REPO = Path(__file__).resolve().parents[3]
SHIPPED = ("funded_150k_scaling", "funded_50k_eod", "funded_50k_intraday")


def _write(tmp_path: Path, text: str, name: str = "risk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_preset_names_lists_the_shipped_files():
    assert PRESETS_DIR == REPO / "config" / "presets"
    assert tuple(preset_names()) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_preset_shipped_file_loads_alone_enforcing_a_drawdown_and_states_its_source(name):
    path = PRESETS_DIR / f"{name}.yaml"
    cfg = load_risk_config(path)
    text = path.read_text()
    assert cfg.tamper_lock is True
    assert cfg.rules["trailing_drawdown"].mode == "enforce"
    assert "trailing_drawdown" in cfg.enforced_rules()
    assert "2026-11-30" in text and "CHECK YOUR FIRM'S CURRENT RULES" in text
    assert "modelled on the typical public rules of futures prop firms" in text


def test_preset_numbers_sit_inside_the_firms_numbers():
    eod = load_risk_config(PRESETS_DIR / "funded_50k_eod.yaml").rules
    assert eod["trailing_drawdown"].max_drawdown == Decimal(1800) < 2000
    assert eod["trailing_drawdown"].trailing == "end_of_day"
    assert eod["daily_loss"].limit == Decimal(900) < 1000 and eod["daily_loss"].basis == "net"
    intraday = load_risk_config(PRESETS_DIR / "funded_50k_intraday.yaml").rules
    assert intraday["trailing_drawdown"].max_drawdown == Decimal(2250) < 2500
    assert intraday["trailing_drawdown"].trailing == "intraday"
    assert intraday["trailing_drawdown"].freeze_above_start == Decimal(100)
    assert intraday["consistency"].max_day_percent == 27
    big = load_risk_config(PRESETS_DIR / "funded_150k_scaling.yaml").rules
    assert big["trailing_drawdown"].max_drawdown == Decimal(4050) < 4500
    assert big["daily_loss"].limit == Decimal(2700) < 3000
    assert [t.max_contracts for t in big["scaling_plan"].tiers] == [3, 4, 5, 10, 15]


def test_preset_file_overrides_field_by_field_and_adds_rules(tmp_path):
    path = _write(
        tmp_path,
        "preset: funded_50k_eod\n"
        "warning_threshold: 0.7\n"
        "reset: {time: '16:00'}\n"
        "rules:\n"
        "  daily_loss: {limit: 500}\n"
        "  risk_per_trade: {max_loss: 200}\n",
    )

    cfg = load_risk_config(path)

    daily = cfg.rules["daily_loss"]
    assert daily.limit == Decimal(500) and daily.basis == "net" and daily.action.value == "flatten_and_lock"
    assert cfg.rules["risk_per_trade"].max_loss == Decimal(200)
    assert cfg.rules["trailing_drawdown"].max_drawdown == Decimal(1800)  # kept from the preset
    assert list(cfg.rules) == [
        "trailing_drawdown",
        "daily_loss",
        "scaling_plan",
        "session_hours",
        "risk_per_trade",
    ]
    assert cfg.warning_threshold == 0.7
    assert (cfg.reset.time.hour, cfg.reset.timezone) == (16, "America/Chicago")  # merged key by key


def test_preset_empty_sections_keep_the_presets(tmp_path):
    path = _write(tmp_path, "preset: funded_50k_intraday\nrules:\n  consistency:\n")

    cfg = load_risk_config(path)

    assert cfg.rules == load_risk_config(PRESETS_DIR / "funded_50k_intraday.yaml").rules


def test_preset_nested_list_replaced_whole(tmp_path):
    path = _write(
        tmp_path,
        "preset: funded_150k_scaling\nrules:\n  scaling_plan:\n    tiers: [{min_balance: 0, max_contracts: 2}]\n",
    )

    plan = load_risk_config(path).rules["scaling_plan"]

    assert [t.max_contracts for t in plan.tiers] == [2]
    assert plan.weights["MES"] == 0.1  # the preset's other fields stay


def test_preset_by_relative_path(tmp_path):
    (tmp_path / "firms").mkdir()
    _write(tmp_path / "firms", "rules:\n  daily_loss: {limit: 400, basis: realized}\n", "mine.yaml")
    path = _write(tmp_path, "preset: firms/mine.yaml\nrules:\n  daily_loss: {limit: 300}\n")

    rule = load_risk_config(path).rules["daily_loss"]

    assert (rule.limit, rule.basis) == (Decimal(300), "realized")


def test_preset_unknown_name_names_file_field_and_the_allowed_presets(tmp_path):
    path = _write(tmp_path, "preset: funded_50k_eodd\nrules: {}\n")

    with pytest.raises(
        ConfigError,
        match=r"risk\.yaml: field 'preset': bad value 'funded_50k_eodd': no such preset: allowed one of "
        r"funded_150k_scaling, funded_50k_eod, funded_50k_intraday, or a path to a \.yaml file",
    ) as info:
        load_risk_config(path)
    assert (info.value.path, info.value.field, info.value.value) == (path, "preset", "funded_50k_eodd")


@pytest.mark.parametrize("value", ["7", "[a]", "Funded 50K", "mine.txt"])
def test_preset_value_not_a_name_nor_a_yaml_path_refused(tmp_path, value):
    path = _write(tmp_path, f"preset: {value}\n")

    with pytest.raises(
        ConfigError, match=r"risk\.yaml: field 'preset': bad value .*: allowed one of funded_"
    ):
        load_risk_config(path)


def test_preset_missing_path_names_the_file_the_field_and_the_path(tmp_path):
    path = _write(tmp_path, "preset: nowhere.yaml\n")

    with pytest.raises(
        ConfigError, match=r"risk\.yaml: field 'preset': .*nowhere\.yaml: config file not found"
    ):
        load_risk_config(path)


def test_preset_naming_a_preset_refused_naming_the_preset_file(tmp_path):
    _write(tmp_path, "preset: funded_50k_eod\n", "middle.yaml")
    path = _write(tmp_path, "preset: middle.yaml\n")

    with pytest.raises(
        ConfigError,
        match=r"middle\.yaml: field 'preset': a preset cannot start from another preset \(named by .*risk\.yaml\)",
    ):
        load_risk_config(path)


def test_preset_itself_naming_its_own_file_refused_not_looping(tmp_path):
    path = _write(tmp_path, "preset: risk.yaml\n")

    with pytest.raises(ConfigError, match=r"a preset cannot start from another preset"):
        load_risk_config(path)


def test_preset_bad_field_in_the_preset_names_the_preset_file(tmp_path):
    _write(tmp_path, "rules:\n  daily_loss: {limit: -1}\n", "mine.yaml")
    path = _write(tmp_path, "preset: mine.yaml\n")

    with pytest.raises(
        ConfigError, match=r"mine\.yaml: rule 'daily_loss', field 'limit': bad value -1: allowed a number > 0"
    ):
        load_risk_config(path)


def test_preset_bad_override_names_the_risk_file(tmp_path):
    path = _write(tmp_path, "preset: funded_50k_eod\nrules:\n  daily_loss: {limt: 500}\n")

    with pytest.raises(
        ConfigError, match=r"risk\.yaml: rule 'daily_loss', unknown key 'limt' \(did you mean 'limit'\?\)"
    ):
        load_risk_config(path)


def test_preset_rule_of_another_kind_under_its_name_refused(tmp_path):
    path = _write(
        tmp_path, "preset: funded_50k_eod\nrules:\n  daily_loss: {kind: daily_realized_loss, limit: 5}\n"
    )

    with pytest.raises(
        ConfigError,
        match=r"risk\.yaml: rule 'daily_loss', field 'kind': bad value 'daily_realized_loss': allowed "
        r"'daily_loss' \(the preset's rule 'daily_loss'\); give a rule of another kind its own name",
    ):
        load_risk_config(path)


def test_preset_merged_result_with_nothing_enforced_refused(tmp_path):
    rules = "".join(
        f"  {name}: {{mode: shadow}}\n" for name in ("trailing_drawdown", "daily_loss", "scaling_plan")
    )
    path = _write(tmp_path, f"preset: funded_50k_eod\nrules:\n{rules}  session_hours: {{enabled: false}}\n")

    with pytest.raises(ConfigError, match=r"risk\.yaml: no rule is enabled in enforce mode"):
        load_risk_config(path)


def test_preset_override_that_loosens_is_logged_as_a_warning(tmp_path, caplog):
    path = _write(tmp_path, "preset: funded_50k_eod\nrules:\n  daily_loss: {limit: 1200}\n")

    with caplog.at_level(logging.WARNING, logger="trading.risk.config"):
        cfg = load_risk_config(path)

    assert cfg.rules["daily_loss"].limit == Decimal(1200)
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: rules.daily_loss.limit 900 -> 1200 loosens the preset funded_50k_eod (a higher value loosens)"
    ]


def test_preset_tightening_override_logs_nothing(tmp_path, caplog):
    path = _write(tmp_path, "preset: funded_50k_eod\nrules:\n  daily_loss: {limit: 500}\n")

    with caplog.at_level(logging.WARNING, logger="trading.risk.config"):
        load_risk_config(path)

    assert caplog.records == []


def test_preset_loosening_edit_of_a_running_merged_file_held_by_the_tamper_lock(bus, broker, clock, tmp_path):
    path = _write(tmp_path, "preset: funded_50k_eod\nrules:\n  daily_loss: {limit: 500}\n")
    rm = RiskManager(bus, broker, clock, load_risk_config(path), config_path=path)
    rm.start()
    try:
        path.write_text("preset: funded_50k_eod\n")  # back to the preset's 900: a loosening
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

        assert rm.check_config_changed() is False

        assert rm.engine.rules["daily_loss"].config.limit == Decimal(500)
        assert "rules.daily_loss.limit 500 -> 900" in rm.config_status
    finally:
        rm.stop()


def test_preset_loosenings_between_preset_and_override_seen_by_the_diff(tmp_path):
    preset = load_risk_config(PRESETS_DIR / "funded_50k_intraday.yaml")
    path = _write(
        tmp_path, "preset: funded_50k_intraday\nrules:\n  trailing_drawdown: {trailing: end_of_day}\n"
    )

    found = [str(c) for c in loosenings(preset, load_risk_config(path))]

    assert found == ["rules.trailing_drawdown.trailing intraday -> end_of_day"]


def test_shipped_risk_file_names_no_preset_and_still_loads():
    text = (REPO / "config" / "risk.yaml").read_text()
    assert "\npreset:" not in text
    assert "daily_realized_loss" in load_risk_config(REPO / "config" / "risk.yaml").rules
