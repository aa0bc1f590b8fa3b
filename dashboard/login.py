"""The login form, with streamlit-authenticator, when the launcher gives a users file.

``require_identity(settings)`` runs first on every URL (``app.py``): without a users file it
returns the local operator; with one it returns the logged-in user, or draws the login form
and stops the script, so no page is drawn for a visitor who has not logged in. A login is
kept across reloads by a cookie signed with the users file's cookie key (the library's
``Authenticate``); a wrong password is refused with one sentence that does not say whether
the user exists. Passwords are checked against the bcrypt hashes of the users file and are
never stored, shown or logged here.

The library gets the users file as a mapping (``UsersFile.authenticator_credentials``), not
its path: given a path it would rewrite the file on every login (login counters).
"""

from __future__ import annotations

import logging

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from dashboard.identity import (
    AUTH_STATUS_KEY,
    USERNAME_KEY,
    Identity,
    client_address,
    current_identity,
    read_users,
)
from dashboard.settings import DashboardSettings
from trading.errors import ConfigError

__all__ = ["LOGIN_FIELDS", "WRONG_LOGIN", "require_identity"]

logger = logging.getLogger(__name__)

LOGIN_FIELDS = {"Form name": "Log in to the trading desk", "Username": "User name", "Login": "Log in"}
WRONG_LOGIN = "Wrong user name or password."


def require_identity(settings: DashboardSettings) -> Identity:
    """Who is here. With a users file: the login form until someone logs in (``st.stop()``), and
    a logout button in the sidebar after."""
    if settings.users_file is None:
        identity = current_identity(settings)
        assert identity is not None  # without a users file there is always the local operator
        return identity
    try:
        users = read_users(settings.users_file)
    except (ConfigError, OSError) as exc:
        st.error(f"Dashboard misconfigured: users file: {getattr(exc, 'strerror', None) or exc}")
        st.stop()
    authenticator = stauth.Authenticate(
        users.authenticator_credentials(),
        users.cookie.name,
        users.cookie.key,
        users.cookie.expiry_days,
        auto_hash=False,  # the file holds hashes only (trading.users refuses anything else)
    )
    try:
        authenticator.login(location="main", fields=LOGIN_FIELDS, key="desk_login")
    except LoginError as exc:  # a login cookie of a user no longer in the file
        logger.warning("login refused: %s", exc)
        authenticator.cookie_controller.delete_cookie()
        st.error(f"Log in again: {exc}.")
        st.stop()
    if st.session_state.get(AUTH_STATUS_KEY) is False:
        logger.warning("wrong user name or password from %s", client_address() or "an unknown address")
        st.error(WRONG_LOGIN)
    identity = current_identity(settings)
    if identity is None:
        if st.session_state.get(AUTH_STATUS_KEY) is True:  # logged in, then removed from the users file
            logger.warning(
                "%s is no longer in the users file: logged out", st.session_state.get(USERNAME_KEY)
            )
            authenticator.logout(location="unrendered")
            st.error("Your user is no longer in the users file: logged out.")
        st.stop()
    authenticator.logout("Log out", location="sidebar", key="desk_logout")
    return identity
