"""The launcher's --operator NAME reaches Streamlit as DASHBOARD_OPERATOR (dashboard.identity reads it)."""

from __future__ import annotations

import pytest

from scripts.run_live_dashboard import DashboardRunner, _parser
from trading.errors import ConfigError


def test_runner_operator_passed_to_the_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_OPERATOR", "someone-else")

    named = DashboardRunner(operator=" alice ")._child_env()
    unnamed = DashboardRunner()._child_env()

    assert named["DASHBOARD_OPERATOR"] == "alice"
    assert "DASHBOARD_OPERATOR" not in unnamed  # the dashboard then names the OS user


@pytest.mark.parametrize("bad", ["", "   ", "a\x07b", "x" * 65])
def test_runner_operator_empty_or_unprintable_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"--operator .*: a name of 1-64 printable characters"):
        DashboardRunner(operator=bad)


def test_runner_operator_flag_parsed() -> None:
    assert _parser().parse_args(["--operator", "alice"]).operator == "alice"
    assert _parser().parse_args([]).operator is None
