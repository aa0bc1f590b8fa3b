"""Recovery from a bad or missing state file: the newest good backup, the bad file moved aside.

A *bad* file is a corrupt one (``StateCorruptError``) or an unsafe one (``UnsafeStateError``:
a pickle naming a callable outside the allow-list). Both get the same treatment: the newest
backup that reads is loaded, the bad file is moved aside (never deleted), and one WARNING
names the bad file, the backup and where the bad file went. Without a good backup the error
is raised and the file is left exactly where it is.

``StateRecovery`` is given what it needs (the state path, a function that reads a file, the
cross-process lock) and owns only its count of recoveries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from trading.errors import StateCorruptError, StateError, StateVersionError, UnsafeStateError
from trading.memory import _files
from trading.memory._reader import Loaded

__all__ = ["BadStateFile", "StateRecovery"]

logger = logging.getLogger(__name__)

BadStateFile = StateCorruptError | UnsafeStateError
"""The errors that make a state file *bad*: recovered from a backup, then moved aside."""


def _kind(error: BadStateFile) -> str:
    return "unsafe" if isinstance(error, UnsafeStateError) else "corrupt"


def _describe(error: BadStateFile | None) -> str:
    return "missing" if error is None else f"{_kind(error)} ({error})"


class StateRecovery:
    """Finds the newest good backup of ``path`` and moves a bad ``path`` aside."""

    def __init__(
        self,
        path: Path,
        *,
        read: Callable[[Path], Loaded],
        lock: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._path = path
        self._read = read
        self._lock = lock  # the owner's re-entrant cross-process lock
        self.recoveries = 0

    def recover(self, error: BadStateFile | None) -> Loaded | None:
        """The newest backup that reads, for a missing (``error is None``) or bad state file.

        Returns ``None`` for a missing file without any good backup; raises ``error`` for a
        bad file without any backup, and ``StateCorruptError`` when no backup reads.
        """
        backups = _files.backup_paths(self._path)
        if error is not None and not backups:
            raise error  # not recognisably ours, or no backup: leave the file exactly where it is
        for backup in backups:
            try:
                loaded = self._read(backup)
            except (StateCorruptError, UnsafeStateError, StateVersionError, FileNotFoundError) as exc:
                logger.warning("backup %s of %s is unusable: %s", backup, self._path, exc)
                continue
            moved = self._set_aside_if_still_bad(error)
            logger.warning(
                "state file %s is %s; loaded backup %s instead%s",
                self._path,
                _describe(error),
                backup,
                f"; moved the bad file to {moved}" if moved else "",
            )
            self.recoveries += 1
            return loaded
        if error is None:
            return None
        raise StateCorruptError(
            f"{error}; and none of its {len(backups)} backups loads", path=self._path
        ) from error

    def set_aside(self, error: BadStateFile) -> None:
        """Move a bad file found while merging before a save (the caller holds the lock)."""
        moved = _files.quarantine(self._path, _kind(error))
        logger.warning(
            "state file %s is %s; moved it to %s, keeping the in-memory state",
            self._path,
            _describe(error),
            moved,
        )

    def _set_aside_if_still_bad(self, error: BadStateFile | None) -> Path | None:
        if error is None:
            return None
        try:
            with self._lock():  # a writer may have just replaced the bad file with a good one
                try:
                    self._read(self._path)
                except (StateCorruptError, UnsafeStateError) as still:
                    return _files.quarantine(self._path, _kind(still))
                except (StateError, OSError):
                    return None
                return None  # it reads now: a writer replaced it
        except StateError as exc:  # read-only reader without a lock file: leave it for the writer
            logger.warning("cannot move bad state file %s aside: %s", self._path, exc)
            return None

    def __repr__(self) -> str:
        return f"StateRecovery({str(self._path)!r}, recoveries={self.recoveries})"
