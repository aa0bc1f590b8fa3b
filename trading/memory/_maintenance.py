"""Memory maintenance of a state table: budget enforcement, age cleanup, compression.

Each entry carries its last-write time and its pickled size. Above ``max_memory_mb`` the
oldest entries go first; when the system has less than ``low_memory_mb`` available the
target drops to ``aggressive_fraction`` of the budget. Both log what they removed.

``MemoryMaintenance`` works on the ``EntryTable`` it is given and owns only its own
state (the cached system-memory probe and the eviction count); its owner serialises
calls.
"""

from __future__ import annotations

import logging
from pathlib import Path

import zstandard

from trading.clock import Clock
from trading.memory._entries import COMPRESSED, MISSING
from trading.memory._memory import MemoryProbe, MemoryUsage, SystemMemory, select_evictions, usage
from trading.memory._table import EntryTable
from trading.memory.config import StateConfig

__all__ = ["MemoryMaintenance"]

logger = logging.getLogger(__name__)

_PROBE_INTERVAL_S = 1.0


class MemoryMaintenance:
    """Keeps one ``EntryTable`` inside its memory budget; removals become pending deletes."""

    def __init__(
        self, table: EntryTable, *, config: StateConfig, clock: Clock, probe: MemoryProbe, path: Path
    ) -> None:
        self._table = table
        self._cfg = config
        self._clock = clock
        self._probe = probe
        self._path = path  # for log lines only
        self._system: tuple[float, SystemMemory] | None = None
        self.evicted = 0

    def _system_memory(self) -> SystemMemory:
        now = self._clock.monotonic()
        if self._system is None or now - self._system[0] >= _PROBE_INTERVAL_S:
            self._system = (now, self._probe())
        return self._system[1]

    def enforce_budget(self) -> int:
        """Remove the oldest entries until the table fits its budget; return how many went."""
        limit = int(self._cfg.max_memory_mb * 1e6)
        low = self._system_memory().available_bytes < self._cfg.low_memory_mb * 1e6
        target = int(limit * self._cfg.aggressive_fraction) if low else limit
        victims = select_evictions(self._table.entries, target)
        if not victims:
            return 0
        self._table.remove_all(victims)
        self.evicted += len(victims)
        logger.warning(
            "state %s over its %s budget (%.1f MB%s): removed %d oldest entries: %s",
            self._path,
            "aggressive" if low else "memory",
            target / 1e6,
            ", system memory low" if low else "",
            len(victims),
            ", ".join(victims),
        )
        return len(victims)

    def usage(self) -> MemoryUsage:
        return usage(self._table.entries, max_bytes=int(self._cfg.max_memory_mb * 1e6), probe=self._probe)

    def remove_older_than(self, max_age_hours: float) -> int:
        """Remove entries last written more than ``max_age_hours`` ago; return how many."""
        cutoff = self._clock.timestamp() - max_age_hours * 3600
        old = [k for k, e in self._table.entries.items() if e.written_at < cutoff]
        self._table.remove_all(old)
        if old:
            logger.info(
                "removed %d state entries older than %s h from %s: %s",
                len(old),
                max_age_hours,
                self._path,
                ", ".join(old),
            )
        return len(old)

    def compress_older_than(self, older_than_s: float) -> int:
        """Hold entries untouched for ``older_than_s`` as zstd-compressed bytes; return how many."""
        cutoff = self._clock.timestamp() - older_than_s
        compressor = zstandard.ZstdCompressor(level=3)
        done = 0
        for entry in self._table.entries.values():
            if entry.written_at <= cutoff and not entry.flags & COMPRESSED:
                entry.blob = compressor.compress(entry.blob)
                entry.flags |= COMPRESSED
                entry.value = MISSING
                done += 1
        return done

    def __repr__(self) -> str:
        budget = self._cfg.max_memory_mb
        return f"MemoryMaintenance({str(self._path)!r}, budget={budget} MB, evicted={self.evicted})"
