"""scripts/desk_users.py: users with roles, passwords asked for (terminal) or read from stdin,
stored as bcrypt hashes only, never printed; bad input exits 2 with one line."""

from __future__ import annotations

import getpass
import os
import select
import stat
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import bcrypt
import pytest

import scripts.desk_users as desk_users
from trading.users import Role, load_users

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "desk_users.py"
PASSWORD = "Tr4der-secret!"


def _run(users: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--users", str(users), "--rounds", "4", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_desk_users_add_from_stdin_stores_a_bcrypt_hash_only(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"

    done = _run(users, "add", "alice", "--role", "operator", "--name", "Alice Smith", stdin=PASSWORD + "\n")

    assert (done.returncode, done.stdout, done.stderr) == (0, f"added alice (operator) in {users}\n", "")
    text = users.read_text()
    assert PASSWORD not in text
    entry = load_users(users).users["alice"]
    assert (entry.name, entry.role) == ("Alice Smith", Role.OPERATOR)
    assert bcrypt.checkpw(PASSWORD.encode(), entry.password.encode())
    assert stat.S_IMODE(os.stat(users).st_mode) == 0o600


def test_desk_users_add_at_a_terminal_asks_twice_and_never_echoes(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "--users",
            str(users),
            "--rounds",
            "4",
            "add",
            "bob",
            "--role",
            "viewer",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,  # no controlling terminal: getpass turns echo off on stdin itself
    )
    os.close(slave)
    screen = b""
    try:
        for prompt in (b"password: ", b"again: "):
            deadline = time.monotonic() + 30
            while prompt not in screen and time.monotonic() < deadline:
                if select.select([master], [], [], 0.5)[0]:
                    screen += os.read(master, 1024)
            assert prompt in screen, screen
            os.write(master, PASSWORD.encode() + b"\n")
            screen = screen.replace(prompt, b"", 1)
        assert proc.wait(timeout=30) == 0
        while select.select([master], [], [], 0.2)[0]:
            try:
                screen += os.read(master, 1024)
            except OSError:  # the terminal closed with the process
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()

    assert PASSWORD.encode() not in screen  # typed, never echoed
    assert load_users(users).role_of("bob") is Role.VIEWER


def test_desk_users_two_different_passwords_at_the_terminal_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))

    code = desk_users.main(
        ["--users", str(tmp_path / "users.yaml"), "add", "carol", "--role", "viewer"], stdin=Terminal()
    )

    assert code == 2
    assert not (tmp_path / "users.yaml").exists()


def test_desk_users_password_on_the_command_line_is_refused(tmp_path: Path) -> None:
    done = _run(tmp_path / "users.yaml", "add", "alice", "--role", "operator", "--password", PASSWORD)

    assert done.returncode == 2
    assert done.stderr.startswith("desk_users.py: error: unrecognized arguments: --password")
    assert not (tmp_path / "users.yaml").exists()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Qz9#k", "too short: at least 8 characters"),
        ("x" * 73, "too long: at most 72 bytes"),
        (" leading-space", "starts or ends with a space"),
    ],
)
def test_desk_users_unusable_password_exits_2_without_showing_it(
    tmp_path: Path, password: str, reason: str
) -> None:
    done = _run(tmp_path / "users.yaml", "add", "alice", "--role", "operator", stdin=password + "\n")

    assert done.returncode == 2
    assert reason in done.stderr
    assert password.strip() not in done.stderr + done.stdout
    assert len(done.stderr.splitlines()) == 1


def test_desk_users_role_passwd_remove_list(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    _run(users, "add", "alice", "--role", "operator", stdin=PASSWORD + "\n")
    _run(users, "add", "bob", "--role", "operator", stdin=PASSWORD + "\n")
    key = load_users(users).cookie.key

    role = _run(users, "role", "bob", "viewer")
    passwd = _run(users, "passwd", "alice", stdin="Another-pass1\n")
    removed = _run(users, "remove", "bob")
    listed = _run(users, "list")
    rotated = _run(users, "new-cookie-key")

    assert [p.returncode for p in (role, passwd, removed, listed, rotated)] == [0, 0, 0, 0, 0]
    assert role.stdout == f"bob is now viewer in {users}\n"
    assert listed.stdout == "alice\toperator\talice\n"
    final = load_users(users)
    assert bcrypt.checkpw(b"Another-pass1", final.users["alice"].password.encode())
    assert final.cookie.key != key
    assert key not in rotated.stdout


def test_desk_users_existing_user_add_and_unknown_user_refused(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    _run(users, "add", "alice", "--role", "operator", stdin=PASSWORD + "\n")

    again = _run(users, "add", "alice", "--role", "viewer", stdin=PASSWORD + "\n")
    unknown = _run(users, "role", "zed", "viewer")
    upper = _run(users, "add", "Bob", "--role", "viewer", stdin=PASSWORD + "\n")

    assert again.returncode == unknown.returncode == upper.returncode == 2
    assert "user 'alice' already exists" in again.stderr
    assert "no user 'zed' in the users file" in unknown.stderr
    assert "user name 'Bob': 1-64 characters, lower case" in upper.stderr
    assert load_users(users).role_of("alice") is Role.OPERATOR
