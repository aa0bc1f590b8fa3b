import pytest

from trading.desk import load_desk_config
from trading.errors import ConfigError

from .conftest import ROOT, write_configs


def test_desk_config_shipped_file_is_valid():
    config = load_desk_config(ROOT / "config" / "desk.yaml")
    assert {i.symbol for i in config.instruments} == {"ES", "AAPL", "EURUSD", "NQ"}
    assert {s.kind for s in config.strategies} == {"ma_crossover", "mean_reversion"}


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"accout": {}}, r"unknown key 'accout' \(did you mean 'account'\?\)"),
        ({"clock": {"speed": -1}}, r"field 'clock.speed': bad value -1"),
        (
            {"feed": {"kind": "carrier-pigeon"}},
            r"field 'feed.kind': bad value 'carrier-pigeon': allowed one of 'simulated' or 'csv'$",
        ),
        ({"feed": {"kind": "csv"}}, r"feed.csv section is missing"),
        (
            {"strategies": [{"name": "x", "kind": "ma_crossover", "symbols": ["BTC"]}]},
            r"strategy 'x' trades \['BTC'\], which are not instruments",
        ),
        (
            {
                "strategies": [
                    {"name": "x", "kind": "ma_crossover", "symbols": ["ES"], "fast": 30, "slow": 20}
                ]
            },
            r"fast \(30\) must be below slow \(20\)",
        ),
        (
            {"strategies": [{"name": "x", "kind": "martingale", "symbols": ["ES"]}]},
            r"field 'strategies.0': Input tag 'martingale' .* expected tags: 'ma_crossover', 'mean_reversion'",
        ),
    ],
)
def test_desk_config_bad_value_names_file_field_and_allowed(tmp_path, override, match):
    path = write_configs(tmp_path, desk=override)
    with pytest.raises(ConfigError, match=match) as info:
        load_desk_config(path)
    assert str(path) in str(info.value)
