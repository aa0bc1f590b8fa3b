"""Do the state directory's database and state file belong together? Asked before a desk
writes anything, by the desk itself and by ``check_desk`` (so ``--check``, the launcher and the
desk refuse with the same line).

The database (``desk.db``) holds the books: the journal's account row, positions, orders and
fills. The state file (``state.pkl``) holds the snapshot the desk publishes for the dashboard.
A desk that finds one without the other would start a fresh account at the configured balance
over the old one, without a word (issue 11), so it refuses, exit 2 (``InconsistentStateError``):

- the database is missing or has no account books, while the state file holds a snapshot;
- the database holds this account's books, while the state file is missing;
- the database holds the books of an account of another name than ``account.name`` (the
  journal's positions are per symbol only: a renamed account would take them over).

``scripts/run_executor.py --new-account`` starts a fresh account on purpose: it moves the old
files into ``<state>/archive-<UTC time>/`` (``archive_state_files``), never deleting them.

A fresh desk writes an empty state file *before* it commits its first account row, so a desk
killed between the two leaves a pair that passes this check (an empty state file holds no
snapshot: it is not an account).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from trading.desk._publisher import ACCOUNT_KEY
from trading.desk._statedir import DeskLock
from trading.errors import InconsistentStateError, StateError
from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY
from trading.state_dir import StateDir
from trading.storage import Database, JournalReader, KeyValueRepository

__all__ = ["NEW_ACCOUNT_COMMAND", "StoredBooks", "archive_state_files", "check_books_pair"]

logger = logging.getLogger(__name__)

NEW_ACCOUNT_COMMAND = "scripts/run_executor.py --new-account"


@dataclass(frozen=True, slots=True)
class StoredBooks:
    """What the state directory holds, as far as the pair check cares."""

    accounts: tuple[str, ...]  # names with an account row in the journal
    version_1_account: bool  # a version-1 account blob (imported once by the desk)
    state_file: bool  # the state file exists
    snapshot: bool  # the state file holds a published snapshot (or cannot be read: assumed so)

    def has_books(self, account: str) -> bool:
        return account in self.accounts or (not self.accounts and self.version_1_account)

    @classmethod
    def read(cls, layout: StateDir, account: str) -> StoredBooks:
        accounts: tuple[str, ...] = ()
        version_1 = False
        if layout.database.exists():
            db = Database(layout.database)
            try:
                accounts = tuple(JournalReader(db, account=account).account_names())
                version_1 = KeyValueRepository(db).get(ACCOUNT_KEY) is not None
            finally:
                db.close()
        exists = layout.state_file.exists()
        return cls(accounts, version_1, exists, exists and _holds_snapshot(layout.state_file))


def _holds_snapshot(path: Path) -> bool:
    state = StateManager(path, load=False)
    try:
        state.load()
    except StateError as exc:  # unreadable: it may well hold the old account, so assume it does
        logger.warning("state file %s cannot be read (%s): taken as holding a snapshot", path, exc)
        return True
    finally:
        state.close()
    return SNAPSHOT_KEY in state


def check_books_pair(layout: StateDir, account: str) -> StoredBooks:
    """Raise ``InconsistentStateError`` (one line naming both files and the command that starts
    a fresh account on purpose) when the database and the state file do not belong together;
    else return what was found."""
    found = StoredBooks.read(layout, account)
    database, state_file = layout.database, layout.state_file
    fresh = f"to start a fresh account on purpose, run {NEW_ACCOUNT_COMMAND} --state {layout.root} " + (
        f"(moves {database.name} and {state_file.name} into {layout.root}/archive-<UTC time>/)"
    )
    others = [name for name in found.accounts if name != account]
    if others:
        names = ", ".join(repr(n) for n in others)
        raise InconsistentStateError(
            f"{database} holds the books of account {names}, not {account!r} (account.name in the desk "
            f"config; state file {state_file}): a renamed account would take over their positions; "
            f"set account.name back, or {fresh}",
            database=database,
            state_file=state_file,
        )
    if found.has_books(account) and not found.state_file:
        raise InconsistentStateError(
            f"{database} holds the books of account {account!r} but the state file {state_file} is "
            f"missing: they belong together; put the state file back, or {fresh}",
            database=database,
            state_file=state_file,
        )
    if not found.has_books(account) and found.snapshot:
        what = "missing" if not database.exists() else "empty (no account books)"
        raise InconsistentStateError(
            f"{database} is {what} while the state file {state_file} holds a snapshot of an earlier "
            f"run: refusing to start account {account!r} afresh over it; restore the database, or {fresh}",
            database=database,
            state_file=state_file,
        )
    return found


def archive_state_files(layout: StateDir, *, now: datetime) -> Path | None:
    """Move the books and the state file (with the database's WAL, the state file's backups and
    the heartbeat) into ``<root>/archive-<UTC time>/``; return that folder, or None when there
    was nothing to move. Never deletes. ``DeskAlreadyRunning`` when a desk holds the directory."""
    layout.prepare()
    lock = DeskLock(layout)
    lock.acquire()
    try:
        moving = sorted(p for p in layout.root.iterdir() if _is_account_file(layout, p))
        if not moving:
            return None
        folder = _new_folder(layout.root, now)
        for path in moving:
            os.replace(path, folder / path.name)
    finally:
        lock.release()
    logger.warning(
        "new account: moved %s into %s; the desk starts a fresh account",
        ", ".join(p.name for p in moving),
        folder,
    )
    return folder


def _is_account_file(layout: StateDir, path: Path) -> bool:
    name = path.name
    if not path.is_file():
        return False
    for owner in (layout.database.name, layout.state_file.name):
        if name == owner or name.startswith(f"{owner}-") or name.startswith(f"{owner}."):
            return True
    return name == layout.heartbeat.name


def _new_folder(root: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        folder = root / (f"archive-{stamp}" if n == 1 else f"archive-{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise StateError(f"cannot make an archive folder under {root}", path=root)
