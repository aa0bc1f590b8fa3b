"""The desk decides who commands it: a command row whose requester is not one of its operators
(a users file's operator, or without one the local operator) is refused, audited and does
nothing; the rows are written with our own SQL into the real desk.db, as a script would."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.unit.dashboard.conftest import write_users
from trading.desk import DeskOperators
from trading.desk.operators import local_operator_name
from trading.model import TradingState
from trading.storage import AuditRepository, CommandRepository
from trading.users import Role, load_users, save_users

NOT_LOCAL = "refused: requester 'mallory' is not this desk's local operator ('{me}'; without a users file no one else commands it)"


def _insert(desk, kind: str, args: dict[str, Any], requested_by: str, role: str | None = "operator") -> int:
    """A command row written around the dashboard: plain SQL on the desk's database file."""
    with closing(sqlite3.connect(desk.state_dir.database, timeout=10)) as conn, conn:
        cursor = conn.execute(
            "INSERT INTO commands (kind, args, requested_by, requester_role, status, result, created_at) "
            "VALUES (?, ?, ?, ?, 'pending', '', ?)",
            (kind, json.dumps(args), requested_by, role, datetime.now(UTC).isoformat()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def _run(desk, command_id: int) -> dict[str, Any]:
    desk.parts.commands.poll()
    row = CommandRepository(desk.parts.db).get(command_id)
    assert row is not None
    return row


def _audit(desk) -> list[tuple[str, str, str, str]]:
    assert desk.risk.flush()
    return [
        (a["action"], a["rule"], a["reason"], a["result"])
        for a in AuditRepository(desk.parts.db).recent(limit=20)
    ]


@pytest.fixture
def users(tmp_path: Path) -> Path:
    return write_users(tmp_path / "users.yaml")  # alice operator, bob viewer


async def test_operators_unknown_requester_row_is_refused_audited_and_does_nothing(make_desk):
    me = local_operator_name()
    desk = make_desk(operators=DeskOperators.local_operator())
    await desk.run_simulated(5)

    command_id = _insert(desk, "pause", {"reason": "let me trade later"}, "mallory")
    row = _run(desk, command_id)

    refusal = NOT_LOCAL.format(me=me)
    assert (row["status"], row["result"]) == ("failed", refusal)
    assert not desk.risk.paused and desk.risk.state is TradingState.ACTIVE
    assert _audit(desk)[0] == ("refused pause", "requester:mallory (operator)", "let me trade later", refusal)
    await desk.shutdown()


async def test_operators_local_operator_row_runs_without_a_users_file(make_desk):
    desk = make_desk(operators=DeskOperators.local_operator())
    await desk.run_simulated(5)

    row = _run(desk, _insert(desk, "pause", {"reason": "lunch"}, local_operator_name(), role=None))

    assert (row["status"], row["result"]) == ("done", "new entries paused")
    assert desk.risk.paused
    await desk.shutdown()


async def test_operators_users_file_viewer_and_stranger_refused_operator_runs(make_desk, users):
    desk = make_desk(operators=DeskOperators(users_file=users))
    await desk.run_simulated(5)

    viewer = _run(desk, _insert(desk, "flatten_all", {"reason": "x"}, "bob", role="operator"))
    stranger = _run(desk, _insert(desk, "pause", {"reason": "y"}, local_operator_name()))
    operator = _run(desk, _insert(desk, "pause", {"reason": "news"}, "alice"))

    assert (viewer["status"], viewer["result"]) == (
        "failed",
        f"refused: requester 'bob' is a viewer in {users}, not an operator",  # the row's claimed role ignored
    )
    assert (
        stranger["result"]
        == f"refused: requester {local_operator_name()!r} is not a user in {users}, not an operator"
    )
    assert (operator["status"], operator["result"]) == ("done", "new entries paused")
    assert [a[:2] for a in _audit(desk)[:3]] == [
        ("pause", "operator:alice"),
        ("refused pause", f"requester:{local_operator_name()} (operator)"),
        ("refused flatten_all", "requester:bob (operator)"),
    ]
    await desk.shutdown()


async def test_operators_users_file_change_counts_from_the_next_command(make_desk, users):
    desk = make_desk(operators=DeskOperators(users_file=users))
    await desk.run_simulated(5)
    assert _run(desk, _insert(desk, "pause", {"reason": "a"}, "bob"))["status"] == "failed"

    file = load_users(users)
    promoted = file.users["bob"].model_copy(update={"roles": (Role.OPERATOR,)})
    save_users(users, file.with_user("bob", promoted))

    assert _run(desk, _insert(desk, "pause", {"reason": "b"}, "bob"))["status"] == "done"
    await desk.shutdown()


async def test_operators_unreadable_users_file_refuses_every_command(make_desk, users):
    desk = make_desk(operators=DeskOperators(users_file=users))
    await desk.run_simulated(5)
    users.write_text("credentials: [\n")

    row = _run(desk, _insert(desk, "pause", {"reason": "a"}, "alice"))

    assert row["status"] == "failed" and row["result"].startswith(
        f"refused: the users file {users} cannot be read ("
    )
    assert not desk.risk.paused
    await desk.shutdown()


def test_operators_without_users_file_or_name_is_a_bug():
    with pytest.raises(ValueError, match="needs a users file or a local operator name"):
        DeskOperators()
