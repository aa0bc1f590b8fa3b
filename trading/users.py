"""The desk's users file: who may log in to the dashboard, with which role, and its login cookie.

The format is streamlit-authenticator's credentials file, so the dashboard hands it to that
library as it is, and the desk reads the same file to know who may send it commands::

    credentials:
      usernames:
        alice:                      # the login name: lower case, recorded with every command
          name: Alice Smith         # shown in the sidebar
          password: $2b$12$...      # a bcrypt hash (scripts/desk_users.py writes it)
          roles: [operator]         # exactly one of: viewer, operator
    cookie:
      name: trading_desk_auth       # the browser cookie that keeps a login across reloads
      key: ...                      # the key that signs that cookie: random, 32+ characters
      expiry_days: 1

Passwords are stored only as bcrypt hashes: a value that is not one is refused. The file holds
two secrets (the hashes and the cookie key), so no error message ever shows a value of
``password`` or ``key``, and ``__repr__`` shows neither. ``scripts/desk_users.py`` creates and
edits the file (mode 0600, written atomically).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trading._yaml import format_validation_error, read_yaml_mapping
from trading.config_types import Number
from trading.errors import ConfigError

__all__ = [
    "BCRYPT_HASH",
    "USERNAME",
    "LoginCookie",
    "Role",
    "UserEntry",
    "UsersFile",
    "load_users",
    "save_users",
]

# bcrypt's modular crypt format: $2a$/$2b$/$2y$, a two-digit cost, 53 characters of salt and hash
BCRYPT_HASH = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,63}$")
_SECRET_FIELDS = frozenset({"password", "key"})
HEADER = (
    "# The desk's users: who may log in to the dashboard, and with which role (viewer or operator).\n"
    "# Written by scripts/desk_users.py; passwords are bcrypt hashes. Keep this file private (mode 0600):\n"
    "# its cookie key signs every login.\n"
)


class Role(StrEnum):
    """``viewer`` sees every page, read-only; ``operator`` also sends the desk its commands."""

    VIEWER = "viewer"
    OPERATOR = "operator"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class UserEntry(_Frozen):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    password: str = Field(repr=False)
    roles: tuple[Role, ...] = Field(min_length=1, max_length=1)
    email: str | None = Field(default=None, max_length=254)

    @field_validator("password")
    @classmethod
    def _bcrypt_only(cls, value: str) -> str:
        if not BCRYPT_HASH.match(value):
            raise ValueError(
                "a bcrypt hash ($2b$...); a plain-text password is never accepted: "
                "set it with scripts/desk_users.py"
            )
        return value

    @property
    def role(self) -> Role:
        return self.roles[0]


class LoginCookie(_Frozen):
    name: str = Field(default="trading_desk_auth", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    key: str = Field(min_length=32, max_length=256, repr=False)
    expiry_days: Number = Field(default=1.0, gt=0, le=30)

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)


class _Credentials(_Frozen):
    usernames: dict[str, UserEntry] = Field(default_factory=dict)

    @field_validator("usernames")
    @classmethod
    def _lower_case_names(cls, value: dict[str, UserEntry]) -> dict[str, UserEntry]:
        for username in value:
            if not USERNAME.match(username):
                raise ValueError(
                    f"user name {username!r}: 1-64 characters, lower case letters, digits, '_', '.', '@', "
                    "'-', starting with a letter or digit"
                )
        return value


class UsersFile(_Frozen):
    credentials: _Credentials = Field(default_factory=_Credentials)
    cookie: LoginCookie

    @classmethod
    def new(cls) -> UsersFile:
        """An empty file with a fresh cookie key."""
        return cls(cookie=LoginCookie(key=LoginCookie.new_key()))

    @property
    def users(self) -> dict[str, UserEntry]:
        return self.credentials.usernames

    def role_of(self, username: str | None) -> Role | None:
        """The user's role; None for a name the file does not hold."""
        entry = self.users.get(username or "")
        return None if entry is None else entry.role

    def operators(self) -> tuple[str, ...]:
        return tuple(sorted(u for u, entry in self.users.items() if entry.role is Role.OPERATOR))

    def with_user(self, username: str, entry: UserEntry) -> UsersFile:
        if not USERNAME.match(username):
            raise ConfigError(
                f"user name {username!r}: 1-64 characters, lower case letters, digits, '_', '.', '@', '-', "
                "starting with a letter or digit",
                field="username",
                value=username,
            )
        users = {**self.users, username: entry}
        return self.model_copy(update={"credentials": _Credentials(usernames=users)})

    def without_user(self, username: str) -> UsersFile:
        if username not in self.users:
            raise ConfigError(f"no user {username!r} in the users file", field="username", value=username)
        users = {u: e for u, e in self.users.items() if u != username}
        return self.model_copy(update={"credentials": _Credentials(usernames=users)})

    def authenticator_credentials(self) -> dict[str, Any]:
        """A fresh, mutable copy of the ``credentials`` mapping in the shape streamlit-authenticator
        takes (it writes login counters into the mapping it is given)."""
        return {
            "usernames": {
                username: {"name": e.name, "password": e.password, "roles": [e.role.value]}
                | ({"email": e.email} if e.email else {})
                for username, e in self.users.items()
            }
        }

    def __repr__(self) -> str:
        return f"UsersFile(users={sorted(self.users)}, operators={list(self.operators())})"


def load_users(path: str | Path) -> UsersFile:
    """The users file at ``path``; ``ConfigError`` with one line naming the file and the field,
    and never the value of a password or the cookie key."""
    path = Path(path)
    data = read_yaml_mapping(path)
    try:
        return UsersFile.model_validate(data)
    except ValidationError as exc:
        raise _error(path, exc) from None


def _error(path: Path, exc: ValidationError) -> ConfigError:
    """The loader's one line, without the value when it could be a secret: a password or the
    cookie key, a misspelt key (its value may be a password) or a whole section."""
    errors = exc.errors(include_url=False, include_input=False)
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    first = unknown[0] if unknown else errors[0]  # the error format_validation_error names
    if not any(str(part) in _SECRET_FIELDS for part in first["loc"]):
        named = format_validation_error(path, exc, UsersFile)
        return ConfigError(str(named), path=path, field=named.field, allowed=named.allowed)
    field = ".".join(str(part) for part in first["loc"])
    allowed = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        allowed = "a value (this field is required)"
    elif first["type"] == "string_too_short":
        allowed = "text of at least 32 characters (scripts/desk_users.py writes a random one)"
    more = len(errors) - 1
    return ConfigError(
        f"{path}: field {field!r}: bad value (not shown: a secret): allowed {allowed}"
        + (f" (and {more} more error{'s' if more > 1 else ''})" if more else ""),
        path=path,
        field=field,
        allowed=allowed,
    )


def save_users(path: str | Path, users: UsersFile) -> Path:
    """Write ``users`` to ``path`` atomically (a temporary file in the same folder, mode 0600,
    then ``os.replace``), so a reader never sees half a file nor a moment of wider permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "credentials": users.authenticator_credentials(),
        "cookie": {
            "name": users.cookie.name,
            "key": users.cookie.key,
            "expiry_days": users.cookie.expiry_days,
        },
    }
    text = HEADER + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
