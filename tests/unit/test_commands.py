"""trading/commands.py: the one command protocol of the dashboard and the desk.

``COMMAND_CASES`` is the table both sides are checked against: here against
``parse_command``; in ``tests/unit/desk/test_commands.py`` against the dashboard's
``DeskReader.submit_command`` and the desk's processor, which must agree with it.
"""

from __future__ import annotations

from typing import Any

import pytest

from trading.commands import (
    ARGUMENTS,
    UNREADABLE_NAME,
    ClosePosition,
    CommandKind,
    FlattenAll,
    Pause,
    ReloadRiskConfig,
    Requester,
    Resume,
    Unlock,
    command_args,
    parse_command,
)
from trading.errors import ConfigError
from trading.users import Role

ALL_KINDS = "flatten_all, close_position, pause, resume, unlock, reload_risk_config"

# (kind, args, the command it parses to, or the exact ConfigError message)
COMMAND_CASES: list[tuple[str, Any, object]] = [
    ("flatten_all", {}, FlattenAll()),
    ("flatten_all", None, FlattenAll()),
    ("flatten_all", {"reason": " end of day ", "pause": False}, FlattenAll(reason="end of day", pause=False)),
    ("flatten_all", {"reason": "  "}, FlattenAll()),
    ("pause", {"reason": "lunch"}, Pause(reason="lunch")),
    ("pause", {"reason": None}, Pause()),
    ("resume", {"reason": "back"}, Resume(reason="back")),
    ("unlock", {"reason": "reviewed", "scope": "ES"}, Unlock(reason="reviewed", scope="ES")),
    ("unlock", {"reason": "reviewed", "scope": " "}, Unlock(reason="reviewed")),
    ("reload_risk_config", {}, ReloadRiskConfig()),
    ("launch_rockets", {}, f"unknown command 'launch_rockets'; allowed: {ALL_KINDS}"),
    (
        "pause",
        {"symbol": "ES"},
        "command 'pause' takes no argument 'symbol'; allowed: reason (text, optional)",
    ),
    (
        "reload_risk_config",
        {"reason": "x"},
        "command 'reload_risk_config' takes no argument 'reason'; allowed: none",
    ),
    (
        "unlock",
        {"reason": "ok", "scope": "ES", "until": "noon"},
        "command 'unlock' takes no argument 'until'; "
        "allowed: reason (text, required), scope (text, default 'account')",
    ),
    ("close_position", {}, "command 'close_position' needs a non-empty 'symbol'"),
    ("close_position", {"symbol": 5}, "command 'close_position' argument 'symbol' must be text, got 5"),
    ("unlock", {"reason": "  "}, "command 'unlock' needs a non-empty 'reason'"),
    ("unlock", {"scope": "ES"}, "command 'unlock' needs a non-empty 'reason'"),
    (
        "flatten_all",
        {"pause": "no"},
        "command 'flatten_all' argument 'pause' must be true or false, got 'no'",
    ),
    ("flatten_all", {"pause": 0}, "command 'flatten_all' argument 'pause' must be true or false, got 0"),
]


@pytest.mark.parametrize(("kind", "args", "expected"), COMMAND_CASES)
def test_parse_command_table_parses_or_names_what_is_allowed(kind: str, args: Any, expected: object) -> None:
    if isinstance(expected, str):
        with pytest.raises(ConfigError) as caught:
            parse_command(kind, args)
        assert str(caught.value) == expected
    else:
        assert parse_command(kind, args) == expected


def test_parse_command_arguments_not_a_mapping_refused() -> None:
    # The commands table cannot hold such a row (its writer refuses it), so this is not in the table.
    with pytest.raises(ConfigError) as caught:
        parse_command("pause", ["lunch"])

    assert str(caught.value) == "command 'pause' arguments must be a mapping of name to value, got ['lunch']"


def test_parse_command_error_carries_field_value_and_allowed() -> None:
    with pytest.raises(ConfigError, match=r"must be true or false") as caught:
        parse_command("flatten_all", {"pause": "no"})

    assert (caught.value.field, caught.value.value) == ("pause", "no")
    assert caught.value.allowed == "pause (true or false, default true)"


def test_parse_command_kind_enum_accepted_typed_result() -> None:
    command = parse_command(CommandKind.CLOSE_POSITION, {"symbol": " ES "})

    assert command == ClosePosition(symbol="ES") and command.kind is CommandKind.CLOSE_POSITION


def test_arguments_table_types_required_and_defaults() -> None:
    described = {kind.value: [a.describe() for a in ARGUMENTS[kind]] for kind in CommandKind}

    assert described == {
        "flatten_all": ["reason (text, optional)", "pause (true or false, default true)"],
        "close_position": ["symbol (text, required)"],
        "pause": ["reason (text, optional)"],
        "resume": ["reason (text, optional)"],
        "unlock": ["reason (text, required)", "scope (text, default 'account')"],
        "reload_risk_config": [],
    }


def test_command_args_keeps_required_and_non_defaults_only() -> None:
    assert command_args(FlattenAll()) == {}
    assert command_args(FlattenAll(reason="eod", pause=False)) == {"reason": "eod", "pause": False}
    assert command_args(Unlock(reason="ok")) == {"reason": "ok"}
    assert command_args(Unlock(reason="ok", scope="ES")) == {"reason": "ok", "scope": "ES"}


@pytest.mark.parametrize("kind", list(CommandKind))
def test_command_args_round_trip_same_command(kind: CommandKind) -> None:
    args = {a.name: (not a.default) if a.type is bool else f"{a.name} value" for a in ARGUMENTS[kind]}
    command = parse_command(kind, args)

    assert parse_command(kind, command_args(command)) == command


def test_commands_frozen() -> None:
    command = Unlock(reason="ok")

    with pytest.raises(AttributeError):
        command.scope = "ES"  # type: ignore[misc]


# --- Requester: who sent a command ---------------------------------------------------------


def test_requester_describe_names_role_and_address() -> None:
    assert Requester(name="alice", role=Role.OPERATOR, address="10.0.0.5").describe() == (
        "alice (operator, from 10.0.0.5)"
    )
    assert Requester(name="root").describe() == "root"


@pytest.mark.parametrize("name", ["", "x" * 65, "a\nb"])
def test_requester_bad_name_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=r"requester name .*: 1-64 printable characters"):
        Requester(name=name)


def test_requester_of_row_reads_unusable_values_defensively() -> None:
    row = {"requested_by": "x" * 65, "requester_role": "admin", "requester_address": "a\x00b"}

    requester = Requester.of_row(row)

    assert (requester.name, requester.role, requester.address) == (UNREADABLE_NAME, None, None)
    assert Requester.of_row({"requested_by": "bob", "requester_role": "viewer"}).role is Role.VIEWER
