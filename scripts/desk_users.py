#!/usr/bin/env python3
"""Create and edit the desk's users file: who may log in to the dashboard, as viewer or operator.

    python scripts/desk_users.py --users FILE add NAME --role operator [--name "Alice Smith"]
    python scripts/desk_users.py --users FILE passwd NAME
    python scripts/desk_users.py --users FILE role NAME viewer
    python scripts/desk_users.py --users FILE remove NAME
    python scripts/desk_users.py --users FILE list
    python scripts/desk_users.py --users FILE new-cookie-key

A password is never an argument (it would stay in the shell history and in ``ps``): ``add``
and ``passwd`` ask for it twice on a terminal, or read one line from standard input when it is
not one (``... add alice --role operator < secret.txt``). It is stored as a bcrypt hash only;
nothing here prints or logs it. The file is created with a random cookie key (it signs the
login cookie) and written atomically with mode 0600. ``new-cookie-key`` replaces that key:
every browser must log in again.

Start the dashboard with it: ``python scripts/run_live_dashboard.py --users FILE``. The desk
reads the same file to know who may send it commands (operators only).

Exit codes: 0 done, 2 bad input (one line on stderr, the password never in it).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: make `trading` importable
    sys.path.insert(0, str(REPO_ROOT))

import bcrypt  # noqa: E402

from trading.errors import ConfigError  # noqa: E402
from trading.users import Role, UserEntry, UsersFile, load_users, save_users  # noqa: E402

__all__ = ["MAX_PASSWORD_BYTES", "MIN_PASSWORD", "hash_password", "main"]

PROG = "desk_users.py"
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 refuses a longer one)


def check_password(password: str) -> None:
    """``ConfigError`` (never showing the password) when it cannot be used."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is too short: at least {MIN_PASSWORD} characters", field="password")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ConfigError(
            f"the password is too long: at most {MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest)",
            field="password",
        )
    if password != password.strip():
        raise ConfigError(
            "the password starts or ends with a space: the login form strips it, so it could never match",
            field="password",
        )
    if not password.isprintable():
        raise ConfigError("the password holds a control character", field="password")


def hash_password(password: str, *, rounds: int = 12) -> str:
    """The bcrypt hash of a checked password (streamlit-authenticator verifies it with bcrypt)."""
    check_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def read_password(stdin: TextIO) -> str:
    """Twice from the terminal, or one line from a non-terminal standard input."""
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise ConfigError("the two passwords differ: nothing changed", field="password")
        return first
    line = stdin.readline()
    if not line:
        raise ConfigError("no password on standard input: nothing changed", field="password")
    return line.removesuffix("\n").removesuffix("\r")


def _load(path: Path, *, create: bool) -> UsersFile:
    if create and not path.exists():
        return UsersFile.new()
    return load_users(path)


def _entry(users: UsersFile, username: str) -> UserEntry:
    entry = users.users.get(username)
    if entry is None:
        raise ConfigError(f"no user {username!r} in the users file", field="username", value=username)
    return entry


def run(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    path: Path = args.users
    if args.command == "list":
        users = load_users(path)
        for username, entry in sorted(users.users.items()):
            out.write(f"{username}\t{entry.role.value}\t{entry.name}\n")
        return
    users = _load(path, create=args.command == "add")
    if args.command == "add":
        if args.username in users.users:
            raise ConfigError(
                f"user {args.username!r} already exists: change the password with passwd, the role with role",
                field="username",
                value=args.username,
            )
        entry = UserEntry(
            name=args.name or args.username,
            password=hash_password(read_password(stdin), rounds=args.rounds),
            roles=(Role(args.role),),
        )
        users = users.with_user(args.username, entry)
        done = f"added {args.username} ({args.role})"
    elif args.command == "passwd":
        entry = _entry(users, args.username)
        hashed = hash_password(read_password(stdin), rounds=args.rounds)
        users = users.with_user(args.username, entry.model_copy(update={"password": hashed}))
        done = f"password of {args.username} changed"
    elif args.command == "role":
        entry = _entry(users, args.username)
        users = users.with_user(args.username, entry.model_copy(update={"roles": (Role(args.role),)}))
        done = f"{args.username} is now {args.role}"
    elif args.command == "remove":
        users = users.without_user(args.username)
        done = f"removed {args.username}"
    else:  # new-cookie-key
        users = users.model_copy(
            update={"cookie": users.cookie.model_copy(update={"key": users.cookie.new_key()})}
        )
        done = "new cookie key: every browser logs in again"
    save_users(path, users)
    out.write(f"{done} in {path}\n")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2
        self.exit(2, f"{PROG}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Create and edit the desk's users file (dashboard logins and roles).")
    p.add_argument("--users", type=Path, required=True, help="the users file (created by the first add)")
    p.add_argument("--rounds", type=int, default=12, choices=range(4, 17), help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    roles = [r.value for r in Role]
    add = sub.add_parser("add", help="add a user; the password is asked for (or read from stdin)")
    add.add_argument("username", help="login name: lower case letters, digits, '_', '.', '@', '-'")
    add.add_argument("--role", required=True, choices=roles, help="viewer: read-only; operator: the controls")
    add.add_argument("--name", help="the name the dashboard shows (default: the login name)")
    passwd = sub.add_parser("passwd", help="change a user's password (asked for, or read from stdin)")
    passwd.add_argument("username")
    role = sub.add_parser("role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=roles)
    remove = sub.add_parser("remove", help="remove a user")
    remove.add_argument("username")
    sub.add_parser("list", help="list the users: name, role, display name (never a password)")
    sub.add_parser("new-cookie-key", help="replace the cookie key: every browser logs in again")
    return p


def main(argv: list[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args, stdin or sys.stdin, out or sys.stdout)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: error: {args.users}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):  # Ctrl-C or Ctrl-D at the password prompt
        print(f"\n{PROG}: cancelled: nothing changed", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
