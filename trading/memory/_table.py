"""The entries a ``StateManager`` holds in memory, and the changes not yet on disk.

``pending`` maps each key changed since the last load or save to its new entry, or to
``None`` for a removal; ``cleared`` says that everything before those changes was dropped.
A save that finds another writer's newer file merges it with ``merge_under``: the file's
entries first, then this table's pending changes on top, so a key set here wins and a key
removed here stays removed.

The table does no locking: its owner serialises access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from trading.memory._entries import Entry

__all__ = ["EntryTable", "TableCheckpoint"]


class TableCheckpoint(NamedTuple):
    entries: dict[str, Entry]
    pending: dict[str, Entry | None]
    cleared: bool


class EntryTable:
    """Entries by key, plus the changes made since the table last matched a file."""

    __slots__ = ("cleared", "entries", "pending")

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.pending: dict[str, Entry | None] = {}
        self.cleared = False

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.pending[key] = entry

    def remove(self, key: str) -> bool:
        """Remove ``key`` and remember the removal; return whether it was there."""
        if self.entries.pop(key, None) is None:
            return False
        self.pending[key] = None
        return True

    def remove_all(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.remove(key)

    def clear(self) -> None:
        self.entries.clear()
        self.pending.clear()
        self.cleared = True

    def replace(self, entries: Mapping[str, Entry]) -> None:
        """Hold exactly ``entries`` (a file just read): nothing is pending."""
        self.entries = dict(entries)
        self.pending.clear()
        self.cleared = False

    def merge_under(self, disk: Mapping[str, Entry]) -> None:
        """Take another writer's file ``disk`` as the base and re-apply the pending changes on top."""
        merged = {} if self.cleared else dict(disk)
        for key, entry in self.pending.items():
            if entry is None:
                merged.pop(key, None)
            else:
                merged[key] = entry
        self.entries = merged

    def mark_all_pending(self) -> None:
        """Every entry must reach disk on the next save (the file was migrated in memory)."""
        self.pending.update(self.entries)

    def mark_saved(self) -> None:
        self.pending.clear()
        self.cleared = False

    def checkpoint(self) -> TableCheckpoint:
        return TableCheckpoint(dict(self.entries), dict(self.pending), self.cleared)

    def rollback(self, checkpoint: TableCheckpoint) -> None:
        self.entries, self.pending, self.cleared = checkpoint

    def size_bytes(self) -> int:
        return sum(e.size for e in self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"EntryTable(entries={len(self.entries)}, pending={len(self.pending)}, cleared={self.cleared})"
