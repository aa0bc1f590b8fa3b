"""Small value types the ``StateManager`` returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

__all__ = ["StateStats", "StateVersion"]


@dataclass(frozen=True, slots=True)
class StateVersion:
    """Which file the manager last loaded or saved.

    ``version`` is the file's format version, from its header (0 for a legacy headerless
    pickle; before any load or save, the version this manager writes); ``generation``
    grows by one on every save of the file.
    """

    CURRENT_VERSION: ClassVar[int] = 1

    version: int
    generation: int
    codec: str
    written_at: datetime | None
    write_id: int

    @classmethod
    def from_ns(
        cls, version: int, generation: int, codec: str, written_ns: int, write_id: int
    ) -> StateVersion:
        written = datetime.fromtimestamp(written_ns / 1e9, tz=UTC) if written_ns else None
        return cls(version, generation, codec, written, write_id)


@dataclass(frozen=True, slots=True)
class StateStats:
    entries: int
    state_bytes: int
    generation: int
    saves: int
    loads: int
    transactions: int
    recoveries: int
    evicted: int
    last_save_ms: float
    last_load_ms: float
    lock_acquired: int
    lock_contended: int
    lock_wait_p50_ms: float
    lock_wait_p99_ms: float
    lock_wait_max_ms: float
