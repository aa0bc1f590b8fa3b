"""Who is at the dashboard, with which role: the one place a command's requester comes from.

Two cases, chosen by the launcher:

- **A users file** (``--users FILE``, passed as ``DASHBOARD_USERS_FILE``): every visitor logs
  in (``dashboard.login``, streamlit-authenticator). The login name is recorded with every
  command; the role is read from the users file as it is *now*, on every run, so a role
  changed or a user removed with ``scripts/desk_users.py`` applies at the next refresh.
- **No users file** (allowed on a loopback address only: the launcher refuses any other):
  the local operator, the launcher's ``--operator NAME`` else the OS user, with the operator
  role.

The client's address is ``st.context.ip_address``, ``localhost`` for a browser on this machine
(Streamlit gives no address for 127.0.0.1 and ::1). When the connection comes from this
machine (a reverse proxy) and carries ``X-Forwarded-For``, the last address in it (the one the
proxy saw) is recorded as ``<client> via localhost``; from any other peer the header is
ignored (anyone can send it). Outside a browser session (AppTest) there is no address.
"""

from __future__ import annotations

import getpass
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard.settings import DashboardSettings
from trading.commands import Requester
from trading.users import Role, UsersFile, load_users

__all__ = [
    "AUTH_STATUS_KEY",
    "USERNAME_KEY",
    "Identity",
    "client_address",
    "current_identity",
    "local_identity",
    "login_identity",
    "read_users",
]

LOCALHOST = "localhost"  # the address recorded for a browser on this machine (Streamlit gives none)
# streamlit-authenticator's session keys: True once logged in (False after a wrong password), the login name
AUTH_STATUS_KEY = "authentication_status"
USERNAME_KEY = "username"


@dataclass(frozen=True, slots=True)
class Identity:
    name: str  # recorded as the command's requested_by: the login name, or the local operator's
    role: Role
    source: str  # where the name came from, in words: "login", "launcher --operator" or "OS user"
    display: str  # the name the sidebar shows
    address: str | None = None  # the browser's address, where Streamlit exposes it

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    def requester(self) -> Requester:
        return Requester(name=self.name, role=self.role, address=self.address)


def local_identity(settings: DashboardSettings, address: str | None = None) -> Identity:
    """Without a login: the launcher's ``--operator``, else the OS user (``"unknown"`` when the
    OS has no name), as operator."""
    if settings.operator:
        return Identity(settings.operator, Role.OPERATOR, "launcher --operator", settings.operator, address)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (some containers) and no LOGNAME
        user = "unknown"
    return Identity(user, Role.OPERATOR, "OS user", user, address)


def login_identity(users: UsersFile, username: str | None, address: str | None = None) -> Identity | None:
    """The logged-in user with their role in ``users`` now; None when the file no longer holds them."""
    entry = users.users.get(username or "")
    if username is None or entry is None:
        return None
    return Identity(username, entry.role, "login", entry.name, address)


def current_identity(settings: DashboardSettings) -> Identity | None:
    """Who this session is; None when a login is required and nobody (or a removed user) is
    logged in. ``ConfigError`` when the users file cannot be read."""
    address = client_address()
    if settings.users_file is None:
        return local_identity(settings, address)
    if st.session_state.get(AUTH_STATUS_KEY) is not True:
        return None
    return login_identity(read_users(settings.users_file), st.session_state.get(USERNAME_KEY), address)


def read_users(path: Path) -> UsersFile:
    """The users file, read again only when it changed (its modification time or size)."""
    info = os.stat(path)
    return _users(str(path), info.st_mtime_ns, info.st_size)


@st.cache_resource(show_spinner=False, max_entries=4)
def _users(path: str, mtime_ns: int, size: int) -> UsersFile:
    return load_users(path)


def client_address() -> str | None:
    """The browser's address (see the module docstring); None outside a browser session."""
    headers = st.context.headers
    if not headers:  # no browser session (AppTest, a bare script run)
        return None
    # Streamlit answers None for a connection from 127.0.0.1 or ::1
    peer = _plain(st.context.ip_address) or LOCALHOST
    if peer == LOCALHOST or ipaddress.ip_address(peer).is_loopback:
        forwarded = _plain((headers.get("X-Forwarded-For") or "").split(",")[-1].strip())
        if forwarded is not None:
            return f"{forwarded} via {peer}"
    return peer


def _plain(address: str | None) -> str | None:
    """``::ffff:10.0.0.5`` -> ``10.0.0.5``; None for anything that is not an IP address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)
