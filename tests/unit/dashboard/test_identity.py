"""identity.py: without a users file the local operator (the launcher's --operator, else the OS
user) is the operator; with one, the logged-in user with the role the file gives them now."""

from __future__ import annotations

import getpass

import bcrypt

from dashboard.identity import local_identity, login_identity
from dashboard.settings import DashboardSettings
from trading.commands import Requester
from trading.users import Role, UserEntry, UsersFile

HASH = bcrypt.hashpw(b"irrelevant-here", bcrypt.gensalt(rounds=4)).decode()


def _users() -> UsersFile:
    return (
        UsersFile.new()
        .with_user("alice", UserEntry(name="Alice Smith", password=HASH, roles=(Role.OPERATOR,)))
        .with_user("bob", UserEntry(name="Bob", password=HASH, roles=(Role.VIEWER,)))
    )


def test_operator_from_launcher_flag() -> None:
    operator = local_identity(DashboardSettings.from_env({"DASHBOARD_OPERATOR": " alice "}))

    assert (operator.name, operator.source) == ("alice", "launcher --operator")
    assert operator.role is Role.OPERATOR


def test_operator_defaults_to_the_os_user() -> None:
    operator = local_identity(DashboardSettings.from_env({}))

    assert (operator.name, operator.source) == (getpass.getuser(), "OS user")
    assert operator.is_operator


def test_identity_login_role_from_the_users_file() -> None:
    alice = login_identity(_users(), "alice", "10.0.0.5")
    bob = login_identity(_users(), "bob")

    assert alice is not None and bob is not None
    assert (alice.name, alice.display, alice.role, alice.source) == (
        "alice",
        "Alice Smith",
        Role.OPERATOR,
        "login",
    )
    assert alice.requester() == Requester(name="alice", role=Role.OPERATOR, address="10.0.0.5")
    assert (bob.role, bob.is_operator) == (Role.VIEWER, False)


def test_identity_login_of_a_removed_user_is_none() -> None:
    assert login_identity(_users().without_user("alice"), "alice") is None
    assert login_identity(_users(), None) is None


def test_identity_settings_users_file_requires_a_login(tmp_path) -> None:
    settings = DashboardSettings.from_env({"DASHBOARD_USERS_FILE": str(tmp_path / "users.yaml")})

    assert settings.login_required
    assert not DashboardSettings.from_env({}).login_required
