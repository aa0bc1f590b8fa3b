"""trading/users.py: the users file (streamlit-authenticator's format), strict, secrets never shown."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import bcrypt
import pytest
import yaml

from trading.errors import ConfigError
from trading.users import LoginCookie, Role, UserEntry, UsersFile, load_users, save_users

# a real bcrypt hash, cost 4 (fast in tests)
HASH = bcrypt.hashpw(b"correct horse", bcrypt.gensalt(rounds=4)).decode()
KEY = "k" * 40


def _write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document))
    return path


def _document(**user: object) -> dict:
    entry = {"name": "Alice", "password": HASH, "roles": ["operator"], **user}
    return {"credentials": {"usernames": {"alice": entry}}, "cookie": {"name": "desk", "key": KEY}}


def test_users_load_roles_and_operators(tmp_path: Path) -> None:
    document = _document()
    document["credentials"]["usernames"]["bob"] = {"name": "Bob", "password": HASH, "roles": ["viewer"]}

    users = load_users(_write(tmp_path / "users.yaml", document))

    assert (users.role_of("alice"), users.role_of("bob"), users.role_of("carol")) == (
        Role.OPERATOR,
        Role.VIEWER,
        None,
    )
    assert users.operators() == ("alice",)
    assert users.cookie.expiry_days == 1.0


def test_users_plain_text_password_refused_without_showing_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "users.yaml", _document(password="hunter2-plain"))

    with pytest.raises(
        ConfigError, match=r"field 'credentials.usernames.alice.password': bad value \(not shown"
    ) as err:
        load_users(path)

    assert "hunter2" not in str(err.value)
    assert err.value.value is None


def test_users_short_cookie_key_refused_without_showing_it(tmp_path: Path) -> None:
    document = _document()
    document["cookie"]["key"] = "short-secret"
    path = _write(tmp_path / "users.yaml", document)

    with pytest.raises(ConfigError, match=r"field 'cookie.key': bad value \(not shown: a secret\)") as err:
        load_users(path)

    assert "short-secret" not in str(err.value)


def test_users_misspelt_password_key_named_without_its_value(tmp_path: Path) -> None:
    document = _document()
    entry = document["credentials"]["usernames"]["alice"]
    entry["passwd"] = entry.pop("password")
    entry["passwd"] = "plain-secret"
    path = _write(tmp_path / "users.yaml", document)

    with pytest.raises(ConfigError, match=r"unknown key 'credentials.usernames.alice.passwd'") as err:
        load_users(path)

    assert "plain-secret" not in str(err.value)
    assert err.value.value is None


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"roles": ["admin"]}, r"field 'credentials.usernames.alice.roles.0': bad value 'admin'"),
        ({"roles": ["viewer", "operator"]}, r"field 'credentials.usernames.alice.roles'"),
        ({"roles": []}, r"field 'credentials.usernames.alice.roles'"),
    ],
)
def test_users_role_not_exactly_one_of_viewer_operator_refused(tmp_path: Path, change, match) -> None:
    with pytest.raises(ConfigError, match=match):
        load_users(_write(tmp_path / "users.yaml", _document(**change)))


def test_users_upper_case_user_name_refused(tmp_path: Path) -> None:
    document = _document()
    document["credentials"]["usernames"]["Bob"] = document["credentials"]["usernames"].pop("alice")

    with pytest.raises(ConfigError, match=r"user name 'Bob': 1-64 characters, lower case"):
        load_users(_write(tmp_path / "users.yaml", document))


def test_users_save_then_load_round_trip_mode_0600(tmp_path: Path) -> None:
    users = UsersFile.new().with_user("alice", UserEntry(name="Alice", password=HASH, roles=(Role.OPERATOR,)))
    path = tmp_path / "sub" / "users.yaml"

    save_users(path, users)

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_users(path) == users
    assert path.read_text().startswith("# The desk's users")
    assert [p.name for p in path.parent.iterdir()] == ["users.yaml"]  # no temporary file left


def test_users_repr_shows_no_secret() -> None:
    users = UsersFile(cookie=LoginCookie(key=KEY)).with_user(
        "alice", UserEntry(name="Alice", password=HASH, roles=(Role.OPERATOR,))
    )

    shown = repr(users) + repr(users.users["alice"]) + repr(users.cookie)

    assert HASH not in shown and KEY not in shown
    assert repr(users) == "UsersFile(users=['alice'], operators=['alice'])"


def test_users_without_unknown_user_refused() -> None:
    with pytest.raises(ConfigError, match="no user 'zed' in the users file"):
        UsersFile.new().without_user("zed")


def test_users_authenticator_credentials_is_a_fresh_copy() -> None:
    users = UsersFile.new().with_user("alice", UserEntry(name="Alice", password=HASH, roles=(Role.VIEWER,)))

    first = users.authenticator_credentials()
    first["usernames"]["alice"]["logged_in"] = True  # the library writes into what it is given

    assert users.authenticator_credentials() == {
        "usernames": {"alice": {"name": "Alice", "password": HASH, "roles": ["viewer"]}}
    }
