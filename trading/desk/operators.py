"""DeskOperators: who may send the desk commands, decided by the desk itself.

A ``commands`` row names its requester (``requested_by``); the role and address beside it
are whatever the writer claimed, so the desk never trusts them. It checks the name against
its own list:

- with a users file (``scripts/run_executor.py --users FILE``, the file the dashboard logs in
  with): a user of that file whose role is ``operator``. The file is read again when it
  changes (its modification time or size), so a user added, demoted or removed counts from
  the next command on; a file that cannot be read refuses every command (fail closed).
- without one (a desk on this machine, its dashboard on loopback with no login): the local
  operator only, the name the dashboard records without a login (the launcher's
  ``--operator``, else the OS user running the desk).

So a row written around the dashboard (a script, a hand-typed INSERT) with any other name
does nothing: the processor marks it failed with the refusal, logs it and audits it.
"""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from trading.errors import ConfigError
from trading.users import Role, UsersFile, load_users

__all__ = ["DeskOperators", "local_operator_name"]

logger = logging.getLogger(__name__)


def local_operator_name(name: str | None = None) -> str:
    """``name`` when given, else the OS user (``"unknown"`` when the OS has none), as the
    dashboard names its local operator."""
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (some containers) and no LOGNAME
        return "unknown"


class DeskOperators:
    """``refusal(name)``: why ``name`` may not command this desk, or None when it may."""

    def __init__(self, *, users_file: str | Path | None = None, local: Iterable[str] = ()) -> None:
        self.users_file = None if users_file is None else Path(users_file)
        self.local = frozenset(local)
        if self.users_file is None and not self.local:
            raise ValueError("DeskOperators needs a users file or a local operator name")
        self._users: UsersFile | None = None
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the file read
        self.refused = 0

    @classmethod
    def local_operator(cls, name: str | None = None) -> DeskOperators:
        """No users file: only the local operator (``name``, else the OS user)."""
        return cls(local=[local_operator_name(name)])

    def refusal(self, name: str) -> str | None:
        if self.users_file is None:
            if name in self.local:
                return None
            return self._refused(
                f"requester {name!r} is not this desk's local operator "
                f"({', '.join(repr(n) for n in sorted(self.local))}; without a users file no one else "
                "commands it)"
            )
        try:
            users = self._read()
        except (ConfigError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            return self._refused(f"the users file {self.users_file} cannot be read ({reason})")
        role = users.role_of(name)
        if role is Role.OPERATOR:
            return None
        what = "not a user" if role is None else f"a {role.value}"
        return self._refused(f"requester {name!r} is {what} in {self.users_file}, not an operator")

    def _refused(self, reason: str) -> str:
        self.refused += 1
        return f"refused: {reason}"

    def _read(self) -> UsersFile:
        assert self.users_file is not None
        info = os.stat(self.users_file)
        seen = (info.st_mtime_ns, info.st_size)
        if self._users is None or seen != self._seen:
            self._users = load_users(self.users_file)
            self._seen = seen
            operators = ", ".join(self._users.operators()) or "none"
            logger.info("users file %s read: operators %s", self.users_file, operators)
        return self._users

    def __repr__(self) -> str:
        source = f"users_file={str(self.users_file)!r}" if self.users_file else f"local={sorted(self.local)}"
        return f"DeskOperators({source}, refused={self.refused})"
