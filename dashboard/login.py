"""The login, with streamlit-authenticator, when the launcher gives a users file.

``app.py`` runs a ``LoginGate`` on every URL, in two steps around ``st.navigation``:

1. ``restore()`` draws nothing: who is here, if anyone (the local operator without a users
   file; else a login this session made, or one its cookie carries);
2. ``require(identity)`` draws the login form and stops the script while nobody is logged in,
   so no page is drawn for a visitor; once someone is, a logout button in the sidebar.

``st.navigation`` runs between the two (its menu hidden until a login), so a deep link such as
``/controls`` survives the login. The library's pause before the form (0.7 s, meant for an old
way of reading cookies) is off: it delays ``st.navigation`` past the moment Streamlit keeps the
requested page, and a deep link would land on the Overview.

A login is kept across reloads by a cookie signed with the users file's cookie key. It is set
by a browser component during a script run, so after a login or a logout the gate reruns the
script at once (the menu then appears or goes) and sets or deletes the cookie again in that
run. A wrong password is refused with one sentence that does not say whether the user exists;
the attempt is logged without the name typed (it may be a password typed in the wrong box).
Passwords are checked against the bcrypt hashes of the users file and are never stored, shown
or logged here.

The library gets the users file as a mapping (``UsersFile.authenticator_credentials``), not its
path: given a path it would rewrite the file on every login (login counters).
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

__all__ = ["LOGIN_FIELDS", "WRONG_LOGIN", "LoginGate"]

logger = logging.getLogger(__name__)

LOGIN_FIELDS = {"Form name": "Log in to the trading desk", "Username": "User name", "Login": "Log in"}
WRONG_LOGIN = "Wrong user name or password."
FRESH_LOGIN_KEY = "desk_login_fresh"  # set by the run that logged in: the next run sets the cookie again
LOGGED_OUT_KEY = "desk_logged_out"  # set by the run that logged out: the next run deletes the cookie again


class LoginGate:
    """The login of one script run; see the module docstring."""

    def __init__(self, settings: DashboardSettings) -> None:
        self._settings = settings
        self._authenticator: stauth.Authenticate | None = None
        if settings.users_file is None:
            return
        try:
            users = read_users(settings.users_file)
        except (ConfigError, OSError) as exc:
            st.error(f"Dashboard misconfigured: users file: {getattr(exc, 'strerror', None) or exc}")
            st.stop()
        self._authenticator = stauth.Authenticate(
            users.authenticator_credentials(),
            users.cookie.name,
            users.cookie.key,
            users.cookie.expiry_days,
            auto_hash=False,  # the file holds hashes only (trading.users refuses anything else)
            login_sleep_time=0,
        )
        # Where the cookie is set after a login: a container drawn on every run, so the page
        # below keeps its place when the cookie's component is in it for one run (a page that
        # moves down by an element, then back, shows two copies of itself while it reruns).
        self._cookie_slot = st.container()

    def restore(self) -> Identity | None:
        """Who is here, drawing nothing: the local operator without a users file; else the user
        this session or its login cookie logged in, with their role in the users file now."""
        auth = self._authenticator
        if auth is not None:
            try:
                auth.login(location="unrendered")  # a login cookie logs this session in
            except LoginError as exc:  # a cookie of a user no longer in the users file
                logger.warning("login cookie refused: %s", exc)
                auth.cookie_controller.delete_cookie()
                st.error(f"Log in again: {exc}.")
        try:
            return current_identity(self._settings)
        except (ConfigError, OSError) as exc:  # the users file changed into one that does not read
            st.error(f"Dashboard misconfigured: users file: {getattr(exc, 'strerror', None) or exc}")
            st.stop()

    def require(self, identity: Identity | None) -> Identity:
        """``identity`` (from ``restore``) with a logout button in the sidebar; without one, the
        login form, and the script stops there."""
        auth = self._authenticator
        if auth is None:
            assert identity is not None  # without a users file there is always the local operator
            return identity
        if identity is not None:
            return self._logged_in(auth, identity)
        if st.session_state.get(AUTH_STATUS_KEY) is True:  # logged in, then removed from the users file
            logger.warning(
                "%s is no longer in the users file: logged out", st.session_state.get(USERNAME_KEY)
            )
            auth.logout(location="unrendered")
            st.error("Your user is no longer in the users file: logged out.")
        if st.session_state.pop(LOGGED_OUT_KEY, False):
            auth.cookie_controller.delete_cookie()
        auth.login(location="main", fields=LOGIN_FIELDS, key="desk_login")
        if st.session_state.get(AUTH_STATUS_KEY) is False:
            logger.warning("wrong user name or password from %s", client_address() or "an unknown address")
            st.error(WRONG_LOGIN)
        elif current_identity(self._settings) is not None:  # logged in just now
            st.session_state[FRESH_LOGIN_KEY] = True
            st.rerun()
        st.stop()

    def _logged_in(self, auth: stauth.Authenticate, identity: Identity) -> Identity:
        if st.session_state.pop(FRESH_LOGIN_KEY, False):
            with self._cookie_slot:
                auth.cookie_controller.set_cookie()
        auth.logout("Log out", location="sidebar", key="desk_logout")
        if st.session_state.get(AUTH_STATUS_KEY) is not True:  # "Log out" was clicked in this run
            st.session_state[LOGGED_OUT_KEY] = True
            st.rerun()
        return identity
