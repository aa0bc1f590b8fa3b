"""CommandRepository: the requester's role and address on each row; schema migration 3 adds them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from trading.storage import CommandRepository, Database
from trading.storage._schema import SCHEMA_VERSION


def test_command_repository_submit_records_role_and_address(db: Database) -> None:
    repo = CommandRepository(db)

    command_id = repo.submit("pause", {"reason": "lunch"}, "alice", role="operator", address="10.0.0.5")

    row = repo.get(command_id)
    assert row is not None
    assert (row["requested_by"], row["requester_role"], row["requester_address"]) == (
        "alice",
        "operator",
        "10.0.0.5",
    )


def test_command_repository_submit_without_role_records_none(db: Database) -> None:
    repo = CommandRepository(db)

    row = repo.get(repo.submit("pause", {}, "script"))

    assert row is not None
    assert (row["requester_role"], row["requester_address"]) == (None, None)


def test_schema_migration_3_adds_requester_columns_to_a_version_2_file(db_path: Path) -> None:
    # Arrange: a version-2 file (no requester columns) holding a pending command
    Database(db_path).close()
    with sqlite3.connect(db_path) as raw:
        for statement in (
            "ALTER TABLE commands DROP COLUMN requester_role",
            "ALTER TABLE commands DROP COLUMN requester_address",
            "DELETE FROM schema_version WHERE version >= 3",
            "INSERT INTO commands (kind, args, requested_by, status, result, created_at) VALUES "
            "('pause', '{}', 'bob', 'pending', '', '2026-01-05T14:30:00.000000+00:00')",
        ):
            raw.execute(statement)
    raw.close()

    # Act
    with Database(db_path) as db:
        version = db.schema_version()
        repo = CommandRepository(db)
        (old,) = repo.pending()
        new = repo.get(repo.submit("resume", {}, "alice", role="operator"))

    # Assert
    assert version == SCHEMA_VERSION
    assert (old["requested_by"], old["requester_role"], old["requester_address"]) == ("bob", None, None)
    assert new is not None and new["requester_role"] == "operator"
