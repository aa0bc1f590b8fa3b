"""login.py under AppTest: with a users file nothing but the login form is drawn until a user
logs in; a wrong password is refused; the role comes from the users file as it is now."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.login import WRONG_LOGIN
from trading.users import Role, load_users, save_users

from .conftest import APP, PASSWORDS, DeskState, run_page


def _log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30).run()


def test_login_form_only_until_logged_in(desk_state_dir: DeskState, users_file: Path) -> None:
    at = _app()

    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.header  # no page
    assert not at.sidebar.caption and not at.sidebar.slider  # no sidebar: no name, no state directory


def test_login_wrong_password_refused_and_no_page(desk_state_dir: DeskState, users_file: Path) -> None:
    at = _log_in(_app(), "alice", "not-her-password")

    assert [e.value for e in at.error] == [WRONG_LOGIN]
    assert not at.header


def test_login_unknown_user_refused_with_the_same_words(desk_state_dir: DeskState, users_file: Path) -> None:
    at = _log_in(_app(), "mallory", PASSWORDS["alice"])

    assert [e.value for e in at.error] == [WRONG_LOGIN]  # says nothing of whether the user exists
    assert not at.header


def test_login_operator_sees_the_app_with_name_and_role(desk_state_dir: DeskState, users_file: Path) -> None:
    at = _log_in(_app(), "alice", PASSWORDS["alice"])

    assert not at.exception
    assert at.header[0].value == "Overview"
    assert at.sidebar.caption[0].value == "operator **Alice**"
    assert [b.label for b in at.sidebar.button] == ["Log out"]


def test_login_logout_shows_the_form_again(desk_state_dir: DeskState, users_file: Path) -> None:
    at = _log_in(_app(), "alice", PASSWORDS["alice"])

    at.sidebar.button[0].click().run()
    at.run()

    assert not at.header
    assert [t.label for t in at.text_input] == ["User name", "Password"]


def test_login_role_changed_in_the_file_applies_at_the_next_run(
    desk_state_dir: DeskState, users_file: Path
) -> None:
    at = _log_in(_app(), "alice", PASSWORDS["alice"])
    users = load_users(users_file)
    entry = users.users["alice"].model_copy(update={"roles": (Role.VIEWER,)})
    save_users(users_file, users.with_user("alice", entry))

    at.run()

    assert at.sidebar.caption[0].value == "viewer **Alice**"


def test_login_removed_user_is_logged_out(desk_state_dir: DeskState, users_file: Path) -> None:
    at = _log_in(_app(), "alice", PASSWORDS["alice"])
    save_users(users_file, load_users(users_file).without_user("alice"))

    at.run()

    assert not at.header
    assert "no longer in the users file" in at.error[0].value


def test_login_unreadable_users_file_says_so_without_its_secrets(
    desk_state_dir: DeskState, users_file: Path
) -> None:
    secret_key = load_users(users_file).cookie.key
    text = users_file.read_text().replace("- operator", "- admin")
    users_file.write_text(text)

    at = _app()

    assert at.error[0].value.startswith("Dashboard misconfigured: users file: ")
    assert "'admin'" in at.error[0].value
    assert secret_key not in at.error[0].value and "$2b$" not in at.error[0].value
    assert not at.text_input  # no login form on a broken file


@pytest.mark.parametrize("page", ["overview", "controls"])
def test_login_view_run_alone_without_a_login_shows_nothing(
    desk_state_dir: DeskState, users_file: Path, page: str
) -> None:
    at = run_page(page)

    assert not at.exception
    assert [w.value for w in at.warning] == ["Log in first: this dashboard requires a login."]
    assert not at.button and not at.dataframe
