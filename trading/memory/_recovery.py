"""Recovery from a corrupt or missing state file: the newest good backup, the bad file moved aside.

A mixin of ``StateManager`` (like ``MemoryMaintenance``): it reads the manager's path,
reader and process lock, and never deletes anything.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path

from trading.errors import StateCorruptError, StateError, StateVersionError
from trading.memory import _files
from trading.memory._reader import Loaded

__all__ = ["StateRecovery"]

logger = logging.getLogger("trading.memory.state_manager")


class StateRecovery(ABC):
    _path: Path
    _counts: dict[str, int]

    @abstractmethod
    def _read(self, path: Path) -> Loaded: ...

    @abstractmethod
    def _process_lock(self) -> AbstractContextManager[None]: ...

    def _recover(self, error: StateCorruptError | None) -> Loaded | None:
        backups = _files.backup_paths(self._path)
        if error is not None and not backups:
            raise error  # not recognisably ours, or no backup: leave the file exactly where it is
        for backup in backups:
            try:
                loaded = self._read(backup)
            except (StateCorruptError, StateVersionError, FileNotFoundError) as exc:
                logger.warning("backup %s of %s is unusable: %s", backup, self._path, exc)
                continue
            moved = self._quarantine_if_unchanged(error)
            logger.warning(
                "state file %s is %s; loaded backup %s instead%s",
                self._path,
                "missing" if error is None else f"corrupt ({error})",
                backup,
                f"; moved the bad file to {moved}" if moved else "",
            )
            self._counts["recoveries"] += 1
            return loaded
        if error is None:
            return None
        raise StateCorruptError(
            f"{error}; and none of its {len(backups)} backups loads", path=self._path
        ) from error

    def _quarantine_if_unchanged(self, error: StateCorruptError | None) -> Path | None:
        if error is None:
            return None
        try:
            with self._process_lock():  # a writer may have just replaced the bad file with a good one
                try:
                    self._read(self._path)
                except StateCorruptError:
                    return _files.quarantine(self._path)
                except (StateError, OSError):
                    return None
                return None  # it reads now: a writer replaced it
        except StateError as exc:  # read-only reader without a lock file: leave it for the writer
            logger.warning("cannot move corrupt state file %s aside: %s", self._path, exc)
            return None
