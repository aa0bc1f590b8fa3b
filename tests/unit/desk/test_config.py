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
            r"field 'feed.kind': bad value 'carrier-pigeon': allowed one of 'simulated', 'csv' or 'broker'$",
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


# --- issue 12: a value that decides is strictly typed; every failure is one ConfigError line ------

SHIPPED_DESK = (ROOT / "config" / "desk.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "starting_balance: 100000",
            "starting_balance: yes",
            r"field 'account\.starting_balance': bad value 'yes': allowed a number$",
        ),
        (
            "starting_balance: 100000",
            "starting_balance: true",
            r"field 'account\.starting_balance': bad value True: allowed a number$",
        ),
        ("starting_balance: 100000", "starting_balance: .inf", r"line \d+: '\.inf' is not a finite number$"),
        ("multiplier: 50,", "multiplier: .inf,", r"line \d+: '\.inf' is not a finite number$"),
        ("bar_seconds: 5 ", "bar_seconds: .inf ", r"line \d+: '\.inf' is not a finite number$"),
        ("bar_seconds: 5 ", "bar_seconds: 1e400 ", r"line \d+: '1e400' is not a finite number$"),
        ("speed: 10 ", "speed: true ", r"field 'clock\.speed': bad value True: allowed a number$"),
        (
            "tick_size: 0.25, multiplier: 50",
            "tick_size: '0.25', multiplier: 50",
            r"field 'instruments\.0\.tick_size': bad value '0\.25': allowed a number$",
        ),
        (
            "quantity: 2, fast: 5",
            "quantity: 2, enabled: 1, fast: 5",
            r"field 'strategies\.0\.ma_crossover\.enabled': bad value 1: allowed true or false$",
        ),
        (
            "speed: 10 ",
            "speed: 10\n  start: not-a-date\n ",
            r"field 'clock\.start': bad value 'not-a-date': allowed an ISO 8601 date and time with a UTC offset",
        ),
        (
            "speed: 10 ",
            "speed: 10\n  start: 2026-01-05T14:30:00\n ",
            r"field 'clock\.start': bad value '2026-01-05T14:30:00': allowed a UTC offset",
        ),
        (
            "speed: 10 ",
            "speed: 10\n  start: 9999-12-31T23:00:00+00:00\n ",
            r"field 'clock\.start': .*allowed a time from 1971 to 2199$",
        ),
        (
            "history_points: 20000",
            "history_points: 2.0e4",
            r"field 'loop\.history_points': bad value 20000\.0: allowed a whole number$",
        ),
    ],
)
def test_desk_config_loose_value_refused_in_one_line(tmp_path, old, new, match):
    assert old in SHIPPED_DESK
    path = tmp_path / "desk.yaml"
    path.write_text(SHIPPED_DESK.replace(old, new, 1))

    with pytest.raises(ConfigError, match=match) as info:
        load_desk_config(path)

    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_desk_config_clock_start_with_offset_is_an_aware_datetime(tmp_path):
    path = tmp_path / "desk.yaml"
    path.write_text(SHIPPED_DESK.replace("speed: 10 ", "speed: 10\n  start: 2026-01-05T08:30:00-06:00\n ", 1))

    start = load_desk_config(path).clock.start

    assert start is not None and start.utcoffset() is not None
    assert start.isoformat() == "2026-01-05T08:30:00-06:00"
