"""Memory maintenance of the ``StateManager``: budget enforcement, age cleanup, compression.

Each entry carries its last-write time and its pickled size. Above ``max_memory_mb`` the
oldest entries go first; when the system has less than ``low_memory_mb`` available the
target drops to ``aggressive_fraction`` of the budget. Both log what they removed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import zstandard

from trading.clock import Clock
from trading.memory._entries import COMPRESSED, MISSING, Entry
from trading.memory._memory import MemoryProbe, MemoryUsage, SystemMemory, select_evictions, usage
from trading.memory.config import StateConfig

__all__ = ["MemoryMaintenance"]

logger = logging.getLogger("trading.memory.state_manager")

_PROBE_INTERVAL_S = 1.0


class MemoryMaintenance:
    """Mixed into ``StateManager``; uses its entries, locks, clock and config."""

    _path: Path
    _cfg: StateConfig
    _clock: Clock
    _probe: MemoryProbe
    _rlock: threading.RLock
    _entries: dict[str, Entry]
    _pending: dict[str, Entry | None]
    _counts: dict[str, int]
    _system: tuple[float, SystemMemory] | None

    def _system_memory(self) -> SystemMemory:
        now = self._clock.monotonic()
        if self._system is None or now - self._system[0] >= _PROBE_INTERVAL_S:
            self._system = (now, self._probe())
        return self._system[1]

    def _enforce_memory(self) -> None:
        limit = int(self._cfg.max_memory_mb * 1e6)
        low = self._system_memory().available_bytes < self._cfg.low_memory_mb * 1e6
        target = int(limit * self._cfg.aggressive_fraction) if low else limit
        victims = select_evictions(self._entries, target)
        if not victims:
            return
        for key in victims:
            del self._entries[key]
            self._pending[key] = None
        self._counts["evicted"] += len(victims)
        logger.warning(
            "state %s over its %s budget (%.1f MB%s): removed %d oldest entries: %s",
            self._path,
            "aggressive" if low else "memory",
            target / 1e6,
            ", system memory low" if low else "",
            len(victims),
            ", ".join(victims),
        )

    def get_memory_usage(self) -> MemoryUsage:
        with self._rlock:
            return usage(self._entries, max_bytes=int(self._cfg.max_memory_mb * 1e6), probe=self._probe)

    def cleanup_old_data(self, max_age_hours: float = 24) -> int:
        """Remove entries last written more than ``max_age_hours`` ago; return how many."""
        cutoff = self._clock.timestamp() - max_age_hours * 3600
        with self._rlock:
            old = [k for k, e in self._entries.items() if e.written_at < cutoff]
            for key in old:
                del self._entries[key]
                self._pending[key] = None
        if old:
            logger.info(
                "removed %d state entries older than %s h from %s: %s",
                len(old),
                max_age_hours,
                self._path,
                ", ".join(old),
            )
        return len(old)

    def compress_state(self, older_than_s: float = 3600.0) -> int:
        """Hold entries untouched for ``older_than_s`` as zstd-compressed bytes; return how many."""
        cutoff = self._clock.timestamp() - older_than_s
        compressor = zstandard.ZstdCompressor(level=3)
        done = 0
        with self._rlock:
            for entry in self._entries.values():
                if entry.written_at <= cutoff and not entry.flags & COMPRESSED:
                    entry.blob = compressor.compress(entry.blob)
                    entry.flags |= COMPRESSED
                    entry.value = MISSING
                    done += 1
        return done
