"""The broker section of desk.yaml and the Alpaca factory's refusals: kind from the registry,
a live account only with two consents, keys only from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from trading.broker.alpaca.config import KEY_ID_VARIABLE, SECRET_KEY_VARIABLE, AlpacaSettings
from trading.broker.projectx.config import ProjectXSettings
from trading.broker.registry import BrokerContext, PaperSettings, broker_kind
from trading.bus import EventBus
from trading.clock import LiveClock
from trading.desk.config import load_desk_config
from trading.errors import ConfigError

SIMULATED: dict[str, Any] = {
    "ticks_per_second": 1,
    "symbols": [{"symbol": "AAPL", "start_price": 10, "volatility": 0.001, "tick_size": 0.01}],
}
BASE: dict[str, Any] = {
    "instruments": [{"symbol": "AAPL", "tick_size": 0.01}],
    "feed": {"kind": "broker"},
    "clock": {"speed": 1},
    "broker": {"kind": "alpaca", "paper": True},
}


def _load(tmp_path: Path, data: dict[str, Any]):
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_desk_config(path)


def _context(**kw: Any) -> BrokerContext:
    fields: dict[str, Any] = {
        "bus": EventBus(),
        "clock": LiveClock(),
        "instruments": (),
        "journal": None,
        "history": None,
        "audit": None,
        "environ": {KEY_ID_VARIABLE: "PKX", SECRET_KEY_VARIABLE: "s3cr3t"},
        **kw,
    }
    return BrokerContext(**fields)


def test_desk_config_broker_section_alpaca_is_its_typed_settings(tmp_path: Path) -> None:
    config = _load(tmp_path, {**BASE, "broker": {"kind": "alpaca", "paper": True, "poll_interval": 1}})

    assert isinstance(config.broker, AlpacaSettings)
    assert (config.broker.paper, config.broker.poll_interval) == (True, 1.0)


def test_desk_config_without_broker_section_is_the_paper_broker(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        {
            "instruments": [{"symbol": "AAPL", "tick_size": 0.01}],
            "feed": {"kind": "simulated", "simulated": SIMULATED},
        },
    )

    assert config.broker == PaperSettings()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"broker": {"kind": "ibkr"}}, r"broker.*'paper' or 'alpaca'|broker.*paper.*alpaca"),
        ({"broker": {"kind": "alpaca", "paper": False}}, r"set allow_live: true here and start the desk"),
        ({"broker": {"kind": "alpaca", "papr": True}}, r"unknown key 'broker.alpaca.papr'"),
        ({"feed": {"kind": "simulated", "simulated": SIMULATED}}, r"feed.kind must be broker"),
        ({"clock": {"speed": 10}}, r"runs in real time"),
        (
            {"strategies": [{"name": "s", "kind": "ma_crossover", "symbols": ["AAPL"]}]},
            r"no bars for strategies",
        ),
    ],
)
def test_desk_config_broker_section_refusals_name_the_problem(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, {**BASE, **change})


def test_desk_config_feed_broker_with_the_paper_broker_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"feed.kind broker needs a venue broker"):
        _load(tmp_path, {**BASE, "broker": {"kind": "paper"}})


def test_unknown_broker_kind_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown broker kind 'ibkr' \(known: paper, alpaca, projectx\)"):
        broker_kind("ibkr")


def test_alpaca_factory_refuses_a_live_account_without_allow_live_flag() -> None:
    settings = AlpacaSettings(paper=False, allow_live=True)

    with pytest.raises(ConfigError, match="must be started with --allow-live"):
        broker_kind("alpaca").build(settings, _context(allow_live=False))


def test_alpaca_factory_needs_both_keys_and_never_shows_them() -> None:
    with pytest.raises(ConfigError, match=f"{SECRET_KEY_VARIABLE} not set") as info:
        broker_kind("alpaca").build(AlpacaSettings(), _context(environ={KEY_ID_VARIABLE: "PKX"}))

    assert "PKX" not in str(info.value)


def test_alpaca_factory_with_consent_and_keys_builds_a_live_broker_without_calling_it() -> None:
    broker = broker_kind("alpaca").build(
        AlpacaSettings(paper=False, allow_live=True), _context(allow_live=True)
    )

    assert broker.source == "alpaca" and "s3cr3t" not in repr(broker)
    broker.close()


def test_projectx_factory_names_both_missing_credentials_before_any_call() -> None:
    with pytest.raises(
        ConfigError,
        match="broker kind projectx needs the credentials in the environment: "
        "PROJECTX_USERNAME and PROJECTX_API_KEY not set",
    ):
        broker_kind("projectx").build(ProjectXSettings(account="EVAL-1"), _context(environ={}))
