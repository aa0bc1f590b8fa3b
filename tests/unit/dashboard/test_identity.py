"""identity.py: the operator is the launcher's --operator, else the OS user."""

from __future__ import annotations

import getpass

from dashboard.identity import current_operator
from dashboard.settings import DashboardSettings


def test_operator_from_launcher_flag() -> None:
    operator = current_operator(DashboardSettings.from_env({"DASHBOARD_OPERATOR": " alice "}))

    assert (operator.name, operator.source) == ("alice", "launcher --operator")


def test_operator_defaults_to_the_os_user() -> None:
    operator = current_operator(DashboardSettings.from_env({}))

    assert (operator.name, operator.source) == (getpass.getuser(), "OS user")
